//! The Load window on the real app: opened from Tools over a listening tab (its address
//! filled in), a run against the tab's own echo rule, live counts, Stop that answers at once,
//! and the report's summary.

use std::time::{Duration, Instant};

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::gui::state::Form;
use sockscope::rules::{Automation, ReplySpec, Rule};

use super::{run_until, server_with_clients};

#[test]
fn a_load_run_against_the_tabs_own_echo_counts_replies_and_stops_at_once() {
    load_the_tabs_own_echo(Form::default(), "");
}

#[test]
fn a_tls_websocket_tab_is_loaded_over_wss_trusting_its_own_certificate() {
    // The target says wss:// and the run trusts exactly the tab's self-signed certificate:
    // no "Accept any certificate" needed, and every request is answered.
    let form = Form {
        tls_on: true,
        ws_on: true,
        ..Form::default()
    };
    load_the_tabs_own_echo(form, "wss://");
}

/// Opens the Load window over a listening tab whose rule echoes, checks the target it fills
/// in (`scheme` + the tab's address), runs echo checks and stops.
fn load_the_tabs_own_echo(form: Form, scheme: &str) {
    let form = Form {
        automation: Automation {
            enabled: true,
            rules: vec![Rule {
                reply: Some(ReplySpec {
                    payload: "{{rx}}".into(),
                    ..ReplySpec::default()
                }),
                ..Rule::default()
            }],
            ..Automation::default()
        },
        ..form
    };
    let (mut harness, _) = server_with_clients(form, 0);
    harness.get_by_label("Tools").click();
    harness.run();
    harness.get_by_label_contains("Load generator…").click();
    harness.run();
    // The listening tab's address is the target.
    let port = match harness.state().tab().session.capture().link {
        sockscope::capture::LinkState::Listening(addr) => addr.port(),
        _ => unreachable!(),
    };
    let target = harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Target")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    let path = if scheme.starts_with("ws") { "/" } else { "" };
    assert_eq!(target, format!("{scheme}127.0.0.1:{port}{path}"));
    harness.get_by_label("echo check").click();
    harness.run();
    harness.get_by_label("Start load").click();
    // While it runs the window repaints ten times a second: step, do not wait to settle.
    harness.step();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
        let replied = harness
            // The live line (the status bar says "· received N B" too).
            .query_by_label_contains(" · in flight ")
            .is_some_and(|n| {
                let node = n.accesskit_node();
                let text = format!("{:?} {:?}", node.label(), node.value());
                text.contains("· received ") && !text.contains("· received 0 ·")
            });
        if replied {
            break;
        }
        assert!(Instant::now() < deadline, "no replies counted");
    }
    let stopped_at = Instant::now();
    harness.get_by_label("Stop load").click();
    run_until(&mut harness, "the summary", |_| true);
    let deadline = Instant::now() + Duration::from_secs(2);
    while harness.query_by_label("Start load").is_none() {
        assert!(Instant::now() < deadline, "Stop did not answer");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(stopped_at.elapsed() < Duration::from_secs(2));
    harness.run_ok();
    // The summary: every request answered, none failed, the percentiles.
    let summary = harness.get_by_label_contains("failed    0");
    let node = summary.accesskit_node();
    let text = format!("{:?} {:?}", node.label(), node.value());
    assert!(text.contains("latency µs  min"), "{text}");
}

#[test]
fn the_sparkline_opens_the_rate_chart_and_it_shows_one_client_on_request() {
    let (mut harness, mut clients) = server_with_clients(Form::default(), 2);
    super::send_and_wait(&mut harness, &mut clients[0], b"hello");
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::Button, "Rate chart")
        .click();
    harness.run();
    assert!(harness.state().tab().view.chart_open);
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::ComboBox, "Rate of")
        .click();
    harness.run();
    let first = harness
        .state()
        .tab()
        .session
        .capture()
        .clients
        .keys()
        .next()
        .copied();
    let peer = harness.state().tab().session.capture().clients[&first.unwrap()].peer;
    harness.get_by_label(&peer.to_string()).click();
    harness.run();
    assert_eq!(harness.state().tab().view.chart_of, first);
    // Its history has the bytes it sent.
    let capture = harness.state().tab().session.capture();
    let series = capture.clients[&first.unwrap()]
        .history
        .series(std::time::SystemTime::now() + Duration::from_secs(1), 5);
    assert_eq!(series.iter().map(|s| s.1).sum::<u64>(), 5);
}

/// Opens Tools > Load generator….
fn open_load(harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>) {
    harness.get_by_label("Tools").click();
    harness.run();
    harness.get_by_label_contains("Load generator…").click();
    harness.run();
}

/// Replaces the text of the field labelled `label` with `text`.
fn retype(
    harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>,
    label: &str,
    text: &str,
) {
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, label)
        .focus();
    harness.run();
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness.run();
    if text.is_empty() {
        harness.key_press(eframe::egui::Key::Backspace);
    } else {
        #[expect(
            clippy::redundant_closure_for_method_calls,
            reason = "the method path does not fit the lifetime bound"
        )]
        harness.get_by(|n| n.is_focused()).type_text(text);
    }
    harness.run();
}

#[test]
fn the_rate_takes_bytes_per_second_as_bench_does_and_keeps_it() {
    // A 100-byte request at 1MB/s is 10,000 requests a second (the command line's
    // `--rate 1MB/s`); the field took only a bare number. Then the rate stays in bytes per
    // second when the request changes (it had become 250000/s for 'ping' at once, and a
    // 100-byte request then ran at 25 MB/s).
    let mut harness = super::harness(Form::default());
    open_load(&mut harness);
    retype(&mut harness, "Request", &"a".repeat(100));
    retype(&mut harness, "Rate", "1MB/s");
    harness.get_by_label("= 10000 requests/s");
    retype(&mut harness, "Request", &"a".repeat(200));
    harness.get_by_label("= 5000 requests/s");
    assert_eq!(
        harness
            .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Rate")
            .accesskit_node()
            .value()
            .as_deref(),
        Some("1MB/s")
    );
    // A bare number is requests per second, said as it is; a bad one is said under it.
    retype(&mut harness, "Rate", "2000");
    assert!(harness.query_by_label_contains("requests/s").is_none());
    retype(&mut harness, "Rate", "abc");
    harness.get_by_label("'abc' is not a rate: write 2000 (requests/s) or 10MB/s");
    harness.get_by_label("Start load").click();
    harness.run();
    assert!(
        harness.query_by_label("Stop load").is_none(),
        "a rate that cannot be read starts nothing"
    );
}

#[test]
fn load_errors_say_what_is_wrong_in_the_windows_language() {
    let mut harness = super::harness(Form::default());
    open_load(&mut harness);
    retype(&mut harness, "Target", "abc");
    harness.get_by_label("Start load").click();
    harness.run();
    // It was the OS's English "failed to lookup address information", even under 中文.
    harness.get_by_label_contains("'abc' has no port: write HOST:PORT");
    harness.state_mut().set_lang(sockscope::i18n::Lang::Zh);
    harness.run();
    harness.get_by_label("开始测试").click();
    harness.run();
    harness.get_by_label_contains("“abc”缺少端口");
    harness.state_mut().set_lang(sockscope::i18n::Lang::En);
    harness.run();
    retype(&mut harness, "Target", "127.0.0.1:9");
    retype(&mut harness, "Request", "");
    harness.get_by_label("Start load").click();
    harness.run();
    // It said "the send box is empty": there is no send box here.
    harness.get_by_label_contains("The request is empty");
    assert!(
        harness.query_by_label("Stop load").is_none(),
        "nothing started"
    );
}

#[test]
fn a_reply_that_never_holds_the_condition_is_a_wrong_reply() {
    // The tab's own rule answers NOPE; the Load window waits for PONG.
    let form = Form {
        automation: Automation {
            enabled: true,
            rules: vec![Rule {
                reply: Some(ReplySpec {
                    payload: "NOPE".into(),
                    ..ReplySpec::default()
                }),
                ..Rule::default()
            }],
            ..Automation::default()
        },
        ..Form::default()
    };
    let (mut harness, _) = server_with_clients(form, 0);
    open_load(&mut harness);
    harness.get_by_label("ping-pong").click();
    harness.run();
    harness.get_by_label("contains text").click();
    harness.run();
    retype(&mut harness, "Reply holds", "PONG");
    harness.get_by_label("Start load").click();
    // One request waits its second for PONG, then is a wrong reply (it was "timed out").
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
        if harness.query_by_label_contains("· failed 1 ·").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "no failure counted");
    }
    harness.get_by_label("Stop load").click();
    let deadline = Instant::now() + Duration::from_secs(5);
    while harness.query_by_label("Start load").is_none() {
        assert!(Instant::now() < deadline, "Stop did not answer");
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.run_ok();
    harness.get_by_label_contains("(wrong reply 1)");
    harness.get_by_label_contains("answered +");
}

#[test]
fn another_target_is_not_trusted_by_the_tabs_certificate_and_says_why_in_the_windows_language() {
    // A TLS server tab: Load fills in tls://127.0.0.1:PORT and trusts the tab's certificate.
    let form = Form {
        tls_on: true,
        ..Form::default()
    };
    let (mut harness, _) = server_with_clients(form, 0);
    open_load(&mut harness);
    let target = harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::TextInput, "Target")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    assert!(target.starts_with("tls://127.0.0.1:"), "{target}");
    harness.get_by_label_contains("only this tab's certificate");
    let start = harness.get_by_label("Start load").rect();
    // Another target (the same server by name: a user's own name for it) is not the tab's
    // own address: checked against the system's roots, which do not know the tab's
    // certificate. Before: the tab's pin went with any target.
    let other = target.replace("127.0.0.1", "localhost");
    retype(&mut harness, "Target", &other);
    assert!(
        harness
            .query_by_label_contains("only this tab's certificate")
            .is_none()
    );
    // Start stays where it was, for a target without TLS too (the certificate row is there,
    // greyed out).
    assert_eq!(harness.get_by_label("Start load").rect(), start);
    retype(&mut harness, "Target", &other.replace("tls://", ""));
    assert_eq!(harness.get_by_label("Start load").rect(), start);
    retype(&mut harness, "Target", &other);
    // Duration: 1 s (a DragValue takes typing once it has the keyboard).
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::SpinButton, "Duration")
        .focus();
    harness.run();
    harness.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    harness
        .get_by_role_and_label(eframe::egui::accesskit::Role::SpinButton, "Duration")
        .type_text("1");
    harness.key_press(eframe::egui::Key::Enter);
    harness.run();
    harness.state_mut().set_lang(sockscope::i18n::Lang::Zh);
    harness.run();
    harness.get_by_label("开始测试").click();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The run is over when the summary ("用时 … 秒") is there.
    while harness.query_by_label_contains("用时 ").is_none() {
        assert!(Instant::now() < deadline, "the run did not end");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    harness.run_ok();
    // The first failure's reason in the window's language (it was English: the run's thread
    // spoke the default language).
    let summary = harness.get_by_label_contains("首个：");
    let node = summary.accesskit_node();
    let text = format!("{:?} {:?}", node.label(), node.value());
    assert!(text.contains("证书"), "{text}");
    harness.state_mut().set_lang(sockscope::i18n::Lang::En);
}
