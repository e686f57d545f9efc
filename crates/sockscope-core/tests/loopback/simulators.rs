//! The shipped device simulators (`examples/profiles/`) and every rule action, over loopback
//! against std-socket clients written from the protocols' specs, not from our code.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::engine::Mode;
use sockscope_core::profile::{self, Form};
use sockscope_core::rules::{Automation, Cond, Match, ReplySpec, ReplyTo, Rule};
use sockscope_core::session::Session;

use crate::util::{WAIT, bound, read_n, reads_nothing, wait_capture};

pub fn simulator(name: &str) -> Form {
    let path = format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let loaded = profile::load(std::path::Path::new(&path)).expect("the simulator loads");
    assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
    assert!(
        loaded.profile.session.automation.active(),
        "{name} has rules"
    );
    loaded.profile.session
}

pub fn serve(mut form: Form) -> (Session, SocketAddr) {
    form.local_ip = "127.0.0.1".into();
    *form.local_port_mut() = "0".into();
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).expect("the form is valid");
    let addr = bound(&session);
    (session, addr)
}

pub fn client(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

/// A Modbus TCP request: MBAP (transaction, protocol 0, length, unit) and the PDU.
pub fn modbus(transaction: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&transaction.to_be_bytes());
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    frame.push(unit);
    frame.extend_from_slice(pdu);
    frame
}

/// Reads one Modbus TCP response: the MBAP header says how long the rest is.
pub fn response(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = read_n(stream, 6);
    let rest = u16::from_be_bytes([head[4], head[5]]) as usize;
    head.extend(read_n(stream, rest));
    head
}

#[test]
fn the_modbus_slave_reads_writes_and_refuses_as_the_spec_says() {
    let (session, addr) = serve(simulator("modbus-slave.ron"));
    let mut plc = client(addr);
    // 03: read 3 holding registers from address 1 (values 20, 30, 40).
    plc.write_all(&modbus(0x1234, 0x11, &[0x03, 0x00, 0x01, 0x00, 0x03]))
        .unwrap();
    assert_eq!(
        response(&mut plc),
        modbus(0x1234, 0x11, &[0x03, 0x06, 0x00, 20, 0x00, 30, 0x00, 40])
    );
    // 06: write 0xBEEF at address 9, which the next read returns; the answer echoes the request.
    let write = modbus(0x0002, 0x11, &[0x06, 0x00, 0x09, 0xBE, 0xEF]);
    plc.write_all(&write).unwrap();
    assert_eq!(response(&mut plc), write);
    plc.write_all(&modbus(0x0003, 0x11, &[0x03, 0x00, 0x08, 0x00, 0x02]))
        .unwrap();
    assert_eq!(
        response(&mut plc),
        modbus(0x0003, 0x11, &[0x03, 0x04, 0x00, 90, 0xBE, 0xEF])
    );
    // Out of range: exception 02; a quantity of 0: exception 03; function 0x2B: exception 01.
    plc.write_all(&modbus(4, 1, &[0x03, 0x00, 0x09, 0x00, 0x02]))
        .unwrap();
    assert_eq!(response(&mut plc), modbus(4, 1, &[0x83, 0x02]));
    plc.write_all(&modbus(5, 1, &[0x03, 0x00, 0x00, 0x00, 0x00]))
        .unwrap();
    assert_eq!(response(&mut plc), modbus(5, 1, &[0x83, 0x03]));
    plc.write_all(&modbus(6, 1, &[0x06, 0x00, 0x0A, 0x00, 0x01]))
        .unwrap();
    assert_eq!(response(&mut plc), modbus(6, 1, &[0x86, 0x02]));
    plc.write_all(&modbus(7, 1, &[0x2B, 0x0E, 0x01, 0x00]))
        .unwrap();
    assert_eq!(response(&mut plc), modbus(7, 1, &[0xAB, 0x01]));
    // Two requests in one write (粘包) are two frames and two answers, in order.
    let mut both = modbus(8, 1, &[0x03, 0x00, 0x00, 0x00, 0x01]);
    both.extend(modbus(9, 1, &[0x03, 0x00, 0x01, 0x00, 0x01]));
    plc.write_all(&both).unwrap();
    assert_eq!(response(&mut plc), modbus(8, 1, &[0x03, 0x02, 0x00, 10]));
    assert_eq!(response(&mut plc), modbus(9, 1, &[0x03, 0x02, 0x00, 20]));
    // The hit counters count each rule.
    wait_capture(&session, "hit counters", |c| {
        c.rule_hits.values().map(|h| h.count).sum::<u64>() == 9
    });
    assert_eq!(
        session.capture().rule_hits[&sockscope_core::rules::place_id(2)].count,
        4,
        "reads"
    );
}

fn line(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut byte = [0u8];
    while !out.ends_with(b"\r\n") {
        stream.read_exact(&mut byte).unwrap();
        out.push(byte[0]);
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn the_at_modem_answers_each_command_and_error_for_the_rest() {
    let (_session, addr) = serve(simulator("at-modem.ron"));
    let mut terminal = client(addr);
    terminal.write_all(b"AT\r").unwrap();
    assert_eq!(line(&mut terminal), "OK\r\n");
    // CRLF from a program, lower case, spaces: the same answers.
    terminal.write_all(b"at+csq\r\n").unwrap();
    assert_eq!(line(&mut terminal), "+CSQ: 23,99\r\n");
    assert_eq!(line(&mut terminal), "\r\n");
    assert_eq!(line(&mut terminal), "OK\r\n");
    terminal.write_all(b" AT \r\n").unwrap();
    assert_eq!(line(&mut terminal), "OK\r\n");
    terminal.write_all(b"AT+FOO\r").unwrap();
    assert_eq!(line(&mut terminal), "ERROR\r\n");
    // An empty line gets no answer.
    terminal.write_all(b"\r").unwrap();
    assert!(reads_nothing(&mut terminal));
    // An interactive `socat -` sends LF at Enter: each line is answered at once, not when the
    // connection closes.
    terminal.write_all(b"AT\nAT+CGMI\n").unwrap();
    assert_eq!(line(&mut terminal), "OK\r\n");
    assert_eq!(line(&mut terminal), "SockScope\r\n");
    assert_eq!(line(&mut terminal), "\r\n");
    assert_eq!(line(&mut terminal), "OK\r\n");
}

#[test]
fn the_json_device_answers_length_prefixed_json() {
    let (_session, addr) = serve(simulator("json-device.ron"));
    let mut app = client(addr);
    let send = |app: &mut TcpStream, body: &str| {
        let mut frame = (body.len() as u32).to_le_bytes().to_vec();
        frame.extend_from_slice(body.as_bytes());
        app.write_all(&frame).unwrap();
    };
    let receive = |app: &mut TcpStream| {
        let head = read_n(app, 4);
        let len = u32::from_le_bytes(head.try_into().unwrap()) as usize;
        String::from_utf8(read_n(app, len)).unwrap()
    };
    send(&mut app, r#"{"cmd": "ping", "seq": 41}"#);
    assert_eq!(receive(&mut app), r#"{"cmd": "pong", "seq": 41}"#);
    send(&mut app, r#"{"cmd":"read","sensor":"temp"}"#);
    let reading = receive(&mut app);
    assert!(
        reading.starts_with(r#"{"sensor": "temp", "value": 23.5, "unit": "°C", "time": 1"#),
        "{reading}"
    );
    send(&mut app, "{}");
    assert_eq!(
        receive(&mut app),
        r#"{"error": "unknown command", "bytes": 2}"#
    );
}

#[test]
fn the_heartbeat_server_counts_echoes_and_closes_on_quit() {
    let (_session, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut device = client(addr);
    device.write_all(b"PING\n").unwrap();
    assert_eq!(read_n(&mut device, 5), b"PONG\n");
    device.write_all(b"HB\r\nHB\n").unwrap();
    assert_eq!(read_n(&mut device, 18), b"HB-ACK 1\nHB-ACK 2\n");
    device.write_all("温度 23\r\n".as_bytes()).unwrap();
    assert_eq!(read_n(&mut device, 11), "温度 23\r\n".as_bytes());
    device.write_all(b"QUIT\n").unwrap();
    assert_eq!(read_n(&mut device, 4), b"BYE\n");
    let mut rest = Vec::new();
    assert_eq!(
        device.read_to_end(&mut rest).unwrap(),
        0,
        "closed after BYE"
    );
}

fn rules_server(rules: Vec<Rule>) -> (Session, SocketAddr) {
    let mut form = Form {
        mode: Mode::TcpServer,
        ..Form::default()
    };
    form.automation = Automation {
        enabled: true,
        rules,
        ..Automation::default()
    };
    serve(form)
}

fn reply(payload: &str) -> ReplySpec {
    ReplySpec {
        payload: payload.into(),
        ..ReplySpec::default()
    }
}

#[test]
fn a_delayed_reply_waits_and_a_reply_to_all_reaches_every_client() {
    let (session, addr) = rules_server(vec![
        Rule {
            when: Cond::Text(Match::Exact, "slow".into()),
            reply: Some(reply("late")),
            delay_ms: 300,
            ..Rule::default()
        },
        Rule {
            when: Cond::Text(Match::Exact, "all".into()),
            reply: Some(reply("everyone")),
            to: ReplyTo::All,
            ..Rule::default()
        },
    ]);
    let mut a = client(addr);
    let mut b = client(addr);
    // Both taken in, so a reply to all reaches b.
    wait_capture(&session, "two clients", |c| c.clients.len() == 2);
    let sent = Instant::now();
    a.write_all(b"slow").unwrap();
    assert!(reads_nothing(&mut a), "not before its delay");
    assert_eq!(read_n(&mut a, 4), b"late");
    assert!(sent.elapsed() >= Duration::from_millis(300));
    b.write_all(b"all").unwrap();
    assert_eq!(read_n(&mut a, 8), b"everyone");
    assert_eq!(read_n(&mut b, 8), b"everyone");
}

#[test]
fn replies_go_out_while_the_owner_holds_the_log_and_a_failing_rule_says_why() {
    let (session, addr) = rules_server(vec![
        Rule {
            name: "short".into(),
            when: Cond::Text(Match::Prefix, "GET".into()),
            reply: Some(reply("{{rx.u32be@10}}")),
            ..Rule::default()
        },
        Rule {
            when: Cond::Always,
            reply: Some(reply("OK {{rx.len}}")),
            ..Rule::default()
        },
    ]);
    let mut peer = client(addr);
    wait_capture(&session, "the client", |c| c.clients.len() == 1);
    {
        // A window busy for a second (a dialog, a slow frame): the rules do not wait for it.
        let _held = session.capture();
        peer.write_all(b"hello").unwrap();
        assert_eq!(read_n(&mut peer, 4), b"OK 5");
    }
    peer.write_all(b"GET").unwrap();
    wait_capture(&session, "the rule's error", |c| {
        c.last_error
            .as_ref()
            .is_some_and(|e| e.to_string().contains("short") && e.to_string().contains("10..14"))
    });
    assert!(
        reads_nothing(&mut peer),
        "a reply that failed sends nothing"
    );
}

#[test]
fn udp_rules_answer_the_sender() {
    let mut form = Form {
        mode: Mode::Udp,
        ..Form::default()
    };
    form.remote_ip = String::new();
    form.automation = Automation {
        enabled: true,
        rules: vec![Rule {
            when: Cond::Bytes(Match::Prefix, "01 03".into()),
            reply: Some(ReplySpec {
                payload: "{{rx[0..2]}} 02 00 64".into(),
                mode: sockscope_core::codec::payload::InputMode::Hex,
                ..ReplySpec::default()
            }),
            ..Rule::default()
        }],
        ..Automation::default()
    };
    let (_session, addr) = serve(form);
    let sensor = UdpSocket::bind("127.0.0.1:0").unwrap();
    sensor.set_read_timeout(Some(WAIT)).unwrap();
    sensor.send_to(&[1, 3, 0, 0, 0, 1], addr).unwrap();
    let mut buf = [0u8; 64];
    let (n, from) = sensor.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from), (&[1, 3, 2, 0, 0x64][..], addr));
}

#[test]
fn pymodbus_reads_and_writes_the_modbus_slave() {
    let has_pymodbus = std::process::Command::new("python3")
        .args(["-c", "import pymodbus"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pymodbus {
        eprintln!("skipped: python3 with pymodbus is not installed (.ci/run installs it)");
        return;
    }
    let (_session, addr) = serve(simulator("modbus-slave.ron"));
    let script = format!(
        "{}/tests/data/pymodbus_client.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(addr.port().to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pymodbus: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_request_sent_with_fin_is_answered_before_the_connection_closes() {
    // `printf 'PING\n' | socat - TCP:…` sends the request and shuts its side at once; a device
    // still answers, then closes as the peer did. (Before, the answer went to a closed
    // connection: "Client #1 is no longer connected".)
    let (_session, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut device = client(addr);
    device.write_all(b"PING\nHB\n").unwrap();
    device.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = Vec::new();
    device.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"PONG\nHB-ACK 1\n");
}

#[test]
fn a_reply_to_one_peer_reaches_that_client_only_and_the_state_changes_what_is_answered() {
    let (session, addr) = rules_server(vec![]);
    let mut a = client(addr);
    let mut b = client(addr);
    let b_addr = b.local_addr().unwrap();
    wait_capture(&session, "two clients", |c| c.clients.len() == 2);
    let form_rules = Automation {
        enabled: true,
        rules: vec![
            Rule {
                when: Cond::Text(Match::Exact, "LOGIN".into()),
                reply: Some(reply("WELCOME")),
                set_state: Some("IN".into()),
                ..Rule::default()
            },
            Rule {
                when: Cond::All(vec![
                    Cond::State("IN".into()),
                    Cond::Text(Match::Exact, "READ".into()),
                ]),
                reply: Some(reply("42")),
                ..Rule::default()
            },
            Rule {
                when: Cond::Text(Match::Exact, "READ".into()),
                reply: Some(reply("LOGIN FIRST")),
                ..Rule::default()
            },
            Rule {
                when: Cond::Text(Match::Prefix, "TELL ".into()),
                reply: Some(reply("{{rx[5..]}}")),
                to: ReplyTo::Peer(b_addr.to_string()),
                ..Rule::default()
            },
        ],
        ..Automation::default()
    };
    session
        .set_rules(
            Some(&form_rules),
            sockscope_core::codec::TextEncoding::UTF_8,
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    a.write_all(b"READ").unwrap();
    assert_eq!(read_n(&mut a, 11), b"LOGIN FIRST");
    a.write_all(b"LOGIN").unwrap();
    assert_eq!(read_n(&mut a, 7), b"WELCOME");
    a.write_all(b"READ").unwrap();
    assert_eq!(read_n(&mut a, 2), b"42");
    // From a, to b alone.
    a.write_all(b"TELL hi b").unwrap();
    assert_eq!(read_n(&mut b, 4), b"hi b");
    assert!(reads_nothing(&mut a));
}
