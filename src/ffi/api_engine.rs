//! Exported: versions, errors, error injection, engine lifecycle, statistics, logger.

use super::abi::*;
use super::boundary::{self, cell_of, enter, export};
use super::convert::{copy_text, need, put};
use super::handles::{self, EngineCell, Gone, Obj};
use crate::engine::{Engine, Logger, Options, WalMode};
use crate::error::Error;
use crate::mem::errinj;
use std::ffi::{CStr, c_char};
use std::rc::Rc;

#[unsafe(no_mangle)]
pub extern "C" fn jb_abi_version() -> u32 {
    JITBOX_ABI_VERSION
}

#[unsafe(no_mangle)]
pub extern "C" fn jb_strerror(code: std::ffi::c_int) -> *const c_char {
    super::status::status_name(code).as_ptr()
}

#[unsafe(no_mangle)]
pub extern "C" fn jb_last_error() -> *const c_char {
    boundary::last_error_ptr()
}

const _: () = {
    let _a = if true {
        crate::ffi::abi::jb_abi_version
    } else {
        jb_abi_version
    };
    let _b = if true {
        crate::ffi::abi::jb_strerror
    } else {
        jb_strerror
    };
    let _c = if true {
        crate::ffi::abi::jb_last_error
    } else {
        jb_last_error
    };
};

unsafe fn errinj_name<'a>(name: *const c_char) -> crate::error::Result<&'a str> {
    if name.is_null() {
        return Err(Error::IllegalParams("error injection name is NULL".into()));
    }
    // SAFETY: the caller passes a NUL-terminated string (header contract).
    unsafe { CStr::from_ptr(name) }
        .to_str()
        .map_err(|_| Error::IllegalParams("error injection name is not UTF-8".into()))
}

export! {
    Free fn jb_errinj_set(name: *const c_char, value: i64) {
        // SAFETY: header contract on name.
        errinj::set(unsafe { errinj_name(name)? }, value)
    }
}

export! {
    Free fn jb_errinj_get(name: *const c_char, out: *mut i64) {
        // SAFETY: header contract on name and out.
        let v = errinj::get(unsafe { errinj_name(name)? })?;
        // SAFETY: out is NULL (refused by put) or writable (header contract).
        unsafe { put(out, v, "out") }
    }
}

export! {
    Safe fn jb_engine_open(opts: *const jb_engine_opts, out: *mut *mut jb_engine) {
        need(out, "out")?;
        let mut o = Options::default();
        if !opts.is_null() {
            // SAFETY: non-null opts points to a jb_engine_opts (header contract).
            let opts = unsafe { &*opts };
            let known = JB_OPEN_FORCE_RECOVERY;
            if opts.flags & !known != 0 {
                return Err(Error::IllegalParams(format!(
                    "jb_engine_opts.flags has unknown bits 0x{:x}; use JB_OPEN_* values",
                    opts.flags & !known
                )));
            }
            o.force_recovery = opts.flags & JB_OPEN_FORCE_RECOVERY != 0;
            o.lock_timeout = std::time::Duration::from_millis(opts.lock_timeout_ms.into());
            if let Some(func) = opts.log_fn {
                let kind = super::status::callback_kind(opts.log_kind).ok_or_else(|| {
                    Error::IllegalParams(format!(
                        "jb_engine_opts.log_kind {} is unknown; use JB_CB_NATIVE or JB_CB_LUA",
                        opts.log_kind
                    ))
                })?;
                o.logger = Some(Logger { func, ctx: opts.log_ctx, kind });
            } else if opts.log_kind != JB_CB_NATIVE || !opts.log_ctx.is_null() {
                return Err(Error::IllegalParams(
                    "jb_engine_opts.log_kind or log_ctx is set without log_fn; set log_fn, or leave both zero".into()));
            }
            if opts.dir.is_null() && opts.dir_len != 0 {
                return Err(Error::IllegalParams(format!(
                    "jb_engine_opts.dir_len is {} with dir NULL; set dir, or dir_len 0", opts.dir_len)));
            }
            if opts.memory_limit != 0 {
                o.memory_limit = usize::try_from(opts.memory_limit).unwrap_or(usize::MAX);
            }
            if opts.max_tuple_size != 0 {
                o.max_tuple_size = opts.max_tuple_size as usize;
            }
            if !opts.dir.is_null() {
                // SAFETY: header contract: dir points to dir_len readable bytes.
                let dir = unsafe { std::slice::from_raw_parts(opts.dir as *const u8, opts.dir_len as usize) };
                let dir = std::str::from_utf8(dir).map_err(|_| Error::IllegalParams("jb_engine_opts.dir is not UTF-8".into()))?;
                o.dir = Some(dir.into());
            }
            o.wal_mode = match opts.wal_mode {
                JB_WAL_NONE => WalMode::None,
                JB_WAL_WRITE => WalMode::Write,
                JB_WAL_FSYNC => WalMode::Fsync,
                other => return Err(Error::IllegalParams(format!(
                    "jb_engine_opts.wal_mode {other} is unknown; use JB_WAL_NONE, JB_WAL_WRITE or JB_WAL_FSYNC"))),
            };
            if opts.wal_queue_max_size != 0 {
                o.wal_queue_max_size = usize::try_from(opts.wal_queue_max_size).unwrap_or(usize::MAX);
            }
        }
        let engine = Engine::open(o)?;
        let cell = Rc::new(EngineCell::new(engine));
        let h = handles::insert(Obj::Engine(cell.clone()))?;
        cell.handle.set(h);
        if let Err(err) = register_recovered(&cell) {
            // SAFETY: h is the engine handle made above; closing it is the one cleanup path.
            let _ = unsafe { jb_engine_close(h as *mut jb_engine) };
            return Err(err);
        }
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_engine, "out") }
    }
}

/// Hands out handles for the spaces and indexes recovery created.
fn register_recovered(cell: &Rc<EngineCell>) -> crate::error::Result<()> {
    let mut slot = cell.engine.borrow_mut();
    let eng = slot.as_mut().expect("just opened");
    for sp in eng.spaces() {
        cell.name(sp.uid, handles::insert(Obj::Space(cell.clone(), sp.id))?)?;
        for ix in &sp.indexes {
            cell.name(
                ix.uid,
                handles::insert(Obj::Index(cell.clone(), sp.id, ix.uid))?,
            )?;
        }
    }
    Ok(())
}

export! {
    Safe fn jb_engine_close(e: *mut jb_engine) {
        if e.is_null() {
            return Ok(());
        }
        let cell = match handles::with(e as u64, |o| match o {
            Obj::Engine(c) => Ok(c.clone()),
            other => Err(handles::wrong_kind(other, "an engine")),
        }) {
            Ok(c) => c,
            Err(Error::Closed(_)) => return Ok(()), // closing twice is fine
            Err(err) => return Err(err),
        };
        let engine = {
            let Ok(mut slot) = cell.engine.try_borrow_mut() else {
                return Err(Error::Reentry("cannot close the engine from inside one of its callbacks".into()));
            };
            slot.take()
        };
        handles::remove(e as u64, Gone::Closed)?;
        if !cell.origin.is_here() {
            // A forked child: nothing of the parent's is touched (no transaction is rolled
            // back through the log, no thread joined, no file written); the engine's memory
            // is this process's copy and is freed.
            cell.forget_all(Gone::Closed);
            drop(engine);
            return Ok(());
        }
        if let Some(mut engine) = engine {
            // A running snapshot finishes; open transactions roll back, commits in flight
            // finish, the writer is joined.
            if let Some(what) = engine.shut_down_snapshot() {
                engine.log(JB_LOG_INFO as i32, &what);
            }
            if let Some(what) = engine.shut_down_wal() {
                engine.log(JB_LOG_INFO as i32, &what);
            }
        }
        cell.forget_all(Gone::Closed);
        Ok(())
    }
}

export! {
    Hot fn jb_engine_stat(e: *mut jb_engine, out: *mut jb_stat) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let st = enter(&cell, |eng| {
            eng.poll_wal();
            let s = eng.stats;
            let (w, prepared, next_lsn) = eng.wal_stats();
            let snap = eng.snapshot_stats();
            Ok(jb_stat {
                memory_used: eng.quota().used() as u64,
                memory_limit: eng.quota().limit() as u64,
                max_tuple_size: eng.options().max_tuple_size as u64,
                space_count: eng.spaces().count() as u64,
                tuple_count: eng.tuple_count(),
                hot_calls: s.hot_calls,
                safe_calls: s.safe_calls,
                reentry_refused: cell.reentry_refused.get(),
                callbacks_deferred: s.callbacks_deferred + eng.mvcc().buried_total,
                callbacks_run: s.callbacks_run,
                callbacks_pending: eng.pending() as u64,
                callbacks_dropped: s.callbacks_dropped,
                txn_open: eng.mvcc().open_count() as u64,
                versions: eng.mvcc().story_count() as u64,
                gc_pending: eng.mvcc().gc_pending() as u64,
                callbacks_refused: s.callbacks_refused,
                wal_prepared: prepared as u64,
                wal_committed: w.committed,
                wal_rolled_back: w.rolled_back,
                wal_failed_writes: w.failed_writes,
                wal_next_lsn: next_lsn,
                snapshots_done: snap.done,
                snapshots_failed: snap.failed,
                snapshot_lsn: snap.lsn,
                snapshot_running: snap.running as u64,
                recovery_wal_files: eng.recovery.wal_files,
                recovery_records: eng.recovery.records,
                recovery_tuples: eng.recovery.tuples,
                recovery_micros: eng.recovery.micros,
                recovery_set_aside: eng.recovery.set_aside_bytes,
                wal_state: super::status::wal_state_code(eng.wal_writer().map(|w| w.0)),
            })
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(out, st, "out") }
    }
}

export! {
    Hot fn jb_engine_recovery(e: *mut jb_engine, buf: *mut c_char, cap: usize, len: *mut usize) {
        need(len, "len")?;
        let cell = cell_of(e as u64)?;
        enter(&cell, |eng| {
            let r = &eng.recovery;
            let text = if r.dir.is_empty() {
                String::new()
            } else {
                std::iter::once(r.line()).chain(r.warnings.iter().cloned()).collect::<Vec<_>>().join("\n")
            };
            // SAFETY: len is checked non-null; buf holds cap bytes (header contract).
            unsafe { copy_text(text.as_bytes(), buf, cap, len) }
        })
    }
}

export! {
    Hot fn jb_engine_path(e: *mut jb_engine, which: u32, buf: *mut c_char, cap: usize, len: *mut usize) {
        need(len, "len")?;
        let cell = cell_of(e as u64)?;
        enter(&cell, |eng| {
            let path = match which {
                JB_PATH_DIR => eng.options().dir.clone(),
                JB_PATH_WAL_FILE => eng.wal_writer().and_then(|(_, file)| file),
                _ => return Err(Error::IllegalParams(format!(
                    "jb_engine_path: which = {which} is not a path (JB_PATH_DIR or JB_PATH_WAL_FILE)"
                ))),
            };
            let text = path.map(|p| p.display().to_string()).unwrap_or_default();
            // SAFETY: len is checked non-null; buf holds cap bytes (header contract).
            unsafe { copy_text(text.as_bytes(), buf, cap, len) }
        })
    }
}

export! {
    Safe fn jb_engine_set_logger(e: *mut jb_engine, func: jb_log_fn, ctx: *mut std::ffi::c_void, kind: u32) {
        let kind = super::status::callback_kind(kind).ok_or_else(|| {
            Error::IllegalParams(format!("unknown callback kind {kind}; use JB_CB_NATIVE or JB_CB_LUA"))
        })?;
        let cell = cell_of(e as u64)?;
        enter(&cell, |eng| {
            eng.set_logger(func.map(|func| Logger { func, ctx, kind }));
            Ok(())
        })
    }
}

export! {
    Safe fn jb_engine_run_deferred(e: *mut jb_engine, max: u32, ran: *mut u32) {
        let cell = cell_of(e as u64)?;
        let n = enter(&cell, |eng| Ok(eng.run_deferred(max as usize)))?;
        if !ran.is_null() {
            // SAFETY: non-null ran is writable (header contract).
            unsafe { ran.write(n as u32) };
        }
        Ok(())
    }
}

export! {
    Hot fn jb_engine_pending_counter(e: *mut jb_engine, out: *mut *const u64) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let p = enter(&cell, |eng| Ok(eng.counters.pending.as_ptr() as *const u64))?;
        // SAFETY: checked non-null above. The counter lives in an Rc the engine holds.
        unsafe { put(out, p, "out") }
    }
}

export! {
    Hot fn jb_engine_pending(e: *mut jb_engine, out: *mut u32) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let n = enter(&cell, |eng| Ok(eng.pending() as u32))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n, "out") }
    }
}
