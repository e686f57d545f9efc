//! The settings column: Network, Receive and Send groups, and the client/peer list.

use std::net::{IpAddr, SocketAddr};

use eframe::egui::{self, Color32, RichText};

use super::i18n::{S, t, tf};
use super::send_options;
use super::send_options::encoding_row_ui;
use super::state::{FieldErrors, Selection, TabUi, UiAction};
use super::widgets::{age_text, error_color, fixed_label_ui, mark_bad_field};
use super::widgets::{human_bytes, rate_text};
use crate::engine::{ConnId, Mode};

/// The name of a mode in the current language.
pub fn mode_label(mode: Mode) -> &'static str {
    t(mode.caps().label)
}

/// One form row: a label in the label column, a text field, and the field's error under it.
struct Field<'a> {
    label: &'a str,
    hint: &'a str,
    tooltip: &'a str,
    error: Option<&'a String>,
}

impl Field<'_> {
    fn ui(self, ui: &mut egui::Ui, value: &mut String) {
        ui.horizontal(|ui| {
            let label = fixed_label_ui(ui, self.label);
            let edit = egui::TextEdit::singleline(value)
                .hint_text(self.hint)
                .desired_width(ui.available_width());
            let field = ui
                .add(edit)
                .labelled_by(label.id)
                .on_hover_text(self.tooltip);
            mark_bad_field(ui, &field, self.error.is_some());
        });
    }
}

/// The address fields' messages, in one slot of one line under the last of them: a message
/// that comes or goes or grows as the user types moves nothing (a click meant for the port
/// used to land on the IP's message; a three-line message pushed Connect down and back with
/// each keystroke). The first message shows, cut with … where it is long; all of them in
/// full on hover. Each message names its field.
fn address_errors_ui(ui: &mut egui::Ui, errors: &FieldErrors, mode: Mode) {
    let named = address_errors(errors, mode);
    let height = ui.text_style_height(&egui::TextStyle::Body);
    let Some(first) = named.first() else {
        ui.allocate_space(egui::vec2(ui.available_width(), height));
        return;
    };
    let shown = if named.len() > 1 {
        tf(S::FirstOfErrors, &[first, &(named.len() - 1)])
    } else {
        first.clone()
    };
    let label = ui
        .add(egui::Label::new(RichText::new(shown).color(error_color(ui))).truncate())
        .on_hover_text(named.join("\n"));
    super::testhook::tag(ui, &label, "settings.address_error");
}

/// "Remote IP: not an IP address …", one per bad address field.
fn address_errors(errors: &FieldErrors, mode: Mode) -> Vec<String> {
    let relay = mode.caps().relays;
    [
        (S::LocalIp, &errors.local_ip),
        (S::LocalPort, &errors.local_port),
        (
            if relay { S::UpstreamIp } else { S::RemoteIp },
            &errors.remote_ip,
        ),
        (
            if relay {
                S::UpstreamPort
            } else {
                S::RemotePort
            },
            &errors.remote_port,
        ),
    ]
    .into_iter()
    .filter_map(|(field, error)| error.as_ref().map(|e| tf(S::FieldError, &[&t(field), e])))
    .collect()
}

/// Draws the whole settings column.
pub fn settings_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[(String, IpAddr)],
    nics: &[crate::engine::Interface],
    actions: &mut Vec<UiAction>,
) {
    ui.add_space(4.0);
    network_ui(ui, tab, interfaces, nics, actions);
    ui.add_space(6.0);
    let caps = tab.form.mode.caps();
    if caps.relays {
        super::relay_ui::relay_ui(ui, tab, actions);
    }
    if caps.has_clients {
        clients_ui(ui, tab, actions);
    }
    // A UDP relay's peers are listed as a UDP tab's are.
    if caps.datagrams || (caps.relays && tab.form.relay_udp) {
        peers_ui(ui, tab, actions);
    }
    if caps.datagrams {
        super::multicast_ui::multicast_ui(ui, tab, nics, actions);
    }
    receive_ui(ui, tab, actions);
    ui.add_space(6.0);
    send_options::send_options_ui(ui, tab, actions);
    ui.add_space(6.0);
    super::rules_ui::automation_ui(ui, tab, actions);
}

fn network_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[(String, IpAddr)],
    nics: &[crate::engine::Interface],
    actions: &mut Vec<UiAction>,
) {
    let (mode_locked, local_locked, remote_locked) =
        (tab.mode_locked(), tab.local_locked(), tab.remote_locked());
    egui::CollapsingHeader::new(RichText::new(t(S::Network)).strong())
        .id_salt("network")
        .default_open(true)
        .show(ui, |ui| {
            ui.add_enabled_ui(!mode_locked, |ui| {
                ui.horizontal(|ui| {
                    for mode in Mode::ALL {
                        ui.selectable_value(&mut tab.form.mode, mode, mode_label(mode))
                            .on_hover_text(t(mode.caps().tip));
                    }
                });
            });
            ui.add_space(4.0);
            ui.add_enabled_ui(!local_locked, |ui| {
                local_ip_ui(ui, tab, interfaces);
                let port_tip = t(tab.form.mode.caps().port_tip);
                let hint = t(if tab.form.mode.caps().any_local_port {
                    S::HintAnyPort
                } else {
                    S::HintPortExample
                });
                let error = tab.errors.local_port.as_ref();
                Field {
                    label: t(S::LocalPort),
                    hint,
                    tooltip: port_tip,
                    error,
                }
                .ui(ui, tab.form.local_port_mut());
            });
            if tab.form.mode.caps().needs_remote || tab.form.mode.caps().datagrams {
                ui.add_enabled_ui(!remote_locked, |ui| remote_ui(ui, tab, nics, actions));
            }
            address_errors_ui(ui, &tab.errors, tab.form.mode);
            if tab.form.mode.caps().connects {
                ui.add_enabled_ui(!mode_locked, |ui| {
                    ui.horizontal(|ui| {
                        let label = fixed_label_ui(ui, t(S::Timeout));
                        let drag = egui::DragValue::new(&mut tab.form.connect_timeout_s)
                            .range(0.1..=600.0)
                            .speed(0.1)
                            .suffix(" s");
                        ui.add(drag)
                            .labelled_by(label.id)
                            .on_hover_text(t(S::TipTimeout));
                    });
                });
                ui.add_enabled_ui(!mode_locked, |ui| reconnect_ui(ui, tab));
            }
            if tab.form.mode.caps().tls.is_some() {
                super::tls_ui::tls_ui(ui, tab, actions);
                super::tls_ui::ws_ui(ui, tab, actions);
            }
            ui.add_space(4.0);
            open_button_ui(ui, tab, actions);
            if tab.form.mode.caps().connects
                && let Some(info) = tab.capture.clients.values().find_map(|c| c.tls.clone())
            {
                super::tls_ui::negotiated_ui(ui, &info);
            }
            if !tab.form.mode.caps().datagrams {
                ui.add_enabled_ui(!mode_locked, |ui| {
                    ui.checkbox(&mut tab.form.keep_half_closed, t(S::KeepHalfClosed))
                        .on_hover_text(t(S::TipKeepHalfClosed));
                });
            }
            if tab.form.mode.caps().listens_again {
                ui.checkbox(&mut tab.form.close_clients_on_stop, t(S::StopClosesClients))
                    .on_hover_text(t(S::TipStopClosesClients));
            }
        });
}

/// Reconnect (自动重连) for a TCP client: on/off, the first wait, backoff, longest wait, tries.
fn reconnect_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let policy = &mut tab.form.reconnect;
    ui.horizontal_wrapped(|ui| {
        ui.checkbox(&mut tab.form.reconnect_on, t(S::Reconnect))
            .on_hover_text(t(S::TipReconnect));
        if !tab.form.reconnect_on {
            return;
        }
        // A label is never broken across lines (at 1024×640 最长 was split in two): it goes
        // to the next line whole.
        let pair = |ui: &mut egui::Ui, label: S, value: egui::DragValue<'_>| {
            let text = ui.add(egui::Label::new(t(label)).extend());
            super::testhook::tag(ui, &text, &format!("reconnect.{label:?}"));
            ui.add(value)
                .labelled_by(text.id)
                .on_hover_text(t(S::TipReconnect));
        };
        let seconds = |ui: &mut egui::Ui, label: S, ms: &mut u64| {
            let mut value = *ms as f64 / 1000.0;
            let drag = egui::DragValue::new(&mut value)
                .range(0.1..=3600.0)
                .speed(0.1)
                .max_decimals(1)
                .suffix(" s");
            pair(ui, label, drag);
            *ms = (value * 1000.0).round() as u64;
        };
        seconds(ui, S::ReconnectEvery, &mut policy.interval_ms);
        let backoff = egui::DragValue::new(&mut policy.backoff)
            .range(1.0..=10.0)
            .speed(0.1)
            .max_decimals(1);
        pair(ui, S::ReconnectBackoff, backoff);
        seconds(ui, S::ReconnectMax, &mut policy.max_interval_ms);
        let tries = egui::DragValue::new(&mut policy.max_tries).range(0..=100_000);
        pair(ui, S::ReconnectTries, tries);
    });
}

/// Remote IP and port (a TCP client's server; a UDP socket's default target, editable while
/// the socket is open).
fn remote_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    nics: &[crate::engine::Interface],
    actions: &mut Vec<UiAction>,
) {
    let remote_tip = t(if tab.form.mode.caps().datagrams {
        S::TipRemoteUdp
    } else {
        S::TipRemoteClient
    });
    if tab.form.mode.caps().datagrams {
        let error = tab.errors.remote_ip.clone();
        // A UDP target may be a broadcast address or a group: offer them beside the field.
        ui.horizontal(|ui| {
            let label = fixed_label_ui(ui, t(S::RemoteIp));
            let width = ui.available_width() - 40.0;
            let field = ui
                .add(
                    egui::TextEdit::singleline(&mut tab.form.remote_ip)
                        .hint_text("127.0.0.1")
                        .desired_width(width),
                )
                .labelled_by(label.id)
                .on_hover_text(remote_tip);
            mark_bad_field(ui, &field, error.is_some());
            let picked = super::multicast_ui::remote_picker_ui(ui, tab, nics);
            let chose = field.changed() || picked.is_some();
            if let Some(ip) = picked {
                tab.form.remote_ip = ip;
            }
            // Choosing a destination makes it the destination: datagrams went on to the
            // latest sender (or a pinned peer) until "Remote address" was clicked.
            if chose && tab.selection != Selection::Default {
                actions.push(UiAction::Select(Selection::Default));
            }
        });
    } else {
        let error = tab.errors.remote_ip.as_ref();
        Field {
            label: t(if tab.form.mode.caps().relays {
                S::UpstreamIp
            } else {
                S::RemoteIp
            }),
            hint: "127.0.0.1",
            tooltip: remote_tip,
            error,
        }
        .ui(ui, &mut tab.form.remote_ip);
    }
    let error = tab.errors.remote_port.as_ref();
    Field {
        label: t(if tab.form.mode.caps().relays {
            S::UpstreamPort
        } else {
            S::RemotePort
        }),
        hint: t(S::HintPortExample),
        tooltip: remote_tip,
        error,
    }
    .ui(ui, &mut tab.form.remote_port);
}

/// One row of a target list: who, what to show, and how to drop it (TCP clients only).
struct TargetRow {
    selection: Selection,
    text: String,
    disconnect: Option<(ConnId, SocketAddr)>,
}

/// The entries at the top of a target list: label, tooltip, and what choosing it selects.
type FixedRow = (String, &'static str, Selection);

/// A list to pick a send target from: fixed entries (all clients, the remote address, the
/// latest sender), then one row per client or peer.
/// A client or peer list longer than this lays out only the rows in view (a server with
/// 10,000 clients formatted and laid out every row every frame).
const MANY_ROWS: usize = 64;
/// Rows a client or peer list shows before it scrolls (its place does not grow).
const ROWS_SHOWN: f32 = 4.0;

/// A list of targets: `count` rows, each made by `row` only when it is drawn.
#[allow(clippy::too_many_arguments)]
fn target_list_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    title: String,
    title_tip: Option<String>,
    fixed: Vec<FixedRow>,
    empty: S,
    count: usize,
    row: &dyn Fn(usize) -> Option<TargetRow>,
    actions: &mut Vec<UiAction>,
) {
    let header = egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("targets")
        .default_open(true)
        .show(ui, |ui| {
            for (label, tip, selection) in fixed {
                let button = egui::Button::selectable(tab.selection == selection, label).truncate();
                if ui.add(button).on_hover_text(tip).clicked() {
                    actions.push(UiAction::Select(selection));
                }
            }
            let guard_id = ui.scope_id().with("close_guard");
            // The rows have a place of their own, the same height however many there are: a
            // client that joins or leaves moved everything under the list (Receive, Send).
            let line = ui.text_style_height(&egui::TextStyle::Button);
            let height = 2.0 * line + 2.0 * ui.spacing().button_padding.y;
            let place = ROWS_SHOWN * (height + ui.spacing().item_spacing.y);
            // A solid scroll bar: the rows beyond the fourth are there to be seen (egui's
            // floating bar shows only under the pointer).
            ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
            let area = egui::ScrollArea::vertical()
                .id_salt("target_rows")
                .min_scrolled_height(place)
                .max_height(place)
                .auto_shrink([false, false]);
            if count <= MANY_ROWS {
                area.show(ui, |ui| {
                    if count == 0 {
                        ui.weak(t(empty));
                    }
                    for made in (0..count).filter_map(row) {
                        target_row_ui(ui, tab, made, guard_id, actions);
                    }
                });
                return;
            }
            // Two lines of text in a button: every row the same height, so only the rows in
            // view are made and laid out.
            area.show_rows(ui, height, count, |ui, range| {
                for made in range.filter_map(row) {
                    target_row_ui(ui, tab, made, guard_id, actions);
                }
            });
        });
    if let Some(tip) = title_tip {
        header.header_response.on_hover_text(tip);
    }
    ui.add_space(6.0);
}

/// `text` (two lines) laid out as two rows at most, each cut with … where it is too long.
fn two_lines(ui: &mut egui::Ui, text: String) -> egui::WidgetText {
    let mut job = egui::text::LayoutJob::single_section(
        text,
        egui::TextFormat {
            font_id: egui::TextStyle::Button.resolve(ui.style()),
            // The button's own colour (selected, hovered …).
            color: Color32::PLACEHOLDER,
            ..Default::default()
        },
    );
    job.wrap = egui::text::TextWrapping {
        max_width: (ui.available_width() - 2.0 * ui.spacing().button_padding.x).max(40.0),
        max_rows: 2,
        break_anywhere: true,
        overflow_character: Some('…'),
    };
    // Laid out here: a button in a horizontal row lays a job out again without wrapping,
    // and a busy client's counters widened the whole settings panel.
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    galley.into()
}

/// One client or peer: × (for a client), then its address and counters.
fn target_row_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    row: TargetRow,
    guard_id: egui::Id,
    actions: &mut Vec<UiAction>,
) {
    ui.horizontal(|ui| {
        // × first and the row kept to the panel's width: a busy client's counters
        // and rate used to widen the whole settings panel for good.
        if let Some((conn, peer)) = row.disconnect {
            let button = ui
                .small_button("×")
                .on_hover_text(tf(S::DisconnectPeer, &[&super::shown_addr(peer)]));
            if close_clicked(ui, guard_id, &button) {
                actions.push(UiAction::DisconnectClient(conn));
            }
        }
        let selected = tab.selection == row.selection;
        let tip = t(if row.disconnect.is_some() {
            S::TipSendToClient
        } else {
            S::TipPinPeer
        });
        let tip = format!("{}\n{tip}", row.text);
        // Two lines, the address and the counters, each cut with … where the panel is too
        // narrow (the whole row is the tooltip): every row the same height, so the list's
        // place holds its four rows (wrapped, a busy client's counters took a third line in
        // 中文 and pushed the fourth row out).
        let label = egui::Button::selectable(selected, two_lines(ui, row.text));
        if ui.add(label).on_hover_text(tip).clicked() {
            actions.push(UiAction::Select(row.selection));
        }
    });
}

/// Whether a × was clicked — not counting a click where the last × click was, until the
/// pointer moved: when a client leaves, the next row's × slides under the pointer, and a
/// second click there closed a client nobody aimed at.
fn close_clicked(ui: &egui::Ui, guard_id: egui::Id, button: &egui::Response) -> bool {
    let pointer = ui.input(|i| i.pointer.hover_pos());
    let guard: Option<egui::Pos2> = ui.data(|d| d.get_temp(guard_id));
    if let (Some(at), Some(now)) = (guard, pointer)
        && at.distance(now) > 4.0
    {
        ui.data_mut(|d| d.remove::<egui::Pos2>(guard_id));
    }
    if !button.clicked() {
        return false;
    }
    let guarded: Option<egui::Pos2> = ui.data(|d| d.get_temp(guard_id));
    if guarded.is_some() {
        return false;
    }
    if let Some(now) = pointer {
        ui.data_mut(|d| d.insert_temp(guard_id, now));
    }
    true
}

/// The log cap: a size typed with its unit (`512 KiB`, `2 GiB`, `1.5 GB`; a bare number is
/// MiB), taken on Enter or when the field is left. What is not a size, or a size taken as
/// another (below 1 MiB, above 64 GiB, not whole MiB), is said under the field (`100 KiB` was
/// read as 100 MiB, `abc` left the old value, both without a word).
fn log_cap_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let text_id = ui.make_persistent_id("log_cap_text");
    let note_id = ui.make_persistent_id("log_cap_note");
    let shown = format!("{} MiB", tab.form.log_cap_mib);
    let mut text: String = ui
        .data(|d| d.get_temp(text_id))
        .unwrap_or_else(|| shown.clone());
    let response = ui
        .horizontal(|ui| {
            let label = ui.label(t(S::LogCap));
            ui.add(egui::TextEdit::singleline(&mut text).desired_width(90.0))
                .labelled_by(label.id)
                .on_hover_text(t(S::TipLogCap))
        })
        .inner;
    super::testhook::tag(ui, &response, "log.cap");
    if response.changed() {
        ui.data_mut(|d| d.insert_temp(text_id, text.clone()));
    }
    // Left as it was shown: nothing typed, and what was said about the last size stays.
    // Emptied and left: nothing was typed to take (it said "'' taken as 1 MiB").
    if response.lost_focus() && (text.trim() == shown.trim() || text.trim().is_empty()) {
        ui.data_mut(|d| d.remove::<String>(text_id));
    } else if response.lost_focus() {
        ui.data_mut(|d| d.remove::<String>(text_id));
        let note: Option<(bool, String)> = match sockscope_core::profile::log_cap_mib(&text) {
            None => Some((true, tf(S::LogCapNotSize, &[&text.trim()]))),
            Some(mib) => {
                let taken = mib.round().clamp(1.0, 65_536.0) as u64;
                tab.form.log_cap_mib = taken;
                ((taken as f64 - mib).abs() > 1e-9)
                    .then(|| (false, tf(S::LogCapTakenAs, &[&text.trim(), &taken])))
            }
        };
        ui.data_mut(|d| match note {
            Some(note) => {
                d.insert_temp(note_id, note);
            }
            None => d.remove::<(bool, String)>(note_id),
        });
    }
    if let Some((error, note)) = ui.data(|d| d.get_temp::<(bool, String)>(note_id)) {
        let color = if error {
            super::widgets::error_color(ui)
        } else {
            ui.visuals().warn_fg_color
        };
        let label = ui.add(
            egui::Label::new(egui::RichText::new(note).color(color))
                .wrap_mode(egui::TextWrapMode::Wrap),
        );
        super::testhook::tag(ui, &label, "log.cap.note");
    }
}

fn clients_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let now = std::time::SystemTime::now();
    let clients = &tab.capture.clients;
    let conns: Vec<ConnId> = clients.keys().copied().collect();
    let row = |i: usize| {
        let conn = *conns.get(i)?;
        let c = clients.get(&conn)?;
        Some(TargetRow {
            selection: Selection::Client(conn),
            text: format!(
                "{}{}{}\n↓{} ({}) ↑{} ({}){}{}",
                super::shown_addr(c.peer),
                tab.capture
                    .relay_upstreams
                    .get(&conn)
                    .map(|client| format!(
                        " · {}",
                        tf(S::UpstreamMark, &[&super::shown_addr(*client)])
                    ))
                    .unwrap_or_default(),
                c.tls
                    .as_ref()
                    .map(|i| format!(" · {}", i.version))
                    .unwrap_or_default(),
                human_bytes(c.rx_bytes),
                c.rx_messages,
                human_bytes(c.tx_bytes),
                c.tx_messages,
                rate_text(c.rx_rate.per_second(now) + c.tx_rate.per_second(now)),
                if c.half_closed {
                    format!(" · {}", t(S::HalfClosedMark))
                } else {
                    String::new()
                }
            ),
            disconnect: Some((conn, c.peer)),
        })
    };
    let title = tf(S::ClientsN, &[&clients.len()]);
    let fixed = vec![(
        t(S::AllClients).to_owned(),
        t(S::TipAllClients),
        Selection::Default,
    )];
    let count = conns.len();
    target_list_ui(
        ui,
        tab,
        title,
        None,
        fixed,
        S::NoClient,
        count,
        &row,
        actions,
    );
}

fn peers_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let now = std::time::SystemTime::now();
    let peers_seen = &tab.capture.peers;
    // Who spoke last first; peers only sent to, after them.
    let mut order: Vec<_> = peers_seen
        .iter()
        .map(|(addr, p)| (std::cmp::Reverse(p.last_rx), *addr))
        .collect();
    order.sort_unstable();
    let row = |i: usize| {
        let peer = order.get(i)?.1;
        let p = peers_seen.get(&peer)?;
        let pinned = tab.selection == Selection::Peer(peer);
        Some(TargetRow {
            selection: Selection::Peer(peer),
            text: format!(
                "{}\n↓{} ({}) ↑{}{}{}",
                super::shown_addr(peer),
                human_bytes(p.rx_bytes),
                p.rx_datagrams,
                human_bytes(p.tx_bytes),
                p.last_rx
                    .map(|at| format!(" · {}", age_text(at, now)))
                    .unwrap_or_default(),
                if pinned {
                    format!(" · {}", t(S::PinnedMark))
                } else {
                    String::new()
                }
            ),
            disconnect: None,
        })
    };
    if !peers_seen.is_empty() {
        // The ages tick.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_secs(1));
    }
    let forgotten = tab.capture.forgotten_peers;
    let (title, title_tip) = if forgotten == 0 {
        (tf(S::PeersN, &[&peers_seen.len()]), None)
    } else {
        (
            tf(S::PeersNForgotten, &[&peers_seen.len(), &forgotten]),
            Some(tf(
                S::TipPeersForgotten,
                &[&sockscope_core::capture::MAX_PEERS],
            )),
        )
    };
    let (ip, port) = (tab.form.remote_ip.trim(), tab.form.remote_port.trim());
    let remote = if ip.is_empty() && port.is_empty() {
        format!("{} ({})", t(S::RemoteAddress), t(S::NotSet))
    } else {
        format!("{} ({ip}:{port})", t(S::RemoteAddress))
    };
    let latest = match tab.capture.latest_sender() {
        Some(peer) => format!("{} ({})", t(S::LatestSender), super::shown_addr(peer)),
        None => t(S::LatestSender).to_owned(),
    };
    let fixed = vec![
        (remote, t(S::TipRemoteAddress), Selection::Default),
        (latest, t(S::TipLatestSender), Selection::LatestPeer),
    ];
    let count = order.len();
    target_list_ui(
        ui,
        tab,
        title,
        title_tip,
        fixed,
        S::NoDatagram,
        count,
        &row,
        actions,
    );
}

fn receive_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    egui::CollapsingHeader::new(RichText::new(t(S::Receive)).strong())
        .id_salt("receive")
        .default_open(true)
        .show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut tab.form.rx_hex, false, t(S::Text))
                    .on_hover_text(t(S::TipRxText));
                ui.selectable_value(&mut tab.form.rx_hex, true, t(S::Hex))
                    .on_hover_text(t(S::TipRxHex));
            });
            encoding_row_ui(ui, tab, "encoding", actions);
            log_cap_ui(ui, tab);
            ui.checkbox(&mut tab.form.show_time, t(S::ShowTime))
                .on_hover_text(t(S::TipShowTime));
            ui.checkbox(&mut tab.form.auto_scroll, t(S::AutoScroll))
                .on_hover_text(t(S::TipAutoScroll));
            let wrap = ui
                .checkbox(&mut tab.form.wrap_lines, t(S::WrapLines))
                .on_hover_text(t(S::TipWrapLines));
            super::testhook::tag(ui, &wrap, "log.wrap");
            super::framing_ui::framing_ui(ui, tab, actions);
            super::protocol_ui::picker_ui(ui, tab, actions);
            let form = &mut *tab.form;
            let tip = t(S::TipVerify);
            let (verify, fixed) = (&mut form.rx_verify, &mut form.rx_verify_fixed);
            super::widgets::checksum_editor_ui(ui, "rx_verify", t(S::Verify), tip, verify, fixed);
            super::actions::Action::ClearLog.button_ui(ui, actions);
        });
}

/// Connect / Listen / Open, turning into Disconnect / Stop / Close.
fn open_button_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let label = tab.toggle_label();
    // The main action stands out: accent colour to open, error colour to close.
    let (fill, text) = if tab.is_open() && label != S::Listen {
        (Color32::from_rgb(190, 60, 60), Color32::WHITE)
    } else {
        (
            ui.visuals().selection.bg_fill,
            ui.visuals().selection.stroke.color,
        )
    };
    let button = egui::Button::new(RichText::new(t(label)).strong().color(text))
        .fill(fill)
        .min_size(egui::vec2(ui.available_width(), 30.0));
    let tip = t(match label {
        S::Connect => S::TipConnect,
        S::Disconnect => S::TipDisconnect,
        S::Listen => S::TipListen,
        S::Stop => S::TipStop,
        S::Open => S::TipOpen,
        S::StartRelay => S::TipStartRelay,
        S::StopReconnecting => S::TipStopReconnecting,
        _ => S::TipClose,
    });
    // A field that cannot work as typed keeps Connect/Listen from starting: the field is
    // marked and says why, and the button's tooltip names it.
    let opens = !tab.is_open() || label == S::Listen;
    let blocked = tab.errors.first().filter(|_| opens);
    let button = match blocked {
        Some((field, message)) => {
            let why = tf(S::TipFixFirst, &[&t(field), message]);
            ui.add_enabled(false, button).on_disabled_hover_text(why)
        }
        None => ui.add(button).on_hover_text(tip),
    };
    super::testhook::tag(ui, &button, "net.open");
    if button.clicked() {
        actions.push(UiAction::ToggleOpen);
    }
}

/// The local IP field with a picker of this machine's addresses.
fn local_ip_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, interfaces: &[(String, IpAddr)]) {
    ui.horizontal(|ui| {
        let tip = t(S::TipLocalIp);
        let field = egui::TextEdit::singleline(&mut tab.form.local_ip)
            .hint_text(format!("0.0.0.0 ({})", t(S::HintAllInterfaces)));
        let label = fixed_label_ui(ui, t(S::LocalIp));
        // Leave room for the interface picker on the right.
        let width = ui.available_width() - 40.0;
        let field = ui
            .add(field.desired_width(width))
            .labelled_by(label.id)
            .on_hover_text(tip);
        mark_bad_field(ui, &field, tab.errors.local_ip.is_some());
        ui.menu_button("▼", |ui| {
            for ip in ["0.0.0.0", "::"] {
                if ui.button(tf(S::AllInterfaces, &[&ip])).clicked() {
                    tab.form.local_ip = ip.into();
                    ui.close();
                }
            }
            for (name, ip) in interfaces {
                if ui.button(format!("{ip}  ({name})")).clicked() {
                    tab.form.local_ip = ip.to_string();
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text(t(S::TipPickAddress));
    });
}
