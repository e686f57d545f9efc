//! The relay between real loopback peers: a client through a SockScope relay session to an
//! echo server (socat where the machine has it), bytes identical both ways, and each
//! impairment measured: latency added within ±20 % over 100 round trips, a bandwidth cap
//! within ±20 %, UDP drops near the share asked for, a cut after N bytes and on a click.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use sockscope_core::capture::{RecordKind, RelayWay};
use sockscope_core::engine::{Command, Impairment, RelayConfig, SessionConfig};
use sockscope_core::session::Session;

use testkit::Running;

use crate::util::{bound, wait_capture, wait_logged};

fn relay(
    upstream: SocketAddr,
    udp: bool,
    up: Impairment,
    down: Impairment,
) -> (Session, SocketAddr) {
    let mut session = Session::new(std::sync::Arc::new(|| {}));
    let config = SessionConfig::relay(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig {
            upstream,
            udp,
            to_upstream: up,
            to_client: down,
            replies_framing: None,
        },
    )
    .connect_timeout(std::time::Duration::from_secs(3));
    session.open(config, false).unwrap();
    let addr = bound(&session);
    (session, addr)
}

/// A TCP echo server: socat (a real third-party peer) where installed, else a thread.
fn echo_server() -> (SocketAddr, Option<Running>) {
    let port = testkit::free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let socat = Process::new("socat")
        .args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "EXEC:cat",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(child) = socat {
        let running = Running(child);
        testkit::wait_listening(addr);
        return (addr, Some(running));
    }
    eprintln!("socat is not installed: a thread echoes instead");
    (testkit::echo_server(), None)
}

fn client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

#[test]
fn a_client_through_the_relay_gets_every_byte_back_from_an_echo_server() {
    let (echo, _socat) = echo_server();
    let (session, addr) = relay(echo, false, Impairment::default(), Impairment::default());
    let mut stream = client(addr);
    let data: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let data = data.clone();
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || stream.write_all(&data).unwrap())
            .unwrap()
    };
    let mut back = vec![0u8; data.len()];
    stream.read_exact(&mut back).unwrap();
    writer.join().unwrap();
    assert!(back == data, "the bytes came back changed");
    // One log for both directions: what the client sent, and what came back from upstream.
    wait_capture(&session, "both directions logged", |c| {
        c.clients.len() == 2
            && c.clients.values().map(|c| c.rx_bytes).sum::<u64>() == 2 * data.len() as u64
    });
    let capture = session.capture();
    assert_eq!(capture.relay_upstreams.len(), 1);
    assert!(capture.log.iter().any(|r| r.text().contains("⇄ upstream")));
    // Each received row keeps which way it went (the window's C→U / U→C come from it).
    let way_bytes = |way| {
        capture
            .log
            .iter()
            .filter(|r| r.kind == RecordKind::Rx && r.relay == Some(way))
            .map(|r| r.bytes.len())
            .sum::<usize>()
    };
    assert_eq!(way_bytes(RelayWay::FromClient), data.len());
    assert_eq!(way_bytes(RelayWay::FromUpstream), data.len());
    drop(capture);
    // What each side's socket was written counts as sent: the status bar's TX and each
    // side's ↑ (they stayed at 0 B while the client showed every byte received).
    wait_capture(&session, "forwarded bytes counted as sent", |c| {
        c.counters.tx_bytes == 2 * data.len() as u64
    });
    let capture = session.capture();
    let sent: Vec<u64> = capture.clients.values().map(|c| c.tx_bytes).collect();
    assert_eq!(sent, [data.len() as u64; 2]);
}

/// Mean round trip of 100 16-byte messages through `addr`.
fn mean_rtt(addr: SocketAddr) -> Duration {
    let mut stream = client(addr);
    let mut buf = [0u8; 16];
    // The first one also waits for the upstream connect.
    stream.write_all(&buf).unwrap();
    stream.read_exact(&mut buf).unwrap();
    let started = Instant::now();
    for n in 0..100u8 {
        buf[0] = n;
        stream.write_all(&buf).unwrap();
        stream.read_exact(&mut buf).unwrap();
        assert_eq!(buf[0], n);
    }
    started.elapsed() / 100
}

#[test]
fn added_latency_is_within_a_fifth_of_the_setting_over_100_round_trips() {
    let (echo, _socat) = echo_server();
    let (_clean, clean_addr) = relay(echo, false, Impairment::default(), Impairment::default());
    let slow = Impairment {
        latency_ms: 15,
        ..Impairment::default()
    };
    // 15 ms each way: 30 ms added to every round trip.
    let (_slow, slow_addr) = relay(echo, false, slow, slow);
    let base = mean_rtt(clean_addr);
    let impaired = mean_rtt(slow_addr);
    let added = impaired.saturating_sub(base).as_secs_f64() * 1000.0;
    eprintln!("round trip {base:?} clean, {impaired:?} with 2 × 15 ms: {added:.2} ms added");
    assert!(
        (24.0..=36.0).contains(&added),
        "{added:.2} ms added, 30 ms set"
    );
}

#[test]
fn a_bandwidth_cap_holds_within_a_fifth() {
    // A server that sends 400 kB as soon as a client comes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("source".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(&vec![0x5A; 400_000]).unwrap();
            let _ = stream.read(&mut [0u8; 1]);
        })
        .unwrap();
    let capped = Impairment {
        rate_bytes: 200_000,
        ..Impairment::default()
    };
    let (_session, addr) = relay(upstream, false, Impairment::default(), capped);
    let mut stream = client(addr);
    let mut buf = vec![0u8; 65536];
    let mut got = stream.read(&mut buf).unwrap();
    let first = Instant::now();
    while got < 400_000 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "ended after {got} bytes");
        got += n;
    }
    let secs = first.elapsed().as_secs_f64();
    // The first piece (1/50 s of the rate) came at once; the rest at the cap.
    let rate = (400_000.0 - 4_000.0) / secs;
    eprintln!("{rate:.0} B/s with a 200000 B/s cap");
    assert!((160_000.0..=240_000.0).contains(&rate), "{rate:.0} B/s");
}

#[test]
fn the_pair_is_cut_after_n_bytes_and_on_a_click() {
    // An upstream that counts what it gets until the relay cuts it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    let counter = std::thread::Builder::new()
        .name("counter".into())
        .spawn(move || {
            let mut counts = Vec::new();
            for _ in 0..2 {
                let (mut stream, _) = listener.accept().unwrap();
                let mut total = 0;
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    total += n;
                }
                counts.push(total);
            }
            counts
        })
        .unwrap();
    let cut = Impairment {
        cut_after: 4096,
        ..Impairment::default()
    };
    let (session, addr) = relay(upstream, false, cut, Impairment::default());
    let mut stream = client(addr);
    stream.write_all(&[7u8; 10_000]).unwrap();
    // The client sees its connection end.
    let mut buf = [0u8; 16];
    assert_eq!(stream.read(&mut buf).unwrap_or(0), 0);
    // A second client, cut by the user while it sends.
    session.command(Command::SetImpairments(
        Impairment::default(),
        Impairment::default(),
    ));
    let mut second = client(addr);
    second.write_all(b"before the cut").unwrap();
    wait_capture(&session, "the second pair", |c| c.clients.len() == 2);
    std::thread::sleep(Duration::from_millis(100));
    session.command(Command::CutRelay);
    assert_eq!(second.read(&mut buf).unwrap_or(0), 0);
    assert_eq!(counter.join().unwrap(), [4096, 14]);
    wait_capture(&session, "the cuts said", |c| {
        c.log
            .iter()
            .filter(|r| r.text().starts_with("Cut "))
            .count()
            == 2
    });
    assert!(
        session
            .capture()
            .log
            .iter()
            .any(|r| r.text().contains("after 4096 B up"))
    );
}

#[test]
fn udp_clients_each_get_their_own_upstream_socket_and_drops_are_near_the_share() {
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let upstream = echo.local_addr().unwrap();
    echo.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let server = std::thread::Builder::new()
        .name("udp-echo".into())
        .spawn(move || {
            let mut buf = [0u8; 2048];
            let mut seen = 0;
            while let Ok((n, from)) = echo.recv_from(&mut buf) {
                seen += 1;
                echo.send_to(&buf[..n], from).unwrap();
            }
            seen
        })
        .unwrap();
    let lossy = Impairment {
        drop_percent: 30.0,
        ..Impairment::default()
    };
    let (session, addr) = relay(upstream, true, lossy, Impairment::default());
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").unwrap();
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    let (mut a_back, mut b_back) = (0, 0);
    let mut buf = [0u8; 64];
    let mut drain = |a_back: &mut u32, b_back: &mut u32| {
        for (socket, tag, count) in [(&a, b'a', a_back), (&b, b'b', b_back)] {
            while let Ok((len, _)) = socket.recv_from(&mut buf) {
                assert_eq!(buf[0], tag, "got {:?}", &buf[..len]);
                *count += 1;
            }
        }
    };
    for n in 0..500u32 {
        a.send_to(format!("a{n}").as_bytes(), addr).unwrap();
        b.send_to(format!("b{n}").as_bytes(), addr).unwrap();
        if n % 25 == 24 {
            // Read the answers as they come: our own sockets' buffers must not overflow.
            std::thread::sleep(Duration::from_millis(5));
            for s in [&a, &b] {
                s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            }
            drain(&mut a_back, &mut b_back);
        }
    }
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    drain(&mut a_back, &mut b_back);
    let reached = server.join().unwrap();
    eprintln!(
        "1000 datagrams, 30 % dropped towards upstream: {reached} reached it; back: a {a_back}, b {b_back}"
    );
    assert!(
        (600..=800).contains(&reached),
        "{reached} of 1000 reached the server"
    );
    assert_eq!(a_back + b_back, reached, "the way back drops nothing");
    assert_eq!(session.capture().relay_upstreams.len(), 2);
    // Each datagram the simulator dropped is said and counted, per direction.
    let dropped = u64::from(1000 - reached);
    wait_capture(&session, "the drops counted", |c| {
        c.counters.relay_dropped == [dropped, 0]
    });
    let capture = session.capture();
    let notes = capture
        .log
        .iter()
        .filter(|r| {
            r.text()
                .starts_with("Dropped by the simulator, client → upstream")
        })
        .count();
    assert_eq!(notes as u64, dropped, "one marked row per dropped datagram");
}

#[test]
fn pairs_are_numbered_in_the_order_they_came() {
    let (echo, _socat) = echo_server();
    let (session, addr) = relay(echo, false, Impairment::default(), Impairment::default());
    // The ids of connections run #1, #2 (client, upstream), #3, #4 …: the pairs run 1, 2, 3.
    let mut clients = Vec::new();
    for n in 1..=3 {
        let mut stream = client(addr);
        stream.write_all(b"hi").unwrap();
        let mut back = [0u8; 2];
        stream.read_exact(&mut back).unwrap();
        clients.push(stream);
        wait_logged(&session, &format!("pair {n}: 127.0.0.1:"));
    }
    drop(clients);
    wait_logged(&session, "pair 3: 127.0.0.1:");
    assert!(
        !session
            .capture()
            .log
            .iter()
            .any(|r| r.text().contains("(#")),
        "no connection ids as pair numbers"
    );
}

/// A client that writes `total` bytes (a pattern) as fast as the relay takes them, on its own
/// thread; how many it has written so far.
fn sender(
    addr: SocketAddr,
    total: usize,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
    std::thread::JoinHandle<TcpStream>,
) {
    let written = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&written);
    let mut stream = client(addr);
    // A small send buffer, as iperf3's -w: the sender's writes follow the link closely
    // instead of in bursts of megabytes.
    socket2::SockRef::from(&stream)
        .set_send_buffer_size(128 << 10)
        .unwrap();
    let thread = std::thread::Builder::new()
        .name("sender".into())
        .spawn(move || {
            let chunk: Vec<u8> = (0..64 << 10).map(|i: usize| (i % 251) as u8).collect();
            let mut done = 0;
            while done < total {
                let n = chunk.len().min(total - done);
                if stream.write_all(&chunk[..n]).is_err() {
                    break;
                }
                done += n;
                count.store(done, std::sync::atomic::Ordering::Relaxed);
            }
            stream
        })
        .unwrap();
    (written, thread)
}

/// An upstream that reads every byte it is sent once `start` is set; how many it read.
fn sink(
    start: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&read);
    std::thread::Builder::new()
        .name("sink".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            while !start.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let mut buf = vec![0u8; 64 << 10];
            let mut total = 0;
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                // The pattern the sender writes: a byte lost or changed shows here.
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(
                        *b,
                        (((total + k) % (64 << 10)) % 251) as u8,
                        "at {}",
                        total + k
                    );
                }
                total += n;
                count.store(total, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .unwrap();
    (addr, read)
}

#[test]
fn a_capped_lane_slows_its_sender_to_the_cap_and_holds_a_bounded_window() {
    let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (upstream, read) = sink(go);
    let cap = 1 << 20;
    let capped = Impairment {
        rate_bytes: cap,
        ..Impairment::default()
    };
    let (session, addr) = relay(upstream, false, capped, Impairment::default());
    let (written, _sender) = sender(addr, usize::MAX);
    // The sockets' buffers fill first; after that the sender goes at what the lane lets out.
    std::thread::sleep(Duration::from_secs(2));
    let (w1, t1) = (
        written.load(std::sync::atomic::Ordering::Relaxed),
        Instant::now(),
    );
    std::thread::sleep(Duration::from_secs(2));
    let w2 = written.load(std::sync::atomic::Ordering::Relaxed);
    let rate = (w2 - w1) as f64 / t1.elapsed().as_secs_f64();
    let got = read.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "sender {rate:.0} B/s through a {cap} B/s cap; {w2} B written, {got} B reached the upstream"
    );
    assert!(
        (0.6..=1.4).contains(&(rate / cap as f64)),
        "the sender went at {rate:.0} B/s through a {cap} B/s cap"
    );
    assert!(
        w2 - got < 16 << 20,
        "{} MiB held between the sender and the upstream",
        (w2 - got) >> 20
    );
    assert!(session.capture().last_error.is_none());
}

#[test]
fn a_slow_upstream_slows_the_client_and_then_gets_every_byte() {
    let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (upstream, read) = sink(std::sync::Arc::clone(&go));
    let (session, addr) = relay(
        upstream,
        false,
        Impairment::default(),
        Impairment::default(),
    );
    let total = 160 << 20;
    let (written, sender) = sender(addr, total);
    // The upstream reads nothing yet: the relay must stop reading the client, not queue
    // (it queued up to 64 MiB, then threw the rest away with "send queue full").
    std::thread::sleep(Duration::from_millis(1500));
    let stalled = written.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{} MiB written while the upstream read nothing",
        stalled >> 20
    );
    assert!(
        stalled < 64 << 20,
        "{} MiB taken from the client",
        stalled >> 20
    );
    go.store(true, std::sync::atomic::Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_mins(1);
    while read.load(std::sync::atomic::Ordering::Relaxed) < total {
        assert!(
            Instant::now() < deadline,
            "{} of {total} B reached the upstream",
            read.load(std::sync::atomic::Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(sender.join().unwrap());
    let capture = session.capture();
    assert!(
        capture.last_error.is_none(),
        "{:?}",
        capture.last_error.as_ref().map(ToString::to_string)
    );
}

#[test]
fn a_client_that_half_closes_gets_every_echoed_byte_and_then_the_end() {
    // As `nc -N RELAY < 256KiB | wc -c`: socat as the relay gives 262,144.
    let (echo, _socat) = echo_server();
    let (session, addr) = relay(echo, false, Impairment::default(), Impairment::default());
    let mut stream = client(addr);
    let data: Vec<u8> = (0..256 << 10).map(|i: u32| (i % 253) as u8).collect();
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let data = data.clone();
        std::thread::Builder::new()
            .name("writer".into())
            .spawn(move || {
                stream.write_all(&data).unwrap();
                stream.shutdown(std::net::Shutdown::Write).unwrap();
            })
            .unwrap()
    };
    let mut back = Vec::new();
    stream.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert_eq!(back.len(), data.len(), "bytes back before the end");
    assert!(back == data, "the bytes came back changed");
    wait_capture(&session, "the pair ended", |c| {
        c.log.iter().any(|r| r.text().contains("⇄ upstream ended"))
    });
}

#[test]
fn an_upstream_that_half_closes_still_gets_what_the_client_sends_after() {
    // An upstream that says hello, finishes sending, then reads until the client is done.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    let server = std::thread::Builder::new()
        .name("half-closing".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(b"hello, then no more").unwrap();
            stream.shutdown(std::net::Shutdown::Write).unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).unwrap();
            got
        })
        .unwrap();
    let (_session, addr) = relay(
        upstream,
        false,
        Impairment::default(),
        Impairment::default(),
    );
    let mut stream = client(addr);
    let mut greeting = Vec::new();
    stream.read_to_end(&mut greeting).unwrap();
    assert_eq!(greeting, b"hello, then no more");
    // The way up is still open.
    stream.write_all(b"late words").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(server.join().unwrap(), b"late words");
}

#[test]
fn a_large_echo_both_ways_at_once_never_stalls() {
    // More than every window and queue: both directions are held back and let go many times.
    let (echo, _socat) = echo_server();
    let (_session, addr) = relay(echo, false, Impairment::default(), Impairment::default());
    let total = 96 << 20;
    let mut stream = client(addr);
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        std::thread::Builder::new()
            .name("echo-writer".into())
            .spawn(move || {
                let chunk: Vec<u8> = (0..64 << 10).map(|i: usize| (i % 251) as u8).collect();
                for _ in 0..total / chunk.len() {
                    if stream.write_all(&chunk).is_err() {
                        return;
                    }
                }
            })
            .unwrap()
    };
    let mut buf = vec![0u8; 64 << 10];
    let mut got = 0;
    while got < total {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                for (k, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, (((got + k) % (64 << 10)) % 251) as u8, "at {}", got + k);
                }
                got += n;
            }
        }
    }
    assert_eq!(got, total, "the echo stopped");
    writer.join().unwrap();
}

#[test]
fn a_client_that_resets_while_its_capped_lane_is_full_ends_the_pair_at_once_and_says_what_was_lost()
{
    // The upstream: reads everything; notes when the relay closes it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    let closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen_closed = std::sync::Arc::clone(&closed);
    std::thread::Builder::new()
        .name("reset-upstream".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut buf = vec![0u8; 64 << 10];
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            seen_closed.store(true, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
    let capped = Impairment {
        rate_bytes: 64 << 10,
        ..Impairment::default()
    };
    let (session, addr) = relay(upstream, false, capped, Impairment::default());
    let stream = client(addr);
    wait_logged(&session, "pair 1:");
    // Write what the relay takes for a while: its lane fills to its window, the rest waits.
    stream.set_nonblocking(true).unwrap();
    let chunk = vec![7u8; 64 << 10];
    let (mut written, started) = (0usize, Instant::now());
    while started.elapsed() < Duration::from_millis(800) {
        match (&stream).write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(written > 256 << 10, "{written} B written");
    // A reset (linger 0), as a crashed device or a killed client.
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    let reset_at = Instant::now();
    drop(stream);
    while !closed.load(std::sync::atomic::Ordering::Relaxed) {
        assert!(
            reset_at.elapsed() < Duration::from_millis(500),
            "the upstream was still open {:?} after the client reset",
            reset_at.elapsed()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    wait_logged(&session, "ended: the client reset; ");
    let capture = session.capture();
    let line = capture
        .log
        .iter()
        .map(|r| r.text().into_owned())
        .find(|t| t.contains("ended: the client reset; "))
        .unwrap();
    // What waited in the lane is counted: more than nothing, less than what was written.
    let lost: u64 = line
        .split("reset; ")
        .nth(1)
        .and_then(|rest| rest.split(" B").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(lost > 0 && lost < written as u64, "{line}");
}

#[test]
fn bytes_a_client_sent_to_an_upstream_that_refused_are_said_to_be_not_relayed() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (session, addr) = relay(closed, false, Impairment::default(), Impairment::default());
    // Whether the bytes come before the refusal is the kernel's timing: try until they do.
    let mut with_bytes = 0;
    for pair in 1..=20 {
        let mut stream = client(addr);
        let _ = stream.write_all(b"hi\n");
        wait_logged(&session, &format!("pair {pair}: 127.0.0.1:"));
        wait_capture(&session, "the pair ended", |c| {
            c.log.iter().any(|r| {
                let text = r.text();
                text.starts_with(&format!("pair {pair}: ")) && text.contains(" ended")
            })
        });
        let capture = session.capture();
        let ended = capture
            .log
            .iter()
            .map(|r| r.text().into_owned())
            .find(|t| t.starts_with(&format!("pair {pair}: ")) && t.contains(" ended"))
            .unwrap();
        // Never "ended: 0 B up" after the client's bytes were shown as going up: either
        // they came first and are said not relayed, or none came before the pair ended.
        let from_client = stream.local_addr().unwrap();
        let shown = capture
            .log
            .iter()
            .any(|r| r.kind == RecordKind::Rx && r.peer == Some(from_client));
        if shown {
            assert!(
                ended.contains(
                    "not relayed, the upstream could not be reached; 3 B the client sent were not delivered"
                ),
                "{ended}"
            );
        } else {
            assert!(ended.contains("ended: 0 B up, 0 B down"), "{ended}");
        }
        if shown {
            with_bytes += 1;
            if with_bytes == 2 {
                break;
            }
        }
    }
    assert!(
        with_bytes > 0,
        "the client's bytes never came before the refusal"
    );
}

/// A relay whose two directions speak different protocols: what the upstream sends is cut by
/// its own frame layer (here none), not by the client side's, so a reply holding the client
/// side's delimiter is passed on whole at once rather than held back in pieces.
#[test]
fn the_upstreams_stream_is_cut_by_its_own_framing() {
    use sockscope_core::codec::framing::Framing;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    let server = std::thread::Builder::new()
        .name("upstream".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut asked = [0u8; 4];
            stream.read_exact(&mut asked).unwrap();
            assert_eq!(&asked, b"ask;");
            stream.write_all(b"a;b").unwrap();
            // Held open until the client has its answer: the end of the stream would hand
            // over what a framer holds and hide the fault.
            let mut rest = [0u8; 1];
            let _ = stream.read(&mut rest);
        })
        .unwrap();
    let mut session = Session::new(std::sync::Arc::new(|| {}));
    let config = SessionConfig::relay(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig {
            upstream,
            udp: false,
            to_upstream: Impairment::default(),
            to_client: Impairment::default(),
            replies_framing: Some(Framing::None),
        },
    )
    .framing(Framing::Delimiter {
        delimiter: b";".to_vec(),
        keep: true,
    })
    .connect_timeout(Duration::from_secs(3));
    session.open(config, false).unwrap();
    let addr = bound(&session);
    let mut stream = client(addr);
    stream.write_all(b"ask;").unwrap();
    let mut got = [0u8; 3];
    stream.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"a;b");
    wait_capture(&session, "the upstream's reply as one message", |c| {
        c.log.iter().any(|r| {
            r.kind == RecordKind::Rx && r.relay == Some(RelayWay::FromUpstream) && r.bytes == b"a;b"
        })
    });
    drop(stream);
    server.join().unwrap();
}
