//! Throughput of the pure byte functions: streaming text decoding, the log's carry tracking
//! (ingest) and piece decoding (rows shown), framing, hex formatting.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockscope_core::codec::checksum::ByteOrder;
use sockscope_core::codec::framing::{Framer, Framing};
use sockscope_core::codec::hex;
use sockscope_core::codec::length::LengthPrefix;
use sockscope_core::codec::{CarryTracker, TextEncoding};

const SIZE: usize = 4 << 20;

fn text(encoding: TextEncoding) -> Vec<u8> {
    let line = "设备 42 温度=25.3℃ humidity=61% status=OK\r\n";
    let one = encoding.encode(line).expect("encodable");
    one.iter().copied().cycle().take(SIZE).collect()
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    group.throughput(Throughput::Bytes(SIZE as u64));
    for encoding in [TextEncoding::UTF_8, TextEncoding::GBK] {
        let bytes = text(encoding);
        group.bench_function(format!("decode {} in 64 KiB reads", encoding.name()), |b| {
            b.iter(|| {
                let mut decoder = encoding.decoder();
                let mut out = String::with_capacity(SIZE);
                for chunk in bytes.chunks(64 << 10) {
                    decoder.decode(chunk, &mut out);
                }
                decoder.finish(&mut out);
                out.len()
            });
        });
    }
    // Binary data shown as text: most bytes are escapes, a decoder call each. One record of
    // 4 MiB (a WebSocket message, a file) as the log, `connect` and the relay show it.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let binary: Vec<u8> = (0..SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    group.bench_function("decode UTF-8: 4 MiB of random bytes as one record", |b| {
        b.iter(|| TextEncoding::UTF_8.decode_message(&binary).len());
    });
    for encoding in [TextEncoding::UTF_8, TextEncoding::GBK] {
        let bytes = text(encoding);
        // What the log store does per received record: note the unfinished character.
        group.bench_function(
            format!("track carries {} in 1 KiB records", encoding.name()),
            |b| {
                b.iter(|| {
                    let mut tracker = CarryTracker::new(encoding);
                    bytes
                        .chunks(1 << 10)
                        .map(|c| tracker.push(c).as_bytes().len())
                        .sum::<usize>()
                });
            },
        );
        // What showing, searching or exporting those records costs: each decoded alone.
        let mut tracker = CarryTracker::new(encoding);
        let pieces: Vec<_> = bytes
            .chunks(1 << 10)
            .map(|c| (tracker.push(c), c))
            .collect();
        group.bench_function(
            format!("decode {} 1 KiB records alone", encoding.name()),
            |b| {
                b.iter(|| {
                    pieces
                        .iter()
                        .map(|(carry, piece)| encoding.decode_piece(carry.as_bytes(), piece).len())
                        .sum::<usize>()
                });
            },
        );
    }
    let lines = text(TextEncoding::UTF_8);
    group.bench_function("frame CRLF delimiter", |b| {
        b.iter(|| {
            let mut framer = Framer::new(Framing::Delimiter {
                delimiter: b"\r\n".to_vec(),
                keep: false,
            });
            lines
                .chunks(64 << 10)
                .map(|c| framer.push(c).len())
                .sum::<usize>()
        });
    });
    let prefix = LengthPrefix {
        width: 4,
        order: ByteOrder::Little,
        includes_header: false,
    };
    let message = prefix.wrap(&[0x5A; 100]).expect("fits");
    let stream: Vec<u8> = message.iter().copied().cycle().take(SIZE).collect();
    group.bench_function("frame 4-byte LE length prefix", |b| {
        b.iter(|| {
            let mut framer = Framer::new(Framing::LengthPrefix { prefix, offset: 0 });
            stream
                .chunks(64 << 10)
                .map(|c| framer.push(c).len())
                .sum::<usize>()
        });
    });
    group.bench_function("hex format", |b| b.iter(|| hex::format(&lines).len()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = codec
}
criterion_main!(benches);
