//! TLS on TCP connections (rustls): what the user sets (verification, SNI, ALPN, certificates),
//! the rustls configurations built from it once per session, what a handshake negotiated, and
//! every failure as a sentence that names the certificate, the date or the name involved.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use serde::{Deserialize, Serialize};

use super::{EngineError, Mode, SessionConfig};
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
        Ok(())
    }
}

/// SHA-256 of `der` as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let hex: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    hex.join(":")
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
    /// A CA certificate presented as the server's own.
    CaAsLeaf,
    /// Another certificate problem.
    BadCertificate(String),
    /// The connection closed during the handshake.
    Closed,
    /// Anything else rustls says.
    Other(String),
}

impl std::error::Error for TlsProblem {}

impl TlsProblem {
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
            TlsProblem::CaAsLeaf => t(S::TlsCaAsLeaf).into(),
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
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls")
            .field("client", &self.client.is_some())
            .field("server", &self.server.is_some())
            .field("unverified", &self.unverified)
            .finish()
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
    match config.mode {
        Mode::TcpClient => client(settings, config.remote),
        Mode::TcpServer => Ok(Tls {
            server: Some(server(settings)?),
            ..Tls::default()
        }),
        Mode::Udp | Mode::Relay => Err(EngineError::Unsupported(S::ErrTlsNeedsTcp)),
    }
}

fn client(settings: &TlsSettings, remote: Option<SocketAddr>) -> Result<Tls, EngineError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(setup)?;
    let builder = match &settings.verify {
        Verify::System => {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(EngineError::TlsSetup(t(S::TlsNoSystemRoots).into()));
            }
            builder.with_root_certificates(roots)
        }
        Verify::CaFile(path) => builder.with_root_certificates(roots_of(path)?),
        Verify::Off => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(
                provider.signature_verification_algorithms,
            ))),
    };
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
    })
}

fn server(settings: &TlsSettings) -> Result<Arc<ServerConfig>, EngineError> {
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
            let (chain, key) = self_signed(names)?;
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
    let names: Vec<String> = names
        .iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    let made = rcgen::generate_simple_self_signed(names).map_err(setup)?;
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der()).map_err(setup)?;
    Ok((vec![made.cert.der().clone()], key))
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
pub(crate) fn info(conn: &rustls::Connection, unverified: bool) -> TlsInfo {
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
        unverified,
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
    fn a_missing_ca_file_is_named() {
        let e = roots_of("/no/such/ca.pem").unwrap_err().to_string();
        assert!(
            e.starts_with("TLS cannot start: Cannot read /no/such/ca.pem"),
            "{e}"
        );
    }
}
