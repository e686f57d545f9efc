//! `--pipe` with peers that are slow or quiet, as `nc -N -w` ends with them: what the kernel
//! still holds draining to a slow reader is movement, and a peer that took every byte and
//! stays quiet with the connection open after our half-close is the end of an exchange
//! (exit 0); a peer that takes nothing is still exit 1.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::free_port;
use super::pipe::{data, python, run_piped, sockscope, wait_for};

#[test]
fn a_slow_reader_that_takes_everything_after_stdin_ended_is_exit_0() {
    // About 500 KB/s: 2 MB take 4 s, --timeout 1s. The kernel takes all 2 MB at once, so
    // from the end of stdin only its queue moves. Before: exit 1 after 1 s ("Nothing moved
    // for 1s after the end of stdin"), while the reader went on getting every byte.
    let script = "c, _ = s.accept()\n\
                  n = 0\n\
                  while True:\n    d = c.recv(10000)\n    if not d: break\n    n += len(d)\n    time.sleep(0.02)\n\
                  c.sendall(b'%d' % n)\n\
                  c.close()";
    let (mut server, port) = python(script);
    let (code, out, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ],
        data(2_000_000),
    );
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(0), "{err} after {took:?}");
    assert_eq!(String::from_utf8_lossy(&out), "2000000");
    eprintln!("2 MB to a 500 KB/s reader in {took:?}");
}

#[test]
fn listen_pipe_to_a_slow_client_is_exit_0() {
    let port = free_port();
    let mut listen = sockscope()
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = listen.stdin.take().unwrap();
    let writer = super::spawn(move || {
        let _ = stdin.write_all(&data(2_000_000));
    });
    // A client at about 500 KB/s that reads to our end, then leaves.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut client = loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break stream;
        }
        assert!(Instant::now() < deadline, "listen --pipe does not listen");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut got = 0;
    let mut buf = [0u8; 10_000];
    loop {
        let n = client.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got += n;
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(client);
    let code = wait_for(&mut listen, Duration::from_secs(10));
    let _ = writer.join();
    let mut err = String::new();
    let _ = listen.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!(got, 2_000_000);
    // Before: exit 1 ("Nothing moved for 1s after the end of stdin").
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_device_that_answers_and_keeps_the_connection_open_ends_as_nc_n_w1_does() {
    // Reads a request, answers, and keeps the connection open (many devices never close).
    let script = "c, _ = s.accept()\n\
                  c.recv(100)\n\
                  c.sendall(b'VALUE 42\\n')\n\
                  time.sleep(10)";
    let (mut server, port) = python(script);
    let (code, out, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ],
        b"READ\n".to_vec(),
    );
    let _ = server.kill();
    let _ = wait_for(&mut server, Duration::from_secs(20));
    // Before: exit 1 after the timeout, every time.
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, b"VALUE 42\n");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[test]
fn a_peer_that_never_reads_is_still_exit_1_once_the_kernel_is_full() {
    // Takes the connection and reads nothing: 8 MB fill the kernel's buffers and our queue
    // stops draining; the kernel's queue does not move either.
    let script = "c, _ = s.accept()\nprint('accepted', flush=True)\ntime.sleep(10)";
    let (mut server, port) = python(script);
    let (code, _, err, took) = run_piped(
        &[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--pipe",
            "--timeout",
            "1s",
        ],
        data(8_000_000),
    );
    let mut line = String::new();
    let _ = BufReader::new(server.stdout.as_mut().unwrap()).read_line(&mut line);
    let _ = server.kill();
    let _ = wait_for(&mut server, Duration::from_secs(20));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("the peer does not read"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}
