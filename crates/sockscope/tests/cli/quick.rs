//! Quick commands on the command line: a shipped profile has some (`run --quick NAME`), and a
//! quick command written wrong is said, with its name, before anything opens.

use std::sync::Arc;
use std::time::Duration;

use sockscope_core::profile;
use sockscope_core::session::Session;

use super::{BAD_INPUT, OK, free_port, run};

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn the_shipped_modem_check_has_quick_commands_that_run_sends() {
    let mut form = profile::load(std::path::Path::new(&example("at-modem.ron")))
        .unwrap()
        .profile
        .session;
    form.local_ip = "127.0.0.1".into();
    *form.local_port_mut() = "0".into();
    let mut modem = Session::with_form(&form, Arc::new(|| {}));
    modem.open_form(&form).unwrap();
    let addr = modem.wait_listening(Duration::from_secs(5)).unwrap();
    let check = profile::load(std::path::Path::new(&example("check-at-modem.ron"))).unwrap();
    // Before: no shipped profile had one.
    assert!(check.profile.session.quick.len() >= 2);
    assert!(check.warnings.is_empty(), "{:?}", check.warnings);
    let ran = run(
        &[
            "run",
            &example("check-at-modem.ron"),
            "--remote",
            &addr.to_string(),
            "--quick",
            "signal",
            "--duration",
            "1s",
        ],
        b"",
    );
    assert_eq!(ran.code, OK, "{ran:?}");
    assert!(ran.stdout.contains("AT+CSQ\\r"), "{}", ran.stdout);
    assert!(ran.stdout.contains("+CSQ: "), "{}", ran.stdout);
}

#[test]
fn a_quick_command_written_wrong_is_warned_and_named() {
    let path_dir = tempfile::tempdir().unwrap();
    let path = path_dir
        .path()
        .join(format!("sockscope-quick-wrong-{}.ron", free_port()));
    std::fs::write(
        &path,
        format!(
            "(version: 2, session: (mode: TcpClient, remote_port: \"{}\",\n quick: [(name: \"ping\", payload: \"PING\")]))",
            free_port()
        ),
    )
    .unwrap();
    let ran = run(&["run", path.to_str().unwrap(), "--quick", "ping"], b"");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(ran.code, BAD_INPUT, "{ran:?}");
    // Before: no warning, then "Nothing to send: the send box is empty".
    assert!(
        ran.stderr.contains("session.quick[0].payload (line 2)"),
        "{}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains("Quick command “ping” has nothing to send"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stdout.contains("Connecting"), "{}", ran.stdout);
}
