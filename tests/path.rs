//! JSON-path index parts through the Rust API: paths parse as Tarantool spells them, keys
//! are found inside nested fields (one per element for `[*]`), and path indexes survive
//! reopening from the WAL and from a snapshot.

mod common;

use common::native::*;
use jitbox::engine::iter::IterType;
use jitbox::engine::key::{FieldType, KeyPart};
use jitbox::engine::path::{PartSpec, Path, Step};
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, Options, SpaceId, WalMode};
use jitbox::error::Error;

#[test]
fn paths_parse_as_tarantool_spells_them() {
    let p = |s: &str| Path::parse(s).map(|p| (p.steps, p.text));
    let key = |k: &str| Step::Key(k.into());
    assert_eq!(p("city").unwrap(), (vec![key("city")], ".city".into()));
    assert_eq!(
        p(".a.b").unwrap(),
        (vec![key("a"), key("b")], ".a.b".into())
    );
    assert_eq!(p("[*]").unwrap(), (vec![Step::Any], "[*]".into()));
    assert_eq!(
        p("[2][\"a b\"]").unwrap(),
        (vec![Step::Index(1), key("a b")], "[2][\"a b\"]".into())
    );
    assert_eq!(p("['x']").unwrap(), (vec![key("x")], ".x".into()));
    assert_eq!(
        p("tags[*].name").unwrap(),
        (
            vec![key("tags"), Step::Any, key("name")],
            ".tags[*].name".into()
        )
    );
    for bad in [
        "", ".", "a..b", "[0]", "[*][*]", "[", "a[x]", "1a", "a.b c", "[\"a]",
    ] {
        assert!(
            matches!(Path::parse(bad), Err(Error::IllegalParams(_))),
            "{bad:?} parsed"
        );
    }
}

// Tuple data builders: MessagePack maps and arrays as `Value::Raw`.
fn str_(s: &str) -> Vec<u8> {
    let mut v = vec![0xa0 | s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}
fn map(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0x80 | entries.len() as u8];
    for (k, x) in entries {
        v.extend(str_(k));
        v.extend_from_slice(x);
    }
    v
}
fn arr(items: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0x90 | items.len() as u8];
    for x in items {
        v.extend_from_slice(x);
    }
    v
}

fn spec(part: KeyPart, path: &str) -> PartSpec<'_> {
    PartSpec {
        part,
        path,
        exclude_null: false,
    }
}

fn users(e: &mut Engine) -> SpaceId {
    let id = e
        .create_space(
            "users",
            format(&[
                ("id", FieldType::Unsigned),
                ("address", FieldType::Map),
                ("tags", FieldType::Array),
            ]),
        )
        .unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_path_index(
        id,
        "city",
        &[spec(part(1, FieldType::String), ".city")],
        false,
    )
    .unwrap();
    let mut zip = part(1, FieldType::String);
    zip.nullable = true;
    e.create_path_index(id, "zip", &[spec(zip, "zip")], true)
        .unwrap();
    e.create_path_index(
        id,
        "tags",
        &[spec(part(2, FieldType::String), "[*]")],
        false,
    )
    .unwrap();
    id
}

fn put(
    e: &mut Engine,
    id: SpaceId,
    i: u64,
    city: &str,
    tags: &[&str],
) -> jitbox::error::Result<()> {
    let addr = map(&[("city", str_(city))]);
    let tags = arr(&tags.iter().map(|t| str_(t)).collect::<Vec<_>>());
    let t = [Value::Uint(i), Value::Raw(&addr), Value::Raw(&tags)];
    e.statement(None, |e, tx| e.space_mut(id)?.replace_in(tx, &t).map(drop))
}

/// The ids an index lists for `key` (all with an empty key), in its order.
fn ids(e: &Engine, id: SpaceId, index: usize, key: &[Value]) -> Vec<u64> {
    let ty = if key.is_empty() {
        IterType::All
    } else {
        IterType::Eq
    };
    scan_in(e, None, id, index, ty, key)
        .iter()
        .map(|t| match t[0] {
            Owned::Uint(u) => u,
            _ => unreachable!(),
        })
        .collect()
}

#[test]
fn keys_are_found_inside_fields_one_per_element_for_a_multikey_part() {
    let mut e = engine(64 << 20);
    let id = users(&mut e);
    put(&mut e, id, 1, "Paris", &["x", "y", "x"]).unwrap();
    put(&mut e, id, 2, "Rome", &["y"]).unwrap();
    put(&mut e, id, 3, "Oslo", &[]).unwrap();
    assert_eq!(ids(&e, id, 1, &[]), [3, 1, 2]);
    assert_eq!(ids(&e, id, 1, &[Value::Str(b"Rome")]), [2]);
    assert_eq!(ids(&e, id, 3, &[]), [1, 1, 2]); // x (once for tuple 1), y, y
    assert_eq!(ids(&e, id, 3, &[Value::Str(b"y")]), [1, 2]);
    assert_eq!(ids(&e, id, 2, &[Value::Nil]), [1, 2, 3]); // no zip: nil, many in a unique index
    // A replace moves its keys; a failed write leaves them.
    put(&mut e, id, 1, "Bern", &["z"]).unwrap();
    assert_eq!(ids(&e, id, 3, &[Value::Str(b"x")]), Vec::<u64>::new());
    assert_eq!(ids(&e, id, 1, &[Value::Str(b"Bern")]), [1]);
    let bad = [
        Value::Uint(4),
        Value::Raw(&map(&[("town", str_("x"))])),
        Value::Raw(&[0x90]),
    ];
    let r = e.statement(None, |e, tx| e.space_mut(id)?.insert_in(tx, &bad).map(drop));
    match r {
        Err(Error::FieldType(m)) => {
            assert!(m.contains("[2][\"city\"]") && m.contains("missing"), "{m}")
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(ids(&e, id, 0, &[]), [1, 2, 3]);
}

#[test]
fn a_path_index_is_checked_when_it_is_created() {
    let mut e = engine(64 << 20);
    let id = users(&mut e);
    let pk_path = e.create_space("other", vec![]).unwrap();
    // A primary key keys by whole fields.
    assert!(matches!(
        e.create_path_index(
            pk_path,
            "pk",
            &[spec(part(0, FieldType::String), "a")],
            true
        ),
        Err(Error::IllegalParams(_))
    ));
    // The format says what a path may step into.
    assert!(matches!(
        e.create_path_index(id, "bad", &[spec(part(1, FieldType::String), "[1]")], false),
        Err(Error::FieldType(_))
    ));
    // Multikey parts expand one array.
    let two = [
        spec(part(2, FieldType::String), "[*]"),
        spec(part(1, FieldType::String), ".list[*]"),
    ];
    assert!(matches!(
        e.create_path_index(id, "bad", &two, false),
        Err(Error::IllegalParams(_))
    ));
    assert!(e.space(id).unwrap().index_pos("bad").is_none());
}

fn open(d: &std::path::Path) -> Engine {
    Engine::open(Options {
        memory_limit: 64 << 20,
        dir: Some(d.to_owned()),
        wal_mode: WalMode::Write,
        ..Options::default()
    })
    .unwrap()
}

#[test]
fn path_indexes_survive_reopening_from_the_wal_and_from_a_snapshot() {
    let d = std::env::temp_dir().join(format!("jitbox-{}-path", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let listing = |e: &Engine, id| {
        (1..4)
            .map(|i| ids(e, id, i, &[]))
            .chain([ids(e, id, 3, &[Value::Str(b"y")])])
            .collect::<Vec<_>>()
    };
    let want = {
        let mut e = open(&d);
        let id = users(&mut e);
        put(&mut e, id, 1, "Paris", &["x", "y"]).unwrap();
        put(&mut e, id, 2, "Rome", &["y"]).unwrap();
        e.flush_wal();
        listing(&e, id)
    };
    for snapshot in [false, true] {
        let mut e = open(&d);
        let id = e.find_space("users").unwrap();
        assert_eq!(listing(&e, id), want, "after a snapshot: {snapshot}");
        assert!(e.recovery.warnings.is_empty());
        // Still a path index: new writes find their keys.
        put(&mut e, id, 9, "Ulm", &[]).unwrap();
        e.statement(None, |e, t| {
            e.space_mut(id)?.delete_in(t, &[Value::Uint(9)]).map(drop)
        })
        .unwrap();
        e.snapshot().unwrap();
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// An `exclude_null` part leaves tuples with nil there out of the index: they are neither
/// found nor counted, repeat freely in a unique index, and the index stays so after reopening.
#[test]
fn exclude_null_leaves_tuples_with_nil_out_of_the_index() {
    let d = std::env::temp_dir().join(format!("jitbox-{}-exclude", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let mut nullable = part(1, FieldType::String);
    nullable.nullable = true;
    let excluded = PartSpec {
        part: nullable,
        path: "",
        exclude_null: true,
    };
    let check = |e: &Engine, id| {
        assert_eq!(ids(e, id, 1, &[]), [2, 4]);
        assert_eq!(ids(e, id, 1, &[Value::Nil]), Vec::<u64>::new());
        assert_eq!(e.space(id).unwrap().indexes[1].len(), 2);
    };
    {
        let mut e = open(&d);
        let id = e.create_space("s", vec![]).unwrap();
        e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
            .unwrap();
        // It needs a nullable part, and no primary key has one.
        let strict = PartSpec {
            exclude_null: true,
            ..spec(part(1, FieldType::String), "")
        };
        assert!(matches!(
            e.create_path_index(id, "bad", &[strict], true),
            Err(Error::IllegalParams(m)) if m.contains("is_nullable")
        ));
        e.create_path_index(id, "mail", &[excluded], true).unwrap();
        let rows: [&[Value]; 4] = [
            &[Value::Uint(1), Value::Nil],
            &[Value::Uint(2), Value::Str(b"a")],
            &[Value::Uint(3)],
            &[Value::Uint(4), Value::Str(b"b")],
        ];
        for r in rows {
            e.statement(None, |e, t| e.space_mut(id)?.insert_in(t, r).map(drop))
                .unwrap();
        }
        let dup = [Value::Uint(5), Value::Str(b"a")];
        let r = e.statement(None, |e, t| e.space_mut(id)?.insert_in(t, &dup).map(drop));
        assert!(matches!(r, Err(Error::TupleFound(_))), "{r:?}");
        check(&e, id);
        e.flush_wal();
    }
    let mut e = open(&d);
    let id = e.find_space("s").unwrap();
    check(&e, id);
    e.snapshot().unwrap();
    drop(e);
    let e = open(&d);
    check(&e, e.find_space("s").unwrap());
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}
