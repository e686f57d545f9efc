//! Keys typed in the same frame as a shortcut go out with it.

use std::time::Duration;

use super::{Display, TempDir, Window, can_run, listener, received};

#[test]
fn text_typed_right_before_ctrl_enter_is_sent_whole() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("typing");
    let (peer, rx) = listener();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "{}")))], active: 0)"#,
        peer.port()
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    window.click("send.box");
    // One xdotool call, no delay: the letters and Ctrl+Enter reach the window together.
    window.xdo(&[
        "key",
        "--delay",
        "0",
        "t",
        "a",
        "b",
        "3",
        "space",
        "a",
        "ctrl+Return",
    ]);
    let got = received(&rx, Duration::from_secs(3));
    assert_eq!(String::from_utf8_lossy(&got), "tab3 a");
    drop(window);
}
