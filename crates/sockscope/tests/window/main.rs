//! The real window: the built program under Xvfb, driven by xdotool as a user would, its
//! outcomes read from what a test can read — what a real peer received, a file the app wrote,
//! the workspace it saved, a screenshot's pixels. egui_kittest passed while each of the
//! defects these tests cover was there.
//!
//! Widgets are found through `SOCKSCOPE_TEST_RECTS` (the app writes where its tagged widgets
//! are each frame), not guessed coordinates. Without Xvfb, xdotool or ImageMagick's `import`
//! every test skips and says so (`.ci/run` installs them).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::missing_panics_doc,
    reason = "a test's helpers stop it with the reason when the window does not do its part"
)]

mod compose;
mod dialogs;
mod flood;
mod layout;
mod load;
mod memory;
mod plots;
mod protocols;
mod rules;
mod scroll;
mod tls;
mod typing;
mod windows;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long anything may take to appear.
const PATIENCE: Duration = Duration::from_secs(15);

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One window at a time: several software-rendered windows (and a flood) on a small machine
/// starved each other, and a window took longer to appear than any test should wait.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The right to run, held for the test's length, if the tools are there; else says why the
/// test is skipped.
pub fn can_run() -> Option<std::sync::MutexGuard<'static, ()>> {
    let missing: Vec<&str> = ["Xvfb", "xdotool", "import"]
        .into_iter()
        .filter(|t| !has(t))
        .collect();
    if missing.is_empty() {
        Some(
            ONE_AT_A_TIME
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    } else {
        eprintln!(
            "skipped: {} not installed (.ci/run installs them)",
            missing.join(", ")
        );
        None
    }
}

/// A fresh directory for one test, removed when dropped.
pub struct TempDir(
    pub PathBuf,
    #[expect(dead_code, reason = "held: the folder is removed when this is dropped")]
    tempfile::TempDir,
);

impl TempDir {
    /// A fresh directory named after `name`.
    ///
    /// # Panics
    /// If it cannot be made.
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(&format!("sockscope-window-{name}-"))
            .tempdir()
            .unwrap();
        Self(dir.path().to_path_buf(), dir)
    }
}

/// A virtual X display of our own.
pub struct Display {
    xvfb: Child,
    /// Its DISPLAY value.
    pub name: String,
}

impl Display {
    /// Starts Xvfb and waits for its socket.
    ///
    /// # Panics
    /// If Xvfb does not start.
    pub fn start() -> Display {
        Display::start_sized("1280x800")
    }

    /// Starts Xvfb with a screen of `size` (`1024x640`) and waits for its socket.
    ///
    /// # Panics
    /// If Xvfb does not start.
    pub fn start_sized(size: &str) -> Display {
        // A display number no other test of this run uses, and none that an earlier run left
        // locked (a killed Xvfb leaves its lock and socket behind: Xvfb would refuse the
        // number, and the stale socket would look like a display).
        let base = 300 + (std::process::id() % 100) * 64;
        let mut n = base + next_display();
        while Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            n += 1600;
        }
        let name = format!(":{n}");
        let mut xvfb = Command::new("Xvfb")
            .args([
                &name,
                "-screen",
                "0",
                &format!("{size}x24"),
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
        let deadline = Instant::now() + PATIENCE;
        // The socket can exist before the server takes clients (or be another server's, gone
        // since): wait until a client is served.
        while !socket.exists() || !serves(&name) {
            assert!(
                xvfb.try_wait().ok().flatten().is_none(),
                "Xvfb exited at once on {name}"
            );
            assert!(Instant::now() < deadline, "Xvfb did not start on {name}");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The server that answered is ours: it is still running (another one on this number
        // would have made ours exit).
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            xvfb.try_wait().ok().flatten().is_none(),
            "Xvfb exited on {name}: the display was taken"
        );
        Display { xvfb, name }
    }
}

/// True if the X server on `display` answers a client.
fn serves(display: &str) -> bool {
    Command::new("xdotool")
        .arg("getmouselocation")
        .env("DISPLAY", display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn next_display() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    // Never a number this run used before: a server still ending on it would answer first.
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 64
}

impl Drop for Display {
    fn drop(&mut self) {
        // SIGTERM, so Xvfb removes its lock and socket (SIGKILL left them for the next run);
        // SIGKILL only if it does not end.
        let pid = self.xvfb.id().to_string();
        let _ = Command::new("kill").arg(&pid).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while self.xvfb.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}

/// The program in a window on a display.
pub struct Window {
    app: Child,
    display: String,
    /// Its X window id (for xdotool commands of a test's own).
    pub wid: String,
    rects: PathBuf,
    /// Where it keeps its workspace (XDG_DATA_HOME).
    pub data: PathBuf,
}

pub use testkit::free_port;

/// How to start the program.
#[derive(Default)]
pub struct Start<'a> {
    /// The saved workspace it finds (RON of `Workspace`), if any.
    pub workspace: Option<&'a str>,
    /// Environment to set.
    pub env: Vec<(&'a str, String)>,
    /// Arguments.
    pub args: Vec<String>,
    /// PATH to give it (a desktop without zenity, say).
    pub path: Option<String>,
    /// The command that starts the program, when it is not this build's (the Windows build
    /// under Wine: `["wine", "…/sockscope.exe"]`).
    pub program: Option<Vec<String>>,
}

impl Window {
    /// Starts the program with this saved workspace and waits for its window.
    pub fn open(display: &Display, dir: &TempDir, workspace: &str) -> Window {
        let start = Start {
            workspace: Some(workspace),
            ..Start::default()
        };
        Window::start(display, &dir.0, &start)
    }

    /// Starts the program and waits for its window.
    pub fn start(display: &Display, dir: &Path, start: &Start<'_>) -> Window {
        let data = dir.join("data");
        std::fs::create_dir_all(data.join("sockscope")).unwrap();
        if let Some(workspace) = start.workspace {
            let escaped = workspace.replace('\\', "\\\\").replace('"', "\\\"");
            std::fs::write(
                data.join("sockscope/app.ron"),
                format!("{{\"workspace\": \"{escaped}\"}}"),
            )
            .unwrap();
        }
        let rects = dir.join("rects.txt");
        let mut command = match start.program.as_deref() {
            Some([program, args @ ..]) => {
                let mut command = Command::new(program);
                command.args(args);
                command
            }
            _ => Command::new(env!("CARGO_BIN_EXE_sockscope")),
        };
        command
            .args(&start.args)
            .env("DISPLAY", &display.name)
            .env("XDG_DATA_HOME", &data)
            .env("SOCKSCOPE_TEST_RECTS", &rects)
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("WINIT_UNIX_BACKEND", "x11")
            .env("LANG", "C.UTF-8")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(path) = &start.path {
            command.env("PATH", path);
        }
        for (key, value) in &start.env {
            command.env(key, value);
        }
        let mut app = command.spawn().expect("the program starts");
        let mut pid = app.id().to_string();
        let deadline = Instant::now() + PATIENCE;
        // Once in a while a loaded machine's Xvfb, serving xdotool a moment before, refuses
        // the program's connection: it is started again, as a user would (up to three times:
        // a loaded run saw it refused twice in a row).
        let mut retries = 0;
        let wid = loop {
            let out = if start.program.is_some() {
                // Wine's windows need not carry the process id we started: by title.
                xdotool_output(
                    &display.name,
                    &["search", "--onlyvisible", "--name", "SockScope"],
                )
            } else {
                xdotool_output(&display.name, &["search", "--onlyvisible", "--pid", &pid])
            };
            if let Some(wid) = out.lines().last().filter(|l| !l.is_empty()) {
                break wid.to_owned();
            }
            if let Ok(Some(status)) = app.try_wait() {
                let mut err = String::new();
                if let Some(stderr) = app.stderr.as_mut() {
                    let _ = stderr.read_to_string(&mut err);
                }
                if retries < 3 && err.contains("Failed to open connection to X server") {
                    retries += 1;
                    eprintln!("the X server refused the program ({retries}); starting it again");
                    std::thread::sleep(Duration::from_millis(300 * retries));
                    app = command.spawn().expect("the program starts");
                    pid = app.id().to_string();
                    continue;
                }
                panic!("the program ended ({status}) before its window appeared: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "no window appeared on {}",
                display.name
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        let window = Window {
            app,
            display: display.name.clone(),
            wid,
            rects,
            data,
        };
        // No window manager: give the window the keyboard.
        window.xdo(&["windowfocus", "--sync", &window.wid.clone()]);
        window.rect("log.area");
        window
    }

    /// Its X window id (decimal, as xdotool gives it).
    pub fn wid(&self) -> &str {
        &self.wid
    }

    /// The program's process id.
    pub fn pid(&self) -> u32 {
        self.app.id()
    }

    /// Runs xdotool on this display.
    pub fn xdo(&self, args: &[&str]) {
        let status = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .status()
            .expect("xdotool runs");
        assert!(status.success(), "xdotool {args:?} failed");
    }

    /// Where the widget tagged `name` is (x, y, width, height in window pixels), waiting
    /// until it is drawn.
    pub fn rect(&self, name: &str) -> (f32, f32, f32, f32) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(rect) = self.find(name) {
                return rect;
            }
            assert!(Instant::now() < deadline, "'{name}' was never drawn");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Where `name` is now, if it is drawn.
    pub fn find(&self, name: &str) -> Option<(f32, f32, f32, f32)> {
        let text = std::fs::read_to_string(&self.rects).ok()?;
        text.lines().find_map(|line| {
            let mut parts = line.split(' ');
            if parts.next()? != name {
                return None;
            }
            let n: Vec<f32> = parts.filter_map(|p| p.parse().ok()).collect();
            (n.len() == 4).then(|| (n[0], n[1], n[2], n[3]))
        })
    }

    fn pointer_to(&self, name: &str) {
        let (x, y, w, h) = self.rect(name);
        let (cx, cy) = ((x + w / 2.0).round(), (y + h / 2.0).round());
        self.xdo(&[
            "mousemove",
            "--window",
            &self.wid,
            &cx.to_string(),
            &cy.to_string(),
        ]);
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits until the value the program notes as `name` (`name = value`) satisfies `ok`.
    pub fn wait_value(&self, name: &str, ok: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let text = std::fs::read_to_string(&self.rects).unwrap_or_default();
            let value = text.lines().find_map(|line| {
                let (key, value) = line.split_once(" = ")?;
                (key == name).then(|| value.to_owned())
            });
            if value.as_deref().is_some_and(&ok) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never became what was waited for (it is {value:?})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the middle of the widget tagged `name`.
    pub fn click(&self, name: &str) {
        self.pointer_to(name);
        self.xdo(&["click", "1"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Clicks a point of the window (where a widget was a moment ago, say).
    pub fn click_at(&self, x: f32, y: f32) {
        self.xdo(&[
            "mousemove",
            "--window",
            &self.wid,
            &x.round().to_string(),
            &y.round().to_string(),
        ]);
        std::thread::sleep(Duration::from_millis(150));
        self.xdo(&["click", "1"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Clicks `name` until `appears` is drawn (a click that reached a window still settling
    /// its first frames is tried again, at most three times).
    pub fn click_until(&self, name: &str, appears: &str) {
        for _ in 0..3 {
            self.click(name);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if self.find(appears).is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("clicking '{name}' never drew '{appears}'");
    }

    /// Right-clicks the widget tagged `name`.
    pub fn right_click(&self, name: &str) {
        self.pointer_to(name);
        self.xdo(&["click", "3"]);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Types `text` into whatever has the keyboard.
    pub fn type_text(&self, text: &str) {
        self.xdo(&["type", "--delay", "30", text]);
        std::thread::sleep(Duration::from_millis(200));
    }

    /// Presses keys (`ctrl+s`, `Return`).
    pub fn key(&self, keys: &str) {
        self.xdo(&["key", keys]);
        std::thread::sleep(Duration::from_millis(300));
    }

    /// A screenshot of the screen as (width, height, RGB bytes).
    pub fn screenshot(&self) -> (usize, usize, Vec<u8>) {
        let out = Command::new("import")
            .args(["-window", "root", "-depth", "8", "ppm:-"])
            .env("DISPLAY", &self.display)
            .output()
            .expect("import runs");
        parse_ppm(&out.stdout)
    }

    /// Quits with Ctrl+Q (answering yes if it asks) and waits for the program to end; returns
    /// the workspace it saved (RON).
    pub fn quit(mut self) -> String {
        self.key("ctrl+q");
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(_)) = self.app.try_wait() {
                break;
            }
            if self.find("confirm.yes").is_some() {
                self.click("confirm.yes");
            }
            assert!(Instant::now() < deadline, "the program did not quit");
            std::thread::sleep(Duration::from_millis(100));
        }
        std::fs::read_to_string(self.data.join("sockscope/app.ron")).unwrap_or_default()
    }

    /// What the program wrote to stderr so far (for failure messages).
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(err) = self.app.stderr.as_mut() {
            let _ = err.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        let _ = self.app.kill();
        let _ = self.app.wait();
    }
}

fn xdotool_output(display: &str, args: &[&str]) -> String {
    Command::new("xdotool")
        .args(args)
        .env("DISPLAY", display)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// A binary PPM (P6) as (width, height, RGB).
fn parse_ppm(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    assert_eq!(fields[0], "P6", "a binary PPM");
    let (w, h): (usize, usize) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let pixels = bytes[at + 1..].to_vec();
    assert_eq!(pixels.len(), w * h * 3);
    (w, h, pixels)
}

/// Pixels in `rect` of `shot` that differ from its most common colour: text drawn there.
pub fn ink(shot: &(usize, usize, Vec<u8>), rect: (f32, f32, f32, f32)) -> usize {
    let (w, _, pixels) = shot;
    let (x0, y0, rw, rh) = (
        rect.0 as usize,
        rect.1 as usize,
        rect.2 as usize,
        rect.3 as usize,
    );
    let mut counts = std::collections::HashMap::new();
    let px = |x: usize, y: usize| {
        let i = (y * w + x) * 3;
        (pixels[i], pixels[i + 1], pixels[i + 2])
    };
    for y in y0..y0 + rh {
        for x in x0..x0 + rw {
            *counts.entry(px(x, y)).or_insert(0usize) += 1;
        }
    }
    let background = counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c);
    let total: usize = counts.values().sum();
    total - background.map_or(0, |c| counts[&c])
}

/// A TCP listener on loopback that hands over what its first client sends, as it comes.
pub fn listener() -> (std::net::SocketAddr, std::sync::mpsc::Receiver<Vec<u8>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("window-test-peer".into())
        .spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
        })
        .unwrap();
    (addr, rx)
}

/// Everything `rx` gives within `wait`, joined.
pub fn received(rx: &std::sync::mpsc::Receiver<Vec<u8>>, wait: Duration) -> Vec<u8> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(bytes) => got.extend(bytes),
            Err(_) => break,
        }
    }
    got
}

#[test]
fn the_quick_command_popup_and_the_tab_rename_field_take_clicks_and_typing() {
    let Some(_one_at_a_time) = can_run() else {
        return;
    };
    let dir = TempDir::new("popups");
    let display = Display::start();
    let workspace = r#"(tabs: [(path: None, profile: (version: 1, session: (send_text: "AT+CSQ")))], active: 0)"#;
    let window = Window::start(
        &display,
        &dir.0,
        &Start {
            workspace: Some(workspace),
            ..Start::default()
        },
    );
    // The popup opens with its field focused; a click into the field keeps it open.
    window.click_until("quick.add", "quick.name");
    window.click("quick.name");
    window.type_text("signal");
    window.key("Return");
    // The tab's menu: its field has the keyboard; Enter renames.
    window.right_click("tab.0");
    window.rect("tab.rename");
    window.click("tab.rename");
    window.key("ctrl+a");
    window.type_text("modem 1");
    window.key("Return");
    let saved = window.quit();
    assert!(
        saved.contains(r#"quick:[(name:\"signal\",text:\"AT+CSQ\""#),
        "{saved}"
    );
    let renamed = format!(
        r#"profile:(version:{},name:\"modem 1\""#,
        sockscope::profile::FORMAT_VERSION
    );
    assert!(saved.contains(&renamed), "{saved}");
}
