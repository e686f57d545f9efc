//! `sockscope test PROFILE.ron`: each of the profile's scripted conversations on a fresh
//! session (a new connection each), every step with ✓ or ✗ and its time, a verdict with its
//! reason, and a JUnit XML report for CI: a step that failed is a `<failure>`, a script that
//! could not run to a verdict (nothing listening, Ctrl+C) an `<error>` with the reason.

use std::fmt::Write as _;
use std::time::Duration;

use sockscope_core::capture::{Capture, LinkState, ScriptReport};
use sockscope_core::codec::hex;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::rules::script::{Script, Step, StepResult};
use sockscope_core::session::Session;

use super::run::{field_sentences, form_protocol, load_form, placed};
use super::{Failure, Io, NOT_MATCHED, OK, bad};

/// Longest a script may run: its expects' timeouts and its waits, plus a margin.
fn budget(steps: &[Step]) -> Duration {
    fn ms(steps: &[Step]) -> u64 {
        steps.iter().fold(0u64, |sum, step| {
            sum.saturating_add(match step {
                Step::Expect { timeout_ms, .. } => *timeout_ms,
                Step::Wait(ms) => *ms,
                Step::Repeat(times, inner) => ms(inner).saturating_mul(u64::from(*times)),
                Step::Send(_) | Step::Capture(..) => 0,
            })
        })
    }
    Duration::from_millis(ms(steps).min(86_400_000)) + Duration::from_secs(5)
}

fn took(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// How step bytes are shown: as the profile shows received data.
#[derive(Clone, Copy)]
struct Show {
    hex: bool,
    encoding: sockscope_core::codec::TextEncoding,
}

fn shown(bytes: &[u8], show: Show) -> String {
    if show.hex {
        hex::format(bytes)
    } else {
        let text = show.encoding.decode_complete(bytes);
        format!("“{}”", sockscope_core::codec::text::one_line(&text))
    }
}

fn step_line(result: &StepResult, show: Show) -> String {
    step_line_in(result, show, None)
}

/// A step's line; `iteration` names the pass of the Repeat it ran in.
fn step_line_in(result: &StepResult, show: Show, iteration: Option<usize>) -> String {
    let mark = if result.ok { "✓" } else { "✗" };
    let mut line = format!("  {mark} {:>3}  {}", result.index + 1, result.label);
    if let Some(iteration) = iteration {
        let _ = write!(line, " {}", tf(S::CliIteration, &[&iteration]));
    }
    let _ = write!(line, "  {}", took(result.took));
    if let Some(why) = &result.detail {
        let _ = write!(line, " — {why}");
    }
    if let Some(bytes) = result.bytes.as_deref().filter(|b| !b.is_empty()) {
        let bytes = shown(bytes, show);
        // A failed step's bytes are what did arrive instead.
        let bytes = if result.ok {
            bytes
        } else {
            tf(S::ScriptReplyGot, &[&bytes])
        };
        let _ = write!(line, "\n         {bytes}");
    }
    line
}

/// Steps a step unrolls to.
fn size(step: &Step) -> usize {
    match step {
        Step::Repeat(times, inner) => {
            (*times as usize).saturating_mul(inner.iter().map(size).sum::<usize>())
        }
        _ => 1,
    }
}

/// The report's lines, a top-level Repeat as one line with its count (its 200 unrolled steps
/// were 200 lines); a step of it that failed follows, named with its iteration.
fn report_lines(steps: &[Step], report: &ScriptReport, show: Show) -> Vec<String> {
    let mut lines = Vec::new();
    let mut at = 0usize;
    for step in steps {
        let count = size(step);
        let range = at..at.saturating_add(count);
        at = range.end;
        let results: Vec<&StepResult> = report
            .results
            .iter()
            .filter(|r| range.contains(&r.index))
            .collect();
        let Step::Repeat(times, _) = step else {
            lines.extend(results.iter().map(|r| step_line(r, show)));
            continue;
        };
        if results.is_empty() {
            continue;
        }
        let per = (count / (*times as usize).max(1)).max(1);
        let inner: Vec<&str> = report
            .steps
            .get(range.start..range.start + per)
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
            .collect();
        let failed = results.iter().find(|r| !r.ok);
        let iteration = failed.map(|f| (f.index - range.start) / per + 1);
        // Iterations whose every step ended and passed.
        let passed = results.iter().filter(|r| r.ok).count() / per;
        let (mark, text) = match iteration {
            Some(iteration) => (
                "✗",
                tf(
                    S::CliRepeatFailed,
                    &[times, &inner.join(", "), &passed, &iteration],
                ),
            ),
            None if passed == *times as usize => (
                "✓",
                tf(S::CliRepeatLine, &[times, &inner.join(", "), &passed]),
            ),
            None => (
                "…",
                tf(S::CliRepeatLine, &[times, &inner.join(", "), &passed]),
            ),
        };
        let spent: Duration = results.iter().map(|r| r.took).sum();
        lines.push(format!(
            "  {mark} {}–{}  {text}  {}",
            range.start + 1,
            range.end,
            took(spent)
        ));
        if let Some(f) = failed {
            lines.push(step_line_in(f, show, iteration));
        }
    }
    lines
}

/// One script's outcome.
struct Outcome {
    name: String,
    report: Option<ScriptReport>,
    /// Why it did not run to a verdict (connect failed, timed out).
    error: Option<String>,
    /// The device ended the connection (closed or reset it) before the script could get to
    /// a verdict of its own: a failed check (exit 1), not a device that could not be reached.
    cut: Option<String>,
    took: Duration,
}

impl Outcome {
    fn passed(&self) -> bool {
        self.error.is_none()
            && self.cut.is_none()
            && self.report.as_ref().is_some_and(|r| r.passed == Some(true))
    }

    /// Why it did not pass, if a step failed.
    fn failure(&self) -> Option<String> {
        if self.error.is_some() {
            return None;
        }
        if let Some(why) = &self.cut {
            return Some(tf(S::CliScriptCut, &[&self.name, why]));
        }
        let report = self.report.as_ref()?;
        let failed = report.results.iter().find(|r| !r.ok)?;
        Some(tf(
            S::EvScriptFailed,
            &[
                &report.name,
                &(failed.index + 1),
                &failed.detail.clone().unwrap_or_default(),
            ],
        ))
    }
}

fn run_one(
    form: &sockscope_core::profile::Form,
    (index, script): (usize, &Script),
    io: &mut Io<'_>,
) -> Outcome {
    let started = std::time::Instant::now();
    let mut outcome = Outcome {
        name: script.name.clone(),
        report: None,
        error: None,
        cut: None,
        took: Duration::ZERO,
    };
    let mut session = Session::with_form(form, std::sync::Arc::new(|| {}));
    if let Err(errors) = session.open_form(form) {
        outcome.error = Some(field_sentences(errors));
        return outcome;
    }
    let timeout = Duration::from_secs_f32(form.connect_timeout_s.max(0.1)) + Duration::from_secs(1);
    session.wait_until(timeout, |c| {
        matches!(
            c.link,
            LinkState::Listening(_) | LinkState::Connected { .. }
        ) || c.stopped
    });
    // Connected, and the device ended it at once: the script has nothing to run on.
    let cut = ended_by_device(&session.capture());
    if let Some(why) = cut {
        outcome.cut = Some(why);
        outcome.took = started.elapsed();
        return outcome;
    }
    let opened = {
        let capture = session.capture();
        match (&capture.link, &capture.last_error) {
            (LinkState::Listening(_) | LinkState::Connected { .. }, _) => Ok(()),
            (_, Some(error)) => Err(error.to_string()),
            _ => Err(tf(S::CliNoAnswer, &[&humantime::format_duration(timeout)])),
        }
    };
    if let Err(why) = opened {
        outcome.error = Some(why);
        return outcome;
    }
    if let Err(why) = session.run_script(form, index) {
        outcome.error = Some(why);
        return outcome;
    }
    let limit = budget(&script.steps);
    let finished = session.wait_until(limit, |c| {
        c.script.as_ref().is_some_and(|r| r.passed.is_some())
            || c.stopped
            || io.stop.load(std::sync::atomic::Ordering::Relaxed)
    });
    outcome.report.clone_from(&session.capture().script);
    let verdict = outcome.report.as_ref().is_some_and(|r| r.passed.is_some());
    let interrupted = io.stop.load(std::sync::atomic::Ordering::Relaxed);
    let cut = (!verdict && !interrupted)
        .then(|| ended_by_device(&session.capture()))
        .flatten();
    if let Some(why) = cut {
        // The connection ended before the script started, or under it before it could say
        // so: the same failure as a step that saw it end.
        outcome.cut = Some(why);
    } else if !verdict {
        outcome.error = Some(if interrupted {
            t(S::CliTestInterrupted).to_owned()
        } else if finished {
            t(S::ScriptPeerClosed).to_owned()
        } else {
            tf(
                S::CliScriptTimedOut,
                &[&script.name, &humantime::format_duration(limit)],
            )
        });
    }
    outcome.took = started.elapsed();
    outcome
}

/// The connection stood and the device ended it (the session has stopped): the sentence
/// that says whether it closed or reset it. `None` while it stands, or if none ever stood.
fn ended_by_device(capture: &Capture) -> Option<String> {
    let stood = capture.log.iter().any(|r| r.event() == Some("connected"));
    let standing = matches!(capture.link, LinkState::Connected { .. }) && !capture.stopped;
    if !stood || standing {
        return None;
    }
    let reset = capture.log.iter().any(|r| r.event() == Some("reset"));
    Some(
        t(if reset {
            S::CliDeviceReset
        } else {
            S::ScriptPeerClosed
        })
        .to_owned(),
    )
}

/// Whether `path` can be written, checked without changing it: an existing file is opened to
/// append nothing; a new one is created and removed again.
fn writable(path: &std::path::Path) -> std::io::Result<()> {
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)?;
    if !existed {
        std::fs::remove_file(path)?;
    }
    Ok(())
}

fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no place for most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The report CI systems read: one test suite per profile, one test case per script.
fn junit(suite: &str, outcomes: &[Outcome], show: Show) -> String {
    // Each counted case has its element: a failed step a <failure>, no verdict an <error>.
    let failures = outcomes.iter().filter(|o| o.failure().is_some()).count();
    let errors = outcomes.iter().filter(|o| o.error.is_some()).count();
    let total: f64 = outcomes.iter().map(|o| o.took.as_secs_f64()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sockscope\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.3}\">",
        outcomes.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.3}\">",
        xml(suite),
        outcomes.len()
    );
    for outcome in outcomes {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
            xml(suite),
            xml(&outcome.name),
            outcome.took.as_secs_f64()
        );
        let steps: Vec<String> = outcome
            .report
            .iter()
            .flat_map(|r| r.results.iter().map(|s| step_line(s, show)))
            .collect();
        if let Some(failure) = outcome.failure() {
            let _ = write!(
                out,
                "\n      <failure message=\"{}\">{}</failure>",
                xml(&failure),
                xml(&steps.join("\n"))
            );
        }
        if let Some(error) = &outcome.error {
            let _ = write!(
                out,
                "\n      <error message=\"{}\">{}</error>",
                xml(error),
                xml(error)
            );
        }
        let _ = writeln!(
            out,
            "\n      <system-out>{}</system-out>\n    </testcase>",
            xml(&steps.join("\n"))
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// `sockscope test`.
pub(super) fn test_profile(args: &super::args::TestArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let form = load_form(&args.profile, args.local_port, args.remote.as_deref(), io)?;
    let chosen: Vec<(usize, &Script)> = form
        .automation
        .scripts
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            args.script
                .as_ref()
                .is_none_or(|want| s.name.contains(want.as_str()))
        })
        .collect();
    if form.automation.scripts.is_empty() {
        return Err(bad(tf(S::CliNoScripts, &[&args.profile.display()])));
    }
    if chosen.is_empty() {
        let names: Vec<String> = form
            .automation
            .scripts
            .iter()
            .map(|s| format!("“{}”", s.name))
            .collect();
        return Err(bad(tf(
            S::CliNoScriptNamed,
            &[
                &args.profile.display(),
                &args.script.clone().unwrap_or_default(),
                &names.join(", "),
            ],
        )));
    }
    if let Some(path) = &args.junit {
        // A report that cannot be written is said before the scripts run, not after.
        writable(path).map_err(|e| bad(tf(S::CliCannotWrite, &[&path.display(), &e])))?;
    }
    let protocol = form_protocol(&form)?;
    for (_, script) in &chosen {
        // A script that does not compile is bad input: said before anything opens (a field
        // its protocol lacks with its place in the profile).
        sockscope_core::rules::script::Run::compile_for(script, form.encoding, protocol.clone())
            .map_err(|why| {
                let field = sockscope_core::rules::script::field_lacking(
                    script,
                    form.encoding,
                    protocol.as_ref().map(|(p, _)| &**p),
                );
                bad(placed(&args.profile, field.as_deref(), &why))
            })?;
    }
    let show = Show {
        hex: form.rx_hex,
        encoding: form.encoding,
    };
    let mut outcomes = Vec::new();
    for chosen in chosen {
        let outcome = run_one(&form, chosen, io);
        let _ = writeln!(io.stdout, "{}", tf(S::CliScriptHeader, &[&outcome.name]));
        if let Some(report) = &outcome.report {
            for line in report_lines(&chosen.1.steps, report, show) {
                let _ = writeln!(io.stdout, "{line}");
            }
        }
        // The verdict says why, on stdout with the steps (stderr has the error too).
        let verdict = match (outcome.passed(), outcome.error.clone(), outcome.failure()) {
            (true, _, _) => t(S::CliPassed).to_owned(),
            (false, Some(why), _) | (false, None, Some(why)) => tf(S::CliFailedBecause, &[&why]),
            (false, None, None) => t(S::CliFailed).to_owned(),
        };
        let _ = writeln!(io.stdout, "  {verdict} ({})", took(outcome.took));
        if let Some(error) = &outcome.error {
            let _ = writeln!(io.stderr, "{error}");
        }
        outcomes.push(outcome);
        if io.stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let _ = writeln!(
        io.stdout,
        "{}",
        tf(S::CliTestSummary, &[&passed, &outcomes.len()])
    );
    if let Some(path) = &args.junit {
        let suite = args
            .profile
            .file_stem()
            .map_or_else(|| "profile".into(), |s| s.to_string_lossy().into_owned());
        std::fs::write(path, junit(&suite, &outcomes, show))
            .map_err(|e| bad(tf(S::CliCannotWrite, &[&path.display(), &e])))?;
    }
    // A connect that failed is exit 2 (as for `connect`); a step that failed is 1.
    if outcomes
        .iter()
        .any(|o| o.report.is_none() && o.error.is_some())
    {
        return Ok(super::BAD_INPUT);
    }
    Ok(if passed == outcomes.len() {
        OK
    } else {
        NOT_MATCHED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_control_bytes() {
        assert_eq!(xml("a<b>&\"'\u{1}"), "a&lt;b&gt;&amp;&quot;&apos;\\x01");
    }
}
