//! Auto-reply latency for `scripts/perf` (P8): a client sends a request, waits for the reply,
//! and times the round trip, 20,000 times over loopback TCP. SockScope answers by 10 rules (the
//! last one matches, so all ten are looked at); the reference is a minimal hand-written Rust
//! server that reads a request and writes the same reply from a blocking thread. The round
//! trip bounds "request arrival → reply written" from above (it adds both loopback hops).
//! A third line answers by field: a JT/T 808 platform's 10 rules reading `f.msg_id` of each
//! decoded location report (the last matches) and replying 0x8001 built by fields (length,
//! XOR and escaping computed by the spec).
//!
//!   cargo run --release --example rules_latency            # three lines: µs p50 p99 p99.9 max
//!   cargo run --release --example rules_latency -- 5000    # fewer round trips
//!
//! Loopback only; every socket is closed at the end.

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::engine::Mode;
use sockscope_core::profile::Form;
use sockscope_core::rules::{Automation, Cond, Match, ReplySpec, Rule};
use sockscope_core::session::Session;

const REQUEST: &[u8] = b"POLL sensor 0017";
const REPLY: &[u8] = b"T=23.5\r\n";

fn rules() -> Automation {
    let mut rules: Vec<Rule> = (0..9)
        .map(|i| Rule {
            name: format!("miss {i}"),
            when: Cond::All(vec![
                Cond::Bytes(Match::Prefix, format!("AA {i:02X}")),
                Cond::Length(4, 64),
            ]),
            reply: Some(ReplySpec {
                payload: "nope".into(),
                ..ReplySpec::default()
            }),
            ..Rule::default()
        })
        .collect();
    rules.push(Rule {
        name: "poll".into(),
        when: Cond::All(vec![
            Cond::Text(Match::Prefix, "POLL ".into()),
            Cond::Regex(r"sensor (\d+)$".into()),
        ]),
        reply: Some(ReplySpec {
            payload: "T=23.5\\r\\n".into(),
            mode: sockscope_core::codec::payload::InputMode::Escapes,
            ..ReplySpec::default()
        }),
        ..Rule::default()
    });
    Automation {
        enabled: true,
        rules,
        ..Automation::default()
    }
}

/// A JT/T 808 (2013 header) location report, serial 7E 7D (escaped).
const LOCATION: &str = "7E 02 00 00 1C 01 39 12 34 43 29 7D 02 7D 01 00 00 00 00 00 00 00 03 01 57 FB 6A 06 CA AC 4E 00 23 02 58 00 5A 26 01 07 12 34 56 F0 7E";

/// Ten rules reading decoded fields, the last answering by fields.
fn field_rules() -> Automation {
    let mut text: String = std::iter::once("[".to_owned())
        .chain((0..9).map(|i| {
            format!(
                r#"(name: "miss {i}", when: Expr("f.msg_id == 0x0{i}01 && f.serial > 0"), reply: Some((payload: "nope"))),"#
            )
        }))
        .collect();
    text.push_str(
        r#"(name: "location", when: Expr("f.msg_id == 0x0200"), reply: Some((fields: (values: {
            "msg_id": "0x8001", "serial": "f.serial", "body.reply_serial": "f.serial",
            "body.reply_id": "f.msg_id", "body.result": "0"})))),]"#,
    );
    Automation {
        enabled: true,
        rules: sockscope_core::rules::from_text(&text).expect("the rules read"),
        ..Automation::default()
    }
}

fn ours() -> (Session, SocketAddr) {
    serve(rules(), "")
}

fn serve(automation: Automation, protocol: &str) -> (Session, SocketAddr) {
    let mut form = Form {
        mode: Mode::TcpServer,
        local_ip: "127.0.0.1".into(),
        protocol: protocol.into(),
        ..Form::default()
    };
    *form.local_port_mut() = "0".into();
    form.automation = automation;
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    session.open_form(&form).expect("the form is valid");
    let addr = session.wait_listening(Duration::from_secs(5));
    (session, addr.expect("listening"))
}

/// A minimal blocking server: read one request, write the reply, until the client leaves.
fn reference() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serve = move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        let mut buf = [0u8; REQUEST.len()];
        while stream.read_exact(&mut buf).is_ok() {
            if stream.write_all(REPLY).is_err() {
                break;
            }
        }
    };
    std::thread::Builder::new()
        .name("reference-server".into())
        .spawn(serve)
        .expect("thread");
    addr
}

fn round_trips(addr: SocketAddr, n: usize) -> Vec<Duration> {
    round_trips_of(addr, n, REQUEST, REPLY)
}

fn round_trips_of(addr: SocketAddr, n: usize, request: &[u8], want: &[u8]) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut reply = vec![0u8; want.len()];
    // Warm up: the first round trips pay for page faults and the scheduler waking threads.
    for _ in 0..200 {
        stream.write_all(request).expect("write");
        stream.read_exact(&mut reply).expect("reply");
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        stream.write_all(request).expect("write");
        stream.read_exact(&mut reply).expect("reply");
        times.push(start.elapsed());
        assert_eq!(reply, want, "the reply");
    }
    times.sort();
    times
}

/// The 0x8001 the platform's rule makes for [`LOCATION`], made here by the spec itself.
fn general_reply(request: &[u8]) -> Vec<u8> {
    use sockscope_core::protocol::{Dir, FieldValue};
    let p = sockscope_core::protocol::builtin("jt808").expect("jt808");
    let d = p.decode(request, Dir::Request);
    let mut values: Vec<(String, FieldValue)> = d
        .values()
        .into_iter()
        .filter(|(path, _)| !path.starts_with("body."))
        .collect();
    let serial = d.get("serial").map(|f| f.value.clone()).expect("serial");
    for (path, value) in &mut values {
        if path == "msg_id" {
            *value = FieldValue::Int(0x8001);
        }
    }
    values.push(("body.reply_serial".into(), serial));
    values.push(("body.reply_id".into(), FieldValue::Int(0x0200)));
    values.push(("body.result".into(), FieldValue::Int(0)));
    p.encode(&values, Dir::Response).expect("the reply encodes")
}

fn line(name: &str, times: &[Duration]) {
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{name} {:.1} {:.1} {:.1} {:.1}",
        us(at(0.5)),
        us(at(0.99)),
        us(at(0.999)),
        us(*times.last().expect("times"))
    );
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(20_000, |s| s.parse().expect("a count"));
    let (_session, addr) = ours();
    let mine = round_trips(addr, n);
    let theirs = round_trips(reference(), n);
    let (_platform, addr) = serve(field_rules(), "jt808");
    let request = sockscope_core::codec::hex::parse(LOCATION).expect("hex");
    let by_field = round_trips_of(addr, n, &request, &general_reply(&request));
    line("rules", &mine);
    line("reference", &theirs);
    line("fields", &by_field);
}
