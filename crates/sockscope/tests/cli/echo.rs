//! Regression: an echo both ways at full speed never stalls. `listen --echo` with 100 MB of
//! random bytes from a client that sends and reads at once, and `connect --send-file` to a
//! Python echo server, each compared by SHA-256 in bounded time. (Before the relay merge's
//! "a write to a link no longer costs it its turn to read", an echo's write took the link off
//! the read-again list and the exchange stalled for good: 3 runs in 4 at 100 MB.)

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::free_port;
use super::pipe::{python, sockscope, wait_for};

const SIZE: usize = 100_000_000;

/// A client that sends `SIZE` random bytes (seeded) while it reads the echo, half-closes,
/// reads to the end and prints the SHA-256 of what it sent, of what came back, and the count.
const CLIENT: &str = "import socket, hashlib, threading, sys, random\n\
    c = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n\
    n = int(sys.argv[2])\n\
    sent = hashlib.sha256(); got = hashlib.sha256(); count = [0]\n\
    def reader():\n    \
        while True:\n        \
            d = c.recv(1 << 16)\n        \
            if not d: break\n        \
            got.update(d); count[0] += len(d)\n\
    t = threading.Thread(target=reader); t.start()\n\
    r = random.Random(7); left = n\n\
    while left:\n    \
        b = r.randbytes(min(1 << 16, left)); c.sendall(b); sent.update(b); left -= len(b)\n\
    c.shutdown(socket.SHUT_WR)\n\
    t.join()\n\
    print(sent.hexdigest(), got.hexdigest(), count[0], flush=True)\n";

#[test]
fn listen_echo_returns_100_mb_of_random_bytes_whole_and_in_time() {
    for round in 0..2 {
        let port = free_port();
        let mut listen = sockscope()
            .args([
                "listen",
                &format!("127.0.0.1:{port}"),
                "--echo",
                "--once",
                "--hex",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        testkit::wait_bound(port);
        let mut client = Command::new("python3")
            .args(["-c", CLIENT, &port.to_string(), &SIZE.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: a stalled echo is killed here, and its empty line fails below.
        let client_code = wait_for(&mut client, Duration::from_mins(1));
        let mut line = String::new();
        let _ = BufReader::new(client.stdout.take().unwrap()).read_line(&mut line);
        // It prints what it received before it ends (a debug build takes a while).
        let listen_code = wait_for(&mut listen, Duration::from_mins(1));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(client_code, Some(0), "round {round}: the echo stalled");
        assert_eq!(fields.len(), 3, "round {round}: {line}");
        assert_eq!(fields[2], SIZE.to_string(), "round {round}: {line}");
        assert_eq!(fields[0], fields[1], "round {round}: other bytes came back");
        assert_eq!(listen_code, Some(0), "round {round}");
    }
}

#[test]
fn connect_send_file_to_an_echo_server_gets_every_byte_back() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = source_dir
        .path()
        .join(format!("sockscope-echo-{}.bin", std::process::id()));
    std::fs::write(&source, super::pipe::data(SIZE)).unwrap();
    let script = "import hashlib\n\
                  c, _ = s.accept()\n\
                  h = hashlib.sha256(); n = 0\n\
                  while True:\n    d = c.recv(1 << 16)\n    if not d: break\n    \
                  h.update(d); n += len(d); c.sendall(d)\n\
                  print(h.hexdigest(), n, flush=True)";
    let (mut server, port) = python(script);
    let mut connect = sockscope()
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send-file",
            source.to_str().unwrap(),
            "--hex",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // What came back, counted from the received rows' byte counts ("<- PEER [N B] …").
    let stdout = connect.stdout.take().unwrap();
    let counter = super::spawn(move || {
        let mut received = 0u64;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split(" <- ").nth(1)
                && let Some(n) = rest.split(" [").nth(1).and_then(|r| r.split(" B]").next())
            {
                received += n.parse::<u64>().unwrap_or(0);
            }
        }
        received
    });
    let code = wait_for(&mut connect, Duration::from_secs(90));
    let received = counter.join().unwrap();
    let _ = wait_for(&mut server, Duration::from_secs(10));
    let mut line = String::new();
    let _ = BufReader::new(server.stdout.take().unwrap()).read_line(&mut line);
    std::fs::remove_file(&source).unwrap();
    assert_eq!(code, Some(0), "the send stalled or failed");
    let expected = {
        let out = Command::new("python3")
            .args([
                "-c",
                "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(&super::pipe::data(SIZE))?;
                child.wait_with_output()
            })
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        line.trim(),
        format!("{expected} {SIZE}"),
        "the server got other bytes"
    );
    assert_eq!(received, SIZE as u64, "not every byte came back");
}
