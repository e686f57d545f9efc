//! The relay (转发): every client of the local side gets its own connection (TCP) or socket
//! (UDP) to the upstream, and what one side sends goes to the other through a lane per
//! direction that can make the link worse on purpose — latency and jitter, drops (UDP), a
//! bandwidth cap, a cut after so many bytes — for testing how a device copes.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{ConnId, Target};

/// How one direction of a relayed pair is made worse.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Impairment {
    /// Added to every message, ms.
    pub latency_ms: u64,
    /// Up to this much more or less, at random, ms (order is kept on TCP).
    pub jitter_ms: u64,
    /// Datagrams thrown away, percent (UDP only; a stream cannot lose bytes).
    pub drop_percent: f32,
    /// At most this many bytes per second; 0 = no cap.
    pub rate_bytes: u64,
    /// Cut the pair once this many bytes went this way; 0 = never.
    pub cut_after: u64,
}

impl Eq for Impairment {}

impl Impairment {
    /// Reads `latency=20ms,jitter=5ms,drop=5%,rate=100KB/s,cut=4096` (any of them, any
    /// order; each value as [`Knob::from_text`] reads it). What is wrong is said.
    pub fn parse(text: &str) -> Result<Impairment, String> {
        use crate::i18n::{S, tf};
        let mut imp = Impairment::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| tf(S::ErrImpairment, &[&part]))?;
            let knob = Knob::ALL
                .into_iter()
                .find(|k| k.keys().contains(&key.trim().to_ascii_lowercase().as_str()))
                .ok_or_else(|| tf(S::ErrImpairment, &[&part]))?;
            imp.set_text(knob, value)
                .map_err(|why| tf(S::ErrImpairmentValue, &[&part, &why]))?;
        }
        Ok(imp)
    }

    /// Sets one knob from text as typed (`20ms`, `1.5s`, `5%`, `64KiB/s`, `8Mbit/s`, `4KiB`;
    /// empty is 0, none); the sentence says what is wrong and what to write.
    pub fn set_text(&mut self, knob: Knob, text: &str) -> Result<(), String> {
        let value = knob.from_text(text)?;
        match knob {
            Knob::Latency => self.latency_ms = value as u64,
            Knob::Jitter => self.jitter_ms = value as u64,
            Knob::Drop => self.drop_percent = value as f32,
            Knob::Rate => self.rate_bytes = value as u64,
            Knob::Cut => self.cut_after = value as u64,
        }
        Ok(())
    }

    /// One knob's value as text, in the unit it reads best in (what [`set_text`](Self::set_text)
    /// reads back).
    pub fn text(&self, knob: Knob) -> String {
        match knob {
            Knob::Latency => millis_text(self.latency_ms),
            Knob::Jitter => millis_text(self.jitter_ms),
            Knob::Drop => format!("{}%", self.drop_percent),
            Knob::Rate if self.rate_bytes == 0 => "0".into(),
            Knob::Rate => format!("{}/s", bytes_text(self.rate_bytes)),
            Knob::Cut => bytes_text(self.cut_after),
        }
    }

    /// What it does, in words (`latency 20 ms, jitter ±5 ms, rate cap 64 KiB/s`), or "none".
    pub fn describe(&self) -> String {
        use crate::i18n::{S, t, tf};
        let mut parts = Vec::new();
        if self.latency_ms > 0 {
            parts.push(tf(S::ImpLatency, &[&millis_text(self.latency_ms)]));
        }
        if self.jitter_ms > 0 {
            parts.push(tf(S::ImpJitter, &[&millis_text(self.jitter_ms)]));
        }
        if self.drop_percent > 0.0 {
            parts.push(tf(S::ImpDrop, &[&self.text(Knob::Drop)]));
        }
        if self.rate_bytes > 0 {
            parts.push(tf(S::ImpRate, &[&self.text(Knob::Rate)]));
        }
        if self.cut_after > 0 {
            parts.push(tf(S::ImpCut, &[&bytes_text(self.cut_after)]));
        }
        if parts.is_empty() {
            t(S::ImpNone).to_owned()
        } else {
            parts.join(t(S::ListSeparator))
        }
    }

    /// True when it changes nothing.
    pub fn is_clean(&self) -> bool {
        *self == Impairment::default()
    }
}

/// One setting of an [`Impairment`], as typed in the window's relay fields and in the CLI's
/// `--up`/`--down`: both read it with [`Knob::from_text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Knob {
    /// Added delay (a duration).
    Latency,
    /// Random ± delay (a duration).
    Jitter,
    /// Share of datagrams dropped (a percentage).
    Drop,
    /// Bandwidth cap (bytes or bits per second).
    Rate,
    /// Cut after (a size).
    Cut,
}

impl Knob {
    /// Every knob, in the order the window shows them.
    pub const ALL: [Knob; 5] = [
        Knob::Latency,
        Knob::Jitter,
        Knob::Drop,
        Knob::Rate,
        Knob::Cut,
    ];

    /// Its name in `latency=20ms,…`.
    pub fn key(self) -> &'static str {
        self.keys().first().copied().unwrap_or_default()
    }

    /// Its names in `latency=20ms,…` (the first is the one to write).
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Knob::Latency => &["latency", "delay"],
            Knob::Jitter => &["jitter"],
            Knob::Drop => &["drop", "loss"],
            Knob::Rate => &["rate", "bandwidth"],
            Knob::Cut => &["cut", "cut_after"],
        }
    }

    /// Reads its value from text: a duration in ms (`20ms`, `1.5s`, `2m`; a bare number is
    /// ms), a percentage (`5%`, `5`), a rate in bytes per second (`64KiB/s`, `2MB/s`,
    /// `8Mbit/s`, `1Gbps`; a bare number is B/s) or a size in bytes (`4KiB`, `1MB`, `4096`).
    /// Empty text is 0 (none). The sentence says what is wrong and what to write.
    pub fn from_text(self, text: &str) -> Result<f64, String> {
        use crate::i18n::{S, tf};
        let text = text.trim();
        if text.is_empty() {
            return Ok(0.0);
        }
        let (value, bad) = match self {
            Knob::Latency | Knob::Jitter => (millis(text), S::ErrDurationText),
            Knob::Drop => (percent(text), S::ErrPercentText),
            Knob::Rate => (rate(text), S::ErrRateText),
            Knob::Cut => (bytes(text), S::ErrSizeText),
        };
        value.ok_or_else(|| tf(bad, &[&text]))
    }
}

/// `20 ms`, `1.5 s`.
fn millis_text(ms: u64) -> String {
    if ms >= 1000 && ms.is_multiple_of(100) {
        format!("{} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

/// `4096 B`, `4 KiB`, `1.5 MiB`.
fn bytes_text(n: u64) -> String {
    let units = [
        ("GiB", 1u64 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
        ("GB", 1_000_000_000),
        ("MB", 1_000_000),
        ("KB", 1000),
    ];
    for (unit, size) in units {
        // Whole, or a tenth exactly: 1.5 MiB reads back as it is.
        if n >= size
            && n.checked_mul(10)
                .is_some_and(|tenths| tenths.is_multiple_of(size))
        {
            return format!("{} {unit}", n as f64 / size as f64);
        }
    }
    format!("{n} B")
}

/// `5%`, `5`, `0.5 %` (0 to 100).
fn percent(text: &str) -> Option<f64> {
    let v: f64 = text.trim_end_matches('%').trim().parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v)
}

/// `64KiB/s`, `2MB/s`, `100000` (B/s); `8Mbit/s`, `8 Mbps`, `100kbit/s` (bits).
fn rate(text: &str) -> Option<f64> {
    let lower = text.trim().to_ascii_lowercase();
    for suffix in ["bit/s", "bps", "b/s"] {
        if suffix != "b/s"
            && let Some(n) = lower.strip_suffix(suffix)
        {
            let n = n.trim();
            let (number, scale) = [("g", 1e9), ("m", 1e6), ("k", 1e3)]
                .iter()
                .find_map(|(p, scale)| n.strip_suffix(p).map(|n| (n, *scale)))
                .unwrap_or((n, 1.0));
            let v: f64 = number.trim().parse().ok()?;
            return (v.is_finite() && v >= 0.0 && v * scale < 1.4e20)
                .then(|| (v * scale / 8.0).round());
        }
    }
    bytes(lower.strip_suffix("/s").unwrap_or(&lower))
}

/// `20ms`, `1.5s`, `2m`, `20` (ms).
fn millis(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_lowercase();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("min").or_else(|| t.strip_suffix('m')) {
        (n, 60_000.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (t.as_str(), 1.0)
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * scale <= 3.6e9).then(|| (v * scale).round())
}

/// `4096`, `4KB`, `1.5MB`, `64KiB`, `64 K` (bytes).
fn bytes(text: &str) -> Option<f64> {
    let t = text.trim().to_ascii_uppercase();
    let units = [
        ("KIB", 1024.0),
        ("MIB", 1_048_576.0),
        ("GIB", 1_073_741_824.0),
        ("KB", 1e3),
        ("MB", 1e6),
        ("GB", 1e9),
        ("K", 1024.0),
        ("M", 1_048_576.0),
        ("G", 1_073_741_824.0),
        ("B", 1.0),
    ];
    let (number, scale) = units
        .iter()
        .find_map(|(suffix, scale)| t.strip_suffix(suffix).map(|n| (n.to_owned(), *scale)))
        .unwrap_or((t.clone(), 1.0));
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0 && v * scale < 1.8e19).then(|| (v * scale).round())
}

/// A relay session's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// Where every client is relayed to.
    pub upstream: SocketAddr,
    /// UDP (else TCP).
    pub udp: bool,
    /// What client → upstream goes through.
    pub to_upstream: Impairment,
    /// What upstream → client goes through.
    pub to_client: Impairment,
    /// How the upstream's stream is cut when it differs from the session's framing (the two
    /// directions speak different protocols, each cut by its own frame layer); `None`: the
    /// session's framing cuts both directions.
    pub replies_framing: Option<crate::codec::framing::Framing>,
}

/// One direction of a pair: messages waiting for their time.
#[derive(Debug)]
pub(crate) struct Lane {
    imp: Impairment,
    queue: VecDeque<(Instant, Vec<u8>)>,
    /// When the last queued message is due (TCP keeps order).
    last_due: Option<Instant>,
    /// When the bandwidth cap lets the next byte go.
    free_at: Option<Instant>,
    /// Bytes waiting in `queue`.
    bytes: usize,
    /// Bytes that went (towards `cut_after`).
    pub forwarded: u64,
    /// Messages dropped on purpose.
    pub dropped: u64,
    /// Bytes that waited here and were forgotten (their side left, the pair ended).
    pub discarded: u64,
}

/// The least a lane may hold before its sender waits (a few reads' worth).
const MIN_WINDOW: usize = 64 << 10;
/// The most a lane may hold: without a cap, latency alone would let it grow with the sender.
const MAX_WINDOW: usize = 8 << 20;

/// What became of a message given to a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// It waits for its time.
    Queued,
    /// Thrown away on purpose (the drop share).
    Dropped,
    /// Thrown away because the lane is full (UDP: a datagram cannot wait for room, as in a
    /// router's full queue).
    Overflow,
}

/// What a lane lets go now.
pub(crate) enum Release {
    /// Send these bytes.
    Send(Vec<u8>),
    /// The cut point was reached: send these (the last bytes before it), then cut the pair.
    Cut(Vec<u8>),
}

impl Lane {
    pub fn new(imp: Impairment) -> Lane {
        Lane {
            imp,
            queue: VecDeque::new(),
            last_due: None,
            free_at: None,
            bytes: 0,
            forwarded: 0,
            dropped: 0,
            discarded: 0,
        }
    }

    /// How much this lane and its destination's send queue may hold before the sender is
    /// no longer read (TCP) or datagrams are thrown away (UDP): what the link carries in its
    /// latency and 100 ms more at the cap, twice over; without a cap, [`MAX_WINDOW`]. A capped
    /// or slow lane so slows its sender as a slow link does, and memory stays bounded.
    pub fn window(&self) -> usize {
        if self.imp.rate_bytes == 0 {
            return MAX_WINDOW;
        }
        let delay_ms = self.imp.latency_ms + self.imp.jitter_ms + 100;
        let bytes = u128::from(self.imp.rate_bytes) * u128::from(delay_ms) * 2 / 1000;
        usize::try_from(bytes)
            .unwrap_or(usize::MAX)
            .clamp(MIN_WINDOW, MAX_WINDOW)
    }

    /// True when a bandwidth cap applies.
    pub fn capped(&self) -> bool {
        self.imp.rate_bytes > 0
    }

    /// Bytes waiting for their time.
    pub fn held(&self) -> usize {
        self.bytes
    }

    /// A message arrived at `now`: it is due after the latency (± jitter) and once the
    /// bandwidth allows; `ordered` (TCP) never lets it pass one before it. With a cap, it is
    /// cut into pieces of at most 1/50 s of the rate, so the rate holds within a message too.
    /// A datagram (`!ordered`) may be dropped on purpose, or because the lane is full.
    pub fn push(
        &mut self,
        now: Instant,
        bytes: Vec<u8>,
        ordered: bool,
        random: &mut u64,
    ) -> Pushed {
        if !ordered && self.imp.drop_percent > 0.0 {
            let roll = (next(random) % 10_000) as f32 / 100.0;
            if roll < self.imp.drop_percent {
                self.dropped += 1;
                return Pushed::Dropped;
            }
        }
        if !ordered && self.bytes + bytes.len() > self.window() {
            self.dropped += 1;
            return Pushed::Overflow;
        }
        self.bytes += bytes.len();
        let jitter = if self.imp.jitter_ms == 0 {
            0
        } else {
            let span = self.imp.jitter_ms * 2 + 1;
            i64::try_from(next(random) % span).unwrap_or(0)
                - i64::try_from(self.imp.jitter_ms).unwrap_or(0)
        };
        let delay_ms = i64::try_from(self.imp.latency_ms)
            .unwrap_or(i64::MAX)
            .saturating_add(jitter)
            .max(0);
        let mut due = now + Duration::from_millis(delay_ms.unsigned_abs());
        if ordered && let Some(last) = self.last_due {
            due = due.max(last);
        }
        let pieces: Vec<Vec<u8>> = if self.imp.rate_bytes > 0 && !ordered {
            vec![bytes]
        } else if self.imp.rate_bytes > 0 {
            let piece = usize::try_from((self.imp.rate_bytes / 50).max(1)).unwrap_or(usize::MAX);
            bytes.chunks(piece).map(<[u8]>::to_vec).collect()
        } else {
            vec![bytes]
        };
        for piece in pieces {
            let mut at = due;
            if self.imp.rate_bytes > 0 {
                let free = self.free_at.unwrap_or(at).max(at);
                let takes =
                    Duration::from_secs_f64(piece.len() as f64 / self.imp.rate_bytes as f64);
                // The piece goes when the link is free; the link is busy for its length.
                at = free;
                self.free_at = Some(free + takes);
            }
            self.last_due = Some(at);
            self.queue.push_back((at, piece));
        }
        Pushed::Queued
    }

    /// Forgets what waits (its side left), counted in `discarded`.
    pub fn clear(&mut self) {
        self.discarded += self.bytes as u64;
        self.queue.clear();
        self.bytes = 0;
    }

    /// New impairments from now on (what waits keeps its time).
    pub fn set(&mut self, imp: Impairment) {
        self.imp = imp;
    }

    /// When the next message is due.
    pub fn due(&self) -> Option<Instant> {
        self.queue.front().map(|(at, _)| *at)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The next message if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Release> {
        if self.queue.front().is_none_or(|(at, _)| *at > now) {
            return None;
        }
        let (_, mut bytes) = self.queue.pop_front()?;
        self.bytes = self.bytes.saturating_sub(bytes.len());
        if self.imp.cut_after > 0 {
            let room = self.imp.cut_after.saturating_sub(self.forwarded);
            if bytes.len() as u64 >= room {
                bytes.truncate(usize::try_from(room).unwrap_or(usize::MAX));
                self.forwarded += bytes.len() as u64;
                self.clear();
                return Some(Release::Cut(bytes));
            }
        }
        self.forwarded += bytes.len() as u64;
        Some(Release::Send(bytes))
    }
}

/// xorshift64: jitter and drops need no more than this.
fn next(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

/// A client and its upstream.
#[derive(Debug)]
pub(crate) struct Pair {
    /// Its number in the session (1, 2, 3 … as clients came).
    pub number: u64,
    /// The client: a TCP connection, or a UDP address (sent to from the local socket).
    pub client: Target,
    /// The upstream connection (TCP) or socket (UDP).
    pub upstream: ConnId,
    /// The client's address.
    pub client_addr: SocketAddr,
    /// Client → upstream.
    pub up: Lane,
    /// Upstream → client.
    pub down: Lane,
    /// One side ended: the other closes once what goes to it is written.
    pub closing: bool,
    /// The client finished sending (a half-close): the upstream is told once the lane is empty.
    pub up_finished: bool,
    /// The upstream finished sending: the client is told once the lane is empty.
    pub down_finished: bool,
    /// The client's half-close was passed on to the upstream.
    pub up_passed: bool,
    /// The upstream's half-close was passed on to the client.
    pub down_passed: bool,
    /// The client's and the upstream's receive buffers were set for a cap.
    pub tuned: [bool; 2],
    /// What ended the pair at once (a reset, an upstream that could not be reached).
    pub ended_by: Option<RelayEnd>,
}

/// What ended a relayed pair at once, before what waited in its lanes could go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayEnd {
    /// The client reset (or an error ended its connection).
    ClientReset,
    /// The upstream reset (or an error ended its connection).
    UpstreamReset,
    /// The upstream connection could not be made (refused, unreachable, timed out): nothing
    /// the client sent was relayed.
    UpstreamFailed,
}

/// Every pair of a relay session.
#[derive(Debug)]
pub(crate) struct Relay {
    pub config: RelayConfig,
    pub pairs: Vec<Pair>,
    pub random: u64,
    /// The number the next pair gets.
    pub next_pair: u64,
}

impl Relay {
    pub fn new(config: RelayConfig) -> Relay {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9_7F4A_7C15, |d| d.as_nanos() as u64)
            | 1;
        Relay {
            config,
            pairs: Vec::new(),
            random: seed,
            next_pair: 1,
        }
    }

    /// The pair a message from `conn` / `peer` belongs to, and whether it came from upstream.
    pub fn find(&self, conn: Option<ConnId>, peer: SocketAddr) -> Option<(usize, bool)> {
        self.pairs
            .iter()
            .position(|p| Some(p.upstream) == conn)
            .map(|i| (i, true))
            .or_else(|| {
                self.pairs
                    .iter()
                    .position(|p| match p.client {
                        Target::Conn(id) => Some(id) == conn,
                        Target::Addr(addr) => conn.is_none() && addr == peer,
                        Target::AllConns => false,
                    })
                    .map(|i| (i, false))
            })
    }

    /// When the next message of any lane is due.
    pub fn deadline(&self) -> Option<Instant> {
        self.pairs
            .iter()
            .flat_map(|p| [p.up.due(), p.down.due()])
            .flatten()
            .min()
    }

    /// True if `conn` is one of the upstream connections.
    pub fn is_upstream(&self, conn: ConnId) -> bool {
        self.pairs.iter().any(|p| p.upstream == conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(imp: Impairment) -> Lane {
        Lane::new(imp)
    }

    #[test]
    fn latency_delays_every_message_and_tcp_keeps_order_through_jitter() {
        let t0 = Instant::now();
        let mut seed = 7;
        let mut l = lane(Impairment {
            latency_ms: 50,
            jitter_ms: 20,
            ..Impairment::default()
        });
        for n in 0..200u8 {
            l.push(t0, vec![n], true, &mut seed);
        }
        let mut last = t0;
        for (at, _) in &l.queue {
            assert!(*at >= t0 + Duration::from_millis(30) && *at <= t0 + Duration::from_millis(70));
            assert!(*at >= last, "reordered");
            last = *at;
        }
        assert!(l.pop_due(t0).is_none());
        let mut got = Vec::new();
        while let Some(Release::Send(b)) = l.pop_due(t0 + Duration::from_millis(100)) {
            got.extend(b);
        }
        assert_eq!(got, (0..200).collect::<Vec<u8>>());
    }

    #[test]
    fn a_rate_cap_spreads_a_burst_over_its_length() {
        let t0 = Instant::now();
        let mut l = lane(Impairment {
            rate_bytes: 100_000,
            ..Impairment::default()
        });
        l.push(t0, vec![0; 200_000], true, &mut 1);
        let last = l.queue.back().map(|(at, _)| *at).unwrap();
        // 200 kB at 100 kB/s: the last piece starts 2 s less one piece (1/50 s) in.
        let took = last.duration_since(t0).as_secs_f64();
        assert!((took - 1.98).abs() < 0.01, "{took}");
        assert_eq!(l.queue.len(), 100);
    }

    #[test]
    fn udp_drops_about_the_share_asked_for() {
        let t0 = Instant::now();
        let mut seed = 12345;
        let mut l = lane(Impairment {
            drop_percent: 30.0,
            ..Impairment::default()
        });
        for _ in 0..10_000 {
            l.push(t0, vec![1], false, &mut seed);
        }
        assert!((2_700..3_300).contains(&l.dropped), "{}", l.dropped);
    }

    #[test]
    fn the_window_follows_the_cap_and_a_full_udp_lane_drops_what_finds_no_room() {
        let capped = |rate_bytes, latency_ms| {
            lane(Impairment {
                latency_ms,
                rate_bytes,
                ..Impairment::default()
            })
        };
        // Twice what 1 MiB/s carries in 100 ms; with 400 ms of latency, in 500 ms.
        assert_eq!(capped(1 << 20, 0).window(), 209_715);
        assert_eq!(capped(1 << 20, 400).window(), 1 << 20);
        assert_eq!(capped(100, 0).window(), MIN_WINDOW);
        assert_eq!(capped(0, 1000).window(), MAX_WINDOW);
        let t0 = Instant::now();
        let mut l = capped(100_000, 0);
        let mut pushed = Vec::new();
        for _ in 0..100 {
            pushed.push(l.push(t0, vec![0; 1000], false, &mut 1));
        }
        let queued = pushed.iter().filter(|p| **p == Pushed::Queued).count();
        assert_eq!(queued, MIN_WINDOW / 1000);
        assert_eq!(l.held(), queued * 1000);
        assert_eq!(l.dropped, 100 - queued as u64);
        assert!(pushed.iter().all(|p| *p != Pushed::Dropped));
        // A stream is never dropped: its sender is held instead.
        assert_eq!(l.push(t0, vec![0; 100_000], true, &mut 1), Pushed::Queued);
    }

    #[test]
    fn the_cut_lets_exactly_n_bytes_through() {
        let t0 = Instant::now();
        let mut l = lane(Impairment {
            cut_after: 10,
            ..Impairment::default()
        });
        l.push(t0, vec![1; 4], true, &mut 1);
        l.push(t0, vec![2; 8], true, &mut 1);
        l.push(t0, vec![3; 8], true, &mut 1);
        assert!(matches!(l.pop_due(t0), Some(Release::Send(b)) if b.len() == 4));
        assert!(matches!(l.pop_due(t0), Some(Release::Cut(b)) if b == vec![2; 6]));
        assert!(l.is_empty());
    }

    #[test]
    fn impairments_read_from_text_and_bad_parts_are_named() {
        let imp =
            Impairment::parse("latency=20ms, jitter=1.5s,drop=5%,rate=100KB/s,cut=4KiB").unwrap();
        assert_eq!(
            imp,
            Impairment {
                latency_ms: 20,
                jitter_ms: 1500,
                drop_percent: 5.0,
                rate_bytes: 100_000,
                cut_after: 4096,
            }
        );
        assert_eq!(Impairment::parse("").unwrap(), Impairment::default());
        crate::i18n::set_lang(crate::i18n::Lang::En);
        let e = Impairment::parse("latency=20ms,drop=150%").unwrap_err();
        assert!(e.contains("'drop=150%'"), "{e}");
        assert!(Impairment::parse("speed=3").is_err());
        let e = Impairment::parse("rate=fast").unwrap_err();
        assert!(e.contains("'fast' is not a rate"), "{e}");
    }

    #[test]
    fn each_knob_reads_the_units_the_cli_and_the_window_accept_and_refuses_the_rest() {
        crate::i18n::set_lang(crate::i18n::Lang::En);
        let read = |knob: Knob, text: &str| knob.from_text(text);
        // What the window's fields got wrong: 2MB/s → 2 KiB/s, Cut 4KiB → 4 B, 1s → 1 ms.
        assert_eq!(read(Knob::Rate, "2MB/s"), Ok(2e6));
        assert_eq!(read(Knob::Rate, "64KiB/s"), Ok(65_536.0));
        assert_eq!(read(Knob::Rate, "64 KiB/s"), Ok(65_536.0));
        assert_eq!(read(Knob::Rate, "8Mbit/s"), Ok(1e6));
        assert_eq!(read(Knob::Rate, "100 kbps"), Ok(12_500.0));
        assert_eq!(read(Knob::Rate, "100000"), Ok(1e5));
        assert_eq!(read(Knob::Cut, "4KiB"), Ok(4096.0));
        assert_eq!(read(Knob::Cut, "1MB"), Ok(1e6));
        assert_eq!(read(Knob::Latency, "1s"), Ok(1000.0));
        assert_eq!(read(Knob::Latency, "50ms"), Ok(50.0));
        assert_eq!(read(Knob::Latency, "1.5 s"), Ok(1500.0));
        assert_eq!(read(Knob::Latency, "20"), Ok(20.0));
        assert_eq!(read(Knob::Drop, "5%"), Ok(5.0));
        assert_eq!(read(Knob::Rate, ""), Ok(0.0), "empty is none");
        // And `abc` is no longer 0 (no cap): it is refused with what to write.
        let e = read(Knob::Rate, "abc").unwrap_err();
        assert!(e.contains("'abc' is not a rate: write 64KiB/s"), "{e}");
        assert!(read(Knob::Latency, "1 parsec").is_err());
        assert!(read(Knob::Drop, "101%").is_err());
        assert!(read(Knob::Cut, "-4").is_err());
        crate::i18n::set_lang(crate::i18n::Lang::Zh);
        assert!(read(Knob::Rate, "abc").unwrap_err().contains("不是速率"));
        crate::i18n::set_lang(crate::i18n::Lang::En);
        let imp = Impairment::parse("latency=1s,rate=8Mbit/s,cut=4KiB").unwrap();
        assert_eq!(
            (imp.latency_ms, imp.rate_bytes, imp.cut_after),
            (1000, 1_000_000, 4096)
        );
        assert_eq!(
            imp.describe(),
            "latency 1 s, rate cap 1 MB/s, cut after 4 KiB"
        );
        assert_eq!(Impairment::default().describe(), "none");
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".{0,60}") {
            let _ = Impairment::parse(&text);
            for knob in Knob::ALL {
                let _ = knob.from_text(&text);
            }
        }

        #[test]
        fn every_value_shown_in_a_field_reads_back_as_itself(
            latency in 0u64..3_600_000,
            drop in 0u32..=1000,
            rate in 0u64..(1 << 40),
            cut in 0u64..(1 << 40),
        ) {
            let imp = Impairment {
                latency_ms: latency,
                jitter_ms: latency / 3,
                drop_percent: drop as f32 / 10.0,
                rate_bytes: rate,
                cut_after: cut,
            };
            let mut back = Impairment::default();
            for knob in Knob::ALL {
                back.set_text(knob, &imp.text(knob)).unwrap();
            }
            proptest::prop_assert_eq!(back, imp);
        }

        #[test]
        fn any_messages_come_out_whole_and_in_order_on_tcp(
            sizes in proptest::collection::vec(1usize..5000, 1..40),
            rate in 0u64..200_000,
            latency in 0u64..100,
            jitter in 0u64..50,
        ) {
            let t0 = Instant::now();
            let mut l = lane(Impairment { latency_ms: latency, jitter_ms: jitter, rate_bytes: rate, ..Impairment::default() });
            let mut want = Vec::new();
            let mut seed = 99;
            for (n, size) in sizes.iter().enumerate() {
                let bytes: Vec<u8> = (0..*size).map(|i| (i + n) as u8).collect();
                want.extend_from_slice(&bytes);
                l.push(t0, bytes, true, &mut seed);
            }
            let mut got = Vec::new();
            let end = t0 + Duration::from_hours(1);
            while let Some(Release::Send(b)) = l.pop_due(end) {
                got.extend(b);
            }
            proptest::prop_assert_eq!(got, want);
        }
    }
}
