//! Ingest: a loopback TCP stream into the engine and the capture log store, framing off and
//! with a 4-byte length prefix. `scripts/perf` runs the 1 GiB version beside socat.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

#[path = "../examples/ingest.rs"]
mod ingest;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sockscope_core::codec::framing::Framing;

const TOTAL: u64 = 128 << 20;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Bytes(TOTAL));
    group.bench_function("loopback TCP → engine → log store, framing off", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| ingest::ingest(TOTAL, Framing::None))
                .sum()
        });
    });
    let framing = Framing::LengthPrefix {
        prefix: ingest::PREFIX,
        offset: 0,
    };
    group.bench_function(
        "loopback TCP → engine → log store, 4-byte LE prefix",
        |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| ingest::ingest(TOTAL, framing.clone()))
                    .sum()
            });
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
