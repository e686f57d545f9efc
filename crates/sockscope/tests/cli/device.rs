//! `sockscope test` against a device that accepts and ends the connection at once: the same
//! reason ("the device closed / reset the connection") and the same exit code (1, a failed
//! check) every run, whether the end came before the script started or under it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::pipe::{sockscope, wait_for};

/// A child process killed when dropped (also when an assertion fails first).
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = wait_for(&mut self.0, Duration::from_secs(5));
    }
}

/// A device that accepts every connection and closes it at once (`reset`: with a reset).
fn dropping_device(reset: bool) -> (Killed, u16) {
    let linger = if reset {
        "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n    "
    } else {
        ""
    };
    let program = format!(
        "import socket, struct\n\
         s = socket.socket()\n\
         s.bind(('127.0.0.1', 0))\n\
         s.listen(64)\n\
         print(s.getsockname()[1], flush=True)\n\
         while True:\n    \
             c, _ = s.accept()\n    \
             {linger}c.close()\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &program])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().unwrap();
    (Killed(child), port)
}

/// The profile in a folder of its own (removed when the folder is dropped).
fn profile(port: u16) -> (tempfile::TempDir, std::path::PathBuf) {
    let path_dir = tempfile::tempdir().unwrap();
    let path = path_dir
        .path()
        .join(format!("sockscope-dropping-{port}.ron"));
    std::fs::write(
        &path,
        format!(
            "(version: 2, name: \"dropping\", session: (mode: TcpClient, remote_ip: \"127.0.0.1\", \
             remote_port: \"{port}\", automation: (scripts: [(name: \"ask\", steps: [\
             Send((payload: \"AT\", line_ending: Cr)), Expect(when: Text(Exact, \"OK\"))])])))"
        ),
    )
    .unwrap();
    (path_dir, path)
}

#[test]
fn a_device_that_drops_each_connection_fails_the_check_the_same_way_every_run() {
    for reset in [false, true] {
        let (device, port) = dropping_device(reset);
        let (_dir, path) = profile(port);
        let junit = path.with_extension("xml");
        for run in 0..12 {
            let out = sockscope()
                .args([
                    "test",
                    path.to_str().unwrap(),
                    "--junit",
                    junit.to_str().unwrap(),
                ])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            // Before: exit 2 "No answer within 6s" or "Could not connect …: Connection reset
            // by peer" in some runs, exit 1 in the others.
            assert_eq!(
                out.status.code(),
                Some(1),
                "reset {reset}, run {run}: {stdout}\n{stderr}"
            );
            assert!(
                stdout.contains("the device closed the connection")
                    || stdout.contains("the device reset the connection"),
                "reset {reset}, run {run}: {stdout}"
            );
            let xml = std::fs::read_to_string(&junit).unwrap();
            assert!(
                xml.contains("<failure") && !xml.contains("<error"),
                "reset {reset}, run {run}: {xml}"
            );
        }
        drop(device);
        std::fs::remove_file(&path).unwrap();
        let _ = std::fs::remove_file(&junit);
    }
}
