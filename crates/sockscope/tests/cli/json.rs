//! Every `--json` output against the schema files in `crates/sockscope/schema`, with real
//! peers: connect, listen, udp, relay, run and bench, in success and failure (refused, reset).
//! The schemas are checked by a small validator here (the JSON Schema keywords they use:
//! type, enum, required, properties, additionalProperties (false or a schema), items, minimum, pattern).

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};

use serde_json::Value;

use super::{Ran, connect_retrying, free_port, run, spawn, tcp_peer};

fn schema(name: &str) -> Value {
    let path = format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// What is wrong with `value` by `schema`, each at its path; empty when it is valid.
fn problems(value: &Value, schema: &Value, at: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = names.iter().any(|name| match *name {
            "string" => value.is_string(),
            "integer" => value.is_u64() || value.is_i64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            "object" => value.is_object(),
            "array" => value.is_array(),
            _ => false,
        });
        if !fits {
            found.push(format!("{at}: {value} is not {names:?}"));
            return found;
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.contains(value)
    {
        found.push(format!("{at}: {value} is none of the allowed values"));
    }
    if let (Some(min), Some(n)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && n < min
    {
        found.push(format!("{at}: {n} < {min}"));
    }
    if let (Some(pattern), Some(text)) = (
        schema.get("pattern").and_then(Value::as_str),
        value.as_str(),
    ) && !regex::Regex::new(pattern).unwrap().is_match(text)
    {
        found.push(format!("{at}: {text:?} does not match {pattern}"));
    }
    if let Some(object) = value.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = key.as_str().unwrap();
            if !object.contains_key(key) {
                found.push(format!("{at}: {key} is missing"));
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => found.extend(problems(item, sub, &format!("{at}.{key}"))),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        found.push(format!("{at}: {key} is not in the schema"));
                    }
                    // Any other key, checked against this schema.
                    Some(sub @ Value::Object(_)) => {
                        found.extend(problems(item, sub, &format!("{at}.{key}")));
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (n, item) in array.iter().enumerate() {
            found.extend(problems(item, items, &format!("{at}[{n}]")));
        }
    }
    found
}

/// Every stdout line of `ran`, each valid by the record schema; the lines as values.
pub(crate) fn records(ran: &Ran) -> Vec<Value> {
    let schema = schema("record.schema.json");
    ran.stdout
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let wrong = problems(&value, &schema, "$");
            assert!(wrong.is_empty(), "{wrong:?} in {line}");
            value
        })
        .collect()
}

fn has_event(lines: &[Value], event: &str) -> bool {
    lines.iter().any(|v| v["event"] == event)
}

#[test]
fn the_validator_finds_what_is_wrong() {
    let schema = schema("record.schema.json");
    let good = serde_json::json!({"time": "2026-05-01T10:00:00.123+08:00", "kind": "rx",
        "event": "received", "text": "hi", "len": 2, "hex": "68 69", "partial": false});
    assert!(problems(&good, &schema, "$").is_empty());
    for bad in [
        serde_json::json!({"time": "2026-05-01 10:00:00.123", "kind": "rx", "event": "received", "text": ""}),
        serde_json::json!({"time": "2026-05-01T10:00:00.123Z", "kind": "rx", "event": "received", "text": ""}),
        serde_json::json!({"time": "2026-05-01T10:00:00.123+08:00", "kind": "rx", "text": ""}),
        serde_json::json!({"time": "2026-05-01T10:00:00.123+08:00", "kind": "rx", "event": "x", "text": ""}),
        serde_json::json!({"time": "2026-05-01T10:00:00.123+08:00", "kind": "rx", "event": "received", "text": "", "length": 1}),
        serde_json::json!({"time": "2026-05-01T10:00:00.123+08:00", "kind": "rx", "event": "received", "text": "", "len": -1}),
    ] {
        assert!(!problems(&bad, &schema, "$").is_empty(), "{bad}");
    }
}

#[test]
fn connect_json_fits_the_schema_and_names_its_events_and_failures() {
    // connect: a reply, then the peer closes.
    let addr = tcp_peer(|_| b"OK\xff".to_vec());
    let ran = run(
        &["connect", &addr.to_string(), "--send", "AT", "--json"],
        b"",
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let lines = records(&ran);
    for event in ["connecting", "connected", "sent", "received"] {
        assert!(has_event(&lines, event), "{event}: {}", ran.stdout);
    }
    // A refused connect: its error record names the peer.
    let refused = format!("127.0.0.1:{}", free_port());
    let ran = run(&["connect", &refused, "--send", "x", "--json"], b"");
    let lines = records(&ran);
    let error = lines.iter().find(|v| v["event"] == "refused").unwrap();
    assert_eq!(error["kind"], "error");
    assert_eq!(error["peer"], refused.as_str());
    // A reset.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let socket = socket2::Socket::from(stream);
        socket.set_linger(Some(std::time::Duration::ZERO)).unwrap();
        let mut stream = std::net::TcpStream::from(socket);
        let mut buf = [0u8; 2];
        let _ = stream.read(&mut buf);
    });
    let ran = run(
        &[
            "connect", &addr, "--send", "hi", "--json", "--expect", "never",
        ],
        b"",
    );
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(has_event(&records(&ran), "reset"), "{}", ran.stdout);
}

#[test]
fn listen_udp_relay_and_run_json_fits_the_schema() {
    // listen: an echo.
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let server = spawn(move || run(&["listen", &bind, "--count", "1", "--json", "--echo"], b""));
    let mut client = connect_retrying(port);
    client.write_all(b"\x00ping").unwrap();
    let mut back = [0u8; 5];
    client.read_exact(&mut back).unwrap();
    let ran = server.join().unwrap();
    let lines = records(&ran);
    for event in ["listening", "connected", "received", "sent"] {
        assert!(has_event(&lines, event), "{event}: {}", ran.stdout);
    }

    // udp.
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = peer.local_addr().unwrap().to_string();
    let echo = spawn(move || {
        let mut buf = [0u8; 64];
        let (n, from) = peer.recv_from(&mut buf).unwrap();
        peer.send_to(&buf[..n], from).unwrap();
    });
    let ran = run(
        &["udp", "--to", &to, "--send", "u", "--expect", "u", "--json"],
        b"",
    );
    echo.join().unwrap();
    let lines = records(&ran);
    assert!(
        has_event(&lines, "bound") && has_event(&lines, "received"),
        "{}",
        ran.stdout
    );

    // relay: each received record says which way it went.
    let upstream = tcp_peer(<[u8]>::to_vec).to_string();
    let port = free_port();
    let relay = spawn(move || {
        run(
            &[
                "relay",
                &format!("127.0.0.1:{port}"),
                &upstream,
                "--duration",
                "1s",
                "--json",
            ],
            b"",
        )
    });
    let mut client = connect_retrying(port);
    client.write_all(b"r").unwrap();
    let mut back = [0u8; 1];
    client.read_exact(&mut back).unwrap();
    drop(client);
    let ran = relay.join().unwrap();
    let lines = records(&ran);
    let dirs: Vec<&Value> = lines
        .iter()
        .filter(|v| v["kind"] == "rx")
        .map(|v| &v["dir"])
        .collect();
    assert!(
        dirs.contains(&&Value::from("up")) && dirs.contains(&&Value::from("down")),
        "{}",
        ran.stdout
    );

    // run: a profile's session.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello").unwrap();
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink);
    });
    let profile_dir = tempfile::tempdir().unwrap();
    let profile = profile_dir
        .path()
        .join(format!("sockscope-json-{}.ron", free_port()));
    std::fs::write(&profile, "(version: 2, session: (mode: TcpClient))").unwrap();
    let ran = run(
        &[
            "run",
            profile.to_str().unwrap(),
            "--remote",
            &addr.to_string(),
            "--duration",
            "300ms",
            "--json",
        ],
        b"",
    );
    std::fs::remove_file(&profile).unwrap();
    assert!(has_event(&records(&ran), "received"), "{}", ran.stdout);
}

#[test]
fn bench_json_fits_its_schema() {
    let echo = tcp_peer(<[u8]>::to_vec);
    let schema = schema("bench.schema.json");
    for mode in ["echo", "throughput"] {
        let ran = run(
            &[
                "bench",
                &echo.to_string(),
                "--mode",
                mode,
                "--count",
                "20",
                "--json",
            ],
            b"",
        );
        assert_eq!(ran.code, 0, "{ran:?}");
        let value: Value = serde_json::from_str(ran.stdout.trim()).unwrap();
        let wrong = problems(&value, &schema, "$");
        assert!(wrong.is_empty(), "{mode}: {wrong:?} in {}", ran.stdout);
    }
}

#[test]
fn websocket_json_says_text_or_binary_and_names_the_upgrade() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import websockets.sync.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: Python's websockets is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let script = format!(
        "from websockets.sync.server import serve\n\
         def h(ws):\n    for m in ws:\n        ws.send(m)\n\
         with serve(h, '127.0.0.1', {port}) as s:\n    s.serve_forever()\n"
    );
    let mut python = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    super::wait_port(port);
    let url = format!("ws://127.0.0.1:{port}/");
    let text = run(
        &["connect", &url, "--send", "hi", "--expect", "hi", "--json"],
        b"",
    );
    let binary = run(
        &[
            "connect",
            &url,
            "--ws-binary",
            "--send-hex",
            "01 02",
            "--expect-hex",
            "01 02",
            "--json",
        ],
        b"",
    );
    let _ = python.kill();
    let _ = python.wait();
    for (ran, ws) in [(text, "text"), (binary, "binary")] {
        assert_eq!(ran.code, super::OK, "{ran:?}");
        let lines = records(&ran);
        // Before: a plain info record, and data records that did not say what they were.
        assert!(has_event(&lines, "ws-upgraded"), "{}", ran.stdout);
        for kind in ["rx", "tx"] {
            assert!(
                lines.iter().any(|v| v["kind"] == kind && v["ws"] == ws),
                "{kind} {ws}: {}",
                ran.stdout
            );
        }
    }
}

#[test]
fn a_long_websocket_message_keeps_its_line_head() {
    let has = std::process::Command::new("python3")
        .args(["-c", "import websockets.sync.server"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        eprintln!("skipped: Python's websockets is not installed (.ci/run installs it)");
        return;
    }
    let port = free_port();
    let script = format!(
        "from websockets.sync.server import serve\n\
         def h(ws):\n    for m in ws:\n        ws.send('x' * 3000)\n\
         with serve(h, '127.0.0.1', {port}) as s:\n    s.serve_forever()\n"
    );
    let mut python = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    super::wait_port(port);
    let url = format!("ws://127.0.0.1:{port}/");
    let ran = run(&["connect", &url, "--send", "go", "--expect", "xxx"], b"");
    let _ = python.kill();
    let _ = python.wait();
    assert_eq!(ran.code, super::OK, "{ran:?}");
    // Shown abbreviated, with its time, peer and count (before: the head was lost for a
    // WebSocket message, whose count says "text").
    let line = ran
        .stdout
        .lines()
        .find(|l| l.contains("xxxx"))
        .unwrap_or_default();
    assert!(
        line.contains(&format!("<- 127.0.0.1:{port} [3000 B, text] xxx")),
        "{}",
        ran.stdout
    );
}

/// `sockscope run` of the heartbeat/echo simulator for `duration`, asked PING and HB by one
/// client; what it printed.
fn run_heartbeat(json: bool) -> Ran {
    let port = free_port();
    let profile = format!(
        "{}/../../examples/profiles/heartbeat-echo.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let server = spawn(move || {
        let port = port.to_string();
        let mut args = vec![
            "run",
            &profile,
            "--local-port",
            &port,
            "--duration",
            "1500ms",
        ];
        if json {
            args.push("--json");
        }
        run(&args, b"")
    });
    let mut client = connect_retrying(port);
    client.write_all(b"PING\nHB\n").unwrap();
    let mut back = Vec::new();
    let mut buf = [0u8; 64];
    while !back.ends_with(b"HB-ACK 1\n") {
        let n = client.read(&mut buf).unwrap();
        assert!(n > 0, "{back:?}");
        back.extend_from_slice(&buf[..n]);
    }
    assert_eq!(back, b"PONG\nHB-ACK 1\n");
    drop(client);
    server.join().unwrap()
}

#[test]
fn run_json_names_the_rule_that_answered_and_ends_with_every_rule_s_hits() {
    let ran = run_heartbeat(true);
    let (before, last) = ran.stdout.trim_end().rsplit_once('\n').unwrap();
    let lines = records(&Ran {
        code: ran.code,
        stdout: before.to_owned(),
        stderr: String::new(),
    });
    // Which rule answered, on its own keys: rule, conn, peer.
    let replies: Vec<&Value> = lines
        .iter()
        .filter(|v| v["event"] == "rule-reply")
        .collect();
    assert_eq!(replies.len(), 2, "{}", ran.stdout);
    assert_eq!(replies[0]["rule"], "ping", "{}", ran.stdout);
    assert_eq!(replies[1]["rule"], "heartbeat", "{}", ran.stdout);
    let received: Vec<&Value> = lines.iter().filter(|v| v["kind"] == "rx").collect();
    for reply in &replies {
        assert_eq!(reply["conn"], received[0]["conn"], "{}", ran.stdout);
        assert_eq!(reply["peer"], received[0]["peer"], "{}", ran.stdout);
    }
    assert!(has_event(&lines, "stopped-listening"), "{}", ran.stdout);
    // The last line: every rule, 0 too, by its own schema.
    let hits: Value = serde_json::from_str(last).unwrap();
    let wrong = problems(&hits, &schema("rules.schema.json"), "$");
    assert!(wrong.is_empty(), "{wrong:?} in {last}");
    assert_eq!(
        hits,
        serde_json::json!({"kind": "rules", "hits": [
            {"rule": "ping", "count": 1, "failed": 0},
            {"rule": "heartbeat", "count": 1, "failed": 0},
            {"rule": "quit", "count": 0, "failed": 0},
            {"rule": "echo", "count": 0, "failed": 0},
        ]})
    );

    let ran = run_heartbeat(false);
    assert!(
        ran.stdout
            .contains("Rules fired: ping × 1, heartbeat × 1, quit × 0, echo × 0"),
        "{}",
        ran.stdout
    );
}
