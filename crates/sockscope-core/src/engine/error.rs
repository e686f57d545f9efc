//! Engine errors: each one carries the operation and the address, and displays as a sentence
//! a device engineer understands without looking anything up.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::ConnId;
use crate::i18n::{S, t, tf};

impl EngineError {
    /// The machine name of what failed, stable across languages and versions (`refused`,
    /// `timeout` …), for `--json` and scripts.
    pub fn event_name(&self) -> &'static str {
        match self {
            EngineError::Connect { source, .. }
                if source.kind() == io::ErrorKind::ConnectionRefused =>
            {
                "refused"
            }
            EngineError::Connect { .. } => "connect-failed",
            EngineError::ConnectTimeout { .. } => "timeout",
            EngineError::GaveUp { .. } => "gave-up",
            EngineError::Bind { .. } => "bind-failed",
            EngineError::Send { .. } => "send-failed",
            EngineError::SendQueueFull { .. } => "send-queue-full",
            EngineError::SendsRefused { .. } => "sends-refused",
            EngineError::PortUnreachable { .. } => "port-unreachable",
            EngineError::NotConnected => "not-connected",
            EngineError::Tls { .. } | EngineError::TlsSetup(_) => "tls-failed",
            EngineError::WebSocket { .. } => "ws-failed",
            _ => "error",
        }
    }

    /// The address the failure concerns, when it names one.
    pub fn peer(&self) -> Option<SocketAddr> {
        match self {
            EngineError::Bind { addr, .. }
            | EngineError::Connect { addr, .. }
            | EngineError::ConnectTimeout { addr, .. }
            | EngineError::GaveUp { addr, .. } => Some(*addr),
            EngineError::Send { peer, .. }
            | EngineError::SendQueueFull { peer, .. }
            | EngineError::SendsRefused { peer, .. }
            | EngineError::Tls { peer, .. }
            | EngineError::WebSocket { peer, .. } => Some(*peer),
            EngineError::PortUnreachable { to, .. } => *to,
            _ => None,
        }
    }
}

/// Something the engine could not do.
#[derive(Debug)]
pub enum EngineError {
    /// Binding a listener or socket failed.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// A TCP connect failed.
    Connect {
        /// The server asked for.
        addr: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// A TCP connect got no answer in time.
    ConnectTimeout {
        /// The server asked for.
        addr: SocketAddr,
        /// The time allowed.
        after: Duration,
    },
    /// Reconnect gave up after its last try.
    GaveUp {
        /// The server.
        addr: SocketAddr,
        /// Tries made.
        tries: u32,
    },
    /// Accepting a client failed (e.g. out of file descriptors).
    Accept(io::Error),
    /// Sending to a peer failed.
    Send {
        /// The peer.
        peer: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// A connection's outgoing queue is full: the peer does not read.
    SendQueueFull {
        /// The peer.
        peer: SocketAddr,
        /// Bytes that were not queued.
        dropped: usize,
    },
    /// More sends were refused since [`SendQueueFull`](Self::SendQueueFull) said the first: a
    /// running count, said at most once a second and when the connection ends, so a flood of
    /// replies to a peer that never reads is a few lines, not one per reply.
    SendsRefused {
        /// The peer.
        peer: SocketAddr,
        /// Sends refused on this connection so far, the first one included.
        sends: u64,
        /// Their bytes.
        bytes: u64,
        /// Of them, the sends not said before (a counter adds these).
        new_sends: u64,
        /// Their bytes.
        new_bytes: u64,
    },
    /// UDP: datagrams sent earlier reached a closed port (an ICMP "port unreachable" came
    /// back; Windows says so on a later receive). The first is said at once, then a running
    /// count at most once a second and when the socket closes.
    PortUnreachable {
        /// Where they went, when every datagram of the socket went to one address.
        to: Option<SocketAddr>,
        /// How many so far.
        count: u64,
    },
    /// There is nobody to send to.
    NotConnected,
    /// The connection was closed before this command arrived.
    UnknownConn(ConnId),
    /// A command that this mode cannot do.
    Unsupported(crate::i18n::S),
    /// A TLS handshake failed.
    Tls {
        /// The peer.
        peer: SocketAddr,
        /// Why, in the user's words.
        problem: super::TlsProblem,
    },
    /// A WebSocket upgrade or frame failed.
    WebSocket {
        /// The peer.
        peer: SocketAddr,
        /// Why.
        problem: super::WsProblem,
    },
    /// The TLS settings cannot be used (a file, a name); the sentence says which.
    TlsSetup(String),
    /// No network interface has this name.
    NoInterface(String),
    /// The interface has no IPv4 address (an IPv4 group needs one to name it).
    NoInterfaceV4(String),
    /// The address is not a multicast group.
    NotMulticast(std::net::IpAddr),
    /// A group of the other family than the socket's.
    GroupFamily {
        /// The group.
        group: std::net::IpAddr,
        /// The socket's address.
        local: SocketAddr,
    },
    /// A source-specific join with a source of the other family.
    SsmFamily(std::net::IpAddr),
    /// Source-specific joins are offered for IPv4 groups only.
    SsmV6,
    /// Joining or leaving a group failed.
    Membership {
        /// Joining (else leaving).
        join: bool,
        /// The group as shown.
        group: String,
        /// What the OS said.
        source: io::Error,
    },
    /// Any other socket failure, with what was being done.
    Io {
        /// What was being done, e.g. "reading from 127.0.0.1:5000".
        context: crate::i18n::S,
        /// What it was done to (an address, a file), filling the context's slot.
        subject: String,
        /// What the OS said.
        source: io::Error,
    },
    /// A timed send's payload could not be made (e.g. its checksum range no longer fits).
    Payload(crate::codec::payload::PayloadError),
    /// A rule fired but could not do its part (its sentence names the rule and why).
    Rule(String),
    /// A bug: the I/O thread panicked. The session is over.
    Internal(String),
}

/// Names an IP the way users type it: `0.0.0.0`, `::`.
fn ip_text(addr: &SocketAddr) -> String {
    addr.ip().to_string()
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Bind { addr, source } => {
                let (ip, port) = (ip_text(addr), addr.port());
                match source.kind() {
                    io::ErrorKind::AddrInUse => f.write_str(&tf(S::ErrPortInUse, &[&port, &ip])),
                    io::ErrorKind::PermissionDenied if port < 1024 => {
                        f.write_str(&tf(S::ErrLowPort, &[&port, &ip]))
                    }
                    io::ErrorKind::AddrNotAvailable => {
                        f.write_str(&tf(S::ErrNotLocalAddress, &[&ip]))
                    }
                    _ => f.write_str(&tf(S::ErrBind, &[addr, source])),
                }
            }
            EngineError::Connect { addr, source } => match source.kind() {
                io::ErrorKind::ConnectionRefused => f.write_str(&tf(S::ErrRefused, &[addr])),
                io::ErrorKind::NetworkUnreachable => {
                    f.write_str(&tf(S::ErrNetUnreachable, &[addr]))
                }
                io::ErrorKind::HostUnreachable => f.write_str(&tf(S::ErrHostUnreachable, &[addr])),
                io::ErrorKind::AddrNotAvailable => {
                    f.write_str(&tf(S::ErrAddrNotAvailable, &[addr]))
                }
                io::ErrorKind::TimedOut => f.write_str(&tf(S::ErrTimedOut, &[addr])),
                _ => f.write_str(&tf(S::ErrConnect, &[addr, source])),
            },
            EngineError::ConnectTimeout { addr, after } => {
                let seconds = format!("{:.1}", after.as_secs_f64());
                f.write_str(&tf(S::ErrConnectTimeout, &[addr, &seconds]))
            }
            EngineError::GaveUp { addr, tries } => f.write_str(&tf(S::ErrGaveUp, &[addr, tries])),
            EngineError::Accept(source) => f.write_str(&tf(S::ErrAccept, &[source])),
            EngineError::Send { peer, source } => {
                f.write_str(&tf(S::ErrSend, &[peer, source]))?;
                // The limited broadcast goes out by the default route; without one the OS
                // only says "network is unreachable".
                if peer.ip() == std::net::IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
                    && source.kind() == io::ErrorKind::NetworkUnreachable
                {
                    f.write_str(t(S::HintDirectedBroadcast))?;
                }
                Ok(())
            }
            EngineError::SendQueueFull { peer, dropped } => {
                f.write_str(&tf(S::ErrQueueFull, &[peer, dropped]))
            }
            EngineError::PortUnreachable {
                to: Some(to),
                count,
            } => f.write_str(&tf(S::ErrPortUnreachableAt, &[to, count])),
            EngineError::PortUnreachable { to: None, count } => {
                f.write_str(&tf(S::ErrPortUnreachable, &[count]))
            }
            EngineError::SendsRefused {
                peer, sends, bytes, ..
            } => f.write_str(&tf(S::ErrSendsRefused, &[peer, sends, bytes])),
            EngineError::NotConnected => f.write_str(t(S::ErrNotConnected)),
            EngineError::UnknownConn(id) => f.write_str(&tf(S::ErrUnknownConn, &[id])),
            EngineError::Unsupported(what) => f.write_str(t(*what)),
            EngineError::Tls { peer, problem } => {
                f.write_str(&tf(S::ErrTlsHandshake, &[peer, problem]))
            }
            EngineError::WebSocket { peer, problem } => {
                f.write_str(&tf(S::ErrWebSocket, &[peer, problem]))
            }
            EngineError::TlsSetup(why) => f.write_str(&tf(S::ErrTlsSetup, &[why])),
            EngineError::NoInterface(name) => f.write_str(&tf(S::ErrNoInterface, &[name])),
            EngineError::NoInterfaceV4(name) => f.write_str(&tf(S::ErrNoInterfaceV4, &[name])),
            EngineError::NotMulticast(ip) => f.write_str(&tf(S::ErrNotMulticast, &[ip])),
            EngineError::GroupFamily { group, local } => f.write_str(&tf(
                if group.is_ipv4() {
                    S::ErrGroupV4OnV6
                } else {
                    S::ErrGroupV6OnV4
                },
                &[group, local],
            )),
            EngineError::SsmFamily(group) => f.write_str(&tf(S::ErrSsmFamily, &[group])),
            EngineError::SsmV6 => f.write_str(t(S::ErrSsmV6)),
            EngineError::Membership {
                join,
                group,
                source,
            } => f.write_str(&super::multicast::membership_message(*join, group, source)),
            EngineError::Io {
                context,
                subject,
                source,
            } => {
                let context = tf(*context, &[subject]);
                f.write_str(&tf(S::ErrIo, &[&context, source]))
            }
            EngineError::Payload(e) => f.write_str(&tf(S::ErrTimedSend, &[e])),
            EngineError::Rule(sentence) => f.write_str(sentence),
            EngineError::Internal(what) => f.write_str(&tf(S::ErrInternal, &[what])),
        }
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EngineError::Bind { source, .. }
            | EngineError::Connect { source, .. }
            | EngineError::Send { source, .. }
            | EngineError::Io { source, .. }
            | EngineError::Accept(source) => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limited_broadcast_without_a_route_points_to_the_directed_one() {
        let error = EngineError::Send {
            peer: "255.255.255.255:9000".parse().unwrap(),
            source: io::Error::from(io::ErrorKind::NetworkUnreachable),
        };
        let text = error.to_string();
        assert!(text.contains("directed broadcast"), "{text}");
        let unicast = EngineError::Send {
            peer: "10.0.0.9:9000".parse().unwrap(),
            source: io::Error::from(io::ErrorKind::NetworkUnreachable),
        };
        assert!(!unicast.to_string().contains("directed broadcast"));
    }

    #[test]
    fn port_in_use_names_the_port_and_address() {
        let e = EngineError::Bind {
            addr: "0.0.0.0:9000".parse().unwrap(),
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(e.to_string(), "Port 9000 on 0.0.0.0 is already in use");
    }

    #[test]
    fn low_port_permission_explains_the_rule() {
        let e = EngineError::Bind {
            addr: "[::]:80".parse().unwrap(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(
            e.to_string(),
            "Permission denied for port 80 on ::: ports below 1024 need administrator rights"
        );
    }
}
