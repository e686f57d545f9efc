//! `sockscope run`: a profile's session (its rules, simulators, quick commands) headless.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::codec::framing::Framing;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::session::Session;

use super::print::Printer;
use super::{
    Ended, Failure, Io, NOT_MATCHED, OK, OUTPUT_CLOSED, STEP, args, bad, follow, hits, print_rest,
    resolve, wait_open,
};

/// A profile's session settings with the command line's overrides; warnings go to stderr.
pub(super) fn load_form(
    path: &Path,
    local_port: Option<u16>,
    remote: Option<&str>,
    io: &mut Io<'_>,
) -> Result<sockscope_core::profile::Form, Failure> {
    // The error names the file already; nothing is written, so nothing is "left as it is".
    let loaded =
        sockscope_core::profile::load(path).map_err(|e| bad(tf(S::CliProfileFailed, &[&e])))?;
    for warning in &loaded.warnings {
        let _ = writeln!(
            io.stderr,
            "{}",
            tf(S::ProfileWarning, &[&path.display(), warning])
        );
    }
    let mut form = loaded.profile.session;
    if let Some(port) = local_port {
        *form.local_port_mut() = port.to_string();
    }
    if let Some(remote) = remote {
        let addr = resolve(remote)?;
        form.remote_ip = addr.ip().to_string();
        form.remote_port = addr.port().to_string();
    }
    Ok(form)
}

/// The sentences of a form's address errors, joined.
pub(super) fn field_sentences(errors: sockscope_core::profile::FieldErrors) -> String {
    [
        errors.local_ip,
        errors.local_port,
        errors.remote_ip,
        errors.remote_port,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<String>>()
    .join("; ")
}

/// The log `sockscope run` keeps behind what it printed.
const RUN_LOG_CAP: usize = 32 << 20;

/// Where `field` is named in the profile's text (`f.body.speedd`, or a reply's `"body.x":`
/// key): its 1-based line and column.
fn field_place(text: &str, field: &str) -> Option<(usize, usize)> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let quoted = format!("\"{field}\"");
    let read = format!("f.{field}");
    let at = text
        .match_indices(&read)
        .find(|(at, m)| {
            let before = text.get(..*at).and_then(|s| s.chars().next_back());
            let after = text.get(at + m.len()..).and_then(|s| s.chars().next());
            before.is_none_or(|c| !word(c)) && after.is_none_or(|c| !word(c))
        })
        .map(|(at, _)| at)
        .or_else(|| text.find(&quoted).map(|at| at + 1))?;
    let before = text.get(..at)?;
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .unwrap_or_default()
        .chars()
        .count()
        + 1;
    Some((line, column))
}

/// A rule's mistake as the command line says it: with the place in the profile of the field
/// it names, when it names one.
pub(super) fn rule_mistake(path: &Path, error: &sockscope_core::rules::RuleError) -> String {
    placed(path, error.field.as_deref(), &error.message)
}

/// `message` with the place in the profile at `path` of the field it is about, if found.
pub(super) fn placed(path: &Path, field: Option<&str>, message: &str) -> String {
    let place = field.and_then(|field| {
        let text = std::fs::read_to_string(path).ok()?;
        field_place(&text, field)
    });
    match place {
        Some((line, column)) => tf(
            S::ProfileRuleAt,
            &[&path.display(), &line, &column, &message],
        ),
        None => message.to_owned(),
    }
}

/// The form's protocol with the way its received messages go, for its rules and scripts.
pub(super) fn form_protocol(
    form: &sockscope_core::profile::Form,
) -> Result<
    Option<(
        Arc<sockscope_core::protocol::Protocol>,
        sockscope_core::protocol::Dir,
    )>,
    Failure,
> {
    Ok(form
        .protocol()
        .map_err(bad)?
        .map(|p| (p, sockscope_core::session::received_dir(form.mode))))
}

pub(super) fn run_profile(args: &args::RunArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let form = load_form(&args.profile, args.local_port, args.remote.as_deref(), io)?;
    // --protocol decodes for the rules too, in place of the profile's.
    let protocol = match &args.protocol {
        Some(p) => Some((
            Arc::clone(p),
            sockscope_core::session::received_dir(form.mode),
        )),
        None => form_protocol(&form)?,
    };
    if form.automation.active() {
        // A wrong rule is bad input: say which, before anything opens (a field its protocol
        // lacks with its place in the profile).
        sockscope_core::rules::Machine::compile_for(
            &form.automation,
            form.encoding,
            protocol.clone(),
        )
        .map_err(|e| bad(rule_mistake(&args.profile, &e)))?;
    }
    // Every quick command named must exist before anything opens.
    let mut quick = Vec::new();
    for name in &args.quick {
        let Some(command) = form.quick.iter().find(|q| q.name == *name) else {
            let names: Vec<&str> = form.quick.iter().map(|q| q.name.as_str()).collect();
            let known = if names.is_empty() {
                t(S::CliNoQuick).to_owned()
            } else {
                names.join(", ")
            };
            return Err(bad(tf(S::CliUnknownQuick, &[name, &known])));
        };
        if command.text.trim().is_empty() {
            // Said before anything opens, naming the command (the window's "the send box is
            // empty" does not fit a command line).
            return Err(bad(tf(S::CliQuickEmpty, &[name])));
        }
        quick.push(command.clone());
    }
    let mut session = Session::with_form(&form, Arc::new(|| {}));
    {
        // The records are printed as they come: the log keeps only recent ones (the profile's
        // cap is the window's, which shows them all). A simulator flooded by a client that
        // never reads grew to 770 MB with the window's 256 MiB.
        let mut capture = session.capture();
        let cap = capture.log.cap().min(RUN_LOG_CAP);
        capture.log.set_cap(cap);
    }
    // With --protocol the rules start under it just after the open (the profile's own
    // protocol, or none, would refuse them first).
    let mut opening = form.clone();
    if args.protocol.is_some() {
        opening.automation.enabled = false;
    }
    if let Err(errors) = session.open_form(&opening) {
        return Err(bad(field_sentences(errors)));
    }
    if args.protocol.is_some() {
        let (p, dir) = protocol.clone().unzip();
        session.set_protocol(p, dir.unwrap_or_default());
        if form.automation.active() {
            session
                .set_rules(Some(&form.automation), form.encoding)
                .map_err(|e| bad(rule_mistake(&args.profile, &e)))?;
        }
    }
    let view = args::View {
        encoding: form.encoding,
        framing: Framing::None,
        hex: args.hex || form.rx_hex,
        hexdump: false,
        json: args.json,
        // --protocol, or else the profile's own (format 3).
        protocol: match &args.protocol {
            Some(p) => Some(std::sync::Arc::clone(p)),
            None => form.protocol().map_err(bad)?,
        },
    };
    let mut printer = Printer::new(&mut *io.stdout, &view, false);
    // A server receives requests, a client replies.
    printer.set_rx_dir(sockscope_core::session::received_dir(form.mode));
    wait_open(
        &session,
        &mut printer,
        Duration::from_secs_f32(form.connect_timeout_s) + STEP,
    )?;
    for command in &quick {
        let mut errors = sockscope_core::profile::FieldErrors::default();
        let selection = sockscope_core::session::Selection::Default;
        session
            .send_command(&form, command, selection, &mut errors)
            .map_err(|why| bad(why.to_string()))?;
    }
    if form.cyclic_on_open {
        let mut errors = sockscope_core::profile::FieldErrors::default();
        let selection = sockscope_core::session::Selection::Default;
        if let Err(why) = session.start_cyclic_form(&form, selection, &mut errors) {
            let _ = writeln!(io.stderr, "{why}");
        }
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    if follow(&session, &mut printer, None, deadline, &io.stop, |_| false) == Ended::OutputClosed {
        return Ok(OUTPUT_CLOSED);
    }
    print_rest(&mut session, &mut printer);
    hits::print_hits(&mut *io.stdout, &form, &session.capture(), args.json);
    // A message a rule fired on and could not answer is a loss: said, and not exit 0.
    if hits::any_failed(&session.capture()) {
        return Err(Failure(NOT_MATCHED, t(S::CliRulesFailed).to_owned()));
    }
    Ok(OK)
}
