//! Where slabs come from: 64 KiB blocks carved from 2 MiB chunks mapped straight from the
//! system and marked for transparent huge pages. A random index lookup touches a few tree
//! blocks and a tuple, each on its own 4 KiB page otherwise — a TLB miss and a page walk
//! apiece; on 2 MiB pages they mostly hit (functional-index replaces ran ~15% faster in
//! paired runs). Where huge pages are off, the chunks simply use small ones.
//!
//! A chunk whose blocks are all free is unmapped, except one kept as a spare so that a
//! workload hovering at a chunk boundary does not map and unmap (and zero 2 MiB) each time.

use std::ptr::NonNull;

pub const BLOCK: usize = 64 * 1024;
const CHUNK: usize = 2 * 1024 * 1024;
const ALL_FREE: u32 = u32::MAX; // CHUNK / BLOCK == 32 blocks, one bit each
const _: () = assert!(CHUNK / BLOCK == 32);

struct Chunk {
    base: usize,
    /// Bit i set: block i is free.
    free: u32,
}

#[derive(Default)]
pub struct Pages {
    /// Sorted by base, so a block finds its chunk by bisection.
    chunks: Vec<Chunk>,
    /// A chunk that may have free blocks: allocation looks there first.
    hint: usize,
}

/// Maps a fresh 2 MiB-aligned chunk; None when the system refuses.
fn map_chunk() -> Option<usize> {
    // Twice the size, then trim to an aligned chunk: mmap only promises page alignment.
    let len = 2 * CHUNK;
    // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches no
    // existing memory; the result is checked before use.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    let start = p as usize;
    let base = (start + CHUNK - 1) & !(CHUNK - 1);
    // SAFETY: both ranges lie inside the mapping just made and nothing uses them; a failed
    // trim only leaves unused address space mapped (never touched, so never resident).
    unsafe {
        if base > start {
            libc::munmap(start as *mut libc::c_void, base - start);
        }
        let end = start + len;
        if end > base + CHUNK {
            libc::munmap((base + CHUNK) as *mut libc::c_void, end - base - CHUNK);
        }
        // Advice only: without transparent huge pages the chunk works the same.
        libc::madvise(base as *mut libc::c_void, CHUNK, libc::MADV_HUGEPAGE);
    }
    Some(base)
}

fn unmap_chunk(base: usize) {
    // SAFETY: `base` is a chunk this allocator mapped, and none of its blocks is in use.
    unsafe { libc::munmap(base as *mut libc::c_void, CHUNK) };
}

impl Pages {
    /// A free 64 KiB block aligned to its size, or None when memory cannot be had (the
    /// bookkeeping vector or the system refused; nothing changed).
    pub fn alloc(&mut self) -> Option<NonNull<u8>> {
        let i = match self.with_free_block() {
            Some(i) => i,
            None => {
                self.chunks.try_reserve(1).ok()?;
                let base = map_chunk()?;
                let i = self.chunks.partition_point(|c| c.base < base);
                self.chunks.insert(
                    i,
                    Chunk {
                        base,
                        free: ALL_FREE,
                    },
                );
                i
            }
        };
        self.hint = i;
        let c = &mut self.chunks[i];
        let bit = c.free.trailing_zeros() as usize;
        c.free &= !(1 << bit);
        NonNull::new((c.base + bit * BLOCK) as *mut u8)
    }

    fn with_free_block(&self) -> Option<usize> {
        if self.chunks.get(self.hint).is_some_and(|c| c.free != 0) {
            return Some(self.hint);
        }
        self.chunks.iter().position(|c| c.free != 0)
    }

    /// Gives back a block from `alloc`.
    pub fn free(&mut self, block: NonNull<u8>) {
        let addr = block.as_ptr() as usize;
        let base = addr & !(CHUNK - 1);
        let i = self.chunks.partition_point(|c| c.base < base);
        let c = &mut self.chunks[i];
        debug_assert_eq!(c.base, base, "a block of another allocator");
        c.free |= 1 << ((addr - base) / BLOCK);
        if c.free == ALL_FREE && self.chunks.iter().filter(|c| c.free == ALL_FREE).count() > 1 {
            unmap_chunk(base);
            self.chunks.remove(i);
            self.hint = 0;
        } else {
            self.hint = i;
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // Dropped with its quota, after every tuple and index block (they keep the quota).
        for c in &self.chunks {
            unmap_chunk(c.base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_aligned_distinct_and_empty_chunks_go_back_but_one() {
        let mut pages = Pages::default();
        let blocks: Vec<_> = (0..100).map(|_| pages.alloc().unwrap()).collect();
        let mut addrs: Vec<usize> = blocks.iter().map(|b| b.as_ptr() as usize).collect();
        assert!(addrs.iter().all(|a| a % BLOCK == 0));
        addrs.sort();
        addrs.dedup();
        assert_eq!(addrs.len(), 100);
        assert_eq!(pages.chunks.len(), 4); // 100 blocks of 32 per chunk
        for b in blocks {
            pages.free(b);
        }
        assert_eq!(pages.chunks.len(), 1, "one empty chunk stays as a spare");
        let again = pages.alloc().unwrap();
        assert_eq!(pages.chunks.len(), 1, "the spare serves the next block");
        pages.free(again);
    }
}
