//! Printing a session's log as it grows: human lines (the words of the window and of the text
//! export), one JSON object per line, or the received bytes as they are (`--pipe`).

use std::io::Write;

use sockscope_core::capture::{Capture, Record, RecordKind, log_line, timestamp};
use sockscope_core::codec::hex;
use sockscope_core::i18n::{S, tf};

use super::args::View;

/// Prints records from where it stopped last time.
pub struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
    hex: bool,
    raw: bool,
    next: u64,
    /// A relay's upstream: received records say which way they went.
    pub relay_upstream: Option<std::net::SocketAddr>,
    /// Print events and errors only, not what was sent or received.
    pub events_only: bool,
    /// Lines formatted and not yet written (see [`Printer::format_new`]).
    pending: Vec<u8>,
}

impl<'a> Printer<'a> {
    /// A printer to `out` as `view` says; `raw` prints only received bytes, as they are.
    pub fn new(out: &'a mut dyn Write, view: &View, raw: bool) -> Self {
        Self {
            out,
            json: view.json,
            hex: view.hex,
            raw,
            next: 0,
            relay_upstream: None,
            events_only: false,
            pending: Vec::new(),
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
        if let Some(first) = log.first_seq()
            && first > self.next
        {
            let missed = first - self.next;
            // Events-only skips data records anyway; the dropped ones were nearly all data.
            if !self.raw && !self.events_only {
                let line = tf(S::CliMissed, &[&missed]);
                let _ = self.line(&line, "error", &line);
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

    /// Writes what [`format_new`](Self::format_new) formatted.
    pub fn write_pending(&mut self) {
        if !self.pending.is_empty() {
            let _ = self.out.write_all(&self.pending);
            self.pending.clear();
        }
        let _ = self.out.flush();
    }

    /// Prints a line of its own (an info line in JSON).
    pub fn note(&mut self, text: &str) {
        let _ = self.line(text, "info", text);
        self.write_pending();
    }

    fn record(&mut self, record: &Record<'_>) {
        if self.raw {
            if record.kind == RecordKind::Rx {
                let _ = self.pending.write_all(record.bytes);
            }
            return;
        }
        if self.events_only && matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
            return;
        }
        if self.json {
            let _ = writeln!(self.pending, "{}", json_of(record));
        } else {
            let mut line = log_line(record, self.hex);
            if let (Some(upstream), RecordKind::Rx) = (self.relay_upstream, record.kind) {
                // One log, both ways: c→u came from a client, u→c from the upstream.
                let tag = if record.peer == Some(upstream) {
                    "u→c"
                } else {
                    "c→u"
                };
                line = line.replacen("<-", tag, 1);
            }
            let _ = writeln!(self.pending, "{line}");
        }
    }

    fn line(&mut self, human: &str, kind: &str, text: &str) -> std::io::Result<()> {
        if self.json {
            let value = serde_json::json!({ "kind": kind, "text": text });
            writeln!(self.pending, "{value}")
        } else {
            writeln!(self.pending, "{human}")
        }
    }
}

/// A record as one JSON object: time, kind (rx, tx, info, error), peer, and for data the
/// length, hex and text.
pub fn json_of(record: &Record<'_>) -> serde_json::Value {
    let kind = match record.kind {
        RecordKind::Rx => "rx",
        RecordKind::Tx => "tx",
        RecordKind::Info => "info",
        RecordKind::Error => "error",
    };
    let mut value = serde_json::Map::new();
    value.insert("time".into(), timestamp(record.at).into());
    value.insert("kind".into(), kind.into());
    value.insert("text".into(), record.text().into_owned().into());
    if let Some(peer) = record.peer {
        value.insert("peer".into(), peer.to_string().into());
    }
    if let Some(conn) = record.conn {
        value.insert("conn".into(), conn.0.into());
    }
    if matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
        value.insert("len".into(), record.bytes.len().into());
        value.insert("hex".into(), hex::format(record.bytes).into());
        if record.partial {
            value.insert("partial".into(), true.into());
        }
    }
    serde_json::Value::Object(value)
}
