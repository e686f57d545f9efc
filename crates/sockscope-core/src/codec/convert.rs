//! The send box, converted when its mode changes (as NetAssist does): `01 03 00 00 00 01`
//! switched from Hex to Text must not go out as 17 ASCII characters. Where the bytes allow,
//! the box keeps its bytes; where they do not, it keeps its characters and says why.

use std::fmt::Write as _;

use super::hex;
use super::payload::{InputMode, Payload, SendSpec, VarState};
use super::text::TextEncoding;

/// What the send box becomes in the mode asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The mode the box is now in (Escapes instead of Text when the bytes are not all text).
    pub mode: InputMode,
    /// The box's new content.
    pub text: String,
    /// Why the content is not simply the same bytes in the mode asked for.
    pub note: Option<Unconverted>,
}

/// Why a conversion kept the characters or chose another mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unconverted {
    /// The bytes are not all printable text: shown with escapes instead.
    NotText,
    /// The box has variables (`{{counter}}`), which hex cannot hold: the characters stay.
    Variables,
    /// The box is not valid in its old mode: the characters and the mode stay. The message
    /// says where.
    Invalid(String),
}

/// Converts the send box from one input mode to another, keeping the bytes it stands for.
pub fn convert(text: &str, from: InputMode, to: InputMode, encoding: TextEncoding) -> Converted {
    if from == to || text.is_empty() {
        return Converted {
            mode: to,
            text: text.to_owned(),
            note: None,
        };
    }
    // The characters stay, and so does the mode: the same characters in another mode would
    // stand for other bytes, and a box fixed later would be sent in the mode it was not
    // typed for (`FF 00 0x41,zz` refused as text, then fixed, went out as 10 ASCII bytes).
    // Text typed in the wrong mode is switched by the user's "switch anyway" instead.
    let kept = |note: Unconverted| Converted {
        mode: from,
        text: text.to_owned(),
        note: Some(note),
    };
    match (from, to) {
        (InputMode::Hex, _) => match hex::parse(text) {
            Ok(bytes) => from_bytes(&bytes, to, encoding),
            Err(e) => kept(Unconverted::Invalid(e.to_string())),
        },
        (InputMode::Text, InputMode::Escapes) => Converted {
            mode: to,
            text: text_to_escapes(text),
            note: None,
        },
        (InputMode::Escapes, InputMode::Text) => match escapes_to_text(text, encoding) {
            Ok(Some(converted)) => Converted {
                mode: to,
                text: converted,
                note: None,
            },
            Ok(None) => Converted {
                mode: InputMode::Escapes,
                text: text.to_owned(),
                note: Some(Unconverted::NotText),
            },
            Err(note) => kept(note),
        },
        (_, _) => match body_bytes(text, from, encoding) {
            Ok(bytes) => from_bytes(&bytes, to, encoding),
            Err(note) => kept(note),
        },
    }
}

/// The bytes the box's body stands for (no line ending, checksum or prefix), when it has no
/// variables.
fn body_bytes(text: &str, mode: InputMode, encoding: TextEncoding) -> Result<Vec<u8>, Unconverted> {
    let spec = SendSpec {
        mode,
        encoding,
        ..SendSpec::default()
    };
    let payload = Payload::parse(text, &spec).map_err(|e| Unconverted::Invalid(e.to_string()))?;
    if payload.has_variables() {
        return Err(Unconverted::Variables);
    }
    payload
        .render(&mut VarState::new(0, 1), std::time::SystemTime::UNIX_EPOCH)
        .map_err(|e| Unconverted::Invalid(e.to_string()))
}

fn from_bytes(bytes: &[u8], to: InputMode, encoding: TextEncoding) -> Converted {
    match to {
        InputMode::Hex => Converted {
            mode: to,
            text: hex::format(bytes),
            note: None,
        },
        InputMode::Text => match bytes_as_text(bytes, encoding) {
            Some(text) => Converted {
                mode: to,
                text,
                note: None,
            },
            None => Converted {
                mode: InputMode::Escapes,
                text: bytes_as_escapes(bytes, encoding),
                note: Some(Unconverted::NotText),
            },
        },
        InputMode::Escapes => Converted {
            mode: to,
            text: bytes_as_escapes(bytes, encoding),
            note: None,
        },
    }
}

/// A character the text box can hold as it is: printable, or a newline or tab.
fn plain(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// The bytes as Text-mode content, when they are printable text in `encoding` that encodes
/// back to the same bytes (literal `{{` written `\{{`, so it is not read as a variable).
pub fn bytes_as_text(bytes: &[u8], encoding: TextEncoding) -> Option<String> {
    let mut decoded = String::new();
    let mut valid = true;
    encoding.split_valid(bytes, |run| decoded.push_str(run), |_| valid = false);
    if !valid || !decoded.chars().all(plain) || encoding.encode(&decoded).ok()? != bytes {
        return None;
    }
    Some(decoded.replace("{{", "\\{{"))
}

/// The bytes as Escapes-mode content: text in `encoding` as it is, `\r \n \t \0 \\` and
/// `\xHH` for everything else, `\{{` for literal braces.
pub fn bytes_as_escapes(bytes: &[u8], encoding: TextEncoding) -> String {
    let out = std::cell::RefCell::new(String::with_capacity(bytes.len()));
    encoding.split_valid(
        bytes,
        |run| escape_run(&mut out.borrow_mut(), run, encoding),
        |b| write_bytes(&mut out.borrow_mut(), &[b]),
    );
    let out = out.into_inner();
    // A character with two byte forms in the encoding (Shift_JIS has some) would come back
    // as the other form: then every byte past ASCII is written as `\xHH`.
    if body_bytes(&out, InputMode::Escapes, encoding).as_deref() == Ok(bytes) {
        return out;
    }
    let mut ascii = String::with_capacity(bytes.len() * 2);
    for run in bytes.split_inclusive(|b| !b.is_ascii()) {
        let (text, last) = match run.split_last() {
            Some((last, text)) if !last.is_ascii() => (text, Some(*last)),
            _ => (run, None),
        };
        // ASCII is valid UTF-8, and the same bytes in every offered encoding.
        escape_run(
            &mut ascii,
            std::str::from_utf8(text).unwrap_or_default(),
            encoding,
        );
        write_bytes(&mut ascii, last.as_slice());
    }
    ascii
}

fn write_bytes(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "\\x{b:02X}");
    }
}

/// Writes valid text with escapes for what the box cannot show as it is.
fn escape_run(out: &mut String, run: &str, encoding: TextEncoding) {
    let mut chars = run.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push_str("\\{{");
            }
            c if c.is_control() => {
                let mut buf = [0; 4];
                let bytes = encoding
                    .encode(c.encode_utf8(&mut buf))
                    .unwrap_or_else(|_| c.to_string().into_bytes());
                write_bytes(out, &bytes);
            }
            c => out.push(c),
        }
    }
}

/// Text-mode content as Escapes-mode content: the same bytes, variables kept.
fn text_to_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        // `\{{` (literal braces) means the same in both modes.
        if c == '\\' && chars.get(i + 1) == Some(&'{') && chars.get(i + 2) == Some(&'{') {
            out.push_str("\\{{");
            i += 3;
            continue;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => write_bytes(&mut out, c.to_string().as_bytes()),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Escapes-mode content as Text-mode content, if it is text (`Ok(None)` when it is not).
fn escapes_to_text(text: &str, encoding: TextEncoding) -> Result<Option<String>, Unconverted> {
    match body_bytes(text, InputMode::Escapes, encoding) {
        Ok(bytes) => Ok(bytes_as_text(&bytes, encoding)),
        // Variables: undo the escapes character by character (only ASCII `\xHH` can be).
        Err(Unconverted::Variables) => Ok(unescape_chars(text)),
        Err(other) => Err(other),
    }
}

fn unescape_chars(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c != '\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let next = *chars.get(i + 1)?;
        let (unescaped, used) = match next {
            '\\' => ('\\', 2),
            'r' => ('\r', 2),
            'n' => ('\n', 2),
            't' => ('\t', 2),
            '0' => ('\0', 2),
            '{' if chars.get(i + 2) == Some(&'{') => {
                out.push_str("\\{{");
                i += 3;
                continue;
            }
            'x' => {
                let digits: String = chars.get(i + 2..i + 4)?.iter().collect();
                let byte = u8::from_str_radix(&digits, 16).ok()?;
                (char::from(byte), 4)
            }
            _ => return None,
        };
        if !unescaped.is_ascii() || !plain(unescaped) {
            return None;
        }
        // A backslash before `{{` in Text mode would mark literal braces.
        if unescaped == '\\' && chars.get(i + 2) == Some(&'{') && chars.get(i + 3) == Some(&'{') {
            return None;
        }
        out.push(unescaped);
        i += used;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn wire(text: &str, mode: InputMode, encoding: TextEncoding) -> Vec<u8> {
        let spec = SendSpec {
            mode,
            encoding,
            ..SendSpec::default()
        };
        Payload::parse(text, &spec)
            .unwrap()
            .render(&mut VarState::new(0, 1), std::time::SystemTime::UNIX_EPOCH)
            .unwrap()
    }

    #[test]
    fn modbus_hex_switched_to_text_keeps_its_six_bytes() {
        let to_text = convert(
            "01 03 00 00 00 01",
            InputMode::Hex,
            InputMode::Text,
            TextEncoding::UTF_8,
        );
        assert_eq!(to_text.mode, InputMode::Escapes);
        assert_eq!(to_text.text, "\\x01\\x03\\0\\0\\0\\x01");
        assert_eq!(to_text.note, Some(Unconverted::NotText));
        let back = convert(
            &to_text.text,
            to_text.mode,
            InputMode::Hex,
            TextEncoding::UTF_8,
        );
        assert_eq!(back.text, "01 03 00 00 00 01");
        assert_eq!(back.note, None);
    }

    #[test]
    fn text_goes_to_hex_in_the_encoding_and_back() {
        let hex = convert("你好\n", InputMode::Text, InputMode::Hex, TextEncoding::GBK);
        assert_eq!(hex.text, "C4 E3 BA C3 0A");
        let text = convert(
            &hex.text,
            InputMode::Hex,
            InputMode::Text,
            TextEncoding::GBK,
        );
        assert_eq!((text.mode, text.text.as_str()), (InputMode::Text, "你好\n"));
    }

    #[test]
    fn variables_stay_and_say_why() {
        let c = convert(
            "T={{counter}}",
            InputMode::Text,
            InputMode::Hex,
            TextEncoding::UTF_8,
        );
        assert_eq!(c.text, "T={{counter}}");
        assert_eq!(c.note, Some(Unconverted::Variables));
        // And the box stays in Text: as hex the same characters would be other bytes.
        assert_eq!(c.mode, InputMode::Text);
        let from_escapes = convert(
            "\\x41{{counter}}",
            InputMode::Escapes,
            InputMode::Hex,
            TextEncoding::UTF_8,
        );
        assert_eq!(
            (from_escapes.mode, from_escapes.note),
            (InputMode::Escapes, Some(Unconverted::Variables))
        );
        let esc = convert(
            "a\\b{{counter}}\n",
            InputMode::Text,
            InputMode::Escapes,
            TextEncoding::UTF_8,
        );
        assert_eq!(esc.text, "a\\\\b{{counter}}\\n");
        let back = convert(
            &esc.text,
            InputMode::Escapes,
            InputMode::Text,
            TextEncoding::UTF_8,
        );
        assert_eq!(
            (back.mode, back.text.as_str()),
            (InputMode::Text, "a\\b{{counter}}\n")
        );
        // A carriage return is not something the text box shows: it stays an escape.
        let cr = convert(
            "{{counter}}\\r",
            InputMode::Escapes,
            InputMode::Text,
            TextEncoding::UTF_8,
        );
        assert_eq!(
            (cr.mode, cr.note),
            (InputMode::Escapes, Some(Unconverted::NotText))
        );
    }

    #[test]
    fn a_box_not_valid_in_its_mode_keeps_its_characters_and_its_mode() {
        let c = convert(
            "hello",
            InputMode::Hex,
            InputMode::Text,
            TextEncoding::UTF_8,
        );
        assert_eq!((c.mode, c.text.as_str()), (InputMode::Hex, "hello"));
        assert!(matches!(c.note, Some(Unconverted::Invalid(_))));
        let c = convert(
            "\\xZZ",
            InputMode::Escapes,
            InputMode::Hex,
            TextEncoding::UTF_8,
        );
        assert_eq!((c.mode, c.text.as_str()), (InputMode::Escapes, "\\xZZ"));
        assert!(matches!(c.note, Some(Unconverted::Invalid(_))));
    }

    #[test]
    fn literal_braces_survive_every_way() {
        let bytes = b"{{x}}\\{{";
        let text = convert(
            &hex::format(bytes),
            InputMode::Hex,
            InputMode::Text,
            TextEncoding::UTF_8,
        );
        assert_eq!(text.mode, InputMode::Text);
        assert_eq!(
            wire(&text.text, InputMode::Text, TextEncoding::UTF_8),
            bytes
        );
        let esc = convert(
            &text.text,
            InputMode::Text,
            InputMode::Escapes,
            TextEncoding::UTF_8,
        );
        assert_eq!(
            wire(&esc.text, InputMode::Escapes, TextEncoding::UTF_8),
            bytes
        );
    }

    fn encodings() -> impl Strategy<Value = TextEncoding> {
        prop::sample::select(TextEncoding::offered().to_vec())
    }

    fn modes() -> impl Strategy<Value = InputMode> {
        prop::sample::select(vec![InputMode::Text, InputMode::Hex, InputMode::Escapes])
    }

    proptest! {
        /// Any bytes, through any modes in any order, are still the same bytes.
        #[test]
        fn bytes_survive_any_mode_changes(
            bytes in prop::collection::vec(any::<u8>(), 1..64),
            path in prop::collection::vec(modes(), 1..5),
            encoding in encodings(),
        ) {
            let mut mode = InputMode::Hex;
            let mut text = hex::format(&bytes);
            for to in path {
                let c = convert(&text, mode, to, encoding);
                prop_assert!(c.note.is_none() || c.note == Some(Unconverted::NotText), "{c:?}");
                mode = c.mode;
                text = c.text;
                prop_assert_eq!(wire(&text, mode, encoding), bytes.clone());
            }
        }

        /// Typed text, whatever it is, converts without a panic, and to the same bytes when
        /// it converts at all.
        #[test]
        fn any_box_converts_without_panic(
            text in "[a-z{}\\\\ \\r\\n\\x00\\x01你好é]{0,24}",
            from in modes(),
            to in modes(),
            encoding in encodings(),
        ) {
            let c = convert(&text, from, to, encoding);
            let spec = |mode| SendSpec { mode, encoding, ..SendSpec::default() };
            let before = Payload::parse(&text, &spec(from))
                .and_then(|p| p.render(&mut VarState::new(0, 1), std::time::SystemTime::UNIX_EPOCH));
            if let (Ok(before), None) = (before, &c.note) {
                let after = Payload::parse(&c.text, &spec(c.mode))
                    .and_then(|p| p.render(&mut VarState::new(0, 1), std::time::SystemTime::UNIX_EPOCH));
                prop_assert_eq!(after.ok(), Some(before));
            }
        }
    }
}
