//! `sockscope bench`: the load generator of the Load window on the command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::payload::InputMode;
use sockscope_core::i18n::{S, t, tf};

use super::values::{Expect, Send, parse_duration, parse_encoding};
use super::{Failure, INTERRUPTED, Io, NOT_MATCHED, OK, bad, payload_of};

/// How `sockscope bench` waits for replies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// Fire and forget: as fast as --rate allows.
    Throughput,
    /// Send, wait for a reply (--expect*, if given), time it.
    PingPong,
    /// Send, wait for the same bytes back, time it.
    Echo,
}

/// `sockscope bench`.
#[derive(Debug, Args)]
#[command(mut_arg("send_file", |a| a.help(
    "The request: this file's bytes, whole, as each request (at most 64 MiB)"
)))]
// The reply conditions are `connect`'s options; for bench they say what a reply must hold.
#[command(mut_arg("expect", |a| a.help(
    "Ping-pong: a reply must hold this text (in --encoding); another reply is a wrong reply, none within --timeout a timeout"
)))]
#[command(mut_arg("expect_hex", |a| a.help(
    "Ping-pong: a reply must hold these bytes (hex, ?? for any byte); else it is a wrong reply"
)))]
#[command(mut_arg("expect_regex", |a| a.help(
    "Ping-pong: a reply must match this regular expression; else it is a wrong reply"
)))]
pub struct BenchArgs {
    /// The target: HOST:PORT or tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, or
    /// ws://HOST:PORT/PATH or wss://HOST:PORT/PATH (WebSocket: each request one message).
    pub target: String,
    /// What to wait for after each request.
    #[arg(long, value_enum, default_value = "ping-pong")]
    pub mode: BenchMode,
    /// TCP connections (UDP sockets) at once.
    #[arg(long, short = 'c', default_value = "1")]
    pub connections: usize,
    /// A new TCP connection for every request (short connections).
    #[arg(long)]
    pub per_request: bool,
    /// Requests per second in all (`2000`, `2000/s`), or bytes per second (`10MB/s`,
    /// `512KB/s`, `1GB/s`); default: as fast as possible.
    #[arg(long, value_name = "RATE")]
    pub rate: Option<String>,
    /// Rise from 0 to --rate over this long.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub ramp: Duration,
    /// Run this long (default 10s, unless --count is given).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Send this many requests.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// The request (default "ping").
    #[command(flatten)]
    pub send: Send,
    /// Ping-pong: what a reply must hold.
    #[command(flatten)]
    pub expect: Expect,
    /// How long a reply may take.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Text encoding of --send and --expect.
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,
    /// Write the per-second timeline here as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Print the report as one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 if the 99th percentile latency is above this.
    #[arg(long, value_parser = parse_duration, value_name = "TIME")]
    pub max_p99: Option<Duration>,
    /// Exit 1 if more requests than this failed.
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
    /// TLS (on with --tls, a tls:// or a wss:// target).
    #[command(flatten)]
    pub tls: super::values::ClientTls,
}

pub use sockscope_core::bench::rate_from_text as parse_rate;

/// The largest request `--send-file` sends (each connection holds one copy while it sends).
const MAX_REQUEST_FILE: u64 = 64 << 20;

/// `--send-file`: the file's bytes are the request, whole.
fn request_file(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    let cannot = |e: &dyn std::fmt::Display| bad(tf(S::CliCannotRead, &[&path.display(), e]));
    let len = std::fs::metadata(path).map_err(|e| cannot(&e))?.len();
    if len > MAX_REQUEST_FILE {
        return Err(bad(tf(
            S::CliBenchFileTooLarge,
            &[&path.display(), &len, &MAX_REQUEST_FILE],
        )));
    }
    std::fs::read(path).map_err(|e| cannot(&e))
}

/// The reply condition `--expect*` gives, compiled, and as typed (for the report).
fn expect_of(
    args: &BenchArgs,
) -> Result<(Option<sockscope_core::rules::cond::Matcher>, String), Failure> {
    use sockscope_core::rules::{Cond, Match};
    let expect_text = if let Some(text) = &args.expect.expect {
        format!("--expect {text}")
    } else if let Some(hex) = &args.expect.expect_hex {
        format!("--expect-hex {hex}")
    } else if let Some(re) = &args.expect.expect_regex {
        format!("--expect-regex {re}")
    } else {
        String::new()
    };
    let expect = if let Some(text) = &args.expect.expect {
        Some(Cond::Text(Match::Contains, text.clone()))
    } else if let Some(hex) = &args.expect.expect_hex {
        Some(Cond::Bytes(Match::Contains, hex.clone()))
    } else {
        args.expect.expect_regex.clone().map(Cond::Regex)
    };
    let expect = expect
        .map(|c| c.compile(args.encoding))
        .transpose()
        .map_err(bad)?;
    Ok((expect, expect_text))
}

/// The generator's spec from `sockscope bench`'s arguments; bad ones are exit 2.
fn bench_spec(args: &BenchArgs) -> Result<sockscope_core::bench::Spec, Failure> {
    use sockscope_core::bench::{self, Mode as Wait};
    let target = bench::target_from_text(&args.target).map_err(bad)?;
    args.tls.check(target.tls).map_err(bad)?;
    if target.udp && args.tls.tls {
        return Err(bad(t(S::ErrTlsNeedsTcp)));
    }
    let tls = (target.tls || args.tls.tls).then(|| args.tls.settings_forced());
    let payload = if let Some(path) = &args.send.send_file {
        request_file(path)?
    } else {
        match payload_of(&args.send, args.encoding)? {
            Some(payload) => payload
                .render(
                    &mut sockscope_core::codec::payload::VarState::new(1, 1),
                    std::time::SystemTime::now(),
                )
                .map_err(|e| bad(e.to_string()))?,
            None => b"ping".to_vec(),
        }
    };
    if payload.is_empty() {
        return Err(bad(t(S::ErrRequestEmpty)));
    }
    // A request with variables is made anew for each send.
    let vary = match &args.send.send {
        Some(text) if text.contains("{{") => Some(
            sockscope_core::rules::template::Template::compile(
                &sockscope_core::rules::ReplySpec {
                    payload: text.clone(),
                    mode: InputMode::Escapes,
                    encoding: Some(args.encoding),
                    ..sockscope_core::rules::ReplySpec::default()
                },
                args.encoding,
            )
            .map_err(bad)?,
        ),
        _ => None,
    };
    let rate = match &args.rate {
        None => None,
        Some(text) => Some(parse_rate(text, payload.len()).map_err(bad)?),
    };
    let (expect, expect_text) = expect_of(args)?;
    if args.connections == 0 || args.connections > 100_000 {
        return Err(bad(tf(S::CliBadConnections, &[&args.connections])));
    }
    let mut spec = bench::Spec {
        connections: args.connections,
        per_request: args.per_request,
        mode: match args.mode {
            BenchMode::Throughput => Wait::Throughput,
            BenchMode::PingPong => Wait::PingPong,
            BenchMode::Echo => Wait::Echo,
        },
        rate,
        ramp: args.ramp,
        duration: args
            .duration
            .or_else(|| args.count.is_none().then_some(Duration::from_secs(10))),
        count: args.count,
        payload,
        vary,
        expect,
        expect_text,
        timeout: args.timeout,
        encoding: args.encoding,
        // The saved settings say what was asked: the text as typed (a template keeps its
        // variables), or the file's name, not the first request's bytes.
        request_text: args
            .send
            .send
            .clone()
            .or_else(|| args.send.send_hex.clone())
            .unwrap_or_default(),
        request_file: args
            .send
            .send_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        ..bench::Spec::default()
    };
    target.apply(&mut spec, tls);
    Ok(spec)
}

/// `sockscope bench`: the generator on this thread; Ctrl+C stops it and the report is printed.
pub(super) fn bench(args: &BenchArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let spec = bench_spec(args)?;
    let report = sockscope_core::bench::run(&spec, &io.stop, None);
    if args.json {
        let _ = writeln!(io.stdout, "{}", report.to_json());
    } else {
        let _ = writeln!(io.stdout, "{}", report.summary());
    }
    if let Some(path) = &args.csv {
        // UTF-8 with a byte-order mark, as the log's CSV: Excel on a Chinese Windows reads a
        // file without one as GBK (a request in Chinese came out as mojibake).
        let csv = format!("{}{}", sockscope_core::capture::UTF8_BOM, report.to_csv());
        std::fs::write(path, csv)
            .map_err(|e| bad(tf(S::CliCannotWrite, &[&path.display(), &e])))?;
    }
    // The run gave up on connections before its count was sent: as unreachable, exit 2.
    if report.not_sent > 0 {
        return Err(bad(tf(
            S::CliBenchGaveUp,
            &[
                &report.settings.target,
                &report.settings.timeout.as_secs_f64(),
                &report.causes_text(),
                &report.not_sent,
                &report.settings.count.unwrap_or(report.not_sent),
            ],
        )));
    }
    // Nothing reached the target: as a socket that could not be opened, exit 2.
    // (A connection whose TLS handshake or WebSocket upgrade failed carried no request.)
    if report.ready == 0 && report.failed_total() > 0 {
        return Err(bad(tf(
            S::CliBenchNoConnection,
            &[&report.settings.target, &report.causes_text()],
        )));
    }
    // Ctrl+C: the report of what was done, and the exit an interrupted program gives.
    let mut code = if report.stopped { INTERRUPTED } else { OK };
    if report.sent > 0 && report.settled() == 0 && report.failed_requests > 0 {
        let _ = writeln!(
            io.stderr,
            "{}",
            tf(S::CliBenchAllFailed, &[&report.causes_text()])
        );
        code = NOT_MATCHED;
    }
    if let Some(max) = args.max_p99
        && report.percentile(0.99) > max
    {
        let _ = writeln!(
            io.stderr,
            "{}",
            tf(
                S::CliP99Over,
                &[
                    &humantime::format_duration(report.percentile(0.99)),
                    &humantime::format_duration(max)
                ]
            )
        );
        code = NOT_MATCHED;
    }
    if let Some(max) = args.max_errors
        && report.failed_total() > max
    {
        let _ = writeln!(
            io.stderr,
            "{}",
            tf(S::CliErrorsOver, &[&report.failed_total(), &max])
        );
        code = NOT_MATCHED;
    }
    Ok(code)
}
