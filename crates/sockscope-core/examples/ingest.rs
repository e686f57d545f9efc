//! Ingest throughput: a loopback TCP sender streams N MiB into a TCP server session (engine +
//! capture log store with its default cap) and the rate is printed. `scripts/perf` runs it
//! beside socat so the two figures come from the same machine and moment.
//!
//!   cargo run --release --example ingest -- 1024            # framing off
//!   cargo run --release --example ingest -- 1024 prefix     # 4-byte LE length-prefix framing
//!   cargo run --release --example ingest -- 1024 prefix-engine  # the same, events dropped
//!                                   # unread by a log store: the engine's own ceiling
//!   cargo run --release --example ingest -- 1024 prefix-gbk # framed, into a GBK session's log
//!   cargo run --release --example ingest -- 1024 lines      # 64-byte text lines, CRLF framing
//!   cargo run --release --example ingest -- 1024 send HOST:PORT   # only send (to socat)

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::Capture;
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::checksum::ByteOrder;
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::length::LengthPrefix;
use sockscope_core::engine::{Event, Mode, Session, SessionConfig};

/// The length prefix used for framed runs: 4 bytes, little endian, 1 KiB messages.
pub const PREFIX: LengthPrefix = LengthPrefix {
    width: 4,
    order: ByteOrder::Little,
    includes_header: false,
};

/// The message the sender repeats for `framing`: 1 KiB of bytes without framing, a 1 KiB
/// length-prefixed message, or a 64-byte text line ending in CRLF.
///
/// # Panics
/// Never: 1020 bytes fit a 4-byte length prefix.
pub fn message(framing: &Framing) -> Vec<u8> {
    match framing {
        Framing::LengthPrefix { .. } => PREFIX.wrap(&[0x5A; 1020]).expect("fits"),
        Framing::Delimiter { .. } => {
            b"T=25.3C H=61% P=1013hPa V=3.30 I=0.125A status=OK  seq=0000042\r\n".to_vec()
        }
        _ => vec![0x5A; 1024],
    }
}

/// CRLF framing, for the `lines` run.
pub fn crlf() -> Framing {
    Framing::Delimiter {
        delimiter: b"\r\n".to_vec(),
        keep: false,
    }
}

/// Sends `total` bytes to `addr` in 64 KiB writes of `message` repeated. Returns when all
/// are written.
pub fn send(addr: SocketAddr, total: u64, message: &[u8]) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr)?;
    let block: Vec<u8> = message
        .iter()
        .copied()
        .cycle()
        .take((64 << 10) / message.len() * message.len())
        .collect();
    let mut sent = 0;
    while sent < total {
        let n = (total - sent).min(block.len() as u64) as usize;
        stream.write_all(&block[..n])?;
        sent += n as u64;
    }
    Ok(())
}

/// Streams `total` bytes into a server session with `framing`; returns how long it took from
/// the first connect to the last byte in the log store.
///
/// # Panics
/// If the session does not start or the stream stalls for 10 s.
pub fn ingest(total: u64, framing: Framing) -> Duration {
    ingest_into(total, framing, true, TextEncoding::UTF_8)
}

/// [`ingest`], with the events folded into a [`Capture`] whose log shows `encoding`
/// (`capture_events`) or only counted.
///
/// # Panics
/// If the session does not start or the stream stalls for 10 s.
pub fn ingest_into(
    total: u64,
    framing: Framing,
    capture_events: bool,
    encoding: TextEncoding,
) -> Duration {
    let framed = framing != Framing::None;
    let message = message(&framing);
    let config = SessionConfig {
        mode: Mode::TcpServer,
        local: "127.0.0.1:0".parse().expect("address"),
        remote: None,
        connect_timeout: Duration::from_secs(5),
        framing,
    };
    let session = Session::start(config, Arc::new(|| {})).expect("session");
    let addr = loop {
        match session.event_timeout(Duration::from_secs(5)) {
            Some(Event::Listening { local }) => break local,
            Some(_) => {}
            None => panic!("no Listening event"),
        }
    };
    let mut capture = Capture::default();
    capture.begin(Mode::TcpServer);
    capture.framing_on = framed;
    capture.log.set_encoding(encoding);
    let start = Instant::now();
    let sender = std::thread::Builder::new()
        .name("ingest-sender".into())
        .spawn(move || send(addr, total, &message))
        .expect("thread");
    let mut counted = 0;
    while capture.counters.rx_bytes.max(counted) < total {
        match session.event_timeout(Duration::from_secs(10)) {
            Some(event) if !capture_events => {
                // Bytes count once: as raw reads with framing, as messages without.
                if let Event::Data(data) = event
                    && (!framed || data.kind == sockscope_core::engine::DataKind::RawRead)
                {
                    counted += data.bytes.len() as u64;
                }
            }
            Some(event) => capture.apply(event),
            None => panic!("stalled at {} of {total} bytes", capture.counters.rx_bytes),
        }
    }
    let elapsed = start.elapsed();
    sender.join().expect("sender").expect("send");
    elapsed
}

#[allow(
    dead_code,
    reason = "the bench includes this file as a module and has its own main"
)]
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let total = mib << 20;
    match args.get(1).map(String::as_str) {
        Some("send") => {
            let addr: SocketAddr = args
                .get(2)
                .and_then(|a| a.parse().ok())
                .expect("send HOST:PORT");
            let start = Instant::now();
            send(addr, total, &message(&Framing::None)).expect("send");
            println!("{:.0}", total as f64 / 1e6 / start.elapsed().as_secs_f64());
        }
        mode => {
            let framing = match mode {
                Some(m) if m.starts_with("prefix") => Framing::LengthPrefix {
                    prefix: PREFIX,
                    offset: 0,
                },
                Some("lines") => crlf(),
                _ => Framing::None,
            };
            let encoding = if mode == Some("prefix-gbk") {
                TextEncoding::GBK
            } else {
                TextEncoding::UTF_8
            };
            let elapsed = ingest_into(total, framing, mode != Some("prefix-engine"), encoding);
            println!("{:.0}", total as f64 / 1e6 / elapsed.as_secs_f64());
        }
    }
}
