//! A space: an optional format, a unique primary index and secondary indexes, and the write
//! path. Every write validates, then encodes, checks unique keys and reserves index blocks in
//! every index, and only then applies — the applying part cannot fail, so a failure at any
//! earlier point leaves the space, its indexes and the quota exactly as they were.

mod functional;
mod overwrite;
mod update;

pub use functional::GivenKeys;
pub use update::Apply;
use functional::RowScratch;

use super::index::Index;
use super::key::{FieldType, KeyDef, KeyPart};
use super::path::PathKeys;
use super::mvcc::{Mvcc, ReadView, Stamp, TxnId, Undo};
use super::tuple::{TuplePtr, TupleRef};
use super::value::{self, Value};
use super::{Changes, SpaceId, bump};
use crate::error::{Error, Result};
use crate::mem::Quota;
use crate::wal::ops::LoggedField;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub struct FormatField {
    pub name: String,
    pub ty: FieldType,
    pub nullable: bool,
}

/// A format field as the WAL logs it, and back.
impl<'a> From<&'a FormatField> for LoggedField<'a> {
    fn from(f: &'a FormatField) -> LoggedField<'a> {
        LoggedField {
            name: &f.name,
            ty: f.ty.into(),
            nullable: f.nullable,
        }
    }
}

impl From<&LoggedField<'_>> for FormatField {
    fn from(f: &LoggedField) -> FormatField {
        FormatField {
            name: f.name.to_owned(),
            ty: f.ty.into(),
            nullable: f.nullable,
        }
    }
}

/// Whether index part `p` may key a field of format `f` by type: the field's values are all
/// of the part's type, or the field is `any` or `scalar` (the part then checks its values).
fn type_fits(f: &FormatField, p: &KeyPart) -> bool {
    f.ty == p.ty
        || matches!(f.ty, FieldType::Any | FieldType::Scalar)
        || (p.ty == FieldType::Number && matches!(f.ty, FieldType::Integer | FieldType::Unsigned))
        || (p.ty == FieldType::Integer && f.ty == FieldType::Unsigned)
}

/// Whether a new index part `p` may key a field of format `f`: by type, and a nullable field
/// has a nullable part.
fn part_fits(f: &FormatField, p: &KeyPart) -> bool {
    type_fits(f, p) && (!f.nullable || p.nullable)
}

pub struct Space {
    pub name: String,
    pub uid: u64,
    pub format: Vec<FormatField>,
    pub indexes: Vec<Index>,
    quota: Rc<Quota>,
    changes: Changes,
    mvcc: Rc<RefCell<Mvcc>>,
    /// This space's id in its engine (version records name the space they belong to).
    pub(crate) id: SpaceId,
    max_tuple_size: usize,
    /// How many of the indexes are functional, and how many of those have a Lua key function.
    nfunc: usize,
    nlua: usize,
    /// The rows of the write in progress (reused: no allocation per write).
    scratch: RowScratch,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    Insert,
    /// Returns the replaced version.
    Replace,
    /// A replace whose caller does not want the replaced version back, so that it may be
    /// overwritten in place (see `overwrite`).
    Overwrite,
    /// An update of this version, which the caller found under the same view just before:
    /// as `Overwrite`, and an autocommit write need not look it up again.
    Update(TuplePtr),
}

/// What every space of an engine shares with it.
#[derive(Clone)]
pub struct Shared {
    pub quota: Rc<Quota>,
    pub changes: Changes,
    pub mvcc: Rc<RefCell<Mvcc>>,
    pub max_tuple_size: usize,
}

impl Space {
    pub fn new(name: String, id: SpaceId, format: Vec<FormatField>, shared: Shared) -> Space {
        Space {
            name,
            uid: id.uid,
            format,
            indexes: Vec::new(),
            quota: shared.quota,
            changes: shared.changes,
            mvcc: shared.mvcc,
            id,
            max_tuple_size: shared.max_tuple_size,
            nfunc: 0,
            nlua: 0,
            scratch: RowScratch::default(),
        }
    }

    /// How many tuples the latest committed state holds (versions not yet collected and
    /// writes of open transactions are not counted). `len_in` counts for a transaction.
    pub fn len(&self) -> usize {
        let view = ReadView {
            snapshot: self.mvcc.borrow().commit_seq(),
            txn: None,
        };
        self.len_in(&view)
    }

    /// How many tuples `view` sees: the primary index's entries less the versions it does
    /// not see.
    pub fn len_in(&self, view: &ReadView) -> usize {
        let entries = self.indexes.first().map_or(0, Index::len);
        entries - self.mvcc.borrow().invisible_in(self.id, view)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many indexes have a Lua key function (their rows wait for SAFE entries to go).
    pub fn lua_key_functions(&self) -> usize {
        self.nlua
    }

    pub fn index_pos(&self, name: &str) -> Option<usize> {
        self.indexes.iter().position(|i| i.name == name)
    }

    /// The primary key of version `t`, as a MessagePack array (for the WAL).
    pub fn primary_key_of(&self, t: TuplePtr) -> Result<Vec<u8>> {
        let pk = self.primary()?;
        let vals: Vec<Value> = pk
            .def
            .parts
            .iter()
            .map(|p| t.field(p.fieldno as usize))
            .collect();
        let n = value::array_header_len(vals.len())
            + vals.iter().map(Value::encoded_len).sum::<usize>();
        let mut out = Vec::new();
        out.try_reserve_exact(n)
            .map_err(|_| Error::Memory(format!("cannot allocate {n} bytes for a WAL record")))?;
        value::encode_array_header(vals.len(), &mut out);
        for v in &vals {
            v.encode(&mut out);
        }
        Ok(out)
    }

    fn primary(&self) -> Result<&Index> {
        self.indexes.first().ok_or_else(|| {
            Error::NoSuchIndex(format!(
                "space '{}' has no primary index; create one with create_index first",
                self.name
            ))
        })
    }

    /// Checks tuple fields against `format`.
    fn check_format_of(&self, format: &[FormatField], fields: &[Value]) -> Result<()> {
        for (i, f) in format.iter().enumerate() {
            let v = fields.get(i).copied().unwrap_or(Value::Nil);
            let ok = (v == Value::Nil && f.nullable) || (v != Value::Nil && f.ty.accepts(&v));
            if !ok {
                return Err(Error::FieldType(format!(
                    "space '{}' field {} ('{}') must be {}{}, got {}",
                    self.name,
                    i + 1,
                    f.name,
                    f.ty.name(),
                    if f.nullable { " or nil" } else { "" },
                    if i < fields.len() {
                        v.type_name()
                    } else {
                        "nothing (tuple too short)"
                    }
                )));
            }
        }
        Ok(())
    }

    /// Checks a tuple against the format and every index's parts.
    fn check_tuple(&self, fields: &[Value]) -> Result<()> {
        self.check_format_of(&self.format, fields)?;
        for idx in self.indexes.iter().filter(|i| !i.is_functional()) {
            for p in &idx.def.parts {
                let v = fields
                    .get(p.fieldno as usize)
                    .copied()
                    .unwrap_or(Value::Nil);
                if !p.accepts(&v) {
                    return Err(Error::FieldType(format!(
                        "space '{}' index '{}' needs field {} to be {}, got {}",
                        self.name,
                        idx.name,
                        p.fieldno + 1,
                        p.ty.name(),
                        v.type_name()
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn insert(&mut self, fields: &[Value]) -> Result<TuplePtr> {
        self.insert_in(None, fields)
    }

    /// Returns the new tuple and the one it replaced (the caller now owns that reference).
    pub fn replace(&mut self, fields: &[Value]) -> Result<(TuplePtr, Option<TupleRef>)> {
        self.replace_in(None, fields)
    }

    /// Deletes by primary key; returns the deleted tuple (the caller owns the reference).
    pub fn delete(&mut self, key: &[Value]) -> Result<Option<TupleRef>> {
        self.delete_in(None, key)
    }

    /// Inserts in transaction `txn`, or as an autocommit statement when `None`.
    pub fn insert_in(&mut self, txn: Option<TxnId>, fields: &[Value]) -> Result<TuplePtr> {
        self.write(txn, fields, Mode::Insert, None, None)
            .map(|(t, _)| t)
    }

    pub fn replace_in(
        &mut self,
        txn: Option<TxnId>,
        fields: &[Value],
    ) -> Result<(TuplePtr, Option<TupleRef>)> {
        self.write(txn, fields, Mode::Replace, None, None)
    }

    /// Inserts or replaces; `keys` are the new tuple's functional-index keys when the caller
    /// computed them (required for Lua key functions, which a write may not run), `old_keys`
    /// those of the version it replaces as the caller sees it (optional: with them, a quiet
    /// write removes the old version's rows at once instead of deferring that).
    pub fn write(
        &mut self,
        txn: Option<TxnId>,
        fields: &[Value],
        mode: Mode,
        keys: Option<&GivenKeys>,
        old_keys: Option<&GivenKeys>,
    ) -> Result<(TuplePtr, Option<TupleRef>)> {
        self.primary()?;
        self.check_tuple(fields)?;
        if let Some(k) = old_keys {
            self.check_keys_shape(k)?;
        }
        let new = TuplePtr::new(fields, &self.quota, self.max_tuple_size)?;
        if let Err(e) = self.new_rows(new, keys) {
            new.decref(&self.quota);
            return Err(e);
        }
        let rc = self.mvcc.clone();
        let mut mvcc = rc.borrow_mut();
        let (old, quiet) = match self.prepare(&mut mvcc, txn, new, mode) {
            Ok(ok) => ok,
            Err(e) => {
                self.release_rows();
                new.decref(&self.quota);
                return Err(e);
            }
        };
        // Apply: nothing below can fail.
        bump(&self.changes);
        if quiet
            && matches!(mode, Mode::Overwrite | Mode::Update(_))
            && let Some(o) = old
            && self.can_overwrite(o, new, old_keys)
        {
            self.overwrite(o, new, &mut mvcc, old_keys);
            return Ok((o, None));
        }
        if quiet {
            // Nobody can see another version: change the indexes in place.
            let mut f = 0;
            for i in 0..self.indexes.len() {
                if self.indexes[i].is_functional() {
                    self.insert_rows(i, f, &mut mvcc, None);
                    f += 1;
                    continue;
                }
                let idx = &mut self.indexes[i];
                // A replace that keeps an index's key (always so in the primary one)
                // overwrites the entry; otherwise the old entry goes and the new one comes.
                if let Some(old) = old {
                    if idx.replace_same_key(old, new) {
                        continue;
                    }
                    idx.remove(old);
                }
                let inserted = idx.insert(new);
                assert!(inserted.is_ok(), "unique keys were checked before applying");
            }
            self.scratch.clear();
            let old = old.map(|t| {
                if self.nfunc == 0 {
                    return TupleRef::adopt(t, &self.quota); // the indexes' reference
                }
                let r = TupleRef::new(t, &self.quota);
                match old_keys {
                    Some(k) if self.nlua > 0 => {
                        self.forget_rows(t, false, true);
                        self.forget_rows_keyed(t, Some(k));
                        t.decref(&self.quota);
                    }
                    _ => self.forget_rows_or_bury(t, &mut mvcc),
                }
                r
            });
            return Ok((new, old));
        }
        let seq = if txn.is_none() { mvcc.next_seq() } else { 0 };
        for i in 0..self.indexes.len() {
            if self.indexes[i].is_functional() {
                continue;
            }
            let inserted = self.indexes[i].insert(new);
            assert!(inserted.is_ok(), "versions are distinct entries");
        }
        mvcc.created(new, txn, seq, self.id);
        let mut f = 0;
        for i in 0..self.indexes.len() {
            if self.indexes[i].is_functional() {
                self.insert_rows(i, f, &mut mvcc, txn);
                f += 1;
            }
        }
        self.scratch.clear();
        let old = old.map(|o| self.supersede(&mut mvcc, o, txn, seq));
        Ok((new, old))
    }

    /// Checks unique keys against what the writer sees and reserves everything the write
    /// needs. Returns the version it replaces and whether the write may go in place.
    fn prepare(
        &mut self,
        mvcc: &mut Mvcc,
        txn: Option<TxnId>,
        new: TuplePtr,
        mode: Mode,
    ) -> Result<(Option<TuplePtr>, bool)> {
        let view = mvcc.view(txn)?;
        let old = self.check_unique(new, mode, &view, mvcc)?;
        self.check_unique_rows(old, &view, mvcc)?;
        let quiet = txn.is_none() && mvcc.quiet();
        self.reserve_all()?;
        let reserved = if quiet {
            match old {
                Some(_) if self.nlua > 0 => mvcc.reserve_bury(),
                _ => Ok(()),
            }
        } else {
            let stories = 1 + old.map_or(0, |o| usize::from(!o.has_story()));
            let log = 2 + txn.map_or(0, |_| self.scratch.rows.len());
            mvcc.reserve(stories, txn, log, old, 2)
        };
        if let Err(e) = reserved {
            self.indexes.iter_mut().rev().for_each(Index::unreserve);
            return Err(e);
        }
        Ok((old, quiet))
    }

    /// Ends version `old` for a write at `seq` or in `txn`: a version `txn` created itself
    /// goes at once; any other is marked deleted and stays for the readers that see it.
    /// Returns a reference for the caller.
    fn supersede(
        &mut self,
        mvcc: &mut Mvcc,
        old: TuplePtr,
        txn: Option<TxnId>,
        seq: u64,
    ) -> TupleRef {
        // (Not one it created before its latest savepoint: a rollback to it needs it back.)
        let own = txn.is_some_and(|id| {
            mvcc.story(old)
                .is_some_and(|s| s.created == Stamp::Pending(id))
                && mvcc.created_since_savepoint(id, self.id, old)
        });
        if own {
            let id = txn.expect("own implies a transaction");
            let indexes = &mut self.indexes;
            let quota = &self.quota;
            mvcc.forget_created(old, id, self.id, |pos, row| {
                if let Some(r) = indexes[pos as usize].remove_row(row) {
                    r.decref(quota);
                }
            });
            self.remove_plain(old);
            return TupleRef::adopt(old, &self.quota);
        }
        mvcc.deleted(old, txn, seq, self.id);
        TupleRef::new(old, &self.quota)
    }

    /// Takes version `t` out of every index but the functional ones (whose rows go by key,
    /// see `functional`). The caller gets the indexes' reference.
    pub fn remove_plain(&mut self, t: TuplePtr) {
        for idx in self.indexes.iter_mut().filter(|i| !i.is_functional()) {
            idx.remove(t);
        }
    }

    /// Undoes one logged change of a transaction to this space.
    pub fn undo(&mut self, u: Undo) {
        match u {
            Undo::Created(_, t) => {
                self.remove_plain(t);
                t.decref(&self.quota);
            }
            Undo::Row(_, pos, row) => {
                if let Some(r) = self.indexes[pos as usize].remove_row(row) {
                    r.decref(&self.quota);
                }
            }
            Undo::Deleted(..) => {}
        }
    }

    /// Finds the version `new` replaces (by primary key) and refuses duplicates elsewhere;
    /// in a transaction, a key that changed after its snapshot is a conflict.
    fn check_unique(
        &self,
        new: TuplePtr,
        mode: Mode,
        view: &ReadView,
        mvcc: &Mvcc,
    ) -> Result<Option<TuplePtr>> {
        let pk = &self.indexes[0];
        let old = match mode {
            // Nothing ran between the lookup and this write; a transaction still walks the
            // key's versions for conflicts.
            Mode::Update(o) if view.txn.is_none() => Some(o),
            _ => self.visible_version(pk, new, view, mvcc, None)?,
        };
        if let (Some(_), Mode::Insert) = (old, mode) {
            return Err(self.duplicate(pk, new));
        }
        // A key with nil in a nullable part is no duplicate of anything (as in Tarantool).
        for idx in self
            .indexes
            .iter()
            .skip(1)
            .filter(|i| i.unique && !i.is_functional() && !i.has_null_key(new))
        {
            if self.visible_version(idx, new, view, mvcc, old)?.is_some() {
                return Err(self.duplicate(idx, new));
            }
        }
        Ok(old)
    }

    /// A transaction may not write a key that another one wrote and committed after its
    /// snapshot: it could never commit (first committer wins). With no commit since the
    /// snapshot there is no such key, and the versions are not looked at.
    fn check_fresh(&self, idx: &Index, t: TuplePtr, view: &ReadView, mvcc: &Mvcc) -> Result<()> {
        if mvcc.commit_seq() <= view.snapshot {
            return Ok(());
        }
        match idx.find_version(t, |v| mvcc.changed_after(v, view.snapshot)) {
            Some(_) => Err(self.conflict(idx, t)),
            None => Ok(()),
        }
    }

    /// The version with `t`'s key in `idx` that `view` sees (other than `skip`). In a
    /// transaction the same walk over the key's versions does `check_fresh`'s check.
    fn visible_version(
        &self,
        idx: &Index,
        t: TuplePtr,
        view: &ReadView,
        mvcc: &Mvcc,
        skip: Option<TuplePtr>,
    ) -> Result<Option<TuplePtr>> {
        // Rivals (versions changed by a commit after the snapshot) need such a commit.
        let in_txn = view.txn.is_some() && mvcc.commit_seq() > view.snapshot;
        let (mut seen, mut conflict) = (None, false);
        idx.find_version(t, |v| {
            if in_txn && mvcc.changed_after(v, view.snapshot) {
                conflict = true;
                return true;
            }
            if seen.is_none() && Some(v) != skip && mvcc.visible(view, v) {
                seen = Some(v);
                return !in_txn; // in a transaction every version is checked for conflicts
            }
            false
        });
        if conflict {
            return Err(self.conflict(idx, t));
        }
        Ok(seen)
    }

    pub fn conflict(&self, idx: &Index, t: TuplePtr) -> Error {
        Error::Conflict(format!(
            "key [{}] in index '{}' of space '{}' was changed by another transaction that \
             committed first; roll back and retry",
            self.key_text(idx, t),
            idx.name,
            self.name
        ))
    }

    /// The key of entry `t` of `idx` (a tuple, or a functional index's row), for messages.
    fn key_text(&self, idx: &Index, t: TuplePtr) -> String {
        let key: Vec<String> = idx
            .def
            .parts
            .iter()
            .map(|p| show(&t.field(p.fieldno as usize)))
            .collect();
        key.join(", ")
    }

    fn duplicate(&self, idx: &Index, t: TuplePtr) -> Error {
        Error::TupleFound(format!(
            "duplicate key [{}] in unique index '{}' of space '{}'",
            self.key_text(idx, t),
            idx.name,
            self.name
        ))
    }

    /// Reserves blocks for one insert in every index (a row per key in functional ones),
    /// all or none.
    fn reserve_all(&mut self) -> Result<()> {
        let mut f = 0;
        for i in 0..self.indexes.len() {
            let n = if self.indexes[i].is_functional() {
                f += 1;
                self.scratch.count(f - 1)
            } else {
                1
            };
            if let Err(e) = self.indexes[i].reserve_inserts(n) {
                self.indexes[..i]
                    .iter_mut()
                    .rev()
                    .for_each(Index::unreserve);
                return Err(e);
            }
        }
        Ok(())
    }

    pub fn delete_in(&mut self, txn: Option<TxnId>, key: &[Value]) -> Result<Option<TupleRef>> {
        let quota = self.quota.clone();
        let _reserve = quota.deleting();
        let pk = self.primary()?;
        let name = &self.name;
        pk.def.check_key(key, true, &|| {
            format!("delete from space '{name}' by index '{}'", pk.name)
        })?;
        let rc = self.mvcc.clone();
        let mut mvcc = rc.borrow_mut();
        let view = mvcc.view(txn)?;
        let Some(old) = pk.find_visible(key, &view, &mvcc) else {
            return Ok(None);
        };
        if txn.is_some() {
            self.check_fresh(pk, old, &view, &mvcc)?;
        }
        if txn.is_none() && mvcc.quiet() {
            if self.nlua > 0 {
                mvcc.reserve_bury()?;
            }
            bump(&self.changes);
            self.remove_plain(old);
            let r = TupleRef::adopt(old, &self.quota);
            old.incref();
            self.forget_rows_or_bury(old, &mut mvcc);
            return Ok(Some(r));
        }
        mvcc.reserve(usize::from(!old.has_story()), txn, 1, Some(old), 1)?;
        bump(&self.changes);
        let seq = if txn.is_none() { mvcc.next_seq() } else { 0 };
        Ok(Some(self.supersede(&mut mvcc, old, txn, seq)))
    }

    /// Checks that the paths of an index named `index` step into fields `format` lets them
    /// (a map for `.key`, an array for `[n]`; `any` takes both).
    pub fn check_paths_fit(&self, keys: &PathKeys, format: &[FormatField], index: &str) -> Result<()> {
        for (fieldno, ty) in keys.container_types() {
            if let Some(f) = format.get(fieldno as usize)
                && f.ty != FieldType::Any
                && f.ty != ty
            {
                return Err(Error::FieldType(format!(
                    "field {} ('{}') of space '{}' is {} in the format, but index '{index}' has \
                     a path into it, which needs {}",
                    fieldno + 1,
                    f.name,
                    self.name,
                    f.ty.name(),
                    ty.name()
                )));
            }
        }
        Ok(())
    }

    /// Checks that `format` fits this space: every index part keys a field of its type, path
    /// parts step into maps and arrays, and every tuple has the fields the format says.
    pub fn check_new_format(&self, format: &[FormatField]) -> Result<()> {
        for idx in &self.indexes {
            let paths = idx.func.as_ref().and_then(|f| f.path_keys());
            let parts: Vec<(u32, &KeyPart)> = match paths {
                Some(k) => k.parts.iter().filter(|p| p.path.is_none()).map(|p| (p.fieldno, &p.part)).collect(),
                None if idx.is_functional() => Vec::new(),
                None => idx.def.parts.iter().map(|p| (p.fieldno, p)).collect(),
            };
            for (fieldno, p) in parts {
                // A nullable field under a part that is not: the part goes on refusing nil,
                // as in Tarantool.
                if let Some(f) = format.get(fieldno as usize)
                    && !type_fits(f, p)
                {
                    return Err(Error::FieldType(format!(
                        "field {} ('{}') of space '{}' would be {}, but index '{}' keys it as {}",
                        fieldno + 1,
                        f.name,
                        self.name,
                        f.ty.name(),
                        idx.name,
                        p.ty.name(),
                    )));
                }
            }
            if let Some(k) = paths {
                self.check_paths_fit(k, format, &idx.name)?;
            }
        }
        let mut fields = Vec::new();
        match self.indexes.first() {
            None => Ok(()),
            Some(pk) => pk.try_for_each(|t| {
                fields.clear();
                let n = t.field_count();
                fields
                    .try_reserve(n)
                    .map_err(|_| Error::memory("checking a format", n * 24, 0, 0))?;
                for v in value::fields(t.data())? {
                    fields.push(v?);
                }
                self.check_format_of(format, &fields)
            }),
        }
    }

    /// Adds an index; a secondary one is built over the existing tuples (all or nothing).
    pub fn add_index(
        &mut self,
        name: String,
        uid: u64,
        parts: Vec<KeyPart>,
        unique: bool,
    ) -> Result<usize> {
        self.check_new_index(&name, unique)?;
        if self.indexes.is_empty() && parts.iter().any(|p| p.nullable) {
            return Err(Error::IllegalParams(format!(
                "index '{name}': the primary index of space '{}' cannot have nullable parts",
                self.name
            )));
        }
        for (i, p) in parts.iter().enumerate() {
            if let Some(f) = self.format.get(p.fieldno as usize)
                && !part_fits(f, p)
            {
                    return Err(Error::FieldType(format!(
                        "index '{name}' part {} ({}{}) does not fit field {} ('{}') of space '{}', which is {}{}",
                        i + 1,
                        p.ty.name(),
                        if p.nullable { ", nullable" } else { "" },
                        p.fieldno + 1,
                        f.name,
                        self.name,
                        f.ty.name(),
                        if f.nullable { " and nullable: make the part nullable" } else { "" }
                    )));
            }
        }
        let def = KeyDef::new(parts, unique, self.indexes.first().map(|pk| &pk.def));
        let mut index = Index::new(name, uid, unique, def, self.quota.clone());
        if let Some(pk) = self.indexes.first() {
            pk.try_for_each(|t| {
                for p in &index.def.parts {
                    let v = t.field(p.fieldno as usize);
                    if !p.accepts(&v) {
                        return Err(Error::FieldType(format!(
                            "cannot build index '{}' of space '{}': a tuple has {} in field {}, not {}",
                            index.name,
                            self.name,
                            v.type_name(),
                            p.fieldno + 1,
                            p.ty.name()
                        )));
                    }
                }
                index.reserve_insert()?;
                if index.unique
                    && !index.has_null_key(t)
                    && index.find_version(t, |_| true).is_some()
                {
                    return Err(self.duplicate(&index, t));
                }
                let inserted = index.insert(t);
                assert!(inserted.is_ok(), "entries of a secondary index are unique");
                Ok(())
            })?;
        }
        if self.indexes.try_reserve(1).is_err() {
            return Err(Error::memory(
                "an index",
                1,
                self.quota.used(),
                self.quota.limit(),
            ));
        }
        self.indexes.push(index);
        Ok(self.indexes.len() - 1)
    }

    fn check_new_index(&self, name: &str, unique: bool) -> Result<()> {
        if self.index_pos(name).is_some() {
            return Err(Error::Exists(format!(
                "index '{name}' already exists in space '{}'",
                self.name
            )));
        }
        if self.indexes.is_empty() && !unique {
            return Err(Error::IllegalParams(format!(
                "the first index of space '{}' is its primary key and must be unique",
                self.name
            )));
        }
        Ok(())
    }

    /// Removes an index. The primary one goes only when it is the last, taking the tuples.
    pub fn drop_index(&mut self, pos: usize) -> Result<Index> {
        self.check_drop_index(pos)?;
        self.drop_index_unchecked(pos)
    }

    /// Whether the index at `pos` may be dropped now.
    pub fn check_drop_index(&self, pos: usize) -> Result<()> {
        if pos == 0 && self.indexes.len() > 1 {
            return Err(Error::IllegalParams(format!(
                "cannot drop primary index '{}' of space '{}' while it has secondary indexes; drop those first",
                self.indexes[0].name, self.name
            )));
        }
        if pos >= self.indexes.len() {
            return Err(Error::NoSuchIndex(format!(
                "space '{}' has no index at position {pos}",
                self.name
            )));
        }
        Ok(())
    }

    /// Removes every tuple: each index is replaced by an empty one with the same definition.
    /// The caller made sure that no version but the live ones is left (`ready_for_ddl`).
    pub fn truncate(&mut self) {
        bump(&self.changes);
        // Secondary indexes first: they only point at tuples the primary one holds.
        for pos in (0..self.indexes.len()).rev() {
            let old = &self.indexes[pos];
            let mut empty = Index::new(
                old.name.clone(),
                old.uid,
                old.unique,
                old.def.clone(),
                self.quota.clone(),
            );
            empty.func = old.func.clone();
            empty.kind = old.kind;
            let old = std::mem::replace(&mut self.indexes[pos], empty);
            if pos == 0 {
                release_all(&old, &self.quota);
            }
        }
    }

    /// Bytes the tuples of the primary index take (old versions not yet collected included);
    /// walks the index.
    pub fn bsize(&self) -> usize {
        let mut n = 0;
        if let Some(pk) = self.indexes.first() {
            let _ = pk.try_for_each(|t| {
                n += t.data().len();
                Ok::<(), ()>(())
            });
        }
        n
    }

    fn drop_index_unchecked(&mut self, pos: usize) -> Result<Index> {
        bump(&self.changes);
        let index = self.indexes.remove(pos);
        if let Some(kf) = &index.func {
            self.nfunc -= 1;
            self.nlua -= usize::from(kf.kind == crate::guard::CallbackKind::Lua);
        }
        if pos == 0 {
            release_all(&index, &self.quota);
        }
        Ok(index)
    }
}

/// Drops the space's reference on every tuple of a primary index.
fn release_all(pk: &Index, quota: &Quota) {
    let _ = pk.try_for_each(|t| {
        t.decref(quota);
        Ok::<(), ()>(())
    });
}

impl Drop for Space {
    fn drop(&mut self) {
        self.scratch.free(&self.quota);
        // Secondary indexes first: they only point at tuples the primary one holds.
        self.indexes.truncate(1);
        if let Some(pk) = self.indexes.pop() {
            release_all(&pk, &self.quota);
        }
    }
}

/// A value as the user wrote it, for error messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::Nil => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Str(s) => format!("'{}'", String::from_utf8_lossy(s)),
        Value::Raw(_) => format!("<{}>", v.type_name()),
    }
}
