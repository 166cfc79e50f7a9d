//! The memory quota every engine allocation is charged to, error injection for allocations,
//! and the few fallible allocation helpers the engine builds on.

use crate::error::{Error, Result};
use std::alloc::Layout;
use std::cell::Cell;

/// Bytes charged against `memory_limit`. Charging happens before allocating, so a refusal
/// leaves nothing behind; every charge is released exactly once by its owner.
#[derive(Debug)]
pub struct Quota {
    used: Cell<usize>,
    limit: usize,
}

impl Quota {
    pub fn new(limit: usize) -> Quota {
        Quota {
            used: Cell::new(0),
            limit,
        }
    }

    pub fn used(&self) -> usize {
        self.used.get()
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Charges `bytes` for `what`, or fails with `Error::Memory` and charges nothing.
    pub fn charge(&self, bytes: usize, what: &str) -> Result<()> {
        errinj::alloc_point(what)?;
        let used = self.used.get();
        match used.checked_add(bytes) {
            Some(total) if total <= self.limit => {
                self.used.set(total);
                Ok(())
            }
            _ => Err(Error::memory(what, bytes, used, self.limit)),
        }
    }

    pub fn release(&self, bytes: usize) {
        debug_assert!(bytes <= self.used.get(), "quota released more than charged");
        self.used.set(self.used.get().saturating_sub(bytes));
    }
}

/// Allocates `value` on the heap, returning `None` instead of aborting when the system
/// allocator fails (`Box::new` would abort the process).
pub fn try_box<T>(value: T) -> Option<Box<T>> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Some(Box::new(value));
    }
    // SAFETY: layout has a non-zero size, as `alloc` requires.
    let ptr = unsafe { std::alloc::alloc(layout) } as *mut T;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: ptr is non-null, freshly allocated with T's layout, so writing a T and handing
    // ownership to Box (which frees with the same global allocator and layout) is sound.
    unsafe {
        ptr.write(value);
        Some(Box::from_raw(ptr))
    }
}

/// Grows `v` so that `additional` more elements fit, charging the capacity increase.
/// `charged` is the caller's running record of what its vectors hold charged.
pub fn try_grow<T>(
    v: &mut Vec<T>,
    additional: usize,
    quota: &Quota,
    charged: &mut usize,
    what: &str,
) -> Result<()> {
    if v.capacity() - v.len() >= additional {
        return Ok(());
    }
    let want = (v.len() + additional).max(v.capacity() * 2).max(4);
    let bytes = (want - v.capacity()) * std::mem::size_of::<T>();
    quota.charge(bytes, what)?;
    if v.try_reserve_exact(want - v.len()).is_err() {
        quota.release(bytes);
        return Err(Error::memory(what, bytes, quota.used(), quota.limit()));
    }
    // The allocator may round up; charge only what we asked for and asked to release.
    *charged += bytes;
    Ok(())
}

/// Error injection, per thread so that parallel tests do not disturb each other.
pub mod errinj {
    use crate::error::{Error, Result};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set once any injection was armed in the process: until then the hot paths skip the
    /// thread-local lookups entirely.
    static ARMED: AtomicBool = AtomicBool::new(false);

    thread_local! {
        static ALLOC_FAIL_AFTER: Cell<i64> = const { Cell::new(-1) };
        static PANIC_NEXT_CALL: Cell<i64> = const { Cell::new(0) };
    }

    pub const NAMES: &[&str] = &["ALLOC_FAIL_AFTER", "PANIC_NEXT_CALL"];

    pub fn set(name: &str, value: i64) -> Result<()> {
        ARMED.store(true, Ordering::Relaxed);
        match name {
            "ALLOC_FAIL_AFTER" => ALLOC_FAIL_AFTER.set(value.max(-1)),
            "PANIC_NEXT_CALL" => PANIC_NEXT_CALL.set(value),
            _ => return Err(unknown(name)),
        }
        Ok(())
    }

    pub fn get(name: &str) -> Result<i64> {
        match name {
            "ALLOC_FAIL_AFTER" => Ok(ALLOC_FAIL_AFTER.get()),
            "PANIC_NEXT_CALL" => Ok(PANIC_NEXT_CALL.get()),
            _ => Err(unknown(name)),
        }
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
}
