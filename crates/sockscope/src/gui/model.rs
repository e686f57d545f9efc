//! The window's plain data that several panels share — what a list follows, what a file is
//! asked for, a tab's notice, what the Rules and Scripts windows hold — with no egui in it.
//! The panels import it; it imports no panel (no import circles: `scripts/import-cycles`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::i18n::{S, t};
use crate::capture::{ExportFormat, Note, RecordFormat};
use sockscope_core::rules::script::Script;
use sockscope_core::rules::{Keep, Rule, RuleId};

/// Whether a list follows its newest rows.
#[derive(Clone, Copy, Debug, Default)]
pub struct Follow {
    /// The user scrolled away from the newest rows (the view stops following them).
    pub scrolled_up: bool,
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
}

impl FileRequest {
    /// True when the file is to be written (a save dialog), false when it is read.
    pub fn saves(&self) -> bool {
        !matches!(
            self,
            FileRequest::OpenProfile | FileRequest::SendFile | FileRequest::Pem(_)
        )
    }

    /// The file name suggested for a save.
    pub fn suggested_name(&self) -> String {
        match self {
            FileRequest::SaveProfile(name) => name.clone(),
            FileRequest::Export(format) => format!("sockscope.{}", format.extension()),
            FileRequest::Record(RecordFormat::Raw) => "received.bin".into(),
            FileRequest::Record(RecordFormat::TextLog) => "received.log".into(),
            FileRequest::LoadReport(true) => "load.json".into(),
            FileRequest::LoadReport(false) => "load.csv".into(),
            FileRequest::OpenProfile | FileRequest::SendFile | FileRequest::Pem(_) => String::new(),
        }
    }

    /// What the dialog is for, in words.
    pub fn title(&self) -> &'static str {
        t(match self {
            FileRequest::OpenProfile => S::DialogOpenProfile,
            FileRequest::SaveProfile(_) => S::DialogSaveProfile,
            FileRequest::SendFile => S::DialogSendFile,
            FileRequest::Export(_) => S::DialogExport,
            FileRequest::Record(_) => S::DialogRecord,
            FileRequest::LoadReport(_) => S::DialogLoadReport,
            FileRequest::Pem(_) => S::DialogPem,
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
    /// "Try on the log": what fired over the held records.
    pub(super) tried: Option<String>,
    /// The Tables view is shown instead of the rule editor.
    pub show_tables: bool,
    /// The name typed for a new table.
    pub(super) new_table: String,
    /// A table's live bytes as typed (name, text), while its field has the keyboard.
    pub(super) live_text: Option<(String, String)>,
    /// The last delete, for Undo.
    pub undo: Option<Undo>,
    /// The script being edited.
    pub script: usize,
    /// Its steps as RON while typed, for this script.
    pub steps_text: Option<(usize, String)>,
    /// Steps are edited as text (RON) instead of as a list.
    pub steps_as_text: bool,
    /// The script was started one step at a time.
    pub stepping: bool,
}
