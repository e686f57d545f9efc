//! Reply templates (`OK {{counter}}\r\n`, hex `01 03 {{u8(len(table.holding))}}`): any text
//! compiles or is refused with a sentence; what compiles renders or is refused, never a panic.
//! The first byte picks text, hex or escapes and the encoding; the rest is the template.
#![no_main]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::payload::InputMode;
use sockscope_core::rules::ReplySpec;
use sockscope_core::rules::expr::Ctx;
use sockscope_core::rules::template::Template;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let spec = ReplySpec {
        payload: text.to_owned(),
        mode: [InputMode::Text, InputMode::Hex, InputMode::Escapes][usize::from(pick % 3)],
        ..ReplySpec::default()
    };
    let encodings = TextEncoding::offered();
    let encoding = encodings[usize::from(pick >> 2) % encodings.len()];
    let Ok(template) = Template::compile(&spec, encoding) else {
        return;
    };
    let mut tables = BTreeMap::new();
    tables.insert("holding".to_owned(), vec![0, 10, 0, 20]);
    let cx = Ctx {
        rx: rest,
        caps: &[],
        state: "",
        peer: SocketAddr::from(([127, 0, 0, 1], 4001)),
        tables: &tables,
        now: SystemTime::UNIX_EPOCH,
        counter: 1,
        vars: &[],
    };
    let _ = template.render(&cx, &mut |lo, hi| lo.max(hi));
});
