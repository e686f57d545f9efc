//! Export by field: a CSV with a column per field of a chosen message (the selected one):
//! time, direction, peer, then each of its fields as shown (with scale and unit), one line per
//! message of the same kind among the rows shown (a message of another kind lacks some of its
//! fields and is left out). UTF-8 with a BOM, as the other CSV exports. Written a slice per
//! frame from the UI thread's copy of the log lock, so a long log never stalls the window.
//! No egui here.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::{LogStore, Record, RecordFilter, RecordKind, UTF8_BOM, timestamp};
use sockscope_core::protocol::{Dir, Protocol};

/// How long a frame may spend writing before it draws.
const SLICE: Duration = Duration::from_millis(8);

/// An export under way.
pub struct FieldExport {
    /// Where it goes.
    pub path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    protocol: Arc<Protocol>,
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

impl FieldExport {
    /// Starts writing `path` with the fields of `chosen` (decoded with `protocol`) as columns.
    ///
    /// # Errors
    /// When the file cannot be written, or the chosen record has no fields.
    pub fn start(
        path: PathBuf,
        protocol: Arc<Protocol>,
        chosen: &Record<'_>,
        dir: Dir,
        log: &LogStore,
        filter: &RecordFilter,
    ) -> Result<Self, String> {
        let decoded = protocol.decode(chosen.bytes, dir);
        let fields = decoded.all();
        let leaves: Vec<(String, String)> = fields
            .iter()
            .filter(|(_, f)| f.children.is_empty())
            .map(|(p, f)| (p.clone(), protocol.label(f)))
            .collect();
        if leaves.is_empty() {
            return Err(super::i18n::t(super::i18n::S::FieldExportNoFields).to_owned());
        }
        let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let mut out = std::io::BufWriter::new(file);
        let mut head = String::from(UTF8_BOM);
        head.push_str("time,direction,peer");
        for (path, label) in &leaves {
            head.push(',');
            cell(&mut head, &format!("{label} ({path})"));
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
            if data && self.filter.matches(&record) {
                let decoded = self.protocol.decode(record.bytes, dir(&record));
                let all = decoded.all();
                let has = |path: &str| all.iter().any(|(p, _)| p == path);
                if self.kind.iter().all(|p| has(p)) {
                    line.clear();
                    line.push_str(&timestamp(record.at));
                    line.push_str(if record.kind == RecordKind::Rx {
                        ",rx,"
                    } else {
                        ",tx,"
                    });
                    line.push_str(&record.peer.map(|p| p.to_string()).unwrap_or_default());
                    for path in &self.columns {
                        line.push(',');
                        let shown = all
                            .iter()
                            .find(|(p, _)| p == path)
                            .map(|(_, f)| self.protocol.shown(f))
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
