//! Durability through the Rust API: commits survive reopening, a failed WAL write rolls back
//! everything prepared after it newest first (and the WAL works again), transactions the
//! cascade ends say so.

mod common;

use common::native::*;
use jitbox::engine::durable::TicketState;
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, Options, SpaceId, WalMode};
use jitbox::error::Error;
use jitbox::mem::errinj;
use std::path::{Path, PathBuf};

/// A fresh directory for one test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jitbox-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn open(d: &Path, queue: usize) -> Engine {
    Engine::open(Options {
        memory_limit: 64 << 20,
        dir: Some(d.to_owned()),
        wal_mode: WalMode::Write,
        wal_queue_max_size: queue,
        ..Options::default()
    })
    .unwrap()
}

/// Index contents once old versions are collected (memory differs between runs).
fn contents(e: &mut Engine) -> Vec<Vec<Vec<Vec<Owned>>>> {
    e.flush_wal();
    while e.collect(usize::MAX, true) > 0 {}
    fingerprint(e).0
}

fn put(e: &mut Engine, txn: Option<u64>, id: SpaceId, i: u64, v: i64) {
    e.statement(txn, |e, t| {
        e.space_mut(id)?.replace_in(t, &row(i, "n", v)).map(drop)
    })
    .unwrap();
}

#[test]
fn commits_and_ddl_survive_reopen() {
    let d = dir("reopen");
    let before = {
        let mut e = open(&d, 1 << 20);
        let id = test_space(&mut e);
        for i in 0..100 {
            put(&mut e, None, id, i, i as i64);
        }
        let tx = e.begin().unwrap();
        put(&mut e, Some(tx), id, 5, -5);
        e.space_mut(id)
            .unwrap()
            .delete_in(Some(tx), &[Value::Uint(7)])
            .unwrap();
        e.commit(tx).unwrap();
        e.statement(None, |e, t| {
            e.space_mut(id)?.delete_in(t, &[Value::Uint(9)]).map(drop)
        })
        .unwrap();
        let other = e
            .create_space(
                "other",
                format(&[("k", jitbox::engine::key::FieldType::String)]),
            )
            .unwrap();
        e.create_index(
            other,
            "pk",
            vec![part(0, jitbox::engine::key::FieldType::String)],
            true,
        )
        .unwrap();
        e.drop_index(id, "by_name").unwrap();
        contents(&mut e)
    };
    let mut e = open(&d, 1 << 20);
    assert_eq!(contents(&mut e), before);
    assert!(e.recovery.warnings.is_empty());
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_failed_write_rolls_back_everything_after_it_newest_first() {
    let d = dir("cascade");
    let mut e = open(&d, 1); // one record in flight at a time: the rest wait in order
    let id = test_space(&mut e);
    for i in 0..10 {
        put(&mut e, None, id, i, 0);
    }
    let before = contents(&mut e);
    errinj::set("WAL_DELAY", 1).unwrap();
    let mut tickets = vec![];
    for n in 0..50u64 {
        let tx = e.begin().unwrap();
        // Every transaction rewrites key 1 (each builds on the one before) and inserts or
        // deletes others.
        put(&mut e, Some(tx), id, 1, n as i64 + 1);
        put(&mut e, Some(tx), id, 100 + n, 1);
        if n % 3 == 0 {
            e.space_mut(id)
                .unwrap()
                .delete_in(Some(tx), &[Value::Uint(100 + n / 2)])
                .unwrap();
        }
        tickets.push(e.commit_async(tx).unwrap());
    }
    assert!(matches!(
        e.ticket_state(tickets[0]).unwrap(),
        TicketState::Waiting
    ));
    assert!(matches!(
        e.ticket_state(tickets[1]).unwrap(),
        TicketState::Queued
    ));
    assert_eq!(v_of(&e, id, 1), Some(50), "prepared changes are visible");
    // A reader that saw prepared data: the cascade ends it too.
    let reader = e.begin().unwrap();
    errinj::set("WAL_WRITE", 1).unwrap();
    errinj::set("WAL_DELAY", 0).unwrap();
    for (n, &t) in tickets.iter().enumerate() {
        let r = e.wait_ticket(t);
        match n {
            0 => assert!(matches!(r, Err(Error::WalIo(_))), "{r:?}"),
            _ => assert!(matches!(r, Err(Error::CascadeRollback(_))), "{n}: {r:?}"),
        }
    }
    assert!(matches!(e.commit(reader), Err(Error::CascadeRollback(_))));
    assert_eq!(contents(&mut e), before, "as if none of them had happened");
    // The WAL accepts writes again, and reopening shows exactly the committed data.
    errinj::set("WAL_WRITE", 0).unwrap();
    put(&mut e, None, id, 1, 77);
    let after = contents(&mut e);
    drop(e);
    let mut e = open(&d, 1);
    assert_eq!(contents(&mut e), after);
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

/// Commit numbers keep their outcome after later failures and successes: nothing is stored
/// per commit, so the state is worked out from where the number stands.
#[test]
fn commit_outcomes_stay_known_across_failures() {
    let d = dir("numbers");
    let mut e = open(&d, 1);
    let id = test_space(&mut e);
    let commit = |e: &mut Engine, k: u64| {
        let tx = e.begin().unwrap();
        put(e, Some(tx), id, k, 0);
        e.commit_async(tx).unwrap()
    };
    let fail_next = |e: &mut Engine, keys: &[u64]| -> Vec<u64> {
        errinj::set("WAL_DELAY", 1).unwrap();
        let ns: Vec<u64> = keys.iter().map(|&k| commit(e, k)).collect();
        errinj::set("WAL_WRITE", 1).unwrap();
        errinj::set("WAL_DELAY", 0).unwrap();
        let _ = e.wait_ticket(*ns.last().unwrap());
        errinj::set("WAL_WRITE", 0).unwrap();
        ns
    };
    let first = fail_next(&mut e, &[1, 2, 3]);
    let ok = commit(&mut e, 4);
    e.wait_ticket(ok).unwrap();
    let second = fail_next(&mut e, &[5, 6]);
    let last = commit(&mut e, 7);
    e.wait_ticket(last).unwrap();
    let name = |e: &mut Engine, n: u64| match e.ticket_state(n).unwrap() {
        TicketState::RolledBack(Error::WalIo(_)) => "wal_io",
        TicketState::RolledBack(Error::CascadeRollback(_)) => "cascade",
        TicketState::Committed => "committed",
        s => panic!("{n}: {s:?}"),
    };
    let all: Vec<&str> = [first.clone(), vec![ok], second.clone(), vec![last]]
        .concat()
        .into_iter()
        .map(|n| name(&mut e, n))
        .collect();
    assert_eq!(
        all,
        [
            "wal_io",
            "cascade",
            "cascade",
            "committed",
            "wal_io",
            "cascade",
            "committed"
        ]
    );
    assert!(matches!(e.ticket_state(last + 1), Err(Error::BadHandle(_))));
    assert!(matches!(e.wait_ticket(last + 5), Err(Error::BadHandle(_))));
    assert!(matches!(e.ticket_state(0), Ok(TicketState::Committed)));
    let keys: Vec<bool> = (1..=7).map(|k| v_of(&e, id, k).is_some()).collect();
    assert_eq!(keys, [false, false, false, true, false, false, true]);
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

fn v_of(e: &Engine, id: SpaceId, k: u64) -> Option<i64> {
    get(e, id, &[Value::Uint(k)]).map(|t| match t.field(2) {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("unexpected {other:?}"),
    })
}

#[test]
fn commits_through_the_wal_fail_cleanly_at_every_allocation() {
    let d = dir("sweep");
    let mut e = open(&d, 1 << 20);
    let id = test_space(&mut e);
    for i in 0..20 {
        put(&mut e, None, id, i, 0);
    }
    // A failed commit rolls its transaction back and changes nothing else; the same
    // transaction is made again for the next try.
    sweep_commit(&mut e, id, &[None], |e| {
        let tx = e.begin().unwrap();
        put(e, Some(tx), id, 1, 11);
        put(e, Some(tx), id, 100, 1);
        e.space_mut(id)
            .unwrap()
            .delete_in(Some(tx), &[Value::Uint(2)])
            .unwrap();
        tx
    });
    // An autocommit statement is a transaction of its own: a failure leaves nothing.
    sweep(&mut e, id, &[None], "autocommit", |e| {
        e.statement(None, |e, t| {
            e.space_mut(id)?.replace_in(t, &row(3, "n", 33)).map(drop)
        })
    });
    let after = contents(&mut e);
    drop(e);
    let mut e = open(&d, 1 << 20);
    assert_eq!(
        contents(&mut e),
        after,
        "the log holds exactly what was committed"
    );
    assert_eq!(v_of(&e, id, 1), Some(11));
    assert_eq!(v_of(&e, id, 2), None);
    assert_eq!(v_of(&e, id, 3), Some(33));
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

/// Property: for random workloads (transactions of random replaces and deletes over a few keys,
/// random queue sizes, a random committed prefix, readers left open), a failed write ends
/// with the data — every index — exactly as a model that applied only the committed prefix,
/// before and after reopening; the outcomes are `WAL_IO` for the failed group (at least the
/// first waiting commit) then `CASCADE_ROLLBACK` for every later one, never mixed.
#[test]
fn rollback_order_property() {
    let rng = std::cell::Cell::new(0x9e37_79b9_7f4a_7c15u64);
    let next = |n: u64| {
        let mut x = rng.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rng.set(x);
        x % n
    };
    for case in 0..30 {
        let d = dir(&format!("prop-{case}"));
        let queue = [1, 200, 1 << 20][next(3) as usize];
        let mut e = open(&d, queue);
        let mut model = engine(64 << 20);
        let id = test_space(&mut e);
        let mid = test_space(&mut model);
        let txn = |e: &mut Engine, tx: Option<u64>, id: SpaceId, ops: &[(bool, u64, i64)]| {
            e.statement(tx, |e, t| {
                for &(del, k, v) in ops {
                    let sp = e.space_mut(id)?;
                    if del {
                        sp.delete_in(t, &[Value::Uint(k)])?;
                    } else {
                        sp.replace_in(t, &row(k, ["a", "b", "c"][(v % 3) as usize], v))?;
                    }
                }
                Ok(())
            })
        };
        let random_ops = || -> Vec<(bool, u64, i64)> {
            (0..1 + next(4))
                .map(|_| (next(4) == 0, next(12), next(1000) as i64))
                .collect()
        };
        // A committed prefix, also applied to the model.
        for _ in 0..next(20) {
            let ops = random_ops();
            txn(&mut e, None, id, &ops).unwrap();
            txn(&mut model, None, mid, &ops).unwrap();
        }
        errinj::set("WAL_DELAY", 1).unwrap();
        let mut tickets = vec![];
        let mut readers = vec![];
        for _ in 0..1 + next(40) {
            let ops = random_ops();
            let tx = e.begin().unwrap();
            txn(&mut e, Some(tx), id, &ops).unwrap();
            tickets.push(e.commit_async(tx).unwrap());
            if next(8) == 0 {
                readers.push(e.begin().unwrap());
            }
        }
        errinj::set("WAL_WRITE", 1).unwrap();
        errinj::set("WAL_DELAY", 0).unwrap();
        let outcomes: Vec<&str> = tickets
            .iter()
            .map(|&t| match e.wait_ticket(t) {
                Err(Error::WalIo(_)) => "wal_io",
                Err(Error::CascadeRollback(_)) => "cascade",
                other => panic!("case {case}: {other:?}"),
            })
            .collect();
        errinj::set("WAL_WRITE", 0).unwrap();
        let failed = outcomes.iter().take_while(|&&o| o == "wal_io").count();
        assert!(failed >= 1, "case {case}: {outcomes:?}");
        assert!(
            outcomes[failed..].iter().all(|&o| o == "cascade"),
            "case {case}: {outcomes:?}"
        );
        for r in readers {
            assert!(matches!(e.commit(r), Err(Error::CascadeRollback(_))));
        }
        let want = contents(&mut model);
        assert_eq!(contents(&mut e), want, "case {case}: as the model");
        drop(e);
        let mut e = open(&d, queue);
        assert_eq!(contents(&mut e), want, "case {case}: reopened");
        drop(e);
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// A changed format is logged: reopening from the WAL, and from a snapshot taken after it,
/// gives the new names and types; a format the data does not fit is refused and not logged.
#[test]
fn a_new_format_survives_reopening_from_the_wal_and_a_snapshot() {
    use jitbox::engine::key::FieldType;
    let d = dir("format");
    let names = |e: &Engine| {
        let id = e.find_space("test").unwrap();
        e.space(id)
            .unwrap()
            .format
            .iter()
            .map(|f| format!("{}:{}:{}", f.name, f.ty.name(), f.nullable))
            .collect::<Vec<_>>()
    };
    let want = {
        let mut e = open(&d, 1 << 20);
        let id = test_space(&mut e);
        put(&mut e, None, id, 1, -1);
        let mut f = format(&[
            ("key", FieldType::Unsigned),
            ("label", FieldType::String),
            ("v", FieldType::Integer),
        ]);
        f[2].nullable = true;
        e.set_format(id, f).unwrap();
        let unsigned = format(&[
            ("key", FieldType::Unsigned),
            ("label", FieldType::String),
            ("v", FieldType::Unsigned),
        ]);
        assert!(matches!(
            e.set_format(id, unsigned),
            Err(Error::FieldType(_))
        ));
        let tx = e.begin().unwrap();
        assert!(matches!(e.set_format(id, vec![]), Err(Error::Busy(_))));
        e.rollback(tx).unwrap();
        e.flush_wal();
        names(&e)
    };
    assert_eq!(
        want,
        ["key:unsigned:false", "label:string:false", "v:integer:true"]
    );
    let mut e = open(&d, 1 << 20);
    assert_eq!(names(&e), want);
    e.snapshot().unwrap();
    drop(e);
    let e = open(&d, 1 << 20);
    assert_eq!(names(&e), want);
    assert!(e.recovery.warnings.is_empty());
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

/// A HASH index stays one across reopening from the WAL and from a snapshot: it keeps its
/// kind and so its rules (whole keys, EQ, ALL and GT).
#[test]
fn a_hash_index_survives_reopening_as_a_hash_index() {
    use jitbox::engine::index::IndexKind;
    use jitbox::engine::iter::IterType;
    use jitbox::engine::key::FieldType;
    let d = dir("hash");
    {
        let mut e = open(&d, 1 << 20);
        let id = e.create_space("h", vec![]).unwrap();
        let parts = vec![part(0, FieldType::Unsigned)];
        assert!(matches!(
            e.create_index_of(id, "pk", parts.clone(), false, IndexKind::Hash),
            Err(Error::IllegalParams(m)) if m.contains("must be unique")
        ));
        e.create_index_of(id, "pk", parts, true, IndexKind::Hash)
            .unwrap();
        put(&mut e, None, id, 1, 1);
        e.flush_wal();
    }
    for snapshot in [false, true] {
        let mut e = open(&d, 1 << 20);
        let id = e.find_space("h").unwrap();
        let idx = &e.space(id).unwrap().indexes[0];
        assert_eq!(idx.kind, IndexKind::Hash, "after a snapshot: {snapshot}");
        assert!(
            idx.check_iteration(IterType::Eq, &[Value::Uint(1)], "h")
                .is_ok()
        );
        assert!(matches!(
            idx.check_iteration(IterType::Ge, &[Value::Uint(1)], "h"),
            Err(Error::IllegalParams(m)) if m.contains("iterator GE")
        ));
        e.snapshot().unwrap();
    }
    let _ = std::fs::remove_dir_all(&d);
}
