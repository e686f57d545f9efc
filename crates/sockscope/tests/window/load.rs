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
    // The tab listens before the load window takes its address (seen without connecting to it).
    testkit::wait_bound(port);
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

/// The middle of a rect.
fn middle(rect: (f32, f32, f32, f32)) -> (f32, f32) {
    (rect.0 + rect.2 / 2.0, rect.1 + rect.3 / 2.0)
}

#[test]
fn stop_appears_where_start_was_and_a_click_there_stops_the_run() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("load-anchor");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", automation: (enabled: true, rules: [(reply: Some((payload: "{{{{rx}}}}")))]))))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    testkit::wait_bound(port);
    window.key("ctrl+shift+l");
    let start = window.rect("load.start");
    window.click_until("load.start", "load.stop");
    // The run's counts and charts fill in; the window must not grow or move under the pointer.
    std::thread::sleep(Duration::from_millis(1500));
    let stop = window.rect("load.stop");
    let (moved_x, moved_y) = (
        (middle(stop).0 - middle(start).0).abs(),
        (middle(stop).1 - middle(start).1).abs(),
    );
    assert!(
        moved_x <= 2.0 && moved_y <= 2.0,
        "Start was at {start:?}, Stop is at {stop:?}"
    );
    // A click where Start was stops the run.
    let (x, y) = middle(start);
    window.click_at(x, y);
    let deadline = Instant::now() + Duration::from_secs(5);
    while window.find("load.summary").is_none() {
        assert!(
            Instant::now() < deadline,
            "the click where Start was missed Stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let again = window.rect("load.start");
    assert!(
        (middle(again).0 - middle(start).0).abs() <= 2.0
            && (middle(again).1 - middle(start).1).abs() <= 2.0,
        "Start came back at {again:?}, not {start:?}"
    );
}

#[test]
fn the_reply_text_field_takes_the_rest_of_its_row() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("load-reply");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    window.key("ctrl+shift+l");
    window.click_until("load.mode.ping-pong", "load.reply.text");
    window.click_until("load.reply.text", "load.reply");
    let before = window.rect("load.start");
    let field = window.rect("load.reply");
    let kinds = window.rect("load.reply.regex");
    // It was about 15 px wide at the end of a grid cell ("ping" showed as "g").
    assert!(field.2 >= 300.0, "the field is {} px wide", field.2);
    assert!(
        field.0 > kinds.0 + kinds.2,
        "it follows the choices on their row"
    );
    window.click("load.reply");
    window.type_text("ping");
    std::thread::sleep(Duration::from_millis(300));
    let shot = window.screenshot();
    assert!(super::ink(&shot, field) > 0);
    // Choosing it does not widen or move the window.
    let after = window.rect("load.start");
    assert_eq!(before, after);
    drop(window);
}
