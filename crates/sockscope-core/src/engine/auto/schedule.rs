//! Cyclic sends and sequences: payloads on a timer, kept by the I/O thread so they keep time
//! while the window is hidden or absent.

use std::time::{Duration, Instant};

use crate::codec::payload::Payload;
use crate::engine::Target;

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
    index: usize,
    next_at: Instant,
    /// Sends left; `None` = until stopped.
    remaining: Option<u64>,
    /// Sends made so far.
    pub sent: u64,
}

impl Schedule {
    /// `payload` every `interval`, `count` times (`None` = until stopped). The first send is now.
    pub fn cyclic(to: Target, payload: Payload, interval: Duration, count: Option<u64>) -> Self {
        let interval = interval.max(Duration::from_millis(1));
        Self {
            to,
            steps: vec![(payload, interval)],
            index: 0,
            next_at: Instant::now(),
            remaining: count,
            sent: 0,
        }
    }

    /// Each step, then its delay; once through, or round and round if `repeat`.
    pub fn sequence(to: Target, steps: Vec<(Payload, Duration)>, repeat: bool) -> Self {
        let remaining = if repeat {
            None
        } else {
            Some(steps.len() as u64)
        };
        Self {
            to,
            steps,
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

    /// The payloads of every send due by `now` (rendered by the caller with the session's
    /// variables), advancing the schedule.
    pub fn due(&mut self, now: Instant) -> Vec<Payload> {
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
            out.push(payload.clone());
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
