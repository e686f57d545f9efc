//! TLS on TCP connections (rustls): what the user sets (verification, SNI, ALPN, certificates),
//! the rustls configurations built from it once per session, what a handshake negotiated, and
//! every failure as a sentence that names the certificate, the date or the name involved.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use serde::{Deserialize, Serialize};

use super::{EngineError, Mode, SessionConfig, TlsSide};
use crate::i18n::{S, t, tf};

/// How a TLS client checks the server's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verify {
    /// Against the roots the operating system trusts.
    #[default]
    System,
    /// Against the CA certificates in this PEM file.
    CaFile(String),
    /// Not at all: any certificate is taken (shown in red; for devices with self-made ones).
    Off,
    /// Exactly the certificate with this SHA-256 (as typed: `AB:CD:…`, with or without the
    /// colons, or as `openssl x509 -fingerprint -sha256` prints it). Its names and dates are
    /// not checked: it is trusted because it is that certificate — a device's own
    /// `openssl req -x509` certificate, which no CA file can vouch for.
    Pin(String),
}

/// Where a TLS server's certificate comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServerCert {
    /// A certificate chain and its key, PEM files.
    Files {
        /// The chain, leaf first.
        cert: String,
        /// The private key.
        key: String,
    },
    /// A self-signed certificate made at Listen for these names and addresses.
    SelfSigned(Vec<String>),
}

impl Default for ServerCert {
    fn default() -> Self {
        ServerCert::SelfSigned(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])
    }
}

/// TLS as the user set it up for one session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TlsSettings {
    /// Client: how the server's certificate is checked.
    pub verify: Verify,
    /// Client: the name sent as SNI and checked in the certificate; empty = the remote address.
    pub server_name: String,
    /// ALPN protocols offered (client) or accepted (server), in order of preference.
    pub alpn: Vec<String>,
    /// Client: a certificate (PEM) to present, with `client_key`.
    pub client_cert: String,
    /// Client: the key of `client_cert`.
    pub client_key: String,
    /// Server: its certificate.
    pub server_cert: ServerCert,
    /// Server: require clients to present a certificate signed by a CA in this PEM file
    /// (empty: no client certificate asked for).
    pub client_ca: String,
    /// Server: the self-signed certificate made for these names, kept with the profile so it
    /// stays the same from one Listen to the next (a device can pin it) until it is made
    /// again (Regenerate, or other names). Profiles from before it load without one.
    pub kept: Option<KeptCert>,
}

/// A self-signed certificate and its key, kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeptCert {
    /// The names and addresses it was made for, as given (trimmed, blanks left out).
    pub names: Vec<String>,
    /// The certificate, PEM.
    pub cert: String,
    /// Its private key, PEM: a throwaway key made on this machine for a test server, saved
    /// in the profile like the rest of it.
    pub key: String,
}

impl KeptCert {
    /// Makes one for `names`: subject `CN=` the first name, every name (IP addresses as IP
    /// names) in the subject alternative names.
    pub fn make(names: &[String]) -> Result<KeptCert, EngineError> {
        let names = clean_names(names);
        let mut params = rcgen::CertificateParams::new(names.clone()).map_err(setup)?;
        let mut subject = rcgen::DistinguishedName::new();
        let common = names.first().map_or("SockScope", String::as_str);
        subject.push(rcgen::DnType::CommonName, common);
        params.distinguished_name = subject;
        let key = rcgen::KeyPair::generate().map_err(setup)?;
        let cert = params.self_signed(&key).map_err(setup)?;
        Ok(KeptCert {
            names,
            cert: cert.pem(),
            key: key.serialize_pem(),
        })
    }

    /// The certificate as shown (subject, dates, SHA-256), if its PEM reads.
    pub fn info(&self) -> Option<CertInfo> {
        let der = CertificateDer::from_pem_slice(self.cert.as_bytes()).ok()?;
        Some(CertInfo::of(&der))
    }

    /// The chain and key for rustls.
    fn load(&self) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), EngineError> {
        let cert = CertificateDer::from_pem_slice(self.cert.as_bytes()).map_err(setup)?;
        let key = PrivateKeyDer::from_pem_slice(self.key.as_bytes()).map_err(setup)?;
        Ok((vec![cert], key))
    }
}

/// Names as given: trimmed, blanks left out.
fn clean_names(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect()
}

impl TlsSettings {
    /// A server with a self-signed certificate keeps one for its names: made now when there
    /// is none yet or the names changed, else the one it has. True when one was made.
    pub fn keep_self_signed(&mut self) -> Result<bool, EngineError> {
        let ServerCert::SelfSigned(names) = &self.server_cert else {
            return Ok(false);
        };
        let names = clean_names(names);
        if self.kept.as_ref().is_some_and(|k| k.names == names) {
            return Ok(false);
        }
        self.kept = Some(KeptCert::make(&names)?);
        Ok(true)
    }

    /// Makes the self-signed certificate again (a new key, a new SHA-256).
    pub fn regenerate_self_signed(&mut self) -> Result<(), EngineError> {
        if let ServerCert::SelfSigned(names) = &self.server_cert {
            self.kept = Some(KeptCert::make(names)?);
        }
        Ok(())
    }

    /// The kept self-signed certificate, when it is the one a Listen would use now.
    pub fn kept_for_names(&self) -> Option<&KeptCert> {
        let ServerCert::SelfSigned(names) = &self.server_cert else {
            return None;
        };
        self.kept.as_ref().filter(|k| k.names == clean_names(names))
    }
}

/// The TLS settings that cannot work as they are typed, each with the sentence to show under
/// its field (what Connect or Listen would otherwise fail with).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsFieldErrors {
    /// Client: the CA file.
    pub ca_file: Option<String>,
    /// Client: the pinned SHA-256.
    pub pin: Option<String>,
    /// Client: the server name (SNI).
    pub server_name: Option<String>,
    /// Client: the key of the client certificate.
    pub client_key: Option<String>,
    /// Server: its certificate file.
    pub server_cert: Option<String>,
    /// Server: its key file.
    pub server_key: Option<String>,
}

impl TlsFieldErrors {
    /// The first field with a message, named, in the order the form shows them.
    pub fn first(&self) -> Option<(S, &String)> {
        [
            (S::TlsVerifyCa, &self.ca_file),
            (S::TlsPin, &self.pin),
            (S::TlsSni, &self.server_name),
            (S::TlsKey, &self.client_key),
            (S::TlsCert, &self.server_cert),
            (S::TlsKey, &self.server_key),
        ]
        .into_iter()
        .find_map(|(field, message)| message.as_ref().map(|m| (field, m)))
    }
}

impl TlsSettings {
    /// What is wrong with the settings a `mode` session would use, field by field, without
    /// touching a file: an empty path where one is needed, a pin or a server name that is
    /// not one. (A file that cannot be read is said when the session starts.)
    pub fn field_errors(&self, mode: Mode) -> TlsFieldErrors {
        let mut errors = TlsFieldErrors::default();
        match mode.caps().tls {
            Some(TlsSide::Client) => {
                match &self.verify {
                    Verify::CaFile(path) if path.trim().is_empty() => {
                        errors.ca_file = Some(t(S::TlsCaEmpty).to_owned());
                    }
                    Verify::Pin(typed) => {
                        errors.pin = parse_pin(typed).err().map(|e| match e {
                            PinError::Empty => t(S::TlsPinMissing).to_owned(),
                            e => tf(S::TlsBadPin, &[&typed.trim(), &e]),
                        });
                    }
                    _ => {}
                }
                let name = self.server_name.trim();
                if !name.is_empty() && ServerName::try_from(name.to_owned()).is_err() {
                    errors.server_name = Some(tf(S::TlsBadServerName, &[&name]));
                }
                let cert = self.client_cert.trim();
                if !cert.is_empty() && self.client_key.trim().is_empty() {
                    errors.client_key = Some(tf(S::TlsKeyMissing, &[&cert]));
                }
            }
            Some(TlsSide::Server) => {
                if let ServerCert::Files { cert, key } = &self.server_cert {
                    if cert.trim().is_empty() {
                        errors.server_cert = Some(t(S::TlsServerCertMissing).to_owned());
                    }
                    if key.trim().is_empty() {
                        errors.server_key = Some(t(S::TlsServerKeyMissing).to_owned());
                    }
                }
            }
            None => {}
        }
        errors
    }
}

/// One certificate of a chain, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// Its subject (`CN=a.example, O=…`).
    pub subject: String,
    /// Who issued it.
    pub issuer: String,
    /// Valid from (UTC).
    pub not_before: String,
    /// Valid until (UTC).
    pub not_after: String,
    /// SHA-256 of the DER, `AB:CD:…`.
    pub sha256: String,
}

impl CertInfo {
    /// Reads a DER certificate; a certificate it cannot parse still has its fingerprint.
    pub fn of(der: &[u8]) -> CertInfo {
        let sha256 = fingerprint(der);
        match x509_parser::parse_x509_certificate(der) {
            Ok((_, cert)) => CertInfo {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_before: date(cert.validity().not_before.timestamp()),
                not_after: date(cert.validity().not_after.timestamp()),
                sha256,
            },
            Err(_) => CertInfo {
                subject: "?".into(),
                issuer: "?".into(),
                not_before: "?".into(),
                not_after: "?".into(),
                sha256,
            },
        }
    }
}

/// What a handshake settled on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLS 1.3`.
    pub version: String,
    /// `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
    /// The ALPN protocol agreed, if any.
    pub alpn: Option<String>,
    /// The name the client asked for (SNI), if it sent one (server side).
    pub sni: Option<String>,
    /// The peer's certificates, leaf first (none when it presented none).
    pub chain: Vec<CertInfo>,
    /// The server's certificate was not checked (client with verification off).
    pub unverified: bool,
    /// The server's certificate was trusted because its SHA-256 is the pinned one.
    pub pinned: bool,
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.version, self.cipher)?;
        if let Some(alpn) = &self.alpn {
            write!(f, ", ALPN {alpn}")?;
        }
        if let Some(sni) = &self.sni {
            write!(f, ", SNI {sni}")?;
        }
        if self.unverified {
            write!(f, " — {}", t(S::TlsUnverified))?;
        }
        if self.pinned {
            write!(f, " — {}", t(S::TlsPinnedTrust))?;
        }
        Ok(())
    }
}

/// SHA-256 of `der` as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    fingerprint_hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// A digest as `AB:CD:…`.
fn fingerprint_hex(digest: &[u8]) -> String {
    let hex: Vec<String> = digest.iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
}

/// Why a typed SHA-256 fingerprint is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinError {
    /// Nothing typed.
    Empty,
    /// A character that is not a hex digit (nor `:` or a space between them).
    NotHex(char),
    /// Hex digits, but not 64 of them.
    Length(usize),
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            PinError::Empty => t(S::PinEmpty).to_owned(),
            PinError::NotHex(c) => tf(S::PinNotHex, &[c]),
            PinError::Length(n) => tf(S::PinLength, &[n]),
        };
        f.write_str(&text)
    }
}

impl std::error::Error for PinError {}

/// Reads a SHA-256 fingerprint as people copy it: `AB:CD:…` (as shown here and by
/// `openssl x509 -fingerprint -sha256`, whose `sha256 Fingerprint=` may come with it), or 64
/// hex digits, in either case, with spaces or colons between them or not.
pub fn parse_pin(text: &str) -> Result<[u8; 32], PinError> {
    let text = text.trim();
    // `sha256 Fingerprint=AB:…`, `SHA256:AB…`, `SHA-256 AB:…`: what is before the digits.
    let text = text.rsplit_once('=').map_or(text, |(_, digits)| digits);
    let lower = text.to_ascii_lowercase();
    let text = ["sha-256", "sha256"]
        .iter()
        .find_map(|p| lower.strip_prefix(p))
        .map_or(text, |rest| {
            text.get(text.len() - rest.len()..).unwrap_or(text)
        });
    let mut digits = Vec::with_capacity(64);
    for c in text.chars() {
        match c {
            ':' | ' ' | '\t' | '-' => {}
            c if c.is_ascii_hexdigit() => digits.push(c),
            c => return Err(PinError::NotHex(c)),
        }
    }
    if digits.is_empty() {
        return Err(PinError::Empty);
    }
    if digits.len() != 64 {
        return Err(PinError::Length(digits.len()));
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
        let high = pair.first().and_then(|c| c.to_digit(16)).unwrap_or(0);
        let low = pair.get(1).and_then(|c| c.to_digit(16)).unwrap_or(0);
        *byte = u8::try_from(high * 16 + low).unwrap_or(0);
    }
    Ok(out)
}

/// The SHA-256 of the first certificate in a PEM file (or of a DER file), as `AB:CD:…`: what
/// to pin, from the certificate a device was made with.
pub fn fingerprint_of_file(path: &str) -> Result<String, EngineError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    if let Some(Ok(der)) = CertificateDer::pem_slice_iter(&bytes).next() {
        return Ok(fingerprint(&der));
    }
    // Not PEM: a DER certificate starts with a SEQUENCE and parses as one.
    if x509_parser::parse_x509_certificate(&bytes).is_ok() {
        return Ok(fingerprint(&bytes));
    }
    Err(EngineError::TlsSetup(tf(S::TlsNoCertInFile, &[&path])))
}

/// What to pin, given as a SHA-256 or as the certificate's file (`--pin`): the SHA-256 of
/// the file when it names a certificate file, else the text as typed (a text that is
/// neither is said when the session starts, as a pin that is not one).
pub fn pin_of(text: &str) -> String {
    if parse_pin(text).is_err()
        && std::path::Path::new(text.trim()).is_file()
        && let Ok(sha256) = fingerprint_of_file(text.trim())
    {
        return sha256;
    }
    text.to_owned()
}

/// A UNIX time as `2026-12-01 14:00:00 UTC`.
fn date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || unix.to_string(),
        |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

/// Why a handshake failed, in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsProblem {
    /// The certificate's validity ended.
    Expired {
        /// When.
        not_after: String,
    },
    /// The certificate is not valid yet.
    NotYetValid {
        /// From when it is.
        not_before: String,
    },
    /// Signed by a CA that is not trusted here.
    UnknownCa,
    /// The certificate is for other names.
    NameMismatch {
        /// The name asked for.
        expected: String,
        /// The names in the certificate.
        presented: Vec<String>,
    },
    /// The peer sent something that is not TLS.
    NotTls,
    /// The peer sent our own ClientHello back: a plain echo server, not TLS.
    EchoedHello,
    /// No version or cipher suite in common.
    NoCommon(String),
    /// No ALPN protocol in common.
    NoAlpn,
    /// The peer refused with an alert.
    Alert(String),
    /// The peer presented no certificate where one is required.
    NoCertificate,
    /// The server refused a client that presented no certificate (its alert says so).
    CertificateRequired,
    /// A CA certificate presented as the server's own.
    CaAsLeaf,
    /// A CA certificate presented as the server's own, checked against the system's roots
    /// (no CA file was given, so none can be blamed).
    CaAsLeafNoCaFile,
    /// The server's certificate is not the pinned one.
    NotPinned {
        /// The SHA-256 pinned.
        pinned: String,
    },
    /// A certificate problem, with the certificate the server presented (so it can be pinned).
    Presented {
        /// What is wrong with it.
        problem: Box<TlsProblem>,
        /// The certificate.
        cert: Box<CertInfo>,
    },
    /// Another certificate problem.
    BadCertificate(String),
    /// The connection closed during the handshake.
    Closed,
    /// Anything else rustls says.
    Other(String),
}

impl std::error::Error for TlsProblem {}

impl TlsProblem {
    /// The certificate the server presented, when it was refused for what it is.
    pub fn presented(&self) -> Option<&CertInfo> {
        match self {
            TlsProblem::Presented { cert, .. } => Some(cert),
            _ => None,
        }
    }

    /// Reads a rustls error.
    pub(crate) fn of(e: &rustls::Error) -> TlsProblem {
        use rustls::CertificateError as C;
        match e {
            rustls::Error::InvalidCertificate(cert) => match cert {
                C::ExpiredContext { not_after, .. } => TlsProblem::Expired {
                    not_after: date(unix(*not_after)),
                },
                C::Expired => TlsProblem::Expired {
                    not_after: "?".into(),
                },
                C::NotValidYetContext { not_before, .. } => TlsProblem::NotYetValid {
                    not_before: date(unix(*not_before)),
                },
                C::NotValidYet => TlsProblem::NotYetValid {
                    not_before: "?".into(),
                },
                // No issuer whose key verifies it (a self-signed certificate checked against
                // the system's roots ends here when a root shares its issuer's name).
                C::UnknownIssuer | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                    TlsProblem::UnknownCa
                }
                C::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsProblem::NameMismatch {
                    expected: name_text(expected),
                    presented: presented.iter().map(|n| plain_name(n)).collect(),
                },
                C::NotValidForName => TlsProblem::NameMismatch {
                    expected: String::new(),
                    presented: Vec::new(),
                },
                // Made with `openssl req -x509` and used as a server certificate.
                other if format!("{other:?}").contains("CaUsedAsEndEntity") => TlsProblem::CaAsLeaf,
                C::Other(other) => match other.0.downcast_ref::<NotPinned>() {
                    Some(NotPinned(pinned)) => TlsProblem::NotPinned {
                        pinned: pinned.clone(),
                    },
                    None => TlsProblem::BadCertificate(other.to_string()),
                },
                other => TlsProblem::BadCertificate(format!("{other:?}")),
            },
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                TlsProblem::NotTls
            }
            // A client that gets a ClientHello back talks to something that repeats what it
            // is sent (rustls says "unexpected handshake message", which tells a user nothing).
            rustls::Error::InappropriateHandshakeMessage {
                got_type: rustls::HandshakeType::ClientHello,
                ..
            } => TlsProblem::EchoedHello,
            rustls::Error::PeerIncompatible(why) => TlsProblem::NoCommon(format!("{why:?}")),
            rustls::Error::NoApplicationProtocol => TlsProblem::NoAlpn,
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired) => {
                TlsProblem::CertificateRequired
            }
            rustls::Error::AlertReceived(alert) => TlsProblem::Alert(alert_text(*alert)),
            rustls::Error::NoCertificatesPresented => TlsProblem::NoCertificate,
            other => TlsProblem::Other(other.to_string()),
        }
    }
}

/// `DnsName("a.example")` → `a.example`, `IpAddress(10.0.0.1)` → `10.0.0.1`: rustls lists the
/// names of a certificate as their debug form.
fn plain_name(name: &str) -> String {
    let inner = name
        .strip_prefix("DnsName(")
        .or_else(|| name.strip_prefix("IpAddress("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or(name);
    inner.trim_matches('"').to_owned()
}

fn unix(time: UnixTime) -> i64 {
    i64::try_from(time.as_secs()).unwrap_or(i64::MAX)
}

fn name_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// An alert as people know it: `unknown CA`, `bad certificate`, `certificate required`.
fn alert_text(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match alert {
        A::UnknownCA => "unknown CA".into(),
        A::BadCertificate => "bad certificate".into(),
        A::CertificateRequired => "certificate required".into(),
        A::CertificateExpired => "certificate expired".into(),
        A::HandshakeFailure => "handshake failure".into(),
        A::ProtocolVersion => "protocol version".into(),
        A::NoApplicationProtocol => "no application protocol".into(),
        A::DecryptError => "decrypt error".into(),
        other => format!("{other:?}"),
    }
}

impl fmt::Display for TlsProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            TlsProblem::Expired { not_after } => tf(S::TlsExpired, &[not_after]),
            TlsProblem::NotYetValid { not_before } => tf(S::TlsNotYetValid, &[not_before]),
            TlsProblem::UnknownCa => t(S::TlsUnknownCa).into(),
            TlsProblem::NameMismatch {
                expected,
                presented,
            } => tf(S::TlsNameMismatch, &[&presented.join(", "), expected]),
            TlsProblem::NotTls => t(S::TlsNotTls).into(),
            TlsProblem::EchoedHello => t(S::TlsEchoedHello).into(),
            TlsProblem::NoCommon(why) => tf(S::TlsNoCommon, &[why]),
            TlsProblem::NoAlpn => t(S::TlsNoAlpn).into(),
            TlsProblem::Alert(alert) => tf(S::TlsAlert, &[alert]),
            TlsProblem::NoCertificate => t(S::TlsNoCertificate).into(),
            TlsProblem::CertificateRequired => t(S::TlsCertificateRequired).into(),
            TlsProblem::CaAsLeaf => t(S::TlsCaAsLeaf).into(),
            TlsProblem::CaAsLeafNoCaFile => t(S::TlsCaAsLeafNoCaFile).into(),
            TlsProblem::NotPinned { pinned } => tf(S::TlsNotPinned, &[pinned]),
            TlsProblem::Presented { problem, cert } => {
                tf(S::TlsPresented, &[problem, &cert.subject, &cert.sha256])
            }
            TlsProblem::BadCertificate(why) => tf(S::TlsBadCertificate, &[why]),
            TlsProblem::Closed => t(S::TlsClosed).into(),
            TlsProblem::Other(why) => why.clone(),
        };
        f.write_str(&text)
    }
}

/// The rustls configurations of a session, built once at open.
#[derive(Clone, Default)]
pub(crate) struct Tls {
    /// A TLS client's configuration and the name it checks.
    pub client: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// A TLS server's configuration.
    pub server: Option<Arc<ServerConfig>>,
    /// The client takes any certificate.
    pub unverified: bool,
    /// The client takes exactly the pinned certificate.
    pub pinned: bool,
    /// The certificate the client's verifier refused last (read right after the handshake
    /// step that refused it, on the same thread, so it is that connection's).
    pub refused: Option<Arc<Refused>>,
    /// A server's self-signed certificate (said at Listen, so a device can pin it).
    pub own: Option<Box<CertInfo>>,
    /// The client checks against the system's roots (no CA file, no pin).
    pub system_roots: bool,
}

/// Where a client's verifier leaves the certificate it refused.
#[derive(Debug, Default)]
pub(crate) struct Refused(Mutex<Option<CertificateDer<'static>>>);

impl Refused {
    fn keep(&self, der: &CertificateDer<'_>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(der.clone().into_owned());
    }

    fn take(&self) -> Option<CertificateDer<'static>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("client", &self.client.is_some())
            .field("server", &self.server.is_some())
            .field("unverified", &self.unverified)
            .field("pinned", &self.pinned)
            .finish_non_exhaustive()
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn setup(e: impl fmt::Display) -> EngineError {
    EngineError::TlsSetup(e.to_string())
}

fn file_error(path: &str, e: impl fmt::Display) -> EngineError {
    EngineError::TlsSetup(tf(S::TlsFile, &[&path, &e]))
}

fn certs_of(path: &str) -> Result<Vec<CertificateDer<'static>>, EngineError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(EngineError::TlsSetup(tf(S::TlsNoCertInFile, &[&path])));
    }
    Ok(certs)
}

fn key_of(path: &str) -> Result<PrivateKeyDer<'static>, EngineError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            EngineError::TlsSetup(tf(S::TlsNoKeyInFile, &[&path]))
        }
        e => file_error(path, e),
    })
}

/// A certificate and a key that were given together and do not fit, said as such (rustls
/// says "keys may not be consistent: KeyMismatch").
fn pair_error(cert: &str, key: &str, e: rustls::Error) -> EngineError {
    match e {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            EngineError::TlsSetup(tf(S::TlsKeyNotOfCert, &[&key, &cert]))
        }
        e => file_error(key, e),
    }
}

fn roots_of(path: &str) -> Result<RootCertStore, EngineError> {
    let mut roots = RootCertStore::empty();
    for cert in certs_of(path)? {
        roots.add(cert).map_err(|e| file_error(path, e))?;
    }
    Ok(roots)
}

/// Builds what `config` asks for: nothing without TLS, else the client's or the server's
/// configuration. Every failure names the file or the setting.
pub(crate) fn prepare(config: &SessionConfig) -> Result<Tls, EngineError> {
    let Some(settings) = &config.tls else {
        return Ok(Tls::default());
    };
    match config.mode.caps().tls {
        Some(TlsSide::Client) => client(settings, config.remote),
        Some(TlsSide::Server) => {
            let mut own = None;
            let server = server(settings, &mut own)?;
            Ok(Tls {
                server: Some(server),
                own: own.map(Box::new),
                ..Tls::default()
            })
        }
        None => Err(EngineError::Unsupported(S::ErrTlsNeedsTcp)),
    }
}

/// A TLS client's configuration for `settings`, checking `remote` when no server name is set.
pub(crate) fn client(
    settings: &TlsSettings,
    remote: Option<SocketAddr>,
) -> Result<Tls, EngineError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(setup)?;
    let refused = Arc::new(Refused::default());
    let webpki = |roots: RootCertStore| -> Result<Arc<dyn ServerCertVerifier>, EngineError> {
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(setup)?;
        Ok(Arc::new(Keeping {
            inner,
            refused: Arc::clone(&refused),
        }))
    };
    let verifier: Arc<dyn ServerCertVerifier> = match &settings.verify {
        Verify::System => {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(EngineError::TlsSetup(t(S::TlsNoSystemRoots).into()));
            }
            webpki(roots)?
        }
        Verify::CaFile(path) if path.trim().is_empty() => {
            return Err(EngineError::TlsSetup(t(S::TlsCaEmpty).into()));
        }
        Verify::CaFile(path) => webpki(roots_of(path.trim())?)?,
        Verify::Pin(typed) => {
            let sha256 = parse_pin(typed).map_err(|e| {
                EngineError::TlsSetup(match e {
                    PinError::Empty => t(S::TlsPinMissing).to_owned(),
                    e => tf(S::TlsBadPin, &[&typed.trim(), &e]),
                })
            })?;
            Arc::new(Pinned {
                sha256,
                algorithms: provider.signature_verification_algorithms,
                refused: Arc::clone(&refused),
            })
        }
        Verify::Off => Arc::new(AnyCertificate(provider.signature_verification_algorithms)),
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (settings.client_cert.trim(), settings.client_key.trim()) {
        ("", _) => builder.with_no_client_auth(),
        (cert, "") => {
            return Err(EngineError::TlsSetup(tf(S::TlsKeyMissing, &[&cert])));
        }
        (cert, key) => builder
            .with_client_auth_cert(certs_of(cert)?, key_of(key)?)
            .map_err(|e| pair_error(cert, key, e))?,
    };
    config.alpn_protocols = settings
        .alpn
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    let name = settings.server_name.trim();
    let server_name = if name.is_empty() {
        let ip = remote.map_or(IpAddr::from([127, 0, 0, 1]), |r| r.ip());
        ServerName::IpAddress(ip.into())
    } else {
        ServerName::try_from(name.to_owned())
            .map_err(|_| EngineError::TlsSetup(tf(S::TlsBadServerName, &[&name])))?
    };
    Ok(Tls {
        client: Some((Arc::new(config), server_name)),
        server: None,
        unverified: settings.verify == Verify::Off,
        pinned: matches!(settings.verify, Verify::Pin(_)),
        refused: Some(refused),
        own: None,
        system_roots: settings.verify == Verify::System,
    })
}

/// A server's configuration; `own` gets its self-signed certificate, to be said at Listen.
fn server(
    settings: &TlsSettings,
    own: &mut Option<CertInfo>,
) -> Result<Arc<ServerConfig>, EngineError> {
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(setup)?;
    let builder = if settings.client_ca.trim().is_empty() {
        builder.with_no_client_auth()
    } else {
        let roots = Arc::new(roots_of(settings.client_ca.trim())?);
        let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(setup)?;
        builder.with_client_cert_verifier(verifier)
    };
    let mut config = match &settings.server_cert {
        ServerCert::Files { cert, key } => builder
            .with_single_cert(certs_of(cert)?, key_of(key)?)
            .map_err(|e| pair_error(cert, key, e))?,
        ServerCert::SelfSigned(names) => {
            // The kept one when it is for these names (a profile's), else one made now.
            let (chain, key) = match settings.kept_for_names() {
                Some(kept) => kept.load()?,
                None => KeptCert::make(names)?.load()?,
            };
            *own = chain.first().map(|der| CertInfo::of(der));
            builder.with_single_cert(chain, key).map_err(setup)?
        }
    };
    config.alpn_protocols = settings
        .alpn
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    Ok(Arc::new(config))
}

/// A self-signed certificate for `names` (IP addresses become IP names) and its key.
pub fn self_signed(
    names: &[String],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), EngineError> {
    KeptCert::make(names)?.load()
}

/// The system's or a CA file's verification, keeping the certificate it refused so the
/// failure can name it (and offer to pin it).
#[derive(Debug)]
struct Keeping {
    inner: Arc<WebPkiServerVerifier>,
    refused: Arc<Refused>,
}

impl ServerCertVerifier for Keeping {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if verified.is_err() {
            self.refused.keep(end_entity);
        }
        verified
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// A pinned certificate that did not come: the SHA-256 that was pinned.
#[derive(Debug)]
struct NotPinned(String);

impl fmt::Display for NotPinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tf(S::TlsNotPinned, &[&self.0]))
    }
}

impl std::error::Error for NotPinned {}

/// Trust exactly one certificate, by its SHA-256: the server's own certificate must be
/// that one (its names, dates and issuer do not matter), and the handshake must be signed by
/// its key.
#[derive(Debug)]
struct Pinned {
    sha256: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
    refused: Arc<Refused>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if digest.as_ref() == self.sha256 {
            return Ok(ServerCertVerified::assertion());
        }
        self.refused.keep(end_entity);
        let pinned = fingerprint_hex(&self.sha256);
        Err(rustls::Error::InvalidCertificate(
            rustls::CertificateError::Other(rustls::OtherError(Arc::new(NotPinned(pinned)))),
        ))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Why a handshake failed: the rustls error in words, with the certificate the client's
/// verifier refused when that is why.
pub(crate) fn failure(tls: &Tls, e: &rustls::Error) -> TlsProblem {
    let problem = match TlsProblem::of(e) {
        // No CA file was given: the sentence must not blame one.
        TlsProblem::CaAsLeaf if tls.system_roots => TlsProblem::CaAsLeafNoCaFile,
        problem => problem,
    };
    let refused = tls.refused.as_ref().and_then(|r| r.take());
    match (e, refused) {
        (rustls::Error::InvalidCertificate(_), Some(der)) => TlsProblem::Presented {
            problem: Box::new(problem),
            cert: Box::new(CertInfo::of(&der)),
        },
        _ => problem,
    }
}

/// "Don't verify": takes any certificate, still checks that the handshake is signed by it.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// What `conn` negotiated, once its handshake is done.
pub(crate) fn info(conn: &rustls::Connection, tls: &Tls) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLS 1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLS 1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "?".to_owned(),
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map_or_else(|| "?".to_owned(), |s| format!("{:?}", s.suite()));
    let alpn = conn
        .alpn_protocol()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let sni = match conn {
        rustls::Connection::Server(server) => server.server_name().map(str::to_owned),
        rustls::Connection::Client(_) => None,
    };
    let chain = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|der| CertInfo::of(der))
        .collect();
    TlsInfo {
        version,
        cipher,
        alpn,
        sni,
        chain,
        unverified: tls.unverified && matches!(conn, rustls::Connection::Client(_)),
        pinned: tls.pinned && matches!(conn, rustls::Connection::Client(_)),
    }
}

/// A new connection for one TCP stream of this session.
pub(crate) fn connection(tls: &Tls) -> Result<Option<rustls::Connection>, rustls::Error> {
    if let Some((config, name)) = &tls.client {
        let conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())?;
        return Ok(Some(rustls::Connection::Client(conn)));
    }
    if let Some(config) = &tls.server {
        let conn = rustls::ServerConnection::new(Arc::clone(config))?;
        return Ok(Some(rustls::Connection::Server(conn)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_names_its_addresses_and_has_a_fingerprint() {
        let (chain, _key) = self_signed(&["a.example".into(), "127.0.0.1".into()]).unwrap();
        let info = CertInfo::of(chain.first().unwrap());
        assert_eq!(info.sha256.len(), 32 * 3 - 1);
        assert!(
            info.sha256
                .chars()
                .all(|c| c == ':' || c.is_ascii_hexdigit())
        );
        assert!(info.not_after.ends_with("UTC"), "{info:?}");
    }

    #[test]
    fn problems_read_as_sentences() {
        crate::i18n::set_lang(crate::i18n::Lang::En);
        let mismatch = TlsProblem::NameMismatch {
            expected: "b.example".into(),
            presented: vec!["a.example".into()],
        };
        assert_eq!(
            mismatch.to_string(),
            "name mismatch: the certificate is for a.example, not b.example"
        );
        let expired = TlsProblem::of(&rustls::Error::InvalidCertificate(
            rustls::CertificateError::ExpiredContext {
                time: UnixTime::since_unix_epoch(std::time::Duration::from_hours(500_000)),
                not_after: UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                    1_700_000_000,
                )),
            },
        ));
        assert_eq!(
            expired.to_string(),
            "the certificate expired on 2023-11-14 22:13:20 UTC"
        );
        assert_eq!(
            TlsProblem::of(&rustls::Error::AlertReceived(
                rustls::AlertDescription::UnknownCA
            ))
            .to_string(),
            "the peer refused the handshake: unknown CA"
        );
    }

    #[test]
    fn a_pin_is_read_as_people_copy_it() {
        let (chain, _) = self_signed(&["a.example".into()]).unwrap();
        let der = chain.first().unwrap();
        let shown = fingerprint(der);
        let want = parse_pin(&shown).unwrap();
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        assert_eq!(want.as_slice(), digest.as_ref());
        let bare = shown.replace(':', "");
        for typed in [
            format!("  {shown} \n"),
            format!("sha256 Fingerprint={shown}"),
            format!("SHA256 Fingerprint={}", shown.to_lowercase()),
            format!("SHA-256 {shown}"),
            format!("sha256:{bare}"),
            bare.to_lowercase(),
            shown.replace(':', " "),
        ] {
            assert_eq!(parse_pin(&typed), Ok(want), "{typed}");
        }
        crate::i18n::set_lang(crate::i18n::Lang::En);
        assert_eq!(parse_pin("  "), Err(PinError::Empty));
        assert_eq!(parse_pin("AB:CD:G1"), Err(PinError::NotHex('G')));
        let short = parse_pin("AB:CD").unwrap_err();
        assert_eq!(short, PinError::Length(4));
        assert_eq!(
            short.to_string(),
            "it has 4 hex digits; a SHA-256 has 64 (32 bytes, AB:CD:…)"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_digest_shown_any_way_reads_back(bytes in proptest::array::uniform32(proptest::num::u8::ANY), lower: bool, sep in 0usize..3) {
            let shown = fingerprint_hex(&bytes);
            let shown = if lower { shown.to_lowercase() } else { shown };
            let shown = shown.replace(':', ["", ":", " "][sep]);
            proptest::prop_assert_eq!(parse_pin(&shown), Ok(bytes));
        }

        #[test]
        fn any_text_as_a_pin_never_panics(text in ".{0,200}") {
            let _ = parse_pin(&text);
        }
    }

    #[test]
    fn a_certificate_file_gives_the_fingerprint_to_pin() {
        let made = rcgen::generate_simple_self_signed(vec!["a.example".to_owned()]).unwrap();
        let dir_dir = tempfile::tempdir().unwrap();
        let dir = dir_dir
            .path()
            .join(format!("sockscope-pin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem_path = dir.join("cert.pem");
        std::fs::write(&pem_path, made.cert.pem()).unwrap();
        let der_path = dir.join("cert.der");
        std::fs::write(&der_path, made.cert.der()).unwrap();
        let want = fingerprint(made.cert.der());
        assert_eq!(
            fingerprint_of_file(pem_path.to_str().unwrap()).unwrap(),
            want
        );
        assert_eq!(
            fingerprint_of_file(der_path.to_str().unwrap()).unwrap(),
            want
        );
        std::fs::write(&der_path, b"not a certificate").unwrap();
        crate::i18n::set_lang(crate::i18n::Lang::En);
        let e = fingerprint_of_file(der_path.to_str().unwrap()).unwrap_err();
        assert!(e.to_string().ends_with("holds no PEM certificate"), "{e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_kept_certificate_is_saved_with_the_settings_and_older_settings_load_without_one() {
        let mut settings = TlsSettings::default();
        settings.keep_self_signed().unwrap();
        let saved = ron::to_string(&settings).unwrap();
        let loaded: TlsSettings = ron::from_str(&saved).unwrap();
        assert_eq!(loaded, settings);
        assert!(loaded.kept_for_names().is_some());
        // As written before there was a kept certificate.
        let older: TlsSettings =
            ron::from_str(r#"(verify: CaFile("ca.pem"), server_cert: SelfSigned(["localhost"]))"#)
                .unwrap();
        assert_eq!(older.kept, None);
        assert_eq!(older.verify, Verify::CaFile("ca.pem".into()));
        let pinned: TlsSettings = ron::from_str(r#"(verify: Pin("AB:CD"))"#).unwrap();
        assert_eq!(pinned.verify, Verify::Pin("AB:CD".into()));
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let e = roots_of("/no/such/ca.pem").unwrap_err().to_string();
        assert!(
            e.starts_with("TLS cannot start: Cannot read /no/such/ca.pem"),
            "{e}"
        );
    }
}
