//! Engine errors: each one carries the operation and the address, and displays as a sentence
//! a device engineer understands without looking anything up.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::ConnId;

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
    /// There is nobody to send to.
    NotConnected,
    /// The connection was closed before this command arrived.
    UnknownConn(ConnId),
    /// A command that this mode cannot do.
    Unsupported(&'static str),
    /// Any other socket failure, with what was being done.
    Io {
        /// What was being done, e.g. "reading from 127.0.0.1:5000".
        context: String,
        /// What the OS said.
        source: io::Error,
    },
    /// A timed send's payload could not be made (e.g. its checksum range no longer fits).
    Payload(crate::codec::payload::PayloadError),
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
                    io::ErrorKind::AddrInUse => {
                        write!(f, "Port {port} on {ip} is already in use")
                    }
                    io::ErrorKind::PermissionDenied if port < 1024 => write!(
                        f,
                        "Permission denied for port {port} on {ip}: ports below 1024 need administrator rights"
                    ),
                    io::ErrorKind::AddrNotAvailable => {
                        write!(f, "{ip} is not an address of this machine")
                    }
                    _ => write!(f, "Could not bind {addr}: {source}"),
                }
            }
            EngineError::Connect { addr, source } => match source.kind() {
                io::ErrorKind::ConnectionRefused => {
                    write!(
                        f,
                        "Connection to {addr} refused: nothing is listening there"
                    )
                }
                io::ErrorKind::NetworkUnreachable => {
                    write!(f, "Cannot reach {addr}: network unreachable")
                }
                io::ErrorKind::HostUnreachable => {
                    write!(f, "Cannot reach {addr}: host unreachable")
                }
                io::ErrorKind::AddrNotAvailable => {
                    write!(f, "Cannot connect to {addr}: address not available")
                }
                io::ErrorKind::TimedOut => write!(f, "No answer from {addr}: timed out"),
                _ => write!(f, "Could not connect to {addr}: {source}"),
            },
            EngineError::ConnectTimeout { addr, after } => {
                write!(
                    f,
                    "No answer from {addr} within {:.1} s",
                    after.as_secs_f64()
                )
            }
            EngineError::Accept(source) => write!(f, "Could not accept a client: {source}"),
            EngineError::Send { peer, source } => write!(f, "Could not send to {peer}: {source}"),
            EngineError::SendQueueFull { peer, dropped } => write!(
                f,
                "{peer} is not reading: its send queue is full, {dropped} bytes were not sent"
            ),
            EngineError::NotConnected => f.write_str("Not connected: nothing to send to"),
            EngineError::UnknownConn(id) => write!(f, "Client {id} is no longer connected"),
            EngineError::Unsupported(what) => f.write_str(what),
            EngineError::Io { context, source } => write!(f, "Error {context}: {source}"),
            EngineError::Payload(e) => write!(f, "Timed send stopped: {e}"),
            EngineError::Internal(what) => write!(f, "Internal error, session stopped: {what}"),
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
