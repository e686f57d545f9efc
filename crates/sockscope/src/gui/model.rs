//! The window's plain data that several panels share — what a list follows, what a file is
//! asked for, a tab's notice, what the Rules and Scripts windows hold — with no egui in it.
//! The panels import it; it imports no panel (no import circles: `scripts/import-cycles`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::i18n::{S, t};
use crate::capture::{ExportFormat, Note, RecordFormat};
use sockscope_core::rules::script::Script;
use std::collections::BTreeMap;

use sockscope_core::capture::series::{Pick, SERIES_CAP, SeriesSet};
use sockscope_core::codec::TextEncoding;
use sockscope_core::protocol::Protocol;
use sockscope_core::rules::{Automation, Keep, Machine, Rule, RuleError, RuleId};
use std::path::PathBuf;

/// Whether a list follows its newest rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Follow {
    /// The user scrolled away from the newest rows (the view stops following them).
    pub scrolled_up: bool,
    /// The user picked a row: the view stops following (as other log tools do) until End or
    /// the Follow button, so the picked row stays where it was while data keeps coming.
    pub held: bool,
    /// The picked row to bring into view (the detail pane opening under it shortens the
    /// list), until the user scrolls; with the offset last set for it.
    pub reveal: Option<(u64, Option<f32>)>,
}

impl Follow {
    /// Follows the newest rows again (End, the Follow button).
    pub fn resume(&mut self) {
        *self = Follow::default();
    }

    /// Stops following for a row the user picked, and keeps that row in view.
    pub fn hold(&mut self, seq: u64) {
        self.held = true;
        self.reveal = Some((seq, None));
    }
}

/// What a file is asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileRequest {
    /// A profile to open.
    OpenProfile,
    /// Where to save the tab's profile, suggesting a name.
    SaveProfile(String),
    /// A file to send.
    SendFile,
    /// Where to export the log.
    Export(ExportFormat),
    /// Where to record received bytes.
    Record(RecordFormat),
    /// Where to save the load generator's report (true: JSON, false: the CSV timeline).
    LoadReport(bool),
    /// A PEM file for a TLS setting.
    Pem(PemField),
    /// A protocol spec file to decode with (true: a relay's replies).
    OpenSpec(bool),
    /// Where to save a built-in protocol's spec (its name) for editing.
    ExportSpec(String),
    /// Where to export the selected message's kind, a column per field (CSV).
    /// (the name offered: the message kind's)
    ExportFields(String),
    /// Where to export the plotted series (CSV).
    ExportPlot,
}

impl FileRequest {
    /// True when the file is to be written (a save dialog), false when it is read.
    pub fn saves(&self) -> bool {
        !matches!(
            self,
            FileRequest::OpenProfile
                | FileRequest::SendFile
                | FileRequest::Pem(_)
                | FileRequest::OpenSpec(_)
        )
    }

    /// The file name suggested for a save.
    pub fn suggested_name(&self) -> String {
        match self {
            FileRequest::SaveProfile(name) | FileRequest::ExportFields(name) => name.clone(),
            FileRequest::Export(format) => format!("sockscope.{}", format.extension()),
            FileRequest::Record(RecordFormat::Raw) => "received.bin".into(),
            FileRequest::Record(RecordFormat::TextLog) => "received.log".into(),
            FileRequest::LoadReport(true) => "load.json".into(),
            FileRequest::LoadReport(false) => "load.csv".into(),
            FileRequest::ExportSpec(name) => format!("{name}.ron"),
            FileRequest::ExportPlot => "plot.csv".into(),
            FileRequest::OpenProfile
            | FileRequest::SendFile
            | FileRequest::Pem(_)
            | FileRequest::OpenSpec(_) => String::new(),
        }
    }

    /// What the dialog is for, in words.
    pub fn title(&self) -> &'static str {
        t(match self {
            FileRequest::OpenProfile => S::DialogOpenProfile,
            FileRequest::SaveProfile(_) => S::DialogSaveProfile,
            FileRequest::SendFile => S::DialogSendFile,
            FileRequest::Export(_) => S::DialogExport,
            FileRequest::ExportFields(_) => S::DialogExportFields,
            FileRequest::ExportPlot => S::DialogExportPlot,
            FileRequest::Record(_) => S::DialogRecord,
            FileRequest::LoadReport(_) => S::DialogLoadReport,
            FileRequest::Pem(_) => S::DialogPem,
            FileRequest::OpenSpec(_) => S::DialogOpenSpec,
            FileRequest::ExportSpec(_) => S::DialogExportSpec,
        })
    }
}

/// The TLS settings that name a PEM file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PemField {
    /// The CA file a client verifies with.
    CaFile,
    /// A client's certificate.
    ClientCert,
    /// A client's key.
    ClientKey,
    /// A server's certificate.
    ServerCert,
    /// A server's key.
    ServerKey,
    /// The CA a server checks client certificates with.
    ClientCa,
    /// A certificate whose SHA-256 a client pins (the field holds the SHA-256, not the path).
    Pin,
}

impl PemField {
    /// The setting in `tls` this field names.
    pub fn slot(self, tls: &mut crate::engine::TlsSettings) -> &mut String {
        use crate::engine::{ServerCert, Verify};
        match self {
            PemField::CaFile => {
                if !matches!(tls.verify, Verify::CaFile(_)) {
                    tls.verify = Verify::CaFile(String::new());
                }
                match &mut tls.verify {
                    Verify::CaFile(path) => path,
                    _ => &mut tls.client_ca,
                }
            }
            PemField::ClientCert => &mut tls.client_cert,
            PemField::ClientKey => &mut tls.client_key,
            PemField::ServerCert | PemField::ServerKey => {
                if !matches!(tls.server_cert, ServerCert::Files { .. }) {
                    tls.server_cert = ServerCert::Files {
                        cert: String::new(),
                        key: String::new(),
                    };
                }
                match (&mut tls.server_cert, self) {
                    (ServerCert::Files { cert, .. }, PemField::ServerCert) => cert,
                    (ServerCert::Files { key, .. }, _) => key,
                    _ => &mut tls.client_ca,
                }
            }
            PemField::ClientCa => &mut tls.client_ca,
            PemField::Pin => {
                if !matches!(tls.verify, Verify::Pin(_)) {
                    tls.verify = Verify::Pin(String::new());
                }
                match &mut tls.verify {
                    Verify::Pin(pin) => pin,
                    _ => &mut tls.client_ca,
                }
            }
        }
    }
}

/// How long an information notice stays (errors stay until dismissed).
pub(super) const NOTICE_FOR: Duration = Duration::from_secs(8);

/// A message for one tab, over its log (a profile that failed to open, say).
#[derive(Clone, Debug)]
pub struct Notice {
    /// What happened (worded when shown, in the language of the moment).
    pub note: Arc<Note>,
    /// Shown in the error colour (and stays until dismissed).
    pub error: bool,
    /// When it was given.
    pub at: Instant,
}

impl Notice {
    /// The notice in words.
    pub fn text(&self) -> String {
        self.note.to_string()
    }
}

/// What the Rules and Scripts windows ask of the tab besides applying the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesAction {
    /// Run script `n` of the form against the session's peer.
    Run(usize),
    /// Stop the running script.
    Stop,
    /// Run script `n` one step at a time (its first step now).
    RunStepping(usize),
    /// Run the next step of a script run one step at a time.
    Step,
    /// The rules again, keeping of the running ones only this ("Reset tables and state",
    /// "Reset counts").
    Reset(Keep),
    /// Table `name` of the running rules holds these bytes from now on.
    SetLiveTable(String, Vec<u8>),
}

/// Something deleted that Undo brings back.
pub enum Undo {
    /// A rule and where it was.
    Rule(usize, Box<Rule>),
    /// A script and where it was.
    Script(usize, Script),
    /// A script's step: which script, the places of the Repeats it was in, its own place.
    Step {
        /// The script's place.
        script: usize,
        /// The places of the Repeat steps it was inside, outermost first.
        path: Vec<usize>,
        /// Its place among its neighbours.
        at: usize,
        /// The step.
        step: Box<sockscope_core::rules::script::Step>,
    },
}

/// Where a step was removed, kept as room of its height while the pointer is over it, so
/// the next step's Remove button does not slide under the pointer.
#[derive(Clone, Debug, PartialEq)]
pub struct StepGap {
    /// The Repeats' places, outermost first.
    pub path: Vec<usize>,
    /// The removed step's place.
    pub at: usize,
    /// Its height, in points.
    pub height: f32,
}

/// A rule the running session holds back because the form's version has a mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// Its place in the form.
    pub index: usize,
    /// The mistake, as the core says it ("Rule “x”: …").
    pub message: String,
    /// Its last valid version runs in its place (else it does not answer until fixed).
    pub previous: bool,
}

/// The rules a session runs: the form's, where each rule with a mistake is held back (its
/// last valid version runs, or nothing when it never was valid) and a table with a mistake
/// keeps its last valid start value. One broken rule no longer freezes every other edit.
#[derive(Clone, Debug)]
pub struct Running {
    /// What the session is given.
    pub automation: Automation,
    /// The rules held back, in order.
    pub held: Vec<Held>,
    /// Every mistake of the form's rules and tables.
    pub errors: Vec<RuleError>,
}

/// Each rule's and table's last version without a mistake, by id and name.
#[derive(Clone, Debug, Default)]
pub struct LastValid {
    rules: BTreeMap<RuleId, Rule>,
    tables: BTreeMap<String, String>,
}

impl LastValid {
    /// Notes what of `automation` is valid, then what runs in its place.
    pub fn running(&mut self, automation: &Automation, encoding: TextEncoding) -> Running {
        self.running_for(automation, encoding, None)
    }

    /// [`running`](Self::running) for a tab whose messages `protocol` decodes (received going
    /// its `Dir`): a rule reading a field the protocol has none of (`f.msgid`) is a mistake,
    /// said in the editor, as `sockscope run` says it.
    pub fn running_for(
        &mut self,
        automation: &Automation,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<sockscope_core::protocol::Protocol>,
            sockscope_core::protocol::Dir,
        )>,
    ) -> Running {
        let (_, errors) = Machine::compile_valid_for(automation, encoding, protocol.clone());
        let bad_rule = |i: usize| errors.iter().any(|e| e.rule == Some(i));
        for (i, rule) in automation.rules.iter().enumerate() {
            if rule.id != 0 && !bad_rule(i) {
                self.rules.insert(rule.id, rule.clone());
            }
        }
        for (name, text) in &automation.tables {
            if sockscope_core::codec::hex::parse(text).is_ok() {
                self.tables.insert(name.clone(), text.clone());
            }
        }
        let mut running = automation.clone();
        let mut held = Vec::new();
        if errors.is_empty() {
            return Running {
                automation: running,
                held,
                errors,
            };
        }
        running
            .tables
            .retain(|_, text| sockscope_core::codec::hex::parse(text).is_ok());
        for (name, text) in &automation.tables {
            if sockscope_core::codec::hex::parse(text).is_err()
                && let Some(valid) = self.tables.get(name)
            {
                running.tables.insert(name.clone(), valid.clone());
            }
        }
        for error in &errors {
            let Some(i) = error.rule else { continue };
            let (Some(rule), Some(slot)) = (automation.rules.get(i), running.rules.get_mut(i))
            else {
                continue;
            };
            let previous = self.rules.get(&rule.id).cloned();
            held.push(Held {
                index: i,
                message: error.message.clone(),
                previous: previous.is_some(),
            });
            *slot = previous.unwrap_or_else(|| placeholder(rule));
        }
        // A last valid version may read a table that is gone now: it waits too.
        let (_, left) = Machine::compile_valid_for(&running, encoding, protocol);
        for error in left {
            let Some(i) = error.rule else { continue };
            if let (Some(rule), Some(slot)) = (automation.rules.get(i), running.rules.get_mut(i)) {
                *slot = placeholder(rule);
                match held.iter_mut().find(|h| h.index == i) {
                    Some(h) => h.previous = false,
                    None => held.push(Held {
                        index: i,
                        message: error.message.clone(),
                        previous: false,
                    }),
                }
            }
        }
        held.sort_by_key(|h| h.index);
        Running {
            automation: running,
            held,
            errors,
        }
    }
}

/// A rule that never answers, in the place (and with the id, so the count) of one held back.
fn placeholder(rule: &Rule) -> Rule {
    Rule {
        id: rule.id,
        name: rule.name.clone(),
        enabled: false,
        ..Rule::default()
    }
}

impl Undo {
    /// What was deleted, in words ("Deleted “ping”").
    pub fn text(&self, automation: &Automation) -> String {
        match self {
            Undo::Rule(_, rule) => super::i18n::tf(
                S::DeletedRule,
                &[&sockscope_core::rules::rule_label(rule, 0)],
            ),
            Undo::Script(_, script) => super::i18n::tf(S::DeletedScript, &[&script.name]),
            Undo::Step {
                script, path, at, ..
            } => {
                let name = automation
                    .scripts
                    .get(*script)
                    .map_or("", |s| s.name.as_str());
                let place: Vec<String> = path
                    .iter()
                    .chain(std::iter::once(at))
                    .map(|i| (i + 1).to_string())
                    .collect();
                super::i18n::tf(S::RemovedStep, &[&place.join("."), &name])
            }
        }
    }
}

/// A "Try on the log" result and what it was made with: other rules clear it, another
/// language says it again.
#[derive(Clone, Debug)]
pub struct Tried {
    /// The rules as they ran.
    pub rules: Automation,
    /// The session's encoding then.
    pub encoding: TextEncoding,
    /// The language it is written in.
    pub lang: super::i18n::Lang,
    /// The result, in words.
    pub text: String,
}

/// The name of a copy of `name`, as file managers name copies: "ping (2)", then "ping (3)"
/// when that is taken; a copy of "ping (2)" is "ping (3)". An empty name stays empty (the
/// list calls it by its place).
pub fn copy_name(name: &str, taken: &[&str]) -> String {
    if name.trim().is_empty() {
        return String::new();
    }
    let base = name
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once(" ("))
        .filter(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .map_or(name, |(base, _)| base);
    // Of these many names one is free.
    (2..=taken.len() + 2)
        .map(|n| format!("{base} ({n})"))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or_default()
}

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
    /// The state the inline test starts in (`None`: the start state).
    pub test_state: Option<String>,
    /// The selected rule's condition as text while typed ("Edit as text"), for that rule.
    pub(super) ron: Option<(RuleId, String)>,
    /// "Try on the log": what fired over the held records, with the rules (as they run),
    /// encoding and language it was made with.
    pub(super) tried: Option<Tried>,
    /// The Tables view is shown instead of the rule editor.
    pub show_tables: bool,
    /// The name typed for a new table.
    pub(super) new_table: String,
    /// A table's live bytes as typed (name, text), while its field has the keyboard.
    pub(super) live_text: Option<(String, String)>,
    /// The last delete, for Undo.
    pub undo: Option<Undo>,
    /// Each rule's last version without a mistake: it runs while the form's has one.
    pub last_valid: LastValid,
    /// The room a removed step leaves while the pointer is on it.
    pub step_gap: Option<StepGap>,
    /// The script being edited.
    pub script: usize,
    /// Its steps as RON while typed, for this script.
    pub steps_text: Option<(usize, String)>,
    /// Steps are edited as text (RON) instead of as a list.
    pub steps_as_text: bool,
    /// The script was started one step at a time.
    pub stepping: bool,
}

/// The steps inside the Repeats at `path` (outermost first), if they are there.
fn steps_at<'a>(
    steps: &'a mut Vec<sockscope_core::rules::script::Step>,
    path: &[usize],
) -> Option<&'a mut Vec<sockscope_core::rules::script::Step>> {
    let Some((first, rest)) = path.split_first() else {
        return Some(steps);
    };
    match steps.get_mut(*first)? {
        sockscope_core::rules::script::Step::Repeat(_, inner) => steps_at(inner, rest),
        _ => None,
    }
}

impl AutomationView {
    /// Brings back the last thing deleted (a rule, a script or a step) where it was; true
    /// if it was a rule (the running rules change).
    pub fn undo_last(&mut self, automation: &mut Automation) -> bool {
        match self.undo.take() {
            Some(Undo::Rule(index, rule)) => {
                let at = index.min(automation.rules.len());
                automation.rules.insert(at, *rule);
                self.selected = at;
                self.show_tables = false;
                true
            }
            Some(Undo::Script(index, script)) => {
                let at = index.min(automation.scripts.len());
                automation.scripts.insert(at, script);
                self.script = at;
                self.steps_text = None;
                false
            }
            Some(Undo::Step {
                script,
                path,
                at,
                step,
            }) => {
                if let Some(target) = automation.scripts.get_mut(script) {
                    // Inside its Repeats; at the end of the script if they are gone.
                    match steps_at(&mut target.steps, &path) {
                        Some(steps) => steps.insert(at.min(steps.len()), *step),
                        None => target.steps.push(*step),
                    }
                    self.script = script;
                    self.steps_text = None;
                }
                self.step_gap = None;
                false
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod running_tests {
    use super::*;
    use sockscope_core::rules::{Cond, Match};

    #[test]
    fn a_rule_with_a_mistake_runs_its_last_valid_version_and_the_others_as_edited() {
        let mut automation = Automation {
            enabled: true,
            rules: vec![
                Rule {
                    name: "a".into(),
                    when: Cond::Bytes(Match::Exact, "41".into()),
                    ..Rule::default()
                },
                Rule {
                    name: "b".into(),
                    when: Cond::Text(Match::Exact, "b".into()),
                    ..Rule::default()
                },
            ],
            ..Automation::default()
        };
        automation.tables.insert("t".into(), "00 01".into());
        automation.ensure_ids();
        let mut last = LastValid::default();
        let encoding = TextEncoding::UTF_8;
        assert!(last.running(&automation, encoding).held.is_empty());
        automation.rules[0].when = Cond::Bytes(Match::Exact, "4G".into());
        automation.rules[1].name = "b edited".into();
        automation.tables.insert("t".into(), "0G".into());
        automation.rules.push(Rule {
            name: "new".into(),
            when: Cond::Bytes(Match::Exact, "ZZ".into()),
            ..Rule::default()
        });
        automation.ensure_ids();
        let running = last.running(&automation, encoding);
        let held: Vec<(usize, bool)> = running.held.iter().map(|h| (h.index, h.previous)).collect();
        assert_eq!(held, [(0, true), (2, false)]);
        assert_eq!(
            running.automation.rules[0].when,
            Cond::Bytes(Match::Exact, "41".into())
        );
        assert_eq!(running.automation.rules[1].name, "b edited");
        assert!(!running.automation.rules[2].enabled);
        assert_eq!(running.automation.rules[2].id, automation.rules[2].id);
        assert_eq!(running.automation.tables["t"], "00 01");
        assert!(Machine::compile(&running.automation, encoding).is_ok());
    }
}

#[cfg(test)]
mod copy_tests {
    use super::copy_name;

    #[test]
    fn a_copy_is_named_as_file_managers_name_copies() {
        assert_eq!(copy_name("ping", &["ping"]), "ping (2)");
        assert_eq!(copy_name("ping", &["ping", "ping (2)"]), "ping (3)");
        assert_eq!(copy_name("ping (2)", &["ping", "ping (2)"]), "ping (3)");
        assert_eq!(copy_name("f(x)", &["f(x)"]), "f(x) (2)");
        assert_eq!(copy_name("", &[""]), "");
    }
}

/// What X is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XAxis {
    /// When the message was received.
    #[default]
    Time,
    /// The value's number in its series.
    Sample,
    /// Another plotted field (its index), from the same message.
    Field(usize),
}

/// What the Plot window asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlotAction {
    /// Open the window, or close it.
    Toggle,
    /// Plot a field, named for people.
    Add(Pick, String),
    /// Stop plotting field `n`.
    Remove(usize),
    /// Freeze the view (values are still collected), or let it move again.
    Pause,
    /// Fit the view to the data again.
    ResetView,
    /// Choose X.
    X(XAxis),
    /// Stacked plots (true) or one plot with a legend.
    Stacked(bool),
    /// Write the series to this file (CSV).
    Export(PathBuf),
}

/// A tab's plots: the window's state and the series. Plain data.
pub struct PlotView {
    /// The window is open.
    pub open: bool,
    /// The plotted fields and their values.
    pub set: SeriesSet,
    /// What X is.
    pub x: XAxis,
    /// Several fields as stacked plots with linked X axes (else one plot with a legend).
    pub stacked: bool,
    /// Paused at this log record: values from it on are collected, not drawn.
    pub paused_at: Option<u64>,
    /// Records not decoded yet (the plots are catching up).
    pub behind: u64,
    /// Fit the view to the data at the next frame.
    pub(crate) reset: bool,
    /// The protocol the series were decoded with (another one starts them again).
    pub(crate) with: Option<Arc<Protocol>>,
    /// Decimated points, reused from frame to frame.
    pub(crate) scratch: Vec<[f64; 2]>,
    /// The X range each plot showed in the last frame drawn.
    pub shown_x: Vec<(f64, f64)>,
    /// What the last frame said over a plot left empty (fields never in a message with X's).
    pub unpaired: Vec<String>,
}

impl Default for PlotView {
    fn default() -> Self {
        Self {
            open: false,
            set: SeriesSet::new(SERIES_CAP),
            x: XAxis::Time,
            stacked: true,
            paused_at: None,
            behind: 0,
            reset: false,
            shown_x: Vec::new(),
            unpaired: Vec::new(),
            with: None,
            scratch: Vec::new(),
        }
    }
}
