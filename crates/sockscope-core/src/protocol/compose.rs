//! What a form that makes frames needs from a spec: the messages it can make (the cases of
//! the frame's first switch, with the values that choose each) and a frame made of partial
//! values (blank values for the fields nobody filled in yet).

use std::collections::BTreeMap;

use super::compile::{Kind, LayoutId, NodeId, Program};
use super::decode::eval;
use super::show::pick;
use super::spec::{Key, Show};
use super::{Dir, EncodeError, FieldValue, Protocol};
use crate::expr::{Expr, Fields, Value};
use crate::hex;
use crate::i18n::{S, tf};

/// A frame made for a form.
#[derive(Clone, Debug, PartialEq)]
pub struct Composed {
    /// The frame, or the field that stopped it and why.
    pub bytes: Result<Vec<u8>, EncodeError>,
    /// The blank values the fields without one took, by path.
    pub blanks: Vec<(String, FieldValue)>,
    /// Every field met, in frame order, with its node in [`Protocol::program`] (what kind
    /// of value it takes), up to where making the frame stopped.
    pub nodes: Vec<(String, NodeId)>,
}

/// A message a form can make.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The switch's value that chooses it (JT/T 808's `0x0200`, Modbus's `0x103` for a
    /// reply to function 3); a text case's bytes as a number (NMEA's `GGA`, 0x474741).
    pub key: i64,
    /// Its name for people, in the language of the call: the number that chooses it with
    /// its name, and its layout's name (`0x0200 Location report · Location`).
    pub label: String,
    /// The values that choose it (`msg_id`, `props.subpkg`).
    pub values: Vec<(String, FieldValue)>,
    /// The direction its frames are read in.
    pub dir: Dir,
}

/// Values by name, for working an expression out.
struct Named<'a>(&'a BTreeMap<String, i128>);

impl Fields for Named<'_> {
    fn field(&self, name: &str) -> Option<Value> {
        Some(Value::Int(self.0.get(name).copied().unwrap_or(0)))
    }
}

fn int_of(expr: &Expr, names: &BTreeMap<String, i128>) -> Option<i128> {
    match eval(expr, &[], &Named(names)).ok()? {
        Value::Int(n) => Some(n),
        Value::Bool(b) => Some(i128::from(b)),
        _ => None,
    }
}

/// The first switch of the frame (looking into groups), with its expression and cases.
fn first_switch(prog: &Program, ids: &[NodeId]) -> Option<(Expr, Vec<(Key, LayoutId)>)> {
    for &id in ids {
        let node = prog.node(id)?;
        match &node.kind {
            Kind::Switch { on, cases, .. } if !cases.is_empty() => {
                return Some((on.clone(), cases.clone()));
            }
            // Columns by a text (NMEA's sentence by `address[2..]`).
            Kind::Csv {
                switch: Some((on, (cases, _))),
                ..
            } if !cases.is_empty() => {
                return Some((on.clone(), cases.clone()));
            }
            Kind::Group { children, .. } => {
                if let Some(found) = first_switch(prog, children) {
                    return Some(found);
                }
            }
            _ => {}
        }
    }
    None
}

/// The node a bare name in a frame-level expression reads, with its path: the first field of
/// the frame (or a bit field of one) of that name.
fn named_node(prog: &Program, name: &str) -> Option<(NodeId, String)> {
    fn walk(prog: &Program, ids: &[NodeId], prefix: &str, name: &str) -> Option<(NodeId, String)> {
        for &id in ids {
            let node = prog.node(id)?;
            let path = if prefix.is_empty() {
                node.name.to_string()
            } else {
                format!("{prefix}.{}", node.name)
            };
            if &*node.name == name {
                return Some((id, path));
            }
            match &node.kind {
                Kind::Int { bits, .. } => {
                    if let Some(found) = walk(prog, bits, &path, name) {
                        return Some(found);
                    }
                }
                Kind::Group { children, .. } | Kind::Csv { children, .. } => {
                    if let Some(found) = walk(prog, children, &path, name) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        None
    }
    walk(prog, &prog.root, "", name)
}

/// Texts by name, for working an expression out.
struct NamedText<'a>(&'a str, &'a str);

impl Fields for NamedText<'_> {
    fn field(&self, name: &str) -> Option<Value> {
        (name == self.0).then(|| Value::Text(self.1.to_owned()))
    }
}

/// The text of the one name `on` reads that makes it the text `key`: the key itself, or the
/// key after characters a slice skips (NMEA's `address[2..]`: `GGA` is chosen by `GPGGA`, the
/// characters before taken as GPS's talker `GP`, which the form lets the user change).
fn solve_text(on: &Expr, names: &[String], key: &str) -> Option<String> {
    let [name] = names else { return None };
    (0..=4usize)
        .map(|n| format!("{}{key}", "GP".repeat(2).get(..n).unwrap_or_default()))
        .find(|candidate| {
            matches!(eval(on, &[], &NamedText(name, candidate)), Ok(Value::Text(t)) if t == key)
        })
}

/// A text case's key as a number, for [`Message::key`]: its bytes, big-endian (`GGA` is
/// 0x474741); eight bytes at most.
fn text_key(key: &str) -> i64 {
    key.bytes()
        .take(8)
        .fold(0i64, |n, b| n.wrapping_shl(8) | i64::from(b))
}

/// The values of the names `on` reads that make it `key`, when `on` is a sum of the names
/// times numbers (`msg_id + 0x10000 * subpkg`, `function + 256 * is_reply`).
fn solve(on: &Expr, names: &[String], key: i128) -> Option<BTreeMap<String, i128>> {
    let zero: BTreeMap<String, i128> = names.iter().map(|n| (n.clone(), 0)).collect();
    let base = int_of(on, &zero)?;
    let mut coefs: Vec<(i128, &String)> = Vec::new();
    for n in names {
        let mut one = zero.clone();
        one.insert(n.clone(), 1);
        coefs.push((int_of(on, &one)? - base, n));
    }
    coefs.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut rest = key - base;
    let mut out = zero.clone();
    for (c, n) in coefs {
        if c > 0 && rest >= 0 {
            let x = rest / c;
            rest -= x * c;
            out.insert(n.clone(), x);
        }
    }
    (rest == 0 && int_of(on, &out) == Some(key)).then_some(out)
}

/// The message of a text case (NMEA's `GGA`): the text that chooses it, labelled by the case
/// and its layout's name.
fn text_message(
    proto: &Protocol,
    on: &Expr,
    names: &[String],
    nodes: &[Option<(NodeId, String)>],
    key: &str,
    layout: LayoutId,
) -> Option<Message> {
    let value = solve_text(on, names, key)?;
    let (_, path) = nodes.first()?.as_ref()?;
    let mut label = key.to_owned();
    if let Some(l) = proto.program.layout(layout) {
        let title = pick(&l.en, &l.zh);
        if !title.is_empty() {
            label.push_str(" · ");
            label.push_str(title);
        }
    }
    Some(Message {
        key: text_key(key),
        label,
        values: vec![(path.clone(), FieldValue::Text(value))],
        dir: Dir::Request,
    })
}

pub(super) fn messages(proto: &Protocol) -> Vec<Message> {
    let prog = &proto.program;
    let Some((on, cases)) = first_switch(prog, &prog.root) else {
        return Vec::new();
    };
    let names = on.fields_used();
    let nodes: Vec<Option<(NodeId, String)>> = names.iter().map(|n| named_node(prog, n)).collect();
    let mut out = Vec::new();
    for (key, layout) in &cases {
        let Key::Int(key) = key else {
            if let Key::Text(text) = key
                && let Some(message) = text_message(proto, &on, &names, &nodes, text, *layout)
            {
                out.push(message);
            }
            continue;
        };
        let Some(solved) = solve(&on, &names, i128::from(*key)) else {
            continue;
        };
        let values: Vec<(String, FieldValue)> = names
            .iter()
            .zip(&nodes)
            .filter_map(|(name, node)| {
                let (_, path) = node.as_ref()?;
                Some((path.clone(), FieldValue::Int(*solved.get(name)?)))
            })
            .collect();
        // Read as a request unless only a reply's reading chooses its layout (Modbus tells a
        // reply by its direction).
        // A value besides the first (Modbus's `is_reply`, DL/T 645's `reply`) marks a reply
        // when a reply's reading chooses the layout too.
        let replyish = names
            .iter()
            .skip(1)
            .any(|n| solved.get(n).is_some_and(|v| *v != 0));
        let order = if replyish {
            [Dir::Response, Dir::Request]
        } else {
            [Dir::Request, Dir::Response]
        };
        let dir = order
            .into_iter()
            .find(|&dir| {
                let Ok(frame) = proto.compose(&values, dir).bytes else {
                    return false;
                };
                let decoded = proto.decode(&frame, dir);
                decoded.all().iter().any(|(_, f)| f.layout == Some(*layout))
            })
            .unwrap_or(order[0]);
        let first = names
            .first()
            .and_then(|n| Some((n, nodes.first()?.as_ref()?)));
        let mut label = String::new();
        if let Some((name, (id, _))) = first
            && let Some(node) = prog.node(*id)
        {
            let v = solved.get(name).copied().unwrap_or(0);
            let digits = match node.kind {
                Kind::Int { width, .. } => usize::from(width) * 2,
                _ => 2,
            };
            label = format!("0x{v:0digits$X}");
            let item = node
                .look
                .values
                .and_then(|e| prog.enums.get(e as usize))
                .and_then(|items| {
                    items
                        .iter()
                        .find(|i| matches!(i.0, Key::Int(k) if i128::from(k) == v))
                });
            if let Some(item) = item {
                label.push(' ');
                label.push_str(pick(&item.1, &item.2));
            }
        }
        if let Some(l) = prog.layout(*layout) {
            let title = pick(&l.en, &l.zh);
            if !title.is_empty() {
                label.push_str(" · ");
                label.push_str(title);
            }
        }
        out.push(Message {
            key: *key,
            label,
            values,
            dir,
        });
    }
    out
}

/// A number as typed into a form: decimal, or hex after `0x` (`-0x…` too); `_` between
/// digits is skipped.
pub fn number_from_text(text: &str) -> Option<i128> {
    let text = text.trim().replace('_', "");
    if let Some(h) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        i128::from_str_radix(h, 16).ok()
    } else if let Some(h) = text
        .strip_prefix("-0x")
        .or_else(|| text.strip_prefix("-0X"))
    {
        i128::from_str_radix(h, 16).ok().map(|n| -n)
    } else {
        text.parse().ok()
    }
}

/// Hex bytes as typed into a form (`22 11`, `2211`), or the sentence saying why they are not:
/// a bytes field's value, or the bytes a sized region holds after its fields (`data.extra`).
pub fn bytes_from_text(text: &str) -> Result<Vec<u8>, String> {
    hex::parse(text).map_err(|e| tf(S::ComposeBadHex, &[&text.trim(), &e]))
}

/// What `text` typed into the field of node `id` is, or the sentence saying why it is not:
/// numbers in decimal or `0x…` within their width, BCD digits (DL/T 645's `AA…` broadcast and
/// wildcard addresses too), bytes as hex, texts as typed.
pub(super) fn value_from_text(
    prog: &Program,
    id: NodeId,
    text: &str,
) -> Result<FieldValue, String> {
    let Some(node) = prog.node(id) else {
        return Ok(FieldValue::Text(text.to_owned()));
    };
    let range = |n: i128, lo: i128, hi: i128| {
        if n < lo || n > hi {
            Err(tf(S::ComposeRange, &[&n, &lo, &hi]))
        } else {
            Ok(FieldValue::Int(n))
        }
    };
    let bad_number = || tf(S::ComposeNotNumber, &[&text.trim()]);
    match &node.kind {
        Kind::Int { width, signed, .. } => {
            let n = number_from_text(text).ok_or_else(bad_number)?;
            let bits = (u32::from(*width) * 8).min(127);
            let (lo, hi) = if *signed {
                (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
            } else {
                (0, (1i128 << bits) - 1)
            };
            let value = range(n, lo, hi)?;
            // What the standard allows (a read of 1 to 125 registers): 200 went out and the
            // device answered with an exception.
            match node.range {
                Some((lo, hi)) if n < i128::from(lo) || n > i128::from(hi) => {
                    Err(tf(S::ComposeOutsideStandard, &[&n, &lo, &hi]))
                }
                _ => Ok(value),
            }
        }
        Kind::Bits { width, .. } => {
            let n = number_from_text(text).ok_or_else(bad_number)?;
            range(n, 0, (1i128 << u32::from(*width).min(126)) - 1)
        }
        Kind::Float { .. } => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(FieldValue::Float)
            .ok_or_else(bad_number),
        Kind::Bcd(_) => {
            let digits = text.trim().replace(' ', "");
            // Decimal digits (a sign first where the field has one), or all A: DL/T 645's
            // broadcast address AAAAAAAAAAAA. Other hex letters went out as BCD nibbles above
            // 9, which no device reads.
            let decimal = {
                let unsigned = digits.strip_prefix('-').unwrap_or(&digits);
                !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit())
            };
            // All A, or A in the high digits before decimal ones: DL/T 645's broadcast and
            // wildcard (缩位) addresses.
            let broadcast = {
                let tail = digits.trim_start_matches(['A', 'a']);
                tail.len() < digits.len() && tail.bytes().all(|b| b.is_ascii_digit())
            };
            if !(decimal || broadcast) {
                // The A wildcard is said only where it is taken: an address (DL/T 645's).
                let key = if node.name.contains("address") {
                    S::ComposeNotDigits
                } else {
                    S::ComposeNotDecimal
                };
                return Err(tf(key, &[&text.trim()]));
            }
            Ok(FieldValue::Text(digits))
        }
        Kind::Bytes(_) => bytes_from_text(text).map(FieldValue::Bytes),
        // A text column (NMEA's): what splits or ends a sentence cannot be inside one
        // (`1,2` was two columns, `5*7` a checksum, and pynmea2 refused the sentence).
        Kind::Column(_) => match ['$', ',', '*', '!', '\\', '^', '~', '\r', '\n']
            .into_iter()
            .find(|c| text.contains(*c))
        {
            Some(c) => Err(tf(S::ComposeHoldsSeparator, &[&text.trim(), &c])),
            None => Ok(FieldValue::Text(text.to_owned())),
        },
        _ => Ok(FieldValue::Text(text.to_owned())),
    }
}

/// A value as a form shows it for typing (what [`value_from_text`] reads back): numbers in
/// hex where the field is shown in hex.
pub(super) fn value_to_text(prog: &Program, id: NodeId, value: &FieldValue) -> String {
    let hex_look = prog.node(id).is_some_and(|n| n.look.show == Show::Hex);
    match value {
        FieldValue::Int(n) if hex_look && *n >= 0 => format!("0x{n:X}"),
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Float(f) => f.to_string(),
        FieldValue::Text(s) => s.clone(),
        FieldValue::Bytes(b) => hex::format(b),
        FieldValue::None => String::new(),
    }
}

/// A key of a `key=value` field as a form offers it.
#[derive(Clone, Debug, PartialEq)]
pub struct FormKey {
    /// The key (`QN`, `CP`).
    pub key: String,
    /// Its name in the language of the call.
    pub name: String,
    /// Its value holds groups of pairs (HJ 212's `CP=&&k=v,k=v;k=v&&`): typed as
    /// `k=v,k=v;k=v`.
    pub nested: Option<(String, String)>,
    /// Its value names (HJ 212's system and command codes), by index in the program's enums.
    pub values: Option<u32>,
    /// Its named bits (HJ 212's Flag: answer wanted, split into packets), in the language of
    /// the call.
    pub flags: Vec<(u8, String)>,
}

/// The keys the `key=value` field of node `id` offers a form, in the spec's order.
pub(super) fn form_keys(prog: &Program, id: NodeId) -> Vec<FormKey> {
    let Some(Kind::Kv { keys, nested, .. }) = prog.node(id).map(|n| &n.kind) else {
        return Vec::new();
    };
    keys.iter()
        .map(|k| FormKey {
            key: k.key.clone(),
            name: pick(&k.en, &k.zh).to_owned(),
            nested: nested
                .iter()
                .find(|n| n.key == k.key)
                .map(|n| (n.sep.clone(), n.groups.clone())),
            values: k.look.values,
            flags: k
                .look
                .flags
                .iter()
                .map(|f| (f.bit, pick(&f.en, &f.zh).to_owned()))
                .collect(),
        })
        .collect()
}

/// The values of what a form typed for the keys of the `key=value` field of node `id` at
/// `path` (texts by path, `data.QN`), in the spec's order of keys: an empty key is left out;
/// a key holding groups is read as `k=v,k=v;k=v` (its groups become `data.CP.0.k`). A text
/// that is not pairs is said by its path.
pub(super) fn kv_values(
    prog: &Program,
    id: NodeId,
    path: &str,
    texts: &BTreeMap<String, String>,
) -> (Vec<(String, FieldValue)>, BTreeMap<String, String>) {
    let mut values = Vec::new();
    let mut errors = BTreeMap::new();
    let Some(Kind::Kv {
        nested,
        sep,
        eq,
        keys: infos,
        ..
    }) = prog.node(id).map(|n| &n.kind)
    else {
        return (values, errors);
    };
    // What splits the segment cannot be inside a value: `QN=abc;ST=99` was two keys, `PW=a&&b`
    // ended the data, and the frame went out with its CRC holding.
    let mut splitters: Vec<String> = [sep, eq]
        .iter()
        .filter_map(|b| std::str::from_utf8(b).ok().map(str::to_owned))
        .collect();
    for n in nested {
        splitters.extend([&n.open, &n.close, &n.groups, &n.sep].map(String::clone));
    }
    splitters.retain(|s| !s.is_empty());
    splitters.sort();
    splitters.dedup();
    let holds = |text: &str| {
        splitters
            .iter()
            .find(|s| text.contains(s.as_str()))
            .cloned()
    };
    let head = format!("{path}.");
    let mut keys: Vec<String> = form_keys(prog, id).into_iter().map(|k| k.key).collect();
    for typed in texts.keys().filter_map(|p| p.strip_prefix(&head)) {
        if !typed.contains('.') && !keys.iter().any(|k| k == typed) {
            keys.push(typed.to_owned());
        }
    }
    for key in keys {
        let key_path = format!("{head}{key}");
        let text = texts.get(&key_path).map_or("", |t| t.trim());
        let Some(n) = nested.iter().find(|n| n.key == key) else {
            // What the spec says of the key's value: given, so many digits, a number.
            let info = infos.iter().find(|k| k.key == key);
            let wrong = info.and_then(|k| {
                if text.is_empty() {
                    return k.required.then(|| tf(S::ComposeKeyRequired, &[&k.key]));
                }
                if let Some(n) = k.digits
                    && (text.len() != n || !text.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Some(tf(S::ComposeKeyDigits, &[&text, &n]));
                }
                (k.number && text.parse::<u64>().is_err()).then(|| tf(S::ComposeNotWhole, &[&text]))
            });
            if let Some(bad) = holds(text) {
                errors.insert(key_path, tf(S::ComposeHoldsSeparator, &[&text, &bad]));
            } else if let Some(why) = wrong {
                errors.insert(key_path, why);
            } else if !text.is_empty() {
                values.push((key_path, FieldValue::Text(text.to_owned())));
            }
            continue;
        };
        let mut pairs = Vec::new();
        let groups = text
            .split(n.groups.as_str())
            .map(str::trim)
            .filter(|g| !g.is_empty());
        for (g, group) in groups.enumerate() {
            for pair in group.split(n.sep.as_str()).map(str::trim) {
                match pair.split_once('=') {
                    Some((k, v)) if let Some(bad) = holds(k).or_else(|| holds(v)) => {
                        errors
                            .entry(key_path.clone())
                            .or_insert_with(|| tf(S::ComposeHoldsSeparator, &[&pair, &bad]));
                    }
                    Some((k, v)) if !k.trim().is_empty() => {
                        pairs.push((
                            format!("{key_path}.{g}.{}", k.trim()),
                            FieldValue::Text(v.trim().to_owned()),
                        ));
                    }
                    _ => {
                        errors
                            .entry(key_path.clone())
                            .or_insert_with(|| tf(S::ComposeNotPair, &[&pair, &n.sep, &n.groups]));
                    }
                }
            }
        }
        if pairs.is_empty() {
            // No pairs: the key is still there, its groups empty (`CP=&&&&`).
            values.push((key_path, FieldValue::Text(format!("{}{}", n.open, n.close))));
        } else {
            values.extend(pairs);
        }
    }
    (values, errors)
}
