//! The Automation group of the settings column, the Rules window (自动应答: a list, an editor
//! with live validation and a reply preview, an inline test, "Try on the log") and the Scripts
//! window (测试脚本: steps, Run, each step √/× with its time and bytes). Edits change the tab's
//! form (saved with the profile) and reach a running session at once.

use std::net::SocketAddr;

use eframe::egui::{self, Color32, RichText};
use sockscope_core::codec::hex;
use sockscope_core::codec::payload::{InputMode, LineEnding};
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::script::{Run, Step};
use sockscope_core::rules::{Compare, Cond, Machine, Match, ReplySpec, ReplyTo, Rule, rule_label};

use super::state::{TabUi, UiAction};

/// What the two windows hold besides the rules themselves.
#[derive(Default)]
pub struct AutomationView {
    /// The Rules window is open.
    pub rules_open: bool,
    /// The Scripts window is open.
    pub scripts_open: bool,
    /// The rule being edited.
    pub selected: usize,
    /// The inline test's input.
    pub test_input: String,
    /// The inline test's input is hex.
    pub test_hex: bool,
    /// An advanced condition as RON while it is typed (it may not parse yet), for this rule.
    advanced: Option<(usize, String)>,
    /// "Try on the log": what fired over the held records.
    tried: Option<String>,
    /// The script being edited.
    pub script: usize,
    /// Its steps as RON while typed, for this script.
    steps_text: Option<(usize, String)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Always,
    Text,
    Bytes,
    Regex,
    BytesRegex,
    Length,
    Int,
    From,
    State,
    Expr,
    Advanced,
}

const KINDS: [(Kind, S); 11] = [
    (Kind::Always, S::CondAlways),
    (Kind::Text, S::CondText),
    (Kind::Bytes, S::CondBytes),
    (Kind::Regex, S::CondRegex),
    (Kind::BytesRegex, S::CondBytesRegex),
    (Kind::Length, S::CondLength),
    (Kind::Int, S::CondInt),
    (Kind::From, S::CondFrom),
    (Kind::State, S::CondState),
    (Kind::Expr, S::CondExpr),
    (Kind::Advanced, S::CondAdvanced),
];

fn kind_of(cond: &Cond) -> Kind {
    match cond {
        Cond::Always => Kind::Always,
        Cond::Text(..) => Kind::Text,
        Cond::Bytes(..) => Kind::Bytes,
        Cond::Regex(_) => Kind::Regex,
        Cond::BytesRegex(_) => Kind::BytesRegex,
        Cond::Length(..) => Kind::Length,
        Cond::Int(..) => Kind::Int,
        Cond::From(_) => Kind::From,
        Cond::State(_) => Kind::State,
        Cond::Expr(_) => Kind::Expr,
        Cond::All(_) | Cond::Any(_) | Cond::Not(_) | Cond::Masked(..) | Cond::Checksum(..) => {
            Kind::Advanced
        }
    }
}

fn default_for(kind: Kind, old: &Cond) -> Cond {
    match kind {
        Kind::Always => Cond::Always,
        Kind::Text => Cond::Text(Match::Exact, String::new()),
        Kind::Bytes => Cond::Bytes(Match::Prefix, String::new()),
        Kind::Regex => Cond::Regex(String::new()),
        Kind::BytesRegex => Cond::BytesRegex(String::new()),
        Kind::Length => Cond::Length(1, 1024),
        Kind::Int => Cond::Int(0, "u8".into(), Compare::Eq(0)),
        Kind::From => Cond::From(String::new()),
        Kind::State => Cond::State(String::new()),
        Kind::Expr => Cond::Expr(String::new()),
        // The old condition, inside an All: the user adds the others.
        Kind::Advanced => Cond::All(vec![old.clone()]),
    }
}

const MATCHES: [(Match, S); 4] = [
    (Match::Exact, S::MatchExact),
    (Match::Contains, S::MatchContains),
    (Match::Prefix, S::MatchPrefix),
    (Match::Suffix, S::MatchSuffix),
];

const INT_TYPES: [&str; 14] = [
    "u8", "i8", "u16be", "u16le", "i16be", "i16le", "u32be", "u32le", "i32be", "i32le", "u64be",
    "u64le", "i64be", "i64le",
];

/// The settings column's group: rules on or off, how many fired, and the two windows.
pub fn automation_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    egui::CollapsingHeader::new(RichText::new(t(S::Automation)).strong())
        .id_salt("automation")
        .default_open(true)
        .show(ui, |ui| {
            let automation = &mut tab.form.automation;
            let on = ui
                .checkbox(&mut automation.enabled, t(S::AutoReply))
                .on_hover_text(t(S::TipAutoReply));
            super::testhook::tag(ui, &on, "rules.enabled");
            if on.changed() {
                actions.push(UiAction::ApplyRules);
            }
            let hits: u64 = tab.capture.rule_hits.values().map(|h| h.count).sum();
            ui.label(RichText::new(tf(S::RulesSummary, &[&automation.rules.len(), &hits])).weak());
            ui.horizontal(|ui| {
                let rules = ui.button(t(S::EditRules)).on_hover_text(t(S::TipEditRules));
                super::testhook::tag(ui, &rules, "rules.open");
                if rules.clicked() {
                    actions.push(UiAction::ShowRules);
                }
                let scripts = ui
                    .button(tf(S::EditScripts, &[&automation.scripts.len()]))
                    .on_hover_text(t(S::TipEditScripts));
                super::testhook::tag(ui, &scripts, "scripts.open");
                if scripts.clicked() {
                    actions.push(UiAction::ShowScripts);
                }
            });
        });
}

/// The Rules and Scripts windows of the tab, when open.
pub fn windows_ui(ctx: &egui::Context, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    if tab.view.automation.rules_open {
        let mut open = true;
        egui::Window::new(t(S::RulesTitle))
            .id(egui::Id::unique("rules_window"))
            .open(&mut open)
            .default_size([760.0, 520.0])
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .resizable(true)
            .show(ctx, |ui| rules_window_ui(ui, tab, actions));
        tab.view.automation.rules_open &= open;
    }
    if tab.view.automation.scripts_open {
        let mut open = true;
        egui::Window::new(t(S::ScriptsTitle))
            .id(egui::Id::unique("scripts_window"))
            .open(&mut open)
            .default_size([760.0, 520.0])
            .pivot(egui::Align2::CENTER_CENTER)
            .default_pos(ctx.content_rect().center())
            .resizable(true)
            .show(ctx, |ui| scripts_window_ui(ui, tab, actions));
        tab.view.automation.scripts_open &= open;
    }
}

fn error_text(ui: &mut egui::Ui, text: &str) {
    ui.label(RichText::new(text).color(ui.visuals().error_fg_color));
}

fn rules_window_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let encoding = tab.form.encoding;
    let compiled = Machine::compile(&tab.form.automation, encoding);
    let bad_rule = compiled.as_ref().err().and_then(|e| e.rule);
    let mut changed = false;
    ui.horizontal(|ui| {
        changed |= ui
            .checkbox(&mut tab.form.automation.enabled, t(S::AutoReply))
            .changed();
        if !tab.form.automation.state.is_empty() {
            ui.label(RichText::new(tf(S::RulesState, &[&tab.form.automation.state])).weak());
        }
    });
    if let Err(error) = &compiled
        && error.rule.is_none()
    {
        error_text(ui, &error.message);
    }
    ui.separator();
    let view = &mut tab.view.automation;
    view.selected = view
        .selected
        .min(tab.form.automation.rules.len().saturating_sub(1));
    egui::Panel::left("rules_list")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| {
            changed |= rule_list_ui(ui, tab, bad_rule);
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let index = tab.view.automation.selected;
                if tab.form.automation.rules.get(index).is_some() {
                    changed |= rule_editor_ui(ui, tab, index);
                    if let Err(error) = &compiled
                        && error.rule == Some(index)
                    {
                        error_text(ui, &error.message);
                    }
                } else {
                    ui.label(RichText::new(t(S::NoRules)).weak());
                }
                ui.separator();
                test_ui(ui, tab);
            });
    });
    if changed {
        actions.push(UiAction::ApplyRules);
    }
}

/// The list: each rule with its switch, name and hits; add, duplicate, delete, move.
fn rule_list_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, bad_rule: Option<usize>) -> bool {
    let mut changed = false;
    let now = std::time::SystemTime::now();
    ui.horizontal(|ui| {
        let add = ui.button(t(S::AddRule)).on_hover_text(t(S::TipAddRule));
        super::testhook::tag(ui, &add, "rules.add");
        if add.clicked() {
            let rules = &mut tab.form.automation.rules;
            rules.push(Rule {
                name: tf(S::RuleNumbered, &[&(rules.len() + 1)]),
                when: Cond::Text(Match::Exact, String::new()),
                reply: Some(ReplySpec::default()),
                ..Rule::default()
            });
            tab.view.automation.selected = rules.len() - 1;
            tab.form.automation.enabled = true;
            changed = true;
        }
        let index = tab.view.automation.selected;
        let rules = &mut tab.form.automation.rules;
        ui.add_enabled_ui(index < rules.len(), |ui| {
            if ui
                .button(t(S::DuplicateRule))
                .on_hover_text(t(S::TipDuplicateRule))
                .clicked()
                && let Some(rule) = rules.get(index).cloned()
            {
                rules.insert(index + 1, rule);
                tab.view.automation.selected = index + 1;
                changed = true;
            }
            if ui.button("↑").on_hover_text(t(S::TipMoveUp)).clicked() && index > 0 {
                rules.swap(index, index - 1);
                tab.view.automation.selected = index - 1;
                changed = true;
            }
            if ui.button("↓").on_hover_text(t(S::TipMoveDown)).clicked() && index + 1 < rules.len()
            {
                rules.swap(index, index + 1);
                tab.view.automation.selected = index + 1;
                changed = true;
            }
            let delete = ui
                .button(t(S::DeleteRule))
                .on_hover_text(t(S::TipDeleteRule));
            super::testhook::tag(ui, &delete, "rules.delete");
            if delete.clicked() && index < rules.len() {
                rules.remove(index);
                changed = true;
            }
        });
    });
    ui.separator();
    egui::ScrollArea::vertical().show(ui, |ui| {
        for (i, rule) in tab.form.automation.rules.iter_mut().enumerate() {
            ui.horizontal(|ui| {
                let label = rule_label(rule, i);
                let on = ui.checkbox(&mut rule.enabled, "");
                let checked = rule.enabled;
                on.widget_info(|| {
                    egui::WidgetInfo::selected(
                        egui::accesskit::Role::CheckBox,
                        true,
                        checked,
                        tf(S::RuleOn, &[&label]),
                    )
                });
                changed |= on.changed();
                let mut name = label;
                if bad_rule == Some(i) {
                    name = format!("⚠ {name}");
                }
                let hits = tab.capture.rule_hits.get(&rule.id);
                let picked = ui.selectable_label(tab.view.automation.selected == i, name);
                super::testhook::tag(ui, &picked, &format!("rules.row.{i}"));
                if picked.clicked() {
                    tab.view.automation.selected = i;
                }
                if let Some(hits) = hits {
                    let ago = hits.last.map(|at| super::settings::age_text(at, now));
                    let text = match ago {
                        Some(ago) => format!("{} × · {ago}", hits.count),
                        None => format!("{} ×", hits.count),
                    };
                    ui.label(RichText::new(text).weak());
                }
            });
        }
    });
    changed
}

/// The selected rule's fields.
fn rule_editor_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, index: usize) -> bool {
    let mut changed = false;
    // How the session shows bytes (two settings, not a copy of the whole form each frame).
    let form = Show::of(tab.form);
    let Some(rule) = tab.form.automation.rules.get_mut(index) else {
        return false;
    };
    let form = &form;
    egui::Grid::new("rule_editor")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            let label = ui.label(t(S::RuleName));
            let name = ui
                .add(egui::TextEdit::singleline(&mut rule.name).desired_width(260.0))
                .labelled_by(label.id);
            super::testhook::tag(ui, &name, "rule.name");
            changed |= name.changed();
            ui.end_row();

            let when = ui.label(t(S::RuleWhen)).id;
            ui.vertical(|ui| {
                let advanced = &mut tab.view.automation.advanced;
                changed |= cond_ui(ui, &mut rule.when, (index, when), advanced);
            });
            ui.end_row();

            let then = ui.label(t(S::RuleReply)).id;
            ui.vertical(|ui| changed |= reply_ui(ui, rule, then, form));
            ui.end_row();
        });
    changed
}

fn match_combo(ui: &mut egui::Ui, id: &str, op: &mut Match, label: egui::Id) -> bool {
    let mut changed = false;
    let shown = MATCHES
        .iter()
        .find(|(m, _)| m == op)
        .map_or("", |(_, s)| t(*s));
    egui::ComboBox::from_id_salt(id)
        .selected_text(shown)
        .show_ui(ui, |ui| {
            for (m, s) in MATCHES {
                changed |= ui.selectable_value(op, m, t(s)).changed();
            }
        })
        .response
        .labelled_by(label);
    changed
}

fn text_field(
    ui: &mut egui::Ui,
    text: &mut String,
    (hint, label): (&str, egui::Id),
    tag: &str,
) -> bool {
    let field = ui
        .add(
            egui::TextEdit::singleline(text)
                .hint_text(hint)
                .font(egui::TextStyle::Monospace)
                .desired_width(300.0),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, tag);
    field.changed()
}

/// One condition: its kind, then the kind's fields; all/any/not and the rarer kinds as RON.
fn cond_ui(
    ui: &mut egui::Ui,
    cond: &mut Cond,
    (index, label): (usize, egui::Id),
    advanced: &mut Option<(usize, String)>,
) -> bool {
    let mut changed = false;
    let kind = kind_of(cond);
    let mut picked = kind;
    let shown = KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, s)| t(*s));
    egui::ComboBox::from_id_salt("cond_kind")
        .selected_text(shown)
        .width(220.0)
        .show_ui(ui, |ui| {
            for (k, s) in KINDS {
                ui.selectable_value(&mut picked, k, t(s));
            }
        })
        .response
        .labelled_by(label);
    if picked != kind {
        *cond = default_for(picked, cond);
        *advanced = None;
        changed = true;
    }
    match cond {
        Cond::Always => {}
        Cond::Text(op, text) => {
            ui.horizontal(|ui| {
                changed |= match_combo(ui, "cond_match", op, label);
                changed |= text_field(ui, text, ("AT+CSQ", label), "cond.text");
            });
        }
        Cond::Bytes(op, text) => {
            ui.horizontal(|ui| {
                changed |= match_combo(ui, "cond_match", op, label);
                changed |= text_field(ui, text, ("01 03 ?? ??", label), "cond.bytes");
            });
        }
        Cond::Regex(text) => {
            changed |= text_field(ui, text, (r"^T=(\d+)$", label), "cond.regex");
        }
        Cond::BytesRegex(text) => {
            changed |= text_field(ui, text, (r"^\x01\x03", label), "cond.bregex");
        }
        Cond::From(text) => {
            changed |= text_field(ui, text, ("192.168.1.0/24, :502", label), "cond.from");
        }
        Cond::State(text) => {
            changed |= text_field(ui, text, ("LOGGED_IN", label), "cond.state");
        }
        Cond::Expr(text) => {
            changed |= text_field(
                ui,
                text,
                ("rx.u16be@8 + rx.u16be@10 > 100", label),
                "cond.expr",
            );
        }
        Cond::Length(min, max) => {
            ui.horizontal(|ui| {
                ui.label(t(S::RuleMin));
                changed |= ui
                    .add(egui::DragValue::new(min).range(0..=usize::MAX))
                    .changed();
                ui.label(t(S::RuleMax));
                changed |= ui
                    .add(egui::DragValue::new(max).range(0..=usize::MAX))
                    .changed();
            });
        }
        Cond::Int(at, ty, is) => changed |= int_ui(ui, at, ty, is),
        Cond::All(_) | Cond::Any(_) | Cond::Not(_) | Cond::Masked(..) | Cond::Checksum(..) => {
            changed |= advanced_ui(ui, cond, (index, label), advanced);
        }
    }
    changed
}

fn int_ui(ui: &mut egui::Ui, at: &mut usize, ty: &mut String, is: &mut Compare) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label(t(S::RuleOffset));
        changed |= ui.add(egui::DragValue::new(at).range(0..=65_535)).changed();
        egui::ComboBox::from_id_salt("int_type")
            .selected_text(ty.as_str())
            .show_ui(ui, |ui| {
                for name in INT_TYPES {
                    changed |= ui.selectable_value(ty, name.to_owned(), name).changed();
                }
            })
            .response
            .on_hover_text(t(S::RuleIntType));
        let ops: [(&str, Compare); 8] = [
            ("=", Compare::Eq(0)),
            ("≠", Compare::Ne(0)),
            ("<", Compare::Lt(0)),
            ("≤", Compare::Le(0)),
            (">", Compare::Gt(0)),
            ("≥", Compare::Ge(0)),
            ("a..b", Compare::Range(0, 0)),
            ("∈", Compare::In(Vec::new())),
        ];
        let current = std::mem::discriminant(&*is);
        let shown = ops
            .iter()
            .find(|(_, c)| std::mem::discriminant(c) == current)
            .map_or("=", |(s, _)| *s);
        egui::ComboBox::from_id_salt("int_cmp")
            .selected_text(shown)
            .width(50.0)
            .show_ui(ui, |ui| {
                for (label, op) in ops {
                    if ui
                        .selectable_label(std::mem::discriminant(&op) == current, label)
                        .clicked()
                    {
                        *is = op;
                        changed = true;
                    }
                }
            });
        match is {
            Compare::Eq(v)
            | Compare::Ne(v)
            | Compare::Lt(v)
            | Compare::Le(v)
            | Compare::Gt(v)
            | Compare::Ge(v) => changed |= ui.add(egui::DragValue::new(v)).changed(),
            Compare::Range(lo, hi) => {
                changed |= ui.add(egui::DragValue::new(lo)).changed();
                ui.label("..=");
                changed |= ui.add(egui::DragValue::new(hi)).changed();
            }
            Compare::In(set) => {
                let mut text = set
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                if ui
                    .add(egui::TextEdit::singleline(&mut text).desired_width(120.0))
                    .changed()
                {
                    *set = text
                        .split(',')
                        .filter_map(|s| s.trim().parse().ok())
                        .collect();
                    changed = true;
                }
            }
        }
    });
    changed
}

/// A condition as RON text, parsed as typed; the error says where it stops parsing.
fn advanced_ui(
    ui: &mut egui::Ui,
    cond: &mut Cond,
    (index, label): (usize, egui::Id),
    advanced: &mut Option<(usize, String)>,
) -> bool {
    if advanced.as_ref().is_none_or(|(i, _)| *i != index) {
        *advanced = Some((index, sockscope_core::rules::to_text(&*cond, usize::MAX)));
    }
    let Some((_, text)) = advanced.as_mut() else {
        return false;
    };
    let field = ui
        .add(
            egui::TextEdit::multiline(text)
                .font(egui::TextStyle::Monospace)
                .desired_rows(5)
                .desired_width(420.0),
        )
        .on_hover_text(t(S::TipCondRon))
        .labelled_by(label);
    super::testhook::tag(ui, &field, "cond.ron");
    match sockscope_core::rules::from_text::<Cond>(text) {
        Ok(parsed) => {
            if field.changed() && parsed != *cond {
                *cond = parsed;
                return true;
            }
        }
        Err(why) => error_text(ui, &why),
    }
    false
}

fn reply_ui(ui: &mut egui::Ui, rule: &mut Rule, label: egui::Id, form: &Show) -> bool {
    let mut changed = false;
    let mut on = rule.reply.is_some();
    if ui.checkbox(&mut on, t(S::RuleReplies)).changed() {
        rule.reply = on.then(ReplySpec::default);
        changed = true;
    }
    if let Some(reply) = &mut rule.reply {
        changed |= payload_ui(ui, reply, label, form);
    }
    changed | target_ui(ui, rule)
}

/// The reply's payload: mode, line ending, the template, and its bytes when they are fixed.
fn payload_ui(ui: &mut egui::Ui, reply: &mut ReplySpec, label: egui::Id, form: &Show) -> bool {
    let mut changed = false;
    {
        ui.horizontal(|ui| {
            for (mode, label) in [
                (InputMode::Text, S::Text),
                (InputMode::Hex, S::Hex),
                (InputMode::Escapes, S::Escapes),
            ] {
                changed |= ui
                    .selectable_value(&mut reply.mode, mode, t(label))
                    .changed();
            }
            let label = ui.label(t(S::LineEnd)).id;
            egui::ComboBox::from_id_salt("reply_line_ending")
                .selected_text(reply.line_ending.name())
                .width(70.0)
                .show_ui(ui, |ui| {
                    for ending in LineEnding::ALL {
                        changed |= ui
                            .selectable_value(&mut reply.line_ending, ending, ending.name())
                            .changed();
                    }
                })
                .response
                .labelled_by(label);
        });
        let payload = ui
            .add(
                egui::TextEdit::multiline(&mut reply.payload)
                    .font(egui::TextStyle::Monospace)
                    .desired_rows(2)
                    .desired_width(420.0)
                    .hint_text("{{rx[0..4]}} 00 06 {{rx[6..8]}}"),
            )
            .on_hover_text(t(S::TipReplyTemplate))
            .labelled_by(label);
        super::testhook::tag(ui, &payload, "rule.reply");
        changed |= payload.changed();
        // Like the send box: the exact bytes, when they do not depend on the request.
        match sockscope_core::rules::template::Template::compile(reply, form.encoding) {
            Ok(template) if template.reads_request() => {
                ui.label(RichText::new(t(S::ReplyDependsOnRequest)).weak());
            }
            Ok(template) => {
                if let Ok(bytes) = sockscope_core::rules::template::preview(
                    &template,
                    std::time::SystemTime::now(),
                ) {
                    let preview = ui.label(
                        RichText::new(tf(S::ReplyWire, &[&hex::format(&bytes)]))
                            .monospace()
                            .weak(),
                    );
                    super::testhook::tag(ui, &preview, "rule.preview");
                }
            }
            Err(why) => error_text(ui, &why),
        }
    }
    changed
}

/// Where the reply goes, when, and what follows it.
fn target_ui(ui: &mut egui::Ui, rule: &mut Rule) -> bool {
    let mut changed = false;
    ui.horizontal(|ui| {
        ui.label(t(S::RuleTo));
        changed |= ui
            .selectable_value(&mut rule.to, ReplyTo::Sender, t(S::ReplyToSender))
            .changed();
        changed |= ui
            .selectable_value(&mut rule.to, ReplyTo::All, t(S::ReplyToAll))
            .changed();
        let one = matches!(rule.to, ReplyTo::Peer(_));
        if ui
            .selectable_label(one, t(S::ReplyToPeer))
            .on_hover_text(t(S::TipReplyToOnePeer))
            .clicked()
            && !one
        {
            rule.to = ReplyTo::Peer(String::new());
            changed = true;
        }
        if let ReplyTo::Peer(peer) = &mut rule.to {
            changed |= ui
                .add(
                    egui::TextEdit::singleline(peer)
                        .desired_width(150.0)
                        .hint_text("192.168.1.20:5000"),
                )
                .changed();
        }
        ui.label(t(S::RuleDelay));
        changed |= ui
            .add(
                egui::DragValue::new(&mut rule.delay_ms)
                    .range(0..=3_600_000)
                    .suffix(" ms"),
            )
            .changed();
    });
    ui.horizontal(|ui| {
        ui.label(t(S::RuleSetState));
        let mut state = rule.set_state.clone().unwrap_or_default();
        if ui
            .add(
                egui::TextEdit::singleline(&mut state)
                    .desired_width(120.0)
                    .hint_text("—"),
            )
            .changed()
        {
            rule.set_state = (!state.is_empty()).then_some(state);
            changed = true;
        }
        changed |= ui.checkbox(&mut rule.close, t(S::RuleClose)).changed();
        changed |= ui
            .checkbox(&mut rule.next, t(S::RuleNext))
            .on_hover_text(t(S::TipRuleNext))
            .changed();
    });
    changed
}

/// How the session shows received data.
struct Show {
    hex: bool,
    encoding: sockscope_core::codec::TextEncoding,
}

impl Show {
    fn of(form: &sockscope_core::profile::Form) -> Self {
        Self {
            hex: form.rx_hex,
            encoding: form.encoding,
        }
    }
}

/// Bytes as the session shows received data: hex, or text in its encoding.
fn shown(bytes: &[u8], form: &Show) -> String {
    if form.hex {
        hex::format(bytes)
    } else {
        let text = form.encoding.decode_complete(bytes);
        format!("“{}”", sockscope_core::codec::text::one_line(&text))
    }
}

/// Paste a request, see which rule fires and the exact reply; or run the rules over the log.
fn test_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let encoding = tab.form.encoding;
    let view = &mut tab.view.automation;
    let label = ui
        .horizontal(|ui| {
            let label = ui.label(t(S::RuleTest));
            ui.selectable_value(&mut view.test_hex, false, t(S::Text));
            ui.selectable_value(&mut view.test_hex, true, t(S::Hex));
            label.id
        })
        .inner;
    let field = ui
        .add(
            egui::TextEdit::singleline(&mut view.test_input)
                .font(egui::TextStyle::Monospace)
                .desired_width(f32::INFINITY)
                .hint_text(if view.test_hex {
                    "01 03 00 00 00 0A"
                } else {
                    "AT+CSQ"
                }),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, "rules.test");
    let bytes = if view.test_hex {
        hex::parse(&view.test_input).map_err(|e| e.to_string())
    } else {
        sockscope_core::codec::escape::parse(&view.test_input, encoding).map_err(|e| e.to_string())
    };
    let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
    match bytes {
        Err(why) => error_text(ui, &why),
        Ok(bytes) if !bytes.is_empty() => {
            let start = sockscope_core::rules::Start::default();
            match Ok::<_, ()>(
                Machine::test(&tab.form.automation, encoding, &bytes, peer, &start).fired,
            ) {
                Err(()) => {}
                Ok(fired) if fired.is_empty() => {
                    ui.label(RichText::new(t(S::RuleTestNone)).weak());
                }
                Ok(fired) => {
                    for f in fired {
                        let name = tab
                            .form
                            .automation
                            .rules
                            .get(f.rule)
                            .map(|r| rule_label(r, f.rule))
                            .unwrap_or_default();
                        let line = ui.label(RichText::new(tf(S::RuleTestFires, &[&name])).strong());
                        super::testhook::tag(ui, &line, "rules.test.fired");
                        match (&f.reply, &f.error) {
                            (_, Some(error)) => error_text(ui, error),
                            (Some(reply), None) => {
                                let reply = ui.label(
                                    RichText::new(tf(
                                        S::RuleTestReply,
                                        &[&shown(reply, &Show::of(tab.form))],
                                    ))
                                    .monospace(),
                                );
                                super::testhook::tag(ui, &reply, "rules.test.reply");
                            }
                            (None, None) => {
                                ui.label(RichText::new(t(S::RuleTestNoReply)).weak());
                            }
                        }
                    }
                }
            }
        }
        Ok(_) => {}
    }
    ui.horizontal(|ui| {
        if ui
            .button(t(S::TryOnLog))
            .on_hover_text(t(S::TipTryOnLog))
            .clicked()
        {
            tab.view.automation.tried = Some(try_on_log(tab));
        }
        if let Some(tried) = &tab.view.automation.tried {
            ui.label(tried.as_str());
        }
    });
}

/// The rules over the received records the log holds (at most the last 100,000): how often
/// each would have fired. Nothing is sent.
fn try_on_log(tab: &TabUi<'_>) -> String {
    let encoding = tab.form.encoding;
    let mut machine = match Machine::compile(&tab.form.automation, encoding) {
        Ok(m) => m,
        Err(e) => return e.message,
    };
    let (mut counter, mut seen, mut none) = (1, 0usize, 0usize);
    let held = tab.capture.log.len();
    for record in tab.capture.log.iter().skip(held.saturating_sub(100_000)) {
        if record.kind != sockscope_core::capture::RecordKind::Rx {
            continue;
        }
        seen += 1;
        let peer = record.peer.unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)));
        let fired = machine.fire(record.bytes, peer, &mut counter, 1, record.at);
        if fired.is_empty() {
            none += 1;
        }
    }
    let mut parts: Vec<String> = tab
        .form
        .automation
        .rules
        .iter()
        .enumerate()
        .filter_map(|(i, rule)| {
            let count = machine.hits().get(i).map_or(0, |h| h.count);
            (count > 0).then(|| format!("{} × {count}", rule_label(rule, i)))
        })
        .collect();
    parts.push(tf(S::TryNone, &[&none]));
    tf(S::TryOnLogResult, &[&seen, &parts.join(", ")])
}

fn scripts_window_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    let scripts = &mut tab.form.automation.scripts;
    let view = &mut tab.view.automation;
    view.script = view.script.min(scripts.len().saturating_sub(1));
    ui.horizontal(|ui| {
        let add = ui.button(t(S::AddScript));
        super::testhook::tag(ui, &add, "scripts.add");
        if add.clicked() {
            scripts.push(sockscope_core::rules::script::Script {
                name: tf(S::ScriptNumbered, &[&(scripts.len() + 1)]),
                steps: vec![
                    Step::Send(ReplySpec {
                        payload: "AT".into(),
                        line_ending: LineEnding::CrLf,
                        ..ReplySpec::default()
                    }),
                    Step::Expect {
                        when: Cond::Text(Match::Prefix, "OK".into()),
                        timeout_ms: 1000,
                    },
                ],
            });
            view.script = scripts.len() - 1;
            view.steps_text = None;
        }
        for (i, script) in scripts.iter().enumerate() {
            if ui
                .selectable_label(view.script == i, &script.name)
                .clicked()
            {
                view.script = i;
                view.steps_text = None;
            }
        }
    });
    let index = view.script;
    let Some(script) = scripts.get_mut(index) else {
        ui.label(RichText::new(t(S::NoScripts)).weak());
        return;
    };
    ui.separator();
    let mut delete = false;
    ui.horizontal(|ui| {
        let label = ui.label(t(S::RuleName)).id;
        ui.add(egui::TextEdit::singleline(&mut script.name).desired_width(260.0))
            .labelled_by(label);
        delete = ui
            .button(t(S::DeleteRule))
            .on_hover_text(t(S::TipDeleteScript))
            .clicked();
    });
    if delete {
        scripts.remove(index);
        view.steps_text = None;
        return;
    }
    let valid = steps_ui(ui, script, index, &mut view.steps_text, tab.form.encoding);
    ui.horizontal(|ui| {
        let running = tab
            .capture
            .script
            .as_ref()
            .is_some_and(|r| r.passed.is_none());
        let can = valid && tab.is_open() && !running;
        let run = ui.add_enabled(can, egui::Button::new(t(S::RunScript)));
        super::testhook::tag(ui, &run, "script.run");
        if run.clicked() {
            actions.push(UiAction::RunScript(index));
        }
        if running && ui.button(t(S::StopScript)).clicked() {
            actions.push(UiAction::StopScript);
        }
        if !tab.is_open() {
            ui.label(RichText::new(t(S::ScriptNotOpen)).weak());
        }
    });
    report_ui(ui, tab);
}

/// A script's steps as RON, parsed as typed; true when they parse and compile.
fn steps_ui(
    ui: &mut egui::Ui,
    script: &mut sockscope_core::rules::script::Script,
    index: usize,
    steps_text: &mut Option<(usize, String)>,
    encoding: sockscope_core::codec::TextEncoding,
) -> bool {
    if steps_text.as_ref().is_none_or(|(i, _)| *i != index) {
        // One step a line: a step's parts stay on its line.
        *steps_text = Some((index, sockscope_core::rules::to_text(&script.steps, 1)));
    }
    let mut valid = false;
    if let Some((_, text)) = steps_text.as_mut() {
        let label = ui
            .label(t(S::ScriptSteps))
            .on_hover_text(t(S::TipScriptSteps))
            .id;
        // A long script scrolls inside its box: the window stays on the screen.
        let field = egui::ScrollArea::vertical()
            .id_salt("script_steps_text")
            .max_height(220.0)
            .show(ui, |ui| {
                ui.add(
                    egui::TextEdit::multiline(text)
                        .font(egui::TextStyle::Monospace)
                        .desired_rows(8)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label)
            })
            .inner;
        super::testhook::tag(ui, &field, "script.steps");
        match sockscope_core::rules::from_text::<Vec<Step>>(text) {
            Ok(steps) => {
                if field.changed() {
                    script.steps = steps;
                }
                match Run::compile(script, encoding) {
                    Ok(_) => valid = true,
                    Err(why) => error_text(ui, &why),
                }
            }
            Err(why) => error_text(ui, &why),
        }
    }
    valid
}

/// The last run: every step √, × or waiting, with its time and bytes; the failure in red.
fn report_ui(ui: &mut egui::Ui, tab: &TabUi<'_>) {
    let Some(report) = &tab.capture.script else {
        return;
    };
    ui.separator();
    let verdict = match report.passed {
        None => RichText::new(tf(S::ScriptRunning, &[&report.name])),
        Some(true) => RichText::new(tf(S::ScriptPassedShort, &[&report.name]))
            .color(Color32::from_rgb(0, 150, 60)),
        Some(false) => RichText::new(tf(S::ScriptFailedShort, &[&report.name]))
            .color(ui.visuals().error_fg_color),
    };
    let verdict = ui.label(verdict.strong());
    super::testhook::tag(ui, &verdict, "script.verdict");
    egui::ScrollArea::vertical()
        .id_salt("script_report")
        .max_height(260.0)
        .show(ui, |ui| {
            egui::Grid::new("script_steps")
                .striped(true)
                .show(ui, |ui| {
                    for (i, label) in report.steps.iter().enumerate() {
                        let result = report.results.iter().find(|r| r.index == i);
                        let (mark, color) = match result {
                            // The log's verify badges: the bundled font has these on every OS.
                            Some(r) if r.ok => ("√", Color32::from_rgb(0, 150, 60)),
                            Some(_) => ("×", ui.visuals().error_fg_color),
                            None => ("·", ui.visuals().weak_text_color()),
                        };
                        ui.label(RichText::new(mark).color(color).strong());
                        ui.label(format!("{}", i + 1));
                        let mut text = RichText::new(label).monospace();
                        if result.is_some_and(|r| !r.ok) {
                            text = text.color(ui.visuals().error_fg_color);
                        }
                        ui.label(text);
                        match result {
                            Some(r) => {
                                ui.label(format!("{:.1} ms", r.took.as_secs_f64() * 1000.0));
                                let mut detail = r.detail.clone().unwrap_or_default();
                                if let Some(bytes) = r.bytes.as_deref().filter(|b| !b.is_empty()) {
                                    if !detail.is_empty() {
                                        detail.push_str(" — ");
                                    }
                                    detail.push_str(&shown(bytes, &Show::of(tab.form)));
                                }
                                ui.label(RichText::new(detail).monospace());
                            }
                            None => {
                                ui.label("");
                                ui.label("");
                            }
                        }
                        ui.end_row();
                    }
                });
        });
}
