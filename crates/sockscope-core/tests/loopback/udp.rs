//! UDP sessions against std sockets.

use std::net::UdpSocket;
use std::time::Duration;

use sockscope_core::engine::{Command, Event, Mode, Target};

use crate::util::{WAIT, listening, start, wait_for};

fn receives_and_replies_to_the_peer(local: &str, peer_bind: &str) {
    let session = start(Mode::Udp, local, None);
    let addr = listening(&session);
    let peer = UdpSocket::bind(peer_bind).unwrap();
    peer.set_read_timeout(Some(WAIT)).unwrap();
    peer.send_to(b"ping", addr).unwrap();
    let events = wait_for(&session, |e| matches!(e, Event::Data(_)));
    let Some(Event::Data(data)) = events.last() else {
        unreachable!()
    };
    assert_eq!(data.bytes, b"ping");
    assert_eq!(
        data.peer,
        peer.local_addr().unwrap(),
        "the datagram's source is shown"
    );
    session.command(Command::Send {
        to: Target::Addr(data.peer),
        bytes: b"pong".to_vec(),
    });
    let mut buf = [0u8; 16];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"pong");
    assert_eq!(from, addr);
}

#[test]
fn udp_receives_and_replies_over_ipv4() {
    receives_and_replies_to_the_peer("127.0.0.1:0", "127.0.0.1:0");
}

#[test]
fn udp_receives_and_replies_over_ipv6() {
    receives_and_replies_to_the_peer("[::1]:0", "[::1]:0");
}

#[test]
fn udp_keeps_receiving_after_icmp_port_unreachable() {
    // Bound to one address, and to all (then each datagram is read with its destination).
    for bind in ["127.0.0.1:0", "0.0.0.0:0"] {
        let session = start(Mode::Udp, bind, None);
        let addr = listening(&session);
        let to = std::net::SocketAddr::from(([127, 0, 0, 1], addr.port()));
        let closed = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        // Each of these draws an ICMP port-unreachable from the kernel.
        for _ in 0..3 {
            session.command(Command::Send {
                to: Target::Addr(closed),
                bytes: b"nobody".to_vec(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.send_to(b"still there?", to).unwrap();
        let events = wait_for(&session, |e| {
            matches!(e, Event::Data(d) if d.dir == sockscope_core::engine::Direction::Rx)
                || matches!(e, Event::Stopped)
        });
        assert!(
            matches!(events.last(), Some(Event::Data(d)) if d.bytes == b"still there?"),
            "{bind}: {events:?}"
        );
        let said: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                Event::Error(e) => Some(e.to_string()),
                _ => None,
            })
            .collect();
        if cfg!(windows) {
            // Windows tells the socket on its next receive (WSAECONNRESET): before, that
            // failure went unsaid. Said with the port, counted, and the reads went on. (Wine
            // does not pass the ICMP on: the windows-latest job of the workflow runs this.)
            assert!(
                said.iter()
                    .any(|s| s.starts_with(&format!("Nothing listens at {closed}"))),
                "{bind}: {said:?}"
            );
        } else {
            // Linux tells an unconnected socket nothing of the ICMP: no sentence, as before.
            assert!(said.is_empty(), "{bind}: {said:?}");
        }
    }
}

#[test]
fn udp_port_in_use_is_a_sentence() {
    let taken = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let session = start(Mode::Udp, &addr.to_string(), None);
    let events = wait_for(&session, |e| matches!(e, Event::Stopped));
    assert!(events.iter().any(|e| matches!(e, Event::Error(e) if e.to_string() == format!("Port {} on 127.0.0.1 is already in use", addr.port()))), "{events:?}");
}
