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
