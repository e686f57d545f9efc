//! SockScope — a TCP/UDP network debugging assistant (网络调试助手).
//!
//! Layers, each depending only on those below it (see ARCHITECTURE in the docs):
//! - [`codec`]: pure byte ↔ value functions (hex, text decoding);
//! - [`engine`]: one I/O thread per session owning its sockets;
//! - [`capture`]: the bounded log store the engine's events are written into;
//! - `gui` (feature `gui`): the egui window.

pub mod capture;
pub mod codec;
pub mod engine;
#[cfg(feature = "gui")]
pub mod gui;
