//! Any bytes through every built-in protocol: no panic; every byte of the frame belongs to a
//! top-level field, in order (a frame that does not fit keeps its bytes in `undecoded`); the
//! values decoded make a frame again without panic; the protocol's framing cuts a stream the
//! same however it is read. The first byte picks the protocol, direction and read size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::framing::Framer;
use sockscope_core::protocol::{Dir, builtins};

fuzz_target!(|data: &[u8]| {
    let [pick, frame @ ..] = data else {
        return;
    };
    let all = builtins();
    let Some(protocol) = all.get(usize::from(*pick) % all.len().max(1)) else {
        return;
    };
    let dir = match pick >> 6 {
        1 => Dir::Request,
        2 => Dir::Response,
        _ => Dir::Unknown,
    };
    let decoded = protocol.decode(frame, dir);
    let mut at = 0;
    for field in decoded.fields.iter().filter(|f| !f.range.is_empty()) {
        assert_eq!(field.range.start, at, "{}", field.name);
        at = field.range.end;
    }
    assert_eq!(at, frame.len());
    let _ = protocol.summary(&decoded);
    let _ = protocol.json(&decoded);
    let _ = protocol.encode(&decoded.values(), dir);
    if let Some(framing) = protocol.framing() {
        let cut = |step: usize| {
            let mut framer = Framer::new(framing.clone());
            let mut out = Vec::new();
            for piece in frame.chunks(step) {
                out.extend(framer.push(piece));
            }
            out.extend(framer.flush());
            out
        };
        assert_eq!(cut(1 + usize::from(pick & 7)), cut(frame.len().max(1)));
    }
});
