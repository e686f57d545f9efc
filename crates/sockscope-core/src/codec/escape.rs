//! Text with escapes, as in C string literals: `\r \n \t \0 \\ \xHH`. Lets a text payload carry
//! control characters and raw bytes (`AT+CMD\r\n`, `\x02DATA\x03`).

use std::fmt::{self, Write as _};

use crate::i18n::{S, tf};

use super::text::{EncodeError, TextEncoding};

/// Why an escaped text is not bytes, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EscapeError {
    /// A backslash followed by something that is not an escape we know.
    Unknown {
        /// 1-based character column of the backslash.
        column: usize,
        /// The character after it (None at the end of the text).
        found: Option<char>,
    },
    /// `\x` not followed by two hex digits.
    BadHex {
        /// 1-based character column of the backslash.
        column: usize,
    },
    /// Plain text the encoding cannot hold.
    Encode(EncodeError),
}

impl fmt::Display for EscapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EscapeError::Unknown {
                column,
                found: Some(c),
            } => f.write_str(&tf(S::ErrEscapeUnknown, &[c, column])),
            EscapeError::Unknown {
                column,
                found: None,
            } => f.write_str(&tf(S::ErrEscapeLone, &[column])),
            EscapeError::BadHex { column } => f.write_str(&tf(S::ErrEscapeHex, &[column])),
            EscapeError::Encode(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for EscapeError {}

/// Turns escaped text into bytes; plain runs are encoded with `encoding`.
pub fn parse(input: &str, encoding: TextEncoding) -> Result<Vec<u8>, EscapeError> {
    let mut out = Vec::with_capacity(input.len());
    let mut plain = String::new();
    let mut plain_start = 1;
    let mut chars = input.chars().enumerate().peekable();
    let flush = |plain: &mut String, start: usize, out: &mut Vec<u8>| -> Result<(), EscapeError> {
        if !plain.is_empty() {
            let bytes = encoding.encode(plain).map_err(|mut e| {
                e.column += start - 1;
                EscapeError::Encode(e)
            })?;
            out.extend(bytes);
            plain.clear();
        }
        Ok(())
    };
    while let Some((index, c)) = chars.next() {
        let column = index + 1;
        if c != '\\' {
            if plain.is_empty() {
                plain_start = column;
            }
            plain.push(c);
            continue;
        }
        flush(&mut plain, plain_start, &mut out)?;
        let byte = match chars.next().map(|(_, c)| c) {
            Some('r') => b'\r',
            Some('n') => b'\n',
            Some('t') => b'\t',
            Some('0') => 0,
            Some('\\') => b'\\',
            Some('x') => {
                let hi = chars.next().and_then(|(_, c)| c.to_digit(16));
                let lo = chars.next().and_then(|(_, c)| c.to_digit(16));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => (hi * 16 + lo) as u8,
                    _ => return Err(EscapeError::BadHex { column }),
                }
            }
            found => return Err(EscapeError::Unknown { column, found }),
        };
        out.push(byte);
    }
    flush(&mut plain, plain_start, &mut out)?;
    Ok(out)
}

/// Writes bytes as escaped text that [`parse`] (with UTF-8) turns back into the same bytes:
/// printable ASCII as is, `\\` for a backslash, the usual escapes, `\xHH` for the rest.
pub fn format(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0 => out.push_str("\\0"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7E => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_usual_escapes_become_their_bytes() {
        let bytes = parse(r"AT+CMD\r\n\x02\t\0\\", TextEncoding::UTF_8).unwrap();
        assert_eq!(bytes, b"AT+CMD\r\n\x02\t\0\\");
    }

    #[test]
    fn plain_text_is_encoded_in_the_chosen_encoding() {
        let bytes = parse(r"你好\r\n", TextEncoding::GBK).unwrap();
        assert_eq!(bytes, [0xC4, 0xE3, 0xBA, 0xC3, b'\r', b'\n']);
    }

    #[test]
    fn bad_escapes_name_their_column() {
        assert_eq!(
            parse(r"ab\q", TextEncoding::UTF_8),
            Err(EscapeError::Unknown {
                column: 3,
                found: Some('q')
            })
        );
        assert_eq!(
            parse(r"\xG1", TextEncoding::UTF_8),
            Err(EscapeError::BadHex { column: 1 })
        );
        assert_eq!(
            parse(r"x\", TextEncoding::UTF_8),
            Err(EscapeError::Unknown {
                column: 2,
                found: None
            })
        );
        let e = parse(r"\n😀", TextEncoding::GBK).unwrap_err();
        assert_eq!(e.to_string(), "'😀' at column 3 cannot be written in GBK");
    }

    proptest! {
        #[test]
        fn format_then_parse_gives_the_bytes_back(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(parse(&format(&bytes), TextEncoding::UTF_8), Ok(bytes));
        }

        #[test]
        fn parse_never_panics(input in ".*") {
            let _ = parse(&input, TextEncoding::GBK);
        }
    }
}
