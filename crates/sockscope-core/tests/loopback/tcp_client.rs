//! TCP client sessions against std listeners.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use sockscope_core::codec::TextEncoding;
use sockscope_core::engine::{CloseReason, Command, EngineError, Event, Mode, Target};

use crate::util::{WAIT, read_n, received, reset, start, wait_for};

fn connected(listener: &TcpListener, loopback: &str) -> (crate::util::Probe, std::net::TcpStream) {
    let remote = listener.local_addr().unwrap();
    let session = start(Mode::TcpClient, loopback, Some(remote));
    let (peer, _) = listener.accept().unwrap();
    wait_for(&session, |e| matches!(e, Event::Connected { .. }));
    (session, peer)
}

fn sends_and_receives_both_ways(bind: &str, any: &str) {
    let listener = TcpListener::bind(bind).unwrap();
    let (session, mut peer) = connected(&listener, any);
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"hello".to_vec(),
    });
    assert_eq!(read_n(&mut peer, 5), b"hello");
    peer.write_all("世界".as_bytes()).unwrap();
    assert_eq!(received(&session, 6), "世界".as_bytes());
}

#[test]
fn client_sends_and_receives_over_ipv4() {
    sends_and_receives_both_ways("127.0.0.1:0", "0.0.0.0:0");
}

#[test]
fn client_sends_and_receives_over_ipv6() {
    sends_and_receives_both_ways("[::1]:0", "[::]:0");
}

#[test]
fn refused_connect_is_a_sentence_and_ends_the_session() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let remote: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let session = start(Mode::TcpClient, "0.0.0.0:0", Some(remote));
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    let message = events
        .iter()
        .find_map(|e| match e {
            Event::Error(e @ EngineError::Connect { .. }) => Some(e.to_string()),
            _ => None,
        })
        .expect("a connect error");
    assert_eq!(
        message,
        format!("Connection to {remote} refused: nothing is listening there")
    );
}

#[test]
fn peer_close_and_peer_reset_are_told_apart() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (session, peer) = connected(&listener, "0.0.0.0:0");
    drop(peer);
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            reason: CloseReason::PeerClosed,
            ..
        })
    ));
    wait_for(&session, |e| matches!(e, Event::Stopped));

    let (session, peer) = connected(&listener, "0.0.0.0:0");
    reset(peer);
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(
        matches!(
            events.last(),
            Some(Event::Closed {
                reason: CloseReason::Reset,
                ..
            })
        ),
        "{events:?}"
    );
}

#[test]
fn disconnect_closes_the_connection_and_the_peer_sees_it() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (session, mut peer) = connected(&listener, "0.0.0.0:0");
    session.command(Command::Stop);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::LocalClose,
            ..
        }
    )));
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(std::io::Read::read(&mut peer, &mut buf).unwrap(), 0);
}

/// A listener whose accept queue is full drops SYNs, so a connect to it hangs: a slow device.
/// (Linux behaviour; other systems may refuse or accept instead, so these tests are Linux-only.)
#[cfg(target_os = "linux")]
fn full_backlog_listener() -> (socket2::Socket, Vec<socket2::Socket>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let fillers = (0..4)
        .map(|_| {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            s.set_nonblocking(true).unwrap();
            let _ = s.connect(&addr.into());
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    (listener, fillers, addr)
}

#[cfg(target_os = "linux")]
#[test]
fn disconnect_during_a_slow_connect_gives_up_at_once() {
    let (_listener, _fillers, addr) = full_backlog_listener();
    let session = start(Mode::TcpClient, "0.0.0.0:0", Some(addr));
    wait_for(&session, |e| matches!(e, Event::Connecting { .. }));
    session.command(Command::Stop);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    assert!(
        !events.iter().any(|e| matches!(e, Event::Connected { .. })),
        "{events:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn connect_that_gets_no_answer_times_out_with_a_message() {
    let (_listener, _fillers, addr) = full_backlog_listener();
    let config = sockscope_core::engine::SessionConfig::tcp_client(addr)
        .connect_timeout(Duration::from_millis(300));
    let session = crate::util::Probe::start(config);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    let message = events.iter().find_map(|e| match e {
        Event::Error(e @ EngineError::ConnectTimeout { .. }) => Some(e.to_string()),
        _ => None,
    });
    assert_eq!(
        message,
        Some(format!("No answer from {addr} within 0.3 s")),
        "{events:?}"
    );
}

#[test]
fn gbk_character_split_across_two_reads_shows_whole() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let session = crate::util::open_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(listener.local_addr().unwrap()),
        sockscope_core::codec::framing::Framing::None,
        |c| c.log.set_encoding(TextEncoding::GBK),
    );
    let (mut peer, _) = listener.accept().unwrap();
    peer.set_nodelay(true).unwrap();
    let bytes = TextEncoding::GBK.encode("你好").unwrap();
    // Split inside the first character, with a pause so they arrive as two reads.
    peer.write_all(&bytes[..1]).unwrap();
    crate::util::wait_capture(&session, "the first byte", |c| c.counters.rx_bytes == 1);
    std::thread::sleep(Duration::from_millis(50));
    peer.write_all(&bytes[1..]).unwrap();
    crate::util::wait_capture(&session, "the rest", |c| c.counters.rx_bytes == 4);
    let capture = session.capture();
    assert!(
        capture.counters.rx_messages >= 2,
        "the bytes came in one read; the test proves nothing"
    );
    let text: String = capture
        .log
        .iter()
        .filter(|r| r.kind == sockscope_core::capture::RecordKind::Rx)
        .map(|r| r.text())
        .collect();
    assert_eq!(text, "你好");
}

fn reconnecting(addr: SocketAddr, max_tries: u32) -> crate::util::Probe {
    reconnecting_with(
        addr,
        sockscope_core::engine::Reconnect {
            interval_ms: 40,
            backoff: 2.0,
            max_interval_ms: 100,
            max_tries,
        },
    )
}

fn reconnecting_with(
    addr: SocketAddr,
    policy: sockscope_core::engine::Reconnect,
) -> crate::util::Probe {
    let mut config = crate::util::config(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(addr),
        sockscope_core::codec::framing::Framing::None,
    );
    config.reconnect = Some(policy);
    crate::util::Probe::start(config)
}

/// A loopback address nothing listens on (bound, then freed).
fn free_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], testkit::free_port()))
}

#[test]
fn reconnect_tries_a_refused_server_until_it_listens_and_again_after_a_drop() {
    let addr = free_port();
    let session = reconnecting(addr, 0);
    // Refused twice: the second wait is the first times the backoff.
    let events = wait_for(&session, |e| {
        matches!(e, Event::Reconnecting { attempt: 2, .. })
    });
    let waits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Reconnecting { attempt, after, .. } => Some((*attempt, after.as_millis())),
            _ => None,
        })
        .collect();
    assert_eq!(waits, [(1, 40), (2, 80)], "{events:#?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Error(EngineError::Connect { .. })))
    );
    // The server comes up: a later try connects.
    let listener = TcpListener::bind(addr).unwrap();
    wait_for(&session, |e| matches!(e, Event::Connected { .. }));
    let (server_side, _) = listener.accept().unwrap();
    // The server drops the client: it is announced, and the count starts again at 1.
    drop(server_side);
    let events = wait_for(&session, |e| matches!(e, Event::Reconnecting { .. }));
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Closed {
                reason: CloseReason::PeerClosed,
                ..
            }
        )),
        "{events:#?}"
    );
    assert!(matches!(
        events.last(),
        Some(Event::Reconnecting { attempt: 1, .. })
    ));
    wait_for(&session, |e| matches!(e, Event::Connected { .. }));
    let _again = listener.accept().unwrap();
    // Stop ends it for good: no reconnect follows the local close.
    session.command(Command::Stop);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Reconnecting { .. })),
        "{events:#?}"
    );
}

#[test]
fn reconnect_gives_up_after_its_tries_and_says_so() {
    let addr = free_port();
    let session = reconnecting(addr, 2);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    let tries = events
        .iter()
        .filter(|e| matches!(e, Event::Reconnecting { .. }))
        .count();
    assert_eq!(tries, 2, "{events:#?}");
    let gave_up = events.iter().find_map(|e| match e {
        Event::Error(e @ EngineError::GaveUp { .. }) => Some(e.to_string()),
        _ => None,
    });
    assert_eq!(
        gave_up,
        Some(format!("Gave up reconnecting to {addr} after 2 tries"))
    );
}

#[test]
fn stop_during_the_reconnect_wait_ends_the_session() {
    let addr = free_port();
    let session = reconnecting_with(
        addr,
        sockscope_core::engine::Reconnect {
            interval_ms: 60_000,
            ..Default::default()
        },
    );
    wait_for(&session, |e| matches!(e, Event::Reconnecting { .. }));
    session.command(Command::Stop);
    wait_for(&session, |e| matches!(e, Event::Stopped));
}

#[test]
fn stopping_the_reconnects_is_the_users_choice_not_a_failure() {
    use sockscope_core::capture::{LinkState, RecordKind};
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut config = crate::util::config(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(closed),
        sockscope_core::codec::framing::Framing::None,
    );
    config.reconnect = Some(sockscope_core::engine::Reconnect {
        interval_ms: 2_000,
        ..sockscope_core::engine::Reconnect::default()
    });
    let mut session = sockscope_core::session::Session::new(std::sync::Arc::new(|| {}));
    session.open(config, false).unwrap();
    crate::util::wait_capture(&session, "waiting to try again", |c| {
        matches!(c.link, LinkState::Reconnecting { .. })
    });
    assert!(session.capture().last_error.is_some(), "the refused try");
    session.close();
    let capture = session.capture();
    assert_eq!(capture.link, LinkState::Idle);
    assert!(
        capture.last_error.is_none(),
        "Stop reconnecting leaves the tab idle, not failed"
    );
    assert!(
        capture.log.iter().any(|r| r.kind == RecordKind::Error),
        "the log keeps the refused try"
    );
}
