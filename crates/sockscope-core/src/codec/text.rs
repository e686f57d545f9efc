//! Text encodings for display and sending. Bytes are the truth; text is a view of them, so
//! bytes that are not valid in the encoding show as `\xNN` — never U+FFFD, never dropped.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use crate::i18n::{S, tf};

use encoding_rs::{DecoderResult, EncoderResult, Encoding};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The text encoding of a session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TextEncoding(&'static Encoding);

impl TextEncoding {
    /// UTF-8.
    pub const UTF_8: TextEncoding = TextEncoding(encoding_rs::UTF_8);
    /// GBK (simplified Chinese; decodes as GB18030, a superset).
    pub const GBK: TextEncoding = TextEncoding(encoding_rs::GBK);

    /// The encodings offered in the UI, most used first.
    pub fn offered() -> &'static [TextEncoding] {
        const OFFERED: [TextEncoding; 8] = [
            TextEncoding::UTF_8,
            TextEncoding::GBK,
            TextEncoding(encoding_rs::GB18030),
            TextEncoding(encoding_rs::BIG5),
            TextEncoding(encoding_rs::SHIFT_JIS),
            TextEncoding(encoding_rs::EUC_JP),
            TextEncoding(encoding_rs::EUC_KR),
            TextEncoding(encoding_rs::WINDOWS_1252),
        ];
        &OFFERED
    }

    /// The WHATWG name, e.g. "UTF-8", "GBK".
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The name as people write it: "UTF-8", "GBK", "GB18030", "Shift_JIS" (the WHATWG name
    /// of GB18030 is lower case).
    pub fn display_name(self) -> &'static str {
        match self.0.name() {
            "gb18030" => "GB18030",
            name => name,
        }
    }

    /// Looks an encoding up by any of its labels ("gbk", "utf8", "cp936" …). Encodings we
    /// cannot also send in (UTF-16, "replacement") are refused.
    pub fn for_label(label: &str) -> Option<Self> {
        let encoding = Encoding::for_label(label.trim().as_bytes())?;
        (encoding.output_encoding() == encoding).then_some(TextEncoding(encoding))
    }

    /// Encodes text to send. A character the encoding cannot hold is an error naming it,
    /// instead of encoding_rs's silent `&#NNNN;` replacement.
    pub fn encode(self, text: &str) -> Result<Vec<u8>, EncodeError> {
        let mut encoder = self.0.new_encoder();
        let mut out = Vec::with_capacity(
            encoder
                .max_buffer_length_from_utf8_without_replacement(text.len())
                .unwrap_or(text.len() * 4),
        );
        let mut rest = text;
        loop {
            let (result, read) =
                encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::OutputFull => {
                    out.reserve(rest.len().max(16));
                    rest = rest.get(read..).unwrap_or_default();
                }
                EncoderResult::Unmappable(character) => {
                    let done = text.len() - rest.len() + read;
                    let column = text.get(..done).map_or(0, |t| t.chars().count());
                    return Err(EncodeError {
                        character,
                        column,
                        encoding: self.name(),
                    });
                }
            }
        }
    }

    /// The text of `bytes` if every one of them is text in this encoding (no replacement
    /// characters); `None` otherwise.
    pub fn decode_strict(self, bytes: &[u8]) -> Option<String> {
        self.0
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(Cow::into_owned)
    }

    /// Decodes a complete message (a datagram, something we sent). A trailing incomplete
    /// character shows as escapes, like any invalid byte.
    pub fn decode_complete(self, bytes: &[u8]) -> String {
        let mut decoder = self.decoder();
        let mut out = String::with_capacity(bytes.len());
        decoder.decode(bytes, &mut out);
        decoder.finish(&mut out);
        out
    }

    /// The text of a complete message (a datagram, something sent), borrowed when the bytes
    /// already are that text (valid UTF-8 in a UTF-8 session).
    pub fn decode_message(self, bytes: &[u8]) -> Cow<'_, str> {
        if self == TextEncoding::UTF_8
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            return Cow::Borrowed(text);
        }
        Cow::Owned(self.decode_complete(bytes))
    }

    /// The text of one piece of a stream on its own, exactly as a streaming decoder shows it
    /// when the piece arrives: `carry` (the unfinished character the pieces before left, from
    /// [`CarryTracker::push`]) and `bytes`, less an unfinished character at the end (it shows
    /// with the next piece). Borrowed when that is the bytes themselves.
    pub fn decode_piece<'b>(self, carry: &[u8], bytes: &'b [u8]) -> Cow<'b, str> {
        if let Some(text) = self.piece_as_is(carry, bytes) {
            return Cow::Borrowed(text);
        }
        let mut out = String::new();
        self.decode_piece_into(carry, bytes, &mut out);
        Cow::Owned(out)
    }

    /// A piece of a stream whose unfinished end no later piece finishes (it is the last so
    /// far, or the next one did not continue the character): `carry` and `bytes`, with that
    /// end shown as escapes in this piece's own text.
    pub fn decode_piece_final(self, carry: &[u8], bytes: &[u8], out: &mut String) {
        let mut decoder = self.decoder();
        decoder.decode(carry, out);
        decoder.decode(bytes, out);
        decoder.finish(out);
    }

    /// Whether `bytes`, the next piece of a stream, continues the unfinished character
    /// `carry` that the piece before ended with (or does not yet say: it is too short).
    pub fn continues(self, carry: &[u8], bytes: &[u8]) -> bool {
        if carry.is_empty() {
            return true;
        }
        let mut probe = carry.to_vec();
        probe.extend(bytes.iter().take(4));
        let mut decoder = self.0.new_decoder_without_bom_handling();
        let mut out = String::with_capacity(32);
        let (result, read) = decoder.decode_to_string_without_replacement(&probe, &mut out, false);
        match result {
            // The first bad byte is past the carried ones: their character was whole.
            DecoderResult::Malformed(bad, extra) => {
                let end = read.saturating_sub(usize::from(extra));
                end.saturating_sub(usize::from(bad)) >= carry.len()
            }
            DecoderResult::InputEmpty | DecoderResult::OutputFull => true,
        }
    }

    /// [`decode_piece`](Self::decode_piece), appended to `out` (for loops over many records
    /// that reuse one buffer).
    pub fn decode_piece_into(self, carry: &[u8], bytes: &[u8], out: &mut String) {
        if let Some(text) = self.piece_as_is(carry, bytes) {
            out.push_str(text);
            return;
        }
        let mut decoder = self.decoder();
        decoder.decode(carry, out);
        decoder.decode(bytes, out);
    }

    /// The piece's text when it is its own bytes: UTF-8, nothing carried in, valid up to at
    /// most an unfinished character at the very end (which is held back for the next piece).
    fn piece_as_is<'b>(self, carry: &[u8], bytes: &'b [u8]) -> Option<&'b str> {
        if !carry.is_empty() || self != TextEncoding::UTF_8 {
            return None;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Some(text),
            Err(e) if e.error_len().is_none() => {
                std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or_default()).ok()
            }
            Err(_) => None,
        }
    }

    /// [`decode_message`](Self::decode_message), appended to `out`.
    pub fn decode_message_into(self, bytes: &[u8], out: &mut String) {
        if self == TextEncoding::UTF_8
            && let Ok(text) = std::str::from_utf8(bytes)
        {
            out.push_str(text);
            return;
        }
        let mut decoder = self.decoder();
        decoder.decode(bytes, out);
        decoder.finish(out);
    }

    /// Splits a complete message into its valid text and its invalid bytes, in order: `text`
    /// gets each run of valid text, `invalid` each byte that is not text in this encoding.
    pub fn split_valid(
        self,
        bytes: &[u8],
        mut text: impl FnMut(&str),
        mut invalid: impl FnMut(u8),
    ) {
        let mut decoder = self.0.new_decoder_without_bom_handling();
        let mut run = String::new();
        let mut scratch = [0u8; SCRATCH];
        let mut pos = 0;
        loop {
            run.clear();
            let rest = bytes.get(pos..).unwrap_or_default();
            let (result, read) = decode_some(&mut decoder, rest, &mut run, true, &mut scratch);
            pos += read;
            if !run.is_empty() {
                text(&run);
            }
            match result {
                DecoderResult::InputEmpty | DecoderResult::OutputFull => return,
                DecoderResult::Malformed(bad, extra) => {
                    // The bad bytes end `extra` bytes before the read position.
                    let end = pos.saturating_sub(usize::from(extra));
                    let start = end.saturating_sub(usize::from(bad));
                    for &b in bytes.get(start..end).unwrap_or_default() {
                        invalid(b);
                    }
                }
            }
        }
    }

    /// A streaming decoder for one connection direction.
    pub fn decoder(self) -> StreamDecoder {
        StreamDecoder {
            encoding: self,
            inner: self.0.new_decoder_without_bom_handling(),
            history: Vec::new(),
            scratch: Box::new([0; SCRATCH]),
        }
    }
}

impl Default for TextEncoding {
    fn default() -> Self {
        Self::UTF_8
    }
}

impl fmt::Debug for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for TextEncoding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TextEncoding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        TextEncoding::for_label(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown text encoding {label:?}")))
    }
}

/// A character the chosen encoding cannot hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// The character.
    pub character: char,
    /// Its 1-based character column.
    pub column: usize,
    /// The encoding's name.
    pub encoding: &'static str,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: [&dyn fmt::Display; 3] = [&self.character, &self.column, &self.encoding];
        f.write_str(&tf(S::ErrUnencodable, &args))
    }
}

impl std::error::Error for EncodeError {}

/// How many recent input bytes are kept to name the bytes of a malformed sequence that
/// began in an earlier call (the longest sequence any encoding_rs decoder buffers is 4).
const HISTORY: usize = 8;

/// The buffer text is decoded into before it is appended.
const SCRATCH: usize = 2048;

/// Decodes `src` onto the end of `out` until the input ends or a malformed sequence comes
/// (never `OutputFull`): how much of `src` was read, as encoding_rs says it. Through a small
/// buffer: encoding_rs's own `decode_to_string*` touches every page of the string's spare
/// capacity on each call, and binary data makes a call per bad byte — a 5 MB record took
/// 20 s to show (quadratic), 200 MB through the relay's printing minutes.
fn decode_some(
    decoder: &mut encoding_rs::Decoder,
    src: &[u8],
    out: &mut String,
    last: bool,
    scratch: &mut [u8],
) -> (DecoderResult, usize) {
    let mut read = 0;
    loop {
        let rest = src.get(read..).unwrap_or_default();
        let (result, n, written) = decoder.decode_to_utf8_without_replacement(rest, scratch, last);
        read += n;
        // encoding_rs writes whole characters, so the piece is text.
        if let Ok(text) = std::str::from_utf8(scratch.get(..written).unwrap_or_default()) {
            out.push_str(text);
        }
        if result != DecoderResult::OutputFull {
            return (result, read);
        }
    }
}

/// Decodes one byte stream in pieces: a character split across two reads comes out whole
/// with the second read. Invalid bytes come out as `\xNN`.
pub struct StreamDecoder {
    encoding: TextEncoding,
    inner: encoding_rs::Decoder,
    /// The last input bytes seen (the decoder may hold some of them).
    history: Vec<u8>,
    /// Where text is decoded before it is appended (see [`decode_some`]).
    scratch: Box<[u8; SCRATCH]>,
}

impl StreamDecoder {
    /// The encoding this decoder reads.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Appends the text of `bytes` to `out`, holding back an unfinished trailing character.
    pub fn decode(&mut self, bytes: &[u8], out: &mut String) {
        self.run(bytes, out, false);
    }

    /// Starts afresh, dropping whatever it held (for a caller that knows the stream is at a
    /// character boundary).
    pub fn reset(&mut self) {
        self.inner = self.encoding.0.new_decoder_without_bom_handling();
        self.history.clear();
    }

    /// Flushes: held bytes of an unfinished character come out as `\xNN`; the decoder is
    /// then ready for a new stream.
    pub fn finish(&mut self, out: &mut String) {
        self.run(&[], out, true);
        self.inner = self.encoding.0.new_decoder_without_bom_handling();
        self.history.clear();
    }

    fn run(&mut self, bytes: &[u8], out: &mut String, last: bool) {
        let mut rest = bytes;
        // Room for about as much text as bytes (half again for GBK and the like, and a few
        // escapes), not for the worst case (3× for UTF-8 from single bytes).
        let expansion = if self.encoding == TextEncoding::UTF_8 {
            0
        } else {
            rest.len() / 2
        };
        out.reserve(rest.len() + expansion + 32);
        loop {
            let (result, read) =
                decode_some(&mut self.inner, rest, out, last, &mut self.scratch[..]);
            let (consumed, after) = rest.split_at(read.min(rest.len()));
            self.remember(consumed);
            match result {
                DecoderResult::InputEmpty | DecoderResult::OutputFull => return,
                DecoderResult::Malformed(bad, extra) => {
                    // The malformed bytes end `extra` bytes before the read position and may
                    // have started in an earlier call: recover them from the history.
                    let end = self.history.len().saturating_sub(usize::from(extra));
                    let start = end.saturating_sub(usize::from(bad));
                    // The `extra` bytes after it are held inside the decoder and come out
                    // later, so the escape goes in its right place.
                    for b in self.history.get(start..end).unwrap_or_default() {
                        let _ = write!(out, "\\x{b:02X}");
                    }
                }
            }
            rest = after;
        }
    }

    fn remember(&mut self, consumed: &[u8]) {
        let tail = consumed
            .get(consumed.len().saturating_sub(HISTORY)..)
            .unwrap_or(consumed);
        self.history.extend_from_slice(tail);
        let excess = self.history.len().saturating_sub(HISTORY);
        self.history.drain(..excess);
    }
}

/// The bytes of a character left unfinished at the end of a piece of a stream, which the next
/// piece's text completes. At most 3: the most any offered encoding holds back (UTF-8 and
/// GB18030 four-byte sequences).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Carry {
    bytes: [u8; 3],
    len: u8,
}

impl Carry {
    /// The held bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }

    /// The last `n` (at most 3) bytes of what `before` held followed by `bytes`.
    fn tail(before: Carry, bytes: &[u8], n: usize) -> Carry {
        let mut window = [0u8; 6];
        let held = before.as_bytes();
        let recent = bytes.get(bytes.len().saturating_sub(3)..).unwrap_or(bytes);
        let len = held.len() + recent.len();
        for (slot, b) in window.iter_mut().zip(held.iter().chain(recent)) {
            *slot = *b;
        }
        let n = n.min(3).min(len);
        let mut carry = Carry::default();
        for (slot, b) in carry
            .bytes
            .iter_mut()
            .zip(window.get(len - n..len).unwrap_or_default())
        {
            *slot = *b;
        }
        carry.len = n as u8;
        carry
    }
}

/// Follows one byte stream piece by piece (a connection's reads or frames) and tells each
/// piece which bytes of an unfinished character it carries in, so its text can be decoded
/// later on its own with [`TextEncoding::decode_piece`] — the log keeps bytes only and decodes
/// the rows on screen. O(1) per piece for UTF-8 (self-synchronising: the last three bytes
/// tell) and single-byte encodings; the other multibyte encodings are not self-synchronising,
/// so a decoder is kept in step with the stream, writing into a reused buffer.
pub struct CarryTracker {
    encoding: TextEncoding,
    carry: Carry,
    legacy: Option<(StreamDecoder, String)>,
    /// The encoding starts afresh after a byte below 0x30 or two below 0x80 in a row (see
    /// [`last_resync`]).
    resync: bool,
}

/// True for the multibyte encodings where a byte below 0x30 is never part of a character of
/// several bytes (their second bytes are 0x40 and up; GB18030's four-byte sequences use
/// 0x30–0x39), so after one the decoder holds nothing whatever came before: a lead byte before
/// it is malformed and it comes out as itself. GBK, GB18030, Big5, Shift_JIS, EUC-JP, EUC-KR —
/// not ISO-2022-JP (its escapes switch modes for the bytes after) nor UTF-16.
fn resyncs_below_0x30(encoding: TextEncoding) -> bool {
    [
        encoding_rs::GBK,
        encoding_rs::GB18030,
        encoding_rs::BIG5,
        encoding_rs::SHIFT_JIS,
        encoding_rs::EUC_JP,
        encoding_rs::EUC_KR,
    ]
    .contains(&encoding.0)
}

/// For the encodings of [`resyncs_below_0x30`]: the last byte of `bytes` after which their
/// decoders hold nothing, whatever came before: a byte below 0x30, or the second of two bytes
/// below 0x80 in a row (the first may end a character begun before it, as its second byte or a
/// GB18030 digit, but no character goes on past a byte below 0x80 with another after it).
fn last_resync(bytes: &[u8]) -> Option<usize> {
    let mut after_is_low = false;
    for (i, &b) in bytes.iter().enumerate().rev() {
        if b < 0x30 {
            return Some(i);
        }
        if b < 0x80 && after_is_low {
            return Some(i + 1);
        }
        after_is_low = b < 0x80;
    }
    None
}

impl CarryTracker {
    /// A tracker at the start of a stream.
    pub fn new(encoding: TextEncoding) -> Self {
        let legacy = (encoding != TextEncoding::UTF_8 && !encoding.0.is_single_byte())
            .then(|| (encoding.decoder(), String::new()));
        Self {
            encoding,
            carry: Carry::default(),
            legacy,
            resync: resyncs_below_0x30(encoding),
        }
    }

    /// The encoding it follows.
    pub fn encoding(&self) -> TextEncoding {
        self.encoding
    }

    /// Takes the next piece of the stream; returns what it carries in from the pieces before.
    pub fn push(&mut self, bytes: &[u8]) -> Carry {
        let before = self.carry;
        let held = match &mut self.legacy {
            // An ASCII byte last: nothing is held, whatever came before (the common case).
            None if bytes.last().is_some_and(u8::is_ascii) => 0,
            None if self.encoding == TextEncoding::UTF_8 => {
                let window = Carry::tail(before, bytes, 3);
                utf8_held(window.as_bytes())
            }
            None => 0,
            // Text has spaces, line ends and ASCII words: only what follows the last place the
            // decoder starts afresh is decoded (decoding every byte held GBK to ~0.7 GiB/s).
            Some((decoder, scratch)) => match self.resync.then(|| last_resync(bytes)).flatten() {
                Some(at) => {
                    decoder.reset();
                    let tail = bytes.get(at + 1..).unwrap_or_default();
                    legacy_held(decoder, scratch, Carry::default(), tail)
                }
                None => legacy_held(decoder, scratch, before, bytes),
            },
        };
        self.carry = if held == 0 {
            Carry::default()
        } else {
            Carry::tail(before, bytes, held)
        };
        before
    }

    /// What is unfinished at the end of the stream so far.
    pub fn carry(&self) -> Carry {
        self.carry
    }
}

/// How many bytes at the end of `bytes` a UTF-8 decoder that read them from the start holds:
/// a lead byte within the last three followed by fewer valid continuation bytes than it needs.
/// (A lead byte always starts afresh, so nothing before it matters.)
fn utf8_held(bytes: &[u8]) -> usize {
    for (back, &b) in bytes.iter().rev().take(3).enumerate() {
        if (0x80..=0xBF).contains(&b) {
            continue;
        }
        let (needed, second) = match b {
            0xC2..=0xDF => (2, 0x80..=0xBF),
            0xE0 => (3, 0xA0..=0xBF),
            0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80..=0xBF),
            0xED => (3, 0x80..=0x9F),
            0xF0 => (4, 0x90..=0xBF),
            0xF1..=0xF3 => (4, 0x80..=0xBF),
            0xF4 => (4, 0x80..=0x8F),
            _ => return 0,
        };
        let sequence = bytes.get(bytes.len() - back - 1..).unwrap_or_default();
        let second_ok = sequence.get(1).is_none_or(|s| second.contains(s));
        return if second_ok && sequence.len() < needed {
            sequence.len()
        } else {
            0
        };
    }
    0
}

/// How many bytes a legacy multibyte decoder (GBK, Big5, Shift_JIS, EUC-*) holds after
/// `bytes`, having held `before`'s. Everything but the last four bytes goes through in one
/// call; those go one at a time: a byte that brings out nothing is held, one that brings out
/// text or an error leaves nothing held (these decoders hand back an ASCII byte that ends a
/// sequence early, and it comes out at once). Those decoders hold at most three bytes, so
/// among four single steps one always brings something out.
fn legacy_held(
    decoder: &mut StreamDecoder,
    scratch: &mut String,
    before: Carry,
    bytes: &[u8],
) -> usize {
    let (bulk, steps) = bytes.split_at(bytes.len().saturating_sub(4));
    scratch.clear();
    decoder.decode(bulk, scratch);
    let mut held = usize::from(before.len);
    for b in steps {
        scratch.clear();
        decoder.decode(std::slice::from_ref(b), scratch);
        held = if scratch.is_empty() { held + 1 } else { 0 };
    }
    held.min(3)
}

/// Makes control characters visible for the log's one-line rows: `\r`, `\n`, `\t`, `\0`, and
/// `\xNN` for the other C0 controls and DEL. Text with none is returned as it is.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_ascii_control()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// True for a character of a right-to-left script (Hebrew, Arabic, Syriac, Thaana, NKo, …).
fn is_rtl(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF
    )
}

/// True for a combining mark of those scripts (it stays with the letter before it).
fn is_rtl_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0591..=0x05BD
            | 0x05BF
            | 0x05C1..=0x05C2
            | 0x05C4..=0x05C5
            | 0x05C7
            | 0x0610..=0x061A
            | 0x064B..=0x065F
            | 0x0670
            | 0x06D6..=0x06DC
            | 0x06DF..=0x06E4
            | 0x06E7..=0x06E8
            | 0x06EA..=0x06ED
            | 0x0711
            | 0x0730..=0x074A
            | 0x07A6..=0x07B0
            | 0x07EB..=0x07F3
    )
}

/// True for an invisible character that reorders text (LRM, RLM, ALM, the embeddings,
/// overrides and isolates).
fn is_bidi_control(c: char) -> bool {
    matches!(
        u32::from(c),
        0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069
    )
}

/// `text` cut into pieces to lay out one after another, so that a debugging log shows every
/// character in byte order, left to right. The text shaper takes the direction of a run of
/// text from its first character with a script: a run that starts with a Hebrew or Arabic
/// letter — binary data often decodes to one — was drawn right to left, digits and `\xNN`
/// after it included. So each such letter (with its combining marks) is a piece of its own,
/// and the invisible characters that reorder text are shown as `\u{…}`. Text with neither is
/// one piece, borrowed.
pub fn ltr_pieces(text: &str) -> Vec<Cow<'_, str>> {
    if !text.chars().any(|c| is_rtl(c) || is_bidi_control(c)) {
        return vec![Cow::Borrowed(text)];
    }
    let mut pieces: Vec<Cow<'_, str>> = Vec::new();
    // Start of the plain text not yet handed out, and whether the last piece is a letter
    // that marks may still join.
    let (mut plain_from, mut joinable) = (0, false);
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        if is_rtl_mark(c)
            && joinable
            && plain_from == at
            && let Some(Cow::Borrowed(last)) = pieces.last_mut()
        {
            let start = at - last.len();
            *last = text.get(start..end).unwrap_or_default();
            plain_from = end;
            continue;
        }
        if is_rtl(c) || is_bidi_control(c) {
            if plain_from < at {
                pieces.push(Cow::Borrowed(text.get(plain_from..at).unwrap_or_default()));
            }
            if is_bidi_control(c) {
                pieces.push(Cow::Owned(format!("\\u{{{:04X}}}", u32::from(c))));
                joinable = false;
            } else {
                pieces.push(Cow::Borrowed(text.get(at..end).unwrap_or_default()));
                joinable = true;
            }
            plain_from = end;
        } else {
            joinable = false;
        }
    }
    if plain_from < text.len() {
        pieces.push(Cow::Borrowed(text.get(plain_from..).unwrap_or_default()));
    }
    pieces
}

/// Line breaks and tabs as spaces (`\r\n` as one), for a one-line row that hides them. Every
/// other control character is data, not layout (`01 03 00 0A` of a Modbus frame), so it stays
/// visible as in [`one_line`]: hiding it would show bytes that are not there as blanks.
pub fn without_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_ascii_control()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut last_space = false;
    for c in text.chars() {
        match c {
            '\r' | '\n' | '\t' => {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
                continue;
            }
            '\0' => out.push_str("\\0"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
        last_space = false;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::test_util::chunked;
    use proptest::prelude::*;

    fn stream(encoding: TextEncoding, chunks: &[&[u8]]) -> String {
        let mut decoder = encoding.decoder();
        let mut out = String::new();
        for chunk in chunks {
            decoder.decode(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn gbk_character_split_at_every_offset_decodes_once() {
        let text = "你好，世界";
        let bytes = TextEncoding::GBK.encode(text).unwrap();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(stream(TextEncoding::GBK, &[a, b]), text, "cut at {cut}");
        }
    }

    #[test]
    fn utf8_split_at_every_offset_decodes_once() {
        let text = "温度 25℃ 😀 ok";
        for cut in 0..=text.len() {
            let (a, b) = text.as_bytes().split_at(cut);
            assert_eq!(stream(TextEncoding::UTF_8, &[a, b]), text, "cut at {cut}");
        }
    }

    #[test]
    fn a_held_half_character_is_not_shown_until_complete() {
        let mut decoder = TextEncoding::GBK.decoder();
        let mut out = String::new();
        decoder.decode(&[0xC4], &mut out);
        assert_eq!(out, "");
        decoder.decode(&[0xE3], &mut out);
        assert_eq!(out, "你");
    }

    #[test]
    fn invalid_bytes_show_as_escapes() {
        assert_eq!(
            TextEncoding::UTF_8.decode_complete(&[0x61, 0xFF, 0x62]),
            "a\\xFFb"
        );
        assert_eq!(stream(TextEncoding::GBK, &[&[0x81]]), "\\x81");
        assert_eq!(
            stream(TextEncoding::UTF_8, &[&[0xE4, 0xBD], &[0x41]]),
            "\\xE4\\xBDA"
        );
    }

    #[test]
    fn a_character_gbk_lacks_is_an_error_naming_its_column() {
        let e = TextEncoding::GBK.encode("ok😀").unwrap_err();
        assert_eq!(e.to_string(), "'😀' at column 3 cannot be written in GBK");
    }

    #[test]
    fn labels_find_encodings_we_can_also_send_in() {
        assert_eq!(TextEncoding::for_label("gbk"), Some(TextEncoding::GBK));
        assert_eq!(TextEncoding::for_label("utf8"), Some(TextEncoding::UTF_8));
        assert_eq!(TextEncoding::for_label("utf-16le"), None);
        assert_eq!(TextEncoding::for_label("nonsense"), None);
    }

    #[test]
    fn encoding_round_trips_through_ron_by_name() {
        let text = ron::to_string(&TextEncoding::GBK).unwrap();
        assert_eq!(text, "\"GBK\"");
        assert_eq!(
            ron::from_str::<TextEncoding>(&text).unwrap(),
            TextEncoding::GBK
        );
        assert!(ron::from_str::<TextEncoding>("\"klingon\"").is_err());
    }

    #[test]
    fn hidden_line_breaks_become_single_spaces_other_controls_stay_visible() {
        assert_eq!(without_controls("OK\r\nREADY\r\n"), "OK READY ");
        assert_eq!(without_controls("a\tb"), "a b");
        assert_eq!(
            without_controls("\u{1}\u{3}\u{2}\0d\u{7f}"),
            "\\x01\\x03\\x02\\0d\\x7F"
        );
        assert!(matches!(without_controls("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(one_line("a\r\nb\t\u{1b}"), "a\\r\\nb\\t\\x1B");
        assert!(matches!(one_line("plain 中文"), Cow::Borrowed(_)));
    }

    fn gbk_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(
                "aZ09 ,.\r\n你好世界温度设备连接成功失败！，。"
                    .chars()
                    .collect::<Vec<_>>(),
            ),
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// Each piece through a streaming decoder (what the log showed when it arrived), and the
    /// same pieces decoded one by one afterwards from their carries; then the end of the stream.
    fn pieces_both_ways(encoding: TextEncoding, pieces: &[&[u8]]) -> (Vec<String>, Vec<String>) {
        let mut decoder = encoding.decoder();
        let mut tracker = CarryTracker::new(encoding);
        let (mut streamed, mut alone) = (Vec::new(), Vec::new());
        for piece in pieces {
            let mut text = String::new();
            decoder.decode(piece, &mut text);
            streamed.push(text);
            let carry = tracker.push(piece);
            alone.push(encoding.decode_piece(carry.as_bytes(), piece).into_owned());
        }
        let mut end = String::new();
        decoder.finish(&mut end);
        streamed.push(end);
        alone.push(encoding.decode_complete(tracker.carry().as_bytes()));
        (streamed, alone)
    }

    #[test]
    fn a_character_split_three_ways_shows_with_its_last_piece() {
        let bytes = "😀".as_bytes();
        let (streamed, alone) = pieces_both_ways(
            TextEncoding::UTF_8,
            &[&bytes[..1], &bytes[1..2], &bytes[2..]],
        );
        assert_eq!(alone, ["", "", "😀", ""]);
        assert_eq!(streamed, alone);
        let gbk = TextEncoding::GBK.encode("你好").unwrap();
        let (_, alone) = pieces_both_ways(TextEncoding::GBK, &[&gbk[..1], &gbk[1..3], &gbk[3..]]);
        assert_eq!(alone, ["", "你", "好", ""]);
    }

    #[test]
    fn utf8_held_bytes_follow_the_decoders_rules() {
        assert_eq!(utf8_held(b"ok"), 0);
        assert_eq!(utf8_held(&[b'a', 0xE4]), 1);
        assert_eq!(utf8_held(&[0xE4, 0xBD]), 2);
        assert_eq!(utf8_held(&[0xF0, 0x9F, 0x98]), 3);
        assert_eq!(utf8_held(&[0xF0, 0x9F, 0x98, 0x80]), 0, "complete");
        assert_eq!(
            utf8_held(&[0xE0, 0x80]),
            0,
            "overlong: an error, nothing held"
        );
        assert_eq!(
            utf8_held(&[0xED, 0xA0]),
            0,
            "surrogate: an error, nothing held"
        );
        assert_eq!(utf8_held(&[0xE4, 0xE4]), 1, "the second lead starts again");
        assert_eq!(utf8_held(&[0xC0]), 0, "never a lead");
    }

    #[test]
    fn every_byte_pair_split_in_two_decodes_alone_as_streamed_in_every_encoding() {
        for &encoding in TextEncoding::offered() {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    let (streamed, alone) = pieces_both_ways(encoding, &[&[a], &[b]]);
                    assert_eq!(streamed, alone, "{encoding:?} {a:02X} | {b:02X}");
                }
            }
        }
    }

    #[test]
    fn utf8_sequences_near_every_boundary_decode_alone_as_streamed() {
        let interesting = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0,
            0xE4, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5, 0xFF,
        ];
        for &a in &interesting {
            for &b in &interesting {
                for &c in &interesting {
                    for &d in &[0x41, 0x80, 0xBF, 0xF0] {
                        let bytes = [a, b, c, d];
                        for cut in 1..4 {
                            let (x, y) = bytes.split_at(cut);
                            let (streamed, alone) = pieces_both_ways(TextEncoding::UTF_8, &[x, y]);
                            assert_eq!(streamed, alone, "{bytes:02X?} cut at {cut}");
                        }
                    }
                }
            }
        }
    }

    /// Bytes that exercise every decoder: random, lead and trail ranges, GB18030's four-byte
    /// digits, EUC-JP's three-byte lead, and line ends that end sequences early.
    fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            prop_oneof![
                any::<u8>(),
                0x81u8..=0xFE,
                0x30u8..=0x39,
                0x40u8..=0x7E,
                0x80u8..=0xBF,
                Just(0x8F),
                Just(b'\n'),
            ],
            0..120,
        )
    }

    fn any_encoding() -> impl Strategy<Value = TextEncoding> {
        prop::sample::select(TextEncoding::offered())
    }

    #[test]
    fn each_right_to_left_letter_is_a_piece_of_its_own_and_controls_are_shown() {
        let pieces = ltr_pieces("AB\u{5D0} 123 \u{7AD}\\xBE");
        assert_eq!(pieces, ["AB", "\u{5D0}", " 123 ", "\u{7AD}", "\\xBE"]);
        // A point stays with its letter; an override is shown, not obeyed.
        let pieces = ltr_pieces("\u{5E9}\u{5C1}x\u{202E}y");
        assert_eq!(pieces, ["\u{5E9}\u{5C1}", "x", "\\u{202E}", "y"]);
        assert!(matches!(
            ltr_pieces("plain 中文")[..],
            [Cow::Borrowed("plain 中文")]
        ));
    }

    proptest! {
        /// Starting afresh where [`last_resync`] says gives the carries that decoding every
        /// byte gives, for any bytes cut anywhere (bytes drawn where these encodings' leads,
        /// second bytes, GB18030's digits and the boundary sit).
        #[test]
        fn resyncing_trackers_carry_what_decoding_every_byte_carries(
            which in 0usize..6,
            bytes in proptest::collection::vec(
                prop_oneof![
                    Just(0x0Au8), Just(0x20), Just(0x2F), Just(0x30), Just(0x35), Just(0x39),
                    Just(0x3A), Just(0x40), Just(0x41), Just(0x7E), Just(0x7F), Just(0x80),
                    Just(0x81), Just(0x8E), Just(0x8F), Just(0x9F), Just(0xA1), Just(0xB0),
                    Just(0xE0), Just(0xFC), Just(0xFE), Just(0xFF), any::<u8>(),
                ],
                0..200,
            ),
            cuts in proptest::collection::vec(0usize..200, 0..20),
        ) {
            let encoding = TextEncoding([
                encoding_rs::GBK,
                encoding_rs::GB18030,
                encoding_rs::BIG5,
                encoding_rs::SHIFT_JIS,
                encoding_rs::EUC_JP,
                encoding_rs::EUC_KR,
            ][which]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            cuts.sort_unstable();
            let mut fast = CarryTracker::new(encoding);
            let mut full = CarryTracker::new(encoding);
            prop_assert!(fast.resync);
            full.resync = false;
            let mut from = 0;
            for to in cuts.into_iter().chain([bytes.len()]) {
                let piece = &bytes[from..to];
                prop_assert_eq!(fast.push(piece), full.push(piece), "{:02X?} at {}", piece, from);
                from = to;
            }
            prop_assert_eq!(fast.carry(), full.carry());
        }
    }

    proptest! {
        #[test]
        fn ltr_pieces_keep_every_character_in_order(chars in proptest::collection::vec(
            prop_oneof![
                any::<char>(),
                Just('\u{5D0}'), Just('\u{5C1}'), Just('\u{627}'), Just('\u{64B}'),
                Just('\u{7AD}'), Just('\u{202E}'), Just('\u{200F}'), Just('1'), Just(' '),
            ],
            0..40,
        )) {
            let text: String = chars.into_iter().collect();
            let pieces = ltr_pieces(&text);
            let escaped: String = text
                .chars()
                .map(|c| if is_bidi_control(c) { format!("\\u{{{:04X}}}", u32::from(c)) } else { c.to_string() })
                .collect();
            prop_assert_eq!(pieces.concat(), escaped);
            for piece in &pieces {
                let letters = piece.chars().filter(|c| is_rtl(*c) && !is_rtl_mark(*c)).count();
                let others = piece.chars().filter(|c| !is_rtl(*c)).count();
                prop_assert!(letters == 0 || (letters == 1 && others == 0), "{:?}", piece);
            }
        }

        #[test]
        fn every_piece_decoded_alone_shows_what_the_stream_showed(
            bytes in tricky_bytes(),
            cuts in proptest::collection::vec(0usize..120, 0..40),
            encoding in any_encoding(),
        ) {
            let (streamed, alone) = pieces_both_ways(encoding, &chunked(&bytes, cuts));
            prop_assert_eq!(streamed, alone, "{:?}", encoding);
        }

        #[test]
        fn text_pieces_decoded_alone_join_to_the_text(
            text in gbk_text(),
            cuts in proptest::collection::vec(0usize..120, 0..40),
            encoding in any_encoding(),
        ) {
            // Characters the encoding lacks become '?' so every encoding gets real text.
            let text: String = text.chars().map(|c| if encoding.encode(&c.to_string()).is_ok() { c } else { '?' }).collect();
            let bytes = encoding.encode(&text).unwrap();
            let (streamed, alone) = pieces_both_ways(encoding, &chunked(&bytes, cuts));
            prop_assert_eq!(&streamed, &alone);
            prop_assert_eq!(alone.concat(), text);
        }

        #[test]
        fn any_chunking_of_utf8_text_decodes_to_the_text(text in ".*", cuts in proptest::collection::vec(0usize..200, 0..8)) {
            let bytes = text.as_bytes();
            prop_assert_eq!(stream(TextEncoding::UTF_8, &chunked(bytes, cuts)), text);
        }

        #[test]
        fn any_chunking_of_gbk_text_decodes_to_the_text(text in gbk_text(), cuts in proptest::collection::vec(0usize..120, 0..8)) {
            let bytes = TextEncoding::GBK.encode(&text).unwrap();
            prop_assert_eq!(stream(TextEncoding::GBK, &chunked(&bytes, cuts)), text);
        }

        #[test]
        fn any_bytes_in_any_chunks_decode_like_one_read(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
            gbk in any::<bool>(),
        ) {
            let encoding = if gbk { TextEncoding::GBK } else { TextEncoding::UTF_8 };
            let whole = encoding.decode_complete(&bytes);
            prop_assert_eq!(stream(encoding, &chunked(&bytes, cuts)), whole);
        }
    }
}
