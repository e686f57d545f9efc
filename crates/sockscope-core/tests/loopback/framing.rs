//! Receive framing over real TCP: messages come out whole however the peer dribbles them.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::util::Probe;
use sockscope_core::codec::checksum::ByteOrder;
use sockscope_core::codec::framing::Framing;
use sockscope_core::codec::length::LengthPrefix;
use sockscope_core::engine::{Command, DataKind, Direction, Event, Mode};

use crate::util::{start_framed, wait_for};

fn framed_client(framing: Framing) -> (Probe, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let session = start_framed(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(listener.local_addr().unwrap()),
        framing,
    );
    let (peer, _) = listener.accept().unwrap();
    peer.set_nodelay(true).unwrap();
    wait_for(&session, |e| matches!(e, Event::Connected { .. }));
    (session, peer)
}

/// Received frames (not raw reads) until `n` arrived, with their kinds.
fn frames(session: &Probe, n: usize) -> (Vec<(Vec<u8>, DataKind)>, usize) {
    let (mut out, mut raw_reads) = (Vec::new(), 0);
    wait_for(session, |e| {
        match e {
            Event::Data(d) if d.dir == Direction::Rx => match d.kind {
                DataKind::RawRead => raw_reads += 1,
                kind => out.push((d.bytes.clone(), kind)),
            },
            // Whole frames of one read come together; each is a message. Cut in place, they
            // carry their read.
            Event::Frames(batch) => {
                raw_reads += usize::from(batch.in_read.is_some());
                out.extend(batch.split().map(|f| (f.to_vec(), DataKind::Frame)));
            }
            _ => {}
        }
        out.len() >= n
    });
    (out, raw_reads)
}

#[test]
fn le32_length_prefixed_messages_dribbled_3_bytes_at_a_time_come_out_exact() {
    let prefix = LengthPrefix {
        width: 4,
        order: ByteOrder::Little,
        includes_header: false,
    };
    let (session, mut peer) = framed_client(Framing::LengthPrefix { prefix, offset: 0 });
    let messages: [&[u8]; 4] = [b"hello", b"", b"\x00\x01\x02 binary", "温度 25℃".as_bytes()];
    let stream: Vec<u8> = messages
        .iter()
        .flat_map(|m| prefix.wrap(m).unwrap())
        .collect();
    for chunk in stream.chunks(3) {
        peer.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let (got, raw_reads) = frames(&session, messages.len());
    let payloads: Vec<&[u8]> = got.iter().map(|(b, _)| &b[4..]).collect();
    assert_eq!(payloads, messages);
    assert!(got.iter().all(|(_, kind)| *kind == DataKind::Frame));
    assert!(
        raw_reads > messages.len(),
        "the reads were split ({raw_reads} reads)"
    );
}

#[test]
fn glued_messages_are_split_at_the_delimiter() {
    let (session, mut peer) = framed_client(Framing::Delimiter {
        delimiter: b"\r\n".to_vec(),
        keep: false,
    });
    peer.write_all(b"OK\r\nERR 5\r\nREADY\r\n").unwrap();
    let (got, _) = frames(&session, 3);
    let bytes: Vec<&[u8]> = got.iter().map(|(b, _)| b.as_slice()).collect();
    assert_eq!(bytes, [b"OK".as_slice(), b"ERR 5", b"READY"]);
}

#[test]
fn idle_gap_ends_a_message_on_the_io_threads_timer() {
    let (session, mut peer) = framed_client(Framing::IdleGap(80));
    peer.write_all(b"part one, ").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    peer.write_all(b"part two").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    peer.write_all(b"next").unwrap();
    let (got, _) = frames(&session, 2);
    assert_eq!(got[0], (b"part one, part two".to_vec(), DataKind::Frame));
    assert_eq!(got[1], (b"next".to_vec(), DataKind::Frame));
}

/// Hands events on to a channel, but holds the I/O thread up for `stall` in the round that
/// delivers the read of `trigger` (as a loaded machine, or Windows' 15.6 ms timer tick, holds
/// it up): the loop then finds the next read and the overdue idle gap in the same round.
struct StallingSink {
    inner: sockscope_core::engine::ChannelSink,
    trigger: &'static [u8],
    stall: Duration,
    stalled: std::sync::mpsc::Sender<()>,
    done: bool,
}

impl sockscope_core::engine::Sink for StallingSink {
    fn try_deliver(&mut self, events: &mut Vec<sockscope_core::engine::Stamped>) -> bool {
        let read_trigger = events.iter().any(|(_, e)| {
            matches!(e, Event::Data(d) if d.kind == DataKind::RawRead && d.bytes == self.trigger)
        });
        if read_trigger && !self.done {
            self.done = true;
            let _ = self.stalled.send(());
            std::thread::sleep(self.stall);
        }
        self.inner.try_deliver(events)
    }

    fn backlog(&self) -> usize {
        self.inner.backlog()
    }
}

#[test]
fn an_idle_gap_that_passed_while_the_io_thread_was_held_up_still_ends_the_message() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let (inner, events) = sockscope_core::engine::channel_sink();
    let (stalled, on_stall) = std::sync::mpsc::channel();
    let sink = StallingSink {
        inner,
        trigger: b"first",
        stall: Duration::from_millis(500),
        stalled,
        done: false,
    };
    let config = crate::util::config(
        Mode::TcpClient,
        "0.0.0.0:0",
        Some(listener.local_addr().unwrap()),
        Framing::IdleGap(100),
    );
    let vars = std::sync::Arc::new(std::sync::Mutex::new(
        sockscope_core::codec::payload::VarState::new(1, 1),
    ));
    let engine = sockscope_core::engine::Engine::start(
        config,
        vars,
        sockscope_core::engine::Buffers::default(),
        Box::new(sink),
        std::sync::Arc::new(|| {}),
    )
    .unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    peer.write_all(b"first").unwrap();
    on_stall.recv_timeout(crate::util::WAIT).unwrap();
    // The gap (100 ms) passes while the I/O thread is held up; the next message arrives
    // meanwhile, 200 ms after the first.
    std::thread::sleep(Duration::from_millis(200));
    peer.write_all(b"second").unwrap();
    let deadline = std::time::Instant::now() + crate::util::WAIT;
    let mut got = Vec::new();
    while got.len() < 2 && std::time::Instant::now() < deadline {
        match events.event_timeout(Duration::from_millis(20)) {
            Some(Event::Data(d)) if d.dir == Direction::Rx && d.kind != DataKind::RawRead => {
                got.push(d.bytes);
            }
            Some(Event::Frames(batch)) => got.extend(batch.split().map(<[u8]>::to_vec)),
            _ => {}
        }
    }
    drop(engine);
    // Before: one message, "firstsecond" — the read went into the framer before the loop
    // looked at the gap's timer.
    assert_eq!(got, [b"first".to_vec(), b"second".to_vec()]);
}

#[test]
fn a_partial_frame_at_disconnect_is_kept_and_marked() {
    let (session, mut peer) = framed_client(Framing::FixedLength(8));
    peer.write_all(b"12345678abc").unwrap();
    let (got, _) = frames(&session, 1);
    assert_eq!(got[0], (b"12345678".to_vec(), DataKind::Frame));
    drop(peer);
    let events = wait_for(&session, |e| matches!(e, Event::Closed { .. }));
    let partial = events.iter().find_map(|e| match e {
        Event::Data(d) if d.kind == DataKind::Partial => Some(d.bytes.clone()),
        _ => None,
    });
    assert_eq!(partial.as_deref(), Some(b"abc".as_slice()), "{events:?}");
}

#[test]
fn framing_can_change_mid_session() {
    let (session, mut peer) = framed_client(Framing::None);
    session.command(Command::SetFraming(Framing::FixedLength(2)));
    // Give the command a moment to arrive before the bytes do.
    std::thread::sleep(Duration::from_millis(50));
    peer.write_all(b"aabbc").unwrap();
    let (got, _) = frames(&session, 2);
    assert_eq!(got[0].0, b"aa");
    assert_eq!(got[1].0, b"bb");
}

/// A frame whose first bytes came in an earlier read is stamped with when they came, not with
/// the read that finished it: a DTU's registration held until the next read showed after the
/// request sent meanwhile, as if it answered it. Also what is held when the peer leaves.
#[test]
fn a_frame_finished_by_a_later_read_keeps_the_time_its_first_bytes_came() {
    let (session, mut peer) = framed_client(Framing::Delimiter {
        delimiter: b"\r\n".to_vec(),
        keep: true,
    });
    let sent = std::time::SystemTime::now();
    peer.write_all(b"REG:DTU").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    peer.write_all(b"0001\r\nOK\r\ntail").unwrap();
    let stamps = |n: usize| {
        let mut out: Vec<(Vec<u8>, std::time::SystemTime)> = Vec::new();
        let events = wait_for(&session, |e| {
            match e {
                Event::Data(d) if d.dir == Direction::Rx && d.kind != DataKind::RawRead => {
                    out.push((d.bytes.clone(), d.at));
                }
                Event::Frames(batch) => {
                    out.extend(batch.split().map(|f| (f.to_vec(), batch.at)));
                }
                _ => {}
            }
            out.len() >= n
        });
        drop(events);
        out
    };
    let got = stamps(2);
    assert_eq!(got[0].0, b"REG:DTU0001\r\n");
    let late = |at: std::time::SystemTime| at.duration_since(sent).unwrap_or_default();
    assert!(
        late(got[0].1) < Duration::from_millis(400),
        "{:?}",
        late(got[0].1)
    );
    assert!(
        late(got[1].1) >= Duration::from_millis(500),
        "{:?}",
        late(got[1].1)
    );
    // What is held when the peer leaves: stamped when it came too.
    std::thread::sleep(Duration::from_millis(600));
    drop(peer);
    let left = stamps(1);
    assert_eq!(left[0].0, b"tail");
    assert!(
        late(left[0].1) < Duration::from_millis(1100),
        "{:?}",
        late(left[0].1)
    );
}

/// Bytes a Modbus RTU layer holds with nothing more coming (a DTU's registration, before the
/// first poll) are handed over after a second of silence, stamped when they came; they waited
/// for the next read (24 s in the walk) before they were shown.
#[test]
fn bytes_an_rtu_layer_holds_are_handed_over_after_a_silence() {
    let framing = sockscope_core::protocol::builtin("modbus-rtu")
        .unwrap()
        .framing()
        .unwrap();
    let (session, mut peer) = framed_client(framing);
    let sent = std::time::SystemTime::now();
    peer.write_all(b"REG:DTU0001").unwrap();
    let events = wait_for(
        &session,
        |e| matches!(e, Event::Data(d) if d.dir == Direction::Rx && d.kind == DataKind::Partial),
    );
    let held = events
        .iter()
        .find_map(|e| match e {
            Event::Data(d) if d.kind == DataKind::Partial => Some(d),
            _ => None,
        })
        .unwrap();
    assert_eq!(held.bytes, b"REG:DTU0001");
    let late = held.at.duration_since(sent).unwrap_or_default();
    assert!(late < Duration::from_millis(500), "{late:?}");
    // A frame after it still comes whole.
    peer.write_all(&[0x01, 0x03, 0x02, 0x00, 0x0A, 0x38, 0x43])
        .unwrap();
    let (got, _) = frames(&session, 1);
    assert_eq!(got[0].0, [0x01, 0x03, 0x02, 0x00, 0x0A, 0x38, 0x43]);
}
