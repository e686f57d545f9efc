//! The log store: a bounded queue of records over an arena of bytes. The index holds an entry
//! per run (time, kind, connection, peer, which buffer): a record alone, or the frames one read
//! completed, back to back in one buffer — with a 4-byte end per record beside it, so a stream
//! of short frames costs a few bytes of index each, not a whole entry. Rows are still one per
//! record everywhere: a run is split into its records when they are read. The bytes of many
//! records share one large buffer, so a stream of small frames costs a copy each, not an
//! allocation each.
//! Text is not stored: it is decoded when a row is shown, searched or exported. For a TCP
//! stream each record keeps the few bytes of a character the records before it left
//! unfinished ([`Carry`]), so a character split across reads still shows whole.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Note;
use super::index::Index;
use crate::codec::{Carry, CarryTracker, TextEncoding};
use crate::engine::{Buffers, ConnId, Direction};

/// Default byte cap of the log store.
pub const DEFAULT_CAP: usize = 256 << 20;
/// What an index entry (a run of records) costs, for the cap's accounting.
const ENTRY_COST: usize = std::mem::size_of::<Meta>();
/// What each record costs beside its run's entry: its end.
const END_COST: usize = std::mem::size_of::<u32>();
/// What one record alone costs beyond its bytes.
const RECORD_OVERHEAD: usize = ENTRY_COST + END_COST;
/// What a message costs besides its index entry (its parts, worded when shown).
const NOTE_COST: usize = 96;
/// Size of the arena's shared buffers. Records larger than a quarter of it get a buffer of
/// their own, so at most a quarter of a shared buffer is left unused at its end.
const CHUNK: usize = 1 << 20;
/// Freed buffers kept for reuse: once the cap is reached, eviction frees a buffer about as
/// often as appends need one, and reusing it spares the allocator and the kernel's page
/// faults.
const SPARE_CHUNKS: usize = 4;
/// A record at least this long, in a buffer it fills at least half of, is kept in that buffer
/// as it came (no copy): a flood of large reads is stored without touching its bytes again.
/// The buffer's unused end counts towards the cap. Smaller ones are copied into shared buffers.
const ADOPT_FROM: usize = 48 << 10;

/// True if `bytes` is worth keeping as its own buffer.
fn adoptable(bytes: &[u8], capacity: usize) -> bool {
    bytes.len() >= ADOPT_FROM && capacity <= bytes.len() * 2
}

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// Bytes received.
    Rx,
    /// Bytes sent.
    Tx,
    /// A connection or session event (connected, left, listening …).
    Info,
    /// Something failed.
    Error,
}

impl From<Direction> for RecordKind {
    fn from(dir: Direction) -> Self {
        match dir {
            Direction::Rx => RecordKind::Rx,
            Direction::Tx => RecordKind::Tx,
        }
    }
}

/// What a WebSocket message was (RFC 6455 text or binary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsKind {
    /// A text message (UTF-8).
    Text,
    /// A binary message.
    Binary,
}

impl std::fmt::Display for WsKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::i18n::t(match self {
            WsKind::Text => crate::i18n::S::WsKindText,
            WsKind::Binary => crate::i18n::S::WsKindBinary,
        }))
    }
}

/// Which way a relay session's received bytes went (what they were when they came, whatever
/// the tab is now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayWay {
    /// From a client, for the upstream (C→U).
    FromClient,
    /// From the upstream, for its client (U→C).
    FromUpstream,
}

/// One row of the log, borrowed from the store.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// Position since the store was created; stays the same when older records are evicted.
    pub seq: u64,
    /// When it happened.
    pub at: SystemTime,
    /// Data in, data out, or a message.
    pub kind: RecordKind,
    /// The TCP connection, if any.
    pub conn: Option<ConnId>,
    /// The other end, if any.
    pub peer: Option<SocketAddr>,
    /// The raw bytes (empty for messages).
    pub bytes: &'a [u8],
    /// A frame that is not whole (left over when the stream ended, or cut at the size limit).
    pub partial: bool,
    /// Bytes at its start that are a length header (length-prefix framing), else 0.
    pub head: usize,
    /// A WebSocket message: text or binary.
    pub ws: Option<WsKind>,
    /// Received by a relay session: which way it went.
    pub relay: Option<RelayWay>,
    /// The message, for [`RecordKind::Info`] and [`RecordKind::Error`].
    note: Option<&'a Arc<Note>>,
    /// Received on a TCP connection: one piece of a stream, decoded with `carry`.
    stream: bool,
    carry: Carry,
    /// The piece after it continued its unfinished last character (which then shows there,
    /// whole); otherwise that end is this piece's own and shows here, as escapes.
    held_tail: bool,
    encoding: TextEncoding,
}

impl<'a> Record<'a> {
    /// The machine name of the event a message tells (`connected`, `reset` …; see
    /// [`Note::event`]); `None` for data and for messages that name no event.
    pub fn event(&self) -> Option<&'static str> {
        self.note.and_then(|note| note.event())
    }

    /// What a message is about apart from its sentence (see [`Note::subject`]).
    pub fn subject(&self) -> Option<String> {
        self.note.and_then(|note| note.subject())
    }

    /// The bytes after the length header (all of them without one).
    pub fn payload(&self) -> &'a [u8] {
        self.bytes.get(self.head..).unwrap_or(self.bytes)
    }

    /// The payload as text: a length-prefixed frame is a whole message, decoded alone.
    pub fn payload_text_head(&self, max_bytes: usize) -> Cow<'a, str> {
        if self.head == 0 {
            return self.text_head(max_bytes);
        }
        let payload = self.payload();
        self.encoding
            .decode_message(payload.get(..max_bytes).unwrap_or(payload))
    }

    /// The bytes as text in the store's encoding (bytes invalid in it as `\xNN`), or the
    /// message. Decoded now; borrowed when the bytes already are the text.
    pub fn text(&self) -> Cow<'a, str> {
        match self.kind {
            RecordKind::Info | RecordKind::Error => {
                Cow::Owned(self.note.map(ToString::to_string).unwrap_or_default())
            }
            RecordKind::Rx if self.stream && self.held_tail => self
                .encoding
                .decode_piece(self.carry.as_bytes(), self.bytes),
            RecordKind::Rx if self.stream => {
                let mut out = String::with_capacity(self.bytes.len() + 8);
                self.encoding
                    .decode_piece_final(self.carry.as_bytes(), self.bytes, &mut out);
                Cow::Owned(out)
            }
            RecordKind::Rx | RecordKind::Tx => self.encoding.decode_message(self.bytes),
        }
    }

    /// The start of [`text`](Self::text), from at most the first `max_bytes` bytes: what a row
    /// has room for, without decoding all of a 64 KiB read every frame. A character cut at
    /// the limit is left out, not shown as escapes.
    pub fn text_head(&self, max_bytes: usize) -> Cow<'a, str> {
        match self.bytes.get(..max_bytes) {
            Some(head) if head.len() < self.bytes.len() => {
                let carry = if self.stream {
                    self.carry.as_bytes()
                } else {
                    &[]
                };
                self.encoding.decode_piece(carry, head)
            }
            _ => self.text(),
        }
    }

    /// [`text`](Self::text), appended to `out`: no allocation when `out` has room.
    pub fn text_into(&self, out: &mut String) {
        match self.kind {
            RecordKind::Info | RecordKind::Error => {
                if let Some(note) = self.note {
                    use std::fmt::Write as _;
                    let _ = write!(out, "{note}");
                }
            }
            RecordKind::Rx if self.stream && self.held_tail => {
                self.encoding
                    .decode_piece_into(self.carry.as_bytes(), self.bytes, out);
            }
            RecordKind::Rx if self.stream => {
                self.encoding
                    .decode_piece_final(self.carry.as_bytes(), self.bytes, out);
            }
            RecordKind::Rx | RecordKind::Tx => self.encoding.decode_message_into(self.bytes, out),
        }
    }
}

/// A run's entry in the index: one record, or consecutive whole frames of one read (same
/// connection, peer, direction and time, back to back in one buffer). The records it holds are
/// the sequence numbers from `first` to the next entry's `first`; each record's end is in the
/// store's `ends`, and a record starts where the one before it in the run ends.
///
/// A run's records differ only in their bytes: a frame that continues a character the frame
/// before it left unfinished starts a run of its own, so only a run's first record has a
/// carry and only its last holds its end for the next piece. A partial frame, a WebSocket
/// message and a message are each a run of one.
#[derive(Clone, Copy)]
struct Meta {
    /// Nanoseconds since the Unix epoch.
    at: u64,
    /// Where its bytes are: the buffer's number and, in `offset`, where its first held
    /// record starts in it (it moves on when the run's oldest records are evicted). For a
    /// message, the buffer data went to when it was added.
    chunk: u64,
    /// Sequence number of its first held record.
    first: u64,
    conn: MetaConn,
    offset: u32,
    /// Index into the store's table of peers (`NO_PEER` for none).
    peer: u32,
    kind: RecordKind,
    partial: bool,
    ws: Option<WsKind>,
    relay: Option<RelayWay>,
    stream: bool,
    /// Length header bytes at the start of each record (see [`Record::head`]).
    head: u8,
    /// The first record's carry (the others have none).
    carry: Carry,
    /// The last record holds its unfinished end for the next piece (see [`Record::held_tail`]).
    held_tail: bool,
}

const NO_PEER: u32 = u32::MAX;

/// A record's connection in the index: 8 bytes where `Option<ConnId>` takes 16 (connection
/// numbers count up from 1 and never reach `u64::MAX`, which stands for none). The entry is
/// 56 bytes, not 64: a flood of short records alone is mostly index.
#[derive(Clone, Copy)]
struct MetaConn(u64);

impl From<Option<ConnId>> for MetaConn {
    fn from(conn: Option<ConnId>) -> Self {
        Self(conn.map_or(u64::MAX, |c| c.0))
    }
}

impl MetaConn {
    fn get(self) -> Option<ConnId> {
        (self.0 != u64::MAX).then_some(ConnId(self.0))
    }
}

const _: () = assert!(ENTRY_COST == 56, "the index entry grew");

/// The entry of `metas` holding the record with sequence number `seq` (the last one whose
/// first record is at or before it).
fn entry_of(metas: &Index<Meta>, seq: u64) -> Option<usize> {
    let n = metas.len();
    if metas.back().is_some_and(|m| m.first <= seq) {
        return n.checked_sub(1);
    }
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if metas.get(mid).is_some_and(|m| m.first <= seq) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo.checked_sub(1)
}

/// What the records of a run share.
#[derive(Clone, Copy)]
struct Run {
    /// Nanoseconds since the Unix epoch.
    at: u64,
    kind: RecordKind,
    conn: Option<ConnId>,
    peer: u32,
    stream: bool,
    head: u8,
}

impl Run {
    /// Frames received on a connection, in a stream, with `head` header bytes each.
    fn frames(at: u64, conn: ConnId, peer: u32, head: u8) -> Self {
        Self {
            at,
            kind: RecordKind::Rx,
            conn: Some(conn),
            peer,
            stream: true,
            head,
        }
    }
}

/// True for records whose bytes are in the arena (data, not messages).
fn is_data(kind: RecordKind) -> bool {
    matches!(kind, RecordKind::Rx | RecordKind::Tx)
}

/// The byte buffers records point into, oldest first, numbered from `first`: shared 1 MiB
/// buffers that records are copied into, and buffers adopted whole from a large read.
#[derive(Default)]
struct Arena {
    chunks: VecDeque<Vec<u8>>,
    /// The unused end of each adopted buffer (counted towards the cap), per buffer.
    slack: VecDeque<usize>,
    first: u64,
    spare: Vec<Vec<u8>>,
    /// The last buffer is a shared one that records may be appended to.
    open: bool,
    /// Where adopted read buffers go when their records are evicted (back to the engine).
    recycle: Option<Buffers>,
}

impl Arena {
    /// Copies `bytes` in; returns the buffer's number and the offset.
    fn push(&mut self, bytes: &[u8]) -> (u64, u32) {
        let fits = self.open
            && self
                .chunks
                .back()
                .is_some_and(|c| c.capacity() == CHUNK && CHUNK - c.len() >= bytes.len());
        if !fits {
            self.open = bytes.len() <= CHUNK / 4;
            let chunk = if bytes.len() > CHUNK / 4 {
                Vec::with_capacity(bytes.len())
            } else {
                self.spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(CHUNK))
            };
            self.chunks.push_back(chunk);
            self.slack.push_back(0);
        }
        let number = self.first + self.chunks.len() as u64 - 1;
        let Some(chunk) = self.chunks.back_mut() else {
            return (number, 0);
        };
        let offset = chunk.len() as u32;
        chunk.extend_from_slice(bytes);
        (number, offset)
    }

    /// Keeps `bytes` as a buffer of its own, without a copy; returns its number and what of
    /// it is unused: its end, and `dead` bytes at its start no record points to.
    fn adopt(&mut self, bytes: Vec<u8>, dead: usize) -> (u64, usize) {
        let slack = bytes.capacity() - bytes.len() + dead.min(bytes.len());
        self.chunks.push_back(bytes);
        self.slack.push_back(slack);
        self.open = false;
        (self.first + self.chunks.len() as u64 - 1, slack)
    }

    /// The number of the buffer appends go to now (of the next one when there is none).
    fn last_number(&self) -> u64 {
        (self.first + self.chunks.len() as u64).saturating_sub(u64::from(!self.chunks.is_empty()))
    }

    fn get(&self, chunk: u64, offset: u32, len: usize) -> &[u8] {
        let start = offset as usize;
        usize::try_from(chunk.wrapping_sub(self.first))
            .ok()
            .and_then(|i| self.chunks.get(i))
            .and_then(|c| c.get(start..start + len))
            .unwrap_or_default()
    }

    /// Frees the buffers before number `keep` (no record points into them any more); returns
    /// the unused ends they counted.
    fn release_before(&mut self, keep: u64) -> usize {
        let mut freed = 0;
        while self.first < keep {
            let Some(mut chunk) = self.chunks.pop_front() else {
                break;
            };
            freed += self.slack.pop_front().unwrap_or(0);
            self.first += 1;
            if chunk.capacity() == CHUNK && self.spare.len() < SPARE_CHUNKS {
                chunk.clear();
                self.spare.push(chunk);
            } else if let Some(recycle) = &self.recycle {
                recycle.give(chunk);
            }
        }
        if self.chunks.is_empty() {
            self.open = false;
        }
        freed
    }

    /// Frees every buffer, the spares and the engine's pooled ones too (a cleared log gives
    /// its memory back); numbering goes on.
    fn clear(&mut self) {
        let next = self.first + self.chunks.len() as u64;
        self.release_before(next);
        self.spare = Vec::new();
        self.chunks.shrink_to_fit();
        self.slack.shrink_to_fit();
        if let Some(recycle) = &self.recycle {
            recycle.release();
        }
    }

    /// Bytes allocated, spares included.
    fn allocated(&self) -> usize {
        self.chunks
            .iter()
            .chain(&self.spare)
            .map(Vec::capacity)
            .sum()
    }
}

/// A bounded, append-only log with eviction from the front.
pub struct LogStore {
    /// An entry per run of records.
    metas: Index<Meta>,
    /// Per record: where its bytes end in its run's buffer; for a message, its note's number
    /// (the low 32 bits).
    ends: Index<u32>,
    /// Sequence number of `ends[0]` (of the next record when empty).
    first_seq: u64,
    arena: Arena,
    peers: Vec<SocketAddr>,
    peer_index: HashMap<SocketAddr, u32>,
    /// The last peer interned and the last time converted: a run of frames from one read
    /// shares both, and hashing or converting them per frame showed in profiles.
    last_peer: Option<(SocketAddr, u32)>,
    last_at: (SystemTime, u64),
    held: usize,
    cap: usize,
    evicted_records: u64,
    evicted_bytes: u64,
    encoding: TextEncoding,
    streams: HashMap<ConnId, CarryTracker>,
    /// Each stream's newest piece (its seq), whose unfinished end the next piece may take.
    last_piece: HashMap<ConnId, u64>,
    /// The messages' notes, oldest first, numbered from `first_note`.
    notes: VecDeque<Arc<Note>>,
    first_note: u64,
    /// While a relay session adds records: its upstreams' peers (interned); bytes received
    /// from one went U→C, from any other peer C→U.
    relay: Option<Vec<u32>>,
}

impl Default for LogStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAP, TextEncoding::default())
    }
}

impl LogStore {
    /// An empty store holding at most about `cap` bytes (raw bytes + per-record overhead).
    pub fn new(cap: usize, encoding: TextEncoding) -> Self {
        Self {
            metas: Index::default(),
            ends: Index::default(),
            first_seq: 0,
            arena: Arena::default(),
            peers: Vec::new(),
            peer_index: HashMap::new(),
            last_peer: None,
            last_at: (UNIX_EPOCH, 0),
            held: 0,
            cap,
            evicted_records: 0,
            evicted_bytes: 0,
            encoding,
            streams: HashMap::new(),
            last_piece: HashMap::new(),
            notes: VecDeque::new(),
            first_note: 0,
            relay: None,
        }
    }

    /// Appends bytes that went one way. Bytes received on a TCP connection are one stream:
    /// the record notes the unfinished character the records before it left.
    pub fn push_data(
        &mut self,
        at: SystemTime,
        dir: Direction,
        conn: Option<ConnId>,
        peer: SocketAddr,
        bytes: &[u8],
    ) {
        let (stream, carry) = self.carry_of(dir, conn, bytes);
        let peer = self.intern(peer);
        self.append(at, dir.into(), conn, peer, bytes, stream, carry);
        self.evict_to_cap();
    }

    /// [`push_data`](Self::push_data) with the bytes' own buffer, which a large record is kept
    /// in without a copy. Returns the buffer when it was copied instead (to be used again).
    pub fn push_data_owned(
        &mut self,
        at: SystemTime,
        dir: Direction,
        conn: Option<ConnId>,
        peer: SocketAddr,
        bytes: Vec<u8>,
    ) -> Option<Vec<u8>> {
        if !adoptable(&bytes, bytes.capacity()) {
            self.push_data(at, dir, conn, peer, &bytes);
            return Some(bytes);
        }
        let (stream, carry) = self.carry_of(dir, conn, &bytes);
        let peer = self.intern(peer);
        let len = bytes.len();
        let (chunk, slack) = self.arena.adopt(bytes, 0);
        self.held += slack;
        self.append_meta(at, dir.into(), conn, peer, (chunk, 0, len), stream, carry);
        self.evict_to_cap();
        None
    }

    /// Whether bytes that went `dir` on `conn` are a piece of a stream, and the unfinished
    /// character the pieces before them left.
    fn carry_of(&mut self, dir: Direction, conn: Option<ConnId>, bytes: &[u8]) -> (bool, Carry) {
        match (dir, conn) {
            (Direction::Rx, Some(conn)) => {
                let encoding = self.encoding;
                let tracker = self
                    .streams
                    .entry(conn)
                    .or_insert_with(|| CarryTracker::new(encoding));
                let carry = tracker.push(bytes);
                let seq = self.next_seq();
                (true, self.link_piece(conn, carry, bytes, seq))
            }
            _ => (false, Carry::default()),
        }
    }

    /// The carry of the piece of `conn`'s stream that will be the record `seq`: what the
    /// piece before left unfinished, if this piece continues it — then that piece holds its
    /// end for this one. A piece that does not continue it starts afresh, and the piece before
    /// shows its own unfinished end (`\xNN`), so a row shows exactly its record's bytes.
    fn link_piece(&mut self, conn: ConnId, carry: Carry, bytes: &[u8], seq: u64) -> Carry {
        let previous = self.last_piece.insert(conn, seq);
        let carry = self.continued(carry, bytes);
        if !carry.as_bytes().is_empty()
            && let Some(previous) = previous
        {
            self.hold_tail(previous);
        }
        carry
    }

    /// `carry` if a piece starting with `bytes` continues the character it holds, else none.
    fn continued(&self, carry: Carry, bytes: &[u8]) -> Carry {
        if carry.as_bytes().is_empty() || self.encoding.continues(carry.as_bytes(), bytes) {
            carry
        } else {
            Carry::default()
        }
    }

    /// The record `seq` holds its unfinished end for the piece after it. It is the newest
    /// piece of its stream, so the last record of its run (a run is one read's frames, and
    /// the piece after it starts a run of its own).
    fn hold_tail(&mut self, seq: u64) {
        if seq < self.first_seq {
            return;
        }
        let last_of_run = |e: usize, metas: &Index<Meta>, next: u64| {
            metas.get(e + 1).map_or(next, |m| m.first) == seq + 1
        };
        let next = self.next_seq();
        if let Some(e) = entry_of(&self.metas, seq)
            && last_of_run(e, &self.metas, next)
            && let Some(meta) = self.metas.get_mut(e)
        {
            meta.held_tail = true;
        }
    }

    /// Records added from now on come from a relay session (`true`) or not: a relay's
    /// received rows keep which way they went (see [`Record::relay`]).
    pub fn set_relay(&mut self, relay: bool) {
        self.relay = relay.then(Vec::new);
    }

    /// A relay session's upstream is `peer`: what it sends goes U→C.
    pub fn relay_upstream(&mut self, peer: SocketAddr) {
        let i = self.intern(peer);
        if let Some(upstreams) = self.relay.as_mut()
            && !upstreams.contains(&i)
        {
            upstreams.push(i);
        }
    }

    /// Where buffers adopted from reads go when their records are evicted.
    pub fn set_recycle(&mut self, buffers: Buffers) {
        self.arena.recycle = Some(buffers);
    }

    /// Appends whole frames received on `conn` at one moment (the frames one read completed),
    /// a record each, as one run: the stream's carry tracker, the peer and the time are looked
    /// up once for the run, not per frame, and the run takes one index entry (more where it
    /// spans two buffers, or a frame continues a character the frame before it left
    /// unfinished).
    pub fn push_frames<'b>(
        &mut self,
        at: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        frames: impl IntoIterator<Item = &'b [u8]>,
    ) {
        self.copy_frames(at, conn, peer, frames, 0);
        self.evict_to_cap();
    }

    /// [`push_frames`](Self::push_frames) without evicting, each frame starting with `header`
    /// bytes of length header.
    fn copy_frames<'b>(
        &mut self,
        at: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        frames: impl IntoIterator<Item = &'b [u8]>,
        header: u8,
    ) {
        let encoding = self.encoding;
        let mut tracker = self
            .streams
            .remove(&conn)
            .unwrap_or_else(|| CarryTracker::new(encoding));
        let peer = self.intern(peer);
        let at = self.nanos(at);
        // The stream's newest piece is looked up and noted once for the run, not per frame.
        let mut previous = self.last_piece.get(&conn).copied();
        let mut joins = false;
        for bytes in frames {
            let carry = self.continued(tracker.push(bytes), bytes);
            if let Some(previous) = previous.filter(|_| !carry.as_bytes().is_empty()) {
                self.hold_tail(previous);
            }
            previous = Some(self.next_seq());
            let (chunk, offset) = self.arena.push(bytes);
            let run = Run::frames(at, conn, peer, header);
            self.add(run, (chunk, offset, bytes.len()), carry, joins);
            joins = true;
        }
        if let Some(last) = previous {
            self.last_piece.insert(conn, last);
        }
        self.streams.insert(conn, tracker);
    }

    /// [`push_frames`](Self::push_frames) of frames back to back in `bytes`, with `lens`:
    /// kept in that buffer without a copy when it is large. Returns the buffer when the frames
    /// were copied instead.
    pub fn push_frames_owned(
        &mut self,
        at: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        bytes: Vec<u8>,
        lens: &[usize],
        header: u8,
    ) -> Option<Vec<u8>> {
        self.push_frames_in(at, conn, peer, bytes, 0, lens, header)
    }

    /// [`push_frames_owned`](Self::push_frames_owned) of frames from `from` on in `bytes`
    /// (a read the frames were cut from in place; the bytes before them are not stored, but
    /// count towards the cap while the buffer is kept).
    #[expect(
        clippy::too_many_arguments,
        reason = "push_frames_owned's arguments and where the frames start"
    )]
    pub fn push_frames_in(
        &mut self,
        at: SystemTime,
        conn: ConnId,
        peer: SocketAddr,
        bytes: Vec<u8>,
        from: usize,
        lens: &[usize],
        header: u8,
    ) -> Option<Vec<u8>> {
        if !adoptable(&bytes, bytes.capacity()) {
            let mut rest = bytes.get(from..).unwrap_or_default();
            let frames = lens.iter().map(|&len| {
                let (frame, after) = rest.split_at(len.min(rest.len()));
                rest = after;
                frame
            });
            self.copy_frames(at, conn, peer, frames, header);
            self.evict_to_cap();
            return Some(bytes);
        }
        let encoding = self.encoding;
        let mut tracker = self
            .streams
            .remove(&conn)
            .unwrap_or_else(|| CarryTracker::new(encoding));
        let previous = self.last_piece.get(&conn).copied();
        let peer = self.intern(peer);
        let at = self.nanos(at);
        let (chunk, slack) = self.arena.adopt(bytes, from);
        self.held += slack;
        let run = Run::frames(at, conn, peer, header);
        let mut offset = from;
        for (i, &len) in lens.iter().enumerate() {
            let frame = self.arena.get(chunk, offset as u32, len);
            let len = frame.len();
            let carry = self.continued(tracker.push(frame), frame);
            if !carry.as_bytes().is_empty() {
                // The piece before is this run's frame before (the newest record now) or, for
                // the first frame, the stream's newest record.
                match (i, previous) {
                    (0, Some(previous)) => self.hold_tail(previous),
                    (0, None) => {}
                    _ => self.hold_tail(self.next_seq() - 1),
                }
            }
            self.add(run, (chunk, offset as u32, len), carry, i > 0);
            offset += len;
        }
        self.streams.insert(conn, tracker);
        if !lens.is_empty() {
            self.last_piece.insert(conn, self.next_seq() - 1);
        }
        self.evict_to_cap();
        None
    }

    /// The newest run if it is one record (as a record added alone is), to change.
    fn last_alone(&mut self) -> Option<&mut Meta> {
        let next = self.next_seq();
        self.metas.back_mut().filter(|m| m.first + 1 == next)
    }

    /// Marks the newest record as a partial frame.
    pub fn mark_last_partial(&mut self) {
        if let Some(last) = self.last_alone() {
            last.partial = true;
        }
    }

    /// Marks the newest record as a WebSocket message of this kind: a message is whole, so it
    /// is decoded by itself, not as a piece of a stream.
    pub fn mark_last_ws(&mut self, kind: WsKind) {
        if let Some(last) = self.last_alone() {
            last.ws = Some(kind);
            last.stream = false;
            last.carry = Carry::default();
        }
    }

    /// Appends a message (connected, closed, an error …), worded when shown.
    pub fn push_note(
        &mut self,
        at: SystemTime,
        kind: RecordKind,
        conn: Option<ConnId>,
        peer: Option<SocketAddr>,
        note: impl Into<Arc<Note>>,
    ) {
        let peer = peer.map_or(NO_PEER, |p| self.intern(p));
        let number = self.first_note + self.notes.len() as u64;
        self.notes.push_back(note.into());
        let at = self.nanos(at);
        self.metas.push_back(Meta {
            at,
            // The buffer data is appended to now: freeing those before it when this record
            // is the oldest frees only evicted bytes.
            chunk: self.arena.last_number(),
            first: self.next_seq(),
            conn: MetaConn::from(conn),
            offset: 0,
            peer,
            kind,
            partial: false,
            ws: None,
            relay: None,
            head: 0,
            stream: false,
            carry: Carry::default(),
            held_tail: false,
        });
        // The note's number, in 32 bits: far fewer than 2^32 notes are ever held at once.
        self.ends.push_back(number as u32);
        self.held += RECORD_OVERHEAD + NOTE_COST;
        self.evict_to_cap();
    }

    /// Appends a message of plain text.
    pub fn push_message(
        &mut self,
        at: SystemTime,
        kind: RecordKind,
        conn: Option<ConnId>,
        peer: Option<SocketAddr>,
        text: &str,
    ) {
        self.push_note(at, kind, conn, peer, Note::text(text));
    }

    /// Ends a connection's receive stream. Bytes of a character that never completed already
    /// show as `\xNN` in the row of the last piece, which no piece continues now.
    pub fn end_stream(&mut self, conn: ConnId) {
        self.streams.remove(&conn);
        self.last_piece.remove(&conn);
    }

    fn intern(&mut self, peer: SocketAddr) -> u32 {
        if let Some((last, i)) = self.last_peer
            && last == peer
        {
            return i;
        }
        let i = match self.peer_index.get(&peer) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.peers.len()).unwrap_or(NO_PEER);
                if i != NO_PEER {
                    self.peers.push(peer);
                    self.peer_index.insert(peer, i);
                }
                i
            }
        };
        self.last_peer = Some((peer, i));
        i
    }

    /// Adds a record alone without evicting (the caller evicts).
    #[expect(
        clippy::too_many_arguments,
        reason = "the one place a record alone is put together"
    )]
    fn append(
        &mut self,
        at: SystemTime,
        kind: RecordKind,
        conn: Option<ConnId>,
        peer: u32,
        bytes: &[u8],
        stream: bool,
        carry: Carry,
    ) {
        let place = self.arena.push(bytes);
        self.append_meta(
            at,
            kind,
            conn,
            peer,
            (place.0, place.1, bytes.len()),
            stream,
            carry,
        );
    }

    /// Adds a record alone whose bytes are at `place` (buffer, offset, length).
    #[expect(
        clippy::too_many_arguments,
        reason = "the one place a record alone is put together"
    )]
    fn append_meta(
        &mut self,
        at: SystemTime,
        kind: RecordKind,
        conn: Option<ConnId>,
        peer: u32,
        place: (u64, u32, usize),
        stream: bool,
        carry: Carry,
    ) {
        let at = self.nanos(at);
        let run = Run {
            at,
            kind,
            conn,
            peer,
            stream,
            head: 0,
        };
        self.add(run, place, carry, false);
    }

    /// Adds a record whose bytes are at `place` (buffer, offset, length): to the newest run
    /// when `joins` (it is the next frame of the same read), its bytes follow that run's in
    /// the same buffer and it continues no character; else as a run of its own.
    fn add(&mut self, run: Run, place: (u64, u32, usize), carry: Carry, joins: bool) {
        let (chunk, offset, len) = place;
        // A buffer's offsets fit 32 bits (shared buffers are 1 MiB, a read's a few hundred
        // KiB); the end of a record larger than 4 GiB would be cut there.
        let end = u32::try_from(offset as usize + len).unwrap_or(u32::MAX);
        let joined = joins
            && carry.as_bytes().is_empty()
            && self.metas.back().is_some_and(|m| m.chunk == chunk)
            && self.ends.back() == Some(&offset);
        if !joined {
            let relay = match &self.relay {
                Some(upstreams) if run.kind == RecordKind::Rx => {
                    Some(if upstreams.contains(&run.peer) {
                        RelayWay::FromUpstream
                    } else {
                        RelayWay::FromClient
                    })
                }
                _ => None,
            };
            self.metas.push_back(Meta {
                at: run.at,
                chunk,
                first: self.next_seq(),
                conn: MetaConn::from(run.conn),
                offset,
                peer: run.peer,
                kind: run.kind,
                partial: false,
                ws: None,
                relay,
                stream: run.stream,
                head: run.head,
                carry,
                held_tail: false,
            });
            self.held += ENTRY_COST;
        }
        self.ends.push_back(end);
        self.held += END_COST + len;
    }

    /// `at` as nanoseconds since the Unix epoch (the last conversion is cached: a run of frames
    /// shares one time).
    fn nanos(&mut self, at: SystemTime) -> u64 {
        if at != self.last_at.0 {
            let nanos = at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
            self.last_at = (at, nanos);
        }
        self.last_at.1
    }

    /// The encoding the text of data records is decoded with.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Shows the whole history in another encoding (the raw bytes are the truth): follows
    /// each connection's stream again to find where its characters end. Runs are laid out
    /// again, as a frame that continues a character starts a run of its own.
    pub fn set_encoding(&mut self, encoding: TextEncoding) {
        if encoding == self.encoding {
            return;
        }
        self.encoding = encoding;
        self.streams.clear();
        self.last_piece.clear();
        let old = std::mem::take(&mut self.metas);
        let ends = std::mem::take(&mut self.ends);
        self.held = self.held.saturating_sub(old.len() * ENTRY_COST);
        let total = ends.len();
        for (e, &meta) in old.iter_from(0) {
            let next = old
                .get(e + 1)
                .map_or(self.first_seq + total as u64, |m| m.first);
            let mut start = meta.offset;
            for seq in meta.first..next {
                let i = usize::try_from(seq - self.first_seq).unwrap_or(usize::MAX);
                let end = ends.get(i).copied().unwrap_or(start);
                let mut carry = Carry::default();
                if let Some(conn) = meta.conn.get().filter(|_| meta.stream) {
                    let bytes = self.arena.get(meta.chunk, start, (end - start) as usize);
                    let held = self
                        .streams
                        .entry(conn)
                        .or_insert_with(|| CarryTracker::new(encoding))
                        .push(bytes);
                    let continued = held.as_bytes().is_empty()
                        || self.encoding.continues(held.as_bytes(), bytes);
                    if continued {
                        carry = held;
                    }
                    let previous = self.last_piece.insert(conn, seq);
                    if !carry.as_bytes().is_empty()
                        && let Some(previous) = previous
                    {
                        self.hold_tail(previous);
                    }
                }
                if seq == meta.first || !carry.as_bytes().is_empty() {
                    self.metas.push_back(Meta {
                        first: seq,
                        offset: start,
                        carry,
                        held_tail: false,
                        ..meta
                    });
                    self.held += ENTRY_COST;
                }
                self.ends.push_back(end);
                if is_data(meta.kind) {
                    start = end;
                }
            }
        }
        self.evict_to_cap();
    }

    /// Changes the byte cap, evicting at once if the store is over it.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
        self.evict_to_cap();
    }

    /// Evicts the oldest records until the store is within its cap, record by record: a run
    /// partly evicted keeps its newer records whole (its entry then starts at the first one
    /// left), and goes when its last record does.
    fn evict_to_cap(&mut self) {
        if self.held <= self.cap {
            return;
        }
        while self.held > self.cap {
            let Some(&front) = self.metas.front() else {
                break;
            };
            let Some(end) = self.ends.pop_front() else {
                break;
            };
            self.first_seq += 1;
            self.evicted_records += 1;
            self.held = self.held.saturating_sub(END_COST);
            match front.kind {
                RecordKind::Rx | RecordKind::Tx => {
                    let len = end.saturating_sub(front.offset) as usize;
                    self.held = self.held.saturating_sub(len);
                    self.evicted_bytes += len as u64;
                }
                RecordKind::Info | RecordKind::Error => {
                    self.held = self.held.saturating_sub(NOTE_COST);
                    self.notes.pop_front();
                    self.first_note += 1;
                }
            }
            let next = self.metas.get(1).map_or(self.next_seq(), |m| m.first);
            if self.first_seq >= next {
                self.metas.pop_front();
                self.held = self.held.saturating_sub(ENTRY_COST);
            } else if let Some(run) = self.metas.front_mut() {
                // The run's next record is its first now; it continued no character.
                run.first = self.first_seq;
                run.offset = end;
                run.carry = Carry::default();
            }
        }
        let freed = match self.metas.front() {
            Some(front) => self.arena.release_before(front.chunk),
            None => {
                let next = self.arena.first + self.arena.chunks.len() as u64;
                self.arena.release_before(next)
            }
        };
        self.held = self.held.saturating_sub(freed);
    }

    /// Removes every record (counters of evictions start again too).
    pub fn clear(&mut self) {
        self.first_seq += self.ends.len() as u64;
        self.metas = Index::default();
        self.ends = Index::default();
        self.first_note += self.notes.len() as u64;
        self.notes = VecDeque::new();
        self.arena.clear();
        self.held = 0;
        self.evicted_records = 0;
        self.evicted_bytes = 0;
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The record at `index` (0 = oldest held), in the run `entry`.
    fn record(&self, index: usize, entry: usize) -> Option<Record<'_>> {
        let meta = self.metas.get(entry)?;
        let end = *self.ends.get(index)?;
        let seq = self.first_seq + index as u64;
        let first = seq == meta.first;
        let last = self
            .metas
            .get(entry + 1)
            .map_or(self.next_seq(), |m| m.first)
            == seq + 1;
        // A message has no payload, only its note.
        let (bytes, note) = if is_data(meta.kind) {
            let start = if first {
                meta.offset
            } else {
                index
                    .checked_sub(1)
                    .and_then(|i| self.ends.get(i))
                    .copied()
                    .unwrap_or(meta.offset)
            };
            let len = end.saturating_sub(start) as usize;
            (self.arena.get(meta.chunk, start, len), None)
        } else {
            let number = end.wrapping_sub(self.first_note as u32);
            let note = usize::try_from(number).ok().and_then(|i| self.notes.get(i));
            (&[][..], note)
        };
        Some(Record {
            seq,
            at: UNIX_EPOCH + Duration::from_nanos(meta.at),
            kind: meta.kind,
            conn: meta.conn.get(),
            peer: self.peers.get(meta.peer as usize).copied(),
            bytes,
            partial: meta.partial,
            ws: meta.ws,
            relay: meta.relay,
            head: usize::from(meta.head),
            note,
            stream: meta.stream,
            carry: if first { meta.carry } else { Carry::default() },
            held_tail: last && meta.held_tail,
            encoding: self.encoding,
        })
    }

    /// The run holding the record at `index`.
    fn entry_at(&self, index: usize) -> Option<usize> {
        if index >= self.ends.len() {
            return None;
        }
        entry_of(&self.metas, self.first_seq + index as u64)
    }

    /// The record at `index` (0 = oldest held).
    pub fn get(&self, index: usize) -> Option<Record<'_>> {
        self.record(index, self.entry_at(index)?)
    }

    /// The record with sequence number `seq`, if still held.
    pub fn get_seq(&self, seq: u64) -> Option<Record<'_>> {
        self.get(usize::try_from(seq.checked_sub(self.first_seq)?).ok()?)
    }

    /// Sequence number of the oldest record held, if any.
    pub fn first_seq(&self) -> Option<u64> {
        (!self.ends.is_empty()).then_some(self.first_seq)
    }

    /// Sequence number the next record will get.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.ends.len() as u64
    }

    /// Records in order, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Record<'_>> + ExactSizeIterator {
        self.iter_from(self.first_seq)
    }

    /// Records from sequence number `seq` on (all held ones if it was evicted). Skipping is
    /// free: the run holding `seq` is found by a binary search, no record before it is
    /// looked at.
    pub fn iter_from(
        &self,
        seq: u64,
    ) -> impl DoubleEndedIterator<Item = Record<'_>> + ExactSizeIterator {
        let len = self.ends.len();
        let skip = usize::try_from(seq.saturating_sub(self.first_seq))
            .unwrap_or(usize::MAX)
            .min(len);
        Records {
            log: self,
            front: skip,
            back: len,
            front_entry: self.entry_at(skip).unwrap_or(0),
            back_entry: self.metas.len().saturating_sub(1),
        }
    }

    /// Bytes the store accounts for now: raw bytes and per-record overhead.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Memory the store really holds: its index and buffers (the cap bounds `held_bytes`;
    /// this adds the unused ends of buffers and the few kept for reuse).
    pub fn memory_bytes(&self) -> usize {
        self.index_bytes() + self.arena.allocated()
    }

    /// Memory the index holds: its runs' entries and its records' ends.
    fn index_bytes(&self) -> usize {
        self.metas.capacity() * ENTRY_COST + self.ends.capacity() * END_COST
    }

    /// The byte cap.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Records evicted since the last clear, and the payload bytes they held.
    pub fn evicted(&self) -> (u64, u64) {
        (self.evicted_records, self.evicted_bytes)
    }
}

/// The records of a [`LogStore`] in order, a run split into its records as they are read.
struct Records<'a> {
    log: &'a LogStore,
    /// Record indices still to give, `front..back`, and the runs holding the next one from
    /// each end.
    front: usize,
    back: usize,
    front_entry: usize,
    back_entry: usize,
}

impl<'a> Iterator for Records<'a> {
    type Item = Record<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let seq = self.log.first_seq + self.front as u64;
        while self
            .log
            .metas
            .get(self.front_entry + 1)
            .is_some_and(|m| m.first <= seq)
        {
            self.front_entry += 1;
        }
        let record = self.log.record(self.front, self.front_entry);
        self.front += 1;
        record
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back.saturating_sub(self.front);
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Self::Item> {
        self.front = self.front.saturating_add(n).min(self.back);
        if let Some(entry) = self.log.entry_at(self.front) {
            self.front_entry = entry;
        }
        self.next()
    }
}

impl DoubleEndedIterator for Records<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        let seq = self.log.first_seq + self.back as u64;
        while self.back_entry > 0
            && self
                .log
                .metas
                .get(self.back_entry)
                .is_some_and(|m| m.first > seq)
        {
            self.back_entry -= 1;
        }
        self.log.record(self.back, self.back_entry)
    }
}

impl ExactSizeIterator for Records<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    /// `bytes` received now from `peer()` on `conn`.
    fn rx(log: &mut LogStore, conn: Option<ConnId>, bytes: &[u8]) {
        log.push_data(SystemTime::now(), Direction::Rx, conn, peer(), bytes);
    }

    #[test]
    fn gbk_character_split_across_two_reads_shows_once() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::GBK);
        let bytes = TextEncoding::GBK.encode("你好").unwrap();
        let (a, b) = bytes.split_at(1);
        let conn = Some(ConnId(1));
        rx(&mut log, conn, a);
        rx(&mut log, conn, b);
        let text: String = log.iter().map(|r| r.text()).collect();
        assert_eq!(text, "你好");
        assert_eq!(log.get(0).unwrap().text(), "");
    }

    #[test]
    fn a_character_split_between_two_frames_of_one_read_shows_once() {
        // Fixed-length framing can end a frame inside a character; the next frame of the same
        // read ends it. Both paths: frames copied into the shared buffers, and a large read's
        // buffer kept whole.
        for filler in [10, 60_000] {
            let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
            let ni = "你".as_bytes();
            let mut first = vec![b'x'; filler];
            first.extend_from_slice(&[b'a', ni[0], ni[1]]);
            let second = [ni[2], b'b'];
            let lens = [first.len(), second.len()];
            let mut bytes = first;
            bytes.extend_from_slice(&second);
            bytes.shrink_to_fit();
            let conn = ConnId(1);
            log.push_frames_owned(SystemTime::now(), conn, peer(), bytes, &lens, 0);
            let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
            assert!(
                texts[0].ends_with("xa"),
                "{filler}: {}",
                &texts[0][filler - 2..]
            );
            assert_eq!(texts[1], "你b", "{filler}");
            // A third read continues the stream after the run.
            rx(&mut log, Some(conn), &[b'c', ni[0]]);
            rx(&mut log, Some(conn), &[ni[1], ni[2]]);
            let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
            assert_eq!(texts[2..], ["c", "你"], "{filler}");
        }
    }

    #[test]
    fn a_row_shows_exactly_its_records_bytes_and_an_unfinished_end_is_its_own() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let conn = Some(ConnId(1));
        // EF starts a three-byte character the next read does not continue.
        rx(&mut log, conn, &[b'x', 0xBE, 0xEF]);
        rx(&mut log, conn, b"next");
        let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(texts, ["x\\xBE\\xEF", "next"]);
        // A character split across reads still shows whole, in the read that ends it.
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let ni = "你".as_bytes();
        rx(&mut log, conn, &[b'a', ni[0], ni[1]]);
        // Before the rest comes, the unfinished end is the newest row's own.
        assert_eq!(log.get(0).unwrap().text(), "a\\xE4\\xBD");
        rx(&mut log, conn, &[ni[2], b'b']);
        let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(texts, ["a", "你b"]);
        // The same after a switch of encoding and back.
        log.set_encoding(TextEncoding::GBK);
        log.set_encoding(TextEncoding::UTF_8);
        let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(texts, ["a", "你b"]);
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::GBK);
        rx(&mut log, conn, &[b'x', 0xBE, 0xEF]);
        rx(&mut log, conn, b"next");
        log.set_encoding(TextEncoding::UTF_8);
        let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(
            texts,
            ["x\\xBE\\xEF", "next"],
            "nothing vanished in the switch"
        );
    }

    #[test]
    fn switching_encoding_redecodes_history() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let bytes = TextEncoding::GBK.encode("中文").unwrap();
        rx(&mut log, Some(ConnId(1)), &bytes);
        assert!(log.get(0).unwrap().text().contains("\\x"));
        log.set_encoding(TextEncoding::GBK);
        assert_eq!(log.get(0).unwrap().text(), "中文");
    }

    #[test]
    fn cap_evicts_oldest_and_counts_exactly() {
        // ASCII records keep their bytes once: 10 bytes each beyond the overhead.
        let cap = 100 * (RECORD_OVERHEAD + 10);
        let mut log = LogStore::new(cap, TextEncoding::UTF_8);
        for _ in 0..1000 {
            rx(&mut log, None, &[b'a'; 10]);
        }
        assert!(log.held_bytes() <= cap);
        assert_eq!(log.len(), 100);
        let (records, bytes) = log.evicted();
        assert_eq!(records, 900);
        assert_eq!(bytes, 9000);
        assert_eq!(log.get(0).unwrap().seq, 900);
    }

    #[test]
    fn unfinished_character_comes_out_at_stream_end() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        rx(&mut log, Some(ConnId(3)), &[b'o', b'k', 0xE4]);
        log.end_stream(ConnId(3));
        assert_eq!(log.get(0).unwrap().text(), "ok\\xE4");
    }

    /// A recognisable payload for record `i`, of `len` bytes.
    fn payload(i: usize, len: usize) -> Vec<u8> {
        (0..len).map(|j| (i * 31 + j) as u8).collect()
    }

    #[test]
    fn small_records_share_buffers_and_read_back_exactly() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        for i in 0..10_000 {
            rx(&mut log, Some(ConnId(1)), &payload(i, 100));
        }
        // 10,000 × 100 bytes in 1 MiB buffers: one buffer, not 10,000 allocations.
        assert_eq!(log.arena.chunks.len(), 1);
        for (i, record) in log.iter().enumerate() {
            assert_eq!(record.bytes, payload(i, 100));
            assert_eq!(record.seq, i as u64);
            assert_eq!(record.peer, Some(peer()));
        }
    }

    #[test]
    fn a_large_record_gets_a_buffer_of_its_own() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        rx(&mut log, None, b"a");
        rx(&mut log, None, &payload(1, CHUNK + 5));
        rx(&mut log, None, b"b");
        assert_eq!(log.arena.chunks.len(), 3);
        assert_eq!(log.get(1).unwrap().bytes, payload(1, CHUNK + 5));
        assert_eq!(log.get(2).unwrap().bytes, b"b");
    }

    #[test]
    fn eviction_frees_buffers_so_memory_follows_the_cap() {
        let cap = 4 << 20;
        let mut log = LogStore::new(cap, TextEncoding::UTF_8);
        let mut pushed = 0u64;
        for i in 0..65_536 {
            rx(&mut log, Some(ConnId(1)), &payload(i, 1024));
            pushed += 1024;
            assert!(log.held_bytes() <= cap);
        }
        let (evicted_records, evicted_bytes) = log.evicted();
        let held: u64 = log.iter().map(|r| r.bytes.len() as u64).sum();
        assert_eq!(evicted_bytes + held, pushed);
        assert_eq!(evicted_records + log.len() as u64, 65_536);
        // What stays is the newest records, intact.
        let first = log.get(0).unwrap().seq as usize;
        assert_eq!(first as u64, evicted_records);
        for (k, record) in log.iter().enumerate() {
            assert_eq!(record.bytes, payload(first + k, 1024));
        }
        // The cap, plus at most a partly evicted buffer, the open one and the spares.
        let limit = cap + (2 + SPARE_CHUNKS) * CHUNK + log.index_bytes();
        assert!(
            log.memory_bytes() <= limit,
            "{} > {limit}",
            log.memory_bytes()
        );
        log.clear();
        assert_eq!(log.arena.chunks.len(), 0);
        assert!(log.memory_bytes() <= SPARE_CHUNKS * CHUNK + log.index_bytes());
    }

    #[test]
    fn a_flood_of_short_records_holds_little_more_than_the_cap() {
        // Short records cost as much index as bytes: the index must grow by the record, not
        // double, or a log just past a power of two of records held twice the index it used.
        let cap = (64 << 20) + (64 << 10);
        let mut log = LogStore::new(cap, TextEncoding::UTF_8);
        let line = [b'x'; 62];
        for _ in 0..2 * cap / (line.len() + RECORD_OVERHEAD) {
            rx(&mut log, None, &line);
        }
        let slack = (2 + SPARE_CHUNKS) * CHUNK + 2 * super::super::index::BLOCK * RECORD_OVERHEAD;
        assert!(
            log.memory_bytes() <= cap + slack,
            "{} records: {} > {} + {slack}",
            log.len(),
            log.memory_bytes(),
            cap
        );
    }

    #[test]
    fn sequence_numbers_go_on_after_a_clear() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        rx(&mut log, None, b"a");
        rx(&mut log, None, b"b");
        log.clear();
        assert_eq!((log.first_seq(), log.next_seq()), (None, 2));
        log.push_message(SystemTime::now(), RecordKind::Info, None, None, "c");
        let record = log.get_seq(2).unwrap();
        assert_eq!((record.text(), record.bytes), (Cow::Borrowed("c"), &[][..]));
        assert!(log.get_seq(1).is_none());
    }

    #[test]
    fn iter_from_starts_at_a_sequence_number_or_at_the_oldest_held() {
        let mut log = LogStore::new(5 * (RECORD_OVERHEAD + 1), TextEncoding::UTF_8);
        for i in 0..10u8 {
            rx(&mut log, None, &[i]);
        }
        let seqs = |from| log.iter_from(from).map(|r| r.seq).collect::<Vec<_>>();
        assert_eq!(seqs(7), [7, 8, 9]);
        assert_eq!(seqs(0), [5, 6, 7, 8, 9], "evicted: from the oldest held");
        assert!(seqs(10).is_empty());
        assert_eq!(log.iter_from(8).next_back().unwrap().bytes, [9]);
    }

    #[test]
    fn switching_encoding_finds_characters_split_across_records_again() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let gbk = TextEncoding::GBK.encode("温度").unwrap();
        let conn = Some(ConnId(1));
        for piece in gbk.chunks(3) {
            rx(&mut log, conn, piece);
        }
        log.set_encoding(TextEncoding::GBK);
        let texts: Vec<String> = log.iter().map(|r| r.text().into_owned()).collect();
        assert_eq!(texts, ["温", "度"]);
        log.set_encoding(TextEncoding::UTF_8);
        assert!(log.get(0).unwrap().text().starts_with("\\x"));
    }

    #[test]
    fn messages_keep_their_peer_and_connection() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        log.push_message(
            SystemTime::now(),
            RecordKind::Error,
            Some(ConnId(4)),
            Some(peer()),
            "连接被拒绝",
        );
        let record = log.get(0).unwrap();
        assert_eq!(
            (record.kind, record.conn, record.peer),
            (RecordKind::Error, Some(ConnId(4)), Some(peer()))
        );
        assert_eq!(record.text(), "连接被拒绝");
        assert!(record.bytes.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn any_pushes_under_any_cap_keep_the_newest_intact_and_count_the_rest(
            lens in proptest::collection::vec(0usize..3000, 1..300),
            cap in 0usize..200_000,
        ) {
            let mut log = LogStore::new(cap, TextEncoding::UTF_8);
            for (i, len) in lens.iter().enumerate() {
                log.push_data(SystemTime::now(), Direction::Tx, None, peer(), &payload(i, *len));
                proptest::prop_assert!(log.held_bytes() <= cap);
            }
            let (evicted, evicted_bytes) = log.evicted();
            proptest::prop_assert_eq!(evicted as usize + log.len(), lens.len());
            let pushed: usize = lens.iter().sum();
            let held: usize = log.iter().map(|r| r.bytes.len()).sum();
            proptest::prop_assert_eq!(evicted_bytes as usize + held, pushed);
            for record in log.iter() {
                let i = record.seq as usize;
                proptest::prop_assert_eq!(record.bytes, &payload(i, lens[i])[..]);
            }
        }
    }

    #[test]
    fn the_head_of_a_long_record_is_the_start_of_its_text() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::GBK);
        let text = "温度=25℃ ".repeat(2000);
        let gbk = TextEncoding::GBK.encode(&text).unwrap();
        rx(&mut log, Some(ConnId(1)), &gbk);
        log.push_data(SystemTime::now(), Direction::Tx, None, peer(), &gbk);
        for record in log.iter() {
            let whole = record.text();
            for max in [0, 1, 2, 3, 100, 101, gbk.len(), gbk.len() + 1] {
                let head = record.text_head(max);
                assert!(whole.starts_with(head.as_ref()), "{max}: {head}");
            }
            // "温度=25℃ " is 10 bytes and 7 characters in GBK: 101 bytes hold 10 of them; the
            // first byte of the next 温, cut at the limit, is left out.
            assert_eq!(record.text_head(101).chars().count(), 10 * 7);
            assert_eq!(record.text_head(gbk.len()), whole);
        }
    }
}

/// Runs against a record per frame: the same rows, whatever the reads, frames and cap.
#[cfg(test)]
mod run_tests {
    use super::*;
    use proptest::prelude::*;

    /// What happens to the store, in order.
    #[derive(Clone, Debug)]
    enum Op {
        /// A read on connection `conn` completing frames cut from `pieces` at `cuts`; `big`
        /// pads it past the size a read's buffer is kept whole from; `header` bytes of length
        /// header per frame.
        Read {
            conn: u64,
            pieces: Vec<usize>,
            cuts: Vec<usize>,
            big: bool,
            header: u8,
            /// Bytes before the frames in their buffer (cut in place after a copied frame).
            dead: usize,
        },
        /// A partial frame on `conn`.
        Partial { conn: u64, pieces: Vec<usize> },
        /// Bytes sent.
        Tx { pieces: Vec<usize> },
        /// A message.
        Note,
        /// `conn`'s receive stream ended.
        End { conn: u64 },
    }

    /// Bytes that split characters in UTF-8 and GBK, JT/T 808 markers, line ends and junk.
    const PIECES: [&[u8]; 9] = [
        b"a",
        b"~",
        b"\r\n",
        "你".as_bytes(),
        &[0xCE, 0xC2],
        &[0xB6, 0xC8],
        &[0xFF],
        &[0x80, 0x41],
        "é".as_bytes(),
    ];

    fn bytes_of(pieces: &[usize]) -> Vec<u8> {
        pieces
            .iter()
            .flat_map(|&p| PIECES[p % PIECES.len()].iter().copied())
            .collect()
    }

    fn op() -> impl Strategy<Value = Op> {
        let pieces = || proptest::collection::vec(0usize..PIECES.len(), 0..40);
        prop_oneof![
            6 => (1u64..4, pieces(), proptest::collection::vec(0usize..80, 0..12), proptest::bool::weighted(0.1), 0u8..3, prop_oneof![Just(0usize), 1usize..9])
                .prop_map(|(conn, pieces, cuts, big, header, dead)| Op::Read { conn, pieces, cuts, big, header, dead }),
            1 => (1u64..4, pieces()).prop_map(|(conn, pieces)| Op::Partial { conn, pieces }),
            1 => pieces().prop_map(|pieces| Op::Tx { pieces }),
            1 => Just(Op::Note),
            1 => (1u64..4).prop_map(|conn| Op::End { conn }),
        ]
    }

    fn peer(conn: u64) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 5000 + conn as u16))
    }

    /// The frames of a read: its bytes cut at `cuts` (sorted, inside it), each a frame.
    fn frames_of(bytes: &[u8], cuts: &[usize]) -> Vec<usize> {
        let mut at: Vec<usize> = cuts.iter().map(|&c| c % (bytes.len() + 1)).collect();
        at.push(bytes.len());
        at.sort_unstable();
        let mut lens = Vec::new();
        let mut from = 0;
        for end in at {
            if end > from {
                lens.push(end - from);
                from = end;
            }
        }
        lens
    }

    /// Applies `ops` to `runs` (frames of a read as one run) and to `single` (one push per
    /// frame, each its own record).
    fn apply(ops: &[Op], runs: &mut LogStore, single: &mut LogStore) {
        let base = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        for (t, op) in ops.iter().enumerate() {
            let at = base + Duration::from_micros(t as u64);
            match op {
                Op::Read {
                    conn,
                    pieces,
                    cuts,
                    big,
                    header,
                    dead,
                } => {
                    let mut bytes = bytes_of(pieces);
                    if *big {
                        bytes.resize(ADOPT_FROM + bytes.len(), b'z');
                    }
                    let lens = frames_of(&bytes, cuts);
                    let conn = ConnId(*conn);
                    let mut owned = vec![0xEE; *dead];
                    owned.extend_from_slice(&bytes);
                    owned.shrink_to_fit();
                    runs.push_frames_in(at, conn, peer(conn.0), owned, *dead, &lens, *header);
                    let mut from = 0;
                    for len in lens {
                        let frame = bytes[from..from + len].to_vec();
                        from += len;
                        single.push_frames_owned(at, conn, peer(conn.0), frame, &[len], *header);
                    }
                }
                Op::Partial { conn, pieces } => {
                    for log in [&mut *runs, &mut *single] {
                        let bytes = bytes_of(pieces);
                        log.push_data(at, Direction::Rx, Some(ConnId(*conn)), peer(*conn), &bytes);
                        log.mark_last_partial();
                    }
                }
                Op::Tx { pieces } => {
                    for log in [&mut *runs, &mut *single] {
                        log.push_data(
                            at,
                            Direction::Tx,
                            Some(ConnId(1)),
                            peer(1),
                            &bytes_of(pieces),
                        );
                    }
                }
                Op::Note => {
                    for log in [&mut *runs, &mut *single] {
                        log.push_message(at, RecordKind::Info, None, None, &format!("note {t}"));
                    }
                }
                Op::End { conn } => {
                    for log in [&mut *runs, &mut *single] {
                        log.end_stream(ConnId(*conn));
                    }
                }
            }
        }
    }

    /// Everything a row shows of a record.
    fn row(r: &Record<'_>) -> String {
        format!(
            "{} {:?} {:?} {:?} {:?} {:?} p{} h{} {:?} {:?} {:?} {:?}",
            r.seq,
            r.at,
            r.kind,
            r.conn,
            r.peer,
            r.bytes,
            r.partial,
            r.head,
            r.ws,
            r.relay,
            r.text(),
            r.text_head(3),
        )
    }

    fn rows(log: &LogStore) -> Vec<String> {
        log.iter().map(|r| row(&r)).collect()
    }

    /// The store's rows read every way: forwards, backwards, by index, by sequence number and
    /// from the middle, all the same.
    fn rows_every_way(log: &LogStore) -> Result<Vec<String>, TestCaseError> {
        let rows = rows(log);
        let mut back: Vec<String> = log.iter().rev().map(|r| row(&r)).collect();
        back.reverse();
        prop_assert_eq!(&back, &rows);
        let by_index: Vec<String> = (0..log.len()).map(|i| row(&log.get(i).unwrap())).collect();
        prop_assert_eq!(&by_index, &rows);
        prop_assert_eq!(log.iter().len(), rows.len());
        if let Some(first) = log.first_seq() {
            for skip in [0, 1, rows.len() / 2, rows.len()] {
                let from: Vec<String> = log
                    .iter_from(first + skip as u64)
                    .map(|r| row(&r))
                    .collect();
                prop_assert_eq!(&from[..], &rows[skip.min(rows.len())..]);
                let nth = log.iter().nth(skip).map(|r| row(&r));
                prop_assert_eq!(nth.as_ref(), rows.get(skip));
                let seq = log.get_seq(first + skip as u64).map(|r| row(&r));
                prop_assert_eq!(seq.as_ref(), rows.get(skip));
            }
        }
        Ok(rows)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Frames stored as runs read back exactly as frames stored one record each: bytes,
        /// peer, direction, time, partial flag, numbering and text (characters split between
        /// frames and reads), in UTF-8 and GBK and after a switch between them; under a cap
        /// the runs' store holds the newest of those same rows, never part of one, and counts
        /// every record and byte it evicted.
        #[test]
        fn runs_give_the_rows_a_record_per_frame_gives(
            ops in proptest::collection::vec(op(), 1..40),
            gbk in any::<bool>(),
            cap in prop_oneof![Just(usize::MAX), 0usize..6000],
        ) {
            let encoding = if gbk { TextEncoding::GBK } else { TextEncoding::UTF_8 };
            let other = if gbk { TextEncoding::UTF_8 } else { TextEncoding::GBK };
            let mut runs = LogStore::new(cap, encoding);
            let mut single = LogStore::new(usize::MAX, encoding);
            apply(&ops, &mut runs, &mut single);
            let check = |runs: &LogStore, single: &LogStore| -> Result<(), TestCaseError> {
                let got = rows_every_way(runs)?;
                let want = rows(single);
                prop_assert!(runs.held_bytes() <= cap || runs.is_empty());
                prop_assert_eq!(runs.next_seq(), single.next_seq());
                prop_assert!(got.len() <= want.len());
                prop_assert_eq!(&got[..], &want[want.len() - got.len()..]);
                let (evicted, evicted_bytes) = runs.evicted();
                prop_assert_eq!(evicted as usize + runs.len(), single.len());
                let bytes = |log: &LogStore| log.iter().map(|r| r.bytes.len() as u64).sum::<u64>();
                prop_assert_eq!(evicted_bytes + bytes(runs), bytes(single));
                if cap == usize::MAX {
                    // Never more index than a record per frame takes.
                    prop_assert!(runs.index_bytes() <= single.index_bytes());
                }
                Ok(())
            };
            check(&runs, &single)?;
            if cap != usize::MAX {
                // A switch of encoding follows the streams again from the oldest record held:
                // a store that evicted some reads its first rows without what came before.
                return Ok(());
            }
            runs.set_encoding(other);
            single.set_encoding(other);
            check(&runs, &single)?;
            // More reads after the switch continue the streams the same way.
            apply(&ops, &mut runs, &mut single);
            check(&runs, &single)?;
        }
    }

    #[test]
    fn a_read_of_frames_takes_one_entry_and_a_small_end_each() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let frame = [0x7E, 1, 2, 3, 0x7E];
        let mut bytes = Vec::new();
        for _ in 0..5000 {
            bytes.extend_from_slice(&frame);
        }
        let lens = vec![frame.len(); 5000];
        log.push_frames_owned(SystemTime::now(), ConnId(1), peer(1), bytes, &lens, 0);
        assert_eq!((log.len(), log.metas.len()), (5000, 1));
        assert_eq!(
            log.held_bytes(),
            ENTRY_COST + 5000 * (END_COST + frame.len())
        );
        assert!(log.iter().all(|r| r.bytes == frame));
        // Evicted frame by frame: the run keeps its newer frames whole.
        log.set_cap(ENTRY_COST + 10 * (END_COST + frame.len()));
        assert_eq!((log.len(), log.metas.len()), (10, 1));
        assert_eq!(log.first_seq(), Some(4990));
        assert!(log.iter().all(|r| r.bytes == frame));
        assert_eq!(log.evicted(), (4990, 4990 * frame.len() as u64));
    }
}
