//! A session: one tab's live work without a window — the engine handle, what it captured, the
//! one owner of the send variables, and the jobs that write the log out (export, record).
//!
//! Received data reaches the capture without the owner: the engine hands each poll round's
//! events to the session's collector thread, which folds them into the log store under a
//! lock, so ingest goes on while the owner is busy, blocked in a dialog, minimised, or absent
//! (the command line). The I/O thread never waits for that lock; while the owner holds it
//! (drawing a frame, a slice of search or export) the collector waits and the events queue.
//!
//! The window, the command line, the examples, the benches and the tests all drive this.

mod memory;
pub use memory::give_back;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use std::time::{Duration, Instant, SystemTime};

use crate::capture::{Capture, ExportFormat, Exporter, Note, RecordFormat, RecordKind, arg};
use crate::codec::framing::Framing;
use crate::codec::payload::{Payload, VarState};
use crate::engine::{
    Buffers, Command, ConnId, Engine, EngineError, Event, Mode, Notify, Pace, Schedule,
    SessionConfig, SharedVars, Sink, Stamped, Target,
};
use crate::i18n::S;
use crate::profile::{FieldErrors, Form, QuickCommand};

/// How long one call of [`Session::poll`] may spend writing an export before it returns (the
/// rest goes on with the next call).
pub const WORK_SLICE: Duration = Duration::from_millis(8);

/// Who a send goes to in server and UDP modes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Selection {
    /// TCP server: every client. UDP: the remote address of the form, or the latest sender.
    #[default]
    Default,
    /// TCP server: one client.
    Client(ConnId),
    /// UDP: one peer seen, pinned.
    Peer(SocketAddr),
    /// UDP: whoever sent the latest datagram.
    LatestPeer,
}

/// The capture and the signal that it changed.
struct Shared {
    capture: Mutex<Capture>,
    changed: Condvar,
    /// The engine's `Stopped` has been folded in (readable without the lock).
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Capture> {
        self.capture.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Read buffers the collector keeps ready for the engine while data streams in.
const PREFILLED: usize = 8;

/// Folds events into the capture: on the session's collector thread, beside the I/O thread,
/// so decoding and storing one round overlaps reading the next (with one thread doing both, a
/// GBK log and 64-byte lines ingested 15–25% slower).
struct Folder {
    shared: Arc<Shared>,
    buffers: Buffers,
    notify: Notify,
    /// Where a copy of every received byte goes, when the owner asked for one.
    tap: Option<TapSender>,
}

impl Folder {
    fn fold(&self, capture: &mut Capture, events: Vec<Stamped>) -> usize {
        let mut received = 0;
        for (at, event) in events {
            received += crate::engine::rx_len(&event);
            if let Some(tap) = &self.tap {
                tap.copy(&event);
            }
            if let Some(spent) = capture.apply_at(at, event) {
                self.buffers.give(spent);
            }
        }
        received
    }

    /// Folds batches as they come until the engine is gone; each wake-up folds all that
    /// waits under one lock, then tells the owner.
    fn run(&self, batches: &Receiver<Vec<Stamped>>, in_flight: &AtomicUsize) {
        while let Ok(first) = batches.recv() {
            let mut folded = 0;
            {
                let mut capture = self.shared.lock();
                folded += self.fold(&mut capture, first);
                while let Ok(more) = batches.try_recv() {
                    folded += self.fold(&mut capture, more);
                }
                capture.flush_recorder();
                if capture.stopped {
                    self.shared.stopped.store(true, Ordering::Release);
                }
            }
            in_flight.fetch_sub(folded, Ordering::Relaxed);
            self.shared.changed.notify_all();
            (self.notify)();
            if folded > 0 {
                self.buffers.prefill(PREFILLED);
            }
        }
    }
}

/// A copy of every received byte, in order, for an owner that must not lose one to the log's
/// cap (`sockscope connect --pipe` writes them to stdout). Bytes not taken yet count as the
/// session's backlog: past its bound the engine stops reading, and TCP slows the peer.
pub struct RxTap {
    chunks: Receiver<Vec<u8>>,
    pending: Arc<AtomicUsize>,
}

impl RxTap {
    /// The next received bytes, waiting at most `timeout`; `None` if none came.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Vec<u8>> {
        let chunk = self.chunks.recv_timeout(timeout).ok()?;
        self.pending.fetch_sub(chunk.len(), Ordering::Relaxed);
        Some(chunk)
    }

    /// The next received bytes if some are there now.
    pub fn try_recv(&self) -> Option<Vec<u8>> {
        let chunk = self.chunks.try_recv().ok()?;
        self.pending.fetch_sub(chunk.len(), Ordering::Relaxed);
        Some(chunk)
    }
}

/// The collector's side of an [`RxTap`].
#[derive(Clone)]
struct TapSender {
    chunks: Sender<Vec<u8>>,
    pending: Arc<AtomicUsize>,
}

impl TapSender {
    /// Copies the received bytes of `event` (each byte once: messages and raw reads, not the
    /// frames cut from them).
    fn copy(&self, event: &Event) {
        let bytes = match event {
            Event::Data(data)
                if data.dir == crate::engine::Direction::Rx
                    && data.conn.is_some()
                    && data.kind.counts_bytes() =>
            {
                &data.bytes
            }
            // Frames cut in place carry their read.
            Event::Frames(frames) if frames.in_read.is_some() => &frames.bytes,
            _ => return,
        };
        if !bytes.is_empty() {
            self.pending.fetch_add(bytes.len(), Ordering::Relaxed);
            let _ = self.chunks.send(bytes.clone());
        }
    }
}

/// The engine's sink: hands each round to the collector thread. The I/O thread never waits
/// for the capture's lock (a frame, a search slice); what it has handed over and the
/// collector has not folded yet counts as in flight.
struct CollectorSink {
    batches: Option<Sender<Vec<Stamped>>>,
    in_flight: Arc<AtomicUsize>,
    /// Bytes the tap's reader has not taken yet.
    tapped: Option<Arc<AtomicUsize>>,
    collector: Option<JoinHandle<()>>,
}

impl CollectorSink {
    fn start(folder: Folder) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let tapped = folder.tap.as_ref().map(|t| Arc::clone(&t.pending));
        let counted = Arc::clone(&in_flight);
        let collector = std::thread::Builder::new()
            .name("sockscope-collector".into())
            .spawn(move || folder.run(&rx, &counted))?;
        Ok(Self {
            batches: Some(tx),
            in_flight,
            tapped,
            collector: Some(collector),
        })
    }
}

impl Sink for CollectorSink {
    fn try_deliver(&mut self, events: &mut Vec<Stamped>) -> bool {
        let bytes: usize = events.iter().map(|(_, e)| crate::engine::rx_len(e)).sum();
        self.in_flight.fetch_add(bytes, Ordering::Relaxed);
        if let Some(batches) = &self.batches {
            let _ = batches.send(std::mem::take(events));
        }
        true
    }

    fn backlog(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
            + self
                .tapped
                .as_ref()
                .map_or(0, |t| t.load(Ordering::Relaxed))
    }
}

impl Drop for CollectorSink {
    /// The engine is done with its sink: the collector folds what is left, then ends.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
    }
}

/// An export under way: the exporter and where it writes.
pub struct ExportJob {
    /// Writes the log a slice at a time.
    pub exporter: Exporter<std::io::BufWriter<std::fs::File>>,
    /// The file.
    pub path: PathBuf,
}

/// One session's live work.
#[must_use = "dropping the Session stops it and closes its sockets"]
pub struct Session {
    shared: Arc<Shared>,
    engine: Option<Engine>,
    notify: Notify,
    vars: SharedVars,
    /// The framing the engine was last told to use.
    framing: Framing,
    /// The export under way, a slice per [`poll`](Self::poll).
    pub exporting: Option<ExportJob>,
    /// Where received bytes are copied, once [`tap_received`](Self::tap_received) asked.
    tap: Option<TapSender>,
    /// The script the last run was made from, and its number in the form (see
    /// [`script_edited`](Self::script_edited)).
    running_script: Mutex<Option<(usize, crate::rules::script::Script)>>,
    /// The protocol rules and scripts decode received messages with (`f.NAME`), and the way
    /// those messages go.
    protocol: Option<(Arc<crate::protocol::Protocol>, crate::protocol::Dir)>,
}

/// The way a session's received messages go: a server receives requests, a client replies.
pub fn received_dir(mode: crate::engine::Mode) -> crate::protocol::Dir {
    match mode.caps().receives_requests {
        Some(true) => crate::protocol::Dir::Request,
        Some(false) => crate::protocol::Dir::Response,
        None => crate::protocol::Dir::Unknown,
    }
}

/// The way a session's sent messages go: the other way from what it receives.
pub fn sent_dir(mode: crate::engine::Mode) -> crate::protocol::Dir {
    match received_dir(mode) {
        crate::protocol::Dir::Request => crate::protocol::Dir::Response,
        crate::protocol::Dir::Response => crate::protocol::Dir::Request,
        crate::protocol::Dir::Unknown => crate::protocol::Dir::Unknown,
    }
}

impl Session {
    /// An idle session; `notify` is called from the I/O thread once per poll round with news.
    pub fn new(notify: Notify) -> Self {
        Self {
            shared: Arc::new(Shared {
                capture: Mutex::new(Capture::default()),
                changed: Condvar::new(),
                stopped: AtomicBool::new(false),
            }),
            engine: None,
            notify,
            vars: Arc::new(Mutex::new(VarState::new(1, 1))),
            framing: Framing::None,
            exporting: None,
            tap: None,
            running_script: Mutex::new(None),
            protocol: None,
        }
    }

    /// Rules and scripts started from now on decode received messages with `protocol`
    /// (`f.NAME` in conditions, replies built by fields), as messages going `dir`.
    /// [`open_form`](Self::open_form) sets the form's.
    pub fn set_protocol(
        &mut self,
        protocol: Option<Arc<crate::protocol::Protocol>>,
        dir: crate::protocol::Dir,
    ) {
        self.protocol = protocol.map(|p| (p, dir));
    }

    /// From the next [`open`](Self::open) on, every received byte of a TCP connection is also
    /// handed, in order, to the returned tap (the log may drop old records at its cap; the
    /// tap drops nothing). What the tap's reader has not taken counts as backlog, so a slow
    /// reader slows the peer instead of filling memory.
    pub fn tap_received(&mut self) -> RxTap {
        let (tx, rx) = crossbeam_channel::unbounded();
        let pending = Arc::new(AtomicUsize::new(0));
        self.tap = Some(TapSender {
            chunks: tx,
            pending: Arc::clone(&pending),
        });
        RxTap {
            chunks: rx,
            pending,
        }
    }

    /// TCP: finish sending to `to` once what is queued is written (shut down our write side,
    /// as `nc -N` does at the end of its input); the peer's bytes still arrive.
    pub fn finish_sending(&self, to: Target) {
        self.command(Command::FinishSending(to));
    }

    /// An idle session set up as `form` says (encoding, raw reads kept, counter).
    pub fn with_form(form: &Form, notify: Notify) -> Self {
        let session = Self::new(notify);
        {
            let mut capture = session.capture();
            capture.log.set_cap(form.log_cap_bytes());
            capture.log.set_encoding(form.encoding);
            capture.raw.set_encoding(form.encoding);
            // Raw reads are only a view beside the frames (and the recording has every byte):
            // a quarter of the log's cap is plenty.
            capture.raw.set_cap(form.log_cap_bytes() / 4);
            capture.mode = form.mode;
            capture.keep_raw = form.show_raw;
        }
        session.reset_vars(form.counter_start, form.counter_step);
        session
    }

    /// What the session captured, locked: the engine folds new events in when it is released.
    /// Hold it briefly (a frame), and call no other method of the session meanwhile but those
    /// that say they take no lock.
    pub fn capture(&self) -> MutexGuard<'_, Capture> {
        self.shared.lock()
    }

    /// True while the engine runs (connecting, connected, listening, bound or serving kept
    /// clients): until its `Stopped` has been folded in. Takes no lock.
    pub fn is_open(&self) -> bool {
        self.engine.is_some() && !self.shared.stopped.load(Ordering::Acquire)
    }

    /// The framing the engine was last told to use.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Starts the engine. Its outcome (listening, connected, refused …) arrives in the capture.
    pub fn open(&mut self, config: SessionConfig, keep_half_closed: bool) -> Result<(), Note> {
        self.close();
        // The old engine's last events are in; a new one starts from here.
        let buffers = Buffers::default();
        let folder = Folder {
            shared: Arc::clone(&self.shared),
            buffers: buffers.clone(),
            notify: Arc::clone(&self.notify),
            tap: self.tap.clone(),
        };
        let first_conn = {
            let mut capture = self.capture();
            capture.begin(config.mode);
            // Read buffers the log adopted come back to the engine when evicted.
            capture.log.set_recycle(buffers.clone());
            capture.raw.set_recycle(buffers.clone());
            capture.next_conn_id()
        };
        self.shared.stopped.store(false, Ordering::Release);
        let mode = config.mode;
        self.framing = config.framing.clone();
        // The collector tells the owner once it has folded; the engine needs no notify.
        let started = CollectorSink::start(folder).and_then(|sink| {
            Engine::start_with(
                config,
                Arc::clone(&self.vars),
                buffers,
                Box::new(sink),
                Arc::new(|| {}),
                crate::engine::StartOptions {
                    first_conn,
                    keep_half_closed: keep_half_closed && !mode.caps().datagrams,
                },
            )
        });
        match started {
            Ok(engine) => {
                self.engine = Some(engine);
                Ok(())
            }
            Err(source) => {
                let error = EngineError::Io {
                    context: S::StartingSession,
                    subject: String::new(),
                    source,
                };
                let note = Note::say(S::Plain, [arg(error.to_string())]);
                self.capture().apply(Event::Error(error));
                Err(note)
            }
        }
    }

    /// Opens what `form` describes, or returns the messages for its bad fields.
    pub fn open_form(&mut self, form: &Form) -> Result<(), FieldErrors> {
        let config = form.session_config()?;
        // A spec that cannot be read is said where the protocol is chosen; the rules then
        // say which field they miss.
        self.set_protocol(form.protocol().ok().flatten(), received_dir(form.mode));
        let _ = self.open(config, form.keep_half_closed);
        if form.automation.active()
            && let Err(error) = self.set_rules(Some(&form.automation), form.encoding)
        {
            // The session runs without rules, and the log says which rule is wrong.
            self.capture()
                .apply(Event::Error(crate::engine::EngineError::Rule(
                    error.message,
                )));
        }
        Ok(())
    }

    /// Runs the form's script number `index` against the session's peer: a client's server, a
    /// server's clients, a UDP session's remote address. The error is a sentence.
    pub fn run_script(&self, form: &Form, index: usize) -> Result<(), String> {
        self.run_script_stepping(form, index, false)
    }

    /// [`run_script`](Self::run_script), one step at a time with `stepping` (each next step
    /// waits for [`step_script`](Self::step_script)).
    pub fn run_script_stepping(
        &self,
        form: &Form,
        index: usize,
        stepping: bool,
    ) -> Result<(), String> {
        let script = form
            .automation
            .scripts
            .get(index)
            .ok_or_else(|| crate::i18n::tf(S::ScriptNone, &[&(index + 1)]))?;
        // With a protocol its fields are checked; without, a step reading one never matches
        // (the command line says so before it opens).
        let run = match &self.protocol {
            Some(_) => {
                crate::rules::script::Run::compile_for(script, form.encoding, self.protocol.clone())
            }
            None => crate::rules::script::Run::compile(script, form.encoding),
        }?
        .stepping(stepping);
        let to = if form.mode.caps().datagrams {
            let mut errors = FieldErrors::default();
            let addr = form.remote_addr(&mut errors).ok_or_else(|| {
                [errors.remote_ip, errors.remote_port]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            Target::Addr(addr)
        } else {
            Target::AllConns
        };
        self.command(Command::RunScript {
            run: Box::new(run),
            to,
        });
        if let Ok(mut running) = self.running_script.lock() {
            *running = Some((index, script.clone()));
        }
        Ok(())
    }

    /// The form's scripts may have been edited: a run still going (or waiting for its next
    /// step) whose script is no longer the one it was made from stops at once, saying "the
    /// script was changed", so it never sends a step the user removed. Cheap when nothing
    /// changed; the window calls it every frame and before each Step.
    pub fn script_edited(&self, form: &Form) {
        let Ok(mut running) = self.running_script.lock() else {
            return;
        };
        let Some((index, script)) = running.as_ref() else {
            return;
        };
        let going = self
            .capture()
            .script
            .as_ref()
            .is_some_and(|r| r.passed.is_none());
        if !going {
            *running = None;
        } else if form.automation.scripts.get(*index) != Some(script) {
            *running = None;
            self.command(Command::ScriptChanged);
        }
    }

    /// Runs the next step of a script started one step at a time.
    pub fn step_script(&self) {
        self.command(Command::StepScript);
    }

    /// Answers received messages by `automation`'s rules from now on (`None`: stop), texts
    /// in `encoding`. A rule that does not compile is the error, and nothing changes. The
    /// tables, states and hit counts of the rules running now are kept.
    pub fn set_rules(
        &self,
        automation: Option<&crate::rules::Automation>,
        encoding: crate::codec::TextEncoding,
    ) -> Result<(), crate::rules::RuleError> {
        self.set_rules_keeping(automation, encoding, crate::rules::Keep::default())
    }

    /// [`set_rules`](Self::set_rules), keeping of the running rules only what `keep` says
    /// ("Reset tables and state", "Reset counts").
    pub fn set_rules_keeping(
        &self,
        automation: Option<&crate::rules::Automation>,
        encoding: crate::codec::TextEncoding,
        keep: crate::rules::Keep,
    ) -> Result<(), crate::rules::RuleError> {
        let machine = automation
            .map(|a| self.machine(a, encoding).map(|m| m.keeping(keep)))
            .transpose()?;
        self.command(Command::SetRules(machine.map(Box::new)));
        Ok(())
    }

    /// `automation` compiled for this session: with its protocol the fields its rules read
    /// are checked; without, a rule reading one never fires (the command line says so
    /// before it opens).
    fn machine(
        &self,
        automation: &crate::rules::Automation,
        encoding: crate::codec::TextEncoding,
    ) -> Result<crate::rules::Machine, crate::rules::RuleError> {
        match &self.protocol {
            Some(_) => {
                crate::rules::Machine::compile_for(automation, encoding, self.protocol.clone())
            }
            None => crate::rules::Machine::compile(automation, encoding),
        }
    }

    /// Puts `bytes` in table `name` of the running rules now (the rules are `automation`'s;
    /// everything else they had is kept). The error is a rule that does not compile.
    pub fn set_live_table(
        &self,
        automation: &crate::rules::Automation,
        encoding: crate::codec::TextEncoding,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), crate::rules::RuleError> {
        let machine = self.machine(automation, encoding)?.with_table(name, bytes);
        self.command(Command::SetRules(Some(Box::new(machine))));
        Ok(())
    }

    /// Ends the session and waits for its thread: everything it received is in the capture.
    pub fn close(&mut self) {
        // Giving up a connect (or the wait before the next try) is the user's choice, not a
        // failure: the tab says Idle, not "failed" (the log keeps what the tries met).
        let connecting = matches!(
            self.capture().link,
            crate::capture::LinkState::Connecting(_)
                | crate::capture::LinkState::Reconnecting { .. }
        );
        // Dropping the engine sends Stop, and joins once its last events are delivered.
        self.engine = None;
        if connecting {
            self.capture().last_error = None;
        }
    }

    /// Hands a command to the engine (nothing happens when it is not running).
    pub fn command(&self, command: Command) {
        if let Some(engine) = &self.engine {
            engine.command(command);
        }
    }

    /// The send variables as they are now (for a preview of the next send).
    pub fn vars(&self) -> VarState {
        self.vars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts `{{counter}}` again from `start`, stepping by `step`.
    pub fn reset_vars(&self, start: i64, step: i64) {
        *self.vars.lock().unwrap_or_else(PoisonError::into_inner) = VarState::new(start, step);
    }

    /// Renders `payload` on the I/O thread and sends it to `to`. The variables advance only
    /// if the send can go.
    pub fn send(&self, to: Target, payload: Payload) {
        self.command(Command::SendPayload { to, payload });
    }

    /// Sends exactly `bytes` to `to`.
    pub fn send_bytes(&self, to: Target, bytes: Vec<u8>) {
        self.command(Command::Send { to, bytes });
    }

    /// Splits received streams with `framing` from now on.
    pub fn set_framing(&mut self, framing: Framing) {
        self.framing = framing.clone();
        self.command(Command::SetFraming(framing));
    }

    /// A relay: cuts what the upstream sends with `framing` from now on (`None`: as the
    /// session's framing).
    pub fn set_replies_framing(&self, framing: Option<Framing>) {
        self.command(Command::SetRepliesFraming(framing));
    }

    /// Sends `payload` every `interval`, `count` times (`None` = until stopped), on the I/O
    /// thread.
    pub fn start_cyclic(
        &self,
        to: Target,
        payload: Payload,
        interval: Duration,
        count: Option<u64>,
    ) {
        let schedule = Schedule::cyclic(to, payload, interval, count);
        self.command(Command::StartSchedule(schedule));
    }

    /// Sends each step, then waits its delay; once through, or round and round if `repeat`.
    pub fn start_sequence(&self, to: Target, steps: Vec<(Payload, Duration)>, repeat: bool) {
        let schedule = Schedule::sequence(to, steps, repeat);
        self.command(Command::StartSchedule(schedule));
    }

    /// Stops the cyclic send or sequence.
    pub fn stop_schedule(&self) {
        self.command(Command::StopSchedule);
    }

    /// Streams a file to `to` in chunks of `chunk` bytes, as fast as `pace` allows.
    pub fn send_file(&self, to: Target, path: PathBuf, chunk: usize, pace: Pace) {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        {
            let mut capture = self.capture();
            capture.sending.file_name = Some(name);
            capture.sending.file_to = Some(to.clone());
        }
        self.command(Command::SendFile {
            to,
            path,
            chunk,
            pace,
        });
    }

    /// Asks how much of what was written each connection's peer has not taken yet; the
    /// answer lands in [`Client::unsent`](crate::capture::Client::unsent).
    pub fn ask_unsent(&self) {
        self.command(Command::AskUnsent);
    }

    /// Stops the file send.
    pub fn cancel_file(&self) {
        self.command(Command::CancelFile);
    }

    /// Records every received byte to `path` from now on; says so in the log. Returns why it
    /// could not, also said in the log, for a front end to show where it is seen at once.
    pub fn start_recording(&self, path: PathBuf, format: RecordFormat) -> Option<Note> {
        let shown = path.display().to_string();
        let now = SystemTime::now();
        let mut capture = self.capture();
        match capture.start_recording(path, format) {
            Ok(()) => {
                let note = Note::say(S::Recording, [arg(shown)]);
                capture
                    .log
                    .push_note(now, RecordKind::Info, None, None, note);
                None
            }
            Err(e) => {
                let why = e.to_string();
                let note = || Note::say(S::RecordFailed, [arg(shown.clone()), arg(why.clone())]);
                capture
                    .log
                    .push_note(now, RecordKind::Error, None, None, note());
                Some(note())
            }
        }
    }

    /// Stops recording; returns where and how many bytes went there.
    pub fn stop_recording(&self) -> Option<(PathBuf, u64)> {
        self.capture().stop_recording()
    }

    /// Starts saving the log to `path`; [`poll`](Self::poll) writes it a slice at a time.
    pub fn export(&mut self, format: ExportFormat, path: PathBuf) {
        let started = {
            let capture = self.capture();
            std::fs::File::create(&path).and_then(|file| {
                let out = std::io::BufWriter::new(file);
                let ends = capture.locals.clone();
                Exporter::new(&capture.log, format, ends, out)
            })
        };
        match started {
            Ok(exporter) => {
                self.exporting = Some(ExportJob { exporter, path });
                self.continue_export();
            }
            Err(e) => self.export_failed(&path, &e),
        }
    }

    /// Stops the export; what is written stays in the file.
    pub fn cancel_export(&mut self) {
        if let Some(job) = self.exporting.take() {
            let (written, _) = job.exporter.counts();
            let note = Note::say(
                S::ExportStopped,
                [arg(job.path.display().to_string()), arg(written)],
            );
            self.capture()
                .log
                .push_note(SystemTime::now(), RecordKind::Info, None, None, note);
        }
    }

    /// Housekeeping between frames: lets go of an engine that has stopped and writes the next
    /// slice of an export. True while there is more to do (call again soon).
    pub fn poll(&mut self) -> bool {
        if self.engine.is_some() && self.shared.stopped.load(Ordering::Acquire) {
            self.engine = None;
        }
        self.continue_export();
        self.exporting.is_some()
    }

    /// Waits until the session listens (a TCP server) or is bound (UDP); the address with
    /// the port the OS chose, or `None` if it stopped or `timeout` passed first.
    pub fn wait_listening(&self, timeout: Duration) -> Option<SocketAddr> {
        let mut addr = None;
        self.wait_until(timeout, |c| {
            if let crate::capture::LinkState::Listening(local) = c.link {
                addr = Some(local);
            }
            addr.is_some() || c.stopped
        });
        addr
    }

    /// Waits until `done` holds for the capture, at most `timeout`; true if it did.
    pub fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&Capture) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut capture = self.capture();
        loop {
            if done(&capture) {
                return true;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            capture = self
                .shared
                .changed
                .wait_timeout(capture, left.min(Duration::from_millis(50)))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Writes the next slice of the export; says in the log how it ended.
    fn continue_export(&mut self) {
        let Some(job) = &mut self.exporting else {
            return;
        };
        let mut capture = self.shared.lock();
        let deadline = Instant::now() + WORK_SLICE;
        let mut result = Ok(false);
        while matches!(result, Ok(false)) && Instant::now() < deadline {
            result = job.exporter.step(&capture.log, 1024);
        }
        match result {
            Ok(false) => {}
            Ok(true) => {
                let (written, missed) = job.exporter.counts();
                let path = job.path.display().to_string();
                let mut note = if job.exporter.format() == ExportFormat::Pcap {
                    // A pcap holds the data records: its count is theirs, not the log's.
                    Note::say(
                        S::SavedPackets,
                        [arg(job.exporter.data_written()), arg(path)],
                    )
                } else {
                    Note::say(S::SavedRecords, [arg(written), arg(path)])
                };
                if missed > 0 {
                    note = note
                        .then(Note::text("; "))
                        .then(Note::say(S::ExportMissed, [arg(missed)]));
                }
                capture
                    .log
                    .push_note(SystemTime::now(), RecordKind::Info, None, None, note);
                drop(capture);
                self.exporting = None;
            }
            Err(e) => {
                drop(capture);
                let path = job.path.clone();
                self.exporting = None;
                self.export_failed(&path, &e);
            }
        }
    }

    fn export_failed(&self, path: &std::path::Path, e: &std::io::Error) {
        let note = Note::say(
            S::SaveFailed,
            [arg(path.display().to_string()), arg(e.to_string())],
        );
        self.capture()
            .log
            .push_note(SystemTime::now(), RecordKind::Error, None, None, note);
    }
}

/// Why a send from the form could not go.
pub type SendError = Note;

/// The send-box side of a session: what the form says about targets and payloads. Used by the
/// window and by `sockscope run`.
impl Session {
    /// Whether there is someone to send to now, in `mode`, as `capture` (this session's,
    /// already locked by the caller) says.
    pub fn can_send(&self, mode: Mode, capture: &Capture) -> bool {
        let caps = mode.caps();
        if caps.connects {
            matches!(capture.link, crate::capture::LinkState::Connected { .. })
        } else if caps.listens_again {
            // A server sends to its clients: one must be there.
            !capture.clients.is_empty()
        } else {
            self.is_open()
        }
    }

    /// Where a send goes now, or why nowhere. UDP without a pinned peer goes to the form's
    /// remote address.
    pub fn target(
        &self,
        form: &Form,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<Target, SendError> {
        self.target_in(&self.capture(), form, selection, errors)
    }

    /// [`target`](Self::target), with this session's capture already locked by the caller.
    pub fn target_in(
        &self,
        capture: &Capture,
        form: &Form,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<Target, SendError> {
        let can_send = self.can_send(form.mode, capture);
        if !can_send {
            return Err(Note::say(form.mode.caps().not_open, []));
        }
        let caps = form.mode.caps();
        Ok(match selection {
            Selection::Client(conn) if caps.has_clients => Target::Conn(conn),
            Selection::Peer(peer) if caps.datagrams || caps.relays => Target::Addr(peer),
            // A relay has two sides: a send goes to the one picked in the list.
            _ if caps.relays => return Err(Note::say(S::RelayPickTarget, [])),
            Selection::LatestPeer if caps.datagrams => {
                let latest = capture.latest_sender();
                Target::Addr(latest.ok_or_else(|| Note::say(S::NoDatagram, []))?)
            }
            _ if caps.datagrams => {
                let mut found = FieldErrors::default();
                let remote = form.remote_addr(&mut found);
                // No remote address typed: answer whoever spoke last.
                let remote = remote.or_else(|| {
                    let typed = !form.remote_ip.trim().is_empty();
                    if typed { None } else { capture.latest_sender() }
                });
                if !form.remote_ip.trim().is_empty() {
                    errors.remote_ip = found.remote_ip;
                    errors.remote_port = found.remote_port;
                }
                Target::Addr(remote.ok_or_else(|| Note::say(S::SetRemoteOrPeer, []))?)
            }
            _ => Target::AllConns,
        })
    }

    /// Sends one payload from the form now.
    pub fn send_command(
        &self,
        form: &Form,
        command: &QuickCommand,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<(), SendError> {
        self.send_command_with(form, command, selection, errors, None)
    }

    /// [`send_command`](Self::send_command), its `{{f.NAME}}` taken from `fields` (a received
    /// frame decoded), when given.
    pub fn send_command_with(
        &self,
        form: &Form,
        command: &QuickCommand,
        selection: Selection,
        errors: &mut FieldErrors,
        fields: Option<&dyn crate::rules::expr::Fields>,
    ) -> Result<(), SendError> {
        let mut payload = command.payload().map_err(note_of)?;
        if let Some(fields) = fields {
            payload = payload.with_fields(fields).map_err(note_of)?;
        }
        // An unrendered check first: a payload that can never render is refused here.
        payload
            .render(&mut self.vars(), SystemTime::now())
            .map_err(note_of)?;
        let to = self.target(form, selection, errors)?;
        self.send(to, payload);
        Ok(())
    }

    /// Starts the form's cyclic send (循环发送).
    pub fn start_cyclic_form(
        &self,
        form: &Form,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<(), SendError> {
        let interval = Duration::from_millis(form.cyclic_ms.max(1));
        let count = (form.cyclic_count > 0).then_some(form.cyclic_count);
        let payload = form.payload().map_err(note_of)?;
        if let Some(field) = payload.fields_used().first() {
            return Err(Note::say(S::FieldNotCyclic, [arg((*field).to_owned())]));
        }
        let to = self.target(form, selection, errors)?;
        self.start_cyclic(to, payload, interval, count);
        Ok(())
    }

    /// Runs the form's quick commands in order, each followed by its delay.
    pub fn start_sequence_form(
        &self,
        form: &Form,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<(), SendError> {
        let mut steps = Vec::new();
        for command in &form.quick {
            match command.payload() {
                Ok(payload) if !payload.fields_used().is_empty() => {
                    let field = payload.fields_used().first().map(|f| (*f).to_owned());
                    return Err(Note::say(
                        S::FieldNotCyclic,
                        [arg(field.unwrap_or_default())],
                    ));
                }
                Ok(payload) => steps.push((payload, Duration::from_millis(command.delay_ms))),
                Err(e) => {
                    let name = command.name.clone();
                    return Err(Note::say(
                        S::QuickCommandError,
                        [arg(name), arg(e.to_string())],
                    ));
                }
            }
        }
        if steps.is_empty() {
            return Err(Note::say(S::SequenceEmpty, []));
        }
        let to = self.target(form, selection, errors)?;
        self.start_sequence(to, steps, form.sequence_repeat);
        Ok(())
    }

    /// Sends a file with the form's chunk size and pacing.
    pub fn send_file_form(
        &self,
        form: &Form,
        path: PathBuf,
        selection: Selection,
        errors: &mut FieldErrors,
    ) -> Result<(), SendError> {
        let pace = match (form.file_delay_ms, form.file_rate_kib) {
            (0, 0) => Pace::Unlimited,
            (0, kib) => Pace::BytesPerSec(kib * 1024),
            (ms, _) => Pace::DelayPerChunk(Duration::from_millis(ms)),
        };
        let chunk = form.file_chunk.clamp(1, 1 << 20);
        let to = self.target(form, selection, errors)?;
        self.send_file(to, path, chunk, pace);
        Ok(())
    }
}

/// An error as a note that is worded when shown.
fn note_of(e: impl std::fmt::Display + Send + Sync + 'static) -> Note {
    Note::say(S::Plain, [arg(e)])
}

#[cfg(test)]
mod tests;
