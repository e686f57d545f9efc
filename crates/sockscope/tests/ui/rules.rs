//! The Rules and Scripts windows on the real app: a rule typed into the editor answers a real
//! client and is kept in the tab's profile; the inline test names the rule and its reply; a
//! wrong rule is marked; a script runs against a real device simulator, step by step.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::{NodeT as _, Queryable as _};
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
    // Beside the field, and in the line at the top of the editor.
    assert_eq!(
        harness
            .query_all_by_label_contains("'G' at column 5 is not a hex digit")
            .count(),
        2
    );
    harness.get_by_label_contains("⚠ Rule “rule 1”: ");
    clients[0].write_all(&[1, 0x0F]).unwrap();
    assert!(
        super::reads_nothing(&mut clients[0]),
        "a rule that does not compile sends nothing"
    );
}

/// The shipped AT modem, served in-process.
fn modem() -> (sockscope::session::Session, SocketAddr) {
    serve_shipped("at-modem.ron")
}

/// A shipped simulator, served in-process.
fn serve_shipped(name: &str) -> (sockscope::session::Session, SocketAddr) {
    let path = format!(
        "{}/../../examples/profiles/{name}",
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

/// Try on the log decodes with the tab's protocol, as the running rules do: the shipped JT/T
/// 808 platform's rules read `f.msg_id`, and it said "fired nothing" of frames they answer.
#[test]
fn try_on_the_log_reads_fields_with_the_tabs_protocol() {
    let mut harness = harness(shipped("jt808-platform.ron"));
    // A terminal's heartbeat (0x0002, serial 5, XOR 0x03) received.
    let heartbeat =
        sockscope_core::codec::hex::parse("7E 00 02 00 00 01 39 12 34 43 29 00 05 03 7E").unwrap();
    let checked = heartbeat[1..heartbeat.len() - 2]
        .iter()
        .fold(0u8, |x, b| x ^ b);
    let mut frame = heartbeat[..heartbeat.len() - 2].to_vec();
    frame.extend([checked, 0x7E]);
    harness.state().tab().session.capture().log.push_data(
        std::time::SystemTime::now(),
        sockscope::engine::Direction::Rx,
        None,
        "127.0.0.1:8808".parse().unwrap(),
        &frame,
    );
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("Try on the log").click();
    harness.run();
    let said = harness
        .get_by_label_contains("Of 1 received messages")
        .accesskit_node()
        .label()
        .or_else(|| {
            harness
                .get_by_label_contains("Of 1 received messages")
                .accesskit_node()
                .value()
        })
        .unwrap_or_default();
    assert!(
        said.contains("0x0002 heartbeat, 0x0003 logout, 0x0200 location → 0x8001 × 1"),
        "{said}"
    );
}

/// A reply built by fields (the shipped JT/T 808 platform's, a check script's Send steps) shows
/// its `field = expression` lines in the Rules and Scripts windows; it showed an empty Text
/// payload that is not used, and typing one there changed nothing that runs.
#[test]
fn a_reply_built_by_fields_shows_its_fields_in_the_rules_and_scripts_windows() {
    let values = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| -> Vec<String> {
        h.query_all_by_role(Role::MultilineTextInput)
            .chain(h.query_all_by_role(Role::TextInput))
            .filter_map(|n| n.accesskit_node().value())
            .collect()
    };
    let mut rules = harness(shipped("jt808-platform.ron"));
    rules.key_press_modifiers(Modifiers::COMMAND, Key::R);
    rules.run();
    let shown = values(&rules);
    assert!(
        shown
            .iter()
            .any(|v| v
                .starts_with("msg_id = 0x8001\nserial = counter\nbody.reply_serial = f.serial")),
        "{shown:?}"
    );
    rules.get_by_label_contains("built by these fields");
    // A line that is not `field = expression` is said, and what runs stays as it was.
    let before = rules.state().tab().form.automation.rules[0].reply.clone();
    let fields = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.get_all_by_role(Role::MultilineTextInput)
            .find(|n| {
                n.accesskit_node()
                    .value()
                    .is_some_and(|v| v.starts_with("msg_id = 0x8001"))
            })
            .unwrap()
            .accesskit_node()
            .id()
    };
    let id = fields(&rules);
    rules.get_by(|n| n.id() == id).focus();
    rules.run();
    rules.key_press_modifiers(Modifiers::COMMAND, Key::End);
    rules.get_by(|n| n.id() == id).type_text("\nbody.result");
    rules.run();
    rules.get_by_label_contains("'body.result' is not 'field = expression'");
    assert_eq!(rules.state().tab().form.automation.rules[0].reply, before);
    // The check script's Send steps.
    let mut scripts = harness(shipped("check-jt808-platform.ron"));
    scripts.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    scripts.run();
    let shown = values(&scripts);
    assert!(
        shown
            .iter()
            .any(|v| v.contains("msg_id = 0x0102\nserial = 2\nbody.token = var.token")),
        "{shown:?}"
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
    harness.get_by_label_contains("the running session answers by this rule's last valid version");
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

/// A client tab connected to `addr`, lines cut at LF.
fn client_tab(addr: SocketAddr) -> egui_kittest::Harness<'static, sockscope::gui::App> {
    let mut harness = harness(Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        frame_mode: sockscope::profile::FrameMode::Delimiter,
        frame_delimiter: "\\n".into(),
        ..Form::default()
    });
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    harness
}

fn is_enabled(harness: &egui_kittest::Harness<'static, sockscope::gui::App>, label: &str) -> bool {
    use egui_kittest::kittest::NodeT as _;
    !harness
        .get_by_role_and_label(Role::Button, label)
        .accesskit_node()
        .is_disabled()
}

fn line_step(text: &str) -> sockscope::rules::script::Step {
    sockscope::rules::script::Step::Send(sockscope::rules::ReplySpec {
        payload: text.into(),
        line_ending: sockscope::codec::payload::LineEnding::Lf,
        ..sockscope::rules::ReplySpec::default()
    })
}

fn expect_step(text: &str, timeout_ms: u64) -> sockscope::rules::script::Step {
    sockscope::rules::script::Step::Expect {
        when: Cond::Text(Match::Exact, text.into()),
        timeout_ms,
    }
}

#[test]
fn a_script_whose_device_closes_fails_at_once_and_runs_again_after_reconnecting() {
    use sockscope::rules::script::{Script, Step};
    let (_server, addr) = serve_shipped("heartbeat-echo.ron");
    let mut harness = client_tab(addr);
    harness.state_mut().tab_mut().form.automation.scripts = vec![Script {
        name: "quit, then ping".into(),
        steps: vec![
            line_step("QUIT"),
            expect_step("BYE", 1000),
            Step::Wait(200),
            line_step("PING"),
            expect_step("PONG", 1000),
        ],
    }];
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
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
    harness.get_by_label("“quit, then ping” failed");
    // In the step's line (and in the log).
    assert!(
        harness
            .query_all_by_label_contains("the device closed the connection")
            .count()
            >= 1
    );
    assert!(!is_enabled(&harness, "Stop"), "nothing left to stop");
    // Connect again (the Scripts window covers the button: by its accessibility action): Run
    // works.
    harness.get_by_label("Connect").click_accesskit();
    run_until(&mut harness, "connected again", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    assert!(is_enabled(&harness, "Run"));
    harness.get_by_label("Run").click();
    run_until(&mut harness, "a second run", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| !r.results.is_empty() && r.results[0].ok)
    });
}

#[test]
fn stop_ends_a_run_and_step_runs_one_step_at_a_time() {
    use sockscope::rules::script::Script;
    let (_server, addr) = serve_shipped("heartbeat-echo.ron");
    let mut harness = client_tab(addr);
    harness.state_mut().tab_mut().form.automation.scripts = vec![Script {
        name: "ping twice".into(),
        steps: vec![
            line_step("PING"),
            expect_step("PONG", 1000),
            line_step("PING"),
            expect_step("never", 60_000),
        ],
    }];
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    harness.run();
    // Step: the first step only, then it waits.
    harness.get_by_label("Step").click();
    run_until(&mut harness, "step 1", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.results.len() == 1)
    });
    harness.get_by_label("“ping twice” paused before step 2: Step runs it");
    std::thread::sleep(Duration::from_millis(100));
    harness.run();
    assert_eq!(
        harness
            .state()
            .tab()
            .session
            .capture()
            .script
            .as_ref()
            .unwrap()
            .results
            .len(),
        1,
        "it waits for Step"
    );
    harness.get_by_label("Step").click();
    run_until(&mut harness, "step 2", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.results.len() == 2 && r.results[1].ok)
    });
    harness.get_by_label("Step").click();
    harness.get_by_label("Step").click();
    // Stop ends the run waiting in its last Expect.
    harness.get_by_label("Stop").click();
    run_until(&mut harness, "stopped", |app| {
        app.tab()
            .session
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.passed == Some(false))
    });
    assert!(
        harness
            .query_all_by_label_contains("stopped before this step finished")
            .count()
            >= 1
    );
    assert!(is_enabled(&harness, "Run"));
}

#[test]
fn the_step_list_adds_moves_and_deletes_steps() {
    use sockscope::rules::script::Step;
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    harness.run();
    harness.get_by_label("+ Script").click();
    harness.run();
    harness.get_by_label("+ Step").click();
    harness.run();
    let steps = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.state().tab().form.automation.scripts[0].steps.clone()
    };
    assert_eq!(steps(&harness).len(), 3);
    assert!(
        matches!(steps(&harness)[2], Step::Send(_)),
        "after an Expect, a Send"
    );
    // The third step up: it is second now.
    harness.get_all_by_label("↑").nth(2).unwrap().click();
    harness.run();
    assert!(matches!(steps(&harness)[1], Step::Send(_)));
    assert!(matches!(steps(&harness)[2], Step::Expect { .. }));
    // Its kind: a Wait.
    harness
        .get_all_by_role(Role::ComboBox)
        .filter(|n| n.value().as_deref() == Some("Send"))
        .nth(1)
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("Wait").click();
    harness.run();
    assert_eq!(steps(&harness)[1], Step::Wait(100));
    // Delete the first step.
    harness.get_all_by_label("Remove").next().unwrap().click();
    harness.run();
    assert_eq!(steps(&harness).len(), 2);
    assert_eq!(steps(&harness)[0], Step::Wait(100));
    // Delete the script: Undo brings it back.
    harness.get_by_label("Delete").click();
    harness.run();
    assert!(harness.state().tab().form.automation.scripts.is_empty());
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(steps(&harness).len(), 2);
}

#[test]
fn a_replys_checksum_and_length_prefix_are_in_its_wire_bytes() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    harness.get_all_by_label("Hex").last().unwrap().click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        Some("Then"),
        "01 03 00 00 00 01",
    );
    // The reply's (the Send settings' own comes first, in the settings column).
    harness
        .get_all_by_role_and_label(Role::ComboBox, "Checksum")
        .last()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label_contains("CRC-16/MODBUS").click();
    harness.run();
    harness.get_by_label("wire: 01 03 00 00 00 01 84 0A");
    harness
        .get_all_by_label("Length prefix")
        .last()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("wire: 00 08 01 03 00 00 00 01 84 0A");
    harness.get_by_label_contains("A 2-byte length prefix goes before the reply");
}

#[test]
fn a_length_prefix_a_shipped_profile_sets_is_shown() {
    let mut harness = harness(shipped("json-device.ron"));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("read temperature").click();
    harness.run();
    harness.get_by_label_contains("A 4-byte length prefix goes before the reply");
}

fn two_rules() -> Form {
    let reply = |text: &str| {
        Some(sockscope::rules::ReplySpec {
            payload: text.into(),
            ..sockscope::rules::ReplySpec::default()
        })
    };
    let mut form = Form::default();
    form.automation.enabled = true;
    form.automation.rules = vec![
        sockscope::rules::Rule {
            name: "A".into(),
            when: Cond::Text(Match::Exact, "A".into()),
            reply: reply("1"),
            ..sockscope::rules::Rule::default()
        },
        sockscope::rules::Rule {
            name: "B".into(),
            when: Cond::Text(Match::Exact, "B".into()),
            reply: reply("2"),
            ..sockscope::rules::Rule::default()
        },
    ];
    form
}

#[test]
fn a_count_stays_with_its_rule_through_delete_and_edit_and_the_log_names_the_rule() {
    let (mut harness, mut clients) = server_with_clients(two_rules(), 1);
    for _ in 0..2 {
        clients[0].write_all(b"B").unwrap();
        assert_eq!(read_within(&mut clients[0], 1), b"2");
    }
    run_until(&mut harness, "two hits", |app| {
        let id = app.tab().form.automation.rules[1].id;
        app.tab()
            .session
            .capture()
            .rule_hits
            .get(&id)
            .is_some_and(|h| h.count == 2)
    });
    // The log says which rule answered.
    assert!(
        super::log_texts(&harness)
            .iter()
            .any(|t| t == "Rule “B” answered (1 B)"),
        "{:?}",
        super::log_texts(&harness)
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    // Delete A: B's count moves with B.
    harness.get_by_label("Delete").click();
    harness.run();
    harness.get_by_label_contains("2 ×");
    // Rename B: the count goes on from 2.
    type_into(&mut harness, Role::TextInput, Some("Name"), " renamed");
    clients[0].write_all(b"B").unwrap();
    assert_eq!(read_within(&mut clients[0], 1), b"2");
    run_until(&mut harness, "the third hit", |app| {
        let id = app.tab().form.automation.rules[0].id;
        app.tab()
            .session
            .capture()
            .rule_hits
            .get(&id)
            .is_some_and(|h| h.count == 3)
    });
    harness.get_by_label_contains("3 ×");
    // Undo brings A back, its fields as they were.
    harness.get_by_label("Undo").click();
    harness.run();
    let rules = &harness.state().tab().form.automation.rules;
    assert_eq!(rules[0], two_rules().automation.rules[0]);
    assert_eq!(rules.len(), 2);
    // Reset counts.
    harness.get_by_label("Reset counts").click();
    harness.run();
    assert!(harness.query_by_label_contains("3 ×").is_none());
}

#[test]
fn editing_rules_keeps_a_written_register_and_reset_starts_again() {
    let (mut harness, mut clients) = server_with_clients(shipped("modbus-slave.ron"), 1);
    let write = modbus(1, &[0x06, 0x00, 0x09, 0xBE, 0xEF]);
    clients[0].write_all(&write).unwrap();
    assert_eq!(modbus_reply(&mut clients[0]), write);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Name"), "!");
    let read = modbus(2, &[0x03, 0x00, 0x09, 0x00, 0x01]);
    clients[0].write_all(&read).unwrap();
    assert_eq!(
        modbus_reply(&mut clients[0]),
        [0, 2, 0, 0, 0, 5, 1, 3, 2, 0xBE, 0xEF],
        "an edit keeps what the master wrote"
    );
    harness.get_by_label("Reset tables and state").click();
    run_until(&mut harness, "the reset tables", |app| {
        app.tab()
            .session
            .capture()
            .rule_tables
            .get("holding")
            .is_some_and(|t| t[18..20] == [0, 100])
    });
    clients[0]
        .write_all(&modbus(3, &[0x03, 0x00, 0x09, 0x00, 0x01]))
        .unwrap();
    assert_eq!(
        modbus_reply(&mut clients[0]),
        [0, 3, 0, 0, 0, 5, 1, 3, 2, 0, 100]
    );
}

fn login_form() -> Form {
    let reply = |text: &str| {
        Some(sockscope::rules::ReplySpec {
            payload: text.into(),
            ..sockscope::rules::ReplySpec::default()
        })
    };
    let mut form = Form::default();
    form.automation.enabled = true;
    form.automation.rules = vec![
        sockscope::rules::Rule {
            name: "login".into(),
            when: Cond::Text(Match::Exact, "LOGIN".into()),
            reply: reply("WELCOME"),
            set_state: Some("IN".into()),
            close: false,
            ..sockscope::rules::Rule::default()
        },
        sockscope::rules::Rule {
            name: "read".into(),
            when: Cond::All(vec![
                Cond::State("IN".into()),
                Cond::Text(Match::Exact, "READ".into()),
            ]),
            reply: reply("42"),
            ..sockscope::rules::Rule::default()
        },
        sockscope::rules::Rule {
            name: "denied".into(),
            when: Cond::Text(Match::Exact, "READ".into()),
            reply: reply("LOGIN FIRST"),
            close: true,
            ..sockscope::rules::Rule::default()
        },
    ];
    form
}

#[test]
fn each_clients_state_is_shown_live_and_the_test_runs_in_a_chosen_state() {
    let (mut harness, mut clients) = server_with_clients(login_form(), 2);
    clients[0].write_all(b"LOGIN").unwrap();
    assert_eq!(read_within(&mut clients[0], 7), b"WELCOME");
    clients[1].write_all(b"READ").unwrap();
    assert_eq!(
        read_within(&mut clients[1], 11),
        b"LOGIN FIRST",
        "B did not log in"
    );
    let a = clients[0].local_addr().unwrap();
    run_until(&mut harness, "A's state", |app| {
        !app.tab().session.capture().rule_states.is_empty()
    });
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label(&format!("Now: {a} “IN”"));
    // The test: in the start state READ is denied (and the connection closed) …
    type_into(&mut harness, Role::TextInput, Some("Test with"), "READ");
    harness.get_by_label("“denied” fires");
    harness.get_by_label("  · then closes the connection");
    // … in A's state it reads.
    harness
        .get_by_role_and_label(Role::ComboBox, "in state")
        .click();
    harness.run();
    harness.get_by_label("“IN”").click();
    harness.run();
    harness.get_by_label("“read” fires");
    // LOGIN says what it does besides its reply.
    harness
        .get_by_role_and_label(Role::TextInput, "Test with")
        .focus();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness.get_by(|n| n.is_focused()).type_text("LOGIN");
    harness.run();
    harness.get_by_label("  · then state “IN”");
}

#[test]
fn a_table_is_made_by_name_and_read_by_a_reply() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    harness.get_by_label("Tables (0)").click();
    harness.run();
    type_into(
        &mut harness,
        Role::TextInput,
        Some("new table name"),
        "regs",
    );
    harness.get_by_label("+ Table").click();
    harness.run();
    assert_eq!(
        harness
            .state()
            .tab()
            .form
            .automation
            .tables
            .get("regs")
            .map(String::as_str),
        Some("00 00")
    );
    harness.get_by_label("rule 1").click();
    harness.run();
    harness.get_all_by_label("Hex").last().unwrap().click();
    harness.run();
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        Some("Then"),
        "{{table.regs}}",
    );
    harness.get_by_label("wire: 00 00");
    // A write: into the table, in the rule's own rows.
    // Below the editor's fold at this size: by its accessibility action.
    harness.get_by_label("+ Write").click_accesskit();
    harness.run();
    assert_eq!(
        harness.state().tab().form.automation.rules[0].write.len(),
        1
    );
    assert_eq!(
        harness.state().tab().form.automation.rules[0].write[0].table,
        "regs"
    );
}

#[test]
fn a_capture_without_a_regular_expression_is_refused_in_the_editor_once() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "T");
    type_into(
        &mut harness,
        Role::MultilineTextInput,
        Some("Then"),
        "{{cap.1}}",
    );
    harness.get_by_label("⚠ rule 1");
    // Once beside the field, once in the line at the top.
    assert_eq!(
        harness
            .query_all_by_label_contains("cap.1 reads a group of a regular expression")
            .count(),
        2
    );
    // A template mistake likewise.
    harness.get_all_by_label("Hex").last().unwrap().click();
    harness.run();
    type_into(&mut harness, Role::MultilineTextInput, Some("Then"), "0G");
    assert_eq!(
        harness
            .query_all_by_label_contains("is not a hex digit")
            .count(),
        2
    );
}

#[test]
fn the_modbus_slave_shows_the_same_bytes_of_a_request_and_its_reply() {
    let (mut harness, mut clients) = server_with_clients(shipped("modbus-slave.ron"), 1);
    clients[0]
        .write_all(&modbus(7, &[0x03, 0x00, 0x00, 0x00, 0x01]))
        .unwrap();
    assert_eq!(
        modbus_reply(&mut clients[0]),
        [0, 7, 0, 0, 0, 5, 1, 3, 2, 0, 10]
    );
    run_until(&mut harness, "the reply logged", |app| {
        app.tab().session.capture().counters.tx_messages == 1
    });
    harness.run();
    // Both rows start with the MBAP header: transaction 00 07.
    harness.get_by_label_contains("00 07 00 00 00 06 01 03 00 00 00 01");
    harness.get_by_label_contains("00 07 00 00 00 05 01 03 02 00 0A");
}

#[test]
fn the_condition_kinds_are_offered_in_two_columns() {
    let mut harness = harness(Form::default());
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
    let every = harness.get_by_label("every message").rect();
    let text = harness.get_by_label("text").rect();
    let not = harness.get_by_label("not").rect();
    assert!((text.top() - every.top()).abs() < 1.0, "side by side");
    assert!(
        not.bottom() - text.top() < 10.0 * text.height(),
        "eight rows at most"
    );
}

#[test]
fn masks_checksums_and_groups_are_rows_of_the_editor_not_typed_text() {
    let mut harness = harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("+ Rule").click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("When"), "AT");
    // Text AT becomes the mask row's value 41 54 under FF FF.
    pick_kind(&mut harness, "bytes under a mask");
    assert_eq!(
        harness.state().tab().form.automation.rules[0].when,
        Cond::Masked("41 54".into(), "FF FF".into())
    );
    // A group: the mask becomes its first member; one more condition, then a checksum.
    pick_kind(&mut harness, "all of");
    harness.get_by_label("+ Condition").click();
    harness.run();
    let Cond::All(list) = &harness.state().tab().form.automation.rules[0].when else {
        panic!("all of")
    };
    assert_eq!(list.len(), 2);
    assert!(matches!(list[0], Cond::Masked(..)));
    harness
        .get_all_by_role_and_label(Role::ComboBox, "When")
        .find(|n| n.value().as_deref() == Some("text"))
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("checksum at the end").click();
    harness.run();
    let Cond::All(list) = &harness.state().tab().form.automation.rules[0].when else {
        panic!("all of")
    };
    assert!(matches!(list[1], Cond::Checksum(_, true)), "{list:?}");
    // "is wrong": a frame whose checksum does not hold.
    harness.get_by_label("is wrong").click();
    harness.run();
    let Cond::All(list) = &harness.state().tab().form.automation.rules[0].when else {
        panic!("all of")
    };
    assert!(matches!(list[1], Cond::Checksum(_, false)), "{list:?}");
    // Not: around the whole group.
    harness
        .get_all_by_role_and_label(Role::ComboBox, "When")
        .next()
        .unwrap()
        .click();
    harness.run();
    harness.get_by_label("not").click();
    harness.run();
    assert!(matches!(
        harness.state().tab().form.automation.rules[0].when,
        Cond::Not(_)
    ));
}

fn hits_of(app: &sockscope::gui::App, index: usize) -> u64 {
    let id = app.tab().form.automation.rules[index].id;
    app.tab()
        .session
        .capture()
        .rule_hits
        .get(&id)
        .map_or(0, |h| h.count)
}

#[test]
fn rules_a_count_goes_on_after_delete_and_undo() {
    let (mut harness, mut clients) = server_with_clients(two_rules(), 1);
    for _ in 0..3 {
        clients[0].write_all(b"A").unwrap();
        assert_eq!(read_within(&mut clients[0], 1), b"1");
    }
    run_until(&mut harness, "three hits", |app| hits_of(app, 0) == 3);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("Delete").click();
    harness.run();
    harness.get_by_label("Undo").click();
    harness.run();
    harness.get_by_label_contains("3 ×");
    clients[0].write_all(b"A").unwrap();
    assert_eq!(read_within(&mut clients[0], 1), b"1");
    run_until(&mut harness, "the fourth hit", |app| hits_of(app, 0) != 3);
    assert_eq!(hits_of(harness.state(), 0), 4, "the count went on from 3");
    harness.get_by_label_contains("4 ×");
}

/// Types `text` over what a field holds.
fn retype(
    harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>,
    label: &str,
    text: &str,
) {
    harness
        .get_by_role_and_label(Role::TextInput, label)
        .focus();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    // One key a frame, as a user types.
    for key in text.chars() {
        harness
            .get_by(|n| n.is_focused())
            .type_text(&key.to_string());
        harness.run();
    }
    // Leaving the field takes what was typed.
    harness.key_press(Key::Enter);
    harness.run();
}

#[test]
fn rules_a_delay_is_read_with_its_unit_and_a_wrong_one_is_refused_beside_the_field() {
    let mut harness = super::harness(two_rules());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    let delay = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.state().tab().form.automation.rules[0].delay_ms
    };
    for (typed, ms) in [("1s", 1000), ("500ms", 500), ("7 s", 7000), ("250", 250)] {
        retype(&mut harness, "after", typed);
        assert_eq!(delay(&harness), ms, "“{typed}”");
    }
    retype(&mut harness, "after", "2 min");
    assert_eq!(delay(&harness), 120_000);
    // Typed one key at a time, a number too large is refused whole, not taken in part.
    for typed in ["99999999999", "2 h", "soon"] {
        retype(&mut harness, "after", typed);
        assert_eq!(delay(&harness), 120_000, "“{typed}” keeps the old value");
        // Beside the field, and in the line at the top that names the rule.
        assert!(
            harness
                .query_all_by_label_contains(&format!("'{typed}' is"))
                .next()
                .is_some()
        );
    }
}

#[test]
fn rules_a_scripts_within_is_read_with_its_unit() {
    use sockscope::rules::script::Step;
    let mut harness = super::harness(Form::default());
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    harness.run();
    harness.get_by_label("+ Script").click();
    harness.run();
    let within = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| match &h
        .state()
        .tab()
        .form
        .automation
        .scripts[0]
        .steps[1]
    {
        Step::Expect { timeout_ms, .. } => *timeout_ms,
        other => panic!("{other:?}"),
    };
    for (typed, ms) in [("3s", 3000), ("7 s", 7000), ("1.5s", 1500), ("80", 80)] {
        retype(&mut harness, "within", typed);
        assert_eq!(within(&harness), ms, "“{typed}”");
    }
    retype(&mut harness, "within", "0");
    assert_eq!(within(&harness), 80, "0 ms is out of range");
    harness.get_by_label_contains("'0' is out of range");
}

#[test]
fn rules_an_edit_goes_live_while_another_rule_has_a_mistake_which_runs_its_last_valid_version() {
    let (mut harness, mut clients) = server_with_clients(two_rules(), 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    // Rule B's condition as bytes (its last valid version: 42, "B"), then a mistake.
    harness.get_by_role_and_label(Role::Button, "B").click();
    harness.run();
    pick_kind(&mut harness, "bytes (hex, ?? = any byte)");
    type_into(&mut harness, Role::TextInput, Some("When"), " 0G");
    harness.get_by_label("⚠ B");
    harness.get_by_label_contains("the running session answers by this rule's last valid version");
    // An edit of rule A reaches the running session all the same.
    harness.get_by_role_and_label(Role::Button, "A").click();
    harness.run();
    type_into(&mut harness, Role::MultilineTextInput, Some("Then"), "9");
    // The edit reaches the I/O thread as a command; a message read in the same round may
    // still meet the rules before it (the old reply, "1"): ask again until the new one.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        clients[0].write_all(b"A").unwrap();
        assert_eq!(read_within(&mut clients[0], 1), b"1");
        clients[0]
            .set_read_timeout(Some(std::time::Duration::from_millis(300)))
            .unwrap();
        let mut next = [0u8; 1];
        if std::io::Read::read_exact(&mut clients[0], &mut next).is_ok() {
            assert_eq!(&next, b"9", "A's edit is live");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "A's edit never went live"
        );
    }
    // B answers as it was before its mistake, and the test says so.
    clients[0].write_all(b"B").unwrap();
    assert_eq!(read_within(&mut clients[0], 1), b"2");
    type_into(&mut harness, Role::TextInput, Some("Test with"), "B");
    harness.get_by_label("“B” fires");
    harness.get_by_label_contains("in its last valid version (the edit has a mistake): B");
}

#[test]
fn rules_a_removed_step_and_a_deleted_rule_come_back_with_undo_or_ctrl_z() {
    use sockscope::rules::script::Step;
    let mut harness = super::harness(two_rules());
    // A deleted rule comes back with Ctrl+Z (no text field has the keyboard).
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("Delete").click();
    harness.run();
    assert_eq!(harness.state().tab().form.automation.rules.len(), 1);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    let rules = &harness.state().tab().form.automation.rules;
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].name, "A");
    // A script's steps.
    harness.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::R);
    harness.run();
    harness.get_by_label("+ Script").click();
    harness.run();
    harness.get_by_label("+ Step").click();
    harness.run();
    let steps = |h: &egui_kittest::Harness<'static, sockscope::gui::App>| {
        h.state().tab().form.automation.scripts[0].steps.clone()
    };
    let before = steps(&harness);
    assert_eq!(before.len(), 3);
    // Remove the second step (the Expect): the notice's Undo brings it back in its place.
    harness.get_all_by_label("Remove").nth(1).unwrap().click();
    harness.run();
    assert_eq!(steps(&harness).len(), 2);
    harness.get_by_label_contains("Removed step 2 of “script 1”");
    harness.get_by_label("Undo").click();
    harness.run();
    assert_eq!(steps(&harness), before);
    // Ctrl+Z, with no text field focused, does the same.
    harness.get_all_by_label("Remove").next().unwrap().click();
    harness.run();
    assert!(matches!(steps(&harness)[0], Step::Expect { .. }));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    harness.run();
    assert_eq!(steps(&harness), before);
}

#[test]
fn rules_the_rule_editor_takes_the_height_of_a_large_window() {
    let mut harness = egui_kittest::Harness::builder()
        .with_size([1920.0, 1080.0])
        .build_eframe(|cc| sockscope::gui::App::with_form(&cc.egui_ctx, two_rules()));
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    let name = harness
        .get_by_role_and_label(Role::TextInput, "Name")
        .rect();
    let test = harness
        .get_by_role_and_label(Role::TextInput, "Test with")
        .rect();
    // The editor runs from the rule's name down to the test below it.
    let editor = test.top() - name.top();
    assert!(editor > 600.0, "the editor is {editor} points tall");
    assert!(test.bottom() > 900.0, "the test sits at {}", test.bottom());
}

#[test]
fn rules_a_duplicate_gets_a_name_of_its_own_and_try_on_the_log_follows_the_rules_and_language() {
    let mut harness = super::harness(two_rules());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    harness.get_by_label("Duplicate").click();
    harness.run();
    harness.get_by_label("Duplicate").click();
    harness.run();
    let names: Vec<String> = harness
        .state()
        .tab()
        .form
        .automation
        .rules
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(names, ["A", "A (2)", "A (3)", "B"]);
    // The result is said again in another language…
    harness.get_by_label("Try on the log").click();
    harness.run();
    harness.get_by_label_contains("Of 0 received messages");
    harness.state_mut().set_lang(sockscope::i18n::Lang::Zh);
    harness.run();
    harness.get_by_label_contains("在 0 条收到的消息中");
    harness.state_mut().set_lang(sockscope::i18n::Lang::En);
    harness.run();
    harness.get_by_label_contains("Of 0 received messages");
    // …and goes when the rules change.
    type_into(&mut harness, Role::TextInput, Some("Name"), "x");
    assert!(
        harness
            .query_by_label_contains("received messages")
            .is_none()
    );
}

#[test]
fn rules_saving_a_profile_with_a_wrong_rule_says_so_and_that_run_will_refuse_it() {
    let mut form = two_rules();
    form.automation.rules[1].when = Cond::Bytes(Match::Exact, "0G".into());
    let mut harness = super::harness(form);
    harness.run();
    let path_dir = tempfile::tempdir().unwrap();
    let path = path_dir
        .path()
        .join(format!("rulesui-mistake-{}.ron", std::process::id()));
    harness.state_mut().save_profile_to(&path);
    harness.run();
    assert!(path.exists(), "saved all the same");
    let _ = std::fs::remove_file(&path);
    // In the notice, and in the log.
    for part in [
        "with a mistake: Rule “B”: ",
        "— `sockscope run` will refuse it until it is fixed",
    ] {
        assert_eq!(
            harness.query_all_by_label_contains(part).count(),
            2,
            "{part}"
        );
    }
}

#[test]
fn rules_the_test_offers_every_state_the_rules_name_before_a_client_reaches_it() {
    let mut form = two_rules();
    form.automation.rules[0].set_state = Some("in".into());
    form.automation.rules[1].when = Cond::All(vec![
        Cond::State("in".into()),
        Cond::Text(Match::Exact, "B".into()),
    ]);
    let mut harness = super::harness(form);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Test with"), "B");
    harness.get_by_label_contains("No rule fires");
    harness
        .get_by_role_and_label(Role::ComboBox, "in state")
        .click();
    harness.run();
    harness.get_by_label("“in”").click();
    harness.run();
    harness.get_by_label("“B” fires");
}

#[test]
fn rules_a_delay_that_cannot_be_read_marks_its_rule_as_a_mistake_does() {
    let mut harness = super::harness(two_rules());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::R);
    harness.run();
    retype(&mut harness, "after", "2MB/s");
    // The rule is marked in the list and named at the top, as a rule with a mistake is, also
    // once another rule is picked.
    harness.get_by_label("⚠ A");
    harness.get_by_label_contains("the running rule keeps its last one");
    harness.get_by_role_and_label(Role::Button, "B").click();
    harness.run();
    harness.get_by_label("⚠ A");
    harness.get_by_label_contains("the running rule keeps its last one");
    // Put right, the marks go.
    harness.get_by_role_and_label(Role::Button, "⚠ A").click();
    harness.run();
    retype(&mut harness, "after", "1s");
    assert!(harness.query_by_label("⚠ A").is_none());
    assert!(
        harness
            .query_by_label_contains("the running rule keeps its last one")
            .is_none()
    );
}
