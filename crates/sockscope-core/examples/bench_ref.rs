//! References for `scripts/perf` P9, each as small as such a program can be:
//!
//!   cargo run --release --example bench_ref -- echo              # prints its port; serves until killed
//!   cargo run --release --example bench_ref -- pingpong ADDR N   # prints "msgs/s p50_us p99_us"
//!
//! `echo`: a blocking thread per connection that writes back what it reads. `pingpong`: one
//! blocking connection sending a 64-byte request and reading the 64-byte reply, N times.
//! Loopback only.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a reference whose setup fails should stop with the reason"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn echo() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    println!("{}", listener.local_addr().expect("addr").port());
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        std::thread::Builder::new()
            .name("echo".into())
            .spawn(move || {
                let mut buf = vec![0u8; 65536];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            })
            .expect("thread");
    }
}

fn pingpong(addr: SocketAddr, n: usize) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = [0x5Au8; 64];
    let mut reply = [0u8; 64];
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    let start = Instant::now();
    for _ in 0..n {
        let sent = Instant::now();
        stream.write_all(&request).expect("write");
        stream.read_exact(&mut reply).expect("read");
        times.push(sent.elapsed());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    times.sort();
    let at = |q: f64| {
        times[((times.len() as f64 * q) as usize).min(times.len() - 1)].as_secs_f64() * 1e6
    };
    println!("{rate:.0} {:.1} {:.1}", at(0.5), at(0.99));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("echo") => echo(),
        Some("pingpong") => pingpong(
            args[2].parse().expect("ADDR"),
            args.get(3).map_or(100_000, |s| s.parse().expect("N")),
        ),
        _ => panic!("usage: bench_ref echo | pingpong ADDR N"),
    }
}
