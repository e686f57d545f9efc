//! Ingest throughput: a loopback TCP stream into a TCP server session (engine + the capture's
//! log store, default cap) and the rate is printed. `scripts/perf` runs it beside socat, both
//! fed by the same fast sender, so the figures come from the same machine and moment.
//!
//!   cargo run --release --example ingest -- 1024            # framing off, own sender thread
//!   cargo run --release --example ingest -- 1024 prefix     # 4-byte LE length-prefix framing
//!   cargo run --release --example ingest -- 1024 prefix-engine  # the same, events counted and
//!                                   # dropped, no log store: the engine's own ceiling
//!   cargo run --release --example ingest -- 1024 prefix-gbk # framed, into a GBK session's log
//!   cargo run --release --example ingest -- 1024 lines      # 64-byte text lines, CRLF framing
//!   cargo run --release --example ingest -- 1024 MODE serve # listen and print the port, then
//!                                   # take the stream from an outside sender (socat); exits
//!                                   # when all of it is in the log
//!   cargo run --release --example ingest -- 1024 off-tls serve  # the same, framing off, over
//!                                   # TLS (a self-signed certificate made at Listen; the
//!                                   # sender: `socat … OPENSSL:127.0.0.1:PORT,verify=0`)
//!   cargo run --release --example ingest -- 1024 MODE file PATH   # write MODE's stream to a
//!                                   # file, for an outside sender
//!   cargo run --release --example ingest -- 1024 send HOST:PORT   # only send

#![allow(
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark whose setup fails should stop with the reason"
)]

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sockscope_core::capture::LinkState;
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::checksum::ByteOrder;
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::length::LengthPrefix;
use sockscope_core::engine::{
    Data, DataKind, Engine, Event, SessionConfig, Sink, Stamped, TlsSettings,
};
use sockscope_core::session::Session;

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

fn config(framing: Framing) -> SessionConfig {
    SessionConfig::tcp_server("127.0.0.1:0".parse().expect("address")).framing(framing)
}

/// A TCP server session on loopback with `framing`, its log in `encoding`, listening.
///
/// # Panics
/// If it does not start listening within 5 s.
pub fn server(framing: Framing, encoding: TextEncoding) -> (Session, SocketAddr) {
    server_of(config(framing), encoding)
}

/// A session opened with `config`, its log in `encoding`, listening.
fn server_of(config: SessionConfig, encoding: TextEncoding) -> (Session, SocketAddr) {
    let mut session = Session::new(Arc::new(|| {}));
    session.capture().log.set_encoding(encoding);
    session.open(config, false).expect("session");
    let mut addr = None;
    session.wait_until(Duration::from_secs(5), |c| {
        if let LinkState::Listening(local) = c.link {
            addr = Some(local);
        }
        addr.is_some()
    });
    (session, addr.expect("listening"))
}

/// Waits until `total` bytes are in the session's log, looking in every 2 ms as a window's
/// frames would (each look takes the capture's lock).
///
/// # Panics
/// If the stream stalls for 10 s.
pub fn wait_for_bytes(session: &Session, total: u64) {
    let (mut last, mut since) = (0, Instant::now());
    loop {
        let got = session.capture().counters.rx_bytes;
        if got >= total {
            return;
        }
        if got != last {
            (last, since) = (got, Instant::now());
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "stalled at {got} of {total} bytes"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Streams `total` bytes into a server session with `framing`; returns how long it took from
/// the first connect to the last byte in the log store.
///
/// # Panics
/// If the session does not start or the stream stalls for 10 s.
pub fn ingest(total: u64, framing: Framing) -> Duration {
    ingest_into(total, framing, TextEncoding::UTF_8)
}

/// [`ingest`] into a log that shows `encoding`.
///
/// # Panics
/// If the session does not start or the stream stalls for 10 s.
pub fn ingest_into(total: u64, framing: Framing, encoding: TextEncoding) -> Duration {
    let message = message(&framing);
    let (session, addr) = server(framing, encoding);
    let start = Instant::now();
    let sender = std::thread::Builder::new()
        .name("ingest-sender".into())
        .spawn(move || send(addr, total, &message))
        .expect("thread");
    wait_for_bytes(&session, total);
    let elapsed = start.elapsed();
    sender.join().expect("sender").expect("send");
    elapsed
}

/// A sink that counts received bytes once (raw reads with framing, messages without) and
/// drops the events: the engine's own ceiling.
struct Counting(Arc<AtomicU64>);

impl Sink for Counting {
    fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool {
        for (_, event) in events.drain(..) {
            match event {
                Event::Data(Data { kind, bytes, .. })
                    if kind == DataKind::Message || kind == DataKind::RawRead =>
                {
                    self.0.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                // Frames cut in place carry their read.
                Event::Frames(frames) if frames.in_read.is_some() => {
                    self.0
                        .fetch_add(frames.bytes.len() as u64, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        true
    }
}

/// The engine alone with `framing`: events counted, nothing stored.
fn engine_only(total: u64, framing: Framing) -> Duration {
    let counted = Arc::new(AtomicU64::new(0));
    let vars = Arc::new(std::sync::Mutex::new(
        sockscope_core::codec::payload::VarState::new(1, 1),
    ));
    let (tx, rx) = std::sync::mpsc::channel();
    let message = message(&framing);
    let engine = Engine::start(
        config(framing),
        vars,
        sockscope_core::engine::Buffers::default(),
        Box::new(Listening(Counting(Arc::clone(&counted)), Some(tx))),
        Arc::new(|| {}),
    )
    .expect("engine");
    let addr = rx.recv_timeout(Duration::from_secs(5)).expect("listening");
    let start = Instant::now();
    let sender = std::thread::Builder::new()
        .name("ingest-sender".into())
        .spawn(move || send(addr, total, &message))
        .expect("thread");
    while counted.load(Ordering::Relaxed) < total {
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed();
    sender.join().expect("sender").expect("send");
    drop(engine);
    elapsed
}

/// A counting sink that also tells where the listener is.
struct Listening(Counting, Option<std::sync::mpsc::Sender<SocketAddr>>);

impl Sink for Listening {
    fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool {
        for (_, event) in events.iter() {
            if let Event::Listening { local } = event
                && let Some(tx) = self.1.take()
            {
                let _ = tx.send(*local);
            }
        }
        self.0.try_deliver(events)
    }
}

#[allow(
    dead_code,
    reason = "the bench includes this file as a module and has its own main"
)]
fn main() {
    // As the program does (see its start).
    sockscope_core::engine::keep_large_buffers_off_the_heap();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mib: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1024);
    let total = mib << 20;
    let mode = args.get(1).map(String::as_str);
    if mode == Some("send") {
        let addr: SocketAddr = args
            .get(2)
            .and_then(|a| a.parse().ok())
            .expect("send HOST:PORT");
        let start = Instant::now();
        send(addr, total, &message(&Framing::None)).expect("send");
        println!("{:.0}", total as f64 / 1e6 / start.elapsed().as_secs_f64());
        return;
    }
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
    if args.get(2).map(String::as_str) == Some("file") {
        let path = args.get(3).expect("file PATH");
        write_stream(path, total, &message(&framing)).expect("stream file");
        return;
    }
    let tls = mode.is_some_and(|m| m.ends_with("-tls"));
    if args.get(2).map(String::as_str) == Some("serve") {
        // An outside sender: print the port, then wait for the whole stream in the log (its
        // plaintext, with TLS: the log counts what the session read, after decryption).
        let mut config = config(framing);
        if tls {
            // A self-signed certificate for localhost, made before Listen (not timed).
            config.tls = Some(TlsSettings::default());
        }
        let (session, addr) = server_of(config, encoding);
        println!("{}", addr.port());
        std::io::stdout().flush().expect("stdout");
        wait_for_bytes_patiently(&session, total);
        return;
    }
    assert!(!tls, "{mode:?} takes an outside TLS sender: add `serve`");
    let elapsed = if mode == Some("prefix-engine") {
        engine_only(total, framing)
    } else {
        ingest_into(total, framing, encoding)
    };
    println!("{:.0}", total as f64 / 1e6 / elapsed.as_secs_f64());
}

/// Writes `total` bytes of `message` repeated to `path`.
fn write_stream(path: &str, total: u64, message: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0;
    while written < total {
        let n = (total - written).min(message.len() as u64) as usize;
        out.write_all(&message[..n])?;
        written += n as u64;
    }
    out.flush()
}

/// [`wait_for_bytes`], but the sender may take a while to start.
fn wait_for_bytes_patiently(session: &Session, total: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while session.capture().counters.rx_bytes == 0 {
        assert!(Instant::now() < deadline, "no sender came");
        std::thread::sleep(Duration::from_millis(1));
    }
    wait_for_bytes(session, total);
    if std::env::var_os("INGEST_READS").is_some() {
        let c = session.capture();
        eprintln!(
            "reads {} (avg {} B), log {} records, evicted {:?}",
            c.counters.rx_messages,
            c.counters.rx_bytes / c.counters.rx_messages.max(1),
            c.log.len(),
            c.log.evicted()
        );
    }
}
