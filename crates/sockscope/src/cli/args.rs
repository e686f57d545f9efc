//! The command line's words (clap). Every option has a help line; values that need parsing
//! (addresses, durations, framings) are parsed here, so a bad one is refused before anything
//! opens, with exit code 2.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub use super::bench::{BenchArgs, BenchMode, parse_rate};
pub use super::decode::{DecodeArgs, DirArg};
pub use super::protocols::ProtocolsArgs;
pub use super::relay::RelayArgs;
pub use super::values::ClientTls;
pub use super::values::{
    Expect, Send, View, parse_bind, parse_duration, parse_encoding, parse_framing, parse_timeout,
};

/// SockScope — a TCP/UDP debugging assistant (网络调试助手). Without a command it opens the
/// window; with a profile (.ron) it opens the window with that profile in a tab.
#[derive(Debug, Parser)]
#[command(name = "sockscope", version)]
pub struct Cli {
    /// What to do without a window.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A session profile (.ron) to open in the window.
    pub profile: Option<PathBuf>,
    /// Language of what is printed (default: the system's).
    #[arg(long, global = true, value_enum, display_order = 10_000)]
    pub lang: Option<LangArg>,
}

/// A language of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LangArg {
    /// English.
    En,
    /// 简体中文.
    Zh,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Connect to a TCP server, send, and check the reply, or pipe stdin and stdout through it
    /// (exit 0 matched or every byte went, 1 not matched or a transfer cut, 2 bad input or a
    /// failed connect, 130 Ctrl+C during --pipe, 141 stdout closed).
    Connect(ConnectArgs),
    /// Listen for TCP clients and print every event and message.
    Listen(ListenArgs),
    /// Bind a UDP socket, send, receive and check.
    Udp(UdpArgs),
    /// Run a profile's session without a window and print its log.
    Run(RunArgs),
    /// Run a profile's scripted conversations and say which passed (exit 0 all passed, 1 one
    /// failed, 2 bad input or a failed connect); --junit writes a report CI systems read.
    Test(TestArgs),
    /// Load a server: many connections or datagrams, a rate, a duration or a count; prints
    /// sent / received / failed by cause and latency percentiles (exit 1 when a --max-*
    /// threshold is passed).
    Bench(BenchArgs),
    /// Relay every client of a local port to an upstream, through a link made worse on
    /// purpose (latency, jitter, drops, a bandwidth cap, a cut), printing both directions.
    Relay(RelayArgs),
    /// Decode frames as named fields with a protocol: HEX, hex lines on stdin, or a capture
    /// file (exit 0 every frame decoded with its checks holding, 1 one did not, 2 bad input).
    Decode(DecodeArgs),
    /// List the built-in protocols, check a spec file (--check), print one for editing
    /// (--export).
    Protocols(ProtocolsArgs),
}

/// `sockscope connect`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The server: HOST:PORT (a name, an IPv4 or [IPv6] address), or a WebSocket URL
    /// ws://HOST:PORT/PATH or wss://HOST:PORT/PATH (WebSocket over TLS).
    pub remote: String,
    /// WebSocket: send each message as binary (else as text when it is UTF-8).
    #[arg(long)]
    pub ws_binary: bool,
    /// WebSocket: the subprotocol to offer.
    #[arg(long, value_name = "NAME")]
    pub subprotocol: Option<String>,
    /// What to send.
    #[command(flatten)]
    pub send: Send,
    /// What the reply must hold.
    #[command(flatten)]
    pub expect: Expect,
    /// How long the connect, and then the expected reply, may take; with --pipe, how long
    /// nothing may move after stdin ended (`5`, `5s`, `300ms`); over ws:// with --pipe, how
    /// long nothing must arrive after stdin ended before the Close (1s when not given).
    #[arg(long, default_value = "5s", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// `--timeout` was on the command line (not its default).
    #[arg(skip)]
    pub timeout_given: bool,
    /// Without an expectation: stop once nothing arrived for this long after sending.
    #[arg(long, default_value = "300ms", value_parser = parse_duration, conflicts_with = "pipe")]
    pub idle: Duration,
    /// Like `nc -N`: stdin is sent as it comes, what arrives goes to stdout as raw bytes. At
    /// the end of stdin the sending side is shut down (half-close) and the reply read until
    /// the peer closes; a peer's half-close does not stop what we send. Exit 0 only when
    /// every byte went both ways.
    #[arg(long, conflicts_with_all = ["send_file", "json", "hex", "hexdump", "reconnect"])]
    pub pipe: bool,
    /// With --pipe, as ncat does by default: keep our sending side open at the end of stdin
    /// and wait for the peer to close.
    #[arg(long, requires = "pipe")]
    pub no_shutdown: bool,
    /// Connect again after a refused connect or a drop, first after this long (`1s`); each
    /// wait after that is the one before times --backoff, at most --max-wait.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_duration)]
    pub reconnect: Option<Duration>,
    /// Reconnect: each wait is the one before times this.
    #[arg(long, default_value = "2", requires = "reconnect")]
    pub backoff: f32,
    /// Reconnect: the longest wait.
    #[arg(long, default_value = "30s", value_parser = parse_duration, requires = "reconnect")]
    pub max_wait: Duration,
    /// Reconnect: give up after this many new tries, the first connect not counted (0 =
    /// never): `--max-tries 3` connects at most 4 times, as the window counts them.
    #[arg(long, default_value = "0", requires = "reconnect")]
    pub max_tries: u32,
    /// TLS.
    #[command(flatten)]
    pub tls: ClientTls,
    /// How received data is read and shown.
    #[command(flatten)]
    pub view: View,
}

/// The shortest wait before a reconnect: a shorter one is a tight loop against a refusing
/// port.
pub const MIN_RECONNECT: Duration = Duration::from_millis(50);

impl ConnectArgs {
    /// Refuses reconnect values that would be changed or ignored without a word: a wait under
    /// [`MIN_RECONNECT`], a backoff under 1, a longest wait under the first.
    pub fn check_reconnect(&self) -> Result<(), String> {
        use sockscope_core::i18n::{S, tf};
        let Some(first) = self.reconnect else {
            return Ok(());
        };
        let shown = |d: Duration| humantime::format_duration(d).to_string();
        if first < MIN_RECONNECT {
            return Err(tf(
                S::CliReconnectTooSoon,
                &[&shown(first), &shown(MIN_RECONNECT)],
            ));
        }
        if !self.backoff.is_finite() || self.backoff < 1.0 {
            return Err(tf(S::CliBackoffBelowOne, &[&self.backoff]));
        }
        if self.max_wait < first {
            return Err(tf(
                S::CliMaxWaitBelowFirst,
                &[&shown(self.max_wait), &shown(first), &shown(first)],
            ));
        }
        Ok(())
    }

    /// The reconnect policy the flags describe.
    pub fn reconnect(&self) -> Option<sockscope_core::engine::Reconnect> {
        self.reconnect
            .map(|first| sockscope_core::engine::Reconnect {
                interval_ms: first.as_millis() as u64,
                backoff: self.backoff,
                max_interval_ms: self.max_wait.as_millis() as u64,
                max_tries: self.max_tries,
            })
    }
}

/// `sockscope listen`.
#[derive(Debug, Args)]
pub struct ListenArgs {
    /// Where to listen: PORT, or IP:PORT.
    #[arg(value_parser = parse_bind)]
    pub bind: std::net::SocketAddr,
    /// Send every message back to its sender.
    #[arg(long, conflicts_with_all = ["reply", "reply_hex"])]
    pub echo: bool,
    /// Answer every message with this text (escapes work).
    #[arg(long, value_name = "TEXT", conflicts_with = "reply_hex")]
    pub reply: Option<String>,
    /// Answer every message with these bytes.
    #[arg(long, value_name = "HEX")]
    pub reply_hex: Option<String>,
    /// Stop after this many messages were received.
    #[arg(long)]
    pub count: Option<u64>,
    /// Stop after this long.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Write every received byte to this file.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// At the end, save the log as a pcap file (opens in Wireshark).
    #[arg(long, value_name = "FILE")]
    pub pcap: Option<PathBuf>,
    /// Speak WebSocket to every client (with --tls: wss://); each message is one record.
    #[arg(long)]
    pub ws: bool,
    /// Take one client and end when it leaves (others are refused meanwhile).
    #[arg(long)]
    pub once: bool,
    /// Like `ncat -l`: the first client only; stdin is sent to it as it comes and what it
    /// sends goes to stdout as raw bytes; half-close as `connect --pipe`.
    #[arg(long, conflicts_with_all = ["echo", "reply", "reply_hex", "json", "hex", "hexdump", "count", "ws"])]
    pub pipe: bool,
    /// With --pipe: keep our sending side open at the end of stdin.
    #[arg(long, requires = "pipe")]
    pub no_shutdown: bool,
    /// With --pipe: how long nothing may move once stdin ended (`5`, `5s`); with --ws, how
    /// long nothing must arrive after stdin ended before the Close (1s when not given).
    #[arg(long, default_value = "5s", value_parser = parse_timeout, allow_hyphen_values = true, requires = "pipe")]
    pub timeout: Duration,
    /// `--timeout` was on the command line (not its default).
    #[arg(skip)]
    pub timeout_given: bool,
    /// TLS.
    #[command(flatten)]
    pub tls: ServerTls,
    /// How received data is read and shown.
    #[command(flatten)]
    pub view: View,
}

/// TLS on a TCP server (`listen`).
#[derive(Debug, Args, Default)]
pub struct ServerTls {
    /// Speak TLS: a self-signed certificate unless --cert and --key.
    #[arg(long)]
    pub tls: bool,
    /// ALPN protocol to accept; repeat for more.
    #[arg(long, value_name = "PROTOCOL", requires = "tls")]
    pub alpn: Vec<String>,
    /// The certificate chain to present (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["tls", "key"])]
    pub cert: Option<PathBuf>,
    /// The key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The names and addresses of the self-signed certificate (comma-separated).
    #[arg(long, value_name = "NAMES", default_value = "localhost,127.0.0.1,::1")]
    pub self_signed: String,
    /// Require client certificates signed by a CA in this PEM file.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub client_ca: Option<PathBuf>,
}

impl ServerTls {
    /// The settings the flags describe, when --tls is given.
    pub fn settings(&self) -> Option<sockscope_core::engine::TlsSettings> {
        use sockscope_core::engine::{ServerCert, TlsSettings};
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        self.tls.then(|| TlsSettings {
            alpn: self.alpn.clone(),
            server_cert: match (path(&self.cert), path(&self.key)) {
                (Some(cert), Some(key)) => ServerCert::Files { cert, key },
                _ => ServerCert::SelfSigned(
                    self.self_signed
                        .split(',')
                        .map(|n| n.trim().to_owned())
                        .collect(),
                ),
            },
            client_ca: path(&self.client_ca).unwrap_or_default(),
            ..TlsSettings::default()
        })
    }
}

/// `sockscope udp`.
#[derive(Debug, Args)]
pub struct UdpArgs {
    /// Where to bind: PORT, or IP:PORT (default: any free port on all interfaces of the
    /// family of --to: 0.0.0.0, or [::] for an IPv6 --to).
    #[arg(long, value_parser = parse_bind)]
    pub bind: Option<std::net::SocketAddr>,
    /// Where datagrams go: HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub to: Option<String>,
    /// What to send.
    #[command(flatten)]
    pub send: Send,
    /// Send again every this long (with --count, that many times; else until stopped).
    #[arg(long, value_parser = parse_duration)]
    pub every: Option<Duration>,
    /// How many sends with --every; without --every, stop after this many datagrams received.
    #[arg(long)]
    pub count: Option<u64>,
    /// What the reply must hold.
    #[command(flatten)]
    pub expect: Expect,
    /// How long the expected reply may take.
    #[arg(long, default_value = "5s", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: Duration,
    /// Stop after this long (without an expectation).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Send every datagram back to its sender.
    #[arg(long, conflicts_with_all = ["reply", "reply_hex"])]
    pub echo: bool,
    /// Answer every datagram with this text (escapes work).
    #[arg(long, value_name = "TEXT", conflicts_with = "reply_hex")]
    pub reply: Option<String>,
    /// Answer every datagram with these bytes.
    #[arg(long, value_name = "HEX")]
    pub reply_hex: Option<String>,
    /// Join a multicast group: GROUP, GROUP%INTERFACE, or SOURCE@GROUP%INTERFACE
    /// (source-specific); repeat for more (`--join 239.1.2.3%eth0 --join ff15::7%eth0`).
    #[arg(long, value_name = "GROUP", value_parser = parse_group)]
    pub join: Vec<sockscope_core::engine::Group>,
    /// TTL (IPv4) / hop limit (IPv6) of multicast sends.
    #[arg(long, default_value = "1", value_parser = parse_ttl)]
    pub ttl: u32,
    /// Do not receive our own multicast sends.
    #[arg(long)]
    pub no_loop: bool,
    /// The interface multicast sends leave by.
    #[arg(long, value_name = "INTERFACE", value_parser = parse_interface)]
    pub multicast_if: Option<String>,
    /// How received data is read and shown.
    #[command(flatten)]
    pub view: View,
}

impl UdpArgs {
    /// The multicast options the flags describe.
    pub fn udp_options(&self) -> sockscope_core::engine::UdpOptions {
        sockscope_core::engine::UdpOptions {
            ttl: self.ttl,
            multicast_loop: !self.no_loop,
            send_interface: self.multicast_if.clone().unwrap_or_default(),
            groups: self.join.clone(),
        }
    }
}

fn parse_group(text: &str) -> Result<sockscope_core::engine::Group, String> {
    sockscope_core::engine::Group::parse(text)
}

/// An interface this machine has, or the sentence (exit 2 before any socket): an unknown
/// one was said and then sends went out anyway ("Network is unreachable").
fn parse_interface(text: &str) -> Result<String, String> {
    let name = text.trim();
    if sockscope_core::engine::interfaces()
        .iter()
        .any(|i| i.name == name)
    {
        Ok(name.to_owned())
    } else {
        Err(sockscope_core::engine::EngineError::NoInterface(name.to_owned()).to_string())
    }
}

/// `sockscope run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The profile (.ron) to run.
    pub profile: PathBuf,
    /// Stop after this long (default: until the session ends, or Ctrl+C).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Use this local port instead of the profile's.
    #[arg(long)]
    pub local_port: Option<u16>,
    /// Use this remote address instead of the profile's: HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub remote: Option<String>,
    /// Show payloads as hex.
    #[arg(long)]
    pub hex: bool,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Decode each message with this protocol (a built-in name or a spec file), printed
    /// below it (in `--json`, as `decoded`); default: the profile's `protocol`.
    #[arg(long, value_name = "NAME|FILE", value_parser = super::values::parse_protocol)]
    pub protocol: Option<std::sync::Arc<sockscope_core::protocol::Protocol>>,
    /// Send the profile's quick command of this name once the session is open; repeat for
    /// more (they go in order).
    #[arg(long, value_name = "NAME")]
    pub quick: Vec<String>,
}

/// `sockscope test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The profile (.ron) whose scripts to run.
    pub profile: PathBuf,
    /// Use this remote address instead of the profile's: HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub remote: Option<String>,
    /// Use this local port instead of the profile's.
    #[arg(long)]
    pub local_port: Option<u16>,
    /// Only the scripts whose name contains this.
    #[arg(long, value_name = "NAME")]
    pub script: Option<String>,
    /// Write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// A multicast TTL / hop limit: 0 to 255.
fn parse_ttl(text: &str) -> Result<u32, String> {
    text.trim()
        .parse::<u8>()
        .map(u32::from)
        .map_err(|_| sockscope_core::i18n::tf(sockscope_core::i18n::S::CliBadTtl, &[&text]))
}
