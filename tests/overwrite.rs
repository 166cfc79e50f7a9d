//! Replacing in place: an autocommit replace with nothing else open overwrites the old
//! version when nothing holds it and the size is unchanged, touching only the indexes whose
//! key changed; anything that may still see the old version (a handle, a transaction, a
//! reader elsewhere) gets a new version instead. Functional-index rows move with it, given
//! the old keys — right ones or wrong ones.

mod common;

use common::native::*;
use jitbox::engine::func::{KeyFn, RawKeyFn, row_tuple};
use jitbox::engine::iter::IterType;
use jitbox::engine::key::FieldType;
use jitbox::engine::space::{GivenKeys, Mode};
use jitbox::engine::tuple::{TuplePtr, TupleRef};
use jitbox::engine::value::{self, Value};
use jitbox::engine::{Engine, SpaceId};
use jitbox::ffi::abi::{JB_FT_INTEGER, jb_field, jb_key_sink, jb_value};
use jitbox::guard::CallbackKind;
use std::ffi::c_void;

unsafe extern "C" {
    fn jb_key_sink_push(sink: *mut jb_key_sink, parts: *const jb_field, count: u32) -> i32;
}

/// `{v % 1000}`; declared JB_CB_LUA in the tests, so writes must be given the keys.
unsafe extern "C" fn mod_1000(
    _: *mut c_void,
    data: *const u8,
    size: usize,
    sink: *mut std::ffi::c_void,
) -> i32 {
    // The engine's opaque sink token is the C layer's jb_key_sink.
    let sink = sink as *mut jitbox::ffi::abi::jb_key_sink;
    // SAFETY: the engine passes the tuple's data for the call.
    let data = unsafe { std::slice::from_raw_parts(data, size) };
    let v = match value::field(data, 2).unwrap() {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    };
    let part = jb_field {
        type_: JB_FT_INTEGER,
        len: 0,
        v: jb_value { i: v % 1000 },
    };
    // SAFETY: the sink is valid during this call; one part.
    unsafe { jb_key_sink_push(sink, &part, 1) }
}

fn v_of(t: TuplePtr) -> i64 {
    match t.field(2) {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    }
}

/// 100 tuples `{i, "a", 1000 + i}` (all the same size), optionally with a functional index.
fn setup(func: bool) -> (Engine, SpaceId) {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 0..100u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "a", 1000 + i as i64))
            .unwrap();
    }
    if func {
        let kf = KeyFn::user(
            mod_1000 as RawKeyFn,
            std::ptr::null_mut(),
            CallbackKind::Lua,
            false,
        );
        e.create_func_index(id, "by_mod", vec![FieldType::Integer], false, kf)
            .unwrap();
    }
    (e, id)
}

/// An autocommit replace whose caller does not want the old version back.
fn overwrite(e: &mut Engine, id: SpaceId, fields: &[Value], keys: Option<(i64, i64)>) -> TuplePtr {
    let (new_part, old_part) = keys.map_or((Value::Nil, Value::Nil), |(n, o)| {
        (Value::int(n), Value::int(o))
    });
    let (np, op) = ([new_part], [old_part]);
    let new_keys = GivenKeys {
        parts: &np,
        counts: &[1],
    };
    let old_keys = GivenKeys {
        parts: &op,
        counts: &[1],
    };
    let given = keys.map(|_| (&new_keys, &old_keys));
    let t = e
        .space_mut(id)
        .unwrap()
        .write(
            None,
            fields,
            Mode::Overwrite,
            given.map(|g| g.0),
            given.map(|g| g.1),
        )
        .unwrap()
        .0;
    e.after_write();
    t
}

/// Every index passes its checks, and with `func` each live tuple has exactly one row
/// holding its current key.
fn check(e: &Engine, id: SpaceId, func: bool) {
    let sp = e.space(id).unwrap();
    sp.indexes.iter().for_each(|i| i.check().unwrap());
    if func {
        let mut rows = vec![];
        sp.indexes[2]
            .try_for_each(|r| {
                rows.push(r);
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(rows.len(), sp.len(), "one row per live tuple");
        for r in rows {
            let t = row_tuple(r);
            assert_eq!(
                get(e, id, &[t.field(0)]),
                Some(t),
                "a row of a version that is not live"
            );
            assert_eq!(
                r.field(1),
                Value::int(v_of(t) % 1000),
                "a row with a stale key"
            );
        }
    }
}

#[test]
fn a_same_size_replace_overwrites_and_moves_only_the_changed_keys() {
    let (mut e, id) = setup(false);
    let before = get(&e, id, &[Value::Uint(5)]).unwrap();
    let t = overwrite(&mut e, id, &row(5, "a", 2005), None);
    assert_eq!(t, before, "the same size and nothing holding it: in place");
    assert_eq!(v_of(get(&e, id, &[Value::Uint(5)]).unwrap()), 2005);
    // A changed secondary key moves its entry.
    let t = overwrite(&mut e, id, &row(5, "b", 2006), None);
    assert_eq!(t, before);
    assert_eq!(
        ids(scan(&e, id, 1, IterType::Eq, &[Value::Str(b"b")])),
        vec![5]
    );
    assert!(!ids(scan(&e, id, 1, IterType::Eq, &[Value::Str(b"a")])).contains(&5));
    check(&e, id, false);
    // Another size: a new version.
    let t = overwrite(&mut e, id, &row(5, "bb", 2006), None);
    assert_ne!(t, before);
    assert_eq!(
        ids(scan(&e, id, 1, IterType::Eq, &[Value::Str(b"bb")])),
        vec![5]
    );
    check(&e, id, false);
    assert_eq!(e.space(id).unwrap().len(), 100);
}

#[test]
fn a_held_or_visible_old_version_is_never_overwritten() {
    let (mut e, id) = setup(false);
    // A handle (as jb_index_get gives) keeps its tuple as it was.
    let quota = e.quota().clone();
    let held = TupleRef::new(get(&e, id, &[Value::Uint(7)]).unwrap(), &quota);
    let t = overwrite(&mut e, id, &row(7, "a", 2007), None);
    assert_ne!(t, held.ptr());
    assert_eq!(
        v_of(held.ptr()),
        1007,
        "the handle still reads the old version"
    );
    drop(held);
    // A transaction open elsewhere may read the old version: a new one.
    let reader = e.begin().unwrap();
    let old = get(&e, id, &[Value::Uint(8)]).unwrap();
    let t = overwrite(&mut e, id, &row(8, "a", 2008), None);
    assert_ne!(t, old);
    assert_eq!(
        v_of(get_in(&e, Some(reader), id, &[Value::Uint(8)]).unwrap()),
        1008,
        "the reader's snapshot is intact"
    );
    e.rollback(reader).unwrap();
    // Mode::Replace gives the old version back, so it is kept whole.
    let old = get(&e, id, &[Value::Uint(9)]).unwrap();
    let (t, back) = e
        .space_mut(id)
        .unwrap()
        .replace(&row(9, "a", 2009))
        .unwrap();
    assert_ne!(t, old);
    assert_eq!(v_of(back.unwrap().ptr()), 1009);
    check(&e, id, false);
}

#[test]
fn functional_rows_follow_an_overwrite_given_right_or_wrong_old_keys() {
    let (mut e, id) = setup(true);
    let before = get(&e, id, &[Value::Uint(3)]).unwrap();
    // Right old keys: rows move, the version stays where it was.
    let t = overwrite(&mut e, id, &row(3, "a", 1997), Some((997, 3)));
    assert_eq!(t, before);
    check(&e, id, true);
    assert_eq!(
        ids(scan(&e, id, 2, IterType::Eq, &[Value::int(997)])),
        vec![3]
    );
    assert!(scan(&e, id, 2, IterType::Eq, &[Value::int(3)]).is_empty());
    // Wrong old keys (a key function that answers differently now): the index is searched,
    // and no row of the old key is left behind.
    let t = overwrite(&mut e, id, &row(3, "a", 1998), Some((998, 555)));
    assert_eq!(t, before);
    check(&e, id, true);
    assert!(scan(&e, id, 2, IterType::Eq, &[Value::int(997)]).is_empty());
    // Without old keys the old version is buried for the drain, as before.
    let old = get(&e, id, &[Value::Uint(4)]).unwrap();
    let keys = GivenKeys {
        parts: &[Value::int(996)],
        counts: &[1],
    };
    let space = e.space_mut(id).unwrap();
    let (t, _) = space
        .write(None, &row(4, "a", 1996), Mode::Overwrite, Some(&keys), None)
        .unwrap();
    assert_ne!(t, old);
    assert_eq!(e.pending(), 1, "the old version waits for its key function");
    assert_eq!(e.run_deferred(0), 1);
    check(&e, id, true);
}

/// A replace decides whether an index keeps its entry by the key fields' encodings first:
/// equal bytes are the same key. Different bytes that compare equal (5 and 5.0 in a
/// `number` index) must still count as the same key — the entry stays, a unique index sees
/// no duplicate — and a different key must still move.
#[test]
fn a_key_with_another_encoding_of_the_same_value_keeps_its_entry() {
    let mut e = engine(64 << 20);
    let fmt = format(&[("id", FieldType::Unsigned), ("x", FieldType::Number)]);
    let id = e.create_space("n", fmt).unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(id, "by_x", vec![part(1, FieldType::Number)], true)
        .unwrap();
    let sp = e.space_mut(id).unwrap();
    sp.insert(&[Value::Uint(1), Value::Uint(5)]).unwrap();
    sp.insert(&[Value::Uint(2), Value::Uint(6)]).unwrap();
    // Same value, another encoding (and size): no duplicate, one entry, the new version.
    e.space_mut(id)
        .unwrap()
        .replace(&[Value::Uint(1), Value::Double(5.0)])
        .unwrap();
    assert_eq!(
        ids(scan(&e, id, 1, IterType::Eq, &[Value::Uint(5)])),
        vec![1]
    );
    assert_eq!(count(&e, id, 1, IterType::All, &[]), 2);
    let t = get(&e, id, &[Value::Uint(1)]).unwrap();
    assert_eq!(
        t.field(1),
        Value::Double(5.0),
        "the new version is the one indexed"
    );
    // Same bytes: kept; a different value moves.
    for v in [Value::Double(5.0), Value::Uint(7)] {
        e.space_mut(id)
            .unwrap()
            .replace(&[Value::Uint(1), v])
            .unwrap();
    }
    assert_eq!(count(&e, id, 1, IterType::All, &[]), 2);
    assert!(scan(&e, id, 1, IterType::Eq, &[Value::Uint(5)]).is_empty());
    assert_eq!(
        ids(scan(&e, id, 1, IterType::Eq, &[Value::Uint(7)])),
        vec![1]
    );
    // And a real duplicate is still refused.
    assert!(
        e.space_mut(id)
            .unwrap()
            .replace(&[Value::Uint(1), Value::Uint(6)])
            .is_err()
    );
}
