//! Session profiles: one RON file per device holding everything about a session (mode,
//! endpoints, encoding, receive view, framing, send options, checksum, quick commands, cyclic
//! settings), with a format `version`.
//!
//! Loading is lenient, field by field: a missing field takes its default, an unknown field is
//! ignored with a warning, and a field whose value does not fit falls back to its default with a
//! warning naming the field and its line. Only a file that is not RON, or not a profile at all,
//! fails — with the line and column. Saving writes a temp file and renames it over the old one.

mod form;

use std::collections::BTreeSet;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use ron::value::RawValue;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::i18n::{S, t, tf};
pub use form::{
    ComposeFields, FieldErrors, Form, FrameMode, HISTORY_LEN, QuickCommand, log_cap_mib,
    resolve_protocol,
};

/// The format this version writes. Files of older versions load (every field has a default);
/// files of newer versions load what this version knows, with a warning.
pub const FORMAT_VERSION: u32 = 3;

/// The extension of profile files.
pub const EXTENSION: &str = "ron";

/// One saved session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    /// Format version ([`FORMAT_VERSION`] when written by this version).
    pub version: u32,
    /// What the tab is called (the device, usually).
    pub name: String,
    /// Connect / Listen / Open as soon as the profile is opened.
    pub auto_connect: bool,
    /// The session's settings.
    pub session: Form,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            name: String::new(),
            auto_connect: false,
            session: Form::default(),
        }
    }
}

/// A profile read from text, and what was odd about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// What could be read; defaults where the file had nothing usable.
    pub profile: Profile,
    /// One sentence per field ignored or replaced by its default.
    pub warnings: Vec<String>,
}

/// Why a file is not a profile.
#[derive(Debug)]
pub enum ProfileError {
    /// It could not be read or written.
    Io(PathBuf, io::Error),
    /// It is not RON (truncated, a typo): where and what.
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser expected.
        message: String,
    },
    /// It is RON but not a SockScope profile.
    NotAProfile(String),
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            ProfileError::Syntax {
                line,
                column,
                message,
            } => f.write_str(&tf(S::ProfileSyntax, &[line, column, message])),
            ProfileError::NotAProfile(why) => f.write_str(&tf(S::ProfileNotAProfile, &[why])),
        }
    }
}

impl std::error::Error for ProfileError {}

/// The fields of a RON struct, each value kept as its text (borrowed from the file).
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a struct like (name: value, …)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    fields.push((key, map.next_value::<&'de RawValue>()?));
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_struct("Profile", &[], FieldsVisitor)
    }
}

fn syntax_error(e: &ron::error::SpannedError) -> ProfileError {
    ProfileError::Syntax {
        line: e.span.start.line,
        column: e.span.start.col,
        message: e.code.to_string(),
    }
}

/// The 1-based line of `part` (a slice of `text`) in `text`.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .filter(|&o| o <= text.len())
        .unwrap_or(0);
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The field names `T` writes (its `Default`, serialized), so unknown names can be told apart.
fn known_fields<T: Serialize + Default>() -> BTreeSet<String> {
    let text = ron::to_string(&T::default()).unwrap_or_default();
    ron::from_str::<Fields<'_>>(&text)
        .map(|f| f.0.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default()
}

/// Reads the fields of a struct one by one: each known field that parses is kept, each other
/// one becomes a warning (prefixed with `path`). The default stands in for what is left out.
fn lenient<T>(text: &str, fields: &Fields<'_>, path: &str, warnings: &mut Vec<String>) -> T
where
    T: Serialize + Default + for<'de> Deserialize<'de>,
{
    let known = known_fields::<T>();
    let mut kept = String::from("(");
    for (name, raw) in &fields.0 {
        let line = line_of(text, raw.get_ron());
        if !known.contains(name) {
            let field = format!("{path}{name}");
            warnings.push(tf(S::ProfileUnknownField, &[&field, &line]));
            continue;
        }
        let alone = format!("({name}: {})", raw.get_ron());
        match ron::from_str::<T>(&alone) {
            Ok(_) => {
                kept.push_str(name);
                kept.push(':');
                kept.push_str(raw.get_ron());
                kept.push(',');
            }
            Err(e) => {
                let field = format!("{path}{name}");
                warnings.push(tf(S::ProfileBadValue, &[&field, &line, &e.code]));
            }
        }
    }
    kept.push(')');
    ron::from_str::<T>(&kept).unwrap_or_default()
}

/// A quick command's unknown fields (`payload:` for `text:`) are warnings as the session's
/// are: serde would drop them without a word, leaving a command with nothing to send.
fn warn_quick_fields(text: &str, session: &Fields<'_>, warnings: &mut Vec<String>) {
    let Some((_, raw)) = session.0.iter().find(|(name, _)| name == "quick") else {
        return;
    };
    let Ok(commands) = ron::from_str::<Vec<Fields<'_>>>(raw.get_ron()) else {
        // A quick list that is no list of structs is a bad value, said already.
        return;
    };
    let mut known = known_fields::<QuickCommand>();
    // Written only when set (a command made in Compose), so the default does not show it.
    known.insert("fields".to_owned());
    for (index, command) in commands.iter().enumerate() {
        for (name, value) in &command.0 {
            if !known.contains(name) {
                let field = format!("session.quick[{index}].{name}");
                let line = line_of(text, value.get_ron());
                warnings.push(tf(S::ProfileUnknownField, &[&field, &line]));
            }
        }
    }
}

/// Reads a profile from RON text (a byte-order mark at its start, as Notepad writes, is
/// skipped).
pub fn parse(text: &str) -> Result<Loaded, ProfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let top: Fields<'_> = ron::from_str(text).map_err(|e| syntax_error(&e))?;
    let session = top
        .0
        .iter()
        .find(|(name, _)| name == "session")
        .map(|(_, raw)| *raw)
        .ok_or_else(|| ProfileError::NotAProfile(t(S::ProfileNoSession).into()))?;
    let session_fields: Fields<'_> = ron::from_str(session.get_ron()).map_err(|e| {
        let line = line_of(text, session.get_ron());
        ProfileError::NotAProfile(tf(S::ProfileSessionNotStruct, &[&line, &e.code]))
    })?;

    let mut warnings = Vec::new();
    let header = Fields(
        top.0
            .iter()
            .filter(|(name, _)| name != "session")
            .cloned()
            .collect(),
    );
    let mut profile: Profile = lenient(text, &header, "", &mut warnings);
    match top.0.iter().find(|(name, _)| name == "version") {
        None => warnings.insert(0, tf(S::ProfileNoVersion, &[&FORMAT_VERSION])),
        Some(_) if profile.version > FORMAT_VERSION => {
            warnings.insert(0, tf(S::ProfileNewer, &[&profile.version, &FORMAT_VERSION]));
        }
        Some(_) => {}
    }
    profile.session = lenient(text, &session_fields, "session.", &mut warnings);
    warn_quick_fields(text, &session_fields, &mut warnings);
    Ok(Loaded { profile, warnings })
}

/// Reads a profile file.
pub fn load(path: &Path) -> Result<Loaded, ProfileError> {
    let bytes = std::fs::read(path).map_err(|e| ProfileError::Io(path.into(), e))?;
    from_bytes(&bytes)
}

/// Reads a profile from a file's bytes: UTF-8 with or without a byte-order mark, UTF-16 with
/// one (Notepad's "Unicode"), or else GBK — what Notepad and other editors on a Chinese
/// Windows save as "ANSI" — with a warning saying so.
pub fn from_bytes(bytes: &[u8]) -> Result<Loaded, ProfileError> {
    let (text, note) = match encoding_rs::Encoding::for_bom(bytes) {
        Some((encoding, bom)) if encoding != encoding_rs::UTF_8 => {
            let rest = bytes.get(bom..).unwrap_or_default();
            let (text, _) = encoding.decode_without_bom_handling(rest);
            (text.into_owned(), Some(t(S::ProfileReadAsUtf16)))
        }
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_owned(), None),
            Err(_) => match gbk(bytes) {
                Ok(text) => (text, Some(t(S::ProfileReadAsGbk))),
                Err(at) => return Err(ProfileError::NotAProfile(tf(S::ProfileNotText, &[&at]))),
            },
        },
    };
    let mut loaded = parse(&text)?;
    if let Some(note) = note {
        loaded.warnings.insert(0, note.to_owned());
    }
    Ok(loaded)
}

/// `bytes` as GBK text, or the 1-based offset of the first byte that is not GBK.
fn gbk(bytes: &[u8]) -> Result<String, usize> {
    let mut decoder = encoding_rs::GBK.new_decoder_without_bom_handling();
    let room = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(room);
    let (result, read) = decoder.decode_to_string_without_replacement(bytes, &mut text, true);
    match result {
        encoding_rs::DecoderResult::InputEmpty => Ok(text),
        encoding_rs::DecoderResult::Malformed(bad, after) => {
            Err(read.saturating_sub(usize::from(bad) + usize::from(after)) + 1)
        }
        encoding_rs::DecoderResult::OutputFull => Err(read + 1),
    }
}

/// The profile as RON text: the same profile always gives the same bytes, on every OS.
pub fn to_string(profile: &Profile) -> String {
    let config = ron::ser::PrettyConfig::new()
        .new_line("\n".to_string())
        .indentor("    ".to_string());
    let mut text = ron::ser::to_string_pretty(profile, config).unwrap_or_default();
    text.push('\n');
    text
}

/// Writes the profile to `path` as the current format: first to a temp file beside it, then
/// renamed over the old one, so a crash never leaves half a profile.
pub fn save(path: &Path, profile: &Profile) -> Result<(), ProfileError> {
    let mut profile = profile.clone();
    profile.version = FORMAT_VERSION;
    let text = to_string(&profile);
    let io_err = |e| ProfileError::Io(path.into(), e);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(io_err(e));
    }
    Ok(())
}

/// A name for a profile's tab: its own name, else the file's stem.
pub fn display_name(profile: &Profile, path: Option<&Path>) -> String {
    if profile.name.trim().is_empty() {
        path.and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        profile.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::checksum::{ByteOrder, Checksum, ChecksumKind};
    use crate::engine::Mode;

    fn sample() -> Profile {
        let mut profile = Profile {
            name: "PLC 1号".into(),
            ..Profile::default()
        };
        profile.session.mode = Mode::TcpServer;
        profile.session.server_port = "502".into();
        profile.session.checksum = Checksum {
            kind: ChecksumKind::Crc16Modbus,
            order: ByteOrder::Little,
            ..Checksum::default()
        };
        profile.session.quick.push(QuickCommand {
            name: "读".into(),
            text: "01 03 00 00 00 0A".into(),
            ..QuickCommand::default()
        });
        profile
    }

    /// A profile's spec file that is gone says it cannot be read (it said no built-in had
    /// that name, as if a path were not accepted); a file that is there loads.
    #[test]
    fn a_protocol_spec_file_that_is_gone_says_it_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("my808.ron");
        for name in [gone.display().to_string(), "my808.ron".to_owned()] {
            let why = form::resolve_protocol(&name).unwrap_err();
            assert!(why.starts_with("Cannot read"), "{name}: {why}");
        }
        std::fs::write(&gone, &crate::protocol::builtin("jt808").unwrap().source).unwrap();
        let p = form::resolve_protocol(&gone.display().to_string())
            .unwrap()
            .unwrap();
        assert_eq!(p.name(), "jt808");
        // A built-in's name is still a built-in, and a plain unknown name lists them.
        let why = form::resolve_protocol("jt809").unwrap_err();
        assert!(why.contains("jt808"), "{why}");
    }

    #[test]
    fn a_profile_notepad_saved_with_a_bom_or_as_utf_16_loads_as_it_was() {
        let text = to_string(&sample());
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        let loaded = from_bytes(&with_bom).unwrap();
        assert_eq!(loaded.profile, sample());
        assert_eq!(loaded.warnings, Vec::<String>::new());
        // Pasted text can carry the mark too.
        assert_eq!(parse(&format!("\u{feff}{text}")).unwrap().profile, sample());

        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let loaded = from_bytes(&utf16).unwrap();
        assert_eq!(loaded.profile, sample());
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings[0].contains("UTF-16"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn a_profile_in_gbk_loads_with_a_warning_and_bytes_of_no_encoding_are_refused() {
        let text = to_string(&sample());
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the sample has Chinese in it"
        );
        let loaded = from_bytes(&gbk).unwrap();
        assert_eq!(loaded.profile, sample(), "读 came back as 读");
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("GBK"), "{:?}", loaded.warnings);

        // 0xFF is no lead byte in GBK (nor anything in UTF-8): the sentence names where.
        let mut bad = b"(version: 2, name: \"".to_vec();
        bad.push(0xFF);
        bad.extend_from_slice(b"\", session: ())");
        let err = from_bytes(&bad).unwrap_err().to_string();
        assert!(err.contains("neither UTF-8 nor GBK"), "{err}");
        assert!(err.contains("byte 21"), "{err}");
    }

    #[test]
    fn round_trip_is_byte_identical() {
        let text = to_string(&sample());
        let loaded = parse(&text).unwrap();
        assert_eq!(loaded.warnings, Vec::<String>::new());
        assert_eq!(loaded.profile, sample());
        assert_eq!(to_string(&loaded.profile), text);
    }

    #[test]
    fn a_quick_command_made_in_compose_keeps_its_fields_through_a_save() {
        let mut profile = sample();
        profile.session.quick.push(QuickCommand {
            name: "JT808 0x8001".into(),
            text: "7E 80 01 7E".into(),
            fields: Some(ComposeFields {
                protocol: "jt808".into(),
                message: Some(0x8001),
                dir: crate::protocol::Dir::Response,
                texts: [("body.reply_serial".to_owned(), "38".to_owned())].into(),
            }),
            ..QuickCommand::default()
        });
        let loaded = parse(&to_string(&profile)).unwrap();
        assert_eq!(loaded.warnings, Vec::<String>::new());
        assert_eq!(loaded.profile, profile);
        // One made as bytes writes no `fields` (old readers and files stay as they were).
        assert!(!to_string(&sample()).contains("fields"));
    }

    #[test]
    fn a_missing_field_takes_its_default_silently() {
        let loaded = parse("(version: 1, session: (mode: Udp))").unwrap();
        assert_eq!(loaded.warnings, Vec::<String>::new());
        assert_eq!(loaded.profile.session.mode, Mode::Udp);
        assert_eq!(
            loaded.profile.session.remote_port,
            Form::default().remote_port
        );
    }

    #[test]
    fn a_quick_command_s_unknown_field_is_a_warning_naming_it() {
        let text = "(version: 2, session: (mode: TcpClient,\n quick: [(name: \"status\", text: \"S\"),\n (name: \"ping\", payload: \"PING\")]))";
        let loaded = parse(text).unwrap();
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(
            loaded.warnings[0].starts_with("session.quick[1].payload (line 3): "),
            "{:?}",
            loaded.warnings
        );
        assert_eq!(loaded.profile.session.quick.len(), 2);
    }

    #[test]
    fn unknown_fields_are_warnings_naming_them() {
        let loaded = parse("(version: 1, colour: 3,\n session: (mode: Udp, baud: 9600))").unwrap();
        assert_eq!(loaded.profile.session.mode, Mode::Udp);
        assert_eq!(
            loaded.warnings,
            [
                "colour (line 1): unknown field, ignored",
                "session.baud (line 2): unknown field, ignored"
            ]
        );
    }

    #[test]
    fn a_bad_value_falls_back_to_the_default_and_names_the_field() {
        let text = "(\n  version: 1,\n  session: (\n    mode: Tcp,\n    server_port: \"9000\",\n    cyclic_ms: \"fast\",\n  ),\n)";
        let loaded = parse(text).unwrap();
        assert_eq!(loaded.profile.session.mode, Form::default().mode);
        assert_eq!(loaded.profile.session.server_port, "9000");
        assert_eq!(loaded.profile.session.cyclic_ms, Form::default().cyclic_ms);
        assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].starts_with("session.mode (line 4): "));
        assert!(loaded.warnings[1].starts_with("session.cyclic_ms (line 6): "));
    }

    #[test]
    fn versions_missing_or_newer_are_said() {
        let loaded = parse("(session: ())").unwrap();
        assert!(loaded.warnings[0].contains("no `version`"));
        let loaded = parse("(version: 99, session: ())").unwrap();
        assert!(
            loaded.warnings[0].contains("newer"),
            "{:?}",
            loaded.warnings
        );
        assert_eq!(loaded.profile.version, 99);
    }

    #[test]
    fn not_ron_or_not_a_profile_is_an_error_with_a_place() {
        let text = to_string(&sample());
        let truncated = &text[..text.len() / 2];
        match parse(truncated) {
            Err(ProfileError::Syntax { line, .. }) => assert!(line > 1),
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("[1, 2]"), Err(ProfileError::Syntax { .. })));
        assert!(matches!(
            parse("(version: 1)"),
            Err(ProfileError::NotAProfile(_))
        ));
        assert!(matches!(
            parse("(version: 1, session: 5)"),
            Err(ProfileError::NotAProfile(_))
        ));
    }

    #[test]
    fn save_replaces_the_file_whole() {
        let dir_dir = tempfile::tempdir().unwrap();
        let dir = dir_dir
            .path()
            .join(format!("sockscope-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("plc.ron");
        std::fs::write(&path, "old").unwrap();
        save(&path, &sample()).unwrap();
        assert_eq!(load(&path).unwrap().profile, sample());
        let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn display_name_falls_back_to_the_file_stem() {
        let mut p = Profile::default();
        assert_eq!(display_name(&p, Some(Path::new("x/meter.ron"))), "meter");
        p.name = "电表".into();
        assert_eq!(display_name(&p, Some(Path::new("x/meter.ron"))), "电表");
    }

    /// Every sample under `tests/data/profiles/` (one or more per format version) loads without
    /// a warning, and says what it should.
    #[test]
    fn every_sample_profile_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/profiles");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let loaded = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(loaded.warnings, Vec::<String>::new(), "{}", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let version: u32 = name[1..name.find('-').unwrap()].parse().unwrap();
            assert_eq!(loaded.profile.version, version, "{name}");
            assert!(!loaded.profile.name.is_empty(), "{name}");
            seen += 1;
        }
        assert!(seen >= 2);
        let modbus = load(&dir.join("v1-modbus-server.ron")).unwrap().profile;
        assert_eq!(modbus.session.mode, Mode::TcpServer);
        assert_eq!(modbus.session.checksum.kind, ChecksumKind::Crc16Modbus);
        assert_eq!(modbus.session.quick.len(), 2);
        assert_eq!(modbus.session.quick[0].name, "读保持寄存器");
        assert_eq!(modbus.session.frame_offset, 4);
        let relay = load(&dir.join("v2-relay-bad-link.ron")).unwrap().profile;
        let config = relay.session.session_config().unwrap();
        let relayed = config.relay.unwrap();
        assert_eq!(relayed.upstream.to_string(), "192.168.1.50:502");
        assert_eq!(
            (relayed.to_upstream.latency_ms, relayed.to_client.rate_bytes),
            (80, 16384)
        );
        assert_eq!(config.local.port(), 15020);
        let secure = load(&dir.join("v2-secure-client.ron")).unwrap().profile;
        let config = secure.session.session_config().unwrap();
        assert_eq!(config.reconnect.map(|r| r.max_interval_ms), Some(30_000));
        assert_eq!(config.tls.unwrap().server_name, "broker.local");
        assert_eq!(config.ws.unwrap().subprotocol, "mqtt");
        assert_eq!(secure.session.udp.groups[0].to_string(), "239.1.2.3%eth0");
        let kept = load(&dir.join("v2-tls-server-kept-cert.ron"))
            .unwrap()
            .profile;
        let tls = kept.session.session_config().unwrap().tls.unwrap();
        let cert = tls
            .kept_for_names()
            .and_then(crate::engine::KeptCert::info)
            .unwrap();
        assert_eq!(cert.subject, "CN=meter.local");
        let pinned = load(&dir.join("v2-pinned-device-client.ron"))
            .unwrap()
            .profile;
        let tls = pinned.session.session_config().unwrap().tls.unwrap();
        let crate::engine::Verify::Pin(pin) = &tls.verify else {
            panic!("{:?}", tls.verify);
        };
        assert_eq!(
            crate::engine::parse_pin(pin).unwrap()[..2],
            [0xD2, 0xB6],
            "read as openssl prints it"
        );
        let platform = load(&dir.join("v3-jt808-platform.ron")).unwrap().profile;
        assert_eq!(
            platform.session.protocol().unwrap().unwrap().name(),
            "jt808"
        );
        assert_eq!(
            platform.session.session_config().unwrap().framing,
            crate::protocol::builtin("jt808")
                .unwrap()
                .framing()
                .unwrap(),
            "the protocol's frame layer cuts the stream"
        );
        // Older formats have no protocol: nothing decodes, framing as before.
        assert!(matches!(modbus.session.protocol(), Ok(None)));
        let udp = load(&dir.join("v1-minimal-udp.ron")).unwrap().profile;
        assert!(udp.auto_connect);
        assert_eq!(udp.session.remote_ip, "::1");
        assert_eq!(
            udp.session.framing().unwrap(),
            crate::codec::framing::Framing::Delimiter {
                delimiter: b"\r\n".to_vec(),
                keep: false,
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_loads_or_errs_without_panicking(text in ".{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_truncation_of_a_profile_loads_or_errs(cut in 0usize..2000) {
            let text = to_string(&sample());
            let cut = text.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(text.len());
            let _ = parse(&text[..cut]);
        }
    }
}
