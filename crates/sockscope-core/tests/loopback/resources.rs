//! Process-wide resources under and after heavy use: memory stays bounded in a flood, file
//! descriptors and threads come back to where they were. Measured in a process of its own (this
//! test binary again, running only the helper test), so no other test's sockets, threads or
//! memory are counted.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sockscope_core::capture::{Capture, LinkState, LogStore, RecordFormat};
use sockscope_core::codec::TextEncoding;
use sockscope_core::engine::SessionConfig;
use sockscope_core::session::Session;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// A TCP server session on loopback, listening; `setup` prepares its capture first.
fn server(setup: impl FnOnce(&mut Capture)) -> (Session, std::net::SocketAddr) {
    let config = SessionConfig::tcp_server("127.0.0.1:0".parse().unwrap());
    let mut session = Session::new(Arc::new(|| {}));
    setup(&mut session.capture());
    session.open(config, false).unwrap();
    let mut addr = None;
    session.wait_until(Duration::from_secs(5), |c| {
        if let LinkState::Listening(local) = c.link {
            addr = Some(local);
        }
        addr.is_some()
    });
    (session, addr.expect("listening"))
}

/// Waits until `done` holds for the capture; panics after 10 s.
fn wait(session: &Session, done: impl Fn(&Capture) -> bool) {
    let ok = session.wait_until(Duration::from_secs(10), done);
    assert!(ok, "stuck: {} clients", session.capture().clients.len());
}

/// Runs the measurement in a process of its own, where the harness runs nothing beside it:
/// descriptors, threads and memory are its alone.
#[test]
fn resources_stay_bounded_and_come_back() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "resources::measured_alone",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ALONE, "1")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{said}");
    assert!(out.status.success(), "the measurement failed");
    assert!(said.contains("1 passed"), "the measurement did not run");
}

/// Set for the process that measures.
const ALONE: &str = "SOCKSCOPE_RESOURCES_ALONE";

#[test]
#[ignore = "run alone, in its own process, by resources_stay_bounded_and_come_back"]
fn measured_alone() {
    if std::env::var_os(ALONE).is_none() {
        return;
    }
    a_five_second_flood_into_a_16_mib_cap_keeps_memory_bounded_and_records_every_byte();
    churn_of_2000_clients_leaks_no_descriptor_and_no_thread();
}

fn churn_of_2000_clients_leaks_no_descriptor_and_no_thread() {
    let (fds_before, threads_before) = (open_fds(), threads());
    {
        let (session, addr) = server(|_| {});
        for wave in 0..10u64 {
            let clients: Vec<TcpStream> = (0..200)
                .map(|_| {
                    let mut c = TcpStream::connect(addr).unwrap();
                    c.write_all(b"x").unwrap();
                    c
                })
                .collect();
            wait(&session, |c| c.counters.rx_bytes == (wave + 1) * 200);
            // While they are connected, the session holds one descriptor each.
            assert!(open_fds() >= fds_before + 200);
            drop(clients);
            wait(&session, |c| c.clients.is_empty());
        }
        // Back to the listener and the poll's own descriptors while the session lives.
        assert!(open_fds() < fds_before + 20, "{} open", open_fds());
    }
    // The session is dropped: its thread joined, its sockets and poll closed.
    assert_eq!(open_fds(), fds_before);
    assert_eq!(threads(), threads_before);
}

const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);

fn crc_of_file(path: &std::path::Path) -> u32 {
    let mut digest = CRC.digest();
    let mut file = std::fs::File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut file, &mut buf).unwrap();
        if n == 0 {
            return digest.finalize();
        }
        digest.update(&buf[..n]);
    }
}

/// Peak resident memory of this process so far, bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib * 1024
}

fn a_five_second_flood_into_a_16_mib_cap_keeps_memory_bounded_and_records_every_byte() {
    const CAP: usize = 16 << 20;
    let path_dir = tempfile::tempdir().unwrap();
    let path = path_dir
        .path()
        .join(format!("sockscope-flood5-{}.bin", std::process::id()));
    let recording = path.clone();
    let (session, addr) = server(|c| {
        c.log = LogStore::new(CAP, TextEncoding::UTF_8);
        c.start_recording(recording, RecordFormat::Raw).unwrap();
    });
    let rss_before = peak_rss();

    // The peer sends as fast as it can for 5 s and returns how much it sent, and its CRC.
    let flood = std::thread::Builder::new()
        .name("flood-peer".into())
        .spawn(move || {
            let mut stream = TcpStream::connect(addr).unwrap();
            let mut digest = CRC.digest();
            let mut block = vec![0u8; 64 << 10];
            let (start, mut sent) = (Instant::now(), 0u64);
            while start.elapsed() < Duration::from_secs(5) {
                for (i, b) in block.iter_mut().enumerate() {
                    *b = (sent as usize + i).wrapping_mul(7) as u8;
                }
                stream.write_all(&block).unwrap();
                digest.update(&block);
                sent += block.len() as u64;
            }
            (sent, digest.finalize())
        });
    let mut sender = Some(flood.unwrap());
    let mut peak_held = 0;
    let mut done = None;
    let deadline = Instant::now() + Duration::from_mins(1);
    // The session folds on its I/O thread; the test looks in now and then, as a window would.
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        let rx_bytes = {
            let capture = session.capture();
            peak_held = peak_held.max(capture.log.held_bytes());
            capture.counters.rx_bytes
        };
        if sender
            .as_ref()
            .is_some_and(std::thread::JoinHandle::is_finished)
        {
            done = sender.take().map(|s| s.join().unwrap());
        }
        if let Some((sent, _)) = done
            && rx_bytes == sent
        {
            break;
        }
        assert!(
            done.is_some() || Instant::now() < deadline,
            "the sender hangs"
        );
    }
    let (sent, sent_crc) = done.expect("the sender finished");
    let mut capture = session.capture();
    assert_eq!(capture.counters.rx_bytes, sent, "everything arrived");
    let rss_growth = peak_rss().saturating_sub(rss_before);
    eprintln!(
        "flood: {} MiB in 5 s, log peak {} MiB, RSS peak growth {} MiB",
        sent >> 20,
        peak_held >> 20,
        rss_growth >> 20
    );
    // Bounded: the cap, what may be in flight between the threads (64 MiB), and slack.
    assert!(peak_held <= CAP);
    assert!(
        rss_growth < (CAP as u64) + (64 << 20) + (64 << 20),
        "{rss_growth} bytes"
    );
    assert!(
        sent > 4 * CAP as u64,
        "the flood went past the cap several times"
    );
    let (_, evicted_bytes) = capture.log.evicted();
    assert!(evicted_bytes > 0);
    let held: u64 = capture.log.iter().map(|r| r.bytes.len() as u64).sum();
    assert_eq!(
        evicted_bytes + held,
        sent,
        "evicted + held = received, exactly"
    );
    capture.stop_recording().unwrap();
    let recorded_crc = crc_of_file(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(recorded_crc, sent_crc, "the recording has every byte");
}
