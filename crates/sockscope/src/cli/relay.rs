//! `sockscope relay`: every client of a local port relayed to an upstream through a link made
//! worse on purpose, both directions printed.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::Args;
use sockscope_core::engine::SessionConfig;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::session::Session;

use super::print::Printer;
use super::values::{View, parse_bind, parse_duration};
use super::{Failure, Io, OK, bad, open, resolve, wait_open};

/// The log's cap with --quiet: the events it prints are small, and the relayed bytes need not
/// be kept (memory then stays flat however long the relay runs).
const QUIET_LOG_CAP: usize = 4 << 20;
/// The log the relay keeps behind what it printed.
const PRINTED_LOG_CAP: usize = 32 << 20;

/// Text formatted while the log is locked, at most, before it is let go and the text written:
/// the session folds what arrives in between, whatever stdout's speed.
const PRINT_CHUNK: usize = 256 << 10;

/// `sockscope relay`.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Where clients connect: PORT, or IP:PORT.
    #[arg(value_parser = parse_bind)]
    pub bind: std::net::SocketAddr,
    /// Where each client is relayed to: HOST:PORT.
    pub upstream: String,
    /// Relay UDP datagrams (else TCP).
    #[arg(long)]
    pub udp: bool,
    /// Impairments of client → upstream: latency=20ms,jitter=5ms,drop=5%,rate=100KB/s,cut=4096.
    #[arg(long, value_name = "SPEC", value_parser = parse_impairment, default_value = "")]
    pub up: sockscope_core::engine::Impairment,
    /// Impairments of upstream → client (same form as --up).
    #[arg(long, value_name = "SPEC", value_parser = parse_impairment, default_value = "")]
    pub down: sockscope_core::engine::Impairment,
    /// The same impairments both ways (instead of --up and --down).
    #[arg(long, value_name = "SPEC", value_parser = parse_impairment, conflicts_with_all = ["up", "down"])]
    pub both: Option<sockscope_core::engine::Impairment>,
    /// Stop after this long (default: until Ctrl+C).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Print the events only (pairs, half-closes, ends, cuts, drops, errors), not what is
    /// relayed: the relay then goes as fast as the network.
    #[arg(long, short = 'q', visible_alias = "events-only")]
    pub quiet: bool,
    /// What the upstream sends, when it speaks another protocol than the clients (--protocol):
    /// its replies are cut by this protocol's frame layer and decoded with it.
    #[arg(long, value_name = "NAME|FILE", value_parser = super::values::parse_protocol)]
    pub upstream_protocol: Option<std::sync::Arc<sockscope_core::protocol::Protocol>>,
    /// How relayed data is shown.
    #[command(flatten)]
    pub view: View,
}

fn parse_impairment(text: &str) -> Result<sockscope_core::engine::Impairment, String> {
    sockscope_core::engine::Impairment::parse(text)
}

pub(super) fn relay(args: &RelayArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let upstream = resolve(&args.upstream)?;
    let (up, down) = args.both.map_or((args.up, args.down), |both| (both, both));
    if !args.udp && (up.drop_percent > 0.0 || down.drop_percent > 0.0) {
        return Err(bad(t(S::CliRelayTcpDrop)));
    }
    let config = SessionConfig::relay(
        args.bind,
        sockscope_core::engine::RelayConfig {
            upstream,
            udp: args.udp,
            to_upstream: up,
            to_client: down,
            // The upstream's own frame layer, when it speaks another protocol and no
            // --framing is given.
            replies_framing: args
                .upstream_protocol
                .as_ref()
                .filter(|_| args.view.framing == sockscope_core::codec::framing::Framing::None)
                .map(|p| p.framing().unwrap_or_default()),
        },
    )
    .framing(args.view.framing());
    let session = open(config, args.view.encoding);
    // What is relayed is printed as it comes (or not at all with --quiet): the log keeps
    // only recent records behind the printer (the events stay in it). With the window's cap
    // a 200 MB transfer grew the relay to 230 MB.
    let cap = if args.quiet {
        QUIET_LOG_CAP
    } else {
        PRINTED_LOG_CAP
    };
    session.capture().log.set_cap(cap);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    printer
        .upstream_protocol
        .clone_from(&args.upstream_protocol);
    printer.relay_upstream = Some(upstream);
    printer.events_only = args.quiet;
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    // What the relay does to each direction, before anything goes through it.
    printer.note(&tf(
        S::CliRelayApplies,
        &[
            &t(S::RelayUp),
            &up.describe(),
            &t(S::RelayDown),
            &down.describe(),
        ],
    ));
    let deadline = args.duration.map(|d| Instant::now() + d);
    follow_relay(&session, &mut printer, deadline, &io.stop);
    Ok(OK)
}

/// Prints the relay's log as it grows until the deadline, the end or Ctrl+C. The log is
/// locked only to format a bounded chunk; the text is written after it is let go, so a slow
/// terminal never slows the relay (records the log's cap dropped first are counted).
fn follow_relay(
    session: &Session,
    printer: &mut Printer<'_>,
    deadline: Option<Instant>,
    stop: &std::sync::atomic::AtomicBool,
) {
    let tick = Duration::from_millis(50);
    loop {
        let from = printer.next();
        let wait = deadline.map_or(tick, |d| {
            d.saturating_duration_since(Instant::now()).min(tick)
        });
        session.wait_until(wait, |c| c.log.next_seq() > from || c.stopped);
        let (more, stopped) = {
            let capture = session.capture();
            (printer.format_new(&capture, PRINT_CHUNK), capture.stopped)
        };
        printer.write_pending();
        if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        // After the session's end, what is left in its log is printed first.
        if stopped && !more {
            return;
        }
    }
}
