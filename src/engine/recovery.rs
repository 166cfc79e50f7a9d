//! Opening an engine on a directory: load the newest snapshot, replay the WAL after it, then
//! start the writer.
//!
//! Replay applies each record's operations in LSN order, as autocommit statements that are
//! not logged again. A functional index cannot be rebuilt here — its key function lives in
//! the host — so its definition waits in `awaiting` until the host supplies the function
//! (`jb_index_create_func` with the same name and definition, which the Lua module does from
//! `jitbox.open{functions = ...}`); until then writes to its space are refused.

use super::collation::Collation;
use super::index::IndexKind;
use super::key::{FieldType, KeyPart};
use super::path::PartSpec;
use super::space::FormatField;
use super::{Engine, WalMode};
use crate::engine::value::{self, Value};
use crate::error::{Error, Result};
use crate::wal::lock::DirLock;
use crate::wal::ops::{self, LoggedIndex, Op};
use crate::wal::writer::{SyncMode, Writer};
use crate::wal::{replay, segment, snapshot};

/// What opening a directory found and did: `db:stat()` shows it and open logs its `line`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub dir: String,
    /// The snapshot recovery started from (0: none).
    pub snapshot_lsn: u64,
    pub wal_files: u64,
    /// WAL records replayed after the snapshot.
    pub records: u64,
    /// The LSN of the last record recovered.
    pub last_lsn: u64,
    pub tuples: u64,
    pub micros: u64,
    /// Bytes moved to side files (torn tails, and what `force_recovery` skipped).
    pub set_aside_bytes: u64,
    /// What was set aside, one line each (also logged as warnings).
    pub warnings: Vec<String>,
}

impl Summary {
    /// One line for the log.
    pub fn line(&self) -> String {
        let snap = match self.snapshot_lsn {
            0 => "no snapshot".to_string(),
            lsn => format!("snapshot at LSN {lsn}"),
        };
        let aside = match self.set_aside_bytes {
            0 => "nothing set aside".to_string(),
            n => format!("{n} bytes set aside (see the warnings)"),
        };
        format!(
            "recovered '{}': {snap}, {} WAL file(s), {} record(s), up to LSN {}, {} tuple(s) in \
             {:.1} ms; {aside}",
            self.dir,
            self.wal_files,
            self.records,
            self.last_lsn,
            self.tuples,
            self.micros as f64 / 1000.0
        )
    }
}

/// Progress lines for a long recovery: one every `PROGRESS_EVERY` of work, so that a large
/// directory does not look like a hung open.
struct Progress {
    dir: String,
    what: &'static str,
    done: u64,
    last: std::time::Instant,
}

const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

impl Progress {
    fn new(dir: &std::path::Path, what: &'static str) -> Progress {
        Progress {
            dir: dir.display().to_string(),
            what,
            done: 0,
            last: std::time::Instant::now(),
        }
    }

    /// Counts one item (at `lsn`); returns the line to log when it is time for one.
    fn step(&mut self, lsn: u64) -> Option<String> {
        self.done += 1;
        let due = match crate::mem::errinj::recovery_progress_every() {
            Some(n) => self.done.is_multiple_of(n),
            None => self.done.is_multiple_of(4096) && self.last.elapsed() >= PROGRESS_EVERY,
        };
        if !due {
            return None;
        }
        self.last = std::time::Instant::now();
        Some(format!(
            "recovering '{}': {} {}, at LSN {lsn}",
            self.dir, self.done, self.what
        ))
    }
}

/// A recovered functional index waiting for its key function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwaitingIndex {
    pub space: String,
    pub name: String,
    pub types: Vec<FieldType>,
    pub unique: bool,
    pub multikey: bool,
}

impl AwaitingIndex {
    /// The name the host supplies the key function under: `space.index`.
    pub fn func_name(&self) -> String {
        format!("{}.{}", self.space, self.name)
    }
}

/// The name a functional index's key function is logged (and re-supplied) under.
pub fn func_name(space: &str, index: &str) -> String {
    format!("{space}.{index}")
}

impl Engine {
    /// Loads the newest snapshot and replays the WAL in `options.dir` (if any), then starts
    /// the writer.
    pub(super) fn recover(&mut self) -> Result<()> {
        let Some(dir) = self.options.dir.clone() else {
            if self.options.wal_mode != WalMode::None {
                return Err(Error::IllegalParams(
                    "wal_mode 'write' and 'fsync' need a dir to write the log to".into(),
                ));
            }
            return Ok(());
        };
        let started = std::time::Instant::now();
        segment::create_dir(&dir)?;
        // Nothing in the directory is read before it is ours.
        self.dir_lock = Some(DirLock::acquire(&dir, self.options.lock_timeout)?);
        self.replaying = true;
        let from = self.load_snapshot(&dir);
        let after = match from {
            Ok(lsn) => lsn,
            Err(e) => {
                self.replaying = false;
                return Err(e);
            }
        };
        let mut progress = Progress::new(&dir, "WAL record(s) replayed");
        let replayed = replay::replay(&dir, after, self.options.force_recovery, |r| {
            let lsn = r.lsn;
            if let Some(line) = progress.step(lsn) {
                self.log(2, &line);
            }
            ops::decode(&format!("WAL record {lsn}"), r.payload, |op| {
                self.apply(&op).map_err(|e| {
                    Error::WalIo(format!("WAL record {lsn} cannot be replayed ({e}); the log does not match its own history"))
                })
            })
        });
        self.replaying = false;
        let replayed = replayed?;
        self.recovery = Summary {
            dir: dir.display().to_string(),
            snapshot_lsn: after,
            wal_files: replayed.files,
            records: replayed.records,
            last_lsn: replayed.last_lsn,
            tuples: self.tuple_count(),
            micros: started.elapsed().as_micros() as u64,
            set_aside_bytes: replayed.set_aside_bytes,
            warnings: replayed.warnings,
        };
        for w in self.recovery.warnings.clone() {
            self.log(1, &w);
        }
        let line = self.recovery.line();
        self.log(2, &line);
        self.checkpoints.last_lsn = replayed.last_lsn;
        let mode = match self.options.wal_mode {
            WalMode::None => return Ok(()),
            WalMode::Write => SyncMode::Write,
            WalMode::Fsync => SyncMode::Fsync,
        };
        let writer = Writer::start(&dir, mode)?;
        self.wal = Some(super::durable::Wal::new(
            writer,
            self.options.wal_queue_max_size,
            replayed.last_lsn + 1,
        ));
        Ok(())
    }

    /// Loads the newest snapshot in `dir`, if any; returns its LSN (0 without one).
    fn load_snapshot(&mut self, dir: &std::path::Path) -> Result<u64> {
        let Some((lsn, path)) = snapshot::newest(dir)? else {
            return Ok(0);
        };
        let mut progress = Progress::new(dir, "snapshot operation(s) loaded");
        snapshot::load(&path, lsn, |op| {
            if let Some(line) = progress.step(lsn) {
                self.log(2, &line);
            }
            self.apply(&op).map_err(|e| {
                Error::WalIo(format!(
                    "snapshot file '{}' cannot be loaded ({e}); it does not match its own \
                     history",
                    path.display()
                ))
            })
        })?;
        self.checkpoints.stats.lsn = lsn;
        Ok(lsn)
    }

    /// Applies one logged operation to an engine without a log: how `jitbox stat` rebuilds
    /// a directory's contents in memory.
    pub fn apply_logged(&mut self, op: &Op) -> Result<()> {
        debug_assert!(self.wal.is_none(), "only an engine without a log");
        self.apply(op)
    }

    /// Applies one logged operation.
    fn apply(&mut self, op: &Op) -> Result<()> {
        match op {
            Op::Replace { space, tuple } => {
                let id = self.find_space(space)?;
                let vals = decode_array(tuple)?;
                self.space_mut(id)?.replace(&vals).map(drop)
            }
            Op::Delete { space, key } => {
                let id = self.find_space(space)?;
                let vals = decode_array(key)?;
                self.space_mut(id)?.delete(&vals).map(drop)
            }
            Op::CreateSpace { space, format } => {
                let format = format
                    .iter()
                    .map(FormatField::from)
                    .collect();
                self.create_space(space, format).map(drop)
            }
            Op::CreateIndex(ix) if ix.func.is_some() => {
                self.find_space(ix.space)?;
                self.awaiting.push(AwaitingIndex {
                    space: ix.space.to_owned(),
                    name: ix.name.to_owned(),
                    types: ix.parts.iter().map(|p| p.1.into()).collect(),
                    unique: ix.unique,
                    multikey: ix.multikey,
                });
                Ok(())
            }
            Op::CreateIndex(ix) if !ix.paths.is_empty() => {
                let id = self.find_space(ix.space)?;
                let parts: Vec<PartSpec> = ix
                    .parts
                    .iter()
                    .zip(&ix.paths)
                    .map(|(&(fieldno, ty, nullable, collation, exclude_null), &path)| {
                        let part = KeyPart {
                            fieldno,
                            ty: ty.into(),
                            nullable,
                            collation: Collation::from_code(collation as u32).unwrap_or_default(),
                        };
                        PartSpec {
                            part,
                            path,
                            exclude_null,
                        }
                    })
                    .collect();
                self.create_path_index(id, ix.name, &parts, ix.unique).map(drop)
            }
            Op::CreateIndex(ix) => {
                let id = self.find_space(ix.space)?;
                let parts = ix
                    .parts
                    .iter()
                    .map(|&(fieldno, ty, nullable, collation, _)| KeyPart {
                        fieldno,
                        ty: ty.into(),
                        nullable,
                        collation: Collation::from_code(collation as u32).unwrap_or_default(),
                    })
                    .collect();
                let kind = if ix.hash { IndexKind::Hash } else { IndexKind::Tree };
                self.create_index_of(id, ix.name, parts, ix.unique, kind).map(drop)
            }
            Op::DropSpace { space } => {
                let id = self.find_space(space)?;
                self.awaiting.retain(|a| a.space != *space);
                self.drop_space(id).map(drop)
            }
            Op::DropIndex { space, index } => {
                let before = self.awaiting.len();
                self.awaiting
                    .retain(|a| !(a.space == *space && a.name == *index));
                if self.awaiting.len() < before {
                    return Ok(());
                }
                let id = self.find_space(space)?;
                self.drop_index(id, index).map(drop)
            }
            Op::Truncate { space } => {
                let id = self.find_space(space)?;
                self.space_mut(id)?.truncate();
                Ok(())
            }
            Op::AlterFormat { space, format } => {
                let id = self.find_space(space)?;
                let format = format
                    .iter()
                    .map(FormatField::from)
                    .collect();
                self.set_format(id, format)
            }
            Op::RenameSpace { space, to } => {
                let id = self.find_space(space)?;
                self.rename_space(id, to)
            }
            Op::RenameIndex { space, index, to } => {
                if let Some(a) = self
                    .awaiting
                    .iter_mut()
                    .find(|a| a.space == *space && a.name == *index)
                {
                    a.name = (*to).to_owned();
                    return Ok(());
                }
                let id = self.find_space(space)?;
                let sp = self.space(id)?;
                let pos = sp.index_pos(index).ok_or_else(|| {
                    Error::NoSuchIndex(format!("no index named '{index}' in space '{space}'"))
                })?;
                self.rename_index(id, pos, to)
            }
        }
    }

    /// Refuses writes to a space whose recovered functional index has no key function yet.
    pub fn check_space_ready(&self, space: &str) -> Result<()> {
        match self.awaiting.iter().find(|a| a.space == space) {
            None => Ok(()),
            Some(a) => Err(Error::IllegalParams(format!(
                "space '{space}' cannot be written until the key function of its functional \
                 index '{}' is supplied: pass it as '{}' in jitbox.open{{functions = ...}} (or \
                 create the index again with jb_index_create_func)",
                a.name,
                a.func_name()
            ))),
        }
    }

    /// When a functional index being created was recovered and awaits its key function: checks
    /// the definition matches the logged one and returns true (it is logged already).
    pub(super) fn take_awaiting(&mut self, ix: &LoggedIndex) -> Result<bool> {
        let Some(pos) = self
            .awaiting
            .iter()
            .position(|a| a.space == ix.space && a.name == ix.name)
        else {
            return Ok(false);
        };
        let a = &self.awaiting[pos];
        let types: Vec<FieldType> = ix.parts.iter().map(|p| p.1.into()).collect();
        if a.types != types || a.unique != ix.unique || a.multikey != ix.multikey {
            return Err(Error::IllegalParams(format!(
                "functional index '{}' of space '{}' was created with parts ({}), unique = {}, \
                 multikey = {}; supply its key function with the same definition",
                a.name,
                a.space,
                a.types
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                a.unique,
                a.multikey
            )));
        }
        Ok(true)
    }

    /// Forgets an awaiting index once it is built.
    pub(super) fn awaited(&mut self, space: &str, index: &str) {
        self.awaiting
            .retain(|a| !(a.space == space && a.name == index));
    }
}

/// The values of a MessagePack array (a tuple or a key).
fn decode_array(data: &[u8]) -> Result<Vec<Value<'_>>> {
    let mut pos = 0;
    let n = value::decode_array_header(data, &mut pos)?;
    let mut out = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| Error::Memory(format!("cannot allocate {n} values for replay")))?;
    for _ in 0..n {
        out.push(value::decode(data, &mut pos)?);
    }
    Ok(out)
}
