//! The settings form of one session and its saved payloads: plain data with serde.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::codec::checksum::Checksum;
use crate::codec::convert::{Unconverted, convert};
use crate::codec::framing::Framing;
use crate::codec::length::LengthPrefix;
use crate::codec::payload::{InputMode, LineEnding, Payload, PayloadError, SendSpec, VarState};
use crate::codec::{TextEncoding, escape, hex};
use crate::engine::{AddrError, Mode, Reconnect, SessionConfig, UdpOptions, parse_ip, parse_port};

use crate::i18n::{S, t, tf};

/// The settings the user fills in. Saved at exit and restored at start (eframe persistence).
///
/// `#[serde(default)]` so a form saved by an older version, with fields missing, still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    /// TCP client, TCP server or UDP.
    pub mode: Mode,
    /// Local IP (server/UDP: where to listen; client: which interface to connect from).
    pub local_ip: String,
    /// Local port of a TCP client; 0 = the OS chooses.
    pub client_port: String,
    /// Port a TCP server listens on.
    pub server_port: String,
    /// Port a UDP socket binds; 0 = any.
    pub udp_port: String,
    /// Remote IP: the server to connect to, or the UDP default destination.
    pub remote_ip: String,
    /// Remote port.
    pub remote_port: String,
    /// Text encoding for display and sending.
    pub encoding: TextEncoding,
    /// Show received data as hex instead of text.
    pub rx_hex: bool,
    /// Show a time on each row.
    pub show_time: bool,
    /// Keep the newest row in view.
    pub auto_scroll: bool,
    /// How the send box is read: text, hex or text with escapes.
    pub tx_mode: InputMode,
    /// Appended to each send.
    pub line_ending: LineEnding,
    /// Checksum trailer appended to each send.
    pub checksum: Checksum,
    /// The fixed trailer bytes as typed (hex).
    pub fixed_trailer: String,
    /// Put a length prefix before each send.
    pub length_prefix_on: bool,
    /// The prefix, when on.
    pub length_prefix: LengthPrefix,
    /// Empty the send box after a send.
    pub clear_after_send: bool,
    /// First `{{counter}}` value.
    pub counter_start: i64,
    /// Added to `{{counter}}` after each send.
    pub counter_step: i64,
    /// Cyclic send interval, ms.
    pub cyclic_ms: u64,
    /// Cyclic send count; 0 = until stopped.
    pub cyclic_count: u64,
    /// Start the cyclic send as soon as the session is open (`sockscope run`, auto-connect).
    pub cyclic_on_open: bool,
    /// Repeat the quick-command sequence until stopped.
    pub sequence_repeat: bool,
    /// File send chunk size, bytes.
    pub file_chunk: usize,
    /// File send rate cap, KiB/s; 0 = as fast as the peer takes it.
    pub file_rate_kib: u64,
    /// File send: pause after each chunk, ms; 0 = none (then the rate cap applies).
    pub file_delay_ms: u64,
    /// Check this trailer on every received record (with a √ or × badge).
    pub rx_verify: Checksum,
    /// The verify trailer's fixed bytes as typed.
    pub rx_verify_fixed: String,
    /// How received TCP streams are split into messages.
    pub frame_mode: FrameMode,
    /// Delimiter as typed: text with escapes (`\r\n`) or hex (`7E`), per `frame_delimiter_hex`.
    pub frame_delimiter: String,
    /// The delimiter field holds hex.
    pub frame_delimiter_hex: bool,
    /// Keep the delimiter at the end of each frame.
    pub frame_keep: bool,
    /// Fixed frame length.
    pub frame_fixed: usize,
    /// Length-prefix framing: the length field.
    pub frame_prefix: LengthPrefix,
    /// Length-prefix framing: header bytes before the length field.
    pub frame_offset: usize,
    /// Idle-gap framing: milliseconds of silence that end a message.
    pub frame_idle_ms: u64,
    /// Show each raw read beside the frames.
    pub show_raw: bool,
    /// The log holds at most this many MiB of records; older ones are dropped, and counted.
    pub log_cap_mib: u64,
    /// Show control characters as `\r\n` (else as spaces).
    pub show_controls: bool,
    /// Continuous stream (连续显示): reads joined into lines, not one row per message.
    pub stream_view: bool,
    /// The last payloads sent, newest first.
    pub history: Vec<QuickCommand>,
    /// Named payloads, one click each (快捷指令). They also form the send sequence.
    pub quick: Vec<QuickCommand>,
    /// What is in the send box.
    pub send_text: String,
    /// TCP server: Stop also closes every client (default: keep them).
    pub close_clients_on_stop: bool,
    /// TCP connect timeout, in seconds.
    pub connect_timeout_s: f32,
    /// Keep connections whose peer finished sending (half-close) instead of closing them.
    pub keep_half_closed: bool,
    /// With length-prefix framing, show each frame's length header in its row (the detail
    /// and hex views always have every byte).
    pub show_length_header: bool,
    /// Wrap long rows onto more lines (接收区自动换行) instead of cutting them at the edge.
    pub wrap_lines: bool,
    /// Auto-reply rules (自动应答), their tables and starting state.
    pub automation: crate::rules::Automation,
    /// The protocol that decodes this session's messages (format 3): a built-in's name
    /// (`jt808`) or a spec file's path; empty for none. Its frame layer cuts received streams
    /// when the Receive framing is None.
    pub protocol: String,
    /// A relay's other direction, what the upstream sends, when it speaks another protocol
    /// (format 3); empty: the same as `protocol`.
    pub protocol_replies: String,
    /// Decoded fields shown as columns of the log (paths such as `body.speed`; format 3,
    /// added later: absent in older files).
    pub protocol_columns: Vec<String>,
    /// TCP client: connect again after a drop or a failed connect.
    pub reconnect_on: bool,
    /// How: interval, backoff, longest wait, tries.
    pub reconnect: Reconnect,
    /// UDP: multicast groups joined at open, TTL, loopback, sending interface.
    pub udp: UdpOptions,
    /// TCP client or server: TLS on.
    pub tls_on: bool,
    /// How: verification, SNI, ALPN, certificates.
    pub tls: crate::engine::TlsSettings,
    /// TCP client or server: WebSocket (ws://, wss:// with TLS).
    pub ws_on: bool,
    /// Path, Host, subprotocol, text or binary.
    pub ws: crate::engine::WsSettings,
    /// Relay: the port clients connect to (the upstream is the remote address).
    pub relay_port: String,
    /// Relay UDP (else TCP).
    pub relay_udp: bool,
    /// Relay: what client → upstream goes through.
    pub relay_up: crate::engine::Impairment,
    /// Relay: what upstream → client goes through.
    pub relay_down: crate::engine::Impairment,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            mode: Mode::TcpClient,
            local_ip: "0.0.0.0".into(),
            client_port: "0".into(),
            server_port: "8080".into(),
            udp_port: "8080".into(),
            remote_ip: "127.0.0.1".into(),
            remote_port: "8080".into(),
            encoding: TextEncoding::UTF_8,
            rx_hex: false,
            show_time: true,
            auto_scroll: true,
            tx_mode: InputMode::Text,
            line_ending: LineEnding::None,
            checksum: Checksum::default(),
            fixed_trailer: "0D 0A".into(),
            length_prefix_on: false,
            length_prefix: LengthPrefix::default(),
            clear_after_send: false,
            counter_start: 1,
            counter_step: 1,
            cyclic_ms: 1000,
            cyclic_count: 0,
            cyclic_on_open: false,
            sequence_repeat: false,
            file_chunk: 4096,
            file_rate_kib: 0,
            file_delay_ms: 0,
            rx_verify: Checksum::default(),
            rx_verify_fixed: "0D 0A".into(),
            frame_mode: FrameMode::None,
            frame_delimiter: "\\r\\n".into(),
            frame_delimiter_hex: false,
            frame_keep: false,
            frame_fixed: 8,
            frame_prefix: LengthPrefix::default(),
            frame_offset: 0,
            frame_idle_ms: 50,
            show_raw: false,
            log_cap_mib: 256,
            show_controls: false,
            stream_view: false,
            history: Vec::new(),
            quick: Vec::new(),
            send_text: String::new(),
            close_clients_on_stop: false,
            connect_timeout_s: 5.0,
            keep_half_closed: false,
            show_length_header: false,
            wrap_lines: false,
            automation: crate::rules::Automation::default(),
            protocol: String::new(),
            protocol_replies: String::new(),
            protocol_columns: Vec::new(),
            reconnect_on: false,
            reconnect: Reconnect::default(),
            udp: UdpOptions::default(),
            tls_on: false,
            tls: crate::engine::TlsSettings::default(),
            ws_on: false,
            ws: crate::engine::WsSettings::default(),
            relay_port: "9000".into(),
            relay_udp: false,
            relay_up: crate::engine::Impairment::default(),
            relay_down: crate::engine::Impairment::default(),
        }
    }
}

/// A log cap as typed, in MiB: a number with a unit (`512 KiB`, `2 GiB`, `1.5 GB`, bytes as
/// `B`) or a bare number of MiB; `None` for what is not a size.
pub fn log_cap_mib(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(mib) = text.trim_end_matches("MiB").trim().parse::<f64>() {
        return (mib.is_finite() && mib >= 0.0).then_some(mib);
    }
    let bytes = crate::engine::Knob::Cut.from_text(text).ok()?;
    Some(bytes / f64::from(1u32 << 20))
}

impl Form {
    /// The log's byte cap (at least 1 MiB).
    pub fn log_cap_bytes(&self) -> usize {
        usize::try_from(self.log_cap_mib.max(1))
            .unwrap_or(usize::MAX >> 20)
            .saturating_mul(1 << 20)
    }

    /// The local port field of the current mode.
    pub fn local_port_mut(&mut self) -> &mut String {
        match self.mode {
            Mode::TcpClient => &mut self.client_port,
            Mode::TcpServer => &mut self.server_port,
            Mode::Udp => &mut self.udp_port,
            Mode::Relay => &mut self.relay_port,
        }
    }

    /// The local port text of the current mode.
    pub fn local_port(&self) -> &str {
        match self.mode {
            Mode::TcpClient => &self.client_port,
            Mode::TcpServer => &self.server_port,
            Mode::Udp => &self.udp_port,
            Mode::Relay => &self.relay_port,
        }
    }

    /// Whether this mode needs a remote address to open.
    pub fn needs_remote(&self) -> bool {
        self.mode.caps().needs_remote
    }

    fn local_addr(&self, errors: &mut FieldErrors) -> Option<SocketAddr> {
        // No local IP: every interface. No local port for a client: any free one.
        let ip = if self.local_ip.trim().is_empty() {
            Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        } else {
            parse_ip(&self.local_ip)
        };
        let port = match self.local_port().trim() {
            "" if self.mode.caps().any_local_port => Ok(0),
            typed => parse_port(typed),
        };
        errors.local_ip = ip.as_ref().err().map(ToString::to_string);
        errors.local_port = port.as_ref().err().map(ToString::to_string);
        Some(SocketAddr::new(ip.ok()?, port.ok()?))
    }

    /// The remote address, or the reasons it is not one.
    pub fn remote_addr(&self, errors: &mut FieldErrors) -> Option<SocketAddr> {
        let ip = parse_ip(&self.remote_ip);
        let port = parse_port(&self.remote_port).and_then(|p| {
            if p == 0 {
                Err(AddrError::PortNotNumber(t(S::ErrRemotePortZero).into()))
            } else {
                Ok(p)
            }
        });
        errors.remote_ip = ip.as_ref().err().map(ToString::to_string);
        errors.remote_port = port.as_ref().err().map(ToString::to_string);
        Some(SocketAddr::new(ip.ok()?, port.ok()?))
    }

    /// Messages for the fields as they are typed now (what Connect/Listen/Open would say).
    /// A UDP remote address may be left empty (replies go to whoever sent last).
    pub fn field_errors(&self) -> FieldErrors {
        let mut errors = FieldErrors::default();
        self.local_addr(&mut errors);
        // UDP with no remote IP answers the latest sender: an empty IP is not a mistake,
        // whatever the port says.
        let udp_remote_typed = self.mode.caps().datagrams && !self.remote_ip.trim().is_empty();
        if self.needs_remote() || udp_remote_typed {
            self.remote_addr(&mut errors);
        }
        errors.tls = Box::new(self.tls_errors());
        errors
    }

    /// What is wrong with the TLS settings this form would open with (nothing without TLS).
    fn tls_errors(&self) -> crate::engine::TlsFieldErrors {
        if self.tls_on {
            self.tls.field_errors(self.mode)
        } else {
            crate::engine::TlsFieldErrors::default()
        }
    }

    /// Switches the send box to another input mode, converting what is in it so it stands
    /// for the same bytes (see [`convert`](crate::codec::convert::convert)). Returns why it
    /// kept the characters or chose Escapes, if it did.
    pub fn switch_tx_mode(&mut self, to: InputMode) -> Option<Unconverted> {
        let converted = convert(&self.send_text, self.tx_mode, to, self.encoding);
        self.tx_mode = converted.mode;
        self.send_text = converted.text;
        converted.note
    }

    /// What to open, or the messages to show next to the bad fields.
    pub fn session_config(&self) -> Result<SessionConfig, FieldErrors> {
        let mut errors = FieldErrors::default();
        let local = self.local_addr(&mut errors);
        let remote = if self.needs_remote() {
            self.remote_addr(&mut errors)
        } else {
            None
        };
        errors.tls = Box::new(self.tls_errors());
        let timeout = Duration::from_secs_f32(self.connect_timeout_s.clamp(0.1, 600.0));
        match (local, remote, errors.any()) {
            (Some(local), remote, false) => Ok(SessionConfig {
                framing: self.receive_framing(),
                mode: self.mode,
                local,
                remote,
                connect_timeout: timeout,
                reconnect: (self.mode.caps().connects && self.reconnect_on)
                    .then_some(self.reconnect),
                udp: self.udp.clone(),
                tls: (self.mode.caps().tls.is_some() && self.tls_on).then(|| self.tls.clone()),
                ws: (self.mode.caps().tls.is_some() && self.ws_on).then(|| self.ws.clone()),
                relay: match remote {
                    Some(upstream) if self.mode.caps().relays => Some(crate::engine::RelayConfig {
                        upstream,
                        udp: self.relay_udp,
                        to_upstream: self.relay_up,
                        to_client: self.relay_down,
                        replies_framing: self.replies_framing(),
                    }),
                    _ => None,
                },
            }),
            _ => Err(errors),
        }
    }

    /// Everything besides the text that decides the bytes of a send.
    pub fn send_spec(&self) -> SendSpec {
        SendSpec {
            mode: self.tx_mode,
            encoding: self.encoding,
            line_ending: self.line_ending,
            checksum: self.checksum.clone(),
            length_prefix: self.length_prefix_on.then_some(self.length_prefix),
        }
    }

    /// The send box, parsed.
    pub fn payload(&self) -> Result<Payload, PayloadError> {
        Payload::parse(&self.send_text, &self.send_spec())
    }

    /// The exact bytes the next send will put on the wire (variables as they are now), or
    /// why there are none.
    pub fn preview(&self, vars: &VarState) -> Result<Vec<u8>, PayloadError> {
        self.payload()?.render(&mut vars.clone(), SystemTime::now())
    }

    /// The send box and its options as a quick command named `name`.
    pub fn as_command(&self, name: String) -> QuickCommand {
        QuickCommand {
            name,
            text: self.send_text.clone(),
            spec: self.send_spec(),
            delay_ms: 0,
            fields: None,
        }
    }

    /// Puts a quick command or history entry back in the send box with its options.
    pub fn recall(&mut self, command: &QuickCommand) {
        self.send_text.clone_from(&command.text);
        self.tx_mode = command.spec.mode;
        self.line_ending = command.spec.line_ending;
        self.checksum = command.spec.checksum.clone();
        self.length_prefix_on = command.spec.length_prefix.is_some();
        if let Some(prefix) = command.spec.length_prefix {
            self.length_prefix = prefix;
        }
    }

    /// Remembers a sent payload, newest first, without repeats, at most [`HISTORY_LEN`].
    pub fn remember(&mut self, sent: QuickCommand) {
        self.history
            .retain(|h| h.text != sent.text || h.spec != sent.spec);
        self.history.insert(0, sent);
        self.history.truncate(HISTORY_LEN);
    }
}

/// The framing choices of the Receive group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameMode {
    /// One message per read.
    #[default]
    None,
    /// Ends with a delimiter.
    Delimiter,
    /// Text lines ending at CR, LF or CR LF.
    Lines,
    /// Fixed length.
    Fixed,
    /// Length prefix.
    Length,
    /// Idle gap.
    Idle,
}

impl FrameMode {
    /// Every mode, in UI order.
    pub const ALL: [FrameMode; 6] = [
        FrameMode::None,
        FrameMode::Lines,
        FrameMode::Delimiter,
        FrameMode::Fixed,
        FrameMode::Length,
        FrameMode::Idle,
    ];

    /// The name shown.
    pub fn name(self) -> &'static str {
        match self {
            FrameMode::None => "None (per read)",
            FrameMode::Delimiter => "Delimiter",
            FrameMode::Lines => "Lines (CR, LF or CRLF)",
            FrameMode::Fixed => "Fixed length",
            FrameMode::Length => "Length prefix",
            FrameMode::Idle => "Idle gap",
        }
    }
}

impl Form {
    /// The protocol chosen for this session (a built-in, or a spec file read now), if any,
    /// or why it cannot be used.
    pub fn protocol(&self) -> Result<Option<std::sync::Arc<crate::protocol::Protocol>>, String> {
        resolve_protocol(&self.protocol)
    }

    /// A relay's protocol for what the upstream sends (the session's when not set apart).
    pub fn protocol_replies(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::protocol::Protocol>>, String> {
        if self.protocol_replies.trim().is_empty() {
            self.protocol()
        } else {
            resolve_protocol(&self.protocol_replies)
        }
    }

    /// The framing received streams are cut with: the Receive group's, or with None there,
    /// the chosen protocol's frame layer.
    pub fn receive_framing(&self) -> Framing {
        let framing = self.framing().unwrap_or_default();
        if framing != Framing::None {
            return framing;
        }
        self.protocol()
            .ok()
            .flatten()
            .and_then(|p| p.framing())
            .unwrap_or_default()
    }

    /// A relay whose upstream speaks another protocol, with None in the Receive group: that
    /// protocol's frame layer cuts what the upstream sends (`None`: the session's framing
    /// cuts both directions).
    pub fn replies_framing(&self) -> Option<Framing> {
        let own = !self.protocol_replies.trim().is_empty()
            && self.protocol_replies.trim() != self.protocol.trim();
        if !self.mode.caps().relays || !own || self.framing().unwrap_or_default() != Framing::None {
            return None;
        }
        Some(
            self.protocol_replies()
                .ok()
                .flatten()
                .and_then(|p| p.framing())
                .unwrap_or_default(),
        )
    }

    /// The framing the Receive group describes, or what is wrong with it.
    pub fn framing(&self) -> Result<Framing, String> {
        let framing = match self.frame_mode {
            FrameMode::None => Framing::None,
            FrameMode::Delimiter => {
                let delimiter = if self.frame_delimiter_hex {
                    hex::parse(&self.frame_delimiter).map_err(|e| tf(S::ErrDelimiter, &[&e]))?
                } else {
                    escape::parse(&self.frame_delimiter, self.encoding)
                        .map_err(|e| tf(S::ErrDelimiter, &[&e]))?
                };
                Framing::Delimiter {
                    delimiter,
                    keep: self.frame_keep,
                }
            }
            FrameMode::Lines => Framing::Lines,
            FrameMode::Fixed => Framing::FixedLength(self.frame_fixed),
            FrameMode::Length => Framing::LengthPrefix {
                prefix: self.frame_prefix,
                offset: self.frame_offset,
            },
            FrameMode::Idle => Framing::IdleGap(self.frame_idle_ms),
        };
        framing.check().map_err(|e| tf(S::ErrFraming, &[&e]))?;
        Ok(framing)
    }
}

/// How many sent payloads the history keeps.
pub const HISTORY_LEN: usize = 30;

/// A named payload with its own options, saved with the session (快捷指令).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct QuickCommand {
    /// Button label.
    pub name: String,
    /// The payload as typed.
    pub text: String,
    /// Mode, encoding, line ending, checksum, prefix.
    pub spec: SendSpec,
    /// Pause after it when run as part of the sequence, ms.
    pub delay_ms: u64,
    /// What it was composed from, when it was made in Compose (it opens there again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<ComposeFields>,
}

/// A frame as Compose holds it: the protocol, the message, the direction and what was typed
/// in each field, by path — what a quick command made in Compose keeps, so it can be opened
/// and changed there again rather than as hex.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ComposeFields {
    /// The protocol's name (a built-in, or a spec file's path).
    pub protocol: String,
    /// The message (the value of the switch that chooses it), if the protocol has a list.
    pub message: Option<i64>,
    /// The direction the frame was made for.
    pub dir: crate::protocol::Dir,
    /// What was typed, by field path (`body.lat`).
    pub texts: std::collections::BTreeMap<String, String>,
}

impl QuickCommand {
    /// The payload, parsed.
    pub fn payload(&self) -> Result<Payload, PayloadError> {
        Payload::parse(&self.text, &self.spec)
    }
}

/// Messages to show next to the fields of the form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// Local IP.
    pub local_ip: Option<String>,
    /// Local port.
    pub local_port: Option<String>,
    /// Remote IP.
    pub remote_ip: Option<String>,
    /// Remote port.
    pub remote_port: Option<String>,
    /// The TLS settings' fields (CA file, pin, server name, certificate and key files).
    /// (Boxed: most forms have none, and the errors travel in a `Result`.)
    pub tls: Box<crate::engine::TlsFieldErrors>,
}

impl FieldErrors {
    /// True if any field has a message.
    pub fn any(&self) -> bool {
        self.first().is_some()
    }

    /// The first field with a message (by its label) and the message, in the order the form
    /// shows them: what Connect or Listen names when it cannot go.
    pub fn first(&self) -> Option<(S, &String)> {
        let local_port = match self.local_ip {
            Some(_) => S::LocalIp,
            None => S::LocalPort,
        };
        self.local_ip
            .as_ref()
            .or(self.local_port.as_ref())
            .map(|m| (local_port, m))
            .or_else(|| self.remote_ip.as_ref().map(|m| (S::RemoteIp, m)))
            .or_else(|| self.remote_port.as_ref().map(|m| (S::RemotePort, m)))
            .or_else(|| self.tls.first())
    }
}

/// A protocol by its built-in name (or alias), or a spec file by its path; `None` for empty.
pub fn resolve_protocol(
    text: &str,
) -> Result<Option<std::sync::Arc<crate::protocol::Protocol>>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(p) = crate::protocol::builtin(text) {
        return Ok(Some(p));
    }
    let path = std::path::Path::new(text);
    // A name that reads as a path (a profile's spec file moved or deleted, a typo) says why
    // the file cannot be read, not that no built-in has that name.
    let looks_like_path = text.contains(['/', '\\'])
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ron"));
    if path.is_file() || looks_like_path {
        let source = std::fs::read_to_string(path).map_err(|e| {
            tf(
                S::CliCannotRead,
                &[&path.display(), &crate::i18n::io_error(&e)],
            )
        })?;
        return crate::protocol::Protocol::load(&source)
            .map(|p| Some(std::sync::Arc::new(p)))
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    let names: Vec<&str> = crate::protocol::builtins()
        .iter()
        .map(|p| p.name())
        .collect();
    Err(tf(S::ProtoNoProtocol, &[&text, &names.join(", ")]))
}

#[cfg(test)]
mod log_cap_tests {
    use super::log_cap_mib;

    /// Units as typed: `100 KiB` was read as 100 MiB.
    #[test]
    fn the_log_cap_takes_units_as_typed() {
        assert_eq!(log_cap_mib("100"), Some(100.0));
        assert_eq!(log_cap_mib("100 MiB"), Some(100.0));
        assert_eq!(log_cap_mib("2 GiB"), Some(2048.0));
        assert_eq!(log_cap_mib("512 KiB"), Some(0.5));
        assert_eq!(log_cap_mib("100KiB"), Some(100.0 / 1024.0));
        assert_eq!(log_cap_mib("abc"), None);
    }
}
