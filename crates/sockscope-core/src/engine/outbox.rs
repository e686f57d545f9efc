//! The outbox: events of the I/O thread gathered into one batch per poll round and handed to the
//! owner's [`Sink`], with the received bytes not taken yet counted (reading pauses past
//! [`MAX_IN_FLIGHT`]) and the owner told once per round that something arrived.

use std::time::SystemTime;

use super::{Data, Direction, Event, Frames};

/// An event and the time the I/O thread saw it happen.
pub type Stamped = (SystemTime, Event);

/// Called once per poll round in which events were delivered. The window wires it to
/// `egui::Context::request_repaint`; headless owners wire it to nothing.
pub type Notify = std::sync::Arc<dyn Fn() + Send + Sync>;

/// Received bytes delivered but not consumed, plus those waiting in the outbox, past which TCP
/// reading pauses (the peer is slowed by TCP flow control, nothing is lost) and UDP datagrams
/// are counted as dropped.
pub const MAX_IN_FLIGHT: usize = 64 << 20;

/// Events handed over in one piece at most; a round with more hands over several.
const MAX_BATCH: usize = 1024;

/// Where a session's events go: a channel to a reader, or straight into a log store.
pub trait Sink: Send {
    /// Takes every event out of `events` (leaving it empty) and returns true, or leaves them
    /// all and returns false when it cannot take them now (it is asked again shortly).
    fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool;

    /// Takes every event, waiting if it must. Used once, for the session's last events.
    fn deliver(&mut self, events: &mut Vec<Stamped>) {
        while !self.try_deliver(events) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Received bytes delivered but not yet consumed by the owner (a channel's reader).
    fn backlog(&self) -> usize {
        0
    }
}

/// A received message the automation stage may answer: one read, datagram or frame.
pub(crate) struct Seen {
    pub conn: Option<super::ConnId>,
    pub peer: std::net::SocketAddr,
    pub bytes: Vec<u8>,
    /// A frame left unfinished (the stream ended, or it was cut at the size limit).
    pub partial: bool,
    /// It came as a WebSocket binary message (an echo or a reply goes back as one).
    pub binary: bool,
}

/// The I/O thread's side of the [`Sink`].
pub(crate) struct Outbox {
    batch: Vec<Stamped>,
    /// Copy received messages to `seen` (the automation stage answers some).
    pub watch: bool,
    /// Received messages since the stage last looked.
    pub seen: Vec<Seen>,
    /// Received bytes in `batch`.
    held_rx: usize,
    sink: Box<dyn Sink>,
    notify: Notify,
    /// Something was delivered since the owner was last notified.
    delivered: bool,
}

impl Outbox {
    pub fn new(sink: Box<dyn Sink>, notify: Notify) -> Self {
        Self {
            batch: Vec::new(),
            watch: false,
            seen: Vec::new(),
            held_rx: 0,
            sink,
            notify,
            delivered: false,
        }
    }

    /// Adds an event to this round's batch, stamped now.
    pub fn emit(&mut self, event: Event) {
        if self.watch {
            self.see(&event);
        }
        self.held_rx += rx_len(&event);
        self.batch.push((SystemTime::now(), event));
        if self.batch.len() >= MAX_BATCH {
            self.try_deliver();
        }
    }

    /// Keeps a copy of a received message for the automation stage.
    fn see(&mut self, event: &Event) {
        match event {
            Event::Data(Data {
                conn,
                peer,
                dir: Direction::Rx,
                bytes,
                kind,
                ..
            }) if kind.counts_message() => self.seen.push(Seen {
                conn: *conn,
                peer: *peer,
                bytes: bytes.clone(),
                partial: *kind == super::DataKind::Partial,
                binary: *kind == super::DataKind::WsBinary,
            }),
            Event::Frames(frames) => {
                for frame in frames.split() {
                    self.seen.push(Seen {
                        conn: Some(frames.conn),
                        peer: frames.peer,
                        bytes: frame.to_vec(),
                        partial: false,
                        binary: false,
                    });
                }
            }
            _ => {}
        }
    }

    /// Hands the batch over if the sink takes it now; true if nothing is left waiting.
    pub fn try_deliver(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        if self.sink.try_deliver(&mut self.batch) {
            self.batch.clear();
            self.held_rx = 0;
            self.delivered = true;
            true
        } else {
            false
        }
    }

    /// Ends a poll round: delivers what it can and tells the owner, once, if anything went.
    pub fn end_round(&mut self) {
        self.try_deliver();
        if std::mem::take(&mut self.delivered) {
            (self.notify)();
        }
    }

    /// Ends the session: everything is delivered, waiting if need be, and the owner told.
    pub fn finish(&mut self) {
        if !self.batch.is_empty() {
            self.sink.deliver(&mut self.batch);
            self.batch.clear();
            self.held_rx = 0;
        }
        (self.notify)();
    }

    /// True while events wait for a sink that could not take them.
    pub fn waiting(&self) -> bool {
        !self.batch.is_empty()
    }

    /// True when the owner is too far behind for more to be read now.
    pub fn behind(&self) -> bool {
        self.held_rx + self.sink.backlog() >= MAX_IN_FLIGHT
    }
}

/// Received bytes an event carries (what counts as in flight until it is folded in).
pub fn rx_len(event: &Event) -> usize {
    match event {
        Event::Data(Data {
            dir: Direction::Rx,
            bytes,
            ..
        })
        | Event::Frames(Frames { bytes, .. }) => bytes.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::engine::DataKind;

    /// Takes events only when open; counts what it took.
    struct Gate {
        open: Arc<AtomicUsize>,
        taken: Arc<AtomicUsize>,
    }

    impl Sink for Gate {
        fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool {
            if self.open.load(Ordering::Relaxed) == 0 {
                return false;
            }
            self.taken.fetch_add(events.len(), Ordering::Relaxed);
            events.clear();
            true
        }
    }

    fn rx(n: usize) -> Event {
        let peer: SocketAddr = "127.0.0.1:1".parse().unwrap();
        Event::Data(Data {
            conn: None,
            peer,
            dir: Direction::Rx,
            at: SystemTime::now(),
            bytes: vec![0; n],
            kind: DataKind::Message,
        })
    }

    #[test]
    fn a_busy_sink_keeps_the_batch_and_the_owner_is_told_once_per_round_it_took_some() {
        let open = Arc::new(AtomicUsize::new(0));
        let taken = Arc::new(AtomicUsize::new(0));
        let notified = Arc::new(AtomicUsize::new(0));
        let sink = Gate {
            open: Arc::clone(&open),
            taken: Arc::clone(&taken),
        };
        let counter = Arc::clone(&notified);
        let mut out = Outbox::new(
            Box::new(sink),
            Arc::new(move || {
                counter.fetch_add(1, Ordering::Relaxed);
            }),
        );
        out.emit(rx(10));
        out.emit(Event::ListenerClosed);
        out.end_round();
        assert!(out.waiting());
        assert_eq!(
            notified.load(Ordering::Relaxed),
            0,
            "nothing went: no wake-up"
        );
        open.store(1, Ordering::Relaxed);
        out.emit(rx(5));
        out.end_round();
        assert_eq!(
            taken.load(Ordering::Relaxed),
            3,
            "held events go first, in order"
        );
        assert_eq!(notified.load(Ordering::Relaxed), 1);
        out.end_round();
        assert_eq!(
            notified.load(Ordering::Relaxed),
            1,
            "an empty round wakes nobody"
        );
    }

    #[test]
    fn held_received_bytes_count_towards_being_behind() {
        let open = Arc::new(AtomicUsize::new(0));
        let sink = Gate {
            open: Arc::clone(&open),
            taken: Arc::new(AtomicUsize::new(0)),
        };
        let mut out = Outbox::new(Box::new(sink), Arc::new(|| {}));
        out.emit(rx(MAX_IN_FLIGHT - 1));
        assert!(!out.behind());
        out.emit(rx(1));
        assert!(out.behind());
        open.store(1, Ordering::Relaxed);
        out.end_round();
        assert!(!out.behind());
    }

    #[test]
    fn a_full_batch_is_handed_over_before_the_round_ends() {
        let taken = Arc::new(AtomicUsize::new(0));
        let sink = Gate {
            open: Arc::new(AtomicUsize::new(1)),
            taken: Arc::clone(&taken),
        };
        let mut out = Outbox::new(Box::new(sink), Arc::new(|| {}));
        for _ in 0..MAX_BATCH {
            out.emit(Event::ListenerClosed);
        }
        assert_eq!(taken.load(Ordering::Relaxed), MAX_BATCH);
    }
}
