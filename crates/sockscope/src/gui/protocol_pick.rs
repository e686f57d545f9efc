//! Which protocol a tab decodes with, resolved from what its form says (a built-in or a spec
//! file, cached and read again when the file changes), and the frame a send's `{{f.NAME}}`
//! takes its values from. Plain functions of the form and the log, no egui: the model and
//! the panels use them (the picker and the field tree are in `protocol_ui`).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sockscope_core::protocol::{self, Decoded, Dir, Protocol};

use super::i18n::{S, t};
use crate::capture::{Record, RecordKind, RelayWay};
use crate::profile::Form;

/// The protocol last resolved, by what the form says: a spec file is read once, and again
/// when it changed on disk (looked at once a second at most).
struct Resolved {
    /// What the form said.
    name: String,
    /// The protocol, or why there is none.
    result: Result<Option<Arc<Protocol>>, String>,
    /// The spec file's modification time when it was read (a file, not a built-in).
    modified: Option<SystemTime>,
    /// When the file's time was last looked at.
    checked: Instant,
    /// The file was read again since the picker last looked (it applies the new framing).
    reloaded: bool,
}

/// How often a chosen spec file's time is looked at.
pub(super) const SPEC_CHECK_EVERY: Duration = Duration::from_secs(1);

thread_local! {
    /// The protocols resolved lately, by name (a relay's two directions, a few tabs).
    static CACHE: RefCell<Vec<Resolved>> = const { RefCell::new(Vec::new()) };
    /// Spec files opened lately, newest first (the window's workspace keeps them).
    static RECENT: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
}

/// How many resolved protocols are kept.
const CACHED: usize = 4;

/// How many spec files the picker remembers.
const RECENT_SPECS: usize = 6;

/// The spec files opened lately, newest first.
pub fn recent_specs() -> Vec<PathBuf> {
    RECENT.with(|r| r.borrow().clone())
}

/// Sets the spec files opened lately (from the saved workspace).
pub fn set_recent_specs(paths: Vec<PathBuf>) {
    RECENT.with(|r| *r.borrow_mut() = paths);
}

/// Puts a spec file first in the recent list.
pub fn remember_spec(path: &Path) {
    RECENT.with(|r| {
        let mut r = r.borrow_mut();
        r.retain(|p| p != path);
        r.insert(0, path.to_path_buf());
        r.truncate(RECENT_SPECS);
    });
}

/// When a spec file was last changed, if it is a file.
pub(super) fn modified(name: &str) -> Option<SystemTime> {
    if protocol::builtin(name).is_some() {
        return None;
    }
    std::fs::metadata(name.trim())
        .and_then(|m| m.modified())
        .ok()
}

/// Forgets the protocols read, so the next look reads a spec file again (Reload).
pub fn forget() {
    CACHE.with(|cache| cache.borrow_mut().clear());
}

/// The protocol `name` names (a built-in or a spec file), if any, or why it cannot be used
/// (cached; a spec file is read again when it changed).
pub(super) fn resolve(name: &str) -> Result<Option<Arc<Protocol>>, String> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(r) = cache.iter_mut().find(|r| r.name == name) {
            if r.checked.elapsed() < SPEC_CHECK_EVERY || r.name.trim().is_empty() {
                return r.result.clone();
            }
            r.checked = Instant::now();
            let now = modified(&r.name);
            if now == r.modified {
                return r.result.clone();
            }
            r.result = crate::profile::resolve_protocol(name);
            r.modified = now;
            r.reloaded = true;
            return r.result.clone();
        }
        let result = crate::profile::resolve_protocol(name);
        if cache.len() >= CACHED {
            cache.remove(0);
        }
        cache.push(Resolved {
            name: name.to_owned(),
            result: result.clone(),
            modified: modified(name),
            checked: Instant::now(),
            reloaded: false,
        });
        result
    })
}

/// The form's protocol, if one is chosen, or why it cannot be used.
pub fn resolved(form: &Form) -> Result<Option<Arc<Protocol>>, String> {
    resolve(&form.protocol)
}

/// The form's protocol with the way its messages are received (what rules read `f.NAME`
/// of), when one is chosen and can be used.
pub fn received(form: &Form) -> Option<(Arc<Protocol>, sockscope_core::protocol::Dir)> {
    let protocol = resolved(form).ok().flatten()?;
    Some((protocol, sockscope_core::session::received_dir(form.mode)))
}

/// A relay's protocol for what the upstream sends: its own, or the session's.
pub(super) fn resolved_replies(form: &Form) -> Result<Option<Arc<Protocol>>, String> {
    if form.protocol_replies.trim().is_empty() {
        resolved(form)
    } else {
        resolve(&form.protocol_replies)
    }
}

/// A relay's protocol for what the upstream sends, when it is not the session's (then the
/// upstream's rows are filtered, found and exported with it).
pub fn replies_apart(form: &Form) -> Option<Arc<Protocol>> {
    if !form.mode.caps().relays || form.protocol_replies.trim().is_empty() {
        return None;
    }
    let replies = resolved_replies(form).ok().flatten()?;
    let same = chosen(form).is_some_and(|p| p.name() == replies.name());
    (!same).then_some(replies)
}

/// True once after the chosen spec file was read again because it changed.
pub(super) fn take_reloaded() -> bool {
    CACHE.with(|cache| {
        let mut any = false;
        for r in cache.borrow_mut().iter_mut() {
            any |= std::mem::take(&mut r.reloaded);
        }
        any
    })
}

/// The form's protocol, if one is chosen and usable.
pub fn chosen(form: &Form) -> Option<Arc<Protocol>> {
    resolved(form).ok().flatten()
}

/// Which way a record went, as the protocol reads it.
pub(super) fn dir_of(form: &Form, record: &Record<'_>) -> Dir {
    super::fields::dir_of(form.mode, record)
}

/// The record decoded, when the tab has a protocol and the record is data.
pub(super) fn decode(form: &Form, record: &Record<'_>) -> Option<(Arc<Protocol>, Decoded)> {
    if !matches!(record.kind, RecordKind::Rx | RecordKind::Tx) || record.bytes.is_empty() {
        return None;
    }
    let p = match record.relay {
        Some(RelayWay::FromUpstream) => resolved_replies(form).ok().flatten()?,
        _ => chosen(form)?,
    };
    // A server's received frames are mostly requests, but a polled gateway that connects in
    // sends replies: the way the role says first, the other when only it fits (as `listen`).
    let d = if record.relay.is_some() {
        p.decode(record.bytes, dir_of(form, record))
    } else {
        p.decode_guess(record.bytes, dir_of(form, record))
    };
    Some((p, d))
}

/// The record decoded with its direction's protocol, when the tab has one and it is data.
pub fn decoded(form: &Form, record: &Record<'_>) -> Option<(Arc<Protocol>, Decoded)> {
    decode(form, record)
}

/// How far back the newest received frame is looked for (a log of sends alone is not read
/// whole each frame).
const FIELD_SOURCE_SCAN: usize = 10_000;

/// How many received records, newest first, are decoded looking for a whole frame.
const FIELD_SOURCE_DECODES: usize = 64;

/// Why no frame gives a send's `{{f.NAME}}` its values.
pub enum NoSource {
    /// No received frame the protocol decodes whole.
    NoFrame,
    /// The row picked in the log is one that was sent, not received.
    PickedSent,
    /// The row picked in the log is not a whole frame of the protocol.
    PickedBroken(String),
}

/// A record received and decoded whole, its checks holding, with its summary.
pub(super) fn sound_frame(form: &Form, record: &Record<'_>) -> Option<(String, Decoded)> {
    let (p, d) = decode(form, record)?;
    (d.stop.is_none() && d.checks_ok()).then(|| (p.summary(&d), d))
}

/// The frame a send's `{{f.NAME}}` takes its values from: the row picked in the log (a
/// received frame the protocol decodes whole), else the newest such; when it came and its
/// summary. A picked row that was sent, or is not a whole frame, is refused, not read (a
/// number made of a sent text's bytes went out).
pub fn field_source(
    form: &Form,
    log: &sockscope_core::capture::LogStore,
    picked: Option<u64>,
) -> Result<(String, String, Decoded), NoSource> {
    let data =
        |r: &Record<'_>| matches!(r.kind, RecordKind::Rx | RecordKind::Tx) && !r.bytes.is_empty();
    let when = |r: &Record<'_>| {
        let full = sockscope_core::capture::timestamp(r.at);
        full.split_once(' ')
            .map_or(full.clone(), |(_, time)| time.to_owned())
    };
    if let Some(record) = picked.and_then(|seq| log.get_seq(seq)).filter(data) {
        if record.kind != RecordKind::Rx {
            return Err(NoSource::PickedSent);
        }
        let Some((summary, decoded)) = sound_frame(form, &record) else {
            let title = chosen(form)
                .map(|p| p.title().to_owned())
                .unwrap_or_default();
            return Err(NoSource::PickedBroken(title));
        };
        return Ok((when(&record), summary, decoded));
    }
    // Each frame the preview asks: at most FIELD_SOURCE_DECODES received records are decoded
    // (a log of bytes the protocol does not fit was decoded 10,000 records a frame).
    log.iter()
        .rev()
        .take(FIELD_SOURCE_SCAN)
        .filter(|r| r.kind == RecordKind::Rx && !r.bytes.is_empty())
        .take(FIELD_SOURCE_DECODES)
        .find_map(|r| sound_frame(form, &r).map(|(summary, d)| (when(&r), summary, d)))
        .ok_or(NoSource::NoFrame)
}

/// `payload` with its `{{f.NAME}}` given from the frame [`field_source`] finds, and that frame
/// (when it came and its summary); `payload` as it is when it reads no field.
pub fn give_fields(
    form: &Form,
    log: &sockscope_core::capture::LogStore,
    picked: Option<u64>,
    payload: &sockscope_core::codec::payload::Payload,
) -> Result<
    (
        sockscope_core::codec::payload::Payload,
        Option<(String, String)>,
    ),
    sockscope_core::codec::payload::PayloadError,
> {
    use sockscope_core::codec::payload::PayloadError;
    if payload.fields_used().is_empty() {
        return Ok((payload.clone(), None));
    }
    if chosen(form).is_none() {
        return Err(payload.needs_protocol().unwrap_or(PayloadError::Empty));
    }
    match field_source(form, log, picked) {
        Ok((when, summary, decoded)) => Ok((payload.with_fields(&decoded)?, Some((when, summary)))),
        Err(why) => Err(no_source(payload, &why)),
    }
}

/// The payload's mistake when no frame gives its `{{f.NAME}}`.
pub fn no_source(
    payload: &sockscope_core::codec::payload::Payload,
    why: &NoSource,
) -> sockscope_core::codec::payload::PayloadError {
    use sockscope_core::codec::payload::PayloadError;
    let unfit = |reason: String| {
        payload
            .needs_frame()
            .map_or(PayloadError::Empty, |e| match e {
                PayloadError::NoFrame { column, field } => PayloadError::FrameUnfit {
                    column,
                    field,
                    why: reason,
                },
                other => other,
            })
    };
    match why {
        NoSource::NoFrame => payload.needs_frame().unwrap_or(PayloadError::Empty),
        NoSource::PickedSent => unfit(t(S::FieldPickedSent).to_owned()),
        NoSource::PickedBroken(title) => unfit(super::i18n::tf(S::FieldPickedBroken, &[title])),
    }
}
