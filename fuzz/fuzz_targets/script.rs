//! Scripted conversations as saved in a profile: any text is read or refused; what is read
//! compiles or is refused with a sentence; a compiled run driven by messages, ticks, a close
//! and Stop (from the rest of the input) never panics and always ends.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::TextEncoding;
use sockscope_core::rules;
use sockscope_core::rules::script::{Run, Script};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0);
    let Some(Ok(text)) = parts.next().map(std::str::from_utf8) else {
        return;
    };
    let Ok(script) = rules::from_text::<Script>(text) else {
        return;
    };
    let Ok(mut run) = Run::compile(&script, TextEncoding::UTF_8) else {
        return;
    };
    let peer = SocketAddr::from(([127, 0, 0, 1], 4001));
    let mut now = Instant::now();
    let mut counter = 1;
    let mut out = Vec::new();
    run.start(now, &mut counter, 1, &mut out);
    for part in parts.take(32) {
        match part.first() {
            // A tick some milliseconds later.
            Some(&b) if b < 0x10 => {
                now += Duration::from_millis(u64::from(b) * 250);
                run.tick(now, &mut counter, 1, &mut out);
            }
            Some(0x10) => run.closed(now, false, &mut out),
            _ => run.message(part, peer, now, &mut counter, 1, &mut out),
        }
        out.clear();
    }
    run.stop(now, &mut out);
    assert!(run.done(), "Stop ends every run");
});
