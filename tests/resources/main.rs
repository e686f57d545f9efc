//! Process-wide resources after heavy use: file descriptors and threads come back to where
//! they were. Its own test binary (one test), so no other test's sockets are counted.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope::capture::Capture;
use sockscope::codec::framing::Framing;
use sockscope::engine::{Event, Mode, Session, SessionConfig};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Applies events until `done` holds; panics after 10 s.
fn pump(session: &Session, capture: &mut Capture, done: impl Fn(&Capture) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(capture) {
        assert!(
            Instant::now() < deadline,
            "stuck: {} clients",
            capture.clients.len()
        );
        if let Some(event) = session.event_timeout(Duration::from_millis(20)) {
            capture.apply(event);
        }
    }
}

#[test]
fn churn_of_2000_clients_leaks_no_descriptor_and_no_thread() {
    let (fds_before, threads_before) = (open_fds(), threads());
    {
        let config = SessionConfig {
            mode: Mode::TcpServer,
            local: "127.0.0.1:0".parse().unwrap(),
            remote: None,
            connect_timeout: Duration::from_secs(3),
            framing: Framing::None,
        };
        let session = Session::start(config, Arc::new(|| {})).unwrap();
        let mut capture = Capture::default();
        capture.begin(Mode::TcpServer);
        let addr = loop {
            match session.event_timeout(Duration::from_secs(5)) {
                Some(Event::Listening { local }) => break local,
                Some(_) => {}
                None => panic!("not listening"),
            }
        };
        for wave in 0..10u64 {
            let clients: Vec<TcpStream> = (0..200)
                .map(|_| {
                    let mut c = TcpStream::connect(addr).unwrap();
                    c.write_all(b"x").unwrap();
                    c
                })
                .collect();
            pump(&session, &mut capture, |c| {
                c.counters.rx_bytes == (wave + 1) * 200
            });
            // While they are connected, the session holds one descriptor each.
            assert!(open_fds() >= fds_before + 200);
            drop(clients);
            pump(&session, &mut capture, |c| c.clients.is_empty());
        }
        // Back to the listener and the poll's own descriptors while the session lives.
        assert!(open_fds() < fds_before + 20, "{} open", open_fds());
    }
    // The session is dropped: its thread joined, its sockets and poll closed.
    assert_eq!(open_fds(), fds_before);
    assert_eq!(threads(), threads_before);
}
