//! `sockscope`: the window, or a command (`connect`, `listen`, `udp`, `run`) without one.
//! Everything else lives in the library (`sockscope::start`).

// The release build on Windows is a window program: no console window opens beside it. Its
// console twin for cmd, PowerShell and scripts is `sockscope-cli` (src/bin/sockscope-cli.rs).
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    sockscope::start::main(sockscope::start::Program::Window)
}
