//! A tab that decodes with a protocol, in the real window: each row leads with the message's
//! summary, and a field picked in the selected message's tree marks its bytes in the hex dump
//! (a JT/T 808 serial number sent escaped, 7E 7D as 7D 02 7D 01).

use std::io::Write as _;

use super::{Display, TempDir, Window, can_run};

#[test]
fn a_jt808_field_picked_in_the_tree_marks_its_escaped_bytes_in_the_hex_dump() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("protocol-tree");
    let port = super::free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", protocol: "jt808")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("Listening"));
    // A platform reply with serial 0x7E7D: header 8001 0005, phone, serial, body, XOR 0x0B.
    let frame = [
        0x7E, 0x80, 0x01, 0x00, 0x05, 0x05, 0x80, 0x56, 0x68, 0x74, 0x67, 0x7D, 0x02, 0x7D, 0x01,
        0x00, 0x26, 0x00, 0x02, 0x00, 0x0B, 0x7E,
    ];
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(&frame).unwrap();
    // The connection's first record is "connected"; the frame is the newest.
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n >= 2));
    let newest = window.value("log.newest").unwrap();
    // The row runs past the list's edge (its summary is long): click its start.
    let (x, y, _, h) = window.rect(&format!("log.row.{newest}"));
    window.click_at(x + 60.0, y + h / 2.0);
    window.wait_value("log.detail", |seq| seq == newest);
    window.wait_value("log.detail.fields", |n| {
        n.parse::<u64>().is_ok_and(|n| n > 5)
    });
    window.click("field.serial");
    window.wait_value("log.detail.marked", |r| r == "11..15");
    // Right-click: the field as a column of the log; its chip above the log removes it.
    window.right_click("field.serial");
    window.click("field.menu.column");
    window.rect("column.serial");
    window.click("column.serial");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while window.find("column.serial").is_some() {
        assert!(std::time::Instant::now() < deadline, "the column stayed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // A click on a byte of the hex dump picks its field: the first row's byte 3 (`00` of
    // the body properties 00 05) — the innermost field there is its length bits.
    let (x, y, _, _) = window.rect("log.detail.hex");
    let char_w = window
        .value("log.detail.char_width")
        .unwrap()
        .parse::<f32>()
        .unwrap();
    let row_h = window
        .value("log.detail.row_height")
        .unwrap()
        .parse::<f32>()
        .unwrap();
    window.click_at(x + char_w * (10.0 + 3.0 * 3.0 + 0.5), y + row_h / 2.0);
    window.wait_value("log.detail.marked", |r| r == "3..5");

    // Find by field: a location report arrives after it; `f.msg_id == 0x0200` finds it and
    // selects it (the reply stays unselected).
    let location = sockscope_core::codec::hex::parse(
        "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
    )
    .unwrap();
    client.write_all(&location).unwrap();
    let first = newest.parse::<u64>().unwrap();
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n > first));
    let report = window.value("log.newest").unwrap();
    window.key("Escape");
    window.key("ctrl+f");
    window.type_text("f.msg_id == 0x0200");
    window.wait_value("log.detail", |seq| seq == report);
}

/// "Open spec file…" in the Decode as picker: a spec with an error says where (line, column)
/// next to the picker; fixed on disk, it is read again by itself and decodes; the file is
/// remembered in the picker and the workspace. "Export spec…" saves a built-in's spec.
#[test]
fn a_spec_file_opened_from_the_picker_decodes_and_is_read_again_when_it_changes() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("protocol-open");
    // A stand-in zenity that answers each dialog with the path in answer.txt.
    let bin = dir.0.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let answer = dir.0.join("answer.txt");
    let zenity = bin.join("zenity");
    std::fs::write(&zenity, format!("#!/bin/sh\ncat '{}'\n", answer.display())).unwrap();
    std::process::Command::new("chmod")
        .args(["+x", zenity.to_str().unwrap()])
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let good = sockscope_core::protocol::builtin("jt808")
        .unwrap()
        .source
        .replacen("name: \"jt808\"", "name: \"my808\"", 1);
    assert!(good.contains("\"u16\""), "the spec has a u16 to break");
    let spec = dir.0.join("my808.ron");
    std::fs::write(&spec, good.replacen("\"u16\"", "\"u61\"", 1)).unwrap();
    std::fs::write(&answer, spec.display().to_string()).unwrap();
    let port = super::free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::start(
        &display,
        &dir.0,
        &super::Start {
            workspace: Some(&workspace),
            path: Some(path),
            ..super::Start::default()
        },
    );
    window.wait_value("status.state", |s| s.starts_with("Listening"));
    // The picker is at the foot of the Receive group: scroll the settings down to it.
    window.xdo(&["mousemove", "--window", window.wid(), "150", "400"]);
    for _ in 0..15 {
        window.xdo(&["click", "5"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    window.click("protocol.picker");
    window.click("protocol.open");
    window.wait_value("protocol.error", |e| {
        e.contains("my808.ron") && e.contains("u61") && e.contains("line")
    });
    window.rect("protocol.error");
    // Fixed on disk: read again by itself, the error goes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    std::fs::write(&spec, &good).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while window.find("protocol.error").is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the fixed spec was not read again: {:?}",
            window.value("protocol.error")
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // It decodes: a platform reply's fields show in the tree.
    let frame =
        sockscope_core::codec::hex::parse("7e8001000505805668746700000026000200087e").unwrap();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(&frame).unwrap();
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n >= 2));
    let newest = window.value("log.newest").unwrap();
    let (x, y, _, h) = window.rect(&format!("log.row.{newest}"));
    window.click_at(x + 60.0, y + h / 2.0);
    window.wait_value("log.detail.fields", |n| {
        n.parse::<u64>().is_ok_and(|n| n > 5)
    });
    // Export a built-in: choose it, then Export spec….
    window.click("protocol.picker");
    window.click("protocol.item.hj212");
    let exported = dir.0.join("hj212.ron");
    std::fs::write(&answer, exported.display().to_string()).unwrap();
    window.click("protocol.picker");
    window.click("protocol.export");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !exported.exists() {
        assert!(std::time::Instant::now() < deadline, "nothing was exported");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        text,
        sockscope_core::protocol::builtin("hj212").unwrap().source
    );
    // The spec file is remembered (the picker lists it) in the saved workspace.
    let saved = window.quit();
    assert!(
        saved.contains("recent_specs") && saved.contains("my808.ron"),
        "{saved}"
    );
}

/// At 1024×640 with the Find bar open, a row picked near the bottom of the list, then one of
/// its fields shown as a column (the Columns row appears above the list): the picked row
/// stays wholly in view, above the detail pane, and the list keeps room for several rows.
#[test]
fn at_1024_a_picked_row_stays_in_view_when_a_column_is_added_with_find_open() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("protocol-column-1024");
    let port = super::free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", protocol: "jt808")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("Listening"));
    let location = sockscope_core::codec::hex::parse(
        "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
    )
    .unwrap();
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    for _ in 0..12 {
        client.write_all(&location).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n >= 13));
    window.key("ctrl+f");
    // The lowest row wholly drawn in the list.
    let area = window.rect("log.area");
    let picked = (1..=13u64)
        .rev()
        .find(|seq| {
            window
                .find(&format!("log.row.{seq}"))
                .is_some_and(|(_, y, _, h)| y + h <= area.1 + area.3)
        })
        .unwrap();
    let (x, y, _, h) = window.rect(&format!("log.row.{picked}"));
    window.click_at(x + 60.0, y + h / 2.0);
    window.wait_value("log.detail", |seq| seq == picked.to_string());
    window.right_click("field.serial");
    window.click("field.menu.column");
    window.rect("column.serial");
    // The picked row is brought back into view under the Columns row.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let area = window.rect("log.area");
        let row = window.find(&format!("log.row.{picked}"));
        let inside = row.is_some_and(|(_, y, _, h)| y >= area.1 && y + h <= area.1 + area.3 + 0.5);
        if inside {
            assert!(
                area.3 >= 100.0,
                "the list keeps room for several rows: {area:?}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the picked row #{picked} is not wholly in the list {area:?}: {row:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// With a protocol, an expression in Show by field and a row it cannot compare (said beside
/// the count), the log's toolbar stays one line in 中文 at 1280: Find, Export and Record went
/// under the first row (the switches' room was measured in English, without Show by field).
#[test]
fn in_chinese_at_1280_show_by_field_and_its_counts_keep_the_toolbar_one_line() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("protocol-toolbar-1280");
    let port = super::free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", protocol: "nmea0183")))], active: 0, lang: Some(Zh))"#
    );
    let display = Display::start_sized("1280x800");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("正在监听"));
    let wid = window.wid().to_owned();
    window.xdo(&["windowmove", &wid, "0", "0"]);
    window.xdo(&["windowsize", &wid, "1280", "800"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while window.rect("log.area").2 + window.rect("log.area").0 < 1200.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the window is 1280 wide: {:?}",
            window.rect("log.area")
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .write_all(b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n")
        .unwrap();
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n >= 2));
    window.click("log.show_fields");
    window.type_text("f.sentence.ns > 5");
    window.wait_value("log.show_fields.hidden", |n| n == "1");
    window.wait_value("log.show_fields.unreadable", |n| n == "1");
    let pause = window.rect("log.pause");
    let record = window.rect("log.record");
    assert!(
        (pause.1 - record.1).abs() < 2.0,
        "Record is on another line than Pause: {pause:?} {record:?}"
    );
}
