//! The on-disk format does not drift: directories written once (`tests/data/format-v1/`, a
//! WAL-only one and one with a snapshot and the WAL after it) must open to exactly the data
//! recorded beside them. A change that alters how files are read fails here; a new format
//! gets a new version, never a new meaning for old bytes.
//!
//! `JITBOX_BLESS_DATA=1 cargo test --test format` writes the directories anew — only for a new
//! format version, never to make this test pass.

mod common;

use common::native::*;
use jitbox::engine::key::FieldType;
use jitbox::engine::space::FormatField;
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, Options, WalMode};
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    common::root().join("tests/data/format-v1").join(name)
}

fn open(d: &Path) -> Engine {
    Engine::open(Options {
        dir: Some(d.to_owned()),
        wal_mode: WalMode::Write,
        ..Options::default()
    })
    .unwrap()
}

/// Every space's format, and every index's definition and rows, as text.
fn render(e: &Engine) -> String {
    let mut out = String::new();
    let (all, _) = fingerprint(e);
    for (sp, indexes) in e.spaces().zip(all) {
        out += &format!("{} {:?}\n", sp.name, sp.format);
        for (ix, rows) in sp.indexes.iter().zip(indexes) {
            out += &format!(
                "{}.{} unique={} {:?}\n",
                sp.name, ix.name, ix.unique, ix.def.parts
            );
            for r in rows {
                out += &format!("  {r:?}\n");
            }
        }
    }
    out
}

fn field(name: &str, ty: FieldType, nullable: bool) -> FormatField {
    FormatField {
        name: name.into(),
        ty,
        nullable,
    }
}

/// Writes every kind of record today's code writes: spaces with formats of every type,
/// indexes unique and not, multi-part, replaces, deletes, transactions, drops.
fn build(d: &Path, snapshot_midway: bool) {
    let _ = std::fs::remove_dir_all(d);
    let mut e = open(d);
    let kinds = e
        .create_space(
            "kinds",
            vec![
                field("id", FieldType::Unsigned, false),
                field("b", FieldType::Boolean, false),
                field("i", FieldType::Integer, false),
                field("n", FieldType::Number, false),
                field("s", FieldType::String, false),
                field("a", FieldType::Any, true),
            ],
        )
        .unwrap();
    e.create_index(kinds, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(kinds, "by_s", vec![part(4, FieldType::String)], false)
        .unwrap();
    e.create_index(
        kinds,
        "by_i_n",
        vec![part(2, FieldType::Integer), part(3, FieldType::Number)],
        true,
    )
    .unwrap();
    let put = |e: &mut Engine, txn: Option<u64>, i: u64| {
        let s = format!("s{}", i % 4);
        let a = match i % 3 {
            0 => Value::Nil,
            1 => Value::Double(i as f64 / 8.0),
            _ => Value::Str(b"any"),
        };
        let row = [
            Value::Uint(i),
            Value::Bool(i.is_multiple_of(2)),
            Value::int(i as i64 - 10),
            Value::Double(i as f64 * 1.5),
            Value::Str(s.as_bytes()),
            a,
        ];
        e.statement(txn, |e, t| {
            e.space_mut(kinds)?.replace_in(t, &row).map(drop)
        })
        .unwrap();
    };
    for i in 1..=20 {
        put(&mut e, None, i);
    }
    e.statement(None, |e, t| {
        e.space_mut(kinds)?
            .delete_in(t, &[Value::Uint(3)])
            .map(drop)
    })
    .unwrap();
    let tx = e.begin().unwrap();
    put(&mut e, Some(tx), 5);
    put(&mut e, Some(tx), 30);
    e.statement(Some(tx), |e, t| {
        e.space_mut(kinds)?
            .delete_in(t, &[Value::Uint(7)])
            .map(drop)
    })
    .unwrap();
    e.commit(tx).unwrap();
    if snapshot_midway {
        e.flush_wal();
        e.snapshot().unwrap();
    }
    for i in 40..45 {
        put(&mut e, None, i);
    }
    e.drop_index(kinds, "by_s").unwrap();
    let gone = e.create_space("gone", vec![]).unwrap();
    e.create_index(gone, "pk", vec![part(0, FieldType::String)], true)
        .unwrap();
    e.drop_space(gone).unwrap();
    e.flush_wal();
    let text = render(&e);
    drop(e);
    std::fs::remove_file(d.join("jitbox.lock")).unwrap();
    std::fs::write(d.with_extension("expected"), text).unwrap();
}

/// Opens a copy of the committed directory (opening takes a lock and starts a new WAL file).
fn reopen(name: &str) -> String {
    let src = data(name);
    let copy = std::env::temp_dir().join(format!("jitbox-format-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, copy.join(p.file_name().unwrap())).unwrap();
    }
    let e = open(&copy);
    assert!(e.recovery.warnings.is_empty(), "{:?}", e.recovery.warnings);
    let text = render(&e);
    drop(e);
    let _ = std::fs::remove_dir_all(&copy);
    text
}

fn check(name: &str, snapshot_midway: bool) {
    if std::env::var_os("JITBOX_BLESS_DATA").is_some() {
        build(&data(name), snapshot_midway);
    }
    let want = std::fs::read_to_string(data(name).with_extension("expected")).unwrap();
    assert!(want.lines().count() > 30, "the expected data is there");
    assert_eq!(
        reopen(name),
        want,
        "{name} opens to the data it was written with"
    );
}

#[test]
fn a_wal_written_by_format_version_1_reads_back() {
    check("wal", false);
}

#[test]
fn a_snapshot_and_wal_written_by_format_version_1_read_back() {
    check("snapshot", true);
    assert!(
        std::fs::read_dir(data("snapshot")).unwrap().any(|e| e
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "snap")),
        "the directory holds a snapshot"
    );
}
