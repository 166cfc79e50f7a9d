//! `jitbox stat`: a directory's spaces and tuple counts, rebuilt in memory from its newest
//! snapshot and the log after it, plus its LSN range and files.

use super::{FileInfo, Problem, Verification, verify};
use crate::engine::{Engine, Options};
use crate::error::Result;
use crate::wal::ops;
use crate::wal::record::{self, Tail};
use crate::wal::segment::{self, WAL_EXT};
use crate::wal::snapshot;
use std::path::Path;

/// One space, as the directory holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceStat {
    pub name: String,
    pub tuples: u64,
    /// Bytes of tuple data (MessagePack).
    pub bytes: u64,
    /// Index names, primary first; a functional index is marked "(functional)".
    pub indexes: Vec<String>,
}

/// What `stat` found.
#[derive(Debug, Default)]
pub struct DirStat {
    pub spaces: Vec<SpaceStat>,
    /// The newest snapshot's LSN (0 without one) and the last LSN recovery would reach.
    pub snapshot_lsn: u64,
    pub last_lsn: u64,
    pub files: Vec<FileInfo>,
    pub damage: Vec<Problem>,
    pub notes: Vec<Problem>,
}

/// Reads `dir` as recovery would, without its lock and into memory only. With damage the
/// counts are those up to it, and `damage` says where it is.
pub fn stat(dir: &Path) -> Result<DirStat> {
    let Verification {
        files,
        damage,
        notes,
    } = verify(dir)?;
    let mut engine = Engine::open(Options {
        memory_limit: usize::MAX / 2,
        ..Options::default()
    })?;
    let mut out = DirStat {
        files,
        damage,
        notes,
        ..DirStat::default()
    };
    if let Some((lsn, path)) = snapshot::newest(dir)? {
        snapshot::load(&path, lsn, |op| engine.apply_logged(&op))?;
        out.snapshot_lsn = lsn;
    }
    out.last_lsn = out.snapshot_lsn;
    'files: for (_, path) in segment::list(dir, WAL_EXT)? {
        let bytes = std::fs::read(&path).map_err(|e| segment::io_error("read", &path, e))?;
        let tail = record::read(&bytes, |r| {
            if r.lsn <= out.last_lsn {
                return Ok(());
            }
            ops::decode(&format!("record LSN {}", r.lsn), r.payload, |op| {
                engine.apply_logged(&op)
            })?;
            out.last_lsn = r.lsn;
            Ok(())
        });
        match tail {
            Ok(Tail::Clean) => {}
            Ok(_) | Err(_) => break 'files, // verify reported it; counts stop there
        }
    }
    for space in engine.spaces() {
        let mut indexes: Vec<String> = space.indexes.iter().map(|i| i.name.clone()).collect();
        indexes.extend(
            engine
                .awaiting
                .iter()
                .filter(|a| a.space == space.name)
                .map(|a| format!("{} (functional)", a.name)),
        );
        out.spaces.push(SpaceStat {
            name: space.name.clone(),
            tuples: space.len() as u64,
            bytes: space.bsize() as u64,
            indexes,
        });
    }
    out.spaces.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
