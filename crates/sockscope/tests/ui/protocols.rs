//! The Decode as picker: a protocol chosen there gives each data row its summary; a spec file
//! with an error says where, next to the picker; Find with a field the protocol lacks says so
//! (in the window's language, also after a switch).

use std::io::Write as _;

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::kittest::Queryable as _;
use sockscope::gui::state::Form;
use sockscope::i18n::Lang;

use std::net::TcpStream;

use egui_kittest::Harness;
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::App;

use super::{run_until, server_with_clients};

/// A JT/T 808 platform reply (serial 0x0026), XOR 0x08.
const REPLY: &str = "7e8001000505805668746700000026000200087e";

/// A listening server tab in a window tall enough to show the Decode as picker (at 720 px it
/// is below the settings' fold, and kittest clicks only what is drawn), with one client.
fn tall_server() -> (Harness<'static, App>, TcpStream) {
    let form = Form {
        mode: Mode::TcpServer,
        server_port: "0".into(),
        local_ip: "127.0.0.1".into(),
        ..Form::default()
    };
    let mut harness = Harness::builder()
        .with_size([1100.0, 1100.0])
        .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form));
    harness.get_by_label("Listen").click();
    run_until(&mut harness, "listening", |app| {
        matches!(app.tab().session.capture().link, LinkState::Listening(_))
    });
    let LinkState::Listening(addr) = harness.state().tab().session.capture().link.clone() else {
        unreachable!()
    };
    let client = TcpStream::connect(addr).unwrap();
    run_until(&mut harness, "the client", |app| {
        app.tab().session.capture().clients.len() == 1
    });
    (harness, client)
}

#[test]
fn a_protocol_chosen_in_the_picker_gives_each_row_its_summary() {
    let (mut harness, mut client) = tall_server();
    let clients = [&mut client];
    let frame = sockscope_core::codec::hex::parse(REPLY).unwrap();
    clients[0].write_all(&frame).unwrap();
    run_until(&mut harness, "the frame", |app| {
        app.tab().session.capture().counters.rx_bytes == frame.len() as u64
    });
    assert!(
        harness.query_by_label_contains("≡ ").is_none(),
        "no summary before a protocol is chosen"
    );
    harness
        .get_by_role_and_label(Role::ComboBox, "Decode as")
        .click();
    harness.run();
    let jt808 = sockscope_core::protocol::builtin("jt808").unwrap();
    harness
        .get_by_role_and_label(Role::Button, &format!("jt808 — {}", jt808.title()))
        .click();
    harness.run();
    assert_eq!(harness.state().tab().form.protocol, "jt808");
    // The row now leads with what the message is.
    harness.get_by_label_contains("≡ JT808 0x8001");
}

#[test]
fn a_spec_file_with_an_error_says_where_next_to_the_picker() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("my808.ron");
    let source = sockscope_core::protocol::builtin("jt808")
        .unwrap()
        .source
        .replacen("\"u16\"", "\"u61\"", 1);
    std::fs::write(&spec, source).unwrap();
    let form = Form {
        protocol: spec.display().to_string(),
        ..Form::default()
    };
    let mut harness = super::harness(form);
    harness.run();
    let error = harness.get_by_label_contains("'u61' is not a type");
    let text = format!("{error:?}");
    assert!(
        text.contains("line 18") && text.contains("column 9"),
        "{text}"
    );
    // A spec file that is gone is said as such.
    std::fs::remove_file(&spec).unwrap();
    harness.state_mut().tab_mut().form.protocol = dir.path().join("gone.ron").display().to_string();
    harness.run();
    harness.get_by_label_contains("Cannot read");
}

#[test]
fn find_with_a_field_the_protocol_lacks_says_so_and_follows_a_language_switch() {
    let (mut harness, _clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            ..Form::default()
        },
        1,
    );
    harness.key_press_modifiers(Modifiers::COMMAND, Key::F);
    harness.run();
    super::type_into(&mut harness, Role::TextInput, Some("Find"), "f.msgid == 1");
    harness.get_by_label("no field 'msgid' in jt808 (did you mean msg_id?)");
    harness.state_mut().set_lang(Lang::Zh);
    harness.run();
    harness.get_by_label("jt808 中没有字段“msgid”（是不是 msg_id？）");
    harness.state_mut().set_lang(Lang::En);
    harness.run();
    super::type_into(
        &mut harness,
        Role::TextInput,
        Some("Find"),
        "f.msg_id == 0x8001",
    );
    assert!(harness.query_by_label_contains("no field").is_none());
}

/// A JT/T 808 location report (2019 header), XOR 0x41.
const LOCATION: &str = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";

#[test]
fn show_by_field_keeps_the_messages_it_holds_for_and_says_how_many_it_hides() {
    let (mut harness, mut clients) = server_with_clients(
        Form {
            protocol: "jt808".into(),
            rx_hex: true,
            ..Form::default()
        },
        1,
    );
    let reply = sockscope_core::codec::hex::parse(REPLY).unwrap();
    let location = sockscope_core::codec::hex::parse(LOCATION).unwrap();
    let mut sent = 0;
    for frame in [&reply, &location, &reply, &reply, &location] {
        clients[0].write_all(frame).unwrap();
        sent += frame.len() as u64;
        run_until(&mut harness, "the frame", |app| {
            app.tab().session.capture().counters.rx_bytes == sent
        });
    }
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        3
    );
    super::type_into(
        &mut harness,
        Role::TextInput,
        Some("where"),
        "f.msg_id == 0x0200",
    );
    run_until(&mut harness, "the filter", |app| !app.tab().view.show_busy);
    harness.run();
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        0
    );
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x0200")
            .count(),
        2
    );
    harness.get_by_label("3 hidden");
    // Session messages stay ("connected").
    assert!(harness.query_all_by_label_contains("127.0.0.1").count() >= 3);
    // A typo says so and filters nothing.
    let tab = harness.state_mut().tab_mut();
    tab.view.show_text = "f.msg_idx == 0x0200".into();
    tab.apply(sockscope::gui::state::UiAction::ShowFields);
    harness.run();
    harness.get_by_label("no field 'msg_idx' in jt808 (did you mean msg_id?)");
    assert_eq!(
        harness
            .query_all_by_label_contains("≡ JT808 0x8001")
            .count(),
        3
    );
}
