//! Received bytes on a Windows console. Rust's standard output refuses bytes that are not
//! UTF-8 when it is a console (the console takes text only), so `--pipe` lost binary there —
//! and the refusal looked like a closed output. [`ConsoleText`] stands between: UTF-8 text
//! goes through as it is (a character split between two reads stays whole), every other byte
//! is shown as `\xNN`, and the first time that happens a sentence on stderr says so and how to
//! get the raw bytes (redirect stdout to a file or a pipe, where nothing is changed).

use std::fmt::Write as _;
use std::io::{self, Write};

use sockscope_core::i18n::{S, t};

/// Writes text to `out`, bytes that are not UTF-8 as `\xNN`.
pub struct ConsoleText<W: Write> {
    out: W,
    /// Where the one-time sentence goes.
    note: Box<dyn Write + Send>,
    /// The start of a character whose other bytes have not come yet (at most 3 bytes).
    held: Vec<u8>,
    /// The sentence was said.
    told: bool,
}

impl<W: Write> ConsoleText<W> {
    /// Text to `out`; the sentence about escaped bytes to `note`.
    pub fn new(out: W, note: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            note,
            held: Vec::new(),
            told: false,
        }
    }

    /// Shows `bytes` as text, escaping what is not UTF-8; keeps an unfinished character back.
    fn show(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut text = String::with_capacity(bytes.len());
        let mut rest = bytes;
        let mut escaped = false;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            let (bad, after) = after.split_at(bad);
                            for b in bad {
                                let _ = write!(text, "\\x{b:02X}");
                            }
                            escaped = true;
                            rest = after;
                        }
                        None => {
                            // The start of a character at the end: its other bytes may come
                            // with the next write.
                            self.held = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        if escaped && !self.told {
            self.told = true;
            let _ = writeln!(self.note, "{}", t(S::CliConsoleEscapes));
        }
        self.out.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for ConsoleText<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() {
            self.show(bytes)?;
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(bytes);
            self.show(&joined)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // An unfinished character is kept: a flush after each read must not cut it.
        self.out.flush()
    }
}

impl<W: Write> Drop for ConsoleText<W> {
    fn drop(&mut self) {
        // The stream ended in the middle of a character: its bytes are shown escaped.
        let held = std::mem::take(&mut self.held);
        if !held.is_empty() {
            let mut shown = String::new();
            for b in &held {
                let _ = write!(shown, "\\x{b:02X}");
            }
            let _ = self.out.write_all(shown.as_bytes());
            let _ = self.out.flush();
        }
    }
}

/// The output `--pipe` and the other commands write to: standard output as it is, unless it
/// is a Windows console (then [`ConsoleText`]). Elsewhere a terminal takes raw bytes, as
/// `nc` writes them.
pub fn stdout_for(stdout: io::Stdout, is_terminal: bool) -> Box<dyn Write> {
    if cfg!(windows) && is_terminal {
        Box::new(ConsoleText::new(stdout, Box::new(io::stderr())))
    } else {
        Box::new(stdout)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::{Arc, Mutex};

    use super::*;

    /// A writer whose bytes the test can read after it was moved into a [`ConsoleText`].
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn text_goes_through_and_other_bytes_show_as_escapes_with_one_sentence() {
        let (out, note) = (Shared::default(), Shared::default());
        let mut console = ConsoleText::new(out.clone(), Box::new(note.clone()));
        console.write_all(b"OK\r\n").unwrap();
        assert_eq!(note.text(), "", "text alone says nothing");
        console.write_all(b"\x01\x03\xFF\x00A").unwrap();
        console.write_all(b"\xC3\x28").unwrap();
        drop(console);
        assert_eq!(out.text(), "OK\r\n\x01\x03\\xFF\x00A\\xC3(");
        assert_eq!(note.text().lines().count(), 1, "{}", note.text());
        assert!(note.text().contains("\\xNN"), "{}", note.text());
    }

    #[test]
    fn a_character_split_between_writes_and_flushes_stays_whole() {
        let (out, note) = (Shared::default(), Shared::default());
        let mut console = ConsoleText::new(out.clone(), Box::new(note.clone()));
        let text = "你好, GBK 不是".as_bytes();
        for byte in text {
            console.write_all(std::slice::from_ref(byte)).unwrap();
            console.flush().unwrap();
        }
        // Cut in the middle of a character at the end: its bytes are shown escaped.
        console.write_all(&"好".as_bytes()[..2]).unwrap();
        drop(console);
        assert_eq!(out.text(), "你好, GBK 不是\\xE5\\xA5");
        assert_eq!(
            note.text(),
            "",
            "nothing was escaped while the stream went on"
        );
    }
}
