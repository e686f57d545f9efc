//! A spec made ready to run: expressions parsed, layouts and enums resolved, sizes known.
//! Every mistake is found here, once, and named with its line, column and field.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::spec::{
    self, Algo, EnumItem, FieldSpec, FlagSpec, Key, KeySpec, LenSpec, Located, NestedSpec, Show,
    Spec, ValuesSpec, WordOrder,
};
use super::{SpecError, both, check};
use crate::codec::TextEncoding;
use crate::codec::cut::{ByteEscape, FrameCut};
use crate::expr::{Expr, IntType};
use crate::i18n::{S, tf};

/// Index of a node in [`Program::nodes`].
pub type NodeId = u32;
/// Index of a layout in [`Program::layouts`].
pub type LayoutId = u32;

/// How long something is.
#[derive(Clone, Debug)]
pub enum Len {
    /// This many bytes.
    Fixed(usize),
    /// Up to the end of the region, less what the fields after it need.
    Rest,
    /// An expression over the fields before it.
    Expr(Expr),
    /// Up to (not including) this text.
    Until(Vec<u8>),
    /// Up to and including a NUL.
    Nul,
    /// A number of this type right before it says.
    Prefix(IntType),
    /// As long as this byte repeats.
    Run(u8),
}

/// A text column's meaning (in a csv).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Text as it is.
    Text,
    /// A whole number.
    Int,
    /// A decimal number.
    Dec,
    /// Degrees and minutes `ddmm.mmmm` / `dddmm.mmmm`.
    Ddmm,
    /// A time `hhmmss.ss`.
    Hhmmss,
    /// A date `ddmmyy`.
    Ddmmyy,
    /// Hex digits.
    Hex,
}

/// How a checksum is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckFormat {
    /// Binary, in its width and byte order.
    Binary,
    /// Upper-case hex digits (two per byte of width).
    Hex,
}

/// A switch's cases (value → layout) and its layout for other values.
pub type Cases = (Vec<(Key, LayoutId)>, Option<LayoutId>);

/// What a node is.
#[derive(Clone, Debug)]
pub enum Kind {
    /// An integer of 1 … 8 bytes.
    Int {
        /// Bytes.
        width: u8,
        /// Two's complement.
        signed: bool,
        /// Bit fields (nodes of kind `Bits`).
        bits: Vec<NodeId>,
    },
    /// A bit field of the integer it belongs to.
    Bits {
        /// First bit.
        start: u8,
        /// Width in bits.
        width: u8,
    },
    /// An IEEE float of 4 or 8 bytes.
    Float {
        /// Bytes.
        width: u8,
    },
    /// Packed decimal digits.
    Bcd(Len),
    /// Bytes.
    Bytes(Len),
    /// Text.
    Str(Len, TextEncoding),
    /// These bytes exactly.
    Const(Vec<u8>),
    /// Fields in a row.
    Group {
        /// Its region's length (else: as long as its fields).
        len: Option<Len>,
        /// Its fields.
        children: Vec<NodeId>,
    },
    /// The same fields again and again.
    Repeat {
        /// How many (else: until the region ends).
        count: Option<Expr>,
        /// The region's length (else: the enclosing region).
        len: Option<Len>,
        /// One item's fields.
        children: Vec<NodeId>,
    },
    /// One layout or another by a value.
    Switch {
        /// The value.
        on: Expr,
        /// The region's length (else: as long as the layout's fields).
        len: Option<Len>,
        /// (value, layout).
        cases: Vec<(Key, LayoutId)>,
        /// For other values.
        default: Option<LayoutId>,
    },
    /// A value computed from other fields; no bytes.
    Computed(Expr),
    /// A checksum over earlier fields.
    Checksum {
        /// Its algorithm.
        algo: Algo,
        /// Bytes it has (binary) or the register's width in bytes (hex).
        width: u8,
        /// First and last field covered.
        over: (String, String),
        /// How it is written.
        format: CheckFormat,
        /// Algorithms named when it fails but one of them holds.
        also: Vec<Algo>,
    },
    /// Text columns split by a separator.
    Csv {
        /// The region.
        len: Len,
        /// Between columns.
        sep: Vec<u8>,
        /// The columns (else by a switch below).
        children: Vec<NodeId>,
        /// Columns by a value: (on, cases, default).
        switch: Option<(Expr, Cases)>,
    },
    /// One text column.
    Column(Column),
    /// `key=value` pairs.
    Kv {
        /// The region.
        len: Len,
        /// Between pairs.
        sep: Vec<u8>,
        /// Between key and value.
        eq: Vec<u8>,
        /// Values that hold more pairs.
        nested: Vec<NestedSpec>,
        /// What the keys mean.
        keys: Vec<KeyInfo>,
    },
}

/// What a kv key means, ready to show.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    /// The key.
    pub key: String,
    /// Its names.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// How its value is shown.
    pub look: Look,
    /// A form must give it.
    pub required: bool,
    /// Exactly this many decimal digits.
    pub digits: Option<usize>,
    /// A whole number.
    pub number: bool,
}

/// How a value is shown.
#[derive(Clone, Debug, Default)]
pub struct Look {
    /// Value names.
    pub values: Option<u32>,
    /// Names of set bits.
    pub flags: Vec<FlagSpec>,
    /// raw × scale + offset.
    pub scale: Option<f64>,
    /// Added after the scale.
    pub offset: Option<f64>,
    /// After the value.
    pub unit: Option<String>,
    /// Decimals.
    pub decimals: Option<u8>,
    /// Base or form.
    pub show: Show,
}

/// One compiled field.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its name.
    pub name: Arc<str>,
    /// Its path from the frame (`body.lat`), for messages.
    pub path: String,
    /// Its name for people.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// What it is.
    pub kind: Kind,
    /// Present only when this holds.
    pub when: Option<Expr>,
    /// Bytes least significant first.
    pub little: bool,
    /// Word order (32/64-bit).
    pub words: WordOrder,
    /// Region bytes have this added on the wire.
    pub sub: Option<u8>,
    /// How it is shown.
    pub look: Look,
    /// Bytes the fields after it need (for a `*` length).
    pub reserve: usize,
    /// Written when sending: the length of these fields.
    pub length_of: Option<(String, String)>,
    /// Written when sending: the count of this repeat's items.
    pub count_of: Option<String>,
    /// The values the standard allows, for a form.
    pub range: Option<(i64, i64)>,
    /// A BCD whose top bit is its sign.
    pub signed: bool,
    /// Where it is in the spec.
    pub at: usize,
}

/// A named list of fields.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Its key in the spec.
    pub key: String,
    /// Its name.
    pub en: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Summary parts.
    pub summary: Vec<String>,
    /// Summary parts in Chinese (empty: `summary`).
    pub summary_zh: Vec<String>,
    /// Its fields.
    pub children: Vec<NodeId>,
}

/// A spec ready to run.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Every field.
    pub nodes: Vec<Node>,
    /// Every layout.
    pub layouts: Vec<Layout>,
    /// Every enum.
    pub enums: Vec<Vec<EnumItem>>,
    /// The frame's fields.
    pub root: Vec<NodeId>,
    /// The frame's cut.
    pub cut: Option<FrameCut>,
    /// The escaping between the markers.
    pub escape: Option<ByteEscape>,
    /// Start and end markers (the escape's region lies between).
    pub markers: (Vec<u8>, Vec<u8>),
}

impl Program {
    /// The node `id`.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    /// The layout `id`.
    pub fn layout(&self, id: LayoutId) -> Option<&Layout> {
        self.layouts.get(id as usize)
    }
}

struct Compiler<'a> {
    text: &'a str,
    spec: &'a Spec,
    prog: Program,
    layout_ids: BTreeMap<String, LayoutId>,
    enum_ids: BTreeMap<String, u32>,
    /// Layouts being compiled (a layout that contains itself is refused).
    open: Vec<String>,
}

/// Compiles `spec` (read from `text`, for places in errors).
pub fn compile(text: &str, spec: &Spec) -> Result<Program, SpecError> {
    let mut c = Compiler {
        text,
        spec,
        prog: Program::default(),
        layout_ids: BTreeMap::new(),
        enum_ids: BTreeMap::new(),
        open: Vec::new(),
    };
    if spec.name.trim().is_empty() {
        return Err(c.error(0, "", both(|| tf(S::SpecNoName, &[]))));
    }
    for (n, (name, items)) in spec.enums.iter().enumerate() {
        c.enum_ids.insert(name.clone(), n as u32);
        c.prog.enums.push(items.clone());
    }
    // Layouts get their ids first, so cases can name any of them; their fields after.
    for (n, key) in spec.layouts.keys().enumerate() {
        c.layout_ids.insert(key.clone(), n as LayoutId);
        c.prog.layouts.push(Layout {
            key: key.clone(),
            en: String::new(),
            zh: String::new(),
            summary: Vec::new(),
            summary_zh: Vec::new(),
            children: Vec::new(),
        });
    }
    // The first mistake of each list; the one earliest in the text is said (layouts are
    // compiled in name order, not as written).
    let mut mistakes: Vec<SpecError> = Vec::new();
    for (key, layout) in &spec.layouts {
        c.open.push(key.clone());
        let children = c.list(&layout.fields, key);
        c.open.pop();
        let children = match children {
            Ok(children) => children,
            Err(e) => {
                mistakes.push(e);
                Vec::new()
            }
        };
        if let Some(slot) = c
            .layout_ids
            .get(key)
            .and_then(|id| c.prog.layouts.get_mut(*id as usize))
        {
            slot.en.clone_from(&layout.en);
            slot.zh.clone_from(&layout.zh);
            slot.summary.clone_from(&layout.summary);
            slot.summary_zh.clone_from(&layout.summary_zh);
            slot.children = children;
        }
    }
    match c.list(&spec.fields, "") {
        Ok(root) => c.prog.root = root,
        Err(e) => mistakes.push(e),
    }
    if let Some(first) = mistakes.into_iter().min_by_key(|e| (e.line, e.column)) {
        return Err(first);
    }
    if let Some(cut) = &spec.frame.cut {
        if cut.check().is_err() {
            let why = both(|| cut.check().err().unwrap_or_default());
            return Err(c.error(0, "frame.cut", why));
        }
        if let FrameCut::Markers { start, end } = cut {
            c.prog.markers = (start.0.clone(), end.0.clone());
        }
    }
    if let Some(escape) = &spec.frame.escape
        && escape.check().is_err()
    {
        let why = both(|| escape.check().err().unwrap_or_default());
        return Err(c.error(0, "frame.escape", why));
    }
    c.prog.cut.clone_from(&spec.frame.cut);
    c.prog.escape.clone_from(&spec.frame.escape);
    Ok(c.prog)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `a..b` → (a, b); `a` → (a, a).
fn range_of(text: &str) -> (String, String) {
    match text.split_once("..") {
        Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
        None => (text.trim().to_owned(), text.trim().to_owned()),
    }
}

/// A text with escapes (`\r\n`, `\x00`) as bytes.
fn unescape_text(text: &str) -> Option<Vec<u8>> {
    crate::codec::escape::parse(text, TextEncoding::UTF_8).ok()
}

impl Compiler<'_> {
    fn error(&self, at: usize, path: &str, message: (String, String)) -> SpecError {
        let (line, column) = spec::line_col(self.text, at);
        SpecError {
            line,
            column,
            field: path.to_owned(),
            message: message.0,
            message_zh: message.1,
        }
    }

    fn expr(&self, f: &Located<FieldSpec>, path: &str, text: &str) -> Result<Expr, SpecError> {
        Expr::parse_in_spec(text, 1).map_err(|_| {
            let why = both(|| {
                Expr::parse_in_spec(text, 1)
                    .err()
                    .map(|e| e.0)
                    .unwrap_or_default()
            });
            self.error(f.at, path, why)
        })
    }

    fn len(&self, f: &Located<FieldSpec>, path: &str, spec: &LenSpec) -> Result<Len, SpecError> {
        Ok(match spec {
            LenSpec::Fixed(n) => Len::Fixed(
                usize::try_from(*n)
                    .ok()
                    .filter(|n| *n <= crate::codec::framing::MAX_FRAME)
                    .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecTooLong, &[n]))))?,
            ),
            LenSpec::Expr(text) if text.trim() == "*" => Len::Rest,
            LenSpec::Expr(text) => Len::Expr(self.expr(f, path, text)?),
        })
    }

    /// The length of a bytes/str/bcd/csv/kv field from `len`, `until`, `prefix`, `run`.
    fn region(
        &self,
        f: &Located<FieldSpec>,
        path: &str,
        needed: bool,
        nul_ok: bool,
    ) -> Result<Option<Len>, SpecError> {
        let mut found = Vec::new();
        if let Some(len) = &f.len {
            found.push(self.len(f, path, len)?);
        }
        if let Some(until) = &f.until {
            let bytes = unescape_text(until)
                .filter(|b| !b.is_empty())
                .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecBadText, &[until]))))?;
            if bytes == [0] && nul_ok {
                found.push(Len::Nul);
            } else {
                found.push(Len::Until(bytes));
            }
        }
        if let Some(prefix) = &f.prefix {
            let ty = IntType::parse(prefix)
                .filter(|t| !t.signed)
                .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecBadType, &[prefix]))))?;
            found.push(Len::Prefix(ty));
        }
        if let Some(byte) = f.run {
            found.push(Len::Run(byte));
        }
        match found.len() {
            0 if needed => Err(self.error(f.at, path, both(|| tf(S::SpecNeedsLen, &[&f.ty])))),
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(self.error(f.at, path, both(|| tf(S::SpecOneLen, &[])))),
        }
    }

    fn values(
        &self,
        f: &Located<FieldSpec>,
        path: &str,
        v: Option<&ValuesSpec>,
    ) -> Result<Option<u32>, SpecError> {
        self.values_at(f.at, path, v)
    }

    fn values_at(
        &self,
        at: usize,
        path: &str,
        v: Option<&ValuesSpec>,
    ) -> Result<Option<u32>, SpecError> {
        Ok(match v {
            // An inline list becomes an enum of its own in `look` (ids are positions).
            None | Some(ValuesSpec::List(_)) => None,
            Some(ValuesSpec::Named(name)) => Some(
                *self
                    .enum_ids
                    .get(name)
                    .ok_or_else(|| self.error(at, path, both(|| tf(S::SpecNoEnum, &[name]))))?,
            ),
        })
    }

    fn look(&mut self, f: &Located<FieldSpec>, path: &str) -> Result<Look, SpecError> {
        let values = match &f.values {
            Some(ValuesSpec::List(items)) => {
                self.prog.enums.push(items.clone());
                Some((self.prog.enums.len() - 1) as u32)
            }
            other => self.values(f, path, other.as_ref())?,
        };
        Ok(Look {
            values,
            flags: f.flags.clone(),
            scale: f.scale,
            offset: f.offset,
            unit: f.unit.clone(),
            decimals: f.decimals,
            show: f.show.unwrap_or_default(),
        })
    }

    fn layout(
        &self,
        f: &Located<FieldSpec>,
        path: &str,
        name: &str,
    ) -> Result<LayoutId, SpecError> {
        if self.open.iter().any(|o| o == name) {
            return Err(self.error(f.at, path, both(|| tf(S::SpecLayoutLoop, &[&name]))));
        }
        self.layout_ids
            .get(name)
            .copied()
            .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecNoLayout, &[&name]))))
    }

    fn cases(&self, f: &Located<FieldSpec>, path: &str) -> Result<Cases, SpecError> {
        let mut cases = Vec::new();
        for (key, layout) in &f.cases {
            cases.push((key.clone(), self.layout(f, path, layout)?));
        }
        let default = match &f.default {
            Some(name) => Some(self.layout(f, path, name)?),
            None => None,
        };
        Ok((cases, default))
    }

    /// The fields of `list` (their ids, in order), under `prefix`.
    fn list(
        &mut self,
        list: &[Located<FieldSpec>],
        prefix: &str,
    ) -> Result<Vec<NodeId>, SpecError> {
        let mut ids = Vec::with_capacity(list.len());
        for (n, f) in list.iter().enumerate() {
            let path = join(prefix, &f.name);
            if f.name.trim().is_empty() {
                return Err(self.error(f.at, prefix, both(|| tf(S::SpecNoFieldName, &[]))));
            }
            // The same name twice is fine when conditions choose one (JT/T 808's phone).
            let twice = list
                .iter()
                .take(n)
                .any(|g| g.name == f.name && g.when.is_none() && f.when.is_none());
            if twice {
                return Err(self.error(f.at, &path, both(|| tf(S::SpecTwice, &[&f.name]))));
            }
            ids.push(self.field(f, &path)?);
        }
        // What the fields after a `*` length need.
        let mut after = 0usize;
        let mut known = true;
        for &id in ids.iter().rev() {
            let Some(node) = self.prog.nodes.get_mut(id as usize) else {
                continue;
            };
            node.reserve = if known { after } else { usize::MAX };
            let rest = matches!(
                node.kind,
                Kind::Bytes(Len::Rest) | Kind::Str(Len::Rest, _) | Kind::Bcd(Len::Rest)
            ) || matches!(
                node.kind,
                Kind::Group {
                    len: Some(Len::Rest),
                    ..
                } | Kind::Switch {
                    len: Some(Len::Rest),
                    ..
                } | Kind::Repeat {
                    len: Some(Len::Rest),
                    ..
                } | Kind::Csv { len: Len::Rest, .. }
                    | Kind::Kv { len: Len::Rest, .. }
            );
            if rest && !known {
                let (at, path) = (node.at, node.path.clone());
                return Err(self.error(at, &path, both(|| tf(S::SpecRestNotLast, &[]))));
            }
            if node.when.is_some() {
                continue;
            }
            match fixed_size(&self.prog, id) {
                Some(n) => after += n,
                None => known = false,
            }
        }
        Ok(ids)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one arm per field type reads best in one place"
    )]
    fn field(&mut self, f: &Located<FieldSpec>, path: &str) -> Result<NodeId, SpecError> {
        let ty = f.ty.trim();
        let mut little = f.endian.unwrap_or(self.spec.endian) == spec::Endian::Little;
        let kind = if let Some((width, signed)) = int_type(ty) {
            let mut bits = Vec::new();
            for b in &f.bits {
                let bpath = join(path, &b.name);
                let (Some(start), Some(bw)) = (b.start, b.width) else {
                    return Err(self.error(b.at, &bpath, both(|| tf(S::SpecBitsNeed, &[]))));
                };
                if bw == 0 || u32::from(start) + u32::from(bw) > u32::from(width) * 8 || bw > 64 {
                    return Err(self.error(
                        b.at,
                        &bpath,
                        both(|| tf(S::SpecBitsFit, &[&start, &bw, &(width * 8)])),
                    ));
                }
                let look = self.look(b, &bpath)?;
                let length_of = b.length_of.as_deref().map(range_of);
                let when = match &b.when {
                    Some(w) => Some(self.expr(b, &bpath, w)?),
                    None => None,
                };
                bits.push(self.push(Node {
                    name: Arc::from(b.name.as_str()),
                    path: bpath,
                    en: b.en.clone(),
                    zh: b.zh.clone(),
                    kind: Kind::Bits { start, width: bw },
                    when,
                    little,
                    words: WordOrder::ABCD,
                    sub: None,
                    look,
                    reserve: 0,
                    length_of,
                    count_of: b.count_of.clone(),
                    range: None,
                    signed: false,
                    at: b.at,
                }));
            }
            Kind::Int {
                width,
                signed,
                bits,
            }
        } else {
            match ty {
                "f32" => Kind::Float { width: 4 },
                "f64" => Kind::Float { width: 8 },
                "bcd" => Kind::Bcd(self.region(f, path, true, false)?.unwrap_or(Len::Rest)),
                "bytes" => Kind::Bytes(self.region(f, path, true, false)?.unwrap_or(Len::Rest)),
                "str" => {
                    let name = f.encoding.as_deref().unwrap_or("ascii");
                    let encoding = if name.eq_ignore_ascii_case("ascii") {
                        TextEncoding::UTF_8
                    } else {
                        TextEncoding::for_label(name).ok_or_else(|| {
                            self.error(f.at, path, both(|| tf(S::SpecBadEncoding, &[&name])))
                        })?
                    };
                    Kind::Str(
                        self.region(f, path, true, true)?.unwrap_or(Len::Rest),
                        encoding,
                    )
                }
                "const" => {
                    let bytes = match (&f.hex, &f.text) {
                        (Some(hex), None) => Some(crate::codec::hex::parse(hex).map_err(|e| {
                            self.error(f.at, path, both(|| tf(S::SpecBadHex, &[hex, &e])))
                        })?),
                        (None, Some(text)) => unescape_text(text),
                        _ => None,
                    }
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecConstNeeds, &[]))))?;
                    Kind::Const(bytes)
                }
                "group" => {
                    let children = self.children(f, path)?;
                    Kind::Group {
                        len: self.region(f, path, false, false)?,
                        children,
                    }
                }
                "repeat" => {
                    let count = match &f.count {
                        Some(LenSpec::Fixed(n)) => Some(self.expr(f, path, &n.to_string())?),
                        Some(LenSpec::Expr(text)) => Some(self.expr(f, path, text)?),
                        None => None,
                    };
                    let children = self.children(f, path)?;
                    if children.is_empty() {
                        return Err(self.error(f.at, path, both(|| tf(S::SpecNoFields, &[]))));
                    }
                    Kind::Repeat {
                        count,
                        len: self.region(f, path, false, false)?,
                        children,
                    }
                }
                "switch" => {
                    let on = f.on.as_deref().ok_or_else(|| {
                        self.error(f.at, path, both(|| tf(S::SpecSwitchNeeds, &[])))
                    })?;
                    let on = self.expr(f, path, on)?;
                    let (cases, default) = self.cases(f, path)?;
                    Kind::Switch {
                        on,
                        len: self.region(f, path, false, false)?,
                        cases,
                        default,
                    }
                }
                "computed" => {
                    let value = f.value.as_deref().ok_or_else(|| {
                        self.error(f.at, path, both(|| tf(S::SpecComputedNeeds, &[])))
                    })?;
                    Kind::Computed(self.expr(f, path, value)?)
                }
                "checksum" => {
                    let algo = f.algo.clone().ok_or_else(|| {
                        self.error(f.at, path, both(|| tf(S::SpecChecksumNeeds, &[])))
                    })?;
                    let width = check::width(&algo).ok_or_else(|| {
                        self.error(
                            f.at,
                            path,
                            both(|| tf(S::SpecBadAlgo, &[&format!("{algo:?}")])),
                        )
                    })?;
                    let over = f.over.as_deref().map(range_of).ok_or_else(|| {
                        self.error(f.at, path, both(|| tf(S::SpecChecksumNeeds, &[])))
                    })?;
                    let format = match f.format.as_deref() {
                        None | Some("binary") => CheckFormat::Binary,
                        Some("hex") => CheckFormat::Hex,
                        Some(other) => {
                            return Err(self.error(
                                f.at,
                                path,
                                both(|| tf(S::SpecBadType, &[&other])),
                            ));
                        }
                    };
                    for a in &f.also {
                        check::width(a).ok_or_else(|| {
                            self.error(
                                f.at,
                                path,
                                both(|| tf(S::SpecBadAlgo, &[&format!("{a:?}")])),
                            )
                        })?;
                    }
                    Kind::Checksum {
                        algo,
                        width,
                        over,
                        format,
                        also: f.also.clone(),
                    }
                }
                "csv" => {
                    let sep = f
                        .sep
                        .as_deref()
                        .and_then(unescape_text)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| self.error(f.at, path, both(|| tf(S::SpecSepNeeds, &[]))))?;
                    let children = self.children(f, path)?;
                    let switch = match &f.on {
                        Some(on) => {
                            let on = self.expr(f, path, on)?;
                            Some((on, self.cases(f, path)?))
                        }
                        None => None,
                    };
                    for &id in &children {
                        self.check_column(id)?;
                    }
                    Kind::Csv {
                        len: self.region(f, path, true, false)?.unwrap_or(Len::Rest),
                        sep,
                        children,
                        switch,
                    }
                }
                "kv" => {
                    let text = |s: &Option<String>| {
                        s.as_deref()
                            .and_then(unescape_text)
                            .filter(|s| !s.is_empty())
                    };
                    let (Some(sep), Some(eq)) = (text(&f.sep), text(&f.eq)) else {
                        return Err(self.error(f.at, path, both(|| tf(S::SpecSepNeeds, &[]))));
                    };
                    let mut keys = Vec::new();
                    for k in &f.keys {
                        keys.push(self.key(f.at, path, k)?);
                    }
                    Kind::Kv {
                        len: self.region(f, path, true, false)?.unwrap_or(Len::Rest),
                        sep,
                        eq,
                        nested: f.nested.clone(),
                        keys,
                    }
                }
                "text" => Kind::Column(Column::Text),
                "int" => Kind::Column(Column::Int),
                "dec" => Kind::Column(Column::Dec),
                "ddmm" => Kind::Column(Column::Ddmm),
                "hhmmss" => Kind::Column(Column::Hhmmss),
                "ddmmyy" => Kind::Column(Column::Ddmmyy),
                "hex" => Kind::Column(Column::Hex),
                other => {
                    return Err(self.error(f.at, path, both(|| tf(S::SpecBadType, &[&other]))));
                }
            }
        };
        // A scale needs a number: a number, BCD digits, a numeric text or column.
        let scaled = f.scale.is_some() || f.offset.is_some() || f.decimals.is_some();
        if scaled
            && matches!(
                kind,
                Kind::Bytes(_)
                    | Kind::Const(_)
                    | Kind::Group { .. }
                    | Kind::Repeat { .. }
                    | Kind::Switch { .. }
                    | Kind::Checksum { .. }
                    | Kind::Csv { .. }
                    | Kind::Kv { .. }
            )
        {
            return Err(self.error(f.at, path, both(|| tf(S::SpecScaleNeedsNumber, &[&ty]))));
        }
        if f.signed.is_some() && !matches!(kind, Kind::Bcd(_)) {
            return Err(self.error(f.at, path, both(|| tf(S::SpecSignedBcd, &[&ty]))));
        }
        if matches!(kind, Kind::Bcd(_)) && f.endian.is_none() {
            // BCD reads as written unless the field says low byte first.
            little = false;
        }
        let when = match &f.when {
            Some(w) => Some(self.expr(f, path, w)?),
            None => None,
        };
        let look = self.look(f, path)?;
        let node = Node {
            name: Arc::from(f.name.as_str()),
            path: path.to_owned(),
            en: f.en.clone(),
            zh: f.zh.clone(),
            kind,
            when,
            little,
            words: f.words.unwrap_or_default(),
            sub: f.sub,
            look,
            reserve: 0,
            length_of: f.length_of.as_deref().map(range_of),
            count_of: f.count_of.clone(),
            range: f.range,
            signed: f.signed == Some(true),
            at: f.at,
        };
        Ok(self.push(node))
    }

    fn key(&self, at: usize, path: &str, k: &KeySpec) -> Result<KeyInfo, SpecError> {
        let values = match &k.values {
            Some(ValuesSpec::List(_)) => {
                return Err(self.error(at, path, both(|| tf(S::SpecKeyValues, &[&k.key]))));
            }
            other => self.values_at(at, path, other.as_ref())?,
        };
        Ok(KeyInfo {
            key: k.key.clone(),
            en: k.en.clone(),
            zh: k.zh.clone(),
            look: Look {
                values,
                flags: k.flags.clone(),
                unit: k.unit.clone(),
                show: k.show.unwrap_or_default(),
                ..Look::default()
            },
            required: k.required,
            digits: k.digits,
            number: k.number,
        })
    }

    fn check_column(&self, id: NodeId) -> Result<(), SpecError> {
        let Some(node) = self.prog.node(id) else {
            return Ok(());
        };
        match &node.kind {
            Kind::Column(_) | Kind::Computed(_) => Ok(()),
            Kind::Repeat { children, .. } => {
                children.iter().try_for_each(|c| self.check_column(*c))
            }
            _ => Err(self.error(node.at, &node.path, both(|| tf(S::SpecNotColumn, &[])))),
        }
    }

    fn children(&mut self, f: &Located<FieldSpec>, path: &str) -> Result<Vec<NodeId>, SpecError> {
        match (&f.layout, f.fields.is_empty()) {
            (Some(name), true) => {
                // The layout's fields, made again under this field's path.
                self.layout(f, path, name)?;
                let spec = self.spec;
                let Some(layout) = spec.layouts.get(name) else {
                    return Err(self.error(f.at, path, both(|| tf(S::SpecNoLayout, &[&name]))));
                };
                self.open.push(name.clone());
                let out = self.list(&layout.fields, path);
                self.open.pop();
                out
            }
            (None, _) => self.list(&f.fields, path),
            (Some(_), false) => {
                Err(self.error(f.at, path, both(|| tf(S::SpecFieldsOrLayout, &[]))))
            }
        }
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.prog.nodes.push(node);
        (self.prog.nodes.len() - 1) as NodeId
    }
}

/// `u8` … `i64`, `u24`, `i24`: (bytes, signed).
fn int_type(ty: &str) -> Option<(u8, bool)> {
    let (signed, bits) = match ty.as_bytes().first()? {
        b'u' => (false, ty.get(1..)?),
        b'i' => (true, ty.get(1..)?),
        _ => return None,
    };
    let width = match bits {
        "8" => 1,
        "16" => 2,
        "24" => 3,
        "32" => 4,
        "64" => 8,
        _ => return None,
    };
    Some((width, signed))
}

/// Bytes a node always has, if that is known before decoding.
pub fn fixed_size(prog: &Program, id: NodeId) -> Option<usize> {
    let node = prog.node(id)?;
    match &node.kind {
        Kind::Int { width, .. } | Kind::Float { width } => Some(usize::from(*width)),
        Kind::Bits { .. } | Kind::Computed(_) => Some(0),
        Kind::Const(bytes) => Some(bytes.len()),
        Kind::Bcd(Len::Fixed(n)) | Kind::Bytes(Len::Fixed(n)) | Kind::Str(Len::Fixed(n), _) => {
            Some(*n)
        }
        Kind::Checksum { width, format, .. } => Some(match format {
            CheckFormat::Binary => usize::from(*width),
            CheckFormat::Hex => usize::from(*width) * 2,
        }),
        Kind::Group {
            len: Some(Len::Fixed(n)),
            ..
        }
        | Kind::Switch {
            len: Some(Len::Fixed(n)),
            ..
        } => Some(*n),
        Kind::Group {
            len: None,
            children,
        } => {
            let mut sum = 0usize;
            for &c in children {
                if prog.node(c)?.when.is_some() {
                    return None;
                }
                sum += fixed_size(prog, c)?;
            }
            Some(sum)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_types_read_their_width() {
        assert_eq!(int_type("u24"), Some((3, false)));
        assert_eq!(int_type("i64"), Some((8, true)));
        assert_eq!(int_type("u12"), None);
        assert_eq!(range_of("msg_id..body"), ("msg_id".into(), "body".into()));
        assert_eq!(range_of("data"), ("data".into(), "data".into()));
    }

    #[test]
    fn a_nested_key_keeps_its_separators() {
        let n = NestedSpec {
            key: "CP".into(),
            open: "&&".into(),
            close: "&&".into(),
            groups: ";".into(),
            sep: ",".into(),
        };
        assert_eq!(n.clone(), n);
    }
}
