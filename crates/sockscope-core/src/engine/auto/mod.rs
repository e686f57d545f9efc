//! The automation stage: everything on the I/O thread that sends without being told each time —
//! cyclic schedules and sequences, file sends. It runs once per poll round, so it keeps time
//! while the window is hidden, shows a dialog, or does not exist.

mod file;
mod schedule;

use std::time::{Duration, Instant};

pub use file::{FileSend, Pace};
pub use schedule::Schedule;

use super::outbox::Seen;
use super::{EngineError, Event, Target};
use crate::codec::payload::Payload;
use crate::i18n::S;

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
    /// Renders `payload` with the session's variables and sends it; false (and an error
    /// emitted) if it could not be rendered.
    fn send_payload(&mut self, to: &Target, payload: &Payload) -> bool;
    /// Adds an event to this round's batch.
    fn emit(&mut self, event: Event);
}

/// The sends that run by themselves.
pub(crate) struct Stage {
    reply: Option<Reply>,
    schedule: Option<Schedule>,
    schedule_report: Instant,
    file: Option<FileSend>,
    file_report: Instant,
}

impl Default for Stage {
    fn default() -> Self {
        Self {
            reply: None,
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
        self.reply.is_some()
    }

    /// Answers the messages just received, to whoever sent each.
    pub fn react(&mut self, seen: Vec<Seen>, wire: &mut dyn Wire) {
        let Some(reply) = &self.reply else { return };
        for message in seen {
            let to = match message.conn {
                Some(conn) => Target::Conn(conn),
                None => Target::Addr(message.peer),
            };
            let bytes = match reply {
                Reply::Echo => message.bytes,
                Reply::Bytes(bytes) => bytes.clone(),
            };
            if !bytes.is_empty() {
                wire.send_bytes(&to, bytes, true);
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
        if let Some(file) = self.file.take() {
            wire.emit(Event::FileProgress {
                sent: file.sent,
                total: file.total,
                finished: true,
            });
        }
    }

    /// When the stage next needs to run by the clock.
    pub fn deadline(&self, wire: &dyn Wire) -> Option<Instant> {
        let schedule = self.schedule.as_ref().and_then(Schedule::next_at);
        // A file that waits for the socket is woken by the socket, not the clock.
        let file = self
            .file
            .as_ref()
            .filter(|f| wire.queued_towards(&f.to) < FILE_LOW_WATER)
            .and_then(FileSend::next_at);
        schedule.into_iter().chain(file).min()
    }

    /// Makes every send that is due.
    pub fn run(&mut self, wire: &mut dyn Wire) {
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
            wire.emit(Event::Error(EngineError::NotConnected));
            self.finish_file(wire);
            return;
        }
        while wire.queued_towards(&to) < FILE_LOW_WATER {
            match file.next_chunk(Instant::now()) {
                Ok(Some(chunk)) => wire.send_bytes(&to, chunk, false),
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
                sent,
                total,
                finished: false,
            });
        }
    }

    fn finish_file(&mut self, wire: &mut dyn Wire) {
        if let Some(file) = self.file.take() {
            wire.emit(Event::FileProgress {
                sent: file.sent,
                total: file.total,
                finished: true,
            });
        }
    }
}
