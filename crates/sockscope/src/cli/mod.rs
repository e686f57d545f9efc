//! The command line: `sockscope connect | listen | udp | run`, on the same core session as the
//! window, printing the same words (human lines, or `--json` lines for machines).
//!
//! Exit codes: 0 done (an expectation matched, or nothing was expected and the send worked),
//! 1 an expectation was not met in time, 2 bad input or a socket that could not be opened —
//! each with a sentence on stderr.

pub mod args;
mod bench;
mod print;
mod relay;
mod test;

use std::io::{Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser as _;
use sockscope_core::capture::{Capture, ExportFormat, LinkState, RecordFormat, RecordKind};
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::expect::{Expect, Matcher};
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::payload::{InputMode, Payload, SendSpec};
use sockscope_core::engine::{Command as EngineCommand, Mode, Pace, Reply, SessionConfig, Target};
use sockscope_core::i18n::{self, Lang, S, tf};
use sockscope_core::session::Session;

pub use args::{Cli, Command};
use print::Printer;

/// The command worked (or matched).
pub const OK: i32 = 0;
/// An expectation was not met in time.
pub const NOT_MATCHED: i32 = 1;
/// Bad input, or a socket that could not be opened.
pub const BAD_INPUT: i32 = 2;

/// How often the loops look at the session when nothing wakes them.
const STEP: Duration = Duration::from_millis(50);

/// What a command reads and writes: real stdin/stdout/stderr, or a test's buffers.
pub struct Io<'a> {
    /// What `--pipe` and a send from stdin read.
    pub stdin: Box<dyn Read + Send>,
    /// Whether stdin is a terminal (then it is not read as something to send).
    pub stdin_is_terminal: bool,
    /// Where records go.
    pub stdout: &'a mut dyn Write,
    /// Where failures are told.
    pub stderr: &'a mut dyn Write,
    /// Set to stop (Ctrl+C).
    pub stop: Arc<AtomicBool>,
}

/// Parses `args` (the program name first) and runs the command; returns the exit code. Help
/// and version print to stdout and return 0; a bad argument prints clap's message and returns 2.
pub fn run_args<I, T>(args: I, io: &mut Io<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(Cli {
            command: Some(command),
            lang,
            ..
        }) => {
            i18n::set_lang(match lang {
                Some(args::LangArg::Zh) => Lang::Zh,
                Some(args::LangArg::En) => Lang::En,
                None => system_lang(),
            });
            execute(command, io)
        }
        Ok(_) => {
            let _ = writeln!(io.stderr, "{}", Cli::command_help());
            BAD_INPUT
        }
        Err(e) => {
            let code = if e.use_stderr() { BAD_INPUT } else { OK };
            let text = e.render().to_string();
            let out: &mut dyn Write = if e.use_stderr() { io.stderr } else { io.stdout };
            let _ = write!(out, "{text}");
            code
        }
    }
}

impl Cli {
    fn command_help() -> String {
        <Cli as clap::CommandFactory>::command()
            .render_help()
            .to_string()
    }
}

/// The language the OS is set to.
pub fn system_lang() -> Lang {
    sys_locale::get_locale().map_or(Lang::En, |tag| Lang::from_locale(&tag))
}

/// Runs one command.
pub fn execute(command: Command, io: &mut Io<'_>) -> i32 {
    let result = match command {
        Command::Connect(args) => connect(&args, io),
        Command::Listen(args) => listen(&args, io),
        Command::Udp(args) => udp(&args, io),
        Command::Run(args) => run_profile(&args, io),
        Command::Test(args) => test::test_profile(&args, io),
        Command::Bench(args) => bench::bench(&args, io),
        Command::Relay(args) => relay::relay(&args, io),
    };
    match result {
        Ok(code) => code,
        Err(Failure(code, sentence)) => {
            let _ = writeln!(io.stderr, "{sentence}");
            code
        }
    }
}

/// An exit code and the sentence that says why.
struct Failure(i32, String);

fn bad(sentence: impl Into<String>) -> Failure {
    Failure(BAD_INPUT, sentence.into())
}

/// `HOST:PORT` as an address (names are looked up).
fn resolve(text: &str) -> Result<SocketAddr, Failure> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = text.rsplit_once(':') else {
        return Err(bad(tf(S::CliNotHostPort, &[&text])));
    };
    let port = sockscope_core::engine::parse_port(port).map_err(|e| bad(e.to_string()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // Something that looks like an address but is not one says what is wrong with it.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':') {
        let ip = sockscope_core::engine::parse_ip(host).map_err(|e| bad(e.to_string()))?;
        return Ok(SocketAddr::new(ip, port));
    }
    (host, port)
        .to_socket_addrs()
        .map_err(|e| bad(tf(S::CliCannotResolve, &[&host, &e])))?
        .next()
        .ok_or_else(|| bad(tf(S::CliCannotResolve, &[&host, &"no address"])))
}

/// The payload of `--send` / `--send-hex`, or stdin's bytes when neither (nor a file) is given.
fn payload_of(
    send: &args::Send,
    encoding: TextEncoding,
    io: &mut Io<'_>,
    stdin_too: bool,
) -> Result<Option<Payload>, Failure> {
    let spec = |mode| SendSpec {
        mode,
        encoding,
        ..SendSpec::default()
    };
    let parsed = if let Some(text) = &send.send {
        Payload::parse(text, &spec(InputMode::Escapes))
    } else if let Some(hex) = &send.send_hex {
        Payload::parse(hex, &spec(InputMode::Hex))
    } else if send.send_file.is_none() && stdin_too && !io.stdin_is_terminal {
        let mut bytes = Vec::new();
        io.stdin
            .read_to_end(&mut bytes)
            .map_err(|e| bad(tf(S::CliStdin, &[&e])))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(Payload::bytes(bytes))
    } else {
        return Ok(None);
    };
    parsed.map(Some).map_err(|e| bad(e.to_string()))
}

/// The expectation of `--expect*`, if any.
fn matcher_of(expect: &args::Expect, encoding: TextEncoding) -> Result<Option<Matcher>, Failure> {
    let made = if let Some(text) = &expect.expect {
        Expect::text(text, encoding)
    } else if let Some(hex) = &expect.expect_hex {
        Expect::hex(hex)
    } else if let Some(re) = &expect.expect_regex {
        Expect::regex(re)
    } else {
        return Ok(None);
    };
    made.map(|e| Some(Matcher::new(e, encoding)))
        .map_err(|e| bad(e.to_string()))
}

/// A file to send must be readable before anything opens.
fn check_file(path: Option<&Path>) -> Result<(), Failure> {
    if let Some(path) = path {
        std::fs::metadata(path)
            .and_then(|m| {
                if m.is_file() {
                    Ok(())
                } else {
                    Err(std::io::Error::other("not a file"))
                }
            })
            .map_err(|e| bad(tf(S::CliCannotRead, &[&path.display(), &e])))?;
    }
    Ok(())
}

/// A session with the view's encoding, opened on `config`.
fn open(config: SessionConfig, encoding: TextEncoding) -> Session {
    let mut session = Session::new(Arc::new(|| {}));
    {
        let mut capture = session.capture();
        capture.log.set_encoding(encoding);
        capture.raw.set_encoding(encoding);
    }
    // A failure to start a thread is in the log like any other error.
    let _ = session.open(config, false);
    session
}

/// Waits until the session is listening, connected, or has failed; prints what happened.
/// Returns the failure's sentence when it did not open.
fn wait_open(
    session: &Session,
    printer: &mut Printer<'_>,
    timeout: Duration,
) -> Result<(), Failure> {
    session.wait_until(timeout, |c| {
        matches!(
            c.link,
            LinkState::Listening(_) | LinkState::Connected { .. }
        ) || c.stopped
    });
    let capture = session.capture();
    printer.print_new(&capture);
    match (&capture.link, &capture.last_error) {
        (LinkState::Listening(_) | LinkState::Connected { .. }, _) => Ok(()),
        (_, Some(error)) => Err(bad(error.to_string())),
        _ => Err(bad(tf(
            S::CliNoAnswer,
            &[&humantime::format_duration(timeout)],
        ))),
    }
}

/// Received bytes of the records `printer` has not fed the matcher yet.
fn feed(matcher: &mut Matcher, capture: &Capture, from: u64) -> bool {
    let mut met = false;
    for record in capture.log.iter_from(from) {
        if record.kind == RecordKind::Rx {
            met |= matcher.push(record.bytes);
        }
    }
    met
}

/// Follows the session until `done` says so, `deadline` passes, the session ends or Ctrl+C,
/// printing every record and feeding `matcher`. Returns why it stopped.
fn follow(
    session: &Session,
    printer: &mut Printer<'_>,
    mut matcher: Option<&mut Matcher>,
    deadline: Option<Instant>,
    stop: &AtomicBool,
    mut done: impl FnMut(&Capture) -> bool,
) -> Ended {
    loop {
        let from = printer.next();
        let wait = deadline.map_or(STEP, |d| {
            d.saturating_duration_since(Instant::now()).min(STEP)
        });
        session.wait_until(wait, |c| c.log.next_seq() > from || c.stopped);
        let capture = session.capture();
        printer.print_new(&capture);
        if let Some(m) = matcher.as_deref_mut()
            && feed(m, &capture, from)
        {
            return Ended::Matched;
        }
        if done(&capture) {
            return Ended::Done;
        }
        if capture.stopped {
            return Ended::Closed;
        }
        if stop.load(Ordering::Relaxed) {
            return Ended::Stopped;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ended::TimedOut;
        }
    }
}

/// Why [`follow`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ended {
    Matched,
    Done,
    Closed,
    Stopped,
    TimedOut,
}

/// The outcome of waiting for an expectation.
fn verdict(ended: Ended, timeout: Duration) -> Result<i32, Failure> {
    match ended {
        Ended::Matched => Ok(OK),
        Ended::Closed => Err(Failure(NOT_MATCHED, tf(S::CliClosedBeforeMatch, &[]))),
        Ended::Stopped => Err(Failure(NOT_MATCHED, tf(S::CliStoppedBeforeMatch, &[]))),
        Ended::Done | Ended::TimedOut => Err(Failure(
            NOT_MATCHED,
            tf(S::CliNoMatch, &[&humantime::format_duration(timeout)]),
        )),
    }
}

/// Waits until everything queued has gone out (or failed).
fn wait_sent(session: &Session, printer: &mut Printer<'_>, stop: &AtomicBool, sends: u64) {
    let deadline = Instant::now() + Duration::from_mins(10);
    follow(session, printer, None, Some(deadline), stop, |c| {
        (c.counters.tx_messages >= sends
            && c.sending.file.is_none()
            && c.sending.scheduled.is_none())
            || c.last_error.is_some()
    });
}

/// `ws://HOST:PORT/PATH` or `wss://…`: the address part, the WebSocket settings, and whether
/// it is over TLS. Plain `HOST:PORT` is neither.
fn websocket_url(text: &str) -> Option<(&str, sockscope_core::engine::WsSettings, bool)> {
    let (rest, tls) = if let Some(rest) = text.strip_prefix("wss://") {
        (rest, true)
    } else {
        (text.strip_prefix("ws://")?, false)
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (rest.get(..at)?, rest.get(at..)?),
        None => (rest, "/"),
    };
    let settings = sockscope_core::engine::WsSettings {
        path: path.to_owned(),
        host: authority.to_owned(),
        ..sockscope_core::engine::WsSettings::default()
    };
    Some((authority, settings, tls))
}

fn connect(args: &args::ConnectArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let url = websocket_url(args.remote.trim());
    let remote = resolve(url.as_ref().map_or(args.remote.as_str(), |(a, _, _)| a))?;
    check_file(args.send.send_file.as_deref())?;
    let encoding = args.view.encoding;
    let mut matcher = matcher_of(&args.expect, encoding)?;
    let payload = if args.pipe {
        None
    } else {
        payload_of(&args.send, encoding, io, true)?
    };
    let config = SessionConfig {
        mode: Mode::TcpClient,
        local: SocketAddr::from(([0, 0, 0, 0], 0)),
        remote: Some(remote),
        connect_timeout: args.timeout,
        framing: args.view.framing.clone(),
        reconnect: args.reconnect(),
        udp: sockscope_core::engine::UdpOptions::default(),
        tls: match &url {
            // wss:// is TLS whether or not --tls is given; the TLS flags still apply.
            Some((_, _, true)) => Some(args.tls.settings_forced(false)),
            _ => args.tls.settings(false),
        },
        ws: url.map(|(_, ws, _)| sockscope_core::engine::WsSettings {
            binary: args.ws_binary,
            subprotocol: args.subprotocol.clone().unwrap_or_default(),
            ..ws
        }),
        relay: None,
    };
    let session = open(config, encoding);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, args.pipe);
    if args.reconnect.is_some() {
        // Every try is printed; it ends connected, given up, or on Ctrl+C.
        while !session.wait_until(Duration::from_millis(100), |c| {
            matches!(c.link, LinkState::Connected { .. }) || c.stopped
        }) && !io.stop.load(std::sync::atomic::Ordering::Relaxed)
        {
            printer.print_new(&session.capture());
        }
    }
    wait_open(
        &session,
        &mut printer,
        args.timeout + Duration::from_millis(500),
    )?;
    if args.pipe {
        return pipe(
            &session,
            &mut printer,
            &mut *io.stdin,
            &io.stop,
            args.timeout,
        );
    }
    let started = Instant::now();
    let mut sends = 0;
    if let Some(payload) = payload {
        session.send(Target::AllConns, payload);
        sends = 1;
    }
    if let Some(path) = &args.send.send_file {
        session.send_file(Target::AllConns, path.clone(), 4096, Pace::Unlimited);
    }
    match &mut matcher {
        Some(matcher) => {
            let deadline = started + args.timeout;
            let ended = follow(
                &session,
                &mut printer,
                Some(matcher),
                Some(deadline),
                &io.stop,
                |_| false,
            );
            verdict(ended, args.timeout)
        }
        None => {
            wait_sent(&session, &mut printer, &io.stop, sends);
            if let Some(error) = session.capture().last_error.clone() {
                return Err(bad(error.to_string()));
            }
            linger(&session, &mut printer, &io.stop, args.idle, args.timeout);
            Ok(OK)
        }
    }
}

/// Prints what still arrives until nothing came for `idle`, the peer closed, or `timeout`.
fn linger(
    session: &Session,
    printer: &mut Printer<'_>,
    stop: &AtomicBool,
    idle: Duration,
    timeout: Duration,
) {
    let end = Instant::now() + timeout;
    let mut quiet_since = Instant::now();
    let mut last = session.capture().log.next_seq();
    follow(session, printer, None, Some(end), stop, |c| {
        let next = c.log.next_seq();
        if next != last {
            last = next;
            quiet_since = Instant::now();
        }
        quiet_since.elapsed() >= idle
    });
}

/// `--pipe`: stdin to the socket as it comes, received bytes to stdout as they are.
fn pipe(
    session: &Session,
    printer: &mut Printer<'_>,
    stdin: &mut (dyn Read + Send),
    stop: &AtomicBool,
    timeout: Duration,
) -> Result<i32, Failure> {
    let (tx, rx) = std::sync::mpsc::channel::<Option<Vec<u8>>>();
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("sockscope-stdin".into())
            .spawn_scoped(scope, move || {
                let mut buf = vec![0u8; 64 << 10];
                loop {
                    match stdin.read(&mut buf) {
                        Ok(0) | Err(_) => {
                            let _ = tx.send(None);
                            return;
                        }
                        Ok(n) => {
                            if tx.send(buf.get(..n).map(<[u8]>::to_vec)).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        if reader.is_err() {
            return Err(bad(tf(S::CliStdin, &[&"thread"])));
        }
        let mut stdin_done_at: Option<Instant> = None;
        loop {
            while let Ok(chunk) = rx.try_recv() {
                match chunk {
                    Some(bytes) => session.send_bytes(Target::AllConns, bytes),
                    None => stdin_done_at = Some(Instant::now()),
                }
            }
            let from = printer.next();
            session.wait_until(Duration::from_millis(20), |c| {
                c.log.next_seq() > from || c.stopped
            });
            let capture = session.capture();
            printer.print_new(&capture);
            if capture.stopped || stop.load(Ordering::Relaxed) {
                return Ok(OK);
            }
            if stdin_done_at.is_some_and(|at| at.elapsed() >= timeout) {
                return Ok(OK);
            }
        }
    })
}

fn listen(args: &args::ListenArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let encoding = args.view.encoding;
    let reply = reply_of(
        args.echo,
        args.reply.as_deref(),
        args.reply_hex.as_deref(),
        encoding,
    )?;
    let config = SessionConfig {
        mode: Mode::TcpServer,
        local: args.bind,
        remote: None,
        connect_timeout: Duration::from_secs(5),
        framing: args.view.framing.clone(),
        reconnect: None,
        udp: sockscope_core::engine::UdpOptions::default(),
        tls: args.tls.settings(true),
        ws: args.ws.then(sockscope_core::engine::WsSettings::default),
        relay: None,
    };
    let mut session = Session::new(Arc::new(|| {}));
    {
        let mut capture = session.capture();
        capture.log.set_encoding(encoding);
        if let Some(path) = &args.record
            && let Err(e) = capture.start_recording(path.clone(), RecordFormat::Raw)
        {
            return Err(bad(tf(S::RecordFailed, &[&path.display(), &e])));
        }
    }
    let _ = session.open(config, false);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    if reply.is_some() {
        session.command(EngineCommand::SetReply(reply));
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    let count = args.count;
    follow(&session, &mut printer, None, deadline, &io.stop, |c| {
        count.is_some_and(|n| c.counters.rx_messages >= n)
    });
    session.stop_recording();
    if let Some(path) = &args.pcap {
        save_pcap(&mut session, path, &mut printer)?;
    }
    Ok(OK)
}

/// Writes the log to `path` as pcap, all of it, and says so.
fn save_pcap(session: &mut Session, path: &Path, printer: &mut Printer<'_>) -> Result<(), Failure> {
    session.export(ExportFormat::Pcap, path.to_path_buf());
    while session.poll() {}
    let capture = session.capture();
    printer.print_new(&capture);
    match capture.log.iter().next_back() {
        Some(last) if last.kind == RecordKind::Error => Err(bad(last.text().into_owned())),
        _ => Ok(()),
    }
}

/// The automatic answer of `--echo`, `--reply` or `--reply-hex`.
fn reply_of(
    echo: bool,
    text: Option<&str>,
    hex: Option<&str>,
    encoding: TextEncoding,
) -> Result<Option<Reply>, Failure> {
    if echo {
        return Ok(Some(Reply::Echo));
    }
    let bytes = match (text, hex) {
        (Some(text), _) => {
            sockscope_core::codec::escape::parse(text, encoding).map_err(|e| bad(e.to_string()))?
        }
        (None, Some(hex)) => {
            sockscope_core::codec::hex::parse(hex).map_err(|e| bad(e.to_string()))?
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(Reply::Bytes(bytes)))
}

fn udp(args: &args::UdpArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let encoding = args.view.encoding;
    let to = args.to.as_deref().map(resolve).transpose()?;
    check_file(args.send.send_file.as_deref())?;
    let mut matcher = matcher_of(&args.expect, encoding)?;
    let payload = payload_of(&args.send, encoding, io, args.to.is_some())?;
    let sends_something = payload.is_some() || args.send.send_file.is_some();
    let to = match (to, sends_something) {
        (Some(to), _) => Some(Target::Addr(to)),
        (None, true) => return Err(bad(tf(S::CliUdpNeedsTo, &[]))),
        (None, false) => None,
    };
    let config = SessionConfig {
        mode: Mode::Udp,
        local: args.bind,
        remote: None,
        connect_timeout: Duration::from_secs(5),
        framing: Framing::None,
        reconnect: None,
        udp: args.udp_options(),
        tls: None,
        ws: None,
        relay: None,
    };
    let session = open(config, encoding);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    if !args.join.is_empty() {
        // Every group joined, or the first failure's sentence (exit 2).
        session.wait_until(Duration::from_secs(2), |c| {
            c.groups.len() == args.join.len() || c.last_error.is_some()
        });
        let capture = session.capture();
        printer.print_new(&capture);
        if let Some(error) = capture.last_error.clone() {
            return Err(bad(error.to_string()));
        }
    }
    let started = Instant::now();
    let mut sends = 0;
    if let (Some(to), Some(payload)) = (&to, payload) {
        match args.every {
            Some(every) => {
                session.start_cyclic(to.clone(), payload, every, args.count);
                sends = args.count.unwrap_or(0);
            }
            None => {
                session.send(to.clone(), payload);
                sends = 1;
            }
        }
    }
    if let (Some(to), Some(path)) = (&to, &args.send.send_file) {
        session.send_file(to.clone(), path.clone(), 1024, Pace::Unlimited);
    }
    if let Some(matcher) = &mut matcher {
        let deadline = started + args.timeout;
        let ended = follow(
            &session,
            &mut printer,
            Some(matcher),
            Some(deadline),
            &io.stop,
            |_| false,
        );
        return verdict(ended, args.timeout);
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    let received = if args.every.is_none() {
        args.count
    } else {
        None
    };
    let cyclic_forever = args.every.is_some() && args.count.is_none();
    if sends_something && received.is_none() && deadline.is_none() && !cyclic_forever {
        // Send and go: wait for the sends, then for what comes back shortly after.
        wait_sent(&session, &mut printer, &io.stop, sends);
        if let Some(error) = session.capture().last_error.clone() {
            return Err(bad(error.to_string()));
        }
        linger(
            &session,
            &mut printer,
            &io.stop,
            Duration::from_millis(300),
            args.timeout,
        );
        return Ok(OK);
    }
    follow(&session, &mut printer, None, deadline, &io.stop, |c| {
        received.is_some_and(|n| c.counters.rx_messages >= n)
    });
    Ok(OK)
}

/// A profile's session settings with the command line's overrides; warnings go to stderr.
fn load_form(
    path: &Path,
    local_port: Option<u16>,
    remote: Option<&str>,
    io: &mut Io<'_>,
) -> Result<sockscope_core::profile::Form, Failure> {
    let loaded = sockscope_core::profile::load(path)
        .map_err(|e| bad(tf(S::ProfileFailed, &[&path.display(), &e])))?;
    for warning in &loaded.warnings {
        let _ = writeln!(
            io.stderr,
            "{}",
            tf(S::ProfileWarning, &[&path.display(), warning])
        );
    }
    let mut form = loaded.profile.session;
    if let Some(port) = local_port {
        *form.local_port_mut() = port.to_string();
    }
    if let Some(remote) = remote {
        let addr = resolve(remote)?;
        form.remote_ip = addr.ip().to_string();
        form.remote_port = addr.port().to_string();
    }
    Ok(form)
}

/// The sentences of a form's address errors, joined.
fn field_sentences(errors: sockscope_core::profile::FieldErrors) -> String {
    [
        errors.local_ip,
        errors.local_port,
        errors.remote_ip,
        errors.remote_port,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<String>>()
    .join("; ")
}

fn run_profile(args: &args::RunArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let form = load_form(&args.profile, args.local_port, args.remote.as_deref(), io)?;
    if form.automation.active() {
        // A wrong rule is bad input: say which, before anything opens.
        sockscope_core::rules::Machine::compile(&form.automation, form.encoding)
            .map_err(|e| bad(e.message))?;
    }
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    if let Err(errors) = session.open_form(&form) {
        return Err(bad(field_sentences(errors)));
    }
    let view = args::View {
        encoding: form.encoding,
        framing: Framing::None,
        hex: args.hex || form.rx_hex,
        json: args.json,
    };
    let mut printer = Printer::new(&mut *io.stdout, &view, false);
    wait_open(
        &session,
        &mut printer,
        Duration::from_secs_f32(form.connect_timeout_s) + STEP,
    )?;
    if form.cyclic_on_open {
        let mut errors = sockscope_core::profile::FieldErrors::default();
        let selection = sockscope_core::session::Selection::Default;
        if let Err(why) = session.start_cyclic_form(&form, selection, &mut errors) {
            let _ = writeln!(io.stderr, "{why}");
        }
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    follow(&session, &mut printer, None, deadline, &io.stop, |_| false);
    Ok(OK)
}
