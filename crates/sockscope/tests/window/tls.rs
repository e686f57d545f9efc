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
