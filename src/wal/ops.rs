//! What a WAL record (and a snapshot) says: a list of operations, replayed in order.
//!
//! A record's payload is its operations back to back, each a one-byte tag and its fields.
//! Names are a u16 length and bytes, tuples and keys a u32 length and MessagePack bytes,
//! field types the tags below; all integers little-endian. Every tag is this file's own and
//! fixed forever: files written once are read by every later version (`tests/data/`), so
//! nothing here may follow numbers defined elsewhere (the C ABI's enums). Spaces are named by
//! name, which replay resolves in the order the operations come.

use crate::error::{Error, Result};

const REPLACE: u8 = 1;
const DELETE: u8 = 2;
const CREATE_SPACE: u8 = 3;
const CREATE_INDEX: u8 = 4;
const DROP_SPACE: u8 = 5;
const DROP_INDEX: u8 = 6;
const TRUNCATE: u8 = 7;
const RENAME_SPACE: u8 = 8;
const RENAME_INDEX: u8 = 9;
const ALTER_FORMAT: u8 = 10;
/// Set in an index part's type tag: the part is nullable. (Bits 0x30: its collation.)
const NULLABLE: u8 = 0x80;
const EXCLUDE_NULL: u8 = 0x40;

/// A field type as the log names it. The engine maps its own types to these (the log's tags
/// are the WAL's, so a change to the engine's types cannot change what old files mean).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedType {
    Boolean,
    Unsigned,
    Integer,
    Number,
    String,
    Any,
    Scalar,
    Array,
    Map,
    Double,
    Varbinary,
}

/// A field of a space's format, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedField<'a> {
    pub name: &'a str,
    pub ty: LoggedType,
    pub nullable: bool,
}

/// An index's definition, as logged. A functional index has `func` (the name its key
/// function is supplied under on open) and types only (`fieldno` 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIndex<'a> {
    pub space: &'a str,
    pub name: &'a str,
    pub unique: bool,
    /// A HASH index (flag 16 on disk).
    pub hash: bool,
    pub func: Option<&'a str>,
    pub multikey: bool,
    /// (fieldno, type, nullable, collation: 0 none, 1 unicode, 2 unicode_ci, exclude_null).
    /// On disk a part's type tag has 0x80 set when it is nullable, 0x40 when nil excludes the
    /// tuple, its collation in bits 0x30.
    pub parts: Vec<(u32, LoggedType, bool, u8, bool)>,
    /// A JSON-path index: each part's path inside its field ("" for none); empty otherwise.
    /// On disk flag 8, then the paths after the parts.
    pub paths: Vec<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op<'a> {
    /// Insert or replace the tuple (MessagePack array) by its primary key.
    Replace {
        space: &'a str,
        tuple: &'a [u8],
    },
    /// Delete by primary key (a MessagePack array).
    Delete {
        space: &'a str,
        key: &'a [u8],
    },
    CreateSpace {
        space: &'a str,
        format: Vec<LoggedField<'a>>,
    },
    /// The space's format, changed (its data was checked against it).
    AlterFormat {
        space: &'a str,
        format: Vec<LoggedField<'a>>,
    },
    CreateIndex(LoggedIndex<'a>),
    DropSpace {
        space: &'a str,
    },
    DropIndex {
        space: &'a str,
        index: &'a str,
    },
    /// Remove every tuple of the space.
    Truncate {
        space: &'a str,
    },
    RenameSpace {
        space: &'a str,
        to: &'a str,
    },
    RenameIndex {
        space: &'a str,
        index: &'a str,
        to: &'a str,
    },
}

/// A field type's tag on disk.
fn type_code(t: LoggedType) -> u8 {
    match t {
        LoggedType::Boolean => 1,
        LoggedType::Unsigned => 2,
        LoggedType::Integer => 3,
        LoggedType::Number => 4,
        LoggedType::String => 5,
        LoggedType::Any => 6,
        LoggedType::Scalar => 7,
        LoggedType::Array => 8,
        LoggedType::Map => 9,
        LoggedType::Double => 10,
        LoggedType::Varbinary => 11,
    }
}

/// The field type a tag on disk names.
fn type_of(tag: u8) -> Option<LoggedType> {
    Some(match tag {
        1 => LoggedType::Boolean,
        2 => LoggedType::Unsigned,
        3 => LoggedType::Integer,
        4 => LoggedType::Number,
        5 => LoggedType::String,
        6 => LoggedType::Any,
        7 => LoggedType::Scalar,
        8 => LoggedType::Array,
        9 => LoggedType::Map,
        10 => LoggedType::Double,
        11 => LoggedType::Varbinary,
        _ => return None,
    })
}

/// Appends `op` to `out`, all or nothing.
pub fn encode(op: &Op, out: &mut Vec<u8>) -> Result<()> {
    // Room for the whole operation is reserved first: a failure appends nothing.
    let w = out;
    let grow = |w: &mut Vec<u8>, n: usize| {
        w.try_reserve(n)
            .map_err(|_| Error::Memory(format!("cannot allocate {n} bytes for a WAL record")))
    };
    let name = |w: &mut Vec<u8>, s: &str| {
        w.extend_from_slice(&(s.len() as u16).to_le_bytes());
        w.extend_from_slice(s.as_bytes());
    };
    let blob = |w: &mut Vec<u8>, b: &[u8]| {
        w.extend_from_slice(&(b.len() as u32).to_le_bytes());
        w.extend_from_slice(b);
    };
    match op {
        Op::Replace { space, tuple } | Op::Delete { space, key: tuple } => {
            grow(w, 7 + space.len() + tuple.len())?;
            w.push(if matches!(op, Op::Replace { .. }) {
                REPLACE
            } else {
                DELETE
            });
            name(w, space);
            blob(w, tuple);
        }
        Op::CreateSpace { space, format } | Op::AlterFormat { space, format } => {
            let n = 5 + space.len() + format.iter().map(|f| 4 + f.name.len()).sum::<usize>();
            grow(w, n)?;
            w.push(if matches!(op, Op::CreateSpace { .. }) {
                CREATE_SPACE
            } else {
                ALTER_FORMAT
            });
            name(w, space);
            w.extend_from_slice(&(format.len() as u16).to_le_bytes());
            for f in format {
                name(w, f.name);
                w.push(type_code(f.ty));
                w.push(f.nullable as u8);
            }
        }
        Op::CreateIndex(ix) => {
            let func = ix.func.unwrap_or("");
            let n = 12 + ix.space.len() + ix.name.len() + func.len() + 5 * ix.parts.len()
                + ix.paths.iter().map(|p| 2 + p.len()).sum::<usize>();
            grow(w, n)?;
            w.push(CREATE_INDEX);
            name(w, ix.space);
            name(w, ix.name);
            w.push(
                ix.unique as u8
                    | (ix.func.is_some() as u8) << 1
                    | (ix.multikey as u8) << 2
                    | (!ix.paths.is_empty() as u8) << 3
                    | (ix.hash as u8) << 4,
            );
            name(w, func);
            w.extend_from_slice(&(ix.parts.len() as u16).to_le_bytes());
            for &(fieldno, ty, nullable, collation, exclude) in &ix.parts {
                w.extend_from_slice(&fieldno.to_le_bytes());
                w.push(
                    type_code(ty)
                        | if nullable { NULLABLE } else { 0 }
                        | if exclude { EXCLUDE_NULL } else { 0 }
                        | (collation & 3) << 4,
                );
            }
            for p in &ix.paths {
                name(w, p);
            }
        }
        Op::DropSpace { space } => {
            grow(w, 3 + space.len())?;
            w.push(DROP_SPACE);
            name(w, space);
        }
        Op::DropIndex { space, index } => {
            grow(w, 5 + space.len() + index.len())?;
            w.push(DROP_INDEX);
            name(w, space);
            name(w, index);
        }
        Op::Truncate { space } => {
            grow(w, 3 + space.len())?;
            w.push(TRUNCATE);
            name(w, space);
        }
        Op::RenameSpace { space, to } => {
            grow(w, 5 + space.len() + to.len())?;
            w.push(RENAME_SPACE);
            name(w, space);
            name(w, to);
        }
        Op::RenameIndex { space, index, to } => {
            grow(w, 7 + space.len() + index.len() + to.len())?;
            w.push(RENAME_INDEX);
            name(w, space);
            name(w, index);
            name(w, to);
        }
    }
    Ok(())
}

/// Appends a `Replace` of `tuple` in `space` to `out`; allocates nothing when `out` has room
/// for `space.len() + tuple.len() + 7` more bytes (the snapshot writer reserves it).
pub fn put_replace(space: &str, tuple: &[u8], out: &mut Vec<u8>) {
    out.push(REPLACE);
    out.extend_from_slice(&(space.len() as u16).to_le_bytes());
    out.extend_from_slice(space.as_bytes());
    out.extend_from_slice(&(tuple.len() as u32).to_le_bytes());
    out.extend_from_slice(tuple);
}

/// Reads the operations of one payload in order. `what` names the record for errors
/// (file and offset): a payload that does not parse is damage, never skipped.
pub fn decode<'a>(
    what: &str,
    payload: &'a [u8],
    mut f: impl FnMut(Op<'a>) -> Result<()>,
) -> Result<()> {
    let mut r = Reader { b: payload, pos: 0 };
    while r.pos < payload.len() {
        let at = r.pos;
        let op = r.op().ok_or_else(|| {
            Error::WalIo(format!(
                "{what}: operation at payload byte {at} does not parse; the file is damaged"
            ))
        })?;
        f(op)?;
    }
    Ok(())
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("four bytes")))
    }
    fn name(&mut self) -> Option<&'a str> {
        let n = self.u16()? as usize;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
    fn blob(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.bytes(n)
    }
    fn ty(&mut self) -> Option<LoggedType> {
        type_of(self.u8()?)
    }
    fn op(&mut self) -> Option<Op<'a>> {
        let kind = self.u8()?;
        Some(match kind {
            REPLACE => Op::Replace {
                space: self.name()?,
                tuple: self.blob()?,
            },
            DELETE => Op::Delete {
                space: self.name()?,
                key: self.blob()?,
            },
            CREATE_SPACE | ALTER_FORMAT => {
                let space = self.name()?;
                let n = self.u16()?;
                let mut format = Vec::new();
                for _ in 0..n {
                    let name = self.name()?;
                    let ty = self.ty()?;
                    let nullable = self.u8()? != 0;
                    format.push(LoggedField { name, ty, nullable });
                }
                if kind == CREATE_SPACE {
                    Op::CreateSpace { space, format }
                } else {
                    Op::AlterFormat { space, format }
                }
            }
            CREATE_INDEX => {
                let space = self.name()?;
                let name = self.name()?;
                let flags = self.u8()?;
                let func = self.name()?;
                let n = self.u16()?;
                let mut parts = Vec::new();
                for _ in 0..n {
                    let fieldno = self.u32()?;
                    let tag = self.u8()?;
                    let collation = (tag >> 4) & 3;
                    if collation == 3 {
                        return None;
                    }
                    parts.push((
                        fieldno,
                        type_of(tag & 0x0f)?,
                        tag & NULLABLE != 0,
                        collation,
                        tag & EXCLUDE_NULL != 0,
                    ));
                }
                let mut paths = Vec::new();
                if flags & 8 != 0 {
                    for _ in 0..n {
                        paths.push(self.name()?);
                    }
                }
                Op::CreateIndex(LoggedIndex {
                    space,
                    name,
                    unique: flags & 1 != 0,
                    hash: flags & 16 != 0,
                    func: (flags & 2 != 0).then_some(func),
                    multikey: flags & 4 != 0,
                    parts,
                    paths,
                })
            }
            DROP_SPACE => Op::DropSpace {
                space: self.name()?,
            },
            DROP_INDEX => Op::DropIndex {
                space: self.name()?,
                index: self.name()?,
            },
            TRUNCATE => Op::Truncate {
                space: self.name()?,
            },
            RENAME_SPACE => Op::RenameSpace {
                space: self.name()?,
                to: self.name()?,
            },
            RENAME_INDEX => Op::RenameIndex {
                space: self.name()?,
                index: self.name()?,
                to: self.name()?,
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_changes_read_back_as_written() {
        let ops = [
            Op::Truncate { space: "users" },
            Op::RenameSpace {
                space: "users",
                to: "people",
            },
            Op::RenameIndex {
                space: "people",
                index: "email",
                to: "mail",
            },
            Op::AlterFormat {
                space: "people",
                format: vec![LoggedField {
                    name: "id",
                    ty: LoggedType::Double,
                    nullable: true,
                }],
            },
        ];
        let mut payload = Vec::new();
        for op in &ops {
            encode(op, &mut payload).unwrap();
        }
        let mut back = Vec::new();
        decode("test", &payload, |op| {
            back.push(op);
            Ok(())
        })
        .unwrap();
        assert_eq!(back, ops);
        // A cut operation is damage, not a shorter list.
        let cut = &payload[..payload.len() - 1];
        assert!(decode("test", cut, |_| Ok(())).is_err());
    }
}
