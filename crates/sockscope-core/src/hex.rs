//! Hex as device engineers type it (`01 02`, `0x01,0x02`, `0102`) and as they read it
//! (`48 65 6C 6C 6F`).

use crate::i18n::{S, tf};
use std::fmt;

/// Why typed hex is not bytes, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexError {
    /// 1-based character column in the whole input (a Chinese character counts as one).
    pub column: usize,
    /// What is wrong there.
    pub kind: HexErrorKind,
}

/// The kinds of bad hex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HexErrorKind {
    /// A character that is neither a hex digit nor a separator.
    BadDigit(char),
    /// A group of more than one digit with an odd count, e.g. `123`.
    OddDigits {
        /// How many digits the group has.
        digits: usize,
    },
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            HexErrorKind::BadDigit(c) => f.write_str(&tf(S::ErrHexDigit, &[&c, &self.column])),
            HexErrorKind::OddDigits { digits } => {
                f.write_str(&tf(S::ErrHexOdd, &[&digits, &self.column]))
            }
        }
    }
}

impl std::error::Error for HexError {}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-')
}

/// Parses tolerant hex: separators are whitespace and `, ; : -`; a group may start with
/// `0x`/`0X`; digits in a group are read in pairs, and a lone digit (`1 2`) means `01 02`.
pub fn parse(input: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(input.len() / 2);
    let mut chars = input.chars().enumerate().peekable();
    while let Some(&(index, c)) = chars.peek() {
        if is_separator(c) {
            chars.next();
            continue;
        }
        // A group: optional 0x, then hex digits up to the next separator.
        let start = index + 1;
        chars.next();
        let mut digits: Vec<u8> = Vec::new();
        let mut first = Some(c);
        if c == '0' && chars.peek().is_some_and(|&(_, n)| n == 'x' || n == 'X') {
            chars.next();
            first = None;
        }
        let mut first_digit_column = start;
        loop {
            let (column, c) = match first.take() {
                Some(c) => (start, c),
                None => match chars.peek() {
                    Some(&(i, c)) if !is_separator(c) => {
                        chars.next();
                        (i + 1, c)
                    }
                    _ => break,
                },
            };
            let Some(value) = c.to_digit(16) else {
                return Err(HexError {
                    column,
                    kind: HexErrorKind::BadDigit(c),
                });
            };
            if digits.is_empty() {
                first_digit_column = column;
            }
            digits.push(value as u8);
        }
        match digits.len() {
            0 => {}
            1 => out.extend(digits),
            n if n % 2 == 1 => {
                return Err(HexError {
                    column: first_digit_column,
                    kind: HexErrorKind::OddDigits { digits: n },
                });
            }
            _ => out.extend(digits.chunks_exact(2).map(|pair| match pair {
                [hi, lo] => (hi << 4) | lo,
                _ => 0,
            })),
        }
    }
    Ok(out)
}

const DIGITS: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes as uppercase hex pairs separated by single spaces: `48 65 6C`.
pub fn format(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    format_into(&mut out, bytes);
    out
}

/// Appends `format(bytes)` to `out` without allocating per byte.
#[expect(
    clippy::indexing_slicing,
    reason = "a nibble is below 16 and the table has 16 digits"
)]
pub fn format_into(out: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_ways_engineers_type_hex_all_parse() {
        for input in [
            "01 02",
            "0x01,0x02",
            "0102",
            "01-02",
            "01:02",
            "0X01;0x02",
            " 1 2 ",
            "\n01\t02\n",
        ] {
            assert_eq!(parse(input), Ok(vec![1, 2]), "{input:?}");
        }
        assert_eq!(parse("48656c6C6f"), Ok(b"Hello".to_vec()));
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse(" ,; "), Ok(vec![]));
    }

    #[test]
    fn bad_digit_names_its_column() {
        let e = parse("0G").unwrap_err();
        assert_eq!(
            e,
            HexError {
                column: 2,
                kind: HexErrorKind::BadDigit('G')
            }
        );
        assert_eq!(e.to_string(), "'G' at column 2 is not a hex digit");
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let e = parse("01 中").unwrap_err();
        assert_eq!(e.column, 4);
    }

    #[test]
    fn odd_group_is_an_error_at_its_first_digit() {
        let e = parse("01 0x123").unwrap_err();
        assert_eq!(
            e,
            HexError {
                column: 6,
                kind: HexErrorKind::OddDigits { digits: 3 }
            }
        );
    }

    #[test]
    fn format_is_uppercase_pairs_with_single_spaces() {
        assert_eq!(format(b"Hello"), "48 65 6C 6C 6F");
        assert_eq!(format(&[]), "");
        assert_eq!(format(&[0, 255]), "00 FF");
    }

    proptest! {
        #[test]
        fn format_then_parse_gives_the_bytes_back(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(parse(&format(&bytes)), Ok(bytes));
        }

        #[test]
        fn parse_never_panics(input in ".*") {
            let _ = parse(&input);
        }

        #[test]
        fn decorated_hex_parses_to_the_same_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..64),
            seps in proptest::collection::vec(prop::sample::select(vec![" ", ",", ", ", ";", ":", "-", "\n", "\t"]), 64),
            prefixed in proptest::collection::vec(any::<bool>(), 64),
            lower in any::<bool>(),
        ) {
            let mut text = String::new();
            for (i, b) in bytes.iter().enumerate() {
                text.push_str(seps[i]);
                if prefixed[i] { text.push_str("0x"); }
                let pair = format!("{b:02X}");
                text.push_str(&if lower { pair.to_lowercase() } else { pair });
            }
            prop_assert_eq!(parse(&text), Ok(bytes));
        }
    }
}
