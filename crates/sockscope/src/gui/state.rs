//! What a tab knows and what happens when the user does something, in plain Rust (no egui), so
//! it is unit-tested without a window. The widgets in the other `gui` files only call this.
//!
//! A [`Tab`] is a form, a core [`Session`] and the view's state. For a frame the widgets get a
//! [`TabUi`]: the same parts, with the session's capture locked once for the whole frame
//! (the I/O thread folds what arrives meanwhile in as soon as the frame releases it).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, MutexGuard};
use std::time::{Duration, Instant};

use super::i18n::{S, t, tf};
pub use super::model::PemField;
use crate::capture::{
    Capture, ExportFormat, LinkState, Note, Query, RecordFilter, RecordFormat, RecordKind, Search,
    StreamIndex, ViewIndex,
};
use crate::codec::TextEncoding;
use crate::codec::convert::Unconverted;
use crate::codec::framing::Framing;
use crate::codec::payload::{InputMode, Payload, PayloadError, SendSpec, VarState};
use crate::engine::{Command, ConnId, Mode, Notify};
pub use crate::profile::{ComposeFields, FieldErrors, Form, QuickCommand};
use sockscope_core::protocol::Protocol;
pub use sockscope_core::session::{Selection, Session};

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
    /// Put back what the last reset zeroed (offered for [`UNDO_RESET_FOR`]).
    UndoReset,
    /// Change the text encoding (the log is decoded again).
    SetEncoding(TextEncoding),
    /// Switch the send box to another input mode, converting what is in it.
    SetTxMode(InputMode),
    /// Switch the send box's mode without converting it (after a refused conversion: the
    /// characters were typed for the new mode).
    ForceTxMode(InputMode),
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
    /// Follow the newest rows again (End, or the Follow button after a row was picked).
    Follow,
    /// Show only the messages the Show-by-field expression holds for (it changed).
    ShowFields,
    /// Show a decoded field (its path) as a column of the log, or stop showing it.
    ToggleColumn(String),
    /// Export the selected message's kind to this file, a column per field.
    ExportFields(PathBuf),
    /// Save the log to a file.
    Export(ExportFormat, PathBuf),
    /// Stop the export under way.
    CancelExport,
    /// Record every received byte to a file from now on.
    StartRecording(RecordFormat, PathBuf),
    /// Stop recording.
    StopRecording,
    /// Ask the user for a file (the window's dialogs answer with Export, SendFile …).
    AskFile(super::model::FileRequest),
    /// The rules changed: a running session answers by them from now on.
    ApplyRules,
    /// What else the Rules and Scripts windows ask for.
    Rules(super::model::RulesAction),
    /// Open the Rules window.
    ShowRules,
    /// Open the Scripts window.
    ShowScripts,
    /// Open or close the Compose window.
    ShowCompose,
    /// Send a frame made in the Compose window, as the send box sends (history, log,
    /// counters).
    SendComposed(QuickCommand),
    /// Keep a frame made in the Compose window as a quick command.
    KeepQuick(QuickCommand),
    /// Put a frame composed from quick command `n` back in it, named as given (its delay
    /// stays).
    RecomposeQuick(usize, QuickCommand),
    /// Show or hide the rate chart above the log.
    ToggleChart,
    /// UDP: join a multicast group now (when open) and at every Open.
    JoinGroup(crate::engine::Group),
    /// UDP: leave a group (when open) and no longer join it at Open.
    LeaveGroup(crate::engine::Group),
    /// UDP: the multicast TTL, loopback or sending interface changed.
    SetUdpOptions,
    /// A TLS file was picked.
    SetPem(PemField, PathBuf),
    /// Decode with this protocol (a built-in's name or a spec file's path); true: what a
    /// relay's upstream sends.
    SetProtocol(String, bool),
    /// Relay: the impairments changed.
    SetImpairments,
    /// Relay: cut every pair now.
    CutRelay,
    /// WebSocket: ping the peer(s) the send goes to.
    WsPing,
    /// WebSocket: close (1000, normal) the connection(s) the send goes to.
    WsClose,
    /// What the Plot window asks for.
    Plot(super::model::PlotAction),
}

/// How long a frame may spend searching the log before it draws (the rest goes on with the
/// next frame).
const WORK_SLICE: Duration = Duration::from_millis(8);

/// What the log view shows and where it is: filter, pause, search, selection. No egui here.
#[derive(Default)]
pub struct ViewState {
    /// The Rules and Scripts windows.
    pub automation: super::model::AutomationView,
    /// The rate chart is shown above the log.
    pub chart_open: bool,
    /// Whose rate the chart shows: a TCP client's, or the session's (`None`).
    pub chart_of: Option<crate::engine::ConnId>,
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
    /// Whether the list follows its newest rows.
    pub follow: super::model::Follow,
    /// The same for the raw reads beside frames.
    pub follow_raw: super::model::Follow,
    /// The oldest record shown when the display was paused (to tell when the cap took it).
    pub paused_oldest: Option<u64>,
    /// Show by field: what is typed (`f.msg_id == 0x0200`).
    pub show_text: String,
    /// Why `show_text` cannot filter.
    pub show_error: Option<String>,
    /// The rows `show_text` keeps, while it filters.
    pub show_fields: Option<super::show_fields::FieldRows>,
    /// The filter has not looked at every record yet.
    pub show_busy: bool,
    /// An export by field under way.
    pub field_export: Option<super::field_export::FieldExport>,
    /// The protocols Show by field and Find were last started with (a change, such as a
    /// spec file fixed on disk, starts them again).
    pub show_with: Vec<Arc<Protocol>>,
    /// The same for Find.
    pub search_with: Vec<Arc<Protocol>>,
    /// The Plot window and the plotted fields' series.
    pub plot: super::model::PlotView,
    /// The Compose window is open.
    pub compose_open: bool,
}

/// A message under the send box — why a send did not go, or what a mode switch did — and
/// what it was about: it goes when that changes (the box edited, someone to send to now).
pub struct SendNote {
    /// The message.
    pub note: Note,
    /// It is an error (else a remark).
    pub error: bool,
    /// Whether there was someone to send to, and the box, when it was said.
    about: (bool, String, InputMode),
    /// A refused conversion to this mode: the user may switch anyway, keeping the characters.
    pub switch_anyway: Option<InputMode>,
    /// About `{{f.NAME}}` (no protocol, no frame): the protocol, the log's next record and
    /// the picked row when said; it goes when a frame comes, a row is picked or the protocol
    /// changes (the preview then says where the values come from).
    frame: Option<(String, u64, Option<u64>)>,
}

/// The frame a send's `{{f.NAME}}` took their values from: when it came and its summary.
pub type FieldsFrom = (String, String);

impl SendNote {
    fn still_true(&self, form: &Form, can_send: bool, next: u64, picked: Option<u64>) -> bool {
        let (could_send, text, mode) = &self.about;
        let frame_same = self.frame.as_ref().is_none_or(|(protocol, at, was)| {
            *protocol == form.protocol && *at == next && *was == picked
        });
        *could_send == can_send && *text == form.send_text && *mode == form.tx_mode && frame_same
    }
}

/// What a mode switch that kept the characters (or chose Escapes) says.
fn unconverted_note(why: Unconverted) -> Note {
    match why {
        Unconverted::NotText => Note::say(S::ConvertNotText, []),
        Unconverted::Variables => Note::say(S::ConvertVariables, []),
        Unconverted::Invalid(reason) => Note::say(S::ConvertInvalid, [crate::capture::arg(reason)]),
    }
}

/// One tab: its form, its session and how its log is viewed.
pub struct Tab {
    /// The settings.
    pub form: Form,
    /// The engine, what it captured, the send variables, export and recording.
    pub session: Session,
    /// Messages next to the form's fields.
    pub errors: FieldErrors,
    /// Why the last send did not go, or what the last mode switch did (under the send box).
    pub send_note: Option<SendNote>,
    /// Send target in server/UDP mode.
    pub selection: Selection,
    /// The log view's filter, pause, search and selection.
    pub view: ViewState,
    /// "Start cyclic send when open" waits for the session to have someone to send to.
    cyclic_pending: bool,
    /// Why the last Record could not start, until the tab's notice takes it.
    pub record_failed: Option<Note>,
    /// What the last Reset zeroed, and when, while it can be undone.
    counters_undo: Option<(Instant, crate::capture::ZeroedCounters)>,
    /// The send box parsed, with what it was parsed from.
    payload_memo: Option<PayloadMemo>,
}

/// The send box parsed once per edit: the preview, the Send button and "+ Quick command"
/// ask every frame, and a frame is drawn for every burst that arrives (a 1 MB hex box was
/// parsed three times per frame).
struct PayloadMemo {
    text: String,
    spec: SendSpec,
    parsed: Rc<Result<Payload, PayloadError>>,
}

/// How long Reset offers Undo.
pub const UNDO_RESET_FOR: Duration = Duration::from_secs(6);

/// A tab as the widgets see it for one frame: the capture locked, the rest borrowed.
pub struct TabUi<'a> {
    /// What the session captured (locked for the frame).
    pub capture: MutexGuard<'a, Capture>,
    /// The settings.
    pub form: &'a mut Form,
    /// The log view's state.
    pub view: &'a mut ViewState,
    /// Messages next to the form's fields, for what is typed now.
    pub errors: FieldErrors,
    /// Why the last send did not go, or what the last mode switch did.
    pub send_note: Option<&'a SendNote>,
    /// Send target in server/UDP mode.
    pub selection: Selection,
    /// The session (only its lock-free parts may be used while `capture` is held).
    session: &'a Session,
    /// The send variables, for the preview.
    pub vars: VarState,
    /// How much longer the last Reset can be undone.
    pub undo_reset_left: Option<Duration>,
    /// The send box parsed (as it was when the frame began).
    pub payload: Rc<Result<Payload, PayloadError>>,
}

impl TabUi<'_> {
    /// True while a session runs.
    pub fn is_open(&self) -> bool {
        self.session.is_open()
    }

    /// True while the mode cannot change: a session is running.
    pub fn mode_locked(&self) -> bool {
        self.is_open()
    }

    /// True while the local address cannot change: a session is running — except a server
    /// that stopped listening but still serves kept clients, which may listen again elsewhere.
    pub fn local_locked(&self) -> bool {
        self.is_open() && !self.not_listening()
    }

    /// True while the remote address cannot change: a TCP client is connecting or connected.
    /// A UDP target may be edited live, as NetAssist allows.
    pub fn remote_locked(&self) -> bool {
        self.is_open() && self.form.mode.caps().connects
    }

    /// True while a server serves kept clients without listening.
    fn not_listening(&self) -> bool {
        self.form.mode.caps().listens_again && matches!(self.capture.link, LinkState::NotListening)
    }

    /// The label of the open/close button for the current state.
    pub fn toggle_label(&self) -> S {
        toggle_label(self.form.mode, self.is_open(), &self.capture.link)
    }

    /// Whether there is someone to send to now.
    pub fn can_send(&self) -> bool {
        self.send_target().is_ok()
    }

    /// Where the send box would go now, or why nowhere (UDP: no remote address and nobody
    /// has sent yet, say).
    pub fn send_target(&self) -> Result<crate::engine::Target, crate::capture::Note> {
        let mut scratch = FieldErrors::default();
        self.session
            .target_in(&self.capture, self.form, self.selection, &mut scratch)
    }

    /// Whether the Send button works: someone to send to and a valid send box.
    pub fn send_enabled(&self) -> bool {
        self.can_send() && self.payload.is_ok()
    }

    /// The bytes the next send puts on the wire (variables as they are now), or why none.
    pub fn preview(&self) -> Result<Vec<u8>, PayloadError> {
        self.preview_from().map(|(bytes, _)| bytes)
    }

    /// [`preview`](Self::preview), and the frame (number, summary) its `{{f.NAME}}` were
    /// taken from, if it reads any.
    pub fn preview_from(&self) -> Result<(Vec<u8>, Option<FieldsFrom>), PayloadError> {
        let payload = self.payload.as_ref().as_ref().map_err(Clone::clone)?;
        let (payload, from) = super::protocol_pick::give_fields(
            self.form,
            &self.capture.log,
            self.view.selected,
            payload,
        )?;
        let bytes = payload.render(&mut self.vars.clone(), std::time::SystemTime::now())?;
        Ok((bytes, from))
    }

    /// The framing the session was last told to use.
    pub fn framing(&self) -> &Framing {
        self.session.framing()
    }

    /// The export under way: how far (0–1) and where to.
    pub fn exporting(&self) -> Option<(f32, &std::path::Path)> {
        self.session
            .exporting
            .as_ref()
            .map(|job| (job.exporter.progress(), job.path.as_path()))
    }

    /// Brings the view's indexes up to date with the log (only the new records are looked at)
    /// and runs the next slice of a search.
    pub fn refresh_view(&mut self) {
        let view = &mut *self.view;
        let capture = &*self.capture;
        view.index.update(&capture.log, &view.filter);
        view.raw_index.update(&capture.raw, &view.filter);
        // The stream view freezes while paused (its rows would otherwise keep growing).
        if self.form.stream_view && view.index.paused_at.is_none() {
            view.stream.update(&capture.log, &view.filter);
        }
        // A protocol changed (picked, or its spec file read again, broken or fixed): Show
        // and a search by field start again with it.
        let now = protocol_list(self.form);
        if !same_protocols(&view.show_with, &now) && !view.show_text.trim().is_empty() {
            start_show_fields(view, self.form);
        }
        if !same_protocols(&view.search_with, &now)
            && view.search_text.trim_start().starts_with("f.")
        {
            start_search(view, self.form);
        }
        continue_search(view, capture);
        if let Some(rows) = &mut view.show_fields {
            let mode = self.form.mode;
            view.show_busy =
                !rows.update(&capture.log, &view.filter, view.index.paused_at, |record| {
                    super::fields::dir_of(mode, record)
                });
        }
        self.step_field_export();
        self.view.plot.feed(self.form, &self.capture.log);
    }

    /// Writes the next slice of an export by field; says in the log when it is done (or
    /// could not go on).
    fn step_field_export(&mut self) {
        if let Some(export) = &mut self.view.field_export {
            let mode = self.form.mode;
            let step = export.step(&self.capture.log, |r| super::fields::dir_of(mode, r));
            let said = match step {
                Ok(false) => None,
                Ok(true) if export.lost > 0 => Some((
                    RecordKind::Error,
                    tf(
                        S::FieldExportLost,
                        &[&export.rows, &export.path.display(), &export.lost],
                    ),
                )),
                Ok(true) => Some((
                    RecordKind::Info,
                    match &export.show_text {
                        Some(show) => tf(
                            S::FieldExportDoneShown,
                            &[&export.rows, &export.path.display(), show],
                        ),
                        None => tf(S::FieldExportDone, &[&export.rows, &export.path.display()]),
                    },
                )),
                Err(why) => Some((
                    RecordKind::Error,
                    tf(S::FieldExportFailed, &[&export.path.display(), &why]),
                )),
            };
            if let Some((kind, text)) = said {
                self.view.field_export = None;
                let note = crate::capture::Note::say(S::Plain, [crate::capture::arg(text)]);
                self.capture.log.push_note(
                    std::time::SystemTime::now(),
                    kind,
                    None,
                    None,
                    std::sync::Arc::new(note),
                );
            }
        }
    }

    /// "3 of 12" for the search bar.
    pub fn match_position(&self) -> Option<(usize, usize)> {
        match_position(self.view)
    }
}

/// The label of the open/close button.
fn toggle_label(mode: Mode, open: bool, link: &LinkState) -> S {
    let caps = mode.caps();
    let listening = matches!(link, LinkState::Listening(_));
    if caps.connects && open && matches!(link, LinkState::Reconnecting { .. }) {
        S::StopReconnecting
    } else if caps.listens_again && !listening {
        // A server serving kept clients without listening listens again.
        caps.open
    } else if open {
        caps.close
    } else {
        caps.open
    }
}

/// Why an `f.` expression names a field none of the protocols has ("no field 'msgid' in this
/// protocol (did you mean msg_id?)"): it would find nothing, silently. A relay decoding each
/// direction with its own protocol takes a name either has.
pub fn unknown_field(
    protocols: &[&sockscope_core::protocol::Protocol],
    text: &str,
) -> Option<String> {
    if !text.trim_start().starts_with("f.") {
        return None;
    }
    let expr = sockscope_core::rules::expr::Expr::parse(text, 1).ok()?;
    let (name, nearest) = expr.fields_used().iter().find_map(|name| {
        let mut nearest = None;
        for p in protocols {
            let (_, near) = super::fields::unknown(p, name)?;
            nearest = nearest.or(near);
        }
        Some((name.clone(), nearest))
    })?;
    let names = protocols
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(" / ");
    Some(match nearest {
        Some(nearest) => super::i18n::tf(
            S::FindNoFieldNear,
            &[&name as &dyn std::fmt::Display, &names, &nearest],
        ),
        None => super::i18n::tf(S::FindNoField, &[&name as &dyn std::fmt::Display, &names]),
    })
}

/// The protocols a tab decodes with: the session's, and a relay's for what the upstream sends
/// when it is another one.
fn protocols_of(form: &Form) -> Option<(Arc<Protocol>, Option<Arc<Protocol>>)> {
    let protocol = form.protocol().ok().flatten()?;
    Some((protocol, super::protocol_pick::replies_apart(form)))
}

/// The protocols a tab decodes with, as a list (empty without one).
fn protocol_list(form: &Form) -> Vec<Arc<Protocol>> {
    protocols_of(form)
        .map(|(p, r)| std::iter::once(p).chain(r).collect())
        .unwrap_or_default()
}

/// The same protocols (the same specs read: a spec read again is another).
fn same_protocols(a: &[Arc<Protocol>], b: &[Arc<Protocol>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| Arc::ptr_eq(a, b))
}

/// Adds a field column at the end, or takes it away.
fn toggle_column(columns: &mut Vec<String>, path: String) {
    if let Some(at) = columns.iter().position(|c| *c == path) {
        columns.remove(at);
    } else {
        columns.push(path);
    }
}

/// Starts Show by field with what is typed: empty shows every row again; an expression
/// that does not parse, or names a field the protocol lacks, says why and filters nothing.
fn start_show_fields(view: &mut ViewState, form: &Form) {
    view.show_fields = None;
    view.show_error = None;
    view.show_busy = false;
    view.show_with = protocol_list(form);
    let text = view.show_text.trim();
    if text.is_empty() {
        return;
    }
    let Some((protocol, replies)) = protocols_of(form) else {
        return;
    };
    let both: Vec<&Protocol> = std::iter::once(&*protocol)
        .chain(replies.as_deref())
        .collect();
    if let Some(why) = unknown_field(&both, text) {
        view.show_error = Some(why);
        return;
    }
    match sockscope_core::rules::expr::Expr::parse(text, 1) {
        Ok(expr) => {
            view.show_fields = Some(super::show_fields::FieldRows::new(
                text.to_owned(),
                expr,
                protocol,
                replies,
            ));
            view.show_busy = true;
        }
        Err(e) => view.show_error = Some(e.0),
    }
}

fn start_search(view: &mut ViewState, form: &Form) {
    view.matches.clear();
    view.search_error = None;
    view.searching = None;
    view.search_with = protocol_list(form);
    view.selected = None;
    // With a protocol, `f.msg_id == 0x0200` finds by decoded field.
    let (protocol, replies) = match protocols_of(form) {
        Some((p, r)) => (Some(p), r),
        None => (None, None),
    };
    if let Some(why) = protocol
        .as_deref()
        .filter(|_| !view.search_hex)
        .and_then(|p| {
            let both: Vec<&Protocol> = std::iter::once(p).chain(replies.as_deref()).collect();
            unknown_field(&both, &view.search_text)
        })
    {
        view.search_error = Some(why);
        return;
    }
    let query = Query::parse_with(&view.search_text, view.search_hex, protocol)
        .map(|q| q.map(|q| q.with_replies(replies)));
    match query {
        Ok(Some(query)) => view.searching = Some(Search::new(&query, &view.index)),
        Ok(None) => {}
        Err(message) => view.search_error = Some(message),
    }
}

/// Searches the next slice of the log (a few milliseconds' worth); the first match found is
/// selected and scrolled to.
fn continue_search(view: &mut ViewState, capture: &Capture) {
    let Some(search) = &mut view.searching else {
        return;
    };
    let log = &capture.log;
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

fn match_position(view: &ViewState) -> Option<(usize, usize)> {
    let at = view
        .selected
        .and_then(|s| view.matches.iter().position(|m| *m == s))?;
    Some((at + 1, view.matches.len()))
}

impl Tab {
    /// A tab with this form; `notify` is called from the I/O thread when events arrived.
    pub fn new(form: Form, notify: Notify) -> Self {
        let session = Session::with_form(&form, notify);
        Self {
            form,
            session,
            errors: FieldErrors::default(),
            send_note: None,
            selection: Selection::Default,
            view: ViewState::default(),
            cyclic_pending: false,
            counters_undo: None,
            record_failed: None,
            payload_memo: None,
        }
    }

    /// The tab for one frame: the capture locked until the result is dropped.
    pub fn ui(&mut self) -> TabUi<'_> {
        let errors = self.form.field_errors();
        let spec = self.form.send_spec();
        let parsed = match &self.payload_memo {
            Some(memo) if memo.text == self.form.send_text && memo.spec == spec => {
                Rc::clone(&memo.parsed)
            }
            _ => {
                let parsed = Rc::new(Payload::parse(&self.form.send_text, &spec));
                self.payload_memo = Some(PayloadMemo {
                    text: self.form.send_text.clone(),
                    spec,
                    parsed: Rc::clone(&parsed),
                });
                parsed
            }
        };
        TabUi {
            payload: parsed,
            capture: self.session.capture(),
            form: &mut self.form,
            view: &mut self.view,
            errors,
            send_note: self.send_note.as_ref(),
            selection: self.selection,
            vars: self.session.vars(),
            session: &self.session,
            undo_reset_left: self
                .counters_undo
                .as_ref()
                .and_then(|(at, _)| UNDO_RESET_FOR.checked_sub(at.elapsed()))
                .filter(|left| !left.is_zero()),
        }
    }

    /// True while a session runs (connecting, connected, listening, bound or serving kept clients).
    pub fn is_open(&self) -> bool {
        self.session.is_open()
    }

    /// Whether there is someone to send to now.
    pub fn can_send(&self) -> bool {
        let mut scratch = FieldErrors::default();
        self.session
            .target(&self.form, self.selection, &mut scratch)
            .is_ok()
    }

    /// The label of the open/close button for the current state.
    pub fn toggle_label(&self) -> S {
        let capture = self.session.capture();
        toggle_label(self.form.mode, self.is_open(), &capture.link)
    }

    /// "3 of 12" for the search bar.
    pub fn match_position(&self) -> Option<(usize, usize)> {
        match_position(&self.view)
    }

    /// Gives the session the Receive framing (with None there, the chosen protocol's frame
    /// layer cuts the stream).
    fn apply_framing(&mut self) {
        if self.form.framing().is_ok() {
            self.session.set_framing(self.form.receive_framing());
            if self.form.mode.caps().relays {
                self.session
                    .set_replies_framing(self.form.replies_framing());
            }
        }
    }

    /// Starts exporting the selected message's kind, a column per field; says why not.
    fn export_fields(&mut self, path: PathBuf) {
        let started = {
            let capture = self.session.capture();
            let record = self.view.selected.and_then(|seq| capture.log.get_seq(seq));
            match (self.form.protocol(), record) {
                (Ok(Some(protocol)), Some(record)) => {
                    let dir = super::fields::dir_of(self.form.mode, &record);
                    let show = self
                        .view
                        .show_fields
                        .as_ref()
                        .map(|rows| (rows.text.clone(), rows.expr().clone()));
                    super::field_export::FieldExport::start(
                        path,
                        protocol,
                        super::protocol_pick::replies_apart(&self.form),
                        &record,
                        dir,
                        &capture.log,
                        &self.view.filter,
                        show,
                    )
                }
                (Err(why), _) => Err(why),
                _ => Err(t(S::FieldExportNoFields).to_owned()),
            }
        };
        match started {
            Ok(export) => self.view.field_export = Some(export),
            Err(why) => self.say_text(RecordKind::Error, why),
        }
    }

    /// A sentence in the tab's log.
    /// What the Plot window asks for; an export's outcome is said in the log.
    fn apply_plot(&mut self, action: super::model::PlotAction) {
        let said = {
            let capture = self.session.capture();
            self.view.plot.apply(action, &capture.log)
        };
        if let Some((text, error)) = said {
            let kind = if error {
                RecordKind::Error
            } else {
                RecordKind::Info
            };
            self.say_text(kind, text);
        }
    }

    fn say_text(&self, kind: RecordKind, text: String) {
        let note = crate::capture::Note::say(S::Plain, [crate::capture::arg(text)]);
        self.session.capture().log.push_note(
            std::time::SystemTime::now(),
            kind,
            None,
            None,
            std::sync::Arc::new(note),
        );
    }

    /// Decodes with the protocol `name`: the session's, or a relay's replies'.
    fn set_protocol(&mut self, name: String, replies: bool) {
        if replies {
            self.form.protocol_replies = name;
            // What the upstream sends is cut by its own protocol's frame layer from now on.
            self.apply_framing();
        } else {
            self.form.protocol = name;
            self.apply_framing();
            // Rules and scripts that read fields (`f.NAME`) decode with it from now on: the
            // running rules are compiled again for it (they read nothing before).
            let dir = sockscope_core::session::received_dir(self.form.mode);
            self.session
                .set_protocol(self.form.protocol().ok().flatten(), dir);
            self.apply_rules();
        }
    }

    /// Adds a field column or takes it away. The Columns row appearing above the list
    /// shortens it: the picked row is brought into view again.
    fn toggle_column(&mut self, path: String) {
        toggle_column(&mut self.form.protocol_columns, path);
        if let Some(seq) = self.view.selected {
            self.view.follow.reveal = Some((seq, None));
        }
    }

    /// Opens a record's detail (a picked row stops the log following) or closes it.
    fn select_record(&mut self, seq: Option<u64>) {
        self.view.selected = seq;
        if let Some(seq) = seq {
            self.view.follow.hold(seq);
        }
    }

    /// Does what the user asked.
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per action, the longer ones handed on to helpers"
    )]
    pub fn apply(&mut self, action: UiAction) {
        match action {
            UiAction::ToggleOpen => self.toggle_open(),
            UiAction::Send => self.send(),
            UiAction::DisconnectClient(conn) => self.session.command(Command::Disconnect(conn)),
            UiAction::Select(selection) => self.selection = selection,
            UiAction::ClearLog => self.clear_log(),
            UiAction::Rules(action) => self.apply_rules_action(action),
            UiAction::SetPem(field, path) => self.set_pem(field, &path),
            UiAction::SetProtocol(name, replies) => self.set_protocol(name, replies),
            action @ (UiAction::ShowCompose
            | UiAction::SendComposed(_)
            | UiAction::KeepQuick(_)
            | UiAction::RecomposeQuick(..)) => {
                self.apply_compose(action);
            }
            action @ (UiAction::ApplyRules
            | UiAction::ShowRules
            | UiAction::ShowScripts
            | UiAction::ToggleChart
            | UiAction::JoinGroup(_)
            | UiAction::LeaveGroup(_)
            | UiAction::SetUdpOptions
            | UiAction::WsPing
            | UiAction::WsClose
            | UiAction::SetImpairments
            | UiAction::CutRelay) => self.apply_automation(&action),
            UiAction::ResetCounters => self.reset_counters(false),
            UiAction::UndoReset => self.reset_counters(true),
            UiAction::SetTxMode(mode) => self.switch_tx_mode(mode, false),
            UiAction::ForceTxMode(mode) => self.switch_tx_mode(mode, true),
            UiAction::SetEncoding(encoding) => {
                self.form.encoding = encoding;
                let mut capture = self.session.capture();
                capture.log.set_encoding(encoding);
                capture.raw.set_encoding(encoding);
                drop(capture);
                // Text conditions and replies are in the session's encoding.
                self.apply_rules();
            }
            UiAction::StartCyclic => {
                let started =
                    self.session
                        .start_cyclic_form(&self.form, self.selection, &mut self.errors);
                self.set_send_note(started.err(), true);
            }
            UiAction::StartSequence => {
                let started =
                    self.session
                        .start_sequence_form(&self.form, self.selection, &mut self.errors);
                self.set_send_note(started.err(), true);
            }
            UiAction::StopSchedule => self.session.stop_schedule(),
            UiAction::SendFile(path) => {
                let started =
                    self.session
                        .send_file_form(&self.form, path, self.selection, &mut self.errors);
                self.set_send_note(started.err(), true);
            }
            UiAction::CancelFile => self.session.cancel_file(),
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
            UiAction::ApplyFraming => self.apply_framing(),
            UiAction::TogglePause => self.toggle_pause(),
            UiAction::FilterPeer(peer) => self.view.filter.peer = peer,
            UiAction::ToggleSearch => {
                self.view.search_open = !self.view.search_open;
                self.view.focus_search = self.view.search_open;
            }
            // The first slice runs with the next frame, which has the log locked.
            UiAction::Search => start_search(&mut self.view, &self.form),
            UiAction::ShowFields => start_show_fields(&mut self.view, &self.form),
            UiAction::ToggleColumn(path) => self.toggle_column(path),
            UiAction::ExportFields(path) => self.export_fields(path),
            UiAction::Plot(action) => self.apply_plot(action),
            UiAction::NextMatch(forward) => self.next_match(forward),
            UiAction::SelectRecord(seq) => self.select_record(seq),
            UiAction::Follow => self.view.follow.resume(),
            UiAction::Export(format, path) => self.session.export(format, path),
            UiAction::CancelExport => self.session.cancel_export(),
            UiAction::StartRecording(format, path) => {
                self.record_failed = self.session.start_recording(path, format);
            }
            UiAction::StopRecording => {
                self.session.stop_recording();
            }
            UiAction::ResetCounter => self
                .session
                .reset_vars(self.form.counter_start, self.form.counter_step),
            // The window's dialogs take these; a tab alone has no dialog.
            UiAction::AskFile(_) => {}
        }
    }

    /// A WebSocket ping or close to whoever a send would go to.
    fn ws_control(&mut self, action: &UiAction) {
        let to = match self.selection {
            Selection::Client(conn) => crate::engine::Target::Conn(conn),
            _ => crate::engine::Target::AllConns,
        };
        let op = if matches!(action, UiAction::WsPing) {
            crate::engine::WsOp::Ping(b"sockscope".to_vec())
        } else {
            crate::engine::WsOp::Close {
                code: 1000,
                reason: String::new(),
            }
        };
        self.session.command(Command::WebSocket { to, op });
    }

    /// Pauses the display where the log is now, or resumes it.
    fn toggle_pause(&mut self) {
        let next = self.session.capture().log.next_seq();
        let index = &mut self.view.index;
        index.paused_at = match index.paused_at {
            Some(_) => None,
            None => Some(next),
        };
        self.view.paused_oldest = index.paused_at.and(index.first_seq());
        self.view.raw_index.paused_at = None;
    }

    /// Work between frames, whether or not the tab is shown: lets go of a stopped engine,
    /// writes the next slice of an export, drops a send target that left. Returns true while
    /// there is more (the caller asks for another frame).
    pub fn background_work(&mut self) -> bool {
        let more = self.session.poll();
        // A run whose script was edited stops, saying so: it never sends a removed step.
        self.session.script_edited(&self.form);
        if self.cyclic_pending {
            if !self.session.is_open() {
                self.cyclic_pending = false;
            } else if self.can_send() {
                // Connected (or listening with a client, or bound): the timer starts now.
                self.cyclic_pending = false;
                self.apply(UiAction::StartCyclic);
            }
        }
        {
            let mut capture = self.session.capture();
            let gone = match self.selection {
                Selection::Client(conn) => !capture.clients.contains_key(&conn),
                Selection::Peer(peer) => !capture.peers.contains_key(&peer),
                Selection::Default | Selection::LatestPeer => false,
            };
            if gone {
                self.selection = Selection::Default;
            }
            let mut scratch = FieldErrors::default();
            let can_send = self
                .session
                .target_in(&capture, &self.form, self.selection, &mut scratch)
                .is_ok();
            if self.send_note.as_ref().is_some_and(|n| {
                !n.still_true(
                    &self.form,
                    can_send,
                    capture.log.next_seq(),
                    self.view.selected,
                )
            }) {
                self.send_note = None;
            }
            capture.keep_raw = self.form.show_raw;
            let cap = self.form.log_cap_bytes();
            if capture.log.cap() != cap {
                capture.log.set_cap(cap);
                capture.raw.set_cap(cap / 4);
            }
        }
        more
    }

    /// Empties the log and forgets the UDP peers; the view's indexes start again and the
    /// memory goes back to the OS.
    fn clear_log(&mut self) {
        let next = {
            let mut capture = self.session.capture();
            capture.clear();
            capture.log.next_seq()
        };
        // The view's indexes start again too (they held a number per record).
        let view = &mut self.view;
        let paused = view.index.paused_at.map(|_| next);
        view.index = ViewIndex::default();
        view.index.paused_at = paused;
        view.raw_index = ViewIndex::default();
        view.stream = StreamIndex::default();
        view.matches = Vec::new();
        view.searching = None;
        view.selected = None;
        if let Selection::Peer(_) = self.selection {
            self.selection = Selection::Default;
        }
        sockscope_core::session::give_back();
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

    /// A file chosen for a TLS setting: its path — or, to pin a certificate, its SHA-256
    /// (a file that holds no certificate is said in the log).
    fn set_pem(&mut self, field: PemField, path: &std::path::Path) {
        let path = path.display().to_string();
        if field != PemField::Pin {
            *field.slot(&mut self.form.tls) = path;
            return;
        }
        match crate::engine::fingerprint_of_file(&path) {
            Ok(sha256) => *field.slot(&mut self.form.tls) = sha256,
            Err(e) => self.say_error(e),
        }
    }

    /// An error in the tab's log.
    fn say_error(&self, e: crate::engine::EngineError) {
        let note = crate::capture::Note::say(S::Plain, [crate::capture::arg(e)]);
        self.session.capture().log.push_note(
            std::time::SystemTime::now(),
            crate::capture::RecordKind::Error,
            None,
            None,
            std::sync::Arc::new(note),
        );
    }

    fn toggle_open(&mut self) {
        let (listening, mode) = {
            let capture = self.session.capture();
            (
                matches!(capture.link, LinkState::Listening(_)),
                self.form.mode,
            )
        };
        let listens_again = mode.caps().listens_again;
        match (self.session.is_open(), listens_again) {
            (true, true) if listening => {
                self.session.command(Command::StopListening {
                    close_clients: self.form.close_clients_on_stop,
                });
            }
            (true, true) => match self.form.session_config() {
                // Kept clients are still served; listen again in the same session.
                Ok(config) => self.session.command(Command::Listen(config.local)),
                Err(errors) => self.errors = errors,
            },
            (true, _) => self.session.close(),
            (false, _) => self.open(),
        }
    }

    fn open(&mut self) {
        // A self-signed server certificate is kept with the form (the same at every Listen).
        if self.form.tls_on
            && self.form.mode.caps().tls == Some(crate::engine::TlsSide::Server)
            && let Err(e) = self.form.tls.keep_self_signed()
        {
            self.say_error(e);
            return;
        }
        // A UDP socket with no remote address typed answers whoever speaks.
        self.selection = if self.form.mode.caps().datagrams && self.form.remote_ip.trim().is_empty()
        {
            Selection::LatestPeer
        } else {
            Selection::Default
        };
        self.form.automation.ensure_ids();
        // The session starts with the rules that run: a rule with a mistake is held back.
        let running = self.running_rules();
        let form = Form {
            automation: running.automation,
            ..self.form.clone()
        };
        match self.session.open_form(&form) {
            Ok(()) => {
                self.errors = FieldErrors::default();
                self.cyclic_pending = self.form.cyclic_on_open;
                // A rule held back is said in the log as well: whoever never opens the Rules
                // window would only see that it does not answer.
                for held in &running.held {
                    let key = if held.previous {
                        S::RuleHeldPrevious
                    } else {
                        S::RuleHeldOff
                    };
                    self.say_text(RecordKind::Error, tf(key, &[&held.message]));
                }
            }
            Err(errors) => self.errors = errors,
        }
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

    /// What the Compose window asks for: a composed frame goes out as the send box's does.
    fn apply_compose(&mut self, action: UiAction) {
        match action {
            UiAction::ShowCompose => self.view.compose_open = !self.view.compose_open,
            UiAction::SendComposed(command) if self.send_command(&command) => {
                self.form.remember(command);
            }
            UiAction::KeepQuick(command) => self.form.quick.push(command),
            UiAction::RecomposeQuick(n, command) => {
                if let Some(kept) = self.form.quick.get_mut(n) {
                    *kept = QuickCommand {
                        delay_ms: kept.delay_ms,
                        ..command
                    };
                }
            }
            _ => {}
        }
    }

    fn run_quick(&mut self, n: usize) {
        if let Some(command) = self.form.quick.get(n).cloned()
            && !self.send_command(&command)
            && let Some(said) = &mut self.send_note
        {
            // Under a send box that holds other text: the sentence names the command.
            let why = said.note.to_string();
            said.note = sockscope_core::capture::Note::say(
                S::QuickCommandError,
                [
                    sockscope_core::capture::arg(command.name.clone()),
                    sockscope_core::capture::arg(why),
                ],
            );
        }
    }

    /// Sends one payload now; true if it went to the engine. Its `{{f.NAME}}` are taken from
    /// the row picked in the log, else the newest received frame.
    fn send_command(&mut self, command: &QuickCommand) -> bool {
        let frame = match command.payload() {
            Ok(payload) if !payload.fields_used().is_empty() => {
                let capture = self.session.capture();
                let found = if super::protocol_pick::chosen(&self.form).is_none() {
                    Err(payload.needs_protocol())
                } else {
                    super::protocol_pick::field_source(&self.form, &capture.log, self.view.selected)
                        .map(|(_, _, decoded)| decoded)
                        .map_err(|why| Some(super::protocol_pick::no_source(&payload, &why)))
                };
                drop(capture);
                match found {
                    Ok(decoded) => Some(decoded),
                    Err(why) => {
                        let note = sockscope_core::capture::Note::say(
                            S::Plain,
                            [sockscope_core::capture::arg(
                                why.map(|e| e.to_string()).unwrap_or_default(),
                            )],
                        );
                        self.set_send_note(Some(note), true);
                        let next = self.session.capture().log.next_seq();
                        if let Some(said) = &mut self.send_note {
                            said.frame =
                                Some((self.form.protocol.clone(), next, self.view.selected));
                        }
                        return false;
                    }
                }
            }
            _ => None,
        };
        let sent = self.session.send_command_with(
            &self.form,
            command,
            self.selection,
            &mut self.errors,
            frame
                .as_ref()
                .map(|d| d as &dyn sockscope_core::rules::expr::Fields),
        );
        let ok = sent.is_ok();
        self.set_send_note(sent.err(), true);
        ok
    }

    /// What the Multicast, WebSocket and Relay controls ask for. The form keeps the groups
    /// for the next Open; the open socket joins or leaves at once.
    fn apply_multicast(&mut self, action: &UiAction) {
        match action {
            UiAction::WsPing | UiAction::WsClose => self.ws_control(action),
            UiAction::SetImpairments => self.session.command(Command::SetImpairments(
                self.form.relay_up,
                self.form.relay_down,
            )),
            UiAction::CutRelay => self.session.command(Command::CutRelay),
            UiAction::JoinGroup(group) => {
                if !self.form.udp.groups.contains(group) {
                    self.form.udp.groups.push(group.clone());
                }
                if self.session.is_open() {
                    self.session.command(Command::Join(group.clone()));
                }
            }
            UiAction::LeaveGroup(group) => {
                self.form.udp.groups.retain(|g| g != group);
                if self.session.is_open() {
                    self.session.command(Command::Leave(group.clone()));
                }
            }
            UiAction::SetUdpOptions => {
                let options = self.form.udp.clone();
                self.session.command(Command::SetUdpOptions(options));
            }
            _ => {}
        }
    }

    /// What the Rules and Scripts windows and the chart ask for (and the Multicast group's
    /// actions, passed on).
    fn apply_automation(&mut self, action: &UiAction) {
        match action {
            UiAction::ApplyRules => self.apply_rules(),
            UiAction::ShowRules => {
                let view = &mut self.view.automation;
                if !view.rules_open && view.test_input.is_empty() {
                    // Test input as the session shows data: hex for a binary protocol.
                    view.test_hex = self.form.rx_hex || self.form.tx_mode == InputMode::Hex;
                }
                view.rules_open = true;
            }
            UiAction::ShowScripts => self.view.automation.scripts_open = true,
            UiAction::ToggleChart => self.view.chart_open = !self.view.chart_open,
            other => self.apply_multicast(other),
        }
    }

    /// The form's rules as a session runs them: each rule with a mistake is held back (its
    /// last valid version runs), the others run as edited.
    pub fn running_rules(&mut self) -> super::model::Running {
        self.form.automation.ensure_ids();
        let protocol = super::protocol_pick::received(&self.form);
        self.view.automation.last_valid.running_for(
            &self.form.automation,
            self.form.encoding,
            protocol,
        )
    }

    /// A running session answers by the form's rules from now on (none when they are off).
    /// A rule with a mistake is held back, the others go live: the Rules window says which.
    fn apply_rules(&mut self) {
        let running = self.running_rules();
        if !self.session.is_open() {
            return;
        }
        let automation = self.form.automation.active().then_some(&running.automation);
        let _ = self.session.set_rules(automation, self.form.encoding);
    }

    /// The Rules and Scripts windows' other actions.
    fn apply_rules_action(&mut self, action: super::model::RulesAction) {
        use super::model::RulesAction;
        match action {
            RulesAction::Run(index) | RulesAction::RunStepping(index) => {
                let stepping = matches!(action, RulesAction::RunStepping(_));
                if let Err(why) = self
                    .session
                    .run_script_stepping(&self.form, index, stepping)
                {
                    self.set_send_note(Some(Note::text(why)), true);
                }
            }
            RulesAction::Stop => self.stop_script(),
            RulesAction::Step => {
                // An edit made in this frame stops the run before the step is taken.
                self.session.script_edited(&self.form);
                self.session.step_script();
            }
            RulesAction::Reset(keep) => self.reset_rules(keep),
            RulesAction::SetLiveTable(name, bytes) => {
                if self.session.is_open() && self.form.automation.active() {
                    let running = self.running_rules();
                    let _ = self.session.set_live_table(
                        &running.automation,
                        self.form.encoding,
                        &name,
                        bytes,
                    );
                }
            }
        }
    }

    /// Stop always ends a run: a session that already ended cannot say so, so the report
    /// is ended here.
    fn stop_script(&mut self) {
        if self.session.is_open() {
            self.session.command(Command::StopScript);
        } else {
            let mut capture = self.session.capture();
            if capture.script.as_ref().is_some_and(|r| r.passed.is_none()) {
                capture.apply(crate::engine::Event::ScriptFinished { passed: false });
            }
        }
    }

    /// The rules again, keeping of the running ones only what `keep` says; the window's
    /// counts follow.
    fn reset_rules(&mut self, keep: crate::rules::Keep) {
        let running = self.running_rules();
        if !keep.hits {
            self.session.capture().rule_hits.clear();
        }
        if !self.session.is_open() {
            return;
        }
        let automation = self.form.automation.active().then_some(&running.automation);
        let _ = self
            .session
            .set_rules_keeping(automation, self.form.encoding, keep);
    }

    /// Shows `note` under the send box until what it is about changes (or clears it).
    /// Zeroes the counters, keeping what was zeroed for a while; or (`undo`) puts it back.
    fn reset_counters(&mut self, undo: bool) {
        if !undo {
            let zeroed = self.session.capture().reset_counters();
            self.counters_undo = Some((Instant::now(), zeroed));
        } else if let Some((at, zeroed)) = self.counters_undo.take()
            && at.elapsed() < UNDO_RESET_FOR
        {
            self.session.capture().undo_reset(zeroed);
        }
    }

    /// Converts the send box to `mode`; a refused conversion leaves the mode and offers to
    /// switch anyway. `force`: switches without converting (the user's "switch anyway").
    fn switch_tx_mode(&mut self, mode: InputMode, force: bool) {
        if force {
            self.form.tx_mode = mode;
            self.send_note = None;
            return;
        }
        let why = self.form.switch_tx_mode(mode);
        let refused = matches!(why, Some(Unconverted::Invalid(_)));
        self.set_send_note(why.map(unconverted_note), false);
        if let (true, Some(note)) = (refused, &mut self.send_note) {
            note.switch_anyway = Some(mode);
        }
    }

    fn set_send_note(&mut self, note: Option<Note>, error: bool) {
        let can_send = self.can_send();
        self.send_note = note.map(|note| SendNote {
            note,
            error,
            about: (can_send, self.form.send_text.clone(), self.form.tx_mode),
            switch_anyway: None,
            frame: None,
        });
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
            let message = tab
                .send_note
                .as_ref()
                .map(|n| n.note.to_string())
                .unwrap_or_default();
            assert!(message.contains(expected), "{text:?}: {message:?}");
            assert!(tab.form.history.is_empty(), "{text:?} was not sent");
            assert_eq!(tab.session.capture().counters.tx_bytes, 0);
        }
        // A character the encoding cannot write.
        let mut tab = tab(Form {
            encoding: TextEncoding::for_label("windows-1252").unwrap(),
            send_text: "温度".into(),
            ..Form::default()
        });
        tab.apply(UiAction::Send);
        let message = tab
            .send_note
            .as_ref()
            .map(|n| n.note.to_string())
            .unwrap_or_default();
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
            tab.send_note
                .as_ref()
                .map(|n| n.note.to_string())
                .as_deref(),
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
        tab.session.capture().log.push_data(
            std::time::SystemTime::now(),
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
