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
