//! `sockscope`: the window, or a command (`connect`, `listen`, `udp`, `run`) without one.
//! Everything else lives in the library.

// The release build on Windows has no console window of its own; a command attaches to the
// console it was started from.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser as _;
use sockscope::cli::{self, Cli};

fn main() -> ExitCode {
    if let Some(word) = mistyped_command() {
        // `sockscope lsiten` must not open the window (nor fail to, headless).
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
        Some(profile) => open_window(profile),
        None => ExitCode::from(command_line()),
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

fn command_line() -> u8 {
    #[cfg(windows)]
    attach_console();
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
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let mut io = cli::Io {
        stdin_is_terminal: stdin.is_terminal(),
        stdin: Box::new(stdin),
        stdout: &mut stdout,
        stderr: &mut stderr,
        stop,
    };
    let code = cli::run_args(std::env::args_os(), &mut io);
    u8::try_from(code).unwrap_or(cli::BAD_INPUT as u8)
}

#[cfg(feature = "gui")]
fn open_window(profile: Option<std::path::PathBuf>) -> ExitCode {
    match sockscope::gui::run(profile) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let why = without_source_paths(&e.to_string());
            eprintln!(
                "{}",
                sockscope_core::i18n::tf(
                    sockscope_core::i18n::S::CliNoWindow,
                    &[&why.trim_end_matches('.')]
                )
            );
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
fn open_window(_profile: Option<std::path::PathBuf>) -> ExitCode {
    // Built without the window: say what there is.
    let _ = <Cli as clap::CommandFactory>::command().print_help();
    ExitCode::from(cli::BAD_INPUT as u8)
}

/// Writes to the console the program was started from (a release build has none of its own).
#[cfg(windows)]
#[expect(unsafe_code, reason = "AttachConsole has no safe wrapper in std")]
fn attach_console() {
    use windows_sys::Win32::System::Console::{ATTACH_PARENT_PROCESS, AttachConsole};
    // SAFETY: AttachConsole takes a process id constant and touches no memory of ours.
    unsafe {
        AttachConsole(ATTACH_PARENT_PROCESS);
    }
}
