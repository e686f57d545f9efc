//! `--send-file` as a user sees it: a file cut by a peer that stops reading, or by Ctrl+C, is
//! said as cut (`file-stopped`, exit non-zero), never as sent.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use super::pipe::{data, interrupt, python, run_piped, sockscope, wait_for};

/// A file of `n` bytes of [`data`] in a folder of its own (removed when the folder is
/// dropped), named after `tag`.
fn file_of(n: usize, tag: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("sockscope-files-{tag}.bin"));
    std::fs::write(&path, data(n)).unwrap();
    (dir, path)
}

#[test]
fn a_peer_that_reads_1_mb_and_closes_cuts_the_file_and_it_is_never_said_as_sent() {
    let (_dir, source) = file_of(100_000_000, "cut");
    // Several runs: the cut lands at a different point of the send loop each time (before
    // the fix, 8 of 20 runs read the rest of the file into "not connected" lines and said it
    // was sent).
    for run in 0..6 {
        let script = "c, _ = s.accept()\n\
                      n = 0\n\
                      while n < 1000000:\n    n += len(c.recv(65536))\n\
                      c.close()";
        let (mut server, port) = python(script);
        let json = run % 2 == 1;
        let mut args = vec![
            "connect".to_owned(),
            format!("127.0.0.1:{port}"),
            "--send-file".to_owned(),
            source.to_str().unwrap().to_owned(),
        ];
        if json {
            args.push("--json".to_owned());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err, _) = run_piped(&args, Vec::new());
        let _ = wait_for(&mut server, Duration::from_secs(20));
        let out = String::from_utf8_lossy(&out);
        // The close (a reset, as the peer left unread bytes) is the reason, said once; "not
        // connected" is only its echo.
        assert_eq!(code, Some(1), "run {run}: {err}\n{out}");
        let not_connected = out
            .lines()
            .filter(|l| l.contains("Not connected") || l.contains("\"not-connected\""))
            .count();
        assert!(
            not_connected == 0,
            "run {run}: {not_connected} 'not connected' lines"
        );
        if json {
            assert!(!out.contains("\"file-sent\""), "run {run}: {out}");
            let stopped = out.lines().find(|l| l.contains("\"file-stopped\""));
            assert!(stopped.is_some(), "run {run}: {out}");
            // A file that stopped short is a failure (it was kind info).
            assert!(
                stopped.is_some_and(|l| l.contains("\"kind\":\"error\"")),
                "run {run}: {out}"
            );
        } else {
            assert!(!out.contains(" sent: 100000000 bytes"), "run {run}: {out}");
            assert!(out.contains("stopped at"), "run {run}: {out}");
        }
    }
    std::fs::remove_file(&source).unwrap();
}

#[test]
fn ctrl_c_in_the_middle_of_a_file_says_where_it_stopped_and_exits_130() {
    let (_dir, source) = file_of(100_000_000, "sigint");
    for json in [false, true] {
        // A slow reader: 64 KiB every 20 ms; it says when it has 2 MB.
        let script = "c, _ = s.accept()\n\
                      n = 0\n\
                      told = False\n\
                      while True:\n    \
                          d = c.recv(65536)\n    \
                          if not d: break\n    \
                          n += len(d)\n    \
                          if n >= 2000000 and not told:\n        \
                              print('got', flush=True)\n        \
                              told = True\n    \
                          time.sleep(0.02)";
        let (mut server, port) = python(script);
        let mut command = sockscope();
        command.args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--send-file",
            source.to_str().unwrap(),
        ]);
        if json {
            command.arg("--json");
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(server.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "got");
        interrupt(&child);
        let code = wait_for(&mut child, Duration::from_secs(5));
        let _ = server.kill();
        let _ = server.wait();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Before: exit 0, no file-stopped.
        assert_eq!(code, Some(130), "{stdout}\n{stderr}");
        if json {
            assert!(stdout.contains("\"file-stopped\""), "{stdout}");
        } else {
            assert!(stdout.contains("stopped at"), "{stdout}");
        }
        assert!(stderr.contains("stopped at"), "{stderr}");
    }
    std::fs::remove_file(&source).unwrap();
}
