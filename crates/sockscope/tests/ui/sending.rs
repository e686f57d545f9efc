//! The send side as a user meets it: the counter, messages that go when they stop being
//! true, one encoding setting in two places, live validation, cyclic send by the Send button,
//! and a send box that keeps its bytes when its mode changes.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::capture::LinkState;
use sockscope::codec::TextEncoding;
use sockscope::codec::payload::InputMode;
use sockscope::gui::App;
use sockscope::gui::state::Form;

use super::{
    click_send, connected_client, harness, read_within, reads_nothing, run_until, type_into,
};

/// Reads until `want` bytes came or two seconds passed.
fn read_for(stream: &mut std::net::TcpStream, want: usize) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while got.len() < want && std::time::Instant::now() < deadline {
        if let Ok(n) = stream.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    got
}

#[test]
fn the_counter_advances_only_for_bytes_that_went_and_is_shared_by_cyclic_and_manual_sends() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut harness = harness(Form {
        remote_port: port.to_string(),
        send_text: "n={{counter}};".into(),
        cyclic_ms: 10,
        cyclic_count: 3,
        ..Form::default()
    });
    harness.run();
    // Refused ("Not connected"): no value used up.
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::Enter);
    harness.run();
    assert!(
        harness.state().tab().send_note.is_some(),
        "refused, and says so"
    );
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    let (mut peer, _) = listener.accept().unwrap();
    harness.get_by_label("Start cyclic").click();
    run_until(&mut harness, "three cyclic sends", |app| {
        app.tab().session.capture().counters.tx_messages == 3
    });
    click_send(&mut harness);
    let got = read_for(&mut peer, 16);
    assert_eq!(String::from_utf8_lossy(&got), "n=1;n=2;n=3;n=4;");
}

#[test]
fn not_connected_goes_away_once_connected() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut harness = harness(Form {
        remote_port: port.to_string(),
        send_text: "hi".into(),
        ..Form::default()
    });
    harness.run();
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::Enter);
    harness.run();
    harness.get_by_label("Not connected: click Connect first");
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    harness.run();
    assert!(
        harness
            .query_by_label("Not connected: click Connect first")
            .is_none(),
        "the message went with what it was about"
    );
    drop(listener);
}

#[test]
fn the_encoding_in_the_send_group_is_the_same_setting_and_decides_what_is_sent() {
    let (mut harness, mut peer) = connected_client(Form::default());
    let pickers: Vec<_> = harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .map(|n| n.rect().top())
        .collect();
    assert_eq!(pickers.len(), 2, "in Receive and in Send");
    // The lower one is the Send group's.
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .unwrap()
        .scroll_to_me();
    harness.run();
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .unwrap()
        .click();
    harness.run();
    harness.get_by_role_and_label(Role::Button, "GBK").click();
    harness.run();
    assert_eq!(harness.state().tab().form.encoding, TextEncoding::GBK);
    let shown = harness
        .get_all_by_role_and_label(Role::ComboBox, "Encoding")
        .filter(|n| n.value().as_deref() == Some("GBK"))
        .count();
    assert_eq!(shown, 2, "both pickers show the one setting");
    type_into(&mut harness, Role::MultilineTextInput, None, "你好");
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 4), [0xC4, 0xE3, 0xBA, 0xC3]);
}

#[test]
fn a_bad_address_is_marked_as_it_is_typed_in_readable_text() {
    let mut harness = harness(Form {
        remote_ip: String::new(),
        remote_port: String::new(),
        ..Form::default()
    });
    type_into(
        &mut harness,
        Role::TextInput,
        Some("Remote IP"),
        "300.1.1.1",
    );
    type_into(&mut harness, Role::TextInput, Some("Remote port"), "70000");
    // No Connect clicked. One line: the first message, and how many more (all on hover).
    let message = harness.get_by_label(
        "Remote IP: 300.1.1.1 is not an IP address: 300 is more than 255 (and 1 more)",
    );
    // Body text (a line 15 px high here), not the small style (12 px).
    assert!(
        message.rect().height() >= 14.5,
        "in body text: {}",
        message.rect().height()
    );
    // Fixed, the message goes and the next one shows.
    harness.state_mut().tab_mut().form.remote_ip = "10.1.1.1".into();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("is not an IP address")
            .is_none()
    );
    harness.get_by_label("Remote port: 70000 is not a port: ports go from 0 to 65535");
}

#[test]
fn typing_an_address_moves_nothing_below_it_at_1024_by_640() {
    let mut harness = small(Form {
        remote_ip: String::new(),
        ..Form::default()
    });
    harness.run();
    let connect = harness.get_by_label("Connect").rect();
    let mut typed = String::new();
    for c in "127.0.0.3".chars() {
        typed.push(c);
        harness
            .state_mut()
            .tab_mut()
            .form
            .remote_ip
            .clone_from(&typed);
        harness.run();
        let now = harness.get_by_label("Connect").rect();
        assert!(
            (now.top() - connect.top()).abs() < 0.5,
            "with {typed:?} typed Connect moved from {connect:?} to {now:?}"
        );
    }
}

fn small(form: Form) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1024.0, 640.0])
        .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form))
}

#[test]
fn cyclic_send_and_send_file_sit_by_the_send_button_at_1024_by_640() {
    let mut harness = small(Form::default());
    harness.run();
    let send = harness.get_by_role_and_label(Role::Button, "Send").rect();
    for label in ["Start cyclic", "Send file…"] {
        let rect = harness.get_by_label(label).rect();
        assert!(
            rect.bottom() <= 640.0 && rect.left() >= send.left() - 900.0,
            "{label} is on screen without scrolling: {rect:?}"
        );
        assert!(
            (rect.top() - send.bottom()).abs() < 120.0,
            "{label} is by the Send button ({send:?}): {rect:?}"
        );
    }
}

#[test]
fn hex_switched_to_text_and_back_sends_the_same_six_bytes() {
    let (mut harness, mut peer) = connected_client(Form {
        tx_mode: InputMode::Hex,
        send_text: "01 03 00 00 00 01".into(),
        ..Form::default()
    });
    harness.get_by_label("Send text").scroll_to_me();
    harness.run();
    harness.get_by_label("Send text").click();
    harness.run();
    let form = &harness.state().tab().form;
    // Not text: shown with escapes, and the box says so.
    assert_eq!(form.tx_mode, InputMode::Escapes);
    assert_eq!(form.send_text, "\\x01\\x03\\0\\0\\0\\x01");
    harness.get_by_label_contains("Not all of it is text");
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 6), [1, 3, 0, 0, 0, 1]);
    harness.get_by_label("Send hex").click();
    harness.run();
    assert_eq!(harness.state().tab().form.send_text, "01 03 00 00 00 01");
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 6), [1, 3, 0, 0, 0, 1]);
}

#[test]
fn a_refused_conversion_leaves_the_mode_and_the_fixed_box_goes_as_hex() {
    let (mut harness, mut peer) = connected_client(Form {
        tx_mode: InputMode::Hex,
        send_text: "FF 00 0x41,zz".into(),
        ..Form::default()
    });
    harness.get_by_label("Send text").scroll_to_me();
    harness.run();
    harness.get_by_label("Send text").click();
    harness.run();
    harness.get_by_label_contains("Not converted (");
    let form = &harness.state().tab().form;
    assert_eq!(
        (form.tx_mode, form.send_text.as_str()),
        (InputMode::Hex, "FF 00 0x41,zz"),
        "refused: the box stays hex"
    );
    harness.state_mut().tab_mut().form.send_text = "FF 00 0x41".into();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Enter);
    harness.run();
    assert_eq!(read_within(&mut peer, 3), [0xFF, 0x00, 0x41]);
    assert!(reads_nothing(&mut peer), "3 bytes, not 10 characters");

    // The same from Escapes to Hex.
    harness.get_by_label("Escapes").click();
    harness.run();
    harness.state_mut().tab_mut().form.send_text = "\\xZZ".into();
    harness.run();
    harness.get_by_label("Send hex").click();
    harness.run();
    let form = &harness.state().tab().form;
    assert_eq!(
        (form.tx_mode, form.send_text.as_str()),
        (InputMode::Escapes, "\\xZZ")
    );
}

#[test]
fn text_typed_in_the_wrong_mode_switches_only_when_asked() {
    let (mut harness, mut peer) = connected_client(Form {
        tx_mode: InputMode::Hex,
        send_text: "hello".into(),
        ..Form::default()
    });
    harness.get_by_label("Send text").scroll_to_me();
    harness.run();
    harness.get_by_label("Send text").click();
    harness.run();
    assert_eq!(harness.state().tab().form.tx_mode, InputMode::Hex);
    harness.get_by_label("Switch anyway").click();
    harness.run();
    let form = &harness.state().tab().form;
    assert_eq!(
        (form.tx_mode, form.send_text.as_str()),
        (InputMode::Text, "hello")
    );
    assert!(harness.query_by_label("Switch anyway").is_none());
    click_send(&mut harness);
    assert_eq!(read_within(&mut peer, 5), b"hello");
}

#[test]
fn the_quick_command_editor_keeps_save_in_place_and_previews_the_bytes() {
    use sockscope::codec::payload::SendSpec;
    use sockscope::gui::state::QuickCommand;
    let mut harness = harness(Form {
        quick: vec![QuickCommand {
            name: "read".into(),
            text: "01 03 00 00 00 01".into(),
            spec: SendSpec {
                mode: sockscope::codec::payload::InputMode::Hex,
                ..SendSpec::default()
            },
            delay_ms: 0,
            fields: None,
        }],
        ..Form::default()
    });
    harness.get_by_label("read").click_secondary();
    harness.run();
    harness.get_by_label("Edit…").click();
    harness.run();
    let save_top = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.get_by_role_and_label(Role::Button, "Save").rect().top()
    };
    let before = save_top(&harness);
    harness.get_by_label("6 bytes: 01 03 00 00 00 01");
    // A two-byte checksum adds its byte order and range rows.
    // The editor's picker (the Send group has one too): the one nearest above Save.
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Checksum")
        .filter(|n| n.rect().top() < before)
        .max_by(|a, b| a.rect().top().total_cmp(&b.rect().top()))
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("CRC-16/MODBUS").click();
    harness.run();
    assert!(
        (save_top(&harness) - before).abs() < 0.5,
        "Save moved from {before} to {}",
        save_top(&harness)
    );
    harness.get_by_label("8 bytes: 01 03 00 00 00 01 84 0A");
}

#[test]
fn a_quick_commands_delay_takes_its_unit_as_typed() {
    use sockscope::codec::payload::SendSpec;
    use sockscope::gui::state::QuickCommand;
    let mut harness = harness(Form {
        quick: vec![QuickCommand {
            name: "read".into(),
            text: "01 03 00 00 00 01".into(),
            spec: SendSpec::default(),
            delay_ms: 0,
            fields: None,
        }],
        ..Form::default()
    });
    // '1.5 s' is 1500 ms, '200 ms' 200 (to the plain number parser both were no number, and
    // the delay stayed 0: a sequence flooded the device).
    for (typed, ms) in [
        ("1.5 s", 1500),
        ("200 ms", 200),
        ("2m", 120_000),
        ("50", 50),
    ] {
        harness.get_by_label("read").click_secondary();
        harness.run();
        harness.get_by_label("Edit…").click();
        harness.run();
        harness
            .get_by_role_and_label(Role::TextInput, "Delay after, in a sequence")
            .focus();
        harness.run();
        harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
        harness.run();
        harness
            .get_by_role_and_label(Role::TextInput, "Delay after, in a sequence")
            .type_text(typed);
        harness.run();
        harness.key_press(Key::Enter);
        harness.run();
        harness.get_by_role_and_label(Role::Button, "Save").click();
        harness.run();
        assert_eq!(harness.state().tab().form.quick[0].delay_ms, ms, "{typed}");
    }
    // What cannot be read is said beside the field, not taken back without a word.
    harness.get_by_label("read").click_secondary();
    harness.run();
    harness.get_by_label("Edit…").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::TextInput, "Delay after, in a sequence")
        .focus();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, "Delay after, in a sequence")
        .type_text("abc");
    harness.run();
    harness.get_by_label_contains("'abc' is not a duration");
}

#[test]
fn an_empty_send_box_cannot_become_a_quick_command() {
    let mut harness = harness(Form {
        send_text: String::new(),
        ..Form::default()
    });
    harness.run();
    assert!(
        harness
            .get_by_label("+ Quick command")
            .accesskit_node()
            .is_disabled()
    );
    type_into(&mut harness, Role::MultilineTextInput, None, "AT+CSQ");
    assert!(
        !harness
            .get_by_label("+ Quick command")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn a_long_send_box_scrolls_inside_its_panel_and_leaves_the_log_in_view() {
    // 200 KB of hex pasted into the box: the box scrolls; it drew over the log before, and
    // the quick-command row above it was pushed to the top of the window.
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
    let text = sockscope::codec::hex::format(&bytes);
    let mut harness = harness(Form {
        tx_mode: sockscope::codec::payload::InputMode::Hex,
        send_text: text,
        ..Form::default()
    });
    harness.run();
    let quick = harness.get_by_label("+ Quick command").rect();
    let window = harness.ctx.content_rect();
    assert!(
        quick.top() > window.height() * 0.6,
        "the row above the send box is at {quick:?} in {window:?}"
    );
    // The preview still says every byte.
    harness.get_by_label_contains("200000 bytes:");
}
