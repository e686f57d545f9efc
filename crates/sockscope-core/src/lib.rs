//! SockScope's core — a TCP/UDP network debugging assistant (网络调试助手) without a window.
//!
//! Layers, each depending only on those before it:
//! - [`i18n`]: every user-facing string in English and 简体中文, read by all the layers;
//! - [`codec`]: pure byte ↔ value functions (hex, escapes, text decoding, framing, checksums,
//!   payloads);
//! - [`rules`]: auto-reply rules — conditions, expressions, reply templates — compiled once
//!   and run per message;
//! - [`protocol`]: protocol specs (RON, interpreted at run time) that decode frames into named
//!   fields and encode fields into frames; the built-in protocols are specs of the same kind;
//! - [`engine`]: one I/O thread per session owning its sockets, timed and file sends;
//! - [`capture`]: what a session saw — the bounded log store, tables, counters, views, export;
//! - [`profile`]: a session's settings as a versioned RON file, loaded field by field;
//! - [`bench`]: the traffic generator (throughput, ping-pong, echo check) with latency
//!   percentiles, beside the sessions;
//! - [`session`]: one tab's live work without a window — the driver every front end uses.
//!
//! No egui, rfd or winit here: the window and the command line are in the `sockscope` crate.

pub mod bench;
pub mod capture;
pub mod codec;
pub mod engine;
pub mod expr;
pub mod hex;
pub mod i18n;
pub mod profile;
pub mod protocol;
pub mod rules;
pub mod session;
