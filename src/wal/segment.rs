//! WAL files in a directory. A file is named by the LSN of its first record
//! (`00000000000000000001.wal`, 20 digits, so names sort like LSNs) and holds the file magic then
//! records. The writer only appends to the newest file and starts a new one on open and after a
//! failed write; recovery (`replay`) reads all of them in LSN order.

use super::record::FILE_MAGIC;
use crate::error::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub const WAL_EXT: &str = "wal";
/// Modes of what jitbox creates, whatever the umask: neither group- nor world-writable.
pub const FILE_MODE: u32 = 0o640;
pub const DIR_MODE: u32 = 0o750;

/// Options to create a new file with `FILE_MODE`.
pub fn new_file() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).mode(FILE_MODE);
    o
}

/// Creates `dir` and its missing parents with `DIR_MODE`.
pub fn create_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| io_error("create the directory", dir, e))
}

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
    let mut f = new_file()
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
