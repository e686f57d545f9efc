//! Hex input: any text parses or gives an error with a column inside the text; what parses
//! formats back to hex that parses to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::hex;

fuzz_target!(|text: &str| {
    match hex::parse(text) {
        Ok(bytes) => assert_eq!(hex::parse(&hex::format(&bytes)).ok(), Some(bytes)),
        Err(e) => assert!(e.column <= text.chars().count() + 1, "{e:?} for {text:?}"),
    }
});
