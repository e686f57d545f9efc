//! The log store: a bounded queue of records holding the raw bytes of every read and write,
//! plus their text decoded per stream so a character split across reads shows whole.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::codec::{StreamDecoder, TextEncoding};
use crate::engine::{ConnId, Direction};

/// Default byte cap of the log store.
pub const DEFAULT_CAP: usize = 256 << 20;
/// What one record costs beyond its bytes and text, for the cap's accounting.
const RECORD_OVERHEAD: usize = std::mem::size_of::<Record>();

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// One row of the log.
#[derive(Clone, Debug)]
pub struct Record {
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
    pub bytes: Vec<u8>,
    /// The bytes decoded in the store's encoding, or the message; empty when `text_is_bytes`.
    text: String,
    /// The decoded text is exactly the bytes (valid UTF-8, nothing carried or escaped): kept
    /// once, which halves memory and copying for the common ASCII/UTF-8 traffic.
    text_is_bytes: bool,
    /// A frame that is not whole (left over when the stream ended, or cut at the size limit).
    pub partial: bool,
}

/// Which decoder a data record goes through: TCP bytes are one stream per connection and
/// direction; each UDP datagram and each send is complete in itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct StreamKey(ConnId);

/// A bounded, append-only log with eviction from the front.
pub struct LogStore {
    records: VecDeque<Record>,
    next_seq: u64,
    held: usize,
    cap: usize,
    evicted_records: u64,
    evicted_bytes: u64,
    encoding: TextEncoding,
    decoders: HashMap<StreamKey, StreamDecoder>,
}

impl Default for LogStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAP, TextEncoding::default())
    }
}

impl Record {
    /// The bytes as text in the store's encoding, or the message.
    pub fn text(&self) -> &str {
        if self.text_is_bytes {
            std::str::from_utf8(&self.bytes).unwrap_or_default()
        } else {
            &self.text
        }
    }

    /// Bytes the text takes beyond the raw bytes.
    fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Stores the decoding of the record's bytes (`None`: the bytes are the text).
    fn set_text(&mut self, text: Option<String>) {
        self.text_is_bytes = text.is_none();
        self.text = text.unwrap_or_default();
    }
}

impl LogStore {
    /// An empty store holding at most about `cap` bytes (raw + decoded + per-record overhead).
    pub fn new(cap: usize, encoding: TextEncoding) -> Self {
        Self {
            records: VecDeque::new(),
            next_seq: 0,
            held: 0,
            cap,
            evicted_records: 0,
            evicted_bytes: 0,
            encoding,
            decoders: HashMap::new(),
        }
    }

    /// Appends bytes that went one way, decoding them for the text view.
    pub fn push_data(
        &mut self,
        at: SystemTime,
        dir: Direction,
        conn: Option<ConnId>,
        peer: SocketAddr,
        bytes: Vec<u8>,
    ) {
        let text = self.decode(dir, conn, &bytes);
        let mut record = Record {
            seq: 0,
            at,
            kind: dir.into(),
            conn,
            peer: Some(peer),
            bytes,
            text: String::new(),
            text_is_bytes: false,
            partial: false,
        };
        record.set_text(text);
        self.push(record);
    }

    /// Marks the newest record as a partial frame.
    pub fn mark_last_partial(&mut self) {
        if let Some(last) = self.records.back_mut() {
            last.partial = true;
        }
    }

    /// Appends a message (connected, closed, an error …).
    pub fn push_message(
        &mut self,
        at: SystemTime,
        kind: RecordKind,
        conn: Option<ConnId>,
        peer: Option<SocketAddr>,
        text: String,
    ) {
        self.push(Record {
            seq: 0,
            at,
            kind,
            conn,
            peer,
            bytes: Vec::new(),
            text,
            text_is_bytes: false,
            partial: false,
        });
    }

    /// Ends a connection's receive stream: bytes of a character that never completed come out
    /// as `\xNN` and are returned (to be shown with the close message), never dropped.
    pub fn end_stream(&mut self, conn: ConnId) -> String {
        let mut rest = String::new();
        if let Some(mut decoder) = self.decoders.remove(&StreamKey(conn)) {
            decoder.finish(&mut rest);
        }
        rest
    }

    /// The text of `bytes`, or `None` when it is exactly the bytes (kept once, not copied).
    fn decode(&mut self, dir: Direction, conn: Option<ConnId>, bytes: &[u8]) -> Option<String> {
        let encoding = self.encoding;
        let mut text = String::new();
        let same = match (dir, conn) {
            (Direction::Rx, Some(conn)) => {
                let decoder = self
                    .decoders
                    .entry(StreamKey(conn))
                    .or_insert_with(|| encoding.decoder());
                decoder.decode_or_same(bytes, &mut text)
            }
            _ if encoding == TextEncoding::UTF_8 && std::str::from_utf8(bytes).is_ok() => true,
            _ => {
                text = encoding.decode_complete(bytes);
                false
            }
        };
        (!same).then_some(text)
    }

    fn push(&mut self, mut record: Record) {
        record.seq = self.next_seq;
        self.next_seq += 1;
        self.held += cost(&record);
        self.records.push_back(record);
        self.evict_to_cap();
    }

    /// The encoding the text of data records is decoded with.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Decodes the whole history again in another encoding (the raw bytes are the truth).
    pub fn set_encoding(&mut self, encoding: TextEncoding) {
        if encoding == self.encoding {
            return;
        }
        self.encoding = encoding;
        self.decoders.clear();
        let mut records = std::mem::take(&mut self.records);
        self.held = 0;
        for record in &mut records {
            if let RecordKind::Rx | RecordKind::Tx = record.kind {
                let dir = if record.kind == RecordKind::Rx {
                    Direction::Rx
                } else {
                    Direction::Tx
                };
                let text = self.decode(dir, record.conn, &record.bytes);
                record.set_text(text);
            }
            self.held += cost(record);
        }
        self.records = records;
    }

    /// Changes the byte cap, evicting at once if the store is over it.
    pub fn set_cap(&mut self, cap: usize) {
        self.cap = cap;
        self.evict_to_cap();
    }

    fn evict_to_cap(&mut self) {
        while self.held > self.cap {
            let Some(old) = self.records.pop_front() else {
                break;
            };
            self.held = self.held.saturating_sub(cost(&old));
            self.evicted_records += 1;
            self.evicted_bytes += old.bytes.len() as u64;
        }
    }

    /// Removes every record (counters of evictions start again too).
    pub fn clear(&mut self) {
        self.records.clear();
        self.held = 0;
        self.evicted_records = 0;
        self.evicted_bytes = 0;
    }

    /// Number of records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record at `index` (0 = oldest held).
    pub fn get(&self, index: usize) -> Option<&Record> {
        self.records.get(index)
    }

    /// The record with sequence number `seq`, if still held.
    pub fn get_seq(&self, seq: u64) -> Option<&Record> {
        let first = self.records.front()?.seq;
        self.records
            .get(usize::try_from(seq.checked_sub(first)?).ok()?)
    }

    /// Records in order, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Record> + ExactSizeIterator {
        self.records.iter()
    }

    /// Bytes the store accounts for now.
    pub fn held_bytes(&self) -> usize {
        self.held
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

fn cost(record: &Record) -> usize {
    RECORD_OVERHEAD + record.bytes.len() + record.text_len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.1:5000".parse().unwrap()
    }

    #[test]
    fn gbk_character_split_across_two_reads_shows_once() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::GBK);
        let bytes = TextEncoding::GBK.encode("你好").unwrap();
        let (a, b) = bytes.split_at(1);
        let conn = Some(ConnId(1));
        log.push_data(SystemTime::now(), Direction::Rx, conn, peer(), a.to_vec());
        log.push_data(SystemTime::now(), Direction::Rx, conn, peer(), b.to_vec());
        let text: String = log.iter().map(super::Record::text).collect();
        assert_eq!(text, "你好");
        assert_eq!(log.get(0).unwrap().text(), "");
    }

    #[test]
    fn switching_encoding_redecodes_history() {
        let mut log = LogStore::new(DEFAULT_CAP, TextEncoding::UTF_8);
        let bytes = TextEncoding::GBK.encode("中文").unwrap();
        log.push_data(
            SystemTime::now(),
            Direction::Rx,
            Some(ConnId(1)),
            peer(),
            bytes,
        );
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
            log.push_data(
                SystemTime::now(),
                Direction::Rx,
                None,
                peer(),
                vec![b'a'; 10],
            );
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
        log.push_data(
            SystemTime::now(),
            Direction::Rx,
            Some(ConnId(3)),
            peer(),
            vec![b'o', b'k', 0xE4],
        );
        assert_eq!(log.get(0).unwrap().text(), "ok");
        assert_eq!(log.end_stream(ConnId(3)), "\\xE4");
    }
}
