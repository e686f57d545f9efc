//! The Send group of the settings column (发送设置): input mode, line ending, checksum, length
//! prefix, variables, cyclic send and file send.

use eframe::egui::{self, RichText};

use super::FilePicker;
use super::settings::error_color;
use super::state::{Selection, Tab, UiAction};
use super::status_bar::human_bytes;
use crate::codec::checksum::{ByteOrder, Checksum, ChecksumKind};
use crate::codec::hex;
use crate::codec::length::LengthPrefix;
use crate::codec::payload::{InputMode, LineEnding, VARIABLES_HELP};
use crate::engine::Mode;

/// Big endian / little endian as two small toggles.
fn byte_order_ui(ui: &mut egui::Ui, order: &mut ByteOrder) {
    ui.selectable_value(order, ByteOrder::Big, "BE")
        .on_hover_text("Big endian: most significant byte first");
    ui.selectable_value(order, ByteOrder::Little, "LE")
        .on_hover_text("Little endian: least significant byte first");
}

/// Draws the Send group.
pub fn send_options_ui(
    ui: &mut egui::Ui,
    tab: &mut Tab,
    picker: &dyn FilePicker,
    actions: &mut Vec<UiAction>,
) {
    egui::CollapsingHeader::new(RichText::new("Send").strong())
        .id_salt("send_group")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                let mode = &mut tab.form.tx_mode;
                ui.selectable_value(mode, InputMode::Text, "Send text")
                    .on_hover_text("The send box is text, encoded with the chosen encoding");
                ui.selectable_value(mode, InputMode::Hex, "Send hex")
                    .on_hover_text("The send box is hex: 01 02, 0x01,0x02 or 0102");
                ui.selectable_value(mode, InputMode::Escapes, "Escapes")
                    .on_hover_text("Text with \\r \\n \\t \\0 \\\\ and \\xHH escapes");
            });
            ui.label(target_text(tab))
                .on_hover_text("Pick a client or peer in the list above to send to it only");
            line_ending_ui(ui, tab);
            checksum_ui(ui, tab);
            length_prefix_ui(ui, tab);
            ui.checkbox(&mut tab.form.clear_after_send, "Clear after send");
            counter_ui(ui, tab, actions);
            ui.separator();
            cyclic_ui(ui, tab, actions);
            ui.separator();
            file_ui(ui, tab, picker, actions);
        });
}

fn target_text(tab: &Tab) -> String {
    match (tab.form.mode, tab.selection) {
        (Mode::TcpClient, _) => "To: the server".to_owned(),
        (Mode::TcpServer, Selection::Client(conn)) => tab.capture.clients.get(&conn).map_or_else(
            || "To: all clients".to_owned(),
            |c| format!("To: {}", c.peer),
        ),
        (Mode::TcpServer, _) => "To: all clients".to_owned(),
        (Mode::Udp, Selection::Peer(peer)) => format!("To: {peer}"),
        (Mode::Udp, _) => format!(
            "To: {}:{}",
            tab.form.remote_ip.trim(),
            tab.form.remote_port.trim()
        ),
    }
}

fn line_ending_ui(ui: &mut egui::Ui, tab: &mut Tab) {
    ui.horizontal(|ui| {
        let label = ui.label("Line end");
        egui::ComboBox::from_id_salt("line_ending")
            .selected_text(tab.form.line_ending.name())
            .show_ui(ui, |ui| {
                for ending in LineEnding::ALL {
                    ui.selectable_value(&mut tab.form.line_ending, ending, ending.name());
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("Appended to every send");
    });
}

fn checksum_ui(ui: &mut egui::Ui, tab: &mut Tab) {
    let tip = "Appended after the payload and line ending (自动发送附加位)";
    let form = &mut tab.form;
    checksum_editor_ui(
        ui,
        "checksum",
        "Checksum",
        tip,
        &mut form.checksum,
        &mut form.fixed_trailer,
    );
}

/// Picks a checksum: kind, byte order, covered range, or fixed bytes typed as hex (kept as
/// typed in `fixed_text`; the bytes change only when it parses). Used for sending, for
/// verifying received data and in the quick-command editor.
pub fn checksum_editor_ui(
    ui: &mut egui::Ui,
    salt: &str,
    label: &str,
    tooltip: &str,
    checksum: &mut Checksum,
    fixed_text: &mut String,
) {
    ui.horizontal(|ui| {
        let label = ui.label(label);
        let mut kind = checksum.kind.clone();
        egui::ComboBox::from_id_salt(salt)
            .selected_text(kind.name())
            .width(170.0)
            .show_ui(ui, |ui| {
                for option in ChecksumKind::COMPUTED {
                    let name = option.name();
                    ui.selectable_value(&mut kind, option, name);
                }
                let fixed = ChecksumKind::Fixed(hex::parse(fixed_text).unwrap_or_default());
                if ui
                    .selectable_label(matches!(kind, ChecksumKind::Fixed(_)), fixed.name())
                    .clicked()
                {
                    kind = fixed;
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(tooltip);
        if kind != checksum.kind {
            checksum.order = kind.default_order();
            checksum.kind = kind;
        }
    });
    let multi_byte = checksum.width() > 1;
    match &mut checksum.kind {
        ChecksumKind::None => {}
        ChecksumKind::Fixed(bytes) => {
            ui.horizontal(|ui| {
                let label = ui.label("Bytes");
                let edit = egui::TextEdit::singleline(fixed_text)
                    .hint_text("0D 0A")
                    .desired_width(120.0);
                ui.add(edit).labelled_by(label.id);
                match hex::parse(fixed_text) {
                    Ok(parsed) => *bytes = parsed,
                    Err(e) => {
                        ui.colored_label(error_color(ui), "invalid")
                            .on_hover_text(e.to_string());
                    }
                }
            });
        }
        _ => {
            ui.horizontal(|ui| {
                if multi_byte {
                    byte_order_ui(ui, &mut checksum.order);
                }
                ui.label("skip")
                    .on_hover_text("Bytes at the start and end the checksum does not cover");
                ui.add(
                    egui::DragValue::new(&mut checksum.skip_head)
                        .range(0..=1024)
                        .prefix("start "),
                );
                ui.add(
                    egui::DragValue::new(&mut checksum.skip_tail)
                        .range(0..=1024)
                        .prefix("end "),
                );
            });
        }
    }
}

fn length_prefix_ui(ui: &mut egui::Ui, tab: &mut Tab) {
    ui.checkbox(&mut tab.form.length_prefix_on, "Length prefix")
        .on_hover_text("Put the length before each send, as length-prefixed protocols expect");
    if !tab.form.length_prefix_on {
        return;
    }
    length_prefix_fields_ui(ui, "prefix_width", &mut tab.form.length_prefix);
}

/// Width, byte order and whether the length counts the header: for sending and for framing.
pub fn length_prefix_fields_ui(ui: &mut egui::Ui, salt: &str, prefix: &mut LengthPrefix) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt(salt)
            .selected_text(format!("{} B", prefix.width))
            .width(50.0)
            .show_ui(ui, |ui| {
                for width in LengthPrefix::WIDTHS {
                    ui.selectable_value(&mut prefix.width, width, format!("{width} B"));
                }
            })
            .response
            .on_hover_text("Length field size");
        byte_order_ui(ui, &mut prefix.order);
        ui.checkbox(&mut prefix.includes_header, "counts header");
    });
}

fn counter_ui(ui: &mut egui::Ui, tab: &mut Tab, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        ui.label("{{counter}}").on_hover_text(VARIABLES_HELP);
        ui.add(egui::DragValue::new(&mut tab.form.counter_start).prefix("from "));
        ui.add(egui::DragValue::new(&mut tab.form.counter_step).prefix("step "));
        if ui
            .small_button("restart")
            .on_hover_text(format!("Start again (next value {})", tab.vars.counter))
            .clicked()
        {
            actions.push(UiAction::ResetCounter);
        }
    });
}

fn cyclic_ui(ui: &mut egui::Ui, tab: &mut Tab, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        let label = ui.label("Every");
        ui.add(egui::DragValue::new(&mut tab.form.cyclic_ms).range(1..=86_400_000).suffix(" ms"))
            .labelled_by(label.id)
            .on_hover_text("Cyclic send interval (循环发送); timed by the I/O thread, so it keeps going while the window is hidden");
        ui.add(egui::DragValue::new(&mut tab.form.cyclic_count).range(0..=u64::MAX).prefix("× "))
            .on_hover_text("How many sends; 0 = until stopped");
    });
    ui.horizontal(|ui| {
        let sending = &tab.capture.sending;
        if let Some(sent) = sending.scheduled {
            if ui.button("Stop cyclic").clicked() {
                actions.push(UiAction::StopSchedule);
            }
            ui.label(format!("sent {sent}"));
        } else {
            let enabled = tab.send_enabled();
            if ui
                .add_enabled(enabled, egui::Button::new("Start cyclic"))
                .on_hover_text("Send the send box every interval")
                .clicked()
            {
                actions.push(UiAction::StartCyclic);
            }
            let sequence = ui
                .add_enabled(
                    tab.can_send() && !tab.form.quick.is_empty(),
                    egui::Button::new("Run sequence"),
                )
                .on_hover_text("Send the quick commands in order, each followed by its delay")
                .on_disabled_hover_text(
                    "Add quick commands (under the send box) to make a sequence",
                );
            if sequence.clicked() {
                actions.push(UiAction::StartSequence);
            }
            if sending.scheduled_last > 0 {
                ui.weak(format!("last: {}", sending.scheduled_last));
            }
        }
    });
    ui.checkbox(&mut tab.form.sequence_repeat, "Repeat sequence");
}

fn file_ui(ui: &mut egui::Ui, tab: &mut Tab, picker: &dyn FilePicker, actions: &mut Vec<UiAction>) {
    if let Some(file) = &tab.capture.sending.file {
        let text = format!(
            "{} of {} · {}/s",
            human_bytes(file.sent),
            human_bytes(file.total),
            human_bytes(file.rate() as u64)
        );
        ui.add(egui::ProgressBar::new(file.fraction()).text(text));
        if ui.button("Cancel file").clicked() {
            actions.push(UiAction::CancelFile);
        }
        return;
    }
    ui.horizontal(|ui| {
        let button = ui
            .add_enabled(tab.can_send(), egui::Button::new("Send file…"))
            .on_hover_text("Stream a file to the target in chunks (启用文件数据源)");
        if button.clicked()
            && let Some(path) = picker.pick_file()
        {
            actions.push(UiAction::SendFile(path));
        }
        ui.add(
            egui::DragValue::new(&mut tab.form.file_chunk)
                .range(1..=1_048_576)
                .suffix(" B"),
        )
        .on_hover_text("Chunk size (one datagram per chunk in UDP)");
        ui.add(
            egui::DragValue::new(&mut tab.form.file_rate_kib)
                .range(0..=10_000_000)
                .suffix(" KiB/s"),
        )
        .on_hover_text("Rate cap; 0 = as fast as the peer takes it");
    });
}
