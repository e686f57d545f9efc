//! Checksum algorithms of protocol specs: sums, XOR, CRC-16/MODBUS, HJ 212's CRC, CRC-32,
//! every CRC of the catalogue by name, and any CRC by its parameters.

use super::spec::{Algo, CrcParams};

const MODBUS: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);
const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

/// One CRC of the catalogue: its name and parameters, and its check value (the CRC of the
/// ASCII digits `123456789`).
pub struct Catalogued {
    /// Its name (`CRC-16/XMODEM`).
    pub name: &'static str,
    /// Its parameters.
    pub params: CrcParams,
    /// The CRC of `123456789`.
    pub check: u64,
}

macro_rules! row {
    ($alg:ident, $name:literal) => {
        Catalogued {
            name: $name,
            params: CrcParams {
                width: crc::$alg.width,
                poly: crc::$alg.poly as u64,
                init: crc::$alg.init as u64,
                refin: crc::$alg.refin,
                refout: crc::$alg.refout,
                xorout: crc::$alg.xorout as u64,
            },
            check: crc::$alg.check as u64,
        }
    };
}

/// The catalogue (reveng's, as the `crc` crate carries it), widths up to 64.
pub static CATALOGUE: &[Catalogued] = &[
    row!(CRC_3_GSM, "CRC-3/GSM"),
    row!(CRC_3_ROHC, "CRC-3/ROHC"),
    row!(CRC_4_G_704, "CRC-4/G-704"),
    row!(CRC_4_INTERLAKEN, "CRC-4/INTERLAKEN"),
    row!(CRC_5_EPC_C1G2, "CRC-5/EPC-C1G2"),
    row!(CRC_5_G_704, "CRC-5/G-704"),
    row!(CRC_5_USB, "CRC-5/USB"),
    row!(CRC_6_CDMA2000_A, "CRC-6/CDMA2000-A"),
    row!(CRC_6_CDMA2000_B, "CRC-6/CDMA2000-B"),
    row!(CRC_6_DARC, "CRC-6/DARC"),
    row!(CRC_6_G_704, "CRC-6/G-704"),
    row!(CRC_6_GSM, "CRC-6/GSM"),
    row!(CRC_7_MMC, "CRC-7/MMC"),
    row!(CRC_7_ROHC, "CRC-7/ROHC"),
    row!(CRC_7_UMTS, "CRC-7/UMTS"),
    row!(CRC_8_AUTOSAR, "CRC-8/AUTOSAR"),
    row!(CRC_8_BLUETOOTH, "CRC-8/BLUETOOTH"),
    row!(CRC_8_CDMA2000, "CRC-8/CDMA2000"),
    row!(CRC_8_DARC, "CRC-8/DARC"),
    row!(CRC_8_DVB_S2, "CRC-8/DVB-S2"),
    row!(CRC_8_GSM_A, "CRC-8/GSM-A"),
    row!(CRC_8_GSM_B, "CRC-8/GSM-B"),
    row!(CRC_8_HITAG, "CRC-8/HITAG"),
    row!(CRC_8_I_432_1, "CRC-8/I-432-1"),
    row!(CRC_8_I_CODE, "CRC-8/I-CODE"),
    row!(CRC_8_LTE, "CRC-8/LTE"),
    row!(CRC_8_MAXIM_DOW, "CRC-8/MAXIM-DOW"),
    row!(CRC_8_MIFARE_MAD, "CRC-8/MIFARE-MAD"),
    row!(CRC_8_NRSC_5, "CRC-8/NRSC-5"),
    row!(CRC_8_OPENSAFETY, "CRC-8/OPENSAFETY"),
    row!(CRC_8_ROHC, "CRC-8/ROHC"),
    row!(CRC_8_SAE_J1850, "CRC-8/SAE-J1850"),
    row!(CRC_8_SMBUS, "CRC-8/SMBUS"),
    row!(CRC_8_TECH_3250, "CRC-8/TECH-3250"),
    row!(CRC_8_WCDMA, "CRC-8/WCDMA"),
    row!(CRC_10_ATM, "CRC-10/ATM"),
    row!(CRC_10_CDMA2000, "CRC-10/CDMA2000"),
    row!(CRC_10_GSM, "CRC-10/GSM"),
    row!(CRC_11_FLEXRAY, "CRC-11/FLEXRAY"),
    row!(CRC_11_UMTS, "CRC-11/UMTS"),
    row!(CRC_12_CDMA2000, "CRC-12/CDMA2000"),
    row!(CRC_12_DECT, "CRC-12/DECT"),
    row!(CRC_12_GSM, "CRC-12/GSM"),
    row!(CRC_12_UMTS, "CRC-12/UMTS"),
    row!(CRC_13_BBC, "CRC-13/BBC"),
    row!(CRC_14_DARC, "CRC-14/DARC"),
    row!(CRC_14_GSM, "CRC-14/GSM"),
    row!(CRC_15_CAN, "CRC-15/CAN"),
    row!(CRC_15_MPT1327, "CRC-15/MPT1327"),
    row!(CRC_16_ARC, "CRC-16/ARC"),
    row!(CRC_16_CDMA2000, "CRC-16/CDMA2000"),
    row!(CRC_16_CMS, "CRC-16/CMS"),
    row!(CRC_16_DDS_110, "CRC-16/DDS-110"),
    row!(CRC_16_DECT_R, "CRC-16/DECT-R"),
    row!(CRC_16_DECT_X, "CRC-16/DECT-X"),
    row!(CRC_16_DNP, "CRC-16/DNP"),
    row!(CRC_16_EN_13757, "CRC-16/EN-13757"),
    row!(CRC_16_GENIBUS, "CRC-16/GENIBUS"),
    row!(CRC_16_GSM, "CRC-16/GSM"),
    row!(CRC_16_IBM_3740, "CRC-16/IBM-3740"),
    row!(CRC_16_IBM_SDLC, "CRC-16/IBM-SDLC"),
    row!(CRC_16_ISO_IEC_14443_3_A, "CRC-16/ISO-IEC-14443-3-A"),
    row!(CRC_16_KERMIT, "CRC-16/KERMIT"),
    row!(CRC_16_LJ1200, "CRC-16/LJ1200"),
    row!(CRC_16_M17, "CRC-16/M17"),
    row!(CRC_16_MAXIM_DOW, "CRC-16/MAXIM-DOW"),
    row!(CRC_16_MCRF4XX, "CRC-16/MCRF4XX"),
    row!(CRC_16_MODBUS, "CRC-16/MODBUS"),
    row!(CRC_16_NRSC_5, "CRC-16/NRSC-5"),
    row!(CRC_16_OPENSAFETY_A, "CRC-16/OPENSAFETY-A"),
    row!(CRC_16_OPENSAFETY_B, "CRC-16/OPENSAFETY-B"),
    row!(CRC_16_PROFIBUS, "CRC-16/PROFIBUS"),
    row!(CRC_16_RIELLO, "CRC-16/RIELLO"),
    row!(CRC_16_SPI_FUJITSU, "CRC-16/SPI-FUJITSU"),
    row!(CRC_16_T10_DIF, "CRC-16/T10-DIF"),
    row!(CRC_16_TELEDISK, "CRC-16/TELEDISK"),
    row!(CRC_16_TMS37157, "CRC-16/TMS37157"),
    row!(CRC_16_UMTS, "CRC-16/UMTS"),
    row!(CRC_16_USB, "CRC-16/USB"),
    row!(CRC_16_XMODEM, "CRC-16/XMODEM"),
    row!(CRC_17_CAN_FD, "CRC-17/CAN-FD"),
    row!(CRC_21_CAN_FD, "CRC-21/CAN-FD"),
    row!(CRC_24_BLE, "CRC-24/BLE"),
    row!(CRC_24_FLEXRAY_A, "CRC-24/FLEXRAY-A"),
    row!(CRC_24_FLEXRAY_B, "CRC-24/FLEXRAY-B"),
    row!(CRC_24_INTERLAKEN, "CRC-24/INTERLAKEN"),
    row!(CRC_24_LTE_A, "CRC-24/LTE-A"),
    row!(CRC_24_LTE_B, "CRC-24/LTE-B"),
    row!(CRC_24_OPENPGP, "CRC-24/OPENPGP"),
    row!(CRC_24_OS_9, "CRC-24/OS-9"),
    row!(CRC_30_CDMA, "CRC-30/CDMA"),
    row!(CRC_31_PHILIPS, "CRC-31/PHILIPS"),
    row!(CRC_32_AIXM, "CRC-32/AIXM"),
    row!(CRC_32_AUTOSAR, "CRC-32/AUTOSAR"),
    row!(CRC_32_BASE91_D, "CRC-32/BASE91-D"),
    row!(CRC_32_BZIP2, "CRC-32/BZIP2"),
    row!(CRC_32_CD_ROM_EDC, "CRC-32/CD-ROM-EDC"),
    row!(CRC_32_CKSUM, "CRC-32/CKSUM"),
    row!(CRC_32_ISCSI, "CRC-32/ISCSI"),
    row!(CRC_32_ISO_HDLC, "CRC-32/ISO-HDLC"),
    row!(CRC_32_JAMCRC, "CRC-32/JAMCRC"),
    row!(CRC_32_MEF, "CRC-32/MEF"),
    row!(CRC_32_MPEG_2, "CRC-32/MPEG-2"),
    row!(CRC_32_XFER, "CRC-32/XFER"),
    row!(CRC_40_GSM, "CRC-40/GSM"),
    row!(CRC_64_ECMA_182, "CRC-64/ECMA-182"),
    row!(CRC_64_GO_ISO, "CRC-64/GO-ISO"),
    row!(CRC_64_MS, "CRC-64/MS"),
    row!(CRC_64_NVME, "CRC-64/NVME"),
    row!(CRC_64_REDIS, "CRC-64/REDIS"),
    row!(CRC_64_WE, "CRC-64/WE"),
    row!(CRC_64_XZ, "CRC-64/XZ"),
];

/// Other names engineers use for some of them.
const ALIASES: &[(&str, &str)] = &[
    ("CRC-16/CCITT-FALSE", "CRC-16/IBM-3740"),
    ("CRC-16/AUTOSAR", "CRC-16/IBM-3740"),
    ("CRC-16/CCITT", "CRC-16/KERMIT"),
    ("CRC-16/IBM", "CRC-16/ARC"),
    ("CRC-16", "CRC-16/ARC"),
    ("CRC-16/X-25", "CRC-16/IBM-SDLC"),
    ("CRC-32", "CRC-32/ISO-HDLC"),
    ("CRC-32C", "CRC-32/ISCSI"),
    ("CRC-8", "CRC-8/SMBUS"),
];

/// The catalogue's parameters for `name` (any case; common other names too).
pub fn catalogued(name: &str) -> Option<CrcParams> {
    let name = name.trim();
    let name = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, real)| real);
    CATALOGUE
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
        .map(|c| c.params)
}

/// Bytes of the result, or `None` for an algorithm that cannot be (an unknown name, a width
/// of 0 or over 64).
pub fn width(algo: &Algo) -> Option<u8> {
    Some(match algo {
        Algo::Sum8 | Algo::NegSum8 | Algo::Xor8 => 1,
        Algo::Sum16 | Algo::Crc16Modbus | Algo::Hj212 => 2,
        Algo::Crc32 => 4,
        Algo::Catalog(name) => bytes_of(catalogued(name)?.width)?,
        Algo::Crc(p) => bytes_of(p.width)?,
    })
}

fn bytes_of(bits: u8) -> Option<u8> {
    (1..=64).contains(&bits).then(|| bits.div_ceil(8))
}

/// Its name for people.
pub fn name(algo: &Algo) -> String {
    match algo {
        Algo::Sum8 => "SUM8".into(),
        Algo::NegSum8 => "-SUM8".into(),
        Algo::Xor8 => "XOR".into(),
        Algo::Sum16 => "SUM16".into(),
        Algo::Crc16Modbus => "CRC-16/MODBUS".into(),
        Algo::Hj212 => "HJ 212 CRC-16".into(),
        Algo::Crc32 => "CRC-32".into(),
        Algo::Catalog(name) => name.to_ascii_uppercase(),
        Algo::Crc(p) => format!("CRC-{} poly 0x{:X}", p.width, p.poly),
    }
}

/// The checksum of `data`, or `None` for an algorithm [`width`] refuses.
pub fn compute(algo: &Algo, data: &[u8]) -> Option<u64> {
    Some(match algo {
        Algo::Sum8 => u64::from(data.iter().fold(0u8, |a, b| a.wrapping_add(*b))),
        Algo::NegSum8 => u64::from(
            data.iter()
                .fold(0u8, |a, b| a.wrapping_add(*b))
                .wrapping_neg(),
        ),
        Algo::Xor8 => u64::from(data.iter().fold(0u8, |a, b| a ^ b)),
        Algo::Sum16 => u64::from(data.iter().fold(0u16, |a, b| a.wrapping_add(u16::from(*b)))),
        Algo::Crc16Modbus => u64::from(MODBUS.checksum(data)),
        Algo::Hj212 => u64::from(hj212(data)),
        Algo::Crc32 => u64::from(CRC32.checksum(data)),
        Algo::Catalog(name) => crc_bitwise(&catalogued(name)?, data)?,
        Algo::Crc(p) => crc_bitwise(p, data)?,
    })
}

/// HJ 212-2017's CRC-16, as the standard's appendix gives it: for each byte, the register's
/// high byte XOR the byte becomes the register, then 8 shifts right with 0xA001. (CRC-16/
/// MODBUS XORs the byte into the low byte instead; public samples often use that by mistake.)
pub fn hj212(data: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in data {
        crc = (crc >> 8) ^ u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn reflect(mut v: u64, bits: u8) -> u64 {
    let mut out = 0;
    for _ in 0..bits {
        out = out << 1 | (v & 1);
        v >>= 1;
    }
    out
}

/// Any CRC of width 1 to 64, a bit at a time (the catalogue's and the tables' results are
/// checked against it).
pub fn crc_bitwise(p: &CrcParams, data: &[u8]) -> Option<u64> {
    let w = p.width;
    if !(1..=64).contains(&w) {
        return None;
    }
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let top = 1u64 << (w - 1);
    let mut reg = p.init & mask;
    for &byte in data {
        let byte = if p.refin {
            reflect(u64::from(byte), 8)
        } else {
            u64::from(byte)
        };
        for i in (0..8).rev() {
            let bit = (byte >> i) & 1;
            let msb = u64::from(reg & top != 0);
            reg = (reg << 1) & mask;
            if msb ^ bit == 1 {
                reg ^= p.poly & mask;
            }
        }
    }
    if p.refout {
        reg = reflect(reg, w);
    }
    Some((reg ^ p.xorout) & mask)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_catalogued_crc_gives_its_check_value() {
        for c in CATALOGUE {
            assert_eq!(
                crc_bitwise(&c.params, b"123456789"),
                Some(c.check),
                "{}",
                c.name
            );
        }
        assert!(CATALOGUE.len() > 100);
        assert_eq!(
            catalogued("crc-16/ccitt-false"),
            catalogued("CRC-16/IBM-3740")
        );
        assert_eq!(catalogued("CRC-99/NONE"), None);
    }

    #[test]
    fn hj212_crc_is_not_modbus() {
        let data = b"QN=20210118201054000;ST=32;CN=3032;PW=123456;MN=20210107123456;Flag=5;CP=&&PolId=a34004,MB_BgnAddr=192,MB_Wrt=5&&";
        assert_eq!(hj212(data), 0x0F00);
        assert_eq!(compute(&Algo::Crc16Modbus, data), Some(0xE418));
    }

    proptest! {
        #[test]
        fn the_table_crcs_agree_with_the_bitwise_one(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let modbus = catalogued("CRC-16/MODBUS").unwrap();
            prop_assert_eq!(compute(&Algo::Crc16Modbus, &data), crc_bitwise(&modbus, &data));
            let crc32 = catalogued("CRC-32/ISO-HDLC").unwrap();
            prop_assert_eq!(compute(&Algo::Crc32, &data), crc_bitwise(&crc32, &data));
        }
    }
}
