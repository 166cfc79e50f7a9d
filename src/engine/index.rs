//! An ordered index: a B+ tree of tuple pointers ordered by its key definition.

use super::btree::{BTree, Cursor, Hinted, Reservation, Seek};
use super::func::{self, KeyFn};
use super::iter::IterType;
use super::key::KeyDef;
use super::mvcc::{Mvcc, ReadView};
use super::tuple::TuplePtr;
use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::mem::Quota;
use std::cmp::Ordering;
use std::rc::Rc;

/// What an index stores per tuple: the tuple and hints of its first comparison parts.
pub trait IndexEntry: Copy + Hinted {
    /// Whether entries keep a second hint (searches may then compare it: `Seek`).
    const WIDE: bool;
    fn make(hint: u64, hint2: u64, tuple: TuplePtr) -> Self;
    fn tuple(&self) -> TuplePtr;
}

/// 16 bytes: for unique single-part indexes (most primary keys), one hint is enough.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Narrow {
    hint: u64,
    tuple: TuplePtr,
}

/// 24 bytes: multi-part and non-unique indexes also hint their second comparison part (the
/// primary key for non-unique ones), so duplicates order without touching tuple memory. The
/// second hint is 0 where the first is not exact (`entry`): entries of one inexact first hint
/// then tie on it too, and a search that compares both (`Seek`) leaves them to `cmp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wide {
    hint: u64,
    hint2: u64,
    tuple: TuplePtr,
}

impl Hinted for Narrow {
    fn hint(&self) -> u64 {
        self.hint
    }
}

impl Hinted for Wide {
    fn hint(&self) -> u64 {
        self.hint
    }
    fn hint2(&self) -> u64 {
        self.hint2
    }
    fn seek(&self) -> Seek {
        Seek {
            h1: self.hint,
            h2: Some(self.hint2),
        }
    }
}

impl IndexEntry for Narrow {
    const WIDE: bool = false;
    fn make(hint: u64, _: u64, tuple: TuplePtr) -> Narrow {
        Narrow { hint, tuple }
    }
    fn tuple(&self) -> TuplePtr {
        self.tuple
    }
}

impl IndexEntry for Wide {
    const WIDE: bool = true;
    fn make(hint: u64, hint2: u64, tuple: TuplePtr) -> Wide {
        Wide { hint, hint2, tuple }
    }
    fn tuple(&self) -> TuplePtr {
        self.tuple
    }
}

pub enum Tree {
    Narrow(BTree<Narrow>),
    Wide(BTree<Wide>),
}

/// Runs `$body` with `$t` bound to the index's tree, whichever width it has.
macro_rules! with_tree {
    ($tree:expr, $t:ident => $body:expr) => {
        match $tree {
            Tree::Narrow($t) => $body,
            Tree::Wide($t) => $body,
        }
    };
}

fn entry<E: IndexEntry>(def: &KeyDef, t: TuplePtr) -> E {
    let h1 = def.tuple_hint(0, t);
    let h2 = if E::WIDE && def.cmp_parts.len() > 1 && def.exact(0, h1) {
        def.tuple_hint(1, t)
    } else {
        0
    };
    E::make(h1, h2, t)
}

/// What a search by `key` (with its `hints`) in tree `_t` may compare: its second hint too
/// when the tree's entries have one, the key has a second part and the first is exact.
fn key_seek<E: IndexEntry>(_t: &BTree<E>, def: &KeyDef, key: &[Value], hints: (u64, u64)) -> Option<Seek> {
    (!key.is_empty()).then(|| Seek {
        h1: hints.0,
        h2: (E::WIDE && key.len() > 1 && def.exact(0, hints.0)).then_some(hints.1),
    })
}

/// What a search for entry `e` comparing its first `n` parts may compare.
fn entry_seek<E: IndexEntry>(e: &E, n: usize) -> Option<Seek> {
    Some(if n > 1 { e.seek() } else { Seek::first(e.hint()) })
}

/// `entry` for the tree `_t` (names the entry type where inference cannot).
fn entry_in<E: IndexEntry>(_t: &BTree<E>, def: &KeyDef, t: TuplePtr) -> E {
    entry(def, t)
}

/// Orders entries by the first `n` comparison parts, then versions of one key by address.
#[inline(always)]
fn cmp_versions<E: IndexEntry>(def: &KeyDef, a: &E, b: &E, n: usize) -> Ordering {
    cmp_entries(def, a, b, n).then_with(|| a.tuple().addr().cmp(&b.tuple().addr()))
}

/// Orders two entries by the first `n` comparison parts. Searches call this once per step:
/// the first hints decide almost always, so only that stays inline; ties go out of line.
#[inline(always)]
fn cmp_entries<E: IndexEntry>(def: &KeyDef, a: &E, b: &E, n: usize) -> Ordering {
    match a.hint().cmp(&b.hint()) {
        Ordering::Equal => entries_tie(def, a, b, n),
        o => o,
    }
}

#[inline(never)]
fn entries_tie<E: IndexEntry>(def: &KeyDef, a: &E, b: &E, n: usize) -> Ordering {
    if !def.exact(0, a.hint()) {
        return def.cmp_tuples_range(a.tuple(), b.tuple(), 0, n);
    }
    if n == 1 {
        return Ordering::Equal;
    }
    match a.hint2().cmp(&b.hint2()) {
        Ordering::Equal if def.exact(1, a.hint2()) => {
            def.cmp_tuples_range(a.tuple(), b.tuple(), 2, n)
        }
        Ordering::Equal => def.cmp_tuples_range(a.tuple(), b.tuple(), 1, n),
        o => o,
    }
}

/// Orders an entry against a (possibly partial, possibly empty) search key; inline like
/// `cmp_entries`, ties out of line.
#[inline(always)]
fn cmp_key<E: IndexEntry>(def: &KeyDef, e: &E, key: &[Value], hints: (u64, u64)) -> Ordering {
    if key.is_empty() {
        return Ordering::Equal;
    }
    match e.hint().cmp(&hints.0) {
        Ordering::Equal => key_tie(def, e, key, hints),
        o => o,
    }
}

#[inline(never)]
fn key_tie<E: IndexEntry>(def: &KeyDef, e: &E, key: &[Value], hints: (u64, u64)) -> Ordering {
    if !def.exact(0, hints.0) {
        return def.cmp_key_from(e.tuple(), key, 0);
    }
    if key.len() == 1 {
        return Ordering::Equal;
    }
    match e.hint2().cmp(&hints.1) {
        Ordering::Equal if def.exact(1, hints.1) => def.cmp_key_from(e.tuple(), key, 2),
        Ordering::Equal => def.cmp_key_from(e.tuple(), key, 1),
        o => o,
    }
}

/// What an index promises its readers. A HASH index (Tarantool's) finds by whole keys only
/// and iterates in an order of its own: EQ with the full key, ALL, and GT (what follows a key
/// in that order); jitbox keeps it as a tree, so its order is the key order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IndexKind {
    #[default]
    Tree,
    Hash,
}

pub struct Index {
    pub name: String,
    pub uid: u64,
    pub unique: bool,
    pub kind: IndexKind,
    pub def: KeyDef,
    /// The key function of a functional index, whose entries are rows (see `func`).
    pub func: Option<KeyFn>,
    tree: Tree,
    quota: Rc<Quota>,
    /// The last reservation, for `unreserve`.
    reserved: Option<Reservation>,
}

impl Index {
    pub fn new(name: String, uid: u64, unique: bool, def: KeyDef, quota: Rc<Quota>) -> Index {
        let tree = if def.cmp_parts.len() == 1 {
            Tree::Narrow(BTree::new(
                quota.clone(),
                Narrow::make(0, 0, TuplePtr::dangling()),
            ))
        } else {
            Tree::Wide(BTree::new(
                quota.clone(),
                Wide::make(0, 0, TuplePtr::dangling()),
            ))
        };
        Index {
            name,
            uid,
            unique,
            kind: IndexKind::Tree,
            def,
            func: None,
            tree,
            quota,
            reserved: None,
        }
    }

    /// The version an entry stands for: the entry itself, or a functional index row's tuple.
    #[inline]
    pub fn data(&self, entry: TuplePtr) -> TuplePtr {
        if self.func.is_some() {
            func::row_tuple(entry)
        } else {
            entry
        }
    }

    /// A tuple `view` sees, picked by `seed` (see `BTree::random`); None when it sees none.
    pub fn random(&self, seed: u64, view: &ReadView, mvcc: &Mvcc) -> Option<TuplePtr> {
        with_tree!(&self.tree, t => {
            let start = t.random(seed);
            let mut found = None;
            let look = |e: TuplePtr, found: &mut Option<TuplePtr>| {
                let v = self.data(e);
                if mvcc.visible(view, v) {
                    *found = Some(v);
                    return false;
                }
                true
            };
            // From the pick on, then from the start up to it.
            t.walk(start, false, |e, _| look(e.tuple(), &mut found));
            if found.is_none() {
                t.walk(t.first(), false, |e, c| c != start && look(e.tuple(), &mut found));
            }
            found
        })
    }

    /// Whether tuple `t` has nil in a nullable part of this index.
    pub fn has_null_key(&self, t: TuplePtr) -> bool {
        self.def
            .parts
            .iter()
            .any(|p| p.nullable && t.field(p.fieldno as usize) == Value::Nil)
    }

    /// Bytes its blocks take.
    pub fn bsize(&self) -> usize {
        match &self.tree {
            Tree::Narrow(t) => t.charged(),
            Tree::Wide(t) => t.charged(),
        }
    }

    pub fn is_functional(&self) -> bool {
        self.func.is_some()
    }

    /// Checks that iterator `ty` with `key` is one this index has (a HASH index: EQ and GT
    /// with the whole key or none, ALL).
    pub fn check_iteration(&self, ty: IterType, key: &[Value], space: &str) -> Result<()> {
        if self.kind == IndexKind::Tree {
            return Ok(());
        }
        let whole = key.len() == self.def.parts.len();
        match ty {
            IterType::All => Ok(()),
            // No key lists everything, as with a TREE index.
            IterType::Eq | IterType::Gt if whole || key.is_empty() => Ok(()),
            IterType::Eq | IterType::Gt => Err(Error::IllegalParams(format!(
                "HASH index '{}' of space '{space}' finds by the whole key ({} part(s)), not {}; \
                 a TREE index takes partial keys",
                self.name,
                self.def.parts.len(),
                key.len()
            ))),
            other => Err(Error::IllegalParams(format!(
                "HASH index '{}' of space '{space}' does not support iterator {} (it has \
                 EQ, ALL and GT); a TREE index has every one",
                self.name,
                format!("{other:?}").to_uppercase()
            ))),
        }
    }

    fn key_hints(&self, key: &[Value]) -> (u64, u64) {
        let h = |i: usize| key.get(i).map_or(0, |v| self.def.hint(i, v));
        (h(0), h(1))
    }

    pub fn len(&self) -> usize {
        with_tree!(&self.tree, t => t.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Changes whenever an entry is added or removed.
    pub fn version(&self) -> u64 {
        with_tree!(&self.tree, t => t.version())
    }

    /// Reserves blocks for one insert; `unreserve` gives them back if the write goes no
    /// further (the index remembers the reservation, so writers keep no list of marks).
    pub fn reserve_insert(&mut self) -> Result<()> {
        self.reserve_inserts(1)
    }

    /// Reserves blocks for `n` inserts (the rows of a multikey index), all or none.
    pub fn reserve_inserts(&mut self, n: usize) -> Result<()> {
        // A mark of an earlier reservation, since used by inserts, must never be undone: a
        // failed reservation (which undid itself) leaves none for `unreserve` to find.
        self.reserved = None;
        self.reserved = Some(with_tree!(&mut self.tree, t => t.reserve_inserts(n))?);
        Ok(())
    }

    /// Gives back the blocks removals emptied but a few (see `BTree::compact`). Between
    /// operations only: the last reservation is void afterwards.
    pub fn compact(&mut self) {
        self.reserved = None;
        with_tree!(&mut self.tree, t => t.compact())
    }

    /// Undoes the last `reserve_insert` (nothing may have changed the tree since).
    pub fn unreserve(&mut self) {
        if let Some(mark) = self.reserved.take() {
            with_tree!(&mut self.tree, t => t.unreserve(mark))
        }
    }

    /// The first version with this (full) key that `view` sees.
    pub fn find_visible(&self, key: &[Value], view: &ReadView, mvcc: &Mvcc) -> Option<TuplePtr> {
        let hints = self.key_hints(key);
        let def = &self.def;
        with_tree!(&self.tree, t => {
            let c = if key.len() == 1 && self.hint_decides(hints.0) {
                t.lower_bound_hint(hints.0)
            } else {
                t.lower_bound(|e| cmp_key(def, e, key, hints), key_seek(t, def, key, hints))
            };
            let mut found = None;
            t.walk(c, false, |e, _| {
                if cmp_key(def, e, key, hints) != Ordering::Equal {
                    return false;
                }
                let t = self.data(e.tuple());
                if mvcc.visible(view, t) {
                    found = Some(t);
                    return false;
                }
                true
            });
            found
        })
    }

    /// The first version with `t`'s key (by the user parts) for which `f` holds. In a
    /// functional index `t` is a row, and `f` is given versions.
    pub fn find_version(
        &self,
        t: TuplePtr,
        mut f: impl FnMut(TuplePtr) -> bool,
    ) -> Option<TuplePtr> {
        let n = self.def.parts.len();
        let def = &self.def;
        with_tree!(&self.tree, tr => {
            let e = entry_in(tr, def, t);
            let c = if n == 1 && self.hint_decides(e.hint()) {
                tr.lower_bound_hint(e.hint())
            } else {
                tr.lower_bound(|x| cmp_entries(def, x, &e, n), entry_seek(&e, n))
            };
            let mut found = None;
            tr.walk(c, false, |x, _| {
                if cmp_entries(def, x, &e, n) != Ordering::Equal {
                    return false;
                }
                let v = self.data(x.tuple());
                if f(v) {
                    found = Some(v);
                    return false;
                }
                true
            });
            found
        })
    }

    /// Whether a one-part search of a one-part index with this first hint can compare hints
    /// alone: the hint is exact, and no entry with another value has the same hint.
    fn hint_decides(&self, h: u64) -> bool {
        self.def.cmp_parts.len() == 1 && self.def.exact(0, h)
    }

    /// Inserts `t` (after `reserve_insert`); returns the equal tuple if there is one. In a
    /// functional index `t` is a row, and an equal row (a repeated key) is refused.
    pub fn insert(&mut self, t: TuplePtr) -> std::result::Result<(), TuplePtr> {
        let n = self.def.cmp_parts.len();
        let def = &self.def;
        let rows = self.func.is_some();
        with_tree!(&mut self.tree, tr => {
            let e = entry(def, t);
            let r = if rows {
                tr.insert(e, |a, b| cmp_entries(def, a, b, n))
            } else {
                tr.insert(e, |a, b| cmp_versions(def, a, b, n))
            };
            r.map_err(|x| x.tuple())
        })
    }

    /// Removes the row equal to `probe` (same key, same version) from a functional index;
    /// returns it (the caller gets the index's reference).
    pub fn remove_row(&mut self, probe: TuplePtr) -> Option<TuplePtr> {
        let n = self.def.cmp_parts.len();
        let def = &self.def;
        with_tree!(&mut self.tree, tr => {
            let e = entry_in(tr, def, probe);
            tr.remove(|x| cmp_entries(def, x, &e, n), entry_seek(&e, n)).map(|x| x.tuple())
        })
    }

    /// Removes the row whose comparison parts (key, primary key copy, address) are `full`
    /// from a functional index, without building a probe row; returns it (the caller gets
    /// the index's reference).
    pub fn remove_row_key(&mut self, full: &[Value]) -> Option<TuplePtr> {
        debug_assert_eq!(full.len(), self.def.cmp_parts.len());
        let hints = self.key_hints(full);
        let def = &self.def;
        with_tree!(&mut self.tree, tr => {
            let seek = key_seek(tr, def, full, hints);
            tr.remove(|x| cmp_key(def, x, full, hints), seek).map(|x| x.tuple())
        })
    }

    /// Removes every row of version `t` from a functional index by looking at all of them:
    /// the way out when `t`'s keys cannot be had. Returns the rows (the caller releases them).
    pub fn remove_rows_of(&mut self, t: TuplePtr, mut release: impl FnMut(TuplePtr)) {
        loop {
            let mut found = None;
            let _ = self.try_for_each(|row| {
                if func::row_tuple(row) == t {
                    found = Some(row);
                    return Err(());
                }
                Ok(())
            });
            let Some(row) = found else { return };
            if let Some(r) = self.remove_row(row) {
                release(r);
            }
        }
    }

    /// Puts `new` in the place of `old` when both have the same key here (nothing moves, so
    /// no block is needed and iterator cursors stay valid). False when the keys differ.
    pub fn replace_same_key(&mut self, old: TuplePtr, new: TuplePtr) -> bool {
        if !self.same_key(old, new) {
            return false;
        }
        let n = self.def.cmp_parts.len();
        let def = &self.def;
        with_tree!(&mut self.tree, tr => {
            let en = entry(def, new);
            tr.replace(|x| cmp_entries(def, x, &en, n), en).is_some()
        })
    }

    /// Whether `a` and `b` have the same key here (an overwrite in place keeps the entry).
    pub fn same_key(&self, a: TuplePtr, b: TuplePtr) -> bool {
        // Equal encodings are equal keys, and decide without decoding (a replace mostly
        // keeps its secondary keys); different ones may still compare equal (1 and 1.0 in a
        // `number` field), which the comparison below decides.
        let (da, db) = (a.data(), b.data());
        let raw = |f| value::raw_field(da, f).zip(value::raw_field(db, f));
        if self
            .def
            .cmp_parts
            .iter()
            .all(|p| raw(p.fieldno as usize).is_some_and(|(x, y)| x == y))
        {
            return true;
        }
        let n = self.def.cmp_parts.len();
        let def = &self.def;
        with_tree!(&self.tree, tr => {
            let (ea, eb) = (entry_in(tr, def, a), entry_in(tr, def, b));
            cmp_entries(def, &ea, &eb, n) == Ordering::Equal
        })
    }

    /// Removes `t`'s entry; false when it was not there.
    pub fn remove(&mut self, t: TuplePtr) -> bool {
        let n = self.def.cmp_parts.len();
        let def = &self.def;
        with_tree!(&mut self.tree, tr => {
            let e = entry_in(tr, def, t);
            tr.remove(|x| cmp_versions(def, x, &e, n), entry_seek(&e, n)).is_some()
        })
    }

    /// Every tuple in index order, until `f` fails.
    pub fn try_for_each<X>(
        &self,
        mut f: impl FnMut(TuplePtr) -> std::result::Result<(), X>,
    ) -> std::result::Result<(), X> {
        with_tree!(&self.tree, t => {
            let mut c = t.first();
            while let Some(e) = t.get(c) {
                c = t.next(c);
                f(e.tuple())?;
            }
            Ok(())
        })
    }

    /// Checks the tree's invariants and that every entry's hints match its tuple (tests).
    pub fn check(&self) -> std::result::Result<(), String> {
        let n = self.def.cmp_parts.len();
        with_tree!(&self.tree, t => {
            t.check(|a, b| cmp_versions(&self.def, a, b, n))?;
            let mut c = t.first();
            while let Some(e) = t.get(c) {
                let want = entry(&self.def, e.tuple());
                if e != want {
                    return Err(format!("stale hints in index '{}'", self.name));
                }
                c = t.next(c);
            }
            Ok(())
        })
    }

    // ---- positioning, for iterators ----------------------------------------------------

    /// The entry at `c`: a tuple, or in a functional index a row (see `data`).
    pub fn tuple_at(&self, c: Cursor) -> Option<TuplePtr> {
        with_tree!(&self.tree, t => t.get(c).map(|e| e.tuple()))
    }

    pub fn step(&self, c: Cursor, reverse: bool) -> Cursor {
        with_tree!(&self.tree, t => if reverse { t.prev(c) } else { t.next(c) })
    }

    /// Calls `f` on the tuples from `c` on (see `BTree::walk`) until it returns false.
    pub fn walk(&self, c: Cursor, reverse: bool, mut f: impl FnMut(TuplePtr, Cursor) -> bool) {
        with_tree!(&self.tree, t => { t.walk(c, reverse, |e, at| f(e.tuple(), at)); })
    }

    /// Where an iterator of type `ty` over `key` starts.
    pub fn seek(&self, ty: IterType, key: &[Value]) -> Cursor {
        let hints = self.key_hints(key);
        with_tree!(&self.tree, t => {
            let cmp = |e: &_| cmp_key(&self.def, e, key, hints);
            let hint = key_seek(t, &self.def, key, hints);
            match (ty, key.is_empty()) {
                (IterType::Req | IterType::Le | IterType::Lt, true) => t.last(),
                (_, true) => t.first(),
                (IterType::Eq | IterType::Ge | IterType::All, false) => t.lower_bound(cmp, hint),
                (IterType::Gt, false) => t.upper_bound(cmp, hint),
                (IterType::Req | IterType::Le, false) => t.last_below(cmp, true, hint),
                (IterType::Lt, false) => t.last_below(cmp, false, hint),
            }
        })
    }

    /// The position right after (or, reversed, right before) tuple `last`.
    pub fn resume(&self, last: TuplePtr, reverse: bool) -> Cursor {
        let n = self.def.cmp_parts.len();
        with_tree!(&self.tree, t => {
            let e = entry_in(t, &self.def, last);
            let cmp = |x: &_| cmp_versions(&self.def, x, &e, n);
            let hint = entry_seek(&e, n);
            if reverse { t.last_below(cmp, false, hint) } else { t.upper_bound(cmp, hint) }
        })
    }

    /// Whether `t` matches the (partial) key, for EQ/REQ iterators.
    pub fn matches(&self, t: TuplePtr, key: &[Value]) -> bool {
        self.def.cmp_key_from(t, key, 0) == Ordering::Equal
    }
}

impl Drop for Index {
    fn drop(&mut self) {
        // A functional index owns its rows; other indexes borrow the space's tuples.
        if self.func.is_some() {
            let quota = self.quota.clone();
            let _ = self.try_for_each(|row| {
                row.decref(&quota);
                Ok::<(), ()>(())
            });
        }
    }
}
