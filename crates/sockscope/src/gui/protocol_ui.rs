//! A session's protocol in the window: the picker in the Receive group, the one-line summary
//! after each data row, and the field tree beside the hex dump of the selected record (the
//! chosen field's bytes highlighted, checksum verdicts in colour). Decoding is done for the
//! rows on screen only, when they are drawn.

use std::path::Path;

use eframe::egui::{self, Color32, FontId, RichText, TextFormat, text::LayoutJob};
use sockscope_core::protocol::{self, Field, Note, Protocol};

use super::i18n::{S, t};
use super::model::FileRequest;
use super::protocol_pick::{
    SPEC_CHECK_EVERY, chosen, decode, dir_of, forget, recent_specs, remember_spec, resolve,
    take_reloaded,
};
use super::state::{Form, TabUi, UiAction};
use super::widgets::error_color;
use crate::capture::Record;

/// A name for a message's kind, for files: the protocol's name and the value of its first
/// frame field with named values (`jt808-0x0200`, `modbus-tcp-0x0003`), or the name alone.
pub fn kind_name(form: &Form, record: &Record<'_>) -> Option<String> {
    let (p, d) = decode(form, record)?;
    let kind = p
        .program
        .nodes
        .iter()
        .filter(|n| !n.name.is_empty() && !n.path.contains('.') && n.look.values.is_some())
        .find_map(|n| d.get(&n.name))
        .and_then(|f| match f.value {
            sockscope_core::protocol::FieldValue::Int(v) => Some(format!("0x{v:04X}")),
            _ => None,
        });
    let name: String = p
        .name()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    Some(match kind {
        Some(kind) => format!("{name}-{kind}"),
        None => name,
    })
}

/// The protocol picker: None, a built-in, a spec file opened lately, or "Open spec file…";
/// "Export spec…" saves the chosen built-in for editing. A change applies the protocol's
/// framing at once (when the Receive framing is None); so does a spec file read again. A
/// relay has a second picker for what the upstream sends (the same as the first unless set):
/// a gateway often speaks one protocol to its devices and gets another back.
pub fn picker_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let before = tab.form.protocol.clone();
    let relay = tab.form.mode.caps().relays;
    let (label, tip) = if relay {
        (S::ProtocolClientLabel, S::TipProtocolClient)
    } else {
        (S::ProtocolLabel, S::TipProtocol)
    };
    let picker = Picker {
        id: "protocol",
        label,
        tip,
        none: S::ProtocolNone,
    };
    picker.ui(ui, &mut tab.form.protocol, actions);
    if relay {
        let replies = Picker {
            id: "protocol_replies",
            label: S::ProtocolUpstreamLabel,
            tip: S::TipProtocolUpstream,
            none: S::ProtocolSameAsClient,
        };
        replies.ui(ui, &mut tab.form.protocol_replies, actions);
    }
    if tab.form.protocol != before || take_reloaded() {
        actions.push(UiAction::ApplyFraming);
    }
}

/// One protocol picker, of the session or of a relay's replies.
struct Picker {
    id: &'static str,
    label: S,
    tip: S,
    /// What the empty choice says.
    none: S,
}

impl Picker {
    fn ui(&self, ui: &mut egui::Ui, value: &mut String, actions: &mut Vec<UiAction>) {
        let result = resolve(value);
        ui.horizontal(|ui| {
            let label = ui.label(t(self.label));
            let file = is_file_name(value);
            let shown = if value.is_empty() {
                t(self.none).to_owned()
            } else if file {
                // A spec file by its name (the path on hover).
                Path::new(value.trim())
                    .file_name()
                    .map_or_else(|| value.clone(), |n| n.to_string_lossy().into_owned())
            } else {
                value.clone()
            };
            // Tall enough for every entry without scrolling (the last ones were cut off).
            let combo = egui::ComboBox::from_id_salt(self.id)
                .selected_text(shown)
                .height(600.0)
                .show_ui(ui, |ui| self.entries_ui(ui, value, file, actions));
            let combo = combo.response.labelled_by(label.id).on_hover_text(if file {
                format!("{}\n\n{}", value.trim(), t(self.tip))
            } else {
                t(self.tip).to_owned()
            });
            super::testhook::tag(ui, &combo, &format!("{}.picker", self.id));
            if file {
                // A spec file being edited is looked at once a second, also while nothing
                // else happens (only while a spec file, not a built-in, is chosen).
                ui.ctx().request_repaint_after(SPEC_CHECK_EVERY);
                let reload = ui
                    .small_button(t(S::ReloadSpec))
                    .on_hover_text(t(S::TipReloadSpec));
                super::testhook::tag(ui, &reload, &format!("{}.reload", self.id));
                if reload.clicked() {
                    forget();
                    actions.push(UiAction::ApplyFraming);
                }
            }
        });
        if let Err(why) = &result {
            let error = ui.label(RichText::new(why).color(error_color(ui)));
            let key = format!("{}.error", self.id);
            super::testhook::tag(ui, &error, &key);
            super::testhook::value(ui.ctx(), &key, why.replace('\n', " "));
        }
    }

    /// The picker's list: none, the built-ins, spec files opened lately, Open, Export.
    fn entries_ui(
        &self,
        ui: &mut egui::Ui,
        value: &mut String,
        file: bool,
        actions: &mut Vec<UiAction>,
    ) {
        ui.selectable_value(value, String::new(), t(self.none));
        for p in protocol::builtins() {
            let item = ui.selectable_value(
                value,
                p.name().to_owned(),
                format!("{} — {}", p.name(), p.title()),
            );
            super::testhook::tag(ui, &item, &format!("{}.item.{}", self.id, p.name()));
        }
        let recent = recent_specs();
        if !recent.is_empty() {
            ui.separator();
        }
        for path in recent {
            let text = path.display().to_string();
            let name = path
                .file_name()
                .map_or_else(|| text.clone(), |n| n.to_string_lossy().into_owned());
            let item = ui
                .selectable_value(value, text.clone(), name)
                .on_hover_text(&text);
            if item.clicked() {
                remember_spec(&path);
            }
        }
        ui.separator();
        let open = ui
            .button(t(S::OpenSpecFile))
            .on_hover_text(t(S::TipOpenSpecFile));
        super::testhook::tag(ui, &open, &format!("{}.open", self.id));
        if open.clicked() {
            let replies = self.id != "protocol";
            actions.push(UiAction::AskFile(FileRequest::OpenSpec(replies)));
        }
        let builtin = protocol::builtin(value.trim()).filter(|_| !file);
        let export = ui
            .add_enabled(builtin.is_some(), egui::Button::new(t(S::ExportSpec)))
            .on_hover_text(t(S::TipExportSpec))
            .on_disabled_hover_text(t(S::TipExportSpecNone));
        super::testhook::tag(ui, &export, &format!("{}.export", self.id));
        if export.clicked()
            && let Some(p) = builtin
        {
            actions.push(UiAction::AskFile(FileRequest::ExportSpec(
                p.name().to_owned(),
            )));
        }
    }
}

/// True when the picker's text names a spec file rather than a built-in.
fn is_file_name(name: &str) -> bool {
    !name.trim().is_empty() && protocol::builtin(name.trim()).is_none()
}

/// How many characters a field column takes in a row (longer values are cut with …).
const COLUMN_CHARS: usize = 14;

/// A data row's chosen field columns and summary (`lat  speed  ≡ JT808 0x0200 位置信息汇报 ·
/// …`) and their format: strong when the message decoded whole with its checks holding, in
/// the error colour when not. A column the message lacks is blank.
pub fn summary(
    ui: &egui::Ui,
    form: &Form,
    record: &Record<'_>,
    font: &FontId,
) -> Option<(String, TextFormat)> {
    let (p, d) = decode(form, record)?;
    // A message of several frames (two DL/T 645 reads sent at once, a datagram of NMEA
    // sentences) is summed up frame by frame, as the command line prints it; it showed as one
    // broken frame in the error colour.
    let pieces = if d.stop.is_none() && d.checks_ok() {
        Vec::new()
    } else {
        p.decode_message_guess(record.bytes, dir_of(form, record))
    };
    // Bytes that are not a frame (a DTU's registration) are said so, as one piece or more.
    let by_piece = pieces.len() > 1 || pieces.first().is_some_and(|piece| piece.junk);
    let sound = if by_piece {
        pieces
            .iter()
            .all(|piece| piece.checks_ok() && piece.decoded.stop.is_none())
    } else {
        d.stop.is_none() && d.checks_ok()
    };
    let color = if sound {
        ui.visuals().strong_text_color()
    } else {
        error_color(ui)
    };
    let first = pieces
        .first()
        .filter(|_| by_piece)
        .map_or(&d, |piece| &piece.decoded);
    let mut text = String::new();
    for path in &form.protocol_columns {
        let value = first.get(path).map(|f| p.shown(f)).unwrap_or_default();
        text.push_str(&column_cell(&value));
    }
    if by_piece {
        for (n, piece) in pieces.iter().enumerate() {
            if n > 0 {
                text.push_str("  ┆ ");
            }
            text.push_str("≡ ");
            text.push_str(&p.piece_summary(piece));
        }
    } else {
        text.push_str("≡ ");
        text.push_str(&p.summary(&d));
    }
    text.push_str("   ");
    Some((text, TextFormat::simple(font.clone(), color)))
}

/// A value padded (or cut) to the column's width, and the gap after it.
fn column_cell(value: &str) -> String {
    let n = value.chars().count();
    if n > COLUMN_CHARS {
        let cut: String = value.chars().take(COLUMN_CHARS - 1).collect();
        format!("{cut}… │ ")
    } else {
        format!("{value}{} │ ", " ".repeat(COLUMN_CHARS - n))
    }
}

/// The chosen columns' names above the log, each with a button that removes it.
pub fn columns_ui(ui: &mut egui::Ui, form: &Form, actions: &mut Vec<UiAction>) {
    if form.protocol_columns.is_empty() || chosen(form).is_none() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.weak(t(S::FieldColumns));
        for path in &form.protocol_columns {
            let chip = ui
                .small_button(format!("{path} ×"))
                .on_hover_text(t(S::TipRemoveColumn));
            super::testhook::tag(ui, &chip, &format!("column.{path}"));
            if chip.clicked() {
                actions.push(UiAction::ToggleColumn(path.clone()));
            }
        }
    });
}

/// The detail panel's first height: a field tree needs more room than a hex dump alone —
/// half the log's height with a protocol (at 1920×1080 a fixed 280 px gave the tree about 12
/// lines while the list kept the rest), at least 220 px (at 1024×640 the list keeps ~8 rows).
pub fn detail_height(form: &Form, available: f32) -> f32 {
    if chosen(form).is_some() {
        (available * 0.5).max(220.0)
    } else {
        150.0
    }
}

/// The good-verdict colour, readable on both themes.
fn ok_color(ui: &egui::Ui) -> Color32 {
    if ui.visuals().dark_mode {
        Color32::from_rgb(0x6C, 0xD0, 0x7A)
    } else {
        Color32::from_rgb(0x1B, 0x7F, 0x2E)
    }
}

/// The field tree and the hex dump of `record`, side by side; false when the tab has no
/// protocol (the caller shows its plain hex dump).
pub fn detail_ui(
    ui: &mut egui::Ui,
    form: &Form,
    record: &Record<'_>,
    actions: &mut Vec<UiAction>,
) -> bool {
    let Some((p, d)) = decode(form, record) else {
        return false;
    };
    let id = ui.make_persistent_id(("protocol-field", record.seq));
    let mut selected: Option<String> =
        ui.data(|data| data.get_temp::<Option<String>>(id).flatten());
    ui.columns(2, |cols| {
        if let [left, right] = cols {
            egui::ScrollArea::vertical()
                .id_salt("protocol-tree")
                .auto_shrink([false, false])
                .show(left, |ui| {
                    ui.label(RichText::new(p.summary(&d)).strong());
                    let mut tree = Tree {
                        protocol: &p,
                        columns: &form.protocol_columns,
                        selected: &mut selected,
                        actions,
                    };
                    for f in &d.fields {
                        tree.field_ui(ui, f, "", 0);
                    }
                    if let Some(stop) = &d.stop {
                        ui.label(RichText::new(format!("⚠ {stop}")).color(error_color(ui)));
                    }
                });
            let range = selected
                .as_deref()
                .and_then(|path| d.all().into_iter().find(|(p, _)| p == path))
                .map(|(_, f)| f.range.clone());
            if let Some(r) = &range {
                super::testhook::value(right.ctx(), "log.detail.marked", format!("{r:?}"));
            }
            egui::ScrollArea::both()
                .id_salt("protocol-hex")
                .auto_shrink([false, false])
                .show(right, |ui| {
                    let (job, byte_of) = hexdump(ui, record.bytes, range.as_ref());
                    // Laid out unwrapped (scrolled); a click on a byte picks the innermost
                    // field holding it.
                    let galley = ui.fonts_mut(|f| f.layout_job(job));
                    let (rect, response) =
                        ui.allocate_exact_size(galley.size(), egui::Sense::click());
                    super::testhook::tag(ui, &response, "log.detail.hex");
                    if response.clicked()
                        && let Some(pos) = response.interact_pointer_pos()
                    {
                        // The cursor falls between characters: the one after it, or before.
                        let i = galley.cursor_from_pos(pos - rect.min).index.0;
                        let byte = |i: usize| byte_of.get(i).copied().flatten();
                        if let Some(at) = byte(i).or_else(|| i.checked_sub(1).and_then(byte)) {
                            selected = d.field_at(at);
                        }
                    }
                    if super::testhook::wanted() {
                        let scale = ui.ctx().pixels_per_point();
                        let char_w = ui.fonts_mut(|f| f.glyph_width(&FontId::monospace(13.0), '0'));
                        super::testhook::value(ui.ctx(), "log.detail.char_width", char_w * scale);
                        let row_h = galley.size().y / galley.rows.len().max(1) as f32;
                        super::testhook::value(ui.ctx(), "log.detail.row_height", row_h * scale);
                    }
                    let color = ui.visuals().text_color();
                    ui.painter().galley(rect.min, galley, color);
                });
        }
    });
    ui.data_mut(|data| data.insert_temp(id, selected));
    super::testhook::value(ui.ctx(), "log.detail.fields", d.all().len() as u64);
    true
}

/// The field tree being drawn: what it needs besides the field.
struct Tree<'a> {
    protocol: &'a Protocol,
    /// The fields shown as log columns.
    columns: &'a [String],
    selected: &'a mut Option<String>,
    actions: &'a mut Vec<UiAction>,
}

impl Tree<'_> {
    fn field_ui(&mut self, ui: &mut egui::Ui, f: &Field, prefix: &str, depth: usize) {
        let p = self.protocol;
        let path = if prefix.is_empty() {
            f.name.to_string()
        } else {
            format!("{prefix}.{}", f.name)
        };
        let shown = p.shown(f);
        let text = if shown.is_empty() {
            p.label(f)
        } else {
            format!("{}: {shown}", p.label(f))
        };
        let color = match &f.note {
            Some(Note::Check(v)) if v.ok => Some(ok_color(ui)),
            Some(Note::Check(_) | Note::Mismatch(_)) => Some(error_color(ui)),
            None => None,
        };
        let rich = match color {
            Some(c) => RichText::new(text).color(c),
            None => RichText::new(text),
        };
        let is_selected = self.selected.as_deref() == Some(path.as_str());
        if f.children.is_empty() {
            let r = ui
                .selectable_label(is_selected, rich)
                .on_hover_text(format!("{path} @{}+{}", f.range.start, f.range.len()));
            super::testhook::tag(ui, &r, &format!("field.{path}"));
            if r.clicked() {
                *self.selected = Some(path.clone());
            }
            // Right-click: the field as a column of the log (or not).
            let shown_as_column = self.columns.contains(&path);
            r.context_menu(|ui| {
                let label = if shown_as_column {
                    S::RemoveColumn
                } else {
                    S::ShowAsColumn
                };
                let item = ui.button(t(label));
                super::testhook::tag(ui, &item, "field.menu.column");
                if item.clicked() {
                    self.actions.push(UiAction::ToggleColumn(path.clone()));
                    ui.close();
                }
                // A number: plotted live (a repeat's item by its index).
                if super::plot_ui::plottable(p, f) {
                    let plot = ui.button(t(S::PlotField));
                    super::testhook::tag(ui, &plot, "field.menu.plot");
                    if plot.clicked() {
                        let pick = super::plot_ui::pick_of(&path, f);
                        let action = super::plot_ui::PlotAction::Add(pick, p.label(f));
                        self.actions.push(UiAction::Plot(action));
                        ui.close();
                    }
                }
            });
            return;
        }
        let header = egui::CollapsingHeader::new(rich)
            .id_salt(&path)
            // Regions open, a number's bit fields folded (they repeat its bytes).
            .default_open(depth < 2 && matches!(f.value, protocol::FieldValue::None))
            .show(ui, |ui| {
                for c in &f.children {
                    self.field_ui(ui, c, &path, depth + 1);
                }
            });
        if header.header_response.secondary_clicked() || header.header_response.double_clicked() {
            *self.selected = Some(path);
        }
    }
}

/// A hex dump with offsets and ASCII, `range`'s bytes highlighted: 16 bytes a row, or 8
/// when 16 would not fit beside the tree. With it, for each character, the byte it shows.
fn hexdump(
    ui: &egui::Ui,
    bytes: &[u8],
    range: Option<&std::ops::Range<usize>>,
) -> (LayoutJob, Vec<Option<usize>>) {
    let font = FontId::monospace(13.0);
    let char_width = ui.fonts_mut(|f| f.glyph_width(&font, '0')).max(1.0);
    // Offset, 3 characters and 1 of ASCII a byte, the gaps.
    let per_row: usize = if ui.available_width() >= char_width * (12.0 + 16.0 * 4.0) {
        16
    } else {
        8
    };
    let plain = TextFormat::simple(font.clone(), ui.visuals().text_color());
    let mut marked = plain.clone();
    marked.background = ui.visuals().selection.bg_fill;
    marked.color = ui.visuals().strong_text_color();
    let fmt = |at: usize| {
        if range.is_some_and(|r| r.contains(&at)) {
            marked.clone()
        } else {
            plain.clone()
        }
    };
    let mut job = LayoutJob::default();
    let mut byte_of: Vec<Option<usize>> = Vec::new();
    let mut put = |text: &str, format: TextFormat, byte: Option<usize>| {
        byte_of.extend(std::iter::repeat_n(byte, text.chars().count()));
        job.append(text, 0.0, format);
    };
    for (row, chunk) in bytes.chunks(per_row).enumerate() {
        let base = row * per_row;
        put(&format!("{base:08x}  "), plain.clone(), None);
        for (n, b) in chunk.iter().enumerate() {
            put(&format!("{b:02x}"), fmt(base + n), Some(base + n));
            let gap = if n == 7 && per_row == 16 { "  " } else { " " };
            put(gap, plain.clone(), None);
        }
        let pad = (per_row - chunk.len()) * 3 + 1 + usize::from(per_row == 16);
        put(&" ".repeat(pad), plain.clone(), None);
        for (n, b) in chunk.iter().enumerate() {
            let c = if b.is_ascii_graphic() || *b == b' ' {
                char::from(*b)
            } else {
                '.'
            };
            put(&c.to_string(), fmt(base + n), Some(base + n));
        }
        put("\n", plain.clone(), None);
    }
    (job, byte_of)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use sockscope_core::capture::LogStore;
    use sockscope_core::codec::{TextEncoding, hex};
    use sockscope_core::engine::Direction;

    /// The fields CSV is offered under the message kind's name, not one name for all.
    #[test]
    fn a_message_kind_is_named_for_its_file() {
        let mut log = LogStore::new(usize::MAX, TextEncoding::default());
        let peer = "127.0.0.1:7000".parse().unwrap();
        let at = std::time::SystemTime::now();
        let location = hex::parse(
            "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
        )
        .unwrap();
        log.push_data(at, Direction::Rx, None, peer, &location);
        let read = hex::parse("00 01 00 00 00 06 01 03 00 00 00 01").unwrap();
        log.push_data(at, Direction::Rx, None, peer, &read);
        let records: Vec<_> = log.iter().collect();
        let jt808 = Form {
            protocol: "jt808".into(),
            ..Form::default()
        };
        assert_eq!(
            kind_name(&jt808, &records[0]).as_deref(),
            Some("jt808-0x0200")
        );
        let modbus = Form {
            protocol: "modbus-tcp".into(),
            ..Form::default()
        };
        assert_eq!(
            kind_name(&modbus, &records[1]).as_deref(),
            Some("modbus-tcp-0x0003")
        );
    }
}
