//! Load figures for `scripts/perf`, each printed as one number on stdout:
//!
//!   cargo run --release --example load -- clients 10000   # clients held; prints "held accepts/s"
//!   cargo run --release --example load -- udp 1000000     # 64-byte datagrams sent by the
//!                                                         # engine's generator path, per second
//!   cargo run --release --example load -- sendto 1000000  # the same from a tight sendto loop
//!
//! Loopback only; every socket is closed at the end.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a load run whose setup fails should stop with the reason"
)]

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::LinkState;
use sockscope_core::engine::{Mode, Pace, SessionConfig, Target};
use sockscope_core::session::Session;

fn session(mode: Mode) -> (Session, SocketAddr) {
    let config = SessionConfig::new(mode, "127.0.0.1:0".parse().expect("address"), None);
    let mut session = Session::new(Arc::new(|| {}));
    session.open(config, false).expect("session");
    let mut addr = None;
    session.wait_until(Duration::from_secs(5), |c| {
        if let LinkState::Listening(local) = c.link {
            addr = Some(local);
        }
        addr.is_some() || c.last_error.is_some()
    });
    if let Some(error) = &session.capture().last_error {
        panic!("{error}");
    }
    (session, addr.expect("listening"))
}

/// Opens `n` clients against one server session; prints how many it holds at once and the
/// accept rate. The clients live in a child process (this program again, `connect`), so each
/// process needs only `n` descriptors.
fn clients(n: usize) {
    let (session, addr) = session(Mode::TcpServer);
    let start = Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .args(["connect", &addr.to_string(), &n.to_string()])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("client process");
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut accepted = 0;
    while accepted < n && Instant::now() < deadline {
        session.wait_until(Duration::from_millis(200), |c| c.clients.len() >= n);
        accepted = session.capture().clients.len();
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(child.stdin.take());
    let _ = child.wait();
    println!("{accepted} {:.0}", accepted as f64 / elapsed);
}

/// The child of [`clients`]: connects `n` times to `addr`, then holds them until stdin closes.
fn connect(addr: &str, n: usize) {
    let addr: SocketAddr = addr.parse().expect("address");
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        match TcpStream::connect(addr) {
            Ok(stream) => held.push(stream),
            Err(e) => {
                eprintln!("connect {} failed: {e}", held.len() + 1);
                break;
            }
        }
    }
    let _ = std::io::Read::read(&mut std::io::stdin(), &mut [0u8; 1]);
}

/// The engine sends `n` 64-byte datagrams (a file sent in 64-byte chunks, unpaced) to a UDP
/// socket that does not read; prints datagrams per second.
fn udp(n: u64) {
    let sink = UdpSocket::bind("127.0.0.1:0").expect("sink");
    let to = sink.local_addr().expect("sink address");
    let path_dir = tempfile::tempdir().expect("a temporary folder");
    let path = path_dir
        .path()
        .join(format!("sockscope-load-{}.bin", std::process::id()));
    std::fs::write(&path, vec![0x42u8; usize::try_from(n * 64).expect("size")]).expect("file");
    let (session, _) = session(Mode::Udp);
    let start = Instant::now();
    session.send_file(Target::Addr(to), path.clone(), 64, Pace::Unlimited);
    let done = session.wait_until(Duration::from_secs(30), |c| {
        c.counters.tx_bytes >= n * 64 && c.sending.file.is_none()
    });
    assert!(done, "the file send stalled");
    let elapsed = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    println!("{:.0}", n as f64 / elapsed);
}

/// A tight loop of `send_to` with 64-byte datagrams: the reference for [`udp`].
fn sendto(n: u64) {
    let sink = UdpSocket::bind("127.0.0.1:0").expect("sink");
    let to = sink.local_addr().expect("sink address");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("socket");
    let datagram = [0x42u8; 64];
    let start = Instant::now();
    for _ in 0..n {
        socket.send_to(&datagram, to).expect("send_to");
    }
    println!("{:.0}", n as f64 / start.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = |default: u64| {
        args.get(1)
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(default)
    };
    match args.first().map(String::as_str) {
        Some("clients") => clients(usize::try_from(count(10_000)).expect("count")),
        Some("connect") => connect(
            args.get(1).map_or("", String::as_str),
            args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0),
        ),
        Some("udp") => udp(count(1_000_000)),
        Some("sendto") => sendto(count(1_000_000)),
        _ => eprintln!("usage: load clients N | udp N | sendto N"),
    }
}
