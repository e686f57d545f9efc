//! `sockscope bench`: a report against a real echo, thresholds as exit codes, the timeline as
//! CSV, JSON for machines, and bad targets refused before anything opens.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};

use super::{BAD_INPUT, NOT_MATCHED, OK, free_port, run, tcp_peer};

#[test]
fn bench_against_an_echo_reports_every_reply_as_json_and_csv() {
    let addr = testkit::echo_server();
    let csv_dir = tempfile::tempdir().unwrap();
    let csv = csv_dir
        .path()
        .join(format!("sockscope-bench-{}.csv", std::process::id()));
    let ran = run(
        &[
            "bench",
            &format!("tcp://{addr}"),
            "--mode",
            "echo",
            "-c",
            "2",
            "--count",
            "300",
            "--send",
            "hello",
            "--json",
            "--csv",
            csv.to_str().unwrap(),
            "--max-errors",
            "0",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(
        ran.stdout
            .contains("\"sent\":300,\"received\":300,\"failed\":{}"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("\"bytes_sent\":1500"), "{}", ran.stdout);
    let timeline = std::fs::read_to_string(&csv).unwrap();
    std::fs::remove_file(&csv).unwrap();
    // UTF-8 with a byte-order mark (Excel on a Chinese Windows reads it as GBK without one);
    // the settings it ran with come first, then the timeline.
    assert!(timeline.starts_with("\u{feff}# "), "{timeline}");
    for line in [
        "# mode=echo\n",
        "# connections=2\n",
        "# request=hello\n",
        "# count=300\n",
    ] {
        assert!(timeline.contains(line), "{line:?} in {timeline}");
    }
    assert!(
        timeline.contains("\nsecond,sent,received,failed,p50_us,p95_us,p99_us\n0,"),
        "{timeline}"
    );
}

#[test]
fn a_threshold_passed_is_exit_1_with_its_sentence() {
    let addr = tcp_peer(<[u8]>::to_vec);
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--count",
            "20",
            "--max-p99",
            "1ns",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(ran.stderr.contains("above --max-p99"), "{}", ran.stderr);
    assert!(ran.stdout.contains("p99"), "{}", ran.stdout);
    let silent = tcp_peer(|_| Vec::new());
    let ran = run(
        &[
            "bench",
            &silent.to_string(),
            "-c",
            "2",
            "--duration",
            "400ms",
            "--timeout",
            "100ms",
            "--max-errors",
            "0",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stderr.contains("more than --max-errors 0"),
        "{}",
        ran.stderr
    );
}

#[test]
fn an_unreachable_target_is_exit_2_and_every_request_failing_is_exit_1() {
    // Nothing listens: it was exit 0 with "0 connections made".
    let port = free_port();
    let ran = run(
        &["bench", &format!("127.0.0.1:{port}"), "--duration", "200ms"],
        b"",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains(&format!(
            "No connection to 127.0.0.1:{port} could be made (refused "
        )),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stdout.contains("refused"),
        "the report is printed too: {}",
        ran.stdout
    );
    // Every reply wrong: exit 1, and the cause is a wrong reply, not a timeout.
    let wrong = tcp_peer(|_| b"NOPE".to_vec());
    let ran = run(
        &[
            "bench",
            &wrong.to_string(),
            "--count",
            "3",
            "--expect",
            "PONG",
            "--timeout",
            "100ms",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stderr.contains("Every request failed (wrong reply 3)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn a_count_against_a_closed_port_gives_up_with_exit_2_and_says_what_was_not_sent() {
    // It never ended: `timeout 10 sockscope bench 127.0.0.1:<closed> --count 5` was killed.
    let port = free_port();
    for extra in [&[][..], &["--per-request"][..]] {
        let child = program()
            .args([
                "bench",
                &format!("127.0.0.1:{port}"),
                "--count",
                "5",
                "--send",
                "x",
            ])
            .args(extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (code, out, err) = output_within(child, std::time::Duration::from_secs(8))
            .expect("bench --count against a closed port ends");
        assert_eq!(code, BAD_INPUT, "{out}\n{err}");
        assert!(
            err.contains(&format!(
                "Gave up on 127.0.0.1:{port}: no connection could be made for 1 s (refused "
            )) && err.ends_with("; 5 of 5 requests not sent\n"),
            "{err}"
        );
        assert!(out.contains("5 requests of the count not sent"), "{out}");
    }
}

#[test]
fn send_file_sends_the_file_whole_as_each_request() {
    let addr = testkit::echo_server();
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-bench-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("request.bin");
    let request: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(&file, &request).unwrap();
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--mode",
            "echo",
            "--count",
            "3",
            "--timeout",
            "5s",
            "--send-file",
            file.to_str().unwrap(),
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(
        ran.stdout
            .contains("\"sent\":3,\"received\":3,\"failed\":{}"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains(&format!("\"bytes_sent\":{}", 3 << 20)),
        "{}",
        ran.stdout
    );
    // The settings name the file (they held its first bytes as escapes, cut short).
    assert!(
        ran.stdout.contains(&format!(
            "\"request\":\"\",\"request_file\":\"{}\"",
            file.display()
        )),
        "{}",
        ran.stdout
    );
    // Larger than a request may be: refused before anything opens.
    let huge = dir.join("huge.bin");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(65 << 20)
        .unwrap();
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--send-file",
            huge.to_str().unwrap(),
        ],
        b"",
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("a request of at most"),
        "{}",
        ran.stderr
    );
}

#[test]
fn bad_targets_and_payloads_are_exit_2() {
    for args in [
        &["bench", "ftp://127.0.0.1:9"][..],
        &["bench", "127.0.0.1"],
        &["bench", "127.0.0.1:9", "--send-hex", "0G"],
        &["bench", "127.0.0.1:9", "-c", "0"],
        &["bench", "127.0.0.1:9", "--expect-regex", "("],
    ] {
        let ran = run(args, b"");
        assert_eq!(ran.code, BAD_INPUT, "{args:?}: {ran:?}");
        assert!(!ran.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn a_rate_in_bytes_per_second_is_divided_by_the_request_and_variables_vary() {
    use sockscope::cli::args::parse_rate;
    assert_eq!(parse_rate("2000", 10), Ok(2000.0));
    assert_eq!(parse_rate("2000/s", 10), Ok(2000.0));
    assert_eq!(parse_rate("10MB/s", 100), Ok(100_000.0));
    assert_eq!(parse_rate("1kb/s", 10), Ok(100.0));
    assert!(parse_rate("fast", 10).is_err());
    assert!(parse_rate("-5", 10).is_err());
    let addr = testkit::echo_server();
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--mode",
            "echo",
            "--count",
            "12",
            "--send",
            "n={{counter}};",
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    // "n=1;" … "n=9;" are 4 bytes, "n=10;" … "n=12;" 5, and each echo matched its own.
    assert!(
        ran.stdout.contains("\"received\":12,\"failed\":{}"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("\"bytes_sent\":51"), "{}", ran.stdout);
    // The settings say what was asked: the template, not the first request ("n=1;").
    assert!(
        ran.stdout
            .contains("\"request\":\"n={{counter}};\",\"request_file\":\"\""),
        "{}",
        ran.stdout
    );
}

/// The real program, as a script runs it.
fn program() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sockscope"));
    command.env("LANG", "C").env_remove("LC_ALL");
    command
}

fn has(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A child process killed when the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` to end within `limit`; its output, or `None` (it is killed).
fn output_within(
    mut child: std::process::Child,
    limit: std::time::Duration,
) -> Option<(i32, String, String)> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            let (mut out, mut err) = (String::new(), String::new());
            child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return Some((status.code().unwrap_or(-1), out, err));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// socat reading every connection into /dev/null (small writes to it never block).
fn socat_sink() -> Option<(SocketAddr, Child)> {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return None;
    }
    let port = super::free_port();
    let child = std::process::Command::new("socat")
        .args([
            "-u",
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork"),
            "OPEN:/dev/null",
        ])
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "socat did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some((addr, Child(child)))
}

#[test]
fn throughput_into_socat_to_dev_null_ends_on_time_on_four_connections() {
    let Some((addr, _socat)) = socat_sink() else {
        return;
    };
    for connections in ["4", "1"] {
        let child = program()
            .args([
                "bench",
                &addr.to_string(),
                "--mode",
                "throughput",
                "-c",
                connections,
                "--duration",
                "1s",
                "--json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (code, out, err) = output_within(child, std::time::Duration::from_secs(10))
            .expect("bench ended after its duration");
        assert_eq!(code, OK, "{out}{err}");
        assert!(
            out.contains(&format!("\"connects\":{connections},")),
            "{out}"
        );
        assert!(!out.contains("\"sent\":0,"), "{out}");
    }
}

#[test]
fn bench_help_says_what_a_reply_condition_does_for_bench() {
    let out = program().args(["bench", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    // It said `connect`'s "Exit 0 once this text has been received".
    assert!(!help.contains("Exit 0 once"), "{help}");
    assert!(
        help.contains("Ping-pong: a reply must hold this text (in --encoding)"),
        "{help}"
    );
    // --send-file is bench's whole request (it said `connect`'s streaming of a file).
    assert!(
        help.contains("The request: this file's bytes, whole, as each request"),
        "{help}"
    );
}

#[test]
fn throughput_with_a_connection_per_request_makes_one_connection_per_request() {
    // A server that counts connections and the bytes each brought, reading each to its end.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (conns, bytes) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (c, b) = (Arc::clone(&conns), Arc::clone(&bytes));
    std::thread::Builder::new()
        .name("bench-counter".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let (c, b) = (Arc::clone(&c), Arc::clone(&b));
                std::thread::Builder::new()
                    .name("bench-counter-conn".into())
                    .spawn(move || {
                        let mut all = Vec::new();
                        let _ = stream.read_to_end(&mut all);
                        b.fetch_add(all.len() as u64, Ordering::SeqCst);
                        // Connections that brought a request (one opened while the last
                        // requests went may bring none).
                        if !all.is_empty() {
                            c.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--mode",
            "throughput",
            "--per-request",
            "-c",
            "5",
            "--count",
            "300",
            "--send",
            "hello",
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("\"sent\":300,"), "{}", ran.stdout);
    // A connection per request (and at most one more per connection, opened while the last
    // requests went on the others).
    let connects = ran.stdout.split("\"connects\":").nth(1).unwrap();
    let connects: u64 = connects.split(',').next().unwrap().parse().unwrap();
    assert!((300..305).contains(&connects), "{}", ran.stdout);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while conns.load(Ordering::SeqCst) < 300 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Before: 5 connections carried all 300 requests.
    assert_eq!(
        conns.load(Ordering::SeqCst),
        300,
        "connections that brought a request"
    );
    assert_eq!(bytes.load(Ordering::SeqCst), 300 * 5);
}

#[test]
fn throughput_batches_carry_every_request_whole_once() {
    // 50,000 four-byte requests go in 64 KiB batches (the same batch written again while the
    // requests do not change): the server must get each exactly once, whole.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::Builder::new()
        .name("sink".into())
        .spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).unwrap();
            got
        })
        .unwrap();
    let ran = run(
        &[
            "bench",
            &addr.to_string(),
            "--mode",
            "throughput",
            "--count",
            "50000",
            "--send",
            "abc\\n",
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("\"sent\":50000,"), "{}", ran.stdout);
    let got = server.join().unwrap();
    assert_eq!(got.len(), 50_000 * 4);
    assert!(got.chunks(4).all(|r| r == b"abc\n"));
}
