//! Replaying a directory of WAL files: in order, a torn tail of the newest file set aside (its
//! bytes kept), and damage anywhere refused with file and offset, leaving every byte as it
//! was — or, with `force`, set aside and reported.

use super::common::files::contents;
use jitbox::error::Error;
use jitbox::wal::ops::LoggedType;
use jitbox::wal::ops::{self, LoggedField, LoggedIndex, Op};
use jitbox::wal::{record, replay, segment};
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jitbox-wal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a WAL file with records `lsns` (payload: the LSN's bytes).
fn write(d: &Path, lsns: std::ops::RangeInclusive<u64>) -> PathBuf {
    let path = d.join(segment::file_name(*lsns.start(), segment::WAL_EXT));
    let mut bytes = record::FILE_MAGIC.to_vec();
    for l in lsns {
        record::encode(l, &l.to_le_bytes(), &mut bytes).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}

fn replay(d: &Path, after: u64, force: bool) -> jitbox::Result<(Vec<u64>, replay::Replayed)> {
    let mut got = vec![];
    let r = replay::replay(d, after, force, |r| {
        got.push(r.lsn);
        Ok(())
    })?;
    Ok((got, r))
}

/// Flips one bit at `offset` of `path`.
fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 1;
    std::fs::write(path, bytes).unwrap();
}

/// The offset of the last record of a file written by `write` with `n` records.
fn last_record(n: usize) -> usize {
    8 + (n - 1) * (record::HEADER_LEN + 8)
}

/// Replay refuses with a message naming `file` and `offset`, and leaves the directory as it was.
fn refused(d: &Path, file: &str, offset: usize) -> String {
    let before = contents(d);
    let r = replay(d, 0, false);
    let m = match r {
        Err(Error::WalIo(m)) => m,
        other => panic!("expected a refusal naming {file} at {offset}, got {other:?}"),
    };
    assert!(
        m.contains(file) && m.contains(&format!("offset {offset}")),
        "{m}"
    );
    assert!(m.contains("force_recovery"), "says what to do: {m}");
    assert_eq!(contents(d), before, "nothing on disk changed");
    m
}

#[test]
fn operations_round_trip() {
    let list = vec![
        Op::CreateSpace {
            space: "s",
            format: vec![LoggedField {
                name: "id",
                ty: LoggedType::Unsigned,
                nullable: false,
            }],
        },
        Op::CreateIndex(LoggedIndex {
            space: "s",
            name: "by_f",
            unique: false,
            hash: false,
            func: Some("s.by_f"),
            multikey: true,
            parts: vec![
                (0, LoggedType::Integer, false, 0, false),
                (1, LoggedType::String, true, 2, false),
            ],
            paths: vec![],
        }),
        Op::CreateIndex(LoggedIndex {
            space: "s",
            name: "by_tag",
            unique: true,
            hash: true,
            func: None,
            multikey: true,
            parts: vec![
                (3, LoggedType::String, false, 0, false),
                (2, LoggedType::Unsigned, true, 0, true),
            ],
            paths: vec!["[*]", ""],
        }),
        Op::Replace {
            space: "s",
            tuple: &[0x91, 0x01],
        },
        Op::Delete {
            space: "s",
            key: &[0x91, 0x02],
        },
        Op::DropIndex {
            space: "s",
            index: "by_f",
        },
        Op::DropSpace { space: "s" },
    ];
    let mut payload = vec![];
    for op in &list {
        ops::encode(op, &mut payload).unwrap();
    }
    let mut back = vec![];
    ops::decode("test", &payload, |op| {
        back.push(op);
        Ok(())
    })
    .unwrap();
    assert_eq!(back, list);
    // A cut payload is damage, never a shorter list.
    let r = ops::decode("test", &payload[..payload.len() - 1], |_| Ok(()));
    assert!(matches!(r, Err(Error::WalIo(m)) if m.contains("does not parse")));
}

#[test]
fn a_torn_tail_of_the_newest_file_is_set_aside_with_its_bytes_kept() {
    let d = dir("order");
    write(&d, 1..=3);
    let last = write(&d, 4..=6);
    let whole = std::fs::read(&last).unwrap();
    // Tear the last record of the last file.
    std::fs::write(&last, &whole[..whole.len() - 3]).unwrap();
    let (got, r) = replay(&d, 0, false).unwrap();
    assert_eq!(got, vec![1, 2, 3, 4, 5]);
    assert_eq!((r.last_lsn, r.records, r.files), (5, 5, 2));
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("incomplete record"),
        "{}",
        r.warnings[0]
    );
    let at = last_record(3);
    let side = PathBuf::from(format!("{}.{at}.torn", last.display()));
    assert!(r.warnings[0].contains(&side.display().to_string()));
    assert_eq!(
        std::fs::read(&side).unwrap(),
        &whole[at..whole.len() - 3],
        "the torn bytes are kept"
    );
    assert_eq!(std::fs::read(&last).unwrap(), &whole[..at]);
    assert_eq!(r.set_aside_bytes, (whole.len() - 3 - at) as u64);
    // Set aside for good: the next replay is clean.
    let (_, r) = replay(&d, 0, false).unwrap();
    assert!(r.warnings.is_empty());
    // Records up to a snapshot's LSN are skipped, whole files included.
    let (got, r) = replay(&d, 3, false).unwrap();
    assert_eq!((got, r.files), (vec![4, 5], 1));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_file_torn_inside_its_magic_is_renamed_aside_whole() {
    let d = dir("torn-magic");
    write(&d, 1..=2);
    let newest = d.join(segment::file_name(3, segment::WAL_EXT));
    std::fs::write(&newest, &record::FILE_MAGIC[..5]).unwrap();
    let (got, r) = replay(&d, 0, false).unwrap();
    assert_eq!(got, vec![1, 2]);
    assert!(!newest.exists());
    let side = PathBuf::from(format!("{}.0.torn", newest.display()));
    assert_eq!(std::fs::read(side).unwrap(), &record::FILE_MAGIC[..5]);
    assert_eq!(r.warnings.len(), 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn damage_in_an_older_file_is_refused_naming_that_file_and_offset() {
    let d = dir("older");
    let old = write(&d, 1..=3);
    write(&d, 4..=5);
    // The last record of the older file: a flipped payload byte.
    let at = last_record(3);
    flip(&old, at + record::HEADER_LEN);
    refused(&d, "00000000000000000001.wal", at);
    // Its header instead.
    flip(&old, at + record::HEADER_LEN);
    flip(&old, at + 9);
    refused(&d, "00000000000000000001.wal", at);
    // An incomplete record in an older file is no torn tail: records after it exist.
    flip(&old, at + 9);
    let bytes = std::fs::read(&old).unwrap();
    std::fs::write(&old, &bytes[..bytes.len() - 2]).unwrap();
    let m = refused(&d, "00000000000000000001.wal", at);
    assert!(m.contains("not the newest"), "{m}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_complete_last_record_that_fails_its_checksum_is_refused() {
    let d = dir("last");
    write(&d, 1..=2);
    let newest = write(&d, 3..=5);
    let at = last_record(3);
    flip(&newest, at + record::HEADER_LEN + 7);
    refused(&d, "00000000000000000003.wal", at);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn missing_records_and_mixed_logs_are_refused_naming_the_file() {
    let d = dir("gap");
    write(&d, 1..=3);
    write(&d, 5..=6);
    let m = refused(&d, "00000000000000000005.wal", 8);
    assert!(m.contains("records 4..4 are missing"), "{m}");
    let d = dir("mixed");
    write(&d, 1..=3);
    let p = d.join(segment::file_name(4, segment::WAL_EXT));
    let mut bytes = record::FILE_MAGIC.to_vec();
    record::encode(2, b"x", &mut bytes).unwrap();
    std::fs::write(&p, bytes).unwrap();
    let m = refused(&d, "00000000000000000004.wal", 8);
    assert!(m.contains("two logs are mixed"), "{m}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn force_recovery_keeps_the_records_before_the_damage_and_sets_the_rest_aside() {
    let d = dir("force");
    let old = write(&d, 1..=3);
    let later = write(&d, 4..=5);
    let newest = write(&d, 6..=6);
    let whole = std::fs::read(&old).unwrap();
    let later_bytes = std::fs::read(&later).unwrap();
    let at = last_record(2); // record 2 of 3
    flip(&old, at + record::HEADER_LEN);
    let damaged = std::fs::read(&old).unwrap();
    let (got, r) = replay(&d, 0, true).unwrap();
    assert_eq!(got, vec![1]);
    assert_eq!(r.last_lsn, 1);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    let w = &r.warnings[0];
    assert!(
        w.contains("force_recovery") && w.contains(&format!("offset {at}")),
        "{w}"
    );
    assert!(
        w.contains("00000000000000000004.wal.skipped")
            && w.contains("00000000000000000006.wal.skipped"),
        "{w}"
    );
    // Every byte is still there, in the file or beside it.
    assert_eq!(std::fs::read(&old).unwrap(), &whole[..at]);
    let side = PathBuf::from(format!("{}.{at}.damaged", old.display()));
    assert_eq!(std::fs::read(&side).unwrap(), &damaged[at..]);
    let skipped = PathBuf::from(format!("{}.skipped", later.display()));
    assert_eq!(std::fs::read(&skipped).unwrap(), later_bytes);
    assert!(!later.exists() && !newest.exists());
    assert_eq!(
        r.set_aside_bytes,
        (damaged.len() - at
            + later_bytes.len()
            + std::fs::read(format!("{}.skipped", newest.display()))
                .unwrap()
                .len()) as u64
    );
    // The next replay (forced or not) is clean.
    let (got, r) = replay(&d, 0, false).unwrap();
    assert_eq!((got, r.warnings.len()), (vec![1], 0));
    let _ = std::fs::remove_dir_all(&d);
}
