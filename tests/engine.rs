//! Engine semantics through the Rust API: writes, unique checks, every iterator type against
//! a model, iterators under concurrent change, types and formats, the memory limit.

mod common;

use common::native::*;
use jitbox::engine::iter::{IterType, Vis};
use jitbox::engine::key::FieldType;
use jitbox::engine::value::Value;
use jitbox::error::Error;

#[test]
fn insert_get_replace_delete() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let sp = e.space_mut(id).unwrap();
    sp.insert(&row(1, "a", 10)).unwrap();
    sp.insert(&row(2, "b", 20)).unwrap();
    assert!(
        matches!(sp.insert(&row(1, "z", 0)), Err(Error::TupleFound(m)) if m.contains("'pk'") && m.contains("[1]"))
    );
    let (_, old) = sp.replace(&row(1, "c", 11)).unwrap();
    assert_eq!(
        owned(old.unwrap().data()),
        vec![
            Owned::Uint(1),
            Owned::Str(b"a".to_vec()),
            Owned::Int(10).clone_uint()
        ]
    );
    assert_eq!(sp.len(), 2);
    let t = get(&e, id, &[Value::Uint(1)]).unwrap();
    assert_eq!(owned(t.data())[1], Owned::Str(b"c".to_vec()));
    let sp = e.space_mut(id).unwrap();
    assert!(sp.delete(&[Value::Uint(2)]).unwrap().is_some());
    assert!(sp.delete(&[Value::Uint(2)]).unwrap().is_none());
    assert_eq!(sp.len(), 1);
    // The secondary index follows every write.
    assert_eq!(scan(&e, id, 1, IterType::All, &[]).len(), 1);
    assert_eq!(scan(&e, id, 1, IterType::Eq, &[Value::Str(b"c")]).len(), 1);
    assert_eq!(scan(&e, id, 1, IterType::Eq, &[Value::Str(b"a")]).len(), 0);
}

trait CloneUint {
    fn clone_uint(self) -> Owned;
}
impl CloneUint for Owned {
    /// Integers are canonical: non-negative ones decode as unsigned.
    fn clone_uint(self) -> Owned {
        match self {
            Owned::Int(i) if i >= 0 => Owned::Uint(i as u64),
            o => o,
        }
    }
}

#[test]
fn unique_secondary_index_refuses_duplicates_and_changes_nothing() {
    let mut e = engine(64 << 20);
    let id = e.create_space("u", vec![]).unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(id, "email", vec![part(1, FieldType::String)], true)
        .unwrap();
    let sp = e.space_mut(id).unwrap();
    sp.insert(&[Value::Uint(1), Value::Str(b"x@y")]).unwrap();
    let before = fingerprint(&e);
    let sp = e.space_mut(id).unwrap();
    let err = sp
        .insert(&[Value::Uint(2), Value::Str(b"x@y")])
        .unwrap_err();
    assert!(
        matches!(&err, Error::TupleFound(m) if m.contains("'email'")),
        "{err}"
    );
    // replace of another pk with a taken email is refused too
    assert!(sp.replace(&[Value::Uint(3), Value::Str(b"x@y")]).is_err());
    assert_eq!(fingerprint(&e), before);
    // replacing the same tuple keeps its own email
    let sp = e.space_mut(id).unwrap();
    sp.replace(&[Value::Uint(1), Value::Str(b"x@y"), Value::Bool(true)])
        .unwrap();
}

#[test]
fn every_iterator_type_matches_a_model() {
    let mut e = engine(256 << 20);
    let id = e.create_space("m", vec![]).unwrap();
    e.create_index(
        id,
        "pk",
        vec![part(0, FieldType::Unsigned), part(1, FieldType::Integer)],
        true,
    )
    .unwrap();
    let mut model = vec![];
    for a in 0..40u64 {
        for b in -5..5i64 {
            if (a as i64 * 7 + b).rem_euclid(3) != 0 {
                e.space_mut(id)
                    .unwrap()
                    .insert(&[Value::Uint(a), Value::int(b)])
                    .unwrap();
                model.push((a, b));
            }
        }
    }
    model.sort();
    let as_rows = |v: Vec<(u64, i64)>| -> Vec<Vec<Owned>> {
        v.into_iter()
            .map(|(a, b)| vec![Owned::Uint(a), Owned::Int(b).clone_uint()])
            .collect()
    };
    for key in [
        vec![],
        vec![Value::Uint(7)],
        vec![Value::Uint(7), Value::int(-2)],
        vec![Value::Uint(100)],
        vec![Value::Uint(0)],
    ] {
        let cmp = |&(a, b): &(u64, i64)| -> std::cmp::Ordering {
            let mut o = std::cmp::Ordering::Equal;
            if let Some(Value::Uint(ka)) = key.first() {
                o = a.cmp(ka);
            }
            if let (std::cmp::Ordering::Equal, Some(kb)) = (o, key.get(1)) {
                let kb = match kb {
                    Value::Uint(u) => *u as i64,
                    Value::Int(i) => *i,
                    _ => 0,
                };
                o = b.cmp(&kb);
            }
            o
        };
        use std::cmp::Ordering::*;
        let fwd = |f: &dyn Fn(std::cmp::Ordering) -> bool| {
            as_rows(model.iter().copied().filter(|r| f(cmp(r))).collect())
        };
        let rev = |f: &dyn Fn(std::cmp::Ordering) -> bool| {
            let mut v = fwd(f);
            v.reverse();
            v
        };
        assert_eq!(
            scan(&e, id, 0, IterType::Eq, &key),
            fwd(&|o| o == Equal),
            "EQ {key:?}"
        );
        assert_eq!(
            scan(&e, id, 0, IterType::Req, &key),
            rev(&|o| o == Equal),
            "REQ {key:?}"
        );
        assert_eq!(
            scan(&e, id, 0, IterType::Ge, &key),
            fwd(&|o| o != Less),
            "GE {key:?}"
        );
        assert_eq!(
            scan(&e, id, 0, IterType::All, &key),
            fwd(&|o| o != Less),
            "ALL {key:?}"
        );
        let gt = if key.is_empty() {
            fwd(&|_| true)
        } else {
            fwd(&|o| o == Greater)
        };
        assert_eq!(scan(&e, id, 0, IterType::Gt, &key), gt, "GT {key:?}");
        assert_eq!(
            scan(&e, id, 0, IterType::Le, &key),
            rev(&|o| o != Greater),
            "LE {key:?}"
        );
        let lt = if key.is_empty() {
            rev(&|_| true)
        } else {
            rev(&|o| o == Less)
        };
        assert_eq!(scan(&e, id, 0, IterType::Lt, &key), lt, "LT {key:?}");
        for ty in [
            IterType::Eq,
            IterType::Req,
            IterType::All,
            IterType::Ge,
            IterType::Gt,
            IterType::Le,
            IterType::Lt,
        ] {
            let want = scan(&e, id, 0, ty, &key).len();
            assert_eq!(count(&e, id, 0, ty, &key), want, "count {ty:?} {key:?}");
        }
    }
}

#[test]
fn iterator_stays_valid_while_the_space_changes() {
    use jitbox::engine::iter::IterPos;
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 0..1000u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64))
            .unwrap();
    }
    let quota = e.quota().clone();
    let mut pos = IterPos::new(IterType::Ge, &[], &quota).unwrap();
    let mut seen = vec![];
    loop {
        let t = {
            let sp = e.space(id).unwrap();
            let mvcc = e.mvcc();
            let view = mvcc.view(None).unwrap();
            pos.next(
                &sp.indexes[0],
                Vis {
                    view: &view,
                    mvcc: &mvcc,
                },
            )
        };
        let Some(t) = t else { break };
        let Value::Uint(k) = t.field(0) else { panic!() };
        seen.push(k);
        let sp = e.space_mut(id).unwrap();
        // Delete the tuple just returned and the next one, insert far ahead: the iterator
        // must skip the deleted and see the inserted, never crash or repeat.
        sp.delete(&[Value::Uint(k)]).unwrap();
        if k % 2 == 0 {
            sp.delete(&[Value::Uint(k + 1)]).unwrap();
        }
        if k < 100 {
            sp.insert(&row(10_000 + k, "late", 0)).unwrap();
        }
    }
    let expected: Vec<u64> = (0..1000)
        .step_by(2)
        .chain((10_000..10_100).step_by(2))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn non_unique_index_orders_duplicates_by_primary_key() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in (0..50u64).rev() {
        let name = format!("n{}", i % 5);
        e.space_mut(id).unwrap().insert(&row(i, &name, 0)).unwrap();
    }
    let got: Vec<Owned> = scan(&e, id, 1, IterType::Eq, &[Value::Str(b"n3")])
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    let want: Vec<Owned> = (0..50u64).filter(|i| i % 5 == 3).map(Owned::Uint).collect();
    assert_eq!(got, want);
    let rev: Vec<Owned> = scan(&e, id, 1, IterType::Req, &[Value::Str(b"n3")])
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(rev, want.into_iter().rev().collect::<Vec<_>>());
}

#[test]
fn format_and_index_types_are_checked() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let sp = e.space_mut(id).unwrap();
    let err = sp
        .insert(&[Value::Str(b"x"), Value::Str(b"a"), Value::Uint(1)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::FieldType(m) if m.contains("field 1 ('id') must be unsigned, got string")),
        "{err}"
    );
    let err = sp.insert(&[Value::Uint(1), Value::Str(b"a")]).unwrap_err();
    assert!(
        matches!(&err, Error::FieldType(m) if m.contains("tuple too short")),
        "{err}"
    );
    let err = sp
        .insert(&[Value::Uint(1), Value::Str(b"a"), Value::Double(1.5)])
        .unwrap_err();
    assert!(
        matches!(&err, Error::FieldType(m) if m.contains("'v'") && m.contains("integer")),
        "{err}"
    );
    // integer fields take negative and non-negative numbers; extra fields are free
    sp.insert(&[
        Value::Uint(1),
        Value::Str(b"a"),
        Value::int(-5),
        Value::Nil,
        Value::Double(0.5),
    ])
    .unwrap();
    assert_eq!(sp.len(), 1);
}

#[test]
fn number_index_orders_integers_and_doubles_together() {
    let mut e = engine(64 << 20);
    let id = e.create_space("n", vec![]).unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Number)], true)
        .unwrap();
    for v in [
        Value::Double(2.5),
        Value::Uint(2),
        Value::int(-3),
        Value::Double(-3.5),
        Value::Uint(u64::MAX),
        Value::Double(1e30),
    ] {
        e.space_mut(id).unwrap().insert(&[v]).unwrap();
    }
    // 2 and 2.0 are the same key
    assert!(
        e.space_mut(id)
            .unwrap()
            .insert(&[Value::Double(2.0)])
            .is_err()
    );
    let got: Vec<Owned> = scan(&e, id, 0, IterType::All, &[])
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        got,
        vec![
            Owned::Double(-3.5),
            Owned::Int(-3),
            Owned::Uint(2),
            Owned::Double(2.5),
            Owned::Uint(u64::MAX),
            Owned::Double(1e30)
        ]
    );
}

#[test]
fn strings_with_nul_bytes_round_trip() {
    let mut e = engine(64 << 20);
    let id = e.create_space("s", vec![]).unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::String)], true)
        .unwrap();
    let sp = e.space_mut(id).unwrap();
    sp.insert(&[Value::Str(b"a\0b")]).unwrap();
    sp.insert(&[Value::Str(b"a")]).unwrap();
    sp.insert(&[Value::Str(b"a\0")]).unwrap();
    let got = scan(&e, id, 0, IterType::All, &[]);
    assert_eq!(
        got,
        vec![
            vec![Owned::Str(b"a".to_vec())],
            vec![Owned::Str(b"a\0".to_vec())],
            vec![Owned::Str(b"a\0b".to_vec())]
        ]
    );
}

#[test]
fn memory_limit_refuses_writes_but_reads_and_deletes_work() {
    let mut e = engine(1 << 20);
    let id = test_space(&mut e);
    let mut n = 0u64;
    let err = loop {
        match e.space_mut(id).unwrap().insert(&row(n, "some name", 1)) {
            Ok(_) => n += 1,
            Err(err) => break err,
        }
    };
    assert!(
        matches!(&err, Error::Memory(m) if m.contains("memory_limit")),
        "{err}"
    );
    assert!(n > 1000);
    let used = e.quota().used();
    assert!(used <= 1 << 20);
    assert_eq!(e.space(id).unwrap().len() as u64, n);
    assert!(get(&e, id, &[Value::Uint(5)]).is_some());
    for i in 0..100 {
        e.space_mut(id)
            .unwrap()
            .delete(&[Value::Uint(i)])
            .unwrap()
            .unwrap();
    }
    // Freed tuple slots are reused (a slab is returned only when empty), so used memory
    // does not grow, and new writes fit again.
    assert!(e.quota().used() <= used);
    e.space_mut(id)
        .unwrap()
        .insert(&row(n, "fits again", 1))
        .unwrap();
}

#[test]
fn oversized_tuple_is_refused_with_a_clear_error() {
    let mut e = jitbox::engine::Engine::open(jitbox::engine::Options {
        max_tuple_size: 1024,
        ..Default::default()
    })
    .unwrap();
    let id = test_space(&mut e);
    let big = "x".repeat(2000);
    let err = e
        .space_mut(id)
        .unwrap()
        .insert(&row(1, &big, 0))
        .unwrap_err();
    assert!(
        matches!(&err, Error::IllegalParams(m) if m.contains("max_tuple_size 1024")),
        "{err}"
    );
    assert_eq!(e.quota().used(), fingerprint(&e).1);
    assert_eq!(e.space(id).unwrap().len(), 0);
}

#[test]
fn secondary_index_is_built_over_existing_data_or_not_at_all() {
    let mut e = engine(64 << 20);
    let id = e.create_space("b", vec![]).unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    for i in 0..500u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&[Value::Uint(i), Value::Uint(i % 100), Value::Str(b"s")])
            .unwrap();
    }
    let before = fingerprint(&e);
    let err = e
        .create_index(id, "u", vec![part(1, FieldType::Unsigned)], true)
        .unwrap_err();
    assert!(matches!(err, Error::TupleFound(_)));
    let err = e
        .create_index(id, "t", vec![part(2, FieldType::Unsigned)], false)
        .unwrap_err();
    assert!(
        matches!(&err, Error::FieldType(m) if m.contains("cannot build index 't'")),
        "{err}"
    );
    assert_eq!(fingerprint(&e), before);
    e.create_index(id, "m", vec![part(1, FieldType::Unsigned)], false)
        .unwrap();
    assert_eq!(scan(&e, id, 1, IterType::Eq, &[Value::Uint(42)]).len(), 5);
    // the new index checks later writes
    assert!(
        e.space_mut(id)
            .unwrap()
            .insert(&[Value::Uint(9999), Value::Str(b"x")])
            .is_err()
    );
}

#[test]
fn ddl_errors_name_what_is_wrong() {
    let mut e = engine(64 << 20);
    let id = e.create_space("d", vec![]).unwrap();
    assert!(matches!(e.create_space("d", vec![]), Err(Error::Exists(_))));
    assert!(matches!(
        e.create_space("", vec![]),
        Err(Error::IllegalParams(_))
    ));
    assert!(matches!(
        e.create_space("a\0b", vec![]),
        Err(Error::IllegalParams(_))
    ));
    assert!(matches!(e.find_space("nope"), Err(Error::NoSuchSpace(m)) if m.contains("'nope'")));
    let err = e
        .create_index(id, "pk", vec![part(0, FieldType::Unsigned)], false)
        .unwrap_err();
    assert!(
        matches!(&err, Error::IllegalParams(m) if m.contains("must be unique")),
        "{err}"
    );
    assert!(e.create_index(id, "pk", vec![], true).is_err());
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    assert!(matches!(
        e.create_index(id, "pk", vec![part(1, FieldType::Unsigned)], true),
        Err(Error::Exists(_))
    ));
    let err = e
        .space_mut(id)
        .unwrap()
        .delete(&[Value::Str(b"k")])
        .unwrap_err();
    assert!(
        matches!(&err, Error::FieldType(m) if m.contains("key part 1 must be unsigned, got string")),
        "{err}"
    );
    let err = e.space_mut(id).unwrap().delete(&[]).unwrap_err();
    assert!(
        matches!(&err, Error::IllegalParams(m) if m.contains("give the full key")),
        "{err}"
    );
}

#[test]
fn dropping_a_space_releases_all_its_memory() {
    let mut e = engine(64 << 20);
    let base = e.quota().used();
    let id = test_space(&mut e);
    for i in 0..5000u64 {
        e.space_mut(id).unwrap().insert(&row(i, "name", 1)).unwrap();
    }
    assert!(e.quota().used() > base + 5000 * 20);
    drop(e.drop_space(id).unwrap());
    assert_eq!(e.quota().used(), base);
}

#[test]
fn indexes_with_tied_hints_match_a_model_under_random_writes() {
    // Names longer than a hint (7 bytes) that share their first 7 bytes, next to short ones:
    // searches must fall back to comparing the strings exactly where hints tie.
    let names: Vec<String> = (0..24)
        .map(|k| match k % 3 {
            0 => format!("n{k}"),
            1 => format!("prefix_{k:04}"),
            _ => format!("prefix_{k:04}_and_more"),
        })
        .collect();
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let mut model = std::collections::BTreeMap::new(); // id -> (name index, v)
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for step in 0..6000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let i = x % 700;
        let name = &names[(x >> 20) as usize % names.len()];
        let sp = e.space_mut(id).unwrap();
        if x.is_multiple_of(4) {
            let got = sp.delete(&[Value::Uint(i)]).unwrap().is_some();
            assert_eq!(got, model.remove(&i).is_some(), "delete {i}");
        } else {
            sp.replace(&row(i, name, step as i64)).unwrap();
            model.insert(i, (name.clone(), step as i64));
        }
        if step % 600 == 0 {
            for name in names.iter().take(6) {
                let key = [Value::Str(name.as_bytes())];
                let want: Vec<Vec<Owned>> = model
                    .iter()
                    .filter(|(_, (n, _))| n == name)
                    .map(|(i, (n, v))| {
                        vec![Owned::Uint(*i), Owned::Str(n.clone().into_bytes()), int(*v)]
                    })
                    .collect();
                assert_eq!(scan(&e, id, 1, IterType::Eq, &key), want, "EQ {name}");
                let mut ge: Vec<(String, u64, i64)> = model
                    .iter()
                    .filter(|(_, (n, _))| n.as_str() >= name.as_str())
                    .map(|(i, (n, v))| (n.clone(), *i, *v))
                    .collect();
                ge.sort();
                let want: Vec<Vec<Owned>> = ge
                    .into_iter()
                    .map(|(n, i, v)| vec![Owned::Uint(i), Owned::Str(n.into_bytes()), int(v)])
                    .collect();
                assert_eq!(scan(&e, id, 1, IterType::Ge, &key), want, "GE {name}");
            }
            for idx in &e.space(id).unwrap().indexes {
                idx.check().unwrap();
            }
        }
    }
}

fn int(v: i64) -> Owned {
    if v >= 0 {
        Owned::Uint(v as u64)
    } else {
        Owned::Int(v)
    }
}

/// A varbinary field takes MessagePack binary strings only, and an index over it orders them
/// by their bytes (shorter first on a common prefix), not by their encoded headers.
#[test]
fn varbinary_fields_take_binary_strings_ordered_by_their_bytes() {
    let mut e = engine(64 << 20);
    let id = e
        .create_space(
            "bin",
            format(&[("id", FieldType::Unsigned), ("b", FieldType::Varbinary)]),
        )
        .unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(id, "b", vec![part(1, FieldType::Varbinary)], true)
        .unwrap();
    let bin = |b: &[u8]| {
        let mut v = if b.len() < 256 {
            vec![0xc4, b.len() as u8]
        } else {
            vec![0xc5, (b.len() >> 8) as u8, b.len() as u8]
        };
        v.extend_from_slice(b);
        v
    };
    let long = vec![b'a'; 300];
    let vals = [bin(b"b"), bin(&long), bin(b"ab"), bin(b"a")];
    let sp = e.space_mut(id).unwrap();
    for (i, v) in vals.iter().enumerate() {
        sp.insert(&[Value::Uint(i as u64), Value::Raw(v)]).unwrap();
    }
    assert!(matches!(
        sp.insert(&[Value::Uint(9), Value::Str(b"a")]),
        Err(Error::FieldType(_))
    ));
    assert!(matches!(
        sp.insert(&[Value::Uint(9), Value::Raw(&bin(b"ab"))]),
        Err(Error::TupleFound(_))
    ));
    let order: Vec<Owned> = scan_in(&e, None, id, 1, IterType::All, &[])
        .into_iter()
        .map(|t| t[0].clone())
        .collect();
    // "a" < "aa…a" (300) < "ab" < "b"
    assert_eq!(order, [3, 1, 2, 0].map(Owned::Uint));
}
