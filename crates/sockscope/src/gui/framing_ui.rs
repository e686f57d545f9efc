//! Framing options of the Receive group (粘包/拆包): how received TCP streams become messages.

use eframe::egui::{self, RichText};

use super::i18n::{S, t};
use super::state::{TabUi, UiAction};
use super::widgets::error_color;
use crate::codec::length::LengthPrefix;
use crate::profile::FrameMode;

/// Draws the framing options; a change to a valid framing is applied at once.
pub fn framing_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let before = tab.form.framing();
    let form = &mut *tab.form;
    ui.horizontal(|ui| {
        let label = ui.label(t(S::Framing));
        egui::ComboBox::from_id_salt("framing")
            .selected_text(frame_mode_name(form.frame_mode))
            .show_ui(ui, |ui| {
                for mode in FrameMode::ALL {
                    ui.selectable_value(&mut form.frame_mode, mode, frame_mode_name(mode));
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t(S::TipFraming));
    });
    match form.frame_mode {
        FrameMode::None | FrameMode::Lines => {}
        FrameMode::Delimiter => {
            ui.horizontal(|ui| {
                let label = ui.label(t(S::EndsWith));
                let hint = if form.frame_delimiter_hex {
                    "7E"
                } else {
                    "\\r\\n"
                };
                let edit = egui::TextEdit::singleline(&mut form.frame_delimiter)
                    .hint_text(hint)
                    .desired_width(70.0);
                ui.add(edit)
                    .labelled_by(label.id)
                    .on_hover_text(t(S::TipDelimiter));
                ui.checkbox(&mut form.frame_delimiter_hex, t(S::HexSmall));
                ui.checkbox(&mut form.frame_keep, t(S::Keep));
            });
        }
        FrameMode::Fixed => {
            ui.horizontal(|ui| {
                let label = ui.label(t(S::Length));
                ui.add(
                    egui::DragValue::new(&mut form.frame_fixed)
                        .range(1..=1 << 24)
                        .suffix(" B"),
                )
                .labelled_by(label.id);
            });
        }
        FrameMode::Length => {
            length_prefix_ui(ui, &mut form.frame_prefix, &mut form.frame_offset);
            ui.checkbox(&mut form.show_length_header, t(S::ShowLengthHeader))
                .on_hover_text(t(S::TipShowLengthHeader));
        }
        FrameMode::Idle => {
            ui.horizontal(|ui| {
                let label = ui.label(t(S::Silence));
                ui.add(
                    egui::DragValue::new(&mut form.frame_idle_ms)
                        .range(1..=60_000)
                        .suffix(" ms"),
                )
                .labelled_by(label.id)
                .on_hover_text(t(S::TipSilence));
            });
        }
    }
    let after = tab.form.framing();
    match &after {
        Err(message) => {
            ui.label(RichText::new(message).color(error_color(ui)));
        }
        Ok(framing) if Some(framing) != before.as_ref().ok() => {
            actions.push(UiAction::ApplyFraming);
        }
        Ok(_) => {}
    }
    let framed = !matches!(after, Ok(crate::codec::framing::Framing::None));
    ui.add_enabled(
        framed,
        egui::Checkbox::new(&mut tab.form.show_raw, t(S::RawBesideFrames)),
    )
    .on_hover_text(t(S::TipRawBeside));
}

fn length_prefix_ui(ui: &mut egui::Ui, prefix: &mut LengthPrefix, offset: &mut usize) {
    super::widgets::length_prefix_fields_ui(ui, "frame_prefix_width", prefix);
    ui.horizontal(|ui| {
        let label = ui.label(t(S::After));
        ui.add(
            egui::DragValue::new(offset)
                .range(0..=4096)
                .suffix(t(S::HeaderBytes)),
        )
        .labelled_by(label.id)
        .on_hover_text(t(S::TipHeaderOffset));
    });
}

/// The name of a framing mode in the current language.
fn frame_mode_name(mode: FrameMode) -> &'static str {
    t(match mode {
        FrameMode::None => S::FrameNone,
        FrameMode::Delimiter => S::FrameDelimiter,
        FrameMode::Lines => S::FrameLines,
        FrameMode::Fixed => S::FrameFixed,
        FrameMode::Length => S::FrameLength,
        FrameMode::Idle => S::FrameIdle,
    })
}
