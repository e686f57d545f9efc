//! The Plot window in the real window: a DL/T 645 meter written in Python from the standard
//! (not our code: its own +0x33, BCD and sum) answers the tab's cyclic voltage and current
//! reads on loopback with values that swing; the voltage right-clicked in the field tree →
//! Plot is drawn live, the current from Add field stacks below it, Stacked off puts both in one
//! plot, and the Plot window's shortcut closes it.
//!
//! `SOCKSCOPE_PLOT_SHOT=FILE.png` saves a picture of the screen with the plot (README), and
//! `SOCKSCOPE_PLOT_LOOK=zh-dark-1920x1080` picks the language, theme and screen size of the
//! run (default `en-light-1024x640`).

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use super::{Display, TempDir, Window, can_run};

/// A DL/T 645-2007 meter at address 000000000001: reads of phase A voltage (DI 02010100)
/// are answered with 0x91 and a voltage that rises and falls (XXX.X V in BCD); it prints its
/// port, then serves one master until it goes.
const METER: &str = r#"
import math, socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
conn.settimeout(30)
buf, n = b"", 0
def frame(control, data):
    body = bytes([0x68, 1, 0, 0, 0, 0, 0, 0x68, control, len(data)]) + bytes((b + 0x33) & 0xFF for b in data)
    return body + bytes([sum(body) & 0xFF, 0x16])
while True:
    try:
        chunk = conn.recv(4096)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
    while True:
        start = buf.find(b"\x68")
        if start < 0 or len(buf) < start + 12:
            break
        length = buf[start + 9]
        end = start + 12 + length
        if len(buf) < end:
            break
        f, buf = buf[start:end], buf[end:]
        if f[8] != 0x11 or sum(f[:-2]) & 0xFF != f[-2]:
            continue
        di = bytes((b - 0x33) & 0xFF for b in f[10:14])
        if di == bytes([0x00, 0x01, 0x01, 0x02]):
            # Phase A voltage, XXX.X V: 2 BCD bytes, low byte first.
            digits = "%04d" % int(round((220.0 + 6.0 * math.sin(n / 6.0)) * 10))
            n += 1
        elif di == bytes([0x00, 0x01, 0x02, 0x02]):
            # Phase A current, XXX.XXX A: 3 BCD bytes, low byte first.
            digits = "%06d" % int(round((5.0 + 2.0 * math.cos(n / 4.0)) * 1000))
        else:
            continue
        bcd = bytes(int(digits[i:i + 2], 16) for i in range(len(digits) - 2, -1, -2))
        conn.sendall(frame(0x91, di + bcd))
"#;

/// The master's reads of phase A current (DI 02 02 01 00, low byte first, +0x33; sum 0xB7)
/// and voltage (DI 02 01 01 00; sum 0xB6), in one send: the voltage's answer comes last.
const READS: &str = "68 01 00 00 00 00 00 68 11 04 33 34 35 35 B7 16 68 01 00 00 00 00 00 68 11 04 33 34 34 35 B6 16";

#[test]
fn a_dlt645_voltage_from_a_real_meter_is_plotted_live() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let look = std::env::var("SOCKSCOPE_PLOT_LOOK").unwrap_or_else(|_| "en-light-1024x640".into());
    let mut parts = look.split('-');
    let lang = parts.next().unwrap_or("en");
    let theme = parts.next().unwrap_or("light");
    let size = parts.next().unwrap_or("1024x640");
    let mut meter = Command::new("python3")
        .args(["-c", METER])
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut port = String::new();
    BufReader::new(meter.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port: u16 = port.trim().parse().unwrap();
    let dir = TempDir::new("plot-voltage");
    let (lang, theme) = (
        if lang == "zh" { "Some(Zh)" } else { "Some(En)" },
        if theme == "dark" { "Dark" } else { "Light" },
    );
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "{port}", protocol: "dlt645", rx_hex: true, tx_mode: Hex, send_text: "{READS}", cyclic_ms: 200, cyclic_on_open: true)))], active: 0, lang: {lang}, theme: {theme})"#
    );
    let display = Display::start_sized(size);
    let window = Window::open(&display, &dir, &workspace);
    // A few answers in, the newest row is a reply with its voltage.
    window.wait_value("log.newest", |n| n.parse::<u64>().is_ok_and(|n| n >= 6));
    let newest = window.value("log.newest").unwrap();
    let (x, y, _, h) = window.rect(&format!("log.row.{newest}"));
    window.click_at(x + 60.0, y + h / 2.0);
    window.wait_value("log.detail", |seq| seq == newest);
    let row = window.value("log.detail").unwrap();
    assert_eq!(row, newest);
    // The newest reply is the voltage's (a request, sent, has no value): from the newest down.
    let mut seq = newest.parse::<u64>().unwrap();
    while window.find("field.data.value").is_none() {
        seq -= 1;
        let (x, y, _, h) = window.rect(&format!("log.row.{seq}"));
        window.click_at(x + 60.0, y + h / 2.0);
        window.wait_value("log.detail", |s| s == seq.to_string());
    }
    // At 1024×640 the voltage is below the tree's fold: scrolled into view, as a user would.
    let (x, y, _, _) = window.rect("log.detail.hex");
    window.xdo(&[
        "mousemove",
        "--window",
        &window.wid,
        &(x - 120.0).round().to_string(),
        &(y + 60.0).round().to_string(),
    ]);
    for _ in 0..5 {
        window.xdo(&["click", "5"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    window.right_click("field.data.value");
    window.click("field.menu.plot");
    // Filled from the log, then fed live: the count grows and the values are the meter's.
    window.wait_value("plot.points", |n| n.parse::<u64>().is_ok_and(|n| n >= 3));
    let first = window.value("plot.points").unwrap().parse::<u64>().unwrap();
    window.wait_value("plot.points", |n| {
        n.parse::<u64>().is_ok_and(|n| n >= first + 10)
    });
    let last: f64 = window.value("plot.last").unwrap().parse().unwrap();
    assert!((213.9..=226.1).contains(&last), "voltage {last}");
    window.wait_value("plot.labels", |l| l == "Voltage [V]" || l == "电压 [V]");
    window.rect("plot.area.0");
    // The current from the Add field list: a second plot below, X linked.
    let current = sockscope_core::protocol::builtin("dlt645")
        .unwrap()
        .program
        .nodes
        .iter()
        .position(|n| n.en == "Current")
        .unwrap();
    window.click("plot.add");
    window.click(&format!("plot.add.{current}"));
    window.wait_value("plot.labels", |l| l.ends_with(" [A]"));
    let (_, top, _, _) = window.rect("plot.area.0");
    let (_, below, _, _) = window.rect("plot.area.1");
    assert!(below > top, "stacked");
    // Following live, both show the same X span (the current, added later, showed its own
    // few seconds under the voltage's minute).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (upper, lower) = (window.value("plot.x.0"), window.value("plot.x.1"));
        if upper.is_some() && upper == lower {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "stacked plots show different X spans: {upper:?} and {lower:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    shot(&display, "");
    // One plot with a legend.
    window.click("plot.stacked");
    gone(&window, "plot.area.1");
    shot(&display, "-legend");
    // The shortcut closes the window.
    window.key("ctrl+shift+p");
    gone(&window, "plot.area.0");
    drop(window);
    let _ = meter.kill();
    let _ = meter.wait();
}

/// Waits until the widget tagged `name` is no longer drawn.
fn gone(window: &Window, name: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while window.find(name).is_some() {
        assert!(std::time::Instant::now() < deadline, "'{name}' stayed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// With `SOCKSCOPE_PLOT_SHOT=FILE.png`, saves the screen as FILE`suffix`.png.
fn shot(display: &Display, suffix: &str) {
    if let Ok(shot) = std::env::var("SOCKSCOPE_PLOT_SHOT") {
        let shot = shot.replace(".png", &format!("{suffix}.png"));
        let status = Command::new("import")
            .args(["-window", "root", &shot])
            .env("DISPLAY", &display.name)
            .status()
            .expect("import runs");
        assert!(status.success());
    }
}
