//! The address inspector of the Tools menu: what kind of address an IPv4/IPv6 address is,
//! and for a CIDR its network, mask, broadcast and host range.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// Where an address can be reached from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// 0.0.0.0 or :: (all interfaces when bound).
    Unspecified,
    /// 127/8 or ::1.
    Loopback,
    /// RFC 1918: 10/8, 172.16/12, 192.168/16.
    Private,
    /// 169.254/16 or fe80::/10.
    LinkLocal,
    /// 224/4 or ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24 or 2001:db8::/32.
    Documentation,
    /// 100.64/10, carrier-grade NAT.
    Shared,
    /// fc00::/7.
    UniqueLocal,
    /// 240/4 (class E).
    Reserved,
    /// Anything else: reachable on the internet.
    Global,
}

/// A network given as a CIDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    /// Prefix length.
    pub prefix: u8,
    /// The network address.
    pub network: IpAddr,
    /// The mask.
    pub netmask: IpAddr,
    /// IPv4 broadcast address (IPv6 has none).
    pub broadcast: Option<IpAddr>,
    /// First and last usable host.
    pub hosts: (IpAddr, IpAddr),
    /// How many usable hosts (saturating at `u128::MAX` for ::/0).
    pub host_count: u128,
}

/// What the inspector says of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inspection {
    /// The address typed.
    pub addr: IpAddr,
    /// IPv4 class A–E (by the first octet).
    pub class: Option<char>,
    /// Where it can be reached from.
    pub scope: Scope,
    /// The network, when a prefix was given.
    pub network: Option<Network>,
}

/// Inspects `192.168.1.10`, `192.168.1.10/24`, `fe80::1` or `2001:db8::/48`; `None` if it is
/// neither an address nor a CIDR.
pub fn inspect(input: &str) -> Option<Inspection> {
    let input = input.trim();
    let (addr, network) = match input.parse::<IpNet>() {
        Ok(net) => (net.addr(), Some(network(net))),
        Err(_) => (input.parse::<IpAddr>().ok()?, None),
    };
    let class = match addr {
        IpAddr::V4(v4) => Some(match v4.octets() {
            [first, ..] => match first {
                0..=127 => 'A',
                128..=191 => 'B',
                192..=223 => 'C',
                224..=239 => 'D',
                _ => 'E',
            },
        }),
        IpAddr::V6(_) => None,
    };
    Some(Inspection {
        addr,
        class,
        scope: scope(addr),
        network,
    })
}

fn network(net: IpNet) -> Network {
    let bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size = 1u128.checked_shl(bits).unwrap_or(u128::MAX);
    let (broadcast, hosts, host_count) = match net {
        IpNet::V4(v4) => {
            let (first, last) = (u32::from(v4.network()), u32::from(v4.broadcast()));
            // /31 and /32 have no network or broadcast address to leave out (RFC 3021).
            let (first, last, count) = if bits <= 1 {
                (first, last, size)
            } else {
                (first + 1, last - 1, size - 2)
            };
            let hosts = (Ipv4Addr::from(first).into(), Ipv4Addr::from(last).into());
            (Some(IpAddr::V4(v4.broadcast())), hosts, count)
        }
        IpNet::V6(v6) => {
            let hosts = (v6.network().into(), v6.broadcast().into());
            (None, hosts, size)
        }
    };
    Network {
        prefix: net.prefix_len(),
        network: net.network(),
        netmask: net.netmask(),
        broadcast,
        hosts,
        host_count,
    }
}

fn scope(addr: IpAddr) -> Scope {
    match addr {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() {
                Scope::Unspecified
            } else if v4.is_loopback() {
                Scope::Loopback
            } else if v4.is_private() {
                Scope::Private
            } else if v4.is_link_local() {
                Scope::LinkLocal
            } else if v4.is_multicast() {
                Scope::Multicast
            } else if v4.is_broadcast() {
                Scope::Broadcast
            } else if v4.is_documentation() {
                Scope::Documentation
            } else if a == 100 && (64..128).contains(&b) {
                Scope::Shared
            } else if a >= 240 {
                Scope::Reserved
            } else {
                Scope::Global
            }
        }
        IpAddr::V6(v6) => {
            let [first, second, ..] = v6.segments();
            if v6.is_unspecified() {
                Scope::Unspecified
            } else if v6.is_loopback() {
                Scope::Loopback
            } else if v6.is_multicast() {
                Scope::Multicast
            } else if first & 0xffc0 == 0xfe80 {
                Scope::LinkLocal
            } else if first & 0xfe00 == 0xfc00 {
                Scope::UniqueLocal
            } else if first == 0x2001 && second == 0x0db8 {
                Scope::Documentation
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                scope(IpAddr::V4(v4))
            } else {
                Scope::Global
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classes_and_scopes_of_ipv4() {
        let cases = [
            ("10.1.2.3", 'A', Scope::Private),
            ("127.0.0.1", 'A', Scope::Loopback),
            ("8.8.8.8", 'A', Scope::Global),
            ("100.100.1.1", 'A', Scope::Shared),
            ("172.16.0.1", 'B', Scope::Private),
            ("169.254.1.1", 'B', Scope::LinkLocal),
            ("192.168.1.10", 'C', Scope::Private),
            ("192.0.2.7", 'C', Scope::Documentation),
            ("239.255.255.250", 'D', Scope::Multicast),
            ("250.0.0.1", 'E', Scope::Reserved),
            ("255.255.255.255", 'E', Scope::Broadcast),
            ("0.0.0.0", 'A', Scope::Unspecified),
        ];
        for (text, class, scope) in cases {
            let got = inspect(text).unwrap();
            assert_eq!((got.class, got.scope), (Some(class), scope), "{text}");
        }
    }

    #[test]
    fn scopes_of_ipv6() {
        for (text, scope) in [
            ("::1", Scope::Loopback),
            ("::", Scope::Unspecified),
            ("fe80::1", Scope::LinkLocal),
            ("fd12:3456::1", Scope::UniqueLocal),
            ("ff02::1", Scope::Multicast),
            ("2001:db8::1", Scope::Documentation),
            ("2606:4700::1111", Scope::Global),
            ("::ffff:192.168.0.1", Scope::Private),
        ] {
            let got = inspect(text).unwrap();
            assert_eq!((got.class, got.scope), (None, scope), "{text}");
        }
    }

    #[test]
    fn an_ipv4_cidr_gives_network_broadcast_and_hosts() {
        let net = inspect("192.168.1.10/24").unwrap().network.unwrap();
        assert_eq!(net.network, ip("192.168.1.0"));
        assert_eq!(net.netmask, ip("255.255.255.0"));
        assert_eq!(net.broadcast, Some(ip("192.168.1.255")));
        assert_eq!(net.hosts, (ip("192.168.1.1"), ip("192.168.1.254")));
        assert_eq!(net.host_count, 254);
        let p2p = inspect("10.0.0.0/31").unwrap().network.unwrap();
        assert_eq!(
            (p2p.hosts, p2p.host_count),
            ((ip("10.0.0.0"), ip("10.0.0.1")), 2)
        );
        let one = inspect("10.0.0.5/32").unwrap().network.unwrap();
        assert_eq!(
            (one.hosts, one.host_count),
            ((ip("10.0.0.5"), ip("10.0.0.5")), 1)
        );
        let all = inspect("0.0.0.0/0").unwrap().network.unwrap();
        assert_eq!(all.host_count, (1u128 << 32) - 2);
    }

    #[test]
    fn an_ipv6_cidr_gives_its_range() {
        let net = inspect("2001:db8:abcd::/48").unwrap().network.unwrap();
        assert_eq!(net.network, ip("2001:db8:abcd::"));
        assert_eq!(net.broadcast, None);
        assert_eq!(net.hosts.1, ip("2001:db8:abcd:ffff:ffff:ffff:ffff:ffff"));
        assert_eq!(net.host_count, 1u128 << 80);
        assert_eq!(
            inspect("::/0").unwrap().network.unwrap().host_count,
            u128::MAX
        );
    }

    #[test]
    fn nonsense_is_none() {
        for text in [
            "",
            "300.1.1.1",
            "1.2.3.4/33",
            "fe80::1/129",
            "hello",
            "1.2.3.4/",
        ] {
            assert_eq!(inspect(text), None, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_inspects_without_panicking(text in ".{0,50}") {
            let _ = inspect(&text);
        }
    }
}
