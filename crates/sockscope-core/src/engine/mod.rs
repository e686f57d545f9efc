//! The engine: sockets, threads and channels. It never imports egui; whoever owns a
//! [`Session`] drains its [`Event`]s and is told to look through a `notify` callback.

mod addr;
mod error;
mod inspect;
mod sender;
mod session;
mod sockets;
mod types;

pub use addr::{AddrError, local_addresses, parse_ip, parse_port};
pub use error::EngineError;
pub use inspect::{Inspection, Network, Scope, inspect};
pub use sender::{Pace, Schedule};
pub use session::{MAX_IN_FLIGHT, Notify, Session};
pub use types::{
    CloseReason, Command, ConnId, Data, DataKind, Direction, Event, Frames, Mode, SessionConfig,
    Target,
};
