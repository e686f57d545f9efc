//! Under the log: quick commands, the send box with Send and History, and a live preview of
//! exactly what goes on the wire (or what is wrong with the box, and where).

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::state::{QuickCommand, TabUi, UiAction};
use super::widgets::encoding_combo_ui;
use super::widgets::error_color;
use super::widgets::{checksum_editor_ui, line_ending_combo_ui};
use crate::codec::checksum::ChecksumKind;
use crate::codec::hex;
use crate::codec::payload::{InputMode, LineEnding, VarState};

/// Preview shows at most this many bytes.
const PREVIEW_BYTES: usize = 48;

/// egui-side state of the panel: the quick command being edited and the name being typed.
#[derive(Default)]
pub struct SendPanelState {
    /// Index, the command as edited, and its fixed-trailer bytes as typed.
    editing: Option<(usize, QuickCommand, String)>,
    new_name: String,
    /// The "+ Quick command" popup was open last frame (its field takes focus when it opens).
    adding: bool,
    /// The Compose window's form.
    pub compose: super::compose_ui::ComposeState,
}

/// Draws the send panel.
pub fn send_panel_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    state: &mut SendPanelState,
    actions: &mut Vec<UiAction>,
) {
    ui.add_space(4.0);
    quick_bar_ui(ui, tab, state, actions);
    ui.horizontal(|ui| {
        let side_width = 96.0;
        let box_width = (ui.available_width() - side_width - 8.0).max(100.0);
        let hint = t(match tab.form.tx_mode {
            InputMode::Hex => S::HintHex,
            InputMode::Escapes => S::HintEscapes,
            InputMode::Text => S::HintText,
        });
        let edit = egui::TextEdit::multiline(&mut tab.form.send_text)
            .id_salt("send_box")
            .hint_text(hint)
            .desired_width(box_width)
            .desired_rows(3)
            .font(egui::TextStyle::Monospace);
        // Room under the box for the preview line and the cyclic/file row.
        let height = (ui.available_height() - 52.0).max(48.0);
        // A long text scrolls inside the box: a pasted 200 KB of hex drew the box over the
        // log (a text edit grows to its text, whatever size it was given).
        let send_box = egui::ScrollArea::vertical()
            .id_salt("send_box_scroll")
            .max_width(box_width)
            .max_height(height)
            .min_scrolled_height(height)
            .auto_shrink([false, false])
            .show(ui, |ui| ui.add_sized([box_width, height], edit))
            .inner;
        super::testhook::tag(ui, &send_box, "send.box");
        send_box.on_hover_text(t(S::VariablesHelp));
        ui.vertical(|ui| {
            let action = super::actions::Action::Send;
            let send = egui::Button::new(RichText::new(action.label()).strong())
                .min_size(egui::vec2(side_width, 36.0));
            let response = ui
                .add_enabled(tab.send_enabled(), send)
                .on_hover_text(action.tooltip())
                .on_disabled_hover_text(match tab.send_target() {
                    Ok(_) => t(S::FixSendBox).to_owned(),
                    Err(why) => why.to_string(),
                });
            if response.clicked() {
                actions.push(UiAction::Send);
            }
            history_ui(ui, tab, actions);
        });
    });
    preview_ui(ui, tab, actions);
    super::send_options::schedule_row_ui(ui, tab, actions);
    edit_window_ui(ui.ctx(), state, &tab.vars, actions);
    let ctx = ui.ctx().clone();
    super::compose_ui::compose_window_ui(&ctx, tab, &mut state.compose, actions);
}

fn preview_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    if let Some(message) = tab.send_note {
        let color = if message.error {
            error_color(ui)
        } else {
            ui.visuals().warn_fg_color
        };
        ui.horizontal(|ui| {
            // A refused conversion left the mode as it was; the characters may still have
            // been typed for the new one.
            if let Some(mode) = message.switch_anyway {
                let button = ui
                    .small_button(t(S::SwitchAnyway))
                    .on_hover_text(t(S::TipSwitchAnyway));
                super::testhook::tag(ui, &button, "send.switch_anyway");
                if button.clicked() {
                    actions.push(UiAction::ForceTxMode(mode));
                }
            }
            // Wrapped: a long sentence ran off the window's edge at 1024×640.
            ui.add(
                egui::Label::new(RichText::new(message.note.to_string()).color(color))
                    .wrap_mode(egui::TextWrapMode::Wrap),
            );
        });
        return;
    }
    match tab.preview_from() {
        Ok((bytes, from)) => {
            let shown = bytes.get(..PREVIEW_BYTES).unwrap_or(&bytes);
            let more = if bytes.len() > shown.len() {
                " …"
            } else {
                ""
            };
            ui.weak(tf(
                S::PreviewBytes,
                &[&bytes.len(), &hex::format(shown), &more],
            ))
            .on_hover_text(t(S::TipPreview));
            // `{{f.NAME}}` values: which frame they come from.
            if let Some((when, summary)) = from {
                // One line (a long summary cut, whole on hover): the send area keeps its height.
                let text = tf(S::PreviewFieldsFrom, &[&when, &summary]);
                let label = ui
                    .add(egui::Label::new(RichText::new(&text).weak()).truncate())
                    .on_hover_text(format!("{text}\n\n{}", t(S::TipPreviewFieldsFrom)));
                super::testhook::tag(ui, &label, "send.fields_from");
            }
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

fn history_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.add_enabled_ui(!tab.form.history.is_empty(), |ui| {
        ui.menu_button(t(S::History), |ui| {
            for (n, entry) in tab.form.history.iter().enumerate() {
                let text: String = entry.text.chars().take(60).collect();
                if ui.button(text).on_hover_text(t(S::TipRecall)).clicked() {
                    actions.push(UiAction::RecallHistory(n));
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text(t(S::TipHistory));
    });
}

fn quick_bar_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    state: &mut SendPanelState,
    actions: &mut Vec<UiAction>,
) {
    ui.horizontal_wrapped(|ui| {
        // A button's name never wraps letter by letter at the end of a row (at 1024 with two
        // quick commands "+ Quick command" stood one letter wide): it goes to the next row.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        for (n, command) in tab.form.quick.iter().enumerate() {
            let button = ui
                .add(egui::Button::new(&command.name))
                .on_hover_text(tf(S::TipQuickRun, &[&command.text]));
            if button.clicked() {
                actions.push(UiAction::RunQuick(n));
            }
            button.context_menu(|ui| {
                if ui.button(t(S::EditEllipsis)).clicked() {
                    let fixed = match &command.spec.checksum.kind {
                        ChecksumKind::Fixed(bytes) => hex::format(bytes),
                        _ => String::new(),
                    };
                    state.editing = Some((n, command.clone(), fixed));
                    ui.close();
                }
                if command.fields.is_some() && ui.button(t(S::EditInCompose)).clicked() {
                    state.compose.open_command(n, command);
                    if !tab.view.compose_open {
                        actions.push(UiAction::ShowCompose);
                    }
                    ui.close();
                }
                if ui.button(t(S::Delete)).clicked() {
                    actions.push(UiAction::DeleteQuick(n));
                    ui.close();
                }
            });
        }
        // A popup with a text field: it closes on a click outside, not on a click into it.
        let config = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        // Only what can be sent becomes a command (an empty box made an empty one).
        let addable = tab.payload.is_ok();
        let (button, popup) = ui
            .add_enabled_ui(addable, |ui| {
                egui::containers::menu::MenuButton::new(t(S::AddQuick))
                    .config(config)
                    .ui(ui, |ui| {
                        ui.label(t(S::AddQuickExplain));
                        let label = ui.label(t(S::Name));
                        let field = ui
                            .text_edit_singleline(&mut state.new_name)
                            .labelled_by(label.id);
                        super::testhook::tag(ui, &field, "quick.name");
                        if !state.adding {
                            field.request_focus();
                        }
                        let name = state.new_name.trim().to_owned();
                        let enter =
                            field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                        let add = ui.add_enabled(!name.is_empty(), egui::Button::new(t(S::Add)));
                        if (add.clicked() || enter) && !name.is_empty() {
                            actions.push(UiAction::AddQuick(name));
                            state.new_name.clear();
                            ui.close();
                        }
                    })
            })
            .inner;
        state.adding = popup.is_some();
        super::testhook::tag(ui, &button, "quick.add");
        button
            .on_hover_text(t(S::TipQuickCommands))
            .on_disabled_hover_text(t(S::TipQuickNeedsPayload));
        // Compose makes a frame that may become a quick command: beside them, on this row
        // (under History it made the send area taller and the log shorter at 1024×640).
        let compose = super::actions::Action::Compose;
        let button = ui
            .selectable_label(tab.view.compose_open, compose.label())
            .on_hover_text(compose.tooltip());
        super::testhook::tag(ui, &button, "send.compose");
        if button.clicked() {
            actions.push(UiAction::ShowCompose);
        }
    });
}

fn edit_window_ui(
    ctx: &egui::Context,
    state: &mut SendPanelState,
    vars: &VarState,
    actions: &mut Vec<UiAction>,
) {
    let Some((n, command, fixed)) = &mut state.editing else {
        return;
    };
    let mut open = true;
    let mut done = false;
    egui::Window::new(t(S::QuickCommand))
        .id(egui::Id::unique("quick_command_editor"))
        // In the middle of the window, not over the menu bar and the tabs.
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            // The form scrolls in a region of fixed height, so the preview and Save below it
            // stay where they are whatever the checksum adds (a click meant for Save set the
            // byte order instead).
            egui::ScrollArea::vertical()
                .id_salt("quick_command_form")
                .max_height(260.0)
                .auto_shrink([false, false])
                .show(ui, |ui| quick_form_ui(ui, command, fixed));
            ui.separator();
            quick_preview_ui(ui, command, vars);
            ui.horizontal(|ui| {
                let save = ui.add_enabled(command.payload().is_ok(), egui::Button::new(t(S::Save)));
                super::testhook::tag(ui, &save, "quick.save");
                if save.clicked() {
                    actions.push(UiAction::UpdateQuick(*n, command.clone()));
                    done = true;
                }
                if ui.button(t(S::Cancel)).clicked() {
                    done = true;
                }
            });
        });
    if !open || done {
        state.editing = None;
    }
}

/// The quick command's fields.
fn quick_form_ui(ui: &mut egui::Ui, command: &mut QuickCommand, fixed: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label(t(S::Name));
        ui.text_edit_singleline(&mut command.name)
            .labelled_by(label.id);
    });
    let label = ui.label(t(S::Payload));
    ui.add(
        egui::TextEdit::multiline(&mut command.text)
            .desired_rows(2)
            .font(egui::TextStyle::Monospace),
    )
    .labelled_by(label.id);
    ui.horizontal(|ui| {
        ui.selectable_value(&mut command.spec.mode, InputMode::Text, t(S::Text));
        ui.selectable_value(&mut command.spec.mode, InputMode::Hex, t(S::Hex));
        ui.selectable_value(&mut command.spec.mode, InputMode::Escapes, t(S::Escapes));
    });
    ui.horizontal(|ui| {
        let label = ui.label(t(S::LineEnd));
        line_ending_combo_ui(ui, "quick_line_ending", &mut command.spec.line_ending)
            .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label(t(S::DelayAfter));
        // Units as typed: `200 ms`, `1.5 s`, `2 min` (a bare number is ms), taken when the
        // field is left; what cannot be read is said beside it and changes nothing (`abc`
        // went back to the old value without a word).
        super::widgets::duration_field_checked_ui(
            ui,
            &mut command.delay_ms,
            &(0..=3_600_000),
            label.id,
            "quick.delay",
        );
    });
    ui.horizontal(|ui| {
        let label = ui.label(t(S::Encoding));
        encoding_combo_ui(ui, "quick_encoding", &mut command.spec.encoding).labelled_by(label.id);
    });
    let tip = t(S::TipChecksumQuick);
    checksum_editor_ui(
        ui,
        "quick_checksum",
        t(S::Checksum),
        tip,
        &mut command.spec.checksum,
        fixed,
    );
}

/// The bytes the quick command sends, as the send box's preview shows them, or why it cannot.
fn quick_preview_ui(ui: &mut egui::Ui, command: &QuickCommand, vars: &VarState) {
    let rendered = command
        .payload()
        .map_err(|e| e.to_string())
        .and_then(|payload| {
            payload
                .render(&mut vars.clone(), std::time::SystemTime::now())
                .map_err(|e| e.to_string())
        });
    match rendered {
        Ok(bytes) => {
            let shown = bytes.get(..PREVIEW_BYTES).unwrap_or(&bytes);
            let more = if bytes.len() > shown.len() {
                " …"
            } else {
                ""
            };
            ui.weak(tf(
                S::PreviewBytes,
                &[&bytes.len(), &hex::format(shown), &more],
            ))
            .on_hover_text(t(S::TipPreview));
        }
        Err(e) => {
            ui.label(RichText::new(e).color(error_color(ui)));
        }
    }
}
