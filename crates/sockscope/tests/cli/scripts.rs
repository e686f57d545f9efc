//! `sockscope test`: each shipped simulator and the conversation that checks it, the two
//! halves a user sees; a failing step, the JUnit report, and the exit codes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sockscope_core::profile;
use sockscope_core::session::Session;

use super::{BAD_INPUT, NOT_MATCHED, OK, closed_port, run};

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A shipped simulator, served in-process on a port of the OS's choosing.
fn simulator(name: &str) -> (Session, SocketAddr) {
    let mut form = profile::load(std::path::Path::new(&example(name)))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    *form.local_port_mut() = "0".into();
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).unwrap();
    let addr = session.wait_listening(Duration::from_secs(5));
    (session, addr.expect("the simulator listens"))
}

#[test]
fn every_simulator_passes_its_own_conversation() {
    for (sim, check) in [
        ("modbus-slave.ron", "check-modbus-slave.ron"),
        ("at-modem.ron", "check-at-modem.ron"),
        ("json-device.ron", "check-json-device.ron"),
        ("heartbeat-echo.ron", "check-heartbeat-echo.ron"),
    ] {
        let (_session, addr) = simulator(sim);
        let ran = run(
            &["test", &example(check), "--remote", &addr.to_string()],
            b"",
        );
        assert_eq!(ran.code, OK, "{check}: {ran:?}");
        assert!(
            ran.stdout.contains("✓") && !ran.stdout.contains("✗"),
            "{}",
            ran.stdout
        );
    }
}

#[test]
fn a_failing_step_is_exit_1_and_named_in_the_junit_report() {
    // The modem's conversation against the echo server: the echo is not "OK".
    let (_session, addr) = simulator("heartbeat-echo.ron");
    let report = std::env::temp_dir().join(format!("sockscope-junit-{}.xml", std::process::id()));
    let ran = run(
        &[
            "test",
            &example("check-at-modem.ron"),
            "--remote",
            &addr.to_string(),
            "--junit",
            report.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(ran.stdout.contains("✗   2"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("FAILED") && ran.stdout.contains("0 of 1"),
        "{}",
        ran.stdout
    );
    let xml = std::fs::read_to_string(&report).unwrap();
    std::fs::remove_file(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuite name="check-at-modem" tests="1" failures="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="check-at-modem" name="attach and signal""#),
        "{xml}"
    );
    assert!(
        xml.contains("<failure message=\"Script “attach and signal” failed at step 2"),
        "{xml}"
    );
}

#[test]
fn no_server_no_scripts_and_a_bad_step_are_exit_2() {
    let port = closed_port();
    let ran = run(
        &[
            "test",
            &example("check-at-modem.ron"),
            "--remote",
            &format!("127.0.0.1:{port}"),
        ],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stderr.contains("refused"), "{}", ran.stderr);
    let ran = run(&["test", &example("at-modem.ron")], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stderr.contains("no scripts"), "{}", ran.stderr);
    let profile =
        std::env::temp_dir().join(format!("sockscope-bad-step-{}.ron", std::process::id()));
    std::fs::write(
        &profile,
        r#"(version: 2, session: (mode: TcpClient, automation: (scripts: [
            (name: "s", steps: [Send((payload: "0G", mode: Hex))])])))"#,
    )
    .unwrap();
    let ran = run(&["test", profile.to_str().unwrap()], b"");
    std::fs::remove_file(&profile).unwrap();
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("step 1") && ran.stderr.contains('G'),
        "{}",
        ran.stderr
    );
}
