//! The Automation group of the settings column and the Rules window (自动应答): a list, an
//! editor with live validation and a reply preview, the tables, an inline test and "Try on
//! the log". The Scripts window is `script_ui`. Edits change the tab's form (saved with the
//! profile) and reach a running session at once; the running rules keep their tables, states
//! and counts through edits.
//!
//! Everything the editor keeps besides the rules (a condition typed as text, a number list as
//! typed) belongs to one rule by its id: after a delete or a move the editor shows the
//! selected rule's own fields, and nothing changes until the user changes it.

use std::net::SocketAddr;

use eframe::egui::{self, RichText};
use sockscope_core::codec::hex;
use sockscope_core::codec::payload::InputMode;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::{
    Cond, Fired, Keep, Machine, Match, ReplySpec, ReplyTo, Rule, RuleError, Start, StateScope,
    TableWrite, rule_label,
};

use super::cond_ui::{CondCx, Show, cond_ui, error_text, payload_ui, ron_ui, shown};
use super::model::{RulesAction, Running, Tried, Undo};
use super::state::{TabUi, UiAction};
use super::widgets::mark_bad_field;
use sockscope_core::rules::expr::Expr;
use sockscope_core::rules::template::Template;

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

/// Where a tool window starts: over the log (the right of the window, clear of the settings
/// column and its Connect button when there is room), centred from top to bottom, at most
/// `size`; its top-left corner stays where it is from then on (a window that grew around its
/// centre slid off the screen's left edge when its results grew).
pub fn window_place(ctx: &egui::Context, size: egui::Vec2) -> (egui::Pos2, egui::Vec2, egui::Vec2) {
    // Below the tab bar and the "Opened profile …" notice, so neither covers the title.
    const TOP: f32 = 96.0;
    let area = ctx.content_rect();
    let max = (area.size() - egui::vec2(16.0, TOP + 12.0)).max(egui::vec2(320.0, 240.0));
    let size = size.min(max);
    let pos = egui::pos2(
        area.right() - size.x - 12.0,
        (area.center().y - size.y / 2.0).max(area.top() + TOP),
    )
    .max(area.min + egui::vec2(8.0, 32.0));
    (pos, size, max)
}

/// The Rules and Scripts windows of the tab, when open.
pub fn windows_ui(ctx: &egui::Context, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    // Ctrl+Z brings back the last rule, script or step deleted, unless a text field has the
    // keyboard (its own undo).
    let automation = &tab.view.automation;
    if (automation.rules_open || automation.scripts_open)
        && automation.undo.is_some()
        && !ctx.egui_wants_keyboard_input()
        && ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Z))
        && tab.view.automation.undo_last(&mut tab.form.automation)
    {
        actions.push(UiAction::ApplyRules);
    }
    if tab.view.automation.rules_open {
        let mut open = true;
        // As tall as the main window lets it be: the editor and the test share the height
        // (at 1920×1080 a 560-point window left the editor 200 points tall).
        let (pos, size, max) = window_place(ctx, egui::vec2(820.0, f32::INFINITY));
        egui::Window::new(t(S::RulesTitle))
            .id(egui::Id::unique("rules_window"))
            .open(&mut open)
            .default_pos(pos)
            .default_size(size)
            .max_size(max)
            .constrain(true)
            .resizable(true)
            .show(ctx, |ui| {
                rules_window_ui(ui, tab, actions);
                super::testhook::tag_rect(ui, ui.min_rect(), "rules.window");
            });
        tab.view.automation.rules_open &= open;
    }
    if tab.view.automation.scripts_open {
        let mut open = true;
        let (pos, size, max) = window_place(ctx, egui::vec2(780.0, f32::INFINITY));
        egui::Window::new(t(S::ScriptsTitle))
            .id(egui::Id::unique("scripts_window"))
            .open(&mut open)
            .default_pos(pos)
            .default_size(size)
            .max_size(max)
            .constrain(true)
            .resizable(true)
            .show(ctx, |ui| {
                super::script_ui::scripts_window_ui(ui, tab, actions);
                super::testhook::tag_rect(ui, ui.min_rect(), "scripts.window");
            });
        tab.view.automation.scripts_open &= open;
    }
}

fn rules_window_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    tab.form.automation.ensure_ids();
    let encoding = tab.form.encoding;
    let protocol = super::protocol_pick::received(tab.form);
    let running =
        tab.view
            .automation
            .last_valid
            .running_for(&tab.form.automation, encoding, protocol);
    let errors = running.errors.clone();
    let mut changed = top_bar_ui(ui, tab, actions);
    // Undo and the rules' mistake share one line that is always there: nothing moves when
    // either comes or goes, and the editor keeps the height.
    ui.horizontal(|ui| {
        changed |= undo_bar_ui(ui, tab);
        status_line_ui(ui, tab, &running);
    });
    ui.separator();
    let view = &mut tab.view.automation;
    view.selected = view
        .selected
        .min(tab.form.automation.rules.len().saturating_sub(1));
    // The test stays on screen whatever the editor holds: a panel of its own at the bottom.
    egui::Panel::bottom("rules_test")
        .resizable(true)
        .default_size(200.0)
        .min_size(150.0)
        .show(ui, |ui| test_ui(ui, tab, &running));
    egui::Panel::left("rules_list")
        .resizable(true)
        .default_size(230.0)
        .show(ui, |ui| {
            changed |= rule_list_ui(ui, tab, &errors);
        });
    // A central panel's id counts the widgets before it: a warning that comes and goes
    // above would give every field a new id, and the field being typed in lost the keyboard
    // (seen in the real window: a regex typed "(u" stopped at the "(" that made it wrong).
    ui.push_id("rule_editor", |ui| {
        egui::CentralPanel::default().show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("rule_editor_scroll")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    if tab.view.automation.show_tables {
                        changed |= tables_ui(ui, tab, actions);
                        return;
                    }
                    let index = tab.view.automation.selected;
                    if tab.form.automation.rules.get(index).is_some() {
                        let error = errors.iter().find(|e| e.rule == Some(index));
                        let message = error.map(|e| e.message.clone());
                        let field = error.and_then(|e| e.field.clone());
                        changed |=
                            rule_editor_ui(ui, tab, index, message.as_deref(), field.as_deref());
                    } else {
                        ui.label(RichText::new(t(S::NoRules)).weak());
                    }
                });
        });
    });
    if changed {
        actions.push(UiAction::ApplyRules);
    }
}

/// One line, always there (an empty one when all is well), at the top where it is seen: a
/// table's mistake, or which rule has a mistake and what the running session does meanwhile
/// (its last valid version answers, or nothing; the other rules run as edited). A line that
/// came and went moved everything below it, and the window's new height took the keyboard
/// from the field being typed in.
fn status_line_ui(ui: &mut egui::Ui, tab: &TabUi<'_>, running: &Running) {
    let first_line = |text: &str| text.lines().next().unwrap_or_default().to_owned();
    let tables: Vec<String> = running
        .errors
        .iter()
        .filter(|e| e.rule.is_none())
        .map(|e| first_line(&e.message))
        .collect();
    let runs = tab.is_open() && tab.form.automation.active();
    let (text, color) = if !tables.is_empty() {
        (
            format!("⚠ {}", tables.join("; ")),
            ui.visuals().error_fg_color,
        )
    } else if let Some(held) = running.held.first() {
        let mistake = first_line(&held.message);
        let mut text = match (runs, held.previous) {
            (true, true) => tf(S::RuleHeldPrevious, &[&mistake]),
            (true, false) => tf(S::RuleHeldOff, &[&mistake]),
            (false, _) => mistake,
        };
        if running.held.len() > 1 {
            text.push_str(&tf(S::RulesMoreMistakes, &[&(running.held.len() - 1)]));
        }
        (format!("⚠ {text}"), ui.visuals().error_fg_color)
    } else if let Some((name, why)) =
        tab.form
            .automation
            .rules
            .iter()
            .enumerate()
            .find_map(|(i, rule)| {
                ui.data(|d| d.get_temp::<String>(pending_key(rule.id)))
                    .map(|why| (rule_label(rule, i), why))
            })
    {
        (
            format!("⚠ {}", tf(S::RuleDelayHeld, &[&name, &why])),
            ui.visuals().error_fg_color,
        )
    } else {
        (" ".to_owned(), ui.visuals().text_color())
    };
    let line = ui
        .add(egui::Label::new(RichText::new(&text).color(color)).truncate())
        .on_hover_text(&text);
    super::testhook::tag(ui, &line, "rules.status");
}

/// Auto-reply, whose state it is and what it is now, the resets, and the tables.
fn top_bar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) -> bool {
    let mut changed = false;
    let automation = &mut tab.form.automation;
    ui.horizontal_wrapped(|ui| {
        changed |= ui
            .checkbox(&mut automation.enabled, t(S::AutoReply))
            .changed();
        ui.separator();
        let scope = ui
            .label(t(S::StateScopeLabel))
            .on_hover_text(t(S::TipStateScope));
        for (value, name) in [
            (StateScope::Connection, S::StateScopeConnection),
            (StateScope::Session, S::StateScopeSession),
        ] {
            changed |= ui
                .selectable_value(&mut automation.state_scope, value, t(name))
                .on_hover_text(t(S::TipStateScope))
                .labelled_by(scope.id)
                .changed();
        }
        let start = ui.label(t(S::StartState)).id;
        changed |= ui
            .add(
                egui::TextEdit::singleline(&mut automation.state)
                    .desired_width(90.0)
                    .hint_text("—"),
            )
            .labelled_by(start)
            .changed();
        ui.separator();
        let tables = ui
            .selectable_label(
                tab.view.automation.show_tables,
                format!("{} ({})", t(S::Tables), automation.tables.len()),
            )
            .on_hover_text(t(S::TipTables));
        super::testhook::tag(ui, &tables, "rules.tables");
        if tables.clicked() {
            tab.view.automation.show_tables = !tab.view.automation.show_tables;
        }
        changed |= ui
            .checkbox(&mut automation.answer_partial, t(S::AnswerPartial))
            .on_hover_text(t(S::TipAnswerPartial))
            .changed();
    });
    ui.horizontal_wrapped(|ui| {
        let live = live_states_text(tab);
        let now = ui.add(egui::Label::new(RichText::new(live).weak()).wrap());
        super::testhook::tag(ui, &now, "rules.live_state");
        if ui
            .small_button(t(S::ResetCounts))
            .on_hover_text(t(S::TipResetCounts))
            .clicked()
        {
            actions.push(UiAction::Rules(RulesAction::Reset(Keep {
                hits: false,
                tables_and_state: true,
            })));
        }
        let reset = ui
            .small_button(t(S::ResetTablesState))
            .on_hover_text(t(S::TipResetTablesState));
        super::testhook::tag(ui, &reset, "rules.reset");
        if reset.clicked() {
            actions.push(UiAction::Rules(RulesAction::Reset(Keep {
                hits: true,
                tables_and_state: false,
            })));
        }
    });
    changed
}

/// The running session's states, in words.
fn live_states_text(tab: &TabUi<'_>) -> String {
    let states = &tab.capture.rule_states;
    let listed: Vec<String> = states
        .iter()
        .map(|(peer, state)| match peer {
            Some(peer) => format!("{} “{state}”", super::shown_addr(*peer)),
            None => format!("“{state}”"),
        })
        .collect();
    if listed.is_empty() {
        tf(S::LiveStates, &[&t(S::LiveStatesStart)])
    } else {
        tf(S::LiveStates, &[&listed.join(", ")])
    }
}

/// "Undo  Deleted …" in a line of its own that is always there.
fn undo_bar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) -> bool {
    let view = &mut tab.view.automation;
    let text = match &view.undo {
        Some(undo @ Undo::Rule(..)) => Some(undo.text(&tab.form.automation)),
        _ => None,
    };
    if super::widgets::undo_line_ui(ui, text.as_deref(), "rules.undo") {
        return view.undo_last(&mut tab.form.automation);
    }
    false
}

/// Add, duplicate, move, delete (with Undo).
fn list_buttons_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
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
            tab.view.automation.show_tables = false;
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
                && let Some(mut rule) = rules.get(index).cloned()
            {
                // A copy is a rule of its own: its own id, its own count, its own name.
                rule.id = 0;
                let taken: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
                rule.name = super::model::copy_name(&rule.name, &taken);
                rules.insert(index + 1, rule);
                tab.view.automation.selected = index + 1;
                changed = true;
            }
            let up = ui.button("↑").on_hover_text(t(S::TipMoveUp));
            super::testhook::tag(ui, &up, "rules.up");
            if up.clicked() && index > 0 {
                rules.swap(index, index - 1);
                tab.view.automation.selected = index - 1;
                changed = true;
            }
            let down = ui.button("↓").on_hover_text(t(S::TipMoveDown));
            super::testhook::tag(ui, &down, "rules.down");
            if down.clicked() && index + 1 < rules.len() {
                rules.swap(index, index + 1);
                tab.view.automation.selected = index + 1;
                changed = true;
            }
            let delete = ui
                .button(t(S::DeleteRule))
                .on_hover_text(t(S::TipDeleteRule));
            super::testhook::tag(ui, &delete, "rules.delete");
            if delete.clicked() && index < rules.len() {
                let rule = rules.remove(index);
                tab.view.automation.undo = Some(Undo::Rule(index, Box::new(rule)));
                tab.view.automation.selected = index.min(rules.len().saturating_sub(1));
                changed = true;
            }
        });
    });
    changed
}

/// The list: each rule with its switch, name and hits; add, duplicate, delete, move.
fn rule_list_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, errors: &[RuleError]) -> bool {
    let now = std::time::SystemTime::now();
    let mut changed = list_buttons_ui(ui, tab);
    ui.separator();
    egui::ScrollArea::vertical()
        .id_salt("rule_list_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
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
                    let pending = ui.data(|d| d.get_temp::<String>(pending_key(rule.id)));
                    if errors.iter().any(|e| e.rule == Some(i)) || pending.is_some() {
                        name = format!("⚠ {name}");
                    }
                    let picked = ui.selectable_label(
                        tab.view.automation.selected == i && !tab.view.automation.show_tables,
                        name,
                    );
                    super::testhook::tag(ui, &picked, &format!("rules.row.{i}"));
                    if picked.clicked() {
                        tab.view.automation.selected = i;
                        tab.view.automation.show_tables = false;
                    }
                    // The count belongs to the rule (its id), wherever it moves.
                    if let Some(hits) = tab.capture.rule_hits.get(&rule.id) {
                        let ago = hits.last.map(|at| super::widgets::age_text(at, now));
                        let text = match ago {
                            Some(ago) => format!("{} × · {ago}", hits.count),
                            None => format!("{} ×", hits.count),
                        };
                        let count = ui.label(RichText::new(text).weak());
                        super::testhook::tag(ui, &count, &format!("rules.hits.{i}"));
                    }
                });
            }
        });
    changed
}

/// The selected rule's fields, each rule's own (its id keys every widget's memory).
fn rule_editor_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    index: usize,
    error: Option<&str>,
    // The decoded field the mistake names (`f.msgid` with a protocol that has no such
    // field): said beside the condition when the condition reads it.
    field: Option<&str>,
) -> bool {
    let mut changed = false;
    let show = Show::of(tab.form);
    let encoding = tab.form.encoding;
    let automation = &mut tab.form.automation;
    let tables: Vec<String> = automation.tables.keys().cloned().collect();
    // The preview of a reply that reads a table reads its start value.
    let start_tables: std::collections::BTreeMap<String, Vec<u8>> = automation
        .tables
        .iter()
        .filter_map(|(name, text)| Some((name.clone(), hex::parse(text).ok()?)))
        .collect();
    let Some(rule) = automation.rules.get_mut(index) else {
        return false;
    };
    let ron = &mut tab.view.automation.ron;
    let mut ron_error = None;
    ui.push_id(("rule", rule.id), |ui| {
        ui.horizontal(|ui| {
            let label = ui.label(RichText::new(t(S::RuleName)).strong());
            let name = ui
                .add(egui::TextEdit::singleline(&mut rule.name).desired_width(260.0))
                .labelled_by(label.id);
            super::testhook::tag(ui, &name, "rule.name");
            changed |= name.changed();
        });
        ui.add_space(4.0);
        // Each part under its heading: a row of the editor grows down, never sideways.
        let when = ui
            .horizontal(|ui| {
                let when = ui.label(RichText::new(t(S::RuleWhen)).strong()).id;
                let mut as_text = ron.as_ref().is_some_and(|(id, _)| *id == rule.id);
                if ui
                    .checkbox(&mut as_text, t(S::EditAsRon))
                    .on_hover_text(t(S::TipEditAsRon))
                    .changed()
                {
                    *ron = as_text.then(|| {
                        (
                            rule.id,
                            sockscope_core::rules::to_text(&rule.when, usize::MAX),
                        )
                    });
                }
                when
            })
            .inner;
        ui.indent("when", |ui| {
            match ron.as_mut().filter(|(id, _)| *id == rule.id) {
                Some((_, text)) => {
                    let (edited, why) = ron_ui(ui, &mut rule.when, text, when);
                    changed |= edited;
                    if let Some(why) = &why {
                        error_text(ui, why);
                    }
                    ron_error = why;
                }
                None => {
                    let cx = CondCx {
                        label: when,
                        encoding,
                    };
                    changed |= cond_ui(ui, &mut rule.when, &cx, 0);
                }
            }
        });
        let error = condition_field_mistake_ui(ui, &rule.when, error, field, ron_error.is_some());
        // A mistake no field shows by itself (the reply or a write reads a group the
        // condition lacks, or a table there is none of) goes with the reply.
        let elsewhere = error.filter(|_| {
            ron_error.is_none()
                && rule.when.compile(encoding).is_ok()
                && rule
                    .reply
                    .as_ref()
                    .is_none_or(|r| Template::compile(r, encoding).is_ok())
                && rule.to.dest().is_ok()
                && rule
                    .write
                    .iter()
                    .all(|w| write_mistake(w, &tables).is_none())
        });
        ui.add_space(4.0);
        let then = ui.label(RichText::new(t(S::RuleReply)).strong()).id;
        ui.indent("then", |ui| {
            changed |= reply_ui(ui, rule, (then, show), &start_tables, elsewhere);
        });
        ui.add_space(4.0);
        let writes = ui
            .label(RichText::new(t(S::RuleWrites)).strong())
            .on_hover_text(t(S::TipRuleWrites))
            .id;
        ui.indent("writes", |ui| {
            changed |= writes_ui(ui, &mut rule.write, &tables, writes);
        });
        // Each mistake is said beside its field; a reply-less rule's leftover one here.
        if rule.reply.is_none()
            && let Some(why) = elsewhere
        {
            error_text(ui, why);
        }
    });
    changed
}

/// A mistake naming a decoded field the condition reads (`f.msgid`) is said under the
/// condition, where it is; returns the mistake left for the reply (it went there before).
fn condition_field_mistake_ui<'e>(
    ui: &mut egui::Ui,
    when: &sockscope_core::rules::Cond,
    error: Option<&'e str>,
    field: Option<&str>,
    ron_error: bool,
) -> Option<&'e str> {
    let in_condition = field.is_some_and(|f| {
        sockscope_core::rules::to_text(when, usize::MAX).contains(&format!("f.{f}"))
    });
    match error {
        Some(why) if in_condition && !ron_error => {
            ui.indent("when-mistake", |ui| error_text(ui, why));
            None
        }
        other => other,
    }
}

fn reply_ui(
    ui: &mut egui::Ui,
    rule: &mut Rule,
    (label, show): (egui::Id, Show),
    tables: &std::collections::BTreeMap<String, Vec<u8>>,
    mistake: Option<&str>,
) -> bool {
    let mut changed = false;
    let mut on = rule.reply.is_some();
    if ui.checkbox(&mut on, t(S::RuleReplies)).changed() {
        rule.reply = on.then(ReplySpec::default);
        changed = true;
    }
    if let Some(reply) = &mut rule.reply {
        changed |= payload_ui(ui, reply, (label, show.encoding), tables, mistake);
    }
    changed | target_ui(ui, rule)
}

/// Where the editor keeps what is wrong with a rule's delay as typed (the text it holds back).
fn pending_key(rule: sockscope_core::rules::RuleId) -> egui::Id {
    egui::Id::unique(("rule_delay_pending", rule))
}

/// Where the reply goes, when, and what follows it.
fn target_ui(ui: &mut egui::Ui, rule: &mut Rule) -> bool {
    let mut changed = false;
    ui.horizontal_wrapped(|ui| {
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
            let field = ui.add(
                egui::TextEdit::singleline(peer)
                    .desired_width(150.0)
                    .hint_text("192.168.1.20:5000"),
            );
            super::testhook::tag(ui, &field, "rule.to.peer");
            changed |= field.changed();
            let why = rule.to.dest().err();
            super::widgets::mark_bad_field(ui, &field, why.is_some());
            if let Some(why) = why {
                error_text(ui, &why);
            }
        }
        let delay = ui.label(t(S::RuleDelay)).id;
        let (moved, wrong) = super::widgets::duration_field_checked_ui(
            ui,
            &mut rule.delay_ms,
            &(0..=3_600_000),
            delay,
            "rule.delay",
        );
        changed |= moved;
        // A delay held back is a mistake of the rule, said as the others are (⚠ in the list,
        // the line at the top): the running rule keeps its old delay meanwhile.
        let key = pending_key(rule.id);
        ui.data_mut(|d| match wrong {
            Some(why) => {
                d.insert_temp(key, why);
            }
            None => {
                d.remove::<String>(key);
            }
        });
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t(S::RuleSetState)).id;
        let mut state = rule.set_state.clone().unwrap_or_default();
        if ui
            .add(
                egui::TextEdit::singleline(&mut state)
                    .desired_width(120.0)
                    .hint_text("—"),
            )
            .labelled_by(label)
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

/// Which part of a table write is wrong — 0 its table, 1 where, 2 what — and why.
fn write_mistake(write: &TableWrite, tables: &[String]) -> Option<(usize, String)> {
    if !tables.contains(&write.table) {
        return Some((0, tf(S::ExprNoTable, &[&write.table])));
    }
    if let Err(e) = Expr::parse(&write.at, 1) {
        return Some((1, e.0));
    }
    Expr::parse(&write.value, 1).err().map(|e| (2, e.0))
}

/// The rule's table writes: table, offset and value, in order; add and remove.
fn writes_ui(
    ui: &mut egui::Ui,
    writes: &mut Vec<TableWrite>,
    tables: &[String],
    label: egui::Id,
) -> bool {
    let mut changed = false;
    // Above the rows, for the reason "+ Condition" is.
    let add = ui
        .add_enabled(
            !tables.is_empty(),
            egui::Button::new(t(S::AddWrite)).small(),
        )
        .on_hover_text(t(S::TipRuleWrites))
        .on_disabled_hover_text(t(S::TipTables));
    super::testhook::tag(ui, &add, "rule.write.add");
    let mut remove = None;
    for (i, write) in writes.iter_mut().enumerate() {
        let mistake = write_mistake(write, tables);
        let bad = |part: usize| mistake.as_ref().is_some_and(|(p, _)| *p == part);
        ui.push_id(("write", i), |ui| {
            ui.horizontal_wrapped(|ui| {
                if ui.small_button(t(S::CondRemove)).clicked() {
                    remove = Some(i);
                }
                let table = egui::ComboBox::from_id_salt("write_table")
                    .selected_text(write.table.as_str())
                    .show_ui(ui, |ui| {
                        for name in tables {
                            changed |= ui
                                .selectable_value(&mut write.table, name.clone(), name)
                                .changed();
                        }
                    })
                    .response
                    .labelled_by(label);
                mark_bad_field(ui, &table, bad(0));
                let at = ui.label(t(S::WriteAt)).id;
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut write.at)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(130.0)
                            .hint_text("2 * rx.u16be@8"),
                    )
                    .labelled_by(at);
                mark_bad_field(ui, &field, bad(1));
                changed |= field.changed();
                let value = ui.label(t(S::WriteValue)).id;
                let field = ui
                    .add(
                        egui::TextEdit::singleline(&mut write.value)
                            .font(egui::TextStyle::Monospace)
                            .desired_width(130.0)
                            .hint_text("rx[10..12]"),
                    )
                    .labelled_by(value);
                mark_bad_field(ui, &field, bad(2));
                changed |= field.changed();
            });
            if let Some((_, why)) = &mistake {
                error_text(ui, why);
            }
        });
    }
    if let Some(i) = remove
        && i < writes.len()
    {
        writes.remove(i);
        changed = true;
    }
    if add.clicked() {
        writes.push(TableWrite {
            table: tables.first().cloned().unwrap_or_default(),
            at: "0".into(),
            value: "rx[0..1]".into(),
        });
        changed = true;
    }
    changed
}

/// The tables: each with its start value (saved) and its live value (the running session's,
/// editable), the rules that write it; a new one by name.
fn tables_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) -> bool {
    let mut changed = false;
    ui.label(RichText::new(t(S::TipTables)).weak());
    let names: Vec<String> = tab.form.automation.tables.keys().cloned().collect();
    let mut delete = None;
    for name in &names {
        ui.push_id(("table", name), |ui| {
            ui.separator();
            ui.horizontal(|ui| {
                ui.label(RichText::new(name).strong().monospace());
                let writers: Vec<String> = tab
                    .form
                    .automation
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.write.iter().any(|w| &w.table == name))
                    .map(|(i, r)| rule_label(r, i))
                    .collect();
                if !writers.is_empty() {
                    ui.label(RichText::new(format!("← {}", writers.join(", "))).weak());
                }
                if ui.small_button(t(S::DeleteTable)).clicked() {
                    delete = Some(name.clone());
                }
            });
            if let Some(start) = tab.form.automation.tables.get_mut(name) {
                let label = ui.label(t(S::TableStartValue)).id;
                let field = ui
                    .add(
                        egui::TextEdit::multiline(start)
                            .font(egui::TextStyle::Monospace)
                            .desired_rows(1)
                            .desired_width(f32::INFINITY)
                            .hint_text("00 0A 00 14"),
                    )
                    .labelled_by(label);
                super::testhook::tag(ui, &field, &format!("table.start.{name}"));
                changed |= field.changed();
                if let Err(e) = hex::parse(start) {
                    error_text(ui, &e.to_string());
                }
            }
            if let Some(live) = tab.capture.rule_tables.get(name) {
                let label = ui
                    .label(t(S::TableLiveValue))
                    .on_hover_text(t(S::TipTableLive))
                    .id;
                let view = &mut tab.view.automation;
                let mut text = match &view.live_text {
                    Some((n, text)) if n == name => text.clone(),
                    _ => hex::format(live),
                };
                let field = ui
                    .add(
                        egui::TextEdit::multiline(&mut text)
                            .font(egui::TextStyle::Monospace)
                            .desired_rows(1)
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(label)
                    .on_hover_text(t(S::TipTableLive));
                super::testhook::tag(ui, &field, &format!("table.live.{name}"));
                if field.changed()
                    && let Ok(bytes) = hex::parse(&text)
                {
                    actions.push(UiAction::Rules(RulesAction::SetLiveTable(
                        name.clone(),
                        bytes,
                    )));
                }
                view.live_text = field.has_focus().then(|| (name.clone(), text));
            }
        });
    }
    if let Some(name) = delete {
        tab.form.automation.tables.remove(&name);
        changed = true;
    }
    changed |= new_table_ui(ui, tab);
    changed
}

/// A new table, by name.
fn new_table_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) -> bool {
    let mut changed = false;
    ui.separator();
    ui.horizontal(|ui| {
        let view = &mut tab.view.automation;
        let label = ui.label(t(S::NewTableName)).id;
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut view.new_table)
                    .desired_width(160.0)
                    .hint_text("holding"),
            )
            .labelled_by(label);
        super::testhook::tag(ui, &field, "table.new");
        let name = view.new_table.trim().to_owned();
        let exists = tab.form.automation.tables.contains_key(&name);
        let add = ui.add_enabled(
            !name.is_empty() && !exists,
            egui::Button::new(t(S::AddTable)),
        );
        super::testhook::tag(ui, &add, "table.add");
        if add.clicked() {
            tab.form
                .automation
                .tables
                .insert(name.clone(), "00 00".into());
            view.new_table.clear();
            changed = true;
        }
        if exists {
            error_text(ui, &tf(S::TableExists, &[&name]));
        }
    });
    changed
}

/// A rule's reply as the test shows it: hex for a hex reply or a session that shows hex.
fn reply_shown(bytes: &[u8], rule: Option<&Rule>, show: Show) -> String {
    let hex_reply = rule
        .and_then(|r| r.reply.as_ref())
        .is_some_and(|r| r.mode == InputMode::Hex);
    shown(
        bytes,
        Show {
            hex: show.hex || hex_reply,
            ..show
        },
    )
}

/// What a rule did besides its reply, in words.
fn side_effects(fired: &Fired) -> Vec<String> {
    let mut out = Vec::new();
    if !fired.delay.is_zero() {
        out.push(tf(S::TestAfter, &[&fired.delay.as_millis()]));
    }
    for write in &fired.writes {
        out.push(tf(
            S::TestWrites,
            &[&write.table, &write.at, &hex::format(&write.bytes)],
        ));
    }
    if let Some(state) = &fired.state {
        out.push(tf(S::TestThenState, &[state]));
    }
    if fired.close {
        out.push(t(S::TestCloses).to_owned());
    }
    out
}

/// The states a condition names.
fn named_states(cond: &Cond, out: &mut Vec<String>) {
    match cond {
        Cond::State(state) => out.push(state.clone()),
        Cond::All(list) | Cond::Any(list) => {
            for inner in list {
                named_states(inner, out);
            }
        }
        Cond::Not(inner) => named_states(inner, out),
        _ => {}
    }
}

/// Paste a request, see which rule fires, the exact reply and what else it does; or run the
/// rules over the log.
fn test_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, running: &Running) {
    let encoding = tab.form.encoding;
    let start_state = tab.form.automation.state.clone();
    // Every state a client is in now, and every state the rules name: a rule for a state no
    // client reached yet can be tested too.
    let live_states: Vec<String> = {
        let mut states: Vec<String> = tab
            .capture
            .rule_states
            .iter()
            .map(|(_, s)| s.clone())
            .collect();
        for rule in &tab.form.automation.rules {
            named_states(&rule.when, &mut states);
            states.extend(rule.set_state.iter().cloned());
        }
        states.retain(|s| !s.is_empty() && *s != start_state);
        states.sort();
        states.dedup();
        states
    };
    let view = &mut tab.view.automation;
    let label = ui
        .horizontal_wrapped(|ui| {
            let label = ui.label(t(S::RuleTest));
            ui.selectable_value(&mut view.test_hex, false, t(S::Text));
            ui.selectable_value(&mut view.test_hex, true, t(S::Hex));
            let state = ui.label(t(S::TestInState)).id;
            let shown_state = view.test_state.clone().map_or_else(
                || tf(S::TestStateStart, &[&start_state]),
                |s| format!("“{s}”"),
            );
            egui::ComboBox::from_id_salt("test_state")
                .selected_text(shown_state)
                .show_ui(ui, |ui| {
                    ui.selectable_value(
                        &mut view.test_state,
                        None,
                        tf(S::TestStateStart, &[&start_state]),
                    );
                    for state in &live_states {
                        ui.selectable_value(
                            &mut view.test_state,
                            Some(state.clone()),
                            format!("“{state}”"),
                        );
                    }
                })
                .response
                .labelled_by(state);
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
    let live = !tab.capture.rule_tables.is_empty();
    // As the running session would answer now: its live tables and next {{counter}}, in the
    // state chosen next to the field.
    let start = Start {
        state: view.test_state.clone(),
        ..tab.capture.rules_start(None, &tab.vars)
    };
    egui::ScrollArea::vertical()
        .id_salt("rules_test_results")
        .auto_shrink([false, true])
        .max_height((ui.available_height() - 30.0).max(40.0))
        .show(ui, |ui| match bytes {
            Err(why) => error_text(ui, &why),
            Ok(bytes) if !bytes.is_empty() => {
                // What runs: a rule held back is tested as the session has it.
                // With the tab's protocol, as the running rules decode (`f.NAME`): without it
                // a protocol profile's rules "fired nothing" on frames they answer live.
                let trial = Machine::test_for(
                    &running.automation,
                    encoding,
                    super::protocol_pick::received(tab.form),
                    &bytes,
                    peer,
                    &start,
                );
                test_results_ui(ui, tab, &trial.fired, running, live);
            }
            Ok(_) => {}
        });
    tried_ui(ui, tab, running);
}

/// "Try on the log" and its result.
fn tried_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, running: &Running) {
    let encoding = tab.form.encoding;
    let try_log = ui.button(t(S::TryOnLog)).on_hover_text(t(S::TipTryOnLog));
    super::testhook::tag(ui, &try_log, "rules.try");
    let lang = sockscope_core::i18n::lang();
    let made_with = |tried: &Tried| tried.rules == running.automation && tried.encoding == encoding;
    // Other rules (or encoding): the result is of rules no longer there, so it goes; another
    // language: it is said again in it.
    let again = match &tab.view.automation.tried {
        Some(tried) if !made_with(tried) => {
            tab.view.automation.tried = None;
            false
        }
        Some(tried) => tried.lang != lang,
        None => false,
    };
    if try_log.clicked() || again {
        tab.view.automation.tried = Some(Tried {
            rules: running.automation.clone(),
            encoding,
            lang,
            text: try_on_log(tab, running),
        });
    }
    if let Some(tried) = &tab.view.automation.tried {
        let result = ui.add(egui::Label::new(tried.text.as_str()).wrap());
        super::testhook::tag(ui, &result, "rules.tried");
    }
}

fn test_results_ui(
    ui: &mut egui::Ui,
    tab: &TabUi<'_>,
    fired: &[Fired],
    running: &Running,
    live: bool,
) {
    let show = Show::of(tab.form);
    let names = |previous: bool| -> Vec<String> {
        running
            .held
            .iter()
            .filter(|h| h.previous == previous)
            .filter_map(|h| {
                let i = h.index;
                tab.form.automation.rules.get(i).map(|r| rule_label(r, i))
            })
            .collect()
    };
    for (list, sentence) in [
        (names(false), S::RulesSkipped),
        (names(true), S::TestHeldPrevious),
    ] {
        if !list.is_empty() {
            let held = ui.add(
                egui::Label::new(
                    RichText::new(tf(sentence, &[&list.join(", ")]))
                        .color(ui.visuals().warn_fg_color),
                )
                .wrap(),
            );
            super::testhook::tag(ui, &held, "rules.test.held");
        }
    }
    if fired.is_empty() {
        ui.label(RichText::new(t(S::RuleTestNone)).weak());
    }
    for f in fired {
        let heading = ui.label(RichText::new(tf(S::RuleTestFires, &[&f.name])).strong());
        super::testhook::tag(ui, &heading, "rules.test.fired");
        let rule = tab.form.automation.rules.get(f.rule);
        match (&f.reply, &f.error) {
            (_, Some(error)) => error_text(ui, error),
            (Some(reply), None) => {
                let reply = ui.add(
                    egui::Label::new(
                        RichText::new(tf(S::RuleTestReply, &[&reply_shown(reply, rule, show)]))
                            .monospace(),
                    )
                    .wrap(),
                );
                super::testhook::tag(ui, &reply, "rules.test.reply");
            }
            (None, None) => {
                ui.label(RichText::new(t(S::RuleTestNoReply)).weak());
            }
        }
        for effect in side_effects(f) {
            ui.label(format!("  · {effect}"));
        }
    }
    if live {
        ui.label(RichText::new(t(S::TestUsesLive)).weak().small());
    }
}

/// The rules that run over the received records the log holds (at most the last 100,000):
/// how often each would have fired. Nothing is sent. A rule with a mistake is held back as in
/// the session.
fn try_on_log(tab: &TabUi<'_>, running: &Running) -> String {
    let encoding = tab.form.encoding;
    let (mut machine, _) = Machine::compile_valid_for(
        &running.automation,
        encoding,
        super::protocol_pick::received(tab.form),
    );
    let errors = &running.errors;
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
    let mut parts: Vec<String> = machine
        .hits_by_id()
        .into_iter()
        .filter(|(_, _, h)| h.count > 0)
        .map(|(_, name, h)| format!("{name} × {}", h.count))
        .collect();
    parts.push(tf(S::TryNone, &[&none]));
    let mut result = tf(S::TryOnLogResult, &[&seen, &parts.join(", ")]);
    let skipped: Vec<&str> = errors
        .iter()
        .filter(|e| e.rule.is_some())
        .map(|e| e.message.as_str())
        .collect();
    if !skipped.is_empty() {
        result.push('\n');
        result.push_str(&tf(S::RulesSkipped, &[&skipped.join("; ")]));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gui::cond_ui::reply_hint;

    #[test]
    fn a_replys_hint_is_an_example_of_its_own_mode() {
        assert!(!reply_hint(InputMode::Text).contains("00 06"));
        assert!(
            hex::parse(
                &reply_hint(InputMode::Hex)
                    .replace("{{rx[0..4]}}", "")
                    .replace("{{rx[6..8]}}", "")
            )
            .is_ok()
        );
        assert!(reply_hint(InputMode::Escapes).contains("\\r"));
    }
}
