//! Protocol figures for `scripts/perf` (P11), each beside a reference from the same run:
//!
//!   cargo run --release --example protocol_perf -- frames PATH   # 1000 JT/T 808 0x0200
//!                                   # frames (escapes included), one hex line each, for the
//!                                   # Python reference decoder
//!   cargo run --release --example protocol_perf -- decode PATH   # frames/s decoding them
//!   cargo run --release --example protocol_perf -- ingest MIB off|lines|cut|decode
//!       # a stream of those frames into a TCP server session (engine + log store): framing
//!       # off; CRLF lines of the same lengths (the same records, no protocol); cut by the
//!       # JT/T 808 spec's frame layer; cut and every frame decoded as it arrives (what
//!       # `listen --protocol` does). Prints MB/s.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

#[path = "ingest.rs"]
#[allow(
    dead_code,
    reason = "the ingest example's helpers; its main is not this one"
)]
mod ingest;

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::hex;
use sockscope_core::protocol::{Dir, FieldValue, builtin};

/// 1000 location reports with varied values (some bytes need escaping), made by the spec.
fn frames() -> Vec<Vec<u8>> {
    let p = builtin("jt808").expect("jt808");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..1000)
        .map(|i| {
            let r = next();
            let values = vec![
                ("msg_id".to_owned(), FieldValue::Int(0x0200)),
                ("props.encrypt".into(), FieldValue::Int(0)),
                ("props.subpkg".into(), FieldValue::Int(0)),
                ("props.version".into(), FieldValue::Int(0)),
                ("props.reserved".into(), FieldValue::Int(0)),
                ("phone".into(), FieldValue::Text("013912344329".into())),
                ("serial".into(), FieldValue::Int(i128::from(i as u16))),
                (
                    "body.alarm".into(),
                    FieldValue::Int(i128::from(r as u32 & 0x0F)),
                ),
                ("body.status".into(), FieldValue::Int(3)),
                (
                    "body.lat".into(),
                    FieldValue::Int(22_000_000 + i128::from(r % 1_000_000)),
                ),
                (
                    "body.lon".into(),
                    FieldValue::Int(113_000_000 + i128::from((r >> 20) % 1_000_000)),
                ),
                (
                    "body.alt".into(),
                    FieldValue::Int(i128::from((r >> 40) as u16 % 500)),
                ),
                (
                    "body.speed".into(),
                    FieldValue::Int(i128::from((r >> 8) as u16 % 1200)),
                ),
                (
                    "body.dir".into(),
                    FieldValue::Int(i128::from((r >> 24) as u16 % 360)),
                ),
                ("body.time".into(), FieldValue::Text("260107123456".into())),
                ("body.items.0.id".into(), FieldValue::Int(1)),
                (
                    "body.items.0.value.km".into(),
                    FieldValue::Int(i128::from(r as u32)),
                ),
                ("body.items.1.id".into(), FieldValue::Int(2)),
                (
                    "body.items.1.value.litres".into(),
                    FieldValue::Int(i128::from((r >> 32) as u16)),
                ),
            ];
            p.encode(&values, Dir::Unknown).expect("encodes")
        })
        .collect()
}

fn read_frames(path: &str) -> Vec<Vec<u8>> {
    std::io::BufReader::new(std::fs::File::open(path).expect("frames file"))
        .lines()
        .map(|l| hex::parse(&l.expect("line")).expect("hex"))
        .collect()
}

fn main() {
    // As the program does (see its start).
    sockscope_core::engine::keep_large_buffers_off_the_heap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("frames") => {
            let mut out = std::io::BufWriter::new(
                std::fs::File::create(args.get(1).expect("PATH")).expect("create"),
            );
            for f in frames() {
                writeln!(out, "{}", hex::format(&f).replace(' ', "")).expect("write");
            }
        }
        Some("decode") => {
            let p = builtin("jt808").expect("jt808");
            let frames = read_frames(args.get(1).expect("PATH"));
            let mut decoded = 0u64;
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(3) {
                for f in &frames {
                    let d = p.decode(f, Dir::Unknown);
                    assert!(d.stop.is_none() && d.checks_ok());
                    decoded += 1;
                }
            }
            println!("{:.0}", decoded as f64 / start.elapsed().as_secs_f64());
        }
        Some("ingest") => {
            let mib: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(256);
            let mode = args.get(2).map_or("off", String::as_str);
            let p = builtin("jt808").expect("jt808");
            let framing = match mode {
                "off" => Framing::None,
                "lines" => ingest::crlf(),
                _ => p.framing().expect("a frame layer"),
            };
            // Whole frames only, so every run carries the same bytes; `lines`: CRLF lines of
            // the frames' lengths, the same records without a protocol.
            let stream: Vec<u8> = if mode == "lines" {
                frames()
                    .iter()
                    .flat_map(|f| {
                        let mut line = vec![b'x'; f.len() - 2];
                        line.extend_from_slice(b"\r\n");
                        line
                    })
                    .collect()
            } else {
                frames().concat()
            };
            let total = (mib << 20) / stream.len() as u64 * stream.len() as u64;
            let (session, addr) = ingest::server(framing, TextEncoding::UTF_8);
            let start = Instant::now();
            let sender = std::thread::Builder::new()
                .name("protocol-sender".into())
                .spawn(move || ingest::send(addr, total, &stream))
                .expect("thread");
            if mode == "decode" {
                // Decode every frame as it lands, as `listen --protocol` prints it.
                let (mut next, mut decoded, mut missed) = (0, 0u64, 0u64);
                loop {
                    let (frames, all_in) = {
                        let c = session.capture();
                        if let Some(first) = c.log.first_seq()
                            && first > next
                        {
                            missed += first - next;
                            next = first;
                        }
                        let out: Vec<Vec<u8>> = c
                            .log
                            .iter_from(next)
                            .filter(|r| r.kind == sockscope_core::capture::RecordKind::Rx)
                            .map(|r| r.bytes.to_vec())
                            .collect();
                        next = c.log.next_seq();
                        (out, c.counters.rx_bytes >= total)
                    };
                    for f in &frames {
                        let d = p.decode(f, Dir::Request);
                        assert!(d.stop.is_none(), "{}", p.summary(&d));
                        decoded += 1;
                    }
                    if all_in && frames.is_empty() {
                        break;
                    }
                    if frames.is_empty() {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                if missed > 0 {
                    eprintln!("{decoded} frames decoded, {missed} records left the log first");
                }
            } else {
                ingest::wait_for_bytes(&session, total);
            }
            let elapsed = start.elapsed();
            sender.join().expect("sender").expect("send");
            println!("{:.0}", total as f64 / 1e6 / elapsed.as_secs_f64());
        }
        _ => panic!("frames PATH | decode PATH | ingest MIB off|lines|cut|decode"),
    }
}
