//! Iterators over an index: where one stands, and how it continues after the tree changed.
//!
//! An iterator holds a reference to each tuple it returned by its last call (one for a single
//! step, up to a batch). It continues after the last of them; after a batch, `rewind` can make
//! it continue after an earlier one instead (a reader that consumed only part of a batch before
//! the data changed). Positions are found again by key whenever the tree changed, so an
//! iterator stays valid while its space changes and never sees a freed tuple.

use super::SpaceId;
use super::btree::Cursor;
use super::index::Index;
use super::key::MAX_PARTS;
use super::mvcc::{Mvcc, ReadView};
use super::tuple::TuplePtr;
use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::mem::Quota;
use std::rc::Rc;

/// What a reader sees, passed down to each step.
#[derive(Clone, Copy)]
pub struct Vis<'a> {
    pub view: &'a ReadView,
    pub mvcc: &'a Mvcc,
}

/// The most tuples one batch returns.
pub const MAX_BATCH: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IterType {
    Eq,
    Req,
    All,
    Lt,
    Le,
    Ge,
    Gt,
}

impl IterType {
    pub fn reverse(self) -> bool {
        matches!(self, IterType::Req | IterType::Le | IterType::Lt)
    }

    fn filters(self) -> bool {
        matches!(self, IterType::Eq | IterType::Req)
    }
}

pub struct IterPos {
    ty: IterType,
    key: Vec<u8>, // the search key as a MessagePack array
    key_parts: usize,
    /// The entries returned by the last call, in order, each holding a reference (in a
    /// functional index rows, each also holding a reference to its version).
    held: Vec<TuplePtr>,
    rows: bool,
    cursor: Cursor,
    version: u64,
    started: bool,
    done: bool,
    /// The cursor cannot be trusted (after `rewind`): continue after the last held tuple.
    resume: bool,
    charged: usize,
    quota: Rc<Quota>,
}

impl IterPos {
    pub fn new(ty: IterType, key: &[Value], quota: &Rc<Quota>) -> Result<IterPos> {
        let size =
            value::array_header_len(key.len()) + key.iter().map(Value::encoded_len).sum::<usize>();
        let mut pos = IterPos {
            ty,
            key: Vec::new(),
            key_parts: key.len(),
            held: Vec::new(),
            rows: false,
            cursor: Cursor::END,
            version: 0,
            started: false,
            done: false,
            resume: false,
            charged: 0,
            quota: quota.clone(),
        };
        pos.charge(size, "an iterator key", |p| p.key.try_reserve_exact(size))?;
        value::encode_array_header(key.len(), &mut pos.key);
        key.iter().for_each(|v| v.encode(&mut pos.key));
        pos.reserve_held(1)?; // so that a single step never allocates
        Ok(pos)
    }

    /// Charges `size` bytes and runs the allocation `alloc`, all or nothing.
    fn charge<E>(
        &mut self,
        size: usize,
        what: &str,
        alloc: impl FnOnce(&mut Self) -> std::result::Result<(), E>,
    ) -> Result<()> {
        self.quota.charge_read(size, what)?;
        if alloc(self).is_err() {
            self.quota.release(size);
            return Err(Error::memory(
                what,
                size,
                self.quota.used(),
                self.quota.limit(),
            ));
        }
        self.charged += size;
        Ok(())
    }

    fn reserve_held(&mut self, n: usize) -> Result<()> {
        let have = self.held.capacity();
        if have >= n {
            return Ok(());
        }
        let more = (n - have) * size_of::<TuplePtr>();
        let extra = n - self.held.len();
        self.charge(more, "an iterator batch", |p| {
            p.held.try_reserve_exact(extra)
        })
    }

    fn release_held(&mut self, from: usize) {
        for t in self.held.drain(from..) {
            if self.rows {
                super::func::row_tuple(t).decref(&self.quota);
            }
            t.decref(&self.quota);
        }
    }

    /// Holds entry `t` of `index` (room was reserved).
    fn hold(&mut self, index: &Index, t: TuplePtr) {
        self.rows = index.is_functional();
        if self.rows {
            index.data(t).incref();
        }
        t.incref();
        self.held.push(t);
    }

    /// The search key's values (they borrow the iterator's copy of the key).
    fn with_key<R>(&self, f: impl FnOnce(&[Value]) -> R) -> R {
        let mut vals = [Value::Nil; MAX_PARTS];
        f(decode_key(&self.key, self.key_parts, &mut vals))
    }

    /// Where the next tuple `view` sees is, and the tuple (None at the end), without moving.
    fn peek(&self, index: &Index, key: &[Value], v: Vis) -> (Cursor, Option<TuplePtr>) {
        let rev = self.ty.reverse();
        // The row returned last: another version of it (the loop replaced it) is not a row
        // of its own, and is not returned again.
        let last = self.started.then(|| {
            *self
                .held
                .last()
                .expect("a started iterator holds its last tuple")
        });
        let resumed = last.is_some() && (self.resume || index.version() != self.version);
        let mut cursor = match last {
            None => index.seek(self.ty, key),
            Some(last) if resumed => index.resume(last, rev),
            Some(_) => index.step(self.cursor, rev),
        };
        // Only a change can have added a version of it: stepping over unchanged entries, of
        // one row's versions one is visible and the others are skipped by visibility.
        let last = last.filter(|_| resumed);
        let n = index.def.cmp_parts.len();
        loop {
            let t = index
                .tuple_at(cursor)
                .filter(|t| !self.ty.filters() || key.is_empty() || index.matches(*t, key));
            match t {
                Some(t)
                    if !v.mvcc.visible(v.view, index.data(t))
                        || last.is_some_and(|l| index.def.cmp_tuples_range(t, l, 0, n).is_eq()) =>
                {
                    cursor = index.step(cursor, rev)
                }
                t => return (cursor, t),
            }
        }
    }

    /// Moves onto `t` at `cursor` (a result was delivered), or to the end. Holding `t` needs
    /// no allocation: the caller reserved room.
    fn advance(&mut self, index: &Index, cursor: Cursor, t: Option<TuplePtr>) {
        match t {
            Some(t) => {
                self.hold(index, t);
                self.started = true;
                self.resume = false;
                self.cursor = cursor;
                self.version = index.version();
            }
            None => {
                self.done = true;
                self.release_held(0);
            }
        }
    }

    /// The next tuple, or None at the end. The caller holds `index` borrowed.
    pub fn next(&mut self, index: &Index, v: Vis) -> Option<TuplePtr> {
        self.next_with(index, v, Ok::<_, ()>).unwrap_or(None)
    }

    /// Hands the next tuple (or None at the end) to `deliver`; the iterator moves only when
    /// `deliver` succeeds, so a result that cannot be delivered (a small buffer, no memory
    /// for a handle) is returned again by the next call.
    pub fn next_with<R, X>(
        &mut self,
        index: &Index,
        v: Vis,
        deliver: impl FnOnce(Option<TuplePtr>) -> std::result::Result<R, X>,
    ) -> std::result::Result<R, X> {
        if self.done {
            return deliver(None);
        }
        let (cursor, t) = self.with_key(|key| self.peek(index, key, v));
        let r = deliver(t.map(|t| index.data(t)))?;
        // The previous result is released only now: `peek` may have resumed after it.
        self.release_held(0);
        self.advance(index, cursor, t);
        Ok(r)
    }

    /// Hands up to `max` next tuples to `deliver`, which returns false for one it cannot take
    /// (the batch then ends before it). Returns how many were taken; 0 at the end.
    pub fn next_batch(
        &mut self,
        index: &Index,
        v: Vis,
        max: usize,
        mut deliver: impl FnMut(TuplePtr) -> Result<bool>,
    ) -> Result<usize> {
        let max = max.min(MAX_BATCH);
        if self.done || max == 0 {
            return Ok(0);
        }
        self.reserve_held(max)?;
        // The key is decoded once for the whole batch, from bytes moved out of `self`.
        let key_bytes = std::mem::take(&mut self.key);
        let mut vals = [Value::Nil; MAX_PARTS];
        let key = decode_key(&key_bytes, self.key_parts, &mut vals);
        let (cursor, first) = self.peek(index, key, v);
        let mut taken = 0;
        let mut result = Ok(());
        if let Some(first) = first {
            let filter = self.ty.filters() && !key.is_empty();
            let version = index.version();
            let mut previous_released = false;
            index.walk(cursor, self.ty.reverse(), |t, at| {
                if taken > 0 && filter && !index.matches(t, key) {
                    return false; // past the key: the next call finds the end
                }
                if !v.mvcc.visible(v.view, index.data(t)) {
                    return true;
                }
                match deliver(index.data(t)) {
                    Ok(true) => {}
                    Ok(false) => return false,
                    Err(e) => {
                        if taken == 0 {
                            result = Err(e);
                        }
                        return false;
                    }
                }
                if !previous_released {
                    // The previous batch goes only now: `peek` may have resumed after it.
                    self.release_held(0);
                    previous_released = true;
                }
                self.hold(index, t);
                self.cursor = at;
                taken += 1;
                taken < max
            });
            debug_assert!(taken == 0 || index.data(first) == index.data(self.held[0]));
            if taken > 0 {
                self.started = true;
                self.resume = false;
                self.version = version;
            }
        } else {
            self.release_held(0);
            self.done = true;
        }
        self.key = key_bytes;
        result.map(|_| taken)
    }

    /// How many tuples a fresh iterator over `index` of `space` would return: for an empty
    /// key the index's entries less the versions the view does not see, else one walk over
    /// the matching entries (no references taken, nothing copied).
    pub fn count(&self, index: &Index, space: SpaceId, v: Vis) -> usize {
        if self.key_parts == 0 && !index.is_functional() {
            return index.len() - v.mvcc.invisible_in(space, v.view);
        }
        let mut vals = [Value::Nil; MAX_PARTS];
        let key = decode_key(&self.key, self.key_parts, &mut vals);
        let (cursor, first) = self.peek(index, key, v);
        if first.is_none() {
            return 0;
        }
        let filter = self.ty.filters();
        let mut n = 0;
        index.walk(cursor, self.ty.reverse(), |t, _| {
            if filter && !key.is_empty() && !index.matches(t, key) {
                return false;
            }
            n += usize::from(v.mvcc.visible(v.view, index.data(t)));
            true
        });
        n
    }

    /// After a batch of n tuples, continues after its `k`-th (1-based) instead of its last.
    pub fn rewind(&mut self, k: usize) -> Result<()> {
        if k == 0 || k > self.held.len() {
            return Err(Error::IllegalParams(format!(
                "rewind to tuple {k} of a batch of {}; give 1 to the batch size",
                self.held.len()
            )));
        }
        if k < self.held.len() {
            self.release_held(k);
            self.resume = true;
            self.done = false;
        }
        Ok(())
    }
}

/// Decodes a key stored as a MessagePack array of `n` values into `vals`.
fn decode_key<'a, 'b>(
    bytes: &'a [u8],
    n: usize,
    vals: &'b mut [Value<'a>; MAX_PARTS],
) -> &'b [Value<'a>] {
    let mut pos = 0;
    let _ = value::decode_array_header(bytes, &mut pos);
    for v in vals.iter_mut().take(n) {
        *v = value::decode(bytes, &mut pos).unwrap_or(Value::Nil);
    }
    &vals[..n]
}

impl Drop for IterPos {
    fn drop(&mut self) {
        self.release_held(0);
        self.quota.release(self.charged);
    }
}
