//! TLS in the window, against OpenSSL as the real peer: a TLS client tab that does not verify
//! (the warning is shown) talks to `openssl s_server -rev`; a TLS server tab with a self-signed
//! certificate lists an `openssl s_client` with its TLS version. Skipped where openssl is missing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::state::Form;

use super::{click_send, harness, log_texts, run_until, type_into};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn has_openssl() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: openssl is not installed");
    }
    ok
}

#[test]
fn a_tls_client_tab_that_does_not_verify_warns_and_talks_to_openssl() {
    if !has_openssl() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("sockscope-ui-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("c.pem"), dir.join("k.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args([
            "-nodes",
            "-subj",
            "/CN=device.local",
            "-days",
            "1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let port = free_port();
    let _server = Running(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-rev", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut harness = harness(Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: port.to_string(),
        ..Form::default()
    });
    harness.get_by_role_and_label(Role::CheckBox, "TLS").click();
    harness.run();
    harness
        .get_by_role_and_label(Role::ComboBox, "Trust")
        .click();
    harness.run();
    harness.get_by_label("Don't verify").click();
    harness.run();
    assert!(
        harness
            .query_by_label_contains("certificate is NOT checked")
            .is_some()
    );
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected over TLS", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    harness.run();
    assert!(
        harness
            .query_by_label_contains("TLS: TLS 1.3, TLS13_")
            .is_some()
    );
    type_into(&mut harness, Role::MultilineTextInput, None, "hello\n");
    click_send(&mut harness);
    run_until(&mut harness, "openssl's answer", |app| {
        app.tab().session.capture().counters.rx_bytes >= 6
    });
    let texts = log_texts(&harness);
    assert!(texts.iter().any(|t| t == "olleh\n"), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.contains("certificate 1: CN=device.local")),
        "{texts:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_self_signed_tls_server_tab_lists_openssl_s_client_with_its_version() {
    if !has_openssl() {
        return;
    }
    let port = free_port();
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        server_port: port.to_string(),
        close_clients_on_stop: true,
        ..Form::default()
    });
    harness.get_by_role_and_label(Role::CheckBox, "TLS").click();
    harness.run();
    assert!(harness.query_by_label("Self-signed").is_some());
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let mut client = Running(
        Command::new("openssl")
            .args(["s_client", "-quiet", "-servername", "localhost", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    client
        .0
        .stdin
        .as_mut()
        .unwrap()
        .write_all("你好 TLS\n".as_bytes())
        .unwrap();
    run_until(&mut harness, "the client's line", |app| {
        app.tab().session.capture().counters.rx_bytes == "你好 TLS\n".len() as u64
    });
    harness.run();
    assert!(harness.query_by_label_contains("· TLS 1.3").is_some());
    assert!(
        log_texts(&harness)
            .iter()
            .any(|t| t.contains("SNI localhost"))
    );
    // What the tab sends reaches s_client through TLS.
    type_into(&mut harness, Role::MultilineTextInput, None, "from the tab");
    click_send(&mut harness);
    run_until(&mut harness, "sent", |app| {
        app.tab().session.capture().counters.tx_bytes == 12
    });
    harness.get_by_label("Stop").click();
    harness.run();
    // Stop closed the client too (close_notify, then FIN): s_client ends with what it got.
    let mut stdout = client.0.stdout.take().unwrap();
    let reader = std::thread::Builder::new()
        .name("s_client-stdout".into())
        .spawn(move || {
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            out
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !reader.is_finished() {
        assert!(Instant::now() < deadline, "s_client did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = reader.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&out), "from the tab");
}

#[test]
fn a_websocket_client_tab_talks_pings_and_closes_with_a_python_websockets_server() {
    let has = Command::new("python3")
        .args(["-c", "import websockets.sync.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: Python's websockets is not installed");
        return;
    }
    let port = free_port();
    let script = format!(
        "from websockets.sync.server import serve\n\
         def h(ws):\n    for m in ws:\n        ws.send(m)\n\
         with serve(h, '127.0.0.1', {port}) as s:\n    s.serve_forever()\n"
    );
    let _python = Running(
        Command::new("python3")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "python did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut harness = harness(Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: port.to_string(),
        ..Form::default()
    });
    harness
        .get_by_role_and_label(Role::CheckBox, "WebSocket")
        .click();
    harness.run();
    type_into(&mut harness, Role::TextInput, Some("Path"), "echo");
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "upgraded", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    type_into(&mut harness, Role::MultilineTextInput, None, "hello 世界");
    click_send(&mut harness);
    run_until(&mut harness, "the echo", |app| {
        app.tab().session.capture().counters.rx_messages == 1
    });
    harness.get_by_role_and_label(Role::Button, "Ping").click();
    run_until(&mut harness, "the pong", |app| {
        app.tab()
            .session
            .capture()
            .log
            .iter()
            .any(|r| r.text().starts_with("pong from"))
    });
    harness
        .get_by_role_and_label(Role::Button, "Close (1000)")
        .click();
    run_until(&mut harness, "closed", |app| !app.tab().is_open());
    let texts = log_texts(&harness);
    assert!(texts.iter().any(|t| t == "hello 世界"), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("1000 (normal)")),
        "{texts:?}"
    );
}
