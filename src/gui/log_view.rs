//! The log: one row per record, only the rows on screen are formatted (`show_rows`), so a
//! long log costs no more per frame than a short one.

use std::fmt::Write as _;
use std::time::SystemTime;

use eframe::egui::{self, Color32, FontId, TextFormat, text::LayoutJob};

use super::state::{Form, Tab};
use crate::capture::{LogStore, Record, RecordKind};
use crate::codec::{hex, text};

/// Payload shown per row at most; the rest is summarised (a detail view comes with framing).
const MAX_ROW_BYTES: usize = 1024;

/// Draws the log; with framing and "raw reads" on, the frames and the raw reads side by side.
pub fn log_view_ui(ui: &mut egui::Ui, tab: &Tab) {
    let capture = &tab.capture;
    if capture.log.is_empty() && capture.raw.is_empty() {
        ui.centered_and_justified(|ui| {
            ui.weak("Nothing yet. Pick a mode, then Connect / Listen / Open.");
        });
        return;
    }
    if tab.form.show_raw && capture.framing_on {
        ui.columns(2, |columns| {
            if let [frames, raw] = columns {
                frames.strong("Frames");
                log_list_ui(frames, "log", &capture.log, &tab.form);
                raw.strong("Raw reads, as they arrived");
                log_list_ui(raw, "raw_log", &capture.raw, &tab.form);
            }
        });
    } else {
        log_list_ui(ui, "log", &capture.log, &tab.form);
    }
}

/// One scrolling list of records; only the rows on screen are laid out.
fn log_list_ui(ui: &mut egui::Ui, salt: &str, log: &LogStore, form: &Form) {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    egui::ScrollArea::both()
        .id_salt(salt)
        .auto_shrink([false, false])
        .stick_to_bottom(form.auto_scroll)
        .show_rows(ui, row_height, log.len(), |ui, rows| {
            for index in rows {
                if let Some(record) = log.get(index) {
                    let job = row_job(ui, record, form, &font);
                    ui.add(egui::Label::new(job).extend());
                }
            }
        });
}

fn kind_color(ui: &egui::Ui, kind: RecordKind) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match (kind, dark) {
        (RecordKind::Rx, true) => Color32::from_rgb(110, 180, 255),
        (RecordKind::Rx, false) => Color32::from_rgb(0, 90, 200),
        (RecordKind::Tx, true) => Color32::from_rgb(120, 210, 120),
        (RecordKind::Tx, false) => Color32::from_rgb(0, 130, 40),
        (RecordKind::Info, _) => ui.visuals().weak_text_color(),
        (RecordKind::Error, _) => ui.visuals().error_fg_color,
    }
}

/// One row as a layout job: time, direction, peer, length, payload.
fn row_job(ui: &egui::Ui, record: &Record, form: &Form, font: &FontId) -> LayoutJob {
    let weak = TextFormat::simple(font.clone(), ui.visuals().weak_text_color());
    let strong = TextFormat::simple(font.clone(), kind_color(ui, record.kind));
    let body = TextFormat::simple(font.clone(), ui.visuals().text_color());
    let mut job = LayoutJob::default();
    if form.show_time {
        job.append(&format!("{} ", clock(record.at)), 0.0, weak.clone());
    }
    let arrow = match record.kind {
        RecordKind::Rx => "←",
        RecordKind::Tx => "→",
        RecordKind::Info => "•",
        RecordKind::Error => "⚠",
    };
    job.append(arrow, 0.0, strong.clone());
    match record.kind {
        RecordKind::Rx | RecordKind::Tx => {
            let mut head = String::new();
            if let Some(peer) = record.peer {
                let _ = write!(head, " {peer}");
            }
            let _ = write!(head, " [{} B] ", record.bytes.len());
            job.append(&head, 0.0, strong);
            if record.kind == RecordKind::Rx
                && let Some(good) = form.rx_verify.verify(&record.bytes)
            {
                let (mark, color) = if good {
                    ("√ ", kind_color(ui, RecordKind::Tx))
                } else {
                    ("× ", ui.visuals().error_fg_color)
                };
                job.append(mark, 0.0, TextFormat::simple(font.clone(), color));
            }
            if record.partial {
                let format = TextFormat::simple(font.clone(), ui.visuals().warn_fg_color);
                job.append("(partial) ", 0.0, format);
            }
            job.append(&payload_text(record, form.rx_hex), 0.0, body);
        }
        RecordKind::Info | RecordKind::Error => {
            job.append(&format!(" {}", record.text), 0.0, strong);
        }
    }
    job
}

/// The payload as one line: hex bytes, or text with control characters made visible.
fn payload_text(record: &Record, as_hex: bool) -> String {
    if as_hex {
        let shown = record.bytes.get(..MAX_ROW_BYTES).unwrap_or(&record.bytes);
        let mut out = hex::format(shown);
        if record.bytes.len() > shown.len() {
            let _ = write!(out, " … (+{} bytes)", record.bytes.len() - shown.len());
        }
        out
    } else {
        let mut out = text::one_line(&record.text).into_owned();
        if let Some((cut, _)) = out.char_indices().nth(MAX_ROW_BYTES) {
            out.truncate(cut);
            out.push_str(" …");
        }
        out
    }
}

/// Local wall-clock time with milliseconds, e.g. `14:03:27.518`.
fn clock(at: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = at.into();
    local.format("%H:%M:%S%.3f").to_string()
}
