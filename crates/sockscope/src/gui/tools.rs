//! The Tools menu's windows: this machine's interfaces, and the address inspector; and the
//! Help menu's About window.

use std::net::IpAddr;

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::widgets::error_color;
use crate::engine::{Scope, inspect};

/// Which tool windows are open, and what the inspector holds.
#[derive(Default)]
pub struct ToolsState {
    /// The interfaces window is open.
    pub interfaces_open: bool,
    /// The inspector window is open.
    pub inspector_open: bool,
    /// What is typed in the inspector.
    pub inspector_text: String,
    /// The inspector's field takes the keyboard (it just opened).
    pub focus_inspector: bool,
    /// The About window is open.
    pub about_open: bool,
    /// The icon shown in the About window, once loaded.
    icon: Option<egui::TextureHandle>,
}

/// A scope in words.
fn scope_name(scope: Scope) -> &'static str {
    t(match scope {
        Scope::Unspecified => S::ScopeUnspecified,
        Scope::Loopback => S::ScopeLoopback,
        Scope::Private => S::ScopePrivate,
        Scope::LinkLocal => S::ScopeLinkLocal,
        Scope::Multicast => S::ScopeMulticast,
        Scope::Broadcast => S::ScopeBroadcast,
        Scope::Documentation => S::ScopeDocumentation,
        Scope::Shared => S::ScopeShared,
        Scope::UniqueLocal => S::ScopeUniqueLocal,
        Scope::Reserved => S::ScopeReserved,
        Scope::Global => S::ScopeGlobal,
    })
}

/// The About window: name, version, what it is, its licence and the font's.
fn about_ui(ctx: &egui::Context, state: &mut ToolsState) {
    if !state.about_open {
        return;
    }
    let icon = state.icon.get_or_insert_with(|| {
        let image = eframe::icon_data::from_png_bytes(super::ICON_PNG).map_or_else(
            |_| egui::ColorImage::new([1, 1], vec![egui::Color32::TRANSPARENT]),
            |icon| {
                let size = [icon.width as usize, icon.height as usize];
                egui::ColorImage::from_rgba_unmultiplied(size, &icon.rgba)
            },
        );
        ctx.load_texture("sockscope-icon", image, egui::TextureOptions::LINEAR)
    });
    let icon = egui::load::SizedTexture::new(icon.id(), egui::vec2(48.0, 48.0));
    egui::Window::new(t(S::AboutTitle))
        .id(egui::Id::unique("about"))
        .open(&mut state.about_open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.add(egui::Image::from_texture(icon));
                ui.vertical(|ui| {
                    ui.heading(super::TITLE);
                    ui.label(tf(S::AboutVersion, &[&env!("CARGO_PKG_VERSION")]));
                });
            });
            ui.add_space(6.0);
            ui.label(t(S::AboutWhat));
            ui.label(tf(S::AboutLicence, &[&env!("CARGO_PKG_LICENSE")]));
            ui.weak(t(S::AboutFont));
        });
}

/// Draws the open tool windows. Returns an address the user chose to use as the local IP.
pub fn tools_ui(
    ctx: &egui::Context,
    state: &mut ToolsState,
    interfaces: &[(String, IpAddr)],
) -> Option<IpAddr> {
    about_ui(ctx, state);
    let mut chosen = None;
    egui::Window::new(t(S::Interfaces))
        .id(egui::Id::unique("tool_interfaces"))
        .open(&mut state.interfaces_open)
        .resizable(true)
        .default_width(420.0)
        .show(ctx, |ui| {
            if interfaces.is_empty() {
                ui.weak(t(S::NoInterfaces));
            }
            egui::Grid::new("interfaces_grid")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    ui.strong(t(S::InterfaceCol));
                    ui.strong(t(S::AddressCol));
                    ui.strong(t(S::KindCol));
                    ui.end_row();
                    for (name, ip) in interfaces {
                        ui.label(name);
                        ui.monospace(ip.to_string());
                        let kind = inspect(&ip.to_string()).map_or("", |i| scope_name(i.scope));
                        ui.label(kind);
                        if ui.small_button(t(S::UseAsLocal)).clicked() {
                            chosen = Some(*ip);
                        }
                        ui.end_row();
                    }
                });
        });
    egui::Window::new(t(S::Inspector))
        .id(egui::Id::unique("tool_inspector"))
        .open(&mut state.inspector_open)
        .resizable(false)
        .default_width(360.0)
        .show(ctx, |ui| {
            inspector_ui(ui, &mut state.inspector_text, state.focus_inspector);
        });
    state.focus_inspector = false;
    chosen
}

fn inspector_ui(ui: &mut egui::Ui, text: &mut String, focus: bool) {
    ui.horizontal(|ui| {
        let label = ui.label(t(S::InspectorInput));
        let field = ui
            .add(
                egui::TextEdit::singleline(text)
                    .hint_text(t(S::InspectorHint))
                    .desired_width(220.0),
            )
            .labelled_by(label.id);
        if focus {
            field.request_focus();
        }
    });
    if text.trim().is_empty() {
        return;
    }
    let Some(info) = inspect(text) else {
        let message = tf(S::NotAnAddress, &[&text.trim()]);
        ui.label(RichText::new(message).color(error_color(ui)));
        return;
    };
    egui::Grid::new("inspector_grid")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            let mut row = |key: S, value: String| {
                ui.label(t(key));
                ui.monospace(value);
                ui.end_row();
            };
            let version = if info.addr.is_ipv4() { "IPv4" } else { "IPv6" };
            row(S::Version, version.to_owned());
            if let Some(class) = info.class {
                row(S::Class, class.to_string());
            }
            row(S::Scope, scope_name(info.scope).to_owned());
            if let Some(net) = info.network {
                row(S::NetworkAddr, format!("{}/{}", net.network, net.prefix));
                row(S::Netmask, net.netmask.to_string());
                if let Some(broadcast) = net.broadcast {
                    row(S::Broadcast, broadcast.to_string());
                }
                row(S::Hosts, format!("{} - {}", net.hosts.0, net.hosts.1));
                row(S::HostCount, net.host_count.to_string());
            }
        });
}
