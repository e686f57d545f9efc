//! `sockscope-cli`: the same program as a console program, for Windows' cmd, PowerShell and
//! scripts — the shell waits for it, gets its exit code (`%ERRORLEVEL%`, `$LASTEXITCODE`),
//! gives it stdin and Ctrl+C. Without a command it opens the window as `sockscope` does.
//! Built with the `console` feature (the Windows build and its release turn it on).

fn main() -> std::process::ExitCode {
    sockscope::start::main(sockscope::start::Program::Console)
}
