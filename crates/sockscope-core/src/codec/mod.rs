//! Pure byte ↔ value functions: no I/O, no threads, no egui. Property tests live here.

pub mod checksum;
pub mod convert;
pub mod cut;
pub mod escape;
pub mod expect;
pub mod framing;
/// Hex text (a leaf below the expression language, which codec's payloads use).
pub use crate::hex;
pub mod length;
pub mod payload;
#[cfg(test)]
mod test_util;
pub mod text;

pub use hex::HexError;
pub use text::{Carry, CarryTracker, EncodeError, StreamDecoder, TextEncoding};
