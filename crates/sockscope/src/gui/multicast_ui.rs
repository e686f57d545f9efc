//! The UDP panel's Multicast group (组播): join and leave groups on a chosen interface, TTL /
//! hop limit, loopback and the sending interface; and the broadcast addresses the remote
//! address can be picked from.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::state::{TabUi, UiAction};
use super::widgets::error_color;
use crate::engine::{Group, Interface};

/// What is typed in the join row (kept per tab in egui's memory until joined).
#[derive(Clone, Default)]
struct Draft {
    group: String,
    source: String,
    interface: String,
    error: Option<String>,
}

impl Draft {
    /// The group the row describes, or why it is none.
    fn group(&self) -> Result<Group, String> {
        let mut group = Group::parse(&self.group)?;
        if !self.source.trim().is_empty() {
            let source = crate::engine::parse_ip(&self.source).map_err(|e| e.to_string())?;
            group.source = Some(source);
        }
        group.interface.clone_from(&self.interface);
        Ok(group)
    }
}

/// An interface picker: "OS default" or one of `interfaces` by name.
fn interface_combo(
    ui: &mut egui::Ui,
    salt: &str,
    value: &mut String,
    interfaces: &[Interface],
) -> egui::Response {
    let shown = if value.is_empty() {
        t(S::OsDefault).to_owned()
    } else {
        value.clone()
    };
    egui::ComboBox::from_id_salt(salt)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            ui.selectable_value(value, String::new(), t(S::OsDefault));
            for iface in interfaces {
                let first = iface
                    .v4
                    .first()
                    .map(|(ip, _)| format!("  {ip}"))
                    .unwrap_or_default();
                let v6 = if iface.v6 { "  IPv6" } else { "" };
                ui.selectable_value(
                    value,
                    iface.name.clone(),
                    format!("{}{first}{v6}", iface.name),
                );
            }
        })
        .response
}

/// The Multicast group of the UDP panel.
pub fn multicast_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[Interface],
    actions: &mut Vec<UiAction>,
) {
    let open = tab.is_open();
    let title = if open && !tab.capture.groups.is_empty() {
        tf(S::MulticastN, &[&tab.capture.groups.len()])
    } else {
        t(S::Multicast).to_owned()
    };
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt("multicast")
        .default_open(!tab.form.udp.groups.is_empty())
        .show(ui, |ui| {
            let id = ui.scope_id().with("draft");
            let mut draft: Draft = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
            ui.horizontal(|ui| {
                let label = ui.label(t(S::Group));
                let width = ui.available_width() - 60.0;
                ui.add(
                    egui::TextEdit::singleline(&mut draft.group)
                        .hint_text("239.255.0.1 / ff15::1")
                        .desired_width(width),
                )
                .labelled_by(label.id)
                .on_hover_text(t(S::TipGroup));
                let join = ui
                    .add_enabled(
                        !draft.group.trim().is_empty(),
                        egui::Button::new(t(S::Join)),
                    )
                    .on_hover_text(t(S::TipJoin));
                if join.clicked() {
                    match draft.group() {
                        Ok(group) => {
                            draft.error = None;
                            draft.group.clear();
                            actions.push(UiAction::JoinGroup(group));
                        }
                        Err(e) => draft.error = Some(e),
                    }
                }
            });
            ui.horizontal(|ui| {
                let label = ui.label(t(S::Interface));
                interface_combo(ui, "mc-join-if", &mut draft.interface, interfaces)
                    .labelled_by(label.id)
                    .on_hover_text(t(S::TipJoinInterface));
            });
            ui.horizontal(|ui| {
                let label = ui.label(t(S::SsmSource));
                ui.add(
                    egui::TextEdit::singleline(&mut draft.source)
                        .hint_text(t(S::HintSsmSource))
                        .desired_width(ui.available_width()),
                )
                .labelled_by(label.id)
                .on_hover_text(t(S::TipSsmSource));
            });
            if let Some(error) = &draft.error {
                ui.add(egui::Label::new(RichText::new(error).color(error_color(ui))).wrap());
            }
            ui.data_mut(|d| d.insert_temp(id, draft));
            groups_list_ui(ui, tab, actions);
            ui.separator();
            send_options_ui(ui, tab, interfaces, actions);
        });
}

/// The groups: joined ones while open (each with Leave), the ones to join at open otherwise.
fn groups_list_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, actions: &mut Vec<UiAction>) {
    let open = tab.is_open();
    let groups: &[Group] = if open {
        &tab.capture.groups
    } else {
        &tab.form.udp.groups
    };
    if groups.is_empty() {
        ui.weak(t(S::NoGroups));
    }
    for group in groups {
        ui.horizontal(|ui| {
            let (label, tip) = if open {
                (t(S::Leave), t(S::TipLeave))
            } else {
                ("×", t(S::TipForgetGroup))
            };
            if ui.small_button(label).on_hover_text(tip).clicked() {
                actions.push(UiAction::LeaveGroup(group.clone()));
            }
            let text = group.to_string();
            let mark = if open { "● " } else { "○ " };
            ui.add(egui::Label::new(format!("{mark}{text}")).truncate())
                .on_hover_text(if open {
                    t(S::TipJoinedGroup)
                } else {
                    t(S::TipGroupAtOpen)
                });
        });
    }
}

/// TTL / hop limit, loopback and the sending interface (changed live while open).
fn send_options_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    interfaces: &[Interface],
    actions: &mut Vec<UiAction>,
) {
    let before = tab.form.udp.clone();
    let options = &mut tab.form.udp;
    ui.horizontal(|ui| {
        let label = ui.label(t(S::Ttl));
        ui.add(egui::DragValue::new(&mut options.ttl).range(0..=255))
            .labelled_by(label.id)
            .on_hover_text(t(S::TipTtl));
        ui.checkbox(&mut options.multicast_loop, t(S::MulticastLoop))
            .on_hover_text(t(S::TipMulticastLoop));
    });
    ui.horizontal(|ui| {
        let label = ui.label(t(S::SendInterface));
        interface_combo(ui, "mc-send-if", &mut options.send_interface, interfaces)
            .labelled_by(label.id)
            .on_hover_text(t(S::TipSendInterface));
    });
    if tab.form.udp != before && tab.is_open() {
        actions.push(UiAction::SetUdpOptions);
    }
}

/// The ▼ beside a UDP remote IP: the limited broadcast, each interface's directed broadcast,
/// and the groups joined. Returns the address picked.
pub fn remote_picker_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    interfaces: &[Interface],
) -> Option<String> {
    let mut picked = None;
    ui.menu_button("▼", |ui| {
        ui.label(RichText::new(t(S::Broadcast)).weak());
        if ui
            .button(format!("255.255.255.255  ({})", t(S::LimitedBroadcast)))
            .clicked()
        {
            picked = Some("255.255.255.255".to_owned());
        }
        for iface in interfaces {
            for (_, broadcast) in &iface.v4 {
                if let Some(broadcast) = broadcast
                    && ui
                        .button(format!("{broadcast}  ({})", iface.name))
                        .clicked()
                {
                    picked = Some(broadcast.to_string());
                }
            }
        }
        let groups = if tab.is_open() {
            &tab.capture.groups
        } else {
            &tab.form.udp.groups
        };
        if !groups.is_empty() {
            ui.separator();
            ui.label(RichText::new(t(S::Multicast)).weak());
            for group in groups {
                if ui.button(group.group.to_string()).clicked() {
                    picked = Some(group.group.to_string());
                }
            }
        }
        if picked.is_some() {
            ui.close();
        }
    })
    .response
    .on_hover_text(t(S::TipPickBroadcast));
    picked
}
