//! The Send group of the settings column (发送设置): input mode, line ending, checksum, length
//! prefix, variables, cyclic send and file send.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::model::FileRequest;
use super::state::{Selection, TabUi, UiAction};
use super::widgets::{checksum_editor_ui, length_prefix_fields_ui, line_ending_combo_ui};
use super::widgets::{encoding_combo_ui, human_bytes};
use crate::codec::payload::InputMode;

/// Draws the Send group.
pub fn send_options_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    egui::CollapsingHeader::new(RichText::new(t(S::SendGroup)).strong())
        .id_salt("send_group")
        .default_open(true)
        .show(ui, |ui| {
            tx_mode_ui(ui, tab, actions);
            encoding_row_ui(ui, tab, "send_encoding", actions);
            ui.label(target_text(tab)).on_hover_text(t(S::TipTarget));
            line_ending_ui(ui, tab);
            checksum_ui(ui, tab);
            length_prefix_ui(ui, tab);
            ui.checkbox(&mut tab.form.clear_after_send, t(S::ClearAfterSend));
            counter_ui(ui, tab, actions);
            ui.checkbox(&mut tab.form.sequence_repeat, t(S::RepeatSequence));
            file_options_ui(ui, tab);
        });
}

/// Text / Hex / Escapes: switching converts the box, so it stands for the same bytes.
fn tx_mode_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        for (mode, label, tip) in [
            (InputMode::Text, S::SendText, S::TipSendText),
            (InputMode::Hex, S::SendHex, S::TipSendHex),
            (InputMode::Escapes, S::Escapes, S::TipEscapes),
        ] {
            let chosen = tab.form.tx_mode == mode;
            if ui
                .selectable_label(chosen, t(label))
                .on_hover_text(t(tip))
                .clicked()
                && !chosen
            {
                actions.push(UiAction::SetTxMode(mode));
            }
        }
    });
}

fn target_text(tab: &TabUi<'_>) -> String {
    let caps = tab.form.mode.caps();
    // Where no client is picked: a server's every client, a relay's side still to pick.
    let unpicked = if caps.relays {
        S::RelayPickTarget
    } else {
        S::ToAllClients
    };
    match tab.selection {
        _ if caps.connects => t(S::ToServer).to_owned(),
        Selection::Client(conn) if caps.has_clients => tab
            .capture
            .clients
            .get(&conn)
            .map_or_else(|| t(unpicked).to_owned(), |c| tf(S::ToX, &[&c.peer])),
        Selection::Peer(peer) if caps.datagrams || caps.relays => {
            tf(S::ToX, &[&super::shown_addr(peer)])
        }
        // No remote address typed: a send answers whoever spoke last (it said "To: :").
        selection
            if caps.datagrams
                && (selection == Selection::LatestPeer || tab.form.remote_ip.trim().is_empty()) =>
        {
            match tab.capture.latest_sender() {
                Some(peer) => tf(S::ToLatestSender, &[&super::shown_addr(peer)]),
                None => t(S::ToLatestSenderNone).to_owned(),
            }
        }
        _ if caps.datagrams => {
            let remote = format!(
                "{}:{}",
                tab.form.remote_ip.trim(),
                tab.form.remote_port.trim()
            );
            tf(S::ToX, &[&remote])
        }
        _ => t(unpicked).to_owned(),
    }
}

fn line_ending_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    ui.horizontal(|ui| {
        let label = ui.label(t(S::LineEnd));
        line_ending_combo_ui(ui, "line_ending", &mut tab.form.line_ending)
            .labelled_by(label.id)
            .on_hover_text(t(S::TipLineEnd));
    });
}

fn checksum_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let tip = t(S::TipChecksumSend);
    let form = &mut *tab.form;
    checksum_editor_ui(
        ui,
        "checksum",
        t(S::Checksum),
        tip,
        &mut form.checksum,
        &mut form.fixed_trailer,
    );
}

fn length_prefix_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    ui.checkbox(&mut tab.form.length_prefix_on, t(S::LengthPrefix))
        .on_hover_text(t(S::TipLengthPrefix));
    if !tab.form.length_prefix_on {
        return;
    }
    length_prefix_fields_ui(ui, "prefix_width", &mut tab.form.length_prefix);
}

fn counter_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        ui.label("{{counter}}").on_hover_text(t(S::VariablesHelp));
        ui.add(egui::DragValue::new(&mut tab.form.counter_start).prefix(t(S::FromPrefix)));
        ui.add(egui::DragValue::new(&mut tab.form.counter_step).prefix(t(S::StepPrefix)));
        if ui
            .small_button(t(S::Restart))
            .on_hover_text(tf(S::TipRestart, &[&tab.vars.counter]))
            .clicked()
        {
            actions.push(UiAction::ResetCounter);
        }
    });
}

/// The file send's chunk size and rate (the Send file button is by the send box).
fn file_options_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    ui.horizontal(|ui| {
        ui.label(t(S::FileSendOptions))
            .on_hover_text(t(S::TipSendFile));
        ui.add(
            egui::DragValue::new(&mut tab.form.file_chunk)
                .range(1..=1_048_576)
                .suffix(" B"),
        )
        .on_hover_text(t(S::TipChunk));
        ui.add(
            egui::DragValue::new(&mut tab.form.file_rate_kib)
                .range(0..=10_000_000)
                .suffix(" KiB/s"),
        )
        .on_hover_text(t(S::TipRate));
    });
}

/// Under the send box, by the Send button (where NetAssist puts 定时发送): cyclic send with
/// its count, the sequence of quick commands, and the file send with its progress and Cancel.
pub fn schedule_row_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal_wrapped(|ui| {
        let sending = &tab.capture.sending;
        if let Some(sent) = sending.scheduled {
            if ui.button(t(S::StopCyclic)).clicked() {
                actions.push(UiAction::StopSchedule);
            }
            ui.label(tf(S::SentN, &[&sent]));
        } else {
            let enabled = tab.send_enabled();
            if ui
                .add_enabled(enabled, egui::Button::new(t(S::StartCyclic)))
                .on_hover_text(t(S::TipStartCyclic))
                .clicked()
            {
                actions.push(UiAction::StartCyclic);
            }
            let label = ui.label(t(S::Every));
            ui.add(
                egui::DragValue::new(&mut tab.form.cyclic_ms)
                    .range(1..=86_400_000)
                    .suffix(" ms"),
            )
            .labelled_by(label.id)
            .on_hover_text(t(S::TipCyclic));
            ui.add(
                egui::DragValue::new(&mut tab.form.cyclic_count)
                    .range(0..=u64::MAX)
                    .prefix("× "),
            )
            .on_hover_text(t(S::TipCyclicCount));
            if sending.scheduled_last > 0 {
                ui.weak(tf(S::LastX, &[&sending.scheduled_last]));
            }
            let sequence = ui
                .add_enabled(
                    tab.can_send() && !tab.form.quick.is_empty(),
                    egui::Button::new(t(S::RunSequence)),
                )
                .on_hover_text(t(S::TipRunSequence))
                .on_disabled_hover_text(t(S::TipSequenceEmpty));
            if sequence.clicked() {
                actions.push(UiAction::StartSequence);
            }
        }
        ui.separator();
        match &tab.capture.sending.file {
            Some(file) => {
                let text = tf(
                    S::FileProgress,
                    &[
                        &human_bytes(file.sent),
                        &human_bytes(file.total),
                        &human_bytes(file.rate() as u64),
                    ],
                );
                ui.add(
                    egui::ProgressBar::new(file.fraction())
                        .desired_width(220.0)
                        .text(text),
                );
                if ui.button(t(S::CancelFile)).clicked() {
                    actions.push(UiAction::CancelFile);
                }
            }
            None => {
                let button = ui
                    .add_enabled(tab.can_send(), egui::Button::new(t(S::SendFile)))
                    .on_hover_text(t(S::TipSendFile));
                if button.clicked() {
                    actions.push(UiAction::AskFile(FileRequest::SendFile));
                }
            }
        }
    });
}

/// "Encoding [UTF-8 ▼]": the session's one encoding, for what is shown and what is sent (so
/// the Receive and the Send group both have it).
pub fn encoding_row_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    salt: &str,
    actions: &mut Vec<UiAction>,
) {
    ui.horizontal(|ui| {
        let label = ui.label(t(S::Encoding));
        let mut chosen = tab.form.encoding;
        encoding_combo_ui(ui, salt, &mut chosen)
            .labelled_by(label.id)
            .on_hover_text(t(S::TipEncoding));
        if chosen != tab.form.encoding {
            actions.push(UiAction::SetEncoding(chosen));
        }
    });
}
