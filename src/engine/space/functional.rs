//! The functional-index half of a space: building such an index, the new version's rows on
//! a write (given by the writer, or computed by a native key function), their unique checks,
//! and removing an old version's rows — at once where its key function may run, otherwise by
//! burying the version until a SAFE entry can (see `func` and `Engine::run_deferred`).

use super::{Mvcc, ReadView, Space};
use crate::engine::func::{self, KeyFn, KeySink, SinkFor};
use crate::engine::index::Index;
use crate::engine::key::{FieldType, KeyDef, KeyPart, MAX_PARTS, cmp_values};
use crate::engine::mvcc::{TxnId, Undo};
use crate::engine::tuple::TuplePtr;
use crate::engine::value::Value;
use crate::error::{Error, Result};
use crate::guard::CallbackKind;
use crate::mem::{self, Quota};

/// The keys of a new tuple, computed by the writer: `counts[f]` keys for the `f`-th
/// functional index, their parts back to back in `parts`.
pub struct GivenKeys<'a> {
    pub parts: &'a [Value<'a>],
    pub counts: &'a [u32],
}

/// Rows of the write in progress: those of the `f`-th functional index end at `ends[f]`.
#[derive(Default)]
pub struct RowScratch {
    pub rows: Vec<TuplePtr>,
    ends: Vec<usize>,
    charged: usize,
}

impl RowScratch {
    fn range(&self, f: usize) -> std::ops::Range<usize> {
        let start = if f == 0 { 0 } else { self.ends[f - 1] };
        start..self.ends[f]
    }

    /// Rows for the `f`-th functional index.
    pub fn count(&self, f: usize) -> usize {
        self.range(f).len()
    }

    /// Forgets the rows (the indexes took them).
    pub fn clear(&mut self) {
        self.rows.clear();
        self.ends.clear();
    }

    fn release(&mut self, quota: &Quota) {
        self.rows.drain(..).for_each(|r| r.decref(quota));
        self.ends.clear();
    }

    pub fn free(&mut self, quota: &Quota) {
        self.release(quota);
        quota.release(std::mem::take(&mut self.charged));
    }
}

fn sink_for<'a>(idx: &'a Index, pk: &'a KeyDef) -> (&'a KeyFn, SinkFor<'a>) {
    let kf = idx.func.as_ref().expect("a functional index has a key function");
    let of = SinkFor {
        def: &idx.def,
        pk,
        index: &idx.name,
        multikey: kf.multikey,
        optional: kf.may_have_no_key(),
    };
    (kf, of)
}

impl Space {
    /// Computes or takes the new version's rows for every functional index, into the
    /// scratch. On failure nothing is left behind.
    pub(super) fn new_rows(&mut self, new: TuplePtr, keys: Option<&GivenKeys>) -> Result<()> {
        if self.nfunc == 0 && keys.is_none_or(|k| k.counts.is_empty()) {
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        let r = self.fill_rows(new, keys, &mut scratch);
        if r.is_err() {
            scratch.release(&self.quota);
        }
        self.scratch = scratch;
        r
    }

    fn fill_rows(
        &self,
        new: TuplePtr,
        keys: Option<&GivenKeys>,
        scratch: &mut RowScratch,
    ) -> Result<()> {
        if let Some(k) = keys {
            self.check_key_count(k)?;
        }
        let RowScratch {
            rows,
            ends,
            charged,
        } = scratch;
        mem::try_grow(ends, self.nfunc, &self.quota, charged, "keys")?;
        let pk = &self.indexes[0].def;
        let (mut off, mut f) = (0, 0);
        for idx in self.functional() {
            let (kf, of) = sink_for(idx, pk);
            let mut sink = KeySink::new(new, of, &self.quota, rows, charged);
            match keys {
                Some(k) if kf.takes_keys() => {
                    let np = idx.def.parts.len();
                    for _ in 0..k.counts[f] {
                        let key = k.parts.get(off..off + np).ok_or_else(|| {
                            Error::IllegalParams(format!(
                                "keys for index '{}' run past the {} key parts given",
                                idx.name,
                                k.parts.len()
                            ))
                        })?;
                        sink.push(key)?;
                        off += np;
                    }
                    f += 1;
                }
                _ if kf.kind == CallbackKind::Native => func::call(kf, &mut sink, true),
                _ => {
                    return Err(Error::Reentry(format!(
                        "index '{}' of space '{}' has a Lua key function (JB_CB_LUA), which \
                         cannot run inside this write (a HOT entry); give the new tuple's keys \
                         with jb_space_insert_keyed/jb_space_replace_keyed",
                        idx.name, self.name
                    )));
                }
            }
            sink.finish()?;
            ends.push(rows.len());
        }
        if let Some(k) = keys
            && off != k.parts.len()
        {
            return Err(Error::IllegalParams(format!(
                "{} key parts were given, the keys of space '{}' use {off}",
                k.parts.len(),
                self.name
            )));
        }
        Ok(())
    }

    /// The functional indexes, in order.
    fn functional(&self) -> impl Iterator<Item = &Index> {
        self.indexes.iter().filter(|i| i.is_functional())
    }

    /// The indexes whose keys a keyed write gives (those with a user's key function).
    fn keyed(&self) -> impl Iterator<Item = &Index> {
        self.indexes
            .iter()
            .filter(|i| i.func.as_ref().is_some_and(KeyFn::takes_keys))
    }

    fn check_key_count(&self, keys: &GivenKeys) -> Result<()> {
        let n = self.keyed().count();
        if keys.counts.len() != n {
            return Err(Error::IllegalParams(format!(
                "keys were given for {} index(es) with a key function; space '{}' has {n}",
                keys.counts.len(),
                self.name,
            )));
        }
        Ok(())
    }

    pub(super) fn release_rows(&mut self) {
        self.scratch.release(&self.quota);
    }

    /// A unique functional index refuses a key that another version the writer sees has;
    /// a transaction also refuses one changed after its snapshot.
    pub(super) fn check_unique_rows(
        &self,
        old: Option<TuplePtr>,
        view: &ReadView,
        mvcc: &Mvcc,
    ) -> Result<()> {
        for (f, idx) in self.functional().enumerate() {
            if !idx.unique {
                continue;
            }
            for &row in &self.scratch.rows[self.scratch.range(f)] {
                if idx.has_null_key(row) {
                    continue; // keys with nil may repeat
                }
                if view.txn.is_some() {
                    self.check_fresh(idx, row, view, mvcc)?;
                }
                if idx
                    .find_version(row, |v| Some(v) != old && mvcc.visible(view, v))
                    .is_some()
                {
                    return Err(self.duplicate(idx, row));
                }
            }
        }
        Ok(())
    }

    /// Puts the scratch rows of the `f`-th functional index (at `pos`) in; a transaction
    /// logs them (after `reserve`).
    pub(super) fn insert_rows(
        &mut self,
        pos: usize,
        f: usize,
        mvcc: &mut Mvcc,
        txn: Option<TxnId>,
    ) {
        for i in self.scratch.range(f) {
            let row = self.scratch.rows[i];
            match self.indexes[pos].insert(row) {
                Ok(()) => {
                    if let Some(id) = txn {
                        mvcc.log_undo(id, Undo::Row(self.id, pos as u32, row));
                    }
                }
                Err(_) => row.decref(&self.quota),
            }
        }
    }

    /// Takes over a reference to `t`, a version just out of the other indexes: removes its
    /// rows and releases it, or buries it when a Lua key function has to run first (after
    /// `reserve_bury`).
    pub(super) fn forget_rows_or_bury(&mut self, t: TuplePtr, mvcc: &mut Mvcc) {
        if self.nfunc > 0 && self.forget_rows(t, false, true) {
            mvcc.bury(t, self.id);
        } else {
            t.decref(&self.quota);
        }
    }

    /// Removes `t`'s rows from the functional indexes whose key function may run now (all
    /// of them when `lua_ok`). Returns true when rows of a Lua key function were left. When a
    /// key function fails, or a key it gives has no row, the index is searched row by row.
    pub fn forget_rows(&mut self, t: TuplePtr, lua_ok: bool, under_hot: bool) -> bool {
        if self.nfunc == 0 {
            return false;
        }
        let mut left = false;
        let mut probes = std::mem::take(&mut self.scratch.rows);
        let quota = &self.quota;
        let (first, rest) = self.indexes.split_at_mut(1);
        let pk = &first[0].def;
        for idx in rest.iter_mut().filter(|i| i.is_functional()) {
            let (kf, of) = sink_for(idx, pk);
            if kf.kind == CallbackKind::Lua && !lua_ok {
                left = true;
                continue;
            }
            let mut sink = KeySink::new(t, of, quota, &mut probes, &mut self.scratch.charged);
            func::call(kf, &mut sink, under_hot);
            let mut found = Found::new(sink.finish().is_ok());
            for p in probes.drain(..) {
                found.row(idx.remove_row(p), quota);
                p.decref(quota);
            }
            if !found.all() {
                idx.remove_rows_of(t, |r| r.decref(quota));
            }
        }
        self.scratch.rows = probes;
        left
    }

    /// Checks that `keys` has the shape of keys for this space's functional indexes (as a
    /// keyed write gives them): a count per index, and exactly the parts those counts need.
    pub(crate) fn check_keys_shape(&self, keys: &GivenKeys) -> Result<()> {
        self.check_key_count(keys)?;
        let need: usize = self
            .keyed()
            .zip(keys.counts)
            .map(|(idx, &c)| c as usize * idx.def.parts.len())
            .sum();
        if need != keys.parts.len() {
            return Err(Error::IllegalParams(format!(
                "{} key parts were given, the keys of space '{}' use {need}",
                keys.parts.len(),
                self.name
            )));
        }
        Ok(())
    }

    /// Removes the rows of `t`, a buried version, from the functional indexes with a Lua key
    /// function, given its keys (shape checked by `check_keys_shape`; `None`: the key
    /// function failed). An index where a key finds no row (a key function that answers
    /// differently now) is searched row by row.
    pub fn forget_rows_keyed(&mut self, t: TuplePtr, keys: Option<&GivenKeys>) {
        let quota = &self.quota;
        let (first, rest) = self.indexes.split_at_mut(1);
        let pk = &first[0].def;
        let mut off = 0;
        let keyed = |i: &&mut Index| i.func.as_ref().is_some_and(KeyFn::takes_keys);
        for (f, idx) in rest.iter_mut().filter(keyed).enumerate() {
            let np = idx.def.parts.len();
            let given = keys.map(|k| {
                let n = k.counts[f] as usize * np;
                off += n;
                &k.parts[off - n..off]
            });
            if idx.func.as_ref().is_some_and(|kf| kf.kind != CallbackKind::Lua) {
                continue; // removed at once when the version was buried
            }
            let mut found = Found::new(given.is_some());
            if let Some(given) = given {
                // Every row of `t` ends with the same primary key copy and address.
                let mut full = [Value::Nil; 2 + 2 * MAX_PARTS];
                let mut n = np;
                if idx.def.cmp_parts.len() > np + 1 {
                    for p in &pk.parts {
                        full[n] = t.field(p.fieldno as usize);
                        n += 1;
                    }
                }
                full[n] = Value::Uint(t.addr() as u64);
                for (i, key) in given.chunks(np).enumerate() {
                    let same =
                        |k: &[Value]| k.iter().zip(key).all(|(a, b)| cmp_values(a, b).is_eq());
                    if given.chunks(np).take(i).any(same) {
                        continue; // a repeated key has one row
                    }
                    full[..np].copy_from_slice(key);
                    found.row(idx.remove_row_key(&full[..=n]), quota);
                }
            }
            if !found.all() {
                idx.remove_rows_of(t, |r| r.decref(quota));
            }
        }
    }

    /// Adds a functional index, built over the existing tuples with its key function (all
    /// or nothing). Runs only where the key function may run (a SAFE entry).
    pub fn add_func_index(
        &mut self,
        name: String,
        uid: u64,
        parts: Vec<KeyPart>,
        unique: bool,
        kf: KeyFn,
    ) -> Result<usize> {
        self.check_new_index(&name, unique)?;
        if self.indexes.is_empty() {
            return Err(Error::IllegalParams(format!(
                "index '{name}' of space '{}' cannot be functional: the first index is the \
                 primary key; create that first",
                self.name
            )));
        }
        if let Some(i) = parts.iter().position(|p| p.ty == FieldType::Any) {
            return Err(Error::FieldType(format!(
                "functional index '{name}' part {} needs a type that can be indexed",
                i + 1
            )));
        }
        let pk = &self.indexes[0];
        let def = KeyDef::functional(&parts, unique, &pk.def);
        let mut index = Index::new(name, uid, unique, def, self.quota.clone());
        index.func = Some(kf.clone());
        let mut rows = Vec::new();
        let mut charged = 0;
        let built = pk.try_for_each(|t| {
            let (kf, of) = sink_for(&index, &pk.def);
            let mut sink = KeySink::new(t, of, &self.quota, &mut rows, &mut charged);
            func::call(kf, &mut sink, false);
            sink.finish()?;
            let mut r = index.reserve_inserts(rows.len());
            if r.is_ok()
                && unique
                && let Some(&row) = rows.iter().find(|&&row| {
                    !index.has_null_key(row) && index.find_version(row, |_| true).is_some()
                })
            {
                r = Err(self.duplicate(&index, row));
            }
            if r.is_err() {
                index.unreserve();
            }
            for row in rows.drain(..) {
                if r.is_err() || index.insert(row).is_err() {
                    row.decref(&self.quota);
                }
            }
            r
        });
        self.quota.release(charged);
        built?;
        if self.indexes.try_reserve(1).is_err() {
            return Err(Error::memory(
                "an index",
                1,
                self.quota.used(),
                self.quota.limit(),
            ));
        }
        self.nfunc += 1;
        self.nlua += usize::from(kf.kind == CallbackKind::Lua);
        self.indexes.push(index);
        Ok(self.indexes.len() - 1)
    }
}

/// Whether the rows a version's keys found were all it had: the keys worked, each found a
/// row, and as many as the rows say the version has. None found counts as not all (a key
/// function may answer no keys now and some then).
struct Found {
    ok: bool,
    removed: u32,
    expected: u32,
}

impl Found {
    fn new(keys_ok: bool) -> Found {
        Found {
            ok: keys_ok,
            removed: 0,
            expected: 0,
        }
    }

    /// One key's lookup: the row it removed (released here), if any.
    fn row(&mut self, r: Option<TuplePtr>, quota: &Quota) {
        match r {
            Some(r) => {
                self.expected = func::row_count(r);
                self.removed += 1;
                r.decref(quota);
            }
            None => self.ok = false,
        }
    }

    fn all(&self) -> bool {
        self.ok && self.removed > 0 && self.removed == self.expected
    }
}
