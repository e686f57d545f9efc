//! Throughput of the pure byte functions: streaming text decoding, framing, hex formatting.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockscope::codec::TextEncoding;
use sockscope::codec::checksum::ByteOrder;
use sockscope::codec::framing::{Framer, Framing};
use sockscope::codec::hex;
use sockscope::codec::length::LengthPrefix;

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
