//! What the owner tells a running engine.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::auto::{Pace, Reply, Schedule};
use super::{ConnId, Target};
use crate::codec::framing::Framing;
use crate::codec::payload::Payload;

/// User interface → engine.
#[derive(Debug)]
pub enum Command {
    /// Send bytes. They are queued if the socket cannot take them now.
    Send {
        /// Where to send.
        to: Target,
        /// The exact bytes to put on the wire.
        bytes: Vec<u8>,
    },
    /// Render a payload with the session's variables and send it. The variables (`{{counter}}`)
    /// advance only if there is someone to send to: a refused send uses up no value.
    SendPayload {
        /// Where to send.
        to: Target,
        /// The template.
        payload: Payload,
    },
    /// Close one TCP connection.
    Disconnect(ConnId),
    /// TCP server: stop accepting. Existing clients stay unless `close_clients`.
    StopListening {
        /// Also close every client.
        close_clients: bool,
    },
    /// TCP server: accept again on this address (after `StopListening`).
    Listen(SocketAddr),
    /// Split received streams differently from now on (what is held is handed over first).
    SetFraming(Framing),
    /// A relay: cut the upstream's stream with this framing (`None`: the session's).
    SetRepliesFraming(Option<Framing>),
    /// When a peer stops sending (a read returns 0: it shut down its sending side, or closed),
    /// keep the connection open for sending (`true`), or close it (`false`, the default).
    KeepHalfClosed(bool),
    /// TCP: finish sending to `to` (shut down our write side, as `nc -N` at the end of its
    /// input) once what is queued is written; what the peer sends still arrives, and the
    /// connection ends when the peer finishes too.
    FinishSending(Target),
    /// Start sending on a timer (cyclic send or a sequence), replacing any running one.
    StartSchedule(Schedule),
    /// Stop the timer.
    StopSchedule,
    /// Answer every received message by itself from now on (`None`: stop answering).
    SetReply(Option<Reply>),
    /// Answer received messages by these rules from now on (`None`: stop).
    SetRules(Option<Box<crate::rules::Machine>>),
    /// Runs a scripted conversation against `to` (replacing one that runs).
    RunScript {
        /// The run, compiled.
        run: Box<crate::rules::script::Run>,
        /// Where its sends go.
        to: Target,
    },
    /// Stops the running script (its current step fails).
    StopScript,
    /// The script the run was made from was edited: the run stops where it is, saying so.
    ScriptChanged,
    /// Runs the next step of a script started one step at a time.
    StepScript,
    /// Send a file in chunks, replacing any file being sent.
    SendFile {
        /// Where the chunks go.
        to: Target,
        /// The file.
        path: PathBuf,
        /// Bytes per chunk (per datagram for UDP).
        chunk: usize,
        /// How fast.
        pace: Pace,
    },
    /// Stop sending the file.
    CancelFile,
    /// TCP: say how much of what was written each connection's peer has not taken yet
    /// ([`super::Event::Unsent`]), where the OS tells.
    AskUnsent,
    /// WebSocket: a ping or a close to `to`.
    WebSocket {
        /// Which connections.
        to: Target,
        /// What.
        op: super::WsOp,
    },
    /// Relay: cut every pair now (as a pulled cable would: both sides closed).
    CutRelay,
    /// Relay: the impairments from now on (client → upstream, upstream → client).
    SetImpairments(super::Impairment, super::Impairment),
    /// UDP: join a multicast group.
    Join(super::Group),
    /// UDP: leave a multicast group.
    Leave(super::Group),
    /// UDP: multicast TTL / hop limit, loopback and sending interface from now on (the
    /// groups in it are not joined or left: [`Command::Join`] and [`Command::Leave`] do that).
    SetUdpOptions(super::UdpOptions),
    /// End the session: close everything and stop the thread.
    Stop,
}
