//! The write-ahead log: record framing, and reading files back — whole, torn at the tail at
//! every byte, and damaged anywhere.

use jitbox::error::Error;
use jitbox::wal::record::{self, FILE_MAGIC, HEADER_LEN, Tail};

/// A file of records with LSNs 7.. and payloads of these sizes; also each record's offset.
fn file(sizes: &[usize]) -> (Vec<u8>, Vec<usize>) {
    let mut out = FILE_MAGIC.to_vec();
    let mut offsets = vec![];
    for (i, &n) in sizes.iter().enumerate() {
        offsets.push(out.len());
        let payload: Vec<u8> = (0..n).map(|b| (b * 31 + i) as u8).collect();
        record::encode(7 + i as u64, &payload, &mut out).unwrap();
    }
    (out, offsets)
}

/// (lsn, payload length) of every record handed over, and how the file ended.
fn read(bytes: &[u8]) -> (Vec<(u64, usize)>, jitbox::Result<Tail>) {
    let mut got = vec![];
    let tail = record::read("test.xlog", bytes, |r| {
        got.push((r.lsn, r.payload.len()));
        Ok(())
    });
    (got, tail)
}

const SIZES: [usize; 5] = [0, 1, 1000, 70_000, 13];

fn expected(n: usize) -> Vec<(u64, usize)> {
    SIZES[..n]
        .iter()
        .enumerate()
        .map(|(i, &s)| (7 + i as u64, s))
        .collect()
}

#[test]
fn records_read_back_as_written() {
    let (bytes, offsets) = file(&SIZES);
    let mut seen = vec![];
    let tail = record::read("test.xlog", &bytes, |r| {
        let want: Vec<u8> = (0..r.payload.len())
            .map(|b| (b * 31 + seen.len()) as u8)
            .collect();
        assert_eq!(r.payload, &want[..]);
        seen.push(r.offset as usize);
        Ok(())
    });
    assert_eq!(tail.unwrap(), Tail::Clean);
    assert_eq!(seen, offsets);
    assert_eq!(
        read(&FILE_MAGIC[..]).1.unwrap(),
        Tail::Clean,
        "an empty log"
    );
}

#[test]
fn a_torn_last_record_is_cut_off_at_every_byte() {
    let (bytes, offsets) = file(&SIZES);
    let last = *offsets.last().unwrap();
    for cut in last + 1..bytes.len() {
        let (got, tail) = read(&bytes[..cut]);
        assert_eq!(got, expected(4), "cut at {cut}");
        match tail.unwrap() {
            Tail::Torn { offset, why } => {
                assert_eq!(offset as usize, last, "cut at {cut}");
                assert!(!why.is_empty());
            }
            Tail::Clean => panic!("cut at {cut} read as clean"),
        }
    }
    // Cut between records: clean, with the records before the cut.
    let (got, tail) = read(&bytes[..last]);
    assert_eq!((got, tail.unwrap()), (expected(4), Tail::Clean));
    // Shorter than the file header.
    assert!(matches!(
        read(&bytes[..3]).1.unwrap(),
        Tail::Torn { offset: 0, .. }
    ));
}

#[test]
fn the_last_record_ending_the_file_with_a_bad_payload_is_torn() {
    let (mut bytes, offsets) = file(&SIZES);
    let n = bytes.len();
    bytes[n - 1] ^= 0x40;
    let (got, tail) = read(&bytes);
    assert_eq!(got, expected(4));
    assert_eq!(
        tail.unwrap(),
        Tail::Torn {
            offset: *offsets.last().unwrap() as u64,
            why: "the last record's payload does not match its checksum".into()
        }
    );
}

fn damaged_at(bytes: &[u8], offset: usize) {
    let (_, tail) = read(bytes);
    match tail {
        Err(Error::WalIo(m)) => {
            assert!(
                m.contains("test.xlog") && m.contains(&format!("offset {offset}")),
                "{m}"
            );
            assert_eq!(Error::WalIo(m).code(), jitbox::ffi::abi::JB_E_WAL_IO);
        }
        other => panic!("damage at {offset} read as {other:?}"),
    }
}

#[test]
fn damage_anywhere_else_is_an_error_naming_file_and_offset() {
    let (bytes, offsets) = file(&SIZES);
    // Every bit of every header, the last one's included: a header checks itself.
    for (i, &off) in offsets.iter().enumerate() {
        for byte in off..off + HEADER_LEN {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[byte] ^= 1 << bit;
                damaged_at(&b, off);
                let (got, _) = read(&b);
                assert_eq!(
                    got,
                    expected(i),
                    "records before the damage are handed over"
                );
            }
        }
    }
    // A payload byte of a record that is not the last.
    for &i in &[1usize, 2, 3] {
        let mut b = bytes.clone();
        b[offsets[i] + HEADER_LEN] ^= 1;
        damaged_at(&b, offsets[i]);
    }
    // A file that is not a WAL file.
    let mut b = bytes.clone();
    b[0] = b'X';
    damaged_at(&b, 0);
}

#[test]
fn lsns_must_follow_one_another() {
    let mut bytes = FILE_MAGIC.to_vec();
    record::encode(1, b"a", &mut bytes).unwrap();
    let second = bytes.len();
    record::encode(3, b"b", &mut bytes).unwrap();
    damaged_at(&bytes, second);
}

mod files {
    use jitbox::engine::key::FieldType;
    use jitbox::error::Error;
    use jitbox::wal::ops::{self, LoggedField, LoggedIndex, Op};
    use jitbox::wal::record;
    use jitbox::wal::segment;
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

    fn replay(d: &Path, after: u64) -> jitbox::Result<(Vec<u64>, segment::Replayed)> {
        let mut got = vec![];
        let r = segment::replay(d, after, |r| {
            got.push(r.lsn);
            Ok(())
        })?;
        Ok((got, r))
    }

    #[test]
    fn operations_round_trip() {
        let list = vec![
            Op::CreateSpace {
                space: "s",
                format: vec![LoggedField {
                    name: "id",
                    ty: FieldType::Unsigned,
                    nullable: false,
                }],
            },
            Op::CreateIndex(LoggedIndex {
                space: "s",
                name: "by_f",
                unique: false,
                func: Some("s.by_f"),
                multikey: true,
                parts: vec![(0, FieldType::Integer), (1, FieldType::String)],
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
    fn files_replay_in_order_and_a_torn_tail_is_cut() {
        let d = dir("order");
        write(&d, 1..=3);
        let last = write(&d, 4..=6);
        let full = std::fs::metadata(&last).unwrap().len();
        // Tear the last record of the last file.
        let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
        f.set_len(full - 3).unwrap();
        let (got, r) = replay(&d, 0).unwrap();
        assert_eq!(got, vec![1, 2, 3, 4, 5]);
        assert_eq!(r.last_lsn, 5);
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("torn"));
        // Cut for good: the next replay is clean.
        let (_, r) = replay(&d, 0).unwrap();
        assert!(r.warnings.is_empty());
        // Records up to a snapshot's LSN are skipped, whole files included.
        let (got, _) = replay(&d, 3).unwrap();
        assert_eq!(got, vec![4, 5]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn missing_records_and_damage_are_errors_naming_the_file() {
        let d = dir("gap");
        write(&d, 1..=3);
        write(&d, 5..=6);
        let r = replay(&d, 0);
        assert!(
            matches!(&r, Err(Error::WalIo(m)) if m.contains("missing") && m.contains("00000000000000000005.wal")),
            "{r:?}"
        );
        let d = dir("damage");
        let p = write(&d, 1..=3);
        write(&d, 4..=4);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[8 + 24] ^= 1; // first payload byte of record 1, mid-log
        std::fs::write(&p, bytes).unwrap();
        let r = replay(&d, 0);
        assert!(
            matches!(&r, Err(Error::WalIo(m)) if m.contains("00000000000000000001.wal")),
            "{r:?}"
        );
    }
}
