//! `--expect*` with and without a framing: each framed message is checked on its own (the
//! delimiters are not in it, and no match spans two frames); without a framing the stream is
//! checked as it came, across reads.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use sockscope::cli::{NOT_MATCHED, OK};

use super::{run, spawn, tcp_peer};

/// A peer that answers the first read with `parts`, written one by one 100 ms apart, then
/// keeps the connection open a while.
fn answering_in_parts(parts: Vec<Vec<u8>>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 256];
        let _ = stream.read(&mut buf);
        for part in parts {
            let _ = stream.write_all(&part);
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_secs(2));
    });
    addr
}

fn csq(args: &[&str]) -> i32 {
    let addr = tcp_peer(|_| b"+CSQ: 23,99\r\nOK\r\n".to_vec());
    let addr = addr.to_string();
    let mut all = vec![
        "connect",
        &addr,
        "--send",
        "AT+CSQ\\r\\n",
        "--timeout",
        "1s",
    ];
    all.extend_from_slice(args);
    let ran = run(&all, b"");
    eprintln!("{args:?}: {}\n{}", ran.code, ran.stderr);
    ran.code
}

#[test]
fn with_a_framing_each_frame_is_checked_on_its_own() {
    // Before: 0, though "99OK" is never on the wire.
    assert_eq!(csq(&["--framing", "crlf", "--expect", "99OK"]), NOT_MATCHED);
    // Before: 1, though the OK frame is shown.
    assert_eq!(csq(&["--framing", "crlf", "--expect-regex", "^OK$"]), OK);
    assert_eq!(csq(&["--framing", "crlf", "--expect", "23,99"]), OK);
    assert_eq!(
        csq(&["--framing", "crlf", "--expect-regex", r"^\+CSQ: \d+"]),
        OK
    );
    // Without a framing: the stream as it came.
    assert_eq!(csq(&["--expect", "99OK"]), NOT_MATCHED);
    assert_eq!(csq(&["--expect-hex", "39 39 0D 0A 4F 4B"]), OK);
}

#[test]
fn the_readmes_gbk_example_matches_a_framed_reply() {
    let reply = sockscope_core::codec::TextEncoding::GBK
        .encode("温度=25\r\n")
        .unwrap();
    let addr = tcp_peer(move |_| reply.clone()).to_string();
    let ran = run(
        &[
            "connect",
            &addr,
            "--encoding",
            "gbk",
            "--framing",
            "crlf",
            "--send",
            "查询\\r\\n",
            "--expect-regex",
            r"温度=\d+",
            "--timeout",
            "2s",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
}

#[test]
fn without_a_framing_a_match_across_reads_still_counts() {
    let addr = answering_in_parts(vec![b"+CSQ: 2".to_vec(), b"3,99\r\n".to_vec()]).to_string();
    let ran = run(
        &[
            "connect",
            &addr,
            "--send",
            "AT\\r\\n",
            "--expect",
            "CSQ: 23",
            "--timeout",
            "2s",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    // Two reads, shown as two rows: the match spanned them.
    assert!(ran.stdout.matches("<- ").count() >= 2, "{}", ran.stdout);
}
