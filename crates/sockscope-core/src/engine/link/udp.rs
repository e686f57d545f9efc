//! A UDP socket: datagrams from anyone, sends to any address.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use mio::event::Source;
use mio::net::UdpSocket;

use super::{Cx, Link, MAX_SEND_QUEUE, Multicast, Outgoing, READ_BUDGET, Status};
use crate::engine::multicast;
use crate::engine::{
    CloseReason, ConnId, Data, DataKind, Direction, EngineError, Event, Group, Target, UdpOptions,
    sockets,
};
use crate::i18n::S;

/// The largest UDP payload over IPv4.
pub(crate) const MAX_DATAGRAM: usize = 65_507;

/// How often a receive failure that keeps coming is said again (with its running count).
const SAY_AGAIN_EVERY: Duration = Duration::from_secs(1);

/// What a failed receive was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failed {
    /// Try again at once (a signal).
    Again,
    /// An earlier send drew an ICMP "port unreachable": nothing listened where it went. Windows
    /// says so on the next receive (WSAECONNRESET, unless SIO_UDP_CONNRESET is off); Linux on a
    /// connected socket (ECONNREFUSED). No reason to stop receiving from anyone else.
    PortClosed,
    /// Any other failure: said, and the socket is read on.
    Other,
}

impl Failed {
    fn of(kind: io::ErrorKind) -> Self {
        match kind {
            io::ErrorKind::Interrupted => Failed::Again,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused => Failed::PortClosed,
            _ => Failed::Other,
        }
    }
}

/// A failure that may come again and again (each datagram to a closed port draws one): the
/// first is said at once, the rest are counted and said as a running count at most once per
/// [`SAY_AGAIN_EVERY`], and when the socket closes.
#[derive(Debug, Default)]
struct Counted {
    count: u64,
    said: u64,
    said_at: Option<Instant>,
}

impl Counted {
    /// One more; the running count when it is to be said now.
    fn one_more(&mut self, now: Instant) -> Option<u64> {
        self.count += 1;
        let due = self
            .said_at
            .is_none_or(|at| now.saturating_duration_since(at) >= SAY_AGAIN_EVERY);
        due.then(|| {
            self.said = self.count;
            self.said_at = Some(now);
            self.count
        })
    }

    /// The running count when some were not said yet (the socket closes).
    fn unsaid(&mut self) -> Option<u64> {
        (self.count > self.said).then(|| {
            self.said = self.count;
            self.count
        })
    }
}

/// Where this socket's datagrams went: the address an ICMP "port unreachable" must be about
/// when it went to one only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SentTo {
    #[default]
    Nowhere,
    One(SocketAddr),
    Several,
}

impl SentTo {
    fn and(self, peer: SocketAddr) -> Self {
        match self {
            SentTo::Nowhere => SentTo::One(peer),
            SentTo::One(to) if to == peer => self,
            _ => SentTo::Several,
        }
    }

    fn one(self) -> Option<SocketAddr> {
        match self {
            SentTo::One(to) => Some(to),
            _ => None,
        }
    }
}

pub(crate) struct Udp {
    socket: UdpSocket,
    local: SocketAddr,
    /// A relay's upstream socket: its id, and the one address it talks to.
    upstream: Option<(ConnId, SocketAddr)>,
    out: VecDeque<(SocketAddr, Outgoing)>,
    out_bytes: usize,
    /// The multicast groups joined.
    joined: Vec<Group>,
    /// Bound to all addresses, and the OS says each datagram's destination.
    says_to: bool,
    /// The destination said last (see [`Event::DatagramsTo`]).
    to: Option<std::net::IpAddr>,
    /// Where the datagrams sent went.
    sent_to: SentTo,
    /// Sends that reached a closed port (an ICMP "port unreachable" came back).
    port_closed: Counted,
    /// Other receive failures.
    other_failures: Counted,
}

impl Udp {
    /// Binds `addr`; says `Listening` with the port the OS chose, then sets the multicast
    /// options and joins the groups of `options` (a failure is said and the socket stays).
    pub fn bind(
        addr: SocketAddr,
        options: &UdpOptions,
        cx: &mut Cx<'_>,
    ) -> Result<Self, EngineError> {
        let socket = sockets::bind_udp(addr, !options.groups.is_empty())?;
        let bound = socket
            .local_addr()
            .map_err(|source| EngineError::Bind { addr, source })?;
        cx.emit(Event::Listening { local: bound });
        let says_to =
            bound.ip().is_unspecified() && super::super::pktinfo::enable(&socket, bound.is_ipv6());
        let mut udp = Self {
            socket,
            local: bound,
            upstream: None,
            out: VecDeque::new(),
            out_bytes: 0,
            joined: Vec::new(),
            says_to,
            to: None,
            sent_to: SentTo::Nowhere,
            port_closed: Counted::default(),
            other_failures: Counted::default(),
        };
        udp.multicast(cx, Multicast::Configure(options.clone()));
        for group in &options.groups {
            udp.multicast(cx, Multicast::Join(group.clone()));
        }
        Ok(udp)
    }

    /// A relay's socket towards `remote` for one client: it sends only there, and what it
    /// receives carries `id`.
    pub fn upstream(id: ConnId, remote: SocketAddr) -> Result<Self, EngineError> {
        let any: SocketAddr = if remote.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = sockets::bind_udp(any, false)?;
        let local = socket.local_addr().unwrap_or(any);
        Ok(Self {
            socket,
            local,
            upstream: Some((id, remote)),
            out: VecDeque::new(),
            out_bytes: 0,
            joined: Vec::new(),
            says_to: false,
            to: None,
            sent_to: SentTo::One(remote),
            port_closed: Counted::default(),
            other_failures: Counted::default(),
        })
    }

    /// Reads datagrams until WouldBlock (`Idle`) or the budget runs out (`More`). While the
    /// owner is behind, datagrams are read and counted as dropped: the kernel would drop them
    /// anyway, and this way the user is told how many.
    fn read(&mut self, cx: &mut Cx<'_>) -> Status {
        let mut budget = READ_BUDGET;
        let (mut dropped, mut dropped_bytes) = (0, 0);
        let status = loop {
            if budget == 0 {
                break Status::More;
            }
            let received = if self.says_to {
                super::super::pktinfo::recv(&self.socket, cx.buf)
            } else {
                self.socket
                    .recv_from(cx.buf)
                    .map(|(n, peer)| (n, peer, None))
            };
            match received {
                Ok((n, peer, to)) => {
                    budget = budget.saturating_sub(n.max(1));
                    if cx.behind() {
                        dropped += 1;
                        dropped_bytes += n as u64;
                        continue;
                    }
                    if let Some(ip) = to
                        && self.to != to
                    {
                        self.to = to;
                        cx.emit(Event::DatagramsTo(ip));
                    }
                    let bytes = cx.buffers.copy_of(cx.buf.get(..n).unwrap_or_default());
                    cx.emit(Event::Data(Data {
                        conn: self.upstream.map(|(id, _)| id),
                        peer,
                        dir: Direction::Rx,
                        at: SystemTime::now(),
                        bytes,
                        kind: DataKind::Message,
                    }));
                }
                // Only WouldBlock ends the reads: on Windows mio arms the socket for its next
                // event only after a read said WouldBlock, so a loop that stopped at a failure
                // would never hear of this socket again (nor of the datagrams behind it).
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Status::Idle,
                Err(e) => {
                    // A failure that keeps coming costs a share of the budget, so the loop
                    // still ends (and tries again next round).
                    budget = budget.saturating_sub(READ_BUDGET / 64);
                    self.failed(cx, e);
                }
            }
        };
        if dropped > 0 {
            cx.emit(Event::Dropped {
                datagrams: dropped,
                bytes: dropped_bytes,
            });
        }
        status
    }

    /// A receive failed (not WouldBlock): said, counted, and the reads go on.
    fn failed(&mut self, cx: &mut Cx<'_>, e: io::Error) {
        let now = Instant::now();
        match Failed::of(e.kind()) {
            Failed::Again => {}
            Failed::PortClosed => {
                if let Some(count) = self.port_closed.one_more(now) {
                    cx.error(EngineError::PortUnreachable {
                        to: self.sent_to.one(),
                        count,
                    });
                }
            }
            Failed::Other => {
                if self.other_failures.one_more(now).is_some() {
                    cx.error(EngineError::Io {
                        context: S::CtxReceivingUdp,
                        subject: String::new(),
                        source: e,
                    });
                }
            }
        }
    }

    fn flush(&mut self, cx: &mut Cx<'_>) {
        while let Some((peer, outgoing)) = self.out.front() {
            let sent = match self.socket.send_to(&outgoing.bytes, *peer) {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => Err(EngineError::Send {
                    peer: *peer,
                    source,
                }),
            };
            let Some((peer, outgoing)) = self.out.pop_front() else {
                break;
            };
            if sent.is_ok() {
                self.sent_to = self.sent_to.and(peer);
            }
            self.out_bytes = self.out_bytes.saturating_sub(outgoing.bytes.len());
            match sent {
                // Datagrams that failed are reported as errors, not as sent.
                Err(e) => cx.error(e),
                Ok(()) if outgoing.log => cx.emit(Event::Data(Data {
                    conn: None,
                    peer,
                    dir: Direction::Tx,
                    at: SystemTime::now(),
                    bytes: outgoing.bytes,
                    kind: DataKind::Message,
                })),
                Ok(()) if outgoing.relayed => cx.emit(Event::Forwarded {
                    conn: None,
                    peer,
                    len: outgoing.bytes.len() as u64,
                }),
                Ok(()) => {}
            }
        }
    }
}

impl Link for Udp {
    fn source(&mut self) -> &mut dyn Source {
        &mut self.socket
    }

    fn ready(&mut self, cx: &mut Cx<'_>, readable: bool, writable: bool) -> Status {
        if writable {
            self.flush(cx);
        }
        if readable {
            self.read(cx)
        } else {
            Status::Idle
        }
    }

    fn resume(&mut self, cx: &mut Cx<'_>) -> Status {
        self.read(cx)
    }

    fn conn(&self) -> Option<ConnId> {
        self.upstream.map(|(id, _)| id)
    }

    fn peer(&self) -> Option<SocketAddr> {
        self.upstream.map(|(_, remote)| remote)
    }

    fn reaches(&self, to: &Target) -> bool {
        match (self.upstream, to) {
            (None, Target::Addr(_)) => true,
            (Some((id, _)), Target::Conn(to)) => id == *to,
            _ => false,
        }
    }

    fn send(&mut self, cx: &mut Cx<'_>, to: &Target, out: Outgoing) -> Status {
        let peer = match (self.upstream, to) {
            (Some((_, remote)), _) => remote,
            (None, Target::Addr(peer)) => *peer,
            (None, _) => return Status::Idle,
        };
        if out.bytes.is_empty() && out.part != super::Part::WHOLE {
            // The end of a file's message, which only WebSocket marks: no datagram.
            return Status::Idle;
        }
        if self.out_bytes + out.bytes.len() > MAX_SEND_QUEUE {
            let dropped = out.bytes.len();
            cx.error(EngineError::SendQueueFull { peer, dropped });
            return Status::Idle;
        }
        self.out_bytes += out.bytes.len();
        self.out.push_back((peer, out));
        self.flush(cx);
        Status::Idle
    }

    fn queued(&self) -> usize {
        self.out_bytes
    }

    fn multicast(&mut self, cx: &mut Cx<'_>, op: Multicast) {
        let result = match op {
            Multicast::Configure(options) => {
                multicast::configure(&self.socket, self.local, &options)
            }
            Multicast::Join(group) if self.joined.contains(&group) => {
                Err(EngineError::Membership {
                    join: true,
                    group: group.to_string(),
                    source: io::ErrorKind::AddrInUse.into(),
                })
            }
            Multicast::Join(group) => multicast::membership(&self.socket, self.local, &group, true)
                .map(|()| {
                    self.joined.push(group.clone());
                    cx.emit(Event::Joined(group));
                }),
            Multicast::Leave(group) => {
                multicast::membership(&self.socket, self.local, &group, false).map(|()| {
                    self.joined.retain(|g| *g != group);
                    cx.emit(Event::LeftGroup(group));
                })
            }
        };
        if let Err(e) = result {
            cx.error(e);
        }
    }

    fn close(&mut self, cx: &mut Cx<'_>, _reason: CloseReason) {
        // The ports found closed since the last time it was said: the count is complete.
        if let Some(count) = self.port_closed.unsaid() {
            cx.error(EngineError::PortUnreachable {
                to: self.sent_to.one(),
                count,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_and_a_signal_do_not_end_the_reads_and_only_the_port_is_said() {
        // Windows' WSAECONNRESET and Linux's ECONNREFUSED come as these kinds.
        assert_eq!(
            Failed::of(io::ErrorKind::ConnectionReset),
            Failed::PortClosed
        );
        assert_eq!(
            Failed::of(io::ErrorKind::ConnectionRefused),
            Failed::PortClosed
        );
        assert_eq!(Failed::of(io::ErrorKind::Interrupted), Failed::Again);
        assert_eq!(Failed::of(io::ErrorKind::Other), Failed::Other);
        assert_eq!(Failed::of(io::ErrorKind::PermissionDenied), Failed::Other);
    }

    #[test]
    fn a_failure_that_keeps_coming_is_said_once_a_second_with_its_running_count() {
        let mut counted = Counted::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert_eq!(counted.one_more(at(0)), Some(1), "the first at once");
        assert_eq!(counted.one_more(at(10)), None);
        assert_eq!(counted.one_more(at(500)), None);
        assert_eq!(
            counted.one_more(at(1000)),
            Some(4),
            "a second later: all four"
        );
        assert_eq!(counted.one_more(at(1200)), None);
        assert_eq!(counted.unsaid(), Some(5), "the rest when the socket closes");
        assert_eq!(counted.unsaid(), None, "and only once");
    }

    #[test]
    fn the_closed_port_is_named_when_every_datagram_went_there() {
        let a: SocketAddr = ([127, 0, 0, 1], 7001).into();
        let b: SocketAddr = ([127, 0, 0, 1], 7002).into();
        assert_eq!(SentTo::Nowhere.one(), None);
        assert_eq!(SentTo::Nowhere.and(a).and(a).one(), Some(a));
        assert_eq!(SentTo::Nowhere.and(a).and(b).one(), None);
        assert_eq!(SentTo::Nowhere.and(a).and(b).and(a).one(), None);
    }
}
