//! UI tests on the real app with egui_kittest: act by label, assert on state and on what a
//! real loopback peer received. No display needed.

// Test helpers unwrap: a failure is a failed test with a line number.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::capture::LinkState;
use sockscope::engine::{Direction, Mode};
use sockscope::gui::App;
use sockscope::gui::state::Form;

mod compose;
mod load;
mod log;
mod plots;
mod protocols;
mod relay;
mod rules;
mod sending;
mod tabs;
mod tls;
mod udp;
mod workspace;

/// The app with `form` in its tab; its file dialogs answer in a folder of its own (removed
/// with the app).
fn harness(form: Form) -> Harness<'static, App> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(move |cc| {
            App::with_form(&cc.egui_ctx, form).with_picker(Box::new(FakePicker(path, Some(dir))))
        })
}

/// Answers every file dialog with a path in `dir`, named as the app suggests (and owns the
/// folder, when it is a temporary one).
struct FakePicker(
    std::path::PathBuf,
    #[expect(dead_code, reason = "held: the folder is removed when this is dropped")]
    Option<tempfile::TempDir>,
);

impl sockscope::gui::FilePicker for FakePicker {
    fn pick(&self, request: &sockscope::gui::FileRequest) -> Option<std::path::PathBuf> {
        match request {
            sockscope::gui::FileRequest::SendFile | sockscope::gui::FileRequest::OpenProfile => {
                None
            }
            other => Some(self.0.join(other.suggested_name())),
        }
    }
}

fn harness_with_files(form: Form, dir: std::path::PathBuf) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(move |cc| {
            App::with_form(&cc.egui_ctx, form).with_picker(Box::new(FakePicker(dir, None)))
        })
}

/// Steps frames until `done` holds, sleeping briefly between them (socket replies arrive on
/// another thread, and `run()` stops as soon as nothing repaints). Panics after 5 s.
fn run_until(harness: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        harness.step();
        if done(harness.state()) {
            harness.run_ok();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for: {what}");
}

/// The text of every record in the active tab's log.
fn log_texts(harness: &Harness<'static, App>) -> Vec<String> {
    let log = &harness.state().tab().session.capture().log;
    log.iter().map(|r| r.text().into_owned()).collect()
}

/// Focuses a text field, then types into it (typing goes to the focused widget).
fn type_into(harness: &mut Harness<'static, App>, role: Role, label: Option<&str>, text: &str) {
    let find = |h: &Harness<'static, App>| match label {
        Some(label) => h.get_by_role_and_label(role, label).focus(),
        None => h.get_by_role(role).focus(),
    };
    find(harness);
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness.get_by(|n| n.is_focused()).type_text(text);
    harness.run();
}

/// The Send button (the settings group is also called "Send").
fn click_send(harness: &mut Harness<'static, App>) {
    harness.get_by_role_and_label(Role::Button, "Send").click();
    harness.run();
}

fn read_within(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

fn reads_nothing(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 16];
    stream.read(&mut buf).is_err()
}

#[test]
fn server_lists_a_real_client_and_sends_to_it() {
    let mut harness = harness(Form {
        server_port: String::new(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    });
    harness.get_by_label("TCP Server").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Local port"), "0");
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    assert!(
        harness
            .query_by_label_contains(&format!("Listening on {addr} · clients: 0"))
            .is_some(),
        "status bar shows it"
    );

    let mut client = TcpStream::connect(addr).unwrap();
    let client_addr = client.local_addr().unwrap();
    run_until(&mut harness, "client listed", |app| {
        app.tab().session.capture().clients.len() == 1
    });
    // The client shows in the list under its address; pick it as the target.
    harness
        .get_by_label_contains(&format!("{client_addr}\n↓"))
        .click();
    harness.run();

    type_into(&mut harness, Role::MultilineTextInput, None, "hello 你好");
    click_send(&mut harness);
    assert_eq!(
        read_within(&mut client, "hello 你好".len()),
        "hello 你好".as_bytes()
    );

    // And back: the log counts what the client sent.
    client.write_all(b"ping").unwrap();
    run_until(&mut harness, "bytes received", |app| {
        app.tab().session.capture().counters.rx_bytes == 4
    });
    assert!(harness.query_by_label_contains("RX 4 B").is_some());
}

#[test]
fn ctrl_enter_sends_to_every_client() {
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    });
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let mut a = TcpStream::connect(addr).unwrap();
    let mut b = TcpStream::connect(addr).unwrap();
    run_until(&mut harness, "two clients", |app| {
        app.tab().session.capture().clients.len() == 2
    });
    type_into(&mut harness, Role::MultilineTextInput, None, "all");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    harness.run();
    assert_eq!(read_within(&mut a, 3), b"all");
    assert_eq!(read_within(&mut b, 3), b"all");
}

#[test]
fn bad_ip_and_port_show_messages_and_open_nothing() {
    let mut harness = harness(Form {
        remote_ip: String::new(),
        remote_port: String::new(),
        ..Form::default()
    });
    let port_at = |h: &Harness<'static, App>| {
        h.get_by_role_and_label(Role::TextInput, "Remote port")
            .rect()
            .top()
    };
    let before = port_at(&harness);
    type_into(
        &mut harness,
        Role::TextInput,
        Some("Remote IP"),
        "300.1.1.1",
    );
    // The IP's message comes without moving the port field from under the pointer.
    assert!(
        (port_at(&harness) - before).abs() < 0.5,
        "the port field moved"
    );
    type_into(&mut harness, Role::TextInput, Some("Remote port"), "70000");
    // One line: the first message and how many more (all of them on hover).
    harness.get_by_label(
        "Remote IP: 300.1.1.1 is not an IP address: 300 is more than 255 (and 1 more)",
    );
    // Connect cannot be pressed while the address is wrong.
    assert!(
        harness
            .get_by_label("Connect")
            .accesskit_node()
            .is_disabled(),
        "Connect is disabled"
    );
    harness.get_by_label("Connect").click();
    harness.run();
    assert!(!harness.state().tab().is_open(), "nothing was opened");
}

/// A TCP client tab connected to a std listener, and the peer's end.
fn connected_client(form: Form) -> (Harness<'static, App>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let form = Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        ..form
    };
    let mut harness = harness(form);
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    // The connection is in the listener's queue: accept does not block.
    let (peer, _) = listener.accept().unwrap();
    (harness, peer)
}

#[test]
fn start_cyclic_when_open_starts_once_the_client_is_connected() {
    let (harness, mut peer) = connected_client(Form {
        send_text: "hi".into(),
        cyclic_on_open: true,
        cyclic_ms: 30,
        cyclic_count: 3,
        ..Form::default()
    });
    let mut harness = harness;
    run_until(&mut harness, "three sends", |app| {
        app.tab().session.capture().counters.tx_messages == 3
    });
    assert_eq!(read_within(&mut peer, 6), b"hihihi");
}

#[test]
fn bad_hex_shows_the_column_disables_send_and_sends_nothing() {
    let (mut harness, mut peer) = connected_client(Form::default());
    harness.get_by_label("Send hex").click();
    harness.run();
    type_into(&mut harness, Role::MultilineTextInput, None, "01 0G");
    harness.get_by_label("'G' at column 5 is not a hex digit");
    assert!(
        harness
            .get_by_role_and_label(Role::Button, "Send")
            .accesskit_node()
            .is_disabled(),
        "Send is disabled"
    );
    click_send(&mut harness);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    harness.run();
    assert!(reads_nothing(&mut peer), "nothing was sent");
    assert_eq!(harness.state().tab().session.capture().counters.tx_bytes, 0);
}

#[test]
fn preview_shows_exactly_what_the_peer_receives() {
    let (mut harness, mut peer) = connected_client(Form::default());
    harness.get_by_label("Escapes").click();
    harness.run();
    type_into(&mut harness, Role::MultilineTextInput, None, r"AT\r\n");
    harness.get_by_label("4 bytes: 41 54 0D 0A");
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 4), b"AT\r\n");
}

#[test]
fn a_quick_command_is_one_click_and_the_peer_receives_it() {
    let (mut harness, mut peer) = connected_client(Form::default());
    type_into(&mut harness, Role::MultilineTextInput, None, "STATUS?");
    harness.get_by_label("+ Quick command").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Name"), "status");
    harness.get_by_role_and_label(Role::Button, "Add").click();
    harness.run();
    assert_eq!(harness.state().tab().form.quick.len(), 1);
    harness
        .get_by_role_and_label(Role::Button, "status")
        .click();
    harness.run();
    assert_eq!(read_within(&mut peer, 7), b"STATUS?");
}

#[test]
fn history_brings_back_a_sent_payload() {
    let (mut harness, mut peer) = connected_client(Form {
        clear_after_send: true,
        ..Form::default()
    });
    type_into(&mut harness, Role::MultilineTextInput, None, "first");
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 5), b"first");
    assert_eq!(
        harness.state().tab().form.send_text,
        "",
        "cleared after send"
    );
    harness.get_by_label("History").click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "first").click();
    harness.run();
    assert_eq!(harness.state().tab().form.send_text, "first");
}

#[test]
fn chinese_text_renders_with_the_bundled_font() {
    // The harness loads no system fonts and panics on a glyph no font has: this frame only
    // passes if the bundled CJK subset is installed.
    let mut harness = harness(Form {
        send_text: "网络调试助手：温度 25℃，连接成功！".into(),
        ..Form::default()
    });
    harness.run();
    harness.get_by_role(Role::MultilineTextInput);
}

#[test]
fn received_records_get_a_checksum_badge() {
    use sockscope::codec::checksum::{Checksum, ChecksumKind};
    let form = Form {
        rx_hex: true,
        rx_verify: Checksum::new(ChecksumKind::Crc16Modbus),
        ..Form::default()
    };
    let (mut harness, mut peer) = connected_client(form);
    peer.write_all(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD])
        .unwrap();
    run_until(&mut harness, "first frame", |app| {
        app.tab().session.capture().counters.rx_bytes == 8
    });
    peer.write_all(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0B, 0xC5, 0xCD])
        .unwrap();
    run_until(&mut harness, "second frame", |app| {
        app.tab().session.capture().counters.rx_bytes == 16
    });
    harness.get_by_label_contains("√ 01 03 00 00 00 0A C5 CD");
    harness.get_by_label_contains("× 01 03 00 00 00 0B C5 CD");
}

/// A TCP server tab on an ephemeral loopback port with `n` real clients, and those clients.
fn server_with_clients(form: Form, n: usize) -> (Harness<'static, App>, Vec<TcpStream>) {
    let form = Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..form
    };
    let mut harness = harness(form);
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let clients: Vec<TcpStream> = (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect();
    run_until(&mut harness, "clients", |app| {
        app.tab().session.capture().clients.len() == n
    });
    (harness, clients)
}

#[test]
fn a_busy_clients_long_row_does_not_widen_the_settings_panel() {
    let (mut harness, _clients) = server_with_clients(Form::default(), 1);
    // The Stop button spans the settings panel.
    let width = |h: &Harness<'static, App>| h.get_by_label("Stop").rect().width();
    let before = width(&harness);
    for client in harness
        .state_mut()
        .tab_mut()
        .session
        .capture()
        .clients
        .values_mut()
    {
        client.rx_bytes = 987_654_321_098_765;
        client.rx_messages = 123_456_789_012;
        client.tx_bytes = 876_543_210_987_654;
        client.tx_messages = 98_765_432_109;
    }
    // A few frames, as a live session draws: a panel adopts a wider content's width on the
    // frame after.
    for _ in 0..5 {
        harness.step();
    }
    harness.run();
    let after = width(&harness);
    assert!((after - before).abs() < 1.0, "{before} -> {after}");
    // The row is cut on screen, not lost.
    assert!(harness.query_by_label_contains("(123456789012)").is_some());
}

fn send_and_wait(harness: &mut Harness<'static, App>, client: &mut TcpStream, bytes: &[u8]) {
    let before = harness.state().tab().session.capture().counters.rx_bytes;
    client.write_all(bytes).unwrap();
    let want = before + bytes.len() as u64;
    run_until(harness, "bytes received", move |app| {
        app.tab().session.capture().counters.rx_bytes >= want
    });
}

#[test]
fn search_finds_matches_and_steps_through_them() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    for line in [b"alpha".as_slice(), b"beta", b"alphabet"] {
        send_and_wait(&mut harness, &mut clients[0], line);
    }
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Find"), "ALPHA");
    harness.get_by_label("1 of 2");
    harness.get_by_role_and_label(Role::Button, "Next").click();
    harness.run();
    harness.get_by_label("2 of 2");
    // The selected match is shown in the detail view as a hexdump.
    harness.get_by_label_contains("61 6C 70 68 61 62 65 74");
}

#[test]
fn find_over_a_long_log_takes_a_slice_per_frame_and_finds_every_match() {
    let mut harness = harness(Form::default());
    let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    {
        let log = &mut harness.state_mut().tab_mut().session.capture().log;
        for i in 0..200_000u32 {
            let line = if i % 1000 == 0 {
                format!("NEEDLE {i}")
            } else {
                format!("line {i}")
            };
            let now = std::time::SystemTime::now();
            log.push_data(now, Direction::Rx, None, peer, line.as_bytes());
        }
    }
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Find")
        .type_text("needle");
    // Frames go on while the search works through the log, saying how far it is.
    let mut frames = 0;
    let mut saw_progress = false;
    while harness.state().tab().view.searching.is_some() || frames == 0 {
        harness.step();
        frames += 1;
        saw_progress |= harness.query_by_label_contains("searching…").is_some();
        assert!(frames < 100_000, "the search never ends");
    }
    harness.run();
    assert!(frames > 1 && saw_progress, "{frames} frame(s)");
    harness.get_by_label("1 of 200");
}

#[test]
fn pause_holds_the_display_while_receiving_goes_on() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    send_and_wait(&mut harness, &mut clients[0], b"before");
    harness.get_by_label("Pause").click();
    harness.run();
    send_and_wait(&mut harness, &mut clients[0], b"during");
    harness.get_by_label("Resume (1 new)");
    assert!(
        harness.query_by_label_contains("during").is_none(),
        "not shown while paused"
    );
    assert_eq!(
        harness.state().tab().session.capture().counters.rx_bytes,
        12,
        "but received"
    );
    harness.get_by_label("Resume (1 new)").click();
    harness.run();
    harness.get_by_label_contains("during");
}

#[test]
fn the_log_can_be_filtered_to_one_client() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 2);
    send_and_wait(&mut harness, &mut clients[0], b"from-a");
    send_and_wait(&mut harness, &mut clients[1], b"from-b");
    let a = clients[0].local_addr().unwrap().to_string();
    harness
        .get_by_role_and_label(Role::ComboBox, "Show")
        .click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, &a).click();
    harness.run();
    harness.get_by_label_contains("from-a");
    assert!(harness.query_by_label_contains("from-b").is_none());
}

#[test]
fn switching_the_encoding_shows_a_gbk_record_as_chinese() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    let gbk = sockscope::codec::TextEncoding::GBK
        .encode("中文设备")
        .unwrap();
    send_and_wait(&mut harness, &mut clients[0], &gbk);
    harness.get_by_label_contains("\\xD6\\xD0");
    // One setting, shown in the Receive and in the Send group: the first is Receive's.
    let pickers = harness.get_all_by_role_and_label(Role::ComboBox, "Encoding");
    assert_eq!(pickers.count(), 2);
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .next()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "GBK").click();
    harness.run();
    harness.get_by_label_contains("中文设备");
}

#[test]
fn the_log_exports_as_csv_and_recording_keeps_every_received_byte() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let form = Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    };
    let mut harness = harness_with_files(form, dir.clone());
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let mut client = TcpStream::connect(addr).unwrap();
    run_until(&mut harness, "client", |app| {
        app.tab().session.capture().clients.len() == 1
    });

    harness.get_by_label("Record").click();
    harness.run();
    harness.get_by_label("Raw bytes…").click();
    run_until(&mut harness, "recording", |app| {
        app.tab().session.capture().recorder.is_some()
    });
    send_and_wait(&mut harness, &mut client, b"one,");
    send_and_wait(&mut harness, &mut client, b"two");
    harness.get_by_label_contains("Stop recording").click();
    harness.run();
    assert_eq!(std::fs::read(dir.join("received.bin")).unwrap(), b"one,two");

    harness.get_by_label("Export").click();
    harness.run();
    harness.get_by_label("CSV").click();
    run_until(&mut harness, "exported", |app| {
        let capture = app.tab().session.capture();
        capture.log.iter().any(|r| r.text().starts_with("Saved "))
    });
    let csv = std::fs::read_to_string(dir.join("sockscope.csv")).unwrap();
    // UTF-8 with a byte-order mark, so Excel on a Chinese Windows does not read it as GBK.
    assert!(csv.starts_with("\u{feff}time,direction,peer,length,hex,text\n"));
    assert!(
        csv.contains(",<-,") && csv.contains(",4,6F 6E 65 2C,\"one,\""),
        "{csv}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A tab whose log holds `n` received lines, with Export > `format` clicked (files go to a
/// fresh `dir`).
fn exporting_long_log(n: u32, dir: &std::path::Path, format: &str) -> Harness<'static, App> {
    std::fs::create_dir_all(dir).unwrap();
    let mut harness = harness_with_files(Form::default(), dir.to_path_buf());
    let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    {
        let log = &mut harness.state_mut().tab_mut().session.capture().log;
        for i in 0..n {
            let now = std::time::SystemTime::now();
            log.push_data(
                now,
                Direction::Rx,
                None,
                peer,
                format!("line {i}").as_bytes(),
            );
        }
    }
    harness.run();
    harness.get_by_label("Export").click();
    harness.run();
    harness.get_by_label(format).click();
    // The dialog answers from its own thread: step until the export has started.
    let deadline = Instant::now() + Duration::from_secs(5);
    while harness.state().tab().session.exporting.is_none() {
        assert!(Instant::now() < deadline, "the export did not start");
        harness.step();
        std::thread::sleep(Duration::from_millis(1));
    }
    harness
}

/// Steps frames while tab `tab` exports; returns how many and whether a progress bar showed.
fn step_while_exporting(harness: &mut Harness<'static, App>, tab: usize) -> (u32, bool) {
    harness.step();
    let (mut frames, mut saw_progress) = (1, false);
    while harness.state().tabs()[tab].tab.session.exporting.is_some() {
        saw_progress |= harness.query_by_label_contains("Exporting…").is_some();
        harness.step();
        frames += 1;
        assert!(frames < 100_000, "the export never ends");
    }
    (frames, saw_progress)
}

#[test]
fn a_long_log_exports_a_slice_per_frame_with_a_progress_bar() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-export-{}", std::process::id()));
    let mut harness = exporting_long_log(100_000, &dir, "CSV");
    let (frames, saw_progress) = step_while_exporting(&mut harness, 0);
    harness.run();
    assert!(frames > 1 && saw_progress, "{frames} frame(s)");
    let csv = std::fs::read_to_string(dir.join("sockscope.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 100_000);
    assert!(csv.lines().last().unwrap().ends_with(",line 99999"));
    harness.get_by_label_contains("Saved 100000 records to");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_export_goes_on_while_another_tab_is_shown() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-hidden-{}", std::process::id()));
    let mut harness = exporting_long_log(100_000, &dir, "Hex log");
    harness.step();
    assert!(harness.state().tab().session.exporting.is_some());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    step_while_exporting(&mut harness, 0);
    assert_eq!(
        harness.state().tabs().len(),
        2,
        "the new tab is shown meanwhile"
    );
    let hex = std::fs::read_to_string(dir.join("sockscope.log")).unwrap();
    assert_eq!(hex.lines().count(), 100_000);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cancel_stops_an_export_and_keeps_what_was_written() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-cancel-{}", std::process::id()));
    let mut harness = exporting_long_log(200_000, &dir, "Text log");
    // One frame takes the click and writes the first slice, the next shows the bar.
    harness.step();
    harness.step();
    harness
        .get_by_role_and_label(Role::Button, "Cancel")
        .click();
    harness.run();
    assert!(harness.state().tab().session.exporting.is_none());
    harness.get_by_label_contains("stopped:");
    let stopped = log_texts(&harness)
        .into_iter()
        .find(|t| t.contains("stopped:"))
        .unwrap();
    let text = std::fs::read_to_string(dir.join("sockscope.log")).unwrap();
    let written = text.lines().count();
    assert!(written < 200_000, "{written}");
    assert!(
        stopped.contains(&format!("{written} records written")),
        "{stopped}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_stream_view_joins_reads_into_lines() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    send_and_wait(&mut harness, &mut clients[0], b"TEMP=2");
    send_and_wait(&mut harness, &mut clients[0], b"5\r\nHUM=61\r\n");
    assert!(
        harness.query_by_label_contains("TEMP=25").is_none(),
        "one row per read at first"
    );
    // At 1100 px the switches are in the toolbar's Options menu (Pause keeps the width of
    // "Resume (N new)").
    if harness.query_by_label("Stream").is_none() {
        harness.get_by_label("Options ▼").click();
        harness.run();
    }
    harness.get_by_label("Stream").click();
    harness.run();
    harness.get_by_label_contains("TEMP=25");
    harness.get_by_label_contains("HUM=61");
}

#[test]
fn a_refused_connect_says_refused_and_not_cancelled() {
    // A port nobody listens on: bind one, note it, close it.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut harness = harness(Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: port.to_string(),
        ..Form::default()
    });
    harness.run();
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "the connect failed", |app| {
        !app.tab().is_open() && app.tab().session.capture().last_error.is_some()
    });
    let texts = log_texts(&harness);
    assert!(texts.iter().any(|t| t.contains("refused")), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("cancelled")), "{texts:?}");
    assert!(
        harness.query_by_label("Connect").is_some(),
        "ready to try again"
    );
}

#[test]
fn reconnect_counts_down_after_a_refused_connect_and_connects_once_the_server_is_up() {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut harness = harness(Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        ..Form::default()
    });
    harness.run();
    harness
        .get_by_role_and_label(Role::CheckBox, "Reconnect")
        .click();
    harness.run();
    // Its settings appear once it is on.
    harness.get_by_role_and_label(Role::SpinButton, "tries");
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "a reconnect is scheduled", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Reconnecting { attempt: 1, .. }
        )
    });
    let node = harness.get_by_label_contains("Reconnecting to");
    let status = node.accesskit_node().value().unwrap_or_default();
    assert!(
        status.contains(&addr.to_string()) && status.contains("(try 1)"),
        "{status:?}"
    );
    assert!(harness.query_by_label("Stop reconnecting").is_some());
    let listener = TcpListener::bind(addr).unwrap();
    run_until(&mut harness, "the next try connects", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    let (_server_side, _) = listener.accept().unwrap();
    let texts = log_texts(&harness);
    assert!(texts.iter().any(|t| t.contains("refused")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("again in 1.0 s (try 1)")),
        "{texts:?}"
    );
    harness.get_by_label("Disconnect").click();
    run_until(&mut harness, "closed for good", |app| !app.tab().is_open());
}

#[test]
fn datagrams_reach_the_log_while_the_ui_thread_is_blocked() {
    let mut harness = harness(Form {
        mode: Mode::Udp,
        local_ip: "127.0.0.1".into(),
        udp_port: "0".into(),
        ..Form::default()
    });
    harness.get_by_label("Open").click();
    run_until(&mut harness, "bound", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    // From here this thread — the UI thread of the harness — draws no frame and runs no
    // `logic` for over two seconds, as a modal dialog or a minimised window would.
    let peer = std::thread::Builder::new()
        .name("udp-peer".into())
        .spawn(move || {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let start = Instant::now();
            for i in 0..10_000u32 {
                let due = start + Duration::from_micros(u64::from(i) * 200);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                socket.send_to(&i.to_be_bytes(), addr).unwrap();
            }
        })
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    peer.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let counted = || harness.state().tab().session.capture().counters.rx_messages;
    while counted() < 10_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let capture = harness.state().tab().session.capture();
    assert_eq!(
        capture.counters.rx_messages, 10_000,
        "all in, without a frame"
    );
    assert_eq!(capture.counters.dropped_datagrams, 0);
    let last = capture.log.iter().next_back().unwrap();
    assert_eq!(last.bytes, 9_999u32.to_be_bytes());
}

#[test]
fn help_about_shows_the_version_and_the_licence() {
    let mut harness = harness(Form::default());
    harness.get_by_label("Help").click();
    harness.run();
    harness.get_by_label("About SockScope").click();
    harness.run();
    harness.get_by_label(&format!("Version {}", env!("CARGO_PKG_VERSION")));
    assert!(
        harness
            .query_by_label_contains("MIT OR Apache-2.0")
            .is_some()
    );
}

/// A native dialog that cannot be shown: it says "cancelled" at once, as rfd does with no
/// desktop portal and no zenity.
struct NoDialog;

impl sockscope::gui::FilePicker for NoDialog {
    fn pick(&self, _request: &sockscope::gui::FileRequest) -> Option<std::path::PathBuf> {
        None
    }
    fn native(&self) -> bool {
        true
    }
}

#[test]
fn with_no_file_dialog_a_path_prompt_asks_and_the_log_says_why() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-prompt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut harness = Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| {
            App::with_form(&cc.egui_ctx, Form::default()).with_picker(Box::new(NoDialog))
        });
    {
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let mut capture = harness.state_mut().tab_mut().session.capture();
        capture.log.push_data(
            std::time::SystemTime::now(),
            Direction::Rx,
            None,
            peer,
            b"kept",
        );
    }
    harness.run();
    harness.get_by_label("Export").click();
    harness.run();
    harness.get_by_label("Text log").click();
    run_until(&mut harness, "the prompt", App::dialog_open);
    let path = dir.join("typed.log");
    let field = harness.get_by_role_and_label(Role::TextInput, "Path");
    field.focus();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Path")
        .type_text(path.to_str().unwrap());
    harness.run();
    harness.key_press(Key::Enter);
    run_until(&mut harness, "exported", |app| {
        !app.dialog_open() && app.tab().session.exporting.is_none()
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("kept"), "{text}");
    let said: Vec<String> = log_texts(&harness);
    assert!(
        said.iter().any(|t| t.starts_with("No file dialog:")),
        "{said:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_quick_command_popup_stays_open_while_its_name_is_typed_and_enter_adds() {
    let mut harness = harness(Form {
        send_text: "AT+CSQ".into(),
        ..Form::default()
    });
    harness.get_by_label("+ Quick command").click();
    harness.run();
    // The name field has the keyboard at once: typing goes into it.
    harness
        .get_by_role_and_label(Role::TextInput, "Name")
        .click();
    harness.run();
    assert!(
        harness
            .query_by_role_and_label(Role::TextInput, "Name")
            .is_some(),
        "still open"
    );
    harness
        .get_by_role_and_label(Role::TextInput, "Name")
        .type_text("signal");
    harness.run();
    harness.key_press(Key::Enter);
    harness.run();
    let quick = &harness.state().tab().form.quick;
    assert_eq!(quick.len(), 1);
    assert_eq!(
        (quick[0].name.as_str(), quick[0].text.as_str()),
        ("signal", "AT+CSQ")
    );
}
