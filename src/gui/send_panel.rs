//! Under the log: quick commands, the send box with Send and History, and a live preview of
//! exactly what goes on the wire (or what is wrong with the box, and where).

use eframe::egui::{self, RichText};

use super::send_options::checksum_editor_ui;
use super::settings::error_color;
use super::state::{QuickCommand, Tab, UiAction};
use crate::codec::TextEncoding;
use crate::codec::checksum::ChecksumKind;
use crate::codec::hex;
use crate::codec::payload::{InputMode, LineEnding, VARIABLES_HELP};

/// Preview shows at most this many bytes.
const PREVIEW_BYTES: usize = 48;

/// egui-side state of the panel: the quick command being edited and the name being typed.
#[derive(Default)]
pub struct SendPanelState {
    /// Index, the command as edited, and its fixed-trailer bytes as typed.
    editing: Option<(usize, QuickCommand, String)>,
    new_name: String,
}

/// Draws the send panel.
pub fn send_panel_ui(
    ui: &mut egui::Ui,
    tab: &mut Tab,
    state: &mut SendPanelState,
    actions: &mut Vec<UiAction>,
) {
    ui.add_space(4.0);
    quick_bar_ui(ui, tab, state, actions);
    ui.horizontal(|ui| {
        let side_width = 96.0;
        let box_width = (ui.available_width() - side_width - 8.0).max(100.0);
        let hint = match tab.form.tx_mode {
            InputMode::Hex => "Hex to send, e.g. 01 03 00 00 00 0A",
            InputMode::Escapes => "Text with escapes, e.g. AT+RST\\r\\n",
            InputMode::Text => "Text to send (Ctrl+Enter)",
        };
        let edit = egui::TextEdit::multiline(&mut tab.form.send_text)
            .id_salt("send_box")
            .hint_text(hint)
            .desired_width(box_width)
            .desired_rows(3)
            .font(egui::TextStyle::Monospace);
        let height = (ui.available_height() - 24.0).max(48.0);
        ui.add_sized([box_width, height], edit)
            .on_hover_text(VARIABLES_HELP);
        ui.vertical(|ui| {
            let send = egui::Button::new(RichText::new("Send").strong())
                .min_size(egui::vec2(side_width, 36.0));
            let response = ui
                .add_enabled(tab.send_enabled(), send)
                .on_hover_text("Send now (Ctrl+Enter)")
                .on_disabled_hover_text(if tab.can_send() {
                    "Fix the send box first"
                } else {
                    "Nobody to send to yet"
                });
            if response.clicked() {
                actions.push(UiAction::Send);
            }
            history_ui(ui, tab, actions);
        });
    });
    preview_ui(ui, tab);
    edit_window_ui(ui.ctx(), state, actions);
}

fn preview_ui(ui: &mut egui::Ui, tab: &Tab) {
    if let Some(message) = &tab.send_error {
        ui.label(RichText::new(message).color(error_color(ui)));
        return;
    }
    match tab.form.preview(&tab.vars) {
        Ok(bytes) => {
            let shown = bytes.get(..PREVIEW_BYTES).unwrap_or(&bytes);
            let more = if bytes.len() > shown.len() {
                " …"
            } else {
                ""
            };
            ui.weak(format!(
                "{} bytes: {}{more}",
                bytes.len(),
                hex::format(shown)
            ))
            .on_hover_text("Exactly what the next send puts on the wire");
        }
        // An empty box is not an error until Send is pressed.
        Err(_) if tab.form.send_text.is_empty() && tab.form.line_ending == LineEnding::None => {
            ui.weak(" ");
        }
        Err(e) => {
            ui.label(RichText::new(e.to_string()).color(error_color(ui)));
        }
    }
}

fn history_ui(ui: &mut egui::Ui, tab: &Tab, actions: &mut Vec<UiAction>) {
    ui.add_enabled_ui(!tab.form.history.is_empty(), |ui| {
        ui.menu_button("History", |ui| {
            for (n, entry) in tab.form.history.iter().enumerate() {
                let text: String = entry.text.chars().take(60).collect();
                if ui
                    .button(text)
                    .on_hover_text("Put it back in the send box")
                    .clicked()
                {
                    actions.push(UiAction::RecallHistory(n));
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text("Payloads sent before (历史发送)");
    });
}

fn quick_bar_ui(
    ui: &mut egui::Ui,
    tab: &Tab,
    state: &mut SendPanelState,
    actions: &mut Vec<UiAction>,
) {
    ui.horizontal_wrapped(|ui| {
        for (n, command) in tab.form.quick.iter().enumerate() {
            let button = ui
                .add(egui::Button::new(&command.name))
                .on_hover_text(format!("{}\n(right-click to edit or delete)", command.text));
            if button.clicked() {
                actions.push(UiAction::RunQuick(n));
            }
            button.context_menu(|ui| {
                if ui.button("Edit…").clicked() {
                    let fixed = match &command.spec.checksum.kind {
                        ChecksumKind::Fixed(bytes) => hex::format(bytes),
                        _ => String::new(),
                    };
                    state.editing = Some((n, command.clone(), fixed));
                    ui.close();
                }
                if ui.button("Delete").clicked() {
                    actions.push(UiAction::DeleteQuick(n));
                    ui.close();
                }
            });
        }
        ui.menu_button("+ Quick command", |ui| {
            ui.label("Save the send box as a one-click command");
            let label = ui.label("Name");
            ui.text_edit_singleline(&mut state.new_name)
                .labelled_by(label.id);
            let name = state.new_name.trim().to_owned();
            if ui
                .add_enabled(!name.is_empty(), egui::Button::new("Add"))
                .clicked()
            {
                actions.push(UiAction::AddQuick(name));
                state.new_name.clear();
                ui.close();
            }
        })
        .response
        .on_hover_text(
            "Quick commands (快捷指令) are saved with the session and form the send sequence",
        );
    });
}

fn edit_window_ui(ctx: &egui::Context, state: &mut SendPanelState, actions: &mut Vec<UiAction>) {
    let Some((n, command, fixed)) = &mut state.editing else {
        return;
    };
    let mut open = true;
    let mut done = false;
    egui::Window::new("Quick command")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                let label = ui.label("Name");
                ui.text_edit_singleline(&mut command.name)
                    .labelled_by(label.id);
            });
            let label = ui.label("Payload");
            ui.add(
                egui::TextEdit::multiline(&mut command.text)
                    .desired_rows(2)
                    .font(egui::TextStyle::Monospace),
            )
            .labelled_by(label.id);
            ui.horizontal(|ui| {
                ui.selectable_value(&mut command.spec.mode, InputMode::Text, "Text");
                ui.selectable_value(&mut command.spec.mode, InputMode::Hex, "Hex");
                ui.selectable_value(&mut command.spec.mode, InputMode::Escapes, "Escapes");
            });
            ui.horizontal(|ui| {
                ui.label("Line end");
                for ending in LineEnding::ALL {
                    ui.selectable_value(&mut command.spec.line_ending, ending, ending.name());
                }
            });
            ui.horizontal(|ui| {
                ui.label("Delay after, in a sequence");
                ui.add(
                    egui::DragValue::new(&mut command.delay_ms)
                        .range(0..=3_600_000)
                        .suffix(" ms"),
                );
            });
            ui.horizontal(|ui| {
                let label = ui.label("Encoding");
                egui::ComboBox::from_id_salt("quick_encoding")
                    .selected_text(command.spec.encoding.name())
                    .show_ui(ui, |ui| {
                        for encoding in TextEncoding::offered() {
                            ui.selectable_value(
                                &mut command.spec.encoding,
                                *encoding,
                                encoding.name(),
                            );
                        }
                    })
                    .response
                    .labelled_by(label.id);
            });
            let tip = "Appended after the payload and line ending";
            checksum_editor_ui(
                ui,
                "quick_checksum",
                "Checksum",
                tip,
                &mut command.spec.checksum,
                fixed,
            );
            match command.payload() {
                Ok(_) => {}
                Err(e) => {
                    ui.label(RichText::new(e.to_string()).color(error_color(ui)));
                }
            }
            if ui.button("Save").clicked() {
                actions.push(UiAction::UpdateQuick(*n, command.clone()));
                done = true;
            }
        });
    if !open || done {
        state.editing = None;
    }
}
