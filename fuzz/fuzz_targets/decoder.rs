//! The streaming decoder in every encoding: any bytes, cut anywhere, decode to the same text
//! as in one piece; and each piece decoded alone with its carry (what the log store does for
//! the rows on screen) shows exactly what the streaming decoder showed for it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::{CarryTracker, TextEncoding};

fuzz_target!(|data: &[u8]| {
    let [pick, step, bytes @ ..] = data else {
        return;
    };
    let encodings = TextEncoding::offered();
    let encoding = encodings[usize::from(*pick) % encodings.len()];
    let decode = |chunks: &[&[u8]]| {
        let mut decoder = encoding.decoder();
        let mut text = String::new();
        for chunk in chunks {
            decoder.decode(chunk, &mut text);
        }
        decoder.finish(&mut text);
        text
    };
    let whole = decode(&[bytes]);
    let chunks: Vec<&[u8]> = bytes.chunks(1 + usize::from(*step)).collect();
    assert_eq!(decode(&chunks), whole);

    let mut decoder = encoding.decoder();
    let mut tracker = CarryTracker::new(encoding);
    for chunk in &chunks {
        let mut streamed = String::new();
        decoder.decode(chunk, &mut streamed);
        let carry = tracker.push(chunk);
        assert_eq!(encoding.decode_piece(carry.as_bytes(), chunk), streamed);
    }
    let mut end = String::new();
    decoder.finish(&mut end);
    assert_eq!(encoding.decode_complete(tracker.carry().as_bytes()), end);
});
