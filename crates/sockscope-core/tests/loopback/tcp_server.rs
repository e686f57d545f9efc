//! TCP server sessions against std clients.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};

use sockscope_core::engine::{CloseReason, Command, ConnId, Event, Mode, Target};

use crate::util::{
    first_error, listening, read_n, reads_nothing, received, reset, start, wait_for,
};

/// Connects `n` std clients and returns them with the ids the server gave them, by local port.
fn clients(session: &crate::util::Probe, addr: SocketAddr, n: usize) -> Vec<(ConnId, TcpStream)> {
    let streams: Vec<TcpStream> = (0..n).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut ids = BTreeMap::new();
    wait_for(session, |e| {
        if let Event::Connected { conn, peer, .. } = e {
            ids.insert(peer.port(), *conn);
        }
        ids.len() == n
    });
    streams
        .into_iter()
        .map(|s| (ids[&s.local_addr().unwrap().port()], s))
        .collect()
}

fn serves_many_clients(local: &str) {
    let session = start(Mode::TcpServer, local, None);
    let addr = listening(&session);
    let mut clients = clients(&session, addr, 3);
    // To one client: only it receives.
    let (first, _) = clients[0];
    session.command(Command::Send {
        to: Target::Conn(first),
        bytes: b"one".to_vec(),
    });
    assert_eq!(read_n(&mut clients[0].1, 3), b"one");
    assert!(reads_nothing(&mut clients[1].1));
    assert!(reads_nothing(&mut clients[2].1));
    // To all.
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"all".to_vec(),
    });
    for (_, stream) in &mut clients {
        assert_eq!(read_n(stream, 3), b"all");
    }
    // From a client.
    clients[2].1.write_all(b"up").unwrap();
    assert_eq!(received(&session, 2), b"up");
}

#[test]
fn server_serves_many_clients_over_ipv4() {
    serves_many_clients("127.0.0.1:0");
}

#[test]
fn server_serves_many_clients_over_ipv6() {
    serves_many_clients("[::1]:0");
}

#[test]
fn server_on_all_ipv6_addresses_accepts_ipv4_clients_too() {
    let session = start(Mode::TcpServer, "[::]:0", None);
    let port = listening(&session).port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut clients = clients(&session, addr, 1);
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"v4".to_vec(),
    });
    assert_eq!(read_n(&mut clients[0].1, 2), b"v4");
}

#[test]
fn server_tells_a_client_that_left_from_one_that_reset() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let mut clients = clients(&session, addr, 2);
    let (reset_id, resetter) = clients.pop().unwrap();
    let (left_id, leaver) = clients.pop().unwrap();
    drop(leaver);
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(
        matches!(events.last(), Some(Event::Closed { conn, reason: CloseReason::PeerClosed, .. }) if *conn == left_id)
    );
    reset(resetter);
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(
        matches!(events.last(), Some(Event::Closed { conn, reason: CloseReason::Reset, .. }) if *conn == reset_id),
        "{events:?}"
    );
}

#[test]
fn server_disconnects_one_client_and_keeps_the_others() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let mut clients = clients(&session, addr, 2);
    session.command(Command::Disconnect(clients[0].0));
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(matches!(
        events.last(),
        Some(Event::Closed {
            reason: CloseReason::LocalClose,
            ..
        })
    ));
    let mut buf = [0u8; 4];
    clients[0]
        .1
        .set_read_timeout(Some(crate::util::WAIT))
        .unwrap();
    assert_eq!(
        std::io::Read::read(&mut clients[0].1, &mut buf).unwrap(),
        0,
        "the client sees EOF"
    );
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"x".to_vec(),
    });
    assert_eq!(read_n(&mut clients[1].1, 1), b"x");
}

#[test]
fn port_in_use_is_a_sentence_naming_port_and_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let session = start(Mode::TcpServer, &addr.to_string(), None);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    let message = first_error(&events);
    assert_eq!(
        message,
        Some(format!(
            "Port {} on 127.0.0.1 is already in use",
            addr.port()
        ))
    );
}

#[test]
fn a_port_below_1024_without_permission_explains_the_rule() {
    // Port 1 on loopback: nothing real listens there, and binding it needs privileges unless
    // this user has them (root, or a system that lets anyone bind low ports).
    let session = start(Mode::TcpServer, "127.0.0.1:1", None);
    let events = wait_for(&session, |e| {
        matches!(e, Event::Listening { .. } | Event::Stopped)
    });
    match events.last() {
        Some(Event::Listening { .. }) => {
            eprintln!(
                "skipped: this user may bind port 1 (root, or low ports are unprivileged here)"
            );
        }
        _ => {
            let message = first_error(&events);
            assert_eq!(
                message.as_deref(),
                Some(
                    "Permission denied for port 1 on 127.0.0.1: ports below 1024 need administrator rights"
                )
            );
        }
    }
}

#[test]
fn stop_listening_keeps_clients_by_default_and_can_close_them() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let mut clients = clients(&session, addr, 1);
    session.command(Command::StopListening {
        close_clients: false,
    });
    wait_for(&session, |e| matches!(e, Event::ListenerClosed));
    assert!(TcpStream::connect(addr).is_err(), "no longer accepting");
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"kept".to_vec(),
    });
    assert_eq!(read_n(&mut clients[0].1, 4), b"kept");
    // Listen again in the same session, then stop and close everyone.
    session.command(Command::Listen(addr));
    listening(&session);
    session.command(Command::StopListening {
        close_clients: true,
    });
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::LocalClose,
            ..
        }
    )));
}

#[test]
fn restart_on_the_same_port_works_at_once() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let mut clients = clients(&session, addr, 1);
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: b"a".to_vec(),
    });
    read_n(&mut clients[0].1, 1);
    // We close first, so our side holds TIME_WAIT: only SO_REUSEADDR lets the port be bound again.
    drop(session);
    let again = start(Mode::TcpServer, &addr.to_string(), None);
    assert_eq!(listening(&again), addr);
}
