//! What the log and its status words show: length headers hidden, words in the reader's
//! language, "Not listening" for a server, GB18030 as people write it, a × that does not
//! close the next client by surprise.

use std::io::Write;
use std::net::TcpListener;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::codec::length::LengthPrefix;
use sockscope::engine::Mode;
use sockscope::gui::i18n::Lang;
use sockscope::gui::state::Form;
use sockscope::profile::FrameMode;

use super::{harness, run_until, send_and_wait, server_with_clients};

/// `struct.pack('i', len(body)) + body`, as the socket course's sender writes.
fn packed(body: &str) -> Vec<u8> {
    let body = body.as_bytes();
    let mut out = i32::try_from(body.len()).unwrap().to_le_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

#[test]
fn length_prefixed_rows_show_the_payload_and_the_detail_keeps_every_byte() {
    let form = Form {
        frame_mode: FrameMode::Length,
        frame_prefix: LengthPrefix {
            width: 4,
            order: sockscope::codec::checksum::ByteOrder::Little,
            includes_header: false,
        },
        ..Form::default()
    };
    let (mut harness, mut clients) = server_with_clients(form, 1);
    let mut wire = packed("你好");
    wire.extend(packed("hello"));
    send_and_wait(&mut harness, &mut clients[0], &wire);
    run_until(&mut harness, "two frames", |app| {
        app.tab().session.capture().counters.rx_messages >= 2
    });
    harness.get_by_label_contains("[6 B] 你好");
    harness.get_by_label_contains("[5 B] hello");
    assert!(
        harness.query_by_label_contains("\\x06").is_none()
            && harness.query_by_label_contains("[10 B]").is_none(),
        "no header in the rows"
    );
    // The detail has every byte, header included.
    harness.get_by_label_contains("[6 B] 你好").click();
    harness.run();
    harness.get_by_label_contains("06 00 00 00 E4 BD A0 E5");
    // And the option shows the header in the rows too.
    harness.get_by_label("Show length header").scroll_to_me();
    harness.run();
    harness.get_by_label("Show length header").click();
    harness.run();
    harness.get_by_label_contains("[10 B]");
    harness.get_by_label_contains("[9 B]");
}

#[test]
fn a_server_whose_port_is_taken_says_not_listening() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        server_port: taken.local_addr().unwrap().port().to_string(),
        ..Form::default()
    });
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "the bind failed", |app| {
        app.tab().session.capture().last_error.is_some()
    });
    harness.run();
    harness.get_by_label_contains("Not listening (see the log)");
    assert!(harness.query_by_label_contains("Not connected").is_none());
}

#[test]
fn older_log_rows_and_the_tab_name_follow_a_language_switch() {
    let (mut harness, _clients) = server_with_clients(Form::default(), 0);
    // The log's row (the status bar says it too, without the bullet).
    harness.get_by_label_contains("• Listening on 127.0.0.1:");
    harness.get_by_label_contains("Session 1");
    harness.state_mut().set_lang(Lang::Zh);
    harness.run();
    harness.get_by_label_contains("• 正在监听 127.0.0.1:");
    harness.get_by_label_contains("会话 1");
    assert!(harness.query_by_label_contains("Listening on").is_none());
    assert!(harness.query_by_label_contains("Session 1").is_none());
    harness.state_mut().set_lang(Lang::En);
    harness.run();
}

#[test]
fn gb18030_is_offered_in_capitals() {
    let mut harness = harness(Form::default());
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .next()
        .unwrap()
        .click();
    harness.run();
    harness
        .get_by_role_and_label(Role::Button, "GB18030")
        .click();
    harness.run();
    assert_eq!(harness.state().tab().form.encoding.name(), "gb18030");
    assert_eq!(
        harness
            .get_all_by_role_and_label(Role::ComboBox, "Encoding")
            .filter(|n| n.value().as_deref() == Some("GB18030"))
            .count(),
        2
    );
}

#[test]
fn a_second_click_where_a_closed_clients_x_was_does_not_close_the_next_client() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 2);
    let disconnects = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.query_all_by_role_and_label(Role::Button, "×").count()
    };
    assert_eq!(disconnects(&harness), 2);
    harness
        .query_all_by_role_and_label(Role::Button, "×")
        .next()
        .unwrap()
        .click();
    run_until(&mut harness, "one client left", |app| {
        app.tab().session.capture().clients.len() == 1
    });
    harness.run();
    // The next row's × is now under the pointer: the same click again does nothing.
    harness
        .query_all_by_role_and_label(Role::Button, "×")
        .next()
        .unwrap()
        .click();
    harness.run();
    std::thread::sleep(std::time::Duration::from_millis(200));
    harness.run();
    assert_eq!(harness.state().tab().session.capture().clients.len(), 1);
    // Once the pointer moved away and back, it closes.
    harness.get_by_label("Stop").hover();
    harness.run();
    harness
        .query_all_by_role_and_label(Role::Button, "×")
        .next()
        .unwrap()
        .click();
    run_until(&mut harness, "no client left", |app| {
        app.tab().session.capture().clients.is_empty()
    });
    let _ = clients[0].write_all(b"x");
}

#[test]
fn a_log_cleared_while_listening_says_it_is_waiting_for_data() {
    use eframe::egui::{Key, Modifiers};
    use sockscope::capture::LinkState;
    let mut harness = super::harness(sockscope::gui::state::Form {
        mode: sockscope::engine::Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        server_port: "0".into(),
        ..sockscope::gui::state::Form::default()
    });
    harness.get_by_label("Listen").click();
    super::run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    harness.key_press_modifiers(Modifiers::COMMAND, Key::L);
    harness.run();
    assert!(
        harness.query_by_label_contains("Pick a mode").is_none(),
        "no 'pick a mode' while listening"
    );
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    assert!(
        harness
            .query_by_label_contains(&format!(
                "Listening on {addr} · clients: 0 — waiting for data"
            ))
            .is_some(),
        "says where it listens"
    );
}

#[test]
fn at_1024_by_640_the_log_toolbar_is_one_line_with_its_switches_in_a_menu() {
    for lang in [Lang::En, Lang::Zh] {
        let mut harness = egui_kittest::Harness::builder()
            .with_size([1024.0, 640.0])
            .build_eframe(|cc| sockscope::gui::App::with_form(&cc.egui_ctx, Form::default()));
        harness.state_mut().set_lang(lang);
        harness.run();
        let top = |label: &str| harness.get_by_label(label).rect().top();
        let (pause, record) = match lang {
            Lang::En => ("Pause", "Record"),
            Lang::Zh => ("暂停", "接收转向文件"),
        };
        assert!(
            (top(pause) - top(record)).abs() < 1.0,
            "{lang:?}: Record is on another line than Pause"
        );
    }
}

/// With a protocol, an expression in Show by field and rows it cannot compare (said beside
/// the count), the toolbar is one line at every width in both languages: in 中文 at 1280 it
/// wrapped Find, Export and Record under the log's first row.
#[test]
fn with_show_by_field_and_its_counts_the_log_toolbar_is_one_line_at_every_width() {
    let sentence = b"$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\r\n";
    for lang in [Lang::En, Lang::Zh] {
        for size in [
            [1024.0, 640.0],
            [1280.0, 800.0],
            [1440.0, 900.0],
            [1920.0, 1080.0],
        ] {
            let mut harness = egui_kittest::Harness::builder()
                .with_size(size)
                .build_eframe(|cc| {
                    sockscope::gui::App::with_form(
                        &cc.egui_ctx,
                        Form {
                            protocol: "nmea0183".into(),
                            ..Form::default()
                        },
                    )
                });
            harness.state_mut().set_lang(lang);
            harness.state().tab().session.capture().log.push_data(
                std::time::SystemTime::now(),
                sockscope::engine::Direction::Rx,
                None,
                "127.0.0.1:7000".parse().unwrap(),
                sentence,
            );
            let tab = harness.state_mut().tab_mut();
            tab.view.show_text = "f.sentence.ns > 5".into();
            tab.apply(sockscope::gui::state::UiAction::ShowFields);
            run_until(&mut harness, "the filter", |app| !app.tab().view.show_busy);
            harness.run();
            assert!(
                harness
                    .state()
                    .tab()
                    .view
                    .show_fields
                    .as_ref()
                    .and_then(|rows| rows.unreadable())
                    .is_some(),
                "the row that cannot be compared is counted"
            );
            let top = |label: &str| harness.get_by_label(label).rect().top();
            let (pause, record) = match lang {
                Lang::En => ("Pause", "Record"),
                Lang::Zh => ("暂停", "接收转向文件"),
            };
            assert!(
                (top(pause) - top(record)).abs() < 1.0,
                "{lang:?} at {size:?}: Record is on another line than Pause"
            );
        }
    }
}

#[test]
fn at_1920_the_settings_column_is_wider_than_at_1024() {
    let width = |size: [f32; 2]| {
        let mut harness = egui_kittest::Harness::builder()
            .with_size(size)
            .build_eframe(|cc| sockscope::gui::App::with_form(&cc.egui_ctx, Form::default()));
        harness.run();
        harness
            .get_by_role_and_label(Role::TextInput, "Remote IP")
            .rect()
            .width()
    };
    let (small, large) = (width([1024.0, 640.0]), width([1920.0, 1080.0]));
    assert!(
        large > small + 60.0,
        "the Remote IP field is {small} px at 1024 and {large} px at 1920"
    );
}

#[test]
fn a_long_failure_sentence_wraps_in_the_log_even_without_wrap_lines() {
    let mut harness = egui_kittest::Harness::builder()
        .with_size([1100.0, 720.0])
        .build_eframe(|cc| sockscope::gui::App::with_form(&cc.egui_ctx, Form::default()));
    let sentence = "TLS with 192.168.100.200:8883 failed: the certificate is signed by a CA that is not trusted here (unknown CA); give its CA file, or trust this certificate by its SHA-256";
    harness.state().tab().session.capture().log.push_message(
        std::time::SystemTime::now(),
        sockscope::capture::RecordKind::Error,
        None,
        None,
        sentence,
    );
    harness.run();
    assert!(!harness.state().tab().form.wrap_lines);
    let row = harness.get_by_label_contains("give its CA file");
    assert!(
        row.rect().right() <= 1100.0 && row.rect().height() > 25.0,
        "the sentence runs off the right edge: {:?}",
        row.rect()
    );
}

#[test]
fn reset_offers_undo_which_puts_the_counters_back_with_what_came_since() {
    let (mut harness, mut peer) = super::connected_client(Form::default());
    peer.write_all(b"hello").unwrap();
    run_until(&mut harness, "5 bytes in", |app| {
        app.tab().session.capture().counters.rx_bytes == 5
    });
    harness.get_by_role_and_label(Role::Button, "Reset").click();
    harness.run();
    assert_eq!(harness.state().tab().session.capture().counters.rx_bytes, 0);
    peer.write_all(b"ab").unwrap();
    run_until(&mut harness, "2 more", |app| {
        app.tab().session.capture().counters.rx_bytes == 2
    });
    harness
        .get_by_role_and_label(Role::Button, "Undo reset")
        .click();
    harness.run();
    let counters = &harness.state().tab().session.capture().counters;
    assert_eq!((counters.rx_bytes, counters.rx_messages), (7, 2));
    harness.get_by_role_and_label(Role::Button, "Reset");
}

/// The stream view's rows drawn now whose text holds `text` (not the detail's hexdump; a
/// row's text is its accessible value).
fn stream_rows_with(
    harness: &egui_kittest::Harness<'static, sockscope::gui::App>,
    text: &str,
) -> usize {
    harness
        .query_all_by_label_contains(text)
        .filter(|n| n.accesskit_node().value().is_some_and(|l| l.contains('←')))
        .count()
}

#[test]
fn the_stream_view_joins_each_clients_lines_when_two_interleave() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            stream_view: true,
            ..Form::default()
        },
        2,
    );
    for (client, piece) in [
        (0, &b"AAA part"[..]),
        (1, b"BBB part"),
        (0, b"ial line 0"),
        (1, b"ial line 1"),
        (0, b" end\r\n"),
        (1, b" end\r\n"),
    ] {
        send_and_wait(&mut harness, &mut clients[client], piece);
    }
    assert_eq!(stream_rows_with(&harness, "AAA partial line 0 end"), 1);
    assert_eq!(stream_rows_with(&harness, "BBB partial line 1 end"), 1);
}

#[test]
fn find_in_the_stream_view_scrolls_to_the_row_found() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            stream_view: true,
            ..Form::default()
        },
        1,
    );
    for n in 0..120 {
        send_and_wait(
            &mut harness,
            &mut clients[0],
            format!("line {n:03}\n").as_bytes(),
        );
    }
    assert_eq!(stream_rows_with(&harness, "line 119"), 1, "at the end");
    assert_eq!(stream_rows_with(&harness, "line 005"), 0, "far above");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    super::type_into(&mut harness, Role::TextInput, Some("Find"), "line 005");
    harness.get_by_label("1 of 1");
    harness.run();
    assert_eq!(stream_rows_with(&harness, "line 005"), 1, "scrolled to it");
}

#[test]
fn a_record_that_cannot_start_is_a_notice_too() {
    let missing_dir = tempfile::tempdir().unwrap();
    let missing = missing_dir.path().join(format!(
        "sockscope-ui-no-such-folder-{}/deeper",
        std::process::id()
    ));
    let form = Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    };
    let mut harness = super::harness_with_files(form, missing);
    harness.run();
    harness.get_by_label("Record").click();
    harness.run();
    harness.get_by_label("Raw bytes…").click();
    run_until(&mut harness, "the failure said", |app| {
        app.tab()
            .session
            .capture()
            .log
            .iter()
            .any(|r| r.text().starts_with("Could not record"))
    });
    let notice = harness.state().notice().expect("a notice").clone();
    assert!(notice.error);
    assert!(
        notice.text().starts_with("Could not record to "),
        "{}",
        notice.text()
    );
    assert!(harness.query_by_label(&notice.text()).is_some(), "shown");
}

#[test]
fn sends_a_full_queue_refused_are_counted_in_the_status_bar() {
    use sockscope::engine::{EngineError, Event};
    let mut harness = super::harness(Form::default());
    harness.run();
    assert!(harness.query_by_label_contains("sends refused").is_none());
    let peer: std::net::SocketAddr = "127.0.0.1:40002".parse().unwrap();
    {
        let mut capture = harness.state().tab().session.capture();
        capture.apply(Event::Error(EngineError::SendQueueFull {
            peer,
            dropped: 100,
        }));
        capture.apply(Event::Error(EngineError::SendsRefused {
            peer,
            new_sends: 41,
            new_bytes: 4100,
            sends: 42,
            bytes: 4200,
        }));
    }
    harness.run();
    harness.get_by_label("42 sends refused (4.1 KiB)");
}

/// The log cap takes a size with its unit, and says when it takes a size as another or is
/// given no size (`100 KiB` was read as 100 MiB, `abc` left the old value, both silently).
#[test]
fn the_log_cap_takes_units_as_typed_and_says_what_it_changed() {
    let mut harness = egui_kittest::Harness::builder()
        .with_size([1100.0, 900.0])
        .build_eframe(|cc| sockscope::gui::App::with_form(&cc.egui_ctx, Form::default()));
    harness.run();
    let put = |harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>, text: &str| {
        harness
            .get_by_role_and_label(Role::TextInput, "Log cap")
            .focus();
        harness.run();
        harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
        if text.is_empty() {
            harness.key_press(Key::Backspace);
        } else {
            #[expect(
                clippy::redundant_closure_for_method_calls,
                reason = "the method path does not fit the lifetime bound"
            )]
            harness.get_by(|n| n.is_focused()).type_text(text);
        }
        harness.run();
        harness.key_press(Key::Enter);
        harness.run();
        harness.run();
    };
    put(&mut harness, "2 GiB");
    assert_eq!(harness.state().tab().form.log_cap_mib, 2048);
    assert!(harness.query_by_label_contains("taken as").is_none());
    put(&mut harness, "512 KiB");
    assert_eq!(harness.state().tab().form.log_cap_mib, 1);
    harness.get_by_label_contains("'512 KiB' taken as 1 MiB");
    put(&mut harness, "abc");
    assert_eq!(harness.state().tab().form.log_cap_mib, 1);
    // Its examples are sizes the field takes as they are (it offered '512 KiB').
    harness.get_by_label_contains("'abc' is not a size: type one with its unit, such as 64 MiB");
    // Emptied and left: nothing to take, nothing said about it ("'' taken as 1 MiB").
    put(&mut harness, "64 MiB");
    put(&mut harness, "");
    assert_eq!(harness.state().tab().form.log_cap_mib, 64);
    assert!(harness.query_by_label_contains("'' ").is_none());
}
