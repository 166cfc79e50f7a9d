//! Giving freed blocks back. A removal puts the blocks it empties on the free lists, where
//! they stay allocated (and charged) for later inserts. `compact` moves the live blocks at
//! the end of each arena into free slots nearer the front, fixes every reference to them,
//! and frees the blocks left at the end: deleting rows gives their index
//! memory back to the quota, as far as whole slabs empty. It allocates nothing.

use super::{BTree, Hinted, MAX_HEIGHT, NIL};
use crate::mem::{Block, Quota};

/// Frees the blocks of an arena from `keep` on.
fn free_tail<T>(quota: &Quota, arena: &mut Vec<Block<T>>, keep: usize) {
    for b in arena.drain(keep..) {
        // SAFETY: the tree's blocks come from alloc_block on its quota; these are free (no
        // entry and, after `fix_children`, no reference left to them) and leave the arena.
        unsafe { quota.free_block(b) };
    }
}

/// For an arena of `n` blocks of which `free` lists the free ones: calls `mv(src, dst)` for
/// every live block at or after the arena's new length (its live count), with a free slot
/// before it; empties `free` (taking nothing from the allocator) and returns that length.
fn plan_moves(free: &mut Vec<u32>, n: usize, mut mv: impl FnMut(u32, u32)) -> usize {
    let target = n - free.len();
    free.sort_unstable();
    let below = free.partition_point(|&f| (f as usize) < target);
    let mut next = 0;
    for src in target..n {
        if free.binary_search(&(src as u32)).is_err() {
            mv(src as u32, free[next]);
            next += 1;
        }
    }
    debug_assert_eq!(next, below, "every free slot before the end was filled");
    free.clear();
    target
}

/// The `len` of a free block whose live contents moved away; its `prev` (a leaf) or
/// `children[0]` (an inner node) says where to, until the references are fixed.
const MOVED: u32 = u32::MAX - 1;

impl<E: Copy + Hinted> BTree<E> {
    /// Whether enough blocks are free (a quarter of an arena, and a few) for `compact` to be
    /// worth its pass over the tree: what a tree keeps unused is bounded by that quarter, and
    /// the cost of compacting is proportional to the removals that freed it.
    pub fn wants_compact(&self) -> bool {
        const FEW: usize = 4;
        let many = |free: usize, all: usize| free >= FEW && free * 4 > all;
        many(self.free_leaves.len(), self.leaves.len())
            || many(self.free_inners.len(), self.inners.len())
    }

    /// A block went on a free list; once the tree wants compacting, the quota tells the
    /// engine so (which compacts between operations).
    pub(super) fn freed_block(&self) {
        if self.wants_compact() {
            self.quota.note_compact_wanted();
        }
    }

    /// Frees every block removals emptied (none is kept for later inserts: one kept block can
    /// hold a whole 64 KiB slab back, and an insert allocates one in no time). Only between
    /// operations: a reservation made before is void afterwards, and so is every position
    /// (the version changes, so iterators seek again).
    pub fn compact(&mut self) {
        if !self.wants_compact() {
            return;
        }
        self.finger.set(NIL);
        self.version += 1;
        let leaves = self.move_leaves();
        let inners = self.move_inners();
        self.fix_children();
        free_tail(&self.quota, &mut self.leaves, leaves);
        free_tail(&self.quota, &mut self.inners, inners);
    }

    /// Moves every live leaf at or after the new arena length into a free slot before it;
    /// returns that length (the live leaves). The free list ends up empty.
    fn move_leaves(&mut self) -> usize {
        let mut free = std::mem::take(&mut self.free_leaves);
        let target = plan_moves(&mut free, self.leaves.len(), |src, dst| self.move_leaf(src, dst));
        self.free_leaves = free;
        target
    }

    fn move_leaf(&mut self, src: u32, dst: u32) {
        self.leaves.swap(src as usize, dst as usize);
        let (prev, next) = {
            let l = &self.leaves[dst as usize];
            (l.prev, l.next)
        };
        if prev == NIL {
            self.first = dst;
        } else {
            self.leaves[prev as usize].next = dst;
        }
        if next == NIL {
            self.last = dst;
        } else {
            self.leaves[next as usize].prev = dst;
        }
        if self.height == 1 && self.root == src {
            self.root = dst;
        }
        let gone = &mut self.leaves[src as usize];
        gone.len = MOVED;
        gone.prev = dst;
    }

    /// As `move_leaves`, for inner nodes.
    fn move_inners(&mut self) -> usize {
        let mut free = std::mem::take(&mut self.free_inners);
        let target = plan_moves(&mut free, self.inners.len(), |src, dst| {
            self.inners.swap(src as usize, dst as usize);
            if self.height > 1 && self.root == src {
                self.root = dst;
            }
            let gone = &mut self.inners[src as usize];
            gone.len = MOVED;
            gone.children[0] = dst;
        });
        self.free_inners = free;
        target
    }

    /// Points every inner node's children at where they moved: one walk from the root, with
    /// a stack of one (node, next child) per level.
    fn fix_children(&mut self) {
        if self.height < 2 {
            return; // no inner node (the root, if any, was fixed as it moved)
        }
        let mut stack = [(0u32, 0usize); MAX_HEIGHT];
        let mut depth = 0;
        stack[0] = (self.root, 0);
        loop {
            let (node, ci) = stack[depth];
            let len = self.inners[node as usize].len as usize;
            if ci == len {
                if depth == 0 {
                    return;
                }
                depth -= 1;
                stack[depth].1 += 1;
                continue;
            }
            let child = self.inners[node as usize].children[ci];
            if depth + 2 == self.height {
                let l = &self.leaves[child as usize];
                if l.len == MOVED {
                    let to = l.prev;
                    self.inners[node as usize].children[ci] = to;
                }
                stack[depth].1 += 1;
            } else {
                let c = &self.inners[child as usize];
                let to = if c.len == MOVED { c.children[0] } else { child };
                self.inners[node as usize].children[ci] = to;
                depth += 1;
                stack[depth] = (to, 0);
            }
        }
    }
}
