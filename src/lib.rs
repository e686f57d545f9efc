//! SockScope — a TCP/UDP network debugging assistant (网络调试助手).
//!
//! Layers, each depending only on those before it:
//! - [`codec`]: pure byte ↔ value functions (hex, escapes, text decoding, framing, checksums,
//!   payloads);
//! - [`engine`]: one I/O thread per session owning its sockets, timed and file sends;
//! - [`capture`]: what a session saw — the bounded log store, tables, counters, views, export;
//! - [`i18n`]: every user-facing string in English and 简体中文, read by all the layers;
//! - [`profile`]: a session's settings as a versioned RON file, loaded field by field;
//! - `gui` (feature `gui`): the egui window; what its actions do is in `gui::state`, egui-free.

pub mod capture;
pub mod codec;
pub mod engine;
#[cfg(feature = "gui")]
pub mod gui;
pub mod i18n;
pub mod profile;
