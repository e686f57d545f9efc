//! `sockscope relay` as the real program, against peers we did not write: `nc -N` half-closing
//! through it to socat's echo, iperf3 through a capped lane (the sender's rate and the
//! relay's memory), its quiet mode, and what it says about the impairments it applies.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::closed_port;

fn sockscope() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    command.env("LANG", "C").env_remove("LC_ALL");
    command
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A child process, killed when the test ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until something listens on `port`.
fn wait_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// socat echoing every connection (each through `cat`).
fn socat_echo() -> (SocketAddr, Running) {
    let port = closed_port();
    let child = Command::new("socat")
        .args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    (format!("127.0.0.1:{port}").parse().unwrap(), Running(child))
}

/// `sockscope relay 127.0.0.1:PORT UPSTREAM ARGS…`, listening; its port.
fn relay(upstream: SocketAddr, args: &[&str]) -> (u16, Running) {
    let port = closed_port();
    let child = sockscope()
        .args(["relay", &format!("127.0.0.1:{port}"), &upstream.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    wait_port(port);
    (port, running)
}

#[test]
fn nc_half_closing_through_the_relay_gets_every_echoed_byte() {
    if !has("socat") || !has("nc") {
        eprintln!("skipped: socat or nc is not installed (.ci/run installs them)");
        return;
    }
    let (echo, _socat) = socat_echo();
    let (port, _relay) = relay(echo, &[]);
    // `nc -N 127.0.0.1 RELAY < 256KiB | wc -c`: socat as the relay gives 262,144.
    let data: Vec<u8> = (0..256 << 10).map(|i: u32| (i % 251) as u8).collect();
    let mut nc = Command::new("nc")
        .args(["-N", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = nc.stdin.take().unwrap();
    let writer = std::thread::Builder::new()
        .name("nc-stdin".into())
        .spawn(move || stdin.write_all(&data).map(|()| data))
        .unwrap();
    let mut back = Vec::new();
    nc.stdout.take().unwrap().read_to_end(&mut back).unwrap();
    let data = writer.join().unwrap().unwrap();
    assert!(nc.wait().unwrap().success());
    assert_eq!(back.len(), 262_144);
    assert!(back == data, "the bytes came back changed");
}
