//! A slab allocator for tuples and index blocks: objects of 8-byte size classes carved from
//! 64 KiB slabs (from `pages`, on huge pages where the system has them), the quota charged
//! per slab. Allocator overhead per tuple is at most 7 bytes (instead of
//! malloc's 8–24), and the quota sees real memory. A slab whose last object is freed is given
//! back at once, so an operation that fails after allocating leaves the accounting as it was.
//! Objects larger than `MAX_SMALL` go to the system allocator, charged exactly.

use super::Quota;
use super::pages::{self, Pages};
use crate::error::{Error, Result};
use std::alloc::Layout;
use std::ptr::{NonNull, null_mut};

const SLAB_SIZE: usize = pages::BLOCK;
const GRANULE: usize = 8;
/// Index blocks (up to ~1.5 KiB) are small objects too.
pub const MAX_SMALL: usize = 2048;
const CLASSES: usize = MAX_SMALL / GRANULE;
/// Objects start after the header, at a granule boundary.
const HEADER: usize = 64;

/// Lives at the start of every slab (slabs are aligned to their size, so an object's slab is
/// its address rounded down).
#[repr(C)]
struct Slab {
    class: u32,
    live: u32,
    bump: u32,
    free: *mut u8,
    prev: *mut Slab,
    next: *mut Slab,
    partial: bool,
}

const _: () = assert!(std::mem::size_of::<Slab>() <= HEADER);

/// Per size class, the slabs that have room.
pub struct Slabs {
    partial: [*mut Slab; CLASSES],
    pages: Pages,
}

impl Default for Slabs {
    fn default() -> Slabs {
        Slabs {
            partial: [null_mut(); CLASSES],
            pages: Pages::default(),
        }
    }
}

fn big_layout(size: usize) -> Layout {
    Layout::from_size_align(size, GRANULE).expect("object size is bounded")
}

fn class_of(size: usize) -> usize {
    size.div_ceil(GRANULE).max(1) - 1
}

impl Slabs {
    /// Allocates `size` bytes (8-aligned) for `what`, charging `quota` when a new slab is needed.
    pub fn alloc(&mut self, size: usize, quota: &Quota, what: &str) -> Result<NonNull<u8>> {
        super::errinj::alloc_point(what)?;
        if size > MAX_SMALL {
            quota.charge_raw(size, what)?;
            // SAFETY: size > 0 (it exceeds MAX_SMALL).
            let p = unsafe { std::alloc::alloc(big_layout(size)) };
            return NonNull::new(p).ok_or_else(|| {
                quota.release(size);
                Error::memory(what, size, quota.used(), quota.limit())
            });
        }
        let class = class_of(size);
        let obj = (class + 1) * GRANULE;
        let mut slab = self.partial[class];
        if slab.is_null() {
            slab = self.new_slab(class, quota, what)?;
        }
        // SAFETY: `slab` is a live slab of this class on the partial list (it has room); the
        // object taken lies inside it, past the header, and is not in use.
        unsafe {
            let s = &mut *slab;
            let p = if !s.free.is_null() {
                let p = s.free;
                s.free = (p as *mut *mut u8).read();
                p
            } else {
                let p = (slab as *mut u8).add(s.bump as usize);
                s.bump += obj as u32;
                p
            };
            s.live += 1;
            if s.free.is_null() && s.bump as usize + obj > SLAB_SIZE {
                self.unlink(slab);
            }
            Ok(NonNull::new_unchecked(p))
        }
    }

    fn new_slab(&mut self, class: usize, quota: &Quota, what: &str) -> Result<*mut Slab> {
        quota.charge_raw(SLAB_SIZE, what)?;
        let Some(p) = self.pages.alloc() else {
            quota.release(SLAB_SIZE);
            return Err(Error::memory(what, SLAB_SIZE, quota.used(), quota.limit()));
        };
        let p = p.as_ptr() as *mut Slab;
        // SAFETY: p is a fresh, aligned allocation large enough for the header.
        unsafe {
            p.write(Slab {
                class: class as u32,
                live: 0,
                bump: HEADER as u32,
                free: null_mut(),
                prev: null_mut(),
                next: null_mut(),
                partial: false,
            });
        }
        self.link(p);
        Ok(p)
    }

    /// Frees an object allocated with the same `size`.
    ///
    /// # Safety
    /// `p` must come from `alloc(size, ..)` on this allocator and not have been freed.
    pub unsafe fn free(&mut self, p: NonNull<u8>, size: usize, quota: &Quota) {
        if size > MAX_SMALL {
            // SAFETY: allocated by `alloc` with this layout (caller contract).
            unsafe { std::alloc::dealloc(p.as_ptr(), big_layout(size)) };
            quota.release(size);
            return;
        }
        let slab = (p.as_ptr() as usize & !(SLAB_SIZE - 1)) as *mut Slab;
        // SAFETY: the object belongs to the live slab its address rounds down to.
        unsafe {
            let s = &mut *slab;
            (p.as_ptr() as *mut *mut u8).write(s.free);
            s.free = p.as_ptr();
            s.live -= 1;
            if s.live == 0 {
                if s.partial {
                    self.unlink(slab);
                }
                self.pages.free(NonNull::new_unchecked(slab as *mut u8));
                quota.release(SLAB_SIZE);
            } else if !s.partial {
                self.link(slab);
            }
        }
    }

    fn link(&mut self, slab: *mut Slab) {
        // SAFETY: `slab` is live and not on a list; the list head is live or null.
        unsafe {
            let class = (*slab).class as usize;
            let head = self.partial[class];
            (*slab).next = head;
            (*slab).prev = null_mut();
            (*slab).partial = true;
            if !head.is_null() {
                (*head).prev = slab;
            }
            self.partial[class] = slab;
        }
    }

    fn unlink(&mut self, slab: *mut Slab) {
        // SAFETY: `slab` is live and on its class's partial list, as are its neighbours.
        unsafe {
            let s = &mut *slab;
            if s.prev.is_null() {
                self.partial[s.class as usize] = s.next;
            } else {
                (*s.prev).next = s.next;
            }
            if !s.next.is_null() {
                (*s.next).prev = s.prev;
            }
            s.partial = false;
            s.prev = null_mut();
            s.next = null_mut();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_distinct_aligned_and_all_memory_returns() {
        let quota = Quota::new(usize::MAX);
        let mut live: Vec<(NonNull<u8>, usize)> = vec![];
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for round in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let size = 1 + (x % 3000) as usize; // small and large objects
            if x.is_multiple_of(3) && !live.is_empty() {
                let (p, s) = live.swap_remove((x as usize / 7) % live.len());
                // SAFETY: p came from alloc(s) and is freed once.
                unsafe { quota.free_object(p, s) };
            } else {
                let p = quota.alloc_object(size, "test").unwrap();
                assert_eq!(p.as_ptr() as usize % GRANULE, 0);
                // SAFETY: p has `size` writable bytes; fill them to catch overlaps below.
                unsafe { std::ptr::write_bytes(p.as_ptr(), (round % 251) as u8, size) };
                live.push((p, size));
            }
        }
        // No two live objects overlap.
        let mut spans: Vec<(usize, usize)> = live
            .iter()
            .map(|(p, s)| (p.as_ptr() as usize, *s))
            .collect();
        spans.sort();
        for w in spans.windows(2) {
            assert!(w[0].0 + w[0].1 <= w[1].0, "objects overlap");
        }
        for (p, s) in live.drain(..) {
            // SAFETY: as above.
            unsafe { quota.free_object(p, s) };
        }
        assert_eq!(
            quota.used(),
            0,
            "every slab and large object was given back"
        );
    }

    #[test]
    fn a_full_quota_refuses_a_new_slab_and_changes_nothing() {
        let quota = Quota::new(SLAB_SIZE + 100);
        let first = quota.alloc_object(32, "test").unwrap();
        let used = quota.used();
        // Fill the slab's class 32, then one more needs a second slab, which does not fit.
        let per_slab = (SLAB_SIZE - HEADER) / 32;
        let mut more = vec![];
        for _ in 1..per_slab {
            more.push(quota.alloc_object(32, "test").unwrap());
        }
        let err = quota.alloc_object(32, "test").unwrap_err();
        assert!(matches!(err, crate::error::Error::Memory(_)), "{err:?}");
        assert_eq!(quota.used(), used);
        for p in more {
            // SAFETY: allocated above with size 32.
            unsafe { quota.free_object(p, 32) };
        }
        // SAFETY: as above.
        unsafe { quota.free_object(first, 32) };
        assert_eq!(quota.used(), 0);
    }
}
