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
