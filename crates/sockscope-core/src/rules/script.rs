//! Scripted conversations (测试脚本): send → expect → capture → assert, step by step, with a
//! verdict — a device's firmware checked the same way on every build, from the window or from
//! CI (`sockscope test`).
//!
//! A [`Script`] is what a profile saves; [`Run`] is one run of it, driven by the I/O thread:
//! it is told of each received message and of the clock, and answers with bytes to send and
//! step results. An expect step looks at messages that arrive after it starts; the first
//! failure ends the run.

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
    /// `var.NAME` = an expression over the last expected reply (`rx.u16be@9`, `cap.1`).
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
    Expect(Matcher, Duration),
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
    last_peer: SocketAddr,
    /// The last message received at all (shown when an expect fails).
    seen: Option<Vec<u8>>,
    /// The current expect's or wait's end.
    until: Option<Instant>,
    step_started: Instant,
    done: bool,
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
        Step::Send(spec) => tf(S::StepSend, &[&spec.payload]),
        Step::Expect { when, timeout_ms } => tf(S::StepExpect, &[&cond_text(when), timeout_ms]),
        Step::Wait(ms) => tf(S::StepWait, &[ms]),
        Step::Capture(name, expr) => tf(S::StepCapture, &[name, expr]),
        Step::Repeat(times, _) => format!("× {times}"),
    }
}

impl Run {
    /// Compiles `script` for a session in `encoding`; the error names the step.
    pub fn compile(script: &Script, encoding: TextEncoding) -> Result<Run, String> {
        let mut steps = Vec::new();
        unroll(&script.steps, &mut steps, 0)?;
        let mut ops = Vec::with_capacity(steps.len());
        for (index, step) in steps.iter().enumerate() {
            let fail = |why: String| tf(S::ScriptStepFailed, &[&script.name, &(index + 1), &why]);
            let op = match step {
                Step::Send(spec) => Op::Send(Template::compile(spec, encoding).map_err(fail)?),
                Step::Expect { when, timeout_ms } => Op::Expect(
                    when.compile(encoding).map_err(fail)?,
                    Duration::from_millis(*timeout_ms),
                ),
                Step::Wait(ms) => Op::Wait(Duration::from_millis(*ms)),
                Step::Capture(name, expr) => {
                    Op::Capture(name.clone(), Expr::parse(expr, 1).map_err(|e| fail(e.0))?)
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
            last_peer: SocketAddr::from(([0, 0, 0, 0], 0)),
            seen: None,
            until: None,
            step_started: Instant::now(),
            done: false,
        })
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
        while !self.done && self.until.is_none() {
            let Some((op, _)) = self.ops.get(self.pc) else {
                self.done = true;
                out.push(Action::Finished { passed: true });
                return;
            };
            let tables = std::collections::BTreeMap::new();
            let cx = Ctx {
                rx: &self.last,
                caps: &[],
                vars: &self.vars,
                state: "",
                peer: self.last_peer,
                tables: &tables,
                now: SystemTime::now(),
                counter: *counter,
            };
            match op {
                Op::Send(template) => match template.render(&cx, &mut |lo, _| lo) {
                    Ok(bytes) => {
                        if template.uses_counter() {
                            *counter = counter.wrapping_add(step);
                        }
                        out.push(Action::Send(bytes.clone()));
                        self.pass(now, Some(bytes), out);
                    }
                    Err(why) => self.fail(now, None, why, out),
                },
                Op::Expect(_, timeout) => self.until = Some(now + *timeout),
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
        self.seen = Some(bytes.to_vec());
        let Some((Op::Expect(matcher, _), _)) = self.ops.get(self.pc) else {
            return;
        };
        let mut message = Message::new(bytes, peer, self.encoding);
        let tables = std::collections::BTreeMap::new();
        let env = Env {
            state: "",
            tables: &tables,
            now: SystemTime::now(),
            counter: *counter,
            vars: &self.vars,
        };
        if matcher.holds(&mut message, &env) {
            for (i, (name, value)) in message.caps.iter().enumerate() {
                if let Some(value) = value {
                    let name = name.clone().unwrap_or_else(|| format!("cap{i}"));
                    self.vars.retain(|(n, _)| *n != name);
                    self.vars.push((name, Value::Text(value.clone())));
                }
            }
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
            Some((Op::Expect(_, timeout), _)) => {
                let why = tf(S::ScriptNoMatch, &[&humantime_ms(*timeout)]);
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
