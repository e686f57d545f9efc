//! The Relay group's fields: text read by the core as the CLI reads `--up`/`--down`
//! (`2MB/s`, `4KiB`, `1s`), a text it cannot read said next to its field and nothing changed.

use eframe::egui::accesskit::Role;
use egui_kittest::kittest::Queryable as _;
use sockscope::engine::Mode;
use sockscope::gui::state::Form;

use super::harness;

/// Types `text` into the client → upstream field labelled `label` (the first of the two).
fn type_up(
    harness: &mut egui_kittest::Harness<'static, sockscope::gui::App>,
    label: &str,
    text: &str,
) {
    let fields = harness.get_all_by_role_and_label(Role::TextInput, label);
    let field = fields.into_iter().next().unwrap();
    field.focus();
    harness.run();
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness.get_by(|n| n.is_focused()).type_text(text);
    harness.run();
}

#[test]
fn relay_fields_read_units_as_the_cli_does_and_say_what_they_cannot_read() {
    let mut harness = harness(Form {
        mode: Mode::Relay,
        ..Form::default()
    });
    harness.run();
    type_up(&mut harness, "Rate cap", "2MB/s");
    type_up(&mut harness, "Cut after", "4KiB");
    type_up(&mut harness, "Latency", "1s");
    let up = harness.state().tab().form.relay_up;
    // They were 2 KiB/s, 4 B and 1 ms.
    assert_eq!(
        (up.rate_bytes, up.cut_after, up.latency_ms),
        (2_000_000, 4096, 1000)
    );
    type_up(&mut harness, "Jitter ±", "abc");
    assert!(
        harness
            .query_by_label_contains("'abc' is not a duration: write 20ms")
            .is_some(),
        "the sentence next to the field"
    );
    assert_eq!(
        harness.state().tab().form.relay_up.jitter_ms,
        0,
        "nothing changed"
    );
    // The other direction is untouched.
    assert_eq!(
        harness.state().tab().form.relay_down,
        sockscope::engine::Impairment::default()
    );
}
