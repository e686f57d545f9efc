//! The interpreter: a frame's bytes in, a tree of named fields out. Never panics; a frame that
//! does not fit its spec keeps every byte and says which field stopped where.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::Arc;
use std::time::SystemTime;

use super::compile::{CheckFormat, Column, Kind, LayoutId, Len, NodeId, Program};
use super::spec::{Key, WordOrder};
use super::{Decoded, Dir, Field, FieldValue, Note, Role, Stop, Verdict, check};
use crate::expr::{Ctx, Expr, Fields, Value};
use crate::i18n::{S, tf};

/// Nested groups, repeats and switches deeper than this stop decoding (a layout whose switch
/// chooses itself cannot recurse without end).
const MAX_DEPTH: usize = 48;
/// A repeat stops after this many items.
const MAX_ITEMS: usize = 65_536;

static NO_TABLES: BTreeMap<String, Vec<u8>> = BTreeMap::new();

/// A value read so far, for the expressions after it.
pub(super) struct Entry {
    scope: u32,
    name: Arc<str>,
    value: Value,
    /// Its bytes in the decoder's buffer.
    pub(super) range: Range<usize>,
    /// The scope of its own fields (a group, a number's bits).
    inner: Option<u32>,
}

/// Values read so far and the scopes that are open.
#[derive(Default)]
pub(super) struct Env {
    entries: Vec<Entry>,
    stack: Vec<u32>,
    next: u32,
}

impl Env {
    pub(super) fn new() -> Self {
        Self {
            entries: Vec::with_capacity(64),
            stack: vec![0],
            next: 1,
        }
    }

    fn scope(&self) -> u32 {
        self.stack.last().copied().unwrap_or(0)
    }

    /// Opens a new scope (for a group's fields); returns its id.
    pub(super) fn open(&mut self) -> u32 {
        let id = self.next;
        self.next += 1;
        self.stack.push(id);
        id
    }

    pub(super) fn close(&mut self) {
        if self.stack.len() > 1 {
            self.stack.pop();
        }
    }

    pub(super) fn push(
        &mut self,
        name: Arc<str>,
        value: Value,
        range: Range<usize>,
        inner: Option<u32>,
    ) {
        let scope = self.scope();
        self.entries.push(Entry {
            scope,
            name,
            value,
            range,
            inner,
        });
    }

    /// Gives the latest entry called `name` in this scope its value and bytes (a region's,
    /// once its fields are read).
    pub(super) fn set_last_named(&mut self, name: &str, value: Value, range: Range<usize>) {
        let scope = self.scope();
        if let Some(e) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.scope == scope && &*e.name == name)
        {
            e.value = value;
            e.range = range;
        }
    }

    fn find_in(&self, scope: u32, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.scope == scope && &*e.name == name)
    }

    /// `name` or `a.b.c`: the first part in the open scopes, innermost first, then anywhere
    /// (latest first); each further part among the fields of the one before.
    pub(super) fn find(&self, name: &str) -> Option<&Entry> {
        let (first, rest) = match name.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (name, None),
        };
        // One pass from the latest: an open scope's entries all come after those of the
        // scopes around it, so the first match in an open scope is the innermost one.
        let mut anywhere = None;
        let mut found = None;
        for e in self.entries.iter().rev() {
            if *e.name != *first {
                continue;
            }
            if self.stack.contains(&e.scope) {
                found = Some(e);
                break;
            }
            anywhere.get_or_insert(e);
        }
        let mut entry = found.or(anywhere)?;
        if let Some(rest) = rest {
            for part in rest.split('.') {
                entry = self.find_in(entry.inner?, part)?;
            }
        }
        Some(entry)
    }
}

/// What a spec expression reads: fields so far, and `pos`, `remaining`, `dir`.
pub(super) struct Lookup<'a> {
    pub(super) env: &'a Env,
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) dir: Dir,
}

impl Fields for Lookup<'_> {
    fn field(&self, name: &str) -> Option<Value> {
        if let Some(e) = self.env.find(name) {
            return Some(e.value.clone());
        }
        Some(match name {
            "pos" => Value::Int(self.pos as i128),
            "remaining" => Value::Int(self.end.saturating_sub(self.pos) as i128),
            "dir" => Value::Int(self.dir as i128),
            _ => return None,
        })
    }
}

/// Evaluates `expr` over `rx` with `fields`.
pub(super) fn eval(expr: &Expr, rx: &[u8], fields: &dyn Fields) -> Result<Value, String> {
    let cx = Ctx {
        rx,
        caps: &[],
        state: "",
        peer: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
        tables: &NO_TABLES,
        now: SystemTime::UNIX_EPOCH,
        counter: 0,
        vars: &[],
        fields,
    };
    expr.eval(&cx).map_err(|e| e.0)
}

/// A key as a value compares with it: numbers with numbers, texts with texts or bytes.
pub(super) fn key_matches(key: &Key, value: &Value) -> bool {
    match (key, value) {
        (Key::Int(k), Value::Int(v)) => i128::from(*k) == *v,
        (Key::Int(k), Value::Text(t)) => t.trim().parse::<i128>().ok() == Some(i128::from(*k)),
        (Key::Text(k), Value::Text(t)) => k == t,
        (Key::Text(k), Value::Bytes(b)) => k.as_bytes() == b.as_slice(),
        _ => false,
    }
}

/// The case a value picks.
pub(super) fn pick(
    cases: &[(Key, LayoutId)],
    default: Option<LayoutId>,
    value: &Value,
) -> Option<LayoutId> {
    cases
        .iter()
        .find(|(k, _)| key_matches(k, value))
        .map(|(_, l)| *l)
        .or(default)
}

/// Reads `width` bytes as an unsigned number in the node's byte and word order.
pub(super) fn read_uint(bytes: &[u8], little: bool, words: WordOrder) -> u64 {
    let ordered = order_bytes(bytes, little, words);
    ordered.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b))
}

/// Bytes as they are on the wire → most significant first (and back: the permutations are
/// their own inverses).
pub(super) fn order_bytes(bytes: &[u8], little: bool, words: WordOrder) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if little {
        out.reverse();
    }
    if out.len() >= 4 {
        match words {
            WordOrder::ABCD => {}
            WordOrder::CDAB => {
                for pair in out.chunks_exact_mut(4) {
                    pair.rotate_left(2);
                }
                if out.len() == 8 {
                    // A 64-bit value: the word pairs swap too.
                    out.rotate_left(4);
                }
            }
            WordOrder::BADC => {
                for word in out.chunks_exact_mut(2) {
                    word.reverse();
                }
            }
            WordOrder::DCBA => out.reverse(),
        }
    }
    out
}

/// Sign-extends a `width`-byte number.
pub(super) fn signed(raw: u64, width: u8) -> i128 {
    let bits = u32::from(width) * 8;
    if bits >= 64 {
        return i128::from(raw.cast_signed());
    }
    if raw >> (bits - 1) & 1 == 1 {
        i128::from(raw) - (1i128 << bits)
    } else {
        i128::from(raw)
    }
}

/// Packed decimal digits as text (a nibble above 9 is written as its hex digit, as meters
/// show `AAAAAAAAAAAA` for a broadcast address).
pub(super) fn bcd_text(bytes: &[u8], little: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    let mut push = |b: u8| {
        for nibble in [b >> 4, b & 0x0F] {
            out.push(
                char::from_digit(u32::from(nibble), 16).map_or('?', |c| c.to_ascii_uppercase()),
            );
        }
    };
    if little {
        bytes.iter().rev().for_each(|b| push(*b));
    } else {
        for b in bytes {
            push(*b);
        }
    }
    out
}

/// The interpreter's state for one frame.
pub(super) struct Decoder<'p> {
    prog: &'p Program,
    /// The frame, unescaped; regions with a `sub` are changed in place as they are read.
    buf: Vec<u8>,
    /// The frame, unescaped, as sent: what checksums cover (DL/T 645 sums its bytes with
    /// their 0x33 added).
    wire: Vec<u8>,
    /// Where each byte of `buf` began in the frame as received, and one entry more.
    starts: Option<Vec<usize>>,
    env: Env,
    dir: Dir,
    depth: usize,
    /// The decoded path so far, for messages.
    path: Vec<Arc<str>>,
    /// The first value its type does not allow (a BCD reading with a digit above 9).
    bad_value: Option<Stop>,
}

/// Decodes one frame.
pub(super) fn decode(prog: &Program, frame: &[u8], dir: Dir) -> Decoded {
    let (buf, starts, bad_escape) = unescape(prog, frame);
    let mut d = Decoder {
        prog,
        wire: buf.clone(),
        buf,
        starts,
        env: Env::new(),
        dir,
        depth: 0,
        path: Vec::new(),
        bad_value: None,
    };
    let mut fields = Vec::new();
    let mut pos = 0;
    let end = d.buf.len();
    // A broken escape (JT/T 808's 7D 03): every byte after it is in doubt, so decoding
    // stops there and says so, rather than blaming the check code and the end flag.
    let escape_at = bad_escape.and_then(|raw| {
        let k = d.starts.as_ref()?.iter().position(|s| *s == raw)?;
        let pair = frame.get(raw..(raw + 2).min(frame.len()))?;
        Some((
            k,
            tf(S::ProtoBadEscape, &[&crate::codec::hex::format(pair), &raw]),
        ))
    });
    let stop = match escape_at {
        Some((k, reason)) => {
            let stop = d.list(&prog.root, k, &mut pos, &mut fields).err();
            Some(match stop {
                Some(s) => Stop { reason, ..s },
                None => d.stop(pos, "undecoded", reason),
            })
        }
        None => d.list(&prog.root, end, &mut pos, &mut fields).err(),
    };
    let rest_from = stop.as_ref().map_or(pos, |s| s.buf_at);
    if rest_from < end {
        let role = if stop.is_some() {
            Role::Undecoded
        } else {
            Role::Extra
        };
        let name = if stop.is_some() { "undecoded" } else { "extra" };
        let value = FieldValue::Bytes(d.buf.get(rest_from..).unwrap_or_default().to_vec());
        fields.push(d.plain(name, role, rest_from..end, value));
    }
    let stop = stop.map(|s| Stop {
        at: d.raw(s.buf_at),
        ..s
    });
    let bad_value = d.bad_value.take().map(|s| Stop {
        at: d.raw(s.buf_at),
        ..s
    });
    Decoded {
        fields,
        stop,
        bad_escape,
        bad_value,
        len: frame.len(),
    }
}

/// The frame without its escaping, and where each byte began.
fn unescape(prog: &Program, frame: &[u8]) -> (Vec<u8>, Option<Vec<usize>>, Option<usize>) {
    let Some(escape) = &prog.escape else {
        return (frame.to_vec(), None, None);
    };
    let (start, end) = (&prog.markers.0, &prog.markers.1);
    let (head, tail) = if frame.len() >= start.len() + end.len()
        && frame.starts_with(start)
        && frame.ends_with(end)
    {
        (start.len(), end.len())
    } else if frame.starts_with(start) {
        (start.len(), 0)
    } else {
        (0, 0)
    };
    let mut buf = Vec::with_capacity(frame.len());
    let mut starts = Vec::with_capacity(frame.len() + 1);
    buf.extend_from_slice(frame.get(..head).unwrap_or_default());
    starts.extend(0..head);
    let content = frame.get(head..frame.len() - tail).unwrap_or_default();
    let mut unescaped = Vec::with_capacity(content.len());
    let mut content_starts = Vec::with_capacity(content.len() + 1);
    let bad = escape.unescape(content, head, &mut unescaped, &mut content_starts);
    buf.extend_from_slice(&unescaped);
    content_starts.pop();
    starts.extend(content_starts);
    starts.extend(frame.len() - tail..=frame.len());
    buf.extend_from_slice(frame.get(frame.len() - tail..).unwrap_or_default());
    (buf, Some(starts), bad.map(|b| b.at))
}

/// A stop before it is placed in the frame as received.
type Stopped = Result<(), Stop>;

impl Decoder<'_> {
    /// An offset in `buf` as an offset in the frame as received.
    fn raw(&self, at: usize) -> usize {
        match &self.starts {
            Some(starts) => starts
                .get(at)
                .copied()
                .unwrap_or_else(|| starts.last().copied().unwrap_or(at)),
            None => at,
        }
    }

    fn raw_range(&self, r: Range<usize>) -> Range<usize> {
        self.raw(r.start)..self.raw(r.end)
    }

    fn plain(&self, name: &str, role: Role, r: Range<usize>, value: FieldValue) -> Field {
        Field {
            name: Arc::from(name),
            node: None,
            layout: None,
            role,
            range: self.raw_range(r),
            value,
            note: None,
            children: Vec::new(),
        }
    }

    fn stop(&self, at: usize, name: &str, reason: String) -> Stop {
        let mut path: Vec<&str> = self.path.iter().map(|p| &**p).collect();
        if !name.is_empty() {
            path.push(name);
        }
        Stop {
            path: path.join("."),
            at,
            buf_at: at,
            reason,
        }
    }

    fn eval_at(&self, expr: &Expr, pos: usize, end: usize) -> Result<Value, String> {
        let lookup = Lookup {
            env: &self.env,
            pos,
            end,
            dir: self.dir,
        };
        eval(expr, &self.buf, &lookup)
    }

    fn eval_int(&self, expr: &Expr, pos: usize, end: usize) -> Result<i128, String> {
        match self.eval_at(expr, pos, end)? {
            Value::Int(n) => Ok(n),
            Value::Bool(b) => Ok(i128::from(b)),
            other => Err(tf(
                S::ExprNeeds,
                &[&crate::i18n::t(S::ExprKindInt), &other.kind()],
            )),
        }
    }

    /// A BCD field's digits: with a `-` when its sign bit (`signed`) is set. A reading (a
    /// signed BCD, or one with a scale, offset or decimals) with a digit above 9 is not a
    /// number: the first such is kept to make the frame unsound. Other BCD (a meter address)
    /// may hold `A`s, as a broadcast address does.
    fn bcd_reading(
        &self,
        node: &super::compile::Node,
        body: &[u8],
        start: usize,
    ) -> (String, Option<Stop>) {
        let mut bytes = body.to_vec();
        let top = if node.little {
            bytes.last_mut()
        } else {
            bytes.first_mut()
        };
        let negative = match top {
            Some(b) if node.signed && *b & 0x80 != 0 => {
                *b &= 0x7F;
                true
            }
            _ => false,
        };
        let digits = bcd_text(&bytes, node.little);
        let reading = node.signed
            || node.look.scale.is_some()
            || node.look.offset.is_some()
            || node.look.decimals.is_some();
        let bad = digits
            .chars()
            .find(|c| !c.is_ascii_digit())
            .filter(|_| reading)
            .map(|bad| self.stop(start, &node.name, tf(S::ProtoNotBcd, &[&digits, &bad])));
        let digits = if negative {
            format!("-{digits}")
        } else {
            digits
        };
        (digits, bad)
    }

    /// The bytes a length covers from `pos`, within `end`.
    fn length(
        &self,
        len: &Len,
        pos: usize,
        end: usize,
        reserve: usize,
        name: &str,
    ) -> Result<usize, Stop> {
        let avail = end.saturating_sub(pos);
        let n = match len {
            Len::Fixed(n) => *n,
            Len::Rest => {
                let stop_at = if reserve == usize::MAX {
                    end
                } else {
                    end.saturating_sub(reserve)
                };
                stop_at.saturating_sub(pos)
            }
            Len::Expr(e) => {
                let n = self
                    .eval_int(e, pos, end)
                    .map_err(|r| self.stop(pos, name, r))?;
                usize::try_from(n)
                    .map_err(|_| self.stop(pos, name, tf(S::ProtoBadLength, &[&n])))?
            }
            Len::Until(text) => {
                let hay = self.buf.get(pos..end).unwrap_or_default();
                memchr::memmem::find(hay, text).unwrap_or(avail)
            }
            Len::Nul => {
                let hay = self.buf.get(pos..end).unwrap_or_default();
                memchr::memchr(0, hay).map_or(avail, |at| at + 1)
            }
            Len::Prefix(ty) => {
                let width = usize::from(ty.bytes);
                let n = self
                    .buf
                    .get(pos..end)
                    .and_then(|b| ty.read(b))
                    .ok_or_else(|| self.stop(pos, name, super::short(width, avail)))?;
                width + usize::try_from(n).unwrap_or(usize::MAX)
            }
            Len::Run(byte) => self
                .buf
                .get(pos..end)
                .unwrap_or_default()
                .iter()
                .take_while(|b| *b == byte)
                .count(),
        };
        if n > avail {
            return Err(self.stop(pos, name, super::short(n, avail)));
        }
        Ok(n)
    }

    fn list(
        &mut self,
        ids: &[NodeId],
        end: usize,
        pos: &mut usize,
        out: &mut Vec<Field>,
    ) -> Stopped {
        let first = out.len();
        // Each field read and its bytes in `buf` (not as received: lengths count unescaped
        // bytes), for the length fields' check.
        let mut spans: Vec<(Arc<str>, Range<usize>)> = Vec::new();
        for &id in ids {
            let (before, from) = (out.len(), *pos);
            self.node(id, end, pos, out)?;
            if out.len() > before
                && let Some(node) = self.prog.node(id)
            {
                spans.push((node.name.clone(), from..*pos));
            }
        }
        self.lengths_hold(out.get(first..).unwrap_or_default(), &spans, *pos)
    }

    /// Every length field of a list just read (`length_of`) against the bytes its fields
    /// took: a region read to the end (`len: "*"`, Modbus TCP's PDU) is as long as the frame,
    /// not as its length field says, so a frame shorter or longer than its length says is
    /// stopped here rather than called whole.
    fn lengths_hold(
        &self,
        fields: &[Field],
        spans: &[(Arc<str>, Range<usize>)],
        pos: usize,
    ) -> Stopped {
        let prog = self.prog;
        // A count field (`count_of`) against the items of its list (Modbus's quantity against
        // the registers written: 10 said and 2 sent is refused by a device).
        for f in fields {
            let Some(list) = f
                .node
                .and_then(|id| prog.node(id))
                .and_then(|n| n.count_of.as_deref())
            else {
                continue;
            };
            let (Value::Int(said), Some(items)) =
                (f.value.to_value(), fields.iter().find(|x| &*x.name == list))
            else {
                continue;
            };
            let got = items.children.len();
            if i128::try_from(got).ok() != Some(said) {
                return Err(self.stop(pos, &f.name, tf(S::ProtoCountSays, &[&said, &got])));
            }
        }
        if spans.is_empty() {
            return Ok(());
        }
        for f in fields {
            let Some(node) = f.node.and_then(|id| prog.node(id)) else {
                continue;
            };
            let mut lengths = vec![(node, &f.value)];
            for b in &f.children {
                if let Some(bn) = b.node.and_then(|id| prog.node(id))
                    && matches!(bn.kind, Kind::Bits { .. })
                {
                    lengths.push((bn, &b.value));
                }
            }
            for (n, value) in lengths {
                let Some(over) = &n.length_of else { continue };
                let Value::Int(said) = value.to_value() else {
                    continue;
                };
                // Only fields read in this list: one absent (its `when` did not hold) is
                // not measured.
                let took = |name: &str| {
                    spans
                        .iter()
                        .find(|(n, _)| &**n == name)
                        .map(|(_, r)| r.clone())
                };
                let (Some(a), Some(b)) = (took(&over.0), took(&over.1)) else {
                    continue;
                };
                let got = b.end.saturating_sub(a.start);
                if i128::try_from(got).ok() != Some(said) {
                    return Err(self.stop(pos, &n.name, tf(S::ProtoLengthSays, &[&said, &got])));
                }
            }
        }
        Ok(())
    }

    fn enter(&mut self, name: &Arc<str>, at: usize) -> Stopped {
        self.depth += 1;
        self.path.push(name.clone());
        if self.depth > MAX_DEPTH {
            return Err(self.stop(at, "", tf(S::ProtoTooDeep, &[&MAX_DEPTH])));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.path.pop();
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per field type reads best in one place"
    )]
    fn node(&mut self, id: NodeId, end: usize, pos: &mut usize, out: &mut Vec<Field>) -> Stopped {
        let prog = self.prog;
        let Some(node) = prog.node(id) else {
            return Ok(());
        };
        let name = &node.name;
        if let Some(when) = &node.when {
            let holds = self
                .eval_at(when, *pos, end)
                .map_err(|r| self.stop(*pos, name, r))?
                .truthy();
            if !holds {
                return Ok(());
            }
        }
        let start = *pos;
        let avail = end.saturating_sub(start);
        let mut field = Field {
            name: name.clone(),
            node: Some(id),
            layout: None,
            role: Role::Node,
            range: start..start,
            value: FieldValue::None,
            note: None,
            children: Vec::new(),
        };
        let take = |n: usize, this: &Self| -> Result<Range<usize>, Stop> {
            if n > avail {
                Err(this.stop(start, name, super::short(n, avail)))
            } else {
                Ok(start..start + n)
            }
        };
        match &node.kind {
            Kind::Int {
                width,
                signed: is_signed,
                bits,
            } => {
                let r = take(usize::from(*width), self)?;
                let bytes = self.buf.get(r.clone()).unwrap_or_default();
                let raw = read_uint(bytes, node.little, node.words);
                let value = if *is_signed {
                    signed(raw, *width)
                } else {
                    i128::from(raw)
                };
                field.value = FieldValue::Int(value);
                field.range = self.raw_range(r.clone());
                self.env
                    .push(name.clone(), Value::Int(value), r.clone(), None);
                if !bits.is_empty() {
                    let inner = self.env.open();
                    for &b in bits {
                        let Some(bn) = prog.node(b) else { continue };
                        let Kind::Bits { start: s, width: w } = bn.kind else {
                            continue;
                        };
                        let v = (raw >> s) & if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
                        self.env
                            .push(bn.name.clone(), Value::Int(i128::from(v)), r.clone(), None);
                        field.children.push(Field {
                            name: bn.name.clone(),
                            node: Some(b),
                            layout: None,
                            role: Role::Node,
                            range: self.raw_range(r.clone()),
                            value: FieldValue::Int(i128::from(v)),
                            note: None,
                            children: Vec::new(),
                        });
                    }
                    self.env.close();
                    self.env.set_inner_of_last_named(name, inner);
                }
                *pos = r.end;
            }
            Kind::Bits { .. } | Kind::Column(_) => {}
            Kind::Float { width } => {
                let r = take(usize::from(*width), self)?;
                let bytes = self.buf.get(r.clone()).unwrap_or_default();
                let raw = read_uint(bytes, node.little, node.words);
                let v = if *width == 4 {
                    f64::from(f32::from_bits(raw as u32))
                } else {
                    f64::from_bits(raw)
                };
                field.value = FieldValue::Float(v);
                field.range = self.raw_range(r.clone());
                self.env.push(name.clone(), float_value(v), r.clone(), None);
                *pos = r.end;
            }
            Kind::Bcd(len) | Kind::Bytes(len) | Kind::Str(len, _) => {
                let n = self.length(len, start, end, node.reserve, name)?;
                let r = start..start + n;
                let all = self.buf.get(r.clone()).unwrap_or_default();
                // A length prefix is part of the field's bytes, not of its value.
                let body = match len {
                    Len::Prefix(ty) => all.get(usize::from(ty.bytes)..).unwrap_or_default(),
                    _ => all,
                };
                let mut bad_value = None;
                let (value, expr_value) = match &node.kind {
                    Kind::Bcd(_) => {
                        let (digits, bad) = self.bcd_reading(node, body, start);
                        bad_value = bad;
                        (FieldValue::Text(digits.clone()), Value::Text(digits))
                    }
                    Kind::Str(_, enc) => {
                        let body = match len {
                            Len::Nul => body.strip_suffix(&[0]).unwrap_or(body),
                            Len::Fixed(_) => trim_nul(body),
                            _ => body,
                        };
                        let text = enc.decode_complete(body);
                        // Digits read as a number (HJ 212's length `0113`).
                        (FieldValue::Text(text.clone()), text_value(&text))
                    }
                    _ => (
                        FieldValue::Bytes(body.to_vec()),
                        Value::Bytes(body.to_vec()),
                    ),
                };
                if self.bad_value.is_none() {
                    self.bad_value = bad_value;
                }
                field.value = value;
                field.range = self.raw_range(r.clone());
                self.env.push(name.clone(), expr_value, r.clone(), None);
                *pos = r.end;
            }
            Kind::Const(want) => {
                let r = take(want.len(), self)?;
                let got = self.buf.get(r.clone()).unwrap_or_default();
                if got != want.as_slice() {
                    field.note = Some(Note::Mismatch(want.clone()));
                }
                field.value = FieldValue::Bytes(got.to_vec());
                field.range = self.raw_range(r.clone());
                self.env
                    .push(name.clone(), Value::Bytes(got.to_vec()), r.clone(), None);
                *pos = r.end;
            }
            Kind::Computed(expr) => {
                let v = as_number(
                    self.eval_at(expr, start, end)
                        .map_err(|r| self.stop(start, name, r))?,
                );
                field.value = FieldValue::from_value(&v);
                field.range = self.raw_range(start..start);
                self.env.push(name.clone(), v, start..start, None);
            }
            Kind::Group { len, children } => {
                let region_end = match len {
                    Some(len) => start + self.length(len, start, end, node.reserve, name)?,
                    None => self.open_end(end, node.reserve),
                };
                self.sub(node.sub, start, region_end);
                self.env
                    .push(name.clone(), Value::Bytes(Vec::new()), start..start, None);
                let inner = self.env.open();
                self.enter(name, start)?;
                let mut at = start;
                let result = self.list(children, region_end, &mut at, &mut field.children);
                self.leave();
                self.env.close();
                self.env.set_inner_of_last_named(name, inner);
                let done = match &result {
                    Err(s) => s.buf_at.max(start),
                    Ok(()) if len.is_some() => region_end,
                    Ok(()) => at,
                };
                if result.is_ok() && len.is_some() && at < region_end {
                    let extra = self.buf.get(at..region_end).unwrap_or_default().to_vec();
                    field.children.push(self.plain(
                        "extra",
                        Role::Extra,
                        at..region_end,
                        FieldValue::Bytes(extra),
                    ));
                }
                self.finish_region(&mut field, name, start, done);
                out.push(field);
                result?;
                *pos = done;
                return Ok(());
            }
            Kind::Repeat {
                count,
                len,
                children,
            } => {
                let region_end = match len {
                    Some(len) => start + self.length(len, start, end, node.reserve, name)?,
                    None => self.open_end(end, node.reserve),
                };
                let count =
                    match count {
                        Some(e) => {
                            let n = self
                                .eval_int(e, start, end)
                                .map_err(|r| self.stop(start, name, r))?;
                            Some(usize::try_from(n).map_err(|_| {
                                self.stop(start, name, tf(S::ProtoBadLength, &[&n]))
                            })?)
                        }
                        None => None,
                    };
                self.env
                    .push(name.clone(), Value::Bytes(Vec::new()), start..start, None);
                let inner = self.env.open();
                self.enter(name, start)?;
                let mut at = start;
                let mut result = Ok(());
                let mut n = 0;
                while n < MAX_ITEMS
                    && count.is_none_or(|c| n < c)
                    && (count.is_some() || at < region_end)
                {
                    let item_name: Arc<str> = Arc::from(n.to_string());
                    let item_start = at;
                    let mut item = Field {
                        name: item_name.clone(),
                        node: Some(id),
                        layout: None,
                        role: Role::Item(n),
                        range: item_start..item_start,
                        value: FieldValue::None,
                        note: None,
                        children: Vec::new(),
                    };
                    self.env
                        .push(item_name.clone(), Value::Bytes(Vec::new()), at..at, None);
                    let item_scope = self.env.open();
                    self.path.push(item_name.clone());
                    result = self.list(children, region_end, &mut at, &mut item.children);
                    self.path.pop();
                    self.env.close();
                    self.env.set_inner_of_last_named(&item_name, item_scope);
                    item.range = self.raw_range(item_start..at);
                    field.children.push(item);
                    n += 1;
                    if result.is_err() || at == item_start {
                        break;
                    }
                }
                self.leave();
                self.env.close();
                self.env.set_inner_of_last_named(name, inner);
                let done = match &result {
                    Err(s) => s.buf_at.max(start),
                    Ok(()) if len.is_some() => region_end,
                    Ok(()) => at,
                };
                self.finish_region(&mut field, name, start, done);
                out.push(field);
                result?;
                *pos = done;
                return Ok(());
            }
            Kind::Switch {
                on,
                len,
                cases,
                default,
            } => {
                let key = self
                    .eval_at(on, start, end)
                    .map_err(|r| self.stop(start, name, r))?;
                let layout = pick(cases, *default, &key);
                let region_end = match len {
                    Some(len) => start + self.length(len, start, end, node.reserve, name)?,
                    None => self.open_end(end, node.reserve),
                };
                self.sub(node.sub, start, region_end);
                field.layout = layout;
                self.env
                    .push(name.clone(), Value::Bytes(Vec::new()), start..start, None);
                let inner = self.env.open();
                self.enter(name, start)?;
                let mut at = start;
                let result = match layout.and_then(|l| prog.layout(l)) {
                    Some(l) => self.list(&l.children, region_end, &mut at, &mut field.children),
                    None => Ok(()),
                };
                self.leave();
                self.env.close();
                self.env.set_inner_of_last_named(name, inner);
                let done = match &result {
                    Err(s) => s.buf_at.max(start),
                    Ok(()) if len.is_some() || layout.is_none() => region_end,
                    Ok(()) => at,
                };
                if result.is_ok() && at < done {
                    let (label, role) = if layout.is_some() {
                        ("extra", Role::Extra)
                    } else {
                        ("raw", Role::Raw)
                    };
                    let bytes = self.buf.get(at..done).unwrap_or_default().to_vec();
                    field.children.push(self.plain(
                        label,
                        role,
                        at..done,
                        FieldValue::Bytes(bytes),
                    ));
                }
                self.finish_region(&mut field, name, start, done);
                out.push(field);
                result?;
                *pos = done;
                return Ok(());
            }
            Kind::Checksum {
                algo,
                width,
                over,
                format,
                also,
            } => {
                let digits = match format {
                    CheckFormat::Binary => usize::from(*width),
                    CheckFormat::Hex => usize::from(*width) * 2,
                };
                let r = take(digits, self)?;
                let stored_bytes = self.buf.get(r.clone()).unwrap_or_default();
                let stored = match format {
                    CheckFormat::Binary => {
                        Some(read_uint(stored_bytes, node.little, WordOrder::ABCD))
                    }
                    CheckFormat::Hex => std::str::from_utf8(stored_bytes)
                        .ok()
                        .and_then(|s| u64::from_str_radix(s, 16).ok()),
                };
                let covered = self.covered(over);
                let data = covered
                    .clone()
                    .and_then(|c| self.wire.get(c))
                    .unwrap_or_default();
                let computed = check::compute(algo, data).unwrap_or(0);
                let ok = covered.is_some() && stored == Some(computed);
                let instead = if ok {
                    None
                } else {
                    also.iter()
                        .find(|a| stored.is_some() && check::compute(a, data) == stored)
                        .map(check::name)
                };
                field.note = Some(Note::Check(Verdict {
                    ok,
                    stored,
                    computed,
                    algo: check::name(algo),
                    instead,
                    covered: covered.map(|c| self.raw_range(c)),
                }));
                field.value = match stored {
                    Some(v) => FieldValue::Int(i128::from(v)),
                    None => FieldValue::Bytes(stored_bytes.to_vec()),
                };
                field.range = self.raw_range(r.clone());
                self.env.push(
                    name.clone(),
                    Value::Int(i128::from(stored.unwrap_or(0))),
                    r.clone(),
                    None,
                );
                *pos = r.end;
            }
            Kind::Csv {
                len,
                sep,
                children,
                switch,
            } => {
                let n = self.length(len, start, end, node.reserve, name)?;
                let region_end = start + n;
                self.env
                    .push(name.clone(), Value::Bytes(Vec::new()), start..start, None);
                let inner = self.env.open();
                self.enter(name, start)?;
                let cols = split(
                    self.buf.get(start..region_end).unwrap_or_default(),
                    sep,
                    start,
                );
                let mut ci = 0;
                let mut result = self.columns(children, &cols, &mut ci, &mut field.children);
                // The columns read so far (NMEA's address) choose the rest.
                if result.is_ok()
                    && let Some((on, (cases, default))) = switch
                {
                    match self.eval_at(on, start, end) {
                        Ok(key) => field.layout = pick(cases, *default, &key),
                        // The path already names this field (entered above).
                        Err(r) => result = Err(self.stop(start, "", r)),
                    }
                }
                if result.is_ok()
                    && let Some(l) = field.layout.and_then(|l| prog.layout(l))
                {
                    result = self.columns(&l.children, &cols, &mut ci, &mut field.children);
                }
                if result.is_ok() {
                    for (k, col) in cols.iter().enumerate().skip(ci) {
                        let text =
                            String::from_utf8_lossy(self.buf.get(col.clone()).unwrap_or_default())
                                .into_owned();
                        field.children.push(self.plain(
                            &format!("col_{k}"),
                            Role::Column(k),
                            col.clone(),
                            FieldValue::Text(text),
                        ));
                    }
                }
                self.leave();
                self.env.close();
                self.env.set_inner_of_last_named(name, inner);
                let done = match &result {
                    Err(s) => s.buf_at.max(start),
                    Ok(()) => region_end,
                };
                self.finish_region(&mut field, name, start, done);
                out.push(field);
                result?;
                *pos = region_end;
                return Ok(());
            }
            Kind::Kv {
                len,
                sep,
                eq,
                nested,
                ..
            } => {
                let n = self.length(len, start, end, node.reserve, name)?;
                let region_end = start + n;
                self.env
                    .push(name.clone(), Value::Bytes(Vec::new()), start..start, None);
                let inner = self.env.open();
                self.kv(id, start..region_end, sep, eq, nested, &mut field.children);
                self.env.close();
                self.env.set_inner_of_last_named(name, inner);
                self.finish_region(&mut field, name, start, region_end);
                out.push(field);
                *pos = region_end;
                return Ok(());
            }
        }
        out.push(field);
        Ok(())
    }

    /// The end of a region that has no length of its own: the enclosing one, less what the
    /// fields after it need.
    fn open_end(&self, end: usize, reserve: usize) -> usize {
        let _ = self;
        if reserve == usize::MAX {
            end
        } else {
            end.saturating_sub(reserve)
        }
    }

    fn finish_region(&mut self, field: &mut Field, name: &str, start: usize, done: usize) {
        field.range = self.raw_range(start..done);
        // The group's value for expressions: its bytes.
        let bytes = self.buf.get(start..done).unwrap_or_default().to_vec();
        self.env
            .set_last_named(name, Value::Bytes(bytes), start..done);
    }

    /// Takes `sub` off every byte of a region (DL/T 645's 0x33), in place.
    fn sub(&mut self, sub: Option<u8>, start: usize, end: usize) {
        if let Some(k) = sub
            && let Some(region) = self.buf.get_mut(start..end)
        {
            for b in region {
                *b = b.wrapping_sub(k);
            }
        }
    }

    /// The bytes from the first to the last named field, in this scope or the ones around it.
    fn covered(&self, over: &(String, String)) -> Option<Range<usize>> {
        let a = self.env.find(&over.0)?;
        let b = self.env.find(&over.1)?;
        (a.range.start <= b.range.end).then_some(a.range.start..b.range.end)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per column kind, as `node` has"
    )]
    fn columns(
        &mut self,
        ids: &[NodeId],
        cols: &[Range<usize>],
        ci: &mut usize,
        out: &mut Vec<Field>,
    ) -> Stopped {
        let prog = self.prog;
        for &id in ids {
            let Some(node) = prog.node(id) else { continue };
            let here = cols.get(*ci).map_or(0, |c| c.start);
            if let Some(when) = &node.when {
                let holds = self
                    .eval_at(when, here, here)
                    .map_err(|r| self.stop(here, &node.name, r))?;
                if !holds.truthy() {
                    continue;
                }
            }
            match &node.kind {
                Kind::Column(col) => {
                    let Some(r) = cols.get(*ci).cloned() else {
                        // Fewer columns than the layout knows: older versions of a sentence.
                        return Ok(());
                    };
                    *ci += 1;
                    let text = String::from_utf8_lossy(self.buf.get(r.clone()).unwrap_or_default())
                        .into_owned();
                    let value = column_value(*col, &text);
                    self.env.push(node.name.clone(), value, r.clone(), None);
                    out.push(Field {
                        name: node.name.clone(),
                        node: Some(id),
                        layout: None,
                        role: Role::Node,
                        range: self.raw_range(r),
                        value: FieldValue::Text(text),
                        note: None,
                        children: Vec::new(),
                    });
                }
                Kind::Computed(expr) => {
                    let v = as_number(
                        self.eval_at(expr, here, here)
                            .map_err(|r| self.stop(here, &node.name, r))?,
                    );
                    self.env
                        .push(node.name.clone(), v.clone(), here..here, None);
                    out.push(Field {
                        name: node.name.clone(),
                        node: Some(id),
                        layout: None,
                        role: Role::Node,
                        range: self.raw_range(here..here),
                        value: FieldValue::from_value(&v),
                        note: None,
                        children: Vec::new(),
                    });
                }
                Kind::Repeat {
                    count, children, ..
                } => {
                    let count = match count {
                        Some(e) => Some(
                            usize::try_from(
                                self.eval_int(e, here, here)
                                    .map_err(|r| self.stop(here, &node.name, r))?,
                            )
                            .unwrap_or(0),
                        ),
                        None => None,
                    };
                    let first = *ci;
                    let mut group = Field {
                        name: node.name.clone(),
                        node: Some(id),
                        layout: None,
                        role: Role::Node,
                        range: 0..0,
                        value: FieldValue::None,
                        note: None,
                        children: Vec::new(),
                    };
                    let mut n = 0;
                    while *ci < cols.len() && count.is_none_or(|c| n < c) && n < MAX_ITEMS {
                        let before = *ci;
                        let mut item = Field {
                            name: Arc::from(n.to_string()),
                            node: Some(id),
                            layout: None,
                            role: Role::Item(n),
                            range: 0..0,
                            value: FieldValue::None,
                            note: None,
                            children: Vec::new(),
                        };
                        self.env.push(
                            item.name.clone(),
                            Value::Bytes(Vec::new()),
                            here..here,
                            None,
                        );
                        let scope = self.env.open();
                        self.columns(children, cols, ci, &mut item.children)?;
                        self.env.close();
                        self.env.set_inner_of_last_named(&item.name.clone(), scope);
                        item.range = self.col_span(cols, before, *ci);
                        group.children.push(item);
                        n += 1;
                        if *ci == before {
                            break;
                        }
                    }
                    group.range = self.col_span(cols, first, *ci);
                    out.push(group);
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn col_span(&self, cols: &[Range<usize>], from: usize, to: usize) -> Range<usize> {
        // Past the last column (an empty repeat at the end): empty, where the columns end.
        let start = cols
            .get(from)
            .map_or_else(|| cols.last().map_or(0, |c| c.end), |c| c.start);
        if to <= from {
            return self.raw_range(start..start);
        }
        let end = to
            .checked_sub(1)
            .and_then(|l| cols.get(l))
            .map_or(start, |c| c.end);
        self.raw_range(start..end.max(start))
    }

    /// `key=value` pairs of a region; nested values become groups of pairs.
    fn kv(
        &mut self,
        id: NodeId,
        region: Range<usize>,
        sep: &[u8],
        eq: &[u8],
        nested: &[super::spec::NestedSpec],
        out: &mut Vec<Field>,
    ) {
        let bytes = self.buf.get(region.clone()).unwrap_or_default().to_vec();
        let base = region.start;
        let mut i = 0;
        while i < bytes.len() {
            let rest = bytes.get(i..).unwrap_or_default();
            let next_sep = memchr::memmem::find(rest, sep).unwrap_or(rest.len());
            let eq_at = memchr::memmem::find(rest.get(..next_sep).unwrap_or_default(), eq);
            let Some(eq_at) = eq_at else {
                // A piece without `=`: kept as it is.
                let r = base + i..base + i + next_sep;
                let text =
                    String::from_utf8_lossy(rest.get(..next_sep).unwrap_or_default()).into_owned();
                if !text.is_empty() {
                    out.push(self.plain("extra", Role::Extra, r, FieldValue::Text(text)));
                }
                i += next_sep + sep.len();
                continue;
            };
            let key = String::from_utf8_lossy(rest.get(..eq_at).unwrap_or_default()).into_owned();
            let vstart = eq_at + eq.len();
            let value_rest = rest.get(vstart..).unwrap_or_default();
            let nest = nested.iter().find(|n| {
                n.key == key && value_rest.starts_with(n.open.as_bytes()) && !n.open.is_empty()
            });
            let mut field = Field {
                name: Arc::from(key.as_str()),
                node: Some(id),
                layout: None,
                role: Role::Key,
                range: 0..0,
                value: FieldValue::None,
                note: None,
                children: Vec::new(),
            };
            let vlen = match nest {
                Some(n) => {
                    let inner_from = n.open.len();
                    let close = value_rest
                        .get(inner_from..)
                        .and_then(|r| memchr::memmem::find(r, n.close.as_bytes()))
                        .map(|c| c + inner_from);
                    let inner_end = close.unwrap_or(value_rest.len());
                    let inner = base + i + vstart + inner_from..base + i + vstart + inner_end;
                    self.env.push(
                        field.name.clone(),
                        Value::Bytes(Vec::new()),
                        inner.clone(),
                        None,
                    );
                    let scope = self.env.open();
                    self.kv_groups(id, inner, n, &mut field.children);
                    self.env.close();
                    self.env.set_inner_of_last_named(&field.name.clone(), scope);
                    field.value = FieldValue::None;
                    close.map_or(value_rest.len(), |c| c + n.close.len())
                }
                None => {
                    let vlen = memchr::memmem::find(value_rest, sep).unwrap_or(value_rest.len());
                    let text = String::from_utf8_lossy(value_rest.get(..vlen).unwrap_or_default())
                        .into_owned();
                    let r = base + i + vstart..base + i + vstart + vlen;
                    self.env
                        .push(field.name.clone(), text_value(&text), r, None);
                    field.value = FieldValue::Text(text);
                    vlen
                }
            };
            field.range = self.raw_range(base + i..base + i + vstart + vlen);
            out.push(field);
            i += vstart + vlen + sep.len();
        }
    }

    fn kv_groups(
        &mut self,
        id: NodeId,
        region: Range<usize>,
        n: &super::spec::NestedSpec,
        out: &mut Vec<Field>,
    ) {
        let bytes = self.buf.get(region.clone()).unwrap_or_default().to_vec();
        let groups_sep = n.groups.as_bytes();
        let mut at = 0;
        let mut k = 0;
        while at <= bytes.len() && !bytes.is_empty() {
            let rest = bytes.get(at..).unwrap_or_default();
            let len = if groups_sep.is_empty() {
                rest.len()
            } else {
                memchr::memmem::find(rest, groups_sep).unwrap_or(rest.len())
            };
            let r = region.start + at..region.start + at + len;
            let mut group = Field {
                name: Arc::from(k.to_string()),
                node: Some(id),
                layout: None,
                role: Role::Item(k),
                range: self.raw_range(r.clone()),
                value: FieldValue::None,
                note: None,
                children: Vec::new(),
            };
            self.env.push(
                group.name.clone(),
                Value::Bytes(Vec::new()),
                r.clone(),
                None,
            );
            let scope = self.env.open();
            self.kv(id, r, n.sep.as_bytes(), b"=", &[], &mut group.children);
            self.env.close();
            self.env.set_inner_of_last_named(&group.name.clone(), scope);
            out.push(group);
            k += 1;
            at += len + groups_sep.len().max(1);
            if at > bytes.len() {
                break;
            }
        }
    }
}

impl Env {
    /// Gives the latest entry named `name` its own scope.
    pub(super) fn set_inner_of_last_named(&mut self, name: &str, inner: u32) {
        let scope = self.scope();
        if let Some(e) = self
            .entries
            .iter_mut()
            .rev()
            .find(|e| e.scope == scope && &*e.name == name)
        {
            e.inner = Some(inner);
        }
    }
}

fn trim_nul(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
    bytes.get(..end).unwrap_or_default()
}

/// A float as expressions see it: its whole part.
fn float_value(v: f64) -> Value {
    if v.is_finite() {
        Value::Int(v.trunc() as i128)
    } else {
        Value::Int(0)
    }
}

/// A comparison's result as a number (0 or 1), so later expressions can compute with it.
pub(super) fn as_number(v: Value) -> Value {
    match v {
        Value::Bool(b) => Value::Int(i128::from(b)),
        other => other,
    }
}

/// A text value as expressions see it: a number when it is one.
pub(super) fn text_value(text: &str) -> Value {
    let t = text.trim();
    if !t.is_empty()
        && t.len() <= 30
        && t.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-' && t.len() > 1))
    {
        t.parse::<i128>()
            .map_or_else(|_| Value::Text(text.to_owned()), Value::Int)
    } else {
        Value::Text(text.to_owned())
    }
}

fn column_value(col: Column, text: &str) -> Value {
    match col {
        Column::Int => text_value(text),
        _ => Value::Text(text.to_owned()),
    }
}

/// The ranges between separators (an empty region has one empty column).
fn split(bytes: &[u8], sep: &[u8], base: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        match memchr::memmem::find(rest, sep) {
            Some(n) => {
                out.push(base + at..base + at + n);
                at += n + sep.len();
            }
            None => {
                out.push(base + at..base + bytes.len());
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_orders_put_modbus_floats_together() {
        // 123.456 as an f32 is 42 F6 E9 79.
        let abcd = [0x42, 0xF6, 0xE9, 0x79];
        let cdab = [0xE9, 0x79, 0x42, 0xF6];
        let badc = [0xF6, 0x42, 0x79, 0xE9];
        let dcba = [0x79, 0xE9, 0xF6, 0x42];
        let want = u64::from(123.456f32.to_bits());
        assert_eq!(read_uint(&abcd, false, WordOrder::ABCD), want);
        assert_eq!(read_uint(&cdab, false, WordOrder::CDAB), want);
        assert_eq!(read_uint(&badc, false, WordOrder::BADC), want);
        assert_eq!(read_uint(&dcba, false, WordOrder::DCBA), want);
        assert_eq!(read_uint(&dcba, true, WordOrder::ABCD), want);
    }

    #[test]
    fn bcd_reads_digits_either_way_round() {
        assert_eq!(bcd_text(&[0x01, 0x39, 0x12], false), "013912");
        assert_eq!(bcd_text(&[0x01, 0x00, 0x00], true), "000001");
        assert_eq!(bcd_text(&[0xAA], true), "AA");
        assert_eq!(signed(0xFF, 1), -1);
        assert_eq!(signed(0x7F, 1), 127);
        assert_eq!(signed(0x80_0000, 3), -0x80_0000);
    }

    #[test]
    fn columns_split_on_every_separator() {
        assert_eq!(split(b"a,,b", b",", 10), [10..11, 12..12, 13..14]);
        assert_eq!(split(b"", b",", 0), vec![0..0]);
        assert_eq!(text_value("0113"), Value::Int(113));
        assert_eq!(text_value("a34004"), Value::Text("a34004".into()));
    }
}
