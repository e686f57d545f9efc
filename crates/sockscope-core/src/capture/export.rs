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

/// The head of a data record's text-log line: time, arrow, peer, byte count (what the line
/// counts: with `as_hex` every byte, else the payload without a length header), the
/// WebSocket kind and "(partial)"; the payload is not looked at (a view that shows only a
/// part of it need not decode all of it).
pub fn log_head(record: &Record<'_>, as_hex: bool) -> String {
    let mut line = format!("{} {}", timestamp(record.at), arrow(record.kind));
    if let Some(peer) = record.peer {
        let _ = write!(line, " {peer}");
    }
    let partial = if record.partial { " (partial)" } else { "" };
    let len = if as_hex {
        record.bytes.len()
    } else {
        record.payload().len()
    };
    let ws = record.ws.map(|k| format!(", {k}")).unwrap_or_default();
    let _ = write!(line, " [{len} B{ws}]{partial}");
    line
}

/// One record as a text-log line (without the newline).
pub fn log_line(record: &Record<'_>, as_hex: bool) -> String {
    match record.kind {
        RecordKind::Rx | RecordKind::Tx => {
            let mut line = log_head(record, as_hex);
            // The hex log keeps every byte; the text log shows what the view shows: a
            // length-prefixed message without its length header.
            let payload = if as_hex {
                hex::format(record.bytes)
            } else {
                let text = record.payload_text_head(usize::MAX);
                text::one_line(&text).into_owned()
            };
            let _ = write!(line, " {payload}");
            line
        }
        // A message names its peer itself.
        RecordKind::Info | RecordKind::Error => {
            format!(
                "{} {} {}",
                timestamp(record.at),
                arrow(record.kind),
                record.text()
            )
        }
    }
}

/// The byte-order mark a CSV file starts with, so spreadsheets read it as UTF-8.
pub const UTF8_BOM: &str = "\u{feff}";

fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Our end of every connection and socket the log's records went through, for the pcap
/// export's addresses. Connection ids are never reused within a session (a reconnect, a new
/// Listen and a new Open all get new ones), so each record finds its own connection's end.
#[derive(Clone, Debug, Default)]
pub struct LocalEnds {
    /// Each TCP connection's local address (the accepted or connected socket's own).
    pub conns: HashMap<ConnId, SocketAddr>,
    /// The UDP socket's address from a record on: `(first seq, address)`, oldest first (a tab
    /// that opened twice had two sockets).
    pub udp: Vec<(u64, SocketAddr)>,
    /// The connections this session opened (a client's, a relay's upstream); the others it
    /// accepted. The pcap's handshake starts on the side that connected.
    pub initiated: std::collections::HashSet<ConnId>,
    /// Datagrams to a socket bound to all addresses: the address they were sent to from a
    /// record on (`(first seq, address)`, oldest first), where the OS said it.
    pub udp_to: Vec<(u64, IpAddr)>,
}

impl LocalEnds {
    /// Our end of `record`'s connection or socket, if known.
    pub fn of(&self, record: &Record<'_>) -> Option<SocketAddr> {
        match record.conn {
            Some(conn) => self.conns.get(&conn).copied(),
            None => {
                let (opened, socket) = latest_before(&self.udp, record.seq)?;
                // A received datagram's own destination, if said since this socket opened.
                match latest_before(&self.udp_to, record.seq) {
                    Some((from, ip)) if from >= opened && record.kind == RecordKind::Rx => {
                        Some(SocketAddr::new(ip, socket.port()))
                    }
                    _ => Some(socket),
                }
            }
        }
    }
}

/// The newest entry of `list` (oldest first, by first record) that began at or before `seq`.
fn latest_before<T: Copy>(list: &[(u64, T)], seq: u64) -> Option<(u64, T)> {
    let after = list.partition_point(|(from, _)| *from <= seq);
    after.checked_sub(1).and_then(|i| list.get(i)).copied()
}

/// Writes `log` in `format`, all at once, with `ends` for the pcap headers. (The GUI uses
/// [`Exporter`], a slice per frame.)
pub fn export(
    log: &LogStore,
    format: ExportFormat,
    ends: &LocalEnds,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut exporter = Exporter::new(log, format, ends.clone(), out)?;
    while !exporter.step(log, usize::MAX)? {}
    Ok(())
}

/// Where an export writes: lines (text, hex, CSV) or pcap packets; nothing once finished.
enum Sink<W: Write> {
    Lines(W),
    Pcap(PcapWriter<W>),
    Done,
}

/// An export of what the log holds when it starts, written a slice at a time so a long log
/// never stalls a frame (a million records take a second or two). Records the cap evicts
/// before their turn are counted, not written; records that arrive meanwhile are not part of
/// it.
pub struct Exporter<W: Write> {
    format: ExportFormat,
    sink: Sink<W>,
    ends: LocalEnds,
    /// The address each peer reached a socket bound to a wildcard address on (looked up once
    /// per peer).
    routes: HashMap<IpAddr, Option<IpAddr>>,
    /// Per connection and direction: the next TCP sequence number, so Wireshark can follow
    /// each stream.
    tcp_seqs: HashMap<(Option<ConnId>, bool), u32>,
    /// The connections' sides whose FIN is written (a half-close, then the close).
    fins: std::collections::HashSet<(ConnId, bool)>,
    packet: Vec<u8>,
    line: String,
    /// The next record to write, and the first one not to.
    next: u64,
    end: u64,
    total: u64,
    /// Records written, and records evicted before they were.
    written: u64,
    missed: u64,
    /// Data records written (received or sent bytes).
    data: u64,
}

impl<W: Write> Exporter<W> {
    /// Starts an export of everything `log` holds now into `out` (header written already).
    pub fn new(
        log: &LogStore,
        format: ExportFormat,
        ends: LocalEnds,
        mut out: W,
    ) -> io::Result<Self> {
        let sink = match format {
            ExportFormat::Pcap => Sink::Pcap(PcapWriter::new(out).map_err(io::Error::other)?),
            ExportFormat::Csv => {
                // The byte-order mark tells Excel the file is UTF-8: without it, Excel on a
                // Chinese Windows reads it as GBK and shows mojibake.
                write!(out, "{UTF8_BOM}")?;
                writeln!(out, "time,direction,peer,length,hex,text")?;
                Sink::Lines(out)
            }
            ExportFormat::Text | ExportFormat::Hex => Sink::Lines(out),
        };
        let next = log.first_seq().unwrap_or_else(|| log.next_seq());
        let end = log.next_seq();
        Ok(Self {
            format,
            sink,
            ends,
            routes: HashMap::new(),
            tcp_seqs: HashMap::new(),
            fins: std::collections::HashSet::new(),
            packet: Vec::new(),
            line: String::new(),
            next,
            end,
            total: end - next,
            written: 0,
            data: 0,
            missed: 0,
        })
    }

    /// Writes up to `budget` more records; returns true when the export is complete (and
    /// flushed).
    pub fn step(&mut self, log: &LogStore, budget: usize) -> io::Result<bool> {
        if let Some(first) = log.first_seq().filter(|first| *first > self.next) {
            let gone = first.min(self.end) - self.next;
            self.missed += gone;
            self.next += gone;
        }
        let end = self.end;
        for record in log
            .iter_from(self.next)
            .take_while(|r| r.seq < end)
            .take(budget)
        {
            self.write(&record)?;
            self.written += 1;
            if matches!(record.kind, RecordKind::Rx | RecordKind::Tx) {
                self.data += 1;
            }
            self.next = record.seq + 1;
        }
        // The rest may have gone with a clear.
        if log.next_seq() <= self.next || log.first_seq().is_none() {
            self.missed += self.end.saturating_sub(self.next);
            self.next = self.end;
        }
        let done = self.next >= self.end;
        if done {
            match std::mem::replace(&mut self.sink, Sink::Done) {
                Sink::Lines(mut out) => out.flush()?,
                Sink::Pcap(writer) => writer.into_writer().flush()?,
                Sink::Done => {}
            }
        }
        Ok(done)
    }

    /// How far it is, 0 to 1.
    pub fn progress(&self) -> f32 {
        if self.total == 0 {
            1.0
        } else {
            (self.written + self.missed) as f32 / self.total as f32
        }
    }

    /// Records written, and records the cap evicted before their turn.
    pub fn counts(&self) -> (u64, u64) {
        (self.written, self.missed)
    }

    /// Data records written (a pcap holds these only, the log's messages are left out).
    pub fn data_written(&self) -> u64 {
        self.data
    }

    /// The format it writes.
    pub fn format(&self) -> ExportFormat {
        self.format
    }

    fn write(&mut self, record: &Record<'_>) -> io::Result<()> {
        match &mut self.sink {
            Sink::Lines(out) => {
                self.line.clear();
                match self.format {
                    ExportFormat::Csv => csv_line(&mut self.line, record),
                    format => self
                        .line
                        .push_str(&log_line(record, format == ExportFormat::Hex)),
                }
                writeln!(out, "{}", self.line)
            }
            Sink::Pcap(writer) => {
                let local = self
                    .ends
                    .of(record)
                    .map(|local| concrete(local, record.peer, &mut self.routes));
                if let (Some(conn), Some(peer), Some(event)) =
                    (record.conn, record.peer, record.event())
                {
                    let ours = self.ends.initiated.contains(&conn);
                    let flow = Flow::new(record, conn, peer, local);
                    let seqs = &mut self.tcp_seqs;
                    let packet = &mut self.packet;
                    // Each side's FIN once: a half-close said it before the close.
                    let mut fin = |writer: &mut PcapWriter<W>, seqs: &mut _, side: bool| {
                        if self.fins.insert((conn, side)) {
                            flow.fin(writer, seqs, side, packet)
                        } else {
                            Ok(())
                        }
                    };
                    return match event {
                        "connected" => flow.handshake(writer, seqs, ours, &mut self.packet),
                        "closed" => {
                            fin(writer, seqs, false)?;
                            fin(writer, seqs, true)
                        }
                        "closed-here" | "ws-closed" => {
                            fin(writer, seqs, true)?;
                            fin(writer, seqs, false)
                        }
                        "peer-finished" => fin(writer, seqs, false),
                        "reset" | "error" => flow.reset(writer, seqs, &mut self.packet),
                        _ => Ok(()),
                    };
                }
                write_packets(writer, record, local, &mut self.tcp_seqs, &mut self.packet)
            }
            Sink::Done => Ok(()),
        }
    }
}

/// One record as a CSV line: time, direction, peer, length, hex, text.
fn csv_line(line: &mut String, record: &Record<'_>) {
    csv_field(line, &timestamp(record.at));
    line.push(',');
    line.push_str(arrow(record.kind));
    line.push(',');
    csv_field(
        line,
        &record.peer.map(|p| p.to_string()).unwrap_or_default(),
    );
    let _ = write!(line, ",{},", record.bytes.len());
    csv_field(line, &hex::format(record.bytes));
    line.push(',');
    // Control bytes written raw (a NUL above all) break csv readers: escaped as in the text log.
    csv_field(line, &text::one_line(&record.text()));
}

/// Payload per synthetic packet, under the 65,535-byte IP limit with room for headers.
const PCAP_CHUNK: usize = 65_000;

/// `local` as the address the peer used: a socket bound to all interfaces (`0.0.0.0`, `::`)
/// was reached on one of them — the one this machine routes to the peer from (for a
/// loopback peer, loopback). Found with a UDP socket that connects and sends nothing.
fn concrete(
    local: SocketAddr,
    peer: Option<SocketAddr>,
    routes: &mut HashMap<IpAddr, Option<IpAddr>>,
) -> SocketAddr {
    let Some(peer) = peer.filter(|_| local.ip().is_unspecified()) else {
        return local;
    };
    let peer_ip = match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        ip @ IpAddr::V4(_) => ip,
    };
    let route = *routes.entry(peer_ip).or_insert_with(|| {
        let any: SocketAddr = match peer_ip {
            IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = std::net::UdpSocket::bind(any).ok()?;
        socket.connect((peer_ip, peer.port().max(1))).ok()?;
        socket.local_addr().ok().map(|a| a.ip())
    });
    route.map_or(local, |ip| SocketAddr::new(ip, local.port()))
}

/// A data record as synthetic Ethernet/IP/TCP-or-UDP packets (several when it is longer than
/// one IP packet holds); messages write nothing.
fn write_packets<W: Write>(
    writer: &mut PcapWriter<W>,
    record: &Record<'_>,
    local: Option<SocketAddr>,
    seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
    packet: &mut Vec<u8>,
) -> io::Result<()> {
    let (RecordKind::Rx | RecordKind::Tx, Some(peer)) = (record.kind, record.peer) else {
        return Ok(());
    };
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
        let ours = next_seq(seqs, record.conn, sent);
        let theirs = next_seq(seqs, record.conn, !sent);
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
                .write(packet, chunk)
                .map_err(|e| io::Error::other(e.to_string())),
            None => ip
                .udp(src.port(), dst.port())
                .write(packet, chunk)
                .map_err(|e| io::Error::other(e.to_string())),
        };
        written?;
        seqs.insert((record.conn, sent), ours.wrapping_add(chunk.len() as u32));
        let len = packet.len() as u32;
        writer
            .write_packet(&PcapPacket::new(time, len, packet))
            .map_err(io::Error::other)?;
    }
    Ok(())
}

/// The next sequence number of one direction of a connection: from its initial one, which
/// differs per connection and direction (a connection made again on the same ports is told
/// apart by it, as by its SYN).
fn next_seq(
    seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
    conn: Option<ConnId>,
    sent: bool,
) -> u32 {
    *seqs.entry((conn, sent)).or_insert_with(|| {
        let id = conn.map_or(0, |c| c.0);
        // Spread ids over the sequence space (a multiplicative hash), one side half away.
        (id.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32 ^ if sent { 0 } else { 0x8000_0000 }
    })
}

/// One TCP connection's ends, for the packets that open and close it.
struct Flow {
    conn: ConnId,
    local: SocketAddr,
    peer: SocketAddr,
    time: std::time::Duration,
}

/// TCP flags of a synthetic control packet.
#[derive(Clone, Copy, Default)]
struct Flags {
    syn: bool,
    ack: bool,
    fin: bool,
    rst: bool,
}

impl Flow {
    fn new(record: &Record<'_>, conn: ConnId, peer: SocketAddr, local: Option<SocketAddr>) -> Flow {
        let (peer, local) = same_family(peer, local);
        Flow {
            conn,
            local,
            peer,
            time: record.at.duration_since(UNIX_EPOCH).unwrap_or_default(),
        }
    }

    /// One control packet from our side (`sent`) or theirs; SYN and FIN take a sequence
    /// number, as in TCP.
    fn packet<W: Write>(
        &self,
        writer: &mut PcapWriter<W>,
        seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
        sent: bool,
        flags: Flags,
        packet: &mut Vec<u8>,
    ) -> io::Result<()> {
        let (src, dst) = if sent {
            (self.local, self.peer)
        } else {
            (self.peer, self.local)
        };
        let conn = Some(self.conn);
        let ours = next_seq(seqs, conn, sent);
        let theirs = next_seq(seqs, conn, !sent);
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
        let mut tcp = ip.tcp(src.port(), dst.port(), ours, 65_535);
        if flags.syn {
            tcp = tcp.syn();
        }
        if flags.fin {
            tcp = tcp.fin();
        }
        if flags.rst {
            tcp = tcp.rst();
        }
        if flags.ack {
            tcp = tcp.ack(theirs);
        }
        packet.clear();
        tcp.write(packet, &[])
            .map_err(|e| io::Error::other(e.to_string()))?;
        if flags.syn || flags.fin {
            seqs.insert((conn, sent), ours.wrapping_add(1));
        }
        let len = packet.len() as u32;
        writer
            .write_packet(&PcapPacket::new(self.time, len, packet))
            .map_err(io::Error::other)?;
        Ok(())
    }

    /// SYN, SYN-ACK, ACK: from our side when we connected (`ours`), else from the peer's.
    fn handshake<W: Write>(
        &self,
        writer: &mut PcapWriter<W>,
        seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
        ours: bool,
        packet: &mut Vec<u8>,
    ) -> io::Result<()> {
        let syn = Flags {
            syn: true,
            ..Flags::default()
        };
        let syn_ack = Flags {
            syn: true,
            ack: true,
            ..Flags::default()
        };
        let ack = Flags {
            ack: true,
            ..Flags::default()
        };
        self.packet(writer, seqs, ours, syn, packet)?;
        self.packet(writer, seqs, !ours, syn_ack, packet)?;
        self.packet(writer, seqs, ours, ack, packet)
    }

    /// One side's FIN (what the other side acknowledges).
    fn fin<W: Write>(
        &self,
        writer: &mut PcapWriter<W>,
        seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
        sent: bool,
        packet: &mut Vec<u8>,
    ) -> io::Result<()> {
        let fin = Flags {
            fin: true,
            ack: true,
            ..Flags::default()
        };
        let ack = Flags {
            ack: true,
            ..Flags::default()
        };
        self.packet(writer, seqs, sent, fin, packet)?;
        self.packet(writer, seqs, !sent, ack, packet)
    }

    /// A reset from the peer.
    fn reset<W: Write>(
        &self,
        writer: &mut PcapWriter<W>,
        seqs: &mut HashMap<(Option<ConnId>, bool), u32>,
        packet: &mut Vec<u8>,
    ) -> io::Result<()> {
        let rst = Flags {
            rst: true,
            ack: true,
            ..Flags::default()
        };
        self.packet(writer, seqs, false, rst, packet)
    }
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

    fn sample() -> (LogStore, LocalEnds) {
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
        let locals = LocalEnds {
            conns: HashMap::from([(ConnId(1), "[::ffff:10.0.0.1]:9000".parse().unwrap())]),
            udp: vec![(0, "[::1]:6000".parse().unwrap())],
            ..LocalEnds::default()
        };
        (log, locals)
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        export(&log, ExportFormat::Csv, &locals, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}time,direction,peer,length,hex,text\n"));
        // The record's own CR LF is escaped, as in the text log; the comma still quotes.
        let want = ",<-,192.0.2.7:5000,16,68 65 6C 6C 6F 2C 20 22 77 6F 72 6C 64 22 0D 0A,\"hello, \"\"world\"\"\\r\\n\"\n";
        assert!(text.contains(want), "{text}");
    }

    #[test]
    fn the_text_log_leaves_out_a_length_header_as_the_view_does_and_the_hex_log_keeps_it() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let mut frame = 6u32.to_le_bytes().to_vec();
        frame.extend("你好".as_bytes());
        log.push_frames_owned(UNIX_EPOCH, ConnId(1), peer, frame, &[10], 4);
        let mut text = Vec::new();
        export(&log, ExportFormat::Text, &LocalEnds::default(), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.ends_with("<- 192.0.2.7:5000 [6 B] 你好\n"), "{text}");
        let mut hex = Vec::new();
        export(&log, ExportFormat::Hex, &LocalEnds::default(), &mut hex).unwrap();
        let hex = String::from_utf8(hex).unwrap();
        assert!(
            hex.ends_with("[10 B] 06 00 00 00 E4 BD A0 E5 A5 BD\n"),
            "{hex}"
        );
    }

    #[test]
    fn csv_has_no_control_bytes_but_its_line_ends() {
        let mut log = LogStore::default();
        let peer = "192.0.2.7:5000".parse().unwrap();
        log.push_data(
            SystemTime::now(),
            Direction::Rx,
            None,
            peer,
            b"a\0b\x01\r\nc\x7f",
        );
        let mut out = Vec::new();
        export(&log, ExportFormat::Csv, &LocalEnds::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.bytes().all(|b| b == b'\n' || !b.is_ascii_control()),
            "{text:?}"
        );
        assert!(text.ends_with(",a\\0b\\x01\\r\\nc\\x7F\n"), "{text:?}");
    }

    #[test]
    fn text_and_hex_logs_have_a_line_per_record() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        export(&log, ExportFormat::Hex, &locals, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 5);
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .ends_with("-> 192.0.2.7:5000 [2 B] 01 02")
        );
        // An event line is the message alone: the messages name their peer themselves, so the
        // export adding it too printed it twice.
        let event = text.lines().nth(1).unwrap();
        assert!(
            event.ends_with(" -- connected") && !event.contains("192.0.2.7"),
            "{event}"
        );
    }

    #[test]
    fn pcap_export_reads_back_with_real_addresses_and_payloads() {
        let (log, locals) = sample();
        let mut out = Vec::new();
        export(&log, ExportFormat::Pcap, &locals, &mut out).unwrap();
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

    #[test]
    fn an_export_in_slices_writes_what_one_pass_writes() {
        let (log, locals) = sample();
        for format in ExportFormat::ALL {
            let mut whole = Vec::new();
            export(&log, format, &locals, &mut whole).unwrap();
            let mut sliced = Vec::new();
            let mut exporter = Exporter::new(&log, format, locals.clone(), &mut sliced).unwrap();
            let mut steps = 0;
            while !exporter.step(&log, 1).unwrap() {
                steps += 1;
                assert!(exporter.progress() < 1.0);
            }
            assert_eq!((exporter.counts(), steps), ((5, 0), 4), "{format:?}");
            drop(exporter);
            assert_eq!(sliced, whole, "{format:?}");
        }
    }

    #[test]
    fn records_evicted_before_their_turn_are_counted_and_later_ones_left_out() {
        let mut log = LogStore::new(1 << 20, TextEncoding::UTF_8);
        let peer: SocketAddr = "192.0.2.7:5000".parse().unwrap();
        let push = |log: &mut LogStore, i: u32| {
            let line = format!("rec-{i}");
            log.push_data(UNIX_EPOCH, Direction::Rx, None, peer, line.as_bytes());
        };
        for i in 100..110 {
            push(&mut log, i);
        }
        // Full: each new record evicts the oldest.
        log.set_cap(log.held_bytes());
        let held = log.len() as u64;
        let mut out = Vec::new();
        let mut exporter =
            Exporter::new(&log, ExportFormat::Text, LocalEnds::default(), &mut out).unwrap();
        assert!(!exporter.step(&log, 2).unwrap());
        // Five more arrive and push as many of the oldest out.
        for i in 200..205 {
            push(&mut log, i);
        }
        while !exporter.step(&log, 2).unwrap() {}
        let (written, missed) = exporter.counts();
        assert_eq!(
            (written, missed, held),
            (7, 3, 10),
            "2 written, 3 evicted, 5 written"
        );
        drop(exporter);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count() as u64, written);
        assert!(
            !text.contains("rec-2"),
            "nothing that came after the start:\n{text}"
        );
    }

    #[test]
    fn a_log_cleared_during_an_export_ends_it_with_the_rest_missed() {
        let (mut log, locals) = sample();
        let mut out = Vec::new();
        let mut exporter = Exporter::new(&log, ExportFormat::Csv, locals, &mut out).unwrap();
        assert!(!exporter.step(&log, 2).unwrap());
        log.clear();
        assert!(exporter.step(&log, 2).unwrap());
        assert_eq!(exporter.counts(), (2, 3));
    }
}
