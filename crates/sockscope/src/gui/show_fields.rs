//! Show by field: the log's rows narrowed to the messages an `f.` expression holds for
//! (`f.msg_id == 0x0200`), as Find takes it. The log is decoded a slice per frame (a long log
//! never stalls the window), from where the last frame stopped; session messages (• and ⚠)
//! stay shown, as with the peer filter. No egui here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::{LogStore, Record, RecordFilter, RecordKind, RelayWay};
use sockscope_core::protocol::{Dir, Protocol};
use sockscope_core::rules::expr::Expr;

/// How long a frame may spend decoding for the filter before it draws.
const SLICE: Duration = Duration::from_millis(8);

/// The rows an expression shows, kept up to date a slice at a time.
pub struct FieldRows {
    /// What was typed.
    pub text: String,
    expr: Expr,
    protocol: Arc<Protocol>,
    /// A relay's protocol for the upstream's rows, when it is another one.
    replies: Option<Arc<Protocol>>,
    /// The record filter the rows were made under (a change starts them again).
    filter: RecordFilter,
    /// Shown records, in order.
    seqs: Vec<u64>,
    /// Records hidden: (sequence number) of each message that did not match, in order (so
    /// eviction can take them off the count).
    hidden: Vec<u64>,
    /// The next record to look at.
    next: u64,
    /// Hidden messages the expression could not be worked out for, and the first reason
    /// (`f.plate > 5` on text holding no number): said beside the count, never silent.
    unreadable: usize,
    why: Option<String>,
    /// Show nothing at or after this sequence number (the display is paused).
    pub paused_at: Option<u64>,
}

impl FieldRows {
    /// Rows for `expr` (already parsed) under `protocol` (and a relay's upstream rows under
    /// `replies`, when given).
    pub fn new(
        text: String,
        expr: Expr,
        protocol: Arc<Protocol>,
        replies: Option<Arc<Protocol>>,
    ) -> Self {
        Self {
            text,
            expr,
            protocol,
            replies,
            filter: RecordFilter::default(),
            seqs: Vec::new(),
            hidden: Vec::new(),
            next: 0,
            unreadable: 0,
            why: None,
            paused_at: None,
        }
    }

    /// The expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The protocol a record is decoded with: a relay's upstream rows with `replies`.
    fn protocol_of(&self, record: &Record<'_>) -> &Protocol {
        match (&self.replies, record.relay) {
            (Some(replies), Some(RelayWay::FromUpstream)) => replies,
            _ => &self.protocol,
        }
    }

    /// The protocols it decodes with (the names, to notice a change).
    pub fn protocol_names(&self) -> (String, Option<String>) {
        (
            self.protocol.name().to_owned(),
            self.replies.as_ref().map(|p| p.name().to_owned()),
        )
    }

    /// Looks at the records that arrived (or all again, when `filter` changed), for one
    /// slice of time at most; `dir` tells which way a record went. True when done for now.
    pub fn update(
        &mut self,
        log: &LogStore,
        filter: &RecordFilter,
        paused_at: Option<u64>,
        dir: impl Fn(&Record<'_>) -> Dir,
    ) -> bool {
        if *filter != self.filter {
            self.filter = filter.clone();
            self.seqs.clear();
            self.hidden.clear();
            self.next = 0;
            self.unreadable = 0;
            self.why = None;
        }
        self.paused_at = paused_at;
        if let Some(first) = log.first_seq() {
            let gone = self.seqs.partition_point(|s| *s < first);
            self.seqs.drain(..gone);
            let gone = self.hidden.partition_point(|s| *s < first);
            self.hidden.drain(..gone);
        } else {
            self.seqs.clear();
            self.hidden.clear();
        }
        let deadline = Instant::now() + SLICE;
        let mut n = 0u32;
        for record in log.iter_from(self.next) {
            self.next = record.seq + 1;
            if self.filter.matches(&record) {
                let data = matches!(record.kind, RecordKind::Rx | RecordKind::Tx);
                let holds = !data
                    || match self
                        .protocol_of(&record)
                        .test(&self.expr, record.bytes, dir(&record))
                    {
                        Ok(holds) => holds,
                        Err(why) => {
                            self.unreadable += 1;
                            self.why.get_or_insert(why);
                            false
                        }
                    };
                if holds {
                    self.seqs.push(record.seq);
                } else {
                    self.hidden.push(record.seq);
                }
            }
            n += 1;
            if n.is_multiple_of(64) && Instant::now() >= deadline {
                return false;
            }
        }
        self.next = self.next.max(log.next_seq());
        true
    }

    /// How far through the log it is (0 to 1).
    pub fn progress(&self, log: &LogStore) -> f32 {
        let first = log.first_seq().unwrap_or(0);
        let total = log.next_seq().saturating_sub(first).max(1);
        self.next.saturating_sub(first) as f32 / total as f32
    }

    /// Messages hidden so far.
    pub fn hidden(&self) -> usize {
        self.hidden.len()
    }

    /// Of the hidden, how many the expression could not be worked out for, and why the
    /// first could not (`None` when every one was read).
    pub fn unreadable(&self) -> Option<(usize, &str)> {
        self.why
            .as_deref()
            .filter(|_| self.unreadable > 0)
            .map(|why| (self.unreadable, why))
    }

    /// Rows shown (before the pause point, if paused).
    pub fn len(&self) -> usize {
        match self.paused_at {
            Some(at) => self.seqs.partition_point(|s| *s < at),
            None => self.seqs.len(),
        }
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use sockscope_core::codec::{TextEncoding, hex};
    use sockscope_core::engine::Direction;

    /// 200,000 JT/T 808 frames, one in ten a location report: each update decodes for one
    /// slice at most (the window draws between), and the rows end up exactly the reports.
    #[test]
    fn a_long_log_is_filtered_a_slice_at_a_time_and_every_match_is_kept() {
        let reply = hex::parse("7e8001000505805668746700000026000200087e").unwrap();
        let location = hex::parse(
            "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
        )
        .unwrap();
        let mut log = LogStore::new(usize::MAX, TextEncoding::default());
        let peer = "127.0.0.1:7000".parse().unwrap();
        let at = std::time::SystemTime::now();
        for i in 0..200_000u32 {
            let frame = if i % 10 == 0 { &location } else { &reply };
            log.push_data(at, Direction::Rx, None, peer, frame);
        }
        let protocol = sockscope_core::protocol::builtin("jt808").unwrap();
        let expr = Expr::parse("f.msg_id == 0x0200", 1).unwrap();
        let mut rows = FieldRows::new("f.msg_id == 0x0200".into(), expr, protocol, None);
        let filter = RecordFilter::default();
        // Each update stops once its slice is spent (checked every 64 records): the median
        // update is about a slice. (Not every one: a shared machine can stall any of them.)
        let mut took = Vec::new();
        loop {
            let started = Instant::now();
            let done = rows.update(&log, &filter, None, |_| Dir::Unknown);
            took.push(started.elapsed());
            if done {
                break;
            }
            assert!(took.len() < 100_000, "never done");
        }
        assert!(
            took.len() > 1,
            "200,000 frames decoded in one slice: the test proves nothing"
        );
        let total: Duration = took.iter().sum();
        took.sort();
        let median = took[took.len() / 2];
        eprintln!(
            "200,000 frames: {} updates, {total:?} in all, median {median:?}, longest {:?}",
            took.len(),
            took[took.len() - 1]
        );
        assert!(
            median < SLICE * 4,
            "the median update took {median:?} (a slice is {SLICE:?})"
        );
        assert_eq!(rows.len(), 20_000);
        assert_eq!(rows.hidden(), 180_000);
        let first = rows.record(&log, 0).unwrap();
        assert_eq!(first.bytes, &location[..]);
        // New records are looked at as they come.
        log.push_data(at, Direction::Rx, None, peer, &location);
        assert!(rows.update(&log, &filter, None, |_| Dir::Unknown));
        assert_eq!(rows.len(), 20_001);
    }

    /// NMEA's numbers are text (`"022.4"`): `> 20` and a decimal `== 22.4` compare them as
    /// numbers (they hid every row, and `12.5` did not parse).
    #[test]
    fn nmea_numbers_held_as_text_compare_as_numbers() {
        fn sentence(body: &str) -> Vec<u8> {
            let sum = body.bytes().fold(0u8, |x, b| x ^ b);
            format!("${body}*{sum:02X}\r\n").into_bytes()
        }
        let fast = sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
        let slow = sentence("GPRMC,123520,A,4807.038,N,01131.000,E,012.5,084.4,230394,003.1,W");
        let mut log = LogStore::new(usize::MAX, TextEncoding::default());
        let peer = "127.0.0.1:7000".parse().unwrap();
        let at = std::time::SystemTime::now();
        for frame in [&fast, &slow, &fast] {
            log.push_data(at, Direction::Rx, None, peer, frame);
        }
        let protocol = sockscope_core::protocol::builtin("nmea0183").unwrap();
        let shown = |text: &str| {
            let expr = Expr::parse(text, 1).unwrap();
            let mut rows = FieldRows::new(text.into(), expr, Arc::clone(&protocol), None);
            assert!(rows.update(&log, &RecordFilter::default(), None, |_| Dir::Unknown));
            (rows.len(), rows.hidden())
        };
        assert_eq!(shown("f.sentence.speed > 20"), (2, 1));
        assert_eq!(shown("f.sentence.speed <= 12.5"), (1, 2));
        assert_eq!(shown("f.sentence.speed == 12.5"), (1, 2));
        assert_eq!(shown("f.sentence.speed != 22.4"), (1, 2));
        // Text compared with text is as before.
        assert_eq!(shown("f.sentence.speed == \"022.4\""), (2, 1));
        // Text holding no number compared as one: hidden, and said with the text (it hid
        // every row and said nothing).
        let expr = Expr::parse("f.sentence.ns > 5", 1).unwrap();
        let mut rows = FieldRows::new(String::new(), expr, Arc::clone(&protocol), None);
        assert!(rows.update(&log, &RecordFilter::default(), None, |_| Dir::Unknown));
        let (count, why) = rows.unreadable().unwrap();
        assert_eq!(count, 3);
        assert!(why.contains("\"N\""), "{why}");
        let expr = Expr::parse("f.sentence.speed > 20", 1).unwrap();
        let mut rows = FieldRows::new(String::new(), expr, Arc::clone(&protocol), None);
        assert!(rows.update(&log, &RecordFilter::default(), None, |_| Dir::Unknown));
        assert_eq!(rows.unreadable(), None);
        // A sentence without the field (GGA has no status) is not shown, and not counted as
        // one that cannot be compared.
        let gga = b"$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\r\n";
        log.push_data(at, Direction::Rx, None, peer, gga);
        let expr = Expr::parse("f.sentence.status > 5", 1).unwrap();
        let mut rows = FieldRows::new(String::new(), expr, Arc::clone(&protocol), None);
        assert!(rows.update(&log, &RecordFilter::default(), None, |_| Dir::Unknown));
        assert_eq!((rows.len(), rows.hidden()), (0, 4));
        assert_eq!(rows.unreadable().map(|(n, _)| n), Some(3));
    }
}
