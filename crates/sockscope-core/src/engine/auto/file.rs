//! Files sent in chunks, never read whole, so any size keeps memory flat.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::engine::Target;
use crate::engine::link::Part;

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
    /// Pieces of the file went out and the last one did not end the message yet.
    open: bool,
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
            open: false,
        })
    }

    /// Where the chunk [`next_chunk`](Self::next_chunk) just gave stands in the file as one
    /// message: the first opens it, the one that reaches the file's size ends it.
    pub fn part_sent(&mut self) -> Part {
        let part = Part {
            first: !self.open,
            last: self.sent >= self.total,
        };
        self.open = !part.last;
        part
    }

    /// Ends the file's message if its last piece did not (the file was cut short, shrank,
    /// failed to read, or the send was cancelled): a WebSocket peer gets what was sent as
    /// one message, not a message left open.
    /// A connection that is gone has no message to end (and no "not connected" to say).
    pub fn end_message(&mut self, wire: &mut dyn super::Wire) {
        if std::mem::take(&mut self.open) && wire.reachable(&self.to) {
            wire.send_part(&self.to.clone(), Vec::new(), Part::END);
        }
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
