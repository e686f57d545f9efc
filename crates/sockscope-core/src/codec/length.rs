//! Length prefixes: a 1, 2, 4 or 8-byte length before a message, big or little endian,
//! counting the header itself or not. The same type describes send and receive framing.

use std::fmt;

use crate::i18n::{S, tf};

use serde::{Deserialize, Serialize};

use super::checksum::ByteOrder;

/// How a length prefix is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LengthPrefix {
    /// Header size in bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// Byte order of the header.
    pub order: ByteOrder,
    /// The length counts the header too.
    pub includes_header: bool,
}

impl Default for LengthPrefix {
    fn default() -> Self {
        Self {
            width: 2,
            order: ByteOrder::Big,
            includes_header: false,
        }
    }
}

/// A message too long for the header, or a header width that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LengthError {
    /// The header width is not 1, 2, 4 or 8.
    BadWidth(u8),
    /// The length does not fit in the header.
    TooLong {
        /// The length that would be written.
        len: u64,
        /// The header width.
        width: u8,
    },
}

impl fmt::Display for LengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthError::BadWidth(w) => f.write_str(&tf(S::ErrWidth, &[w])),
            LengthError::TooLong { len, width } => {
                f.write_str(&tf(S::ErrLengthTooLong, &[len, width]))
            }
        }
    }
}

impl std::error::Error for LengthError {}

impl LengthPrefix {
    /// The widths offered.
    pub const WIDTHS: [u8; 4] = [1, 2, 4, 8];

    /// `header ++ payload`.
    pub fn wrap(&self, payload: &[u8]) -> Result<Vec<u8>, LengthError> {
        let width = usize::from(self.width);
        if !Self::WIDTHS.contains(&self.width) {
            return Err(LengthError::BadWidth(self.width));
        }
        let extra = if self.includes_header { width } else { 0 };
        let len = (payload.len() + extra) as u64;
        let max = if width == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        if len > max {
            return Err(LengthError::TooLong {
                len,
                width: self.width,
            });
        }
        let all = match self.order {
            ByteOrder::Big => len.to_be_bytes(),
            ByteOrder::Little => len.to_le_bytes(),
        };
        let header = match self.order {
            ByteOrder::Big => all.get(8 - width..),
            ByteOrder::Little => all.get(..width),
        };
        let mut out = Vec::with_capacity(width + payload.len());
        out.extend_from_slice(header.unwrap_or_default());
        out.extend_from_slice(payload);
        Ok(out)
    }

    /// The payload length a header announces, or `None` if `header` is shorter than the width
    /// or the announced length is smaller than the header it must include.
    pub fn payload_len(&self, header: &[u8]) -> Option<u64> {
        let width = usize::from(self.width);
        let bytes = header.get(..width)?;
        let mut value: u64 = 0;
        let ordered: Box<dyn Iterator<Item = &u8>> = match self.order {
            ByteOrder::Big => Box::new(bytes.iter()),
            ByteOrder::Little => Box::new(bytes.iter().rev()),
        };
        for b in ordered {
            value = (value << 8) | u64::from(*b);
        }
        if self.includes_header {
            value.checked_sub(width as u64)
        } else {
            Some(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn headers_are_written_as_configured() {
        let be2 = LengthPrefix {
            width: 2,
            order: ByteOrder::Big,
            includes_header: false,
        };
        assert_eq!(be2.wrap(b"abc").unwrap(), [0, 3, b'a', b'b', b'c']);
        let le4 = LengthPrefix {
            width: 4,
            order: ByteOrder::Little,
            includes_header: true,
        };
        assert_eq!(le4.wrap(b"ab").unwrap(), [6, 0, 0, 0, b'a', b'b']);
        let one = LengthPrefix {
            width: 1,
            ..LengthPrefix::default()
        };
        assert_eq!(
            one.wrap(&[0; 256]).unwrap_err().to_string(),
            "length 256 does not fit in a 1-byte prefix"
        );
    }

    proptest! {
        #[test]
        fn the_header_announces_the_payload_length(
            payload in proptest::collection::vec(any::<u8>(), 0..300),
            width in prop::sample::select(LengthPrefix::WIDTHS.to_vec()),
            little in any::<bool>(),
            includes_header in any::<bool>(),
        ) {
            let order = if little { ByteOrder::Little } else { ByteOrder::Big };
            let prefix = LengthPrefix { width, order, includes_header };
            if let Ok(framed) = prefix.wrap(&payload) {
                prop_assert_eq!(prefix.payload_len(&framed), Some(payload.len() as u64));
                prop_assert_eq!(&framed[usize::from(width)..], &payload[..]);
            } else {
                prop_assert_eq!(width, 1);
            }
        }
    }
}
