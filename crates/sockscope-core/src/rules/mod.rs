//! Auto-reply rules (自动应答): conditions on each received message and what to do when one
//! holds — reply (to the sender or to all, after a delay, with values taken from the request),
//! write into a table, set the session's state, close the connection — so a session can *be* a
//! device: a Modbus slave, an AT modem, a sensor that answers polls.
//!
//! [`Automation`] is what a profile saves; [`Machine`] is it compiled, run on the I/O thread
//! for every message (so replies go out while the window is hidden, or with no window at all).
//! [`Machine::test`] answers "which rule fires for these bytes, and with what reply" without a
//! socket — the inline test of the Rules panel and the check of the shipped simulators.

pub mod cond;
/// The expression language (a layer of its own, under codec's payloads and protocols).
pub use crate::expr;
pub mod script;
pub mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use cond::{Compare, Cond, CondKind, Match};
pub use template::{FieldReply, FieldValues, ReplySpec};

use cond::{Env, Matcher, Message};
use expr::{Ctx, Expr};
use template::Template;

use crate::codec::TextEncoding;
use crate::i18n::{S, tf};

/// A rule part as the text a user edits (RON): `depth` levels on their own lines, the rest
/// kept on one line.
pub fn to_text<T: Serialize>(value: &T, depth: usize) -> String {
    let config = ron::ser::PrettyConfig::new()
        .indentor("  ".to_owned())
        .depth_limit(depth);
    ron::ser::to_string_pretty(value, config).unwrap_or_default()
}

/// A rule part typed as RON (a condition, a script's steps); the error says where it stops.
pub fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    ron::from_str(text).map_err(|e| {
        tf(
            S::ProfileSyntax,
            &[&e.span.start.line, &e.span.start.col, &e.code],
        )
    })
}

/// True for a type's default (fields left out of a saved profile when they are).
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_true(value: &bool) -> bool {
    *value
}

/// Where a reply goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyTo {
    /// Whoever sent the message.
    #[default]
    Sender,
    /// Every connected client (TCP server); the sender for UDP.
    All,
    /// One peer: `192.168.1.20:5000`, or `192.168.1.20` for the first connection from there.
    Peer(String),
}

/// Where a reply goes, resolved when the rules are compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dest {
    /// Whoever sent the message.
    Sender,
    /// Every connected client.
    All,
    /// This address.
    Addr(SocketAddr),
    /// The first connection from this IP.
    Ip(std::net::IpAddr),
}

impl ReplyTo {
    /// Where it goes, or why the address typed cannot be read.
    pub fn dest(&self) -> Result<Dest, String> {
        Ok(match self {
            ReplyTo::Sender => Dest::Sender,
            ReplyTo::All => Dest::All,
            ReplyTo::Peer(text) => {
                let text = text.trim();
                match text.parse::<SocketAddr>() {
                    Ok(addr) => Dest::Addr(addr),
                    Err(_) => Dest::Ip(text.parse().map_err(|_| tf(S::RuleBadPeer, &[&text]))?),
                }
            }
        })
    }
}

/// Bytes written into a table when a rule fires: `table[at..] = value`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableWrite {
    /// The table's name.
    pub table: String,
    /// Byte offset, an expression (`2 * rx.u16be@8`).
    pub at: String,
    /// The bytes, an expression (`rx[10..12]`).
    pub value: String,
}

/// A rule's identity while the program runs: hit counts and editor state follow it through
/// deletes, moves and edits. Not saved (a loaded rule gets a new one).
pub type RuleId = u64;

/// One rule, as saved in a profile.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
    /// Who it is while the program runs (0: none given yet; see [`Automation::ensure_ids`]).
    #[serde(skip)]
    pub id: RuleId,
    /// What the user calls it.
    pub name: String,
    /// Off: skipped.
    #[serde(skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// When it fires.
    pub when: Cond,
    /// What it answers, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplySpec>,
    /// Where the reply goes.
    #[serde(skip_serializing_if = "is_default")]
    pub to: ReplyTo,
    /// Milliseconds before the reply goes.
    #[serde(skip_serializing_if = "is_default")]
    pub delay_ms: u64,
    /// Table writes, in order, before the reply is made (a write reads back at once).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write: Vec<TableWrite>,
    /// The state the connection (or session) is in afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_state: Option<String>,
    /// Close the connection after the reply (TCP).
    #[serde(skip_serializing_if = "is_default")]
    pub close: bool,
    /// Look at the next rules too (off: the first rule that fires is the last).
    #[serde(skip_serializing_if = "is_default")]
    pub next: bool,
}

// Two rules are the same rule when everything saved is the same: the id is the program's
// bookkeeping, not part of the rule.
impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.enabled == other.enabled
            && self.when == other.when
            && self.reply == other.reply
            && self.to == other.to
            && self.delay_ms == other.delay_ms
            && self.write == other.write
            && self.set_state == other.set_state
            && self.close == other.close
            && self.next == other.next
    }
}

impl Eq for Rule {}

impl Default for Rule {
    fn default() -> Self {
        Self {
            id: 0,
            name: String::new(),
            enabled: true,
            when: Cond::Always,
            reply: None,
            to: ReplyTo::Sender,
            delay_ms: 0,
            write: Vec::new(),
            set_state: None,
            close: false,
            next: false,
        }
    }
}

/// Whose state a rule's `set_state` changes and its `State` condition reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateScope {
    /// Each connection (each UDP peer) has its own, from the start state: a client that
    /// logged in does not log in the next one (as a real device does).
    #[default]
    Connection,
    /// One for the whole session, shared by every client.
    Session,
}

/// A session's rules, tables and starting state, as saved in a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Automation {
    /// Off: no rule runs (they stay in the profile).
    pub enabled: bool,
    /// In order; the first that fires ends the search unless it says `next`.
    pub rules: Vec<Rule>,
    /// Named byte tables as hex (a register map: `"holding": "00 0A 00 14"`).
    pub tables: BTreeMap<String, String>,
    /// The state at open (of each connection, or of the session).
    pub state: String,
    /// Whose state it is.
    #[serde(skip_serializing_if = "is_default")]
    pub state_scope: StateScope,
    /// Answer a frame left unfinished when the stream ended (off: a partial frame is logged
    /// but no rule sees it — a terminal's last line without its line end is not a command).
    #[serde(skip_serializing_if = "is_default")]
    pub answer_partial: bool,
    /// Scripted conversations (测试脚本), run on request (the Script panel, `sockscope test`).
    pub scripts: Vec<script::Script>,
}

/// The next id a rule without one gets.
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A fresh rule id, never given before in this program run.
pub fn new_rule_id() -> RuleId {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Automation {
    /// True when opening a session should start the rules.
    pub fn active(&self) -> bool {
        self.enabled && self.rules.iter().any(|r| r.enabled)
    }

    /// Gives every rule without an id (loaded, added, pasted) and every copy of another's id
    /// (duplicated) an id of its own.
    pub fn ensure_ids(&mut self) {
        let mut seen = std::collections::BTreeSet::new();
        for rule in &mut self.rules {
            if rule.id == 0 || !seen.insert(rule.id) {
                rule.id = new_rule_id();
                seen.insert(rule.id);
            }
        }
    }
}

/// A rule that could not be compiled: which and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 0-based index; `None` for a table.
    pub rule: Option<usize>,
    /// The sentence, naming the rule.
    pub message: String,
    /// The decoded field it names that the protocol lacks (`body.speedd`), to place the
    /// mistake in the profile's text.
    pub field: Option<String>,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RuleError {}

struct Write {
    table: String,
    at: Expr,
    value: Expr,
}

struct Compiled {
    id: RuleId,
    name: String,
    /// Off, or not compiled (a rule with a mistake never fires).
    enabled: bool,
    when: Matcher,
    reply: Option<Template>,
    to: Dest,
    delay: Duration,
    write: Vec<Write>,
    set_state: Option<String>,
    close: bool,
    next: bool,
}

/// How often a rule fired and when it last did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hits {
    /// Times it fired.
    pub count: u64,
    /// When it last fired.
    pub last: Option<SystemTime>,
    /// Times its reply could not be made (a value that did not fit its field, say): the
    /// message went unanswered, and that is said, counted and reflected in `run`'s exit code.
    pub failed: u64,
}

/// Bytes a rule wrote into a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The table.
    pub table: String,
    /// The byte offset.
    pub at: usize,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What one rule did for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// Which rule (0-based).
    pub rule: usize,
    /// Its id.
    pub id: RuleId,
    /// Its name as shown.
    pub name: String,
    /// Its reply's bytes, if it has one and it rendered.
    pub reply: Option<Vec<u8>>,
    /// Where the reply goes.
    pub to: Dest,
    /// After how long.
    pub delay: Duration,
    /// Close the connection after.
    pub close: bool,
    /// The state it set, if it sets one.
    pub state: Option<String>,
    /// What it wrote into tables.
    pub writes: Vec<Written>,
    /// Why the reply or a write failed (the rule fired; nothing was sent).
    pub error: Option<String>,
}

/// What to carry over from the rules running now when new ones replace them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    /// Each rule's hit count (by its id).
    pub hits: bool,
    /// The tables' live bytes (of each table whose start value did not change) and every
    /// connection's state (when the start state and its scope did not change).
    pub tables_and_state: bool,
}

impl Default for Keep {
    /// An edit keeps everything.
    fn default() -> Self {
        Self {
            hits: true,
            tables_and_state: true,
        }
    }
}

/// One rule that fired, as the log and the window are told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleHit {
    /// Its id.
    pub id: RuleId,
    /// Its name as shown.
    pub name: String,
    /// Times it fired so far.
    pub count: u64,
    /// The length of its reply, if it made one.
    pub reply: Option<usize>,
    /// The delay before the reply.
    pub delay: Duration,
    /// It closes the connection.
    pub close: bool,
    /// Its reply could not be made (the reason is said in the log).
    pub failed: bool,
}

/// What the rules did for one message: which fired, and the states and tables when they
/// changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesReport {
    /// Who sent the message (`None`: a report of the state and tables alone).
    pub peer: Option<SocketAddr>,
    /// Each rule that fired, in order.
    pub fired: Vec<RuleHit>,
    /// Every state now (`None`: the session's), when one changed.
    pub states: Option<Vec<(Option<SocketAddr>, String)>>,
    /// Every table now, when one was written.
    pub tables: Option<BTreeMap<String, Vec<u8>>>,
}

/// What the inline test starts from besides the rules: the live tables and a state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Start {
    /// The tables as they are now (`None`: the start values).
    pub tables: Option<BTreeMap<String, Vec<u8>>>,
    /// The state to test in (`None`: the start state).
    pub state: Option<String>,
    /// The next `{{counter}}` and its step, as the running session has them (`None`: 1 and
    /// 1, a session that has not sent yet).
    pub counter: Option<(i64, i64)>,
}

/// The inline test's answer: what fired, and the rules left out because of a mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trial {
    /// What each rule that fired did, in order.
    pub fired: Vec<Fired>,
    /// Rules (and tables) with a mistake: they were not tried.
    pub skipped: Vec<RuleError>,
}

/// The rules compiled, with their state, tables and hit counters.
pub struct Machine {
    rules: Vec<Compiled>,
    start_tables: BTreeMap<String, Vec<u8>>,
    tables: BTreeMap<String, Vec<u8>>,
    start_state: String,
    scope: StateScope,
    /// The session's state ([`StateScope::Session`]).
    shared: String,
    /// Each connection's state, once it differs from the start ([`StateScope::Connection`]).
    states: BTreeMap<SocketAddr, String>,
    encoding: TextEncoding,
    hits: Vec<Hits>,
    /// The counts of rules deleted since (by id): a rule brought back by Undo goes on from
    /// its count.
    gone: BTreeMap<RuleId, Hits>,
    rng: u64,
    keep: Keep,
    /// Live table bytes the user typed, put in when it takes over.
    typed: Vec<(String, Vec<u8>)>,
    answer_partial: bool,
    /// A state or a table changed since the last report.
    changed: (bool, bool),
    /// The session's protocol (`f.NAME` in conditions, replies built by fields) and which
    /// way received messages go.
    protocol: Option<(
        std::sync::Arc<crate::protocol::Protocol>,
        crate::protocol::Dir,
    )>,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("rules", &self.rules.len())
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

/// A rule's name as shown: its own, or "rule N".
pub fn rule_label(rule: &Rule, index: usize) -> String {
    if rule.name.trim().is_empty() {
        tf(S::RuleNumbered, &[&(index + 1)])
    } else {
        rule.name.clone()
    }
}

/// The id a rule without one runs under: one made of its place (a profile run without the
/// window, where nothing moves).
pub fn place_id(index: usize) -> RuleId {
    1 << 63 | index as u64
}

/// The id a rule runs under: its own, or its place's.
fn id_of(rule: &Rule, index: usize) -> RuleId {
    if rule.id == 0 {
        place_id(index)
    } else {
        rule.id
    }
}

/// Checks what a rule's reply and writes read against what its condition gives.
fn check_reads(
    rule: &Rule,
    when: &Matcher,
    reply: Option<&Template>,
    tables: &BTreeMap<String, Vec<u8>>,
) -> Result<(), String> {
    let groups = when.groups();
    let mut caps = reply.map(Template::caps_used).unwrap_or_default();
    let mut used_tables = reply.map(Template::tables_used).unwrap_or_default();
    for write in &rule.write {
        for text in [&write.at, &write.value] {
            if let Ok(expr) = Expr::parse(text, 1) {
                caps.extend(expr.caps_used());
                used_tables.extend(expr.tables_used());
            }
        }
    }
    if let Some(cap) = caps.iter().find(|cap| !groups.has(cap)) {
        return Err(if groups.any {
            tf(S::RuleNoSuchGroup, &[cap])
        } else {
            tf(S::RuleCapNoRegex, &[cap])
        });
    }
    if let Some(table) = used_tables.iter().find(|t| !tables.contains_key(*t)) {
        return Err(tf(S::ExprNoTable, &[table]));
    }
    Ok(())
}

/// Checks that every decoded field a rule reads or writes is one the protocol's frames can
/// have: the name it lacks and why.
fn check_fields(
    rule: &Rule,
    reply: Option<&Template>,
    protocol: Option<&crate::protocol::Protocol>,
) -> Result<(), (String, String)> {
    let mut used = rule.when.fields_used();
    used.extend(reply.map(Template::fields_used).unwrap_or_default());
    for write in &rule.write {
        for text in [&write.at, &write.value] {
            if let Ok(expr) = Expr::parse(text, 1) {
                used.extend(expr.fields_used());
            }
        }
    }
    if reply.is_some_and(Template::by_fields) && protocol.is_none() {
        return Err((
            String::new(),
            crate::i18n::t(S::RuleReplyNoProtocol).to_owned(),
        ));
    }
    for name in used {
        match protocol {
            None => return Err((name.clone(), tf(S::RuleFieldNoProtocol, &[&name]))),
            Some(p) => {
                if let Some(why) = p.lacks_field(&name) {
                    return Err((name, why));
                }
            }
        }
    }
    // A value written as a number that no field of that name can hold: said now, not at the
    // first message (when nothing would be sent).
    if let (Some(reply), Some(p)) = (reply, protocol) {
        for (path, value) in reply.constant_fields() {
            if let Some(why) = p.never_fits(path, &value) {
                return Err((path.to_owned(), why));
            }
        }
    }
    Ok(())
}

/// Whether the decoded fields a rule reads are checked when it compiles.
#[derive(Clone, Copy)]
enum FieldCheck<'a> {
    /// No: the caller does not know the session's protocol.
    Unchecked,
    /// Against the session's protocol (`None`: it has none).
    Against(Option<&'a crate::protocol::Protocol>),
}

fn compile_rule(
    rule: &Rule,
    index: usize,
    tables: &BTreeMap<String, Vec<u8>>,
    encoding: TextEncoding,
    protocol: FieldCheck<'_>,
) -> Result<Compiled, RuleError> {
    let fail = |why: String| RuleError {
        rule: Some(index),
        message: tf(S::RuleFailed, &[&rule_label(rule, index), &why]),
        field: None,
    };
    let when = rule.when.compile(encoding).map_err(fail)?;
    let reply = rule
        .reply
        .as_ref()
        .map(|spec| Template::compile(spec, encoding))
        .transpose()
        .map_err(fail)?;
    let write = rule
        .write
        .iter()
        .map(|w| {
            if !tables.contains_key(&w.table) {
                return Err(fail(tf(S::ExprNoTable, &[&w.table])));
            }
            Ok(Write {
                table: w.table.clone(),
                at: Expr::parse(&w.at, 1).map_err(|e| fail(e.0))?,
                value: Expr::parse(&w.value, 1).map_err(|e| fail(e.0))?,
            })
        })
        .collect::<Result<_, _>>()?;
    check_reads(rule, &when, reply.as_ref(), tables).map_err(fail)?;
    if let FieldCheck::Against(protocol) = protocol {
        check_fields(rule, reply.as_ref(), protocol).map_err(|(field, why)| RuleError {
            field: Some(field).filter(|f| !f.is_empty()),
            ..fail(why)
        })?;
    }
    Ok(Compiled {
        id: id_of(rule, index),
        name: rule_label(rule, index),
        enabled: rule.enabled,
        when,
        reply,
        to: rule.to.dest().map_err(fail)?,
        delay: Duration::from_millis(rule.delay_ms),
        write,
        set_state: rule.set_state.clone(),
        close: rule.close,
        next: rule.next,
    })
}

/// The machine when nothing was wrong, else the first mistake.
fn first_mistake((machine, mut errors): (Machine, Vec<RuleError>)) -> Result<Machine, RuleError> {
    if errors.is_empty() {
        Ok(machine)
    } else {
        Err(errors.remove(0))
    }
}

impl Machine {
    /// Compiles every rule for a session in `encoding`; the first mistake is the error.
    pub fn compile(automation: &Automation, encoding: TextEncoding) -> Result<Machine, RuleError> {
        first_mistake(Machine::compile_valid(automation, encoding))
    }

    /// Compiles what can be: a rule with a mistake is kept in its place but never fires, a
    /// table with a mistake is left out. Returns the machine and every mistake. The decoded
    /// fields rules read (`f.NAME`) are not checked, and none are there: a caller that knows
    /// the session's protocol uses [`compile_valid_for`](Self::compile_valid_for).
    pub fn compile_valid(
        automation: &Automation,
        encoding: TextEncoding,
    ) -> (Machine, Vec<RuleError>) {
        Machine::compile_inner(automation, encoding, None, false)
    }

    /// [`compile`](Self::compile) for a session whose messages `protocol` decodes (received
    /// going its `Dir`): rules may read `f.NAME` and reply by fields; a field the protocol has
    /// none of is the rule's mistake.
    pub fn compile_for(
        automation: &Automation,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
    ) -> Result<Machine, RuleError> {
        first_mistake(Machine::compile_valid_for(automation, encoding, protocol))
    }

    /// [`compile_valid`](Self::compile_valid) with the session's protocol, as
    /// [`compile_for`](Self::compile_for).
    pub fn compile_valid_for(
        automation: &Automation,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
    ) -> (Machine, Vec<RuleError>) {
        Machine::compile_inner(automation, encoding, protocol, true)
    }

    fn compile_inner(
        automation: &Automation,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
        check_fields: bool,
    ) -> (Machine, Vec<RuleError>) {
        let mut errors = Vec::new();
        let mut tables = BTreeMap::new();
        for (name, hex) in &automation.tables {
            match crate::codec::hex::parse(hex) {
                Ok(bytes) => {
                    tables.insert(name.clone(), bytes);
                }
                Err(e) => errors.push(RuleError {
                    rule: None,
                    message: tf(S::RuleBadTable, &[name, &e]),
                    field: None,
                }),
            }
        }
        let mut rules = Vec::new();
        for (index, rule) in automation.rules.iter().enumerate() {
            match compile_rule(
                rule,
                index,
                &tables,
                encoding,
                if check_fields {
                    FieldCheck::Against(protocol.as_ref().map(|(p, _)| &**p))
                } else {
                    FieldCheck::Unchecked
                },
            ) {
                Ok(compiled) => rules.push(compiled),
                Err(error) => {
                    errors.push(error);
                    rules.push(Compiled {
                        id: id_of(rule, index),
                        name: rule_label(rule, index),
                        enabled: false,
                        when: Matcher::Always,
                        reply: None,
                        to: Dest::Sender,
                        delay: Duration::ZERO,
                        write: Vec::new(),
                        set_state: None,
                        close: false,
                        next: false,
                    });
                }
            }
        }
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        let machine = Machine {
            hits: vec![Hits::default(); rules.len()],
            gone: BTreeMap::new(),
            rules,
            start_tables: tables.clone(),
            tables,
            start_state: automation.state.clone(),
            scope: automation.state_scope,
            shared: automation.state.clone(),
            states: BTreeMap::new(),
            encoding,
            rng: seed | 1,
            keep: Keep::default(),
            typed: Vec::new(),
            answer_partial: automation.answer_partial,
            changed: (false, false),
            protocol,
        };
        (machine, errors)
    }

    /// What it takes over from the machine it replaces (an edit keeps everything).
    #[must_use]
    pub fn keeping(mut self, keep: Keep) -> Self {
        self.keep = keep;
        self
    }

    /// With `bytes` as table `name`'s live value once it takes over (the user typed them in
    /// the Tables view; the start value stays).
    #[must_use]
    pub fn with_table(mut self, name: &str, bytes: Vec<u8>) -> Self {
        self.typed.push((name.to_owned(), bytes));
        self
    }

    /// Starts in the place of `old` (if any): what it keeps of it, then the typed tables.
    pub fn take_over(&mut self, old: Option<&Machine>) {
        if let Some(old) = old {
            self.inherit(old);
        }
        for (name, bytes) in std::mem::take(&mut self.typed) {
            if let Some(live) = self.tables.get_mut(&name) {
                *live = bytes;
                self.changed.1 = true;
            }
        }
    }

    /// Takes over from `old`, the machine it replaces, what [`keeping`](Self::keeping) said.
    pub fn inherit(&mut self, old: &Machine) {
        if self.keep.hits {
            self.gone.clone_from(&old.gone);
            for (rule, hits) in old.rules.iter().zip(&old.hits) {
                if hits.count > 0 {
                    self.gone.insert(rule.id, *hits);
                }
            }
            for (rule, hits) in self.rules.iter().zip(self.hits.iter_mut()) {
                if let Some(before) = self.gone.remove(&rule.id) {
                    *hits = before;
                }
            }
        }
        if self.keep.tables_and_state {
            for (name, live) in &mut self.tables {
                if old.start_tables.get(name) == self.start_tables.get(name)
                    && let Some(before) = old.tables.get(name)
                {
                    live.clone_from(before);
                }
            }
            if old.start_state == self.start_state && old.scope == self.scope {
                self.shared.clone_from(&old.shared);
                self.states.clone_from(&old.states);
            }
        }
        // The window is told the state and tables the new rules start from.
        self.changed = (true, true);
    }

    /// The state `peer` is in.
    pub fn state_of(&self, peer: SocketAddr) -> &str {
        match self.scope {
            StateScope::Session => &self.shared,
            StateScope::Connection => self.states.get(&peer).unwrap_or(&self.start_state),
        }
    }

    fn set_state(&mut self, peer: SocketAddr, state: &str) {
        match self.scope {
            StateScope::Session => {
                if self.shared != state {
                    state.clone_into(&mut self.shared);
                    self.changed.0 = true;
                }
            }
            StateScope::Connection => {
                if self.state_of(peer) != state {
                    self.states.insert(peer, state.to_owned());
                    self.changed.0 = true;
                }
            }
        }
    }

    /// Every state there is: the session's (`None`), or each connection's that has left the
    /// start state.
    pub fn states(&self) -> Vec<(Option<SocketAddr>, String)> {
        match self.scope {
            StateScope::Session => vec![(None, self.shared.clone())],
            StateScope::Connection => self
                .states
                .iter()
                .map(|(peer, state)| (Some(*peer), state.clone()))
                .collect(),
        }
    }

    /// `peer`'s connection ended: its state goes with it. True if it had one.
    pub fn forget(&mut self, peer: SocketAddr) -> bool {
        let had = self.states.remove(&peer).is_some();
        self.changed.0 |= had;
        had
    }

    /// Which way received messages go, for their decoding.
    fn rx_dir(&self) -> crate::protocol::Dir {
        self.protocol
            .as_ref()
            .map_or(crate::protocol::Dir::Unknown, |(_, dir)| *dir)
    }

    /// True if a frame left unfinished when its stream ended is answered.
    pub fn answers_partial(&self) -> bool {
        self.answer_partial
    }

    /// The rules for one received message, in order: what each that fired did. `counter` is
    /// the session's `{{counter}}`, advanced by replies that used it.
    pub fn fire(
        &mut self,
        bytes: &[u8],
        peer: SocketAddr,
        counter: &mut i64,
        step: i64,
        now: SystemTime,
    ) -> Vec<Fired> {
        let mut fired = Vec::new();
        let protocol = self.protocol.clone();
        let mut message = Message::new(bytes, peer, self.encoding)
            .with_protocol(protocol.as_ref().map(|(p, _)| &**p), self.rx_dir());
        for index in 0..self.rules.len() {
            let Some(rule) = self.rules.get(index) else {
                break;
            };
            if !rule.enabled {
                continue;
            }
            message.caps.clear();
            let holds = {
                let env = Env {
                    state: self.state_of(peer),
                    tables: &self.tables,
                    now,
                    counter: *counter,
                    vars: &[],
                };
                rule.when.holds(&mut message, &env)
            };
            if !holds {
                continue;
            }
            if let Some(hits) = self.hits.get_mut(index) {
                hits.count += 1;
                hits.last = Some(now);
            }
            let outcome = self.act(index, &message, counter, step, now);
            let next = self.rules.get(index).is_some_and(|r| r.next);
            fired.push(outcome);
            if !next {
                break;
            }
        }
        fired
    }

    fn act(
        &mut self,
        index: usize,
        message: &Message<'_>,
        counter: &mut i64,
        step: i64,
        now: SystemTime,
    ) -> Fired {
        let Some(rule) = self.rules.get(index) else {
            return Fired {
                rule: index,
                id: 0,
                name: String::new(),
                reply: None,
                to: Dest::Sender,
                delay: Duration::ZERO,
                close: false,
                state: None,
                writes: Vec::new(),
                error: None,
            };
        };
        let peer = message.peer;
        let mut error = None;
        let mut writes = Vec::new();
        for write in &rule.write {
            let values = {
                let cx = request_ctx(message, self.state_of(peer), &self.tables, now, *counter);
                (write.at.eval(&cx), write.value.eval(&cx))
            };
            match write_table(&mut self.tables, &write.table, values) {
                Ok((at, bytes)) => {
                    self.changed.1 = true;
                    writes.push(Written {
                        table: write.table.clone(),
                        at,
                        bytes,
                    });
                }
                Err(why) => {
                    error = Some(tf(S::RuleFailed, &[&rule.name, &why]));
                    break;
                }
            }
        }
        let reply = match (&rule.reply, &error) {
            (Some(template), None) => {
                let rng = &mut self.rng;
                let state = match self.scope {
                    StateScope::Session => &self.shared,
                    StateScope::Connection => self.states.get(&peer).unwrap_or(&self.start_state),
                };
                let cx = request_ctx(message, state, &self.tables, now, *counter);
                let rendered = match (&self.protocol, template.by_fields()) {
                    (Some((protocol, dir)), true) => {
                        template.render_fields(&cx, protocol, message.decoded(), reply_dir(*dir))
                    }
                    _ => template.render(&cx, &mut |lo, hi| random(rng, lo, hi)),
                };
                match rendered {
                    Ok(bytes) => {
                        if template.uses_counter() {
                            *counter = counter.wrapping_add(step);
                        }
                        Some(bytes)
                    }
                    Err(why) => {
                        error = Some(tf(S::RuleFailed, &[&rule.name, &why]));
                        None
                    }
                }
            }
            _ => None,
        };
        let fired = Fired {
            rule: index,
            id: rule.id,
            name: rule.name.clone(),
            reply,
            to: rule.to.clone(),
            delay: rule.delay,
            close: rule.close,
            state: rule.set_state.clone(),
            writes,
            error,
        };
        if let Some(state) = &fired.state {
            self.set_state(peer, state);
        }
        fired
    }

    /// What `fired` (this machine's answer to a message from `peer`) tells the log and the
    /// window: each rule with its count, and the states and tables if they changed.
    pub fn report(&mut self, peer: Option<SocketAddr>, fired: &[Fired]) -> RulesReport {
        let hits = fired
            .iter()
            .map(|f| RuleHit {
                id: f.id,
                name: f.name.clone(),
                count: self.hits.get(f.rule).map_or(0, |h| h.count),
                reply: f.reply.as_ref().map(Vec::len),
                delay: f.delay,
                close: f.close,
                failed: f.error.is_some(),
            })
            .collect();
        let (states, tables) = std::mem::take(&mut self.changed);
        RulesReport {
            peer,
            fired: hits,
            states: states.then(|| self.states()),
            tables: tables.then(|| self.tables.clone()),
        }
    }

    /// A report of the state and tables alone, if either changed since the last report.
    pub fn changes(&mut self) -> Option<RulesReport> {
        (self.changed.0 || self.changed.1).then(|| self.report(None, &[]))
    }

    /// Every state and table as they are now (what the window shows when rules start).
    pub fn snapshot(&mut self) -> RulesReport {
        self.changed = (true, true);
        self.report(None, &[])
    }

    /// The state of the session (its start state when each connection has its own).
    pub fn state(&self) -> &str {
        match self.scope {
            StateScope::Session => &self.shared,
            StateScope::Connection => &self.start_state,
        }
    }

    /// How often each rule fired.
    pub fn hits(&self) -> &[Hits] {
        &self.hits
    }

    /// Each rule's id and hits, in order.
    pub fn hits_by_id(&self) -> Vec<(RuleId, String, Hits)> {
        self.rules
            .iter()
            .zip(&self.hits)
            .map(|(r, h)| (r.id, r.name.clone(), *h))
            .collect()
    }

    /// A table's bytes now.
    pub fn table(&self, name: &str) -> Option<&[u8]> {
        self.tables.get(name).map(Vec::as_slice)
    }

    /// The inline test: what the rules do with `bytes` from `peer`, on a copy (nothing of a
    /// running session changes), starting from `start` (the live tables and a state). Rules
    /// with a mistake are left out and named; the others are tried.
    pub fn test(
        automation: &Automation,
        encoding: TextEncoding,
        bytes: &[u8],
        peer: SocketAddr,
        start: &Start,
    ) -> Trial {
        Machine::test_for(automation, encoding, None, bytes, peer, start)
    }

    /// [`test`](Self::test) for a session whose messages `protocol` decodes.
    pub fn test_for(
        automation: &Automation,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
        bytes: &[u8],
        peer: SocketAddr,
        start: &Start,
    ) -> Trial {
        let (mut machine, skipped) = Machine::compile_valid_for(automation, encoding, protocol);
        if let Some(tables) = &start.tables {
            for (name, live) in &mut machine.tables {
                if let Some(bytes) = tables.get(name) {
                    live.clone_from(bytes);
                }
            }
        }
        if let Some(state) = &start.state {
            machine.shared.clone_from(state);
            machine.states.insert(peer, state.clone());
        }
        let (mut counter, step) = start.counter.unwrap_or((1, 1));
        let fired = machine.fire(bytes, peer, &mut counter, step, SystemTime::now());
        Trial { fired, skipped }
    }
}

/// Writes a table; where and what it wrote.
fn write_table(
    tables: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    (at, value): (
        Result<expr::Value, expr::EvalError>,
        Result<expr::Value, expr::EvalError>,
    ),
) -> Result<(usize, Vec<u8>), String> {
    let at = match at.map_err(|e| e.0)? {
        expr::Value::Int(n) => n,
        other => {
            return Err(tf(
                S::ExprNeeds,
                &[&crate::i18n::t(S::ExprKindInt), &other.kind()],
            ));
        }
    };
    let bytes = match value.map_err(|e| e.0)? {
        expr::Value::Bytes(b) => b,
        expr::Value::Text(s) => s.into_bytes(),
        expr::Value::Int(n) => vec![(n & 0xFF) as u8],
        expr::Value::Bool(b) => vec![u8::from(b)],
    };
    let table = tables
        .get_mut(name)
        .ok_or_else(|| tf(S::ExprNoTable, &[&name]))?;
    let len = table.len();
    let start = usize::try_from(at).map_err(|_| tf(S::ExprPastEnd, &[&at, &len]))?;
    let end = start.saturating_add(bytes.len());
    table
        .get_mut(start..end)
        .ok_or_else(|| tf(S::ExprPastEndRange, &[&start, &end, &len]))?
        .copy_from_slice(&bytes);
    Ok((start, bytes))
}

/// What an expression of a rule may read for one request.
fn request_ctx<'a>(
    message: &'a Message<'_>,
    state: &'a str,
    tables: &'a BTreeMap<String, Vec<u8>>,
    now: SystemTime,
    counter: i64,
) -> Ctx<'a> {
    Ctx {
        rx: message.bytes,
        caps: &message.caps,
        vars: &[],
        state,
        peer: message.peer,
        tables,
        now,
        counter,
        fields: message.fields(),
    }
}

/// The way a reply goes: back the other way.
pub(crate) fn reply_dir(rx: crate::protocol::Dir) -> crate::protocol::Dir {
    match rx {
        crate::protocol::Dir::Request => crate::protocol::Dir::Response,
        crate::protocol::Dir::Response => crate::protocol::Dir::Request,
        crate::protocol::Dir::Unknown => crate::protocol::Dir::Unknown,
    }
}

/// A number in `lo..=hi` from `rng` (xorshift: test traffic needs variety, not secrecy).
pub(crate) fn random(rng: &mut u64, lo: u64, hi: u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    let span = hi.saturating_sub(lo).saturating_add(1);
    if span == 0 { *rng } else { lo + *rng % span }
}

#[cfg(test)]
mod tests;
