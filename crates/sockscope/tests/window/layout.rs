//! Layout as the real window lays it out with the system's CJK fonts (kittest's fonts
//! measure differently and did not show these).

use super::{Display, TempDir, Window, can_run};

#[test]
fn in_chinese_at_1024_by_640_no_reconnect_label_is_broken_across_lines() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("layout-reconnect");
    let workspace = r"(tabs: [(path: None, profile: (version: 1, session: (mode: TcpClient, reconnect_on: true)))], active: 0, lang: Some(Zh))";
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, workspace);
    for label in [
        "ReconnectEvery",
        "ReconnectBackoff",
        "ReconnectMax",
        "ReconnectTries",
    ] {
        let (_, _, _, height) = window.rect(&format!("reconnect.{label}"));
        assert!(
            height < 28.0,
            "{label} is {height} px high: broken across two lines"
        );
    }
}

/// Same place, to within a pixel.
fn same_place(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> bool {
    (a.0 - b.0).abs() <= 1.0
        && (a.1 - b.1).abs() <= 1.0
        && (a.2 - b.2).abs() <= 1.0
        && (a.3 - b.3).abs() <= 1.0
}

#[test]
fn reset_and_the_sparkline_stay_put_as_the_rate_comes_and_goes_and_so_does_pause() {
    use std::io::Write as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("layout-status");
    let port = super::free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("Listening"));
    let quiet = (window.rect("status.reset"), window.rect("status.sparkline"));
    let pause_idle = window.rect("log.pause");
    // A client streams until told to stop: the rate text appears beside the counters.
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let streaming = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("streaming client".into())
            .spawn(move || {
                let chunk = [b'x'; 2048];
                for _ in 0..400 {
                    if stop.load(Ordering::Relaxed) || client.write_all(&chunk).is_err() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            })
            .unwrap()
    };
    window.wait_value("status.rate", |r| r.parse::<u64>().is_ok_and(|r| r > 0));
    let busy = (window.rect("status.reset"), window.rect("status.sparkline"));
    // Paused while rows arrive, the button says "Resume (N new)" in the same width.
    window.click("log.pause");
    std::thread::sleep(std::time::Duration::from_millis(600));
    let pause_paused = window.rect("log.pause");
    window.click("log.pause");
    stop.store(true, Ordering::Relaxed);
    streaming.join().unwrap();
    window.wait_value("status.rate", |r| r == "0");
    let after = (window.rect("status.reset"), window.rect("status.sparkline"));
    for (when, (reset, spark)) in [("streaming", busy), ("after", after)] {
        assert!(
            same_place(reset, quiet.0) && same_place(spark, quiet.1),
            "Reset {reset:?} and the sparkline {spark:?} moved {when} (before: {quiet:?})"
        );
    }
    assert!(
        same_place(pause_paused, pause_idle),
        "Pause {pause_idle:?} became Resume at {pause_paused:?}"
    );
}

#[test]
fn the_relay_fields_stay_inside_the_side_panel_in_both_languages_and_sizes() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    for (size, lang) in [
        ("1920x1080", "En"),
        ("1920x1080", "Zh"),
        ("1024x640", "En"),
        ("1024x640", "Zh"),
    ] {
        let dir = TempDir::new("layout-relay");
        let workspace = format!(
            r"(tabs: [(path: None, profile: (version: 2, session: (mode: Relay)))], active: 0, lang: Some({lang}))"
        );
        let display = Display::start_sized(size);
        let window = Window::open(&display, &dir, &workspace);
        // The side panel ends where the log's area begins, less its margin.
        let log = window.rect("log.area");
        let right_edge = log.0 - 8.0;
        for lane in ["relay-up", "relay-down"] {
            for knob in ["latency", "jitter", "rate", "cut"] {
                let (x, _, w, _) = window.rect(&format!("{lane}.{knob}"));
                // A walk saw the upstream → client fields clipped at the panel's edge.
                assert!(
                    x + w <= right_edge + 0.5,
                    "{size} {lang}: {lane}.{knob} ends at {} past the side panel's edge {right_edge}",
                    x + w
                );
                assert!(w >= 36.0, "{size} {lang}: {lane}.{knob} is {w} px wide");
            }
        }
        drop(window);
    }
}
