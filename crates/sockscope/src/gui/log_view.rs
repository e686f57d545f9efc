//! The log: one row per record, only the rows on screen are formatted (`show_rows`), so a
//! long log costs no more per frame than a short one.

use std::fmt::Write as _;
use std::time::SystemTime;

use eframe::egui::{self, Color32, FontId, TextFormat, text::LayoutJob};

use eframe::egui::RichText;

use super::i18n::{S, t, tf};
use super::model::{FileRequest, Follow};
use super::state::{Form, TabUi, UiAction};
use super::widgets::error_color;
use super::widgets::human_bytes;
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
    follow_keys_ui(ui, tab, actions);
    toolbar_ui(ui, tab, actions);
    if tab.view.search_open {
        search_bar_ui(ui, tab, actions);
    }
    detail_panel_ui(ui, tab, actions);
    super::testhook::tag_rect(ui, ui.available_rect_before_wrap(), "log.area");
    let capture = &tab.capture;
    if capture.log.is_empty() && capture.raw.is_empty() {
        empty_hint_ui(ui, tab);
        return;
    }
    paused_note_ui(ui, tab);
    super::protocol_ui::columns_ui(ui, tab.form, actions);
    let list_area = ui.available_rect_before_wrap();
    let held = tab.view.follow.held && tab.form.auto_scroll && tab.view.index.paused_at.is_none();
    if held {
        follow_button_ui(ui, list_area, actions);
    }
    let framed = *tab.framing() != crate::codec::framing::Framing::None;
    let view = &mut *tab.view;
    let scroll_to = view.scroll_to.take();
    if tab.form.stream_view {
        let scroll_to = scroll_to.and_then(|seq| view.stream.row_of(&capture.log, seq));
        let selected = view
            .selected
            .and_then(|seq| view.stream.row_of(&capture.log, seq));
        stream_list_ui(ui, capture, &view.stream, tab.form, (scroll_to, selected));
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
                    index: Rows::of(view.show_fields.as_ref(), &view.index),
                    form: tab.form,
                },
                true,
            ),
            (
                t(S::RawReads),
                List {
                    salt: "raw_log",
                    log: &capture.raw,
                    index: Rows::All(&view.raw_index),
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
                        let marks = if main {
                            Marks {
                                selected: view.selected,
                                matches: &view.matches[..],
                            }
                        } else {
                            Marks {
                                selected: None,
                                matches: &[][..],
                            }
                        };
                        let scroll = scroll_to.filter(|_| main);
                        let follow = if main {
                            &mut view.follow
                        } else {
                            &mut view.follow_raw
                        };
                        list.ui(ui, marks, scroll, follow, actions);
                    });
                });
            }
        });
    } else {
        let list = List {
            salt: "log",
            log: &capture.log,
            index: Rows::of(view.show_fields.as_ref(), &view.index),
            form: tab.form,
        };
        let marks = Marks {
            selected: view.selected,
            matches: &view.matches,
        };
        list.ui(ui, marks, scroll_to, &mut view.follow, actions);
    }
}

/// A picked row stopped the log following: "↓ Follow (End)" over the list's top right
/// corner follows again (as End does; at the bottom it covered the picked row, which is
/// brought into view there). Over the list, not in the toolbar: a toolbar that grew
/// as a row was clicked wrapped at 1024×640 and moved the rows under the pointer.
fn follow_button_ui(ui: &mut egui::Ui, list: egui::Rect, actions: &mut Vec<UiAction>) {
    let id = ui.make_persistent_id("follow-button");
    // As wide as its words in this language, on one line (in 中文 it wrapped onto two and
    // covered the rows under it): placed from its measured width.
    let font = egui::TextStyle::Button.resolve(ui.style());
    let text_width = ui
        .fonts_mut(|f| f.layout_no_wrap(t(S::FollowEnd).to_owned(), font, egui::Color32::WHITE))
        .size()
        .x;
    let width = text_width + 2.0 * ui.spacing().button_padding.x + 16.0;
    // Over the list but under the windows (Compose, Plot): in the foreground it was drawn
    // over a window that covered the list.
    let area = egui::Area::new(id)
        .order(egui::Order::Middle)
        .fixed_pos(list.right_top() + egui::vec2(-width, 4.0))
        .show(ui.ctx(), |ui| {
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            let button = egui::Button::new(RichText::new(t(S::FollowEnd)).strong())
                .fill(ui.visuals().selection.bg_fill);
            ui.add(button).on_hover_text(t(S::TipFollowEnd))
        });
    super::testhook::tag(ui, &area.inner, "log.follow");
    if area.inner.clicked() {
        actions.push(UiAction::Follow);
    }
}

/// The height the list keeps beside the detail pane: about five rows and the Columns row.
const LIST_KEPT: f32 = 150.0;

/// The selected record's detail, in a pane under the list.
fn detail_panel_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    if let Some(record) = tab
        .view
        .selected
        .and_then(|seq| tab.capture.log.get_seq(seq))
    {
        // The list keeps room for a few rows (and the Columns row) however the pane is
        // dragged: at 1024×640 with the Find bar open, a taller pane drew its header over
        // the log.
        let available = ui.available_height();
        let most = (available - LIST_KEPT).max(60.0);
        let panel = egui::Panel::bottom("record_detail")
            .resizable(true)
            .default_size(super::protocol_ui::detail_height(tab.form, available).min(most))
            .max_size(most)
            .show(ui, |ui| detail_ui(ui, record, tab.form, actions));
        // A grip in the middle of the pane's top edge: it can be dragged (the list or the
        // field tree taller).
        let top = panel.response.rect.center_top();
        let grip = egui::Rect::from_center_size(top + egui::vec2(0.0, 1.0), egui::vec2(48.0, 4.0));
        let color = ui
            .visuals()
            .widgets
            .inactive
            .fg_stroke
            .color
            .gamma_multiply(0.7);
        ui.painter().rect_filled(grip, 2.0, color);
    }
}

/// End follows the newest rows again after a row was picked, unless a text field has the
/// keyboard.
fn follow_keys_ui(ui: &egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    if tab.view.follow.held
        && ui.ctx().memory(|m| m.focused().is_none())
        && ui.input(|i| i.key_pressed(egui::Key::End))
    {
        actions.push(UiAction::Follow);
    }
    super::testhook::value(
        ui.ctx(),
        "log.follow",
        if tab.view.follow.held { "held" } else { "on" },
    );
}

/// What an empty log says. Cleared while open, it says what the session is doing, not how to
/// start one.
fn empty_hint_ui(ui: &mut egui::Ui, tab: &TabUi<'_>) {
    let hint = if tab.is_open() {
        tf(
            S::EmptyLogOpen,
            &[&super::status_bar::status_line(&tab.capture)],
        )
    } else {
        t(S::EmptyLog).to_owned()
    };
    ui.centered_and_justified(|ui| {
        ui.weak(hint);
    });
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

/// The largest count Resume shows as a number; beyond, "999+" (the button keeps its width,
/// small enough that the default window keeps the view switches in the toolbar).
const MOST_SHOWN: usize = 999;

fn shown_count(n: usize) -> String {
    if n > MOST_SHOWN {
        format!("{MOST_SHOWN}+")
    } else {
        n.to_string()
    }
}

/// Below this width plus the switches' and Show by field's the toolbar's view switches go
/// into one menu, so the toolbar stays one line (at 1024×640 Record went to a second line):
/// Pause, Show with its list, Find, Export and Record, with their spacing.
const COMPACT_TOOLBAR: f32 = 440.0;

/// Show by field's box at its least when the toolbar is not compact.
const SHOW_BOX_WIDE: f32 = 170.0;

fn toolbar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let paused = tab.view.index.paused_at.is_some();
    // One width for Pause and Resume with any count up to the most shown, so "Resume (13
    // new)" does not push the rest of the toolbar under the pointer.
    let pending = tab.view.index.pending();
    let label = if paused {
        tf(S::ResumeN, &[&shown_count(pending)])
    } else {
        t(S::Pause).to_owned()
    };
    let font = egui::TextStyle::Button.resolve(ui.style());
    let color = ui.visuals().text_color();
    let measure = |ui: &egui::Ui, text: String| {
        ui.fonts_mut(|f| f.layout_no_wrap(text, font.clone(), color))
            .size()
            .x
    };
    let pause_text = measure(ui, t(S::Pause).to_owned());
    let resume_text = measure(ui, tf(S::ResumeN, &[&"888+"])).max(pause_text);
    let width = resume_text + 2.0 * ui.spacing().button_padding.x;
    // The room kept for Resume beyond Pause counts toward the toolbar's width, and so do the
    // switches' labels in this language and Show by field's box and counts (in 中文 with a
    // protocol the toolbar wrapped at 1280).
    let switches: f32 = [S::Stream, S::HideSent, S::HideReceived, S::ShowControls]
        .into_iter()
        .map(|s| measure(ui, t(s).to_owned()))
        .sum::<f32>()
        + 4.0 * (ui.spacing().icon_width + ui.spacing().icon_spacing + ui.spacing().item_spacing.x);
    let show_fields = if super::protocol_pick::chosen(tab.form).is_some() {
        let unreadable = tab
            .view
            .show_fields
            .as_ref()
            .and_then(|rows| rows.unreadable())
            .map_or(0.0, |(n, _)| {
                measure(ui, tf(S::ShowFieldsUnreadableShort, &[&n])) + ui.spacing().item_spacing.x
            });
        SHOW_BOX_WIDE + measure(ui, tf(S::ShowFieldsHidden, &[&"888"])) + unreadable
    } else {
        0.0
    };
    let compact =
        ui.available_width() < COMPACT_TOOLBAR + switches + show_fields + resume_text - pause_text;
    // Still wraps onto a second line when the log is narrower than that, rather than hiding
    // Export and Record.
    ui.horizontal_wrapped(|ui| {
        let pause = ui
            .add(egui::Button::selectable(paused, label).min_size(egui::vec2(width, 0.0)))
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
        show_fields_ui(ui, tab, compact, actions);
        if compact {
            let menu = ui.menu_button(t(S::LogOptions), |ui| view_switches_ui(ui, tab));
            super::testhook::tag(ui, &menu.response, "log.options");
        } else {
            view_switches_ui(ui, tab);
        }
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

/// Show by field (with a protocol): the expression, why it cannot filter, or how many
/// messages it hides (and how far through a long log it is).
fn show_fields_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    narrow: bool,
    actions: &mut Vec<UiAction>,
) {
    let view = &mut *tab.view;
    if super::protocol_pick::chosen(tab.form).is_none() {
        if view.show_fields.is_some() || view.show_error.is_some() {
            actions.push(UiAction::ShowFields);
        }
        return;
    }
    // No label of its own (the hint names it): at 1024×640 the toolbar stays one line.
    // It grows with what is typed (an expression cut off cannot be checked by eye).
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let typed = ui
        .fonts_mut(|f| f.layout_no_wrap(view.show_text.clone(), font, egui::Color32::WHITE))
        .size()
        .x;
    // As wide as the toolbar has room for beside the rest of its buttons (a toolbar that
    // wrapped as one typed would move them under the pointer).
    let least = if narrow { 110.0 } else { SHOW_BOX_WIDE - 10.0 };
    let left = ui.max_rect().right() - ui.cursor().left();
    let most = (left - TOOLBAR_AFTER_SHOW).clamp(least, 420.0);
    let hint = super::protocol_pick::chosen(tab.form)
        .map_or_else(|| t(S::ShowFieldsHint).to_owned(), |p| show_hint(&p));
    let edit = egui::TextEdit::singleline(&mut view.show_text)
        .hint_text(hint)
        .desired_width((typed + 16.0).clamp(least, most))
        .font(egui::TextStyle::Monospace);
    let cut = typed + 16.0 > most;
    let response = ui.add(edit).on_hover_text(if cut {
        // Where the toolbar has no room for all of it (1024 wide), the whole on hover.
        format!("{}\n\n{}", view.show_text, t(S::TipShowFields))
    } else {
        t(S::TipShowFields).to_owned()
    });
    super::testhook::tag(ui, &response, "log.show_fields");
    // Enter applies it again (as typing does).
    let entered = response.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    if response.changed() || entered {
        actions.push(UiAction::ShowFields);
    }
    if let Some(error) = &view.show_error {
        let label = ui.label(RichText::new(error).color(error_color(ui)));
        super::testhook::tag(ui, &label, "log.show_fields.error");
    } else if let Some(rows) = &view.show_fields {
        let hidden = rows.hidden();
        let full = if view.show_busy {
            ui.ctx().request_repaint();
            let percent = (rows.progress(&tab.capture.log) * 100.0) as u32;
            tf(S::ShowFieldsBusy, &[&hidden, &percent])
        } else {
            tf(S::ShowFieldsHidden, &[&hidden])
        };
        // Messages the expression cannot be worked out for are hidden, and said so.
        let unreadable = rows
            .unreadable()
            .map(|(count, why)| (count, tf(S::ShowFieldsUnreadable, &[&count, &why])));
        // Narrow: "−33" ("−33⚠" with some unreadable), the sentences on hover (the toolbar
        // stays one line at 1024×640).
        let text = match (narrow && !view.show_busy, &unreadable) {
            (true, None) => format!("−{hidden}"),
            (true, Some(_)) => format!("−{hidden}⚠"),
            (false, _) => full.clone(),
        };
        let color = if unreadable.is_some() && narrow {
            error_color(ui)
        } else {
            ui.visuals().warn_fg_color
        };
        let hover = match &unreadable {
            Some((_, why)) => format!("{full}\n{why}"),
            None => full,
        };
        ui.label(RichText::new(text).color(color))
            .on_hover_text(hover);
        // Wide: "⚠ 3 cannot be compared", why on hover (a long reason would wrap the toolbar).
        if let Some((count, why)) = unreadable.filter(|_| !narrow) {
            let short = tf(S::ShowFieldsUnreadableShort, &[&count]);
            let label = ui
                .label(RichText::new(short).color(error_color(ui)))
                .on_hover_text(why);
            super::testhook::tag(ui, &label, "log.show_fields.why");
        }
        super::testhook::value(ui.ctx(), "log.show_fields.hidden", hidden);
        super::testhook::value(
            ui.ctx(),
            "log.show_fields.unreadable",
            rows.unreadable().map_or(0, |(n, _)| n),
        );
        super::testhook::value(ui.ctx(), "log.show_fields.busy", view.show_busy);
    }
}

/// The toolbar's width after the Show box: the hidden count, Options (or the switches),
/// Find, Export and Record (longer in 中文).
const TOOLBAR_AFTER_SHOW: f32 = 360.0;

/// Show's hint, with an example of the protocol's: a field with named values (`only
/// f.msg_id == …`), else any field.
fn show_hint(protocol: &sockscope_core::protocol::Protocol) -> String {
    let nodes = &protocol.program.nodes;
    // A field of the frame itself (not of one message's body) with named values, as
    // msg_id or function.
    let mut top = nodes
        .iter()
        .filter(|n| !n.name.is_empty() && !n.path.contains('.'));
    let named = top
        .clone()
        .find(|n| n.look.values.is_some())
        .or_else(|| top.next());
    match named {
        Some(node) => tf(S::ShowFieldsHintOf, &[&node.path]),
        None => t(S::ShowFieldsHint).to_owned(),
    }
}

/// Stream, Hide sent, Hide received, Show \r\n: in the toolbar, or in its Options menu.
fn view_switches_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    ui.checkbox(&mut tab.form.stream_view, t(S::Stream))
        .on_hover_text(t(S::TipStream));
    ui.checkbox(&mut tab.view.filter.hide_sent, t(S::HideSent));
    ui.checkbox(&mut tab.view.filter.hide_received, t(S::HideReceived));
    ui.checkbox(&mut tab.form.show_controls, t(S::ShowControls))
        .on_hover_text(t(S::TipShowControls));
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
    } else if let Some(export) = &tab.view.field_export {
        ui.ctx().request_repaint();
        let percent = (export.progress(&tab.capture.log) * 100.0) as u32;
        ui.label(tf(S::ExportingFields, &[&percent]))
            .on_hover_text(export.path.display().to_string());
    } else {
        export_menu_ui(ui, tab, actions);
    }
    record_menu_ui(ui, tab, actions);
}

/// The Export menu: one entry per format, each asking where.
fn export_menu_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
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
        // With a protocol: the selected message's kind, a column per field.
        if super::protocol_pick::chosen(tab.form).is_some() {
            ui.separator();
            let record = tab
                .view
                .selected
                .and_then(|seq| tab.capture.log.get_seq(seq))
                .filter(|r| matches!(r.kind, RecordKind::Rx | RecordKind::Tx));
            let selected = record.is_some();
            // Named after the message's kind: jt808-0x0200.csv.
            let name = record
                .and_then(|r| super::protocol_ui::kind_name(tab.form, &r))
                .unwrap_or_else(|| "fields".into());
            let item = ui
                .add_enabled(selected, egui::Button::new(t(S::ExportFieldsCsv)))
                .on_hover_text(t(S::TipExportFieldsCsv))
                .on_disabled_hover_text(t(S::FieldExportNoFields));
            super::testhook::tag(ui, &item, "export.fields");
            if item.clicked() {
                ui.close();
                actions.push(UiAction::AskFile(FileRequest::ExportFields(format!(
                    "{name}.csv"
                ))));
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
            let stop = ui
                .button(label)
                .on_hover_text(recorder.path.display().to_string());
            super::testhook::tag(ui, &stop, "log.record");
            if stop.clicked() {
                actions.push(UiAction::StopRecording);
            }
        }
        None => {
            let menu = ui.menu_button(t(S::Record), |ui| {
                for (format, label) in [
                    (RecordFormat::Raw, S::RecordRaw),
                    (RecordFormat::TextLog, S::RecordTextLog),
                ] {
                    if ui.button(t(label)).clicked() {
                        ui.close();
                        actions.push(UiAction::AskFile(FileRequest::Record(format)));
                    }
                }
            });
            super::testhook::tag(ui, &menu.response, "log.record");
            menu.response.on_hover_text(t(S::TipRecord));
        }
    }
}

fn search_bar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    // Wrapped: a long error ("no field … (did you mean …?)") goes on under the box rather
    // than past the window's edge.
    ui.horizontal_wrapped(|ui| {
        let view = &mut *tab.view;
        let label = ui.label(t(S::ActionFind));
        let fields = super::protocol_pick::chosen(tab.form).is_some();
        let edit = egui::TextEdit::singleline(&mut view.search_text)
            .hint_text(t(match (view.search_hex, fields) {
                (true, _) => S::SearchHexHint,
                (false, true) => S::SearchFieldHint,
                (false, false) => S::SearchTextHint,
            }))
            .desired_width(if fields { 260.0 } else { 200.0 });
        let mut response = ui.add(edit).labelled_by(label.id);
        if fields {
            response = response.on_hover_text(t(S::TipSearchFields));
        }
        super::testhook::tag(ui, &response, "find.text");
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
                let error = ui.label(RichText::new(error).color(error_color(ui)));
                super::testhook::tag(ui, &error, "find.error");
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

fn detail_ui(ui: &mut egui::Ui, record: Record<'_>, form: &Form, actions: &mut Vec<UiAction>) {
    super::testhook::value(ui.ctx(), "log.detail", record.seq);
    ui.horizontal(|ui| {
        let peer = record
            .peer
            .map(|p| super::shown_addr(p).to_string())
            .unwrap_or_default();
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
    if super::protocol_ui::detail_ui(ui, form, &record, actions) {
        return;
    }
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

/// The continuous-stream view: one row per line of each peer's data. `rows` are the row to
/// scroll to (a Find result) and the row holding the selected record, marked as in the list.
fn stream_list_ui(
    ui: &mut egui::Ui,
    capture: &crate::capture::Capture,
    stream: &StreamIndex,
    form: &Form,
    rows: (Option<usize>, Option<usize>),
) {
    let (scroll_to, selected) = rows;
    let font = FontId::monospace(13.0);
    let row_height = ui.fonts_mut(|f| f.row_height(&font));
    // A row scrolled to is not overridden by sticking to the end in the same frame; after it
    // the view stays there until it is taken back to the end.
    let stick = form.auto_scroll && scroll_to.is_none();
    let mut area = egui::ScrollArea::both()
        .id_salt("stream")
        .auto_shrink([false, false])
        .stick_to_bottom(stick);
    if let Some(row) = scroll_to {
        let unit = row_height + ui.spacing().item_spacing.y;
        area = area.vertical_scroll_offset(row as f32 * unit);
    }
    area.show_rows(ui, row_height, stream.len(), |ui, rows| {
        for (row, (first, text)) in rows.clone().zip(stream.rows(&capture.log, rows)) {
            let job = stream_row_job(ui, &first, &text, form, &font);
            let label = ui.add(egui::Label::new(job).extend());
            if selected == Some(row) {
                let fill = ui.visuals().selection.bg_fill.gamma_multiply(0.35);
                ui.painter().rect_filled(label.rect.expand(1.0), 2.0, fill);
            }
            if scroll_to == Some(row) || selected == Some(row) {
                super::testhook::tag(ui, &label, "log.stream.selected");
            }
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
        (RecordKind::Rx, Some(peer)) => format!("← {} ", super::shown_addr(peer)),
        (RecordKind::Tx, Some(peer)) => format!("→ {} ", super::shown_addr(peer)),
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
    index: Rows<'a>,
    form: &'a Form,
}

/// The rows a list shows: the view's, or those a Show-by-field expression keeps.
#[derive(Clone, Copy)]
enum Rows<'a> {
    All(&'a ViewIndex),
    Fields(&'a super::show_fields::FieldRows),
}

impl<'a> Rows<'a> {
    fn of(fields: Option<&'a super::show_fields::FieldRows>, index: &'a ViewIndex) -> Self {
        match fields {
            Some(rows) => Rows::Fields(rows),
            None => Rows::All(index),
        }
    }

    fn len(&self) -> usize {
        match self {
            Rows::All(index) => index.len(),
            Rows::Fields(rows) => rows.len(),
        }
    }

    fn record<'l>(&self, log: &'l LogStore, row: usize) -> Option<Record<'l>> {
        match self {
            Rows::All(index) => index.record(log, row),
            Rows::Fields(rows) => rows.record(log, row),
        }
    }

    fn row_of(&self, seq: u64) -> Option<usize> {
        match self {
            Rows::All(index) => index.row_of(seq),
            Rows::Fields(rows) => rows.row_of(seq),
        }
    }

    fn paused_at(&self) -> Option<u64> {
        match self {
            Rows::All(index) => index.paused_at,
            Rows::Fields(rows) => rows.paused_at,
        }
    }
}

/// What a list draws besides its rows: the selected record and the search's matches.
#[derive(Clone, Copy)]
struct Marks<'a> {
    selected: Option<u64>,
    matches: &'a [u64],
}

impl Marks<'_> {
    fn fill(&self, ui: &egui::Ui, seq: u64) -> Option<Color32> {
        if self.selected == Some(seq) {
            Some(ui.visuals().selection.bg_fill)
        } else if self.matches.binary_search(&seq).is_ok() {
            Some(ui.visuals().warn_fg_color.gamma_multiply(0.25))
        } else {
            None
        }
    }
}

/// Adds one laid-out row: clickable, highlighted when selected or a match.
fn add_row(
    ui: &mut egui::Ui,
    text: impl Into<egui::WidgetText>,
    seq: u64,
    marks: Marks<'_>,
    rect: Option<egui::Rect>,
    actions: &mut Vec<UiAction>,
) -> egui::Response {
    let label = egui::Label::new(text).sense(egui::Sense::click());
    let response = match rect {
        // A laid-out galley, placed at the top left of its rect (`Ui::put` would centre it).
        Some(rect) => {
            let builder = egui::UiBuilder::new()
                .max_rect(rect)
                .layout(egui::Layout::top_down(egui::Align::Min));
            ui.scope_builder(builder, |ui| ui.add(label)).inner
        }
        None => ui.add(label.extend()),
    };
    // The row is the whole width of the list, not just its text: a click on the empty part
    // to the right of a short row opens it too.
    let right = ui.clip_rect().right().max(response.rect.right());
    let wide = egui::Rect::from_min_max(response.rect.min, egui::pos2(right, response.rect.max.y));
    let row = ui.interact(wide, ui.scope_id().with(("row", seq)), egui::Sense::click());
    if let Some(fill) = marks.fill(ui, seq) {
        ui.painter()
            .rect_filled(wide, 2.0, fill.gamma_multiply(0.5));
    }
    if response.clicked() || row.clicked() {
        actions.push(UiAction::SelectRecord(Some(seq)));
    }
    response
}

impl List<'_> {
    /// Draws the rows on screen. Following the newest rows (auto-scroll, not paused, not
    /// scrolled up by the user) the offset is set from this frame's rows: egui's own
    /// stick-to-bottom used the last frame's size, and while eviction shrinks the log faster
    /// than frames come the view fell past the end and showed nothing.
    ///
    /// Messages (• and ⚠ rows) always wrap — a long failure sentence was cut at the right
    /// edge; data rows wrap with Wrap lines only, and otherwise run on while the list scrolls
    /// sideways. Rows of different heights cannot be placed by arithmetic, so the scroll
    /// offset counts records, not pixels: the list scrolls one record per row height, and
    /// only the rows on screen — and, to know where the end is, the last screenful — are laid
    /// out.
    fn ui(
        self,
        ui: &mut egui::Ui,
        marks: Marks<'_>,
        scroll_to: Option<u64>,
        follow: &mut Follow,
        actions: &mut Vec<UiAction>,
    ) {
        let wrap_data = self.form.wrap_lines;
        self.rows_ui(ui, marks, scroll_to, follow, actions, wrap_data);
    }

    /// Whether this list's rows are tagged for the real-window tests (the frames list only).
    fn tagged(&self) -> bool {
        self.salt == "log" && super::testhook::wanted()
    }

    /// For the real-window tests: where the list shows rows, and its newest record.
    fn tag_list(&self, ui: &egui::Ui, inner: egui::Rect) {
        if !self.tagged() {
            return;
        }
        super::testhook::tag_rect(ui, inner, "log.list");
        let newest = self
            .index
            .len()
            .checked_sub(1)
            .and_then(|row| self.index.record(self.log, row));
        if let Some(newest) = newest {
            super::testhook::value(ui.ctx(), "log.newest", newest.seq);
        }
    }

    /// Whether the list should show its newest rows this frame.
    fn following(&self, follow: Follow) -> bool {
        self.form.auto_scroll
            && self.index.paused_at().is_none()
            && !follow.scrolled_up
            && !follow.held
    }

    /// The offset that brings the row picked (`follow.reveal`) into view, if it is out of
    /// view; forgets it once the user scrolled or the row left the log.
    fn reveal(
        &self,
        ui: &egui::Ui,
        follow: &mut Follow,
        last: f32,
        geometry: (f32, f32, f32, f32),
        top_max: usize,
        wrap_data: bool,
    ) -> Option<f32> {
        let (seq, set) = follow.reveal?;
        let scrolled = set.is_some_and(|set| (set - last).abs() > 0.5);
        let row = self.index.row_of(seq).filter(|_| !scrolled);
        let Some(row) = row else {
            follow.reveal = None;
            return None;
        };
        let font = FontId::monospace(13.0);
        let offset = self.reveal_offset(ui, row, last, geometry, top_max, &font, wrap_data);
        follow.reveal = Some((seq, Some(offset.unwrap_or(last))));
        offset
    }

    /// The offset that brings `row` wholly into view, if it is not: the view starts at the
    /// record `last / unit` (or shows the last screenful from `top_max` when at the end).
    #[expect(
        clippy::too_many_arguments,
        reason = "the list's geometry of this frame"
    )]
    fn reveal_offset(
        &self,
        ui: &egui::Ui,
        row: usize,
        last: f32,
        (unit, spacing, width, height): (f32, f32, f32, f32),
        top_max: usize,
        font: &FontId,
        wrap_data: bool,
    ) -> Option<f32> {
        let bottom = top_max as f32 * unit;
        let top = if last >= bottom - 0.5 {
            top_max
        } else {
            ((last.max(0.0) / unit) as usize).min(top_max)
        };
        if row < top {
            return Some(row as f32 * unit);
        }
        // The height of the rows from the top to `row`, the row included (a row far below
        // is out of view without measuring them all).
        let height_of = |rows: &mut dyn Iterator<Item = usize>, limit: f32| {
            let mut used = 0.0;
            let mut n = 0;
            for r in rows {
                if let Some(record) = self.index.record(self.log, r) {
                    let galley = self.wrapped_galley(ui, &record, font, width, 0.0, wrap_data);
                    used += galley.size().y + spacing;
                }
                n += 1;
                if used > limit {
                    break;
                }
            }
            (used, n)
        };
        let (used, _) = height_of(&mut (top..=row), height);
        if used <= height + 0.5 {
            return None;
        }
        // Below the view: the row becomes the last one wholly shown.
        let (_, n) = height_of(&mut (0..=row).rev(), height);
        let first = (row + 2).saturating_sub(n.max(1));
        Some((first.min(top_max) as f32) * unit)
    }

    /// The rows, as [`ui`](Self::ui) says; with Wrap lines (接收区自动换行) data rows are as tall
    /// as their text needs too.
    fn rows_ui(
        self,
        ui: &mut egui::Ui,
        marks: Marks<'_>,
        scroll_to: Option<u64>,
        follow: &mut Follow,
        actions: &mut Vec<UiAction>,
        wrap_data: bool,
    ) {
        let salt = format!("{}_rows", self.salt);
        let font = FontId::monospace(13.0);
        let row_height = ui.fonts_mut(|f| f.row_height(&font));
        let spacing = ui.spacing().item_spacing.y;
        let unit = row_height + spacing;
        let rows = self.index.len();
        // What the area gets this frame (see `ui`).
        let (width, height) = (ui.available_width(), ui.available_height());
        // How many records at the end fill the view: the first of them is as far as the
        // top of the view can go.
        let mut used = 0.0;
        let mut at_end = 0;
        for row in (0..rows).rev() {
            let Some(record) = self.index.record(self.log, row) else {
                continue;
            };
            let galley = self.wrapped_galley(ui, &record, &font, width, 0.0, wrap_data);
            used += galley.size().y + spacing;
            if used > height && at_end > 0 {
                break;
            }
            at_end += 1;
        }
        let top_max = rows - at_end;
        let bottom = top_max as f32 * unit;
        let mut area = egui::ScrollArea::new([!wrap_data, true])
            .id_salt(&salt)
            .auto_shrink([false, false]);
        let last = last_offset(ui, &salt);
        // A picked row kept in view (see `Follow::hold`), until the user scrolls.
        if scroll_to.is_none()
            && let Some(offset) = self.reveal(
                ui,
                follow,
                last,
                (unit, spacing, width, height),
                top_max,
                wrap_data,
            )
        {
            area = area.vertical_scroll_offset(offset);
        }
        match scroll_to.and_then(|seq| self.index.row_of(seq)) {
            Some(row) => area = area.vertical_scroll_offset(row.min(top_max) as f32 * unit),
            None if (self.following(*follow) && (last - bottom).abs() > 0.5)
                || last > bottom + 0.5 =>
            {
                area = area.vertical_scroll_offset(bottom);
            }
            None => {}
        }
        no_rubber_band(ui);
        let tagged = self.tagged();
        let output = area.show_viewport(ui, |ui, viewport| {
            // Scroll range: one row height per record before the last screenful.
            ui.set_min_height(viewport.height() + bottom);
            let origin = ui.min_rect().min;
            let first = ((viewport.min.y / unit) as usize).min(top_max);
            // At the end the newest row's bottom is the view's bottom: the rows that fit are
            // drawn up from it, with the one before them cut at the top. Drawn down from the
            // top, rows wrapped onto several lines left up to a row's height empty under the
            // newest (4–5 empty lines with Wrap lines on).
            let bottom_up = top_max > 0 && viewport.min.y >= bottom - 0.5;
            let first = if bottom_up { top_max - 1 } else { first };
            let width = ui.available_width();
            let mut y = origin.y + viewport.min.y;
            let end = origin.y + viewport.max.y;
            let mut records = Vec::new();
            for row in first..rows {
                if let Some(record) = self.index.record(self.log, row) {
                    records.push(record);
                }
                if records.len() > 400 {
                    break;
                }
            }
            let column = payload_column(ui, &records, self.form, &font);
            let mut galleys: Vec<_> = Vec::new();
            if bottom_up {
                // Only the rows of the last screenful and one more: all laid out here.
                galleys = records
                    .iter()
                    .map(|r| Some(self.wrapped_galley(ui, r, &font, width, column, wrap_data)))
                    .collect();
                let total: f32 = galleys.iter().flatten().map(|g| g.size().y + spacing).sum();
                y = y.min(end + spacing - total);
            }
            for (n, record) in records.into_iter().enumerate() {
                if y >= end {
                    break;
                }
                let galley = match galleys.get_mut(n).and_then(Option::take) {
                    Some(galley) => galley,
                    None => self.wrapped_galley(ui, &record, &font, width, column, wrap_data),
                };
                // A data row that runs on makes the list as wide as it (to scroll sideways).
                let size = egui::vec2(width.max(galley.size().x), galley.size().y);
                let rect = egui::Rect::from_min_size(egui::pos2(origin.x, y), size);
                let row = add_row(ui, galley, record.seq, marks, Some(rect), actions);
                if tagged {
                    super::testhook::tag(ui, &row, &format!("log.row.{}", record.seq));
                }
                y += size.y + spacing;
            }
        });
        self.tag_list(ui, output.inner_rect);
        follow.scrolled_up = output.state.clamped_offset().y < bottom - row_height;
    }

    fn wrapped_galley(
        &self,
        ui: &egui::Ui,
        record: &Record<'_>,
        font: &FontId,
        width: f32,
        column: f32,
        wrap_data: bool,
    ) -> std::sync::Arc<egui::Galley> {
        let data = matches!(record.kind, RecordKind::Rx | RecordKind::Tx);
        let wrap = wrap_data || !data;
        let mut job = row_job(ui, record, self.form, font, column, wrap.then_some(width));
        if wrap {
            job.wrap.max_width = width;
        }
        ui.fonts_mut(|f| f.layout_job(job))
    }
}

/// A list that follows its newest rows sets its offset for this frame's rows, past the end of
/// last frame's; egui 0.37's rubber band takes that for a user pulling past the edge, springs
/// it back with a velocity, and the view then coasted up and away from the end after a burst.
/// A log scrolls by wheel and scroll bar: no rubber band.
fn no_rubber_band(ui: &mut egui::Ui) {
    ui.spacing_mut().scroll.kinetic.rubber_band = false;
}

/// Where the scroll area `salt` was scrolled to last frame (before clamping).
fn last_offset(ui: &egui::Ui, salt: &str) -> f32 {
    egui::scroll_area::State::load(ui.ctx(), ui.make_persistent_id(salt))
        .map_or(0.0, |s| s.unclamped_offset().y)
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

/// Where the payload starts in rows of `records`: after the widest head among them, so hex
/// bytes and text line up down the list whatever the peer's address or the length.
fn payload_column(ui: &egui::Ui, records: &[Record<'_>], form: &Form, font: &FontId) -> f32 {
    records
        .iter()
        .filter(|r| matches!(r.kind, RecordKind::Rx | RecordKind::Tx))
        .map(|r| head_width(ui, r, form, font))
        .fold(0.0, f32::max)
}

fn head_width(ui: &egui::Ui, record: &Record<'_>, form: &Form, font: &FontId) -> f32 {
    let head = row_head(ui, record, form, font);
    ui.fonts_mut(|f| f.layout_job(head)).size().x
}

/// The bytes a row shows: without the length header unless asked for.
fn shown_bytes<'a>(record: &Record<'a>, form: &Form) -> &'a [u8] {
    if form.show_length_header {
        record.bytes
    } else {
        record.payload()
    }
}

/// A row's head: time, direction, peer, length, checksum mark.
fn row_head(ui: &egui::Ui, record: &Record<'_>, form: &Form, font: &FontId) -> LayoutJob {
    let weak = TextFormat::simple(font.clone(), ui.visuals().weak_text_color());
    let strong = TextFormat::simple(font.clone(), kind_color(ui, record.kind));
    let mut job = LayoutJob::default();
    if form.show_time {
        job.append(&format!("{} ", clock(record.at)), 0.0, weak);
    }
    let arrow = match record.kind {
        // A relay's one log, both ways: from a client (C→U) or from the upstream (U→C), as
        // the record says (the tab may be in another mode by now).
        RecordKind::Rx => match record.relay {
            Some(crate::capture::RelayWay::FromUpstream) => "U→C",
            Some(crate::capture::RelayWay::FromClient) => "C→U",
            None => "←",
        },
        RecordKind::Tx => "→",
        RecordKind::Info => "•",
        RecordKind::Error => "⚠",
    };
    job.append(arrow, 0.0, strong.clone());
    if !matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
        return job;
    }
    let mut head = String::new();
    if let Some(peer) = record.peer {
        let _ = write!(head, " {}", super::shown_addr(peer));
    }
    let _ = write!(head, " [{} B", shown_bytes(record, form).len());
    // A WebSocket message says whether it was text or binary.
    if let Some(ws) = record.ws {
        let _ = write!(head, ", {ws}");
    }
    head.push_str("] ");
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
    job
}

/// One row as a layout job: the head, then the payload from `column` on (0: right after the
/// head). With `wrap` (the list's width), the payload goes on over as many lines as it needs,
/// each starting at the payload column.
fn row_job(
    ui: &egui::Ui,
    record: &Record<'_>,
    form: &Form,
    font: &FontId,
    column: f32,
    wrap: Option<f32>,
) -> LayoutJob {
    let mut job = row_head(ui, record, form, font);
    match record.kind {
        RecordKind::Rx | RecordKind::Tx => {
            let body = TextFormat::simple(font.clone(), ui.visuals().text_color());
            let head = if column > 0.0 || wrap.is_some() {
                ui.fonts_mut(|f| f.layout_job(job.clone())).size().x
            } else {
                0.0
            };
            let start = column.max(head);
            let payload = payload_text(record, form);
            let lines = match wrap {
                Some(width) => split_to_width(ui, &payload, font, (width - start).max(80.0)),
                None => vec![payload.as_str()],
            };
            // With a protocol, the row leads with what the message is (as Wireshark's Info).
            let summary = super::protocol_ui::summary(ui, form, record, font);
            for (n, line) in lines.into_iter().enumerate() {
                if n > 0 {
                    job.append("\n", 0.0, body.clone());
                }
                let before = job.sections.len();
                if n == 0
                    && let Some((text, format)) = &summary
                {
                    append_ltr(&mut job, text, format);
                }
                append_ltr(&mut job, line, &body);
                if let Some(first) = job.sections.get_mut(before) {
                    first.leading_space = if n == 0 { start - head } else { start };
                }
            }
            if let Some(width) = wrap {
                // A line the estimate got wrong still wraps rather than running off.
                job.wrap.max_width = width;
            }
        }
        RecordKind::Info | RecordKind::Error => {
            let strong = TextFormat::simple(font.clone(), kind_color(ui, record.kind));
            append_ltr(&mut job, &format!(" {}", record.text()), &strong);
        }
    }
    job
}

/// Cuts `text` into lines no wider than `width` in `font`, after a space where there is one
/// (hex bytes stay whole), else between characters.
fn split_to_width<'t>(ui: &egui::Ui, text: &'t str, font: &FontId, width: f32) -> Vec<&'t str> {
    ui.fonts_mut(|fonts| {
        // Every ASCII character of a monospace font has the same width.
        let ascii = fonts.glyph_width(font, '0');
        let mut lines = Vec::new();
        let (mut start, mut used, mut last_space) = (0, 0.0, None);
        for (at, c) in text.char_indices() {
            let w = if c.is_ascii() {
                ascii
            } else {
                fonts.glyph_width(font, c)
            };
            if used + w > width && at > start {
                let cut = last_space.filter(|&s| s > start).unwrap_or(at);
                lines.push(text.get(start..cut).unwrap_or_default());
                start = cut;
                used = text
                    .get(cut..at)
                    .map_or(0.0, |s| s.chars().count() as f32 * ascii);
                last_space = None;
            }
            used += w;
            if c == ' ' {
                last_space = Some(at + 1);
            }
        }
        lines.push(text.get(start..).unwrap_or_default());
        lines
    })
}

/// The payload as one line: hex bytes, or text with control characters made visible.
fn payload_text(record: &Record<'_>, form: &Form) -> String {
    let bytes = shown_bytes(record, form);
    if form.rx_hex {
        let shown = bytes.get(..MAX_ROW_BYTES).unwrap_or(bytes);
        let mut out = hex::format(shown);
        if bytes.len() > shown.len() {
            out.push_str(&tf(S::MoreBytes, &[&(bytes.len() - shown.len())]));
        }
        out
    } else {
        // A row shows at most MAX_ROW_BYTES characters: decode no more than they can take.
        let head = if form.show_length_header {
            record.text_head(MAX_ROW_BYTES * 4)
        } else {
            record.payload_text_head(MAX_ROW_BYTES * 4)
        };
        let mut out = if form.show_controls {
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
                row_job(ui, &record, &form, &FontId::monospace(13.0), 0.0, None),
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
    /// Lays out jobs made inside a frame (they need a `Ui`), returning each one's glyphs.
    fn laid_out(
        form: &Form,
        records: &[Record<'_>],
        wrap: Option<f32>,
    ) -> Vec<Vec<(char, f32, f32)>> {
        let ctx = context();
        let font = FontId::monospace(13.0);
        let mut out = Vec::new();
        let mut output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let column = payload_column(ui, records, form, &font);
            for record in records {
                let job = row_job(ui, record, form, &font, column, wrap);
                let galley = ui.ctx().fonts_mut(|f| f.layout_job(job));
                out.push(
                    galley
                        .rows
                        .iter()
                        .flat_map(|row| {
                            row.glyphs
                                .iter()
                                .map(move |g| (g.chr, row.pos.x + g.pos.x, row.pos.y))
                        })
                        .collect(),
                );
            }
        });
        output.textures_delta.clear();
        out
    }

    fn x_of(glyphs: &[(char, f32, f32)], text: &str) -> f32 {
        let chars: Vec<char> = text.chars().collect();
        let at = glyphs
            .windows(chars.len())
            .position(|w| w.iter().map(|g| g.0).eq(chars.iter().copied()))
            .unwrap_or_else(|| panic!("{text:?} is not in the row"));
        glyphs[at].1
    }

    /// The arrow a row is drawn with.
    fn arrow(form: &Form, record: &Record<'_>) -> String {
        let rows = laid_out(form, std::slice::from_ref(record), None);
        rows[0].iter().map(|g| g.0).take(3).collect()
    }

    #[test]
    fn a_rows_arrow_is_what_it_was_when_it_came_whatever_the_tab_is_now() {
        let mut log = LogStore::default();
        let now = SystemTime::now();
        let client = "127.0.0.1:40000".parse().unwrap();
        let upstream: std::net::SocketAddr = "127.0.0.1:502".parse().unwrap();
        let group_sender: std::net::SocketAddr = "10.0.0.7:5000".parse().unwrap();
        // A relay session's rows, then a UDP session's in the same log.
        log.set_relay(true);
        log.relay_upstream(upstream);
        log.push_data(
            now,
            Direction::Rx,
            Some(crate::engine::ConnId(1)),
            client,
            b"up",
        );
        log.push_data(
            now,
            Direction::Rx,
            Some(crate::engine::ConnId(2)),
            upstream,
            b"down",
        );
        log.set_relay(false);
        log.push_data(now, Direction::Rx, None, group_sender, b"multicast");
        let records = [
            log.get(0).unwrap(),
            log.get(1).unwrap(),
            log.get(2).unwrap(),
        ];
        let tab = |mode, remote: std::net::SocketAddr| Form {
            show_time: false,
            mode,
            remote_ip: remote.ip().to_string(),
            remote_port: remote.port().to_string(),
            ..Form::default()
        };
        // The tab switched to TCP client: the relay rows were `←` (issue 21, r09); then to
        // Relay with the group sender as its upstream: the multicast row was `U→C` / `C→U`.
        for form in [
            tab(crate::engine::Mode::TcpClient, upstream),
            tab(crate::engine::Mode::Relay, group_sender),
            tab(crate::engine::Mode::Relay, upstream),
            tab(crate::engine::Mode::Udp, upstream),
        ] {
            let arrows: Vec<String> = records.iter().map(|r| arrow(&form, r)).collect();
            assert_eq!(arrows, ["C→U", "U→C", "← 1"], "{:?}", form.mode);
        }
    }

    #[test]
    fn hex_bytes_line_up_whatever_the_peer_and_the_length() {
        let mut log = LogStore::default();
        let now = SystemTime::now();
        let v4_peer = "1.2.3.4:5".parse().unwrap();
        let v6_peer = "[2001:db8::1]:50000".parse().unwrap();
        log.push_data(now, Direction::Rx, None, v4_peer, &[0xAA; 3]);
        log.push_data(now, Direction::Tx, None, v6_peer, &[0xBB; 1200]);
        let form = Form {
            rx_hex: true,
            ..Form::default()
        };
        let records = [log.get(0).unwrap(), log.get(1).unwrap()];
        let rows = laid_out(&form, &records, None);
        let (a, b) = (x_of(&rows[0], "AA AA"), x_of(&rows[1], "BB BB"));
        assert!((a - b).abs() < 0.5, "payload at {a} and {b}");
    }

    #[test]
    fn a_wrapped_row_goes_on_under_its_payload_column() {
        let mut log = LogStore::default();
        let peer = "127.0.0.1:9000".parse().unwrap();
        log.push_data(SystemTime::now(), Direction::Rx, None, peer, &[0x5A; 200]);
        let form = Form {
            rx_hex: true,
            wrap_lines: true,
            show_time: false,
            ..Form::default()
        };
        let records = [log.get(0).unwrap()];
        let rows = laid_out(&form, &records, Some(500.0));
        let glyphs = &rows[0];
        let column = x_of(glyphs, "5A 5A");
        let mut lines: Vec<f32> = glyphs.iter().map(|g| g.2).collect();
        lines.dedup_by(|a, b| (*a - *b).abs() < 0.5);
        assert!(
            lines.len() >= 4,
            "200 bytes over several lines: {}",
            lines.len()
        );
        for y in &lines[1..] {
            let first = glyphs
                .iter()
                .find(|g| (g.2 - *y).abs() < 0.5 && g.0 != ' ')
                .unwrap();
            assert!(
                (first.1 - column).abs() < 0.5,
                "line at {y} starts at {}",
                first.1
            );
        }
        assert!(glyphs.iter().all(|g| g.1 < 500.0), "nothing past the width");
        let bytes = glyphs.iter().filter(|g| g.0 == '5').count();
        assert_eq!(bytes, 200, "every byte is shown");
    }

    #[test]
    fn an_ipv4_mapped_peer_shows_as_ipv4() {
        let mut log = LogStore::default();
        let peer = "[::ffff:10.0.0.7]:5000".parse().unwrap();
        log.push_data(SystemTime::now(), Direction::Rx, None, peer, b"x");
        let records = [log.get(0).unwrap()];
        let rows = laid_out(&Form::default(), &records, None);
        let text: String = rows[0].iter().map(|g| g.0).collect();
        assert!(text.contains(" 10.0.0.7:5000 "), "{text}");
        assert!(!text.contains("ffff"), "{text}");
    }
}
