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
    /// The connect was refused (nothing listening).
    Refused,
    /// No (matching) reply in time, or no connect in time.
    Timeout,
    /// The peer reset the connection.
    Reset,
    /// The peer closed the connection while a reply was awaited.
    Closed,
    /// The reply was not what was expected.
    Mismatch,
    /// The network, host or (UDP, ICMP port unreachable) port could not be reached.
    Unreachable,
    /// Anything else the OS said.
    Other,
    /// The TLS handshake failed (the certificate was refused, the server spoke no TLS …).
    Tls,
    /// The WebSocket upgrade was refused or broke.
    WebSocket,
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

    /// The cause of an OS error on a UDP socket: a refusal there is an ICMP port
    /// unreachable for an earlier datagram.
    pub fn of_datagram(e: &io::Error) -> Cause {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => Cause::Unreachable,
            _ => Cause::of(e),
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
            Cause::Tls => S::CauseTls,
            Cause::WebSocket => S::CauseWebSocket,
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
            Cause::Tls => "tls",
            Cause::WebSocket => "websocket",
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
    /// 95th percentile, in microseconds.
    pub p95_us: f64,
    /// 99th percentile, in microseconds.
    pub p99_us: f64,
}

/// What a run was asked to do, kept with its report (saved reports say how they were made).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// The target.
    pub target: String,
    /// UDP (else TCP).
    pub udp: bool,
    /// `throughput`, `ping-pong` or `echo`.
    pub mode: &'static str,
    /// Connections (UDP sockets) at once.
    pub connections: usize,
    /// A new connection per request.
    pub per_request: bool,
    /// Requests per second after the ramp; `None`: as fast as possible.
    pub rate: Option<f64>,
    /// The ramp.
    pub ramp: Duration,
    /// The duration asked for.
    pub duration: Option<Duration>,
    /// The count asked for.
    pub count: Option<u64>,
    /// The request's length.
    pub request_len: usize,
    /// The request as typed (a template with its variables), else its first 256 bytes with
    /// escapes; empty for a request read from a file.
    pub request: String,
    /// The file the request was read from (empty: none).
    pub request_file: String,
    /// How long a reply may take.
    pub timeout: Duration,
    /// The reply condition as given (empty: none).
    pub expect: String,
}

impl Settings {
    /// What `spec` asks for.
    pub fn of(spec: &super::Spec) -> Self {
        let head = spec.payload.get(..256).unwrap_or(&spec.payload);
        let request = if !spec.request_file.is_empty() {
            String::new()
        } else if !spec.request_text.is_empty() {
            spec.request_text.replace('\n', "\\n")
        } else {
            let mut request = crate::codec::escape::format(head);
            if head.len() < spec.payload.len() {
                request.push('…');
            }
            request
        };
        Self {
            target: super::Target::text(spec),
            udp: spec.udp,
            mode: match spec.mode {
                super::Mode::Throughput => "throughput",
                super::Mode::PingPong => "ping-pong",
                super::Mode::Echo => "echo",
            },
            connections: spec.connections,
            per_request: spec.per_request,
            rate: spec.rate,
            ramp: spec.ramp,
            duration: spec.duration,
            count: spec.count,
            request_len: spec.payload.len(),
            request,
            request_file: spec.request_file.clone(),
            timeout: spec.timeout,
            expect: spec.expect_text.replace('\n', "\\n"),
        }
    }

    /// Each setting as a name and its value, in a fixed order (CSV lines, JSON fields).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let secs = |d: Duration| format!("{}", d.as_secs_f64());
        vec![
            ("target", self.target.clone()),
            ("mode", self.mode.to_owned()),
            ("connections", self.connections.to_string()),
            ("per_request", self.per_request.to_string()),
            (
                "rate_per_s",
                self.rate.map_or_else(String::new, |r| r.to_string()),
            ),
            ("ramp_s", secs(self.ramp)),
            ("duration_s", self.duration.map_or_else(String::new, secs)),
            (
                "count",
                self.count.map_or_else(String::new, |n| n.to_string()),
            ),
            ("request_len", self.request_len.to_string()),
            ("request", self.request.clone()),
            ("request_file", self.request_file.clone()),
            ("timeout_s", secs(self.timeout)),
            ("expect", self.expect.clone()),
        ]
    }
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
    /// Requests sent and not yet answered (or written).
    pub in_flight: u64,
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
    /// Failures by cause: of requests, and of connections (a connect refused, a server that
    /// closed an idle connection).
    pub failed: BTreeMap<Cause, u64>,
    /// The failures of requests sent (the others are of connections).
    pub failed_requests: u64,
    /// Bytes written.
    pub bytes_sent: u64,
    /// Bytes read.
    pub bytes_received: u64,
    /// Connections made (TCP: also those whose TLS or WebSocket then failed).
    pub connects: u64,
    /// Connections that got through their TLS handshake and WebSocket upgrade (plain TCP and
    /// UDP: every one made), so requests could go on them.
    pub ready: u64,
    /// Requests in flight when the run ended: sent and not answered yet, or (throughput) not
    /// written whole. Not failures; `sent` = answered (or written) + failed requests + these.
    pub unanswered: u64,
    /// Requests of the count never sent because the run gave up: no connection could be
    /// made for the request timeout. Not among `sent`.
    pub not_sent: u64,
    /// Connections the server had not closed when the run stopped waiting at its end (a
    /// second with nothing from the server, or Stop): what was sent on them last may not
    /// have been read.
    pub open_at_end: u64,
    /// Bytes sent on those that had not reached the server (where the OS says: Linux).
    pub unsent_at_end: u64,
    /// Bytes written on connections that ended during the run (the server closed or reset
    /// them) that had not reached the server (Linux).
    pub unsent_cut: u64,
    /// Stop (or Ctrl+C) ended the run before its duration or count.
    pub stopped: bool,
    /// What the run was asked to do.
    pub settings: Settings,
    /// How long it ran.
    pub elapsed: Duration,
    /// Reply latency, nanoseconds.
    pub latency: Histogram<u64>,
    /// Each second.
    pub timeline: Vec<Second>,
    /// Why the first connection that failed its TLS handshake or WebSocket upgrade failed
    /// (the cause alone does not say what to change).
    pub problem: Option<String>,
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
            failed_requests: 0,
            bytes_sent: 0,
            bytes_received: 0,
            connects: 0,
            ready: 0,
            unanswered: 0,
            not_sent: 0,
            open_at_end: 0,
            unsent_at_end: 0,
            unsent_cut: 0,
            stopped: false,
            settings: Settings::of(spec),
            elapsed: Duration::ZERO,
            latency: histogram(),
            timeline: Vec::new(),
            problem: None,
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
            second.p95_us = us(&h, 0.95);
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

    /// A connection failed (no request of it was lost).
    pub fn fail(&mut self, cause: Cause, now: Instant) {
        self.fail_n(cause, now, 1);
    }

    /// A connection failed with `cause`, for the reason `why` (kept if it is the first).
    pub fn fail_with(&mut self, cause: Cause, now: Instant, why: String) {
        self.fail(cause, now);
        self.problem.get_or_insert(why);
    }

    /// `n` requests sent failed.
    pub fn fail_requests(&mut self, cause: Cause, now: Instant, n: u64) {
        self.failed_requests += n;
        self.fail_n(cause, now, n);
    }

    fn fail_n(&mut self, cause: Cause, now: Instant, n: u64) {
        self.tick(now);
        *self.failed.entry(cause).or_default() += n;
        self.second.1.failed += n;
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
            second.p95_us = us(&h, 0.95);
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
        p.in_flight = self
            .sent
            .saturating_sub(self.settled() + self.failed_requests);
        p.elapsed = now.saturating_duration_since(self.started);
        p.p50_us = us(&self.latency, 0.5);
        p.p99_us = us(&self.latency, 0.99);
        p.timeline.clone_from(&self.timeline);
    }

    /// Failures of every cause (of requests and of connections).
    pub fn failed_total(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Requests that got what they waited for: answered (ping-pong, echo), or written whole
    /// (throughput, which waits for nothing).
    pub fn settled(&self) -> u64 {
        if self.settings.mode == "throughput" {
            self.sent
                .saturating_sub(self.failed_requests + self.unanswered)
        } else {
            self.received
        }
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

    /// The failures by cause, ` (timed out 5, refused 2)`, or nothing without failures.
    pub fn causes_text(&self) -> String {
        let causes: Vec<String> = self
            .failed
            .iter()
            .map(|(c, n)| format!("{} {n}", c.name()))
            .collect();
        if causes.is_empty() {
            String::new()
        } else {
            format!(" ({})", causes.join(", "))
        }
    }

    /// `sent 100 = 95 answered + 3 failed + 2 in flight (+ 1 connection failures)`.
    fn adds_up_text(&self) -> String {
        let settled = if self.settings.mode == "throughput" {
            S::BenchSummaryAddsUpWritten
        } else {
            S::BenchSummaryAddsUp
        };
        let connects_failed = self.failed_total().saturating_sub(self.failed_requests);
        tf(
            settled,
            &[
                &self.sent,
                &self.settled(),
                &self.failed_requests,
                &self.unanswered,
                &connects_failed,
            ],
        )
    }

    /// `gave up: no connection could be made for 1 s; 4 requests not sent`.
    pub fn gave_up_text(&self) -> String {
        tf(
            S::BenchSummaryGaveUp,
            &[&self.settings.timeout.as_secs_f64(), &self.not_sent],
        )
    }

    /// The lines about the end of the run: what was in flight, and what the servers may not
    /// have read.
    fn end_lines(&self, out: &mut String) {
        let in_flight = if self.settings.mode == "throughput" {
            S::BenchSummaryInFlightWritten
        } else {
            S::BenchSummaryInFlight
        };
        let _ = writeln!(out, "{}", tf(in_flight, &[&self.unanswered]));
        if self.unsent_cut > 0 {
            let _ = writeln!(out, "{}", tf(S::BenchSummaryUnsentCut, &[&self.unsent_cut]));
        }
        if self.open_at_end > 0 {
            let open = if self.stopped {
                S::BenchSummaryStoppedOpen
            } else {
                S::BenchSummaryOpenAtEnd
            };
            let _ = writeln!(out, "{}", tf(open, &[&self.open_at_end]));
            if self.unsent_at_end > 0 {
                let _ = writeln!(
                    out,
                    "{}",
                    tf(S::BenchSummaryUnsentAtEnd, &[&self.unsent_at_end])
                );
            }
        }
    }

    /// The summary, in the current language: one line per figure. The requests add up:
    /// sent = answered (throughput: written) + failed + in flight at the end.
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
        let _ = writeln!(
            out,
            "{}",
            tf(
                S::BenchSummaryFailed,
                &[&self.failed_total(), &self.causes_text()]
            )
        );
        if let Some(problem) = &self.problem {
            let _ = writeln!(out, "{}", tf(S::BenchSummaryProblem, &[problem]));
        }
        self.end_lines(&mut out);
        let _ = writeln!(out, "{}", self.adds_up_text());
        if self.not_sent > 0 {
            let _ = writeln!(out, "{}", self.gave_up_text());
        }
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
                        &f(0.95),
                        &f(0.99),
                        &f(0.999),
                        &format!("{:.1}", self.latency.max() as f64 / 1000.0),
                    ]
                )
            );
        }
        if self.stopped {
            let _ = writeln!(out, "{}", t(S::BenchSummaryStopped));
        }
        let time = if self.settings.udp {
            S::BenchSummaryTimeUdp
        } else {
            S::BenchSummaryTime
        };
        let _ = write!(
            out,
            "{}",
            tf(
                time,
                &[
                    &format!("{:.2}", self.elapsed.as_secs_f64()),
                    &self.connects
                ]
            )
        );
        out
    }

    /// The settings and the totals as `# name=value` lines, then the timeline: one row per
    /// second (spreadsheets and `pandas.read_csv(comment='#')` skip the `#` lines).
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        for (name, value) in self.settings.pairs() {
            let _ = writeln!(out, "# {name}={value}");
        }
        let q = |q: f64| format!("{:.1}", self.percentile(q).as_secs_f64() * 1e6);
        let _ = writeln!(
            out,
            "# elapsed_s={:.3}\n# sent={}\n# received={}\n# failed={}\n# failed_requests={}\n# in_flight={}\n# not_sent={}\n# open_at_end={}\n# unsent_at_end={}\n# unsent_cut={}\n# stopped={}\n# connects={}\n# p50_us={}\n# p95_us={}\n# p99_us={}",
            self.elapsed.as_secs_f64(),
            self.sent,
            self.received,
            self.failed_total(),
            self.failed_requests,
            self.unanswered,
            self.not_sent,
            self.open_at_end,
            self.unsent_at_end,
            self.unsent_cut,
            self.stopped,
            self.connects,
            q(0.5),
            q(0.95),
            q(0.99)
        );
        out.push_str("second,sent,received,failed,p50_us,p95_us,p99_us\n");
        for s in &self.timeline {
            let _ = writeln!(
                out,
                "{},{},{},{},{:.1},{:.1},{:.1}",
                s.at, s.sent, s.received, s.failed, s.p50_us, s.p95_us, s.p99_us
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
                    "{{\"second\":{},\"sent\":{},\"received\":{},\"failed\":{},\"p50_us\":{:.1},\"p95_us\":{:.1},\"p99_us\":{:.1}}}",
                    s.at, s.sent, s.received, s.failed, s.p50_us, s.p95_us, s.p99_us
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
        let settings: Vec<String> = self
            .settings
            .pairs()
            .into_iter()
            .map(|(name, value)| format!("{}:{}", json_string(name), json_string(&value)))
            .collect();
        format!(
            "{{\"target\":\"{}\",\"elapsed_s\":{:.3},\"sent\":{},\"received\":{},\"failed\":{{{}}},\"problem\":{},\"failed_requests\":{},\"in_flight\":{},\"bytes_sent\":{},\"bytes_received\":{},\"connects\":{},\"unanswered\":{},\"not_sent\":{},\"open_at_end\":{},\"unsent_at_end\":{},\"unsent_cut\":{},\"stopped\":{},\"sent_per_s\":{:.1},\"received_per_s\":{:.1},\"latency_us\":{{\"min\":{min:.1},\"p50\":{:.1},\"p90\":{:.1},\"p95\":{:.1},\"p99\":{:.1},\"p999\":{:.1},\"max\":{max:.1}}},\"settings\":{{{}}},\"timeline\":[{}]}}",
            self.target,
            self.elapsed.as_secs_f64(),
            self.sent,
            self.received,
            failed.join(","),
            self.problem
                .as_deref()
                .map_or_else(|| "null".to_owned(), json_string),
            self.failed_requests,
            self.unanswered,
            self.bytes_sent,
            self.bytes_received,
            self.connects,
            self.unanswered,
            self.not_sent,
            self.open_at_end,
            self.unsent_at_end,
            self.unsent_cut,
            self.stopped,
            self.sent_rate(),
            self.received_rate(),
            q(0.5),
            q(0.9),
            q(0.95),
            q(0.99),
            q(0.999),
            settings.join(","),
            timeline.join(",")
        )
    }
}

/// `text` as a JSON string, quoted and escaped.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
