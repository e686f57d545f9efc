//! Framing (粘包/拆包): turning a byte stream into messages. The same framer gives the same
//! frames however the stream was chunked into reads — the property tests below hold it to that.

use std::fmt;
use std::ops::Range;

use crate::i18n::{S, t, tf};

use memchr::memmem;
use serde::{Deserialize, Serialize};

use super::cut::{Cut, FrameCut};
use super::length::LengthPrefix;

pub use super::cut::MAX_FRAME;

/// How a stream is split into messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Framing {
    /// One message per read (no framing).
    #[default]
    None,
    /// Messages end with a delimiter, e.g. `\r\n` or `7E`.
    Delimiter {
        /// The delimiter bytes (at least one).
        delimiter: Vec<u8>,
        /// Keep the delimiter at the end of each frame.
        keep: bool,
    },
    /// Text lines: each ends at CR, LF or CR LF (a terminal's Enter, whichever it sends); the
    /// line end is not kept and empty lines make no message.
    Lines,
    /// Every message has this many bytes.
    FixedLength(usize),
    /// A length field announces each message's payload.
    LengthPrefix {
        /// The length field.
        prefix: LengthPrefix,
        /// Bytes of header before the length field (kept in the frame).
        offset: usize,
    },
    /// A message ends when nothing arrives for this many milliseconds (timed by the I/O loop).
    IdleGap(u64),
    /// A protocol's own frame layer (start and end markers, a length in its header, lengths
    /// a checksum confirms), as its spec gives it.
    Protocol(Box<FrameCut>),
}

impl Framing {
    /// A short description for the UI and the log.
    pub fn describe(&self) -> String {
        match self {
            Framing::None => "none (one message per read)".into(),
            Framing::Delimiter { delimiter, keep } => {
                let kept = if *keep { "kept" } else { "stripped" };
                format!("delimiter {} ({kept})", super::hex::format(delimiter))
            }
            Framing::Lines => "lines (CR, LF or CR LF)".into(),
            Framing::FixedLength(n) => format!("fixed length {n}"),
            Framing::LengthPrefix { prefix, offset } => format!(
                "length prefix {} B {:?}{}{}",
                prefix.width,
                prefix.order,
                if prefix.includes_header {
                    ", counts header"
                } else {
                    ""
                },
                if *offset > 0 {
                    format!(", after {offset} header bytes")
                } else {
                    String::new()
                }
            ),
            Framing::IdleGap(ms) => format!("idle gap {ms} ms"),
            Framing::Protocol(cut) => match cut.as_ref() {
                FrameCut::Markers { start, end } => format!(
                    "protocol frames {} … {}",
                    super::hex::format(start),
                    super::hex::format(end)
                ),
                FrameCut::Length { .. } => "protocol frames (length in the header)".into(),
                FrameCut::Checked { .. } => {
                    "protocol frames (lengths the checksum confirms)".into()
                }
            },
        }
    }

    /// Why these settings cannot frame anything, if so.
    pub fn check(&self) -> Result<(), FramingError> {
        match self {
            Framing::Delimiter { delimiter, .. } if delimiter.is_empty() => {
                Err(FramingError::EmptyDelimiter)
            }
            Framing::FixedLength(0) | Framing::IdleGap(0) => Err(FramingError::ZeroLength),
            Framing::FixedLength(n) if *n > MAX_FRAME => Err(FramingError::TooLong(*n)),
            Framing::LengthPrefix { prefix, .. }
                if !LengthPrefix::WIDTHS.contains(&prefix.width) =>
            {
                Err(FramingError::BadWidth(prefix.width))
            }
            Framing::LengthPrefix { offset, .. } if *offset > MAX_FRAME => {
                Err(FramingError::TooLong(*offset))
            }
            Framing::Protocol(cut) => cut.check().map_err(FramingError::Protocol),
            _ => Ok(()),
        }
    }
}

/// Framing settings that cannot work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FramingError {
    /// A delimiter needs at least one byte.
    EmptyDelimiter,
    /// A length or gap of 0.
    ZeroLength,
    /// Longer than [`MAX_FRAME`].
    TooLong(usize),
    /// A length field of a width that does not exist.
    BadWidth(u8),
    /// A protocol's frame layer that cannot cut: why.
    Protocol(String),
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::EmptyDelimiter => f.write_str(t(S::ErrEmptyDelimiter)),
            FramingError::ZeroLength => f.write_str(t(S::ErrZeroLength)),
            FramingError::TooLong(n) => f.write_str(&tf(S::ErrFrameTooLong, &[n, &MAX_FRAME])),
            FramingError::BadWidth(w) => f.write_str(&tf(S::ErrWidth, &[w])),
            FramingError::Protocol(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for FramingError {}

/// Why a framing written on the command line (`--framing len:4le`) is not one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramingSpecError(pub String);

impl fmt::Display for FramingSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&tf(S::ErrFramingSpec, &[&self.0]))
    }
}

impl std::error::Error for FramingSpecError {}

impl std::str::FromStr for Framing {
    type Err = FramingSpecError;

    /// `none`, `lines` (CR, LF or CR LF), `crlf`, `lf`, `delim:TEXT` (escapes: `delim:\r\n`), `delim-hex:7E`, either with
    /// `+keep`; `fixed:N`; `len:W{be|le}[+hdr][@OFFSET]` (`len:4le`, `len:2be+hdr@1`);
    /// `idle:MS` (`idle:50`, `idle:50ms`).
    fn from_str(spec: &str) -> Result<Framing, FramingSpecError> {
        let bad = || FramingSpecError(spec.to_owned());
        let spec_trimmed = spec.trim();
        let (kind, arg) = spec_trimmed.split_once(':').unwrap_or((spec_trimmed, ""));
        let lower = kind.to_ascii_lowercase();
        let framing = match lower.as_str() {
            "none" if arg.is_empty() => Framing::None,
            "lines" if arg.is_empty() => Framing::Lines,
            "crlf" | "lf" | "crlf+keep" | "lf+keep" if arg.is_empty() => {
                let keep = lower.ends_with("+keep");
                let delimiter = if lower.starts_with("crlf") {
                    b"\r\n".to_vec()
                } else {
                    b"\n".to_vec()
                };
                Framing::Delimiter { delimiter, keep }
            }
            "delim" | "delim-hex" => {
                let (text, keep) = match arg.strip_suffix("+keep") {
                    Some(text) => (text, true),
                    None => (arg, false),
                };
                let delimiter = if kind.eq_ignore_ascii_case("delim-hex") {
                    super::hex::parse(text).map_err(|_| bad())?
                } else {
                    super::escape::parse(text, super::TextEncoding::UTF_8).map_err(|_| bad())?
                };
                Framing::Delimiter { delimiter, keep }
            }
            "fixed" => Framing::FixedLength(arg.parse().map_err(|_| bad())?),
            "idle" => {
                let ms = arg.strip_suffix("ms").unwrap_or(arg);
                Framing::IdleGap(ms.parse().map_err(|_| bad())?)
            }
            "len" => {
                let (body, offset) = match arg.split_once('@') {
                    Some((body, offset)) => (body, offset.parse().map_err(|_| bad())?),
                    None => (arg, 0),
                };
                let (body, includes_header) = match body.strip_suffix("+hdr") {
                    Some(body) => (body, true),
                    None => (body, false),
                };
                let lower = body.to_ascii_lowercase();
                let (width, order) = if let Some(w) = lower.strip_suffix("be") {
                    (w, super::checksum::ByteOrder::Big)
                } else if let Some(w) = lower.strip_suffix("le") {
                    (w, super::checksum::ByteOrder::Little)
                } else {
                    (lower.as_str(), super::checksum::ByteOrder::Big)
                };
                let width: u8 = width.parse().map_err(|_| bad())?;
                let prefix = LengthPrefix {
                    width,
                    order,
                    includes_header,
                };
                Framing::LengthPrefix { prefix, offset }
            }
            _ => return Err(bad()),
        };
        framing.check().map_err(|_| bad())?;
        Ok(framing)
    }
}

/// One message out of a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Not a whole message: cut at [`MAX_FRAME`], a bad length field, or what was left when the
    /// stream ended.
    pub partial: bool,
}

impl Frame {
    fn whole(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            partial: false,
        }
    }
}

/// At most this many bytes of a read are copied to finish the frame held from reads before,
/// so that the frames after it can be cut in place (a longer frame: the read is copied).
pub const STRADDLE: usize = 4 << 10;

/// What [`Framer::cut_read`] made of a read, in stream order: the frames copied first, then
/// those cut in place.
#[derive(Debug, Default)]
pub struct ReadCut {
    /// Whole frames copied out (the one held from reads before, finished by this read, and
    /// with `in_place` none, all of them), back to back.
    pub copied: Vec<u8>,
    /// Their lengths.
    pub copied_lens: Vec<usize>,
    /// Partial frames, each with the number of copied whole frames before it.
    pub partials: Vec<(usize, Frame)>,
    /// The read, exactly as it came; with `in_place`, in the buffer it came in.
    pub read: Vec<u8>,
    /// Whole frames lie back to back in `read` from this offset, with the lengths `lens`
    /// (bytes before it ended the copied frames; bytes after them start a frame the framer
    /// now holds).
    pub in_place: Option<usize>,
    /// The lengths of the frames cut in place.
    pub lens: Vec<usize>,
}

/// Splits one stream into frames. Feed it reads with [`Framer::push`]; at the end (or after an
/// idle gap) take what is left with [`Framer::flush`].
#[derive(Clone, Debug)]
pub struct Framer {
    framing: Framing,
    buf: Vec<u8>,
    /// Bytes of `buf` before this were handed out already (compacted now and then, so taking
    /// many small frames from one large read costs no copying of the rest).
    start: usize,
    /// Delimiter search resumes here (bytes before it hold no delimiter start).
    scanned: usize,
    /// The delimiter's searcher (SIMD; a byte-by-byte window compare capped CRLF framing at a
    /// few hundred MB/s).
    finder: Option<memmem::Finder<'static>>,
    /// [`STRADDLE`] (smaller in tests, so short streams take every path).
    straddle: usize,
}

impl Framer {
    /// A framer for `framing` (checked with [`Framing::check`] first; bad settings frame as `None`).
    pub fn new(framing: Framing) -> Self {
        let framing = if framing.check().is_ok() {
            framing
        } else {
            Framing::None
        };
        let finder = match &framing {
            Framing::Delimiter { delimiter, .. } => {
                Some(memmem::Finder::new(delimiter.as_slice()).into_owned())
            }
            _ => None,
        };
        Self {
            framing,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            finder,
            straddle: STRADDLE,
        }
    }

    /// The framing in use.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Bytes held for an unfinished frame.
    pub fn pending(&self) -> usize {
        self.held().len()
    }

    fn held(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// Feeds one read; returns the frames it completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        if let Framing::None = self.framing {
            return if bytes.is_empty() {
                Vec::new()
            } else {
                vec![Frame::whole(bytes.to_vec())]
            };
        }
        let spans = self.spans(bytes);
        spans
            .into_iter()
            .map(|span| Frame {
                bytes: self.buf.get(span.range).unwrap_or_default().to_vec(),
                partial: span.partial,
            })
            .collect()
    }

    /// Feeds one read; appends the whole frames it completed to `out` back to back with their
    /// lengths in `lens` (no allocation per frame), and returns the partial ones, each with
    /// the number of whole frames in `lens` before it (so the order can be kept).
    pub fn push_into(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        lens: &mut Vec<usize>,
    ) -> Vec<(usize, Frame)> {
        if let Framing::None = self.framing {
            if !bytes.is_empty() {
                out.extend_from_slice(bytes);
                lens.push(bytes.len());
            }
            return Vec::new();
        }
        // The read is copied once, into the buffer the frames leave in: what was held and the
        // read become `buf`; when the whole frames lie back to back from its start (the usual
        // case), they leave in it as they are and only what is held for the next read is
        // copied back. (Copying the read into `buf` and the frames out of it again was a fifth
        // of the I/O thread's time at framed ingest.)
        // Only while what is held is no larger than the read: a large frame growing over many
        // reads is appended to, never copied again each time.
        let spans = if out.is_empty() && self.pending() <= bytes.len() {
            out.reserve(self.pending() + bytes.len());
            out.extend_from_slice(self.held());
            out.extend_from_slice(bytes);
            let own = std::mem::replace(&mut self.buf, std::mem::take(out));
            self.start = 0;
            let spans = self.spans(&[]);
            let end = spans.last().map_or(0, |s| s.range.end);
            // No frame: everything stays in `buf` as it is (no copy back).
            let back_to_back = !spans.is_empty()
                && spans.iter().try_fold(0, |at, s| {
                    (!s.partial && s.range.start == at).then_some(s.range.end)
                }) == Some(end);
            let mut own = own;
            own.clear();
            if back_to_back {
                own.extend_from_slice(self.held());
                let mut frames = std::mem::replace(&mut self.buf, own);
                self.start = 0;
                frames.truncate(end);
                *out = frames;
                lens.extend(spans.iter().map(|s| s.range.len()));
                return Vec::new();
            }
            *out = own;
            spans
        } else {
            self.spans(bytes)
        };
        self.copy_out(spans, out, lens)
    }

    /// Feeds one read, cutting its frames in place where it can: the frame held from reads
    /// before is finished from the read's first bytes (copied, at most [`STRADDLE`] of them);
    /// when the whole frames after it lie back to back in the read (the usual case for a
    /// stream of frames), they are cut without a copy — the read's buffer becomes theirs
    /// ([`ReadCut::in_place`]) and only its end, the start of the next frame, is copied into
    /// the framer. Otherwise its frames are copied out as [`push_into`](Self::push_into) does.
    /// `take(n)` gives an empty buffer with room for `n` bytes (a pooled one).
    pub fn cut_read(&mut self, read: Vec<u8>, mut take: impl FnMut(usize) -> Vec<u8>) -> ReadCut {
        let mut cut = ReadCut {
            copied: Vec::new(),
            copied_lens: Vec::new(),
            partials: Vec::new(),
            read: Vec::new(),
            in_place: None,
            lens: Vec::new(),
        };
        if matches!(self.framing, Framing::None)
            || read.is_empty()
            || self.pending() > self.straddle
        {
            cut.copied = take(read.len());
            cut.partials = self.push_into(&read, &mut cut.copied, &mut cut.copied_lens);
            cut.read = read;
            return cut;
        }
        let mut from = 0;
        if self.pending() > 0 {
            let k = read.len().min(self.straddle);
            let (head, rest) = read.split_at(k);
            let before = (self.held().to_vec(), self.scanned);
            cut.copied = take(self.pending() + k);
            cut.partials = self.push_into(head, &mut cut.copied, &mut cut.copied_lens);
            if !cut.partials.is_empty() {
                // Junk among them: the read is framed again from what was held, whole, so
                // the junk is one piece as in a read copied whole (not cut at `k`).
                (self.buf, self.start, self.scanned) = (before.0, 0, before.1);
                cut.copied.clear();
                cut.copied_lens.clear();
                cut.partials = self.push_into(&read, &mut cut.copied, &mut cut.copied_lens);
                cut.read = read;
                return cut;
            }
            if self.pending() > k || rest.is_empty() {
                // The frame held goes on past those bytes (or the read ends there): the rest
                // is copied after them.
                let more = self.push_into(rest, &mut cut.copied, &mut cut.copied_lens);
                cut.partials.extend(more);
                cut.read = read;
                return cut;
            }
            from = k - self.pending();
        }
        // The read is the framer's buffer now: from `from` on, it is what the framer holds
        // (the start of the read's bytes past the frames finished above) and the rest.
        let mut own = std::mem::replace(&mut self.buf, read);
        self.start = from;
        let spans = self.spans(&[]);
        let end = spans.last().map_or(from, |s| s.range.end);
        // Back to back, and nothing left out between them (a line end not kept) or after.
        let back_to_back = !spans.is_empty()
            && end == self.start
            && spans.iter().try_fold(from, |at, s| {
                (!s.partial && s.range.start == at).then_some(s.range.end)
            }) == Some(end);
        if back_to_back {
            own.clear();
            own.extend_from_slice(self.held());
            cut.read = std::mem::replace(&mut self.buf, own);
            self.start = 0;
            cut.lens = spans.iter().map(|s| s.range.len()).collect();
            cut.in_place = Some(from);
            return cut;
        }
        // Junk, a frame cut short, or no frame: the read is given as it came (a copy) and
        // the frames are copied out of it; the framer holds the rest in the read's buffer.
        let more = self.copy_out(spans, &mut cut.copied, &mut cut.copied_lens);
        cut.partials.extend(more);
        cut.read = take(self.buf.len());
        cut.read.extend_from_slice(&self.buf);
        cut
    }

    /// Copies the frames at `spans` of `buf` out: whole ones to `out` with their lengths in
    /// `lens`; returns the partial ones, each with the number of whole frames before it.
    fn copy_out(
        &self,
        spans: Vec<Span>,
        out: &mut Vec<u8>,
        lens: &mut Vec<usize>,
    ) -> Vec<(usize, Frame)> {
        let mut partials = Vec::new();
        // Whole frames that lie back to back in `buf` are copied out in one go (a read of
        // short lines is thousands of frames).
        let mut run = 0..0;
        for span in spans {
            if span.partial {
                out.extend_from_slice(self.buf.get(run.clone()).unwrap_or_default());
                run = span.range.end..span.range.end;
                let frame = Frame {
                    bytes: self.buf.get(span.range).unwrap_or_default().to_vec(),
                    partial: true,
                };
                partials.push((lens.len(), frame));
            } else {
                if span.range.start != run.end {
                    out.extend_from_slice(self.buf.get(run).unwrap_or_default());
                    run = span.range.start..span.range.start;
                }
                run.end = span.range.end;
                lens.push(span.range.len());
            }
        }
        out.extend_from_slice(self.buf.get(run).unwrap_or_default());
        partials
    }

    /// Appends `bytes` and finds the frames now complete, as ranges of `buf` (valid until the
    /// next push, which compacts `buf` first).
    fn spans(&mut self, bytes: &[u8]) -> Vec<Span> {
        // Compacted before more bytes are added (not when `buf` is a read being cut in place).
        if self.start > 0 && !bytes.is_empty() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
        // Out of `self` while splitting, so the delimiter is borrowed, not cloned per frame.
        let framing = std::mem::replace(&mut self.framing, Framing::None);
        let mut spans = Vec::new();
        loop {
            let next = match &framing {
                Framing::None | Framing::IdleGap(_) => None,
                Framing::Delimiter { delimiter, keep } => {
                    self.split_delimiter(delimiter.len(), *keep)
                }
                Framing::Lines => self.split_line(),
                Framing::FixedLength(n) => self.take(*n).map(Span::whole),
                Framing::LengthPrefix { prefix, offset } => self.split_length(*prefix, *offset),
                Framing::Protocol(cut) => self.split_cut(cut),
            };
            match next {
                Some(span) => spans.push(span),
                None => break,
            }
        }
        // Whatever the framing, never hold more than MAX_FRAME: cut it as a partial frame.
        while self.pending() >= MAX_FRAME && !matches!(framing, Framing::LengthPrefix { .. }) {
            if let Some(range) = self.take(MAX_FRAME) {
                spans.push(Span {
                    range,
                    partial: true,
                });
            }
        }
        self.framing = framing;
        // A frame cut short (it begins with the frame layer's start marker) stays apart.
        let start: &[u8] = match &self.framing {
            Framing::Protocol(cut) => cut.start_marker(),
            _ => &[],
        };
        merge_partials(spans, |span| {
            !start.is_empty()
                && self
                    .buf
                    .get(span.range.clone())
                    .is_some_and(|b| b.starts_with(start))
        })
    }

    /// What is held, as a frame: the end of an idle gap (a whole frame) or of the stream
    /// (`partial` unless the framing is an idle gap).
    pub fn flush(&mut self) -> Option<Frame> {
        if self.pending() == 0 {
            return None;
        }
        let bytes = self.held().to_vec();
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        let partial = !matches!(self.framing, Framing::IdleGap(_));
        Some(Frame { bytes, partial })
    }

    /// The next `n` held bytes, as a range of `buf`, handed out.
    fn take(&mut self, n: usize) -> Option<Range<usize>> {
        if self.pending() < n {
            return None;
        }
        let range = self.start..self.start + n;
        self.start += n;
        self.scanned = 0;
        Some(range)
    }

    fn split_delimiter(&mut self, delimiter_len: usize, keep: bool) -> Option<Span> {
        let from = self.scanned;
        let found = self
            .finder
            .as_ref()
            .and_then(|finder| finder.find(self.held().get(from..)?))
            .map(|at| at + from);
        match found {
            Some(at) => {
                let mut range = self.take(at + delimiter_len)?;
                if !keep {
                    range.end -= delimiter_len;
                }
                Some(Span::whole(range))
            }
            None => {
                // A delimiter may start in the last len-1 bytes: search from there next time.
                self.scanned = self.pending().saturating_sub(delimiter_len - 1);
                None
            }
        }
    }

    /// The next line, without its end. A CR ends a line at once (a terminal that sends CR
    /// alone waits for no more); the LF of a CR LF then ends an empty line, and empty lines
    /// are skipped — so a CR LF split across two reads frames as one in a read.
    fn split_line(&mut self) -> Option<Span> {
        loop {
            let from = self.scanned;
            let found = self
                .held()
                .get(from..)
                .and_then(|rest| memchr::memchr2(b'\r', b'\n', rest))
                .map(|at| at + from);
            let Some(at) = found else {
                self.scanned = self.pending();
                return None;
            };
            let line = self.take(at)?;
            // The line end itself.
            self.start += 1;
            if !line.is_empty() {
                return Some(Span::whole(line));
            }
        }
    }

    /// The next frame a protocol's frame layer finds; bytes that are not one are handed over
    /// as a partial frame, so none is lost.
    fn split_cut(&mut self, cut: &FrameCut) -> Option<Span> {
        match cut.cut(self.held()) {
            Cut::More => None,
            Cut::Frame(n) => self.take(n).map(Span::whole),
            Cut::Junk(n) => self.take(n).map(|range| Span {
                range,
                partial: true,
            }),
        }
    }

    fn split_length(&mut self, prefix: LengthPrefix, offset: usize) -> Option<Span> {
        let head = offset + usize::from(prefix.width);
        if self.pending() < head {
            return None;
        }
        // `None` here means a length smaller than the header it says it counts.
        let payload = self
            .held()
            .get(offset..)
            .and_then(|header| prefix.payload_len(header));
        let total = payload
            .and_then(|p| usize::try_from(p).ok())
            .and_then(|p| p.checked_add(head));
        match total {
            Some(total) if total <= MAX_FRAME => self.take(total).map(Span::whole),
            // An impossible length: the stream is not what the settings say. Hand the header
            // over as a partial frame and look for the next one right after it.
            _ => self.take(head).map(|range| Span {
                range,
                partial: true,
            }),
        }
    }
}

/// Bytes that are not a frame, one after the other in a read (a DTU's registration before
/// Modbus TCP frames, which the frame layer refuses a byte at a time), go out as one partial
/// frame, not one per byte.
fn merge_partials(spans: Vec<Span>, cut_short: impl Fn(&Span) -> bool) -> Vec<Span> {
    if spans.iter().filter(|s| s.partial).nth(1).is_none() {
        return spans;
    }
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    let mut last_cut_short = false;
    for span in spans {
        let short = span.partial && cut_short(&span);
        let joined = last_cut_short || short;
        last_cut_short = short;
        match out.last_mut() {
            Some(last)
                if last.partial
                    && span.partial
                    && !joined
                    && last.range.end == span.range.start
                    && span.range.end - last.range.start <= MAX_FRAME =>
            {
                last.range.end = span.range.end;
            }
            _ => out.push(span),
        }
    }
    out
}

/// A frame found in the framer's buffer, not yet copied out.
struct Span {
    range: Range<usize>,
    partial: bool,
}

impl Span {
    fn whole(range: Range<usize>) -> Self {
        Self {
            range,
            partial: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::ByteOrder;
    use crate::codec::test_util::chunked;
    use proptest::prelude::*;

    fn frames(framing: &Framing, chunks: &[&[u8]]) -> Vec<Frame> {
        let mut framer = Framer::new(framing.clone());
        let mut out: Vec<Frame> = chunks.iter().flat_map(|c| framer.push(c)).collect();
        out.extend(framer.flush());
        out
    }

    /// Frames with each run of partial ones joined.
    fn junk_runs(frames: Vec<Frame>) -> Vec<Frame> {
        let mut out: Vec<Frame> = Vec::new();
        for frame in frames {
            match out.last_mut() {
                Some(last) if last.partial && frame.partial => {
                    last.bytes.extend_from_slice(&frame.bytes);
                }
                _ => out.push(frame),
            }
        }
        out
    }

    fn bytes_of(frames: &[Frame]) -> Vec<&[u8]> {
        frames.iter().map(|f| f.bytes.as_slice()).collect()
    }

    #[test]
    fn bytes_before_a_modbus_tcp_frame_are_one_piece_not_one_per_byte() {
        let framing = crate::protocol::builtin("modbus-tcp")
            .and_then(|p| p.framing())
            .unwrap();
        let frame = crate::codec::hex::parse("00 01 00 00 00 06 01 03 00 00 00 01").unwrap();
        let mut read = b"REG:12345".to_vec();
        read.extend_from_slice(&frame);
        let out = frames(&framing, &[&read]);
        assert_eq!(bytes_of(&out), [b"REG:12345".as_slice(), &frame]);
        assert!(out[0].partial && !out[1].partial);
    }

    #[test]
    fn delimiter_split_across_reads_is_found() {
        let framing = Framing::Delimiter {
            delimiter: b"\r\n".to_vec(),
            keep: false,
        };
        let out = frames(&framing, &[b"AT\r", b"\nOK\r\n", b"tail"]);
        assert_eq!(bytes_of(&out), [b"AT".as_slice(), b"OK", b"tail"]);
        assert!(out[2].partial, "what is left at the end is marked");
    }

    #[test]
    fn length_prefix_after_a_header_offset() {
        // 7E | len 2 (BE) | payload
        let prefix = LengthPrefix {
            width: 2,
            order: ByteOrder::Big,
            includes_header: false,
        };
        let framing = Framing::LengthPrefix { prefix, offset: 1 };
        let out = frames(
            &framing,
            &[&[0x7E, 0x00, 0x02, b'h'], &[b'i', 0x7E, 0x00, 0x00]],
        );
        assert_eq!(
            bytes_of(&out),
            [
                [0x7E, 0x00, 0x02, b'h', b'i'].as_slice(),
                &[0x7E, 0x00, 0x00]
            ]
        );
    }

    #[test]
    fn an_impossible_length_is_marked_and_skipped() {
        let prefix = LengthPrefix {
            width: 4,
            order: ByteOrder::Big,
            includes_header: false,
        };
        let framing = Framing::LengthPrefix { prefix, offset: 0 };
        let out = frames(&framing, &[&[0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, b'x']]);
        assert_eq!(
            out[0],
            Frame {
                bytes: vec![0xFF; 4],
                partial: true
            }
        );
        assert_eq!(
            out[1],
            Frame {
                bytes: vec![0, 0, 0, 1, b'x'],
                partial: false
            }
        );
    }

    #[test]
    fn command_line_framings_read_as_written() {
        use crate::codec::checksum::ByteOrder::{Big, Little};
        let len = |width, order, includes_header, offset| Framing::LengthPrefix {
            prefix: LengthPrefix {
                width,
                order,
                includes_header,
            },
            offset,
        };
        let cases = [
            ("none", Framing::None),
            (
                "crlf",
                Framing::Delimiter {
                    delimiter: b"\r\n".to_vec(),
                    keep: false,
                },
            ),
            (
                "lf+keep",
                Framing::Delimiter {
                    delimiter: b"\n".to_vec(),
                    keep: true,
                },
            ),
            (
                "delim:\\r\\n",
                Framing::Delimiter {
                    delimiter: b"\r\n".to_vec(),
                    keep: false,
                },
            ),
            (
                "delim-hex:7E+keep",
                Framing::Delimiter {
                    delimiter: vec![0x7E],
                    keep: true,
                },
            ),
            ("fixed:8", Framing::FixedLength(8)),
            ("idle:50ms", Framing::IdleGap(50)),
            ("len:4le", len(4, Little, false, 0)),
            ("len:2be+hdr@1", len(2, Big, true, 1)),
            ("LEN:1", len(1, Big, false, 0)),
        ];
        for (spec, want) in cases {
            assert_eq!(spec.parse::<Framing>(), Ok(want), "{spec}");
        }
        for bad in [
            "",
            "len:3le",
            "fixed:0",
            "delim:",
            "delim-hex:7G",
            "idle:x",
            "lines:1",
            "none:1",
        ] {
            let e = bad.parse::<Framing>().unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let empty = Framing::Delimiter {
            delimiter: vec![],
            keep: true,
        };
        assert_eq!(empty.check(), Err(FramingError::EmptyDelimiter));
        assert_eq!(
            Framing::FixedLength(0).check(),
            Err(FramingError::ZeroLength)
        );
    }

    /// Scenario files: chunks in, frames out, for the tricky cases (tests/data/framing/*.txt).
    #[test]
    fn scenario_files_give_their_frames() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/framing");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let scenario =
                Scenario::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let chunks: Vec<&[u8]> = scenario.chunks.iter().map(Vec::as_slice).collect();
            let got = frames(&scenario.framing, &chunks);
            assert_eq!(got, scenario.frames, "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 5, "scenario files found: {seen}");
    }

    struct Scenario {
        framing: Framing,
        chunks: Vec<Vec<u8>>,
        frames: Vec<Frame>,
    }

    impl Scenario {
        /// `framing: <RON>` then lines `in: <hex>` and `out: <hex>` or `partial: <hex>`; `#` comments.
        fn parse(text: &str) -> Result<Scenario, String> {
            let (mut framing, mut chunks, mut frames) = (None, Vec::new(), Vec::new());
            for line in text
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                let (key, value) = line.split_once(':').ok_or(format!("no ':' in {line:?}"))?;
                let hex = || crate::codec::hex::parse(value).map_err(|e| e.to_string());
                match key.trim() {
                    "framing" => {
                        framing = Some(ron::from_str(value.trim()).map_err(|e| e.to_string())?);
                    }
                    "in" => chunks.push(hex()?),
                    "out" => frames.push(Frame {
                        bytes: hex()?,
                        partial: false,
                    }),
                    "partial" => frames.push(Frame {
                        bytes: hex()?,
                        partial: true,
                    }),
                    other => return Err(format!("unknown key {other:?}")),
                }
            }
            Ok(Scenario {
                framing: framing.ok_or("no framing line")?,
                chunks,
                frames,
            })
        }
    }

    fn protocol_cuts() -> Vec<Framing> {
        use crate::codec::checksum::{Checksum, ChecksumKind};
        use crate::codec::cut::{Expect, HexBytes, LenField, LenRule, Within};
        let u8_at = |at, add| LenRule::Field {
            at,
            field: LenField::Uint {
                width: 1,
                order: ByteOrder::Big,
            },
            add,
        };
        [
            FrameCut::Markers {
                start: HexBytes(vec![0x7E]),
                end: HexBytes(vec![0x7E]),
            },
            FrameCut::Markers {
                start: HexBytes(b"##".to_vec()),
                end: HexBytes(b"\r\n".to_vec()),
            },
            FrameCut::Length {
                start: HexBytes(vec![0x68]),
                wake: Some(0xFE),
                expect: vec![Expect {
                    at: 2,
                    bytes: HexBytes(vec![0x68]),
                }],
                rule: u8_at(1, 4),
            },
            FrameCut::Length {
                start: HexBytes(vec![]),
                wake: None,
                expect: vec![],
                rule: LenRule::Field {
                    at: 1,
                    field: LenField::Decimal { digits: 1 },
                    add: 2,
                },
            },
            FrameCut::Checked {
                rules: vec![LenRule::Fixed(4), u8_at(1, 3)],
                check: Checksum::new(ChecksumKind::Sum8),
                resync: false,
            },
            // Rules with tests tried first, as Modbus RTU's (whose resynchronising after junk
            // may cut junk by how it was read, so is not set here).
            FrameCut::Checked {
                rules: vec![
                    LenRule::When {
                        rule: Box::new(LenRule::Fixed(4)),
                        tests: vec![Within {
                            at: 1,
                            field: LenField::Uint {
                                width: 1,
                                order: ByteOrder::Big,
                            },
                            min: 0,
                            max: 0x7F,
                        }],
                    },
                    LenRule::When {
                        rule: Box::new(u8_at(1, 3)),
                        tests: vec![Within {
                            at: 1,
                            field: LenField::Decimal { digits: 1 },
                            min: 0,
                            max: 5,
                        }],
                    },
                    LenRule::Fixed(4),
                    u8_at(1, 3),
                ],
                check: Checksum::new(ChecksumKind::Sum8),
                resync: false,
            },
            FrameCut::Length {
                start: HexBytes(vec![0x68]),
                wake: None,
                expect: vec![],
                rule: LenRule::When {
                    rule: Box::new(u8_at(1, 3)),
                    tests: vec![Within {
                        at: 2,
                        field: LenField::Uint {
                            width: 1,
                            order: ByteOrder::Big,
                        },
                        min: 0x10,
                        max: 0xEF,
                    }],
                },
            },
        ]
        .into_iter()
        .map(|cut| Framing::Protocol(Box::new(cut)))
        .collect()
    }

    fn any_framing() -> impl Strategy<Value = Framing> {
        prop_oneof![
            prop::sample::select(protocol_cuts()),
            Just(Framing::None),
            Just(Framing::Lines),
            (proptest::collection::vec(any::<u8>(), 1..4), any::<bool>())
                .prop_map(|(delimiter, keep)| Framing::Delimiter { delimiter, keep }),
            (1usize..20).prop_map(Framing::FixedLength),
            (
                prop::sample::select(LengthPrefix::WIDTHS.to_vec()),
                any::<bool>(),
                any::<bool>(),
                0usize..3
            )
                .prop_map(|(width, little, includes_header, offset)| {
                    let order = if little {
                        ByteOrder::Little
                    } else {
                        ByteOrder::Big
                    };
                    Framing::LengthPrefix {
                        prefix: LengthPrefix {
                            width,
                            order,
                            includes_header,
                        },
                        offset,
                    }
                }),
        ]
    }

    #[test]
    fn lines_end_at_cr_lf_or_crlf_however_the_reads_fall() {
        let want: Vec<&[u8]> = vec![b"AT", b"AT+CGMI", b"ATI", b"OK"];
        let stream = b"AT\nAT+CGMI\r\nATI\rOK\r\n";
        assert_eq!(bytes_of(&frames(&Framing::Lines, &[stream])), want);
        // The CR LF split between two reads, and a terminal that sends LF alone.
        let split = frames(&Framing::Lines, &[b"AT\nAT+CGMI\r", b"\nATI\rOK\r", b"\n"]);
        assert_eq!(bytes_of(&split), want);
        // A line cut by the end of the stream is partial.
        let cut = frames(&Framing::Lines, &[b"AT\nAT+CG"]);
        assert_eq!(
            cut.last().map(|f| (f.bytes.as_slice(), f.partial)),
            Some((&b"AT+CG"[..], true))
        );
        assert_eq!("lines".parse::<Framing>(), Ok(Framing::Lines));
    }

    proptest! {
        #[test]
        fn any_command_line_framing_parses_or_is_refused_without_panic(spec in ".{0,24}") {
            let _ = spec.parse::<Framing>();
        }

        #[test]
        fn push_into_gives_what_push_gives(
            framing in any_framing(),
            stream in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..12),
        ) {
            let chunks = chunked(&stream, cuts);
            let mut one = Framer::new(framing.clone());
            let mut other = Framer::new(framing);
            for chunk in &chunks {
                let expected = one.push(chunk);
                let (mut out, mut lens) = (Vec::new(), Vec::new());
                let mut partials = other.push_into(chunk, &mut out, &mut lens).into_iter().peekable();
                let mut rest = out.as_slice();
                let mut got = Vec::new();
                for (n, len) in lens.iter().enumerate() {
                    while let Some((_, partial)) = partials.next_if(|(at, _)| *at == n) {
                        got.push(partial);
                    }
                    let (frame, after) = rest.split_at(*len);
                    got.push(Frame { bytes: frame.to_vec(), partial: false });
                    rest = after;
                }
                got.extend(partials.map(|(_, p)| p));
                prop_assert!(rest.is_empty());
                prop_assert_eq!(got, expected);
            }
            prop_assert_eq!(one.flush(), other.flush());
        }
    }

    proptest! {
        /// A read cut in place gives the frames `push` gives, and the read as it came.
        #[test]
        fn cut_read_gives_what_push_gives(
            framing in any_framing(),
            stream in prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                proptest::collection::vec(
                    prop::sample::select(vec![0x7E, 0x7D, 0x01, 0x02, 0x0D, 0x0A, 0x00, 0x05]),
                    0..300,
                ),
            ],
            cuts in proptest::collection::vec(0usize..300, 0..12),
            straddle in 1usize..40,
        ) {
            let chunks = chunked(&stream, cuts);
            let mut one = Framer::new(framing.clone());
            let mut other = Framer::new(framing);
            other.straddle = straddle;
            for chunk in &chunks {
                let expected = one.push(chunk);
                let cut = other.cut_read(chunk.to_vec(), Vec::with_capacity);
                prop_assert_eq!(cut.read.as_slice(), *chunk);
                let mut got = Vec::new();
                let mut partials = cut.partials.into_iter().peekable();
                let mut rest = cut.copied.as_slice();
                for (n, len) in cut.copied_lens.iter().enumerate() {
                    while let Some((_, partial)) = partials.next_if(|(at, _)| *at == n) {
                        got.push(partial);
                    }
                    let (frame, after) = rest.split_at(*len);
                    got.push(Frame { bytes: frame.to_vec(), partial: false });
                    rest = after;
                }
                got.extend(partials.map(|(_, p)| p));
                prop_assert!(rest.is_empty());
                match cut.in_place {
                    Some(from) => {
                        let mut rest = &cut.read[from..];
                        for len in &cut.lens {
                            let (frame, after) = rest.split_at(*len);
                            got.push(Frame { bytes: frame.to_vec(), partial: false });
                            rest = after;
                        }
                        prop_assert_eq!(rest.len(), other.pending());
                    }
                    None => prop_assert!(cut.lens.is_empty()),
                }
                prop_assert_eq!(got, expected);
                prop_assert_eq!(one.pending(), other.pending());
            }
            prop_assert_eq!(one.flush(), other.flush());
        }
    }

    #[test]
    fn a_read_of_whole_frames_and_the_start_of_one_is_cut_in_place() {
        let mut framer = Framer::new(Framing::FixedLength(4));
        let cut = framer.cut_read(b"abcdefghij".to_vec(), Vec::with_capacity);
        assert_eq!(cut.read, b"abcdefghij");
        assert_eq!((cut.in_place, cut.lens.as_slice()), (Some(0), &[4, 4][..]));
        assert!(cut.copied_lens.is_empty());
        assert_eq!(framer.pending(), 2);
        // The frame held is finished from the next read's first bytes, copied (those up to
        // STRADDLE); the frames after them are cut in place.
        let read: Vec<u8> = (0..STRADDLE + 11).map(|i| i as u8).collect();
        let cut = framer.cut_read(read.clone(), Vec::with_capacity);
        assert_eq!(cut.read, read);
        assert_eq!(&cut.copied[..4], b"ij\x00\x01");
        assert_eq!(cut.copied_lens.len(), (2 + STRADDLE) / 4);
        // 2 + 4096 bytes copied make 1024 frames and hold 2; those and the 11 after: 3 more.
        assert_eq!(
            (cut.in_place, cut.lens.as_slice()),
            (Some(STRADDLE - 2), &[4, 4, 4][..])
        );
        assert_eq!(framer.pending(), 1);
        // A short read is copied whole.
        let cut = framer.cut_read(b"abc".to_vec(), Vec::with_capacity);
        assert_eq!((cut.in_place, cut.copied_lens.as_slice()), (None, &[4][..]));
        // Lines leave their line ends out: not back to back in the read, copied.
        let mut framer = Framer::new(Framing::Lines);
        let cut = framer.cut_read(b"one\ntwo\n".to_vec(), Vec::with_capacity);
        assert_eq!(
            (cut.in_place, cut.copied.as_slice()),
            (None, &b"onetwo"[..])
        );
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_frames(
            framing in any_framing().prop_filter("None frames per read", |f| *f != Framing::None),
            stream in proptest::collection::vec(any::<u8>(), 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..12),
        ) {
            // Bytes that are not a frame go out as one piece per read: compared as runs.
            let whole = junk_runs(frames(&framing, &[&stream]));
            let pieces = junk_runs(frames(&framing, &chunked(&stream, cuts)));
            prop_assert_eq!(&pieces, &whole);
            // Nothing is lost or invented (except delimiters that were stripped).
            let total: usize = whole.iter().map(|f| f.bytes.len()).sum();
            if !matches!(framing, Framing::Delimiter { keep: false, .. } | Framing::Lines) {
                prop_assert_eq!(total, stream.len());
            }
            if framing == Framing::Lines {
                // Every byte but the line ends is in a line; no line holds a line end.
                let ends = stream.iter().filter(|b| matches!(b, b'\r' | b'\n')).count();
                prop_assert_eq!(total, stream.len() - ends);
                prop_assert!(whole.iter().all(|f| !f.bytes.is_empty()
                    && !f.bytes.iter().any(|b| matches!(b, b'\r' | b'\n'))));
            }
        }

        #[test]
        fn length_prefixed_messages_come_back_whole(
            messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 0..10),
            width in prop::sample::select(vec![2u8, 4, 8]),
            little in any::<bool>(),
            includes_header in any::<bool>(),
            cuts in proptest::collection::vec(0usize..600, 0..12),
        ) {
            let order = if little { ByteOrder::Little } else { ByteOrder::Big };
            let prefix = LengthPrefix { width, order, includes_header };
            let stream: Vec<u8> = messages.iter().flat_map(|m| prefix.wrap(m).unwrap()).collect();
            let out = frames(&Framing::LengthPrefix { prefix, offset: 0 }, &chunked(&stream, cuts));
            let payloads: Vec<Vec<u8>> = out.iter().map(|f| f.bytes[usize::from(width)..].to_vec()).collect();
            prop_assert_eq!(payloads, messages);
        }

        #[test]
        fn arbitrary_bytes_never_panic(framing in any_framing(), stream in proptest::collection::vec(any::<u8>(), 0..500)) {
            let _ = frames(&framing, &[&stream]);
        }
    }
}
