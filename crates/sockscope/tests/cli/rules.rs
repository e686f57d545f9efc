//! `sockscope run` as a device simulator under load, and what `run` and `test` print: real
//! clients written in the test (Python, as a user's script would be), bounded in bytes and time.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use super::{closed_port, connect_retrying};

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
    let port = closed_port();
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
