//! The Windows program's window under Wine and Xvfb (`scripts/windows` builds it and runs
//! these; a plain `cargo test` has no Windows build and leaves them ignored): it opens with a
//! workspace whose tab listens, takes a Linux client, and exports what came through the
//! native (Wine's) file dialog — titled in the window's language and owned by the window.
//!
//! Wine is not Windows: its windows are X11 windows drawn by Mesa, its file dialog is its own
//! implementation of IFileDialog, and its "OpenGL driver" is the X server's. What is checked
//! is what the program asks of Windows (a window, a dialog with an owner and a title, a
//! renderer that starts), not how Windows itself draws it.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Display, Start, TempDir, Window, can_run, free_port};

/// Where `scripts/windows` put the programs under test.
fn dir() -> PathBuf {
    std::env::var_os("SOCKSCOPE_WINDOWS_DIR")
        .map(PathBuf::from)
        .expect(
            "SOCKSCOPE_WINDOWS_DIR names the folder of the .exe files (scripts/windows sets it)",
        )
}

/// Stops the prefix's wineserver and waits until it is gone, so the test's program starts a
/// fresh one. Wine's desktop (explorer.exe) takes the X display of the program that started
/// it, and every later program of that wineserver draws there: started by the script's
/// warm-up (no display) or by an earlier test (its Xvfb, gone), the window never showed on
/// this test's display.
fn fresh_wineserver() {
    let _ = Command::new("wineserver").arg("-k").status();
    let _ = Command::new("wineserver").arg("-w").status();
}

/// The user's roaming AppData in the Wine prefix, where eframe keeps the workspace.
fn roaming() -> PathBuf {
    let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect("WINEPREFIX is set"));
    let users = prefix.join("drive_c/users");
    let user = std::fs::read_dir(&users)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .find(|n| n != "Public")
        .expect("a user in the prefix");
    users.join(user).join("AppData/Roaming")
}

/// Writes the workspace the program finds at start (as the Linux harness does in XDG).
fn saved_workspace(workspace: &str) {
    let data = roaming().join("sockscope/data");
    std::fs::create_dir_all(&data).unwrap();
    let escaped = workspace.replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(
        data.join("app.ron"),
        format!("{{\"workspace\": \"{escaped}\"}}"),
    )
    .unwrap();
}

fn wine_program() -> Vec<String> {
    vec![
        "wine".into(),
        dir().join("sockscope.exe").display().to_string(),
    ]
}

/// Visible windows on `display` whose title matches `name`.
fn windows_named(display: &Display, name: &str) -> Vec<String> {
    let out = Command::new("xdotool")
        .args(["search", "--onlyvisible", "--name", name])
        .env("DISPLAY", &display.name)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits for a visible window titled `name`.
fn wait_window(display: &Display, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(wid) = windows_named(display, name).pop() {
            return wid;
        }
        assert!(Instant::now() < deadline, "no window titled {name}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The window `wid` says it belongs to (WM_TRANSIENT_FOR), as a window id in decimal.
fn owner_of(display: &Display, wid: &str) -> Option<u64> {
    let out = Command::new("xprop")
        .args(["-id", wid, "WM_TRANSIENT_FOR"])
        .env("DISPLAY", &display.name)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split("# 0x").nth(1)?.trim();
    u64::from_str_radix(hex, 16).ok()
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_windows_program_listens_and_exports_a_linux_client_s_bytes_through_its_dialog() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    fresh_wineserver();
    let tmp = TempDir::new("wine");
    let port = free_port();
    saved_workspace(&format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0, lang: Some(Zh))"#
    ));
    let display = Display::start();
    let window = Window::start(
        &display,
        &tmp.0,
        &Start {
            program: Some(wine_program()),
            ..Start::default()
        },
    );
    // The tab listens by itself; a Linux client's bytes reach its log.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut client = loop {
        if let Ok(client) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break client;
        }
        assert!(Instant::now() < deadline, "the tab never listened");
        std::thread::sleep(Duration::from_millis(100));
    };
    client
        .write_all("hello from linux 你好".as_bytes())
        .unwrap();
    window.wait_value("log.newest", |seq| seq.parse::<u64>().is_ok_and(|n| n >= 2));

    // Export as CSV through the native dialog: Wine's, titled in Chinese as the window is,
    // and owned by the main window (it opened behind it without an owner, and was not modal).
    window.click("log.export");
    window.click("export.csv");
    let dialog = wait_window(&display, "导出日志为");
    let main: u64 = window_id(&window);
    assert_eq!(
        owner_of(&display, &dialog),
        Some(main),
        "the dialog belongs to the main window"
    );
    let target = tmp.0.join("export.csv");
    let windows_path = format!("Z:{}", target.display()).replace('/', "\\");
    focus(&display, &dialog);
    // The name field holds the suggested name: select it all (Wine's edit box took no Ctrl+A
    // here, and the path went in front of the suggestion).
    xdo(&display, &["key", "End", "shift+Home"]);
    xdo(&display, &["type", "--delay", "20", &windows_path]);
    xdo(&display, &["key", "Return"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let csv = loop {
        if let Ok(text) = std::fs::read_to_string(&target)
            && text.contains("hello from linux")
        {
            break text;
        }
        assert!(Instant::now() < deadline, "the export never landed");
        std::thread::sleep(Duration::from_millis(100));
    };
    // UTF-8 with a byte-order mark, so Excel on a Chinese Windows does not read it as GBK.
    assert!(csv.starts_with("\u{feff}time,direction"), "{csv}");
    assert!(csv.contains("你好"), "{csv}");
    drop(window);
}

fn window_id(window: &Window) -> u64 {
    window.wid().parse().unwrap()
}

fn xdo(display: &Display, args: &[&str]) {
    let status = Command::new("xdotool")
        .args(args)
        .env("DISPLAY", &display.name)
        .status()
        .unwrap();
    assert!(status.success(), "xdotool {args:?}");
    std::thread::sleep(Duration::from_millis(300));
}

fn focus(display: &Display, wid: &str) {
    xdo(display, &["windowfocus", "--sync", wid]);
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn a_window_that_cannot_open_says_why_in_a_message_box() {
    // A double-clicked window program has no stderr anyone reads: before, nothing happened.
    // Wine cannot take OpenGL away from the program (it imports opengl32.dll), so the window
    // is asked to draw with Direct3D 12 alone, which is switched off: no renderer starts.
    // (Wine's own Direct3D 12 aborts in vkd3d under Xvfb, so the fallback from OpenGL to
    // Direct3D 12 itself needs a real Windows.)
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    fresh_wineserver();
    let display = Display::start();
    let mut program = Command::new("wine")
        .arg(dir().join("sockscope.exe"))
        .env("DISPLAY", &display.name)
        .env("SOCKSCOPE_RENDERER", "wgpu")
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=;d3d12=d")
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dialog = wait_window(&display, "SockScope");
    // A message box, not the main window: small, and it keeps the program until answered.
    let geometry = Command::new("xdotool")
        .args(["getwindowgeometry", &dialog])
        .env("DISPLAY", &display.name)
        .output()
        .unwrap();
    let geometry = String::from_utf8_lossy(&geometry.stdout).into_owned();
    let width: u32 = geometry
        .split("Geometry: ")
        .nth(1)
        .and_then(|g| g.split('x').next())
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0);
    assert!(width > 0 && width < 700, "{geometry}");
    assert!(
        program.try_wait().unwrap().is_none(),
        "the program waits for OK"
    );
    focus(&display, &dialog);
    xdo(&display, &["key", "Return"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = program.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = program.kill();
            let _ = program.wait();
            panic!("the program did not end after OK");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(2));
}

/// CPU time (user + system, in clock ticks) of each thread of process `pid`: the main
/// thread's (its id is the process's) and the others' together.
fn cpu_ticks(pid: u32) -> (u64, u64) {
    let (mut main, mut others) = (0, 0);
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, 0);
    };
    for task in tasks.filter_map(Result::ok) {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        // After the name in parentheses (which may hold spaces): state, then utime and stime
        // as the 12th and 13th fields.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        if task.file_name().to_string_lossy() == pid.to_string() {
            main += ticks;
        } else {
            others += ticks;
        }
    }
    (main, others)
}

/// The Linux process Wine runs `exe` (a path in [`dir`]) in.
fn wine_process(exe: &std::path::Path) -> Option<u32> {
    let wanted = exe.display().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmd| {
                cmd.split(|b| *b == 0)
                    .next()
                    .is_some_and(|arg0| arg0 == wanted.as_bytes())
            })
        })
}

/// Shares of one core an idle window's threads used over 5 s, once it had 3 s to start (and
/// `listens`, if given, took a connection): (its main thread, every other thread together), in
/// percent.
fn idle_shares(display: &Display, exe: &str, title: &str, listens: Option<u16>) -> (f64, f64) {
    let path = dir().join(exe);
    let mut program = Command::new("wine")
        .arg(&path)
        .env("DISPLAY", &display.name)
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_window(display, title);
    let pid = wine_process(&path).expect("the program's process");
    if let Some(port) = listens {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the tab never listened");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // What the start draws and loads is over by then (the window waits for input).
    std::thread::sleep(Duration::from_secs(3));
    let ticks_per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    let (main, others) = cpu_ticks(pid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let (main_after, others_after) = cpu_ticks(pid);
    let seconds = started.elapsed().as_secs_f64();
    let share = |ticks: u64| ticks as f64 / ticks_per_second / seconds * 100.0;
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = program.kill();
    let _ = program.wait();
    fresh_wineserver();
    (
        share(main_after.saturating_sub(main)),
        share(others_after.saturating_sub(others)),
    )
}

#[test]
#[ignore = "the Windows set: scripts/windows runs it under Wine"]
fn the_idle_window_draws_nothing_and_adds_nothing_to_what_wine_spends_on_a_bare_window() {
    // Under Wine 8 every idle eframe window's main thread spins: winit's wait for messages
    // returns at once with none to take (wineserver: select, get_message PENDING, again, some
    // 34,000 times a second). A bare eframe window (examples/bare_window.rs) does the same, so
    // that share is Wine's and winit's, not the program's; what a real Windows does is
    // measured by the windows-latest job of the workflow. Here: the window draws nothing
    // while idle (no frames for llvmpipe, no thread of its own awake), and its main thread
    // spends no more than a bare window's.
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    fresh_wineserver();
    let port = free_port();
    saved_workspace(&format!(
        r#"(tabs: [(path: None, profile: (version: 1, auto_connect: true, session: (mode: TcpServer, local_ip: "127.0.0.1", server_port: "{port}")))], active: 0)"#
    ));
    let display = Display::start();
    let (bare_main, bare_others) =
        idle_shares(&display, "bare_window.exe", "bare eframe window", None);
    let (main, others) = idle_shares(&display, "sockscope.exe", "SockScope", Some(port));
    eprintln!(
        "idle under Wine, % of one core over 5 s: bare eframe window {bare_main:.1} (main \
         thread) + {bare_others:.1} (others); SockScope, a tab listening, {main:.1} + {others:.1}"
    );
    // Generous bounds: a window that drew frames while idle, or a thread of its own that
    // polled, spends far more (llvmpipe renders each frame on its threads).
    assert!(
        others < 10.0,
        "threads other than the window's: {others:.1} %"
    );
    assert!(
        main < bare_main + 25.0,
        "the window's thread: {main:.1} %, a bare eframe window's: {bare_main:.1} %"
    );
}
