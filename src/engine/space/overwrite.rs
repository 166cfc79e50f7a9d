//! Replacing a version in place. When nobody can see the old version any more — the write is
//! quiet (no transaction, no story but buried ones), the tuple is not shared (no handle,
//! iterator, snapshot pin or queue holds it) and has no story — and the new version has the
//! same size, its data is copied over the old one and only the indexes whose key changed
//! are touched. A replace that keeps every secondary key then costs one primary-key lookup
//! instead of a descent per index, and no allocation stays behind.
//!
//! Functional indexes keep rows naming the version by address, and finding the old rows
//! needs the old keys: the writer gives them (the Lua module computes them before the
//! write). Native key functions are not called for this: such spaces replace as before.

use super::{GivenKeys, Mvcc, ReadView, Space};
use crate::engine::func;
use crate::engine::key::MAX_PARTS;
use crate::engine::tuple::TuplePtr;
use crate::engine::value::Value;
use crate::error::Result;

impl Space {
    /// Whether `new` may overwrite `old` in place (see the module comment).
    pub(super) fn can_overwrite(
        &self,
        old: TuplePtr,
        new: TuplePtr,
        old_keys: Option<&GivenKeys>,
    ) -> bool {
        let rows_ok = self.nfunc == 0
            || (self.nfunc == self.nlua
                && old_keys.is_some()
                && self
                    .scratch
                    .rows
                    .iter()
                    .all(|&r| func::can_retarget(r, old)));
        !old.is_shared()
            && !old.has_story()
            && old.data().len() == new.data().len()
            && self.indexes.len() <= 64
            && rows_ok
    }

    /// Overwrites `old` with `new` (after `can_overwrite`, in the applying part of a quiet
    /// write: nothing here can fail). `new` is released; `old` holds the new version.
    pub(super) fn overwrite(
        &mut self,
        old: TuplePtr,
        new: TuplePtr,
        mvcc: &mut Mvcc,
        old_keys: Option<&GivenKeys>,
    ) {
        // The old rows go before the new ones (retargeted to the same address) come in.
        if self.nfunc > 0 {
            self.forget_rows_keyed(old, old_keys);
        }
        let mut moved = 0u64;
        for (i, idx) in self.indexes.iter_mut().enumerate() {
            if !idx.is_functional() && !idx.same_key(old, new) {
                let removed = idx.remove(old);
                debug_assert!(removed, "a live version is in every index");
                moved |= 1 << i;
            }
        }
        old.overwrite_with(new);
        new.decref(&self.quota);
        for i in (0..self.indexes.len()).filter(|i| moved & 1 << i != 0) {
            let inserted = self.indexes[i].insert(old);
            assert!(inserted.is_ok(), "unique keys were checked before applying");
        }
        for &row in &self.scratch.rows {
            func::retarget_row(row, old);
        }
        let mut f = 0;
        for i in 0..self.indexes.len() {
            if self.indexes[i].is_functional() {
                self.insert_rows(i, f, mvcc, None);
                f += 1;
            }
        }
        self.scratch.clear();
    }
}

impl Space {
    /// The version a replace of `fields` would replace, as `view` sees it: the one with their
    /// primary key (for a writer that computes the old keys first, see `write`).
    pub fn replaced(
        &self,
        fields: &[Value],
        view: &ReadView,
        mvcc: &Mvcc,
    ) -> Result<Option<TuplePtr>> {
        let pk = self.primary()?;
        let mut key = [Value::Nil; MAX_PARTS];
        let n = pk.def.parts.len();
        for (k, p) in key.iter_mut().zip(&pk.def.parts) {
            *k = fields
                .get(p.fieldno as usize)
                .copied()
                .unwrap_or(Value::Nil);
        }
        pk.def.check_key(&key[..n], true, &|| {
            format!("the primary key of a tuple for space '{}'", self.name)
        })?;
        Ok(pk.find_visible(&key[..n], view, mvcc))
    }
}
