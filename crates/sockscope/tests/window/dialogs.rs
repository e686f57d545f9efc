//! File dialogs never block the window, and where none can be shown a prompt asks.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use super::{Display, Start, TempDir, Window, can_run, ink};

/// PATH without zenity (and, with no D-Bus session, no desktop portal): no native dialog.
fn path_without_zenity(dir: &std::path::Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let keep: Vec<String> = std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| !std::path::Path::new(d).join("zenity").exists())
        .map(str::to_owned)
        .collect();
    format!("{}:{}", bin.display(), keep.join(":"))
}

#[test]
fn with_no_portal_and_no_zenity_save_as_asks_for_a_path_in_the_window() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("no-dialog");
    let display = Display::start();
    let window = Window::start(
        &display,
        &dir.0,
        &Start {
            path: Some(path_without_zenity(&dir.0)),
            ..Start::default()
        },
    );
    window.key("ctrl+shift+s");
    window.rect("prompt.path");
    let target = dir.0.join("typed.ron");
    window.key("ctrl+a");
    window.type_text(target.to_str().unwrap());
    window.key("Return");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !target.exists() {
        assert!(Instant::now() < deadline, "nothing was saved");
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("session:"), "a profile: {text}");
    drop(window);
}

#[test]
fn while_a_dialog_is_open_the_window_repaints_and_every_datagram_reaches_the_log() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("slow-dialog");
    // A stand-in zenity: answers after 3 s with a path, as a user would.
    let path = path_without_zenity(&dir.0);
    let answer = dir.0.join("answer.ron");
    let zenity = dir.0.join("bin/zenity");
    std::fs::write(
        &zenity,
        format!("#!/bin/sh\nsleep 3\necho '{}'\n", answer.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", zenity.to_str().unwrap()])
        .status()
        .unwrap();
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: Udp, local_ip: "127.0.0.1", udp_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::start(
        &display,
        &dir.0,
        &Start {
            workspace: Some(&workspace),
            path: Some(path),
            ..Start::default()
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    window.key("ctrl+shift+s");
    // During the dialog: 2,000 datagrams, and the log keeps growing on screen.
    let area = window.rect("log.area");
    let before = ink(&window.screenshot(), area);
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..2_000u32 {
        sender
            .send_to(format!("datagram {i:04}").as_bytes(), ("127.0.0.1", port))
            .unwrap();
        if i % 100 == 0 {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let during = ink(&window.screenshot(), area);
    assert!(
        during > before,
        "the log did not grow on screen while the dialog was open"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !answer.exists() {
        assert!(
            Instant::now() < deadline,
            "the dialog's answer was not used"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Export the log (the stand-in answers again, with the export's path).
    let exported = dir.0.join("answer.ron");
    std::fs::remove_file(&exported).unwrap();
    window.click("log.export");
    window.click("export.text");
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let text = std::fs::read_to_string(&exported).unwrap_or_default();
        if text.contains("datagram 1999") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "the export never held every datagram"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let datagrams = text.lines().filter(|l| l.contains("datagram ")).count();
    assert_eq!(datagrams, 2_000, "every datagram is in the log");
    drop(window);
}

/// True if two rects (x, y, width, height) overlap.
fn overlap(a: (f32, f32, f32, f32), b: (f32, f32, f32, f32)) -> bool {
    a.0 < b.0 + b.2 && b.0 < a.0 + a.2 && a.1 < b.1 + b.3 && b.1 < a.1 + a.3
}

#[test]
fn exports_one_after_another_through_the_path_prompt_all_land_and_no_notice_covers_a_control() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("prompt-exports");
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Opened from a profile, so the window has a notice ("Opened profile …") from the start.
    let profile = dir.0.join("sensor.ron");
    std::fs::write(
        &profile,
        format!(
            r#"(version: 1, auto_connect: true, session: (mode: Udp, local_ip: "127.0.0.1", udp_port: "{port}"))"#
        ),
    )
    .unwrap();
    let display = Display::start();
    let window = Window::start(
        &display,
        &dir.0,
        &Start {
            args: vec![profile.display().to_string()],
            path: Some(path_without_zenity(&dir.0)),
            ..Start::default()
        },
    );
    window.rect("notice");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.send_to(b"reading 42", ("127.0.0.1", port)).unwrap();
    // Four exports in a row, each right after the last prompt was answered, as a user in a
    // hurry clicks.
    let formats = ["export.text", "export.hex", "export.csv", "export.text"];
    for (n, format) in formats.into_iter().enumerate() {
        assert_no_notice_covers_a_control(&window);
        window.click("log.export");
        window.click(format);
        window.rect("prompt.path");
        let target = dir.0.join(format!("export-{n}.txt"));
        window.key("ctrl+a");
        window.type_text(target.to_str().unwrap());
        window.key("Return");
        let deadline = Instant::now() + Duration::from_secs(5);
        // "reading 42", as text or as hex.
        let landed = |t: String| t.contains("reading 42") || t.contains("72 65 61 64 69 6E 67");
        while !std::fs::read_to_string(&target).is_ok_and(landed) {
            assert!(
                Instant::now() < deadline,
                "export {n} ({format}) never landed"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_no_notice_covers_a_control(&window);
    }
    // Why the prompt stood in for a dialog went to the log once, not once a prompt.
    let last = std::fs::read_to_string(dir.0.join("export-3.txt")).unwrap();
    assert_eq!(
        last.matches("No file dialog").count(),
        1,
        "the last export: {last}"
    );
}

/// Whatever the window says now covers none of the log's controls.
fn assert_no_notice_covers_a_control(window: &Window) {
    if let Some(notice) = window.find("notice") {
        for control in ["log.export", "log.pause", "log.record", "log.wrap"] {
            if let Some(rect) = window.find(control) {
                assert!(
                    !overlap(notice, rect),
                    "the notice {notice:?} covers {control} {rect:?}"
                );
            }
        }
    }
}

#[test]
fn a_profile_opened_while_a_window_is_open_gets_a_second_window_that_leaves_the_first_ones_tabs_alone()
 {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("second");
    let port = super::free_port();
    // The first window: a tab that listens on open.
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, name: "keep-me", auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let first = Window::open(&display, &dir, &workspace);
    // A profile double-clicked meanwhile starts a second window.
    let profile = dir.0.join("other.ron");
    std::fs::write(
        &profile,
        r#"(version: 2, name: "other-one", session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "9"))"#,
    )
    .unwrap();
    let second = Window::start(
        &display,
        &dir.0,
        &Start {
            args: vec![profile.display().to_string()],
            env: vec![(
                "SOCKSCOPE_TEST_RECTS",
                dir.0.join("second-rects.txt").display().to_string(),
            )],
            ..Start::default()
        },
    );
    // The keys go to the second window (without a window manager focus stays where it was
    // last given); it has nothing open, so it quits at once.
    let wid = second.wid().to_owned();
    second.xdo(&["windowfocus", "--sync", &wid]);
    second.key("ctrl+q");
    let gone = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(format!("/proc/{}/stat", second.pid()))
        .is_ok_and(|stat| !stat.contains(") Z "))
    {
        assert!(Instant::now() < gone, "the second window did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(second);
    let shared = std::fs::read_to_string(dir.0.join("data/sockscope/app.ron")).unwrap_or_default();
    // The second window wrote nothing into the first one's workspace (before: it restored the
    // first one's tabs, listened again on their port, "port in use", and saved its own tabs
    // over the first one's on the way out).
    assert!(shared.contains("keep-me"), "{shared}");
    assert!(!shared.contains("other-one"), "{shared}");
    let own =
        std::fs::read_to_string(dir.0.join("data/sockscope/second-window.ron")).unwrap_or_default();
    assert!(own.contains("other-one"), "{own}");
    assert!(!own.contains("keep-me"), "{own}");
    // The first window's tab still listens, and its workspace is its own when it closes.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let wid = first.wid().to_owned();
    first.xdo(&["windowfocus", "--sync", &wid]);
    let saved = first.quit();
    assert!(
        saved.contains("keep-me") && !saved.contains("other-one"),
        "{saved}"
    );
}
