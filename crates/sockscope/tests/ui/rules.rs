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
        app.tab()
            .session
            .capture()
            .rule_hits
            .get(&0)
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
    harness.get_by_label_contains("no matching message within 200 ms — “OK”");
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
