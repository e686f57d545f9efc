//! Log messages kept as their parts — a sentence of the string table and its arguments — and
//! worded each time they are shown, in the reader's language. The I/O thread folds events into
//! the log without knowing the language, and switching to 中文 rewords the whole history.

use std::fmt;

use crate::i18n::{S, t, tf};

/// Something that reads as a sentence in the current language when displayed.
pub type Arg = Box<dyn fmt::Display + Send + Sync>;

/// A log message.
pub enum Note {
    /// A sentence of the string table, its slots filled by the arguments.
    Say(S, Vec<Arg>),
    /// Text as it is (an OS message, a file name).
    Text(String),
    /// Several notes, one after the other.
    Then(Vec<Note>),
    /// A note with the machine name of the event it tells (`reset`, `refused` …) where its
    /// sentence alone does not say it (a close's reason, an error's kind).
    Event(&'static str, Box<Note>),
}

impl Note {
    /// The sentence `key` with `args` in its slots.
    pub fn say<const N: usize>(key: S, args: [Arg; N]) -> Self {
        Note::Say(key, args.into())
    }

    /// Text shown as it is.
    pub fn text(text: impl Into<String>) -> Self {
        Note::Text(text.into())
    }

    /// This note, named as the event `name` (see [`Note::event`]).
    #[must_use]
    pub fn named(self, name: &'static str) -> Self {
        Note::Event(name, Box::new(self))
    }

    /// What the note is about, as its first argument reads (a rule's name in `rule-reply`),
    /// for machines that want it apart from the sentence.
    pub fn subject(&self) -> Option<String> {
        match self {
            Note::Say(_, args) => args.first().map(ToString::to_string),
            Note::Then(notes) => notes.first().and_then(Note::subject),
            Note::Event(_, note) => note.subject(),
            Note::Text(_) => None,
        }
    }

    /// The machine name of the event this note tells, stable across languages and versions:
    /// `connected`, `closed`, `reset`, `refused`, `timeout`, `listening` … (docs/CLI.md lists
    /// them). `None` for a note that names no event.
    pub fn event(&self) -> Option<&'static str> {
        match self {
            Note::Event(name, _) => Some(name),
            Note::Then(notes) => notes.first().and_then(Note::event),
            Note::Text(_) => None,
            Note::Say(key, _) => event_of(*key),
        }
    }

    /// This note, then `more`.
    #[must_use]
    pub fn then(self, more: Note) -> Self {
        match self {
            Note::Then(mut notes) => {
                notes.push(more);
                Note::Then(notes)
            }
            first => Note::Then(vec![first, more]),
        }
    }
}

/// The event a sentence of the string table tells, when it tells one by itself.
fn event_of(key: S) -> Option<&'static str> {
    Some(match key {
        S::EvConnecting => "connecting",
        S::EvConnected | S::EvClientConnected => "connected",
        S::EvListening => "listening",
        S::EvBound => "bound",
        S::EvFirewall => "firewall",
        S::EvReconnecting => "reconnecting",
        S::EvPeerFinished => "peer-finished",
        S::EvStoppedListening => "stopped-listening",
        S::EvDropped => "dropped",
        S::EvJoined => "joined",
        S::EvLeftGroup => "left-group",
        S::EvRelayPair => "relay-pair",
        S::EvRelayEnded
        | S::EvRelayEndedClientReset
        | S::EvRelayEndedUpstreamReset
        | S::EvRelayNotRelayed => "relay-ended",
        S::EvRelayCut => "relay-cut",
        S::EvSecured => "tls",
        S::EvPeerCert | S::EvNoPeerCert => "certificate",
        S::EvWsPing => "ws-ping",
        S::EvWsPong => "ws-pong",
        S::EvFileSent | S::EvFileSentTo => "file-sent",
        S::EvFileStopped => "file-stopped",
        S::EvWsUpgradedServer | S::EvWsUpgradedClient => "ws-upgraded",
        S::EvUdpClosed => "closed",
        S::EvRecorded => "recorded",
        S::ConnectCancelled => "cancelled",
        S::SavedRecords | S::SavedPackets => "saved",
        S::EvScriptPassed => "script-passed",
        S::EvScriptFailed => "script-failed",
        S::EvRuleReplied | S::EvRuleReplyLater => "rule-reply",
        S::EvRuleFired => "rule-fired",
        S::EvRuleReplyFailed => "rule-reply-failed",
        _ => return None,
    })
}

/// An argument of a note: any value that displays (an address, a number, an error).
pub fn arg(value: impl fmt::Display + Send + Sync + 'static) -> Arg {
    Box::new(value)
}

/// A string of the table as an argument, worded when shown.
pub fn key(key: S) -> Arg {
    Box::new(Key(key))
}

/// A string of the table that displays in the current language.
struct Key(S);

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(t(self.0))
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Say(key, args) => {
                let args: Vec<&dyn fmt::Display> = args
                    .iter()
                    .map(|a| a.as_ref() as &dyn fmt::Display)
                    .collect();
                f.write_str(&tf(*key, &args))
            }
            Note::Text(text) => f.write_str(text),
            Note::Then(notes) => notes.iter().try_for_each(|n| write!(f, "{n}")),
            Note::Event(_, note) => write!(f, "{note}"),
        }
    }
}

impl fmt::Debug for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Note({:?})", self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, set_lang};

    #[test]
    fn the_firewall_sentence_is_an_event_of_its_own_that_scripts_can_leave_out() {
        // It was `info`: a script could not tell it from the other notes.
        assert_eq!(Note::say(S::EvFirewall, []).event(), Some("firewall"));
    }

    #[test]
    fn a_note_is_worded_in_the_language_of_the_moment_it_is_shown() {
        let peer: std::net::SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let note = Note::say(S::EvLeft, [arg(peer), key(S::CloseReset)]);
        set_lang(Lang::En);
        assert_eq!(
            note.to_string(),
            "127.0.0.1:9000 left: connection reset by peer"
        );
        set_lang(Lang::Zh);
        let zh = note.to_string();
        set_lang(Lang::En);
        assert!(zh.contains("127.0.0.1:9000"), "{zh}");
        assert_ne!(zh, note.to_string(), "the same note reads in Chinese");
    }

    #[test]
    fn then_joins_notes_in_order() {
        let note = Note::text("a").then(Note::text("b")).then(Note::text("c"));
        assert_eq!(note.to_string(), "abc");
    }
}
