//! TLS sessions over loopback: a SockScope TLS server and TLS clients in-process (what was
//! negotiated, bytes both ways, many clients on the one I/O thread, client certificates), and
//! each kind of failure as its sentence. Certificates are made by rcgen into a temporary folder.

use std::net::SocketAddr;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use sockscope_core::capture::{LinkState, RecordKind};
use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::{Mode, ServerCert, Target, TlsSettings, Verify};
use sockscope_core::session::Session;

use crate::util::{WAIT, bound, config, wait_capture, wait_logged};

/// A folder of PEM files for one test, removed when dropped.
pub struct Pems(tempfile::TempDir);

impl Pems {
    pub fn new(name: &str) -> Pems {
        let dir = tempfile::Builder::new()
            .prefix(&format!("sockscope-tls-{name}-"))
            .tempdir()
            .unwrap();
        Pems(dir)
    }

    pub fn write(&self, name: &str, pem: &str) -> String {
        let path = self.0.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path.display().to_string()
    }

    /// A CA, and a leaf for `names` signed by it (with `params` changed by `adjust`): the
    /// paths of the CA certificate, the leaf and its key.
    pub fn ca_and_leaf(
        &self,
        tag: &str,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> (String, String, String) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("SockScope Test CA {tag}"),
        );
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        let mut params = CertificateParams::new(names.clone()).unwrap();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        adjust(&mut params);
        let leaf = params.signed_by(&leaf_key, &issuer).unwrap();
        (
            self.write(&format!("{tag}-ca.pem"), &ca.pem()),
            self.write(&format!("{tag}-cert.pem"), &leaf.pem()),
            self.write(&format!("{tag}-key.pem"), &leaf_key.serialize_pem()),
        )
    }
}

fn tls_session(mode: Mode, local: &str, remote: Option<SocketAddr>, tls: TlsSettings) -> Session {
    let mut session = Session::new(std::sync::Arc::new(|| {}));
    let config = config(mode, local, remote, Framing::None).tls(Some(tls));
    session.open(config, false).unwrap();
    session
}

fn server(tls: TlsSettings) -> (Session, SocketAddr) {
    let session = tls_session(Mode::TcpServer, "127.0.0.1:0", None, tls);
    let addr = bound(&session);
    (session, addr)
}

fn client(addr: SocketAddr, tls: TlsSettings) -> Session {
    tls_session(Mode::TcpClient, "0.0.0.0:0", Some(addr), tls)
}

fn rx_text(session: &Session) -> String {
    session
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| r.text().into_owned())
        .collect()
}

fn error_text(session: &Session) -> String {
    session
        .capture()
        .last_error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Waits until `session` (a client) failed; its error sentence.
fn failure(session: &Session) -> String {
    wait_capture(session, "the handshake to fail", |c| c.stopped);
    error_text(session)
}

#[test]
fn a_self_signed_server_and_an_unverified_client_talk_and_say_what_was_negotiated() {
    let (server, addr) = server(TlsSettings {
        server_cert: ServerCert::SelfSigned(vec!["127.0.0.1".into()]),
        alpn: vec!["sockscope/1".into()],
        ..TlsSettings::default()
    });
    let client = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            alpn: vec!["sockscope/1".into()],
            ..TlsSettings::default()
        },
    );
    wait_capture(&client, "connected", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    let info = client
        .capture()
        .clients
        .values()
        .next()
        .and_then(|c| c.tls.clone())
        .expect("the client knows what was negotiated");
    assert_eq!(info.version, "TLS 1.3");
    assert_eq!(info.alpn.as_deref(), Some("sockscope/1"));
    assert!(info.unverified);
    assert_eq!(info.chain.len(), 1);
    assert_eq!(info.chain[0].sha256.len(), 95);
    let text: Vec<String> = client
        .capture()
        .log
        .iter()
        .map(|r| r.text().into_owned())
        .collect();
    assert!(
        text.iter().any(
            |t| t.starts_with(&format!("TLS with {addr}: TLS 1.3, TLS13_"))
                && t.contains("ALPN sockscope/1")
                && t.ends_with("certificate NOT verified")
        ),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("certificate 1:") && t.contains("SHA-256"))
    );
    // Bytes both ways, through TLS, exactly.
    let payload = "温度=23.5℃ \u{1}\u{2}".as_bytes().to_vec();
    client.command(sockscope_core::engine::Command::Send {
        to: Target::AllConns,
        bytes: payload.clone(),
    });
    wait_capture(&server, "the server got it", |c| {
        c.counters.rx_bytes == payload.len() as u64
    });
    server.command(sockscope_core::engine::Command::Send {
        to: Target::AllConns,
        bytes: b"ack".to_vec(),
    });
    wait_capture(&client, "the client got the answer", |c| {
        c.counters.rx_bytes == 3
    });
    assert_eq!(rx_text(&server).as_bytes(), payload.as_slice());
    assert_eq!(rx_text(&client), "ack");
}

#[test]
fn a_tls_server_serves_many_clients_on_its_one_thread() {
    let (server, addr) = server(TlsSettings::default());
    let clients: Vec<Session> = (0..24)
        .map(|_| {
            client(
                addr,
                TlsSettings {
                    verify: Verify::Off,
                    ..TlsSettings::default()
                },
            )
        })
        .collect();
    wait_capture(&server, "24 TLS clients", |c| c.clients.len() == 24);
    assert!(server.capture().clients.values().all(|c| c.tls.is_some()));
    for (n, c) in clients.iter().enumerate() {
        wait_capture(c, "connected", |c| {
            matches!(c.link, LinkState::Connected { .. })
        });
        c.command(sockscope_core::engine::Command::Send {
            to: Target::AllConns,
            bytes: format!("client {n:02};").into_bytes(),
        });
    }
    wait_capture(&server, "every client's bytes", |c| {
        c.counters.rx_bytes == 24 * 10
    });
    let mut got: Vec<String> = rx_text(&server).split(';').map(str::to_owned).collect();
    got.retain(|s| !s.is_empty());
    got.sort();
    let want: Vec<String> = (0..24).map(|n| format!("client {n:02}")).collect();
    assert_eq!(got, want);
}

#[test]
fn a_ca_file_verifies_the_server_and_the_sni_name() {
    let pems = Pems::new("ca");
    let (ca, cert, key) = pems.ca_and_leaf("good", &["a.example"], |_| {});
    let (server, addr) = server(TlsSettings {
        server_cert: ServerCert::Files { cert, key },
        ..TlsSettings::default()
    });
    let ok = client(
        addr,
        TlsSettings {
            verify: Verify::CaFile(ca.clone()),
            server_name: "a.example".into(),
            ..TlsSettings::default()
        },
    );
    wait_capture(&ok, "verified", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    wait_capture(&server, "the server saw the SNI", |c| {
        c.clients
            .values()
            .any(|c| c.tls.as_ref().and_then(|t| t.sni.as_deref()) == Some("a.example"))
    });
    // The same server under another name: a name mismatch that says both names.
    let wrong = client(
        addr,
        TlsSettings {
            verify: Verify::CaFile(ca),
            server_name: "b.example".into(),
            ..TlsSettings::default()
        },
    );
    let said = failure(&wrong);
    assert!(
        said.starts_with(&format!(
            "TLS with {addr} failed: name mismatch: the certificate is for a.example, not b.example. The server's certificate: CN=a.example, SHA-256 "
        )),
        "{said}"
    );
    // Another CA: unknown CA.
    let (other_ca, _, _) = pems.ca_and_leaf("other", &["a.example"], |_| {});
    let stranger = client(
        addr,
        TlsSettings {
            verify: Verify::CaFile(other_ca),
            server_name: "a.example".into(),
            ..TlsSettings::default()
        },
    );
    let said = failure(&stranger);
    assert!(
        said.starts_with(&format!(
            "TLS with {addr} failed: the certificate is signed by a CA that is not trusted here (unknown CA). The server's certificate: CN=a.example, SHA-256 "
        )),
        "{said}"
    );
    drop(server);
}

#[test]
fn an_expired_certificate_says_when_it_expired() {
    let pems = Pems::new("expired");
    let (ca, cert, key) = pems.ca_and_leaf("old", &["a.example"], |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 6, 30);
    });
    let (_server, addr) = server(TlsSettings {
        server_cert: ServerCert::Files { cert, key },
        ..TlsSettings::default()
    });
    let client = client(
        addr,
        TlsSettings {
            verify: Verify::CaFile(ca),
            server_name: "a.example".into(),
            ..TlsSettings::default()
        },
    );
    let said = failure(&client);
    assert!(
        said.starts_with(&format!(
            "TLS with {addr} failed: the certificate expired on 2021-06-30 00:00:00 UTC. The server's certificate: CN=a.example"
        )),
        "{said}"
    );
}

#[test]
fn a_server_that_asks_for_client_certificates_takes_a_signed_one_and_refuses_none() {
    let pems = Pems::new("mtls");
    let (client_ca, client_cert, client_key) = pems.ca_and_leaf("client", &["device-7"], |_| {});
    let (server, addr) = server(TlsSettings {
        client_ca,
        ..TlsSettings::default()
    });
    let with_cert = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            client_cert,
            client_key,
            ..TlsSettings::default()
        },
    );
    wait_capture(&with_cert, "connected", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    wait_capture(&server, "the client's certificate", |c| {
        c.clients.values().any(|c| {
            c.tls.as_ref().is_some_and(|t| {
                t.chain
                    .first()
                    .is_some_and(|cert| cert.subject.contains("device-7"))
            })
        })
    });
    let without = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            ..TlsSettings::default()
        },
    );
    // TLS 1.3: the client finishes first and learns of the refusal from the server's alert;
    // it failed to connect all the same, as at any other TLS failure (⚠, not idle).
    wait_capture(&without, "refused", |c| {
        matches!(c.link, LinkState::Idle) && c.last_error.is_some()
    });
    let said = error_text(&without);
    assert!(
        said.ends_with(&format!(
            "TLS with {addr} failed: the server requires a client certificate and refused the connection without one (alert: certificate required): give a client certificate and its key"
        )),
        "{said}"
    );
    wait_logged(&server, "the client presented no certificate");
}

#[test]
fn tls_to_a_plain_server_and_bad_files_say_so() {
    // A plain TCP server that greets: not TLS.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let greeter = std::thread::Builder::new()
        .name("greeter".into())
        .spawn(move || {
            use std::io::Write;
            let (mut stream, _) = listener.accept().unwrap();
            let _ = stream.write_all(b"220 plain service ready\r\n");
            std::thread::sleep(Duration::from_millis(500));
        })
        .unwrap();
    let client = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            ..TlsSettings::default()
        },
    );
    assert_eq!(
        failure(&client),
        format!(
            "TLS with {addr} failed: the peer does not speak TLS (what it sent is not a TLS record)"
        )
    );
    greeter.join().unwrap();
    let missing = client_with_ca(addr, "/no/such/ca.pem");
    let said = failure(&missing);
    assert!(
        said.starts_with("TLS cannot start: Cannot read /no/such/ca.pem"),
        "{said}"
    );
    let _ = WAIT;
}

fn client_with_ca(addr: SocketAddr, ca: &str) -> Session {
    client(
        addr,
        TlsSettings {
            verify: Verify::CaFile(ca.into()),
            ..TlsSettings::default()
        },
    )
}

#[test]
fn a_key_that_belongs_to_another_certificate_is_said_in_words() {
    let pems = Pems::new("keymismatch");
    let (_, cert, _) = pems.ca_and_leaf("one", &["device-1"], |_| {});
    let (_, _, other_key) = pems.ca_and_leaf("two", &["device-2"], |_| {});
    // A client certificate with the wrong key.
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let client = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            client_cert: cert.clone(),
            client_key: other_key.clone(),
            ..TlsSettings::default()
        },
    );
    let said = failure(&client);
    assert_eq!(
        said,
        format!(
            "TLS cannot start: the key {other_key} does not belong to the certificate {cert}: pick the key file made with that certificate"
        )
    );
    assert!(!said.contains("KeyMismatch"), "{said}");
    // A server's certificate with the wrong key: the same sentence.
    let server = tls_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        TlsSettings {
            server_cert: ServerCert::Files {
                cert: cert.clone(),
                key: other_key.clone(),
            },
            ..TlsSettings::default()
        },
    );
    assert_eq!(
        failure(&server),
        format!(
            "TLS cannot start: the key {other_key} does not belong to the certificate {cert}: pick the key file made with that certificate"
        )
    );
    // A certificate given as the key: no key in it.
    let server = tls_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        TlsSettings {
            server_cert: ServerCert::Files {
                cert: cert.clone(),
                key: cert.clone(),
            },
            ..TlsSettings::default()
        },
    );
    assert_eq!(
        failure(&server),
        format!("TLS cannot start: {cert} holds no PEM private key")
    );
}

#[test]
fn tls_to_an_echo_server_says_the_peer_does_not_speak_tls() {
    // A plain echo server: it sends the ClientHello straight back.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = std::thread::Builder::new()
        .name("echo".into())
        .spawn(move || {
            use std::io::{Read, Write};
            let (mut stream, _) = listener.accept().unwrap();
            stream.set_read_timeout(Some(WAIT)).unwrap();
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut buf) {
                if stream.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        })
        .unwrap();
    let client = client(
        addr,
        TlsSettings {
            verify: Verify::Off,
            ..TlsSettings::default()
        },
    );
    assert_eq!(
        failure(&client),
        format!(
            "TLS with {addr} failed: the peer does not speak TLS: it sent our own TLS greeting (ClientHello) back, as an echo server does"
        )
    );
    drop(client);
    echo.join().unwrap();
}

/// A device's own certificate as `openssl req -x509` makes it: self-signed, CA:TRUE, its
/// name only in the subject. The paths of the certificate and its key.
fn device_certificate(pems: &Pems, tag: &str) -> (String, String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("device-{tag}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let sha256 = sockscope_core::engine::fingerprint(cert.der());
    (
        pems.write(&format!("{tag}-cert.pem"), &cert.pem()),
        pems.write(&format!("{tag}-key.pem"), &key.serialize_pem()),
        sha256,
    )
}

#[test]
fn a_device_certificate_that_a_ca_file_cannot_vouch_for_can_be_pinned_by_its_sha256() {
    let pems = Pems::new("pin");
    let (cert, key, sha256) = device_certificate(&pems, "42");
    let (server, addr) = server(TlsSettings {
        server_cert: ServerCert::Files {
            cert: cert.clone(),
            key,
        },
        ..TlsSettings::default()
    });
    // Its own certificate as the CA file: refused, in plain words, with what to pin.
    let as_ca = client_with_ca(addr, &cert);
    let said = failure(&as_ca);
    assert_eq!(
        said,
        format!(
            "TLS with {addr} failed: the server's own certificate is a CA certificate (CA:TRUE, as `openssl req -x509` makes them), and a CA file cannot vouch for a server's own certificate: trust exactly this certificate by its SHA-256 instead, or give the server a certificate made with CA:FALSE. The server's certificate: CN=device-42, SHA-256 {sha256}. To trust exactly this certificate, pin its SHA-256 (Trust: This certificate; on the command line: --pin)"
        )
    );
    assert!(!said.contains("don't verify"), "{said}");
    let refused = as_ca.capture().tls_refused.clone();
    assert_eq!(refused.map(|c| c.sha256), Some(sha256.clone()));
    // Pinned, as shown (or as openssl prints it): trusted, and said so.
    for typed in [sha256.clone(), format!("sha256 Fingerprint={sha256}")] {
        let pinned = client(
            addr,
            TlsSettings {
                verify: Verify::Pin(typed),
                ..TlsSettings::default()
            },
        );
        wait_capture(&pinned, "connected", |c| {
            matches!(c.link, LinkState::Connected { .. })
        });
        let info = pinned
            .capture()
            .clients
            .values()
            .find_map(|c| c.tls.clone())
            .unwrap();
        assert!(info.pinned && !info.unverified, "{info:?}");
        wait_logged(&pinned, "trusted as the pinned certificate (SHA-256)");
        pinned.command(sockscope_core::engine::Command::Send {
            to: Target::AllConns,
            bytes: b"pinned".to_vec(),
        });
        wait_logged(&server, "pinned");
    }
    // Another certificate pinned: refused, naming both.
    let other = "00:".repeat(31) + "01";
    let wrong = client(
        addr,
        TlsSettings {
            verify: Verify::Pin(other.clone()),
            ..TlsSettings::default()
        },
    );
    let said = failure(&wrong);
    assert!(
        said.starts_with(&format!(
            "TLS with {addr} failed: the server's certificate is not the pinned one (SHA-256 {other}). The server's certificate: CN=device-42, SHA-256 {sha256}."
        )),
        "{said}"
    );
    // A pin that is not one never starts.
    let typo = client(
        addr,
        TlsSettings {
            verify: Verify::Pin("D2:B6:06".into()),
            ..TlsSettings::default()
        },
    );
    assert_eq!(
        failure(&typo),
        "TLS cannot start: D2:B6:06 is not a SHA-256 fingerprint: it has 6 hex digits; a SHA-256 has 64 (32 bytes, AB:CD:…)"
    );
}

/// The SHA-256 of the certificate a client saw.
fn seen_sha256(client: &Session) -> String {
    wait_capture(client, "connected", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    let info = client
        .capture()
        .clients
        .values()
        .find_map(|c| c.tls.clone())
        .unwrap();
    assert_eq!(info.chain[0].subject, "CN=device.local");
    info.chain[0].sha256.clone()
}

#[test]
fn a_kept_self_signed_certificate_is_the_same_at_every_listen_until_it_is_made_again() {
    let mut settings = TlsSettings {
        server_cert: ServerCert::SelfSigned(vec!["device.local".into(), "127.0.0.1".into()]),
        ..TlsSettings::default()
    };
    assert!(settings.keep_self_signed().unwrap(), "made the first time");
    assert!(!settings.keep_self_signed().unwrap(), "kept after that");
    let kept = settings.kept.clone().unwrap().info().unwrap();
    assert_eq!(kept.subject, "CN=device.local", "named as given");
    let unverified = || TlsSettings {
        verify: Verify::Off,
        ..TlsSettings::default()
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (server, addr) = server(settings.clone());
        wait_logged(
            &server,
            &format!(
                "TLS: this server's self-signed certificate is CN=device.local, SHA-256 {}",
                kept.sha256
            ),
        );
        seen.push(seen_sha256(&client(addr, unverified())));
        // A device that pinned it connects.
        let pinned = client(
            addr,
            TlsSettings {
                verify: Verify::Pin(kept.sha256.clone()),
                ..TlsSettings::default()
            },
        );
        seen.push(seen_sha256(&pinned));
    }
    assert!(seen.iter().all(|s| *s == kept.sha256), "{seen:?}");
    // Regenerated: another certificate, kept from then on.
    settings.regenerate_self_signed().unwrap();
    let new = settings.kept.clone().unwrap().info().unwrap();
    assert_ne!(new.sha256, kept.sha256);
    let (_server, addr) = server(settings.clone());
    assert_eq!(seen_sha256(&client(addr, unverified())), new.sha256);
    // Other names: made again for them.
    settings.server_cert = ServerCert::SelfSigned(vec!["other.local".into()]);
    assert!(settings.keep_self_signed().unwrap());
    let other = settings.kept.clone().unwrap().info().unwrap();
    assert_eq!(other.subject, "CN=other.local");
}
