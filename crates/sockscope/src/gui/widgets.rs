//! Small widgets and helpers every panel uses: colours, byte and rate formatting, a field's
//! label and its mistake, the encoding, checksum, length-prefix and line-ending pickers, a
//! tab's notice. A leaf: it imports the model and no panel, so panels never import each
//! other for a helper (no import circles: `scripts/import-cycles`).

use eframe::egui::{self, Color32, RichText};

use super::i18n::{S, t, tf};
use super::model::{NOTICE_FOR, Notice};
use crate::codec::TextEncoding;
use crate::codec::checksum::{ByteOrder, Checksum, ChecksumKind};
use crate::codec::hex;
use crate::codec::length::LengthPrefix;
use crate::codec::payload::LineEnding;

pub const LABEL_WIDTH: f32 = 78.0;

/// The error colour, readable on both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// A message under a field, in the error colour at the body size; nothing when there is none.
pub fn field_error_ui(ui: &mut egui::Ui, error: Option<&String>) {
    if let Some(message) = error {
        ui.add(egui::Label::new(RichText::new(message).color(error_color(ui))).wrap());
    }
}

/// Marks a field whose content is wrong with a border in the error colour.
pub fn mark_bad_field(ui: &egui::Ui, field: &egui::Response, bad: bool) {
    if bad {
        let stroke = egui::Stroke::new(1.5, error_color(ui));
        let radius = ui.visuals().widgets.inactive.corner_radius;
        ui.painter()
            .rect_stroke(field.rect, radius, stroke, egui::StrokeKind::Outside);
    }
}

/// A length of time as the duration fields show it: `250 ms`, `3 s`, `2 min`.
pub fn millis_text(ms: u64) -> String {
    if ms >= 60_000 && ms.is_multiple_of(60_000) {
        format!("{} min", ms / 60_000)
    } else if ms >= 1000 && ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Reads a duration as typed — `250`, `250ms`, `3s`, `7 s`, `1.5 s`, `2 min` (a bare number is
/// milliseconds; the core's reader of durations) — within `range` ms; else the sentence.
pub fn read_millis(text: &str, range: &std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let out_of_range = || {
        tf(
            S::ErrDurationRange,
            &[
                &text.trim(),
                &millis_text(*range.start()),
                &millis_text(*range.end()),
            ],
        )
    };
    match crate::engine::Knob::Latency.from_text(text) {
        Ok(ms) if ms >= 0.0 && ms <= *range.end() as f64 => {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "a whole number of ms within range"
            )]
            let ms = ms.round() as u64;
            if range.contains(&ms) {
                Ok(ms)
            } else {
                Err(out_of_range())
            }
        }
        Ok(_) => Err(out_of_range()),
        // The reader refuses a number too large as it refuses a word: say which it is.
        Err(_) if text.trim().parse::<f64>().is_ok() => Err(out_of_range()),
        Err(why) => Err(why),
    }
}

/// A duration field in milliseconds that reads units as typed (`3s`, `500ms`, `1 min`). The
/// value is taken when the field is left (Enter, Tab, a click elsewhere): taken at each
/// keystroke, `99999999999` became 999999 ms on its way to being refused. What cannot be
/// read, or is out of `range`, keeps the old value: the field gets a red border and the
/// sentence beside it, and the text stays as typed until it is put right. True when the
/// value changed.
pub fn duration_field_ui(
    ui: &mut egui::Ui,
    ms: &mut u64,
    range: &std::ops::RangeInclusive<u64>,
    label: egui::Id,
    tag: &str,
) -> bool {
    duration_field_checked_ui(ui, ms, range, label, tag).0
}

/// [`duration_field_ui`], also saying what is wrong with the text it holds back, if anything
/// (a rule marks itself with it: the running session keeps the old value meanwhile).
pub fn duration_field_checked_ui(
    ui: &mut egui::Ui,
    ms: &mut u64,
    range: &std::ops::RangeInclusive<u64>,
    label: egui::Id,
    tag: &str,
) -> (bool, Option<String>) {
    let id = ui.make_persistent_id(("duration", tag));
    let held: Option<String> = ui.data(|d| d.get_temp(id));
    let mut text = held.unwrap_or_else(|| millis_text(*ms));
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .id(id.with("field"))
                .desired_width(72.0),
        )
        .labelled_by(label)
        .on_hover_text(t(S::TipDuration));
    super::testhook::tag(ui, &field, tag);
    let read = read_millis(&text, range);
    let mut changed = false;
    if field.lost_focus()
        && let Ok(value) = read
        && value != *ms
    {
        *ms = value;
        changed = true;
    }
    // The typed text stays while it is typed or wrong; otherwise the field shows the value.
    if field.has_focus() || read.is_err() {
        ui.data_mut(|d| d.insert_temp(id, text));
    } else {
        ui.data_mut(|d| d.remove::<String>(id));
    }
    mark_bad_field(ui, &field, read.is_err());
    let wrong = read.err();
    if let Some(why) = &wrong {
        let error = ui.add(egui::Label::new(RichText::new(why).color(error_color(ui))).wrap());
        super::testhook::tag(ui, &error, &format!("{tag}.error"));
    }
    (changed, wrong)
}

/// A line that is always there, holding "Deleted …  Undo" when there is something to bring
/// back: nothing below it moves when it comes or goes (a second click on Delete missed when
/// the line pushed the list down). True when Undo was clicked.
pub fn undo_line_ui(ui: &mut egui::Ui, text: Option<&str>, tag: &str) -> bool {
    let height = (ui.text_style_height(&egui::TextStyle::Button)
        + 2.0 * ui.spacing().button_padding.y)
        .max(ui.spacing().interact_size.y);
    ui.horizontal(|ui| {
        ui.set_min_height(height);
        let Some(text) = text else {
            return false;
        };
        // The button first: where it is does not depend on the name deleted.
        let button = ui.button(t(S::Undo)).on_hover_text(t(S::TipUndoDelete));
        super::testhook::tag(ui, &button, tag);
        ui.add(egui::Label::new(text).truncate());
        button.clicked()
    })
    .inner
}

/// A label in a fixed-width column, so the fields after it line up without a Grid.
pub fn fixed_label_ui(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(LABEL_WIDTH, 20.0),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_width(LABEL_WIDTH);
            ui.label(text)
        },
    )
    .inner
}

/// How long ago, in a few characters: "3 s ago", "2 min ago".
pub fn age_text(at: std::time::SystemTime, now: std::time::SystemTime) -> String {
    let secs = now.duration_since(at).map_or(0, |d| d.as_secs());
    match secs {
        0..60 => tf(S::AgoSecs, &[&secs]),
        60..3600 => tf(S::AgoMins, &[&(secs / 60)]),
        _ => tf(S::AgoHours, &[&(secs / 3600)]),
    }
}

/// An encoding picker (UTF-8, GBK, …).
pub fn encoding_combo_ui(
    ui: &mut egui::Ui,
    salt: &str,
    encoding: &mut TextEncoding,
) -> egui::Response {
    egui::ComboBox::from_id_salt(salt)
        .selected_text(encoding.display_name())
        .show_ui(ui, |ui| {
            for offered in TextEncoding::offered() {
                ui.selectable_value(encoding, *offered, offered.display_name());
            }
        })
        .response
}

/// Bytes as people read them: 999 B, 1.2 KiB, 3.4 MiB.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// " · 1.2 KiB/s", or nothing when idle.
pub fn rate_text(per_second: u64) -> String {
    if per_second == 0 {
        String::new()
    } else {
        format!(" · {}/s", human_bytes(per_second))
    }
}

/// Big endian / little endian as two small toggles.
pub fn byte_order_ui(ui: &mut egui::Ui, order: &mut ByteOrder) {
    ui.selectable_value(order, ByteOrder::Big, t(S::BigEndian))
        .on_hover_text(t(S::TipBigEndian));
    ui.selectable_value(order, ByteOrder::Little, t(S::LittleEndian))
        .on_hover_text(t(S::TipLittleEndian));
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
            .selected_text(checksum_name(&kind))
            .width(170.0)
            .show_ui(ui, |ui| {
                for option in ChecksumKind::COMPUTED {
                    let name = checksum_name(&option);
                    ui.selectable_value(&mut kind, option, name);
                }
                let fixed = ChecksumKind::Fixed(hex::parse(fixed_text).unwrap_or_default());
                if ui
                    .selectable_label(
                        matches!(kind, ChecksumKind::Fixed(_)),
                        checksum_name(&fixed),
                    )
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
                let label = ui.label(t(S::Bytes));
                let edit = egui::TextEdit::singleline(fixed_text)
                    .hint_text("0D 0A")
                    .desired_width(120.0);
                ui.add(edit).labelled_by(label.id);
                match hex::parse(fixed_text) {
                    Ok(parsed) => *bytes = parsed,
                    Err(e) => {
                        ui.colored_label(error_color(ui), t(S::Invalid))
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
                ui.label(t(S::Skip)).on_hover_text(t(S::TipSkip));
                ui.add(
                    egui::DragValue::new(&mut checksum.skip_head)
                        .range(0..=1024)
                        .prefix(t(S::StartPrefix)),
                );
                ui.add(
                    egui::DragValue::new(&mut checksum.skip_tail)
                        .range(0..=1024)
                        .prefix(t(S::EndPrefix)),
                );
            });
        }
    }
}

/// A checksum's name in the current language (the standard names stay as they are).
fn checksum_name(kind: &ChecksumKind) -> &'static str {
    match kind {
        ChecksumKind::None => t(S::ChecksumNone),
        ChecksumKind::Fixed(_) => t(S::ChecksumFixed),
        ChecksumKind::NegSum8 => t(S::ChecksumNegSum),
        other => other.name(),
    }
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
            .on_hover_text(t(S::TipLengthWidth));
        byte_order_ui(ui, &mut prefix.order);
        ui.checkbox(&mut prefix.includes_header, t(S::CountsHeader));
    });
}

/// A line-ending picker (None, CR, LF, CRLF).
pub fn line_ending_combo_ui(
    ui: &mut egui::Ui,
    salt: &str,
    line_ending: &mut LineEnding,
) -> egui::Response {
    let name = |ending: LineEnding| match ending {
        LineEnding::None => t(S::LineEndNone),
        other => other.name(),
    };
    egui::ComboBox::from_id_salt(salt)
        .selected_text(name(*line_ending))
        .show_ui(ui, |ui| {
            for ending in LineEnding::ALL {
                ui.selectable_value(line_ending, ending, name(ending));
            }
        })
        .response
}

/// Draws a tab's notice at the end of the status bar, in the room the bar has left (so it
/// covers nothing and moves nothing; the whole sentence on hover). An information notice goes
/// by itself after a while; an error stays until dismissed.
pub fn notice_ui(ui: &mut egui::Ui, slot: &mut Option<Notice>) {
    let Some(notice) = slot.as_ref() else {
        return;
    };
    if !notice.error && notice.at.elapsed() > NOTICE_FOR {
        *slot = None;
        return;
    }
    if !notice.error {
        ui.ctx().request_repaint_after(NOTICE_FOR);
    }
    let color = if notice.error {
        ui.visuals().error_fg_color
    } else {
        ui.visuals().text_color()
    };
    let text = notice.text();
    let dismiss = ui
        .with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let dismiss = ui.small_button("×").on_hover_text(t(S::Dismiss)).clicked();
            let label = ui
                .add(egui::Label::new(RichText::new(&text).color(color)).truncate())
                .on_hover_text(&text);
            super::testhook::tag(ui, &label, "notice");
            dismiss
        })
        .inner;
    if dismiss {
        *slot = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duration_is_read_with_its_unit_and_a_bare_number_is_milliseconds() {
        let range = 0..=3_600_000;
        for (text, ms) in [
            ("3s", 3000),
            ("7 s", 7000),
            ("500ms", 500),
            ("500 ms", 500),
            ("1.5s", 1500),
            ("2 min", 120_000),
            ("250", 250),
            (" 10 ", 10),
        ] {
            assert_eq!(read_millis(text, &range), Ok(ms), "{text}");
        }
        for text in ["99999999999", "2 h", "soon", "-1", "3 sec"] {
            assert!(read_millis(text, &range).is_err(), "{text}");
        }
        assert!(read_millis("0", &(1..=10)).is_err());
        assert_eq!(millis_text(120_000), "2 min");
        assert_eq!(millis_text(3000), "3 s");
        assert_eq!(millis_text(1500), "1500 ms");
    }
}
