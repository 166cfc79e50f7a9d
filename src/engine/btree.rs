//! An ordered B+ tree of unique entries with fallible, reserved allocation.
//!
//! Every modification first reserves the worst-case number of blocks it may need
//! (`reserve_insert`); only then does it touch the tree, and the touching part cannot fail.
//! A failed reservation is undone with `unreserve`, leaving memory and accounting as before.
//!
//! Entries are ordered by a comparator passed to each call (entries are tuple pointers; the
//! index knows how to compare them). Invariant relied on by callers that dereference entries:
//! every separator in an inner node equals the smallest entry of the subtree to its right, so
//! separators are always live entries.

mod compact;

use crate::error::Result;
use crate::mem::{self, Block, Quota};
use std::cell::Cell;
use std::cmp::Ordering;
use std::rc::Rc;

const LEAF_CAP: usize = 60;
const LEAF_MIN: usize = LEAF_CAP / 2;
const INNER_CAP: usize = 40; // children
const INNER_MIN: usize = INNER_CAP / 2;
const MAX_HEIGHT: usize = 24;
const NIL: u32 = u32::MAX;

struct Leaf<E> {
    len: u32,
    prev: u32,
    next: u32,
    items: [E; LEAF_CAP],
}

struct Inner<E> {
    len: u32, // number of children; keys has len - 1 entries
    keys: [E; INNER_CAP - 1],
    children: [u32; INNER_CAP],
}

/// A position: leaf block and slot. `leaf == NIL` is the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    leaf: u32,
    pos: u32,
}

impl Cursor {
    pub const END: Cursor = Cursor { leaf: NIL, pos: 0 };

    pub fn is_end(self) -> bool {
        self.leaf == NIL
    }
}

/// Undo record of a reservation.
#[derive(Clone, Copy, Debug)]
pub struct Reservation {
    leaves: usize,
    inners: usize,
    free_leaves: usize,
    free_inners: usize,
    caps: [usize; 4],
    charged: usize,
}

pub struct BTree<E: Copy + Hinted> {
    leaves: Vec<Block<Leaf<E>>>,
    inners: Vec<Block<Inner<E>>>,
    free_leaves: Vec<u32>,
    free_inners: Vec<u32>,
    root: u32,
    height: usize, // 0: empty; 1: root is a leaf
    first: u32,
    last: u32,
    len: usize,
    version: u64,
    fill: E,
    quota: Rc<Quota>,
    charged: usize,
    /// The leaf the last search ended in. A search first checks whether its answer lies
    /// inside that leaf (by the leaf's current contents, so any change to the tree keeps it
    /// correct): accesses with locality skip the descent.
    finger: Cell<u32>,
    /// Where in the finger leaf the last `bound` answered: a guess (checked against the
    /// leaf's contents before use) that makes sequential and repeated lookups skip the
    /// bisection too.
    finger_pos: Cell<u32>,
}

type Path = [(u32, u32); MAX_HEIGHT];

/// Entries carry an order-preserving 64-bit hint: `a < b` implies `a.hint() <= b.hint()`.
/// Some also carry a second one, `hint2`, that orders entries of one first hint where that
/// hint is exact (see `Seek`).
pub trait Hinted {
    fn hint(&self) -> u64;
    fn hint2(&self) -> u64 {
        0
    }
    /// What a search for this very entry, comparing all of it, may compare without `cmp`.
    fn seek(&self) -> Seek {
        Seek::first(self.hint())
    }
}

/// The hints of what a search seeks. Entries of a smaller first hint are below it and of a
/// larger one above it. With `h2`, entries of the same first hint are so ordered by their
/// `hint2` as well: the caller gives it only where equal first hints mean equal first values
/// and the search compares the second part.
#[derive(Clone, Copy, Debug)]
pub struct Seek {
    pub h1: u64,
    pub h2: Option<u64>,
}

impl Seek {
    pub fn first(h1: u64) -> Seek {
        Seek { h1, h2: None }
    }
}

/// The first position where `pred` (true for a prefix of `items`) is false. With `hint`,
/// what is sought, the bisection compares hints and calls `pred` only on equal ones.
/// The node's cache lines are all requested first: their loads overlap, so a node that is
/// not in cache costs about one miss instead of a chain of them, and the bisection then
/// takes ~log2(n) steps instead of a pass over every entry.
#[inline(always)]
fn search<E: Hinted>(items: &[E], hint: Option<Seek>, pred: &impl Fn(&E) -> bool) -> usize {
    let Some(Seek { h1, h2 }) = hint else {
        return items.partition_point(pred);
    };
    prefetch(items);
    let by = |o: Ordering, e: &E| match o {
        Ordering::Less => true,
        Ordering::Greater => false,
        Ordering::Equal => pred(e),
    };
    match h2 {
        None => items.partition_point(|e| by(e.hint().cmp(&h1), e)),
        Some(h2) => items.partition_point(|e| by((e.hint(), e.hint2()).cmp(&(h1, h2)), e)),
    }
}

/// Asks the CPU to start loading every cache line of `items`.
#[inline(always)]
fn prefetch<E>(items: &[E]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let start = items.as_ptr() as *const i8;
        let bytes = std::mem::size_of_val(items);
        for off in (0..bytes).step_by(64) {
            // SAFETY: a prefetch is only a hint; the address lies inside `items`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.add(off)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

impl<E: Copy + Hinted> BTree<E> {
    /// `fill` is a placeholder value for unused slots; it is never handed out or compared.
    pub fn new(quota: Rc<Quota>, fill: E) -> BTree<E> {
        BTree {
            leaves: Vec::new(),
            inners: Vec::new(),
            free_leaves: Vec::new(),
            free_inners: Vec::new(),
            root: NIL,
            height: 0,
            first: NIL,
            last: NIL,
            len: 0,
            version: 0,
            fill,
            quota,
            charged: 0,
            finger: Cell::new(NIL),
            finger_pos: Cell::new(0),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Changes whenever an entry is added or removed: iterators use it to know that their
    /// cursor may have moved.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Bytes this tree has charged to the quota for its arena vectors (blocks are charged
    /// with the slabs they sit in).
    pub fn charged(&self) -> usize {
        self.charged
    }

    // ---- reservation -------------------------------------------------------------------

    /// Reserves the blocks the next `insert` may need: one leaf and one inner block per level.
    pub fn reserve_insert(&mut self) -> Result<Reservation> {
        self.reserve_inserts(1)
    }

    /// Reserves the blocks the next `n` inserts may need (each may also add a level).
    pub fn reserve_inserts(&mut self, n: usize) -> Result<Reservation> {
        let mark = Reservation {
            leaves: self.leaves.len(),
            inners: self.inners.len(),
            free_leaves: self.free_leaves.len(),
            free_inners: self.free_inners.len(),
            caps: [
                self.leaves.capacity(),
                self.inners.capacity(),
                self.free_leaves.capacity(),
                self.free_inners.capacity(),
            ],
            charged: self.charged,
        };
        // n inserts far fewer than a block holds add at most one level between them.
        let need_inners = if n == 1 {
            self.height
        } else {
            n * (self.height + 1)
        };
        let result = self
            .reserve_leaves(n)
            .and_then(|_| self.reserve_inners(need_inners));
        match result {
            Ok(()) => Ok(mark),
            Err(e) => {
                self.unreserve(mark);
                Err(e)
            }
        }
    }

    fn reserve_leaves(&mut self, n: usize) -> Result<()> {
        while self.free_leaves.len() < n {
            let q = self.quota.clone();
            mem::try_grow(&mut self.leaves, 1, &q, &mut self.charged, "an index block")?;
            // The free list must hold every block without growing (removal never allocates).
            let extra = self.leaves.len() + 1 - self.free_leaves.len();
            mem::try_grow(
                &mut self.free_leaves,
                extra,
                &q,
                &mut self.charged,
                "an index block",
            )?;
            let leaf = Leaf {
                len: 0,
                prev: NIL,
                next: NIL,
                items: [self.fill; LEAF_CAP],
            };
            let b = q.alloc_block(leaf, "an index block")?;
            self.free_leaves.push(self.leaves.len() as u32);
            self.leaves.push(b);
        }
        Ok(())
    }

    fn reserve_inners(&mut self, n: usize) -> Result<()> {
        while self.free_inners.len() < n {
            let q = self.quota.clone();
            mem::try_grow(&mut self.inners, 1, &q, &mut self.charged, "an index block")?;
            let extra = self.inners.len() + 1 - self.free_inners.len();
            mem::try_grow(
                &mut self.free_inners,
                extra,
                &q,
                &mut self.charged,
                "an index block",
            )?;
            let inner = Inner {
                len: 0,
                keys: [self.fill; INNER_CAP - 1],
                children: [NIL; INNER_CAP],
            };
            let b = q.alloc_block(inner, "an index block")?;
            self.free_inners.push(self.inners.len() as u32);
            self.inners.push(b);
        }
        Ok(())
    }

    /// Returns memory and accounting to what they were at `mark` (the tree must not have been
    /// modified since: only reservations happened).
    pub fn unreserve(&mut self, mark: Reservation) {
        for b in self.leaves.drain(mark.leaves..) {
            // SAFETY: the tree's blocks come from alloc_block on its quota.
            unsafe { self.quota.free_block(b) };
        }
        for b in self.inners.drain(mark.inners..) {
            // SAFETY: as above.
            unsafe { self.quota.free_block(b) };
        }
        self.free_leaves.truncate(mark.free_leaves);
        self.free_inners.truncate(mark.free_inners);
        self.leaves.shrink_to(mark.caps[0]);
        self.inners.shrink_to(mark.caps[1]);
        self.free_leaves.shrink_to(mark.caps[2]);
        self.free_inners.shrink_to(mark.caps[3]);
        self.quota.release(self.charged - mark.charged);
        self.charged = mark.charged;
    }

    fn take_leaf(&mut self) -> u32 {
        self.free_leaves.pop().expect("leaf reserved before insert")
    }

    fn take_inner(&mut self) -> u32 {
        self.free_inners
            .pop()
            .expect("inner block reserved before insert")
    }

    // ---- search ------------------------------------------------------------------------

    /// Descends to the leaf where `below(e)` stops holding, recording the path. In inner
    /// nodes `inner_below` picks the child (an entry equal to a separator lives to its right).
    fn descend(
        &self,
        hint: Option<Seek>,
        inner_below: &impl Fn(&E) -> bool,
        below: &impl Fn(&E) -> bool,
        path: &mut Path,
    ) -> (u32, usize) {
        let mut node = self.root;
        for step in path.iter_mut().take(self.height - 1) {
            let inner = &self.inners[node as usize];
            let keys = &inner.keys[..inner.len as usize - 1];
            let c = search(keys, hint, inner_below);
            *step = (node, c as u32);
            node = inner.children[c];
        }
        let leaf = &self.leaves[node as usize];
        (node, search(&leaf.items[..leaf.len as usize], hint, below))
    }

    /// Descends to the entry equal to the sought one (by `cmp`), recording the path and
    /// moving the finger there; None when there is no such entry.
    fn descend_to(
        &self,
        cmp: &impl Fn(&E) -> Ordering,
        hint: Option<Seek>,
        path: &mut Path,
    ) -> Option<(u32, usize)> {
        let below = |x: &E| cmp(x) == Ordering::Less;
        let inner_below = |x: &E| cmp(x) != Ordering::Greater;
        let (leaf, pos) = self.descend(hint, &inner_below, &below, path);
        self.finger.set(leaf);
        let l = &self.leaves[leaf as usize];
        (pos < l.len as usize && cmp(&l.items[pos]) == Ordering::Equal).then_some((leaf, pos))
    }

    /// A position `seed` picks: at each level the child it names (the seed mixed anew per
    /// level), in the leaf the slot. Every entry can be picked, not all equally often (as
    /// Tarantool's index:random): a look at the data without a scan, not a sample.
    pub fn random(&self, seed: u64) -> Cursor {
        if self.height == 0 {
            return Cursor::END;
        }
        let mut s = seed;
        let mut next = || {
            // splitmix64: each level's pick depends on every bit of the seed.
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut node = self.root;
        for _ in 1..self.height {
            let inner = &self.inners[node as usize];
            node = inner.children[(next() % inner.len as u64) as usize];
        }
        let leaf = &self.leaves[node as usize];
        self.cursor_at(node, (next() % leaf.len.max(1) as u64) as usize)
    }

    fn cursor_at(&self, leaf: u32, pos: usize) -> Cursor {
        if pos < self.leaves[leaf as usize].len as usize {
            Cursor {
                leaf,
                pos: pos as u32,
            }
        } else {
            self.next(Cursor {
                leaf,
                pos: pos as u32,
            })
        }
    }

    /// First entry `e` with `cmp(e) != Less` (`cmp` compares an entry with the search key).
    /// `hint` (here and below): the hints of the sought key, when it has them (`Seek`).
    pub fn lower_bound(&self, cmp: impl Fn(&E) -> Ordering, hint: Option<Seek>) -> Cursor {
        self.bound(&|e| cmp(e) == Ordering::Less, hint)
    }

    /// First entry `e` with `cmp(e) == Greater`.
    pub fn upper_bound(&self, cmp: impl Fn(&E) -> Ordering, hint: Option<Seek>) -> Cursor {
        self.bound(&|e| cmp(e) != Ordering::Greater, hint)
    }

    fn bound(&self, below: &impl Fn(&E) -> bool, hint: Option<Seek>) -> Cursor {
        if self.height == 0 {
            return Cursor::END;
        }
        let f = self.finger.get();
        if let Some(leaf) = self.leaves.get(f as usize) {
            // Free leaves have len 0, so a stale finger never matches.
            let n = leaf.len as usize;
            if n > 0
                && (leaf.prev == NIL || below(&leaf.items[0]))
                && (leaf.next == NIL || !below(&leaf.items[n - 1]))
            {
                // The predicate is monotone: everything before this leaf is below, and
                // everything after it is not (or nothing is after it), so the answer is here:
                // right after the last answer (a sequential lookup) or at it (a repeated
                // one), when the neighbours say so; else bisect the leaf, likely in cache.
                let items = &leaf.items[..n];
                let is_answer = |p: usize| {
                    p <= n && (p == 0 || below(&items[p - 1])) && (p == n || !below(&items[p]))
                };
                let last = self.finger_pos.get() as usize;
                let pos = if is_answer(last + 1) {
                    last + 1
                } else if is_answer(last) {
                    last
                } else {
                    items.partition_point(below)
                };
                self.finger_pos.set(pos as u32);
                return self.cursor_at(f, pos);
            }
        }
        let mut path = [(0, 0); MAX_HEIGHT];
        let (leaf, pos) = self.descend(hint, below, below, &mut path);
        self.finger.set(leaf);
        self.finger_pos.set(pos as u32);
        self.cursor_at(leaf, pos)
    }

    /// Where an entry ordered by `cmp` (entry vs. the sought one) belongs, when that is
    /// inside the finger leaf as far as its contents tell: strictly between its first and
    /// last entries, or beyond them at the tree's edges. `None` means "descend".
    fn finger_slot(&self, cmp: &impl Fn(&E) -> Ordering) -> Option<(u32, usize)> {
        let f = self.finger.get();
        let leaf = self.leaves.get(f as usize)?;
        let n = leaf.len as usize;
        if n == 0 {
            return None;
        }
        let items = &leaf.items[..n];
        let after_first = leaf.prev == NIL || cmp(&items[0]) == Ordering::Less;
        let before_last = leaf.next == NIL || cmp(&items[n - 1]) != Ordering::Less;
        if !(after_first && before_last) {
            return None;
        }
        // Likely in cache (see `bound`): bisect.
        Some((f, items.partition_point(|x| cmp(x) == Ordering::Less)))
    }

    /// Overwrites the entry equal to `new` (by `cmp`, which compares an entry with `new`)
    /// with `new`, in place: for an entry whose key did not change. Returns the old entry.
    /// The tree's shape and version stay as they were, so cursors stay valid.
    pub fn replace(&mut self, cmp: impl Fn(&E) -> Ordering, new: E) -> Option<E> {
        if self.height == 0 {
            return None;
        }
        let hint = Some(new.seek());
        if let Some((leaf_id, pos)) = self.finger_slot(&cmp) {
            // Not the leaf's first entry, so no separator is a copy of it.
            let leaf = &mut self.leaves[leaf_id as usize];
            if pos > 0 && pos < leaf.len as usize && cmp(&leaf.items[pos]) == Ordering::Equal {
                return Some(std::mem::replace(&mut leaf.items[pos], new));
            }
        }
        let mut path = [(0, 0); MAX_HEIGHT];
        let (leaf_id, pos) = self.descend_to(&cmp, hint, &mut path)?;
        let leaf = &mut self.leaves[leaf_id as usize];
        let old = std::mem::replace(&mut leaf.items[pos], new);
        if pos == 0 {
            // A leaf's first entry may be a separator above: that copy must stay live too.
            if let Some(level) = (0..self.height - 1).rev().find(|&l| path[l].1 > 0) {
                let (node, c) = path[level];
                self.inners[node as usize].keys[c as usize - 1] = new;
            }
        }
        Some(old)
    }

    /// The entry equal to the key, if any.
    pub fn find(&self, cmp: impl Fn(&E) -> Ordering, hint: Option<Seek>) -> Option<E> {
        let c = self.lower_bound(&cmp, hint);
        self.get(c).filter(|e| cmp(e) == Ordering::Equal)
    }

    /// The first entry whose hint is not below `h`: a search on integers only.
    pub fn lower_bound_hint(&self, h: u64) -> Cursor {
        self.bound(&|e| e.hint() < h, Some(Seek::first(h)))
    }

    pub fn first(&self) -> Cursor {
        if self.first == NIL {
            Cursor::END
        } else {
            Cursor {
                leaf: self.first,
                pos: 0,
            }
        }
    }

    pub fn last(&self) -> Cursor {
        if self.last == NIL {
            return Cursor::END;
        }
        Cursor {
            leaf: self.last,
            pos: self.leaves[self.last as usize].len - 1,
        }
    }

    pub fn get(&self, c: Cursor) -> Option<E> {
        if c.leaf == NIL {
            return None;
        }
        let leaf = &self.leaves[c.leaf as usize];
        (c.pos < leaf.len).then(|| leaf.items[c.pos as usize])
    }

    pub fn next(&self, c: Cursor) -> Cursor {
        if c.leaf == NIL {
            return c;
        }
        let leaf = &self.leaves[c.leaf as usize];
        if c.pos + 1 < leaf.len {
            return Cursor {
                leaf: c.leaf,
                pos: c.pos + 1,
            };
        }
        if leaf.next == NIL {
            Cursor::END
        } else {
            Cursor {
                leaf: leaf.next,
                pos: 0,
            }
        }
    }

    pub fn prev(&self, c: Cursor) -> Cursor {
        if c.leaf == NIL {
            return c;
        }
        if c.pos > 0 {
            return Cursor {
                leaf: c.leaf,
                pos: c.pos - 1,
            };
        }
        let p = self.leaves[c.leaf as usize].prev;
        if p == NIL {
            Cursor::END
        } else {
            Cursor {
                leaf: p,
                pos: self.leaves[p as usize].len - 1,
            }
        }
    }

    /// Calls `f` on the entries from `c` on (backwards when `reverse`), a leaf at a time,
    /// until it returns false or the entries end. Returns where the walk stopped: the cursor of
    /// the entry `f` refused, or `END`.
    pub fn walk(
        &self,
        mut c: Cursor,
        reverse: bool,
        mut f: impl FnMut(&E, Cursor) -> bool,
    ) -> Cursor {
        while c.leaf != NIL {
            let leaf = &self.leaves[c.leaf as usize];
            let items = &leaf.items[..leaf.len as usize];
            if reverse {
                for pos in (0..=c.pos as usize).rev() {
                    let at = Cursor {
                        leaf: c.leaf,
                        pos: pos as u32,
                    };
                    if !f(&items[pos], at) {
                        return at;
                    }
                }
                c = match leaf.prev {
                    NIL => Cursor::END,
                    p => Cursor {
                        leaf: p,
                        pos: self.leaves[p as usize].len - 1,
                    },
                };
            } else {
                for (pos, e) in items.iter().enumerate().skip(c.pos as usize) {
                    let at = Cursor {
                        leaf: c.leaf,
                        pos: pos as u32,
                    };
                    if !f(e, at) {
                        return at;
                    }
                }
                c = Cursor {
                    leaf: leaf.next,
                    pos: 0,
                };
            }
        }
        Cursor::END
    }

    /// The entry before the first one with `below(e) == false`, i.e. the last entry below.
    pub fn last_below(
        &self,
        cmp: impl Fn(&E) -> Ordering,
        inclusive: bool,
        hint: Option<Seek>,
    ) -> Cursor {
        let c = if inclusive {
            self.upper_bound(cmp, hint)
        } else {
            self.lower_bound(cmp, hint)
        };
        if c.is_end() {
            self.last()
        } else {
            self.prev(c)
        }
    }

    // ---- insert ------------------------------------------------------------------------

    /// Inserts `e`; returns the equal entry instead when there is one (tree unchanged).
    /// Requires a successful `reserve_insert` since the last modification.
    pub fn insert(&mut self, e: E, cmp: impl Fn(&E, &E) -> Ordering) -> std::result::Result<(), E> {
        if self.height == 0 {
            let id = self.take_leaf();
            let leaf = &mut self.leaves[id as usize];
            leaf.len = 1;
            leaf.prev = NIL;
            leaf.next = NIL;
            leaf.items[0] = e;
            self.root = id;
            self.height = 1;
            self.first = id;
            self.last = id;
            self.len = 1;
            self.version += 1;
            return Ok(());
        }
        let hint = Some(e.seek());
        if let Some((leaf_id, pos)) = self.finger_slot(&|x: &E| cmp(x, &e)) {
            let leaf = &self.leaves[leaf_id as usize];
            if pos < leaf.len as usize && cmp(&leaf.items[pos], &e) == Ordering::Equal {
                return Err(leaf.items[pos]);
            }
            if (leaf.len as usize) < LEAF_CAP {
                // Room in the leaf, so no split and no path needed.
                self.len += 1;
                self.version += 1;
                self.leaf_insert(leaf_id, pos, e);
                return Ok(());
            }
        }
        let mut path = [(0, 0); MAX_HEIGHT];
        let below = |x: &E| cmp(x, &e) == Ordering::Less;
        let (leaf_id, pos) = self.descend(
            hint,
            &|x: &E| cmp(x, &e) != Ordering::Greater,
            &below,
            &mut path,
        );
        self.finger.set(leaf_id);
        {
            let leaf = &self.leaves[leaf_id as usize];
            if pos < leaf.len as usize && cmp(&leaf.items[pos], &e) == Ordering::Equal {
                return Err(leaf.items[pos]);
            }
        }
        self.len += 1;
        self.version += 1;
        if self.height > 1
            && self.leaves[leaf_id as usize].len as usize == LEAF_CAP
            && self.redistribute(leaf_id, pos, e, path[self.height - 2])
        {
            return Ok(());
        }
        let Some((mut sep, mut right)) = self.leaf_insert(leaf_id, pos, e) else {
            return Ok(());
        };
        for level in (0..self.height - 1).rev() {
            let (node, c) = path[level];
            let rightmost = (0..=level)
                .all(|l| path[l].1 as usize + 1 == self.inners[path[l].0 as usize].len as usize);
            match self.inner_insert(node, c as usize, sep, right, rightmost) {
                None => return Ok(()),
                Some((s, r)) => (sep, right) = (s, r),
            }
        }
        // The root split: grow a level.
        let id = self.take_inner();
        let root = &mut self.inners[id as usize];
        root.len = 2;
        root.keys[0] = sep;
        root.children[0] = self.root;
        root.children[1] = right;
        self.root = id;
        self.height += 1;
        Ok(())
    }

    /// Inserts `e` into the full leaf `id` by moving entries to a sibling with room under the
    /// same parent instead of splitting (B*-tree style): appends into the middle of an index
    /// (a run of equal keys growing at its end) then fill leaves instead of leaving halves.
    /// Returns false when neither sibling has room. Never allocates.
    fn redistribute(&mut self, id: u32, pos: usize, e: E, (parent, c): (u32, u32)) -> bool {
        let c = c as usize;
        let (right, left) = {
            let p = &self.inners[parent as usize];
            (
                (c + 1 < p.len as usize).then(|| p.children[c + 1]),
                (c > 0).then(|| p.children[c - 1]),
            )
        };
        let room = |t: &Self, s: Option<u32>| {
            s.map_or(0, |s| LEAF_CAP - t.leaves[s as usize].len as usize)
        };
        let (rroom, lroom) = (room(self, right), room(self, left));
        if rroom < 2 && lroom < 2 {
            return false;
        }
        // The full leaf plus the new entry, in order.
        let mut all = [self.fill; LEAF_CAP + 1];
        {
            let l = &self.leaves[id as usize];
            all[..pos].copy_from_slice(&l.items[..pos]);
            all[pos] = e;
            all[pos + 1..].copy_from_slice(&l.items[pos..]);
        }
        if rroom >= lroom {
            let rid = right.expect("room implies a sibling");
            let k = rroom.div_ceil(2);
            let keep = LEAF_CAP + 1 - k;
            let (l, r) = two(&mut self.leaves, id, rid);
            let rn = r.len as usize;
            r.items.copy_within(0..rn, k);
            r.items[..k].copy_from_slice(&all[keep..]);
            r.len += k as u32;
            l.items[..keep].copy_from_slice(&all[..keep]);
            l.len = keep as u32;
            let sep = r.items[0];
            self.inners[parent as usize].keys[c] = sep;
        } else {
            let lid = left.expect("room implies a sibling");
            let k = lroom.div_ceil(2);
            let (lf, l) = two(&mut self.leaves, lid, id);
            let ln = lf.len as usize;
            lf.items[ln..ln + k].copy_from_slice(&all[..k]);
            lf.len += k as u32;
            l.items[..LEAF_CAP + 1 - k].copy_from_slice(&all[k..]);
            l.len = (LEAF_CAP + 1 - k) as u32;
            let sep = l.items[0];
            self.inners[parent as usize].keys[c - 1] = sep;
        }
        true
    }

    /// Inserts into a leaf; on a split returns (separator, new right leaf).
    fn leaf_insert(&mut self, id: u32, pos: usize, e: E) -> Option<(E, u32)> {
        let len = self.leaves[id as usize].len as usize;
        if len < LEAF_CAP {
            let leaf = &mut self.leaves[id as usize];
            leaf.items.copy_within(pos..len, pos + 1);
            leaf.items[pos] = e;
            leaf.len += 1;
            return None;
        }
        let rid = self.take_leaf();
        // Appending at the right edge (sequential keys): keep the left leaf full. Only the
        // rightmost leaf may be underfull, which removal handles (see `remove`).
        let at_edge = pos == LEAF_CAP && self.leaves[id as usize].next == NIL;
        let split = if at_edge { LEAF_CAP } else { LEAF_CAP / 2 };
        let (l, r) = two(&mut self.leaves, id, rid);
        let moved = LEAF_CAP - split;
        r.items[..moved].copy_from_slice(&l.items[split..]);
        r.len = moved as u32;
        l.len = split as u32;
        r.next = l.next;
        r.prev = id;
        l.next = rid;
        let to_left = pos <= split && !at_edge;
        let target = if to_left { &mut *l } else { &mut *r };
        let p = if to_left { pos } else { pos - split };
        let n = target.len as usize;
        target.items.copy_within(p..n, p + 1);
        target.items[p] = e;
        target.len += 1;
        let sep = r.items[0];
        let next = r.next;
        if next == NIL {
            self.last = rid;
        } else {
            self.leaves[next as usize].prev = rid;
        }
        Some((sep, rid))
    }

    /// Inserts (sep, child) after child `c` of an inner node; on a split returns the middle
    /// separator and the new right node.
    fn inner_insert(
        &mut self,
        id: u32,
        c: usize,
        sep: E,
        child: u32,
        rightmost: bool,
    ) -> Option<(E, u32)> {
        let len = self.inners[id as usize].len as usize;
        if len < INNER_CAP {
            let n = &mut self.inners[id as usize];
            n.keys.copy_within(c..len - 1, c + 1);
            n.keys[c] = sep;
            n.children.copy_within(c + 1..len, c + 2);
            n.children[c + 1] = child;
            n.len += 1;
            return None;
        }
        // Build the overfull sequence, then split it in two.
        let mut keys = [self.fill; INNER_CAP];
        let mut children = [NIL; INNER_CAP + 1];
        {
            let n = &self.inners[id as usize];
            keys[..c].copy_from_slice(&n.keys[..c]);
            keys[c] = sep;
            keys[c + 1..].copy_from_slice(&n.keys[c..]);
            children[..c + 1].copy_from_slice(&n.children[..c + 1]);
            children[c + 1] = child;
            children[c + 2..].copy_from_slice(&n.children[c + 1..]);
        }
        let total = INNER_CAP + 1;
        // At the right edge keep the left node full and start the right one with two children.
        let left = if rightmost && c + 1 == INNER_CAP {
            total - 2
        } else {
            total / 2
        };
        let rid = self.take_inner();
        let (l, r) = two(&mut self.inners, id, rid);
        l.len = left as u32;
        l.children[..left].copy_from_slice(&children[..left]);
        l.keys[..left - 1].copy_from_slice(&keys[..left - 1]);
        let up = keys[left - 1];
        let right = total - left;
        r.len = right as u32;
        r.children[..right].copy_from_slice(&children[left..]);
        r.keys[..right - 1].copy_from_slice(&keys[left..]);
        Some((up, rid))
    }

    // ---- delete ------------------------------------------------------------------------

    /// Removes the entry equal to `key` (by `cmp(entry)`), returning it. Never allocates.
    pub fn remove(&mut self, cmp: impl Fn(&E) -> Ordering, hint: Option<Seek>) -> Option<E> {
        if self.height == 0 {
            return None;
        }
        if let Some((leaf_id, pos)) = self.finger_slot(&cmp) {
            // Not the first entry (no separator copies it) and the leaf stays full enough:
            // no path needed.
            let leaf = &mut self.leaves[leaf_id as usize];
            let len = leaf.len as usize;
            if pos > 0
                && pos < len
                && (len > LEAF_MIN || self.height == 1)
                && cmp(&leaf.items[pos]) == Ordering::Equal
            {
                let removed = leaf.items[pos];
                leaf.items.copy_within(pos + 1..len, pos);
                leaf.len -= 1;
                self.len -= 1;
                self.version += 1;
                return Some(removed);
            }
        }
        let mut path = [(0, 0); MAX_HEIGHT];
        let (leaf_id, pos) = self.descend_to(&cmp, hint, &mut path)?;
        let leaf = &mut self.leaves[leaf_id as usize];
        let len = leaf.len as usize;
        let removed = leaf.items[pos];
        leaf.items.copy_within(pos + 1..len, pos);
        leaf.len -= 1;
        self.len -= 1;
        self.version += 1;
        let depth = self.height - 1;
        if leaf.len == 0 && depth == 0 {
            // The root leaf emptied: the tree is empty.
            self.free_leaves.push(leaf_id);
            self.freed_block();
            self.root = NIL;
            self.height = 0;
            self.first = NIL;
            self.last = NIL;
            return Some(removed);
        }
        if pos == 0 && leaf.len > 0 {
            // The leaf's minimum changed: the separator naming it must stay a live entry.
            let new_min = leaf.items[0];
            if let Some(level) = (0..depth).rev().find(|&l| path[l].1 > 0) {
                let (node, c) = path[level];
                self.inners[node as usize].keys[c as usize - 1] = new_min;
            }
        }
        if (self.leaves[leaf_id as usize].len as usize) < LEAF_MIN && depth > 0 {
            self.rebalance_leaf(&path, depth);
        }
        Some(removed)
    }

    fn rebalance_leaf(&mut self, path: &Path, depth: usize) {
        let (parent, c) = path[depth - 1];
        let c = c as usize;
        let plen = self.inners[parent as usize].len as usize;
        // Pair the leaf with its right sibling, or its left one when it is the last child.
        let (li, ri) = if c + 1 < plen { (c, c + 1) } else { (c - 1, c) };
        let (lid, rid) = {
            let p = &self.inners[parent as usize];
            (p.children[li], p.children[ri])
        };
        let (l, r) = two(&mut self.leaves, lid, rid);
        let (ln, rn) = (l.len as usize, r.len as usize);
        if ln + rn <= LEAF_CAP {
            l.items[ln..ln + rn].copy_from_slice(&r.items[..rn]);
            l.len = (ln + rn) as u32;
            l.next = r.next;
            let next = r.next;
            r.len = 0; // a freed leaf is empty: see `finger`
            if next == NIL {
                self.last = lid;
            } else {
                self.leaves[next as usize].prev = lid;
            }
            self.free_leaves.push(rid);
            self.freed_block();
            self.inner_remove_child(parent, ri);
            self.rebalance_inner(path, depth - 1);
        } else if ln < rn {
            let k = (rn - ln) / 2;
            l.items[ln..ln + k].copy_from_slice(&r.items[..k]);
            r.items.copy_within(k..rn, 0);
            l.len += k as u32;
            r.len -= k as u32;
            let sep = r.items[0];
            self.inners[parent as usize].keys[li] = sep;
        } else {
            let k = (ln - rn) / 2;
            r.items.copy_within(0..rn, k);
            r.items[..k].copy_from_slice(&l.items[ln - k..ln]);
            l.len -= k as u32;
            r.len += k as u32;
            let sep = r.items[0];
            self.inners[parent as usize].keys[li] = sep;
        }
    }

    /// Removes child `ci` (> 0) and the separator before it.
    fn inner_remove_child(&mut self, id: u32, ci: usize) {
        let n = &mut self.inners[id as usize];
        let len = n.len as usize;
        n.keys.copy_within(ci..len - 1, ci - 1);
        n.children.copy_within(ci + 1..len, ci);
        n.len -= 1;
    }

    /// Restores the fill of the inner node at `path[level]` after it lost a child.
    fn rebalance_inner(&mut self, path: &Path, level: usize) {
        let (id, _) = path[level];
        let len = self.inners[id as usize].len as usize;
        if level == 0 {
            if len == 1 {
                // The root has a single child: shrink a level.
                self.root = self.inners[id as usize].children[0];
                self.free_inners.push(id);
                self.freed_block();
                self.height -= 1;
            }
            return;
        }
        if len >= INNER_MIN {
            return;
        }
        let (parent, c) = path[level - 1];
        let c = c as usize;
        let plen = self.inners[parent as usize].len as usize;
        let (li, ri) = if c + 1 < plen { (c, c + 1) } else { (c - 1, c) };
        let (lid, rid, sep) = {
            let p = &self.inners[parent as usize];
            (p.children[li], p.children[ri], p.keys[li])
        };
        let (l, r) = two(&mut self.inners, lid, rid);
        let (ln, rn) = (l.len as usize, r.len as usize);
        if ln + rn <= INNER_CAP {
            l.keys[ln - 1] = sep;
            l.keys[ln..ln + rn - 1].copy_from_slice(&r.keys[..rn - 1]);
            l.children[ln..ln + rn].copy_from_slice(&r.children[..rn]);
            l.len = (ln + rn) as u32;
            self.free_inners.push(rid);
            self.freed_block();
            self.inner_remove_child(parent, ri);
            self.rebalance_inner(path, level - 1);
        } else if ln < rn {
            // Rotate k children from right to left through the parent.
            let k = (rn - ln) / 2;
            l.keys[ln - 1] = sep;
            l.keys[ln..ln + k - 1].copy_from_slice(&r.keys[..k - 1]);
            l.children[ln..ln + k].copy_from_slice(&r.children[..k]);
            let up = r.keys[k - 1];
            r.keys.copy_within(k..rn - 1, 0);
            r.children.copy_within(k..rn, 0);
            l.len += k as u32;
            r.len -= k as u32;
            self.inners[parent as usize].keys[li] = up;
        } else {
            let k = (ln - rn) / 2;
            r.keys.copy_within(0..rn - 1, k);
            r.children.copy_within(0..rn, k);
            r.keys[k - 1] = sep;
            r.keys[..k - 1].copy_from_slice(&l.keys[ln - k..ln - 1]);
            r.children[..k].copy_from_slice(&l.children[ln - k..ln]);
            let up = l.keys[ln - k - 1];
            l.len -= k as u32;
            r.len += k as u32;
            self.inners[parent as usize].keys[li] = up;
        }
    }

    /// Checks the structural invariants (tests): order, fill, separators, links, length.
    pub fn check(&self, cmp: impl Fn(&E, &E) -> Ordering) -> std::result::Result<(), String> {
        if self.height == 0 {
            return if self.len == 0 {
                Ok(())
            } else {
                Err("empty tree with len".into())
            };
        }
        let mut count = 0;
        let mut prev: Option<E> = None;
        let mut c = self.first();
        while let Some(e) = self.get(c) {
            if let Some(p) = prev
                && cmp(&p, &e) != Ordering::Less
            {
                return Err(format!("order broken at entry {count}"));
            }
            prev = Some(e);
            count += 1;
            c = self.next(c);
        }
        if count != self.len {
            return Err(format!("len {} but {count} entries linked", self.len));
        }
        self.check_node(self.root, 1, true, &cmp).map(|_| ())
    }

    /// Returns the subtree's minimum.
    fn check_node(
        &self,
        id: u32,
        level: usize,
        rightmost: bool,
        cmp: &impl Fn(&E, &E) -> Ordering,
    ) -> std::result::Result<E, String> {
        if level == self.height {
            let leaf = &self.leaves[id as usize];
            if leaf.len == 0 || (self.height > 1 && !rightmost && (leaf.len as usize) < LEAF_MIN) {
                return Err(format!("leaf {id} underfull: {}", leaf.len));
            }
            return Ok(leaf.items[0]);
        }
        let n = &self.inners[id as usize];
        let len = n.len as usize;
        if len < 2 || (level > 1 && !rightmost && len < INNER_MIN) {
            return Err(format!("inner {id} underfull: {len}"));
        }
        let mut min = None;
        for i in 0..len {
            let m = self.check_node(n.children[i], level + 1, rightmost && i + 1 == len, cmp)?;
            if i == 0 {
                min = Some(m);
            } else if cmp(&n.keys[i - 1], &m) != Ordering::Equal {
                return Err(format!(
                    "separator {} of inner {id} is not its subtree minimum",
                    i - 1
                ));
            }
        }
        Ok(min.expect("inner node has children"))
    }
}

impl<E: Copy + Hinted> Drop for BTree<E> {
    fn drop(&mut self) {
        self.unreserve(Reservation {
            leaves: 0,
            inners: 0,
            free_leaves: 0,
            free_inners: 0,
            caps: [0; 4],
            charged: 0,
        });
    }
}

/// Two distinct mutable blocks of one arena.
fn two<T>(v: &mut [Block<T>], a: u32, b: u32) -> (&mut T, &mut T) {
    let (a, b) = (a as usize, b as usize);
    assert_ne!(a, b, "a block paired with itself");
    if a < b {
        let (x, y) = v.split_at_mut(b);
        (&mut x[a], &mut y[0])
    } else {
        let (x, y) = v.split_at_mut(a);
        (&mut y[0], &mut x[b])
    }
}

#[cfg(test)]
mod tests;
