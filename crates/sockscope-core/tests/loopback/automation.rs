//! Rules and scripts a user can trust, over loopback: a script ends when the device closes,
//! each client has its own rule state, an edit keeps what a master wrote, a frame cut short
//! by the stream's end is not a request, and the log says which rule answered.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use sockscope_core::capture::RecordKind;
use sockscope_core::codec::payload::{InputMode, LineEnding};
use sockscope_core::engine::Mode;
use sockscope_core::profile::Form;
use sockscope_core::rules::script::{Script, Step};
use sockscope_core::rules::{Cond, Keep, Match, ReplySpec, Rule, StateScope};
use sockscope_core::session::Session;

use crate::simulators::{client, modbus, response, serve, simulator};
use crate::util::{WAIT, read_n, wait_capture, wait_logged};

fn line(text: &str) -> Step {
    Step::Send(ReplySpec {
        payload: text.into(),
        line_ending: LineEnding::Lf,
        ..ReplySpec::default()
    })
}

fn expect(text: &str) -> Step {
    Step::Expect {
        when: Cond::Text(Match::Exact, text.into()),
        timeout_ms: 1000,
    }
}

#[test]
fn a_script_fails_at_once_when_the_device_closes_the_connection() {
    let (server, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut form = Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        frame_mode: sockscope_core::profile::FrameMode::Delimiter,
        frame_delimiter: "\\n".into(),
        ..Form::default()
    };
    form.automation.scripts = vec![Script {
        name: "quit, then ping".into(),
        steps: vec![
            line("QUIT"),
            expect("BYE"),
            Step::Wait(200),
            line("PING"),
            expect("PONG"),
        ],
    }];
    let mut session = Session::with_form(&form, std::sync::Arc::new(|| {}));
    session.open_form(&form).unwrap();
    wait_capture(&session, "connected", |c| {
        matches!(c.link, sockscope_core::capture::LinkState::Connected { .. })
    });
    let started = Instant::now();
    session.run_script(&form, 0).unwrap();
    wait_capture(&session, "the verdict", |c| {
        c.script.as_ref().is_some_and(|r| r.passed.is_some())
    });
    let took = started.elapsed();
    let capture = session.capture();
    let report = capture.script.as_ref().unwrap();
    assert_eq!(report.passed, Some(false));
    let failed = report.results.iter().find(|r| !r.ok).unwrap();
    assert_eq!(failed.index, 2, "the step after BYE: {:?}", report.results);
    assert_eq!(
        failed.detail.as_deref(),
        Some("the device closed the connection")
    );
    // At once: not after the wait, and not after any timeout.
    assert!(took < Duration::from_millis(180), "{took:?}");
    drop(capture);
    // The server's log says which rule answered, and that it closed.
    wait_logged(
        &server,
        "Rule “quit” answered (4 B), then closes the connection",
    );
}

#[test]
fn stopping_the_session_ends_a_running_script() {
    let (_server, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut form = Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        ..Form::default()
    };
    form.automation.scripts = vec![Script {
        name: "never".into(),
        steps: vec![Step::Expect {
            when: Cond::Text(Match::Exact, "nothing says this".into()),
            timeout_ms: 60_000,
        }],
    }];
    let mut session = Session::with_form(&form, std::sync::Arc::new(|| {}));
    session.open_form(&form).unwrap();
    wait_capture(&session, "connected", |c| {
        matches!(c.link, sockscope_core::capture::LinkState::Connected { .. })
    });
    session.run_script(&form, 0).unwrap();
    wait_capture(&session, "running", |c| c.script.is_some());
    session.close();
    let capture = session.capture();
    let report = capture.script.as_ref().unwrap();
    assert_eq!(report.passed, Some(false), "the run ended with the session");
}

#[test]
fn editing_the_script_of_a_paused_run_stops_it_before_it_sends_a_removed_step() {
    let (_server, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut form = Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        frame_mode: sockscope_core::profile::FrameMode::Delimiter,
        frame_delimiter: "\\n".into(),
        ..Form::default()
    };
    form.automation.scripts = vec![Script {
        name: "heartbeats".into(),
        steps: vec![
            line("PING"),
            expect("PONG"),
            Step::Repeat(
                2,
                vec![line("HB"), expect("HB-ACK 1"), Step::Wait(20), line("HB")],
            ),
            line("PING"),
            expect("PONG"),
        ],
    }];
    let mut session = Session::with_form(&form, std::sync::Arc::new(|| {}));
    session.open_form(&form).unwrap();
    wait_capture(&session, "connected", |c| {
        matches!(c.link, sockscope_core::capture::LinkState::Connected { .. })
    });
    // Step by step up to the Repeat's wait: PING, PONG, HB, HB-ACK done.
    session.run_script_stepping(&form, 0, true).unwrap();
    for done in 1..=4 {
        session.step_script();
        wait_capture(&session, "the step", |c| {
            c.script.as_ref().is_some_and(|r| r.results.len() >= done)
        });
    }
    // The user removes the Repeat in the editor, then steps twice.
    form.automation.scripts[0].steps.remove(2);
    session.script_edited(&form);
    for done in 5..=6 {
        session.step_script();
        wait_capture(&session, "the step or the verdict", |c| {
            c.script
                .as_ref()
                .is_some_and(|r| r.passed.is_some() || r.results.len() >= done)
        });
    }
    let capture = session.capture();
    let report = capture.script.as_ref().unwrap();
    assert_eq!(report.passed, Some(false), "{:?}", report.results);
    let last = report.results.last().unwrap();
    assert_eq!(
        last.detail.as_deref(),
        Some("the script was changed: the run stopped at step 5"),
        "{:?}",
        report.results
    );
    // Only the HB of step 3 went out: none of the removed Repeat's sends.
    let hbs = capture
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Tx && r.bytes == b"HB\n")
        .count();
    assert_eq!(hbs, 1, "{:?}", report.results);
}

#[test]
fn the_inline_test_answers_with_the_running_session_s_counter_tables_and_state() {
    let (server, addr) = serve(simulator("heartbeat-echo.ron"));
    let mut device = client(addr);
    for n in 1..=3 {
        device.write_all(b"HB\n").unwrap();
        let expected = format!("HB-ACK {n}\n");
        assert_eq!(read_n(&mut device, expected.len()), expected.as_bytes());
    }
    let form = simulator("heartbeat-echo.ron");
    let peer = device.local_addr().unwrap();
    let start = server.capture().rules_start(Some(peer), &server.vars());
    let trial = sockscope_core::rules::Machine::test(
        &form.automation,
        form.encoding,
        b"HB\n",
        peer,
        &start,
    );
    // The real fourth reply, byte for byte (the test said HB-ACK 1 whatever the session had
    // sent).
    assert_eq!(trial.fired[0].reply.as_deref(), Some(&b"HB-ACK 4\n"[..]));
    device.write_all(b"HB\n").unwrap();
    assert_eq!(read_n(&mut device, 9), b"HB-ACK 4\n");
    // The test changed nothing of the running session.
    device.write_all(b"HB\n").unwrap();
    assert_eq!(read_n(&mut device, 9), b"HB-ACK 5\n");

    // A login server: the state of the connection asked about.
    let form = login_form(StateScope::Connection);
    let (server, addr) = serve(form.clone());
    let mut a = client(addr);
    let b = client(addr);
    a.write_all(b"LOGIN").unwrap();
    assert_eq!(read_n(&mut a, 7), b"WELCOME");
    wait_capture(&server, "A's state", |c| !c.rule_states.is_empty());
    let answer = |peer: std::net::SocketAddr| {
        let start = server.capture().rules_start(Some(peer), &server.vars());
        let trial = sockscope_core::rules::Machine::test(
            &form.automation,
            form.encoding,
            b"READ",
            peer,
            &start,
        );
        trial.fired[0].reply.clone()
    };
    assert_eq!(answer(a.local_addr().unwrap()).as_deref(), Some(&b"42"[..]));
    assert_eq!(
        answer(b.local_addr().unwrap()).as_deref(),
        Some(&b"LOGIN FIRST"[..])
    );
}

fn login_server(scope: StateScope) -> (Session, std::net::SocketAddr) {
    serve(login_form(scope))
}

fn login_form(scope: StateScope) -> Form {
    let reply = |text: &str| {
        Some(ReplySpec {
            payload: text.into(),
            ..ReplySpec::default()
        })
    };
    let mut form = Form {
        mode: Mode::TcpServer,
        ..Form::default()
    };
    form.automation.enabled = true;
    form.automation.state_scope = scope;
    form.automation.rules = vec![
        Rule {
            name: "login".into(),
            when: Cond::Text(Match::Exact, "LOGIN".into()),
            reply: reply("WELCOME"),
            set_state: Some("IN".into()),
            ..Rule::default()
        },
        Rule {
            name: "read".into(),
            when: Cond::All(vec![
                Cond::State("IN".into()),
                Cond::Text(Match::Exact, "READ".into()),
            ]),
            reply: reply("42"),
            ..Rule::default()
        },
        Rule {
            name: "denied".into(),
            when: Cond::Text(Match::Exact, "READ".into()),
            reply: reply("LOGIN FIRST"),
            ..Rule::default()
        },
    ];
    form
}

#[test]
fn each_client_has_its_own_rule_state_and_the_capture_shows_it() {
    let (session, addr) = login_server(StateScope::Connection);
    let mut a = client(addr);
    let mut b = client(addr);
    a.write_all(b"LOGIN").unwrap();
    assert_eq!(read_n(&mut a, 7), b"WELCOME");
    b.write_all(b"READ").unwrap();
    assert_eq!(read_n(&mut b, 11), b"LOGIN FIRST", "B never logged in");
    a.write_all(b"READ").unwrap();
    assert_eq!(read_n(&mut a, 2), b"42");
    let a_addr = a.local_addr().unwrap();
    wait_capture(&session, "A's state", |c| {
        c.rule_states.len() == 1
            && c.rule_states[0].0.map(|p| p.port()) == Some(a_addr.port())
            && c.rule_states[0].1 == "IN"
    });
    // A leaves: its state goes with its connection.
    drop(a);
    wait_capture(&session, "A's state gone", |c| c.rule_states.is_empty());
    // Shared by the session: B reads once A logged in.
    let (_session, addr) = login_server(StateScope::Session);
    let mut a = client(addr);
    let mut b = client(addr);
    a.write_all(b"LOGIN").unwrap();
    assert_eq!(read_n(&mut a, 7), b"WELCOME");
    b.write_all(b"READ").unwrap();
    assert_eq!(read_n(&mut b, 2), b"42");
}

#[test]
fn editing_rules_keeps_what_a_master_wrote_until_the_user_resets() {
    let mut form = simulator("modbus-slave.ron");
    let (session, addr) = serve(form.clone());
    let mut plc = client(addr);
    let read_9 = |plc: &mut std::net::TcpStream, id: u16| {
        plc.write_all(&modbus(id, 1, &[0x03, 0x00, 0x09, 0x00, 0x01]))
            .unwrap();
        response(plc)
    };
    let write = modbus(1, 1, &[0x06, 0x00, 0x09, 0xBE, 0xEF]);
    plc.write_all(&write).unwrap();
    assert_eq!(response(&mut plc), write);
    // A rename, then Auto-reply off and on: the register keeps what was written.
    form.automation.rules[2].name = "03: read".into();
    session
        .set_rules(Some(&form.automation), form.encoding)
        .unwrap();
    assert_eq!(read_9(&mut plc, 2), modbus(2, 1, &[0x03, 0x02, 0xBE, 0xEF]));
    session.set_rules(None, form.encoding).unwrap();
    session
        .set_rules(Some(&form.automation), form.encoding)
        .unwrap();
    assert_eq!(read_9(&mut plc, 3), modbus(3, 1, &[0x03, 0x02, 0xBE, 0xEF]));
    // The counts went on too: two reads by the read rule.
    wait_capture(&session, "the read count", |c| {
        c.rule_hits
            .get(&sockscope_core::rules::place_id(2))
            .is_some_and(|h| h.count == 2)
    });
    // Reset tables and state: the start value (100).
    session
        .set_rules_keeping(
            Some(&form.automation),
            form.encoding,
            Keep {
                hits: true,
                tables_and_state: false,
            },
        )
        .unwrap();
    // The window is told the tables the rules start from.
    wait_capture(&session, "the live table reset", |c| {
        c.rule_tables
            .get("holding")
            .is_some_and(|t| t.get(18..20) == Some(&[0, 100][..]))
    });
    assert_eq!(read_9(&mut plc, 4), modbus(4, 1, &[0x03, 0x02, 0x00, 100]));
}

#[test]
fn a_line_cut_short_by_the_end_of_the_stream_is_not_answered_unless_asked() {
    for answer_partial in [false, true] {
        let mut form = simulator("at-modem.ron");
        form.automation.answer_partial = answer_partial;
        // A modem that frames on CR alone (the shipped one takes any line end).
        form.frame_mode = sockscope_core::profile::FrameMode::Delimiter;
        form.frame_delimiter = "\\r".into();
        form.frame_keep = false;
        let (session, addr) = serve(form);
        let mut terminal = client(addr);
        // `socat -` with Enter = LF: no CR ever comes; then the terminal is closed.
        terminal.write_all(b"AT\nAT+CGMI\n").unwrap();
        terminal.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = terminal.read_to_end(&mut rest);
        wait_capture(&session, "the partial frame", |c| {
            c.log.iter().any(|r| r.kind == RecordKind::Rx && r.partial)
        });
        wait_capture(&session, "the client gone", |c| c.clients.is_empty());
        let capture = session.capture();
        let hits: u64 = capture.rule_hits.values().map(|h| h.count).sum();
        if answer_partial {
            assert_eq!(hits, 1, "asked for: the partial frame is answered");
        } else {
            assert_eq!(hits, 0, "a partial frame at close fired a rule");
            assert!(
                !capture.log.iter().any(|r| r.kind == RecordKind::Tx),
                "nothing is sent"
            );
        }
    }
}

#[test]
fn a_hex_reply_writes_a_number_read_from_the_request_as_bytes() {
    let mut form = Form {
        mode: Mode::TcpServer,
        ..Form::default()
    };
    form.automation.enabled = true;
    form.automation.rules = vec![Rule {
        when: Cond::Always,
        reply: Some(ReplySpec {
            payload: "{{rx[6]}} {{rx.u16be@0}} {{u8(rx.len)}}".into(),
            mode: InputMode::Hex,
            ..ReplySpec::default()
        }),
        ..Rule::default()
    }];
    let (_session, addr) = serve(form);
    let mut master = client(addr);
    master
        .write_all(&[0x12, 0x34, 0, 0, 0, 6, 0x11, 3, 0, 0, 0, 1])
        .unwrap();
    assert_eq!(read_n(&mut master, 4), [0x11, 0x12, 0x34, 12]);
    let _ = WAIT;
}

#[test]
fn a_frame_flushed_by_a_rules_close_is_answered_by_the_rules() {
    // QUIT closes the sender; the line it left unfinished (PING, no line end yet) ends with
    // the connection and is answered to every client — the automation stage that closed the
    // connection must be there to answer it (it was out doing the close, and a blank stand-in
    // answered nothing).
    let mut form = Form {
        mode: Mode::TcpServer,
        frame_mode: sockscope_core::profile::FrameMode::Delimiter,
        frame_delimiter: "\\n".into(),
        ..Form::default()
    };
    form.automation.enabled = true;
    form.automation.answer_partial = true;
    form.automation.rules = vec![
        Rule {
            name: "quit".into(),
            when: Cond::Text(Match::Prefix, "QUIT".into()),
            close: true,
            ..Rule::default()
        },
        Rule {
            name: "ping".into(),
            when: Cond::Text(Match::Prefix, "PING".into()),
            reply: Some(ReplySpec {
                payload: "PONG".into(),
                line_ending: LineEnding::Lf,
                ..ReplySpec::default()
            }),
            to: sockscope_core::rules::ReplyTo::All,
            ..Rule::default()
        },
    ];
    let (session, addr) = serve(form);
    let mut watcher = client(addr);
    let mut quitter = client(addr);
    wait_capture(&session, "both clients", |c| c.clients.len() == 2);
    quitter.write_all(b"QUIT\nPING").unwrap();
    let mut rest = Vec::new();
    let _ = quitter.read_to_end(&mut rest);
    assert_eq!(
        read_n(&mut watcher, 5),
        b"PONG\n",
        "the flushed frame was answered"
    );
    // QUIT and the flushed PING each fired their rule.
    wait_capture(&session, "two hits", |c| {
        c.rule_hits.values().map(|h| h.count).sum::<u64>() == 2
    });
}
