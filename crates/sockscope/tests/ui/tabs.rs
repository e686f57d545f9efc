//! Tabs of their own: scroll, notices, settings copied to a new tab, closing with a question.

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use sockscope::codec::TextEncoding;
use sockscope::engine::Mode;
use sockscope::gui::App;
use sockscope::gui::state::Form;

use super::{harness, harness_with_files, run_until};

fn small(form: Form) -> Harness<'static, App> {
    Harness::builder()
        .with_size([1024.0, 640.0])
        .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form))
}

/// Where the mode buttons are drawn, from the top of the window.
fn mode_buttons_top(harness: &Harness<'static, App>) -> f32 {
    harness
        .get_by_role_and_label(Role::Button, "TCP Client")
        .rect()
        .top()
}

#[test]
fn a_new_tab_starts_with_its_settings_scrolled_to_the_top() {
    let mut harness = small(Form::default());
    harness.run();
    let top = mode_buttons_top(&harness);
    // Scroll tab 1's settings column down to its Send group.
    harness.get_by_label("Clear after send").scroll_to_me();
    harness.run();
    assert!(
        mode_buttons_top(&harness) < top - 100.0,
        "the column scrolled"
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run();
    assert_eq!(harness.state().tabs().len(), 2);
    assert!(
        (mode_buttons_top(&harness) - top).abs() < 1.0,
        "the new tab shows its mode buttons where a fresh window does"
    );
    // And tab 1 kept its own offset.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    harness.run();
    assert!(mode_buttons_top(&harness) < top - 100.0);
}

#[test]
fn a_new_tab_copies_the_current_settings_and_an_empty_one_is_a_menu_item_away() {
    let mut harness = harness(Form {
        mode: Mode::TcpServer,
        server_port: "6001".into(),
        encoding: TextEncoding::GBK,
        ..Form::default()
    });
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run();
    let copied = &harness.state().tab().form;
    assert_eq!(
        (copied.mode, copied.server_port.as_str(), copied.encoding),
        (Mode::TcpServer, "6001", TextEncoding::GBK)
    );
    harness.get_by_label("File").click();
    harness.run();
    harness.get_by_label("New empty tab").click();
    harness.run();
    assert_eq!(harness.state().tabs().len(), 3);
    assert_eq!(harness.state().tab().form, Form::default());
}

#[test]
fn a_notice_belongs_to_its_tab_and_ctrl_s_on_a_never_saved_tab_asks_where() {
    let dir_dir = tempfile::tempdir().unwrap();
    let dir = dir_dir
        .path()
        .join(format!("sockscope-ui-notice-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut harness = harness_with_files(Form::default(), dir.clone());
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run();
    // Save tab 2: it says so; tab 1 does not.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::S);
    run_until(&mut harness, "tab 2 saved", |_| {
        dir.join("Session 2.ron").exists()
    });
    harness.run();
    let saying = |h: &Harness<'static, App>| h.query_all_by_label_contains("Saved profile").count();
    assert_eq!(saying(&harness), 2, "tab 2's notice, and its log");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Num1);
    harness.run();
    assert_eq!(saying(&harness), 0, "tab 1 has no notice of its own");
    // Ctrl+S on the never-saved tab 1 asks where (the picker answers with its own name).
    harness.key_press_modifiers(Modifiers::COMMAND, Key::S);
    run_until(&mut harness, "tab 1 saved as", |_| {
        dir.join("Session 1.ron").exists()
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_w_on_an_open_session_asks_and_cancel_keeps_it() {
    let mut harness = harness(Form {
        mode: Mode::Udp,
        udp_port: "0".into(),
        ..Form::default()
    });
    harness.run();
    harness.get_by_label("Open").click();
    run_until(&mut harness, "UDP open", |app| app.tab().is_open());
    harness.key_press_modifiers(Modifiers::COMMAND, Key::W);
    harness.run();
    harness.get_by_label_contains("Its session is open");
    harness.get_by_label("Cancel").click();
    harness.run();
    assert!(harness.state().tab().is_open(), "still open");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::W);
    harness.run();
    harness.get_by_label("Close the tab").click();
    harness.run();
    assert!(!harness.state().tabs()[0].tab.is_open(), "a fresh tab");
}

#[test]
fn rules_a_new_tab_takes_the_addresses_but_not_the_rules_scripts_or_tables() {
    let mut form = Form {
        mode: Mode::TcpServer,
        server_port: "6002".into(),
        ..Form::default()
    };
    form.automation.enabled = true;
    form.automation.rules.push(sockscope::rules::Rule {
        name: "modbus".into(),
        ..sockscope::rules::Rule::default()
    });
    form.automation
        .tables
        .insert("holding".into(), "00 01".into());
    form.automation
        .scripts
        .push(sockscope::rules::script::Script::default());
    let mut harness = harness(form);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::T);
    harness.run();
    assert_eq!(harness.state().tabs().len(), 2);
    let new = &harness.state().tab().form;
    assert_eq!(new.server_port, "6002");
    assert!(!new.automation.enabled);
    assert!(new.automation.rules.is_empty());
    assert!(new.automation.scripts.is_empty());
    assert!(new.automation.tables.is_empty());
}
