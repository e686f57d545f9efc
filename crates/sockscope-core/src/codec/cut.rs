//! A protocol's own frame layer over bytes: where a frame starts and ends in a stream (start
//! and end markers, a length in the header, or lengths a checksum confirms, as Modbus RTU
//! needs) and how its content is escaped (JT/T 808's `7E` ↔ `7D 02`, SLIP). Pure data and
//! functions: the protocol specs name them, and the framer cuts a stream with them.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::checksum::{ByteOrder, Checksum};
use crate::i18n::{S, t, tf};

/// Bytes written as hex in a spec (`"7E"`, `"0D 0A"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HexBytes(pub Vec<u8>);

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::hex::format(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        super::hex::parse(&text)
            .map(HexBytes)
            .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
    }
}

impl std::ops::Deref for HexBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// How a frame's length is written in its header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LenField {
    /// A binary unsigned number of 1, 2, 3 or 4 bytes.
    Uint {
        /// Bytes.
        width: u8,
        /// Byte order.
        #[serde(default)]
        order: ByteOrder,
    },
    /// ASCII decimal digits (HJ 212's `0113`).
    Decimal {
        /// How many digits.
        digits: u8,
    },
}

impl LenField {
    fn width(&self) -> usize {
        match self {
            LenField::Uint { width, .. } => usize::from(*width),
            LenField::Decimal { digits } => usize::from(*digits),
        }
    }

    /// The number at the start of `bytes`, if there are enough and they read as one.
    fn read(&self, bytes: &[u8]) -> Option<u64> {
        let raw = bytes.get(..self.width())?;
        match self {
            LenField::Uint { width, order } => {
                if !(1..=4).contains(width) {
                    return None;
                }
                let fold = |acc: u64, b: &u8| acc << 8 | u64::from(*b);
                Some(match order {
                    ByteOrder::Big => raw.iter().fold(0, fold),
                    ByteOrder::Little => raw.iter().rev().fold(0, fold),
                })
            }
            LenField::Decimal { .. } => {
                if raw.is_empty() || raw.len() > 9 || !raw.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                Some(raw.iter().fold(0, |acc, b| acc * 10 + u64::from(b - b'0')))
            }
        }
    }
}

/// One way a frame's length may follow from its first bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LenRule {
    /// Always this many bytes.
    Fixed(usize),
    /// The number at `at` plus `add` bytes.
    Field {
        /// Offset of the number from the frame's start.
        at: usize,
        /// How it is written.
        field: LenField,
        /// Bytes the frame has besides what the number counts.
        add: usize,
    },
    /// `rule`, believed first when numbers in the frame's first bytes lie in their ranges
    /// (Modbus RTU: an 8-byte read request has a function of 3 or 4 and a quantity of 1 to
    /// 125; a reply whose first 8 bytes pass the checksum as a request by chance has not).
    /// In a checked layer, rules whose tests hold are tried before the checksum alone
    /// decides; in a length layer, a start whose tests fail is no frame.
    When {
        /// The length.
        rule: Box<LenRule>,
        /// What must hold.
        tests: Vec<Within>,
    },
}

/// A number in a frame's first bytes that must lie in a range (both ends included).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Within {
    /// Offset from the frame's start.
    pub at: usize,
    /// How it is written.
    pub field: LenField,
    /// The least it may be.
    pub min: u64,
    /// The most it may be.
    pub max: u64,
}

impl LenRule {
    /// The frame's length, `Err(n)` if `n` bytes are needed to know it, `Ok(None)` if the
    /// header cannot be read as one.
    fn length(&self, head: &[u8]) -> Result<Option<usize>, usize> {
        match self {
            LenRule::Fixed(n) => Ok(Some(*n)),
            LenRule::Field { at, field, add } => {
                let need = at + field.width();
                if head.len() < need {
                    return Err(need);
                }
                Ok(head
                    .get(*at..)
                    .and_then(|b| field.read(b))
                    .and_then(|n| usize::try_from(n).ok())
                    .and_then(|n| n.checked_add(*add)))
            }
            LenRule::When { rule, .. } => rule.length(head),
        }
    }

    /// The fewest bytes a frame it describes can have.
    fn least(&self) -> usize {
        match self {
            LenRule::Fixed(n) => *n,
            LenRule::Field { at, field, add } => (at + field.width()).max(*add),
            LenRule::When { rule, .. } => rule.least(),
        }
    }

    /// Whether the rule's tests hold for a frame beginning `head`; `Err(n)`: `n` bytes are
    /// needed to know. A rule without tests holds.
    fn holds(&self, head: &[u8]) -> Result<bool, usize> {
        let LenRule::When { rule, tests } = self else {
            return Ok(true);
        };
        let mut need = None;
        for test in tests {
            match head.get(test.at..).and_then(|b| test.field.read(b)) {
                Some(n) if !(test.min..=test.max).contains(&n) => return Ok(false),
                Some(_) => {}
                None if head.len() < test.at + test.field.width() => {
                    need = Some(need.unwrap_or(usize::MAX).min(test.at + test.field.width()));
                }
                // Bytes there that do not read as a number (a decimal field of letters).
                None => return Ok(false),
            }
        }
        match need {
            Some(n) => Err(n),
            None => rule.holds(head),
        }
    }

    /// Whether the rule has tests of its own.
    fn tested(&self) -> bool {
        matches!(self, LenRule::When { .. })
    }
}

/// Bytes that must be at an offset from the start marker for it to begin a frame (DL/T 645's
/// second `68`, Modbus TCP's protocol id `00 00`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expect {
    /// Offset from the start marker.
    pub at: usize,
    /// The bytes.
    pub bytes: HexBytes,
}

/// Where the frames of a stream begin and end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FrameCut {
    /// From a start marker to an end marker, both kept (JT/T 808 `7E … 7E`, NMEA `$ … \r\n`,
    /// HJ 212 `## … \r\n`). Bytes before a start marker are handed over as a partial frame.
    Markers {
        /// What a frame starts with.
        start: HexBytes,
        /// What it ends with (may be the same bytes as the start).
        end: HexBytes,
    },
    /// A header with the frame's length (Modbus TCP's MBAP, DL/T 645, GB/T 32960).
    Length {
        /// What a frame starts with (may be empty).
        #[serde(default)]
        start: HexBytes,
        /// A byte that may repeat before the start marker and belongs to the frame (DL/T 645's
        /// `FE` wake-up bytes).
        #[serde(default)]
        wake: Option<u8>,
        /// Bytes that must be there for a start to count.
        #[serde(default)]
        expect: Vec<Expect>,
        /// The length, from the start marker on.
        rule: LenRule,
    },
    /// Several lengths are possible and the checksum at the end tells which (Modbus RTU:
    /// a request and a response of one function differ, and a stream does not say which
    /// it is). The shortest length whose checksum holds wins.
    Checked {
        /// The lengths to try.
        rules: Vec<LenRule>,
        /// The trailer at the end of the frame.
        check: Checksum,
        /// Junk before a frame (a DTU's registration packet) is skipped as soon as a whole
        /// frame whose checksum holds begins after it, rather than once every length the
        /// junk gives has been ruled out (which may never come). The junk is then said in one
        /// piece; how it is cut may depend on how the stream was read.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        resync: bool,
    },
}

/// What the start of a buffer holds, for a cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Not known yet: more bytes are needed.
    More,
    /// A frame of this many bytes.
    Frame(usize),
    /// This many bytes are not (part of) a frame.
    Junk(usize),
}

/// Frames longer than this are cut (and marked) rather than buffered without end, so a corrupt
/// length field or a missing delimiter cannot exhaust memory; a protocol's length field
/// saying more is not believed. (Here, not in the framer, which cuts with this module.)
pub const MAX_FRAME: usize = 16 << 20;

/// Frames longer than this are not believed (a corrupt length field).
const MAX_CUT: usize = MAX_FRAME;

impl FrameCut {
    /// Why these settings cannot cut anything, if so.
    pub fn check(&self) -> Result<(), String> {
        match self {
            FrameCut::Markers { start, end } if start.is_empty() || end.is_empty() => {
                Err(t(S::CutMarkerEmpty).to_owned())
            }
            FrameCut::Length { rule, .. } => check_rule(rule),
            FrameCut::Checked { rules, check, .. } => {
                if rules.is_empty() {
                    return Err(t(S::CutNoLength).to_owned());
                }
                if check.width() == 0 {
                    return Err(t(S::CutNoChecksum).to_owned());
                }
                rules.iter().try_for_each(check_rule)
            }
            FrameCut::Markers { .. } => Ok(()),
        }
    }

    /// The marker a frame starts with (empty when the layer names none): bytes that begin
    /// with it are a frame cut short, not bytes that are no frame.
    pub fn start_marker(&self) -> &[u8] {
        match self {
            FrameCut::Markers { start, .. } | FrameCut::Length { start, .. } => &start.0,
            FrameCut::Checked { .. } => &[],
        }
    }

    /// Whether a frame may begin at the start of `bytes`: its start marker there (after
    /// wake-up bytes), or a layer that names no marker. Bytes left over that cannot begin one
    /// are no frame, however the frame layer waits for more.
    pub fn could_begin(&self, bytes: &[u8]) -> bool {
        let (start, wake) = match self {
            FrameCut::Markers { start, .. } => (&start.0, None),
            FrameCut::Length { start, wake, .. } => (&start.0, *wake),
            FrameCut::Checked { .. } => return true,
        };
        let from = wake.map_or(0, |w| bytes.iter().take_while(|b| **b == w).count());
        let rest = bytes.get(from..).unwrap_or_default();
        start.is_empty() || rest.starts_with(start) || start.starts_with(rest)
    }

    /// What `held` (the bytes not yet handed out) begins with. `ended`: no more bytes will
    /// come. Whatever the reads were, the same stream gives the same answers.
    pub fn cut(&self, held: &[u8]) -> Cut {
        if held.is_empty() {
            return Cut::More;
        }
        match self {
            FrameCut::Markers { start, end } => cut_markers(held, start, end),
            FrameCut::Length {
                start,
                wake,
                expect,
                rule,
            } => cut_length(held, start, *wake, expect, rule),
            FrameCut::Checked {
                rules,
                check,
                resync,
            } => cut_checked(held, rules, check, *resync),
        }
    }
}

fn check_rule(rule: &LenRule) -> Result<(), String> {
    match rule {
        LenRule::Fixed(0) => Err(t(S::CutZeroLength).to_owned()),
        LenRule::Field {
            field: LenField::Uint { width, .. },
            ..
        } if !(1..=4).contains(width) => Err(tf(S::CutLengthWidth, &[width])),
        LenRule::Field {
            field: LenField::Decimal { digits },
            ..
        } if !(1..=9).contains(digits) => Err(tf(S::CutLengthDigits, &[digits])),
        LenRule::When { rule, tests } => {
            tests.iter().try_for_each(|test| {
                check_rule(&LenRule::Field {
                    at: test.at,
                    field: test.field.clone(),
                    add: 0,
                })
            })?;
            check_rule(rule)
        }
        _ => Ok(()),
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let rest = hay.get(from..)?;
    // One-byte markers (JT/T 808's 7E) are most: memchr needs no searcher built per call.
    let at = match needle {
        [byte] => memchr::memchr(*byte, rest),
        _ => memchr::memmem::find(rest, needle),
    };
    at.map(|at| at + from)
}

/// `held` starts with `marker`: one-byte markers (JT/T 808's 7E) compared as a byte, not by
/// a call to `memcmp` per frame (4 % of framed ingest).
fn starts(held: &[u8], marker: &[u8]) -> bool {
    match marker {
        [byte] => held.first() == Some(byte),
        _ => held.starts_with(marker),
    }
}

/// The two markers are the same (JT/T 808's 7E … 7E), compared as bytes when they are one.
fn same_markers(start: &[u8], end: &[u8]) -> bool {
    match (start, end) {
        ([s], [e]) => s == e,
        _ => start == end,
    }
}

fn cut_markers(held: &[u8], start: &[u8], end: &[u8]) -> Cut {
    // Back-to-back frames begin right at their start marker: no search for it.
    let begins = if starts(held, start) {
        Some(0)
    } else {
        find(held, start, 0)
    };
    match begins {
        // Junk before a start marker goes out once the marker is seen, never sooner: the same
        // stream read in other pieces gives the same junk.
        Some(0) => {}
        Some(at) => return Cut::Junk(at),
        None if held.len() >= MAX_CUT => return Cut::Junk(held.len()),
        None => return Cut::More,
    }
    let from = start.len();
    let end_at = find(held, end, from);
    // A start marker before the end: the frame was cut short; hand it over as junk and
    // begin again at the new start (with start == end markers, an empty frame `7E 7E` is a
    // lost end followed by a start).
    let restart = if same_markers(start, end) {
        (end_at == Some(from)).then_some(from)
    } else {
        find(held, start, from).filter(|s| end_at.is_none_or(|e| *s < e))
    };
    if let Some(at) = restart {
        return Cut::Junk(at);
    }
    match end_at {
        Some(at) => Cut::Frame(at + end.len()),
        None if held.len() >= MAX_CUT => Cut::Junk(held.len()),
        None => Cut::More,
    }
}

/// The first place a frame may begin: wake-up bytes right before a start marker, and the
/// marker's offset from it.
fn frame_start(held: &[u8], start: &[u8], wake: Option<u8>, from: usize) -> Option<(usize, usize)> {
    let at = if start.is_empty() {
        from
    } else {
        find(held, start, from)?
    };
    let mut begin = at;
    if let Some(w) = wake {
        while begin > from && held.get(begin - 1) == Some(&w) {
            begin -= 1;
        }
    }
    Some((begin, at - begin))
}

fn cut_length(
    held: &[u8],
    start: &[u8],
    wake: Option<u8>,
    expect: &[Expect],
    rule: &LenRule,
) -> Cut {
    let Some((begin, marker)) = frame_start(held, start, wake, 0) else {
        // Junk goes out once the next start is seen (or the buffer is full), so the same
        // stream in other reads gives the same junk; the last bytes may begin a marker.
        let keep = start.len().saturating_sub(1).min(held.len());
        return if held.len() >= MAX_CUT {
            Cut::Junk(held.len() - keep)
        } else {
            Cut::More
        };
    };
    if begin > 0 {
        return Cut::Junk(begin);
    }
    let from_marker = held.get(marker..).unwrap_or_default();
    for e in expect {
        match from_marker.get(e.at..e.at + e.bytes.len()) {
            None => return Cut::More,
            Some(b) if b != &e.bytes[..] => return Cut::Junk(marker + start.len().max(1)),
            Some(_) => {}
        }
    }
    match rule.holds(from_marker) {
        Err(_) => return Cut::More,
        Ok(false) => return Cut::Junk(marker + start.len().max(1)),
        Ok(true) => {}
    }
    match rule.length(from_marker) {
        Err(_) => Cut::More,
        Ok(Some(len)) if len >= start.len().max(1) && marker + len <= MAX_CUT => {
            if held.len() >= marker + len {
                Cut::Frame(marker + len)
            } else {
                Cut::More
            }
        }
        Ok(_) => Cut::Junk(marker + start.len().max(1)),
    }
}

fn cut_checked(held: &[u8], rules: &[LenRule], check: &Checksum, resync: bool) -> Cut {
    // Rules whose tests hold first: a Modbus RTU reply whose first 8 bytes pass the CRC as a
    // read request by chance (1 in 65,536) is not a request for 26,880 registers. Only when
    // none of them is or may still be a frame does the checksum alone decide.
    if rules.iter().any(LenRule::tested) {
        match shortest_checked(held, rules, check, true) {
            (Some(len), waiting_below) if len <= waiting_below => return Cut::Frame(len),
            (Some(_), _) => return Cut::More,
            (None, waiting_below) if waiting_below < usize::MAX => {
                return resynced(held, rules, check, resync);
            }
            (None, _) => {}
        }
    }
    match shortest_checked(held, rules, check, false) {
        // A shorter frame may still prove right once its bytes are in.
        (Some(len), waiting_below) if len <= waiting_below => Cut::Frame(len),
        (None, usize::MAX) => Cut::Junk(1),
        (Some(_), _) => Cut::More,
        (None, _) => resynced(held, rules, check, resync),
    }
}

/// Waiting for a length that junk may have given (a DTU's `REG:DTU0001` read as an address,
/// a function and a byte count of 71): with `resync`, if a whole frame whose checksum holds
/// already begins further on, what is before it is junk (as pymodbus and Wireshark
/// resynchronise), else the bytes may still be a frame.
fn resynced(held: &[u8], rules: &[LenRule], check: &Checksum, resync: bool) -> Cut {
    if !resync {
        return Cut::More;
    }
    (1..held.len())
        .find(|&k| {
            let rest = held.get(k..).unwrap_or_default();
            rules.iter().any(|rule| {
                matches!(rule.length(rest), Ok(Some(len))
                    if len > check.width()
                        && len <= rest.len()
                        && rest.get(..len).and_then(|f| check.verify(f)) == Some(true))
            })
        })
        .map_or(Cut::More, Cut::Junk)
}

/// The shortest length whose checksum holds, and the least length still waiting for bytes
/// (`usize::MAX`: none). `tested`: only rules with tests, and those whose tests hold.
fn shortest_checked(
    held: &[u8],
    rules: &[LenRule],
    check: &Checksum,
    tested: bool,
) -> (Option<usize>, usize) {
    let mut best: Option<usize> = None;
    let mut waiting_below = usize::MAX;
    for rule in rules {
        if tested {
            if !rule.tested() {
                continue;
            }
            match rule.holds(held) {
                Ok(false) => continue,
                Err(need) => {
                    waiting_below = waiting_below.min(need.max(rule.least()));
                    continue;
                }
                Ok(true) => {}
            }
        }
        match rule.length(held) {
            Err(_) => waiting_below = waiting_below.min(rule.least()),
            Ok(Some(len)) if len > check.width() && len <= MAX_CUT => {
                if held.len() < len {
                    waiting_below = waiting_below.min(len);
                } else if held.get(..len).and_then(|f| check.verify(f)) == Some(true)
                    && best.is_none_or(|b| len < b)
                {
                    best = Some(len);
                }
            }
            Ok(_) => {}
        }
    }
    (best, waiting_below)
}

/// How a frame's content is escaped: each listed byte is sent as its sequence, and a
/// received sequence stands for its byte.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteEscape {
    /// (the byte, the sequence sent for it): `("7E", "7D 02")`.
    pub map: Vec<(HexBytes, HexBytes)>,
}

/// A sequence that starts like an escape but is none, where it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadEscape {
    /// Its offset in the escaped bytes.
    pub at: usize,
}

impl fmt::Display for BadEscape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.at)
    }
}

impl ByteEscape {
    /// Why the map cannot work: a byte must be one byte, a sequence at least one.
    pub fn check(&self) -> Result<(), String> {
        for (byte, seq) in &self.map {
            if byte.len() != 1 || seq.is_empty() {
                return Err(tf(
                    S::CutBadEscape,
                    &[&super::hex::format(byte), &super::hex::format(seq)],
                ));
            }
        }
        Ok(())
    }

    /// `raw` with every listed byte replaced by its sequence.
    pub fn escape(&self, raw: &[u8], out: &mut Vec<u8>) {
        for &b in raw {
            match self.map.iter().find(|p| p.0.first().copied() == Some(b)) {
                Some((_, seq)) => out.extend_from_slice(seq),
                None => out.push(b),
            }
        }
    }

    /// `sent` with every sequence replaced by its byte. `starts` gets, for every byte out,
    /// where it began in `sent` (plus `base`), and one entry more: the end. A byte that
    /// starts a sequence but is not followed by one is kept as it is, and its place is
    /// returned.
    pub fn unescape(
        &self,
        sent: &[u8],
        base: usize,
        out: &mut Vec<u8>,
        starts: &mut Vec<usize>,
    ) -> Option<BadEscape> {
        let mut bad = None;
        let mut i = 0;
        while let Some(&b) = sent.get(i) {
            starts.push(base + i);
            let rest = sent.get(i..).unwrap_or_default();
            let hit = self
                .map
                .iter()
                .find(|(_, seq)| rest.starts_with(seq))
                .and_then(|p| Some((p.0.first().copied()?, p.1.len())));
            match hit {
                Some((byte, len)) => {
                    out.push(byte);
                    i += len;
                }
                None => {
                    let leads = self
                        .map
                        .iter()
                        .any(|(_, seq)| seq.len() > 1 && seq.first() == Some(&b));
                    if leads && bad.is_none() {
                        bad = Some(BadEscape { at: base + i });
                    }
                    out.push(b);
                    i += 1;
                }
            }
        }
        starts.push(base + sent.len());
        bad
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::ChecksumKind;
    use crate::codec::hex;
    use proptest::prelude::*;

    fn jt808_escape() -> ByteEscape {
        ByteEscape {
            map: vec![
                (HexBytes(vec![0x7E]), HexBytes(vec![0x7D, 0x02])),
                (HexBytes(vec![0x7D]), HexBytes(vec![0x7D, 0x01])),
            ],
        }
    }

    fn all_frames(cut: &FrameCut, stream: &[u8]) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            match cut.cut(stream.get(at..).unwrap_or_default()) {
                Cut::More => break,
                Cut::Frame(n) => {
                    out.push((stream[at..at + n].to_vec(), true));
                    at += n;
                }
                Cut::Junk(n) => {
                    out.push((stream[at..at + n].to_vec(), false));
                    at += n;
                }
            }
        }
        out
    }

    #[test]
    fn jt808_escapes_both_ways_and_keeps_where_each_byte_was() {
        let esc = jt808_escape();
        let raw = [0x30, 0x7E, 0x08, 0x7D, 0x55];
        let mut sent = Vec::new();
        esc.escape(&raw, &mut sent);
        assert_eq!(sent, [0x30, 0x7D, 0x02, 0x08, 0x7D, 0x01, 0x55]);
        let (mut back, mut starts) = (Vec::new(), Vec::new());
        assert_eq!(esc.unescape(&sent, 1, &mut back, &mut starts), None);
        assert_eq!(back, raw);
        assert_eq!(starts, [1, 2, 4, 5, 7, 8]);
        // A 7D followed by something else is kept and said.
        let (mut back, mut starts) = (Vec::new(), Vec::new());
        let bad = esc.unescape(&[0x01, 0x7D, 0x03], 0, &mut back, &mut starts);
        assert_eq!(bad, Some(BadEscape { at: 1 }));
        assert_eq!(back, [0x01, 0x7D, 0x03]);
    }

    #[test]
    fn markers_cut_jt808_frames_and_hand_over_junk() {
        let cut = FrameCut::Markers {
            start: HexBytes(vec![0x7E]),
            end: HexBytes(vec![0x7E]),
        };
        let stream = hex::parse("AA BB 7E 01 02 7E 7E 7E 03 7E 7E").unwrap();
        let frames = all_frames(&cut, &stream);
        assert_eq!(
            frames,
            [
                (vec![0xAA, 0xBB], false),
                (vec![0x7E, 0x01, 0x02, 0x7E], true),
                (vec![0x7E], false),
                (vec![0x7E, 0x03, 0x7E], true),
            ]
        );
        // The last 7E waits for the rest of its frame.
        assert_eq!(cut.cut(&[0x7E]), Cut::More);
    }

    #[test]
    fn a_length_header_cuts_dlt645_after_its_wake_up_bytes() {
        let cut = FrameCut::Length {
            start: HexBytes(vec![0x68]),
            wake: Some(0xFE),
            expect: vec![Expect {
                at: 7,
                bytes: HexBytes(vec![0x68]),
            }],
            rule: LenRule::Field {
                at: 9,
                field: LenField::Uint {
                    width: 1,
                    order: ByteOrder::Big,
                },
                add: 12,
            },
        };
        let frame = hex::parse("FE FE 68 AA AA AA AA AA AA 68 13 00 DF 16").unwrap();
        let mut stream = vec![0x00, 0x11];
        stream.extend(&frame);
        stream.extend(&frame);
        let frames = all_frames(&cut, &stream);
        assert_eq!(
            frames,
            [
                (vec![0x00, 0x11], false),
                (frame.clone(), true),
                (frame.clone(), true)
            ]
        );
        // A 68 without a second 68 where it belongs is not a start.
        let fake = hex::parse("68 01 02 03 04 05 06 07 08 09").unwrap();
        assert_eq!(cut.cut(&fake), Cut::Junk(1));
    }

    #[test]
    fn modbus_rtu_lengths_are_told_apart_by_the_crc() {
        let cut = FrameCut::Checked {
            rules: vec![
                LenRule::Fixed(8),
                LenRule::Field {
                    at: 2,
                    field: LenField::Uint {
                        width: 1,
                        order: ByteOrder::Big,
                    },
                    add: 5,
                },
            ],
            check: Checksum::new(ChecksumKind::Crc16Modbus),
            resync: false,
        };
        let request = hex::parse("01 03 00 00 00 01 84 0A").unwrap();
        let reply = hex::parse("01 03 02 00 01 79 84").unwrap();
        let mut stream = request.clone();
        stream.extend(&reply);
        stream.extend(&request);
        let frames = all_frames(&cut, &stream);
        assert_eq!(
            frames,
            [
                (request.clone(), true),
                (reply.clone(), true),
                (request.clone(), true)
            ]
        );
        // The reply alone, one byte short: wait.
        assert_eq!(cut.cut(&reply[..6]), Cut::More);
    }

    #[test]
    fn modbus_rtu_resyncs_after_junk_whose_lengths_are_never_ruled_out() {
        // A DTU's registration `REG:DTU0001` reads as slave 0x52, function 0x45 and a byte
        // count of 0x47 (a 76-byte frame): without resync the stream waits for bytes that
        // never come, and the frames after it are lost.
        let rules = vec![
            LenRule::Fixed(8),
            LenRule::Field {
                at: 2,
                field: LenField::Uint {
                    width: 1,
                    order: ByteOrder::Big,
                },
                add: 5,
            },
        ];
        let check = Checksum::new(ChecksumKind::Crc16Modbus);
        let read = hex::parse("01 03 00 00 00 05 85 C9").unwrap();
        let write = hex::parse("01 06 00 03 10 92 F5 A7").unwrap();
        let mut stream = b"REG:DTU0001".to_vec();
        for _ in 0..3 {
            stream.extend(&read);
            stream.extend(&write);
        }
        let strict = FrameCut::Checked {
            rules: rules.clone(),
            check: check.clone(),
            resync: false,
        };
        assert_eq!(strict.cut(&stream), Cut::More);
        let cut = FrameCut::Checked {
            rules,
            check,
            resync: true,
        };
        let frames = all_frames(&cut, &stream);
        assert_eq!(frames.len(), 7, "{frames:?}");
        assert_eq!(frames[0], (b"REG:DTU0001".to_vec(), false));
        assert!(
            frames[1..]
                .iter()
                .all(|f| f.1 && (f.0 == read || f.0 == write))
        );
        // Read a byte at a time, as a stream arrives: the same.
        let mut held = Vec::new();
        let mut out = Vec::new();
        for b in &stream {
            held.push(*b);
            loop {
                match cut.cut(&held) {
                    Cut::More => break,
                    Cut::Frame(n) => out.push((held.drain(..n).collect::<Vec<_>>(), true)),
                    Cut::Junk(n) => out.push((held.drain(..n).collect::<Vec<_>>(), false)),
                }
            }
        }
        assert_eq!(out, frames);
        // A frame whose bytes are still coming is waited for, not skipped.
        let reply = hex::parse("01 03 0A 00 00 00 6F 00 DE 01 4D 01 BC 82 69").unwrap();
        assert_eq!(cut.cut(&reply[..10]), Cut::More);
        assert_eq!(cut.cut(&reply), Cut::Frame(reply.len()));
    }

    proptest! {
        #[test]
        fn any_bytes_cut_without_panic_and_every_byte_is_handed_over_once(
            stream in proptest::collection::vec(prop::sample::select(vec![0x7Eu8, 0x7D, 0x68, 0xFE, 0x00, 0x03, 0x01, 0x16, b'#', b'\r', b'\n']), 0..200),
            which in 0usize..3,
        ) {
            let cut = match which {
                0 => FrameCut::Markers { start: HexBytes(vec![0x7E]), end: HexBytes(vec![0x7E]) },
                1 => FrameCut::Markers { start: HexBytes(b"##".to_vec()), end: HexBytes(b"\r\n".to_vec()) },
                _ => FrameCut::Length {
                    start: HexBytes(vec![0x68]),
                    wake: Some(0xFE),
                    expect: vec![],
                    rule: LenRule::Field { at: 1, field: LenField::Uint { width: 1, order: ByteOrder::Big }, add: 3 },
                },
            };
            let frames = all_frames(&cut, &stream);
            let total: usize = frames.iter().map(|f| f.0.len()).sum();
            prop_assert!(total <= stream.len());
            prop_assert!(frames.iter().all(|f| !f.0.is_empty()));
            let joined: Vec<u8> = frames.iter().flat_map(|f| f.0.clone()).collect();
            prop_assert_eq!(&joined[..], &stream[..total]);
        }

        #[test]
        fn escaping_then_unescaping_gives_the_bytes_back(raw in proptest::collection::vec(any::<u8>(), 0..100)) {
            let esc = jt808_escape();
            let mut sent = Vec::new();
            esc.escape(&raw, &mut sent);
            prop_assert!(!sent.contains(&0x7E));
            let (mut back, mut starts) = (Vec::new(), Vec::new());
            prop_assert_eq!(esc.unescape(&sent, 0, &mut back, &mut starts), None);
            prop_assert_eq!(starts.len(), back.len() + 1);
            prop_assert_eq!(back, raw);
            prop_assert_eq!(starts.last().copied(), Some(sent.len()));
        }
    }
}
