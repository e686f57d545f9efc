//! What a user types into small fields, read by the core for the window and the command line
//! alike: relay impairments (`latency=20ms,drop=5%,rate=64KiB/s,cut=4KiB`) and each knob's
//! units, multicast groups, certificate pins, byte patterns, log search queries, addresses,
//! ports, load targets and rates, the log cap, and a Compose form's field of every built-in
//! protocol. Any text is
//! read or refused with a sentence, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::bench::{rate_from_text, target_from_text};
use sockscope_core::capture::Query;
use sockscope_core::engine::{Group, Impairment, Knob, parse_ip, parse_pin, parse_port};
use sockscope_core::rules::cond::parse_pattern;

fuzz_target!(|text: &str| {
    let _ = Impairment::parse(text);
    for knob in Knob::ALL {
        if let Ok(value) = knob.from_text(text) {
            assert!(
                value.is_finite() && value >= 0.0,
                "{knob:?} read {text:?} as {value}"
            );
        }
    }
    for protocol in sockscope_core::protocol::builtins() {
        for id in 0..protocol.program.nodes.len() {
            let id = id as sockscope_core::protocol::NodeId;
            if let Err(why) = protocol.value_from_text(id, text) {
                assert!(!why.is_empty(), "{} node {id}: no sentence", protocol.name());
            }
        }
    }
    for len in [0, 1, 100] {
        if let Ok(rate) = rate_from_text(text, len) {
            assert!(rate.is_finite() && rate > 0.0, "rate {text:?} read as {rate}");
        }
    }
    if let Some(mib) = sockscope_core::profile::log_cap_mib(text) {
        assert!(mib.is_finite() && mib >= 0.0, "log cap {text:?} read as {mib}");
    }
    let _ = Group::parse(text);
    let _ = parse_pin(text);
    let _ = parse_pattern(text);
    let _ = Query::parse(text, false);
    let _ = Query::parse(text, true);
    let _ = parse_ip(text);
    let _ = parse_port(text);
    // Names are looked up: only texts without letters in the host part, so no DNS query.
    let host = text.split_once("://").map_or(text, |(_, rest)| rest);
    if !host.chars().any(char::is_alphabetic) {
        let _ = target_from_text(text);
    }
});
