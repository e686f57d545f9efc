//! `sockscope decode --protocol NAME HEX | --file CAPTURE`: frames as named fields, printed
//! as a tree (or one JSON object per frame). Exit 0 when every frame decoded to its end with
//! its checksums holding, 1 when one did not, 2 for bad input.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};
use sockscope_core::codec::framing::{Frame, Framer};
use sockscope_core::codec::hex;
use sockscope_core::i18n::{S, tf};
use sockscope_core::protocol::{Decoded, Dir, Field, Piece, Protocol};

use super::{Failure, Io, NOT_MATCHED, OK, bad};

/// `sockscope decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The protocol: a built-in name (`sockscope protocols` lists them) or a spec file (.ron).
    #[arg(long, value_name = "NAME|FILE", value_parser = super::values::parse_protocol)]
    pub protocol: Arc<Protocol>,
    /// The bytes as hex ("7e 02 00 …" or "7e0200…"); several frames in a row are cut as the
    /// protocol cuts a stream. Without HEX or --file, each line of stdin is decoded.
    #[arg(value_name = "HEX", conflicts_with_all = ["file", "text"])]
    pub hex: Vec<String>,
    /// The bytes as text, for protocols that are text (HJ 212, NMEA): escapes such as \r\n
    /// and \x7E are read as the send box's Escapes mode reads them.
    #[arg(long, value_name = "TEXT", conflicts_with = "file")]
    pub text: Option<String>,
    /// A capture (pcap or pcapng, from tcpdump or Wireshark): the TCP streams are cut into
    /// frames as the protocol says, each UDP datagram is one.
    #[arg(long, value_name = "CAPTURE")]
    pub file: Option<PathBuf>,
    /// Which way the frames went, for protocols whose request and reply differ (Modbus);
    /// default: told from the bytes.
    #[arg(long, value_enum)]
    pub dir: Option<DirArg>,
    /// One JSON object per frame: protocol, summary, checks_ok (false for a cut frame, bytes
    /// after it, a wrong flag or escape, a failing checksum), fields [{name, label, value,
    /// shown, offset, len, check?, fields?}], stopped?, hex (and time, src, dst from a capture).
    #[arg(long)]
    pub json: bool,
}

/// A direction on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DirArg {
    /// Client to server.
    Request,
    /// Server to client.
    Response,
}

/// Where a frame came from, when it came from a capture.
struct Origin {
    time: std::time::Duration,
    src: SocketAddr,
    dst: SocketAddr,
}

struct Out<'a, 'b> {
    io: &'a mut Io<'b>,
    protocol: &'a Protocol,
    dir: Dir,
    json: bool,
    frames: usize,
    clean: usize,
    /// Gaps in a captured TCP stream (bytes it does not hold).
    gaps: usize,
}

/// The bytes given on the command line: after --text, or as HEX; `None` when neither.
fn given_bytes(args: &DecodeArgs) -> Result<Option<Vec<u8>>, Failure> {
    if let Some(text) = &args.text {
        let bytes =
            sockscope_core::codec::escape::parse(text, sockscope_core::codec::TextEncoding::UTF_8)
                .map_err(|e| bad(e.to_string()))?;
        return Ok(Some(bytes));
    }
    if args.hex.is_empty() {
        return Ok(None);
    }
    let joined = args.hex.join(" ");
    hex::parse(&joined).map(Some).map_err(|e| {
        // Text given where hex was wanted (an HJ 212 line): say how to give it.
        if joined.starts_with("##") || joined.starts_with('$') {
            bad(tf(S::CliDecodeTextHint, &[&e]))
        } else {
            bad(e.to_string())
        }
    })
}

pub(super) fn decode(args: &DecodeArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    let dir = match args.dir {
        Some(DirArg::Request) => Dir::Request,
        Some(DirArg::Response) => Dir::Response,
        None => Dir::Unknown,
    };
    let mut out = Out {
        io,
        protocol: &args.protocol,
        dir,
        json: args.json,
        frames: 0,
        clean: 0,
        gaps: 0,
    };
    if let Some(path) = &args.file {
        let bytes =
            std::fs::read(path).map_err(|e| bad(tf(S::CliCannotRead, &[&path.display(), &e])))?;
        let payloads = sockscope_core::protocol::pcap::read(&bytes)
            .map_err(|e| bad(format!("{}: {e}", path.display())))?;
        if payloads.is_empty() {
            return Err(Failure(
                NOT_MATCHED,
                tf(S::CliDecodeNoFrames, &[&path.display()]),
            ));
        }
        // One framer per TCP direction, as the window's Receive framing cuts each connection.
        let mut streams: BTreeMap<(SocketAddr, SocketAddr), Framer> = BTreeMap::new();
        for p in payloads {
            let origin = Origin {
                time: p.time,
                src: p.src,
                dst: p.dst,
            };
            if p.tcp {
                let framer = streams
                    .entry((p.src, p.dst))
                    .or_insert_with(|| framer(&args.protocol));
                if p.missing > 0 {
                    out.gap(framer, &origin, p.missing)?;
                }
                for frame in framer.push(&p.bytes) {
                    out.frame(&frame, Some(&origin))?;
                }
            } else {
                // A datagram may hold several frames (GPS boxes send GGA, RMC and GSV in one).
                out.message(&p.bytes, Some(&origin))?;
            }
        }
        for ((src, dst), mut framer) in streams {
            if let Some(frame) = framer.flush() {
                let origin = Origin {
                    time: std::time::Duration::ZERO,
                    src,
                    dst,
                };
                out.frame(&frame, Some(&origin))?;
            }
        }
    } else if let Some(bytes) = given_bytes(args)? {
        out.message(&bytes, None)?;
    } else if !out.io.stdin_is_terminal {
        let stdin = std::mem::replace(&mut out.io.stdin, Box::new(std::io::empty()));
        for (n, line) in std::io::BufReader::new(stdin).lines().enumerate() {
            let line = line.map_err(|e| bad(e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let bytes = hex::parse(&line).map_err(|e| bad(tf(S::CliStdinLine, &[&(n + 1), &e])))?;
            out.message(&bytes, None)?;
        }
    } else {
        return Err(bad(sockscope_core::i18n::t(S::CliDecodeNothing)));
    }
    if out.frames == 0 {
        return Err(bad(sockscope_core::i18n::t(S::CliDecodeNothing)));
    }
    if !out.json {
        let bad_frames = out.frames - out.clean;
        let _ = writeln!(
            out.io.stderr,
            "{}",
            tf(
                if out.frames == 1 {
                    S::CliDecodeTotalOne
                } else {
                    S::CliDecodeTotal
                },
                &[&out.frames, &out.clean, &bad_frames]
            )
        );
    }
    Ok(if out.clean == out.frames && out.gaps == 0 {
        OK
    } else {
        NOT_MATCHED
    })
}

fn framer(protocol: &Protocol) -> Framer {
    Framer::new(protocol.framing().unwrap_or_default())
}

impl Out<'_, '_> {
    /// Bytes of a captured TCP stream the capture does not hold: said, what was before them
    /// is a cut frame, and the stream is cut afresh after them.
    fn gap(&mut self, framer: &mut Framer, origin: &Origin, missing: u64) -> Result<(), Failure> {
        if let Some(frame) = framer.flush() {
            self.frame(&frame, Some(origin))?;
        }
        *framer = self::framer(self.protocol);
        let _ = writeln!(
            self.io.stderr,
            "⚠ {}",
            tf(S::CliPcapGap, &[&origin.src, &origin.dst, &missing])
        );
        self.gaps += 1;
        Ok(())
    }

    /// Bytes given by hand, or a datagram: the frames the protocol cuts from them (all of it
    /// when it cannot cut), bytes that are not a frame said as such.
    fn message(&mut self, bytes: &[u8], origin: Option<&Origin>) -> Result<(), Failure> {
        for piece in self.protocol.decode_message(bytes, self.dir) {
            let end = bytes.len().min(piece.at + piece.decoded.len);
            let frame = bytes.get(piece.at..end).unwrap_or_default();
            self.piece(frame, &piece, origin)?;
        }
        Ok(())
    }

    fn frame(&mut self, frame: &Frame, origin: Option<&Origin>) -> Result<(), Failure> {
        let piece = Piece {
            at: 0,
            junk: false,
            decoded: self.protocol.decode(&frame.bytes, self.dir),
        };
        self.piece(&frame.bytes, &piece, origin)
    }

    fn piece(
        &mut self,
        bytes: &[u8],
        piece: &Piece,
        origin: Option<&Origin>,
    ) -> Result<(), Failure> {
        let decoded = &piece.decoded;
        self.frames += 1;
        if piece.checks_ok() {
            self.clean += 1;
        }
        let text = if self.json {
            let mut value = self.protocol.json_message(std::slice::from_ref(piece));
            if let Some(map) = value.as_object_mut() {
                map.insert("hex".into(), hex::format(bytes).into());
                if let Some(o) = origin {
                    let at = std::time::UNIX_EPOCH + o.time;
                    map.insert("time".into(), super::print::rfc3339(at).into());
                    map.insert("src".into(), o.src.to_string().into());
                    map.insert("dst".into(), o.dst.to_string().into());
                }
            }
            format!("{value}\n")
        } else {
            let mut text = String::new();
            if let Some(o) = origin {
                let at = std::time::UNIX_EPOCH + o.time;
                let _ = writeln!(
                    text,
                    "{} {} → {}  {}",
                    super::print::rfc3339(at),
                    o.src,
                    o.dst,
                    hex::format(bytes)
                );
            }
            text.push_str(&self.protocol.piece_summary(piece));
            text.push('\n');
            if piece.junk {
                let _ = writeln!(text, "  {}", hex::format(bytes));
            } else {
                tree(self.protocol, decoded, &mut text);
            }
            text
        };
        self.io
            .stdout
            .write_all(text.as_bytes())
            .map_err(|_| Failure(super::OUTPUT_CLOSED, String::new()))?;
        Ok(())
    }
}

/// The fields as an indented tree: `label [name] @offset+len: shown`.
fn tree(protocol: &Protocol, decoded: &Decoded, out: &mut String) {
    fn walk(protocol: &Protocol, field: &Field, depth: usize, out: &mut String) {
        let label = protocol.label(field);
        let shown = protocol.shown(field);
        let indent = "  ".repeat(depth);
        let name = if label == *field.name {
            String::new()
        } else {
            format!(" [{}]", field.name)
        };
        let place = format!("@{}+{}", field.range.start, field.range.len());
        if shown.is_empty() {
            let _ = writeln!(out, "{indent}{label}{name} {place}");
        } else {
            let _ = writeln!(out, "{indent}{label}{name} {place}: {shown}");
        }
        for child in &field.children {
            walk(protocol, child, depth + 1, out);
        }
    }
    for field in &decoded.fields {
        walk(protocol, field, 1, out);
    }
    if let Some(stop) = &decoded.stop {
        let _ = writeln!(out, "  ⚠ {stop}");
    }
    if let Some(bad) = &decoded.bad_value {
        let _ = writeln!(
            out,
            "  ⚠ {}",
            tf(S::ProtoInvalid, &[&bad.path, &bad.at, &bad.reason])
        );
    }
}
