//! Conditions over one received message, as written in a profile ([`Cond`]) and compiled once
//! for matching ([`Matcher`]): text and bytes (exact, contained, prefix, suffix, `??`
//! wildcards, a mask), regular expressions over text and bytes, length, an integer at an
//! offset, the sender's address, a checksum, the session's state, any expression; combined with
//! all / any / not.

use std::cell::OnceCell;
use std::net::{IpAddr, SocketAddr};

use memchr::memmem;
use serde::{Deserialize, Serialize};

use super::expr::{Ctx, Expr, IntType};
use crate::codec::TextEncoding;
use crate::codec::checksum::Checksum;
use crate::i18n::{S, tf};

/// How a text or byte pattern is compared with the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Match {
    /// The whole message.
    #[default]
    Exact,
    /// Anywhere in it.
    Contains,
    /// At its start.
    Prefix,
    /// At its end.
    Suffix,
}

/// How an integer read from the message is compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    /// Equal to.
    Eq(i64),
    /// Not equal to.
    Ne(i64),
    /// Less than.
    Lt(i64),
    /// At most.
    Le(i64),
    /// Greater than.
    Gt(i64),
    /// At least.
    Ge(i64),
    /// Within, both ends included.
    Range(i64, i64),
    /// One of.
    In(Vec<i64>),
}

impl Compare {
    fn holds(&self, n: i128) -> bool {
        match self {
            Compare::Eq(v) => n == i128::from(*v),
            Compare::Ne(v) => n != i128::from(*v),
            Compare::Lt(v) => n < i128::from(*v),
            Compare::Le(v) => n <= i128::from(*v),
            Compare::Gt(v) => n > i128::from(*v),
            Compare::Ge(v) => n >= i128::from(*v),
            Compare::Range(lo, hi) => (i128::from(*lo)..=i128::from(*hi)).contains(&n),
            Compare::In(set) => set.iter().any(|v| i128::from(*v) == n),
        }
    }
}

/// A condition on a received message, as saved in a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cond {
    /// Every message.
    #[default]
    Always,
    /// Every one of these holds.
    All(Vec<Cond>),
    /// At least one of these holds.
    Any(Vec<Cond>),
    /// This does not hold.
    Not(Box<Cond>),
    /// Text in the session's encoding: `Text(Exact, "AT")`.
    Text(Match, String),
    /// Bytes as hex, `??` for any byte: `Bytes(Prefix, "01 03 ?? ??")`.
    Bytes(Match, String),
    /// `(message & mask) == value` over the first bytes: `Masked("01 80", "FF F0")`.
    Masked(String, String),
    /// A regular expression over the message decoded as text; its groups are `cap.N` /
    /// `cap.NAME` in the reply.
    Regex(String),
    /// A regular expression over the bytes (`(?-u)` is implied: `\x01` is one byte).
    BytesRegex(String),
    /// The message's length is within `min..=max`.
    Length(usize, usize),
    /// An integer at a byte offset: `Int(7, "u8", Eq(3))`, `Int(8, "u16be", Range(0, 99))`.
    Int(usize, String, Compare),
    /// The sender: `10.0.0.5`, `10.0.0.0/8`, `:502`, `10.0.0.5:502`, `[::1]:80`, `fe80::/10`.
    From(String),
    /// The message ends in a checksum over what comes before it; `true` for a valid one.
    Checksum(Checksum, bool),
    /// The session's state is this (see a rule's `set_state`).
    State(String),
    /// Any expression, true when non-zero / non-empty: `rx.u16be@8 + rx.u16be@10 > 100`.
    Expr(String),
}

/// One message and what matching has learned of it.
pub struct Message<'a> {
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Who sent it.
    pub peer: SocketAddr,
    /// The session's encoding.
    pub encoding: TextEncoding,
    text: OnceCell<String>,
    /// The groups of the first regular expression that matched: (name, text).
    pub caps: Vec<(Option<String>, Option<String>)>,
    /// The session's protocol and which way the message went, when it has one.
    protocol: Option<(&'a crate::protocol::Protocol, crate::protocol::Dir)>,
    /// Its fields, decoded once when an expression first reads one.
    decoded: OnceCell<Option<crate::protocol::Decoded>>,
}

impl<'a> Message<'a> {
    /// A message from `peer`.
    pub fn new(bytes: &'a [u8], peer: SocketAddr, encoding: TextEncoding) -> Self {
        Self {
            bytes,
            peer,
            encoding,
            text: OnceCell::new(),
            caps: Vec::new(),
            protocol: None,
            decoded: OnceCell::new(),
        }
    }

    /// Decoded by `protocol` (a frame going `dir`) when a condition or a reply reads a field.
    #[must_use]
    pub fn with_protocol(
        mut self,
        protocol: Option<&'a crate::protocol::Protocol>,
        dir: crate::protocol::Dir,
    ) -> Self {
        self.protocol = protocol.map(|p| (p, dir));
        self
    }

    /// Its fields as the session's protocol decodes it (`None`: no protocol).
    pub fn decoded(&self) -> Option<&crate::protocol::Decoded> {
        self.decoded
            .get_or_init(|| {
                self.protocol
                    .map(|(p, dir)| p.decode_guess(self.bytes, dir))
            })
            .as_ref()
    }

    /// Its fields as expressions read them (`f.msg_id`); none without a protocol.
    pub fn fields(&self) -> &dyn crate::rules::expr::Fields {
        match self.decoded() {
            Some(decoded) => decoded,
            None => &crate::rules::expr::NoFields,
        }
    }

    /// Decoded once, when a condition first needs the text.
    fn text(&self) -> &str {
        self.text
            .get_or_init(|| self.encoding.decode_complete(self.bytes))
    }
}

/// Where a message may come from.
#[derive(Clone, Debug)]
enum Source {
    Port(u16),
    Addr(SocketAddr),
    Net(IpAddr, u8),
}

/// A compiled condition.
#[derive(Clone, Debug)]
pub enum Matcher {
    /// Always.
    Always,
    /// All.
    All(Vec<Matcher>),
    /// Any.
    Any(Vec<Matcher>),
    /// Not.
    Not(Box<Matcher>),
    /// Bytes with wildcards, compared as `Match` says.
    Pattern(Match, Vec<Option<u8>>),
    /// Value and mask.
    Masked(Vec<u8>, Vec<u8>),
    /// Over text.
    Regex(Box<regex::Regex>),
    /// Over bytes.
    BytesRegex(Box<regex::bytes::Regex>),
    /// Length range.
    Length(usize, usize),
    /// Integer at an offset.
    Int(usize, IntType, Compare),
    /// Sender.
    From(Vec<SourceMatch>),
    /// Checksum.
    Checksum(Checksum, bool),
    /// State.
    State(String),
    /// Expression.
    Expr(Box<Expr>),
}

/// A compiled [`Cond::From`].
#[derive(Clone, Debug)]
pub struct SourceMatch(Source);

/// `??` or hex pairs, any spacing: `01 03 ?? ??`, `0103????`, `0x01,0x03`.
pub fn parse_pattern(text: &str) -> Result<Vec<Option<u8>>, String> {
    let mut digits: Vec<(usize, char)> = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
            i += 2;
            continue;
        }
        if !(c.is_whitespace() || c == ',') {
            digits.push((i + 1, c));
        }
        i += 1;
    }
    if digits.len() % 2 == 1 {
        let column = digits.last().map_or(1, |(c, _)| *c);
        return Err(tf(S::ErrHexOdd, &[&digits.len(), &column]));
    }
    digits
        .chunks(2)
        .map(|pair| match pair {
            [(_, '?'), (_, '?')] => Ok(None),
            [(c1, a), (c2, b)] => {
                let hi = a.to_digit(16).ok_or_else(|| tf(S::ErrHexDigit, &[a, c1]))?;
                let lo = b.to_digit(16).ok_or_else(|| tf(S::ErrHexDigit, &[b, c2]))?;
                Ok(Some((hi * 16 + lo) as u8))
            }
            _ => Ok(None),
        })
        .collect()
}

fn parse_source(text: &str) -> Result<Source, String> {
    let text = text.trim();
    let bad = || tf(S::RuleBadSource, &[&text]);
    if let Some(port) = text.strip_prefix(':') {
        return port.parse().map(Source::Port).map_err(|_| bad());
    }
    if let Some((ip, bits)) = text.split_once('/') {
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let bits: u8 = bits.parse().map_err(|_| bad())?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        if bits > max {
            return Err(bad());
        }
        return Ok(Source::Net(ip, bits));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(Source::Addr(addr));
    }
    text.parse::<IpAddr>()
        .map(|ip| Source::Net(ip, if ip.is_ipv4() { 32 } else { 128 }))
        .map_err(|_| bad())
}

/// The address as the user thinks of it: an IPv4-mapped IPv6 peer (a `::` server) is IPv4.
fn plain(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (plain(ip), plain(net)) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

impl SourceMatch {
    fn holds(&self, peer: SocketAddr) -> bool {
        match &self.0 {
            Source::Port(port) => peer.port() == *port,
            Source::Addr(addr) => {
                plain(peer.ip()) == plain(addr.ip()) && peer.port() == addr.port()
            }
            Source::Net(net, bits) => in_net(peer.ip(), *net, *bits),
        }
    }
}

/// Most nested conditions (all/any/not) a rule may have.
const MAX_DEPTH: usize = 32;

impl Cond {
    /// Compiles the condition for `encoding`; the error is a sentence.
    pub fn compile(&self, encoding: TextEncoding) -> Result<Matcher, String> {
        self.compile_at(encoding, 0)
    }

    fn compile_at(&self, encoding: TextEncoding, depth: usize) -> Result<Matcher, String> {
        if depth > MAX_DEPTH {
            return Err(tf(S::RuleTooDeep, &[&MAX_DEPTH]));
        }
        let all = |conds: &[Cond]| -> Result<Vec<Matcher>, String> {
            conds
                .iter()
                .map(|c| c.compile_at(encoding, depth + 1))
                .collect()
        };
        Ok(match self {
            Cond::Always => Matcher::Always,
            Cond::All(conds) => Matcher::All(all(conds)?),
            Cond::Any(conds) => Matcher::Any(all(conds)?),
            Cond::Not(cond) => Matcher::Not(Box::new(cond.compile_at(encoding, depth + 1)?)),
            Cond::Text(op, text) => Matcher::Pattern(
                *op,
                encoding
                    .encode(text)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .map(Some)
                    .collect(),
            ),
            Cond::Bytes(op, hex) => Matcher::Pattern(*op, parse_pattern(hex)?),
            Cond::Masked(value, mask) => {
                let value = crate::codec::hex::parse(value).map_err(|e| e.to_string())?;
                let mask = crate::codec::hex::parse(mask).map_err(|e| e.to_string())?;
                if value.len() != mask.len() {
                    return Err(tf(S::RuleMaskLength, &[&value.len(), &mask.len()]));
                }
                Matcher::Masked(value, mask)
            }
            Cond::Regex(re) => Matcher::Regex(Box::new(
                regex::Regex::new(re).map_err(|e| tf(S::ErrRegex, &[re, &e]))?,
            )),
            Cond::BytesRegex(re) => Matcher::BytesRegex(Box::new(
                regex::bytes::RegexBuilder::new(re)
                    .unicode(false)
                    .build()
                    .map_err(|e| tf(S::ErrRegex, &[re, &e]))?,
            )),
            Cond::Length(min, max) => Matcher::Length(*min, *max),
            Cond::Int(at, ty, is) => Matcher::Int(
                *at,
                IntType::parse(ty).ok_or_else(|| tf(S::RuleBadIntType, &[ty]))?,
                is.clone(),
            ),
            Cond::From(list) => Matcher::From(
                list.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| parse_source(s).map(SourceMatch))
                    .collect::<Result<_, _>>()?,
            ),
            Cond::Checksum(checksum, valid) => Matcher::Checksum(checksum.clone(), *valid),
            Cond::State(state) => Matcher::State(state.clone()),
            Cond::Expr(text) => Matcher::Expr(Box::new(Expr::parse(text, 1).map_err(|e| e.0)?)),
        })
    }
}

impl Cond {
    /// The decoded fields its expressions read (`f.msg_id`), in order; expressions that do
    /// not parse are left to [`Cond::compile`] to name.
    pub fn fields_used(&self) -> Vec<String> {
        fn walk(cond: &Cond, out: &mut Vec<String>) {
            match cond {
                Cond::All(conds) | Cond::Any(conds) => conds.iter().for_each(|c| walk(c, out)),
                Cond::Not(cond) => walk(cond, out),
                Cond::Expr(text) => {
                    if let Ok(expr) = Expr::parse(text, 1) {
                        for field in expr.fields_used() {
                            if !out.contains(&field) {
                                out.push(field);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
}

fn pattern_at(bytes: &[u8], pattern: &[Option<u8>]) -> bool {
    bytes.len() >= pattern.len()
        && pattern
            .iter()
            .zip(bytes)
            .all(|(p, b)| p.is_none_or(|p| p == *b))
}

/// What a matcher may read besides the message.
pub struct Env<'a> {
    /// The session's state.
    pub state: &'a str,
    /// Expression context pieces.
    pub tables: &'a std::collections::BTreeMap<String, Vec<u8>>,
    /// Now.
    pub now: std::time::SystemTime,
    /// The session's counter.
    pub counter: i64,
    /// A conversation's variables.
    pub vars: &'a [(String, super::expr::Value)],
}

impl Matcher {
    /// True if the message meets the condition. The first regular expression that matches
    /// leaves its groups in `message.caps`.
    pub fn holds(&self, message: &mut Message<'_>, env: &Env<'_>) -> bool {
        match self {
            Matcher::Always => true,
            Matcher::All(all) => all.iter().all(|m| m.holds(message, env)),
            Matcher::Any(any) => any.iter().any(|m| m.holds(message, env)),
            Matcher::Not(m) => !m.holds(message, env),
            Matcher::Pattern(op, pattern) => {
                let bytes = message.bytes;
                match op {
                    Match::Exact => bytes.len() == pattern.len() && pattern_at(bytes, pattern),
                    Match::Prefix => pattern_at(bytes, pattern),
                    Match::Suffix => bytes
                        .len()
                        .checked_sub(pattern.len())
                        .and_then(|start| bytes.get(start..))
                        .is_some_and(|end| pattern_at(end, pattern)),
                    Match::Contains => {
                        if pattern.iter().all(Option::is_some) {
                            let needle: Vec<u8> = pattern.iter().flatten().copied().collect();
                            memmem::find(bytes, &needle).is_some()
                        } else {
                            (0..=bytes.len().saturating_sub(pattern.len()))
                                .any(|at| bytes.get(at..).is_some_and(|b| pattern_at(b, pattern)))
                        }
                    }
                }
            }
            Matcher::Masked(value, mask) => {
                message.bytes.len() >= value.len()
                    && value
                        .iter()
                        .zip(mask)
                        .zip(message.bytes)
                        .all(|((v, m), b)| b & m == v & m)
            }
            Matcher::Regex(re) => {
                let found = re.captures(message.text()).map(|caps| {
                    re.capture_names()
                        .zip(caps.iter())
                        .map(|(name, m)| {
                            (name.map(str::to_owned), m.map(|m| m.as_str().to_owned()))
                        })
                        .collect::<Vec<_>>()
                });
                keep_caps(message, found)
            }
            Matcher::BytesRegex(re) => {
                let found = re.captures(message.bytes).map(|caps| {
                    re.capture_names()
                        .zip(caps.iter())
                        .map(|(name, m)| {
                            (
                                name.map(str::to_owned),
                                m.map(|m| message.encoding.decode_complete(m.as_bytes())),
                            )
                        })
                        .collect::<Vec<_>>()
                });
                keep_caps(message, found)
            }
            Matcher::Length(min, max) => (*min..=*max).contains(&message.bytes.len()),
            Matcher::Int(at, ty, is) => message
                .bytes
                .get(*at..)
                .and_then(|b| ty.read(b))
                .is_some_and(|n| is.holds(n)),
            Matcher::From(sources) => sources.iter().any(|s| s.holds(message.peer)),
            Matcher::Checksum(checksum, valid) => checksum.verify(message.bytes) == Some(*valid),
            Matcher::State(state) => env.state == state,
            Matcher::Expr(expr) => {
                let cx = Ctx {
                    rx: message.bytes,
                    caps: &message.caps,
                    vars: env.vars,
                    state: env.state,
                    peer: message.peer,
                    tables: env.tables,
                    now: env.now,
                    counter: env.counter,
                    fields: message.fields(),
                };
                expr.eval(&cx).is_ok_and(|v| v.truthy())
            }
        }
    }
}

/// The first regular expression that matches gives the numbered groups (`cap.1`); every
/// later one that matches adds its named groups (`cap.seq`), so `All([Regex(cmd), Regex(seq)])`
/// reads both, in any order of the message's fields.
fn keep_caps(
    message: &mut Message<'_>,
    found: Option<Vec<(Option<String>, Option<String>)>>,
) -> bool {
    match found {
        Some(caps) => {
            if message.caps.is_empty() {
                message.caps = caps;
            } else {
                for (name, value) in caps {
                    let Some(name) = name else { continue };
                    if !message.caps.iter().any(|(n, _)| n.as_ref() == Some(&name)) {
                        message.caps.push((Some(name), value));
                    }
                }
            }
            true
        }
        None => false,
    }
}

/// The regex groups a condition can give a reply: how many numbered ones the widest regex
/// has, and every name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    /// Any regex at all (then `cap.0`, the whole match, exists).
    pub any: bool,
    /// The most numbered groups of one regex.
    pub numbered: usize,
    /// Every named group.
    pub names: Vec<String>,
}

impl Groups {
    /// True if `cap` (`1`, `seq`) may be given.
    pub fn has(&self, cap: &str) -> bool {
        match cap.parse::<usize>() {
            Ok(n) => self.any && n <= self.numbered,
            Err(_) => self.names.iter().any(|name| name == cap),
        }
    }
}

impl Matcher {
    /// The groups its regular expressions can give (a regex under `Not` gives none: when it
    /// matches, the condition does not hold).
    pub fn groups(&self) -> Groups {
        fn walk(m: &Matcher, out: &mut Groups) {
            let mut add = |len: usize, names: Vec<String>| {
                out.any = true;
                out.numbered = out.numbered.max(len.saturating_sub(1));
                for name in names {
                    if !out.names.contains(&name) {
                        out.names.push(name);
                    }
                }
            };
            match m {
                Matcher::Regex(re) => add(
                    re.captures_len(),
                    re.capture_names().flatten().map(str::to_owned).collect(),
                ),
                Matcher::BytesRegex(re) => add(
                    re.captures_len(),
                    re.capture_names().flatten().map(str::to_owned).collect(),
                ),
                Matcher::All(all) | Matcher::Any(all) => all.iter().for_each(|m| walk(m, out)),
                _ => {}
            }
        }
        let mut out = Groups::default();
        walk(self, &mut out);
        out
    }
}

/// The kinds of condition, as the editor offers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CondKind {
    /// [`Cond::Always`].
    Always,
    /// [`Cond::Text`].
    Text,
    /// [`Cond::Bytes`].
    Bytes,
    /// [`Cond::Masked`].
    Masked,
    /// [`Cond::Regex`].
    Regex,
    /// [`Cond::BytesRegex`].
    BytesRegex,
    /// [`Cond::Length`].
    Length,
    /// [`Cond::Int`].
    Int,
    /// [`Cond::From`].
    From,
    /// [`Cond::Checksum`].
    Checksum,
    /// [`Cond::State`].
    State,
    /// [`Cond::Expr`].
    Expr,
    /// [`Cond::All`].
    All,
    /// [`Cond::Any`].
    Any,
    /// [`Cond::Not`].
    Not,
}

impl CondKind {
    /// Every kind, in the editor's order.
    pub const ALL: [CondKind; 15] = [
        CondKind::Always,
        CondKind::Text,
        CondKind::Bytes,
        CondKind::Masked,
        CondKind::Regex,
        CondKind::BytesRegex,
        CondKind::Length,
        CondKind::Int,
        CondKind::From,
        CondKind::Checksum,
        CondKind::State,
        CondKind::Expr,
        CondKind::All,
        CondKind::Any,
        CondKind::Not,
    ];

    /// What the editor calls it.
    pub fn label(self) -> S {
        match self {
            CondKind::Always => S::CondAlways,
            CondKind::Text => S::CondText,
            CondKind::Bytes => S::CondBytes,
            CondKind::Masked => S::CondMasked,
            CondKind::Regex => S::CondRegex,
            CondKind::BytesRegex => S::CondBytesRegex,
            CondKind::Length => S::CondLength,
            CondKind::Int => S::CondInt,
            CondKind::From => S::CondFrom,
            CondKind::Checksum => S::CondChecksum,
            CondKind::State => S::CondState,
            CondKind::Expr => S::CondExpr,
            CondKind::All => S::CondAll,
            CondKind::Any => S::CondAny,
            CondKind::Not => S::CondNot,
        }
    }
}

/// `text` as a regular expression that matches it literally, anchored as `op` says.
fn literal_regex(text: &str, op: Match) -> String {
    let body = regex::escape(text);
    match op {
        Match::Exact => format!("^{body}$"),
        Match::Prefix => format!("^{body}"),
        Match::Suffix => format!("{body}$"),
        Match::Contains => body,
    }
}

fn bytes_regex(pattern: &[Option<u8>], op: Match) -> String {
    let body: String = pattern
        .iter()
        .map(|b| match b {
            Some(b) => format!("\\x{b:02X}"),
            None => "(?s:.)".to_owned(),
        })
        .collect();
    match op {
        Match::Exact => format!("^{body}$"),
        Match::Prefix => format!("^{body}"),
        Match::Suffix => format!("{body}$"),
        Match::Contains => body,
    }
}

fn pattern_hex(pattern: &[Option<u8>]) -> String {
    pattern
        .iter()
        .map(|b| b.map_or_else(|| "??".to_owned(), |b| format!("{b:02X}")))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Cond {
    /// Which kind it is.
    pub fn kind(&self) -> CondKind {
        match self {
            Cond::Always => CondKind::Always,
            Cond::All(_) => CondKind::All,
            Cond::Any(_) => CondKind::Any,
            Cond::Not(_) => CondKind::Not,
            Cond::Text(..) => CondKind::Text,
            Cond::Bytes(..) => CondKind::Bytes,
            Cond::Masked(..) => CondKind::Masked,
            Cond::Regex(_) => CondKind::Regex,
            Cond::BytesRegex(_) => CondKind::BytesRegex,
            Cond::Length(..) => CondKind::Length,
            Cond::Int(..) => CondKind::Int,
            Cond::From(_) => CondKind::From,
            Cond::Checksum(..) => CondKind::Checksum,
            Cond::State(_) => CondKind::State,
            Cond::Expr(_) => CondKind::Expr,
        }
    }

    /// This condition as another kind, carrying over what was typed where it means the same:
    /// text `AT` becomes bytes `41 54` (in `encoding`) and back, a pattern becomes a literal
    /// regular expression or a value and mask, a condition becomes the first of an all / any
    /// or the inside of a not.
    #[must_use]
    pub fn switch_to(&self, kind: CondKind, encoding: TextEncoding) -> Cond {
        if self.kind() == kind {
            return self.clone();
        }
        let pattern = match self {
            Cond::Text(op, text) => encoding
                .encode(text)
                .ok()
                .map(|b| (*op, b.into_iter().map(Some).collect::<Vec<_>>())),
            Cond::Bytes(op, hex) => parse_pattern(hex).ok().map(|p| (*op, p)),
            _ => None,
        };
        match (kind, self) {
            (CondKind::All, Cond::Any(list)) | (CondKind::Any, Cond::All(list)) => {
                return if kind == CondKind::All {
                    Cond::All(list.clone())
                } else {
                    Cond::Any(list.clone())
                };
            }
            (CondKind::All | CondKind::Any | CondKind::Not, Cond::Always) => {}
            (CondKind::All, _) => return Cond::All(vec![self.clone()]),
            (CondKind::Any, _) => return Cond::Any(vec![self.clone()]),
            (CondKind::Not, _) => return Cond::Not(Box::new(self.clone())),
            // From a group to one of its members' kind: that member.
            (_, Cond::All(list) | Cond::Any(list)) => {
                if let Some(first) = list.iter().find(|c| c.kind() == kind) {
                    return first.clone();
                }
            }
            (_, Cond::Not(inner)) if inner.kind() == kind => return (**inner).clone(),
            (CondKind::Regex, Cond::Text(op, text)) => {
                return Cond::Regex(literal_regex(text, *op));
            }
            (CondKind::Regex, Cond::BytesRegex(re)) => return Cond::Regex(re.clone()),
            (CondKind::BytesRegex, Cond::Regex(re)) => return Cond::BytesRegex(re.clone()),
            (CondKind::Text, Cond::Bytes(op, _)) => {
                if let Some((_, pattern)) = &pattern
                    && pattern.iter().all(Option::is_some)
                {
                    let bytes: Vec<u8> = pattern.iter().flatten().copied().collect();
                    let text = encoding.decode_complete(&bytes);
                    // Only bytes that are text come back as text.
                    if encoding.encode(&text).ok().as_deref() == Some(bytes.as_slice()) {
                        return Cond::Text(*op, text);
                    }
                }
            }
            (CondKind::Bytes, Cond::Masked(value, mask)) => {
                if let (Ok(value), Ok(mask)) = (
                    crate::codec::hex::parse(value),
                    crate::codec::hex::parse(mask),
                ) && mask.iter().all(|m| *m == 0 || *m == 0xFF)
                {
                    let pattern: Vec<Option<u8>> = value
                        .iter()
                        .zip(&mask)
                        .map(|(v, m)| (*m == 0xFF).then_some(*v))
                        .collect();
                    return Cond::Bytes(Match::Prefix, pattern_hex(&pattern));
                }
            }
            _ => {}
        }
        if let Some((op, pattern)) = pattern {
            match kind {
                CondKind::Bytes => return Cond::Bytes(op, pattern_hex(&pattern)),
                CondKind::BytesRegex => return Cond::BytesRegex(bytes_regex(&pattern, op)),
                CondKind::Masked => {
                    let value: Vec<u8> = pattern.iter().map(|b| b.unwrap_or(0)).collect();
                    let mask: Vec<u8> = pattern
                        .iter()
                        .map(|b| if b.is_some() { 0xFF } else { 0 })
                        .collect();
                    return Cond::Masked(
                        crate::codec::hex::format(&value),
                        crate::codec::hex::format(&mask),
                    );
                }
                _ => {}
            }
        }
        Self::fresh(kind)
    }

    /// A new condition of `kind`, its fields empty.
    pub fn fresh(kind: CondKind) -> Cond {
        match kind {
            CondKind::Always => Cond::Always,
            CondKind::Text => Cond::Text(Match::Exact, String::new()),
            CondKind::Bytes => Cond::Bytes(Match::Prefix, String::new()),
            CondKind::Masked => Cond::Masked(String::new(), String::new()),
            CondKind::Regex => Cond::Regex(String::new()),
            CondKind::BytesRegex => Cond::BytesRegex(String::new()),
            CondKind::Length => Cond::Length(1, 1024),
            CondKind::Int => Cond::Int(0, "u8".into(), Compare::Eq(0)),
            CondKind::From => Cond::From(String::new()),
            CondKind::Checksum => Cond::Checksum(
                Checksum {
                    kind: crate::codec::checksum::ChecksumKind::Crc16Modbus,
                    order: crate::codec::checksum::ByteOrder::Little,
                    ..Checksum::default()
                },
                true,
            ),
            CondKind::State => Cond::State(String::new()),
            CondKind::Expr => Cond::Expr(String::new()),
            CondKind::All => Cond::All(Vec::new()),
            CondKind::Any => Cond::Any(Vec::new()),
            CondKind::Not => Cond::Not(Box::new(Cond::Always)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::{ByteOrder, ChecksumKind};
    use proptest::prelude::*;

    fn holds(cond: &Cond, bytes: &[u8], peer: &str) -> bool {
        let matcher = cond.compile(TextEncoding::UTF_8).unwrap();
        let mut message = Message::new(bytes, peer.parse().unwrap(), TextEncoding::UTF_8);
        let tables = std::collections::BTreeMap::new();
        let env = Env {
            state: "READY",
            tables: &tables,
            now: std::time::SystemTime::UNIX_EPOCH,
            counter: 0,
            vars: &[],
        };
        matcher.holds(&mut message, &env)
    }

    const P: &str = "192.168.1.20:5020";

    #[test]
    fn text_and_bytes_by_each_match() {
        let text = |m, s: &str| Cond::Text(m, s.to_owned());
        assert!(holds(&text(Match::Exact, "AT"), b"AT", P));
        assert!(!holds(&text(Match::Exact, "AT"), b"AT+CSQ", P));
        assert!(holds(&text(Match::Prefix, "AT+"), b"AT+CSQ", P));
        assert!(holds(&text(Match::Suffix, "CSQ"), b"AT+CSQ", P));
        assert!(holds(&text(Match::Contains, "+C"), b"AT+CSQ", P));
        assert!(!holds(&text(Match::Suffix, "AT+CSQ!"), b"CSQ", P));
        let bytes = |m, s: &str| Cond::Bytes(m, s.to_owned());
        assert!(holds(
            &bytes(Match::Prefix, "01 03 ?? ??"),
            &[1, 3, 0, 9, 0, 2],
            P
        ));
        assert!(!holds(&bytes(Match::Prefix, "01 03 ?? ??"), &[1, 3, 0], P));
        assert!(holds(&bytes(Match::Exact, "0x01,0x03"), &[1, 3], P));
        assert!(holds(&bytes(Match::Contains, "?? 7E"), &[0, 1, 0x7E], P));
        assert!(!holds(&bytes(Match::Contains, "?? 7E"), &[0x7E], P));
        assert!(holds(&bytes(Match::Suffix, "0D 0A"), b"OK\r\n", P));
        assert!(holds(
            &Cond::Masked("01 80".into(), "FF F0".into()),
            &[1, 0x8F, 5],
            P
        ));
        assert!(!holds(
            &Cond::Masked("01 80".into(), "FF F0".into()),
            &[1, 0x7F],
            P
        ));
    }

    #[test]
    fn regex_length_int_source_checksum_state_expr_and_combinations() {
        assert!(holds(&Cond::Regex(r"^T=(\d+)$".into()), b"T=23", P));
        assert!(holds(
            &Cond::BytesRegex(r"^\x01\x03".into()),
            &[1, 3, 0xFF],
            P
        ));
        assert!(holds(&Cond::Length(2, 4), b"abc", P));
        assert!(!holds(&Cond::Length(2, 4), b"abcde", P));
        let request = [0, 1, 0, 0, 0, 6, 0x11, 3, 0, 200, 0, 2];
        assert!(holds(
            &Cond::Int(7, "u8".into(), Compare::Eq(3)),
            &request,
            P
        ));
        assert!(holds(
            &Cond::Int(8, "u16be".into(), Compare::Gt(99)),
            &request,
            P
        ));
        assert!(holds(
            &Cond::Int(8, "u16le".into(), Compare::In(vec![0xC800])),
            &request,
            P
        ));
        assert!(!holds(
            &Cond::Int(11, "u16be".into(), Compare::Eq(2)),
            &request,
            P
        ));
        assert!(holds(&Cond::From("192.168.1.0/24".into()), b"", P));
        assert!(holds(&Cond::From("10.0.0.1, :5020".into()), b"", P));
        assert!(!holds(&Cond::From("192.168.2.0/24".into()), b"", P));
        assert!(holds(
            &Cond::From("192.168.1.20".into()),
            b"",
            "[::ffff:192.168.1.20]:1"
        ));
        assert!(holds(&Cond::From("fe80::/10".into()), b"", "[fe80::1]:1"));
        let crc = Checksum {
            kind: ChecksumKind::Crc16Modbus,
            order: ByteOrder::Little,
            ..Checksum::default()
        };
        let mut frame = vec![0x11, 3, 0, 0x6B, 0, 3];
        crc.append(&mut frame).unwrap();
        assert!(holds(&Cond::Checksum(crc.clone(), true), &frame, P));
        *frame.last_mut().unwrap() ^= 1;
        assert!(holds(&Cond::Checksum(crc, false), &frame, P));
        assert!(holds(&Cond::State("READY".into()), b"", P));
        assert!(holds(
            &Cond::Expr("rx.u16be@8 + rx.u16be@10 > 100".into()),
            &request,
            P
        ));
        assert!(!holds(&Cond::Expr("rx.u16be@40 > 1".into()), &request, P));
        let both = Cond::All(vec![
            Cond::Text(Match::Prefix, "AT".into()),
            Cond::Not(Box::new(Cond::Text(Match::Contains, "?".into()))),
        ]);
        assert!(holds(&both, b"AT+CSQ", P));
        assert!(!holds(&both, b"AT+CSQ?", P));
        let any = Cond::Any(vec![
            Cond::Length(9, 9),
            Cond::Text(Match::Exact, "x".into()),
        ]);
        assert!(holds(&any, b"x", P));
    }

    #[test]
    fn bad_conditions_are_sentences() {
        for (cond, part) in [
            (Cond::Bytes(Match::Exact, "01 0G".into()), "G"),
            (Cond::Bytes(Match::Exact, "01 0".into()), "3"),
            (Cond::Regex("(".into()), "("),
            (Cond::Int(0, "u17".into(), Compare::Eq(1)), "u17"),
            (Cond::From("300.1.1.1".into()), "300.1.1.1"),
            (Cond::Masked("01".into(), "FF FF".into()), "2"),
            (Cond::Expr("rx +".into()), "5"),
        ] {
            let error = cond.compile(TextEncoding::UTF_8).unwrap_err();
            assert!(error.contains(part), "{cond:?}: {error}");
        }
        let mut deep = Cond::Always;
        for _ in 0..100 {
            deep = Cond::Not(Box::new(deep));
        }
        assert!(deep.compile(TextEncoding::UTF_8).is_err());
    }

    #[test]
    fn a_condition_reads_back_from_ron() {
        let cond = Cond::All(vec![
            Cond::Bytes(Match::Prefix, "01 03".into()),
            Cond::Int(8, "u16be".into(), Compare::Range(0, 99)),
        ]);
        let text = ron::to_string(&cond).unwrap();
        assert_eq!(ron::from_str::<Cond>(&text).unwrap(), cond);
    }

    fn arb_cond() -> impl Strategy<Value = Cond> {
        let leaf = prop_oneof![
            Just(Cond::Always),
            ("[ -~]{0,6}", 0..4u8).prop_map(|(s, m)| Cond::Text(
                [Match::Exact, Match::Contains, Match::Prefix, Match::Suffix][usize::from(m)],
                s
            )),
            ("[0-9A-F? ]{0,8}", 0..4u8).prop_map(|(s, m)| Cond::Bytes(
                [Match::Exact, Match::Contains, Match::Prefix, Match::Suffix][usize::from(m)],
                s
            )),
            "[ -~]{0,8}".prop_map(Cond::Regex),
            "[ -~]{0,8}".prop_map(Cond::BytesRegex),
            (0..8usize, 0..8usize).prop_map(|(a, b)| Cond::Length(a, b)),
            (0..8usize, any::<i64>()).prop_map(|(at, v)| Cond::Int(
                at,
                "i32le".into(),
                Compare::Le(v)
            )),
            "[ -~]{0,12}".prop_map(Cond::Expr),
            "[0-9./:]{0,12}".prop_map(Cond::From),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Cond::All),
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Cond::Any),
                inner.prop_map(|c| Cond::Not(Box::new(c))),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_condition_on_any_message_compiles_or_says_why_and_never_panics(
            cond in arb_cond(),
            bytes in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            if let Ok(matcher) = cond.compile(TextEncoding::GBK) {
                let mut message = Message::new(&bytes, "[::1]:9".parse().unwrap(), TextEncoding::GBK);
                let tables = std::collections::BTreeMap::new();
                let env = Env { state: "", tables: &tables, now: std::time::SystemTime::UNIX_EPOCH, counter: 0 , vars: &[]};
                let first = matcher.holds(&mut message, &env);
                // The same message gives the same answer.
                let mut again = Message::new(&bytes, "[::1]:9".parse().unwrap(), TextEncoding::GBK);
                prop_assert_eq!(matcher.holds(&mut again, &env), first);
            }
        }

        #[test]
        fn a_pattern_of_the_message_itself_matches_every_way(
            bytes in proptest::collection::vec(any::<u8>(), 0..16),
            cut in 0usize..16,
        ) {
            let cut = cut.min(bytes.len());
            let hex = |b: &[u8]| crate::codec::hex::format(b);
            prop_assert!(holds(&Cond::Bytes(Match::Exact, hex(&bytes)), &bytes, P));
            prop_assert!(holds(&Cond::Bytes(Match::Prefix, hex(&bytes[..cut])), &bytes, P));
            prop_assert!(holds(&Cond::Bytes(Match::Suffix, hex(&bytes[cut..])), &bytes, P));
            prop_assert!(holds(&Cond::Bytes(Match::Contains, hex(&bytes[cut / 2..cut])), &bytes, P));
        }
    }
}
