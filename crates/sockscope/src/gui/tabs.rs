//! The tabs of the window: each a session with its form and log, a name, a profile file, and a
//! notice of its own; the strip that shows them with their state and unread counts.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use eframe::egui::{self, RichText};

use super::actions::Action;
use super::i18n::{S, t, tf};
use super::model::Notice;
use super::send_panel::SendPanelState;
use super::state::Tab;
use crate::capture::{LinkState, Note};
use crate::profile::Profile;

/// One tab of the window.
pub struct TabEntry {
    /// Never reused while the program runs: dialogs answer the tab that asked by it.
    pub id: u64,
    /// The session, its form and log.
    pub tab: Tab,
    /// The name the user gave or the profile's; `None`: the file's, or "Session N" worded
    /// when shown.
    pub name: Option<String>,
    /// N of "Session N".
    pub number: usize,
    /// The profile file, once opened or saved.
    pub path: Option<PathBuf>,
    /// Saved in the profile: open the session as soon as the profile is opened.
    pub auto_connect: bool,
    /// Opened with warnings: Save asks where, so the original file is not silently replaced.
    pub must_save_as: bool,
    /// The panel's own state (quick command editor, name being typed).
    pub send_panel: SendPanelState,
    /// Received messages already seen (the rest is the unread count).
    pub seen_rx: u64,
    /// The new name being typed in the tab's context menu.
    pub rename: Option<String>,
    /// This tab's notice.
    pub notice: Option<Notice>,
}

impl TabEntry {
    /// A tab for `profile` (from `path`, if it came from a file), numbered `number`.
    pub fn new(
        id: u64,
        number: usize,
        profile: Profile,
        path: Option<PathBuf>,
        notify: crate::engine::Notify,
    ) -> Self {
        let name = Some(profile.name.clone()).filter(|n| !n.trim().is_empty());
        Self {
            id,
            tab: Tab::new(profile.session, notify),
            name,
            number,
            path,
            auto_connect: profile.auto_connect,
            must_save_as: false,
            send_panel: SendPanelState::default(),
            seen_rx: 0,
            rename: None,
            notice: None,
        }
    }

    /// The name on the tab: the one given, else the profile file's, else "Session N" in the
    /// current language.
    pub fn title(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let from_file = crate::profile::display_name(&Profile::default(), self.path.as_deref());
        if from_file.is_empty() {
            tf(S::NewTabName, &[&self.number])
        } else {
            from_file
        }
    }

    /// The tab as a profile (name, auto-connect, settings).
    pub fn profile(&self) -> Profile {
        Profile {
            name: self.name.clone().unwrap_or_default(),
            auto_connect: self.auto_connect,
            session: self.tab.form.clone(),
            ..Profile::default()
        }
    }

    /// Messages received while the tab was not shown.
    pub fn unread(&self) -> u64 {
        self.tab
            .session
            .capture()
            .counters
            .rx_messages
            .saturating_sub(self.seen_rx)
    }

    /// ● open, ○ idle, ⚠ the last attempt failed.
    pub fn state_mark(&self) -> &'static str {
        let open = self.tab.is_open();
        let capture = self.tab.session.capture();
        let up = matches!(
            capture.link,
            LinkState::Connected { .. } | LinkState::Listening(_)
        );
        if up || open {
            "●"
        } else if capture.last_error.is_some() {
            "⚠"
        } else {
            "○"
        }
    }

    /// Nothing done in it yet: opening a profile may reuse it instead of adding a tab.
    pub fn is_pristine(&self) -> bool {
        !self.tab.is_open() && self.tab.session.capture().log.is_empty() && self.path.is_none()
    }

    /// Says `note` in this tab: in its log and as its notice.
    pub fn say(&mut self, note: Note, error: bool) {
        let note = Arc::new(note);
        push_note(&self.tab, Arc::clone(&note), error);
        self.notice = Some(Notice {
            note,
            error,
            at: Instant::now(),
        });
    }

    /// Says `note` in this tab's log only.
    pub fn log_note(&mut self, note: Note, error: bool) {
        push_note(&self.tab, Arc::new(note), error);
    }
}

/// Says `note` in a tab's log (the notice is left as it is).
fn push_note(tab: &Tab, note: Arc<Note>, error: bool) {
    let kind = if error {
        crate::capture::RecordKind::Error
    } else {
        crate::capture::RecordKind::Info
    };
    let now = std::time::SystemTime::now();
    tab.session
        .capture()
        .log
        .push_note(now, kind, None, None, note);
}

/// What the strip asked for.
#[derive(Default)]
pub struct StripOutcome {
    /// A tab was clicked.
    pub select: Option<usize>,
    /// A tab's Close was chosen.
    pub close: Option<usize>,
}

/// The row of tabs: state mark, name, unread count; right-click to rename or close; + for a
/// new tab.
pub fn tab_strip_ui(
    ui: &mut egui::Ui,
    tabs: &mut [TabEntry],
    active: usize,
    run: &mut Vec<Action>,
) -> StripOutcome {
    let mut outcome = StripOutcome::default();
    ui.horizontal_wrapped(|ui| {
        for (n, entry) in tabs.iter_mut().enumerate() {
            let unread = if n == active { 0 } else { entry.unread() };
            let mut text = format!("{} {}", entry.state_mark(), entry.title());
            if unread > 0 {
                let _ = write!(text, " ({unread})");
            }
            let mut label = RichText::new(text);
            if unread > 0 {
                label = label.strong();
            }
            let response = ui
                .selectable_label(n == active, label)
                .on_hover_text(tf(S::TipTab, &[&(n + 1)]));
            super::testhook::tag(ui, &response, &format!("tab.{n}"));
            if response.clicked() {
                outcome.select = Some(n);
            }
            if tab_menu_ui(&response, entry) {
                outcome.close = Some(n);
            }
        }
        let plus = ui.small_button("+").on_hover_text(Action::NewTab.tooltip());
        if plus.clicked() {
            run.push(Action::NewTab);
        }
    });
    outcome
}

/// The tab's context menu: a name field (focused when the menu opens; Enter renames, Esc
/// cancels) and Close. A click into the field keeps the menu open. True if Close was chosen.
fn tab_menu_ui(response: &egui::Response, entry: &mut TabEntry) -> bool {
    let mut close = false;
    let menu = egui::Popup::context_menu(response)
        .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside)
        .show(|ui| {
            let opening = entry.rename.is_none();
            let current = entry.title();
            let name = entry.rename.get_or_insert(current);
            let label = ui.label(t(S::Name));
            let field = ui.text_edit_singleline(name).labelled_by(label.id);
            super::testhook::tag(ui, &field, "tab.rename");
            if opening {
                field.request_focus();
            }
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button(t(S::Rename)).clicked() || enter {
                let typed = name.trim().to_owned();
                if !typed.is_empty() {
                    entry.name = Some(typed);
                }
                entry.rename = None;
                ui.close();
            }
            if ui.button(Action::CloseTab.label()).clicked() {
                close = true;
                ui.close();
            }
        });
    if menu.is_none() {
        // Closed (Esc, a click outside): the next opening starts from the name.
        entry.rename = None;
    }
    close
}
