//! The session against real loopback peers: ingest that needs no owner, one counter per
//! session, the form's targets.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::capture::LinkState;
use crate::codec::payload::SendSpec;

const WAIT: Duration = Duration::from_secs(5);

fn udp_session() -> (Session, SocketAddr) {
    let mut session = Session::new(Arc::new(|| {}));
    let config = SessionConfig::udp("127.0.0.1:0".parse().unwrap(), None);
    session.open(config, false).unwrap();
    let mut addr = None;
    session.wait_until(WAIT, |c| {
        if let LinkState::Listening(local) = c.link {
            addr = Some(local);
        }
        addr.is_some()
    });
    (session, addr.unwrap())
}

/// Sends `n` numbered datagrams to `to` at about `per_second`, from its own thread.
fn send_numbered(to: SocketAddr, n: u32, per_second: u32) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("udp-peer".into())
        .spawn(move || {
            let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
            let start = Instant::now();
            for i in 0..n {
                let due = start + Duration::from_secs_f64(f64::from(i) / f64::from(per_second));
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                peer.send_to(format!("datagram {i:05}").as_bytes(), to)
                    .unwrap();
            }
        })
        .unwrap()
}

fn received_texts(capture: &Capture) -> Vec<String> {
    capture
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| r.text().into_owned())
        .collect()
}

#[test]
fn datagrams_reach_the_log_while_nobody_looks_for_two_seconds() {
    // An owner that is blocked (a modal dialog, a minimised window without frames) neither
    // pumps nor locks: the I/O thread folds into the log itself.
    let (session, addr) = udp_session();
    let peer = send_numbered(addr, 10_000, 5_000);
    std::thread::sleep(Duration::from_secs(2));
    peer.join().unwrap();
    // Looked at for the first time now, after the last datagram was sent.
    let arrived = session.wait_until(Duration::from_millis(500), |c| {
        c.counters.rx_messages == 10_000
    });
    let capture = session.capture();
    assert!(
        arrived,
        "{} of 10000 in the log",
        capture.counters.rx_messages
    );
    assert_eq!(capture.counters.dropped_datagrams, 0);
    let texts = received_texts(&capture);
    assert_eq!(texts.len(), 10_000);
    assert_eq!(texts.first().map(String::as_str), Some("datagram 00000"));
    assert_eq!(texts.last().map(String::as_str), Some("datagram 09999"));
}

#[test]
fn datagrams_are_kept_while_the_owner_holds_the_log_for_two_seconds() {
    // An owner stuck in the middle of a frame holds the lock: the I/O thread keeps reading
    // and hands the events over when the lock is free, losing none.
    let (session, addr) = udp_session();
    let peer = {
        let _frame = session.capture();
        let peer = send_numbered(addr, 10_000, 5_000);
        std::thread::sleep(Duration::from_secs(2));
        peer
    };
    peer.join().unwrap();
    let arrived = session.wait_until(WAIT, |c| c.counters.rx_messages == 10_000);
    let capture = session.capture();
    assert!(
        arrived,
        "{} of 10000 in the log",
        capture.counters.rx_messages
    );
    assert_eq!(capture.counters.dropped_datagrams, 0);
    let texts = received_texts(&capture);
    let in_order = texts.windows(2).all(|w| w[0] < w[1]);
    assert!(in_order, "the held events came in the order they arrived");
}

#[test]
fn one_counter_per_session_advanced_only_by_sends_that_go() {
    let (session, _) = udp_session();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let to = Target::Addr(peer.local_addr().unwrap());
    let payload = Payload::parse("n={{counter}}", &SendSpec::default()).unwrap();
    // A send with nowhere to go uses up no value.
    session.send(Target::AllConns, payload.clone());
    session.wait_until(WAIT, |c| c.last_error.is_some());
    // A cyclic send of three, then a manual send: one counter, no value twice or skipped.
    session.start_cyclic(
        to.clone(),
        payload.clone(),
        Duration::from_millis(5),
        Some(3),
    );
    session.wait_until(WAIT, |c| c.sending.scheduled_last == 3);
    session.send(to, payload);
    let mut got = Vec::new();
    let mut buf = [0u8; 32];
    for _ in 0..4 {
        let n = peer.recv(&mut buf).unwrap();
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    assert_eq!(got, ["n=1", "n=2", "n=3", "n=4"]);
    assert_eq!(
        session.vars().counter,
        5,
        "the preview shows the next value"
    );
}

#[test]
fn closing_returns_only_after_the_last_event_is_in_the_log() {
    let (mut session, addr) = udp_session();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.send_to(b"last words", addr).unwrap();
    session.wait_until(WAIT, |c| c.counters.rx_messages == 1);
    session.close();
    assert!(!session.is_open());
    let capture = session.capture();
    assert!(capture.stopped);
    assert_eq!(capture.link, LinkState::Idle);
    let last = capture.log.iter().last().unwrap().text().into_owned();
    assert!(last.contains("closed"), "closing UDP says so: {last}");
}
