//! One TCP connection: a client's connect in progress, or an open connection (ours or one a
//! listener accepted). Reads are framed here; writes are queued and flushed as the socket
//! takes them.

use std::collections::VecDeque;
use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use mio::event::Source;
use mio::net::TcpStream;

use super::WsOp;
use super::ws::{Incoming, Queued, Ws, WsProblem};
use super::{Cx, Link, MAX_SEND_QUEUE, Outgoing, Part, READ_BUDGET, Status};
use crate::codec::cut::FrameCut;
use crate::codec::framing::{Frame, Framer, Framing};

/// How long bytes a checksum-confirmed frame layer (Modbus RTU over TCP) holds wait for more
/// before they are handed over as they are: over TCP a device sends a frame at once, and a
/// frame's bytes a second apart are not one frame.
const CHECKED_SILENCE: Duration = Duration::from_secs(1);
use crate::engine::tls::{self, TlsProblem};
use crate::engine::{
    CloseReason, ConnId, Data, DataKind, Direction, EngineError, Event, Frames, Target, sockets,
};
use crate::i18n::S;

pub(crate) struct TcpConn {
    id: ConnId,
    stream: TcpStream,
    peer: SocketAddr,
    /// Connecting, handshaking (TLS) or open.
    phase: Phase,
    /// The TLS layer, when the session has TLS: plaintext in and out goes through it.
    tls: Option<Box<rustls::Connection>>,
    /// The WebSocket layer, when the session has WebSocket: messages instead of a stream.
    ws: Option<Box<Ws>>,
    /// WebSocket: a message in pieces (a file) is being queued; whole messages wait in
    /// `held` until its last piece, as no other message may come between the pieces.
    piecing: bool,
    /// Whole messages queued while a message in pieces was open.
    held: VecDeque<Outgoing>,
    /// Bytes in `held` (they count towards the send queue's bound, not towards `queued`,
    /// which a file send waits on).
    held_bytes: usize,
    /// WebSocket: the socket was full when tungstenite last wrote; nothing more is handed to
    /// it until what it holds is out.
    ws_full: bool,
    out: VecDeque<Outgoing>,
    /// Bytes of `out.front()` already written.
    out_offset: usize,
    out_bytes: usize,
    /// Splits what this connection receives into messages (`None`: one message per read).
    framer: Option<Framer>,
    /// When the last bytes arrived (for the idle-gap framing).
    last_rx: Instant,
    /// When the bytes the framer holds began to arrive: a frame finished (or bytes found to
    /// be none) by a later read is stamped with it, not with the read that ended it (a DTU's
    /// registration held until the next read showed after the request sent meanwhile).
    held_since: Option<SystemTime>,
    /// The peer finished sending and the connection is kept for sending (half-closed).
    peer_finished: bool,
    /// It ended by a reset or an error (see [`Link::ended_abruptly`]).
    abrupt: bool,
    /// Bytes of the file being sent written so far, and whether its last piece is still to
    /// come (said if the connection ends first: [`Event::FileCut`]).
    file_written: u64,
    file_open: bool,
    /// Close as the peer did once the queued replies are written (see [`ReadEnd::Lingering`]).
    close_when_flushed: bool,
    /// Finish sending (shut down our write side) once the queue is written.
    finish_when_flushed: bool,
    /// Our write side is shut down: the peer has read all we send. Once the peer finished
    /// too, the connection is over.
    we_finished: bool,
    /// Relay: finish our sending side (FIN) once the queue is written, passing a half-close
    /// on; the relay ends the pair itself (unlike [`finish_when_flushed`], which ends the
    /// connection once both sides are done).
    shut_when_flushed: bool,
    /// Relay: our sending side is finished.
    shut: bool,
    /// Sends refused because the queue was full, said as a running count.
    refused: super::Refused,
    /// It ended because the peer reset it.
    reset: bool,
}

/// Where a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// A client's TCP connect, until the deadline.
    Connecting(Instant),
    /// The TLS handshake, until the deadline. `Connected` follows it.
    Handshaking(Instant),
    /// The WebSocket upgrade, until the deadline. `Connected` follows it.
    Upgrading(Instant),
    /// Open: data flows.
    Open,
}

impl Phase {
    fn deadline(self) -> Option<Instant> {
        match self {
            Phase::Connecting(at) | Phase::Handshaking(at) | Phase::Upgrading(at) => Some(at),
            Phase::Open => None,
        }
    }
}

/// How a read loop ended.
enum ReadEnd {
    /// Drained to WouldBlock.
    Drained,
    /// Stopped early; read again next round.
    More,
    /// The connection ended.
    Closed(CloseReason),
    /// The peer finished sending; the connection is kept (half-closed).
    Finished,
    /// The peer finished sending while rules answer what arrives: the connection stays until
    /// their replies are written, then closes (a device answers a request sent with FIN).
    Lingering,
}

impl TcpConn {
    /// Starts a nonblocking connect to `remote`; `Connected` follows when it succeeds.
    pub fn connect(
        local: SocketAddr,
        remote: SocketAddr,
        cx: &mut Cx<'_>,
    ) -> Result<Self, EngineError> {
        let stream = sockets::start_connect(local, remote)?;
        let deadline = Instant::now() + cx.opts.connect_timeout;
        Ok(Self::new(cx, stream, remote, Phase::Connecting(deadline)))
    }

    /// A connection a listener accepted: says `Connected` at once, or after its TLS
    /// handshake.
    pub fn accepted(cx: &mut Cx<'_>, stream: TcpStream, peer: SocketAddr) -> Option<Self> {
        let mut conn = Self::new(cx, stream, peer, Phase::Open);
        match conn.start_tls(cx) {
            Ok(true) => Some(conn),
            Ok(false) if conn.start_ws(cx, false) => Some(conn),
            Ok(false) => {
                conn.say_connected(cx);
                Some(conn)
            }
            Err(e) => {
                cx.error(e);
                None
            }
        }
    }

    /// Starts the TLS handshake if the session has TLS; false without.
    fn start_tls(&mut self, cx: &mut Cx<'_>) -> Result<bool, EngineError> {
        let conn = tls::connection(&cx.opts.tls).map_err(|e| EngineError::Tls {
            peer: self.peer,
            problem: TlsProblem::of(&e),
        })?;
        let Some(conn) = conn else {
            return Ok(false);
        };
        self.tls = Some(Box::new(conn));
        self.phase = Phase::Handshaking(Instant::now() + cx.opts.connect_timeout);
        Ok(true)
    }

    fn say_connected(&mut self, cx: &mut Cx<'_>) {
        self.phase = Phase::Open;
        let local = self.stream.local_addr().unwrap_or(cx.opts.local);
        cx.emit(Event::Connected {
            conn: self.id,
            peer: self.peer,
            local,
        });
    }

    fn new(cx: &mut Cx<'_>, stream: TcpStream, peer: SocketAddr, phase: Phase) -> Self {
        Self {
            id: cx.new_conn_id(),
            stream,
            peer,
            phase,
            tls: None,
            ws: None,
            piecing: false,
            held: VecDeque::new(),
            held_bytes: 0,
            ws_full: false,
            out: VecDeque::new(),
            out_offset: 0,
            out_bytes: 0,
            // WebSocket messages are the protocol's frames: no framing on top.
            framer: if cx.opts.ws.is_some() {
                None
            } else {
                framer_for(&cx.opts.framing)
            },
            last_rx: Instant::now(),
            held_since: None,
            peer_finished: false,
            abrupt: false,
            file_written: 0,
            file_open: false,
            close_when_flushed: false,
            finish_when_flushed: false,
            we_finished: false,
            shut_when_flushed: false,
            shut: false,
            refused: super::Refused::default(),
            reset: false,
        }
    }

    /// A pending connect turned readable or writable: it either succeeded or failed.
    fn finish_connect(&mut self, cx: &mut Cx<'_>) -> Status {
        let failure = match self.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match self.stream.peer_addr() {
                Ok(_) => None,
                // Spurious wake-up: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Status::Idle,
                Err(e) => Some(e),
            },
        };
        if let Some(source) = failure {
            let plain = cx.opts.tls.client.is_none() && cx.opts.ws.is_none();
            if source.kind() == io::ErrorKind::ConnectionReset && plain {
                // The handshake completed and the peer reset the connection at once (a
                // device that accepts and drops): connected, then reset — as a reset a moment
                // later is said — not a connect that failed (a refusal is ECONNREFUSED).
                self.say_connected(cx);
                return self.end(cx, CloseReason::Reset);
            }
            cx.error(EngineError::Connect {
                addr: self.peer,
                source,
            });
            return Status::Gone;
        }
        match self.start_tls(cx) {
            Ok(true) => self.handshake(cx),
            Ok(false) if self.start_ws(cx, true) => self.upgrade(cx),
            Ok(false) => {
                self.say_connected(cx);
                self.flush_and_read(cx)
            }
            Err(e) => {
                cx.error(e);
                Status::Gone
            }
        }
    }

    /// Moves the TLS handshake on as far as the socket allows; once it is done, says what was
    /// negotiated and `Connected`, then reads what came with it.
    fn handshake(&mut self, cx: &mut Cx<'_>) -> Status {
        let Some(tls) = self.tls.as_mut() else {
            self.say_connected(cx);
            return self.flush_and_read(cx);
        };
        loop {
            while tls.wants_write() {
                match tls.write_tls(&mut self.stream) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return self.handshake_failed(cx, TlsProblem::Closed),
                }
            }
            if !tls.is_handshaking() {
                let info = tls::info(tls, &cx.opts.tls);
                cx.emit(Event::Secured {
                    conn: self.id,
                    peer: self.peer,
                    info: Box::new(info),
                });
                let client = matches!(**tls, rustls::Connection::Client(_));
                if self.start_ws(cx, client) {
                    return self.upgrade(cx);
                }
                self.say_connected(cx);
                return self.flush_and_read(cx);
            }
            if !tls.wants_read() {
                return Status::Idle;
            }
            match tls.read_tls(&mut self.stream) {
                Ok(0) => return self.handshake_failed(cx, TlsProblem::Closed),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Status::Idle,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.handshake_failed(cx, TlsProblem::Closed),
            }
            if let Err(e) = tls.process_new_packets() {
                // The alert that says why goes to the peer before the socket closes.
                let _ = tls.write_tls(&mut self.stream);
                return self.handshake_failed(cx, tls::failure(&cx.opts.tls, &e));
            }
        }
    }

    /// A handshake that failed ends the connection without a `Connected`.
    fn handshake_failed(&mut self, cx: &mut Cx<'_>, problem: TlsProblem) -> Status {
        cx.error(EngineError::Tls {
            peer: self.peer,
            problem,
        });
        let _ = self.stream.shutdown(Shutdown::Both);
        Status::Gone
    }

    /// Reads plaintext: from the socket, or through TLS.
    fn read_plain(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_plain(&mut self.stream, self.tls.as_deref_mut(), buf)
    }

    /// The socket, or its TLS, as one stream for the WebSocket layer.
    fn plain(&mut self) -> PlainIo<'_> {
        PlainIo {
            stream: &mut self.stream,
            tls: self.tls.as_deref_mut(),
        }
    }

    /// Starts the WebSocket upgrade if the session has WebSocket on; false without.
    fn start_ws(&mut self, cx: &mut Cx<'_>, client: bool) -> bool {
        let Some(settings) = &cx.opts.ws else {
            return false;
        };
        let ws = if client {
            let host = if settings.host.trim().is_empty() {
                self.peer.to_string()
            } else {
                settings.host.trim().to_owned()
            };
            Ws::client(settings, &host)
        } else {
            Ws::server(settings)
        };
        self.ws = Some(Box::new(ws));
        self.phase = Phase::Upgrading(Instant::now() + cx.opts.connect_timeout);
        true
    }

    /// Moves the WebSocket upgrade on; once done, says `Connected` and reads on.
    fn upgrade(&mut self, cx: &mut Cx<'_>) -> Status {
        let Some(mut ws) = self.ws.take() else {
            self.say_connected(cx);
            return self.flush_and_read(cx);
        };
        let done = ws.upgrade(&mut self.plain());
        let upgraded = ws.take_upgrade();
        self.ws = Some(ws);
        match done {
            Ok(true) => {
                if let Some(upgrade) = upgraded {
                    cx.emit(Event::Upgraded {
                        conn: self.id,
                        peer: self.peer,
                        upgrade: Box::new(upgrade),
                    });
                }
                self.say_connected(cx);
                self.flush_and_read(cx)
            }
            Ok(false) => Status::Idle,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Status::Idle,
            Err(e) => {
                let problem = ws_problem(&e);
                cx.error(EngineError::WebSocket {
                    peer: self.peer,
                    problem,
                });
                let _ = self.stream.shutdown(Shutdown::Both);
                Status::Gone
            }
        }
    }

    /// Reads WebSocket messages: each one a record; ping, pong and close said as events.
    fn read_ws(&mut self, cx: &mut Cx<'_>) -> ReadEnd {
        let Some(mut ws) = self.ws.take() else {
            return ReadEnd::Drained;
        };
        let mut budget = READ_BUDGET;
        let end = loop {
            if cx.behind() || budget == 0 {
                break ReadEnd::More;
            }
            match ws.read(&mut self.plain()) {
                Ok(Some(Incoming::Message { bytes, text })) => {
                    budget = budget.saturating_sub(bytes.len().max(1));
                    let kind = if text {
                        DataKind::WsText
                    } else {
                        DataKind::WsBinary
                    };
                    cx.emit(self.data(SystemTime::now(), bytes, kind));
                }
                Ok(Some(Incoming::Control { ping, payload })) => cx.emit(Event::WsControl {
                    conn: self.id,
                    peer: self.peer,
                    ping,
                    payload,
                }),
                Ok(Some(Incoming::Close(frame))) => {
                    let _ = ws.flush(&mut self.plain());
                    let (code, reason) = frame.unwrap_or((1005, String::new()));
                    break ReadEnd::Closed(CloseReason::WsClosed { code, reason });
                }
                Ok(None) => break ReadEnd::Drained,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break ReadEnd::Drained,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    break ReadEnd::Closed(CloseReason::PeerClosed);
                }
                Err(e) => break ReadEnd::Closed(close_reason(e, self.peer, S::CtxReadingFrom)),
            }
        };
        self.ws = Some(ws);
        end
    }

    /// Sends the queue as WebSocket messages, one per send (a file's pieces as one), handing
    /// tungstenite no more once the socket is full: what waits stays in `out`, which is
    /// bounded and which a file send paces itself by.
    fn flush_ws(&mut self, cx: &mut Cx<'_>) -> Option<CloseReason> {
        let mut ws = self.ws.take()?;
        if self.ws_full {
            match ws.flush(&mut self.plain()) {
                Ok(()) => self.ws_full = false,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.ws = Some(ws);
                    return None;
                }
                Err(e) => {
                    self.ws = Some(ws);
                    return Some(close_reason(e, self.peer, S::CtxSendingTo));
                }
            }
        }
        let mut failed = None;
        while let Some(front) = self.out.pop_front() {
            self.out_bytes = self.out_bytes.saturating_sub(front.bytes.len());
            let mut io = PlainIo {
                stream: &mut self.stream,
                tls: self.tls.as_deref_mut(),
            };
            let sent = if front.part == Part::WHOLE {
                ws.send(&mut io, &front.bytes, front.binary)
            } else {
                let Part { first, last } = front.part;
                ws.send_piece(&mut io, &front.bytes, first, last)
                    .map(|socket_full| Queued {
                        text: false,
                        socket_full,
                    })
            };
            let Queued { text, socket_full } = match sent {
                Ok(queued) => queued,
                Err(e) => {
                    failed = Some(close_reason(e, self.peer, S::CtxSendingTo));
                    break;
                }
            };
            if front.log {
                cx.emit(Event::Data(Data {
                    conn: Some(self.id),
                    peer: self.peer,
                    dir: Direction::Tx,
                    at: SystemTime::now(),
                    bytes: front.bytes,
                    kind: if text {
                        DataKind::WsText
                    } else {
                        DataKind::WsBinary
                    },
                }));
            }
            if socket_full {
                break;
            }
        }
        if failed.is_none() {
            match ws.flush(&mut self.plain()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.ws_full = true,
                Err(e) => failed = Some(close_reason(e, self.peer, S::CtxSendingTo)),
            }
        }
        self.ws = Some(ws);
        failed
    }

    /// Queues `out` for sending. With WebSocket, a file's pieces make one message: another
    /// message waits until its last piece, and a piece of a message this connection never
    /// saw begin (it connected during the file) is left out.
    fn enqueue(&mut self, out: Outgoing) {
        if self.ws.is_none() {
            self.out_bytes += out.bytes.len();
            self.out.push_back(out);
            return;
        }
        if out.part == Part::WHOLE {
            if self.piecing {
                self.held_bytes += out.bytes.len();
                self.held.push_back(out);
            } else {
                self.out_bytes += out.bytes.len();
                self.out.push_back(out);
            }
            return;
        }
        if !out.part.first && !self.piecing {
            return;
        }
        self.piecing = !out.part.last;
        self.out_bytes += out.bytes.len();
        self.out.push_back(out);
        if !self.piecing {
            self.out_bytes += std::mem::take(&mut self.held_bytes);
            self.out.append(&mut self.held);
        }
    }

    /// A ping or a close asked for by the user.
    fn ws_command(&mut self, cx: &mut Cx<'_>, op: &WsOp) -> Status {
        let Some(mut ws) = self.ws.take() else {
            return Status::Idle;
        };
        let done = match op {
            WsOp::Ping(payload) => ws.ping(&mut self.plain(), payload),
            WsOp::Close { code, reason } => ws.close(&mut self.plain(), *code, reason),
        };
        let flushed = done.and_then(|()| ws.flush(&mut self.plain()));
        self.ws = Some(ws);
        match flushed {
            Ok(()) => Status::Idle,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Status::Idle,
            Err(e) => self.end(cx, close_reason(e, self.peer, S::CtxSendingTo)),
        }
    }

    fn flush_and_read(&mut self, cx: &mut Cx<'_>) -> Status {
        if let Some(reason) = self.flush(cx) {
            return self.end(cx, reason);
        }
        if let Some(status) = self.finish_if_flushed(cx) {
            return status;
        }
        self.read(cx)
    }

    /// Shuts our write side down once everything queued is written, when asked to (a TLS
    /// close_notify, or a WebSocket close frame, goes first). `Some` when that ended the
    /// connection: the peer had finished already.
    fn finish_if_flushed(&mut self, cx: &mut Cx<'_>) -> Option<Status> {
        if !self.finish_when_flushed
            || self.we_finished
            || self.phase != Phase::Open
            || !self.out.is_empty()
        {
            return None;
        }
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(&mut self.plain(), 1000, "");
            let _ = ws.flush(&mut self.plain());
            self.ws = Some(ws);
        }
        if let Some(tls) = self.tls.as_mut() {
            tls.send_close_notify();
            let _ = push_tls(tls, &mut self.stream);
        }
        if let Err(e) = self.stream.shutdown(Shutdown::Write) {
            let reason = close_reason(e, self.peer, S::CtxSendingTo);
            return Some(self.end(cx, reason));
        }
        self.we_finished = true;
        if self.peer_finished {
            // Both ways are done.
            return Some(self.end(cx, CloseReason::PeerClosed));
        }
        None
    }

    fn read(&mut self, cx: &mut Cx<'_>) -> Status {
        if self.close_when_flushed && self.out.is_empty() {
            return self.end(cx, CloseReason::PeerClosed);
        }
        match self.read_some(cx) {
            ReadEnd::Drained => Status::Idle,
            ReadEnd::More => Status::More,
            ReadEnd::Closed(reason) => self.end(cx, reason),
            ReadEnd::Finished => {
                // Its last message may be unfinished: hand it over as the stream's end.
                self.flush_framer(cx);
                cx.emit(Event::PeerFinished {
                    conn: self.id,
                    peer: self.peer,
                });
                Status::Idle
            }
            ReadEnd::Lingering => {
                self.flush_framer(cx);
                // Back next round, after the automation stage answered what just arrived.
                Status::More
            }
        }
    }

    fn read_some(&mut self, cx: &mut Cx<'_>) -> ReadEnd {
        if self.ws.is_some() {
            return self.read_ws(cx);
        }
        let mut budget = READ_BUDGET.min(cx.allow);
        // A relay lane's room limits the read: what is left unread may hide a reset.
        let held_back = cx.allow < READ_BUDGET;
        loop {
            if held_back && budget == 0 {
                // Not read further (the lane is full): a reset must still be seen, else the
                // pair waits for the lane with a peer that is gone (no new event comes).
                if let Ok(Some(e)) = self.stream.take_error() {
                    return ReadEnd::Closed(close_reason(e, self.peer, S::CtxReadingFrom));
                }
            }
            if cx.behind() || budget == 0 {
                return ReadEnd::More;
            }
            // Read straight into a buffer that becomes the event's: no copy for a large read.
            let mut buf = cx.buffers.read_buffer();
            // A framed read leaves room for what the framer holds: the frames then go out in a
            // pooled buffer of the read's size (see `Framer::cut_read`).
            let held = self.framer.as_ref().map_or(0, Framer::pending);
            let room = if held <= buf.len() / 2 {
                buf.len() - held
            } else {
                buf.len()
            };
            // No more than the budget: a relay lane takes what it has room for.
            let limit = budget.min(room);
            let read = self.read_plain(buf.get_mut(..limit).unwrap_or_default());
            match read {
                Ok(0) => {
                    cx.buffers.give(buf);
                    if self.we_finished {
                        // We had finished sending: now both ways are done.
                        return ReadEnd::Closed(CloseReason::PeerClosed);
                    }
                    if self.peer_finished {
                        return ReadEnd::Drained;
                    }
                    // A relay passes the half-close on and keeps the other way open.
                    if cx.opts.keep_half_closed || cx.opts.mode.caps().relays {
                        self.peer_finished = true;
                        return ReadEnd::Finished;
                    }
                    if cx.out.watch {
                        self.peer_finished = true;
                        self.close_when_flushed = true;
                        return ReadEnd::Lingering;
                    }
                    return ReadEnd::Closed(CloseReason::PeerClosed);
                }
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    let at = SystemTime::now();
                    let now = Instant::now();
                    // An idle gap that already passed ends the message before this read joins
                    // it: the loop may come to the read first and the timer after (a late
                    // wake-up on a busy machine, or Windows' 15.6 ms timer tick).
                    if self.idle_gap_end().is_some_and(|end| end <= now) {
                        self.flush_framer(cx);
                    }
                    let raw = cx.buffers.filled(buf, n);
                    match &mut self.framer {
                        None => cx.emit(self.data(at, raw, DataKind::Message)),
                        Some(framer) => {
                            self.last_rx = now;
                            // Frames after the first few KiB of a read are cut in place
                            // (copying each read was a tenth of the I/O thread at ingest of
                            // short frames).
                            let cut = framer.cut_read(raw, |n| cx.buffers.take(n));
                            let pending = framer.pending() > 0;
                            let copied = (cut.copied, cut.copied_lens, cut.partials);
                            let produced = !copied.1.is_empty()
                                || !copied.2.is_empty()
                                || cut.in_place.is_some();
                            let times = self.held_times(at, held, pending, produced);
                            match cut.in_place {
                                None => {
                                    cx.emit(self.data(at, cut.read, DataKind::RawRead));
                                    self.emit_frames(cx, times, copied.0, &copied.1, copied.2);
                                }
                                Some(from) => {
                                    self.emit_frames(cx, times, copied.0, &copied.1, copied.2);
                                    let header = self.header();
                                    cx.emit(Event::Frames(Frames {
                                        conn: self.id,
                                        peer: self.peer,
                                        at,
                                        bytes: cut.read,
                                        lens: cut.lens,
                                        header,
                                        in_read: Some(from),
                                    }));
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    cx.buffers.give(buf);
                    match e.kind() {
                        io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                        io::ErrorKind::Interrupted => {}
                        _ => return ReadEnd::Closed(close_reason(e, self.peer, S::CtxReadingFrom)),
                    }
                }
            }
        }
    }

    /// The times a read's frames are stamped with: the first, which began when the framer
    /// started holding it (`held` bytes before this read came at `at`), and the rest; and
    /// when what the framer holds after it began (`pending`; `produced`: the read ended
    /// something, so what is held now began in it).
    fn held_times(
        &mut self,
        at: SystemTime,
        held: usize,
        pending: bool,
        produced: bool,
    ) -> (SystemTime, SystemTime) {
        let first_at = match self.held_since {
            Some(since) if held > 0 => since,
            _ => at,
        };
        self.held_since = match (pending, produced || held == 0) {
            (false, _) => None,
            (true, true) => Some(at),
            (true, false) => self.held_since.or(Some(at)),
        };
        (first_at, at)
    }

    /// Bytes received on this connection.
    fn data(&self, at: SystemTime, bytes: Vec<u8>, kind: DataKind) -> Event {
        Event::Data(Data {
            conn: Some(self.id),
            peer: self.peer,
            dir: Direction::Rx,
            at,
            bytes,
            kind,
        })
    }

    /// The length header each frame starts with, with length-prefix framing.
    fn header(&self) -> u8 {
        match self.framer.as_ref().map(Framer::framing) {
            Some(Framing::LengthPrefix { prefix, offset }) => {
                u8::try_from(offset + usize::from(prefix.width)).unwrap_or(0)
            }
            _ => 0,
        }
    }

    /// Emits a single frame: whole, or partial (what was left when the stream ended), stamped
    /// `at` (when its first byte came).
    fn emit_frame(&self, cx: &mut Cx<'_>, at: SystemTime, frame: Frame) {
        let kind = if frame.partial {
            DataKind::Partial
        } else {
            DataKind::Frame
        };
        cx.emit(self.data(at, frame.bytes, kind));
    }

    /// Emits the frames one read completed: runs of whole ones as one [`Frames`] event each
    /// (one buffer per read, not per frame), partial ones on their own, in stream order.
    fn emit_frames(
        &self,
        cx: &mut Cx<'_>,
        (first_at, at): (SystemTime, SystemTime),
        mut bytes: Vec<u8>,
        lens: &[usize],
        partials: Vec<(usize, Frame)>,
    ) {
        let (mut done, mut offset) = (0, 0);
        // The first thing out began when the framer started holding it (`first_at`): a whole
        // frame goes alone with that time, the rest of its run with the read's.
        let mut first = first_at != at;
        if first
            && let Some(&len) = lens.first()
            && partials.first().is_none_or(|(n, _)| *n > 0)
        {
            cx.emit(Event::Frames(Frames {
                conn: self.id,
                peer: self.peer,
                at: first_at,
                bytes: bytes.get(..len).unwrap_or_default().to_vec(),
                lens: vec![len],
                header: self.header(),
                in_read: None,
            }));
            (done, offset, first) = (1, len, false);
        }
        for (before, partial) in partials
            .into_iter()
            .map(|(n, f)| (n, Some(f)))
            .chain([(lens.len(), None)])
        {
            let run = lens.get(done..before).unwrap_or_default();
            if !run.is_empty() {
                let len: usize = run.iter().sum();
                let chunk = if offset == 0 && len == bytes.len() {
                    std::mem::take(&mut bytes)
                } else {
                    bytes.get(offset..offset + len).unwrap_or_default().to_vec()
                };
                offset += len;
                cx.emit(Event::Frames(Frames {
                    conn: self.id,
                    peer: self.peer,
                    at,
                    bytes: chunk,
                    lens: run.to_vec(),
                    header: self.header(),
                    in_read: None,
                }));
            }
            done = before;
            if let Some(frame) = partial {
                let stamp = if std::mem::take(&mut first) {
                    first_at
                } else {
                    at
                };
                self.emit_frame(cx, stamp, frame);
            }
        }
    }

    /// When the message the idle-gap framer holds ends, if it holds one; and when bytes a
    /// checksum-confirmed layer (Modbus RTU over TCP) holds end, after [`CHECKED_SILENCE`]
    /// with nothing more: RTU ends a frame with a silence, and a DTU's registration waited
    /// for the next poll (24 s) before it was shown.
    fn idle_gap_end(&self) -> Option<Instant> {
        match self.framer.as_ref().map(|f| (f.framing(), f.pending())) {
            Some((Framing::IdleGap(ms), pending)) if pending > 0 => {
                Some(self.last_rx + Duration::from_millis(*ms))
            }
            Some((Framing::Protocol(cut), pending))
                if pending > 0 && matches!(**cut, FrameCut::Checked { resync: true, .. }) =>
            {
                Some(self.last_rx + CHECKED_SILENCE)
            }
            _ => None,
        }
    }

    /// Hands over what the framer holds (stream end, framing change, idle gap).
    fn flush_framer(&mut self, cx: &mut Cx<'_>) {
        let since = self.held_since.take();
        if let Some(frame) = self.framer.as_mut().and_then(Framer::flush) {
            self.emit_frame(cx, since.unwrap_or_else(SystemTime::now), frame);
        }
    }

    /// Writes as much of the queue as the socket takes now; the reason if that ended it.
    fn flush(&mut self, cx: &mut Cx<'_>) -> Option<CloseReason> {
        if self.phase != Phase::Open {
            // Sends wait for the handshake.
            return None;
        }
        if self.ws.is_some() {
            return self.flush_ws(cx);
        }
        if let Some(tls) = self.tls.as_mut() {
            match push_tls(tls, &mut self.stream) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return None,
                Err(e) => return Some(close_reason(e, self.peer, S::CtxSendingTo)),
            }
        }
        while let Some(front) = self.out.front() {
            let rest = front.bytes.get(self.out_offset..).unwrap_or_default();
            match write_plain(&mut self.stream, self.tls.as_deref_mut(), rest) {
                Ok(n) => {
                    self.out_offset += n;
                    self.out_bytes = self.out_bytes.saturating_sub(n);
                    if self.out_offset >= front.bytes.len() {
                        self.out_offset = 0;
                        let popped = self.out.pop_front();
                        if let Some(sent) = popped.as_ref().filter(|s| !s.log && !s.relayed) {
                            // A piece of a file.
                            if sent.part.first {
                                self.file_written = 0;
                            }
                            self.file_written += sent.bytes.len() as u64;
                            self.file_open = !sent.part.last;
                        }
                        match popped {
                            Some(sent) if sent.log => cx.emit(Event::Data(Data {
                                conn: Some(self.id),
                                peer: self.peer,
                                dir: Direction::Tx,
                                at: SystemTime::now(),
                                bytes: sent.bytes,
                                kind: DataKind::Message,
                            })),
                            Some(sent) if sent.relayed => cx.emit(Event::Forwarded {
                                conn: Some(self.id),
                                peer: self.peer,
                                len: sent.bytes.len() as u64,
                            }),
                            _ => {}
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Some(close_reason(e, self.peer, S::CtxSendingTo)),
            }
        }
        if self.shut_when_flushed && !self.shut && self.out.is_empty() {
            self.shut = true;
            if let Some(tls) = self.tls.as_mut() {
                tls.send_close_notify();
                let _ = push_tls(tls, &mut self.stream);
            }
            if let Err(e) = self.stream.shutdown(Shutdown::Write)
                && e.kind() != io::ErrorKind::NotConnected
            {
                return Some(close_reason(e, self.peer, S::CtxSendingTo));
            }
        }
        None
    }

    /// Ends the connection: a frame in progress is kept, marked partial, before it is reported
    /// closed.
    fn end(&mut self, cx: &mut Cx<'_>, reason: CloseReason) -> Status {
        // A file cut by the end: how much of it this connection got (its piece in the
        // socket's queue counts as far as it was written).
        let front = self
            .out
            .front()
            .filter(|o| !o.log && !o.relayed)
            .map(|o| (o.part.first, self.out_offset as u64));
        let (open, written) = match front {
            Some((true, offset)) => (true, offset),
            Some((false, offset)) => (true, self.file_written + offset),
            None => (self.file_open, self.file_written),
        };
        if open {
            cx.emit(Event::FileCut {
                conn: self.id,
                peer: self.peer,
                written,
            });
            self.file_open = false;
        }
        self.abrupt = matches!(reason, CloseReason::Reset | CloseReason::Error(_));
        self.flush_framer(cx);
        self.refused.end(cx, self.peer);
        self.reset = matches!(reason, CloseReason::Reset);
        if let Some(mut ws) = self.ws.take()
            && matches!(reason, CloseReason::LocalClose)
        {
            // We end it: a close frame (1000, normal) goes first.
            let _ = ws.close(&mut self.plain(), 1000, "");
            let _ = ws.flush(&mut self.plain());
        }
        if let Some(tls) = self.tls.as_mut() {
            // An orderly TLS end says so (close_notify), as far as the socket takes it.
            tls.send_close_notify();
            let _ = push_tls(tls, &mut self.stream);
        }
        let _ = self.stream.shutdown(Shutdown::Both);
        cx.emit(Event::Closed {
            conn: self.id,
            peer: self.peer,
            reason,
        });
        Status::Gone
    }
}

/// Reads plaintext: from the socket, or through TLS. `Ok(0)` is the end of the stream (a TLS
/// close_notify, or the TCP stream ending without one).
pub(crate) fn read_plain(
    stream: &mut TcpStream,
    tls: Option<&mut rustls::Connection>,
    buf: &mut [u8],
) -> io::Result<usize> {
    let Some(tls) = tls else {
        return stream.read(buf);
    };
    // TLS hands plaintext over a record (16 KiB at most) at a time: the buffer is filled with
    // every record that is there, so one read carries what a plain read would (a read per
    // record cost a 256 KiB buffer each, most of it unused).
    let mut filled = 0;
    loop {
        match tls.reader().read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => return Ok(filled),
            Ok(n) => {
                filled += n;
                if filled >= buf.len() {
                    return Ok(filled);
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(filled),
            // What came before an error goes first; the error comes with the next read.
            Err(_) if filled > 0 => return Ok(filled),
            Err(e) => return Err(e),
        }
        match tls.read_tls(stream) {
            Ok(_) => {}
            Err(_) if filled > 0 => return Ok(filled),
            Err(e) => return Err(e),
        }
        if let Err(e) = tls.process_new_packets() {
            let _ = tls.write_tls(stream);
            if filled > 0 {
                return Ok(filled);
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                TlsProblem::of(&e),
            ));
        }
        // Whatever the records asked for (a key update, an alert) goes out now.
        let _ = push_tls(tls, stream);
    }
}

/// A connection's socket, or its TLS, as one stream (for the WebSocket layer).
pub(crate) struct PlainIo<'a> {
    pub stream: &'a mut TcpStream,
    pub tls: Option<&'a mut rustls::Connection>,
}

impl io::Read for PlainIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        read_plain(self.stream, self.tls.as_deref_mut(), buf)
    }
}

impl io::Write for PlainIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        write_plain(self.stream, self.tls.as_deref_mut(), buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.tls.as_deref_mut() {
            Some(tls) => push_tls(tls, self.stream),
            None => Ok(()),
        }
    }
}

/// The WebSocket problem an error carries, or the error as a protocol problem.
fn ws_problem(e: &io::Error) -> WsProblem {
    e.get_ref()
        .and_then(|r| r.downcast_ref::<WsProblem>())
        .cloned()
        .unwrap_or_else(|| WsProblem::Protocol(e.to_string()))
}

/// Writes plaintext: to the socket, or into TLS (which writes what the socket takes).
fn write_plain(
    stream: &mut TcpStream,
    tls: Option<&mut rustls::Connection>,
    bytes: &[u8],
) -> io::Result<usize> {
    let Some(tls) = tls else {
        return stream.write(bytes);
    };
    push_tls(tls, stream)?;
    let n = tls.writer().write(bytes)?;
    // Errors surface with the next write; what is written here is taken.
    let _ = push_tls(tls, stream);
    if n == 0 && !bytes.is_empty() {
        return Err(io::ErrorKind::WouldBlock.into());
    }
    Ok(n)
}

/// Writes TLS records rustls holds until it holds none (`WouldBlock`: the socket is full).
pub(crate) fn push_tls(tls: &mut rustls::Connection, stream: &mut TcpStream) -> io::Result<()> {
    while tls.wants_write() {
        match tls.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn framer_for(framing: &Framing) -> Option<Framer> {
    (*framing != Framing::None).then(|| Framer::new(framing.clone()))
}

impl Link for TcpConn {
    fn conn(&self) -> Option<ConnId> {
        Some(self.id)
    }

    fn established(&self) -> bool {
        self.phase == Phase::Open
    }

    fn source(&mut self) -> &mut dyn Source {
        &mut self.stream
    }

    fn ready(&mut self, cx: &mut Cx<'_>, _readable: bool, _writable: bool) -> Status {
        match self.phase {
            Phase::Connecting(_) => self.finish_connect(cx),
            Phase::Handshaking(_) => self.handshake(cx),
            Phase::Upgrading(_) => self.upgrade(cx),
            Phase::Open => self.flush_and_read(cx),
        }
    }

    fn resume(&mut self, cx: &mut Cx<'_>) -> Status {
        self.read(cx)
    }

    fn peer(&self) -> Option<SocketAddr> {
        Some(self.peer)
    }

    fn reaches(&self, to: &Target) -> bool {
        // During a TLS handshake sends are queued: they go once it is done.
        !matches!(self.phase, Phase::Connecting(_))
            && match to {
                Target::Conn(id) => *id == self.id,
                Target::AllConns => true,
                Target::Addr(_) => false,
            }
    }

    fn send(&mut self, cx: &mut Cx<'_>, _to: &Target, out: Outgoing) -> Status {
        if self.out_bytes + self.held_bytes + out.bytes.len() > MAX_SEND_QUEUE {
            self.refused
                .refuse(cx, self.peer, out.bytes.len(), Instant::now());
            return Status::Idle;
        }
        self.enqueue(out);
        match self.flush(cx) {
            Some(reason) => self.end(cx, reason),
            // A lingering connection comes back next round to close once this is written.
            None if self.close_when_flushed => Status::More,
            None => Status::Idle,
        }
    }

    fn queued(&self) -> usize {
        self.out_bytes
    }

    fn unsent(&self) -> Option<u64> {
        crate::engine::sockets::unsent(&self.stream)
    }

    fn finished_receiving(&self) -> bool {
        self.peer_finished
    }

    fn was_reset(&self) -> bool {
        self.reset
    }

    fn ended_abruptly(&self) -> bool {
        self.abrupt
    }

    fn set_receive_buffer(&mut self, bytes: usize) {
        // Best effort: a socket that refuses keeps its buffer, and the lane still holds.
        let _ = socket2::SockRef::from(&self.stream).set_recv_buffer_size(bytes);
    }

    fn finish_sending(&mut self, cx: &mut Cx<'_>) -> Status {
        self.shut_when_flushed = true;
        match self.flush(cx) {
            Some(reason) => self.end(cx, reason),
            None => Status::Idle,
        }
    }

    fn sending_finished(&self) -> bool {
        self.shut
    }

    fn deadline(&self) -> Option<Instant> {
        if let Some(deadline) = self.phase.deadline() {
            return Some(deadline);
        }
        self.idle_gap_end()
            .into_iter()
            .chain(self.refused.deadline())
            .min()
    }

    fn tick(&mut self, cx: &mut Cx<'_>, now: Instant) -> Status {
        match self.phase {
            Phase::Connecting(at) if at <= now => {
                cx.error(EngineError::ConnectTimeout {
                    addr: self.peer,
                    after: cx.opts.connect_timeout,
                });
                return Status::Gone;
            }
            Phase::Upgrading(at) if at <= now => {
                let seconds = format!("{:.1}", cx.opts.connect_timeout.as_secs_f64());
                cx.error(EngineError::WebSocket {
                    peer: self.peer,
                    problem: WsProblem::Protocol(crate::i18n::tf(S::WsTimeout, &[&seconds])),
                });
                let _ = self.stream.shutdown(Shutdown::Both);
                return Status::Gone;
            }
            Phase::Handshaking(at) if at <= now => {
                let seconds = format!("{:.1}", cx.opts.connect_timeout.as_secs_f64());
                let problem = TlsProblem::Other(crate::i18n::tf(S::TlsTimeout, &[&seconds]));
                return self.handshake_failed(cx, problem);
            }
            _ => {}
        }
        self.refused.tick(cx, self.peer, now);
        if self.idle_gap_end().is_some_and(|end| end <= now) {
            self.flush_framer(cx);
        }
        Status::Idle
    }

    fn websocket(&mut self, cx: &mut Cx<'_>, op: &WsOp) -> Status {
        self.ws_command(cx, op)
    }

    fn finish(&mut self, cx: &mut Cx<'_>) -> Status {
        self.finish_when_flushed = true;
        if let Some(reason) = self.flush(cx) {
            return self.end(cx, reason);
        }
        self.finish_if_flushed(cx).unwrap_or(Status::Idle)
    }

    fn set_framing(&mut self, cx: &mut Cx<'_>, framing: &Framing) {
        self.flush_framer(cx);
        // WebSocket messages are the protocol's frames: no framing on top.
        self.framer = if cx.opts.ws.is_some() {
            None
        } else {
            framer_for(framing)
        };
    }

    fn close(&mut self, cx: &mut Cx<'_>, reason: CloseReason) {
        if self.phase != Phase::Open {
            // A connect in progress is given up quietly (Disconnect during a slow connect).
            return;
        }
        self.end(cx, reason);
    }
}

/// Tells a reset from other errors, which end the connection with the error itself.
fn close_reason(e: io::Error, peer: SocketAddr, doing: S) -> CloseReason {
    if let Some(problem) = e.get_ref().and_then(|r| r.downcast_ref::<TlsProblem>()) {
        return CloseReason::Error(EngineError::Tls {
            peer,
            problem: problem.clone(),
        });
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => CloseReason::Reset,
        _ => CloseReason::Error(EngineError::Io {
            context: doing,
            subject: peer.to_string(),
            source: e,
        }),
    }
}
