//! WAL files in a directory. A file is named by the LSN of its first record
//! (`00000000000000000001.wal`, 20 digits, so names sort like LSNs) and holds the file magic then
//! records. The writer only appends to the newest file and starts a new one on open and after a
//! failed write; recovery reads all of them in LSN order.

use super::record::{self, FILE_MAGIC, Record, Tail};
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const WAL_EXT: &str = "wal";

/// The name of the file whose first record has LSN `first`.
pub fn file_name(first: u64, ext: &str) -> String {
    format!("{first:020}.{ext}")
}

/// An I/O error on `path`, as the error WAL and snapshot failures are reported with.
pub fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::WalIo(format!("cannot {what} '{}': {e}", path.display()))
}

/// Files in `dir` named `<LSN>.<ext>`, oldest first. Other files are left alone.
pub fn list(dir: &Path, ext: &str) -> Result<Vec<(u64, PathBuf)>> {
    let entries = fs::read_dir(dir).map_err(|e| io_error("list the directory", dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("list the directory", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(stem) = name.strip_suffix(ext).and_then(|s| s.strip_suffix('.')) else {
            continue;
        };
        if stem.len() == 20
            && stem.bytes().all(|b| b.is_ascii_digit())
            && let Ok(lsn) = stem.parse::<u64>()
        {
            out.push((lsn, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Makes the directory's entries (a created, renamed or removed file) durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("sync the directory", dir, e))
}

/// Creates the WAL file for records from `first` on, with its magic, durable with its name.
/// An existing file of that name with records in it is an error: logs are never overwritten
/// (one with no record, left by a first write that failed, is reused).
pub fn create(dir: &Path, first: u64) -> Result<(File, PathBuf)> {
    let path = dir.join(file_name(first, WAL_EXT));
    let empty = fs::metadata(&path).is_ok_and(|m| m.len() <= FILE_MAGIC.len() as u64);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(!empty)
        .truncate(empty)
        .open(&path)
        .map_err(|e| io_error("create the WAL file", &path, e))?;
    f.write_all(FILE_MAGIC)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_error("write the WAL file", &path, e))?;
    sync_dir(dir)?;
    Ok((f, path))
}

/// What replaying the log found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The LSN of the last record in the log (0 for an empty log).
    pub last_lsn: u64,
    /// Records handed over.
    pub records: u64,
    /// Torn tails cut off, one line each, to be logged as warnings.
    pub warnings: Vec<String>,
}

/// Hands every record with an LSN above `after` to `f`, file by file in LSN order. A torn
/// tail is cut off the file (it was never acknowledged) and reported in `warnings`; damage
/// anywhere else, and records missing between files, are errors naming the file.
pub fn replay(dir: &Path, after: u64, mut f: impl FnMut(Record) -> Result<()>) -> Result<Replayed> {
    let mut out = Replayed {
        last_lsn: after,
        ..Replayed::default()
    };
    let files = list(dir, WAL_EXT)?;
    // The LSN of the last record seen, handed over or not.
    let mut last: Option<u64> = None;
    for (i, (_, path)) in files.iter().enumerate() {
        // A file followed by one that starts at or before `after + 1` is all in the snapshot.
        if let Some((next, _)) = files.get(i + 1).filter(|(next, _)| *next <= after + 1) {
            last = Some(next - 1);
            continue;
        }
        let name = path.display().to_string();
        let bytes = fs::read(path).map_err(|e| io_error("read the WAL file", path, e))?;
        let tail = record::read(&name, &bytes, |r| {
            if let Some(l) = last.filter(|&l| r.lsn != l + 1) {
                return Err(missing(&name, l, r.lsn));
            }
            last = Some(r.lsn);
            if r.lsn <= after {
                return Ok(());
            }
            if out.records == 0 && r.lsn != after + 1 {
                return Err(missing(&name, after, r.lsn));
            }
            out.last_lsn = r.lsn;
            out.records += 1;
            f(r)
        })?;
        if let Tail::Torn { offset, why } = tail {
            cut(path, offset)?;
            out.warnings.push(format!(
                "WAL file '{name}': cut a torn record at offset {offset} ({why}); \
                 it was never acknowledged"
            ));
        }
    }
    Ok(out)
}

fn missing(name: &str, last: u64, next: u64) -> Error {
    if next <= last {
        return Error::WalIo(format!(
            "WAL file '{name}' goes back to LSN {next} after {last}: two logs are mixed in one \
             directory; keep one of them"
        ));
    }
    Error::WalIo(format!(
        "WAL records {}..{} are missing before file '{name}' (the log ends at {last} and \
         goes on at {next}); restore the missing file or remove the later ones",
        last + 1,
        next - 1
    ))
}

/// Cuts `path` at `offset`, durably.
fn cut(path: &Path, offset: u64) -> Result<()> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| {
            f.set_len(offset)?;
            f.sync_all()
        })
        .map_err(|e| io_error("cut the torn tail of", path, e))
}
