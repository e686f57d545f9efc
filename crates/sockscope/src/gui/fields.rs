//! Field names of a protocol, as Find and Show take them (`f.msg_id`, `f.body.speed`): which
//! names the protocol has, and the nearest one to a name it does not have. A leaf module: no
//! egui, no panel.

use sockscope_core::capture::{Record, RecordKind, RelayWay};
use sockscope_core::engine::Mode;
use sockscope_core::protocol::{Dir, Kind, Protocol};

/// Which way a record went, as a protocol reads it: a server receives requests, a client
/// replies; a relay's bytes from a client are requests, the upstream's replies.
pub fn dir_of(mode: Mode, record: &Record<'_>) -> Dir {
    match record.relay {
        Some(RelayWay::FromClient) => return Dir::Request,
        Some(RelayWay::FromUpstream) => return Dir::Response,
        None => {}
    }
    match record.kind {
        RecordKind::Rx => sockscope_core::session::received_dir(mode),
        RecordKind::Tx => sockscope_core::session::sent_dir(mode),
        _ => Dir::Unknown,
    }
}

/// Why `name` (a path as written after `f.`) is not a field of `protocol`, with the nearest
/// name it has; `None` when it is one, or may be one (a `key=value` protocol's keys come with
/// the data).
pub fn unknown(protocol: &Protocol, name: &str) -> Option<(String, Option<String>)> {
    // Every frame's soundness, as rules read it (`!f.checks_ok`).
    if name == sockscope_core::protocol::CHECKS_OK {
        return None;
    }
    let nodes = &protocol.program.nodes;
    if nodes.iter().any(|n| matches!(n.kind, Kind::Kv { .. })) {
        return None;
    }
    // Each part of the path is the name of a field (a switch's body holds its case's fields
    // under the switch's name).
    let names: Vec<&str> = nodes.iter().map(|n| &*n.name).collect();
    let parts: Vec<&str> = name.split('.').collect();
    let bad = parts.iter().position(|part| !names.contains(part))?;
    let part = parts.get(bad).copied().unwrap_or(name);
    let nearest = names
        .iter()
        .filter(|n| !n.is_empty())
        .map(|n| {
            // A name cut short (`func` for `function`) is near too.
            let (typed, name) = (fold(part), fold(n));
            let cut = typed.chars().count() >= 3 && name.starts_with(&typed);
            let d = distance(&typed, &name);
            (if cut { d.min(1) } else { d }, *n)
        })
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| {
            let mut fixed = parts.clone();
            if let Some(p) = fixed.get_mut(bad) {
                *p = n;
            }
            fixed.join(".")
        });
    Some((name.to_owned(), nearest))
}

/// Lower case without `_` and `-`: `msgid` is near `msg_id`.
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let old = row.get(j + 1).copied().unwrap_or(0);
            let left = row.get(j).copied().unwrap_or(0);
            let cost = usize::from(ca != *cb);
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = (old + 1).min(left + 1).min(prev + cost);
            }
            prev = old;
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_name_the_protocol_lacks_is_named_with_the_nearest_it_has() {
        let jt808 = sockscope_core::protocol::builtin("jt808").unwrap();
        assert_eq!(unknown(&jt808, "msg_id"), None);
        assert_eq!(unknown(&jt808, "body.speed"), None);
        assert_eq!(unknown(&jt808, "speed"), None);
        // As rules read it (the filter refused it: "no field 'checks_ok'").
        assert_eq!(unknown(&jt808, "checks_ok"), None);
        assert_eq!(
            unknown(&jt808, "msgid"),
            Some(("msgid".into(), Some("msg_id".into())))
        );
        assert_eq!(unknown(&jt808, "bogus"), Some(("bogus".into(), None)));
        let modbus = sockscope_core::protocol::builtin("modbus-tcp").unwrap();
        assert_eq!(
            unknown(&modbus, "func"),
            Some(("func".into(), Some("function".into())))
        );
        assert_eq!(
            unknown(&jt808, "body.sped"),
            Some(("body.sped".into(), Some("body.speed".into())))
        );
    }
}
