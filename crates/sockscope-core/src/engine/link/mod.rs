//! Links: one per socket the I/O thread owns (a TCP connection, a TCP listener, a UDP socket).
//! The loop knows links only through [`Link`]; a new way to talk is one file here plus its line
//! in [`open`].

mod listener;
mod tcp;
mod udp;
pub mod ws;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::Interest;
use mio::event::Source;

use super::Buffers;
use super::outbox::Outbox;
use super::{CloseReason, ConnId, EngineError, Event, Mode, SessionConfig, Target};
use crate::codec::framing::Framing;

pub(crate) use listener::Listener;
pub(crate) use tcp::{PlainIo, TcpConn, push_tls, read_plain};
pub(crate) use udp::MAX_DATAGRAM;
pub(crate) use udp::Udp;

/// How much one socket may read in one poll round, so one fast peer cannot starve the others.
pub(crate) const READ_BUDGET: usize = 1 << 20;
/// Size of the I/O thread's read buffer.
pub(crate) const READ_BUF: usize = 256 << 10;
/// Bytes one link may have queued for sending before a send is refused.
pub(crate) const MAX_SEND_QUEUE: usize = 64 << 20;

/// How often a link says again how many sends it refused (its queue full: the peer is not
/// reading).
pub(crate) const REFUSED_EVERY: Duration = Duration::from_secs(1);

/// Sends a link refused because its queue was full: the first is said at once, the rest are
/// counted and said as a running count at most once per [`REFUSED_EVERY`] and when the link
/// ends. A flood of replies to a peer that never reads made one line per reply (1.4 million
/// lines, 600 MB of log and stdout).
#[derive(Debug, Default)]
pub(crate) struct Refused {
    sends: u64,
    bytes: u64,
    said_sends: u64,
    said_bytes: u64,
    said_at: Option<Instant>,
}

impl Refused {
    /// A send of `bytes` to `peer` was refused.
    pub fn refuse(&mut self, cx: &mut Cx<'_>, peer: SocketAddr, bytes: usize, now: Instant) {
        self.sends += 1;
        self.bytes += bytes as u64;
        if self.said_at.is_none() {
            cx.error(EngineError::SendQueueFull {
                peer,
                dropped: bytes,
            });
            self.said_sends = self.sends;
            self.said_bytes = self.bytes;
            self.said_at = Some(now);
        } else if self.deadline().is_some_and(|d| d <= now) {
            self.say(cx, peer, now);
        }
    }

    /// When the running count is due, if sends were refused since it was last said.
    pub fn deadline(&self) -> Option<Instant> {
        self.said_at
            .filter(|_| self.sends > self.said_sends)
            .map(|at| at + REFUSED_EVERY)
    }

    /// Says the running count if it is due.
    pub fn tick(&mut self, cx: &mut Cx<'_>, peer: SocketAddr, now: Instant) {
        if self.deadline().is_some_and(|d| d <= now) {
            self.say(cx, peer, now);
        }
    }

    /// The link ends: the count not said yet is said now.
    pub fn end(&mut self, cx: &mut Cx<'_>, peer: SocketAddr) {
        if self.sends > self.said_sends {
            self.say(cx, peer, Instant::now());
        }
    }

    fn say(&mut self, cx: &mut Cx<'_>, peer: SocketAddr, now: Instant) {
        cx.error(EngineError::SendsRefused {
            peer,
            sends: self.sends,
            bytes: self.bytes,
            new_sends: self.sends - self.said_sends,
            new_bytes: self.bytes - self.said_bytes,
        });
        self.said_sends = self.sends;
        self.said_bytes = self.bytes;
        self.said_at = Some(now);
    }
}

/// What the loop does with a link after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Nothing more until the socket is ready again.
    Idle,
    /// It stopped early (read budget, owner behind): call [`Link::resume`] next round.
    More,
    /// It ended and said so; deregister and drop it.
    Gone,
}

/// Settings every link of a session shares, changed by commands.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// The session's mode.
    pub mode: Mode,
    /// How received streams are split into messages.
    pub framing: Framing,
    /// Keep a connection whose peer finished sending.
    pub keep_half_closed: bool,
    /// How long a TCP connect may take.
    pub connect_timeout: Duration,
    /// Our address when the OS does not tell.
    pub local: SocketAddr,
    /// TLS on every TCP connection, when the session has it.
    pub tls: super::tls::Tls,
    /// WebSocket on every TCP connection, when the session has it.
    pub ws: Option<super::types::WsSettings>,
}

/// What a link may use while it runs: the outbox, the read buffer, and a place for the links
/// it makes (a listener's accepted clients).
pub(crate) struct Cx<'a> {
    pub out: &'a mut Outbox,
    pub buf: &'a mut [u8],
    pub opts: &'a Options,
    pub spawned: &'a mut Vec<Box<dyn Link>>,
    pub next_conn: &'a mut u64,
    /// Where the bytes of large reads are copied to (the sink gives the buffers back).
    pub buffers: &'a Buffers,
    /// Bytes this link may read now (a relay lane with no room left holds its sender: 0).
    pub allow: usize,
}

impl Cx<'_> {
    /// Adds an event to this round's batch.
    pub fn emit(&mut self, event: Event) {
        self.out.emit(event);
    }

    /// Says that something failed.
    pub fn error(&mut self, error: EngineError) {
        self.out.emit(Event::Error(error));
    }

    /// A new connection id; never reused within a session.
    pub fn new_conn_id(&mut self) -> ConnId {
        let id = ConnId(*self.next_conn);
        *self.next_conn += 1;
        id
    }

    /// True when the owner is too far behind for more to be read now.
    pub fn behind(&self) -> bool {
        self.out.behind()
    }
}

/// Bytes waiting for a socket. File chunks are not logged one by one (a 200 MB file would fill
/// the log); their progress is reported instead.
pub(crate) struct Outgoing {
    pub bytes: Vec<u8>,
    pub log: bool,
    /// Where the bytes stand in a message sent in pieces (a file): WebSocket sends the pieces
    /// as one message; a stream or datagram link sends them as they are.
    pub part: Part,
    /// WebSocket: a binary message even when the bytes are UTF-8 (an echo of, or a reply
    /// to, a binary message keeps its type); otherwise the settings and the bytes decide.
    pub binary: bool,
    /// Relayed from the pair's other side: not logged (the row is the receiving side's), but
    /// counted as sent once written ([`Event::Forwarded`](crate::engine::Event::Forwarded)).
    pub relayed: bool,
}

/// Where bytes stand in a message sent in pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    /// They begin the message.
    pub first: bool,
    /// They end it.
    pub last: bool,
}

impl Part {
    /// A whole message.
    pub const WHOLE: Part = Part {
        first: true,
        last: true,
    };
    /// No bytes; the end of a message whose last piece did not say so (a file cut short).
    pub const END: Part = Part {
        first: false,
        last: true,
    };
}

/// One socket owned by the I/O thread.
pub(crate) trait Link: Send {
    /// The TCP connection it is, if it is one.
    fn conn(&self) -> Option<ConnId> {
        None
    }

    /// True once a connection stands (a connect in progress is not).
    fn established(&self) -> bool {
        true
    }

    /// The socket, to register with the poll.
    fn source(&mut self) -> &mut dyn Source;

    /// What to wait for.
    fn interest(&self) -> Interest {
        Interest::READABLE | Interest::WRITABLE
    }

    /// Its socket is ready.
    fn ready(&mut self, cx: &mut Cx<'_>, readable: bool, writable: bool) -> Status;

    /// Read on after stopping early.
    fn resume(&mut self, cx: &mut Cx<'_>) -> Status {
        let _ = cx;
        Status::Idle
    }

    /// Whether a send to `to` goes through this link, and it can take one now.
    fn reaches(&self, to: &Target) -> bool;
    /// The other end of a connection.
    fn peer(&self) -> Option<std::net::SocketAddr> {
        None
    }

    /// Queues bytes for `to` (which it [`reaches`](Self::reaches)) and writes what it can.
    fn send(&mut self, cx: &mut Cx<'_>, to: &Target, out: Outgoing) -> Status;

    /// Bytes queued for sending.
    fn queued(&self) -> usize {
        0
    }

    /// True once it ended because the peer reset it.
    fn was_reset(&self) -> bool {
        false
    }

    /// True once the peer finished sending and the connection is kept (half-closed).
    fn finished_receiving(&self) -> bool {
        false
    }

    /// Bytes written to the socket that the peer has not acknowledged yet (the kernel's send
    /// queue), where the OS says.
    fn unsent(&self) -> Option<u64> {
        None
    }

    /// Finishes our sending side (a FIN) once what is queued is written; reading goes on.
    fn finish_sending(&mut self, cx: &mut Cx<'_>) -> Status {
        let _ = cx;
        Status::Idle
    }

    /// True once our sending side is finished (see [`finish_sending`](Self::finish_sending)).
    fn sending_finished(&self) -> bool {
        false
    }

    /// True when it ended abruptly: the peer reset it, or an error did (not an orderly
    /// close). A relay pair ends at once then.
    fn ended_abruptly(&self) -> bool {
        false
    }

    /// Sets the kernel's receive buffer of its socket (a relay lane's sender under a cap).
    fn set_receive_buffer(&mut self, bytes: usize) {
        let _ = bytes;
    }

    /// When [`tick`](Self::tick) is due, if ever.
    fn deadline(&self) -> Option<Instant> {
        None
    }

    /// A deadline passed (connect timeout, idle-gap framing, accept retry).
    fn tick(&mut self, cx: &mut Cx<'_>, now: Instant) -> Status {
        let _ = (cx, now);
        Status::Idle
    }

    /// Splits what it receives differently from now on (what it holds is handed over first).
    fn set_framing(&mut self, cx: &mut Cx<'_>, framing: &Framing) {
        let _ = (cx, framing);
    }

    /// Closes it, saying why (a connect in progress is given up quietly).
    fn close(&mut self, cx: &mut Cx<'_>, reason: CloseReason);

    /// TCP: shut down the sending side (half-close) once everything queued is written; the
    /// other way goes on until the peer finishes too. Nothing for other links.
    fn finish(&mut self, cx: &mut Cx<'_>) -> Status {
        let _ = cx;
        Status::Idle
    }

    /// WebSocket: a ping or a close.
    fn websocket(&mut self, cx: &mut Cx<'_>, op: &WsOp) -> Status {
        let _ = (cx, op);
        Status::Idle
    }

    /// UDP: joins or leaves a group, or sets the multicast options.
    fn multicast(&mut self, cx: &mut Cx<'_>, op: Multicast) {
        let _ = (cx, op);
    }

    /// True for a TCP listener (Stop listening closes it and keeps the clients).
    fn is_listener(&self) -> bool {
        false
    }
}

/// A WebSocket control the user asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsOp {
    /// Send a ping with this payload.
    Ping(Vec<u8>),
    /// Start the closing handshake.
    Close {
        /// The close code (1000 = normal).
        code: u16,
        /// The reason.
        reason: String,
    },
}

/// A change to a UDP socket's multicast state.
pub(crate) enum Multicast {
    Join(super::Group),
    Leave(super::Group),
    Configure(super::UdpOptions),
}

/// The links a session of `config`'s mode starts with: the one place a kind of link is chosen.
pub(crate) fn open(config: &SessionConfig, cx: &mut Cx<'_>) -> Vec<Box<dyn Link>> {
    let opened: Result<Box<dyn Link>, EngineError> = match config.mode {
        Mode::TcpServer => Listener::bind(config.local, cx).map(|l| Box::new(l) as Box<dyn Link>),
        Mode::Relay if config.relay.as_ref().is_some_and(|r| r.udp) => {
            udp::Udp::bind(config.local, &config.udp, cx).map(|l| Box::new(l) as Box<dyn Link>)
        }
        Mode::Relay => Listener::bind(config.local, cx).map(|l| Box::new(l) as Box<dyn Link>),
        Mode::Udp => {
            udp::Udp::bind(config.local, &config.udp, cx).map(|l| Box::new(l) as Box<dyn Link>)
        }
        Mode::TcpClient => {
            let Some(remote) = config.remote else {
                cx.error(EngineError::NotConnected);
                return Vec::new();
            };
            cx.emit(Event::Connecting { remote });
            tcp::TcpConn::connect(config.local, remote, cx).map(|l| Box::new(l) as Box<dyn Link>)
        }
    };
    match opened {
        Ok(link) => vec![link],
        Err(e) => {
            cx.error(e);
            Vec::new()
        }
    }
}
