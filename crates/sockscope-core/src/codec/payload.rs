//! What the send box means on the wire: the input mode (text, hex, text with escapes),
//! variables resolved at send time, then line ending, checksum trailer and length prefix.
//!
//! Order on the wire: `[length prefix] payload [line ending] [checksum]`; the checksum covers
//! the payload and line ending (within its range), the prefix counts all that follows it.

use std::fmt::{self, Write as _};

use crate::i18n::{S, t, tf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::checksum::{Checksum, RangeError};
use super::escape::{self, EscapeError};
use super::hex::{self, HexError};
use super::length::{LengthError, LengthPrefix};
use super::text::{EncodeError, TextEncoding};

/// How the send box is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputMode {
    /// Text in the session's encoding.
    #[default]
    Text,
    /// Hex bytes: `01 02`, `0x01,0x02`, `0102`.
    Hex,
    /// Text with `\r \n \t \0 \\ \xHH` escapes.
    Escapes,
}

/// What is appended after the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LineEnding {
    /// Nothing.
    #[default]
    None,
    /// `\r`.
    Cr,
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl LineEnding {
    /// Every choice, in UI order.
    pub const ALL: [LineEnding; 4] = [
        LineEnding::None,
        LineEnding::Cr,
        LineEnding::Lf,
        LineEnding::CrLf,
    ];

    /// The bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::None => b"",
            LineEnding::Cr => b"\r",
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
        }
    }

    /// Short name for the UI.
    pub fn name(self) -> &'static str {
        match self {
            LineEnding::None => "None",
            LineEnding::Cr => "CR",
            LineEnding::Lf => "LF",
            LineEnding::CrLf => "CRLF",
        }
    }
}

/// Everything besides the typed text that decides the bytes sent. Saved with quick commands.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SendSpec {
    /// Text, hex or escapes.
    pub mode: InputMode,
    /// Encoding of text.
    pub encoding: TextEncoding,
    /// Appended after the payload.
    pub line_ending: LineEnding,
    /// Appended after the line ending.
    pub checksum: Checksum,
    /// Put before everything.
    pub length_prefix: Option<LengthPrefix>,
}

/// A variable in a text payload.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Var {
    Counter,
    Time,
    UnixTime,
    Random(u64, u64),
    /// `{{f.NAME}}`: a field of a received frame (its 1-based column, its path), given by
    /// [`Payload::with_fields`] before the send.
    Field(usize, String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Bytes(Vec<u8>),
    Var(Var),
}

/// Why the send box does not make a payload. Every kind names where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadError {
    /// Bad hex digit or odd group.
    Hex(HexError),
    /// Bad escape or unencodable character.
    Escape(EscapeError),
    /// Unencodable character.
    Encode(EncodeError),
    /// `{{` without `}}`.
    Unclosed {
        /// 1-based character column of the `{{`.
        column: usize,
    },
    /// `{{name}}` we do not know, or with bad arguments.
    BadVariable {
        /// 1-based character column of the `{{`.
        column: usize,
        /// What was inside the braces.
        text: String,
    },
    /// The checksum range does not fit.
    Checksum(RangeError),
    /// The length does not fit the prefix.
    Length(LengthError),
    /// Nothing to send.
    Empty,
    /// `{{f.NAME}}` with no received frame to take it from.
    NoFrame {
        /// 1-based character column of the `{{`.
        column: usize,
        /// The field's path.
        field: String,
    },
    /// `{{f.NAME}}` in a session that decodes nothing (no protocol chosen).
    NoProtocol {
        /// 1-based character column of the `{{`.
        column: usize,
        /// The field's path.
        field: String,
    },
    /// `{{f.NAME}}`: the frame picked cannot give it (a row that was sent, or no whole frame).
    FrameUnfit {
        /// 1-based character column of the `{{`.
        column: usize,
        /// The field's path.
        field: String,
        /// Why, in words.
        why: String,
    },
    /// `{{f.NAME}}`: the frame has no such field.
    NoField {
        /// 1-based character column of the `{{`.
        column: usize,
        /// The field's path.
        field: String,
    },
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadError::Hex(e) => write!(f, "{e}"),
            PayloadError::Escape(e) => write!(f, "{e}"),
            PayloadError::Encode(e) => write!(f, "{e}"),
            PayloadError::Unclosed { column } => f.write_str(&tf(S::ErrVarUnclosed, &[column])),
            PayloadError::BadVariable { column, text } => {
                f.write_str(&tf(S::ErrVarUnknown, &[text, column]))
            }
            PayloadError::Checksum(e) => write!(f, "{e}"),
            PayloadError::Length(e) => write!(f, "{e}"),
            PayloadError::Empty => f.write_str(t(S::ErrNothingToSend)),
            PayloadError::NoFrame { column, field } => {
                f.write_str(&tf(S::ErrFieldNoFrame, &[field, column]))
            }
            PayloadError::NoProtocol { column, field } => {
                f.write_str(&tf(S::ErrFieldNoProtocol, &[field, column]))
            }
            PayloadError::FrameUnfit { column, field, why } => {
                f.write_str(&tf(S::ErrFieldFrameUnfit, &[field, column, why]))
            }
            PayloadError::NoField { column, field } => {
                f.write_str(&tf(S::ErrFieldNotInFrame, &[field, column]))
            }
        }
    }
}

impl std::error::Error for PayloadError {}

/// The send box parsed once; [`Payload::render`] makes the bytes for one send (variables may
/// differ each time, so cyclic sends render again on every tick).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    parts: Vec<Part>,
    /// The encoding text goes out in (a field's text given by `{{f.NAME}}` too).
    encoding: TextEncoding,
    line_ending: LineEnding,
    checksum: Checksum,
    length_prefix: Option<LengthPrefix>,
}

/// Values variables take: the session's counter and a random source.
#[derive(Clone, Debug)]
pub struct VarState {
    /// Next `{{counter}}` value.
    pub counter: i64,
    /// Added after each send that used `{{counter}}`.
    pub step: i64,
    rng: u64,
}

impl VarState {
    /// A counter starting at `start`, counting by `step`.
    pub fn new(start: i64, step: i64) -> Self {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| d.as_nanos() as u64);
        Self {
            counter: start,
            step,
            rng: seed | 1,
        }
    }

    /// A uniform-enough number in `lo..=hi` (xorshift: test payloads need variety, not secrecy).
    fn random(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let span = hi.saturating_sub(lo).saturating_add(1);
        if span == 0 {
            self.rng
        } else {
            lo + self.rng % span
        }
    }
}

/// The variables, for the tooltip.
pub const VARIABLES_HELP: &str = "Variables (text modes), resolved at each send:\n\
{{counter}}  a number that grows by the step after each send\n\
{{time}}  local time HH:MM:SS\n\
{{unixtime}}  seconds since 1970\n\
{{random:0:255}}  a random number in the range\n\
{{hex:0D 0A}}  raw bytes\n\
{{f.serial}}  a field of the frame picked in the log (else the last received), with Decode as\n\
\\{{  a literal {{";

impl Payload {
    /// Exactly these bytes, with nothing added.
    pub fn bytes(bytes: Vec<u8>) -> Payload {
        Payload {
            parts: vec![Part::Bytes(bytes)],
            encoding: TextEncoding::default(),
            line_ending: LineEnding::None,
            checksum: Checksum::default(),
            length_prefix: None,
        }
    }

    /// Parses the send box with `spec`.
    pub fn parse(input: &str, spec: &SendSpec) -> Result<Payload, PayloadError> {
        let parts = match spec.mode {
            InputMode::Hex => vec![Part::Bytes(hex::parse(input).map_err(PayloadError::Hex)?)],
            InputMode::Text | InputMode::Escapes => split_vars(input, spec)?,
        };
        let payload = Payload {
            parts,
            encoding: spec.encoding,
            line_ending: spec.line_ending,
            checksum: spec.checksum.clone(),
            length_prefix: spec.length_prefix,
        };
        if payload
            .parts
            .iter()
            .all(|p| matches!(p, Part::Bytes(b) if b.is_empty()))
            && spec.line_ending == LineEnding::None
        {
            return Err(PayloadError::Empty);
        }
        Ok(payload)
    }

    /// The first `{{f.NAME}}` it holds, as the mistake of a session with no protocol.
    pub fn needs_protocol(&self) -> Option<PayloadError> {
        self.parts.iter().find_map(|p| match p {
            Part::Var(Var::Field(column, field)) => Some(PayloadError::NoProtocol {
                column: *column,
                field: field.clone(),
            }),
            _ => None,
        })
    }

    /// The first `{{f.NAME}}` it holds, as the mistake when no frame has come.
    pub fn needs_frame(&self) -> Option<PayloadError> {
        self.parts.iter().find_map(|p| match p {
            Part::Var(Var::Field(column, field)) => Some(PayloadError::NoFrame {
                column: *column,
                field: field.clone(),
            }),
            _ => None,
        })
    }

    /// The received frame's fields it reads (`{{f.serial}}`), in order.
    pub fn fields_used(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(Var::Field(_, name)) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The same with each `{{f.NAME}}` given its value from `fields` (a received frame
    /// decoded): a number as its decimal digits, text in the payload's encoding, bytes as they
    /// are. A field the frame lacks is said with its column.
    pub fn with_fields(&self, fields: &dyn crate::expr::Fields) -> Result<Payload, PayloadError> {
        use crate::expr::Value;
        let mut parts = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            let Part::Var(Var::Field(column, name)) = part else {
                parts.push(part.clone());
                continue;
            };
            let missing = || PayloadError::NoField {
                column: *column,
                field: name.clone(),
            };
            let bytes = match fields.field(name).ok_or_else(missing)? {
                Value::Int(n) => n.to_string().into_bytes(),
                Value::Bool(b) => u8::from(b).to_string().into_bytes(),
                Value::Bytes(b) => b,
                Value::Text(text) => self.encoding.encode(&text).map_err(|mut e| {
                    e.column = *column;
                    PayloadError::Encode(e)
                })?,
            };
            parts.push(Part::Bytes(bytes));
        }
        Ok(Payload {
            parts,
            ..self.clone()
        })
    }

    /// True if any part changes from send to send.
    pub fn has_variables(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var(_)))
    }

    /// The bytes for one send; advances the counter if it was used.
    pub fn render(&self, vars: &mut VarState, now: SystemTime) -> Result<Vec<u8>, PayloadError> {
        let mut body = Vec::new();
        let mut used_counter = false;
        for part in &self.parts {
            match part {
                Part::Bytes(bytes) => body.extend_from_slice(bytes),
                Part::Var(var) => {
                    let mut text = String::new();
                    match var {
                        Var::Counter => {
                            used_counter = true;
                            let _ = write!(text, "{}", vars.counter);
                        }
                        Var::Time => {
                            let local: chrono::DateTime<chrono::Local> = now.into();
                            let _ = write!(text, "{}", local.format("%H:%M:%S"));
                        }
                        Var::UnixTime => {
                            let secs = now
                                .duration_since(SystemTime::UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs());
                            let _ = write!(text, "{secs}");
                        }
                        Var::Random(lo, hi) => {
                            let _ = write!(text, "{}", vars.random(*lo, *hi));
                        }
                        // Given by `with_fields` before a send; here, none was.
                        Var::Field(column, name) => {
                            return Err(PayloadError::NoFrame {
                                column: *column,
                                field: name.clone(),
                            });
                        }
                    }
                    // Digits and colons are ASCII in every offered encoding.
                    body.extend_from_slice(text.as_bytes());
                }
            }
        }
        if used_counter {
            vars.counter = vars.counter.wrapping_add(vars.step);
        }
        body.extend_from_slice(self.line_ending.bytes());
        self.checksum
            .append(&mut body)
            .map_err(PayloadError::Checksum)?;
        match &self.length_prefix {
            Some(prefix) => prefix.wrap(&body).map_err(PayloadError::Length),
            None => Ok(body),
        }
    }
}

/// Splits text at `{{…}}` variables; literal runs become bytes at once.
fn split_vars(input: &str, spec: &SendSpec) -> Result<Vec<Part>, PayloadError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut literal_column = 1;
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        if spec.mode == InputMode::Escapes && c == '\\' && next == Some('\\') {
            // An escaped backslash: `\\{{counter}}` is a backslash, then the variable.
            if literal.is_empty() {
                literal_column = i + 1;
            }
            literal.push_str("\\\\");
            i += 2;
            continue;
        }
        if c == '\\' && next == Some('{') && chars.get(i + 2) == Some(&'{') {
            // Literal braces: keep them out of the escape parser, which knows no `\{`.
            push_literal(&mut parts, &mut literal, literal_column, spec)?;
            parts.push(Part::Bytes(b"{{".to_vec()));
            i += 3;
            literal_column = i + 1;
            continue;
        }
        if c == '{' && next == Some('{') {
            let column = i + 1;
            let rest: String = chars.get(i + 2..).unwrap_or_default().iter().collect();
            let Some(end) = rest.find("}}") else {
                return Err(PayloadError::Unclosed { column });
            };
            let name = rest.get(..end).unwrap_or_default();
            push_literal(&mut parts, &mut literal, literal_column, spec)?;
            parts.push(parse_var(name.trim(), column)?);
            i += 2 + name.chars().count() + 2;
            literal_column = i + 1;
            continue;
        }
        if literal.is_empty() {
            literal_column = i + 1;
        }
        literal.push(c);
        i += 1;
    }
    push_literal(&mut parts, &mut literal, literal_column, spec)?;
    Ok(parts)
}

fn push_literal(
    parts: &mut Vec<Part>,
    literal: &mut String,
    column: usize,
    spec: &SendSpec,
) -> Result<(), PayloadError> {
    if literal.is_empty() {
        return Ok(());
    }
    let shift = column - 1;
    let bytes = match spec.mode {
        InputMode::Escapes => escape::parse(literal, spec.encoding)
            .map_err(|e| PayloadError::Escape(shift_escape(e, shift)))?,
        _ => spec.encoding.encode(literal).map_err(|mut e| {
            e.column += shift;
            PayloadError::Encode(e)
        })?,
    };
    parts.push(Part::Bytes(bytes));
    literal.clear();
    Ok(())
}

fn shift_escape(e: EscapeError, shift: usize) -> EscapeError {
    match e {
        EscapeError::Unknown { column, found } => EscapeError::Unknown {
            column: column + shift,
            found,
        },
        EscapeError::BadHex { column } => EscapeError::BadHex {
            column: column + shift,
        },
        EscapeError::Encode(mut e) => {
            e.column += shift;
            EscapeError::Encode(e)
        }
    }
}

fn parse_var(name: &str, column: usize) -> Result<Part, PayloadError> {
    let bad = || PayloadError::BadVariable {
        column,
        text: name.to_owned(),
    };
    let mut args = name.splitn(3, ':');
    Ok(match (args.next(), args.next(), args.next()) {
        (Some("counter"), None, None) => Part::Var(Var::Counter),
        (Some(field), None, None)
            if field.len() > 2
                && field.starts_with("f.")
                && field
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') =>
        {
            Part::Var(Var::Field(column, field[2..].to_owned()))
        }
        (Some("time"), None, None) => Part::Var(Var::Time),
        (Some("unixtime"), None, None) => Part::Var(Var::UnixTime),
        (Some("random"), Some(lo), Some(hi)) => {
            let lo: u64 = lo.trim().parse().map_err(|_| bad())?;
            let hi: u64 = hi.trim().parse().map_err(|_| bad())?;
            if lo > hi {
                return Err(bad());
            }
            Part::Var(Var::Random(lo, hi))
        }
        (Some("hex"), Some(_), _) => {
            let hex_text = name.get(4..).unwrap_or_default();
            Part::Bytes(hex::parse(hex_text).map_err(|_| bad())?)
        }
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::ChecksumKind;
    use proptest::prelude::*;

    fn render(input: &str, spec: &SendSpec) -> Result<Vec<u8>, PayloadError> {
        Payload::parse(input, spec)?.render(&mut VarState::new(1, 1), SystemTime::UNIX_EPOCH)
    }

    struct Frame;
    impl crate::expr::Fields for Frame {
        fn field(&self, name: &str) -> Option<crate::expr::Value> {
            use crate::expr::Value;
            match name {
                "serial" => Some(Value::Int(32381)),
                "body.plate" => Some(Value::Text("粤B12345".into())),
                _ => None,
            }
        }
    }

    #[test]
    fn a_field_of_a_received_frame_is_given_before_the_send() {
        let spec = SendSpec {
            encoding: TextEncoding::GBK,
            ..SendSpec::default()
        };
        let payload = Payload::parse("ack {{f.serial}} {{ f.body.plate }}", &spec).unwrap();
        assert_eq!(payload.fields_used(), ["serial", "body.plate"]);
        // Without a frame: said with the field and its column, never sent as is.
        assert_eq!(
            payload.render(&mut VarState::new(1, 1), SystemTime::UNIX_EPOCH),
            Err(PayloadError::NoFrame {
                column: 5,
                field: "serial".into()
            })
        );
        let given = payload.with_fields(&Frame).unwrap();
        assert!(given.fields_used().is_empty());
        let mut want = b"ack 32381 ".to_vec();
        want.extend(TextEncoding::GBK.encode("粤B12345").unwrap());
        assert_eq!(
            given.render(&mut VarState::new(1, 1), SystemTime::UNIX_EPOCH),
            Ok(want)
        );
        // A field the frame lacks.
        let payload = Payload::parse("{{f.speed}}", &spec).unwrap();
        assert_eq!(
            payload.with_fields(&Frame),
            Err(PayloadError::NoField {
                column: 1,
                field: "speed".into()
            })
        );
        // `{{f.}}` and `{{f.a b}}` are not fields.
        assert!(Payload::parse("{{f.}}", &spec).is_err());
        assert!(Payload::parse("{{f.a b}}", &spec).is_err());
    }

    #[test]
    fn line_ending_checksum_and_prefix_go_in_wire_order() {
        let spec = SendSpec {
            mode: InputMode::Hex,
            line_ending: LineEnding::None,
            checksum: Checksum::new(ChecksumKind::Crc16Modbus),
            length_prefix: Some(LengthPrefix::default()),
            ..SendSpec::default()
        };
        let bytes = render("01 03 00 00 00 0A", &spec).unwrap();
        assert_eq!(
            bytes,
            [0x00, 0x08, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]
        );
        let text = SendSpec {
            line_ending: LineEnding::CrLf,
            ..SendSpec::default()
        };
        assert_eq!(render("AT", &text).unwrap(), b"AT\r\n");
    }

    #[test]
    fn variables_resolve_at_each_send() {
        let spec = SendSpec::default();
        let payload = Payload::parse("n={{counter}} t={{unixtime}}{{hex:0D 0A}}", &spec).unwrap();
        let mut vars = VarState::new(10, 5);
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(42);
        assert_eq!(payload.render(&mut vars, at).unwrap(), b"n=10 t=42\r\n");
        assert_eq!(payload.render(&mut vars, at).unwrap(), b"n=15 t=42\r\n");
        let random = Payload::parse("{{random:3:3}}", &spec).unwrap();
        assert_eq!(random.render(&mut vars, at).unwrap(), b"3");
    }

    #[test]
    fn literal_braces_and_bad_variables() {
        let spec = SendSpec {
            mode: InputMode::Escapes,
            ..SendSpec::default()
        };
        assert_eq!(render(r"\{{x}}\r\n", &spec).unwrap(), b"{{x}}\r\n");
        assert_eq!(render(r"\\{{counter}}", &spec).unwrap(), b"\\1");
        assert_eq!(
            render("{\"a\":{\"b\":1}}", &SendSpec::default()).unwrap(),
            b"{\"a\":{\"b\":1}}"
        );
        assert_eq!(
            render("ab{{nope}}", &spec),
            Err(PayloadError::BadVariable {
                column: 3,
                text: "nope".into()
            })
        );
        assert_eq!(
            render("ab{{counter", &spec),
            Err(PayloadError::Unclosed { column: 3 })
        );
        // Columns of errors after a variable count from the start of the whole box.
        let e = render(r"{{counter}}\q", &spec).unwrap_err();
        assert_eq!(
            e.to_string(),
            r"'\q' at column 12 is not an escape: use \r \n \t \0 \\ or \xHH"
        );
    }

    #[test]
    fn empty_box_is_an_error_but_a_bare_line_ending_is_not() {
        assert_eq!(render("", &SendSpec::default()), Err(PayloadError::Empty));
        let spec = SendSpec {
            line_ending: LineEnding::Lf,
            ..SendSpec::default()
        };
        assert_eq!(render("", &spec).unwrap(), b"\n");
    }

    proptest! {
        #[test]
        fn any_text_parses_or_errors_without_panic(input in ".*", escapes in any::<bool>()) {
            let mode = if escapes { InputMode::Escapes } else { InputMode::Text };
            let spec = SendSpec { mode, encoding: TextEncoding::GBK, ..SendSpec::default() };
            let _ = render(&input, &spec);
        }

        #[test]
        fn text_without_braces_or_backslashes_is_just_encoded(input in "[a-zA-Z0-9 ,.你好]{1,40}") {
            prop_assert_eq!(render(&input, &SendSpec::default()).unwrap(), input.as_bytes());
        }
    }
}
