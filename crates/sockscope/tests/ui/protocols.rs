//! The Decode as picker: a protocol chosen there gives each data row its summary; a spec file
//! with an error says where, next to the picker; Find with a field the protocol lacks says so
//! (in the window's language, also after a switch).

use std::io::Write as _;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use sockscope::gui::state::{Form, UiAction};
use sockscope::i18n::Lang;

use std::net::TcpStream;

use egui_kittest::Harness;
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::App;

use super::{run_until, server_with_clients};

/// A JT/T 808 platform reply (serial 0x0026), XOR 0x08.
const REPLY: &str = "7e8001000505805668746700000026000200087e";

/// A listening server tab in a window tall enough to show the Decode as picker (at 720 px it
/// is below the settings' fold, and kittest clicks only what is drawn), with one client.
fn tall_server() -> (Harness<'static, App>, TcpStream) {
    let form = Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    };
    let mut harness = Harness::builder()
        .with_size([1100.0, 1100.0])
        .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form));
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let client = TcpStream::connect(addr).unwrap();
    run_until(&mut harness, "the client", |app| {
        app.tab().session.capture().clients.len() == 1
    });
    (harness, client)
}

#[test]
fn a_protocol_chosen_in_the_picker_gives_each_row_its_summary() {
    let (mut harness, mut client) = tall_server();
    let clients = [&mut client];
    let frame = sockscope_core::codec::hex::parse(REPLY).unwrap();
    clients[0].write_all(&frame).unwrap();
    run_until(&mut harness, "the frame", |app| {
        app.tab().session.capture().counters.rx_bytes == frame.len() as u64
    });
    assert!(
        harness.query_by_label_contains("≡ ").is_none(),
        "no summary before a protocol is chosen"
    );
    harness
        .get_by_role_and_label(Role::ComboBox, "Decode as")
        .click();
    harness.run();
    let jt808 = sockscope_core::protocol::builtin("jt808").unwrap();
    harness
        .get_by_role_and_label(Role::Button, &format!("jt808 — {}", jt808.title()))
        .click();
    harness.run();
    assert_eq!(harness.state().tab().form.protocol, "jt808");
    // The row now leads with what the message is.
    harness.get_by_label_contains("≡ JT808 0x8001");
}

#[test]
fn a_spec_file_with_an_error_says_where_next_to_the_picker() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("my808.ron");
    let builtin = sockscope_core::protocol::builtin("jt808")
        .unwrap()
        .source
        .clone();
    let source = builtin.replacen("\"u16\"", "\"u61\"", 1);
    // The line of the broken type (the built-in spec changes), from 1; the column is the
    // field's, as the core reports it.
    let line = builtin[..builtin.find("\"u16\"").unwrap()].lines().count();
    std::fs::write(&spec, source).unwrap();
    let form = Form {
        protocol: spec.display().to_string(),
        ..Form::default()
    };
    let mut harness = super::harness(form);
    harness.run();
    let error = harness.get_by_label_contains("'u61' is not a type");
    let text = format!("{error:?}");
    assert!(
        text.contains(&format!("line {line}, column ")),
        "line {line}: {text}"
    );
    // A spec file that is gone is said as such.
    std::fs::remove_file(&spec).unwrap();
    harness.state_mut().tab_mut().form.protocol = dir.path().join("gone.ron").display().to_string();
    harness.run();
    harness.get_by_label_contains("Cannot read");
    // In 中文, the reason too (not std's English inside a Chinese sentence).
    harness.state_mut().set_lang(Lang::Zh);
    harness.state_mut().tab_mut().form.protocol =
        dir.path().join("gone-too.ron").display().to_string();
    harness.run();
    let said = harness.get_by_label_contains("无法读取");
    let said = format!("{said:?}");
    assert!(
        said.contains("文件或目录不存在") && !said.contains("os error"),
        "{said}"
    );
    harness.state_mut().set_lang(Lang::En);
}

#[test]
fn find_with_a_field_the_protocol_lacks_says_so_and_follows_a_language_switch() {
    let (mut harness, _clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            ..Form::default()
        },
        1,
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    super::type_into(&mut harness, Role::TextInput, Some("Find"), "f.msgid == 1");
    harness.get_by_label("no field 'msgid' in jt808 (did you mean msg_id?)");
    harness.state_mut().set_lang(Lang::Zh);
    harness.run();
    harness.get_by_label("jt808 中没有字段“msgid”（是不是 msg_id？）");
    harness.state_mut().set_lang(Lang::En);
    harness.run();
    // Decode as another protocol: the sentence names it (it named the old one).
    harness.state_mut().tab_mut().form.protocol = "modbus-tcp".into();
    harness.run();
    harness.get_by_label("no field 'msgid' in modbus-tcp");
    harness.state_mut().tab_mut().form.protocol = "jt808".into();
    harness.run();
    super::type_into(
        &mut harness,
        Role::TextInput,
        Some("Find"),
        "f.msg_id == 0x8001",
    );
    assert!(harness.query_by_label_contains("no field").is_none());
}

/// A JT/T 808 location report (2019 header), XOR 0x41.
const LOCATION: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";

#[test]
fn show_by_field_keeps_the_messages_it_holds_for_and_says_how_many_it_hides() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let location = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let mut sent = 0;
    for frame in [&reply, &location, &reply, &reply, &location] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        3
    );
    // The field has no label of its own: found by its hint.
    harness
        .get_by(|n| n.placeholder() == Some("only f.msg_id == …"))
        .focus();
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness
        .get_by(|n| n.is_focused())
        .type_text("f.msg_id == 0x0200");
    harness.run();
    run_until(&mut harness, "the filter", |app| !app.tab().view.show_busy);
    harness.run();
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        0
    );
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x0200")
            .count(),
        2
    );
    // "3 hidden", or "−3" where the toolbar is narrow (the sentence on hover).
    assert!(
        harness.query_by_label("3 hidden").is_some() || harness.query_by_label("−3").is_some(),
        "the count of hidden messages is said"
    );
    // Session messages stay ("connected").
    assert!(harness.query_all_by_label_contains("127.0.0.1").count() >= 3);
    // A typo says so and filters nothing.
    let tab = harness.state_mut().tab_mut();
    tab.view.show_text = "f.msg_idx == 0x0200".into();
    tab.apply(sockscope::gui::state::UiAction::ShowFields);
    harness.run();
    harness.get_by_label("no field 'msg_idx' in jt808 (did you mean msg_id?)");
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        3
    );
}

/// A relay decodes each direction with its own protocol: a JT/T 808 terminal's report goes
/// up, the upstream answers in Modbus TCP (a gateway), and each row's summary is its own
/// protocol's. With the second picker left at "Same", both use the first.
#[test]
fn a_relay_decodes_each_direction_with_its_own_protocol() {
    use std::io::Read as _;
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    // Modbus TCP: read holding register reply, one register 0x000A.
    let modbus = sockscope_core::codec::hex::parse("00 01 00 00 00 05 01 03 02 00 0A").unwrap();
    let answer = modbus.clone();
    let (done, looked) = std::sync::mpsc::channel::<()>();
    let server = std::thread::Builder::new()
        .name("upstream".into())
        .spawn(move || {
            let (mut stream, _) = upstream.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(&answer).unwrap();
            // Stays connected until the test has looked (not a fixed half second).
            let _ = looked.recv_timeout(testkit::WAIT);
        })
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut harness = Harness::builder()
        .with_size([1100.0, 1400.0])
        .build_eframe(move |cc| {
            App::with_form(
                &cc.egui_ctx,
                Form {
                    mode: Mode::Relay,
                    local_ip: "127.0.0.1".into(),
                    relay_port: port.to_string(),
                    remote_ip: "127.0.0.1".into(),
                    remote_port: up_port.to_string(),
                    protocol: "jt808".into(),
                    rx_hex: true,
                    ..Form::default()
                },
            )
        });
    harness.run();
    // The second picker, set to Modbus TCP.
    harness
        .get_by_role_and_label(Role::ComboBox, "Upstream → client")
        .click();
    harness.run();
    let modbus_tcp = sockscope_core::protocol::builtin("modbus-tcp").unwrap();
    harness
        .get_by_role_and_label(
            Role::Button,
            &format!("modbus-tcp — {}", modbus_tcp.title()),
        )
        .click();
    harness.run();
    assert_eq!(harness.state().tab().form.protocol_replies, "modbus-tcp");
    harness.get_by_label("Start").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .write_all(&sockscope_core::codec::hex::parse(LOCATION).unwrap())
        .unwrap();
    let mut back = vec![0u8; modbus.len()];
    client.read_exact(&mut back).unwrap();
    assert_eq!(back, modbus);
    run_until(&mut harness, "both directions logged", |app| {
        app.tab()
            .session
            .capture()
            .log
            .iter()
            .filter(|r| r.relay.is_some())
            .count()
            >= 2
    });
    harness.run();
    harness.get_by_label_contains("≡ JT808 0x0200");
    let reply = harness.get_by_label_contains("≡ Modbus");
    assert!(!format!("{reply:?}").contains("JT808"));
    drop(done);
    server.join().unwrap();
}

/// A field chosen as a column shows its value in each row that has it, blank in a row that
/// lacks it; its chip above the log removes it; the columns are the tab's (saved with it).
#[test]
fn a_field_shown_as_a_column_has_its_value_per_row_and_is_saved_with_the_tab() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let location = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let mut sent = 0;
    for frame in [&location, &reply] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    let tab = harness.state_mut().tab_mut();
    tab.apply(sockscope::gui::state::UiAction::ToggleColumn(
        "body.speed".into(),
    ));
    harness.run();
    // The report's speed (0x0042 = 6.6 km/h), and the reply's blank cell.
    harness.get_by_label_contains("6.6 km/h       │ ≡ JT808 0x0200");
    harness.get_by_label_contains("               │ ≡ JT808 0x8001");
    let saved = harness.state().workspace();
    assert_eq!(
        saved.tabs[0].profile.session.protocol_columns,
        vec!["body.speed".to_owned()]
    );
    harness.get_by_label("body.speed ×").click();
    harness.run();
    assert!(harness.state().tab().form.protocol_columns.is_empty());
    assert!(harness.query_by_label_contains("│ ≡ JT808").is_none());
}

/// Export by field: the selected report's kind, a column per field, UTF-8 with a BOM; the
/// platform's reply (another kind) is left out; the log says how many went where.
#[test]
fn the_fields_csv_has_a_column_per_field_of_the_chosen_message() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let location = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let mut sent = 0;
    for frame in [&location, &reply, &location] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    let first = harness
        .state()
        .tab()
        .session
        .capture()
        .log
        .iter()
        .find(|r| r.bytes == &location[..])
        .unwrap()
        .seq;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fields.csv");
    let tab = harness.state_mut().tab_mut();
    tab.apply(UiAction::SelectRecord(Some(first)));
    tab.apply(UiAction::ExportFields(path.clone()));
    run_until(&mut harness, "the export", |app| {
        app.tab().view.field_export.is_none()
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "a head and the two reports: {text}");
    assert!(
        lines[0].starts_with("\u{feff}time,direction,peer,"),
        "{text}"
    );
    assert!(lines[0].contains("Latitude (body.lat)"), "{text}");
    // A quantity's unit is in the header, its cell a number.
    assert!(lines[0].contains("Speed (body.speed) [km/h]"), "{text}");
    for line in &lines[1..] {
        assert!(line.contains(",rx,127.0.0.1:"), "{line}");
        // A number a spreadsheet sums; a value that is not a quantity as shown (a cell with a
        // comma is quoted).
        assert!(line.contains(",6.6,"), "{line}");
        assert!(line.contains(",123,"), "the altitude: {line}");
        assert!(line.contains(",0x0200 "), "the message id as shown: {line}");
        assert!(
            line.contains(",\"0x0000006F: emergency, overspeed,"),
            "{line}"
        );
    }
    harness.run();
    harness.get_by_label_contains("Exported 2 messages by field to");
}

#[test]
fn a_protocol_chosen_while_listening_reaches_the_running_rules() {
    // A rule by field answers as soon as Decode as names the protocol, with no restart: the
    // running rules are compiled again for it.
    use std::io::Read as _;
    let form = answering_form("", &["f.msg_id == 0x8001"]);
    let (mut harness, mut clients) = server_with_clients(form, 1);
    harness
        .state_mut()
        .tab_mut()
        .apply(UiAction::SetProtocol("jt808".into(), false));
    harness.run();
    let client = &mut clients[0];
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    client
        .write_all(&sockscope_core::codec::hex::parse(REPLY).unwrap())
        .unwrap();
    let mut got = [0u8; 2];
    client
        .read_exact(&mut got)
        .expect("the rule by field answered");
    assert_eq!(&got, b"OK");
}

/// A relay decoding each direction with its own protocol (Modbus TCP from the client, Modbus
/// RTU back from the upstream) filters and finds each row with the protocol it is decoded
/// with: `f.slave` (RTU only) is a field, keeps the upstream's reply and hides the request;
/// a name neither has says both protocols.
#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one relay session, filtered and searched"
)]
fn a_relay_with_a_protocol_per_direction_filters_and_finds_each_row_with_its_own() {
    use std::io::Read as _;
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up_port = upstream.local_addr().unwrap().port();
    // Modbus RTU: slave 1, read holding registers reply, one register 0x000A, CRC 0x4338.
    let rtu = sockscope_core::codec::hex::parse("01 03 02 00 0A 38 43").unwrap();
    let answer = rtu.clone();
    let (done, looked) = std::sync::mpsc::channel::<()>();
    let server = std::thread::Builder::new()
        .name("upstream".into())
        .spawn(move || {
            let (mut stream, _) = upstream.accept().unwrap();
            let mut buf = [0u8; 256];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(&answer).unwrap();
            // Stays connected until the test has looked (not a fixed half second).
            let _ = looked.recv_timeout(testkit::WAIT);
        })
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut harness = Harness::builder()
        .with_size([1100.0, 900.0])
        .build_eframe(move |cc| {
            App::with_form(
                &cc.egui_ctx,
                Form {
                    mode: Mode::Relay,
                    local_ip: "127.0.0.1".into(),
                    relay_port: port.to_string(),
                    remote_ip: "127.0.0.1".into(),
                    remote_port: up_port.to_string(),
                    protocol: "modbus-tcp".into(),
                    protocol_replies: "modbus-rtu".into(),
                    // Receive framing None: each direction is cut by its own protocol's
                    // frame layer (MBAP's length would hold the RTU reply back).
                    rx_hex: true,
                    ..Form::default()
                },
            )
        });
    harness.get_by_label("Start").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let request = sockscope_core::codec::hex::parse("00 01 00 00 00 06 01 03 00 00 00 01").unwrap();
    client.write_all(&request).unwrap();
    let mut back = vec![0u8; rtu.len()];
    client
        .read_exact(&mut back)
        .expect("the RTU reply passed on while the upstream stays connected");
    assert_eq!(back, rtu);
    run_until(&mut harness, "both directions logged", |app| {
        app.tab()
            .session
            .capture()
            .log
            .iter()
            .filter(|r| r.relay.is_some())
            .count()
            >= 2
    });
    let way = |dir| {
        let capture = harness.state().tab().session.capture();
        capture
            .log
            .iter()
            .filter(|r| r.relay == Some(dir) && r.kind == sockscope::capture::RecordKind::Rx)
            .map(|r| r.bytes.to_vec())
            .collect::<Vec<_>>()
    };
    assert_eq!(way(sockscope::capture::RelayWay::FromClient), vec![request]);
    assert_eq!(
        way(sockscope::capture::RelayWay::FromUpstream),
        vec![rtu.clone()],
        "the reply is one frame, cut as RTU"
    );
    drop(done);
    server.join().unwrap();
    let show = |harness: &mut Harness<'static, App>, text: &str| {
        let tab = harness.state_mut().tab_mut();
        tab.view.show_text = text.into();
        tab.apply(UiAction::ShowFields);
        run_until(harness, "the filter", |app| !app.tab().view.show_busy);
        harness.run();
    };
    // A field of the upstream's protocol only: no error, the reply kept, the request hidden.
    show(&mut harness, "f.slave == 1");
    let from_client = harness
        .state()
        .tab()
        .session
        .capture()
        .log
        .iter()
        .filter(|r| r.relay == Some(sockscope::capture::RelayWay::FromClient))
        .filter(|r| {
            matches!(
                r.kind,
                sockscope::capture::RecordKind::Rx | sockscope::capture::RecordKind::Tx
            )
        })
        .count();
    let view = &harness.state().tab().view;
    assert_eq!(view.show_error, None);
    let rows = view.show_fields.as_ref().unwrap();
    assert!(from_client > 0);
    assert_eq!(
        rows.hidden(),
        from_client,
        "the client's rows (no slave field) are hidden, the upstream's kept"
    );
    harness.get_by_label_contains("≡ Modbus RTU");
    assert!(
        harness
            .query_by_label_contains("≡ Modbus #1 unit")
            .is_none()
    );
    // A field of the client's protocol only: the reply (read as RTU, no transaction) hidden.
    show(&mut harness, "f.transaction == 1");
    assert_eq!(harness.state().tab().view.show_error, None);
    harness.get_by_label_contains("≡ Modbus #1 unit");
    assert!(harness.query_by_label_contains("≡ Modbus RTU").is_none());
    // A name neither has says both.
    show(&mut harness, "f.bogus == 1");
    assert_eq!(
        harness.state().tab().view.show_error.as_deref(),
        Some("no field 'bogus' in modbus-tcp / modbus-rtu")
    );
    // Find by field reads each row with its own protocol too.
    let tab = harness.state_mut().tab_mut();
    tab.view.search_text = "f.slave == 1".into();
    tab.apply(UiAction::Search);
    run_until(&mut harness, "the search", |app| {
        app.tab().view.searching.is_none()
    });
    let view = &harness.state().tab().view;
    assert_eq!(view.search_error, None);
    assert!(!view.matches.is_empty(), "the upstream's reply is found");
    for seq in &view.matches {
        let log = &harness.state().tab().session.capture().log;
        let record = log.get_seq(*seq).unwrap();
        assert_eq!(
            record.relay,
            Some(sockscope::capture::RelayWay::FromUpstream)
        );
    }
}

/// Show by field starts again when its protocol does: a spec file broken on disk stops it,
/// the file fixed makes it filter again (not only show its expression).
#[test]
fn show_by_field_filters_again_once_a_broken_spec_file_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("my808.ron");
    let good = sockscope_core::protocol::builtin("jt808")
        .unwrap()
        .source
        .clone();
    std::fs::write(&spec, &good).unwrap();
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: spec.display().to_string(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let location = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let mut sent = 0;
    for frame in [&reply, &location, &reply] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    let tab = harness.state_mut().tab_mut();
    tab.view.show_text = "f.msg_id == 0x0200".into();
    tab.apply(UiAction::ShowFields);
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the type's module is private"
    )]
    let hidden = |app: &App| {
        let view = &app.tab().view;
        (!view.show_busy)
            .then(|| view.show_fields.as_ref().map(|rows| rows.hidden()))
            .flatten()
    };
    run_until(&mut harness, "the filter", |app| hidden(app) == Some(2));
    // Broken on disk: the protocol goes, and the filter with it.
    std::fs::write(&spec, good.replacen("\"u16\"", "\"u61\"", 1)).unwrap();
    run_until(&mut harness, "the broken spec read", |app| {
        app.tab().view.show_fields.is_none()
    });
    // Fixed: it filters again by itself.
    std::fs::write(&spec, &good).unwrap();
    run_until(&mut harness, "the filter again", |app| {
        hidden(app) == Some(2)
    });
    harness.run();
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        0
    );
}

/// The location report of [`LOCATION`] at 25.6 km/h (raw 0x0100), XOR 0x02.
const LOCATION_FAST: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b010000032501292233440202006401040000000c027e";

/// The fields CSV holds the rows Show keeps (and says so in the log), with its fixed
/// columns and direction in the window's language.
#[test]
fn the_fields_csv_holds_the_rows_show_keeps_and_says_so() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let slow = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let fast = sockscope_core::codec::hex::parse(LOCATION_FAST).unwrap();
    let mut sent = 0;
    for frame in [&slow, &reply, &fast, &slow] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    let tab = harness.state_mut().tab_mut();
    tab.view.show_text = "f.body.speed > 100".into();
    tab.apply(UiAction::ShowFields);
    run_until(&mut harness, "the filter", |app| !app.tab().view.show_busy);
    let chosen = harness
        .state()
        .tab()
        .session
        .capture()
        .log
        .iter()
        .find(|r| r.bytes == &fast[..])
        .unwrap()
        .seq;
    let dir = tempfile::tempdir().unwrap();
    let export = |harness: &mut Harness<'static, App>, name: &str| {
        let path = dir.path().join(name);
        let tab = harness.state_mut().tab_mut();
        tab.apply(UiAction::SelectRecord(Some(chosen)));
        tab.apply(UiAction::ExportFields(path.clone()));
        run_until(harness, "the export", |app| {
            app.tab().view.field_export.is_none()
        });
        harness.run();
        std::fs::read_to_string(&path).unwrap()
    };
    let text = export(&mut harness, "shown.csv");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "a head and the one report shown: {text}");
    assert!(lines[1].contains(",25.6,"), "{text}");
    harness.get_by_label_contains("Exported 1 messages by field to");
    harness.get_by_label_contains("only the rows shown (Show f.body.speed > 100 hides");
    // In 中文, the fixed columns and the direction too.
    harness.state_mut().set_lang(Lang::Zh);
    let text = export(&mut harness, "zh.csv");
    assert!(text.starts_with("\u{feff}时间,方向,对端,"), "{text}");
    assert!(text.contains(",收,127.0.0.1:"), "{text}");
}

#[test]
fn the_rule_editor_holds_a_rule_naming_a_field_the_protocol_lacks() {
    // As `sockscope run` refuses it: with Decode as set, `f.msgid` is the rule's mistake, said
    // with the nearest name, and the rule is held back (it would never fire).
    let form = answering_form("jt808", &["f.msg_id == 0x0200", "f.msgid == 0x0200"]);
    let mut harness = super::harness(form);
    harness.run();
    let running = harness.state_mut().tab_mut().running_rules();
    assert_eq!(running.errors.len(), 1, "{:?}", running.errors);
    assert_eq!(running.errors[0].rule, Some(1));
    assert!(
        running.errors[0].message.contains("msg_id"),
        "{}",
        running.errors[0].message
    );
    // Without a protocol no field can be read: each rule says to choose one.
    harness.state_mut().tab_mut().form.protocol = String::new();
    let errors = harness.state_mut().tab_mut().running_rules().errors;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].message.contains("Decode as"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_rules_field_mistake_is_said_under_its_condition_not_its_reply() {
    // The editor placed a mistake its own fields do not show with the reply; one about a
    // field the condition reads goes under the condition, between "When" and "Then".
    let form = answering_form("jt808", &["f.msgid == 0x0200"]);
    let mut harness = super::harness(form);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    // "When" labels the heading and the condition's fields too: the heading is the first.
    let top = |label: &str| {
        harness
            .get_all_by_label(label)
            .map(|node| node.rect().top())
            .fold(f32::INFINITY, f32::min)
    };
    let (when, then) = (top("When"), top("Then"));
    let beside: Vec<f32> = harness
        .get_all_by_label_contains("'msgid'")
        .map(|node| node.rect().top())
        .filter(|top| *top > when)
        .collect();
    assert!(
        beside.iter().any(|top| *top < then),
        "the mistake is not under the condition: When at {when}, Then at {then}, it at {beside:?}"
    );
}

#[test]
fn a_rule_held_back_at_listen_is_said_in_the_log() {
    // Whoever never opens the Rules window learns why the rule does not answer.
    let form = answering_form("jt808", &["f.msgid == 0x0200"]);
    let (harness, _) = server_with_clients(form, 0);
    let capture = harness.state().tab().session.capture();
    let said: Vec<String> = capture.log.iter().map(|r| r.text().into_owned()).collect();
    assert!(
        said.iter()
            .any(|line| line.contains("'msgid'") && line.contains("until it is fixed")),
        "{said:?}"
    );
}

/// A tab decoding with `protocol` ("" for none) whose rules answer "OK" when each of `whens`
/// (an expression) holds.
fn answering_form(protocol: &str, whens: &[&str]) -> Form {
    use sockscope::rules::{Automation, Cond, ReplySpec, Rule};
    Form {
        protocol: protocol.into(),
        automation: Automation {
            enabled: true,
            rules: whens
                .iter()
                .map(|when| Rule {
                    when: Cond::Expr((*when).into()),
                    reply: Some(ReplySpec {
                        payload: "OK".into(),
                        ..ReplySpec::default()
                    }),
                    ..Rule::default()
                })
                .collect(),
            ..Automation::default()
        },
        ..Form::default()
    }
}

/// A message of two frames (two DL/T 645 reads sent at once, as a cyclic send of both does)
/// is summed up frame by frame, not as one broken frame in the error colour.
#[test]
fn a_message_of_two_frames_is_summed_up_frame_by_frame() {
    let mut harness = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_eframe(|cc| {
            App::with_form(
                &cc.egui_ctx,
                Form {
                    protocol: "dlt645".into(),
                    ..Form::default()
                },
            )
        });
    let two = sockscope_core::codec::hex::parse(
        "68 01 00 00 00 00 00 68 11 04 33 34 34 35 B6 16 68 01 00 00 00 00 00 68 11 04 33 34 35 35 B7 16",
    )
    .unwrap();
    harness.state().tab().session.capture().log.push_data(
        std::time::SystemTime::now(),
        sockscope::engine::Direction::Tx,
        None,
        "127.0.0.1:8645".parse().unwrap(),
        &two,
    );
    harness.run();
    // One row: the first frame's summary, then the second's after ┆.
    harness
        .get_by_label_contains("0x02010100 Phase A voltage  ┆ ≡ DL/T645 000000000001 · 0x11 Read data · 0 request · 0x02020100");
}

/// A server tab's received frames are mostly requests, but a polled Modbus RTU gateway that
/// connects in sends replies: a read reply is shown as one (its registers), as `listen` shows
/// it — it was "Read request · Start address 1024 · Quantity 31489 · extra bytes".
#[test]
fn a_server_tab_shows_a_polled_gateways_reply_as_a_reply() {
    let mut harness = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_eframe(|cc| {
            App::with_form(
                &cc.egui_ctx,
                Form {
                    mode: Mode::TcpServer,
                    protocol: "modbus-rtu".into(),
                    ..Form::default()
                },
            )
        });
    let reply = sockscope_core::codec::hex::parse("01 03 04 00 7B 01 C8 8A 2C").unwrap();
    let request = sockscope_core::codec::hex::parse("01 03 00 00 00 02 C4 0B").unwrap();
    for bytes in [&reply, &request] {
        harness.state().tab().session.capture().log.push_data(
            std::time::SystemTime::now(),
            sockscope::engine::Direction::Rx,
            None,
            "127.0.0.1:8502".parse().unwrap(),
            bytes,
        );
    }
    harness.run();
    harness.get_by_label_contains(
        "≡ Modbus RTU slave 1 · 0x03 Read holding registers · 2 items: 123, 456",
    );
    // A request received is still read as one.
    harness.get_by_label_contains("≡ Modbus RTU slave 1 · 0x03 Read holding registers · @0 ×2");
}

/// `{{f.NAME}}` in the send box: a field of the row picked in the log, else of the newest
/// frame received; the preview says which frame; with no protocol, or no frame, a sentence and
/// nothing sent.
#[test]
fn the_send_box_takes_a_field_of_the_picked_or_newest_frame() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            send_text: "ack {{f.body.reply_serial}}".into(),
            ..Form::default()
        },
        1,
    );
    // No protocol chosen: said, not sent.
    super::click_send(&mut harness);
    harness.get_by_label_contains("choose the protocol in Decode as");
    harness.state_mut().tab_mut().form.protocol = "jt808".into();
    harness.state_mut().tab_mut().apply(UiAction::ApplyFraming);
    harness.run();
    // No frame yet.
    super::click_send(&mut harness);
    harness.get_by_label_contains("none has come yet");
    // Two platform replies to serials 0x26 and 0x27: the newest gives its.
    let first = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let second =
        sockscope_core::codec::hex::parse("7e8001000505805668746700000027000200097e").unwrap();
    super::send_and_wait(&mut harness, &mut clients[0], &first);
    super::send_and_wait(&mut harness, &mut clients[0], &second);
    harness.run();
    let newest = harness.state().tab().session.capture().log.next_seq() - 1;
    // The "none has come yet" went with the frame; the preview says where the values come from.
    harness.run();
    assert!(
        harness
            .query_by_label_contains("none has come yet")
            .is_none()
    );
    let _ = newest;
    harness.get_by_label_contains("{{f.…}} from the frame of ");
    super::click_send(&mut harness);
    assert_eq!(super::read_within(&mut clients[0], 6), b"ack 39");
    // The first one picked: its own.
    let picked = newest - 1;
    harness.state_mut().tab_mut().view.selected = Some(picked);
    harness.run();
    super::click_send(&mut harness);
    assert_eq!(super::read_within(&mut clients[0], 6), b"ack 38");
    // A row that was sent is not a received frame: refused, said, nothing goes (a number
    // made of the sent text's bytes went out).
    let sent = harness.state().tab().session.capture().log.next_seq() - 1;
    harness.state_mut().tab_mut().view.selected = Some(sent);
    harness.run();
    harness.get_by_label_contains("the row picked in the log is one you sent");
    super::click_send(&mut harness);
    let mut probe = [0u8; 1];
    clients[0]
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    assert!(
        std::io::Read::read(&mut clients[0], &mut probe).is_err(),
        "nothing went out"
    );
}

/// Bytes that are not a frame (a DTU's registration before Modbus TCP requests) are said so in
/// their row, as the command line says them; the row read them as a broken Modbus frame
/// ("Modbus #21061 unit 85").
#[test]
fn a_row_of_bytes_that_are_not_a_frame_says_so() {
    let mut harness = Harness::builder()
        .with_size([1400.0, 800.0])
        .build_eframe(|cc| {
            App::with_form(
                &cc.egui_ctx,
                Form {
                    protocol: "modbus-tcp".into(),
                    ..Form::default()
                },
            )
        });
    harness.state().tab().session.capture().log.push_data(
        std::time::SystemTime::now(),
        sockscope::engine::Direction::Rx,
        None,
        "127.0.0.1:5020".parse().unwrap(),
        b"REG:DTU-0001\r\n",
    );
    harness.run();
    harness.get_by_label_contains("≡ ⚠ 14 bytes from byte 0 are not a Modbus TCP frame");
    assert!(harness.query_by_label_contains("Modbus #21061").is_none());
}

/// A quick command refused says which command, since the send box above holds other text.
#[test]
fn a_refused_quick_command_names_itself() {
    let (mut harness, _clients) = server_with_clients(
        Form {
            send_text: "other text".into(),
            quick: vec![sockscope::gui::state::QuickCommand {
                name: "ack serial".into(),
                text: "ack {{f.serial}}".into(),
                ..Default::default()
            }],
            ..Form::default()
        },
        1,
    );
    harness.get_by_label("ack serial").click();
    harness.run();
    harness.get_by_label_contains("Quick command 'ack serial': {{f.serial}} at column 5");
}
