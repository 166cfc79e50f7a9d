//! `jitbox`: looks into a data directory without opening it (no lock taken, nothing
//! written), so it works while an engine runs there.
//!
//!   jitbox verify DIR      every record and snapshot read back; exit 0 clean, 1 damage
//!   jitbox cat DIR         the log's records, as text or JSON lines
//!   jitbox stat DIR        spaces, tuple counts, LSN range and files

use clap::{Parser, Subcommand, ValueEnum};
use jitbox::inspect::{self, Entry, FileKind, Operation};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "jitbox",
    version,
    about = "Look into a jitbox data directory (read only)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Reads every WAL and snapshot record: checksums, LSN continuity, every operation.
    /// Reports damage with file and offset; exit code 0 when there is none, 1 otherwise.
    Verify { dir: PathBuf },
    /// Prints the log's records in LSN order (or the newest snapshot's operations).
    Cat {
        dir: PathBuf,
        /// Only records with this LSN or a later one.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Only operations on this space.
        #[arg(long)]
        space: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The newest snapshot's operations instead of the log's records (a snapshot has
        /// one LSN: --from does not apply).
        #[arg(long, conflicts_with = "from")]
        snapshot: bool,
    },
    /// Spaces with their tuple counts and indexes, the LSN range and the files.
    Stat {
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("jitbox: {e}");
            ExitCode::from(2)
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(cli: Cli) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Verify { dir } => {
            let v = inspect::verify(&dir)?;
            findings(&mut out, &v.files, &v.notes, &v.damage, "")?;
            if v.is_clean() {
                writeln!(out, "ok: {} files, no damage", v.files.len())?;
                Ok(ExitCode::SUCCESS)
            } else {
                writeln!(out, "damaged: {} problems", v.damage.len())?;
                Ok(ExitCode::from(1))
            }
        }
        Command::Cat {
            dir,
            from,
            space,
            format,
            snapshot,
        } => {
            let space = space.as_deref();
            if snapshot {
                let mut lines = vec![];
                let lsn = inspect::snapshot_operations(&dir, space, |op| {
                    lines.push(op_text(op, format)?);
                    Ok(())
                })?;
                let Some(lsn) = lsn else {
                    return Err(format!("no snapshot in '{}'", dir.display()).into());
                };
                for l in lines {
                    match format {
                        Format::Text => writeln!(out, "snapshot {lsn}: {l}")?,
                        Format::Json => writeln!(out, "{{\"snapshot\": {lsn}, {l}}}")?,
                    }
                }
            } else {
                let mut failed = None;
                inspect::records(&dir, from, space, |e| {
                    if let Err(err) = entry(&mut out, e, format) {
                        failed = Some(err.to_string());
                        return Err(jitbox::Error::WalIo("output failed".into()));
                    }
                    Ok(())
                })
                .map_err(|e| failed.take().unwrap_or_else(|| e.to_string()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stat { dir, format } => {
            let s = inspect::stat(&dir)?;
            match format {
                Format::Text => {
                    writeln!(out, "lsn: snapshot {}, last {}", s.snapshot_lsn, s.last_lsn)?;
                    for sp in &s.spaces {
                        writeln!(
                            out,
                            "space {}: {} tuples, {} bytes, indexes {}",
                            sp.name,
                            sp.tuples,
                            sp.bytes,
                            sp.indexes.join(", ")
                        )?;
                    }
                    findings(
                        &mut out,
                        &s.files,
                        &s.notes,
                        &s.damage,
                        " (counts stop before it)",
                    )?;
                }
                Format::Json => writeln!(out, "{}", stat_json(&s))?,
            }
            Ok(if s.damage.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

/// The files, then the notes, then the damage (each `damage: ...<after>`), one per line.
fn findings(
    out: &mut impl Write,
    files: &[inspect::FileInfo],
    notes: &[inspect::Problem],
    damage: &[inspect::Problem],
    after: &str,
) -> Result<()> {
    for f in files {
        writeln!(out, "{}", file_line(f))?;
    }
    for n in notes {
        writeln!(out, "note: {n}")?;
    }
    for d in damage {
        writeln!(out, "damage: {d}{after}")?;
    }
    Ok(())
}

fn file_line(f: &inspect::FileInfo) -> String {
    match (f.kind, f.lsns) {
        (FileKind::Snapshot, _) => format!(
            "{}: snapshot at LSN {}, {} tuples, {} bytes",
            f.path.display(),
            f.named_lsn,
            f.records,
            f.bytes
        ),
        (FileKind::Wal, Some((a, b))) => format!(
            "{}: LSN {a}..{b}, {} records, {} bytes",
            f.path.display(),
            f.records,
            f.bytes
        ),
        (FileKind::Wal, None) => format!("{}: no records, {} bytes", f.path.display(), f.bytes),
    }
}

fn op_text(op: &Operation, format: Format) -> jitbox::Result<String> {
    let data = op.data.as_deref().map(inspect::to_json).transpose()?;
    Ok(match format {
        Format::Text => {
            let args = data.unwrap_or_else(|| op.detail.clone());
            format!("{} {} {args}", op.op, op.space)
        }
        Format::Json => {
            let mut s = format!(
                "\"op\": \"{}\", \"space\": {}",
                op.op,
                inspect::json_string(&op.space)
            );
            match (op.op, data) {
                ("delete", Some(d)) => s.push_str(&format!(", \"key\": {d}")),
                (_, Some(d)) => s.push_str(&format!(", \"tuple\": {d}")),
                (_, None) => s.push_str(&format!(
                    ", \"detail\": {}",
                    inspect::json_string(&op.detail)
                )),
            }
            s
        }
    })
}

fn entry(out: &mut impl Write, e: &Entry, format: Format) -> Result<()> {
    match format {
        Format::Text => {
            for op in &e.ops {
                writeln!(out, "lsn {}: {}", e.lsn, op_text(op, format)?)?;
            }
        }
        Format::Json => {
            let ops: Vec<String> = e
                .ops
                .iter()
                .map(|op| op_text(op, format).map(|t| format!("{{{t}}}")))
                .collect::<jitbox::Result<_>>()?;
            writeln!(
                out,
                "{{\"lsn\": {}, \"file\": {}, \"offset\": {}, \"ops\": [{}]}}",
                e.lsn,
                inspect::json_string(&e.path.display().to_string()),
                e.offset,
                ops.join(", ")
            )?;
        }
    }
    Ok(())
}

fn stat_json(s: &inspect::DirStat) -> String {
    let spaces: Vec<String> = s
        .spaces
        .iter()
        .map(|sp| {
            let idx: Vec<String> = sp.indexes.iter().map(|i| inspect::json_string(i)).collect();
            format!(
                "{{\"name\": {}, \"tuples\": {}, \"bytes\": {}, \"indexes\": [{}]}}",
                inspect::json_string(&sp.name),
                sp.tuples,
                sp.bytes,
                idx.join(", ")
            )
        })
        .collect();
    let files: Vec<String> = s
        .files
        .iter()
        .map(|f| {
            let (first, last) = f.lsns.map_or(("null".into(), "null".into()), |(a, b)| {
                (a.to_string(), b.to_string())
            });
            format!(
                "{{\"path\": {}, \"kind\": \"{}\", \"lsn\": {}, \"first\": {first}, \"last\": {last}, \"records\": {}, \"bytes\": {}}}",
                inspect::json_string(&f.path.display().to_string()),
                if f.kind == FileKind::Wal { "wal" } else { "snapshot" },
                f.named_lsn,
                f.records,
                f.bytes
            )
        })
        .collect();
    let problems = |ps: &[inspect::Problem]| -> String {
        ps.iter()
            .map(|p| inspect::json_string(&p.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{{\"snapshot_lsn\": {}, \"last_lsn\": {}, \"spaces\": [{}], \"files\": [{}], \"damage\": [{}], \"notes\": [{}]}}",
        s.snapshot_lsn,
        s.last_lsn,
        spaces.join(", "),
        files.join(", "),
        problems(&s.damage),
        problems(&s.notes)
    )
}
