//! The command line: `sockscope connect | listen | udp | relay | run | test | bench`, on the
//! same core session as the window, printing the same words (human lines, or `--json` lines
//! for machines).
//!
//! Exit codes (docs/CLI.md says the same): 0 done (an expectation
//! matched, or nothing was expected and every byte went), 1 an expectation was not met, or a
//! transfer was cut (a reset, a peer that stopped reading, a connection that ended before all
//! was sent), 2 bad input or a socket that could not be opened, 130 stopped by Ctrl+C in the
//! middle of a `--pipe` transfer or a `--send-file`, 141 stdout was closed by its reader (`| head`) — each but
//! the last with a sentence on stderr.

pub mod args;
mod bench;
mod connect;
pub mod console;
mod decode;
mod hits;
mod listen;
mod locale;
mod print;
mod protocols;
mod relay;
mod run;
mod test;
mod udp;
mod values;

use std::io::{Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sockscope_core::capture::{Capture, LinkState, RecordKind};
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::expect::{Expect, Matcher};
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::payload::{InputMode, Payload, SendSpec};
use sockscope_core::engine::{Reply, SessionConfig};
use sockscope_core::i18n::{self, Lang, S, t, tf};
use sockscope_core::session::Session;

pub use args::{Cli, Command};
use print::Printer;

/// The command worked (or matched).
pub const OK: i32 = 0;
/// An expectation was not met in time, or a transfer was cut.
pub const NOT_MATCHED: i32 = 1;
/// Bad input, or a socket that could not be opened.
pub const BAD_INPUT: i32 = 2;
/// Ctrl+C stopped a `--pipe` transfer or a file send in the middle (128 + SIGINT, as shells
/// count it).
pub const INTERRUPTED: i32 = 130;
/// Stdout was closed by its reader (128 + SIGPIPE, as `yes | head` ends `yes`).
pub const OUTPUT_CLOSED: i32 = 141;

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
    let args = locale::decode_args(args.into_iter().map(Into::into).collect());
    let zh_asked = lang_asked(&args) == Some(Lang::Zh);
    // The value parsers' sentences (a duration, a TTL) come in the language asked for.
    i18n::set_lang(lang_asked(&args).unwrap_or_else(system_lang));
    match parse(&args) {
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
            match locale::encoding().filter(|_| writes_text(&command)) {
                Some(encoding) => {
                    let mut stdout = locale::Transcode::new(&mut *io.stdout, encoding);
                    let mut stderr = locale::Transcode::new(&mut *io.stderr, encoding);
                    let mut text_io = Io {
                        stdin: std::mem::replace(&mut io.stdin, Box::new(std::io::empty())),
                        stdin_is_terminal: io.stdin_is_terminal,
                        stdout: &mut stdout,
                        stderr: &mut stderr,
                        stop: Arc::clone(&io.stop),
                    };
                    execute(command, &mut text_io)
                }
                None => execute(command, io),
            }
        }
        Ok(_) => {
            let _ = writeln!(io.stderr, "{}", Cli::command_help());
            BAD_INPUT
        }
        Err(e) => {
            let code = if e.use_stderr() { BAD_INPUT } else { OK };
            let text = match chinese_error(&e, zh_asked) {
                Some(zh) => zh,
                None => e.render().to_string(),
            };
            let out: &mut dyn Write = if e.use_stderr() { io.stderr } else { io.stdout };
            let _ = write!(out, "{text}");
            code
        }
    }
}

/// The language `--lang zh|en` (or `--lang=zh`) asks for, if it is given.
pub fn lang_asked(args: &[std::ffi::OsString]) -> Option<Lang> {
    let value = args
        .windows(2)
        .filter(|w| w.first().is_some_and(|a| a == "--lang"))
        .find_map(|w| w.get(1).cloned())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.to_str()?.strip_prefix("--lang=").map(Into::into))
        })?;
    match value.to_str()? {
        "zh" => Some(Lang::Zh),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// The command line as clap reads it, with what the derive cannot say: whether `--timeout`
/// was given or is its default.
fn parse(args: &[std::ffi::OsString]) -> Result<Cli, clap::Error> {
    use clap::{CommandFactory as _, FromArgMatches as _};
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let given = |name: &str| {
        matches
            .subcommand_matches(name)
            .and_then(|m| m.value_source("timeout"))
            == Some(clap::parser::ValueSource::CommandLine)
    };
    match &mut cli.command {
        Some(Command::Connect(a)) => a.timeout_given = given("connect"),
        Some(Command::Listen(a)) => a.timeout_given = given("listen"),
        _ => {}
    }
    Ok(cli)
}

/// Clap's error in Chinese, when the output is (`--lang zh`, or a Chinese system without
/// `--lang`): the common kinds, with the argument and value clap found; `None` for the rest
/// (and for help and version, which are not errors).
fn chinese_error(e: &clap::Error, zh_asked: bool) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !e.use_stderr() || !(zh_asked || system_lang() == Lang::Zh) {
        return None;
    }
    let lang = i18n::lang();
    i18n::set_lang(Lang::Zh);
    let value = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        _ => String::new(),
    };
    let sentence = match e.kind() {
        ErrorKind::UnknownArgument => {
            let near = value(ContextKind::SuggestedArg);
            let near = if near.is_empty() {
                String::new()
            } else {
                tf(S::CliDidYouMean, &[&near])
            };
            Some(tf(
                S::CliUnknownArgument,
                &[&value(ContextKind::InvalidArg), &near],
            ))
        }
        ErrorKind::ArgumentConflict => Some(tf(
            S::CliArgumentConflict,
            &[
                &value(ContextKind::InvalidArg),
                &value(ContextKind::PriorArg),
            ],
        )),
        ErrorKind::MissingRequiredArgument => Some(tf(
            S::CliMissingArgument,
            &[&value(ContextKind::InvalidArg)],
        )),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => Some(tf(
            S::CliInvalidValue,
            &[
                &value(ContextKind::InvalidValue),
                &value(ContextKind::InvalidArg),
            ],
        )),
        _ => None,
    };
    // A value parser's own reason (an address, a duration) follows, as clap shows it.
    let reason = std::error::Error::source(e).map_or_else(String::new, |r| format!(": {r}"));
    let out = sentence.map(|s| format!("{s}{reason}\n{}\n", t(S::CliSeeHelp)));
    i18n::set_lang(lang);
    out
}

impl Cli {
    fn command_help() -> String {
        <Cli as clap::CommandFactory>::command()
            .render_help()
            .to_string()
    }
}

/// The command names, for "did you mean" (main.rs asks before clap sees a mistyped one).
pub fn command_names() -> Vec<String> {
    <Cli as clap::CommandFactory>::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// `word` is no command: the sentence that says so, with the nearest command when one is close
/// (`lsiten` → `listen`, `conect` → `connect`).
pub fn unknown_command(word: &str) -> String {
    // In the language asked for (`--lang zh conect`), as every other sentence.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    i18n::set_lang(lang_asked(&args).unwrap_or_else(system_lang));
    let near = command_names()
        .into_iter()
        .map(|name| (edit_distance(word, &name), name))
        .filter(|(d, name)| *d <= 2.max(name.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, name)| tf(S::CliDidYouMean, &[&name]))
        .unwrap_or_default();
    tf(S::CliUnknownCommand, &[&word, &near])
}

/// Levenshtein distance, counting a swap of two neighbours as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = d.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = d.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let get = |i, j| d.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut best = (get(i - 1, j) + 1)
                .min(get(i, j - 1) + 1)
                .min(get(i - 1, j - 1) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                best = best.min(get(i - 2, j - 2) + 1);
            }
            if let Some(cell) = d.get_mut(at(i, j)) {
                *cell = best;
            }
        }
    }
    d.last().copied().unwrap_or(0)
}

/// Whether `command` writes text for people (transcoded to a locale that is not UTF-8), not
/// raw bytes (`--pipe`) or JSON.
fn writes_text(command: &Command) -> bool {
    match command {
        Command::Connect(a) => !a.pipe && !a.view.json,
        Command::Listen(a) => !a.pipe && !a.view.json,
        Command::Udp(a) => !a.view.json,
        Command::Relay(a) => !a.view.json,
        Command::Run(a) => !a.json,
        Command::Bench(a) => !a.json,
        Command::Test(_) => true,
        Command::Decode(a) => !a.json,
        Command::Protocols(a) => !a.json && a.export.is_none(),
    }
}

/// The language the OS is set to.
pub fn system_lang() -> Lang {
    sys_locale::get_locale().map_or(Lang::En, |tag| Lang::from_locale(&tag))
}

/// Runs one command.
pub fn execute(command: Command, io: &mut Io<'_>) -> i32 {
    let result = match command {
        Command::Connect(args) => connect::connect(&args, io),
        Command::Listen(args) => listen::listen(&args, io),
        Command::Udp(args) => udp::udp(&args, io),
        Command::Run(args) => run::run_profile(&args, io),
        Command::Test(args) => test::test_profile(&args, io),
        Command::Bench(args) => bench::bench(&args, io),
        Command::Relay(args) => relay::relay(&args, io),
        Command::Decode(args) => decode::decode(&args, io),
        Command::Protocols(args) => protocols::protocols(&args, io),
    };
    match result {
        Ok(code) => code,
        Err(Failure(code, sentence)) => {
            if !sentence.is_empty() {
                let _ = writeln!(io.stderr, "{sentence}");
            }
            code
        }
    }
}

/// An exit code and the sentence that says why.
struct Failure(i32, String);

fn bad(sentence: impl Into<String>) -> Failure {
    Failure(BAD_INPUT, sentence.into())
}

/// `HOST:PORT` as an address (names are looked up). `default_port` is taken when the text has
/// none (a WebSocket URL's 80 or 443); else a missing port is said.
fn resolve_with(text: &str, default_port: Option<u16>) -> Result<SocketAddr, Failure> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return dialable(addr, text);
    }
    if let Some(scheme) = text.split_once("://").map(|(s, _)| s) {
        return Err(bad(tf(S::CliUnknownScheme, &[&text, &scheme])));
    }
    // `[v6]`, `[v6]:port`; an opening bracket must be closed.
    let (host, port) = if let Some(inner) = text.strip_prefix('[') {
        let Some((ip, after)) = inner.split_once(']') else {
            return Err(bad(tf(S::CliNoClosingBracket, &[&text])));
        };
        match (after.strip_prefix(':'), after.is_empty()) {
            (Some(port), _) => (ip, Some(port)),
            (None, true) => (ip, None),
            (None, false) => return Err(bad(tf(S::CliNotHostPort, &[&text]))),
        }
    } else if text.matches(':').count() > 1 {
        // A bare IPv6 address: its port needs brackets.
        return Err(bad(tf(S::CliV6NeedsBrackets, &[&text])));
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    if host.trim().is_empty() {
        return Err(bad(tf(S::CliNoHost, &[&text])));
    }
    let port = match (port, default_port) {
        (Some(port), _) if port.trim().is_empty() => {
            return Err(bad(tf(S::CliNoPort, &[&text])));
        }
        (Some(port), _) => {
            sockscope_core::engine::parse_port(port).map_err(|e| bad(format!("'{text}': {e}")))?
        }
        (None, Some(port)) => port,
        (None, None) => return Err(bad(tf(S::CliNotHostPort, &[&text]))),
    };
    // Something that looks like an address but is not one says what is wrong with it.
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':') {
        let ip = sockscope_core::engine::parse_ip(host).map_err(|e| bad(e.to_string()))?;
        return dialable(SocketAddr::new(ip, port), text);
    }
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| bad(tf(S::CliCannotResolve, &[&host, &e])))?
        .next()
        .ok_or_else(|| bad(tf(S::CliCannotResolve, &[&host, &"no address"])))?;
    dialable(addr, text)
}

/// Port 0 is "any port" when binding, never a server's port.
fn dialable(addr: SocketAddr, text: &str) -> Result<SocketAddr, Failure> {
    if addr.port() == 0 {
        return Err(bad(tf(S::CliPortZero, &[&text])));
    }
    Ok(addr)
}

/// `HOST:PORT` as an address (names are looked up).
fn resolve(text: &str) -> Result<SocketAddr, Failure> {
    resolve_with(text, None)
}

/// The payload of `--send` / `--send-hex`, if given.
fn payload_of(send: &args::Send, encoding: TextEncoding) -> Result<Option<Payload>, Failure> {
    let spec = |mode| SendSpec {
        mode,
        encoding,
        ..SendSpec::default()
    };
    let parsed = if let Some(text) = &send.send {
        Payload::parse(text, &spec(InputMode::Escapes))
    } else if let Some(hex) = &send.send_hex {
        Payload::parse(hex, &spec(InputMode::Hex))
    } else {
        return Ok(None);
    };
    parsed.map(Some).map_err(|e| bad(e.to_string()))
}

/// All of stdin, for the commands that send it as one message (`udp`): `None` when stdin is a
/// terminal or empty.
fn stdin_message(io: &mut Io<'_>) -> Result<Option<Payload>, Failure> {
    if io.stdin_is_terminal {
        return Ok(None);
    }
    let mut bytes = Vec::new();
    match io.stdin.read_to_end(&mut bytes) {
        // No stdin at all (closed): nothing to send.
        Err(_) if bytes.is_empty() => return Ok(None),
        Err(e) => return Err(bad(tf(S::CliStdin, &[&e]))),
        Ok(_) => {}
    }
    if bytes.is_empty() {
        return Ok(None);
    }
    Ok(Some(Payload::bytes(bytes)))
}

/// The expectation of `--expect*`, if any.
fn matcher_of(
    expect: &args::Expect,
    encoding: TextEncoding,
    framing: &Framing,
) -> Result<Option<Feed>, Failure> {
    let given = [&expect.expect, &expect.expect_hex, &expect.expect_regex];
    if given
        .iter()
        .any(|e| e.as_deref().is_some_and(|e| e.trim().is_empty()))
    {
        // It would match anything, or (as text) wait out the timeout: neither is asked for.
        return Err(bad(t(S::CliEmptyExpect)));
    }
    let made = if let Some(text) = &expect.expect {
        Expect::text(text, encoding)
    } else if let Some(hex) = &expect.expect_hex {
        Expect::hex(hex)
    } else if let Some(re) = &expect.expect_regex {
        Expect::regex(re)
    } else {
        return Ok(None);
    };
    made.map(|e| {
        Some(Feed::new(
            Matcher::new(e, encoding),
            *framing != Framing::None,
        ))
    })
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

/// A session with the view's encoding, opened on `config` (TCP: a peer's half-close is kept,
/// as docs/CLI.md says: what we still send goes on).
fn open(config: SessionConfig, encoding: TextEncoding) -> Session {
    let mut session = Session::new(Arc::new(|| {}));
    {
        let mut capture = session.capture();
        capture.log.set_encoding(encoding);
        capture.raw.set_encoding(encoding);
    }
    // A failure to start a thread is in the log like any other error.
    let _ = session.open(config, true);
    session
}

/// Waits until the session is listening, connected, or has failed; prints what happened.
/// Returns the failure's sentence when it did not open. A connection that stood and already
/// ended (a server that sent and closed at once) did open: what it sent is in the log.
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
        _ if !capture.locals.conns.is_empty() => Ok(()),
        (_, Some(error)) => Err(bad(error.to_string())),
        _ => Err(bad(tf(
            S::CliNoAnswer,
            &[&humantime::format_duration(timeout)],
        ))),
    }
}

/// An expectation and how far the log has been fed to it: from the first record on, whatever
/// was printed before the waiting began (a banner that came with the connect).
struct Feed {
    matcher: Matcher,
    next: u64,
    met: bool,
    /// A framing splits what arrives into messages: each is checked on its own (a match
    /// never spans two frames, the delimiters between them are not in the log). Without
    /// one, the stream is checked as it came, across reads.
    framed: bool,
}

impl Feed {
    fn new(matcher: Matcher, framed: bool) -> Self {
        Self {
            matcher,
            next: 0,
            met: false,
            framed,
        }
    }

    /// Feeds the received records not fed yet; true once the expectation is met.
    fn update(&mut self, capture: &Capture) -> bool {
        for record in capture.log.iter_from(self.next) {
            if record.kind == RecordKind::Rx && !self.met {
                self.met = if self.framed {
                    self.matcher.push_message(record.bytes)
                } else {
                    self.matcher.push(record.bytes)
                };
            }
        }
        self.next = capture.log.next_seq();
        self.met
    }

    /// Feeds bytes that came another way (the `--pipe` tap).
    fn push(&mut self, bytes: &[u8]) -> bool {
        if !self.met {
            self.met = self.matcher.push(bytes);
        }
        self.met
    }
}

/// True when nothing more can arrive: the session ended, or (a TCP client) the peer finished
/// sending and nothing of ours is still going out.
fn receiving_over(capture: &Capture) -> bool {
    capture.stopped
        || (capture.mode.caps().connects
            && !capture.clients.is_empty()
            && capture.clients.values().all(|c| c.half_closed)
            && !file_sending(capture)
            && capture.sending.scheduled.is_none())
}

/// A file send is under way: from the moment it is asked for (its name is set then, its
/// progress only with the first report) to its end.
fn file_sending(capture: &Capture) -> bool {
    capture.sending.file.is_some() || capture.sending.file_name.is_some()
}

/// Follows the session until `done` says so, `deadline` passes, the session ends or Ctrl+C,
/// printing every record and feeding `feed`. Returns why it stopped.
fn follow(
    session: &Session,
    printer: &mut Printer<'_>,
    mut feed: Option<&mut Feed>,
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
        if printer.closed {
            return Ended::OutputClosed;
        }
        if let Some(feed) = feed.as_deref_mut()
            && feed.update(&capture)
        {
            return Ended::Matched;
        }
        if done(&capture) {
            return Ended::Done;
        }
        if capture.stopped || (feed.is_some() && receiving_over(&capture)) {
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
    /// The reader of stdout went away.
    OutputClosed,
}

/// The outcome of waiting for an expectation.
fn verdict(ended: Ended, timeout: Duration) -> Result<i32, Failure> {
    match ended {
        Ended::Matched => Ok(OK),
        Ended::OutputClosed => Ok(OUTPUT_CLOSED),
        Ended::Closed => Err(Failure(NOT_MATCHED, tf(S::CliClosedBeforeMatch, &[]))),
        Ended::Stopped => Err(Failure(NOT_MATCHED, tf(S::CliStoppedBeforeMatch, &[]))),
        Ended::Done | Ended::TimedOut => Err(Failure(
            NOT_MATCHED,
            tf(S::CliNoMatch, &[&humantime::format_duration(timeout)]),
        )),
    }
}

/// After Ctrl+C (or the end): the session is closed, so everything it received is in the log,
/// and whatever was not printed yet is printed before the command ends.
fn print_rest(session: &mut Session, printer: &mut Printer<'_>) {
    // A file still going out stops first, so how far it got is said (`file-stopped`), not
    // lost in the close.
    if file_sending(&session.capture()) {
        session.cancel_file();
        session.wait_until(Duration::from_secs(2), |c| !file_sending(c) || c.stopped);
    }
    session.close();
    printer.print_new(&session.capture());
}

/// Waits until everything queued has gone out (or failed).
fn wait_sent(session: &Session, printer: &mut Printer<'_>, stop: &AtomicBool, sends: u64) {
    let deadline = Instant::now() + Duration::from_mins(10);
    follow(session, printer, None, Some(deadline), stop, |c| {
        (c.counters.tx_messages >= sends && !file_sending(c) && c.sending.scheduled.is_none())
            || c.last_error.is_some()
    });
}

/// A file send that stopped short, in the log since `from`: its sentence.
fn file_cut(capture: &Capture) -> Option<String> {
    capture
        .log
        .iter()
        .rev()
        .find(|r| r.event() == Some("file-stopped"))
        .map(|r| r.text().into_owned())
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
