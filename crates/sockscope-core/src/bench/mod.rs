//! The traffic generator (压力测试): many TCP connections or UDP sockets against one target,
//! long-lived or a new connection per request, a rate limit with a ramp, a duration or a
//! count; throughput (fire and forget), ping-pong (send, wait for a reply that meets a
//! condition, time it) or echo check (the reply must equal the request). Results: sent /
//! received / failed by cause, bytes, latency percentiles from an HDR histogram, and a
//! per-second timeline, as a table, CSV or JSON. TCP connections may speak TLS (`tls://`)
//! or WebSocket (`ws://`, `wss://`: each request one message).
//!
//! [`run`] blocks the calling thread (the window and the CLI give it one of its own); it looks
//! at `stop` between rounds, so Stop answers within a poll round (≤ 10 ms).

mod layers;
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

pub use rate::{Limiter, rate_from_text, rate_limit_from_text};
pub use report::{Cause, Progress, Report, Second};

use crate::engine::{TlsSettings, WsSettings};
use crate::i18n::{S, tf};
use crate::rules::cond::{Env, Matcher, Message};
use layers::{Got, Layers, Setup, Step};

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
    /// TLS on every TCP connection (`tls://`, `wss://`): how the server is checked.
    pub tls: Option<TlsSettings>,
    /// WebSocket on every TCP connection (`ws://`, `wss://`): each request is one message.
    pub ws: Option<WsSettings>,
    /// The target's host as typed, when it is a name: TLS checks the certificate for it.
    pub host_name: Option<String>,
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
            tls: None,
            ws: None,
            host_name: None,
        }
    }
}

/// A load target as typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The address (a name looked up).
    pub addr: SocketAddr,
    /// `udp://`.
    pub udp: bool,
    /// `tls://` or `wss://`.
    pub tls: bool,
    /// `ws://` or `wss://`: the path and the Host header.
    pub ws: Option<WsSettings>,
    /// The host, when it was a name (not an address).
    pub name: Option<String>,
}

impl Target {
    /// Sets `spec`'s target as this one says; TLS (on by the scheme, or `tls` given for a
    /// plain target) is checked as `tls` says, else against the system's roots.
    pub fn apply(self, spec: &mut Spec, tls: Option<TlsSettings>) {
        spec.target = self.addr;
        spec.udp = self.udp;
        spec.tls = match (self.tls, tls) {
            (_, Some(settings)) => Some(settings),
            (true, None) => Some(TlsSettings::default()),
            (false, None) => None,
        };
        spec.ws = self.ws;
        spec.host_name = self.name;
    }

    /// The target as `sockscope bench` takes it back.
    pub fn text(spec: &Spec) -> String {
        match (&spec.ws, spec.tls.is_some(), spec.udp) {
            (Some(ws), tls, _) => {
                let scheme = if tls { "wss" } else { "ws" };
                let host = if ws.host.trim().is_empty() {
                    spec.target.to_string()
                } else {
                    ws.host.trim().to_owned()
                };
                format!("{scheme}://{host}{}", ws.path)
            }
            (None, true, _) => format!("tls://{}", spec.target),
            (None, false, true) => format!("udp://{}", spec.target),
            (None, false, false) => spec.target.to_string(),
        }
    }
}

/// Reads a load target as typed — `HOST:PORT`, `tcp://`, `udp://` or `tls://HOST:PORT`,
/// `ws://` or `wss://HOST[:PORT]/PATH` (port 80 or 443 when none is given), names looked up —
/// for the window and the CLI alike. The sentence says what is wrong (a missing port, a bad
/// address, a name with no address) in the current language.
pub fn target_from_text(text: &str) -> Result<Target, String> {
    use crate::i18n::{S, t, tf};
    let text = text.trim();
    if text.is_empty() {
        return Err(t(S::ErrTargetEmpty).to_owned());
    }
    let (scheme, rest) = match text.split_once("://") {
        None => (String::new(), text),
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
    };
    let (udp, tls, ws) = match scheme.as_str() {
        "" | "tcp" => (false, false, false),
        "udp" => (true, false, false),
        "tls" => (false, true, false),
        "ws" => (false, false, true),
        "wss" => (false, true, true),
        _ => return Err(tf(S::CliBadScheme, &[&text])),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) if ws => (
            rest.get(..at).unwrap_or(rest),
            rest.get(at..).unwrap_or("/"),
        ),
        _ => (rest.trim_end_matches('/'), "/"),
    };
    let default_port = match (ws, tls) {
        (true, true) => Some(443),
        (true, false) => Some(80),
        _ => None,
    };
    let (addr, name) = host_port(authority, default_port)?;
    Ok(Target {
        addr,
        udp,
        tls,
        ws: ws.then(|| WsSettings {
            path: path.to_owned(),
            host: authority.to_owned(),
            ..WsSettings::default()
        }),
        name,
    })
}

/// `HOST:PORT` (or `HOST` with a default port) as an address, and the host when it is a name.
fn host_port(
    rest: &str,
    default_port: Option<u16>,
) -> Result<(SocketAddr, Option<String>), String> {
    use crate::engine::{parse_ip, parse_port};
    use crate::i18n::{S, tf};
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Ok((addr, None));
    }
    let no_port = || tf(S::ErrTargetNoPort, &[&rest]);
    // An address alone (`::1`, `10.0.0.5`, a name) has no port.
    let alone = rest.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = parse_ip(alone) {
        // `localhost` is looked up here, but it is still the name a certificate carries.
        let name = alone
            .parse::<std::net::IpAddr>()
            .is_err()
            .then(|| alone.to_owned());
        return match default_port {
            Some(port) => Ok((SocketAddr::new(ip, port), name)),
            None => Err(no_port()),
        };
    }
    let (host, port) = match (rest.rsplit_once(':'), default_port) {
        (Some((host, port)), _) => (host, parse_port(port).map_err(|e| e.to_string())?),
        (None, Some(port)) => (rest, port),
        (None, None) => return Err(no_port()),
    };
    let host = host.trim();
    if host.is_empty() {
        return Err(tf(S::ErrTargetNoHost, &[&rest]));
    }
    // Something that looks like an address but is not one says what is wrong with it.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':') {
        let ip = parse_ip(host).map_err(|e| e.to_string())?;
        return Ok((SocketAddr::new(ip, port), None));
    }
    std::net::ToSocketAddrs::to_socket_addrs(&(host, port))
        .ok()
        .and_then(|mut found| found.next())
        .map(|addr| (addr, Some(host.to_owned())))
        .ok_or_else(|| tf(S::ErrTargetUnknownHost, &[&host]))
}

/// Runs the load until its duration or count is reached, or `stop` is set; `progress` (if
/// given) is updated about ten times a second.
pub fn run(spec: &Spec, stop: &AtomicBool, progress: Option<&Mutex<Progress>>) -> Report {
    if spec.udp && spec.mode == Mode::Throughput {
        return udp::flood(spec, stop, progress);
    }
    let setup = match Setup::of(spec) {
        Ok(setup) => setup,
        Err(why) => {
            let mut report = Report::new(spec);
            report.fail_with(Cause::Tls, Instant::now(), why);
            report.finish(Instant::now());
            return report;
        }
    };
    match Tcp::new(spec, spec.udp, setup) {
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
    /// Connected, in the TLS handshake or the WebSocket upgrade since then.
    Securing(Instant),
    Retry(Instant),
    /// Ready for a request.
    Idle,
    /// A request (or, in throughput mode, a batch of them) partly written, since then.
    Writing(Instant),
    /// Waiting for a reply since then.
    Waiting(Instant),
    /// Throughput with a connection per request: the request went and the sending side was
    /// closed then; waiting for the server to close.
    Closing(Instant),
}

enum Sock {
    /// A TCP connection, with its TLS and WebSocket when the target asks for them.
    Tcp(TcpStream, Option<Box<Layers>>),
    Udp(mio::net::UdpSocket),
}

impl Sock {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Sock::Tcp(s, _) => s,
            Sock::Udp(s) => s,
        }
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s, None) => s.write(bytes),
            Sock::Tcp(s, Some(layers)) => layers.write(s, bytes),
            Sock::Udp(s) => s.send(bytes),
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<Got> {
        match self {
            Sock::Tcp(s, None) => s
                .read(buf)
                .map(|n| if n == 0 { Got::End } else { Got::Bytes(n) }),
            Sock::Tcp(s, Some(layers)) => layers.read(s, buf),
            // An empty datagram is a reply too.
            Sock::Udp(s) => s.recv(buf).map(Got::Bytes),
        }
    }

    /// Writes what TLS or WebSocket hold; `WouldBlock` while the socket is full.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sock::Tcp(s, Some(layers)) => layers.flush(s),
            _ => Ok(()),
        }
    }

    /// Ends TLS and WebSocket politely (the run is over).
    fn close(&mut self) {
        if let Sock::Tcp(s, Some(layers)) = self {
            layers.close(s);
        }
    }

    /// Ends the sending side once TLS and WebSocket hold nothing more (else when a later
    /// call finds them empty).
    fn end_when_flushed(&mut self) {
        if self.flush().is_ok()
            && let Sock::Tcp(stream, _) = self
        {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
    }

    /// The connection's WebSocket, when each request is one message.
    fn messages(&mut self) -> Option<(&mut TcpStream, &mut Layers)> {
        match self {
            Sock::Tcp(s, Some(layers)) if layers.messages() => Some((s, layers)),
            _ => None,
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
    /// Where each request of `out` ends (WebSocket sends each as a message of its own).
    bounds: Vec<usize>,
    /// A read stopped at the end of its round with more there to read.
    more: bool,
    /// Requests this connection (its slot: one connection after another) has taken.
    taken: u64,
}

impl Conn {
    /// One look at this connection (`i`) while it closes: once TLS and WebSocket have let out all
    /// they hold, its sending side ends (`shut`); what came is read and dropped. Whether it
    /// ended (the server closed, or it broke), and whether anything moved.
    fn closing_step(&mut self, shut: &mut [bool], i: usize, scratch: &mut [u8]) -> (bool, bool) {
        let Conn {
            sock: Some(sock @ Sock::Tcp(..)),
            ..
        } = self
        else {
            return (false, false);
        };
        let (mut ended, mut moved) = (false, false);
        if let Some(done) = shut.get_mut(i)
            && !*done
        {
            match sock.flush() {
                Ok(()) => {
                    if let Sock::Tcp(stream, _) = sock {
                        let _ = stream.shutdown(std::net::Shutdown::Write);
                    }
                    *done = true;
                    moved = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => ended = true,
            }
        }
        while !ended {
            match sock.read(scratch) {
                Ok(Got::End | Got::Closed(..)) => ended = true,
                Ok(_) => moved = true,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => ended = true,
            }
        }
        (ended, moved)
    }
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
    /// TLS and WebSocket, when the target asks for them.
    setup: Option<Setup>,
    /// The run is over: no more requests; connections are being ended.
    ending: bool,
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

/// How long the end of a run waits for servers to close after it did, from the last byte
/// one of them sent.
const LINGER: Duration = Duration::from_secs(1);
/// At the end of a run, servers that sent nothing for this long (and hold nothing unread in
/// the kernel) are done answering: the close goes.
const QUIET: Duration = Duration::from_millis(100);
/// How long the end of a run waits in all.
const LINGER_CAP: Duration = Duration::from_secs(5);
/// How long one connection may send in one round before the others (and the clock, Stop and
/// the live counts) get their turn: over WebSocket a 4-byte request is a message and a write
/// of its own, so the byte share alone let 50 connections take 19 s for a 3 s run.
const ROUND_TIME: Duration = Duration::from_millis(2);

/// Pause before a connection that failed to connect tries again.
const RETRY: Duration = Duration::from_millis(50);

impl<'a> Tcp<'a> {
    fn new(spec: &'a Spec, udp: bool, setup: Option<Setup>) -> io::Result<Self> {
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
            setup,
            ending: false,
        };
        for i in 0..spec.connections.max(1) {
            load.conns.push(Conn {
                sock: None,
                state: State::Retry(now),
                reply: Vec::new(),
                out: Vec::new(),
                written: 0,
                batch: 0,
                bounds: Vec::new(),
                more: false,
                taken: 0,
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
            TcpStream::connect(self.spec.target).map(|s| Sock::Tcp(s, None))
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
                            self.report.ready += 1;
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
                let done = conn.bounds.partition_point(|&end| end <= conn.written);
                conn.batch
                    .saturating_sub(u64::try_from(done).unwrap_or(u64::MAX))
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
                // What the kernel still held for the server when the connection ended (it
                // closed or reset, or it is given up) never reached it.
                let data = matches!(
                    conn.state,
                    State::Idle | State::Writing(_) | State::Waiting(_) | State::Closing(_)
                );
                if let Sock::Tcp(stream, _) = &sock
                    && data
                    && !self.ending
                {
                    self.report.unsent_cut += crate::engine::speak::unsent(stream).unwrap_or(0);
                }
                let _ = self.poll.registry().deregister(sock.source());
            }
            conn.state = State::Retry(at);
            conn.more = false;
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
        if self.ending {
            return 0;
        }
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
        let usable = self.conns.iter().any(|c| {
            matches!(
                c.state,
                State::Idle | State::Writing(_) | State::Waiting(_) | State::Closing(_)
            )
        });
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
        let securing = self
            .conns
            .iter()
            .filter_map(|c| match c.state {
                State::Securing(since) => Some(since),
                _ => None,
            })
            .collect::<Vec<_>>();
        for since in securing {
            let why = self.no_handshake(now.duration_since(since));
            self.report.fail_with(Cause::Timeout, now, why);
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
                let more = self.conns.get(i).is_some_and(|c| c.more);
                self.service(i, now, more, false);
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
        }
        self.report.finish(now);
        if let Some(progress) = progress {
            self.report.progress_into(progress, now);
        }
        // A run that ended by itself lets the server take in what was sent (Stop does not
        // wait).
        let linger = if stop.load(Ordering::Relaxed) {
            Duration::ZERO
        } else {
            self.spec.timeout.min(LINGER)
        };
        self.linger(linger);
        self.report.stopped = stop.load(Ordering::Relaxed);
        std::mem::replace(&mut self.report, Report::new(self.spec))
    }

    /// Ends every connection politely — what TLS or WebSocket still hold goes out, then a
    /// WebSocket close, TLS's close_notify and the TCP sending side — and reads (and drops)
    /// what comes until the server closes too, while it keeps answering (`limit` without a
    /// byte from any of them ends the wait; [`LINGER_CAP`] in all). A socket closed with
    /// replies unread is reset, and a reset throws away what the server had not read yet.
    /// Connections the server had not closed by then are counted (`open_at_end`): what was
    /// sent on them last may not have been read.
    fn linger(&mut self, limit: Duration) {
        let started = Instant::now();
        self.ending = true;
        let mut events = Events::with_capacity(256);
        let mut scratch = std::mem::take(&mut self.buf);
        if !limit.is_zero() {
            self.settle(&mut scratch, &mut events, started, limit);
        }
        let mut open: Vec<usize> = Vec::new();
        for (i, conn) in self.conns.iter_mut().enumerate() {
            let usable = matches!(
                conn.state,
                State::Idle | State::Writing(_) | State::Waiting(_) | State::Closing(_)
            );
            if let Some(Sock::Tcp(..)) = &conn.sock
                && usable
            {
                open.push(i);
            }
        }
        for &i in &open {
            if let Some(Conn {
                sock: Some(sock), ..
            }) = self.conns.get_mut(i)
            {
                sock.close();
            }
        }
        let mut shut = vec![false; self.conns.len()];
        let mut last_progress = Instant::now();
        let mut ready: Vec<usize> = open.clone();
        // What the kernels still hold for the servers: a server that reads and answers
        // nothing shows its progress only as this shrinking.
        let mut queued = self.unsent_of(&open);
        loop {
            for &i in &ready {
                let (ended, moved) = self.conns.get_mut(i).map_or((false, false), |c| {
                    c.closing_step(&mut shut, i, &mut scratch)
                });
                if moved {
                    last_progress = Instant::now();
                }
                if ended {
                    open.retain(|&o| o != i);
                    if let Some(mut sock) = self.conns.get_mut(i).and_then(|c| c.sock.take()) {
                        let _ = self.poll.registry().deregister(sock.source());
                    }
                }
            }
            let left = self.unsent_of(&open);
            if left < queued {
                last_progress = Instant::now();
            }
            queued = left;
            let now = Instant::now();
            let until = (last_progress + limit).min(started + LINGER_CAP);
            if open.is_empty() || now >= until {
                break;
            }
            // A short wait: the send queue is looked at again after it.
            let wait = (until - now).min(Duration::from_millis(50));
            if self.poll.poll(&mut events, Some(wait)).is_err() {
                break;
            }
            ready = events.iter().map(|e| e.token().0).collect();
        }
        // The server has not closed these: read what is there so closing them is not a
        // reset, and say that they were still open.
        for &i in &open {
            if let Some(Conn {
                sock: Some(sock), ..
            }) = self.conns.get_mut(i)
            {
                while let Ok(Got::Bytes(_) | Got::Message(_) | Got::Nothing) =
                    sock.read(&mut scratch)
                {}
            }
        }
        self.report.open_at_end = open.len() as u64;
        self.report.unsent_at_end = self.unsent_of(&open);
        self.buf = scratch;
        // Said as left at the end, not as cut during the run.
        for &i in &open {
            if let Some(mut sock) = self.conns.get_mut(i).and_then(|c| c.sock.take()) {
                let _ = self.poll.registry().deregister(sock.source());
            }
        }
        let now = Instant::now();
        for i in 0..self.conns.len() {
            self.reopen(i, now, now);
        }
    }

    /// Before the end is said to the servers: lets what is under way finish — what TLS or
    /// WebSocket hold goes out, replies are read (and dropped) — until the servers have been
    /// quiet for [`QUIET`] with nothing left for them in the kernel, or `limit` passed with
    /// no progress ([`LINGER_CAP`] in all). A close said while a server still answered made
    /// some servers drop the connection with their answers (and what they had not read yet)
    /// half done: Python's asyncio TLS server resets.
    fn settle(
        &mut self,
        scratch: &mut [u8],
        events: &mut Events,
        started: Instant,
        limit: Duration,
    ) {
        let mut last_data = Instant::now();
        let mut last_progress = last_data;
        let all: Vec<usize> = (0..self.conns.len()).collect();
        let mut queued = self.unsent_of(&all);
        loop {
            for i in 0..self.conns.len() {
                // A handshake under way finishes too, so its connection is closed politely
                // (no request goes on it: the run is over).
                if let Some(Conn {
                    state: State::Securing(_),
                    ..
                }) = self.conns.get(i)
                {
                    self.secure(i, Instant::now());
                }
                if !matches!(
                    self.conns.get(i).map(|c| &c.state),
                    Some(State::Idle | State::Writing(_) | State::Waiting(_) | State::Closing(_))
                ) {
                    continue;
                }
                let Some(Conn {
                    sock: Some(sock), ..
                }) = self.conns.get_mut(i)
                else {
                    continue;
                };
                let _ = sock.flush();
                loop {
                    match sock.read(scratch) {
                        Ok(Got::Bytes(_) | Got::Message(_) | Got::Nothing) => {
                            last_data = Instant::now();
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        // Ended, or nothing now: the close will find out which.
                        Ok(Got::End | Got::Closed(..)) | Err(_) => break,
                    }
                }
            }
            let left = self.unsent_of(&all);
            let now = Instant::now();
            let handshaking = self
                .conns
                .iter()
                .any(|c| matches!(c.state, State::Securing(_)));
            if left < queued || last_data == now {
                last_progress = now;
            }
            queued = left;
            let quiet = now.duration_since(last_data) >= QUIET && left == 0 && !handshaking;
            if quiet || now.duration_since(last_progress) >= limit || now >= started + LINGER_CAP {
                return;
            }
            let _ = self.poll.poll(events, Some(Duration::from_millis(20)));
        }
    }

    /// Bytes the kernel still holds for the servers of connections `which` (where it says).
    fn unsent_of(&self, which: &[usize]) -> u64 {
        which
            .iter()
            .filter_map(|&i| match self.conns.get(i).and_then(|c| c.sock.as_ref()) {
                Some(Sock::Tcp(stream, _)) => crate::engine::speak::unsent(stream),
                _ => None,
            })
            .sum()
    }

    /// How long the poll may wait: the next send slot, the next timeout or retry.
    fn next_wake(&self, now: Instant) -> Duration {
        let mut wake = Duration::from_millis(10);
        if self.conns.iter().any(|c| c.more) {
            // Reads left over from the last round go on at once.
            return Duration::ZERO;
        }
        let idle = self.conns.iter().any(|c| matches!(c.state, State::Idle));
        if idle && self.more_to_send() {
            // A connection that can write: at its next slot, or (no limit) at once.
            let slot = self.limiter.next_slot(now).unwrap_or(now);
            wake = wake.min(slot.saturating_duration_since(now));
        }
        for conn in &self.conns {
            let at = match conn.state {
                State::Retry(at) => Some(at),
                State::Securing(since) => Some(since + self.handshake_limit()),
                State::Closing(since) | State::Waiting(since) => Some(since + self.spec.timeout),
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
        if writable
            && matches!(conn.state, State::Idle | State::Waiting(_))
            && let Some(Conn {
                sock: Some(sock), ..
            }) = self.conns.get_mut(i)
        {
            // What TLS or WebSocket kept back when the socket was full goes now.
            match sock.flush() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return self.lose(i, Cause::of(&e), now, now + RETRY),
            }
        }
        if let Some(Conn {
            sock: Some(sock),
            state: State::Closing(since),
            ..
        }) = self.conns.get_mut(i)
        {
            if writable {
                sock.end_when_flushed();
            }
            let since = *since;
            if readable {
                self.drain(i, now);
            }
            if let Some(Conn {
                state: State::Closing(_),
                ..
            }) = self.conns.get(i)
                && now.duration_since(since) >= self.spec.timeout
            {
                // The server keeps it open: the next request goes on a new one anyway.
                self.reopen(i, now, now);
            }
            return;
        }
        let Some(conn) = self.conns.get(i) else {
            return;
        };
        match conn.state {
            // No new connection once the count is sent (one per request made one too many).
            State::Retry(at) if at <= now && self.more_to_send() => self.open(i, now),
            State::Connecting if writable || readable => self.connected(i, now),
            State::Securing(since) => {
                if writable || readable {
                    self.secure(i, now);
                }
                if let Some(conn) = self.conns.get(i)
                    && matches!(conn.state, State::Securing(_))
                    && now.duration_since(since) >= self.handshake_limit()
                {
                    // No handshake in time: a server that says nothing to a TLS greeting
                    // (a plain port) or to an upgrade request.
                    let why = self.no_handshake(self.handshake_limit());
                    self.report.fail_with(Cause::Timeout, now, why);
                    self.reopen(i, now, now + RETRY);
                }
            }
            State::Retry(_) | State::Connecting | State::Closing(_) => {}
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

    /// Why a handshake that took `waited` without an answer failed: a server that says
    /// nothing to a TLS greeting (a plain port) or to an upgrade request.
    fn no_handshake(&self, waited: Duration) -> String {
        let secs = if waited.subsec_millis() == 0 {
            waited.as_secs().to_string()
        } else {
            format!("{:.1}", waited.as_secs_f64())
        };
        if self.spec.tls.is_some() {
            tf(S::BenchNoTlsAnswer, &[&secs])
        } else {
            tf(S::BenchNoUpgradeAnswer, &[&secs])
        }
    }

    /// How long a TLS handshake and a WebSocket upgrade may take.
    fn handshake_limit(&self) -> Duration {
        self.spec.timeout.max(Duration::from_secs(5))
    }

    fn connected(&mut self, i: usize, now: Instant) {
        let Some(Conn {
            sock: Some(Sock::Tcp(stream, layers)),
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
                // Made: also when its TLS or WebSocket fails after (counted apart).
                self.report.connects += 1;
                if let Some(setup) = &self.setup {
                    match setup.layers() {
                        Ok(made) => *layers = Some(Box::new(made)),
                        Err((cause, why)) => {
                            self.report.fail_with(cause, now, why);
                            self.reopen(i, now, now + RETRY);
                            return;
                        }
                    }
                    if let Some(conn) = self.conns.get_mut(i) {
                        conn.state = State::Securing(now);
                    }
                    self.secure(i, now);
                    return;
                }
                self.ready(i, now);
            }
        }
    }

    /// Connection `i` can take requests.
    fn ready(&mut self, i: usize, now: Instant) {
        self.report.ready += 1;
        if let Some(conn) = self.conns.get_mut(i) {
            conn.state = State::Idle;
        }
        self.send(i, now);
    }

    /// Moves connection `i`'s TLS handshake and WebSocket upgrade on.
    fn secure(&mut self, i: usize, now: Instant) {
        let Some(Conn {
            sock: Some(Sock::Tcp(stream, Some(layers))),
            ..
        }) = self.conns.get_mut(i)
        else {
            return;
        };
        let Some(setup) = &self.setup else {
            return;
        };
        match layers.handshake(stream, setup) {
            Step::Wait => {}
            Step::Done => {
                self.ready(i, now);
                // What came with the end of the handshake (a server that speaks first).
                self.drain(i, now);
            }
            Step::Failed(cause, why) => {
                self.report.fail_with(cause, now, why);
                self.reopen(i, now, now + RETRY);
            }
        }
    }

    /// Sends what the limit allows on connection `i`: one request (then waits for its reply),
    /// or in throughput mode batches of requests until the socket is full or the round's
    /// share is written.
    fn send(&mut self, i: usize, now: Instant) {
        let throughput = self.spec.mode == Mode::Throughput;
        // A connection per request sends one request on each.
        let mut per_batch = if throughput && !self.spec.per_request {
            (BATCH_BYTES / self.spec.payload.len().max(1)).max(1) as u64
        } else {
            1
        };
        // A count is shared by every connection, not taken whole by the first ready: each
        // takes its share, more only while another one cannot (it keeps failing).
        let share = self
            .spec
            .count
            .map(|count| count.div_ceil(self.conns.len().max(1) as u64).max(1));
        if let Some(share) = share {
            per_batch = per_batch.min(share);
        }
        let mut budget = ROUND_BYTES;
        let round = Instant::now();
        loop {
            let Some(conn) = self.conns.get(i) else {
                return;
            };
            if !matches!(conn.state, State::Idle) {
                return;
            }
            if let Some(share) = share
                && conn.taken >= share
                && self
                    .conns
                    .iter()
                    .enumerate()
                    .any(|(j, c)| j != i && !matches!(c.state, State::Retry(_)))
            {
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
            // The same requests as the last batch are written again as they are: building a
            // 64 KiB batch anew for each write was a sixth of a throughput run's time.
            let again = spec.vary.is_none()
                && conn.bounds.len() as u64 == n
                && conn.out.len() as u64 == spec.payload.len() as u64 * n;
            if !again {
                conn.out.clear();
                conn.bounds.clear();
                for k in 0..n {
                    match &spec.vary {
                        None => conn.out.extend_from_slice(&spec.payload),
                        Some(template) => conn.out.extend(render(template, first + k, rng)),
                    }
                    conn.bounds.push(conn.out.len());
                }
            }
            conn.written = 0;
            conn.batch = n;
            conn.taken += n;
            let len = conn.out.len();
            self.report.sent += n;
            self.report.seconds_sent(now, n);
            // The clock at the write itself: with many connections a poll round's start is
            // long gone by the time the last one writes.
            let at = Instant::now();
            self.write_out(i, at, at);
            budget = budget.saturating_sub(len.max(1));
            if !throughput || budget == 0 || round.elapsed() >= ROUND_TIME {
                return;
            }
        }
    }

    /// Writes what is left of connection `i`'s request(s), begun at `since`; what went is
    /// counted as sent bytes (a request not written whole at the end was not).
    fn write_out(&mut self, i: usize, since: Instant, now: Instant) {
        let before = self.conns.get(i).map_or(0, |c| c.written);
        self.write_some(i, since, now);
        let after = self.conns.get(i).map_or(0, |c| c.written);
        self.report.bytes_sent += after.saturating_sub(before) as u64;
    }

    fn write_some(&mut self, i: usize, since: Instant, now: Instant) {
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
        if let Some((stream, layers)) = sock.messages() {
            // WebSocket: each request goes as one message, the batch in one write; what the
            // socket does not take waits in the WebSocket's buffer, and no more requests go
            // until it has gone.
            let mut moved = layers.flush(stream);
            while moved.is_ok() && *written < out.len() {
                let next = conn.bounds.partition_point(|&end| end <= *written);
                let end = conn.bounds.get(next).copied().unwrap_or(out.len());
                moved = match layers.send(stream, out.get(*written..end).unwrap_or_default()) {
                    Ok(full) => {
                        *written = end;
                        if full {
                            Err(io::ErrorKind::WouldBlock.into())
                        } else {
                            Ok(())
                        }
                    }
                    Err(e) => Err(e),
                };
            }
            if moved.is_ok() {
                moved = layers.flush(stream);
            }
            match moved {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    conn.state = State::Writing(since);
                    return;
                }
                Err(e) => {
                    conn.state = State::Writing(since);
                    self.lose(i, Cause::of(&e), now, now + RETRY);
                    return;
                }
            }
        }
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
            Mode::Throughput if self.spec.per_request => {
                // The request went: the connection ends (once TLS or WebSocket let out what
                // they hold), and a new one takes the next.
                sock.close();
                sock.end_when_flushed();
                State::Closing(now)
            }
            Mode::Throughput => State::Idle,
            Mode::PingPong | Mode::Echo => State::Waiting(since),
        };
    }

    /// Reads what arrived; a complete reply ends the wait.
    fn drain(&mut self, i: usize, now: Instant) {
        let round = Instant::now();
        loop {
            let Some(Conn {
                sock: Some(sock),
                more,
                ..
            }) = self.conns.get_mut(i)
            else {
                return;
            };
            // One connection reads for a round's time at most: an echo server that answers
            // as fast as it is sent to kept the loop reading (over WebSocket a message per
            // read) while the clock, Stop and the other connections' handshakes waited. The
            // rest is read in the next round (no new readiness edge will say it is there).
            *more = round.elapsed() >= ROUND_TIME;
            if *more {
                return;
            }
            // TLS and WebSocket hold what they read: only a plain TCP read that came back
            // short says the socket is empty.
            let plain = matches!(sock, Sock::Tcp(_, None));
            match sock.read(&mut self.buf) {
                Ok(got @ (Got::End | Got::Closed(..))) => {
                    if let Got::Closed(code, reason) = got {
                        // Its code and reason say why (1001 going away, 1008 policy …).
                        let said = tf(
                            S::BenchWsClosedBy,
                            &[&code, &crate::engine::ws_code_name(code), &reason],
                        );
                        self.report.problem.get_or_insert(said);
                    }
                    // The server closed: what was in flight failed; an idle long-lived
                    // connection closed is a failure of the connection.
                    let closing =
                        matches!(self.conns.get(i).map(|c| &c.state), Some(State::Closing(_)));
                    if closing {
                        // The server closed after the request: the next goes at once.
                        self.reopen(i, now, now);
                    } else if self.in_flight_of(i) > 0 || !self.spec.per_request {
                        self.lose(i, Cause::Closed, now, now + RETRY);
                    } else {
                        self.reopen(i, now, now + RETRY);
                    }
                    return;
                }
                Ok(Got::Nothing) => {}
                Ok(Got::Message(bytes)) => {
                    self.report.bytes_received += bytes.len() as u64;
                    self.take_reply(i, &bytes, Instant::now());
                }
                Ok(Got::Bytes(n)) => {
                    self.report.bytes_received += n as u64;
                    // The buffer is lent out for the reply, not copied (a read per message).
                    let buf = std::mem::take(&mut self.buf);
                    let short = n < buf.len();
                    self.take_reply(i, buf.get(..n).unwrap_or_default(), Instant::now());
                    self.buf = buf;
                    // A short TCP read emptied the receive queue: later data is a new edge,
                    // so the read that would only say WouldBlock is saved (a system call per
                    // message in ping-pong). Not on Windows: mio there arms a socket for its
                    // next event only after a read said WouldBlock, so after a short read no
                    // reply was ever seen again (12 sent, 6 received under Wine).
                    if short && plain && !cfg!(windows) {
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
