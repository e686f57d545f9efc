//! TLS in the window, against OpenSSL as the real peer: a TLS client tab that does not verify
//! (the warning is shown) talks to `openssl s_server -rev`; a TLS server tab with a self-signed
//! certificate lists an `openssl s_client` with its TLS version. Skipped where openssl is missing.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::state::Form;

use testkit::cert::Kind;
use testkit::{Running, free_port};

use super::{click_send, harness, log_texts, run_until, type_into};

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
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Self-signed as a device makes its own (`openssl req -x509`: CA:TRUE, its name only in
    // the subject), made in-process; openssl serves it.
    let made = testkit::cert::self_signed(&dir, "device", "device.local", &[], Kind::Device);
    let (cert, key) = (made.cert, made.key);
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
    testkit::wait_listening(("127.0.0.1", port));
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
    testkit::wait_until("s_client to end", || reader.is_finished());
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
    testkit::wait_listening(("127.0.0.1", port));
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
    harness.run();
    // The rows say the messages were text: the one sent and its echo.
    assert_eq!(
        harness
            .query_all_by_label_contains("[12 B, text] hello 世界")
            .count(),
        2
    );
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

/// A device's own certificate as `openssl req -x509` makes it by default (CA:TRUE, no SAN)
/// and its key, in `dir` (made with rcgen); with openssl's own SHA-256 fingerprint of it.
fn device_certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    std::fs::create_dir_all(dir).unwrap();
    let made = testkit::cert::self_signed(dir, "device", "device-42", &[], Kind::Device);
    let (cert, key) = (made.cert, made.key);
    let printed = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    // "sha256 Fingerprint=D2:B6:…" (OpenSSL 3) or "SHA256 Fingerprint=…" (1.1).
    let printed = String::from_utf8(printed.stdout).unwrap();
    let sha256 = printed.trim().rsplit('=').next().unwrap().to_owned();
    (cert, key, sha256)
}

fn s_server_rev(port: u16, cert: &std::path::Path, key: &std::path::Path) -> Running {
    let server = Running(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-rev", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    testkit::wait_listening(("127.0.0.1", port));
    server
}

#[test]
fn a_device_certificate_its_ca_file_cannot_vouch_for_is_pinned_with_one_click() {
    if !has_openssl() {
        return;
    }
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-pin-{}", std::process::id()));
    let (cert, key, sha256) = device_certificate(&dir);
    let port = free_port();
    let _server = s_server_rev(port, &cert, &key);
    let mut form = Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: port.to_string(),
        tls_on: true,
        ..Form::default()
    };
    // As openssl s_client is used with it: the device's certificate as the CA file.
    form.tls.verify = sockscope::engine::Verify::CaFile(cert.display().to_string());
    let mut harness = harness(form);
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "the refusal", |app| {
        app.tab().session.capture().tls_refused.is_some()
    });
    harness.run();
    let said = log_texts(&harness);
    assert!(
        said.iter().any(|t| t.contains("a CA file cannot vouch for")
            && t.contains(&format!("SHA-256 {sha256}"))),
        "{said:?}"
    );
    assert!(
        harness
            .query_by_label_contains("The server's certificate was refused: CN=device-42")
            .is_some()
    );
    harness
        .get_by_role_and_label(Role::Button, "Trust this certificate")
        .click();
    harness.run();
    assert_eq!(
        harness.state().tab().form.tls.verify,
        sockscope::engine::Verify::Pin(sha256.clone()),
        "the pin is openssl's own fingerprint of the certificate"
    );
    assert!(harness.query_by_label("Trust this certificate").is_none());
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected, pinned", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
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
            .any(|t| t.contains("trusted as the pinned certificate (SHA-256)")),
        "{texts:?}"
    );
    // The "…" beside the SHA-256 takes it from the certificate's file.
    harness.get_by_label("Disconnect").click();
    run_until(&mut harness, "disconnected", |app| !app.tab().is_open());
    harness.state_mut().tab_mut().form.tls.verify = sockscope::engine::Verify::Pin(String::new());
    harness
        .state_mut()
        .tab_mut()
        .apply(sockscope::gui::state::UiAction::SetPem(
            sockscope::gui::state::PemField::Pin,
            cert.clone(),
        ));
    assert_eq!(
        harness.state().tab().form.tls.verify,
        sockscope::engine::Verify::Pin(sha256.clone())
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_empty_ca_file_or_a_bad_pin_marks_its_field_and_connect_names_it() {
    let mut form = Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: "9".into(),
        tls_on: true,
        ..Form::default()
    };
    form.tls.verify = sockscope::engine::Verify::CaFile(String::new());
    let mut harness = harness(form);
    harness.run();
    let message = "no CA file given: choose one, or another way to trust the server";
    harness.get_by_label(message);
    let connect = harness.get_by_label("Connect");
    assert!(connect.accesskit_node().is_disabled(), "Connect waits");
    connect.hover();
    harness.run();
    assert!(
        harness
            .query_by_label(&format!("Fix this first — CA file: {message}"))
            .is_some(),
        "the tooltip names the field"
    );
    harness.get_by_label("Connect").click();
    harness.run();
    assert!(!harness.state().tab().is_open(), "nothing was opened");
    assert!(
        !log_texts(&harness)
            .iter()
            .any(|t| t.contains("Cannot read")),
        "no 'Cannot read :'"
    );
    // A pin that is not one, then one that is.
    harness
        .get_by_role_and_label(Role::ComboBox, "Trust")
        .click();
    harness.run();
    harness.get_by_label("This certificate").click();
    harness.run();
    harness.get_by_label_contains("paste the SHA-256 of the certificate to trust");
    type_into(&mut harness, Role::TextInput, Some("SHA-256"), "D2:B6:0");
    harness.get_by_label(
        "D2:B6:0 is not a SHA-256 fingerprint: it has 5 hex digits; a SHA-256 has 64 (32 bytes, AB:CD:…)",
    );
    assert!(
        harness
            .get_by_label("Connect")
            .accesskit_node()
            .is_disabled()
    );
    harness.state_mut().tab_mut().form.tls.verify = sockscope::engine::Verify::Pin("ab".repeat(32));
    harness.run();
    assert!(
        harness
            .query_by_label_contains("is not a SHA-256 fingerprint")
            .is_none()
    );
    assert!(
        !harness
            .get_by_label("Connect")
            .accesskit_node()
            .is_disabled()
    );
}

#[test]
fn a_server_that_requires_a_client_certificate_leaves_the_tab_failed_not_idle() {
    if !has_openssl() {
        return;
    }
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-mtls-{}", std::process::id()));
    let (cert, key, _) = device_certificate(&dir);
    let port = free_port();
    // TLS 1.3, and a client certificate required (-Verify).
    let _server = Running(
        Command::new("openssl")
            .args(["s_server", "-quiet", "-Verify", "1", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-CAfile")
            .arg(&cert)
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
    testkit::wait_listening(("127.0.0.1", port));
    let mut form = Form {
        remote_ip: "127.0.0.1".into(),
        remote_port: port.to_string(),
        tls_on: true,
        ..Form::default()
    };
    form.tls.verify = sockscope::engine::Verify::Off;
    let mut harness = harness(form);
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "the refusal", |app| {
        let capture = app.tab().session.capture();
        capture.stopped && capture.last_error.is_some()
    });
    harness.run();
    assert!(
        harness
            .query_by_label_contains("Not connected (see the log)")
            .is_some(),
        "the status says it failed"
    );
    assert!(
        harness.query_by_label("⚠ Session 1").is_some(),
        "the tab is marked ⚠"
    );
    assert!(
        log_texts(&harness)
            .iter()
            .any(|t| t.contains("the server requires a client certificate")),
        "{:?}",
        log_texts(&harness)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The SHA-256 of the certificate `openssl s_client` is served on `port`, as openssl prints it.
fn openssl_sees(port: u16) -> String {
    let got = Command::new("openssl")
        .args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    x509.stdin.take().unwrap().write_all(&got.stdout).unwrap();
    let printed = x509.wait_with_output().unwrap();
    let printed = String::from_utf8(printed.stdout).unwrap();
    printed.trim().rsplit('=').next().unwrap().to_owned()
}

/// The SHA-256 of the self-signed certificate the tab keeps.
fn kept_sha256(harness: &egui_kittest::Harness<'static, sockscope::gui::App>) -> String {
    harness
        .state()
        .tab()
        .form
        .tls
        .kept
        .as_ref()
        .and_then(sockscope::engine::KeptCert::info)
        .unwrap()
        .sha256
}

#[test]
fn a_self_signed_server_certificate_is_named_shown_and_kept_until_regenerated() {
    if !has_openssl() {
        return;
    }
    let port = free_port();
    let mut form = Form {
        mode: Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        server_port: port.to_string(),
        close_clients_on_stop: true,
        tls_on: true,
        ..Form::default()
    };
    form.tls.server_cert =
        sockscope::engine::ServerCert::SelfSigned(vec!["device.local".into(), "127.0.0.1".into()]);
    let mut harness = harness(form);
    harness.run();
    harness.get_by_label("This server's certificate: CN=device.local");
    let shown = kept_sha256(&harness);
    harness.get_by_label(&format!("SHA-256 {shown}"));
    let mut seen = Vec::new();
    for _ in 0..2 {
        harness.get_by_label("Listen").click();
        run_until(&mut harness, "listening", |app| {
            matches!(app.tab().session.capture().link, LinkState::Listening(_))
        });
        // Copyable while listening; Regenerate waits for Stop.
        assert!(
            !harness
                .get_by_role_and_label(Role::Button, "Copy SHA-256")
                .accesskit_node()
                .is_disabled()
        );
        assert!(
            harness
                .get_by_role_and_label(Role::Button, "Regenerate")
                .accesskit_node()
                .is_disabled()
        );
        seen.push(openssl_sees(port));
        harness.get_by_label("Stop").click();
        run_until(&mut harness, "stopped", |app| !app.tab().is_open());
    }
    assert_eq!(
        seen,
        [shown.clone(), shown.clone()],
        "openssl sees the one shown"
    );
    harness
        .get_by_role_and_label(Role::Button, "Regenerate")
        .click();
    harness.run();
    let new = kept_sha256(&harness);
    assert_ne!(new, shown);
    harness.get_by_label(&format!("SHA-256 {new}"));
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    assert_eq!(openssl_sees(port), new);
    assert!(
        log_texts(&harness).iter().any(|t| *t
            == format!(
                "TLS: this server's self-signed certificate is CN=device.local, SHA-256 {new}"
            )),
        "{:?}",
        log_texts(&harness)
    );
}
