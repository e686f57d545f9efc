//! Series of decoded field values, for plots: a bounded ring per plotted field (time, sample
//! number, value; the oldest dropped and counted), fed from the log a slice at a time, and the
//! min/max decimation per pixel column that lets a million points draw in a frame (as Serial
//! Studio's envelope: each column keeps its first, lowest, highest and last point, so spikes
//! survive and lines join). No egui here.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{LogStore, Record, RecordKind};
use crate::protocol::{Decoded, Dir, Field, FieldValue, Kind, NodeId, Protocol, Show};

/// Points a series keeps before it drops its oldest.
pub const SERIES_CAP: usize = 1_000_000;

/// One value of a field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// When its message was received, in seconds since the Unix epoch.
    pub t: f64,
    /// Its sample number in the series (1, 2, …; dropped points keep their numbers).
    pub n: u64,
    /// The log record it came from (to pair two fields of one message).
    pub seq: u64,
    /// The field's reading (scale and offset applied).
    pub v: f64,
}

/// A bounded ring of points: the oldest go when it is full, and are counted.
#[derive(Clone, Debug)]
pub struct Series {
    points: VecDeque<Point>,
    cap: usize,
    /// Points dropped because the ring was full.
    pub dropped: u64,
    next_n: u64,
}

impl Series {
    /// An empty series keeping at most `cap` points (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            points: VecDeque::new(),
            cap: cap.max(1),
            dropped: 0,
            next_n: 1,
        }
    }

    /// Adds a point; the oldest goes (and is counted) when the ring is full.
    pub fn push(&mut self, t: f64, seq: u64, v: f64) {
        if self.points.len() >= self.cap {
            self.points.pop_front();
            self.dropped += 1;
        }
        self.points.push_back(Point {
            t,
            n: self.next_n,
            seq,
            v,
        });
        self.next_n += 1;
    }

    /// Points held.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// True when it holds no point.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Point> + ExactSizeIterator {
        self.points.iter()
    }

    /// The newest point.
    pub fn last(&self) -> Option<&Point> {
        self.points.back()
    }

    /// Forgets every point (the sample numbers and the dropped count start again).
    pub fn clear(&mut self) {
        self.points.clear();
        self.dropped = 0;
        self.next_n = 1;
    }

    /// The points whose `x` (non-decreasing along the series: time or sample number) lies in
    /// `lo..=hi`, found by binary search.
    pub fn range_by(&self, x: impl Fn(&Point) -> f64, lo: f64, hi: f64) -> (usize, usize) {
        let start = self.points.partition_point(|p| x(p) < lo);
        let end = self.points.partition_point(|p| x(p) <= hi);
        (start, end.max(start))
    }

    /// The points `start..end`, oldest first.
    pub fn slice(&self, start: usize, end: usize) -> impl Iterator<Item = &Point> {
        self.points
            .range(start.min(end)..end.min(self.points.len()))
    }
}

/// One column's kept points, by their order of arrival.
#[derive(Clone, Copy)]
struct Column {
    first: (usize, [f64; 2]),
    min: (usize, [f64; 2]),
    max: (usize, [f64; 2]),
    last: (usize, [f64; 2]),
}

/// Min/max decimation: of the points (`[x, y]`, in any order of x) whose x lies in
/// `x_min..=x_max`, keeps for each of `width` equal columns its first, lowest, highest and
/// last point (at most 4, usually 2 when a column's first and last are its extremes), in the
/// order they came. Points outside the range, and non-finite ones, are left out; nothing is
/// made up. `out` is cleared first.
pub fn decimate(
    points: impl IntoIterator<Item = [f64; 2]>,
    x_min: f64,
    x_max: f64,
    width: usize,
    out: &mut Vec<[f64; 2]>,
) {
    out.clear();
    let width = width.max(1);
    let span = x_max - x_min;
    if !(span.is_finite() && x_min.is_finite()) || span < 0.0 {
        return;
    }
    let mut current: Option<(usize, Column)> = None;
    let flush = |c: &Column, out: &mut Vec<[f64; 2]>| {
        let mut kept = [c.first, c.min, c.max, c.last];
        kept.sort_by_key(|(i, _)| *i);
        let mut prev = None;
        for (i, p) in kept {
            if prev != Some(i) {
                out.push(p);
                prev = Some(i);
            }
        }
    };
    let scale = if span > 0.0 { width as f64 / span } else { 0.0 };
    for (i, p) in points.into_iter().enumerate() {
        let [x, y] = p;
        if !(x.is_finite() && y.is_finite()) || x < x_min || x > x_max {
            continue;
        }
        let col = (((x - x_min) * scale) as usize).min(width - 1);
        match &mut current {
            Some((c, column)) if *c == col => {
                if y < column.min.1[1] {
                    column.min = (i, p);
                }
                if y > column.max.1[1] {
                    column.max = (i, p);
                }
                column.last = (i, p);
            }
            _ => {
                if let Some((_, column)) = &current {
                    flush(column, out);
                }
                current = Some((
                    col,
                    Column {
                        first: (i, p),
                        min: (i, p),
                        max: (i, p),
                        last: (i, p),
                    },
                ));
            }
        }
    }
    if let Some((_, column)) = &current {
        flush(column, out);
    }
}

/// Which field a series plots: a path as a message's fields give it (`body.speed`; an item of
/// a repeat by its index, `body.items.2.id`, or without the index for the first occurrence,
/// `body.items.id`), and the spec's field at that path when several share it (DL/T 645's
/// `body.value` is a voltage, a current or an energy by the data identifier). An empty path
/// with a spec's field: wherever that field is, its first occurrence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Pick {
    /// The path.
    pub path: String,
    /// The spec's field, when one is meant.
    pub node: Option<NodeId>,
}

impl Pick {
    /// The picked field in a decoded frame: the field at the path, or else the first whose
    /// path without item indexes is it (the first occurrence in a repeat).
    pub fn find<'a>(&self, decoded: &'a Decoded) -> Option<&'a Field> {
        let all = decoded.all();
        let fits = |f: &Field| self.node.is_none() || f.node == self.node;
        if self.path.is_empty() {
            return all.iter().find(|(_, f)| fits(f)).map(|(_, f)| *f);
        }
        all.iter()
            .find(|(p, f)| *p == self.path && fits(f))
            .or_else(|| {
                all.iter()
                    .find(|(p, f)| fits(f) && without_indexes(p) == self.path)
            })
            .map(|(_, f)| *f)
    }
}

/// A path without its item indexes (`body.items.2.id` → `body.items.id`).
pub fn without_indexes(path: &str) -> String {
    path.split('.')
        .filter(|part| part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(".")
}

/// True when the spec's field can be plotted: a number (or a text column or BCD that holds
/// one) without named values or flags.
pub fn plottable_node(protocol: &Protocol, node: NodeId) -> bool {
    let Some(node) = protocol.program.node(node) else {
        return false;
    };
    let look = &node.look;
    let numeric = matches!(
        node.kind,
        Kind::Int { .. } | Kind::Bits { .. } | Kind::Float { .. } | Kind::Bcd(_) | Kind::Column(_)
    );
    let int_with_bits = matches!(&node.kind, Kind::Int { bits, .. } if !bits.is_empty());
    numeric
        && !int_with_bits
        && look.values.is_none()
        && look.flags.is_empty()
        && matches!(look.show, Show::Dec)
}

/// A field's value as a plotted number, with its unit: the core's reading (scale, offset,
/// decimals, NMEA degrees) when the spec gives one, else the plain number. `None` for what is
/// not a number (named values, flags, text, bytes, a checksum).
pub fn value_of(protocol: &Protocol, field: &Field) -> Option<(f64, Option<String>)> {
    if field.note.is_some() || !field.children.is_empty() {
        return None;
    }
    if let Some(node) = field.node
        && !plottable_node(protocol, node)
    {
        return None;
    }
    if let Some(reading) = protocol.reading(field) {
        return Some(reading);
    }
    let v = match &field.value {
        FieldValue::Int(n) => *n as f64,
        FieldValue::Float(x) => *x,
        FieldValue::Text(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    v.is_finite().then_some((v, None))
}

/// One plotted field.
#[derive(Clone, Debug)]
pub struct Plotted {
    /// The field.
    pub pick: Pick,
    /// Its name for people, when it was added.
    pub label: String,
    /// Its unit, once a value said one.
    pub unit: Option<String>,
    /// Its values.
    pub series: Series,
    /// The next log record it has not looked at.
    next: u64,
}

/// How far feeding is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Feed {
    /// Received records not looked at yet (the plots are catching up).
    pub behind: u64,
}

/// The plotted fields of a tab, fed from its log.
#[derive(Clone, Debug, Default)]
pub struct SeriesSet {
    /// The fields, in the order they were added.
    pub plotted: Vec<Plotted>,
    /// Records the log's cap took before a series looked at them.
    pub lost: u64,
    /// Points per series.
    cap: usize,
}

impl SeriesSet {
    /// An empty set whose series keep `cap` points each.
    pub fn new(cap: usize) -> Self {
        Self {
            plotted: Vec::new(),
            lost: 0,
            cap,
        }
    }

    /// Plots a field (unless it is plotted already): it is filled from what `log` holds, then
    /// goes on with what arrives. True when it was added.
    pub fn add(&mut self, pick: Pick, label: String, log: &LogStore) -> bool {
        if self.plotted.iter().any(|p| p.pick == pick) {
            return false;
        }
        self.plotted.push(Plotted {
            pick,
            label,
            unit: None,
            series: Series::new(self.cap),
            next: log.first_seq().unwrap_or_else(|| log.next_seq()),
        });
        true
    }

    /// Stops plotting field `n`.
    pub fn remove(&mut self, n: usize) {
        if n < self.plotted.len() {
            self.plotted.remove(n);
        }
    }

    /// Forgets every point and fills again from what `log` holds (the protocol changed, or
    /// the log was emptied).
    pub fn restart(&mut self, log: &LogStore) {
        let from = log.first_seq().unwrap_or_else(|| log.next_seq());
        for p in &mut self.plotted {
            p.series.clear();
            p.unit = None;
            p.next = from;
        }
        self.lost = 0;
    }

    /// True when no field is plotted.
    pub fn is_empty(&self) -> bool {
        self.plotted.is_empty()
    }

    /// Decodes received records not looked at yet, until `budget` is spent, and appends each
    /// plotted field's reading. `decode` gives a record's protocol and direction (the tab's,
    /// a relay's upstream's), or `None` to skip it. Records the log's cap took first are
    /// counted in `lost`. Does nothing when no field is plotted.
    pub fn feed(
        &mut self,
        log: &LogStore,
        decode: impl Fn(&Record<'_>) -> Option<(Arc<Protocol>, Dir)>,
        budget: Duration,
    ) -> Feed {
        let end = log.next_seq();
        let Some(from) = self.plotted.iter().map(|p| p.next).min() else {
            return Feed::default();
        };
        let first = log.first_seq().unwrap_or(end);
        if from < first {
            self.lost += first - from;
            for p in &mut self.plotted {
                p.next = p.next.max(first);
            }
        }
        let deadline = Instant::now() + budget;
        let mut looked = 0u32;
        let mut reached = from.max(first);
        for record in log.iter_from(from.max(first)) {
            reached = record.seq + 1;
            if record.kind == RecordKind::Rx
                && !record.bytes.is_empty()
                && let Some((protocol, dir)) = decode(&record)
            {
                let t = record
                    .at
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                for piece in protocol.decode_message_guess(record.bytes, dir) {
                    if piece.junk {
                        continue;
                    }
                    for p in &mut self.plotted {
                        if p.next > record.seq {
                            continue;
                        }
                        if let Some((v, unit)) = p
                            .pick
                            .find(&piece.decoded)
                            .and_then(|f| value_of(&protocol, f))
                        {
                            p.series.push(t, record.seq, v);
                            if unit.is_some() {
                                p.unit = unit;
                            }
                        }
                    }
                }
            }
            for p in &mut self.plotted {
                p.next = p.next.max(reached);
            }
            looked += 1;
            if looked.is_multiple_of(32) && Instant::now() >= deadline {
                break;
            }
        }
        for p in &mut self.plotted {
            p.next = p.next.max(reached);
        }
        let behind = self
            .plotted
            .iter()
            .map(|p| end.saturating_sub(p.next))
            .max()
            .unwrap_or(0);
        Feed { behind }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;
    use crate::codec::{TextEncoding, hex};
    use crate::engine::Direction;
    use proptest::prelude::*;

    /// Each column's lowest and highest point in the range, by brute force.
    fn extremes(points: &[[f64; 2]], lo: f64, hi: f64, width: usize) -> Vec<(usize, f64, f64)> {
        let mut cols: std::collections::BTreeMap<usize, (f64, f64)> =
            std::collections::BTreeMap::default();
        for &[x, y] in points {
            if x < lo || x > hi {
                continue;
            }
            let span = hi - lo;
            let scale = if span > 0.0 { width as f64 / span } else { 0.0 };
            let c = (((x - lo) * scale) as usize).min(width - 1);
            let e = cols.entry(c).or_insert((y, y));
            e.0 = e.0.min(y);
            e.1 = e.1.max(y);
        }
        cols.into_iter().map(|(c, (a, b))| (c, a, b)).collect()
    }

    proptest! {
        /// For any series and width, every column's lowest and highest value survive
        /// decimation, at most 4 points a column are kept, and each kept point is a point of
        /// the input inside the range.
        #[test]
        fn decimation_keeps_each_columns_extremes_and_invents_nothing(
            ys in proptest::collection::vec(-1.0e6f64..1.0e6, 0..3000),
            width in 1usize..400,
            lo in 0usize..3000,
            len in 0usize..3000,
        ) {
            let points: Vec<[f64; 2]> =
                ys.iter().enumerate().map(|(i, y)| [i as f64, *y]).collect();
            let (lo, hi) = (lo as f64, (lo + len) as f64);
            let mut out = Vec::new();
            decimate(points.iter().copied(), lo, hi, width, &mut out);
            for p in &out {
                prop_assert!(p[0] >= lo && p[0] <= hi);
                prop_assert!(points.contains(p), "{p:?} is not an input point");
            }
            let want = extremes(&points, lo, hi, width);
            prop_assert!(out.len() <= want.len() * 4);
            for (c, min, max) in want {
                let span = hi - lo;
                let scale = if span > 0.0 { width as f64 / span } else { 0.0 };
                let in_col: Vec<f64> = out
                    .iter()
                    .filter(|[x, _]| (((x - lo) * scale) as usize).min(width - 1) == c)
                    .map(|p| p[1])
                    .collect();
                prop_assert!(in_col.contains(&min), "column {c} lost its min {min}");
                prop_assert!(in_col.contains(&max), "column {c} lost its max {max}");
            }
            // In the order they came (x rises here).
            prop_assert!(out.windows(2).all(|w| w[0][0] <= w[1][0]));
        }

        /// A ring keeps the newest `cap` points and counts what it dropped.
        #[test]
        fn a_full_series_drops_its_oldest_and_counts_them(cap in 1usize..50, n in 0u64..200) {
            let mut s = Series::new(cap);
            for i in 0..n {
                s.push(i as f64, i, i as f64);
            }
            let kept = (n as usize).min(cap);
            prop_assert_eq!(s.len(), kept);
            prop_assert_eq!(s.dropped, n - kept as u64);
            prop_assert_eq!(s.iter().next().map(|p| p.n), (kept > 0).then(|| n - kept as u64 + 1));
        }
    }

    #[test]
    fn a_spike_inside_one_column_survives() {
        let mut points: Vec<[f64; 2]> = (0..1_000_000).map(|i| [f64::from(i), 1.0]).collect();
        points[500_123][1] = 99.0;
        points[700_001][1] = -7.0;
        let mut out = Vec::new();
        decimate(points.iter().copied(), 0.0, 999_999.0, 800, &mut out);
        assert!(out.len() <= 800 * 4, "{}", out.len());
        assert!(out.contains(&[500_123.0, 99.0]));
        assert!(out.contains(&[700_001.0, -7.0]));
    }

    fn location(speed_tenths: u16, serial: u16) -> Vec<u8> {
        // JT/T 808-2013 0x0200 with a speed; the XOR computed, escapes applied.
        let mut body = vec![0u8; 28];
        body[18..20].copy_from_slice(&speed_tenths.to_be_bytes());
        let mut frame = vec![0x02, 0x00, 0x00, 28];
        frame.extend_from_slice(&[0x01, 0x39, 0x12, 0x34, 0x43, 0x29]);
        frame.extend_from_slice(&serial.to_be_bytes());
        frame.extend_from_slice(&body);
        let xor = frame.iter().fold(0u8, |a, b| a ^ b);
        frame.push(xor);
        let mut out = vec![0x7e];
        for b in frame {
            match b {
                0x7e => out.extend_from_slice(&[0x7d, 0x02]),
                0x7d => out.extend_from_slice(&[0x7d, 0x01]),
                b => out.push(b),
            }
        }
        out.push(0x7e);
        out
    }

    #[test]
    fn a_plotted_field_is_filled_from_the_log_and_fed_what_arrives() {
        let jt808 = crate::protocol::builtin("jt808").unwrap();
        let mut log = LogStore::new(usize::MAX, TextEncoding::default());
        let peer = "127.0.0.1:7000".parse().unwrap();
        let at = SystemTime::now();
        for (i, speed) in [600u16, 615, 0].into_iter().enumerate() {
            log.push_data(at, Direction::Rx, None, peer, &location(speed, i as u16));
        }
        // A frame going out is not plotted; nor is one of another kind.
        log.push_data(at, Direction::Tx, None, peer, &location(999, 9));
        let ack = hex::parse("7e8001000505805668746700000026000200087e").unwrap();
        log.push_data(at, Direction::Rx, None, peer, &ack);
        let speed = jt808
            .decode(&location(1, 1), Dir::Request)
            .get("body.speed")
            .unwrap()
            .node;
        let mut set = SeriesSet::new(SERIES_CAP);
        let pick = Pick {
            path: "body.speed".into(),
            node: speed,
        };
        assert!(set.add(pick.clone(), "Speed".into(), &log));
        assert!(!set.add(pick, "Speed".into(), &log), "added twice");
        let proto = Arc::clone(&jt808);
        let decode = |_: &Record<'_>| Some((Arc::clone(&proto), Dir::Request));
        let feed = set.feed(&log, decode, Duration::from_secs(5));
        assert_eq!(feed.behind, 0);
        let values: Vec<f64> = set.plotted[0].series.iter().map(|p| p.v).collect();
        assert_eq!(values, [60.0, 61.5, 0.0]);
        assert_eq!(set.plotted[0].unit.as_deref(), Some("km/h"));
        log.push_data(at, Direction::Rx, None, peer, &location(1234, 7));
        set.feed(&log, decode, Duration::from_secs(5));
        let last = set.plotted[0].series.last().unwrap();
        assert_eq!((last.n, last.v), (4, 123.4));
        // A zero budget still moves on (a slice of records), and says how far behind it is.
        for i in 0..200u16 {
            log.push_data(at, Direction::Rx, None, peer, &location(i, i));
        }
        let feed = set.feed(&log, decode, Duration::ZERO);
        assert!(feed.behind > 0 && feed.behind < 200, "{feed:?}");
        while set.feed(&log, decode, Duration::ZERO).behind > 0 {}
        assert_eq!(set.plotted[0].series.len(), 204);
    }

    #[test]
    fn records_the_cap_took_first_are_counted() {
        let jt808 = crate::protocol::builtin("jt808").unwrap();
        let one = location(1, 1);
        let mut log = LogStore::new(one.len() * 10, TextEncoding::default());
        let peer = "127.0.0.1:7000".parse().unwrap();
        let at = SystemTime::now();
        let mut set = SeriesSet::new(SERIES_CAP);
        set.add(
            Pick {
                path: "body.speed".into(),
                node: None,
            },
            "Speed".into(),
            &log,
        );
        for i in 0..100u16 {
            log.push_data(at, Direction::Rx, None, peer, &location(i, i));
        }
        let feed = set.feed(
            &log,
            |_| Some((Arc::clone(&jt808), Dir::Request)),
            Duration::from_secs(5),
        );
        assert_eq!(feed.behind, 0);
        let kept = set.plotted[0].series.len() as u64;
        assert!(set.lost > 0);
        assert_eq!(set.lost + kept, 100);
    }

    #[test]
    fn a_repeat_item_is_picked_by_index_or_first() {
        assert_eq!(without_indexes("body.items.2.id"), "body.items.id");
        assert_eq!(without_indexes("body.speed"), "body.speed");
    }

    #[test]
    fn names_and_flags_are_not_plotted() {
        let jt808 = crate::protocol::builtin("jt808").unwrap();
        let d = jt808.decode(&location(600, 3), Dir::Request);
        let speed = d.get("body.speed").unwrap();
        assert_eq!(value_of(&jt808, speed), Some((60.0, Some("km/h".into()))));
        let msg_id = d.get("msg_id").unwrap();
        assert_eq!(value_of(&jt808, msg_id), None);
        let serial = d.get("serial").unwrap();
        assert_eq!(value_of(&jt808, serial), Some((3.0, None)));
    }

    #[test]
    fn a_dlt645_voltage_is_plotted_in_volts() {
        let dlt645 = crate::protocol::builtin("dlt645").unwrap();
        // 0x91 reply, DI 02 01 01 00, 220.5 V (BCD 05 22), each byte +0x33.
        let mut frame = vec![0x68, 1, 0, 0, 0, 0, 0, 0x68, 0x91, 6];
        frame.extend([0x00u8, 0x01, 0x01, 0x02, 0x05, 0x22].map(|b| b.wrapping_add(0x33)));
        let sum = frame.iter().fold(0u8, |a, b| a.wrapping_add(*b));
        frame.extend([sum, 0x16]);
        let d = dlt645.decode(&frame, Dir::Response);
        let paths: Vec<String> = d.all().into_iter().map(|(p, _)| p).collect();
        let value = d.get("data.value").unwrap_or_else(|| panic!("{paths:?}"));
        assert_eq!(value_of(&dlt645, value), Some((220.5, Some("V".into()))));
    }
}
