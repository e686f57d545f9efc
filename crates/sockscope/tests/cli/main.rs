//! The command line against real loopback peers: in-process (`cli::run_args` with buffers for
//! stdin/stdout/stderr) and as the real program, every exit code, bad input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod bench;
mod device;
mod echo;
mod expect;
mod fields;
mod files;
mod json;
mod pipe;
mod process;
mod protocols;
mod quick;
mod relay;
mod rules;
mod scripts;
mod slow;
mod tls;
mod windows;
mod words;
mod wsquiet;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sockscope::cli::{self, BAD_INPUT, NOT_MATCHED, OK};

/// What a run printed and returned.
#[derive(Debug)]
pub(crate) struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sockscope ARGS` in this process, with `stdin` as its input.
pub(crate) fn run(args: &[&str], stdin: &[u8]) -> Ran {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut io = cli::Io {
        stdin: Box::new(std::io::Cursor::new(stdin.to_vec())),
        stdin_is_terminal: stdin.is_empty(),
        stdout: &mut stdout,
        stderr: &mut stderr,
        stop: Arc::new(AtomicBool::new(false)),
    };
    let argv_all = std::iter::once("sockscope").chain(args.iter().copied());
    let code = cli::run_args(argv_all, &mut io);
    Ran {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub(crate) use testkit::{Running, free_port, wait_bound};

/// Runs `f` on a named thread.
pub(crate) fn spawn<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    testkit::spawn("cli-test-peer", f)
}

/// A TCP peer that answers each read with `answer(read)` (for up to 4 connections); its address.
pub(crate) fn tcp_peer(answer: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> SocketAddr {
    testkit::tcp_peer(4, answer)
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub(crate) fn wait_port(port: u16) {
    testkit::wait_listening(("127.0.0.1", port));
}

#[test]
fn connect_with_a_matching_reply_exits_0_and_prints_both_ways() {
    let addr = tcp_peer(|_| b"OK\r\n".to_vec());
    let ran = run(
        &[
            "connect",
            &addr.to_string(),
            "--send",
            "AT\\r\\n",
            "--expect",
            "OK",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("-> 127.0.0.1"), "{}", ran.stdout);
    assert!(ran.stdout.contains("[4 B] AT\\r\\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("[4 B] OK\\r\\n"), "{}", ran.stdout);
}

#[test]
fn connect_without_the_expected_reply_exits_1_with_a_sentence() {
    let addr = tcp_peer(|_| b"ERROR\r\n".to_vec());
    let ran = run(
        &[
            "connect",
            &addr.to_string(),
            "--send",
            "AT",
            "--expect-regex",
            "^OK",
            "--timeout",
            "300ms",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stderr.contains("did not arrive within 300ms"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_refused_connect_and_bad_input_exit_2_with_sentences() {
    let refused = format!("127.0.0.1:{}", free_port());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["connect", &refused, "--send", "x"], "refused"),
        (vec!["connect", "300.1.1.1:80"], "300 is more than 255"),
        (
            vec!["connect", "127.0.0.1:70000"],
            "ports go from 0 to 65535",
        ),
        (vec!["connect", "localhost"], "is not HOST:PORT"),
        (
            vec!["connect", &refused, "--send-hex", "0G"],
            "'G' at column 2",
        ),
        (
            vec!["connect", &refused, "--send-file", "/no/such/file"],
            "Cannot read /no/such/file",
        ),
        (
            vec!["connect", &refused, "--expect-regex", "("],
            "not a regular expression",
        ),
        (
            vec!["connect", &refused, "--framing", "len:3le"],
            "not a framing",
        ),
        (
            vec!["connect", &refused, "--encoding", "klingon"],
            "not an encoding",
        ),
        (vec!["listen", "99999"], "not PORT or IP:PORT"),
        (
            vec!["connect", &refused, "--nonsense"],
            "unexpected argument",
        ),
    ];
    for (args, said) in cases {
        let ran = run(&args, b"");
        assert_eq!(ran.code, BAD_INPUT, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(said), "{args:?}: {}", ran.stderr);
    }
}

#[test]
fn connect_with_reconnect_waits_for_a_late_server_and_gives_up_after_max_tries() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let ran = run(
        &[
            "connect",
            &addr,
            "--send",
            "x",
            "--reconnect",
            "50ms",
            "--max-tries",
            "2",
        ],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stdout.contains("again in 0.1 s (try 2/2)"), "{ran:?}");
    assert!(
        ran.stderr
            .contains(&format!("Gave up reconnecting to {addr} after 2 tries")),
        "{ran:?}"
    );
    // A server that comes up late is reached by a later try, and answers.
    let late = spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).unwrap();
        stream.write_all(b"PONG").unwrap();
        buf
    });
    let ran = run(
        &[
            "connect",
            &addr,
            "--send",
            "PING",
            "--expect",
            "PONG",
            "--reconnect",
            "100ms",
            "--backoff",
            "1",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("(try 1)"), "{ran:?}");
    assert_eq!(&late.join().unwrap(), b"PING");
}

#[test]
fn a_bad_multicast_join_exits_2_with_a_sentence() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["udp", "--join", "10.0.0.1"],
            "10.0.0.1 is not a multicast group",
        ),
        (
            &[
                "udp",
                "--join",
                "239.1.2.3%no-such-nic0",
                "--duration",
                "1s",
            ],
            "There is no network interface called no-such-nic0",
        ),
        (
            &[
                "udp",
                "--bind",
                "[::]:0",
                "--join",
                "239.1.2.3",
                "--duration",
                "1s",
            ],
            "239.1.2.3 is an IPv4 group and this socket is IPv6",
        ),
        (
            &[
                "udp",
                "--join",
                "fd00::9@ff15::1",
                "--bind",
                "[::]:0",
                "--duration",
                "1s",
            ],
            "Source-specific joins are offered for IPv4",
        ),
    ];
    for (args, said) in cases {
        let ran = run(args, b"");
        assert_eq!(ran.code, BAD_INPUT, "{args:?}: {ran:?}");
        assert!(ran.stderr.contains(said), "{args:?}: {}", ran.stderr);
    }
}

#[test]
fn an_unknown_multicast_interface_is_refused_before_anything_is_sent() {
    // It was said, and then the send went anyway ("Network is unreachable").
    let ran = run(
        &[
            "udp",
            "--multicast-if",
            "no-such-nic7",
            // Loopback: a test sends nowhere else, even when it fails.
            "--to",
            "127.0.0.1:9",
            "--send",
            "x",
        ],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr
            .contains("There is no network interface called no-such-nic7"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("unreachable"), "{}", ran.stderr);
    assert!(
        !ran.stdout.contains("-> "),
        "nothing was sent: {}",
        ran.stdout
    );
}

#[test]
fn a_file_and_stdin_are_sent_byte_for_byte() {
    let (tx, rx) = std::sync::mpsc::channel();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).unwrap();
            tx.send(got).unwrap();
        }
    });
    let file_dir = tempfile::tempdir().unwrap();
    let file = file_dir
        .path()
        .join(format!("sockscope-cli-{}.bin", std::process::id()));
    let content: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &content).unwrap();
    let ran = run(
        &[
            "connect",
            &addr.to_string(),
            "--send-file",
            file.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), content);
    std::fs::remove_file(&file).unwrap();
    let ran = run(&["connect", &addr.to_string()], b"\x01\x02 from stdin");
    assert_eq!(ran.code, OK, "{ran:?}");
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        b"\x01\x02 from stdin"
    );
}

#[test]
fn json_lines_say_kind_peer_length_hex_and_text() {
    let addr = tcp_peer(|_| "温度".as_bytes().to_vec());
    let ran = run(
        &[
            "connect",
            &addr.to_string(),
            "--send-hex",
            "01 02",
            "--expect",
            "温度",
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    let lines: Vec<serde_json::Value> = ran
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let tx = lines.iter().find(|v| v["kind"] == "tx").unwrap();
    assert_eq!(
        (tx["len"].as_u64(), tx["hex"].as_str()),
        (Some(2), Some("01 02"))
    );
    let rx = lines.iter().find(|v| v["kind"] == "rx").unwrap();
    assert_eq!(rx["text"], "温度");
    assert_eq!(rx["peer"], addr.to_string());
    assert!(lines.iter().any(|v| v["kind"] == "info"));
}

#[test]
fn gbk_is_sent_and_shown_in_gbk_and_chinese_words_come_with_lang_zh() {
    let gbk_reply = sockscope_core::codec::TextEncoding::GBK
        .encode("收到")
        .unwrap();
    let addr = tcp_peer(move |_| gbk_reply.clone());
    let ran = run(
        &[
            "--lang",
            "zh",
            "connect",
            &addr.to_string(),
            "--encoding",
            "gbk",
            "--send",
            "你好",
            "--expect",
            "收到",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("[4 B] 你好"), "{}", ran.stdout);
    assert!(ran.stdout.contains("[4 B] 收到"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("已连接"),
        "Chinese event words: {}",
        ran.stdout
    );
}

#[test]
fn listen_echoes_and_stops_after_count_messages() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let server = spawn(move || run(&["listen", &bind, "--echo", "--count", "2"], b""));
    let mut client = connect_retrying(port);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for message in [&b"one"[..], b"two"] {
        client.write_all(message).unwrap();
        let mut back = vec![0u8; message.len()];
        client.read_exact(&mut back).unwrap();
        assert_eq!(back, message, "echoed on the I/O thread");
    }
    let ran = server.join().unwrap();
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("Listening on"), "{}", ran.stdout);
    assert!(ran.stdout.contains("[3 B] two"), "{}", ran.stdout);
}

/// Connects to a listener that may still be starting.
pub(crate) fn connect_retrying(port: u16) -> TcpStream {
    for _ in 0..100 {
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
            return stream;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {port}");
}

#[test]
fn listen_replies_records_and_writes_a_pcap() {
    let port = free_port();
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-cli-listen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (record, pcap) = (dir.join("rx.bin"), dir.join("log.pcap"));
    let args: Vec<String> = [
        "listen",
        &format!("127.0.0.1:{port}"),
        "--reply-hex",
        "06",
        "--count",
        "1",
        "--record",
        record.to_str().unwrap(),
        "--pcap",
        pcap.to_str().unwrap(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let server = spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, b"")
    });
    let mut client = connect_retrying(port);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    client.write_all(b"\x01\x03\x00\x00").unwrap();
    let mut ack = [0u8; 1];
    client.read_exact(&mut ack).unwrap();
    assert_eq!(ack, [0x06]);
    let ran = server.join().unwrap();
    assert_eq!(ran.code, OK, "{ran:?}");
    assert_eq!(std::fs::read(&record).unwrap(), b"\x01\x03\x00\x00");
    let capture = std::fs::read(&pcap).unwrap();
    assert_eq!(&capture[..4], &[0xD4, 0xC3, 0xB2, 0xA1], "a pcap file");
    // Two packets (the request and the answer): not the log's messages too.
    assert!(
        ran.stdout.contains("Saved 2 records of data"),
        "{}",
        ran.stdout
    );
    assert!(capture.windows(4).any(|w| w == b"\x01\x03\x00\x00"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn udp_sends_expects_and_sends_on_a_timer() {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = peer.local_addr().unwrap().to_string();
    let echo = spawn(move || {
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while got.len() < 4 {
            let (n, from) = peer.recv_from(&mut buf).unwrap();
            got.push(buf[..n].to_vec());
            peer.send_to(&buf[..n], from).unwrap();
        }
        got
    });
    let ran = run(
        &["udp", "--to", &to, "--send", "ping", "--expect", "ping"],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    let ran = run(
        &[
            "udp",
            "--to",
            &to,
            "--send",
            "t{{counter}}",
            "--every",
            "20ms",
            "--count",
            "3",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    let got = echo.join().unwrap();
    assert_eq!(got, [&b"ping"[..], b"t1", b"t2", b"t3"]);
    let ran = run(&["udp", "--send", "x"], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stderr.contains("--to"), "{}", ran.stderr);
}

#[test]
fn run_opens_a_profile_headless_with_its_cyclic_send_and_overrides() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir
        .path()
        .join(format!("sockscope-cli-{}.ron", std::process::id()));
    std::fs::write(
        &profile,
        r#"(version: 1, name: "poller", session: (mode: TcpClient, remote_ip: "10.0.0.1",
            remote_port: "502", tx_mode: Hex, send_text: "01 03 00 00 00 01",
            cyclic_ms: 30, cyclic_count: 3, cyclic_on_open: true))"#,
    )
    .unwrap();
    let server = spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut got = vec![0u8; 18];
        stream.read_exact(&mut got).unwrap();
        got
    });
    let ran = run(
        &[
            "run",
            profile.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
            "--duration",
            "400ms",
            "--hex",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert_eq!(
        server.join().unwrap(),
        [0x01, 0x03, 0x00, 0x00, 0x00, 0x01].repeat(3)
    );
    assert!(ran.stdout.contains("01 03 00 00 00 01"), "{}", ran.stdout);
    let ran = run(&["run", "/no/such.ron"], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    // The path once, and nothing about a file that was never written.
    assert_eq!(
        ran.stderr.matches("/no/such.ron").count(),
        1,
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("left as it is"), "{}", ran.stderr);
    std::fs::remove_file(&profile).unwrap();
}

#[test]
fn relay_forwards_both_ways_with_latency_and_tags_each_direction() {
    let echo = tcp_peer(<[u8]>::to_vec);
    let port = free_port();
    let upstream = echo.to_string();
    let relay = spawn(move || {
        run(
            &[
                "relay",
                &format!("127.0.0.1:{port}"),
                &upstream,
                "--both",
                "latency=40ms",
                "--duration",
                "2s",
            ],
            b"",
        )
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => break stream,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("the relay does not listen: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = std::time::Instant::now();
    stream.write_all("温度?".as_bytes()).unwrap();
    let mut back = [0u8; 7];
    if let Err(e) = stream.read_exact(&mut back) {
        panic!("{e}: {:?}", relay.join().unwrap());
    }
    let took = started.elapsed();
    assert_eq!(&back, "温度?".as_bytes());
    assert!(
        took >= Duration::from_millis(80),
        "{took:?}: 2 × 40 ms were asked for"
    );
    let ran = relay.join().unwrap();
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(
        ran.stdout.contains(" c→u ") && ran.stdout.contains(" u→c "),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("⇄ upstream"), "{}", ran.stdout);
    let bad = run(&["relay", "9000", "127.0.0.1:1", "--up", "drop=150%"], b"");
    assert_eq!(bad.code, BAD_INPUT);
    assert!(
        bad.stderr.contains("'drop=150%' is not an impairment"),
        "{}",
        bad.stderr
    );
}
