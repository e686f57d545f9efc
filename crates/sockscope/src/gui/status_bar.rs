//! The status bar: state, RX/TX counters with a reset, eviction and drop notices.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::settings::error_color;
use super::state::{TabUi, UiAction};
use crate::capture::{Capture, LinkState};
use crate::engine::Mode;

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
pub fn status_bar_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    ui.horizontal(|ui| {
        let state = status_line(&tab.capture);
        let dot = if tab.is_open() { "●" } else { "○" };
        ui.label(format!("{dot} {state}"));
        ui.separator();
        let c = &tab.capture.counters;
        let now = std::time::SystemTime::now();
        let (rx_rate, tx_rate) = (c.rx_rate.per_second(now), c.tx_rate.per_second(now));
        let rx = (human_bytes(c.rx_bytes), rate_text(rx_rate));
        ui.label(tf(S::RxCounter, &[&rx.0, &c.rx_messages, &rx.1]))
            .on_hover_text(t(S::TipRx));
        let tx = (human_bytes(c.tx_bytes), rate_text(tx_rate));
        ui.label(tf(S::TxCounter, &[&tx.0, &c.tx_messages, &tx.1]))
            .on_hover_text(t(S::TipTx));
        if rx_rate > 0 || tx_rate > 0 {
            // The rate falls to zero a second after traffic stops: look again then.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_secs(1));
        }
        if ui
            .small_button(t(S::Reset))
            .on_hover_text(t(S::TipReset))
            .clicked()
        {
            actions.push(UiAction::ResetCounters);
        }
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
    });
}

/// What the session is doing, in a few words.
pub fn status_line(capture: &Capture) -> String {
    match &capture.link {
        LinkState::Idle if capture.last_error.is_some() => t(match capture.mode {
            Mode::TcpClient => S::StateFailed,
            Mode::TcpServer => S::StateFailedServer,
            Mode::Udp => S::StateFailedUdp,
        })
        .into(),
        LinkState::Idle => t(S::StateIdle).into(),
        LinkState::Connecting(remote) => tf(S::StateConnecting, &[remote]),
        LinkState::Connected { peer, local } => tf(S::StateConnected, &[peer, local]),
        LinkState::Listening(local) if capture.mode == Mode::Udp => {
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
    fn byte_counts_read_like_people_write_them() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
