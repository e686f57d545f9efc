//! A WebSocket peer's bytes — the upgrade request (to our server) or answer (to our client),
//! then frames — cut anywhere: read or refused with a sentence, never a panic or a hang.
//! The first byte picks the side and how many cut lengths follow; then the cuts; the rest is
//! what the peer sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::engine::fuzzing::ws_peer_sends;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(pick >> 1).min(rest.len());
    let (cuts, bytes) = rest.split_at(n);
    let total = ws_peer_sends(pick & 1 == 1, bytes, cuts);
    assert!(total <= bytes.len(), "no message holds more than was sent");
});
