//! Framing options of the Receive group (粘包/拆包): how received TCP streams become messages.

use eframe::egui::{self, RichText};

use super::settings::error_color;
use super::state::{Tab, UiAction};
use crate::codec::length::LengthPrefix;
use crate::profile::FrameMode;

/// Draws the framing options; a change to a valid framing is applied at once.
pub fn framing_ui(ui: &mut egui::Ui, tab: &mut Tab, actions: &mut Vec<UiAction>) {
    let before = tab.form.framing();
    let form = &mut tab.form;
    ui.horizontal(|ui| {
        let label = ui.label("Framing");
        egui::ComboBox::from_id_salt("framing")
            .selected_text(form.frame_mode.name())
            .show_ui(ui, |ui| {
                for mode in FrameMode::ALL {
                    ui.selectable_value(&mut form.frame_mode, mode, mode.name());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("How a TCP stream is split into messages (粘包/拆包); UDP datagrams are messages already");
    });
    match form.frame_mode {
        FrameMode::None => {}
        FrameMode::Delimiter => {
            ui.horizontal(|ui| {
                let label = ui.label("Ends with");
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
                    .on_hover_text("Text with escapes (\\r\\n) or hex (7E)");
                ui.checkbox(&mut form.frame_delimiter_hex, "hex");
                ui.checkbox(&mut form.frame_keep, "keep");
            });
        }
        FrameMode::Fixed => {
            ui.horizontal(|ui| {
                let label = ui.label("Length");
                ui.add(
                    egui::DragValue::new(&mut form.frame_fixed)
                        .range(1..=1 << 24)
                        .suffix(" B"),
                )
                .labelled_by(label.id);
            });
        }
        FrameMode::Length => length_prefix_ui(ui, &mut form.frame_prefix, &mut form.frame_offset),
        FrameMode::Idle => {
            ui.horizontal(|ui| {
                let label = ui.label("Silence");
                ui.add(
                    egui::DragValue::new(&mut form.frame_idle_ms)
                        .range(1..=60_000)
                        .suffix(" ms"),
                )
                .labelled_by(label.id)
                .on_hover_text(
                    "A message ends when nothing arrives for this long (timed by the I/O thread)",
                );
            });
        }
    }
    let after = tab.form.framing();
    match &after {
        Err(message) => {
            ui.label(RichText::new(message).color(error_color(ui)).small());
        }
        Ok(framing) if Some(framing) != before.as_ref().ok() => {
            actions.push(UiAction::ApplyFraming);
        }
        Ok(_) => {}
    }
    let framed = !matches!(after, Ok(crate::codec::framing::Framing::None));
    ui.add_enabled(
        framed,
        egui::Checkbox::new(&mut tab.form.show_raw, "Raw reads beside frames"),
    )
    .on_hover_text(
        "Each read as it arrived, next to the messages framing made of them: this is 粘包/拆包",
    );
}

fn length_prefix_ui(ui: &mut egui::Ui, prefix: &mut LengthPrefix, offset: &mut usize) {
    super::send_options::length_prefix_fields_ui(ui, "frame_prefix_width", prefix);
    ui.horizontal(|ui| {
        let label = ui.label("After");
        ui.add(
            egui::DragValue::new(offset)
                .range(0..=4096)
                .suffix(" header bytes"),
        )
        .labelled_by(label.id)
        .on_hover_text("Bytes before the length field, e.g. a start byte");
    });
}
