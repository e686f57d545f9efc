//! Protocols as named fields: a spec (RON, interpreted at run time) says how a frame's bytes
//! are fields — numbers, bit fields, BCD, text, repeated groups, a switch on a message id,
//! checksums, escaping, text grammars — and this module decodes frames into a tree of fields,
//! encodes fields into frames, and shows them (one-line summaries, values with their names
//! and units, checksum verdicts). The built-in protocols are spec files of the same format,
//! compiled into the program: Modbus TCP and RTU, JT/T 808, HJ 212, DL/T 645, GB/T 32960
//! and NMEA 0183.
//!
//! Decoding never panics: a frame that does not fit keeps every byte and says which field
//! stopped at which offset, and why. Lengths and conditions are expressions of the rule
//! language ([`crate::expr`]) over the fields read before them.
//!
//! # A spec
//! ```ron
//! (
//!     name: "demo", title: "Demo", title_zh: "示例", endian: Big,
//!     frame: (cut: Markers(start: "7E", end: "7E"),
//!             escape: (map: [("7E", "7D 02"), ("7D", "7D 01")])),
//!     summary: ["Demo {msg_id}", "#{serial}"],
//!     fields: [
//!         (name: "head", type: "const", hex: "7E"),
//!         (name: "msg_id", type: "u16", show: Hex, values: "msg"),
//!         (name: "props", type: "u16", bits: [
//!             (name: "body_len", start: 0, width: 10, length_of: "body"),
//!         ]),
//!         (name: "serial", type: "u16"),
//!         (name: "body", type: "switch", on: "msg_id", len: "props & 0x3FF",
//!          cases: [(0x0200, "location")]),
//!         (name: "check", type: "checksum", algo: Xor8, over: "msg_id..body"),
//!         (name: "tail", type: "const", hex: "7E"),
//!     ],
//!     layouts: { "location": (en: "Location", zh: "位置", fields: [
//!         (name: "lat", type: "u32", scale: 0.000001, decimals: 6, unit: "°"),
//!     ]) },
//!     enums: { "msg": [(0x0200, "Location report", "位置信息汇报")] },
//! )
//! ```
//! Field attributes: `name`, `type`, `en`, `zh`, `endian`, `words` (ABCD/CDAB/BADC/DCBA),
//! `len` (a number, `"*"` for the rest, or an expression), `until`, `prefix`, `run`,
//! `encoding`, `hex`/`text` (const), `bits` (with `start`, `width`), `values`, `flags`,
//! `scale`, `offset`, `unit`, `decimals`, `show`, `when`, `value` (computed), `fields` or
//! `layout`, `on`/`cases`/`default` (switch, csv), `count` (repeat), `sub`, `algo`/`over`/
//! `format`/`also` (checksum), `sep`/`eq`/`nested`/`keys` (csv, kv), `length_of`, `count_of`,
//! `signed` (a `bcd` whose top bit is its sign: DL/T 645's `81 23 45` is −1.2345 kW), `range`
//! (`(1, 125)`: the values the standard allows, said by a form that makes frames). A spec
//! and a layout take `summary_zh`, their summary parts in Chinese (`--lang zh`). A kv key
//! takes `key`, `en`, `zh`, `values`, `flags`, `show`, `unit`, and for a form that makes
//! frames `required`, `digits` (exactly so many decimal digits) and `number`.
//! `scale`, `offset` and `decimals` apply to numbers and to digits (a `bcd`, a numeric text):
//! DL/T 645's energy `12345678` with `scale: 0.01, decimals: 2, unit: "kWh"` shows as
//! `123456.78 kWh`, its value staying the digits; on other types the loader refuses them.

mod check;
mod compile;
mod compose;
mod decode;
mod encode;
mod names;
pub mod pcap;
mod show;
mod spec;
#[cfg(test)]
mod tests;

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

pub use check::{CATALOGUE, catalogued, hj212};
pub use compile::Kind;
pub use compile::{NodeId, Program};
pub use compose::{Composed, FormKey, Message, bytes_from_text, number_from_text};
pub use encode::EncodeError;
pub use spec::{Algo, CrcParams, Endian, Key, Show, Spec, WordOrder};

use crate::codec::cut::{Cut, FrameCut};
use crate::expr::{Fields, Value};
use crate::i18n::{S, tf};

/// Which way a frame went, when known: some protocols (Modbus) lay out a request and its
/// reply differently. In a spec's expressions `dir` is 0, 1 or 2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Dir {
    /// Not known.
    #[default]
    Unknown = 0,
    /// From a client to a server (a request).
    Request = 1,
    /// From a server to a client (a reply).
    Response = 2,
}

/// Why a spec cannot be used: where, in which field, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// 1-based line in the spec's text.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field's path (`body.lat`), empty for the spec as a whole.
    pub field: String,
    /// What is wrong, in English.
    pub message: String,
    /// What is wrong, in Chinese.
    pub message_zh: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = show::pick(&self.message, &self.message_zh);
        if self.field.is_empty() {
            f.write_str(&tf(S::SpecErrorAt, &[&self.line, &self.column, &message]))
        } else {
            f.write_str(&tf(
                S::SpecErrorField,
                &[&self.line, &self.column, &self.field, &message],
            ))
        }
    }
}

/// `n` with its noun, one or many (`1 byte`, `2 bytes`), in the current language: `one` and
/// `many` are keys with one slot.
pub fn counted(n: impl Into<u128>, one: S, many: S) -> String {
    let n: u128 = n.into();
    tf(if n == 1 { one } else { many }, &[&n])
}

/// `needs 1 byte, 0 left`: why a field cannot be read.
pub(crate) fn short(n: usize, left: usize) -> String {
    let key = if n == 1 {
        S::ProtoShortOne
    } else {
        S::ProtoShort
    };
    tf(key, &[&n, &left])
}

/// A sentence in English and in Chinese, whatever language this thread speaks now: a spec's
/// mistakes are found once and may be shown after the language changed.
pub(crate) fn both(say: impl Fn() -> String) -> (String, String) {
    let was = crate::i18n::lang();
    crate::i18n::set_lang(crate::i18n::Lang::En);
    let en = say();
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let zh = say();
    crate::i18n::set_lang(was);
    (en, zh)
}

impl std::error::Error for SpecError {}

/// A value of a field.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// A group of fields.
    None,
    /// A number (its raw value; the scale is shown, not stored).
    Int(i128),
    /// A floating-point number.
    Float(f64),
    /// Text (also BCD digits and text columns, as written).
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl FieldValue {
    /// An expression's value as a field's.
    pub fn from_value(v: &Value) -> Self {
        match v {
            Value::Int(n) => FieldValue::Int(*n),
            Value::Bool(b) => FieldValue::Int(i128::from(*b)),
            Value::Text(t) => FieldValue::Text(t.clone()),
            Value::Bytes(b) => FieldValue::Bytes(b.clone()),
        }
    }

    /// The field's value as an expression reads it (a text column that is a number reads
    /// as one; a float as its whole part).
    pub fn to_value(&self) -> Value {
        match self {
            FieldValue::None => Value::Bytes(Vec::new()),
            FieldValue::Int(n) => Value::Int(*n),
            FieldValue::Float(f) if f.is_finite() => Value::Int(f.trunc() as i128),
            FieldValue::Float(_) => Value::Int(0),
            FieldValue::Text(t) => decode::text_value(t),
            FieldValue::Bytes(b) => Value::Bytes(b.clone()),
        }
    }
}

/// What a field is, besides a field of the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A field of the spec.
    Node,
    /// Item `n` of a repeat (or group `n` of a nested key–value text).
    Item(usize),
    /// A key of a key–value text.
    Key,
    /// A text column the layout does not name.
    Column(usize),
    /// Bytes of a region its layout did not use.
    Extra,
    /// A region no case of its switch describes.
    Raw,
    /// The bytes after the field where decoding stopped.
    Undecoded,
}

/// A checksum's verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// It holds.
    pub ok: bool,
    /// What the frame says (`None`: not a number, e.g. bad hex digits).
    pub stored: Option<u64>,
    /// What the covered bytes give.
    pub computed: u64,
    /// The algorithm's name.
    pub algo: String,
    /// Another algorithm that gives what the frame says (HJ 212 frames with a CRC-16/MODBUS).
    pub instead: Option<String>,
    /// The bytes it covers in the frame (`None`: its fields were not found).
    pub covered: Option<Range<usize>>,
}

/// Something to say about a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Note {
    /// A checksum's verdict.
    Check(Verdict),
    /// Not the bytes the spec expects there (these).
    Mismatch(Vec<u8>),
}

/// One decoded field and its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Its name (`msg_id`, an item's index, a key).
    pub name: Arc<str>,
    /// Its node in the program (for its label, enum, unit), if it has one.
    pub node: Option<NodeId>,
    /// The layout a switch chose.
    pub layout: Option<compile::LayoutId>,
    /// What it is.
    pub role: Role,
    /// Its bytes in the frame as received (escapes included).
    pub range: Range<usize>,
    /// Its value.
    pub value: FieldValue,
    /// A verdict or a mismatch.
    pub note: Option<Note>,
    /// Its fields.
    pub children: Vec<Field>,
}

impl Field {
    /// This field and all below it, depth first, with their paths (`body.items.0.id`).
    pub fn walk<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Field)>) {
        let path = if prefix.is_empty() {
            self.name.to_string()
        } else {
            format!("{prefix}.{}", self.name)
        };
        out.push((path.clone(), self));
        for c in &self.children {
            c.walk(&path, out);
        }
    }
}

/// Where decoding stopped and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The field (`body.items.2.len`).
    pub path: String,
    /// Its offset in the frame as received.
    pub at: usize,
    /// Its offset in the unescaped frame.
    buf_at: usize,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tf(S::ProtoStopped, &[&self.path, &self.at, &self.reason]))
    }
}

/// A frame as fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The fields, in frame order; bytes after a stop are a last `undecoded` field, so every
    /// byte is in some field.
    pub fields: Vec<Field>,
    /// Where decoding stopped, if it did not reach the end.
    pub stop: Option<Stop>,
    /// Where an escape sequence was broken, if one was.
    pub bad_escape: Option<usize>,
    /// The first value its field's type does not allow (a BCD reading `123A5678`): decoded
    /// on, but not sound.
    pub bad_value: Option<Stop>,
    /// Bytes in the frame.
    pub len: usize,
}

impl Decoded {
    /// Every field with its path, depth first.
    pub fn all(&self) -> Vec<(String, &Field)> {
        let mut out = Vec::new();
        for f in &self.fields {
            f.walk("", &mut out);
        }
        out
    }

    /// The field at `path` (`body.lat`), or else the first field named by its last part
    /// (`lat`), depth first.
    pub fn get(&self, path: &str) -> Option<&Field> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut here = self.fields.iter().find(|f| &*f.name == first);
        if let Some(mut f) = here {
            for part in parts.by_ref() {
                match f.children.iter().find(|c| &*c.name == part) {
                    Some(c) => f = c,
                    None => {
                        here = None;
                        break;
                    }
                }
            }
            if here.is_some() {
                return Some(f);
            }
        }
        if path.contains('.') {
            // `a.b` below the top: the first `a` anywhere with `b` under it.
            let all = self.all();
            return all
                .iter()
                .find(|(p, _)| p == path || p.ends_with(&format!(".{path}")))
                .map(|(_, f)| *f);
        }
        self.all()
            .into_iter()
            .find(|(_, f)| &*f.name == path)
            .map(|(_, f)| f)
    }

    /// Every checksum's verdict, in frame order.
    pub fn verdicts(&self) -> Vec<(&Field, &Verdict)> {
        // No paths made: this runs for every frame shown.
        fn walk<'a>(f: &'a Field, out: &mut Vec<(&'a Field, &'a Verdict)>) {
            if let Some(Note::Check(v)) = &f.note {
                out.push((f, v));
            }
            for c in &f.children {
                walk(c, out);
            }
        }
        let mut out = Vec::new();
        for f in &self.fields {
            walk(f, &mut out);
        }
        out
    }

    /// True when the frame is whole and sound: decoded to the end of its spec with no bytes
    /// left after it, every constant (start and end flags) as the spec says, no broken escape,
    /// and every checksum holding (a spec without one: the rest holds). A cut frame, bytes
    /// after its end (which no checksum covers), a wrong flag, a broken escape or a failing
    /// checksum make it false.
    pub fn checks_ok(&self) -> bool {
        fn sound(f: &Field) -> bool {
            match &f.note {
                Some(Note::Check(v)) if !v.ok => return false,
                Some(Note::Mismatch(_)) => return false,
                _ => {}
            }
            f.children.iter().all(sound)
        }
        self.stop.is_none()
            && self.bad_escape.is_none()
            && self.bad_value.is_none()
            && self.left_over().is_none()
            && self.fields.iter().all(sound)
    }

    /// The bytes after the frame's last field, which its spec does not describe (and no
    /// checksum covers), if there are any.
    pub fn left_over(&self) -> Option<Range<usize>> {
        self.fields
            .last()
            .filter(|f| f.role == Role::Extra)
            .map(|f| f.range.clone())
    }

    /// The values of every field with a value, by path, in frame order: what [`Protocol::encode`]
    /// takes to make the same frame again.
    pub fn values(&self) -> Vec<(String, FieldValue)> {
        self.all()
            .into_iter()
            .filter(|(_, f)| !matches!(f.value, FieldValue::None) && f.role != Role::Undecoded)
            .map(|(p, f)| (p, f.value.clone()))
            .collect()
    }

    /// The innermost field holding byte `at` of the frame (for a click in the hex dump).
    pub fn field_at(&self, at: usize) -> Option<String> {
        self.all()
            .into_iter()
            .filter(|(_, f)| f.range.contains(&at))
            .max_by_key(|(p, f)| (p.matches('.').count(), usize::MAX - f.range.len()))
            .map(|(p, _)| p)
    }
}

/// A decoded frame's fields as expressions read them (`f.msg_id`, `f.body.lat`), and
/// `f.checks_ok`: 1 when the frame is whole and sound ([`Decoded::checks_ok`]), unless the
/// spec has a field of that name.
impl Fields for Decoded {
    fn field(&self, name: &str) -> Option<Value> {
        match self.get(name) {
            Some(f) => Some(f.value.to_value()),
            None if name == CHECKS_OK => Some(Value::Int(i128::from(self.checks_ok()))),
            None => None,
        }
    }
}

/// The name rules read a frame's soundness by (`!f.checks_ok`: a checksum that fails).
pub const CHECKS_OK: &str = "checks_ok";

/// One frame of a message, as [`Protocol::decode_message`] cuts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Piece {
    /// Where it begins in the message.
    pub at: usize,
    /// The frame layer found no frame here (bytes before a start marker, a header that
    /// does not hold): these bytes are not a frame, whatever their decoding says.
    pub junk: bool,
    /// Its fields.
    pub decoded: Decoded,
}

impl Piece {
    /// A whole, sound frame ([`Decoded::checks_ok`]), not bytes that are none.
    pub fn checks_ok(&self) -> bool {
        !self.junk && self.decoded.checks_ok()
    }

    /// Sound, and every byte described by the layout its fields chose (no `extra` or `raw`
    /// bytes anywhere): how a request and a reply laid out differently are told apart.
    fn fits(&self) -> bool {
        !self.junk && self.decoded.fits()
    }
}

impl Decoded {
    /// Its checks hold and its layout describes every byte (no extra or raw bytes left): a
    /// frame read the way it went.
    pub fn fits(&self) -> bool {
        fn described(f: &Field) -> bool {
            !matches!(f.role, Role::Extra | Role::Raw) && f.children.iter().all(described)
        }
        self.checks_ok() && self.fields.iter().all(described)
    }
}

/// A spec ready to use.
#[derive(Debug)]
pub struct Protocol {
    /// Its spec as written.
    pub spec: Spec,
    /// Its text (for export and editing).
    pub source: String,
    /// Compiled.
    pub program: Program,
    /// A built-in.
    pub builtin: bool,
}

impl Protocol {
    /// Reads and checks a spec. Errors name the line, column and field.
    pub fn load(text: &str) -> Result<Protocol, SpecError> {
        let spec = spec::parse(text).map_err(|e| SpecError {
            line: e.line,
            column: e.column,
            field: String::new(),
            message_zh: e.message.clone(),
            message: e.message,
        })?;
        let program = compile::compile(text, &spec)?;
        names::check(&program, text, &spec)?;
        Ok(Protocol {
            spec,
            source: text.to_owned(),
            program,
            builtin: false,
        })
    }

    /// Its short name (`jt808`).
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Its title in the current language.
    pub fn title(&self) -> &str {
        show::pick(&self.spec.title, &self.spec.title_zh)
    }

    /// True if `name` is its name or one of its aliases (any case).
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.spec.name.eq_ignore_ascii_case(name)
            || self
                .spec
                .aliases
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
    }

    /// How its frames are cut from a stream, if it says.
    pub fn cut(&self) -> Option<&FrameCut> {
        self.program.cut.as_ref()
    }

    /// The Receive framing that cuts its frames from a stream, if its spec says how.
    pub fn framing(&self) -> Option<crate::codec::framing::Framing> {
        self.cut()
            .map(|cut| crate::codec::framing::Framing::Protocol(Box::new(cut.clone())))
    }

    /// Decodes one frame.
    pub fn decode(&self, frame: &[u8], dir: Dir) -> Decoded {
        decode::decode(&self.program, frame, dir)
    }

    /// Decodes a message that may hold several frames (a UDP datagram with three NMEA
    /// sentences): the protocol's frame layer cuts it as it cuts a stream, and each piece is
    /// decoded. A protocol without a frame layer, or a message of one frame, gives one piece.
    pub fn decode_message(&self, message: &[u8], dir: Dir) -> Vec<Piece> {
        let Some(cut) = self.cut() else {
            return vec![Piece {
                at: 0,
                junk: false,
                decoded: self.decode(message, dir),
            }];
        };
        let mut out: Vec<Piece> = Vec::new();
        let mut at = 0;
        while at < message.len() {
            let rest = message.get(at..).unwrap_or_default();
            let (n, junk) = match cut.cut(rest) {
                Cut::Frame(n) if n > 0 => (n.min(rest.len()), false),
                // Bytes from a start marker to the next start (an NMEA sentence ended by LF
                // alone, a frame cut short) are a frame that is not whole, not junk.
                Cut::Junk(n) if n > 0 => {
                    let start = &self.program.markers.0;
                    (
                        n.min(rest.len()),
                        start.is_empty() || !rest.starts_with(start),
                    )
                }
                // What is left: a frame cut short, decoded as far as it goes; right after
                // bytes that are not a frame, more of them (a DTU's `REG:DTU0001` read
                // whole was 8 bytes of junk and a frame `001` cut short).
                _ => (
                    rest.len(),
                    out.last().is_some_and(|last| last.junk) || !cut.could_begin(rest),
                ),
            };
            // Bytes that are not a frame, one after the other (a DTU's registration before
            // Modbus TCP frames is refused a byte at a time), are said once.
            let from = match out.last() {
                Some(last) if junk && last.junk => last.at,
                _ => at,
            };
            if from < at {
                out.pop();
            }
            let bytes = message.get(from..at + n).unwrap_or_default();
            out.push(Piece {
                at: from,
                junk,
                decoded: self.decode(bytes, dir),
            });
            at += n;
        }
        if out.is_empty() {
            out.push(Piece {
                at: 0,
                junk: false,
                decoded: self.decode(message, dir),
            });
        }
        out
    }

    /// Decodes a message whose direction is a guess, not known: what `listen` receives is
    /// mostly requests, but a polled gateway that connects in sends replies. With `hint`
    /// first; when a frame is not sound or leaves bytes its layout does not describe, the
    /// other direction is tried and taken if every frame fits it (Modbus: a reply to a read
    /// read as a request is `@2560 ×0` with its registers left over).
    pub fn decode_message_guess(&self, message: &[u8], hint: Dir) -> Vec<Piece> {
        let first = self.decode_message(message, hint);
        let other = match hint {
            Dir::Request => Dir::Response,
            Dir::Response => Dir::Request,
            Dir::Unknown => return first,
        };
        if first.iter().all(Piece::fits) {
            return first;
        }
        let second = self.decode_message(message, other);
        if second.iter().all(Piece::fits) {
            second
        } else {
            first
        }
    }

    /// Decodes one frame whose direction is a guess (a server mostly receives requests, but
    /// a polled gateway that connects in sends replies): with `hint` first, and the other
    /// way when that does not fit and the other does.
    pub fn decode_guess(&self, frame: &[u8], hint: Dir) -> Decoded {
        let first = self.decode(frame, hint);
        let other = match hint {
            Dir::Request => Dir::Response,
            Dir::Response => Dir::Request,
            Dir::Unknown => return first,
        };
        if first.fits() {
            return first;
        }
        let second = self.decode(frame, other);
        if second.fits() { second } else { first }
    }

    /// True when `expr` (`f.msg_id == 0x0200`, as rules write it) holds for `frame` decoded.
    pub fn holds(&self, expr: &crate::expr::Expr, frame: &[u8], dir: Dir) -> bool {
        self.test(expr, frame, dir).unwrap_or(false)
    }

    /// Whether `expr` holds for `frame` decoded, or why it cannot be worked out (a text field
    /// holding no number compared with `>`). A frame without a field it reads (another
    /// message) is one it does not hold for, not a mistake.
    pub fn test(&self, expr: &crate::expr::Expr, frame: &[u8], dir: Dir) -> Result<bool, String> {
        use crate::expr::Fields as _;
        let decoded = self.decode_guess(frame, dir);
        decode::eval(expr, frame, &decoded)
            .map(|v| v.truthy())
            .or_else(|why| {
                let lacks = expr
                    .fields_used()
                    .iter()
                    .any(|name| decoded.field(name).is_none());
                if lacks { Ok(false) } else { Err(why) }
            })
    }

    /// True when the field at `path` is worked out from others (a `computed` field, such as
    /// Modbus RTU's `is_reply`): a reply does not take it from its request.
    pub fn derived(&self, path: &str) -> bool {
        self.program
            .nodes
            .iter()
            .any(|n| n.path == path && matches!(n.kind, compile::Kind::Computed(_)))
    }

    /// True when a value at `parent.NAME` changes one field of the request's `parent` and
    /// keeps the others (a bit of a number, a key of a key–value text); false when it makes
    /// `parent` afresh (a switch's body, a group, a repeat, a nested text).
    pub fn keeps_below(&self, parent: &str) -> bool {
        self.program
            .nodes
            .iter()
            .filter(|n| n.path == parent)
            .any(|n| matches!(n.kind, compile::Kind::Int { .. } | compile::Kind::Kv { .. }))
    }

    /// Why a rule cannot read the field `name` (`f.body.speedd`) of this protocol's frames,
    /// with the nearest name if one is close; `None` when some frame has it.
    pub fn lacks_field(&self, name: &str) -> Option<String> {
        if name == CHECKS_OK {
            return None;
        }
        names::lacks(&self.program, name)
            .err()
            .map(|near| match near {
                Some(near) => tf(S::RuleNoFieldNear, &[&name, &self.title(), &near]),
                None => tf(S::RuleNoField, &[&name, &self.title()]),
            })
    }

    /// Why `value` can never be the field at `path` (`300` in a one-byte field, `-1` in an
    /// unsigned one, `16` in a 4-bit field); `None` when it fits a field of that path in some
    /// message, or the path names no number.
    pub fn never_fits(&self, path: &str, value: &Value) -> Option<String> {
        let n = match value {
            Value::Int(n) => *n,
            Value::Text(t) => t.trim().parse::<i128>().ok()?,
            _ => return None,
        };
        let mut why = None;
        for node in names::nodes_at(&self.program, path) {
            let (lo, hi, ty) = match &node.kind {
                compile::Kind::Int { width, signed, .. } => {
                    let bits = u32::from(*width) * 8;
                    let ty = format!("{}{}", if *signed { "i" } else { "u" }, bits);
                    if *signed {
                        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1, ty)
                    } else {
                        (0, (1i128 << bits) - 1, ty)
                    }
                }
                compile::Kind::Bits { width, .. } => {
                    (0, (1i128 << u32::from(*width)) - 1, format!("{width}-bit"))
                }
                _ => return None,
            };
            if (lo..=hi).contains(&n) {
                return None;
            }
            why = Some(tf(S::FieldValueNeverFits, &[&n, &path, &ty, &lo, &hi]));
        }
        why
    }

    /// Makes a frame of field values (paths as [`Decoded::values`] gives them). Lengths
    /// (`length_of`), counts (`count_of`) and checksums are computed, and the frame escaped.
    pub fn encode(
        &self,
        values: &[(String, FieldValue)],
        dir: Dir,
    ) -> Result<Vec<u8>, EncodeError> {
        encode::encode(&self.program, values, dir)
    }

    /// Makes a frame of field values for a form: a field without a value gets a blank one
    /// (0, no text, zero bytes) instead of an error. Gives the frame (or why not) and the
    /// blank values it took, so a form shows every field the message has.
    pub fn compose(&self, values: &[(String, FieldValue)], dir: Dir) -> Composed {
        let (bytes, blanks, nodes) = encode::encode_filling(&self.program, values, dir);
        Composed {
            bytes,
            blanks,
            nodes,
        }
    }

    /// The messages a form can make: one per case of the frame's first switch (JT/T 808's
    /// message id, Modbus's function and direction, DL/T 645's control code), each with the
    /// values that choose it and the direction it is read in. Empty for a protocol with no
    /// such switch on a number.
    pub fn messages(&self) -> Vec<Message> {
        compose::messages(self)
    }

    /// What `text` typed into a form's field of node `id` is (a number in decimal or `0x…`
    /// within its width, BCD digits, hex bytes, a text), or the sentence saying why it is not.
    pub fn value_from_text(&self, id: NodeId, text: &str) -> Result<FieldValue, String> {
        compose::value_from_text(&self.program, id, text)
    }

    /// The blank value a form gives the field of node `id` (0, no text): what stands for a
    /// value typed wrong, so the field (and the list item holding it) stays in the form.
    pub fn blank_value(&self, id: NodeId) -> Option<FieldValue> {
        let node = self.program.node(id)?;
        match (node.range, &node.kind) {
            (Some((lo, _)), compile::Kind::Int { .. }) => Some(FieldValue::Int(i128::from(lo))),
            _ => encode::blank_of(&node.kind),
        }
    }

    /// A value as a form shows it for typing: what [`Self::value_from_text`] reads back.
    pub fn value_to_text(&self, id: NodeId, value: &FieldValue) -> String {
        compose::value_to_text(&self.program, id, value)
    }

    /// The keys the `key=value` field of node `id` (HJ 212's data segment) offers a form,
    /// in the spec's order, named in the current language.
    pub fn form_keys(&self, id: NodeId) -> Vec<FormKey> {
        compose::form_keys(&self.program, id)
    }

    /// The values of what a form typed for the keys of the `key=value` field of node `id` at
    /// `path` (texts by path: `data.QN`, `data.CP` as `k=v,k=v;k=v`), in the spec's order of
    /// keys, and a sentence for each text that is not pairs, by path. An empty key is left
    /// out.
    pub fn kv_values(
        &self,
        id: NodeId,
        path: &str,
        texts: &std::collections::BTreeMap<String, String>,
    ) -> (
        Vec<(String, FieldValue)>,
        std::collections::BTreeMap<String, String>,
    ) {
        compose::kv_values(&self.program, id, path, texts)
    }

    /// The field's name for people, in the current language.
    pub fn label(&self, field: &Field) -> String {
        show::label(&self.program, field)
    }

    /// The field's value as shown: with its enum name, flags, scale and unit, or verdict.
    pub fn shown(&self, field: &Field) -> String {
        show::shown(&self.program, field)
    }

    /// The reading a field with a scale, offset, decimals or unit stands for, as a number
    /// (`605` with `scale: 0.1` is `60.5`; an NMEA `ddmm.mmmm` column gives degrees), and its
    /// unit: what `--json` gives as `scaled` and the window's CSV writes.
    pub fn reading(&self, field: &Field) -> Option<(f64, Option<String>)> {
        show::scaled_json(&self.program, field)
    }

    /// The one-line summary (`JT808 0x0200 位置信息汇报 · 013912344329 · #22 · …`).
    pub fn summary(&self, decoded: &Decoded) -> String {
        show::summary(self, decoded)
    }

    /// The decoded fields as a JSON value: `{"protocol", "summary", "fields": [{"name",
    /// "label", "value", "shown", "offset", "len", "check"?, "fields"?}], "stopped"?}`.
    pub fn json(&self, decoded: &Decoded) -> serde_json::Value {
        show::json(self, decoded)
    }

    /// A piece's one-line summary: the frame's, or for bytes that are not a frame, that.
    pub fn piece_summary(&self, piece: &Piece) -> String {
        if piece.junk {
            show::not_a_frame(self, piece)
        } else {
            self.summary(&piece.decoded)
        }
    }

    /// A message's pieces as JSON: one frame as [`Protocol::json`] gives it (as before), several
    /// as an array of them, each with `offset` (where it begins in the message); bytes that
    /// are not a frame say `not_a_frame: true` and `checks_ok: false`.
    pub fn json_message(&self, pieces: &[Piece]) -> serde_json::Value {
        let one = |p: &Piece| {
            let mut v = self.json(&p.decoded);
            if p.junk
                && let Some(m) = v.as_object_mut()
            {
                m.insert("summary".into(), self.piece_summary(p).into());
                m.insert("checks_ok".into(), false.into());
                m.insert("not_a_frame".into(), true.into());
            }
            v
        };
        match pieces {
            [p] => one(p),
            _ => pieces
                .iter()
                .map(|p| {
                    let mut v = one(p);
                    if let Some(m) = v.as_object_mut() {
                        m.insert("offset".into(), p.at.into());
                    }
                    v
                })
                .collect::<Vec<_>>()
                .into(),
        }
    }
}

/// The built-in specs: (file name, text).
const BUILTIN_SOURCES: &[(&str, &str)] = &[
    ("modbus-tcp.ron", include_str!("builtin/modbus-tcp.ron")),
    ("modbus-rtu.ron", include_str!("builtin/modbus-rtu.ron")),
    ("jt808.ron", include_str!("builtin/jt808.ron")),
    ("hj212.ron", include_str!("builtin/hj212.ron")),
    ("dlt645.ron", include_str!("builtin/dlt645.ron")),
    ("gbt32960.ron", include_str!("builtin/gbt32960.ron")),
    ("nmea0183.ron", include_str!("builtin/nmea0183.ron")),
];

/// The built-in protocols, compiled once.
pub fn builtins() -> &'static [Arc<Protocol>] {
    static ALL: OnceLock<Vec<Arc<Protocol>>> = OnceLock::new();
    ALL.get_or_init(|| {
        BUILTIN_SOURCES
            .iter()
            .filter_map(|(_, text)| {
                // A built-in that does not compile is a bug the tests catch; the others load.
                Protocol::load(text).ok().map(|mut p| {
                    p.builtin = true;
                    Arc::new(p)
                })
            })
            .collect()
    })
}

/// The built-in spec files: (file name, text), to export for editing.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN_SOURCES
}

/// The built-in protocol called `name` (or one of its aliases).
pub fn builtin(name: &str) -> Option<Arc<Protocol>> {
    builtins().iter().find(|p| p.answers_to(name)).cloned()
}
