//! The rules on their own: state machines, tables, and the shipped simulators' rule sets.

use super::*;
use crate::codec::payload::{InputMode, LineEnding};

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
    assert_eq!(machine.state(), "IN");
    assert_eq!(replies(&mut machine, b"READ"), [b"42\r\n".to_vec()]);
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
