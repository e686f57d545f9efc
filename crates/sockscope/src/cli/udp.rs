//! `sockscope udp`: a UDP socket on the command line (unicast, broadcast, multicast).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::{Command as EngineCommand, Pace, SessionConfig, Target};
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::session::Session;

use super::print::Printer;
use super::{
    Ended, Failure, Io, OK, OUTPUT_CLOSED, args, bad, check_file, connect, follow, matcher_of,
    open, payload_of, print_rest, reply_of, resolve, stdin_message, verdict, wait_open, wait_sent,
};

/// The session `udp`'s flags describe, bound to `bind`.
fn udp_config(args: &args::UdpArgs, bind: SocketAddr) -> SessionConfig {
    SessionConfig::udp(bind, None).udp_options(args.udp_options())
}

/// A UDP socket bound to `bind` can send to `to`: the same family (`[::]` may reach IPv4
/// too, as a dual stack; a given address of the other family cannot). The OS would say
/// "Network is unreachable" on the first send, or the send would never be made.
fn same_family(bind: SocketAddr, to: Option<SocketAddr>) -> Result<(), Failure> {
    let dual_stack = bind.is_ipv6() && bind.ip().is_unspecified();
    match to {
        Some(to) if to.is_ipv4() != bind.is_ipv4() && !dual_stack => {
            let family = |a: SocketAddr| if a.is_ipv4() { 4 } else { 6 };
            Err(bad(tf(
                S::CliUdpFamilies,
                &[&bind, &family(bind), &to, &family(to)],
            )))
        }
        _ => Ok(()),
    }
}

pub(super) fn udp(args: &args::UdpArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let encoding = args.view.encoding;
    if args.view.framing != Framing::None {
        // Each datagram is one message: a framing would be ignored.
        return Err(bad(t(S::CliUdpNoFraming)));
    }
    let to = args.to.as_deref().map(resolve).transpose()?;
    // The socket's family follows --to unless --bind says otherwise.
    let bind = args.bind.unwrap_or(match to {
        Some(SocketAddr::V6(_)) => SocketAddr::from(([0u16; 8], 0)),
        _ => SocketAddr::from(([0, 0, 0, 0], 0)),
    });
    same_family(bind, to)?;
    check_file(args.send.send_file.as_deref())?;
    let mut matcher = matcher_of(&args.expect, encoding, &Framing::None)?;
    let payload = match payload_of(&args.send, encoding)? {
        None if args.to.is_some() && args.send.send_file.is_none() => stdin_message(io)?,
        given => given,
    };
    let sends_something = payload.is_some() || args.send.send_file.is_some();
    let to = match (to, sends_something) {
        (Some(to), _) => Some(Target::Addr(to)),
        (None, true) => return Err(bad(tf(S::CliUdpNeedsTo, &[]))),
        (None, false) => None,
    };
    let config = udp_config(args, bind);
    let reply = reply_of(
        args.echo,
        args.reply.as_deref(),
        args.reply_hex.as_deref(),
        encoding,
    )?;
    let mut session = open(config, encoding);
    if reply.is_some() {
        session.command(EngineCommand::SetReply(reply));
    }
    let mut printer = Printer::new(&mut *io.stdout, &args.view, false);
    wait_open(&session, &mut printer, Duration::from_secs(5))?;
    wait_joined(&session, &mut printer, args)?;
    let started = Instant::now();
    let mut sends = 0;
    if let (Some(to), Some(payload)) = (&to, payload) {
        match args.every {
            Some(every) => {
                session.start_cyclic(to.clone(), payload, every, args.count);
                sends = args.count.unwrap_or(0);
            }
            None => {
                session.send(to.clone(), payload);
                sends = 1;
            }
        }
    }
    if let (Some(to), Some(path)) = (&to, &args.send.send_file) {
        session.send_file(to.clone(), path.clone(), 1024, Pace::Unlimited);
    }
    if let Some(matcher) = &mut matcher {
        let deadline = started + args.timeout;
        let ended = follow(
            &session,
            &mut printer,
            Some(matcher),
            Some(deadline),
            &io.stop,
            |_| false,
        );
        return verdict(ended, args.timeout);
    }
    let deadline = args.duration.map(|d| Instant::now() + d);
    let received = if args.every.is_none() {
        args.count
    } else {
        None
    };
    let cyclic_forever = args.every.is_some() && args.count.is_none();
    if sends_something && received.is_none() && deadline.is_none() && !cyclic_forever {
        // Send and go: wait for the sends, then for what comes back shortly after.
        wait_sent(&session, &mut printer, &io.stop, sends);
        if let Some(error) = session.capture().last_error.clone() {
            return Err(bad(error.to_string()));
        }
        connect::linger(
            &session,
            &mut printer,
            &io.stop,
            Duration::from_millis(300),
            args.timeout,
        );
        // A failure said while lingering (an ICMP "port unreachable" for what was sent) ends
        // it as one said before: the exit code does not depend on which came first.
        if let Some(error) = session.capture().last_error.clone() {
            return Err(bad(error.to_string()));
        }
        return Ok(OK);
    }
    let ended = follow(&session, &mut printer, None, deadline, &io.stop, |c| {
        received.is_some_and(|n| c.counters.rx_messages >= n)
    });
    if ended == Ended::OutputClosed {
        return Ok(OUTPUT_CLOSED);
    }
    print_rest(&mut session, &mut printer);
    Ok(OK)
}

/// Every group of `--join` joined, or the first failure's sentence (exit 2).
fn wait_joined(
    session: &Session,
    printer: &mut Printer<'_>,
    args: &args::UdpArgs,
) -> Result<(), Failure> {
    if !args.join.is_empty() {
        // Every group joined, or the first failure's sentence (exit 2).
        session.wait_until(Duration::from_secs(2), |c| {
            c.groups.len() == args.join.len() || c.last_error.is_some()
        });
        let capture = session.capture();
        printer.print_new(&capture);
        if let Some(error) = capture.last_error.clone() {
            return Err(bad(error.to_string()));
        }
    }
    Ok(())
}
