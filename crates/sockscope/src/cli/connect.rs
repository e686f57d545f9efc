//! `sockscope connect`: a TCP (TLS, WebSocket) client that sends, checks the reply, or — with
//! `--pipe` — moves stdin to the socket and the socket to stdout byte for byte, as `nc -N`.
//!
//! Stdin is streamed as it comes, never read whole first, and never faster than the socket
//! takes it: at most [`WINDOW`] bytes are handed to the engine and not yet written. At the end
//! of stdin `--pipe` shuts down the sending side (half-close) and reads on until the peer
//! closes; a peer's half-close only ends what it sends, and ours goes on. Every byte is
//! accounted for: a transfer that was cut, reset or left idle ends non-zero with a sentence.

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use sockscope_core::capture::{Capture, LinkState, RecordKind};
use sockscope_core::engine::{Pace, SessionConfig, Target, WsSettings};
use sockscope_core::i18n::{S, tf};
use sockscope_core::protocol::Dir;
use sockscope_core::session::{RxTap, Session};

use super::print::Printer;
use super::{
    Ended, Failure, Feed, INTERRUPTED, Io, NOT_MATCHED, OK, OUTPUT_CLOSED, args, bad, check_file,
    file_cut, follow, matcher_of, open, payload_of, print_rest, resolve, resolve_with, verdict,
    wait_open, wait_sent,
};

/// Bytes of stdin handed to the engine and not yet written to the socket, at most: enough to
/// keep a fast link busy, small enough that a slow reader holds little in memory.
const WINDOW: u64 = 8 << 20;
/// Bytes read from stdin at a time.
const CHUNK: usize = 64 << 10;
/// Chunks read ahead of the socket (the reader thread waits when they are all taken): 4 MiB,
/// so one look of the loop hands over enough to keep a fast socket busy until the next.
const READ_AHEAD: usize = 64;

/// `ws://HOST[:PORT]/PATH` or `wss://…` (port 80 or 443 when none is given): the address,
/// the WebSocket settings, and whether it is over TLS. `None` for plain `HOST:PORT`.
fn websocket_url(text: &str) -> Result<Option<(std::net::SocketAddr, WsSettings, bool)>, Failure> {
    let (rest, tls) = if let Some(rest) = text.strip_prefix("wss://") {
        (rest, true)
    } else if let Some(rest) = text.strip_prefix("ws://") {
        (rest, false)
    } else {
        return Ok(None);
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (
            rest.get(..at).unwrap_or(rest),
            rest.get(at..).unwrap_or("/"),
        ),
        None => (rest, "/"),
    };
    let default_port = if tls { 443 } else { 80 };
    let addr = resolve_with(authority, Some(default_port))
        .map_err(|Failure(code, why)| Failure(code, tf(S::CliInUrl, &[&text, &why])))?;
    let settings = WsSettings {
        path: path.to_owned(),
        host: authority.to_owned(),
        ..WsSettings::default()
    };
    Ok(Some((addr, settings, tls)))
}

/// What the stdin reader thread hands over.
enum Input {
    Bytes(Vec<u8>),
    End,
    Failed(String),
}

/// Stdin read on a thread of its own (a blocked read never holds up Ctrl+C or the socket),
/// handed to the session no faster than the socket takes it.
struct Pump {
    chunks: Receiver<Input>,
    /// Bytes handed to the engine (everything this session sends goes through here).
    handed: u64,
    /// Stdin ended.
    eof: bool,
    /// Why reading stdin failed, if it did.
    failed: Option<String>,
}

impl Pump {
    /// Starts reading `stdin` (taken out of `io`: the thread may outlive the command while a
    /// terminal's read waits, and ends with the process).
    fn start(stdin: &mut Box<dyn Read + Send>) -> Result<Self, Failure> {
        let mut stdin = std::mem::replace(stdin, Box::new(std::io::empty()));
        let (tx, rx) = std::sync::mpsc::sync_channel(READ_AHEAD);
        std::thread::Builder::new()
            .name("sockscope-stdin".into())
            .spawn(move || {
                let mut buf = vec![0u8; CHUNK];
                let mut read_any = false;
                loop {
                    let input = match stdin.read(&mut buf) {
                        Ok(0) => Input::End,
                        Ok(n) => {
                            read_any = true;
                            Input::Bytes(buf.get(..n).unwrap_or_default().to_vec())
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        // No stdin at all (closed, as some CI runners leave it): nothing to
                        // send, not a failure.
                        Err(_) if !read_any => Input::End,
                        Err(e) => Input::Failed(e.to_string()),
                    };
                    let last = !matches!(input, Input::Bytes(_));
                    if tx.send(input).is_err() || last {
                        return;
                    }
                }
            })
            .map_err(|e| bad(tf(S::CliStdin, &[&e])))?;
        Ok(Self {
            chunks: rx,
            handed: 0,
            eof: false,
            failed: None,
        })
    }

    /// A pump with nothing to read (stdin is a terminal, or is not sent).
    fn empty() -> Self {
        let (_, rx) = std::sync::mpsc::sync_channel(1);
        Self {
            chunks: rx,
            handed: 0,
            eof: true,
            failed: None,
        }
    }

    /// Sends `bytes` now (counted like stdin's).
    fn send(&mut self, session: &Session, bytes: Vec<u8>) {
        self.handed += bytes.len() as u64;
        session.send_bytes(Target::AllConns, bytes);
    }

    /// Hands over what stdin has while fewer than [`WINDOW`] bytes wait for the socket
    /// (`written` of them went out). True if something was handed over or stdin ended.
    fn step(&mut self, session: &Session, written: u64) -> bool {
        let mut moved = false;
        while !self.eof && self.handed.saturating_sub(written) < WINDOW {
            match self.chunks.try_recv() {
                Ok(Input::Bytes(bytes)) => {
                    self.send(session, bytes);
                    moved = true;
                }
                Ok(Input::End) | Err(TryRecvError::Disconnected) => {
                    self.eof = true;
                    moved = true;
                }
                Ok(Input::Failed(why)) => {
                    self.failed = Some(why);
                    self.eof = true;
                    moved = true;
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        moved
    }
}

/// The session `connect`'s flags describe.
fn client_config(
    args: &args::ConnectArgs,
    remote: std::net::SocketAddr,
    url: Option<(std::net::SocketAddr, WsSettings, bool)>,
) -> SessionConfig {
    SessionConfig::tcp_client(remote)
        .connect_timeout(args.timeout)
        .framing(args.view.framing())
        .reconnect(args.reconnect())
        .tls(match &url {
            // wss:// is TLS whether or not --tls is given; the TLS flags still apply.
            Some((_, _, true)) => Some(args.tls.settings_forced()),
            _ => args.tls.settings(),
        })
        .ws(url.map(|(_, ws, _)| WsSettings {
            binary: args.ws_binary,
            subprotocol: args.subprotocol.clone().unwrap_or_default(),
            ..ws
        }))
}

/// What `connect`'s flags ask must be possible before anything opens: a readable file, sane
/// reconnect values, TLS flags that apply.
fn check_args(
    args: &args::ConnectArgs,
    url: Option<&(std::net::SocketAddr, WsSettings, bool)>,
) -> Result<(), Failure> {
    check_file(args.send.send_file.as_deref())?;
    args.check_reconnect().map_err(bad)?;
    args.tls
        .check(url.is_some_and(|(_, _, tls)| *tls))
        .map_err(bad)
}

pub(super) fn connect(args: &args::ConnectArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let url = websocket_url(args.remote.trim())?;
    let remote = match &url {
        Some((addr, _, _)) => *addr,
        None => resolve(&args.remote)?,
    };
    check_args(args, url.as_ref())?;
    let encoding = args.view.encoding;
    let mut feed = matcher_of(&args.expect, encoding, &args.view.framing())?;
    let payload = payload_of(&args.send, encoding)?;
    let config = client_config(args, remote, url);
    if args.pipe {
        return pipe(config, args, payload, feed, io);
    }
    let mut session = open(config, encoding);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    printer.set_rx_dir(Dir::Response);
    if args.reconnect.is_some() {
        // Every try is printed; it ends connected, given up, or on Ctrl+C.
        while !session.wait_until(Duration::from_millis(100), |c| {
            matches!(c.link, LinkState::Connected { .. }) || c.stopped
        }) && !io.stop.load(Ordering::Relaxed)
        {
            printer.print_new(&session.capture());
        }
    }
    wait_open(
        &session,
        &mut printer,
        args.timeout + Duration::from_millis(500),
    )?;
    let started = Instant::now();
    let mut sends = 0;
    if let Some(payload) = payload {
        session.send(Target::AllConns, payload);
        sends = 1;
    }
    if let Some(path) = &args.send.send_file {
        session.send_file(Target::AllConns, path.clone(), 64 << 10, Pace::Unlimited);
    }
    let from_stdin = sends == 0 && args.send.send_file.is_none() && !io.stdin_is_terminal;
    if from_stdin {
        let mut pump = Pump::start(&mut io.stdin)?;
        let ended = stream_stdin(
            &session,
            &mut printer,
            &mut pump,
            feed.as_mut(),
            args,
            &io.stop,
        );
        if let Some(code) = ended? {
            print_rest(&mut session, &mut printer);
            return Ok(code);
        }
    }
    let ended = match &mut feed {
        Some(feed) => {
            let deadline = started + args.timeout;
            follow(
                &session,
                &mut printer,
                Some(feed),
                Some(deadline),
                &io.stop,
                |_| false,
            )
        }
        None => {
            wait_sent(&session, &mut printer, &io.stop, sends);
            let ended = linger(&session, &mut printer, &io.stop, args.idle, args.timeout);
            if ended == Ended::Stopped {
                print_rest(&mut session, &mut printer);
            }
            let capture = session.capture();
            // A reset or a cut file is the transfer's failure (exit 1): the "not connected"
            // that follows a reset is only its echo.
            if let Some(cut) = reset_in(&capture) {
                return Err(Failure(NOT_MATCHED, cut));
            }
            if let Some(cut) = file_cut(&capture) {
                // Ctrl+C in the middle of a file is an interrupted transfer, as in --pipe.
                let code = if ended == Ended::Stopped {
                    INTERRUPTED
                } else {
                    NOT_MATCHED
                };
                return Err(Failure(code, cut));
            }
            if let Some(error) = capture.last_error.clone() {
                return Err(bad(error.to_string()));
            }
            return Ok(if ended == Ended::OutputClosed {
                OUTPUT_CLOSED
            } else {
                OK
            });
        }
    };
    if ended == Ended::Stopped {
        print_rest(&mut session, &mut printer);
    }
    verdict(ended, args.timeout)
}

/// Without `--pipe`: stdin sent as it comes, with every record printed. `Some(code)` when the
/// command ends here (the connection ended before stdin was sent, Ctrl+C, stdout closed).
fn stream_stdin(
    session: &Session,
    printer: &mut Printer<'_>,
    pump: &mut Pump,
    mut feed: Option<&mut Feed>,
    args: &args::ConnectArgs,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Option<i32>, Failure> {
    let mut written = 0;
    let mut moved_at = Instant::now();
    let started = Instant::now();
    loop {
        let moved = pump.step(session, written);
        if moved {
            moved_at = Instant::now();
        }
        let from = printer.next();
        let wait = Duration::from_millis(if moved { 1 } else { 20 });
        session.wait_until(wait, |c| c.log.next_seq() > from || c.stopped);
        let capture = session.capture();
        printer.print_new(&capture);
        if let Some(feed) = feed.as_deref_mut()
            && feed.update(&capture)
        {
            // What was expected came: the rest of stdin is not needed.
            return Ok(Some(OK));
        }
        if capture.counters.tx_bytes > written {
            written = capture.counters.tx_bytes;
            moved_at = Instant::now();
        }
        if printer.closed {
            return Ok(Some(OUTPUT_CLOSED));
        }
        if let Some(why) = pump.failed.take() {
            return Err(Failure(NOT_MATCHED, tf(S::CliStdin, &[&why])));
        }
        if pump.eof && written >= pump.handed {
            return Ok(None);
        }
        if capture.stopped {
            let why =
                reset_in(&capture).unwrap_or_else(|| tf(S::CliPipeCut, &[&written, &pump.handed]));
            return Err(Failure(NOT_MATCHED, why));
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Some(INTERRUPTED));
        }
        let waited = humantime::format_duration(args.timeout);
        if written < pump.handed && moved_at.elapsed() >= args.timeout {
            // Bytes wait for a peer that takes none.
            return Err(Failure(NOT_MATCHED, tf(S::CliStalled, &[&waited])));
        }
        if feed.is_some() && started.elapsed() >= args.timeout {
            return Err(Failure(NOT_MATCHED, tf(S::CliNoMatch, &[&waited])));
        }
        // Otherwise a quiet stdin is waited for, as nc does.
    }
}

/// Prints what still arrives until nothing came for `idle`, the peer closed, or `timeout`.
pub(super) fn linger(
    session: &Session,
    printer: &mut Printer<'_>,
    stop: &std::sync::atomic::AtomicBool,
    idle: Duration,
    timeout: Duration,
) -> Ended {
    let end = Instant::now() + timeout;
    let mut quiet_since = Instant::now();
    let mut last = session.capture().log.next_seq();
    follow(session, printer, None, Some(end), stop, |c| {
        let next = c.log.next_seq();
        if next != last {
            last = next;
            quiet_since = Instant::now();
        }
        quiet_since.elapsed() >= idle || super::receiving_over(c)
    })
}

/// The sentence of a connection that was reset or failed, if one was.
fn reset_in(capture: &Capture) -> Option<String> {
    capture
        .log
        .iter()
        .rev()
        .find(|r| matches!(r.event(), Some("reset" | "error")))
        .map(|r| r.text().into_owned())
}

/// `--pipe`: stdin to the socket as it comes, received bytes to stdout as they are, every
/// byte accounted for. Failures go to stderr; the exit code says whether all went through.
fn pipe(
    config: SessionConfig,
    args: &args::ConnectArgs,
    payload: Option<sockscope_core::codec::payload::Payload>,
    feed: Option<Feed>,
    io: &mut Io<'_>,
) -> Result<i32, Failure> {
    let websocket = config.ws.is_some();
    let (mut session, tap) = piped_session(config, args.view.encoding);
    wait_open(
        &session,
        &mut Printer::new(&mut *io.stdout, &args.view, true),
        args.timeout + Duration::from_millis(500),
    )?;
    let opts = PipeOpts {
        no_shutdown: args.no_shutdown,
        timeout: args.timeout,
        close_when_quiet: websocket.then(|| ws_quiet(args.timeout_given.then_some(args.timeout))),
    };
    run_pipe(&mut session, &tap, payload, feed, opts, io)
}

/// A session whose received bytes go to a tap (for stdout), opened on `config`, keeping a
/// peer's half-close.
pub(super) fn piped_session(
    config: SessionConfig,
    encoding: sockscope_core::codec::TextEncoding,
) -> (Session, RxTap) {
    let mut session = Session::new(std::sync::Arc::new(|| {}));
    let tap = session.tap_received();
    {
        let mut capture = session.capture();
        capture.log.set_encoding(encoding);
        // The bytes go to stdout through the tap: the log keeps only recent records.
        capture.log.set_cap(32 << 20);
        capture.raw.set_cap(1 << 20);
    }
    let _ = session.open(config, true);
    (session, tap)
}

/// Moves stdin to the session's connection and its bytes to stdout until both sides are
/// done; the exit code says whether every byte went.
pub(super) fn run_pipe(
    session: &mut Session,
    tap: &RxTap,
    payload: Option<sockscope_core::codec::payload::Payload>,
    mut feed: Option<Feed>,
    opts: PipeOpts,
    io: &mut Io<'_>,
) -> Result<i32, Failure> {
    let mut pump = if io.stdin_is_terminal && payload.is_some() {
        Pump::empty()
    } else {
        Pump::start(&mut io.stdin)?
    };
    if let Some(payload) = payload {
        let bytes = payload
            .render(&mut session.vars(), std::time::SystemTime::now())
            .map_err(|e| bad(e.to_string()))?;
        pump.send(session, bytes);
    }
    let mut state = PipeState {
        written: 0,
        moved_at: Instant::now(),
        finished: false,
        told: 0,
        failed: false,
        unsent: None,
        asked_at: Instant::now(),
    };
    let outcome = pipe_loop(session, tap, &mut pump, &mut state, feed.as_mut(), opts, io);
    let _ = io.stdout.flush();
    if outcome != Outcome::Ended {
        // Whatever arrived until now still goes out (Ctrl+C prints what came).
        session.close();
        if outcome == Outcome::Interrupted {
            let _ = drain_all(tap, io.stdout, feed.as_mut());
            let _ = io.stdout.flush();
        }
    }
    state.look(session, io);
    pipe_verdict(outcome, &state, &mut pump, feed.as_ref(), opts)
}

/// Moves bytes both ways until the connection ends, Ctrl+C, stdout closes, or nothing moves
/// for `--timeout` after stdin ended.
fn pipe_loop(
    session: &Session,
    tap: &RxTap,
    pump: &mut Pump,
    state: &mut PipeState,
    mut feed: Option<&mut Feed>,
    opts: PipeOpts,
    io: &mut Io<'_>,
) -> Outcome {
    loop {
        let (stopped, peer_finished) = state.look(session, io);
        let moved = pump.step(session, state.written);
        if moved {
            state.moved_at = Instant::now();
        }
        let all_sent = pump.eof && state.written >= pump.handed;
        let quiet = opts
            .close_when_quiet
            .is_none_or(|quiet| all_sent && state.moved_at.elapsed() >= quiet);
        if pump.eof && !state.finished && !opts.no_shutdown && quiet {
            // Like `nc -N`: once stdin ends and its bytes are written, our side is done.
            session.finish_sending(Target::AllConns);
            state.finished = true;
            if opts.close_when_quiet.is_some() {
                // Our Close went: the peer has --timeout to answer it.
                state.moved_at = Instant::now();
            }
        }
        if !stopped && state.written > 0 && state.asked_at.elapsed() >= ASK_UNSENT_EVERY {
            // What the kernel still holds for the peer: a slow reader taking it is movement.
            session.ask_unsent();
            state.asked_at = Instant::now();
        }
        // Stdin is moving: look again soon (no channel wakes this loop for stdin).
        let wait = if stopped {
            Duration::ZERO
        } else if moved {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(20)
        };
        match drain(tap, wait, io.stdout, feed.as_deref_mut()) {
            Err(()) => break Outcome::OutputClosed,
            Ok(true) => state.moved_at = Instant::now(),
            Ok(false) => {}
        }
        if stopped {
            // Everything the session received is in the tap: the collector folds it before
            // it says the session stopped.
            if drain_all(tap, io.stdout, feed.as_deref_mut()).is_err() {
                break Outcome::OutputClosed;
            }
            break Outcome::Ended;
        }
        if io.stop.load(Ordering::Relaxed) {
            break Outcome::Interrupted;
        }
        if opts.no_shutdown && all_sent && peer_finished {
            // Neither side has more to say; what came before the peer's end is in the tap.
            if drain_all(tap, io.stdout, feed.as_deref_mut()).is_err() {
                break Outcome::OutputClosed;
            }
            break Outcome::Ended;
        }
        // Idle: stdin has ended, or bytes wait for a peer that does not read them (an open
        // stdin with nothing typed is no reason to end).
        let waiting = pump.eof || state.written < pump.handed;
        if waiting && state.moved_at.elapsed() >= opts.timeout {
            break Outcome::Idle;
        }
    }
}

/// The exit code of a `--pipe` run that ended as `outcome`.
fn pipe_verdict(
    outcome: Outcome,
    state: &PipeState,
    pump: &mut Pump,
    feed: Option<&Feed>,
    opts: PipeOpts,
) -> Result<i32, Failure> {
    match outcome {
        Outcome::OutputClosed => return Ok(OUTPUT_CLOSED),
        Outcome::Interrupted => return Ok(INTERRUPTED),
        Outcome::Idle => {
            let waited = humantime::format_duration(opts.timeout);
            // Bytes wait in our queue, or in the kernel's for a peer that takes none.
            let stalled = state.written < pump.handed || state.unsent.is_some_and(|n| n > 0);
            if !stalled && state.unsent == Some(0) && pump.failed.is_none() && !state.failed {
                // Every byte reached the peer and it has been quiet for --timeout, keeping
                // the connection open: the end of a normal exchange, as for `nc -N -w`.
                if feed.is_some_and(|f| !f.met) {
                    return Err(Failure(NOT_MATCHED, tf(S::CliNoMatch, &[&waited])));
                }
                return Ok(OK);
            }
            let why = if stalled {
                tf(S::CliStalled, &[&waited])
            } else {
                tf(S::CliPipeIdle, &[&waited])
            };
            return Err(Failure(NOT_MATCHED, why));
        }
        Outcome::Ended => {}
    }
    if let Some(why) = pump.failed.take() {
        return Err(Failure(NOT_MATCHED, tf(S::CliStdin, &[&why])));
    }
    if state.failed {
        // The sentence (reset, error) is on stderr already.
        return Ok(NOT_MATCHED);
    }
    if state.written < pump.handed {
        return Err(Failure(
            NOT_MATCHED,
            tf(S::CliPipeCut, &[&state.written, &pump.handed]),
        ));
    }
    if feed.is_some_and(|f| !f.met) {
        return Err(Failure(NOT_MATCHED, tf(S::CliClosedBeforeMatch, &[])));
    }
    Ok(OK)
}

/// What a `--pipe` run needs of its command's flags.
#[derive(Clone, Copy)]
pub(super) struct PipeOpts {
    /// Keep our sending side open at the end of stdin.
    pub no_shutdown: bool,
    /// How long nothing may move (see the module's doc).
    pub timeout: Duration,
    /// WebSocket has no half-close: our Close ends the exchange, and a peer that got it
    /// answers nothing more (RFC 6455 5.5.1; an echo sent with it was lost). So at the end
    /// of stdin the Close waits until everything was written and nothing arrived for this
    /// long.
    pub close_when_quiet: Option<Duration>,
}

/// How often a `--pipe` run asks what the kernel still holds for the peer.
const ASK_UNSENT_EVERY: Duration = Duration::from_millis(100);

/// How long a WebSocket pipe waits, after stdin ended, for nothing to arrive before it closes
/// when `--timeout` is not given.
const WS_QUIET: Duration = Duration::from_secs(1);

/// How long a WebSocket pipe waits, after stdin ended, for nothing to arrive before its Close:
/// `--timeout` when given (a device that streams its answers slowly), else [`WS_QUIET`].
pub(super) fn ws_quiet(timeout: Option<Duration>) -> Duration {
    timeout.unwrap_or(WS_QUIET)
}

/// How a `--pipe` loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The connection ended (both sides done, or it failed: the log says which).
    Ended,
    /// Ctrl+C.
    Interrupted,
    /// Stdout's reader went away.
    OutputClosed,
    /// Stdin had ended and nothing moved for `--timeout`.
    Idle,
}

/// What the `--pipe` loop knows of the session between looks.
struct PipeState {
    /// Bytes written to the socket.
    written: u64,
    /// When bytes last went either way.
    moved_at: Instant,
    /// Our sending side is asked to finish.
    finished: bool,
    /// Records looked at for errors.
    told: u64,
    /// An error (a reset …) was told on stderr.
    failed: bool,
    /// Bytes written that the peer has not acknowledged yet (the kernel's send queue, summed
    /// over the connections), as last asked; `None` where the OS does not say.
    unsent: Option<u64>,
    /// When the kernel's queue was last asked for.
    asked_at: Instant,
}

impl PipeState {
    /// Looks at the session: bytes written, errors (told on stderr). Returns whether the
    /// session stopped and whether the peer finished sending.
    fn look(&mut self, session: &Session, io: &mut Io<'_>) -> (bool, bool) {
        let capture = session.capture();
        if capture.counters.tx_bytes > self.written {
            self.written = capture.counters.tx_bytes;
            self.moved_at = Instant::now();
        }
        for record in capture.log.iter_from(self.told) {
            if record.kind == RecordKind::Error {
                // An unverified certificate (--insecure) is said, as a warning: asked for.
                if !matches!(record.event(), Some("tls" | "certificate")) {
                    self.failed = true;
                }
                let _ = writeln!(io.stderr, "{}", record.text());
            }
        }
        self.told = capture.log.next_seq();
        if !capture.clients.is_empty() {
            let unsent = capture
                .clients
                .values()
                .map(|c| c.unsent)
                .sum::<Option<u64>>();
            if let (Some(before), Some(now)) = (self.unsent, unsent)
                && now < before
            {
                // The peer took some of what the kernel held for it.
                self.moved_at = Instant::now();
            }
            self.unsent = unsent;
        }
        let peer_finished =
            !capture.clients.is_empty() && capture.clients.values().all(|c| c.half_closed);
        (capture.stopped, peer_finished)
    }
}

/// Writes what the tap has (waiting at most `wait` for the first bytes) to `out`. `Ok(true)`
/// if bytes came; `Err` when `out` is closed.
fn drain(
    tap: &RxTap,
    wait: Duration,
    out: &mut dyn Write,
    mut feed: Option<&mut Feed>,
) -> Result<bool, ()> {
    let Some(first) = tap.recv_timeout(wait) else {
        return Ok(false);
    };
    let mut chunk = Some(first);
    let mut budget = 16usize;
    while let Some(bytes) = chunk {
        out.write_all(&bytes).map_err(|_| ())?;
        if let Some(feed) = feed.as_deref_mut() {
            feed.push(&bytes);
        }
        budget -= 1;
        chunk = if budget == 0 { None } else { tap.try_recv() };
    }
    out.flush().map_err(|_| ())?;
    Ok(true)
}

/// Writes everything the tap holds.
fn drain_all(tap: &RxTap, out: &mut dyn Write, mut feed: Option<&mut Feed>) -> Result<(), ()> {
    while let Some(bytes) = tap.try_recv() {
        out.write_all(&bytes).map_err(|_| ())?;
        if let Some(feed) = feed.as_deref_mut() {
            feed.push(&bytes);
        }
    }
    out.flush().map_err(|_| ())
}
