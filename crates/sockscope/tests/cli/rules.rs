//! `sockscope run` as a device simulator under load, and what `run` and `test` print: real
//! clients written in the test (Python, as a user's script would be), bounded in bytes and time.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::profile;
use sockscope_core::session::Session;

use super::{connect_retrying, free_port};

fn sockscope() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockscope"));
    command.env("LANG", "C").env_remove("LC_ALL");
    command
}

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `sockscope run PROFILE --local-port PORT ARGS`, its stdout piped or thrown away; returns once
/// it listens.
fn run_profile(profile: &str, port: u16, args: &[&str], stdout: Stdio) -> Child {
    let child = sockscope()
        .args(["run", profile, "--local-port", &port.to_string()])
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(connect_retrying(port));
    child
}

/// Runs a Python client (`script` gets `port` and the command line's arguments in `sys.argv`)
/// and returns its stdout's lines.
fn python_client(script: &str, args: &[&str]) -> Vec<String> {
    let child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the client failed: {out:?}");
    BufReader::new(out.stdout.as_slice())
        .lines()
        .map(Result::unwrap)
        .collect()
}

/// A client that reads while it sends `lines` lines of 100 B in one `sendall`, and prints how
/// many bytes came back and how many it sent; it stops reading once nothing came for `quiet`
/// seconds (a stall), or everything did.
const BURST_CLIENT: &str = r#"
import select, socket, sys, threading
port, lines, quiet = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
line = b"x" * 99 + b"\n"
total = lines * len(line)
s = socket.create_connection(("127.0.0.1", port))
got = [0]
def reader():
    while got[0] < total and select.select([s], [], [], quiet)[0]:
        b = s.recv(1 << 16)
        if not b:
            break
        got[0] += len(b)
t = threading.Thread(target=reader, daemon=True)
t.start()
s.sendall(line * lines)
t.join()
print(got[0], total, flush=True)
"#;

#[test]
fn run_echoes_every_byte_of_a_burst_to_a_client_that_reads_while_it_sends() {
    // Before the fix (a write to a link cost it its turn to read) the replies stopped for good
    // once the kernel's buffers filled: 100,000 lines came back as 9,437,100 of 10,000,000
    // bytes, then silence. 50,000 lines still passed; 200,000 keep a margin.
    let port = free_port();
    let mut server = run_profile(
        &example("heartbeat-echo.ron"),
        port,
        &["--duration", "120s"],
        Stdio::null(),
    );
    let out = python_client(BURST_CLIENT, &[&port.to_string(), "200000", "10"]);
    server.kill().unwrap();
    let _ = server.wait();
    let counts: Vec<u64> = out[0].split(' ').map(|n| n.parse().unwrap()).collect();
    assert_eq!(counts[1], 20_000_000);
    assert_eq!(
        counts[0], counts[1],
        "every byte of the burst comes back, with no 10 s of silence"
    );
}

/// A shipped simulator, served in-process on a port of the OS's choosing (its capture is the
/// log the window shows and `run` prints).
fn simulator(name: &str) -> (Session, SocketAddr) {
    let mut form = profile::load(std::path::Path::new(&example(name)))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    *form.local_port_mut() = "0".into();
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).unwrap();
    let addr = session.wait_listening(Duration::from_secs(5));
    (session, addr.expect("the simulator listens"))
}

#[test]
fn a_client_that_never_reads_gets_a_few_counted_notices_not_one_per_refused_reply() {
    // 90 MB of 4000-byte lines echoed to a client that reads nothing until it is done: the
    // 64 MiB queue and the kernel's buffers take some 70 MB of the replies, the rest are
    // refused; then 10 MB more over 2.5 s, so the refusals go on past the running count's
    // second. Each refusal was a line of its own (1.4 million lines for a 210 MB flood). The
    // whole stays under the log's cap, so every notice is still in it at the end.
    const LINE: usize = 4000;
    let (session, addr) = simulator("heartbeat-echo.ron");
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut line = vec![b'x'; LINE - 1];
    line.push(b'\n');
    let hundred = line.repeat(100);
    let started = Instant::now();
    let mut lines = 0;
    for _ in 0..225 {
        client.write_all(&hundred).unwrap();
        lines += 100;
    }
    assert!(
        session.wait_until(Duration::from_mins(1), |c| c.counters.refused_sends > 0),
        "the burst filled the queue"
    );
    for _ in 0..25 {
        client
            .write_all(&hundred)
            .expect("the simulator reads on while it refuses replies");
        lines += 100;
        std::thread::sleep(Duration::from_millis(100));
    }
    let total = (LINE * lines) as u64;
    assert!(
        session.wait_until(Duration::from_mins(1), |c| c.counters.rx_bytes == total),
        "the simulator read the whole flood"
    );
    // Done sending: the server writes what it queued and closes as we did; then we read it.
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut delivered = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    loop {
        match client.read(&mut buf).unwrap() {
            0 => break,
            n => delivered += n as u64,
        }
    }
    assert!(
        session.wait_until(Duration::from_secs(10), |c| c.clients.is_empty()),
        "the connection ended"
    );
    let capture = session.capture();
    let notices: Vec<String> = capture
        .log
        .iter()
        .filter(|r| matches!(r.event(), Some("send-queue-full" | "sends-refused")))
        .map(|r| r.text().into_owned())
        .collect();
    let seconds = started.elapsed().as_secs();
    let (sends, bytes) = (
        capture.counters.refused_sends,
        capture.counters.refused_bytes,
    );
    drop(capture);
    assert!(
        sends > 1000,
        "the flood overflowed the queue: {sends} refused"
    );
    // The first at once, then at most one a second, and one at the end.
    assert!(
        notices.len() >= 3 && notices.len() as u64 <= seconds + 2,
        "{} notices in {seconds} s: {notices:?}",
        notices.len()
    );
    // Every reply either arrived or was counted as refused, and the last notice says the
    // total.
    assert_eq!(bytes, sends * LINE as u64);
    assert_eq!(delivered + bytes, total, "{notices:?}");
    let last = notices.last().unwrap();
    assert!(
        last.contains(&format!(" {sends} sends ({bytes} bytes)")),
        "{last}"
    );
}

/// A device that reads the first message and resets the connection (linger 0); its address.
fn resetting_device() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    super::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        let _ = stream.read(&mut buf);
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
    });
    addr
}

#[test]
fn test_says_the_device_reset_the_connection_when_it_did() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-reset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (profile, junit) = (dir.join("check.ron"), dir.join("junit.xml"));
    std::fs::write(
        &profile,
        r#"(version: 2, session: (mode: TcpClient, automation: (scripts: [(name: "ping",
            steps: [Send((payload: "PING", line_ending: Lf)), Expect(when: Text(Exact, "PONG"))])])))"#,
    )
    .unwrap();
    let addr = resetting_device();
    let ran = super::run(
        &[
            "test",
            profile.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        b"",
    );
    let report = std::fs::read_to_string(&junit).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ran.code, super::NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout.contains("the device reset the connection")
            && !ran.stdout.contains("closed the connection"),
        "{}",
        ran.stdout
    );
    assert!(
        report.contains("the device reset the connection"),
        "{report}"
    );
}

#[test]
fn test_prints_a_repeat_as_one_line_and_names_a_failure_with_its_iteration() {
    let (_session, addr) = simulator("heartbeat-echo.ron");
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir
        .path()
        .join(format!("sockscope-repeat-{}.ron", free_port()));
    std::fs::write(
        &profile,
        r#"(version: 2, session: (mode: TcpClient, frame_mode: Delimiter, frame_delimiter: "\\n",
            automation: (scripts: [
            (name: "pings", steps: [
                Send((payload: "PING", line_ending: Lf)), Expect(when: Text(Exact, "PONG")),
                Repeat(100, [Send((payload: "PING", line_ending: Lf)),
                             Expect(when: Text(Exact, "PONG"))]),
            ]),
            (name: "heartbeats", steps: [
                Repeat(5, [Send((payload: "HB", line_ending: Lf)),
                           Expect(when: Text(Exact, "HB-ACK 1"))]),
            ]),
        ])))"#,
    )
    .unwrap();
    let ran = super::run(
        &[
            "test",
            profile.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
        ],
        b"",
    );
    std::fs::remove_file(&profile).unwrap();
    assert_eq!(ran.code, super::NOT_MATCHED, "{ran:?}");
    let out = &ran.stdout;
    // Script, 2 steps (and the first's bytes), the Repeat, the verdict; then the second: its
    // Repeat, the failed step (and what came instead), the verdict; the summary.
    assert!(out.lines().count() < 16, "{out}");
    assert!(
        out.contains(
            "  ✓ 3–202  Repeat 100 × (send PING, expect Text(Exact,\"PONG\") (within 1000 ms)): 100 passed"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "  ✗ 1–10  Repeat 5 × (send HB, expect Text(Exact,\"HB-ACK 1\") (within 1000 ms)): 1 passed, failed in iteration 2"
        ),
        "{out}"
    );
    assert!(
        out.contains("  ✗   4  expect Text(Exact,\"HB-ACK 1\") (within 1000 ms) (iteration 2)"),
        "{out}"
    );
    assert!(
        out.contains("FAILED: Script “heartbeats” failed at step 4"),
        "{out}"
    );
}
