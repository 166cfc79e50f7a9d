//! Updates, upserts, and deletes through any unique index. An update's new tuple is made from
//! the old one by update operations inside the engine (`engine::update`) and written as a
//! replace of it.

use super::{Mode, Space};
use crate::engine::mvcc::TxnId;
use crate::engine::tuple::{TuplePtr, TupleRef};
use crate::engine::update::{self, Cells, UpdateOp};
use crate::engine::value::{self, Value};
use crate::error::{Error, Result};
use smallvec::SmallVec;
use std::cmp::Ordering;

/// What an update or upsert does with the tuple it makes.
pub enum Apply<'o> {
    /// Writes it (in place when it can) and returns it.
    Write,
    /// Writes nothing; its data goes to the vector.
    Preview(&'o mut Vec<u8>),
}

impl Space {
    /// The tuple with full key `key` in unique index `pos`, as `txn` sees it.
    pub fn find_unique(
        &self,
        txn: Option<TxnId>,
        pos: usize,
        key: &[Value],
        what: &str,
    ) -> Result<Option<TuplePtr>> {
        let idx = &self.indexes[pos];
        let what = || format!("{what} space '{}' by index '{}'", self.name, idx.name);
        if !idx.unique {
            return Err(Error::IllegalParams(format!(
                "{}: the index is not unique; use a unique one",
                what()
            )));
        }
        idx.def.check_key(key, true, &what)?;
        let mvcc = self.mvcc.borrow();
        let view = mvcc.view(txn)?;
        Ok(idx.find_visible(key, &view, &mvcc))
    }

    /// Deletes the tuple with key `key` in unique index `pos`; returns it (None: no such tuple).
    pub fn delete_by(&mut self, txn: Option<TxnId>, pos: usize, key: &[Value]) -> Result<Option<TupleRef>> {
        if pos == 0 {
            return self.delete_in(txn, key);
        }
        let Some(old) = self.find_unique(txn, pos, key, "delete from")? else {
            return Ok(None);
        };
        let pk = self.primary()?;
        let mut pk_key = [Value::Nil; crate::engine::key::MAX_PARTS];
        for (k, p) in pk_key.iter_mut().zip(&pk.def.parts) {
            *k = old.field(p.fieldno as usize);
        }
        let n = pk.def.parts.len();
        // The key borrows the old tuple, which the delete keeps until it returns.
        self.delete_in(txn, &pk_key[..n])
    }

    /// Updates the tuple with key `key` in unique index `pos` by `ops`. Returns the new tuple,
    /// or None when no tuple has the key (nothing is written).
    pub fn update_in(
        &mut self,
        txn: Option<TxnId>,
        pos: usize,
        key: &[Value],
        ops: &[UpdateOp],
        apply: Apply,
    ) -> Result<Option<TupleRef>> {
        self.primary()?;
        let Some(old) = self.find_unique(txn, pos, key, "update of")? else {
            return Ok(None);
        };
        // The old data is read from a copy: the write may overwrite the old tuple in place.
        let mut data = SmallVec::new();
        copy_of(old, &mut data)?;
        let mut cells = Cells::new();
        update::cells_of(&data, &mut cells)?;
        update::apply(&mut cells, ops)?;
        update::with_cell_values(&cells, |vals| {
            self.check_primary_kept(&data, vals)?;
            self.finish(txn, vals, Mode::Update(old), apply)
        })
    }

    /// Inserts `tuple` when no tuple has its primary key, else updates that one by `ops` as
    /// Tarantool's upsert does: a failing operation is skipped, and an update that would
    /// change the primary key is skipped whole (`skipped` hears each); one that breaks the
    /// format fails, as a write does.
    pub fn upsert_in(
        &mut self,
        txn: Option<TxnId>,
        tuple: &[Value],
        ops: &[UpdateOp],
        apply: Apply,
        mut skipped: impl FnMut(Error),
    ) -> Result<Option<TupleRef>> {
        let pk = self.primary()?;
        self.check_tuple(tuple)?;
        let mut key = [Value::Nil; crate::engine::key::MAX_PARTS];
        let parts = &pk.def.parts;
        for (k, p) in key.iter_mut().zip(parts) {
            *k = tuple.get(p.fieldno as usize).copied().unwrap_or(Value::Nil);
        }
        let Some(old) = self.find_unique(txn, 0, &key[..parts.len()], "upsert into")? else {
            return self.finish(txn, tuple, Mode::Insert, apply);
        };
        let mut data = SmallVec::new();
        copy_of(old, &mut data)?;
        let mut cells = Cells::new();
        update::cells_of(&data, &mut cells)?;
        update::apply_skipping(&mut cells, ops, &mut skipped);
        update::with_cell_values(&cells, |vals| {
            if let Err(e) = self.check_primary_kept(&data, vals) {
                skipped(e);
                return Ok(None);
            }
            self.finish(txn, vals, Mode::Update(old), apply)
        })
    }

    /// Writes or previews the made tuple.
    fn finish(
        &mut self,
        txn: Option<TxnId>,
        vals: &[Value],
        mode: Mode,
        apply: Apply,
    ) -> Result<Option<TupleRef>> {
        match apply {
            Apply::Write => {
                let (new, _replaced) = self.write(txn, vals, mode, None, None)?;
                Ok(Some(TupleRef::new(new, &self.quota)))
            }
            Apply::Preview(out) => {
                self.check_tuple(vals)?;
                let n = value::encoded_array_len(vals);
                if n > self.max_tuple_size {
                    return Err(Error::IllegalParams(format!(
                        "the updated tuple of space '{}' would take {n} bytes, more than max_tuple_size {}",
                        self.name, self.max_tuple_size
                    )));
                }
                out.clear();
                out.try_reserve_exact(n)
                    .map_err(|_| Error::Memory(format!("cannot allocate {n} bytes for a preview")))?;
                value::encode_array_header(vals.len(), out);
                vals.iter().for_each(|v| v.encode(out));
                Ok(None)
            }
        }
    }

    /// PRIMARY_KEY_UPDATE when `new` differs from tuple data `old` in a primary key field.
    fn check_primary_kept(&self, old: &[u8], new: &[Value]) -> Result<()> {
        let pk = self.primary()?;
        for p in &pk.def.parts {
            let f = p.fieldno as usize;
            let was = value::field(old, f)?;
            let now = new.get(f).copied().unwrap_or(Value::Nil);
            if p.cmp(&was, &now) != Ordering::Equal {
                return Err(Error::PrimaryKeyUpdate(format!(
                    "update of space '{}' would change field {}, part of the primary index '{}'; \
                     delete the tuple and insert the new one instead",
                    self.name,
                    f + 1,
                    pk.name
                )));
            }
        }
        Ok(())
    }
}

/// A copy of a tuple's data, in `v` (on the stack for most tuples).
fn copy_of(t: TuplePtr, v: &mut SmallVec<[u8; 256]>) -> Result<()> {
    let d = t.data();
    v.try_reserve_exact(d.len())
        .map_err(|_| Error::Memory(format!("cannot allocate {} bytes for an update", d.len())))?;
    v.extend_from_slice(d);
    Ok(())
}
