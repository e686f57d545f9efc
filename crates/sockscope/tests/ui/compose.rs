//! The Compose window: a frame made from the field values of issue 27's public vectors is
//! byte-identical to the vector (lengths, checksums, escaping computed), goes out through Send
//! to a real loopback peer, and a wrong field is a sentence beside it with Send refused.

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};

use eframe::egui::accesskit::Role;
use eframe::egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use sockscope::capture::LinkState;
use sockscope::engine::Mode;
use sockscope::gui::App;
use sockscope::gui::state::Form;
use sockscope_core::codec::hex;
use sockscope_core::protocol::{self, Dir, FieldValue};

use super::{read_within, reads_nothing, run_until};

/// A TCP client tab decoding with `protocol`, connected to a listener of the test, in a
/// window tall enough for the form; and the peer's end.
fn client_with(protocol: &str) -> (Harness<'static, App>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let form = Form {
        mode: Mode::TcpClient,
        remote_ip: "127.0.0.1".into(),
        remote_port: addr.port().to_string(),
        protocol: protocol.into(),
        ..Form::default()
    };
    let mut harness = Harness::builder()
        .with_size([1300.0, 1600.0])
        .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form));
    harness.get_by_label("Connect").click();
    run_until(&mut harness, "connected", |app| {
        matches!(
            app.tab().session.capture().link,
            LinkState::Connected { .. }
        )
    });
    let (peer, _) = listener.accept().unwrap();
    (harness, peer)
}

/// Opens Compose with its shortcut and picks the message whose label starts with `message`.
fn open_compose(harness: &mut Harness<'static, App>, message: &str) {
    harness.key_press_modifiers(Modifiers::COMMAND, Key::M);
    harness.run();
    harness
        .get_by_role_and_label(Role::ComboBox, "Message")
        .click();
    harness.run();
    harness.get_by_label_contains(message).click();
    harness.run();
}

/// Replaces what the `nth` text field labelled `label` holds with `text`.
fn set_field(harness: &mut Harness<'static, App>, label: &str, nth: usize, text: &str) {
    let fields = harness
        .get_all_by_role_and_label(Role::TextInput, label)
        .count();
    assert!(nth < fields, "no text field {nth} labelled {label:?}");
    harness
        .get_all_by_role_and_label(Role::TextInput, label)
        .nth(nth)
        .unwrap()
        .focus();
    harness.run();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method path does not fit the lifetime bound"
    )]
    harness.get_by(|n| n.is_focused()).type_text(text);
    harness.run();
}

/// A value as a user types it into the form.
fn typed(value: &FieldValue) -> String {
    match value {
        FieldValue::Int(n) => n.to_string(),
        FieldValue::Text(t) => t.clone(),
        FieldValue::Bytes(b) => hex::format(b),
        FieldValue::Float(f) => f.to_string(),
        FieldValue::None => String::new(),
    }
}

/// Types each field value of `vector` (as decoded) into the field of its label, in frame
/// order, adding list items first; then checks the preview shows exactly the vector's bytes.
fn fill_from(
    harness: &mut Harness<'static, App>,
    name: &str,
    vector: &str,
    dir: Dir,
    items: usize,
) {
    let p = protocol::builtin(name).unwrap();
    let frame = hex::parse(vector).unwrap();
    let decoded = p.decode(&frame, dir);
    assert!(decoded.checks_ok(), "{name}: {vector}");
    for n in 0..items {
        harness.get_by_label("+ Item").click();
        harness.run();
        let shown = harness
            .get_by_label_contains("Composed, ")
            .accesskit_node()
            .value()
            .unwrap_or_default();
        assert_eq!(
            harness.query_all_by_label("Remove").count(),
            n + 1,
            "{shown}"
        );
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (path, field) in decoded.all() {
        if matches!(field.value, FieldValue::None) {
            continue;
        }
        let label = p.label(field);
        let nth = seen.get(&label).copied().unwrap_or(0);
        if harness
            .query_all_by_role_and_label(Role::TextInput, &label)
            .nth(nth)
            .is_none()
        {
            // Computed (a length, checksum, constant), or the number whose bits are typed.
            continue;
        }
        seen.insert(label.clone(), nth + 1);
        let _ = path;
        set_field(harness, &label, nth, &typed(&field.value));
    }
    // The preview shows the first 256 bytes.
    let want = match frame.get(..256) {
        Some(head) if frame.len() > 256 => {
            format!("Composed, {} bytes: {} …", frame.len(), hex::format(head))
        }
        _ => format!("Composed, {} bytes: {}", frame.len(), hex::format(&frame)),
    };
    let shown = harness
        .get_by_label_contains("Composed, ")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    assert_eq!(shown, want, "{name}: the preview");
}

#[test]
fn compose_makes_the_jt808_platform_reply_vector_and_sends_exactly_it() {
    let vector = "7e8001000505805668746700000026000200087e";
    let (mut harness, mut peer) = client_with("jt808");
    open_compose(&mut harness, "0x8001 Platform general reply");
    fill_from(&mut harness, "jt808", vector, Dir::Unknown, 0);
    harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap()
        .click();
    harness.run();
    let frame = hex::parse(vector).unwrap();
    assert_eq!(read_within(&mut peer, frame.len()), frame);
    // As the send box sends: in the history.
    assert_eq!(harness.state().tab().form.history.len(), 1);
    // Kept as a quick command: the same bytes, named by the frame's summary.
    harness.get_by_label("Save as quick command").click();
    harness.run();
    let quick = &harness.state().tab().form.quick;
    assert_eq!(quick.len(), 1);
    let text = &quick[0].text;
    assert_eq!(hex::parse(text).unwrap(), frame, "{text}");
    assert!(
        quick[0].name.starts_with("JT808 0x8001"),
        "{}",
        quick[0].name
    );
    // It keeps what it was made from: right-click → Edit in Compose… opens the form with its
    // fields (not its hex), and Save puts the changed frame back in it, name kept.
    let name = quick[0].name.clone();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::M);
    harness.run();
    harness.get_by_label(&name).click_secondary();
    harness.run();
    harness.get_by_label("Edit in Compose…").click();
    harness.run();
    harness.get_by_label(&format!("Editing the quick command '{name}'"));
    let serial = harness
        .get_by_role_and_label(Role::TextInput, "Reply serial")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    assert_eq!(
        serial, "38",
        "the reply serial typed for the vector (0x0026)"
    );
    set_field(&mut harness, "Reply serial", 0, "39");
    harness.get_by_label(&format!("Save to '{name}'")).click();
    harness.run();
    let quick = &harness.state().tab().form.quick;
    assert_eq!(quick.len(), 1, "changed in place, not added");
    // Its name was made from the summary: it follows the new frame's, and the save is said.
    let renamed = quick[0].name.clone();
    harness.get_by_label(&format!("Saved to '{renamed}'"));
    let mut changed = frame.clone();
    // Serial 0x0026 → 0x0027 at body offset 1, and the XOR check one higher too.
    changed[14] = 0x27;
    changed[18] ^= 0x26 ^ 0x27;
    assert_eq!(hex::parse(&quick[0].text).unwrap(), changed);
}

#[test]
fn compose_makes_the_jt808_2019_location_report_vector() {
    let vector = "7e02004026010000000001391234432900000000006f0000001601dc9a0707456246007b004200032501292233440202006401040000000c417e";
    let (mut harness, _peer) = client_with("jt808");
    open_compose(&mut harness, "0x0200 Location report");
    fill_from(&mut harness, "jt808", vector, Dir::Unknown, 2);
}

#[test]
fn compose_makes_the_dlt645_read_address_vector() {
    let vector = "68 AA AA AA AA AA AA 68 13 00 DF 16";
    let (mut harness, _peer) = client_with("dlt645");
    open_compose(&mut harness, "0x13 Read address · No data");
    fill_from(&mut harness, "dlt645", vector, Dir::Request, 0);
}

#[test]
fn compose_makes_the_modbus_rtu_read_vector() {
    let vector = "01 03 00 00 00 01 84 0A";
    let (mut harness, _peer) = client_with("modbus-rtu");
    open_compose(&mut harness, "0x03 Read holding registers · Read request");
    fill_from(&mut harness, "modbus-rtu", vector, Dir::Request, 0);
    // Modbus reads a request and a reply of one function differently: the direction is
    // offered (HJ 212's form, which reads the same both ways, has no such row).
    harness.get_by_label("Direction");
}

#[test]
fn a_number_out_of_range_is_said_beside_its_field_and_send_is_refused() {
    let (mut harness, mut peer) = client_with("modbus-rtu");
    open_compose(&mut harness, "0x03 Read holding registers · Read request");
    set_field(&mut harness, "Start address", 0, "70000");
    harness.get_by_label("70000 is out of range: this field takes 0 to 65535");
    harness.get_by_label(
        "Not sent: Start address: 70000 is out of range: this field takes 0 to 65535",
    );
    // The bytes shown are a draft, not what Send sends (they said "Composed").
    harness.get_by_label_contains("Draft, not sendable (a field in error taken as 0)");
    let send = harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap();
    assert!(send.accesskit_node().is_disabled(), "Send is refused");
    send.click();
    harness.run();
    assert!(reads_nothing(&mut peer), "nothing went out");
}

/// A list item whose value is typed wrong stays in the form with its sentence: typing 70000
/// into a Modbus register removed the item, and what was typed in it.
#[test]
fn a_list_item_typed_wrong_stays_with_its_sentence() {
    let (mut harness, _peer) = client_with("modbus-tcp");
    open_compose(
        &mut harness,
        "0x10 Write multiple registers · Write registers",
    );
    for _ in 0..2 {
        harness.get_by_label("+ Item").click();
        harness.run();
    }
    assert_eq!(
        harness
            .query_all_by_role_and_label(Role::TextInput, "Value")
            .count(),
        2
    );
    set_field(&mut harness, "Value", 0, "1234");
    set_field(&mut harness, "Value", 1, "70000");
    harness.run();
    assert_eq!(
        harness
            .query_all_by_role_and_label(Role::TextInput, "Value")
            .count(),
        2,
        "the item with the wrong value stays"
    );
    let second = harness
        .query_all_by_role_and_label(Role::TextInput, "Value")
        .nth(1)
        .unwrap();
    assert_eq!(second.accesskit_node().value().as_deref(), Some("70000"));
    // Beside the field, and as why Send is refused.
    let said: Vec<String> = harness
        .query_all_by_label_contains("")
        .filter_map(|n| n.accesskit_node().value())
        .collect();
    assert!(
        said.iter().any(|l| l == "70000 does not fit in 2 bytes"),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|l| l == "Not sent: Value #2: 70000 does not fit in 2 bytes"),
        "{said:?}"
    );
}

#[test]
fn words_where_a_number_goes_and_bad_hex_are_said_beside_their_fields() {
    let (mut harness, _peer) = client_with("modbus-rtu");
    open_compose(&mut harness, "0x03 Read holding registers · Read request");
    set_field(&mut harness, "Quantity", 0, "ten");
    harness.get_by_label("'ten' is not a number: type it in decimal, or in hex as 0x…");
    let (mut harness, _peer) = client_with("dlt645");
    open_compose(&mut harness, "0x11 Read data · Read data");
    set_field(&mut harness, "Address", 0, "12x4");
    harness.get_by_label("'12x4' is not decimal digits (AA… only for a broadcast address)");
    // Hex letters in BCD went out as nibbles above 9; all A (broadcast) still goes.
    set_field(&mut harness, "Address", 0, "12345678901A");
    harness.get_by_label("'12345678901A' is not decimal digits (AA… only for a broadcast address)");
    set_field(&mut harness, "Address", 0, "AAAAAAAAAA12");
    assert!(
        harness
            .query_by_label_contains("is not decimal digits")
            .is_none(),
        "a wildcard address (A in the high digits) is taken"
    );
    set_field(&mut harness, "Address", 0, "AAAAAAAAAAAA");
    assert!(
        harness
            .query_by_label_contains("is not decimal digits")
            .is_none()
    );
}

#[test]
fn chinese_typed_into_a_gbk_string_field_goes_out_as_gbk() {
    let (mut harness, _peer) = client_with("jt808");
    open_compose(&mut harness, "0x0100 Terminal registration");
    set_field(&mut harness, "Plate / VIN", 0, "粤B12345");
    let shown = harness
        .get_by_label_contains("Composed, ")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    // 粤 in GBK is D4 C1; the XOR of everything between the flags is 4A.
    assert!(shown.ends_with("D4 C1 42 31 32 33 34 35 4A 7E"), "{shown}");
    harness.get_by_label_contains("粤B12345");
}

/// Another message of the same protocol keeps what was typed for the fields the two share
/// (the terminal's phone went back to zeros when the message changed).
#[test]
fn another_message_keeps_the_phone_typed_for_the_first() {
    let (mut harness, _peer) = client_with("jt808");
    open_compose(&mut harness, "0x0002 Heartbeat");
    set_field(&mut harness, "Terminal phone", 0, "013912344329");
    harness
        .get_by_role_and_label(Role::ComboBox, "Message")
        .click();
    harness.run();
    harness
        .get_by_label_contains("0x0200 Location report")
        .click();
    harness.run();
    let phone = harness.get_by_role_and_label(Role::TextInput, "Terminal phone");
    let value = egui_kittest::kittest::NodeT::accesskit_node(&phone)
        .value()
        .unwrap_or_default();
    assert_eq!(value, "013912344329");
}

/// What the preview shows.
fn preview(harness: &Harness<'static, App>) -> String {
    harness
        .get_by_label_contains("Composed, ")
        .accesskit_node()
        .value()
        .unwrap_or_default()
}

/// HJ 212: the header keys and the CP pairs typed (the segment was shown computed, not
/// editable); the length `##0113` and the standard's own CRC computed — part 1's vector byte
/// for byte, with the CR LF the standard ends a frame with, sent as shown.
#[test]
fn compose_makes_the_hj212_vector_from_its_keys_and_cp_pairs() {
    let vector = "##0113QN=20210118201054000;ST=32;CN=3032;PW=123456;MN=20210107123456;Flag=5;CP=&&PolId=a34004,MB_BgnAddr=192,MB_Wrt=5&&0F00\r\n";
    let (mut harness, mut peer) = client_with("hj212");
    harness.key_press_modifiers(Modifiers::COMMAND, Key::M);
    harness.run();
    for (label, text) in [
        ("Request ID", "20210118201054000"),
        ("System", "32"),
        ("Command", "3032"),
        ("Password", "123456"),
        ("Device ID", "20210107123456"),
        ("Flags", "5"),
        ("Command parameters", "PolId=a34004,MB_BgnAddr=192,MB_Wrt=5"),
    ] {
        set_field(&mut harness, label, 0, text);
    }
    let frame = vector.as_bytes();
    // The preview shows all 125 bytes (it cut at 64), and the frame as the text it is; the
    // peer below reads them all.
    assert_eq!(
        preview(&harness),
        format!("Composed, {} bytes: {}", frame.len(), hex::format(frame))
    );
    harness.get_by_label(&format!("“{}\\r\\n”", &vector[..vector.len() - 2]));
    assert!(
        harness.query_by_label("Direction").is_none(),
        "a direction that changes nothing"
    );
    // The system code's name is offered beside it.
    let system = harness.get_by_role_and_label(Role::ComboBox, "System");
    let named = system.accesskit_node().value().unwrap_or_default();
    assert_eq!(named, "Surface water pollution source");
    harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap()
        .click();
    harness.run();
    assert_eq!(read_within(&mut peer, frame.len()), frame);
    // Flag 5's bits show as ticks; ticking "split into packets" makes it 7.
    let answer = harness.get_by_role_and_label(Role::CheckBox, "answer wanted");
    assert_eq!(
        answer.accesskit_node().toggled(),
        Some(eframe::egui::accesskit::Toggled::True)
    );
    harness
        .get_by_role_and_label(Role::CheckBox, "split into packets")
        .click();
    harness.run();
    let flag = harness.get_by_role_and_label(Role::TextInput, "Flags");
    assert_eq!(flag.accesskit_node().value().as_deref(), Some("7"));
    // A CP pair without '=' is said beside it, and Send refused.
    set_field(&mut harness, "Command parameters", 0, "PolId=a34004,oops");
    harness.get_by_label("'oops' is not key=value (pairs split by ',', groups by ';')");
    let send = harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap();
    assert!(send.accesskit_node().is_disabled(), "Send is refused");
    // What splits the data segment, inside a value, is said beside it (`abc;ST=99` went out as
    // two keys, with the CRC holding).
    set_field(&mut harness, "Command parameters", 0, "PolId=a34004");
    set_field(&mut harness, "Request ID", 0, "abc;ST=99");
    // Beside the field, and as why Send is refused.
    assert_eq!(
        harness
            .query_all_by_label_contains("'abc;ST=99' holds ';', which splits the frame's fields")
            .count(),
        2
    );
    // Named as the form names the key (it said `data.QN`).
    harness.get_by_label_contains("Not sent: QN: 'abc;ST=99'");
    let send = harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap();
    assert!(send.accesskit_node().is_disabled(), "Send is refused");
}

/// NMEA: GGA picked from the message list (the sentence is chosen by the address's text), its
/// columns typed; `$GPGGA,…*6D` with the XOR computed and the CR LF the spec ends a sentence
/// with — part 1's vector byte for byte, sent as shown.
#[test]
fn compose_makes_the_nmea_gga_vector_from_its_columns() {
    let vector = "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D\r\n";
    let (mut harness, mut peer) = client_with("nmea");
    open_compose(&mut harness, "GGA · Fix data");
    // A blank GGA is a sentence already: its columns empty, its checksum holding.
    assert!(
        preview(&harness).starts_with("Composed, 25 bytes: 24 47 50 47 47 41 2C 2C"),
        "{}",
        preview(&harness)
    );
    fill_from(
        &mut harness,
        "nmea",
        &hex::format(vector.as_bytes()),
        Dir::Unknown,
        0,
    );
    // N/S offered by name.
    let ns = harness.get_by_role_and_label(Role::ComboBox, "N/S");
    assert_eq!(ns.accesskit_node().value().unwrap_or_default(), "S south");
    harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap()
        .click();
    harness.run();
    assert_eq!(read_within(&mut peer, vector.len()), vector.as_bytes());
}

/// DL/T 645's 0x91 reply with four value bytes where the A-phase voltage (DI 02 01 01 00) has
/// two: the two left over are typed as the bytes after the fields, and the frame is part 1's
/// vector byte for byte (length 08 and the sum B0 computed).
#[test]
fn compose_makes_the_dlt645_voltage_reply_with_its_two_extra_bytes() {
    let vector = "68 01 00 00 00 00 00 68 91 08 33 34 34 35 77 66 55 44 B0 16";
    let (mut harness, mut peer) = client_with("dlt645");
    open_compose(&mut harness, "0x11 Read data · Data");
    // fill_from types the decoded fields, the two extra bytes included (the row is named as
    // the decoded frame names them: "extra bytes").
    fill_from(&mut harness, "dlt645", vector, Dir::Response, 0);
    harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap()
        .click();
    harness.run();
    let frame = hex::parse(vector).unwrap();
    assert_eq!(read_within(&mut peer, frame.len()), frame);
    // Not hex: said beside the row, Send refused.
    set_field(&mut harness, "extra bytes", 0, "2x");
    harness.get_by_label_contains("Not sent: extra bytes: '2x' is not hex bytes");
    assert_eq!(
        harness
            .query_all_by_label_contains("'2x' is not hex bytes")
            .count(),
        2,
        "beside the row, and why Send is refused"
    );
    let send = harness
        .get_all_by_role_and_label(Role::Button, "Send")
        .last()
        .unwrap();
    assert!(send.accesskit_node().is_disabled(), "Send is refused");
    // A read request's layout has its own field after the DI (blocks / time): no second row.
    harness
        .get_by_role_and_label(Role::ComboBox, "Message")
        .click();
    harness.run();
    harness
        .get_by_label_contains("0x11 Read data · Read data")
        .click();
    harness.run();
    assert_eq!(
        harness
            .query_all_by_role_and_label(Role::TextInput, "extra bytes")
            .count(),
        0
    );
    assert_eq!(
        harness
            .query_all_by_role_and_label(Role::TextInput, "Blocks / time")
            .count(),
        1
    );
}

/// Every built-in protocol, every message the Compose list offers (or the one form of a
/// protocol with none), nothing typed: the form makes a frame that decodes back whole with its
/// checks holding, or refuses with a sentence naming a field the form shows — never a panic,
/// never "no field" for a field it does not show.
#[test]
fn every_builtin_message_blank_makes_a_sound_frame_or_names_the_field_to_fill() {
    use sockscope::gui::compose_ui::build;
    let mut made = 0;
    for p in protocol::builtins() {
        let mut forms = p.messages();
        if forms.is_empty() {
            forms.push(protocol::Message {
                key: 0,
                label: String::new(),
                values: Vec::new(),
                dir: Dir::Request,
            });
        }
        for protocol::Message {
            label, values, dir, ..
        } in forms
        {
            let what = format!("{} {label}", p.name());
            let built = build(p, &values, &BTreeMap::new(), dir);
            match &built.bytes {
                Ok(bytes) => {
                    let d = p.decode(bytes, dir);
                    assert_eq!(d.stop, None, "{what}: {}", hex::format(bytes));
                    assert!(d.checks_ok(), "{what}: {}", p.summary(&d));
                    // It is the message picked.
                    for (path, want) in &values {
                        let got = d.get(path).map(|f| f.value.clone());
                        assert_eq!(got.as_ref(), Some(want), "{what}: {path}");
                    }
                    made += 1;
                }
                Err(why) => {
                    assert!(!why.contains("no field"), "{what}: {why}");
                    assert!(
                        built
                            .editable
                            .keys()
                            .any(|path| why.contains(path.as_str())),
                        "{what}: {why} names no field the form shows"
                    );
                }
            }
            if let Some(why) = built.refusal(p) {
                assert!(!why.contains("no field"), "{what}: {why}");
            }
        }
    }
    assert!(made > 30, "{made} frames made");
}

/// The same in the window: each built-in's Compose, each message picked from the list, draws
/// without a panic and says no "no field".
#[test]
fn every_builtin_message_opens_in_the_window_without_no_field() {
    for p in protocol::builtins() {
        let form = Form {
            protocol: p.name().into(),
            ..Form::default()
        };
        let mut harness = Harness::builder()
            .with_size([1300.0, 1600.0])
            .build_eframe(move |cc| App::with_form(&cc.egui_ctx, form));
        harness.key_press_modifiers(Modifiers::COMMAND, Key::M);
        harness.run();
        let messages = p.messages();
        for m in &messages {
            harness
                .get_by_role_and_label(Role::ComboBox, "Message")
                .click();
            harness.run();
            let label = match m.dir {
                Dir::Response => format!("{}  (Reply)", m.label),
                _ => m.label.clone(),
            };
            harness
                .query_all_by_label(&label)
                .next()
                .unwrap_or_else(|| panic!("{}: no {label:?} in the list", p.name()))
                .click();
            harness.run();
            assert_eq!(
                harness.query_all_by_label_contains("no field").count(),
                0,
                "{} {label}",
                p.name()
            );
        }
        assert_eq!(
            harness.query_all_by_label_contains("no field").count(),
            0,
            "{}",
            p.name()
        );
    }
}
