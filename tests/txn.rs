//! Transactions and MVCC through the Rust API: snapshot isolation (no dirty read, no
//! non-repeatable read, no lost update), first committer wins, rollback, garbage collection
//! of old versions, and a randomized test of interleaved transactions against a model.

mod common;

use common::native::*;
use jitbox::engine::iter::IterType;
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, SpaceId};
use jitbox::error::Error;
use std::collections::BTreeMap;

fn v_of(e: &Engine, txn: Option<u64>, id: SpaceId, k: u64) -> Option<i64> {
    get_in(e, txn, id, &[Value::Uint(k)]).map(|t| match t.field(2) {
        Value::Uint(u) => u as i64,
        Value::Int(i) => i,
        other => panic!("unexpected {other:?}"),
    })
}

fn setup() -> (Engine, SpaceId) {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    for i in 1..=3 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64 * 10))
            .unwrap();
    }
    (e, id)
}

#[test]
fn a_transaction_reads_its_snapshot_and_its_own_writes() {
    let (mut e, id) = setup();
    let t1 = e.begin().unwrap();
    // Committed after t1 began: invisible to t1, visible to everyone else.
    e.space_mut(id).unwrap().replace(&row(1, "n", 11)).unwrap();
    e.space_mut(id).unwrap().insert(&row(4, "n", 40)).unwrap();
    assert_eq!(v_of(&e, Some(t1), id, 1), Some(10), "repeatable read");
    assert_eq!(v_of(&e, Some(t1), id, 4), None);
    assert_eq!(v_of(&e, None, id, 1), Some(11));
    // t1's own writes: visible to t1 only until it commits.
    e.space_mut(id)
        .unwrap()
        .replace_in(Some(t1), &row(2, "m", 21))
        .unwrap();
    e.space_mut(id)
        .unwrap()
        .delete_in(Some(t1), &[Value::Uint(3)])
        .unwrap();
    assert_eq!(v_of(&e, Some(t1), id, 2), Some(21));
    assert_eq!(v_of(&e, Some(t1), id, 3), None);
    assert_eq!(v_of(&e, None, id, 2), Some(20), "no dirty read");
    assert_eq!(v_of(&e, None, id, 3), Some(30), "no dirty read");
    // Iterators see the same: t1's snapshot plus its writes, in index order.
    let ids = |rows: Vec<Vec<Owned>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(
        ids(scan_in(&e, Some(t1), id, 0, IterType::All, &[])),
        vec![Owned::Uint(1), Owned::Uint(2)]
    );
    assert_eq!(
        ids(scan_in(
            &e,
            Some(t1),
            id,
            1,
            IterType::Eq,
            &[Value::Str(b"m")]
        )),
        vec![Owned::Uint(2)]
    );
    assert_eq!(
        scan_in(&e, None, id, 1, IterType::Eq, &[Value::Str(b"m")]).len(),
        0
    );
    e.commit(t1).unwrap();
    assert_eq!(v_of(&e, None, id, 2), Some(21));
    assert_eq!(v_of(&e, None, id, 3), None);
    assert_eq!(
        ids(scan(&e, id, 0, IterType::All, &[])),
        vec![Owned::Uint(1), Owned::Uint(2), Owned::Uint(4)]
    );
}

#[test]
fn first_committer_wins_and_the_loser_leaves_nothing() {
    let (mut e, id) = setup();
    // Lost update: both read 10 and write 10 + 1.
    let (t1, t2) = (e.begin().unwrap(), e.begin().unwrap());
    for t in [t1, t2] {
        let v = v_of(&e, Some(t), id, 1).unwrap();
        e.space_mut(id)
            .unwrap()
            .replace_in(Some(t), &row(1, "n", v + 1))
            .unwrap();
    }
    e.commit(t1).unwrap();
    assert!(matches!(e.commit(t2), Err(Error::Conflict(m)) if m.contains("[1]")));
    assert_eq!(v_of(&e, None, id, 1), Some(11), "no lost update");
    assert!(e.commit(t2).is_err(), "the loser is gone");
    // Insert-insert of one new key.
    let (t3, t4) = (e.begin().unwrap(), e.begin().unwrap());
    e.space_mut(id)
        .unwrap()
        .insert_in(Some(t3), &row(9, "a", 1))
        .unwrap();
    e.space_mut(id)
        .unwrap()
        .insert_in(Some(t4), &row(9, "b", 2))
        .unwrap();
    e.commit(t4).unwrap();
    assert!(matches!(e.commit(t3), Err(Error::Conflict(_))));
    assert_eq!(v_of(&e, None, id, 9), Some(2));
    // A write to a key committed after the snapshot fails at once.
    let t5 = e.begin().unwrap();
    e.space_mut(id).unwrap().replace(&row(2, "n", 22)).unwrap();
    assert!(matches!(
        e.space_mut(id)
            .unwrap()
            .replace_in(Some(t5), &row(2, "n", 23)),
        Err(Error::Conflict(_))
    ));
    e.rollback(t5).unwrap();
    ensure_collected(&mut e, id, 4);
}

#[test]
fn rollback_restores_every_index_and_collection_frees_every_version() {
    let (mut e, id) = setup();
    let before = scan_all(&e, id);
    let t = e.begin().unwrap();
    let sp = e.space_mut(id).unwrap();
    sp.insert_in(Some(t), &row(7, "x", 70)).unwrap();
    sp.replace_in(Some(t), &row(7, "y", 71)).unwrap(); // its own insert, replaced
    sp.replace_in(Some(t), &row(1, "z", 12)).unwrap();
    sp.delete_in(Some(t), &[Value::Uint(2)]).unwrap();
    assert!(matches!(
        sp.insert_in(Some(t), &row(3, "q", 0)),
        Err(Error::TupleFound(_))
    ));
    e.rollback(t).unwrap();
    assert_eq!(scan_all(&e, id), before);
    ensure_collected(&mut e, id, 3);
    // Versions kept for an old reader go once it ends.
    let reader = e.begin().unwrap();
    for i in 0..100 {
        e.space_mut(id).unwrap().replace(&row(1, "n", i)).unwrap();
    }
    assert_eq!(v_of(&e, Some(reader), id, 1), Some(10));
    assert!(
        e.space(id).unwrap().indexes[0].len() > 100,
        "old versions kept for the reader"
    );
    e.commit(reader).unwrap();
    ensure_collected(&mut e, id, 3);
    assert_eq!(v_of(&e, None, id, 1), Some(99));
}

#[test]
fn old_versions_stay_exactly_as_long_as_the_oldest_reader_needs_them() {
    let (mut e, id) = setup();
    // Reader i sees version 100 + i of key 1; every version but the last is replaced later.
    let readers: Vec<u64> = (0..20)
        .map(|i| {
            e.space_mut(id)
                .unwrap()
                .replace(&row(1, "n", 100 + i))
                .unwrap();
            e.begin().unwrap()
        })
        .collect();
    e.space_mut(id).unwrap().replace(&row(1, "n", 999)).unwrap();
    let mut open: Vec<usize> = (0..20).collect();
    // End them out of order; after each, collect all that may go and check what stayed.
    for k in 0..20 {
        let i = (k * 7) % 20;
        e.commit(readers[i]).unwrap();
        open.retain(|&j| j != i);
        while e.collect(usize::MAX, true) > 0 {}
        for &j in &open {
            assert_eq!(v_of(&e, Some(readers[j]), id, 1), Some(100 + j as i64));
        }
        // Versions replaced after the oldest open snapshot stay; older ones went.
        let kept = open.iter().min().map_or(0, |&m| 20 - m);
        assert_eq!(
            e.space(id).unwrap().indexes[0].len(),
            3 + kept,
            "after reader {i} ended"
        );
    }
    ensure_collected(&mut e, id, 3);
    assert_eq!(v_of(&e, None, id, 1), Some(999));
}

#[test]
fn the_end_of_the_oldest_reader_frees_at_once_what_nobody_needs() {
    let (mut e, id) = setup();
    let oldest = e.begin().unwrap();
    for i in 0..500 {
        let sp = e.space_mut(id).unwrap();
        sp.replace(&row(1 + i % 3, "n", i as i64)).unwrap();
        e.after_write();
    }
    let newer = e.begin().unwrap();
    for i in 0..500 {
        let sp = e.space_mut(id).unwrap();
        sp.replace(&row(1 + i % 3, "n", i as i64)).unwrap();
        e.after_write();
    }
    // Nothing collectable while the oldest reader may look.
    assert!(e.space(id).unwrap().indexes[0].len() > 1000);
    e.commit(newer).unwrap();
    assert!(
        e.space(id).unwrap().indexes[0].len() > 1000,
        "the oldest still looks"
    );
    // Its end frees every version at once: no later write, no explicit collection.
    e.rollback(oldest).unwrap();
    assert_eq!(e.space(id).unwrap().indexes[0].len(), 3);
    assert_eq!(e.mvcc().story_count(), 0);
    assert!(e.mvcc().quiet());
}

#[test]
fn a_bulk_commit_frees_what_it_replaced_at_once() {
    let (mut e, id) = setup();
    for k in 10..5010 {
        e.space_mut(id).unwrap().insert(&row(k, "n", 0)).unwrap();
    }
    let t = e.begin().unwrap();
    for k in 10..5010 {
        let sp = e.space_mut(id).unwrap();
        sp.replace_in(Some(t), &row(k, "n", 1)).unwrap();
    }
    assert_eq!(e.space(id).unwrap().indexes[0].len(), 5003 + 5000);
    e.commit(t).unwrap();
    // No reader needs the replaced versions: gone with the commit, before any other write.
    assert_eq!(e.space(id).unwrap().indexes[0].len(), 5003);
    assert_eq!(e.mvcc().story_count(), 0);
    assert!(e.mvcc().quiet(), "writes go in place again");
    assert_eq!(v_of(&e, None, id, 4000), Some(1));
}

#[test]
fn deleted_rows_and_finished_transactions_give_their_memory_back() {
    let (mut e, id) = setup();
    let base = e.quota().used();
    let mut after = vec![];
    for round in 0..4 {
        // Rows inserted and deleted in transactions, then autocommit: nothing stays charged
        // for them (index blocks, version records, queues, logs), round after round.
        let t = e.begin().unwrap();
        for k in 10..20_010 {
            let sp = e.space_mut(id).unwrap();
            sp.replace_in(Some(t), &row(k, "n", round)).unwrap();
        }
        e.commit(t).unwrap();
        let t = e.begin().unwrap();
        for k in 10..20_010 {
            e.space_mut(id)
                .unwrap()
                .delete_in(Some(t), &[Value::Uint(k)])
                .unwrap();
        }
        e.commit(t).unwrap();
        for k in 10..20_010 {
            e.space_mut(id).unwrap().insert(&row(k, "n", 0)).unwrap();
        }
        for k in 10..20_010 {
            e.space_mut(id).unwrap().delete(&[Value::Uint(k)]).unwrap();
            e.after_write();
        }
        after.push(e.quota().used());
    }
    assert_eq!(e.space(id).unwrap().len(), 3);
    assert!(
        after[0] <= base + (1 << 20),
        "{} bytes kept of {base}",
        after[0]
    );
    assert!(
        after.iter().all(|&u| u <= after[0] + (64 << 10)),
        "memory kept grows: {after:?}"
    );
}

#[test]
fn ddl_waits_for_open_transactions() {
    let (mut e, id) = setup();
    let t = e.begin().unwrap();
    e.space_mut(id)
        .unwrap()
        .replace_in(Some(t), &row(1, "n", 1))
        .unwrap();
    let part = part(2, jitbox::engine::key::FieldType::Integer);
    assert!(
        matches!(e.create_index(id, "by_v", vec![part], false), Err(Error::Busy(m)) if m.contains("1 transaction"))
    );
    assert!(matches!(e.drop_space(id), Err(Error::Busy(_))));
    e.commit(t).unwrap();
    e.create_index(id, "by_v", vec![part], false).unwrap();
    assert_eq!(scan(&e, id, 2, IterType::All, &[]).len(), 3);
}

fn scan_all(e: &Engine, id: SpaceId) -> Vec<Vec<Vec<Owned>>> {
    (0..e.space(id).unwrap().indexes.len())
        .map(|i| scan(e, id, i, IterType::All, &[]))
        .collect()
}

/// With no transaction open, garbage collection leaves exactly the live rows and no story.
fn ensure_collected(e: &mut Engine, id: SpaceId, rows: usize) {
    assert_eq!(e.mvcc().open_count(), 0);
    while e.collect(usize::MAX, true) > 0 {}
    assert_eq!(e.mvcc().story_count(), 0, "stories left");
    for idx in &e.space(id).unwrap().indexes {
        assert_eq!(idx.len(), rows, "entries of index '{}'", idx.name);
        idx.check().unwrap();
    }
}

#[test]
fn interleaved_transactions_match_a_model() {
    let mut e = engine(256 << 20);
    let id = test_space(&mut e);
    // The committed state, and when each key was last written by a commit (a step number).
    let mut committed: BTreeMap<u64, i64> = BTreeMap::new();
    let mut written: BTreeMap<u64, i64> = BTreeMap::new();
    struct Open {
        id: u64,
        began: i64,
        snap: BTreeMap<u64, i64>,
        writes: BTreeMap<u64, Option<i64>>,
    }
    impl Open {
        fn get(&self, k: u64) -> Option<i64> {
            match self.writes.get(&k) {
                Some(w) => *w,
                None => self.snap.get(&k).copied(),
            }
        }
    }
    let mut open: Vec<Open> = vec![];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let (mut conflicts, mut commits) = (0, 0);
    for step in 0..20_000i64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x % 40;
        let pick = (x >> 8) as usize;
        let changed_since = |written: &BTreeMap<u64, i64>, k: &u64, began: i64| {
            written.get(k).is_some_and(|&w| w >= began)
        };
        match (x >> 16) % 10 {
            0 if open.len() < 5 => {
                let t = e.begin().unwrap();
                open.push(Open {
                    id: t,
                    began: step,
                    snap: committed.clone(),
                    writes: BTreeMap::new(),
                });
            }
            1 | 2 if !open.is_empty() => {
                let o = open.remove(pick % open.len());
                let lost = o.writes.keys().any(|k| changed_since(&written, k, o.began));
                match e.commit(o.id) {
                    Ok(()) => {
                        assert!(!lost, "commit of {} should conflict", o.id);
                        commits += 1;
                        for (k, v) in o.writes {
                            written.insert(k, step);
                            match v {
                                Some(v) => committed.insert(k, v),
                                None => committed.remove(&k),
                            };
                        }
                    }
                    Err(Error::Conflict(_)) => {
                        assert!(lost, "unexpected conflict for {}", o.id);
                        conflicts += 1;
                    }
                    Err(other) => panic!("commit: {other:?}"),
                }
            }
            3 if !open.is_empty() => {
                let o = open.remove(pick % open.len());
                e.rollback(o.id).unwrap();
            }
            _ => {
                // A write, in an open transaction or autocommit.
                let which =
                    (!open.is_empty() && !pick.is_multiple_of(3)).then(|| pick % open.len());
                let txn = which.map(|w| open[w].id);
                let seen = match which {
                    Some(w) => open[w].get(k),
                    None => committed.get(&k).copied(),
                };
                let delete = x.is_multiple_of(3);
                let sp = e.space_mut(id).unwrap();
                let r = if delete {
                    sp.delete_in(txn, &[Value::Uint(k)]).map(|_| None)
                } else {
                    sp.replace_in(txn, &row(k, "n", step)).map(|_| Some(step))
                };
                // Deleting what the writer does not see writes nothing.
                let writes = !(delete && seen.is_none());
                match (r, which) {
                    (Ok(v), None) => {
                        if writes {
                            written.insert(k, step);
                            match v {
                                Some(v) => committed.insert(k, v),
                                None => committed.remove(&k),
                            };
                        }
                    }
                    (Ok(v), Some(w)) => {
                        if writes {
                            open[w].writes.insert(k, v);
                        }
                    }
                    (Err(Error::Conflict(_)), Some(w)) => {
                        assert!(
                            changed_since(&written, &k, open[w].began),
                            "write conflict on {k}"
                        );
                        let o = open.remove(w);
                        e.rollback(o.id).unwrap();
                    }
                    (r, _) => panic!("write: {r:?}"),
                }
            }
        }
        // Every reader sees exactly its model.
        if step % 50 == 0 {
            let rows = |e: &Engine, txn| {
                scan_in(e, txn, id, 0, IterType::All, &[])
                    .into_iter()
                    .map(|r| match (&r[0], &r[2]) {
                        (Owned::Uint(k), Owned::Uint(v)) => (*k, *v as i64),
                        (Owned::Uint(k), Owned::Int(v)) => (*k, *v),
                        other => panic!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                rows(&e, None),
                committed.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>()
            );
            assert_eq!(e.space_len(id, None).unwrap(), committed.len(), "len");
            assert_eq!(
                count(&e, id, 1, IterType::All, &[]),
                committed.len(),
                "count"
            );
            assert_eq!(e.space(id).unwrap().len(), committed.len(), "Space::len");
            assert_eq!(e.tuple_count(), committed.len() as u64, "tuple_count");
            for o in &open {
                let want: Vec<(u64, i64)> =
                    (0..40).filter_map(|k| o.get(k).map(|v| (k, v))).collect();
                assert_eq!(rows(&e, Some(o.id)), want, "txn {}", o.id);
                assert_eq!(
                    e.space_len(id, Some(o.id)).unwrap(),
                    want.len(),
                    "len in txn {}",
                    o.id
                );
                for index in [0, 1] {
                    let n = count_in(&e, Some(o.id), id, index, IterType::All, &[]);
                    assert_eq!(n, want.len(), "count of index {index} in txn {}", o.id);
                }
                assert_eq!(v_of(&e, Some(o.id), id, k), o.get(k));
                assert_eq!(
                    scan_in(&e, Some(o.id), id, 1, IterType::Eq, &[Value::Str(b"n")]).len(),
                    want.len(),
                    "secondary index in txn {}",
                    o.id
                );
            }
        }
    }
    assert!(
        conflicts > 0 && commits > conflicts,
        "{commits} commits, {conflicts} conflicts"
    );
    for o in open.drain(..) {
        e.rollback(o.id).unwrap();
    }
    ensure_collected(&mut e, id, committed.len());
}

#[test]
fn transactions_fail_cleanly_at_every_allocation() {
    let mut e = engine(256 << 20);
    let id = test_space(&mut e);
    e.create_index(
        id,
        "uniq_v",
        vec![part(2, jitbox::engine::key::FieldType::Integer)],
        true,
    )
    .unwrap();
    for k in 0..200u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(k, "n", k as i64))
            .unwrap();
    }
    let quota = e.quota().clone();
    let mut reader = e.begin().unwrap(); // keeps old versions alive across rounds
    for round in 0..40u64 {
        let t = swept_begin(&mut e, id);
        let views = [None, Some(t), Some(reader)];
        for j in 0..4u64 {
            let k = (round * 7 + j * 13) % 230; // some keys beyond 200: inserts
            let name = format!("r{round}");
            sweep(&mut e, id, &views, "replace in a transaction", |e| {
                e.space_mut(id)?
                    .replace_in(Some(t), &row(k, &name, k as i64))
                    .map(drop)
            });
            let d = (round * 11 + j * 5 + 3) % 200;
            sweep(&mut e, id, &views, "delete in a transaction", |e| {
                e.space_mut(id)?
                    .delete_in(Some(t), &[Value::Uint(d)])
                    .map(drop)
            });
            let a = 230 + (round * 4 + j) % 40; // autocommit, other keys, while t is open
            sweep(&mut e, id, &views, "autocommit replace", |e| {
                e.space_mut(id)?
                    .replace(&row(a, "auto", a as i64))
                    .map(drop)
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
                for j in 0..4u64 {
                    let k = (round * 7 + j * 13) % 230;
                    let name = format!("r{round}");
                    let sp = e.space_mut(id).unwrap();
                    sp.replace_in(Some(t), &row(k, &name, k as i64)).unwrap();
                    let d = (round * 11 + j * 5 + 3) % 200;
                    sp.delete_in(Some(t), &[Value::Uint(d)]).unwrap();
                }
                t
            });
        }
        if round % 10 == 9 {
            e.commit(reader).unwrap();
            reader = e.begin().unwrap();
        }
    }
    e.rollback(reader).unwrap();
    while e.collect(usize::MAX, true) > 0 {}
    assert_eq!(e.mvcc().story_count(), 0);
    let pk_len = e.space(id).unwrap().indexes[0].len();
    for idx in &e.space(id).unwrap().indexes {
        idx.check().unwrap();
        assert_eq!(idx.len(), pk_len, "index '{}'", idx.name);
    }
    drop(e);
    assert_eq!(quota.used(), 0, "memory accounting leaked");
}

/// A caller may name its transactions (the C boundary names each by its handle): an id in
/// use, or 0, is refused and changes nothing; an ended transaction's id is free again.
#[test]
fn a_transaction_named_by_its_caller_gets_a_new_id_or_an_error() {
    let (mut e, id) = setup();
    let named = 1 << 50;
    assert_eq!(e.begin_as(named).unwrap(), named);
    for bad in [named, 0] {
        let r = e.begin_as(bad);
        assert!(matches!(r, Err(Error::IllegalParams(_))), "{r:?}");
    }
    assert_eq!(e.mvcc().open_count(), 1);
    e.space_mut(id).unwrap().replace(&row(1, "n", 12)).unwrap();
    assert_eq!(
        v_of(&e, Some(named), id, 1),
        Some(10),
        "its snapshot, as any transaction"
    );
    // Ids `begin` picks do not meet it.
    let own = e.begin().unwrap();
    assert_ne!(own, named);
    e.rollback(named).unwrap();
    e.rollback(own).unwrap();
    assert_eq!(e.begin_as(named).unwrap(), named);
    e.commit(named).unwrap();
}

#[test]
fn a_conflict_in_a_statement_dooms_its_transaction_until_rolled_back() {
    let (mut e, id) = setup();
    // A transfer: debit 1, then credit 2 — which another transaction changed meanwhile.
    let t = e.begin().unwrap();
    e.statement(Some(t), |e, t| {
        e.space_mut(id)?.replace_in(t, &row(1, "n", 0)).map(drop)
    })
    .unwrap();
    e.space_mut(id).unwrap().replace(&row(2, "n", 99)).unwrap();
    let credit = e.statement(Some(t), |e, t| {
        e.space_mut(id)?.replace_in(t, &row(2, "n", 40)).map(drop)
    });
    assert!(matches!(credit, Err(Error::Conflict(_))), "{credit:?}");
    // Doomed: every later statement, every read and the commit fail with the same code.
    let later = e.statement(Some(t), |e, t| {
        e.space_mut(id)?.replace_in(t, &row(3, "n", 0)).map(drop)
    });
    assert!(
        matches!(&later, Err(Error::Conflict(m)) if m.contains("rolled back after a conflict")),
        "{later:?}"
    );
    assert!(matches!(e.view(Some(t)), Err(Error::Conflict(_))));
    assert!(matches!(e.commit(t), Err(Error::Conflict(_))));
    // The debit never committed; the commit ended the transaction.
    assert_eq!(v_of(&e, None, id, 1), Some(10));
    assert_eq!(v_of(&e, None, id, 3), Some(30));
    assert_eq!(e.mvcc().open_count(), 0);
    assert!(matches!(e.rollback(t), Err(Error::IllegalParams(_))));
    // Rolled back instead of committed: the rollback ends it quietly.
    let t = e.begin().unwrap();
    e.space_mut(id).unwrap().replace(&row(3, "n", 31)).unwrap();
    let r = e.statement(Some(t), |e, t| {
        e.space_mut(id)?.replace_in(t, &row(3, "n", 32)).map(drop)
    });
    assert!(matches!(r, Err(Error::Conflict(_))));
    e.rollback(t).unwrap();
    assert!(matches!(e.commit(t), Err(Error::IllegalParams(_))));
    ensure_collected(&mut e, id, 3);
}

#[test]
fn a_commit_without_memory_to_prepare_it_ends_its_transaction() {
    let (mut e, id) = setup();
    let t = e.begin().unwrap();
    for k in 10..20 {
        e.statement(Some(t), |e, t| {
            e.space_mut(id)?.replace_in(t, &row(k, "n", 0)).map(drop)
        })
        .unwrap();
    }
    jitbox::mem::errinj::set("ALLOC_FAIL_AFTER", 0).unwrap();
    let r = e.commit(t);
    jitbox::mem::errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
    assert!(matches!(r, Err(Error::Memory(_))), "{r:?}");
    assert_eq!(e.mvcc().open_count(), 0, "no transaction is left open");
    assert_eq!(v_of(&e, None, id, 10), None, "and nothing of it committed");
    ensure_collected(&mut e, id, 3);
}

#[test]
fn an_iterator_returns_the_row_it_is_on_once_whatever_replaces_it() {
    use jitbox::engine::iter::{IterPos, Vis};
    let (mut e, id) = setup();
    for i in 4..=50u64 {
        e.space_mut(id)
            .unwrap()
            .insert(&row(i, "n", i as i64))
            .unwrap();
    }
    let reader = e.begin().unwrap(); // keeps every old version in the index
    for batch in [1usize, 7] {
        let mut it = IterPos::new(IterType::All, &[], e.quota()).unwrap();
        let mut seen = vec![];
        loop {
            let got: Vec<u64> = {
                let mvcc = e.mvcc();
                let view = mvcc.view(None).unwrap();
                let vis = Vis {
                    view: &view,
                    mvcc: &mvcc,
                };
                let index = &e.space(id).unwrap().indexes[0];
                let mut got = vec![];
                it.next_batch(index, vis, batch, |t| {
                    got.push(match t.field(0) {
                        Value::Uint(u) => u,
                        other => panic!("{other:?}"),
                    });
                    Ok(true)
                })
                .unwrap();
                got
            };
            if got.is_empty() {
                break;
            }
            // Replace each returned row (twice: two new versions), as a loop body would.
            for &k in &got {
                for v in [1, 2] {
                    e.space_mut(id).unwrap().replace(&row(k, "r", v)).unwrap();
                }
            }
            seen.extend(got);
        }
        assert_eq!(seen, (1..=50).collect::<Vec<u64>>(), "batches of {batch}");
    }
    e.rollback(reader).unwrap();
}

/// A transaction counts the statements it ran: writes that succeeded, those that found
/// nothing included; a write that failed is not one.
#[test]
fn a_transaction_counts_its_statements() {
    let mut e = engine(64 << 20);
    let id = test_space(&mut e);
    let tx = e.begin().unwrap();
    let count = |e: &Engine| e.mvcc().txn(tx).unwrap().statements;
    assert_eq!(count(&e), 0);
    e.statement(Some(tx), |e, t| {
        e.space_mut(id)?.insert_in(t, &row(1, "a", 1)).map(drop)
    })
    .unwrap();
    e.statement(Some(tx), |e, t| {
        e.space_mut(id)?.delete_in(t, &[Value::Uint(9)]).map(drop)
    })
    .unwrap();
    let dup = e.statement(Some(tx), |e, t| {
        e.space_mut(id)?.insert_in(t, &row(1, "b", 2)).map(drop)
    });
    assert!(matches!(dup, Err(Error::TupleFound(_))));
    assert_eq!(count(&e), 2);
    e.rollback(tx).unwrap();
}
