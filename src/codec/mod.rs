//! Pure byte ↔ value functions: no I/O, no threads, no egui. Property tests live here.

pub mod hex;
pub mod text;

pub use hex::HexError;
pub use text::{EncodeError, StreamDecoder, TextEncoding};
