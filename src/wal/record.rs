//! How records sit in a WAL file, and reading them back.
//!
//! A file starts with `FILE_MAGIC` (8 bytes). Then records, back to back, each a 24-byte
//! header and a payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | `RECORD_MARKER`, little-endian |
//! | 4..8 | payload length, little-endian |
//! | 8..16 | LSN, little-endian; each record's is its predecessor's plus one |
//! | 16..20 | CRC32C of the payload |
//! | 20..24 | CRC32C of bytes 0..20 |
//!
//! The header has its own checksum so that a damaged length is caught as damage, not taken for
//! the end of the log. Reading tells two failures apart and decides nothing about either (the
//! caller does, knowing which file this is): a *torn tail* is an incomplete last record — its
//! header or payload runs past the end of the file, as a write cut short by a crash leaves it;
//! *damage* is anything complete that does not check out (a header or payload that does not
//! match its checksum, LSNs out of order, a bad magic).

use crate::error::{Error, Result};

pub const FILE_MAGIC: &[u8; 8] = b"JBWAL\0\0\x01";
/// Snapshot files use the same framing after their own magic.
pub const SNAPSHOT_MAGIC: &[u8; 8] = b"JBSNAP\0\x01";

/// Which kind of file is read: its magic and what errors call it.
pub struct FileKind {
    pub magic: &'static [u8; 8],
    pub what: &'static str,
}

pub const WAL_FILE: FileKind = FileKind {
    magic: FILE_MAGIC,
    what: "WAL file",
};

pub const SNAPSHOT_FILE: FileKind = FileKind {
    magic: SNAPSHOT_MAGIC,
    what: "snapshot file",
};
pub const RECORD_MARKER: u32 = 0x5257_424a; // "JBWR" in file order
pub const HEADER_LEN: usize = 24;
/// Larger payloads are refused when written and taken for damage when read.
pub const MAX_PAYLOAD: usize = 1 << 30;

/// Appends one record to `out` (all or nothing: `out` is unchanged on an error).
pub fn encode(lsn: u64, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let h = header(lsn, payload)?;
    out.try_reserve(HEADER_LEN + payload.len()).map_err(|_| {
        Error::Memory(format!(
            "cannot allocate {} bytes for a WAL record",
            HEADER_LEN + payload.len()
        ))
    })?;
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    Ok(())
}

/// Frames a record in place: `out[start..]` is `HEADER_LEN` bytes of room followed by the
/// payload, appended straight into the buffer (no copy of it). Fills in the header but its
/// two checksums, which `checksum_records` adds where the bytes are written (the WAL writer,
/// off the engine's thread). On an error (a payload too large) `out` is cut back to `start`.
pub fn seal(out: &mut Vec<u8>, start: usize, lsn: u64) -> Result<()> {
    let len = out.len() - start - HEADER_LEN;
    if len > MAX_PAYLOAD {
        out.truncate(start);
        return Err(Error::IllegalParams(format!(
            "a WAL record of {len} bytes is larger than the {MAX_PAYLOAD} bytes allowed"
        )));
    }
    let h = &mut out[start..start + HEADER_LEN];
    h[0..4].copy_from_slice(&RECORD_MARKER.to_le_bytes());
    h[4..8].copy_from_slice(&(len as u32).to_le_bytes());
    h[8..16].copy_from_slice(&lsn.to_le_bytes());
    h[16..24].fill(0);
    Ok(())
}

/// Fills in the checksums of back-to-back records framed by `seal`. An error means the
/// bytes were not such records: a bug, reported instead of written.
pub fn checksum_records(buf: &mut [u8]) -> Result<()> {
    let mut o = 0;
    while o < buf.len() {
        let bad = || {
            Error::Panic(format!(
                "a WAL batch is not a run of framed records at byte {o}"
            ))
        };
        let h = buf.get(o..o + HEADER_LEN).ok_or_else(bad)?;
        if h[0..4] != RECORD_MARKER.to_le_bytes() {
            return Err(bad());
        }
        let len = u32::from_le_bytes(h[4..8].try_into().expect("4 bytes")) as usize;
        let end = o + HEADER_LEN + len;
        let crc = crc32c::crc32c(buf.get(o + HEADER_LEN..end).ok_or_else(bad)?);
        buf[o + 16..o + 20].copy_from_slice(&crc.to_le_bytes());
        let hc = crc32c::crc32c(&buf[o..o + 20]);
        buf[o + 20..o + 24].copy_from_slice(&hc.to_le_bytes());
        o = end;
    }
    Ok(())
}

/// The header of the record `lsn` with `payload`.
pub fn header(lsn: u64, payload: &[u8]) -> Result<[u8; HEADER_LEN]> {
    if payload.len() > MAX_PAYLOAD {
        return Err(Error::IllegalParams(format!(
            "a WAL record of {} bytes is larger than the {MAX_PAYLOAD} bytes allowed",
            payload.len()
        )));
    }
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&RECORD_MARKER.to_le_bytes());
    h[4..8].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    h[8..16].copy_from_slice(&lsn.to_le_bytes());
    h[16..20].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let hc = crc32c::crc32c(&h[..20]);
    h[20..24].copy_from_slice(&hc.to_le_bytes());
    Ok(h)
}

/// One record read back; `offset` is where its header starts in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub offset: u64,
    pub lsn: u64,
    pub payload: &'a [u8],
}

/// How a file ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// After the last whole record.
    Clean,
    /// With an incomplete record at `offset` (why: for the warning).
    Torn { offset: u64, why: String },
    /// With damage at `offset`: the records before it were handed over, none after.
    Damaged { offset: u64, why: String },
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

/// Reads the records of file `name` (its whole contents in `bytes`), handing each to `f` in
/// order. Returns how the file ended; an error is one `f` returned.
pub fn read(bytes: &[u8], f: impl FnMut(Record) -> Result<()>) -> Result<Tail> {
    read_kind(&WAL_FILE, bytes, f)
}

/// `read` for a file of any `kind`.
pub fn read_kind(
    kind: &FileKind,
    bytes: &[u8],
    mut f: impl FnMut(Record) -> Result<()>,
) -> Result<Tail> {
    let FileKind { magic, what: file } = kind;
    let damaged = |offset: usize, why: String| {
        Ok(Tail::Damaged {
            offset: offset as u64,
            why,
        })
    };
    if bytes.len() < magic.len() {
        if magic.starts_with(bytes) {
            return Ok(Tail::Torn {
                offset: 0,
                why: format!("the file holds {} bytes, less than its header", bytes.len()),
            });
        }
        return damaged(
            0,
            format!("it does not start like a jitbox {file} (version 1)"),
        );
    }
    if &bytes[..magic.len()] != *magic {
        return damaged(
            0,
            format!("it does not start like a jitbox {file} (version 1)"),
        );
    }
    let mut pos = magic.len();
    let mut prev_lsn: Option<u64> = None;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let torn = |why: String| {
            Ok(Tail::Torn {
                offset: pos as u64,
                why,
            })
        };
        if rest.len() < HEADER_LEN {
            return torn(format!("{} bytes of a record header", rest.len()));
        }
        let h = &rest[..HEADER_LEN];
        if u32_at(h, 20) != crc32c::crc32c(&h[..20]) || u32_at(h, 0) != RECORD_MARKER {
            return damaged(pos, "a record header does not match its checksum".into());
        }
        let len = u32_at(h, 4) as usize;
        let lsn = u64::from_le_bytes(h[8..16].try_into().expect("eight bytes"));
        if len > MAX_PAYLOAD {
            return damaged(pos, format!("a record claims {len} bytes"));
        }
        if rest.len() < HEADER_LEN + len {
            return torn(format!(
                "a record of {len} bytes with only {} written",
                rest.len() - HEADER_LEN
            ));
        }
        let payload = &rest[HEADER_LEN..HEADER_LEN + len];
        if u32_at(h, 16) != crc32c::crc32c(payload) {
            return damaged(pos, format!("record LSN {lsn} does not match its checksum"));
        }
        if let Some(p) = prev_lsn
            && lsn != p + 1
        {
            return damaged(pos, format!("LSN {lsn} follows LSN {p}"));
        }
        prev_lsn = Some(lsn);
        f(Record {
            offset: pos as u64,
            lsn,
            payload,
        })?;
        pos += HEADER_LEN + len;
    }
    Ok(Tail::Clean)
}
