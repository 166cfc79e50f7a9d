//! Allocation-failure sweep: for every operation, fail the 0th, 1st, 2nd … charged allocation
//! until the operation needs no more. Every failure must be `MEMORY` and leave every index and
//! the memory accounting exactly as before.

mod common;

use common::native::*;
use jitbox::engine::key::FieldType;
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, SpaceId};
use jitbox::error::{Error, Result};
use jitbox::mem::errinj;

/// Runs `op` under every possible injected failure; returns how many failure points it had.
fn sweep(e: &mut Engine, what: &str, mut op: impl FnMut(&mut Engine) -> Result<()>) -> usize {
    for n in 0.. {
        let before = fingerprint(e);
        errinj::set("ALLOC_FAIL_AFTER", n).unwrap();
        let r = op(e);
        let left = errinj::get("ALLOC_FAIL_AFTER").unwrap();
        errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
        match r {
            Err(Error::Memory(_)) => assert_eq!(
                fingerprint(e),
                before,
                "{what}: failure at allocation {n} changed state"
            ),
            Err(other) => panic!("{what}: allocation {n} failed with {other:?}, not MEMORY"),
            Ok(()) => {
                assert!(
                    left >= 0,
                    "{what}: injected failure at {n} was swallowed: the operation succeeded anyway"
                );
                return n as usize;
            }
        }
    }
    unreachable!()
}

fn three_index_space(e: &mut Engine) -> SpaceId {
    let id = test_space(e);
    e.create_index(id, "uniq_v", vec![part(2, FieldType::Integer)], true)
        .unwrap();
    id
}

#[test]
fn insert_replace_delete_fail_cleanly_at_every_allocation() {
    let mut e = engine(256 << 20);
    let id = three_index_space(&mut e);
    let mut points = 0;
    // Enough rows for multi-level trees, so leaf and inner splits both get swept.
    for i in 0..1500u64 {
        let name = format!("n{}", i % 37);
        points += sweep(&mut e, "insert", |e| {
            e.space_mut(id)?
                .insert(&row(i * 7 % 1500, &name, i as i64))
                .map(drop)
        });
    }
    for i in (0..1500u64).step_by(3) {
        points += sweep(&mut e, "replace", |e| {
            e.space_mut(id)?
                .replace(&row(i, "r", -(i as i64) - 1))
                .map(drop)
        });
    }
    for i in (0..1500u64).step_by(2) {
        points += sweep(&mut e, "delete", |e| {
            e.space_mut(id)?.delete(&[Value::Uint(i)]).map(drop)
        });
    }
    // 1500 inserts + 500 replaces allocate a tuple each; block reservations come on top.
    assert!(points > 2000, "too few allocation points swept: {points}");
    assert_eq!(e.space(id).unwrap().len(), 750);
}

#[test]
fn index_creation_fails_cleanly_at_every_allocation() {
    let mut e = engine(256 << 20);
    let id = test_space(&mut e);
    for i in 0..3000u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, &format!("x{}", i % 100), i as i64))
            .unwrap();
    }
    let points = sweep(&mut e, "create_index", |e| {
        e.create_index(
            id,
            "by_v",
            vec![part(2, FieldType::Integer), part(1, FieldType::String)],
            true,
        )
        .map(drop)
    });
    assert!(
        points > 50,
        "index build should allocate many blocks, swept {points}"
    );
    let points = sweep(&mut e, "create_space", |e| {
        let s = e.create_space("second", vec![])?;
        e.create_index(s, "pk", vec![part(0, FieldType::Unsigned)], true)
            .map(drop)
    });
    let _ = points;
}

#[test]
fn quota_returns_to_zero_after_everything_is_dropped() {
    let mut e = engine(256 << 20);
    let start = e.quota().used();
    let id = three_index_space(&mut e);
    for i in 0..2000u64 {
        let _ = sweep(&mut e, "insert", |e| {
            e.space_mut(id)?.insert(&row(i, "q", i as i64)).map(drop)
        });
    }
    drop(e.drop_space(id).unwrap());
    assert_eq!(e.quota().used(), start);
}

unsafe extern "C" {
    fn jb_key_sink_push(
        sink: *mut jitbox::ffi::abi::jb_key_sink,
        parts: *const jitbox::ffi::abi::jb_field,
        count: u32,
    ) -> i32;
}

/// A native key function: {v % 1000}, and for a multikey index also {v % 7}.
unsafe extern "C" fn mod_keys(
    multikey: *mut std::ffi::c_void,
    data: *const u8,
    size: usize,
    sink: *mut std::ffi::c_void,
) -> i32 {
    // The engine's opaque sink token is the C layer's jb_key_sink.
    let sink = sink as *mut jitbox::ffi::abi::jb_key_sink;
    // SAFETY: the engine passes the tuple's data for the call.
    let data = unsafe { std::slice::from_raw_parts(data, size) };
    let v = match jitbox::engine::value::field(data, 2) {
        Ok(Value::Uint(u)) => u as i64,
        Ok(Value::Int(i)) => i,
        _ => return -1,
    };
    let key = |k: i64| jitbox::ffi::abi::jb_field {
        type_: jitbox::ffi::abi::JB_FT_INTEGER,
        len: 0,
        v: jitbox::ffi::abi::jb_value { i: k },
    };
    // SAFETY: the sink is this call's; each key is one part.
    let rc = unsafe { jb_key_sink_push(sink, &key(v % 1000), 1) };
    if rc != 0 || multikey.is_null() {
        return rc;
    }
    // SAFETY: as above.
    unsafe { jb_key_sink_push(sink, &key(v % 7), 1) }
}

#[test]
fn functional_index_builds_and_drops_fail_cleanly_at_every_allocation() {
    use jitbox::engine::func::{KeyFn, RawKeyFn};
    use jitbox::guard::CallbackKind;
    let mut e = engine(256 << 20);
    let id = test_space(&mut e);
    for i in 0..600u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64 * 3))
            .unwrap();
    }
    for (name, multikey) in [("by_mod", false), ("by_mods", true)] {
        let kf = KeyFn::user(
            mod_keys as RawKeyFn,
            if multikey {
                std::ptr::dangling_mut()
            } else {
                std::ptr::null_mut()
            },
            CallbackKind::Native,
            multikey,
        );
        let points = sweep(&mut e, name, |e| {
            e.create_func_index(id, name, vec![FieldType::Integer], false, kf.clone())
                .map(drop)
        });
        assert!(points > 10, "{name}: swept only {points} allocations");
        // The engine serves on: writes keep the new index exact.
        let r = e.space_mut(id).unwrap().replace(&row(5, "m", 4000));
        assert!(r.is_ok(), "{r:?}");
    }
    sweep(&mut e, "drop_index", |e| {
        e.drop_index(id, "by_mods").map(drop)
    });
    sweep(&mut e, "drop_space", |e| e.drop_space(id).map(drop));
}

#[test]
fn functional_index_builds_near_the_memory_limit_fail_cleanly() {
    use jitbox::engine::func::{KeyFn, RawKeyFn};
    use jitbox::guard::CallbackKind;
    let fill = |e: &mut Engine| {
        let id = test_space(e);
        for i in 0..600u64 {
            if e.space_mut(id)
                .unwrap()
                .insert(&row(i, "n", i as i64))
                .is_err()
            {
                break;
            }
        }
        id
    };
    // What the rows take; the limits below leave from nothing to a few blocks on top.
    let base = {
        let mut e = engine(64 << 20);
        fill(&mut e);
        e.quota().used()
    };
    let mut outcomes = (0, 0);
    for step in 0..40usize {
        let limit = base + step * (6 << 10);
        let mut e = engine(limit);
        let id = fill(&mut e);
        for multikey in [false, true] {
            let kf = KeyFn::user(
                mod_keys as RawKeyFn,
                if multikey {
                    std::ptr::dangling_mut()
                } else {
                    std::ptr::null_mut()
                },
                CallbackKind::Native,
                multikey,
            );
            let before = fingerprint(&e);
            let name = if multikey { "by_mods" } else { "by_mod" };
            match e.create_func_index(id, name, vec![FieldType::Integer], false, kf) {
                Ok(_) => outcomes.0 += 1,
                Err(Error::Memory(_)) => {
                    outcomes.1 += 1;
                    assert_eq!(
                        fingerprint(&e),
                        before,
                        "limit {limit}: a failed build changed state"
                    );
                }
                Err(other) => panic!("limit {limit}: {other:?}"),
            }
            // Serving on: a delete always works, and the space stays consistent.
            e.space_mut(id).unwrap().delete(&[Value::Uint(0)]).unwrap();
        }
    }
    assert!(
        outcomes.0 > 0 && outcomes.1 > 0,
        "both outcomes were met: {outcomes:?}"
    );
}
