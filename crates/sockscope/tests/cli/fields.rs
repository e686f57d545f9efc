//! Answering and expecting by field (issue 28): the shipped simulators built of rules that
//! read decoded fields and reply by fields, each passing its own check conversation under
//! `sockscope test` and answering a peer we did not write (Python written from the
//! standards' text, PyPI packages); a rule naming a field its protocol lacks is refused with
//! its place in the profile.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use sockscope_core::profile;
use sockscope_core::session::Session;

use super::{BAD_INPUT, OK, run};

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

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

/// A shipped simulator, served in-process on a port of the OS's choosing.
fn simulator(name: &str) -> (Session, SocketAddr) {
    let mut form = profile::load(std::path::Path::new(&example(name)))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    *form.local_port_mut() = "0".into();
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).unwrap();
    let addr = session.wait_listening(Duration::from_secs(5));
    (session, addr.expect("the simulator listens"))
}

/// `sockscope test CHECK` against the simulator `sim`: every step passes.
fn passes_its_check(sim: &str, check: &str) {
    let (_session, addr) = simulator(sim);
    let ran = run(
        &["test", &example(check), "--remote", &addr.to_string()],
        b"",
    );
    assert_eq!(ran.code, OK, "{check}: {ran:?}");
    assert!(
        ran.stdout.contains('✓') && !ran.stdout.contains('✗'),
        "{}",
        ran.stdout
    );
}

/// A Python peer run against the simulator `sim`: it exits 0 and prints `OK`; its output.
fn answers_peer(sim: &str, args: &[&str]) -> String {
    let (_session, addr) = simulator(sim);
    let mut command = Command::new("python3");
    command.args(args).arg(addr.port().to_string());
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.ends_with("OK\n"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn the_jt808_platform_passes_its_check_conversation() {
    passes_its_check("jt808-platform.ron", "check-jt808-platform.ron");
}

#[test]
fn the_jt808_platform_answers_a_terminal_written_from_the_standard() {
    let out = answers_peer(
        "jt808-platform.ron",
        &[&data("field_peers.py"), "jt808-terminal"],
    );
    // Registration → 0x8100 with the terminal's serial and an auth code; then each message
    // → 0x8001 with its own serial and id (7E 7D escaped both ways), the platform counting
    // its own serials.
    assert!(
        out.contains("8100 reply_serial=1 result=0 token=SSCOPE808 platform_serial=1"),
        "{out}"
    );
    assert!(
        out.contains("8001 reply_serial=2 reply_id=0102 result=0"),
        "{out}"
    );
    assert!(
        out.contains("8001 reply_serial=32381 reply_id=0200 result=0"),
        "{out}"
    );
    assert!(
        out.contains("8001 reply_serial=4 reply_id=0002 result=0"),
        "{out}"
    );
}

#[test]
fn the_dlt645_meter_passes_its_check_conversation() {
    passes_its_check("dlt645-meter.ron", "check-dlt645-meter.ron");
}

#[test]
fn the_dlt645_meter_answers_pypi_dlt645_as_master() {
    if !python_has("dlt645") {
        return;
    }
    let out = answers_peer("dlt645-meter.ron", &[&data("dlt645_master.py")]);
    // The values of the profile's tables, as dlt645 reads them from the standard's formats.
    for line in [
        "address 010000000000",
        "00000000 1234.56",
        "00010000 1234.56",
        "02010100 220.5",
        "02020100 1.234",
        "02800002 50.0",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
}

#[test]
fn the_hj212_platform_passes_its_check_conversation() {
    passes_its_check("hj212-platform.ron", "check-hj212-platform.ron");
}

#[test]
fn the_hj212_platform_answers_a_monitor_written_from_the_standard() {
    let out = answers_peer(
        "hj212-platform.ron",
        &[&data("field_peers.py"), "hj212-monitor"],
    );
    // Data → 9014 with its QN; a request → 9011 QnRtn=1, then 9012 ExeRtn=1 (each frame's
    // length and CRC checked by the monitor's own code).
    for line in [
        "CN=9014 QN=20260107120000123 ST=91 Flag=4 CP=&&&&",
        "CN=9011 QN=20260107120000456 CP=&&QnRtn=1&&",
        "CN=9012 QN=20260107120000456 CP=&&ExeRtn=1&&",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
}

#[test]
fn the_modbus_rtu_slave_passes_its_check_conversation() {
    passes_its_check("modbus-rtu-slave.ron", "check-modbus-rtu-slave.ron");
}

#[test]
fn the_modbus_rtu_slave_answers_pymodbus_with_its_rtu_framer() {
    if !python_has("pymodbus") {
        return;
    }
    let out = answers_peer("modbus-rtu-slave.ron", &[&data("modbus_rtu_master.py")]);
    // What pymodbus read, wrote and read back; the read past the end is exception 02.
    for line in [
        "read 0×3 [10, 20, 30]",
        "write 5 = [4660] \n",
        "write 7×3 \n",
        "read 4×6 [50, 4660, 70, 1, 2, 3]",
        "read 9×5 exception 2",
        "report id exception 1",
        "device info exception 1",
    ] {
        assert!(out.contains(line), "{line}: {out}");
    }
}

#[test]
fn a_rule_naming_a_field_its_protocol_lacks_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.ron");
    std::fs::write(
        &path,
        r#"(
    version: 3,
    session: (
        mode: TcpServer, local_ip: "127.0.0.1", server_port: "0", protocol: "jt808",
        automation: (enabled: true, rules: [
            (name: "fast", when: Expr("f.msg_id == 0x0200 && f.body.speedd > 800")),
        ]),
    ),
)"#,
    )
    .unwrap();
    let ran = run(&["run", path.to_str().unwrap()], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("platform.ron:6:62: Rule “fast”: no field 'body.speedd' in JT/T 808 (2013/2019) (did you mean 'speed'?)"),
        "{}",
        ran.stderr
    );
    // The same rule with no protocol says it needs one.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(r#" protocol: "jt808","#, "");
    std::fs::write(&path, text).unwrap();
    let ran = run(&["run", path.to_str().unwrap()], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("platform.ron:6:40: Rule “fast”: f.msg_id reads a decoded field, but the session has no protocol"),
        "{}",
        ran.stderr
    );
}

/// A reply value written as a number no field of that name can hold (300 in a byte, -1 in
/// an unsigned field, 16 in a 4-bit field) is refused with its place before anything opens;
/// it was said only at the first message, nothing was sent, and run still exited 0.
#[test]
fn a_reply_value_that_can_never_fit_its_field_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.ron");
    let profile = |value: &str| {
        format!(
            r#"(
    version: 3,
    session: (
        mode: TcpServer, local_ip: "127.0.0.1", server_port: "0", protocol: "jt808",
        automation: (enabled: true, rules: [
            (name: "hb", when: Expr("f.msg_id == 0x0002"),
             reply: Some((fields: (values: {{"msg_id": "0x8001", "body.result": "{value}"}})))),
        ]),
    ),
)"#
        )
    };
    for (value, says) in [
        (
            "300",
            "300 never fits the field 'body.result' (u8: 0 to 255)",
        ),
        ("-1", "-1 never fits the field 'body.result' (u8: 0 to 255)"),
    ] {
        std::fs::write(&path, profile(value)).unwrap();
        // A duration, so a profile that is not refused ends the test rather than hangs it.
        let ran = run(&["run", path.to_str().unwrap(), "--duration", "1s"], b"");
        assert_eq!(ran.code, BAD_INPUT, "{value}: {ran:?}");
        assert!(
            ran.stderr.contains("platform.ron:7:") && ran.stderr.contains(says),
            "{value}: {}",
            ran.stderr
        );
        assert!(!ran.stdout.contains("Listening"), "{}", ran.stdout);
    }
    // A value that fits, and one that reads the request, load as before.
    std::fs::write(&path, profile("4")).unwrap();
    let ran = run(&["run", path.to_str().unwrap(), "--duration", "0.2s"], b"");
    assert_eq!(ran.code, OK, "{ran:?}");
}

#[test]
fn a_check_expecting_a_field_its_protocol_lacks_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.ron");
    std::fs::write(
        &path,
        r#"(
    version: 3,
    session: (
        mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "9", protocol: "jt808",
        automation: (scripts: [(name: "s", steps: [
            Expect(when: Expr("f.body.reply_serail == 1"), timeout_ms: 100),
        ])]),
    ),
)"#,
    )
    .unwrap();
    let ran = run(&["test", path.to_str().unwrap()], b"");
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    assert!(
        ran.stderr.contains("check.ron:6:32:") && ran.stderr.contains("no field 'body.reply_serail' in JT/T 808 (2013/2019) (did you mean 'reply_serial'?)"),
        "{}",
        ran.stderr
    );
}

/// Reads one JT/T 808 frame (7E … 7E) from `stream`, or `None` when nothing comes in time.
fn jt808_frame(stream: &mut std::net::TcpStream) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read_exact(&mut byte).is_ok() {
        frame.push(byte[0]);
        if frame.len() > 1 && byte[0] == 0x7E {
            return Some(frame);
        }
    }
    None
}

#[test]
fn run_answers_by_field_under_protocol_and_says_a_reply_it_cannot_build() {
    use std::io::Write;
    let port = super::free_port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.ron");
    // No protocol in the profile: --protocol gives it, for the rules too.
    std::fs::write(
        &path,
        format!(
            r#"(
    version: 3,
    session: (
        mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}",
        automation: (enabled: true, rules: [
            (name: "too big", when: Expr("f.msg_id == 0x0002"), reply: Some((fields: (values: {{
                "msg_id": "0x8001", "body.reply_serial": "f.serial + 70000", "body.reply_id": "2", "body.result": "0"}})))),
            (name: "ack", when: Expr("f.msg_id == 0x0200"), reply: Some((fields: (values: {{
                "msg_id": "0x8001", "body.reply_serial": "f.serial", "body.reply_id": "f.msg_id", "body.result": "0"}})))),
        ]),
    ),
)"#
        ),
    )
    .unwrap();
    let profile = path.to_str().unwrap().to_owned();
    let server = super::spawn(move || {
        run(
            &["run", &profile, "--protocol", "jt808", "--duration", "2s"],
            b"",
        )
    });
    let mut stream = super::connect_retrying(port);
    stream
        .set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    // A heartbeat: its rule cannot build its reply (70001 is no u16), so nothing comes.
    let heartbeat =
        sockscope_core::codec::hex::parse("7E 00 02 00 00 01 39 12 34 43 29 00 01 77 7E").unwrap();
    stream.write_all(&heartbeat).unwrap();
    assert_eq!(jt808_frame(&mut stream), None);
    // A location report: 0x8001 with its serial and id, checks holding.
    let location = sockscope_core::codec::hex::parse(
        "7E 02 00 00 1C 01 39 12 34 43 29 7D 02 7D 01 00 00 00 00 00 00 00 03 01 57 FB 6A 06 CA AC 4E 00 23 02 58 00 5A 26 01 07 12 34 56 F0 7E",
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    stream.write_all(&location).unwrap();
    let reply = jt808_frame(&mut stream).expect("the 0x8001");
    let p = sockscope_core::protocol::builtin("jt808").unwrap();
    let d = p.decode(&reply, sockscope_core::protocol::Dir::Response);
    assert!(d.checks_ok(), "{}", p.summary(&d));
    assert_eq!(
        p.summary(&d),
        "JT808 0x8001 Platform general reply · 013912344329 · #32381 · → #32381 0x0200 Location report: 0 OK"
    );
    drop(stream);
    let ran = server.join().unwrap();
    // The heartbeat went unanswered: said, counted, and not exit 0.
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(
        ran.stdout.contains(
            "Rules fired: too big × 1 (1 not answered: the reply could not be made), ack × 1"
        ),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("Rule “too big”: the frame could not be built from its fields: field 'body.reply_serial'"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("Rule “ack” answered (24 B)"),
        "{}",
        ran.stdout
    );
}

/// Sends `bad` (a frame whose checksum was spoiled) and then `good` to the simulator `sim`:
/// the first reply that comes is the good frame's, so the bad one drew none (a device whose
/// checksum code is wrong must not pass against a simulator that answers anyway).
fn ignores_a_bad_checksum(sim: &str, bad: &str, good: &str, reply_starts: &str) {
    use std::io::{Read as _, Write as _};
    let (_session, addr) = simulator(sim);
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let bad = sockscope_core::codec::hex::parse(bad).unwrap();
    let good = sockscope_core::codec::hex::parse(good).unwrap();
    peer.write_all(&bad).unwrap();
    // Apart, so the good frame is not taken for the rest of the bad one.
    std::thread::sleep(Duration::from_millis(100));
    peer.write_all(&good).unwrap();
    let want = sockscope_core::codec::hex::parse(reply_starts).unwrap();
    let mut got = vec![0u8; want.len()];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(
        sockscope_core::codec::hex::format(&got),
        sockscope_core::codec::hex::format(&want),
        "{sim}: the first reply is not the good frame's"
    );
}

#[test]
fn the_dlt645_meter_does_not_answer_a_frame_whose_sum_is_wrong() {
    // Read address (0x13), sum DF spoiled to DE; then the good one → 0x93.
    ignores_a_bad_checksum(
        "dlt645-meter.ron",
        "68 AA AA AA AA AA AA 68 13 00 DE 16",
        "68 AA AA AA AA AA AA 68 13 00 DF 16",
        "68 01 00 00 00 00 00 68 93",
    );
}

/// An Expect by field that no message met says what the last message was and the values of
/// the fields its condition reads (it gave the raw hex alone, so a wrong serial had to be
/// found by hand).
#[test]
fn an_expect_by_field_that_fails_says_the_fields_it_read() {
    let (_session, addr) = simulator("jt808-platform.ron");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.ron");
    std::fs::write(
        &path,
        r#"(
    version: 3,
    session: (
        mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "9", protocol: "jt808",
        automation: (scripts: [(name: "heartbeat", steps: [
            Send((fields: (fresh: true, values: {
                "msg_id": "0x0002", "props.encrypt": "0", "props.subpkg": "0",
                "props.version": "0", "props.reserved": "0",
                "phone": "\"013912344329\"", "serial": "4",
            }))),
            Expect(when: Expr("f.msg_id == 0x8001 && f.body.reply_serial == 5"), timeout_ms: 500),
        ])]),
    ),
)"#,
    )
    .unwrap();
    let ran = run(
        &[
            "test",
            path.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
        ],
        b"",
    );
    assert_eq!(ran.code, 1, "{ran:?}");
    let all = format!("{}{}", ran.stdout, ran.stderr);
    assert!(
        all.contains("the last was ≡ JT808 0x8001")
            && all.contains("msg_id = 32769 (0x8001), body.reply_serial = 4"),
        "{all}"
    );
}

/// A write to slave address 0 is a broadcast: carried out by every slave and answered by
/// none (the simulator ignored it: the register kept its value).
#[test]
fn the_modbus_rtu_slave_carries_out_a_broadcast_write_without_answering() {
    use std::io::{Read as _, Write as _};
    let (_session, addr) = simulator("modbus-rtu-slave.ron");
    let mut peer = std::net::TcpStream::connect(addr).unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let hex = |text: &str| sockscope_core::codec::hex::parse(text).unwrap();
    // 06 to slave 0: register 0 = 0x63, answered by nothing, so the first reply is the
    // read's, with the value written.
    peer.write_all(&hex("00 06 00 00 00 63 C8 32")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    peer.write_all(&hex("01 03 00 00 00 01 84 0A")).unwrap();
    let mut got = [0u8; 7];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(got.as_slice(), hex("01 03 02 00 63 F8 6D"));
}

/// A fresh frame built by fields needs no flag bits written out: bits of a number given no
/// value are 0 (a JT/T 808 heartbeat had to name encrypt, sub-package, version and reserved,
/// else the step failed at run time and the device was blamed).
#[test]
fn a_fresh_frame_by_fields_takes_its_unnamed_flag_bits_as_0() {
    let (_session, addr) = simulator("jt808-platform.ron");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("check.ron");
    std::fs::write(
        &path,
        r#"(
    version: 3,
    session: (
        mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "9", protocol: "jt808",
        automation: (scripts: [(name: "heartbeat", steps: [
            Send((fields: (fresh: true, values: {"msg_id": "0x0002", "phone": "\"013912344329\"", "serial": "77"}))),
            Expect(when: Expr("f.msg_id == 0x8001 && f.body.reply_serial == 77 && f.body.result == 0"), timeout_ms: 2000),
        ])]),
    ),
)"#,
    )
    .unwrap();
    let ran = run(
        &[
            "test",
            path.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
}

/// A rule whose reply could not be made for a message (a value that did not fit this time)
/// is said as not answered, counted, and `run` ends with exit 1: it ended 0 and printed the
/// rule as fired, as though the message had been answered.
#[test]
fn run_says_and_exits_1_when_a_rule_could_not_answer_a_message() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.ron");
    let port = super::free_port();
    std::fs::write(
        &path,
        format!(
            r#"(
    version: 3,
    session: (
        mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}", protocol: "jt808",
        automation: (enabled: true, rules: [
            (name: "hb", when: Expr("f.msg_id == 0x0002"),
             reply: Some((fields: (values: {{"msg_id": "0x8001", "body.reply_serial": "f.serial + 70000", "body.reply_id": "f.msg_id", "body.result": "0"}})))),
        ]),
    ),
)"#
        ),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sockscope"))
        .args(["run", path.to_str().unwrap(), "--duration", "3s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    testkit::wait_bound(port);
    let mut peer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A heartbeat, serial 4.
    peer.write_all(
        &sockscope_core::codec::hex::parse("7e 0002 0000 013912344329 0004 72 7e").unwrap(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("\"event\":\"rule-reply-failed\""),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"{"count":1,"failed":1,"rule":"hb"}"#),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not make their reply"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
