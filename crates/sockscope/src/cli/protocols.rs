//! `sockscope protocols`: the built-in protocols, a user's spec file checked, a built-in's
//! spec printed for editing.

use std::path::PathBuf;

use clap::Args;
use sockscope_core::i18n::{S, t, tf};
use sockscope_core::protocol::{self, Protocol};

use super::{Failure, Io, NOT_MATCHED, OK, bad};

/// `sockscope protocols`.
#[derive(Debug, Args)]
pub struct ProtocolsArgs {
    /// Check a spec file (.ron): it loads, or its mistakes are said with line, column and
    /// field (exit 1).
    #[arg(long, value_name = "FILE", conflicts_with = "export")]
    pub check: Option<PathBuf>,
    /// Print a built-in's spec, to save and edit (`--export jt808 > my808.ron`).
    #[arg(long, value_name = "NAME")]
    pub export: Option<String>,
    /// One JSON object per protocol: name, aliases, title, title_zh, file.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn protocols(args: &ProtocolsArgs, io: &mut Io<'_>) -> Result<i32, Failure> {
    if let Some(path) = &args.check {
        let text = std::fs::read_to_string(path)
            .map_err(|e| bad(tf(S::CliCannotRead, &[&path.display(), &e])))?;
        return match Protocol::load(&text) {
            Ok(p) => {
                let line = tf(
                    S::CliSpecLoads,
                    &[
                        &path.display(),
                        &p.name(),
                        &p.program.nodes.len(),
                        &p.program.layouts.len(),
                    ],
                );
                write(io, &line)?;
                Ok(OK)
            }
            Err(e) => Err(Failure(
                NOT_MATCHED,
                format!("{}: {e} {}", path.display(), t(S::CliSpecFirstError)),
            )),
        };
    }
    if let Some(name) = &args.export {
        let p = super::values::parse_protocol(name).map_err(bad)?;
        io.stdout
            .write_all(p.source.as_bytes())
            .map_err(|_| Failure(super::OUTPUT_CLOSED, String::new()))?;
        return Ok(OK);
    }
    let files = protocol::builtin_sources();
    if !args.json {
        write(io, t(S::CliProtocolsHead))?;
    }
    for (p, (file, _)) in protocol::builtins().iter().zip(files) {
        let line = if args.json {
            serde_json::json!({
                "name": p.name(),
                "aliases": p.spec.aliases,
                "title": p.spec.title,
                "title_zh": p.spec.title_zh,
                "file": file,
            })
            .to_string()
        } else {
            format!(
                "  {:<11} {}  ({})",
                p.name(),
                p.title(),
                p.spec.aliases.join(", ")
            )
        };
        write(io, &line)?;
    }
    Ok(OK)
}

fn write(io: &mut Io<'_>, line: &str) -> Result<(), Failure> {
    writeln!(io.stdout, "{line}").map_err(|_| Failure(super::OUTPUT_CLOSED, String::new()))
}
