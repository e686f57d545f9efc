//! The log: one row per record, only the rows on screen are formatted (`show_rows`), so a
//! long log costs no more per frame than a short one.

use std::fmt::Write as _;
use std::time::SystemTime;

use eframe::egui::{self, Color32, FontId, TextFormat, text::LayoutJob};

use eframe::egui::RichText;

use super::dialogs::FileRequest;
use super::i18n::{S, t, tf};
use super::settings::error_color;
use super::state::{Form, TabUi, UiAction};
use super::status_bar::human_bytes;
use crate::capture::{
    ExportFormat, LogStore, Record, RecordFormat, RecordKind, StreamIndex, ViewIndex, hexdump,
};
use crate::codec::{hex, text};

/// Payload shown per row at most; the detail view shows all of it.
const MAX_ROW_BYTES: usize = 1024;

/// Draws the log area: toolbar, search bar, the list (or frames and raw reads side by side)
/// and, when a record is selected, its detail.
pub fn log_view_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    tab.refresh_view();
    if tab.view.searching.is_some() {
        // The next slice of the search runs with the next frame.
        ui.ctx().request_repaint();
    }
    toolbar_ui(ui, tab, actions);
    if tab.view.search_open {
        search_bar_ui(ui, tab, actions);
    }
    if let Some(record) = tab
        .view
        .selected
        .and_then(|seq| tab.capture.log.get_seq(seq))
    {
        egui::Panel::bottom("record_detail")
            .resizable(true)
            .default_size(150.0)
            .show(ui, |ui| detail_ui(ui, record, actions));
    }
    super::testhook::tag_rect(ui, ui.available_rect_before_wrap(), "log.area");
    let capture = &tab.capture;
    if capture.log.is_empty() && capture.raw.is_empty() {
        ui.centered_and_justified(|ui| {
            ui.weak(t(S::EmptyLog));
        });
        return;
    }
    paused_note_ui(ui, tab);
    let framed = *tab.framing() != crate::codec::framing::Framing::None;
    let view = &mut *tab.view;
    let scroll_to = view.scroll_to.take();
    if tab.form.stream_view {
        stream_list_ui(ui, capture, &view.stream, tab.form);
    } else if tab.form.show_raw && framed {
        // Two lists side by side, each clipped to its half so neither paints over the other
        // or over the panels around the log.
        let size = ui.available_size();
        let half = egui::vec2((size.x - ui.spacing().item_spacing.x) / 2.0, size.y);
        let halves = [
            (
                t(S::Frames),
                List {
                    salt: "log",
                    log: &capture.log,
                    index: &view.index,
                    form: tab.form,
                },
                true,
            ),
            (
                t(S::RawReads),
                List {
                    salt: "raw_log",
                    log: &capture.raw,
                    index: &view.raw_index,
                    form: tab.form,
                },
                false,
            ),
        ];
        ui.horizontal_top(|ui| {
            for (title, list, main) in halves {
                ui.allocate_ui(half, |ui| {
                    ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
                    ui.vertical(|ui| {
                        ui.strong(title);
                        // Selection, matches and scrolling belong to the frames list.
                        let (selected, matches) = if main {
                            (view.selected, &view.matches[..])
                        } else {
                            (None, &[][..])
                        };
                        let scroll = scroll_to.filter(|_| main);
                        let follow = if main {
                            &mut view.follow
                        } else {
                            &mut view.follow_raw
                        };
                        list.ui(ui, selected, matches, scroll, follow, actions);
                    });
                });
            }
        });
    } else {
        let list = List {
            salt: "log",
            log: &capture.log,
            index: &view.index,
            form: tab.form,
        };
        list.ui(
            ui,
            view.selected,
            &view.matches,
            scroll_to,
            &mut view.follow,
            actions,
        );
    }
}

/// While paused, says so when the log's cap took rows the paused view was showing (a flood
/// past the cap can take them all within a second).
fn paused_note_ui(ui: &mut egui::Ui, tab: &TabUi<'_>) {
    let index = &tab.view.index;
    let (Some(_), Some(froze)) = (index.paused_at, tab.view.paused_oldest) else {
        return;
    };
    let first = tab.capture.log.first_seq().unwrap_or(u64::MAX);
    if first <= froze {
        return;
    }
    let cap = human_bytes(tab.capture.log.cap() as u64);
    let text = if index.is_empty() {
        tf(S::PausedAllEvicted, &[&cap, &index.pending()])
    } else {
        tf(S::PausedSomeEvicted, &[&cap])
    };
    ui.label(RichText::new(text).color(ui.visuals().warn_fg_color));
}

fn toolbar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    // Wraps onto a second line when the log is narrow, instead of hiding Export and Record.
    ui.horizontal_wrapped(|ui| {
        let paused = tab.view.index.paused_at.is_some();
        let label = if paused {
            tf(S::ResumeN, &[&tab.view.index.pending()])
        } else {
            t(S::Pause).to_owned()
        };
        let pause = ui
            .selectable_label(paused, label)
            .on_hover_text(t(S::TipPause));
        super::testhook::tag(ui, &pause, "log.pause");
        if pause.clicked() {
            actions.push(UiAction::TogglePause);
        }
        let mut peers: Vec<std::net::SocketAddr> =
            tab.capture.clients.values().map(|c| c.peer).collect();
        peers.extend(tab.capture.peers.keys());
        let shown = tab
            .view
            .filter
            .peer
            .map_or_else(|| t(S::Everyone).to_owned(), |p| p.to_string());
        let show = ui.label(t(S::Show));
        egui::ComboBox::from_id_salt("filter_peer")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                if ui
                    .selectable_label(tab.view.filter.peer.is_none(), t(S::Everyone))
                    .clicked()
                {
                    actions.push(UiAction::FilterPeer(None));
                }
                for peer in peers {
                    if ui
                        .selectable_label(tab.view.filter.peer == Some(peer), peer.to_string())
                        .clicked()
                    {
                        actions.push(UiAction::FilterPeer(Some(peer)));
                    }
                }
            })
            .response
            .labelled_by(show.id)
            .on_hover_text(t(S::TipFilterPeer));
        ui.checkbox(&mut tab.form.stream_view, t(S::Stream))
            .on_hover_text(t(S::TipStream));
        ui.checkbox(&mut tab.view.filter.hide_sent, t(S::HideSent));
        ui.checkbox(&mut tab.view.filter.hide_received, t(S::HideReceived));
        ui.checkbox(&mut tab.form.show_controls, t(S::ShowControls))
            .on_hover_text(t(S::TipShowControls));
        let find = super::actions::Action::Find;
        if ui
            .selectable_label(tab.view.search_open, find.label())
            .on_hover_text(find.tooltip())
            .clicked()
        {
            actions.push(UiAction::ToggleSearch);
        }
        file_menus_ui(ui, tab, actions);
    });
}

/// Export and Record (接收转向文件) menus.
fn file_menus_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    if let Some((progress, path)) = tab.exporting() {
        let text = tf(S::ExportingN, &[&((progress * 100.0) as u32)]);
        ui.add(
            egui::ProgressBar::new(progress)
                .desired_width(140.0)
                .text(text),
        )
        .on_hover_text(path.display().to_string());
        if ui
            .button(t(S::CancelExport))
            .on_hover_text(t(S::TipCancelExport))
            .clicked()
        {
            actions.push(UiAction::CancelExport);
        }
    } else {
        export_menu_ui(ui, actions);
    }
    record_menu_ui(ui, tab, actions);
}

/// The Export menu: one entry per format, each asking where.
fn export_menu_ui(ui: &mut egui::Ui, actions: &mut Vec<UiAction>) {
    let menu = ui.menu_button(t(S::Export), |ui| {
        for format in ExportFormat::ALL {
            let name = t(match format {
                ExportFormat::Text => S::ExportText,
                ExportFormat::Hex => S::ExportHex,
                ExportFormat::Csv => S::ExportCsv,
                ExportFormat::Pcap => S::ExportPcap,
            });
            let item = ui.button(name);
            let key = match format {
                ExportFormat::Text => "export.text",
                ExportFormat::Hex => "export.hex",
                ExportFormat::Csv => "export.csv",
                ExportFormat::Pcap => "export.pcap",
            };
            super::testhook::tag(ui, &item, key);
            if item.clicked() {
                ui.close();
                actions.push(UiAction::AskFile(FileRequest::Export(format)));
            }
        }
    });
    super::testhook::tag(ui, &menu.response, "log.export");
    menu.response.on_hover_text(t(S::TipExport));
}

/// Record (接收转向文件): start, or stop with the bytes written so far.
fn record_menu_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    match &tab.capture.recorder {
        Some(recorder) => {
            let label = tf(S::StopRecording, &[&human_bytes(recorder.bytes)]);
            if ui
                .button(label)
                .on_hover_text(recorder.path.display().to_string())
                .clicked()
            {
                actions.push(UiAction::StopRecording);
            }
        }
        None => {
            ui.menu_button(t(S::Record), |ui| {
                for (format, label) in [
                    (RecordFormat::Raw, S::RecordRaw),
                    (RecordFormat::TextLog, S::RecordTextLog),
                ] {
                    if ui.button(t(label)).clicked() {
                        ui.close();
                        actions.push(UiAction::AskFile(FileRequest::Record(format)));
                    }
                }
            })
            .response
            .on_hover_text(t(S::TipRecord));
        }
    }
}

fn search_bar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        let view = &mut *tab.view;
        let label = ui.label(t(S::ActionFind));
        let edit = egui::TextEdit::singleline(&mut view.search_text)
            .hint_text(t(if view.search_hex {
                S::SearchHexHint
            } else {
                S::SearchTextHint
            }))
            .desired_width(200.0);
        let response = ui.add(edit).labelled_by(label.id);
        if std::mem::take(&mut view.focus_search) {
            response.request_focus();
        }
        if response.changed() {
            actions.push(UiAction::Search);
        }
        if response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            actions.push(UiAction::NextMatch(true));
            response.request_focus();
        }
        if ui.checkbox(&mut view.search_hex, t(S::HexSmall)).changed() {
            actions.push(UiAction::Search);
        }
        if ui.button(t(S::Previous)).clicked() {
            actions.push(UiAction::NextMatch(false));
        }
        if ui.button(t(S::Next)).clicked() {
            actions.push(UiAction::NextMatch(true));
        }
        if let Some(search) = &tab.view.searching {
            let percent = (search.progress(&tab.view.index) * 100.0) as u32;
            ui.spinner();
            ui.label(tf(S::SearchingN, &[&percent, &tab.view.matches.len()]));
            return;
        }
        match (&tab.view.search_error, tab.match_position()) {
            (Some(error), _) => {
                ui.label(RichText::new(error).color(error_color(ui)));
            }
            (None, Some((at, of))) => {
                ui.label(tf(S::MatchNofM, &[&at, &of]));
            }
            (None, None) if !tab.view.search_text.is_empty() => {
                ui.label(tf(S::MatchesN, &[&tab.view.matches.len()]));
            }
            (None, None) => {}
        }
    });
}

fn detail_ui(ui: &mut egui::Ui, record: Record<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        let peer = record.peer.map(|p| p.to_string()).unwrap_or_default();
        ui.strong(tf(
            S::DetailHead,
            &[&clock(record.at), &peer, &record.bytes.len()],
        ));
        if ui.button(t(S::CopyText)).clicked() {
            ui.ctx().copy_text(record.text().into_owned());
        }
        if ui.button(t(S::CopyHex)).clicked() {
            ui.ctx().copy_text(hex::format(record.bytes));
        }
        if ui.button(t(S::Close)).clicked() {
            actions.push(UiAction::SelectRecord(None));
        }
    });
    egui::ScrollArea::vertical()
        .id_salt("detail")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let text = if record.bytes.is_empty() {
                record.text().into_owned()
            } else {
                hexdump(record.bytes)
            };
            let mut job = LayoutJob::default();
            let format = TextFormat::simple(FontId::monospace(13.0), ui.visuals().text_color());
            append_ltr(&mut job, &text, &format);
            ui.add(egui::Label::new(job).selectable(true));
        });
}

/// The continuous-stream view: one row per line of each peer's data.
fn stream_list_ui(
    ui: &mut egui::Ui,
    capture: &crate::capture::Capture,
    stream: &StreamIndex,
    form: &Form,
) {
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    let stick = form.auto_scroll;
    egui::ScrollArea::both()
        .id_salt("stream")
        .auto_shrink([false, false])
        .stick_to_bottom(stick)
        .show_rows(ui, row_height, stream.len(), |ui, rows| {
            for (first, text) in stream.rows(&capture.log, rows) {
                let job = stream_row_job(ui, &first, &text, form, &font);
                ui.add(egui::Label::new(job).extend());
            }
        });
}

/// A stream row: the time, direction and peer of its first bytes, then the joined text.
fn stream_row_job(
    ui: &egui::Ui,
    first: &Record<'_>,
    text: &str,
    form: &Form,
    font: &FontId,
) -> LayoutJob {
    let mut job = LayoutJob::default();
    if form.show_time {
        let weak = TextFormat::simple(font.clone(), ui.visuals().weak_text_color());
        job.append(&format!("{} ", clock(first.at)), 0.0, weak);
    }
    let head = match (first.kind, first.peer) {
        (RecordKind::Rx, Some(peer)) => format!("← {peer} "),
        (RecordKind::Tx, Some(peer)) => format!("→ {peer} "),
        (RecordKind::Rx | RecordKind::Tx, None) => String::new(),
        (RecordKind::Info, _) => "• ".to_owned(),
        (RecordKind::Error, _) => "⚠ ".to_owned(),
    };
    job.append(
        &head,
        0.0,
        TextFormat::simple(font.clone(), kind_color(ui, first.kind)),
    );
    let shown = if form.show_controls {
        text::one_line(text)
    } else {
        text::without_controls(text)
    };
    let body = TextFormat::simple(font.clone(), ui.visuals().text_color());
    append_ltr(&mut job, &shown, &body);
    job
}

/// Appends `text` so that it is drawn in byte order, left to right, whatever its script (see
/// [`text::ltr_pieces`]): each piece is a section of its own — the text shaper works a
/// section at a time, and `LayoutJob::append` would merge pieces of the same format.
pub fn append_ltr(job: &mut LayoutJob, text: &str, format: &TextFormat) {
    for piece in text::ltr_pieces(text) {
        let start = job.text.len();
        job.text.push_str(&piece);
        job.sections.push(egui::text::LayoutSection {
            leading_space: 0.0,
            byte_range: egui::text::ByteIndex(start)..egui::text::ByteIndex(job.text.len()),
            format: format.clone(),
        });
    }
}

/// One scrolling list of records; only the rows on screen are laid out.
struct List<'a> {
    salt: &'a str,
    log: &'a LogStore,
    index: &'a ViewIndex,
    form: &'a Form,
}

impl List<'_> {
    /// Draws the rows on screen. Following the newest rows (auto-scroll, not paused, not
    /// scrolled up by the user) the offset is set from this frame's row count: egui's own
    /// stick-to-bottom used the last frame's size, and while eviction shrinks the log faster
    /// than frames come the view fell past the end and showed nothing. Returns whether the
    /// view is now at its end.
    fn ui(
        self,
        ui: &mut egui::Ui,
        selected: Option<u64>,
        matches: &[u64],
        scroll_to: Option<u64>,
        follow: &mut Follow,
        actions: &mut Vec<UiAction>,
    ) {
        let font = FontId::monospace(13.0);
        let row_height = ui.fonts_mut(|f| f.row_height(&font));
        let spacing = ui.spacing().item_spacing.y;
        let rows = self.index.len();
        // The offset that shows the last rows, for the rows there are now (as `show_rows`
        // lays them out) in the view's height of the last frame.
        let content = ((row_height + spacing) * rows as f32 - spacing).max(0.0);
        let bottom = (content - follow.height).max(0.0);
        let mut area = egui::ScrollArea::both()
            .id_salt(self.salt)
            .auto_shrink([false, false]);
        let following =
            self.form.auto_scroll && self.index.paused_at.is_none() && !follow.scrolled_up;
        let last = egui::scroll_area::State::load(ui.ctx(), ui.make_persistent_id(self.salt))
            .map_or(0.0, |s| s.unclamped_offset().y);
        match scroll_to.and_then(|seq| self.index.row_of(seq)) {
            Some(row) => {
                let offset = (row as f32 * (row_height + spacing) - 3.0 * row_height).max(0.0);
                area = area.vertical_scroll_offset(offset);
            }
            // Following, or past the end (rows evicted under a paused or scrolled-up view):
            // the last rows. Only when it moves, or egui would be asked for frame after frame.
            None if (following && (last - bottom).abs() > 0.5) || last > bottom + 0.5 => {
                area = area.vertical_scroll_offset(bottom);
            }
            None => {}
        }
        let output = area.show_rows(ui, row_height, rows, |ui, range| {
            for row in range {
                let Some(record) = self.index.record(self.log, row) else {
                    continue;
                };
                let job = row_job(ui, &record, self.form, &font);
                let response = ui.add(egui::Label::new(job).extend().sense(egui::Sense::click()));
                let highlight = if selected == Some(record.seq) {
                    Some(ui.visuals().selection.bg_fill)
                } else if matches.binary_search(&record.seq).is_ok() {
                    Some(ui.visuals().warn_fg_color.gamma_multiply(0.25))
                } else {
                    None
                };
                if let Some(fill) = highlight {
                    ui.painter()
                        .rect_filled(response.rect, 2.0, fill.gamma_multiply(0.5));
                }
                if response.clicked() {
                    actions.push(UiAction::SelectRecord(Some(record.seq)));
                }
            }
        });
        follow.height = output.inner_rect.height();
        let max = (output.content_size.y - follow.height).max(0.0);
        follow.scrolled_up = output.state.clamped_offset().y < max - row_height;
    }
}

/// Whether a list follows its newest rows, and its height last frame.
#[derive(Clone, Copy, Debug, Default)]
pub struct Follow {
    /// The user scrolled away from the newest rows (the view stops following them).
    pub scrolled_up: bool,
    /// The list's visible height in the last frame.
    pub height: f32,
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
fn row_job(ui: &egui::Ui, record: &Record<'_>, form: &Form, font: &FontId) -> LayoutJob {
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
                && let Some(good) = form.rx_verify.verify(record.bytes)
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
                job.append(t(S::Partial), 0.0, format);
            }
            let payload = payload_text(record, form.rx_hex, form.show_controls);
            append_ltr(&mut job, &payload, &body);
        }
        RecordKind::Info | RecordKind::Error => {
            append_ltr(&mut job, &format!(" {}", record.text()), &strong);
        }
    }
    job
}

/// The payload as one line: hex bytes, or text with control characters made visible.
fn payload_text(record: &Record<'_>, as_hex: bool, show_controls: bool) -> String {
    if as_hex {
        let shown = record.bytes.get(..MAX_ROW_BYTES).unwrap_or(record.bytes);
        let mut out = hex::format(shown);
        if record.bytes.len() > shown.len() {
            out.push_str(&tf(S::MoreBytes, &[&(record.bytes.len() - shown.len())]));
        }
        out
    } else {
        // A row shows at most MAX_ROW_BYTES characters: decode no more than they can take.
        let head = record.text_head(MAX_ROW_BYTES * 4);
        let mut out = if show_controls {
            text::one_line(&head).into_owned()
        } else {
            text::without_controls(&head).into_owned()
        };
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

#[cfg(test)]
mod tests {
    use eframe::egui::{FontData, FontFamily, FontInsert, FontPriority, InsertFontFamily};

    use super::*;
    use crate::engine::Direction;

    /// The app's fonts, plus — as a desktop's system fonts do — one that really shapes Hebrew
    /// and Thaana (a font without them would draw boxes, hiding the bug).
    fn context() -> egui::Context {
        let ctx = egui::Context::default();
        super::super::fonts::install(&ctx);
        let families = [FontFamily::Monospace, FontFamily::Proportional]
            .into_iter()
            .map(|family| InsertFontFamily {
                family,
                priority: FontPriority::Lowest,
            })
            .collect();
        ctx.add_font(FontInsert {
            name: "dejavu-rtl".into(),
            data: FontData::from_static(include_bytes!(
                "../../tests/data/fonts/DejaVuSans-rtl-subset.ttf"
            )),
            families,
        });
        ctx
    }

    /// Each glyph of `job` laid out, with its x position, in the order the row holds them.
    fn glyphs(ctx: &egui::Context, job: LayoutJob) -> Vec<(char, f32)> {
        let galley = ctx.fonts_mut(|f| f.layout_job(job));
        galley
            .rows
            .iter()
            .flat_map(|row| row.glyphs.iter().map(|g| (g.chr, row.pos.x + g.pos.x)))
            .collect()
    }

    #[test]
    fn a_row_of_binary_that_decodes_to_hebrew_and_thaana_is_drawn_in_byte_order() {
        // A B א ␠ 1 2 3 ␠ DE AD (Thaana ޭ) BE EF: as a peer sent it in the issue.
        let wire = [
            0x41, 0x42, 0xD7, 0x90, 0x20, 0x31, 0x32, 0x33, 0x20, 0xDE, 0xAD, 0xBE, 0xEF, 0x21,
        ];
        let mut log = LogStore::default();
        let peer = "127.0.0.1:9000".parse().unwrap();
        log.push_data(SystemTime::now(), Direction::Rx, None, peer, &wire);
        let record = log.get(0).unwrap();
        let form = Form {
            show_time: false,
            ..Form::default()
        };
        let ctx = context();
        let mut laid_out = Vec::new();
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            laid_out = glyphs(
                ui.ctx(),
                row_job(ui, &record, &form, &FontId::monospace(13.0)),
            );
        });
        output.textures_delta.clear();
        let start = laid_out
            .windows(2)
            .position(|w| w[0].0 == 'A' && w[1].0 == 'B')
            .expect("the payload is in the row");
        let payload = &laid_out[start..];
        let shown: String = payload.iter().map(|(c, _)| c).collect();
        assert_eq!(shown, "AB\u{5D0} 123 \u{7AD}\\xBE\\xEF!");
        for pair in payload.windows(2) {
            assert!(
                pair[0].1 < pair[1].1,
                "{:?} is drawn at or after {:?}: {payload:?}",
                pair[0],
                pair[1]
            );
        }
    }
}
