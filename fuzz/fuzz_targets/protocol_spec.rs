//! Any text as a protocol spec: it loads or says why (line, column, field), never panics; a
//! spec that loads decodes any bytes without panic and makes frames of what it decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::protocol::{Dir, Protocol};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let protocol = match Protocol::load(text) {
        Ok(p) => p,
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "{e}");
            return;
        }
    };
    // Decode the text's own bytes (they hold markers and digits the spec names).
    let frame = text.as_bytes().get(..256).unwrap_or(text.as_bytes());
    let decoded = protocol.decode(frame, Dir::Unknown);
    let _ = protocol.summary(&decoded);
    let _ = protocol.json(&decoded);
    let _ = protocol.encode(&decoded.values(), Dir::Unknown);
});
