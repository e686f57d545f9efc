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
pub mod expr;
pub mod script;
pub mod template;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

pub use cond::{Compare, Cond, Match};
pub use template::ReplySpec;

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
    fn dest(&self) -> Result<Dest, String> {
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

/// One rule, as saved in a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
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
    /// The state the session is in afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_state: Option<String>,
    /// Close the connection after the reply (TCP).
    #[serde(skip_serializing_if = "is_default")]
    pub close: bool,
    /// Look at the next rules too (off: the first rule that fires is the last).
    #[serde(skip_serializing_if = "is_default")]
    pub next: bool,
}

impl Default for Rule {
    fn default() -> Self {
        Self {
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
    /// The state at open.
    pub state: String,
    /// Scripted conversations (测试脚本), run on request (the Script panel, `sockscope test`).
    pub scripts: Vec<script::Script>,
}

impl Automation {
    /// True when opening a session should start the rules.
    pub fn active(&self) -> bool {
        self.enabled && self.rules.iter().any(|r| r.enabled)
    }
}

/// A rule that could not be compiled: which and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// 0-based index; `None` for a table.
    pub rule: Option<usize>,
    /// The sentence, naming the rule.
    pub message: String,
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
    name: String,
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
}

/// What one rule did for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fired {
    /// Which rule (0-based).
    pub rule: usize,
    /// Its reply's bytes, if it has one and it rendered.
    pub reply: Option<Vec<u8>>,
    /// Where the reply goes.
    pub to: Dest,
    /// After how long.
    pub delay: Duration,
    /// Close the connection after.
    pub close: bool,
    /// Why the reply or a write failed (the rule fired; nothing was sent).
    pub error: Option<String>,
}

/// The rules compiled, with their state, tables and hit counters.
pub struct Machine {
    rules: Vec<Compiled>,
    tables: BTreeMap<String, Vec<u8>>,
    state: String,
    encoding: TextEncoding,
    hits: Vec<Hits>,
    rng: u64,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("rules", &self.rules.len())
            .field("state", &self.state)
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

impl Machine {
    /// Compiles every rule for a session in `encoding`; the first mistake is the error.
    pub fn compile(automation: &Automation, encoding: TextEncoding) -> Result<Machine, RuleError> {
        let mut tables = BTreeMap::new();
        for (name, hex) in &automation.tables {
            let bytes = crate::codec::hex::parse(hex).map_err(|e| RuleError {
                rule: None,
                message: tf(S::RuleBadTable, &[name, &e]),
            })?;
            tables.insert(name.clone(), bytes);
        }
        let mut rules = Vec::new();
        for (index, rule) in automation.rules.iter().enumerate() {
            let fail = |why: String| RuleError {
                rule: Some(index),
                message: tf(S::RuleFailed, &[&rule_label(rule, index), &why]),
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
            rules.push(Compiled {
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
            });
        }
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Ok(Machine {
            hits: vec![Hits::default(); rules.len()],
            rules,
            tables,
            state: automation.state.clone(),
            encoding,
            rng: seed | 1,
        })
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
        let mut message = Message::new(bytes, peer, self.encoding);
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
                    state: &self.state,
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
                reply: None,
                to: Dest::Sender,
                delay: Duration::ZERO,
                close: false,
                error: None,
            };
        };
        let mut error = None;
        for write in &rule.write {
            let values = {
                let cx = request_ctx(message, &self.state, &self.tables, now, *counter);
                (write.at.eval(&cx), write.value.eval(&cx))
            };
            let done = write_table(&mut self.tables, &write.table, values);
            if let Err(why) = done {
                error = Some(tf(S::RuleFailed, &[&rule.name, &why]));
                break;
            }
        }
        let reply = match (&rule.reply, &error) {
            (Some(template), None) => {
                let rng = &mut self.rng;
                let cx = request_ctx(message, &self.state, &self.tables, now, *counter);
                match template.render(&cx, &mut |lo, hi| random(rng, lo, hi)) {
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
            reply,
            to: rule.to.clone(),
            delay: rule.delay,
            close: rule.close,
            error,
        };
        if let Some(state) = &rule.set_state {
            self.state.clone_from(state);
        }
        fired
    }

    /// The state the session is in.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// How often each rule fired.
    pub fn hits(&self) -> &[Hits] {
        &self.hits
    }

    /// A table's bytes now.
    pub fn table(&self, name: &str) -> Option<&[u8]> {
        self.tables.get(name).map(Vec::as_slice)
    }

    /// The inline test: what the rules do with `bytes` from `peer`, on a copy (the machine
    /// itself, its state, tables and counters, are left as they were).
    pub fn test(
        automation: &Automation,
        encoding: TextEncoding,
        bytes: &[u8],
        peer: SocketAddr,
    ) -> Result<Vec<Fired>, RuleError> {
        let mut machine = Machine::compile(automation, encoding)?;
        let mut counter = 1;
        Ok(machine.fire(bytes, peer, &mut counter, 1, SystemTime::now()))
    }
}

fn write_table(
    tables: &mut BTreeMap<String, Vec<u8>>,
    name: &str,
    (at, value): (
        Result<expr::Value, expr::EvalError>,
        Result<expr::Value, expr::EvalError>,
    ),
) -> Result<(), String> {
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
    Ok(())
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
