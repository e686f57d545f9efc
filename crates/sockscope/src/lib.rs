//! SockScope, the app: the egui window (`gui`, feature `gui`) and the command line (`cli`), both
//! on the core crate's session.
//!
//! The core's layers are re-exported under their own names, so `sockscope::engine` and
//! `sockscope_core::engine` are one module.

pub use sockscope_core::{capture, codec, engine, i18n, profile, rules, session};

pub mod cli;
#[cfg(feature = "gui")]
pub mod gui;
pub mod start;
