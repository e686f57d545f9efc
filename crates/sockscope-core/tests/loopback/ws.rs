//! WebSocket sessions over loopback: a SockScope WebSocket server and client in-process (one
//! record per message, ping and pong, close codes and reasons, wss:// over TLS), and Python's
//! `websockets` as the real peer on either side (skipped, saying so, where it is missing).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use sockscope_core::capture::{LinkState, RecordKind, WsKind};
use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::{Command, Mode, Reply, Target, TlsSettings, Verify, WsOp, WsSettings};
use sockscope_core::session::Session;

use crate::util::{bound, config, wait_capture, wait_logged};

fn ws_session(
    mode: Mode,
    local: &str,
    remote: Option<SocketAddr>,
    ws: WsSettings,
    tls: Option<TlsSettings>,
) -> Session {
    let mut session = Session::new(std::sync::Arc::new(|| {}));
    // Framing is the protocol's: a line framing set here must not split messages.
    let config = config(
        mode,
        local,
        remote,
        Framing::Delimiter {
            delimiter: b"\n".to_vec(),
            keep: false,
        },
    )
    .ws(Some(ws))
    .tls(tls);
    session.open(config, false).unwrap();
    session
}

fn texts(session: &Session, kind: RecordKind) -> Vec<String> {
    session
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.text().into_owned())
        .collect()
}

fn send(session: &Session, bytes: &[u8]) {
    session.command(Command::Send {
        to: Target::AllConns,
        bytes: bytes.to_vec(),
    });
}

fn pair(tls: bool) -> (Session, Session, SocketAddr) {
    let server = ws_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        WsSettings::default(),
        tls.then(TlsSettings::default),
    );
    server.command(Command::SetReply(Some(Reply::Echo)));
    let addr = bound(&server);
    let client = ws_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(addr),
        WsSettings {
            path: "/chat?room=1".into(),
            ..WsSettings::default()
        },
        tls.then(|| TlsSettings {
            verify: Verify::Off,
            ..TlsSettings::default()
        }),
    );
    wait_capture(&client, "upgraded", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    // Both ends say what was asked for.
    wait_logged(
        &client,
        &format!("WebSocket with {addr}: upgraded (101 Switching Protocols) on /chat?room=1"),
    );
    wait_logged(&server, "the client asked for /chat?room=1");
    (server, client, addr)
}

fn talk(server: &Session, client: &Session) {
    // Two messages with newlines inside stay two records: the line framing is not applied.
    send(client, "第一条\nline two".as_bytes());
    send(client, &[0x00, 0xff, 0x0a, 0x7e]);
    wait_capture(client, "both echoes", |c| c.counters.rx_messages == 2);
    wait_capture(server, "both messages", |c| c.counters.rx_messages == 2);
    assert_eq!(
        texts(server, RecordKind::Rx),
        ["第一条\nline two", "\u{0}\\xFF\n~"]
    );
    // Each message says whether it was text or binary, on both ends and both ways.
    let kinds = |session: &Session, kind: RecordKind| -> Vec<Option<WsKind>> {
        session
            .capture()
            .log
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.ws)
            .collect()
    };
    let both = [Some(WsKind::Text), Some(WsKind::Binary)];
    assert_eq!(kinds(server, RecordKind::Rx), both);
    assert_eq!(kinds(client, RecordKind::Tx), both);
    assert_eq!(
        kinds(client, RecordKind::Rx),
        both,
        "the echo keeps the kind"
    );
    let lines: Vec<String> = server
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| sockscope_core::capture::log_line(&r, false))
        .collect();
    assert!(
        lines[0].contains("[18 B, text] 第一条") && lines[1].contains("[4 B, binary] "),
        "{lines:?}"
    );
    assert_eq!(client.capture().counters.rx_bytes, 18 + 4);
    // A ping is answered by the server's pong, and both are said.
    client.command(Command::WebSocket {
        to: Target::AllConns,
        op: WsOp::Ping(b"hb-1".to_vec()),
    });
    wait_capture(client, "the pong", |c| {
        c.log.iter().any(|r| r.text().starts_with("pong from"))
    });
    wait_capture(server, "the ping", |c| {
        c.log
            .iter()
            .any(|r| r.text().contains("ping from") && r.text().ends_with("68 62 2D 31"))
    });
    // A close with a code and a reason reaches the server as such.
    client.command(Command::WebSocket {
        to: Target::AllConns,
        op: WsOp::Close {
            code: 4000,
            reason: "bye now".into(),
        },
    });
    wait_capture(server, "the close", |c| c.clients.is_empty());
    let said = texts(server, RecordKind::Error);
    assert!(
        said.iter()
            .any(|t| t.contains("closed the WebSocket: 4000 (private) “bye now”")),
        "{said:?}"
    );
}

#[test]
fn ws_messages_are_records_with_ping_pong_and_close_codes() {
    let (server, client, _) = pair(false);
    talk(&server, &client);
}

#[test]
fn wss_is_websocket_over_the_tls_handshake() {
    let (server, client, _) = pair(true);
    assert!(client.capture().clients.values().all(|c| c.tls.is_some()));
    talk(&server, &client);
}

#[test]
fn a_plain_http_client_is_refused_with_400_and_a_sentence() {
    let server = ws_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        WsSettings::default(),
        None,
    );
    let addr = bound(&server);
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    wait_capture(&server, "the sentence", |c| {
        c.log.iter().any(|r| {
            r.text()
                .contains("the client did not ask for a WebSocket upgrade (GET / HTTP/1.1)")
        })
    });
}

fn python_websockets() -> bool {
    let ok = Process::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: Python's websockets is not installed");
    }
    ok
}

#[test]
fn python_websockets_client_talks_to_our_server() {
    if !python_websockets() {
        return;
    }
    let server = ws_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        WsSettings {
            subprotocol: "chat.v1".into(),
            ..WsSettings::default()
        },
        None,
    );
    server.command(Command::SetReply(Some(Reply::Echo)));
    let addr = bound(&server);
    let script = format!(
        r#"
from websockets.sync.client import connect
with connect("ws://{addr}/py?id=7", subprotocols=["chat.v2", "chat.v1"]) as ws:
    print("subprotocol:", ws.subprotocol)
    ws.send("温度 23℃")
    print("text:", ws.recv(timeout=5))
    ws.send(b"\x01\x02\xff")
    print("binary:", ws.recv(timeout=5).hex())
    ws.ping(b"py").wait(timeout=5)
    print("pong ok")
    ws.close(code=4001, reason="done")
"#
    );
    let out = Process::new("python3")
        .args(["-c", &script])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out,
        "subprotocol: chat.v1\ntext: 温度 23℃\nbinary: 0102ff\npong ok\n"
    );
    wait_logged(&server, "4001 (private) “done”");
    wait_logged(
        &server,
        "the client asked for /py?id=7, subprotocol chat.v1 (offered: chat.v2, chat.v1)",
    );
}

/// What a Python websockets client gets back from `server` for each of its messages: the
/// type of each answer and its bytes.
fn python_round_trips(addr: SocketAddr) -> String {
    let script = format!(
        r#"
from websockets.sync.client import connect
with connect("ws://{addr}/") as ws:
    for m in [b"\x01\x02", b"abc", b"\xff\xfe\x00", "text", "温度"]:
        ws.send(m)
        r = ws.recv(timeout=5)
        print(type(r).__name__, (r if isinstance(r, bytes) else r.encode()).hex())
"#
    );
    let out = Process::new("python3")
        .args(["-c", &script])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Each message back as what it was: UTF-8 bytes sent binary came back as text (and a
/// client that checks types broke).
const SAME_TYPES: &str = "bytes 0102\nbytes 616263\nbytes fffe00\nstr 74657874\nstr e6b8a9e5baa6\n";

#[test]
fn the_echo_and_an_rx_rule_answer_a_binary_message_with_a_binary_one() {
    if !python_websockets() {
        return;
    }
    let server = ws_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        WsSettings::default(),
        None,
    );
    server.command(Command::SetReply(Some(Reply::Echo)));
    assert_eq!(python_round_trips(bound(&server)), SAME_TYPES);

    // A rule that answers with what came ({{rx}}) goes the same way, now and delayed.
    for delay_ms in [0, 20] {
        let server = ws_session(
            Mode::TcpServer,
            "127.0.0.1:0",
            None,
            WsSettings::default(),
            None,
        );
        let automation = sockscope_core::rules::Automation {
            enabled: true,
            rules: vec![sockscope_core::rules::Rule {
                name: "back".into(),
                reply: Some(sockscope_core::rules::ReplySpec {
                    payload: "{{rx}}".into(),
                    ..Default::default()
                }),
                delay_ms,
                ..Default::default()
            }],
            ..Default::default()
        };
        server
            .set_rules(
                Some(&automation),
                sockscope_core::codec::TextEncoding::UTF_8,
            )
            .unwrap();
        assert_eq!(
            python_round_trips(bound(&server)),
            SAME_TYPES,
            "delay {delay_ms} ms"
        );
    }
}

#[test]
fn our_client_talks_to_a_python_websockets_server() {
    if !python_websockets() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        r#"
from websockets.sync.server import serve
def handler(ws):
    for message in ws:
        ws.send(message.upper() if isinstance(message, str) else message[::-1])
        if message == "quit":
            ws.close(code=1001, reason="server going away")
with serve(handler, "127.0.0.1", {port}, subprotocols=["chat.v1"]) as server:
    server.serve_forever()
"#
    );
    let mut python = Process::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "python did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let client = ws_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(addr),
        WsSettings {
            path: "sensor?id=7".into(),
            subprotocol: "chat.v1".into(),
            ..WsSettings::default()
        },
        None,
    );
    wait_capture(&client, "upgraded", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    wait_logged(
        &client,
        &format!(
            "WebSocket with {addr}: upgraded (101 Switching Protocols) on /sensor?id=7, subprotocol chat.v1"
        ),
    );
    send(&client, b"hello ws");
    send(&client, &[0xff, 0x01, 0x02]);
    wait_capture(&client, "two answers", |c| c.counters.rx_messages == 2);
    assert_eq!(texts(&client, RecordKind::Rx)[0], "HELLO WS");
    send(&client, b"quit");
    wait_capture(&client, "the server's close", |c| c.stopped);
    let said: Vec<String> = client
        .capture()
        .log
        .iter()
        .map(|r| r.text().into_owned())
        .collect();
    assert!(
        said.iter()
            .any(|t| t.contains("1001 (going away) “server going away”")),
        "{said:?}"
    );
    let _ = python.kill();
    let _ = python.wait();
}

/// A file of `len` bytes that are not all alike, removed when dropped.
struct TempFile(
    #[expect(dead_code, reason = "held: the folder is removed when this is dropped")]
    tempfile::TempDir,
    std::path::PathBuf,
);

impl TempFile {
    fn new(tag: &str, len: usize) -> TempFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("sockscope-ws-{tag}"));
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        std::fs::write(&path, bytes).unwrap();
        TempFile(dir, path)
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.1).unwrap()
    }
}

/// A Python `websockets` server that prints, for each message, its type, length and
/// SHA-256, and answers "got N" (N bytes) to each; its port and the process.
fn python_counting_server() -> (u16, std::process::Child) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = format!(
        r#"
import hashlib, sys
from websockets.sync.server import serve
def handler(ws):
    for m in ws:
        data = m.encode() if isinstance(m, str) else m
        kind = "text" if isinstance(m, str) else "binary"
        print(kind, len(data), hashlib.sha256(data).hexdigest(), flush=True)
        ws.send("got %d" % len(data))
with serve(handler, "127.0.0.1", {port}, max_size=None) as server:
    server.serve_forever()
"#
    );
    let python = Process::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "python did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (port, python)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    sockscope_core::codec::hex::format(digest.as_ref())
        .replace(' ', "")
        .to_lowercase()
}

/// The lines the Python server printed, once it printed `n` (then it is ended).
fn python_lines(mut python: std::process::Child, n: usize) -> Vec<String> {
    use std::io::BufRead;
    let stdout = python.stdout.take().unwrap();
    let reader = std::thread::Builder::new()
        .name("python-stdout".into())
        .spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .take(n)
                .collect::<Vec<_>>()
        })
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = python.kill();
    let _ = python.wait();
    reader.join().unwrap()
}

#[test]
fn a_file_goes_to_a_python_websockets_server_as_one_message_and_counts_as_one() {
    if !python_websockets() {
        return;
    }
    let (port, python) = python_counting_server();
    let client = ws_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(format!("127.0.0.1:{port}").parse().unwrap()),
        WsSettings::default(),
        None,
    );
    wait_capture(&client, "upgraded", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    let file = TempFile::new("1mb", 1_000_000);
    // In 4 KiB chunks, as the window's default: 245 pieces, one message.
    // At 4 MB/s, so it is still going when the next message is sent.
    client.send_file(
        Target::AllConns,
        file.1.clone(),
        4096,
        sockscope_core::engine::Pace::BytesPerSec(4_000_000),
    );
    wait_capture(&client, "the file going", |c| {
        c.sending
            .file
            .as_ref()
            .is_some_and(|f| f.sent > 0 && f.sent < 900_000)
    });
    // A message sent while the file goes waits for its end (nothing may come between the
    // pieces of a message).
    send(&client, b"after the file");
    wait_capture(&client, "both answers", |c| c.counters.rx_messages == 2);
    assert_eq!(
        texts(&client, RecordKind::Rx),
        ["got 1000000", "got 14"],
        "the server got the file whole, then the message"
    );
    let capture = client.capture();
    assert_eq!(
        (capture.counters.tx_messages, capture.counters.tx_bytes),
        (2, 1_000_000 + 14),
        "the file counts as one message"
    );
    let client_row = capture.clients.values().next().unwrap();
    assert_eq!(client_row.tx_messages, 2);
    drop(capture);
    let lines = python_lines(python, 2);
    assert_eq!(
        lines,
        [
            format!("binary 1000000 {}", sha256_hex(&file.bytes())),
            format!("text 14 {}", sha256_hex(b"after the file")),
        ]
    );
}

#[test]
fn a_file_to_our_own_websocket_server_is_one_record_of_every_byte_and_a_cancel_ends_it() {
    let server = ws_session(
        Mode::TcpServer,
        "127.0.0.1:0",
        None,
        WsSettings::default(),
        None,
    );
    let addr = bound(&server);
    let client = ws_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(addr),
        WsSettings::default(),
        None,
    );
    wait_capture(&client, "upgraded", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    let file = TempFile::new("300k", 300_000);
    client.send_file(
        Target::AllConns,
        file.1.clone(),
        1000,
        sockscope_core::engine::Pace::Unlimited,
    );
    wait_capture(&server, "the file", |c| c.counters.rx_messages == 1);
    let got: Vec<Vec<u8>> = server
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| r.bytes.to_vec())
        .collect();
    assert_eq!(got, [file.bytes()], "one record, every byte in order");
    // Cancelled midway, the file's message still ends: the server gets what was sent as one
    // message and the connection goes on.
    client.send_file(
        Target::AllConns,
        file.1.clone(),
        1000,
        sockscope_core::engine::Pace::BytesPerSec(100_000),
    );
    wait_capture(&client, "some of it sent", |c| {
        c.sending.file.as_ref().is_some_and(|f| f.sent >= 20_000)
    });
    client.cancel_file();
    send(&client, b"still here");
    wait_capture(&server, "the cut file and the message", |c| {
        c.counters.rx_messages == 3
    });
    let got: Vec<Vec<u8>> = server
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| r.bytes.to_vec())
        .collect();
    let cut = &got[1];
    assert!(
        cut.len() >= 20_000 && cut.len() < 300_000 && file.bytes().starts_with(cut),
        "{} bytes",
        cut.len()
    );
    assert_eq!(got[2], b"still here");
    assert!(!client.capture().stopped && server.capture().clients.len() == 1);
}

#[test]
fn a_websocket_peer_that_does_not_read_slows_a_file_instead_of_filling_memory() {
    // A server that takes the upgrade, then reads nothing.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let peer = std::thread::Builder::new()
        .name("ws-not-reading".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                stream.read_exact(&mut byte).unwrap();
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let key = head
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap()
                .trim()
                .to_owned();
            let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
            write!(
                stream,
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .unwrap();
            let _ = done_rx.recv_timeout(Duration::from_secs(10));
        })
        .unwrap();
    let client = ws_session(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(addr),
        WsSettings::default(),
        None,
    );
    wait_capture(&client, "upgraded", |c| {
        matches!(c.link, LinkState::Connected { .. })
    });
    let file = TempFile::new("64mb", 64 << 20);
    client.send_file(
        Target::AllConns,
        file.1.clone(),
        64 << 10,
        sockscope_core::engine::Pace::Unlimited,
    );
    // Half a second of a peer that reads nothing, then Cancel: it says how far it got.
    std::thread::sleep(Duration::from_millis(500));
    client.cancel_file();
    wait_logged(&client, "stopped at");
    let sent = client.capture().counters.tx_bytes;
    // What the socket buffers hold on loopback, our bounded queue and one piece: far from
    // 64 MiB (before, every piece went into tungstenite's unbounded buffer at once).
    assert!(
        sent > 0 && sent < 16 << 20,
        "{sent} bytes read from the file"
    );
    done_tx.send(()).unwrap();
    peer.join().unwrap();
}
