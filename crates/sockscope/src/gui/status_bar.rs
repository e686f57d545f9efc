//! The status bar: state, RX/TX counters with a reset, eviction and drop notices.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::state::{TabUi, UiAction};
use super::widgets::error_color;
use super::widgets::{human_bytes, rate_text};
use crate::capture::{Capture, LinkState};
use crate::engine::ConnId;

/// The last minute's bytes per second (received and sent together) as a small line; a click
/// opens the rate chart.
fn sparkline_ui(
    ui: &mut egui::Ui,
    history: &sockscope_core::capture::RateHistory,
    now: std::time::SystemTime,
) -> egui::Response {
    let series = history.series(now, 60);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(64.0, 14.0), egui::Sense::click());
    let response = response.on_hover_text(t(S::TipSparkline));
    response.widget_info(|| {
        egui::WidgetInfo::labeled(egui::accesskit::Role::Button, true, t(S::RateChart))
    });
    let peak = series
        .iter()
        .map(|(_, rx, tx)| rx + tx)
        .max()
        .unwrap_or(0)
        .max(1) as f32;
    let color = ui.visuals().widgets.inactive.fg_stroke.color;
    let points: Vec<egui::Pos2> = series
        .iter()
        .enumerate()
        .map(|(i, (_, rx, tx))| {
            let x = rect.left() + rect.width() * i as f32 / (series.len().max(2) - 1) as f32;
            let y = rect.bottom() - rect.height() * (rx + tx) as f32 / peak;
            egui::pos2(x, y)
        })
        .collect();
    ui.painter().rect_stroke(
        rect,
        2.0,
        egui::Stroke::new(0.5, ui.visuals().weak_text_color()),
        egui::StrokeKind::Inside,
    );
    ui.painter()
        .add(egui::Shape::line(points, egui::Stroke::new(1.0, color)));
    response
}

/// The session's (or one client's, connected or gone) bytes per second in and out, back to
/// its first traffic (ten minutes at most), in the status bar's units.
pub fn rate_chart_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let now = std::time::SystemTime::now();
    let capture = &tab.capture;
    // Whose: the session, or one TCP client (also one that left).
    if !capture.clients.is_empty() || !capture.departed.is_empty() {
        let name = |id: ConnId| -> Option<String> {
            if let Some(c) = capture.clients.get(&id) {
                return Some(super::shown_addr(c.peer).to_string());
            }
            capture
                .departed
                .iter()
                .find(|(d, _)| *d == id)
                .map(|(_, c)| tf(S::ChartDeparted, &[&super::shown_addr(c.peer)]))
        };
        let of = tab.view.chart_of;
        let shown = of
            .and_then(name)
            .unwrap_or_else(|| t(S::ChartSession).to_owned());
        ui.horizontal(|ui| {
            let label = ui.label(t(S::ChartOf)).id;
            egui::ComboBox::from_id_salt("chart_of")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut tab.view.chart_of, None, t(S::ChartSession));
                    let ids = capture
                        .clients
                        .keys()
                        .chain(capture.departed.iter().rev().map(|(id, _)| id));
                    for id in ids {
                        if let Some(text) = name(*id) {
                            ui.selectable_value(&mut tab.view.chart_of, Some(*id), text);
                        }
                    }
                })
                .response
                .labelled_by(label);
        });
    }
    let history = tab
        .view
        .chart_of
        .and_then(|id| {
            capture.clients.get(&id).or_else(|| {
                capture
                    .departed
                    .iter()
                    .find(|(d, _)| *d == id)
                    .map(|(_, c)| c)
            })
        })
        .map_or(&capture.counters.history, |c| &c.history);
    let series = history.series(now, history.span(now));
    let rx: Vec<[f64; 2]> = series
        .iter()
        .map(|(s, rx, _)| [*s as f64, *rx as f64])
        .collect();
    let tx: Vec<[f64; 2]> = series
        .iter()
        .map(|(s, _, tx)| [*s as f64, *tx as f64])
        .collect();
    let per_second = |value: f64| format!("{}/s", human_bytes(value.max(0.0).round() as u64));
    egui_plot::Plot::new(("rate_chart", tab.form.mode as u8))
        .height(140.0)
        // The newest seconds are on the right: the legend sits on the left.
        .legend(egui_plot::Legend::default().position(egui_plot::Corner::LeftTop))
        .x_axis_label(t(S::ChartSecondsAgo))
        // Ticks at round values of the unit shown (100, 200 KiB/s), not of bytes (97.7,
        // 195.3 KiB/s).
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|input| {
            rate_steps(input.bounds, input.base_step_size)
        }))
        .y_axis_formatter(move |mark, range| {
            if mark.value < 0.0 {
                String::new()
            } else {
                rate_label(mark.value, *range.end())
            }
        })
        .label_formatter(move |hover| match hover {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } => Some(format!(
                "{plot_name}\n{:.0} s: {}",
                position.x,
                per_second(position.y)
            )),
            egui_plot::HoverPosition::Elsewhere { .. } => None,
        })
        .include_y(0.0)
        .allow_scroll(false)
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new(
                t(S::ChartRx),
                egui_plot::PlotPoints::from(rx),
            ));
            plot.line(egui_plot::Line::new(
                t(S::ChartTx),
                egui_plot::PlotPoints::from(tx),
            ));
        });
    // A new second is a new point.
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_secs(1));
}

/// The byte unit (1, 1024, 1024², 1024³) and its name for rates up to `max` per second.
fn rate_unit(max: f64) -> (f64, &'static str) {
    let mut unit = (1.0, "B");
    for next in [
        (1024.0, "KiB"),
        (1_048_576.0, "MiB"),
        (1_073_741_824.0, "GiB"),
    ] {
        if max.abs() >= next.0 {
            unit = next;
        }
    }
    unit
}

/// The smallest of 1, 2 or 5 times a power of ten that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|step| *step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * power)
}

/// The rate chart's three grid steps in bytes per second: round numbers of the unit the
/// axis shows (for `bounds`), the finest at least `base` apart.
fn rate_steps(bounds: (f64, f64), base: f64) -> [f64; 3] {
    let (unit, _) = rate_unit(bounds.0.abs().max(bounds.1.abs()));
    let step = nice_step(base / unit) * unit;
    [step, step * 10.0, step * 100.0]
}

/// A tick's label in the unit of an axis that goes up to `max`: "100 KiB/s", "2.5 MiB/s".
fn rate_label(value: f64, max: f64) -> String {
    let (unit, name) = rate_unit(max);
    let n = value / unit;
    if (n - n.round()).abs() < 1e-6 {
        format!("{n:.0} {name}/s")
    } else {
        format!("{n:.1} {name}/s")
    }
}

/// Draws the status bar. The counters, the sparkline and Reset sit at the right edge, laid
/// out from it: text that comes and goes (the rates, the state) never moves the sparkline or
/// Reset under the pointer (a click meant for the chart zeroed every counter).
pub fn status_bar_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    notice: &mut Option<super::model::Notice>,
    actions: &mut Vec<UiAction>,
) {
    egui::containers::Sides::new().shrink_left().show(
        ui,
        |ui| {
            let state = status_line(&tab.capture);
            if matches!(tab.capture.link, LinkState::Reconnecting { .. }) {
                // The countdown moves in tenths of a second.
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(100));
            }
            let dot = if tab.is_open() { "●" } else { "○" };
            super::testhook::value(ui.ctx(), "status.state", &state);
            ui.label(format!("{dot} {state}"));
            let c = &tab.capture.counters;
            let (evicted_records, evicted_bytes) = tab.capture.log.evicted();
            if evicted_records > 0 {
                ui.separator();
                let text = tf(S::Evicted, &[&evicted_records, &human_bytes(evicted_bytes)]);
                let cap = human_bytes(tab.capture.log.cap() as u64);
                ui.label(RichText::new(text).color(error_color(ui)))
                    .on_hover_text(tf(S::TipEvicted, &[&cap]));
            }
            if c.dropped_datagrams > 0 {
                ui.separator();
                let text = tf(S::UdpDropped, &[&c.dropped_datagrams]);
                ui.label(RichText::new(text).color(error_color(ui)));
            }
            if c.refused_sends > 0 {
                // A peer that does not read: what its full queue refused, counted here as the
                // log says it (once, then a running count).
                ui.separator();
                let text = tf(
                    S::SendsRefusedShort,
                    &[&c.refused_sends, &human_bytes(c.refused_bytes)],
                );
                let label = ui
                    .label(RichText::new(text).color(error_color(ui)))
                    .on_hover_text(t(S::TipSendsRefused));
                super::testhook::tag(ui, &label, "status.refused");
            }
            super::widgets::notice_ui(ui, notice);
        },
        |ui| counters_ui(ui, tab, actions),
    );
}

/// RX, TX, the sparkline and Reset (or Undo), right to left from the bar's right edge.
fn counters_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    reset_ui(ui, tab, actions);
    let c = &tab.capture.counters;
    let now = std::time::SystemTime::now();
    let spark = sparkline_ui(ui, &c.history, now);
    super::testhook::tag(ui, &spark, "status.sparkline");
    if spark.clicked() {
        actions.push(UiAction::ToggleChart);
    }
    let (rx_rate, tx_rate) = (c.rx_rate.per_second(now), c.tx_rate.per_second(now));
    super::testhook::value(ui.ctx(), "status.rate", rx_rate + tx_rate);
    if rx_rate > 0 || tx_rate > 0 {
        // The rate falls to zero a second after traffic stops: look again then.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs(1));
    }
    let tx = (human_bytes(c.tx_bytes), rate_text(tx_rate));
    ui.label(tf(S::TxCounter, &[&tx.0, &c.tx_messages, &tx.1]))
        .on_hover_text(t(S::TipTx));
    let rx = (human_bytes(c.rx_bytes), rate_text(rx_rate));
    let rx = ui
        .label(tf(S::RxCounter, &[&rx.0, &c.rx_messages, &rx.1]))
        .on_hover_text(t(S::TipRx));
    super::testhook::tag(ui, &rx, "status.rx");
    ui.separator();
}

/// Reset, or for a few seconds after it Undo, in one slot as wide as the wider of the two.
fn reset_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let font = egui::TextStyle::Button.resolve(ui.style());
    let color = ui.visuals().text_color();
    let wide = [t(S::Reset), t(S::UndoReset)]
        .into_iter()
        .map(|text| {
            ui.fonts_mut(|f| f.layout_no_wrap(text.to_owned(), font.clone(), color))
                .size()
                .x
        })
        .fold(0.0, f32::max);
    let width = wide + 2.0 * ui.spacing().button_padding.x;
    let (text, tip, action) = match tab.undo_reset_left {
        Some(left) => {
            ui.ctx().request_repaint_after(left);
            let seconds = left.as_secs_f32().ceil();
            (
                t(S::UndoReset),
                tf(S::TipUndoReset, &[&seconds]),
                UiAction::UndoReset,
            )
        }
        None => (
            t(S::Reset),
            t(S::TipReset).to_owned(),
            UiAction::ResetCounters,
        ),
    };
    let button = ui
        .add(
            egui::Button::new(text)
                .small()
                .min_size(egui::vec2(width, 0.0)),
        )
        .on_hover_text(tip);
    super::testhook::tag(ui, &button, "status.reset");
    if button.clicked() {
        actions.push(action);
    }
}

/// What the session is doing, in a few words.
pub fn status_line(capture: &Capture) -> String {
    match &capture.link {
        LinkState::Idle if capture.last_error.is_some() => t(capture.mode.caps().failed).into(),
        LinkState::Idle => t(S::StateIdle).into(),
        LinkState::Connecting(remote) => tf(S::StateConnecting, &[remote]),
        LinkState::Reconnecting {
            remote,
            at,
            attempt,
            max,
        } => {
            let left = at
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default();
            let seconds = format!("{:.1}", left.as_secs_f64());
            let which = sockscope_core::capture::try_text(*attempt, *max);
            tf(S::StateReconnecting, &[remote, &seconds, &which])
        }
        LinkState::Connected { peer, local } => tf(S::StateConnected, &[peer, local]),
        LinkState::Listening(local) if capture.mode.caps().datagrams => {
            tf(S::StateBound, &[local, &capture.peers.len()])
        }
        LinkState::Listening(local) => tf(S::StateListening, &[local, &capture.clients.len()]),
        LinkState::NotListening => tf(S::StateNotListening, &[&capture.clients.len()]),
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn rate_chart_ticks_are_round_in_the_unit_shown() {
        use super::{rate_label, rate_steps};
        // The walk's chart: up to about 200 KiB/s, ticks were 97.7 and 195.3 KiB/s.
        let steps = rate_steps((0.0, 210_000.0), 40_000.0);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(close(steps[0], 50.0 * 1024.0), "{steps:?}");
        let labels: Vec<String> = (1..=4)
            .map(|n| rate_label(f64::from(n) * steps[0], 210_000.0))
            .collect();
        assert_eq!(labels, ["50 KiB/s", "100 KiB/s", "150 KiB/s", "200 KiB/s"]);
        assert!(close(rate_steps((0.0, 900.0), 150.0)[0], 200.0));
        assert_eq!(rate_label(200.0, 900.0), "200 B/s");
        let mib = 1_048_576.0;
        assert!(close(rate_steps((0.0, 3.0 * mib), 0.4 * mib)[0], 0.5 * mib));
        assert_eq!(rate_label(2.5 * mib, 3.0 * mib), "2.5 MiB/s");
    }

    #[test]
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
