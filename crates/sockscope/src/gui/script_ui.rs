//! The Scripts window (测试脚本): scripts as lists of steps with the rule editor's fields
//! (Send has the reply's payload fields, Expect a condition), added, edited, moved and
//! deleted in place — or as text (RON) — then Run, or Step for one step at a time, and each
//! step √/× with its time and bytes.

use eframe::egui::{self, RichText};
use sockscope_core::codec::payload::LineEnding;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::script::{Run, Script, Step};
use sockscope_core::rules::{Cond, Match, ReplySpec};

use super::cond_ui::{CondCx, cond_ui};
use super::cond_ui::{Show, error_text, passed_color, payload_ui, shown};
use super::model::{RulesAction, StepGap, Undo};
use super::state::{TabUi, UiAction};

#[derive(Clone, Copy, PartialEq, Eq)]
enum StepKind {
    Send,
    Expect,
    Wait,
    Capture,
    Repeat,
}

const STEP_KINDS: [(StepKind, S); 5] = [
    (StepKind::Send, S::StepKindSend),
    (StepKind::Expect, S::StepKindExpect),
    (StepKind::Wait, S::StepKindWait),
    (StepKind::Capture, S::StepKindCapture),
    (StepKind::Repeat, S::StepKindRepeat),
];

fn kind_of(step: &Step) -> StepKind {
    match step {
        Step::Send(_) => StepKind::Send,
        Step::Expect { .. } => StepKind::Expect,
        Step::Wait(_) => StepKind::Wait,
        Step::Capture(..) => StepKind::Capture,
        Step::Repeat(..) => StepKind::Repeat,
    }
}

/// A new step of `kind`, with what makes sense to start from.
fn fresh(kind: StepKind) -> Step {
    match kind {
        StepKind::Send => Step::Send(ReplySpec {
            payload: "AT".into(),
            line_ending: LineEnding::CrLf,
            ..ReplySpec::default()
        }),
        StepKind::Expect => Step::Expect {
            when: Cond::Text(Match::Prefix, "OK".into()),
            timeout_ms: 1000,
        },
        StepKind::Wait => Step::Wait(100),
        StepKind::Capture => Step::Capture("value".into(), "rx.len".into()),
        StepKind::Repeat => Step::Repeat(2, Vec::new()),
    }
}

/// The Scripts window.
pub fn scripts_window_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>, actions: &mut Vec<UiAction>) {
    scripts_bar_ui(ui, tab);
    let scripts = &mut tab.form.automation.scripts;
    let view = &mut tab.view.automation;
    let index = view.script;
    let Some(script) = scripts.get_mut(index) else {
        ui.label(RichText::new(t(S::NoScripts)).weak());
        return;
    };
    ui.separator();
    let mut delete = false;
    ui.horizontal_wrapped(|ui| {
        let label = ui.label(t(S::RuleName)).id;
        ui.add(egui::TextEdit::singleline(&mut script.name).desired_width(240.0))
            .labelled_by(label);
        let button = ui
            .button(t(S::DeleteRule))
            .on_hover_text(t(S::TipDeleteScript));
        super::testhook::tag(ui, &button, "script.delete");
        delete = button.clicked();
        ui.separator();
        let as_text = if view.steps_as_text {
            t(S::StepsAsList)
        } else {
            t(S::StepsAsText)
        };
        if ui.button(as_text).clicked() {
            view.steps_as_text = !view.steps_as_text;
            view.steps_text = None;
        }
    });
    if delete {
        let script = scripts.remove(index);
        view.undo = Some(Undo::Script(index, script));
        view.script = index.min(scripts.len().saturating_sub(1));
        view.steps_text = None;
        return;
    }
    let encoding = tab.form.encoding;
    // The report takes what the window has left below the steps; the steps scroll.
    let report_room = if tab.capture.script.is_some() {
        200.0
    } else {
        60.0
    };
    let compiled = Run::compile(script, encoding);
    egui::ScrollArea::vertical()
        .id_salt("script_steps_scroll")
        .auto_shrink([false, true])
        .max_height((ui.available_height() - report_room).max(120.0))
        .show(ui, |ui| {
            let mut parse_error = None;
            if view.steps_as_text {
                parse_error = steps_text_ui(ui, script, index, &mut view.steps_text);
            } else {
                let label = ui
                    .label(t(S::ScriptSteps))
                    .on_hover_text(t(S::TipScriptSteps))
                    .id;
                let mut cx = StepsCx {
                    label,
                    encoding,
                    removed: None,
                    gap: &mut view.step_gap,
                };
                steps_ui(ui, &mut script.steps, &mut cx, &[]);
                if let Some((path, at, step, height)) = cx.removed {
                    view.step_gap = Some(StepGap {
                        path: path.clone(),
                        at,
                        height,
                    });
                    view.undo = Some(Undo::Step {
                        script: index,
                        path,
                        at,
                        step: Box::new(step),
                    });
                }
            }
            // One place for the script's mistake, at the end of its steps: the window's
            // height does not change with it (that took the keyboard from the field typed in).
            match parse_error.or_else(|| compiled.as_ref().err().cloned()) {
                Some(why) => error_text(ui, &why),
                None => {
                    ui.label(" ");
                }
            }
        });
    let valid = compiled.is_ok();
    buttons_ui(ui, tab, index, valid, actions);
    report_ui(ui, tab);
}

/// + Script, a tab for each script, and Undo of a delete.
fn scripts_bar_ui(ui: &mut egui::Ui, tab: &mut TabUi<'_>) {
    let scripts = &mut tab.form.automation.scripts;
    let view = &mut tab.view.automation;
    view.script = view.script.min(scripts.len().saturating_sub(1));
    ui.horizontal_wrapped(|ui| {
        let add = ui.button(t(S::AddScript));
        super::testhook::tag(ui, &add, "scripts.add");
        if add.clicked() {
            scripts.push(Script {
                name: tf(S::ScriptNumbered, &[&(scripts.len() + 1)]),
                steps: vec![fresh(StepKind::Send), fresh(StepKind::Expect)],
            });
            view.script = scripts.len() - 1;
            view.steps_text = None;
            view.step_gap = None;
        }
        for (i, script) in scripts.iter().enumerate() {
            if ui
                .selectable_label(view.script == i, &script.name)
                .clicked()
            {
                view.script = i;
                view.steps_text = None;
                view.step_gap = None;
            }
        }
    });
    // A line always there for Undo: nothing below moves when it comes or goes.
    let text = match &view.undo {
        Some(undo @ (Undo::Script(..) | Undo::Step { .. })) => {
            Some(undo.text(&tab.form.automation))
        }
        _ => None,
    };
    if super::widgets::undo_line_ui(ui, text.as_deref(), "scripts.undo") {
        view.undo_last(&mut tab.form.automation);
    }
}

/// Run, Step, Stop.
fn buttons_ui(
    ui: &mut egui::Ui,
    tab: &mut TabUi<'_>,
    index: usize,
    valid: bool,
    actions: &mut Vec<UiAction>,
) {
    ui.horizontal_wrapped(|ui| {
        let running = tab
            .capture
            .script
            .as_ref()
            .is_some_and(|r| r.passed.is_none());
        let can = valid && tab.is_open() && !running;
        let run = ui.add_enabled(can, egui::Button::new(t(S::RunScript)));
        super::testhook::tag(ui, &run, "script.run");
        if run.clicked() {
            tab.view.automation.stepping = false;
            actions.push(UiAction::Rules(RulesAction::Run(index)));
        }
        let stepping = running && tab.view.automation.stepping;
        let step = ui
            .add_enabled(
                valid && tab.is_open() && (!running || stepping),
                egui::Button::new(t(S::StepScript)),
            )
            .on_hover_text(t(S::TipStepScript));
        super::testhook::tag(ui, &step, "script.step");
        if step.clicked() {
            if stepping {
                actions.push(UiAction::Rules(RulesAction::Step));
            } else {
                tab.view.automation.stepping = true;
                actions.push(UiAction::Rules(RulesAction::RunStepping(index)));
            }
        }
        // Stop always ends a run, whatever became of the session.
        let stop_button = ui.add_enabled(running, egui::Button::new(t(S::StopScript)));
        super::testhook::tag(ui, &stop_button, "script.stop");
        if stop_button.clicked() {
            actions.push(UiAction::Rules(RulesAction::Stop));
        }
        if !tab.is_open() {
            ui.label(RichText::new(t(S::ScriptNotOpen)).weak());
        }
    });
}

/// What every level of the step list shares.
struct StepsCx<'a> {
    /// The label the fields are read by.
    label: egui::Id,
    encoding: sockscope_core::codec::TextEncoding,
    /// A step removed this frame: the Repeats' places, its place, the step, its height.
    removed: Option<(Vec<usize>, usize, Step, f32)>,
    /// The room a step removed before leaves while the pointer is on it.
    gap: &'a mut Option<StepGap>,
}

/// The room a removed step leaves at `path`/`at`, while the pointer is on it.
fn gap_ui(ui: &mut egui::Ui, cx: &mut StepsCx<'_>, path: &[usize], at: usize) {
    let Some(gap) = cx.gap.as_ref().filter(|g| g.path == path && g.at == at) else {
        return;
    };
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), gap.height),
        egui::Sense::hover(),
    );
    super::testhook::tag_rect(ui, rect, "step.gap");
    if !ui.rect_contains_pointer(rect) {
        *cx.gap = None;
    }
}

/// A list of steps, each with its kind and fields, moved and removed in place; `path` holds
/// the places of the Repeats it is inside.
fn steps_ui(ui: &mut egui::Ui, steps: &mut Vec<Step>, cx: &mut StepsCx<'_>, path: &[usize]) {
    let depth = path.len();
    let label = cx.label;
    let mut action = None;
    let mut removed_height = 0.0;
    let count = steps.len();
    for (i, step) in steps.iter_mut().enumerate() {
        gap_ui(ui, cx, path, i);
        let row = ui.push_id(("step", depth, i), |ui| {
            ui.horizontal_top(|ui| {
                ui.label(RichText::new(format!("{}.", i + 1)).monospace());
                ui.vertical(|ui| {
                    ui.horizontal_wrapped(|ui| {
                        let kind = kind_of(step);
                        let shown = STEP_KINDS
                            .iter()
                            .find(|(k, _)| *k == kind)
                            .map_or("", |(_, s)| t(*s));
                        let mut picked = kind;
                        let combo = egui::ComboBox::from_id_salt("step_kind")
                            .selected_text(shown)
                            .show_ui(ui, |ui| {
                                for (k, s) in STEP_KINDS {
                                    if depth < 4 || k != StepKind::Repeat {
                                        ui.selectable_value(&mut picked, k, t(s));
                                    }
                                }
                            })
                            .response
                            .labelled_by(label);
                        super::testhook::tag(ui, &combo, &format!("step.kind.{depth}.{i}"));
                        if picked != kind {
                            *step = fresh(picked);
                        }
                        let up = ui.small_button("↑").on_hover_text(t(S::TipStepUp));
                        if up.clicked() && i > 0 {
                            action = Some((i, -1));
                        }
                        let down = ui.small_button("↓").on_hover_text(t(S::TipStepDown));
                        if down.clicked() && i + 1 < count {
                            action = Some((i, 1));
                        }
                        let delete = ui
                            .small_button(t(S::CondRemove))
                            .on_hover_text(t(S::TipStepDelete));
                        super::testhook::tag(ui, &delete, &format!("step.delete.{depth}.{i}"));
                        if delete.clicked() {
                            action = Some((i, 0));
                        }
                        step_fields_inline(ui, step, label);
                    });
                    step_fields_below(ui, step, cx, path, i);
                });
            });
        });
        if matches!(action, Some((at, 0)) if at == i) {
            removed_height = row.response.rect.height();
        }
    }
    gap_ui(ui, cx, path, count);
    match action {
        Some((i, 0)) if i < steps.len() => {
            let step = steps.remove(i);
            cx.removed = Some((path.to_vec(), i, step, removed_height));
        }
        Some((i, -1)) if i > 0 && i < steps.len() => steps.swap(i, i - 1),
        Some((i, 1)) if i + 1 < steps.len() => steps.swap(i, i + 1),
        _ => {}
    }
    let add = ui
        .small_button(t(S::AddStep))
        .on_hover_text(t(S::TipAddStep));
    super::testhook::tag(ui, &add, &format!("step.add.{depth}"));
    if add.clicked() {
        // After a Send, an Expect; otherwise a Send.
        let kind = match steps.last() {
            Some(Step::Send(_)) => StepKind::Expect,
            _ => StepKind::Send,
        };
        steps.push(fresh(kind));
    }
}

/// The short fields, on the step's own line.
fn step_fields_inline(ui: &mut egui::Ui, step: &mut Step, label: egui::Id) {
    match step {
        Step::Wait(ms) => {
            super::widgets::duration_field_ui(ui, ms, &(0..=86_400_000), label, "step.wait");
        }
        Step::Expect { timeout_ms, .. } => {
            let within = ui.label(t(S::StepWithin)).id;
            super::widgets::duration_field_ui(
                ui,
                timeout_ms,
                &(1..=86_400_000),
                within,
                "step.within",
            );
        }
        Step::Repeat(times, _) => {
            ui.add(egui::DragValue::new(times).range(0..=100_000))
                .labelled_by(label);
            ui.label(t(S::StepTimes));
        }
        Step::Capture(name, expr) => {
            let keep = ui.label(t(S::CaptureAs)).on_hover_text(t(S::TipCapture)).id;
            ui.add(
                egui::TextEdit::singleline(name)
                    .desired_width(90.0)
                    .hint_text("value"),
            )
            .labelled_by(keep);
            ui.label("=");
            let field = ui
                .add(
                    egui::TextEdit::singleline(expr)
                        .font(egui::TextStyle::Monospace)
                        .desired_width(180.0)
                        .hint_text("rx.u16be@9"),
                )
                .labelled_by(keep)
                .on_hover_text(t(S::TipCapture));
            super::testhook::tag(ui, &field, "step.capture");
        }
        Step::Send(_) => {}
    }
}

/// The larger fields, under the step's line (`at`: its place among its neighbours).
fn step_fields_below(
    ui: &mut egui::Ui,
    step: &mut Step,
    cx: &mut StepsCx<'_>,
    path: &[usize],
    at: usize,
) {
    let (label, encoding) = (cx.label, cx.encoding);
    match step {
        Step::Send(spec) => {
            payload_ui(
                ui,
                spec,
                (label, encoding),
                &std::collections::BTreeMap::new(),
                None,
            );
        }
        Step::Expect { when, .. } => {
            let cx = CondCx { label, encoding };
            cond_ui(ui, when, &cx, 0);
        }
        Step::Repeat(_, inner) => {
            let inner_path: Vec<usize> = path.iter().copied().chain([at]).collect();
            ui.indent("repeat", |ui| {
                steps_ui(ui, inner, cx, &inner_path);
            });
        }
        Step::Wait(_) | Step::Capture(..) => {}
    }
}

/// A script's steps as RON, parsed as typed; the parse error, if any.
fn steps_text_ui(
    ui: &mut egui::Ui,
    script: &mut Script,
    index: usize,
    steps_text: &mut Option<(usize, String)>,
) -> Option<String> {
    if steps_text.as_ref().is_none_or(|(i, _)| *i != index) {
        // One step a line: a step's parts stay on its line.
        *steps_text = Some((index, sockscope_core::rules::to_text(&script.steps, 1)));
    }
    let (_, text) = steps_text.as_mut()?;
    let label = ui
        .label(t(S::ScriptSteps))
        .on_hover_text(t(S::TipScriptSteps))
        .id;
    let field = ui
        .add(
            egui::TextEdit::multiline(text)
                .font(egui::TextStyle::Monospace)
                .desired_rows(8)
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label);
    super::testhook::tag(ui, &field, "script.steps");
    match sockscope_core::rules::from_text::<Vec<Step>>(text) {
        Ok(steps) => {
            if field.changed() {
                script.steps = steps;
            }
            None
        }
        Err(why) => Some(why),
    }
}

/// The last run: every step √, × or waiting, with its time; each step's bytes and a failure's
/// reason on a wrapped line of their own.
fn report_ui(ui: &mut egui::Ui, tab: &TabUi<'_>) {
    let Some(report) = &tab.capture.script else {
        return;
    };
    ui.separator();
    let done = report.results.len();
    let verdict = match report.passed {
        None if tab.view.automation.stepping => {
            RichText::new(tf(S::ScriptHeld, &[&report.name, &(done + 1)]))
        }
        None => RichText::new(tf(S::ScriptRunning, &[&report.name])),
        Some(true) => {
            RichText::new(tf(S::ScriptPassedShort, &[&report.name])).color(passed_color())
        }
        Some(false) => RichText::new(tf(S::ScriptFailedShort, &[&report.name]))
            .color(ui.visuals().error_fg_color),
    };
    let verdict = ui.label(verdict.strong());
    super::testhook::tag(ui, &verdict, "script.verdict");
    let show = Show::of(tab.form);
    egui::ScrollArea::vertical()
        .id_salt("script_report")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for (i, label) in report.steps.iter().enumerate() {
                let result = report.results.iter().find(|r| r.index == i);
                let (mark, color) = match result {
                    // The log's verify badges: the bundled font has these on every OS.
                    Some(r) if r.ok => ("√", passed_color()),
                    Some(_) => ("×", ui.visuals().error_fg_color),
                    None => ("·", ui.visuals().weak_text_color()),
                };
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(mark).color(color).strong());
                    ui.label(format!("{}", i + 1));
                    let mut text = RichText::new(label).monospace();
                    if result.is_some_and(|r| !r.ok) {
                        text = text.color(ui.visuals().error_fg_color);
                    }
                    ui.add(egui::Label::new(text).wrap());
                    if let Some(r) = result {
                        ui.label(format!("{:.1} ms", r.took.as_secs_f64() * 1000.0));
                    }
                });
                if let Some(r) = result {
                    let mut detail = r.detail.clone().unwrap_or_default();
                    if let Some(bytes) = r.bytes.as_deref().filter(|b| !b.is_empty()) {
                        let bytes = shown(bytes, show);
                        if detail.is_empty() {
                            detail = bytes;
                        } else {
                            // A failed step's bytes are what did arrive.
                            detail = format!("{detail} — {}", tf(S::ScriptReplyGot, &[&bytes]));
                        }
                    }
                    if !detail.is_empty() {
                        let line = ui.add(
                            egui::Label::new(RichText::new(format!("    {detail}")).monospace())
                                .wrap(),
                        );
                        if !r.ok {
                            super::testhook::tag(ui, &line, "script.failure");
                        }
                    }
                }
            }
        });
}
