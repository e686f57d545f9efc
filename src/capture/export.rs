//! Saving the log: as a text log (text or hex), as CSV, or as pcap with synthetic
//! Ethernet/IP/TCP-or-UDP headers carrying the real addresses and times, so Wireshark opens it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{SystemTime, UNIX_EPOCH};

use etherparse::PacketBuilder;
use pcap_file::pcap::{PcapPacket, PcapWriter};

use super::log::{LogStore, Record, RecordKind};
use crate::codec::{hex, text};
use crate::engine::ConnId;

/// The formats the log can be saved in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// One line per record with the payload as text.
    Text,
    /// One line per record with the payload as hex.
    Hex,
    /// time, direction, peer, length, hex, text.
    Csv,
    /// Packets for Wireshark.
    Pcap,
}

impl ExportFormat {
    /// Every format, in menu order.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Text,
        ExportFormat::Hex,
        ExportFormat::Csv,
        ExportFormat::Pcap,
    ];

    /// Menu label.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Text => "Text log",
            ExportFormat::Hex => "Hex log",
            ExportFormat::Csv => "CSV",
            ExportFormat::Pcap => "pcap (Wireshark)",
        }
    }

    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Text | ExportFormat::Hex => "log",
            ExportFormat::Csv => "csv",
            ExportFormat::Pcap => "pcap",
        }
    }
}

/// Local wall-clock time of a record, e.g. `2026-11-23 14:03:27.518`.
pub fn timestamp(at: SystemTime) -> String {
    let local: chrono::DateTime<chrono::Local> = at.into();
    local.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn arrow(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Rx => "<-",
        RecordKind::Tx => "->",
        RecordKind::Info => "--",
        RecordKind::Error => "!!",
    }
}

/// One record as a text-log line (without the newline).
pub fn log_line(record: &Record<'_>, as_hex: bool) -> String {
    let mut line = format!("{} {}", timestamp(record.at), arrow(record.kind));
    if let Some(peer) = record.peer {
        let _ = write!(line, " {peer}");
    }
    match record.kind {
        RecordKind::Rx | RecordKind::Tx => {
            let partial = if record.partial { " (partial)" } else { "" };
            let payload = if as_hex {
                hex::format(record.bytes)
            } else {
                text::one_line(&record.text()).into_owned()
            };
            let _ = write!(line, " [{} B]{partial} {payload}", record.bytes.len());
        }
        RecordKind::Info | RecordKind::Error => {
            let _ = write!(line, " {}", record.text());
        }
    }
    line
}

fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Writes `log` in `format`. `locals` gives each TCP connection's local address and `udp_local`
/// the UDP socket's, for the pcap headers.
pub fn export(
    log: &LogStore,
    format: ExportFormat,
    locals: &HashMap<ConnId, SocketAddr>,
    udp_local: Option<SocketAddr>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        ExportFormat::Text | ExportFormat::Hex => {
            for record in log.iter() {
                writeln!(out, "{}", log_line(&record, format == ExportFormat::Hex))?;
            }
        }
        ExportFormat::Csv => {
            writeln!(out, "time,direction,peer,length,hex,text")?;
            for record in log.iter() {
                let mut line = String::new();
                csv_field(&mut line, &timestamp(record.at));
                line.push(',');
                line.push_str(arrow(record.kind));
                line.push(',');
                csv_field(
                    &mut line,
                    &record.peer.map(|p| p.to_string()).unwrap_or_default(),
                );
                let _ = write!(line, ",{},", record.bytes.len());
                csv_field(&mut line, &hex::format(record.bytes));
                line.push(',');
                csv_field(&mut line, &record.text());
                writeln!(out, "{line}")?;
            }
        }
        ExportFormat::Pcap => write_pcap(log, locals, udp_local, out)?,
    }
    out.flush()
}

/// Payload per synthetic packet, under the 65,535-byte IP limit with room for headers.
const PCAP_CHUNK: usize = 65_000;

fn write_pcap(
    log: &LogStore,
    locals: &HashMap<ConnId, SocketAddr>,
    udp_local: Option<SocketAddr>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut writer = PcapWriter::new(out).map_err(io::Error::other)?;
    // Per connection and direction: the next TCP sequence number, so Wireshark can follow
    // each stream.
    let mut seqs: HashMap<(Option<ConnId>, bool), u32> = HashMap::new();
    let mut packet = Vec::new();
    for record in log.iter() {
        let (RecordKind::Rx | RecordKind::Tx, Some(peer)) = (record.kind, record.peer) else {
            continue;
        };
        let local = record
            .conn
            .and_then(|c| locals.get(&c).copied())
            .or(udp_local);
        let (peer, local) = same_family(peer, local);
        let sent = record.kind == RecordKind::Tx;
        let (src, dst) = if sent { (local, peer) } else { (peer, local) };
        let time = record.at.duration_since(UNIX_EPOCH).unwrap_or_default();
        let chunks: Vec<&[u8]> = if record.bytes.is_empty() {
            vec![&[]]
        } else {
            record.bytes.chunks(PCAP_CHUNK).collect()
        };
        for chunk in chunks {
            packet.clear();
            let ours = *seqs.get(&(record.conn, sent)).unwrap_or(&1);
            let theirs = *seqs.get(&(record.conn, !sent)).unwrap_or(&1);
            let macs = if sent {
                ([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
            } else {
                ([2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 1])
            };
            let eth = PacketBuilder::ethernet2(macs.0, macs.1);
            let ip = match (src.ip(), dst.ip()) {
                (IpAddr::V4(s), IpAddr::V4(d)) => eth.ipv4(s.octets(), d.octets(), 64),
                (s, d) => eth.ipv6(v6(s).octets(), v6(d).octets(), 64),
            };
            let written = match record.conn {
                Some(_) => ip
                    .tcp(src.port(), dst.port(), ours, 65_535)
                    .psh()
                    .ack(theirs)
                    .write(&mut packet, chunk)
                    .map_err(|e| io::Error::other(e.to_string())),
                None => ip
                    .udp(src.port(), dst.port())
                    .write(&mut packet, chunk)
                    .map_err(|e| io::Error::other(e.to_string())),
            };
            written?;
            seqs.insert((record.conn, sent), ours.wrapping_add(chunk.len() as u32));
            let len = packet.len() as u32;
            writer
                .write_packet(&PcapPacket::new(time, len, &packet))
                .map_err(io::Error::other)?;
        }
    }
    Ok(())
}

fn v6(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// Both addresses in one IP family (a v4-mapped peer on a `::` listener becomes plain IPv4).
fn same_family(peer: SocketAddr, local: Option<SocketAddr>) -> (SocketAddr, SocketAddr) {
    let plain = |a: SocketAddr| match a.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(a, |v4| SocketAddr::new(IpAddr::V4(v4), a.port())),
        IpAddr::V4(_) => a,
    };
    let peer = plain(peer);
    let local = local.map(plain);
    let local = match (peer.ip(), local) {
        (IpAddr::V4(_), Some(l)) if l.is_ipv4() => l,
        (IpAddr::V6(_), Some(l)) if l.is_ipv6() => l,
        (IpAddr::V4(_), l) => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), l.map_or(0, |l| l.port()))
        }
        (IpAddr::V6(_), l) => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), l.map_or(0, |l| l.port()))
        }
    };
    (peer, local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::TextEncoding;
    use crate::engine::Direction;
    use etherparse::{SlicedPacket, TransportSlice};
    use pcap_file::pcap::PcapReader;
    use std::time::Duration;

    fn sample() -> (LogStore, HashMap<ConnId, SocketAddr>) {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        log.push_data(
            at,
            Direction::Rx,
            Some(ConnId(1)),
            peer,
            b"hello, \"world\"\r\n",
        );
        log.push_message(
            at,
            RecordKind::Info,
            Some(ConnId(1)),
            Some(peer),
            "connected",
        );
        log.push_data(at, Direction::Tx, Some(ConnId(1)), peer, &[0x01, 0x02]);
        log.push_data(
            at,
            Direction::Rx,
            None,
            "[::1]:7000".parse().unwrap(),
            b"udp",
        );
        log.push_data(
            at,
            Direction::Rx,
            Some(ConnId(1)),
            peer,
            &vec![0xAB; 70_000],
        );
        let locals = HashMap::from([(ConnId(1), "[::ffff:10.0.0.1]:9000".parse().unwrap())]);
        (log, locals)
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        export(&log, ExportFormat::Csv, &locals, None, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("time,direction,peer,length,hex,text\n"));
        // A quoted field may hold the record's own CR LF.
        let want = ",<-,192.0.2.7:5000,16,68 65 6C 6C 6F 2C 20 22 77 6F 72 6C 64 22 0D 0A,\"hello, \"\"world\"\"\r\n\"\n";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn text_and_hex_logs_have_a_line_per_record() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        export(&log, ExportFormat::Hex, &locals, None, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 5);
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .ends_with("-> 192.0.2.7:5000 [2 B] 01 02")
        );
    }

    #[test]
    fn pcap_export_reads_back_with_real_addresses_and_payloads() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        let udp_local: SocketAddr = "[::1]:6000".parse().unwrap();
        export(&log, ExportFormat::Pcap, &locals, Some(udp_local), &mut out).unwrap();
        let mut reader = PcapReader::new(out.as_slice()).unwrap();
        let mut payloads: Vec<(String, String, Vec<u8>)> = Vec::new();
        let mut first_time = None;
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap();
            first_time.get_or_insert(packet.timestamp);
            let sliced = SlicedPacket::from_ethernet(&packet.data).unwrap();
            let (src, dst) = match sliced.net.unwrap() {
                etherparse::NetSlice::Ipv4(ip) => (
                    ip.header().source_addr().to_string(),
                    ip.header().destination_addr().to_string(),
                ),
                etherparse::NetSlice::Ipv6(ip) => (
                    ip.header().source_addr().to_string(),
                    ip.header().destination_addr().to_string(),
                ),
                etherparse::NetSlice::Arp(_) => unreachable!(),
            };
            let payload = match sliced.transport.unwrap() {
                TransportSlice::Tcp(tcp) => tcp.payload().to_vec(),
                TransportSlice::Udp(udp) => udp.payload().to_vec(),
                _ => unreachable!(),
            };
            payloads.push((src, dst, payload));
        }
        assert_eq!(first_time, Some(Duration::from_millis(1_700_000_000_123)));
        assert_eq!(
            payloads[0],
            (
                "192.0.2.7".into(),
                "10.0.0.1".into(),
                b"hello, \"world\"\r\n".to_vec()
            )
        );
        assert_eq!(
            payloads[1],
            ("10.0.0.1".into(), "192.0.2.7".into(), vec![1, 2])
        );
        assert_eq!(payloads[2], ("::1".into(), "::1".into(), b"udp".to_vec()));
        // 70,000 bytes go out as two packets under the IP size limit.
        let big: Vec<u8> = payloads[3..].iter().flat_map(|p| p.2.clone()).collect();
        assert_eq!((payloads.len(), big), (5, vec![0xAB; 70_000]));
    }
}
