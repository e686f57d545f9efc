//! What a tab knows and what happens when the user does something, in plain Rust (no egui), so
//! it is unit-tested without a window. The widgets in the other `gui` files only call this.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::capture::{Capture, Counters, LinkState, RecordKind};
use crate::codec::{TextEncoding, hex};
use crate::engine::{
    AddrError, Command, ConnId, Event, Mode, Notify, Session, SessionConfig, Target, parse_ip,
    parse_port,
};

/// The settings the user fills in. Saved at exit and restored at start (eframe persistence).
///
/// `#[serde(default)]` so a form saved by an older version, with fields missing, still loads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Form {
    /// TCP client, TCP server or UDP.
    pub mode: Mode,
    /// Local IP (server/UDP: where to listen; client: which interface to connect from).
    pub local_ip: String,
    /// Local port of a TCP client; 0 = the OS chooses.
    pub client_port: String,
    /// Port a TCP server listens on.
    pub server_port: String,
    /// Port a UDP socket binds; 0 = any.
    pub udp_port: String,
    /// Remote IP: the server to connect to, or the UDP default destination.
    pub remote_ip: String,
    /// Remote port.
    pub remote_port: String,
    /// Text encoding for display and sending.
    pub encoding: TextEncoding,
    /// Show received data as hex instead of text.
    pub rx_hex: bool,
    /// Show a time on each row.
    pub show_time: bool,
    /// Keep the newest row in view.
    pub auto_scroll: bool,
    /// The send box holds hex, not text.
    pub tx_hex: bool,
    /// What is in the send box.
    pub send_text: String,
    /// TCP server: Stop also closes every client (default: keep them).
    pub close_clients_on_stop: bool,
    /// TCP connect timeout, in seconds.
    pub connect_timeout_s: f32,
}

impl Default for Form {
    fn default() -> Self {
        Self {
            mode: Mode::TcpClient,
            local_ip: "0.0.0.0".into(),
            client_port: "0".into(),
            server_port: "8080".into(),
            udp_port: "8080".into(),
            remote_ip: "127.0.0.1".into(),
            remote_port: "8080".into(),
            encoding: TextEncoding::UTF_8,
            rx_hex: false,
            show_time: true,
            auto_scroll: true,
            tx_hex: false,
            send_text: String::new(),
            close_clients_on_stop: false,
            connect_timeout_s: 5.0,
        }
    }
}

impl Form {
    /// The local port field of the current mode.
    pub fn local_port_mut(&mut self) -> &mut String {
        match self.mode {
            Mode::TcpClient => &mut self.client_port,
            Mode::TcpServer => &mut self.server_port,
            Mode::Udp => &mut self.udp_port,
        }
    }

    /// The local port text of the current mode.
    pub fn local_port(&self) -> &str {
        match self.mode {
            Mode::TcpClient => &self.client_port,
            Mode::TcpServer => &self.server_port,
            Mode::Udp => &self.udp_port,
        }
    }

    /// Whether this mode needs a remote address to open.
    pub fn needs_remote(&self) -> bool {
        self.mode == Mode::TcpClient
    }

    fn local_addr(&self, errors: &mut FieldErrors) -> Option<SocketAddr> {
        let ip = if self.mode == Mode::TcpClient && self.local_ip.trim().is_empty() {
            Ok(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        } else {
            parse_ip(&self.local_ip)
        };
        let port = parse_port(self.local_port());
        errors.local_ip = ip.as_ref().err().map(ToString::to_string);
        errors.local_port = port.as_ref().err().map(ToString::to_string);
        Some(SocketAddr::new(ip.ok()?, port.ok()?))
    }

    /// The remote address, or the reasons it is not one.
    pub fn remote_addr(&self, errors: &mut FieldErrors) -> Option<SocketAddr> {
        let ip = parse_ip(&self.remote_ip);
        let port = parse_port(&self.remote_port).and_then(|p| {
            if p == 0 {
                Err(AddrError::PortNotNumber(
                    "0 (a remote port cannot be 0)".into(),
                ))
            } else {
                Ok(p)
            }
        });
        errors.remote_ip = ip.as_ref().err().map(ToString::to_string);
        errors.remote_port = port.as_ref().err().map(ToString::to_string);
        Some(SocketAddr::new(ip.ok()?, port.ok()?))
    }

    /// What to open, or the messages to show next to the bad fields.
    pub fn session_config(&self) -> Result<SessionConfig, FieldErrors> {
        let mut errors = FieldErrors::default();
        let local = self.local_addr(&mut errors);
        let remote = if self.needs_remote() {
            self.remote_addr(&mut errors)
        } else {
            None
        };
        let timeout = Duration::from_secs_f32(self.connect_timeout_s.clamp(0.1, 600.0));
        match (local, remote, errors.any()) {
            (Some(local), remote, false) => Ok(SessionConfig {
                mode: self.mode,
                local,
                remote,
                connect_timeout: timeout,
            }),
            _ => Err(errors),
        }
    }

    /// The exact bytes the send box means, or why there are none.
    pub fn payload(&self) -> Result<Vec<u8>, String> {
        let bytes = if self.tx_hex {
            hex::parse(&self.send_text).map_err(|e| format!("Hex: {e}"))?
        } else {
            self.encoding
                .encode(&self.send_text)
                .map_err(|e| e.to_string())?
        };
        if bytes.is_empty() {
            return Err("Nothing to send: the send box is empty".into());
        }
        Ok(bytes)
    }
}

/// Messages to show next to the fields of the form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// Local IP.
    pub local_ip: Option<String>,
    /// Local port.
    pub local_port: Option<String>,
    /// Remote IP.
    pub remote_ip: Option<String>,
    /// Remote port.
    pub remote_port: Option<String>,
}

impl FieldErrors {
    /// True if any field has a message.
    pub fn any(&self) -> bool {
        self.local_ip.is_some()
            || self.local_port.is_some()
            || self.remote_ip.is_some()
            || self.remote_port.is_some()
    }
}

/// Who a send goes to in server and UDP modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// TCP server: every client. UDP: the remote address of the form.
    #[default]
    Default,
    /// TCP server: one client.
    Client(ConnId),
    /// UDP: one peer seen.
    Peer(SocketAddr),
}

/// Everything the user can do to a tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UiAction {
    /// Connect / Listen / Open, or Disconnect / Stop / Close, as the state says.
    ToggleOpen,
    /// Send the send box to the current target.
    Send,
    /// Close one TCP client.
    DisconnectClient(ConnId),
    /// Choose who a send goes to.
    Select(Selection),
    /// Empty the log.
    ClearLog,
    /// Zero the RX/TX counters.
    ResetCounters,
    /// Change the text encoding (the log is decoded again).
    SetEncoding(TextEncoding),
}

/// One tab: its form, its session and what it captured.
pub struct Tab {
    /// The settings.
    pub form: Form,
    /// What the session saw.
    pub capture: Capture,
    /// Messages next to the form's fields.
    pub errors: FieldErrors,
    /// Why the last send did not go (shown under the send box).
    pub send_error: Option<String>,
    /// Send target in server/UDP mode.
    pub selection: Selection,
    session: Option<Session>,
    notify: Notify,
}

impl Tab {
    /// A tab with this form; `notify` is called from the I/O thread when events wait.
    pub fn new(form: Form, notify: Notify) -> Self {
        let mut capture = Capture::default();
        capture.log.set_encoding(form.encoding);
        capture.mode = form.mode;
        Self {
            form,
            capture,
            errors: FieldErrors::default(),
            send_error: None,
            selection: Selection::Default,
            session: None,
            notify,
        }
    }

    /// True while a session runs (connecting, connected, listening, bound or serving kept clients).
    pub fn is_open(&self) -> bool {
        self.session.is_some()
    }

    /// True while the form must not change: a session is running.
    pub fn form_locked(&self) -> bool {
        self.is_open()
    }

    /// The label of the open/close button for the current state.
    pub fn toggle_label(&self) -> &'static str {
        let listening = matches!(self.capture.link, LinkState::Listening(_));
        match (self.form.mode, self.is_open()) {
            (Mode::TcpClient, false) => "Connect",
            (Mode::TcpClient, true) => "Disconnect",
            (Mode::TcpServer, true) if listening => "Stop",
            (Mode::TcpServer, _) => "Listen",
            (Mode::Udp, false) => "Open",
            (Mode::Udp, true) => "Close",
        }
    }

    /// Whether Send can do anything now.
    pub fn can_send(&self) -> bool {
        match self.form.mode {
            Mode::TcpClient => matches!(self.capture.link, LinkState::Connected { .. }),
            Mode::TcpServer => !self.capture.clients.is_empty(),
            Mode::Udp => self.is_open(),
        }
    }

    /// Does what the user asked.
    pub fn apply(&mut self, action: UiAction) {
        match action {
            UiAction::ToggleOpen => self.toggle_open(),
            UiAction::Send => self.send(),
            UiAction::DisconnectClient(conn) => self.command(Command::Disconnect(conn)),
            UiAction::Select(selection) => self.selection = selection,
            UiAction::ClearLog => self.capture.log.clear(),
            UiAction::ResetCounters => self.capture.counters = Counters::default(),
            UiAction::SetEncoding(encoding) => {
                self.form.encoding = encoding;
                self.capture.log.set_encoding(encoding);
            }
        }
    }

    fn command(&mut self, command: Command) {
        if let Some(session) = &self.session {
            session.command(command);
        }
    }

    fn toggle_open(&mut self) {
        let listening = matches!(self.capture.link, LinkState::Listening(_));
        match (&self.session, self.form.mode) {
            (Some(session), Mode::TcpServer) if listening => {
                session.command(Command::StopListening {
                    close_clients: self.form.close_clients_on_stop,
                });
            }
            (Some(session), Mode::TcpServer) => match self.form.session_config() {
                // Kept clients are still served; listen again in the same session.
                Ok(config) => session.command(Command::Listen(config.local)),
                Err(errors) => self.errors = errors,
            },
            (Some(session), _) => session.command(Command::Stop),
            (None, _) => self.open(),
        }
    }

    fn open(&mut self) {
        let config = match self.form.session_config() {
            Ok(config) => config,
            Err(errors) => {
                self.errors = errors;
                return;
            }
        };
        self.errors = FieldErrors::default();
        self.capture.begin(config.mode);
        self.selection = Selection::Default;
        match Session::start(config, self.notify.clone()) {
            Ok(session) => self.session = Some(session),
            Err(e) => self
                .capture
                .apply(Event::Error(crate::engine::EngineError::Io {
                    context: "starting the session".into(),
                    source: e,
                })),
        }
    }

    fn send(&mut self) {
        self.send_error = None;
        let bytes = match self.form.payload() {
            Ok(bytes) => bytes,
            Err(message) => {
                self.send_error = Some(message);
                return;
            }
        };
        if !self.can_send() {
            self.send_error = Some(match self.form.mode {
                Mode::TcpClient => "Not connected: click Connect first".into(),
                Mode::TcpServer => "No client is connected".into(),
                Mode::Udp => "The UDP socket is not open: click Open first".into(),
            });
            return;
        }
        let to = match (self.form.mode, self.selection) {
            (Mode::TcpServer, Selection::Client(conn)) => Target::Conn(conn),
            (Mode::Udp, Selection::Peer(peer)) => Target::Addr(peer),
            (Mode::Udp, _) => {
                let mut errors = FieldErrors::default();
                let remote = self.form.remote_addr(&mut errors);
                self.errors.remote_ip = errors.remote_ip;
                self.errors.remote_port = errors.remote_port;
                match remote {
                    Some(peer) => Target::Addr(peer),
                    None => {
                        self.send_error = Some("Set a valid remote address, or pick a peer".into());
                        return;
                    }
                }
            }
            _ => Target::AllConns,
        };
        self.command(Command::Send { to, bytes });
    }

    /// Folds waiting engine events into the capture, for at most `budget` of time (so a flood
    /// cannot stall a frame). Returns true if events remain.
    pub fn pump(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        let mut stopped = false;
        while let Some(event) = self.session.as_ref().and_then(Session::try_event) {
            if matches!(event, Event::Stopped) {
                if let LinkState::Connecting(remote) = self.capture.link {
                    let now = std::time::SystemTime::now();
                    let text = format!("Connect to {remote} cancelled");
                    self.capture
                        .log
                        .push_message(now, RecordKind::Info, None, Some(remote), text);
                }
                stopped = true;
            }
            self.capture.apply(event);
            if stopped {
                break;
            }
            if start.elapsed() >= budget {
                return true;
            }
        }
        if stopped {
            self.session = None;
        }
        if let Selection::Client(conn) = self.selection
            && !self.capture.clients.contains_key(&conn)
        {
            self.selection = Selection::Default;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ip_and_port_give_messages_next_to_the_fields() {
        let form = Form {
            mode: Mode::TcpClient,
            remote_ip: "300.1.1.1".into(),
            remote_port: "70000".into(),
            ..Form::default()
        };
        let errors = form.session_config().unwrap_err();
        assert_eq!(
            errors.remote_ip.as_deref(),
            Some("300.1.1.1 is not an IP address: 300 is more than 255")
        );
        assert_eq!(
            errors.remote_port.as_deref(),
            Some("70000 is not a port: ports go from 0 to 65535")
        );
        assert!(errors.local_ip.is_none());
    }

    #[test]
    fn bad_hex_names_the_column_and_gives_no_bytes() {
        let form = Form {
            tx_hex: true,
            send_text: "0G".into(),
            ..Form::default()
        };
        let message = form.payload().unwrap_err();
        assert!(message.contains("column 2"), "{message}");
    }

    #[test]
    fn text_is_sent_in_the_chosen_encoding() {
        let form = Form {
            encoding: TextEncoding::GBK,
            send_text: "你好".into(),
            ..Form::default()
        };
        assert_eq!(form.payload().unwrap(), vec![0xC4, 0xE3, 0xBA, 0xC3]);
    }

    #[test]
    fn server_listens_on_the_server_port_and_needs_no_remote() {
        let form = Form {
            mode: Mode::TcpServer,
            server_port: "9000".into(),
            remote_ip: "nonsense".into(),
            ..Form::default()
        };
        let config = form.session_config().unwrap();
        assert_eq!(config.local, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.remote, None);
    }

    #[test]
    fn send_while_not_connected_says_so_and_sends_nothing() {
        let mut tab = Tab::new(
            Form {
                send_text: "hi".into(),
                ..Form::default()
            },
            std::sync::Arc::new(|| {}),
        );
        tab.apply(UiAction::Send);
        assert_eq!(
            tab.send_error.as_deref(),
            Some("Not connected: click Connect first")
        );
    }

    #[test]
    fn a_form_saved_by_an_older_version_still_loads() {
        let form: Form = ron::from_str("(mode: TcpServer, server_port: \"9000\")").unwrap();
        assert_eq!(form.mode, Mode::TcpServer);
        assert_eq!(form.server_port, "9000");
        assert_eq!(form.remote_ip, "127.0.0.1");
    }
}
