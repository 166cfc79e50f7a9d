//! The write-ahead log: record framing, and reading files back — whole, torn at the tail at
//! every byte, and damaged anywhere. Replay of whole directories: `wal/files.rs`.

mod common;

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
    let tail = record::read(bytes, |r| {
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
    let tail = record::read(&bytes, |r| {
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
            other => panic!("cut at {cut} read as {other:?}"),
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
fn a_complete_last_record_with_a_bad_payload_is_damage_not_a_torn_tail() {
    let (mut bytes, offsets) = file(&SIZES);
    let n = bytes.len();
    bytes[n - 1] ^= 0x40;
    let (got, tail) = read(&bytes);
    assert_eq!(got, expected(4));
    assert_eq!(
        tail.unwrap(),
        Tail::Damaged {
            offset: *offsets.last().unwrap() as u64,
            why: "record LSN 11 does not match its checksum".into()
        }
    );
}

fn damaged_at(bytes: &[u8], offset: usize) {
    let (_, tail) = read(bytes);
    match tail {
        Ok(Tail::Damaged { offset: o, why }) => {
            assert_eq!(o as usize, offset, "{why}");
            assert!(!why.is_empty());
        }
        other => panic!("damage at {offset} read as {other:?}"),
    }
}

#[test]
fn damage_anywhere_is_found_at_its_offset() {
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
    // A payload byte of any record.
    for &i in &[1usize, 2, 3, 4] {
        let mut b = bytes.clone();
        b[offsets[i] + HEADER_LEN] ^= 1;
        damaged_at(&b, offsets[i]);
    }
    // A file that is not a WAL file, also one shorter than a WAL file's magic.
    let mut b = bytes.clone();
    b[0] = b'X';
    damaged_at(&b, 0);
    damaged_at(&b[..3], 0);
}

#[test]
fn lsns_must_follow_one_another() {
    let mut bytes = FILE_MAGIC.to_vec();
    record::encode(1, b"a", &mut bytes).unwrap();
    let second = bytes.len();
    record::encode(3, b"b", &mut bytes).unwrap();
    damaged_at(&bytes, second);
}

#[path = "wal/files.rs"]
mod files;
