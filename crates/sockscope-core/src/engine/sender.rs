//! Timed and streamed sending, run by the I/O thread so it keeps time while the window is
//! hidden: cyclic sends and sequences ([`Schedule`]) and files sent in chunks ([`FileSend`]).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::codec::payload::{Payload, PayloadError, VarState};

use super::Target;

/// At most this many sends are made at once to catch up after a stall; beyond, the schedule
/// skips ahead instead of bursting.
const MAX_CATCH_UP: u32 = 64;

/// Payloads sent on a timer: one payload every interval (循环发送), or a list of steps each
/// followed by its own delay.
#[derive(Debug)]
pub struct Schedule {
    /// Where each send goes.
    pub to: Target,
    steps: Vec<(Payload, Duration)>,
    vars: VarState,
    index: usize,
    next_at: Instant,
    /// Sends left; `None` = until stopped.
    remaining: Option<u64>,
    /// Sends made so far.
    pub sent: u64,
}

impl Schedule {
    /// `payload` every `interval`, `count` times (`None` = until stopped). The first send is now.
    pub fn cyclic(
        to: Target,
        payload: Payload,
        vars: VarState,
        interval: Duration,
        count: Option<u64>,
    ) -> Self {
        let interval = interval.max(Duration::from_millis(1));
        Self {
            to,
            steps: vec![(payload, interval)],
            vars,
            index: 0,
            next_at: Instant::now(),
            remaining: count,
            sent: 0,
        }
    }

    /// Each step, then its delay; once through, or round and round if `repeat`.
    pub fn sequence(
        to: Target,
        steps: Vec<(Payload, Duration)>,
        vars: VarState,
        repeat: bool,
    ) -> Self {
        let remaining = if repeat {
            None
        } else {
            Some(steps.len() as u64)
        };
        Self {
            to,
            steps,
            vars,
            index: 0,
            next_at: Instant::now(),
            remaining,
            sent: 0,
        }
    }

    /// True when every send has been made.
    pub fn finished(&self) -> bool {
        self.remaining == Some(0) || self.steps.is_empty()
    }

    /// When the next send is due.
    pub fn next_at(&self) -> Option<Instant> {
        (!self.finished()).then_some(self.next_at)
    }

    /// Renders every send due by `now`, advancing the schedule.
    pub fn due(&mut self, now: Instant) -> Vec<Result<Vec<u8>, PayloadError>> {
        let mut out = Vec::new();
        let mut made = 0;
        while !self.finished() && self.next_at <= now {
            if made == MAX_CATCH_UP {
                // Far behind (the machine stalled): keep the rhythm from now, not a burst.
                self.next_at = now;
                break;
            }
            let Some((payload, delay)) = self.steps.get(self.index) else {
                break;
            };
            out.push(payload.render(&mut self.vars, SystemTime::now()));
            self.next_at += *delay;
            self.index = (self.index + 1) % self.steps.len();
            self.sent += 1;
            if let Some(left) = &mut self.remaining {
                *left -= 1;
            }
            made += 1;
        }
        out
    }
}

/// How fast a file goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pace {
    /// As fast as the peer takes it.
    #[default]
    Unlimited,
    /// At most this many bytes per second.
    BytesPerSec(u64),
    /// This long after each chunk.
    DelayPerChunk(Duration),
}

/// A file being sent in chunks; never read whole, so any size keeps memory flat.
pub struct FileSend {
    /// Where the chunks go.
    pub to: Target,
    reader: Box<dyn Read + Send>,
    /// The file's size.
    pub total: u64,
    /// Bytes handed to the socket so far.
    pub sent: u64,
    chunk: usize,
    pace: Pace,
    started: Instant,
    next_at: Instant,
    /// The whole file has been read.
    pub eof: bool,
}

impl std::fmt::Debug for FileSend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSend")
            .field("to", &self.to)
            .field("total", &self.total)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl FileSend {
    /// Opens `path` to send to `to` in chunks of `chunk` bytes.
    pub fn open(path: &Path, to: Target, chunk: usize, pace: Pace) -> io::Result<Self> {
        let file = File::open(path)?;
        let total = file.metadata()?.len();
        let now = Instant::now();
        Ok(Self {
            to,
            reader: Box::new(file),
            total,
            sent: 0,
            chunk: chunk.max(1),
            pace,
            started: now,
            next_at: now,
            eof: false,
        })
    }

    /// When pacing allows the next chunk, if it is waiting on the clock.
    pub fn next_at(&self) -> Option<Instant> {
        (!self.eof && self.pace != Pace::Unlimited).then_some(self.next_at)
    }

    /// Reads the next chunk if pacing allows it now. `Ok(None)` = wait (see `next_at`) or done.
    pub fn next_chunk(&mut self, now: Instant) -> io::Result<Option<Vec<u8>>> {
        if self.eof || now < self.next_at {
            return Ok(None);
        }
        let mut buf = vec![0; self.chunk];
        let n = loop {
            match self.reader.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            self.eof = true;
            return Ok(None);
        }
        buf.truncate(n);
        self.sent += n as u64;
        self.next_at = match self.pace {
            Pace::Unlimited => now,
            Pace::BytesPerSec(rate) => {
                self.started + Duration::from_secs_f64(self.sent as f64 / rate.max(1) as f64)
            }
            Pace::DelayPerChunk(delay) => now + delay,
        };
        Ok(Some(buf))
    }
}
