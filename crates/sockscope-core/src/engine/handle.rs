//! The owner's handle on a running engine, and a channel [`Sink`] for owners that read events
//! one by one (tests, tools).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use mio::Waker;

use super::io::Io;
use super::outbox::{Notify, Sink, Stamped, rx_len};
use super::{Buffers, Command, ConnId, EngineError, Event, SessionConfig, SharedVars};
use crate::codec::payload::VarState;

/// A running session's I/O thread. Dropping the handle stops it and joins the thread.
#[must_use = "dropping the Engine stops it and closes its sockets"]
pub struct Engine {
    commands: Sender<Command>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
    vars: SharedVars,
}

/// How an engine starts, beside its settings.
#[derive(Clone, Copy, Debug)]
pub struct StartOptions {
    /// The id of its first connection.
    pub first_conn: ConnId,
    /// Keep a connection whose peer finished sending, from the first read on.
    pub keep_half_closed: bool,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            first_conn: ConnId(1),
            keep_half_closed: false,
        }
    }
}

impl Engine {
    /// Starts the session's I/O thread. Binding and connecting happen on that thread; their
    /// outcome arrives at `sink` as events (`Listening`, `Connected`, or `Error` then
    /// `Stopped`). `notify` is called once per poll round in which events were delivered.
    /// The bytes of large reads come in buffers of `buffers`, which the sink may give back.
    pub fn start(
        config: SessionConfig,
        vars: SharedVars,
        buffers: Buffers,
        sink: Box<dyn Sink>,
        notify: Notify,
    ) -> io::Result<Engine> {
        Self::start_with(config, vars, buffers, sink, notify, StartOptions::default())
    }

    /// [`start`](Self::start) with `options`: where its connection ids start (a session
    /// that opens again continues where its last engine stopped, so an id in its log names
    /// one connection), and whether half-closed connections are kept from the first read on
    /// (as [`Command::KeepHalfClosed`] would from when it arrives: a peer that finishes
    /// sending right at connect could end the connection before the command did).
    pub fn start_with(
        config: SessionConfig,
        vars: SharedVars,
        buffers: Buffers,
        sink: Box<dyn Sink>,
        notify: Notify,
        options: StartOptions,
    ) -> io::Result<Engine> {
        let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
        let name = config.mode.thread_name();
        let mut io = Io::new(
            config,
            commands_rx,
            Arc::clone(&vars),
            buffers,
            sink,
            notify,
            options.first_conn,
        )?;
        io.keep_half_closed(options.keep_half_closed);
        let waker = io.waker();
        // What the I/O thread words itself (a rule's failure) is in the owner's language.
        let lang = crate::i18n::lang();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                crate::i18n::set_lang(lang);
                // A bug in the loop must not leave a silent dead session: report it and end.
                if let Err(panic) = catch_unwind(AssertUnwindSafe(|| io.run())) {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into());
                    io.died(EngineError::Internal(what));
                }
            })?;
        Ok(Engine {
            commands: commands_tx,
            waker,
            thread: Some(thread),
            vars,
        })
    }

    /// Starts the session with its events sent to a queue the caller reads.
    pub fn start_queued(config: SessionConfig, notify: Notify) -> io::Result<(Engine, EventQueue)> {
        let (sink, queue) = channel_sink();
        let vars = Arc::new(Mutex::new(VarState::new(1, 1)));
        let engine = Engine::start(config, vars, Buffers::default(), Box::new(sink), notify)?;
        Ok((engine, queue))
    }

    /// Hands a command to the I/O thread and wakes it. A command to a session that has already
    /// stopped is ignored (its `Stopped` event said so).
    pub fn command(&self, command: Command) {
        if self.commands.send(command).is_ok() {
            let _ = self.waker.wake();
        }
    }

    /// The session's send variables.
    pub fn vars(&self) -> &SharedVars {
        &self.vars
    }

    /// True once the I/O thread has ended (after `Stopped`).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.command(Command::Stop);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A [`Sink`] that sends each batch down a channel to an [`EventQueue`].
pub struct ChannelSink {
    events: Sender<Vec<Stamped>>,
    in_flight: Arc<AtomicUsize>,
}

impl Sink for ChannelSink {
    fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool {
        let bytes: usize = events.iter().map(|(_, e)| rx_len(e)).sum();
        self.in_flight.fetch_add(bytes, Ordering::Relaxed);
        // A send error means the reader is gone; its Stop ends the loop soon.
        let _ = self.events.send(std::mem::take(events));
        true
    }

    fn backlog(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

/// A channel sink and the queue that reads it.
pub fn channel_sink() -> (ChannelSink, EventQueue) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let sink = ChannelSink {
        events: tx,
        in_flight: Arc::clone(&in_flight),
    };
    let queue = EventQueue {
        events: rx,
        unread: RefCell::new(VecDeque::new()),
        in_flight,
    };
    (sink, queue)
}

/// The reading end of a [`ChannelSink`]: events one by one, in order.
pub struct EventQueue {
    events: Receiver<Vec<Stamped>>,
    /// Events of the last batch not handed out yet.
    unread: RefCell<VecDeque<Stamped>>,
    in_flight: Arc<AtomicUsize>,
}

impl EventQueue {
    /// The next event and when the I/O thread emitted it, if one is waiting. Never blocks.
    pub fn try_event_at(&self) -> Option<Stamped> {
        let next = self.unread.borrow_mut().pop_front();
        let next = next.or_else(|| match self.events.try_recv() {
            Ok(batch) => self.unbatch(batch),
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => None,
        });
        next.map(|stamped| self.taken(stamped))
    }

    /// The next event, if one is waiting. Never blocks.
    pub fn try_event(&self) -> Option<Event> {
        self.try_event_at().map(|(_, event)| event)
    }

    /// The next event and its time, waiting at most `timeout`.
    pub fn event_at_timeout(&self, timeout: Duration) -> Option<(SystemTime, Event)> {
        let next = self.unread.borrow_mut().pop_front();
        let next = next.or_else(|| match self.events.recv_timeout(timeout) {
            Ok(batch) => self.unbatch(batch),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        });
        next.map(|stamped| self.taken(stamped))
    }

    /// The next event, waiting at most `timeout`.
    pub fn event_timeout(&self, timeout: Duration) -> Option<Event> {
        self.event_at_timeout(timeout).map(|(_, event)| event)
    }

    /// Keeps a batch's events but the first, which is returned.
    fn unbatch(&self, batch: Vec<Stamped>) -> Option<Stamped> {
        let mut events = VecDeque::from(batch);
        let first = events.pop_front();
        self.unread.borrow_mut().extend(events);
        first
    }

    /// Counts received bytes as taken, so the I/O thread may read more.
    fn taken(&self, stamped: Stamped) -> Stamped {
        self.in_flight
            .fetch_sub(rx_len(&stamped.1), Ordering::Relaxed);
        stamped
    }
}
