//! Every framing over any bytes cut anywhere: no panic, and the frames do not depend on how
//! the stream was cut. The first bytes pick the framing and the cuts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::checksum::ByteOrder;
use sockscope_core::codec::framing::{Framer, Framing};
use sockscope_core::codec::length::LengthPrefix;

fn frames(framing: &Framing, chunks: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
    let mut framer = Framer::new(framing.clone());
    let mut out: Vec<(Vec<u8>, bool)> = Vec::new();
    for chunk in chunks {
        out.extend(framer.push(chunk).into_iter().map(|f| (f.bytes, f.partial)));
    }
    out.extend(framer.flush().map(|f| (f.bytes, f.partial)));
    out
}

fuzz_target!(|data: &[u8]| {
    let [pick, arg, step, stream @ ..] = data else {
        return;
    };
    let framing = match pick % 4 {
        0 => Framing::Delimiter {
            delimiter: vec![*arg, arg.wrapping_add(1)]
                .into_iter()
                .take(1 + usize::from(pick >> 7))
                .collect(),
            keep: pick & 4 != 0,
        },
        1 => Framing::FixedLength(1 + usize::from(*arg)),
        2 => Framing::LengthPrefix {
            prefix: LengthPrefix {
                width: LengthPrefix::WIDTHS[usize::from(*arg) % LengthPrefix::WIDTHS.len()],
                order: if pick & 8 != 0 {
                    ByteOrder::Little
                } else {
                    ByteOrder::Big
                },
                includes_header: pick & 16 != 0,
            },
            offset: usize::from(arg >> 6),
        },
        _ => Framing::IdleGap(1),
    };
    let whole = frames(&framing, &[stream]);
    let step = 1 + usize::from(*step);
    let chunks: Vec<&[u8]> = stream.chunks(step).collect();
    if !matches!(framing, Framing::IdleGap(_)) {
        assert_eq!(frames(&framing, &chunks), whole);
    }
});
