//! TLS in the real window: the Trust combo's popup takes a click (popups that closed on a
//! click are a bug kittest did not see), and the tab then talks to `openssl s_server`.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

#[test]
fn the_trust_popup_takes_a_click_and_the_tab_talks_to_openssl() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("tls");
    let (cert, key) = (dir.0.join("c.pem"), dir.0.join("k.pem"));
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
            "/CN=window.test",
            "-days",
            "1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let port = free_port();
    // Not -quiet: s_server prints what the client sends.
    let mut server = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, session: (remote_ip: "127.0.0.1", remote_port: "{port}", tls_on: true, send_text: "ping from the window")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    window.click_until("tls.trust", "tls.trust.off");
    window.click("tls.trust.off");
    window.click("net.open");
    // Send goes once the handshake is done (a loaded machine took longer than a fixed wait).
    window.wait_value("status.state", |state| state.starts_with("Connected"));
    window.click("send.box");
    window.key("ctrl+Return");
    let mut stdout = server.stdout.take().unwrap();
    let reader = std::thread::Builder::new()
        .name("s_server-out".into())
        .spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            let deadline = Instant::now() + Duration::from_secs(8);
            while Instant::now() < deadline {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        out.extend_from_slice(&buf[..n]);
                        if String::from_utf8_lossy(&out).contains("ping from the window") {
                            break;
                        }
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
    let out = reader.join().unwrap();
    let saved = window.quit();
    assert!(
        saved.contains("verify:Off"),
        "the popup's click was lost: {saved}"
    );
    assert!(out.contains("ping from the window"), "s_server got: {out}");
}

/// The SHA-256 `openssl s_client` sees at `port`, as openssl prints it ("" if none).
fn openssl_sees(port: u16) -> String {
    let got = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut x509.stdin.take().unwrap(), &got.stdout).unwrap();
    let printed = String::from_utf8(x509.wait_with_output().unwrap().stdout).unwrap();
    printed
        .trim()
        .rsplit('=')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_device_certificate_its_ca_file_refuses_is_pinned_with_one_click_in_the_window() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("tls-pin");
    let (cert, key) = (dir.0.join("device.pem"), dir.0.join("device-key.pem"));
    // As a device makes its own: `openssl req -x509` (CA:TRUE by default).
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", "/CN=device-42", "-days", "30", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let port = free_port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    testkit::wait_listening(("127.0.0.1", port));
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, session: (remote_ip: "127.0.0.1", remote_port: "{port}", tls_on: true, tls: (verify: CaFile("{}")), send_text: "pinned from the window")))], active: 0)"#,
        cert.display()
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    window.click("net.open");
    // Refused: the window offers to trust exactly that certificate.
    window.rect("tls.trust_this");
    window.click("tls.trust_this");
    window.click("net.open");
    std::thread::sleep(Duration::from_millis(800));
    window.click("send.box");
    window.key("ctrl+Return");
    let mut stdout = server.stdout.take().unwrap();
    let reader = std::thread::Builder::new()
        .name("s_server-out".into())
        .spawn(move || {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            let deadline = Instant::now() + Duration::from_secs(8);
            while Instant::now() < deadline {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        out.extend_from_slice(&buf[..n]);
                        if String::from_utf8_lossy(&out).contains("pinned from the window") {
                            break;
                        }
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
    let out = reader.join().unwrap();
    let saved = window.quit();
    let printed = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let sha256 = String::from_utf8(printed.stdout).unwrap();
    let sha256 = sha256.trim().rsplit('=').next().unwrap().to_owned();
    assert!(
        saved.contains(&format!("verify:Pin(\\\"{sha256}\\\")")),
        "the click did not pin openssl's own SHA-256 {sha256}: {saved}"
    );
    assert!(
        out.contains("pinned from the window"),
        "s_server got: {out}"
    );
}

#[test]
fn a_self_signed_server_certificate_is_the_same_after_a_restart_of_the_window() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    if !Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: openssl is not installed");
        return;
    }
    let dir = TempDir::new("tls-kept");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", tls_on: true, close_clients_on_stop: true, tls: (server_cert: SelfSigned(["meter.local", "127.0.0.1"])))))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    window.rect("tls.kept.sha256");
    window.click("net.open");
    testkit::wait_listening(("127.0.0.1", port));
    let first = openssl_sees(port);
    let saved = window.quit();
    assert!(saved.contains("kept:Some("), "{saved}");
    // The program again, with the workspace it saved.
    let window = Window::start(&display, &dir.0, &super::Start::default());
    window.click("net.open");
    testkit::wait_listening(("127.0.0.1", port));
    let again = openssl_sees(port);
    let _ = window.quit();
    assert_eq!(first.len(), 95, "{first}");
    assert_eq!(again, first, "the certificate was kept");
}
