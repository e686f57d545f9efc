//! The settings column: Network, Receive and Send groups, and the client/peer list.

use std::net::{IpAddr, SocketAddr};

use eframe::egui::{self, Color32, RichText};

use super::i18n::{S, t, tf};
use super::send_options;
use super::state::{Selection, TabUi, UiAction};
use super::status_bar::{human_bytes, rate_text};
use crate::codec::TextEncoding;
use crate::engine::{ConnId, Mode};

const LABEL_WIDTH: f32 = 78.0;

/// The name of a mode in the current language.
pub fn mode_label(mode: Mode) -> &'static str {
    t(match mode {
        Mode::TcpClient => S::ModeTcpClient,
        Mode::TcpServer => S::ModeTcpServer,
        Mode::Udp => S::ModeUdp,
    })
}

/// The error colour, readable on both themes.
pub fn error_color(ui: &egui::Ui) -> Color32 {
    ui.visuals().error_fg_color
}

/// A message under a field, in the error colour; nothing when there is none.
fn field_error_ui(ui: &mut egui::Ui, error: Option<&String>) {
    if let Some(message) = error {
        ui.label(RichText::new(message).color(error_color(ui)).small());
    }
}

/// A label in a fixed-width column, so the fields after it line up without a Grid.
fn fixed_label_ui(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.allocate_ui_with_layout(
        egui::vec2(LABEL_WIDTH, 20.0),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_width(LABEL_WIDTH);
            ui.label(text)
        },
    )
    .inner
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
            ui.add(edit)
                .labelled_by(label.id)
                .on_hover_text(self.tooltip);
        });
        field_error_ui(ui, self.error);
    }
}

/// Draws the whole settings column.
pub fn settings_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[(String, IpAddr)],
    actions: &mut Vec<UiAction>,
) {
    ui.add_space(4.0);
    network_ui(ui, tab, interfaces, actions);
    ui.add_space(6.0);
    match tab.form.mode {
        Mode::TcpServer => clients_ui(ui, tab, actions),
        Mode::Udp => peers_ui(ui, tab, actions),
        Mode::TcpClient => {}
    }
    receive_ui(ui, tab, actions);
    ui.add_space(6.0);
    send_options::send_options_ui(ui, tab, actions);
}

fn network_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[(String, IpAddr)],
    actions: &mut Vec<UiAction>,
) {
    let locked = tab.form_locked();
    egui::CollapsingHeader::new(RichText::new(t(S::Network)).strong())
        .id_salt("network")
        .default_open(true)
        .show(ui, |ui| {
            ui.add_enabled_ui(!locked, |ui| {
                ui.horizontal(|ui| {
                    for mode in Mode::ALL {
                        ui.selectable_value(&mut tab.form.mode, mode, mode_label(mode))
                            .on_hover_text(t(match mode {
                                Mode::TcpClient => S::TipModeClient,
                                Mode::TcpServer => S::TipModeServer,
                                Mode::Udp => S::TipModeUdp,
                            }));
                    }
                });
                ui.add_space(4.0);
                local_ip_ui(ui, tab, interfaces);
                field_error_ui(ui, tab.errors.local_ip.as_ref());
                let port_tip = t(match tab.form.mode {
                    Mode::TcpClient => S::TipPortClient,
                    Mode::TcpServer => S::TipPortServer,
                    Mode::Udp => S::TipPortUdp,
                });
                let error = tab.errors.local_port.as_ref();
                Field {
                    label: t(S::LocalPort),
                    hint: "0",
                    tooltip: port_tip,
                    error,
                }
                .ui(ui, tab.form.local_port_mut());
                if tab.form.mode != Mode::TcpServer {
                    let remote_tip = t(if tab.form.mode == Mode::Udp {
                        S::TipRemoteUdp
                    } else {
                        S::TipRemoteClient
                    });
                    let error = tab.errors.remote_ip.as_ref();
                    Field {
                        label: t(S::RemoteIp),
                        hint: "127.0.0.1",
                        tooltip: remote_tip,
                        error,
                    }
                    .ui(ui, &mut tab.form.remote_ip);
                    let error = tab.errors.remote_port.as_ref();
                    Field {
                        label: t(S::RemotePort),
                        hint: "8080",
                        tooltip: remote_tip,
                        error,
                    }
                    .ui(ui, &mut tab.form.remote_port);
                }
                if tab.form.mode == Mode::TcpClient {
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
                }
            });
            ui.add_space(4.0);
            open_button_ui(ui, tab, actions);
            if tab.form.mode != Mode::Udp {
                ui.add_enabled_ui(!locked, |ui| {
                    ui.checkbox(&mut tab.form.keep_half_closed, t(S::KeepHalfClosed))
                        .on_hover_text(t(S::TipKeepHalfClosed));
                });
            }
            if tab.form.mode == Mode::TcpServer {
                ui.checkbox(&mut tab.form.close_clients_on_stop, t(S::StopClosesClients))
                    .on_hover_text(t(S::TipStopClosesClients));
            }
        });
}

/// One row of a target list: who, what to show, and how to drop it (TCP clients only).
struct TargetRow {
    selection: Selection,
    text: String,
    disconnect: Option<(ConnId, SocketAddr)>,
}

/// A list to pick a send target from: a default entry, then one row per client or peer.
fn target_list_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    title: String,
    default: (S, S, S),
    rows: Vec<TargetRow>,
    actions: &mut Vec<UiAction>,
) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("targets")
        .default_open(true)
        .show(ui, |ui| {
            let (label, tip, empty) = (t(default.0), t(default.1), t(default.2));
            if ui
                .selectable_label(tab.selection == Selection::Default, label)
                .on_hover_text(tip)
                .clicked()
            {
                actions.push(UiAction::Select(Selection::Default));
            }
            if rows.is_empty() {
                ui.weak(empty);
            }
            for row in rows {
                ui.horizontal(|ui| {
                    // × first and the row cut to the panel's width: a busy client's counters
                    // and rate used to widen the whole settings panel for good.
                    if let Some((conn, peer)) = row.disconnect {
                        let button = ui
                            .small_button("×")
                            .on_hover_text(tf(S::DisconnectPeer, &[&peer]));
                        if button.clicked() {
                            actions.push(UiAction::DisconnectClient(conn));
                        }
                    }
                    let selected = tab.selection == row.selection;
                    let tip = t(if row.disconnect.is_some() {
                        S::TipSendToClient
                    } else {
                        S::TipReplyToPeer
                    });
                    let tip = format!("{}\n{tip}", row.text);
                    let label = egui::Button::selectable(selected, row.text).truncate();
                    if ui.add(label).on_hover_text(tip).clicked() {
                        actions.push(UiAction::Select(row.selection));
                    }
                });
            }
        });
    ui.add_space(6.0);
}

fn clients_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let now = std::time::SystemTime::now();
    let rows = tab
        .capture
        .clients
        .iter()
        .map(|(conn, c)| TargetRow {
            selection: Selection::Client(*conn),
            text: format!(
                "{}  ↓{} ({}) ↑{} ({}){}{}",
                c.peer,
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
            disconnect: Some((*conn, c.peer)),
        })
        .collect();
    let title = tf(S::ClientsN, &[&tab.capture.clients.len()]);
    let default = (S::AllClients, S::TipAllClients, S::NoClient);
    target_list_ui(ui, tab, title, default, rows, actions);
}

fn peers_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let rows = tab
        .capture
        .peers
        .iter()
        .map(|(peer, p)| TargetRow {
            selection: Selection::Peer(*peer),
            text: format!(
                "{peer}  ↓{} ({}) ↑{}",
                human_bytes(p.rx_bytes),
                p.rx_datagrams,
                human_bytes(p.tx_bytes)
            ),
            disconnect: None,
        })
        .collect();
    let title = tf(S::PeersN, &[&tab.capture.peers.len()]);
    let default = (S::RemoteAddress, S::TipRemoteAddress, S::NoDatagram);
    target_list_ui(ui, tab, title, default, rows, actions);
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
            ui.horizontal(|ui| {
                let label = ui.label(t(S::Encoding));
                let mut chosen = tab.form.encoding;
                encoding_combo_ui(ui, "encoding", &mut chosen)
                    .labelled_by(label.id)
                    .on_hover_text(t(S::TipEncoding));
                if chosen != tab.form.encoding {
                    actions.push(UiAction::SetEncoding(chosen));
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label(t(S::LogCap));
                let cap = egui::DragValue::new(&mut tab.form.log_cap_mib)
                    .range(1..=65_536)
                    .suffix(" MiB");
                ui.add(cap)
                    .labelled_by(label.id)
                    .on_hover_text(t(S::TipLogCap));
            });
            ui.checkbox(&mut tab.form.show_time, t(S::ShowTime))
                .on_hover_text(t(S::TipShowTime));
            ui.checkbox(&mut tab.form.auto_scroll, t(S::AutoScroll))
                .on_hover_text(t(S::TipAutoScroll));
            super::framing_ui::framing_ui(ui, tab, actions);
            let form = &mut *tab.form;
            let tip = t(S::TipVerify);
            let (verify, fixed) = (&mut form.rx_verify, &mut form.rx_verify_fixed);
            send_options::checksum_editor_ui(ui, "rx_verify", t(S::Verify), tip, verify, fixed);
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
        _ => S::TipClose,
    });
    if ui.add(button).on_hover_text(tip).clicked() {
        actions.push(UiAction::ToggleOpen);
    }
}

/// The local IP field with a picker of this machine's addresses.
fn local_ip_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, interfaces: &[(String, IpAddr)]) {
    ui.horizontal(|ui| {
        let tip = t(S::TipLocalIp);
        let field = egui::TextEdit::singleline(&mut tab.form.local_ip).hint_text("0.0.0.0");
        let label = fixed_label_ui(ui, t(S::LocalIp));
        // Leave room for the interface picker on the right.
        let width = ui.available_width() - 40.0;
        ui.add(field.desired_width(width))
            .labelled_by(label.id)
            .on_hover_text(tip);
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

/// An encoding picker (UTF-8, GBK, …).
pub fn encoding_combo_ui(
    ui: &mut egui::Ui,
    salt: &str,
    encoding: &mut TextEncoding,
) -> egui::Response {
    egui::ComboBox::from_id_salt(salt)
        .selected_text(encoding.name())
        .show_ui(ui, |ui| {
            for offered in TextEncoding::offered() {
                ui.selectable_value(encoding, *offered, offered.name());
            }
        })
        .response
}
