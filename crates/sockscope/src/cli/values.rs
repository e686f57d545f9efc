//! The command line's values shared by several commands' words (what is shown, sent and
//! expected; durations, encodings, framings, local addresses): a leaf every command's module
//! may use, so the commands and the top-level words do not import each other.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::framing::Framing;
use sockscope_core::protocol::Protocol;

/// How received data is read and shown.
#[derive(Debug, Args)]
pub struct View {
    /// Text encoding of what is sent and shown: utf-8, gbk, gb18030, big5, shift_jis …
    #[arg(long, default_value = "utf-8", value_parser = parse_encoding)]
    pub encoding: TextEncoding,
    /// How a TCP stream is split into messages: none, crlf, lf, delim:TEXT, delim-hex:HEX
    /// (+keep), fixed:N, len:4le (+hdr, @OFFSET), idle:MS.
    #[arg(long, default_value = "none", value_parser = parse_framing)]
    pub framing: Framing,
    /// Show payloads as hex.
    #[arg(long)]
    pub hex: bool,
    /// Show payloads as a hex dump: offset, 16 bytes in hex and the same as ASCII.
    #[arg(long, conflicts_with = "hex")]
    pub hexdump: bool,
    /// One JSON object per line instead of human lines; keys: time, kind, event, text, peer,
    /// conn, and for data len, hex, partial (docs/CLI.md: "--json keys").
    #[arg(long)]
    pub json: bool,
    /// Decode each message with this protocol: a built-in (`sockscope protocols` lists them:
    /// modbus-tcp, modbus-rtu, jt808, hj212, dlt645, gbt32960, nmea) or a spec file (.ron).
    /// Its framing cuts the stream unless --framing is given.
    #[arg(long, value_name = "NAME|FILE", value_parser = parse_protocol)]
    pub protocol: Option<Arc<Protocol>>,
}

impl View {
    /// The framing asked for, or else the protocol's own.
    pub fn framing(&self) -> Framing {
        match (&self.framing, &self.protocol) {
            (Framing::None, Some(p)) => p.framing().unwrap_or(Framing::None),
            (framing, _) => framing.clone(),
        }
    }
}

/// A protocol by its name (or alias), or a spec file: its mistakes said with their line,
/// column and field.
pub fn parse_protocol(text: &str) -> Result<Arc<Protocol>, String> {
    use sockscope_core::i18n::{S, tf};
    let text = text.trim();
    if let Some(p) = sockscope_core::protocol::builtin(text) {
        return Ok(p);
    }
    let path = std::path::Path::new(text);
    // A name that looks like a file is one: say why it cannot be read, not that no built-in
    // has that name.
    let looks_like_file = text.contains(['/', '\\'])
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ron"));
    if path.is_file() || looks_like_file {
        let source = std::fs::read_to_string(path)
            .map_err(|e| tf(S::CliCannotRead, &[&path.display(), &e]))?;
        return Protocol::load(&source)
            .map(Arc::new)
            .map_err(|e| format!("{}: {e}", path.display()));
    }
    let names: Vec<&str> = sockscope_core::protocol::builtins()
        .iter()
        .map(|p| p.name())
        .collect();
    Err(tf(S::ProtoNoProtocol, &[&text, &names.join(", ")]))
}

/// What to send.
#[derive(Debug, Args, Default)]
#[group(multiple = false)]
pub struct Send {
    /// Text to send; escapes work: \r \n \t \0 \\ \xHH.
    #[arg(long, value_name = "TEXT")]
    pub send: Option<String>,
    /// Bytes to send, as hex: "01 03 00 00 00 0A".
    #[arg(long, value_name = "HEX")]
    pub send_hex: Option<String>,
    /// A file to send, streamed in chunks.
    #[arg(long, value_name = "FILE")]
    pub send_file: Option<PathBuf>,
}

/// What the reply must hold.
#[derive(Debug, Args, Default)]
#[group(multiple = false)]
pub struct Expect {
    /// Exit 0 once this text has been received (in --encoding), 1 if not within --timeout.
    #[arg(long, value_name = "TEXT")]
    pub expect: Option<String>,
    /// Exit 0 once these bytes have been received.
    #[arg(long, value_name = "HEX")]
    pub expect_hex: Option<String>,
    /// Exit 0 once the received text matches this regular expression.
    #[arg(long, value_name = "RE")]
    pub expect_regex: Option<String>,
}

impl Expect {
    /// True if any expectation is given.
    pub fn any(&self) -> bool {
        self.expect.is_some() || self.expect_hex.is_some() || self.expect_regex.is_some()
    }
}

/// `2s`, `100ms`, `1m`, `1h30m`; a bare number is seconds (`5`, `0.5`), as ncat's `-w 5`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    use sockscope_core::i18n::{S, tf};
    let trimmed = text.trim();
    // The parser's own words ("invalid character at 3", "unknown time unit") say nothing
    // to a user who typed a rate or a size: one sentence, in the chosen language.
    let not_one = || tf(S::CliNotADuration, &[&text]);
    if let Ok(seconds) = trimmed.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|_| not_one());
    }
    humantime::parse_duration(trimmed).map_err(|_| not_one())
}

/// A `--timeout`: a duration longer than 0 (0 would fail at once).
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let timeout = parse_duration(text)?;
    if timeout.is_zero() {
        return Err(sockscope_core::i18n::tf(
            sockscope_core::i18n::S::CliTimeoutZero,
            &[&text],
        ));
    }
    Ok(timeout)
}

/// An encoding by its name or a label (`gbk`, `UTF-8`, `shift_jis`).
pub fn parse_encoding(text: &str) -> Result<TextEncoding, String> {
    TextEncoding::for_label(text.trim()).ok_or_else(|| {
        let names: Vec<&str> = TextEncoding::offered().iter().map(|e| e.name()).collect();
        format!("'{text}' is not an encoding: use {}", names.join(", "))
    })
}

/// A framing as typed (`lf`, `crlf`, `lines`, `fixed:…`, `idle:…`, `len:…`, `delim:…`).
pub fn parse_framing(text: &str) -> Result<Framing, String> {
    text.parse::<Framing>().map_err(|e| e.to_string())
}

/// `9000` (all interfaces) or `127.0.0.1:9000`, `[::1]:9000`.
pub fn parse_bind(text: &str) -> Result<std::net::SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = sockscope_core::engine::parse_port(text) {
        return Ok(std::net::SocketAddr::from(([0, 0, 0, 0], port)));
    }
    let (ip, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("'{text}' is not PORT or IP:PORT"))?;
    let ip = sockscope_core::engine::parse_ip(ip).map_err(|e| e.to_string())?;
    let port = sockscope_core::engine::parse_port(port).map_err(|e| e.to_string())?;
    Ok(std::net::SocketAddr::new(ip, port))
}

/// TLS on a TCP client (`connect`).
#[derive(Debug, Args, Default)]
pub struct ClientTls {
    /// Speak TLS, verifying the server against the system's roots unless --ca or --insecure
    /// (a wss:// URL is TLS without it).
    #[arg(long)]
    pub tls: bool,
    /// Verify the server against the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Do not verify the server's certificate at all.
    #[arg(long, conflicts_with = "ca")]
    pub insecure: bool,
    /// Trust exactly the certificate with this SHA-256 (AB:CD:… or 64 hex digits, as
    /// `openssl x509 -fingerprint -sha256` prints it), or the certificate in this file: for a
    /// device's own self-signed certificate (names and dates are not checked).
    #[arg(long, value_name = "SHA256|FILE", conflicts_with_all = ["ca", "insecure"])]
    pub pin: Option<String>,
    /// The server name sent (SNI) and checked (default: the address connected to).
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// ALPN protocol to offer; repeat for more.
    #[arg(long, value_name = "PROTOCOL")]
    pub alpn: Vec<String>,
    /// A client certificate to present (PEM).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The key of --cert (PEM).
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
}

impl ClientTls {
    /// TLS flags given without TLS (no --tls, no wss:// URL) would do nothing: they are
    /// refused with a sentence instead.
    pub fn check(&self, wss: bool) -> Result<(), String> {
        if self.tls || wss {
            return Ok(());
        }
        let given = [
            (self.ca.is_some(), "--ca"),
            (self.insecure, "--insecure"),
            (self.sni.is_some(), "--sni"),
            (!self.alpn.is_empty(), "--alpn"),
            (self.cert.is_some(), "--cert"),
        ];
        match given.iter().find(|(on, _)| *on) {
            Some((_, flag)) => Err(sockscope_core::i18n::tf(
                sockscope_core::i18n::S::CliNeedsTls,
                &[flag],
            )),
            None => Ok(()),
        }
    }

    /// The settings the flags describe, when --tls is given.
    pub fn settings(&self) -> Option<sockscope_core::engine::TlsSettings> {
        self.tls.then(|| self.settings_forced())
    }

    /// The settings, with TLS on whatever --tls says (wss:// URLs).
    pub fn settings_forced(&self) -> sockscope_core::engine::TlsSettings {
        use sockscope_core::engine::{TlsSettings, Verify};
        let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        TlsSettings {
            verify: match (&self.ca, self.insecure, &self.pin) {
                (Some(ca), _, _) => Verify::CaFile(ca.display().to_string()),
                (None, true, _) => Verify::Off,
                (None, false, Some(pin)) => Verify::Pin(sockscope_core::engine::pin_of(pin)),
                (None, false, None) => Verify::System,
            },
            server_name: self.sni.clone().unwrap_or_default(),
            alpn: self.alpn.clone(),
            client_cert: path(&self.cert).unwrap_or_default(),
            client_key: path(&self.key).unwrap_or_default(),
            ..TlsSettings::default()
        }
    }
}
