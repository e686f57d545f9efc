//! `sockscope test`: each shipped simulator and the conversation that checks it, the two
//! halves a user sees; a failing step, the JUnit report, and the exit codes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sockscope_core::profile;
use sockscope_core::session::Session;

use super::{BAD_INPUT, NOT_MATCHED, OK, free_port, run};

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
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir
        .path()
        .join(format!("sockscope-junit-{}.xml", std::process::id()));
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
    // The verdict says why.
    assert!(
        ran.stdout
            .contains("FAILED: Script “attach and signal” failed at step 2"),
        "{}",
        ran.stdout
    );
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
    let port = free_port();
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
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir
        .path()
        .join(format!("sockscope-bad-step-{}.ron", std::process::id()));
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

/// A profile in a folder of its own, removed when dropped.
struct TempProfile {
    path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TempProfile {
    fn new(name: &str, text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("sockscope-{name}.ron"));
        std::fs::write(&path, text).unwrap();
        Self { path, _dir: dir }
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap()
    }
}

#[test]
fn a_script_fails_at_once_when_the_device_closes_the_connection() {
    let (_session, addr) = simulator("heartbeat-echo.ron");
    let profile = TempProfile::new(
        "quit",
        &format!(
            r#"(version: 2, session: (mode: TcpClient, remote_ip: "127.0.0.1",
            remote_port: "{}", frame_mode: Delimiter, frame_delimiter: "\n",
            automation: (scripts: [(name: "quit, then ping", steps: [
                Send((payload: "QUIT", line_ending: Lf)),
                Expect(when: Text(Exact, "BYE")),
                Wait(200),
                Send((payload: "PING", line_ending: Lf)),
                Expect(when: Text(Exact, "PONG")),
            ])])))"#,
            addr.port()
        ),
    );
    let started = std::time::Instant::now();
    let ran = run(&["test", profile.path()], b"");
    let took = started.elapsed();
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout.contains("✗   3") && ran.stdout.contains("the device closed the connection"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("did not finish"), "{}", ran.stdout);
    // Not the 5 s margin, nor the expects' timeouts: at once.
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn nothing_listening_is_a_junit_error_with_its_reason_also_on_stdout() {
    let port = free_port();
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir
        .path()
        .join(format!("sockscope-junit-e-{}.xml", std::process::id()));
    let ran = run(
        &[
            "test",
            &example("check-at-modem.ron"),
            "--remote",
            &format!("127.0.0.1:{port}"),
            "--junit",
            report.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stdout.contains("FAILED: ") && ran.stdout.contains("refused"),
        "{}",
        ran.stdout
    );
    let xml = std::fs::read_to_string(&report).unwrap();
    std::fs::remove_file(&report).unwrap();
    assert!(xml.contains(r#"failures="0" errors="1""#), "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    let error = xml.split("<error message=\"").nth(1).unwrap_or_default();
    assert!(
        error.contains("refused") && error.contains("</error>"),
        "an error element with its reason: {xml}"
    );
}

#[test]
fn a_script_name_that_matches_nothing_names_the_scripts_there_are() {
    let ran = run(
        &[
            "test",
            &example("check-modbus-slave.ron"),
            "--script",
            "nomatch",
        ],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr
            .contains("no script whose name contains “nomatch”")
            && ran.stderr.contains("“exceptions”"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("has no scripts"), "{}", ran.stderr);
}

#[test]
fn an_expect_that_got_other_bytes_labels_them_got() {
    let device = super::tcp_peer(|_| b"ERROR\r\n".to_vec());
    let ran = run(
        &[
            "test",
            &example("check-at-modem.ron"),
            "--remote",
            &device.to_string(),
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(ran.stdout.contains("got “ERROR”"), "{}", ran.stdout);
}

#[test]
fn ctrl_c_during_a_script_writes_junit_with_an_error_element() {
    // A device that never answers: the script waits in its Expect when Ctrl+C comes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::Builder::new()
        .name("silent-device".into())
        .spawn(move || listener.accept().map(|(s, _)| s))
        .unwrap();
    let profile = TempProfile::new(
        "silent",
        r#"(version: 2, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "1",
            automation: (scripts: [(name: "waits", steps: [
                Send((payload: "AT")),
                Expect(when: Text(Exact, "OK"), timeout_ms: 30000),
            ])])))"#,
    );
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir
        .path()
        .join(format!("sockscope-junit-c-{}.xml", std::process::id()));
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ctrl_c = {
        let stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("ctrl-c".into())
            .spawn(move || {
                std::thread::sleep(Duration::from_millis(400));
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap()
    };
    let mut io = sockscope::cli::Io {
        stdin: Box::new(std::io::Cursor::new(Vec::new())),
        stdin_is_terminal: true,
        stdout: &mut stdout,
        stderr: &mut stderr,
        stop,
    };
    let remote = addr.to_string();
    let code = sockscope::cli::run_args(
        [
            "sockscope",
            "test",
            profile.path(),
            "--remote",
            &remote,
            "--junit",
            report.to_str().unwrap(),
        ],
        &mut io,
    );
    ctrl_c.join().unwrap();
    drop(peer.join());
    assert_ne!(code, OK);
    let xml = std::fs::read_to_string(&report).unwrap();
    std::fs::remove_file(&report).unwrap();
    // Every case counted has its element.
    assert!(xml.contains(r#"failures="0" errors="1""#), "{xml}");
    assert!(
        xml.contains("<error message=\"stopped (Ctrl+C or SIGTERM)"),
        "{xml}"
    );
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(
        stdout.contains("FAILED: stopped (Ctrl+C or SIGTERM)"),
        "{stdout}"
    );
}

/// SIGTERM (what `timeout` and a CI job's time limit send) ends `test` as Ctrl+C does: the
/// steps said, the JUnit file written. It ended the program at once, with neither.
#[cfg(unix)]
#[test]
fn sigterm_during_a_script_writes_junit_as_ctrl_c_does() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let profile = TempProfile::new(
        "silent-term",
        r#"(version: 2, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "1",
            automation: (scripts: [(name: "waits", steps: [
                Send((payload: "AT")),
                Expect(when: Text(Exact, "OK"), timeout_ms: 30000),
            ])])))"#,
    );
    let report_dir = tempfile::tempdir().unwrap();
    let report = report_dir.path().join("junit.xml");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .env("LANG", "C")
        .args(["test", profile.path(), "--remote", &addr.to_string()])
        .arg("--junit")
        .arg(&report)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the script has sent AT, it waits in its Expect.
    let (mut device, _) = listener.accept().unwrap();
    let mut at = [0u8; 2];
    std::io::Read::read_exact(&mut device, &mut at).unwrap();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAILED: stopped"), "{stdout}");
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.contains(r#"failures="0" errors="1""#), "{xml}");
}

#[test]
fn the_modbus_check_fails_a_slave_that_does_not_echo_the_transaction_id() {
    // Answers every read with transaction id 0 and the right function code.
    let slave = super::tcp_peer(|request| {
        if request.len() >= 8 {
            vec![0, 0, 0, 0, 0, 5, request[6], 3, 2, 0, 10]
        } else {
            Vec::new()
        }
    });
    let ran = run(
        &[
            "test",
            &example("check-modbus-slave.ron"),
            "--remote",
            &slave.to_string(),
            "--script",
            "transaction ids",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout.contains("✗   2"),
        "the first poll's reply: {}",
        ran.stdout
    );
}

#[test]
fn run_says_which_rule_answered_and_sums_up_the_hits_at_the_end() {
    for json in [false, true] {
        let port = free_port();
        let modem = std::thread::Builder::new()
            .name("run-modem".into())
            .spawn(move || {
                let mut args = vec![
                    "run".to_owned(),
                    example("at-modem.ron"),
                    "--local-port".to_owned(),
                    port.to_string(),
                    "--duration".to_owned(),
                    "1500ms".to_owned(),
                ];
                if json {
                    args.push("--json".to_owned());
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run(&args, b"")
            })
            .unwrap();
        let mut terminal = super::connect_retrying(port);
        terminal
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        for command in [&b"AT\r"[..], b"AT\r", b"AT+BOGUS\r"] {
            std::io::Write::write_all(&mut terminal, command).unwrap();
            let mut reply = [0u8; 4];
            std::io::Read::read_exact(&mut terminal, &mut reply).unwrap();
        }
        let ran = modem.join().unwrap();
        assert_eq!(ran.code, OK, "{ran:?}");
        if json {
            assert!(
                ran.stdout.contains(r#""text":"Rule “AT” answered (4 B)""#),
                "{}",
                ran.stdout
            );
            let last = ran.stdout.lines().last().unwrap_or_default();
            let summary: serde_json::Value = serde_json::from_str(last).unwrap();
            assert_eq!(summary["kind"], "rules");
            assert_eq!(summary["hits"][0]["rule"], "AT");
            assert_eq!(summary["hits"][0]["count"], 2);
            // Every rule, in order, 0 too.
            assert_eq!(summary["hits"][1]["rule"], "ATI");
            assert_eq!(summary["hits"][1]["count"], 0);
            assert_eq!(summary["hits"][6]["rule"], "anything else");
            assert_eq!(summary["hits"][6]["count"], 1);
        } else {
            assert!(
                ran.stdout.contains("Rule “AT” answered (4 B)")
                    && ran.stdout.contains("Rule “anything else” answered (7 B)"),
                "{}",
                ran.stdout
            );
            assert!(
                ran.stdout.trim_end().ends_with(
                    "Rules fired: AT × 2, ATI × 0, AT+CSQ × 0, AT+CGMI × 0, ATE × 0, \
                         blank line × 0, anything else × 1"
                ),
                "{}",
                ran.stdout
            );
        }
    }
}
