//! Frames as named fields on the command line: `decode`, `protocols`, `--protocol` on
//! connect and listen, against peers we did not write (pymodbus, pynmea2, and a JT/T 808
//! terminal and an HJ 212 monitor written in Python from the standards' text).

use std::process::{Command, Stdio};

use serde_json::Value;

use super::{BAD_INPUT, NOT_MATCHED, OK, free_port, run, spawn};

const JT808_2019: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";

fn data(file: &str) -> String {
    format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Whether python3 can import `module` (the test says it skips when not: .ci/run installs it).
fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: python3 with {module} is not installed (.ci/run installs it)");
    }
    ok
}

/// The field at `path` (`body.lat`, `data.registers.1.value`) of a decoded JSON object.
fn field<'a>(decoded: &'a Value, path: &str) -> &'a Value {
    let mut here = decoded;
    for part in path.split('.') {
        here = here["fields"]
            .as_array()
            .and_then(|fs| fs.iter().find(|f| f["name"] == part))
            .unwrap_or_else(|| panic!("no {part} of {path} in {decoded}"));
    }
    here
}

/// A directory of the test's own (removed when dropped).
struct Dir(tempfile::TempDir);

impl Dir {
    fn new(name: &str) -> Self {
        Self(
            tempfile::Builder::new()
                .prefix(&format!("sockscope-protocols-{name}-"))
                .tempdir()
                .unwrap(),
        )
    }

    fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn decode_prints_a_jt808_location_report_as_a_field_tree() {
    let ran = run(&["decode", "--protocol", "jt808", JT808_2019], b"");
    assert_eq!(ran.code, OK, "{ran:?}");
    let first = ran.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "JT808 0x0200 Location report · 00000000013912344329 · #0 · 31.234567° S · 121.987654° E · 6.6 km/h · 2025-01-29 22:33:44"
    );
    for line in [
        "  Message ID [msg_id] @1+2: 0x0200 Location report",
        "    2019 header [version] @3+2: 1 2019",
        "    Latitude [lat] @26+4: 31.234567°",
        "          Fuel [litres] @48+2: 10.0 L",
        "  Check code [check] @56+1: 0x41 √ XOR",
    ] {
        assert!(
            ran.stdout.lines().any(|l| l == line),
            "{line}\n{}",
            ran.stdout
        );
    }
    assert_eq!(
        ran.stderr,
        "1 frame: 1 decoded to the end with its checks holding, 0 not\n"
    );

    let ran = run(&["decode", "--protocol", "808", "--json", JT808_2019], b"");
    assert_eq!(ran.code, OK, "{ran:?}");
    let frames = lines(&ran.stdout);
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!(f["protocol"], "jt808");
    assert_eq!(f["checks_ok"], true);
    assert_eq!(field(f, "body.lat")["value"], 31_234_567);
    assert_eq!(field(f, "body.lat")["shown"], "31.234567°");
    assert_eq!(field(f, "check")["check"]["ok"], true);
    assert_eq!(
        f["hex"].as_str().unwrap().replace(' ', ""),
        JT808_2019.to_uppercase()
    );
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
}

#[test]
fn decode_says_a_bad_check_or_a_short_frame_with_exit_1_and_bad_input_with_2() {
    let ran = run(
        &[
            "decode",
            "--protocol",
            "modbus-rtu",
            "01 03 00 00 00 01 84 0B",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout
            .contains("CRC [crc] @6+2: 0x0B84 × 0x0A84 expected (CRC-16/MODBUS)"),
        "{}",
        ran.stdout
    );
    let ran = run(&["decode", "--protocol", "jt808", &JT808_2019[..60]], b"");
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout
            .contains("⚠ decoding stopped at field 'body' (byte 18): needs 38 bytes, 12 left"),
        "{}",
        ran.stdout
    );
    let ran = run(&["decode", "--protocol", "jt909", "7e7e"], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stderr.contains("no protocol named 'jt909' (built in: modbus-tcp, modbus-rtu, jt808, hj212, dlt645, gbt32960, nmea0183)"), "{}", ran.stderr);
    // A broken escape is named where it is, not blamed on the check code and the end flag.
    let ran = run(
        &[
            "decode",
            "--protocol",
            "jt808",
            "7e800100050580566874677d030026000200087e",
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout.contains(
            "⚠ decoding stopped at field 'serial' (byte 11): invalid escape 7D 03 at byte 11"
        ),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("expected"), "{}", ran.stdout);
    // A path that is not there says so, as protocols --check does.
    for missing in ["missing.ron", "specs/my808", "MY.RON"] {
        let ran = run(&["decode", "--protocol", missing, "7e7e"], b"");
        assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
        assert!(
            ran.stderr
                .contains(&format!("Cannot read {missing}: No such file or directory")),
            "{}",
            ran.stderr
        );
        let ran = run(&["udp", "--to", "127.0.0.1:9", "--protocol", missing], b"");
        assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
        assert!(
            ran.stderr.contains(&format!("Cannot read {missing}")),
            "{}",
            ran.stderr
        );
    }
    let ran = run(&["decode", "--protocol", "jt808", "7e 0z"], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    let ran = run(
        &[
            "--lang",
            "zh",
            "decode",
            "--protocol",
            "modbus-rtu",
            "01 03 00 00 00 01 84 0B",
        ],
        b"",
    );
    assert!(
        ran.stdout.contains("0x0B84 × 应为 0x0A84（CRC-16/MODBUS）"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("读保持寄存器"), "{}", ran.stdout);
}

#[test]
fn a_cut_frame_is_not_checks_ok_in_json_and_the_text_says_it_too() {
    let ran = run(
        &["decode", "--protocol", "jt808", "--json", "7e02000022"],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    let f = &lines(&ran.stdout)[0];
    assert_eq!(f["checks_ok"], false, "{f}");
    assert_eq!(f["stopped"]["field"], "phone", "{f}");
    let ran = run(&["decode", "--protocol", "jt808", "7e02000022"], b"");
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout.contains("⚠ decoding stopped at field 'phone'"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr
            .contains(": 0 decoded to the end with its checks holding, 1 not"),
        "{}",
        ran.stderr
    );
    // A sentence cut short: the same.
    let gga = "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M";
    let ran = run(
        &[
            "decode",
            "--protocol",
            "nmea",
            "--json",
            &hex_of(gga.as_bytes()),
        ],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert_eq!(lines(&ran.stdout)[0]["checks_ok"], false, "{}", ran.stdout);
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn protocols_lists_the_builtins_exports_one_and_checks_a_spec_file() {
    let ran = run(&["protocols"], b"");
    assert_eq!(ran.code, OK, "{ran:?}");
    for name in [
        "modbus-tcp",
        "modbus-rtu",
        "jt808",
        "hj212",
        "dlt645",
        "gbt32960",
        "nmea0183",
    ] {
        assert!(
            ran.stdout.contains(&format!("  {name} ")),
            "{name}: {}",
            ran.stdout
        );
    }
    let ran = run(&["protocols", "--json"], b"");
    assert_eq!(lines(&ran.stdout).len(), 7);

    let dir = Dir::new("check");
    let exported = run(&["protocols", "--export", "jt808"], b"");
    assert_eq!(exported.code, OK);
    let mine = dir.path().join("my808.ron");
    std::fs::write(
        &mine,
        exported
            .stdout
            .replace("name: \"jt808\"", "name: \"my808\""),
    )
    .unwrap();
    let mine = mine.to_str().unwrap();
    let ran = run(&["protocols", "--check", mine], b"");
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("spec 'my808' loads"), "{}", ran.stdout);
    // The edited copy decodes as the built-in does.
    let ran = run(&["decode", "--protocol", mine, JT808_2019], b"");
    assert_eq!(ran.code, OK, "{ran:?}");

    let broken = dir.path().join("broken.ron");
    std::fs::write(&broken, "(\n    name: \"x\",\n    fields: [\n        (name: \"a\", type: \"u8\"),\n        (name: \"b\", type: \"u12\"),\n    ],\n)\n").unwrap();
    let ran = run(&["protocols", "--check", broken.to_str().unwrap()], b"");
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stderr.ends_with(
            "broken.ron: spec line 5, column 9, field 'b': 'u12' is not a type a field can have (the first mistake found; fix it and check again: there may be more)\n"
        ),
        "{}",
        ran.stderr
    );
    let ran = run(
        &[
            "--lang",
            "zh",
            "protocols",
            "--check",
            broken.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        ran.stderr
            .contains("协议描述第 5 行第 9 列，字段“b”：“u12”不是字段可用的类型"),
        "{}",
        ran.stderr
    );
}

#[test]
fn every_builtin_exported_passes_check_and_a_typo_in_a_name_does_not() {
    let dir = Dir::new("names");
    let listed = run(&["protocols", "--json"], b"");
    for p in lines(&listed.stdout) {
        let name = p["name"].as_str().unwrap();
        let exported = run(&["protocols", "--export", name], b"");
        assert_eq!(exported.code, OK, "{exported:?}");
        let file = dir.path().join(format!("{name}.ron"));
        std::fs::write(&file, &exported.stdout).unwrap();
        let ran = run(&["protocols", "--check", file.to_str().unwrap()], b"");
        assert_eq!(ran.code, OK, "{name}: {ran:?}");
    }
    let exported = run(&["protocols", "--export", "jt808"], b"").stdout;
    // The walk's typos: each is said with its line, column and field, exit 1, and the file
    // is refused by --protocol too (exit 2, bad input).
    for (was, becomes, said, zh) in [
        (
            "over: \"msg_id..body\"",
            "over: \"msg_id..bodyy\"",
            "field 'check': 'bodyy' in 'over' is not a field read before this one (did you mean 'body'?)",
            "字段“check”：over 中的“bodyy”不是在此之前读到的字段（是不是“body”？）",
        ),
        (
            "on: \"msg_id + 0x10000 * subpkg\"",
            "on: \"msgid + 0x10000 * subpkg\"",
            "field 'body': 'msgid' in 'on' is not a field read before this one (did you mean 'msg_id'?)",
            "字段“body”：on 中的“msgid”不是在此之前读到的字段（是不是“msg_id”？）",
        ),
        (
            "when: \"version == 0\"",
            "when: \"verzion == 0\"",
            "field 'phone': 'verzion' in 'when' is not a field read before this one (did you mean 'version'?)",
            "字段“phone”：when 中的“verzion”不是在此之前读到的字段（是不是“version”？）",
        ),
    ] {
        let text = exported.replacen(was, becomes, 1);
        let line = text[..text.find(becomes).unwrap()].matches('\n').count() + 1;
        let bad = dir.path().join("bad.ron");
        std::fs::write(&bad, &text).unwrap();
        let bad = bad.to_str().unwrap();
        let ran = run(&["protocols", "--check", bad], b"");
        assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
        assert!(
            ran.stderr.contains(&format!("spec line {line}, column ")) && ran.stderr.contains(said),
            "{line}: {}",
            ran.stderr
        );
        let ran = run(&["--lang", "zh", "protocols", "--check", bad], b"");
        assert!(ran.stderr.contains(zh), "{}", ran.stderr);
        let ran = run(&["decode", "--protocol", bad, JT808_2019], b"");
        assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
        assert!(ran.stderr.contains(said), "{}", ran.stderr);
    }
}

#[test]
fn pymodbus_replies_are_decoded_by_connect_over_tcp_and_rtu_framing() {
    if !python_has("pymodbus") {
        return;
    }
    for (framer, protocol, request) in [
        ("tcp", "modbus-tcp", "00 07 00 00 00 06 01 03 00 00 00 03"),
        ("rtu", "modbus-rtu", "01 03 00 00 00 03 05 CB"),
    ] {
        let mut server = Command::new("python3")
            .args([&data("pymodbus_server.py"), framer])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.as_mut().unwrap()),
            &mut line,
        )
        .unwrap();
        let remote = format!("127.0.0.1:{}", line.trim());
        let ran = run(
            &[
                "connect",
                &remote,
                "--send-hex",
                request,
                "--protocol",
                protocol,
                "--json",
                "--timeout",
                "5s",
            ],
            b"",
        );
        let _ = server.kill();
        let _ = server.wait();
        assert_eq!(ran.code, OK, "{ran:?}");
        let records = lines(&ran.stdout);
        let sent = records.iter().find(|r| r["kind"] == "tx").unwrap();
        assert_eq!(
            field(&sent["decoded"], "data.quantity")["value"],
            3,
            "{sent}"
        );
        let reply = records
            .iter()
            .find(|r| r["kind"] == "rx")
            .unwrap_or_else(|| panic!("{}", ran.stdout));
        let decoded = &reply["decoded"];
        assert_eq!(decoded["checks_ok"], true, "{decoded}");
        assert_eq!(field(decoded, "data.byte_count")["value"], 6);
        let values: Vec<&Value> = (0..3)
            .map(|i| &field(decoded, &format!("data.registers.{i}.value"))["value"])
            .collect();
        assert_eq!(values, [17, 42, 4660], "{framer}");
    }
}

#[test]
fn a_jt808_terminal_written_from_the_standard_is_decoded_by_listen() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let server = spawn(move || {
        run(
            &[
                "listen",
                &bind,
                "--count",
                "2",
                "--json",
                "--protocol",
                "jt808",
            ],
            b"",
        )
    });
    let peer = Command::new("python3")
        .args([&data("field_peers.py"), "jt808", &port.to_string()])
        .status()
        .unwrap();
    let ran = server.join().unwrap();
    assert!(peer.success());
    assert_eq!(ran.code, OK, "{ran:?}");
    // Every line fits the record schema, `decoded` included.
    let frames: Vec<Value> = super::json::records(&ran)
        .into_iter()
        .filter(|r| r["kind"] == "rx")
        .map(|r| r["decoded"].clone())
        .collect();
    assert_eq!(frames.len(), 2, "{}", ran.stdout);
    let register = &frames[0];
    assert_eq!(register["checks_ok"], true, "{register}");
    assert_eq!(
        field(register, "msg_id")["shown"],
        "0x0100 Terminal registration"
    );
    assert_eq!(field(register, "phone")["value"], "013912344329");
    assert_eq!(field(register, "body.province")["value"], 44);
    assert_eq!(field(register, "body.model")["value"], "T808-TEST");
    assert_eq!(field(register, "body.plate")["value"], "粤B12345");
    let location = &frames[1];
    assert_eq!(location["checks_ok"], true, "{location}");
    // The serial and the fuel item were 7E 7D: sent escaped, decoded whole.
    assert_eq!(field(location, "serial")["value"], 0x7E7D);
    assert_eq!(field(location, "body.lat")["shown"], "22.543210°");
    assert_eq!(field(location, "body.lon")["shown"], "113.945678°");
    assert_eq!(field(location, "body.speed")["shown"], "60.0 km/h");
    assert_eq!(field(location, "body.time")["shown"], "2026-01-07 12:34:56");
    assert_eq!(
        field(location, "body.items.0.value.km")["shown"],
        "1234.5 km"
    );
    assert_eq!(
        field(location, "body.items.1.value.litres")["value"],
        0x7E7D
    );
    assert_eq!(
        location["summary"],
        "JT808 0x0200 Location report · 013912344329 · #32381 · 22.543210° N · 113.945678° E · 60.0 km/h · 2026-01-07 12:34:56"
    );
}

#[test]
fn an_hj212_monitor_written_from_the_standard_is_decoded_by_listen() {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let server = spawn(move || {
        run(
            &["listen", &bind, "--count", "1", "--protocol", "hj212"],
            b"",
        )
    });
    let peer = Command::new("python3")
        .args([&data("field_peers.py"), "hj212", &port.to_string()])
        .status()
        .unwrap();
    let ran = server.join().unwrap();
    assert!(peer.success());
    assert_eq!(ran.code, OK, "{ran:?}");
    let decoded = ran
        .stdout
        .lines()
        .find(|l| l.starts_with("  ≡ "))
        .unwrap_or_else(|| panic!("{}", ran.stdout));
    assert_eq!(
        decoded,
        "  ≡ HJ212 CN=2011 Real-time data · MN=SSCOPE00000001 · QN=20260107120000123"
    );
    assert!(!ran.stdout.contains('×'), "{}", ran.stdout);
}

#[test]
fn pynmea2_sentences_decode_with_their_checksums() {
    if !python_has("pynmea2") {
        return;
    }
    let out = Command::new("python3")
        .arg(data("nmea_sentences.py"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sentences = String::from_utf8(out.stdout).unwrap();
    let hex_lines: String = sentences
        .lines()
        .map(|s| sockscope_core::codec::hex::format(format!("{s}\r\n").as_bytes()) + "\n")
        .collect();
    let ran = run(
        &["decode", "--protocol", "nmea", "--json"],
        hex_lines.as_bytes(),
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    let frames = lines(&ran.stdout);
    assert_eq!(frames.len(), 2, "{}", ran.stdout);
    let gga = &frames[0];
    assert_eq!(field(gga, "sentence.address")["value"], "GPGGA");
    assert_eq!(
        field(gga, "sentence.lat")["shown"],
        "19°29.0450′ = 19.484083°"
    );
    assert_eq!(field(gga, "sentence.sats")["value"], "04");
    assert_eq!(field(gga, "checksum")["check"]["ok"], true);
    let rmc = &frames[1];
    assert_eq!(field(rmc, "sentence.address")["value"], "GNRMC");
    assert_eq!(field(rmc, "sentence.status")["shown"], "A valid");
    assert_eq!(field(rmc, "sentence.date")["shown"], "1998-09-13");
    assert_eq!(field(rmc, "checksum")["check"]["ok"], true);
}

/// NMEA with its checksum, CR LF.
fn nmea_sentence(body: &str) -> String {
    let sum = body.bytes().fold(0u8, |a, b| a ^ b);
    format!("${body}*{sum:02X}\r\n")
}

/// GGA, RMC and GSV in one datagram, as GPS/DTU boxes send: `udp --protocol` decodes and
/// checks each sentence (an array in `decoded`, a line each), and says bytes that are none.
#[test]
fn udp_decodes_every_sentence_of_a_datagram_and_says_what_is_not_one() {
    let gga = nmea_sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,");
    let rmc = nmea_sentence("GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W");
    let gsv = nmea_sentence("GPGSV,2,1,08,01,40,083,46,02,17,308,41,12,07,344,39,14,22,228,45");
    let good = format!("{gga}{rmc}{gsv}");
    let bad = format!("{gga}junk{}{gsv}", rmc.replace("*6A", "*00"));
    for (datagram, json) in [(&good, true), (&good, false), (&bad, true), (&bad, false)] {
        let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let to = peer.local_addr().unwrap().to_string();
        let reply = datagram.clone().into_bytes();
        let device = spawn(move || {
            let mut buf = [0u8; 64];
            let (_, from) = peer.recv_from(&mut buf).unwrap();
            peer.send_to(&reply, from).unwrap();
        });
        let mut args = vec![
            "udp",
            "--to",
            &to,
            "--send",
            "?",
            "--expect",
            "GPGSV",
            "--protocol",
            "nmea",
        ];
        if json {
            args.push("--json");
        }
        let ran = run(&args, b"");
        device.join().unwrap();
        assert_eq!(ran.code, OK, "{ran:?}");
        if json {
            let records = super::json::records(&ran);
            let rx = records.iter().find(|r| r["kind"] == "rx").unwrap();
            let decoded = rx["decoded"].as_array().unwrap_or_else(|| panic!("{rx}"));
            if *datagram == good {
                assert_eq!(decoded.len(), 3, "{rx}");
                for (d, address) in decoded.iter().zip(["GPGGA", "GPRMC", "GPGSV"]) {
                    assert_eq!(d["checks_ok"], true, "{d}");
                    assert_eq!(field(d, "sentence.address")["value"], address);
                }
                assert_eq!(decoded[2]["offset"], gga.len() + rmc.len());
            } else {
                let oks: Vec<&Value> = decoded.iter().map(|d| &d["checks_ok"]).collect();
                assert_eq!(oks, [true, false, false, true], "{rx}");
                assert_eq!(decoded[1]["not_a_frame"], true, "{rx}");
            }
        } else {
            // The lines under the received datagram (what was sent is decoded too).
            let said: Vec<&str> = ran
                .stdout
                .lines()
                .skip_while(|l| !l.contains(" <- "))
                .filter(|l| l.starts_with("  ≡ "))
                .collect();
            if *datagram == good {
                assert_eq!(said.len(), 3, "{}", ran.stdout);
                assert!(said[2].starts_with("  ≡ NMEA GPGSV"), "{}", ran.stdout);
            } else {
                assert_eq!(said.len(), 4, "{}", ran.stdout);
                assert_eq!(
                    said[1],
                    format!(
                        "  ≡ ⚠ 4 bytes from byte {} are not a NMEA 0183 frame",
                        gga.len()
                    )
                );
                assert!(
                    said[2].contains("Checksum 0x00 × 0x6A expected (XOR)"),
                    "{}",
                    ran.stdout
                );
            }
        }
    }
    // decode: one hex blob of several frames, the same.
    let ran = run(
        &["decode", "--protocol", "nmea", &hex_of(bad.as_bytes())],
        b"",
    );
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stdout
            .contains("⚠ 4 bytes from byte 67 are not a NMEA 0183 frame"),
        "{}",
        ran.stdout
    );
    assert!(ran.stderr.contains("4 frames: 2 decoded"), "{}", ran.stderr);
}

#[test]
fn decode_reads_a_capture_and_cuts_frames_across_segments() {
    let dir = Dir::new("pcap");
    let pcap = dir.path().join("two.pcap");
    let one = "7e8001000505805668746700000026000200087e";
    let status = Command::new("python3")
        .args([
            &data("write_pcap.py"),
            pcap.to_str().unwrap(),
            one,
            JT808_2019,
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let ran = run(
        &[
            "decode",
            "--protocol",
            "jt808",
            "--file",
            pcap.to_str().unwrap(),
            "--json",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    let frames = lines(&ran.stdout);
    assert_eq!(frames.len(), 2, "{}", ran.stdout);
    assert_eq!(frames[0]["src"], "127.0.0.1:40000");
    assert_eq!(frames[0]["dst"], "127.0.0.1:7000");
    assert_eq!(field(&frames[0], "msg_id")["value"], 0x8001);
    assert_eq!(field(&frames[1], "body.lon")["value"], 121_987_654);
    let ran = run(
        &[
            "decode",
            "--protocol",
            "jt808",
            "--file",
            pcap.to_str().unwrap(),
        ],
        b"",
    );
    assert!(ran.stdout.starts_with("20"), "{}", ran.stdout);
    assert!(
        ran.stdout
            .contains("127.0.0.1:40000 → 127.0.0.1:7000  7E 80 01"),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_dlt645_meter_from_pypi_answers_reads_decoded_by_connect() {
    if !python_has("dlt645") {
        return;
    }
    let mut meter = Command::new("python3")
        .arg(data("dlt645_meter.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(meter.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let remote = format!("127.0.0.1:{}", line.trim());
    // Read phase A voltage (DI 02 01 01 00) of meter 000000000001, then its address by broadcast.
    let voltage = run(
        &[
            "connect",
            &remote,
            "--send-hex",
            "68 01 00 00 00 00 00 68 11 04 33 34 34 35 B6 16",
            "--protocol",
            "dlt645",
            "--json",
        ],
        b"",
    );
    let address = run(
        &[
            "connect",
            &remote,
            "--send-hex",
            "68 AA AA AA AA AA AA 68 13 00 DF 16",
            "--protocol",
            "dlt645",
            "--json",
        ],
        b"",
    );
    let _ = meter.kill();
    let _ = meter.wait();
    let reply = |ran: &super::Ran| {
        assert_eq!(ran.code, OK, "{ran:?}");
        super::json::records(ran)
            .into_iter()
            .find(|r| r["kind"] == "rx")
            .unwrap_or_else(|| panic!("{}", ran.stdout))["decoded"]
            .clone()
    };
    let v = reply(&voltage);
    assert_eq!(v["checks_ok"], true, "{v}");
    assert_eq!(field(&v, "wake")["len"], 4, "its FE wake-up bytes");
    assert_eq!(field(&v, "address")["value"], "000000000001");
    assert_eq!(field(&v, "control.reply")["value"], 1);
    assert_eq!(field(&v, "data.di")["shown"], "0x02010100 Phase A voltage");
    assert_eq!(field(&v, "data.value")["value"], "2205", "220.5 V as XXX.X");
    assert_eq!(field(&v, "data.value")["shown"], "220.5 V");
    assert_eq!(field(&v, "data.value")["label"], "Voltage");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .ends_with("0x02010100 Phase A voltage · 220.5 V"),
        "{v}"
    );
    let a = reply(&address);
    assert_eq!(a["checks_ok"], true, "{a}");
    assert_eq!(field(&a, "data.meter")["value"], "000000000001");
}

#[test]
fn run_decodes_with_the_protocol_its_profile_names() {
    let port = free_port();
    let dir = Dir::new("run");
    let profile = dir.path().join("platform.ron");
    std::fs::write(
        &profile,
        format!("(version: 3, name: \"808\", session: (mode: TcpServer, local_ip: \"127.0.0.1\", server_port: \"{port}\", protocol: \"jt808\"))"),
    )
    .unwrap();
    let path = profile.to_str().unwrap().to_owned();
    let server = spawn(move || run(&["run", &path, "--duration", "3s", "--json"], b""));
    let peer = Command::new("python3")
        .args([&data("field_peers.py"), "jt808", &port.to_string()])
        .status()
        .unwrap();
    let ran = server.join().unwrap();
    assert!(peer.success());
    assert_eq!(ran.code, OK, "{ran:?}");
    let decoded: Vec<Value> = super::json::records(&ran)
        .into_iter()
        .filter(|r| r["kind"] == "rx")
        .map(|r| r["decoded"].clone())
        .collect();
    // Two frames in one write, cut apart by the protocol's frame layer.
    assert_eq!(decoded.len(), 2, "{}", ran.stdout);
    assert_eq!(field(&decoded[1], "body.speed")["shown"], "60.0 km/h");
}

/// `listen --json --protocol NAME --once`; a peer written here connects, sends `segments`
/// (one write each, `gap` apart) and closes. The rx records' `decoded` objects (or arrays).
fn listen_to(protocol: &str, segments: &[&[u8]], gap: std::time::Duration) -> Vec<Value> {
    use std::io::Write as _;
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let protocol = protocol.to_owned();
    let server = spawn(move || {
        run(
            &["listen", &bind, "--once", "--json", "--protocol", &protocol],
            b"",
        )
    });
    let mut peer = super::connect_retrying(port);
    for s in segments {
        peer.write_all(s).unwrap();
        peer.flush().unwrap();
        std::thread::sleep(gap);
    }
    drop(peer);
    let ran = server.join().unwrap();
    assert_eq!(ran.code, OK, "{ran:?}");
    super::json::records(&ran)
        .into_iter()
        .filter(|r| r["kind"] == "rx")
        .collect()
}

#[test]
fn a_frame_without_the_end_its_spec_names_is_not_sound_in_decode_or_listen() {
    let hj212 = "##0130QN=20261207202500123;ST=22;CN=2011;PW=123456;MN=88888880000001;Flag=5;CP=&&DataTime=20261207202500;w01018-Rtd=12.5,w01018-Flag=N&&2EC0";
    for (protocol, frame) in [("hj212", hj212), ("nmea", "$GPGSV,1,1,00*79")] {
        let ran = run(
            &["decode", "--protocol", protocol, &hex_of(frame.as_bytes())],
            b"",
        );
        assert_eq!(ran.code, NOT_MATCHED, "{protocol}: {ran:?}");
        assert!(
            ran.stdout.contains("needs 2 bytes, 0 left"),
            "{}",
            ran.stdout
        );
        let whole = format!("{frame}\r\n");
        let ran = run(
            &["decode", "--protocol", protocol, &hex_of(whole.as_bytes())],
            b"",
        );
        assert_eq!(ran.code, OK, "{protocol}: {ran:?}");
    }
    // A monitor that closes before its CR LF: the record is partial and not sound.
    let records = listen_to("hj212", &[hj212.as_bytes()], std::time::Duration::ZERO);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["partial"], true, "{}", records[0]);
    assert_eq!(records[0]["decoded"]["checks_ok"], false, "{}", records[0]);
}

/// A DTU's registration, then RTU frames (read request, write request) one segment each.
const RTU_READ: &[u8] = &[0x01, 0x03, 0x00, 0x00, 0x00, 0x05, 0x85, 0xC9];
const RTU_WRITE: &[u8] = &[0x01, 0x06, 0x00, 0x03, 0x10, 0x92, 0xF5, 0xA7];

#[test]
fn rtu_over_tcp_skips_a_dtu_registration_and_decodes_each_frame_as_it_arrives() {
    use std::io::{Read as _, Write as _};
    // decode: three junk bytes, then two frames.
    let hex = format!("414243{}{}", hex_of(RTU_READ), hex_of(RTU_WRITE));
    let ran = run(&["decode", "--protocol", "modbus-rtu", &hex], b"");
    assert!(
        ran.stdout
            .contains("3 bytes from byte 0 are not a Modbus RTU frame"),
        "{ran:?}"
    );
    assert!(ran.stderr.contains("3 frames: 2 decoded"), "{ran:?}");
    // listen: the peer stays connected; listen ends after 7 messages (the registration and
    // six frames), so each was cut while the peer was there, not at its close.
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let server = spawn(move || {
        run(
            &[
                "listen",
                &bind,
                "--json",
                "--protocol",
                "modbus-rtu",
                "--count",
                "7",
                "--duration",
                "20s",
            ],
            b"",
        )
    });
    let mut peer = super::connect_retrying(port);
    peer.write_all(b"REG:DTU0001").unwrap();
    for n in 0..6 {
        std::thread::sleep(std::time::Duration::from_millis(30));
        peer.write_all(if n % 2 == 0 { RTU_READ } else { RTU_WRITE })
            .unwrap();
    }
    let ran = server.join().unwrap();
    // The peer is still connected: listen ended on its count.
    peer.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let _ = peer.read(&mut [0; 16]);
    assert_eq!(ran.code, OK, "{ran:?}");
    let rx: Vec<Value> = super::json::records(&ran)
        .into_iter()
        .filter(|r| r["kind"] == "rx")
        .collect();
    assert_eq!(rx.len(), 7, "{}", ran.stdout);
    // The registration is said once, as bytes that are not a whole frame.
    assert_eq!(rx[0]["text"], "REG:DTU0001", "{}", rx[0]);
    assert_eq!(rx[0]["partial"], true, "{}", rx[0]);
    assert_eq!(rx[0]["decoded"]["checks_ok"], false, "{}", rx[0]);
    for r in &rx[1..] {
        assert_eq!(r["partial"], false, "{r}");
        assert_eq!(r["decoded"]["checks_ok"], true, "{r}");
    }
    assert_eq!(
        rx[1]["decoded"]["summary"],
        "Modbus RTU slave 1 · 0x03 Read holding registers · @0 ×5"
    );
}

#[test]
fn listen_decodes_a_polled_gateways_replies_as_replies_and_its_requests_as_requests() {
    let gap = std::time::Duration::from_millis(30);
    // RTU over TCP: a DTU that was polled connects in and answers with 5 registers.
    let reply = [
        0x01, 0x03, 0x0A, 0x00, 0x00, 0x00, 0x6F, 0x00, 0xDE, 0x01, 0x4D, 0x01, 0xBC, 0x82, 0x69,
    ];
    let rx = listen_to("modbus-rtu", &[&reply, RTU_READ], gap);
    assert_eq!(rx.len(), 2, "{rx:?}");
    assert_eq!(
        rx[0]["decoded"]["summary"],
        "Modbus RTU slave 1 · 0x03 Read holding registers · 5 items: 0, 111, 222, 333, 444",
        "{}",
        rx[0]
    );
    assert_eq!(rx[0]["decoded"]["checks_ok"], true);
    assert_eq!(
        rx[1]["decoded"]["summary"],
        "Modbus RTU slave 1 · 0x03 Read holding registers · @0 ×5"
    );
    // Modbus TCP: two replies, then a request.
    let tcp: [&[u8]; 3] = [
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x04, 0x00, 0x01, 0x00, 0x02,
        ],
        &[
            0x00, 0x02, 0x00, 0x00, 0x00, 0x0B, 0x01, 0x03, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00,
            0x02, 0x00, 0x03,
        ],
        &[
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x02,
        ],
    ];
    let rx = listen_to("modbus-tcp", &tcp, gap);
    let summaries: Vec<&str> = rx
        .iter()
        .map(|r| r["decoded"]["summary"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        summaries,
        [
            "Modbus #1 unit 1 · 0x03 Read holding registers · 2 items: 1, 2",
            "Modbus #2 unit 1 · 0x03 Read holding registers · 4 items: 0, 1, 2, 3",
            "Modbus #1 unit 1 · 0x03 Read holding registers · @0 ×2",
        ]
    );
    assert!(
        rx.iter().all(|r| r["decoded"]["checks_ok"] == true),
        "{rx:?}"
    );
}

#[test]
fn decode_puts_captured_tcp_segments_in_order_and_says_a_gap() {
    let dir = Dir::new("pcap-order");
    let one = "7e8001000505805668746700000026000200087e";
    let decode = |mode: &str| {
        let pcap = dir.path().join(format!("{mode}.pcap"));
        let status = Command::new("python3")
            .args([
                &data("write_pcap.py"),
                pcap.to_str().unwrap(),
                one,
                JT808_2019,
                mode,
            ])
            .status()
            .unwrap();
        assert!(status.success());
        run(
            &[
                "decode",
                "--protocol",
                "jt808",
                "--file",
                pcap.to_str().unwrap(),
                "--json",
            ],
            b"",
        )
    };
    // A retransmitted segment is taken once; halves sent again or captured out of order are
    // put back in order: the two frames, whole, once each.
    for mode in ["retrans", "halfretrans", "ooo"] {
        let ran = decode(mode);
        assert_eq!(ran.code, OK, "{mode}: {ran:?}");
        let frames = lines(&ran.stdout);
        assert_eq!(frames.len(), 2, "{mode}: {}", ran.stdout);
        assert_eq!(field(&frames[0], "msg_id")["value"], 0x8001, "{mode}");
        assert_eq!(
            field(&frames[1], "body.lon")["value"],
            121_987_654,
            "{mode}"
        );
        assert!(
            frames.iter().all(|f| f["checks_ok"] == true),
            "{mode}: {}",
            ran.stdout
        );
    }
    // Five bytes never captured: said, the frame across them is not sound, the next one is,
    // and the run ends 1.
    let ran = decode("gap");
    assert_eq!(ran.code, NOT_MATCHED, "{ran:?}");
    assert!(
        ran.stderr.contains(
            "127.0.0.1:40000 → 127.0.0.1:7000: 5 bytes of the stream are not in the capture"
        ),
        "{}",
        ran.stderr
    );
    let frames = lines(&ran.stdout);
    assert_eq!(
        frames.last().map(|f| &f["checks_ok"]),
        Some(&Value::Bool(true)),
        "{}",
        ran.stdout
    );
    assert_eq!(
        field(frames.last().unwrap(), "body.lon")["value"],
        121_987_654
    );
    assert!(
        frames.iter().rev().skip(1).all(|f| f["checks_ok"] == false),
        "{}",
        ran.stdout
    );
}

#[test]
fn a_bad_hex_line_on_stdin_is_named_by_its_line() {
    let ran = run(
        &["decode", "--protocol", "modbus-rtu"],
        b"01 03 00 00 00 01 84 0A\n\nzz01\n",
    );
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("line 3 of stdin: 'z' at column 1"),
        "{}",
        ran.stderr
    );
}

/// A text protocol's frame is given as text (`--text`, escapes read as the send box reads
/// them); given where hex is wanted, the mistake says where it goes. Only hex was taken, so
/// an HJ 212 line had to be turned into hex by hand.
#[test]
fn decode_takes_a_text_frame_after_text_and_says_so_when_it_is_given_as_hex() {
    let line = "##0113QN=20210118201054000;ST=32;CN=3032;PW=123456;MN=20210107123456;Flag=5;CP=&&PolId=a34004,MB_BgnAddr=192,MB_Wrt=5&&0F00";
    let ran = run(
        &[
            "decode",
            "--protocol",
            "hj212",
            "--text",
            &format!("{line}\\r\\n"),
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(
        ran.stdout.starts_with("HJ212 CN=3032 · MN=20210107123456"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stderr
            .contains("1 decoded to the end with its checks holding, 0 not"),
        "{}",
        ran.stderr
    );
    let ran = run(&["decode", "--protocol", "hj212", line], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(ran.stderr.contains("goes after --text"), "{}", ran.stderr);
}
