//! Expressions in rule conditions, templates and captures (`{{u16be(rx[2..4]) + 1}}`): any
//! text parses or is refused with a sentence; what parses evaluates or is refused, never a
//! panic (overflow, huge ranges, deep nesting included). The first NUL ends the text; what
//! follows is the received message the expression reads.
#![no_main]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use sockscope_core::rules::expr::{Ctx, Expr, Value};

fuzz_target!(|data: &[u8]| {
    let (text, rx) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(expr) = Expr::parse(text, 0) else {
        return;
    };
    let mut tables = BTreeMap::new();
    tables.insert("holding".to_owned(), vec![0, 10, 0, 20]);
    let caps = [
        (None, Some("whole".to_owned())),
        (Some("seq".to_owned()), Some("42".to_owned())),
    ];
    let vars = [("token".to_owned(), Value::Int(7))];
    let cx = Ctx {
        rx,
        caps: &caps,
        state: "in",
        peer: SocketAddr::from(([127, 0, 0, 1], 4001)),
        tables: &tables,
        now: SystemTime::UNIX_EPOCH,
        counter: i64::MAX,
        vars: &vars,
    };
    let _ = expr.eval(&cx);
});
