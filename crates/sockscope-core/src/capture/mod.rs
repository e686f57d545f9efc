//! Capture: what a session has seen, as plain data. [`Capture::apply`] folds engine events into
//! the log store, the client and peer tables and the counters; the GUI only reads it.

mod export;
mod index;
mod log;
mod note;
pub mod series;
mod view;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

pub use export::{
    ExportFormat, Exporter, LocalEnds, UTF8_BOM, export, log_head, log_line, timestamp,
};
pub use log::{DEFAULT_CAP, LogStore, Record, RecordKind, RelayWay, WsKind};
pub use note::{Arg, Note, arg, key};
pub use view::{Query, RecordFilter, Search, StreamIndex, ViewIndex, hexdump};

use crate::engine::{CloseReason, ConnId, Data, DataKind, Direction, Event, Frames, Mode, Target};
use crate::i18n::S;

/// Where the session's socket stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LinkState {
    /// Nothing open.
    #[default]
    Idle,
    /// TCP client: connect in progress.
    Connecting(SocketAddr),
    /// TCP client: waiting to connect again (reconnect on).
    Reconnecting {
        /// The server.
        remote: SocketAddr,
        /// When the try starts.
        at: SystemTime,
        /// Which try it will be, and "of how many" (0 = no limit).
        attempt: u32,
        /// Tries in all; 0 = no limit.
        max: u32,
    },
    /// TCP client connected.
    Connected {
        /// The server.
        peer: SocketAddr,
        /// Our end.
        local: SocketAddr,
    },
    /// TCP server listening, or UDP bound.
    Listening(SocketAddr),
    /// TCP server that stopped listening but still serves clients it kept.
    NotListening,
}

/// "2" or "2/5": which reconnect try, of how many.
pub fn try_text(attempt: u32, max: u32) -> String {
    if max == 0 {
        attempt.to_string()
    } else {
        format!("{attempt}/{max}")
    }
}

/// One connected TCP client (server mode) or the server (client mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    /// Its address.
    pub peer: SocketAddr,
    /// Our end of the connection.
    pub local: SocketAddr,
    /// When it connected.
    pub since: SystemTime,
    /// Bytes received from it.
    pub rx_bytes: u64,
    /// Bytes sent to it.
    pub tx_bytes: u64,
    /// Messages received from it (reads, or frames with framing on).
    pub rx_messages: u64,
    /// Sends to it.
    pub tx_messages: u64,
    /// Bytes per second received from it.
    pub rx_rate: Rate,
    /// Bytes per second sent to it.
    pub tx_rate: Rate,
    /// It finished sending and the connection is kept for sending (half-closed).
    pub half_closed: bool,
    /// Bytes written to it that the peer has not acknowledged yet, as last asked
    /// ([`Command::AskUnsent`](crate::engine::Command::AskUnsent)); `None` before the first
    /// answer, or where the OS does not say.
    pub unsent: Option<u64>,
    /// Its bytes in and out each second of the last ten minutes (the rate chart).
    pub history: RateHistory,
    /// What its TLS handshake negotiated (TLS sessions).
    pub tls: Option<Arc<crate::engine::TlsInfo>>,
}

impl Client {
    /// A client with nothing counted yet.
    fn fresh() -> Self {
        let nowhere = SocketAddr::from(([0, 0, 0, 0], 0));
        Client {
            peer: nowhere,
            local: nowhere,
            since: SystemTime::UNIX_EPOCH,
            rx_bytes: 0,
            tx_bytes: 0,
            rx_messages: 0,
            tx_messages: 0,
            rx_rate: Rate::default(),
            tx_rate: Rate::default(),
            half_closed: false,
            unsent: None,
            history: RateHistory::default(),
            tls: None,
        }
    }
}

/// Bytes per second, over whole one-second windows: the last full second's count, so the
/// figure is steady; 0 once a second passes with nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rate {
    window_start: Option<SystemTime>,
    this_window: u64,
    last_window: u64,
}

impl Rate {
    /// Counts `n` bytes at `at`.
    pub fn add(&mut self, at: SystemTime, n: u64) {
        if n == 0 {
            return;
        }
        let elapsed = self
            .window_start
            .and_then(|start| at.duration_since(start).ok());
        match elapsed {
            Some(e) if e.as_secs() == 0 => {}
            Some(e) => {
                self.last_window = if e.as_secs() == 1 {
                    self.this_window
                } else {
                    0
                };
                self.this_window = 0;
                self.window_start = Some(at);
            }
            None => self.window_start = Some(at),
        }
        self.this_window += n;
    }

    /// Bytes per second as of `now`.
    pub fn per_second(&self, now: SystemTime) -> u64 {
        let elapsed = self
            .window_start
            .and_then(|start| now.duration_since(start).ok());
        match elapsed.map(|e| e.as_secs()) {
            Some(0) => self.last_window,
            Some(1) => self.this_window,
            _ => 0,
        }
    }
}

/// A UDP peer seen or sent to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Last time anything went either way.
    pub last_seen: SystemTime,
    /// Last time it sent us a datagram (the reply target follows the latest sender).
    pub last_rx: Option<SystemTime>,
    /// Bytes received from it.
    pub rx_bytes: u64,
    /// Bytes sent to it.
    pub tx_bytes: u64,
    /// Datagrams received from it.
    pub rx_datagrams: u64,
}

/// Byte and message counters; reset by the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Reads (TCP) or datagrams (UDP) received.
    pub rx_messages: u64,
    /// Sends completed.
    pub tx_messages: u64,
    /// UDP datagrams dropped because the display fell behind.
    pub dropped_datagrams: u64,
    /// Relay: datagrams the simulator dropped on purpose (or as its lane was full), client →
    /// upstream and upstream → client.
    pub relay_dropped: [u64; 2],
    /// Their bytes.
    pub dropped_bytes: u64,
    /// Sends refused because a connection's queue was full (its peer does not read).
    pub refused_sends: u64,
    /// Their bytes.
    pub refused_bytes: u64,
    /// Bytes per second received.
    pub rx_rate: Rate,
    /// Bytes per second sent.
    pub tx_rate: Rate,
    /// Bytes in and out each second of the last ten minutes (the rate chart).
    pub history: RateHistory,
}

/// What [`Capture::reset_counters`] zeroed, kept so the reset can be undone.
#[derive(Clone, Debug)]
#[must_use = "without it the reset cannot be undone"]
pub struct ZeroedCounters {
    counters: Counters,
    clients: BTreeMap<ConnId, Client>,
    peers: BTreeMap<SocketAddr, Peer>,
}

/// Ended connections whose counters and chart are kept.
pub const DEPARTED: usize = 32;

/// UDP peers kept: a flood from many sources (a scan, spoofed addresses) must not grow the
/// table — and each frame's work on it — without bound. Beyond it (plus an eighth, so the
/// forgetting is done in batches), those quiet longest are forgotten and counted.
pub const MAX_PEERS: usize = 4096;

/// Bytes received and sent per wall-clock second, for the last [`RateHistory::KEEP`] seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RateHistory {
    /// (Unix second, received, sent), oldest first; seconds without traffic are left out.
    seconds: std::collections::VecDeque<(u64, u64, u64)>,
}

impl RateHistory {
    /// Seconds kept.
    pub const KEEP: u64 = 600;

    /// Counts bytes at `at`.
    pub fn add(&mut self, at: SystemTime, rx: u64, tx: u64) {
        let second = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        match self.seconds.back_mut() {
            // The same second, or a clock that stepped back: this second's bucket.
            Some(last) if last.0 >= second => {
                last.1 += rx;
                last.2 += tx;
            }
            _ => self.seconds.push_back((second, rx, tx)),
        }
        while self
            .seconds
            .front()
            .is_some_and(|f| f.0 + Self::KEEP < second)
        {
            self.seconds.pop_front();
        }
    }

    /// Adds `other`'s seconds to these (an undone reset), keeping the last
    /// [`KEEP`](Self::KEEP) seconds.
    pub fn merge(&mut self, other: &RateHistory) {
        let mut all: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for &(second, rx, tx) in self.seconds.iter().chain(&other.seconds) {
            let slot = all.entry(second).or_default();
            slot.0 += rx;
            slot.1 += tx;
        }
        let newest = all.keys().next_back().copied().unwrap_or(0);
        self.seconds = all
            .into_iter()
            .filter(|(second, _)| second + Self::KEEP >= newest)
            .map(|(second, (rx, tx))| (second, rx, tx))
            .collect();
    }

    /// How many seconds the chart should show at `now`: back to the first second with
    /// traffic, at least [`MIN_SPAN`](Self::MIN_SPAN) and at most [`KEEP`](Self::KEEP) — a
    /// 20-second session is not a spike at the edge of ten minutes.
    pub fn span(&self, now: SystemTime) -> u64 {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let first = self.seconds.front().map_or(now, |f| f.0);
        (now.saturating_sub(first) + 1).clamp(Self::MIN_SPAN, Self::KEEP)
    }

    /// The shortest span the chart shows.
    pub const MIN_SPAN: u64 = 30;

    /// The last `span` whole seconds before `now`, oldest first: (seconds before now, bytes
    /// received, bytes sent), with zeros where nothing moved.
    pub fn series(&self, now: SystemTime, span: u64) -> Vec<(i64, u64, u64)> {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let span = span.min(Self::KEEP);
        let mut out: Vec<(i64, u64, u64)> = (0..span)
            .map(|i| (i.cast_signed() - span.cast_signed(), 0, 0))
            .collect();
        for &(second, rx, tx) in &self.seconds {
            // Whole seconds only: the current one is still filling.
            if second < now && now - second <= span {
                let index = (span - (now - second)) as usize;
                if let Some(slot) = out.get_mut(index) {
                    slot.1 += rx;
                    slot.2 += tx;
                }
            }
        }
        out
    }
}

/// Timed and file sends under way, for the Send group's counters and progress bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sending {
    /// Sends made by the running cyclic send or sequence, `None` when none runs.
    pub scheduled: Option<u64>,
    /// Sends made by the last one that finished.
    pub scheduled_last: u64,
    /// The file being sent.
    pub file: Option<FileProgress>,
    /// Its name, for the message when it ends.
    pub file_name: Option<String>,
    /// Where it goes (from its progress reports).
    pub file_to: Option<Target>,
}

/// A file send's progress.
#[derive(Clone, Debug, PartialEq)]
pub struct FileProgress {
    /// Bytes handed to the socket.
    pub sent: u64,
    /// The file's size.
    pub total: u64,
    /// When the first progress arrived.
    pub since: SystemTime,
    /// When the last progress arrived.
    pub at: SystemTime,
}

impl FileProgress {
    /// Fraction done, 0 to 1.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            1.0
        } else {
            (self.sent as f64 / self.total as f64) as f32
        }
    }

    /// Average bytes per second so far.
    pub fn rate(&self) -> f64 {
        let secs = self
            .at
            .duration_since(self.since)
            .map_or(0.0, |d| d.as_secs_f64());
        if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        }
    }
}

/// A scripted conversation's run, as the session saw it.
#[derive(Clone, Debug)]
pub struct ScriptReport {
    /// The script's name.
    pub name: String,
    /// Every step's label, in order.
    pub steps: Vec<String>,
    /// The steps that ended, in order.
    pub results: Vec<crate::rules::script::StepResult>,
    /// `Some` once it ended: every step passed, or not.
    pub passed: Option<bool>,
    /// When it started.
    pub started: SystemTime,
}

/// Everything one session has seen.
#[derive(Default)]
pub struct Capture {
    /// The records, bounded.
    pub log: LogStore,
    /// Open TCP connections.
    pub clients: BTreeMap<ConnId, Client>,
    /// Connections that ended, newest last (at most [`DEPARTED`]): their rate charts can still
    /// be looked at.
    pub departed: VecDeque<(ConnId, Client)>,
    /// UDP peers, by address (at most [`MAX_PEERS`] and a batch).
    pub peers: BTreeMap<SocketAddr, Peer>,
    /// UDP peers forgotten to keep the table bounded, since it was last cleared.
    pub forgotten_peers: u64,
    /// UDP: the multicast groups joined.
    pub groups: Vec<crate::engine::Group>,
    /// Relay: the upstream connection of each client (by the upstream's id).
    pub relay_upstreams: BTreeMap<ConnId, SocketAddr>,
    /// TLS handshakes done whose `Connected` has not come yet.
    secured: HashMap<ConnId, Arc<crate::engine::TlsInfo>>,
    /// Counters since the last reset.
    pub counters: Counters,
    /// The socket's state.
    pub link: LinkState,
    /// The mode of the session that produced the events.
    pub mode: Mode,
    /// The last error, until the next successful open.
    pub last_error: Option<Arc<Note>>,
    /// The certificate a TLS client refused last (unknown CA, a CA certificate as the
    /// server's own, another name …), until the next open: the window offers to pin it.
    pub tls_refused: Option<crate::engine::CertInfo>,
    /// The session that produced the events has ended (its `Stopped` was folded in).
    pub stopped: bool,
    /// Timed and file sends.
    pub sending: Sending,
    /// With framing on: every raw read, for the raw-vs-frames view (the log holds the frames).
    pub raw: LogStore,
    /// Keep raw reads in [`raw`](Self::raw) (they are shown beside the frames). Off, a raw
    /// read is counted and recorded but not stored: storing and decoding each read as well as
    /// each frame halved the ingest rate with framing on.
    pub keep_raw: bool,
    /// Every received byte also goes to this file (接收转向文件), whatever the log's cap.
    pub recorder: Option<Recorder>,
    /// Our end of every connection and socket seen, for the pcap export.
    pub locals: LocalEnds,
    /// The lowest connection id no engine of this session has used: the next one starts
    /// there, so a record's connection id names one connection for the log's whole life.
    next_conn: u64,
    /// How often each auto-reply rule fired since the session opened (or the counts were
    /// reset), and when it last did, by the rule's id.
    pub rule_hits: BTreeMap<crate::rules::RuleId, crate::rules::Hits>,
    /// The rules' states as the running session has them: the session's (`None`), or each
    /// connection's that left the start state.
    pub rule_states: Vec<(Option<SocketAddr>, String)>,
    /// The rules' tables as the running session has them (empty until rules run).
    pub rule_tables: BTreeMap<String, Vec<u8>>,
    /// The last scripted conversation run in this session, step by step.
    pub script: Option<ScriptReport>,
}

/// How received bytes are recorded to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// Exactly the bytes received, nothing else.
    Raw,
    /// One line per read or message: time, peer, length, text.
    TextLog,
}

/// A file every received byte goes to, from the moment it is switched on.
pub struct Recorder {
    out: BufWriter<File>,
    format: RecordFormat,
    /// Where.
    pub path: PathBuf,
    /// Received bytes written so far.
    pub bytes: u64,
}

impl Recorder {
    /// Creates (or truncates) `path`.
    pub fn create(path: PathBuf, format: RecordFormat) -> std::io::Result<Self> {
        let out = BufWriter::with_capacity(256 << 10, File::create(&path)?);
        Ok(Self {
            out,
            format,
            path,
            bytes: 0,
        })
    }

    fn write(&mut self, record: &Record<'_>) -> std::io::Result<()> {
        match self.format {
            RecordFormat::Raw => self.out.write_all(record.bytes)?,
            RecordFormat::TextLog => writeln!(self.out, "{}", log_line(record, false))?,
        }
        self.bytes += record.bytes.len() as u64;
        Ok(())
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Capture {
    /// Folds one engine event in, as happening now.
    pub fn apply(&mut self, event: Event) {
        let _ = self.apply_at(SystemTime::now(), event);
    }

    /// Folds one engine event in, stamped with when it happened. Returns the buffer the
    /// event's bytes came in (they are in the log now), for the engine to use again.
    pub fn apply_at(&mut self, now: SystemTime, event: Event) -> Option<Vec<u8>> {
        match event {
            Event::Data(data) => self.apply_data(data),
            Event::Frames(frames) => self.apply_frames(frames),
            event => {
                self.apply_state(now, event);
                None
            }
        }
    }

    fn apply_script(&mut self, now: SystemTime, event: Event) {
        match event {
            Event::ScriptStarted { name, steps } => {
                self.script = Some(ScriptReport {
                    name,
                    steps,
                    results: Vec::new(),
                    passed: None,
                    started: now,
                });
            }
            Event::ScriptStep(result) => {
                if let Some(report) = self.script.as_mut() {
                    report.results.push(result);
                }
            }
            Event::ScriptFinished { passed } => {
                let Some(report) = self.script.as_mut() else {
                    return;
                };
                report.passed = Some(passed);
                let took = now.duration_since(report.started).unwrap_or_default();
                let took = format!("{:.3} s", took.as_secs_f64());
                let name = report.name.clone();
                match report.results.iter().find(|r| !r.ok) {
                    None => {
                        let steps = report.results.len();
                        self.info(
                            now,
                            None,
                            None,
                            Note::say(S::EvScriptPassed, [arg(name), arg(steps), arg(took)]),
                        );
                    }
                    Some(failed) => {
                        let (index, why) =
                            (failed.index + 1, failed.detail.clone().unwrap_or_default());
                        let note = Note::say(S::EvScriptFailed, [arg(name), arg(index), arg(why)]);
                        self.log.push_note(now, RecordKind::Error, None, None, note);
                    }
                }
            }
            _ => {}
        }
    }

    fn apply_rule_hits(&mut self, now: SystemTime, report: crate::rules::RulesReport) {
        for hit in report.fired {
            let last = Some(now);
            let failed =
                self.rule_hits.get(&hit.id).map_or(0, |h| h.failed) + u64::from(hit.failed);
            self.rule_hits.insert(
                hit.id,
                crate::rules::Hits {
                    count: hit.count,
                    last,
                    failed,
                },
            );
            // Which rule answered, next to the reply it made.
            let note = match hit.reply {
                None if hit.failed => Note::say(S::EvRuleReplyFailed, [arg(hit.name)]),
                Some(len) if hit.delay.is_zero() => {
                    Note::say(S::EvRuleReplied, [arg(hit.name), arg(len)])
                }
                Some(len) => Note::say(
                    S::EvRuleReplyLater,
                    [arg(hit.name), arg(len), arg(hit.delay.as_millis())],
                ),
                None => Note::say(S::EvRuleFired, [arg(hit.name)]),
            };
            let note = if hit.close {
                note.then(Note::say(S::EvRuleCloses, []))
            } else {
                note
            };
            // The connection the message came on, for `--json`'s `conn`.
            let conn = report.peer.and_then(|peer| {
                self.clients
                    .iter()
                    .find(|(_, c)| c.peer == peer)
                    .map(|(conn, _)| *conn)
            });
            self.info(now, conn, report.peer, note);
        }
        if let Some(states) = report.states {
            self.rule_states = states;
        }
        if let Some(tables) = report.tables {
            self.rule_tables = tables;
        }
    }

    /// Folds in an event that carries no bytes.
    fn apply_state(&mut self, now: SystemTime, event: Event) {
        match event {
            Event::RulesFired(report) => self.apply_rule_hits(now, *report),
            event @ (Event::ScriptStarted { .. }
            | Event::ScriptStep(_)
            | Event::ScriptFinished { .. }) => self.apply_script(now, event),
            Event::Listening { local } => self.apply_listening(now, local),
            Event::Connecting { remote } => {
                self.link = LinkState::Connecting(remote);
                let note = Note::say(S::EvConnecting, [arg(remote)]);
                self.info(now, None, Some(remote), note);
            }
            Event::Reconnecting {
                attempt,
                max,
                after,
                remote,
            } => self.apply_reconnecting(now, remote, after, attempt, max),
            Event::Connected { conn, peer, local } => self.apply_connected(now, conn, peer, local),
            Event::Secured { conn, peer, info } => self.apply_secured(now, conn, peer, *info),
            event @ (Event::RelayPair { .. }
            | Event::RelayCut { .. }
            | Event::RelayDropped { .. }) => {
                self.apply_relay(now, &event);
            }
            event @ (Event::WsControl { .. } | Event::Upgraded { .. }) => {
                self.apply_ws(now, event);
            }
            Event::ServerCertificate(cert) => {
                let what = [arg(cert.subject.clone()), arg(cert.sha256.clone())];
                self.info(now, None, None, Note::say(S::EvServerCert, what));
            }
            Event::Data(_) | Event::Frames(_) => {}
            Event::Unsent { conn, bytes } => {
                if let Some(client) = self.clients.get_mut(&conn) {
                    client.unsent = Some(bytes);
                }
            }
            Event::Forwarded { conn, peer, len } => self.apply_forwarded(now, conn, peer, len),
            Event::FileCut {
                conn,
                peer,
                written,
            } => self.apply_file_cut(now, conn, peer, written),
            Event::PeerFinished { conn, peer } => {
                if let Some(client) = self.clients.get_mut(&conn) {
                    client.half_closed = true;
                }
                let note = Note::say(S::EvPeerFinished, [arg(peer)]);
                self.end_receiving(now, conn, peer, note, RecordKind::Info);
            }
            Event::Closed { conn, peer, reason } => self.apply_closed(now, conn, peer, reason),
            Event::DatagramsTo(ip) => self.locals.udp_to.push((self.log.next_seq(), ip)),
            Event::Dropped { datagrams, bytes } => {
                self.counters.dropped_datagrams += datagrams;
                self.counters.dropped_bytes += bytes;
                let note = Note::say(S::EvDropped, [arg(datagrams), arg(bytes)]);
                self.log.push_note(now, RecordKind::Error, None, None, note);
            }
            Event::Joined(group) => {
                let note = Note::say(S::EvJoined, [arg(group.to_string())]);
                self.groups.push(group);
                self.info(now, None, None, note);
            }
            Event::LeftGroup(group) => {
                let note = Note::say(S::EvLeftGroup, [arg(group.to_string())]);
                self.groups.retain(|g| *g != group);
                self.info(now, None, None, note);
            }
            Event::ListenerClosed => {
                self.link = if self.clients.is_empty() {
                    LinkState::Idle
                } else {
                    LinkState::NotListening
                };
                let note = Note::say(S::EvStoppedListening, []);
                self.info(now, None, None, note);
            }
            Event::Error(error) => self.apply_error(now, error),
            Event::ScheduleProgress { sent, finished } => self.apply_schedule(sent, finished),
            Event::FileProgress {
                to,
                sent,
                total,
                finished,
            } => self.apply_file(now, &to, (sent, total), finished),
            Event::Stopped => self.apply_stopped(now),
        }
    }

    /// The session ended: what it was doing is said, its clients depart.
    /// An engine error: said in the log (a client that left named by its address), kept as
    /// the last error, counted where it counts.
    fn apply_error(&mut self, now: SystemTime, error: crate::engine::EngineError) {
        self.keep_refused(&error);
        self.count_refused_sends(&error);
        let (name, mut peer) = (error.event_name(), error.peer());
        // A client that left is named by its address, as everywhere else (the engine
        // knows only the connection's number by then).
        let note = match &error {
            crate::engine::EngineError::UnknownConn(id) => {
                match self.departed.iter().rev().find(|(c, _)| c == id) {
                    Some((_, client)) => {
                        peer = Some(client.peer);
                        Note::say(S::ErrClientLeft, [arg(client.peer)])
                    }
                    None => Note::say(S::Plain, [arg(error)]),
                }
            }
            _ => Note::say(S::Plain, [arg(error)]),
        };
        let note = Arc::new(note.named(name));
        self.last_error = Some(Arc::clone(&note));
        // A connect that failed (refused, timed out) is over: the session that made
        // it stops next, and that is not a cancel.
        if matches!(self.link, LinkState::Connecting(_)) {
            self.link = LinkState::Idle;
        }
        self.log.push_note(now, RecordKind::Error, None, peer, note);
    }

    /// A client a file was going to left before its end: how much it got (the file's own
    /// last line gives one number for all).
    fn apply_file_cut(&mut self, now: SystemTime, conn: ConnId, peer: SocketAddr, written: u64) {
        let total = self.sending.file.as_ref().map(|f| f.total);
        // Only for the file going now, and only to a connection it goes to (a file cancelled
        // earlier left its connections' count behind).
        let goes_here = match &self.sending.file_to {
            Some(Target::AllConns) => true,
            Some(Target::Conn(to)) => *to == conn,
            _ => false,
        };
        if let Some(name) = self.sending.file_name.clone().filter(|_| goes_here) {
            let note = Note::say(
                S::EvFileCutFor,
                [
                    arg(name),
                    arg(written),
                    arg(total.map_or_else(|| "?".to_owned(), |t| t.to_string())),
                    arg(peer),
                ],
            )
            .named("file-cut");
            self.log.push_note(
                now,
                RecordKind::Error,
                Some(conn),
                Some(peer),
                Arc::new(note),
            );
        }
    }

    fn apply_stopped(&mut self, now: SystemTime) {
        match self.link {
            // Stopped while connecting: the user gave the connect up.
            LinkState::Connecting(remote) | LinkState::Reconnecting { remote, .. } => {
                let note = Note::say(S::ConnectCancelled, [arg(remote)]);
                self.info(now, None, Some(remote), note);
            }
            LinkState::Listening(local) if self.mode.caps().datagrams => {
                let note = Note::say(S::EvUdpClosed, [arg(local)]);
                self.info(now, None, None, note);
            }
            _ => {}
        }
        self.link = LinkState::Idle;
        let left: Vec<ConnId> = self.clients.keys().copied().collect();
        for conn in left {
            self.depart(conn);
        }
        self.groups.clear();
        self.sending.scheduled = None;
        self.sending.file = None;
        self.stopped = true;
    }

    /// Where the inline rule test starts so that it answers as the running session would now
    /// (docs/FEATURES.md: "the exact reply bytes"): the live tables; the state of `peer` (a
    /// connection without one of its own has the start state), or with no peer given the
    /// session's, else the newest connection's; and the next `{{counter}}` of `vars` (the
    /// session's send variables). Nothing running: the rules' start values and the form's
    /// counter.
    pub fn rules_start(
        &self,
        peer: Option<SocketAddr>,
        vars: &crate::codec::payload::VarState,
    ) -> crate::rules::Start {
        let session = self.rule_states.iter().find(|(s, _)| s.is_none());
        let state = match peer {
            Some(p) => self
                .rule_states
                .iter()
                .find(|(s, _)| *s == Some(p))
                .or(session),
            None => session.or_else(|| self.rule_states.last()),
        }
        .map(|(_, state)| state.clone());
        crate::rules::Start {
            tables: (!self.rule_tables.is_empty()).then(|| self.rule_tables.clone()),
            state,
            counter: Some((vars.counter, vars.step)),
        }
    }

    /// Keeps the certificate a TLS client refused, for the window to offer to pin it.
    fn keep_refused(&mut self, error: &crate::engine::EngineError) {
        if let crate::engine::EngineError::Tls { problem, .. } = error
            && let Some(cert) = problem.presented()
        {
            self.tls_refused = Some(cert.clone());
        }
    }

    /// Counts sends a full queue refused (the first one alone, the rest as running counts).
    fn count_refused_sends(&mut self, error: &crate::engine::EngineError) {
        match *error {
            crate::engine::EngineError::SendQueueFull { dropped, .. } => {
                self.counters.refused_sends += 1;
                self.counters.refused_bytes += dropped as u64;
            }
            crate::engine::EngineError::SendsRefused {
                new_sends,
                new_bytes,
                ..
            } => {
                self.counters.refused_sends += new_sends;
                self.counters.refused_bytes += new_bytes;
            }
            _ => {}
        }
    }

    fn apply_relay(&mut self, now: SystemTime, event: &Event) {
        match *event {
            Event::RelayPair {
                pair,
                client,
                client_addr,
                upstream,
                upstream_addr,
            } => {
                self.seen_conn(upstream);
                if let Some(client) = client {
                    self.seen_conn(client);
                }
                self.relay_upstreams.insert(upstream, client_addr);
                self.log.relay_upstream(upstream_addr);
                self.locals.initiated.insert(upstream);
                let note = Note::say(
                    S::EvRelayPair,
                    [arg(pair), arg(client_addr), arg(upstream_addr)],
                );
                self.info(now, client, Some(client_addr), note);
            }
            Event::RelayCut {
                pair,
                client_addr,
                forwarded: (up, down),
                cut,
                ended_by,
                undelivered: (lost_up, lost_down),
            } => {
                use crate::engine::RelayEnd;
                let (what, kind) = if cut {
                    (S::EvRelayCut, RecordKind::Error)
                } else {
                    (S::EvRelayEnded, RecordKind::Info)
                };
                let lost_any = lost_up + lost_down > 0;
                // An upstream that refused before the client sent anything lost nothing: the
                // refusal is said on its own line, the pair ends as any other.
                let ended_by = ended_by.filter(|e| *e != RelayEnd::UpstreamFailed || lost_any);
                let note = match ended_by {
                    // A reset ends the pair at once: what the side that reset sent and still
                    // waited is said (never lost silently).
                    Some(side) => {
                        let (what, lost) = match side {
                            RelayEnd::ClientReset => (S::EvRelayEndedClientReset, lost_up),
                            RelayEnd::UpstreamReset => (S::EvRelayEndedUpstreamReset, lost_down),
                            RelayEnd::UpstreamFailed => (S::EvRelayNotRelayed, lost_up),
                        };
                        Note::say(
                            what,
                            [arg(pair), arg(client_addr), arg(lost), arg(up), arg(down)],
                        )
                    }
                    None => Note::say(what, [arg(pair), arg(client_addr), arg(up), arg(down)]),
                };
                let kind = if ended_by.is_some() || lost_any {
                    RecordKind::Error
                } else {
                    kind
                };
                self.log.push_note(now, kind, None, Some(client_addr), note);
                if ended_by.is_none() && lost_any {
                    let note = Note::say(
                        S::EvRelayUndelivered,
                        [arg(pair), arg(lost_up), arg(lost_down)],
                    );
                    self.log
                        .push_note(now, RecordKind::Error, None, Some(client_addr), note);
                }
            }
            Event::RelayDropped {
                client_addr,
                to_upstream,
                len,
                ref head,
                full,
            } => {
                let way = usize::from(!to_upstream);
                if let Some(count) = self.counters.relay_dropped.get_mut(way) {
                    *count += 1;
                }
                let count = self.counters.relay_dropped.get(way).copied().unwrap_or(0);
                let mut preview = crate::codec::escape::format(head);
                if head.len() < len {
                    preview.push('…');
                }
                // One sentence each (a note is worded when shown, in the window's language).
                let what = match (to_upstream, full) {
                    (true, false) => S::EvRelayDroppedUp,
                    (true, true) => S::EvRelayDroppedUpFull,
                    (false, false) => S::EvRelayDroppedDown,
                    (false, true) => S::EvRelayDroppedDownFull,
                };
                let note = Note::say(what, [arg(len), arg(preview), arg(count)]);
                self.log
                    .push_note(now, RecordKind::Error, None, Some(client_addr), note);
            }
            _ => {}
        }
    }

    fn apply_listening(&mut self, now: SystemTime, local: SocketAddr) {
        self.link = LinkState::Listening(local);
        if self.mode.caps().datagrams {
            // From the record that says so on.
            self.locals.udp.push((self.log.next_seq(), local));
        }
        self.last_error = None;
        let what = if self.mode.caps().datagrams {
            S::EvBound
        } else {
            S::EvListening
        };
        self.info(now, None, None, Note::say(what, [arg(local)]));
        if crate::engine::firewall::first_question(local) {
            self.info(now, None, None, Note::say(S::EvFirewall, []));
        }
    }

    /// A WebSocket's upgrade (what was asked for and agreed), ping or pong, said.
    fn apply_ws(&mut self, now: SystemTime, event: Event) {
        let (conn, peer, note) = match event {
            Event::WsControl {
                conn,
                peer,
                ping,
                payload,
            } => {
                let what = if ping { S::EvWsPing } else { S::EvWsPong };
                let shown = crate::codec::hex::format(&payload);
                (conn, peer, Note::say(what, [arg(peer), arg(shown)]))
            }
            Event::Upgraded {
                conn,
                peer,
                upgrade,
            } => {
                let what = if upgrade.server {
                    S::EvWsUpgradedServer
                } else {
                    S::EvWsUpgradedClient
                };
                (conn, peer, Note::say(what, [arg(peer), arg(*upgrade)]))
            }
            _ => return,
        };
        self.info(now, Some(conn), Some(peer), note);
    }

    fn apply_secured(
        &mut self,
        now: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        info: crate::engine::TlsInfo,
    ) {
        let kind = if info.unverified {
            RecordKind::Error
        } else {
            RecordKind::Info
        };
        let note = Note::say(S::EvSecured, [arg(peer), arg(info.to_string())]);
        self.log.push_note(now, kind, Some(conn), Some(peer), note);
        if info.chain.is_empty() {
            self.info(now, Some(conn), Some(peer), Note::say(S::EvNoPeerCert, []));
        }
        for (n, cert) in info.chain.iter().enumerate() {
            let note = Note::say(
                S::EvPeerCert,
                [
                    arg(n + 1),
                    arg(cert.subject.clone()),
                    arg(cert.issuer.clone()),
                    arg(cert.not_before.clone()),
                    arg(cert.not_after.clone()),
                    arg(cert.sha256.clone()),
                ],
            );
            self.info(now, Some(conn), Some(peer), note);
        }
        self.secured.insert(conn, Arc::new(info));
    }

    /// A connection ended: its counters and chart go to [`departed`](Self::departed).
    fn depart(&mut self, conn: ConnId) {
        if let Some(client) = self.clients.remove(&conn) {
            if self.departed.len() >= DEPARTED {
                self.departed.pop_front();
            }
            self.departed.push_back((conn, client));
        }
    }

    fn apply_closed(
        &mut self,
        now: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        reason: CloseReason,
    ) {
        self.seen_conn(conn);
        self.depart(conn);
        // A reset or an error stands out from an orderly close.
        let kind = match reason {
            CloseReason::PeerClosed
            | CloseReason::LocalClose
            | CloseReason::WsClosed {
                code: 1000 | 1001 | 1005,
                ..
            } => RecordKind::Info,
            CloseReason::Reset | CloseReason::Error(_) | CloseReason::WsClosed { .. } => {
                RecordKind::Error
            }
        };
        let what = if self.mode.caps().connects {
            S::EvDisconnected
        } else {
            S::EvLeft
        };
        let name = match &reason {
            CloseReason::PeerClosed => "closed",
            CloseReason::LocalClose => "closed-here",
            CloseReason::Reset => "reset",
            CloseReason::Error(_) => "error",
            CloseReason::WsClosed { .. } => "ws-closed",
        };
        // A TLS client refused after its side of the handshake was done (TLS 1.3: the
        // server wants a client certificate) failed to connect, as at any other TLS failure.
        let tls_failed = matches!(
            reason,
            CloseReason::Error(crate::engine::EngineError::Tls { .. })
        );
        let note = Note::say(what, [arg(peer), arg(reason)]).named(name);
        let said = self.end_receiving(now, conn, peer, note, kind);
        if self.mode.caps().connects {
            self.link = LinkState::Idle;
            if tls_failed {
                self.last_error = Some(said);
            }
        }
    }

    fn apply_reconnecting(
        &mut self,
        now: SystemTime,
        remote: SocketAddr,
        after: std::time::Duration,
        attempt: u32,
        max: u32,
    ) {
        self.link = LinkState::Reconnecting {
            remote,
            at: now + after,
            attempt,
            max,
        };
        let seconds = format!("{:.1}", after.as_secs_f64());
        let which = try_text(attempt, max);
        let note = Note::say(S::EvReconnecting, [arg(remote), arg(seconds), arg(which)]);
        self.info(now, None, Some(remote), note);
    }

    /// Adds a message about the session.
    fn info(&mut self, at: SystemTime, conn: Option<ConnId>, peer: Option<SocketAddr>, note: Note) {
        self.log.push_note(at, RecordKind::Info, conn, peer, note);
    }

    fn apply_connected(
        &mut self,
        now: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        local: SocketAddr,
    ) {
        self.seen_conn(conn);
        self.locals.conns.insert(conn, local);
        if self.mode.caps().connects {
            self.locals.initiated.insert(conn);
        }
        if self.mode.caps().connects {
            self.link = LinkState::Connected { peer, local };
            self.last_error = None;
        }
        let tls = self.secured.remove(&conn);
        self.clients.insert(
            conn,
            Client {
                peer,
                local,
                since: now,
                tls,
                ..Client::fresh()
            },
        );
        let note = if self.mode.caps().connects {
            Note::say(S::EvConnected, [arg(peer), arg(local)])
        } else {
            Note::say(S::EvClientConnected, [arg(peer)])
        };
        self.info(now, Some(conn), Some(peer), note);
    }

    fn apply_schedule(&mut self, sent: u64, finished: bool) {
        if finished {
            self.sending.scheduled = None;
            self.sending.scheduled_last = sent;
        } else {
            self.sending.scheduled = Some(sent);
        }
    }

    /// A file send's progress. Its bytes count as sent — for the session and for each client
    /// or peer it goes to, with the rate and the chart — and the whole file as one message.
    fn apply_file(&mut self, now: SystemTime, to: &Target, progress: (u64, u64), finished: bool) {
        let (sent, total) = progress;
        self.sending.file_to = (!finished).then(|| to.clone());
        let before = self.sending.file.as_ref().map_or(0, |f| f.sent);
        let n = sent.saturating_sub(before);
        let message = u64::from(finished && sent > 0);
        let clients: Vec<ConnId> = match to {
            Target::Conn(conn) => vec![*conn],
            Target::AllConns => self.clients.keys().copied().collect(),
            Target::Addr(_) => Vec::new(),
        };
        // Sent to every client, the file went out once to each.
        let copies = clients.len().max(1) as u64;
        self.counters.tx_bytes += n * copies;
        self.counters.tx_messages += message * copies;
        self.counters.tx_rate.add(now, n * copies);
        self.counters.history.add(now, 0, n * copies);
        for conn in clients {
            if let Some(client) = self.clients.get_mut(&conn) {
                client.tx_bytes += n;
                client.tx_messages += message;
                client.tx_rate.add(now, n);
                client.history.add(now, 0, n);
            }
        }
        if let Target::Addr(addr) = to
            && let Some(peer) = self.peers.get_mut(addr)
        {
            peer.tx_bytes += n;
        }
        if finished {
            let name = self.sending.file_name.take().unwrap_or_default();
            self.sending.file = None;
            if sent == total {
                let note = self.file_sent_note(name, to, sent);
                self.info(now, None, None, note);
            } else {
                // A file that stopped short is a failure of the transfer, said as one.
                let note = Note::say(S::EvFileStopped, [arg(name), arg(sent), arg(total)]);
                self.log.push_note(now, RecordKind::Error, None, None, note);
            }
        } else {
            let since = self.sending.file.as_ref().map_or(now, |f| f.since);
            self.sending.file = Some(FileProgress {
                sent,
                total,
                since,
                at: now,
            });
        }
    }

    /// "File x sent to 127.0.0.1:5000: 3000000 bytes", or to "3 clients (… bytes each)":
    /// the line said neither whom nor how many.
    fn file_sent_note(&self, name: String, to: &Target, sent: u64) -> Note {
        let peers: Vec<SocketAddr> = match to {
            Target::Conn(conn) => self.clients.get(conn).map(|c| c.peer).into_iter().collect(),
            Target::AllConns => self.clients.values().map(|c| c.peer).collect(),
            Target::Addr(addr) => vec![*addr],
        };
        match peers.as_slice() {
            [] => Note::say(S::EvFileSent, [arg(name), arg(sent)]),
            [one] => Note::say(S::EvFileSentTo, [arg(name), arg(*one), arg(sent)]),
            many => {
                let whom = Note::say(S::FileToClients, [arg(many.len()), arg(sent)]);
                let total = sent * many.len() as u64;
                Note::say(S::EvFileSentTo, [arg(name), arg(whom), arg(total)])
            }
        }
    }

    /// A connection's receive stream ended (closed, or the peer finished sending): says so in
    /// the log with `note` (a character that never completed shows in the last read's row).
    fn end_receiving(
        &mut self,
        now: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        note: Note,
        kind: RecordKind,
    ) -> Arc<Note> {
        self.log.end_stream(conn);
        self.raw.end_stream(conn);
        let note = Arc::new(note);
        self.log
            .push_note(now, kind, Some(conn), Some(peer), Arc::clone(&note));
        note
    }

    /// Whole frames of one read: they count as messages — their bytes were counted with the
    /// raw read — and go to the log as one run. Frames cut in place come in their read's
    /// buffer, which is that raw read too: counted and recorded first, as its own event is.
    fn apply_frames(&mut self, frames: Frames) -> Option<Vec<u8>> {
        let n = frames.lens.len() as u64;
        let Frames {
            conn,
            peer,
            at,
            mut bytes,
            lens,
            header,
            in_read,
        } = frames;
        let from = in_read.unwrap_or(0);
        if in_read.is_some() {
            let keeps = self.keeps_raw_reads();
            let read = Data {
                conn: Some(conn),
                peer,
                dir: Direction::Rx,
                at,
                // Kept as a raw read too (shown, or recorded from the record): a copy.
                bytes: if keeps {
                    bytes.clone()
                } else {
                    std::mem::take(&mut bytes)
                },
                kind: DataKind::RawRead,
            };
            let back = self.apply_data(read);
            if !keeps && let Some(back) = back {
                bytes = back;
            }
            bytes.truncate(from + lens.iter().sum::<usize>());
        }
        self.counters.rx_messages += n;
        if let Some(client) = self.clients.get_mut(&conn) {
            client.rx_messages += n;
        }
        self.log
            .push_frames_in(at, conn, peer, bytes, from, &lens, header)
    }

    /// Raw reads are stored (shown beside the frames, or recorded as text from their
    /// record), not only counted (and recorded as bytes).
    fn keeps_raw_reads(&self) -> bool {
        self.keep_raw
            || self
                .recorder
                .as_ref()
                .is_some_and(|file| file.format != RecordFormat::Raw)
    }

    /// Counts, stores and records bytes that went one way; returns their buffer unless the
    /// log kept it.
    /// Relay: bytes written to one side of a pair count as sent, for the session and for that
    /// side (a client, the upstream connection, or a UDP peer), as a write each.
    fn apply_forwarded(&mut self, at: SystemTime, conn: Option<ConnId>, peer: SocketAddr, n: u64) {
        self.counters.tx_bytes += n;
        self.counters.tx_messages += 1;
        self.counters.tx_rate.add(at, n);
        self.counters.history.add(at, 0, n);
        if let Some(client) = conn.and_then(|c| self.clients.get_mut(&c)) {
            client.tx_bytes += n;
            client.tx_messages += 1;
            client.tx_rate.add(at, n);
            client.history.add(at, 0, n);
        }
        if conn.is_none()
            && let Some(peer) = self.peers.get_mut(&peer)
        {
            peer.tx_bytes += n;
        }
    }

    fn apply_data(&mut self, data: Data) -> Option<Vec<u8>> {
        let n = data.bytes.len() as u64;
        // With framing, bytes are counted as read and messages as framed.
        let bytes_in = if data.kind.counts_bytes() { n } else { 0 };
        let messages_in = u64::from(data.kind.counts_message());
        let at = data.at;
        match data.dir {
            Direction::Rx => {
                self.counters.rx_bytes += bytes_in;
                self.counters.rx_messages += messages_in;
                self.counters.rx_rate.add(at, bytes_in);
                self.counters.history.add(at, bytes_in, 0);
            }
            Direction::Tx => {
                self.counters.tx_bytes += n;
                self.counters.tx_messages += 1;
                self.counters.tx_rate.add(at, n);
                self.counters.history.add(at, 0, n);
            }
        }
        if let Some(client) = data.conn.and_then(|c| self.clients.get_mut(&c)) {
            match data.dir {
                Direction::Rx => {
                    client.rx_bytes += bytes_in;
                    client.rx_messages += messages_in;
                    client.rx_rate.add(at, bytes_in);
                    client.history.add(at, bytes_in, 0);
                }
                Direction::Tx => {
                    client.tx_bytes += n;
                    client.tx_messages += 1;
                    client.tx_rate.add(at, n);
                    client.history.add(at, 0, n);
                }
            }
        }
        if data.conn.is_none() {
            let peer = self.peers.entry(data.peer).or_insert(Peer {
                last_seen: data.at,
                last_rx: None,
                rx_bytes: 0,
                tx_bytes: 0,
                rx_datagrams: 0,
            });
            peer.last_seen = data.at;
            match data.dir {
                Direction::Rx => {
                    peer.rx_bytes += n;
                    peer.rx_datagrams += 1;
                    peer.last_rx = Some(data.at);
                }
                Direction::Tx => peer.tx_bytes += n,
            }
            self.bound_peers();
        }
        // What is recorded: each read (raw reads when framing is on, else the messages, which
        // then are the reads) — so the file holds every received byte exactly once.
        let recorded = data.dir == Direction::Rx && data.kind.counts_bytes();
        let from_raw = data.kind == DataKind::RawRead;
        if from_raw && !self.keeps_raw_reads() {
            // Raw recording needs only the bytes; a text log needs the decoded record.
            if let Some(file) = &mut self.recorder
                && let Err(e) = file.write_bytes(&data.bytes)
            {
                self.stop_recorder_on(&e);
            }
            return Some(data.bytes);
        }
        let store = if from_raw {
            &mut self.raw
        } else {
            &mut self.log
        };
        let partial = data.kind == DataKind::Partial;
        let ws = data.kind.ws();
        let spent = store.push_data_owned(data.at, data.dir, data.conn, data.peer, data.bytes);
        if partial {
            store.mark_last_partial();
        }
        if let Some(ws) = ws {
            store.mark_last_ws(ws);
        }
        if recorded {
            self.record_last(from_raw);
        }
        spent
    }

    /// Writes the newest record of the log (or of the raw store) to the recording file.
    fn record_last(&mut self, from_raw: bool) {
        let Some(recorder) = &mut self.recorder else {
            return;
        };
        let store = if from_raw { &self.raw } else { &self.log };
        let Some(record) = store.iter().next_back() else {
            return;
        };
        if let Err(e) = recorder.write(&record) {
            self.stop_recorder_on(&e);
        }
    }

    /// Drops the recorder after a write failed, saying so in the log.
    fn stop_recorder_on(&mut self, e: &std::io::Error) {
        if let Some(recorder) = self.recorder.take() {
            let note = Note::say(
                S::RecordingStopped,
                [arg(recorder.path.display().to_string()), arg(e.to_string())],
            );
            self.log
                .push_note(SystemTime::now(), RecordKind::Error, None, None, note);
        }
    }

    /// Writes out what the recording holds; a failure stops it and says so in the log.
    pub fn flush_recorder(&mut self) {
        if let Some(recorder) = &mut self.recorder
            && let Err(e) = recorder.flush()
        {
            self.stop_recorder_on(&e);
        }
    }

    /// Starts recording every received byte to `path`.
    pub fn start_recording(&mut self, path: PathBuf, format: RecordFormat) -> std::io::Result<()> {
        self.stop_recording();
        self.recorder = Some(Recorder::create(path, format)?);
        Ok(())
    }

    /// Stops recording; returns where and how many bytes went there.
    pub fn stop_recording(&mut self) -> Option<(PathBuf, u64)> {
        let mut recorder = self.recorder.take()?;
        let flushed = recorder.flush();
        let now = SystemTime::now();
        let path = recorder.path.display().to_string();
        let note = match flushed {
            Ok(()) => Note::say(S::EvRecorded, [arg(recorder.bytes), arg(path)]),
            Err(e) => Note::say(S::EvRecordFailedAtEnd, [arg(path), arg(e.to_string())]),
        };
        self.info(now, None, None, note);
        Some((recorder.path, recorder.bytes))
    }

    /// Zeroes the session's counters and every client's and peer's; returns what was zeroed,
    /// for [`undo_reset`](Self::undo_reset).
    pub fn reset_counters(&mut self) -> ZeroedCounters {
        let zeroed = ZeroedCounters {
            counters: std::mem::take(&mut self.counters),
            clients: self.clients.clone(),
            peers: self.peers.clone(),
        };
        for client in self.clients.values_mut() {
            let (peer, local, since) = (client.peer, client.local, client.since);
            *client = Client {
                peer,
                local,
                since,
                ..Client::fresh()
            };
        }
        for peer in self.peers.values_mut() {
            *peer = Peer {
                last_seen: peer.last_seen,
                last_rx: peer.last_rx,
                rx_bytes: 0,
                tx_bytes: 0,
                rx_datagrams: 0,
            };
        }
        zeroed
    }

    /// Puts back what a reset zeroed, added to what was counted since (clients and peers
    /// that are gone stay gone).
    pub fn undo_reset(&mut self, zeroed: ZeroedCounters) {
        let (old, now) = (zeroed.counters, &mut self.counters);
        now.rx_bytes += old.rx_bytes;
        now.tx_bytes += old.tx_bytes;
        now.rx_messages += old.rx_messages;
        now.tx_messages += old.tx_messages;
        now.dropped_datagrams += old.dropped_datagrams;
        now.relay_dropped[0] += old.relay_dropped[0];
        now.relay_dropped[1] += old.relay_dropped[1];
        now.dropped_bytes += old.dropped_bytes;
        now.history.merge(&old.history);
        for (id, old) in zeroed.clients {
            if let Some(now) = self.clients.get_mut(&id) {
                now.rx_bytes += old.rx_bytes;
                now.tx_bytes += old.tx_bytes;
                now.rx_messages += old.rx_messages;
                now.tx_messages += old.tx_messages;
                now.history.merge(&old.history);
            }
        }
        for (addr, old) in zeroed.peers {
            if let Some(now) = self.peers.get_mut(&addr) {
                now.rx_bytes += old.rx_bytes;
                now.tx_bytes += old.tx_bytes;
                now.rx_datagrams += old.rx_datagrams;
            }
        }
    }

    /// The first connection id a new engine of this session may use (see `next_conn`).
    pub fn next_conn_id(&self) -> ConnId {
        ConnId(self.next_conn.max(1))
    }

    fn seen_conn(&mut self, conn: ConnId) {
        self.next_conn = self.next_conn.max(conn.0 + 1);
    }

    /// Prepares for a new session of `mode`: the log stays, the tables start empty.
    pub fn begin(&mut self, mode: Mode) {
        self.mode = mode;
        self.log.set_relay(mode.caps().relays);
        self.clients.clear();
        self.last_error = None;
        self.tls_refused = None;
        self.stopped = false;
        self.peers.clear();
        self.forgotten_peers = 0;
        self.rule_hits.clear();
        self.rule_states.clear();
        self.rule_tables.clear();
    }

    /// The UDP peer that sent the latest datagram, if any.
    pub fn latest_sender(&self) -> Option<SocketAddr> {
        self.peers
            .iter()
            .filter_map(|(addr, p)| p.last_rx.map(|at| (at, *addr)))
            .max()
            .map(|(_, addr)| addr)
    }

    /// Empties the log (and the raw reads), and forgets the UDP peers seen.
    pub fn clear(&mut self) {
        self.log.clear();
        self.raw.clear();
        self.peers.clear();
        self.forgotten_peers = 0;
    }

    /// Forgets the peers quiet longest once the table holds a batch more than [`MAX_PEERS`].
    fn bound_peers(&mut self) {
        if self.peers.len() <= MAX_PEERS + MAX_PEERS / 8 {
            return;
        }
        let mut ages: Vec<(SystemTime, SocketAddr)> =
            self.peers.iter().map(|(a, p)| (p.last_seen, *a)).collect();
        let excess = ages.len() - MAX_PEERS;
        ages.select_nth_unstable(excess - 1);
        for (_, addr) in ages.iter().take(excess) {
            self.peers.remove(addr);
        }
        self.forgotten_peers += excess as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::CloseReason;

    /// Whole frames of one read on connection 1 from `peer`, back to back in `bytes`.
    fn frames_from(peer: SocketAddr, bytes: &[u8], lens: Vec<usize>) -> Event {
        Event::Frames(crate::engine::Frames {
            conn: ConnId(1),
            peer,
            at: SystemTime::now(),
            bytes: bytes.to_vec(),
            lens,
            header: 0,
            in_read: None,
        })
    }

    /// Bytes received on connection 1 from `peer`, now.
    fn rx_from(peer: SocketAddr, bytes: &[u8], kind: DataKind) -> Event {
        Event::Data(Data {
            conn: Some(ConnId(1)),
            peer,
            dir: Direction::Rx,
            at: SystemTime::now(),
            bytes: bytes.to_vec(),
            kind,
        })
    }

    /// The text of the log's last record, in English.
    fn last_text(cap: &Capture) -> String {
        crate::i18n::set_lang(crate::i18n::Lang::En);
        cap.log
            .iter()
            .last()
            .map(|r| r.text().into_owned())
            .unwrap_or_default()
    }

    #[test]
    fn closing_udp_says_so_a_reset_is_an_error_and_a_sent_file_is_named() {
        let mut cap = Capture::default();
        cap.begin(Mode::Udp);
        let local: SocketAddr = "0.0.0.0:9001".parse().unwrap();
        cap.apply(Event::Listening { local });
        cap.apply(Event::Stopped);
        assert_eq!(last_text(&cap), "UDP socket 0.0.0.0:9001 closed");

        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        cap.apply(Event::Connected {
            conn: ConnId(1),
            peer,
            local,
        });
        cap.apply(Event::Closed {
            conn: ConnId(1),
            peer,
            reason: CloseReason::PeerClosed,
        });
        assert_eq!(cap.log.iter().last().unwrap().kind, RecordKind::Info);
        cap.apply(Event::Connected {
            conn: ConnId(2),
            peer,
            local,
        });
        cap.apply(Event::Closed {
            conn: ConnId(2),
            peer,
            reason: CloseReason::Reset,
        });
        assert_eq!(
            cap.log.iter().last().unwrap().kind,
            RecordKind::Error,
            "a reset stands out"
        );

        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        cap.sending.file_name = Some("fw.bin".into());
        cap.apply(Event::FileProgress {
            to: Target::AllConns,
            sent: 10,
            total: 10,
            finished: true,
        });
        assert_eq!(last_text(&cap), "File fw.bin sent: 10 bytes");
    }

    #[test]
    fn a_sent_file_says_to_whom_and_to_how_many() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        for n in 1..=3 {
            cap.apply(Event::Connected {
                conn: ConnId(n),
                peer: SocketAddr::from(([127, 0, 0, 1], 40000 + n as u16)),
                local,
            });
        }
        let send = |cap: &mut Capture, to: Target| {
            cap.sending.file_name = Some("f.bin".into());
            cap.apply(Event::FileProgress {
                to,
                sent: 10,
                total: 10,
                finished: true,
            });
            last_text(cap)
        };
        assert_eq!(
            send(&mut cap, Target::AllConns),
            "File f.bin sent to 3 clients (10 bytes each): 30 bytes"
        );
        assert_eq!(
            send(&mut cap, Target::Conn(ConnId(2))),
            "File f.bin sent to 127.0.0.1:40002: 10 bytes"
        );
        let udp: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            send(&mut cap, Target::Addr(udp)),
            "File f.bin sent to 127.0.0.1:5000: 10 bytes"
        );
        // The same event for --json as before.
        let last = cap.log.iter().last().unwrap();
        assert_eq!(last.event(), Some("file-sent"));
    }

    #[test]
    fn the_rate_chart_spans_back_to_the_first_traffic_between_30_s_and_10_min() {
        let now = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let ago = |s: u64| now - std::time::Duration::from_secs(s);
        let mut history = RateHistory::default();
        assert_eq!(history.span(now), 30, "nothing yet");
        history.add(ago(20), 5, 0);
        assert_eq!(
            history.span(now),
            30,
            "20 s of traffic in the shortest span"
        );
        history.add(ago(10), 5, 0);
        let mut long = RateHistory::default();
        long.add(ago(100), 1, 0);
        long.add(ago(1), 1, 0);
        assert_eq!(long.span(now), 101);
        // Traffic for a quarter of an hour: the last ten minutes are kept and shown.
        let mut old = RateHistory::default();
        for s in (1..=900).rev().step_by(100) {
            old.add(ago(s), 1, 0);
        }
        old.add(ago(1), 1, 0);
        assert_eq!(old.span(now), RateHistory::KEEP);
    }

    #[test]
    fn a_client_that_left_keeps_its_counters_and_chart() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        cap.apply(Event::Connected {
            conn: ConnId(3),
            peer,
            local,
        });
        cap.clients
            .get_mut(&ConnId(3))
            .unwrap()
            .history
            .add(SystemTime::now(), 42, 0);
        cap.apply(Event::Closed {
            conn: ConnId(3),
            peer,
            reason: CloseReason::PeerClosed,
        });
        assert!(cap.clients.is_empty());
        let (id, client) = cap.departed.back().unwrap();
        assert_eq!((*id, client.peer), (ConnId(3), peer));
        assert!(client.history.span(SystemTime::now()) >= RateHistory::MIN_SPAN);
    }

    #[test]
    fn a_refused_connect_ends_the_connecting_state() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        let remote: SocketAddr = "127.0.0.1:9".parse().unwrap();
        cap.apply(Event::Connecting { remote });
        assert_eq!(cap.link, LinkState::Connecting(remote));
        cap.apply(Event::Error(crate::engine::EngineError::Connect {
            addr: remote,
            source: std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        }));
        assert_eq!(cap.link, LinkState::Idle);
        assert!(cap.last_error.is_some());
    }

    #[test]
    fn server_status_counts_clients_as_they_come_and_go() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let local: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        cap.apply(Event::Listening { local });
        cap.apply(Event::Connected {
            conn: ConnId(1),
            peer,
            local,
        });
        cap.apply(Event::Connected {
            conn: ConnId(2),
            peer,
            local,
        });
        assert_eq!(cap.clients.len(), 2);
        cap.apply(Event::Closed {
            conn: ConnId(1),
            peer,
            reason: CloseReason::Reset,
        });
        assert_eq!(cap.clients.len(), 1);
        let last = cap.log.iter().last().unwrap();
        assert_eq!(
            last.text(),
            "127.0.0.1:40000 left: connection reset by peer"
        );
    }

    #[test]
    fn with_framing_bytes_count_as_read_and_messages_as_framed() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        cap.keep_raw = true;
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let data = |bytes: &[u8], kind| rx_from(peer, bytes, kind);
        cap.apply(data(b"OK\r\nER", DataKind::RawRead));
        cap.apply(data(b"OK", DataKind::Frame));
        cap.apply(data(b"R\r\n", DataKind::RawRead));
        cap.apply(data(b"ERR", DataKind::Partial));
        assert_eq!((cap.counters.rx_bytes, cap.counters.rx_messages), (9, 2));
        assert_eq!((cap.log.len(), cap.raw.len()), (2, 2));
    }

    #[test]
    fn a_peer_that_finished_sending_stays_listed_as_half_closed() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let (peer, local): (SocketAddr, SocketAddr) = (
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:9000".parse().unwrap(),
        );
        cap.apply(Event::Connected {
            conn: ConnId(1),
            peer,
            local,
        });
        cap.apply(Event::PeerFinished {
            conn: ConnId(1),
            peer,
        });
        assert!(cap.clients[&ConnId(1)].half_closed);
        let last = cap.log.iter().last().unwrap();
        assert!(last.text().contains("half-closed"), "{}", last.text());
    }

    #[test]
    fn frames_of_one_read_become_one_record_each() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        cap.apply(frames_from(peer, b"OKERR\x00", vec![2, 3, 0, 1]));
        let texts: Vec<&[u8]> = cap.log.iter().map(|r| r.bytes).collect();
        assert_eq!(texts, [&b"OK"[..], b"ERR", b"", b"\x00"]);
        assert_eq!(cap.counters.rx_messages, 4);
        assert_eq!(cap.counters.rx_bytes, 0, "bytes are counted from raw reads");
    }

    #[test]
    fn a_character_split_between_two_reads_of_frames_shows_whole() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        cap.log.set_encoding(crate::codec::TextEncoding::GBK);
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let gbk = crate::codec::TextEncoding::GBK.encode("温度").unwrap();
        // Fixed 3-byte frames: the first ends inside 度, the second holds the rest.
        for (bytes, lens) in [(&gbk[..3], vec![3]), (&gbk[3..], vec![1])] {
            cap.apply(frames_from(peer, bytes, lens));
        }
        let texts: Vec<String> = cap.log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(texts, ["温", "度"]);
        assert_eq!(cap.clients.len(), 0);
        assert_eq!(cap.counters.rx_messages, 2);
    }

    #[test]
    fn raw_reads_not_shown_are_counted_and_recorded_but_not_stored() {
        let dir_dir = tempfile::tempdir().unwrap();
        let dir = dir_dir
            .path()
            .join(format!("sockscope-keep-raw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rx.bin");
        let mut cap = Capture::default();
        cap.begin(Mode::TcpClient);
        assert!(!cap.keep_raw, "off unless the view asks");
        cap.start_recording(path.clone(), RecordFormat::Raw)
            .unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let data = |bytes: &[u8], kind| rx_from(peer, bytes, kind);
        cap.apply(data(b"\xFC\x03OK\r\nER", DataKind::RawRead));
        cap.apply(data(b"OK", DataKind::Frame));
        cap.apply(data(b"R\r\n", DataKind::RawRead));
        cap.apply(data(b"ERR", DataKind::Frame));
        assert_eq!((cap.counters.rx_bytes, cap.counters.rx_messages), (11, 2));
        assert_eq!((cap.log.len(), cap.raw.len()), (2, 0));
        cap.stop_recording();
        assert_eq!(std::fs::read(&path).unwrap(), b"\xFC\x03OK\r\nERR\r\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Frames cut in place in their read's buffer: the read counts, records and shows as a
    /// raw read event does, and only the frames (not the start of the next one) are rows.
    #[test]
    fn frames_cut_in_place_count_record_and_show_their_read() {
        let dir = tempfile::tempdir().unwrap();
        for (format, keep_raw) in [
            (None, false),
            (Some(RecordFormat::Raw), false),
            (Some(RecordFormat::Raw), true),
            (Some(RecordFormat::TextLog), false),
        ] {
            let path = dir.path().join(format!("rx-{format:?}-{keep_raw}"));
            let mut cap = Capture::default();
            cap.begin(Mode::TcpClient);
            cap.keep_raw = keep_raw;
            if let Some(format) = format {
                cap.start_recording(path.clone(), format).unwrap();
            }
            let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
            let in_read = |bytes: &[u8], lens: Vec<usize>| {
                let Event::Frames(mut frames) = frames_from(peer, bytes, lens) else {
                    unreachable!()
                };
                frames.in_read = Some(0);
                Event::Frames(frames)
            };
            cap.apply(in_read(b"OK\r\nERR\r\nWA", vec![4, 5]));
            cap.apply(rx_from(peer, b"IT\r\n", DataKind::RawRead));
            cap.apply(rx_from(peer, b"WAIT\r\n", DataKind::Frame));
            let rows: Vec<&[u8]> = cap.log.iter().map(|r| r.bytes).collect();
            assert_eq!(
                rows,
                [&b"OK\r\n"[..], b"ERR\r\n", b"WAIT\r\n"],
                "{format:?}"
            );
            let counted = (cap.counters.rx_bytes, cap.counters.rx_messages);
            assert_eq!(counted, (15, 3), "{format:?}");
            let raw: Vec<&[u8]> = cap.raw.iter().map(|r| r.bytes).collect();
            let kept = format == Some(RecordFormat::TextLog) || keep_raw;
            let want: &[&[u8]] = if kept {
                &[b"OK\r\nERR\r\nWA", b"IT\r\n"]
            } else {
                &[]
            };
            assert_eq!(raw, want, "{format:?} {keep_raw}");
            cap.stop_recording();
            if format == Some(RecordFormat::Raw) {
                assert_eq!(std::fs::read(&path).unwrap(), b"OK\r\nERR\r\nWAIT\r\n");
            }
        }
    }

    #[test]
    fn the_rate_history_keeps_whole_seconds_with_zeros_between_and_forgets_old_ones() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(s);
        let mut history = RateHistory::default();
        history.add(at(10_100), 5, 0);
        history.add(at(10_900), 5, 1);
        history.add(at(12_500), 0, 7);
        let series = history.series(at(13_200), 4);
        assert_eq!(series, [(-4, 0, 0), (-3, 10, 1), (-2, 0, 0), (-1, 0, 7)]);
        history.add(at(10_000 + 1000 * (RateHistory::KEEP + 20)), 1, 1);
        assert_eq!(
            history.seconds.len(),
            1,
            "ten minutes on, the old seconds are gone"
        );
    }

    #[test]
    fn rate_is_the_last_full_seconds_bytes_and_falls_to_zero() {
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000);
        let ms = |m| t0 + std::time::Duration::from_millis(m);
        let mut rate = Rate::default();
        rate.add(ms(0), 100);
        rate.add(ms(500), 50);
        assert_eq!(rate.per_second(ms(900)), 0, "no full second yet");
        rate.add(ms(1200), 10);
        assert_eq!(rate.per_second(ms(1300)), 150);
        assert_eq!(rate.per_second(ms(2500)), 10, "the window that just ended");
        assert_eq!(rate.per_second(ms(3500)), 0, "quiet for a second");
    }

    #[test]
    fn reset_zeroes_session_and_client_counters_but_keeps_the_clients_and_undo_adds_them_back() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let local: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        cap.apply(Event::Connected {
            conn: ConnId(1),
            peer,
            local,
        });
        let at = SystemTime::now();
        let kind = DataKind::Message;
        cap.apply(Event::Data(Data {
            conn: Some(ConnId(1)),
            peer,
            dir: Direction::Rx,
            at,
            bytes: b"abc".to_vec(),
            kind,
        }));
        let zeroed = cap.reset_counters();
        let client = &cap.clients[&ConnId(1)];
        assert_eq!(
            (client.peer, client.rx_bytes, client.rx_messages),
            (peer, 0, 0)
        );
        assert_eq!(cap.counters.rx_bytes, 0);
        // More arrives, then the reset is undone: the old counts come back, added.
        cap.apply(Event::Data(Data {
            conn: Some(ConnId(1)),
            peer,
            dir: Direction::Rx,
            at,
            bytes: b"de".to_vec(),
            kind,
        }));
        cap.undo_reset(zeroed);
        let client = &cap.clients[&ConnId(1)];
        assert_eq!((client.rx_bytes, client.rx_messages), (5, 2));
        assert_eq!((cap.counters.rx_bytes, cap.counters.rx_messages), (5, 2));
        let second = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let total: u64 = cap
            .counters
            .history
            .series(
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(second + 1),
                5,
            )
            .iter()
            .map(|s| s.1)
            .sum();
        assert_eq!(
            total, 5,
            "the chart has the bytes before and after the reset"
        );
    }

    #[test]
    fn data_counts_per_client_and_in_total() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let local: SocketAddr = "0.0.0.0:9000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        cap.apply(Event::Connected {
            conn: ConnId(1),
            peer,
            local,
        });
        let at = SystemTime::now();
        cap.apply(Event::Data(Data {
            conn: Some(ConnId(1)),
            peer,
            dir: Direction::Rx,
            at,
            bytes: b"hello".to_vec(),
            kind: DataKind::Message,
        }));
        cap.apply(Event::Data(Data {
            conn: Some(ConnId(1)),
            peer,
            dir: Direction::Tx,
            at,
            bytes: b"ok".to_vec(),
            kind: DataKind::Message,
        }));
        let client = cap.clients.get(&ConnId(1)).unwrap();
        assert_eq!((client.rx_bytes, client.tx_bytes), (5, 2));
        assert_eq!((cap.counters.rx_bytes, cap.counters.tx_bytes), (5, 2));
    }

    #[test]
    fn the_udp_peer_table_forgets_the_quietest_beyond_its_bound() {
        let mut cap = Capture::default();
        cap.begin(Mode::Udp);
        let start = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        // A regular sender first, then a scan from 10,000 other sources.
        let regular: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let datagram = |cap: &mut Capture, peer: SocketAddr, secs: u64| {
            cap.apply(Event::Data(Data {
                conn: None,
                peer,
                dir: Direction::Rx,
                at: start + std::time::Duration::from_millis(secs),
                bytes: b"x".to_vec(),
                kind: DataKind::Message,
            }));
        };
        datagram(&mut cap, regular, 0);
        for i in 0..10_000u32 {
            let peer = SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 6000));
            datagram(&mut cap, peer, u64::from(i) + 1);
            if i % 100 == 0 {
                // The regular sender keeps talking.
                datagram(&mut cap, regular, u64::from(i) + 2);
            }
        }
        assert!(
            cap.peers.len() <= MAX_PEERS + MAX_PEERS / 8,
            "{}",
            cap.peers.len()
        );
        assert!(
            cap.peers.contains_key(&regular),
            "one that keeps sending stays"
        );
        let newest = SocketAddr::from(([10, 1, (9_999u32 >> 8) as u8, 9_999u32 as u8], 6000));
        assert!(cap.peers.contains_key(&newest));
        assert_eq!(
            cap.peers.len() as u64 + cap.forgotten_peers,
            10_001,
            "every peer is held or counted as forgotten"
        );
        assert_eq!(
            cap.counters.rx_messages, 10_101,
            "the counters forget nothing"
        );
        cap.clear();
        assert_eq!((cap.peers.len(), cap.forgotten_peers), (0, 0));
    }

    #[test]
    fn a_send_to_a_client_that_left_names_it_by_its_address() {
        let mut cap = Capture::default();
        cap.begin(Mode::TcpServer);
        let local: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.1:51164".parse().unwrap();
        cap.apply(Event::Connected {
            conn: ConnId(12),
            peer,
            local,
        });
        cap.apply(Event::Closed {
            conn: ConnId(12),
            peer,
            reason: CloseReason::PeerClosed,
        });
        cap.apply(Event::Error(crate::engine::EngineError::UnknownConn(
            ConnId(12),
        )));
        let last = cap.log.iter().next_back().unwrap();
        let text = last.text();
        assert!(text.contains("127.0.0.1:51164"), "{text}");
        assert!(!text.contains("#12"), "{text}");
        assert_eq!(last.peer, Some(peer));
    }
}
