//! Helpers: start an engine or a whole session, wait for events in bounded steps, make real
//! resets.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::Capture;
use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::{Command, Engine, Event, EventQueue, Mode, SessionConfig};
use sockscope_core::session::Session;

/// Long enough for a loaded CI machine, short enough that a hang fails fast.
pub const WAIT: Duration = Duration::from_secs(5);

/// An engine whose events the test reads one by one.
pub struct Probe {
    engine: Engine,
    events: EventQueue,
}

impl Probe {
    pub fn start(config: SessionConfig) -> Probe {
        let (engine, events) =
            Engine::start_queued(config, Arc::new(|| {})).expect("engine starts");
        Probe { engine, events }
    }

    pub fn command(&self, command: Command) {
        self.engine.command(command);
    }

    pub fn event_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.event_timeout(timeout)
    }
}

pub fn config(
    mode: Mode,
    local: &str,
    remote: Option<SocketAddr>,
    framing: Framing,
) -> SessionConfig {
    SessionConfig::new(mode, local.parse().expect("test address"), remote)
        .connect_timeout(Duration::from_secs(3))
        .framing(framing)
}

/// A whole session (engine folding into its capture on the I/O thread), opened; `setup`
/// prepares the capture first (cap, encoding, recording).
pub fn open_session(
    mode: Mode,
    local: &str,
    remote: Option<SocketAddr>,
    framing: Framing,
    setup: impl FnOnce(&mut Capture),
) -> Session {
    let mut session = Session::new(Arc::new(|| {}));
    setup(&mut session.capture());
    session
        .open(config(mode, local, remote, framing), false)
        .expect("session opens");
    session
}

/// The address a session's listener or UDP socket is bound to.
pub fn bound(session: &Session) -> SocketAddr {
    session
        .wait_listening(WAIT)
        .expect("the session is listening")
}

/// Waits until `done` holds for the session's capture; panics after `WAIT`.
pub fn wait_capture(session: &Session, what: &str, done: impl FnMut(&Capture) -> bool) {
    assert!(
        session.wait_until(WAIT, done),
        "timed out waiting for {what}"
    );
}

/// Waits until a record of the session's log holds `needle`; panics after `WAIT`.
pub fn wait_logged(session: &Session, needle: &str) {
    wait_capture(session, needle, |c| {
        c.log.iter().any(|r| r.text().contains(needle))
    });
}

pub fn start(mode: Mode, local: &str, remote: Option<SocketAddr>) -> Probe {
    start_framed(mode, local, remote, Framing::None)
}

pub fn start_framed(
    mode: Mode,
    local: &str,
    remote: Option<SocketAddr>,
    framing: Framing,
) -> Probe {
    Probe::start(config(mode, local, remote, framing))
}

/// Collects events until `done` says so; panics with what was seen if `WAIT` runs out.
pub fn wait_for(session: &Probe, mut done: impl FnMut(&Event) -> bool) -> Vec<Event> {
    let deadline = Instant::now() + WAIT;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(event) = session.event_timeout(Duration::from_millis(20)) {
            let finished = done(&event);
            seen.push(event);
            if finished {
                return seen;
            }
        }
    }
    panic!("timed out; events seen: {seen:#?}");
}

/// The bound address from the `Listening` event.
pub fn listening(session: &Probe) -> SocketAddr {
    match wait_for(session, |e| {
        matches!(e, Event::Listening { .. } | Event::Stopped)
    })
    .pop()
    {
        Some(Event::Listening { local }) => local,
        other => panic!("expected Listening, got {other:?}"),
    }
}

/// The sentence of the first error among `events`, if any.
pub fn first_error(events: &[Event]) -> Option<String> {
    events.iter().find_map(|e| match e {
        Event::Error(e) => Some(e.to_string()),
        _ => None,
    })
}

/// Received bytes gathered from `Data` events until `len` bytes arrived.
pub fn received(session: &Probe, len: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    wait_for(session, |e| {
        if let Event::Data(d) = e
            && d.dir == sockscope_core::engine::Direction::Rx
        {
            bytes.extend_from_slice(&d.bytes);
        }
        bytes.len() >= len
    });
    bytes
}

/// Reads exactly `len` bytes from a std peer, with a timeout.
pub fn read_n(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).expect("peer reads");
    buf
}

/// True if nothing arrives within a short while (the peer was not sent to).
pub fn reads_nothing(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(150)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        Ok(n) => {
            eprintln!("expected nothing, read {n} bytes");
            false
        }
    }
}

/// Closes with RST instead of FIN (linger 0), as a crashed device would.
pub fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .expect("linger");
    drop(stream);
}
