//! What the rules of `sockscope run` did, said at the end: every rule and how often it fired,
//! 0 too (which rule answered each message is in the log as it happens).

use std::io::Write;

use sockscope_core::capture::Capture;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::profile::Form;
use sockscope_core::rules::Machine;

/// Every rule of `form` with the times it fired in `capture`, in rule order (a rule that never
/// fired is worth knowing about too): one line of text, or one JSON object
/// (`{"kind":"rules","hits":[{"rule":NAME,"count":N}]}`, `schema/rules.schema.json`).
pub(super) fn print_hits(out: &mut dyn Write, form: &Form, capture: &Capture, json: bool) {
    if !form.automation.active() {
        return;
    }
    // The session ran these rules compiled the same way: the same ids, the same names.
    let Ok(machine) = Machine::compile(&form.automation, form.encoding) else {
        return;
    };
    let fired: Vec<(String, u64, u64)> = machine
        .hits_by_id()
        .into_iter()
        .map(|(id, name, _)| {
            let hits = capture.rule_hits.get(&id).copied().unwrap_or_default();
            (name, hits.count, hits.failed)
        })
        .collect();
    if json {
        let hits: Vec<serde_json::Value> = fired
            .iter()
            .map(|(name, count, failed)| {
                serde_json::json!({ "rule": name, "count": count, "failed": failed })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::json!({ "kind": "rules", "hits": hits })
        );
    } else if fired.is_empty() {
        let _ = writeln!(out, "{}", t(S::CliRuleHitsNone));
    } else {
        let listed: Vec<String> = fired
            .iter()
            .map(|(name, count, failed)| match failed {
                0 => format!("{name} × {count}"),
                n => tf(S::CliRuleFailedN, &[name, count, n]),
            })
            .collect();
        let _ = writeln!(out, "{}", tf(S::CliRuleHits, &[&listed.join(", ")]));
    }
    let _ = out.flush();
}

/// True when some rule of the run fired and could not make its reply (a message went
/// unanswered): `run` then ends with exit 1.
pub(super) fn any_failed(capture: &Capture) -> bool {
    capture.rule_hits.values().any(|h| h.failed > 0)
}
