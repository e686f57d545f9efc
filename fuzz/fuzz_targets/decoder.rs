//! The streaming decoder in every encoding: any bytes, cut anywhere, decode to the same text
//! as in one piece.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope::codec::TextEncoding;

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
});
