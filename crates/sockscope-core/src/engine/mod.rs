//! The engine: sockets, threads and channels. It never imports egui. An [`Engine`] is one
//! session's I/O thread: its links (one per socket), its automation stage (cyclic, sequence and
//! file sends) and its outbox, which hands each poll round's events to a [`Sink`].

mod addr;
mod auto;
mod buffers;
mod command;
mod error;
pub mod firewall;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod handle;
mod inspect;
mod io;
mod link;
mod multicast;
mod outbox;
mod pktinfo;
mod relay;
mod sockets;
mod timer;
mod tls;
mod types;

/// What the load generator borrows to speak TLS and WebSocket as a session's TCP links do.
pub(crate) mod speak {
    pub(crate) use super::link::ws::{Incoming, Ws};
    pub(crate) use super::link::{PlainIo, push_tls, read_plain};
    pub(crate) use super::sockets::unsent;
    pub(crate) use super::tls::{Tls, TlsProblem, client, connection, failure};
}

pub use addr::{AddrError, local_addresses, parse_ip, parse_port};
pub use auto::{Pace, Reply, Schedule};
pub use buffers::{Buffers, keep_large_buffers_off_the_heap};
pub use command::Command;
pub use error::EngineError;
pub use handle::{ChannelSink, Engine, EventQueue, StartOptions, channel_sink};
pub use inspect::{Inspection, Network, Scope, inspect};
pub use link::WsOp;
pub use link::ws::{WsProblem, WsUpgrade};
pub use multicast::{Group, Interface, UdpOptions, interfaces};
pub use outbox::{MAX_IN_FLIGHT, Notify, Sink, Stamped, rx_len};
pub use relay::{Impairment, Knob, RelayConfig, RelayEnd};
pub use tls::{
    CertInfo, KeptCert, PinError, ServerCert, TlsFieldErrors, TlsInfo, TlsProblem, TlsSettings,
    Verify, fingerprint, fingerprint_of_file, parse_pin, pin_of, self_signed,
};
pub use types::{
    Caps, CloseReason, ConnId, Data, DataKind, Direction, Event, Frames, Mode, Reconnect,
    SessionConfig, SharedVars, Target, TlsSide, WsSettings, ws_code_name,
};
