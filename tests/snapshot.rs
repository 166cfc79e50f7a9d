//! Snapshots through the Rust API: what a snapshot holds (the state when it was requested, not
//! the writes made while it runs), recovery from it plus the WAL after it, old files removed,
//! duplicate requests coalescing, failures (I/O, memory) that leave the engine serving, and
//! damaged snapshot files refused with the file named.

mod common;

use common::native::*;
use jitbox::engine::checkpoint::RunState;
use jitbox::engine::{Engine, Options, SpaceId, WalMode};
use jitbox::error::Error;
use jitbox::mem::errinj;
use std::path::{Path, PathBuf};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jitbox-{}-snap-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn open_with(d: &Path, mode: WalMode, limit: usize) -> jitbox::error::Result<Engine> {
    Engine::open(Options {
        memory_limit: limit,
        dir: Some(d.to_owned()),
        wal_mode: mode,
        ..Options::default()
    })
}

fn open(d: &Path) -> Engine {
    open_with(d, WalMode::Write, 64 << 20).unwrap()
}

fn put(e: &mut Engine, id: SpaceId, i: u64, v: i64) -> jitbox::error::Result<()> {
    e.statement(None, |e, t| {
        e.space_mut(id)?.replace_in(t, &row(i, "n", v)).map(drop)
    })
}

fn contents(e: &mut Engine) -> Vec<Vec<Vec<Vec<Owned>>>> {
    e.flush_wal();
    while e.collect(usize::MAX, true) > 0 {}
    fingerprint(e).0
}

fn files(d: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(ext))
        .collect();
    v.sort();
    v
}

#[test]
fn recovery_loads_the_snapshot_then_the_wal_after_it() {
    let d = dir("recover");
    let want = {
        let mut e = open(&d);
        let id = test_space(&mut e);
        for i in 0..500 {
            put(&mut e, id, i, i as i64).unwrap();
        }
        e.snapshot().unwrap();
        assert_eq!(files(&d, ".snap").len(), 1);
        // Everything up to the snapshot is in it: the WAL files before it are gone.
        assert!(files(&d, ".wal").is_empty(), "{:?}", files(&d, ".wal"));
        for i in 400..600 {
            put(&mut e, id, i, -(i as i64)).unwrap();
        }
        e.statement(None, |e, t| {
            e.space_mut(id)?
                .delete_in(t, &[jitbox::engine::value::Value::Uint(3)])
                .map(drop)
        })
        .unwrap();
        let st = e.snapshot_stats();
        assert_eq!((st.done, st.failed, st.running), (1, 0, false));
        contents(&mut e)
    };
    let mut e = open(&d);
    assert_eq!(contents(&mut e), want);
    // A second snapshot replaces the first and the WAL it covers.
    e.snapshot().unwrap();
    let snaps = files(&d, ".snap");
    assert_eq!(snaps.len(), 1);
    assert!(files(&d, ".wal").is_empty());
    drop(e);
    let mut e = open(&d);
    assert_eq!(contents(&mut e), want);
    assert_eq!(
        e.snapshot_stats().lsn,
        snaps[0][..20].parse::<u64>().unwrap()
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_snapshot_holds_the_state_it_was_requested_in_while_writes_go_on() {
    let d = dir("view");
    let mut e = open(&d);
    let id = test_space(&mut e);
    for i in 0..100 {
        put(&mut e, id, i, 1).unwrap();
    }
    let at_request = contents(&mut e);
    errinj::set("SNAPSHOT_DELAY", 1).unwrap();
    let run = e.snapshot_start().unwrap();
    // Writes go on (and change and delete pinned tuples) while it runs; a second request
    // joins the running one.
    for i in 50..150 {
        put(&mut e, id, i, 2).unwrap();
    }
    let other = e.create_space("later", format(&[])).unwrap();
    assert_eq!(e.snapshot_start().unwrap(), run);
    assert!(matches!(
        e.snapshot_state(run).unwrap(),
        RunState::InProgress
    ));
    assert!(e.snapshot_stats().running);
    errinj::set("SNAPSHOT_DELAY", 0).unwrap();
    e.snapshot_wait(run).unwrap();
    assert!(matches!(e.snapshot_state(run).unwrap(), RunState::Done));
    e.snapshot_release(run);
    e.snapshot_release(run);
    assert!(
        e.snapshot_state(run).is_err(),
        "released runs are forgotten"
    );
    assert_eq!(e.snapshot_stats().done, 1, "two requests, one run");
    let _ = other;
    drop(e);
    // Without the WAL written meanwhile, the snapshot alone holds the state at the request.
    for w in files(&d, ".wal") {
        std::fs::remove_file(d.join(w)).unwrap();
    }
    let mut e = open(&d);
    assert_eq!(contents(&mut e), at_request);
    assert!(e.find_space("later").is_err());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_failed_snapshot_leaves_the_engine_serving_and_nothing_on_disk() {
    let d = dir("fail");
    let mut e = open(&d);
    let id = test_space(&mut e);
    for i in 0..50 {
        put(&mut e, id, i, 1).unwrap();
    }
    let used = e.quota().used();
    errinj::set("SNAPSHOT_IO", 1).unwrap();
    let r = e.snapshot();
    errinj::set("SNAPSHOT_IO", 0).unwrap();
    match r {
        Err(Error::WalIo(m)) => assert!(m.contains("SNAPSHOT_IO"), "{m}"),
        other => panic!("expected WAL_IO, got {other:?}"),
    }
    assert!(files(&d, ".snap").is_empty() && files(&d, ".tmp").is_empty());
    assert_eq!(e.quota().used(), used, "the read view is released");
    assert_eq!(e.snapshot_stats().failed, 1);
    put(&mut e, id, 1000, 5).unwrap();
    // Every allocation of taking the view may fail: MEMORY, nothing pinned or charged.
    for n in 0.. {
        let (raw, used) = fingerprint(&e);
        errinj::set("ALLOC_FAIL_AFTER", n).unwrap();
        let r = e.snapshot_start();
        errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
        match r {
            Err(Error::Memory(_)) => {
                assert_eq!(fingerprint(&e), (raw, used), "failure at allocation {n}");
                assert!(!e.snapshot_stats().running);
            }
            Err(other) => panic!("allocation {n} failed with {other:?}"),
            Ok(run) => {
                e.snapshot_wait(run).unwrap();
                e.snapshot_release(run);
                break;
            }
        }
    }
    let want = contents(&mut e);
    drop(e);
    let mut e = open(&d);
    assert_eq!(contents(&mut e), want);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_write_that_runs_out_of_memory_during_a_snapshot_changes_nothing() {
    let d = dir("oom");
    let limit = 1 << 20;
    let mut e = open_with(&d, WalMode::None, limit).unwrap();
    let id = test_space(&mut e);
    let big = "x".repeat(200);
    let put_big = |e: &mut Engine, i: u64, v: i64| {
        e.statement(None, |e, t| {
            e.space_mut(id)?.replace_in(t, &row(i, &big, v)).map(drop)
        })
    };
    // Tuples fill well over half the quota (index blocks take a few slabs of their own): the
    // snapshot pins them, so rewriting them all needs a second copy that does not fit.
    let mut n = 0;
    while e.quota().used() < limit * 13 / 20 {
        put_big(&mut e, n, 0).unwrap();
        n += 1;
    }
    errinj::set("SNAPSHOT_DELAY", 1).unwrap();
    let run = e.snapshot_start().unwrap();
    let refused = (0..n).find(|&i| match put_big(&mut e, i, 1) {
        Ok(()) => false,
        Err(Error::Memory(_)) => true,
        Err(other) => panic!("{other:?}"),
    });
    let i = refused.expect("memory ran out while the snapshot held its view");
    // The same write, refused again, changes nothing.
    let before = contents(&mut e);
    assert!(matches!(put_big(&mut e, i, 1), Err(Error::Memory(_))));
    assert_eq!(contents(&mut e), before, "a refused write changed nothing");
    errinj::set("SNAPSHOT_DELAY", 0).unwrap();
    e.snapshot_wait(run).unwrap();
    e.snapshot_release(run);
    // The view is released: the write goes through now.
    put_big(&mut e, i, 1).unwrap();
    drop(e);
    // The snapshot holds the state at the request: every v is 0.
    let mut e = open_with(&d, WalMode::None, limit).unwrap();
    let id = e.find_space("test").unwrap();
    let rows = scan(&e, id, 0, jitbox::engine::iter::IterType::All, &[]);
    assert_eq!(rows.len() as u64, n);
    assert!(
        rows.iter().all(|r| r[2] == Owned::Uint(0)),
        "{:?}",
        &rows[0]
    );
    let _ = contents(&mut e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn damaged_snapshot_files_are_refused_naming_the_file() {
    let d = dir("damage");
    {
        let mut e = open_with(&d, WalMode::None, 64 << 20).unwrap();
        let id = test_space(&mut e);
        for i in 0..300 {
            put(&mut e, id, i, 7).unwrap();
        }
        e.snapshot().unwrap();
    }
    let name = files(&d, ".snap").pop().unwrap();
    let path = d.join(&name);
    let good = std::fs::read(&path).unwrap();
    let expect_err = |why: &str| match open_with(&d, WalMode::None, 64 << 20) {
        Err(Error::WalIo(m)) => assert!(m.contains(&name), "{why}: {m}"),
        Err(other) => panic!("{why}: {other:?}"),
        Ok(_) => panic!("{why}: opened"),
    };
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x40;
    std::fs::write(&path, &flipped).unwrap();
    expect_err("a flipped byte");
    std::fs::write(&path, &good[..good.len() - 5]).unwrap();
    expect_err("a cut tail");
    std::fs::write(&path, &good[..good.len() - 36]).unwrap();
    expect_err("no end record");
    std::fs::write(&path, &good).unwrap();
    let mut e = open_with(&d, WalMode::None, 64 << 20).unwrap();
    assert_eq!(e.tuple_count(), 300);
    let _ = contents(&mut e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn snapshots_need_a_directory() {
    let mut e = engine(1 << 20);
    match e.snapshot() {
        Err(Error::IllegalParams(m)) => assert!(m.contains("dir"), "{m}"),
        other => panic!("{other:?}"),
    }
}
