//! The TCP and UDP payloads of a capture file (pcap or pcapng, from tcpdump or Wireshark), in
//! order, for decoding frames that were captured elsewhere (`sockscope decode --file`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::DataLink;

use crate::i18n::{S, tf};

/// One packet's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// When it was captured (since the Unix epoch).
    pub time: Duration,
    /// From.
    pub src: SocketAddr,
    /// To.
    pub dst: SocketAddr,
    /// TCP (a stream) or UDP (a datagram).
    pub tcp: bool,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// The packet's TCP or UDP payload, if it has one.
fn payload(link: DataLink, data: &[u8], time: Duration) -> Option<Payload> {
    let sliced = match link {
        DataLink::ETHERNET => SlicedPacket::from_ethernet(data).ok()?,
        DataLink::LINUX_SLL => SlicedPacket::from_linux_sll(data).ok()?,
        // BSD loopback: a 4-byte address family first.
        DataLink::NULL | DataLink::LOOP => SlicedPacket::from_ip(data.get(4..)?).ok()?,
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => SlicedPacket::from_ip(data).ok()?,
        _ => return None,
    };
    let (src, dst): (IpAddr, IpAddr) = match sliced.net? {
        NetSlice::Ipv4(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Ipv6(ip) => (
            ip.header().source_addr().into(),
            ip.header().destination_addr().into(),
        ),
        NetSlice::Arp(_) => return None,
    };
    let (sport, dport, bytes, tcp) = match sliced.transport? {
        TransportSlice::Tcp(t) => (t.source_port(), t.destination_port(), t.payload(), true),
        TransportSlice::Udp(u) => (u.source_port(), u.destination_port(), u.payload(), false),
        _ => return None,
    };
    if bytes.is_empty() {
        return None;
    }
    Some(Payload {
        time,
        src: SocketAddr::new(src, sport),
        dst: SocketAddr::new(dst, dport),
        tcp,
        bytes: bytes.to_vec(),
    })
}

/// Every TCP and UDP payload of a pcap or pcapng file, in capture order. (TCP segments are
/// taken as they were captured: a retransmission appears twice.)
pub fn read(file: &[u8]) -> Result<Vec<Payload>, String> {
    let bad = |e: pcap_file::PcapError| tf(S::ProtoPcapBad, &[&e]);
    let mut out = Vec::new();
    if file.starts_with(&[0x0A, 0x0D, 0x0D, 0x0A]) {
        let mut reader = pcap_file::pcapng::PcapNgReader::new(file).map_err(bad)?;
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.map_err(bad)? {
                pcap_file::pcapng::Block::InterfaceDescription(idb) => links.push(idb.linktype),
                pcap_file::pcapng::Block::EnhancedPacket(epb) => {
                    let link = links
                        .get(epb.interface_id as usize)
                        .copied()
                        .unwrap_or(DataLink::ETHERNET);
                    out.extend(payload(link, &epb.data, epb.timestamp));
                }
                pcap_file::pcapng::Block::SimplePacket(spb) => {
                    let link = links.first().copied().unwrap_or(DataLink::ETHERNET);
                    out.extend(payload(link, &spb.data, Duration::ZERO));
                }
                _ => {}
            }
        }
        return Ok(out);
    }
    let mut reader = pcap_file::pcap::PcapReader::new(file).map_err(bad)?;
    let link = reader.header().datalink;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(bad)?;
        out.extend(payload(link, &packet.data, packet.timestamp));
    }
    Ok(out)
}
