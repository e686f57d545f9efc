//! Certificates for TLS tests, made with rcgen in-process (no `openssl req` to spawn) and
//! written as PEM files into a folder the test owns. Third-party peers (`openssl s_server`,
//! Python's `ssl`) read them as they would read their own.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A certificate and its key as PEM files.
#[derive(Clone, Debug)]
pub struct Pem {
    /// The certificate.
    pub cert: PathBuf,
    /// Its private key (PKCS#8).
    pub key: PathBuf,
    /// The certificate in DER (to compute its fingerprint).
    pub der: Vec<u8>,
}

impl Pem {
    /// The certificate's path as text (for a command line or a profile).
    pub fn cert_text(&self) -> String {
        self.cert.display().to_string()
    }

    /// The key's path as text.
    pub fn key_text(&self) -> String {
        self.key.display().to_string()
    }
}

/// What kind of certificate to make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A server's own certificate (CA:FALSE): what a CA file can vouch for when the file is
    /// the certificate itself.
    Leaf,
    /// As a device makes its own with `openssl req -x509`: CA:TRUE (usually with no
    /// subjectAltName, its name only in the subject).
    Device,
}

/// A self-signed P-256 certificate named `cn` in its subject, for `sans` (DNS names or IP
/// addresses, as subjectAltName), written as `{tag}-cert.pem` and `{tag}-key.pem` in `dir`.
pub fn self_signed(dir: &Path, tag: &str, cn: &str, sans: &[&str], kind: Kind) -> Pem {
    let key = KeyPair::generate().expect("a key");
    let sans: Vec<String> = sans.iter().map(ToString::to_string).collect();
    let mut params = CertificateParams::new(sans).expect("certificate names");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = match kind {
        Kind::Leaf => IsCa::ExplicitNoCa,
        Kind::Device => IsCa::Ca(BasicConstraints::Unconstrained),
    };
    let cert = params.self_signed(&key).expect("a self-signed certificate");
    write(
        dir,
        tag,
        &cert.pem(),
        &key.serialize_pem(),
        cert.der().to_vec(),
    )
}

/// A CA, and a leaf for `names` signed by it (with its parameters changed by `adjust`: an
/// expiry in the past, a client-auth usage …): the CA's certificate, and the leaf with its key.
pub fn ca_and_leaf(
    dir: &Path,
    tag: &str,
    names: &[&str],
    adjust: impl FnOnce(&mut CertificateParams),
) -> (PathBuf, Pem) {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("SockScope Test CA {tag}"));
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("a leaf key");
    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
    let mut params = CertificateParams::new(names.clone()).expect("leaf names");
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_default(),
    );
    adjust(&mut params);
    let leaf = params
        .signed_by(&leaf_key, &issuer)
        .expect("a signed certificate");
    let ca_path = dir.join(format!("{tag}-ca.pem"));
    std::fs::write(&ca_path, ca.pem()).expect("the CA file is written");
    let pem = write(
        dir,
        tag,
        &leaf.pem(),
        &leaf_key.serialize_pem(),
        leaf.der().to_vec(),
    );
    (ca_path, pem)
}

fn write(dir: &Path, tag: &str, cert: &str, key: &str, der: Vec<u8>) -> Pem {
    let pem = Pem {
        cert: dir.join(format!("{tag}-cert.pem")),
        key: dir.join(format!("{tag}-key.pem")),
        der,
    };
    std::fs::write(&pem.cert, cert).expect("the certificate is written");
    std::fs::write(&pem.key, key).expect("the key is written");
    pem
}

/// Re-exported so a test's `adjust` can name rcgen's types without its own dependency.
pub use rcgen;
