//! Checksum trailers (自动发送附加位): computed over a range of a payload and appended on send,
//! or checked on a received frame. CRCs come from the `crc` crate's catalogue.

use std::fmt;

use crate::i18n::{S, tf};

use crc::{CRC_16_KERMIT, CRC_16_MODBUS, CRC_16_XMODEM, CRC_32_ISO_HDLC, Crc};
use serde::{Deserialize, Serialize};

const MODBUS: Crc<u16> = Crc::<u16>::new(&CRC_16_MODBUS);
const XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
const KERMIT: Crc<u16> = Crc::<u16>::new(&CRC_16_KERMIT);
const CRC32: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);

/// Which trailer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChecksumKind {
    /// No trailer.
    #[default]
    None,
    /// CRC-16/MODBUS (poly 0x8005 reflected, init 0xFFFF); sent low byte first.
    Crc16Modbus,
    /// CRC-16/XMODEM: CCITT poly 0x1021, init 0, not reflected.
    Crc16Xmodem,
    /// CRC-16/KERMIT: CCITT poly 0x1021, init 0, reflected.
    Crc16Kermit,
    /// CRC-32 (ISO-HDLC, as in zip and Ethernet).
    Crc32,
    /// Sum of the bytes, modulo 256.
    Sum8,
    /// XOR of the bytes.
    Xor8,
    /// Two's complement of the sum: the bytes plus it add up to 0.
    NegSum8,
    /// The same bytes every time (e.g. an end marker).
    Fixed(Vec<u8>),
}

impl ChecksumKind {
    /// Every computed kind, in the order the UI offers them (Fixed is edited separately).
    pub const COMPUTED: [ChecksumKind; 8] = [
        ChecksumKind::None,
        ChecksumKind::Crc16Modbus,
        ChecksumKind::Crc16Xmodem,
        ChecksumKind::Crc16Kermit,
        ChecksumKind::Crc32,
        ChecksumKind::Sum8,
        ChecksumKind::Xor8,
        ChecksumKind::NegSum8,
    ];

    /// The name users know it by.
    pub fn name(&self) -> &'static str {
        match self {
            ChecksumKind::None => "None",
            ChecksumKind::Crc16Modbus => "CRC-16/MODBUS",
            ChecksumKind::Crc16Xmodem => "CRC-16/XMODEM (CCITT, init 0)",
            ChecksumKind::Crc16Kermit => "CRC-16/KERMIT (CCITT, reflected)",
            ChecksumKind::Crc32 => "CRC-32",
            ChecksumKind::Sum8 => "SUM8",
            ChecksumKind::Xor8 => "XOR8",
            ChecksumKind::NegSum8 => "Negative SUM8 (two's complement)",
            ChecksumKind::Fixed(_) => "Fixed bytes",
        }
    }

    /// The byte order engineers expect by default: Modbus sends the CRC low byte first.
    pub fn default_order(&self) -> ByteOrder {
        if *self == ChecksumKind::Crc16Modbus {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }
}

/// Byte order of a multi-byte value on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ByteOrder {
    /// Most significant byte first (network order).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// A trailer and the part of the payload it covers: from byte `skip_head` to the end minus
/// `skip_tail`, so a header or an end marker can be left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Checksum {
    /// Which trailer.
    pub kind: ChecksumKind,
    /// Byte order of CRC-16 and CRC-32 results.
    pub order: ByteOrder,
    /// Bytes at the start not covered.
    pub skip_head: usize,
    /// Bytes at the end not covered.
    pub skip_tail: usize,
}

/// The covered range does not fit the payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RangeError {
    /// Payload length.
    pub len: usize,
    /// Bytes skipped at the start.
    pub skip_head: usize,
    /// Bytes skipped at the end.
    pub skip_tail: usize,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: [&dyn fmt::Display; 3] = [&self.skip_head, &self.skip_tail, &self.len];
        f.write_str(&tf(S::ErrChecksumRange, &args))
    }
}

impl std::error::Error for RangeError {}

impl Checksum {
    /// A trailer of `kind` in its usual byte order over the whole payload.
    pub fn new(kind: ChecksumKind) -> Self {
        let order = kind.default_order();
        Self {
            kind,
            order,
            skip_head: 0,
            skip_tail: 0,
        }
    }

    /// How many bytes the trailer has.
    pub fn width(&self) -> usize {
        match &self.kind {
            ChecksumKind::None => 0,
            ChecksumKind::Crc16Modbus | ChecksumKind::Crc16Xmodem | ChecksumKind::Crc16Kermit => 2,
            ChecksumKind::Crc32 => 4,
            ChecksumKind::Sum8 | ChecksumKind::Xor8 | ChecksumKind::NegSum8 => 1,
            ChecksumKind::Fixed(bytes) => bytes.len(),
        }
    }

    fn covered<'a>(&self, payload: &'a [u8]) -> Result<&'a [u8], RangeError> {
        let end = payload.len().checked_sub(self.skip_tail);
        end.and_then(|end| payload.get(self.skip_head..end))
            .ok_or(RangeError {
                len: payload.len(),
                skip_head: self.skip_head,
                skip_tail: self.skip_tail,
            })
    }

    /// The trailer for `payload`.
    pub fn trailer(&self, payload: &[u8]) -> Result<Vec<u8>, RangeError> {
        if self.kind == ChecksumKind::None {
            return Ok(Vec::new());
        }
        let data = self.covered(payload)?;
        let ordered16 = |v: u16| match self.order {
            ByteOrder::Big => v.to_be_bytes().to_vec(),
            ByteOrder::Little => v.to_le_bytes().to_vec(),
        };
        Ok(match &self.kind {
            ChecksumKind::None => Vec::new(),
            ChecksumKind::Crc16Modbus => ordered16(MODBUS.checksum(data)),
            ChecksumKind::Crc16Xmodem => ordered16(XMODEM.checksum(data)),
            ChecksumKind::Crc16Kermit => ordered16(KERMIT.checksum(data)),
            ChecksumKind::Crc32 => {
                let v = CRC32.checksum(data);
                match self.order {
                    ByteOrder::Big => v.to_be_bytes().to_vec(),
                    ByteOrder::Little => v.to_le_bytes().to_vec(),
                }
            }
            ChecksumKind::Sum8 => vec![sum8(data)],
            ChecksumKind::Xor8 => vec![data.iter().fold(0, |a, b| a ^ b)],
            ChecksumKind::NegSum8 => vec![sum8(data).wrapping_neg()],
            ChecksumKind::Fixed(bytes) => bytes.clone(),
        })
    }

    /// Appends the trailer to `payload`.
    pub fn append(&self, payload: &mut Vec<u8>) -> Result<(), RangeError> {
        let trailer = self.trailer(payload)?;
        payload.extend(trailer);
        Ok(())
    }

    /// Checks a received frame whose last `width()` bytes are the trailer. `None` when there is
    /// no trailer to check or the frame is too short to hold one.
    pub fn verify(&self, frame: &[u8]) -> Option<bool> {
        let width = self.width();
        if width == 0 || frame.len() < width {
            return None;
        }
        let (payload, trailer) = frame.split_at(frame.len() - width);
        Some(self.trailer(payload).ok()? == trailer)
    }
}

fn sum8(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |a, b| a.wrapping_add(*b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHECK: &[u8] = b"123456789";

    fn value(kind: ChecksumKind, order: ByteOrder) -> Vec<u8> {
        Checksum {
            kind,
            order,
            ..Checksum::default()
        }
        .trailer(CHECK)
        .unwrap()
    }

    #[test]
    fn crcs_match_the_catalogue_check_values() {
        // The CRC catalogue's check values for "123456789".
        assert_eq!(
            value(ChecksumKind::Crc16Modbus, ByteOrder::Big),
            [0x4B, 0x37]
        );
        assert_eq!(
            value(ChecksumKind::Crc16Modbus, ByteOrder::Little),
            [0x37, 0x4B]
        );
        assert_eq!(
            value(ChecksumKind::Crc16Xmodem, ByteOrder::Big),
            [0x31, 0xC3]
        );
        assert_eq!(
            value(ChecksumKind::Crc16Kermit, ByteOrder::Big),
            [0x21, 0x89]
        );
        assert_eq!(
            value(ChecksumKind::Crc32, ByteOrder::Big),
            [0xCB, 0xF4, 0x39, 0x26]
        );
    }

    #[test]
    fn simple_sums_match_hand_computed_values() {
        // 0x31 + … + 0x39 = 0x1DD.
        assert_eq!(value(ChecksumKind::Sum8, ByteOrder::Big), [0xDD]);
        assert_eq!(value(ChecksumKind::NegSum8, ByteOrder::Big), [0x23]);
        assert_eq!(value(ChecksumKind::Xor8, ByteOrder::Big), [0x31]);
        assert_eq!(
            value(ChecksumKind::Fixed(vec![0x0D, 0x0A]), ByteOrder::Big),
            [0x0D, 0x0A]
        );
    }

    #[test]
    fn a_modbus_request_gets_its_known_crc() {
        // Read holding registers 0..10 of unit 1: 01 03 00 00 00 0A C5 CD.
        let mut frame = vec![0x01, 0x03, 0x00, 0x00, 0x00, 0x0A];
        Checksum::new(ChecksumKind::Crc16Modbus)
            .append(&mut frame)
            .unwrap();
        assert_eq!(frame[6..], [0xC5, 0xCD]);
    }

    #[test]
    fn the_range_can_leave_out_a_header_and_an_end_marker() {
        let sum = Checksum {
            kind: ChecksumKind::Sum8,
            skip_head: 1,
            skip_tail: 1,
            ..Checksum::default()
        };
        assert_eq!(sum.trailer(&[0x7E, 1, 2, 3, 0x7E]).unwrap(), [6]);
        let e = sum.trailer(&[0x7E]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "checksum range (skip 1 at the start, 1 at the end) does not fit a 1-byte payload"
        );
    }

    #[test]
    fn verify_tells_good_frames_from_bad() {
        let crc = Checksum::new(ChecksumKind::Crc16Modbus);
        assert_eq!(
            crc.verify(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]),
            Some(true)
        );
        assert_eq!(
            crc.verify(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0B, 0xC5, 0xCD]),
            Some(false)
        );
        assert_eq!(crc.verify(&[0x01]), None);
        assert_eq!(Checksum::default().verify(b"abc"), None);
    }

    fn any_kind() -> impl Strategy<Value = ChecksumKind> {
        prop_oneof![
            prop::sample::select(ChecksumKind::COMPUTED.to_vec()),
            proptest::collection::vec(any::<u8>(), 1..4).prop_map(ChecksumKind::Fixed),
        ]
    }

    proptest! {
        #[test]
        fn an_appended_trailer_always_verifies(
            payload in proptest::collection::vec(any::<u8>(), 0..64),
            kind in any_kind(),
            little in any::<bool>(),
            skip_head in 0usize..4,
            skip_tail in 0usize..4,
        ) {
            let order = if little { ByteOrder::Little } else { ByteOrder::Big };
            let sum = Checksum { kind, order, skip_head, skip_tail };
            let mut frame = payload.clone();
            match sum.append(&mut frame) {
                Ok(()) => {
                    prop_assert_eq!(frame.len(), payload.len() + sum.width());
                    prop_assert!(sum.verify(&frame) != Some(false));
                }
                Err(_) => prop_assert!(skip_head + skip_tail > payload.len()),
            }
        }
    }
}
