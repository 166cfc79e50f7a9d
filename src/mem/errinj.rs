//! Error injection, per thread so that parallel tests do not disturb each other.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once any injection was armed in the process: until then the hot paths skip the
/// thread-local lookups entirely.
static ARMED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static ALLOC_FAIL_AFTER: Cell<i64> = const { Cell::new(-1) };
    static PANIC_NEXT_CALL: Cell<i64> = const { Cell::new(0) };
    static WAL_DELAY: Cell<i64> = const { Cell::new(0) };
    static WAL_WRITE: Cell<i64> = const { Cell::new(0) };
    static SNAPSHOT_DELAY: Cell<i64> = const { Cell::new(0) };
    static SNAPSHOT_IO: Cell<i64> = const { Cell::new(0) };
    static RECOVERY_PROGRESS: Cell<i64> = const { Cell::new(0) };
}

/// `WAL_DELAY` 1: the WAL writer holds batches back until it is 0 again. `WAL_WRITE` 1: WAL
/// writes fail while it is set. Both apply to the engines of the thread that sets them (each
/// engine passes them to its writer whenever it deals with the WAL). `SNAPSHOT_DELAY` 1: a
/// snapshot holds before its file is renamed into place; `SNAPSHOT_IO` 1: snapshot writes
/// fail (passed on the same way). `RECOVERY_PROGRESS` N > 0: recovery logs its progress line
/// every N records or snapshot operations, not every two seconds.
pub const NAMES: &[&str] = &[
    "ALLOC_FAIL_AFTER",
    "PANIC_NEXT_CALL",
    "WAL_DELAY",
    "WAL_WRITE",
    "SNAPSHOT_DELAY",
    "SNAPSHOT_IO",
    "RECOVERY_PROGRESS",
];

pub fn set(name: &str, value: i64) -> Result<()> {
    ARMED.store(true, Ordering::Relaxed);
    match name {
        "ALLOC_FAIL_AFTER" => ALLOC_FAIL_AFTER.set(value.max(-1)),
        "PANIC_NEXT_CALL" => PANIC_NEXT_CALL.set(value),
        "WAL_DELAY" => WAL_DELAY.set(value),
        "WAL_WRITE" => WAL_WRITE.set(value),
        "SNAPSHOT_DELAY" => SNAPSHOT_DELAY.set(value),
        "SNAPSHOT_IO" => SNAPSHOT_IO.set(value),
        "RECOVERY_PROGRESS" => RECOVERY_PROGRESS.set(value.max(0)),
        _ => return Err(unknown(name)),
    }
    Ok(())
}

pub fn get(name: &str) -> Result<i64> {
    match name {
        "ALLOC_FAIL_AFTER" => Ok(ALLOC_FAIL_AFTER.get()),
        "PANIC_NEXT_CALL" => Ok(PANIC_NEXT_CALL.get()),
        "WAL_DELAY" => Ok(WAL_DELAY.get()),
        "WAL_WRITE" => Ok(WAL_WRITE.get()),
        "SNAPSHOT_DELAY" => Ok(SNAPSHOT_DELAY.get()),
        "SNAPSHOT_IO" => Ok(SNAPSHOT_IO.get()),
        "RECOVERY_PROGRESS" => Ok(RECOVERY_PROGRESS.get()),
        _ => Err(unknown(name)),
    }
}

pub(crate) fn wal_delay() -> bool {
    ARMED.load(Ordering::Relaxed) && WAL_DELAY.get() != 0
}

pub(crate) fn wal_write_fails() -> bool {
    ARMED.load(Ordering::Relaxed) && WAL_WRITE.get() != 0
}

pub(crate) fn snapshot_delay() -> bool {
    ARMED.load(Ordering::Relaxed) && SNAPSHOT_DELAY.get() != 0
}

pub(crate) fn snapshot_io_fails() -> bool {
    ARMED.load(Ordering::Relaxed) && SNAPSHOT_IO.get() != 0
}

/// `RECOVERY_PROGRESS`, when set: a progress line every that many items.
pub(crate) fn recovery_progress_every() -> Option<u64> {
    let n = if ARMED.load(Ordering::Relaxed) { RECOVERY_PROGRESS.get() } else { 0 };
    (n > 0).then_some(n as u64)
}

fn unknown(name: &str) -> Error {
    Error::IllegalParams(format!(
        "unknown error injection '{name}'; known: {}",
        NAMES.join(", ")
    ))
}

/// Called before every charged allocation.
pub(crate) fn alloc_point(what: &str) -> Result<()> {
    if !ARMED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let n = ALLOC_FAIL_AFTER.get();
    if n < 0 {
        return Ok(());
    }
    if n == 0 {
        ALLOC_FAIL_AFTER.set(-1);
        return Err(Error::Memory(format!(
            "allocation for {what} failed (injected by ALLOC_FAIL_AFTER)"
        )));
    }
    ALLOC_FAIL_AFTER.set(n - 1);
    Ok(())
}

/// Consumes a pending PANIC_NEXT_CALL; the boundary panics when it returns true.
pub(crate) fn take_panic() -> bool {
    ARMED.load(Ordering::Relaxed) && PANIC_NEXT_CALL.replace(0) != 0
}
