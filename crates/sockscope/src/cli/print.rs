//! Printing a session's log as it grows: human lines (the words of the window and of the text
//! export), or one JSON object per line. (`--pipe` writes received bytes itself, from the
//! session's tap: a raw printer prints nothing.)

use std::fmt::Write as _;
use std::io::Write;
use std::sync::Arc;

use sockscope_core::capture::{Capture, Record, RecordKind, log_head, log_line};
use sockscope_core::codec::{hex, text};
use sockscope_core::i18n::{S, tf};
use sockscope_core::protocol::{Dir, Piece, Protocol};

use super::values::View;

/// A human line shows at most this many bytes of a payload; the rest is counted (`--json`,
/// `--record` and `--pipe` keep every byte). A 256 KiB read printed whole made one line of
/// some 700,000 characters.
pub const SHOWN_BYTES: usize = 1024;

/// Prints records from where it stopped last time.
pub struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
    hex: bool,
    hexdump: bool,
    raw: bool,
    next: u64,
    /// A write failed (the reader of stdout went away: `| head`): nothing more is printed and
    /// the command ends.
    pub closed: bool,
    /// A relay's upstream: received records say which way they went.
    pub relay_upstream: Option<std::net::SocketAddr>,
    /// Print events and errors only, not what was sent or received.
    pub events_only: bool,
    /// Lines formatted and not yet written (see [`Printer::format_new`]).
    pending: Vec<u8>,
    /// Messages are decoded with this protocol; what is received goes this way (a client
    /// receives replies, a server requests).
    pub protocol: Option<(Arc<Protocol>, Dir)>,
    /// A relay's upstream speaking another protocol: what it sends is decoded with this.
    pub upstream_protocol: Option<Arc<Protocol>>,
}

impl<'a> Printer<'a> {
    /// A printer to `out` as `view` says; `raw` prints nothing (the bytes go elsewhere).
    pub fn new(out: &'a mut dyn Write, view: &View, raw: bool) -> Self {
        Self {
            out,
            json: view.json,
            hex: view.hex,
            hexdump: view.hexdump,
            raw,
            next: 0,
            closed: false,
            relay_upstream: None,
            events_only: false,
            pending: Vec::new(),
            protocol: view.protocol.clone().map(|p| (p, Dir::Unknown)),
            upstream_protocol: None,
        }
    }

    /// What received messages are (a client receives replies, a server requests), for a
    /// protocol that lays them out differently (Modbus).
    pub fn set_rx_dir(&mut self, dir: Dir) {
        if let Some((_, rx)) = &mut self.protocol {
            *rx = dir;
        }
    }

    /// The sequence number of the next record to print.
    pub fn next(&self) -> u64 {
        self.next
    }

    /// Prints the records added since the last call. Records the log's cap dropped before
    /// they could be printed are counted in a line of their own.
    pub fn print_new(&mut self, capture: &Capture) {
        self.format_new(capture, usize::MAX);
        self.write_pending();
    }

    /// Formats the records added since the last call, up to about `max_bytes` of text, and
    /// keeps it for [`write_pending`](Self::write_pending): call it with the capture locked
    /// and write after the lock is let go, so a slow stdout never holds up the session.
    /// Returns true when records are left for the next call.
    pub fn format_new(&mut self, capture: &Capture, max_bytes: usize) -> bool {
        let log = &capture.log;
        if self.raw || self.closed {
            self.next = log.next_seq();
            return false;
        }
        if let Some(first) = log.first_seq()
            && first > self.next
        {
            let missed = first - self.next;
            // Events-only skips data records anyway; the dropped ones were nearly all data.
            if !self.events_only {
                let line = tf(S::CliMissed, &[&missed]);
                if self.json {
                    let value = serde_json::json!({
                        "time": rfc3339(std::time::SystemTime::now()),
                        "kind": "error",
                        "event": "missed",
                        "text": line,
                        "count": missed,
                    });
                    let _ = writeln!(self.pending, "{value}");
                } else {
                    let _ = writeln!(self.pending, "{line}");
                }
            }
            self.next = first;
        }
        for record in log.iter_from(self.next) {
            if self.pending.len() >= max_bytes {
                return true;
            }
            self.record(&record);
            self.next = record.seq + 1;
        }
        self.next = log.next_seq();
        false
    }

    /// Writes what [`format_new`](Self::format_new) formatted. A write that fails (the reader
    /// of stdout went away) marks the printer closed.
    pub fn write_pending(&mut self) {
        if !self.pending.is_empty() {
            let written = if self.closed {
                Ok(())
            } else {
                self.out.write_all(&self.pending)
            };
            self.check(&written);
            self.pending.clear();
        }
        let flushed = self.out.flush();
        self.check(&flushed);
    }

    /// Prints a line of its own (an info line in JSON).
    pub fn note(&mut self, text: &str) {
        if self.json {
            let value = serde_json::json!({
                "time": rfc3339(std::time::SystemTime::now()),
                "kind": "info",
                "event": "info",
                "text": text,
            });
            let _ = writeln!(self.pending, "{value}");
        } else {
            let _ = writeln!(self.pending, "{text}");
        }
        self.write_pending();
    }

    fn check(&mut self, result: &std::io::Result<()>) {
        if result.is_err() {
            self.closed = true;
        }
    }

    /// Which way a relay's record went: `up` (client → upstream) or `down`.
    fn relay_dir(&self, record: &Record<'_>) -> Option<&'static str> {
        let upstream = self.relay_upstream?;
        (record.kind == RecordKind::Rx).then_some(if record.peer == Some(upstream) {
            "down"
        } else {
            "up"
        })
    }

    fn record(&mut self, record: &Record<'_>) {
        if self.events_only && matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
            return;
        }
        let decoded = self.decode(record);
        if self.json {
            let mut value = json_of(record);
            if let (Some(dir), Some(map)) = (self.relay_dir(record), value.as_object_mut()) {
                map.insert("dir".into(), dir.into());
            }
            if let (Some((protocol, pieces)), Some(map)) = (&decoded, value.as_object_mut()) {
                let mut json = protocol.json_message(pieces);
                if record.partial {
                    // The record is what was left when the connection ended, not a frame its
                    // framing cut: its last frame is not whole, whatever its fields say.
                    let last = match &mut json {
                        serde_json::Value::Array(all) => all.last_mut(),
                        one => Some(one),
                    };
                    if let Some(serde_json::Value::Object(m)) = last {
                        m.insert("checks_ok".into(), false.into());
                    }
                }
                map.insert("decoded".into(), json);
            }
            let _ = writeln!(self.pending, "{value}");
            return;
        }
        let mut line = if record.bytes.len() > SHOWN_BYTES || self.hexdump {
            self.short_line(record)
        } else {
            log_line(record, self.hex)
        };
        if let Some(dir) = self.relay_dir(record) {
            // One log, both ways: c→u came from a client, u→c from the upstream.
            let tag = if dir == "down" { "u→c" } else { "c→u" };
            line = line.replacen("<-", tag, 1);
        }
        let _ = writeln!(self.pending, "{line}");
        if let Some((protocol, pieces)) = &decoded {
            // A datagram with several frames: a line for each.
            for piece in pieces {
                let _ = writeln!(self.pending, "  ≡ {}", protocol.piece_summary(piece));
            }
        }
    }

    /// A data record decoded with the protocol, if one is chosen: each frame it holds (a
    /// stream cut by the protocol gives one a record; a datagram may hold several).
    fn decode(&self, record: &Record<'_>) -> Option<(Arc<Protocol>, Vec<Piece>)> {
        // A relay's upstream with its own protocol: its records are decoded with that one
        // (with no --protocol, only they are).
        if let Some(upstream) = &self.upstream_protocol
            && self.relay_dir(record) == Some("down")
        {
            let pieces = upstream.decode_message(record.bytes, Dir::Response);
            return Some((Arc::clone(upstream), pieces));
        }
        let (protocol, rx_dir) = self.protocol.as_ref()?;
        let dir = match (record.kind, rx_dir) {
            (RecordKind::Rx, dir) => *dir,
            (RecordKind::Tx, Dir::Request) => Dir::Response,
            (RecordKind::Tx, Dir::Response) => Dir::Request,
            (RecordKind::Tx, Dir::Unknown) => Dir::Unknown,
            _ => return None,
        };
        // A relay's record says its own way: from the upstream is a reply.
        let pieces = match self.relay_dir(record) {
            Some("down") => protocol.decode_message(record.bytes, Dir::Response),
            Some(_) => protocol.decode_message(record.bytes, Dir::Request),
            // A server mostly hears requests and a client replies, but a polled gateway
            // connects in and answers: the bytes decide when they fit only the other way.
            None => protocol.decode_message_guess(record.bytes, dir),
        };
        Some((Arc::clone(protocol), pieces))
    }

    /// A data record's line with at most [`SHOWN_BYTES`] of its payload (and the count of the
    /// rest), or its hex dump below it (`--hexdump`).
    fn short_line(&self, record: &Record<'_>) -> String {
        if !matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
            return log_line(record, self.hex);
        }
        // The head alone: the whole payload is not decoded (nor escaped, nor written as hex)
        // to show its first KiB (100 MB of binary in 64 KiB reads was most of the time).
        let len = record.bytes.len();
        let shown = record.bytes.get(..SHOWN_BYTES).unwrap_or(record.bytes);
        let rest = len - shown.len();
        let mut line = log_head(record, true);
        if self.hexdump {
            for (row, chunk) in shown.chunks(16).enumerate() {
                let _ = write!(line, "\n  {}", dump_row(row * 16, chunk));
            }
            if rest > 0 {
                let _ = write!(line, "\n  {}", tf(S::CliMoreBytes, &[&rest]));
            }
            return line;
        }
        let payload = if self.hex {
            hex::format(shown)
        } else {
            text::one_line(&record.text_head(SHOWN_BYTES)).into_owned()
        };
        let _ = write!(line, " {payload} {}", tf(S::CliMoreBytes, &[&rest]));
        line
    }
}

/// One row of a hex dump: offset, 16 bytes as hex, the same as ASCII (`.` for the rest).
pub fn dump_row(offset: usize, bytes: &[u8]) -> String {
    let mut row = format!("{offset:08x}  ");
    for n in 0..16 {
        match bytes.get(n) {
            Some(b) => {
                let _ = write!(row, "{b:02x} ");
            }
            None => row.push_str("   "),
        }
        if n == 7 {
            row.push(' ');
        }
    }
    row.push_str(" |");
    for &b in bytes {
        row.push(if b.is_ascii_graphic() || b == b' ' {
            char::from(b)
        } else {
            '.'
        });
    }
    row.push('|');
    row
}

/// A moment as RFC 3339 in local time with its offset (`2026-05-01T10:00:00.123+08:00`).
pub fn rfc3339(at: std::time::SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = at.into();
    local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// A record as one JSON object — the keys docs/CLI.md lists and
/// `schema/record.schema.json` checks: time, kind (rx, tx, info, error), event (a machine
/// name), text, and where known peer and conn; for data len, hex and partial.
pub fn json_of(record: &Record<'_>) -> serde_json::Value {
    let (kind, default_event) = match record.kind {
        RecordKind::Rx => ("rx", "received"),
        RecordKind::Tx => ("tx", "sent"),
        RecordKind::Info => ("info", "info"),
        RecordKind::Error => ("error", "error"),
    };
    let mut value = serde_json::Map::new();
    value.insert("time".into(), rfc3339(record.at).into());
    value.insert("kind".into(), kind.into());
    value.insert(
        "event".into(),
        record.event().unwrap_or(default_event).into(),
    );
    value.insert("text".into(), record.text().into_owned().into());
    if let Some(peer) = record.peer {
        value.insert("peer".into(), peer.to_string().into());
    }
    if let Some(conn) = record.conn {
        value.insert("conn".into(), conn.0.into());
    }
    if matches!(record.event(), Some("rule-reply" | "rule-fired"))
        && let Some(rule) = record.subject()
    {
        value.insert("rule".into(), rule.into());
    }
    if matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
        value.insert("len".into(), record.bytes.len().into());
        value.insert("hex".into(), hex::format(record.bytes).into());
        value.insert("partial".into(), record.partial.into());
        // WebSocket: what the message was, as the human line says.
        if let Some(ws) = record.ws {
            let ws = match ws {
                sockscope_core::capture::WsKind::Text => "text",
                sockscope_core::capture::WsKind::Binary => "binary",
            };
            value.insert("ws".into(), ws.into());
        }
    }
    serde_json::Value::Object(value)
}
