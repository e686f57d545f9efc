//! `sockscope listen`: a TCP server (or a WebSocket or TLS one) on the command line.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sockscope_core::capture::{ExportFormat, RecordFormat, RecordKind};
use sockscope_core::engine::{Command as EngineCommand, SessionConfig};
use sockscope_core::i18n::{S, tf};
use sockscope_core::protocol::Dir;
use sockscope_core::session::Session;

use super::print::Printer;
use super::{
    Ended, Failure, INTERRUPTED, Io, OK, OUTPUT_CLOSED, STEP, args, bad, connect, follow,
    print_rest, reply_of, wait_open,
};

pub(super) fn listen(args: &args::ListenArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let encoding = args.view.encoding;
    let reply = reply_of(
        args.echo,
        args.reply.as_deref(),
        args.reply_hex.as_deref(),
        encoding,
    )?;
    let config = SessionConfig::tcp_server(args.bind)
        .framing(args.view.framing())
        .tls(args.tls.settings())
        .ws(args.ws.then(sockscope_core::engine::WsSettings::default));
    if args.pipe {
        return listen_pipe(args, config, io);
    }
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
    // A client that half-closes gets its replies, then the connection closes (as `nc -N`
    // expects of a server).
    let _ = session.open(config, false);
    if reply.is_some() {
        // Before anything is accepted: a client that sends at once gets its answer.
        session.command(EngineCommand::SetReply(reply));
    }
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    printer.set_rx_dir(Dir::Request);
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    let deadline = args.duration.map(|d| Instant::now() + d);
    let count = args.count;
    let mut first_seen = false;
    let ended = follow(&session, &mut printer, None, deadline, &io.stop, |c| {
        // `locals` keeps every connection that stood, also one that came and went between
        // two looks.
        if args.once && !first_seen && !c.locals.conns.is_empty() {
            // One client: the others are refused while it stays.
            first_seen = true;
            session.command(EngineCommand::StopListening {
                close_clients: false,
            });
        }
        count.is_some_and(|n| c.counters.rx_messages >= n) || (first_seen && c.clients.is_empty())
    });
    if ended == Ended::OutputClosed {
        session.stop_recording();
        return Ok(OUTPUT_CLOSED);
    }
    // Ctrl+C, the end of --duration or --count: what was received is printed before the end.
    print_rest(&mut session, &mut printer);
    session.stop_recording();
    if let Some(path) = &args.pcap {
        save_pcap(&mut session, path, &mut printer)?;
    }
    Ok(OK)
}

/// `listen --pipe`: the first client, stdin to it and its bytes to stdout.
fn listen_pipe(
    args: &args::ListenArgs,
    config: SessionConfig,
    io: &mut Io<'_>,
) -> Result<i32, Failure> {
    let (mut session, tap) = connect::piped_session(config, args.view.encoding);
    if let Some(path) = &args.record {
        session.start_recording(path.clone(), RecordFormat::Raw);
    }
    wait_open(
        &session,
        &mut Printer::new(&mut *io.stdout, &args.view, true),
        Duration::from_secs(5),
    )?;
    let deadline = args.duration.map(|d| Instant::now() + d);
    while !session.wait_until(STEP, |c| !c.clients.is_empty() || c.stopped) {
        if io.stop.load(Ordering::Relaxed) {
            return Ok(INTERRUPTED);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(OK);
        }
    }
    // One client: the others are refused.
    session.command(EngineCommand::StopListening {
        close_clients: false,
    });
    let opts = connect::PipeOpts {
        no_shutdown: args.no_shutdown,
        timeout: args.timeout,
        close_when_quiet: args
            .ws
            .then(|| connect::ws_quiet(args.timeout_given.then_some(args.timeout))),
    };
    let code = connect::run_pipe(&mut session, &tap, None, None, opts, io);
    session.stop_recording();
    code
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
