//! The generator against real loopback servers: each mode, each failure cause, the rate limit
//! in real time, short connections, UDP.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::*;

/// A server that answers each read with `answer(read)` (or nothing for `None`), on every
/// connection it accepts, until the test ends.
fn server(answer: fn(&[u8]) -> Option<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("bench-test-server".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let _ = stream.set_nodelay(true);
                std::thread::Builder::new()
                    .name("bench-test-conn".into())
                    .spawn(move || {
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = stream.read(&mut buf) {
                            if n == 0 {
                                return;
                            }
                            if let Some(reply) = answer(&buf[..n])
                                && stream.write_all(&reply).is_err()
                            {
                                return;
                            }
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();
    addr
}

fn spec(target: SocketAddr, mode: Mode) -> Spec {
    Spec {
        target,
        mode,
        payload: b"ping".to_vec(),
        duration: Some(Duration::from_secs(10)),
        timeout: Duration::from_millis(300),
        ..Spec::default()
    }
}

fn go(spec: &Spec) -> Report {
    run(spec, &AtomicBool::new(false), None)
}

#[test]
fn ping_pong_against_an_echo_times_every_reply() {
    let addr = server(|r| Some(r.to_vec()));
    let report = go(&Spec {
        connections: 4,
        count: Some(2000),
        ..spec(addr, Mode::Echo)
    });
    assert_eq!(
        (report.sent, report.received, report.failed_total()),
        (2000, 2000, 0),
        "{}",
        report.summary()
    );
    assert_eq!(report.latency.len(), 2000);
    assert!(
        report.percentile(0.5) > Duration::ZERO
            && report.percentile(0.99) >= report.percentile(0.5)
    );
    assert_eq!(report.connects, 4);
    assert_eq!(
        report.timeline.iter().map(|s| s.received).sum::<u64>(),
        2000
    );
}

#[test]
fn a_reply_condition_a_wrong_echo_and_short_connections() {
    let addr = server(|_| Some(b"PONG".to_vec()));
    let expect = crate::rules::Cond::Text(crate::rules::Match::Exact, "PONG".into())
        .compile(crate::codec::TextEncoding::UTF_8)
        .unwrap();
    let report = go(&Spec {
        count: Some(50),
        expect: Some(expect),
        per_request: true,
        ..spec(addr, Mode::PingPong)
    });
    assert_eq!(
        (report.received, report.failed_total()),
        (50, 0),
        "{}",
        report.summary()
    );
    assert_eq!(report.connects, 50, "a connection per request");
    let report = go(&Spec {
        count: Some(20),
        ..spec(addr, Mode::Echo)
    });
    assert_eq!(
        report.failed.get(&Cause::Mismatch),
        Some(&20),
        "{}",
        report.summary()
    );
}

#[test]
fn refused_silent_and_resetting_servers_are_told_apart() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let report = go(&Spec {
        duration: Some(Duration::from_millis(200)),
        ..spec(closed, Mode::PingPong)
    });
    assert!(
        report.failed.get(&Cause::Refused).is_some_and(|n| *n > 0),
        "{}",
        report.summary()
    );
    assert_eq!(report.sent, 0);

    let silent = server(|_| None);
    let report = go(&Spec {
        count: Some(2),
        ..spec(silent, Mode::PingPong)
    });
    assert_eq!(
        report.failed.get(&Cause::Timeout),
        Some(&2),
        "{}",
        report.summary()
    );

    // A server that resets every connection as soon as it reads (linger 0).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let resets = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("bench-test-reset".into())
        .spawn(move || {
            for stream in listener.incoming().take(3) {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 16];
                let _ = stream.read(&mut buf);
                let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            }
        })
        .unwrap();
    let report = go(&Spec {
        count: Some(3),
        ..spec(resets, Mode::PingPong)
    });
    let reset_or_closed = report.failed.get(&Cause::Reset).copied().unwrap_or(0)
        + report.failed.get(&Cause::Closed).copied().unwrap_or(0);
    assert!(reset_or_closed >= 3, "{}", report.summary());
    assert!(
        report.failed.contains_key(&Cause::Reset),
        "a reset is not a close: {}",
        report.summary()
    );
}

#[test]
fn a_thousand_a_second_sends_nine_hundred_to_eleven_hundred_in_a_second() {
    let addr = server(|_| None);
    let report = go(&Spec {
        rate: Some(1000.0),
        duration: Some(Duration::from_secs(1)),
        ..spec(addr, Mode::Throughput)
    });
    assert!((900..=1100).contains(&report.sent), "{}", report.summary());
}

#[test]
fn udp_throughput_sends_every_datagram_and_udp_ping_pong_is_timed() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sink.local_addr().unwrap();
    let report = go(&Spec {
        udp: true,
        count: Some(10_000),
        ..spec(addr, Mode::Throughput)
    });
    assert_eq!(report.sent, 10_000, "{}", report.summary());
    assert_eq!(report.bytes_sent, 40_000);
    drop(sink);

    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = echo.local_addr().unwrap();
    std::thread::Builder::new()
        .name("bench-test-udp-echo".into())
        .spawn(move || {
            let mut buf = [0u8; 2048];
            for _ in 0..100 {
                let Ok((n, from)) = echo.recv_from(&mut buf) else {
                    return;
                };
                let _ = echo.send_to(&buf[..n], from);
            }
        })
        .unwrap();
    let report = go(&Spec {
        udp: true,
        count: Some(100),
        ..spec(addr, Mode::Echo)
    });
    assert_eq!(
        (report.received, report.failed_total()),
        (100, 0),
        "{}",
        report.summary()
    );
}

#[test]
fn stop_ends_a_run_at_once_and_the_reports_read_back() {
    let addr = server(|r| Some(r.to_vec()));
    let stop = AtomicBool::new(false);
    let spec = Spec {
        duration: Some(Duration::from_mins(1)),
        ..spec(addr, Mode::Echo)
    };
    let started = std::time::Instant::now();
    let report = std::thread::scope(|s| {
        let handle = s.spawn(|| run(&spec, &stop, None));
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handle.join().unwrap()
    });
    assert!(started.elapsed() < Duration::from_secs(5), "Stop answered");
    assert!(report.received > 0);
    let csv = report.to_csv();
    assert!(
        csv.contains("\nsecond,sent,received,failed,p50_us,p95_us,p99_us\n0,"),
        "{csv}"
    );
    let json = report.to_json();
    assert!(
        json.contains("\"latency_us\":{\"min\":") && json.contains("\"timeline\":["),
        "{json}"
    );
    assert!(report.summary().contains("p99"), "{}", report.summary());
}

#[test]
fn a_varying_request_counts_and_its_echo_is_checked_against_it() {
    let addr = server(|r| Some(r.to_vec()));
    let template = crate::rules::template::Template::compile(
        &crate::rules::ReplySpec {
            payload: "req {{counter}};".into(),
            ..crate::rules::ReplySpec::default()
        },
        crate::codec::TextEncoding::UTF_8,
    )
    .unwrap();
    let report = go(&Spec {
        count: Some(12),
        vary: Some(template),
        ..spec(addr, Mode::Echo)
    });
    assert_eq!(
        (report.received, report.failed_total()),
        (12, 0),
        "{}",
        report.summary()
    );
    // "req 1;" … "req 9;" are 6 bytes, "req 10;" … "req 12;" 7.
    assert_eq!(report.bytes_sent, 9 * 6 + 3 * 7);
}

/// A sink that reads every connection as fast as it can (as `socat -u TCP-LISTEN OPEN:/dev/null`
/// does), so small writes never block; the bytes each connection delivered.
fn sink() -> (SocketAddr, std::sync::Arc<Mutex<Vec<u64>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counts = std::sync::Arc::new(Mutex::new(Vec::new()));
    let shared = std::sync::Arc::clone(&counts);
    std::thread::Builder::new()
        .name("bench-test-sink".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let index = {
                    let mut counts = shared.lock().unwrap();
                    counts.push(0);
                    counts.len() - 1
                };
                let shared = std::sync::Arc::clone(&shared);
                std::thread::Builder::new()
                    .name("bench-test-sink-conn".into())
                    .spawn(move || {
                        let mut buf = vec![0u8; 64 << 10];
                        while let Ok(n) = stream.read(&mut buf) {
                            if n == 0 {
                                return;
                            }
                            shared.lock().unwrap()[index] += n as u64;
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();
    (addr, counts)
}

/// Runs `spec` on a thread; `None` if it did not end within `limit` (it is told to stop, and
/// left behind if it does not listen, so the test fails instead of hanging).
fn run_within(
    spec: &Spec,
    stop: &std::sync::Arc<AtomicBool>,
    progress: &std::sync::Arc<Mutex<Progress>>,
    limit: Duration,
    during: impl FnOnce(),
) -> Option<(Report, Duration)> {
    let started = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    let (spec, stop_in, progress_in) = (
        spec.clone(),
        std::sync::Arc::clone(stop),
        std::sync::Arc::clone(progress),
    );
    std::thread::Builder::new()
        .name("bench-test-run".into())
        .spawn(move || {
            let _ = tx.send(run(&spec, &stop_in, Some(&progress_in)));
        })
        .unwrap();
    during();
    let left = limit.saturating_sub(started.elapsed());
    let report = rx.recv_timeout(left).ok();
    if report.is_none() {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    report.map(|r| (r, started.elapsed()))
}

#[test]
fn throughput_into_a_sink_that_never_blocks_ends_on_time_on_every_connection_with_live_counts() {
    let (addr, counts) = sink();
    let spec = Spec {
        connections: 4,
        duration: Some(Duration::from_secs(1)),
        ..spec(addr, Mode::Throughput)
    };
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let progress = std::sync::Arc::new(Mutex::new(Progress::default()));
    let live = std::cell::Cell::new(0);
    let ran = run_within(&spec, &stop, &progress, Duration::from_secs(5), || {
        std::thread::sleep(Duration::from_millis(500));
        live.set(progress.lock().unwrap().sent);
    });
    let (report, took) = ran.expect("the duration ended the run");
    assert!(took < Duration::from_secs(3), "took {took:?} for 1 s");
    assert!(live.get() > 0, "the live counts moved during the run");
    assert_eq!(report.connects, 4, "{}", report.summary());
    let counts = counts.lock().unwrap().clone();
    assert_eq!(counts.len(), 4);
    assert!(
        counts.iter().all(|n| *n > 0),
        "every connection sent: {counts:?}"
    );
    assert!(report.sent > 1000, "{}", report.summary());
}

#[test]
fn stop_ends_a_throughput_run_into_a_sink_that_never_blocks() {
    let (addr, _) = sink();
    let spec = Spec {
        duration: Some(Duration::from_mins(1)),
        ..spec(addr, Mode::Throughput)
    };
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let progress = std::sync::Arc::new(Mutex::new(Progress::default()));
    let stopped = std::cell::Cell::new(None);
    let ran = run_within(&spec, &stop, &progress, Duration::from_secs(5), || {
        std::thread::sleep(Duration::from_millis(300));
        stopped.set(Some(std::time::Instant::now()));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let (report, _) = ran.expect("Stop ended the run");
    let answered = stopped.get().unwrap().elapsed();
    assert!(
        answered < Duration::from_millis(500),
        "Stop took {answered:?}"
    );
    assert!(report.sent > 0);
}

#[test]
fn a_wrong_reply_in_ping_pong_is_a_wrong_reply_not_a_timeout() {
    let addr = server(|_| Some(b"NOPE".to_vec()));
    let expect = crate::rules::Cond::Text(crate::rules::Match::Contains, "PONG".into())
        .compile(crate::codec::TextEncoding::UTF_8)
        .unwrap();
    let report = go(&Spec {
        count: Some(3),
        expect: Some(expect),
        timeout: Duration::from_millis(100),
        ..spec(addr, Mode::PingPong)
    });
    assert_eq!(
        report.failed.get(&Cause::Mismatch),
        Some(&3),
        "{}",
        report.summary()
    );
    assert!(
        !report.failed.contains_key(&Cause::Timeout),
        "{}",
        report.summary()
    );
}

#[test]
fn udp_reports_say_sockets_not_connections_made() {
    let sink = UdpSocket::bind("127.0.0.1:0").unwrap();
    let report = go(&Spec {
        udp: true,
        connections: 2,
        count: Some(100),
        ..spec(sink.local_addr().unwrap(), Mode::Throughput)
    });
    assert_eq!(report.connects, 2);
    crate::i18n::set_lang(crate::i18n::Lang::En);
    let summary = report.summary();
    assert!(summary.contains("from 2 sockets"), "{summary}");
    assert!(!summary.contains("connections made"), "{summary}");
}

/// A server that answers each read with the same bytes after `delay`.
fn slow_echo(delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("bench-test-slow".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                std::thread::Builder::new()
                    .name("bench-test-slow-conn".into())
                    .spawn(move || {
                        let mut buf = [0u8; 4096];
                        while let Ok(n) = stream.read(&mut buf) {
                            if n == 0 {
                                return;
                            }
                            std::thread::sleep(delay);
                            if stream.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    })
                    .unwrap();
            }
        })
        .unwrap();
    addr
}

#[test]
fn the_requests_add_up_with_those_in_flight_at_the_end_and_the_report_keeps_its_settings() {
    crate::i18n::set_lang(crate::i18n::Lang::En);
    // Four connections, each answered after 120 ms, for 0.3 s: every one is waiting at the end.
    let report = go(&Spec {
        connections: 4,
        duration: Some(Duration::from_millis(300)),
        ..spec(slow_echo(Duration::from_millis(120)), Mode::Echo)
    });
    assert_eq!(report.unanswered, 4, "{}", report.summary());
    assert_eq!(
        report.sent,
        report.received + report.failed_requests + report.unanswered,
        "{}",
        report.summary()
    );
    let summary = report.summary();
    assert!(summary.contains("in flight 4"), "{summary}");
    assert!(
        summary.contains(&format!(
            "sent {} = {} answered + 0 failed + 4 in flight",
            report.sent, report.received
        )),
        "{summary}"
    );
    assert!(summary.contains(" p95 "), "{summary}");
    let csv = report.to_csv();
    for line in [
        "# mode=echo\n",
        "# connections=4\n",
        "# per_request=false\n",
        "# duration_s=0.3\n",
        "# request=ping\n",
        "# in_flight=4\n",
    ] {
        assert!(csv.contains(line), "{line:?} in {csv}");
    }
    let json = report.to_json();
    assert!(
        json.contains("\"settings\":{\"target\":\"127.0.0.1:")
            && json.contains("\"mode\":\"echo\",\"connections\":\"4\"")
            && json.contains("\"in_flight\":4")
            && json.contains("\"p95\":"),
        "{json}"
    );

    // Throughput: what was written, failed and still being written adds up too.
    let (addr, _) = sink();
    let report = go(&Spec {
        connections: 2,
        duration: Some(Duration::from_millis(300)),
        ..spec(addr, Mode::Throughput)
    });
    assert_eq!(
        report.sent,
        report.settled() + report.failed_requests + report.unanswered,
        "{}",
        report.summary()
    );
}

#[test]
fn a_count_whose_connections_keep_failing_gives_up_after_the_timeout_and_says_what_was_not_sent() {
    // It retried about 20 times a second for ever: `bench --count 5` against a closed port
    // never ended.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let progress = std::sync::Arc::new(Mutex::new(Progress::default()));
    for per_request in [false, true] {
        let wanted = Spec {
            count: Some(5),
            duration: None,
            per_request,
            ..spec(closed, Mode::PingPong)
        };
        let (report, took) = run_within(&wanted, &stop, &progress, Duration::from_secs(5), || {})
            .expect("a run against a closed port ends");
        assert!(took < Duration::from_secs(2), "{took:?}");
        assert_eq!(
            (report.sent, report.not_sent),
            (0, 5),
            "{}",
            report.summary()
        );
        assert!(
            report.failed.get(&Cause::Refused).is_some_and(|n| *n >= 2),
            "{}",
            report.summary()
        );
        assert!(
            report
                .summary()
                .contains("gave up: no connection could be made for 0.3 s"),
            "{}",
            report.summary()
        );
        assert!(report.to_json().contains("\"not_sent\":5"));
    }

    // A peer that takes one connection (and answers it), then refuses the next, as `nc -l`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let once = listener.local_addr().unwrap();
    std::thread::Builder::new()
        .name("bench-test-once".into())
        .spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            drop(listener);
            let mut buf = [0u8; 16];
            let n = stream.read(&mut buf).unwrap();
            stream.write_all(&buf[..n]).unwrap();
            let _ = stream.read(&mut buf);
        })
        .unwrap();
    let wanted = Spec {
        count: Some(5),
        duration: None,
        per_request: true,
        ..spec(once, Mode::Echo)
    };
    let (report, _) = run_within(&wanted, &stop, &progress, Duration::from_secs(5), || {})
        .expect("a run whose peer stops taking connections ends");
    assert_eq!(
        (
            report.sent,
            report.received,
            report.not_sent,
            report.connects
        ),
        (1, 1, 4, 1),
        "{}",
        report.summary()
    );
}

#[test]
fn a_duration_run_keeps_retrying_until_its_end() {
    // The give-up rule is for a count: a run of a set length retries for its whole length
    // (a device being restarted comes back within it).
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let report = go(&Spec {
        duration: Some(Duration::from_millis(700)),
        ..spec(closed, Mode::PingPong)
    });
    assert!(
        report.elapsed >= Duration::from_millis(650),
        "{:?}",
        report.elapsed
    );
    assert_eq!(report.not_sent, 0);
}

#[test]
fn udp_ping_pong_to_a_closed_port_is_unreachable_at_once_not_timed_out() {
    // ICMP port unreachable reaches a connected UDP socket as an error on its next read; it
    // was left unread until the reply's timeout ("timed out 5").
    let closed = {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    let started = std::time::Instant::now();
    let report = go(&Spec {
        udp: true,
        count: Some(5),
        duration: None,
        timeout: Duration::from_secs(2),
        ..spec(closed, Mode::PingPong)
    });
    assert_eq!(
        report.failed.get(&Cause::Unreachable),
        Some(&5),
        "{}",
        report.summary()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_rate_is_requests_or_bytes_per_second_divided_by_the_request() {
    assert_eq!(super::rate_from_text("2000", 100), Ok(2000.0));
    assert_eq!(super::rate_from_text("2000/s", 100), Ok(2000.0));
    assert_eq!(super::rate_from_text("10MB/s", 100), Ok(100_000.0));
    assert_eq!(super::rate_from_text("512kb/s", 512), Ok(1000.0));
    for bad in ["", "abc", "0", "-5", "10MB", "inf"] {
        let why = super::rate_from_text(bad, 100).unwrap_err();
        assert!(why.contains("is not a rate"), "{bad}: {why}");
    }
}

#[test]
fn a_rate_field_is_no_limit_when_empty_or_0_and_says_when_it_was_bytes() {
    use super::rate_limit_from_text as limit;
    assert_eq!(limit("", 100), Ok(None));
    assert_eq!(limit(" 0 ", 100), Ok(None));
    assert_eq!(limit("0/s", 100), Ok(None));
    assert_eq!(limit("2000/s", 100), Ok(Some((2000.0, false))));
    assert_eq!(limit("1MB/s", 100), Ok(Some((10_000.0, true))));
    assert!(limit("abc", 100).is_err());
}
