//! Text with escapes, in every encoding offered: never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::{TextEncoding, escape};

fuzz_target!(|text: &str| {
    for encoding in TextEncoding::offered() {
        let _ = escape::parse(text, *encoding);
    }
});
