//! The Compose window in the real window: a Modbus RTU request made from its fields (slave 1,
//! read one coil) is sent to a Python peer on loopback, which receives exactly the bytes the
//! window previewed, CRC computed.

use std::io::Read as _;
use std::process::{Command, Stdio};

use super::{Display, TempDir, Window, can_run};

#[test]
fn a_frame_composed_from_fields_reaches_a_python_peer_byte_for_byte() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("compose");
    let port = super::free_port();
    // The peer: prints in hex what one connection sent, once it ends.
    let mut peer = Command::new("python3")
        .args([
            "-c",
            "import socket,sys\n\
             s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(1); print('ready', flush=True)\n\
             s.settimeout(30); c,_=s.accept(); c.settimeout(30); got=b''\n\
             while True:\n    b=c.recv(4096)\n    if not b: break\n    got+=b\n\
             print(got.hex(' ').upper(), flush=True)",
            &port.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = peer.stdout.take().unwrap();
    let mut ready = [0u8; 6];
    stdout.read_exact(&mut ready).unwrap();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "{port}", protocol: "modbus-rtu")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("Connected"));
    window.click_until("send.compose", "compose.field.slave");
    window.click("compose.field.slave");
    window.key("ctrl+a");
    window.type_text("1");
    window.click("compose.field.data.quantity");
    window.key("ctrl+a");
    window.type_text("0x1");
    // Read coils, slave 1, one coil from 0: CRC FD CA.
    let want = "01 01 00 00 00 01 FD CA";
    window.wait_value("compose.bytes", |b| b == want);
    window.click("compose.send");
    window.quit();
    let mut got = String::new();
    stdout.read_to_string(&mut got).unwrap();
    let _ = peer.wait();
    assert_eq!(got.trim(), want, "what the peer received");
}

/// HJ 212 in the real window: the header keys and the CP pairs typed into their fields; a
/// Python monitor written from the standard (its own CRC-16: `crc = (crc >> 8) ^ b`, then 8 ×
/// 0xA001, over the data segment) receives part 1's vector byte for byte and finds its length
/// and CRC right.
#[test]
fn an_hj212_packet_typed_key_by_key_reaches_a_python_monitor_with_its_crc() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("compose-hj212");
    let port = super::free_port();
    let mut peer = Command::new("python3")
        .args([
            "-c",
            "import socket,sys\n\
             def crc(data):\n    c=0xFFFF\n    for b in data:\n        c=(c>>8)^b\n        for _ in range(8):\n            c=(c>>1)^0xA001 if c&1 else c>>1\n    return c\n\
             s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
             s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(1); print('ready', flush=True)\n\
             s.settimeout(30); c,_=s.accept(); c.settimeout(30); got=b''\n\
             while not got.endswith(b'\\r\\n'):\n    b=c.recv(4096)\n    if not b: break\n    got+=b\n\
             n=int(got[2:6]); seg=got[6:6+n]\n\
             ok=got[:2]==b'##' and len(got)==n+12 and int(got[6+n:10+n],16)==crc(seg)\n\
             print(('crc-ok ' if ok else 'crc-BAD ')+got.decode(), flush=True)",
            &port.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = peer.stdout.take().unwrap();
    let mut ready = [0u8; 6];
    stdout.read_exact(&mut ready).unwrap();
    let workspace = format!(
        r#"(tabs: [(path: None, profile: (version: 3, auto_connect: true, session: (mode: TcpClient, remote_ip: "127.0.0.1", remote_port: "{port}", protocol: "hj212")))], active: 0)"#
    );
    let display = Display::start_sized("1024x640");
    let window = Window::open(&display, &dir, &workspace);
    window.wait_value("status.state", |s| s.starts_with("Connected"));
    window.click_until("send.compose", "compose.field.data.QN");
    for (key, text) in [
        ("QN", "20210118201054000"),
        ("ST", "32"),
        ("CN", "3032"),
        ("PW", "123456"),
        ("MN", "20210107123456"),
        ("Flag", "5"),
        ("CP", "PolId=a34004,MB_BgnAddr=192,MB_Wrt=5"),
    ] {
        window.click(&format!("compose.field.data.{key}"));
        window.type_text(text);
    }
    let want = "##0113QN=20210118201054000;ST=32;CN=3032;PW=123456;MN=20210107123456;Flag=5;CP=&&PolId=a34004,MB_BgnAddr=192,MB_Wrt=5&&0F00\r\n";
    let hex: Vec<String> = want.bytes().map(|b| format!("{b:02X}")).collect();
    window.wait_value("compose.bytes", |b| b == hex.join(" "));
    // `SOCKSCOPE_COMPOSE_SHOT=FILE.png` keeps a picture of the screen (to look at the form).
    if let Ok(shot) = std::env::var("SOCKSCOPE_COMPOSE_SHOT") {
        let status = Command::new("import")
            .args(["-window", "root", &shot])
            .env("DISPLAY", &display.name)
            .status()
            .expect("import runs");
        assert!(status.success());
    }
    window.click("compose.send");
    window.quit();
    let mut got = String::new();
    stdout.read_to_string(&mut got).unwrap();
    let _ = peer.wait();
    assert_eq!(got.trim_end(), format!("crc-ok {}", want.trim_end()));
}
