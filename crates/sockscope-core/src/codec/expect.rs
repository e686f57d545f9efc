//! What a reply should hold: text, bytes or a regular expression, looked for in everything
//! received so far (so a reply split across reads still matches). Used by `sockscope connect
//! --expect` and `sockscope udp --expect`.

use std::fmt;

use memchr::memmem;

use super::TextEncoding;
use crate::i18n::{S, tf};

/// Received bytes kept to match against, at most (the oldest go first).
const WINDOW: usize = 1 << 20;

/// An expectation.
#[derive(Clone, Debug)]
pub enum Expect {
    /// These bytes appear (text is encoded in the session's encoding first).
    Bytes(Vec<u8>),
    /// The text received, decoded, matches this regular expression.
    Regex(regex::Regex),
}

/// Why an expectation could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectError(pub String);

impl fmt::Display for ExpectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExpectError {}

impl Expect {
    /// Text to find, written in `encoding`.
    pub fn text(text: &str, encoding: TextEncoding) -> Result<Expect, ExpectError> {
        encoding
            .encode(text)
            .map(Expect::Bytes)
            .map_err(|e| ExpectError(e.to_string()))
    }

    /// Bytes to find, written as hex.
    pub fn hex(hex: &str) -> Result<Expect, ExpectError> {
        super::hex::parse(hex)
            .map(Expect::Bytes)
            .map_err(|e| ExpectError(e.to_string()))
    }

    /// A regular expression the received text must match.
    pub fn regex(pattern: &str) -> Result<Expect, ExpectError> {
        regex::Regex::new(pattern)
            .map(Expect::Regex)
            .map_err(|e| ExpectError(tf(S::ErrRegex, &[&pattern, &e])))
    }
}

/// Matches an expectation against a stream as it arrives.
#[derive(Clone, Debug)]
pub struct Matcher {
    expect: Expect,
    encoding: TextEncoding,
    seen: Vec<u8>,
    /// Bytes before this in `seen` were looked at already (no match can start there).
    searched: usize,
}

impl Matcher {
    /// A matcher for `expect`; received text is decoded with `encoding`.
    pub fn new(expect: Expect, encoding: TextEncoding) -> Self {
        Self {
            expect,
            encoding,
            seen: Vec::new(),
            searched: 0,
        }
    }

    /// Adds received bytes; true once the expectation is met.
    pub fn push(&mut self, bytes: &[u8]) -> bool {
        self.seen.extend_from_slice(bytes);
        if self.seen.len() > WINDOW {
            let cut = self.seen.len() - WINDOW;
            self.seen.drain(..cut);
            self.searched = self.searched.saturating_sub(cut);
        }
        match &self.expect {
            Expect::Bytes(needle) => {
                // A match may start up to len-1 bytes before the new ones.
                let from = self.searched.saturating_sub(needle.len().saturating_sub(1));
                let found = self
                    .seen
                    .get(from..)
                    .is_some_and(|hay| memmem::find(hay, needle).is_some());
                self.searched = self.seen.len();
                found
            }
            Expect::Regex(re) => re.is_match(&self.encoding.decode_message(&self.seen)),
        }
    }

    /// Adds one whole message (a frame of a framing, its delimiter taken off) and checks it
    /// on its own: a match never spans two messages, and a regex's `^` and `$` are the
    /// message's start and end. True once the expectation is met.
    pub fn push_message(&mut self, message: &[u8]) -> bool {
        self.seen.extend_from_slice(message);
        if self.seen.len() > WINDOW {
            let cut = self.seen.len() - WINDOW;
            self.seen.drain(..cut);
        }
        self.searched = self.seen.len();
        match &self.expect {
            Expect::Bytes(needle) => memmem::find(message, needle).is_some(),
            Expect::Regex(re) => re.is_match(&self.encoding.decode_message(message)),
        }
    }

    /// Everything received that is kept to match against.
    pub fn seen(&self) -> &[u8] {
        &self.seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_split_across_reads_matches_in_its_encoding() {
        let expect = Expect::text("温度", TextEncoding::GBK).unwrap();
        let mut m = Matcher::new(expect, TextEncoding::GBK);
        let wire = TextEncoding::GBK.encode("T=温度").unwrap();
        assert!(!m.push(&wire[..3]));
        assert!(m.push(&wire[3..]));
    }

    #[test]
    fn a_regex_sees_the_decoded_text_and_a_bad_one_is_a_sentence() {
        let mut m = Matcher::new(Expect::regex(r"\+CSQ: \d+").unwrap(), TextEncoding::UTF_8);
        assert!(!m.push(b"+CSQ: "));
        assert!(m.push(b"23,99\r\n"));
        let e = Expect::regex("(").unwrap_err();
        assert!(e.to_string().contains('('), "{e}");
    }

    #[test]
    fn each_message_is_checked_on_its_own() {
        let frames: [&[u8]; 2] = [b"+CSQ: 23,99", b"OK"];
        let mut m = Matcher::new(
            Expect::text("99OK", TextEncoding::UTF_8).unwrap(),
            TextEncoding::UTF_8,
        );
        assert!(!frames.iter().any(|f| m.push_message(f)));
        let mut m = Matcher::new(Expect::regex("^OK$").unwrap(), TextEncoding::UTF_8);
        assert!(!m.push_message(frames[0]));
        assert!(m.push_message(frames[1]));
        let mut m = Matcher::new(Expect::regex(r"温度=\d+").unwrap(), TextEncoding::GBK);
        assert!(m.push_message(&TextEncoding::GBK.encode("温度=25").unwrap()));
    }

    proptest! {
        #[test]
        fn a_message_matches_exactly_when_it_holds_the_needle(
            messages in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..8),
            needle in proptest::collection::vec(any::<u8>(), 1..4),
        ) {
            let mut m = Matcher::new(Expect::Bytes(needle.clone()), TextEncoding::UTF_8);
            for message in &messages {
                let holds = message.windows(needle.len()).any(|w| w == needle.as_slice());
                prop_assert_eq!(m.push_message(message), holds);
            }
        }

        #[test]
        fn bytes_match_however_the_stream_is_cut(
            before in proptest::collection::vec(any::<u8>(), 0..40),
            needle in proptest::collection::vec(any::<u8>(), 1..6),
            after in proptest::collection::vec(any::<u8>(), 0..40),
            cuts in proptest::collection::vec(1usize..8, 0..20),
        ) {
            let stream: Vec<u8> = [before.as_slice(), &needle, &after].concat();
            let mut m = Matcher::new(Expect::Bytes(needle.clone()), TextEncoding::UTF_8);
            let mut rest = stream.as_slice();
            let mut matched = false;
            for cut in cuts.iter().cycle().take(stream.len() + 1) {
                if rest.is_empty() { break; }
                let (piece, after) = rest.split_at((*cut).min(rest.len()));
                matched |= m.push(piece);
                rest = after;
            }
            matched |= m.push(rest);
            prop_assert!(matched);
        }
    }
}
