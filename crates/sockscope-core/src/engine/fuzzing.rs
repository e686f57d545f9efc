//! Entry points for the fuzz targets (`fuzz/`) into parsers that are private to the engine.
//! Built only with the `fuzzing` feature; nothing else uses them.

use std::collections::VecDeque;
use std::io::{self, Read, Write};

use super::link::ws::{Incoming, Ws};
use super::types::WsSettings;

/// A peer's bytes arriving in pieces: each read returns at most the next piece's length, and
/// `WouldBlock` once all arrived (as a non-blocking socket does).
struct Pieces<'a> {
    input: VecDeque<u8>,
    cuts: &'a [u8],
    output: Vec<u8>,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let (first, rest) = self.cuts.split_first().unwrap_or((&u8::MAX, &[]));
        self.cuts = rest;
        let n = buf
            .len()
            .min(self.input.len())
            .min(usize::from(*first).max(1));
        for (slot, byte) in buf.iter_mut().zip(self.input.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl Write for Pieces<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A WebSocket server (or, with `client`, a client) that is sent `bytes` in pieces of the
/// lengths `cuts` gives: the upgrade, then messages until the bytes run out or one is refused.
/// Returns the messages' total length; never panics.
pub fn ws_peer_sends(client: bool, bytes: &[u8], cuts: &[u8]) -> usize {
    let settings = WsSettings::default();
    let mut ws = if client {
        Ws::client(&settings, "127.0.0.1")
    } else {
        Ws::server(&settings)
    };
    let mut io = Pieces {
        input: bytes.iter().copied().collect(),
        cuts,
        output: Vec::new(),
    };
    let mut total = 0;
    // Each round takes at least one byte or ends: bounded by the input's length.
    for _ in 0..=bytes.len() {
        match ws.upgrade(&mut io) {
            Ok(true) => break,
            Ok(false) => continue,
            Err(_) => return total,
        }
    }
    for _ in 0..=bytes.len() {
        match ws.read(&mut io) {
            Ok(Some(Incoming::Message { bytes, .. })) => total += bytes.len(),
            Ok(Some(_)) => {}
            Ok(None) => continue,
            Err(_) => break,
        }
    }
    total
}
