//! The rate limit: messages allowed by time `t`, rising linearly from 0 to the rate over the
//! ramp, then at the rate. The first message goes at once.

use std::time::{Duration, Instant};

/// A rate as requests per second: `2000`, `2000/s`, or bytes per second (`10MB/s`, `512KB/s`,
/// `1GB/s`, `100B/s`) divided by the request's length — for `sockscope bench --rate` and the
/// Load test window's Rate alike.
pub fn rate_from_text(text: &str, request_len: usize) -> Result<f64, String> {
    let t = text.trim();
    let bad = || crate::i18n::tf(crate::i18n::S::CliBadRate, &[&text]);
    let number = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let upper = t.to_ascii_uppercase();
    for (suffix, scale) in [("GB/S", 1e9), ("MB/S", 1e6), ("KB/S", 1e3), ("B/S", 1.0)] {
        if let Some(n) = upper.strip_suffix(suffix) {
            let bytes = number(n).ok_or_else(bad)? * scale;
            return Ok(bytes / request_len.max(1) as f64);
        }
    }
    number(t.strip_suffix("/s").unwrap_or(t)).ok_or_else(bad)
}

/// A rate field as the Load window holds it: empty or 0 is no limit; else what
/// [`rate_from_text`] reads, and whether it was typed in bytes per second (then it is
/// worth saying what it is in requests).
pub fn rate_limit_from_text(text: &str, request_len: usize) -> Result<Option<(f64, bool)>, String> {
    let text = text.trim();
    let number = text.strip_suffix("/s").unwrap_or(text).trim();
    if text.is_empty() || number.parse::<f64>() == Ok(0.0) {
        return Ok(None);
    }
    let in_bytes = number.parse::<f64>().is_err();
    rate_from_text(text, request_len).map(|r| Some((r, in_bytes)))
}

/// A limit on how many messages may have been sent by now.
#[derive(Clone, Debug)]
pub struct Limiter {
    rate: Option<f64>,
    ramp: f64,
    start: Instant,
    taken: u64,
}

impl Limiter {
    /// `rate` messages per second after `ramp` (none: no limit), counted from `start`.
    pub fn new(rate: Option<f64>, ramp: Duration, start: Instant) -> Self {
        Self {
            rate: rate.filter(|r| r.is_finite() && *r > 0.0),
            ramp: ramp.as_secs_f64(),
            start,
            taken: 0,
        }
    }

    /// Messages allowed `t` seconds after the start, the first one at 0.
    fn allowed(&self, t: f64) -> f64 {
        let Some(rate) = self.rate else {
            return f64::INFINITY;
        };
        let sent = if self.ramp <= 0.0 || t >= self.ramp {
            rate * (t - self.ramp / 2.0)
        } else {
            rate * t * t / (2.0 * self.ramp)
        };
        sent + 1.0
    }

    /// Takes one message if the limit allows it now.
    pub fn take(&mut self, now: Instant) -> bool {
        let t = now.saturating_duration_since(self.start).as_secs_f64();
        if self.allowed(t) >= (self.taken + 1) as f64 {
            self.taken += 1;
            true
        } else {
            false
        }
    }

    /// Takes up to `n` messages allowed now; how many it took.
    pub fn take_up_to(&mut self, now: Instant, n: u64) -> u64 {
        let t = now.saturating_duration_since(self.start).as_secs_f64();
        let allowed = self.allowed(t);
        let free = if allowed.is_infinite() {
            n
        } else {
            ((allowed.floor() as u64).saturating_sub(self.taken)).min(n)
        };
        self.taken += free;
        free
    }

    /// When the next message is allowed (`None`: no limit, now).
    pub fn next_slot(&self, now: Instant) -> Option<Instant> {
        let rate = self.rate?;
        // allowed(t) = taken + 1, solved for t.
        let n = self.taken as f64;
        let steady = n / rate + self.ramp / 2.0;
        let t = if self.ramp > 0.0 && steady < self.ramp {
            (2.0 * self.ramp * n / rate).sqrt()
        } else {
            steady
        };
        let at = self.start + Duration::from_secs_f64(t.max(0.0));
        Some(at.max(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many messages a sender polling every `step` gets through in `span`.
    fn sent_over(limiter: &mut Limiter, start: Instant, span: Duration, step: Duration) -> u64 {
        let mut sent = 0;
        let mut t = Duration::ZERO;
        while t < span {
            while limiter.take(start + t) {
                sent += 1;
            }
            t += step;
        }
        sent
    }

    #[test]
    fn a_thousand_a_second_is_a_thousand_in_a_second() {
        let start = Instant::now();
        let mut limiter = Limiter::new(Some(1000.0), Duration::ZERO, start);
        let sent = sent_over(
            &mut limiter,
            start,
            Duration::from_secs(1),
            Duration::from_micros(100),
        );
        assert!((999..=1001).contains(&sent), "{sent}");
    }

    #[test]
    fn a_ramp_sends_half_as_many_while_it_rises() {
        let start = Instant::now();
        let mut limiter = Limiter::new(Some(1000.0), Duration::from_secs(2), start);
        let ramp = sent_over(
            &mut limiter,
            start,
            Duration::from_secs(2),
            Duration::from_micros(100),
        );
        assert!((995..=1005).contains(&ramp), "{ramp}");
        let next = sent_over(
            &mut limiter,
            start,
            Duration::from_secs(3),
            Duration::from_micros(100),
        );
        assert!((995..=1005).contains(&next), "{next} in the third second");
    }

    #[test]
    fn the_next_slot_is_when_the_next_message_may_go_and_no_limit_is_now() {
        let start = Instant::now();
        let mut limiter = Limiter::new(Some(10.0), Duration::ZERO, start);
        assert!(limiter.take(start));
        let slot = limiter.next_slot(start).unwrap();
        assert_eq!(slot.duration_since(start).as_millis(), 100);
        assert!(!limiter.take(slot.checked_sub(Duration::from_millis(1)).unwrap()));
        assert!(limiter.take(slot));
        let mut free = Limiter::new(None, Duration::ZERO, start);
        assert_eq!(free.next_slot(start), None);
        assert_eq!(free.take_up_to(start, 64), 64);
    }
}
