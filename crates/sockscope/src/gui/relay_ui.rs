//! The Relay group (转发): TCP or UDP, and the impairments of each direction — latency,
//! jitter, drops, a bandwidth cap, a cut after so many bytes — changed live; Cut all.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::state::{TabUi, UiAction};
use crate::engine::{Impairment, Knob};

/// What a field holds between frames: the text as typed, and the value it was last in step
/// with (a profile loaded or the other field changed: the text follows the value).
#[derive(Clone, Default)]
struct Field {
    text: String,
    shown: String,
    error: Option<String>,
}

/// One knob as a text field read by the core (`64KiB/s`, `1s`, `4KiB`, as the CLI reads
/// them); a text it cannot read marks the field, changes nothing, and its sentence is
/// returned (said under the two columns, where a whole sentence fits).
fn knob_ui(ui: &mut egui::Ui, salt: &str, imp: &mut Impairment, knob: Knob) -> Option<String> {
    let tip = match knob {
        Knob::Latency => S::TipRelayLatency,
        Knob::Jitter => S::TipRelayJitter,
        Knob::Drop => S::TipRelayDrop,
        Knob::Rate => S::TipRelayRate,
        Knob::Cut => S::TipRelayCut,
    };
    let id = ui.scope_id().with((salt, knob));
    let value = imp.text(knob);
    let mut field = ui.data_mut(|d| d.get_temp::<Field>(id)).unwrap_or_default();
    let label = ui.label(t(label_of(knob)));
    let edit = egui::TextEdit::singleline(&mut field.text)
        .desired_width(90.0)
        .hint_text(t(S::ImpNone));
    let response = ui.add(edit).labelled_by(label.id).on_hover_text(t(tip));
    super::testhook::tag(ui, &response, &format!("{salt}.{}", knob.key()));
    if field.shown != value && !response.has_focus() {
        // The value changed elsewhere (a profile, Apply): show it.
        // None shows as an empty field (its hint says so).
        field.text = if value == Impairment::default().text(knob) {
            String::new()
        } else {
            value.clone()
        };
        field.shown = value;
        field.error = None;
    }
    if response.changed() {
        match imp.set_text(knob, &field.text) {
            Ok(()) => {
                field.shown = imp.text(knob);
                field.error = None;
            }
            Err(why) => field.error = Some(why),
        }
    }
    if field.error.is_some() {
        let stroke = egui::Stroke::new(1.5, ui.visuals().error_fg_color);
        ui.painter()
            .rect_stroke(response.rect, 2.0, stroke, egui::StrokeKind::Outside);
    }
    ui.end_row();
    let error = field.error.as_ref().map(|why| {
        tf(
            S::RelayFieldError,
            &[&t(direction(salt)), &t(label_of(knob)), why],
        )
    });
    ui.data_mut(|d| d.insert_temp(id, field));
    error
}

/// The direction a lane's salt names.
fn direction(salt: &str) -> S {
    if salt == UP { S::RelayUp } else { S::RelayDown }
}

/// A knob's label.
fn label_of(knob: Knob) -> S {
    match knob {
        Knob::Latency => S::RelayLatency,
        Knob::Jitter => S::RelayJitter,
        Knob::Drop => S::RelayDrop,
        Knob::Rate => S::RelayRate,
        Knob::Cut => S::RelayCutAfter,
    }
}

const UP: &str = "relay-up";
const DOWN: &str = "relay-down";

/// One direction's impairments, in a grid column.
fn lane_ui(ui: &mut egui::Ui, salt: &str, imp: &mut Impairment, udp: bool) -> Vec<String> {
    let mut errors = Vec::new();
    egui::Grid::new(salt)
        .num_columns(2)
        .spacing([6.0, 2.0])
        .show(ui, |ui| {
            for knob in Knob::ALL {
                // A TCP stream cannot lose bytes: drops are for UDP only.
                if knob != Knob::Drop || udp {
                    errors.extend(knob_ui(ui, salt, imp, knob));
                }
            }
        });
    errors
}

/// The Relay group.
pub fn relay_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    egui::CollapsingHeader::new(RichText::new(t(S::ModeRelay)).strong())
        .id_salt("relay")
        .default_open(true)
        .show(ui, |ui| {
            let open = tab.is_open();
            ui.add_enabled_ui(!open, |ui| {
                ui.horizontal(|ui| {
                    ui.label(t(S::RelayTransport));
                    ui.selectable_value(&mut tab.form.relay_udp, false, "TCP");
                    ui.selectable_value(&mut tab.form.relay_udp, true, "UDP");
                });
            });
            let before = (tab.form.relay_up, tab.form.relay_down);
            let udp = tab.form.relay_udp;
            let mut errors = Vec::new();
            ui.columns(2, |columns| {
                if let [left, right] = columns {
                    left.label(RichText::new(t(S::RelayUp)).strong());
                    errors.extend(lane_ui(left, UP, &mut tab.form.relay_up, udp));
                    right.label(RichText::new(t(S::RelayDown)).strong());
                    errors.extend(lane_ui(right, DOWN, &mut tab.form.relay_down, udp));
                }
            });
            // What a field could not read, under both columns: the field keeps its last value.
            for (n, error) in errors.iter().enumerate() {
                let said = ui.add(
                    egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                        .wrap(),
                );
                super::testhook::tag(ui, &said, &format!("relay.error.{n}"));
            }
            if udp {
                // Datagrams the simulator threw away, each also a red row in the log.
                let [up, down] = tab.capture.counters.relay_dropped;
                let said = ui.label(tf(S::RelayDropCounts, &[&up, &down]));
                super::testhook::tag(ui, &said, "relay.drops");
            }
            if open && (tab.form.relay_up, tab.form.relay_down) != before {
                actions.push(UiAction::SetImpairments);
            }
            if open
                && ui
                    .add_enabled(
                        !tab.capture.relay_upstreams.is_empty(),
                        egui::Button::new(t(S::CutAll)),
                    )
                    .on_hover_text(t(S::TipCutAll))
                    .clicked()
            {
                actions.push(UiAction::CutRelay);
            }
        });
}
