//! A protocol spec as written (RON): what the user edits and the built-ins are made of. Every
//! field keeps where it was in the text, so an error found later (an expression, a layout
//! that does not exist) names its line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use ron::value::RawValue;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::cut::{ByteEscape, FrameCut};

/// Byte order of multi-byte numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Endian {
    /// Most significant byte first (network order).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// Order of the 16-bit words of a 32- or 64-bit value, as Modbus devices swap them: `ABCD` is
/// plain big-endian, `CDAB` swaps the words, `BADC` swaps the bytes in each word, `DCBA` is
/// little-endian.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WordOrder {
    /// As the byte order says.
    #[default]
    ABCD,
    /// Words swapped.
    CDAB,
    /// Bytes swapped within each word.
    BADC,
    /// Fully reversed.
    DCBA,
}

/// How a number is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Show {
    /// In decimal.
    #[default]
    Dec,
    /// In hex (`0x0200`).
    Hex,
    /// In binary.
    Bin,
    /// Bytes or digits as text.
    Ascii,
    /// Digits or bytes `YY MM DD hh mm ss` (or a longer `YYYYMMDDhhmmss…`) as a date and time.
    Time,
}

/// A value a switch or an enum matches: a number or a text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Key {
    /// A number (`0x0200`).
    Int(i64),
    /// A text (`"GGA"`).
    Text(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(n) => write!(f, "{n}"),
            Key::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// A length, a count: a number, `"*"` (up to what the fields after it need), or an
/// expression over the fields before it (`"props & 0x3FF"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LenSpec {
    /// This many.
    Fixed(u64),
    /// `"*"` or an expression.
    Expr(String),
}

/// One value → name pair of an enum: `(0x0200, "Location report", "位置信息汇报")`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumItem(pub Key, pub String, #[serde(default)] pub String);

/// An enum: the name of one in the spec's `enums`, or the list itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValuesSpec {
    /// `values: "msg_id"`.
    Named(String),
    /// `values: [(0, "Off", "关"), (1, "On", "开")]`.
    List(Vec<EnumItem>),
}

/// The name of a bit that is set: `(bit: 0, en: "Emergency", zh: "紧急报警")`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagSpec {
    /// The bit, 0 = least significant.
    pub bit: u8,
    /// Its name.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
}

/// A checksum algorithm.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Algo {
    /// Sum of the bytes, modulo 256.
    Sum8,
    /// Two's complement of the sum.
    NegSum8,
    /// XOR of the bytes.
    Xor8,
    /// Sum of the bytes, modulo 65536.
    Sum16,
    /// CRC-16/MODBUS.
    Crc16Modbus,
    /// HJ 212-2017's CRC-16 (not CRC-16/MODBUS: `crc = (crc >> 8) ^ byte`, then 8 × 0xA001).
    Hj212,
    /// CRC-32 (ISO-HDLC, as in zip).
    Crc32,
    /// A CRC from the catalogue by its name (`"CRC-16/XMODEM"`, `"CRC-8/MAXIM-DOW"` …).
    Catalog(String),
    /// Any CRC by its parameters.
    Crc(CrcParams),
}

/// The parameters of a CRC (as in the CRC catalogue: width, poly, init, refin, refout, xorout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrcParams {
    /// Bits, 1 to 64.
    pub width: u8,
    /// The polynomial, not reflected.
    pub poly: u64,
    /// The register's first value.
    pub init: u64,
    /// Bytes in reflected.
    pub refin: bool,
    /// Result reflected.
    pub refout: bool,
    /// XORed onto the result.
    pub xorout: u64,
}

/// A value of a key–value text that holds more pairs (HJ 212's `CP=&&…&&`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NestedSpec {
    /// The key whose value it is.
    pub key: String,
    /// What the value opens with.
    pub open: String,
    /// What it closes with.
    pub close: String,
    /// Between groups (`;`).
    pub groups: String,
    /// Between the pairs of a group (`,`).
    pub sep: String,
}

/// What a key of a key–value text means.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeySpec {
    /// The key (`QN`).
    pub key: String,
    /// Its name.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Value names.
    pub values: Option<ValuesSpec>,
    /// Names of set bits, for a number.
    pub flags: Vec<FlagSpec>,
    /// Shown as.
    pub show: Option<Show>,
    /// Unit shown after it.
    pub unit: Option<String>,
    /// A frame made by a form must give it (HJ 212's ST, CN, PW, MN, Flag).
    pub required: bool,
    /// Its value is exactly this many decimal digits (HJ 212's QN 17, ST 2, CN 4).
    pub digits: Option<usize>,
    /// Its value is a whole number (HJ 212's Flag, PNUM, PNO).
    pub number: bool,
}

/// One field, as written. Which attributes count depends on its `type`; the module
/// documentation of [`crate::protocol`] lists them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldSpec {
    /// Its name, unique among its siblings (`msg_id`).
    pub name: String,
    /// `u8` … `u64`, `i8` … `i64`, `u24`, `i24`, `f32`, `f64`, `bcd`, `bytes`, `str`,
    /// `const`, `group`, `repeat`, `switch`, `computed`, `checksum`, `csv`, `kv`, and in a
    /// `csv`: `text`, `int`, `dec`, `ddmm`, `hhmmss`, `ddmmyy`, `hex`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Its name for people.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Byte order, when not the spec's.
    pub endian: Option<Endian>,
    /// Word order of a 32- or 64-bit value.
    pub words: Option<WordOrder>,
    /// Its length in bytes (bytes, str, bcd, group, switch, csv, kv).
    pub len: Option<LenSpec>,
    /// How many times a repeat repeats (else: until its region ends).
    pub count: Option<LenSpec>,
    /// It ends before this text (escapes: `\r\n`, `\x00`).
    pub until: Option<String>,
    /// Its length is in a number of this type right before it (`u8`, `u16`).
    pub prefix: Option<String>,
    /// A run of this byte, as long as it lasts (DL/T 645's `FE` wake-up bytes).
    pub run: Option<u8>,
    /// Text encoding of a `str`: `ascii`, `utf-8`, `gbk`, `gb18030`.
    pub encoding: Option<String>,
    /// A `const`'s bytes as hex.
    pub hex: Option<String>,
    /// A `const`'s bytes as text (escapes work).
    pub text: Option<String>,
    /// Bit fields of a number: each with `start` and `width`.
    pub bits: Vec<Located<FieldSpec>>,
    /// A bit field's first bit (0 = least significant).
    pub start: Option<u8>,
    /// A bit field's width in bits.
    pub width: Option<u8>,
    /// Names of its values.
    pub values: Option<ValuesSpec>,
    /// Names of its set bits.
    pub flags: Vec<FlagSpec>,
    /// Shown as raw × scale + offset.
    pub scale: Option<f64>,
    /// Added after the scale.
    pub offset: Option<f64>,
    /// Unit shown after the value.
    pub unit: Option<String>,
    /// Decimals shown.
    pub decimals: Option<u8>,
    /// A `bcd` whose most significant bit is its sign, set for a negative value (DL/T 645's
    /// current, power and power factor: `81 23 45` is −1.2345 kW).
    pub signed: Option<bool>,
    /// How it is shown.
    pub show: Option<Show>,
    /// It is there only when this expression holds.
    pub when: Option<String>,
    /// A `computed` field's expression.
    pub value: Option<String>,
    /// The fields of a group or repeat.
    pub fields: Vec<Located<FieldSpec>>,
    /// A layout (from `layouts`) for a group or repeat.
    pub layout: Option<String>,
    /// A switch's (or csv's) expression.
    pub on: Option<String>,
    /// A switch's cases: (value, layout).
    pub cases: Vec<(Key, String)>,
    /// A switch's layout for other values (else the bytes are shown as they are).
    pub default: Option<String>,
    /// Each byte of its region has this added when sent (DL/T 645's `0x33`).
    pub sub: Option<u8>,
    /// A checksum's algorithm.
    pub algo: Option<Algo>,
    /// A checksum's covered fields: `"msg_id..body"` (from the first to the last, both
    /// included) or one name.
    pub over: Option<String>,
    /// Algorithms to name when the checksum fails but one of them holds.
    pub also: Vec<Algo>,
    /// Written as hex digits (`"hex"`), as NMEA and HJ 212 do; else binary.
    pub format: Option<String>,
    /// Between the columns of a csv, or the pairs of a kv.
    pub sep: Option<String>,
    /// Between a kv's key and value.
    pub eq: Option<String>,
    /// Values of a kv that hold more pairs.
    pub nested: Vec<NestedSpec>,
    /// What a kv's keys mean.
    pub keys: Vec<KeySpec>,
    /// This number is the length of these fields (`"body"`, `"a..b"`): written when sending.
    pub length_of: Option<String>,
    /// This number counts the items of this repeat: written when sending.
    pub count_of: Option<String>,
    /// The values the standard allows (`(1, 125)` registers a read may ask for): a form
    /// says a value outside them and starts from the lowest.
    pub range: Option<(i64, i64)>,
}

/// A named list of fields, the target of a switch's case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayoutSpec {
    /// Its name for people (a message's name).
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Parts added to the one-line summary (`"{lat:.6}°"`).
    pub summary: Vec<String>,
    /// The same parts in Chinese, where they hold words (else `summary` is used).
    pub summary_zh: Vec<String>,
    /// Its fields.
    pub fields: Vec<Located<FieldSpec>>,
}

/// The frame layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrameSpec {
    /// How a stream is cut into frames.
    pub cut: Option<FrameCut>,
    /// How the content between the start and end markers is escaped.
    pub escape: Option<ByteEscape>,
}

/// A whole spec.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Spec {
    /// Its short name (`jt808`): what `--protocol` takes.
    pub name: String,
    /// Other names it answers to.
    pub aliases: Vec<String>,
    /// Its title.
    pub title: String,
    /// Its title in Chinese.
    pub title_zh: String,
    /// Byte order of its numbers.
    pub endian: Endian,
    /// Its frame layer.
    pub frame: FrameSpec,
    /// The one-line summary's parts, `{field}` for a field shown; a part whose fields are
    /// missing is left out.
    pub summary: Vec<String>,
    /// The same parts in Chinese, where they hold words (else `summary` is used).
    pub summary_zh: Vec<String>,
    /// The frame's fields.
    pub fields: Vec<Located<FieldSpec>>,
    /// Named lists of fields.
    pub layouts: BTreeMap<String, Located<LayoutSpec>>,
    /// Named enums.
    pub enums: BTreeMap<String, Vec<EnumItem>>,
}

/// Something read from a spec and where it began in the text (a byte offset; 0 when the
/// value was not read from text).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Located<T> {
    /// Byte offset in the spec's text.
    pub at: usize,
    /// The thing.
    pub item: T,
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.item.serialize(s)
    }
}

/// Marks an error message that carries its absolute place (see [`Located`]'s reader).
const PLACE: char = '\u{1}';

fn options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME
            | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    )
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The value's own text, a slice of the spec's: its address is its place, and an
        // error inside it is placed by its address too (so nested errors keep theirs).
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        let text: &'de str = raw.get_ron();
        let lead = text.len() - text.trim_start().len();
        let at = text.as_ptr() as usize + lead;
        match options().from_str::<T>(text) {
            Ok(item) => Ok(Located { at, item }),
            Err(e) => {
                let message = e.code.to_string();
                if message.starts_with(PLACE) {
                    return Err(serde::de::Error::custom(message));
                }
                let offset = offset_of(text, e.span.start.line, e.span.start.col);
                let addr = text.as_ptr() as usize + offset;
                Err(serde::de::Error::custom(format!(
                    "{PLACE}{addr}{PLACE}{message}"
                )))
            }
        }
    }
}

/// The byte offset of a 1-based line and column (in characters) in `text`.
fn offset_of(text: &str, line: usize, col: usize) -> usize {
    let mut offset = 0;
    for (n, l) in text.split_inclusive('\n').enumerate() {
        if n + 1 == line {
            let within: usize = l
                .chars()
                .take(col.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + within;
        }
        offset += l.len();
    }
    text.len()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    (line, col)
}

/// Why a spec's text could not be read: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What the reader expected.
    pub message: String,
}

/// Reads a spec from its text. Places are made offsets into `text`.
pub fn parse(text: &str) -> Result<Spec, SyntaxError> {
    match options().from_str::<Spec>(text) {
        Ok(mut spec) => {
            relocate(&mut spec, text.as_ptr() as usize);
            Ok(spec)
        }
        Err(e) => {
            let message = e.code.to_string();
            // An error inside a field names its own place.
            if let Some(rest) = message.strip_prefix(PLACE)
                && let Some((addr, what)) = rest.split_once(PLACE)
                && let Ok(addr) = addr.parse::<usize>()
            {
                let offset = addr.saturating_sub(text.as_ptr() as usize);
                let (line, column) = line_col(text, offset);
                return Err(SyntaxError {
                    line,
                    column,
                    message: what.to_owned(),
                });
            }
            Err(SyntaxError {
                line: e.span.start.line,
                column: e.span.start.col,
                message,
            })
        }
    }
}

/// Makes every place (an address while reading) an offset from `base`.
fn relocate(spec: &mut Spec, base: usize) {
    fn fields(list: &mut [Located<FieldSpec>], base: usize) {
        for f in list {
            f.at = f.at.saturating_sub(base);
            fields(&mut f.item.fields, base);
            fields(&mut f.item.bits, base);
        }
    }
    fields(&mut spec.fields, base);
    for layout in spec.layouts.values_mut() {
        layout.at = layout.at.saturating_sub(base);
        fields(&mut layout.item.fields, base);
    }
}
