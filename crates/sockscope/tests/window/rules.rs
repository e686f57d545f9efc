//! The Rules window in the real window: opened with Ctrl+R over a listening server, a rule
//! typed into its fields (a window above the panels, where popups and focus went wrong
//! before) answers a real client at once, and the rule is in the saved workspace.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(e) => {
                assert!(Instant::now() < deadline, "the server never listened: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn a_rule_typed_in_the_rules_window_answers_a_real_client() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let mut client = connect(port);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    window.key("ctrl+r");
    window.click("rules.add");
    window.click("cond.text");
    window.type_text("PING");
    window.click("rule.reply");
    window.type_text("PONG");
    // The window stays open and the fields kept what was typed: the client is answered.
    std::thread::sleep(Duration::from_millis(300));
    client.write_all(b"PING").unwrap();
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"PONG");
    let saved = window.quit();
    assert!(
        saved.contains(r#"when:Text(Exact,\"PING\")"#) && saved.contains(r#"payload:\"PONG\""#),
        "{saved}"
    );
}
