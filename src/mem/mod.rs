//! The memory quota every engine allocation is charged to, error injection for allocations,
//! and the few fallible allocation helpers the engine builds on.

use crate::error::{Error, Result};
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

pub mod errinj;
mod pages;
mod slab;

/// Memory beyond `memory_limit` that only reads may take (iterator keys and batches): an
/// engine whose writes fail for want of memory still serves reads, and what reads take is
/// bounded.
pub const READ_RESERVE: usize = 256 << 10;

/// The least memory beyond `memory_limit` that deletes may use (see `Quota::deleting`).
pub const DELETE_RESERVE_MIN: usize = 1 << 20;

/// Bytes charged against `memory_limit`. Charging happens before allocating, so a refusal
/// leaves nothing behind; every charge is released exactly once by its owner. Tuples come
/// from the slab allocator kept here, so the quota sees the memory they really take.
pub struct Quota {
    used: Cell<usize>,
    limit: usize,
    /// What a charge may reach: `limit`, or `limit` plus the delete reserve while a
    /// `Deleting` scope is alive.
    ceiling: Cell<usize>,
    slabs: RefCell<slab::Slabs>,
    /// Set when an index's removals freed enough blocks to compact it.
    compact_wanted: Cell<bool>,
}

impl std::fmt::Debug for Quota {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Quota {{ used: {}, limit: {} }}",
            self.used.get(),
            self.limit
        )
    }
}

impl Quota {
    pub fn new(limit: usize) -> Quota {
        Quota {
            used: Cell::new(0),
            limit,
            ceiling: Cell::new(limit),
            slabs: RefCell::new(slab::Slabs::default()),
            compact_wanted: Cell::new(false),
        }
    }

    /// Allocates a small object (a tuple) from the slab allocator; 8-byte aligned.
    pub fn alloc_object(&self, size: usize, what: &str) -> Result<std::ptr::NonNull<u8>> {
        self.slabs.borrow_mut().alloc(size, self, what)
    }

    /// Frees an object from `alloc_object`.
    ///
    /// # Safety
    /// `p` must come from `alloc_object(size, ..)` on this quota and not have been freed.
    pub unsafe fn free_object(&self, p: std::ptr::NonNull<u8>, size: usize) {
        // SAFETY: forwarded caller contract.
        unsafe { self.slabs.borrow_mut().free(p, size, self) }
    }

    /// Charges without an error-injection point (for memory behind an allocation that
    /// already had one).
    pub(crate) fn charge_raw(&self, bytes: usize, what: &str) -> Result<()> {
        let used = self.used.get();
        match used.checked_add(bytes) {
            Some(total) if total <= self.ceiling.get() => {
                self.used.set(total);
                Ok(())
            }
            _ if self.ceiling.get() > self.limit => Err(Error::Memory(format!(
                "not enough memory for {what}: {bytes} bytes needed, {used} in use of \
                 memory_limit {} plus the {} bytes deletes may use beyond it; delete fewer \
                 rows per transaction, or raise memory_limit",
                self.limit,
                self.delete_reserve()
            ))),
            _ => Err(Error::memory(what, bytes, used, self.limit)),
        }
    }

    /// Memory beyond `memory_limit` that deletes may use: an eighth of the limit, at least
    /// `DELETE_RESERVE_MIN`.
    pub fn delete_reserve(&self) -> usize {
        (self.limit / 8).max(DELETE_RESERVE_MIN)
    }

    /// While the returned scope lives, charges may use the delete reserve. A delete needs
    /// memory only for its transaction's bookkeeping (version records, its log entry, its WAL
    /// record), and gives back its tuple once committed: with the reserve, a full engine can
    /// always be emptied — one row per statement, or many per transaction.
    pub fn deleting(&self) -> Deleting<'_> {
        let before = self.ceiling.replace(self.limit.saturating_add(self.delete_reserve()));
        Deleting { quota: self, before }
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
        self.charge_raw(bytes, what)
    }

    /// Charges `bytes` for a read: as `charge`, but up to `READ_RESERVE` beyond what deletes may
    /// use.
    pub fn charge_read(&self, bytes: usize, what: &str) -> Result<()> {
        errinj::alloc_point(what)?;
        let used = self.used.get();
        match used.checked_add(bytes) {
            Some(total) if total <= self.read_ceiling() => {
                self.used.set(total);
                Ok(())
            }
            _ => Err(Error::Memory(format!(
                "not enough memory for {what}: {bytes} bytes needed, {used} in use of \
                 memory_limit {} plus the {} bytes reads may use beyond it; finish or free \
                 open iterators",
                self.limit,
                self.read_ceiling() - self.limit
            ))),
        }
    }

    /// What reads may reach: `READ_RESERVE` beyond what deletes may reach, so that reads
    /// work on an engine whose deletes used their reserve.
    fn read_ceiling(&self) -> usize {
        self.limit
            .saturating_add(self.delete_reserve())
            .saturating_add(READ_RESERVE)
    }

    /// An index wants compacting (`BTree::wants_compact`).
    pub fn note_compact_wanted(&self) {
        self.compact_wanted.set(true);
    }

    /// Whether an index wanted compacting since the last call.
    pub fn take_compact_wanted(&self) -> bool {
        self.compact_wanted.replace(false)
    }

    pub fn release(&self, bytes: usize) {
        debug_assert!(bytes <= self.used.get(), "quota released more than charged");
        self.used.set(self.used.get().saturating_sub(bytes));
    }
}

/// A scope in which charges may use the delete reserve (`Quota::deleting`).
pub struct Deleting<'q> {
    quota: &'q Quota,
    before: usize,
}

impl Drop for Deleting<'_> {
    fn drop(&mut self) {
        self.quota.ceiling.set(self.before);
    }
}

/// A `T` in the quota's slabs (an index block), used like a `Box`. It is freed by its owner,
/// which holds the quota, with `Quota::free_block`; a block never freed is only leaked.
pub struct Block<T>(NonNull<T>);

impl<T> std::ops::Deref for Block<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the block holds an initialised T until `free_block` consumes it.
        unsafe { self.0.as_ref() }
    }
}

impl<T> std::ops::DerefMut for Block<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; `&mut self` makes this the only access.
        unsafe { self.0.as_mut() }
    }
}

impl Quota {
    /// Moves `value` into a new block charged to this quota, or fails with `Error::Memory`
    /// and charges nothing.
    pub fn alloc_block<T>(&self, value: T, what: &str) -> Result<Block<T>> {
        const {
            assert!(size_of::<T>() <= slab::MAX_SMALL && align_of::<T>() <= 8);
        }
        let p = self
            .alloc_object(std::mem::size_of::<T>(), what)?
            .cast::<T>();
        // SAFETY: p is a fresh object of T's size, 8-aligned (enough for T, checked above).
        unsafe { p.as_ptr().write(value) };
        Ok(Block(p))
    }

    /// Frees a block from `alloc_block`.
    ///
    /// # Safety
    /// `b` must come from `alloc_block` on this quota.
    pub unsafe fn free_block<T>(&self, b: Block<T>) {
        // SAFETY: the block holds a T (consumed here, once) allocated with T's size on this
        // quota (caller contract).
        unsafe {
            std::ptr::drop_in_place(b.0.as_ptr());
            self.free_object(b.0.cast(), std::mem::size_of::<T>());
        }
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
