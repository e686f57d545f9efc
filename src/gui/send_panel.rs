//! The send box under the log, with its Send button and the reason a send did not go.

use eframe::egui::{self, RichText};

use super::settings::error_color;
use super::state::{Tab, UiAction};

/// Draws the send box.
pub fn send_panel_ui(ui: &mut egui::Ui, tab: &mut Tab, actions: &mut Vec<UiAction>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let button_width = 90.0;
        let box_width = (ui.available_width() - button_width - 8.0).max(100.0);
        let hint = if tab.form.tx_hex {
            "Hex to send, e.g. 01 03 00 00 00 0A"
        } else {
            "Text to send (Ctrl+Enter)"
        };
        let edit = egui::TextEdit::multiline(&mut tab.form.send_text)
            .id_salt("send_box")
            .hint_text(hint)
            .desired_width(box_width)
            .desired_rows(3)
            .font(egui::TextStyle::Monospace);
        let height = (ui.available_height() - 24.0).max(48.0);
        ui.add_sized([box_width, height], edit);
        ui.vertical(|ui| {
            let send = egui::Button::new(RichText::new("Send").strong())
                .min_size(egui::vec2(button_width, 36.0));
            let response = ui
                .add_enabled(tab.can_send(), send)
                .on_hover_text("Send now (Ctrl+Enter)");
            let response = response.on_disabled_hover_text(match tab.form.mode {
                crate::engine::Mode::TcpClient => "Connect first",
                crate::engine::Mode::TcpServer => "Wait for a client to connect",
                crate::engine::Mode::Udp => "Open the UDP socket first",
            });
            if response.clicked() {
                actions.push(UiAction::Send);
            }
        });
    });
    match &tab.send_error {
        Some(message) => {
            ui.label(RichText::new(message).color(error_color(ui)));
        }
        None => {
            let preview = match tab.form.payload() {
                Ok(bytes) => format!("{} bytes", bytes.len()),
                // An empty box is not an error until Send is pressed.
                Err(_) if tab.form.send_text.trim().is_empty() => String::new(),
                Err(message) => message,
            };
            ui.weak(preview);
        }
    }
}
