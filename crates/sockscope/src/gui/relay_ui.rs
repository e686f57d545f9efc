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
/// them); a text it cannot read is said under the field and changes nothing.
fn knob_ui(ui: &mut egui::Ui, salt: &str, imp: &mut Impairment, knob: Knob) {
    let (label, tip) = match knob {
        Knob::Latency => (S::RelayLatency, S::TipRelayLatency),
        Knob::Jitter => (S::RelayJitter, S::TipRelayJitter),
        Knob::Drop => (S::RelayDrop, S::TipRelayDrop),
        Knob::Rate => (S::RelayRate, S::TipRelayRate),
        Knob::Cut => (S::RelayCutAfter, S::TipRelayCut),
    };
    let id = ui.scope_id().with((salt, knob));
    let value = imp.text(knob);
    let mut field = ui.data_mut(|d| d.get_temp::<Field>(id)).unwrap_or_default();
    let label = ui.label(t(label));
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
    ui.end_row();
    if let Some(error) = &field.error {
        ui.label("");
        let said = ui.add(
            egui::Label::new(
                RichText::new(error)
                    .color(ui.visuals().error_fg_color)
                    .small(),
            )
            .wrap(),
        );
        super::testhook::tag(ui, &said, &format!("{salt}.{}.error", knob.key()));
        ui.end_row();
    }
    ui.data_mut(|d| d.insert_temp(id, field));
}

/// One direction's impairments, in a grid column.
fn lane_ui(ui: &mut egui::Ui, salt: &str, imp: &mut Impairment, udp: bool) {
    egui::Grid::new(salt)
        .num_columns(2)
        .spacing([6.0, 2.0])
        .show(ui, |ui| {
            for knob in Knob::ALL {
                // A TCP stream cannot lose bytes: drops are for UDP only.
                if knob != Knob::Drop || udp {
                    knob_ui(ui, salt, imp, knob);
                }
            }
        });
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
            ui.columns(2, |columns| {
                if let [left, right] = columns {
                    left.label(RichText::new(t(S::RelayUp)).strong());
                    lane_ui(left, "relay-up", &mut tab.form.relay_up, udp);
                    right.label(RichText::new(t(S::RelayDown)).strong());
                    lane_ui(right, "relay-down", &mut tab.form.relay_down, udp);
                }
            });
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
