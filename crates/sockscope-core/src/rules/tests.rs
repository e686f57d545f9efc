//! The rules on their own: state machines, tables, and the shipped simulators' rule sets.

use super::*;
use crate::codec::payload::{InputMode, LineEnding};
use crate::rules::expr::Fields as _;

fn peer() -> SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn text_rule(name: &str, when: Cond, reply: &str) -> Rule {
    Rule {
        name: name.into(),
        when,
        reply: Some(ReplySpec {
            payload: reply.into(),
            mode: InputMode::Text,
            line_ending: LineEnding::CrLf,
            ..ReplySpec::default()
        }),
        ..Rule::default()
    }
}

fn replies(machine: &mut Machine, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut counter = 1;
    machine
        .fire(bytes, peer(), &mut counter, 1, SystemTime::now())
        .into_iter()
        .filter_map(|f| f.reply)
        .collect()
}

#[test]
fn the_first_rule_that_fires_ends_the_search_unless_it_says_next() {
    let mut automation = Automation {
        enabled: true,
        rules: vec![
            text_rule("ok", Cond::Text(Match::Exact, "AT".into()), "OK"),
            text_rule("any", Cond::Always, "ERROR"),
        ],
        ..Automation::default()
    };
    let mut machine = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    assert_eq!(replies(&mut machine, b"AT"), [b"OK\r\n".to_vec()]);
    assert_eq!(replies(&mut machine, b"ATX"), [b"ERROR\r\n".to_vec()]);
    assert_eq!(machine.hits()[0].count, 1);
    assert_eq!(machine.hits()[1].count, 1);
    automation.rules[0].next = true;
    let mut machine = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    assert_eq!(replies(&mut machine, b"AT").len(), 2);
    automation.rules[0].enabled = false;
    let mut machine = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    assert_eq!(replies(&mut machine, b"AT"), [b"ERROR\r\n".to_vec()]);
}

#[test]
fn a_state_machine_answers_read_only_after_login() {
    let automation = Automation {
        enabled: true,
        rules: vec![
            Rule {
                set_state: Some("IN".into()),
                ..text_rule("login", Cond::Text(Match::Exact, "LOGIN".into()), "WELCOME")
            },
            text_rule(
                "read",
                Cond::All(vec![
                    Cond::State("IN".into()),
                    Cond::Text(Match::Exact, "READ".into()),
                ]),
                "42",
            ),
            text_rule(
                "denied",
                Cond::Text(Match::Exact, "READ".into()),
                "LOGIN FIRST",
            ),
        ],
        ..Automation::default()
    };
    let mut machine = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    assert_eq!(
        replies(&mut machine, b"READ"),
        [b"LOGIN FIRST\r\n".to_vec()]
    );
    assert_eq!(replies(&mut machine, b"LOGIN"), [b"WELCOME\r\n".to_vec()]);
    assert_eq!(machine.state_of(peer()), "IN");
    assert_eq!(replies(&mut machine, b"READ"), [b"42\r\n".to_vec()]);
}

fn login_rules(scope: StateScope) -> Automation {
    Automation {
        enabled: true,
        state_scope: scope,
        rules: vec![
            Rule {
                set_state: Some("IN".into()),
                ..text_rule("login", Cond::Text(Match::Exact, "LOGIN".into()), "WELCOME")
            },
            text_rule(
                "read",
                Cond::All(vec![
                    Cond::State("IN".into()),
                    Cond::Text(Match::Exact, "READ".into()),
                ]),
                "42",
            ),
            text_rule("denied", Cond::Always, "LOGIN FIRST"),
        ],
        ..Automation::default()
    }
}

fn reply_to(machine: &mut Machine, bytes: &[u8], from: &str) -> Vec<u8> {
    let mut counter = 1;
    machine
        .fire(
            bytes,
            from.parse().unwrap(),
            &mut counter,
            1,
            SystemTime::now(),
        )
        .into_iter()
        .find_map(|f| f.reply)
        .unwrap_or_default()
}

#[test]
fn each_connection_has_its_own_state_unless_the_session_shares_one() {
    let (a, b) = ("127.0.0.1:40001", "127.0.0.1:40002");
    let mut machine =
        Machine::compile(&login_rules(StateScope::Connection), TextEncoding::UTF_8).unwrap();
    assert_eq!(reply_to(&mut machine, b"LOGIN", a), b"WELCOME\r\n");
    assert_eq!(reply_to(&mut machine, b"READ", a), b"42\r\n");
    // B never logged in: it is asked to.
    assert_eq!(reply_to(&mut machine, b"READ", b), b"LOGIN FIRST\r\n");
    assert_eq!(
        machine.states(),
        [(Some(a.parse().unwrap()), "IN".to_owned())]
    );
    // A's connection ends: its state goes with it.
    assert!(machine.forget(a.parse().unwrap()));
    assert_eq!(reply_to(&mut machine, b"READ", a), b"LOGIN FIRST\r\n");
    // One state for the session: B reads after A logged in.
    let mut machine =
        Machine::compile(&login_rules(StateScope::Session), TextEncoding::UTF_8).unwrap();
    reply_to(&mut machine, b"LOGIN", a);
    assert_eq!(reply_to(&mut machine, b"READ", b), b"42\r\n");
    assert_eq!(machine.states(), [(None, "IN".to_owned())]);
}

fn register_rules() -> Automation {
    Automation {
        enabled: true,
        rules: vec![
            Rule {
                name: "write".into(),
                when: Cond::Bytes(Match::Prefix, "06".into()),
                write: vec![TableWrite {
                    table: "regs".into(),
                    at: "rx[1]".into(),
                    value: "rx[2..3]".into(),
                }],
                set_state: Some("WROTE".into()),
                ..Rule::default()
            },
            Rule {
                name: "read".into(),
                when: Cond::Bytes(Match::Prefix, "03".into()),
                reply: Some(ReplySpec {
                    payload: "{{table.regs}}".into(),
                    mode: InputMode::Hex,
                    ..ReplySpec::default()
                }),
                ..Rule::default()
            },
        ],
        tables: BTreeMap::from([("regs".into(), "00 00".into())]),
        state_scope: StateScope::Session,
        ..Automation::default()
    }
}

#[test]
fn new_rules_keep_the_tables_states_and_counts_of_the_ones_they_replace_by_rule_id() {
    let mut automation = register_rules();
    automation.ensure_ids();
    let read_id = automation.rules[1].id;
    let mut old = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    replies(&mut old, &[6, 1, 0xAB]);
    replies(&mut old, &[3]);
    replies(&mut old, &[3]);
    // An edit: the read rule renamed and moved to the top, a rule added.
    automation.rules.swap(0, 1);
    automation.rules[0].name = "read registers".into();
    automation.rules.push(text_rule("new", Cond::Always, "x"));
    automation.ensure_ids();
    assert_eq!(automation.rules[0].id, read_id, "an edit keeps the id");
    let mut new = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    new.inherit(&old);
    assert_eq!(
        new.table("regs"),
        Some(&[0, 0xAB][..]),
        "the master's write stays"
    );
    assert_eq!(new.state(), "WROTE");
    let counts: Vec<(RuleId, u64)> = new
        .hits_by_id()
        .iter()
        .map(|(id, _, h)| (*id, h.count))
        .collect();
    assert_eq!(counts[0], (read_id, 2), "the count follows the rule");
    assert_eq!(counts[1].1, 1);
    assert_eq!(counts[2].1, 0);
    // Reset tables and state: start values; the counts stay.
    let mut reset = Machine::compile(&automation, TextEncoding::UTF_8)
        .unwrap()
        .keeping(Keep {
            hits: true,
            tables_and_state: false,
        });
    reset.inherit(&new);
    assert_eq!(reset.table("regs"), Some(&[0, 0][..]));
    assert_eq!(reset.state(), "");
    assert_eq!(reset.hits()[0].count, 2);
    // A table whose start value was edited starts from the new value.
    automation.tables.insert("regs".into(), "11 22".into());
    let mut edited = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    edited.inherit(&new);
    assert_eq!(edited.table("regs"), Some(&[0x11, 0x22][..]));
}

#[test]
fn a_duplicated_rule_gets_an_id_of_its_own_and_a_saved_rule_none() {
    let mut automation = register_rules();
    automation.ensure_ids();
    let copy = automation.rules[0].clone();
    automation.rules.insert(1, copy);
    automation.ensure_ids();
    assert_ne!(automation.rules[0].id, automation.rules[1].id);
    let text = ron::to_string(&automation).unwrap();
    let loaded: Automation = ron::from_str(&text).unwrap();
    assert!(loaded.rules.iter().all(|r| r.id == 0), "ids are not saved");
    assert_eq!(loaded, automation, "ids do not make rules differ");
}

#[test]
fn the_inline_test_tries_the_valid_rules_on_the_live_tables_and_lists_side_effects() {
    let mut automation = register_rules();
    automation.rules.insert(
        0,
        text_rule("broken", Cond::Bytes(Match::Exact, "0G".into()), "x"),
    );
    automation.rules[1].close = true;
    let start = Start::default();
    let trial = Machine::test(&automation, TextEncoding::UTF_8, &[6, 0, 7], peer(), &start);
    assert_eq!(trial.skipped.len(), 1);
    assert!(
        trial.skipped[0].message.contains("broken"),
        "{:?}",
        trial.skipped
    );
    let fired = &trial.fired[0];
    assert_eq!(fired.name, "write");
    assert_eq!(fired.state.as_deref(), Some("WROTE"));
    assert!(fired.close);
    assert_eq!(
        fired.writes,
        [Written {
            table: "regs".into(),
            at: 0,
            bytes: vec![7]
        }]
    );
    let live = Start {
        tables: Some(BTreeMap::from([("regs".into(), vec![0x12, 0x34])])),
        state: None,
        counter: None,
    };
    let trial = Machine::test(&automation, TextEncoding::UTF_8, &[3], peer(), &live);
    assert_eq!(trial.fired[0].reply.as_deref(), Some(&[0x12, 0x34][..]));
    // A state to test in.
    let rules = login_rules(StateScope::Connection);
    let start = Start {
        tables: None,
        state: Some("IN".into()),
        counter: None,
    };
    let trial = Machine::test(&rules, TextEncoding::UTF_8, b"READ", peer(), &start);
    assert_eq!(trial.fired[0].reply.as_deref(), Some(&b"42\r\n"[..]));
}

#[test]
fn a_reply_that_reads_a_group_its_condition_cannot_give_is_refused_when_compiled() {
    let rule = |when: Cond, reply: &str| Automation {
        rules: vec![text_rule("r", when, reply)],
        ..Automation::default()
    };
    let error =
        Machine::compile(&rule(Cond::Always, "{{cap.1}}"), TextEncoding::UTF_8).unwrap_err();
    assert!(error.message.contains("cap.1"), "{error}");
    let error = Machine::compile(
        &rule(Cond::Regex("^T=(\\d+)$".into()), "{{cap.2}} {{cap.t}}"),
        TextEncoding::UTF_8,
    )
    .unwrap_err();
    assert!(error.message.contains("cap.2"), "{error}");
    assert!(
        Machine::compile(
            &rule(
                Cond::Regex("^T=(?P<t>\\d+)$".into()),
                "{{cap.1}} {{cap.t}} {{cap.0}}"
            ),
            TextEncoding::UTF_8
        )
        .is_ok()
    );
    let error =
        Machine::compile(&rule(Cond::Always, "{{table.nope}}"), TextEncoding::UTF_8).unwrap_err();
    assert!(error.message.contains("nope"), "{error}");
}

fn shipped(name: &str) -> crate::profile::Form {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/profiles")
        .join(name);
    crate::profile::load(&path).unwrap().profile.session
}

fn length_prefixed(json: &str) -> Vec<u8> {
    let mut frame = u32::try_from(json.len()).unwrap().to_le_bytes().to_vec();
    frame.extend_from_slice(json.as_bytes());
    frame
}

#[test]
fn the_json_device_answers_a_ping_whatever_the_order_of_its_keys_and_without_seq() {
    let form = shipped("json-device.ron");
    let mut machine = Machine::compile(&form.automation, form.encoding).unwrap();
    for (request, pong) in [
        (
            r#"{"cmd": "ping", "seq": 7}"#,
            r#"{"cmd": "pong", "seq": 7}"#,
        ),
        (
            r#"{"seq": 8, "cmd": "ping"}"#,
            r#"{"cmd": "pong", "seq": 8}"#,
        ),
        (r#"{"cmd":"ping"}"#, r#"{"cmd": "pong"}"#),
    ] {
        let mut counter = 1;
        let fired = machine.fire(
            &length_prefixed(request),
            peer(),
            &mut counter,
            1,
            SystemTime::now(),
        );
        assert_eq!(fired.len(), 1, "{request}");
        assert_eq!(fired[0].error, None, "{request}");
        assert_eq!(
            fired[0].reply.as_deref(),
            Some(length_prefixed(pong).as_slice()),
            "{request}"
        );
    }
}

#[test]
fn a_write_then_a_read_of_a_table() {
    let automation = Automation {
        enabled: true,
        rules: vec![
            Rule {
                when: Cond::Bytes(Match::Prefix, "06".into()),
                write: vec![TableWrite {
                    table: "regs".into(),
                    at: "2 * rx[1]".into(),
                    value: "rx[2..4]".into(),
                }],
                reply: Some(ReplySpec {
                    payload: "{{rx}}".into(),
                    mode: InputMode::Hex,
                    ..ReplySpec::default()
                }),
                ..Rule::default()
            },
            Rule {
                when: Cond::Bytes(Match::Prefix, "03".into()),
                reply: Some(ReplySpec {
                    payload: "{{table.regs[2 * rx[1] .. 2 * rx[1] + 2]}}".into(),
                    mode: InputMode::Hex,
                    ..ReplySpec::default()
                }),
                ..Rule::default()
            },
        ],
        tables: BTreeMap::from([("regs".into(), "00 00 00 00".into())]),
        ..Automation::default()
    };
    let mut machine = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    assert_eq!(
        replies(&mut machine, &[6, 1, 0xAB, 0xCD]),
        [vec![6, 1, 0xAB, 0xCD]]
    );
    assert_eq!(machine.table("regs"), Some(&[0, 0, 0xAB, 0xCD][..]));
    assert_eq!(replies(&mut machine, &[3, 1]), [vec![0xAB, 0xCD]]);
    // A write past the end fires the rule, sends nothing, and says why.
    let mut counter = 1;
    let fired = machine.fire(&[6, 9, 1, 2], peer(), &mut counter, 1, SystemTime::now());
    assert_eq!(fired.len(), 1);
    assert!(fired[0].reply.is_none());
    assert!(
        fired[0].error.as_deref().unwrap().contains("18..20"),
        "{:?}",
        fired[0].error
    );
}

#[test]
fn compile_errors_name_the_rule() {
    let automation = Automation {
        enabled: true,
        rules: vec![
            text_rule("", Cond::Always, "x"),
            text_rule("poll", Cond::Bytes(Match::Exact, "0G".into()), "x"),
        ],
        ..Automation::default()
    };
    let error = Machine::compile(&automation, TextEncoding::UTF_8).unwrap_err();
    assert_eq!(error.rule, Some(1));
    assert!(
        error.message.contains("poll") && error.message.contains('G'),
        "{error}"
    );
    let automation = Automation {
        rules: vec![text_rule("", Cond::Regex("(".into()), "x")],
        ..Automation::default()
    };
    let error = Machine::compile(&automation, TextEncoding::UTF_8).unwrap_err();
    assert!(error.message.contains("rule 1"), "{error}");
}

#[test]
fn an_automation_reads_back_from_ron_and_an_empty_one_is_inactive() {
    let automation = Automation {
        enabled: true,
        rules: vec![text_rule("ok", Cond::Text(Match::Exact, "AT".into()), "OK")],
        tables: BTreeMap::from([("t".into(), "01".into())]),
        state: "IDLE".into(),
        state_scope: StateScope::Session,
        answer_partial: true,
        scripts: vec![script::Script {
            name: "s".into(),
            steps: vec![script::Step::Wait(5)],
        }],
    };
    let text = ron::to_string(&automation).unwrap();
    assert_eq!(ron::from_str::<Automation>(&text).unwrap(), automation);
    assert!(automation.active());
    assert!(!Automation::default().active());
}

#[test]
fn rule_parts_go_to_text_and_back_and_a_typo_says_where() {
    let cond = Cond::All(vec![
        Cond::Text(Match::Prefix, "AT".into()),
        Cond::Not(Box::new(Cond::Length(0, 2))),
    ]);
    let text = to_text(&cond, 2);
    assert!(text.contains('\n'), "{text}");
    assert_eq!(from_text::<Cond>(&text), Ok(cond));
    let steps = vec![
        script::Step::Wait(10),
        script::Step::Capture("v".into(), "rx.len".into()),
    ];
    let text = to_text(&steps, 1);
    assert_eq!(text.lines().count(), 4, "one step a line: {text}");
    assert_eq!(from_text::<Vec<script::Step>>(&text), Ok(steps));
    let error = from_text::<Cond>("All([Text(Prefix, \"AT\"),\n  Lenght(0, 2)])").unwrap_err();
    assert!(error.contains("line 2"), "{error}");
}

#[test]
fn a_deleted_rule_brought_back_goes_on_from_its_count() {
    let mut automation = Automation {
        enabled: true,
        rules: vec![
            text_rule("heartbeat", Cond::Text(Match::Exact, "HB".into()), "OK"),
            text_rule("other", Cond::Text(Match::Exact, "X".into()), "Y"),
        ],
        ..Automation::default()
    };
    automation.ensure_ids();
    let mut first = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    for _ in 0..3 {
        replies(&mut first, b"HB");
    }
    // Delete, then an unrelated edit while it is gone, then Undo.
    let deleted = automation.rules.remove(0);
    let mut without = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    without.inherit(&first);
    automation.rules[0].name = "other renamed".into();
    let mut edited = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    edited.inherit(&without);
    automation.rules.insert(0, deleted);
    let mut back = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    back.inherit(&edited);
    replies(&mut back, b"HB");
    assert_eq!(back.hits()[0].count, 4, "the count belongs to the rule");
    // Reset counts forgets the deleted rules' counts too.
    let deleted = automation.rules.remove(0);
    let mut without = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    without.inherit(&back);
    let mut reset = Machine::compile(&automation, TextEncoding::UTF_8)
        .unwrap()
        .keeping(Keep {
            hits: false,
            tables_and_state: true,
        });
    reset.inherit(&without);
    automation.rules.insert(0, deleted);
    let mut back = Machine::compile(&automation, TextEncoding::UTF_8).unwrap();
    back.inherit(&reset);
    assert_eq!(back.hits()[0].count, 0);
}

/// A JT/T 808 (2019 header) location report: serial 0, speed 66 (6.6 km/h).
const JT808_LOCATION: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";

fn jt808() -> Option<(
    std::sync::Arc<crate::protocol::Protocol>,
    crate::protocol::Dir,
)> {
    crate::protocol::builtin("jt808").map(|p| (p, crate::protocol::Dir::Request))
}

fn field_rules(rules: &str) -> Automation {
    Automation {
        enabled: true,
        rules: from_text(rules).unwrap(),
        ..Automation::default()
    }
}

#[test]
fn conditions_read_decoded_fields_of_the_sessions_protocol() {
    let automation = field_rules(
        r#"[
            (name: "fast", when: Expr("f.msg_id == 0x0200 && f.body.speed > 100"), reply: Some((payload: "fast"))),
            (name: "location", when: All([Expr("f.msg_id == 0x0200"), Expr("f.speed > 50")]), reply: Some((payload: "loc {{f.body.speed}} #{{f.serial}}"))),
            (name: "other", when: Always, reply: Some((payload: "other"))),
        ]"#,
    );
    let frame = crate::codec::hex::parse(JT808_LOCATION).unwrap();
    let mut machine = Machine::compile_for(&automation, TextEncoding::UTF_8, jt808()).unwrap();
    let request = crate::protocol::builtin("jt808")
        .unwrap()
        .decode(&frame, crate::protocol::Dir::Request);
    let speed = request.field("speed").unwrap();
    assert_eq!(speed, expr::Value::Int(66));
    assert_eq!(replies(&mut machine, &frame), [b"loc 66 #0".to_vec()]);
    // Bytes no field reads as 0x0200: the next rule.
    assert_eq!(replies(&mut machine, b"hello"), [b"other".to_vec()]);
    // f.checks_ok: whether the frame is whole and its XOR holds.
    let checks = field_rules(
        r#"[(name: "bad", when: Expr("!f.checks_ok"), reply: Some((payload: "bad"))), (name: "good", when: Always, reply: Some((payload: "good")))]"#,
    );
    let mut machine = Machine::compile_for(&checks, TextEncoding::UTF_8, jt808()).unwrap();
    assert_eq!(replies(&mut machine, &frame), [b"good".to_vec()]);
    let mut broken = frame.clone();
    let at = broken.len() - 2;
    broken[at] ^= 1;
    assert_eq!(replies(&mut machine, &broken), [b"bad".to_vec()]);
    // Without the protocol, f.NAME is a mistake said when the rules compile for a session
    // without one; a caller that does not know the protocol compiles them, never firing.
    assert!(Machine::compile(&automation, TextEncoding::UTF_8).is_ok());
    let error = Machine::compile_for(&automation, TextEncoding::UTF_8, None).unwrap_err();
    assert!(
        error.message.contains("f.msg_id") && error.message.contains("protocol"),
        "{}",
        error.message
    );
    assert_eq!(error.field.as_deref(), Some("msg_id"));
}

#[test]
fn a_field_the_protocol_lacks_is_named_with_the_nearest_name() {
    for (rules, field, near) in [
        (
            r#"[(name: "r", when: Expr("f.body.speedd > 80"))]"#,
            "body.speedd",
            "speed",
        ),
        (
            r#"[(name: "r", when: Always, reply: Some((payload: "{{f.serail}}")))]"#,
            "serail",
            "serial",
        ),
        (
            r#"[(name: "r", when: Always, reply: Some((fields: (values: {"body.reply_seral": "1"}))))]"#,
            "body.reply_seral",
            "reply_serial",
        ),
    ] {
        let error =
            Machine::compile_for(&field_rules(rules), TextEncoding::UTF_8, jt808()).unwrap_err();
        assert_eq!(error.field.as_deref(), Some(field), "{}", error.message);
        assert!(
            error.message.contains(&format!("'{field}'")) && error.message.contains(near),
            "{}",
            error.message
        );
        assert!(error.message.contains("JT/T 808"), "{}", error.message);
    }
    // Names that exist, by path or by last part, item numbers included.
    let fine = r#"[(name: "r", when: Expr("f.body.items.0.id == 1 || f.lat > 0 || f.props.version == 1"))]"#;
    Machine::compile_for(&field_rules(fine), TextEncoding::UTF_8, jt808()).unwrap();
}

#[test]
fn a_reply_built_by_fields_is_a_whole_frame_of_the_protocol() {
    let automation = field_rules(
        r#"[(
            name: "general reply",
            when: Expr("f.msg_id == 0x0200"),
            reply: Some((fields: (values: {
                "msg_id": "0x8001",
                "serial": "counter",
                "body.reply_serial": "f.serial",
                "body.reply_id": "f.msg_id",
                "body.result": "0",
            }))),
        )]"#,
    );
    let p = crate::protocol::builtin("jt808").unwrap();
    let mut frame = crate::codec::hex::parse(JT808_LOCATION).unwrap();
    // A request serial of 0x7E7D: escaped in the reply's body.
    let mut values = p.decode(&frame, crate::protocol::Dir::Request).values();
    for (path, value) in &mut values {
        if path == "serial" {
            *value = crate::protocol::FieldValue::Int(0x7E7D);
        }
    }
    frame = p.encode(&values, crate::protocol::Dir::Request).unwrap();
    let mut machine = Machine::compile_for(&automation, TextEncoding::UTF_8, jt808()).unwrap();
    let mut counter = 41;
    let fired = machine.fire(&frame, peer(), &mut counter, 1, SystemTime::now());
    let reply = fired[0]
        .reply
        .clone()
        .unwrap_or_else(|| panic!("{:?}", fired[0].error));
    assert_eq!(counter, 42, "the counter advances");
    let decoded = p.decode(&reply, crate::protocol::Dir::Response);
    assert!(decoded.checks_ok(), "{}", crate::codec::hex::format(&reply));
    let int = |name: &str| decoded.field(name).unwrap();
    assert_eq!(int("msg_id"), expr::Value::Int(0x8001));
    assert_eq!(int("serial"), expr::Value::Int(41));
    assert_eq!(int("body.reply_serial"), expr::Value::Int(0x7E7D));
    assert_eq!(int("body.reply_id"), expr::Value::Int(0x0200));
    assert_eq!(int("body.result"), expr::Value::Int(0));
    // The terminal's phone and 2019 header kept from the request; 7E 7D escaped.
    assert_eq!(
        decoded.get("phone").map(|f| f.value.clone()),
        p.decode(&frame, crate::protocol::Dir::Request)
            .get("phone")
            .map(|f| f.value.clone())
    );
    assert!(crate::codec::hex::format(&reply).contains("7D 02 7D 01"));
    // A number that never fits is refused when the rules compile, with the field.
    let never = field_rules(
        r#"[(name: "bad", when: Always, reply: Some((fields: (values: {"msg_id": "0x8001", "body.reply_serial": "70000", "body.reply_id": "1", "body.result": "0"}))))]"#,
    );
    let error = Machine::compile_for(&never, TextEncoding::UTF_8, jt808()).unwrap_err();
    assert_eq!(error.field.as_deref(), Some("body.reply_serial"));
    assert!(
        error.message.contains("70000 never fits"),
        "{}",
        error.message
    );
    // A value that does not fit this time is the rule's error, said; nothing is sent.
    let too_big = field_rules(
        r#"[(name: "bad", when: Always, reply: Some((fields: (values: {"msg_id": "0x8001", "body.reply_serial": "f.serial + 70000", "body.reply_id": "1", "body.result": "0"}))))]"#,
    );
    let mut machine = Machine::compile_for(&too_big, TextEncoding::UTF_8, jt808()).unwrap();
    let fired = machine.fire(&frame, peer(), &mut counter, 1, SystemTime::now());
    assert!(fired[0].reply.is_none());
    let error = fired[0].error.clone().unwrap();
    assert!(
        error.contains("reply_serial") && error.contains("bad"),
        "{error}"
    );
    // Without a protocol a reply by fields is refused when the rules compile.
    let error = Machine::compile_for(&too_big, TextEncoding::UTF_8, None).unwrap_err();
    assert!(error.message.contains("protocol"), "{}", error.message);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
    /// Whatever arrives, the shipped JT/T 808 platform either answers with a whole frame whose
    /// checks hold, or says why it could not: never a panic, never a broken or empty reply.
    #[test]
    fn a_reply_by_fields_is_a_sound_frame_or_a_sentence(
        noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        flip in proptest::prelude::any::<(usize, u8)>(),
        whole in proptest::prelude::any::<bool>(),
    ) {
        let form = shipped("jt808-platform.ron");
        let p = crate::protocol::builtin("jt808").unwrap();
        let mut machine = Machine::compile_for(&form.automation, form.encoding, jt808()).unwrap();
        // A real frame with one byte changed, or noise between flags.
        let mut frame = crate::codec::hex::parse(JT808_LOCATION).unwrap();
        if whole {
            let at = 1 + flip.0 % (frame.len() - 2);
            frame[at] ^= flip.1;
        } else {
            frame = [&[0x7E][..], &noise, &[0x7E]].concat();
        }
        let mut counter = 1;
        for fired in machine.fire(&frame, peer(), &mut counter, 1, SystemTime::now()) {
            match (&fired.reply, &fired.error) {
                (Some(reply), None) => {
                    let d = p.decode(reply, crate::protocol::Dir::Response);
                    proptest::prop_assert!(d.checks_ok(), "{}", crate::codec::hex::format(reply));
                }
                (None, Some(why)) => proptest::prop_assert!(!why.is_empty()),
                other => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }
}

#[test]
fn field_values_read_back_as_written_and_a_line_without_equals_is_named() {
    use super::FieldValues;
    let values = FieldValues(vec![
        ("msg_id".into(), "0x8001".into()),
        ("body.reply_serial".into(), "f.serial".into()),
        ("body.result".into(), "f.a == 1 ? 0 : 2".into()),
    ]);
    let text = values.to_text();
    assert_eq!(FieldValues::from_text(&text), Ok(values));
    assert_eq!(
        FieldValues::from_text("msg_id = 1\n\n  body.x=2 \n").map(|v| v.0.len()),
        Ok(2)
    );
    for bad in ["msg_id", "= 3", "body x = 3", "msg_id ="] {
        let why = FieldValues::from_text(&format!("a = 1\n{bad}")).unwrap_err();
        assert!(why.starts_with("line 2: "), "{bad}: {why}");
    }
}
