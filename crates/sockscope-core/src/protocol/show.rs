//! Fields for people: names in the current language, values with their enum names, set
//! flags, scale and unit, checksum verdicts, the one-line summary, and JSON.

use std::fmt::Write as _;

use super::compile::{Column, Kind, Look, Node, Program};
use super::spec::{EnumItem, Key, Show};
use super::{Decoded, Field, FieldValue, Note, Protocol, Role, Verdict};
use crate::i18n::{Lang, S, lang, t, tf};

/// Bytes shown of a long bytes field.
const SHOWN_BYTES: usize = 48;

/// `zh` in Chinese when there is one, else `en`.
pub fn pick<'a>(en: &'a str, zh: &'a str) -> &'a str {
    if lang() == Lang::Zh && !zh.is_empty() {
        zh
    } else {
        en
    }
}

fn node<'a>(prog: &'a Program, field: &Field) -> Option<&'a Node> {
    field.node.and_then(|id| prog.node(id))
}

/// What a kv key means, if the spec says.
fn key_info<'a>(prog: &'a Program, field: &Field) -> Option<&'a super::compile::KeyInfo> {
    match &node(prog, field)?.kind {
        Kind::Kv { keys, .. } => keys.iter().find(|k| *k.key == *field.name),
        _ => None,
    }
}

/// The field's name for people.
pub fn label(prog: &Program, field: &Field) -> String {
    match field.role {
        Role::Node => match node(prog, field) {
            Some(n) if !n.en.is_empty() || !n.zh.is_empty() => pick(&n.en, &n.zh).to_owned(),
            _ => field.name.to_string(),
        },
        Role::Item(n) => format!("#{}", n + 1),
        Role::Key => match key_info(prog, field) {
            Some(k) if !k.en.is_empty() || !k.zh.is_empty() => {
                format!("{} {}", field.name, pick(&k.en, &k.zh))
            }
            _ => field.name.to_string(),
        },
        Role::Column(k) => tf(S::ProtoColumn, &[&(k + 1)]),
        Role::Extra => t(S::ProtoExtra).to_owned(),
        Role::Raw => t(S::ProtoRaw).to_owned(),
        Role::Undecoded => t(S::ProtoUndecoded).to_owned(),
    }
}

fn enum_name<'a>(items: &'a [EnumItem], raw: &FieldValue) -> Option<&'a EnumItem> {
    items.iter().find(|item| match (&item.0, raw) {
        (Key::Int(k), FieldValue::Int(v)) => i128::from(*k) == *v,
        (Key::Int(k), FieldValue::Text(s)) => s.trim().parse::<i128>().ok() == Some(i128::from(*k)),
        (Key::Text(k), FieldValue::Text(s)) => k == s,
        _ => false,
    })
}

fn number(v: i128, show: Show, digits: usize) -> String {
    match show {
        Show::Hex if v >= 0 => format!("0x{v:0digits$X}"),
        Show::Bin if v >= 0 => format!("0b{v:0w$b}", w = digits * 4),
        _ => v.to_string(),
    }
}

fn scaled(look: &Look, v: f64) -> String {
    let x = v * look.scale.unwrap_or(1.0) + look.offset.unwrap_or(0.0);
    let mut out = match look.decimals {
        Some(d) => format!("{x:.prec$}", prec = usize::from(d)),
        None => {
            let s = format!("{x:.6}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            s.to_owned()
        }
    };
    unit(look, &mut out);
    out
}

fn unit(look: &Look, out: &mut String) {
    if let Some(u) = &look.unit {
        if !u.starts_with('°') && !u.starts_with('%') {
            out.push(' ');
        }
        out.push_str(u);
    }
}

/// Digits `YYMMDDhhmmss` (or `YYYYMMDDhhmmss[fff]`) as a date and time.
fn time_text(digits: &str) -> Option<String> {
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match digits.len() {
        12 => (format!("20{}", digits.get(..2)?), digits.get(2..)?),
        14 | 17 => (digits.get(..4)?.to_owned(), digits.get(4..)?),
        _ => return None,
    };
    let p = |a: usize| rest.get(a..a + 2);
    let mut out = format!("{year}-{}-{} {}:{}:{}", p(0)?, p(2)?, p(4)?, p(6)?, p(8)?);
    if let Some(ms) = rest.get(10..13) {
        let _ = write!(out, ".{ms}");
    }
    Some(out)
}

fn ddmm(text: &str) -> Option<String> {
    let v: f64 = text.trim().parse().ok()?;
    let deg = (v / 100.0).trunc();
    let min = v - deg * 100.0;
    Some(format!("{deg}°{min:.4}′ = {:.6}°", deg + min / 60.0))
}

fn column_text(col: Column, text: &str) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    match col {
        Column::Ddmm => ddmm(text),
        Column::Hhmmss => {
            let (h, m, s) = (text.get(..2)?, text.get(2..4)?, text.get(4..)?);
            Some(format!("{h}:{m}:{s}"))
        }
        Column::Ddmmyy => {
            let (d, m, y) = (text.get(..2)?, text.get(2..4)?, text.get(4..6)?);
            // Two-digit years as POSIX (and pynmea2) read them: 69–99 are 1969–1999.
            let century = if y.parse::<u8>().ok()? >= 69 {
                "19"
            } else {
                "20"
            };
            Some(format!("{century}{y}-{m}-{d}"))
        }
        _ => None,
    }
}

fn flags_text(look: &Look, v: i128) -> Option<String> {
    if look.flags.is_empty() {
        return None;
    }
    let set: Vec<&str> = look
        .flags
        .iter()
        .filter(|f| f.bit < 127 && v >> f.bit & 1 == 1)
        .map(|f| pick(&f.en, &f.zh))
        .collect();
    Some(if set.is_empty() {
        t(S::ProtoNoFlags).to_owned()
    } else {
        set.join(", ")
    })
}

/// A value shown with a look (enum, flags, scale, unit, base).
fn with_look(prog: &Program, look: &Look, value: &FieldValue, digits: usize) -> String {
    let named = look
        .values
        .and_then(|e| prog.enums.get(e as usize))
        .map(|items| (enum_name(items, value), items));
    match value {
        FieldValue::Int(v) => {
            let mut out = if look.scale.is_some() || look.offset.is_some() {
                scaled(look, *v as f64)
            } else {
                let mut s = number(*v, look.show, digits);
                unit(look, &mut s);
                s
            };
            if let Some((found, _)) = named {
                let name = found.map_or_else(
                    || t(S::ProtoUnknownValue).to_owned(),
                    |i| pick(&i.1, &i.2).to_owned(),
                );
                let _ = write!(out, " {name}");
            }
            if let Some(f) = flags_text(look, *v) {
                let _ = write!(out, ": {f}");
            }
            out
        }
        FieldValue::Float(v) => scaled(look, *v),
        FieldValue::Text(s) => {
            // BCD digits (or a numeric text) with a scale: the standard's format (DL/T 645's
            // energy 12345678 is 123456.78 kWh); the value itself keeps the digits.
            let number = s.trim().parse::<f64>().ok().filter(|x| x.is_finite());
            if let Some(x) = number
                && (look.scale.is_some() || look.offset.is_some() || look.decimals.is_some())
            {
                let mut out = scaled(look, x);
                if let Some((Some(i), _)) = named {
                    let _ = write!(out, " {}", pick(&i.1, &i.2));
                }
                return out;
            }
            let mut out = if look.show == Show::Time {
                time_text(s).unwrap_or_else(|| s.clone())
            } else {
                s.clone()
            };
            if let Some((found, _)) = named
                && let Some(i) = found
            {
                let _ = write!(out, " {}", pick(&i.1, &i.2));
            }
            if let Ok(v) = s.trim().parse::<i128>()
                && let Some(f) = flags_text(look, v)
            {
                let _ = write!(out, ": {f}");
            }
            unit(look, &mut out);
            out
        }
        FieldValue::Bytes(b) => match look.show {
            Show::Ascii => crate::codec::text::one_line(&String::from_utf8_lossy(b)).into_owned(),
            Show::Bin if !b.is_empty() => bits_text(b),
            Show::Time if b.len() == 6 => format!(
                "20{:02}-{:02}-{:02} {:02}:{:02}:{:02}",
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
                b.get(2).copied().unwrap_or(0),
                b.get(3).copied().unwrap_or(0),
                b.get(4).copied().unwrap_or(0),
                b.get(5).copied().unwrap_or(0)
            ),
            _ => bytes_text(b),
        },
        FieldValue::None => String::new(),
    }
}

/// Values of a repeat's items shown at most.
const SHOWN_ITEMS: usize = 8;

/// `3 items: 1, 2, 3`: the count and, when each item is one value (a register), the first
/// few values.
fn items_text(prog: &Program, field: &Field) -> String {
    let n = field.children.len();
    let count = super::counted(n as u128, S::ProtoItemsOne, S::ProtoItems);
    let mut values = Vec::new();
    for item in field.children.iter().take(SHOWN_ITEMS) {
        let with_value: Vec<&Field> = item
            .children
            .iter()
            .filter(|c| !matches!(c.value, FieldValue::None))
            .collect();
        match with_value.as_slice() {
            [one] => values.push(shown(prog, one)),
            _ => return count,
        }
    }
    if values.is_empty() {
        return count;
    }
    let mut list = values.join(", ");
    if n > SHOWN_ITEMS {
        list.push_str(", …");
    }
    tf(S::ProtoItemValues, &[&count, &list])
}

/// Bits shown of a bytes field shown as bits.
const SHOWN_BITS: usize = 16;

/// Bytes as bits in the order Modbus counts coils: each byte's lowest bit first
/// (`05 00` → `1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0`).
fn bits_text(b: &[u8]) -> String {
    let mut bits: Vec<&str> = b
        .iter()
        .flat_map(|byte| (0..8).map(move |i| if byte >> i & 1 == 1 { "1" } else { "0" }))
        .take(SHOWN_BITS + 1)
        .collect();
    if bits.len() > SHOWN_BITS {
        bits.truncate(SHOWN_BITS);
        bits.push("…");
    }
    bits.join(" ")
}

fn bytes_text(b: &[u8]) -> String {
    if b.is_empty() {
        return t(S::ProtoNoBytes).to_owned();
    }
    let shown = b.get(..SHOWN_BYTES).unwrap_or(b);
    let mut out = crate::codec::hex::format(shown);
    if b.len() > shown.len() {
        let _ = write!(out, " … ({} B)", b.len());
    }
    out
}

fn verdict_text(v: &Verdict, digits: usize) -> String {
    let hex = |n: u64| format!("0x{n:0digits$X}");
    let stored = v.stored.map_or_else(|| "?".to_owned(), hex);
    if v.ok {
        return tf(S::ProtoCheckOk, &[&stored, &v.algo]);
    }
    let mut out = tf(S::ProtoCheckBad, &[&stored, &hex(v.computed), &v.algo]);
    if let Some(other) = &v.instead {
        let _ = write!(out, " — {}", tf(S::ProtoCheckInstead, &[other, &v.algo]));
    }
    out
}

/// The field's value for people.
pub fn shown(prog: &Program, field: &Field) -> String {
    let n = node(prog, field);
    match &field.note {
        Some(Note::Check(v)) => {
            let digits = match n.map(|n| &n.kind) {
                Some(Kind::Checksum { width, .. }) => usize::from(*width) * 2,
                _ => 2,
            };
            return verdict_text(v, digits);
        }
        Some(Note::Mismatch(want)) => {
            let got = match &field.value {
                FieldValue::Bytes(b) => crate::codec::hex::format(b),
                _ => String::new(),
            };
            return tf(S::ProtoMismatch, &[&got, &crate::codec::hex::format(want)]);
        }
        None => {}
    }
    match field.role {
        Role::Item(_) => return String::new(),
        Role::Key => {
            return match (key_info(prog, field), &field.value) {
                (_, FieldValue::None) => String::new(),
                (Some(k), v) => with_look(prog, &k.look, v, 0),
                (None, v) => with_look(prog, &Look::default(), v, 0),
            };
        }
        Role::Node => {}
        _ => return with_look(prog, &Look::default(), &field.value, 0),
    }
    let Some(n) = n else {
        return with_look(prog, &Look::default(), &field.value, 0);
    };
    match &n.kind {
        Kind::Int { width, .. } => with_look(prog, &n.look, &field.value, usize::from(*width) * 2),
        Kind::Bits { width, .. } => {
            with_look(prog, &n.look, &field.value, usize::from(width.div_ceil(4)))
        }
        Kind::Column(col) => {
            let FieldValue::Text(text) = &field.value else {
                return String::new();
            };
            match column_text(*col, text) {
                Some(s) => s,
                None => with_look(prog, &n.look, &field.value, 0),
            }
        }
        Kind::Switch { .. } | Kind::Csv { .. } => field
            .layout
            .and_then(|l| prog.layout(l))
            .map(|l| pick(&l.en, &l.zh).to_owned())
            .unwrap_or_default(),
        Kind::Repeat { .. } if field.role == Role::Node => items_text(prog, field),
        Kind::Group { .. } | Kind::Kv { .. } | Kind::Repeat { .. } => String::new(),
        _ => with_look(prog, &n.look, &field.value, 0),
    }
}

/// `{path}`, `{path:raw}`, `{path:.2}`, `{path:hex}`, `{path:name}` (its enum name alone) in a
/// summary part; `None` when a field is missing.
fn render(
    proto: &Protocol,
    decoded: &Decoded,
    scope: Option<&Field>,
    part: &str,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = part;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open)?);
        let after = rest.get(open + 1..)?;
        let close = after.find('}')?;
        let inner = after.get(..close)?;
        let (path, fmt) = inner.split_once(':').unwrap_or((inner, ""));
        let field = scope
            .and_then(|s| find_below(s, path))
            .or_else(|| decoded.get(path))?;
        let value = match (fmt, &field.value) {
            ("raw", FieldValue::Int(v)) => v.to_string(),
            // An empty column (GSV's unused satellite slot) leaves its part out.
            ("raw", FieldValue::Text(s)) if s.trim().is_empty() => return None,
            ("raw", FieldValue::Text(s)) => s.clone(),
            ("hex", FieldValue::Int(v)) => format!("0x{v:04X}"),
            // The value's name alone (a hemisphere `S` after a latitude).
            ("name", v) => {
                let items = node(&proto.program, field)?
                    .look
                    .values
                    .and_then(|e| proto.program.enums.get(e as usize))?;
                let item = enum_name(items, v)?;
                pick(&item.1, &item.2).to_owned()
            }
            (spec, raw) if spec.starts_with('.') => {
                let prec: usize = spec.get(1..)?.parse().ok()?;
                let look = &node(&proto.program, field)?.look;
                let number = match raw {
                    FieldValue::Int(i) => *i as f64,
                    FieldValue::Float(x) => *x,
                    FieldValue::Text(text) => text.trim().parse().ok()?,
                    _ => return None,
                };
                let number = number * look.scale.unwrap_or(1.0) + look.offset.unwrap_or(0.0);
                let mut out = format!("{number:.prec$}");
                unit(look, &mut out);
                out
            }
            _ => {
                let s = shown(&proto.program, field);
                if s.is_empty() {
                    return None;
                }
                s
            }
        };
        out.push_str(&value);
        rest = after.get(close + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

fn find_below<'a>(scope: &'a Field, path: &str) -> Option<&'a Field> {
    let mut f = scope;
    for part in path.split('.') {
        f = f.children.iter().find(|c| &*c.name == part)?;
    }
    Some(f)
}

fn layout_parts<'a>(proto: &'a Protocol, field: &'a Field, out: &mut Vec<(&'a Field, &'a str)>) {
    if let Some(l) = field.layout.and_then(|l| proto.program.layout(l)) {
        for part in parts(&l.summary, &l.summary_zh) {
            out.push((field, part.as_str()));
        }
    }
    for c in &field.children {
        layout_parts(proto, c, out);
    }
}

/// The fields whose bytes are not the spec's (a wrong flag), with their paths. No path is made
/// unless one is wrong: this runs for every frame shown.
fn mismatches<'a>(f: &'a Field, path: &mut Vec<&'a str>, out: &mut Vec<(String, &'a Field)>) {
    path.push(&f.name);
    if let Some(Note::Mismatch(_)) = &f.note {
        out.push((path.join("."), f));
    }
    for c in &f.children {
        mismatches(c, path, out);
    }
    path.pop();
}

/// Summary parts in the current language.
fn parts<'a>(en: &'a [String], zh: &'a [String]) -> &'a [String] {
    if lang() == Lang::Zh && !zh.is_empty() {
        zh
    } else {
        en
    }
}

/// The one-line summary.
pub fn summary(proto: &Protocol, decoded: &Decoded) -> String {
    let mut parts: Vec<String> = parts(&proto.spec.summary, &proto.spec.summary_zh)
        .iter()
        .filter_map(|p| render(proto, decoded, None, p))
        .filter(|s| !s.trim().is_empty())
        .collect();
    let mut more = Vec::new();
    for f in &decoded.fields {
        layout_parts(proto, f, &mut more);
    }
    parts.extend(
        more.into_iter()
            .filter_map(|(scope, p)| render(proto, decoded, Some(scope), p))
            .filter(|s| !s.trim().is_empty()),
    );
    if parts.is_empty() {
        parts.push(proto.spec.name.to_uppercase());
    }
    for (f, v) in decoded.verdicts() {
        if !v.ok {
            parts.push(format!(
                "{} {}",
                label(&proto.program, f),
                shown(&proto.program, f)
            ));
        }
    }
    let mut wrong = Vec::new();
    for f in &decoded.fields {
        mismatches(f, &mut Vec::new(), &mut wrong);
    }
    for (path, f) in wrong {
        parts.push(format!(
            "⚠ {} [{path}] {}",
            label(&proto.program, f),
            shown(&proto.program, f)
        ));
    }
    if let Some(stop) = &decoded.stop {
        parts.push(format!("⚠ {stop}"));
    }
    if let Some(bad) = &decoded.bad_value {
        parts.push(format!(
            "⚠ {}",
            tf(S::ProtoInvalid, &[&bad.path, &bad.at, &bad.reason])
        ));
    }
    if let Some(rest) = decoded.left_over() {
        parts.push(format!("⚠ {}", left_over_text(rest.len(), rest.start)));
    }
    let line = parts.join(" · ");
    // One line, whatever the fields hold (an NMEA sentence without `*hh` has its CR LF in
    // its last column).
    if line.contains(['\r', '\n']) {
        line.replace('\r', "\\r").replace('\n', "\\n")
    } else {
        line
    }
}

/// `⚠ 5 bytes from byte 67 are not a NMEA 0183 frame`.
pub fn not_a_frame(proto: &Protocol, piece: &super::Piece) -> String {
    let n = piece.decoded.len;
    let key = if n == 1 {
        S::ProtoNotAFrameOne
    } else {
        S::ProtoNotAFrame
    };
    format!("⚠ {}", tf(key, &[&n, &piece.at, &proto.title()]))
}

/// `12 bytes after the frame's end (from byte 67), not decoded`.
fn left_over_text(n: usize, at: usize) -> String {
    let key = if n == 1 {
        S::ProtoLeftOverOne
    } else {
        S::ProtoLeftOver
    };
    tf(key, &[&n, &at])
}

fn value_json(v: &FieldValue) -> serde_json::Value {
    match v {
        FieldValue::None => serde_json::Value::Null,
        FieldValue::Int(n) => i64::try_from(*n)
            .map(serde_json::Value::from)
            .or_else(|_| u64::try_from(*n).map(serde_json::Value::from))
            .unwrap_or_else(|_| serde_json::Value::from(n.to_string())),
        FieldValue::Float(x) => serde_json::Number::from_f64(*x)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        FieldValue::Text(s) => serde_json::Value::from(s.as_str()),
        FieldValue::Bytes(b) => serde_json::Value::from(crate::codec::hex::format(b)),
    }
}

fn field_json(proto: &Protocol, f: &Field) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), f.name.to_string().into());
    m.insert("label".into(), label(&proto.program, f).into());
    m.insert("value".into(), value_json(&f.value));
    m.insert("shown".into(), shown(&proto.program, f).into());
    m.insert("offset".into(), f.range.start.into());
    m.insert("len".into(), f.range.len().into());
    if let Some((scaled, unit)) = scaled_json(&proto.program, f) {
        m.insert("scaled".into(), scaled.into());
        if let Some(unit) = unit {
            m.insert("unit".into(), unit.into());
        }
    }
    if let Some(Note::Check(v)) = &f.note {
        m.insert(
            "check".into(),
            serde_json::json!({
                "ok": v.ok,
                "algo": v.algo,
                "stored": v.stored,
                "computed": v.computed,
                "instead": v.instead,
            }),
        );
    }
    if !f.children.is_empty() {
        m.insert(
            "fields".into(),
            f.children
                .iter()
                .map(|c| field_json(proto, c))
                .collect::<Vec<_>>()
                .into(),
        );
    }
    serde_json::Value::Object(m)
}

/// The reading a field with a scale, offset, decimals or unit stands for, as a number (`605`
/// with `scale: 0.1` is `60.5`), rounded to its decimals, and its unit: `value` stays the
/// number on the wire. An NMEA `ddmm.mmmm` column gives its degrees.
pub(super) fn scaled_json(prog: &Program, f: &Field) -> Option<(f64, Option<String>)> {
    let look = match f.role {
        Role::Node => &node(prog, f)?.look,
        Role::Key => &key_info(prog, f)?.look,
        _ => return None,
    };
    let raw = match &f.value {
        FieldValue::Int(v) => *v as f64,
        FieldValue::Float(v) => *v,
        FieldValue::Text(t) => t.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !raw.is_finite() {
        return None;
    }
    if let Some(Kind::Column(Column::Ddmm)) = node(prog, f).map(|n| &n.kind) {
        let degrees = (raw / 100.0).trunc() + (raw % 100.0) / 60.0;
        let rounded = format!("{degrees:.6}").parse().ok()?;
        return Some((rounded, Some("°".to_owned())));
    }
    if look.scale.is_none()
        && look.offset.is_none()
        && look.decimals.is_none()
        && look.unit.is_none()
    {
        return None;
    }
    let x = raw * look.scale.unwrap_or(1.0) + look.offset.unwrap_or(0.0);
    let shown = match look.decimals {
        Some(d) => format!("{x:.prec$}", prec = usize::from(d)),
        None => format!("{x:.9}"),
    };
    Some((shown.parse().ok()?, look.unit.clone()))
}

/// The decoded frame as JSON.
pub fn json(proto: &Protocol, decoded: &Decoded) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("protocol".into(), proto.name().into());
    m.insert("summary".into(), summary(proto, decoded).into());
    m.insert("checks_ok".into(), decoded.checks_ok().into());
    m.insert(
        "fields".into(),
        decoded
            .fields
            .iter()
            .map(|f| field_json(proto, f))
            .collect::<Vec<_>>()
            .into(),
    );
    if let Some(stop) = &decoded.stop {
        m.insert(
            "stopped".into(),
            serde_json::json!({"field": stop.path, "offset": stop.at, "reason": stop.reason}),
        );
    }
    if let Some(bad) = &decoded.bad_value {
        m.insert(
            "invalid".into(),
            serde_json::json!({"field": bad.path, "offset": bad.at, "reason": bad.reason}),
        );
    }
    serde_json::Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_read_as_dates() {
        assert_eq!(
            time_text("250129223344").as_deref(),
            Some("2025-01-29 22:33:44")
        );
        assert_eq!(
            time_text("20210118201054000").as_deref(),
            Some("2021-01-18 20:10:54.000")
        );
        assert_eq!(time_text("2501292233"), None);
        assert_eq!(
            column_text(Column::Ddmmyy, "130998").as_deref(),
            Some("1998-09-13")
        );
        assert_eq!(
            column_text(Column::Ddmmyy, "070126").as_deref(),
            Some("2026-01-07")
        );
        assert_eq!(
            ddmm("1929.045").as_deref(),
            Some("19°29.0450′ = 19.484083°")
        );
    }
}
