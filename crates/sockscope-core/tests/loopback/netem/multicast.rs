//! Broadcast and multicast across a real link: two namespaces this test creates, joined by a
//! veth pair. A Python sender (a real third-party peer) in one; a SockScope UDP session in the
//! other joins a group on the veth interface by name, receives, leaves, and receives no more —
//! IPv4 and IPv6. SockScope also sends to a directed broadcast and to 255.255.255.255, and a
//! Python receiver bound to the port gets both.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::RecordKind;
use sockscope_core::engine::{Command as Cmd, Group, SessionConfig, Target, UdpOptions};
use sockscope_core::session::Session;

use super::{helper, ip, output};

const SENDER_V4: &str = "10.231.9.1";
const RECEIVER_V4: &str = "10.231.9.2";
const SENDER_V6: &str = "fd00:231:9::1";
const RECEIVER_V6: &str = "fd00:231:9::2";
const GROUP_V4: &str = "239.231.9.7";
const GROUP_V6: &str = "ff15::231:9";
const PORT: u16 = 40_239;
const BROADCAST_PORT: u16 = 40_240;
/// The receiver's veth end, as the helper sees it (the name is the same in every run: the
/// namespaces are the run's own).
const RECEIVER_DEV: &str = "ssm-r";

struct Pair {
    sender: String,
    receiver: String,
}

impl Pair {
    fn create() -> Result<Self, String> {
        let tag = std::process::id();
        let pair = Self {
            sender: format!("sockscope-ms{tag}"),
            receiver: format!("sockscope-mr{tag}"),
        };
        ip(&["netns", "add", &pair.sender])?;
        ip(&["netns", "add", &pair.receiver])?;
        ip(&[
            "link",
            "add",
            "ssm-s",
            "netns",
            &pair.sender,
            "type",
            "veth",
            "peer",
            "name",
            RECEIVER_DEV,
            "netns",
            &pair.receiver,
        ])?;
        for (space, dev, v4, v6) in [
            (&pair.sender, "ssm-s", SENDER_V4, SENDER_V6),
            (&pair.receiver, RECEIVER_DEV, RECEIVER_V4, RECEIVER_V6),
        ] {
            ip(&["-n", space, "addr", "add", &format!("{v4}/24"), "dev", dev])?;
            ip(&[
                "-n",
                space,
                "-6",
                "addr",
                "add",
                &format!("{v6}/64"),
                "dev",
                dev,
                "nodad",
            ])?;
            ip(&["-n", space, "link", "set", dev, "up"])?;
            ip(&["-n", space, "link", "set", "lo", "up"])?;
            // 255.255.255.255 leaves by the default route.
            ip(&["-n", space, "route", "add", "default", "dev", dev])?;
        }
        Ok(pair)
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.sender]);
        let _ = ip(&["netns", "del", &self.receiver]);
    }
}

/// Python in `space`: sends `tag-N` to `group` every 30 ms for `secs`, out of `iface`.
fn python_sender(
    space: &str,
    v6: bool,
    group: &str,
    iface: &str,
    secs: u32,
) -> std::process::Child {
    let script = format!(
        r#"
import socket, time
v6 = {v6}
s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
if v6:
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, socket.if_nametoindex("{iface}"))
else:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("{SENDER_V4}"))
end = time.time() + {secs}
n = 0
while time.time() < end:
    s.sendto(b"mc-%d" % n, ("{group}", {PORT}))
    n += 1
    time.sleep(0.03)
"#,
        v6 = if v6 { "True" } else { "False" }
    );
    Command::new("ip")
        .args(["netns", "exec", space, "python3", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_joined_group_is_received_on_the_chosen_interface_until_it_is_left_v4_and_v6() {
    if !have("ip", "-V") || !have("python3", "-V") {
        eprintln!("skipped: iproute2 or python3 is not installed");
        return;
    }
    let pair = match Pair::create() {
        Ok(pair) => pair,
        Err(why) => {
            eprintln!("skipped: cannot create network namespaces here ({why})");
            return;
        }
    };
    for (v6, group) in [(false, GROUP_V4), (true, GROUP_V6)] {
        let sender = python_sender(&pair.sender, v6, group, "ssm-s", 12);
        let name = if v6 {
            "multicast_v6_helper"
        } else {
            "multicast_v4_helper"
        };
        let (ok, out) = output(helper(&pair.receiver, &format!("multicast::{name}")));
        let mut sender = sender;
        let _ = sender.kill();
        let _ = sender.wait();
        assert!(ok, "{name}: {out}");
        assert!(
            out.contains("received while joined, none after leaving"),
            "{out}"
        );
    }
    // SockScope sends to the directed broadcast and to 255.255.255.255; Python receives both.
    let (ok, out) = broadcast(&pair);
    drop(pair);
    assert!(ok, "{out}");
    assert!(out.contains("directed") && out.contains("limited"), "{out}");
}

fn broadcast(pair: &Pair) -> (bool, String) {
    let script = format!(
        r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", {BROADCAST_PORT}))
s.settimeout(10)
got = set()
while len(got) < 2:
    data, peer = s.recvfrom(100)
    got.add(data.decode())
print(" ".join(sorted(got)))
"#
    );
    let receiver = Command::new("ip")
        .args(["netns", "exec", &pair.sender, "python3", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (ok, helper_out) = output(helper(&pair.receiver, "multicast::broadcast_helper"));
    let (py_ok, py_out) = output(receiver);
    (ok && py_ok, format!("{helper_out}\n{py_out}"))
}

fn udp_session(local: &str, udp: UdpOptions) -> Session {
    let mut session = Session::new(Arc::new(|| {}));
    let config = SessionConfig::udp(local.parse().unwrap(), None).udp_options(udp);
    session.open(config, false).unwrap();
    session
}

fn received(session: &Session) -> usize {
    session
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .count()
}

/// In the receiver namespace: join on the veth by name, receive, leave, receive nothing.
fn join_receive_leave(local: &str, group: &str) {
    let group = Group {
        interface: RECEIVER_DEV.into(),
        ..Group::parse(group).unwrap()
    };
    let session = udp_session(
        local,
        UdpOptions {
            groups: vec![group.clone()],
            ..UdpOptions::default()
        },
    );
    assert!(
        session.wait_until(Duration::from_secs(5), |c| c.groups.contains(&group)),
        "not joined: {:?}",
        session.capture().last_error
    );
    assert!(
        session.wait_until(Duration::from_secs(5), |c| {
            c.log.iter().filter(|r| r.kind == RecordKind::Rx).count() >= 5
        }),
        "joined but received {}",
        received(&session)
    );
    session.command(Cmd::Leave(group.clone()));
    assert!(session.wait_until(Duration::from_secs(5), |c| c.groups.is_empty()));
    // What was on its way when we left may still land; after that, nothing.
    std::thread::sleep(Duration::from_millis(300));
    let after_leave = received(&session);
    std::thread::sleep(Duration::from_millis(900));
    let later = received(&session);
    assert_eq!(later, after_leave, "datagrams kept coming after leaving");
    // Joining again receives again: the leave was the only thing that stopped it.
    session.command(Cmd::Join(group));
    assert!(session.wait_until(Duration::from_secs(5), |c| {
        c.log.iter().filter(|r| r.kind == RecordKind::Rx).count() > later + 3
    }));
    println!("received while joined, none after leaving");
}

#[test]
#[ignore = "a helper run by the multicast test"]
fn multicast_v4_helper() {
    if std::env::var("SOCKSCOPE_NETEM_HELPER").as_deref()
        == Ok("netem::multicast::multicast_v4_helper")
    {
        join_receive_leave(&format!("0.0.0.0:{PORT}"), GROUP_V4);
    }
}

#[test]
#[ignore = "a helper run by the multicast test"]
fn multicast_v6_helper() {
    if std::env::var("SOCKSCOPE_NETEM_HELPER").as_deref()
        == Ok("netem::multicast::multicast_v6_helper")
    {
        join_receive_leave(&format!("[::]:{PORT}"), GROUP_V6);
    }
}

#[test]
#[ignore = "a helper run by the multicast test"]
fn broadcast_helper() {
    if std::env::var("SOCKSCOPE_NETEM_HELPER").as_deref()
        != Ok("netem::multicast::broadcast_helper")
    {
        return;
    }
    let session = udp_session("0.0.0.0:0", UdpOptions::default());
    session.wait_listening(Duration::from_secs(5)).unwrap();
    // The Python receiver may still be starting: send both a few times.
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        for (to, text) in [("10.231.9.255", "directed"), ("255.255.255.255", "limited")] {
            let to = Target::Addr(format!("{to}:{BROADCAST_PORT}").parse().unwrap());
            session.command(Cmd::Send {
                to,
                bytes: text.as_bytes().to_vec(),
            });
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let errors: Vec<String> = session
        .capture()
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Error)
        .map(|r| r.text().into_owned())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
