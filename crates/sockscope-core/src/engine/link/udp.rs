//! A UDP socket: datagrams from anyone, sends to any address.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::time::SystemTime;

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
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Status::Idle,
                // ICMP errors for earlier sends (Linux on some sockets, Windows without
                // SIO_UDP_CONNRESET) are no reason to stop receiving.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted
                            | io::ErrorKind::ConnectionReset
                            | io::ErrorKind::ConnectionRefused
                    ) => {}
                Err(e) => {
                    cx.error(EngineError::Io {
                        context: S::CtxReceivingUdp,
                        subject: String::new(),
                        source: e,
                    });
                    break Status::Idle;
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

    fn close(&mut self, _cx: &mut Cx<'_>, _reason: CloseReason) {}
}
