//! The I/O loop: one named thread per session, a mio poll with a waker, the session's links,
//! its automation stage, and its outbox. Commands wake the poll at once.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, TryRecvError};
use mio::{Events, Poll, Token, Waker};

use super::Buffers;
use super::auto::{FileSend, Stage, Wire};
use super::link::{self, Cx, Link, Listener, Options, Outgoing, Part, READ_BUF, Status};
use super::outbox::{Notify, Outbox, Sink};
use super::relay::{Lane, Pair, Pushed, Relay, RelayEnd, Release};
use super::{CloseReason, Command, ConnId, EngineError, Event, SessionConfig, SharedVars, Target};
use crate::codec::framing::Framing;
use crate::codec::payload::Payload;
use crate::i18n::S;
use crate::rules::script::Ending;

/// Relay: the receive buffer a lane's sender gets back once its cap is taken off.
const MAX_RELAY_BUFFER: usize = 4 << 20;

/// Poll timeout while events wait for a busy sink, or reading waits for the owner.
const BACKOFF: Duration = Duration::from_millis(2);

const WAKER: Token = Token(0);

/// Everything the I/O thread owns.
pub(crate) struct Io {
    poll: Poll,
    waker: Arc<Waker>,
    config: SessionConfig,
    commands: Receiver<Command>,
    out: Outbox,
    opts: Options,
    links: BTreeMap<Token, Box<dyn Link>>,
    /// The token of each TCP connection, in id order (sends to all go in this order).
    conns: BTreeMap<ConnId, Token>,
    next_token: usize,
    next_conn: u64,
    /// Links that stopped early and read again next round.
    again: BTreeSet<Token>,
    /// Links with a deadline (connect timeout, idle-gap framing, accept retry).
    timed: BTreeSet<Token>,
    buf: Vec<u8>,
    stop: bool,
    stage: Stage,
    /// The stage is out, doing its work on this loop (see [`Io::with_stage`]): what arrives
    /// meanwhile waits in `out.seen` until it is back, so no message meets a blank stage.
    stage_out: bool,
    vars: SharedVars,
    buffers: Buffers,
    /// TCP client with reconnect on: the tries since the last connection, and when the next is due.
    retry: Retry,
    /// A link is being closed on purpose (Disconnect, Stop): its end is no reason to reconnect.
    closing: bool,
    /// A relay session's pairs and their lanes.
    relay: Option<Relay>,
    /// Connections that ended since the automation stage last ran: (id, peer, how it ended).
    lost: Vec<(ConnId, Option<std::net::SocketAddr>, Ending)>,
    /// Relay: links not read until the lane they feed has room (see [`Lane::window`]).
    held: BTreeSet<Token>,
    /// The fine timer Windows needs for short waits (cyclic sends, delays, back-off).
    fine_timer: super::timer::FineTimer,
}

/// A TCP client's reconnect state.
#[derive(Default)]
struct Retry {
    /// Tries since the connection last stood (0 = none yet).
    attempt: u32,
    /// When the next try is due.
    due: Option<Instant>,
}

impl Io {
    pub fn new(
        config: SessionConfig,
        commands: Receiver<Command>,
        vars: SharedVars,
        buffers: Buffers,
        sink: Box<dyn Sink>,
        notify: Notify,
        first_conn: ConnId,
    ) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let relay = config.relay.clone().map(Relay::new);
        let opts = Options {
            mode: config.mode,
            framing: config.framing.clone(),
            keep_half_closed: false,
            connect_timeout: config.connect_timeout,
            local: config.local,
            tls: super::tls::Tls::default(),
            ws: config.ws.clone(),
        };
        Ok(Self {
            poll,
            waker,
            config,
            commands,
            out: Outbox::new(sink, notify),
            opts,
            links: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_token: 1,
            next_conn: first_conn.0.max(1),
            again: BTreeSet::new(),
            timed: BTreeSet::new(),
            buf: vec![0; READ_BUF],
            stop: false,
            stage: Stage::default(),
            stage_out: false,
            vars,
            buffers,
            retry: Retry::default(),
            closing: false,
            relay,
            lost: Vec::new(),
            held: BTreeSet::new(),
            fine_timer: super::timer::FineTimer::default(),
        })
    }

    /// Keeps connections whose peer finished sending, from the start.
    pub fn keep_half_closed(&mut self, keep: bool) {
        self.opts.keep_half_closed = keep;
    }

    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    pub fn run(&mut self) {
        // A relay forwards every message it receives.
        self.out.watch = self.relay.is_some();
        let mut spawned = Vec::new();
        let config = self.config.clone();
        // TLS settings are read once: a bad file or name ends the session before any socket.
        let opened = match super::tls::prepare(&config) {
            Ok(tls) => {
                self.opts.tls = tls;
                link::open(&config, &mut self.cx(&mut spawned))
            }
            Err(e) => {
                self.out.emit(Event::Error(e));
                Vec::new()
            }
        };
        for new in opened.into_iter().chain(spawned) {
            self.add(new);
        }
        let mut events = Events::with_capacity(1024);
        while !self.finished() {
            // Everything gathered since the last wait goes out before waiting again.
            self.out.end_round();
            let timeout = self.timeout();
            self.fine_timer.before_wait(timeout, Instant::now());
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != io::ErrorKind::Interrupted
            {
                self.out.emit(Event::Error(EngineError::Io {
                    context: S::CtxWaiting,
                    subject: String::new(),
                    source: e,
                }));
                break;
            }
            // Commands first: what the owner said before a message arrived (new rules, Auto-reply
            // on again) applies to that message; read first, it met the rules of before.
            self.handle_commands();
            for event in &events {
                let token = event.token();
                if token != WAKER {
                    let (r, w) = (event.is_readable(), event.is_writable());
                    self.call(token, |link, cx| link.ready(cx, r, w));
                }
            }
            self.read_again();
            self.tick();
            self.release_relayed();
            self.unhold();
            self.reconnect_if_due();
            self.run_stage();
        }
        // A script still running ends with the session, and says so.
        self.with_stage(|stage, io| stage.end(io));
        self.close_all();
        self.out.emit(Event::Stopped);
        self.out.finish();
    }

    /// A panic ended the loop: say so, and that the session is over.
    pub fn died(&mut self, error: EngineError) {
        self.out.emit(Event::Error(error));
        self.out.emit(Event::Stopped);
        self.out.finish();
    }

    fn cx<'a>(&'a mut self, spawned: &'a mut Vec<Box<dyn Link>>) -> Cx<'a> {
        Cx {
            out: &mut self.out,
            buf: &mut self.buf,
            opts: &self.opts,
            spawned,
            next_conn: &mut self.next_conn,
            buffers: &self.buffers,
            allow: usize::MAX,
        }
    }

    /// The session ends on Stop, or when it has no link left (a client's connection is gone,
    /// a server neither listens nor has clients, a socket could not be opened).
    fn finished(&self) -> bool {
        self.stop || (self.links.is_empty() && self.retry.due.is_none())
    }

    /// A TCP client's link ended by itself (a drop, a refused or timed-out connect): with
    /// reconnect on, the next try is scheduled and announced; `was_up` restarts the count.
    fn link_lost(&mut self, was_up: bool) {
        let (Some(policy), Some(remote)) = (self.config.reconnect, self.config.remote) else {
            return;
        };
        if self.stop || !self.opts.mode.caps().connects || !self.links.is_empty() {
            return;
        }
        if was_up {
            self.retry.attempt = 0;
        }
        let attempt = self.retry.attempt + 1;
        match policy.delay(attempt) {
            Some(after) => {
                self.retry = Retry {
                    attempt,
                    due: Some(Instant::now() + after),
                };
                self.out.emit(Event::Reconnecting {
                    attempt,
                    max: policy.max_tries,
                    after,
                    remote,
                });
            }
            None => {
                self.retry.due = None;
                self.out.emit(Event::Error(EngineError::GaveUp {
                    addr: remote,
                    tries: policy.max_tries,
                }));
            }
        }
    }

    /// Starts the scheduled reconnect try once it is due.
    fn reconnect_if_due(&mut self) {
        if self.retry.due.is_none_or(|due| due > Instant::now()) {
            return;
        }
        self.retry.due = None;
        let mut spawned = Vec::new();
        let config = self.config.clone();
        let opened = link::open(&config, &mut self.cx(&mut spawned));
        let none = opened.is_empty();
        for new in opened.into_iter().chain(spawned) {
            self.add(new);
        }
        if none {
            // Could not even start (the local port is taken): that is a failed try too.
            self.link_lost(false);
        }
    }

    fn timeout(&self) -> Option<Duration> {
        if !self.again.is_empty() || self.out.waiting() {
            return Some(if self.out.behind() || self.out.waiting() {
                BACKOFF
            } else {
                Duration::ZERO
            });
        }
        let now = Instant::now();
        self.timed
            .iter()
            .filter_map(|t| self.links.get(t).and_then(|l| l.deadline()))
            .chain(self.stage.deadline(self))
            .chain(self.retry.due)
            .chain(self.relay.as_ref().and_then(Relay::deadline))
            .min()
            .map(|d| d.saturating_duration_since(now))
    }

    /// Registers a new link with the poll.
    fn add(&mut self, mut link: Box<dyn Link>) {
        let token = Token(self.next_token);
        self.next_token += 1;
        let interest = link.interest();
        if let Err(source) = self
            .poll
            .registry()
            .register(link.source(), token, interest)
        {
            self.out.emit(Event::Error(EngineError::Io {
                context: S::CtxWatching,
                subject: String::new(),
                source,
            }));
            return;
        }
        if let Some(id) = link.conn() {
            self.conns.insert(id, token);
        }
        if link.deadline().is_some() {
            self.timed.insert(token);
        }
        self.links.insert(token, link);
    }

    /// Runs `f` on one link, then does what its status says and adds the links it made.
    fn call(&mut self, token: Token, f: impl FnOnce(&mut dyn Link, &mut Cx<'_>) -> Status) {
        let mut spawned = Vec::new();
        let allow = self.relay_room(token);
        let Some(link) = self.links.get_mut(&token) else {
            return;
        };
        let mut cx = Cx {
            out: &mut self.out,
            buf: &mut self.buf,
            opts: &self.opts,
            spawned: &mut spawned,
            next_conn: &mut self.next_conn,
            buffers: &self.buffers,
            allow,
        };
        let status = f(link.as_mut(), &mut cx);
        let timed = link.deadline().is_some();
        self.after(token, status, timed);
        for new in spawned {
            let client = new.conn();
            self.add(new);
            if let Some(client) = client {
                self.relay_client(client);
            }
        }
        // The automation stage answers what just arrived, before anything else runs (if it
        // is out — this call came from its own work, a rule's close flushing a frame — it
        // answers as soon as it is back).
        if !self.stage_out {
            self.react_to_seen();
        }
        if self.relay.is_some() {
            self.relay_finished(token);
        }
    }

    /// Runs a write on one link: a link that is to read again next round still is (a write's
    /// `Idle` says nothing about reading; a relay writing to a link held back from reading
    /// lost its turn, and the pair stalled with data in the socket).
    fn call_writing(&mut self, token: Token, f: impl FnOnce(&mut dyn Link, &mut Cx<'_>) -> Status) {
        let again = self.again.contains(&token);
        self.call(token, f);
        if again && self.links.contains_key(&token) {
            self.again.insert(token);
        }
    }

    fn after(&mut self, token: Token, status: Status, timed: bool) {
        match status {
            Status::Idle => {
                self.again.remove(&token);
            }
            Status::More => {
                self.again.insert(token);
            }
            Status::Gone => {
                let (was_up, conn, abrupt) = self.remove(token);
                if let Some(conn) = conn {
                    self.relay_lost(conn, abrupt, was_up);
                }
                if !self.closing {
                    self.link_lost(was_up);
                }
                return;
            }
        }
        if timed {
            self.timed.insert(token);
        } else {
            self.timed.remove(&token);
        }
    }

    /// Drops a link: whether it was an open connection (not a connect still in progress),
    /// its connection id, and whether it ended abruptly (a reset, an error).
    fn remove(&mut self, token: Token) -> (bool, Option<ConnId>, bool) {
        let (mut was_up, mut conn, mut abrupt) = (false, None, false);
        if let Some(mut link) = self.links.remove(&token) {
            let _ = self.poll.registry().deregister(link.source());
            if let Some(id) = link.conn() {
                self.conns.remove(&id);
                let how = if self.closing {
                    Ending::Here
                } else if link.was_reset() {
                    Ending::Reset
                } else {
                    Ending::Peer
                };
                self.lost.push((id, link.peer(), how));
            }
            was_up = link.established();
            conn = link.conn();
            abrupt = link.ended_abruptly();
        }
        self.again.remove(&token);
        self.timed.remove(&token);
        self.held.remove(&token);
        (was_up, conn, abrupt)
    }

    /// Closes one link on purpose, saying why.
    fn close(&mut self, token: Token, reason: CloseReason) {
        self.closing = true;
        self.call(token, |link, cx| {
            link.close(cx, reason);
            Status::Gone
        });
        self.closing = false;
    }

    fn close_all(&mut self) {
        let tokens: Vec<Token> = self.links.keys().copied().collect();
        for token in tokens {
            self.close(token, CloseReason::LocalClose);
        }
    }

    fn read_again(&mut self) {
        if self.out.behind() {
            return;
        }
        for token in std::mem::take(&mut self.again) {
            if self.relay_room(token) == 0 {
                // Its lane is full: it waits (without a round of its own) until there is room.
                self.held.insert(token);
                continue;
            }
            self.call(token, |link, cx| link.resume(cx));
        }
    }

    /// Relay: links whose lane has room again are read next round.
    fn unhold(&mut self) {
        if self.held.is_empty() {
            return;
        }
        let ready: Vec<Token> = self
            .held
            .iter()
            .copied()
            .filter(|t| self.relay_room(*t) > 0)
            .collect();
        for token in ready {
            self.held.remove(&token);
            self.again.insert(token);
        }
    }

    /// Relay: how many bytes link `token` may read now — the room left in the lane it feeds
    /// and its destination's send queue (TCP; a datagram that finds no room is dropped).
    fn relay_room(&self, token: Token) -> usize {
        let Some(relay) = self.relay.as_ref().filter(|r| !r.config.udp) else {
            return usize::MAX;
        };
        let Some(conn) = self.links.get(&token).and_then(|l| l.conn()) else {
            return usize::MAX;
        };
        let Some((index, from_upstream)) = relay.find(Some(conn), self.config.local) else {
            return usize::MAX;
        };
        let Some(pair) = relay.pairs.get(index) else {
            return usize::MAX;
        };
        let (lane, to) = if from_upstream {
            (&pair.down, pair.client.clone())
        } else {
            (&pair.up, Target::Conn(pair.upstream))
        };
        let queued = match to {
            Target::Conn(id) => self
                .conns
                .get(&id)
                .and_then(|t| self.links.get(t))
                .map_or(0, |l| l.queued()),
            _ => 0,
        };
        lane.window().saturating_sub(lane.held() + queued)
    }

    fn tick(&mut self) {
        let now = Instant::now();
        let due: Vec<Token> = self
            .timed
            .iter()
            .filter(|t| {
                self.links
                    .get(t)
                    .and_then(|l| l.deadline())
                    .is_some_and(|d| d <= now)
            })
            .copied()
            .collect();
        for token in due {
            // A deadline says nothing about reading either: a link held back from reading
            // keeps its turn (a running count of refused sends stalled a flood's reading).
            self.call_writing(token, |link, cx| link.tick(cx, now));
        }
    }

    /// Runs, stops or steps a script.
    fn script_command(&mut self, command: Command) {
        self.with_stage(|stage, io| match command {
            Command::RunScript { run, to } => {
                io.out.watch = io.relay.is_some() || stage.run_script(run, to, io);
            }
            Command::StopScript => {
                io.out.watch = io.relay.is_some() || stage.stop_script(io);
            }
            Command::ScriptChanged => {
                io.out.watch = io.relay.is_some() || stage.script_changed(io);
            }
            Command::StepScript => stage.step_script(io),
            _ => {}
        });
    }

    fn run_stage(&mut self) {
        self.with_stage(|stage, io| {
            // Connections that ended: their rule state goes, a script talking to them fails.
            for (conn, peer, how) in std::mem::take(&mut io.lost) {
                stage.conn_closed(conn, peer, how, io);
            }
            stage.run(io);
        });
    }

    /// Lends the automation stage to `f` with this loop as its wire. Messages that arrive
    /// while it is out (its own work can make some: a rule's close flushes a frame in
    /// progress) are answered once it is back, by the stage itself, not by a blank one.
    fn with_stage<R>(&mut self, f: impl FnOnce(&mut Stage, &mut Self) -> R) -> R {
        if self.stage_out {
            // Lent already (a nested call): the work waits for nothing, the stage is out.
            let mut blank = Stage::default();
            return f(&mut blank, self);
        }
        let mut stage = std::mem::take(&mut self.stage);
        self.stage_out = true;
        let result = f(&mut stage, self);
        self.stage = stage;
        self.stage_out = false;
        self.react_to_seen();
        result
    }

    /// Hands what arrived to the relay and to the automation stage, until nothing more
    /// arrives from the stage's own answers.
    fn react_to_seen(&mut self) {
        while !self.out.seen.is_empty() {
            let seen = std::mem::take(&mut self.out.seen);
            if self.relay.is_some() {
                self.relay_arrived(&seen);
            }
            let mut stage = std::mem::take(&mut self.stage);
            self.stage_out = true;
            stage.react(seen, self);
            self.stage = stage;
            self.stage_out = false;
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
            Command::Send { to, bytes } => self.send(&to, bytes, true),
            Command::SendPayload { to, payload } => {
                // Rendered only when it can go: a refused send uses up no `{{counter}}`.
                if self.reachable(&to) {
                    self.send_payload(&to, &payload);
                } else {
                    let error = self.unroutable(&to);
                    self.out.emit(Event::Error(error));
                }
            }
            Command::Disconnect(id) => match self.conns.get(&id).copied() {
                Some(token) => self.close(token, CloseReason::LocalClose),
                None => self.out.emit(Event::Error(EngineError::UnknownConn(id))),
            },
            Command::StopListening { close_clients } => {
                let listeners: Vec<Token> = self
                    .links
                    .iter()
                    .filter(|(_, l)| l.is_listener())
                    .map(|(t, _)| *t)
                    .collect();
                for token in listeners {
                    self.close(token, CloseReason::LocalClose);
                }
                if close_clients {
                    self.close_all();
                }
            }
            Command::Listen(addr) => self.listen(addr),
            Command::KeepHalfClosed(keep) => self.opts.keep_half_closed = keep,
            Command::FinishSending(to) => {
                for token in self.route(&to) {
                    self.call(token, |link, cx| link.finish(cx));
                }
            }
            Command::SetFraming(framing) => {
                self.opts.framing = framing;
                self.reframe();
            }
            Command::SetRepliesFraming(framing) => {
                if let Some(relay) = self.relay.as_mut() {
                    relay.config.replies_framing = framing;
                }
                self.reframe();
            }
            Command::StartSchedule(schedule) => self.stage.start_schedule(schedule),
            Command::SetReply(reply) => {
                self.out.watch = self.relay.is_some() || self.stage.set_reply(reply);
            }
            Command::SetRules(rules) => {
                let watch = self.with_stage(|stage, io| stage.set_rules(rules, io));
                self.out.watch = self.relay.is_some() || watch;
            }
            command @ (Command::RunScript { .. }
            | Command::StopScript
            | Command::ScriptChanged
            | Command::StepScript) => {
                self.script_command(command);
            }
            Command::StopSchedule => self.with_stage(|stage, io| stage.stop_schedule(io)),
            Command::SendFile {
                to,
                path,
                chunk,
                pace,
            } => {
                let chunk = if self.opts.mode.caps().datagrams {
                    chunk.min(link::MAX_DATAGRAM)
                } else {
                    chunk
                };
                match FileSend::open(&path, to, chunk, pace) {
                    Ok(file) => self.stage.send_file(file),
                    Err(source) => self.out.emit(Event::Error(EngineError::Io {
                        context: S::CtxOpening,
                        subject: path.display().to_string(),
                        source,
                    })),
                }
            }
            Command::AskUnsent => self.tell_unsent(),
            Command::CancelFile => self.with_stage(|stage, io| stage.cancel_file(io)),
            command @ (Command::WebSocket { .. }
            | Command::CutRelay
            | Command::SetImpairments(..)
            | Command::Join(_)
            | Command::Leave(_)
            | Command::SetUdpOptions(_)) => self.handle_links(command),
            Command::Stop => self.stop = true,
        }
    }

    /// The framing `conn`'s received stream is cut with: a relay's upstream may have its own.
    fn framing_of(&self, conn: ConnId) -> Framing {
        self.relay
            .as_ref()
            .filter(|r| r.is_upstream(conn))
            .and_then(|r| r.config.replies_framing.clone())
            .unwrap_or_else(|| self.opts.framing.clone())
    }

    /// Every connection cuts its stream with its framing from now on (held bytes handed over).
    fn reframe(&mut self) {
        let conns: Vec<(ConnId, Token)> = self.conns.iter().map(|(c, t)| (*c, *t)).collect();
        for (conn, token) in conns {
            let framing = self.framing_of(conn);
            self.call(token, |link, cx| {
                link.set_framing(cx, &framing);
                Status::Idle
            });
        }
    }

    /// Relay: a client was accepted; its upstream connection starts now.
    fn relay_client(&mut self, client: ConnId) {
        let Some(relay) = self.relay.as_ref() else {
            return;
        };
        if relay.config.udp
            || relay.is_upstream(client)
            || relay.find(Some(client), self.config.local).is_some()
        {
            return;
        }
        let upstream_addr = relay.config.upstream;
        let any: std::net::SocketAddr = if upstream_addr.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let client_addr = self
            .conns
            .get(&client)
            .and_then(|t| self.links.get(t))
            .and_then(|l| l.peer())
            .unwrap_or(self.config.local);
        let mut spawned = Vec::new();
        let made = link::TcpConn::connect(any, upstream_addr, &mut self.cx(&mut spawned));
        match made {
            Ok(conn) => {
                let Some(upstream) = Link::conn(&conn) else {
                    return;
                };
                self.add(Box::new(conn));
                self.pair_up(Target::Conn(client), client_addr, upstream);
                // What the upstream sends is cut by its own protocol's frame layer.
                if let Some(framing) = self
                    .relay
                    .as_ref()
                    .and_then(|r| r.config.replies_framing.clone())
                    .filter(|f| *f != self.opts.framing)
                    && let Some(token) = self.conns.get(&upstream).copied()
                {
                    self.call(token, |link, cx| {
                        link.set_framing(cx, &framing);
                        Status::Idle
                    });
                }
            }
            Err(e) => {
                self.out.emit(Event::Error(e));
                self.close_conn_quietly(client);
            }
        }
    }

    /// Relay: records a new pair and says so.
    fn pair_up(&mut self, client: Target, client_addr: std::net::SocketAddr, upstream: ConnId) {
        let Some(relay) = self.relay.as_mut() else {
            return;
        };
        let upstream_addr = relay.config.upstream;
        let client_conn = match client {
            Target::Conn(id) => Some(id),
            _ => None,
        };
        let number = relay.next_pair;
        relay.next_pair += 1;
        relay.pairs.push(Pair {
            number,
            client,
            upstream,
            client_addr,
            up: Lane::new(relay.config.to_upstream),
            down: Lane::new(relay.config.to_client),
            closing: false,
            up_finished: false,
            down_finished: false,
            up_passed: false,
            down_passed: false,
            tuned: [false; 2],
            ended_by: None,
        });
        let index = relay.pairs.len() - 1;
        self.out.emit(Event::RelayPair {
            pair: number,
            client: client_conn,
            client_addr,
            upstream,
            upstream_addr,
        });
        self.tune_pair(index);
    }

    /// Relay: the kernel's receive buffer of a capped lane's sender is kept to the lane's
    /// window, so what waits for the cap waits in the lane (bounded, timed) and not in
    /// megabytes of socket buffer ahead of it; a lane no longer capped gets a large one back.
    fn tune_pair(&mut self, index: usize) {
        let Some(pair) = self.relay.as_mut().and_then(|r| r.pairs.get_mut(index)) else {
            return;
        };
        let sides = [
            (pair.client.clone(), pair.up.capped(), pair.up.window()),
            (
                Target::Conn(pair.upstream),
                pair.down.capped(),
                pair.down.window(),
            ),
        ];
        let mut changes = Vec::new();
        for ((source, capped, window), tuned) in sides.into_iter().zip(pair.tuned.iter_mut()) {
            if capped || *tuned {
                changes.push((source, if capped { window } else { MAX_RELAY_BUFFER }));
                *tuned = capped;
            }
        }
        for (source, bytes) in changes {
            if let Target::Conn(id) = source
                && let Some(link) = self.conns.get(&id).and_then(|t| self.links.get_mut(t))
            {
                link.set_receive_buffer(bytes);
            }
        }
    }

    /// Relay: what arrived goes into its pair's lane (a new UDP client gets its socket).
    fn relay_arrived(&mut self, seen: &[super::outbox::Seen]) {
        let now = Instant::now();
        for message in seen {
            let Some(relay) = self.relay.as_ref() else {
                return;
            };
            let found = relay.find(message.conn, message.peer);
            let (index, from_upstream) = match found {
                Some(found) => found,
                None if relay.config.udp && message.conn.is_none() => {
                    let upstream_addr = relay.config.upstream;
                    let id = ConnId(self.next_conn);
                    self.next_conn += 1;
                    match link::Udp::upstream(id, upstream_addr) {
                        Ok(socket) => {
                            self.add(Box::new(socket));
                            // Listed as a connection, so a send can go upstream by hand.
                            self.out.emit(Event::Connected {
                                conn: id,
                                peer: upstream_addr,
                                local: self.config.local,
                            });
                            self.pair_up(Target::Addr(message.peer), message.peer, id);
                        }
                        Err(e) => {
                            self.out.emit(Event::Error(e));
                            continue;
                        }
                    }
                    let Some(relay) = self.relay.as_ref() else {
                        return;
                    };
                    match relay.find(None, message.peer) {
                        Some(found) => found,
                        None => continue,
                    }
                }
                None => continue,
            };
            let Some(relay) = self.relay.as_mut() else {
                return;
            };
            let ordered = !relay.config.udp;
            let mut random = relay.random;
            let mut dropped = None;
            if let Some(pair) = relay.pairs.get_mut(index) {
                let lane = if from_upstream {
                    &mut pair.down
                } else {
                    &mut pair.up
                };
                match lane.push(now, message.bytes.clone(), ordered, &mut random) {
                    Pushed::Queued => {}
                    how => dropped = Some((pair.client_addr, how == Pushed::Overflow)),
                }
            }
            relay.random = random;
            // A datagram the simulator threw away is said, right after the batch it came in.
            if let Some((client_addr, full)) = dropped {
                self.out.emit(Event::RelayDropped {
                    client_addr,
                    to_upstream: !from_upstream,
                    len: message.bytes.len(),
                    head: message.bytes.get(..16).unwrap_or(&message.bytes).to_vec(),
                    full,
                });
            }
        }
        self.release_relayed();
    }

    /// Relay: sends what is due in every lane; cuts pairs whose cut point came; closes the
    /// survivor of a pair whose other side ended once what goes to it is written.
    fn release_relayed(&mut self) {
        let now = Instant::now();
        let mut index = 0;
        loop {
            let Some(relay) = self.relay.as_mut() else {
                return;
            };
            let Some(pair) = relay.pairs.get_mut(index) else {
                return;
            };
            let upstream = Target::Conn(pair.upstream);
            let client = pair.client.clone();
            let mut out: Vec<(Target, Vec<u8>)> = Vec::new();
            let mut cut = false;
            // What goes to a side still connecting waits in its lane.
            let open = [self.route_ready(&upstream), self.route_ready(&client)];
            let Some(pair) = self.relay.as_mut().and_then(|r| r.pairs.get_mut(index)) else {
                return;
            };
            for ((lane, to), ready) in [(&mut pair.up, &upstream), (&mut pair.down, &client)]
                .into_iter()
                .zip(open)
            {
                while let Some(release) = ready.then(|| lane.pop_due(now)).flatten() {
                    match release {
                        Release::Send(bytes) => out.push((to.clone(), bytes)),
                        Release::Cut(bytes) => {
                            out.push((to.clone(), bytes));
                            cut = true;
                            break;
                        }
                    }
                }
            }
            let drained = pair.up.is_empty() && pair.down.is_empty();
            let closing = pair.closing;
            // A half-close goes on once everything before it went.
            let pass_up = pair.up_finished && pair.up.is_empty() && !pair.up_passed;
            let pass_down = pair.down_finished && pair.down.is_empty() && !pair.down_passed;
            pair.up_passed |= pass_up;
            pair.down_passed |= pass_down;
            let both_passed = pair.up_passed && pair.down_passed;
            for (to, bytes) in out {
                if !bytes.is_empty() {
                    self.send_relayed(&to, bytes);
                }
            }
            if pass_up {
                self.finish_sending(&upstream);
            }
            if pass_down {
                self.finish_sending(&client);
            }
            // A pair ends once what goes to its sides is written: after one side left, or
            // after both finished sending (each half-close passed on).
            let written = self.written(&upstream) && self.written(&client);
            let finished = both_passed && self.shut(&upstream) && self.shut(&client);
            if cut || (closing && drained && written) || finished {
                self.cut_pair(index, cut);
            } else {
                index += 1;
            }
        }
    }

    /// The link of a connection, if it is still there.
    fn link_of(&self, to: &Target) -> Option<&dyn Link> {
        match to {
            Target::Conn(id) => self
                .conns
                .get(id)
                .and_then(|t| self.links.get(t))
                .map(AsRef::as_ref),
            _ => None,
        }
    }

    /// True when nothing waits to be written to `to` (or it is gone).
    fn written(&self, to: &Target) -> bool {
        self.link_of(to).is_none_or(|l| l.queued() == 0)
    }

    /// True when `to` finished sending (or it is gone).
    fn shut(&self, to: &Target) -> bool {
        self.link_of(to).is_none_or(Link::sending_finished)
    }

    /// Relay: passes a half-close on to `to` (its FIN follows what is queued for it).
    fn finish_sending(&mut self, to: &Target) {
        if let Target::Conn(id) = to
            && let Some(token) = self.conns.get(id).copied()
        {
            self.call_writing(token, |link, cx| link.finish_sending(cx));
        }
    }

    /// Relay: notes that the peer of `token` finished sending (the half-close goes on once
    /// its lane is empty).
    fn relay_finished(&mut self, token: Token) {
        let Some(conn) = self
            .links
            .get(&token)
            .filter(|l| l.finished_receiving())
            .and_then(|l| l.conn())
        else {
            return;
        };
        let local = self.config.local;
        let Some(relay) = self.relay.as_mut() else {
            return;
        };
        if let Some((index, from_upstream)) = relay.find(Some(conn), local)
            && let Some(pair) = relay.pairs.get_mut(index)
        {
            if from_upstream {
                pair.down_finished = true;
            } else {
                pair.up_finished = true;
            }
        }
    }

    /// True when a send to `to` can go now.
    fn route_ready(&self, to: &Target) -> bool {
        !self.route(to).is_empty()
    }

    /// Relay: one side of a pair ended; the other follows once what goes to it is written.
    /// A side that ended abruptly (a reset) ends the pair at once: what it sent and still
    /// waits in its lane cannot be vouched for, and a full capped lane would keep the other
    /// side open for as long as it takes to drain (a minute at 64 KiB/s); it is counted and
    /// said as not delivered.
    /// An upstream that never connected (`was_up` false) ends it at once too.
    fn relay_lost(&mut self, conn: ConnId, abrupt: bool, was_up: bool) {
        let Some(relay) = self.relay.as_mut() else {
            return;
        };
        let Some(index) = relay
            .pairs
            .iter()
            .position(|p| p.upstream == conn || p.client == Target::Conn(conn))
        else {
            return;
        };
        if let Some(pair) = relay.pairs.get_mut(index) {
            pair.closing = true;
            // Nothing more can go to the side that left.
            let upstream_left = pair.upstream == conn;
            if upstream_left {
                pair.up.clear();
            } else {
                pair.down.clear();
            }
            let ended_by = match (upstream_left, was_up, abrupt) {
                (true, false, _) => Some(RelayEnd::UpstreamFailed),
                (true, true, true) => Some(RelayEnd::UpstreamReset),
                (false, _, true) => Some(RelayEnd::ClientReset),
                _ => None,
            };
            if ended_by.is_some() {
                pair.ended_by = ended_by;
                self.cut_pair(index, false);
                return;
            }
        }
        self.release_relayed();
    }

    /// Relay: ends pair `index` (both sides closed, the pair forgotten) and says so: `cut`
    /// on purpose, or because one side left.
    fn cut_pair(&mut self, index: usize, cut: bool) {
        let Some(relay) = self.relay.as_mut() else {
            return;
        };
        if index >= relay.pairs.len() {
            return;
        }
        let mut pair = relay.pairs.remove(index);
        // What still waits — in a lane, or in a side's send queue — goes nowhere now.
        pair.up.clear();
        pair.down.clear();
        let queued = |to: &Target| self.link_of(to).map_or(0, |l| l.queued() as u64);
        let undelivered = (
            pair.up.discarded + queued(&Target::Conn(pair.upstream)),
            pair.down.discarded + queued(&pair.client),
        );
        self.out.emit(Event::RelayCut {
            pair: pair.number,
            client_addr: pair.client_addr,
            forwarded: (pair.up.forwarded, pair.down.forwarded),
            cut,
            ended_by: pair.ended_by,
            undelivered,
        });
        if let Target::Conn(client) = pair.client {
            self.close_conn_quietly(client);
        } else if let Some(relay) = &self.relay {
            // A UDP upstream socket closes without a word of its own.
            self.out.emit(Event::Closed {
                conn: pair.upstream,
                peer: relay.config.upstream,
                reason: CloseReason::LocalClose,
            });
        }
        self.close_conn_quietly(pair.upstream);
    }

    /// Closes a connection we end (no reconnect, no relay bookkeeping beyond its pair).
    fn close_conn_quietly(&mut self, conn: ConnId) {
        if let Some(token) = self.conns.get(&conn).copied() {
            self.close(token, CloseReason::LocalClose);
        }
    }

    /// Hands a multicast change to the UDP socket.
    fn multicast(&mut self, op: link::Multicast) {
        if !self.opts.mode.caps().datagrams {
            self.out
                .emit(Event::Error(EngineError::Unsupported(S::ErrOnlyUdpJoins)));
            return;
        }
        if let Some(token) = self.links.keys().next().copied() {
            self.call(token, |link, cx| {
                link.multicast(cx, op);
                Status::Idle
            });
        }
    }

    /// The commands for one kind of link: WebSocket controls, the relay, multicast.
    fn handle_links(&mut self, command: Command) {
        match command {
            Command::WebSocket { to, op } => {
                for token in self.route(&to) {
                    self.call(token, |link, cx| link.websocket(cx, &op));
                }
            }
            Command::CutRelay => {
                let count = self.relay.as_ref().map_or(0, |r| r.pairs.len());
                for _ in 0..count {
                    self.cut_pair(0, true);
                }
            }
            Command::SetImpairments(up, down) => {
                if let Some(relay) = self.relay.as_mut() {
                    relay.config.to_upstream = up;
                    relay.config.to_client = down;
                    for pair in &mut relay.pairs {
                        pair.up.set(up);
                        pair.down.set(down);
                    }
                    let count = relay.pairs.len();
                    for index in 0..count {
                        self.tune_pair(index);
                    }
                }
            }
            Command::Join(group) => self.multicast(link::Multicast::Join(group)),
            Command::Leave(group) => self.multicast(link::Multicast::Leave(group)),
            Command::SetUdpOptions(options) => {
                self.multicast(link::Multicast::Configure(options));
            }
            _ => {}
        }
    }

    /// TCP server: accepts again (after Stop listening), on `addr`.
    fn listen(&mut self, addr: std::net::SocketAddr) {
        if !self.opts.mode.caps().listens_again {
            self.out.emit(Event::Error(EngineError::Unsupported(
                S::ErrOnlyServerListens,
            )));
            return;
        }
        if self.links.values().any(|l| l.is_listener()) {
            return;
        }
        let mut spawned = Vec::new();
        let bound = Listener::bind(addr, &mut self.cx(&mut spawned));
        match bound {
            Ok(listener) => self.add(Box::new(listener)),
            Err(e) => self.out.emit(Event::Error(e)),
        }
    }

    /// The links a send to `to` goes through, in order.
    fn route(&self, to: &Target) -> Vec<Token> {
        match to {
            Target::Conn(id) => self
                .conns
                .get(id)
                .copied()
                .into_iter()
                .filter(|t| self.links.get(t).is_some_and(|l| l.reaches(to)))
                .collect(),
            Target::AllConns => self
                .conns
                .values()
                .copied()
                .filter(|t| self.links.get(t).is_some_and(|l| l.reaches(to)))
                .collect(),
            Target::Addr(_) => self
                .links
                .iter()
                .filter(|(_, l)| l.reaches(to))
                .map(|(t, _)| *t)
                .take(1)
                .collect(),
        }
    }

    /// Why nothing was sent to `to`.
    fn unroutable(&self, to: &Target) -> EngineError {
        // Connections exist where there is no datagram; addresses where there are, and in a
        // relay (a UDP relay's peers).
        let caps = self.opts.mode.caps();
        match to {
            Target::Conn(_) | Target::AllConns if caps.datagrams => {
                EngineError::Unsupported(S::ErrUdpToAddr)
            }
            Target::Addr(_) if !caps.datagrams && !caps.relays => {
                EngineError::Unsupported(S::ErrTcpToConn)
            }
            Target::Conn(id) if !self.conns.contains_key(id) => EngineError::UnknownConn(*id),
            _ => EngineError::NotConnected,
        }
    }

    /// Says what the kernel still holds for each connection's peer (where the OS tells).
    fn tell_unsent(&mut self) {
        for (&conn, token) in &self.conns {
            if let Some(bytes) = self.links.get(token).and_then(|l| l.unsent()) {
                self.out.emit(Event::Unsent { conn, bytes });
            }
        }
    }

    fn send(&mut self, to: &Target, bytes: Vec<u8>, log: bool) {
        self.send_as(to, bytes, log, Part::WHOLE, false);
    }

    fn send_as(&mut self, to: &Target, bytes: Vec<u8>, log: bool, part: Part, binary: bool) {
        let out = Outgoing {
            bytes,
            log,
            part,
            binary,
            relayed: false,
        };
        self.send_out(to, out);
    }

    /// Relay: bytes from one side of a pair to the other.
    fn send_relayed(&mut self, to: &Target, bytes: Vec<u8>) {
        let out = Outgoing {
            bytes,
            log: false,
            part: Part::WHOLE,
            binary: false,
            relayed: true,
        };
        self.send_out(to, out);
    }

    fn send_out(&mut self, to: &Target, out: Outgoing) {
        let Outgoing {
            bytes,
            log,
            part,
            binary,
            relayed,
        } = out;
        let tokens = self.route(to);
        let Some((last, rest)) = tokens.split_last() else {
            let error = self.unroutable(to);
            self.out.emit(Event::Error(error));
            return;
        };
        for token in rest {
            let out = Outgoing {
                bytes: bytes.clone(),
                log,
                part,
                binary,
                relayed,
            };
            self.call_writing(*token, |link, cx| link.send(cx, to, out));
        }
        let out = Outgoing {
            bytes,
            log,
            part,
            binary,
            relayed,
        };
        self.call_writing(*last, |link, cx| link.send(cx, to, out));
    }
}

impl Wire for Io {
    fn reachable(&self, to: &Target) -> bool {
        !self.route(to).is_empty()
    }

    fn queued_towards(&self, to: &Target) -> usize {
        self.route(to)
            .iter()
            .filter_map(|t| self.links.get(t))
            .map(|l| l.queued())
            .max()
            .unwrap_or(0)
    }

    fn send_bytes(&mut self, to: &Target, bytes: Vec<u8>, log: bool) {
        self.send(to, bytes, log);
    }

    fn send_part(&mut self, to: &Target, bytes: Vec<u8>, part: Part) {
        self.send_as(to, bytes, false, part, false);
    }

    fn send_reply(&mut self, to: &Target, bytes: Vec<u8>, binary: bool) {
        self.send_as(to, bytes, true, Part::WHOLE, binary);
    }

    fn send_payload(&mut self, to: &Target, payload: &Payload) -> bool {
        let rendered = {
            let mut vars = self
                .vars
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            payload.render(&mut vars, SystemTime::now())
        };
        match rendered {
            Ok(bytes) => {
                self.send(to, bytes, true);
                true
            }
            Err(e) => {
                self.out.emit(Event::Error(EngineError::Payload(e)));
                false
            }
        }
    }

    fn emit(&mut self, event: Event) {
        self.out.emit(event);
    }

    fn close_conn(&mut self, conn: ConnId) {
        if let Some(token) = self.conns.get(&conn).copied() {
            self.close(token, CloseReason::LocalClose);
        }
    }

    fn conn_from(&self, ip: std::net::IpAddr, port: Option<u16>) -> Option<ConnId> {
        let plain = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 @ std::net::IpAddr::V4(_) => v4,
        };
        self.conns.iter().find_map(|(id, token)| {
            let peer = self.links.get(token)?.peer()?;
            (plain(peer.ip()) == plain(ip) && port.is_none_or(|p| p == peer.port())).then_some(*id)
        })
    }

    fn with_counter(&mut self, f: &mut dyn FnMut(&mut i64, i64)) {
        let mut vars = self
            .vars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let step = vars.step;
        f(&mut vars.counter, step);
    }
}
