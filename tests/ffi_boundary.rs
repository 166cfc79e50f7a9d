//! The C boundary under misuse: NULL, wrong-kind, stale and freed handles, use after close
//! or drop, a foreign thread, a panic inside, re-entry from a callback, Lua-kind callbacks
//! under HOT entries, small buffers, malformed data. Nothing may crash or change state.

mod common;

use common::files::{last_error, uint};
use jitbox::ffi::abi::*;
use std::ffi::{c_char, c_void};
use std::ptr::{null, null_mut};

fn string(s: &[u8]) -> jb_field {
    let mut f = jb_field {
        type_: JB_FT_STRING,
        len: s.len() as u32,
        ..Default::default()
    };
    f.v.s = s.as_ptr() as *const c_char;
    f
}

struct Db {
    e: *mut jb_engine,
    s: *mut jb_space,
    pk: *mut jb_index,
}

/// Engine with space "t": pk unsigned on field 1, non-unique string index "by_name" on field 2.
fn open(limit: u64) -> Db {
    unsafe {
        let opts = jb_engine_opts {
            memory_limit: limit,
            ..Default::default()
        };
        let mut e = null_mut();
        assert_eq!(jb_engine_open(&opts, &mut e), JB_OK);
        let db = open_into(e);
        let parts = [jb_key_part {
            fieldno: 1,
            type_: JB_FT_STRING,
            is_nullable: 0,
            collation: 0,
            ..Default::default()
        }];
        let def = jb_index_def {
            parts: parts.as_ptr(),
            part_count: 1,
            unique: 0,
            ..Default::default()
        };
        let mut by_name = null_mut();
        assert_eq!(
            jb_index_create(db.s, c"by_name".as_ptr(), 7, &def, &mut by_name),
            JB_OK
        );
        db
    }
}

fn insert(db: &Db, id: u64, name: &[u8]) -> i32 {
    let f = [uint(id), string(name)];
    unsafe { jb_space_insert(db.s, null_mut(), f.as_ptr(), 2, null_mut(), 0, null_mut()) }
}

fn get(db: &Db, id: u64) -> *mut jb_tuple {
    let mut t = null_mut();
    unsafe { assert_eq!(jb_index_get(db.pk, null_mut(), &uint(id), 1, &mut t), JB_OK) };
    t
}

fn stat(e: *mut jb_engine) -> jb_stat {
    let mut st = jb_stat::default();
    unsafe { assert_eq!(jb_engine_stat(e, &mut st), JB_OK) };
    st
}

#[test]
fn null_handles_and_out_pointers_are_refused() {
    unsafe {
        let mut t = null_mut();
        assert_eq!(
            jb_index_get(null_mut(), null_mut(), null(), 0, &mut t),
            JB_E_BAD_HANDLE
        );
        assert!(last_error().contains("NULL handle"), "{}", last_error());
        assert_eq!(
            jb_engine_stat(null_mut(), &mut jb_stat::default()),
            JB_E_BAD_HANDLE
        );
        assert_eq!(jb_engine_open(null(), null_mut()), JB_E_ILLEGAL_PARAMS);
        // Options the open would not use are refused, not ignored.
        let mut e = null_mut();
        for (opts, says) in [
            (
                jb_engine_opts {
                    flags: 2,
                    ..Default::default()
                },
                "unknown bits",
            ),
            (
                jb_engine_opts {
                    wal_mode: 7,
                    ..Default::default()
                },
                "wal_mode 7",
            ),
            (
                jb_engine_opts {
                    log_kind: JB_CB_LUA,
                    ..Default::default()
                },
                "without log_fn",
            ),
            (
                jb_engine_opts {
                    log_ctx: 8 as *mut _,
                    ..Default::default()
                },
                "without log_fn",
            ),
            (
                jb_engine_opts {
                    dir_len: 4,
                    ..Default::default()
                },
                "dir NULL",
            ),
        ] {
            assert_eq!(jb_engine_open(&opts, &mut e), JB_E_ILLEGAL_PARAMS, "{says}");
            assert!(last_error().contains(says), "{says}: {}", last_error());
            assert!(e.is_null());
        }
        let db = open(0);
        assert_eq!(jb_space_len(db.s, null_mut()), JB_E_ILLEGAL_PARAMS);
        assert_eq!(
            jb_space_insert(db.s, null_mut(), null(), 3, null_mut(), 0, null_mut()),
            JB_E_ILLEGAL_PARAMS
        );
        // _free functions take NULL
        assert_eq!(jb_tuple_unref(null_mut()), JB_OK);
        assert_eq!(jb_iter_free(null_mut()), JB_OK);
        assert_eq!(jb_engine_close(null_mut()), JB_OK);
        assert_eq!(jb_engine_close(db.e), JB_OK);
    }
}

#[test]
fn wrong_kind_and_forged_handles_are_refused() {
    unsafe {
        let db = open(0);
        let mut t = null_mut();
        let rc = jb_iter_next(db.s as *mut jb_iter, &mut t);
        assert_eq!(rc, JB_E_BAD_HANDLE);
        assert!(
            last_error().contains("expected an iterator"),
            "{}",
            last_error()
        );
        // A forged value: right thread tag, a slot that was never issued.
        let forged = ((db.e as u64) & !0xffff_ffff_ffff) | (4242 << 24) | 7;
        assert_eq!(
            jb_space_len(forged as *mut jb_space, &mut 0),
            JB_E_BAD_HANDLE
        );
        // Garbage pointers never crash, and are told apart from another thread's handles:
        // no thread was given their tag.
        for g in [1u64, 0xdead_beef, u64::MAX, 0x7fff_0000_1234] {
            let r = jb_space_len(g as *mut jb_space, &mut 0);
            assert_eq!(r, JB_E_BAD_HANDLE, "{g:#x}: {}", last_error());
        }
        jb_engine_close(db.e);
    }
}

#[test]
fn double_unref_and_double_free_are_harmless() {
    unsafe {
        let db = open(0);
        assert_eq!(insert(&db, 1, b"a"), JB_OK);
        let t = get(&db, 1);
        let mut t2 = null_mut();
        assert_eq!(jb_tuple_ref(t, &mut t2), JB_OK);
        assert_eq!(jb_tuple_unref(t), JB_OK);
        assert_eq!(jb_tuple_unref(t), JB_E_BAD_HANDLE);
        assert!(last_error().contains("already freed"), "{}", last_error());
        let mut f = jb_field::default();
        assert_eq!(jb_tuple_field(t, 0, &mut f), JB_E_BAD_HANDLE);
        assert_eq!(jb_tuple_field(t2, 1, &mut f), JB_OK);
        assert_eq!(f.type_, JB_FT_STRING);
        assert_eq!(jb_tuple_unref(t2), JB_OK);
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), JB_ITER_ALL, null(), 0, &mut it),
            JB_OK
        );
        assert_eq!(jb_iter_free(it), JB_OK);
        assert_eq!(jb_iter_free(it), JB_E_BAD_HANDLE);
        assert_eq!(jb_engine_close(db.e), JB_OK);
        assert_eq!(jb_engine_close(db.e), JB_OK, "closing twice is fine");
    }
}

#[test]
fn use_after_close_is_an_error_and_tuples_outlive_the_engine() {
    unsafe {
        let db = open(0);
        assert_eq!(insert(&db, 1, b"kept"), JB_OK);
        assert_eq!(insert(&db, 2, b"b"), JB_OK);
        let t = get(&db, 1);
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), JB_ITER_ALL, null(), 0, &mut it),
            JB_OK
        );
        assert_eq!(jb_engine_close(db.e), JB_OK);
        assert_eq!(jb_space_len(db.s, &mut 0), JB_E_CLOSED);
        assert!(last_error().contains("closed"), "{}", last_error());
        assert_eq!(insert(&db, 3, b"c"), JB_E_CLOSED);
        let mut t2 = null_mut();
        assert_eq!(jb_iter_next(it, &mut t2), JB_E_CLOSED);
        assert_eq!(jb_engine_stat(db.e, &mut jb_stat::default()), JB_E_CLOSED);
        // The tuple the caller holds is still readable, then released.
        let mut f = jb_field::default();
        assert_eq!(jb_tuple_field(t, 1, &mut f), JB_OK);
        assert_eq!(
            std::slice::from_raw_parts(f.v.s as *const u8, f.len as usize),
            b"kept"
        );
        assert_eq!(jb_tuple_unref(t), JB_OK);
        assert_eq!(jb_iter_free(it), JB_OK);
    }
}

#[test]
fn handles_of_a_dropped_space_are_stale() {
    unsafe {
        let db = open(0);
        assert_eq!(insert(&db, 1, b"a"), JB_OK);
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), JB_ITER_ALL, null(), 0, &mut it),
            JB_OK
        );
        assert_eq!(jb_space_drop(db.s), JB_OK);
        assert_eq!(jb_space_len(db.s, &mut 0), JB_E_BAD_HANDLE);
        assert!(last_error().contains("dropped"), "{}", last_error());
        let mut t = null_mut();
        assert_eq!(
            jb_index_get(db.pk, null_mut(), &uint(1), 1, &mut t),
            JB_E_BAD_HANDLE
        );
        assert_eq!(jb_iter_next(it, &mut t), JB_E_BAD_HANDLE);
        assert!(last_error().contains("dropped"), "{}", last_error());
        assert_eq!(jb_iter_free(it), JB_OK);
        let mut s = null_mut();
        assert_eq!(
            jb_space_find(db.e, c"t".as_ptr(), 1, &mut s),
            JB_E_NO_SUCH_SPACE
        );
        // A space of the same name is a new object with new handles.
        assert_eq!(
            jb_space_create(db.e, c"t".as_ptr(), 1, null(), 0, &mut s),
            JB_OK
        );
        assert_ne!(s, db.s);
        jb_engine_close(db.e);
    }
}

#[test]
fn another_thread_gets_wrong_thread() {
    let db = open(0);
    let (e, s) = (db.e as usize, db.s as usize);
    let rc = std::thread::spawn(move || unsafe {
        let r1 = jb_space_len(s as *mut jb_space, &mut 0);
        // The handle-free commit calls check the engine handle the same way.
        let mut counters = null();
        let r3 = jb_engine_commit_counters(e as *mut jb_engine, &mut counters);
        let r4 = jb_engine_commit_wait(e as *mut jb_engine, 1);
        let r2 = jb_engine_close(e as *mut jb_engine);
        (r1, r2, last_error(), r3, r4, counters.is_null())
    })
    .join()
    .unwrap();
    assert_eq!(rc.0, JB_E_WRONG_THREAD);
    assert_eq!(rc.1, JB_E_WRONG_THREAD);
    assert!(rc.2.contains("another thread"), "{}", rc.2);
    assert_eq!((rc.3, rc.4), (JB_E_WRONG_THREAD, JB_E_WRONG_THREAD));
    assert!(rc.5, "nothing written on an error");
    // Still usable by its owner.
    unsafe {
        assert_eq!(jb_space_len(db.s, &mut 0), JB_OK);
        jb_engine_close(db.e);
    }
}

/// A get in a transaction does not look the transaction's handle up: the engine's lookup
/// of the transaction by the handle's value is the check. Every bad handle must still be
/// refused, with the error the full check (the one `jb_index_count` makes) gives.
#[test]
fn gets_refuse_bad_transaction_handles_as_the_full_check_does() {
    unsafe {
        let db = open(0);
        let other = open(0);
        assert_eq!(insert(&db, 1, b"a"), JB_OK);
        let mut others = null_mut();
        assert_eq!(jb_txn_begin(other.e, &mut others), JB_OK);
        let foreign = std::thread::spawn(|| {
            let db = open(0);
            let mut t = null_mut();
            assert_eq!(jb_txn_begin(db.e, &mut t), JB_OK);
            t as u64
        })
        .join()
        .unwrap() as *mut jb_txn;
        let forged = (((db.e as u64) & !0xffff_ffff_ffff) | (4242 << 24) | 7) as *mut jb_txn;
        // Ended last, so that no later handle takes its slot.
        let mut ended = null_mut();
        assert_eq!(jb_txn_begin(db.e, &mut ended), JB_OK);
        assert_eq!(jb_txn_commit(ended), JB_OK);
        let bad = [
            (ended, "already freed"),
            (db.pk as *mut jb_txn, "expected a transaction"),
            (others, "another engine"),
            (forged, "stale or invalid"),
            (foreign, "another thread"),
        ];
        for (tx, says) in bad {
            let (mut buf, mut len, mut t) = ([0u8; 64], 99usize, null_mut());
            let rc = jb_index_get_data(db.pk, tx, &uint(1), 1, buf.as_mut_ptr(), 64, &mut len);
            let msg = last_error();
            assert!(msg.contains(says), "{says}: {msg}");
            assert_eq!(len, 99, "nothing written on an error");
            assert_eq!(jb_index_get(db.pk, tx, &uint(1), 1, &mut t), rc);
            assert!(t.is_null());
            let mut n = 0;
            assert_eq!(
                jb_index_count(db.pk, tx, JB_ITER_EQ, &uint(1), 1, &mut n),
                rc
            );
            assert_ne!(rc, JB_OK, "{says}");
        }
        // A live transaction reads its own write, which others do not see.
        let mut tx = null_mut();
        assert_eq!(jb_txn_begin(db.e, &mut tx), JB_OK);
        let f = [uint(2), string(b"b")];
        assert_eq!(
            jb_space_insert(db.s, tx, f.as_ptr(), 2, null_mut(), 0, null_mut()),
            JB_OK
        );
        let mut len = 0;
        let mut buf = [0u8; 64];
        assert_eq!(
            jb_index_get_data(db.pk, tx, &uint(2), 1, buf.as_mut_ptr(), 64, &mut len),
            JB_OK
        );
        assert!(len > 0);
        assert!(get(&db, 2).is_null());
        assert_eq!(jb_txn_rollback(tx), JB_OK);
        jb_engine_close(db.e);
        jb_engine_close(other.e);
    }
}

#[test]
fn a_panic_inside_poisons_the_engine_and_reads_still_work() {
    unsafe {
        let db = open(0);
        assert_eq!(insert(&db, 1, b"a"), JB_OK);
        assert_eq!(jb_errinj_set(c"PANIC_NEXT_CALL".as_ptr(), 1), JB_OK);
        assert_eq!(insert(&db, 2, b"b"), JB_E_PANIC);
        assert!(last_error().contains("poisoned"), "{}", last_error());
        assert_eq!(insert(&db, 3, b"c"), JB_E_POISONED);
        assert!(last_error().contains("refuses writes"), "{}", last_error());
        let t = get(&db, 1);
        assert!(!t.is_null());
        jb_tuple_unref(t);
        let mut n = 0;
        assert_eq!(jb_space_len(db.s, &mut n), JB_OK);
        assert_eq!(n, 1);
        assert_eq!(jb_engine_close(db.e), JB_OK);
    }
}

struct Reentry {
    e: *mut jb_engine,
    rc: i32,
    calls: u32,
}

unsafe extern "C" fn reentering_logger(
    ctx: *mut c_void,
    _level: i32,
    _msg: *const c_char,
    _len: usize,
) {
    // SAFETY: ctx is the Reentry the test registered, alive for the test.
    let r = unsafe { &mut *(ctx as *mut Reentry) };
    r.calls += 1;
    let mut s = null_mut();
    r.rc = unsafe { jb_space_find(r.e, c"t".as_ptr(), 1, &mut s) };
}

#[test]
fn reentry_from_a_callback_is_refused() {
    unsafe {
        let db = open(0);
        let mut r = Reentry {
            e: db.e,
            rc: 0,
            calls: 0,
        };
        let ctx = &mut r as *mut Reentry as *mut c_void;
        assert_eq!(
            jb_engine_set_logger(db.e, Some(reentering_logger), ctx, JB_CB_NATIVE),
            JB_OK
        );
        let mut s2 = null_mut();
        assert_eq!(
            jb_space_create(db.e, c"other".as_ptr(), 5, null(), 0, &mut s2),
            JB_OK
        );
        assert_eq!(r.calls, 1);
        assert_eq!(r.rc, JB_E_REENTRY);
        assert_eq!(stat(db.e).reentry_refused, 1);
        assert_eq!(
            jb_engine_set_logger(db.e, None, null_mut(), JB_CB_NATIVE),
            JB_OK
        );
        assert_eq!(
            jb_engine_set_logger(db.e, None, null_mut(), 7),
            JB_E_ILLEGAL_PARAMS
        );
        jb_engine_close(db.e);
    }
}

unsafe extern "C" fn counting_logger(
    ctx: *mut c_void,
    _level: i32,
    _msg: *const c_char,
    _len: usize,
) {
    // SAFETY: ctx is a u32 counter owned by the test.
    unsafe { *(ctx as *mut u32) += 1 };
}

#[test]
fn lua_kind_callbacks_are_deferred_out_of_hot_entries() {
    unsafe {
        let db = open(64 * 1024);
        let mut calls = 0u32;
        let ctx = &mut calls as *mut u32 as *mut c_void;
        assert_eq!(
            jb_engine_set_logger(db.e, Some(counting_logger), ctx, JB_CB_LUA),
            JB_OK
        );
        // A HOT insert that hits the memory limit logs a warning: queued, not run.
        let mut i = 0;
        while insert(&db, i, b"filling the quota") == JB_OK {
            i += 1;
        }
        assert_eq!(calls, 0, "a JB_CB_LUA callback ran under a HOT entry");
        let st = stat(db.e);
        assert_eq!(st.callbacks_deferred, 1);
        assert_eq!(st.callbacks_pending, 1);
        let mut pending = 0;
        assert_eq!(jb_engine_pending(db.e, &mut pending), JB_OK);
        assert_eq!(pending, 1);
        // The SAFE entry runs it.
        let mut ran = 0;
        assert_eq!(jb_engine_run_deferred(db.e, 0, &mut ran), JB_OK);
        assert_eq!((ran, calls), (1, 1));
        assert_eq!(stat(db.e).callbacks_pending, 0);
        // SAFE entries (DDL) run it directly.
        let mut s2 = null_mut();
        assert_eq!(
            jb_space_create(db.e, c"x".as_ptr(), 1, null(), 0, &mut s2),
            JB_OK
        );
        assert_eq!(calls, 2);
        jb_engine_close(db.e);
    }
}

#[test]
fn small_buffers_get_buffer_too_small_and_nothing_moves() {
    unsafe {
        let db = open(0);
        assert_eq!(insert(&db, 1, b"a fairly long name"), JB_OK);
        assert_eq!(insert(&db, 2, b"b"), JB_OK);
        let mut buf = [0u8; 4];
        let mut len = 0usize;
        assert_eq!(
            jb_index_get_data(
                db.pk,
                null_mut(),
                &uint(1),
                1,
                buf.as_mut_ptr(),
                4,
                &mut len
            ),
            JB_E_BUFFER_TOO_SMALL
        );
        assert_eq!(len, 1 + 1 + 1 + 18);
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), JB_ITER_ALL, null(), 0, &mut it),
            JB_OK
        );
        assert_eq!(
            jb_iter_next_data(it, buf.as_mut_ptr(), 4, &mut len),
            JB_E_BUFFER_TOO_SMALL
        );
        let mut big = vec![0u8; len];
        assert_eq!(
            jb_iter_next_data(it, big.as_mut_ptr(), len, &mut len),
            JB_OK
        );
        let mut n = 0;
        assert_eq!(jb_data_field_count(big.as_ptr(), len, &mut n), JB_OK);
        let mut f = jb_field::default();
        assert_eq!(jb_data_field(big.as_ptr(), len, 0, &mut f), JB_OK);
        assert_eq!((n, f.v.u), (2, 1), "the first tuple was not skipped");
        jb_iter_free(it);
        jb_engine_close(db.e);
    }
}

#[test]
fn malformed_tuple_data_is_an_error() {
    unsafe {
        let mut f = jb_field::default();
        // (data, field to read): truncated, unknown tag, string longer than the data.
        let bad: [(&[u8], u32); 4] = [
            (&[], 0),
            (&[0x93, 0x01], 1),
            (&[0xc1], 0),
            (&[0x91, 0xdb, 0xff, 0xff, 0xff, 0xff], 0),
        ];
        for (b, fieldno) in bad {
            let rc = jb_data_field(b.as_ptr(), b.len(), fieldno, &mut f);
            assert_eq!(rc, JB_E_ILLEGAL_PARAMS, "{b:?}");
        }
        let mut n = 0;
        assert_eq!(
            jb_data_fields(bad[3].0.as_ptr(), 6, null_mut(), 0, &mut n),
            JB_E_ILLEGAL_PARAMS
        );
        assert_eq!(jb_data_field(null(), 5, 0, &mut f), JB_E_ILLEGAL_PARAMS);
    }
}

#[test]
fn bad_field_types_and_arity_are_clear_errors() {
    unsafe {
        let db = open(0);
        let bogus = jb_field {
            type_: 99,
            ..Default::default()
        };
        let f = [uint(1), bogus];
        assert_eq!(
            jb_space_insert(db.s, null_mut(), f.as_ptr(), 2, null_mut(), 0, null_mut()),
            JB_E_FIELD_TYPE
        );
        assert!(
            last_error().contains("field 2 has unknown type code 99"),
            "{}",
            last_error()
        );
        let f = [string(b"x"), string(b"y")];
        assert_eq!(
            jb_space_insert(db.s, null_mut(), f.as_ptr(), 2, null_mut(), 0, null_mut()),
            JB_E_FIELD_TYPE
        );
        assert!(
            last_error().contains("index 'pk' needs field 1 to be unsigned, got string"),
            "{}",
            last_error()
        );
        let mut t = null_mut();
        let key = [uint(1), uint(2)];
        assert_eq!(
            jb_index_get(db.pk, null_mut(), key.as_ptr(), 2, &mut t),
            JB_E_ILLEGAL_PARAMS
        );
        assert!(
            last_error().contains("key has 2 part(s), the index has 1"),
            "{}",
            last_error()
        );
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), 42, null(), 0, &mut it),
            JB_E_ILLEGAL_PARAMS
        );
        let mut by_name = null_mut();
        assert_eq!(
            jb_index_find(db.s, c"by_name".as_ptr(), 7, &mut by_name),
            JB_OK
        );
        assert_eq!(
            jb_index_get(by_name, null_mut(), &string(b"x"), 1, &mut t),
            JB_E_ILLEGAL_PARAMS
        );
        assert!(last_error().contains("not unique"), "{}", last_error());
        assert_eq!(
            jb_index_find(db.s, c"nope".as_ptr(), 4, &mut by_name),
            JB_E_NO_SUCH_INDEX
        );
        assert_eq!(stat(db.e).tuple_count, 0, "nothing was written");
        jb_engine_close(db.e);
    }
}

#[test]
fn tuple_larger_than_the_limit_changes_nothing() {
    unsafe {
        let opts = jb_engine_opts {
            max_tuple_size: 256,
            ..Default::default()
        };
        let mut e = null_mut();
        assert_eq!(jb_engine_open(&opts, &mut e), JB_OK);
        let db = open_into(e);
        let used = stat(db.e).memory_used;
        let big = vec![b'z'; 300];
        assert_eq!(insert(&db, 1, &big), JB_E_ILLEGAL_PARAMS);
        assert!(
            last_error().contains("max_tuple_size 256"),
            "{}",
            last_error()
        );
        assert_eq!(stat(db.e).memory_used, used);
        jb_engine_close(db.e);
    }
}

/// Space "t" with an unsigned primary key on field 1, in an open engine.
fn open_into(e: *mut jb_engine) -> Db {
    unsafe {
        let mut s = null_mut();
        assert_eq!(
            jb_space_create(e, c"t".as_ptr(), 1, null(), 0, &mut s),
            JB_OK
        );
        let parts = [jb_key_part {
            fieldno: 0,
            type_: JB_FT_UNSIGNED,
            is_nullable: 0,
            collation: 0,
            ..Default::default()
        }];
        let def = jb_index_def {
            parts: parts.as_ptr(),
            part_count: 1,
            unique: 1,
            ..Default::default()
        };
        let mut pk = null_mut();
        assert_eq!(jb_index_create(s, c"pk".as_ptr(), 2, &def, &mut pk), JB_OK);
        Db { e, s, pk }
    }
}

#[test]
fn handles_do_not_leak() {
    let base = jitbox::ffi::handles::live_count();
    unsafe {
        let db = open(0);
        for i in 0..100 {
            assert_eq!(insert(&db, i, b"n"), JB_OK);
        }
        let mut it = null_mut();
        assert_eq!(
            jb_index_iter(db.pk, null_mut(), JB_ITER_GE, null(), 0, &mut it),
            JB_OK
        );
        let mut batch = [null_mut(); 64];
        let mut n = 0;
        assert_eq!(
            jb_iter_next_batch(it, batch.as_mut_ptr(), 64, &mut n),
            JB_OK
        );
        assert_eq!(n, 64);
        for t in &batch[..n as usize] {
            assert_eq!(jb_tuple_unref(*t), JB_OK);
        }
        jb_iter_free(it);
        jb_engine_close(db.e);
    }
    assert_eq!(jitbox::ffi::handles::live_count(), base);
}

struct CrossEngine {
    other: *mut jb_engine,
    rc: i32,
}

unsafe extern "C" fn creates_space_in_other_engine(
    ctx: *mut c_void,
    _level: i32,
    _msg: *const c_char,
    _len: usize,
) {
    // SAFETY: ctx is the CrossEngine the test registered.
    let c = unsafe { &mut *(ctx as *mut CrossEngine) };
    let mut s = null_mut();
    c.rc = unsafe { jb_space_create(c.other, c"from_callback".as_ptr(), 13, null(), 0, &mut s) };
}

#[test]
fn lua_callbacks_stay_deferred_inside_callbacks_made_under_a_hot_entry() {
    unsafe {
        // Engine B has a Lua-kind logger; engine A a native one that calls into B.
        let b = open(0);
        let mut b_calls = 0u32;
        assert_eq!(
            jb_engine_set_logger(
                b.e,
                Some(counting_logger),
                &mut b_calls as *mut u32 as *mut c_void,
                JB_CB_LUA
            ),
            JB_OK
        );
        let a = open(64 * 1024);
        let mut cross = CrossEngine { other: b.e, rc: 1 };
        let ctx = &mut cross as *mut CrossEngine as *mut c_void;
        assert_eq!(
            jb_engine_set_logger(a.e, Some(creates_space_in_other_engine), ctx, JB_CB_NATIVE),
            JB_OK
        );
        // A HOT insert into A hits the limit; A's native logger runs and creates a space in B
        // (a SAFE entry): B must not run its Lua logger, since A's HOT entry is on the stack.
        let mut i = 0;
        while insert(&a, i, b"filling the quota") == JB_OK {
            i += 1;
        }
        assert_eq!(cross.rc, JB_OK, "the nested SAFE call itself works");
        assert_eq!(
            b_calls, 0,
            "a Lua callback ran under another engine's HOT entry"
        );
        assert_eq!(stat(b.e).callbacks_pending, 1);
        // At a real safe point it runs.
        let mut ran = 0;
        assert_eq!(jb_engine_run_deferred(b.e, 0, &mut ran), JB_OK);
        assert_eq!((ran, b_calls), (1, 1));
        jb_engine_close(a.e);
        jb_engine_close(b.e);
    }
}

#[test]
fn a_panic_in_a_hot_entry_does_not_leave_the_guard_raised() {
    unsafe {
        let db = open(0);
        let mut calls = 0u32;
        assert_eq!(
            jb_engine_set_logger(
                db.e,
                Some(counting_logger),
                &mut calls as *mut u32 as *mut c_void,
                JB_CB_LUA
            ),
            JB_OK
        );
        assert_eq!(jb_errinj_set(c"PANIC_NEXT_CALL".as_ptr(), 1), JB_OK);
        assert_eq!(insert(&db, 1, b"x"), JB_E_PANIC);
        // A SAFE entry afterwards may run the Lua-kind logger at once.
        let mut s = null_mut();
        assert_eq!(
            jb_space_create(db.e, c"after".as_ptr(), 5, null(), 0, &mut s),
            JB_OK
        );
        assert_eq!(calls, 1, "the HOT count leaked out of the panicking call");
        jb_engine_close(db.e);
    }
}
