//! The rule editor's text and a profile's `automation` block: any text is read or refused
//! with a sentence, never a panic; what is read saves to text that reads back the same; its
//! rules compile (or are named as wrong) and answer messages cut from the rest of the input.
#![no_main]

use std::net::SocketAddr;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::TextEncoding;
use sockscope_core::rules::{self, Automation, Machine};

fuzz_target!(|data: &[u8]| {
    // The text, a NUL, then messages separated by NULs.
    let mut parts = data.split(|b| *b == 0);
    let Some(Ok(text)) = parts.next().map(std::str::from_utf8) else {
        return;
    };
    let Ok(automation) = rules::from_text::<Automation>(text) else {
        return;
    };
    let saved = rules::to_text(&automation, 0);
    let again: Automation = rules::from_text(&saved).expect("saved rules read back");
    assert_eq!(again, automation);
    let (mut machine, _wrong) = Machine::compile_valid(&automation, TextEncoding::UTF_8);
    let peer = SocketAddr::from(([127, 0, 0, 1], 4001));
    let mut counter = 1;
    for (step, message) in parts.take(16).enumerate() {
        let _ = machine.fire(
            message,
            peer,
            &mut counter,
            step as i64,
            SystemTime::UNIX_EPOCH,
        );
    }
});
