//! The capture side under load: a flood past the log's cap keeps memory bounded with an exact
//! eviction count, and recording to a file keeps every byte.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sockscope_core::capture::{LogStore, RecordFormat, RecordKind};
use sockscope_core::codec::TextEncoding;
use sockscope_core::codec::framing::Framing;
use sockscope_core::engine::Mode;

use crate::util::{bound, open_session};

fn content(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((offset + i as u64).wrapping_mul(0x9E37_79B9) >> 11) as u8;
    }
}

#[test]
fn a_flood_past_the_cap_stays_bounded_counts_evictions_and_records_every_byte() {
    const TOTAL: u64 = 48 << 20;
    const CAP: usize = 2 << 20;
    let path = std::env::temp_dir().join(format!("sockscope-flood-{}.bin", std::process::id()));
    let recording = path.clone();
    let session = open_session(Mode::TcpServer, "127.0.0.1:0", None, Framing::None, |c| {
        c.log = LogStore::new(CAP, TextEncoding::UTF_8);
        c.start_recording(recording, RecordFormat::Raw).unwrap();
    });
    let addr = bound(&session);

    let sender = std::thread::Builder::new()
        .name("flood-peer".into())
        .spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            let mut buf = vec![0u8; 64 << 10];
            let mut sent = 0u64;
            while sent < TOTAL {
                content(sent, &mut buf);
                stream.write_all(&buf).unwrap();
                sent += buf.len() as u64;
            }
        })
        .unwrap();

    // The session folds on its I/O thread; the test looks in now and then, as a window would.
    let deadline = Instant::now() + Duration::from_mins(1);
    let mut peak_held = 0;
    while session.capture().counters.rx_bytes < TOTAL && Instant::now() < deadline {
        peak_held = peak_held.max(session.capture().log.held_bytes());
        std::thread::sleep(Duration::from_millis(5));
    }
    sender.join().unwrap();
    let mut capture = session.capture();
    assert_eq!(capture.counters.rx_bytes, TOTAL, "everything arrived");
    assert!(
        peak_held <= CAP,
        "the log held {peak_held} bytes, cap {CAP}"
    );

    // Exactly what was evicted plus what is held is what arrived.
    let (evicted_records, evicted_bytes) = capture.log.evicted();
    let held_payload: u64 = capture.log.iter().map(|r| r.bytes.len() as u64).sum();
    let data_records = capture.log.iter().filter(|r| !r.bytes.is_empty()).count() as u64;
    assert_eq!(evicted_bytes + held_payload, TOTAL);
    assert!(evicted_records > 0 && data_records > 0);
    eprintln!(
        "flood: {evicted_records} records ({evicted_bytes} bytes) evicted, {} held",
        capture.log.len()
    );

    // The recording has every byte, in order.
    capture.stop_recording().unwrap();
    let mut file = std::fs::File::open(&path).unwrap();
    assert_eq!(file.metadata().unwrap().len(), TOTAL);
    let (mut buf, mut want, mut offset) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20], 0u64);
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        content(offset, &mut want[..n]);
        assert!(buf[..n] == want[..n], "recording differs near {offset}");
        offset += n as u64;
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn gbk_cut_into_3_byte_frames_and_dribbled_shows_every_character_once() {
    // Fixed 3-byte frames cut most two-byte GBK characters in half; each frame is decoded on
    // its own when shown, with the half character the frame before it left.
    let framing = Framing::FixedLength(3);
    let session = open_session(Mode::TcpServer, "127.0.0.1:0", None, framing, |c| {
        c.log = LogStore::new(1 << 20, TextEncoding::GBK);
    });
    let addr = bound(&session);
    let text = "温度=25.3℃，设备上线 OK；报警：电压过低！";
    let wire = TextEncoding::GBK.encode(text).unwrap();
    assert_eq!(wire.len() % 3, 0, "whole frames only");
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();
    for byte in &wire {
        client.write_all(std::slice::from_ref(byte)).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let frames = wire.len() as u64 / 3;
    session.wait_until(Duration::from_secs(10), |c| {
        c.counters.rx_messages >= frames
    });
    let capture = session.capture();
    let shown: Vec<String> = capture
        .log
        .iter()
        .filter(|r| r.kind == RecordKind::Rx)
        .map(|r| r.text().into_owned())
        .collect();
    assert_eq!(shown.len() as u64, frames);
    assert_eq!(shown.concat(), text);
    assert_eq!(capture.counters.rx_bytes, wire.len() as u64);
}
