//! Scripted conversations (测试脚本): send → expect → capture → assert, step by step, with a
//! verdict — a device's firmware checked the same way on every build, from the window or from
//! CI (`sockscope test`).
//!
//! A [`Script`] is what a profile saves; [`Run`] is one run of it, driven by the I/O thread:
//! it is told of each received message and of the clock, and answers with bytes to send and
//! step results. An expect step looks at messages that arrive after it starts; the first
//! failure ends the run, and so does the connection's end (the step then running fails: "the
//! device closed the connection").
//!
//! What a step may read: `rx` is the message the last Expect matched, `cap.N` / `cap.NAME`
//! the groups of that Expect's regular expression, `var.NAME` what a Capture step kept (a
//! named group of an Expect is kept as `var.NAME` too, for the rest of the run), and `tx`
//! the bytes the last Send step sent (`Expect(when: Expr("rx.u16be@0 == tx.u16be@0"))`
//! checks that a reply echoes the request's transaction id).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::cond::{Cond, Env, Matcher, Message};
use super::expr::{Ctx, Expr, Value};
use super::template::{ReplySpec, Template};
use crate::codec::TextEncoding;
use crate::i18n::{S, tf};

/// The longest a script may be once its repeats are unrolled.
pub const MAX_STEPS: usize = 100_000;

fn default_timeout() -> u64 {
    1000
}

/// One step, as saved in a profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Send a payload (a template: `{{var.NAME}}` and `{{rx…}}` of the last expected reply).
    Send(ReplySpec),
    /// Wait for a message that meets the condition, at most `timeout_ms`.
    Expect {
        /// The condition (any rule condition).
        when: Cond,
        /// Milliseconds to wait.
        #[serde(default = "default_timeout")]
        timeout_ms: u64,
    },
    /// Pause, in milliseconds.
    Wait(u64),
    /// These steps, this many times.
    Repeat(u32, Vec<Step>),
    /// `var.NAME` = an expression over the last expected reply (`rx.u16be@9`, `cap.1`: a
    /// group of the last Expect's regular expression).
    Capture(String, String),
}

/// A conversation, as saved in a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Script {
    /// What it checks.
    pub name: String,
    /// In order.
    pub steps: Vec<Step>,
}

enum Op {
    Send(Template),
    /// The condition, how long to wait, and the decoded fields it reads (said with their
    /// values when no message matched).
    Expect(Matcher, Duration, Vec<String>),
    Wait(Duration),
    Capture(String, Expr),
}

/// The outcome of one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepResult {
    /// 0-based, in the unrolled script.
    pub index: usize,
    /// What the step does, in words.
    pub label: String,
    /// Passed.
    pub ok: bool,
    /// From the step's start to its end.
    pub took: Duration,
    /// The bytes it sent or the message it matched (or, failing, the last message received).
    pub bytes: Option<Vec<u8>>,
    /// Why it failed.
    pub detail: Option<String>,
}

/// How the connection a run talks to ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It was closed here (the user, a rule, the session ending).
    Here,
    /// The device closed it (a FIN).
    Peer,
    /// The device reset it (an RST), which `connect --pipe` calls "connection reset by peer".
    Reset,
}

/// What a run asks of the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send these bytes to the script's target.
    Send(Vec<u8>),
    /// A step ended.
    Step(StepResult),
    /// The run ended: every step passed, or one failed.
    Finished {
        /// Every step passed.
        passed: bool,
    },
}

/// One run of a script.
pub struct Run {
    name: String,
    ops: Vec<(Op, String)>,
    encoding: TextEncoding,
    pc: usize,
    vars: Vec<(String, Value)>,
    /// The message the last expect step matched.
    last: Vec<u8>,
    /// The groups of that step's regular expression.
    last_caps: Vec<(Option<String>, Option<String>)>,
    /// One step at a time: after each step the run waits for [`Run::step_on`].
    stepping: bool,
    /// Waiting for [`Run::step_on`].
    held: bool,
    /// Messages that arrived while it waited: the next Expect sees them (its Send's reply
    /// comes before the user presses Step).
    pending: std::collections::VecDeque<(Vec<u8>, SocketAddr)>,
    last_peer: SocketAddr,
    /// The last message received at all (shown when an expect fails).
    seen: Option<Vec<u8>>,
    /// The current expect's or wait's end.
    until: Option<Instant>,
    step_started: Instant,
    done: bool,
    /// The session's protocol and the way received messages go (`f.NAME` in Expect, Send
    /// and Capture, Sends built by fields).
    protocol: Option<(
        std::sync::Arc<crate::protocol::Protocol>,
        crate::protocol::Dir,
    )>,
    /// The fields of the message the last expect step matched.
    last_decoded: Option<crate::protocol::Decoded>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("name", &self.name)
            .field("pc", &self.pc)
            .finish_non_exhaustive()
    }
}

fn unroll(steps: &[Step], out: &mut Vec<Step>, depth: usize) -> Result<(), String> {
    if depth > 16 {
        return Err(tf(S::RuleTooDeep, &[&16]));
    }
    for step in steps {
        match step {
            Step::Repeat(times, inner) => {
                for _ in 0..*times {
                    unroll(inner, out, depth + 1)?;
                    if out.len() > MAX_STEPS {
                        return Err(tf(S::ScriptTooLong, &[&MAX_STEPS]));
                    }
                }
            }
            other => {
                out.push(other.clone());
                if out.len() > MAX_STEPS {
                    return Err(tf(S::ScriptTooLong, &[&MAX_STEPS]));
                }
            }
        }
    }
    Ok(())
}

fn label(step: &Step) -> String {
    let cond_text = |c: &Cond| ron::to_string(c).unwrap_or_default();
    match step {
        Step::Send(spec) if !spec.fields.is_empty() => {
            let values: Vec<String> = spec
                .fields
                .values
                .0
                .iter()
                .map(|(path, value)| format!("{path}={value}"))
                .collect();
            tf(S::StepSend, &[&values.join(", ")])
        }
        Step::Send(spec) => tf(S::StepSend, &[&spec.payload]),
        Step::Expect { when, timeout_ms } => tf(S::StepExpect, &[&cond_text(when), timeout_ms]),
        Step::Wait(ms) => tf(S::StepWait, &[ms]),
        Step::Capture(name, expr) => tf(S::StepCapture, &[name, expr]),
        Step::Repeat(times, _) => format!("× {times}"),
    }
}

/// The first decoded field `script`'s steps name that `protocol` lacks (or any, without a
/// protocol), to place the mistake [`Run::compile_for`] says in the profile's text.
pub fn field_lacking(
    script: &Script,
    encoding: TextEncoding,
    protocol: Option<&crate::protocol::Protocol>,
) -> Option<String> {
    let mut steps = Vec::new();
    unroll(&script.steps, &mut steps, 0).ok()?;
    let mut used = Vec::new();
    for step in &steps {
        match step {
            Step::Send(spec) => {
                if let Ok(template) = Template::compile(spec, encoding) {
                    used.extend(template.fields_used());
                }
            }
            Step::Expect { when, .. } => used.extend(when.fields_used()),
            Step::Capture(_, expr) => {
                if let Ok(expr) = Expr::parse(expr, 1) {
                    used.extend(expr.fields_used());
                }
            }
            _ => {}
        }
    }
    used.into_iter()
        .find(|name| protocol.is_none_or(|p| p.lacks_field(name).is_some()))
}

impl Run {
    /// Compiles `script` for a session in `encoding`; the error names the step.
    /// The decoded fields its steps read are not checked, and none are there: a caller that
    /// knows the session's protocol uses [`compile_for`](Self::compile_for).
    pub fn compile(script: &Script, encoding: TextEncoding) -> Result<Run, String> {
        Run::compile_inner(script, encoding, None, false)
    }

    /// [`compile`](Self::compile) for a session whose messages `protocol` decodes (received
    /// going its `Dir`): Expect, Send and Capture may read `f.NAME` (of the message the last
    /// Expect matched) and a Send may be built by fields; a field the protocol has none of is
    /// the step's mistake.
    pub fn compile_for(
        script: &Script,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
    ) -> Result<Run, String> {
        Run::compile_inner(script, encoding, protocol, true)
    }

    fn compile_inner(
        script: &Script,
        encoding: TextEncoding,
        protocol: Option<(
            std::sync::Arc<crate::protocol::Protocol>,
            crate::protocol::Dir,
        )>,
        checked: bool,
    ) -> Result<Run, String> {
        let mut steps = Vec::new();
        unroll(&script.steps, &mut steps, 0)?;
        let mut ops = Vec::with_capacity(steps.len());
        // The groups the last Expect can give (`cap.N` of the steps after it).
        let mut groups: Option<super::cond::Groups> = None;
        for (index, step) in steps.iter().enumerate() {
            let fail = |why: String| tf(S::ScriptStepFailed, &[&script.name, &(index + 1), &why]);
            let check = |caps: Vec<String>| match caps
                .iter()
                .find(|c| groups.as_ref().is_none_or(|g| !g.has(c)))
            {
                Some(cap) => Err(fail(tf(S::ScriptNoGroup, &[cap]))),
                None => Ok(()),
            };
            let check_fields = |fields: Vec<String>| {
                if !checked {
                    return Ok(());
                }
                for name in fields {
                    match &protocol {
                        None => return Err(fail(tf(S::RuleFieldNoProtocol, &[&name]))),
                        Some((p, _)) => {
                            if let Some(why) = p.lacks_field(&name) {
                                return Err(fail(why));
                            }
                        }
                    }
                }
                Ok(())
            };
            let op = match step {
                Step::Send(spec) => {
                    let template = Template::compile(spec, encoding).map_err(fail)?;
                    check(template.caps_used())?;
                    if checked && template.by_fields() && protocol.is_none() {
                        return Err(fail(crate::i18n::t(S::RuleReplyNoProtocol).to_owned()));
                    }
                    check_fields(template.fields_used())?;
                    Op::Send(template)
                }
                Step::Expect { when, timeout_ms } => {
                    let matcher = when.compile(encoding).map_err(fail)?;
                    check_fields(when.fields_used())?;
                    groups = Some(matcher.groups());
                    Op::Expect(
                        matcher,
                        Duration::from_millis(*timeout_ms),
                        when.fields_used(),
                    )
                }
                Step::Wait(ms) => Op::Wait(Duration::from_millis(*ms)),
                Step::Capture(name, expr) => {
                    let expr = Expr::parse(expr, 1).map_err(|e| fail(e.0))?;
                    check(expr.caps_used())?;
                    check_fields(expr.fields_used())?;
                    Op::Capture(name.clone(), expr)
                }
                Step::Repeat(..) => continue,
            };
            ops.push((op, label(step)));
        }
        Ok(Run {
            name: script.name.clone(),
            ops,
            encoding,
            pc: 0,
            vars: Vec::new(),
            last: Vec::new(),
            last_caps: Vec::new(),
            stepping: false,
            held: false,
            pending: std::collections::VecDeque::new(),
            last_peer: SocketAddr::from(([0, 0, 0, 0], 0)),
            seen: None,
            until: None,
            step_started: Instant::now(),
            done: false,
            protocol,
            last_decoded: None,
        })
    }

    /// One step at a time: after each step the run waits for [`step_on`](Self::step_on).
    #[must_use]
    pub fn stepping(mut self, on: bool) -> Self {
        self.stepping = on;
        self
    }

    /// True while it waits for [`step_on`](Self::step_on).
    pub fn held(&self) -> bool {
        self.held && !self.done
    }

    /// Runs the next step (of a run made with [`stepping`](Self::stepping)).
    pub fn step_on(&mut self, now: Instant, counter: &mut i64, step: i64, out: &mut Vec<Action>) {
        if self.held && !self.done {
            self.held = false;
            self.step_started = now;
            self.advance(now, counter, step, out);
            // What came while it waited, for the step now running (until it holds again).
            while !self.held
                && !self.done
                && let Some((bytes, peer)) = self.pending.pop_front()
            {
                self.message(&bytes, peer, now, counter, step, out);
            }
        }
    }

    /// The connection ended (`how`): the step running fails (a run that waits for its next
    /// step fails that one), and so does the run.
    pub fn closed(&mut self, now: Instant, how: Ending, out: &mut Vec<Action>) {
        if self.done {
            return;
        }
        if self.pc >= self.ops.len() {
            // Every step had passed: the end of the conversation, not a failure.
            self.done = true;
            out.push(Action::Finished { passed: true });
            return;
        }
        self.held = false;
        let seen = self.seen.take();
        let why = match how {
            Ending::Here => S::ScriptClosedHere,
            Ending::Peer => S::ScriptPeerClosed,
            Ending::Reset => S::ScriptPeerReset,
        };
        self.fail(now, seen, crate::i18n::t(why).to_owned(), out);
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The steps' labels, unrolled, in order.
    pub fn labels(&self) -> Vec<String> {
        self.ops.iter().map(|(_, l)| l.clone()).collect()
    }

    /// True once it has finished.
    pub fn done(&self) -> bool {
        self.done
    }

    /// When the clock next matters to it.
    pub fn deadline(&self) -> Option<Instant> {
        if self.done { None } else { self.until }
    }

    /// Starts the run.
    pub fn start(&mut self, now: Instant, counter: &mut i64, step: i64, out: &mut Vec<Action>) {
        self.step_started = now;
        self.advance(now, counter, step, out);
    }

    fn label(&self) -> String {
        self.ops
            .get(self.pc)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    fn pass(&mut self, now: Instant, bytes: Option<Vec<u8>>, out: &mut Vec<Action>) {
        out.push(Action::Step(StepResult {
            index: self.pc,
            label: self.label(),
            ok: true,
            took: now.saturating_duration_since(self.step_started),
            bytes,
            detail: None,
        }));
        self.pc += 1;
        self.step_started = now;
        self.until = None;
        if self.stepping && self.pc < self.ops.len() {
            self.held = true;
        }
    }

    fn fail(&mut self, now: Instant, bytes: Option<Vec<u8>>, why: String, out: &mut Vec<Action>) {
        out.push(Action::Step(StepResult {
            index: self.pc,
            label: self.label(),
            ok: false,
            took: now.saturating_duration_since(self.step_started),
            bytes,
            detail: Some(why),
        }));
        self.done = true;
        self.until = None;
        out.push(Action::Finished { passed: false });
    }

    /// Runs the steps that need no waiting, up to the next expect or wait.
    fn advance(&mut self, now: Instant, counter: &mut i64, step: i64, out: &mut Vec<Action>) {
        while !self.done && self.until.is_none() && !self.held {
            let Some((op, _)) = self.ops.get(self.pc) else {
                self.done = true;
                out.push(Action::Finished { passed: true });
                return;
            };
            let tables = std::collections::BTreeMap::new();
            let cx = Ctx {
                rx: &self.last,
                caps: &self.last_caps,
                vars: &self.vars,
                state: "",
                peer: self.last_peer,
                tables: &tables,
                now: SystemTime::now(),
                counter: *counter,
                fields: match &self.last_decoded {
                    Some(decoded) => decoded,
                    None => &crate::rules::expr::NoFields,
                },
            };
            let rendered = |template: &Template| match &self.protocol {
                Some((protocol, dir)) if template.by_fields() => template.render_fields(
                    &cx,
                    protocol,
                    self.last_decoded.as_ref(),
                    super::reply_dir(*dir),
                ),
                _ => template.render(&cx, &mut |lo, _| lo),
            };
            match op {
                Op::Send(template) => match rendered(template) {
                    Ok(bytes) => {
                        if template.uses_counter() {
                            *counter = counter.wrapping_add(step);
                        }
                        out.push(Action::Send(bytes.clone()));
                        self.vars.retain(|(n, _)| n != "tx");
                        self.vars
                            .push(("tx".to_owned(), Value::Bytes(bytes.clone())));
                        self.pass(now, Some(bytes), out);
                    }
                    Err(why) => self.fail(now, None, why, out),
                },
                Op::Expect(_, timeout, _) => self.until = Some(now + *timeout),
                Op::Wait(pause) => self.until = Some(now + *pause),
                Op::Capture(name, expr) => match expr.eval(&cx) {
                    Ok(value) => {
                        let name = name.clone();
                        self.vars.retain(|(n, _)| *n != name);
                        self.vars.push((name, value));
                        self.pass(now, None, out);
                    }
                    Err(why) => {
                        let bytes = Some(self.last.clone());
                        self.fail(now, bytes, why.0, out);
                    }
                },
            }
        }
    }

    /// A message arrived.
    pub fn message(
        &mut self,
        bytes: &[u8],
        peer: SocketAddr,
        now: Instant,
        counter: &mut i64,
        step: i64,
        out: &mut Vec<Action>,
    ) {
        if self.done {
            return;
        }
        if self.held {
            /// Most messages kept while a stepping run waits.
            const KEPT: usize = 256;
            if self.pending.len() == KEPT {
                self.pending.pop_front();
            }
            self.pending.push_back((bytes.to_vec(), peer));
            return;
        }
        self.seen = Some(bytes.to_vec());
        let Some((Op::Expect(matcher, _, _), _)) = self.ops.get(self.pc) else {
            return;
        };
        let protocol = self.protocol.clone();
        let mut message = Message::new(bytes, peer, self.encoding).with_protocol(
            protocol.as_ref().map(|(p, _)| &**p),
            protocol
                .as_ref()
                .map_or(crate::protocol::Dir::Unknown, |(_, d)| *d),
        );
        let tables = std::collections::BTreeMap::new();
        let env = Env {
            state: "",
            tables: &tables,
            now: SystemTime::now(),
            counter: *counter,
            vars: &self.vars,
        };
        if matcher.holds(&mut message, &env) {
            // Named groups are kept as variables for the rest of the run.
            for (name, value) in &message.caps {
                if let (Some(name), Some(value)) = (name, value) {
                    self.vars.retain(|(n, _)| n != name);
                    self.vars.push((name.clone(), Value::Text(value.clone())));
                }
            }
            self.last_caps = std::mem::take(&mut message.caps);
            self.last_decoded = message.decoded().cloned();
            self.last = bytes.to_vec();
            self.last_peer = peer;
            self.pass(now, Some(bytes.to_vec()), out);
            self.advance(now, counter, step, out);
        }
    }

    /// The clock: an expect that timed out fails, a wait that is over goes on.
    pub fn tick(&mut self, now: Instant, counter: &mut i64, step: i64, out: &mut Vec<Action>) {
        if self.done || self.until.is_none_or(|u| u > now) {
            return;
        }
        match self.ops.get(self.pc) {
            Some((Op::Expect(_, timeout, fields), _)) => {
                let mut why = tf(S::ScriptNoMatch, &[&humantime_ms(*timeout)]);
                // Expecting by field: the last message decoded, with the values of the
                // fields the condition reads (`reply_serial = 4`), not only its bytes.
                if let (Some(seen), Some((protocol, dir)), false) =
                    (&self.seen, &self.protocol, fields.is_empty())
                {
                    use crate::rules::expr::Fields as _;
                    let pieces = protocol.decode_message_guess(seen, *dir);
                    if let Some(piece) = pieces.first() {
                        let values: Vec<String> = fields
                            .iter()
                            .map(|name| match piece.decoded.field(name) {
                                Some(Value::Int(n)) if n > 9 => {
                                    format!("{name} = {n} (0x{n:X})")
                                }
                                Some(value) => format!("{name} = {}", value.written()),
                                None => tf(S::ScriptFieldAbsent, &[name]),
                            })
                            .collect();
                        why = tf(
                            S::ScriptNoMatchLast,
                            &[&why, &protocol.piece_summary(piece), &values.join(", ")],
                        );
                    }
                }
                let seen = self.seen.clone();
                self.fail(now, seen, why, out);
            }
            _ => {
                self.pass(now, None, out);
                self.advance(now, counter, step, out);
            }
        }
    }

    /// Stopped before the end: the current step fails.
    pub fn stop(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.done {
            self.fail(now, None, crate::i18n::t(S::ScriptStopped).to_owned(), out);
        }
    }

    /// The script it was made from was edited: it stops at the step it is on (which fails,
    /// saying so), and sends nothing more of what it was made from.
    pub fn changed(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.done {
            let why = crate::i18n::tf(S::ScriptChangedStopped, &[&(self.pc + 1)]);
            self.fail(now, None, why, out);
        }
    }
}

fn humantime_ms(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::payload::InputMode;
    use crate::rules::Match;

    fn send(text: &str) -> Step {
        Step::Send(ReplySpec {
            payload: text.into(),
            mode: InputMode::Text,
            ..ReplySpec::default()
        })
    }

    fn expect(text: &str) -> Step {
        Step::Expect {
            when: Cond::Text(Match::Prefix, text.into()),
            timeout_ms: 100,
        }
    }

    fn peer() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    #[test]
    fn a_conversation_sends_expects_captures_and_passes() {
        let script = Script {
            name: "login".into(),
            steps: vec![
                send("LOGIN"),
                Step::Expect {
                    when: Cond::Regex(r"^TOKEN (?P<token>\w+)$".into()),
                    timeout_ms: 100,
                },
                Step::Capture("n".into(), "rx.len".into()),
                Step::Repeat(
                    2,
                    vec![send("READ {{var.token}} {{var.n}}"), expect("VALUE")],
                ),
            ],
        };
        let mut run = Run::compile(&script, TextEncoding::UTF_8).unwrap();
        assert_eq!(run.labels().len(), 7);
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        assert_eq!(out.remove(0), Action::Send(b"LOGIN".to_vec()));
        run.message(b"TOKEN abc", peer(), t0, &mut counter, 1, &mut out);
        let sends: Vec<_> = out
            .iter()
            .filter_map(|a| match a {
                Action::Send(b) => Some(b.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(sends, [b"READ abc 9".to_vec()]);
        out.clear();
        run.message(b"VALUE 1", peer(), t0, &mut counter, 1, &mut out);
        run.message(b"noise", peer(), t0, &mut counter, 1, &mut out);
        run.message(b"VALUE 2", peer(), t0, &mut counter, 1, &mut out);
        assert_eq!(out.last(), Some(&Action::Finished { passed: true }));
        assert!(run.done());
    }

    #[test]
    fn a_missing_reply_fails_its_step_with_the_last_bytes_seen() {
        let script = Script {
            name: "poll".into(),
            steps: vec![send("AT"), expect("OK"), send("never")],
        };
        let mut run = Run::compile(&script, TextEncoding::UTF_8).unwrap();
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        run.message(b"ERROR", peer(), t0, &mut counter, 1, &mut out);
        run.tick(t0 + Duration::from_millis(50), &mut counter, 1, &mut out);
        assert!(!run.done());
        run.tick(t0 + Duration::from_millis(100), &mut counter, 1, &mut out);
        assert!(run.done());
        let Action::Step(failed) = &out[out.len() - 2] else {
            panic!("{out:?}")
        };
        assert!(!failed.ok);
        assert_eq!(failed.index, 1);
        assert_eq!(failed.bytes.as_deref(), Some(&b"ERROR"[..]));
        assert!(failed.detail.as_deref().unwrap().contains("100 ms"));
        assert_eq!(out.last(), Some(&Action::Finished { passed: false }));
        assert!(!out.contains(&Action::Send(b"never".to_vec())));
    }

    #[test]
    fn waits_pass_with_the_clock_and_bad_steps_name_their_place() {
        let script = Script {
            name: "w".into(),
            steps: vec![Step::Wait(20), send("x")],
        };
        let mut run = Run::compile(&script, TextEncoding::UTF_8).unwrap();
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        assert!(out.is_empty());
        assert_eq!(run.deadline(), Some(t0 + Duration::from_millis(20)));
        run.tick(t0 + Duration::from_millis(20), &mut counter, 1, &mut out);
        assert!(out.contains(&Action::Send(b"x".to_vec())));
        let bad = Script {
            name: "bad".into(),
            steps: vec![send("ok"), Step::Capture("v".into(), "rx +".into())],
        };
        let error = Run::compile(&bad, TextEncoding::UTF_8).unwrap_err();
        assert!(error.contains("bad") && error.contains('2'), "{error}");
        let huge = Script {
            name: "huge".into(),
            steps: vec![Step::Repeat(u32::MAX, vec![send("x")])],
        };
        assert!(Run::compile(&huge, TextEncoding::UTF_8).is_err());
    }

    #[test]
    fn cap_reads_the_groups_of_the_last_expect_and_tx_the_last_send() {
        let script = Script {
            name: "caps".into(),
            steps: vec![
                send("LOGIN 7"),
                Step::Expect {
                    when: Cond::Regex(r"^TOKEN (\w+) (?P<n>\d+)$".into()),
                    timeout_ms: 100,
                },
                send("USE {{cap.1}}-{{cap.n}}-{{var.n}}"),
                Step::Capture("x".into(), "cap.1".into()),
                Step::Capture("sent".into(), "tx".into()),
                send("{{var.x}} {{var.sent}}"),
                Step::Expect {
                    when: Cond::Expr("rx[5..] == tx[0..3]".into()),
                    timeout_ms: 100,
                },
            ],
        };
        let mut run = Run::compile(&script, TextEncoding::UTF_8).unwrap();
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        run.message(b"TOKEN abc 42", peer(), t0, &mut counter, 1, &mut out);
        let sends: Vec<_> = out
            .iter()
            .filter_map(|a| match a {
                Action::Send(b) => Some(String::from_utf8(b.clone()).unwrap()),
                _ => None,
            })
            .collect();
        assert_eq!(sends, ["LOGIN 7", "USE abc-42-42", "abc USE abc-42-42"]);
        run.message(b"ECHO abc", peer(), t0, &mut counter, 1, &mut out);
        assert_eq!(
            out.last(),
            Some(&Action::Finished { passed: true }),
            "{out:?}"
        );
        // A group no Expect before the step has is refused when compiled.
        for steps in [
            vec![send("{{cap.1}}")],
            vec![
                Step::Expect {
                    when: Cond::Regex("^(a)$".into()),
                    timeout_ms: 1,
                },
                Step::Capture("v".into(), "cap.2".into()),
            ],
        ] {
            let bad = Script {
                name: "bad".into(),
                steps,
            };
            let error = Run::compile(&bad, TextEncoding::UTF_8).unwrap_err();
            assert!(error.contains("cap."), "{error}");
        }
    }

    fn quit_script() -> Run {
        let script = Script {
            name: "quit".into(),
            steps: vec![
                send("QUIT"),
                expect("BYE"),
                Step::Wait(200),
                send("PING"),
                expect("PONG"),
            ],
        };
        Run::compile(&script, TextEncoding::UTF_8).unwrap()
    }

    #[test]
    fn the_device_closing_fails_the_step_on_at_once_and_ends_the_run() {
        let mut run = quit_script();
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        run.message(b"BYE", peer(), t0, &mut counter, 1, &mut out);
        out.clear();
        run.closed(t0 + Duration::from_millis(5), Ending::Peer, &mut out);
        assert!(run.done());
        let Action::Step(failed) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(failed.index, 2);
        assert_eq!(
            failed.detail.as_deref(),
            Some("the device closed the connection")
        );
        assert_eq!(out.last(), Some(&Action::Finished { passed: false }));
        assert_eq!(run.deadline(), None, "nothing left to wait for");
        // Closed after the last step: the run had passed.
        let script = Script {
            name: "bye".into(),
            steps: vec![send("QUIT"), expect("BYE")],
        };
        let mut run = Run::compile(&script, TextEncoding::UTF_8).unwrap();
        let mut out = Vec::new();
        run.start(t0, &mut counter, 1, &mut out);
        run.message(b"BYE", peer(), t0, &mut counter, 1, &mut out);
        run.closed(t0, Ending::Peer, &mut out);
        assert_eq!(
            out.iter()
                .filter(|a| matches!(a, Action::Finished { .. }))
                .count(),
            1
        );
        assert_eq!(out.last(), Some(&Action::Finished { passed: true }));
    }

    #[test]
    fn a_stepping_run_waits_after_each_step_until_told() {
        let mut run = quit_script().stepping(true);
        let (mut out, mut counter, t0) = (Vec::new(), 1, Instant::now());
        run.start(t0, &mut counter, 1, &mut out);
        assert_eq!(out.len(), 2, "the first step only: {out:?}");
        assert!(run.held());
        // The reply to the Send comes while the run waits: the Expect sees it once it runs.
        run.message(b"BYE", peer(), t0, &mut counter, 1, &mut out);
        assert!(run.held() && out.len() == 2);
        run.step_on(t0, &mut counter, 1, &mut out);
        assert!(run.held(), "the Expect passed at once: {out:?}");
        let Action::Step(passed) = out.last().unwrap() else {
            panic!("{out:?}")
        };
        assert!(passed.ok && passed.index == 1);
        run.stop(t0, &mut out);
        assert!(run.done());
        assert_eq!(out.last(), Some(&Action::Finished { passed: false }));
    }

    #[test]
    fn a_script_reads_back_from_ron() {
        let text = r#"(name: "modem", steps: [
            Send((payload: "AT", line_ending: Cr)),
            Expect(when: Text(Prefix, "OK")),
            Repeat(3, [Wait(10)]),
            Capture("v", "rx.len"),
        ])"#;
        let script: Script = ron::from_str(text).unwrap();
        assert_eq!(script.steps.len(), 4);
        assert!(matches!(
            script.steps[1],
            Step::Expect {
                timeout_ms: 1000,
                ..
            }
        ));
        let again: Script = ron::from_str(&ron::to_string(&script).unwrap()).unwrap();
        assert_eq!(again, script);
    }
}
