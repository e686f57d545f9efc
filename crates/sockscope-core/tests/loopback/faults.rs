//! Faults devices and networks cause: peers that never read, clients that come and go in
//! thousands. Bounded in count and time.

use std::io::Write;
use std::net::TcpStream;

use sockscope_core::engine::{Command, ConnId, EngineError, Event, Mode, Target};

use crate::util::{listening, read_n, start, wait_for};

/// Accepts `n` clients connected from the test and returns their ids in connect order.
fn accept(session: &crate::util::Probe, n: usize) -> Vec<ConnId> {
    let mut ids = Vec::new();
    wait_for(session, |e| {
        if let Event::Connected { conn, .. } = e {
            ids.push(*conn);
        }
        ids.len() == n
    });
    ids
}

#[test]
fn a_client_that_never_reads_backs_up_alone_and_can_still_be_disconnected() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let stuck = TcpStream::connect(addr).unwrap();
    let mut reader = TcpStream::connect(addr).unwrap();
    let ids = accept(&session, 2);
    let (stuck_id, reader_id) = (ids[0], ids[1]);

    // 96 MiB at a peer that reads nothing: more than the kernel buffers and our 64 MiB queue.
    // Each command returns at once (the UI thread never waits on a socket).
    let chunk = vec![0xA5u8; 1 << 20];
    for _ in 0..96 {
        session.command(Command::Send {
            to: Target::Conn(stuck_id),
            bytes: chunk.clone(),
        });
    }
    let events = wait_for(&session, |e| {
        matches!(e, Event::Error(EngineError::SendQueueFull { .. }))
    });
    let Some(Event::Error(EngineError::SendQueueFull { dropped, .. })) = events.last() else {
        unreachable!()
    };
    assert!(
        *dropped > 0,
        "the refusal says how many bytes were not sent"
    );

    // The other client is served meanwhile.
    session.command(Command::Send {
        to: Target::Conn(reader_id),
        bytes: b"still here".to_vec(),
    });
    assert_eq!(read_n(&mut reader, 10), b"still here");
    reader.write_all(b"and you?").unwrap();
    wait_for(
        &session,
        |e| matches!(e, Event::Data(d) if d.bytes == b"and you?"),
    );

    // Disconnect ends the stuck connection despite its full queue.
    session.command(Command::Disconnect(stuck_id));
    wait_for(
        &session,
        |e| matches!(e, Event::Closed { conn, .. } if *conn == stuck_id),
    );
    drop(stuck);
}

#[test]
fn two_thousand_clients_come_and_go_and_none_is_left_listed() {
    let session = crate::util::open_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        sockscope_core::codec::framing::Framing::None,
        |_| {},
    );
    let addr = crate::util::bound(&session);
    let (waves, per_wave) = (10, 200);
    for wave in 0..waves {
        let clients: Vec<TcpStream> = (0..per_wave)
            .map(|i| {
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(format!("{wave}:{i}").as_bytes()).unwrap();
                c
            })
            .collect();
        let before = wave * per_wave;
        crate::util::wait_capture(&session, "a wave connected", |c| {
            c.clients.len() == per_wave && c.counters.rx_messages as usize >= before + per_wave
        });
        drop(clients);
        let target = (wave + 1) * per_wave;
        crate::util::wait_capture(&session, "a wave left", |c| capture_closed(c) == target);
        let capture = session.capture();
        assert!(
            capture.clients.is_empty(),
            "wave {wave}: {} left",
            capture.clients.len()
        );
    }
    let received = session.capture().counters.rx_messages;
    assert_eq!(
        received,
        (waves * per_wave) as u64,
        "every client's message arrived"
    );
}

/// Clients that left so far, from the log.
fn capture_closed(capture: &sockscope_core::capture::Capture) -> usize {
    capture
        .log
        .iter()
        .filter(|r| {
            r.kind == sockscope_core::capture::RecordKind::Info && r.text().contains(" left: ")
        })
        .count()
}

#[test]
fn a_half_closed_peer_is_kept_when_asked_and_still_receives() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    session.command(Command::KeepHalfClosed(true));
    let addr = listening(&session);
    let mut peer = TcpStream::connect(addr).unwrap();
    let id = accept(&session, 1)[0];
    peer.write_all(b"last words").unwrap();
    peer.shutdown(std::net::Shutdown::Write).unwrap();
    let events = wait_for(&session, |e| matches!(e, Event::PeerFinished { .. }));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Data(d) if d.bytes == b"last words")),
        "what came before the FIN arrived: {events:?}"
    );
    assert!(!events.iter().any(|e| matches!(e, Event::Closed { .. })));

    // We can still send, and the peer reads it.
    session.command(Command::Send {
        to: Target::Conn(id),
        bytes: b"reply after your FIN".to_vec(),
    });
    assert_eq!(read_n(&mut peer, 20), b"reply after your FIN");

    // When the peer goes away for good, our next send finds out and the connection ends.
    drop(peer);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut closed = false;
    while !closed && std::time::Instant::now() < deadline {
        session.command(Command::Send {
            to: Target::Conn(id),
            bytes: b"anyone?".to_vec(),
        });
        closed = session
            .event_timeout(std::time::Duration::from_millis(50))
            .is_some_and(|e| matches!(e, Event::Closed { conn, .. } if conn == id));
    }
    assert!(closed, "a send to a peer that closed ends the connection");
}

#[test]
fn without_the_option_a_read_of_zero_closes_the_connection() {
    let session = start(Mode::TcpServer, "127.0.0.1:0", None);
    let addr = listening(&session);
    let peer = TcpStream::connect(addr).unwrap();
    let id = accept(&session, 1)[0];
    peer.shutdown(std::net::Shutdown::Write).unwrap();
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    assert!(matches!(
        events.last(),
        Some(Event::Closed { conn, reason: sockscope_core::engine::CloseReason::PeerClosed, .. }) if *conn == id
    ));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::PeerFinished { .. }))
    );
}
