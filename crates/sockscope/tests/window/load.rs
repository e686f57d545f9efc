//! The Load window in the real window: a run at full rate against the tab's own echo rule
//! while the log fills, and Stop answers at once with the report.

use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

#[test]
fn stop_answers_at_once_during_a_full_rate_run() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("load");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", automation: (enabled: true, rules: [(reply: Some((payload: "{{{{rx}}}}")))]))))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    // The tab listens before the load window takes its address.
    std::thread::sleep(Duration::from_millis(500));
    window.key("ctrl+shift+l");
    window.click_until("load.start", "load.live");
    std::thread::sleep(Duration::from_secs(1));
    let stop = Instant::now();
    window.click("load.stop");
    let deadline = stop + Duration::from_secs(3);
    while window.find("load.summary").is_none() {
        assert!(Instant::now() < deadline, "Stop did not answer");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        window.find("load.live").is_none(),
        "the live line gave way to the report"
    );
    drop(window);
}
