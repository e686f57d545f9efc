//! `connect --pipe` as a script uses it, against peers we did not write (ncat, socat, `nc -N`)
//! and Python servers written here: every byte both ways (100 MB, compared whole), half-close
//! in both directions, slow readers and writers, resets, Ctrl+C, a closed stdout, exit codes.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_port, wait_bound, wait_port};

/// The program under test: this build's, or another given in `SOCKSCOPE_BIN` (an older
/// build, to see these tests fail without the fixes they cover).
pub(crate) fn sockscope() -> Command {
    let program =
        std::env::var_os("SOCKSCOPE_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_sockscope").into());
    let mut command = Command::new(program);
    command.env("LANG", "C").env_remove("LC_ALL");
    command
}

pub(crate) fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// OpenBSD netcat, whose `-N` half-closes at the end of stdin (the traditional nc has none).
pub(crate) fn has_nc_n() -> bool {
    Command::new("sh")
        .args(["-c", "nc -h 2>&1 | grep -qE -- '(^|[[:space:]])-N'"])
        .status()
        .is_ok_and(|s| s.success())
}

/// `n` bytes that do not repeat in any short period (xorshift), so a lost or doubled chunk
/// shows.
pub(crate) fn data(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A Python server: `script` gets a listening socket `s` on 127.0.0.1 (port printed first).
pub(crate) fn python(script: &str) -> (Child, u16) {
    let program = format!(
        "import socket, sys, time\n\
         s = socket.socket()\n\
         s.bind(('127.0.0.1', 0))\n\
         s.listen(4)\n\
         print(s.getsockname()[1], flush=True)\n\
         {script}\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &program])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (
        child,
        line.trim().parse().expect("the server says its port"),
    )
}

/// Runs `sockscope ARGS` with `input` on stdin (written from a thread, then closed); returns
/// its exit code, stdout, stderr and how long it took.
pub(crate) fn run_piped(args: &[&str], input: Vec<u8>) -> (Option<i32>, Vec<u8>, String, Duration) {
    let started = Instant::now();
    let mut child = sockscope()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = super::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn pipe_half_closes_at_the_end_of_stdin_so_a_server_that_answers_after_eof_answers_at_once() {
    // Answers once the request is complete (its FIN), then closes: as an HTTP/1.0 or a
    // "cat request.bin | … > reply.bin" server does.
    let script = "c, _ = s.accept()\n\
                  n = 0\n\
                  while True:\n    d = c.recv(65536)\n    if not d: break\n    n += len(d)\n\
                  c.sendall(b'got %d\\n' % n)\n\
                  c.close()";
    let (mut server, port) = python(script);
    let (code, out, err, took) = run_piped(
        &["connect", &format!("127.0.0.1:{port}"), "--pipe"],
        b"abc".to_vec(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"got 3\n");
    // Before: nothing printed, exit 0 after --timeout (5 s).
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The same server and request through `nc -N`, for comparison.
    if has_nc_n() {
        let (mut server, port) = python(script);
        let started = Instant::now();
        let out = Command::new("sh")
            .args(["-c", &format!("printf abc | nc -N 127.0.0.1 {port}")])
            .output()
            .unwrap();
        let _ = wait_for(&mut server, Duration::from_secs(20));
        assert_eq!(out.stdout, b"got 3\n");
        eprintln!("answered in {took:?}; nc -N: {:?}", started.elapsed());
    }
}

#[test]
fn pipe_keeps_sending_after_ncat_half_closes_and_delivers_100_mb() {
    if !has("ncat") {
        eprintln!("skipped: ncat is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let file_dir = tempfile::tempdir().unwrap();
    let file = file_dir
        .path()
        .join(format!("sockscope-pipe-ncat-{port}.bin"));
    // `ncat -l` half-closes at once: its stdin is empty. Before, SockScope took that FIN as
    // the end, sent 0 bytes and exited 0.
    let mut ncat = Command::new("sh")
        .args([
            "-c",
            &format!(
                "exec ncat -l 127.0.0.1 {port} > {} < /dev/null",
                file.display()
            ),
        ])
        .spawn()
        .unwrap();
    wait_bound(port);
    let sent = data(100_000_000);
    let (code, _, err, took) = run_piped(
        &["connect", &format!("127.0.0.1:{port}"), "--pipe"],
        sent.clone(),
    );
    let _ = wait_for(&mut ncat, Duration::from_secs(20));
    let got = std::fs::read(&file).unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "ncat received other bytes");
    eprintln!("100 MB to a half-closed ncat in {took:?}");
    // --send-file too (before: it stopped at 10.6 of 100 MB).
    let source_dir = tempfile::tempdir().unwrap();
    let source = source_dir
        .path()
        .join(format!("sockscope-pipe-src-{port}.bin"));
    std::fs::write(&source, &sent).unwrap();
    let port = free_port();
    let mut ncat = Command::new("sh")
        .args([
            "-c",
            &format!(
                "exec ncat -l 127.0.0.1 {port} > {} < /dev/null",
                file.display()
            ),
        ])
        .spawn()
        .unwrap();
    wait_bound(port);
    let (code, _, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send-file",
            source.to_str().unwrap(),
        ],
        Vec::new(),
    );
    let _ = wait_for(&mut ncat, Duration::from_secs(20));
    let got = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(&source).unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "ncat received other bytes from --send-file");
    eprintln!("--send-file of 100 MB to a half-closed ncat in {took:?}");
}

#[test]
fn a_file_send_cut_by_a_reset_is_exit_1() {
    let script = "import struct\n\
                  c, _ = s.accept()\n\
                  n = 0\n\
                  while n < 3000000:\n    n += len(c.recv(65536))\n\
                  c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
                  c.close()";
    let (mut server, port) = python(script);
    let source_dir = tempfile::tempdir().unwrap();
    let source = source_dir.path().join(format!("sockscope-cut-{port}.bin"));
    std::fs::write(&source, data(50_000_000)).unwrap();
    let (code, out, err, _) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send-file",
            source.to_str().unwrap(),
        ],
        Vec::new(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    std::fs::remove_file(&source).unwrap();
    // Before: exit 0 or 2 ("not connected") after a cut.
    assert_eq!(code, Some(1), "{err}\n{}", String::from_utf8_lossy(&out));
}

#[test]
fn pipe_echoes_100_mb_through_socat_byte_for_byte() {
    if !has("socat") {
        eprintln!("skipped: socat is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let mut echo = Command::new("socat")
        .args([
            &format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"),
            "EXEC:cat",
        ])
        .spawn()
        .unwrap();
    wait_bound(port);
    let sent = data(100_000_000);
    let (code, out, err, took) = run_piped(
        &["connect", &format!("127.0.0.1:{port}"), "--pipe"],
        sent.clone(),
    );
    let _ = echo.kill();
    let _ = echo.wait();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.len(), sent.len());
    assert!(out == sent, "the echo came back different");
    eprintln!("100 MB echoed in {took:?}");
}

#[test]
fn pipe_downloads_100_mb_with_stdin_empty_and_with_no_shutdown_from_ncat() {
    let sent = data(100_000_000);
    let file_dir = tempfile::tempdir().unwrap();
    let file = file_dir
        .path()
        .join(format!("sockscope-pipe-down-{}.bin", free_port()));
    std::fs::write(&file, &sent).unwrap();
    // A Python sender that sends it all whatever we do, then closes.
    let script = format!(
        "c, _ = s.accept()\nc.sendall(open('{}', 'rb').read())\nc.close()",
        file.display()
    );
    let (mut server, port) = python(&script);
    let (code, out, err, took) = run_piped(
        &["connect", &format!("127.0.0.1:{port}"), "--pipe"],
        Vec::new(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.len(), sent.len());
    assert!(out == sent, "other bytes came down");
    eprintln!("100 MB down in {took:?}");
    if has("ncat") {
        // `ncat -l` stops sending once its client half-closes (so does `nc -l`):
        // --no-shutdown keeps our side open, as ncat's own client does.
        let port = free_port();
        let mut ncat = Command::new("sh")
            .args([
                "-c",
                &format!("exec ncat -l 127.0.0.1 {port} < {}", file.display()),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_bound(port);
        let (code, out, err, _) = run_piped(
            &[
                "connect",
                &format!("127.0.0.1:{port}"),
                "--pipe",
                "--no-shutdown",
            ],
            Vec::new(),
        );
        let _ = wait_for(&mut ncat, Duration::from_secs(20));
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(out.len(), sent.len());
        assert!(out == sent, "other bytes came down from ncat");
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn pipe_waits_for_a_slow_reader_timeout_is_idle_time() {
    // A reader at about 4 MB/s: 12 MB take 3 s, more than --timeout. Before: cut at
    // --timeout after stdin ended (stdin was read at once), exit 0. (What the kernel holds
    // for the peer, a few MB on loopback, must be read within --timeout: that progress is
    // not seen from here.)
    let script = "c, _ = s.accept()\n\
                  n = 0\n\
                  while True:\n    d = c.recv(40000)\n    if not d: break\n    n += len(d)\n    time.sleep(0.01)\n\
                  c.sendall(b'%d' % n)\n\
                  c.close()";
    let (mut server, port) = python(script);
    let sent = data(12_000_000);
    let (code, out, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "2s",
        ],
        sent,
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "12000000");
    assert!(
        took >= Duration::from_secs(2),
        "{took:?}: the reader is slow"
    );
    eprintln!("12 MB to a 4 MB/s reader in {took:?}");
}

#[test]
fn pipe_reads_a_slow_writer_to_its_end_though_stdin_ended_at_once() {
    // A writer at about 3 MB/s: 6 MB take 2 s, twice --timeout, with stdin empty. Before:
    // cut at --timeout after stdin ended, exit 0.
    let script = "c, _ = s.accept()\n\
                  block = bytes(range(256)) * 117\n\
                  for _ in range(200):\n    c.sendall(block)\n    time.sleep(0.01)\n\
                  c.close()";
    let (mut server, port) = python(script);
    let (code, out, err, _) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ],
        Vec::new(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.len(), 200 * 256 * 117);
}

#[test]
fn pipe_says_a_reset_and_a_peer_that_stops_reading_and_exits_1() {
    // Reads a little, then resets (linger 0) while we still send.
    let script = "import struct\n\
                  c, _ = s.accept()\n\
                  c.recv(10)\n\
                  c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
                  c.close()";
    let (mut server, port) = python(script);
    let (code, _, err, _) = run_piped(
        &["connect", &format!("127.0.0.1:{port}"), "--pipe"],
        data(20_000_000),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    // Before: exit 0 and nothing on stderr (ncat: "Connection reset by peer", exit 1).
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("reset"), "{err}");
    // Takes the connection and never reads: the transfer cannot finish.
    let script = "c, _ = s.accept()\ntime.sleep(8)";
    let (mut server, port) = python(script);
    let (code, _, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ],
        data(50_000_000),
    );
    let _ = server.kill();
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("the peer does not read"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn pipe_honours_send_and_expect_and_refuses_what_it_cannot_do() {
    let script = "c, _ = s.accept()\n\
                  got = b''\n\
                  while True:\n    d = c.recv(65536)\n    if not d: break\n    got += d\n\
                  c.sendall(b'[' + got + b']')\n\
                  c.close()";
    let (mut server, port) = python(script);
    let addr = format!("127.0.0.1:{port}");
    let (code, out, err, _) = run_piped(
        &[
            "connect", &addr, "--pipe", "--send", "hello ", "--expect", "[hello",
        ],
        b"world".to_vec(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"[hello world]");
    // Before: --expect NEVER with --pipe exited 0.
    let (mut server, port) = python(script);
    let (code, out, err, _) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--expect",
            "NEVER",
        ],
        b"x".to_vec(),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(out, b"[x]");
    assert!(err.contains("expected reply"), "{err}");
    for flag in [
        &["--json"][..],
        &["--hex"],
        &["--send-file", "Cargo.toml"],
        &["--reconnect", "1s"],
    ] {
        let mut args = vec!["connect", "127.0.0.1:9", "--pipe"];
        args.extend_from_slice(flag);
        let (code, _, err, _) = run_piped(&args, Vec::new());
        assert_eq!(code, Some(2), "{flag:?}: {err}");
        assert!(err.contains("cannot be used with"), "{flag:?}: {err}");
    }
}

/// Sends SIGINT, as Ctrl+C in a terminal does.
pub(crate) fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_ends_a_pipe_whose_stdin_stays_open_after_writing_what_came() {
    let script = "c, _ = s.accept()\nc.sendall(b'hello')\ntime.sleep(8)";
    let (mut server, port) = python(script);
    let mut child = sockscope()
        .args(["connect", &format!("127.0.0.1:{port}"), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Stdin stays open (held here), as a terminal's or a FIFO's does.
    let _stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut hello = [0u8; 5];
    stdout.read_exact(&mut hello).unwrap();
    assert_eq!(&hello, b"hello");
    let asked = Instant::now();
    interrupt(&child);
    let status = wait_for(&mut child, Duration::from_secs(3));
    let _ = server.kill();
    let _ = wait_for(&mut server, Duration::from_secs(20));
    // Before: only Ctrl+D ended it.
    assert_eq!(status, Some(130), "ended by Ctrl+C");
    eprintln!("ended {:?} after Ctrl+C", asked.elapsed());
}

/// The exit code once `child` has ended, waiting at most `limit` (then it is killed: `None`).
pub(crate) fn wait_for(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stdout_ends_listen_as_head_would_end_cat() {
    let port = free_port();
    let mut listen = sockscope()
        .args(["listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // `| head -c 10`: ten bytes read, then the pipe is closed.
    let mut stdout = listen.stdout.take().unwrap();
    let mut ten = [0u8; 10];
    stdout.read_exact(&mut ten).unwrap();
    drop(stdout);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut code = None;
    while Instant::now() < deadline {
        let _ = client.write_all(b"line\n");
        if let Some(status) = listen.try_wait().unwrap() {
            code = status.code();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if code.is_none() {
        let _ = listen.kill();
    }
    let _ = listen.wait();
    // Before: the listener ran on.
    assert_eq!(code, Some(141), "listen ends when its stdout is closed");
}

#[test]
fn ctrl_c_prints_everything_listen_received_first() {
    let port = free_port();
    let record_dir = tempfile::tempdir().unwrap();
    let record = record_dir
        .path()
        .join(format!("sockscope-ctrl-c-{port}.bin"));
    let mut listen = sockscope()
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--hex",
            "--record",
            record.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port);
    let mut stdout = listen.stdout.take().unwrap();
    let reader = super::spawn(move || {
        // A slow reader (a terminal): the listener prints behind what it receives.
        let mut all = Vec::new();
        let mut buf = [0u8; 16 << 10];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return all,
                Ok(n) => {
                    all.extend_from_slice(&buf[..n]);
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    });
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let sent = data(10_000_000);
    client.write_all(&sent).unwrap();
    // All of it read by the listener (nothing queued in either kernel), while its printing is
    // far behind: then Ctrl+C.
    let deadline = Instant::now() + Duration::from_secs(20);
    while queued_on_loopback(port) > 0 {
        assert!(
            Instant::now() < deadline,
            "the listener did not read it all"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    interrupt(&listen);
    let status = wait_for(&mut listen, Duration::from_mins(1));
    let printed = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    let recorded = std::fs::metadata(&record).unwrap().len();
    std::fs::remove_file(&record).unwrap();
    assert_eq!(recorded, sent.len() as u64);
    assert_eq!(status, Some(0));
    // Every record's byte count, as printed: all that was received is accounted for.
    let total: u64 = printed
        .lines()
        .filter(|l| l.contains(" <- "))
        .filter_map(|l| {
            let at = l.find(" [")? + 2;
            l.get(at..)?.split(' ').next()?.parse::<u64>().ok()
        })
        .sum();
    assert_eq!(total, recorded, "before: 1.69 of 10 MB were printed");
    eprintln!("{total} bytes received and printed");
}

/// Bytes the kernel holds, sent or received, on TCP connections of `port` on 127.0.0.1 (from
/// /proc/net/tcp: its tx_queue and rx_queue columns).
fn queued_on_loopback(port: u16) -> u64 {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let port = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let ends = [fields.get(1)?, fields.get(2)?];
            if !ends.iter().any(|e| e.ends_with(&port)) {
                return None;
            }
            let (tx, rx) = fields.get(4)?.split_once(':')?;
            Some(u64::from_str_radix(tx, 16).ok()? + u64::from_str_radix(rx, 16).ok()?)
        })
        .sum()
}

#[test]
fn listen_pipe_talks_both_ways_with_nc_n_and_once_ends_when_the_client_leaves() {
    if !has_nc_n() {
        eprintln!("skipped: netcat-openbsd is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let mut listen = sockscope()
        .args(["listen", &format!("127.0.0.1:{port}"), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    listen
        .stdin
        .take()
        .unwrap()
        .write_all(b"from the server")
        .unwrap();
    wait_bound(port);
    // `nc -N`: sends its stdin, half-closes, prints what comes until the server closes.
    let out = Command::new("sh")
        .args([
            "-c",
            &format!("printf 'from the client' | timeout 10 nc -N 127.0.0.1 {port}"),
        ])
        .output()
        .unwrap();
    let code = wait_for(&mut listen, Duration::from_secs(10));
    let mut got = Vec::new();
    listen.stdout.take().unwrap().read_to_end(&mut got).unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(out.stdout, b"from the server");
    assert_eq!(code, Some(0));
    assert_eq!(got, b"from the client");
    // --once: one client, then the end.
    let port = free_port();
    let mut listen = sockscope()
        .args(["listen", &format!("127.0.0.1:{port}"), "--once"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bound(port);
    let mut client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    client.write_all(b"bye").unwrap();
    drop(client);
    assert_eq!(wait_for(&mut listen, Duration::from_secs(5)), Some(0));
}

#[test]
fn pipe_over_tls_and_websocket_moves_the_bytes_and_exits_0() {
    for (listen_flags, url, connect_flags) in [
        (
            &["--tls"][..],
            "127.0.0.1:{port}",
            &["--tls", "--insecure"][..],
        ),
        (&["--ws"][..], "ws://127.0.0.1:{port}/", &[][..]),
    ] {
        let port = free_port();
        let mut args = vec![
            "listen".to_owned(),
            format!("127.0.0.1:{port}"),
            "--echo".into(),
            "--duration".into(),
            "10s".into(),
        ];
        args.extend(listen_flags.iter().map(ToString::to_string));
        let mut server = sockscope()
            .args(&args)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port);
        let url = url.replace("{port}", &port.to_string());
        let mut args = vec!["connect", url.as_str(), "--pipe"];
        args.extend_from_slice(connect_flags);
        let sent = if listen_flags == ["--ws"] {
            b"one message".to_vec()
        } else {
            data(3_000_000)
        };
        let (code, out, err, _) = run_piped(&args, sent.clone());
        let _ = server.kill();
        let _ = server.wait();
        // An unverified certificate (asked for with --insecure) is a warning, not a failure.
        assert_eq!(code, Some(0), "{url}: {err}");
        assert!(out == sent, "{url}: {} of {} bytes", out.len(), sent.len());
    }
}

#[test]
fn a_websocket_pipe_waits_for_the_reply_before_it_closes() {
    let has = Command::new("python3")
        .args(["-c", "import websockets.sync.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: Python's websockets is not installed (.ci/run installs it)");
        return;
    }
    // A device that takes 100 ms to answer each message. WebSocket has no half-close: once
    // it has our Close, it may send nothing more, so the pipe must not close at the end of
    // stdin while an answer is on its way.
    let port = free_port();
    let script = format!(
        "import time\n\
         from websockets.sync.server import serve\n\
         def h(ws):\n    for m in ws:\n        time.sleep(0.1)\n        ws.send(m.upper())\n\
         with serve(h, '127.0.0.1', {port}) as s:\n    s.serve_forever()\n"
    );
    let mut python = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    let url = format!("ws://127.0.0.1:{port}/");
    let (code, out, err, _) = run_piped(&["connect", &url, "--pipe"], b"status?".to_vec());
    let _ = python.kill();
    let _ = python.wait();
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(String::from_utf8_lossy(&out), "STATUS?", "{err}");
}
