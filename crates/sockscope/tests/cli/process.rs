//! The real program, as a script or CI job runs it: exit codes, stderr, stdin and stdout as
//! pipes, and real third-party peers (socat) where the machine has them.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{connect_retrying, free_port, tcp_peer};

fn sockscope() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    command.env("LANG", "C").env_remove("LC_ALL");
    command
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn version_help_and_exit_codes_of_the_real_program() {
    let out = sockscope().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = sockscope()
        .args([
            "connect",
            &format!("127.0.0.1:{}", free_port()),
            "--send",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"));
    let out = sockscope().args(["connect", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let addr = tcp_peer(|_| b"nope".to_vec());
    let out = sockscope()
        .args([
            "connect",
            &addr.to_string(),
            "--send",
            "hi",
            "--expect",
            "OK",
            "--timeout",
            "300ms",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}

#[test]
fn pipe_mode_sends_stdin_and_writes_what_arrives_raw() {
    let addr = tcp_peer(<[u8]>::to_vec);
    let mut child = sockscope()
        .args(["connect", &addr.to_string(), "--pipe", "--timeout", "300ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\x00\xFFraw bytes\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, b"\x00\xFFraw bytes\n");
}

#[test]
fn against_socat_an_echo_server_and_a_client_we_did_not_write() {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return;
    }
    // socat as the server: an echo.
    let port = free_port();
    let mut echo = Command::new("socat")
        .args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ])
        .spawn()
        .unwrap();
    drop(connect_retrying(port));
    let out = sockscope()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send",
            "AT+CSQ\\r\\n",
            "--expect-regex",
            r"CSQ\r\n",
        ])
        .output()
        .unwrap();
    echo.kill().unwrap();
    let _ = echo.wait();
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // socat as the client of `sockscope listen`.
    let port = free_port();
    let mut server = sockscope()
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--count",
            "1",
            "--json",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpListener::bind(("127.0.0.1", port)).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut client = Command::new("socat")
        .args(["-u", "-", &format!("TCP:127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    client
        .stdin
        .take()
        .unwrap()
        .write_all(b"from socat")
        .unwrap();
    let _ = client.wait();
    let mut stdout = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = server.wait().unwrap();
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains(r#""text":"from socat""#), "{stdout}");
}

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn run_of_the_at_modem_answers_socat_and_a_wrong_rule_is_exit_2() {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let mut modem = sockscope()
        .args([
            "run",
            &example("at-modem.ron"),
            "--local-port",
            &port.to_string(),
            "--duration",
            "20s",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    drop(connect_retrying(port));
    let out = Command::new("socat")
        .args(["-t", "2", "-", &format!("TCP:127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut socat| {
            let mut stdin = socat.stdin.take().unwrap();
            stdin.write_all(b"AT\rAT+CSQ\r").unwrap();
            // socat waits -t 2 s for the answers after stdin ends.
            drop(stdin);
            socat.wait_with_output()
        })
        .unwrap();
    modem.kill().unwrap();
    let _ = modem.wait();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK\r\n+CSQ: 23,99\r\n\r\nOK\r\n"
    );

    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir
        .path()
        .join(format!("sockscope-bad-rule-{}.ron", std::process::id()));
    std::fs::write(
        &profile,
        r#"(version: 2, session: (mode: TcpServer, automation: (enabled: true,
            rules: [(name: "poll", when: Bytes(Exact, "01 0G"))])))"#,
    )
    .unwrap();
    let out = sockscope()
        .args(["run", profile.to_str().unwrap(), "--local-port", "0"])
        .output()
        .unwrap();
    std::fs::remove_file(&profile).unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("poll") && stderr.contains('G'), "{stderr}");
}
