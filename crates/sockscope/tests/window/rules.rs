//! The Rules window in the real window: opened with Ctrl+R over a listening server, a rule
//! typed into its fields (a window above the panels, where popups and focus went wrong
//! before) answers a real client at once, and the rule is in the saved workspace.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{Display, TempDir, Window, can_run, free_port};

fn connect(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => return stream,
            Err(e) => {
                assert!(Instant::now() < deadline, "the server never listened: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

#[test]
fn a_rule_typed_in_the_rules_window_answers_a_real_client() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules");
    let port = free_port();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let mut client = connect(port);
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    window.key("ctrl+r");
    window.click("rules.add");
    window.click("cond.text");
    window.type_text("PING");
    window.click("rule.reply");
    window.type_text("PONG");
    // The window stays open and the fields kept what was typed: the client is answered.
    std::thread::sleep(Duration::from_millis(300));
    client.write_all(b"PING").unwrap();
    let mut reply = [0u8; 4];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"PONG");
    let saved = window.quit();
    assert!(
        saved.contains(r#"when:Text(Exact,\"PING\")"#) && saved.contains(r#"payload:\"PONG\""#),
        "{saved}"
    );
}

/// A shipped simulator's profile, copied with a port of our own on loopback.
fn simulator_profile(dir: &TempDir, name: &str, port: u16) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let text = text.replace("\"0.0.0.0\"", "\"127.0.0.1\"");
    let text = ["5020", "7000", "7070", "2323"].iter().fold(text, |t, p| {
        t.replace(&format!("\"{p}\""), &format!("\"{port}\""))
    });
    let path = dir.0.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// A Modbus TCP request.
fn modbus(transaction: u16, pdu: &[u8]) -> Vec<u8> {
    let mut frame = transaction.to_be_bytes().to_vec();
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&(pdu.len() as u16 + 1).to_be_bytes());
    frame.push(1);
    frame.extend_from_slice(pdu);
    frame
}

fn modbus_reply(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 6];
    stream.read_exact(&mut head).unwrap();
    let mut rest = vec![0u8; u16::from_be_bytes([head[4], head[5]]) as usize];
    stream.read_exact(&mut rest).unwrap();
    let mut frame = head.to_vec();
    frame.extend(rest);
    frame
}

#[test]
fn deleting_a_rule_leaves_the_next_rule_as_it_was_and_a_keystroke_there_keeps_it() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules-delete");
    let port = free_port();
    let profile = simulator_profile(&dir, "modbus-slave.ron", port);
    let display = Display::start();
    let window = super::Window::start(
        &display,
        &dir.0,
        &super::Start {
            workspace: Some("(theme: Light)"),
            args: vec![profile],
            ..super::Start::default()
        },
    );
    let mut plc = connect(port);
    plc.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    window.key("ctrl+r");
    // The first rule (03: bad quantity) is selected: delete it.
    window.click("rules.delete");
    // One keystroke in the next rule's expression field (its own, at its end).
    window.click("cond.expr");
    window.key("End");
    window.type_text(" ");
    std::thread::sleep(Duration::from_millis(300));
    // Reads out of range get their exception (before: no reply at all).
    plc.write_all(&modbus(7, &[0x03, 0x00, 0x09, 0x00, 0x05]))
        .unwrap();
    assert_eq!(modbus_reply(&mut plc), [0, 7, 0, 0, 0, 3, 1, 0x83, 0x02]);
    plc.write_all(&modbus(8, &[0x03, 0x00, 0x00, 0x00, 0x01]))
        .unwrap();
    assert_eq!(modbus_reply(&mut plc), [0, 8, 0, 0, 0, 5, 1, 3, 2, 0, 10]);
    // The field gives the keyboard back, as a user's click elsewhere does.
    window.click("rules.row.0");
    let saved = window.quit();
    assert!(
        saved.contains(r#"name:\"03: address out of range\",when:All([Int(7,\"u8\",Eq(3)),Expr(\"rx.u16be@8 + rx.u16be@10 > len(table.holding) / 2 \")])"#),
        "{saved}"
    );
}

#[test]
fn a_script_ends_at_once_when_the_device_closes_and_runs_again_after_reconnecting() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("script-closed");
    // The heartbeat/echo server, in this process: it closes after BYE.
    let path = format!(
        "{}/../../examples/profiles/heartbeat-echo.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut form = sockscope::profile::load(std::path::Path::new(&path))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    form.server_port = "0".into();
    let mut server = sockscope::session::Session::with_form(&form, std::sync::Arc::new(|| {}));
    server.open_form(&form).unwrap();
    let addr = server.wait_listening(Duration::from_secs(5)).unwrap();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpClient,
            remote_ip: "127.0.0.1", remote_port: "{}", frame_mode: Delimiter, frame_delimiter: "\\n",
            automation: (scripts: [(name: "quit, then ping", steps: [
                Send((payload: "QUIT", line_ending: Lf)), Expect(when: Text(Exact, "BYE")), Wait(200),
                Send((payload: "PING", line_ending: Lf)), Expect(when: Text(Exact, "PONG"))])]))))],
            active: 0, theme: Light)"#,
        addr.port()
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let quits = |server: &sockscope::session::Session| {
        server
            .capture()
            .log
            .iter()
            .filter(|r| r.kind == sockscope::capture::RecordKind::Rx && r.bytes == b"QUIT\n")
            .count()
    };
    window.key("ctrl+shift+r");
    let started = Instant::now();
    window.click("script.run");
    // The step after BYE fails at once: the window shows a failed step.
    window.rect("script.failure");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    // The server's own log folds on its thread: wait for it a little.
    assert!(
        server.wait_until(Duration::from_secs(3), |c| {
            c.log
                .iter()
                .any(|r| r.kind == sockscope::capture::RecordKind::Rx && r.bytes == b"QUIT\n")
        }),
        "the server never got QUIT"
    );
    assert_eq!(quits(&server), 1);
    // Connect again, run again.
    window.click("net.open");
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.capture().clients.is_empty() {
        assert!(Instant::now() < deadline, "the tab did not connect again");
        std::thread::sleep(Duration::from_millis(50));
    }
    window.click("script.run");
    let deadline = Instant::now() + Duration::from_secs(10);
    while quits(&server) < 2 {
        assert!(Instant::now() < deadline, "Run did not run again");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(window);
}

#[test]
fn deleting_the_repeat_of_a_paused_step_run_stops_it_before_the_repeat_sends() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("script-edited");
    // The heartbeat/echo server, in this process.
    let path = format!(
        "{}/../../examples/profiles/heartbeat-echo.ron",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut form = sockscope::profile::load(std::path::Path::new(&path))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    form.server_port = "0".into();
    let mut server = sockscope::session::Session::with_form(&form, std::sync::Arc::new(|| {}));
    server.open_form(&form).unwrap();
    let addr = server.wait_listening(Duration::from_secs(5)).unwrap();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 2, auto_connect: true, session: (mode: TcpClient,
            remote_ip: "127.0.0.1", remote_port: "{}", frame_mode: Delimiter, frame_delimiter: "\\n",
            automation: (scripts: [(name: "heartbeats", steps: [
                Send((payload: "PING", line_ending: Lf)), Expect(when: Text(Exact, "PONG")),
                Repeat(2, [Send((payload: "HB", line_ending: Lf)),
                           Expect(when: Text(Prefix, "HB-ACK ")), Wait(20)]),
                Send((payload: "PING", line_ending: Lf)), Expect(when: Text(Exact, "PONG"))])]))))],
            active: 0, theme: Light)"#,
        addr.port()
    );
    let display = Display::start();
    let window = Window::open(&display, &dir, &workspace);
    let received = |server: &sockscope::session::Session, what: &[u8]| {
        server
            .capture()
            .log
            .iter()
            .filter(|r| r.kind == sockscope::capture::RecordKind::Rx && r.bytes == what)
            .count()
    };
    window.key("ctrl+shift+r");
    // Step until the Repeat's first HB went out.
    let deadline = Instant::now() + Duration::from_secs(20);
    while received(&server, b"HB\n") == 0 {
        assert!(Instant::now() < deadline, "stepping never sent HB");
        window.click("script.step");
        std::thread::sleep(Duration::from_millis(300));
    }
    // The user deletes the Repeat: the run stops at once and says so (it went on with the
    // removed steps: the Repeat's wait ran and its second HB was sent).
    window.click("step.delete.0.2");
    window.rect("script.failure");
    // Stepping on runs the script as it is now, from its start: nothing of the Repeat.
    window.click("script.step");
    window.click("script.step");
    assert!(
        server.wait_until(Duration::from_secs(5), |c| {
            c.log
                .iter()
                .filter(|r| r.kind == sockscope::capture::RecordKind::Rx && r.bytes == b"PING\n")
                .count()
                == 2
        }),
        "the edited script did not start again"
    );
    assert_eq!(received(&server, b"HB\n"), 1, "a removed step was sent");
    drop(window);
}

/// True if `inner` lies within `outer`.
fn inside(inner: (f32, f32, f32, f32), outer: (f32, f32, f32, f32)) -> bool {
    inner.0 >= outer.0 - 1.0
        && inner.1 >= outer.1 - 1.0
        && inner.0 + inner.2 <= outer.0 + outer.2 + 1.0
        && inner.1 + inner.3 <= outer.1 + outer.3 + 1.0
}

#[test]
fn at_1024_by_640_the_rules_and_scripts_windows_keep_their_place_and_show_their_results() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules-small");
    let port = free_port();
    let profile = simulator_profile(&dir, "modbus-slave.ron", port);
    // A script whose Expect fails with a long message as what it got.
    let text = std::fs::read_to_string(&profile).unwrap().replacen(
        "automation: (",
        r#"automation: (scripts: [(name: "long", steps: [Send((payload: "01 02", mode: Hex)),
            Expect(when: Bytes(Exact, "FF"), timeout_ms: 500)])],"#,
        1,
    );
    std::fs::write(&profile, text).unwrap();
    let display = Display::start_sized("1024x640");
    let window = super::Window::start(
        &display,
        &dir.0,
        &super::Start {
            workspace: Some("(theme: Light)"),
            args: vec![profile],
            ..super::Start::default()
        },
    );
    let mut plc = connect(port);
    plc.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    plc.write_all(&modbus(1, &[0x03, 0x00, 0x00, 0x00, 0x01]))
        .unwrap();
    modbus_reply(&mut plc);
    let screen = (0.0, 0.0, 1024.0, 640.0);
    window.key("ctrl+r");
    let placed = window.rect("rules.window");
    assert!(inside(placed, screen), "{placed:?}");
    // A long request and Try on the log: the results wrap inside, the window stays.
    window.click("rules.test");
    window.type_text(&"00 01 00 00 00 06 01 03 00 00 00 02 ".repeat(8));
    window.click("rules.try");
    let fired = window.rect("rules.test.fired");
    let tried = window.rect("rules.tried");
    let now = window.rect("rules.window");
    assert_eq!((now.0, now.1), (placed.0, placed.1), "the window moved");
    assert!(inside(now, screen), "{now:?}");
    assert!(
        inside(fired, now) && inside(tried, now),
        "{fired:?} {tried:?} {now:?}"
    );
    let shot = window.screenshot();
    assert!(super::ink(&shot, tried) > 0, "the result is drawn");
    // The Scripts window: a failed step's long detail wraps inside, the window stays.
    window.key("ctrl+shift+r");
    let placed = window.rect("scripts.window");
    assert!(inside(placed, screen), "{placed:?}");
    window.click("script.run");
    let mut two = [0u8; 2];
    plc.read_exact(&mut two).unwrap();
    plc.write_all(&[0x42; 120]).unwrap();
    let failure = window.rect("script.failure");
    let now = window.rect("scripts.window");
    assert_eq!((now.0, now.1), (placed.0, placed.1), "the window moved");
    assert!(
        inside(now, screen) && inside(failure, now),
        "{failure:?} {now:?}"
    );
    drop(window);
}

#[test]
fn a_field_keeps_the_keyboard_while_the_mistake_typed_in_it_comes_and_goes() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules-typing");
    let port = free_port();
    let profile = simulator_profile(&dir, "json-device.ron", port);
    let display = Display::start();
    let window = super::Window::start(
        &display,
        &dir.0,
        &super::Start {
            workspace: Some("(theme: Light)"),
            args: vec![profile],
            ..super::Start::default()
        },
    );
    drop(connect(port));
    window.key("ctrl+r");
    window.click("rules.row.1");
    window.click("cond.regex");
    window.key("ctrl+a");
    // "(" makes the regex wrong (a warning comes above), ")" makes it right again.
    window.type_text("(ping|pong)");
    window.click("rules.row.1");
    let saved = window.quit();
    assert!(
        saved.contains(r#"name:\"ping\",when:Regex(\"(ping|pong)\")"#),
        "{saved}"
    );
}

fn center((x, y, w, h): (f32, f32, f32, f32)) -> (f32, f32) {
    (x + w / 2.0, y + h / 2.0)
}

fn holds((x, y, w, h): (f32, f32, f32, f32), (px, py): (f32, f32)) -> bool {
    px >= x && px <= x + w && py >= y && py <= y + h
}

/// Waits until `name` is drawn no more.
fn gone(window: &Window, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while window.find(name).is_some() {
        assert!(Instant::now() < deadline, "'{name}' is still drawn");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rules_delete_remove_and_add_stay_under_the_pointer_and_nothing_new_slides_there() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("rules-still");
    let workspace = r#"(tabs: [(path: None, profile: (version: 2, session: (mode: TcpServer,
        local_ip: "127.0.0.1", server_port: "0", automation: (enabled: true, rules: [
            (name: "G", when: All([Text(Exact, "x")])), (name: "A", when: Text(Exact, "A")),
            (name: "B", when: Text(Exact, "B")), (name: "C", when: Text(Exact, "C"))],
        scripts: [(name: "s", steps: [Send((payload: "AT")), Wait(100), Wait(200), Wait(300)])]))))],
        active: 0, theme: Light)"#;
    let display = Display::start();
    let window = Window::open(&display, &dir, workspace);
    window.key("ctrl+r");
    // "+ Condition" stays where it was; the new row goes below it.
    let add = window.rect("cond.add");
    window.click("cond.add");
    assert_eq!(window.rect("cond.add"), add);
    // Delete twice at the same point: the Undo line was always there, so the second click
    // deletes the next rule (the line that came pushed the list down 23 px).
    let delete = window.rect("rules.delete");
    window.click("rules.delete");
    window.rect("rules.undo");
    assert_eq!(window.rect("rules.delete"), delete);
    let (x, y) = center(delete);
    window.click_at(x, y);
    gone(&window, "rules.row.2");
    window.rect("rules.row.1");
    // A script's step: the next step's Remove is not under the pointer after a Remove.
    window.key("ctrl+shift+r");
    let remove = window.rect("step.delete.0.0");
    window.click("step.delete.0.0");
    window.rect("scripts.undo");
    window.rect("step.gap");
    gone(&window, "step.delete.0.3");
    let next = window.rect("step.delete.0.0");
    assert!(
        !holds(next, center(remove)),
        "the next Remove {next:?} slid under the pointer at {remove:?}"
    );
    window.click("scripts.undo");
    window.rect("step.delete.0.3");
    // Delete the script, Undo: the Delete button is back where it was, not next to Undo.
    let delete = window.rect("script.delete");
    window.click("script.delete");
    window.click("scripts.undo");
    assert_eq!(window.rect("script.delete"), delete);
    let saved = window.quit();
    assert!(
        saved.contains(r#"name:\"B\""#) && !saved.contains(r#"name:\"A\""#),
        "{saved}"
    );
    assert!(saved.contains("Wait(300)"), "{saved}");
}
