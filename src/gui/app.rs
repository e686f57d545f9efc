//! The application: one tab, laid out as NetAssist users know it — settings on the left, the
//! log on the right, the send box under it, a status bar at the bottom.

use std::sync::Arc;
use std::time::Duration;

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use super::send_panel::SendPanelState;
use super::state::{Form, Tab, UiAction};
use super::{FilePicker, NativeFilePicker, fonts, log_view, send_panel, settings, status_bar};
use crate::engine::{self, Notify};

/// Storage key of the form in eframe's persistence.
const FORM_KEY: &str = "form";
/// Ctrl+Enter (Cmd+Enter on macOS) sends.
pub const SEND_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::Enter);
/// Ctrl+L clears the log.
pub const CLEAR_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::L);
/// Ctrl+F opens the search bar.
pub const FIND_SHORTCUT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
/// How long one frame may spend folding engine events in, so a flood cannot freeze the window.
const PUMP_BUDGET: Duration = Duration::from_millis(15);

/// The whole program as egui sees it.
pub struct App {
    tab: Tab,
    interfaces: Vec<(String, std::net::IpAddr)>,
    picker: Box<dyn FilePicker>,
    send_panel: SendPanelState,
}

impl App {
    /// Builds the app: fonts, the last session's form, and a repaint hook for the engine.
    pub fn new(cc: &eframe::CreationContext<'_>) -> Self {
        let form = cc
            .storage
            .and_then(|s| eframe::get_value::<Form>(s, FORM_KEY))
            .unwrap_or_default();
        Self::with_form(&cc.egui_ctx, form)
    }

    /// Builds the app with a given form (tests start from a known one).
    pub fn with_form(ctx: &egui::Context, form: Form) -> Self {
        fonts::install(ctx);
        let ctx = ctx.clone();
        // The I/O thread calls this once per poll round with events: it makes egui run
        // `logic` (even while the window is hidden) and, if visible, a frame.
        let notify: Notify = Arc::new(move || ctx.request_repaint());
        Self {
            tab: Tab::new(form, notify),
            interfaces: engine::local_addresses(),
            picker: Box::new(NativeFilePicker),
            send_panel: SendPanelState::default(),
        }
    }

    /// Replaces the file dialog (tests answer it themselves).
    #[must_use]
    pub fn with_picker(mut self, picker: Box<dyn FilePicker>) -> Self {
        self.picker = picker;
        self
    }

    /// The tab, for tests.
    pub fn tab(&self) -> &Tab {
        &self.tab
    }

    /// The tab, for tests that set up state.
    pub fn tab_mut(&mut self) -> &mut Tab {
        &mut self.tab
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.tab.pump(PUMP_BUDGET) {
            ctx.request_repaint();
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let mut actions = Vec::new();
        ui.input_mut(|input| {
            if input.consume_shortcut(&SEND_SHORTCUT) {
                actions.push(UiAction::Send);
            }
            if input.consume_shortcut(&CLEAR_SHORTCUT) {
                actions.push(UiAction::ClearLog);
            }
            if input.consume_shortcut(&FIND_SHORTCUT) {
                actions.push(UiAction::ToggleSearch);
            }
        });
        egui::Panel::bottom("status_bar").show(ui, |ui| {
            status_bar::status_bar_ui(ui, &self.tab, &mut actions);
        });
        egui::Panel::left("settings")
            .resizable(true)
            .default_size(300.0)
            .min_size(250.0)
            .max_size(480.0)
            .show(ui, |ui| {
                // No horizontal shrink: the fields take the panel's width, never set it.
                egui::ScrollArea::vertical()
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        settings::settings_ui(
                            ui,
                            &mut self.tab,
                            &self.interfaces,
                            &*self.picker,
                            &mut actions,
                        );
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            egui::Panel::bottom("send_panel")
                .resizable(true)
                .default_size(120.0)
                .min_size(80.0)
                .show(ui, |ui| {
                    send_panel::send_panel_ui(
                        ui,
                        &mut self.tab,
                        &mut self.send_panel,
                        &mut actions,
                    );
                });
            log_view::log_view_ui(ui, &mut self.tab, &*self.picker, &mut actions);
        });
        for action in actions {
            self.tab.apply(action);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, FORM_KEY, &self.tab.form);
    }
}
