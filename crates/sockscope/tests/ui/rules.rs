//! The Rules and Scripts windows on the real app: a rule typed into the editor answers a real
//! client and is kept in the tab's profile; the inline test names the rule and its reply; a
//! wrong rule is marked; a script runs against a real device simulator, step by step.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::state::Form;
use sockscope::rules::{Cond, Match};

use super::{harness, read_within, run_until, server_with_clients, type_into};

#[test]
fn a_rule_typed_into_the_editor_answers_a_real_client_and_is_kept_in_the_profile() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "PING");
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        Some("Then"),
        "PONG {{rx.len}}",
    );
    // The rule reaches the running session as it is typed: the client is answered.
    eprintln!(
        "rules as typed: {:?}",
        harness.state().tab().form.automation.rules
    );
    clients[0].write_all(b"PING").unwrap();
    assert_eq!(read_within(&mut clients[0], 6), b"PONG 4");
    let rule = &harness.state().tab().form.automation.rules[0];
    assert_eq!(rule.when, Cond::Text(Match::Exact, "PING".into()));
    assert_eq!(rule.reply.as_ref().unwrap().payload, "PONG {{rx.len}}");
    assert!(harness.state().tab().form.automation.enabled);
    // The inline test: which rule, and the exact reply.
    type_into(&mut harness, Role::TextInput, Some("Test with"), "PING");
    harness.get_by_label("“rule 1” fires");
    harness.get_by_label_contains("reply: “PONG 4”");
    // Hits are counted beside the rule.
    run_until(&mut harness, "the hit", |app| {
        let id = app.tab().form.automation.rules[0].id;
        app.tab()
            .session
            .capture()
            .rule_hits
            .get(&id)
            .is_some_and(|h| h.count == 1)
    });
    harness.get_by_label_contains("1 ×");
}

#[test]
fn a_wrong_rule_is_marked_with_its_mistake_and_nothing_is_sent_by_it() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    harness
        .get_all_by_role_and_label(Role::ComboBox, "When")
        .next()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("bytes (hex, ?? = any byte)").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "01 0G");
    type_into(&mut harness, Role::MultilineTextInput, Some("Then"), "bad");
    harness.get_by_label("⚠ rule 1");
    harness.get_by_label_contains("'G' at column 5 is not a hex digit");
    clients[0].write_all(&[1, 0x0F]).unwrap();
    assert!(
        super::reads_nothing(&mut clients[0]),
        "a rule that does not compile sends nothing"
    );
}

/// The shipped AT modem, served in-process.
fn modem() -> (sockscope::session::Session, SocketAddr) {
    let path = format!(
        "{}/../../examples/profiles/at-modem.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut form = sockscope::profile::load(std::path::Path::new(&path))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    form.server_port = "0".into();
    let mut session = sockscope::session::Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).unwrap();
    let addr = session.wait_listening(Duration::from_secs(5));
    (session, addr.unwrap())
}

#[test]
fn a_script_runs_against_the_modem_step_by_step_and_a_failure_is_shown_in_red() {
    let (_modem, addr) = modem();
    let mut harness = harness(Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        frame_mode: sockscope::profile::FrameMode::Delimiter,
        frame_delimiter: "\\r\\n".into(),
        ..Form::default()
    });
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    harness.run();
    // A new script sends AT and expects OK: the modem passes it.
    harness.get_by_label("+ Script").click();
    harness.run();
    harness.get_by_label("Run").click();
    run_until(&mut harness, "the verdict", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.passed.is_some())
    });
    harness.get_by_label("“script 1” passed");
    assert_eq!(harness.query_all_by_label("√").count(), 2);
    // Expect something the modem never says: the step fails with what did arrive.
    let script = &mut harness.state_mut().tab_mut().form.automation.scripts[0];
    let sockscope::rules::script::Step::Expect { when, timeout_ms } = &mut script.steps[1] else {
        panic!("the second step expects");
    };
    *when = Cond::Text(Match::Exact, "READY".into());
    *timeout_ms = 200;
    harness.run();
    harness.get_by_label("Run").click();
    run_until(&mut harness, "the failure", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.passed == Some(false))
    });
    harness.get_by_label("“script 1” failed");
    assert_eq!(
        harness.query_all_by_label("√").count(),
        1,
        "the send passed, the expect did not"
    );
    harness.get_by_label_contains("no matching message within 200 ms — got “OK”");
}

#[test]
fn try_on_the_log_counts_what_would_have_fired_and_a_fixed_reply_shows_its_bytes() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    for message in [&b"A"[..], b"B", b"A"] {
        super::send_and_wait(&mut harness, &mut clients[0], message);
    }
    run_until(&mut harness, "three messages", |app| {
        app.tab().session.capture().counters.rx_messages == 3
    });
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "A");
    type_into(&mut harness, Role::MultilineTextInput, Some("Then"), "OK");
    // The preview, as the send box's: the exact bytes.
    harness.get_by_label("wire: 4F 4B");
    harness.get_by_label("Try on the log").click();
    harness.run();
    harness.get_by_label("Of 3 received messages: rule 1 × 2, 1 fired nothing");
    assert!(
        super::reads_nothing(&mut clients[0]),
        "trying sends nothing"
    );
}

/// A shipped simulator's form, served on an ephemeral loopback port.
fn shipped(name: &str) -> Form {
    let path = format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    sockscope::profile::load(std::path::Path::new(&path))
        .unwrap()
        .profile
        .session
}

/// A Modbus TCP request.
fn modbus(transaction: u16, pdu: &[u8]) -> Vec<u8> {
    let mut frame = transaction.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    frame.push(1);
    frame.extend_from_slice(pdu);
    frame
}

fn modbus_reply(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut head = read_within(stream, 6);
    let rest = u16::from_be_bytes([head[4], head[5]]) as usize;
    head.extend(read_within(stream, rest));
    head
}

/// Every text field's text, as a reader of the window gets it.
fn field_texts(harness: &egui_kittest::Harness<'static, sockscope::gui::App>) -> Vec<String> {
    harness
        .get_all_by_role(Role::TextInput)
        .chain(harness.get_all_by_role(Role::MultilineTextInput))
        .filter_map(|n| n.value())
        .collect()
}

fn pick_kind(harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>, kind: &str) {
    harness
        .get_all_by_role_and_label(Role::ComboBox, "When")
        .next()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label(kind).click();
    harness.run();
}

#[test]
fn deleting_a_rule_shows_the_next_rules_own_condition_and_a_keystroke_keeps_it() {
    let form = shipped("modbus-slave.ron");
    let next = form.automation.rules[1].clone();
    let (mut harness, mut clients) = server_with_clients(form, 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    // The first rule ("03: bad quantity") is selected: delete it.
    harness.get_by_label("Delete").click();
    harness.run();
    let rules = &harness.state().tab().form.automation.rules;
    assert_eq!(rules[0].name, next.name);
    assert_eq!(rules[0].when, next.when, "nothing changed by itself");
    // No field shows the deleted rule's condition (its quantity range 1..125).
    let texts = field_texts(&harness);
    assert!(
        !texts.iter().any(|t| t.contains("125")),
        "the deleted rule's condition is still shown: {texts:?}"
    );
    // A keystroke in the When field keeps the rule's own condition.
    let expr = "rx.u16be@8 + rx.u16be@10 > len(table.holding) / 2";
    let field = harness
        .get_all_by_label("When")
        .find(|n| n.value().is_some_and(|v| v.contains("table.holding")))
        .expect("the next rule's expression is in a When field");
    field.focus();
    harness.run();
    harness.key_press(Key::End);
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness.get_by(|n| n.is_focused()).type_text(" ");
    harness.run();
    let squeeze = |c: &sockscope::rules::Cond| ron::to_string(c).unwrap().replace(' ', "");
    assert_eq!(
        squeeze(&harness.state().tab().form.automation.rules[0].when),
        squeeze(&next.when)
    );
    // The session answers by it: an out-of-range read gets exception 02.
    clients[0]
        .write_all(&modbus(7, &[0x03, 0x00, 0x09, 0x00, 0x05]))
        .unwrap();
    assert_eq!(
        modbus_reply(&mut clients[0]),
        [0, 7, 0, 0, 0, 3, 1, 0x83, 0x02]
    );
    let _ = expr;
}

#[test]
fn the_one_of_field_keeps_commas_and_spaces_as_typed() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    pick_kind(&mut harness, "integer at an offset");
    harness
        .get_all_by_role(Role::ComboBox)
        .find(|n| n.value().as_deref() == Some("="))
        .unwrap()
        .click();
    harness.run();
    let before = field_texts(&harness).len();
    harness.get_by_label("∈").click();
    harness.run();
    assert_eq!(
        field_texts(&harness).len(),
        before + 1,
        "a field for the set"
    );
    type_into(&mut harness, Role::TextInput, Some("When"), "1, 2, 3");
    harness.run();
    assert!(
        field_texts(&harness).iter().any(|t| t == "1, 2, 3"),
        "{:?}",
        field_texts(&harness)
    );
    let Cond::Int(_, _, sockscope::rules::Compare::In(set)) =
        &harness.state().tab().form.automation.rules[0].when
    else {
        panic!("an integer condition")
    };
    assert_eq!(set, &[1, 2, 3]);
}

#[test]
fn changing_the_condition_kind_keeps_what_was_typed() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "AT");
    pick_kind(&mut harness, "bytes (hex, ?? = any byte)");
    assert_eq!(
        harness.state().tab().form.automation.rules[0].when,
        Cond::Bytes(Match::Exact, "41 54".into())
    );
    pick_kind(&mut harness, "text");
    assert_eq!(
        harness.state().tab().form.automation.rules[0].when,
        Cond::Text(Match::Exact, "AT".into())
    );
}

#[test]
fn a_rule_with_a_mistake_leaves_the_others_testable_and_the_window_says_what_runs() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "A");
    type_into(&mut harness, Role::MultilineTextInput, Some("Then"), "OK");
    harness.get_by_label("+ Rule").click();
    harness.run();
    pick_kind(&mut harness, "bytes (hex, ?? = any byte)");
    type_into(&mut harness, Role::TextInput, Some("When"), "0G");
    type_into(&mut harness, Role::TextInput, Some("Test with"), "A");
    harness.get_by_label("“rule 1” fires");
    harness.get_by_label_contains("reply: “OK”");
    harness.get_by_label_contains("keeps the last valid rules");
    // And so it does.
    clients[0].write_all(b"A").unwrap();
    assert_eq!(read_within(&mut clients[0], 2), b"OK");
}

#[test]
fn a_hex_reply_is_tested_in_hex() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "x");
    // The reply's mode (the test's own Text/Hex, in its panel, come first).
    harness.get_all_by_label("Hex").last().unwrap().click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        Some("Then"),
        "12 34 00",
    );
    type_into(&mut harness, Role::TextInput, Some("Test with"), "x");
    harness.get_by_label_contains("reply: 12 34 00");
}

#[test]
fn the_inline_test_reads_the_live_tables() {
    let (mut harness, mut clients) = server_with_clients(shipped("modbus-slave.ron"), 1);
    let write = modbus(1, &[0x06, 0x00, 0x09, 0xBE, 0xEF]);
    clients[0].write_all(&write).unwrap();
    assert_eq!(modbus_reply(&mut clients[0]), write);
    run_until(&mut harness, "the live table", |app| {
        app.tab()
            .session
            .capture()
            .rule_tables
            .get("holding")
            .is_some_and(|t| t[18..20] == [0xBE, 0xEF])
    });
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    type_into(
        &mut harness,
        Role::TextInput,
        Some("Test with"),
        "00 02 00 00 00 06 01 03 00 09 00 01",
    );
    harness.get_by_label_contains("reply: 00 02 00 00 00 05 01 03 02 BE EF");
}

#[test]
fn in_chinese_no_list_of_the_rule_editor_shows_english() {
    let mut harness = harness(Form::default());
    harness.state_mut().set_lang(sockscope::i18n::Lang::Zh);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ 规则").click();
    harness.run();
    let values: Vec<String> = harness
        .get_all_by_role(Role::ComboBox)
        .filter_map(|n| n.value())
        .collect();
    assert!(!values.iter().any(|v| v == "None"), "{values:?}");
    assert!(values.iter().any(|v| v == "无"), "{values:?}");
    harness.state_mut().set_lang(sockscope::i18n::Lang::En);
}
