//! Memory comes back: a log filled by a flood and then cleared returns its buffers to the OS
//! (glibc kept freed heap memory for reuse, and the read-buffer pool kept its own).

use std::io::Write;
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

/// What the flood sends: 224 MiB, under the 256 MiB cap, so all of it is held.
const SENT: usize = 224 << 20;

/// The program's resident memory in MiB, from /proc.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kib / 1024.0
}

#[test]
fn clear_gives_a_full_logs_memory_back() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("memory");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", rx_hex: true)))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let pid = window.pid();
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_mib(pid);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let block: Vec<u8> = (0..64 << 10).map(|i| b"0123456789ABCDEF"[i % 16]).collect();
    for _ in 0..SENT / block.len() {
        stream.write_all(&block).unwrap();
    }
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut full = rss_mib(pid);
    while full < idle + 180.0 {
        assert!(
            Instant::now() < deadline,
            "the log never held the flood: {full:.0} MiB"
        );
        std::thread::sleep(Duration::from_millis(100));
        full = rss_mib(pid);
    }
    window.key("ctrl+l");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = rss_mib(pid);
    // Back within a third of what the flood took (the rest: glyphs drawn, renderer caches).
    while after > idle + (full - idle) / 3.0 {
        assert!(
            Instant::now() < deadline,
            "idle {idle:.0} MiB, full {full:.0} MiB, 5 s after Clear {after:.0} MiB"
        );
        std::thread::sleep(Duration::from_millis(100));
        after = rss_mib(pid);
    }
    eprintln!("idle {idle:.0} MiB, full {full:.0} MiB, after Clear {after:.0} MiB");
    drop(window);
}
