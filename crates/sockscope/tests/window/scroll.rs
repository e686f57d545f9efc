//! The log follows its newest rows: through a burst, a datagram flood and a cyclic send, with
//! lines wrapped or not, and each tab keeps its own place. (egui's rubber band took the
//! follow offset for a user pulling past the edge and coasted the view up and away; every tab
//! shared one scroll position.)

use std::io::Write;
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

impl Window {
    /// A value the program noted this frame (`name = value`).
    pub fn value(&self, name: &str) -> Option<String> {
        self.frame_tags().lines().find_map(|line| {
            let (key, value) = line.split_once(" = ")?;
            (key == name).then(|| value.to_owned())
        })
    }

    /// One frame's tags, as the program wrote them.
    fn frame_tags(&self) -> String {
        std::fs::read_to_string(&self.rects).unwrap_or_default()
    }

    /// The log rows drawn in a frame: (record seq, x, y, width, height), the list's rect and
    /// the newest record's seq.
    fn log_rows_of(text: &str) -> LogRows {
        let mut rows = Vec::new();
        let (mut list, mut newest) = (None, None);
        for line in text.lines() {
            if let Some(value) = line.strip_prefix("log.newest = ") {
                newest = value.parse().ok();
                continue;
            }
            let mut parts = line.split(' ');
            let Some(name) = parts.next() else { continue };
            let n: Vec<f32> = parts.filter_map(|p| p.parse().ok()).collect();
            if n.len() != 4 {
                continue;
            }
            let rect = (n[0], n[1], n[2], n[3]);
            if name == "log.list" {
                list = Some(rect);
            } else if let Some(seq) = name.strip_prefix("log.row.") {
                rows.push((seq.parse().unwrap(), rect));
            }
        }
        rows.sort_by_key(|r| r.0);
        LogRows { rows, list, newest }
    }

    /// What a frame showed: its newest record, whether that record's row is wholly inside the
    /// list, and the first record wholly in view.
    pub fn log_view(&self) -> LogView {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let LogRows { rows, list, newest } = Self::log_rows_of(&self.frame_tags());
            if let (Some(newest), Some(list)) = (newest, list) {
                let inside = |r: &(f32, f32, f32, f32)| {
                    r.1 >= list.1 - 0.5 && r.1 + r.3 <= list.1 + list.3 + 0.5
                };
                let newest_in_view = rows.iter().any(|(seq, r)| *seq == newest && inside(r));
                let first = rows.iter().find(|(_, r)| inside(r)).map(|(seq, _)| *seq);
                let last = rows.last().map(|(seq, r)| (*seq, *r));
                return LogView {
                    newest,
                    newest_in_view,
                    first,
                    last,
                    list,
                };
            }
            assert!(Instant::now() < deadline, "the log was never drawn");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// The list's rect this frame.
    pub fn log_list(&self) -> (f32, f32, f32, f32) {
        self.log_view().list
    }

    /// Asserts, `times` times over `over`, that the newest row is wholly in view.
    pub fn assert_following(&self, what: &str, times: u32, over: Duration) {
        for i in 0..times {
            let view = self.log_view();
            assert!(
                view.newest_in_view,
                "{what}: sample {i}: the newest record is not wholly in view: {view:?}"
            );
            std::thread::sleep(over / times);
        }
    }

    /// Waits until no record came for 700 ms (a burst's reads may be joined, so its records
    /// are not counted in advance).
    pub fn wait_quiet(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut newest = self.log_view().newest;
        let mut since = Instant::now();
        while since.elapsed() < Duration::from_millis(700) {
            assert!(Instant::now() < deadline, "records kept coming");
            std::thread::sleep(Duration::from_millis(50));
            let now = self.log_view().newest;
            if now != newest {
                (newest, since) = (now, Instant::now());
            }
        }
    }

    /// Waits until the newest record is `seq` or later.
    pub fn wait_newest(&self, at_least: u64) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let view = self.log_view();
            if view.newest >= at_least {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the log never reached record #{at_least}: {view:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// One frame's rows as tagged.
struct LogRows {
    rows: Vec<(u64, (f32, f32, f32, f32))>,
    list: Option<(f32, f32, f32, f32)>,
    newest: Option<u64>,
}

/// One frame of the log, as the program drew it.
#[derive(Debug)]
pub struct LogView {
    /// The newest record's seq.
    pub newest: u64,
    /// Its row is wholly inside the list.
    pub newest_in_view: bool,
    /// The first record wholly in view.
    pub first: Option<u64>,
    /// The last row drawn and where.
    pub last: Option<(u64, (f32, f32, f32, f32))>,
    /// Where the list is.
    pub list: (f32, f32, f32, f32),
}

/// `lines` lines 1 ms apart, as a device's burst; `long` ones take three or four rows when
/// wrapped.
fn burst(port: u16, lines: u32, long: bool) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("burst".into())
        .spawn(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let tail = if long {
                " and then a long report of every sensor: 温度 23.5℃ 湿度 41% CO2 415 ppm PM2.5 12 µg/m³ pressure 1013.2 hPa"
                    .repeat(3)
            } else {
                String::new()
            };
            for i in 0..lines {
                stream
                    .write_all(format!("line {i:04} of a burst from the device{tail}\n").as_bytes())
                    .unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
            // Stays connected a while, as a device would.
            std::thread::sleep(Duration::from_secs(2));
        })
        .unwrap()
}

#[test]
fn the_newest_row_stays_in_view_through_a_burst_with_lines_wrapped_or_not() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("scroll-burst");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let sender = burst(port, 300, false);
    std::thread::sleep(Duration::from_millis(150));
    window.assert_following("during a burst", 5, Duration::from_millis(250));
    sender.join().unwrap();
    window.wait_quiet();
    window.assert_following("after a burst", 3, Duration::from_millis(300));
    // Wrapping keeps the end in view, and so does a burst with lines wrapped.
    window.click("log.wrap");
    window.assert_following("after Wrap lines was ticked", 3, Duration::from_millis(300));
    let sender = burst(port, 300, true);
    std::thread::sleep(Duration::from_millis(150));
    window.assert_following("during a burst, wrapped", 5, Duration::from_millis(250));
    sender.join().unwrap();
    window.wait_quiet();
    window.assert_following("after a burst, wrapped", 3, Duration::from_millis(300));
    window.click("log.wrap");
    window.assert_following(
        "after Wrap lines was unticked",
        3,
        Duration::from_millis(300),
    );
}

#[test]
fn with_lines_wrapped_the_newest_row_ends_at_the_bottom_of_the_log() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("scroll-wrap-end");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", wrap_lines: true)))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    let sender = burst(port, 60, true);
    sender.join().unwrap();
    window.wait_quiet();
    for sample in 0..3 {
        let view = window.log_view();
        let (seq, row) = view.last.expect("rows drawn");
        let list = view.list;
        let gap = (list.1 + list.3) - (row.1 + row.3);
        assert!(
            seq == view.newest && (-1.0..12.0).contains(&gap),
            "sample {sample}: {gap} px under the newest row {row:?} in the list {list:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn each_tab_keeps_its_place_through_datagrams_and_a_cyclic_send() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("scroll-tabs");
    let udp_port = free_port();
    let (peer, received) = super::listener();
    let workspace = format!(
        r#"(tabs: [
            (path: None, profile: (version: 1, auto_connect: true, session: (mode: Udp, local_ip: "127.0.0.1", udp_port: "{udp_port}"))),
            (path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "{}", send_text: "tick {{{{counter}}}}", cyclic_ms: 10, cyclic_on_open: true))),
        ], active: 0)"#,
        peer.port()
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    // 1000 datagrams into the UDP tab, as fast as the OS takes them (1 ms pauses now and then,
    // so none is dropped before the socket reads it).
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    for i in 0..1000 {
        socket
            .send_to(
                format!("datagram {i:04} 湿度 41%").as_bytes(),
                ("127.0.0.1", udp_port),
            )
            .unwrap();
        if i % 20 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        if i == 500 {
            window.assert_following("during 1000 datagrams", 1, Duration::ZERO);
        }
    }
    eprintln!("1000 datagrams sent in {:?}", started.elapsed());
    // Opened, and 1000 datagrams.
    window.wait_newest(1000);
    window.assert_following("after 1000 datagrams", 3, Duration::from_millis(300));
    // The cyclic tab follows its sends.
    window.click("tab.1");
    window.assert_following("during a 10 ms cyclic send", 5, Duration::from_millis(250));
    assert!(!super::received(&received, Duration::from_millis(200)).is_empty());
    // Back: the UDP tab is at its end again.
    window.click("tab.0");
    window.assert_following(
        "the UDP tab, back from the other tab",
        2,
        Duration::from_millis(200),
    );
    // Scrolled up, it comes back to the same row.
    let list = window.log_list();
    let (x, y) = (
        (list.0 + list.2 / 2.0) as i32,
        (list.1 + list.3 / 2.0) as i32,
    );
    window.xdo(&[
        "mousemove",
        "--window",
        &window.wid.clone(),
        &x.to_string(),
        &y.to_string(),
    ]);
    for _ in 0..8 {
        window.xdo(&["click", "4"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    let up = window.log_view();
    assert!(
        !up.newest_in_view,
        "eight wheel steps up still show the end: {up:?}"
    );
    let first = up.first.unwrap();
    window.click("tab.1");
    std::thread::sleep(Duration::from_millis(500));
    window.click("tab.0");
    std::thread::sleep(Duration::from_millis(300));
    let back = window.log_view();
    assert_eq!(
        back.first,
        Some(first),
        "the UDP tab came back elsewhere: {back:?}"
    );
}

#[test]
fn a_click_anywhere_on_a_row_opens_its_detail() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("row-click");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let sender = burst(port, 3, false);
    sender.join().unwrap();
    window.wait_quiet();
    let text = window.frame_tags();
    let LogRows { rows, list, .. } = Window::log_rows_of(&text);
    let list = list.unwrap();
    // A short data row: its text ends well before the list's right edge.
    let (seq, row) = *rows
        .iter()
        .find(|(_, r)| r.0 + r.2 < list.0 + list.2 - 100.0)
        .expect("a row shorter than the list");
    let (x, y) = (
        (list.0 + list.2 - 40.0) as i32,
        (row.1 + row.3 / 2.0) as i32,
    );
    window.xdo(&[
        "mousemove",
        "--window",
        &window.wid.clone(),
        &x.to_string(),
        &y.to_string(),
    ]);
    window.xdo(&["click", "1"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while window
        .value("log.detail")
        .and_then(|v| v.parse::<u64>().ok())
        != Some(seq)
    {
        assert!(
            Instant::now() < deadline,
            "a click right of row #{seq}'s text did not open its detail"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A row picked in a full log that follows its newest rows stays in view, marked, while data
/// keeps coming and the detail pane opens under it; End follows the newest rows again. (The
/// log kept following, and the picked row went out of view at once.)
#[test]
fn a_row_picked_in_a_following_log_stays_in_view_until_end() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("scroll-pick");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    // A device that sends a line every 20 ms for as long as the test runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("device".into())
            .spawn(move || {
                let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
                let mut i = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 3000 {
                    if stream
                        .write_all(format!("reading {i:04} from the device\n").as_bytes())
                        .is_err()
                    {
                        break;
                    }
                    i += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
            .unwrap()
    };
    window.wait_newest(60);
    window.assert_following("before a row is picked", 2, Duration::from_millis(200));
    // Pick a row near the bottom (the detail pane opening would cover it); rows move while
    // following, so the one picked is the one whose detail opens.
    let view = window.log_view();
    let (x, y, _, h) = window.rect(&format!("log.row.{}", view.newest - 2));
    window.click_at(x + 40.0, y + h / 2.0);
    window.wait_value("log.follow", |v| v == "held");
    let picked: u64 = window.value("log.detail").unwrap().parse().unwrap();
    assert!(
        picked + 6 > view.newest,
        "picked #{picked}, far from the bottom row clicked ({view:?})"
    );
    window.rect("log.follow");
    // Data keeps coming: the picked row stays wholly in the (shorter) list, and the newest
    // rows are no longer followed.
    let before = window.log_view().newest;
    for sample in 0..6 {
        std::thread::sleep(Duration::from_millis(300));
        let view = window.log_view();
        let row = window
            .find(&format!("log.row.{picked}"))
            .unwrap_or_else(|| {
                panic!("sample {sample}: the picked row #{picked} is not drawn: {view:?}")
            });
        let list = view.list;
        assert!(
            row.1 >= list.1 - 0.5 && row.1 + row.3 <= list.1 + list.3 + 0.5,
            "sample {sample}: the picked row {row:?} is not wholly in the list {list:?}"
        );
        assert_eq!(window.value("log.detail"), Some(picked.to_string()));
    }
    let after = window.log_view();
    assert!(
        after.newest > before + 5 && !after.newest_in_view,
        "data stopped, or the log still follows: {after:?}"
    );
    // End follows again (the detail stays open).
    window.key("End");
    window.wait_value("log.follow", |v| v == "on");
    window.assert_following("after End", 3, Duration::from_millis(300));
    assert!(
        window.find("log.follow").is_none(),
        "the Follow button stayed"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
}
