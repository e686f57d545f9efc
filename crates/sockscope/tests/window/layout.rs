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
