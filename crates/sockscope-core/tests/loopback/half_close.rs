//! Half-close as a state, not an end: our own FIN at the end of what we send (the peer's
//! answer still arrives), a peer's FIN right at connect (what we send still goes), and the
//! tap that hands an owner every received byte in order whatever the log's cap.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::{Mode, Target};
use sockscope_core::session::Session;

use crate::util::{WAIT, config};

fn client(addr: std::net::SocketAddr, keep_half_closed: bool) -> Session {
    let mut session = Session::new(Arc::new(|| {}));
    session
        .open(
            config(Mode::TcpClient, "0.0.0.0:0", Some(addr), Framing::None),
            keep_half_closed,
        )
        .expect("session opens");
    session
}

#[test]
fn finish_sending_half_closes_after_the_queue_and_the_answer_still_arrives() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::Builder::new()
        .name("half-close-peer".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // Reads to our FIN, then answers and closes.
            let mut got = Vec::new();
            stream.read_to_end(&mut got).unwrap();
            stream
                .write_all(format!("got {}", got.len()).as_bytes())
                .unwrap();
            got
        })
        .unwrap();
    let session = client(addr, true);
    assert!(session.wait_until(WAIT, |c| !c.clients.is_empty()));
    let sent: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    for chunk in sent.chunks(64 << 10) {
        session.send_bytes(Target::AllConns, chunk.to_vec());
    }
    session.finish_sending(Target::AllConns);
    // Both sides done: the session ends by itself, with the answer in the log.
    assert!(
        session.wait_until(WAIT, |c| c.stopped),
        "the connection ended"
    );
    assert_eq!(server.join().unwrap(), sent);
    let capture = session.capture();
    assert_eq!(capture.counters.rx_bytes, b"got 3000000".len() as u64);
    let closed = capture.log.iter().any(|r| r.event() == Some("closed"));
    assert!(closed, "an orderly close, not a reset");
}

#[test]
fn a_peer_that_finishes_at_connect_still_gets_what_we_send() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::Builder::new()
        .name("half-close-peer".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // Half-closes at once, as `ncat -l > file < /dev/null` does.
            stream.shutdown(Shutdown::Write).unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).unwrap();
            got
        })
        .unwrap();
    let session = client(addr, true);
    // The FIN comes with the connect: the connection must stay for sending.
    assert!(session.wait_until(WAIT, |c| c.clients.values().any(|c| c.half_closed)));
    session.send_bytes(Target::AllConns, b"still heard".to_vec());
    session.finish_sending(Target::AllConns);
    assert!(session.wait_until(WAIT, |c| c.stopped));
    assert_eq!(server.join().unwrap(), b"still heard");
}

#[test]
fn the_tap_hands_every_byte_in_order_past_the_logs_cap() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sent: Vec<u8> = (0..8_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    let payload = sent.clone();
    std::thread::Builder::new()
        .name("tap-peer".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            stream.write_all(&payload).unwrap();
        })
        .unwrap();
    let mut session = Session::new(Arc::new(|| {}));
    let tap = session.tap_received();
    // A log far smaller than the transfer: its old records go; the tap's bytes do not.
    session.capture().log.set_cap(64 << 10);
    session
        .open(
            config(Mode::TcpClient, "0.0.0.0:0", Some(addr), Framing::None),
            true,
        )
        .unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + WAIT;
    while got.len() < sent.len() && std::time::Instant::now() < deadline {
        // A slow reader: the engine waits for it instead of dropping.
        if let Some(chunk) = tap.recv_timeout(Duration::from_millis(50)) {
            got.extend_from_slice(&chunk);
        }
    }
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "the tap's bytes differ");
    let (evicted, _) = session.capture().log.evicted();
    assert!(evicted > 0, "the log's cap was reached");
}
