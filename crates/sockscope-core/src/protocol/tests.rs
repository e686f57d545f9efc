//! The spec engine against public vectors, byte by byte: every vector decodes to the fields the
//! standard gives and encodes back to the same bytes.

use super::*;
use crate::codec::hex;

fn proto(name: &str) -> Arc<Protocol> {
    builtin(name).unwrap_or_else(|| panic!("no built-in {name}: {:?}", load_errors()))
}

/// Why a built-in does not load (empty when all do).
fn load_errors() -> Vec<String> {
    builtin_sources()
        .iter()
        .filter_map(|(file, text)| Protocol::load(text).err().map(|e| format!("{file}: {e}")))
        .collect()
}

/// Decodes `hex` with `name`, checks it decoded to the end with every checksum holding, and
/// that its values encode to the same bytes.
fn vector(name: &str, text: &str, dir: Dir) -> (Arc<Protocol>, Decoded) {
    let p = proto(name);
    let frame = hex::parse(text).unwrap();
    let d = p.decode(&frame, dir);
    assert_eq!(d.stop, None, "{name} {text}: {}", p.summary(&d));
    assert!(d.checks_ok(), "{name} {text}: {}", p.summary(&d));
    let again = p
        .encode(&d.values(), dir)
        .unwrap_or_else(|e| panic!("{name} {text}: {e}"));
    assert_eq!(
        hex::format(&again),
        hex::format(&frame),
        "{name}: re-encoded"
    );
    (p, d)
}

fn int(d: &Decoded, path: &str) -> i128 {
    match d.get(path).map(|f| &f.value) {
        Some(FieldValue::Int(n)) => *n,
        other => panic!(
            "{path}: {other:?} in {:#?}",
            d.all()
                .iter()
                .map(|(p, f)| (p.clone(), f.value.clone()))
                .collect::<Vec<_>>()
        ),
    }
}

fn text(d: &Decoded, path: &str) -> String {
    match d.get(path).map(|f| &f.value) {
        Some(FieldValue::Text(s)) => s.clone(),
        other => panic!("{path}: {other:?}"),
    }
}

fn shown(p: &Protocol, d: &Decoded, path: &str) -> String {
    p.shown(d.get(path).unwrap_or_else(|| panic!("no {path}")))
}

#[test]
fn every_builtin_loads() {
    assert_eq!(load_errors(), Vec::<String>::new());
    assert_eq!(builtins().len(), builtin_sources().len());
}

#[test]
fn jt808_platform_general_reply() {
    let (p, d) = vector(
        "jt808",
        "7e8001000505805668746700000026000200087e",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "msg_id"), 0x8001);
    assert_eq!(int(&d, "props.body_len"), 5);
    assert_eq!(text(&d, "phone"), "058056687467");
    assert_eq!(int(&d, "serial"), 0);
    assert_eq!(int(&d, "body.reply_serial"), 0x26);
    assert_eq!(int(&d, "body.reply_id"), 0x0002);
    assert_eq!(int(&d, "body.result"), 0);
    assert_eq!(int(&d, "check"), 0x08);
    assert_eq!(shown(&p, &d, "check"), "0x08 √ XOR");
    assert_eq!(shown(&p, &d, "msg_id"), "0x8001 Platform general reply");
}

#[test]
fn jt808_heartbeat_with_a_vendor_body_keeps_the_extra_bytes() {
    let (_, d) = vector(
        "jt808",
        "7e0002001105805668746700265d102815000501006404000020d06501001d7e",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "msg_id"), 2);
    assert_eq!(int(&d, "serial"), 0x26);
    assert_eq!(int(&d, "check"), 0x1D);
    let extra = d.get("body.extra").unwrap();
    assert_eq!(extra.range, 13..30);
}

#[test]
fn jt808_2019_location_report() {
    let (p, d) = vector(
        "jt808",
        "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "props.version"), 1);
    assert_eq!(int(&d, "proto_ver"), 1);
    assert_eq!(text(&d, "phone"), "00000000013912344329");
    assert_eq!(int(&d, "body.alarm"), 0x6F);
    // Status 0x16: positioned, bit 2 south, stopped.
    assert_eq!(int(&d, "body.status"), 0x16);
    assert_eq!(int(&d, "body.lat"), 31_234_567);
    assert_eq!(int(&d, "body.lon"), 121_987_654);
    assert_eq!(int(&d, "body.alt"), 123);
    assert_eq!(int(&d, "body.speed"), 66);
    assert_eq!(int(&d, "body.dir"), 3);
    assert_eq!(text(&d, "body.time"), "250129223344");
    assert_eq!(int(&d, "body.items.0.id"), 2);
    assert_eq!(int(&d, "body.items.0.value.litres"), 100);
    assert_eq!(int(&d, "body.items.1.id"), 1);
    assert_eq!(int(&d, "body.items.1.value.km"), 12);
    assert_eq!(int(&d, "check"), 0x41);
    assert_eq!(shown(&p, &d, "body.lat"), "31.234567°");
    assert_eq!(shown(&p, &d, "body.speed"), "6.6 km/h");
    assert_eq!(shown(&p, &d, "body.time"), "2025-01-29 22:33:44");
    assert_eq!(shown(&p, &d, "body.items.0.value.litres"), "10.0 L");
    let summary = p.summary(&d);
    assert!(summary.starts_with("JT808 0x0200 Location report · 00000000013912344329 · #0 · 31.234567° S · 121.987654° E · 6.6 km/h"), "{summary}");
}

#[test]
fn modbus_tcp_read_coils_request() {
    let (p, d) = vector(
        "modbus-tcp",
        "00 01 00 00 00 06 01 01 00 00 00 64",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "transaction"), 1);
    assert_eq!(int(&d, "protocol"), 0);
    assert_eq!(int(&d, "length"), 6);
    assert_eq!(int(&d, "unit"), 1);
    assert_eq!(int(&d, "function"), 1);
    assert_eq!(int(&d, "is_reply"), 0);
    assert_eq!(int(&d, "data.address"), 0);
    assert_eq!(int(&d, "data.quantity"), 100);
    assert_eq!(shown(&p, &d, "function"), "0x01 Read coils");
    // Told as a request also when the direction is known.
    let d = p.decode(
        &hex::parse("00 01 00 00 00 06 01 01 00 00 00 64").unwrap(),
        Dir::Request,
    );
    assert_eq!(int(&d, "data.quantity"), 100);
}

#[test]
fn modbus_tcp_replies_and_exceptions() {
    // Read holding registers reply: 2 registers 0x000A, 0x0102.
    let (_, d) = vector(
        "modbus-tcp",
        "00 07 00 00 00 07 11 03 04 00 0A 01 02",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "is_reply"), 1);
    assert_eq!(int(&d, "data.byte_count"), 4);
    assert_eq!(int(&d, "data.registers.0.value"), 10);
    assert_eq!(int(&d, "data.registers.1.value"), 0x0102);
    let (p, d) = vector("modbus-tcp", "00 07 00 00 00 03 11 83 02", Dir::Unknown);
    assert_eq!(shown(&p, &d, "data.code"), "2 illegal data address");
}

#[test]
fn modbus_rtu_read_holding_registers() {
    let (p, d) = vector("modbus-rtu", "01 03 00 00 00 01 84 0A", Dir::Unknown);
    assert_eq!(int(&d, "slave"), 1);
    assert_eq!(int(&d, "function"), 3);
    assert_eq!(int(&d, "data.address"), 0);
    assert_eq!(int(&d, "data.quantity"), 1);
    assert_eq!(int(&d, "crc"), 0x0A84);
    assert_eq!(shown(&p, &d, "crc"), "0x0A84 √ CRC-16/MODBUS");
    let (_, d) = vector("modbus-rtu", "01 03 02 00 01 79 84", Dir::Unknown);
    assert_eq!(int(&d, "data.registers.0.value"), 1);
    // A CRC that does not hold is said, and decoding goes on.
    let p = proto("modbus-rtu");
    let d = p.decode(
        &hex::parse("01 03 00 00 00 01 84 0B").unwrap(),
        Dir::Unknown,
    );
    assert!(!d.checks_ok());
    assert!(
        p.summary(&d)
            .ends_with(" · CRC 0x0B84 × 0x0A84 expected (CRC-16/MODBUS)"),
        "{}",
        p.summary(&d)
    );
}

#[test]
fn a_modbus_rtu_reply_whose_first_bytes_pass_as_a_request_is_cut_whole() {
    use crate::codec::framing::Framer;
    // CRC(01 03 04 00 69 00) = 6A AA: the reply's first 8 bytes pass the CRC as a read request
    // (for 26,880 registers, which no request asks for); the reply is 9 bytes, however read.
    let p = proto("modbus-rtu");
    let reply = hex::parse("01 03 04 00 69 00 6A AA 00").unwrap();
    let request = hex::parse("01 03 00 00 00 01 84 0A").unwrap();
    // A request out of range (quantity 512) still goes out whole when nothing else fits.
    let odd = {
        let mut f = hex::parse("01 03 00 00 02 00").unwrap();
        modbus_crc(&mut f);
        f
    };
    let stream: Vec<u8> = [&request, &reply, &odd, &reply]
        .iter()
        .flat_map(|f| f.iter().copied())
        .collect();
    for split in 1..stream.len() {
        let mut framer = Framer::new(p.framing().unwrap());
        let mut got = framer.push(&stream[..split]);
        got.extend(framer.push(&stream[split..]));
        let got: Vec<Vec<u8>> = got.into_iter().map(|f| f.bytes).collect();
        assert_eq!(
            got,
            vec![request.clone(), reply.clone(), odd.clone(), reply.clone()],
            "split at {split}"
        );
    }
    let d = p.decode(&reply, Dir::Unknown);
    assert!(d.checks_ok());
    assert_eq!(int(&d, "is_reply"), 1);
}

#[test]
fn modbus_rtu_requests_of_other_lengths_are_cut_whole() {
    use crate::codec::framing::Framer;
    // Report server ID (17) is asked in 4 bytes, a device identification (43/14) in 7; both
    // were held back waiting for 5 or 8 (pymodbus timed out, and the next request was joined
    // to them as a partial frame).
    let p = proto("modbus-rtu");
    let with_crc = |hex: &str| {
        let mut f = hex::parse(hex).unwrap();
        modbus_crc(&mut f);
        f
    };
    let sent = [
        with_crc("01 11"),
        with_crc("01 2B 0E 01 00"),
        with_crc("01 07"),
        with_crc("01 16 00 04 00 F2 00 25"),
        with_crc("01 17 00 03 00 06 00 0E 00 03 06 00 FF 00 FF 00 FF"),
        with_crc("01 03 00 00 00 01"),
    ];
    let stream: Vec<u8> = sent.iter().flatten().copied().collect();
    for split in 1..stream.len() {
        let mut framer = Framer::new(p.framing().unwrap());
        let mut got = framer.push(&stream[..split]);
        got.extend(framer.push(&stream[split..]));
        let got: Vec<Vec<u8>> = got.into_iter().map(|f| f.bytes).collect();
        assert_eq!(got, sent.to_vec(), "split at {split}");
    }
}

#[test]
fn what_splits_a_text_frame_is_refused_inside_a_value() {
    // HJ 212: `QN=abc;ST=99` was two keys, `PW=pw&&x` ended the data segment, a CP value with
    // `,` two pairs; NMEA: `1,2` two columns, `5*7` a checksum. Each is said by its field.
    let hj212 = proto("hj212");
    let id = hj212
        .program
        .nodes
        .iter()
        .position(|n| matches!(n.kind, compile::Kind::Kv { .. }))
        .unwrap() as NodeId;
    let path = hj212.program.nodes[id as usize].path.clone();
    let texts: std::collections::BTreeMap<String, String> = [
        ("QN", "abc;ST=99"),
        ("PW", "pw&&x"),
        ("MN", "010000A8900016F000169DC0"),
        ("CP", "a34004-Rtd=1.5,a34004-Flag=N;x=1=2"),
    ]
    .iter()
    .map(|(k, v)| (format!("{path}.{k}"), (*v).to_owned()))
    .collect();
    let (values, errors) = hj212.kv_values(id, &path, &texts);
    for key in ["QN", "PW", "CP"] {
        let why = errors.get(&format!("{path}.{key}")).unwrap();
        assert!(why.contains("splits the frame's fields"), "{key}: {why}");
    }
    let mn = format!("{path}.MN");
    assert!(values.iter().any(|(p, _)| *p == mn), "{values:?}");
    let nmea = proto("nmea0183");
    let column = nmea
        .program
        .nodes
        .iter()
        .position(|n| matches!(n.kind, compile::Kind::Column(_)))
        .unwrap() as NodeId;
    for bad in ["1,2", "5*7", "GPRMC$"] {
        let why = nmea.value_from_text(column, bad).unwrap_err();
        assert!(why.contains("splits the frame's fields"), "{bad}: {why}");
    }
    assert_eq!(
        nmea.value_from_text(column, "02410.506"),
        Ok(FieldValue::Text("02410.506".into()))
    );
}

#[test]
fn a_modbus_write_of_registers_counts_its_quantity_from_them() {
    // Quantity was typed apart from the registers: 2 registers and a quantity of 10 went out
    // (pymodbus answered exception 03), and a quantity kept from a read came with none.
    let p = proto("modbus-rtu");
    let values = |n: usize| {
        let mut v: Vec<(String, FieldValue)> = vec![
            ("slave".into(), FieldValue::Int(1)),
            ("function".into(), FieldValue::Int(16)),
            ("data.address".into(), FieldValue::Int(0)),
        ];
        for i in 0..n {
            v.push((
                format!("data.registers.{i}.value"),
                FieldValue::Int(i as i128 + 1),
            ));
        }
        v
    };
    let frame = p.encode(&values(2), Dir::Request).unwrap();
    assert_eq!(&frame[..7], &[0x01, 0x10, 0x00, 0x00, 0x00, 0x02, 0x04]);
    // A frame whose quantity is not its count is not sound.
    let mut wrong = hex::parse("01 10 00 00 00 0A 04 00 01 00 02").unwrap();
    modbus_crc(&mut wrong);
    assert!(!p.decode(&wrong, Dir::Request).checks_ok());
    assert!(p.decode(&frame, Dir::Request).checks_ok());
}

#[test]
fn a_form_value_that_does_not_fit_says_what_was_given() {
    // "needs 5 bytes, 7 left" was a decoder's sentence: 7 were given.
    let p = proto("jt808");
    let values: Vec<(String, FieldValue)> = vec![
        ("msg_id".into(), FieldValue::Int(0x0100)),
        ("body.maker".into(), FieldValue::Text("ABCDEFG".into())),
    ];
    let why = p.compose(&values, Dir::Request).bytes.unwrap_err();
    assert_eq!(why.message, "holds at most 5 bytes, 7 given");
    // The A wildcard is named only where it is taken (an address), not for a reading.
    let dlt = proto("dlt645");
    let (address, reading) = {
        let node = |name: &str| {
            dlt.program
                .nodes
                .iter()
                .position(|n| &*n.name == name && matches!(n.kind, compile::Kind::Bcd(_)))
                .unwrap() as NodeId
        };
        (node("address"), node("value"))
    };
    assert!(
        dlt.value_from_text(address, "12x4")
            .unwrap_err()
            .contains("broadcast")
    );
    assert_eq!(
        dlt.value_from_text(reading, "3A44").unwrap_err(),
        "'3A44' is not decimal digits"
    );
}

#[test]
fn an_hj212_form_says_which_header_key_is_missing_or_malformed() {
    // An empty form went out as `##0007CP=&&&&F781` (no ST, CN, PW, MN); letters in CN and a
    // short QN went out too, with the CRC holding.
    let p = proto("hj212");
    let id = p
        .program
        .nodes
        .iter()
        .position(|n| matches!(n.kind, compile::Kind::Kv { .. }))
        .unwrap() as NodeId;
    let path = p.program.nodes[id as usize].path.clone();
    let at = |key: &str| format!("{path}.{key}");
    let (_, errors) = p.kv_values(id, &path, &std::collections::BTreeMap::new());
    for key in ["ST", "CN", "PW", "MN", "Flag"] {
        assert!(errors.contains_key(&at(key)), "{key}: {errors:?}");
    }
    assert!(!errors.contains_key(&at("QN")), "QN may be left out");
    let texts: std::collections::BTreeMap<String, String> = [
        ("QN", "2021"),
        ("ST", "32"),
        ("CN", "xyz"),
        ("PW", "123456"),
        ("MN", "88888880000001"),
        ("Flag", "abc"),
    ]
    .iter()
    .map(|(k, v)| (at(k), (*v).to_owned()))
    .collect();
    let (_, errors) = p.kv_values(id, &path, &texts);
    assert_eq!(errors[&at("QN")], "'2021' is not 17 decimal digits");
    assert_eq!(errors[&at("CN")], "'xyz' is not 4 decimal digits");
    assert_eq!(
        errors[&at("Flag")],
        "'abc' is not a whole number in decimal"
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn a_modbus_read_asks_for_what_the_standard_allows() {
    // A read of 200 registers went out (the device answered exception 03), and a blank form
    // asked for 0.
    for name in ["modbus-rtu", "modbus-tcp"] {
        let p = proto(name);
        let message = p
            .messages()
            .into_iter()
            .find(|m| m.label.starts_with("0x03"))
            .unwrap();
        let composed = p.compose(&message.values, Dir::Request);
        let quantity = composed
            .blanks
            .iter()
            .find(|(path, _)| path == "data.quantity")
            .map(|(_, v)| v.clone());
        assert_eq!(
            quantity,
            Some(FieldValue::Int(1)),
            "{name}: a blank read asks for 1"
        );
        let (_, id) = composed
            .nodes
            .iter()
            .find(|(path, _)| path == "data.quantity")
            .unwrap();
        assert_eq!(
            p.value_from_text(*id, "200").unwrap_err(),
            "200 is outside what the standard allows: 1 to 125"
        );
        assert_eq!(p.value_from_text(*id, "125"), Ok(FieldValue::Int(125)));
    }
}

/// Appends Modbus RTU's CRC (low byte first), as the codec computes it for the send box.
fn modbus_crc(frame: &mut Vec<u8>) {
    let crc = crate::codec::checksum::Checksum {
        order: crate::codec::checksum::ByteOrder::Little,
        ..crate::codec::checksum::Checksum::new(crate::codec::checksum::ChecksumKind::Crc16Modbus)
    };
    crc.append(frame).unwrap();
}

#[test]
fn dlt645_read_address_request() {
    let (p, d) = vector(
        "dlt645",
        "68 AA AA AA AA AA AA 68 13 00 DF 16",
        Dir::Unknown,
    );
    assert_eq!(text(&d, "address"), "AAAAAAAAAAAA");
    assert_eq!(int(&d, "control.function"), 0x13);
    assert_eq!(int(&d, "control.reply"), 0);
    assert_eq!(int(&d, "length"), 0);
    assert_eq!(int(&d, "cs"), 0xDF);
    assert_eq!(shown(&p, &d, "control.function"), "0x13 Read address");
}

#[test]
fn dlt645_read_address_reply_takes_off_0x33() {
    let (_, d) = vector(
        "dlt645",
        "68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16",
        Dir::Unknown,
    );
    assert_eq!(text(&d, "address"), "000000000001");
    assert_eq!(int(&d, "control.reply"), 1);
    assert_eq!(text(&d, "data.meter"), "000000000001");
    assert_eq!(int(&d, "cs"), 0x9D);
}

#[test]
fn dlt645_phase_a_voltage_reply_with_wake_up_bytes() {
    // 220.5 V: XXX.X in two BCD bytes, low byte first, each + 0x33.
    let (p, d) = vector(
        "dlt645",
        "68 01 00 00 00 00 00 68 91 06 33 34 34 35 38 55 C5 16",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "data.di"), 0x0201_0100);
    assert_eq!(shown(&p, &d, "data.di"), "0x02010100 Phase A voltage");
    assert_eq!(text(&d, "data.value"), "2205");
    assert_eq!(shown(&p, &d, "data.value"), "220.5 V");
    assert_eq!(int(&d, "cs"), 0xC5);
    let (_, d) = vector(
        "dlt645",
        "FE FE FE FE 68 01 00 00 00 00 00 68 91 06 33 34 34 35 38 55 C5 16",
        Dir::Unknown,
    );
    assert_eq!(d.get("wake").map(|f| f.range.clone()), Some(0..4));
    assert_eq!(int(&d, "data.di"), 0x0201_0100);
    // A data identifier the spec gives no format (the time, hhmmss): its BCD digits.
    let (p, d) = vector(
        "dlt645",
        "68 01 00 00 00 00 00 68 91 07 35 34 33 37 89 67 45 71 16",
        Dir::Unknown,
    );
    assert_eq!(text(&d, "data.value"), "123456");
    assert_eq!(shown(&p, &d, "data.value"), "123456");
    assert_eq!(p.label(d.get("data.value").unwrap()), "Value (BCD)");
    let _ = p;
}

/// The walk's energy reading: DI 00 01 00 00 with 78 56 34 12 is 123456.78 kWh, not
/// 12345678; every named identifier in its format, the digits kept as the value.
#[test]
fn dlt645_readings_show_in_the_standards_format_with_their_unit() {
    let (p, d) = vector(
        "dlt645",
        "68 01 00 00 00 00 00 68 91 08 33 33 34 33 AB 89 67 45 17 16",
        Dir::Unknown,
    );
    assert_eq!(
        shown(&p, &d, "data.di"),
        "0x00010000 Forward active energy, total"
    );
    assert_eq!(text(&d, "data.value"), "12345678");
    assert_eq!(shown(&p, &d, "data.value"), "123456.78 kWh");
    assert_eq!(p.label(d.get("data.value").unwrap()), "Energy");
    assert!(
        p.summary(&d)
            .ends_with("· 0x00010000 Forward active energy, total · 123456.78 kWh"),
        "{}",
        p.summary(&d)
    );
    assert_eq!(p.json(&d)["fields"][6]["fields"][1]["value"], "12345678");
    let (p, d) = vector(
        "dlt645",
        "68 01 00 00 00 00 00 68 91 07 33 34 35 35 83 45 33 35 16",
        Dir::Unknown,
    );
    assert_eq!(shown(&p, &d, "data.value"), "1.250 A");
    // Each named format, by its identifier: (DI, BCD digits, shown).
    for (di, digits, want) in [
        (0x0000_0000u32, "00001234", "12.34 kWh"),
        (0x0002_0000, "00100000", "1000.00 kWh"),
        (0x0201_0300, "2301", "230.1 V"),
        (0x0202_0200, "000500", "0.500 A"),
        (0x0203_0000, "012345", "1.2345 kW"),
        (0x0206_0000, "0987", "0.987"),
        (0x0280_0002, "5001", "50.01 Hz"),
    ] {
        let values = vec![
            ("wake".to_owned(), FieldValue::Bytes(vec![])),
            ("address".into(), FieldValue::Text("000000000001".into())),
            ("control.function".into(), FieldValue::Int(0x11)),
            ("control.follow".into(), FieldValue::Int(0)),
            ("control.abnormal".into(), FieldValue::Int(0)),
            ("control.reply".into(), FieldValue::Int(1)),
            ("data.di".into(), FieldValue::Int(di.into())),
            ("data.value".into(), FieldValue::Text(digits.into())),
        ];
        let frame = p.encode(&values, Dir::Unknown).unwrap();
        let d = p.decode(&frame, Dir::Unknown);
        assert!(d.checks_ok(), "{}", p.summary(&d));
        assert_eq!(shown(&p, &d, "data.value"), want, "{di:08X}");
        assert_eq!(text(&d, "data.value"), digits);
        // The digits given as bytes (a rule's table: `23 01`) make the same frame.
        let mut as_bytes = values.clone();
        if let Some(v) = as_bytes.last_mut() {
            v.1 = FieldValue::Bytes(crate::codec::hex::parse(digits).unwrap());
        }
        assert_eq!(p.encode(&as_bytes, Dir::Unknown).unwrap(), frame);
    }
    // A scale on bytes is refused where it is.
    let e =
        Protocol::load(r#"(name: "d", fields: [(name: "b", type: "bytes", len: 2, scale: 0.1)])"#)
            .unwrap_err();
    assert_eq!(e.field, "b");
    assert!(e.message.contains("not to a 'bytes'"), "{e}");
}

const HJ212: &str = "##0113QN=20210118201054000;ST=32;CN=3032;PW=123456;MN=20210107123456;Flag=5;CP=&&PolId=a34004,MB_BgnAddr=192,MB_Wrt=5&&0F00";

#[test]
fn hj212_frame_with_its_own_crc() {
    let crlf = format!("{HJ212}\r\n");
    let (p, d) = vector("hj212", &hex::format(crlf.as_bytes()), Dir::Unknown);
    assert_eq!(text(&d, "length"), "0113");
    assert_eq!(text(&d, "data.QN"), "20210118201054000");
    assert_eq!(text(&d, "data.ST"), "32");
    assert_eq!(text(&d, "data.CN"), "3032");
    assert_eq!(text(&d, "data.MN"), "20210107123456");
    assert_eq!(text(&d, "data.CP.0.PolId"), "a34004");
    assert_eq!(text(&d, "data.CP.0.MB_BgnAddr"), "192");
    assert_eq!(text(&d, "data.CP.0.MB_Wrt"), "5");
    assert_eq!(int(&d, "crc"), 0x0F00);
    assert_eq!(shown(&p, &d, "crc"), "0x0F00 √ HJ 212 CRC-16");
    assert_eq!(shown(&p, &d, "data.Flag"), "5: answer wanted");
    assert_eq!(shown(&p, &d, "data.QN"), "2021-01-18 20:10:54.000");
    // Without its CR LF the frame is not whole: the standard ends every frame with it.
    let cut = p.decode(HJ212.as_bytes(), Dir::Unknown);
    assert!(!cut.checks_ok(), "{}", p.summary(&cut));
    assert_eq!(cut.stop.map(|s| s.path).as_deref(), Some("tail"));
}

#[test]
fn hj212_frame_with_a_modbus_crc_is_told_so() {
    let bad = HJ212.replace("0F00", "E418");
    let p = proto("hj212");
    let d = p.decode(bad.as_bytes(), Dir::Unknown);
    assert!(!d.checks_ok());
    let (_, v) = d.verdicts()[0];
    assert_eq!(v.instead.as_deref(), Some("CRC-16/MODBUS"));
    assert!(
        shown(&p, &d, "crc").contains("it is the CRC-16/MODBUS of the data, not the HJ 212 CRC-16"),
        "{}",
        shown(&p, &d, "crc")
    );
}

#[test]
fn nmea_gga_sentence() {
    let s = "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D";
    let crlf = format!("{s}\r\n");
    let (p, d) = vector("nmea", &hex::format(crlf.as_bytes()), Dir::Unknown);
    assert_eq!(text(&d, "sentence.address"), "GPGGA");
    assert_eq!(text(&d, "sentence.time"), "184353.07");
    assert_eq!(text(&d, "sentence.lat"), "1929.045");
    assert_eq!(text(&d, "sentence.ns"), "S");
    assert_eq!(text(&d, "sentence.lon"), "02410.506");
    assert_eq!(text(&d, "sentence.quality"), "1");
    assert_eq!(text(&d, "sentence.sats"), "04");
    assert_eq!(text(&d, "sentence.alt"), "100.00");
    assert_eq!(text(&d, "sentence.geoid"), "-33.9");
    assert_eq!(text(&d, "sentence.dgps_age"), "");
    assert_eq!(text(&d, "sentence.dgps_station"), "0000");
    assert_eq!(int(&d, "checksum"), 0x6D);
    assert_eq!(shown(&p, &d, "sentence.ns"), "S south");
    assert_eq!(shown(&p, &d, "sentence.quality"), "1 GPS fix");
    // Without CR LF: not whole (a receiver that stopped mid-line sent no more).
    for text in [s, "$GPGSV,1,1,00*79"] {
        let cut = p.decode(text.as_bytes(), Dir::Unknown);
        assert!(!cut.checks_ok(), "{text}: {}", p.summary(&cut));
        assert_eq!(cut.stop.map(|s| s.path).as_deref(), Some("end"), "{text}");
    }
}

#[test]
fn gbt32960_vehicle_logins() {
    // From the JTNE (.NET) library's tests: three storage systems with 4-character codes.
    let (p, d) = vector(
        "gbt32960",
        "232301FE313233343536373839000000000000000001002A130116173738000131323334353637383939383736353433323130300304313233343435363739383730FD",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "command"), 1);
    assert_eq!(int(&d, "response"), 0xFE);
    assert_eq!(text(&d, "vin"), "123456789");
    assert_eq!(int(&d, "encryption"), 1);
    assert_eq!(int(&d, "length"), 42);
    assert_eq!(shown(&p, &d, "data.time"), "2019-01-22 23:55:56");
    assert_eq!(int(&d, "data.serial"), 1);
    assert_eq!(text(&d, "data.iccid"), "12345678998765432100");
    assert_eq!(int(&d, "data.systems"), 3);
    assert_eq!(text(&d, "data.codes"), "123445679870");
    assert_eq!(int(&d, "bcc"), 0xFD);
    // From a JavaScript parser's tests: no system codes.
    let (p, d) = vector(
        "gbt32960",
        "232301FE4C5A59545547455735473130353935343501001E12061610150F001F38393836303631363032303034363337393632390100A8",
        Dir::Unknown,
    );
    assert_eq!(text(&d, "vin"), "LZYTUGEW5G1059545");
    assert_eq!(int(&d, "data.serial"), 31);
    assert_eq!(text(&d, "data.iccid"), "89860616020046379629");
    assert!(
        p.summary(&d)
            .starts_with("GB32960 0x01 Vehicle login · 0xFE command · LZYTUGEW5G1059545"),
        "{}",
        p.summary(&d)
    );
}

/// Every public vector above, by protocol.
const VECTORS: &[(&str, &str)] = &[
    ("jt808", "7e8001000505805668746700000026000200087e"),
    (
        "jt808",
        "7e0002001105805668746700265d102815000501006404000020d06501001d7e",
    ),
    (
        "jt808",
        "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e",
    ),
    ("modbus-tcp", "00 01 00 00 00 06 01 01 00 00 00 64"),
    ("modbus-tcp", "00 07 00 00 00 07 11 03 04 00 0A 01 02"),
    ("modbus-rtu", "01 03 00 00 00 01 84 0A"),
    ("modbus-rtu", "01 03 02 00 01 79 84"),
    ("dlt645", "68 AA AA AA AA AA AA 68 13 00 DF 16"),
    (
        "dlt645",
        "68 01 00 00 00 00 00 68 93 06 34 33 33 33 33 33 9D 16",
    ),
    (
        "dlt645",
        "FE FE 68 01 00 00 00 00 00 68 91 08 33 34 34 35 77 66 55 44 B0 16",
    ),
    (
        "hj212",
        "23 23 30 31 31 33 51 4E 3D 32 30 32 31 30 31 31 38 32 30 31 30 35 34 30 30 30 3B 53 54 3D 33 32 3B 43 4E 3D 33 30 33 32 3B 50 57 3D 31 32 33 34 35 36 3B 4D 4E 3D 32 30 32 31 30 31 30 37 31 32 33 34 35 36 3B 46 6C 61 67 3D 35 3B 43 50 3D 26 26 50 6F 6C 49 64 3D 61 33 34 30 30 34 2C 4D 42 5F 42 67 6E 41 64 64 72 3D 31 39 32 2C 4D 42 5F 57 72 74 3D 35 26 26 30 46 30 30 0D 0A",
    ),
    (
        "gbt32960",
        "232301FE313233343536373839000000000000000001002A130116173738000131323334353637383939383736353433323130300304313233343435363739383730FD",
    ),
    (
        "nmea",
        "24 47 50 47 47 41 2C 31 38 34 33 35 33 2E 30 37 2C 31 39 32 39 2E 30 34 35 2C 53 2C 30 32 34 31 30 2E 35 30 36 2C 45 2C 31 2C 30 34 2C 32 2E 36 2C 31 30 30 2E 30 30 2C 4D 2C 2D 33 33 2E 39 2C 4D 2C 2C 30 30 30 30 2A 36 44 0D 0A",
    ),
];

#[test]
fn the_vector_table_holds_what_the_tests_above_check() {
    for (name, text) in VECTORS {
        vector(name, text, Dir::Unknown);
    }
    assert_eq!(
        hex::parse(VECTORS[10].1).unwrap(),
        format!("{HJ212}\r\n").into_bytes()
    );
}

/// The top-level fields cover every byte of the frame once, in order (computed fields cover
/// none).
fn covers_every_byte(d: &Decoded) -> Result<(), String> {
    let mut at = 0;
    for f in &d.fields {
        if f.range.is_empty() {
            continue;
        }
        if f.range.start != at {
            return Err(format!("{} starts at {} after {at}", f.name, f.range.start));
        }
        at = f.range.end;
    }
    if at == d.len {
        Ok(())
    } else {
        Err(format!("fields end at {at} of {}", d.len))
    }
}

#[test]
fn a_frame_cut_short_says_where_it_stopped_and_keeps_its_bytes() {
    let p = proto("jt808");
    let frame = hex::parse(VECTORS[2].1).unwrap();
    let d = p.decode(&frame[..30], Dir::Unknown);
    let stop = d.stop.clone().unwrap();
    assert_eq!(stop.path, "body");
    assert_eq!(stop.at, 18);
    assert_eq!(stop.reason, "needs 38 bytes, 12 left");
    assert_eq!(
        stop.to_string(),
        "decoding stopped at field 'body' (byte 18): needs 38 bytes, 12 left"
    );
    covers_every_byte(&d).unwrap();
    assert_eq!(d.get("undecoded").map(|f| f.range.clone()), Some(18..30));
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let said = d.stop.as_ref().unwrap().to_string();
    crate::i18n::set_lang(crate::i18n::Lang::En);
    assert_eq!(
        said,
        "解码停在字段“body”（第 18 字节）：needs 38 bytes, 12 left"
    );
}

/// `checks_ok` is what a script keeps frames by: a cut frame, bytes after the frame, a wrong
/// flag make it false, not only a failing checksum.
#[test]
fn checks_ok_is_false_for_a_cut_frame_bytes_after_it_or_a_wrong_flag() {
    let p = proto("jt808");
    let cut = p.decode(&hex::parse("7e02000022").unwrap(), Dir::Unknown);
    assert!(cut.stop.is_some());
    assert!(!cut.checks_ok(), "{}", p.summary(&cut));
    assert_eq!(p.json(&cut)["checks_ok"], false);

    let nmea = proto("nmea");
    let gga = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n";
    let whole = nmea.decode(gga.as_bytes(), Dir::Unknown);
    assert!(whole.checks_ok(), "{}", nmea.summary(&whole));
    let short = nmea.decode(&gga.as_bytes()[..30], Dir::Unknown);
    assert!(!short.checks_ok(), "{}", nmea.summary(&short));
    // A second sentence after the first is not covered by the first's checksum.
    let two = format!("{gga}$GPGGA,1");
    let d = nmea.decode(two.as_bytes(), Dir::Unknown);
    assert_eq!(d.stop, None);
    assert_eq!(d.left_over(), Some(gga.len()..two.len()));
    assert!(!d.checks_ok());
    assert!(
        nmea.summary(&d)
            .ends_with("⚠ 8 bytes after the frame's end (from byte 67), not decoded"),
        "{}",
        nmea.summary(&d)
    );
    let one = format!("{gga}$");
    assert!(
        nmea.summary(&nmea.decode(one.as_bytes(), Dir::Unknown))
            .ends_with("⚠ 1 byte after the frame's end (byte 67), not decoded")
    );
    // A stop in a csv's switch names the csv once (it said 'sentence.sentence').
    let d = nmea.decode(b"?", Dir::Unknown);
    assert_eq!(d.stop.map(|s| s.path), Some("sentence".to_owned()));
    // A wrong end flag, the checksum holding.
    let mut frame = hex::parse(VECTORS[0].1).unwrap();
    *frame.last_mut().unwrap() = 0x03;
    let d = p.decode(&frame, Dir::Unknown);
    assert!(d.verdicts().iter().all(|(_, v)| v.ok));
    assert!(!d.checks_ok(), "{}", p.summary(&d));
    assert!(
        p.summary(&d).contains("⚠ End [tail] 03 (expected 7E)"),
        "{}",
        p.summary(&d)
    );
}

/// NMEA with its checksum, CR LF.
fn nmea_sentence(body: &str) -> String {
    let sum = body.bytes().fold(0u8, |a, b| a ^ b);
    format!("${body}*{sum:02X}\r\n")
}

/// A datagram of GGA, RMC and GSV (as GPS boxes send): each sentence is a frame of its own,
/// decoded and checked; bytes that are not a sentence are said.
#[test]
fn a_message_of_several_frames_is_cut_as_a_stream_is() {
    let p = proto("nmea");
    let gga = nmea_sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
    let rmc = nmea_sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
    let gsv = nmea_sentence("GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45");
    let datagram = format!("{gga}{rmc}{gsv}");
    let pieces = p.decode_message(datagram.as_bytes(), Dir::Unknown);
    assert_eq!(pieces.len(), 3);
    assert_eq!(
        pieces.iter().map(|x| x.at).collect::<Vec<_>>(),
        [0, gga.len(), gga.len() + rmc.len()]
    );
    for (piece, address) in pieces.iter().zip(["GPGGA", "GPRMC", "GPGSV"]) {
        assert!(piece.checks_ok(), "{}", p.summary(&piece.decoded));
        assert_eq!(text(&piece.decoded, "sentence.address"), address);
    }
    let json = p.json_message(&pieces);
    assert_eq!(json.as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(json[1]["offset"], gga.len());
    assert_eq!(json[2]["checks_ok"], true);
    // One frame: the object it always was.
    let one = p.decode_message(gga.as_bytes(), Dir::Unknown);
    assert_eq!(
        p.json_message(&one),
        p.json(&p.decode(gga.as_bytes(), Dir::Unknown))
    );

    // A bad checksum in the second, junk between, the last cut short.
    let bad_rmc = rmc.replace("*6A", "*6B");
    let datagram = format!("{gga}xyz{bad_rmc}{}", &gsv[..20]);
    let pieces = p.decode_message(datagram.as_bytes(), Dir::Unknown);
    let oks: Vec<bool> = pieces.iter().map(Piece::checks_ok).collect();
    assert_eq!(oks, [true, false, false, false], "{pieces:#?}");
    assert!(pieces[1].junk);
    assert_eq!(
        p.piece_summary(&pieces[1]),
        format!(
            "⚠ 3 bytes from byte {} are not a NMEA 0183 frame",
            gga.len()
        )
    );
    assert!(
        p.summary(&pieces[2].decoded)
            .contains("Checksum 0x6B × 0x6A expected (XOR)")
    );
    assert!(pieces[3].decoded.stop.is_some());
    let json = p.json_message(&pieces);
    assert_eq!(json[1]["not_a_frame"], true);
    assert_eq!(json[1]["checks_ok"], false);
    // Every byte is in some piece, once.
    let total: usize = pieces.iter().map(|x| x.decoded.len).sum();
    assert_eq!(total, datagram.len());
}

/// `7D 03` is no JT/T 808 escape: decoding stops there and says so (as Wireshark does),
/// instead of shifting every byte after it and blaming the check code and the end flag.
#[test]
fn an_invalid_escape_is_named_where_it_is() {
    let p = proto("jt808");
    // The serial's 00 00 made 7D 03.
    let frame = hex::parse("7e 80 01 00 05 05 80 56 68 74 67 7D 03 00 26 00 02 00 08 7e").unwrap();
    let d = p.decode(&frame, Dir::Unknown);
    let stop = d.stop.clone().unwrap();
    assert_eq!((stop.path.as_str(), stop.at), ("serial", 11));
    assert_eq!(stop.reason, "invalid escape 7D 03 at byte 11");
    assert_eq!(d.bad_escape, Some(11));
    assert!(!d.checks_ok());
    let summary = p.summary(&d);
    assert!(
        summary.ends_with(
            "⚠ decoding stopped at field 'serial' (byte 11): invalid escape 7D 03 at byte 11"
        ),
        "{summary}"
    );
    assert!(d.verdicts().is_empty(), "no check code blamed: {summary}");
    assert!(!summary.contains("expected"), "{summary}");
    covers_every_byte(&d).unwrap();
    assert_eq!(d.get("undecoded").map(|f| f.range.clone()), Some(11..20));
    // Reasons are said in the language of the decoding (as every stop's).
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let said = p.summary(&p.decode(&frame, Dir::Unknown));
    crate::i18n::set_lang(crate::i18n::Lang::En);
    assert!(
        said.contains("无效的转义序列 7D 03（第 11 字节）"),
        "{said}"
    );
    // In the body: the body stops, the header stays decoded.
    let frame = hex::parse("7e 80 01 00 05 05 80 56 68 74 67 00 00 00 7D 04 02 00 08 7e").unwrap();
    let d = p.decode(&frame, Dir::Unknown);
    let stop = d.stop.clone().unwrap();
    assert_eq!(stop.path, "body");
    assert_eq!(stop.reason, "invalid escape 7D 04 at byte 14");
    assert_eq!(int(&d, "serial"), 0);
}

/// Counts read as English does ("1 byte", "1 item"), summaries say what a reader needs:
/// NMEA's N once, GSV's satellites, a Modbus read reply's values.
#[test]
#[expect(
    clippy::many_single_char_names,
    reason = "p, d, e, m, n, s as the tests above name them"
)]
fn counts_agree_with_their_nouns_and_summaries_give_the_values() {
    let p = Protocol::load(
        r#"(name: "d", fields: [(name: "a", type: "u16"), (name: "b", type: "u8")])"#,
    )
    .unwrap();
    let d = p.decode(&[0, 1], Dir::Unknown);
    assert_eq!(d.stop.unwrap().reason, "needs 1 byte, 0 left");
    let d = p.decode(&[0], Dir::Unknown);
    assert_eq!(d.stop.unwrap().reason, "needs 2 bytes, 1 left");
    let e = p
        .encode(
            &[
                ("a".into(), FieldValue::Int(1)),
                ("b".into(), FieldValue::Int(300)),
            ],
            Dir::Unknown,
        )
        .unwrap_err();
    assert!(e.to_string().ends_with("300 does not fit in 1 byte"), "{e}");

    let m = proto("modbus-tcp");
    let d = m.decode(
        &hex::parse("00 01 00 00 00 05 01 03 02 00 0A").unwrap(),
        Dir::Response,
    );
    assert_eq!(
        m.summary(&d),
        "Modbus #1 unit 1 · 0x03 Read holding registers · 1 item: 10"
    );
    let d = m.decode(
        &hex::parse("00 01 00 00 00 09 01 03 06 00 01 00 02 00 03").unwrap(),
        Dir::Response,
    );
    assert!(
        m.summary(&d).ends_with(" · 3 items: 1, 2, 3"),
        "{}",
        m.summary(&d)
    );
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let zh = m.summary(&d);
    crate::i18n::set_lang(crate::i18n::Lang::En);
    assert!(zh.ends_with(" · 3 项：1, 2, 3"), "{zh}");
    let many = (1..=10u8).fold(String::new(), |mut s, n| {
        let _ = std::fmt::Write::write_fmt(&mut s, format_args!(" 00 {n:02X}"));
        s
    });
    let d = m.decode(
        &hex::parse(&format!("00 01 00 00 00 17 01 04 14{many}")).unwrap(),
        Dir::Response,
    );
    assert!(
        m.summary(&d)
            .ends_with(" · 10 items: 1, 2, 3, 4, 5, 6, 7, 8, …"),
        "{}",
        m.summary(&d)
    );
    // Coils: each byte's lowest bit is the first coil.
    let d = m.decode(
        &hex::parse("00 01 00 00 00 05 01 01 02 05 01").unwrap(),
        Dir::Response,
    );
    assert!(
        m.summary(&d)
            .ends_with(" · 1 0 1 0 0 0 0 0 1 0 0 0 0 0 0 0"),
        "{}",
        m.summary(&d)
    );

    let n = proto("nmea");
    let gga = nmea_sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
    let s = n.summary(&n.decode(gga.as_bytes(), Dir::Unknown));
    assert!(
        s.contains("48.117300° N · ") && s.contains("11.516667° E · "),
        "{s}"
    );
    assert!(!s.contains("north") && !s.contains("east"), "{s}");
    let gsv = nmea_sentence("GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45");
    let d = n.decode(gsv.as_bytes(), Dir::Unknown);
    assert_eq!(
        n.summary(&d),
        "NMEA GPGSV · 08 in view · 1/2 · #01 46 dB · #02 41 dB · #12 39 dB · #14 45 dB"
    );
    assert_eq!(text(&d, "sentence.sats.2.prn"), "12");
    let last = nmea_sentence("GPGSV,2,2,05,32,35,102,44");
    let s = n.summary(&n.decode(last.as_bytes(), Dir::Unknown));
    assert_eq!(s, "NMEA GPGSV · 05 in view · 2/2 · #32 44 dB");
}

#[test]
fn escaped_bytes_decode_and_their_fields_span_the_escapes() {
    let p = proto("jt808");
    let d = p.decode(&hex::parse(VECTORS[0].1).unwrap(), Dir::Unknown);
    let mut values = d.values();
    for (path, v) in &mut values {
        if path == "serial" {
            *v = FieldValue::Int(0x7E7D);
        }
    }
    let frame = p.encode(&values, Dir::Unknown).unwrap();
    assert_eq!(
        hex::format(&frame),
        "7E 80 01 00 05 05 80 56 68 74 67 7D 02 7D 01 00 26 00 02 00 0B 7E"
    );
    let d = p.decode(&frame, Dir::Unknown);
    assert!(d.checks_ok(), "{}", p.summary(&d));
    assert_eq!(int(&d, "serial"), 0x7E7D);
    assert_eq!(d.get("serial").unwrap().range, 11..15);
    assert_eq!(d.get("check").unwrap().range, 20..21);
    covers_every_byte(&d).unwrap();
}

#[test]
fn builtin_framings_cut_their_frames_from_a_stream_however_it_is_read() {
    use crate::codec::framing::Framer;
    for (name, _) in VECTORS.iter().take(1).chain(VECTORS.iter()) {
        let p = proto(name);
        let frames: Vec<Vec<u8>> = VECTORS
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, t)| hex::parse(t).unwrap())
            .collect();
        let stream: Vec<u8> = frames.iter().flatten().copied().collect();
        for chunk in [1, 3, 7, stream.len()] {
            let mut cutter = Framer::new(p.framing().unwrap());
            let mut got = Vec::new();
            for piece in stream.chunks(chunk) {
                got.extend(cutter.push(piece));
            }
            let got: Vec<Vec<u8>> = got.into_iter().map(|f| f.bytes).collect();
            assert_eq!(got, frames, "{name} in pieces of {chunk}");
        }
    }
}

#[test]
fn a_spec_error_names_its_line_column_and_field_in_both_languages() {
    let text = "(\n    name: \"demo\",\n    fields: [\n        (name: \"a\", type: \"u8\"),\n        (name: \"b\", type: \"u12\"),\n    ],\n)";
    let e = Protocol::load(text).unwrap_err();
    assert_eq!((e.line, e.column, e.field.as_str()), (5, 9, "b"));
    assert_eq!(
        e.to_string(),
        "spec line 5, column 9, field 'b': 'u12' is not a type a field can have"
    );
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let said = e.to_string();
    crate::i18n::set_lang(crate::i18n::Lang::En);
    assert_eq!(
        said,
        "协议描述第 5 行第 9 列，字段“b”：“u12”不是字段可用的类型"
    );
    // A syntax error inside a field is placed where it is.
    let text = "(\n    name: \"demo\",\n    fields: [\n        (name: \"a\", type: \"u8\", colour: 3),\n    ],\n)";
    let e = Protocol::load(text).unwrap_err();
    assert_eq!(e.line, 4, "{e}");
    assert!(e.message.contains("colour"), "{e}");
    // An expression's mistake names the field.
    let text = "(name: \"demo\", fields: [(name: \"n\", type: \"u8\"), (name: \"d\", type: \"bytes\", len: \"n +\")])";
    let e = Protocol::load(text).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (1, "d"), "{e}");
    // A layout a switch names that is not there.
    let text = "(name: \"demo\", fields: [(name: \"n\", type: \"u8\"), (name: \"d\", type: \"switch\", on: \"n\", cases: [(1, \"nope\")])])";
    let e = Protocol::load(text).unwrap_err();
    assert_eq!(e.message, "no layout named 'nope' in 'layouts'");
}

/// The walk's three typos in an exported JT/T 808: each is refused where it is, in both
/// languages, instead of the spec loading and then failing every frame.
#[test]
fn a_name_no_field_has_is_refused_with_its_line_column_and_field() {
    let source = builtin_sources()
        .iter()
        .find(|(f, _)| *f == "jt808.ron")
        .unwrap()
        .1;
    let cases = [
        // (was, becomes, field, message)
        (
            "over: \"msg_id..body\"",
            "over: \"msg_id..bodyy\"",
            "check",
            "'bodyy' in 'over' is not a field read before this one (did you mean 'body'?)",
        ),
        (
            "on: \"msg_id + 0x10000 * subpkg\"",
            "on: \"msgid + 0x10000 * subpkg\"",
            "body",
            "'msgid' in 'on' is not a field read before this one (did you mean 'msg_id'?)",
        ),
        (
            "when: \"version == 0\"",
            "when: \"verzion == 0\"",
            "phone",
            "'verzion' in 'when' is not a field read before this one (did you mean 'version'?)",
        ),
    ];
    for (was, becomes, field, message) in cases {
        let at = source.find(was).unwrap();
        let text = source.replacen(was, becomes, 1);
        let e = Protocol::load(&text).unwrap_err();
        // Placed on the name itself.
        let bad = becomes.split('"').nth(1).unwrap();
        let word = bad.rsplit("..").next().unwrap().split(' ').next().unwrap();
        let name_at = at + becomes.find(word).unwrap();
        assert_eq!(
            (e.line, e.column),
            spec::line_col(&text, name_at),
            "{becomes}: {e}"
        );
        assert_eq!(e.field, field, "{becomes}");
        assert_eq!(e.message, message);
        crate::i18n::set_lang(crate::i18n::Lang::Zh);
        let said = e.to_string();
        crate::i18n::set_lang(crate::i18n::Lang::En);
        assert!(said.contains("不是在此之前读到的字段"), "{said}");
        assert!(said.contains(&format!("字段“{field}”")), "{said}");
    }
    // A field read only after: `when` runs before its own field is read.
    let text = r#"(name: "demo", fields: [(name: "a", type: "u8", when: "b == 1"), (name: "b", type: "u8")])"#;
    let e = Protocol::load(text).unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.column),
        ("a", text.find("b == 1").unwrap() + 1),
        "{e}"
    );
    // A computed field, a count, a length, a length_of target, a summary.
    for (text, field) in [
        (
            r#"(name: "d", fields: [(name: "a", type: "u8"), (name: "c", type: "computed", value: "a + bb")])"#,
            "c",
        ),
        (
            r#"(name: "d", fields: [(name: "n", type: "u8"), (name: "r", type: "repeat", count: "nn", fields: [(name: "x", type: "u8")])])"#,
            "r",
        ),
        (
            r#"(name: "d", fields: [(name: "n", type: "u8"), (name: "s", type: "bytes", len: "n - nx")])"#,
            "s",
        ),
        (
            r#"(name: "d", fields: [(name: "n", type: "u8", length_of: "dat"), (name: "data", type: "bytes", len: "n")])"#,
            "n",
        ),
        (
            r#"(name: "d", fields: [(name: "n", type: "u8", count_of: "item"), (name: "items", type: "repeat", count: "n", fields: [(name: "x", type: "u8")])])"#,
            "n",
        ),
        (
            r#"(name: "d", summary: ["{nn}"], fields: [(name: "n", type: "u8")])"#,
            "",
        ),
        (
            r#"(name: "d", fields: [(name: "p", type: "u8", bits: [(name: "v", start: 0, width: 2)]), (name: "x", type: "u8", when: "p.w == 1")])"#,
            "x",
        ),
    ] {
        let e = Protocol::load(text).unwrap_err();
        assert_eq!(e.field, field, "{text}: {e}");
        assert!(e.message.contains("is not a field"), "{text}: {e}");
    }
    // What the decoder finds is fine: a header's bit from a body layout, `a.b`, an item's
    // field by number, `pos`, `remaining`, `dir`.
    let text = r#"(name: "d",
        fields: [
            (name: "p", type: "u8", bits: [(name: "v", start: 0, width: 2)]),
            (name: "items", type: "repeat", count: 2, fields: [(name: "x", type: "u8")]),
            (name: "b", type: "switch", on: "p.v", len: "remaining - items.1.x * 0", cases: [(1, "one")]),
        ],
        layouts: { "one": (fields: [(name: "y", type: "u8", when: "v == 1 && dir == 0 && pos > 0")]) },
    )"#;
    Protocol::load(text).unwrap();
}

/// Any name an expression of a built-in reads, changed, makes the spec refuse to load, and
/// the error names it on the line it is on.
#[test]
fn every_name_in_every_builtin_expression_is_checked() {
    let attr =
        regex::Regex::new(r#"\b(when|on|len|count|value|over|length_of|count_of): "([^"]*)""#)
            .unwrap();
    let word = regex::Regex::new(r"[A-Za-z_][A-Za-z0-9_]*").unwrap();
    let mut tried = 0;
    for (file, source) in builtin_sources() {
        for m in attr.captures_iter(source) {
            let body = m.get(2).unwrap();
            for w in word.find_iter(body.as_str()) {
                // Hex digits after 0x are not names.
                let before = body.as_str().get(..w.start()).unwrap_or_default();
                if before.ends_with("0x") || before.ends_with('0') {
                    continue;
                }
                let at = body.start() + w.end();
                let text = format!("{}zz{}", &source[..at], &source[at..]);
                let e = Protocol::load(&text)
                    .err()
                    .unwrap_or_else(|| panic!("{file}: {}zz loads", w.as_str()));
                assert_eq!(
                    e.line,
                    spec::line_col(&text, at).0,
                    "{file} {}: {e}",
                    w.as_str()
                );
                assert!(
                    e.message.contains(&format!("{}zz", w.as_str())),
                    "{file}: {e}"
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 60, "{tried} names tried");
}

#[test]
fn numbers_in_every_width_order_and_word_order_round_trip() {
    let text = r#"(
        name: "numbers", endian: Big,
        fields: [
            (name: "a", type: "u8"), (name: "b", type: "i16"), (name: "c", type: "u24", endian: Little),
            (name: "d", type: "i32", words: CDAB), (name: "e", type: "u64", words: BADC),
            (name: "f", type: "f32", words: CDAB), (name: "g", type: "f64", endian: Little),
            (name: "h", type: "i64", words: DCBA),
            (name: "flags", type: "u16", bits: [(name: "lo", start: 0, width: 3), (name: "hi", start: 3, width: 13)]),
        ],
    )"#;
    let p = Protocol::load(text).unwrap();
    let d = p.decode(&hex::parse("01 FF FE 01 02 03 00 01 FF FF 0A 0B 0C 0D 0E 0F 10 11 E9 79 42 F6 00 00 00 00 00 00 F0 3F 01 00 00 00 00 00 00 80 00 0B").unwrap(), Dir::Unknown);
    assert_eq!(d.stop, None);
    assert_eq!(int(&d, "b"), -2);
    assert_eq!(int(&d, "c"), 0x0003_0201);
    assert_eq!(int(&d, "d"), -65535);
    assert_eq!(int(&d, "e"), 0x0B0A_0D0C_0F0E_1110);
    assert_eq!(
        d.get("f").unwrap().value,
        FieldValue::Float(f64::from(123.456f32))
    );
    assert_eq!(d.get("g").unwrap().value, FieldValue::Float(1.0));
    assert_eq!(int(&d, "h"), i128::from(i64::MIN) + 1);
    assert_eq!(int(&d, "flags.lo"), 3);
    assert_eq!(int(&d, "flags.hi"), 1);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn numbers() -> Protocol {
        Protocol::load(
            r#"(name: "numbers", fields: [
                (name: "a", type: "u8"), (name: "b", type: "i16"), (name: "c", type: "u24", endian: Little),
                (name: "d", type: "i32", words: CDAB), (name: "e", type: "u64", words: BADC),
                (name: "f", type: "f32", words: CDAB), (name: "g", type: "f64", endian: Little),
                (name: "h", type: "i64", words: DCBA),
                (name: "flags", type: "u16", bits: [(name: "lo", start: 0, width: 3), (name: "hi", start: 3, width: 13)]),
                (name: "n", type: "u8", length_of: "text"),
                (name: "text", type: "str", len: "n", encoding: "gbk"),
                (name: "digits", type: "bcd", len: 3),
                (name: "blob", type: "bytes", prefix: "u16le"),
                (name: "count", type: "u8", count_of: "items"),
                (name: "items", type: "repeat", count: "count", fields: [(name: "x", type: "i8")]),
                (name: "sum", type: "checksum", algo: Crc(width: 16, poly: 0x1021, init: 0xFFFF), over: "a..items"),
            ])"#,
        )
        .unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_field_values_encode_and_decode_to_themselves(
            a in any::<u8>(), b in any::<i16>(), c in 0u32..0x100_0000, d in any::<i32>(), e in any::<u64>(),
            f in any::<f32>().prop_filter("a number", |f| f.is_finite()), g in any::<f64>().prop_filter("a number", |g| g.is_finite()),
            h in any::<i64>(), lo in 0u8..8, hi in 0u16..0x2000,
            text in "[a-z中文]{0,12}", digits in "[0-9]{6}", blob in proptest::collection::vec(any::<u8>(), 0..20),
            items in proptest::collection::vec(any::<i8>(), 0..10),
        ) {
            let p = numbers();
            let mut values = vec![
                ("a".to_owned(), FieldValue::Int(a.into())), ("b".into(), FieldValue::Int(b.into())),
                ("c".into(), FieldValue::Int(c.into())), ("d".into(), FieldValue::Int(d.into())),
                ("e".into(), FieldValue::Int(e.into())), ("f".into(), FieldValue::Float(f64::from(f))),
                ("g".into(), FieldValue::Float(g)), ("h".into(), FieldValue::Int(h.into())),
                ("flags.lo".into(), FieldValue::Int(lo.into())), ("flags.hi".into(), FieldValue::Int(hi.into())),
                ("text".into(), FieldValue::Text(text.clone())), ("digits".into(), FieldValue::Text(digits.clone())),
                ("blob".into(), FieldValue::Bytes(blob.clone())),
            ];
            for (i, x) in items.iter().enumerate() {
                values.push((format!("items.{i}.x"), FieldValue::Int((*x).into())));
            }
            let frame = p.encode(&values, Dir::Unknown).unwrap();
            let dec = p.decode(&frame, Dir::Unknown);
            prop_assert_eq!(&dec.stop, &None);
            prop_assert!(dec.checks_ok());
            for (path, want) in &values {
                prop_assert_eq!(&dec.get(path).unwrap().value, want, "{}", path);
            }
            prop_assert_eq!(int(&dec, "count"), items.len() as i128);
            prop_assert_eq!(p.encode(&dec.values(), Dir::Unknown).unwrap(), frame);
        }

        #[test]
        fn any_jt808_location_report_round_trips_escapes_and_all(
            serial in any::<u16>(), phone in "[0-9]{12}", alarm in any::<u32>(), status in any::<u32>(),
            lat in 0u32..90_000_000, lon in 0u32..180_000_000, alt in any::<u16>(), speed in any::<u16>(),
            dir in 0u16..360, time in "[0-9]{12}", km in proptest::option::of(any::<u32>()), fuel in proptest::option::of(any::<u16>()),
        ) {
            let p = proto("jt808");
            let mut values = vec![
                ("msg_id".to_owned(), FieldValue::Int(0x0200)),
                ("props.encrypt".into(), FieldValue::Int(0)), ("props.subpkg".into(), FieldValue::Int(0)),
                ("props.version".into(), FieldValue::Int(0)), ("props.reserved".into(), FieldValue::Int(0)),
                ("phone".into(), FieldValue::Text(phone)), ("serial".into(), FieldValue::Int(serial.into())),
                ("body.alarm".into(), FieldValue::Int(alarm.into())), ("body.status".into(), FieldValue::Int(status.into())),
                ("body.lat".into(), FieldValue::Int(lat.into())), ("body.lon".into(), FieldValue::Int(lon.into())),
                ("body.alt".into(), FieldValue::Int(alt.into())), ("body.speed".into(), FieldValue::Int(speed.into())),
                ("body.dir".into(), FieldValue::Int(dir.into())), ("body.time".into(), FieldValue::Text(time)),
            ];
            let mut n = 0;
            if let Some(km) = km {
                values.push((format!("body.items.{n}.id"), FieldValue::Int(1)));
                values.push((format!("body.items.{n}.value.km"), FieldValue::Int(km.into())));
                n += 1;
            }
            if let Some(fuel) = fuel {
                values.push((format!("body.items.{n}.id"), FieldValue::Int(2)));
                values.push((format!("body.items.{n}.value.litres"), FieldValue::Int(fuel.into())));
            }
            let frame = p.encode(&values, Dir::Unknown).unwrap();
            prop_assert!(!frame[1..frame.len() - 1].contains(&0x7E));
            let dec = p.decode(&frame, Dir::Unknown);
            prop_assert_eq!(&dec.stop, &None);
            prop_assert!(dec.checks_ok(), "{}", p.summary(&dec));
            for (path, want) in &values {
                prop_assert_eq!(&dec.get(path).unwrap().value, want, "{}", path);
            }
            prop_assert_eq!(p.encode(&dec.values(), Dir::Unknown).unwrap(), frame);
        }

        #[test]
        fn any_modbus_registers_round_trip_over_tcp_and_rtu(
            transaction in any::<u16>(), unit in any::<u8>(), regs in proptest::collection::vec(any::<u16>(), 1..60),
        ) {
            for (name, head) in [("modbus-tcp", "unit"), ("modbus-rtu", "slave")] {
                let p = proto(name);
                let mut values = vec![
                    (head.to_owned(), FieldValue::Int(unit.into())),
                    ("function".into(), FieldValue::Int(3)),
                ];
                if name == "modbus-tcp" {
                    values.push(("transaction".into(), FieldValue::Int(transaction.into())));
                    values.push(("protocol".into(), FieldValue::Int(0)));
                }
                for (i, r) in regs.iter().enumerate() {
                    values.push((format!("data.registers.{i}.value"), FieldValue::Int((*r).into())));
                }
                let frame = p.encode(&values, Dir::Response).unwrap();
                let dec = p.decode(&frame, Dir::Unknown);
                prop_assert_eq!(&dec.stop, &None);
                prop_assert!(dec.checks_ok());
                prop_assert_eq!(int(&dec, "data.byte_count"), 2 * regs.len() as i128);
                for (i, r) in regs.iter().enumerate() {
                    prop_assert_eq!(int(&dec, &format!("data.registers.{i}.value")), i128::from(*r));
                }
            }
        }

        #[test]
        fn any_dlt645_reading_round_trips_with_0x33_and_its_sum(
            address in "[0-9]{12}", di in any::<u32>(), value in "([0-9]{2}){0,8}", wake in 0usize..5,
        ) {
            let p = proto("dlt645");
            let values = vec![
                ("wake".to_owned(), FieldValue::Bytes(vec![0xFE; wake])),
                ("address".into(), FieldValue::Text(address.clone())),
                ("control.function".into(), FieldValue::Int(0x11)), ("control.follow".into(), FieldValue::Int(0)),
                ("control.abnormal".into(), FieldValue::Int(0)), ("control.reply".into(), FieldValue::Int(1)),
                ("data.di".into(), FieldValue::Int(di.into())), ("data.value".into(), FieldValue::Text(value.clone())),
            ];
            let frame = p.encode(&values, Dir::Unknown).unwrap();
            let dec = p.decode(&frame, Dir::Unknown);
            prop_assert_eq!(&dec.stop, &None);
            prop_assert!(dec.checks_ok(), "{}", p.summary(&dec));
            prop_assert_eq!(text(&dec, "address"), address);
            prop_assert_eq!(int(&dec, "data.di"), i128::from(di));
            prop_assert_eq!(text(&dec, "data.value"), value);
        }

        #[test]
        fn any_hj212_packet_round_trips_with_its_crc(
            qn in "[0-9]{17}", mn in "[0-9A-Z]{14}", cn in prop::sample::select(vec!["2011", "2051", "9014"]),
            pairs in proptest::collection::btree_map("[a-z][a-z0-9]{1,5}-Rtd", "[0-9]{1,4}\\.[0-9]{1,2}", 1..6),
        ) {
            let p = proto("hj212");
            let mut values = vec![
                ("data.QN".to_owned(), FieldValue::Text(qn)), ("data.ST".into(), FieldValue::Text("22".into())),
                ("data.CN".into(), FieldValue::Text(cn.into())), ("data.PW".into(), FieldValue::Text("123456".into())),
                ("data.MN".into(), FieldValue::Text(mn)), ("data.Flag".into(), FieldValue::Text("4".into())),
            ];
            for (k, v) in &pairs {
                values.push((format!("data.CP.0.{k}"), FieldValue::Text(v.clone())));
            }
            values.push(("tail".into(), FieldValue::Bytes(b"\r\n".to_vec())));
            let frame = p.encode(&values, Dir::Unknown).unwrap();
            let dec = p.decode(&frame, Dir::Unknown);
            prop_assert_eq!(&dec.stop, &None);
            prop_assert!(dec.checks_ok(), "{}", String::from_utf8_lossy(&frame));
            for (path, want) in &values {
                prop_assert_eq!(&dec.get(path).unwrap().value, want, "{}", path);
            }
            prop_assert_eq!(p.encode(&dec.values(), Dir::Unknown).unwrap(), frame);
        }

        #[test]
        fn any_bytes_decode_without_panic_and_keep_every_byte(
            which in 0usize..VECTORS.len(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            cut in any::<prop::sample::Index>(),
            noise in proptest::collection::vec(any::<u8>(), 0..64),
            use_noise in any::<bool>(),
        ) {
            let (name, text) = VECTORS[which];
            let p = proto(name);
            let mut frame = if use_noise { noise } else { hex::parse(text).unwrap() };
            if !frame.is_empty() {
                for (at, b) in &edits {
                    let i = at.index(frame.len());
                    frame[i] = *b;
                }
                frame.truncate(cut.index(frame.len() + 1));
            }
            for dir in [Dir::Unknown, Dir::Request, Dir::Response] {
                let d = p.decode(&frame, dir);
                prop_assert_eq!(d.len, frame.len());
                if let Err(e) = covers_every_byte(&d) {
                    prop_assert!(false, "{}: {} in {}", name, e, hex::format(&frame));
                }
                let _ = p.summary(&d);
                let _ = p.json(&d);
                for (_, f) in d.all() {
                    let _ = p.label(f);
                    let _ = p.shown(f);
                }
                let _ = p.encode(&d.values(), dir);
            }
        }

        /// A message of several frames (and noise between) is cut as a stream is: the
        /// pieces follow each other over every byte, at the places the stream framer cuts,
        /// and each frame given whole checks.
        #[test]
        fn any_message_of_frames_and_noise_is_cut_as_the_stream_framer_cuts_it(
            which in 0usize..VECTORS.len(),
            picks in proptest::collection::vec((any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 0..6)), 1..5),
        ) {
            use crate::codec::framing::Framer;
            let name = VECTORS[which].0;
            let p = proto(name);
            let frames: Vec<Vec<u8>> = VECTORS
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, t)| hex::parse(t).unwrap())
                .collect();
            let mut message = Vec::new();
            for (pick, noise) in &picks {
                message.extend_from_slice(&frames[pick.index(frames.len())]);
                message.extend_from_slice(noise);
            }
            let pieces = p.decode_message(&message, Dir::Unknown);
            let mut at = 0;
            for piece in &pieces {
                prop_assert_eq!(piece.at, at);
                at += piece.decoded.len;
            }
            prop_assert_eq!(at, message.len());
            let mut framer = Framer::new(p.framing().unwrap());
            // Bytes that are not a frame, in a row, are one piece (the framer hands them over
            // as it finds them).
            let mut cut: Vec<usize> = Vec::new();
            // (Bytes from a start marker to the next start are a cut frame, not junk.)
            let mut junk_before = false;
            let start = &p.program.markers.0;
            for f in framer.push(&message) {
                let junk = f.partial && (start.is_empty() || !f.bytes.starts_with(start));
                match cut.last_mut() {
                    Some(last) if junk && junk_before => *last += f.bytes.len(),
                    _ => cut.push(f.bytes.len()),
                }
                junk_before = junk;
            }
            // What is left at the end, right after such bytes, is more of them.
            if let Some(rest) = framer.flush() {
                match cut.last_mut() {
                    Some(last) if junk_before => *last += rest.bytes.len(),
                    _ => cut.push(rest.bytes.len()),
                }
            }
            let lens: Vec<usize> = pieces.iter().map(|x| x.decoded.len).collect();
            prop_assert_eq!(lens, cut);
            // With no noise, every piece is one of the frames, whole and checked.
            if picks.iter().all(|(_, noise)| noise.is_empty()) {
                prop_assert_eq!(pieces.len(), picks.len());
                prop_assert!(pieces.iter().all(Piece::checks_ok), "{}", name);
            }
        }

        #[test]
        fn any_spec_text_loads_or_says_why_without_panic(
            which in 0usize..7,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec!["", "0", "\"", ")", "(", ",", "x", "u8", "len: \"*\"", "when: \"a\""])), 1..4),
        ) {
            let (_, text) = builtin_sources()[which];
            let mut text = text.to_owned();
            for (at, piece) in &edits {
                let mut i = at.index(text.len());
                while !text.is_char_boundary(i) {
                    i -= 1;
                }
                text.insert_str(i, piece);
            }
            if let Ok(p) = Protocol::load(&text) {
                let d = p.decode(&hex::parse(VECTORS[0].1).unwrap(), Dir::Unknown);
                let _ = p.summary(&d);
            }
        }
    }
}

#[test]
fn a_frame_shorter_or_longer_than_its_length_field_is_not_sound() {
    // Modbus TCP: MBAP length 6, 3 bytes follow (a request cut after 9 bytes); length 38, 6
    // follow. The PDU is read to the end of the frame, so only the length field can tell.
    let p = proto("modbus-tcp");
    for text in ["000100000006010300", "000100000026010300000002"] {
        let d = p.decode(&hex::parse(text).unwrap(), Dir::Unknown);
        assert!(!d.checks_ok(), "{text}: {}", p.summary(&d));
        let stop = d.stop.as_ref().unwrap_or_else(|| panic!("{text}: no stop"));
        assert_eq!(stop.path, "length", "{text}: {stop}");
    }
    // Whole: the same request, 12 bytes.
    vector("modbus-tcp", "000100000006010300000002", Dir::Unknown);
    // The other specs' length fields: DL/T 645 data length 4 with 4 data bytes is whole; a
    // spec whose region is read to the end is checked whatever its protocol.
    let spec = r#"(name: "t", fields: [
        (name: "len", type: "u8", length_of: "body"),
        (name: "body", type: "bytes", len: "*"),
    ])"#;
    let t = Protocol::load(spec).unwrap();
    assert!(t.decode(&[2, 0xAA, 0xBB], Dir::Unknown).checks_ok());
    assert!(!t.decode(&[3, 0xAA, 0xBB], Dir::Unknown).checks_ok());
    assert!(!t.decode(&[1, 0xAA, 0xBB], Dir::Unknown).checks_ok());
}

#[test]
fn dlt645_signed_readings_keep_their_sign_and_a_non_bcd_digit_is_not_a_reading() {
    let p = proto("dlt645");
    // 0x02030000 active power BCD 81 23 45 and 0x02020100 current 80 12 50: the top bit is
    // the sign (PyPI dlt645's bcd_to_float gives -1.2345 and -1.25).
    for (frame, want) in [
        ("68129078563412689107333336357856b47116", "-1.2345 kW"),
        ("68129078563412689107333435358345b36a16", "-1.250 A"),
    ] {
        let d = p.decode(&hex::parse(frame).unwrap(), Dir::Unknown);
        assert!(d.checks_ok(), "{frame}: {}", p.summary(&d));
        assert_eq!(shown(&p, &d, "data.value"), want);
        assert!(p.summary(&d).ends_with(want), "{}", p.summary(&d));
    }
    // Energy is unsigned: 0x80… would be 80… kWh, not negative; a digit A is not a reading.
    let d = p.decode(
        &hex::parse("6812907856341268910833333333ab896d45d116").unwrap(),
        Dir::Unknown,
    );
    assert!(!d.checks_ok(), "{}", p.summary(&d));
    let bad = d
        .bad_value
        .as_ref()
        .unwrap_or_else(|| panic!("no bad value"));
    assert_eq!((bad.path.as_str(), bad.at), ("data.value", 14));
    assert!(bad.reason.contains("123A5678 is not BCD"), "{}", bad.reason);
    assert!(p.summary(&d).contains("not BCD"), "{}", p.summary(&d));
    // The meter address may hold A (broadcast AAAAAAAAAAAA): not a reading, still sound.
    let spec = r#"(name: "t", fields: [(name: "a", type: "bcd", len: 2)])"#;
    let t = Protocol::load(spec).unwrap();
    assert!(t.decode(&[0xAA, 0xAA], Dir::Unknown).checks_ok());
    // `signed` is for BCD only.
    let spec = r#"(name: "t", fields: [(name: "a", type: "u16", signed: true)])"#;
    let e = Protocol::load(spec).unwrap_err();
    assert_eq!((e.line, e.field.as_str()), (1, "a"), "{e}");
    assert!(e.message.contains("'signed'"), "{e}");
}

#[test]
fn jt808_positions_south_and_west_say_their_hemisphere() {
    let p = proto("jt808");
    // Sydney: status 0x07 (bit 2: south), 33.8688 S 151.2093 E.
    let d = p.decode(
        &hex::parse("7e0200001c013912345678000b00000000000000070204cc0009034554000500000000261207203000d57e").unwrap(),
        Dir::Unknown,
    );
    assert!(d.checks_ok(), "{}", p.summary(&d));
    let summary = p.summary(&d);
    assert!(
        summary.contains("· 33.868800° S · 151.209300° E ·"),
        "{summary}"
    );
    assert_eq!(shown(&p, &d, "body.ns"), "1 S");
    assert_eq!(shown(&p, &d, "body.ew"), "0 E");
    // The same with bit 3 (west) too: status 0x0F, its check code changed by 0x08.
    let west = p.decode(
        &hex::parse("7e0200001c013912345678000b000000000000000f0204cc0009034554000500000000261207203000dd7e").unwrap(),
        Dir::Unknown,
    );
    assert!(west.checks_ok(), "{}", p.summary(&west));
    assert!(
        p.summary(&west).contains("33.868800° S · 151.209300° W"),
        "{}",
        p.summary(&west)
    );
    // Encoded back as received (the hemisphere is read from the status, not sent again).
    let again = p.encode(&d.values(), Dir::Unknown).unwrap();
    assert_eq!(hex::format(&again), hex::format(&hex::parse("7e0200001c013912345678000b00000000000000070204cc0009034554000500000000261207203000d57e").unwrap()));
}

#[test]
fn a_backwards_range_bad_hex_and_the_earliest_mistake_are_said() {
    let jt808 = builtin_sources()
        .iter()
        .find(|(f, _)| *f == "jt808.ron")
        .map(|(_, t)| *t)
        .unwrap();
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.contains(needle))
            .map(|n| n + 1)
            .unwrap()
    };
    // The checksum's range written backwards covers nothing: every good frame would fail.
    let backwards = jt808.replace("over: \"msg_id..body\"", "over: \"body..msg_id\"");
    assert_ne!(backwards, jt808);
    let e = Protocol::load(&backwards).unwrap_err();
    assert_eq!(e.field, "check", "{e}");
    assert_eq!(e.line, line_of(&backwards, "body..msg_id"), "{e}");
    assert!(
        e.message
            .contains("'body..msg_id' in 'over' ends before it begins"),
        "{e}"
    );
    assert!(e.message.contains("write 'msg_id..body'"), "{e}");
    // Bad hex is said as bad hex.
    let hex7g = jt808.replacen("hex: \"7E\"", "hex: \"7G\"", 1);
    let e = Protocol::load(&hex7g).unwrap_err();
    assert!(e.message.contains("hex: \"7G\" is not hex bytes"), "{e}");
    // Two mistakes: the one earlier in the text is said, whatever the layouts' names.
    let first = jt808.find("type: \"u16\"").unwrap();
    let last = jt808.rfind("type: \"u16\"").unwrap();
    let mut two = jt808.to_owned();
    two.replace_range(last..last + 11, "type: \"u61\"");
    two.replace_range(first..first + 11, "type: \"u61\"");
    let e = Protocol::load(&two).unwrap_err();
    assert_eq!(e.line, spec::line_col(&two, first).0, "{e}");
}

#[test]
fn json_gives_the_scaled_reading_and_its_unit_beside_the_wire_value() {
    let find = |v: &serde_json::Value, path: &str| -> serde_json::Value {
        let mut here = v.clone();
        for part in path.split('.') {
            here = here["fields"]
                .as_array()
                .and_then(|fs| fs.iter().find(|f| f["name"] == part).cloned())
                .unwrap_or_else(|| panic!("no {path} in {v}"));
        }
        here
    };
    let (p, d) = vector("jt808", VECTORS[2].1, Dir::Unknown);
    let j = p.json(&d);
    let speed = find(&j, "body.speed");
    assert_eq!(speed["value"], 66);
    assert_eq!(speed["scaled"], 6.6);
    assert_eq!(speed["unit"], "km/h");
    assert_eq!(find(&j, "body.lat")["scaled"], 31.234_567);
    // No scale, no unit: no key.
    assert!(find(&j, "serial").get("scaled").is_none());
    // DL/T 645 BCD digits with their scale; NMEA ddmm as degrees.
    let dlt = proto("dlt645");
    let d = dlt.decode(
        &hex::parse("68129078563412689107333336357856b47116").unwrap(),
        Dir::Unknown,
    );
    let value = find(&dlt.json(&d), "data.value");
    assert_eq!(value["scaled"], -1.2345);
    assert_eq!(value["unit"], "kW");
    let nmea = proto("nmea");
    let s = "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\r\n";
    let d = nmea.decode(s.as_bytes(), Dir::Unknown);
    let lat = find(&nmea.json(&d), "sentence.lat");
    assert_eq!(lat["value"], "1929.045");
    assert_eq!(lat["scaled"], 19.484_083);
}

#[test]
fn gsv_slots_without_a_satellite_or_snr_are_left_out_of_the_summary() {
    let p = proto("nmea");
    for body in [
        "GPGSV,1,1,02,05,,,,12,40,180,35",
        "GPGSV,3,3,11,22,10,10,42,24,10,10,43,27,10,10,00,,,,",
    ] {
        let s = nmea_sentence(body);
        let d = p.decode(s.as_bytes(), Dir::Unknown);
        assert!(d.checks_ok(), "{s}: {}", p.summary(&d));
        let summary = p.summary(&d);
        assert!(
            !summary.contains("  dB") && !summary.ends_with("# dB"),
            "{summary}"
        );
    }
    let d = p.decode(
        nmea_sentence("GPGSV,1,1,02,05,,,,12,40,180,35").as_bytes(),
        Dir::Unknown,
    );
    assert!(
        p.summary(&d).ends_with("· 02 in view · 1/1 · #12 35 dB"),
        "{}",
        p.summary(&d)
    );
}

#[test]
fn bytes_that_are_not_a_frame_in_a_row_are_one_piece() {
    // A DTU's registration before a Modbus TCP request: the frame layer refuses it a byte at
    // a time; it is said once.
    let p = proto("modbus-tcp");
    let mut message = b"REG:DTU0001".to_vec();
    message.extend(hex::parse("000100000006010300000002").unwrap());
    let pieces = p.decode_message(&message, Dir::Unknown);
    assert_eq!(pieces.len(), 2, "{pieces:?}");
    assert!(pieces[0].junk);
    assert_eq!((pieces[0].at, pieces[0].decoded.len), (0, 11));
    assert_eq!(
        p.piece_summary(&pieces[0]),
        "⚠ 11 bytes from byte 0 are not a Modbus TCP frame"
    );
    assert!(pieces[1].checks_ok());
    assert_eq!(pieces[1].at, 11);
    // The registration alone (read apart from the frame, as a live connection often gets
    // it): all of it is not a frame, not 8 bytes of junk and a frame cut short.
    let pieces = p.decode_message(b"REG:DTU0001", Dir::Unknown);
    assert_eq!(pieces.len(), 1, "{pieces:?}");
    assert_eq!(
        p.piece_summary(&pieces[0]),
        "⚠ 11 bytes from byte 0 are not a Modbus TCP frame"
    );
}

#[test]
fn modbus_register_writes_show_decimal_as_reads_do_and_coils_stay_hex() {
    for (name, reg, coil) in [
        ("modbus-rtu", "010600031092F5A7", None),
        (
            "modbus-tcp",
            "000100000006010600031092",
            Some("00010000000601050001FF00"),
        ),
    ] {
        let p = proto(name);
        let d = p.decode(&hex::parse(reg).unwrap(), Dir::Unknown);
        assert!(d.checks_ok());
        assert!(p.summary(&d).ends_with("· @3 = 4242"), "{}", p.summary(&d));
        if let Some(coil) = coil {
            let (p, d) = vector(name, coil, Dir::Request);
            assert!(
                p.summary(&d).ends_with("· @1 = 0xFF00"),
                "{}",
                p.summary(&d)
            );
        }
        // The write still encodes back as it came.
        vector(name, reg, Dir::Request);
    }
}

#[test]
fn summaries_speak_chinese_where_the_spec_gives_its_parts_in_chinese() {
    let p = proto("nmea");
    let d = p.decode(
        nmea_sentence("GPGSV,1,1,02,05,,,,12,40,180,35").as_bytes(),
        Dir::Unknown,
    );
    let m = proto("modbus-tcp");
    let read = m.decode(
        &hex::parse("000100000006010300000002").unwrap(),
        Dir::Unknown,
    );
    let was = crate::i18n::lang();
    crate::i18n::set_lang(crate::i18n::Lang::Zh);
    let (gsv, modbus) = (p.summary(&d), m.summary(&read));
    crate::i18n::set_lang(was);
    assert!(gsv.contains("可见 02 颗 · 1/1 · #12 35 dB"), "{gsv}");
    assert!(!gsv.contains("in view"), "{gsv}");
    assert!(
        modbus.starts_with("Modbus #1 单元 1 · 0x03 读保持寄存器"),
        "{modbus}"
    );
    // And English where the language is English.
    crate::i18n::set_lang(crate::i18n::Lang::En);
    assert!(p.summary(&d).contains("02 in view"), "{}", p.summary(&d));
    crate::i18n::set_lang(was);
}

#[test]
fn a_summary_is_one_line_whatever_its_fields_hold() {
    // GLL without `*hh`: its last column (status, in the summary) holds the CR LF.
    let p = proto("nmea");
    let s = "$GPGLL,4916.45,N,12311.12,W,225444,A\r\n";
    let d = p.decode(s.as_bytes(), Dir::Unknown);
    assert!(!d.checks_ok());
    let summary = p.summary(&d);
    assert!(!summary.contains(['\r', '\n']), "{summary:?}");
}

#[test]
fn a_sentence_ended_by_lf_alone_is_a_frame_that_is_not_whole_not_junk() {
    let p = proto("nmea");
    let message = b"$GPGSV,1,1,00*79\n$GPGSV,1,1,00*79\n";
    let pieces = p.decode_message(message, Dir::Unknown);
    assert_eq!(pieces.len(), 2, "{pieces:?}");
    for piece in &pieces {
        assert!(!piece.junk, "{}", p.piece_summary(piece));
        assert!(!piece.checks_ok());
        assert!(
            p.piece_summary(piece)
                .starts_with("NMEA GPGSV · 00 in view"),
            "{}",
            p.piece_summary(piece)
        );
    }
}

#[test]
fn an_empty_repeat_at_the_end_of_a_sentence_is_placed_where_the_columns_end() {
    let p = proto("nmea");
    let d = p.decode(nmea_sentence("GPGSV,1,1,00").as_bytes(), Dir::Unknown);
    assert!(d.checks_ok(), "{}", p.summary(&d));
    let sats = d.get("sentence.sats").unwrap();
    // `$GPGSV,1,1,00`: the columns end at byte 13.
    assert_eq!(sats.range, 13..13);
}

#[test]
fn a_jt808_sub_package_body_is_a_piece_with_its_check_code_checked() {
    // 0x0704 with bit 13: package 1 of 2 holds the start of a batch that goes on in package 2.
    let p = proto("jt808");
    let body = [0x00, 0x1E, 0x01, 0x00, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00];
    let mut inner = vec![0x07, 0x04, 0x20, body.len() as u8];
    inner.extend([
        0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x65, 0x00, 0x02, 0x00, 0x01,
    ]);
    inner.extend(body);
    let xor = inner.iter().fold(0u8, |a, b| a ^ b);
    inner.push(xor);
    let mut frame = vec![0x7E];
    for b in inner {
        match b {
            0x7E => frame.extend([0x7D, 0x02]),
            0x7D => frame.extend([0x7D, 0x01]),
            b => frame.push(b),
        }
    }
    frame.push(0x7E);
    let d = p.decode(&frame, Dir::Unknown);
    assert!(d.checks_ok(), "{}", p.summary(&d));
    assert!(
        p.summary(&d).ends_with("· #101 · package 1/2"),
        "{}",
        p.summary(&d)
    );
    assert_eq!(d.get("body").unwrap().range.len(), body.len());
    // A wrong check code is still found.
    let mut bad = frame.clone();
    let at = bad.len() - 2;
    bad[at] ^= 0x01;
    assert!(!p.decode(&bad, Dir::Unknown).checks_ok());
}

#[test]
fn gbt32960_real_time_whole_vehicle_item_is_split_into_fields() {
    // Real-time data (0x02) with the whole-vehicle item 0x01 (GB/T 32960.3-2016 7.2.3.1).
    let (p, d) = vector(
        "gbt32960",
        "232302fe4c53564155323138304e3231323334353601001b1a0c0714190001010301025d0001e2400dae046557010e13881e0036",
        Dir::Unknown,
    );
    assert_eq!(int(&d, "data.items.0.type"), 1);
    assert_eq!(shown(&p, &d, "data.items.0.item.speed"), "60.5 km/h");
    assert_eq!(shown(&p, &d, "data.items.0.item.mileage"), "12345.6 km");
    assert_eq!(shown(&p, &d, "data.items.0.item.voltage"), "350.2 V");
    // 0x0465 = 1125: 0.1 A with an offset of −1000 A, as the standard says.
    assert_eq!(shown(&p, &d, "data.items.0.item.current"), "-887.5 A");
    assert_eq!(shown(&p, &d, "data.items.0.item.soc"), "87%");
    assert!(
        p.summary(&d)
            .ends_with("· 60.5 km/h · 12345.6 km · 350.2 V · SOC 87%"),
        "{}",
        p.summary(&d)
    );
}

#[test]
fn a_value_that_never_fits_its_field_is_said() {
    use crate::expr::Value;
    let jt808 = super::builtin("jt808").unwrap();
    assert_eq!(
        jt808.never_fits("body.result", &Value::Int(300)).as_deref(),
        Some("300 never fits the field 'body.result' (u8: 0 to 255)")
    );
    assert!(jt808.never_fits("body.result", &Value::Int(-1)).is_some());
    assert_eq!(jt808.never_fits("body.result", &Value::Int(4)), None);
    // A field of a bit width, and a path that is no number, are checked and let be.
    assert!(jt808.never_fits("props.encrypt", &Value::Int(8)).is_some());
    assert_eq!(jt808.never_fits("props.encrypt", &Value::Int(1)), None);
    assert_eq!(jt808.never_fits("phone", &Value::Int(300)), None);
}

/// Compose's messages: each case of the first switch with the values that choose it, read
/// the way that chooses its layout; a blank form makes a sound frame of that message.
#[test]
fn compose_lists_each_message_with_the_values_that_choose_it() {
    let jt = proto("jt808");
    let loc = jt.messages().into_iter().find(|m| m.key == 0x0200).unwrap();
    assert_eq!(loc.label, "0x0200 Location report · Location report");
    let frame = jt.compose(&loc.values, loc.dir).bytes.unwrap();
    let d = jt.decode(&frame, loc.dir);
    assert!(d.checks_ok(), "{}", jt.summary(&d));
    assert_eq!(int(&d, "msg_id"), 0x0200);
    let rtu = proto("modbus-rtu");
    let reply = rtu.messages().into_iter().find(|m| m.key == 0x103).unwrap();
    assert_eq!(reply.dir, Dir::Response);
    let frame = rtu.compose(&reply.values, reply.dir).bytes.unwrap();
    assert!(
        rtu.decode(&frame, Dir::Response)
            .get("data.byte_count")
            .is_some()
    );
    let meter = proto("dlt645");
    let read = meter
        .messages()
        .into_iter()
        .find(|m| m.key == 0x111)
        .unwrap();
    let frame = meter.compose(&read.values, read.dir).bytes.unwrap();
    assert_eq!(frame.get(8), Some(&0x91), "{}", hex::format(&frame));
    // A value given wins over a blank; an item given is made, its length computed.
    let mut values = loc.values.clone();
    values.push(("serial".into(), FieldValue::Int(22)));
    values.push(("body.items.0.id".into(), FieldValue::Int(1)));
    values.push(("body.items.0.value.km".into(), FieldValue::Int(12)));
    let frame = jt.compose(&values, loc.dir).bytes.unwrap();
    let d = jt.decode(&frame, loc.dir);
    assert!(d.checks_ok());
    assert_eq!(int(&d, "serial"), 22);
    assert_eq!(int(&d, "body.items.0.len"), 4);
}

mod compose_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// A form (Compose) filled with any numbers: the frame it makes decodes to those
        /// numbers again, its checks holding (lengths, counts and checksums computed).
        #[test]
        fn any_numbers_composed_in_a_form_decode_to_themselves(
            which in 0usize..4,
            pick in any::<prop::sample::Index>(),
            seeds in proptest::collection::vec(any::<u64>(), 64),
        ) {
            let name = ["jt808", "modbus-rtu", "modbus-tcp", "dlt645"][which];
            let p = proto(name);
            let messages = p.messages();
            prop_assume!(!messages.is_empty());
            let m = &messages[pick.index(messages.len())];
            let blank = p.compose(&m.values, m.dir);
            let mut values = m.values.clone();
            let mut n = 0usize;
            for (path, id) in &blank.nodes {
                if values.iter().any(|(given, _)| given == path) {
                    continue;
                }
                let Some(node) = p.program.node(*id) else { continue };
                if node.length_of.is_some() || node.count_of.is_some() || node.when.is_some() {
                    continue;
                }
                let bits = match &node.kind {
                    compile::Kind::Int { width, signed: false, bits } if bits.is_empty() => {
                        u32::from(*width) * 8
                    }
                    _ => continue,
                };
                let seed = seeds[n % seeds.len()];
                n += 1;
                let value = if bits >= 64 { seed } else { seed & ((1u64 << bits) - 1) };
                values.push((path.clone(), FieldValue::Int(i128::from(value))));
            }
            let made = p.compose(&values, m.dir);
            // A number that picks another layout for what follows may leave the form's
            // other values unfit: that is said as the field that stopped it, never a panic.
            let Ok(bytes) = made.bytes else { return Ok(()); };
            let d = p.decode(&bytes, m.dir);
            prop_assert!(d.checks_ok(), "{}: {}", name, p.summary(&d));
            for (path, value) in &values {
                let FieldValue::Int(want) = value else { continue };
                if let Some(field) = d.get(path) {
                    prop_assert_eq!(&field.value, &FieldValue::Int(*want), "{} {}", name, path);
                }
            }
        }
    }
}

/// Bytes that cannot begin a frame (no start marker where the spec needs one) are not a
/// frame, even when no frame follows them in the message: a Modbus request read as JT/T 808
/// showed as "JT808 0x0100 Terminal registration" with fields.
#[test]
fn bytes_that_cannot_begin_a_frame_are_not_one_even_alone() {
    let jt = proto("jt808");
    let modbus = hex::parse("00 01 00 00 00 06 01 03 00 00 00 01").unwrap();
    let pieces = jt.decode_message(&modbus, Dir::Unknown);
    assert_eq!(pieces.len(), 1);
    assert!(pieces[0].junk);
    // A frame cut short that begins with its marker is still a frame cut short.
    let cut = hex::parse("7e 0200 0040").unwrap();
    let pieces = jt.decode_message(&cut, Dir::Unknown);
    assert!(!pieces[0].junk);
    // DL/T 645: wake-up bytes before the 68 may begin one.
    let meter = proto("dlt645");
    let woken = hex::parse("FE FE 68 01 00 00").unwrap();
    assert!(!meter.decode_message(&woken, Dir::Unknown)[0].junk);
}

mod form_text_props {
    use super::*;
    use proptest::prelude::*;

    /// A value of node `id`'s type, made of `seed` and `bytes`, or None for a node a form
    /// does not type (constants, checksums, groups).
    fn value_of(
        prog: &Program,
        id: NodeId,
        seed: u64,
        bytes: &[u8],
        text: &str,
    ) -> Option<FieldValue> {
        let node = prog.node(id)?;
        Some(match &node.kind {
            // Within what the standard allows, where the spec says it.
            Kind::Int { .. } if let Some((lo, hi)) = node.range => {
                let span = u64::try_from(hi - lo + 1).unwrap_or(1).max(1);
                FieldValue::Int(i128::from(lo) + i128::from(seed % span))
            }
            Kind::Int { width, signed, .. } => {
                let bits = u32::from(*width) * 8;
                let raw = if bits >= 64 {
                    seed
                } else {
                    seed & ((1u64 << bits) - 1)
                };
                FieldValue::Int(if *signed {
                    decode::signed(raw, *width)
                } else {
                    i128::from(raw)
                })
            }
            Kind::Bits { width, .. } => {
                let w = u32::from(*width);
                FieldValue::Int(i128::from(if w >= 64 {
                    seed
                } else {
                    seed & ((1u64 << w) - 1)
                }))
            }
            Kind::Float { .. } => {
                let f = f64::from_bits(seed);
                FieldValue::Float(if f.is_finite() { f } else { seed as f64 / 7.0 })
            }
            Kind::Bcd(len) => {
                let n = match len {
                    compile::Len::Fixed(n) => n * 2,
                    _ => 1 + (seed % 12) as usize,
                };
                let digits: String = format!("{seed:020}").chars().cycle().take(n).collect();
                FieldValue::Text(digits)
            }
            Kind::Bytes(_) => FieldValue::Bytes(bytes.to_vec()),
            Kind::Str(..) | Kind::Kv { .. } => FieldValue::Text(text.to_owned()),
            // What splits or ends a sentence is no column's value (refused with a sentence).
            Kind::Column(_) => FieldValue::Text(
                text.chars()
                    .filter(|c| !"$,*!\\^~\r\n".contains(*c))
                    .collect(),
            ),
            _ => return None,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        /// Any value of any built-in field's type, printed as a form shows it, reads back as
        /// itself.
        #[test]
        fn any_value_printed_for_a_form_reads_back_as_itself(
            which in any::<prop::sample::Index>(),
            node in any::<prop::sample::Index>(),
            seed in any::<u64>(),
            bytes in proptest::collection::vec(any::<u8>(), 0..16),
            text in ".{0,12}",
        ) {
            let all = builtins().to_vec();
            let p = which.get(&all);
            let id = node.index(p.program.nodes.len()) as NodeId;
            if let Some(v) = value_of(&p.program, id, seed, &bytes, &text) {
                let typed = p.value_to_text(id, &v);
                prop_assert_eq!(p.value_from_text(id, &typed), Ok(v), "{} node {}: {:?}", p.name(), id, typed);
            }
        }

        /// Whatever is typed into any field is read or refused with a sentence, never a
        /// panic.
        #[test]
        fn anything_typed_into_any_field_is_read_or_refused(
            which in any::<prop::sample::Index>(),
            node in any::<prop::sample::Index>(),
            text in prop_oneof![
                ".{0,24}",
                "-?(0[xX])?[0-9a-fA-F_ ]{0,40}",
                "[Aa0-9 -]{0,16}",
            ],
        ) {
            let all = builtins().to_vec();
            let p = which.get(&all);
            let id = node.index(p.program.nodes.len()) as NodeId;
            if let Err(why) = p.value_from_text(id, &text) {
                prop_assert!(!why.is_empty());
            }
        }
    }

    #[test]
    fn numbers_are_read_in_decimal_and_hex_and_refused_out_of_range() {
        let p = proto("jt808");
        let id = p
            .program
            .nodes
            .iter()
            .position(|n| &*n.name == "serial")
            .unwrap() as NodeId;
        assert_eq!(p.value_from_text(id, "0x1_0"), Ok(FieldValue::Int(16)));
        assert_eq!(p.value_from_text(id, " 65535 "), Ok(FieldValue::Int(65535)));
        let big = p.value_from_text(id, "65536").unwrap_err();
        assert!(big.contains("out of range"), "{big}");
        let word = p.value_from_text(id, "ten").unwrap_err();
        assert!(word.contains("not a number"), "{word}");
        let meter = proto("dlt645");
        let addr = meter
            .program
            .nodes
            .iter()
            .position(|n| &*n.name == "address")
            .unwrap() as NodeId;
        assert_eq!(
            meter.value_from_text(addr, "AAAAAAAA0001"),
            Ok(FieldValue::Text("AAAAAAAA0001".into()))
        );
        assert!(meter.value_from_text(addr, "12AB").is_err());
    }
}

/// HJ 212 composed from its values: part 1's vector byte for byte, its length and its own
/// CRC computed — from values, and from what a form types (the CP pairs as one text).
#[test]
fn hj212_vector_composed_from_its_values_and_from_a_form() {
    let p = proto("hj212");
    let want = format!("{HJ212}\r\n");
    let header = [
        ("QN", "20210118201054000"),
        ("ST", "32"),
        ("CN", "3032"),
        ("PW", "123456"),
        ("MN", "20210107123456"),
        ("Flag", "5"),
    ];
    let mut values: Vec<(String, FieldValue)> = header
        .iter()
        .map(|(k, v)| (format!("data.{k}"), FieldValue::Text((*v).into())))
        .collect();
    for (k, v) in [("PolId", "a34004"), ("MB_BgnAddr", "192"), ("MB_Wrt", "5")] {
        values.push((format!("data.CP.0.{k}"), FieldValue::Text(v.into())));
    }
    let made = p.compose(&values, Dir::Unknown).bytes.unwrap();
    assert_eq!(String::from_utf8_lossy(&made), want);
    // The form: texts by path, in no order; the keys come out in the spec's.
    let data = p
        .compose(&[], Dir::Unknown)
        .nodes
        .iter()
        .find(|(path, _)| path == "data")
        .map(|(_, id)| *id)
        .unwrap();
    let keys: Vec<String> = p.form_keys(data).into_iter().map(|k| k.key).collect();
    assert_eq!(
        keys,
        ["QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO", "CP"]
    );
    let mut texts: std::collections::BTreeMap<String, String> = header
        .iter()
        .map(|(k, v)| (format!("data.{k}"), (*v).to_owned()))
        .collect();
    texts.insert(
        "data.CP".into(),
        "PolId=a34004,MB_BgnAddr=192,MB_Wrt=5".into(),
    );
    let (values, errors) = p.kv_values(data, "data", &texts);
    assert!(errors.is_empty(), "{errors:?}");
    let made = p.compose(&values, Dir::Unknown).bytes.unwrap();
    assert_eq!(String::from_utf8_lossy(&made), want);
    // Two groups, and a pair without '=' said on its key.
    texts.insert("data.CP".into(), "a=1,b=2;c=3".into());
    let (values, _) = p.kv_values(data, "data", &texts);
    let made = p.compose(&values, Dir::Unknown).bytes.unwrap();
    let d = p.decode(&made, Dir::Unknown);
    assert!(d.checks_ok(), "{}", String::from_utf8_lossy(&made));
    assert_eq!(text(&d, "data.CP.1.c"), "3");
    texts.insert("data.CP".into(), "a=1,oops".into());
    let (_, errors) = p.kv_values(data, "data", &texts);
    assert!(
        errors["data.CP"].contains("'oops' is not key=value"),
        "{errors:?}"
    );
    // Nothing typed: a frame of an empty CP, its checks holding.
    let (values, _) = p.kv_values(data, "data", &std::collections::BTreeMap::default());
    let made = p.compose(&values, Dir::Unknown).bytes.unwrap();
    assert_eq!(&made[..13], b"##0007CP=&&&&");
    assert!(p.decode(&made, Dir::Unknown).checks_ok());
}

/// NMEA: the message list offers each sentence the spec knows (chosen by the address's text,
/// `GPGGA` → GGA); a blank GGA makes every column, empty, with its checksum; the columns of
/// part 1's vector make it byte for byte, the XOR computed.
#[test]
fn nmea_gga_composed_from_its_columns() {
    let p = proto("nmea");
    let messages = p.messages();
    let labels: Vec<&str> = messages.iter().map(|m| m.label.as_str()).collect();
    for want in [
        "GGA · Fix data",
        "RMC · Recommended minimum",
        "GSV · Satellites in view",
        "ZDA · Time and date",
    ] {
        assert!(labels.contains(&want), "{labels:?}");
    }
    let gga = messages
        .iter()
        .find(|m| m.label.starts_with("GGA"))
        .unwrap();
    assert_eq!(
        gga.values,
        [(
            "sentence.address".to_owned(),
            FieldValue::Text("GPGGA".into())
        )]
    );
    let blank = p.compose(&gga.values, gga.dir);
    let frame = blank.bytes.unwrap();
    assert_eq!(&frame[..20], b"$GPGGA,,,,,,,,,,,,,,");
    let d = p.decode(&frame, Dir::Unknown);
    assert!(
        d.checks_ok() && d.stop.is_none(),
        "{}",
        String::from_utf8_lossy(&frame)
    );
    assert!(blank.nodes.iter().any(|(path, _)| path == "sentence.lat"));
    let s = "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\r\n";
    let columns: Vec<(String, FieldValue)> = p
        .decode(s.as_bytes(), Dir::Unknown)
        .values()
        .into_iter()
        .filter(|(path, _)| path.starts_with("sentence."))
        .collect();
    let made = p.compose(&columns, gga.dir).bytes.unwrap();
    assert_eq!(String::from_utf8_lossy(&made), s);
}
