//! The words the engine and its users share: ids, modes, targets, commands and events.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::EngineError;
use crate::codec::framing::Framing;
use crate::codec::payload::VarState;
use crate::i18n::{S, t};

/// The send variables (`{{counter}}`, the random source) of one session. One owner: the I/O
/// thread renders every send with them, so a manual send, a cyclic send and a rule's reply
/// share one counter; the owner reads them for the preview.
pub type SharedVars = Arc<Mutex<VarState>>;

/// One TCP connection of a session. Never reused within a session, so a stale id
/// can never address a newer client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a session does with its sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Connect to a remote listener.
    #[default]
    TcpClient,
    /// Listen and serve many clients at once.
    TcpServer,
    /// Bind a UDP socket, send datagrams, receive from anyone.
    Udp,
    /// Listen, and relay every client to an upstream through an impaired link (转发).
    Relay,
}

/// Which side of TLS a session takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsSide {
    /// It connects: it checks the server's certificate.
    Client,
    /// It accepts: it presents a certificate.
    Server,
}

/// What a mode can do. Every yes/no question about a mode reads this table, so a new mode
/// answers each one in its row; a `==` or a wildcard arm would answer for it in silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caps {
    /// It connects to a remote listener: a connect timeout, reconnecting, "the server".
    pub connects: bool,
    /// It accepts clients, each a connection of its own, listed (a server, a relay).
    pub has_clients: bool,
    /// It listens for TCP clients and can stop and listen again while they stay.
    pub listens_again: bool,
    /// It sends and receives datagrams: peers by address, no connections.
    pub datagrams: bool,
    /// It needs a remote address to open (the server it connects to, a relay's upstream).
    pub needs_remote: bool,
    /// Its local port may be left empty (any port).
    pub any_local_port: bool,
    /// Its connections may speak TLS (this side of it) and WebSocket.
    pub tls: Option<TlsSide>,
    /// It relays between its clients and an upstream.
    pub relays: bool,
    /// What it receives, when the role says: requests (a server), replies (a client); `None`
    /// when either may come (UDP; a relay, whose two ways are told apart per message).
    pub receives_requests: Option<bool>,
    /// Its name ("TCP client").
    pub label: S,
    /// What it does, for the mode's tooltip.
    pub tip: S,
    /// What its local port is, for the port's tooltip.
    pub port_tip: S,
    /// The button that opens it ("Connect", "Listen", "Open", "Start relay").
    pub open: S,
    /// The button that closes it ("Disconnect", "Stop", "Close").
    pub close: S,
    /// Why a send cannot go while it is not open (or has nobody to send to).
    pub not_open: S,
    /// The status line after it failed to open.
    pub failed: S,
}

impl Mode {
    /// Every mode, in the order the UI offers them.
    pub const ALL: [Mode; 4] = [Mode::TcpClient, Mode::TcpServer, Mode::Udp, Mode::Relay];

    /// What this mode can do.
    pub const fn caps(self) -> Caps {
        const NONE: Caps = Caps {
            connects: false,
            has_clients: false,
            listens_again: false,
            datagrams: false,
            needs_remote: false,
            any_local_port: false,
            tls: None,
            relays: false,
            receives_requests: None,
            label: S::ModeTcpClient,
            tip: S::TipModeClient,
            port_tip: S::TipPortClient,
            open: S::Connect,
            close: S::Disconnect,
            not_open: S::NotConnectedClient,
            failed: S::StateFailed,
        };
        match self {
            Mode::TcpClient => Caps {
                connects: true,
                receives_requests: Some(false),
                needs_remote: true,
                any_local_port: true,
                tls: Some(TlsSide::Client),
                ..NONE
            },
            Mode::TcpServer => Caps {
                has_clients: true,
                receives_requests: Some(true),
                listens_again: true,
                tls: Some(TlsSide::Server),
                label: S::ModeTcpServer,
                tip: S::TipModeServer,
                port_tip: S::TipPortServer,
                open: S::Listen,
                close: S::Stop,
                not_open: S::NoClientConnected,
                failed: S::StateFailedServer,
                ..NONE
            },
            Mode::Udp => Caps {
                datagrams: true,
                label: S::ModeUdp,
                tip: S::TipModeUdp,
                port_tip: S::TipPortUdp,
                open: S::Open,
                close: S::Close,
                not_open: S::UdpNotOpen,
                failed: S::StateFailedUdp,
                ..NONE
            },
            Mode::Relay => Caps {
                has_clients: true,
                needs_remote: true,
                relays: true,
                label: S::ModeRelay,
                tip: S::TipModeRelay,
                port_tip: S::TipPortRelay,
                open: S::StartRelay,
                close: S::Stop,
                not_open: S::RelayNotOpen,
                failed: S::StateFailedServer,
                ..NONE
            },
        }
    }

    /// The name of a session's I/O thread (it shows in debuggers, panics and `top -H`).
    pub fn thread_name(self) -> &'static str {
        match self {
            Mode::TcpClient => "sockscope-tcp-client",
            Mode::TcpServer => "sockscope-tcp-server",
            Mode::Udp => "sockscope-udp",
            Mode::Relay => "sockscope-relay",
        }
    }
}

/// Which way bytes went, seen from this program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer.
    Rx,
    /// Sent to the peer.
    Tx,
}

/// Where a `Send` goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One TCP connection.
    Conn(ConnId),
    /// Every open TCP connection of the session (a TCP client has one).
    AllConns,
    /// One UDP peer.
    Addr(SocketAddr),
}

/// Why a connection ended. Shown to the user, so each reason reads differently.
#[derive(Debug)]
pub enum CloseReason {
    /// The peer closed its side in order (a read returned 0).
    PeerClosed,
    /// The peer reset the connection (RST, e.g. linger 0 or a crashed device).
    Reset,
    /// We closed it: Disconnect, Stop, or the session ended.
    LocalClose,
    /// Another socket error ended it.
    Error(EngineError),
    /// The WebSocket peer closed it, with this code and reason.
    WsClosed {
        /// The close code (1000 normal, 1001 going away, 1005 none given …).
        code: u16,
        /// The reason it gave.
        reason: String,
    },
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::PeerClosed => f.write_str(t(S::ClosePeer)),
            CloseReason::Reset => f.write_str(t(S::CloseReset)),
            CloseReason::LocalClose => f.write_str(t(S::CloseLocal)),
            CloseReason::Error(e) => write!(f, "{e}"),
            CloseReason::WsClosed { code, reason } => {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" “{reason}”")
                };
                write!(
                    f,
                    "{}",
                    crate::i18n::tf(S::CloseWs, &[code, &ws_code_name(*code), &reason])
                )
            }
        }
    }
}

/// The meaning of a WebSocket close code.
pub fn ws_code_name(code: u16) -> &'static str {
    match code {
        1000 => "normal",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no code",
        1006 => "abnormal",
        1007 => "invalid data",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "extension required",
        1011 => "server error",
        1012 => "service restart",
        1013 => "try again later",
        3000..=3999 => "registered",
        4000..=4999 => "private",
        _ => "unknown",
    }
}

/// What a session is asked to open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// TCP client, TCP server or UDP.
    pub mode: Mode,
    /// Local address. Port 0 means "any free port"; an unspecified IP means "all
    /// interfaces". For a TCP client an unspecified address with port 0 means "let the OS choose".
    pub local: SocketAddr,
    /// The remote address: the server a TCP client connects to, or the default UDP peer.
    pub remote: Option<SocketAddr>,
    /// How long a TCP connect may take before it is given up.
    pub connect_timeout: Duration,
    /// How received TCP streams are split into messages (UDP datagrams are messages already).
    pub framing: Framing,
    /// TCP client: connect again after a drop or a failed connect (`None`: the session ends).
    pub reconnect: Option<Reconnect>,
    /// UDP: multicast groups to join, TTL, loopback, sending interface.
    pub udp: super::UdpOptions,
    /// TCP client or server: TLS on every connection (`None`: plain TCP).
    pub tls: Option<super::TlsSettings>,
    /// TCP client or server: WebSocket on every connection (`None`: a byte stream).
    pub ws: Option<WsSettings>,
    /// Relay: the upstream, TCP or UDP, and the impairments of each direction.
    pub relay: Option<super::RelayConfig>,
}

impl SessionConfig {
    /// A session of `mode` on `local` (to `remote`), plain, unframed, with a 5 s connect
    /// timeout: what every mode's constructor starts from, and what code that takes the
    /// mode as a value (a test over every mode) uses.
    pub fn new(mode: Mode, local: SocketAddr, remote: Option<SocketAddr>) -> Self {
        Self {
            mode,
            local,
            remote,
            connect_timeout: Duration::from_secs(5),
            framing: Framing::None,
            reconnect: None,
            udp: super::UdpOptions::default(),
            tls: None,
            ws: None,
            relay: None,
        }
    }

    /// A TCP client to `remote`, from any local port of its family.
    pub fn tcp_client(remote: SocketAddr) -> Self {
        let any = if remote.is_ipv4() {
            SocketAddr::from(([0, 0, 0, 0], 0))
        } else {
            SocketAddr::from(([0u16; 8], 0))
        };
        Self::new(Mode::TcpClient, any, Some(remote))
    }

    /// A TCP server listening on `local`.
    pub fn tcp_server(local: SocketAddr) -> Self {
        Self::new(Mode::TcpServer, local, None)
    }

    /// A UDP socket bound to `local`, sending to `remote` when one is given.
    pub fn udp(local: SocketAddr, remote: Option<SocketAddr>) -> Self {
        Self::new(Mode::Udp, local, remote)
    }

    /// A relay listening on `local` for clients of `relay.upstream`.
    pub fn relay(local: SocketAddr, relay: super::RelayConfig) -> Self {
        let upstream = relay.upstream;
        Self {
            relay: Some(relay),
            ..Self::new(Mode::Relay, local, Some(upstream))
        }
    }

    /// The same, from another local address.
    #[must_use]
    pub fn local(self, local: SocketAddr) -> Self {
        Self { local, ..self }
    }

    /// The same, with this connect timeout.
    #[must_use]
    pub fn connect_timeout(self, connect_timeout: Duration) -> Self {
        Self {
            connect_timeout,
            ..self
        }
    }

    /// The same, cutting received streams with `framing`.
    #[must_use]
    pub fn framing(self, framing: Framing) -> Self {
        Self { framing, ..self }
    }

    /// The same, reconnecting as `reconnect` says (`None`: never).
    #[must_use]
    pub fn reconnect(self, reconnect: Option<Reconnect>) -> Self {
        Self { reconnect, ..self }
    }

    /// The same, with these UDP options.
    #[must_use]
    pub fn udp_options(self, udp: super::UdpOptions) -> Self {
        Self { udp, ..self }
    }

    /// The same, speaking TLS as `tls` says (`None`: plain).
    #[must_use]
    pub fn tls(self, tls: Option<super::TlsSettings>) -> Self {
        Self { tls, ..self }
    }

    /// The same, speaking WebSocket as `ws` says (`None`: a byte stream).
    #[must_use]
    pub fn ws(self, ws: Option<WsSettings>) -> Self {
        Self { ws, ..self }
    }
}

/// WebSocket (ws://, or wss:// with TLS on) on a TCP client or server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WsSettings {
    /// Client: the path asked for (`/`, `/ws?token=1`).
    pub path: String,
    /// Client: the Host header; empty = the remote address.
    pub host: String,
    /// The subprotocol offered (client) or taken (server); empty = none (server: any).
    pub subprotocol: String,
    /// Send every message as binary (else as text when it is UTF-8).
    pub binary: bool,
}

impl Default for WsSettings {
    fn default() -> Self {
        Self {
            path: "/".into(),
            host: String::new(),
            subprotocol: String::new(),
            binary: false,
        }
    }
}

/// When a TCP client connects again after its connection dropped or a connect failed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reconnect {
    /// The wait before the first new try, ms.
    pub interval_ms: u64,
    /// Each further wait is the one before times this (1 = always the interval).
    pub backoff: f32,
    /// No wait is longer than this, ms.
    pub max_interval_ms: u64,
    /// Tries after which it gives up; 0 = never.
    pub max_tries: u32,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            interval_ms: 1000,
            backoff: 2.0,
            max_interval_ms: 30_000,
            max_tries: 0,
        }
    }
}

impl Eq for Reconnect {}

#[cfg(test)]
mod tests {

    #[test]
    fn every_mode_answers_what_it_can_do_and_the_answers_agree() {
        for mode in Mode::ALL {
            let caps = mode.caps();
            // Datagrams have no connections: no clients, no TLS or WebSocket on them.
            if caps.datagrams {
                assert!(
                    !caps.has_clients && caps.tls.is_none() && !caps.connects,
                    "{mode:?}"
                );
            }
            // Who connects needs somewhere to connect to; who relays, an upstream.
            if caps.connects || caps.relays {
                assert!(caps.needs_remote, "{mode:?}");
            }
            // Listening again while clients stay is a server's: it has clients.
            if caps.listens_again {
                assert!(caps.has_clients, "{mode:?}");
            }
        }
        // One mode each connects, takes datagrams, relays.
        for (what, count) in [
            (
                "connects",
                Mode::ALL.iter().filter(|m| m.caps().connects).count(),
            ),
            (
                "datagrams",
                Mode::ALL.iter().filter(|m| m.caps().datagrams).count(),
            ),
            (
                "relays",
                Mode::ALL.iter().filter(|m| m.caps().relays).count(),
            ),
        ] {
            assert_eq!(count, 1, "{what}");
        }
    }

    use super::*;

    #[test]
    fn reconnect_waits_grow_by_the_backoff_up_to_the_cap_and_stop_after_the_tries() {
        let policy = Reconnect {
            interval_ms: 100,
            backoff: 2.0,
            max_interval_ms: 500,
            max_tries: 5,
        };
        let waits: Vec<_> = (0..=6).map(|n| policy.delay(n)).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(
            waits,
            [None, ms(100), ms(200), ms(400), ms(500), ms(500), None]
        );
        let forever = Reconnect {
            max_tries: 0,
            backoff: 0.5,
            ..policy
        };
        // A backoff under 1 counts as 1; no limit means a try 1,000,000 still has a wait.
        assert_eq!(forever.delay(1_000_000), ms(100));
    }
}

impl Reconnect {
    /// The wait before try `attempt` (1 = the first new try), or `None` once the tries are
    /// used up.
    pub fn delay(&self, attempt: u32) -> Option<Duration> {
        if attempt == 0 || (self.max_tries != 0 && attempt > self.max_tries) {
            return None;
        }
        let factor = f64::from(self.backoff.max(1.0))
            .powi(i32::try_from(attempt.saturating_sub(1).min(64)).unwrap_or(64));
        let cap = self.max_interval_ms.max(self.interval_ms) as f64;
        let ms = (self.interval_ms as f64 * factor).min(cap);
        Some(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}

/// Bytes that went one way at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// The TCP connection, or `None` for UDP.
    pub conn: Option<ConnId>,
    /// The other end.
    pub peer: SocketAddr,
    /// Received or sent.
    pub dir: Direction,
    /// When the read or write completed.
    pub at: SystemTime,
    /// Exactly what was read or written.
    pub bytes: Vec<u8>,
    /// A message, or (with framing on) a raw read shown beside the frames.
    pub kind: DataKind,
}

/// Whole received frames of one connection, back to back in one buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frames {
    /// The connection.
    pub conn: ConnId,
    /// The other end.
    pub peer: SocketAddr,
    /// When the read that completed them returned.
    pub at: SystemTime,
    /// The frames' bytes, back to back (with `in_read`, the whole read they were cut from).
    pub bytes: Vec<u8>,
    /// Each frame's length, in order; they add up to `bytes.len()` unless `in_read`.
    pub lens: Vec<usize>,
    /// Bytes at the start of each frame that are its length header (length-prefix framing;
    /// 0 otherwise): the log can show the payload alone and keep every byte.
    pub header: u8,
    /// The frames were cut in place from the read that completed them, from this offset on:
    /// `bytes` is that read exactly (before the offset, the end of frames an event before
    /// gave; after the frames, the start of one the framer now holds), and no
    /// [`DataKind::RawRead`] event comes for it — this one counts and records it.
    pub in_read: Option<usize>,
}

impl Frames {
    /// Each frame's bytes, in order.
    pub fn split(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let from = self.in_read.unwrap_or(0);
        let mut rest = self.bytes.get(from..).unwrap_or_default();
        self.lens.iter().map(move |&len| {
            let (frame, after) = rest.split_at(len.min(rest.len()));
            rest = after;
            frame
        })
    }
}

/// What a [`Data`] event holds. The kind says how it counts, so whoever folds events needs no
/// copy of the framing settings: bytes are counted once (from messages and raw reads), messages
/// once (from messages, frames and partial frames).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DataKind {
    /// One message that is also all its bytes: a read without framing, a datagram, or a send.
    #[default]
    Message,
    /// With framing on: one whole frame (its bytes were counted with the read they came in).
    Frame,
    /// With framing on: a frame that is not whole — what was left when the stream ended, or
    /// cut at the limit.
    Partial,
    /// With framing on, each TCP read as it came (for the raw-vs-frames view and recording).
    RawRead,
    /// A WebSocket text message (counts as [`Message`](Self::Message)).
    WsText,
    /// A WebSocket binary message (counts as [`Message`](Self::Message)).
    WsBinary,
}

impl DataKind {
    /// This event's bytes count towards the bytes received or sent.
    pub fn counts_bytes(self) -> bool {
        matches!(
            self,
            DataKind::Message | DataKind::RawRead | DataKind::WsText | DataKind::WsBinary
        )
    }

    /// What a WebSocket message was, for one.
    pub fn ws(self) -> Option<crate::capture::WsKind> {
        match self {
            DataKind::WsText => Some(crate::capture::WsKind::Text),
            DataKind::WsBinary => Some(crate::capture::WsKind::Binary),
            _ => None,
        }
    }

    /// This event is one message (a row of the log).
    pub fn counts_message(self) -> bool {
        !matches!(self, DataKind::RawRead)
    }
}

/// Engine → whoever listens. One session's events arrive in the order they happened.
#[derive(Debug)]
pub enum Event {
    /// TCP server listener or UDP socket bound and ready, on this address (port resolved).
    Listening {
        /// The bound address; port 0 is replaced by the port the OS chose.
        local: SocketAddr,
    },
    /// TCP client: a connect attempt started.
    Connecting {
        /// Where to.
        remote: SocketAddr,
    },
    /// TCP client: the connection dropped or a connect failed, and it tries again after
    /// `after` (see [`SessionConfig::reconnect`]).
    Reconnecting {
        /// The try this will be (1 = the first new try).
        attempt: u32,
        /// Tries in all; 0 = no limit.
        max: u32,
        /// The wait before it.
        after: Duration,
        /// Where to.
        remote: SocketAddr,
    },
    /// A TCP connection is open (client connected, or server accepted one).
    Connected {
        /// Its id within the session.
        conn: ConnId,
        /// The other end.
        peer: SocketAddr,
        /// Our end.
        local: SocketAddr,
    },
    /// Relay: a client and the upstream connection (or socket) made for it.
    RelayPair {
        /// The pair's number in the session: 1, 2, 3 … in the order clients came.
        pair: u64,
        /// The client: a TCP connection, or `None` for a UDP client.
        client: Option<ConnId>,
        /// The client's address.
        client_addr: SocketAddr,
        /// The upstream connection or socket.
        upstream: ConnId,
        /// The upstream's address.
        upstream_addr: SocketAddr,
    },
    /// Relay: bytes from one side of a pair were written to the other (not logged: the row is
    /// the one they were received in; counted as sent by this side).
    Forwarded {
        /// The connection written to, or `None` for a datagram.
        conn: Option<ConnId>,
        /// Who they went to.
        peer: SocketAddr,
        /// How many.
        len: u64,
    },
    /// A connection ended in the middle of a file sent to it (alone or with every client):
    /// how much of the file had been written to it.
    FileCut {
        /// The connection.
        conn: ConnId,
        /// Who it was.
        peer: SocketAddr,
        /// Bytes of the file written to its socket.
        written: u64,
    },
    /// Relay: a pair was cut (its cut point was reached, or Cut was clicked).
    RelayCut {
        /// The pair's number.
        pair: u64,
        /// The client's address.
        client_addr: SocketAddr,
        /// Bytes that went client → upstream and upstream → client.
        forwarded: (u64, u64),
        /// Cut on purpose (its cut point, or Cut all); else it ended as one side left.
        cut: bool,
        /// What ended it at once (a reset, an upstream that could not be reached), if so.
        ended_by: Option<super::relay::RelayEnd>,
        /// Bytes client → upstream and upstream → client that were still held (in a lane or
        /// a send queue) when it ended, and so never delivered.
        undelivered: (u64, u64),
    },
    /// A TLS server listens with this self-signed certificate (its SHA-256 is what a device
    /// pins).
    ServerCertificate(Box<super::CertInfo>),
    /// Relay: the simulator threw a datagram away — its drop share, or its lane was full.
    RelayDropped {
        /// The pair's client.
        client_addr: SocketAddr,
        /// Client → upstream (else upstream → client).
        to_upstream: bool,
        /// The datagram's length.
        len: usize,
        /// Its first bytes, to tell which it was.
        head: Vec<u8>,
        /// The lane was full (else the drop share took it).
        full: bool,
    },
    /// A TLS handshake finished; `Connected` follows.
    Secured {
        /// The connection.
        conn: ConnId,
        /// The other end.
        peer: SocketAddr,
        /// What was negotiated.
        info: Box<super::TlsInfo>,
    },
    /// WebSocket: the upgrade is done (after TLS, if any); `Connected` follows.
    Upgraded {
        /// The connection.
        conn: ConnId,
        /// The other end.
        peer: SocketAddr,
        /// What the client asked for and what was agreed.
        upgrade: Box<super::link::ws::WsUpgrade>,
    },
    /// WebSocket: a ping (answered already) or a pong came.
    WsControl {
        /// The connection.
        conn: ConnId,
        /// The other end.
        peer: SocketAddr,
        /// A ping (else a pong).
        ping: bool,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// Bytes received or sent.
    Data(Data),
    /// The whole frames one TCP read completed, in one buffer: one allocation per read
    /// instead of one per frame on the I/O thread (whose per-frame buffers, freed on another
    /// thread, serialised both threads on the allocator's lock).
    Frames(Frames),
    /// A TCP peer finished sending (a read returned 0) and the connection is kept, because
    /// [`Command::KeepHalfClosed`] asked for it: it may still read what we send.
    PeerFinished {
        /// Which connection.
        conn: ConnId,
        /// The other end.
        peer: SocketAddr,
    },
    /// A TCP connection ended.
    Closed {
        /// Which one.
        conn: ConnId,
        /// Its other end.
        peer: SocketAddr,
        /// Why.
        reason: CloseReason,
    },
    /// UDP on a socket bound to all addresses: the datagrams from here on were sent to this
    /// address (a broadcast, a group, one of this machine's), until the next such event.
    /// Said only when it changes, and only where the OS tells it (Linux).
    DatagramsTo(std::net::IpAddr),
    /// UDP datagrams thrown away because the consumer fell too far behind.
    Dropped {
        /// How many datagrams.
        datagrams: u64,
        /// How many payload bytes.
        bytes: u64,
    },
    /// The TCP server stopped accepting (clients may remain).
    ListenerClosed,
    /// UDP: a multicast group was joined.
    Joined(super::Group),
    /// UDP: a multicast group was left.
    LeftGroup(super::Group),
    /// Something failed; the session goes on unless a `Stopped` follows.
    Error(EngineError),
    /// How far the timed sends are.
    ScheduleProgress {
        /// Sends made.
        sent: u64,
        /// No more will follow (count reached, stopped, or target gone).
        finished: bool,
    },
    /// How far a file send is.
    FileProgress {
        /// Where the file goes (its bytes count for those clients or that peer).
        to: Target,
        /// Bytes handed to the socket.
        sent: u64,
        /// The file's size.
        total: u64,
        /// Done, cancelled or failed (an `Error` says which).
        finished: bool,
    },
    /// Rules fired for a received message (each rule's id, name and hit count so far), or
    /// the rules' states and tables changed (new rules, a connection's end).
    RulesFired(Box<crate::rules::RulesReport>),
    /// A script started: its name and its steps' labels.
    ScriptStarted {
        /// Its name.
        name: String,
        /// Each step, unrolled.
        steps: Vec<String>,
    },
    /// A script's step ended.
    ScriptStep(crate::rules::script::StepResult),
    /// A script ended.
    ScriptFinished {
        /// Every step passed.
        passed: bool,
    },
    /// The answer to [`Command::AskUnsent`]: bytes written to a connection that its peer has
    /// not acknowledged yet (the kernel's send queue).
    Unsent {
        /// The connection.
        conn: ConnId,
        /// Bytes in the kernel's send queue.
        bytes: u64,
    },
    /// The session ended; no more events follow.
    Stopped,
}
