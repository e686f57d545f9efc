//! The application: a menu bar, a row of tabs (one session each, with its own I/O thread and
//! log), and the active tab laid out as NetAssist users know it — settings on the left, the log
//! on the right, the send box under it, a status bar at the bottom.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eframe::egui::{self, ThemePreference};
use serde::{Deserialize, Serialize};

use super::actions::{self, Action};
use super::dialogs::{Answer, Ask, Dialogs, FilePicker, NativeFilePicker};
use super::i18n::{self, Lang, S, t, tf};
use super::model::{FileRequest, Notice};
use super::state::{Form, UiAction};
use super::tabs::{TabEntry, tab_strip_ui};
use super::tools::{self, ToolsState};
use super::widgets::human_bytes;
use super::{fonts, log_view, send_panel, settings, status_bar};
use crate::capture::{Note, arg};
use crate::engine::{self, Notify};
use crate::profile::{self, Profile};
use sockscope_core::protocol;

/// Storage key of the workspace in eframe's persistence.
const WORKSPACE_KEY: &str = "workspace";
/// Storage key of the single form older versions saved.
const OLD_FORM_KEY: &str = "form";
/// How many recent profiles the File menu lists.
const RECENT_LEN: usize = 10;
/// Closed tabs kept for Reopen closed tab, with their logs.
const CLOSED_KEPT: usize = 10;
/// UI scale limits.
const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.5..=3.0;
/// The longest news waits for a frame that shows it: soon after a quiet spell (a reply to what
/// the user sent), less often while data keeps coming (a log scrolling by needs no more, and
/// every frame, software-rendered on a VM, takes CPU from receiving).
const REPAINT_SOON: std::time::Duration = std::time::Duration::from_millis(15);
const REPAINT_BUSY: std::time::Duration = std::time::Duration::from_millis(100);

/// When the I/O threads last asked for a frame, to tell a quiet spell from a stream.
#[derive(Default)]
struct BusyClock {
    /// Milliseconds since `origin` of the last request.
    last: std::sync::atomic::AtomicU64,
    origin: std::sync::OnceLock<std::time::Instant>,
}

impl BusyClock {
    /// How long the next frame may wait: news after a quiet spell soon, news in a stream
    /// with the stream's next frame.
    fn gap(&self) -> std::time::Duration {
        let origin = *self.origin.get_or_init(std::time::Instant::now);
        let now = origin.elapsed().as_millis() as u64 + 1_000;
        let last = self.last.swap(now, std::sync::atomic::Ordering::Relaxed);
        if now.saturating_sub(last) > 250 {
            REPAINT_SOON
        } else {
            REPAINT_BUSY
        }
    }
}

/// Light, dark, or as the OS says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Theme {
    /// Follow the OS.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    fn preference(self) -> ThemePreference {
        match self {
            Theme::System => ThemePreference::System,
            Theme::Light => ThemePreference::Light,
            Theme::Dark => ThemePreference::Dark,
        }
    }
}

/// A tab as saved between runs: its profile (name, auto-connect, settings) and file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SavedTab {
    /// The profile file it was opened from or saved to.
    pub path: Option<PathBuf>,
    /// Everything about the session.
    pub profile: Profile,
    /// N of its "Session N", so an unnamed tab keeps its name across restarts (absent in
    /// older workspaces: numbered in order, after the highest saved).
    pub number: Option<usize>,
}

/// What comes back at the next start: tabs and their settings, language, look, recent files.
/// (eframe restores the window's size and position itself.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Workspace {
    /// The open tabs, in order.
    pub tabs: Vec<SavedTab>,
    /// The active tab.
    pub active: usize,
    /// The language chosen in the View menu; `None` follows the OS.
    pub lang: Option<Lang>,
    /// Light / dark / system.
    pub theme: Theme,
    /// UI scale (egui zoom factor).
    pub zoom: f32,
    /// Recently opened or saved profiles, newest first.
    pub recent: Vec<PathBuf>,
    /// Protocol spec files opened lately (the Decode as picker lists them), newest first.
    pub recent_specs: Vec<PathBuf>,
}

impl Workspace {
    /// A workspace of one unsaved tab with these settings.
    pub fn one_tab(form: Form) -> Self {
        Self {
            tabs: vec![SavedTab {
                path: None,
                profile: Profile {
                    session: form,
                    ..Profile::default()
                },
                number: None,
            }],
            ..Self::default()
        }
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self {
            tabs: Vec::new(),
            active: 0,
            lang: None,
            theme: Theme::System,
            zoom: 1.0,
            recent: Vec::new(),
            recent_specs: Vec::new(),
        }
    }
}

/// A question the window waits for an answer to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Confirm {
    /// Close this tab although its session is open.
    CloseTab(u64),
    /// Quit although sessions are open.
    Quit,
}

/// How often the window reads the interfaces again (for the address and broadcast pickers).
const INTERFACES_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The whole program as egui sees it.
pub struct App {
    tabs: Vec<TabEntry>,
    active: usize,
    /// Closed tabs, newest last, with their logs (Reopen closed tab).
    closed: Vec<TabEntry>,
    lang: Lang,
    /// `None`: the language follows the OS (not saved as a choice).
    lang_chosen: Option<Lang>,
    theme: Theme,
    zoom: f32,
    recent: Vec<PathBuf>,
    interfaces: Vec<(String, IpAddr)>,
    /// The interfaces with their broadcast addresses and indexes (multicast, broadcast).
    nics: Vec<engine::Interface>,
    /// When `interfaces` and `nics` were read: they are read again now and then, so an
    /// interface that comes up (a USB adapter, a VPN) is offered without a restart.
    interfaces_at: std::time::Instant,
    dialogs: Dialogs,
    tools: ToolsState,
    /// The Load window and its run.
    load: super::load_ui::LoadView,
    notify: Notify,
    /// Tabs made so far: numbers "Session N".
    tabs_made: usize,
    next_id: u64,
    confirm: Option<Confirm>,
    /// The user confirmed quitting: the next close request goes through.
    quit_confirmed: bool,
    /// Print the time from this instant to the first frame, then close (`scripts/perf`).
    first_frame_from: Option<std::time::Instant>,
    /// Close once the active tab has received this many bytes, printing when (`scripts/perf`).
    exit_after_rx: Option<u64>,
}

impl App {
    /// Builds the app: fonts, the last session's workspace, and a repaint hook for the engine.
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let workspace = cc.storage.map(saved_workspace).unwrap_or_default();
        let lang = workspace.lang.unwrap_or_else(super::system_lang);
        Self::with_workspace(&cc.egui_ctx, workspace, lang)
    }

    /// Builds the app with one tab holding `form`, in English (tests start from a known one).
    pub fn with_form(ctx: &egui::Context, form: Form) -> Self {
        Self::with_workspace(ctx, Workspace::one_tab(form), Lang::En)
    }

    /// Builds the app from a saved workspace. Tabs whose profile says so open their session.
    pub fn with_workspace(ctx: &egui::Context, workspace: Workspace, lang: Lang) -> Self {
        fonts::install(ctx);
        i18n::set_lang(lang);
        super::protocol_pick::set_recent_specs(workspace.recent_specs.clone());
        ctx.set_theme(workspace.theme.preference());
        let zoom = workspace.zoom.clamp(*ZOOM_RANGE.start(), *ZOOM_RANGE.end());
        ctx.set_zoom_factor(zoom);
        let repaint = ctx.clone();
        // The collectors call this once per batch folded into a log: a frame soon after
        // news, fewer while a stream goes on.
        let busy = Arc::new(BusyClock::default());
        let notify: Notify = Arc::new(move || repaint.request_repaint_after(busy.gap()));
        let mut app = Self {
            tabs: Vec::new(),
            active: 0,
            closed: Vec::new(),
            lang,
            lang_chosen: workspace.lang,
            theme: workspace.theme,
            zoom,
            recent: workspace.recent,
            interfaces: engine::local_addresses(),
            nics: engine::interfaces(),
            interfaces_at: std::time::Instant::now(),
            dialogs: Dialogs::new(Arc::new(NativeFilePicker::default())),
            tools: ToolsState::default(),
            load: super::load_ui::LoadView::default(),
            notify,
            tabs_made: 0,
            next_id: 1,
            confirm: None,
            quit_confirmed: false,
            first_frame_from: None,
            exit_after_rx: None,
        };
        // New tabs are numbered after every saved one: no two tabs share a "Session N".
        app.tabs_made = workspace
            .tabs
            .iter()
            .filter_map(|t| t.number)
            .max()
            .unwrap_or(0);
        for saved in workspace.tabs {
            app.add_tab_numbered(saved.profile, saved.path, saved.number);
        }
        if app.tabs.is_empty() {
            app.add_tab(Profile::default(), None);
        }
        app.active = workspace.active.min(app.tabs.len() - 1);
        app
    }

    /// Prints the time from `started` to the end of the first frame, then closes the window.
    #[must_use]
    pub fn timing_first_frame(mut self, started: std::time::Instant) -> Self {
        self.first_frame_from = Some(started);
        self
    }

    /// Closes the window once the active tab has received `bytes`, printing the wall-clock
    /// time (nanoseconds since 1970) it noticed: `scripts/perf` times ingest in the real window.
    #[must_use]
    pub fn exit_after_rx(mut self, bytes: u64) -> Self {
        self.exit_after_rx = Some(bytes);
        self
    }

    /// Replaces the file dialog (tests answer it themselves).
    #[must_use]
    pub fn with_picker(mut self, picker: Box<dyn FilePicker>) -> Self {
        self.dialogs = Dialogs::new(Arc::from(picker));
        self
    }

    /// The active tab.
    pub fn tab(&self) -> &super::state::Tab {
        &self.entry().tab
    }

    /// The active tab, for tests that set up state.
    pub fn tab_mut(&mut self) -> &mut super::state::Tab {
        &mut self.entry_mut().tab
    }

    /// Every tab.
    pub fn tabs(&self) -> &[TabEntry] {
        &self.tabs
    }

    /// Every tab, for tests that set up state.
    pub fn tabs_mut(&mut self) -> &mut [TabEntry] {
        &mut self.tabs
    }

    /// Which tab is shown.
    pub fn active(&self) -> usize {
        self.active
    }

    /// The language of the window.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The active tab's notice, if any.
    pub fn notice(&self) -> Option<&Notice> {
        self.entry().notice.as_ref()
    }

    /// Recent profiles, newest first.
    pub fn recent(&self) -> &[PathBuf] {
        &self.recent
    }

    /// Tabs closed and kept for Reopen closed tab.
    pub fn closed_tabs(&self) -> usize {
        self.closed.len()
    }

    /// True while a file dialog (or the path prompt standing in for one) is open.
    pub fn dialog_open(&self) -> bool {
        self.dialogs.busy()
    }

    /// True while the window waits for an answer to a question (close a tab, quit).
    pub fn asking(&self) -> bool {
        self.confirm.is_some()
    }

    /// What would be saved now for the next start.
    pub fn workspace(&self) -> Workspace {
        Workspace {
            tabs: self
                .tabs
                .iter()
                .map(|e| SavedTab {
                    path: e.path.clone(),
                    profile: e.profile(),
                    number: Some(e.number),
                })
                .collect(),
            active: self.active,
            lang: self.lang_chosen,
            theme: self.theme,
            zoom: self.zoom,
            recent: self.recent.clone(),
            recent_specs: super::protocol_pick::recent_specs(),
        }
    }

    /// Switches the language of every label, now.
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
        self.lang_chosen = Some(lang);
        i18n::set_lang(lang);
        // A Find error is worded again in the new language (it stayed English until the
        // query was typed again).
        for entry in &mut self.tabs {
            if entry.tab.view.search_error.is_some() {
                entry.tab.apply(UiAction::Search);
            }
        }
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`tabs` is never empty: every removal adds a tab back when it empties it"
    )]
    fn entry(&self) -> &TabEntry {
        &self.tabs[self.active.min(self.tabs.len() - 1)]
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "`tabs` is never empty: every removal adds a tab back when it empties it"
    )]
    fn entry_mut(&mut self) -> &mut TabEntry {
        let last = self.tabs.len() - 1;
        &mut self.tabs[self.active.min(last)]
    }

    fn entry_by_id(&mut self, id: u64) -> Option<&mut TabEntry> {
        self.tabs.iter_mut().find(|e| e.id == id)
    }

    fn add_tab(&mut self, profile: Profile, path: Option<PathBuf>) -> usize {
        self.add_tab_numbered(profile, path, None)
    }

    /// Adds a tab that is "Session `number`" (a restored one), or the next number.
    fn add_tab_numbered(
        &mut self,
        profile: Profile,
        path: Option<PathBuf>,
        number: Option<usize>,
    ) -> usize {
        let number = number.unwrap_or(self.tabs_made + 1);
        self.tabs_made = self.tabs_made.max(number);
        let id = self.next_id;
        self.next_id += 1;
        let mut entry = TabEntry::new(id, number, profile, path, self.notify.clone());
        if entry.auto_connect {
            entry.tab.apply(UiAction::ToggleOpen);
        }
        self.tabs.push(entry);
        self.tabs.len() - 1
    }

    /// A new tab with the active tab's settings (port, encoding, framing, quick commands…):
    /// a second device of the same kind is one click away. Its rules, scripts and tables stay
    /// behind: a "blank" tab on another port answered Modbus requests with the copied rules.
    fn new_tab_like_this(&mut self) {
        let mut form = self.entry().tab.form.clone();
        form.history.clear();
        form.automation = crate::rules::Automation::default();
        let profile = Profile {
            session: form,
            ..Profile::default()
        };
        self.active = self.add_tab(profile, None);
    }

    /// Closes tab `n`, asking first if its session is open or its log cannot be kept.
    /// Closed tabs can be reopened.
    fn ask_close_tab(&mut self, n: usize) {
        let Some(entry) = self.tabs.get(n) else {
            return;
        };
        if entry.tab.is_open() || !log_kept_on_close(entry) {
            self.confirm = Some(Confirm::CloseTab(entry.id));
        } else {
            self.close_tab(n);
        }
    }

    fn close_tab(&mut self, n: usize) {
        if n >= self.tabs.len() {
            return;
        }
        let mut entry = self.tabs.remove(n);
        // Its session ends (the I/O thread is joined); a small log stays for Reopen closed
        // tab, a large one is dropped and its memory given back to the OS.
        entry.tab.session.close();
        if !log_kept_on_close(&entry) {
            let held = entry.tab.session.capture().log.held_bytes();
            entry.tab.apply(UiAction::ClearLog);
            let note = Note::say(S::LogNotKept, [arg(human_bytes(held as u64))]);
            entry.say(note, false);
        }
        self.closed.push(entry);
        if self.closed.len() > CLOSED_KEPT {
            self.closed.remove(0);
        }
        if self.tabs.is_empty() {
            self.add_tab(Profile::default(), None);
        }
        if self.active > n || self.active >= self.tabs.len() {
            self.active = self.active.saturating_sub(1);
        }
    }

    fn reopen_closed_tab(&mut self) {
        if let Some(entry) = self.closed.pop() {
            self.tabs.push(entry);
            self.active = self.tabs.len() - 1;
        }
    }

    fn remember_recent(&mut self, path: &Path) {
        self.recent.retain(|p| p != path);
        self.recent.insert(0, path.to_path_buf());
        self.recent.truncate(RECENT_LEN);
    }

    /// Says in the tab shown that another SockScope window is open and keeps the saved
    /// workspace: this one's tabs are its own.
    pub fn say_second_window(&mut self) {
        self.entry_mut().say(Note::say(S::SecondWindow, []), false);
    }

    /// Opens a profile: into the active tab if nothing was done there yet, else into a new
    /// one. A file that does not load changes nothing and says why.
    pub fn open_profile(&mut self, path: &Path) {
        let shown = path.display().to_string();
        let loaded = match profile::load(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                let note = Note::say(S::ProfileFailed, [arg(shown), arg(e.to_string())]);
                self.entry_mut().say(note, true);
                return;
            }
        };
        if self.entry().is_pristine() {
            // The new tab takes the untouched one's place (the old one is dropped).
            self.add_tab(loaded.profile, Some(path.to_path_buf()));
            self.tabs.swap_remove(self.active.min(self.tabs.len() - 1));
        } else {
            self.active = self.add_tab(loaded.profile, Some(path.to_path_buf()));
        }
        self.remember_recent(path);
        let entry = self.entry_mut();
        entry.must_save_as = !loaded.warnings.is_empty();
        for warning in &loaded.warnings {
            let note = Note::say(
                S::ProfileWarning,
                [arg(shown.clone()), arg(warning.clone())],
            );
            entry.say(note, true);
        }
        if loaded.warnings.is_empty() {
            entry.say(Note::say(S::ProfileOpened, [arg(shown.clone())]), false);
        }
        if let Some(first) = loaded.warnings.first() {
            // The first warning is the one to read first.
            let note = Note::say(S::ProfileWarning, [arg(shown), arg(first.clone())]);
            entry.notice = Some(Notice {
                note: Arc::new(note),
                error: true,
                at: std::time::Instant::now(),
            });
        }
    }

    /// Saves the active tab to `path` (temp file, then rename) and remembers it there.
    pub fn save_profile_to(&mut self, path: &Path) {
        let id = self.entry().id;
        self.save_tab_to(id, path);
    }

    fn save_tab_to(&mut self, id: u64, path: &Path) {
        let shown = path.display().to_string();
        let Some(entry) = self.entry_by_id(id) else {
            return;
        };
        match profile::save(path, &entry.profile()) {
            Ok(()) => {
                entry.path = Some(path.to_path_buf());
                entry.must_save_as = false;
                // Saved all the same, but said: `sockscope run` refuses a rule with a mistake.
                let form = &entry.tab.form;
                let mistake = form
                    .automation
                    .active()
                    .then(|| crate::rules::Machine::compile(&form.automation, form.encoding).err())
                    .flatten();
                match mistake {
                    Some(e) => {
                        let why = e.message.lines().next().unwrap_or_default().to_owned();
                        let note = Note::say(S::ProfileSavedWithMistake, [arg(shown), arg(why)]);
                        entry.say(note, true);
                    }
                    None => entry.say(Note::say(S::ProfileSaved, [arg(shown)]), false),
                }
                self.remember_recent(path);
            }
            Err(e) => {
                // Windows keeps COM1, CON, NUL … for devices: its "Access denied" says nothing
                // of that.
                let why = match reserved_stem(path) {
                    Some(stem) if cfg!(windows) => tf(S::ReservedFileName, &[&stem, &stem]),
                    _ => e.to_string(),
                };
                let note = Note::say(S::ProfileSaveFailed, [arg(shown), arg(why)]);
                entry.say(note, true);
            }
        }
    }

    /// Saves the active tab to its file, or asks where (a tab never saved, Save As, or one
    /// opened with warnings).
    fn save_profile(&mut self, ctx: &egui::Context, ask: bool) {
        let entry = self.entry();
        let (path, must_save_as, id) = (entry.path.clone(), entry.must_save_as, entry.id);
        let name = format!("{}.{}", sanitize(&entry.title()), profile::EXTENSION);
        match (path, ask || must_save_as) {
            (Some(path), false) => self.save_profile_to(&path),
            _ => {
                if must_save_as && !ask {
                    let note = Note::say(S::ProfileSaveAsAfterWarnings, []);
                    self.entry_mut().say(note, false);
                }
                let request = FileRequest::SaveProfile(name);
                self.dialogs.ask(
                    Ask {
                        request,
                        tab: Some(id),
                    },
                    ctx,
                );
            }
        }
    }

    /// Does what the user chose in a dialog.
    fn answered(&mut self, answer: Answer) {
        let Answer { ask, path } = answer;
        match (ask.request, ask.tab) {
            (FileRequest::OpenProfile, _) => self.open_profile(&path),
            (FileRequest::LoadReport(json), _) => {
                let note = match self.load.save(&path, json) {
                    Ok(()) => (
                        Note::say(S::EvLoadSaved, [arg(path.display().to_string())]),
                        false,
                    ),
                    Err(why) => (Note::text(why), true),
                };
                self.entry_mut().say(note.0, note.1);
            }
            (FileRequest::SaveProfile(_), Some(id)) => self.save_tab_to(id, &path),
            (FileRequest::ExportSpec(name), _) => self.export_spec(&name, &path),
            (request, Some(id)) => {
                let action = match request {
                    FileRequest::SendFile => UiAction::SendFile(path),
                    FileRequest::Export(format) => UiAction::Export(format, path),
                    FileRequest::Record(format) => UiAction::StartRecording(format, path),
                    FileRequest::Pem(field) => UiAction::SetPem(field, path),
                    FileRequest::ExportFields(_) => UiAction::ExportFields(path),
                    FileRequest::ExportPlot => {
                        UiAction::Plot(super::plot_ui::PlotAction::Export(path))
                    }
                    FileRequest::OpenSpec(replies) => {
                        super::protocol_pick::remember_spec(&path);
                        UiAction::SetProtocol(path.display().to_string(), replies)
                    }
                    FileRequest::OpenProfile
                    | FileRequest::ExportSpec(_)
                    | FileRequest::SaveProfile(_)
                    | FileRequest::LoadReport(_) => return,
                };
                if let Some(entry) = self.entry_by_id(id) {
                    entry.tab.apply(action);
                    // A recording that could not start is said where it is seen at once,
                    // not only in a log row that scrolls away under incoming data.
                    if let Some(note) = entry.tab.record_failed.take() {
                        entry.notice = Some(Notice {
                            note: Arc::new(note),
                            error: true,
                            at: std::time::Instant::now(),
                        });
                    }
                }
            }
            (_, None) => {}
        }
    }

    /// Saves a built-in protocol's spec file for editing, and says where (or why not).
    fn export_spec(&mut self, name: &str, path: &Path) {
        let source = protocol::builtin(name).map(|p| p.source.clone());
        let shown = path.display().to_string();
        let note = match source.map(|text| std::fs::write(path, text)) {
            Some(Ok(())) => (
                Note::say(S::SpecExported, [arg(name.to_owned()), arg(shown)]),
                false,
            ),
            Some(Err(e)) => (
                Note::say(S::SpecExportFailed, [arg(shown), arg(e.to_string())]),
                true,
            ),
            None => (Note::text(tf(S::ProtoNoProtocol, &[&name, &""])), true),
        };
        self.entry_mut().say(note.0, note.1);
    }

    /// Takes the dialogs' answers (and says why one fell back to the path prompt).
    /// The Load and Tools windows, which belong to no tab.
    fn tool_windows_ui(&mut self, ctx: &egui::Context) {
        if let Some(super::load_ui::LoadAsk::Save(json)) =
            super::load_ui::load_window(ctx, &mut self.load)
        {
            let request = FileRequest::LoadReport(json);
            self.dialogs.ask(Ask { request, tab: None }, ctx);
        }
        if let Some(ip) = tools::tools_ui(ctx, &mut self.tools, &self.interfaces) {
            let tab = self.tab_mut();
            if !tab.is_open() {
                tab.form.local_ip = ip.to_string();
            }
        }
    }

    fn dialogs_ui(&mut self, ctx: &egui::Context) {
        // Why the prompt stands in for a dialog: in the log, and in the prompt itself — not
        // as a notice over the log's toolbar, where the next click was meant for Export.
        if let Some(why) = self.dialogs.fell_back.take() {
            let note = Note::text(super::dialogs::fell_back_note(&why));
            self.entry_mut().log_note(note, false);
        }
        let mut answers = self.dialogs.answers();
        answers.extend(self.dialogs.prompt_ui(ctx));
        if let Some(why) = self.dialogs.fell_back.take() {
            let note = Note::text(super::dialogs::fell_back_note(&why));
            self.entry_mut().log_note(note, false);
        }
        for answer in answers {
            self.answered(answer);
        }
    }

    /// Does what an app-level action says.
    #[expect(clippy::too_many_lines, reason = "one arm per action of the table")]
    pub fn run(&mut self, ctx: &egui::Context, action: Action) {
        if let Some(tab_action) = action.tab_action() {
            self.entry_mut().tab.apply(tab_action);
            return;
        }
        match action {
            Action::OpenProfile => {
                let ask = Ask {
                    request: FileRequest::OpenProfile,
                    tab: None,
                };
                self.dialogs.ask(ask, ctx);
            }
            Action::SaveProfile => self.save_profile(ctx, false),
            Action::SaveProfileAs => self.save_profile(ctx, true),
            Action::NewTab => self.new_tab_like_this(),
            Action::NewEmptyTab => {
                self.active = self.add_tab(Profile::default(), None);
            }
            Action::CloseTab => self.ask_close_tab(self.active),
            Action::ReopenTab => self.reopen_closed_tab(),
            Action::Quit => ctx.send_viewport_cmd(egui::ViewportCommand::Close),
            Action::Interfaces => {
                self.interfaces = engine::local_addresses();
                self.nics = engine::interfaces();
                self.tools.interfaces_open = true;
            }
            Action::Inspector => {
                self.tools.inspector_open = true;
                self.tools.focus_inspector = true;
            }
            Action::About => self.tools.about_open = true,
            Action::Load => {
                if !self.load.running() {
                    // The current tab's peer is the likely target, spoken as the tab speaks
                    // (TLS, WebSocket).
                    let tab = &self.tab().form;
                    let capture = self.tab().session.capture();
                    let listening = match &capture.link {
                        sockscope_core::capture::LinkState::Listening(local) => Some(*local),
                        _ => None,
                    };
                    drop(capture);
                    let scheme = match (tab.tls_on, tab.ws_on) {
                        (true, true) => "wss://",
                        (true, false) => "tls://",
                        (false, true) => "ws://",
                        (false, false) => "",
                    };
                    let path = if tab.ws_on {
                        tab.ws.path.trim().to_owned()
                    } else {
                        String::new()
                    };
                    let caps = tab.mode.caps();
                    let host_port = match listening {
                        Some(local) => {
                            let ip = match local.ip() {
                                ip if !ip.is_unspecified() => ip,
                                std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                                std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                            };
                            Some(std::net::SocketAddr::new(ip, local.port()).to_string())
                        }
                        // A client's server, a UDP tab's destination (a relay's upstream is
                        // reached through the relay's own port, which is listening).
                        None if (caps.connects || caps.datagrams) && !tab.remote_ip.is_empty() => {
                            let ip = tab.remote_ip.trim();
                            Some(if ip.contains(':') && !ip.starts_with('[') {
                                format!("[{ip}]:{}", tab.remote_port)
                            } else {
                                format!("{ip}:{}", tab.remote_port)
                            })
                        }
                        _ => None,
                    };
                    let tls_tab = tab.tls_on && caps.tls.is_some();
                    let verify = if !tls_tab {
                        engine::Verify::System
                    } else if listening.is_some() {
                        // Our own server: exactly its certificate, whatever names it has.
                        own_fingerprint(&tab.tls)
                            .map_or(engine::Verify::System, engine::Verify::Pin)
                    } else {
                        tab.tls.verify.clone()
                    };
                    let udp = caps.datagrams;
                    if let Some(host_port) = host_port {
                        let scheme = if udp { "" } else { scheme };
                        let path = if scheme.starts_with("ws") && !path.starts_with('/') {
                            format!("/{path}")
                        } else {
                            path
                        };
                        self.load.target = format!("{scheme}{host_port}{path}");
                        self.load.udp = udp;
                        self.load.verify = verify;
                        self.load.verify_for.clone_from(&self.load.target);
                    }
                }
                self.load.open = true;
            }
            Action::Send
            | Action::ClearLog
            | Action::Find
            | Action::Rules
            | Action::Scripts
            | Action::Plot
            | Action::Compose => {}
        }
    }

    fn menu_bar_ui(&mut self, ui: &mut egui::Ui, run: &mut Vec<Action>) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button(t(S::MenuFile), |ui| {
                for action in [
                    Action::NewTab,
                    Action::NewEmptyTab,
                    Action::ReopenTab,
                    Action::OpenProfile,
                    Action::SaveProfile,
                    Action::SaveProfileAs,
                ] {
                    if action.menu_item_ui(ui) {
                        run.push(action);
                    }
                }
                ui.menu_button(t(S::RecentProfiles), |ui| {
                    if self.recent.is_empty() {
                        ui.weak(t(S::NoRecent));
                    }
                    let mut open = None;
                    for path in &self.recent {
                        if ui.button(path.display().to_string()).clicked() {
                            open = Some(path.clone());
                            ui.close();
                        }
                    }
                    if let Some(path) = open {
                        self.open_profile(&path);
                    }
                });
                let entry = self.entry_mut();
                ui.checkbox(&mut entry.auto_connect, t(S::AutoConnect))
                    .on_hover_text(t(S::TipAutoConnect));
                ui.separator();
                for action in [Action::CloseTab, Action::Quit] {
                    if action.menu_item_ui(ui) {
                        run.push(action);
                    }
                }
            });
            ui.menu_button(t(S::MenuView), |ui| {
                for action in [Action::Find, Action::ClearLog] {
                    if action.menu_item_ui(ui) {
                        run.push(action);
                    }
                }
                ui.separator();
                ui.label(t(S::Language));
                for lang in Lang::ALL {
                    if ui.radio(self.lang == lang, lang.name()).clicked() {
                        self.set_lang(lang);
                    }
                }
                ui.separator();
                ui.label(t(S::Theme));
                for (theme, name) in [
                    (Theme::System, S::System),
                    (Theme::Light, S::Light),
                    (Theme::Dark, S::Dark),
                ] {
                    if ui.radio(self.theme == theme, t(name)).clicked() {
                        self.theme = theme;
                        ui.ctx().set_theme(theme.preference());
                    }
                }
                ui.separator();
                let label = ui.label(t(S::UiScale));
                let slider = egui::Slider::new(&mut self.zoom, ZOOM_RANGE)
                    .step_by(0.05)
                    .fixed_decimals(2);
                let response = ui
                    .add(slider)
                    .labelled_by(label.id)
                    .on_hover_text(t(S::TipUiScale));
                // Applied when the drag ends, so the slider does not move under the pointer.
                if response.drag_stopped() || (response.changed() && !response.dragged()) {
                    ui.ctx().set_zoom_factor(self.zoom);
                }
            });
            ui.menu_button(t(S::MenuTools), |ui| {
                for action in [
                    Action::Interfaces,
                    Action::Inspector,
                    Action::Rules,
                    Action::Scripts,
                    Action::Plot,
                    Action::Compose,
                    Action::Load,
                ] {
                    if action.menu_item_ui(ui) {
                        run.push(action);
                    }
                }
            });
            ui.menu_button(t(S::MenuHelp), |ui| {
                if Action::About.menu_item_ui(ui) {
                    run.push(Action::About);
                }
            });
        });
    }

    /// Profiles dropped on the window open; anything else is refused with a message. While
    /// files hover, the window says what dropping does.
    fn dropped_files_ui(&mut self, ctx: &egui::Context) {
        let (hovering, dropped) = ctx.input(|i| {
            let paths: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            (!i.raw.hovered_files.is_empty(), paths)
        });
        for path in dropped {
            let is_profile = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case(profile::EXTENSION));
            if is_profile {
                self.open_profile(&path);
            } else {
                let note = Note::say(S::NotAProfileFile, [arg(path.display().to_string())]);
                self.entry_mut().say(note, true);
            }
        }
        if hovering {
            egui::Area::new(egui::Id::unique("drop_hint"))
                .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
                .order(egui::Order::Foreground)
                .show(ctx, |ui| {
                    egui::Frame::popup(ui.style()).show(ui, |ui| {
                        ui.heading(t(S::DropProfile));
                    });
                });
        }
    }

    /// Closing the window with sessions open asks first.
    fn close_requested(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.viewport().close_requested()) || self.quit_confirmed {
            return;
        }
        if self.tabs.iter().any(|e| e.tab.is_open()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Confirm::Quit);
        }
    }

    /// The question the window waits for, if any.
    fn confirm_ui(&mut self, ctx: &egui::Context) {
        let Some(confirm) = self.confirm else {
            return;
        };
        let (question, yes) = match confirm {
            Confirm::CloseTab(id) => {
                let Some(entry) = self.tabs.iter().find(|e| e.id == id) else {
                    self.confirm = None;
                    return;
                };
                let title = entry.title();
                let held = human_bytes(entry.tab.session.capture().log.held_bytes() as u64);
                let question = match (entry.tab.is_open(), log_kept_on_close(entry)) {
                    (true, true) => tf(S::AskCloseTab, &[&title]),
                    (true, false) => tf(S::AskCloseTabBoth, &[&title, &held]),
                    (false, _) => tf(S::AskCloseTabLog, &[&title, &held]),
                };
                (question, t(S::CloseTabAnyway))
            }
            Confirm::Quit => {
                let open = self.tabs.iter().filter(|e| e.tab.is_open()).count();
                (
                    tf(if open == 1 { S::AskQuitOne } else { S::AskQuit }, &[&open]),
                    t(S::QuitAnyway),
                )
            }
        };
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("confirm")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            ui.label(question);
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let go = ui.button(yes);
                super::testhook::tag(ui, &go, "confirm.yes");
                if go.clicked() || ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    answer = Some(true);
                }
                if ui.button(t(S::Cancel)).clicked() {
                    answer = Some(false);
                }
            });
        });
        if modal.should_close() {
            answer = Some(false);
        }
        match answer {
            Some(true) => {
                self.confirm = None;
                match confirm {
                    Confirm::CloseTab(id) => {
                        if let Some(n) = self.tabs.iter().position(|e| e.id == id) {
                            self.close_tab(n);
                        }
                    }
                    Confirm::Quit => {
                        self.quit_confirmed = true;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
            }
            Some(false) => self.confirm = None,
            None => {}
        }
    }
}

/// A closed tab keeps its log for Reopen closed tab up to this size; a larger one is dropped
/// (after asking), so closing a flooded tab gives its memory back.
const CLOSED_LOG_KEPT: usize = 16 << 20;

fn log_kept_on_close(entry: &TabEntry) -> bool {
    entry.tab.session.capture().log.held_bytes() <= CLOSED_LOG_KEPT
}

impl App {
    /// Native file dialogs open owned by this window (on Windows: in front of it, and the
    /// window takes no clicks until they are answered).
    fn own_dialogs(&self, frame: &eframe::Frame) {
        #[cfg(windows)]
        {
            use raw_window_handle::{HasWindowHandle as _, RawWindowHandle};
            if let Ok(handle) = frame.window_handle()
                && let RawWindowHandle::Win32(win32) = handle.as_raw()
            {
                self.dialogs.set_owner(win32.hwnd.get());
            }
        }
        let _ = (self, frame);
    }
}

/// What the last run saved: its workspace, or the single form older versions saved as one tab.
fn saved_workspace(storage: &dyn eframe::Storage) -> Workspace {
    eframe::get_value::<Workspace>(storage, WORKSPACE_KEY)
        .or_else(|| eframe::get_value::<Form>(storage, OLD_FORM_KEY).map(Workspace::one_tab))
        .unwrap_or_default()
}

/// The stem of `path` when it is a name Windows keeps for a device (`COM1.ron`, `nul.txt`).
fn reserved_stem(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.split('.').next().unwrap_or(name).trim_end();
    windows_device(stem).then(|| stem.to_owned())
}

/// A file name from a tab title: characters no OS allows in names become `_`; a name Windows
/// keeps for a device (`COM1`, `CON`, `NUL`, also with an extension: `aux.log`) gets a `_`
/// after its stem, and dots or spaces at the end (which Windows drops) go.
fn sanitize(title: &str) -> String {
    let name: String = title
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    let name = name.trim().trim_end_matches(['.', ' ']);
    if name.is_empty() {
        return "sockscope".into();
    }
    let (stem, rest) = name.split_at(name.find('.').unwrap_or(name.len()));
    if windows_device(stem.trim_end()) {
        format!("{}_{rest}", stem.trim_end())
    } else {
        name.to_owned()
    }
}

/// True for a name Windows keeps for a device, whatever its case: `CON`, `PRN`, `AUX`, `NUL`,
/// `COM0`–`COM9`, `LPT0`–`LPT9` (also with ¹ ² ³), `CONIN$`, `CONOUT$`.
fn windows_device(stem: &str) -> bool {
    let upper = stem.to_uppercase();
    if ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&upper.as_str()) {
        return true;
    }
    let port = upper
        .strip_prefix("COM")
        .or_else(|| upper.strip_prefix("LPT"));
    port.is_some_and(|n| {
        let mut chars = n.chars();
        matches!(
            (chars.next(), chars.next()),
            (Some('0'..='9' | '¹' | '²' | '³'), None)
        )
    })
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let mut more = false;
        for entry in &mut self.tabs {
            more |= entry.tab.background_work();
        }
        if let Some(bytes) = self.exit_after_rx
            && self.tab().session.capture().counters.rx_bytes >= bytes
        {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            println!("{}", now.map_or(0, |d| d.as_nanos()));
            self.exit_after_rx = None;
            self.quit_confirmed = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if more {
            ctx.request_repaint();
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.own_dialogs(frame);
        i18n::set_lang(self.lang);
        self.close_requested(&ctx);
        // Shortcuts are taken before the widgets see the keys (Ctrl+Enter is no newline), but
        // what they do to a tab waits until the widgets have taken this frame's typing: text
        // typed in the same frame as Ctrl+Enter goes out with it.
        let pressed = Action::pressed(&ctx);
        let (mut tab_shortcuts, mut run): (Vec<Action>, Vec<Action>) =
            pressed.into_iter().partition(|a| a.tab_action().is_some());
        if let Some(n) = actions::tab_number_pressed(&ctx)
            && n < self.tabs.len()
        {
            self.active = n;
        }
        self.dropped_files_ui(&ctx);
        egui::Panel::top("menu_and_tabs").show(ui, |ui| {
            self.menu_bar_ui(ui, &mut run);
            let strip = tab_strip_ui(ui, &mut self.tabs, self.active, &mut run);
            if let Some(n) = strip.select {
                self.active = n;
            }
            if let Some(n) = strip.close {
                self.ask_close_tab(n);
            }
        });
        for action in run.drain(..) {
            self.run(&ctx, action);
        }
        self.dialogs_ui(&ctx);
        self.confirm_ui(&ctx);
        self.tool_windows_ui(&ctx);
        if self.interfaces_at.elapsed() >= INTERFACES_EVERY {
            self.interfaces = engine::local_addresses();
            self.nics = engine::interfaces();
            self.interfaces_at = std::time::Instant::now();
        }

        let (interfaces, nics) = (&self.interfaces, &self.nics);
        let active = self.active.min(self.tabs.len() - 1);
        let Some(entry) = self.tabs.get_mut(active) else {
            return;
        };
        let mut actions = Vec::new();
        // The capture is locked for the frame; the I/O thread goes on reading meanwhile and
        // the collector folds what arrived as soon as the frame is drawn.
        let mut frame = entry.tab.ui();
        entry.seen_rx = frame.capture.counters.rx_messages;
        let tab = &mut frame;
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            status_bar::status_bar_ui(ui, tab, &mut entry.notice, &mut actions);
        });
        // Wider on a wide screen (at 1920 px a 300 px column showed 18 characters of a
        // certificate's path); the user's own width is kept once dragged.
        let settings_width = (ui.ctx().content_rect().width() * 0.2).clamp(300.0, 420.0);
        egui::Panel::left("settings")
            .resizable(true)
            .default_size(settings_width)
            .min_size(250.0)
            .max_size(480.0)
            .show(ui, |ui| {
                // No horizontal shrink: the fields take the panel's width, never set it. Each
                // tab scrolls on its own: a new tab starts at the top.
                egui::ScrollArea::vertical()
                    .id_salt(("settings", entry.id))
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        settings::settings_ui(ui, tab, interfaces, nics, &mut actions);
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::Panel::bottom("send_panel")
                .resizable(true)
                .default_size(120.0)
                .min_size(80.0)
                .show(ui, |ui| {
                    send_panel::send_panel_ui(ui, tab, &mut entry.send_panel, &mut actions);
                });
            if tab.view.chart_open {
                egui::Panel::top("rate_chart").show(ui, |ui| {
                    status_bar::rate_chart_ui(ui, &mut *tab);
                });
            }
            // Each tab's lists keep their own scroll position.
            ui.push_id(("log", entry.id), |ui| {
                log_view::log_view_ui(ui, tab, &mut actions);
            });
        });
        super::rules_ui::windows_ui(&ctx, tab, &mut actions);
        super::plot_ui::window_ui(&ctx, tab, &mut actions);
        drop(frame);
        actions.extend(tab_shortcuts.drain(..).filter_map(Action::tab_action));
        let id = entry.id;
        for action in actions {
            match action {
                UiAction::AskFile(request) => {
                    let tab = Some(id);
                    self.dialogs.ask(Ask { request, tab }, &ctx);
                }
                action => entry.tab.apply(action),
            }
        }
        super::testhook::write(&ctx);
        if let Some(started) = self.first_frame_from.take() {
            println!("{:.0}", started.elapsed().as_secs_f64() * 1000.0);
            self.quit_confirmed = true;
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, WORKSPACE_KEY, &self.workspace());
    }
}
/// The certificate a TLS server tab presents, as a pin: its kept self-signed one, or the
/// first in its certificate file.
fn own_fingerprint(tls: &engine::TlsSettings) -> Option<String> {
    match &tls.server_cert {
        engine::ServerCert::SelfSigned(_) => tls
            .kept
            .as_ref()
            .and_then(engine::KeptCert::info)
            .map(|i| i.sha256),
        engine::ServerCert::Files { cert, .. } => engine::fingerprint_of_file(cert).ok(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// eframe's store, in memory.
    #[derive(Default)]
    struct Memory(HashMap<String, String>);

    impl eframe::Storage for Memory {
        fn get_string(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned()
        }
        fn set_string(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
        fn remove_string(&mut self, key: &str) {
            self.0.remove(key);
        }
        fn flush(&mut self) {}
    }

    #[test]
    fn the_saved_workspace_comes_back_and_an_older_single_form_becomes_one_tab() {
        let form = Form {
            remote_port: "502".into(),
            ..Form::default()
        };
        let mut old = Memory::default();
        eframe::set_value(&mut old, OLD_FORM_KEY, &form);
        let restored = saved_workspace(&old);
        assert_eq!(restored.tabs.len(), 1);
        assert_eq!(restored.tabs[0].profile.session, form);

        let mut new = Memory::default();
        let mut workspace = Workspace::one_tab(form);
        workspace.lang = Some(Lang::Zh);
        workspace.zoom = 1.25;
        eframe::set_value(&mut new, WORKSPACE_KEY, &workspace);
        eframe::set_value(&mut new, OLD_FORM_KEY, &Form::default());
        assert_eq!(
            saved_workspace(&new),
            workspace,
            "the workspace wins over the old key"
        );
        assert_eq!(saved_workspace(&Memory::default()), Workspace::default());
    }

    #[test]
    fn titles_become_file_names() {
        assert_eq!(sanitize("PLC 1号"), "PLC 1号");
        assert_eq!(sanitize("a/b:c?"), "a_b_c_");
        assert_eq!(sanitize("  "), "sockscope");
    }

    #[test]
    fn a_device_name_typed_for_a_profile_is_named_as_one() {
        for (path, stem) in [
            ("C:/users/me/COM1.ron", Some("COM1")),
            ("nul.ron", Some("nul")),
            ("aux", Some("aux")),
            ("COM10.ron", None),
            ("plc.ron", None),
        ] {
            assert_eq!(reserved_stem(Path::new(path)).as_deref(), stem, "{path}");
        }
    }

    #[test]
    fn a_windows_device_name_or_a_dot_at_the_end_becomes_a_file_name_windows_takes() {
        for (title, name) in [
            ("COM1", "COM1_"),
            ("com3", "com3_"),
            ("CON", "CON_"),
            ("nul", "nul_"),
            ("LPT1", "LPT1_"),
            ("COM²", "COM²_"),
            ("aux.log", "aux_.log"),
            ("PRN .x", "PRN_.x"),
            ("modem.", "modem"),
            ("modem . ", "modem"),
            ("...", "sockscope"),
            // Not devices: a longer name, a number past 9, a word that starts like one.
            ("COM10", "COM10"),
            ("COM1 modem", "COM1 modem"),
            ("console", "console"),
            ("PLC 1号", "PLC 1号"),
        ] {
            assert_eq!(sanitize(title), name, "{title}");
        }
    }
}
