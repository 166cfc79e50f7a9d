//! Snapshot files: every space's definition and committed tuples as of one LSN, so that
//! recovery starts there and replays only the WAL after it.
//!
//! A snapshot is named `<LSN:020>.snap` and framed like a WAL file (`record`) after its own
//! magic, its records numbered from 1: a head record (`HEAD` and the LSN), then records of
//! operations (`ops`: each space's `CreateSpace` and `CreateIndex`, then a `Replace` per tuple in
//! primary-key order), then an end record (`END\0` and the tuple count). It is written as
//! `.snap.tmp`, synced, renamed and the directory synced: a snapshot file is whole or absent, so
//! a missing end record or a torn tail is damage, never cut off like a WAL tail.
//!
//! Writing runs on a background thread and reads tuple bytes only: the engine thread pins
//! the tuples (a reference each) and hands over their addresses and lengths.

use super::ops::{self, Op};
use super::record::{self, SNAPSHOT_FILE, SNAPSHOT_MAGIC, Tail};
use super::segment::{self, WAL_EXT, io_error};
use crate::error::{Error, Result};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const SNAP_EXT: &str = "snap";
const TMP_EXT: &str = "snap.tmp";
const HEAD: &[u8; 4] = b"HEAD";
const END: &[u8; 4] = b"END\0";
/// Tuples are written in records of about this many bytes.
pub const CHUNK: usize = 64 << 10;
/// What a `Replace` adds around a tuple besides the space name.
pub const REPLACE_OVERHEAD: usize = 7;

/// A tuple's bytes, pinned by the engine thread for as long as the snapshot runs.
#[derive(Clone, Copy, Debug)]
pub struct Pinned {
    pub addr: usize,
    pub len: u32,
}

/// One space of a snapshot: its definition (encoded operations) and its tuples.
pub struct SpaceImage {
    pub name: String,
    pub schema: Vec<u8>,
    pub tuples: Vec<Pinned>,
}

/// What a snapshot writes: the state as of `lsn`. `buf` has room for a chunk of tuples and
/// one largest tuple, reserved (and charged) by the engine, so writing allocates nothing.
pub struct Image {
    pub lsn: u64,
    pub spaces: Vec<SpaceImage>,
    pub buf: Vec<u8>,
}

// SAFETY: an image holds plain addresses of tuple bytes that the engine thread pinned and
// never changes or frees until the thread writing the image is joined; nothing else in it is
// shared.
unsafe impl Send for Image {}

/// Error injection for a running snapshot, set by the engine thread.
#[derive(Default)]
pub struct Control {
    /// `SNAPSHOT_DELAY`: hold before the file is renamed into place.
    pub delay: AtomicBool,
    /// `SNAPSHOT_IO`: the writes fail.
    pub fail: AtomicBool,
}

/// Writes `image` into `dir` (temporary file, sync, rename, directory sync), then removes
/// what it covers: older snapshots and WAL files that hold no record after its LSN (the
/// writer started a new file at `lsn + 1`). Returns the path written.
pub fn write(dir: &Path, image: &mut Image, ctl: &Control) -> Result<PathBuf> {
    remove_temporaries(dir);
    let path = dir.join(segment::file_name(image.lsn, SNAP_EXT));
    let tmp = dir.join(segment::file_name(image.lsn, TMP_EXT));
    let r = write_tmp(&tmp, image, ctl);
    while r.is_ok() && ctl.delay.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let r = r
        .and_then(|_| fs::rename(&tmp, &path).map_err(|e| io_error("rename into place", &tmp, e)))
        .and_then(|_| segment::sync_dir(dir));
    if let Err(e) = r {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    remove_covered(dir, image.lsn);
    Ok(path)
}

fn write_tmp(tmp: &Path, image: &mut Image, ctl: &Control) -> Result<()> {
    let mut f = segment::new_file()
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(|e| io_error("create the snapshot file", tmp, e))?;
    let mut out = Out {
        f: &mut f,
        path: tmp,
        n: 0,
        ctl,
    };
    out.raw(SNAPSHOT_MAGIC)?;
    let mut head = [0u8; 12];
    head[..4].copy_from_slice(HEAD);
    head[4..].copy_from_slice(&image.lsn.to_le_bytes());
    out.record(&head)?;
    let buf = &mut image.buf;
    let mut count = 0u64;
    for sp in &image.spaces {
        out.record(&sp.schema)?;
        buf.clear();
        for t in &sp.tuples {
            let len = REPLACE_OVERHEAD + sp.name.len() + t.len as usize;
            if !buf.is_empty() && buf.len() + len > CHUNK {
                out.record(buf)?;
                buf.clear();
            }
            // SAFETY: the engine thread pinned this tuple and keeps it until this thread is
            // joined; tuple bytes never change after creation; addr/len were read there.
            let data = unsafe { std::slice::from_raw_parts(t.addr as *const u8, t.len as usize) };
            ops::put_replace(&sp.name, data, buf);
            count += 1;
        }
        if !buf.is_empty() {
            out.record(buf)?;
        }
    }
    let mut end = [0u8; 12];
    end[..4].copy_from_slice(END);
    end[4..].copy_from_slice(&count.to_le_bytes());
    out.record(&end)?;
    f.sync_all()
        .map_err(|e| io_error("sync the snapshot file", tmp, e))
}

struct Out<'a> {
    f: &'a mut File,
    path: &'a Path,
    n: u64,
    ctl: &'a Control,
}

impl Out<'_> {
    fn raw(&mut self, b: &[u8]) -> Result<()> {
        if self.ctl.fail.load(Ordering::Relaxed) {
            return Err(Error::WalIo(format!(
                "cannot write the snapshot file '{}' (injected by SNAPSHOT_IO)",
                self.path.display()
            )));
        }
        self.f
            .write_all(b)
            .map_err(|e| io_error("write the snapshot file", self.path, e))
    }

    fn record(&mut self, payload: &[u8]) -> Result<()> {
        self.n += 1;
        let h = record::header(self.n, payload)?;
        self.raw(&h)?;
        self.raw(payload)
    }
}

/// The newest snapshot in `dir`, if any: its LSN and path.
pub fn newest(dir: &Path) -> Result<Option<(u64, PathBuf)>> {
    Ok(segment::list(dir, SNAP_EXT)?.pop())
}

/// Hands every operation of the snapshot at `path` (named for `lsn`) to `f`, in order.
/// Returns how many tuples it held. Damage, a head that does not match the name, and a
/// missing end record are errors naming the file.
pub fn load(path: &Path, lsn: u64, mut f: impl FnMut(Op) -> Result<()>) -> Result<u64> {
    let name = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| io_error("read the snapshot file", path, e))?;
    let bad = |offset: u64, what: &str| {
        Error::WalIo(format!(
            "snapshot file {name} is damaged at offset {offset}: {what}; restore it from a copy, \
             or move it away to recover from the WAL alone (if it still holds every record)"
        ))
    };
    let mut tuples = 0u64;
    let mut end: Option<(u64, u64)> = None;
    let tail = record::read_kind(&SNAPSHOT_FILE, &bytes, |r| {
        if end.is_some() {
            return Err(bad(r.offset, "records follow the end record"));
        }
        let p = r.payload;
        if r.lsn == 1 {
            let ok = p.len() == 12 && &p[..4] == HEAD && p[4..] == lsn.to_le_bytes();
            return if ok {
                Ok(())
            } else {
                Err(bad(r.offset, &format!("its head does not say LSN {lsn}")))
            };
        }
        if p.len() == 12 && &p[..4] == END {
            end = Some((r.offset, u64::from_le_bytes(p[4..].try_into().expect("8"))));
            return Ok(());
        }
        ops::decode(
            &format!("snapshot file {name} at offset {}", r.offset),
            p,
            |op| {
                tuples += matches!(op, Op::Replace { .. }) as u64;
                f(op)
            },
        )
    })?;
    match tail {
        Tail::Clean => {}
        Tail::Torn { offset, why } => return Err(bad(offset, &format!("it is truncated ({why})"))),
        Tail::Damaged { offset, why } => return Err(bad(offset, &why)),
    }
    match end {
        None => Err(bad(bytes.len() as u64, "it is truncated (no end record)")),
        Some((offset, n)) if n != tuples => Err(bad(
            offset,
            &format!("its end record counts {n} tuples, the file holds {tuples}"),
        )),
        Some(_) => Ok(tuples),
    }
}

/// Removes temporary files of snapshots that never finished.
fn remove_temporaries(dir: &Path) {
    if let Ok(files) = segment::list(dir, TMP_EXT) {
        for (_, p) in files {
            let _ = fs::remove_file(p);
        }
    }
}

/// Removes snapshots older than `lsn` and WAL files that start at or before it (the writer
/// rotated at `lsn + 1`, so they hold nothing newer). Best effort: what stays is skipped by
/// recovery.
fn remove_covered(dir: &Path, lsn: u64) {
    let old = |ext, keep: fn(u64, u64) -> bool| {
        segment::list(dir, ext)
            .unwrap_or_default()
            .into_iter()
            .filter(move |&(l, _)| !keep(l, lsn))
    };
    for (_, p) in old(SNAP_EXT, |l, lsn| l >= lsn).chain(old(WAL_EXT, |l, lsn| l > lsn)) {
        let _ = fs::remove_file(p);
    }
    let _ = segment::sync_dir(dir);
}
