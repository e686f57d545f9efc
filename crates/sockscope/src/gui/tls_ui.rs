//! The TLS block of the Network group: verification, SNI, ALPN and certificates of a TLS client;
//! the certificate (self-signed or files) and client-certificate checking of a TLS server; and
//! what a connection negotiated, with the peer's certificate chain.

use eframe::egui::{self, RichText};

use super::i18n::{S, t, tf};
use super::model::FileRequest;
use super::model::PemField;
use super::state::{TabUi, UiAction};
use super::widgets::{error_color, field_error_ui, mark_bad_field};
use crate::engine::{ServerCert, TlsInfo, TlsSide, Verify};

use super::widgets::fixed_label_ui as label_ui;

/// A text row: label, field (marked, with its sentence under it, when `error` says so).
fn text_row(
    ui: &mut egui::Ui,
    label: &str,
    hint: &str,
    tip: &str,
    value: &mut String,
    error: Option<&String>,
) {
    ui.horizontal(|ui| {
        let label = label_ui(ui, label);
        let field = ui
            .add(
                egui::TextEdit::singleline(value)
                    .hint_text(hint)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id)
            .on_hover_text(tip);
        mark_bad_field(ui, &field, error.is_some());
    });
    field_error_ui(ui, error);
}

/// A path row: label, field, and "…" that asks for the file; marked as a text row is.
struct PemRow<'a> {
    label: &'a str,
    hint: &'a str,
    /// The field's tooltip (default: what it holds, which may be cut off).
    tip: Option<&'a str>,
    field: PemField,
    error: Option<&'a String>,
}

impl PemRow<'_> {
    fn ui(self, ui: &mut egui::Ui, value: &mut String, actions: &mut Vec<UiAction>) {
        ui.horizontal(|ui| {
            let label = label_ui(ui, self.label);
            // Room for the "…" button and the spacing before it: a row wider than the panel
            // would widen the panel a little every frame.
            let width = ui.available_width() - 40.0;
            let field = ui
                .add(
                    egui::TextEdit::singleline(value)
                        .hint_text(self.hint)
                        .desired_width(width),
                )
                .labelled_by(label.id);
            let field = match self.tip {
                Some(tip) => field.on_hover_text(tip),
                None => field.on_hover_text(value.as_str()),
            };
            mark_bad_field(ui, &field, self.error.is_some());
            let pick_tip = t(if self.field == PemField::Pin {
                S::TipPinFromFile
            } else {
                S::TipPick
            });
            if ui.small_button("…").on_hover_text(pick_tip).clicked() {
                actions.push(UiAction::AskFile(FileRequest::Pem(self.field)));
            }
        });
        field_error_ui(ui, self.error);
    }
}

/// A path row with no message of its own.
fn pem_row(
    ui: &mut egui::Ui,
    label: &str,
    hint: &str,
    value: &mut String,
    field: PemField,
    actions: &mut Vec<UiAction>,
) {
    PemRow {
        label,
        hint,
        tip: None,
        field,
        error: None,
    }
    .ui(ui, value, actions);
}

/// ALPN as typed: comma-separated.
fn alpn_row(ui: &mut egui::Ui, alpn: &mut Vec<String>) {
    let mut text = alpn.join(", ");
    let before = text.clone();
    text_row(
        ui,
        t(S::TlsAlpn),
        t(S::HintAlpn),
        t(S::TipAlpn),
        &mut text,
        None,
    );
    if text != before {
        *alpn = text
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
    }
}

/// The TLS checkbox and, when it is on, the settings of the tab's mode.
pub fn tls_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let locked = tab.mode_locked();
    ui.add_enabled_ui(!locked, |ui| {
        ui.checkbox(&mut tab.form.tls_on, t(S::Tls))
            .on_hover_text(t(S::TipTls));
        if !tab.form.tls_on {
            return;
        }
        ui.indent("tls", |ui| match tab.form.mode.caps().tls {
            Some(TlsSide::Client) => client_ui(ui, tab, actions),
            Some(TlsSide::Server) => server_ui(ui, tab, actions),
            None => {}
        });
    });
    // Outside the part that locks while listening: the certificate can be copied then.
    if tab.form.tls_on && tab.form.mode.caps().tls == Some(TlsSide::Server) {
        ui.indent("tls-kept", |ui| kept_cert_ui(ui, &mut tab.form.tls, locked));
    }
}

/// A self-signed server certificate, kept with the profile: its subject and SHA-256 (to pin
/// it on a device; selectable, and a Copy button), and Regenerate (not while listening: the
/// server goes on with the one it started with).
fn kept_cert_ui(ui: &mut egui::Ui, tls: &mut crate::engine::TlsSettings, locked: bool) {
    if !matches!(tls.server_cert, ServerCert::SelfSigned(_)) {
        return;
    }
    if !locked {
        // Made the first time it is shown, and again when the names change; a failure is
        // said at Listen.
        let _ = tls.keep_self_signed();
    }
    let Some(info) = tls.kept.as_ref().and_then(crate::engine::KeptCert::info) else {
        return;
    };
    ui.add(egui::Label::new(tf(S::TlsKeptCert, &[&info.subject])).wrap());
    let sha = ui.add(
        egui::Label::new(
            RichText::new(format!("SHA-256 {}", info.sha256))
                .monospace()
                .small(),
        )
        .wrap(),
    );
    super::testhook::tag(ui, &sha, "tls.kept.sha256");
    ui.horizontal(|ui| {
        if ui
            .button(t(S::TlsCopySha))
            .on_hover_text(t(S::TipCopySha))
            .clicked()
        {
            ui.ctx().copy_text(info.sha256.clone());
        }
        let regenerate = ui
            .add_enabled(!locked, egui::Button::new(t(S::TlsRegenerate)))
            .on_hover_text(t(S::TipRegenerate))
            .on_disabled_hover_text(t(S::TipRegenerateLocked));
        super::testhook::tag(ui, &regenerate, "tls.regenerate");
        if regenerate.clicked() {
            let _ = tls.regenerate_self_signed();
        }
    });
}

fn client_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let open = tab.is_open();
    let errors = &tab.errors.tls;
    let tls = &mut tab.form.tls;
    ui.horizontal(|ui| {
        let label = label_ui(ui, t(S::TlsVerify));
        let shown = match tls.verify {
            Verify::System => t(S::TlsVerifySystem),
            Verify::CaFile(_) => t(S::TlsVerifyCa),
            Verify::Pin(_) => t(S::TlsVerifyPin),
            Verify::Off => t(S::TlsVerifyOff),
        };
        // Cut to the column rather than widen the settings panel for good.
        let combo = egui::ComboBox::from_id_salt("tls-verify")
            .selected_text(shown)
            .truncate()
            .show_ui(ui, |ui| {
                let (ca, pin) = match &tls.verify {
                    Verify::CaFile(path) => (path.clone(), String::new()),
                    Verify::Pin(pin) => (String::new(), pin.clone()),
                    _ => (String::new(), String::new()),
                };
                ui.selectable_value(&mut tls.verify, Verify::System, t(S::TlsVerifySystem));
                ui.selectable_value(&mut tls.verify, Verify::CaFile(ca), t(S::TlsVerifyCa));
                let pinned =
                    ui.selectable_value(&mut tls.verify, Verify::Pin(pin), t(S::TlsVerifyPin));
                super::testhook::tag(ui, &pinned, "tls.trust.pin");
                let off = ui.selectable_value(&mut tls.verify, Verify::Off, t(S::TlsVerifyOff));
                super::testhook::tag(ui, &off, "tls.trust.off");
            })
            .response
            .labelled_by(label.id)
            .on_hover_text(t(S::TipTlsVerify));
        super::testhook::tag(ui, &combo, "tls.trust");
    });
    match &mut tls.verify {
        Verify::CaFile(path) => {
            PemRow {
                label: t(S::TlsVerifyCa),
                hint: t(S::HintPemFile),
                tip: None,
                field: PemField::CaFile,
                error: errors.ca_file.as_ref(),
            }
            .ui(ui, path, actions);
        }
        Verify::Pin(pin) => {
            PemRow {
                label: t(S::TlsPin),
                hint: t(S::HintPin),
                tip: Some(t(S::TipPin)),
                field: PemField::Pin,
                error: errors.pin.as_ref(),
            }
            .ui(ui, pin, actions);
        }
        Verify::Off => {
            let text = RichText::new(t(S::TlsOffWarning))
                .color(error_color(ui))
                .strong();
            ui.add(egui::Label::new(text).wrap());
        }
        Verify::System => {}
    }
    refused_ui(ui, tab.capture.tls_refused.as_ref(), tls, open);
    text_row(
        ui,
        t(S::TlsSni),
        t(S::HintSni),
        t(S::TipSni),
        &mut tls.server_name,
        errors.server_name.as_ref(),
    );
    alpn_row(ui, &mut tls.alpn);
    pem_row(
        ui,
        t(S::TlsClientCert),
        t(S::HintPemFile),
        &mut tls.client_cert,
        PemField::ClientCert,
        actions,
    );
    if !tls.client_cert.trim().is_empty() {
        PemRow {
            label: t(S::TlsKey),
            hint: t(S::HintPemFile),
            tip: None,
            field: PemField::ClientKey,
            error: errors.client_key.as_ref(),
        }
        .ui(ui, &mut tls.client_key, actions);
    }
}

/// After the server's certificate was refused: which one it was, and a button that pins it
/// (Trust: This certificate, its SHA-256), so the next Connect trusts exactly that one.
fn refused_ui(
    ui: &mut egui::Ui,
    refused: Option<&crate::engine::CertInfo>,
    tls: &mut crate::engine::TlsSettings,
    open: bool,
) {
    let Some(cert) = refused else {
        return;
    };
    let already = matches!(&tls.verify, Verify::Pin(pin)
        if crate::engine::parse_pin(pin).ok() == crate::engine::parse_pin(&cert.sha256).ok());
    if open || already {
        return;
    }
    let text = tf(S::TlsRefusedCert, &[&cert.subject]);
    ui.add(egui::Label::new(RichText::new(text).color(error_color(ui))).wrap());
    ui.add(
        egui::Label::new(
            RichText::new(format!("SHA-256 {}", cert.sha256))
                .monospace()
                .small(),
        )
        .wrap(),
    );
    let button = ui
        .button(t(S::TlsTrustThis))
        .on_hover_text(tf(S::TipTlsTrustThis, &[&cert.sha256]));
    super::testhook::tag(ui, &button, "tls.trust_this");
    if button.clicked() {
        tls.verify = Verify::Pin(cert.sha256.clone());
    }
}

fn server_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let errors = &tab.errors.tls;
    let tls = &mut tab.form.tls;
    ui.horizontal(|ui| {
        label_ui(ui, t(S::TlsServerCert));
        let self_signed = matches!(tls.server_cert, ServerCert::SelfSigned(_));
        let mut choice = self_signed;
        ui.selectable_value(&mut choice, true, t(S::TlsSelfSigned))
            .on_hover_text(t(S::TipSelfSigned));
        ui.selectable_value(&mut choice, false, t(S::TlsFromFiles));
        if choice != self_signed {
            tls.server_cert = if choice {
                ServerCert::default()
            } else {
                ServerCert::Files {
                    cert: String::new(),
                    key: String::new(),
                }
            };
        }
    });
    match &mut tls.server_cert {
        ServerCert::SelfSigned(names) => {
            let mut text = names.join(", ");
            let before = text.clone();
            text_row(
                ui,
                t(S::TlsNames),
                "localhost, 127.0.0.1",
                t(S::TipSelfSigned),
                &mut text,
                None,
            );
            if text != before {
                *names = text.split(',').map(|n| n.trim().to_owned()).collect();
            }
        }
        ServerCert::Files { cert, key } => {
            PemRow {
                label: t(S::TlsCert),
                hint: t(S::HintPemFile),
                tip: None,
                field: PemField::ServerCert,
                error: errors.server_cert.as_ref(),
            }
            .ui(ui, cert, actions);
            PemRow {
                label: t(S::TlsKey),
                hint: t(S::HintPemFile),
                tip: None,
                field: PemField::ServerKey,
                error: errors.server_key.as_ref(),
            }
            .ui(ui, key, actions);
        }
    }
    pem_row(
        ui,
        t(S::TlsClientCa),
        t(S::HintClientCa),
        &mut tls.client_ca,
        PemField::ClientCa,
        actions,
    );
    alpn_row(ui, &mut tls.alpn);
}

/// The WebSocket checkbox and, when it is on, path, Host, subprotocol and text/binary; while
/// connected, Ping and Close.
pub fn ws_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let locked = tab.mode_locked();
    ui.add_enabled_ui(!locked, |ui| {
        ui.checkbox(&mut tab.form.ws_on, t(S::WebSocket))
            .on_hover_text(t(S::TipWebSocket));
        if !tab.form.ws_on {
            return;
        }
        ui.indent("ws", |ui| {
            let ws = &mut tab.form.ws;
            if tab.form.mode.caps().connects {
                text_row(ui, t(S::WsPath), "/", t(S::TipWsPath), &mut ws.path, None);
                text_row(
                    ui,
                    t(S::WsHost),
                    t(S::HintSni),
                    t(S::TipWsHost),
                    &mut ws.host,
                    None,
                );
            }
            text_row(
                ui,
                t(S::WsSubprotocol),
                t(S::HintWsSubprotocol),
                t(S::TipWsSubprotocol),
                &mut ws.subprotocol,
                None,
            );
            ui.checkbox(&mut ws.binary, t(S::WsBinary))
                .on_hover_text(t(S::TipWsBinary));
        });
    });
    if tab.form.ws_on && tab.is_open() && !tab.capture.clients.is_empty() {
        ui.horizontal(|ui| {
            if ui
                .button(t(S::WsPing))
                .on_hover_text(t(S::TipWsPing))
                .clicked()
            {
                actions.push(UiAction::WsPing);
            }
            if ui
                .button(t(S::WsClose))
                .on_hover_text(t(S::TipWsClose))
                .clicked()
            {
                actions.push(UiAction::WsClose);
            }
        });
    }
}

/// "TLS: TLS 1.3, …" for a connection, with its certificate chain on hover.
pub fn negotiated_ui(ui: &mut egui::Ui, info: &TlsInfo) {
    let text = tf(S::TlsNegotiated, &[info]);
    let color = if info.unverified {
        error_color(ui)
    } else {
        ui.visuals().text_color()
    };
    ui.add(egui::Label::new(RichText::new(text).color(color)).wrap())
        .on_hover_ui(|ui| chain_ui(ui, info));
}

/// The peer's certificates, one block each.
pub fn chain_ui(ui: &mut egui::Ui, info: &TlsInfo) {
    ui.label(RichText::new(t(S::TipTlsChain)).strong());
    if info.chain.is_empty() {
        ui.label(t(S::EvNoPeerCert).trim());
    }
    for (n, cert) in info.chain.iter().enumerate() {
        ui.separator();
        ui.label(format!("{}. {}", n + 1, cert.subject));
        ui.label(format!("  ← {}", cert.issuer));
        ui.label(format!("  {} … {}", cert.not_before, cert.not_after));
        ui.label(
            RichText::new(format!("  SHA-256 {}", cert.sha256))
                .monospace()
                .small(),
        );
    }
}
