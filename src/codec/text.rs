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

    /// Decodes a complete message (a datagram, something we sent). A trailing incomplete
    /// character shows as escapes, like any invalid byte.
    pub fn decode_complete(self, bytes: &[u8]) -> String {
        let mut decoder = self.decoder();
        let mut out = String::with_capacity(bytes.len());
        decoder.decode(bytes, &mut out);
        decoder.finish(&mut out);
        out
    }

    /// A streaming decoder for one connection direction.
    pub fn decoder(self) -> StreamDecoder {
        StreamDecoder {
            encoding: self,
            inner: self.0.new_decoder_without_bom_handling(),
            history: Vec::new(),
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

/// Decodes one byte stream in pieces: a character split across two reads comes out whole
/// with the second read. Invalid bytes come out as `\xNN`.
pub struct StreamDecoder {
    encoding: TextEncoding,
    inner: encoding_rs::Decoder,
    /// The last input bytes seen (the decoder may hold some of them).
    history: Vec<u8>,
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

    /// Like [`decode`](Self::decode), but when the text would be exactly `bytes` (UTF-8,
    /// valid and complete, nothing held from before) returns `true` and writes nothing: the
    /// caller keeps the bytes as the text, with no copy. The common case for ASCII traffic.
    pub fn decode_or_same(&mut self, bytes: &[u8], out: &mut String) -> bool {
        let nothing_held = !utf8_incomplete_tail(&self.history);
        if self.encoding == TextEncoding::UTF_8
            && nothing_held
            && std::str::from_utf8(bytes).is_ok()
        {
            self.remember(bytes);
            return true;
        }
        self.decode(bytes, out);
        false
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
        // Room for about as much text as bytes (half again for GBK and the like, and a few escapes), not for the worst case (3×
        // for UTF-8 from single bytes): the worst case made every small binary frame allocate
        // (and the kernel zero) three times its size. Output full just means another round.
        let expansion = if self.encoding == TextEncoding::UTF_8 {
            0
        } else {
            rest.len() / 2
        };
        out.reserve(rest.len() + expansion + 32);
        loop {
            let (result, read) = self
                .inner
                .decode_to_string_without_replacement(rest, out, last);
            let (consumed, after) = rest.split_at(read.min(rest.len()));
            self.remember(consumed);
            match result {
                DecoderResult::InputEmpty => return,
                DecoderResult::OutputFull => out.reserve(after.len() + 32),
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

/// True if `bytes` ends inside a UTF-8 sequence (a lead byte without all its continuation
/// bytes), i.e. a UTF-8 decoder would be holding bytes.
fn utf8_incomplete_tail(bytes: &[u8]) -> bool {
    for (back, &b) in bytes.iter().rev().take(4).enumerate() {
        if b & 0xC0 != 0x80 {
            let needed = match b {
                0xC2..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF4 => 4,
                _ => 1,
            };
            return needed > back + 1;
        }
    }
    false
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

/// Control characters as spaces (`\r\n` as one), for a one-line row that hides them.
pub fn without_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_ascii_control()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for c in text.chars() {
        if c.is_ascii_control() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
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
    fn hidden_control_characters_become_single_spaces() {
        assert_eq!(without_controls("OK\r\nREADY\r\n"), "OK READY ");
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

    /// `decode_or_same` chunk by chunk, the bytes standing in for the text where it says so.
    fn stream_fast(encoding: TextEncoding, chunks: &[&[u8]]) -> String {
        let mut decoder = encoding.decoder();
        let mut out = String::new();
        for chunk in chunks {
            let mut text = String::new();
            if decoder.decode_or_same(chunk, &mut text) {
                out.push_str(std::str::from_utf8(chunk).unwrap());
            } else {
                out.push_str(&text);
            }
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn the_fast_path_steps_aside_while_a_character_is_held() {
        let text = "温度";
        let bytes = text.as_bytes();
        assert_eq!(
            stream_fast(TextEncoding::UTF_8, &[&bytes[..2], &bytes[2..]]),
            text
        );
        assert!(utf8_incomplete_tail(&bytes[..2]));
        assert!(!utf8_incomplete_tail(bytes));
    }

    proptest! {
        #[test]
        fn the_fast_path_decodes_any_chunking_like_the_slow_one(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            cuts in proptest::collection::vec(0usize..200, 0..8),
            gbk in any::<bool>(),
        ) {
            let encoding = if gbk { TextEncoding::GBK } else { TextEncoding::UTF_8 };
            let chunks = chunked(&bytes, cuts);
            prop_assert_eq!(stream_fast(encoding, &chunks), stream(encoding, &chunks));
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
