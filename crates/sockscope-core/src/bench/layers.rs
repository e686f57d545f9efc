//! TLS and WebSocket on a load connection (`tls://`, `ws://`, `wss://` targets): the same
//! rustls configuration and WebSocket code a session's TCP client uses, moved on by the
//! generator's poll. Each request is one WebSocket message; a reply is what the messages
//! that come back hold.

use std::io::{self, Write};

use mio::net::TcpStream;

use super::{Cause, Spec};
use crate::engine::WsSettings;
use crate::engine::speak::{self, Incoming, PlainIo, Tls, TlsProblem, Ws};
use crate::i18n::{S, t};

/// What every connection of a run shares: the TLS configuration, the WebSocket settings.
pub(super) struct Setup {
    tls: Option<Tls>,
    ws: Option<WsSettings>,
}

/// How far a connection's TLS handshake and WebSocket upgrade got.
pub(super) enum Step {
    /// Both are done: requests may go.
    Done,
    /// Waiting for the socket.
    Wait,
    /// It failed, for this reason (a sentence in the current language).
    Failed(Cause, String),
}

/// What a read brought.
pub(super) enum Got {
    /// Bytes, in the buffer given.
    Bytes(usize),
    /// A WebSocket message's bytes.
    Message(Vec<u8>),
    /// Nothing for the reply (a ping answered, a pong).
    Nothing,
    /// The peer closed (its TLS, its WebSocket or its socket).
    End,
    /// The server closed its WebSocket with this code and reason (the close is answered).
    Closed(u16, String),
}

impl Setup {
    /// The layers `spec` asks for; `None` for plain TCP or UDP. A TLS setting that cannot be
    /// used (a CA file that is not there) is said before the run starts.
    pub fn of(spec: &Spec) -> Result<Option<Setup>, String> {
        if spec.udp || (spec.tls.is_none() && spec.ws.is_none()) {
            return Ok(None);
        }
        let tls = match &spec.tls {
            None => None,
            Some(settings) => {
                let mut settings = settings.clone();
                if settings.server_name.trim().is_empty()
                    && let Some(name) = &spec.host_name
                {
                    // A name typed in the target is the name the certificate must carry.
                    settings.server_name.clone_from(name);
                }
                Some(speak::client(&settings, Some(spec.target)).map_err(|e| e.to_string())?)
            }
        };
        Ok(Some(Setup {
            tls,
            ws: spec.ws.clone(),
        }))
    }

    /// A new connection's layers, before its handshake.
    pub fn layers(&self) -> Result<Layers, (Cause, String)> {
        let tls = match &self.tls {
            None => None,
            Some(tls) => match speak::connection(tls) {
                Ok(conn) => conn,
                Err(e) => return Err((Cause::Tls, TlsProblem::of(&e).to_string())),
            },
        };
        Ok(Layers {
            tls,
            ws: self.ws.as_ref().map(|settings| {
                let host = settings.host.trim();
                Ws::client(settings, host)
            }),
        })
    }

    fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }
}

/// One connection's TLS and WebSocket.
pub(super) struct Layers {
    tls: Option<rustls::Connection>,
    ws: Option<Ws>,
}

impl Layers {
    fn io<'a>(stream: &'a mut TcpStream, tls: &'a mut Option<rustls::Connection>) -> PlainIo<'a> {
        PlainIo {
            stream,
            tls: tls.as_mut(),
        }
    }

    /// Moves the TLS handshake, then the WebSocket upgrade, on as far as the socket allows.
    pub fn handshake(&mut self, stream: &mut TcpStream, setup: &Setup) -> Step {
        if let Some(tls) = &mut self.tls {
            // A plain server closes on a TLS greeting it cannot read: say what that means.
            let closed = || Step::Failed(Cause::Tls, t(S::BenchTlsClosed).to_owned());
            loop {
                while tls.wants_write() {
                    match tls.write_tls(stream) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return closed(),
                    }
                }
                if !tls.is_handshaking() {
                    break;
                }
                if !tls.wants_read() {
                    return Step::Wait;
                }
                match tls.read_tls(stream) {
                    Ok(0) => return closed(),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Step::Wait,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return closed(),
                }
                if let Err(e) = tls.process_new_packets() {
                    // The alert that says why goes to the server before the socket closes.
                    let _ = tls.write_tls(stream);
                    let problem = match setup.tls() {
                        Some(config) => speak::failure(config, &e),
                        None => TlsProblem::of(&e),
                    };
                    return Step::Failed(Cause::Tls, problem.to_string());
                }
            }
        }
        let Some(ws) = &mut self.ws else {
            return Step::Done;
        };
        match ws.upgrade(&mut Self::io(stream, &mut self.tls)) {
            Ok(true) => Step::Done,
            Ok(false) => Step::Wait,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Step::Wait,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Step::Wait,
            Err(e) => Step::Failed(Cause::WebSocket, e.to_string()),
        }
    }

    /// Over WebSocket: true (each request goes as one message through [`Layers::send`]).
    pub fn messages(&self) -> bool {
        self.ws.is_some()
    }

    /// Writes plaintext into TLS (which writes what the socket takes); `WouldBlock` when
    /// neither takes more.
    pub fn write(&mut self, stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
        let Some(tls) = &mut self.tls else {
            return stream.write(bytes);
        };
        speak::push_tls(tls, stream)?;
        let n = tls.writer().write(bytes)?;
        // What rustls took is taken; the socket gets it now or with the next flush.
        let _ = speak::push_tls(tls, stream);
        if n == 0 && !bytes.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    }

    /// Hands `bytes` over as one WebSocket message; true when the socket is full (the message
    /// is kept, but no more should be handed over until a flush gets through).
    pub fn send(&mut self, stream: &mut TcpStream, bytes: &[u8]) -> io::Result<bool> {
        let Some(ws) = &mut self.ws else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        ws.send(&mut Self::io(stream, &mut self.tls), bytes, false)
            .map(|queued| queued.socket_full)
    }

    /// Writes what the layers hold; `WouldBlock` while the socket is full.
    pub fn flush(&mut self, stream: &mut TcpStream) -> io::Result<()> {
        match (&mut self.ws, &mut self.tls) {
            (Some(ws), tls) => ws.flush(&mut Self::io(stream, tls)),
            (None, Some(tls)) => speak::push_tls(tls, stream),
            (None, None) => Ok(()),
        }
    }

    /// Ends the connection politely, as far as the socket takes it now: a WebSocket close
    /// (1000), TLS's close_notify. Nothing is waited for.
    pub fn close(&mut self, stream: &mut TcpStream) {
        if let Some(ws) = &mut self.ws
            && ws.is_open()
        {
            let mut io = Self::io(stream, &mut self.tls);
            let _ = ws.close(&mut io, 1000, "");
            let _ = ws.flush(&mut io);
        }
        if let Some(tls) = &mut self.tls {
            tls.send_close_notify();
            let _ = speak::push_tls(tls, stream);
        }
    }

    /// Reads the next thing that came: plaintext into `buf`, or a WebSocket message.
    pub fn read(&mut self, stream: &mut TcpStream, buf: &mut [u8]) -> io::Result<Got> {
        let Some(ws) = &mut self.ws else {
            return match speak::read_plain(stream, self.tls.as_mut(), buf)? {
                0 => Ok(Got::End),
                n => Ok(Got::Bytes(n)),
            };
        };
        match ws.read(&mut Self::io(stream, &mut self.tls)) {
            Ok(Some(Incoming::Message { bytes, .. })) => Ok(Got::Message(bytes)),
            Ok(Some(Incoming::Control { .. })) => Ok(Got::Nothing),
            Ok(Some(Incoming::Close(frame))) => {
                let (code, reason) = frame.unwrap_or((1005, String::new()));
                Ok(Got::Closed(code, reason))
            }
            // A frame of a message not ended yet: more is to come.
            Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(Got::End),
            Err(e) => Err(e),
        }
    }
}
