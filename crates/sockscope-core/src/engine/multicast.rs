//! UDP broadcast and multicast: the groups a socket joins (IPv4 and IPv6, on an interface the
//! user picks by name, source-specific for IPv4), the TTL / hop limit and loopback of what it
//! sends, and the interfaces with their directed-broadcast addresses for the window's lists.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use mio::net::UdpSocket;
use serde::{Deserialize, Serialize};
use socket2::SockRef;

use super::EngineError;
use crate::i18n::{S, tf};

/// A multicast group to receive, on one interface.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Group {
    /// The group address: 224.0.0.0/4 or ff00::/8.
    pub group: IpAddr,
    /// Source-specific join (SSM): only what this sender sends to the group (IPv4).
    pub source: Option<IpAddr>,
    /// The interface, by name (`eth0`, `Wi-Fi`); empty = the one the OS picks.
    pub interface: String,
}

impl Default for Group {
    fn default() -> Self {
        Self {
            group: IpAddr::V4(Ipv4Addr::new(239, 255, 0, 1)),
            source: None,
            interface: String::new(),
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(source) = self.source {
            write!(f, "{source}→")?;
        }
        write!(f, "{}", self.group)?;
        if !self.interface.is_empty() {
            write!(f, "%{}", self.interface)?;
        }
        Ok(())
    }
}

impl Group {
    /// Reads `[SOURCE@]GROUP[%INTERFACE]`: `239.1.2.3`, `ff15::7%eth0`, `10.0.0.9@232.1.1.1`.
    /// What is wrong is said as a sentence.
    pub fn parse(text: &str) -> Result<Group, String> {
        let text = text.trim();
        let ip = |t: &str| super::parse_ip(t).map_err(|e| e.to_string());
        let (source, rest) = match text.split_once('@') {
            Some((source, rest)) => (Some(ip(source)?), rest),
            None => (None, text),
        };
        let (group, interface) = match rest.split_once('%') {
            Some((group, interface)) => (group, interface.trim()),
            None => (rest, ""),
        };
        let group = ip(group)?;
        if !group.is_multicast() {
            return Err(EngineError::NotMulticast(group).to_string());
        }
        Ok(Group {
            group,
            source,
            interface: interface.to_owned(),
        })
    }
}

/// How a UDP socket sends and what it joins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UdpOptions {
    /// Time to live (IPv4) / hop limit (IPv6) of multicast sends; 1 = this network only.
    pub ttl: u32,
    /// Receive our own multicast sends (on this host).
    pub multicast_loop: bool,
    /// The interface multicast sends leave by, by name; empty = the OS's route.
    pub send_interface: String,
    /// Groups joined when the socket opens.
    pub groups: Vec<Group>,
}

impl Default for UdpOptions {
    fn default() -> Self {
        Self {
            ttl: 1,
            multicast_loop: true,
            send_interface: String::new(),
            groups: Vec::new(),
        }
    }
}

/// A network interface as the lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its index (IPv6 multicast needs it).
    pub index: u32,
    /// Its IPv4 addresses, each with its directed-broadcast address where it has one.
    pub v4: Vec<(Ipv4Addr, Option<Ipv4Addr>)>,
    /// It has IPv6 addresses.
    pub v6: bool,
}

/// The interfaces of this host, loopback last.
pub fn interfaces() -> Vec<Interface> {
    let mut found: Vec<Interface> = Vec::new();
    for iface in if_addrs::get_if_addrs().unwrap_or_default() {
        let at = match found.iter().position(|i| i.name == iface.name) {
            Some(at) => at,
            None => {
                found.push(Interface {
                    name: iface.name.clone(),
                    index: iface.index.unwrap_or(0),
                    v4: Vec::new(),
                    v6: false,
                });
                found.len() - 1
            }
        };
        let Some(entry) = found.get_mut(at) else {
            continue;
        };
        match iface.addr {
            if_addrs::IfAddr::V4(v4) => entry.v4.push((v4.ip, broadcast_of(v4.ip, v4.broadcast))),
            if_addrs::IfAddr::V6(_) => entry.v6 = true,
        }
    }
    found.sort_by_key(|i| (i.v4.iter().all(|(ip, _)| ip.is_loopback()), i.name.clone()));
    found
}

/// The directed-broadcast address the OS gives for `ip`, if it is one: an interface set up
/// without `brd` reports its own address (or 0.0.0.0), which is no broadcast at all.
fn broadcast_of(ip: Ipv4Addr, reported: Option<Ipv4Addr>) -> Option<Ipv4Addr> {
    reported.filter(|b| *b != ip && !b.is_unspecified())
}

fn find(name: &str) -> Result<Interface, EngineError> {
    interfaces()
        .into_iter()
        .find(|i| i.name == name)
        .ok_or_else(|| EngineError::NoInterface(name.to_owned()))
}

/// The IPv4 address that names interface `name` to the IPv4 socket options (empty: any).
fn v4_of(name: &str) -> Result<Ipv4Addr, EngineError> {
    if name.is_empty() {
        return Ok(Ipv4Addr::UNSPECIFIED);
    }
    let iface = find(name)?;
    iface
        .v4
        .first()
        .map(|(ip, _)| *ip)
        .ok_or(EngineError::NoInterfaceV4(name.to_owned()))
}

/// The index of interface `name` (empty: 0, the OS's choice).
fn index_of(name: &str) -> Result<u32, EngineError> {
    if name.is_empty() {
        return Ok(0);
    }
    Ok(find(name)?.index)
}

/// Checks a group before a join: a multicast address, of the socket's family.
fn check(group: &Group, local: SocketAddr) -> Result<(), EngineError> {
    if !group.group.is_multicast() {
        return Err(EngineError::NotMulticast(group.group));
    }
    if group.group.is_ipv4() != local.is_ipv4() {
        return Err(EngineError::GroupFamily {
            group: group.group,
            local,
        });
    }
    if group
        .source
        .is_some_and(|s| s.is_ipv4() != group.group.is_ipv4())
    {
        return Err(EngineError::SsmFamily(group.group));
    }
    Ok(())
}

/// Joins (`join`) or leaves a group on `socket`, bound to `local`.
pub(crate) fn membership(
    socket: &UdpSocket,
    local: SocketAddr,
    group: &Group,
    join: bool,
) -> Result<(), EngineError> {
    check(group, local)?;
    let sock = SockRef::from(socket);
    let failed = |source: io::Error| EngineError::Membership {
        join,
        group: group.to_string(),
        source,
    };
    match (group.group, group.source) {
        (IpAddr::V4(g), None) => {
            let iface = v4_of(&group.interface)?;
            if join {
                sock.join_multicast_v4(&g, &iface)
            } else {
                sock.leave_multicast_v4(&g, &iface)
            }
            .map_err(failed)
        }
        (IpAddr::V4(g), Some(IpAddr::V4(s))) => ssm_v4(&sock, s, g, &group.interface, join),
        (IpAddr::V6(g), None) => {
            let index = index_of(&group.interface)?;
            if join {
                sock.join_multicast_v6(&g, index)
            } else {
                sock.leave_multicast_v6(&g, index)
            }
            .map_err(failed)
        }
        (IpAddr::V6(_), Some(_)) => Err(EngineError::SsmV6),
        (IpAddr::V4(_), Some(IpAddr::V6(_))) => Err(EngineError::SsmFamily(group.group)),
    }
}

#[cfg(not(any(target_os = "macos", target_os = "ios", target_os = "openbsd")))]
fn ssm_v4(
    sock: &SockRef<'_>,
    source: Ipv4Addr,
    group: Ipv4Addr,
    interface: &str,
    join: bool,
) -> Result<(), EngineError> {
    let iface = v4_of(interface)?;
    if join {
        sock.join_ssm_v4(&source, &group, &iface)
    } else {
        sock.leave_ssm_v4(&source, &group, &iface)
    }
    .map_err(|e| EngineError::Membership {
        join,
        group: format!("{source}→{group}"),
        source: e,
    })
}

#[cfg(any(target_os = "macos", target_os = "ios", target_os = "openbsd"))]
fn ssm_v4(
    _sock: &SockRef<'_>,
    _source: Ipv4Addr,
    _group: Ipv4Addr,
    _interface: &str,
    _join: bool,
) -> Result<(), EngineError> {
    Err(EngineError::Unsupported(S::ErrNoSsm))
}

/// Sets TTL / hop limit, loopback and the sending interface of `socket`, bound to `local`.
pub(crate) fn configure(
    socket: &UdpSocket,
    local: SocketAddr,
    options: &UdpOptions,
) -> Result<(), EngineError> {
    let sock = SockRef::from(socket);
    let failed = |source: io::Error| EngineError::Io {
        context: S::CtxMulticastOptions,
        subject: local.to_string(),
        source,
    };
    if local.is_ipv4() {
        sock.set_multicast_ttl_v4(options.ttl.min(255))
            .map_err(failed)?;
        sock.set_multicast_loop_v4(options.multicast_loop)
            .map_err(failed)?;
        if !options.send_interface.is_empty() {
            let iface = v4_of(&options.send_interface)?;
            sock.set_multicast_if_v4(&iface).map_err(failed)?;
        }
    } else {
        sock.set_multicast_hops_v6(options.ttl.min(255))
            .map_err(failed)?;
        sock.set_multicast_loop_v6(options.multicast_loop)
            .map_err(failed)?;
        if !options.send_interface.is_empty() {
            let index = index_of(&options.send_interface)?;
            sock.set_multicast_if_v6(index).map_err(failed)?;
        }
    }
    Ok(())
}

/// The sentence for a failed join or leave.
pub(crate) fn membership_message(join: bool, group: &str, source: &io::Error) -> String {
    let already = source.kind() == io::ErrorKind::AddrInUse;
    match (join, already) {
        (true, true) => tf(S::ErrAlreadyJoined, &[&group]),
        (true, false) => tf(S::ErrJoin, &[&group, source]),
        (false, _) => tf(S::ErrLeave, &[&group, source]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interface_without_brd_offers_no_broadcast_address() {
        let ip = Ipv4Addr::new(10, 9, 0, 1);
        assert_eq!(broadcast_of(ip, Some(ip)), None, "its own address");
        assert_eq!(broadcast_of(ip, Some(Ipv4Addr::UNSPECIFIED)), None);
        assert_eq!(broadcast_of(ip, None), None);
        let brd = Ipv4Addr::new(10, 9, 0, 255);
        assert_eq!(broadcast_of(ip, Some(brd)), Some(brd));
    }

    #[test]
    fn a_group_must_be_multicast_and_of_the_sockets_family() {
        let v4: SocketAddr = "0.0.0.0:5000".parse().unwrap();
        let v6: SocketAddr = "[::]:5000".parse().unwrap();
        let group = |g: &str| Group {
            group: g.parse().unwrap(),
            ..Group::default()
        };
        let said = |r: Result<(), EngineError>| r.unwrap_err().to_string();
        assert_eq!(
            said(check(&group("10.0.0.1"), v4)),
            "10.0.0.1 is not a multicast group: IPv4 groups are 224.0.0.0 to 239.255.255.255, IPv6 groups start with ff"
        );
        assert_eq!(
            said(check(&group("239.1.2.3"), v6)),
            "239.1.2.3 is an IPv4 group and this socket is IPv6 ([::]:5000): bind to 0.0.0.0 to join it"
        );
        assert_eq!(
            said(check(&group("ff15::7"), v4)),
            "ff15::7 is an IPv6 group and this socket is IPv4 (0.0.0.0:5000): bind to :: to join it"
        );
        assert!(check(&group("239.1.2.3"), v4).is_ok());
        assert!(check(&group("ff15::7"), v6).is_ok());
    }

    #[test]
    fn an_unknown_interface_is_named() {
        assert_eq!(
            v4_of("no-such-nic0").unwrap_err().to_string(),
            "There is no network interface called no-such-nic0"
        );
        assert_eq!(v4_of("").unwrap(), Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn groups_parse_with_a_source_and_an_interface_and_display_as_typed() {
        for text in ["239.1.2.3", "ff15::7%eth0", "10.0.0.9@232.1.1.1%eth1"] {
            let g = Group::parse(text).unwrap();
            let shown = g.to_string().replace('→', "@");
            assert_eq!(shown, text);
        }
        assert_eq!(
            Group::parse("300.1.1.1").unwrap_err(),
            "300.1.1.1 is not an IP address: 300 is more than 255"
        );
        assert!(
            Group::parse("192.168.1.1")
                .unwrap_err()
                .contains("not a multicast group")
        );
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics(text in ".{0,40}") {
            let _ = Group::parse(&text);
        }
    }

    #[test]
    fn groups_display_with_their_source_and_interface() {
        let g = Group {
            group: "232.1.1.1".parse().unwrap(),
            source: Some("10.0.0.9".parse().unwrap()),
            interface: "eth1".into(),
        };
        assert_eq!(g.to_string(), "10.0.0.9→232.1.1.1%eth1");
    }

    #[test]
    fn loopback_has_an_index_and_an_ipv4_address() {
        let lo = interfaces()
            .into_iter()
            .find(|i| i.v4.iter().any(|(ip, _)| ip.is_loopback()));
        let lo = lo.expect("a loopback interface");
        assert!(lo.index > 0, "{lo:?}");
    }
}
