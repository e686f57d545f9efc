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
        ..Form::default()
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
    assert_eq!(target, format!("127.0.0.1:{port}"));
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
            .query_by_label_contains("· received ")
            .is_some_and(|n| {
                !n.accesskit_node()
                    .label()
                    .unwrap_or_default()
                    .contains("· received 0 ·")
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
    harness.get_by_label_contains("failed    0");
    harness.get_by_label_contains("latency µs  min");
}
