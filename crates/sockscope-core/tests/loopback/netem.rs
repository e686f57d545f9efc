//! A lossy, slow network: two network namespaces this test creates, joined by a veth pair with
//! `tc netem` loss and delay on both ends (or, where the kernel has no netem, a slow link with a
//! small queue that drops what overflows). A SockScope TCP client session in one receives a
//! patterned stream from a peer in the other, and every byte arrives intact and in order.
//!
//! Needs root (or CAP_NET_ADMIN) and iproute2; without them it says why and passes as skipped.
//! The two sides run as helper processes of this same test binary (`ip netns exec … <self>`,
//! running only the helper test `netem::…`), so no code here switches namespaces itself.
//! Everything created is deleted at the end.

mod multicast;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::RecordKind;
use sockscope_core::engine::SessionConfig;
use sockscope_core::session::Session;

/// Bytes the peer sends: enough to see many retransmissions at 3 % loss.
const TOTAL: usize = 1 << 20;
/// The peer's address inside its namespace.
const PEER: &str = "10.231.7.2";
const CLIENT: &str = "10.231.7.1";
const PORT: u16 = 40_231;

/// Byte `i` of the stream: a pattern in which a lost, duplicated or reordered byte shows.
fn pattern(i: usize) -> u8 {
    (i.wrapping_mul(131) ^ (i >> 8)) as u8
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Impairs `dev`'s outgoing traffic: `netem` loss and delay where the kernel has it, else a
/// slow link with a small queue (`tbf`), which delays under load and drops what overflows.
fn impair(space: &str, dev: &str) -> Result<&'static str, String> {
    let tc = |args: &[&str]| {
        Command::new("ip")
            .args([
                "netns", "exec", space, "tc", "qdisc", "add", "dev", dev, "root",
            ])
            .args(args)
            .output()
            .map_err(|e| format!("tc: {e}"))
    };
    let netem = tc(&["netem", "loss", "3%", "delay", "15ms", "5ms"])?;
    if netem.status.success() {
        return Ok("netem loss 3% delay 15±5 ms");
    }
    let tbf = tc(&["tbf", "rate", "40mbit", "burst", "8kb", "limit", "6kb"])?;
    if tbf.status.success() {
        return Ok("tbf 40 Mbit/s with a 6 KB queue (no netem in this kernel)");
    }
    Err(format!(
        "tc: {}",
        String::from_utf8_lossy(&tbf.stderr).trim()
    ))
}

/// Packets the root qdisc of `dev` in `space` dropped so far.
fn dropped(space: &str, dev: &str) -> u64 {
    let out = Command::new("ip")
        .args([
            "netns", "exec", space, "tc", "-s", "qdisc", "show", "dev", dev,
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    // "Sent 123 bytes 4 pkt (dropped 5, overlimits 6 requeues 0)"
    out.split("dropped ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Two namespaces and a veth pair between them; deleted when dropped.
struct Namespaces {
    client: String,
    peer: String,
    /// The peer's end of the veth pair (its sending side is what loses packets).
    peer_dev: String,
    /// What impairment is on the link.
    impairment: &'static str,
}

impl Namespaces {
    fn create() -> Result<Self, String> {
        let tag = std::process::id();
        let mut ns = Self {
            client: format!("sockscope-c{tag}"),
            peer: format!("sockscope-p{tag}"),
            peer_dev: format!("ssp{tag}"),
            impairment: "",
        };
        ip(&["netns", "add", &ns.client])?;
        ip(&["netns", "add", &ns.peer])?;
        let (a, b) = (format!("ssc{tag}"), format!("ssp{tag}"));
        ip(&[
            "link", "add", &a, "netns", &ns.client, "type", "veth", "peer", "name", &b, "netns",
            &ns.peer,
        ])?;
        for (space, dev, addr) in [(&ns.client, &a, CLIENT), (&ns.peer, &b, PEER)] {
            let cidr = format!("{addr}/24");
            ip(&["-n", space, "addr", "add", &cidr, "dev", dev])?;
            ip(&["-n", space, "link", "set", dev, "up"])?;
            ip(&["-n", space, "link", "set", "lo", "up"])?;
            ns.impairment = impair(space, dev)?;
        }
        Ok(ns)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        // Deleting a namespace deletes its end of the veth pair, and with it the other end.
        let _ = ip(&["netns", "del", &self.client]);
        let _ = ip(&["netns", "del", &self.peer]);
    }
}

/// Runs this test binary's helper `name` (`peer_helper`, `multicast::broadcast_helper`: its
/// path in this module) inside namespace `space`.
fn helper(space: &str, name: &str) -> std::process::Child {
    let name = &format!("netem::{name}");
    let me = std::env::current_exe().unwrap();
    Command::new("ip")
        .args(["netns", "exec", space])
        .arg(me)
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOCKSCOPE_NETEM_HELPER", name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn output(child: std::process::Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn tcp_payload_arrives_intact_through_loss_and_delay() {
    if !Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        eprintln!("skipped: iproute2 (ip, tc) is not installed");
        return;
    }
    let ns = match Namespaces::create() {
        Ok(ns) => ns,
        Err(why) => {
            eprintln!("skipped: cannot create network namespaces here ({why})");
            return;
        }
    };
    let peer = helper(&ns.peer, "peer_helper");
    let client = helper(&ns.client, "client_helper");
    let (client_ok, client_out) = output(client);
    let (peer_ok, peer_out) = output(peer);
    let lost = dropped(&ns.peer, &ns.peer_dev);
    eprintln!(
        "link: {}; packets dropped on the way: {lost}",
        ns.impairment
    );
    drop(ns);
    assert!(peer_ok, "peer: {peer_out}");
    assert!(client_ok, "client: {client_out}");
    assert!(client_out.contains("received intact"), "{client_out}");
    assert!(lost > 0, "the link dropped nothing, so loss was not tested");
}

/// Inside the peer namespace: accept one connection and send the pattern.
#[test]
#[ignore = "a helper run by tcp_payload_arrives_intact_through_loss_and_delay"]
fn peer_helper() {
    if std::env::var("SOCKSCOPE_NETEM_HELPER").as_deref() != Ok("netem::peer_helper") {
        return;
    }
    let listener = TcpListener::bind((PEER, PORT)).unwrap();
    let (mut stream, _) = listener.accept().unwrap();
    let data: Vec<u8> = (0..TOTAL).map(pattern).collect();
    stream.write_all(&data).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    // Wait for the client to close, so nothing is cut short.
    let _ = stream.read(&mut [0u8; 1]);
}

/// Inside the client namespace: a SockScope TCP client session receives the whole stream.
#[test]
#[ignore = "a helper run by tcp_payload_arrives_intact_through_loss_and_delay"]
fn client_helper() {
    if std::env::var("SOCKSCOPE_NETEM_HELPER").as_deref() != Ok("netem::client_helper") {
        return;
    }
    let remote: SocketAddr = format!("{PEER}:{PORT}").parse().unwrap();
    // The peer may still be starting: try again for a few seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut session = Session::new(Arc::new(|| {}));
    loop {
        let config = SessionConfig::tcp_client(remote);
        session.open(config, false).unwrap();
        // Done when everything arrived or the connection ended.
        session.wait_until(Duration::from_mins(1), |c| {
            c.counters.rx_bytes as usize >= TOTAL || c.stopped
        });
        let (got, refused) = {
            let c = session.capture();
            (
                c.counters.rx_bytes,
                c.last_error.is_some() && c.counters.rx_bytes == 0,
            )
        };
        if refused && Instant::now() < deadline {
            eprintln!("retrying: {:?}", session.capture().last_error);
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert!(got as usize >= TOTAL, "{got} of {TOTAL} bytes");
        break;
    }
    let received: Vec<u8> = session
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .flat_map(|r| r.bytes.iter().copied())
        .collect();
    assert_eq!(received.len(), TOTAL);
    let first_bad = received
        .iter()
        .enumerate()
        .find(|(i, b)| **b != pattern(*i));
    assert_eq!(first_bad, None, "a byte differs");
    println!("received intact: {TOTAL} bytes");
}
