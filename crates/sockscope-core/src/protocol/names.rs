//! Every name a spec reads, checked when the spec loads: the names in `when`, `len`, `count`,
//! `on`, `value` and `over` against the fields the decoder can find there, the targets of
//! `length_of` and `count_of` and the `{fields}` of summaries against the spec's fields. A
//! typo is said with its line, column and field, instead of failing every frame.
//!
//! The decoder looks a name up among the values read so far (`Env::find` in `decode`): in
//! the open scopes first, then anywhere before, so a body layout reads the header's fields,
//! and `a.b` reads `b` among the fields of `a`; `pos`, `remaining` and `dir` are always there.
//! Here the same rule is followed over the spec instead of a frame: a field is "read before"
//! when it comes earlier in decoding order on some path (any case of an earlier switch), and
//! a layout sees what each switch that picks it sees.

use std::collections::{BTreeMap, BTreeSet};

use super::compile::{Kind, LayoutId, Len, NodeId, Program};
use super::{SpecError, both, spec};
use crate::expr::Expr;
use crate::i18n::{S, tf};

/// Names an expression in a spec can always read.
const IMPLICIT: [&str; 3] = ["pos", "remaining", "dir"];

/// The fields read so far.
type Seen = BTreeSet<NodeId>;

/// Where the later parts of a dotted name are looked for.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// Among the fields of this node.
    Node(NodeId),
    /// Among the fields of an item of this repeat.
    Item(NodeId),
    /// Anything (the keys of a key–value text come from the frame).
    Any,
}

struct Checker<'a> {
    prog: &'a Program,
    text: &'a str,
    /// What each layout sees where a switch picks it.
    contexts: BTreeMap<LayoutId, Seen>,
    /// Say the first unknown name (else only gather `contexts`).
    report: bool,
}

/// Checks every name `prog` (compiled from `text`) reads.
pub(super) fn check(prog: &Program, text: &str, spec: &spec::Spec) -> Result<(), SpecError> {
    let mut c = Checker {
        prog,
        text,
        contexts: BTreeMap::new(),
        report: false,
    };
    // A layout may be picked in several places, also by a switch of another layout: gather
    // what each sees until nothing grows, then check (a name found on one path is fine).
    for _ in 0..=prog.layouts.len() {
        let before = c.contexts.clone();
        c.list(&prog.root, &mut Seen::new())?;
        for (id, seen) in &before {
            c.layout(*id, seen.clone())?;
        }
        if c.contexts == before {
            break;
        }
    }
    c.report = true;
    c.list(&prog.root, &mut Seen::new())?;
    // A layout no switch picks (only groups and repeats copy it) sees everything.
    let everything: Seen = (0..prog.nodes.len())
        .filter_map(|n| n.try_into().ok())
        .collect();
    for id in 0..prog.layouts.len() {
        let Ok(id) = LayoutId::try_from(id) else {
            continue;
        };
        let seen = c
            .contexts
            .get(&id)
            .cloned()
            .unwrap_or_else(|| everything.clone());
        c.layout(id, seen)?;
    }
    // Targets are filled in once the frame is made, from fields before or after.
    for (n, node) in prog.nodes.iter().enumerate() {
        let Ok(id) = NodeId::try_from(n) else {
            continue;
        };
        let targets = node
            .length_of
            .iter()
            .flat_map(|(a, b)| [("length_of", a), ("length_of", b)])
            .chain(node.count_of.iter().map(|t| ("count_of", t)));
        for (attr, target) in targets {
            if !c.named_anywhere(target) {
                return Err(c.unknown(id, attr, target, S::SpecUnknownTarget, &everything));
            }
        }
    }
    c.summaries(spec)
}

impl Checker<'_> {
    fn list(&mut self, ids: &[NodeId], seen: &mut Seen) -> Result<(), SpecError> {
        for &id in ids {
            self.node(id, seen)?;
        }
        Ok(())
    }

    fn layout(&mut self, id: LayoutId, mut seen: Seen) -> Result<(), SpecError> {
        let prog = self.prog;
        match prog.layout(id) {
            Some(l) => self.list(&l.children, &mut seen),
            None => Ok(()),
        }
    }

    /// Checks a node's expressions against what is read before it, then marks it read.
    fn node(&mut self, id: NodeId, seen: &mut Seen) -> Result<(), SpecError> {
        let prog = self.prog;
        let Some(node) = prog.node(id) else {
            return Ok(());
        };
        // A field's own expressions run before it is read.
        if let Some(when) = &node.when {
            self.expr(id, "when", when, seen)?;
        }
        match &node.kind {
            Kind::Int { bits, .. } => {
                seen.insert(id);
                for &b in bits {
                    if let Some(when) = prog.node(b).and_then(|b| b.when.as_ref()) {
                        self.expr(b, "when", when, seen)?;
                    }
                    seen.insert(b);
                }
            }
            Kind::Bcd(len) | Kind::Bytes(len) | Kind::Str(len, _) | Kind::Kv { len, .. } => {
                self.len(id, len, seen)?;
                seen.insert(id);
            }
            Kind::Group { len, children } => {
                if let Some(len) = len {
                    self.len(id, len, seen)?;
                }
                seen.insert(id);
                self.list(children, seen)?;
            }
            Kind::Repeat {
                count,
                len,
                children,
            } => {
                if let Some(count) = count {
                    self.expr(id, "count", count, seen)?;
                }
                if let Some(len) = len {
                    self.len(id, len, seen)?;
                }
                seen.insert(id);
                self.list(children, seen)?;
            }
            Kind::Switch {
                on,
                len,
                cases,
                default,
            } => {
                self.expr(id, "on", on, seen)?;
                if let Some(len) = len {
                    self.len(id, len, seen)?;
                }
                seen.insert(id);
                let picked: Vec<LayoutId> = cases.iter().map(|(_, l)| *l).chain(*default).collect();
                self.picks(&picked, seen);
            }
            Kind::Computed(value) => {
                self.expr(id, "value", value, seen)?;
                seen.insert(id);
            }
            Kind::Checksum { over, .. } => {
                for end in [&over.0, &over.1] {
                    if self.report && !self.resolves(end, seen) {
                        return Err(self.unknown(id, "over", end, S::SpecUnknownField, seen));
                    }
                }
                if self.report {
                    self.in_order(id, "over", over, seen)?;
                }
                seen.insert(id);
            }
            Kind::Csv {
                len,
                children,
                switch,
                ..
            } => {
                self.len(id, len, seen)?;
                seen.insert(id);
                self.list(children, seen)?;
                if let Some((on, (cases, default))) = switch {
                    self.expr(id, "on", on, seen)?;
                    let picked: Vec<LayoutId> =
                        cases.iter().map(|(_, l)| *l).chain(*default).collect();
                    self.picks(&picked, seen);
                }
            }
            Kind::Bits { .. } | Kind::Float { .. } | Kind::Const(_) | Kind::Column(_) => {
                seen.insert(id);
            }
        }
        Ok(())
    }

    /// The layouts a switch may pick see what it sees; after it, any of their fields may
    /// have been read.
    fn picks(&mut self, layouts: &[LayoutId], seen: &mut Seen) {
        for &l in layouts {
            self.contexts
                .entry(l)
                .or_default()
                .extend(seen.iter().copied());
        }
        let mut below = Seen::new();
        let mut visited = BTreeSet::new();
        for &l in layouts {
            self.layout_nodes(l, &mut below, &mut visited);
        }
        seen.extend(below);
    }

    fn layout_nodes(&self, l: LayoutId, out: &mut Seen, visited: &mut BTreeSet<LayoutId>) {
        if !visited.insert(l) {
            return;
        }
        if let Some(layout) = self.prog.layout(l) {
            for &c in &layout.children {
                self.descend(c, out, visited);
            }
        }
    }

    /// A node and every node below it (through the layouts its switches pick).
    fn descend(&self, id: NodeId, out: &mut Seen, visited: &mut BTreeSet<LayoutId>) {
        if !out.insert(id) {
            return;
        }
        let Some(node) = self.prog.node(id) else {
            return;
        };
        match &node.kind {
            Kind::Int { bits: ids, .. }
            | Kind::Group { children: ids, .. }
            | Kind::Repeat { children: ids, .. } => {
                for &c in ids {
                    self.descend(c, out, visited);
                }
            }
            Kind::Switch { cases, default, .. } => {
                for l in cases.iter().map(|(_, l)| *l).chain(*default) {
                    self.layout_nodes(l, out, visited);
                }
            }
            Kind::Csv {
                children, switch, ..
            } => {
                for &c in children {
                    self.descend(c, out, visited);
                }
                if let Some((_, (cases, default))) = switch {
                    for l in cases.iter().map(|(_, l)| *l).chain(*default) {
                        self.layout_nodes(l, out, visited);
                    }
                }
            }
            _ => {}
        }
    }

    fn len(&self, id: NodeId, len: &Len, seen: &Seen) -> Result<(), SpecError> {
        match len {
            Len::Expr(e) => self.expr(id, "len", e, seen),
            _ => Ok(()),
        }
    }

    fn expr(&self, id: NodeId, attr: &str, e: &Expr, seen: &Seen) -> Result<(), SpecError> {
        if !self.report {
            return Ok(());
        }
        for name in e.fields_used() {
            if !self.resolves(&name, seen) {
                return Err(self.unknown(id, attr, &name, S::SpecUnknownField, seen));
            }
        }
        Ok(())
    }

    /// True when `name` (`props`, `props.version`, `reports.0.len`) is found as the decoder
    /// would find it after reading `seen`.
    fn resolves(&self, name: &str, seen: &Seen) -> bool {
        if IMPLICIT.contains(&name) {
            return true;
        }
        let mut parts = name.split('.');
        let first = parts.next().unwrap_or_default();
        let mut places: Vec<Place> = seen
            .iter()
            .filter(|id| self.prog.node(**id).is_some_and(|n| *n.name == *first))
            .map(|id| Place::Node(*id))
            .collect();
        if seen.iter().any(|id| self.kv_key(*id, first)) {
            places.push(Place::Any);
        }
        for part in parts {
            let mut next = Vec::new();
            for p in places {
                self.below(p, part, &mut next);
            }
            places = next;
        }
        !places.is_empty()
    }

    /// True when node `id` is a key–value text that names the key `key`.
    fn kv_key(&self, id: NodeId, key: &str) -> bool {
        match self.prog.node(id).map(|n| &n.kind) {
            Some(Kind::Kv { keys, nested, .. }) => {
                keys.iter().any(|k| k.key == key) || nested.iter().any(|n| n.key == key)
            }
            _ => false,
        }
    }

    /// Where `part` is found among the fields of `place`.
    fn below(&self, place: Place, part: &str, out: &mut Vec<Place>) {
        let prog = self.prog;
        let named = |ids: &[NodeId], out: &mut Vec<Place>| {
            for &c in ids {
                if prog.node(c).is_some_and(|n| *n.name == *part) {
                    out.push(Place::Node(c));
                }
            }
        };
        let in_layouts = |ls: &mut dyn Iterator<Item = LayoutId>, out: &mut Vec<Place>| {
            for l in ls {
                if let Some(layout) = prog.layout(l) {
                    named(&layout.children, out);
                }
            }
        };
        let id = match place {
            Place::Any => {
                out.push(Place::Any);
                return;
            }
            Place::Item(id) => {
                if let Some(Kind::Repeat { children, .. }) = prog.node(id).map(|n| &n.kind) {
                    named(children, out);
                }
                return;
            }
            Place::Node(id) => id,
        };
        let Some(node) = prog.node(id) else {
            return;
        };
        match &node.kind {
            Kind::Int { bits: ids, .. } | Kind::Group { children: ids, .. } => named(ids, out),
            Kind::Repeat { .. } if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => {
                out.push(Place::Item(id));
            }
            Kind::Switch { cases, default, .. } => {
                in_layouts(&mut cases.iter().map(|(_, l)| *l).chain(*default), out);
            }
            Kind::Csv {
                children, switch, ..
            } => {
                named(children, out);
                if let Some((_, (cases, default))) = switch {
                    in_layouts(&mut cases.iter().map(|(_, l)| *l).chain(*default), out);
                }
            }
            Kind::Kv { .. } => out.push(Place::Any),
            _ => {}
        }
    }

    /// True when some field of the spec is `name` (`body`, `data.CN`, `items.0.id`): its
    /// path ends so (item numbers aside), or it is a key a key–value text names.
    fn named_anywhere(&self, name: &str) -> bool {
        let want: Vec<&str> = name
            .split('.')
            .filter(|p| !p.bytes().all(|b| b.is_ascii_digit()))
            .collect();
        if want.is_empty() {
            return false;
        }
        let kv_keys = self.prog.nodes.iter().any(|n| match &n.kind {
            Kind::Kv { keys, nested, .. } => want
                .iter()
                .any(|w| keys.iter().any(|k| k.key == *w) || nested.iter().any(|k| k.key == *w)),
            _ => false,
        });
        kv_keys
            || self.prog.nodes.iter().any(|n| {
                let path: Vec<&str> = n.path.split('.').collect();
                path.len() >= want.len() && path.get(path.len() - want.len()..) == Some(&want[..])
            })
    }

    /// The `{field}` of every summary part names a field of the spec.
    fn summaries(&self, spec: &spec::Spec) -> Result<(), SpecError> {
        let parts = spec
            .summary
            .iter()
            .chain(&spec.summary_zh)
            .map(|p| ("", p))
            .chain(spec.layouts.iter().flat_map(|(key, l)| {
                l.summary
                    .iter()
                    .chain(&l.summary_zh)
                    .map(move |p| (key.as_str(), p))
            }));
        for (layout, part) in parts {
            let mut rest = part.as_str();
            while let Some(open) = rest.find('{') {
                let after = rest.get(open + 1..).unwrap_or_default();
                let Some(close) = after.find('}') else { break };
                let inner = after.get(..close).unwrap_or_default();
                let path = inner.split_once(':').map_or(inner, |(p, _)| p).trim();
                if !path.is_empty() && !self.named_anywhere(path) {
                    let at = self
                        .text
                        .find(&format!("{{{inner}}}"))
                        .map_or(0, |at| at + 1);
                    let (line, column) = spec::line_col(self.text, at);
                    let message = both(|| tf(S::SpecUnknownTarget, &[&path, &"summary"]));
                    return Err(SpecError {
                        line,
                        column,
                        field: layout.to_owned(),
                        message: message.0,
                        message_zh: message.1,
                    });
                }
                rest = after.get(close + 1..).unwrap_or_default();
            }
        }
        Ok(())
    }

    /// A range `first..last` whose fields are siblings must name them in frame order: the
    /// decoder covers from the first's start to the last's end, so `body..msg_id` covers
    /// nothing and every good frame would fail its check.
    fn in_order(
        &self,
        id: NodeId,
        attr: &str,
        range: &(String, String),
        seen: &Seen,
    ) -> Result<(), SpecError> {
        let (first, last) = range;
        if first == last {
            return Ok(());
        }
        let find = |name: &str| {
            seen.iter()
                .rev()
                .filter_map(|n| self.prog.node(*n))
                .find(|n| &*n.name == name)
        };
        let parent = |path: &str| path.rsplit_once('.').map_or("", |(p, _)| p).to_owned();
        let (Some(a), Some(b)) = (find(first), find(last)) else {
            return Ok(());
        };
        if parent(&a.path) != parent(&b.path) || a.at <= b.at {
            return Ok(());
        }
        let node = self.prog.node(id);
        let at = node.map_or(0, |n| n.at);
        let at = place(self.text, at, attr, first).unwrap_or(at);
        let (line, column) = spec::line_col(self.text, at);
        let message = both(|| tf(S::SpecRangeBackwards, &[&first, &last, &attr]));
        Err(SpecError {
            line,
            column,
            field: node.map(|n| n.path.clone()).unwrap_or_default(),
            message: message.0,
            message_zh: message.1,
        })
    }

    /// The error for an unknown `name` in attribute `attr` of node `id`, placed on the name
    /// in the spec's text, with the nearest name read before it as a hint.
    fn unknown(&self, id: NodeId, attr: &str, name: &str, what: S, seen: &Seen) -> SpecError {
        let (at, path) = self
            .prog
            .node(id)
            .map_or((0, String::new()), |n| (n.at, n.path.clone()));
        let at = place(self.text, at, attr, name).unwrap_or(at);
        let (line, column) = spec::line_col(self.text, at);
        let near = nearest(
            name,
            seen.iter()
                .filter_map(|id| self.prog.node(*id))
                .map(|n| &*n.name)
                .chain(IMPLICIT),
        );
        let message = both(|| {
            let mut s = tf(what, &[&name, &attr]);
            if let Some(near) = near {
                s.push_str(&tf(S::SpecDidYouMean, &[&near]));
            }
            s
        });
        SpecError {
            line,
            column,
            field: path,
            message: message.0,
            message_zh: message.1,
        }
    }
}

/// For a rule's `f.NAME`: `None` when some frame of the protocol can have the field `name`
/// (a path such as `body.speed` or a last part such as `speed`, as [`super::Decoded::get`]
/// finds it), else the error holds the nearest field name, if one is close.
pub(super) fn lacks(prog: &Program, name: &str) -> Result<(), Option<String>> {
    let c = Checker {
        prog,
        text: "",
        contexts: BTreeMap::new(),
        report: false,
    };
    // A layout's fields sit under their switch in a frame (`body.speed`) but under the
    // layout's key in the program: each part must be some field's name (or a key).
    let found = c.named_anywhere(name)
        || name
            .split('.')
            .all(|part| part.bytes().all(|b| b.is_ascii_digit()) || c.named_anywhere(part));
    if found {
        return Ok(());
    }
    let names: BTreeSet<&str> = prog.nodes.iter().map(|n| &*n.name).collect();
    Err(nearest(name, names.into_iter()).map(str::to_owned))
}

/// The fields a frame's value path (`body.result`, as rules and replies write it) can be: a
/// path followed from the frame's first fields through groups, bits, repeats and every case
/// of a switch.
pub(super) fn nodes_at<'a>(prog: &'a Program, name: &str) -> Vec<&'a super::compile::Node> {
    let c = Checker {
        prog,
        text: "",
        contexts: BTreeMap::new(),
        report: false,
    };
    let mut parts = name.split('.');
    let Some(first) = parts.next() else {
        return Vec::new();
    };
    let mut places: Vec<Place> = prog
        .root
        .iter()
        .filter(|&&id| prog.node(id).is_some_and(|n| *n.name == *first))
        .map(|&id| Place::Node(id))
        .collect();
    for part in parts {
        let mut next = Vec::new();
        for place in places {
            c.below(place, part, &mut next);
        }
        places = next;
    }
    places
        .into_iter()
        .filter_map(|p| match p {
            Place::Node(id) => prog.node(id),
            _ => None,
        })
        .collect()
}

/// The byte offset of `name` in the string given to `attr:` in the field that starts at `at`.
fn place(text: &str, at: usize, attr: &str, name: &str) -> Option<usize> {
    let mut from = at;
    loop {
        let rest = text.get(from..)?;
        let found = rest.find(attr)?;
        let key = from + found;
        from = key + attr.len();
        // A whole attribute name, then `:` and a string.
        let before = text.get(..key)?.chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let after = text.get(from..)?.trim_start();
        let Some(after) = after.strip_prefix(':') else {
            continue;
        };
        let after = after.trim_start();
        let Some(body) = after.strip_prefix('"') else {
            continue;
        };
        let body_at = text.len() - body.len();
        let body = body.get(..body.find('"')?)?;
        let mut search = 0;
        while let Some(n) = body.get(search..).and_then(|b| b.find(name)) {
            let start = search + n;
            let end = start + name.len();
            let word = |c: char| c.is_alphanumeric() || c == '_';
            let left = body.get(..start).and_then(|s| s.chars().next_back());
            let right = body.get(end..).and_then(|s| s.chars().next());
            // After a `.` only as `f.name` or the end of a range `a..name`.
            let dot_ok = body
                .get(..start)
                .is_some_and(|s| s.ends_with("f.") || s.ends_with(".."));
            let left_ok = left.is_none_or(|c| !word(c) && (c != '.' || dot_ok));
            if left_ok && right.is_none_or(|c| !word(c) && c != '.') {
                return Some(body_at + start);
            }
            search = end;
        }
    }
}

/// The name among `names` nearest `name` (at most two edits away), for "did you mean".
fn nearest<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let last = name.rsplit('.').next().unwrap_or(name);
    names
        .filter(|n| *n != last)
        .map(|n| (distance(last, n), n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Edits (insert, delete, change a character) from `a` to `b`.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let up = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = diag + usize::from(ca != *cb);
            diag = up;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost.min(up.saturating_add(1)).min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("bodyy", "body"), 1);
        assert_eq!(distance("msgid", "msg_id"), 1);
        assert_eq!(distance("verzion", "version"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(
            nearest("msgid", ["msg_id", "serial"].into_iter()),
            Some("msg_id")
        );
        assert_eq!(nearest("zzz", ["msg_id"].into_iter()), None);
    }

    #[test]
    fn a_name_is_placed_in_its_attribute() {
        let text = r#"(name: "c", type: "checksum", over: "msg_id..bodyy")"#;
        let at = place(text, 0, "over", "bodyy").unwrap();
        assert_eq!(text.get(at..at + 5), Some("bodyy"));
        let text = r#"(name: "x", when: "f.verzion == 0")"#;
        let at = place(text, 0, "when", "verzion").unwrap();
        assert_eq!(text.get(at..at + 7), Some("verzion"));
    }
}
