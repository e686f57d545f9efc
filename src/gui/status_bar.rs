//! The status bar: state, RX/TX counters with a reset, eviction and drop notices, theme.

use eframe::egui::{self, RichText, ThemePreference};

use super::settings::error_color;
use super::state::{Tab, UiAction};

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

/// Draws the status bar.
pub fn status_bar_ui(ui: &mut egui::Ui, tab: &Tab, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        let state = tab.capture.status_line();
        let dot = if tab.is_open() { "●" } else { "○" };
        ui.label(format!("{dot} {state}"));
        ui.separator();
        let c = &tab.capture.counters;
        let now = std::time::SystemTime::now();
        let (rx_rate, tx_rate) = (c.rx_rate.per_second(now), c.tx_rate.per_second(now));
        ui.label(format!(
            "RX {} ({}){}",
            human_bytes(c.rx_bytes),
            c.rx_messages,
            rate_text(rx_rate)
        ))
        .on_hover_text("Bytes received (messages received), and the rate over the last second");
        ui.label(format!(
            "TX {} ({}){}",
            human_bytes(c.tx_bytes),
            c.tx_messages,
            rate_text(tx_rate)
        ))
        .on_hover_text("Bytes sent (sends), and the rate over the last second");
        if rx_rate > 0 || tx_rate > 0 {
            // The rate falls to zero a second after traffic stops: look again then.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs(1));
        }
        if ui
            .small_button("Reset")
            .on_hover_text("Zero the RX/TX counters")
            .clicked()
        {
            actions.push(UiAction::ResetCounters);
        }
        let (evicted_records, evicted_bytes) = tab.capture.log.evicted();
        if evicted_records > 0 {
            ui.separator();
            let text = format!(
                "{evicted_records} old rows ({}) dropped from the log",
                human_bytes(evicted_bytes)
            );
            ui.label(RichText::new(text).color(error_color(ui)))
                .on_hover_text(format!(
                    "The log keeps at most {}; the oldest rows go first",
                    human_bytes(tab.capture.log.cap() as u64)
                ));
        }
        if c.dropped_datagrams > 0 {
            ui.separator();
            let text = format!("{} UDP datagrams dropped", c.dropped_datagrams);
            ui.label(RichText::new(text).color(error_color(ui)));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            theme_ui(ui);
        });
    });
}

/// Dark / Light / System, in words: egui's own theme buttons are emoji that only some
/// systems have a font for.
fn theme_ui(ui: &mut egui::Ui) {
    let mut preference = ui.options(|o| o.theme_preference);
    let before = preference;
    // Right-to-left layout: added in reverse.
    ui.selectable_value(&mut preference, ThemePreference::Dark, "Dark");
    ui.selectable_value(&mut preference, ThemePreference::Light, "Light");
    ui.selectable_value(&mut preference, ThemePreference::System, "System")
        .on_hover_text("Follow the system's light or dark setting");
    if preference != before {
        ui.ctx().set_theme(preference);
    }
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
