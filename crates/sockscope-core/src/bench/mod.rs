//! The traffic generator (压力测试): many TCP connections or UDP sockets against one target,
//! long-lived or a new connection per request, a rate limit with a ramp, a duration or a
//! count; throughput (fire and forget), ping-pong (send, wait for a reply that meets a
//! condition, time it) or echo check (the reply must equal the request). Results: sent /
//! received / failed by cause, bytes, latency percentiles from an HDR histogram, and a
//! per-second timeline, as a table, CSV or JSON.
//!
//! [`run`] blocks the calling thread (the window and the CLI give it one of its own); it looks
//! at `stop` between rounds, so Stop answers within a poll round (≤ 10 ms).

mod rate;
mod report;
mod udp;

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

pub use rate::Limiter;
pub use report::{Cause, Progress, Report, Second};

use crate::rules::cond::{Env, Matcher, Message};

/// What the generator waits for after each request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Send as fast as allowed; count what comes back, wait for nothing.
    #[default]
    Throughput,
    /// Send, wait for a reply (one meeting `expect`, if given), time it.
    PingPong,
    /// Send, wait for the same bytes back, time it; other bytes are a mismatch.
    Echo,
}

/// One load run.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Where to.
    pub target: SocketAddr,
    /// UDP datagrams instead of TCP connections.
    pub udp: bool,
    /// TCP connections (UDP sockets) at once.
    pub connections: usize,
    /// A new TCP connection for every request (short connections), closed after its reply.
    pub per_request: bool,
    /// What to wait for.
    pub mode: Mode,
    /// Messages per second in all, after the ramp; `None`: as fast as possible.
    pub rate: Option<f64>,
    /// From 0 to `rate` linearly over this long.
    pub ramp: Duration,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Stop after this many requests.
    pub count: Option<u64>,
    /// The request.
    pub payload: Vec<u8>,
    /// A request made anew for every send (`{{counter}}` = the request's number from 1,
    /// `{{time}}`, `{{random:0:9}}` …); `payload` is used when there is none.
    pub vary: Option<crate::rules::template::Template>,
    /// Ping-pong: the reply must meet this (else any bytes are the reply).
    pub expect: Option<Matcher>,
    /// The reply condition as the user gave it (for the report's settings).
    pub expect_text: String,
    /// How long a reply may take.
    pub timeout: Duration,
    /// Text encoding for text conditions.
    pub encoding: crate::codec::TextEncoding,
    /// The request as the user typed it (a template keeps its `{{counter}}`), for the
    /// report's settings; empty: the request's bytes are shown there.
    pub request_text: String,
    /// The file the request was read from, for the report's settings; empty: none.
    pub request_file: String,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            target: SocketAddr::from(([127, 0, 0, 1], 0)),
            udp: false,
            connections: 1,
            per_request: false,
            mode: Mode::Throughput,
            rate: None,
            ramp: Duration::ZERO,
            duration: Some(Duration::from_secs(10)),
            count: None,
            payload: b"ping".to_vec(),
            vary: None,
            expect: None,
            expect_text: String::new(),
            timeout: Duration::from_secs(1),
            encoding: crate::codec::TextEncoding::UTF_8,
            request_text: String::new(),
            request_file: String::new(),
        }
    }
}

/// Reads a load target as typed — `HOST:PORT`, `tcp://HOST:PORT` or `udp://HOST:PORT`, names
/// looked up — for the window and the CLI alike; true for UDP. The sentence says what is
/// wrong (a missing port, a bad address, a name with no address) in the current language.
pub fn target_from_text(text: &str) -> Result<(SocketAddr, bool), String> {
    use crate::engine::{parse_ip, parse_port};
    use crate::i18n::{S, t, tf};
    let text = text.trim();
    if text.is_empty() {
        return Err(t(S::ErrTargetEmpty).to_owned());
    }
    let (udp, rest) = match text.split_once("://") {
        None => (false, text),
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "udp" => (true, rest),
            "tcp" => (false, rest),
            _ => return Err(tf(S::CliBadScheme, &[&text])),
        },
    };
    let rest = rest.trim_end_matches('/');
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Ok((addr, udp));
    }
    let no_port = || tf(S::ErrTargetNoPort, &[&rest]);
    // An address alone (`::1`, `10.0.0.5`, a name) has no port.
    if parse_ip(rest).is_ok() {
        return Err(no_port());
    }
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(no_port());
    };
    let port = parse_port(port).map_err(|e| e.to_string())?;
    let host = host.trim();
    if host.is_empty() {
        return Err(tf(S::ErrTargetNoHost, &[&rest]));
    }
    // Something that looks like an address but is not one says what is wrong with it.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':') {
        let ip = parse_ip(host).map_err(|e| e.to_string())?;
        return Ok((SocketAddr::new(ip, port), udp));
    }
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .ok()
        .and_then(|mut found| found.next())
        .map(|addr| (addr, udp))
        .ok_or_else(|| tf(S::ErrTargetUnknownHost, &[&host]))
}

/// Runs the load until its duration or count is reached, or `stop` is set; `progress` (if
/// given) is updated about ten times a second.
pub fn run(spec: &Spec, stop: &AtomicBool, progress: Option<&Mutex<Progress>>) -> Report {
    if spec.udp && spec.mode == Mode::Throughput {
        return udp::flood(spec, stop, progress);
    }
    match Tcp::new(spec, spec.udp) {
        Ok(mut load) => load.run(stop, progress),
        Err(e) => {
            let mut report = Report::new(spec);
            report.fail(Cause::of(&e), Instant::now());
            report.finish(Instant::now());
            report
        }
    }
}

#[derive(Debug)]
enum State {
    /// Waiting for the connect, or to reconnect at this time.
    Connecting,
    Retry(Instant),
    /// Ready for a request.
    Idle,
    /// A request (or, in throughput mode, a batch of them) partly written, since then.
    Writing(Instant),
    /// Waiting for a reply since then.
    Waiting(Instant),
}

enum Sock {
    Tcp(TcpStream),
    Udp(mio::net::UdpSocket),
}

impl Sock {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Sock::Tcp(s) => s,
            Sock::Udp(s) => s,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(bytes),
            Sock::Udp(s) => s.send(bytes),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Udp(s) => s.recv(buf),
        }
    }
}

struct Conn {
    sock: Option<Sock>,
    state: State,
    reply: Vec<u8>,
    /// What is being written or answered: one request, or in throughput mode a batch of them
    /// (one write for many small requests). Kept until the reply, which echo compares with it.
    out: Vec<u8>,
    /// Bytes of `out` written.
    written: usize,
    /// Requests in `out`.
    batch: u64,
}

/// Throughput mode: requests are written in batches of about this many bytes.
const BATCH_BYTES: usize = 64 << 10;
/// Bytes one connection may write in one round before the others (and the clock, Stop and
/// the live counts) get their turn: a socket that never blocks must not keep the loop.
const ROUND_BYTES: usize = 256 << 10;

/// The TCP (and UDP ping-pong) generator: every connection on one mio poll.
struct Tcp<'a> {
    spec: &'a Spec,
    udp: bool,
    poll: Poll,
    conns: Vec<Conn>,
    limiter: Limiter,
    report: Report,
    started: Instant,
    buf: Vec<u8>,
    rng: u64,
    /// Since when no connection has been usable (all connecting or waiting to retry).
    stalled_since: Option<Instant>,
}

/// Request number `n` of a varying request.
fn render(template: &crate::rules::template::Template, n: u64, rng: &mut u64) -> Vec<u8> {
    let tables = BTreeMap::new();
    let cx = crate::rules::expr::Ctx {
        rx: &[],
        caps: &[],
        vars: &[],
        state: "",
        peer: SocketAddr::from(([0, 0, 0, 0], 0)),
        tables: &tables,
        now: std::time::SystemTime::now(),
        counter: i64::try_from(n).unwrap_or(i64::MAX),
        fields: &crate::rules::expr::NoFields,
    };
    template
        .render(&cx, &mut |lo, hi| crate::rules::random(rng, lo, hi))
        .unwrap_or_default()
}

/// Pause before a connection that failed to connect tries again.
const RETRY: Duration = Duration::from_millis(50);

impl<'a> Tcp<'a> {
    fn new(spec: &'a Spec, udp: bool) -> io::Result<Self> {
        let poll = Poll::new()?;
        let now = Instant::now();
        let mut load = Tcp {
            spec,
            udp,
            poll,
            conns: Vec::new(),
            limiter: Limiter::new(spec.rate, spec.ramp, now),
            report: Report::new(spec),
            started: now,
            buf: vec![0; 64 * 1024],
            rng: 0x9E37_79B9_7F4A_7C15,
            stalled_since: None,
        };
        for i in 0..spec.connections.max(1) {
            load.conns.push(Conn {
                sock: None,
                state: State::Retry(now),
                reply: Vec::new(),
                out: Vec::new(),
                written: 0,
                batch: 0,
            });
            load.open(i, now);
        }
        Ok(load)
    }

    /// Starts connecting connection `i`.
    fn open(&mut self, i: usize, now: Instant) {
        let opened = if self.udp {
            let local = if self.spec.target.is_ipv4() {
                SocketAddr::from(([0, 0, 0, 0], 0))
            } else {
                SocketAddr::from(([0u16; 8], 0))
            };
            mio::net::UdpSocket::bind(local)
                .and_then(|s| s.connect(self.spec.target).map(|()| Sock::Udp(s)))
        } else {
            TcpStream::connect(self.spec.target).map(Sock::Tcp)
        };
        let Some(conn) = self.conns.get_mut(i) else {
            return;
        };
        conn.reply.clear();
        match opened {
            Ok(mut sock) => {
                let interest = Interest::READABLE | Interest::WRITABLE;
                match self
                    .poll
                    .registry()
                    .register(sock.source(), Token(i), interest)
                {
                    Ok(()) => {
                        conn.state = if self.udp {
                            // A UDP socket is ready at once: it counts as made.
                            self.report.connects += 1;
                            State::Idle
                        } else {
                            State::Connecting
                        };
                        conn.sock = Some(sock);
                    }
                    Err(e) => {
                        self.report.fail(Cause::of(&e), now);
                        conn.state = State::Retry(now + RETRY);
                    }
                }
            }
            Err(e) => {
                self.report.fail(Cause::of(&e), now);
                conn.state = State::Retry(now + RETRY);
            }
        }
    }

    /// Requests of connection `i` sent and not settled: the one awaiting its reply, or those
    /// of a batch not written whole.
    fn in_flight_of(&self, i: usize) -> u64 {
        let Some(conn) = self.conns.get(i) else {
            return 0;
        };
        match conn.state {
            State::Waiting(_) => conn.batch.max(1),
            State::Writing(_) => {
                let per = (conn.out.len() / usize::try_from(conn.batch.max(1)).unwrap_or(1)).max(1);
                conn.batch
                    .saturating_sub(u64::try_from(conn.written / per).unwrap_or(u64::MAX))
            }
            _ => 0,
        }
    }

    /// Connection `i` ended with `cause`: the requests it had in flight failed with it (or,
    /// with none, the connection did); a new one is made at `at`.
    fn lose(&mut self, i: usize, cause: Cause, now: Instant, at: Instant) {
        match self.in_flight_of(i) {
            0 => self.report.fail(cause, now),
            lost => self.report.fail_requests(cause, now, lost),
        }
        self.reopen(i, now, at);
    }

    /// Drops connection `i` and schedules a new one.
    fn reopen(&mut self, i: usize, now: Instant, at: Instant) {
        if let Some(conn) = self.conns.get_mut(i) {
            if let Some(mut sock) = conn.sock.take() {
                let _ = self.poll.registry().deregister(sock.source());
            }
            conn.state = State::Retry(at);
        }
        let _ = now;
    }

    fn done(&self, now: Instant) -> bool {
        self.spec
            .duration
            .is_some_and(|d| now.duration_since(self.started) >= d)
            || self.spec.count.is_some_and(|n| {
                self.report.sent >= n
                    && (self.spec.mode == Mode::Throughput
                        || !self
                            .conns
                            .iter()
                            .any(|c| matches!(c.state, State::Waiting(_) | State::Writing(_))))
            })
    }

    /// Takes up to `want` requests that the count and the rate limit allow now.
    fn take(&mut self, now: Instant, want: u64) -> u64 {
        let left = self
            .spec
            .count
            .map_or(want, |n| n.saturating_sub(self.report.sent).min(want));
        if left == 0 {
            return 0;
        }
        self.limiter.take_up_to(now, left)
    }

    /// A run with a count gives up when no connection could be made for the request timeout
    /// (every attempt refused, unreachable or still connecting): it would otherwise retry
    /// for ever. True when it gives up now; a connect still pending counts as timed out and
    /// the requests of the count never sent are said (`not_sent`).
    fn gives_up(&mut self, now: Instant) -> bool {
        let Some(count) = self.spec.count else {
            return false;
        };
        let usable = self
            .conns
            .iter()
            .any(|c| matches!(c.state, State::Idle | State::Writing(_) | State::Waiting(_)));
        if usable || !self.more_to_send() {
            self.stalled_since = None;
            return false;
        }
        let since = *self.stalled_since.get_or_insert(now);
        if now.duration_since(since) < self.spec.timeout {
            return false;
        }
        let pending = self
            .conns
            .iter()
            .filter(|c| matches!(c.state, State::Connecting))
            .count() as u64;
        for _ in 0..pending {
            self.report.fail(Cause::Timeout, now);
        }
        self.report.not_sent = count.saturating_sub(self.report.sent);
        true
    }

    /// True while a request may go as soon as a connection is ready for it.
    fn more_to_send(&self) -> bool {
        self.spec.count.is_none_or(|n| self.report.sent < n)
    }

    fn run(&mut self, stop: &AtomicBool, progress: Option<&Mutex<Progress>>) -> Report {
        let mut events = Events::with_capacity(1024);
        let mut last_progress = Instant::now();
        loop {
            let now = Instant::now();
            if stop.load(Ordering::Relaxed) || self.done(now) {
                break;
            }
            for i in 0..self.conns.len() {
                self.service(i, now, false, false);
            }
            if self.gives_up(now) {
                break;
            }
            let timeout = self.next_wake(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != io::ErrorKind::Interrupted
            {
                self.report.fail(Cause::of(&e), now);
                break;
            }
            let now = Instant::now();
            for event in &events {
                let i = event.token().0;
                // An error alone (a UDP socket's ICMP port unreachable) is read too: the read
                // says it (it was left until the reply's timeout).
                self.service(
                    i,
                    now,
                    event.is_readable() || event.is_read_closed() || event.is_error(),
                    event.is_writable(),
                );
            }
            self.report.tick(now);
            if let Some(progress) = progress
                && now.duration_since(last_progress) >= Duration::from_millis(100)
            {
                last_progress = now;
                self.report.progress_into(progress, now);
            }
        }
        let now = Instant::now();
        for i in 0..self.conns.len() {
            // In flight at the end: not a failure of the target; said, so the counts add up.
            self.report.unanswered += self.in_flight_of(i);
            self.reopen(i, now, now);
        }
        self.report.finish(now);
        if let Some(progress) = progress {
            self.report.progress_into(progress, now);
        }
        std::mem::replace(&mut self.report, Report::new(self.spec))
    }

    /// How long the poll may wait: the next send slot, the next timeout or retry.
    fn next_wake(&self, now: Instant) -> Duration {
        let mut wake = Duration::from_millis(10);
        let idle = self.conns.iter().any(|c| matches!(c.state, State::Idle));
        if idle && self.more_to_send() {
            // A connection that can write: at its next slot, or (no limit) at once.
            let slot = self.limiter.next_slot(now).unwrap_or(now);
            wake = wake.min(slot.saturating_duration_since(now));
        }
        for conn in &self.conns {
            let at = match conn.state {
                State::Retry(at) => Some(at),
                State::Waiting(since) => Some(since + self.spec.timeout),
                _ => None,
            };
            if let Some(at) = at {
                wake = wake.min(at.saturating_duration_since(now));
            }
        }
        wake
    }

    /// Moves connection `i` on as far as it can go now.
    fn service(&mut self, i: usize, now: Instant, readable: bool, writable: bool) {
        let Some(conn) = self.conns.get(i) else {
            return;
        };
        match conn.state {
            State::Retry(at) if at <= now => self.open(i, now),
            State::Connecting if writable || readable => self.connected(i, now),
            State::Retry(_) | State::Connecting => {}
            State::Idle => {
                if readable {
                    self.drain(i, now);
                }
                self.send(i, now);
            }
            State::Writing(since) => {
                if writable {
                    self.write_out(i, since, now);
                }
                if readable {
                    self.drain(i, now);
                }
            }
            State::Waiting(since) => {
                if readable {
                    self.drain(i, now);
                }
                if let Some(conn) = self.conns.get(i)
                    && matches!(conn.state, State::Waiting(_))
                    && now.duration_since(since) >= self.spec.timeout
                {
                    // Bytes came, but never what the condition asks for: a wrong reply.
                    let cause = if conn.reply.is_empty() {
                        Cause::Timeout
                    } else {
                        Cause::Mismatch
                    };
                    self.report.fail_requests(cause, now, 1);
                    // A late reply would be taken for the next one's: start afresh.
                    self.reopen(i, now, now);
                }
            }
        }
    }

    fn connected(&mut self, i: usize, now: Instant) {
        let Some(Conn {
            sock: Some(Sock::Tcp(stream)),
            ..
        }) = self.conns.get_mut(i)
        else {
            return;
        };
        let failed = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match stream.peer_addr() {
                Ok(_) => None,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return,
                Err(e) => Some(e),
            },
        };
        match failed {
            Some(e) => {
                self.report.fail(Cause::of(&e), now);
                self.reopen(i, now, now + RETRY);
            }
            None => {
                let _ = stream.set_nodelay(true);
                self.report.connects += 1;
                if let Some(conn) = self.conns.get_mut(i) {
                    conn.state = State::Idle;
                }
                self.send(i, now);
            }
        }
    }

    /// Sends what the limit allows on connection `i`: one request (then waits for its reply),
    /// or in throughput mode batches of requests until the socket is full or the round's
    /// share is written.
    fn send(&mut self, i: usize, now: Instant) {
        let throughput = self.spec.mode == Mode::Throughput;
        let per_batch = if throughput {
            (BATCH_BYTES / self.spec.payload.len().max(1)).max(1) as u64
        } else {
            1
        };
        let mut budget = ROUND_BYTES;
        loop {
            if !matches!(self.conns.get(i).map(|c| &c.state), Some(State::Idle)) {
                return;
            }
            let n = self.take(now, per_batch);
            if n == 0 {
                return;
            }
            let first = self.report.sent + 1;
            let Tcp {
                conns, spec, rng, ..
            } = self;
            let Some(conn) = conns.get_mut(i) else {
                return;
            };
            conn.out.clear();
            conn.written = 0;
            conn.batch = n;
            for k in 0..n {
                match &spec.vary {
                    None => conn.out.extend_from_slice(&spec.payload),
                    Some(template) => conn.out.extend(render(template, first + k, rng)),
                }
            }
            let len = conn.out.len();
            self.report.sent += n;
            self.report.bytes_sent += len as u64;
            self.report.seconds_sent(now, n);
            // The clock at the write itself: with many connections a poll round's start is
            // long gone by the time the last one writes.
            let at = Instant::now();
            self.write_out(i, at, at);
            budget = budget.saturating_sub(len.max(1));
            if !throughput || budget == 0 {
                return;
            }
        }
    }

    /// Writes what is left of connection `i`'s request(s), begun at `since`.
    fn write_out(&mut self, i: usize, since: Instant, now: Instant) {
        let Some(conn) = self.conns.get_mut(i) else {
            return;
        };
        let Conn {
            sock: Some(sock),
            out,
            written,
            ..
        } = conn
        else {
            return;
        };
        while *written < out.len() {
            match sock.write(out.get(*written..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => *written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.state = State::Writing(since);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    conn.state = State::Writing(since);
                    self.lose(i, Cause::of(&e), now, now + RETRY);
                    return;
                }
            }
        }
        conn.state = match self.spec.mode {
            Mode::Throughput => State::Idle,
            Mode::PingPong | Mode::Echo => State::Waiting(since),
        };
    }

    /// Reads what arrived; a complete reply ends the wait.
    fn drain(&mut self, i: usize, now: Instant) {
        loop {
            let Some(Conn {
                sock: Some(sock), ..
            }) = self.conns.get_mut(i)
            else {
                return;
            };
            match sock.read(&mut self.buf) {
                Ok(0) => {
                    // The server closed: what was in flight failed; an idle long-lived
                    // connection closed is a failure of the connection.
                    if self.in_flight_of(i) > 0 || !self.spec.per_request {
                        self.lose(i, Cause::Closed, now, now + RETRY);
                    } else {
                        self.reopen(i, now, now + RETRY);
                    }
                    return;
                }
                Ok(n) => {
                    self.report.bytes_received += n as u64;
                    // The buffer is lent out for the reply, not copied (a read per message).
                    let buf = std::mem::take(&mut self.buf);
                    let short = n < buf.len();
                    self.take_reply(i, buf.get(..n).unwrap_or_default(), Instant::now());
                    self.buf = buf;
                    // A short TCP read emptied the receive queue: later data is a new edge,
                    // so the read that would only say WouldBlock is saved (a system call per
                    // message in ping-pong).
                    if short && !self.udp {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let cause = if self.udp {
                        Cause::of_datagram(&e)
                    } else {
                        Cause::of(&e)
                    };
                    self.lose(i, cause, now, now + RETRY);
                    return;
                }
            }
        }
    }

    fn take_reply(&mut self, i: usize, read: &[u8], now: Instant) {
        let spec = self.spec;
        let Some(conn) = self.conns.get_mut(i) else {
            return;
        };
        let State::Waiting(since) = conn.state else {
            if spec.mode == Mode::Throughput {
                self.report.received += u64::from(!read.is_empty());
            }
            return;
        };
        conn.reply.extend_from_slice(read);
        let outcome = match spec.mode {
            Mode::Echo => {
                let want = conn.out.as_slice();
                if conn.reply.len() < want.len() {
                    if want.starts_with(&conn.reply) {
                        return;
                    }
                    Some(Cause::Mismatch)
                } else if conn.reply.get(..want.len()) == Some(want) {
                    None
                } else {
                    Some(Cause::Mismatch)
                }
            }
            Mode::PingPong => match &spec.expect {
                None => None,
                Some(matcher) => {
                    let mut message = Message::new(&conn.reply, spec.target, spec.encoding);
                    let tables = BTreeMap::new();
                    let env = Env {
                        state: "",
                        tables: &tables,
                        now: std::time::SystemTime::now(),
                        counter: 0,
                        vars: &[],
                    };
                    if matcher.holds(&mut message, &env) {
                        None
                    } else if self.udp {
                        Some(Cause::Mismatch)
                    } else {
                        // A reply may come in pieces: wait for more until the timeout.
                        return;
                    }
                }
            },
            Mode::Throughput => None,
        };
        conn.reply.clear();
        match outcome {
            None => {
                self.report.answered(now.duration_since(since), now);
                if spec.per_request && !self.udp {
                    self.reopen(i, now, now);
                } else if let Some(conn) = self.conns.get_mut(i) {
                    conn.state = State::Idle;
                    self.send(i, now);
                }
            }
            Some(cause) => {
                self.report.fail_requests(cause, now, 1);
                self.reopen(i, now, now);
            }
        }
    }
}

#[cfg(test)]
mod tests;
