//! The Relay group (转发): TCP or UDP, and the impairments of each direction — latency,
//! jitter, drops, a bandwidth cap, a cut after so many bytes — changed live; Cut all.

use eframe::egui::{self, RichText};

use super::i18n::{S, t};
use super::state::{TabUi, UiAction};
use crate::engine::Impairment;

/// One direction's impairments, in a grid column.
fn lane_ui(ui: &mut egui::Ui, salt: &str, imp: &mut Impairment, udp: bool) {
    egui::Grid::new(salt)
        .num_columns(2)
        .spacing([6.0, 2.0])
        .show(ui, |ui| {
            let row = |ui: &mut egui::Ui, label: S, tip: S, drag: egui::DragValue<'_>| {
                let text = ui.label(t(label));
                ui.add(drag).labelled_by(text.id).on_hover_text(t(tip));
                ui.end_row();
            };
            row(
                ui,
                S::RelayLatency,
                S::TipRelayLatency,
                egui::DragValue::new(&mut imp.latency_ms)
                    .range(0..=60_000)
                    .suffix(" ms"),
            );
            row(
                ui,
                S::RelayJitter,
                S::TipRelayJitter,
                egui::DragValue::new(&mut imp.jitter_ms)
                    .range(0..=10_000)
                    .suffix(" ms"),
            );
            if udp {
                row(
                    ui,
                    S::RelayDrop,
                    S::TipRelayDrop,
                    egui::DragValue::new(&mut imp.drop_percent)
                        .range(0.0..=100.0)
                        .speed(0.5)
                        .suffix(" %"),
                );
            }
            let mut kib = imp.rate_bytes / 1024;
            row(
                ui,
                S::RelayRate,
                S::TipRelayRate,
                egui::DragValue::new(&mut kib)
                    .range(0..=10_000_000)
                    .suffix(" KiB/s"),
            );
            imp.rate_bytes = kib * 1024;
            row(
                ui,
                S::RelayCutAfter,
                S::TipRelayCut,
                egui::DragValue::new(&mut imp.cut_after)
                    .range(0..=u64::MAX)
                    .suffix(" B"),
            );
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
