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
    /// TCP: bytes of this direction of the stream that the capture does not hold right
    /// before these (a gap: a frame across it is cut); 0 when none are missing.
    pub missing: u64,
}

/// A packet as read, before TCP segments are put in order.
struct Packet {
    payload: Payload,
    /// TCP: the sequence number and whether it is a SYN.
    seq: Option<(u32, bool)>,
}

/// The packet's TCP or UDP payload, if it has one (or is a TCP SYN, which numbers the stream).
fn payload(link: DataLink, data: &[u8], time: Duration) -> Option<Packet> {
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
    let (sport, dport, bytes, seq) = match sliced.transport? {
        TransportSlice::Tcp(t) => (
            t.source_port(),
            t.destination_port(),
            t.payload(),
            Some((t.sequence_number(), t.syn())),
        ),
        TransportSlice::Udp(u) => (u.source_port(), u.destination_port(), u.payload(), None),
        _ => return None,
    };
    if bytes.is_empty() && !seq.is_some_and(|(_, syn)| syn) {
        return None;
    }
    Some(Packet {
        payload: Payload {
            time,
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            tcp: seq.is_some(),
            bytes: bytes.to_vec(),
            missing: 0,
        },
        seq,
    })
}

/// Out-of-order segments held per direction before the bytes between are taken as lost.
const MAX_HELD: usize = 256;

/// One direction of a TCP stream being put in order.
#[derive(Default)]
struct Stream {
    /// The sequence number of the next byte expected.
    next: Option<u32>,
    /// Segments that came before their turn.
    held: Vec<(u32, Payload)>,
}

impl Stream {
    /// Takes a segment: what of it is new, in order, goes to `out` (with any held segment
    /// it lets through); a retransmission of bytes already taken is dropped.
    fn take(&mut self, seq: u32, p: Payload, out: &mut Vec<Payload>) {
        let next = *self.next.get_or_insert(seq);
        let ahead = seq.wrapping_sub(next).cast_signed();
        if ahead > 0 {
            self.held.push((seq, p));
            if self.held.len() > MAX_HELD {
                self.skip_gap(out);
            }
            return;
        }
        self.put(next, ahead, p, 0, out);
        self.release(out);
    }

    /// Puts `p` (which begins `ahead` ≤ 0 bytes from `next`) in order.
    fn put(&mut self, next: u32, ahead: i32, mut p: Payload, missing: u64, out: &mut Vec<Payload>) {
        let skip = usize::try_from(ahead.unsigned_abs()).unwrap_or(usize::MAX);
        if skip >= p.bytes.len() {
            return;
        }
        p.bytes.drain(..skip);
        let len = u32::try_from(p.bytes.len()).unwrap_or(u32::MAX);
        self.next = Some(next.wrapping_add(len));
        p.missing = missing;
        out.push(p);
    }

    /// Held segments whose turn came.
    fn release(&mut self, out: &mut Vec<Payload>) {
        while let Some(next) = self.next
            && let Some(k) = self
                .held
                .iter()
                .position(|(seq, _)| seq.wrapping_sub(next).cast_signed() <= 0)
        {
            let (seq, p) = self.held.swap_remove(k);
            self.put(next, seq.wrapping_sub(next).cast_signed(), p, 0, out);
        }
    }

    /// Bytes the capture does not hold: goes on from the first held segment, saying how
    /// many were lost.
    fn skip_gap(&mut self, out: &mut Vec<Payload>) {
        let Some(next) = self.next else { return };
        let Some(k) = (0..self.held.len())
            .min_by_key(|&k| self.held.get(k).map(|(seq, _)| seq.wrapping_sub(next)))
        else {
            return;
        };
        let (seq, p) = self.held.swap_remove(k);
        let missing = u64::from(seq.wrapping_sub(next));
        self.put(seq, 0, p, missing, out);
        self.release(out);
    }
}

/// Payloads in capture order, each TCP direction put in order by sequence number as tshark
/// does: a retransmitted segment's bytes are taken once, segments that came out of order are
/// put back in order, and bytes the capture does not hold are said (`missing`).
fn in_order(packets: Vec<Packet>) -> Vec<Payload> {
    let mut streams: std::collections::HashMap<(SocketAddr, SocketAddr), Stream> =
        std::collections::HashMap::new();
    let mut order: Vec<(SocketAddr, SocketAddr)> = Vec::new();
    let mut out = Vec::with_capacity(packets.len());
    for Packet { payload, seq } in packets {
        let Some((seq, syn)) = seq else {
            out.push(payload);
            continue;
        };
        let key = (payload.src, payload.dst);
        let stream = streams.entry(key).or_insert_with(|| {
            order.push(key);
            Stream::default()
        });
        if syn {
            // The SYN takes one sequence number; its data (rare) follows it.
            stream.next = Some(seq.wrapping_add(1));
            if payload.bytes.is_empty() {
                continue;
            }
            stream.take(seq.wrapping_add(1), payload, &mut out);
            continue;
        }
        stream.take(seq, payload, &mut out);
    }
    // At the end, what is still held comes after a gap.
    for key in order {
        if let Some(stream) = streams.get_mut(&key) {
            while !stream.held.is_empty() {
                stream.skip_gap(&mut out);
            }
        }
    }
    out
}

/// Every TCP and UDP payload of a pcap or pcapng file, in capture order, each TCP direction
/// put in order by sequence number (a retransmission taken once, segments out of order put
/// back, a gap said by `missing`).
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
        return Ok(in_order(out));
    }
    let mut reader = pcap_file::pcap::PcapReader::new(file).map_err(bad)?;
    let link = reader.header().datalink;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(bad)?;
        out.extend(payload(link, &packet.data, packet.timestamp));
    }
    Ok(in_order(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn segment(seq: u32, bytes: &[u8]) -> Packet {
        let addr = |port| SocketAddr::from(([10, 0, 0, 1], port));
        Packet {
            payload: Payload {
                time: Duration::ZERO,
                src: addr(40000),
                dst: addr(502),
                tcp: true,
                bytes: bytes.to_vec(),
                missing: 0,
            },
            seq: Some((seq, false)),
        }
    }

    proptest! {
        /// However a stream's segments are captured — some twice, some swapped with the next,
        /// the sequence numbers wrapping — the stream comes out once, in order, with no gap.
        #[test]
        fn segments_resent_or_out_of_order_give_the_stream_once(
            stream in proptest::collection::vec(any::<u8>(), 1..400),
            cuts in proptest::collection::vec(1usize..400, 0..20),
            again in proptest::collection::vec(any::<bool>(), 20),
            swap in proptest::collection::vec(any::<bool>(), 20),
            isn in any::<u32>(),
        ) {
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|c| *c < stream.len()).collect();
            bounds.push(0);
            bounds.push(stream.len());
            bounds.sort_unstable();
            bounds.dedup();
            let mut packets: Vec<Packet> = Vec::new();
            for (n, w) in bounds.windows(2).enumerate() {
                let (a, b) = (w[0], w[1]);
                let seq = isn.wrapping_add(u32::try_from(a).unwrap());
                packets.push(segment(seq, &stream[a..b]));
                if again.get(n).copied().unwrap_or(false) {
                    packets.push(segment(seq, &stream[a..b]));
                }
            }
            // Swap a segment with the next one (never the first: that numbers the stream).
            for k in 1..packets.len().saturating_sub(1) {
                if swap.get(k).copied().unwrap_or(false) {
                    packets.swap(k, k + 1);
                }
            }
            let out = in_order(packets);
            prop_assert!(out.iter().all(|p| p.missing == 0));
            let joined: Vec<u8> = out.iter().flat_map(|p| p.bytes.clone()).collect();
            prop_assert_eq!(joined, stream);
        }
    }

    #[test]
    fn bytes_never_captured_are_said_where_they_were() {
        let out = in_order(vec![segment(100, b"abc"), segment(108, b"xyz")]);
        let got: Vec<(&[u8], u64)> = out.iter().map(|p| (&p.bytes[..], p.missing)).collect();
        assert_eq!(got, [(&b"abc"[..], 0), (&b"xyz"[..], 5)]);
    }
}
