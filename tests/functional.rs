//! Functional indexes through the Rust API: building, reading, unique keys, writes with given
//! keys and with a native key function, burying old versions whose Lua key function may not
//! run and the drain that removes them, transactions (rollback and the commit check without
//! the key function), failing key functions, and an allocation-failure sweep.

mod common;

use common::native::*;
use jitbox::engine::func::{KeyFn, KeySource, RawKeyFn, row_tuple};
use jitbox::engine::iter::IterType;
const GC_STEP: usize = 64;
use jitbox::engine::key::FieldType;
use jitbox::engine::space::{GivenKeys, Mode};
use jitbox::engine::value::{self, Value};
use jitbox::engine::{Engine, SpaceId};
use jitbox::error::Error;
use jitbox::ffi::abi::{jb_field, jb_key_sink, jb_value};
use jitbox::guard::CallbackKind;
use std::cell::Cell;
use std::ffi::c_void;

unsafe extern "C" {
    fn jb_key_sink_push(sink: *mut jb_key_sink, parts: *const jb_field, count: u32) -> i32;
}

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
    /// While set, a key function call fails the test (a read, or a write that must not call).
    static FORBIDDEN: Cell<bool> = const { Cell::new(false) };
    /// While set, TWO_KEYS answers only its first key (a key function that changed its mind).
    static FEWER: Cell<bool> = const { Cell::new(false) };
    /// The sink STASH was last given, kept past its call.
    static STASHED: Cell<usize> = const { Cell::new(0) };
}

/// What the test key functions do, chosen by their ctx.
const MOD_1000: usize = 0; // {v % 1000}
const FAIL: usize = 1; // returns -1
const WRONG_TYPE: usize = 2; // {'x'}
const TWO_KEYS: usize = 3; // {v % 1000}, {v % 7}
const STASH: usize = 4; // {v % 1000}, keeping the sink pointer in STASHED

fn int(v: i64) -> jb_field {
    jb_field {
        type_: jitbox::ffi::abi::JB_FT_INTEGER,
        len: 0,
        v: jb_value { i: v },
    }
}

unsafe extern "C" fn key_fn(
    ctx: *mut c_void,
    data: *const u8,
    size: usize,
    sink: *mut std::ffi::c_void,
) -> i32 {
    // The engine's opaque sink token is the C layer's jb_key_sink.
    let sink = sink as *mut jitbox::ffi::abi::jb_key_sink;
    assert!(!FORBIDDEN.get(), "key function called where it must not be");
    CALLS.set(CALLS.get() + 1);
    // SAFETY: the engine passes the tuple's data for the call.
    let data = unsafe { std::slice::from_raw_parts(data, size) };
    let v = match value::field(data, 2).unwrap() {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    };
    let push = |f: jb_field| {
        // SAFETY: the sink is valid during this call; f is one part.
        unsafe { jb_key_sink_push(sink, &f, 1) }
    };
    match ctx as usize {
        MOD_1000 => push(int(v % 1000)),
        STASH => {
            STASHED.set(sink as usize);
            push(int(v % 1000))
        }
        FAIL => -1,
        WRONG_TYPE => push(jb_field {
            type_: jitbox::ffi::abi::JB_FT_STRING,
            len: 1,
            v: jb_value { s: c"x".as_ptr() },
        }),
        TWO_KEYS => {
            let r = push(int(v % 1000));
            if r != 0 || FEWER.get() {
                r
            } else {
                push(int(v % 7))
            }
        }
        _ => unreachable!(),
    }
}

fn keyfn(what: usize, kind: CallbackKind, multikey: bool) -> KeyFn {
    KeyFn {
        source: KeySource::User {
            func: key_fn as RawKeyFn,
            ctx: what as *mut c_void,
        },
        kind,
        multikey,
    }
}

fn setup(kind: CallbackKind, unique: bool) -> (Engine, SpaceId) {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 0..50u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64 * 100 + 7))
            .unwrap();
    }
    e.create_func_index(
        id,
        "by_mod",
        vec![FieldType::Integer],
        unique,
        keyfn(MOD_1000, kind, false),
    )
    .unwrap();
    (e, id)
}

/// Replaces with the key computed here, as the Lua module does.
fn replace_keyed(
    e: &mut Engine,
    txn: Option<u64>,
    id: SpaceId,
    i: u64,
    v: i64,
) -> jitbox::error::Result<()> {
    let parts = [Value::int(v % 1000)];
    let keys = GivenKeys {
        parts: &parts,
        counts: &[1],
    };
    e.space_mut(id)?
        .write(txn, &row(i, "n", v), Mode::Replace, Some(&keys), None)?;
    e.after_write();
    Ok(())
}

/// The tuple's third field (`v`), as the key functions read it.
fn v_of(t: jitbox::engine::tuple::TuplePtr) -> i64 {
    match t.field(2) {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("{other:?}"),
    }
}

/// Each live tuple has exactly one row, holding its key; no other row is left.
fn check_rows(e: &Engine, id: SpaceId, pos: usize) {
    let sp = e.space(id).unwrap();
    let idx = &sp.indexes[pos];
    idx.check().unwrap();
    let mut rows = vec![];
    idx.try_for_each(|r| {
        rows.push(r);
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(
        rows.len(),
        sp.len(),
        "one row per live tuple in '{}'",
        idx.name
    );
    for r in rows {
        let t = row_tuple(r);
        let v = v_of(t);
        assert!(
            get(e, id, &[t.field(0)]) == Some(t),
            "a row of a version that is not live"
        );
        assert_eq!(r.field(1), Value::int(v % 1000), "a row with a stale key");
    }
}

#[test]
fn builds_over_existing_data_and_reads_in_key_order() {
    let (e, id) = setup(CallbackKind::Native, false);
    check_rows(&e, id, 2);
    // Keys are v % 1000 = (i * 100 + 7) % 1000: i and i + 10 share a key, ordered by pk.
    let eq = ids(scan(&e, id, 2, IterType::Eq, &[Value::int(107)]));
    assert_eq!(eq, vec![1, 11, 21, 31, 41]);
    let all = ids(scan(&e, id, 2, IterType::All, &[]));
    assert_eq!(all.len(), 50);
    assert_eq!(&all[..5], &[0, 10, 20, 30, 40]);
    assert_eq!(count(&e, id, 2, IterType::Ge, &[Value::int(907)]), 5);
}

#[test]
fn unique_functional_keys_refuse_duplicates() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 0..20u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64))
            .unwrap();
    }
    let kf = keyfn(MOD_1000, CallbackKind::Native, false);
    e.create_func_index(id, "u", vec![FieldType::Integer], true, kf)
        .unwrap();
    let before = fingerprint(&e).0;
    let r = e.space_mut(id).unwrap().insert(&row(100, "n", 1005));
    assert!(
        matches!(r, Err(Error::TupleFound(ref m)) if m.contains("'u'")),
        "{r:?}"
    );
    assert_eq!(
        fingerprint(&e).0,
        before,
        "a refused insert changed nothing"
    );
    // Replacing a tuple by one with its own key is fine; another's key is not.
    e.space_mut(id)
        .unwrap()
        .replace(&row(5, "m", 1005))
        .unwrap();
    assert!(matches!(
        e.space_mut(id).unwrap().replace(&row(5, "m", 6)),
        Err(Error::TupleFound(_))
    ));
    check_rows(&e, id, 2);
    // Building a unique index over duplicate keys (v % 7 repeats) fails and leaves nothing.
    let before = fingerprint(&e).0;
    let kf2 = keyfn(TWO_KEYS, CallbackKind::Native, true);
    let r = e.create_func_index(id, "u2", vec![FieldType::Integer], true, kf2);
    assert!(matches!(r, Err(Error::TupleFound(_))), "{r:?}");
    assert_eq!(fingerprint(&e).0, before);
}

#[test]
fn native_key_functions_keep_the_index_exact_through_writes() {
    let (mut e, id) = setup(CallbackKind::Native, false);
    for i in 0..200u64 {
        let k = i * 7 % 60;
        let sp = e.space_mut(id).unwrap();
        match i % 3 {
            0 => drop(sp.replace(&row(k, "r", i as i64 * 31)).unwrap()),
            1 => drop(sp.delete(&[Value::Uint(k)]).unwrap()),
            _ => drop(sp.replace(&row(k, "s", i as i64)).unwrap()),
        }
        e.after_write();
    }
    assert_eq!(e.pending(), 0, "native key functions run at once");
    check_rows(&e, id, 2);
}

#[test]
fn lua_key_functions_never_run_in_writes_old_rows_wait_for_the_drain() {
    let (mut e, id) = setup(CallbackKind::Lua, false);
    FORBIDDEN.set(true);
    // Without keys, a write cannot compute them: refused, nothing changed.
    let before = fingerprint(&e).0;
    let r = e.space_mut(id).unwrap().replace(&row(1, "n", 5));
    assert!(
        matches!(r, Err(Error::Reentry(ref m)) if m.contains("by_mod")),
        "{r:?}"
    );
    assert_eq!(fingerprint(&e).0, before);
    // With keys: the old versions' rows stay (buried, invisible) until the drain.
    for i in 0..50u64 {
        replace_keyed(&mut e, None, id, i, i as i64 + 3).unwrap();
    }
    e.space_mut(id).unwrap().delete(&[Value::Uint(7)]).unwrap();
    assert_eq!(e.pending(), 51);
    assert_eq!(
        e.space(id).unwrap().indexes[2].len(),
        100,
        "old rows still there"
    );
    let eq = ids(scan(&e, id, 2, IterType::Eq, &[Value::int(107)]));
    assert!(eq.is_empty(), "readers skip buried versions: {eq:?}");
    assert_eq!(
        ids(scan(&e, id, 2, IterType::Eq, &[Value::int(4)])),
        vec![1]
    );
    assert_eq!(count(&e, id, 2, IterType::All, &[]), 49);
    FORBIDDEN.set(false);
    let calls = CALLS.get();
    assert_eq!(e.run_deferred(0), 51);
    assert_eq!(
        CALLS.get() - calls,
        51,
        "one key function call per buried version"
    );
    assert_eq!(e.pending(), 0);
    check_rows(&e, id, 2);
}

#[test]
fn hosts_drain_buried_versions_pull_style_with_keys_they_compute() {
    let (mut e, id) = setup(CallbackKind::Lua, false);
    FORBIDDEN.set(true); // the key function is never called: the host computes the keys
    let none = e.forget_buried([0u8].as_ptr(), None);
    assert!(
        matches!(none, Err(Error::IllegalParams(ref m)) if m.contains("nothing")),
        "{none:?}"
    );
    for i in 0..50u64 {
        replace_keyed(&mut e, None, id, i, i as i64 + 3).unwrap();
    }
    e.space_mut(id).unwrap().delete(&[Value::Uint(7)]).unwrap();
    assert_eq!(e.pending(), 51);
    let mut n = 0;
    while let Some((sid, t)) = e.buried_front() {
        assert_eq!(sid.uid, id.uid);
        let v = v_of(t);
        // Misuse first: another version's data, keys of the wrong shape. Nothing changes.
        let before = fingerprint(&e).0;
        let other = e.forget_buried(t.data().as_ptr().wrapping_add(1), None);
        assert!(
            matches!(other, Err(Error::IllegalParams(ref m)) if m.contains("oldest")),
            "{other:?}"
        );
        let two = [Value::int(1), Value::int(2)];
        let bad = GivenKeys {
            parts: &two,
            counts: &[1],
        };
        let shape = e.forget_buried(t.data().as_ptr(), Some(&bad));
        assert!(
            matches!(shape, Err(Error::IllegalParams(ref m)) if m.contains("key parts")),
            "{shape:?}"
        );
        assert_eq!((fingerprint(&e).0, e.pending()), (before, 51 - n));
        // Right keys; every fifth a key the version never had, every seventh none (its key
        // function failed): those are found by a search of the index.
        let key = [Value::int(if n % 5 == 4 { v % 1000 + 1 } else { v % 1000 })];
        let keys = GivenKeys {
            parts: &key,
            counts: &[1],
        };
        let given = (n % 7 != 6).then_some(&keys);
        e.forget_buried(t.data().as_ptr(), given).unwrap();
        n += 1;
    }
    assert_eq!((n, e.pending()), (51, 0));
    FORBIDDEN.set(false);
    check_rows(&e, id, 2);
}

/// Every row of the index belongs to a live tuple (dangling ones would be use after free).
fn rows_of_live_tuples(e: &Engine, id: SpaceId, pos: usize) -> usize {
    let sp = e.space(id).unwrap();
    let mut live = std::collections::HashSet::new();
    sp.indexes[0]
        .try_for_each(|t| {
            live.insert(t);
            Ok::<(), ()>(())
        })
        .unwrap();
    let mut n = 0;
    sp.indexes[pos]
        .try_for_each(|r| {
            assert!(
                live.contains(&row_tuple(r)),
                "a row of a version that is gone"
            );
            n += 1;
            Ok::<(), ()>(())
        })
        .unwrap();
    n
}

#[test]
fn key_functions_that_answer_fewer_keys_later_leave_no_row_behind() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let kf = keyfn(TWO_KEYS, CallbackKind::Lua, true);
    e.create_func_index(id, "mk", vec![FieldType::Integer], false, kf)
        .unwrap();
    let write = |e: &mut Engine, i: u64, v: i64| {
        let parts = [Value::int(v % 1000), Value::int(v % 7)];
        let keys = GivenKeys {
            parts: &parts,
            counts: &[2],
        };
        e.space_mut(id)
            .unwrap()
            .write(None, &row(i, "n", v), Mode::Replace, Some(&keys), None)
            .unwrap();
    };
    for i in 0..20u64 {
        write(&mut e, i, i as i64 * 10 + 100);
    }
    for i in 0..20u64 {
        write(&mut e, i, i as i64 * 10 + 200);
    }
    assert_eq!(e.pending(), 20);
    FEWER.set(true);
    // Half pull-style with only the first key, half through the callback (which now
    // answers one key too): both must notice the version had two rows.
    for _ in 0..10 {
        let (_, t) = e.buried_front().unwrap();
        let v = v_of(t);
        let one = [Value::int(v % 1000)];
        let keys = GivenKeys {
            parts: &one,
            counts: &[1],
        };
        e.forget_buried(t.data().as_ptr(), Some(&keys)).unwrap();
    }
    assert_eq!(e.run_deferred(0), 10);
    FEWER.set(false);
    assert_eq!(e.pending(), 0);
    assert_eq!(
        rows_of_live_tuples(&e, id, 2),
        40,
        "two rows per live tuple, no other"
    );
}

#[test]
fn transactions_log_their_rows_rollback_and_commit_check_need_no_key_function() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let kf = keyfn(MOD_1000, CallbackKind::Lua, false);
    e.create_func_index(id, "u", vec![FieldType::Integer], true, kf)
        .unwrap();
    for i in 0..10u64 {
        replace_keyed(&mut e, None, id, i, i as i64).unwrap();
    }
    FORBIDDEN.set(true);
    let before = fingerprint(&e).0;
    let t = e.begin().unwrap();
    replace_keyed(&mut e, Some(t), id, 3, 500).unwrap();
    replace_keyed(&mut e, Some(t), id, 3, 501).unwrap(); // supersedes its own version
    replace_keyed(&mut e, Some(t), id, 20, 502).unwrap();
    assert_eq!(
        ids(scan_in(
            &e,
            Some(t),
            id,
            2,
            IterType::Eq,
            &[Value::int(501)]
        )),
        vec![3]
    );
    assert!(
        scan(&e, id, 2, IterType::Eq, &[Value::int(501)]).is_empty(),
        "no dirty read"
    );
    e.rollback(t).unwrap();
    while e.collect(usize::MAX, false) > 0 {}
    assert_eq!(fingerprint(&e).0, before, "rollback restored every index");
    // Two transactions take the same unique key: the second to commit conflicts.
    let a = e.begin().unwrap();
    let b = e.begin().unwrap();
    replace_keyed(&mut e, Some(a), id, 30, 777).unwrap();
    replace_keyed(&mut e, Some(b), id, 31, 1777).unwrap();
    e.commit(a).unwrap();
    let r = e.commit(b);
    assert!(
        matches!(r, Err(Error::Conflict(ref m)) if m.contains("'u'")),
        "{r:?}"
    );
    FORBIDDEN.set(false);
    e.run_deferred(0);
    while e.collect(usize::MAX, true) > 0 {}
    check_rows(&e, id, 2);
}

#[test]
fn garbage_collection_in_hot_entries_buries_and_the_drain_finishes() {
    let (mut e, id) = setup(CallbackKind::Lua, false);
    let reader = e.begin().unwrap();
    FORBIDDEN.set(true);
    for i in 0..50u64 {
        replace_keyed(&mut e, None, id, i, i as i64 * 3).unwrap();
    }
    // The reader still sees the old versions through the functional index.
    assert_eq!(
        ids(scan_in(
            &e,
            Some(reader),
            id,
            2,
            IterType::Eq,
            &[Value::int(107)]
        )),
        vec![1, 11, 21, 31, 41]
    );
    e.commit(reader).unwrap();
    while e.collect(usize::MAX, false) > 0 {}
    assert_eq!(e.pending(), 50, "old versions buried, not dropped");
    assert_eq!(
        ids(scan(&e, id, 2, IterType::Eq, &[Value::int(3)])),
        vec![1]
    );
    FORBIDDEN.set(false);
    e.run_deferred(0);
    check_rows(&e, id, 2);
}

#[test]
fn failing_key_functions_give_clear_errors_and_change_nothing() {
    let (mut e, id) = setup(CallbackKind::Native, false);
    for (what, want) in [
        (FAIL, "failed"),
        (WRONG_TYPE, "string"),
        (TWO_KEYS, "multikey"),
    ] {
        let before = fingerprint(&e).0;
        let r = e.create_func_index(
            id,
            "bad",
            vec![FieldType::Integer],
            false,
            keyfn(what, CallbackKind::Native, false),
        );
        let msg = format!("{r:?}");
        assert!(r.is_err() && msg.contains(want), "{msg}");
        assert_eq!(fingerprint(&e).0, before);
    }
    // Multikey: both keys, each once.
    e.create_func_index(
        id,
        "multi",
        vec![FieldType::Integer],
        false,
        keyfn(TWO_KEYS, CallbackKind::Native, true),
    )
    .unwrap();
    assert_eq!(e.space(id).unwrap().indexes[3].len(), 100);
    assert_eq!(
        ids(scan(&e, id, 3, IterType::Eq, &[Value::int(0)])),
        vec![0, 7, 14, 21, 28, 35, 42, 49]
    );
    // Given keys of the wrong shape.
    let before = fingerprint(&e).0;
    let parts = [Value::Str(b"x")];
    let keys = GivenKeys {
        parts: &parts,
        counts: &[1, 1],
    };
    let r = e
        .space_mut(id)
        .unwrap()
        .write(None, &row(1, "n", 1), Mode::Replace, Some(&keys), None);
    assert!(matches!(r, Err(Error::FieldType(_))), "{r:?}");
    let keys = GivenKeys {
        parts: &parts,
        counts: &[1],
    };
    let r = e
        .space_mut(id)
        .unwrap()
        .write(None, &row(1, "n", 1), Mode::Replace, Some(&keys), None);
    assert!(
        matches!(r, Err(Error::IllegalParams(ref m)) if m.contains("2")),
        "{r:?}"
    );
    assert_eq!(fingerprint(&e).0, before);
}

#[test]
fn allocation_failures_leave_no_partial_state_and_no_leak() {
    use jitbox::mem::errinj;
    let mut e = engine(256 << 20);
    let id = test_space(&mut e);
    let kf = keyfn(MOD_1000, CallbackKind::Lua, false);
    e.create_func_index(id, "by_mod", vec![FieldType::Integer], false, kf)
        .unwrap();
    let quota = e.quota().clone();
    for k in 0..100u64 {
        replace_keyed(&mut e, None, id, k, k as i64).unwrap();
    }
    let mut reader = e.begin().unwrap(); // keeps old versions alive across rounds
    for round in 0..20u64 {
        let t = swept_begin(&mut e, id);
        let views = [None, Some(t), Some(reader)];
        for j in 0..3u64 {
            let k = (round * 7 + j * 13) % 120;
            sweep(&mut e, id, &views, "keyed replace in a transaction", |e| {
                replace_keyed(e, Some(t), id, k, (round * 100 + j) as i64)
            });
            let a = 120 + (round * 3 + j) % 30;
            sweep(&mut e, id, &views, "autocommit keyed replace", |e| {
                replace_keyed(e, None, id, a, (round * 1000 + j) as i64)
            });
            let d = 120 + (round * 11 + j * 5 + 1) % 30;
            sweep(&mut e, id, &views, "autocommit delete", |e| {
                e.space_mut(id)?.delete(&[Value::Uint(d)]).map(drop)
            });
        }
        if round % 3 == 0 {
            e.rollback(t).unwrap();
        } else {
            // Each failed commit rolls back: the same writes are made again for the next try.
            let mut first = Some(t);
            sweep_commit(&mut e, id, &[None, Some(reader)], |e| {
                if let Some(t) = first.take() {
                    return t;
                }
                let t = e.begin().unwrap();
                for j in 0..3u64 {
                    let k = (round * 7 + j * 13) % 120;
                    replace_keyed(e, Some(t), id, k, (round * 100 + j) as i64).unwrap();
                }
                t
            });
        }
        if round % 5 == 4 {
            e.commit(reader).unwrap();
            reader = e.begin().unwrap();
        }
        // Collection and the drain cannot fail: without memory they stop or fall back to a
        // search row by row, and the index stays exact.
        for n in 0..8 {
            errinj::set("ALLOC_FAIL_AFTER", n).unwrap();
            e.collect(GC_STEP, false);
            e.run_deferred(4);
            errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
            e.space(id).unwrap().indexes[2].check().unwrap();
        }
    }
    e.rollback(reader).unwrap();
    e.run_deferred(0);
    assert_eq!(e.mvcc().story_count(), 0);
    assert_eq!(e.pending(), 0);
    check_rows(&e, id, 2);
    drop(e);
    assert_eq!(quota.used(), 0, "memory accounting leaked");
}

#[test]
fn a_functional_index_awaiting_its_key_function_survives_a_snapshot() {
    use jitbox::engine::{Options, WalMode};
    let d = std::env::temp_dir().join(format!("jitbox-{}-func-snap", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let open = || {
        Engine::open(Options {
            dir: Some(d.clone()),
            wal_mode: WalMode::Write,
            ..Options::default()
        })
        .unwrap()
    };
    {
        let mut e = open();
        let id = test_space(&mut e);
        for i in 0..50u64 {
            e.statement(None, |e, t| {
                e.space_mut(id)?
                    .replace_in(t, &row(i, "n", i as i64 * 100 + 7))
                    .map(drop)
            })
            .unwrap();
        }
        let kf = keyfn(MOD_1000, CallbackKind::Native, false);
        e.create_func_index(id, "by_mod", vec![FieldType::Integer], false, kf)
            .unwrap();
    }
    {
        // Reopened, the index awaits its key function; a snapshot now still records it.
        let mut e = open();
        assert_eq!(e.awaiting.len(), 1);
        e.snapshot().unwrap();
    }
    let mut e = open();
    assert_eq!(e.awaiting.len(), 1, "the snapshot kept the definition");
    assert_eq!(e.awaiting[0].func_name(), "test.by_mod");
    let id = e.find_space("test").unwrap();
    let kf = keyfn(MOD_1000, CallbackKind::Native, false);
    e.create_func_index(id, "by_mod", vec![FieldType::Integer], false, kf)
        .unwrap();
    assert!(e.awaiting.is_empty());
    let pos = e.space(id).unwrap().index_pos("by_mod").unwrap();
    assert_eq!(count(&e, id, pos, IterType::Eq, &[Value::Uint(507)]), 5);
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_stale_or_forged_key_sink_is_a_bad_handle() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 0..5u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64))
            .unwrap();
    }
    e.create_func_index(
        id,
        "by_mod",
        vec![FieldType::Integer],
        false,
        keyfn(STASH, CallbackKind::Native, false),
    )
    .unwrap();
    let stale = STASHED.get();
    assert_ne!(stale, 0);
    let f = int(1);
    let forged = [stale, 1, 0xdead_beef, &f as *const jb_field as usize];
    for sink in forged {
        // SAFETY: the engine checks the sink; f is one valid part.
        let rc = unsafe { jb_key_sink_push(sink as *mut jb_key_sink, &f, 1) };
        assert_eq!(rc, jitbox::ffi::abi::JB_E_BAD_HANDLE, "sink {sink:#x}");
    }
    // The index is intact: one row per tuple.
    assert_eq!(e.space(id).unwrap().indexes[1].len(), 5);
}
