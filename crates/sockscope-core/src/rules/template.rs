//! A reply's payload: text, hex or text with escapes, like the send box, with `{{…}}`
//! expressions that take values from the request (`{{rx[0..2]}}`, `{{u16be(rx.len)}}`,
//! `{{cap.1}}`) besides the send box's variables (`{{counter}}`, `{{time}}`, `{{hex:0D 0A}}`,
//! `{{random:0:9}}`). Hex templates take expressions too: `{{rx[0..4]}} 00 06 {{rx[6..8]}}`.
//! Then the reply's own line ending and checksum: a binary reply never inherits the send
//! box's CRLF.
//!
//! In a hex template a number becomes bytes, never decimal text: a number read from the
//! request keeps its width (`{{rx[6]}}` and `{{rx.u8@1}}` are one byte, `{{rx.u16be@8}}`
//! two), a computed one (`{{rx.len}}`, `{{rx[7] + 1}}`) must say its width with `u8(…)`,
//! `u16be(…)` and the like, and `{{random:LO:HI}}` is as wide as HI needs (1, 2, 4 or 8
//! bytes, big-endian).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::expr::{Ctx, Expr, IntType, Kind, Value};
use crate::codec::TextEncoding;
use crate::codec::checksum::Checksum;
use crate::codec::length::LengthPrefix;
use crate::codec::payload::{InputMode, LineEnding};
use crate::i18n::{S, t, tf};

/// How a reply is written, as saved in a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReplySpec {
    /// The payload template.
    pub payload: String,
    /// Text, hex or escapes.
    #[serde(skip_serializing_if = "super::is_default")]
    pub mode: InputMode,
    /// Its own encoding; `None`: the session's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<TextEncoding>,
    /// Appended after the payload.
    #[serde(skip_serializing_if = "super::is_default")]
    pub line_ending: LineEnding,
    /// Appended after the line ending.
    #[serde(skip_serializing_if = "super::is_default")]
    pub checksum: Checksum,
    /// Put before everything (a length-prefixed protocol's reply).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_prefix: Option<LengthPrefix>,
    /// A frame of the session's protocol built by fields instead of the payload: lengths,
    /// checksums and escaping computed by its spec.
    /// (No values: the payload is the reply.)
    #[serde(skip_serializing_if = "FieldReply::is_empty")]
    pub fields: FieldReply,
}

/// A reply built by fields: `fields: (values: {"msg_id": "0x8001", "body.reply_serial":
/// "f.serial"})`. Each value is an expression over the request's fields (`f.NAME`), the
/// session's variables and tables, as a rule's condition reads them. Unless `fresh`, the
/// reply starts from the request's own fields (its address, phone, header bits), those of a
/// part a value names (`body.…`) left out, so only what differs is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FieldReply {
    /// Field path → expression, in the order written (a key–value text keeps it).
    pub values: FieldValues,
    /// Start from no field at all rather than from the request's.
    #[serde(skip_serializing_if = "super::is_default")]
    pub fresh: bool,
}

impl FieldReply {
    /// No values: not a reply built by fields.
    pub fn is_empty(&self) -> bool {
        self.values.0.is_empty()
    }
}

/// Field paths and their expressions, in the order written; saved as a RON map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldValues(pub Vec<(String, String)>);

impl Serialize for FieldValues {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for FieldValues {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FieldValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of field paths to expressions")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<FieldValues, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((k, v));
                }
                Ok(FieldValues(out))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl FieldValues {
    /// One `path = expression` per line, as the Rules and Scripts windows show them.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|(path, expr)| format!("{path} = {expr}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads `path = expression` lines (blank lines skipped; the first `=` parts the path
    /// from its expression, which may hold more); the sentence names the first line that is
    /// not one.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match line.split_once('=') {
                Some((path, expr))
                    if !path.trim().is_empty()
                        && !expr.trim().is_empty()
                        && !path.trim().contains(char::is_whitespace) =>
                {
                    out.push((path.trim().to_owned(), expr.trim().to_owned()));
                }
                _ => {
                    return Err(crate::i18n::tf(
                        crate::i18n::S::FieldValuesLine,
                        &[&(n + 1), &line],
                    ));
                }
            }
        }
        Ok(Self(out))
    }
}

#[derive(Clone, Debug)]
enum Part {
    Bytes(Vec<u8>),
    /// An expression; in a hex template, the width its number is written with (`None`: it
    /// must not be a number).
    Expr(Box<Expr>, Option<IntType>),
    Random(u64, u64),
}

/// A reply's fields: each path, its expression as written and compiled.
type FieldParts = Vec<(String, String, Expr)>;

/// A compiled reply.
#[derive(Clone, Debug)]
pub struct Template {
    parts: Vec<Part>,
    /// A reply built by fields: each path with its expression, and whether it starts afresh.
    fields: Option<(FieldParts, bool)>,
    hex: bool,
    encoding: TextEncoding,
    line_ending: LineEnding,
    checksum: Checksum,
    length_prefix: Option<LengthPrefix>,
}

fn literal(text: &str, mode: InputMode, encoding: TextEncoding) -> Result<Vec<u8>, String> {
    match mode {
        InputMode::Text => encoding.encode(text).map_err(|e| e.to_string()),
        InputMode::Escapes => {
            crate::codec::escape::parse(text, encoding).map_err(|e| e.to_string())
        }
        InputMode::Hex => crate::codec::hex::parse(text).map_err(|e| e.to_string()),
    }
}

impl Template {
    /// Compiles `spec`; `session` is the session's encoding (used when the reply has none).
    /// Errors are sentences naming the column.
    pub fn compile(spec: &ReplySpec, session: TextEncoding) -> Result<Template, String> {
        let encoding = spec.encoding.unwrap_or(session);
        let mut parts = Vec::new();
        let mut rest = spec.payload.as_str();
        let mut column = 1;
        loop {
            let Some(open) = find_open(rest) else {
                let text = rest.replace("\\{{", "{{");
                parts.push(Part::Bytes(literal(&text, spec.mode, encoding)?));
                break;
            };
            let (before, from) = rest.split_at(open);
            let text = before.replace("\\{{", "{{");
            parts.push(Part::Bytes(literal(&text, spec.mode, encoding)?));
            column += before.chars().count();
            let inside = from.get(2..).unwrap_or_default();
            let Some(close) = inside.find("}}") else {
                return Err(tf(S::ErrVarUnclosed, &[&column]));
            };
            let body = inside.get(..close).unwrap_or_default();
            parts.push(part(body, column + 2, spec.mode == InputMode::Hex)?);
            column += 4 + body.chars().count();
            rest = inside.get(close + 2..).unwrap_or_default();
        }
        let fields = Some(&spec.fields)
            .filter(|reply| !reply.is_empty())
            .map(|reply| {
                reply
                    .values
                    .0
                    .iter()
                    .map(|(path, text)| {
                        Expr::parse(text, 1)
                            .map(|e| (path.trim().to_owned(), text.clone(), e))
                            .map_err(|e| tf(S::RuleReplyValue, &[path, text, &e.0]))
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map(|values| (values, reply.fresh))
            })
            .transpose()?;
        Ok(Template {
            parts,
            fields,
            hex: spec.mode == InputMode::Hex,
            encoding,
            line_ending: spec.line_ending,
            checksum: spec.checksum.clone(),
            length_prefix: spec.length_prefix,
        })
    }

    /// The reply's bytes for one request. `random` gives a number in a range.
    pub fn render(
        &self,
        cx: &Ctx<'_>,
        random: &mut dyn FnMut(u64, u64) -> u64,
    ) -> Result<Vec<u8>, String> {
        if self.fields.is_some() {
            // Built by fields: only a caller with the session's protocol can.
            return Err(t(S::RuleReplyNoProtocol).to_owned());
        }
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => out.extend_from_slice(bytes),
                Part::Random(lo, hi) => {
                    let n = random(*lo, *hi);
                    if self.hex {
                        let width = random_width(*hi);
                        out.extend_from_slice(n.to_be_bytes().get(8 - width..).unwrap_or_default());
                    } else {
                        out.extend_from_slice(n.to_string().as_bytes());
                    }
                }
                Part::Expr(expr, width) => match expr.eval(cx).map_err(|e| e.0)? {
                    Value::Bytes(bytes) => out.extend_from_slice(&bytes),
                    Value::Int(n) if self.hex => {
                        let ty = width.ok_or_else(|| tf(S::RuleHexNumber, &[&n]))?;
                        out.extend(
                            ty.write(n)
                                .ok_or_else(|| tf(S::ExprDoesNotFit, &[&n, &ty.name()]))?,
                        );
                    }
                    Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
                    Value::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                    Value::Text(text) => {
                        out.extend(self.encoding.encode(&text).map_err(|e| e.to_string())?);
                    }
                },
            }
        }
        out.extend_from_slice(self.line_ending.bytes());
        self.checksum.append(&mut out).map_err(|e| e.to_string())?;
        match &self.length_prefix {
            Some(prefix) => prefix.wrap(&out).map_err(|e| e.to_string()),
            None => Ok(out),
        }
    }

    /// True if its bytes depend on the request (`rx`, its length, a capture, a field).
    pub fn reads_request(&self) -> bool {
        self.fields.is_some()
            || self.parts.iter().any(|p| match p {
                Part::Expr(e, _) => e.reads_message() || !e.fields_used().is_empty(),
                _ => false,
            })
    }

    /// True if it uses `{{counter}}` (which then advances).
    pub fn uses_counter(&self) -> bool {
        self.exprs().any(Expr::uses_counter)
    }

    /// Every expression it holds: the payload's and the field values'.
    fn exprs(&self) -> impl Iterator<Item = &Expr> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Expr(e, _) => Some(&**e),
                _ => None,
            })
            .chain(
                self.fields
                    .iter()
                    .flat_map(|(v, _)| v.iter().map(|(_, _, e)| e)),
            )
    }

    /// A reply built by fields: each path with the value its expression always gives, for the
    /// values that read nothing (`"body.result": "300"`).
    pub fn constant_fields(&self) -> Vec<(&str, Value)> {
        self.fields
            .iter()
            .flat_map(|(v, _)| v.iter())
            .filter_map(|(path, _, expr)| Some((path.as_str(), expr.constant()?)))
            .collect()
    }

    /// True if it is built by fields of the session's protocol.
    pub fn by_fields(&self) -> bool {
        self.fields.is_some()
    }

    /// The decoded fields it reads (`{{f.serial}}`, `f.msg_id` in a value) and, for a reply
    /// built by fields, the paths it writes.
    pub fn fields_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let written = self
            .fields
            .iter()
            .flat_map(|(v, _)| v.iter().map(|(p, _, _)| p.clone()));
        for field in self.exprs().flat_map(Expr::fields_used).chain(written) {
            if !out.contains(&field) {
                out.push(field);
            }
        }
        out
    }

    /// A reply built by fields, for the request `request` (decoded by `protocol`; `dir` is the
    /// reply's way). The error is a sentence naming the field.
    pub fn render_fields(
        &self,
        cx: &Ctx<'_>,
        protocol: &crate::protocol::Protocol,
        request: Option<&crate::protocol::Decoded>,
        dir: crate::protocol::Dir,
    ) -> Result<Vec<u8>, String> {
        use crate::protocol::FieldValue;
        let Some((values, fresh)) = &self.fields else {
            return Err(t(S::RuleReplyNoProtocol).to_owned());
        };
        // The part a value is in (`body` of `body.reply_serial`) is made afresh, the request's
        // own body being another message's, unless the value changes one bit of a number
        // (`control.reply`) or one key of a text (`data.CN`).
        // An item of a repeat (`items.0.id`, a text's `CP.0.QnRtn`) makes the whole repeat
        // afresh, and a value given whole (`data.CP`) replaces what the request had below it.
        let remade: Vec<String> = values
            .iter()
            .filter_map(|(p, _, _)| {
                let mut parent = p.rsplit_once('.')?.0;
                while let Some((up, last)) = parent.rsplit_once('.')
                    && last.bytes().all(|b| b.is_ascii_digit())
                {
                    parent = up;
                }
                (!protocol.keeps_below(parent)).then_some(parent)
            })
            .chain(values.iter().map(|(p, _, _)| p.as_str()))
            .map(|parent| format!("{parent}."))
            .collect();
        // Of the request's fields, those its spec describes: bytes after its end or that no
        // layout used are the request's own, not the reply's.
        let mut out: Vec<(String, FieldValue)> = match (fresh, request) {
            (false, Some(request)) => request
                .all()
                .into_iter()
                .filter(|(p, f)| {
                    // A constant the request got wrong (its end flag) is the spec's again.
                    !matches!(f.value, FieldValue::None)
                        && !matches!(f.note, Some(crate::protocol::Note::Mismatch(_)))
                        && !matches!(
                            f.role,
                            crate::protocol::Role::Extra
                                | crate::protocol::Role::Raw
                                | crate::protocol::Role::Undecoded
                        )
                        && !remade.iter().any(|r| p.starts_with(r.as_str()))
                        && !protocol.derived(p)
                })
                .map(|(p, f)| (p, f.value.clone()))
                .collect(),
            _ => Vec::new(),
        };
        for (path, text, expr) in values {
            let value = expr
                .eval(cx)
                .map_err(|e| tf(S::RuleReplyValue, &[path, text, &e.0]))?;
            let value = FieldValue::from_value(&value);
            match out.iter_mut().find(|(p, _)| p == path) {
                Some(slot) => slot.1 = value,
                None => out.push((path.clone(), value)),
            }
        }
        protocol
            .encode(&out, dir)
            .map_err(|e| tf(S::RuleReplyEncode, &[&e]))
    }

    /// The regex groups it reads (`{{cap.1}}`, `{{cap.seq}}`).
    pub fn caps_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Expr(e, _) = part {
                for cap in e.caps_used() {
                    if !out.contains(&cap) {
                        out.push(cap);
                    }
                }
            }
        }
        out
    }

    /// The tables it reads (`{{table.holding[0..2]}}`).
    pub fn tables_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in &self.parts {
            if let Part::Expr(e, _) = part {
                for table in e.tables_used() {
                    if !out.contains(&table) {
                        out.push(table);
                    }
                }
            }
        }
        out
    }

    /// The length prefix it puts before the reply, if any.
    pub fn length_prefix(&self) -> Option<LengthPrefix> {
        self.length_prefix
    }
}

/// The first `{{` not written as `\{{`.
fn find_open(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = text.get(from..)?.find("{{") {
        let at = from + at;
        if at > 0 && text.as_bytes().get(at - 1) == Some(&b'\\') {
            from = at + 2;
            continue;
        }
        return Some(at);
    }
    None
}

/// Bytes a random number up to `hi` takes in a hex template.
fn random_width(hi: u64) -> usize {
    match hi {
        0..=0xFF => 1,
        0x100..=0xFFFF => 2,
        0x1_0000..=0xFFFF_FFFF => 4,
        _ => 8,
    }
}

fn part(body: &str, column: usize, hex: bool) -> Result<Part, String> {
    let trimmed = body.trim();
    if let Some(hex) = trimmed.strip_prefix("hex:") {
        return crate::codec::hex::parse(hex)
            .map(Part::Bytes)
            .map_err(|e| e.to_string());
    }
    if let Some(range) = trimmed.strip_prefix("random:") {
        let bad = || tf(S::ErrVarUnknown, &[&trimmed, &column]);
        let (lo, hi) = range.split_once(':').ok_or_else(bad)?;
        let (lo, hi): (u64, u64) = (
            lo.parse().map_err(|_| bad())?,
            hi.parse().map_err(|_| bad())?,
        );
        if lo > hi {
            return Err(bad());
        }
        return Ok(Part::Random(lo, hi));
    }
    if trimmed.is_empty() {
        return Err(tf(S::ExprExpected, &[&t(S::ExprAValue), &column]));
    }
    let expr = Expr::parse(body, column).map_err(|e| e.0)?;
    let width = match expr.kind() {
        Kind::Int(width) if hex => {
            // A computed number has no width of its own: the user says which.
            Some(width.ok_or_else(|| tf(S::RuleHexNumberAt, &[&trimmed, &column]))?)
        }
        Kind::Bool if hex => return Err(tf(S::RuleHexNumberAt, &[&trimmed, &column])),
        _ => None,
    };
    Ok(Part::Expr(Box::new(expr), width))
}

/// Renders a template that reads nothing of a request (a preview or a test).
pub fn preview(template: &Template, now: SystemTime) -> Result<Vec<u8>, String> {
    preview_with(template, now, &std::collections::BTreeMap::new())
}

/// [`preview`] with these tables (a reply that reads a table's start value).
pub fn preview_with(
    template: &Template,
    now: SystemTime,
    tables: &std::collections::BTreeMap<String, Vec<u8>>,
) -> Result<Vec<u8>, String> {
    let cx = Ctx {
        rx: &[],
        caps: &[],
        vars: &[],
        state: "",
        peer: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        tables,
        now,
        counter: 0,
        fields: &crate::rules::expr::NoFields,
    };
    template.render(&cx, &mut |lo, _| lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::{ByteOrder, ChecksumKind};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn render(spec: &ReplySpec, rx: &[u8]) -> Result<Vec<u8>, String> {
        let template = Template::compile(spec, TextEncoding::UTF_8)?;
        let tables = BTreeMap::new();
        let caps = [
            (None, Some("T=23".to_owned())),
            (Some("t".to_owned()), Some("23".to_owned())),
        ];
        let cx = Ctx {
            rx,
            caps: &caps,
            vars: &[],
            state: "",
            peer: "127.0.0.1:1".parse().unwrap(),
            tables: &tables,
            now: SystemTime::UNIX_EPOCH,
            counter: 5,
            fields: &crate::rules::expr::NoFields,
        };
        template.render(&cx, &mut |lo, _| lo)
    }

    fn spec(payload: &str, mode: InputMode) -> ReplySpec {
        ReplySpec {
            payload: payload.into(),
            mode,
            ..ReplySpec::default()
        }
    }

    #[test]
    fn hex_templates_take_values_from_the_request() {
        let request = [0, 7, 0, 0, 0, 6, 1, 3, 0, 0, 0, 2];
        let reply = render(
            &spec(
                "{{rx[0..4]}} {{u16be(3 + 2 * rx.u16be@10)}} {{rx[6..8]}} {{u8(2 * rx.u16be@10)}} 00 0A 00 14",
                InputMode::Hex,
            ),
            &request,
        )
        .unwrap();
        assert_eq!(reply, [0, 7, 0, 0, 0, 7, 1, 3, 4, 0, 0x0A, 0, 0x14]);
    }

    #[test]
    fn text_templates_with_captures_counter_and_trailers() {
        let mut s = spec("temp {{cap.t}} #{{counter}}{{hex:00}}", InputMode::Text);
        s.line_ending = LineEnding::CrLf;
        assert_eq!(render(&s, b"T=23").unwrap(), b"temp 23 #5\0\r\n");
        s.payload = "len={{rx.len}} \\{{literal}}".into();
        s.line_ending = LineEnding::None;
        assert_eq!(render(&s, b"abc").unwrap(), b"len=3 {{literal}}");
        // The spec's example request, with its well-known CRC 84 0A.
        let mut s = spec("01 03 00 00 00 01", InputMode::Hex);
        s.checksum = Checksum {
            kind: ChecksumKind::Crc16Modbus,
            order: ByteOrder::Little,
            ..Checksum::default()
        };
        assert_eq!(render(&s, b"").unwrap(), [1, 3, 0, 0, 0, 1, 0x84, 0x0A]);
        let mut s = spec("你好{{cap.1}}", InputMode::Escapes);
        s.encoding = Some(TextEncoding::GBK);
        s.payload = "你好\\r".into();
        assert_eq!(render(&s, b"").unwrap(), [0xC4, 0xE3, 0xBA, 0xC3, b'\r']);
    }

    #[test]
    fn mistakes_are_sentences() {
        assert!(
            render(&spec("{{rx", InputMode::Text), b"")
                .unwrap_err()
                .contains('1')
        );
        assert!(
            render(&spec("ab {{rx.nope}}", InputMode::Text), b"")
                .unwrap_err()
                .contains("rx.nope")
        );
        assert!(
            render(&spec("0G", InputMode::Hex), b"")
                .unwrap_err()
                .contains('G')
        );
        assert!(render(&spec("{{rx.u16be@4}}", InputMode::Text), b"ab").is_err());
        assert!(render(&spec("{{}}", InputMode::Text), b"ab").is_err());
        assert!(render(&spec("{{random:9:1}}", InputMode::Text), b"ab").is_err());
    }

    #[test]
    fn in_a_hex_template_a_number_from_the_request_is_bytes_of_its_width() {
        let request = [0, 1, 0, 0, 0, 6, 0x11, 3, 0, 0x6B, 0, 3];
        let hex = |p: &str| spec(p, InputMode::Hex);
        assert_eq!(render(&hex("{{rx[6]}}"), &request).unwrap(), [0x11]);
        assert_eq!(
            render(&hex("{{rx.u8@6}} {{rx.u16be@8}} {{rx.i16le@8}}"), &request).unwrap(),
            [0x11, 0, 0x6B, 0, 0x6B]
        );
        assert_eq!(render(&hex("{{u8(rx.len)}}"), &request).unwrap(), [12]);
        // A computed number has no width: refused when compiled, naming the encoders.
        for computed in [
            "{{rx.len}}",
            "{{rx[7] + 1}}",
            "{{counter}}",
            "{{rx[6] == 17}}",
        ] {
            let error = Template::compile(&hex(computed), TextEncoding::UTF_8).unwrap_err();
            assert!(
                error.contains("u8(") && error.contains("u16be("),
                "{computed}: {error}"
            );
        }
        assert_eq!(render(&hex("{{random:300:300}}"), b"").unwrap(), [1, 0x2C]);
        assert_eq!(render(&hex("{{random:7:7}}"), b"").unwrap(), [7]);
        // Text and escapes write numbers as digits, as before.
        assert_eq!(
            render(&spec("{{rx[6]}}", InputMode::Text), &request).unwrap(),
            b"17"
        );
        assert_eq!(
            render(&spec("{{rx.len}}", InputMode::Escapes), &request).unwrap(),
            b"12"
        );
    }

    proptest! {
        #[test]
        fn any_template_compiles_or_says_why_and_renders_or_says_why(
            payload in "[ -~你]{0,30}",
            mode in 0..3u8,
            rx in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mode = [InputMode::Text, InputMode::Hex, InputMode::Escapes][usize::from(mode)];
            let _ = render(&spec(&payload, mode), &rx);
        }
    }
}
