//! What a tab knows and what happens when the user does something, in plain Rust (no egui), so
//! it is unit-tested without a window. The widgets in the other `gui` files only call this.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use super::i18n::{S, t, tf};
use crate::capture::{
    Capture, ExportFormat, Exporter, LinkState, Query, RecordFilter, RecordFormat, RecordKind,
    Search, StreamIndex, ViewIndex,
};
use crate::codec::TextEncoding;
use crate::codec::framing::Framing;
use crate::codec::payload::VarState;
use crate::engine::{
    Command, ConnId, EngineError, Event, Mode, Notify, Pace, Schedule, Session, Target,
};
pub use crate::profile::{FieldErrors, Form, QuickCommand};

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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Start sending the send box every `cyclic_ms`.
    StartCyclic,
    /// Run the quick commands in order, each followed by its delay.
    StartSequence,
    /// Stop the cyclic send or sequence.
    StopSchedule,
    /// Send a file (the path comes from the file dialog).
    SendFile(PathBuf),
    /// Stop the file send.
    CancelFile,
    /// Put history entry `n` back in the send box.
    RecallHistory(usize),
    /// Save the send box as a quick command with this name.
    AddQuick(String),
    /// Send quick command `n` now.
    RunQuick(usize),
    /// Replace quick command `n`.
    UpdateQuick(usize, QuickCommand),
    /// Delete quick command `n`.
    DeleteQuick(usize),
    /// Start `{{counter}}` again from the form's start value.
    ResetCounter,
    /// Use the framing the Receive group describes from now on.
    ApplyFraming,
    /// Pause the display (receiving goes on), or resume it.
    TogglePause,
    /// Show only this peer's records, or everyone's.
    FilterPeer(Option<SocketAddr>),
    /// Open or close the search bar (Ctrl+F).
    ToggleSearch,
    /// Look for the search text again (it changed).
    Search,
    /// Go to the next (true) or previous (false) match.
    NextMatch(bool),
    /// Select a record for the detail view, or none.
    SelectRecord(Option<u64>),
    /// Save the log to a file.
    Export(ExportFormat, PathBuf),
    /// Stop the export under way.
    CancelExport,
    /// Record every received byte to a file from now on.
    StartRecording(RecordFormat, PathBuf),
    /// Stop recording.
    StopRecording,
}

/// How long a frame may spend searching or exporting the log before it draws (the rest goes on
/// with the next frame).
const WORK_SLICE: Duration = Duration::from_millis(8);

/// An export under way: the exporter and where it writes.
pub struct ExportJob {
    /// Writes the log a slice at a time.
    pub exporter: Exporter<std::io::BufWriter<std::fs::File>>,
    /// The file.
    pub path: PathBuf,
}

/// What the log view shows and where it is: filter, pause, search, selection. No egui here.
#[derive(Default)]
pub struct ViewState {
    /// Which records are shown.
    pub filter: RecordFilter,
    /// The frames (or reads) shown.
    pub index: ViewIndex,
    /// The raw reads shown beside frames.
    pub raw_index: ViewIndex,
    /// Rows of the continuous-stream view.
    pub stream: StreamIndex,
    /// The record in the detail view.
    pub selected: Option<u64>,
    /// The search bar is open.
    pub search_open: bool,
    /// The search field should take the keyboard (the bar just opened).
    pub focus_search: bool,
    /// What is searched for.
    pub search_text: String,
    /// The search text is hex.
    pub search_hex: bool,
    /// Why the search text is not a query.
    pub search_error: Option<String>,
    /// Records matching the search, in order (growing while `searching`).
    pub matches: Vec<u64>,
    /// The search under way: a slice of the log per frame.
    pub searching: Option<Search>,
    /// Scroll so this record is in view (set by search and selection; the view clears it).
    pub scroll_to: Option<u64>,
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
    /// `{{counter}}` and the random source.
    pub vars: VarState,
    /// The log view's filter, pause, search and selection.
    pub view: ViewState,
    /// The export under way, a slice per frame.
    pub exporting: Option<ExportJob>,
    session: Option<Session>,
    notify: Notify,
}

impl Tab {
    /// A tab with this form; `notify` is called from the I/O thread when events wait.
    pub fn new(form: Form, notify: Notify) -> Self {
        let mut capture = Capture::default();
        capture.log.set_encoding(form.encoding);
        capture.raw.set_encoding(form.encoding);
        // Raw reads are only a view beside the frames (and the recording has every byte):
        // a quarter of the log's cap is plenty.
        capture.raw.set_cap(crate::capture::DEFAULT_CAP / 4);
        capture.mode = form.mode;
        capture.keep_raw = form.show_raw;
        let vars = VarState::new(form.counter_start, form.counter_step);
        Self {
            form,
            capture,
            errors: FieldErrors::default(),
            send_error: None,
            selection: Selection::Default,
            vars,
            view: ViewState::default(),
            exporting: None,
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
    pub fn toggle_label(&self) -> S {
        let listening = matches!(self.capture.link, LinkState::Listening(_));
        match (self.form.mode, self.is_open()) {
            (Mode::TcpClient, false) => S::Connect,
            (Mode::TcpClient, true) => S::Disconnect,
            (Mode::TcpServer, true) if listening => S::Stop,
            (Mode::TcpServer, _) => S::Listen,
            (Mode::Udp, false) => S::Open,
            (Mode::Udp, true) => S::Close,
        }
    }

    /// Whether there is someone to send to now.
    pub fn can_send(&self) -> bool {
        match self.form.mode {
            Mode::TcpClient => matches!(self.capture.link, LinkState::Connected { .. }),
            Mode::TcpServer => !self.capture.clients.is_empty(),
            Mode::Udp => self.is_open(),
        }
    }

    /// Whether the Send button works: someone to send to and a valid send box.
    pub fn send_enabled(&self) -> bool {
        self.can_send() && self.form.payload().is_ok()
    }

    /// Does what the user asked.
    pub fn apply(&mut self, action: UiAction) {
        match action {
            UiAction::ToggleOpen => self.toggle_open(),
            UiAction::Send => self.send(),
            UiAction::DisconnectClient(conn) => self.command(Command::Disconnect(conn)),
            UiAction::Select(selection) => self.selection = selection,
            UiAction::ClearLog => {
                self.capture.log.clear();
                self.capture.raw.clear();
            }
            UiAction::ResetCounters => self.capture.reset_counters(),
            UiAction::SetEncoding(encoding) => {
                self.form.encoding = encoding;
                self.capture.log.set_encoding(encoding);
                self.capture.raw.set_encoding(encoding);
            }
            UiAction::StartCyclic => self.start_cyclic(),
            UiAction::StartSequence => self.start_sequence(),
            UiAction::StopSchedule => self.command(Command::StopSchedule),
            UiAction::SendFile(path) => self.send_file(path),
            UiAction::CancelFile => self.command(Command::CancelFile),
            UiAction::RecallHistory(n) => {
                if let Some(entry) = self.form.history.get(n).cloned() {
                    self.form.recall(&entry);
                }
            }
            UiAction::AddQuick(name) => {
                let command = self.form.as_command(name);
                self.form.quick.push(command);
            }
            UiAction::RunQuick(n) => self.run_quick(n),
            UiAction::UpdateQuick(n, command) => {
                if let Some(slot) = self.form.quick.get_mut(n) {
                    *slot = command;
                }
            }
            UiAction::DeleteQuick(n) => {
                if n < self.form.quick.len() {
                    self.form.quick.remove(n);
                }
            }
            UiAction::ApplyFraming => {
                if let Ok(framing) = self.form.framing() {
                    self.capture.framing_on = framing != Framing::None;
                    self.command(Command::SetFraming(framing));
                }
            }
            UiAction::TogglePause => {
                let index = &mut self.view.index;
                index.paused_at = match index.paused_at {
                    Some(_) => None,
                    None => Some(self.capture.log.next_seq()),
                };
                self.view.raw_index.paused_at = None;
            }
            UiAction::FilterPeer(peer) => self.view.filter.peer = peer,
            UiAction::ToggleSearch => {
                self.view.search_open = !self.view.search_open;
                self.view.focus_search = self.view.search_open;
            }
            UiAction::Search => self.search(),
            UiAction::NextMatch(forward) => self.next_match(forward),
            UiAction::SelectRecord(seq) => self.view.selected = seq,
            UiAction::Export(format, path) => self.export(format, path),
            UiAction::CancelExport => self.cancel_export(),
            UiAction::StartRecording(format, path) => {
                let shown = path.display().to_string();
                let now = SystemTime::now();
                match self.capture.start_recording(path, format) {
                    Ok(()) => {
                        let text = tf(S::Recording, &[&shown]);
                        self.capture
                            .log
                            .push_message(now, RecordKind::Info, None, None, &text);
                    }
                    Err(e) => {
                        let text = tf(S::RecordFailed, &[&shown, &e]);
                        self.capture
                            .log
                            .push_message(now, RecordKind::Error, None, None, &text);
                    }
                }
            }
            UiAction::StopRecording => {
                self.capture.stop_recording();
            }
            UiAction::ResetCounter => {
                self.vars = VarState::new(self.form.counter_start, self.form.counter_step);
            }
        }
    }

    /// Brings the view's indexes up to date with the log (only the new records are looked at).
    pub fn refresh_view(&mut self) {
        self.capture.keep_raw = self.form.show_raw;
        let view = &mut self.view;
        view.index.update(&self.capture.log, &view.filter);
        view.raw_index.update(&self.capture.raw, &view.filter);
        // The stream view freezes while paused (its rows would otherwise keep growing).
        if self.form.stream_view && view.index.paused_at.is_none() {
            view.stream.update(&self.capture.log, &view.filter);
        }
        self.continue_search();
    }

    /// Work that goes on whether or not the tab is shown: the next slice of an export.
    /// Returns true while there is more (the caller asks for another frame).
    pub fn background_work(&mut self) -> bool {
        self.continue_export();
        self.exporting.is_some()
    }

    /// Starts saving the log to `path`; the first slice is written now, the rest with the
    /// next frames.
    fn export(&mut self, format: ExportFormat, path: PathBuf) {
        let capture = &self.capture;
        let started = std::fs::File::create(&path).and_then(|file| {
            let out = std::io::BufWriter::new(file);
            let locals = capture.locals.clone();
            Exporter::new(&capture.log, format, locals, capture.udp_local, out)
        });
        match started {
            Ok(exporter) => {
                self.exporting = Some(ExportJob { exporter, path });
                self.continue_export();
            }
            Err(e) => self.export_failed(&path, &e),
        }
    }

    /// Writes the next slice of the export (a few milliseconds' worth); says in the log how
    /// it ended.
    fn continue_export(&mut self) {
        let Some(job) = &mut self.exporting else {
            return;
        };
        let deadline = Instant::now() + WORK_SLICE;
        let mut result = Ok(false);
        while matches!(result, Ok(false)) && Instant::now() < deadline {
            result = job.exporter.step(&self.capture.log, 1024);
        }
        match result {
            Ok(false) => {}
            Ok(true) => {
                let (written, missed) = job.exporter.counts();
                let mut text = tf(S::SavedRecords, &[&written, &job.path.display()]);
                if missed > 0 {
                    text.push_str("; ");
                    text.push_str(&tf(S::ExportMissed, &[&missed]));
                }
                self.exporting = None;
                let now = SystemTime::now();
                self.capture
                    .log
                    .push_message(now, RecordKind::Info, None, None, &text);
            }
            Err(e) => {
                let path = job.path.clone();
                self.exporting = None;
                self.export_failed(&path, &e);
            }
        }
    }

    /// Stops the export; what is written stays in the file.
    fn cancel_export(&mut self) {
        if let Some(job) = self.exporting.take() {
            let (written, _) = job.exporter.counts();
            let text = tf(S::ExportStopped, &[&job.path.display(), &written]);
            let now = SystemTime::now();
            self.capture
                .log
                .push_message(now, RecordKind::Info, None, None, &text);
        }
    }

    fn export_failed(&mut self, path: &std::path::Path, e: &std::io::Error) {
        let text = tf(S::SaveFailed, &[&path.display(), e]);
        self.capture
            .log
            .push_message(SystemTime::now(), RecordKind::Error, None, None, &text);
    }

    fn search(&mut self) {
        let view = &mut self.view;
        view.matches.clear();
        view.search_error = None;
        view.searching = None;
        view.selected = None;
        match Query::parse(&view.search_text, view.search_hex) {
            Ok(Some(query)) => {
                view.searching = Some(Search::new(&query, &view.index));
                self.continue_search();
            }
            Ok(None) => {}
            Err(message) => view.search_error = Some(message),
        }
    }

    /// Searches the next slice of the log (a few milliseconds' worth); the first match found
    /// is selected and scrolled to.
    fn continue_search(&mut self) {
        let view = &mut self.view;
        let Some(search) = &mut view.searching else {
            return;
        };
        let log = &self.capture.log;
        let deadline = Instant::now() + WORK_SLICE;
        let had_one = !view.matches.is_empty();
        let mut done = false;
        while !done && Instant::now() < deadline {
            done = search.step(&view.index, log, 4096, &mut view.matches);
        }
        // Matches the cap has evicted since are gone from the log.
        if let Some(first) = log.first_seq() {
            let gone = view.matches.partition_point(|m| *m < first);
            view.matches.drain(..gone);
        }
        if !had_one && let Some(&first) = view.matches.first() {
            view.selected = Some(first);
            view.scroll_to = Some(first);
        }
        if done {
            view.searching = None;
        }
    }

    fn next_match(&mut self, forward: bool) {
        let view = &mut self.view;
        if view.matches.is_empty() {
            return;
        }
        let current = view
            .selected
            .and_then(|s| view.matches.iter().position(|m| *m == s));
        let n = view.matches.len();
        let next = match (current, forward) {
            (Some(i), true) => (i + 1) % n,
            (Some(i), false) => (i + n - 1) % n,
            (None, true) => 0,
            (None, false) => n - 1,
        };
        view.selected = view.matches.get(next).copied();
        view.scroll_to = view.selected;
    }

    /// "3 of 12" for the search bar.
    pub fn match_position(&self) -> Option<(usize, usize)> {
        let view = &self.view;
        let at = view
            .selected
            .and_then(|s| view.matches.iter().position(|m| *m == s))?;
        Some((at + 1, view.matches.len()))
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
        self.capture.framing_on = config.framing != Framing::None;
        self.selection = Selection::Default;
        match Session::start(config, self.notify.clone()) {
            Ok(session) => {
                if self.form.keep_half_closed && self.form.mode != Mode::Udp {
                    session.command(Command::KeepHalfClosed(true));
                }
                self.session = Some(session);
            }
            Err(e) => self.capture.apply(Event::Error(EngineError::Io {
                context: S::StartingSession,
                subject: String::new(),
                source: e,
            })),
        }
    }

    /// Where a send goes now, or why nowhere (the message is shown under the send box).
    fn target(&mut self) -> Result<Target, String> {
        if !self.can_send() {
            return Err(match self.form.mode {
                Mode::TcpClient => t(S::NotConnectedClient).into(),
                Mode::TcpServer => t(S::NoClientConnected).into(),
                Mode::Udp => t(S::UdpNotOpen).into(),
            });
        }
        Ok(match (self.form.mode, self.selection) {
            (Mode::TcpServer, Selection::Client(conn)) => Target::Conn(conn),
            (Mode::Udp, Selection::Peer(peer)) => Target::Addr(peer),
            (Mode::Udp, _) => {
                let mut errors = FieldErrors::default();
                let remote = self.form.remote_addr(&mut errors);
                self.errors.remote_ip = errors.remote_ip;
                self.errors.remote_port = errors.remote_port;
                Target::Addr(remote.ok_or(t(S::SetRemoteOrPeer))?)
            }
            _ => Target::AllConns,
        })
    }

    fn send(&mut self) {
        let command = self.form.as_command(String::new());
        if self.send_command(&command) {
            self.form.remember(command);
            if self.form.clear_after_send {
                self.form.send_text.clear();
            }
        }
    }

    fn run_quick(&mut self, n: usize) {
        if let Some(command) = self.form.quick.get(n).cloned() {
            self.send_command(&command);
        }
    }

    /// Sends one payload now; true if it went to the engine.
    fn send_command(&mut self, command: &QuickCommand) -> bool {
        self.send_error = None;
        let result = command
            .payload()
            .and_then(|p| p.render(&mut self.vars, SystemTime::now()))
            .map_err(|e| e.to_string())
            .and_then(|bytes| Ok((self.target()?, bytes)));
        match result {
            Ok((to, bytes)) => {
                self.command(Command::Send { to, bytes });
                true
            }
            Err(message) => {
                self.send_error = Some(message);
                false
            }
        }
    }

    fn start_cyclic(&mut self) {
        self.send_error = None;
        let interval = Duration::from_millis(self.form.cyclic_ms.max(1));
        let count = (self.form.cyclic_count > 0).then_some(self.form.cyclic_count);
        match self
            .form
            .payload()
            .map_err(|e| e.to_string())
            .and_then(|p| Ok((self.target()?, p)))
        {
            Ok((to, payload)) => {
                let vars = self.vars.clone();
                self.command(Command::StartSchedule(Schedule::cyclic(
                    to, payload, vars, interval, count,
                )));
            }
            Err(message) => self.send_error = Some(message),
        }
    }

    fn start_sequence(&mut self) {
        self.send_error = None;
        let mut steps = Vec::new();
        for command in &self.form.quick {
            match command.payload() {
                Ok(payload) => steps.push((payload, Duration::from_millis(command.delay_ms))),
                Err(e) => {
                    self.send_error = Some(tf(S::QuickCommandError, &[&command.name, &e]));
                    return;
                }
            }
        }
        if steps.is_empty() {
            self.send_error = Some(t(S::SequenceEmpty).into());
            return;
        }
        match self.target() {
            Ok(to) => {
                let vars = self.vars.clone();
                let schedule = Schedule::sequence(to, steps, vars, self.form.sequence_repeat);
                self.command(Command::StartSchedule(schedule));
            }
            Err(message) => self.send_error = Some(message),
        }
    }

    fn send_file(&mut self, path: PathBuf) {
        self.send_error = None;
        let pace = match (self.form.file_delay_ms, self.form.file_rate_kib) {
            (0, 0) => Pace::Unlimited,
            (0, kib) => Pace::BytesPerSec(kib * 1024),
            (ms, _) => Pace::DelayPerChunk(Duration::from_millis(ms)),
        };
        let chunk = self.form.file_chunk.clamp(1, 1 << 20);
        match self.target() {
            Ok(to) => self.command(Command::SendFile {
                to,
                path,
                chunk,
                pace,
            }),
            Err(message) => self.send_error = Some(message),
        }
    }

    /// Folds waiting engine events into the capture, for at most `budget` of time (so a flood
    /// cannot stall a frame). Returns true if events remain.
    pub fn pump(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        let mut stopped = false;
        while let Some((at, event)) = self.session.as_ref().and_then(Session::try_event_at) {
            if matches!(event, Event::Stopped) {
                if let LinkState::Connecting(remote) = self.capture.link {
                    let text = tf(S::ConnectCancelled, &[&remote]);
                    self.capture
                        .log
                        .push_message(at, RecordKind::Info, None, Some(remote), &text);
                }
                stopped = true;
            }
            self.capture.apply_at(at, event);
            if stopped {
                break;
            }
            if start.elapsed() >= budget {
                return true;
            }
        }
        if let Some(recorder) = &mut self.capture.recorder
            && let Err(e) = recorder.flush()
        {
            let text = tf(S::RecordingStopped, &[&recorder.path.display(), &e]);
            self.capture.recorder = None;
            self.capture
                .log
                .push_message(SystemTime::now(), RecordKind::Error, None, None, &text);
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
            tx_mode: crate::codec::payload::InputMode::Hex,
            send_text: "0G".into(),
            ..Form::default()
        };
        let message = form.payload().unwrap_err();
        let message = message.to_string();
        assert!(message.contains("column 2"), "{message}");
    }

    #[test]
    fn every_bad_send_box_is_a_message_and_nothing_is_sent() {
        use crate::codec::payload::InputMode::{Escapes, Hex, Text};
        let cases = [
            (Hex, "01 0G", "column 5"),
            (Hex, "ABC", "odd number of hex digits"),
            (Escapes, "AT\\q", "is not an escape"),
            (Escapes, "\\x4", "needs two hex digits"),
            (Escapes, "end\\", "lone"),
            (Text, "{{nope}}", "unknown variable"),
            (Text, "{{counter", "no closing"),
            (Text, "{{random:9:1}}", "unknown variable"),
            (Text, "", "Nothing to send"),
        ];
        for (mode, text, expected) in cases {
            let mut tab = tab(Form {
                tx_mode: mode,
                send_text: text.into(),
                ..Form::default()
            });
            tab.apply(UiAction::Send);
            let message = tab.send_error.clone().unwrap_or_default();
            assert!(message.contains(expected), "{text:?}: {message:?}");
            assert!(tab.form.history.is_empty(), "{text:?} was not sent");
            assert_eq!(tab.capture.counters.tx_bytes, 0);
        }
        // A character the encoding cannot write.
        let mut tab = tab(Form {
            encoding: TextEncoding::for_label("windows-1252").unwrap(),
            send_text: "温度".into(),
            ..Form::default()
        });
        tab.apply(UiAction::Send);
        let message = tab.send_error.clone().unwrap_or_default();
        assert!(message.contains("cannot be written"), "{message}");
        assert!(tab.form.history.is_empty());
    }

    #[test]
    fn text_is_sent_in_the_chosen_encoding() {
        let form = Form {
            encoding: TextEncoding::GBK,
            send_text: "你好".into(),
            ..Form::default()
        };
        assert_eq!(
            form.preview(&VarState::new(0, 1)).unwrap(),
            vec![0xC4, 0xE3, 0xBA, 0xC3]
        );
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

    fn tab(form: Form) -> Tab {
        Tab::new(form, std::sync::Arc::new(|| {}))
    }

    #[test]
    fn quick_commands_are_added_from_the_box_edited_and_deleted() {
        let mut tab = tab(Form {
            send_text: "AT+RST".into(),
            ..Form::default()
        });
        tab.apply(UiAction::AddQuick("reset".into()));
        assert_eq!(tab.form.quick[0].text, "AT+RST");
        let mut edited = tab.form.quick[0].clone();
        edited.name = "重启".into();
        tab.apply(UiAction::UpdateQuick(0, edited));
        assert_eq!(tab.form.quick[0].name, "重启");
        tab.apply(UiAction::DeleteQuick(0));
        tab.apply(UiAction::DeleteQuick(5));
        assert!(tab.form.quick.is_empty());
    }

    #[test]
    fn history_keeps_the_newest_first_without_repeats_and_recalls_options() {
        let mut form = Form::default();
        for text in ["a", "b", "a"] {
            form.send_text = text.into();
            let entry = form.as_command(String::new());
            form.remember(entry);
        }
        let texts: Vec<&str> = form.history.iter().map(|h| h.text.as_str()).collect();
        assert_eq!(texts, ["a", "b"]);
        let mut tab = tab(form);
        tab.form.send_text.clear();
        tab.apply(UiAction::RecallHistory(1));
        assert_eq!(tab.form.send_text, "b");
    }

    #[test]
    fn a_bad_delimiter_is_a_message_and_framing_stays_off() {
        let form = Form {
            frame_mode: crate::profile::FrameMode::Delimiter,
            frame_delimiter: "7G".into(),
            frame_delimiter_hex: true,
            ..Form::default()
        };
        assert_eq!(
            form.framing().unwrap_err(),
            "Delimiter: 'G' at column 2 is not a hex digit"
        );
        assert_eq!(form.session_config().unwrap().framing, Framing::None);
    }

    #[test]
    fn pause_marks_where_the_display_stops() {
        let mut tab = tab(Form::default());
        let peer = "127.0.0.1:1".parse().unwrap();
        tab.capture.log.push_data(
            SystemTime::now(),
            crate::engine::Direction::Rx,
            None,
            peer,
            b"x",
        );
        tab.apply(UiAction::TogglePause);
        assert_eq!(tab.view.index.paused_at, Some(1));
        tab.apply(UiAction::TogglePause);
        assert_eq!(tab.view.index.paused_at, None);
    }
}
