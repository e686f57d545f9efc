//! `sockscope relay` as the real program, against peers we did not write: `nc -N` half-closing
//! through it to socat's echo, iperf3 through a capped lane (the sender's rate and the
//! relay's memory), its quiet mode, and what it says about the impairments it applies.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{Running, free_port, wait_port};

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

/// socat echoing every connection (each through `cat`).
fn socat_echo() -> (SocketAddr, Running) {
    let port = free_port();
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
    let port = free_port();
    let child = sockscope()
        .args(["relay", &format!("127.0.0.1:{port}"), &upstream.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let running = Running(child);
    // Without connecting: a probe through the relay would reach the upstream (iperf3's server
    // takes it for a test of its own).
    testkit::wait_bound(port);
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

/// A process's resident memory and its peak, bytes.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What iperf3's JSON says a run sent and received, bits per second.
fn iperf_rates(json: &str) -> (f64, f64) {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    let end = &value["end"];
    let rate = |sum: &str| {
        end[sum]["bits_per_second"]
            .as_f64()
            .unwrap_or_else(|| panic!("iperf3 said: {json}"))
    };
    (rate("sum_sent"), rate("sum_received"))
}

#[test]
fn iperf3_through_a_capped_lane_goes_at_the_cap_and_the_relay_stays_small() {
    if !has("iperf3") {
        eprintln!("skipped: iperf3 is not installed (.ci/run installs it)");
        return;
    }
    let server_port = free_port();
    let server = Running(
        Command::new("iperf3")
            .args(["-s", "-p", &server_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Without connecting: iperf3's server takes a probe for a test's control connection and
    // may then refuse the real one ("connected": []).
    testkit::wait_bound(server_port);
    let upstream: SocketAddr = format!("127.0.0.1:{server_port}").parse().unwrap();
    let (port, relay) = relay(upstream, &["--up", "rate=1MiB/s", "--quiet"]);
    let pid = relay.0.id();
    // A small window (-w), so what sits in the kernel's buffers is small beside 6 s at the cap.
    let out = Command::new("iperf3")
        .args([
            "-c",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            "6",
            "-w",
            "128K",
            "-J",
        ])
        .output()
        .unwrap();
    let (rss, peak) = memory(pid);
    drop(server);
    let json = String::from_utf8_lossy(&out.stdout);
    let (sent, received) = iperf_rates(&json);
    let cap = f64::from(8 << 20);
    eprintln!(
        "iperf3 through a 1 MiB/s cap: sender {:.2} Mbit/s, receiver {:.2} Mbit/s (cap {:.2}); relay RSS {} MiB, peak {} MiB",
        sent / 1e6,
        received / 1e6,
        cap / 1e6,
        rss >> 20,
        peak >> 20
    );
    assert!(
        sent < cap * 1.5,
        "the sender went at {:.1} Mbit/s through a {:.1} Mbit/s cap",
        sent / 1e6,
        cap / 1e6
    );
    assert!((0.8..=1.2).contains(&(received / cap)), "{received}");
    assert!(peak < 64 << 20, "the relay grew to {} MiB", peak >> 20);
}

#[test]
fn quiet_prints_the_events_and_what_each_direction_goes_through_and_tcp_drops_are_refused() {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return;
    }
    let (echo, _socat) = socat_echo();
    let port = free_port();
    let child = sockscope()
        .args([
            "relay",
            &format!("127.0.0.1:{port}"),
            &echo.to_string(),
            "--up",
            "latency=20ms,rate=64KiB/s",
            "--quiet",
            "--duration",
            "2s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(b"a payload line").unwrap();
    let mut back = [0u8; 14];
    stream.read_exact(&mut back).unwrap();
    drop(stream);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(
            "client → upstream: latency 20 ms, rate cap 64 KiB/s; upstream → client: none"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("⇄ upstream"), "{stdout}");
    assert!(!stdout.contains("a payload line"), "quiet: {stdout}");
    // A TCP stream cannot lose bytes: drop= on TCP is refused, not ignored.
    let out = sockscope()
        .args(["relay", "0", &echo.to_string(), "--up", "drop=5%"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("drop= is for UDP (--udp)"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_stdout_nobody_reads_does_not_stop_the_relay() {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return;
    }
    let (echo, _socat) = socat_echo();
    let port = free_port();
    // stdout is a pipe nobody reads: it fills after 64 KiB and every write to it blocks.
    let child = sockscope()
        .args(["relay", &format!("127.0.0.1:{port}"), &echo.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _relay = Running(child);
    wait_port(port);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // More than the 64 MiB the engine lets wait for its owner before it stops reading.
    let total = 160 << 20;
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::Builder::new()
            .name("relay-writer".into())
            .spawn(move || {
                let chunk = vec![0x42u8; 64 << 10];
                for _ in 0..total / chunk.len() {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                }
            })
            .unwrap()
    };
    let started = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    let mut got = 0;
    while got < total {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    eprintln!(
        "{} MiB through the relay in {:?} with its stdout blocked",
        got >> 20,
        started.elapsed()
    );
    // Before the writer is joined: a relay that stopped leaves it blocked until the relay is
    // killed at the end of the test.
    assert_eq!(got, total, "the relay stopped while its printing waited");
    writer.join().unwrap();
}

/// `--upstream-protocol`: a gateway whose clients speak Modbus RTU (over TCP) and whose
/// upstream answers in DL/T 645. Each direction is cut and decoded with its own protocol;
/// there was no way to say so, and the reply was decoded as a broken RTU frame.
#[test]
fn the_upstream_may_speak_another_protocol_than_the_clients() {
    let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up_addr = upstream.local_addr().unwrap();
    let rtu =
        sockscope_core::codec::hex::parse("68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16")
            .unwrap();
    let answer = rtu.clone();
    let server = std::thread::Builder::new()
        .name("upstream".into())
        .spawn(move || {
            let (mut stream, _) = upstream.accept().unwrap();
            let mut buf = [0u8; 64];
            let _ = stream.read(&mut buf).unwrap();
            stream.write_all(&answer).unwrap();
            // Kept open until the client has its answer (the end would hand over what is held).
            let _ = stream.read(&mut buf);
        })
        .unwrap();
    let port = free_port();
    let child = sockscope()
        .args([
            "relay",
            &format!("127.0.0.1:{port}"),
            &up_addr.to_string(),
            "--protocol",
            "modbus-rtu",
            "--upstream-protocol",
            "dlt645",
            "--duration",
            "2s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    testkit::wait_bound(port);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(&sockscope_core::codec::hex::parse("01 03 00 00 00 01 84 0A").unwrap())
        .unwrap();
    let mut back = vec![0u8; rtu.len()];
    stream
        .read_exact(&mut back)
        .expect("the reply is passed on while the upstream stays connected");
    assert_eq!(back, rtu);
    drop(stream);
    server.join().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("≡ Modbus RTU slave 1 · 0x03"),
        "the request as Modbus RTU: {stdout}"
    );
    assert!(
        stdout.contains("≡ DL/T645 000000000001 · 0x13 Read address"),
        "the reply as DL/T 645: {stdout}"
    );
    assert!(!stdout.contains("partial"), "{stdout}");
}
