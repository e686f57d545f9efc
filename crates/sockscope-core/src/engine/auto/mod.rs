//! The automation stage: everything on the I/O thread that sends without being told each time —
//! cyclic schedules and sequences, file sends, echo, and auto-reply rules (with their delayed
//! replies). It runs once per poll round, so it keeps time
//! while the window is hidden, shows a dialog, or does not exist.

mod file;
mod schedule;

use std::time::{Duration, Instant};

pub use file::{FileSend, Pace};
pub use schedule::Schedule;

use super::outbox::Seen;
use super::{ConnId, EngineError, Event, Target};
use crate::codec::payload::Payload;
use crate::i18n::{S, tf};
use crate::rules::script::{Action, Run};
use crate::rules::{Dest, Machine};

/// How a session answers every message it receives, by itself, on the I/O thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Send each message back to whoever sent it.
    Echo,
    /// Answer each message with these bytes.
    Bytes(Vec<u8>),
}

/// How often progress of timed and file sends is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// A file is read on only while less than this is queued towards its target.
const FILE_LOW_WATER: usize = 256 << 10;

/// What the stage may do to the session's links.
pub(crate) trait Wire {
    /// True if something can be sent to `to` now.
    fn reachable(&self, to: &Target) -> bool;
    /// Bytes still queued towards `to`.
    fn queued_towards(&self, to: &Target) -> usize;
    /// Queues bytes for `to`; `log` says whether the send shows in the log as a record.
    fn send_bytes(&mut self, to: &Target, bytes: Vec<u8>, log: bool);
    /// Queues a piece of a message sent in pieces (a file) for `to`, not logged: WebSocket
    /// sends the pieces as one message, other links as they come.
    fn send_part(&mut self, to: &Target, bytes: Vec<u8>, part: super::link::Part) {
        let _ = part;
        if !bytes.is_empty() {
            self.send_bytes(to, bytes, false);
        }
    }
    /// Queues an answer to a received message for `to`, logged: `binary` (the message was a
    /// WebSocket binary one) makes it a binary message too, whatever its bytes.
    fn send_reply(&mut self, to: &Target, bytes: Vec<u8>, binary: bool) {
        let _ = binary;
        self.send_bytes(to, bytes, true);
    }
    /// Renders `payload` with the session's variables and sends it; false (and an error
    /// emitted) if it could not be rendered.
    fn send_payload(&mut self, to: &Target, payload: &Payload) -> bool;
    /// Adds an event to this round's batch.
    fn emit(&mut self, event: Event);
    /// Closes one TCP connection (a rule said so).
    fn close_conn(&mut self, conn: ConnId);
    /// The first TCP connection from `ip` (and `port`, if given).
    fn conn_from(&self, ip: std::net::IpAddr, port: Option<u16>) -> Option<ConnId>;
    /// Runs `f` with the session's `{{counter}}` and its step.
    fn with_counter(&mut self, f: &mut dyn FnMut(&mut i64, i64));
}

/// A rule's reply waiting for its delay.
struct Delayed {
    at: Instant,
    to: Target,
    bytes: Option<Vec<u8>>,
    /// It answers a WebSocket binary message: it goes as one.
    binary: bool,
    close: Option<ConnId>,
}

/// The sends that run by themselves.
pub(crate) struct Stage {
    reply: Option<Reply>,
    rules: Option<Box<Machine>>,
    /// The rules switched off: their tables, states and counts, for when they come back.
    parked: Option<Box<Machine>>,
    script: Option<(Box<Run>, Target)>,
    /// Delayed replies, soonest first.
    delayed: std::collections::VecDeque<Delayed>,
    schedule: Option<Schedule>,
    schedule_report: Instant,
    file: Option<FileSend>,
    file_report: Instant,
}

impl Default for Stage {
    fn default() -> Self {
        Self {
            reply: None,
            rules: None,
            parked: None,
            script: None,
            delayed: std::collections::VecDeque::new(),
            schedule: None,
            schedule_report: Instant::now(),
            file: None,
            file_report: Instant::now(),
        }
    }
}

impl Stage {
    /// Answers every received message from now on (or stops, with `None`); true if the stage
    /// needs to see received messages.
    pub fn set_reply(&mut self, reply: Option<Reply>) -> bool {
        self.reply = reply;
        self.watching()
    }

    /// Answers received messages by these rules from now on (or stops, with `None`); true if
    /// the stage needs to see received messages. New rules take over the tables, states and
    /// counts of the ones they replace (or of the last ones switched off), as they say.
    pub fn set_rules(&mut self, rules: Option<Box<Machine>>, wire: &mut dyn Wire) -> bool {
        let old = self.rules.take().or_else(|| self.parked.take());
        match rules {
            Some(mut new) => {
                new.take_over(old.as_deref());
                wire.emit(Event::RulesFired(Box::new(new.snapshot())));
                self.rules = Some(new);
            }
            None => {
                self.parked = old;
                self.delayed.clear();
            }
        }
        self.watching()
    }

    /// A connection ended (`how`: here, by the peer, or reset): its rule state goes, and a
    /// script that talks to it fails the step it is on.
    pub fn conn_closed(
        &mut self,
        conn: ConnId,
        peer: Option<std::net::SocketAddr>,
        how: crate::rules::script::Ending,
        wire: &mut dyn Wire,
    ) {
        if let (Some(rules), Some(peer)) = (self.rules.as_mut(), peer)
            && rules.forget(peer)
            && let Some(report) = rules.changes()
        {
            wire.emit(Event::RulesFired(Box::new(report)));
        }
        let Some((run, to)) = self.script.as_mut() else {
            return;
        };
        let lost = match to {
            Target::Conn(c) => *c == conn,
            Target::AllConns => !wire.reachable(to),
            Target::Addr(_) => false,
        };
        if lost {
            let mut actions = Vec::new();
            run.closed(Instant::now(), how, &mut actions);
            self.script_actions(actions, wire);
        }
    }

    /// The session ends: a script still running fails the step it is on.
    pub fn end(&mut self, wire: &mut dyn Wire) {
        self.stop_script(wire);
    }

    /// Runs the next step of a script run one step at a time.
    pub fn step_script(&mut self, wire: &mut dyn Wire) {
        let Some((run, _)) = self.script.as_mut() else {
            return;
        };
        let mut actions = Vec::new();
        wire.with_counter(&mut |counter, step| {
            run.step_on(Instant::now(), counter, step, &mut actions);
        });
        self.script_actions(actions, wire);
    }

    fn watching(&self) -> bool {
        self.reply.is_some() || self.rules.is_some() || self.script.is_some()
    }

    /// Starts a script against `to`; true if the stage needs to see received messages.
    pub fn run_script(&mut self, mut run: Box<Run>, to: Target, wire: &mut dyn Wire) -> bool {
        self.stop_script(wire);
        wire.emit(Event::ScriptStarted {
            name: run.name().to_owned(),
            steps: run.labels(),
        });
        let mut actions = Vec::new();
        wire.with_counter(&mut |counter, step| {
            run.start(Instant::now(), counter, step, &mut actions);
        });
        self.script = Some((run, to));
        self.script_actions(actions, wire);
        self.watching()
    }

    /// The script of the run was edited: the run stops where it is, saying so; true if the
    /// stage still needs to see received messages.
    pub fn script_changed(&mut self, wire: &mut dyn Wire) -> bool {
        if let Some((run, _)) = self.script.as_mut() {
            let mut actions = Vec::new();
            run.changed(Instant::now(), &mut actions);
            self.script_actions(actions, wire);
        }
        self.script = None;
        self.watching()
    }

    /// Stops the running script; true if the stage still needs to see received messages.
    pub fn stop_script(&mut self, wire: &mut dyn Wire) -> bool {
        if let Some((run, _)) = self.script.as_mut() {
            let mut actions = Vec::new();
            run.stop(Instant::now(), &mut actions);
            self.script_actions(actions, wire);
        }
        self.script = None;
        self.watching()
    }

    fn script_actions(&mut self, actions: Vec<Action>, wire: &mut dyn Wire) {
        for action in actions {
            match action {
                Action::Send(bytes) => {
                    if let Some((_, to)) = &self.script {
                        let to = to.clone();
                        if wire.reachable(&to) {
                            wire.send_bytes(&to, bytes, true);
                        } else {
                            wire.emit(Event::Error(EngineError::NotConnected));
                        }
                    }
                }
                Action::Step(result) => wire.emit(Event::ScriptStep(result)),
                Action::Finished { passed } => wire.emit(Event::ScriptFinished { passed }),
            }
        }
        if self.script.as_ref().is_some_and(|(run, _)| run.done()) {
            self.script = None;
        }
    }

    fn script_message(&mut self, message: &Seen, wire: &mut dyn Wire) {
        let Some((run, _)) = self.script.as_mut() else {
            return;
        };
        let mut actions = Vec::new();
        wire.with_counter(&mut |counter, step| {
            run.message(
                &message.bytes,
                message.peer,
                Instant::now(),
                counter,
                step,
                &mut actions,
            );
        });
        self.script_actions(actions, wire);
    }

    fn script_tick(&mut self, wire: &mut dyn Wire) {
        let Some((run, _)) = self.script.as_mut() else {
            return;
        };
        let mut actions = Vec::new();
        wire.with_counter(&mut |counter, step| {
            run.tick(Instant::now(), counter, step, &mut actions);
        });
        self.script_actions(actions, wire);
    }

    /// Answers the messages just received, to whoever sent each.
    pub fn react(&mut self, seen: Vec<Seen>, wire: &mut dyn Wire) {
        for message in seen {
            let sender = match message.conn {
                Some(conn) => Target::Conn(conn),
                None => Target::Addr(message.peer),
            };
            if let Some(reply) = &self.reply {
                let bytes = match reply {
                    Reply::Echo => message.bytes.clone(),
                    Reply::Bytes(bytes) => bytes.clone(),
                };
                if !bytes.is_empty() {
                    wire.send_reply(&sender, bytes, message.binary);
                }
            }
            // A frame cut short by the stream's end is not a request, unless the user asks.
            if self
                .rules
                .as_ref()
                .is_some_and(|r| !message.partial || r.answers_partial())
            {
                self.apply_rules(&message, &sender, wire);
            }
            if self.script.is_some() {
                self.script_message(&message, wire);
            }
        }
    }

    fn apply_rules(&mut self, message: &Seen, sender: &Target, wire: &mut dyn Wire) {
        let Some(rules) = self.rules.as_mut() else {
            return;
        };
        let now = std::time::SystemTime::now();
        let mut fired = Vec::new();
        wire.with_counter(&mut |counter, step| {
            fired = rules.fire(&message.bytes, message.peer, counter, step, now);
        });
        if fired.is_empty() {
            return;
        }
        let report = rules.report(Some(message.peer), &fired);
        wire.emit(Event::RulesFired(Box::new(report)));
        for f in fired {
            if let Some(error) = f.error {
                wire.emit(Event::Error(EngineError::Rule(error)));
            }
            let to = match (&f.to, sender) {
                (Dest::Sender, _) | (Dest::All, Target::Addr(_)) => sender.clone(),
                (Dest::All, _) => Target::AllConns,
                (Dest::Addr(addr), Target::Addr(_)) => Target::Addr(*addr),
                (Dest::Addr(addr), _) => match wire.conn_from(addr.ip(), Some(addr.port())) {
                    Some(conn) => Target::Conn(conn),
                    None => {
                        wire.emit(Event::Error(EngineError::Rule(tf(S::RuleNoPeer, &[addr]))));
                        continue;
                    }
                },
                (Dest::Ip(ip), _) => match wire.conn_from(*ip, None) {
                    Some(conn) => Target::Conn(conn),
                    None => {
                        wire.emit(Event::Error(EngineError::Rule(tf(S::RuleNoPeer, &[ip]))));
                        continue;
                    }
                },
            };
            let close = message.conn.filter(|_| f.close);
            if f.delay.is_zero() {
                if let Some(bytes) = f.reply.filter(|b| !b.is_empty()) {
                    wire.send_reply(&to, bytes, message.binary);
                }
                if let Some(conn) = close {
                    wire.close_conn(conn);
                }
            } else {
                let at = Instant::now() + f.delay;
                let place = self.delayed.partition_point(|d| d.at <= at);
                self.delayed.insert(
                    place,
                    Delayed {
                        at,
                        to,
                        bytes: f.reply,
                        binary: message.binary,
                        close,
                    },
                );
            }
        }
    }

    fn run_delayed(&mut self, wire: &mut dyn Wire) {
        let now = Instant::now();
        while self.delayed.front().is_some_and(|d| d.at <= now) {
            let Some(due) = self.delayed.pop_front() else {
                break;
            };
            // A reply to a client that left in the meantime has nobody to go to: dropped.
            if let Some(bytes) = due.bytes.filter(|b| !b.is_empty())
                && wire.reachable(&due.to)
            {
                wire.send_reply(&due.to, bytes, due.binary);
            }
            if let Some(conn) = due.close
                && wire.reachable(&Target::Conn(conn))
            {
                wire.close_conn(conn);
            }
        }
    }

    /// Starts a schedule, replacing any running one.
    pub fn start_schedule(&mut self, schedule: Schedule) {
        self.schedule = Some(schedule);
        self.schedule_report = Instant::now();
    }

    /// Stops the schedule, saying how far it got.
    pub fn stop_schedule(&mut self, wire: &mut dyn Wire) {
        if let Some(schedule) = self.schedule.take() {
            wire.emit(Event::ScheduleProgress {
                sent: schedule.sent,
                finished: true,
            });
        }
    }

    /// Starts sending a file, replacing any being sent.
    pub fn send_file(&mut self, file: FileSend) {
        self.file = Some(file);
        self.file_report = Instant::now();
    }

    /// Stops the file send, saying how far it got.
    pub fn cancel_file(&mut self, wire: &mut dyn Wire) {
        if let Some(mut file) = self.file.take() {
            file.end_message(wire);
            wire.emit(Event::FileProgress {
                to: file.to.clone(),
                sent: file.sent,
                total: file.total,
                finished: true,
            });
        }
    }

    /// When the stage next needs to run by the clock.
    pub fn deadline(&self, wire: &dyn Wire) -> Option<Instant> {
        let schedule = self.schedule.as_ref().and_then(Schedule::next_at);
        // A file that waits for the socket is woken by the socket for its next chunk — and by
        // the clock for its progress: a peer that reads slowly may not make the socket
        // writable again for many seconds (Linux waits for a third of a large buffer to
        // drain), and the window showed no progress and no Cancel all that time.
        let file = self.file.as_ref().map(|f| {
            let report = self.file_report + PROGRESS_EVERY;
            let next = if wire.queued_towards(&f.to) < FILE_LOW_WATER {
                f.next_at()
            } else {
                None
            };
            next.map_or(report, |next| next.min(report))
        });
        let delayed = self.delayed.front().map(|d| d.at);
        let script = self.script.as_ref().and_then(|(run, _)| run.deadline());
        schedule
            .into_iter()
            .chain(file)
            .chain(delayed)
            .chain(script)
            .min()
    }

    /// Makes every send that is due.
    pub fn run(&mut self, wire: &mut dyn Wire) {
        self.run_delayed(wire);
        self.script_tick(wire);
        self.run_schedule(wire);
        self.pump_file(wire);
    }

    fn run_schedule(&mut self, wire: &mut dyn Wire) {
        let Some(schedule) = &mut self.schedule else {
            return;
        };
        let to = schedule.to.clone();
        let payloads = schedule.due(Instant::now());
        let mut finished = schedule.finished();
        let mut made = 0;
        for payload in &payloads {
            if !wire.reachable(&to) {
                wire.emit(Event::Error(EngineError::NotConnected));
                finished = true;
                break;
            }
            if !wire.send_payload(&to, payload) {
                finished = true;
                break;
            }
            made += 1;
        }
        // Sends not made (nobody to send to, a payload that failed) are not counted.
        let sent = schedule.sent - (payloads.len() as u64 - made);
        schedule.sent = sent;
        if finished {
            self.schedule = None;
            wire.emit(Event::ScheduleProgress {
                sent,
                finished: true,
            });
        } else if self.schedule_report.elapsed() >= PROGRESS_EVERY {
            self.schedule_report = Instant::now();
            wire.emit(Event::ScheduleProgress {
                sent,
                finished: false,
            });
        }
    }

    fn pump_file(&mut self, wire: &mut dyn Wire) {
        let Some(file) = &mut self.file else { return };
        let to = file.to.clone();
        if !wire.reachable(&to) {
            // A connection that ended under the file has said why (closed, reset); only a
            // file with nowhere to go from the start is "not connected".
            if file.sent == 0 {
                wire.emit(Event::Error(EngineError::NotConnected));
            }
            self.finish_file(wire);
            return;
        }
        while wire.queued_towards(&to) < FILE_LOW_WATER {
            match file.next_chunk(Instant::now()) {
                Ok(Some(chunk)) => {
                    let part = file.part_sent();
                    wire.send_part(&to, chunk, part);
                    if !wire.reachable(&to) {
                        // The write found the connection gone (a peer that stopped reading
                        // and closed): the file stops here, not read on into nowhere and
                        // said as sent.
                        self.finish_file(wire);
                        return;
                    }
                }
                Ok(None) => break,
                Err(source) => {
                    wire.emit(Event::Error(EngineError::Io {
                        context: S::CtxReadingFile,
                        subject: String::new(),
                        source,
                    }));
                    self.finish_file(wire);
                    return;
                }
            }
        }
        if file.eof && wire.queued_towards(&to) == 0 {
            self.finish_file(wire);
        } else if self.file_report.elapsed() >= PROGRESS_EVERY {
            self.file_report = Instant::now();
            let (sent, total) = (file.sent, file.total);
            wire.emit(Event::FileProgress {
                to: file.to.clone(),
                sent,
                total,
                finished: false,
            });
        }
    }

    fn finish_file(&mut self, wire: &mut dyn Wire) {
        if let Some(mut file) = self.file.take() {
            file.end_message(wire);
            wire.emit(Event::FileProgress {
                to: file.to.clone(),
                sent: file.sent,
                total: file.total,
                finished: true,
            });
        }
    }
}
