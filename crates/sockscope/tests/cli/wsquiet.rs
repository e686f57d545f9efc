//! A WebSocket `--pipe` to a server that streams its answers slowly: WebSocket has no
//! half-close, so at the end of stdin the Close waits until nothing arrived for the quiet time
//! (`--timeout` when given, 1 s without), and that end is a normal end (exit 0).

use std::process::{Command, Stdio};

use super::free_port;
use super::pipe::run_piped;
use super::wait_port;

/// A server that answers each message with 5 messages 500 ms apart; `None` without Python's
/// websockets.
fn streaming_server() -> Option<(std::process::Child, u16)> {
    let has = Command::new("python3")
        .args(["-c", "import websockets.sync.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: Python's websockets is not installed (.ci/run installs it)");
        return None;
    }
    let port = free_port();
    let script = format!(
        "import time\n\
         from websockets.sync.server import serve\n\
         def h(ws):\n    for m in ws:\n        for i in range(5):\n            \
         time.sleep(0.5)\n            ws.send('part %d\\n' % i)\n\
         with serve(h, '127.0.0.1', {port}) as s:\n    s.serve_forever()\n"
    );
    let python = Command::new("python3")
        .args(["-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    Some((python, port))
}

#[test]
fn a_websocket_pipe_gets_a_slow_stream_whole_and_ends_0() {
    let all = "part 0\npart 1\npart 2\npart 3\npart 4\n";
    // The three cases side by side: each spends its time waiting (the stream, then the quiet
    // time under test), not computing, so together they take as long as the longest.
    let cases: Vec<_> = [
        &["--timeout", "3s"][..],
        &[][..],
        &["--no-shutdown", "--timeout", "1s"][..],
    ]
    .into_iter()
    .map(|flags| {
        let (mut python, port) = streaming_server()?;
        Some(testkit::spawn("wsquiet-case", move || {
            let url = format!("ws://127.0.0.1:{port}/");
            let mut args = vec!["connect", &url, "--pipe"];
            args.extend_from_slice(flags);
            let ran = run_piped(&args, b"go".to_vec());
            let _ = python.kill();
            let _ = python.wait();
            (flags, ran)
        }))
    })
    .collect();
    for case in cases {
        let Some(case) = case else { return };
        let (flags, (code, out, err, took)) = case.join().unwrap();
        // Before: only "part 0" and exit 0 (the Close went after 300 ms of quiet, whatever
        // --timeout said); with --no-shutdown all five and exit 1.
        assert_eq!(String::from_utf8_lossy(&out), all, "{flags:?}: {err}");
        assert_eq!(code, Some(0), "{flags:?}: {err}");
        eprintln!("{flags:?}: {took:?}");
    }
}
