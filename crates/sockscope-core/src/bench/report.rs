//! What a load run counted: requests, replies, failures by cause, bytes, latency percentiles
//! (HDR histogram, 1 ns to 60 s at 3 significant digits) and a per-second timeline; as a
//! summary, CSV and JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::i18n::{S, t, tf};

/// Why a request did not get its reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The connect was refused (nothing listening; for UDP, ICMP port unreachable).
    Refused,
    /// No (matching) reply in time, or no connect in time.
    Timeout,
    /// The peer reset the connection.
    Reset,
    /// The peer closed the connection while a reply was awaited.
    Closed,
    /// The reply was not what was expected.
    Mismatch,
    /// The network or host could not be reached.
    Unreachable,
    /// Anything else the OS said.
    Other,
}

impl Cause {
    /// The cause of an OS error.
    pub fn of(e: &io::Error) -> Cause {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Cause::Refused,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => Cause::Reset,
            io::ErrorKind::TimedOut => Cause::Timeout,
            io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => {
                Cause::Unreachable
            }
            io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof => Cause::Closed,
            _ => Cause::Other,
        }
    }

    /// Its word, in the current language.
    pub fn name(self) -> &'static str {
        t(match self {
            Cause::Refused => S::CauseRefused,
            Cause::Timeout => S::CauseTimeout,
            Cause::Reset => S::CauseReset,
            Cause::Closed => S::CauseClosed,
            Cause::Mismatch => S::CauseMismatch,
            Cause::Unreachable => S::CauseUnreachable,
            Cause::Other => S::CauseOther,
        })
    }

    /// Its name for machines (CSV, JSON).
    pub fn key(self) -> &'static str {
        match self {
            Cause::Refused => "refused",
            Cause::Timeout => "timeout",
            Cause::Reset => "reset",
            Cause::Closed => "closed",
            Cause::Mismatch => "mismatch",
            Cause::Unreachable => "unreachable",
            Cause::Other => "other",
        }
    }
}

/// One second of a run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Second {
    /// Seconds since the start.
    pub at: u64,
    /// Requests sent in it.
    pub sent: u64,
    /// Replies received in it.
    pub received: u64,
    /// Failures in it.
    pub failed: u64,
    /// Median latency of its replies, in microseconds.
    pub p50_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
}

/// What a running generator shows (the window reads it once a frame).
#[derive(Clone, Debug, Default)]
pub struct Progress {
    /// Requests sent.
    pub sent: u64,
    /// Replies received.
    pub received: u64,
    /// Failures.
    pub failed: u64,
    /// Time since the start.
    pub elapsed: Duration,
    /// Median and 99th percentile so far, in microseconds.
    pub p50_us: f64,
    /// 99th percentile so far, in microseconds.
    pub p99_us: f64,
    /// The seconds so far.
    pub timeline: Vec<Second>,
    /// The run is over.
    pub done: bool,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The target.
    pub target: SocketAddr,
    /// Requests sent (UDP: datagrams).
    pub sent: u64,
    /// Replies received (throughput mode: reads counted).
    pub received: u64,
    /// Failures by cause.
    pub failed: BTreeMap<Cause, u64>,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// Connections made.
    pub connects: u64,
    /// Requests still waiting for a reply when the run ended (not failures).
    pub unanswered: u64,
    /// How long it ran.
    pub elapsed: Duration,
    /// Reply latency, nanoseconds.
    pub latency: Histogram<u64>,
    /// Each second.
    pub timeline: Vec<Second>,
    started: Instant,
    second: (u64, Second, Histogram<u64>),
}

#[expect(
    clippy::expect_used,
    reason = "constant bounds that hdrhistogram accepts"
)]
fn histogram() -> Histogram<u64> {
    // 1 ns … 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        0.0
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

impl Report {
    /// An empty report for `spec`'s run, starting now.
    pub fn new(spec: &super::Spec) -> Self {
        Self {
            target: spec.target,
            sent: 0,
            received: 0,
            failed: BTreeMap::new(),
            bytes_sent: 0,
            bytes_received: 0,
            connects: 0,
            unanswered: 0,
            elapsed: Duration::ZERO,
            latency: histogram(),
            timeline: Vec::new(),
            started: Instant::now(),
            second: (0, Second::default(), histogram()),
        }
    }

    /// Rolls the per-second counts on to `now`'s second.
    pub fn tick(&mut self, now: Instant) {
        let index = now.saturating_duration_since(self.started).as_secs();
        while self.second.0 < index {
            let (at, mut second, h) =
                std::mem::replace(&mut self.second, (0, Second::default(), histogram()));
            second.at = at;
            second.p50_us = us(&h, 0.5);
            second.p99_us = us(&h, 0.99);
            self.timeline.push(second);
            self.second.0 = at + 1;
        }
    }

    /// A request went.
    pub fn second_sent(&mut self, now: Instant) {
        self.seconds_sent(now, 1);
    }

    /// `n` requests went.
    pub fn seconds_sent(&mut self, now: Instant, n: u64) {
        self.tick(now);
        self.second.1.sent += n;
    }

    /// A request failed.
    pub fn fail(&mut self, cause: Cause, now: Instant) {
        self.tick(now);
        *self.failed.entry(cause).or_default() += 1;
        self.second.1.failed += 1;
    }

    /// A reply came after `latency`.
    pub fn answered(&mut self, latency: Duration, now: Instant) {
        self.tick(now);
        self.received += 1;
        self.second.1.received += 1;
        let ns = (latency.as_nanos() as u64).clamp(1, 60_000_000_000);
        let _ = self.latency.record(ns);
        let _ = self.second.2.record(ns);
    }

    /// The run ended now.
    pub fn finish(&mut self, now: Instant) {
        self.elapsed = now.saturating_duration_since(self.started);
        // The last, partial second too.
        let (at, mut second, h) =
            std::mem::replace(&mut self.second, (0, Second::default(), histogram()));
        if second.sent + second.received + second.failed > 0 {
            second.at = at;
            second.p50_us = us(&h, 0.5);
            second.p99_us = us(&h, 0.99);
            self.timeline.push(second);
        }
    }

    /// Copies the counts so far into `progress`.
    pub fn progress_into(&self, progress: &Mutex<Progress>, now: Instant) {
        let mut p = progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        p.sent = self.sent;
        p.received = self.received;
        p.failed = self.failed_total();
        p.elapsed = now.saturating_duration_since(self.started);
        p.p50_us = us(&self.latency, 0.5);
        p.p99_us = us(&self.latency, 0.99);
        p.timeline.clone_from(&self.timeline);
    }

    /// Failures of every cause.
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// A latency percentile (`q` in 0..=1), or zero without replies.
    pub fn percentile(&self, q: f64) -> Duration {
        if self.latency.is_empty() {
            Duration::ZERO
        } else {
            Duration::from_nanos(self.latency.value_at_quantile(q))
        }
    }

    fn per_second(&self, n: u64) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { n as f64 / secs } else { 0.0 }
    }

    /// Requests per second over the run.
    pub fn sent_rate(&self) -> f64 {
        self.per_second(self.sent)
    }

    /// Replies per second over the run.
    pub fn received_rate(&self) -> f64 {
        self.per_second(self.received)
    }

    /// The summary, in the current language: one line per figure.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let mb = |b: u64| b as f64 / 1e6;
        let _ = writeln!(
            out,
            "{}",
            tf(
                S::BenchSummarySent,
                &[
                    &self.sent,
                    &format!("{:.0}", self.sent_rate()),
                    &format!(
                        "{:.1}",
                        mb(self.bytes_sent) / self.elapsed.as_secs_f64().max(1e-9)
                    )
                ]
            )
        );
        let _ = writeln!(
            out,
            "{}",
            tf(
                S::BenchSummaryReceived,
                &[
                    &self.received,
                    &format!("{:.0}", self.received_rate()),
                    &format!(
                        "{:.1}",
                        mb(self.bytes_received) / self.elapsed.as_secs_f64().max(1e-9)
                    )
                ]
            )
        );
        let causes: Vec<String> = self
            .failed
            .iter()
            .map(|(c, n)| format!("{} {n}", c.name()))
            .collect();
        let causes = if causes.is_empty() {
            String::new()
        } else {
            format!(" ({})", causes.join(", "))
        };
        let _ = writeln!(
            out,
            "{}",
            tf(S::BenchSummaryFailed, &[&self.failed_total(), &causes])
        );
        if !self.latency.is_empty() {
            let f = |q: f64| format!("{:.1}", self.percentile(q).as_secs_f64() * 1e6);
            let _ = writeln!(
                out,
                "{}",
                tf(
                    S::BenchSummaryLatency,
                    &[
                        &format!("{:.1}", self.latency.min() as f64 / 1000.0),
                        &f(0.5),
                        &f(0.9),
                        &f(0.99),
                        &f(0.999),
                        &format!("{:.1}", self.latency.max() as f64 / 1000.0),
                    ]
                )
            );
        }
        let _ = write!(
            out,
            "{}",
            tf(
                S::BenchSummaryTime,
                &[
                    &format!("{:.2}", self.elapsed.as_secs_f64()),
                    &self.connects
                ]
            )
        );
        out
    }

    /// The timeline as CSV: one row per second.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("second,sent,received,failed,p50_us,p99_us\n");
        for s in &self.timeline {
            let _ = writeln!(
                out,
                "{},{},{},{},{:.1},{:.1}",
                s.at, s.sent, s.received, s.failed, s.p50_us, s.p99_us
            );
        }
        out
    }

    /// The whole report as one JSON object.
    pub fn to_json(&self) -> String {
        let failed: Vec<String> = self
            .failed
            .iter()
            .map(|(c, n)| format!("\"{}\":{n}", c.key()))
            .collect();
        let q = |q: f64| self.percentile(q).as_secs_f64() * 1e6;
        let timeline: Vec<String> = self
            .timeline
            .iter()
            .map(|s| {
                format!(
                    "{{\"second\":{},\"sent\":{},\"received\":{},\"failed\":{},\"p50_us\":{:.1},\"p99_us\":{:.1}}}",
                    s.at, s.sent, s.received, s.failed, s.p50_us, s.p99_us
                )
            })
            .collect();
        let (min, max) = if self.latency.is_empty() {
            (0.0, 0.0)
        } else {
            (
                self.latency.min() as f64 / 1000.0,
                self.latency.max() as f64 / 1000.0,
            )
        };
        format!(
            "{{\"target\":\"{}\",\"elapsed_s\":{:.3},\"sent\":{},\"received\":{},\"failed\":{{{}}},\"bytes_sent\":{},\"bytes_received\":{},\"connects\":{},\"unanswered\":{},\"sent_per_s\":{:.1},\"received_per_s\":{:.1},\"latency_us\":{{\"min\":{min:.1},\"p50\":{:.1},\"p90\":{:.1},\"p99\":{:.1},\"p999\":{:.1},\"max\":{max:.1}}},\"timeline\":[{}]}}",
            self.target,
            self.elapsed.as_secs_f64(),
            self.sent,
            self.received,
            failed.join(","),
            self.bytes_sent,
            self.bytes_received,
            self.connects,
            self.unanswered,
            self.sent_rate(),
            self.received_rate(),
            q(0.5),
            q(0.9),
            q(0.99),
            q(0.999),
            timeline.join(",")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_every_reply_and_seconds_roll_over() {
        let mut report = Report::new(&super::super::Spec::default());
        let start = report.started;
        for us in 1..=100u64 {
            report.answered(Duration::from_micros(us), start);
        }
        report.answered(
            Duration::from_millis(7),
            start + Duration::from_millis(1500),
        );
        report.fail(Cause::Timeout, start + Duration::from_millis(2100));
        report.finish(start + Duration::from_millis(2200));
        let close = |d: Duration, us: f64| (d.as_secs_f64() * 1e6 - us).abs() <= us * 0.01 + 0.1;
        assert!(
            close(report.percentile(0.5), 51.0),
            "{:?}",
            report.percentile(0.5)
        );
        assert!(
            close(report.percentile(0.99), 100.0),
            "{:?}",
            report.percentile(0.99)
        );
        assert!(
            close(report.percentile(1.0), 7000.0),
            "{:?}",
            report.percentile(1.0)
        );
        let seconds: Vec<(u64, u64, u64)> = report
            .timeline
            .iter()
            .map(|s| (s.at, s.received, s.failed))
            .collect();
        assert_eq!(seconds, [(0, 100, 0), (1, 1, 0), (2, 0, 1)]);
        assert!((report.timeline[0].p99_us - 100.0).abs() < 1.0);
    }
}
