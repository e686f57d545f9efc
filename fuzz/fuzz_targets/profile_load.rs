//! Profile files: any text loads (with warnings) or is refused with a place; never a panic,
//! and what loads saves to text that loads and saves to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockscope_core::profile;

fuzz_target!(|text: &str| {
    if let Ok(loaded) = profile::parse(text) {
        let saved = profile::to_string(&loaded.profile);
        let again = profile::parse(&saved).expect("saved text loads");
        assert_eq!(profile::to_string(&again.profile), saved);
    }
});
