//! Text for a terminal whose locale is not UTF-8 (`LANG=zh_CN.GB18030`, `zh_CN.GBK`,
//! `zh_TW.BIG5`): human lines and sentences are written in the locale's encoding, a line at a
//! time. Raw bytes (`--pipe`) and JSON (UTF-8 by its standard) are written as they are.

use std::io::Write;

use sockscope_core::codec::TextEncoding;

/// The encoding the locale's environment names (`LC_ALL`, then `LC_CTYPE`, then `LANG`:
/// `zh_CN.GB18030` → GB18030), unless it is UTF-8 or unknown.
pub fn encoding() -> Option<TextEncoding> {
    let value = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|v| !v.is_empty())?;
    let charset = value.split_once('.')?.1;
    let charset = charset.split('@').next().unwrap_or(charset);
    TextEncoding::for_label(charset).filter(|e| *e != TextEncoding::UTF_8)
}

/// Flags whose value is a file: its name is kept byte for byte (a path in the locale's
/// encoding names the file as it is).
const PATH_FLAGS: &[&str] = &[
    "--send-file",
    "--record",
    "--pcap",
    "--ca",
    "--cert",
    "--key",
    "--client-ca",
    "--junit",
    "--csv",
];

/// The command line as UTF-8 text where the locale's encoding says what the bytes are: a
/// GBK terminal (`LC_ALL=zh_CN.GBK`) types `--send '查询'` as GBK bytes, which are no UTF-8,
/// and would be refused ("invalid UTF-8 was detected"). An argument that is UTF-8 already,
/// a file's name (a path flag's value, or a file that exists) and bytes the encoding cannot
/// read are left as they are.
pub fn decode_args(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let Some(encoding) = encoding() else {
        return args;
    };
    let mut out = Vec::with_capacity(args.len());
    let mut after_path_flag = false;
    for arg in args {
        let keep = arg.to_str().is_some() || after_path_flag || std::path::Path::new(&arg).exists();
        after_path_flag = arg.to_str().is_some_and(|a| PATH_FLAGS.contains(&a));
        if keep {
            out.push(arg);
            continue;
        }
        let bytes = os_bytes(&arg);
        match encoding.decode_strict(&bytes) {
            Some(text) => out.push(text.into()),
            None => out.push(arg),
        }
    }
    out
}

/// The bytes of an argument as the OS gave them.
#[cfg(unix)]
fn os_bytes(arg: &std::ffi::OsStr) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt as _;
    arg.as_bytes().to_vec()
}

/// The bytes of an argument: Windows hands arguments over as UTF-16, so none is in a
/// locale's byte encoding.
#[cfg(not(unix))]
fn os_bytes(arg: &std::ffi::OsStr) -> Vec<u8> {
    arg.to_string_lossy().into_owned().into_bytes()
}

/// Writes UTF-8 text to `out` in `encoding`, a whole line at a time (a character never splits
/// between two writes). A character the encoding cannot hold is written as `?`.
pub struct Transcode<'a> {
    out: &'a mut dyn Write,
    encoding: TextEncoding,
    pending: Vec<u8>,
}

impl<'a> Transcode<'a> {
    /// Writes to `out` in `encoding`.
    pub fn new(out: &'a mut dyn Write, encoding: TextEncoding) -> Self {
        Self {
            out,
            encoding,
            pending: Vec::new(),
        }
    }

    fn emit(&mut self, text: &[u8]) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(text);
        let bytes = self.encoding.encode(&text).unwrap_or_else(|_| {
            text.chars()
                .flat_map(|c| {
                    self.encoding
                        .encode(c.encode_utf8(&mut [0u8; 4]))
                        .unwrap_or_else(|_| b"?".to_vec())
                })
                .collect()
        });
        self.out.write_all(&bytes)
    }
}

impl Write for Transcode<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(end) = self.pending.iter().rposition(|&b| b == b'\n') {
            let rest = self.pending.split_off(end + 1);
            let lines = std::mem::replace(&mut self.pending, rest);
            self.emit(&lines)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest)?;
        }
        self.out.flush()
    }
}

impl Drop for Transcode<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_out_in_the_encoding_whatever_the_writes_split() {
        let mut out = Vec::new();
        {
            let mut t = Transcode::new(&mut out, TextEncoding::GBK);
            let text = "温度 ok\n第二行\n".as_bytes();
            // A character split between writes.
            t.write_all(&text[..2]).unwrap();
            t.write_all(&text[2..]).unwrap();
            t.write_all("末尾 🙂".as_bytes()).unwrap();
        }
        assert_eq!(
            TextEncoding::GBK.decode_complete(&out),
            "温度 ok\n第二行\n末尾 ?"
        );
    }
}
