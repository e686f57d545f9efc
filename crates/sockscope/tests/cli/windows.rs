//! The Windows program under Wine: `scripts/windows` cross-builds `sockscope.exe` and
//! `sockscope-cli.exe`, puts them in `SOCKSCOPE_WINDOWS_DIR` and runs these (ignored in a plain
//! `cargo test`, which has no Windows build). The peers are Linux programs on loopback: this
//! test's own sockets, OpenSSL, socat.
//!
//! Wine is not Windows. It runs the program on Linux's sockets, clocks and pipes, so it shows
//! what the program does with the Windows API (mio's IOCP readiness, console and file handles,
//! the registry, a PE that loads) but not Windows' own timer tick, firewall or console
//! window; those are said beside the tests that would need them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::pipe::wait_for;
use super::{free_port, spawn, tcp_peer};

/// Where `scripts/windows` put the programs under test.
fn dir() -> PathBuf {
    std::env::var_os("SOCKSCOPE_WINDOWS_DIR")
        .map(PathBuf::from)
        .expect(
            "SOCKSCOPE_WINDOWS_DIR names the folder of the .exe files (scripts/windows sets it)",
        )
}

/// `exe` (in [`dir`]) under Wine, in English with UTF-8 as the Unix side's code page.
fn wine(exe: &str) -> Command {
    let mut command = Command::new("wine");
    // Wine turns the Unix arguments into Windows' UTF-16 through the locale's code page: in
    // the C locale 读 and 你好 arrived mangled. Windows itself hands the program UTF-16 as
    // typed, which UTF-8 here stands for.
    command
        .arg(dir().join(exe))
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .stdin(Stdio::null());
    command
}

/// The console program with `args`; what it printed and returned. Ended after a minute (a
/// hang is a failure here, not a stalled run).
fn cli(args: &[&str]) -> Output {
    let mut child = wine("sockscope-cli.exe")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let stdout = spawn(move || {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes);
        bytes
    });
    let stderr = spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });
    let code = wait_for(&mut child, Duration::from_mins(1));
    assert!(
        code.is_some(),
        "sockscope-cli.exe {args:?} did not end within a minute"
    );
    Output {
        status: child.wait().unwrap(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The subsystem a PE executable asks Windows for: 2 a window program, 3 a console program.
fn subsystem(exe: &str) -> u16 {
    let bytes = std::fs::read(dir().join(exe)).unwrap();
    let at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let pe = at(0x3C);
    assert_eq!(&bytes[pe..pe + 4], b"PE\0\0", "{exe} is a PE file");
    // The optional header follows the 20-byte file header; Subsystem is at 68 in it (PE32+).
    let optional = pe + 4 + 20;
    assert_eq!(
        u16::from_le_bytes([bytes[optional], bytes[optional + 1]]),
        0x20B,
        "64-bit"
    );
    u16::from_le_bytes([bytes[optional + 68], bytes[optional + 69]])
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_window_program_is_a_gui_program_and_the_cli_a_console_program() {
    // A window program from cmd: the prompt comes back at once and %ERRORLEVEL% never sees
    // its code. Wine waits for either kind, so the header is what shows the difference here.
    assert_eq!(subsystem("sockscope.exe"), 2, "IMAGE_SUBSYSTEM_WINDOWS_GUI");
    assert_eq!(
        subsystem("sockscope-cli.exe"),
        3,
        "IMAGE_SUBSYSTEM_WINDOWS_CUI"
    );
    let out = cli(&["--version"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_console_program_gives_the_exit_codes_the_linux_one_gives() {
    let ok = tcp_peer(|_| b"OK\r\n".to_vec());
    let out = cli(&[
        "connect",
        &ok.to_string(),
        "--send",
        "AT\\r\\n",
        "--expect",
        "OK",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("[4 B] OK\\r\\n"),
        "{}",
        text(&out.stdout)
    );
    let wrong = tcp_peer(|_| b"ERROR\r\n".to_vec());
    let out = cli(&[
        "connect",
        &wrong.to_string(),
        "--send",
        "AT",
        "--expect",
        "OK",
        "--timeout",
        "1s",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let refused = format!("127.0.0.1:{}", free_port());
    let out = cli(&["connect", &refused, "--send", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
    let out = cli(&["connect", "300.1.1.1:70000"]);
    assert_eq!(out.status.code(), Some(2));
    let out = cli(&["lsiten", "9000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("listen"),
        "{}",
        text(&out.stderr)
    );
}

/// A datagram sent to a closed port: the exit code is the same every time (it was 2 or 0 by
/// which came first, the end of the send or the "port unreachable" it drew), and a 2 says why.
#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn udp_to_a_closed_port_ends_the_same_way_every_time() {
    let to = {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    let codes: Vec<Option<i32>> = (0..5)
        .map(|_| {
            let out = cli(&["udp", "--to", &to.to_string(), "--send", "x"]);
            if out.status.code() == Some(2) {
                assert!(
                    text(&out.stderr).contains("unreachable"),
                    "{}",
                    text(&out.stderr)
                );
            }
            out.status.code()
        })
        .collect();
    assert!(codes.windows(2).all(|w| w[0] == w[1]), "{codes:?}");
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn json_lines_fit_the_schema_and_gbk_reads_in_chinese() {
    let addr = tcp_peer(|_| b"OK\xff".to_vec());
    let out = cli(&["connect", &addr.to_string(), "--send", "AT", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ran = super::Ran {
        code: 0,
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    };
    let lines = super::json::records(&ran);
    for event in ["connecting", "connected", "sent", "received"] {
        assert!(
            lines.iter().any(|v| v["event"] == event),
            "{event}: {}",
            ran.stdout
        );
    }
    // A GBK device, read in Chinese: 你好 is C4 E3 BA C3 in GBK.
    let gbk = tcp_peer(|_| vec![0xC4, 0xE3, 0xBA, 0xC3, b'\r', b'\n']);
    let out = cli(&[
        "--lang",
        "zh",
        "connect",
        &gbk.to_string(),
        "--encoding",
        "gbk",
        "--send",
        "hi",
        "--expect",
        "你好",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("你好\\r\\n"), "{shown}");
    assert!(shown.contains("已连接"), "the events in Chinese: {shown}");
}

/// Waits until something listens on `port` (TCP).
fn wait_port(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the program ended before it listened"
        );
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn listen_echoes_a_linux_client_and_udp_echoes_datagrams() {
    let port = free_port();
    let mut server = wine("sockscope-cli.exe")
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--echo",
            "--duration",
            "20s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port, &mut server);
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client.write_all(b"ping over IOCP").unwrap();
    let mut got = [0u8; 14];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"ping over IOCP");
    let _ = server.kill();
    let _ = server.wait();

    // UDP: the program echoes each datagram to its sender.
    let udp_port = {
        let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let mut echo = wine("sockscope-cli.exe")
        .args([
            "udp",
            "--bind",
            &format!("127.0.0.1:{udp_port}"),
            "--echo",
            "--duration",
            "20s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 64];
    let answered = loop {
        peer.send_to(b"sensor 1", ("127.0.0.1", udp_port)).unwrap();
        if let Ok(n) = peer.recv(&mut buf) {
            break buf[..n].to_vec();
        }
        assert!(Instant::now() < deadline, "no echo");
    };
    assert_eq!(answered, b"sensor 1");
    let _ = echo.kill();
    let _ = echo.wait();
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_first_listen_on_all_interfaces_says_what_the_firewall_question_means() {
    // Windows Defender Firewall asks at the first listen on an address other machines reach;
    // Wine has no firewall, so what is checked is the sentence, said once and not for
    // loopback. That the real question appears needs a real Windows.
    let listen = |bind: String| {
        let out = cli(&["listen", &bind, "--duration", "300ms"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    let all = listen(format!("0.0.0.0:{}", free_port()));
    assert!(all.contains("Firewall"), "{all}");
    assert!(all.contains("127.0.0.1"), "{all}");
    let local = listen(format!("127.0.0.1:{}", free_port()));
    assert!(!local.contains("Firewall"), "{local}");
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_load_generator_reads_every_echo_over_tcp() {
    // Before: mio on Windows arms a socket for its next event only after a read said
    // WouldBlock, and the generator skipped that read after a short one: 12 sent, 6 received,
    // 5 timed out in echo mode (Linux: every one).
    let addr = testkit::echo_server();
    let out = cli(&[
        "bench",
        &format!("tcp://{addr}"),
        "--mode",
        "echo",
        "-c",
        "4",
        "--count",
        "2000",
        "--send",
        "hello",
        "--timeout",
        "2s",
        "--json",
        "--max-errors",
        "0",
    ]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report} {}", text(&out.stderr));
    assert!(
        report.contains("\"sent\":2000,\"received\":2000,\"failed\":{}"),
        "{report}"
    );
    // Ping-pong, one connection, for a second: every request answered.
    let out = cli(&[
        "bench",
        &format!("tcp://{addr}"),
        "--mode",
        "ping-pong",
        "--duration",
        "1s",
        "--send",
        "ping",
        "--json",
        "--max-errors",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn pipe_to_a_file_or_a_program_is_raw_bytes() {
    // Redirected stdout is a file or a pipe: every byte goes as it is, binary included (on a
    // console it would be shown escaped; Wine's stdout here is a pipe, never a console).
    let addr = testkit::echo_server();
    let data: Vec<u8> = super::pipe::data(3 << 20);
    let mut child = wine("sockscope-cli.exe")
        .args(["connect", &addr.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = data.clone();
    let writer = spawn(move || stdin.write_all(&input));
    let mut stdout = child.stdout.take().unwrap();
    let reader = spawn(move || {
        let mut got = Vec::new();
        stdout.read_to_end(&mut got).unwrap();
        got
    });
    assert_eq!(wait_for(&mut child, Duration::from_mins(1)), Some(0));
    writer.join().unwrap().unwrap();
    let got = reader.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the bytes came back changed");
}

/// A self-signed leaf certificate (CA:FALSE, as the Linux TLS tests make it: a CA file cannot
/// vouch for a CA:TRUE server certificate) for 127.0.0.1 made by OpenSSL, in `dir`.
fn certificate(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success(), "openssl req");
    (cert, key)
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn tls_against_openssl_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());

    // connect --tls to s_server, verified with the CA file.
    let port = free_port();
    let mut server = Command::new("openssl")
        .args(["s_server", "-accept", &port.to_string(), "-rev", "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port, &mut server);
    let out = cli(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--tls",
        "--ca",
        cert.to_str().unwrap(),
        "--send",
        "hello\\n",
        "--expect",
        "olleh",
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // s_client to listen --tls: the echo comes back through TLS.
    let port = free_port();
    let mut listener = wine("sockscope-cli.exe")
        .args([
            "listen",
            &format!("127.0.0.1:{port}"),
            "--tls",
            "--echo",
            "--duration",
            "30s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_port(port, &mut listener);
    let mut client = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-quiet",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    client
        .stdin
        .as_mut()
        .unwrap()
        .write_all(b"over TLS\n")
        .unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(client.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    let _ = client.kill();
    let _ = client.wait();
    let _ = listener.kill();
    let _ = listener.wait();
    assert_eq!(line, "over TLS\n");
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn a_gbk_profile_with_a_bom_or_from_notepad_runs() {
    // Notepad on a Chinese Windows saves "ANSI" as GBK; newer Notepads save UTF-8 with a BOM.
    let dir = tempfile::tempdir().unwrap();
    let addr = tcp_peer(|_| b"OK\r\n".to_vec());
    let profile = format!(
        "(version: 2, name: \"读卡器\", session: (mode: TcpClient, remote_ip: \"127.0.0.1\", \
         remote_port: \"{}\", quick: [(name: \"读\", text: \"AT\")]))\n",
        addr.port()
    );
    let gbk = sockscope::codec::TextEncoding::GBK
        .encode(&profile)
        .unwrap();
    let bom = [b"\xEF\xBB\xBF".as_slice(), profile.as_bytes()].concat();
    for (name, bytes) in [("gbk.ron", gbk), ("bom.ron", bom)] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = cli(&[
            "run",
            path.to_str().unwrap(),
            "--quick",
            "读",
            "--duration",
            "2s",
        ]);
        let (shown, said) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{name}: {shown}{said}");
        assert!(shown.contains("[4 B] OK\\r\\n"), "{name}: {shown}");
        assert_eq!(said.contains("GBK"), name == "gbk.ron", "{name}: {said}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `reg query` in the Wine prefix: what it printed, or None when the key or value is absent.
fn reg_query(key: &str, value: Option<&str>) -> Option<String> {
    let mut command = Command::new("wine");
    command.args(["reg", "query", key]);
    if let Some(value) = value {
        command.args(["/v", value]);
    }
    let out = command
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    out.status.success().then(|| text(&out.stdout))
}

/// The two installer tests change the same prefix's registry (and would install into it if
/// the refusal failed): one at a time.
static INSTALLER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The installer under test.
fn setup() -> PathBuf {
    PathBuf::from(
        std::env::var_os("SOCKSCOPE_WINDOWS_SETUP")
            .expect("SOCKSCOPE_WINDOWS_SETUP names the installer (scripts/windows sets it)"),
    )
}

/// `wine program args…` (Wine's own tools or an installer): its exit code, bounded to two
/// minutes; its stdout and stderr go nowhere.
fn wine_run(program: &Path, args: &[&str]) -> Option<i32> {
    let mut child = Command::new("wine")
        .arg(program)
        .args(args)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, Duration::from_mins(2))
}

/// The user's folder in the Wine prefix (drive_c/users/NAME).
fn wine_user() -> PathBuf {
    let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect("WINEPREFIX is set"));
    let users = prefix.join("drive_c/users");
    let user = std::fs::read_dir(&users)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .find(|n| n != "Public")
        .expect("a user in the prefix");
    users.join(user)
}

/// The user's PATH (HKCU\Environment), as `reg query` shows it, or empty.
fn user_path() -> String {
    reg_query(r"HKCU\Environment", Some("Path"))
        .and_then(|shown| {
            shown
                .lines()
                .find_map(|l| l.split_once("REG_EXPAND_SZ").or(l.split_once("REG_SZ")))
                .map(|(_, value)| value.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Runs an uninstaller as Settings → Apps does and waits for its work: it copies itself away
/// and returns at once, so what is waited for is `folder` gone.
fn uninstall(folder: &Path) {
    assert_eq!(wine_run(&folder.join("uninstall.exe"), &["/S"]), Some(0));
    let deadline = Instant::now() + Duration::from_mins(1);
    while folder.exists() {
        assert!(
            Instant::now() < deadline,
            "the uninstaller left {} behind",
            folder.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The installed copy in `folder` deleted by hand (uninstaller and all), then installed into a
/// third folder: the PATH entry of the deleted copy goes too (it stayed, ahead of the new
/// one). The third folder.
fn installed_again_after_a_copy_was_deleted_by_hand(folder: &Path, path_before: &str) -> PathBuf {
    std::fs::remove_dir_all(folder).unwrap();
    let third_windows = r"C:\Third Place\SockScope";
    let third = on_drive_c(third_windows);
    let _ = std::fs::remove_dir_all(third.parent().unwrap());
    let to_third = format!("/D={third_windows}");
    assert_eq!(wine_run(&setup(), &["/S", &to_third]), Some(0));
    assert!(third.join("sockscope-cli.exe").is_file());
    assert_eq!(
        user_path(),
        format!("{path_before};{third_windows}"),
        "PATH: the deleted copy's entry gone"
    );
    let uninstall_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SockScope";
    let location = reg_query(uninstall_key, Some("InstallLocation")).unwrap_or_default();
    assert!(location.contains(third_windows), "{location}");
    third
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_installer_installs_for_the_user_alone_and_the_uninstaller_removes_it_all() {
    let _one = INSTALLER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Wine answers the installer's Windows 10 check as the prefix says (scripts/windows sets
    // it to Windows 10); the refusal of an older one is the next test's.
    let setup = setup();
    let appdata = wine_user().join("AppData");
    let installed = appdata.join("Local/Programs/SockScope");
    let start_menu = appdata.join("Roaming/Microsoft/Windows/Start Menu/Programs/SockScope.lnk");
    let ron = r"HKCU\Software\Classes\.ron";
    let progid = r"HKCU\Software\Classes\SockScope.Profile\shell\open\command";
    let uninstall_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SockScope";
    // The user's own PATH entries stay as they were, whatever the installs do (set here, so
    // that a copy an interrupted run left on PATH cannot hide one this run leaves).
    let path_before = r"C:\Tools;%USERPROFILE%\bin";
    let reg = Path::new("reg");
    let environment = r"HKCU\Environment";
    let set_path = ["add", environment, "/v", "Path", "/t", "REG_EXPAND_SZ"];
    assert_eq!(
        wine_run(reg, &[&set_path[..], &["/d", path_before, "/f"]].concat()),
        Some(0)
    );

    // Silent, per user (no admin rights asked: it writes only under the user's profile).
    assert_eq!(wine_run(&setup, &["/S"]), Some(0));
    for file in [
        "sockscope.exe",
        "sockscope-cli.exe",
        "uninstall.exe",
        "README.md",
    ] {
        assert!(installed.join(file).is_file(), "{file} installed");
    }
    // The installed console program runs (the shim stands in for Windows' DLL).
    std::fs::copy(
        dir().join("bcryptprimitives.dll"),
        installed.join("bcryptprimitives.dll"),
    )
    .unwrap();
    let out = Command::new("wine")
        .arg(installed.join("sockscope-cli.exe"))
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(text(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    std::fs::remove_file(installed.join("bcryptprimitives.dll")).unwrap();
    // .ron opens in SockScope; Settings → Apps lists it with its uninstaller.
    let association = reg_query(ron, None).unwrap_or_default();
    assert!(association.contains("SockScope.Profile"), "{association}");
    let command = reg_query(progid, None).unwrap_or_default();
    assert!(
        command.contains("sockscope.exe\" \"%1\""),
        "double-click opens the profile: {command}"
    );
    let entry = reg_query(uninstall_key, Some("QuietUninstallString")).unwrap_or_default();
    assert!(entry.contains("uninstall.exe\" /S"), "{entry}");
    assert!(start_menu.is_file(), "{}", start_menu.display());
    // sockscope-cli from any console: the folder is on the user's PATH, after the user's own.
    let path = user_path();
    assert!(path.starts_with(&format!("{path_before};")), "{path}");
    assert!(path.ends_with(r"\Programs\SockScope"), "{path}");

    // Installed again into another folder (with spaces, quoted as PowerShell and Wine quote
    // an argument with a space in it): the first copy goes, with its PATH entry; one Apps
    // entry, for the new folder. (Before: two copies, both on PATH, the old one first.)
    let elsewhere_windows = r"C:\My Tools\Sock Scope";
    let elsewhere = on_drive_c(elsewhere_windows);
    let _ = std::fs::remove_dir_all(elsewhere.parent().unwrap());
    let moved = format!("/D={elsewhere_windows}");
    assert_eq!(wine_run(&setup, &["/S", &moved]), Some(0));
    for file in ["sockscope.exe", "sockscope-cli.exe", "uninstall.exe"] {
        assert!(elsewhere.join(file).is_file(), "{file} installed again");
    }
    assert!(
        !installed.exists(),
        "the first copy is still in {}",
        installed.display()
    );
    let path = user_path();
    assert_eq!(
        path,
        format!("{path_before};{elsewhere_windows}"),
        "PATH: the new folder alone, once"
    );
    let location = reg_query(uninstall_key, Some("InstallLocation")).unwrap_or_default();
    assert!(location.contains(elsewhere_windows), "{location}");
    let entry = reg_query(uninstall_key, Some("QuietUninstallString")).unwrap_or_default();
    assert!(
        entry.contains(&format!("\"{elsewhere_windows}\\uninstall.exe\" /S")),
        "{entry}"
    );
    let command = reg_query(progid, None).unwrap_or_default();
    assert!(command.contains(elsewhere_windows), "{command}");
    assert!(start_menu.is_file(), "{}", start_menu.display());

    let third = installed_again_after_a_copy_was_deleted_by_hand(&elsewhere, path_before);
    uninstall(&third);
    assert!(!start_menu.exists(), "{}", start_menu.display());
    assert_eq!(reg_query(progid, None), None, "the profile type is gone");
    assert_eq!(
        reg_query(uninstall_key, None),
        None,
        "the Apps entry is gone"
    );
    let association = reg_query(ron, None).unwrap_or_default();
    assert!(!association.contains("SockScope"), "{association}");
    assert_eq!(user_path(), path_before, "PATH as it was");
    assert!(!installed.exists());
    let _ = std::fs::remove_dir_all(elsewhere.parent().unwrap());
    let _ = std::fs::remove_dir_all(third.parent().unwrap());
    let _ = wine_run(reg, &["delete", environment, "/v", "Path", "/f"]);
}

/// Where a `C:\…` path of the Wine prefix is on this machine.
fn on_drive_c(windows: &str) -> PathBuf {
    let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect("WINEPREFIX is set"));
    let rest = windows
        .strip_prefix(r"C:\")
        .or(windows.strip_prefix(r"c:\"))
        .expect("a path on C:");
    prefix.join("drive_c").join(rest.replace('\\', "/"))
}

/// An AppDefaults key of Wine's, deleted again when dropped (also when an assertion failed).
struct WineKey(&'static str);

impl Drop for WineKey {
    fn drop(&mut self) {
        let _ = wine_run(Path::new("reg"), &["delete", self.0, "/f"]);
    }
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_installer_refuses_windows_7_with_a_sentence_and_exit_code_1150_under_s() {
    let _one = INSTALLER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Wine pretends to be Windows 7 for one program named in AppDefaults: a copy of the
    // installer under a name of its own, so the prefix stays Windows 10 for the rest.
    let copy = tempfile::tempdir().unwrap();
    let old = copy.path().join("setup-on-windows-7.exe");
    std::fs::copy(setup(), &old).unwrap();
    let key = r"HKCU\Software\Wine\AppDefaults\setup-on-windows-7.exe";
    let reg = Path::new("reg");
    assert_eq!(
        wine_run(reg, &["add", key, "/v", "Version", "/d", "win7", "/f"]),
        Some(0)
    );
    let _windows_7 = WineKey(key);
    let temp = {
        let out = Command::new("wine")
            .args(["cmd", "/c", "echo", "%TEMP%"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        on_drive_c(text(&out.stdout).trim())
    };
    let log = temp.join("sockscope-setup.log");
    let _ = std::fs::remove_file(&log);
    let target = r"C:\SockScope on Windows 7";
    let folder = on_drive_c(target);
    let to = format!("/D={target}");

    // Silent: no window to say it in. Before: exit code 2 and not a word anywhere.
    let mut child = Command::new("wine")
        .arg(&old)
        .args(["/S", &to])
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let said = spawn(move || {
        let mut bytes = Vec::new();
        let _ = err.read_to_end(&mut bytes);
        bytes
    });
    let code = wait_for(&mut child, Duration::from_mins(2));
    let said = text(&said.join().unwrap());
    // Wine hands a Unix parent the low 8 bits of a Windows exit code: 1150 arrives as 126.
    assert_eq!(code, Some(1150 % 256), "{said}");
    assert!(
        said.contains("SockScope needs Windows 10 or later."),
        "{said:?}"
    );
    // The whole code, as cmd (and a deployment tool) sees it.
    let batch = copy.path().join("deploy.bat");
    std::fs::write(
        &batch,
        "@start \"\" /wait setup-on-windows-7.exe /S\r\n@echo exit code %ERRORLEVEL%\r\n",
    )
    .unwrap();
    let out = Command::new("wine")
        .args(["cmd", "/c"])
        .arg(&batch)
        .current_dir(copy.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("exit code 1150"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The log a deployer finds in the user's TEMP, once a refusal.
    let logged = std::fs::read(&log).unwrap_or_default();
    let logged = String::from_utf16_lossy(
        &logged
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        logged
            .matches("SockScope needs Windows 10 or later.")
            .count(),
        2,
        "{logged:?}"
    );
    assert!(logged.contains("exit code 1150"), "{logged:?}");
    // And nothing was installed.
    assert!(!folder.exists(), "{}", folder.display());
    let _ = std::fs::remove_file(&log);
}

/// `%TEMP%` of the Wine prefix, on this machine.
fn wine_temp() -> PathBuf {
    let out = Command::new("wine")
        .args(["cmd", "/c", "echo", "%TEMP%"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    on_drive_c(text(&out.stdout).trim())
}

/// `%TEMP%\sockscope-setup.log` (UTF-16), or empty.
fn setup_log() -> String {
    let logged = std::fs::read(wine_temp().join("sockscope-setup.log")).unwrap_or_default();
    String::from_utf16_lossy(
        &logged
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
}

/// A user PATH of `len` characters: entries as a developer's machine has them, one with a
/// variable in it, cut to the length.
fn long_path(len: usize) -> String {
    let mut path = String::from(r"%USERPROFILE%\.cargo\bin");
    let mut n = 0;
    while path.len() < len {
        path.push(';');
        path.push_str(r"C:\Program Files\Vendor Tool ");
        path.push_str(&n.to_string());
        path.push_str(r"\bin");
        n += 1;
    }
    path.truncate(len);
    // No entry ends in a separator or a space (reg would keep it, but it reads as a typo).
    while path.ends_with([';', ' ', '\\']) {
        path.pop();
        path.push('x');
    }
    path
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn a_user_path_too_long_for_the_installer_is_kept_byte_for_byte_through_install_and_uninstall() {
    let _one = INSTALLER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let setup = setup();
    let installed = wine_user().join("AppData/Local/Programs/SockScope");
    let reg = Path::new("reg");
    let environment = r"HKCU\Environment";
    let set_path = |value: &str| {
        assert_eq!(
            wine_run(
                reg,
                &[
                    "add",
                    environment,
                    "/v",
                    "Path",
                    "/t",
                    "REG_EXPAND_SZ",
                    "/d",
                    value,
                    "/f"
                ]
            ),
            Some(0)
        );
        assert_eq!(user_path(), value, "reg add set the PATH");
    };
    let _ = std::fs::remove_file(wine_temp().join("sockscope-setup.log"));
    // 999 characters: read whole, but it and the folder do not fit in NSIS's 1024 (before:
    // cut at 1023, the folder's entry with it). 3000: the read fails (before: PATH became the
    // folder alone, and the uninstaller deleted the value).
    for len in [999, 3000] {
        let before = long_path(len);
        assert_eq!(before.len(), len);
        set_path(&before);
        assert_eq!(wine_run(&setup, &["/S"]), Some(0), "PATH of {len}");
        assert!(installed.join("sockscope-cli.exe").is_file());
        assert_eq!(user_path(), before, "PATH of {len} after install");
        uninstall(&installed);
        assert_eq!(user_path(), before, "PATH of {len} after uninstall");
    }
    let logged = setup_log();
    assert_eq!(
        logged
            .matches("Your PATH is too long for Setup to change safely")
            .count(),
        2,
        "{logged:?}"
    );
    // The line says when: 2026-12-07 21:30:05 SockScope 0.1.0: …
    let line = logged
        .lines()
        .find(|l| l.contains("too long"))
        .unwrap_or_default()
        .trim_start_matches('\u{feff}');
    let stamp: Vec<char> = line.chars().take(20).collect();
    assert!(
        stamp.len() == 20
            && stamp[4] == '-'
            && stamp[7] == '-'
            && stamp[13] == ':'
            && stamp[16] == ':'
            && stamp[..4].iter().all(char::is_ascii_digit),
        "{line:?}"
    );

    // Installed while PATH was short (the folder added), then PATH grew past what NSIS holds:
    // the uninstaller leaves it alone (before: it deleted the value) and says so.
    set_path(r"C:\Tools");
    assert_eq!(wine_run(&setup, &["/S"]), Some(0));
    let ours = user_path();
    assert!(ours.ends_with(r"\Programs\SockScope"), "{ours}");
    let grown = format!("{};{ours}", long_path(3000));
    set_path(&grown);
    uninstall(&installed);
    assert_eq!(user_path(), grown, "a long PATH after uninstall");
    assert!(
        setup_log().contains("too long for the uninstaller to change safely"),
        "{:?}",
        setup_log()
    );
    let _ = wine_run(reg, &["delete", environment, "/v", "Path", "/f"]);
    let _ = std::fs::remove_file(wine_temp().join("sockscope-setup.log"));
}

/// The installed `sockscope.exe` running (headless, listening: the same .exe file held open
/// by Windows as when its window is up); killed when dropped.
struct Running(Child);

impl Running {
    fn start(folder: &Path) -> Self {
        let port = free_port();
        let mut child = Command::new("wine")
            .arg(folder.join("sockscope.exe"))
            .args(["listen", &format!("127.0.0.1:{port}"), "--duration", "120s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_port(port, &mut child);
        Self(child)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Appends a marker to the installed programs: an install that replaces them takes it away.
fn mark(folder: &Path) {
    for exe in ["sockscope.exe", "sockscope-cli.exe"] {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(folder.join(exe))
            .unwrap();
        file.write_all(b"MARKED-BY-THE-TEST").unwrap();
    }
}

fn marked(folder: &Path, exe: &str) -> bool {
    std::fs::read(folder.join(exe))
        .unwrap_or_default()
        .ends_with(b"MARKED-BY-THE-TEST")
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn while_sockscope_runs_setup_and_uninstall_under_s_change_nothing_and_exit_32() {
    let _one = INSTALLER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let setup = setup();
    let installed = wine_user().join("AppData/Local/Programs/SockScope");
    let uninstall_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SockScope";
    let _ = std::fs::remove_file(wine_temp().join("sockscope-setup.log"));
    assert_eq!(wine_run(&setup, &["/S"]), Some(0));
    // The programs run here (the shim stands in for Windows' DLL); both marked.
    std::fs::copy(
        dir().join("bcryptprimitives.dll"),
        installed.join("bcryptprimitives.dll"),
    )
    .unwrap();
    mark(&installed);
    let running = Running::start(&installed);

    // An update in place: before, exit 0 with sockscope-cli.exe replaced and the running
    // sockscope.exe left old. Now exit 32 (ERROR_SHARING_VIOLATION) and nothing changed.
    assert_eq!(wine_run(&setup, &["/S"]), Some(32), "update while running");
    assert!(
        marked(&installed, "sockscope.exe"),
        "sockscope.exe untouched"
    );
    assert!(
        marked(&installed, "sockscope-cli.exe"),
        "sockscope-cli.exe untouched"
    );
    // A move: before, exit 0 and the old 51 MB sockscope.exe left behind with no Apps entry.
    let moved_windows = r"C:\Moved While Running\SockScope";
    let moved = on_drive_c(moved_windows);
    let _ = std::fs::remove_dir_all(moved.parent().unwrap());
    let to = format!("/D={moved_windows}");
    assert_eq!(
        wine_run(&setup, &["/S", &to]),
        Some(32),
        "move while running"
    );
    assert!(!moved.exists(), "nothing installed in {}", moved.display());
    assert!(installed.join("uninstall.exe").is_file());
    let location = reg_query(uninstall_key, Some("InstallLocation")).unwrap_or_default();
    assert!(location.contains(r"\Programs\SockScope"), "{location}");
    // Uninstall, in place so that its exit code is the result: before, "completed" with
    // sockscope.exe left and nothing to uninstall it. Now exit 32 and everything stays.
    let in_place = format!("_?={}", windows_path(&installed));
    assert_eq!(
        wine_run(&installed.join("uninstall.exe"), &["/S", &in_place]),
        Some(32),
        "uninstall while running"
    );
    for file in ["sockscope.exe", "sockscope-cli.exe", "uninstall.exe"] {
        assert!(installed.join(file).is_file(), "{file} kept");
    }
    assert!(
        reg_query(uninstall_key, None).is_some(),
        "the Apps entry kept"
    );
    let logged = setup_log();
    assert_eq!(
        logged.matches("SockScope is running (").count(),
        3,
        "{logged:?}"
    );
    assert!(
        logged.contains(r"\sockscope.exe), so nothing was changed"),
        "{logged:?}"
    );

    // Closed: the update goes through and replaces both, and says so in one dated line.
    drop(running);
    let lines_before = setup_log().lines().count();
    assert_eq!(wine_run(&setup, &["/S"]), Some(0), "update once closed");
    assert!(!marked(&installed, "sockscope.exe"));
    assert!(!marked(&installed, "sockscope-cli.exe"));
    let logged = setup_log();
    assert_eq!(logged.lines().count(), lines_before + 1, "{logged:?}");
    let last = logged.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(&format!(
            "SockScope {}: updated in {}",
            env!("CARGO_PKG_VERSION"),
            windows_path(&installed)
        )),
        "{last:?}"
    );
    std::fs::remove_file(installed.join("bcryptprimitives.dll")).unwrap();
    uninstall(&installed);
    let _ = std::fs::remove_file(wine_temp().join("sockscope-setup.log"));
}

/// The Windows path of a folder in the Wine prefix's drive C.
fn windows_path(folder: &Path) -> String {
    let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect("WINEPREFIX is set"));
    let rest = folder
        .strip_prefix(prefix.join("drive_c"))
        .expect("a folder on drive C");
    format!(r"C:\{}", rest.display().to_string().replace('/', "\\"))
}

/// What README's Install section gives a deployment script to wait for the uninstaller: run in
/// place (`_?=`) under `start /wait`, its exit code in `%ERRORLEVEL%`, then its own file and
/// folder deleted. Prints what cmd printed.
fn uninstall_and_wait_as_documented(folder: &Path) -> String {
    let folder_windows = windows_path(folder);
    let batch_dir = tempfile::tempdir().unwrap();
    let batch = batch_dir.path().join("deploy.bat");
    std::fs::write(
        &batch,
        format!(
            "@start \"\" /wait \"{folder_windows}\\uninstall.exe\" /S _?={folder_windows}\r\n\
             @set RC=%ERRORLEVEL%\r\n\
             @if exist \"{folder_windows}\\sockscope.exe\" (echo sockscope.exe still there) else (echo sockscope.exe gone)\r\n\
             @if %RC%==0 del \"{folder_windows}\\uninstall.exe\"\r\n\
             @if %RC%==0 rmdir \"{folder_windows}\"\r\n\
             @echo exit code %RC%\r\n"
        ),
    )
    .unwrap();
    let out = Command::new("wine")
        .args(["cmd", "/c"])
        .arg(&batch)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    text(&out.stdout)
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_documented_silent_uninstall_waits_and_returns_its_exit_code() {
    let _one = INSTALLER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let setup = setup();
    let installed = wine_user().join("AppData/Local/Programs/SockScope");
    assert_eq!(wine_run(&setup, &["/S"]), Some(0));
    std::fs::copy(
        dir().join("bcryptprimitives.dll"),
        installed.join("bcryptprimitives.dll"),
    )
    .unwrap();
    // While SockScope runs: the script sees 32, and everything is still there.
    let running = Running::start(&installed);
    let said = uninstall_and_wait_as_documented(&installed);
    assert!(said.contains("exit code 32"), "{said}");
    assert!(said.contains("sockscope.exe still there"), "{said}");
    drop(running);
    std::fs::remove_file(installed.join("bcryptprimitives.dll")).unwrap();
    // Closed: when start /wait returns the files are gone (plain `uninstall.exe /S` returns
    // before its copy in TEMP has removed anything), and the exit code is 0.
    let said = uninstall_and_wait_as_documented(&installed);
    assert!(said.contains("sockscope.exe gone"), "{said}");
    assert!(said.contains("exit code 0"), "{said}");
    assert!(!installed.exists(), "{}", installed.display());
    let uninstall_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\SockScope";
    assert_eq!(reg_query(uninstall_key, None), None, "the Apps entry gone");
}
