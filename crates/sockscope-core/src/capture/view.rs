//! What the log view shows of a store: a filter (one client or peer, one direction), an index of
//! the matching records kept up to date incrementally (so a frame over a million records costs
//! only the new ones), and search in text or hex.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;

use memchr::memmem;

use crate::codec::hex;

use super::log::{LogStore, Record, RecordKind};

/// Which records the view shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only this peer's records (client or UDP peer), plus session messages.
    pub peer: Option<SocketAddr>,
    /// Hide bytes sent.
    pub hide_sent: bool,
    /// Hide bytes received.
    pub hide_received: bool,
}

impl RecordFilter {
    /// True if `record` passes.
    pub fn matches(&self, record: &Record<'_>) -> bool {
        match record.kind {
            RecordKind::Tx if self.hide_sent => return false,
            RecordKind::Rx if self.hide_received => return false,
            _ => {}
        }
        match (self.peer, record.peer) {
            (Some(want), Some(peer)) => want == peer,
            _ => true,
        }
    }

    /// True if nothing is filtered out.
    pub fn is_empty(&self) -> bool {
        *self == RecordFilter::default()
    }
}

/// The records a view shows, by sequence number, kept in step with the store.
#[derive(Clone, Debug, Default)]
pub struct ViewIndex {
    filter: RecordFilter,
    seqs: Vec<u64>,
    /// The next sequence number to look at.
    next: u64,
    /// Show nothing at or after this sequence number (display paused).
    pub paused_at: Option<u64>,
}

impl ViewIndex {
    /// Brings the index up to date with `log` (new records, evicted ones) under `filter`.
    pub fn update(&mut self, log: &LogStore, filter: &RecordFilter) {
        if *filter != self.filter {
            self.filter = filter.clone();
            self.seqs.clear();
            self.next = 0;
        }
        // Drop what the store evicted or cleared. Sequence numbers only grow, so new records
        // are exactly those at or after `next`.
        match log.first_seq() {
            None => self.seqs.clear(),
            Some(first) => {
                let gone = self.seqs.partition_point(|s| *s < first);
                self.seqs.drain(..gone);
            }
        }
        for record in log.iter_from(self.next) {
            if self.filter.matches(&record) {
                self.seqs.push(record.seq);
            }
        }
        self.next = log.next_seq();
    }

    /// Rows shown (records before the pause point, if paused).
    pub fn len(&self) -> usize {
        match self.paused_at {
            Some(at) => self.seqs.partition_point(|s| *s < at),
            None => self.seqs.len(),
        }
    }

    /// True if no row is shown.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sequence number of the first row, if any.
    pub fn first_seq(&self) -> Option<u64> {
        self.seqs.first().copied()
    }

    /// Rows that arrived while paused.
    pub fn pending(&self) -> usize {
        self.seqs.len() - self.len()
    }

    /// The record at row `row`.
    pub fn record<'a>(&self, log: &'a LogStore, row: usize) -> Option<Record<'a>> {
        let seq = *self.seqs.get(row)?;
        log.get_seq(seq)
    }

    /// The row showing record `seq`, if shown.
    pub fn row_of(&self, seq: u64) -> Option<usize> {
        self.seqs
            .binary_search(&seq)
            .ok()
            .filter(|row| *row < self.len())
    }

    /// Sequence numbers of the shown records matching `query`, in order, all at once (the
    /// GUI uses [`Search`], a slice per frame).
    pub fn search(&self, log: &LogStore, query: &Query) -> Vec<u64> {
        let mut search = Search::new(query, self);
        let mut matches = Vec::new();
        while !search.step(self, log, usize::MAX, &mut matches) {}
        matches
    }
}

/// A search over the records a view shows, run a slice at a time so that a long log never
/// stalls a frame: a million records take a few hundred milliseconds to decode and search.
pub struct Search {
    matcher: Matcher,
    /// The next record to look at.
    next: u64,
    /// Records from here on were not shown when the search began; it stops before them.
    end: u64,
}

impl Search {
    /// A search for `query` over what `index` shows now.
    pub fn new(query: &Query, index: &ViewIndex) -> Self {
        let end = index
            .seqs
            .get(..index.len())
            .and_then(<[u64]>::last)
            .map_or(0, |last| last + 1);
        Self {
            matcher: Matcher::new(query),
            next: 0,
            end,
        }
    }

    /// Looks at up to `budget` more records, appending the sequence numbers of matches to
    /// `matches`. Returns true when every record has been looked at.
    pub fn step(
        &mut self,
        index: &ViewIndex,
        log: &LogStore,
        budget: usize,
        matches: &mut Vec<u64>,
    ) -> bool {
        let from = index.seqs.partition_point(|s| *s < self.next);
        let rows = index.seqs.get(from..).unwrap_or_default();
        for &seq in rows.iter().take_while(|s| **s < self.end).take(budget) {
            if log.get_seq(seq).is_some_and(|r| self.matcher.matches(&r)) {
                matches.push(seq);
            }
            self.next = seq + 1;
        }
        self.is_done(index)
    }

    fn is_done(&self, index: &ViewIndex) -> bool {
        index
            .seqs
            .get(index.seqs.partition_point(|s| *s < self.next)..)
            .and_then(<[u64]>::first)
            .is_none_or(|s| *s >= self.end)
    }

    /// How far it is, 0 to 1.
    pub fn progress(&self, index: &ViewIndex) -> f32 {
        let done = index.seqs.partition_point(|s| *s < self.next);
        let all = index.seqs.partition_point(|s| *s < self.end);
        if all == 0 {
            1.0
        } else {
            done as f32 / all as f32
        }
    }
}

/// A row of the continuous-stream view: from byte `start.1` of the text of record `start.0` to
/// byte `end.1` of record `end.0` (exclusive; `None` while the row is still open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamRow {
    /// First record and the text offset in it.
    pub start: (u64, usize),
    /// Last record and the text offset after the row in it; `None` = up to the newest byte.
    pub end: Option<(u64, usize)>,
}

/// Longest row of the stream view before it wraps (text without a newline, binary data).
const STREAM_ROW_MAX: usize = 512;

/// The continuous-stream view (连续显示): consecutive data of one peer and direction joined
/// into lines, broken at newlines, instead of one row per read or message. Each peer's data
/// joins its own row even when several peers' reads interleave (two clients sending at once
/// made one fragment row per read). Kept up to date incrementally, like [`ViewIndex`].
#[derive(Clone, Debug, Default)]
pub struct StreamIndex {
    filter: RecordFilter,
    rows: Vec<StreamRow>,
    /// The rows that can still grow, one per peer and direction.
    open: HashMap<(Option<SocketAddr>, RecordKind), OpenRow>,
    next: u64,
}

/// A row of the stream view that can still grow.
#[derive(Clone, Copy, Debug)]
struct OpenRow {
    /// Where it starts (also how it is found among the rows).
    start: (u64, usize),
    /// Its text's length so far.
    len: usize,
    /// Its last record and that record's text length.
    last: (u64, usize),
    /// When its last piece came.
    at: std::time::SystemTime,
}

/// A row stays open at most this long after its last piece: data that comes later is a new
/// row with its own time (a frame sent again 15 s later joined the first one's unfinished row,
/// under the first one's time).
const STREAM_ROW_GAP: std::time::Duration = std::time::Duration::from_secs(1);

/// A row stays open across at most this many records of other peers: drawing a row reads
/// every record between its first and last, so a quiet peer's open row among another's flood
/// must not span the whole log.
const STREAM_ROW_SPAN: u64 = 1024;

impl StreamIndex {
    /// Brings the rows up to date with `log` under `filter`.
    pub fn update(&mut self, log: &LogStore, filter: &RecordFilter) {
        if *filter != self.filter {
            *self = StreamIndex {
                filter: filter.clone(),
                ..StreamIndex::default()
            };
        }
        match log.first_seq() {
            None => {
                self.rows.clear();
                self.open.clear();
            }
            Some(first) => {
                let gone = self.rows.partition_point(|r| r.start.0 < first);
                self.rows.drain(..gone);
                self.open.retain(|_, row| row.start.0 >= first);
            }
        }
        for record in log.iter_from(self.next) {
            if self.filter.matches(&record) {
                self.add(&record);
            }
        }
        self.next = log.next_seq();
    }

    /// Ends the open row of `key`, if there is one.
    fn close(&mut self, key: (Option<SocketAddr>, RecordKind)) {
        if let Some(open) = self.open.remove(&key) {
            self.end_row(open.start, open.last);
        }
    }

    fn end_row(&mut self, start: (u64, usize), end: (u64, usize)) {
        if let Ok(i) = self.rows.binary_search_by(|r| r.start.cmp(&start))
            && let Some(row) = self.rows.get_mut(i)
        {
            row.end = Some(end);
        }
    }

    fn add(&mut self, record: &Record<'_>) {
        let seq = record.seq;
        let data = matches!(record.kind, RecordKind::Rx | RecordKind::Tx);
        if !data {
            // An event ends its peer's lines (every line, without a peer) and is a row of
            // its own.
            let ended: Vec<_> = self
                .open
                .keys()
                .filter(|(peer, _)| record.peer.is_none() || *peer == record.peer)
                .copied()
                .collect();
            for key in ended {
                self.close(key);
            }
            self.rows.push(StreamRow {
                start: (seq, 0),
                end: Some((seq, record.text().len())),
            });
            return;
        }
        // The other direction of the same peer ends this one's line: the exchange stays in
        // order.
        let other = match record.kind {
            RecordKind::Rx => RecordKind::Tx,
            _ => RecordKind::Rx,
        };
        self.close((record.peer, other));
        let key = (record.peer, record.kind);
        if self.open.get(&key).is_some_and(|open| {
            seq.saturating_sub(open.start.0) > STREAM_ROW_SPAN
                || record
                    .at
                    .duration_since(open.at)
                    .is_ok_and(|gap| gap > STREAM_ROW_GAP)
        }) {
            self.close(key);
        }
        let text = record.text();
        let mut from = 0;
        loop {
            let len = match self.open.get(&key) {
                Some(open) => open.len,
                None => {
                    if from >= text.len() {
                        return;
                    }
                    self.rows.push(StreamRow {
                        start: (seq, from),
                        end: None,
                    });
                    0
                }
            };
            let rest = text.get(from..).unwrap_or_default();
            let room = STREAM_ROW_MAX.saturating_sub(len);
            let newline = rest.find('\n').map(|i| i + 1).filter(|i| *i <= room);
            let cut = match newline {
                Some(i) => Some(i),
                None if rest.len() > room => Some(floor_char_boundary(rest, room)),
                None => None,
            };
            let start = self.open.get(&key).map_or((seq, from), |open| open.start);
            match cut {
                Some(i) => {
                    from += i.max(1).min(rest.len());
                    self.open.remove(&key);
                    self.end_row(start, (seq, from));
                }
                None => {
                    self.open.insert(
                        key,
                        OpenRow {
                            start,
                            len: len + rest.len(),
                            last: (seq, text.len()),
                            at: record.at,
                        },
                    );
                    return;
                }
            }
        }
    }

    /// The row where record `seq` starts (or the row that holds it), for Find.
    pub fn row_of(&self, log: &LogStore, seq: u64) -> Option<usize> {
        let record = log.get_seq(seq)?;
        let after = self.rows.partition_point(|r| r.start.0 <= seq);
        let mut found = None;
        for i in (0..after).rev() {
            let row = self.rows.get(i)?;
            if row.start.0 + STREAM_ROW_SPAN + 1 < seq {
                break;
            }
            let holds = row.end.is_none_or(|end| end.0 >= seq)
                && (row.start.0 == seq
                    || log.get_seq(row.start.0).is_some_and(|first| {
                        first.peer == record.peer && first.kind == record.kind
                    }));
            if holds {
                found = Some(i);
            }
        }
        found
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Row `row`: its first record (for time, peer, direction) and its text.
    pub fn row<'a>(&self, log: &'a LogStore, row: usize) -> Option<(Record<'a>, String)> {
        self.rows(log, row..row + 1).pop()
    }

    /// Rows `range`, for the rows on screen. A long record spans many rows; its text is
    /// decoded once for all of them, not once a row.
    pub fn rows<'a>(
        &self,
        log: &'a LogStore,
        range: std::ops::Range<usize>,
    ) -> Vec<(Record<'a>, String)> {
        let mut decoded: Option<(u64, Cow<'a, str>)> = None;
        let mut out = Vec::new();
        for &StreamRow { start, end } in self.rows.get(range).unwrap_or_default() {
            let Some(first) = log.get_seq(start.0) else {
                continue;
            };
            // A message (an event, a note) is a row of its own, worded when shown: whole, in
            // today's language (offsets found in the words of another language cut it to
            // nothing after a language switch).
            if matches!(first.kind, RecordKind::Info | RecordKind::Error) {
                let text = first.text().into_owned();
                out.push((first, text));
                continue;
            }
            let last = end.map_or_else(|| log.next_seq().saturating_sub(1), |e| e.0);
            let mut text = String::new();
            for seq in start.0..=last {
                let Some(record) = log.get_seq(seq) else {
                    continue;
                };
                // Another peer's (or direction's) data between this row's pieces.
                if seq != start.0
                    && (!self.filter.matches(&record)
                        || record.peer != first.peer
                        || record.kind != first.kind)
                {
                    continue;
                }
                if decoded.as_ref().is_none_or(|(s, _)| *s != seq) {
                    decoded = Some((seq, record.text()));
                }
                let t = decoded.as_ref().map_or("", |(_, t)| t.as_ref());
                let from = if seq == start.0 { start.1 } else { 0 };
                let to = match end {
                    Some((s, offset)) if s == seq => offset,
                    _ => t.len(),
                };
                text.push_str(t.get(from..to).unwrap_or_default());
            }
            out.push((first, text));
        }
        out
    }
}

/// The largest char boundary of `text` at or below `at` (at least 1 char when possible).
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut i = at.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    if i == 0 {
        text.chars().next().map_or(0, char::len_utf8)
    } else {
        i
    }
}

/// What to look for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Query {
    /// Text, in the decoded text, ignoring case.
    Text(String),
    /// Bytes, in the raw bytes.
    Bytes(Vec<u8>),
    /// Messages whose decoded fields make an expression hold (`f.msg_id == 0x0200`).
    Fields(FieldQuery),
}

/// An expression over the fields a protocol decodes, as typed.
#[derive(Clone, Debug)]
pub struct FieldQuery {
    /// What was typed.
    pub text: String,
    expr: crate::rules::expr::Expr,
    protocol: std::sync::Arc<crate::protocol::Protocol>,
    /// A relay's protocol for what the upstream sends, when it is another one.
    replies: Option<std::sync::Arc<crate::protocol::Protocol>>,
}

impl PartialEq for FieldQuery {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
            && self.protocol.name() == other.protocol.name()
            && self.replies.as_ref().map(|p| p.name()) == other.replies.as_ref().map(|p| p.name())
    }
}

impl Eq for FieldQuery {}

impl Query {
    /// A query from what was typed, with the tab's protocol: an expression starting with `f.`
    /// (`f.msg_id == 0x0200 && f.body.speed > 600`) looks at decoded fields; else as
    /// [`Query::parse`].
    pub fn parse_with(
        input: &str,
        as_hex: bool,
        protocol: Option<std::sync::Arc<crate::protocol::Protocol>>,
    ) -> Result<Option<Query>, String> {
        match protocol {
            Some(protocol) if !as_hex && input.trim_start().starts_with("f.") => {
                let expr = crate::rules::expr::Expr::parse(input, 1).map_err(|e| e.0)?;
                Ok(Some(Query::Fields(FieldQuery {
                    text: input.to_owned(),
                    expr,
                    protocol,
                    replies: None,
                })))
            }
            _ => Self::parse(input, as_hex),
        }
    }

    /// The same query, with a relay's records from the upstream decoded with `replies` (a
    /// relay can decode each direction with its own protocol).
    #[must_use]
    pub fn with_replies(self, replies: Option<std::sync::Arc<crate::protocol::Protocol>>) -> Self {
        match self {
            Query::Fields(q) => Query::Fields(FieldQuery { replies, ..q }),
            other => other,
        }
    }

    /// A query from what was typed: hex when `as_hex`, else text. Empty input finds nothing.
    pub fn parse(input: &str, as_hex: bool) -> Result<Option<Query>, String> {
        if input.trim().is_empty() {
            return Ok(None);
        }
        if as_hex {
            let bytes = hex::parse(input).map_err(|e| e.to_string())?;
            Ok((!bytes.is_empty()).then_some(Query::Bytes(bytes)))
        } else {
            Ok(Some(Query::Text(input.to_owned())))
        }
    }
}

/// A query ready to run over many records: a SIMD searcher and reused buffers, so a search
/// over a million records (it runs as the query is typed) allocates nothing per record.
struct Matcher {
    finder: memmem::Finder<'static>,
    text: Option<TextScratch>,
    fields: Option<FieldQuery>,
}

/// Buffers for the text of a record and its folded case.
struct TextScratch {
    text: String,
    folded: Vec<u8>,
    /// The query has no letter with case (digits, CJK, punctuation): the text need not be
    /// folded, which is most of the cost.
    fold: bool,
}

impl Matcher {
    fn new(query: &Query) -> Self {
        match query {
            Query::Text(text) => {
                let mut folded = Vec::new();
                fold_case(text, &mut folded);
                let fold = text.chars().any(has_case);
                Self {
                    finder: memmem::Finder::new(&folded).into_owned(),
                    text: Some(TextScratch {
                        text: String::new(),
                        folded: Vec::new(),
                        fold,
                    }),
                    fields: None,
                }
            }
            Query::Bytes(bytes) => Self {
                finder: memmem::Finder::new(bytes.as_slice()).into_owned(),
                text: None,
                fields: None,
            },
            Query::Fields(q) => Self {
                finder: memmem::Finder::new(b"").into_owned(),
                text: None,
                fields: Some(q.clone()),
            },
        }
    }

    fn matches(&mut self, record: &Record<'_>) -> bool {
        if let Some(q) = &self.fields {
            let protocol = match (&q.replies, record.relay) {
                (Some(replies), Some(super::RelayWay::FromUpstream)) => replies,
                _ => &q.protocol,
            };
            return matches!(record.kind, RecordKind::Rx | RecordKind::Tx)
                && protocol.holds(&q.expr, record.bytes, crate::protocol::Dir::Unknown);
        }
        match &mut self.text {
            Some(scratch) => {
                scratch.text.clear();
                record.text_into(&mut scratch.text);
                let haystack = if scratch.fold {
                    scratch.folded.clear();
                    fold_case(&scratch.text, &mut scratch.folded);
                    scratch.folded.as_slice()
                } else {
                    scratch.text.as_bytes()
                };
                self.finder.find(haystack).is_some()
            }
            None => self.finder.find(record.bytes).is_some(),
        }
    }
}

/// True if `c` has another case (so it or its lower case could be written another way).
fn has_case(c: char) -> bool {
    !caseless(c) && (c.is_lowercase() || c.is_uppercase() || c.to_lowercase().ne([c]))
}

/// Characters known to have no case, checked by range before Unicode's tables: ASCII
/// digits and punctuation, CJK ideographs, kana, CJK punctuation, Hangul — most of what a
/// device log holds besides ASCII letters.
fn caseless(c: char) -> bool {
    matches!(c,
        '\0'..='@' | '['..='`' | '{'..='\x7F'
        | '\u{3000}'..='\u{30FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF01}'..='\u{FF20}')
}

/// `text` in lower case, as UTF-8 appended to `out`: runs of ASCII a byte at a time,
/// characters without case copied as they are, the rest by Unicode's rules.
fn fold_case(text: &str, out: &mut Vec<u8>) {
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let (run, after) = rest.split_at(ascii);
        out.extend(run.bytes().map(|b| b.to_ascii_lowercase()));
        let mut chars = after.chars();
        let Some(c) = chars.next() else {
            break;
        };
        if caseless(c) {
            out.extend_from_slice(after.get(..c.len_utf8()).unwrap_or_default().as_bytes());
        } else {
            for lower in c.to_lowercase() {
                out.extend_from_slice(lower.encode_utf8(&mut [0; 4]).as_bytes());
            }
        }
        rest = chars.as_str();
    }
}

/// A classic hexdump of `bytes`: offset | 16 hex bytes | ASCII, one line per 16 bytes.
pub fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 4 + 16);
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08X}  ", line * 16);
        for i in 0..16 {
            match chunk.get(i) {
                Some(b) => {
                    let _ = write!(out, "{b:02X} ");
                }
                None => out.push_str("   "),
            }
            if i == 7 {
                out.push(' ');
            }
        }
        out.push(' ');
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::TextEncoding;
    use crate::engine::{ConnId, Direction};
    use std::time::SystemTime;

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// `bytes` received now on connection 1 from `peer(1)`.
    fn rx_on_conn_1(log: &mut LogStore, bytes: &[u8]) {
        log.push_data(
            SystemTime::now(),
            Direction::Rx,
            Some(ConnId(1)),
            peer(1),
            bytes,
        );
    }

    fn store() -> LogStore {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let now = SystemTime::now();
        log.push_data(now, Direction::Rx, Some(ConnId(1)), peer(1), b"hello");
        log.push_data(now, Direction::Tx, Some(ConnId(1)), peer(1), b"ACK");
        log.push_data(
            now,
            Direction::Rx,
            Some(ConnId(2)),
            peer(2),
            b"\x01\x02\x03",
        );
        log
    }

    #[test]
    fn filter_to_one_peer_and_hide_sent() {
        let log = store();
        let mut view = ViewIndex::default();
        view.update(
            &log,
            &RecordFilter {
                peer: Some(peer(1)),
                ..RecordFilter::default()
            },
        );
        assert_eq!(view.len(), 2);
        view.update(
            &log,
            &RecordFilter {
                hide_sent: true,
                ..RecordFilter::default()
            },
        );
        assert_eq!(view.len(), 2);
        assert_eq!(view.record(&log, 1).unwrap().bytes, b"\x01\x02\x03");
    }

    #[test]
    fn the_index_follows_appends_and_evictions() {
        let mut log = LogStore::new(2000, TextEncoding::UTF_8);
        let mut view = ViewIndex::default();
        let filter = RecordFilter::default();
        for i in 0..100u8 {
            log.push_data(SystemTime::now(), Direction::Rx, None, peer(1), &[i; 10]);
            view.update(&log, &filter);
            assert_eq!(view.len(), log.len());
            assert_eq!(view.record(&log, 0).unwrap().seq, log.get(0).unwrap().seq);
        }
        log.clear();
        view.update(&log, &filter);
        assert_eq!(view.len(), 0);
    }

    #[test]
    fn pause_holds_the_rows_and_counts_what_waits() {
        let mut log = store();
        let mut view = ViewIndex::default();
        view.update(&log, &RecordFilter::default());
        view.paused_at = Some(3);
        log.push_data(SystemTime::now(), Direction::Rx, None, peer(3), b"late");
        view.update(&log, &RecordFilter::default());
        assert_eq!((view.len(), view.pending()), (3, 1));
        view.paused_at = None;
        assert_eq!((view.len(), view.pending()), (4, 0));
    }

    #[test]
    fn search_finds_text_case_insensitively_and_hex_bytes() {
        let log = store();
        let mut view = ViewIndex::default();
        view.update(&log, &RecordFilter::default());
        let text = Query::parse("HELLO", false).unwrap().unwrap();
        assert_eq!(view.search(&log, &text), [0]);
        let bytes = Query::parse("02 03", true).unwrap().unwrap();
        assert_eq!(view.search(&log, &bytes), [2]);
        assert!(Query::parse("0G", true).is_err());
    }

    #[test]
    fn search_by_field_finds_the_messages_a_protocol_decodes_so() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let now = SystemTime::now();
        let frames = [
            "7e8001000505805668746700000026000200087e",
            "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
            "hello",
        ];
        for f in frames {
            let bytes = hex::parse(f).unwrap_or_else(|_| f.as_bytes().to_vec());
            log.push_data(now, Direction::Rx, Some(ConnId(1)), peer(1), &bytes);
        }
        let mut view = ViewIndex::default();
        view.update(&log, &RecordFilter::default());
        let jt808 = crate::protocol::builtin("jt808");
        let find = |text: &str| {
            let q = Query::parse_with(text, false, jt808.clone())
                .unwrap()
                .unwrap();
            view.search(&log, &q)
        };
        assert_eq!(find("f.msg_id == 0x0200"), [1]);
        assert_eq!(find("f.msg_id == 0x8001 && f.body.result == 0"), [0]);
        assert_eq!(find("f.body.speed > 60 && f.body.lat > 31000000"), [1]);
        assert_eq!(find("f.nothing == 1"), Vec::<u64>::new());
        // Without a protocol, or with hex on, it is the text it looks like.
        assert!(matches!(
            Query::parse_with("f.msg_id == 1", false, None),
            Ok(Some(Query::Text(_)))
        ));
        assert!(Query::parse_with("f.msg_id ==", false, jt808).is_err());
    }

    #[test]
    fn the_stream_view_joins_reads_into_lines() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let now = SystemTime::now();
        let rx = |log: &mut LogStore, peer_port, bytes: &[u8]| {
            log.push_data(now, Direction::Rx, Some(ConnId(1)), peer(peer_port), bytes);
        };
        rx(&mut log, 1, b"TEMP=2");
        rx(&mut log, 1, b"5\r\nHUM=6");
        rx(&mut log, 1, b"1\r\n");
        rx(&mut log, 2, b"other");
        log.push_message(now, RecordKind::Info, None, None, "note");
        rx(&mut log, 1, b"tail");
        let mut stream = StreamIndex::default();
        stream.update(&log, &RecordFilter::default());
        let rows: Vec<String> = (0..stream.len())
            .map(|i| stream.row(&log, i).unwrap().1)
            .collect();
        assert_eq!(rows, ["TEMP=25\r\n", "HUM=61\r\n", "other", "note", "tail"]);
        // Growing the open row as more arrives, without rebuilding.
        rx(&mut log, 1, b" end\n");
        stream.update(&log, &RecordFilter::default());
        assert_eq!(stream.row(&log, 4).unwrap().1, "tail end\n");
        assert_eq!(stream.len(), 5);
    }

    /// Every row's text, in order.
    fn stream_rows(stream: &StreamIndex, log: &LogStore) -> Vec<String> {
        (0..stream.len())
            .map(|i| stream.row(log, i).unwrap().1)
            .collect()
    }

    #[test]
    fn data_that_comes_long_after_an_unfinished_row_starts_a_row_of_its_own() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let t0 = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
        let frame = [0x01u8, 0x03, 0x00, 0x00, 0x00, 0x02, 0xC4, 0x0B];
        let tx = |log: &mut LogStore, at: SystemTime| {
            log.push_data(at, Direction::Tx, Some(ConnId(1)), peer(1), &frame);
        };
        tx(&mut log, t0);
        tx(&mut log, t0 + std::time::Duration::from_millis(300));
        tx(&mut log, t0 + std::time::Duration::from_secs(15));
        let mut stream = StreamIndex::default();
        stream.update(&log, &RecordFilter::default());
        let times: Vec<SystemTime> = (0..stream.len())
            .map(|i| stream.row(&log, i).unwrap().0.at)
            .collect();
        assert_eq!(
            times,
            [t0, t0 + std::time::Duration::from_secs(15)],
            "the send 15 s later is its own row, with its own time"
        );
    }

    #[test]
    fn a_message_row_of_the_stream_view_is_worded_whole_after_a_language_switch() {
        use crate::capture::note::{Note, arg};
        use crate::i18n::{Lang, S, set_lang};
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let now = SystemTime::now();
        log.push_data(now, Direction::Rx, Some(ConnId(1)), peer(1), b"hello\n");
        let note = std::sync::Arc::new(Note::say(
            S::EvLeft,
            [arg(peer(1)), arg("connection reset by peer")],
        ));
        log.push_note(now, RecordKind::Error, Some(ConnId(1)), Some(peer(1)), note);
        set_lang(Lang::Zh);
        let mut stream = StreamIndex::default();
        stream.update(&log, &RecordFilter::default());
        let zh = stream_rows(&stream, &log);
        set_lang(Lang::En);
        let en = stream_rows(&stream, &log);
        assert_eq!(zh.len(), 2, "{zh:?}");
        assert!(!zh[1].is_empty() && !en[1].is_empty(), "{zh:?} / {en:?}");
        assert_ne!(zh[1], en[1], "worded in each language");
        assert!(en[1].contains("127.0.0.1"), "{en:?}");
    }

    #[test]
    fn the_stream_view_joins_each_peers_lines_when_their_reads_interleave() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let now = SystemTime::now();
        let rx = |log: &mut LogStore, port: u16, bytes: &[u8]| {
            log.push_data(
                now,
                Direction::Rx,
                Some(ConnId(u64::from(port))),
                peer(port),
                bytes,
            );
        };
        let mut stream = StreamIndex::default();
        for (port, bytes) in [
            (1, &b"AAA part"[..]),
            (2, b"BBB part"),
            (1, b"ial line 0"),
            (2, b"ial line 1"),
        ] {
            rx(&mut log, port, bytes);
            // Brought up to date a read at a time, as the window does.
            stream.update(&log, &RecordFilter::default());
        }
        rx(&mut log, 1, b" end\r\nnext");
        rx(&mut log, 2, b" end\r\n");
        stream.update(&log, &RecordFilter::default());
        assert_eq!(
            stream_rows(&stream, &log),
            [
                "AAA partial line 0 end\r\n",
                "BBB partial line 1 end\r\n",
                "next"
            ]
        );
        // Find's record is shown in the row that holds it.
        let rows_of: Vec<Option<usize>> = (0..6).map(|seq| stream.row_of(&log, seq)).collect();
        assert_eq!(
            rows_of,
            [Some(0), Some(1), Some(0), Some(1), Some(0), Some(1)]
        );
        // An answer to peer 1 ends its line; peer 2's line is not touched.
        log.push_data(now, Direction::Tx, Some(ConnId(1)), peer(1), b"ok\n");
        rx(&mut log, 1, b" more");
        stream.update(&log, &RecordFilter::default());
        assert_eq!(stream_rows(&stream, &log)[2..], ["next", "ok\n", " more"]);
    }

    proptest::proptest! {
        #[test]
        fn each_peers_stream_rows_put_together_are_what_it_sent(
            chunks in proptest::collection::vec((1u16..4, "[ab\n]{0,6}"), 0..40),
            step in 1usize..5,
        ) {
            let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
            let mut stream = StreamIndex::default();
            for (i, (port, text)) in chunks.iter().enumerate() {
                log.push_data(SystemTime::now(), Direction::Rx, None, peer(*port), text.as_bytes());
                if i % step == 0 {
                    stream.update(&log, &RecordFilter::default());
                }
            }
            stream.update(&log, &RecordFilter::default());
            for port in 1..4 {
                let sent: String = chunks
                    .iter()
                    .filter(|(p, _)| *p == port)
                    .map(|(_, t)| t.as_str())
                    .collect();
                let rows: Vec<String> = (0..stream.len())
                    .map(|i| stream.row(&log, i).unwrap())
                    .filter(|(first, _)| first.peer == Some(peer(port)))
                    .map(|(_, text)| text)
                    .collect();
                proptest::prop_assert_eq!(&rows.concat(), &sent);
                // Whatever the others sent between, a peer's line ends only at its newline.
                if let Some((_, whole)) = rows.split_last() {
                    for row in whole {
                        proptest::prop_assert!(row.ends_with('\n'), "{:?}", rows);
                    }
                }
                // No row of a peer holds a line break before its end.
                for i in 0..stream.len() {
                    let (_, text) = stream.row(&log, i).unwrap();
                    let inner = text.strip_suffix('\n').unwrap_or(&text);
                    proptest::prop_assert!(!inner.contains('\n'), "{:?}", text);
                }
            }
        }
    }

    #[test]
    fn hexdump_has_offset_hex_and_ascii() {
        let dump = hexdump(b"Hello, world!\x00\x01\x02\x03\x04");
        let lines: Vec<&str> = dump.lines().collect();
        assert_eq!(
            lines[0],
            "00000000  48 65 6C 6C 6F 2C 20 77  6F 72 6C 64 21 00 01 02  Hello, world!..."
        );
        assert!(lines[1].starts_with("00000010  03 04 "));
        assert!(lines[1].ends_with(".."));
    }

    #[test]
    fn find_ignores_case_in_any_script_and_reads_gbk_records() {
        let mut log = LogStore::new(1 << 20, TextEncoding::GBK);
        let gbk = TextEncoding::GBK.encode("ALARM: 电压过低 Ω").unwrap();
        rx_on_conn_1(&mut log, &gbk);
        let mut view = ViewIndex::default();
        view.update(&log, &RecordFilter::default());
        for query in ["alarm", "电压过低", "ω", "ALARM: 电压"] {
            let query = Query::parse(query, false).unwrap().unwrap();
            assert_eq!(view.search(&log, &query), [0], "{query:?}");
        }
        let missing = Query::parse("voltage", false).unwrap().unwrap();
        assert!(view.search(&log, &missing).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn find_agrees_with_lowercasing_both_sides(
            texts in proptest::collection::vec("[aAbB 中文éÉ1]{0,12}", 1..20),
            query in "[aAbB 中文éÉ1]{1,3}",
        ) {
            let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
            for text in &texts {
                log.push_data(SystemTime::now(), Direction::Rx, None, peer(1), text.as_bytes());
            }
            let mut view = ViewIndex::default();
            view.update(&log, &RecordFilter::default());
            let found = match Query::parse(&query, false).unwrap() {
                Some(q) => view.search(&log, &q),
                None => Vec::new(),
            };
            let expected: Vec<u64> = if query.trim().is_empty() {
                Vec::new()
            } else {
                texts
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.to_lowercase().contains(&query.to_lowercase()))
                    .map(|(i, _)| i as u64)
                    .collect()
            };
            proptest::prop_assert_eq!(found, expected);
        }
    }

    #[test]
    fn characters_taken_as_caseless_have_no_case() {
        for c in (0..=0x0010_FFFF_u32)
            .filter_map(char::from_u32)
            .filter(|c| caseless(*c))
        {
            assert!(
                c.to_lowercase().eq([c]) && c.to_uppercase().eq([c]),
                "{c:?} has case"
            );
        }
    }

    #[test]
    fn a_search_in_slices_finds_what_one_pass_finds_and_stops_where_the_log_ended() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let push = |log: &mut LogStore, i: usize| {
            let text = format!("msg {i}");
            log.push_data(
                SystemTime::now(),
                Direction::Rx,
                None,
                peer(1),
                text.as_bytes(),
            );
        };
        for i in 0..100 {
            push(&mut log, i);
        }
        let mut view = ViewIndex::default();
        view.update(&log, &RecordFilter::default());
        let query = Query::parse("MSG 1", false).unwrap().unwrap();
        let all = view.search(&log, &query);
        assert_eq!(all.len(), 11, "1 and 10 to 19");
        let mut search = Search::new(&query, &view);
        // Arrives after the search began: not part of it.
        push(&mut log, 100);
        view.update(&log, &RecordFilter::default());
        let (mut matches, mut slices) = (Vec::new(), 0);
        while !search.step(&view, &log, 7, &mut matches) {
            slices += 1;
            assert!(search.progress(&view) < 1.0);
        }
        assert_eq!(matches, all);
        assert_eq!((slices, search.progress(&view)), (14, 1.0));
    }

    #[test]
    fn rows_of_one_long_record_read_as_they_do_one_by_one() {
        let mut log = LogStore::new(1 << 20, TextEncoding::GBK);
        let text = "温度=25℃ 湿度=61% ".repeat(300);
        let gbk = TextEncoding::GBK.encode(&text).unwrap();
        rx_on_conn_1(&mut log, &gbk);
        rx_on_conn_1(&mut log, b"\r\nend\n");
        let mut stream = StreamIndex::default();
        stream.update(&log, &RecordFilter::default());
        assert!(stream.len() > 5, "one record, many rows");
        let together: Vec<String> = stream
            .rows(&log, 0..stream.len())
            .into_iter()
            .map(|r| r.1)
            .collect();
        let one_by_one: Vec<String> = (0..stream.len())
            .map(|i| stream.row(&log, i).unwrap().1)
            .collect();
        assert_eq!(together, one_by_one);
        assert_eq!(together.concat(), format!("{text}\r\nend\n"));
    }
}
