//! The interpreter the other way round: field values in, a frame out. Lengths (`length_of`),
//! counts (`count_of`) and checksums are computed, regions with a `sub` get it added, and the
//! content between the markers is escaped. What the values do not say is an error naming the
//! field, never a guess.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use super::compile::{CheckFormat, Column, Kind, Len, NodeId, Program};
use super::decode::{Env, Lookup, as_number, eval, pick, text_value};
use super::spec::WordOrder;
use super::{Dir, FieldValue, check};
use crate::expr::{Expr, Value};
use crate::i18n::{S, tf};

/// Nesting deeper than this is refused (as decoding refuses it).
const MAX_DEPTH: usize = 48;
/// Frames longer than this are not made.
const MAX_LEN: usize = crate::codec::framing::MAX_FRAME;

/// Why a frame could not be made of the values given: the field and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// The field's path (`body.lat`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tf(S::ProtoEncodeBad, &[&self.path, &self.message]))
    }
}

impl std::error::Error for EncodeError {}

/// A number written before what it counts or measures was: filled in once that is known.
struct Patch {
    /// Where the number (or the number holding the bit field) is in the buffer.
    at: usize,
    /// The number's node (a bit field's own node for bits).
    node: NodeId,
    /// For a bit field: the number it belongs to.
    parent: Option<NodeId>,
    /// The field's path, for errors.
    path: String,
    /// The first and last field measured, or the repeat counted.
    target: (String, String),
    /// A count rather than a length.
    count: bool,
}

struct Encoder<'p, 'v> {
    prog: &'p Program,
    vals: BTreeMap<&'v str, &'v FieldValue>,
    /// The values in the order given (a key–value text keeps it).
    order: Vec<(&'v str, &'v FieldValue)>,
    buf: Vec<u8>,
    env: Env,
    dir: Dir,
    depth: usize,
    patches: Vec<Patch>,
    /// Items each repeat got, by name (latest wins), for `count_of`.
    counts: BTreeMap<Arc<str>, usize>,
    /// Regions being made: a length of one is not known yet.
    open: Vec<Arc<str>>,
    /// Making a form: a field no value is given for gets a blank one (0, no text, zero
    /// bytes), kept in `filled`, instead of an error.
    fill: bool,
    /// The blank values given so far, by path.
    filled: BTreeMap<String, FieldValue>,
    /// In a form, each field met, in frame order, with its node.
    seen: Vec<(String, NodeId)>,
}

/// Makes a frame of `values` (paths as [`super::Decoded::values`] gives them).
pub(super) fn encode(
    prog: &Program,
    values: &[(String, FieldValue)],
    dir: Dir,
) -> Result<Vec<u8>, EncodeError> {
    encode_with(prog, values, dir, false).0
}

/// The blank value a form gives a field of this kind (0, no text, zeros of a fixed width);
/// `None` for what takes no value (groups, computed fields).
pub(super) fn blank_of(kind: &Kind) -> Option<FieldValue> {
    Some(match kind {
        Kind::Int { .. } | Kind::Bits { .. } => FieldValue::Int(0),
        Kind::Float { .. } => FieldValue::Float(0.0),
        Kind::Bcd(Len::Fixed(n)) => FieldValue::Text("0".repeat(n * 2)),
        Kind::Bcd(_) => FieldValue::Text("00".into()),
        Kind::Bytes(Len::Fixed(n)) => FieldValue::Bytes(vec![0; *n]),
        Kind::Bytes(_) => FieldValue::Bytes(Vec::new()),
        Kind::Str(..) | Kind::Column(_) => FieldValue::Text(String::new()),
        _ => return None,
    })
}

/// Makes a frame of `values`, a field without a value getting a blank one: the frame and the
/// blank values given (what a form shows for fields nobody filled in yet).
pub(super) fn encode_filling(prog: &Program, values: &[(String, FieldValue)], dir: Dir) -> Filled {
    encode_with(prog, values, dir, true)
}

/// A frame made for a form: the frame or why not, the blank values taken, and each field
/// met with its node.
pub(super) type Filled = (
    Result<Vec<u8>, EncodeError>,
    Vec<(String, FieldValue)>,
    Vec<(String, NodeId)>,
);

fn encode_with(prog: &Program, values: &[(String, FieldValue)], dir: Dir, fill: bool) -> Filled {
    let mut e = Encoder {
        prog,
        vals: values.iter().map(|(p, v)| (p.as_str(), v)).collect(),
        order: values.iter().map(|(p, v)| (p.as_str(), v)).collect(),
        buf: Vec::new(),
        env: Env::new(),
        dir,
        depth: 0,
        patches: Vec::new(),
        counts: BTreeMap::new(),
        open: Vec::new(),
        fill,
        filled: BTreeMap::new(),
        seen: Vec::new(),
    };
    let made = e.make();
    let filled = std::mem::take(&mut e.filled).into_iter().collect();
    (made.map(|buf| escape(prog, buf)), filled, e.seen)
}

/// The frame with its content between the markers escaped.
fn escape(prog: &Program, frame: Vec<u8>) -> Vec<u8> {
    let Some(esc) = &prog.escape else {
        return frame;
    };
    let (start, end) = (&prog.markers.0, &prog.markers.1);
    let head = if frame.starts_with(start) {
        start.len()
    } else {
        0
    };
    let tail = if frame.len() >= head + end.len() && frame.ends_with(end) {
        end.len()
    } else {
        0
    };
    let mut out = Vec::with_capacity(frame.len() + 8);
    out.extend_from_slice(frame.get(..head).unwrap_or_default());
    esc.escape(
        frame.get(head..frame.len() - tail).unwrap_or_default(),
        &mut out,
    );
    out.extend_from_slice(frame.get(frame.len() - tail..).unwrap_or_default());
    out
}

/// A number's bytes on the wire, the inverse of [`super::decode::read_uint`].
pub(super) fn write_uint(v: u64, width: usize, little: bool, words: WordOrder) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let mut out = bytes
        .get(8usize.saturating_sub(width)..)
        .unwrap_or_default()
        .to_vec();
    if out.len() >= 4 {
        // The word permutations are their own inverses; decoding reverses first, so
        // encoding reverses last.
        out = super::decode::order_bytes(&out, false, words);
    }
    if little {
        out.reverse();
    }
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The integer a value stands for.
fn int_of(v: &FieldValue) -> Option<i128> {
    match v {
        FieldValue::Int(n) => Some(*n),
        FieldValue::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(*f as i128),
        FieldValue::Text(t) => {
            let t = t.trim();
            match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => i128::from_str_radix(h, 16).ok(),
                None => t.parse().ok(),
            }
        }
        _ => None,
    }
}

/// Two's complement bits of `v` in `width` bytes, if it fits.
fn fit(v: i128, width: u8, signed: bool) -> Option<u64> {
    let bits = u32::from(width) * 8;
    let (lo, hi) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if v < lo || v > hi {
        return None;
    }
    let mask = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    Some((v as u64) & mask)
}

/// Hex digits (a broadcast address's `AA` too) packed two to a byte.
fn bcd_bytes(digits: &str, n: Option<usize>) -> Option<Vec<u8>> {
    let digits = digits.trim();
    let mut d: Vec<u8> = digits
        .chars()
        .map(|c| c.to_digit(16).map(|x| x as u8))
        .collect::<Option<_>>()?;
    if let Some(n) = n {
        if d.len() > n * 2 {
            return None;
        }
        let mut padded = vec![0u8; n * 2 - d.len()];
        padded.append(&mut d);
        d = padded;
    } else if d.len() % 2 == 1 {
        d.insert(0, 0);
    }
    Some(
        d.chunks(2)
            .map(|p| p.first().copied().unwrap_or(0) << 4 | p.get(1).copied().unwrap_or(0))
            .collect(),
    )
}

impl Encoder<'_, '_> {
    fn make(&mut self) -> Result<Vec<u8>, EncodeError> {
        let prog = self.prog;
        self.list(&prog.root, "")?;
        if let Some(FieldValue::Bytes(extra)) = self.vals.get("extra") {
            self.buf.extend_from_slice(extra);
        }
        self.resolve(true)?;
        Ok(std::mem::take(&mut self.buf))
    }

    /// In a form, a blank value for the field at `path` (and for each bit field of a number
    /// given none) when no value is given for it; what is computed (lengths, counts,
    /// checksums, constants) gets none.
    fn fill_blank(&mut self, node: &super::compile::Node, path: &str) {
        if !self.fill
            || self.vals.contains_key(path)
            || node.length_of.is_some()
            || node.count_of.is_some()
        {
            return;
        }
        let blank = match &node.kind {
            Kind::Int { bits, .. } if !bits.is_empty() => {
                let prog = self.prog;
                for &b in bits {
                    let Some(bn) = prog.node(b) else { continue };
                    let bpath = join(path, &bn.name);
                    if bn.length_of.is_none()
                        && bn.count_of.is_none()
                        && !self.vals.contains_key(bpath.as_str())
                    {
                        self.filled.entry(bpath).or_insert(FieldValue::Int(0));
                    }
                }
                return;
            }
            // As before blank_of served the form too: bit fields are filled with their
            // number, columns where a form shows every one.
            Kind::Bits { .. } | Kind::Column(_) => return,
            // The lowest the standard allows (a read asks for 1 register, not 0).
            Kind::Int { .. } if let Some((lo, _)) = node.range => FieldValue::Int(i128::from(lo)),
            kind => match blank_of(kind) {
                Some(blank) => blank,
                None => return,
            },
        };
        self.filled.entry(path.to_owned()).or_insert(blank);
    }

    #[expect(clippy::unused_self, reason = "reads as the other helpers do")]
    fn err(&self, path: &str, message: String) -> EncodeError {
        EncodeError {
            path: path.to_owned(),
            message,
        }
    }

    fn missing(&self, path: &str) -> EncodeError {
        self.err(path, tf(S::ProtoEncodeMissing, &[&path]))
    }

    fn value(&self, path: &str) -> Option<&FieldValue> {
        self.vals
            .get(path)
            .copied()
            .or_else(|| self.filled.get(path))
    }

    /// Any value at `path` or below it.
    fn present(&self, path: &str) -> bool {
        if self.vals.contains_key(path) {
            return true;
        }
        let below = format!("{path}.");
        self.vals
            .range::<str, _>((
                std::ops::Bound::Included(below.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|(k, _)| k.starts_with(&below))
    }

    fn eval(&self, expr: &Expr, path: &str) -> Result<Value, EncodeError> {
        let lookup = Lookup {
            env: &self.env,
            pos: self.buf.len(),
            end: self.buf.len(),
            dir: self.dir,
        };
        eval(expr, &self.buf, &lookup).map_err(|r| self.err(path, r))
    }

    fn list(&mut self, ids: &[NodeId], prefix: &str) -> Result<(), EncodeError> {
        for &id in ids {
            self.node(id, prefix)?;
        }
        Ok(())
    }

    fn enter(&mut self, path: &str) -> Result<(), EncodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(path, tf(S::ProtoTooDeep, &[&MAX_DEPTH])));
        }
        Ok(())
    }

    /// Pushes a field's value for the expressions after it.
    fn record(&mut self, name: &Arc<str>, value: Value, range: Range<usize>) {
        self.env.push(name.clone(), value, range, None);
    }

    /// Fills in every length and count whose fields are known; with `all`, one that cannot
    /// be is an error.
    fn resolve(&mut self, all: bool) -> Result<(), EncodeError> {
        let patches = std::mem::take(&mut self.patches);
        for p in patches {
            let unfinished = self
                .open
                .iter()
                .any(|o| **o == *p.target.0 || **o == *p.target.1);
            let n = if unfinished {
                None
            } else if p.count {
                self.counts.get(p.target.0.as_str()).copied()
            } else {
                let a = self.env.find(&p.target.0).map(|e| e.range.start);
                let b = self.env.find(&p.target.1).map(|e| e.range.end);
                match (a, b) {
                    (Some(a), Some(b)) if a <= b => Some(b - a),
                    _ => None,
                }
            };
            match n {
                Some(n) => self.write_patch(&p, n as u64)?,
                None if all => {
                    let what = if p.count {
                        p.target.0.clone()
                    } else {
                        format!("{}..{}", p.target.0, p.target.1)
                    };
                    return Err(self.err(&p.path, tf(S::ExprNoField, &[&what])));
                }
                None => self.patches.push(p),
            }
        }
        Ok(())
    }

    fn write_patch(&mut self, p: &Patch, n: u64) -> Result<(), EncodeError> {
        let prog = self.prog;
        let int_id = p.parent.unwrap_or(p.node);
        let Some(int) = prog.node(int_id) else {
            return Ok(());
        };
        if let Kind::Str(Len::Fixed(digits), _) = int.kind {
            // A length written as decimal digits.
            let text = format!("{n:0digits$}");
            if text.len() > digits {
                return Err(self.err(
                    &p.path,
                    tf(
                        S::ExprDoesNotFit,
                        &[
                            &n,
                            &super::counted(digits as u128, S::ProtoDigitsOne, S::ProtoDigits),
                        ],
                    ),
                ));
            }
            if let Some(slot) = self.buf.get_mut(p.at..p.at + digits) {
                slot.copy_from_slice(text.as_bytes());
            }
            return Ok(());
        }
        let Kind::Int { width, .. } = int.kind else {
            return Ok(());
        };
        let w = usize::from(width);
        let at = p.at..p.at + w;
        let old = self
            .buf
            .get(at.clone())
            .map_or(0, |b| super::decode::read_uint(b, int.little, int.words));
        let new = match prog.node(p.node).map(|n| &n.kind) {
            Some(Kind::Bits { start, width: bw }) if p.parent.is_some() => {
                let mask = if *bw >= 64 {
                    u64::MAX
                } else {
                    (1u64 << bw) - 1
                };
                if n > mask {
                    return Err(self.err(
                        &p.path,
                        tf(
                            S::ExprDoesNotFit,
                            &[&n, &super::counted(*bw, S::ProtoBitsOne, S::ProtoBits)],
                        ),
                    ));
                }
                (old & !(mask << start)) | (n << start)
            }
            _ => fit(i128::from(n), width, false).ok_or_else(|| {
                self.err(
                    &p.path,
                    tf(
                        S::ExprDoesNotFit,
                        &[
                            &n,
                            &super::counted(w as u128, S::ProtoBytesOne, S::ProtoBytes),
                        ],
                    ),
                )
            })?,
        };
        let bytes = write_uint(new, w, int.little, int.words);
        if let Some(slot) = self.buf.get_mut(at) {
            slot.copy_from_slice(&bytes);
        }
        Ok(())
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per field type, as the decoder has"
    )]
    fn node(&mut self, id: NodeId, prefix: &str) -> Result<(), EncodeError> {
        let prog = self.prog;
        let Some(node) = prog.node(id) else {
            return Ok(());
        };
        let name = node.name.clone();
        let path = join(prefix, &name);
        if let Some(when) = &node.when {
            let holds = self.eval(when, &path).is_ok_and(|v| v.truthy());
            // A condition on what follows (`remaining > 0`) cannot be known while making the
            // frame: the values say whether the field is there.
            let given = matches!(node.kind, Kind::Const(_)) && self.present(&path);
            if !holds && !given {
                return Ok(());
            }
        }
        let start = self.buf.len();
        if start > MAX_LEN {
            return Err(self.err(&path, tf(S::ErrFrameTooLong, &[&start, &MAX_LEN])));
        }
        if self.fill {
            self.seen.push((path.clone(), id));
        }
        self.fill_blank(node, &path);
        match &node.kind {
            Kind::Int {
                width,
                signed,
                bits,
            } => {
                let given = self.value(&path).cloned();
                let mut raw = match &given {
                    Some(v) => {
                        let n = int_of(v).ok_or_else(|| self.missing(&path))?;
                        fit(n, *width, *signed).ok_or_else(|| {
                            self.err(
                                &path,
                                tf(
                                    S::ExprDoesNotFit,
                                    &[&n, &super::counted(*width, S::ProtoBytesOne, S::ProtoBytes)],
                                ),
                            )
                        })?
                    }
                    None if node.length_of.is_some()
                        || node.count_of.is_some()
                        || !bits.is_empty() =>
                    {
                        0
                    }
                    None => return Err(self.missing(&path)),
                };
                // Bit fields given on their own win over the number (they are what a user
                // changes).
                let mut bit_values = Vec::new();
                for &b in bits {
                    let Some(bn) = prog.node(b) else { continue };
                    let Kind::Bits {
                        start: s,
                        width: bw,
                    } = bn.kind
                    else {
                        continue;
                    };
                    let bpath = join(&path, &bn.name);
                    if self.fill {
                        self.seen.push((bpath.clone(), b));
                    }
                    let mask = if bw >= 64 { u64::MAX } else { (1u64 << bw) - 1 };
                    if let Some(v) = self.value(&bpath) {
                        let n = int_of(v).ok_or_else(|| self.missing(&bpath))?;
                        let n = u64::try_from(n)
                            .ok()
                            .filter(|n| *n <= mask)
                            .ok_or_else(|| {
                                self.err(
                                    &bpath,
                                    tf(
                                        S::ExprDoesNotFit,
                                        &[&n, &super::counted(bw, S::ProtoBitsOne, S::ProtoBits)],
                                    ),
                                )
                            })?;
                        raw = (raw & !(mask << s)) | (n << s);
                    }
                    // A bit field given no value (nor its number) is 0: flags and reserved
                    // bits as a fresh frame has them (JT/T 808's encrypt, sub-package, version
                    // and reserved bits had each to be written out as 0).
                    bit_values.push((bn.name.clone(), b, bpath, s, mask));
                }
                let value = if *signed {
                    super::decode::signed(raw, *width)
                } else {
                    i128::from(raw)
                };
                self.buf.extend(write_uint(
                    raw,
                    usize::from(*width),
                    node.little,
                    node.words,
                ));
                self.record(&name, Value::Int(value), start..self.buf.len());
                if !bit_values.is_empty() {
                    let inner = self.env.open();
                    for (bname, b, bpath, s, mask) in bit_values {
                        self.record(
                            &bname,
                            Value::Int(i128::from((raw >> s) & mask)),
                            start..self.buf.len(),
                        );
                        if let Some(bn) = prog.node(b) {
                            if let Some(target) = &bn.length_of {
                                self.patches.push(Patch {
                                    at: start,
                                    node: b,
                                    parent: Some(id),
                                    path: bpath.clone(),
                                    target: target.clone(),
                                    count: false,
                                });
                            }
                            if let Some(target) = &bn.count_of {
                                self.patches.push(Patch {
                                    at: start,
                                    node: b,
                                    parent: Some(id),
                                    path: bpath,
                                    target: (target.clone(), target.clone()),
                                    count: true,
                                });
                            }
                        }
                    }
                    self.env.close();
                    self.env.set_inner_of_last_named(&name, inner);
                }
                if let Some(target) = &node.length_of {
                    self.patches.push(Patch {
                        at: start,
                        node: id,
                        parent: None,
                        path: path.clone(),
                        target: target.clone(),
                        count: false,
                    });
                }
                if let Some(target) = &node.count_of {
                    self.patches.push(Patch {
                        at: start,
                        node: id,
                        parent: None,
                        path,
                        target: (target.clone(), target.clone()),
                        count: true,
                    });
                }
            }
            Kind::Bits { .. } | Kind::Column(_) => {}
            Kind::Float { width } => {
                let v = match self.value(&path) {
                    Some(FieldValue::Float(f)) => *f,
                    Some(v) => int_of(v).ok_or_else(|| self.missing(&path))? as f64,
                    None => return Err(self.missing(&path)),
                };
                let raw = if *width == 4 {
                    u64::from((v as f32).to_bits())
                } else {
                    v.to_bits()
                };
                self.buf.extend(write_uint(
                    raw,
                    usize::from(*width),
                    node.little,
                    node.words,
                ));
                let shown = if v.is_finite() {
                    Value::Int(v.trunc() as i128)
                } else {
                    Value::Int(0)
                };
                self.record(&name, shown, start..self.buf.len());
            }
            Kind::Bcd(len) => {
                let digits = match self.value(&path) {
                    Some(FieldValue::Text(t)) => t.clone(),
                    Some(FieldValue::Int(n)) if *n >= 0 => n.to_string(),
                    // Bytes are the digits as hex shows them (a table's `12 34 56 78` is
                    // 12345678), whatever order the wire puts them in.
                    Some(FieldValue::Bytes(b)) => crate::codec::hex::format(b).replace(' ', ""),
                    _ => return Err(self.missing(&path)),
                };
                let fixed = match len {
                    Len::Fixed(n) => Some(*n),
                    _ => None,
                };
                let mut bytes = bcd_bytes(&digits, fixed).ok_or_else(|| {
                    self.err(
                        &path,
                        tf(
                            S::ProtoMismatch,
                            &[&digits, &format!("{} BCD bytes", fixed.unwrap_or(0))],
                        ),
                    )
                })?;
                if node.little {
                    bytes.reverse();
                }
                self.put_sized(len, &bytes, &path)?;
                self.record(&name, Value::Text(digits), start..self.buf.len());
            }
            Kind::Bytes(len) => {
                let bytes = match self.value(&path) {
                    Some(FieldValue::Bytes(b)) => b.clone(),
                    Some(FieldValue::Text(t)) => t.as_bytes().to_vec(),
                    None if matches!(len, Len::Fixed(0) | Len::Run(_)) => Vec::new(),
                    _ => return Err(self.missing(&path)),
                };
                if let Len::Fixed(n) = len
                    && bytes.len() != *n
                {
                    return Err(self.err(&path, tf(S::EncodeSizeGiven, &[n, &bytes.len()])));
                }
                self.put_sized(len, &bytes, &path)?;
                self.record(&name, Value::Bytes(bytes), start..self.buf.len());
            }
            Kind::Str(len, enc) => {
                let text = match (self.value(&path), len) {
                    (Some(FieldValue::Text(t)), _) => t.clone(),
                    (Some(FieldValue::Int(n)), _) => n.to_string(),
                    // Decimal digits written once what they measure is known (HJ 212's length).
                    (None, Len::Fixed(n)) if node.length_of.is_some() => "0".repeat(*n),
                    _ => return Err(self.missing(&path)),
                };
                let mut bytes = enc
                    .encode(&text)
                    .map_err(|e| self.err(&path, e.to_string()))?;
                if let Len::Fixed(n) = len {
                    if bytes.len() > *n {
                        return Err(self.err(&path, tf(S::EncodeTextTooLong, &[n, &bytes.len()])));
                    }
                    bytes.resize(*n, 0);
                }
                if matches!(len, Len::Nul) {
                    bytes.push(0);
                }
                self.put_sized(len, &bytes, &path)?;
                self.record(&name, text_value(&text), start..self.buf.len());
                if let Some(target) = &node.length_of {
                    self.patches.push(Patch {
                        at: start,
                        node: id,
                        parent: None,
                        path: path.clone(),
                        target: target.clone(),
                        count: false,
                    });
                }
            }
            Kind::Const(want) => {
                let bytes = match self.value(&path) {
                    Some(FieldValue::Bytes(b)) if b.len() == want.len() => b.clone(),
                    _ => want.clone(),
                };
                self.buf.extend_from_slice(&bytes);
                self.record(&name, Value::Bytes(bytes), start..self.buf.len());
            }
            Kind::Computed(expr) => {
                // A value given wins: a computed field may read bytes not written yet (Modbus
                // tells a reply by what follows).
                let v = match self.value(&path).map(FieldValue::to_value) {
                    Some(v) => v,
                    None => as_number(self.eval(expr, &path)?),
                };
                self.record(&name, v, start..start);
            }
            Kind::Group { children, .. } => {
                self.region(id, &name, &path, |e| e.list(children, &path))?;
            }
            Kind::Repeat { children, .. } => {
                self.record(&name, Value::Bytes(Vec::new()), start..start);
                let inner = self.env.open();
                self.enter(&path)?;
                self.open.push(name.clone());
                let mut n = 0usize;
                // Its items' bytes given whole (a rule's `table.holding[0..4]` as registers).
                if !self.present(&join(&path, "0"))
                    && let Some(FieldValue::Bytes(b)) = self.value(&path)
                {
                    let b = b.clone();
                    self.buf.extend_from_slice(&b);
                }
                while self.present(&join(&path, &n.to_string())) {
                    let item: Arc<str> = Arc::from(n.to_string());
                    let item_path = join(&path, &item);
                    let item_start = self.buf.len();
                    self.record(&item, Value::Bytes(Vec::new()), item_start..item_start);
                    let scope = self.env.open();
                    self.list(children, &item_path)?;
                    self.env.close();
                    self.env.set_inner_of_last_named(&item, scope);
                    n += 1;
                }
                self.open.pop();
                self.depth -= 1;
                self.env.close();
                self.env.set_inner_of_last_named(&name, inner);
                self.counts.insert(name.clone(), n);
                self.finish(&name, start);
            }
            Kind::Switch {
                on, cases, default, ..
            } => {
                let key = self.eval(on, &path)?;
                let layout = pick(cases, *default, &key);
                self.region(id, &name, &path, |e| {
                    match layout.and_then(|l| prog.layout(l)) {
                        Some(l) => e.list(&l.children, &path),
                        None => {
                            if let Some(FieldValue::Bytes(b)) = e.value(&join(&path, "raw")) {
                                let b = b.clone();
                                e.buf.extend_from_slice(&b);
                            }
                            Ok(())
                        }
                    }
                })?;
            }
            Kind::Checksum {
                algo,
                width,
                over,
                format,
                ..
            } => {
                self.resolve(false)?;
                let a = self.env.find(&over.0).map(|e| e.range.start);
                let b = self.env.find(&over.1).map(|e| e.range.end);
                let covered = match (a, b) {
                    (Some(a), Some(b)) if a <= b => a..b,
                    _ => {
                        return Err(self.err(
                            &path,
                            tf(S::ExprNoField, &[&format!("{}..{}", over.0, over.1)]),
                        ));
                    }
                };
                let data = self.buf.get(covered).unwrap_or_default();
                let sum = check::compute(algo, data).unwrap_or(0);
                match format {
                    CheckFormat::Binary => {
                        self.buf.extend(write_uint(
                            sum,
                            usize::from(*width),
                            node.little,
                            WordOrder::ABCD,
                        ));
                    }
                    CheckFormat::Hex => {
                        let text = format!("{sum:0w$X}", w = usize::from(*width) * 2);
                        self.buf.extend_from_slice(text.as_bytes());
                    }
                }
                self.record(&name, Value::Int(i128::from(sum)), start..self.buf.len());
            }
            Kind::Csv {
                len,
                sep,
                children,
                switch,
            } => {
                self.record(&name, Value::Bytes(Vec::new()), start..start);
                let inner = self.env.open();
                self.enter(&path)?;
                let mut cols: Vec<String> = Vec::new();
                self.columns(children, &path, &mut cols)?;
                if let Some((on, (cases, default))) = switch {
                    let key = self.eval(on, &path)?;
                    if let Some(l) = pick(cases, *default, &key).and_then(|l| prog.layout(l)) {
                        self.columns(&l.children, &path, &mut cols)?;
                    }
                }
                let mut k = cols.len();
                while let Some(FieldValue::Text(t)) = self.value(&join(&path, &format!("col_{k}")))
                {
                    cols.push(t.clone());
                    k += 1;
                }
                self.depth -= 1;
                self.env.close();
                self.env.set_inner_of_last_named(&name, inner);
                let mut bytes = Vec::new();
                for (i, c) in cols.iter().enumerate() {
                    if i > 0 {
                        bytes.extend_from_slice(sep);
                    }
                    bytes.extend_from_slice(c.as_bytes());
                }
                self.put_sized(len, &bytes, &path)?;
                self.finish(&name, start);
            }
            Kind::Kv {
                len,
                sep,
                eq,
                nested,
                ..
            } => {
                let bytes = self.kv(&path, sep, eq, nested);
                self.record(&name, Value::Bytes(Vec::new()), start..start);
                self.put_sized(len, &bytes, &path)?;
                self.finish(&name, start);
            }
        }
        Ok(())
    }

    /// A group's or switch's region: its fields, what the decoder found after them, and
    /// its `sub` added.
    fn region(
        &mut self,
        id: NodeId,
        name: &Arc<str>,
        path: &str,
        fields: impl FnOnce(&mut Self) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let start = self.buf.len();
        self.record(name, Value::Bytes(Vec::new()), start..start);
        let inner = self.env.open();
        self.enter(path)?;
        self.open.push(name.clone());
        fields(self)?;
        if let Some(FieldValue::Bytes(extra)) = self.value(&join(path, "extra")) {
            let extra = extra.clone();
            self.buf.extend_from_slice(&extra);
        }
        self.open.pop();
        self.depth -= 1;
        self.env.close();
        self.env.set_inner_of_last_named(name, inner);
        self.finish(name, start);
        // Lengths of what is inside are known now, before `sub` changes the bytes.
        self.resolve(false)?;
        if let Some(k) = self.prog.node(id).and_then(|n| n.sub)
            && let Some(region) = self.buf.get_mut(start..)
        {
            for b in region {
                *b = b.wrapping_add(k);
            }
        }
        self.finish(name, start);
        Ok(())
    }

    /// The latest entry called `name` covers the bytes from `start`.
    fn finish(&mut self, name: &str, start: usize) {
        let end = self.buf.len();
        let bytes = self.buf.get(start..).unwrap_or_default().to_vec();
        self.env
            .set_last_named(name, Value::Bytes(bytes), start..end);
    }

    /// Bytes of a sized field: a length prefix written first.
    fn put_sized(&mut self, len: &Len, bytes: &[u8], path: &str) -> Result<(), EncodeError> {
        if let Len::Prefix(ty) = len {
            let n = bytes.len() as u64;
            let raw = fit(i128::from(n), ty.bytes, false)
                .ok_or_else(|| self.err(path, tf(S::ExprDoesNotFit, &[&n, &ty.name()])))?;
            self.buf.extend(write_uint(
                raw,
                usize::from(ty.bytes),
                ty.little,
                WordOrder::ABCD,
            ));
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn columns(
        &mut self,
        ids: &[NodeId],
        prefix: &str,
        cols: &mut Vec<String>,
    ) -> Result<(), EncodeError> {
        let prog = self.prog;
        for &id in ids {
            let Some(node) = prog.node(id) else { continue };
            let path = join(prefix, &node.name);
            if let Some(when) = &node.when
                && !self.eval(when, &path).is_ok_and(|v| v.truthy())
            {
                continue;
            }
            match &node.kind {
                Kind::Column(col) => {
                    if self.fill {
                        // A form: every column shown, an empty one blank.
                        self.seen.push((path.clone(), id));
                        if !self.vals.contains_key(path.as_str()) {
                            self.filled
                                .entry(path.clone())
                                .or_insert_with(|| FieldValue::Text(String::new()));
                        }
                    }
                    // Older sentences have fewer columns: the first one missing ends them.
                    let Some(v) = self.value(&path) else {
                        return Ok(());
                    };
                    let text = match v {
                        FieldValue::Text(t) => t.clone(),
                        FieldValue::Int(n) => n.to_string(),
                        FieldValue::Float(f) => f.to_string(),
                        _ => String::new(),
                    };
                    let value = match col {
                        Column::Int => super::decode::text_value(&text),
                        _ => Value::Text(text.clone()),
                    };
                    let at = self.buf.len();
                    self.record(&node.name, value, at..at);
                    cols.push(text);
                }
                Kind::Computed(expr) => {
                    let v = match self.value(&path).map(FieldValue::to_value) {
                        Some(v) => v,
                        None => as_number(self.eval(expr, &path)?),
                    };
                    let at = self.buf.len();
                    self.record(&node.name, v, at..at);
                }
                Kind::Repeat { children, .. } => {
                    let mut n = 0usize;
                    while self.present(&join(&path, &n.to_string())) {
                        let item_path = join(&path, &n.to_string());
                        let item: Arc<str> = Arc::from(n.to_string());
                        let at = self.buf.len();
                        self.record(&item, Value::Bytes(Vec::new()), at..at);
                        let scope = self.env.open();
                        self.columns(children, &item_path, cols)?;
                        self.env.close();
                        self.env.set_inner_of_last_named(&item, scope);
                        n += 1;
                    }
                    self.counts.insert(node.name.clone(), n);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `key=value` pairs in the order the values list them; a nested key's groups inside its
    /// open and close texts.
    fn kv(&self, path: &str, sep: &[u8], eq: &[u8], nested: &[super::spec::NestedSpec]) -> Vec<u8> {
        let below = format!("{path}.");
        let mut out: Vec<u8> = Vec::new();
        let mut done: Vec<&str> = Vec::new();
        let mut first = true;
        for &(key_path, value) in &self.order {
            let Some(rest) = key_path.strip_prefix(&below) else {
                continue;
            };
            let key = rest.split('.').next().unwrap_or(rest);
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            if !first {
                out.extend_from_slice(sep);
            }
            first = false;
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(eq);
            let group_prefix = format!("{below}{key}.");
            match nested.iter().find(|n| n.key == key) {
                Some(n) if self.present(&format!("{group_prefix}0")) => {
                    out.extend_from_slice(n.open.as_bytes());
                    let mut g = 0usize;
                    loop {
                        let gp = format!("{group_prefix}{g}");
                        if !self.present(&gp) {
                            break;
                        }
                        if g > 0 {
                            out.extend_from_slice(n.groups.as_bytes());
                        }
                        out.extend(self.kv(&gp, n.sep.as_bytes(), b"=", &[]));
                        g += 1;
                    }
                    out.extend_from_slice(n.close.as_bytes());
                }
                _ => {
                    if let FieldValue::Text(t) = value {
                        out.extend_from_slice(t.as_bytes());
                    } else if let Some(n) = int_of(value) {
                        out.extend_from_slice(n.to_string().as_bytes());
                    }
                }
            }
        }
        out
    }
}
