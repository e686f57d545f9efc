//! A reply's payload: text, hex or text with escapes, like the send box, with `{{…}}`
//! expressions that take values from the request (`{{rx[0..2]}}`, `{{u16be(rx.len)}}`,
//! `{{cap.1}}`) besides the send box's variables (`{{counter}}`, `{{time}}`, `{{hex:0D 0A}}`,
//! `{{random:0:9}}`). Hex templates take expressions too: `{{rx[0..4]}} 00 06 {{rx[6..8]}}`.
//! Then the reply's own line ending and checksum: a binary reply never inherits the send
//! box's CRLF.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::expr::{Ctx, Expr, Value};
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
}

#[derive(Clone, Debug)]
enum Part {
    Bytes(Vec<u8>),
    Expr(Box<Expr>),
    Random(u64, u64),
}

/// A compiled reply.
#[derive(Clone, Debug)]
pub struct Template {
    parts: Vec<Part>,
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
            parts.push(part(body, column + 2)?);
            column += 4 + body.chars().count();
            rest = inside.get(close + 2..).unwrap_or_default();
        }
        Ok(Template {
            parts,
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
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => out.extend_from_slice(bytes),
                Part::Random(lo, hi) => {
                    out.extend_from_slice(random(*lo, *hi).to_string().as_bytes());
                }
                Part::Expr(expr) => match expr.eval(cx).map_err(|e| e.0)? {
                    Value::Bytes(bytes) => out.extend_from_slice(&bytes),
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

    /// True if its bytes depend on the request (`rx`, its length, a capture).
    pub fn reads_request(&self) -> bool {
        self.parts.iter().any(|p| match p {
            Part::Expr(e) => e.reads_message(),
            _ => false,
        })
    }

    /// True if it uses `{{counter}}` (which then advances).
    pub fn uses_counter(&self) -> bool {
        self.parts.iter().any(|p| match p {
            Part::Expr(e) => e.uses_counter(),
            _ => false,
        })
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

fn part(body: &str, column: usize) -> Result<Part, String> {
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
    Expr::parse(body, column)
        .map(|e| Part::Expr(Box::new(e)))
        .map_err(|e| e.0)
}

/// Renders a template that reads nothing of a request (a preview or a test).
pub fn preview(template: &Template, now: SystemTime) -> Result<Vec<u8>, String> {
    let tables = std::collections::BTreeMap::new();
    let cx = Ctx {
        rx: &[],
        caps: &[],
        vars: &[],
        state: "",
        peer: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        tables: &tables,
        now,
        counter: 0,
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
