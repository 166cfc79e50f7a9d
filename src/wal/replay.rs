//! Reading the log back on open. Recovery reads; it changes a file only to set aside bytes
//! that provably were never acknowledged, and keeps those bytes in a side file.
//!
//! - An incomplete last record of the newest file is a torn write (a crash cut the write
//!   short, so its commit was never acknowledged): its bytes move to `<file>.<offset>.torn`
//!   and a warning says so.
//! - Anything else that does not check out — a complete record that fails its checksum, an
//!   incomplete record in an older file, records missing between files, two logs mixed — may
//!   be acknowledged data: the open is refused with the file and offset, and nothing on disk
//!   is changed.
//! - With `force` (Tarantool's `force_recovery`), the open goes on with every record before
//!   the damage; the damaged file's bytes from the damage on move to
//!   `<file>.<offset>.damaged` and every later file to `<file>.skipped`, and the warnings
//!   say exactly what was set aside.

use super::record::{self, FILE_MAGIC, Record, Tail};
use super::segment::{self, WAL_EXT, io_error};
use crate::error::{Error, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What replaying the log found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The LSN of the last record in the log (`after` when none follows it).
    pub last_lsn: u64,
    /// Records handed over.
    pub records: u64,
    /// WAL files read (files wholly covered by the snapshot are not).
    pub files: u64,
    /// Bytes moved to side files.
    pub set_aside_bytes: u64,
    /// What was set aside, one line each, to be logged as warnings.
    pub warnings: Vec<String>,
}

/// Where a file stopped being usable.
struct Stop {
    offset: u64,
    why: String,
}

/// Hands every record with an LSN above `after` to `f`, file by file in LSN order (see the
/// module's comment for what happens to a torn tail and to damage).
pub fn replay(
    dir: &Path,
    after: u64,
    force: bool,
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<Replayed> {
    let mut out = Replayed {
        last_lsn: after,
        ..Replayed::default()
    };
    let files = segment::list(dir, WAL_EXT)?;
    // The LSN of the last record seen, handed over or not.
    let mut last: Option<u64> = None;
    for (i, (_, path)) in files.iter().enumerate() {
        // A file followed by one that starts at or before `after + 1` is all in the snapshot.
        if let Some((next, _)) = files.get(i + 1).filter(|(next, _)| *next <= after + 1) {
            last = Some(next - 1);
            continue;
        }
        let newest = i + 1 == files.len();
        let bytes = fs::read(path).map_err(|e| io_error("read the WAL file", path, e))?;
        out.files += 1;
        let mut gap: Option<Stop> = None;
        let tail = record::read(&bytes, |r| {
            let expected = last.map_or(after + 1, |l| l + 1);
            if (last.is_some() || (out.records == 0 && r.lsn > after)) && r.lsn != expected {
                gap = Some(Stop {
                    offset: r.offset,
                    why: missing(expected - 1, r.lsn),
                });
                return Err(Error::WalIo(String::new()));
            }
            last = Some(r.lsn);
            if r.lsn <= after {
                return Ok(());
            }
            out.last_lsn = r.lsn;
            out.records += 1;
            f(r)
        });
        let stop = match (tail, gap) {
            (Err(_), Some(stop)) => stop,
            (Err(e), None) => return Err(e),
            (Ok(Tail::Clean), _) => continue,
            (Ok(Tail::Torn { offset, why }), _) if newest => {
                let side = set_aside(path, &bytes, offset, "torn")?;
                out.set_aside_bytes += bytes.len() as u64 - offset;
                out.warnings.push(format!(
                    "WAL file '{}' ends with an incomplete record at offset {offset} ({why}): a \
                     write cut short, never acknowledged; its {} bytes are kept in '{}'",
                    path.display(),
                    bytes.len() as u64 - offset,
                    side.display()
                ));
                continue;
            }
            (Ok(Tail::Torn { offset, why }), _) => Stop {
                offset,
                why: format!("{why}, in a file that is not the newest"),
            },
            (Ok(Tail::Damaged { offset, why }), _) => Stop { offset, why },
        };
        if !force {
            return Err(Error::WalIo(format!(
                "WAL file '{}' is damaged at offset {}: {}; nothing was changed. Restore the \
                 file from a copy, or open with force_recovery = true to start from the {} \
                 record(s) before the damage (the damaged bytes and every later file are kept \
                 aside, not deleted)",
                path.display(),
                stop.offset,
                stop.why,
                out.records
            )));
        }
        force_past(&mut out, path, &bytes, &stop, &files[i + 1..])?;
        break;
    }
    Ok(out)
}

/// `force_recovery`: sets aside the damaged file's bytes from `stop` on and every later file.
fn force_past(
    out: &mut Replayed,
    path: &Path,
    bytes: &[u8],
    stop: &Stop,
    later: &[(u64, PathBuf)],
) -> Result<()> {
    let side = set_aside(path, bytes, stop.offset, "damaged")?;
    let mut moved = bytes.len() as u64 - stop.offset;
    let mut names = Vec::new();
    for (_, p) in later {
        let n = fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let to = free_name(p, "skipped");
        fs::rename(p, &to).map_err(|e| io_error("set aside", p, e))?;
        moved += n;
        names.push(format!("'{}' ({n} bytes)", to.display()));
    }
    if let Some(dir) = path.parent() {
        segment::sync_dir(dir)?;
    }
    out.set_aside_bytes += moved;
    let later = if names.is_empty() {
        String::new()
    } else {
        format!("; later files set aside: {}", names.join(", "))
    };
    out.warnings.push(format!(
        "force_recovery: WAL file '{}' is damaged at offset {} ({}); recovered {} record(s) up \
         to LSN {}; {} bytes from the damage on are kept in '{}'{later}",
        path.display(),
        stop.offset,
        stop.why,
        out.records,
        out.last_lsn,
        bytes.len() as u64 - stop.offset,
        side.display()
    ));
    Ok(())
}

fn missing(last: u64, next: u64) -> String {
    if next <= last {
        return format!(
            "LSN {next} follows LSN {last}: two logs are mixed in one directory (keep one of them)"
        );
    }
    format!(
        "records {}..{} are missing (the log before ends at LSN {last}, this goes on at {next})",
        last + 1,
        next - 1
    )
}

/// A side-file name next to `path` that is not taken yet: `<file>.<what>`, then `.1`, `.2`…
fn free_name(path: &Path, what: &str) -> PathBuf {
    let base = format!("{}.{what}", path.display());
    let mut p = PathBuf::from(&base);
    let mut n = 0;
    while fs::symlink_metadata(&p).is_ok() {
        n += 1;
        p = PathBuf::from(format!("{base}.{n}"));
    }
    p
}

/// Moves `bytes[offset..]` of the file at `path` into a side file, durably, then cuts the
/// file there. A file with no whole record before `offset` is renamed instead (what stays
/// must still be a WAL file). Returns the side file.
fn set_aside(path: &Path, bytes: &[u8], offset: u64, what: &str) -> Result<PathBuf> {
    let side = free_name(path, &format!("{offset}.{what}"));
    let dir = path.parent().unwrap_or(Path::new("."));
    if offset <= FILE_MAGIC.len() as u64 {
        fs::rename(path, &side).map_err(|e| io_error("set aside", path, e))?;
        segment::sync_dir(dir)?;
        return Ok(side);
    }
    let mut f = segment::new_file()
        .create_new(true)
        .open(&side)
        .map_err(|e| io_error("create", &side, e))?;
    f.write_all(&bytes[offset as usize..])
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error("write", &side, e))?;
    segment::sync_dir(dir)?;
    // Only now, with the bytes safe elsewhere, is the file cut.
    segment::new_file()
        .open(path)
        .and_then(|f| {
            f.set_len(offset)?;
            f.sync_all()
        })
        .map_err(|e| io_error("cut the set-aside bytes of", path, e))?;
    Ok(side)
}
