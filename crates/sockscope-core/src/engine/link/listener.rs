//! A TCP listener: each accepted client becomes a [`TcpConn`] link of the same session.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::Interest;
use mio::event::Source;
use mio::net::TcpListener;

use super::tcp::TcpConn;
use super::{Cx, Link, Outgoing, Status};
use crate::engine::{CloseReason, EngineError, Event, Target, sockets};

/// How long to wait before accepting again after a failure such as EMFILE.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

pub(crate) struct Listener {
    socket: TcpListener,
    retry_at: Option<Instant>,
}

impl Listener {
    /// Listens on `addr`; says `Listening` with the port the OS chose.
    pub fn bind(addr: SocketAddr, cx: &mut Cx<'_>) -> Result<Self, EngineError> {
        let socket = sockets::listen(addr)?;
        let bound = socket
            .local_addr()
            .map_err(|source| EngineError::Bind { addr, source })?;
        cx.emit(Event::Listening { local: bound });
        if let Some(cert) = &cx.opts.tls.own {
            cx.emit(Event::ServerCertificate(cert.clone()));
        }
        Ok(Self {
            socket,
            retry_at: None,
        })
    }

    fn accept_all(&mut self, cx: &mut Cx<'_>) {
        loop {
            match self.socket.accept() {
                Ok((stream, peer)) => {
                    // A dual-stack listener's IPv4 client reads as IPv4 (127.0.0.1:P, as the
                    // window shows it), not [::ffff:127.0.0.1]:P. The address only names the
                    // peer: the connection's socket is what is used.
                    let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
                    if let Some(conn) = TcpConn::accepted(cx, stream, peer) {
                        cx.spawned.push(Box::new(conn));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The client gave up between SYN and accept: nothing to report.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    // Most likely out of file descriptors: say so once, retry shortly.
                    cx.error(EngineError::Accept(e));
                    self.retry_at = Some(Instant::now() + ACCEPT_RETRY);
                    return;
                }
            }
        }
    }
}

impl Link for Listener {
    fn source(&mut self) -> &mut dyn Source {
        &mut self.socket
    }

    fn interest(&self) -> Interest {
        Interest::READABLE
    }

    fn ready(&mut self, cx: &mut Cx<'_>, _readable: bool, _writable: bool) -> Status {
        self.accept_all(cx);
        Status::Idle
    }

    fn reaches(&self, _to: &Target) -> bool {
        false
    }

    fn send(&mut self, _cx: &mut Cx<'_>, _to: &Target, _out: Outgoing) -> Status {
        Status::Idle
    }

    fn deadline(&self) -> Option<Instant> {
        self.retry_at
    }

    fn tick(&mut self, cx: &mut Cx<'_>, now: Instant) -> Status {
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.accept_all(cx);
        }
        Status::Idle
    }

    fn close(&mut self, cx: &mut Cx<'_>, _reason: CloseReason) {
        cx.emit(Event::ListenerClosed);
    }

    fn is_listener(&self) -> bool {
        true
    }
}
