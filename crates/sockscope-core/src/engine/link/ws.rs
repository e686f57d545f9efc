//! WebSocket on a TCP (or TLS) connection: the HTTP upgrade, written and read here, then
//! tungstenite's stream-less [`WebSocketContext`] for the frames, on the connection's own
//! non-blocking socket. Each message is one record; ping, pong and close are said as events.

use std::fmt::Write as _;
use std::io::{self, Read, Write};

use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::frame::Frame;
use tungstenite::protocol::frame::coding::{CloseCode, Data as OpData, OpCode};
use tungstenite::protocol::{CloseFrame, Role, WebSocketContext};
use tungstenite::{Bytes, Message};

use crate::engine::types::WsSettings;

/// The longest HTTP upgrade request or answer taken.
const MAX_HEAD: usize = 16 << 10;

/// What came in on an open WebSocket.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A text or binary message's payload.
    Message {
        /// Its bytes (a text message's UTF-8).
        bytes: Vec<u8>,
        /// It was a text message (else binary).
        text: bool,
    },
    /// A ping (answered already) or a pong, with its payload.
    Control {
        /// A ping (else a pong).
        ping: bool,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// The peer closes, with its code and reason.
    Close(Option<(u16, String)>),
}

/// What a WebSocket upgrade settled: what the client asked for and what was agreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUpgrade {
    /// We are the server (else the client).
    pub server: bool,
    /// The path and query asked for (`/chat?room=1`).
    pub path: String,
    /// The subprotocols the client offered, in its order.
    pub offered: Vec<String>,
    /// The subprotocol the server took, if any.
    pub protocol: Option<String>,
}

impl std::fmt::Display for WsUpgrade {
    /// `/chat?room=1, subprotocol chat.v1 (offered: chat.v1, chat.v0)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::i18n::{S, tf};
        f.write_str(&self.path)?;
        let offered = self.offered.join(", ");
        let text = match (&self.protocol, self.offered.is_empty()) {
            (Some(taken), _) if self.offered.len() > 1 => tf(S::WsProtocolOf, &[taken, &offered]),
            (Some(taken), _) => tf(S::WsProtocolTaken, &[taken]),
            (None, false) => tf(S::WsProtocolNoneTaken, &[&offered]),
            (None, true) => String::new(),
        };
        f.write_str(&text)
    }
}

/// Why a WebSocket failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsProblem {
    /// The server answered the upgrade with another status.
    Refused(String),
    /// The peer did not answer in HTTP: its first line (our own request, from an echo server).
    NotHttp {
        /// The line it sent.
        line: String,
        /// It is the request we sent.
        echoed: bool,
    },
    /// The server's Sec-WebSocket-Accept is wrong.
    BadAccept,
    /// A client sent something that is not a WebSocket upgrade.
    NotUpgrade(String),
    /// The upgrade head was too long.
    HeadTooLong,
    /// A frame broke the protocol.
    Protocol(String),
    /// The server answered the upgrade in TLS (an alert): it wants `wss://`.
    SpeaksTls,
    /// The server closed the connection without answering the upgrade (as a TLS server
    /// does to a request in plain HTTP).
    ClosedUnanswered,
}

impl std::fmt::Display for WsProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::i18n::{S, t, tf};
        let text = match self {
            WsProblem::Refused(status) => tf(S::WsRefused, &[status]),
            WsProblem::NotHttp { echoed: true, .. } => t(S::WsEchoed).to_owned(),
            WsProblem::NotHttp { line, .. } => tf(S::WsNotHttp, &[line]),
            WsProblem::BadAccept => t(S::WsBadAccept).to_owned(),
            WsProblem::NotUpgrade(line) => tf(S::WsNotUpgrade, &[line]),
            WsProblem::HeadTooLong => tf(S::WsHeadTooLong, &[&MAX_HEAD]),
            WsProblem::Protocol(why) => tf(S::WsProtocol, &[why]),
            WsProblem::SpeaksTls => t(S::WsSpeaksTls).to_owned(),
            WsProblem::ClosedUnanswered => t(S::WsClosedUnanswered).to_owned(),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for WsProblem {}

enum State {
    /// Client: the request is out (or going), reading the answer.
    ClientUpgrade { key: String },
    /// Server: reading the request.
    ServerUpgrade,
    /// Frames flow.
    Open(Box<WebSocketContext>),
}

/// One connection's WebSocket.
pub(crate) struct Ws {
    state: State,
    /// The upgrade head read so far.
    head: Vec<u8>,
    /// Upgrade bytes still to write.
    pending: Vec<u8>,
    /// The settings (path, host, subprotocol, text or binary sends).
    settings: WsSettings,
    /// Client: the path asked for.
    path: String,
    /// What the upgrade settled, until it is said.
    upgraded: Option<WsUpgrade>,
}

impl Ws {
    /// A client that asks `host` for an upgrade on the settings' path.
    pub fn client(settings: &WsSettings, host: &str) -> Ws {
        let key = tungstenite::handshake::client::generate_key();
        let path = if settings.path.starts_with('/') {
            settings.path.clone()
        } else {
            format!("/{}", settings.path)
        };
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        );
        if !settings.subprotocol.trim().is_empty() {
            let _ = write!(
                request,
                "Sec-WebSocket-Protocol: {}\r\n",
                settings.subprotocol.trim()
            );
        }
        request.push_str("\r\n");
        Ws {
            state: State::ClientUpgrade { key },
            head: Vec::new(),
            pending: request.into_bytes(),
            settings: settings.clone(),
            path,
            upgraded: None,
        }
    }

    /// A server that waits for a client's upgrade.
    pub fn server(settings: &WsSettings) -> Ws {
        Ws {
            state: State::ServerUpgrade,
            head: Vec::new(),
            pending: Vec::new(),
            settings: settings.clone(),
            path: String::new(),
            upgraded: None,
        }
    }

    /// What the upgrade settled, once (to be said when it is done).
    pub fn take_upgrade(&mut self) -> Option<WsUpgrade> {
        self.upgraded.take()
    }

    /// True once frames flow.
    pub fn is_open(&self) -> bool {
        matches!(self.state, State::Open(_))
    }

    /// Moves the upgrade on: `Ok(true)` once it is done.
    pub fn upgrade(&mut self, io: &mut impl ReadWrite) -> io::Result<bool> {
        self.write_pending(io)?;
        if self.is_open() {
            return Ok(true);
        }
        let mut buf = [0u8; 2048];
        loop {
            let end = find_head_end(&self.head);
            if let Some(end) = end {
                let rest = self.head.split_off(end);
                let head = String::from_utf8_lossy(&self.head).into_owned();
                self.head.clear();
                let finished = self.finish_upgrade(&head, rest);
                // The answer goes out either way: 101, or 400 to a client that is not one.
                let written = self.write_pending(io);
                finished?;
                written?;
                return Ok(true);
            }
            if self.head.len() > MAX_HEAD {
                return Err(problem(WsProblem::HeadTooLong));
            }
            let n = io.read(&mut buf)?;
            if n == 0 {
                if matches!(self.state, State::ClientUpgrade { .. }) {
                    // A TLS server answers an HTTP request with an alert, or closes without
                    // a word: "unexpected end of file" tells a user neither.
                    let tls = matches!(self.head.as_slice(), [0x15 | 0x16, 0x03, ..]);
                    return Err(problem(if tls {
                        WsProblem::SpeaksTls
                    } else {
                        WsProblem::ClosedUnanswered
                    }));
                }
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.head
                .extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }

    fn finish_upgrade(&mut self, head: &str, rest: Vec<u8>) -> io::Result<()> {
        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or_default().to_owned();
        let header = |name: &str| {
            head.split("\r\n").skip(1).find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let role = match &self.state {
            State::ClientUpgrade { key } => {
                if !first.starts_with("HTTP/") {
                    let echoed = first.starts_with("GET ")
                        && header("Sec-WebSocket-Key").as_deref() == Some(key.as_str());
                    return Err(problem(WsProblem::NotHttp {
                        line: first.chars().take(80).collect(),
                        echoed,
                    }));
                }
                let status = first.split_whitespace().nth(1).unwrap_or_default();
                if status != "101" {
                    let shown = first.split_once(' ').map_or(first.as_str(), |(_, s)| s);
                    return Err(problem(WsProblem::Refused(shown.to_owned())));
                }
                if header("Sec-WebSocket-Accept").as_deref()
                    != Some(derive_accept_key(key.as_bytes()).as_str())
                {
                    return Err(problem(WsProblem::BadAccept));
                }
                let offered = self.settings.subprotocol.trim();
                self.upgraded = Some(WsUpgrade {
                    server: false,
                    path: self.path.clone(),
                    offered: protocols(offered),
                    protocol: header("Sec-WebSocket-Protocol").filter(|p| !p.is_empty()),
                });
                Role::Client
            }
            State::ServerUpgrade => {
                let upgrade =
                    header("Upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
                let Some(key) = header("Sec-WebSocket-Key").filter(|_| upgrade) else {
                    self.pending = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
                    return Err(problem(WsProblem::NotUpgrade(first)));
                };
                let mut answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Accept: {}\r\n",
                    derive_accept_key(key.as_bytes())
                );
                // The first subprotocol the client offers that we take (ours, or any).
                let offered = protocols(&header("Sec-WebSocket-Protocol").unwrap_or_default());
                let ours = self.settings.subprotocol.trim();
                let pick = offered
                    .iter()
                    .find(|p| ours.is_empty() || p.as_str() == ours)
                    .cloned();
                if let Some(pick) = &pick {
                    let _ = write!(answer, "Sec-WebSocket-Protocol: {pick}\r\n");
                }
                let path = first.split_whitespace().nth(1).unwrap_or_default();
                self.upgraded = Some(WsUpgrade {
                    server: true,
                    path: path.to_owned(),
                    offered,
                    protocol: pick,
                });
                answer.push_str("\r\n");
                self.pending = answer.into_bytes();
                Role::Server
            }
            State::Open(_) => return Ok(()),
        };
        self.state = State::Open(Box::new(WebSocketContext::from_partially_read(
            rest, role, None,
        )));
        Ok(())
    }

    fn write_pending(&mut self, io: &mut impl ReadWrite) -> io::Result<()> {
        while !self.pending.is_empty() {
            let n = io.write(&self.pending)?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.pending.drain(..n);
        }
        io.flush()
    }

    /// The next thing that came in; `Ok(None)` when nothing more is there now.
    pub fn read(&mut self, io: &mut impl ReadWrite) -> io::Result<Option<Incoming>> {
        let State::Open(ctx) = &mut self.state else {
            return Ok(None);
        };
        match ctx.read(io) {
            Ok(Message::Text(text)) => Ok(Some(Incoming::Message {
                bytes: text.as_bytes().to_vec(),
                text: true,
            })),
            Ok(Message::Binary(bytes)) => Ok(Some(Incoming::Message {
                bytes: bytes.to_vec(),
                text: false,
            })),
            Ok(Message::Ping(payload)) => {
                // The pong tungstenite queued goes out now if it can.
                let _ = ctx.flush(io);
                Ok(Some(Incoming::Control {
                    ping: true,
                    payload: payload.to_vec(),
                }))
            }
            Ok(Message::Pong(payload)) => Ok(Some(Incoming::Control {
                ping: false,
                payload: payload.to_vec(),
            })),
            Ok(Message::Close(frame)) => {
                let _ = ctx.flush(io);
                Ok(Some(Incoming::Close(frame.map(|f| {
                    (u16::from(f.code), f.reason.as_str().to_owned())
                }))))
            }
            Ok(Message::Frame(_)) => Ok(None),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Sends `bytes` as one message (text if the settings say so, `binary` does not ask
    /// otherwise and they are UTF-8).
    pub fn send(
        &mut self,
        io: &mut impl ReadWrite,
        bytes: &[u8],
        binary: bool,
    ) -> io::Result<Queued> {
        let (message, text) = match std::str::from_utf8(bytes) {
            Ok(text) if !self.settings.binary && !binary => (Message::text(text), true),
            _ => (Message::Binary(Bytes::copy_from_slice(bytes)), false),
        };
        let socket_full = self.write(io, message)?;
        Ok(Queued { text, socket_full })
    }

    /// Sends `bytes` as one piece of a binary message sent in pieces (a file): the first
    /// piece opens the message, the last ends it (RFC 6455 fragmentation: the peer gets one
    /// message). True when the socket is full.
    pub fn send_piece(
        &mut self,
        io: &mut impl ReadWrite,
        bytes: &[u8],
        first: bool,
        last: bool,
    ) -> io::Result<bool> {
        let opcode = OpCode::Data(if first {
            OpData::Binary
        } else {
            OpData::Continue
        });
        let frame = Frame::message(Bytes::copy_from_slice(bytes), opcode, last);
        self.write(io, Message::Frame(frame))
    }

    /// Sends a ping with `payload` (at most 125 bytes).
    pub fn ping(&mut self, io: &mut impl ReadWrite, payload: &[u8]) -> io::Result<()> {
        let payload = payload.get(..payload.len().min(125)).unwrap_or_default();
        self.write(io, Message::Ping(Bytes::copy_from_slice(payload)))
            .map(|_| ())
    }

    /// Starts the closing handshake with `code` and `reason`.
    pub fn close(&mut self, io: &mut impl ReadWrite, code: u16, reason: &str) -> io::Result<()> {
        let State::Open(ctx) = &mut self.state else {
            return Ok(());
        };
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        match ctx.close(io, Some(frame)) {
            Ok(()) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }

    /// Writes what is queued; `WouldBlock` while the socket is full.
    pub fn flush(&mut self, io: &mut impl ReadWrite) -> io::Result<()> {
        self.write_pending(io)?;
        match &mut self.state {
            State::Open(ctx) => ctx.flush(io).map_err(io_error),
            _ => Ok(()),
        }
    }

    /// Hands a message to tungstenite, which keeps it until the socket takes it; true when
    /// the socket is full (the message is kept, but no more should be handed over until a
    /// flush gets through, so what waits stays in our own bounded queue).
    fn write(&mut self, io: &mut impl ReadWrite, message: Message) -> io::Result<bool> {
        let State::Open(ctx) = &mut self.state else {
            return Err(io::ErrorKind::NotConnected.into());
        };
        match ctx.write(io, message) {
            // Queued: it goes with the next flush.
            Ok(()) => Ok(false),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(true),
            Err(e) => Err(io_error(e)),
        }
    }
}

/// A message handed to tungstenite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Queued {
    /// It went as a text message (else binary).
    pub text: bool,
    /// The socket is full: hand over no more until a flush gets through.
    pub socket_full: bool,
}

/// What WebSocket reads and writes through: the connection's socket, or its TLS.
pub(crate) trait ReadWrite: Read + Write {}

impl<T: Read + Write> ReadWrite for T {}

fn problem(p: WsProblem) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, p)
}

/// tungstenite's errors as I/O errors: WouldBlock stays WouldBlock, the end of the
/// connection is the end of the stream, a protocol break is a [`WsProblem`].
fn io_error(e: tungstenite::Error) -> io::Error {
    match e {
        tungstenite::Error::Io(e) => e,
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            io::ErrorKind::UnexpectedEof.into()
        }
        other => problem(WsProblem::Protocol(other.to_string())),
    }
}

/// A `Sec-WebSocket-Protocol` list: `chat, superchat` → both, without blanks.
fn protocols(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn find_head_end(head: &[u8]) -> Option<usize> {
    head.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ends of a WebSocket over an in-memory pipe.
    struct Pipe<'a> {
        input: &'a mut std::collections::VecDeque<u8>,
        output: &'a mut Vec<u8>,
    }

    impl Read for Pipe<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.input.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.input.len());
            for (slot, byte) in buf.iter_mut().zip(self.input.drain(..n)) {
                *slot = byte;
            }
            Ok(n)
        }
    }

    impl Write for Pipe<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_client_and_a_server_upgrade_and_exchange_messages_in_any_chunking() {
        let settings = WsSettings::default();
        let mut client = Ws::client(&settings, "127.0.0.1:80");
        let mut server = Ws::server(&settings);
        let (mut to_server, mut to_client) = (std::collections::VecDeque::new(), Vec::new());
        let mut c_out = Vec::new();
        // The client's request goes out; nothing has come back yet.
        let mut empty = std::collections::VecDeque::new();
        let r = client.upgrade(&mut Pipe {
            input: &mut empty,
            output: &mut c_out,
        });
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::WouldBlock);
        // Byte by byte to the server.
        for byte in c_out.drain(..) {
            to_server.push_back(byte);
            let _ = server.upgrade(&mut Pipe {
                input: &mut to_server,
                output: &mut to_client,
            });
        }
        assert!(server.is_open());
        let mut from_server: std::collections::VecDeque<u8> = to_client.drain(..).collect();
        assert!(
            client
                .upgrade(&mut Pipe {
                    input: &mut from_server,
                    output: &mut c_out
                })
                .unwrap()
        );
        client
            .send(
                &mut Pipe {
                    input: &mut empty,
                    output: &mut c_out,
                },
                "温度 23℃".as_bytes(),
                false,
            )
            .unwrap();
        client
            .send(
                &mut Pipe {
                    input: &mut empty,
                    output: &mut c_out,
                },
                &[0xff, 0x00],
                false,
            )
            .unwrap();
        client
            .flush(&mut Pipe {
                input: &mut empty,
                output: &mut c_out,
            })
            .unwrap();
        let mut wire: std::collections::VecDeque<u8> = c_out.drain(..).collect();
        let mut got = Vec::new();
        while let Ok(Some(incoming)) = server.read(&mut Pipe {
            input: &mut wire,
            output: &mut to_client,
        }) {
            got.push(incoming);
        }
        assert!(matches!(&got[..], [
            Incoming::Message { bytes: a, text: true },
            Incoming::Message { bytes: b, text: false },
        ] if a == "温度 23℃".as_bytes() && b == &[0xff, 0x00]));
    }

    #[test]
    fn a_refused_upgrade_names_the_status() {
        let mut client = Ws::client(&WsSettings::default(), "h");
        let mut answer: std::collections::VecDeque<u8> =
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
                .iter()
                .copied()
                .collect();
        let mut out = Vec::new();
        let e = client
            .upgrade(&mut Pipe {
                input: &mut answer,
                output: &mut out,
            })
            .unwrap_err();
        let problem = e
            .get_ref()
            .and_then(|r| r.downcast_ref::<WsProblem>())
            .cloned();
        assert_eq!(problem, Some(WsProblem::Refused("404 Not Found".into())));
    }

    #[test]
    fn an_echo_server_that_sends_the_upgrade_request_back_is_named_as_one() {
        let mut client = Ws::client(&WsSettings::default(), "h");
        let mut request = Vec::new();
        let mut empty = std::collections::VecDeque::new();
        let _ = client.upgrade(&mut Pipe {
            input: &mut empty,
            output: &mut request,
        });
        // Back as it went.
        let mut echoed: std::collections::VecDeque<u8> = request.into_iter().collect();
        let e = client
            .upgrade(&mut Pipe {
                input: &mut echoed,
                output: &mut Vec::new(),
            })
            .unwrap_err();
        let problem = e
            .get_ref()
            .and_then(|r| r.downcast_ref::<WsProblem>())
            .cloned();
        assert!(
            matches!(problem, Some(WsProblem::NotHttp { echoed: true, .. })),
            "{problem:?}"
        );
        crate::i18n::set_lang(crate::i18n::Lang::En);
        assert_eq!(
            problem.unwrap().to_string(),
            "the peer sent our upgrade request back, as an echo server does: it does not speak WebSocket"
        );
        // Something else that is not HTTP.
        let mut client = Ws::client(&WsSettings::default(), "h");
        let mut banner: std::collections::VecDeque<u8> =
            b"220 ready\r\n\r\n".iter().copied().collect();
        let e = client
            .upgrade(&mut Pipe {
                input: &mut banner,
                output: &mut Vec::new(),
            })
            .unwrap_err();
        assert_eq!(
            e.get_ref().unwrap().to_string(),
            "the server did not answer in HTTP (it sent: 220 ready): it does not speak WebSocket"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_as_an_upgrade_request_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let mut server = Ws::server(&WsSettings::default());
            let mut input: std::collections::VecDeque<u8> = bytes.into_iter().collect();
            let mut out = Vec::new();
            let _ = server.upgrade(&mut Pipe { input: &mut input, output: &mut out });
            let _ = server.read(&mut Pipe { input: &mut input, output: &mut out });
        }
    }
}
