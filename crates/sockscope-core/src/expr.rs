//! Expressions in rules: values read from the received message (`rx.u16be@4`, `rx[0..2]`,
//! `rx.len`, `cap.1`), the session's state and tables, arithmetic and comparisons, and the
//! encoders that turn a number into bytes (`u16be(3 + 2 * rx.u16be@10)`).
//!
//! Parsed once when the rules are compiled (errors name their column); evaluated per message.
//! Evaluation never panics: a read past the end, a division by zero, an overflow or a value of
//! the wrong kind is an [`EvalError`] sentence, and the condition it is in does not match.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::i18n::{S, t, tf};

/// What an expression evaluates to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A whole number (128 bits: every u64 and i64 fits, and their sums).
    Int(i128),
    /// Bytes (the message, a slice of it, a table, an encoded number).
    Bytes(Vec<u8>),
    /// Text (a regex capture, the state, the peer's address).
    Text(String),
    /// A comparison's result.
    Bool(bool),
}

impl Value {
    /// What kind of value it is, in words.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => t(S::ExprKindInt),
            Value::Bytes(_) => t(S::ExprKindBytes),
            Value::Text(_) => t(S::ExprKindText),
            Value::Bool(_) => t(S::ExprKindBool),
        }
    }

    /// The value as an expression would write it: `4`, `"粤B12345"`, `7E 01`, `true`.
    pub fn written(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Bytes(b) => crate::hex::format(b),
            Value::Text(s) => format!("{s:?}"),
            Value::Bool(b) => b.to_string(),
        }
    }

    /// True for `true`, a non-zero number, and non-empty bytes or text.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Int(n) => *n != 0,
            Value::Bytes(b) => !b.is_empty(),
            Value::Text(s) => !s.is_empty(),
        }
    }
}

/// What an expression gives, known from its text alone (a hex reply needs to know how wide a
/// number is before it can be bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number; its width when it was read from bytes (`rx[6]` is a `u8`, `rx.u16be@8` a
    /// `u16be`), `None` when it was computed (`rx.len`, `1 + 2`).
    Int(Option<IntType>),
    /// Bytes.
    Bytes,
    /// Text.
    Text,
    /// A comparison.
    Bool,
    /// Known only when it runs (a variable, `hex(…)`).
    Unknown,
}

/// An integer type read from or written to bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IntType {
    /// 1, 2, 4 or 8 bytes.
    pub bytes: u8,
    /// Two's complement.
    pub signed: bool,
    /// Least significant byte first.
    pub little: bool,
}

impl IntType {
    /// `u8`, `i8`, `u16be`, `i32le`, … (`u8`/`i8` take no byte order).
    pub fn parse(name: &str) -> Option<IntType> {
        let (signed, rest) = match name.as_bytes().first()? {
            b'u' => (false, name.get(1..)?),
            b'i' => (true, name.get(1..)?),
            _ => return None,
        };
        let (bits, little) = if rest == "8" {
            ("8", false)
        } else if let Some(bits) = rest.strip_suffix("be") {
            (bits, false)
        } else if let Some(bits) = rest.strip_suffix("le") {
            (bits, true)
        } else {
            return None;
        };
        let bytes = match bits {
            "8" if rest == "8" => 1,
            "16" => 2,
            "32" => 4,
            "64" => 8,
            _ => return None,
        };
        Some(IntType {
            bytes,
            signed,
            little,
        })
    }

    /// Its name as [`parse`](Self::parse) reads it.
    pub fn name(self) -> String {
        let sign = if self.signed { 'i' } else { 'u' };
        let bits = u32::from(self.bytes) * 8;
        if self.bytes == 1 {
            format!("{sign}8")
        } else {
            format!("{sign}{bits}{}", if self.little { "le" } else { "be" })
        }
    }

    /// The number at the start of `bytes` (which must hold at least `self.bytes`).
    pub fn read(self, bytes: &[u8]) -> Option<i128> {
        let raw = bytes.get(..usize::from(self.bytes))?;
        let mut value: u64 = 0;
        if self.little {
            for b in raw.iter().rev() {
                value = value << 8 | u64::from(*b);
            }
        } else {
            for b in raw {
                value = value << 8 | u64::from(*b);
            }
        }
        let bits = u32::from(self.bytes) * 8;
        if self.signed && bits < 64 && value >> (bits - 1) & 1 == 1 {
            Some(i128::from(value) - (1i128 << bits))
        } else if self.signed && bits == 64 {
            Some(i128::from(value.cast_signed()))
        } else {
            Some(i128::from(value))
        }
    }

    /// The smallest and largest value it holds.
    fn range(self) -> (i128, i128) {
        let bits = u32::from(self.bytes) * 8;
        if self.signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }

    /// `value` as bytes, if it fits.
    pub fn write(self, value: i128) -> Option<Vec<u8>> {
        let (lo, hi) = self.range();
        if value < lo || value > hi {
            return None;
        }
        let n = usize::from(self.bytes);
        let raw = (value as u128).to_be_bytes();
        let mut out = raw.get(16 - n..)?.to_vec();
        if self.little {
            out.reverse();
        }
        Some(out)
    }
}

/// Why an expression does not parse: what and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an expression could not be evaluated for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The named fields of a decoded frame, as expressions read them: `f.msg_id` in a rule or a
/// filter, a bare `props` inside a protocol spec.
pub trait Fields {
    /// The value of the field `name` (a name, or a path such as `body.lat`), if there is one.
    fn field(&self, name: &str) -> Option<Value>;
}

/// No fields: a message no protocol decoded.
pub struct NoFields;

impl Fields for NoFields {
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
}

/// What an expression may read.
pub struct Ctx<'a> {
    /// The received message.
    pub rx: &'a [u8],
    /// Regex captures of the rule's condition: (name, text); index 0 is the whole match.
    pub caps: &'a [(Option<String>, Option<String>)],
    /// The session's state.
    pub state: &'a str,
    /// Who sent the message.
    pub peer: SocketAddr,
    /// The session's named tables (a register map, say).
    pub tables: &'a BTreeMap<String, Vec<u8>>,
    /// Now.
    pub now: SystemTime,
    /// The session's `{{counter}}` value.
    pub counter: i64,
    /// A conversation's variables (`var.NAME`), captured from earlier replies.
    pub vars: &'a [(String, Value)],
    /// The message's decoded fields (`f.NAME`), when a protocol decoded it.
    pub fields: &'a dyn Fields,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Neg,
    Not,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Name {
    Rx,
    Len,
    State,
    PeerIp,
    PeerPort,
    Counter,
    Time,
    UnixTime,
    Table(String),
    Cap(String),
    Var(String),
    Field(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Func {
    Encode(IntType),
    Hex,
    Len,
}

/// A parsed expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr(Node);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Int(i128),
    /// A decimal number as written (`12.5`): it compares as a number with a field's text
    /// that holds one (NMEA's `speed`).
    Dec(String),
    Str(String),
    Name(Name),
    Field(Box<Node>, IntType, Box<Node>),
    Slice(Box<Node>, Option<Box<Node>>, Option<Box<Node>>),
    Index(Box<Node>, Box<Node>),
    Call(Func, Vec<Node>),
    Unary(Op, Box<Node>),
    Binary(Op, Box<Node>, Box<Node>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Int(i128),
    Dec(String),
    Str(String),
    Ident(String),
    Sym(&'static str),
}

const SYMBOLS: [&str; 24] = [
    "..", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "!",
    "(", ")", "[", "]", ",", "@", "&",
];
const MORE_SYMBOLS: [&str; 2] = ["|", "^"];

/// Most nested levels an expression may have (a recursive parser's stack stays small).
const MAX_DEPTH: usize = 64;

fn lex(text: &str, base_column: usize) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let column = base_column + i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            let word = word.replace('_', "");
            // A decimal number: digits, a point and digits (`1..3` stays a range).
            if word.bytes().all(|b| b.is_ascii_digit())
                && chars.get(i) == Some(&'.')
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
            {
                i += 1;
                while chars.get(i).is_some_and(char::is_ascii_digit) {
                    i += 1;
                }
                let text: String = chars.get(start..i).unwrap_or_default().iter().collect();
                out.push((Tok::Dec(text.replace('_', "")), column));
                continue;
            }
            let value = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
                Some(hex) => i128::from_str_radix(hex, 16),
                None => word.parse::<i128>(),
            }
            .map_err(|_| ParseError(tf(S::ExprBadNumber, &[&word, &column])))?;
            out.push((Tok::Int(value), column));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while chars
                .get(i)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
                && !(chars.get(i) == Some(&'.') && chars.get(i + 1) == Some(&'.'))
            {
                i += 1;
            }
            let word: String = chars.get(start..i).unwrap_or_default().iter().collect();
            out.push((Tok::Ident(word), column));
            continue;
        }
        if c == '"' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(ParseError(tf(S::ExprUnclosedString, &[&column]))),
                    Some('"') => break,
                    Some('\\') if chars.get(i + 1).is_some() => {
                        if let Some(&next) = chars.get(i + 1) {
                            s.push(next);
                        }
                        i += 2;
                    }
                    Some(&c) => {
                        s.push(c);
                        i += 1;
                    }
                }
            }
            i += 1;
            out.push((Tok::Str(s), column));
            continue;
        }
        let rest: String = chars
            .get(i..(i + 2).min(chars.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        let symbol = SYMBOLS
            .iter()
            .chain(MORE_SYMBOLS.iter())
            .find(|s| rest.starts_with(**s));
        match symbol {
            Some(s) => {
                out.push((Tok::Sym(s), column));
                i += s.len();
            }
            None => return Err(ParseError(tf(S::ExprUnexpected, &[&c, &column]))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    end_column: usize,
    depth: usize,
    /// Inside a protocol spec: a bare name is a field read so far.
    bare_fields: bool,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.toks.get(self.at).map_or(self.end_column, |(_, c)| *c)
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, sym: &str) -> Result<(), ParseError> {
        if self.eat(sym) {
            Ok(())
        } else {
            Err(ParseError(tf(S::ExprExpected, &[&sym, &self.column()])))
        }
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(ParseError(tf(S::ExprTooDeep, &[&MAX_DEPTH])))
        } else {
            Ok(())
        }
    }

    fn expr(&mut self) -> Result<Node, ParseError> {
        self.deeper()?;
        let node = self.binary(0);
        self.depth -= 1;
        node
    }

    /// Binary operators by precedence, loosest first.
    fn binary(&mut self, level: usize) -> Result<Node, ParseError> {
        const LEVELS: [&[(&str, Op)]; 9] = [
            &[("||", Op::Or)],
            &[("&&", Op::And)],
            &[
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("<", Op::Lt),
                (">", Op::Gt),
            ],
            &[("|", Op::BitOr)],
            &[("^", Op::BitXor)],
            &[("&", Op::BitAnd)],
            &[("<<", Op::Shl), (">>", Op::Shr)],
            &[("+", Op::Add), ("-", Op::Sub)],
            &[("*", Op::Mul), ("/", Op::Div), ("%", Op::Rem)],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        let mut left = self.binary(level + 1)?;
        'more: loop {
            for (sym, op) in *ops {
                if self.eat(sym) {
                    let right = self.binary(level + 1)?;
                    left = Node::Binary(*op, Box::new(left), Box::new(right));
                    continue 'more;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        for (sym, op) in [("-", Op::Neg), ("!", Op::Not)] {
            if self.eat(sym) {
                self.deeper()?;
                let inner = self.unary()?;
                self.depth -= 1;
                return Ok(Node::Unary(op, Box::new(inner)));
            }
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Node, ParseError> {
        let mut node = self.primary()?;
        while self.eat("[") {
            let from = if matches!(self.peek(), Some(Tok::Sym(".."))) {
                None
            } else {
                Some(Box::new(self.expr()?))
            };
            if self.eat("..") {
                let to = if matches!(self.peek(), Some(Tok::Sym("]"))) {
                    None
                } else {
                    Some(Box::new(self.expr()?))
                };
                self.expect("]")?;
                node = Node::Slice(Box::new(node), from, to);
            } else {
                self.expect("]")?;
                let Some(at) = from else {
                    return Err(ParseError(tf(S::ExprExpected, &[&"..", &self.column()])));
                };
                node = Node::Index(Box::new(node), at);
            }
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let column = self.column();
        let Some((tok, _)) = self.toks.get(self.at).cloned() else {
            return Err(ParseError(tf(
                S::ExprExpected,
                &[&t(S::ExprAValue), &column],
            )));
        };
        self.at += 1;
        match tok {
            Tok::Int(n) => Ok(Node::Int(n)),
            Tok::Dec(s) => Ok(Node::Dec(s)),
            Tok::Str(s) => Ok(Node::Str(s)),
            Tok::Sym("(") => {
                let inner = self.expr()?;
                self.expect(")")?;
                Ok(inner)
            }
            Tok::Sym(s) => Err(ParseError(tf(S::ExprUnexpected, &[&s, &column]))),
            Tok::Ident(word) => self.ident(&word, column),
        }
    }

    fn ident(&mut self, word: &str, column: usize) -> Result<Node, ParseError> {
        if self.eat("(") {
            let func = match word {
                "hex" => Func::Hex,
                "len" => Func::Len,
                other => Func::Encode(
                    IntType::parse(other)
                        .ok_or_else(|| ParseError(tf(S::ExprUnknownFunc, &[&other, &column])))?,
                ),
            };
            let mut args = Vec::new();
            if !self.eat(")") {
                loop {
                    args.push(self.expr()?);
                    if self.eat(")") {
                        break;
                    }
                    self.expect(",")?;
                }
            }
            if args.len() != 1 {
                return Err(ParseError(tf(S::ExprOneArgument, &[&word, &column])));
            }
            return Ok(Node::Call(func, args));
        }
        if self.eat("@") {
            // `BASE.TYPE@OFFSET`: a number read from bytes.
            let (base, ty) = word
                .rsplit_once('.')
                .and_then(|(base, ty)| Some((base, IntType::parse(ty)?)))
                .ok_or_else(|| ParseError(tf(S::ExprUnknownName, &[&word, &column])))?;
            let base = name(base, column, self.bare_fields)?;
            let at = self.primary()?;
            return Ok(Node::Field(Box::new(Node::Name(base)), ty, Box::new(at)));
        }
        Ok(Node::Name(name(word, column, self.bare_fields)?))
    }
}

fn name(word: &str, column: usize, bare_fields: bool) -> Result<Name, ParseError> {
    if let Some(field) = word.strip_prefix("f.").filter(|s| !s.is_empty()) {
        return Ok(Name::Field(field.to_owned()));
    }
    if bare_fields && !matches!(word, "rx" | "rx.len") {
        return Ok(Name::Field(word.to_owned()));
    }
    Ok(match word {
        "rx" => Name::Rx,
        "rx.len" | "len" => Name::Len,
        "state" => Name::State,
        "peer.ip" => Name::PeerIp,
        "peer.port" => Name::PeerPort,
        "counter" => Name::Counter,
        "time" => Name::Time,
        "unixtime" => Name::UnixTime,
        // A script's last sent bytes (kept among its variables).
        "tx" => Name::Var("tx".to_owned()),
        other => {
            if let Some(table) = other.strip_prefix("table.").filter(|s| !s.is_empty()) {
                Name::Table(table.to_owned())
            } else if let Some(cap) = other.strip_prefix("cap.").filter(|s| !s.is_empty()) {
                Name::Cap(cap.to_owned())
            } else if let Some(var) = other.strip_prefix("var.").filter(|s| !s.is_empty()) {
                Name::Var(var.to_owned())
            } else {
                return Err(ParseError(tf(S::ExprUnknownName, &[&other, &column])));
            }
        }
    })
}

impl Expr {
    /// Parses `text`; columns in errors count from `base_column` (the expression's place in
    /// the template or field it came from).
    pub fn parse(text: &str, base_column: usize) -> Result<Expr, ParseError> {
        Self::parse_with(text, base_column, false)
    }

    /// Parses `text` as written in a protocol spec: a bare name (`props & 0x3FF`) reads the
    /// field of that name decoded so far; `rx` and `rx.len` are the frame.
    pub fn parse_in_spec(text: &str, base_column: usize) -> Result<Expr, ParseError> {
        Self::parse_with(text, base_column, true)
    }

    fn parse_with(text: &str, base_column: usize, bare_fields: bool) -> Result<Expr, ParseError> {
        let toks = lex(text, base_column)?;
        let mut parser = Parser {
            toks,
            at: 0,
            end_column: base_column + text.chars().count(),
            depth: 0,
            bare_fields,
        };
        let node = parser.expr()?;
        if parser.at < parser.toks.len() {
            let column = parser.column();
            let what = match parser.peek() {
                Some(Tok::Sym(s)) => (*s).to_owned(),
                Some(Tok::Ident(s) | Tok::Dec(s)) => s.clone(),
                Some(Tok::Str(s)) => format!("\"{s}\""),
                Some(Tok::Int(n)) => n.to_string(),
                None => String::new(),
            };
            return Err(ParseError(tf(S::ExprUnexpected, &[&what, &column])));
        }
        Ok(Expr(node))
    }

    /// Its value for one message.
    pub fn eval(&self, cx: &Ctx<'_>) -> Result<Value, EvalError> {
        eval(&self.0, cx)
    }

    /// Its value when it reads nothing (`300`, `0x8001`, `-1`): the same for every message,
    /// so a value that can never fit is said before anything runs. `None` when it reads a
    /// name, or fails.
    pub fn constant(&self) -> Option<Value> {
        static NO_TABLES: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        if !self.names().is_empty() {
            return None;
        }
        let cx = Ctx {
            rx: &[],
            caps: &[],
            state: "",
            peer: SocketAddr::from(([0, 0, 0, 0], 0)),
            tables: &NO_TABLES,
            now: SystemTime::UNIX_EPOCH,
            counter: 0,
            vars: &[],
            fields: &NoFields,
        };
        self.eval(&cx).ok()
    }

    /// True if it reads the message (a template without `rx` renders the same every time).
    pub fn reads_message(&self) -> bool {
        self.any_name(&|n| matches!(n, Name::Rx | Name::Len | Name::Cap(_)))
    }

    /// True if it uses `counter` (which then advances, as in the send box).
    pub fn uses_counter(&self) -> bool {
        self.any_name(&|n| matches!(n, Name::Counter))
    }

    fn names(&self) -> Vec<&Name> {
        fn walk<'a>(node: &'a Node, out: &mut Vec<&'a Name>) {
            match node {
                Node::Name(name) => out.push(name),
                Node::Int(_) | Node::Dec(_) | Node::Str(_) => {}
                Node::Field(a, _, b) | Node::Index(a, b) | Node::Binary(_, a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Node::Slice(a, b, c) => {
                    walk(a, out);
                    for part in [b, c].into_iter().flatten() {
                        walk(part, out);
                    }
                }
                Node::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
                Node::Unary(_, a) => walk(a, out),
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut out);
        out
    }

    /// The regex groups it reads (`cap.1`, `cap.seq`), by number or name, in order.
    pub fn caps_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in self.names() {
            if let Name::Cap(cap) = name
                && !out.contains(cap)
            {
                out.push(cap.clone());
            }
        }
        out
    }

    /// The fields it reads (`f.msg_id`, or bare names in a spec), in order.
    pub fn fields_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in self.names() {
            if let Name::Field(field) = name
                && !out.contains(field)
            {
                out.push(field.clone());
            }
        }
        out
    }

    /// The tables it reads (`table.holding`).
    pub fn tables_used(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for name in self.names() {
            if let Name::Table(table) = name
                && !out.contains(table)
            {
                out.push(table.clone());
            }
        }
        out
    }

    /// What kind of value it gives, as far as can be known before a message arrives.
    pub fn kind(&self) -> Kind {
        fn of(node: &Node) -> Kind {
            match node {
                Node::Int(_) | Node::Call(Func::Len, _) | Node::Unary(Op::Neg, _) => {
                    Kind::Int(None)
                }
                Node::Str(_) => Kind::Text,
                Node::Name(name) => match name {
                    Name::Len | Name::PeerPort | Name::Counter | Name::UnixTime => Kind::Int(None),
                    Name::Rx | Name::Table(_) => Kind::Bytes,
                    Name::State | Name::PeerIp | Name::Time | Name::Cap(_) => Kind::Text,
                    Name::Var(_) | Name::Field(_) => Kind::Unknown,
                },
                Node::Field(_, ty, _) => Kind::Int(Some(*ty)),
                Node::Index(..) => Kind::Int(IntType::parse("u8")),
                Node::Slice(base, ..) => match of(base) {
                    Kind::Text => Kind::Text,
                    _ => Kind::Bytes,
                },
                Node::Call(Func::Encode(_), _) => Kind::Bytes,
                Node::Call(Func::Hex, _) | Node::Dec(_) => Kind::Unknown,
                Node::Unary(..) => Kind::Bool,
                Node::Binary(op, ..) => match op {
                    Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::And | Op::Or => {
                        Kind::Bool
                    }
                    _ => Kind::Int(None),
                },
            }
        }
        of(&self.0)
    }

    fn any_name(&self, wanted: &dyn Fn(&Name) -> bool) -> bool {
        fn reads(node: &Node, wanted: &dyn Fn(&Name) -> bool) -> bool {
            match node {
                Node::Name(n) if wanted(n) => true,
                Node::Int(_) | Node::Dec(_) | Node::Str(_) | Node::Name(_) => false,
                Node::Field(a, _, b) | Node::Index(a, b) | Node::Binary(_, a, b) => {
                    reads(a, wanted) || reads(b, wanted)
                }
                Node::Slice(a, b, c) => {
                    reads(a, wanted)
                        || b.as_deref().is_some_and(|b| reads(b, wanted))
                        || c.as_deref().is_some_and(|c| reads(c, wanted))
                }
                Node::Call(_, args) => args.iter().any(|a| reads(a, wanted)),
                Node::Unary(_, a) => reads(a, wanted),
            }
        }
        reads(&self.0, wanted)
    }
}

fn int(node: &Node, cx: &Ctx<'_>) -> Result<i128, EvalError> {
    match eval(node, cx)? {
        Value::Int(n) => Ok(n),
        other => Err(EvalError(tf(
            S::ExprNeeds,
            &[&t(S::ExprKindInt), &other.kind()],
        ))),
    }
}

/// A value as a number: a whole number, or text that is one (`"20.5"`, `12.5` as written).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Int(n) => Some(*n as f64),
        Value::Text(s) => {
            let s = s.trim();
            let digits = !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+'));
            digits.then(|| s.parse::<f64>().ok()).flatten()
        }
        _ => None,
    }
}

fn bytes_of(value: Value) -> Result<Vec<u8>, EvalError> {
    match value {
        Value::Bytes(b) => Ok(b),
        Value::Text(s) => Ok(s.into_bytes()),
        other => Err(EvalError(tf(
            S::ExprNeeds,
            &[&t(S::ExprKindBytes), &other.kind()],
        ))),
    }
}

fn index(n: i128, len: usize) -> Result<usize, EvalError> {
    usize::try_from(n).map_err(|_| EvalError(tf(S::ExprPastEnd, &[&n, &len])))
}

fn eval_name(name: &Name, cx: &Ctx<'_>) -> Result<Value, EvalError> {
    Ok(match name {
        Name::Rx => Value::Bytes(cx.rx.to_vec()),
        Name::Len => Value::Int(cx.rx.len() as i128),
        Name::State => Value::Text(cx.state.to_owned()),
        Name::PeerIp => Value::Text(cx.peer.ip().to_string()),
        Name::PeerPort => Value::Int(i128::from(cx.peer.port())),
        Name::Counter => Value::Int(i128::from(cx.counter)),
        Name::Time => {
            let local: chrono::DateTime<chrono::Local> = cx.now.into();
            Value::Text(local.format("%H:%M:%S").to_string())
        }
        Name::UnixTime => Value::Int(
            cx.now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i128::from(d.as_secs())),
        ),
        Name::Table(table) => Value::Bytes(
            cx.tables
                .get(table)
                .cloned()
                .ok_or_else(|| EvalError(tf(S::ExprNoTable, &[table])))?,
        ),
        Name::Var(var) => cx
            .vars
            .iter()
            .find(|(name, _)| name == var)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| EvalError(tf(S::ExprNoVar, &[var])))?,
        Name::Field(field) => cx
            .fields
            .field(field)
            .ok_or_else(|| EvalError(tf(S::ExprNoField, &[field])))?,
        Name::Cap(cap) => {
            let found = match cap.parse::<usize>() {
                Ok(n) => cx.caps.get(n).map(|(_, v)| v),
                Err(_) => cx
                    .caps
                    .iter()
                    .find(|(name, _)| name.as_deref() == Some(cap.as_str()))
                    .map(|(_, v)| v),
            };
            match found {
                Some(Some(text)) => Value::Text(text.clone()),
                _ => return Err(EvalError(tf(S::ExprNoCapture, &[cap]))),
            }
        }
    })
}

fn eval(node: &Node, cx: &Ctx<'_>) -> Result<Value, EvalError> {
    Ok(match node {
        Node::Int(n) => Value::Int(*n),
        Node::Dec(s) | Node::Str(s) => Value::Text(s.clone()),
        Node::Name(name) => eval_name(name, cx)?,
        Node::Field(base, ty, at) => {
            let bytes = bytes_of(eval(base, cx)?)?;
            let at = int(at, cx)?;
            let start = index(at, bytes.len())?;
            let end = start.saturating_add(usize::from(ty.bytes));
            bytes
                .get(start..end)
                .and_then(|b| ty.read(b))
                .map(Value::Int)
                .ok_or_else(|| EvalError(tf(S::ExprPastEndRange, &[&start, &end, &bytes.len()])))?
        }
        Node::Slice(base, from, to) => {
            let value = eval(base, cx)?;
            let text = matches!(value, Value::Text(_));
            let bytes = bytes_of(value)?;
            let from = match from {
                Some(n) => index(int(n, cx)?, bytes.len())?,
                None => 0,
            };
            let to = match to {
                Some(n) => index(int(n, cx)?, bytes.len())?,
                None => bytes.len(),
            };
            let part = bytes
                .get(from..to)
                .ok_or_else(|| EvalError(tf(S::ExprPastEndRange, &[&from, &to, &bytes.len()])))?
                .to_vec();
            if text {
                Value::Text(String::from_utf8_lossy(&part).into_owned())
            } else {
                Value::Bytes(part)
            }
        }
        Node::Index(base, at) => {
            let bytes = bytes_of(eval(base, cx)?)?;
            let at = index(int(at, cx)?, bytes.len())?;
            Value::Int(i128::from(*bytes.get(at).ok_or_else(|| {
                EvalError(tf(S::ExprPastEndRange, &[&at, &(at + 1), &bytes.len()]))
            })?))
        }
        Node::Call(func, args) => {
            let arg = args
                .first()
                .ok_or_else(|| EvalError(t(S::ExprAValue).to_owned()))?;
            match func {
                Func::Encode(ty) => {
                    let n = int(arg, cx)?;
                    Value::Bytes(
                        ty.write(n)
                            .ok_or_else(|| EvalError(tf(S::ExprDoesNotFit, &[&n, &ty.name()])))?,
                    )
                }
                Func::Hex => match eval(arg, cx)? {
                    Value::Text(s) => {
                        Value::Bytes(crate::hex::parse(&s).map_err(|e| EvalError(e.to_string()))?)
                    }
                    other => Value::Text(crate::hex::format(&bytes_of(other)?)),
                },
                Func::Len => match eval(arg, cx)? {
                    Value::Text(s) => Value::Int(s.chars().count() as i128),
                    other => Value::Int(bytes_of(other)?.len() as i128),
                },
            }
        }
        Node::Unary(op, inner) => match op {
            Op::Neg => Value::Int(
                int(inner, cx)?
                    .checked_neg()
                    .ok_or_else(|| EvalError(t(S::ExprOverflow).to_owned()))?,
            ),
            _ => Value::Bool(!eval(inner, cx)?.truthy()),
        },
        Node::Binary(op, a, b) => binary(*op, a, b, cx)?,
    })
}

fn binary(op: Op, left: &Node, right: &Node, cx: &Ctx<'_>) -> Result<Value, EvalError> {
    match op {
        Op::And => {
            return Ok(Value::Bool(
                eval(left, cx)?.truthy() && eval(right, cx)?.truthy(),
            ));
        }
        Op::Or => {
            return Ok(Value::Bool(
                eval(left, cx)?.truthy() || eval(right, cx)?.truthy(),
            ));
        }
        Op::Eq | Op::Ne => {
            let (lhs, rhs) = (eval(left, cx)?, eval(right, cx)?);
            // With a decimal number on a side, both are read as numbers (`12.5 == "12.50"`).
            if matches!(left, Node::Dec(_)) || matches!(right, Node::Dec(_)) {
                // Equal as written numbers are (both parsed the same way).
                let same = match (number(&lhs), number(&rhs)) {
                    (Some(x), Some(y)) => x.total_cmp(&y).is_eq(),
                    _ => false,
                };
                return Ok(Value::Bool(same == (op == Op::Eq)));
            }
            let same = match (&lhs, &rhs) {
                (Value::Bytes(p), Value::Text(q)) | (Value::Text(q), Value::Bytes(p)) => {
                    p.as_slice() == q.as_bytes()
                }
                _ => lhs == rhs,
            };
            return Ok(Value::Bool(same == (op == Op::Eq)));
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            // Whole numbers as such; else a decimal number, or text holding a number (NMEA's
            // `speed` is "20.5"), compares as a number.
            let (lhs, rhs) = (eval(left, cx)?, eval(right, cx)?);
            if let (Value::Int(x), Value::Int(y)) = (&lhs, &rhs) {
                return Ok(Value::Bool(match op {
                    Op::Lt => x < y,
                    Op::Le => x <= y,
                    Op::Gt => x > y,
                    _ => x >= y,
                }));
            }
            let (Some(x), Some(y)) = (number(&lhs), number(&rhs)) else {
                let other = if number(&lhs).is_none() { lhs } else { rhs };
                if let Value::Text(text) = &other {
                    let shown: String = text.chars().take(24).collect();
                    return Err(EvalError(tf(S::ExprTextNoNumber, &[&shown])));
                }
                return Err(EvalError(tf(
                    S::ExprNeeds,
                    &[&t(S::ExprKindInt), &other.kind()],
                )));
            };
            return Ok(Value::Bool(match op {
                Op::Lt => x < y,
                Op::Le => x <= y,
                Op::Gt => x > y,
                _ => x >= y,
            }));
        }
        _ => {}
    }
    let (x, y) = (int(left, cx)?, int(right, cx)?);
    let overflow = || EvalError(t(S::ExprOverflow).to_owned());
    Ok(match op {
        Op::Lt => Value::Bool(x < y),
        Op::Le => Value::Bool(x <= y),
        Op::Gt => Value::Bool(x > y),
        Op::Ge => Value::Bool(x >= y),
        Op::Add => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
        Op::Sub => Value::Int(x.checked_sub(y).ok_or_else(overflow)?),
        Op::Mul => Value::Int(x.checked_mul(y).ok_or_else(overflow)?),
        Op::Div | Op::Rem if y == 0 => return Err(EvalError(t(S::ExprDivZero).to_owned())),
        Op::Div => Value::Int(x.checked_div(y).ok_or_else(overflow)?),
        Op::Rem => Value::Int(x.checked_rem(y).ok_or_else(overflow)?),
        Op::BitAnd => Value::Int(x & y),
        Op::BitOr => Value::Int(x | y),
        Op::BitXor => Value::Int(x ^ y),
        Op::Shl | Op::Shr => {
            let by = u32::try_from(y)
                .ok()
                .filter(|b| *b < 127)
                .ok_or_else(overflow)?;
            Value::Int(if op == Op::Shl {
                x.checked_shl(by).ok_or_else(overflow)?
            } else {
                x >> by
            })
        }
        _ => return Err(overflow()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cx<'a>(rx: &'a [u8], tables: &'a BTreeMap<String, Vec<u8>>) -> Ctx<'a> {
        Ctx {
            rx,
            caps: &[],
            vars: &[],
            state: "LOGGED_IN",
            peer: "127.0.0.1:5020".parse().unwrap(),
            tables,
            now: SystemTime::UNIX_EPOCH,
            counter: 7,
            fields: &NoFields,
        }
    }

    fn value(text: &str, rx: &[u8]) -> Result<Value, EvalError> {
        let tables = BTreeMap::from([("regs".to_owned(), vec![0, 10, 0, 20, 0, 30])]);
        Expr::parse(text, 1).unwrap().eval(&cx(rx, &tables))
    }

    const READ: [u8; 12] = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x01, 0x00, 0x02,
    ];

    #[test]
    fn fields_slices_and_arithmetic_read_a_modbus_request() {
        assert_eq!(value("rx.u16be@0", &READ), Ok(Value::Int(1)));
        assert_eq!(value("rx.u16be@10", &READ), Ok(Value::Int(2)));
        assert_eq!(value("rx.u16le@10", &READ), Ok(Value::Int(0x200)));
        assert_eq!(value("rx[7]", &READ), Ok(Value::Int(3)));
        assert_eq!(value("rx[0..2]", &READ), Ok(Value::Bytes(vec![0, 1])));
        assert_eq!(value("rx[10..]", &READ), Ok(Value::Bytes(vec![0, 2])));
        assert_eq!(value("rx.len", &READ), Ok(Value::Int(12)));
        assert_eq!(
            value("u16be(3 + 2 * rx.u16be@10)", &READ),
            Ok(Value::Bytes(vec![0, 7]))
        );
        assert_eq!(
            value(
                "table.regs[2 * rx.u16be@8 .. 2 * (rx.u16be@8 + rx.u16be@10)]",
                &READ
            ),
            Ok(Value::Bytes(vec![0, 20, 0, 30]))
        );
        assert_eq!(
            value("rx.u16be@8 + rx.u16be@10 > len(table.regs) / 2", &READ),
            Ok(Value::Bool(false))
        );
        assert_eq!(value("0x7E & 0x0F | 1 << 4", &READ), Ok(Value::Int(0x1E)));
        assert_eq!(
            value("state == \"LOGGED_IN\" && peer.port == 5020", &READ),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            value("rx[0..2] == hex(\"00 01\")", &READ),
            Ok(Value::Bool(true))
        );
        assert_eq!(value("i8(-1)", &READ), Ok(Value::Bytes(vec![0xFF])));
        assert_eq!(value("rx.i16be@0 - 2", &READ), Ok(Value::Int(-1)));
        assert_eq!(value("counter", &READ), Ok(Value::Int(7)));
    }

    #[test]
    fn signed_and_wide_reads() {
        let ty = IntType::parse("i32le").unwrap();
        assert_eq!(ty.read(&[0xFF, 0xFF, 0xFF, 0xFF]), Some(-1));
        let ty = IntType::parse("i64be").unwrap();
        assert_eq!(
            ty.read(&[0x80, 0, 0, 0, 0, 0, 0, 0]),
            Some(i128::from(i64::MIN))
        );
        let ty = IntType::parse("u64le").unwrap();
        assert_eq!(ty.read(&[0xFF; 8]), Some(i128::from(u64::MAX)));
        assert_eq!(ty.write(i128::from(u64::MAX)), Some(vec![0xFF; 8]));
        assert_eq!(ty.write(-1), None);
        assert_eq!(IntType::parse("u16"), None);
        assert_eq!(IntType::parse("u8le"), None);
    }

    #[test]
    fn mistakes_are_sentences_with_their_column() {
        let e = Expr::parse("rx.u16be@", 10).unwrap_err().0;
        assert!(e.contains("19"), "{e}");
        let e = Expr::parse("rx.bogus", 3).unwrap_err().0;
        assert!(e.contains("rx.bogus") && e.contains('3'), "{e}");
        let e = Expr::parse("u17be(1)", 1).unwrap_err().0;
        assert!(e.contains("u17be"), "{e}");
        assert!(Expr::parse("1 +", 1).is_err());
        assert!(Expr::parse("(1", 1).is_err());
        assert!(Expr::parse("1 2", 1).is_err());
        assert!(Expr::parse("\"open", 1).is_err());
        let e = value("rx.u32be@10", &READ).unwrap_err().0;
        assert!(
            e.contains("10") && e.contains("14") && e.contains("12"),
            "{e}"
        );
        assert!(value("1 / 0", &READ).is_err());
        assert!(value("u8(256)", &READ).is_err());
        assert!(value("cap.1", &READ).is_err());
        assert!(value("table.none", &READ).is_err());
        assert!(value("rx[-1]", &READ).is_err());
        assert!(value("rx + 1", &READ).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(Expr::parse(&deep, 1).is_err());
        let deep = "-".repeat(10_000) + "1";
        assert!(Expr::parse(&deep, 1).is_err());
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_and_any_message_evaluates_or_errs(
            text in "[ -~]{0,40}",
            rx in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            if let Ok(expr) = Expr::parse(&text, 1) {
                let tables = BTreeMap::new();
                let _ = expr.eval(&cx(&rx, &tables));
            }
        }

        #[test]
        fn expressions_made_of_the_grammar_never_panic(
            parts in proptest::collection::vec(prop::sample::select(vec![
                "rx", "rx.len", "rx.u16be@", "rx.i64le@", "rx[", "..", "]", "(", ")", "+", "-",
                "*", "/", "%", "==", "<", "&&", "||", "!", "0", "1", "255", "0xFFFF", "u8(",
                "u64be(", "hex(", "len(", "\"ab\"", "state", "cap.1", "table.regs", ",", "<<",
                "9999999999999999999999999999999", "&", "|", "^",
            ]), 0..16),
            rx in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let text = parts.concat();
            if let Ok(expr) = Expr::parse(&text, 1) {
                let tables = BTreeMap::from([("regs".to_owned(), vec![1, 2, 3, 4])]);
                let _ = expr.eval(&cx(&rx, &tables));
            }
        }

        #[test]
        fn a_number_written_then_read_is_itself(n in any::<i64>(), pick in 0usize..14) {
            let names = ["u8", "i8", "u16be", "u16le", "i16be", "i16le", "u32be", "u32le",
                "i32be", "i32le", "u64be", "u64le", "i64be", "i64le"];
            let ty = IntType::parse(names[pick]).unwrap();
            let n = i128::from(n);
            if let Some(bytes) = ty.write(n) {
                prop_assert_eq!(ty.read(&bytes), Some(n));
            }
        }
    }
}
