//! A flood past the log's cap: every frame shows rows, a paused view keeps its rows or says
//! that the cap took them.

use std::io::Write;
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port, ink};

#[test]
fn every_frame_of_a_flood_past_the_cap_shows_rows_and_pause_holds_them() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("flood");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", log_cap_mib: 8)))], active: 0)"#
    );
    // A small cap (8 MiB), so eviction starts at once.
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = std::sync::Arc::clone(&stop);
    let flood = std::thread::Builder::new()
        .name("flood".into())
        .spawn(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let mut block = vec![0u8; 64 << 10];
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            while !flooding.load(std::sync::atomic::Ordering::Relaxed) {
                for b in &mut block {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    *b = x as u8;
                }
                if stream.write_all(&block).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    let area = window.rect("log.area");
    std::thread::sleep(Duration::from_millis(1500));
    let mut blank = 0;
    for _ in 0..10 {
        if ink(&window.screenshot(), area) < 2_000 {
            blank += 1;
        }
        std::thread::sleep(Duration::from_millis(150));
    }
    assert_eq!(
        blank, 0,
        "{blank} of 10 screenshots of the flood showed an empty log"
    );
    window.click("log.pause");
    let paused_at = Instant::now();
    while paused_at.elapsed() < Duration::from_secs(2) {
        let shot = window.screenshot();
        assert!(ink(&shot, area) >= 2_000, "the paused log went blank");
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    drop(window);
    let _ = flood.join();
}
