//! A session: one named I/O thread that owns every socket of one tab, driven by a mio poll
//! loop with a waker, talking to its owner over crossbeam channels.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read as _, Write as _};
use std::net::{Shutdown, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use mio::net::{TcpListener, TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use super::sender::{FileSend, Schedule};
use super::{
    CloseReason, Command, ConnId, Data, DataKind, Direction, EngineError, Event, Frames, Mode,
    SessionConfig, Target, sockets,
};
use crate::codec::framing::{Frame, Framer, Framing};
use crate::i18n::S;

/// An event and the time the I/O thread saw it happen.
pub type Stamped = (SystemTime, Event);
/// The events of one poll round.
type Batch = Vec<Stamped>;

/// Called once per poll round in which events were sent. The GUI wires it to
/// `egui::Context::request_repaint`; tests wire it to nothing.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Received bytes the owner has not taken yet, past which TCP reading pauses (the peer is
/// slowed by TCP flow control, nothing is lost) and UDP datagrams are counted as dropped.
pub const MAX_IN_FLIGHT: usize = 64 << 20;
/// Bytes one connection may have queued for sending before `Send` is refused.
const MAX_SEND_QUEUE: usize = 64 << 20;
/// How much one socket may read in one poll round, so one fast peer cannot starve the others.
const READ_BUDGET: usize = 1 << 20;
const READ_BUF: usize = 64 << 10;
/// Retry delay while the owner is behind, or after an accept failure such as EMFILE.
const BACKOFF: Duration = Duration::from_millis(10);
/// Events sent in one message at most; a round with more sends several.
const MAX_BATCH: usize = 1024;
/// How often progress of timed and file sends is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// A file is read on only while less than this is queued towards its target.
const FILE_LOW_WATER: usize = 256 << 10;
/// The largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

const WAKER: Token = Token(0);
const LISTENER: Token = Token(1);
const UDP: Token = Token(2);
const FIRST_CONN_TOKEN: u64 = 16;

fn token_of(conn: ConnId) -> Token {
    Token((conn.0 + FIRST_CONN_TOKEN) as usize)
}

fn conn_of(token: Token) -> ConnId {
    ConnId((token.0 as u64).wrapping_sub(FIRST_CONN_TOKEN))
}

/// The owner's handle on a running session. Dropping it stops the session and joins its thread.
#[must_use = "dropping the Session stops it and closes its sockets"]
pub struct Session {
    commands: Sender<Command>,
    events: Receiver<Batch>,
    /// Events of the last batch not handed out yet.
    unread: RefCell<VecDeque<Stamped>>,
    in_flight: Arc<AtomicUsize>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
}

impl Session {
    /// Starts the session's I/O thread. Binding and connecting happen on that thread; their
    /// outcome arrives as events (`Listening`, `Connected`, or `Error` then `Stopped`).
    pub fn start(config: SessionConfig, notify: Notify) -> io::Result<Session> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
        let (events_tx, events_rx) = crossbeam_channel::unbounded();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let name = match config.mode {
            Mode::TcpClient => "sockscope-tcp-client",
            Mode::TcpServer => "sockscope-tcp-server",
            Mode::Udp => "sockscope-udp",
        };
        let io = Io {
            poll,
            config,
            commands: commands_rx,
            events: events_tx.clone(),
            batch: Vec::new(),
            in_flight: Arc::clone(&in_flight),
            notify: Arc::clone(&notify),
            sent_any: false,
            listener: None,
            udp: None,
            conns: BTreeMap::new(),
            next_conn: 1,
            again: Vec::new(),
            buf: vec![0; READ_BUF],
            stop: false,
            accept_retry: None,
            udp_dropped: (0, 0),
            schedule: None,
            schedule_report: Instant::now(),
            file: None,
            file_report: Instant::now(),
            keep_half_closed: false,
        };
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // A bug in the loop must not leave a silent dead session: report it and end.
                if let Err(panic) = catch_unwind(AssertUnwindSafe(move || io.run())) {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    let now = SystemTime::now();
                    let error = (now, Event::Error(EngineError::Internal(what)));
                    let _ = events_tx.send(vec![error, (now, Event::Stopped)]);
                    notify();
                }
            })?;
        Ok(Session {
            commands: commands_tx,
            events: events_rx,
            unread: RefCell::new(VecDeque::new()),
            in_flight,
            waker,
            thread: Some(thread),
        })
    }

    /// Hands a command to the I/O thread and wakes it. A command to a session that has already
    /// stopped is ignored (its `Stopped` event says so).
    pub fn command(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// The next event and when the I/O thread sent it, if one is waiting. Never blocks.
    pub fn try_event_at(&self) -> Option<Stamped> {
        let next = self.unread.borrow_mut().pop_front();
        let next = next.or_else(|| match self.events.try_recv() {
            Ok(batch) => self.unbatch(batch),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        });
        next.map(|stamped| self.taken(stamped))
    }

    /// The next event, if one is waiting. Never blocks.
    pub fn try_event(&self) -> Option<Event> {
        self.try_event_at().map(|(_, event)| event)
    }

    /// The next event, waiting at most `timeout`.
    pub fn event_timeout(&self, timeout: Duration) -> Option<Event> {
        let next = self.unread.borrow_mut().pop_front();
        let next = next.or_else(|| match self.events.recv_timeout(timeout) {
            Ok(batch) => self.unbatch(batch),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        });
        next.map(|stamped| self.taken(stamped).1)
    }

    /// Keeps a batch's events but the first, which is returned.
    fn unbatch(&self, batch: Batch) -> Option<Stamped> {
        let mut events = VecDeque::from(batch);
        let first = events.pop_front();
        self.unread.borrow_mut().extend(events);
        first
    }

    /// Counts received bytes as taken, so the I/O thread may read more.
    fn taken(&self, stamped: Stamped) -> Stamped {
        self.in_flight
            .fetch_sub(rx_len(&stamped.1), Ordering::Relaxed);
        stamped
    }

    /// True once the I/O thread has ended (after `Stopped`).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.command(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One TCP connection owned by the I/O thread.
struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    /// `Some(deadline)` while a client connect is in progress.
    connecting: Option<Instant>,
    out: VecDeque<Outgoing>,
    /// Bytes of `out.front()` already written.
    out_offset: usize,
    out_bytes: usize,
    /// Splits what this connection receives into messages.
    framer: Framer,
    /// When the last bytes arrived (for the idle-gap framing).
    last_rx: Instant,
    /// The peer finished sending and the connection is kept for sending (half-closed).
    peer_finished: bool,
}

/// Bytes waiting for the socket. File chunks are not logged one by one (a 200 MB file would
/// fill the log); their progress is reported instead.
struct Outgoing {
    bytes: Vec<u8>,
    log: bool,
}

struct Udp {
    socket: UdpSocket,
    out: VecDeque<(SocketAddr, Outgoing)>,
    out_bytes: usize,
}

/// Everything the I/O thread owns.
struct Io {
    poll: Poll,
    config: SessionConfig,
    commands: Receiver<Command>,
    /// Each event with the time it happened, so messages and data sort right in the log; sent
    /// in batches, one per poll round, so a flood of small frames costs few wake-ups.
    events: Sender<Batch>,
    batch: Batch,
    in_flight: Arc<AtomicUsize>,
    notify: Notify,
    /// Whether this round sent an event, so `notify` runs once per round.
    sent_any: bool,
    listener: Option<TcpListener>,
    udp: Option<Udp>,
    conns: BTreeMap<ConnId, Conn>,
    next_conn: u64,
    /// Sockets that may have more to read: their budget ran out or the owner was behind.
    again: Vec<Token>,
    buf: Vec<u8>,
    stop: bool,
    accept_retry: Option<Instant>,
    udp_dropped: (u64, u64),
    /// Cyclic send or sequence.
    schedule: Option<Schedule>,
    schedule_report: Instant,
    /// A file being sent.
    file: Option<FileSend>,
    file_report: Instant,
    /// Keep connections whose peer finished sending ([`Command::KeepHalfClosed`]).
    keep_half_closed: bool,
}

enum ReadEnd {
    /// Drained to WouldBlock.
    Drained,
    /// Stopped early; read again next round.
    More,
    /// The connection ended.
    Closed(CloseReason),
    /// The peer finished sending; the connection is kept (half-closed).
    Finished,
}

impl Io {
    fn run(mut self) {
        self.open();
        let mut events = Events::with_capacity(1024);
        while !self.finished() {
            // Everything gathered since the last wait goes out before waiting again.
            self.send_batch();
            if std::mem::take(&mut self.sent_any) {
                (self.notify)();
            }
            let timeout = self.timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                self.emit(Event::Error(EngineError::Io {
                    context: S::CtxWaiting,
                    subject: String::new(),
                    source: e,
                }));
                break;
            }
            for event in &events {
                match event.token() {
                    WAKER => {}
                    LISTENER => self.accept_all(),
                    UDP => self.udp_ready(event.is_readable(), event.is_writable()),
                    token => self.conn_ready(conn_of(token)),
                }
            }
            self.handle_commands();
            self.read_again();
            self.check_timers();
            self.flush_udp_drops();
            self.run_schedule();
            self.pump_file();
        }
        self.close_all();
        self.emit(Event::Stopped);
        self.send_batch();
        (self.notify)();
    }

    /// Binds or starts connecting, as the mode says.
    fn open(&mut self) {
        let local = self.config.local;
        match self.config.mode {
            Mode::TcpServer => self.listen(local),
            Mode::Udp => match sockets::bind_udp(local) {
                Ok(mut socket) => {
                    let registered = self.poll.registry().register(
                        &mut socket,
                        UDP,
                        Interest::READABLE | Interest::WRITABLE,
                    );
                    match registered.and_then(|()| socket.local_addr()) {
                        Ok(bound) => {
                            self.udp = Some(Udp {
                                socket,
                                out: VecDeque::new(),
                                out_bytes: 0,
                            });
                            self.emit(Event::Listening { local: bound });
                        }
                        Err(source) => self.emit(Event::Error(EngineError::Bind {
                            addr: local,
                            source,
                        })),
                    }
                }
                Err(e) => self.emit(Event::Error(e)),
            },
            Mode::TcpClient => {
                let Some(remote) = self.config.remote else {
                    self.emit(Event::Error(EngineError::NotConnected));
                    return;
                };
                self.emit(Event::Connecting { remote });
                match sockets::start_connect(local, remote) {
                    Ok(stream) => {
                        let deadline = Instant::now() + self.config.connect_timeout;
                        let conn = self.new_conn_id();
                        self.add_conn(conn, stream, remote, Some(deadline));
                    }
                    Err(e) => self.emit(Event::Error(e)),
                }
            }
        }
    }

    fn listen(&mut self, addr: SocketAddr) {
        if self.listener.is_some() {
            return;
        }
        match sockets::listen(addr) {
            Ok(mut listener) => {
                let registered =
                    self.poll
                        .registry()
                        .register(&mut listener, LISTENER, Interest::READABLE);
                match registered.and_then(|()| listener.local_addr()) {
                    Ok(bound) => {
                        self.listener = Some(listener);
                        self.emit(Event::Listening { local: bound });
                    }
                    Err(source) => self.emit(Event::Error(EngineError::Bind { addr, source })),
                }
            }
            Err(e) => self.emit(Event::Error(e)),
        }
    }

    /// The session ends on Stop, when a TCP client's connection is gone, when a server neither
    /// listens nor has clients, or when a UDP socket could not be bound.
    fn finished(&self) -> bool {
        self.stop
            || match self.config.mode {
                Mode::TcpClient | Mode::TcpServer => {
                    self.listener.is_none() && self.conns.is_empty()
                }
                Mode::Udp => self.udp.is_none(),
            }
    }

    fn timeout(&self) -> Option<Duration> {
        if !self.again.is_empty() {
            return Some(if self.owner_behind() {
                BACKOFF
            } else {
                Duration::ZERO
            });
        }
        let now = Instant::now();
        let deadlines = self
            .conns
            .values()
            .filter_map(|c| c.connecting)
            .chain(self.accept_retry)
            .chain(self.idle_deadlines().map(|(_, at)| at))
            .chain(self.schedule.as_ref().and_then(Schedule::next_at))
            .chain(
                self.file_waits_for_clock()
                    .then(|| self.file.as_ref().and_then(FileSend::next_at))
                    .flatten(),
            );
        deadlines.min().map(|d| d.saturating_duration_since(now))
    }

    fn owner_behind(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT
    }

    fn emit(&mut self, event: Event) {
        self.in_flight.fetch_add(rx_len(&event), Ordering::Relaxed);
        // A send error means the owner dropped its handle; the Stop it sent ends the loop.
        self.batch.push((SystemTime::now(), event));
        if self.batch.len() >= MAX_BATCH {
            self.send_batch();
        }
        self.sent_any = true;
    }

    /// Hands the events gathered so far to the owner.
    fn send_batch(&mut self) {
        if !self.batch.is_empty() {
            // A send error means the owner dropped its handle; the Stop it sent ends the loop.
            let _ = self.events.send(std::mem::take(&mut self.batch));
        }
    }

    fn emit_data(
        &mut self,
        conn: Option<ConnId>,
        peer: SocketAddr,
        dir: Direction,
        bytes: Vec<u8>,
    ) {
        self.emit_kind(conn, peer, dir, bytes, DataKind::Message);
    }

    fn emit_kind(
        &mut self,
        conn: Option<ConnId>,
        peer: SocketAddr,
        dir: Direction,
        bytes: Vec<u8>,
        kind: DataKind,
    ) {
        let at = SystemTime::now();
        self.emit(Event::Data(Data {
            conn,
            peer,
            dir,
            at,
            bytes,
            kind,
        }));
    }

    /// Emits a frame of connection `id` as a message, or as partial.
    fn emit_frame(&mut self, id: ConnId, peer: SocketAddr, frame: Frame) {
        let kind = if frame.partial {
            DataKind::Partial
        } else {
            DataKind::Message
        };
        self.emit_kind(Some(id), peer, Direction::Rx, frame.bytes, kind);
    }

    /// Emits the frames one read completed: runs of whole ones as one [`Frames`] event each
    /// (one buffer per read, not per frame), partial ones on their own, in stream order.
    fn emit_frames(
        &mut self,
        id: ConnId,
        peer: SocketAddr,
        mut bytes: Vec<u8>,
        lens: &[usize],
        partials: Vec<(usize, Frame)>,
    ) {
        let at = SystemTime::now();
        let (mut done, mut offset) = (0, 0);
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
                self.emit(Event::Frames(Frames {
                    conn: id,
                    peer,
                    at,
                    bytes: chunk,
                    lens: run.to_vec(),
                }));
            }
            done = before;
            if let Some(frame) = partial {
                self.emit_frame(id, peer, frame);
            }
        }
    }

    /// Hands over what a connection's framer holds (stream end, framing change, idle gap).
    fn flush_framer(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let peer = conn.peer;
        if let Some(frame) = conn.framer.flush() {
            self.emit_frame(id, peer, frame);
        }
    }

    fn new_conn_id(&mut self) -> ConnId {
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        id
    }

    fn add_conn(
        &mut self,
        conn: ConnId,
        mut stream: TcpStream,
        peer: SocketAddr,
        connecting: Option<Instant>,
    ) {
        if let Err(source) = self.poll.registry().register(
            &mut stream,
            token_of(conn),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.emit(Event::Error(EngineError::Io {
                context: S::CtxWatching,
                subject: peer.to_string(),
                source,
            }));
            return;
        }
        let local = stream.local_addr();
        self.conns.insert(
            conn,
            Conn {
                stream,
                peer,
                connecting,
                out: VecDeque::new(),
                out_offset: 0,
                out_bytes: 0,
                framer: Framer::new(self.config.framing.clone()),
                last_rx: Instant::now(),
                peer_finished: false,
            },
        );
        if connecting.is_none() {
            let local = local.unwrap_or(self.config.local);
            self.emit(Event::Connected { conn, peer, local });
        }
    }

    fn accept_all(&mut self) {
        loop {
            let Some(listener) = &self.listener else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    let conn = self.new_conn_id();
                    self.add_conn(conn, stream, peer, None);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The client gave up between SYN and accept: nothing to report.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => {
                    // Most likely out of file descriptors: say so once, retry shortly.
                    self.emit(Event::Error(EngineError::Accept(e)));
                    self.accept_retry = Some(Instant::now() + Duration::from_millis(100));
                    return;
                }
            }
        }
    }

    fn conn_ready(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.connecting.is_some() {
            self.finish_connect(id);
            return;
        }
        self.flush(id);
        self.read_conn(id);
    }

    /// A pending connect turned readable or writable: it either succeeded or failed.
    fn finish_connect(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let failure = match conn.stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match conn.stream.peer_addr() {
                Ok(_) => None,
                // Spurious wake-up: still connecting.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Some(e),
            },
        };
        let peer = conn.peer;
        match failure {
            Some(source) => {
                self.drop_conn(id);
                self.emit(Event::Error(EngineError::Connect { addr: peer, source }));
            }
            None => {
                conn.connecting = None;
                let local = conn.stream.local_addr().unwrap_or(self.config.local);
                self.emit(Event::Connected {
                    conn: id,
                    peer,
                    local,
                });
                self.flush(id);
                self.read_conn(id);
            }
        }
    }

    fn read_conn(&mut self, id: ConnId) {
        match self.read_some(id) {
            ReadEnd::Drained => {}
            ReadEnd::More => self.again.push(token_of(id)),
            ReadEnd::Closed(reason) => self.close(id, reason),
            ReadEnd::Finished => {
                // Its last message may be unfinished: hand it over as the stream's end.
                self.flush_framer(id);
                if let Some(peer) = self.conns.get(&id).map(|c| c.peer) {
                    self.emit(Event::PeerFinished { conn: id, peer });
                }
            }
        }
    }

    fn read_some(&mut self, id: ConnId) -> ReadEnd {
        let mut budget = READ_BUDGET;
        loop {
            if self.owner_behind() || budget == 0 {
                return ReadEnd::More;
            }
            let Some(conn) = self.conns.get_mut(&id) else {
                return ReadEnd::Drained;
            };
            match conn.stream.read(&mut self.buf) {
                Ok(0) if conn.peer_finished => return ReadEnd::Drained,
                Ok(0) if self.keep_half_closed => {
                    conn.peer_finished = true;
                    return ReadEnd::Finished;
                }
                Ok(0) => return ReadEnd::Closed(CloseReason::PeerClosed),
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    let (peer, read) = (conn.peer, self.buf.get(..n).unwrap_or_default());
                    if self.config.framing == Framing::None {
                        let bytes = read.to_vec();
                        self.emit_data(Some(id), peer, Direction::Rx, bytes);
                    } else {
                        conn.last_rx = Instant::now();
                        let (mut bytes, mut lens) = (Vec::with_capacity(read.len()), Vec::new());
                        let partials = conn.framer.push_into(read, &mut bytes, &mut lens);
                        let raw = read.to_vec();
                        self.emit_kind(Some(id), peer, Direction::Rx, raw, DataKind::RawRead);
                        self.emit_frames(id, peer, bytes, &lens, partials);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return ReadEnd::Closed(close_reason(e, conn.peer, S::CtxReadingFrom)),
            }
        }
    }

    /// Writes as much of a connection's queue as the socket takes now.
    fn flush(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        let mut done = Vec::new();
        let mut failed = None;
        while let Some(front) = conn.out.front() {
            match conn
                .stream
                .write(front.bytes.get(conn.out_offset..).unwrap_or_default())
            {
                Ok(n) => {
                    conn.out_offset += n;
                    conn.out_bytes = conn.out_bytes.saturating_sub(n);
                    if conn.out_offset >= front.bytes.len() {
                        conn.out_offset = 0;
                        if let Some(sent) = conn.out.pop_front().filter(|o| o.log) {
                            done.push(sent.bytes);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(close_reason(e, conn.peer, S::CtxSendingTo));
                    break;
                }
            }
        }
        let peer = conn.peer;
        for bytes in done {
            self.emit_data(Some(id), peer, Direction::Tx, bytes);
        }
        if let Some(reason) = failed {
            self.close(id, reason);
        }
    }

    fn queue_send(&mut self, id: ConnId, bytes: Vec<u8>, log: bool) {
        let Some(conn) = self.conns.get_mut(&id) else {
            self.emit(Event::Error(EngineError::UnknownConn(id)));
            return;
        };
        if conn.connecting.is_some() {
            self.emit(Event::Error(EngineError::NotConnected));
            return;
        }
        if conn.out_bytes + bytes.len() > MAX_SEND_QUEUE {
            let (peer, dropped) = (conn.peer, bytes.len());
            self.emit(Event::Error(EngineError::SendQueueFull { peer, dropped }));
            return;
        }
        conn.out_bytes += bytes.len();
        conn.out.push_back(Outgoing { bytes, log });
        self.flush(id);
    }

    fn close(&mut self, id: ConnId, reason: CloseReason) {
        // A frame in progress is kept, marked partial, before the connection is reported closed.
        self.flush_framer(id);
        if let Some(conn) = self.drop_conn(id) {
            self.emit(Event::Closed {
                conn: id,
                peer: conn.peer,
                reason,
            });
        }
    }

    fn drop_conn(&mut self, id: ConnId) -> Option<Conn> {
        let mut conn = self.conns.remove(&id)?;
        let _ = self.poll.registry().deregister(&mut conn.stream);
        let _ = conn.stream.shutdown(Shutdown::Both);
        self.again.retain(|t| *t != token_of(id));
        Some(conn)
    }

    fn close_all(&mut self) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            let connecting = self.conns.get(&id).is_some_and(|c| c.connecting.is_some());
            if connecting {
                self.drop_conn(id);
            } else {
                self.close(id, CloseReason::LocalClose);
            }
        }
        if self.listener.take().is_some() {
            self.emit(Event::ListenerClosed);
        }
        self.udp = None;
    }

    fn udp_ready(&mut self, readable: bool, writable: bool) {
        if writable {
            self.flush_udp();
        }
        if readable && !self.read_udp() {
            self.again.push(UDP);
        }
    }

    /// Reads datagrams until WouldBlock (true) or the budget runs out (false).
    fn read_udp(&mut self) -> bool {
        let mut budget = READ_BUDGET;
        while budget > 0 {
            let Some(udp) = &self.udp else { return true };
            match udp.socket.recv_from(&mut self.buf) {
                Ok((n, peer)) => {
                    budget = budget.saturating_sub(n.max(1));
                    if self.owner_behind() {
                        self.udp_dropped.0 += 1;
                        self.udp_dropped.1 += n as u64;
                        continue;
                    }
                    let bytes = self.buf.get(..n).unwrap_or_default().to_vec();
                    self.emit_data(None, peer, Direction::Rx, bytes);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
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
                    self.emit(Event::Error(EngineError::Io {
                        context: S::CtxReceivingUdp,
                        subject: String::new(),
                        source: e,
                    }));
                    return true;
                }
            }
        }
        false
    }

    fn flush_udp(&mut self) {
        let mut sent = Vec::new();
        let mut errors = Vec::new();
        if let Some(udp) = &mut self.udp {
            while let Some((peer, outgoing)) = udp.out.front() {
                match udp.socket.send_to(&outgoing.bytes, *peer) {
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(source) => {
                        errors.push(EngineError::Send {
                            peer: *peer,
                            source,
                        });
                        if let Some((_, outgoing)) = udp.out.pop_front() {
                            udp.out_bytes = udp.out_bytes.saturating_sub(outgoing.bytes.len());
                        }
                        continue;
                    }
                }
                if let Some((peer, outgoing)) = udp.out.pop_front() {
                    udp.out_bytes = udp.out_bytes.saturating_sub(outgoing.bytes.len());
                    if outgoing.log {
                        sent.push((peer, outgoing.bytes));
                    }
                }
            }
        }
        // Datagrams that failed are reported as errors, not as sent.
        for e in errors {
            self.emit(Event::Error(e));
        }
        for (peer, bytes) in sent {
            self.emit_data(None, peer, Direction::Tx, bytes);
        }
    }

    fn flush_udp_drops(&mut self) {
        let (datagrams, bytes) = std::mem::take(&mut self.udp_dropped);
        if datagrams > 0 {
            self.emit(Event::Dropped { datagrams, bytes });
        }
    }

    fn read_again(&mut self) {
        if self.owner_behind() {
            return;
        }
        for token in std::mem::take(&mut self.again) {
            if token == UDP {
                if !self.read_udp() {
                    self.again.push(UDP);
                }
            } else {
                self.read_conn(conn_of(token));
            }
        }
    }

    /// Connections holding bytes under idle-gap framing, and when their gap ends.
    fn idle_deadlines(&self) -> impl Iterator<Item = (ConnId, Instant)> + '_ {
        let gap = match self.config.framing {
            Framing::IdleGap(ms) => Some(Duration::from_millis(ms)),
            _ => None,
        };
        self.conns
            .iter()
            .filter(move |(_, c)| gap.is_some() && c.framer.pending() > 0)
            .map(move |(id, c)| (*id, c.last_rx + gap.unwrap_or_default()))
    }

    fn check_timers(&mut self) {
        let now = Instant::now();
        let expired: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| c.connecting.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(conn) = self.drop_conn(id) {
                let after = self.config.connect_timeout;
                self.emit(Event::Error(EngineError::ConnectTimeout {
                    addr: conn.peer,
                    after,
                }));
            }
        }
        let idle: Vec<ConnId> = self
            .idle_deadlines()
            .filter(|(_, at)| *at <= now)
            .map(|(id, _)| id)
            .collect();
        for id in idle {
            self.flush_framer(id);
        }
        if self.accept_retry.is_some_and(|t| t <= now) {
            self.accept_retry = None;
            self.accept_all();
        }
    }

    fn handle_commands(&mut self) {
        loop {
            match self.commands.try_recv() {
                Ok(command) => self.handle(command),
                Err(TryRecvError::Empty) => return,
                // The owner is gone: nobody will read what we receive.
                Err(TryRecvError::Disconnected) => {
                    self.stop = true;
                    return;
                }
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Send { to, bytes } => self.send(to, bytes, true),
            Command::Disconnect(id) => {
                if self.conns.get(&id).is_some_and(|c| c.connecting.is_some()) {
                    // Disconnect during a slow connect: give it up quietly.
                    self.drop_conn(id);
                } else if self.conns.contains_key(&id) {
                    self.close(id, CloseReason::LocalClose);
                } else {
                    self.emit(Event::Error(EngineError::UnknownConn(id)));
                }
            }
            Command::StopListening { close_clients } => {
                if let Some(mut listener) = self.listener.take() {
                    let _ = self.poll.registry().deregister(&mut listener);
                    self.accept_retry = None;
                    self.emit(Event::ListenerClosed);
                }
                if close_clients {
                    self.close_all();
                }
            }
            Command::Listen(addr) => {
                if self.config.mode == Mode::TcpServer {
                    self.listen(addr);
                } else {
                    self.emit(Event::Error(EngineError::Unsupported(
                        S::ErrOnlyServerListens,
                    )));
                }
            }
            Command::KeepHalfClosed(keep) => self.keep_half_closed = keep,
            Command::SetFraming(framing) => {
                let ids: Vec<ConnId> = self.conns.keys().copied().collect();
                for id in ids {
                    self.flush_framer(id);
                    if let Some(conn) = self.conns.get_mut(&id) {
                        conn.framer = Framer::new(framing.clone());
                    }
                }
                self.config.framing = framing;
            }
            Command::StartSchedule(schedule) => {
                self.schedule = Some(schedule);
                self.schedule_report = Instant::now();
            }
            Command::StopSchedule => {
                if let Some(schedule) = self.schedule.take() {
                    self.emit(Event::ScheduleProgress {
                        sent: schedule.sent,
                        finished: true,
                    });
                }
            }
            Command::SendFile {
                to,
                path,
                chunk,
                pace,
            } => {
                let chunk = if self.config.mode == Mode::Udp {
                    chunk.min(MAX_DATAGRAM)
                } else {
                    chunk
                };
                match FileSend::open(&path, to, chunk, pace) {
                    Ok(file) => self.file = Some(file),
                    Err(source) => self.emit(Event::Error(EngineError::Io {
                        context: S::CtxOpening,
                        subject: path.display().to_string(),
                        source,
                    })),
                }
            }
            Command::CancelFile => {
                if let Some(file) = self.file.take() {
                    self.emit(Event::FileProgress {
                        sent: file.sent,
                        total: file.total,
                        finished: true,
                    });
                }
            }
            Command::Stop => self.stop = true,
        }
    }

    /// True if something can be sent to `to` now.
    fn reachable(&self, to: &Target) -> bool {
        match to {
            Target::Conn(id) => self.conns.get(id).is_some_and(|c| c.connecting.is_none()),
            Target::AllConns => self.conns.values().any(|c| c.connecting.is_none()),
            Target::Addr(_) => self.udp.is_some(),
        }
    }

    /// Bytes still queued towards `to`: the file waits while this is high, so it is never
    /// read faster than the peer takes it.
    fn queued_towards(&self, to: &Target) -> usize {
        match to {
            Target::Conn(id) => self.conns.get(id).map_or(0, |c| c.out_bytes),
            Target::AllConns => self.conns.values().map(|c| c.out_bytes).max().unwrap_or(0),
            Target::Addr(_) => self.udp.as_ref().map_or(0, |u| u.out_bytes),
        }
    }

    fn run_schedule(&mut self) {
        let Some(schedule) = &mut self.schedule else {
            return;
        };
        let to = schedule.to.clone();
        let payloads = schedule.due(Instant::now());
        let mut finished = schedule.finished();
        for payload in payloads {
            if !self.reachable(&to) {
                self.emit(Event::Error(EngineError::NotConnected));
                finished = true;
                break;
            }
            match payload {
                Ok(bytes) => self.send(to.clone(), bytes, true),
                Err(e) => {
                    self.emit(Event::Error(EngineError::Payload(e)));
                    finished = true;
                    break;
                }
            }
        }
        let sent = self.schedule.as_ref().map_or(0, |s| s.sent);
        if finished {
            self.schedule = None;
            self.emit(Event::ScheduleProgress {
                sent,
                finished: true,
            });
        } else if self.schedule_report.elapsed() >= PROGRESS_EVERY {
            self.schedule_report = Instant::now();
            self.emit(Event::ScheduleProgress {
                sent,
                finished: false,
            });
        }
    }

    /// True when the file waits for its pace rather than for the socket.
    fn file_waits_for_clock(&self) -> bool {
        self.file
            .as_ref()
            .is_some_and(|f| self.queued_towards(&f.to) < FILE_LOW_WATER)
    }

    fn pump_file(&mut self) {
        let Some(file) = &self.file else { return };
        let to = file.to.clone();
        if !self.reachable(&to) {
            self.emit(Event::Error(EngineError::NotConnected));
            self.finish_file();
            return;
        }
        while self.queued_towards(&to) < FILE_LOW_WATER {
            let Some(file) = &mut self.file else { return };
            match file.next_chunk(Instant::now()) {
                Ok(Some(chunk)) => self.send(to.clone(), chunk, false),
                Ok(None) => break,
                Err(source) => {
                    self.emit(Event::Error(EngineError::Io {
                        context: S::CtxReadingFile,
                        subject: String::new(),
                        source,
                    }));
                    self.finish_file();
                    return;
                }
            }
        }
        let Some(file) = &self.file else { return };
        if file.eof && self.queued_towards(&to) == 0 {
            self.finish_file();
        } else if self.file_report.elapsed() >= PROGRESS_EVERY {
            self.file_report = Instant::now();
            let (sent, total) = (file.sent, file.total);
            self.emit(Event::FileProgress {
                sent,
                total,
                finished: false,
            });
        }
    }

    fn finish_file(&mut self) {
        if let Some(file) = self.file.take() {
            self.emit(Event::FileProgress {
                sent: file.sent,
                total: file.total,
                finished: true,
            });
        }
    }

    /// Queues bytes for `to`; `log` says whether each send shows in the log as a record.
    fn send(&mut self, to: Target, bytes: Vec<u8>, log: bool) {
        match (self.config.mode, to) {
            (Mode::Udp, Target::Addr(peer)) => self.send_udp(peer, bytes, log),
            (Mode::Udp, _) => self.emit(Event::Error(EngineError::Unsupported(S::ErrUdpToAddr))),
            (_, Target::Addr(_)) => {
                self.emit(Event::Error(EngineError::Unsupported(S::ErrTcpToConn)));
            }
            (_, Target::Conn(id)) => self.queue_send(id, bytes, log),
            (_, Target::AllConns) => {
                let open: Vec<ConnId> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.connecting.is_none())
                    .map(|(id, _)| *id)
                    .collect();
                match open.split_last() {
                    None => self.emit(Event::Error(EngineError::NotConnected)),
                    Some((last, rest)) => {
                        for id in rest {
                            self.queue_send(*id, bytes.clone(), log);
                        }
                        self.queue_send(*last, bytes, log);
                    }
                }
            }
        }
    }

    fn send_udp(&mut self, peer: SocketAddr, bytes: Vec<u8>, log: bool) {
        let Some(udp) = &mut self.udp else {
            self.emit(Event::Error(EngineError::NotConnected));
            return;
        };
        if udp.out_bytes + bytes.len() > MAX_SEND_QUEUE {
            let dropped = bytes.len();
            self.emit(Event::Error(EngineError::SendQueueFull { peer, dropped }));
            return;
        }
        udp.out_bytes += bytes.len();
        udp.out.push_back((peer, Outgoing { bytes, log }));
        self.flush_udp();
    }
}

/// Tells a reset from other errors, which end the connection with the error itself.
fn close_reason(e: io::Error, peer: SocketAddr, doing: S) -> CloseReason {
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

/// Received bytes an event carries (what the owner has yet to take).
fn rx_len(event: &Event) -> usize {
    match event {
        Event::Data(Data {
            dir: Direction::Rx,
            bytes,
            ..
        })
        | Event::Frames(Frames { bytes, .. }) => bytes.len(),
        _ => 0,
    }
}
