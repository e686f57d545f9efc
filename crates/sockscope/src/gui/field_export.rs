//! Export by field: a CSV with a column per field of a chosen message (the selected one):
//! time, direction, peer, then each of its fields, one line per message of the same kind among
//! the rows shown (the record filter and Show by field; a message of another kind lacks some
//! of its fields and is left out). A quantity is a number a spreadsheet can sum (scale and
//! offset applied), its unit in the column's header (`Speed (body.speed) [km/h]`); a value
//! that is not a quantity (a named value, flags, a checksum, text, bytes) is as shown
//! (`0x0200 Location report`). UTF-8 with a BOM, as the other CSV exports. Written a slice per
//! frame from the UI thread's copy of the log lock, so a long log never stalls the window.
//! No egui here.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::{
    LogStore, Record, RecordFilter, RecordKind, RelayWay, UTF8_BOM, timestamp,
};
use sockscope_core::protocol::{Dir, Field, FieldValue, Kind, Protocol, Show};
use sockscope_core::rules::expr::Expr;

use super::i18n::{S, t};

/// How long a frame may spend writing before it draws.
const SLICE: Duration = Duration::from_millis(8);

/// An export under way.
pub struct FieldExport {
    /// Where it goes.
    pub path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    protocol: Arc<Protocol>,
    /// A relay's protocol for the upstream's rows, when it is another one: rows decoded with
    /// a protocol other than the chosen message's are not of its kind.
    replies: Option<Arc<Protocol>>,
    /// Show by field's expression, when it narrows the rows.
    show: Option<Expr>,
    /// What was typed for it.
    pub show_text: Option<String>,
    /// The columns: the chosen message's fields (paths).
    columns: Vec<String>,
    /// The fields a message must have to be of the same kind (those not in a repeat).
    kind: Vec<String>,
    filter: RecordFilter,
    /// The next record to look at, and the one after the last when it began.
    next: u64,
    end: u64,
    /// Lines written.
    pub rows: u64,
    /// Records the log's cap took before they were looked at.
    pub lost: u64,
}

/// The CSV form of a field (quoted when it holds a comma, quote or line end).
fn cell(out: &mut String, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

/// A field's value as a number, when it is a quantity (an integer or a float without named
/// values or flags, or text holding a number, with its scale and offset); its unit apart.
fn quantity(protocol: &Protocol, field: &Field) -> Option<(String, Option<String>)> {
    if field.note.is_some() {
        return None;
    }
    let node = field.node.and_then(|id| protocol.program.node(id))?;
    let look = &node.look;
    let numeric = matches!(
        node.kind,
        Kind::Int { .. } | Kind::Column(_) | Kind::Float { .. }
    );
    if !numeric || look.values.is_some() || !look.flags.is_empty() || look.show != Show::Dec {
        return None;
    }
    // Scale, offset, decimals, unit and NMEA degrees are the core's (`--json`'s `scaled`).
    if let Some((number, unit)) = protocol.reading(field) {
        return Some((number.to_string(), unit));
    }
    let text = match &field.value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Float(x) => x.to_string(),
        FieldValue::Text(text) => {
            let text = text.trim();
            text.parse::<f64>().ok()?;
            text.to_owned()
        }
        _ => return None,
    };
    Some((text, look.unit.clone()))
}

/// A cell's text: a quantity's number, or the value as shown.
fn value_text(protocol: &Protocol, field: &Field) -> String {
    quantity(protocol, field).map_or_else(|| protocol.shown(field), |(n, _)| n)
}

impl FieldExport {
    /// Starts writing `path` with the fields of `chosen` (decoded with `protocol`) as columns;
    /// a relay's upstream rows are decoded with `replies` when given, and only the rows `show`
    /// holds for are written, when given.
    ///
    /// # Errors
    /// When the file cannot be written, or the chosen record has no fields.
    #[expect(clippy::too_many_arguments, reason = "what the export is made of")]
    pub fn start(
        path: PathBuf,
        protocol: Arc<Protocol>,
        replies: Option<Arc<Protocol>>,
        chosen: &Record<'_>,
        dir: Dir,
        log: &LogStore,
        filter: &RecordFilter,
        show: Option<(String, Expr)>,
    ) -> Result<Self, String> {
        let (show_text, show) = show.unzip();
        let protocol = match (&replies, chosen.relay) {
            (Some(r), Some(RelayWay::FromUpstream)) => Arc::clone(r),
            _ => protocol,
        };
        let decoded = protocol.decode_guess(chosen.bytes, dir);
        let fields = decoded.all();
        let leaves: Vec<(String, String)> = fields
            .iter()
            .filter(|(_, f)| f.children.is_empty())
            .map(|(p, f)| {
                let unit = quantity(&protocol, f).and_then(|(_, u)| u);
                let label = protocol.label(f);
                let head = match unit {
                    Some(unit) => format!("{label} ({p}) [{unit}]"),
                    None => format!("{label} ({p})"),
                };
                (p.clone(), head)
            })
            .collect();
        if leaves.is_empty() {
            return Err(super::i18n::t(super::i18n::S::FieldExportNoFields).to_owned());
        }
        let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(file);
        let mut head = String::from(UTF8_BOM);
        for (n, name) in [S::CsvTime, S::CsvDirection, S::CsvPeer]
            .into_iter()
            .enumerate()
        {
            if n > 0 {
                head.push(',');
            }
            cell(&mut head, t(name));
        }
        for (_, label) in &leaves {
            head.push(',');
            cell(&mut head, label);
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        let columns: Vec<String> = leaves.into_iter().map(|(p, _)| p).collect();
        let kind = columns
            .iter()
            .filter(|p| {
                !p.split('.')
                    .any(|part| part.bytes().all(|b| b.is_ascii_digit()))
            })
            .cloned()
            .collect();
        Ok(Self {
            path,
            out,
            protocol,
            replies,
            show,
            show_text,
            columns,
            kind,
            filter: filter.clone(),
            next: log.first_seq().unwrap_or(0),
            end: log.next_seq(),
            rows: 0,
            lost: 0,
        })
    }

    /// Writes the next slice; `Ok(true)` when every record there was when it began is done.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn step(
        &mut self,
        log: &LogStore,
        dir: impl Fn(&Record<'_>) -> Dir,
    ) -> Result<bool, String> {
        let deadline = Instant::now() + SLICE;
        // What the cap took before it was written is counted, and said.
        let first = log.first_seq().unwrap_or(self.end).min(self.end);
        if first > self.next {
            self.lost += first - self.next;
            self.next = first;
        }
        let mut line = String::new();
        let mut n = 0u32;
        for record in log.iter_from(self.next) {
            if record.seq >= self.end {
                break;
            }
            self.next = record.seq + 1;
            n += 1;
            let data = matches!(record.kind, RecordKind::Rx | RecordKind::Tx);
            // A relay's row decoded with the other protocol is not of this kind.
            let other = self.replies.as_ref().is_some_and(|r| {
                let upstream = record.relay == Some(RelayWay::FromUpstream);
                (r.name() == self.protocol.name()) != upstream
            });
            let shown = data
                && !other
                && self.filter.matches(&record)
                && self
                    .show
                    .as_ref()
                    .is_none_or(|show| self.protocol.holds(show, record.bytes, dir(&record)));
            if shown {
                let decoded = self.protocol.decode_guess(record.bytes, dir(&record));
                let all = decoded.all();
                let has = |path: &str| all.iter().any(|(p, _)| p == path);
                if self.kind.iter().all(|p| has(p)) {
                    line.clear();
                    line.push_str(&timestamp(record.at));
                    line.push(',');
                    line.push_str(t(if record.kind == RecordKind::Rx {
                        S::CsvRx
                    } else {
                        S::CsvTx
                    }));
                    line.push(',');
                    line.push_str(&record.peer.map(|p| p.to_string()).unwrap_or_default());
                    for path in &self.columns {
                        line.push(',');
                        let shown = all
                            .iter()
                            .find(|(p, _)| p == path)
                            .map(|(_, f)| value_text(&self.protocol, f))
                            .unwrap_or_default();
                        cell(&mut line, &shown);
                    }
                    line.push_str("\r\n");
                    self.out
                        .write_all(line.as_bytes())
                        .map_err(|e| e.to_string())?;
                    self.rows += 1;
                }
            }
            if n.is_multiple_of(64) && Instant::now() >= deadline {
                return Ok(false);
            }
        }
        self.out.flush().map_err(|e| e.to_string())?;
        Ok(true)
    }

    /// How far it is (0 to 1).
    pub fn progress(&self, log: &LogStore) -> f32 {
        let first = log.first_seq().unwrap_or(0).min(self.end);
        let total = self.end.saturating_sub(first).max(1);
        self.next.saturating_sub(first) as f32 / total as f32
    }
}
