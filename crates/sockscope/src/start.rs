//! What both programs do when started: open the window, or run a command without one. On
//! Windows they are two programs — `sockscope.exe`, a window program (no console of its own;
//! a command attaches to the console it was started from, but the shell does not wait for it
//! nor get its exit code), and `sockscope-cli.exe`, a console program for cmd, PowerShell and
//! scripts (the shell waits, `%ERRORLEVEL%` and `$LASTEXITCODE` get the exit code, Ctrl+C and
//! stdin work). Elsewhere `sockscope` is both.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;

use crate::cli::{self, Cli};

/// Which program this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// The window's program (`sockscope`; on Windows a window program without a console).
    Window,
    /// The console program (`sockscope-cli`, Windows).
    Console,
}

/// Runs the program: the window, or the command given.
pub fn main(program: Program) -> ExitCode {
    sockscope_core::engine::keep_large_buffers_off_the_heap();
    if let Some(word) = mistyped_command() {
        // `sockscope lsiten` must not open the window (nor fail to, headless).
        #[cfg(windows)]
        if program == Program::Window {
            windows::attach_console();
        }
        eprintln!("{}", cli::unknown_command(&word));
        return ExitCode::from(cli::BAD_INPUT as u8);
    }
    let window = match Cli::try_parse() {
        Ok(Cli {
            command: None,
            profile,
            ..
        }) => Some(profile),
        // A command, help, version or a bad argument: the command line answers.
        _ => None,
    };
    match window {
        Some(profile) => open_window(program, profile.as_deref()),
        None => ExitCode::from(command_line(program)),
    }
}

/// The first word given, when it is neither a command nor an option nor a file that exists
/// (a profile to open): a mistyped command.
fn mistyped_command() -> Option<String> {
    let mut words = std::env::args_os().skip(1);
    let first = loop {
        let word = words.next()?;
        match word.to_str() {
            // `--lang zh` may come first; its value is no command.
            Some("--lang") => {
                words.next();
            }
            Some(w) if w.starts_with('-') => return None,
            _ => break word,
        }
    };
    let text = first.to_str()?.to_owned();
    let known = cli::command_names().contains(&text) || text == "help";
    (!known && !std::path::Path::new(&first).exists()).then_some(text)
}

fn command_line(program: Program) -> u8 {
    #[cfg(windows)]
    if program == Program::Window && windows::attach_console() {
        // The shell has its prompt back already and will not see the exit code.
        eprintln!(
            "{}",
            sockscope_core::i18n::t(sockscope_core::i18n::S::CliUseConsoleProgram)
        );
    }
    let _ = program;
    let stop = Arc::new(AtomicBool::new(false));
    let on_ctrl_c = Arc::clone(&stop);
    // The first Ctrl+C ends the command tidily (what was received is printed first); a second
    // one ends it at once. Without a handler Ctrl+C still ends the program, only less tidily.
    let _ = ctrlc::set_handler(move || {
        if on_ctrl_c.swap(true, Ordering::Relaxed) {
            std::process::exit(cli::INTERRUPTED);
        }
    });
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stdout_is_terminal = stdout.is_terminal();
    // A Windows console takes text only: bytes that are not UTF-8 are shown escaped there
    // (raw when redirected).
    let mut stdout = cli::console::stdout_for(stdout, stdout_is_terminal);
    let mut stderr = std::io::stderr();
    let mut io = cli::Io {
        stdin_is_terminal: stdin.is_terminal(),
        stdin: Box::new(stdin),
        stdout: &mut *stdout,
        stderr: &mut stderr,
        stop,
    };
    let code = cli::run_args(std::env::args_os(), &mut io);
    u8::try_from(code).unwrap_or(cli::BAD_INPUT as u8)
}

#[cfg(feature = "gui")]
fn open_window(program: Program, profile: Option<&std::path::Path>) -> ExitCode {
    #[cfg(windows)]
    if program == Program::Console {
        windows::hide_own_console();
    }
    match crate::gui::run(profile) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let why = without_source_paths(&e.to_string());
            let why = why.trim_end_matches('.');
            let said = sockscope_core::i18n::tf(sockscope_core::i18n::S::CliNoWindow, &[&why]);
            eprintln!("{said}");
            // A double-clicked window program has no stderr anyone reads: say it in a box.
            #[cfg(windows)]
            if program == Program::Window {
                let said = sockscope_core::i18n::tf(sockscope_core::i18n::S::NoWindowBox, &[&why]);
                windows::message_box(crate::gui::TITLE, &said);
            }
            let _ = program;
            ExitCode::from(cli::BAD_INPUT as u8)
        }
    }
}

/// An error's text without the parts that name a source file of a dependency (winit says
/// "os error at /…/winit-0.30/src/…/mod.rs:765: neither DISPLAY …").
#[cfg(feature = "gui")]
fn without_source_paths(text: &str) -> String {
    text.split(": ")
        .filter(|part| !(part.contains(".rs:") && part.contains(" at ")))
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(not(feature = "gui"))]
fn open_window(_program: Program, _profile: Option<&std::path::Path>) -> ExitCode {
    // Built without the window: say what there is.
    let _ = <Cli as clap::CommandFactory>::command().print_help();
    ExitCode::from(cli::BAD_INPUT as u8)
}

#[cfg(windows)]
mod windows {
    //! The few Windows calls the two programs need, none of which std wraps.

    /// Writes to the console the program was started from (the window program has none of
    /// its own); false when it was not started from one.
    #[expect(unsafe_code, reason = "AttachConsole has no safe wrapper in std")]
    pub fn attach_console() -> bool {
        use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
        // SAFETY: AttachConsole takes a process id constant and touches no memory of ours.
        unsafe { AttachConsole(ATTACH_PARENT_PROCESS) != 0 }
    }

    /// The console program, started by a double-click, got a console of its own: it goes
    /// when the window opens (a console shared with a shell stays).
    #[expect(
        unsafe_code,
        reason = "GetConsoleProcessList and FreeConsole have no safe wrapper in std"
    )]
    pub fn hide_own_console() {
        use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
        let mut ids = [0u32; 2];
        // SAFETY: the buffer is a live array of the length given.
        let attached = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
        if attached == 1 {
            // SAFETY: no arguments; our console handles are not used after this.
            unsafe {
                FreeConsole();
            }
        }
    }

    /// Shows `text` in a message box titled `title` and waits for OK.
    #[expect(unsafe_code, reason = "MessageBoxW has no safe wrapper in std")]
    pub fn message_box(title: &str, text: &str) {
        use windows_sys::Win32::UI::WindowsAndMessaging::{
            MB_ICONERROR, MB_OK, MB_SETFOREGROUND, MessageBoxW,
        };
        let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
        let (title, text) = (wide(title), wide(text));
        // SAFETY: both strings are NUL-terminated UTF-16 that live across the call; no owner
        // window.
        unsafe {
            MessageBoxW(
                std::ptr::null_mut(),
                text.as_ptr(),
                title.as_ptr(),
                MB_OK | MB_ICONERROR | MB_SETFOREGROUND,
            );
        }
    }
}
