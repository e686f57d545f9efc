//! `sockscope relay`: every client of a local port relayed to an upstream through a link made
//! worse on purpose, both directions printed.

use std::time::{Duration, Instant};

use clap::Args;
use sockscope_core::engine::{Mode, SessionConfig};

use super::args::{View, parse_bind, parse_duration};
use super::print::Printer;
use super::{Failure, Io, OK, follow, open, resolve, wait_open};

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
    let config = SessionConfig {
        mode: Mode::Relay,
        local: args.bind,
        remote: Some(upstream),
        connect_timeout: Duration::from_secs(5),
        framing: args.view.framing.clone(),
        reconnect: None,
        udp: sockscope_core::engine::UdpOptions::default(),
        tls: None,
        ws: None,
        relay: Some(sockscope_core::engine::RelayConfig {
            upstream,
            udp: args.udp,
            to_upstream: up,
            to_client: down,
        }),
    };
    let session = open(config, args.view.encoding);
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    printer.relay_upstream = Some(upstream);
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    let deadline = args.duration.map(|d| Instant::now() + d);
    follow(&session, &mut printer, None, deadline, &io.stop, |_| false);
    Ok(OK)
}
