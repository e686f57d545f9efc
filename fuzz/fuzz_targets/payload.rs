//! The send box with variables, checksums and length prefixes: parse then render, never a
//! panic. The first byte picks the input mode and options; the rest is the text.
#![no_main]

use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::checksum::{ByteOrder, Checksum, ChecksumKind};
use sockscope_core::codec::length::LengthPrefix;
use sockscope_core::codec::payload::{InputMode, LineEnding, Payload, SendSpec, VarState};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mode = [InputMode::Text, InputMode::Hex, InputMode::Escapes][usize::from(pick % 3)];
    let kinds = ChecksumKind::COMPUTED;
    let kind = kinds[usize::from(pick >> 2) % kinds.len()].clone();
    let spec = SendSpec {
        mode,
        encoding: TextEncoding::offered()[usize::from(pick >> 4) % TextEncoding::offered().len()],
        line_ending: LineEnding::ALL[usize::from(pick >> 5) % LineEnding::ALL.len()],
        checksum: Checksum {
            kind,
            order: ByteOrder::Little,
            skip_head: usize::from(pick & 3),
            skip_tail: usize::from(pick >> 6),
        },
        length_prefix: (pick & 0x40 != 0).then_some(LengthPrefix {
            width: 1,
            order: ByteOrder::Big,
            includes_header: pick & 1 == 0,
        }),
    };
    if let Ok(payload) = Payload::parse(text, &spec) {
        let mut vars = VarState::new(i64::from(pick), -1);
        let _ = payload.render(&mut vars, SystemTime::now());
    }
});
