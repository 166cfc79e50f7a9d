//! Reading a data directory without opening it: what `jitbox verify`, `cat` and `stat` show.
//! Nothing here takes the directory's lock or writes a byte, so an engine may hold the
//! directory and go on writing meanwhile (a record it is writing reads as a torn tail).

mod json;
mod stat;

pub use json::{json_string, to_json};
pub use stat::{DirStat, SpaceStat, stat};

use crate::error::{Error, Result};
use crate::wal::ops::{self, Op};
use crate::wal::record::{self, Tail};
use crate::wal::segment::{self, WAL_EXT};
use crate::wal::snapshot::{self, SNAP_EXT};
use std::fs;
use std::path::{Path, PathBuf};

/// A problem in one file: where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    /// The byte where it starts, when it is at one place in the file.
    pub offset: Option<u64>,
    pub what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{} at offset {o}: {}", self.path.display(), self.what),
            None => write!(f, "{}: {}", self.path.display(), self.what),
        }
    }
}

/// What a file of the directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Wal,
    Snapshot,
}

/// One WAL or snapshot file, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub path: PathBuf,
    pub kind: FileKind,
    /// The LSN the file's name gives (a WAL file's first record, a snapshot's LSN).
    pub named_lsn: u64,
    /// The LSNs of its first and last readable records (WAL files; None when empty).
    pub lsns: Option<(u64, u64)>,
    /// Records read (a snapshot's: operations).
    pub records: u64,
    pub bytes: u64,
}

/// What `verify` found.
#[derive(Debug, Default)]
pub struct Verification {
    pub files: Vec<FileInfo>,
    /// Damage: data that may have been acknowledged does not read back. Recovery refuses it.
    pub damage: Vec<Problem>,
    /// What is not damage but worth knowing: the newest file's torn tail (a write a crash cut
    /// short, never acknowledged; recovery sets it aside), files set aside earlier.
    pub notes: Vec<Problem>,
}

impl Verification {
    /// No damage.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty()
    }
}

/// One logged operation, as `cat` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// replace, delete, create_space, alter_format, create_index, drop_space, drop_index,
    /// truncate, rename_space, rename_index.
    pub op: &'static str,
    pub space: String,
    /// The tuple (replace) or the primary key (delete), MessagePack.
    pub data: Option<Vec<u8>>,
    /// What a schema operation defines, in words ("" for replace and delete).
    pub detail: String,
}

/// One WAL record with its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: PathBuf,
    pub offset: u64,
    pub lsn: u64,
    pub ops: Vec<Operation>,
}

fn wal_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    if !dir.is_dir() {
        return Err(Error::IllegalParams(format!(
            "'{}' is not a directory",
            dir.display()
        )));
    }
    segment::list(dir, WAL_EXT)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| segment::io_error("read", path, e))
}

/// Reads every WAL and snapshot record of `dir`: checksums, LSNs in order within and between
/// files, every operation parsed, each snapshot whole.
pub fn verify(dir: &Path) -> Result<Verification> {
    let mut v = Verification::default();
    let wals = wal_files(dir)?;
    let snaps = segment::list(dir, SNAP_EXT)?;
    for (lsn, path) in &snaps {
        let bytes = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        match snapshot::load(path, *lsn, |_| Ok(())) {
            Ok(tuples) => v.files.push(FileInfo {
                path: path.clone(),
                kind: FileKind::Snapshot,
                named_lsn: *lsn,
                lsns: None,
                records: tuples,
                bytes,
            }),
            Err(e) => v.damage.push(Problem {
                path: path.clone(),
                offset: None,
                what: e.to_string(),
            }),
        }
    }
    let newest_snapshot = snaps.last().map_or(0, |s| s.0);
    let mut previous: Option<(PathBuf, u64)> = None; // the last record read, and its file
    for (i, (named, path)) in wals.iter().enumerate() {
        let newest = i + 1 == wals.len();
        let info = verify_wal(path, *named, newest, &mut v)?;
        if let Some((first, last)) = info.lsns {
            if first != *named {
                v.damage.push(Problem {
                    path: path.clone(),
                    offset: None,
                    what: format!("its name says LSN {named}, its first record is LSN {first}"),
                });
            }
            match &previous {
                Some((prev_path, prev)) if first != prev + 1 && first > newest_snapshot + 1 => {
                    v.damage.push(Problem {
                        path: path.clone(),
                        offset: None,
                        what: format!(
                            "it starts at LSN {first}, but {} ends at LSN {prev}: records are missing",
                            prev_path.display()
                        ),
                    })
                }
                None if first > newest_snapshot + 1 => v.damage.push(Problem {
                    path: path.clone(),
                    offset: None,
                    what: format!(
                        "it starts at LSN {first}, but the log must go on from LSN {} \
                         (the newest snapshot is LSN {newest_snapshot}): records are missing",
                        newest_snapshot + 1
                    ),
                }),
                _ => {}
            }
            previous = Some((path.clone(), last));
        }
        v.files.push(info);
    }
    for entry in fs::read_dir(dir).map_err(|e| segment::io_error("list", dir, e))? {
        let path = entry.map_err(|e| segment::io_error("list", dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        for (ext, what) in [
            ("torn", "bytes a crash cut short, set aside by recovery"),
            ("damaged", "damaged bytes set aside by a forced recovery"),
            ("skipped", "a file set aside by a forced recovery"),
        ] {
            if name.ends_with(&format!(".{ext}")) {
                v.notes.push(Problem {
                    path: path.clone(),
                    offset: None,
                    what: what.into(),
                });
            }
        }
    }
    Ok(v)
}

fn verify_wal(path: &Path, named: u64, newest: bool, v: &mut Verification) -> Result<FileInfo> {
    let bytes = read_file(path)?;
    let mut info = FileInfo {
        path: path.to_path_buf(),
        kind: FileKind::Wal,
        named_lsn: named,
        lsns: None,
        records: 0,
        bytes: bytes.len() as u64,
    };
    let mut bad_payload = None;
    let tail = record::read(&bytes, |r| {
        let what = format!("record LSN {}", r.lsn);
        if let Err(e) = ops::decode(&what, r.payload, |_| Ok(())) {
            bad_payload = Some((r.offset, e.to_string()));
            return Err(e);
        }
        info.lsns = Some((info.lsns.map_or(r.lsn, |l| l.0), r.lsn));
        info.records += 1;
        Ok(())
    });
    let problem = |offset: u64, what: String| Problem {
        path: path.to_path_buf(),
        offset: Some(offset),
        what,
    };
    match (tail, bad_payload) {
        (_, Some((offset, why))) => v.damage.push(problem(offset, why)),
        (Err(e), None) => return Err(e),
        (Ok(Tail::Clean), None) => {}
        (Ok(Tail::Torn { offset, why }), None) if newest => v.notes.push(problem(
            offset,
            format!("a torn last write ({why}), never acknowledged; recovery sets it aside"),
        )),
        (Ok(Tail::Torn { offset, why }), None) => v.damage.push(problem(
            offset,
            format!("an incomplete record ({why}) in a file that is not the newest"),
        )),
        (Ok(Tail::Damaged { offset, why }), None) => v.damage.push(problem(offset, why)),
    }
    Ok(info)
}

/// Hands every WAL record of `dir` with an LSN of at least `from` to `f`, in LSN order, with
/// its operations (those of `space` only, when given; records left without any are
/// skipped). Stops with an error naming the file and offset at damage; a torn tail ends the
/// newest file quietly.
pub fn records(
    dir: &Path,
    from: u64,
    space: Option<&str>,
    mut f: impl FnMut(&Entry) -> Result<()>,
) -> Result<()> {
    let wals = wal_files(dir)?;
    for (i, (_, path)) in wals.iter().enumerate() {
        let bytes = read_file(path)?;
        let tail = record::read(&bytes, |r| {
            if r.lsn < from {
                return Ok(());
            }
            let mut entry = Entry {
                path: path.clone(),
                offset: r.offset,
                lsn: r.lsn,
                ops: vec![],
            };
            let what = format!("{} at offset {}", path.display(), r.offset);
            ops::decode(&what, r.payload, |op| {
                let op = operation(&op);
                if space.is_none_or(|s| s == op.space) {
                    entry.ops.push(op);
                }
                Ok(())
            })?;
            if entry.ops.is_empty() {
                return Ok(());
            }
            f(&entry)
        })?;
        match tail {
            Tail::Clean => {}
            Tail::Torn { .. } if i + 1 == wals.len() => {}
            Tail::Torn { offset, why } | Tail::Damaged { offset, why } => {
                return Err(Error::WalIo(format!(
                    "{} is damaged at offset {offset}: {why}",
                    path.display()
                )));
            }
        }
    }
    Ok(())
}

/// Hands every operation of the newest snapshot of `dir` (of `space` only, when given) to
/// `f`; returns the snapshot's LSN, or None when there is no snapshot.
pub fn snapshot_operations(
    dir: &Path,
    space: Option<&str>,
    mut f: impl FnMut(&Operation) -> Result<()>,
) -> Result<Option<u64>> {
    wal_files(dir)?;
    let Some((lsn, path)) = snapshot::newest(dir)? else {
        return Ok(None);
    };
    snapshot::load(&path, lsn, |op| {
        let op = operation(&op);
        if space.is_none_or(|s| s == op.space) {
            f(&op)?;
        }
        Ok(())
    })?;
    Ok(Some(lsn))
}

fn operation(op: &Op) -> Operation {
    let fields = |format: &[ops::LoggedField]| {
        format
            .iter()
            .map(|f| {
                let null = if f.nullable { ", nullable" } else { "" };
                format!("{} {:?}{null}", f.name, f.ty).to_lowercase()
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (op, space, data, detail) = match op {
        Op::Replace { space, tuple } => ("replace", *space, Some(tuple.to_vec()), String::new()),
        Op::Delete { space, key } => ("delete", *space, Some(key.to_vec()), String::new()),
        Op::CreateSpace { space, format } => (
            "create_space",
            *space,
            None,
            format!("format ({})", fields(format)),
        ),
        Op::AlterFormat { space, format } => (
            "alter_format",
            *space,
            None,
            format!("format ({})", fields(format)),
        ),
        Op::CreateIndex(ix) => {
            let kind = match (ix.hash, ix.func) {
                (true, _) => "hash".to_string(),
                (false, Some(func)) => format!("functional '{func}'"),
                (false, None) => "tree".to_string(),
            };
            let functional = ix.func.is_some();
            let parts = ix
                .parts
                .iter()
                .map(|p| match functional {
                    true => format!("{:?}", p.1).to_lowercase(), // the key function's types
                    false => format!("{} {:?}", p.0 + 1, p.1).to_lowercase(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            let unique = if ix.unique { "unique" } else { "non-unique" };
            (
                "create_index",
                ix.space,
                None,
                format!("'{}', {kind}, {unique}, parts ({parts})", ix.name),
            )
        }
        Op::DropSpace { space } => ("drop_space", *space, None, String::new()),
        Op::DropIndex { space, index } => ("drop_index", *space, None, format!("'{index}'")),
        Op::Truncate { space } => ("truncate", *space, None, String::new()),
        Op::RenameSpace { space, to } => ("rename_space", *space, None, format!("to '{to}'")),
        Op::RenameIndex { space, index, to } => {
            ("rename_index", *space, None, format!("'{index}' to '{to}'"))
        }
    };
    Operation {
        op,
        space: space.to_string(),
        data,
        detail,
    }
}
