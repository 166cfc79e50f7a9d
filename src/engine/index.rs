//! An ordered index (a B+ tree of tuple pointers ordered by its key definition) and the
//! position state of iterators over it.

use super::btree::{BTree, Cursor};
use super::key::KeyDef;
use super::tuple::{TuplePtr, TupleRef};
use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::ffi::abi;
use crate::mem::Quota;
use std::cmp::Ordering;
use std::rc::Rc;

/// One index entry: the tuple and the hint of its first key part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub hint: u64,
    pub tuple: TuplePtr,
}

pub struct Index {
    pub name: String,
    pub uid: u64,
    pub unique: bool,
    pub def: KeyDef,
    pub tree: BTree<Entry>,
    /// The C handle naming this index (freed when the index goes).
    pub handle: u64,
}

impl Index {
    pub fn new(name: String, uid: u64, unique: bool, def: KeyDef, quota: Rc<Quota>) -> Index {
        let fill = Entry {
            hint: 0,
            tuple: TuplePtr::dangling(),
        };
        Index {
            name,
            uid,
            unique,
            def,
            tree: BTree::new(quota, fill),
            handle: 0,
        }
    }

    pub fn entry(&self, t: TuplePtr) -> Entry {
        Entry {
            hint: self.def.hint(&t.field(self.def.parts[0].fieldno as usize)),
            tuple: t,
        }
    }

    /// Entry order: by hint, then by the parts (and the primary key for non-unique indexes).
    fn cmp_entries(&self, a: &Entry, b: &Entry) -> Ordering {
        a.hint
            .cmp(&b.hint)
            .then_with(|| self.def.cmp_tuples(a.tuple, b.tuple))
    }

    /// An entry against a (possibly partial, possibly empty) search key.
    fn key_cmp<'k>(&'k self, key: &'k [Value<'k>]) -> impl Fn(&Entry) -> Ordering + 'k {
        let hint = key.first().map(|v| self.def.hint(v));
        move |e: &Entry| match hint {
            Some(h) => e.hint.cmp(&h).then_with(|| self.def.cmp_key(e.tuple, key)),
            None => Ordering::Equal,
        }
    }

    pub fn find_key(&self, key: &[Value]) -> Option<TuplePtr> {
        self.tree.find(self.key_cmp(key)).map(|e| e.tuple)
    }

    /// The tuple with the same index key as `t` (by the user parts only).
    pub fn find_same_key(&self, t: TuplePtr) -> Option<TuplePtr> {
        let e = self.entry(t);
        self.tree
            .find(|x| {
                x.hint
                    .cmp(&e.hint)
                    .then_with(|| self.def.cmp_user_parts(x.tuple, t))
            })
            .map(|x| x.tuple)
    }

    /// Inserts `t` (after `tree.reserve_insert`); returns the equal tuple if there is one.
    pub fn insert(&mut self, t: TuplePtr) -> std::result::Result<(), TuplePtr> {
        let e = self.entry(t);
        let def = &self.def;
        let cmp = |a: &Entry, b: &Entry| {
            a.hint
                .cmp(&b.hint)
                .then_with(|| def.cmp_tuples(a.tuple, b.tuple))
        };
        self.tree.insert(e, cmp).map_err(|x| x.tuple)
    }

    /// Removes `t`'s entry; false when it was not there.
    pub fn remove(&mut self, t: TuplePtr) -> bool {
        let e = self.entry(t);
        let def = &self.def;
        self.tree
            .remove(|x| x.hint.cmp(&e.hint).then_with(|| def.cmp_tuples(x.tuple, t)))
            .is_some()
    }

    pub fn check(&self) -> std::result::Result<(), String> {
        self.tree.check(|a, b| self.cmp_entries(a, b))
    }
}

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
    pub fn from_code(code: u32) -> Result<IterType> {
        Ok(match code {
            abi::JB_ITER_EQ => IterType::Eq,
            abi::JB_ITER_REQ => IterType::Req,
            abi::JB_ITER_ALL => IterType::All,
            abi::JB_ITER_LT => IterType::Lt,
            abi::JB_ITER_LE => IterType::Le,
            abi::JB_ITER_GE => IterType::Ge,
            abi::JB_ITER_GT => IterType::Gt,
            _ => {
                return Err(Error::IllegalParams(format!(
                    "unknown iterator type {code}; use EQ, REQ, ALL, LT, LE, GE or GT"
                )));
            }
        })
    }

    pub fn reverse(self) -> bool {
        matches!(self, IterType::Req | IterType::Le | IterType::Lt)
    }
}

/// Where an iterator stands. It remembers the last tuple it returned (holding a reference),
/// so after the tree changes it resumes right after that tuple instead of trusting a cursor.
pub struct IterPos {
    ty: IterType,
    key: Vec<u8>, // the search key as a MessagePack array
    key_parts: usize,
    last: Option<TupleRef>,
    cursor: Cursor,
    version: u64,
    started: bool,
    done: bool,
}

impl IterPos {
    pub fn new(ty: IterType, key: &[Value], quota: &Quota) -> Result<IterPos> {
        let size =
            value::array_header_len(key.len()) + key.iter().map(Value::encoded_len).sum::<usize>();
        let mut buf = Vec::new();
        quota.charge(size, "an iterator key")?;
        if buf.try_reserve_exact(size).is_err() {
            quota.release(size);
            return Err(Error::memory(
                "an iterator key",
                size,
                quota.used(),
                quota.limit(),
            ));
        }
        value::encode_array_header(key.len(), &mut buf);
        key.iter().for_each(|v| v.encode(&mut buf));
        Ok(IterPos {
            ty,
            key: buf,
            key_parts: key.len(),
            last: None,
            cursor: Cursor::END,
            version: 0,
            started: false,
            done: false,
        })
    }

    /// Bytes charged by `new`, to release when the iterator goes.
    pub fn charged(&self) -> usize {
        self.key.len()
    }

    fn with_key<R>(&self, f: impl FnOnce(&[Value]) -> R) -> R {
        let mut vals = [Value::Nil; super::key::MAX_PARTS];
        let mut pos = 0;
        let _ = value::decode_array_header(&self.key, &mut pos);
        for v in vals.iter_mut().take(self.key_parts) {
            *v = value::decode(&self.key, &mut pos).unwrap_or(Value::Nil);
        }
        f(&vals[..self.key_parts])
    }

    /// The next tuple, or None at the end. The caller holds `index` borrowed.
    pub fn next(&mut self, index: &Index, quota: &Rc<Quota>) -> Option<TuplePtr> {
        if self.done {
            return None;
        }
        let tree = &index.tree;
        let rev = self.ty.reverse();
        self.cursor = if !self.started {
            self.started = true;
            self.with_key(|key| {
                let cmp = index.key_cmp(key);
                match (self.ty, key.is_empty()) {
                    (IterType::Req | IterType::Le | IterType::Lt, true) => tree.last(),
                    (_, true) => tree.first(),
                    (IterType::Eq | IterType::Ge | IterType::All, false) => tree.lower_bound(cmp),
                    (IterType::Gt, false) => tree.upper_bound(cmp),
                    (IterType::Req | IterType::Le, false) => tree.last_below(cmp, true),
                    (IterType::Lt, false) => tree.last_below(cmp, false),
                }
            })
        } else if tree.version() != self.version {
            let last = self
                .last
                .as_ref()
                .expect("a started iterator returned a tuple");
            let last = index.entry(last.ptr());
            let cmp = |e: &Entry| index.cmp_entries(e, &last);
            if rev {
                tree.last_below(cmp, false)
            } else {
                tree.upper_bound(cmp)
            }
        } else if rev {
            tree.prev(self.cursor)
        } else {
            tree.next(self.cursor)
        };
        self.version = tree.version();
        let Some(Entry { tuple: t, .. }) = tree.get(self.cursor) else {
            return self.finish();
        };
        if matches!(self.ty, IterType::Eq | IterType::Req)
            && self.with_key(|key| index.def.cmp_key(t, key)) != Ordering::Equal
        {
            return self.finish();
        }
        self.last = Some(TupleRef::new(t, quota));
        Some(t)
    }

    fn finish(&mut self) -> Option<TuplePtr> {
        self.done = true;
        self.last = None;
        None
    }
}

/// A copy of an iterator's position, to undo a step whose result could not be delivered.
pub struct SavedPos {
    last: Option<TupleRef>,
    cursor: Cursor,
    version: u64,
    started: bool,
    done: bool,
}

impl IterPos {
    pub fn save(&self) -> SavedPos {
        SavedPos {
            last: self.last.clone(),
            cursor: self.cursor,
            version: self.version,
            started: self.started,
            done: self.done,
        }
    }

    pub fn restore(&mut self, s: SavedPos) {
        self.last = s.last;
        self.cursor = s.cursor;
        self.version = s.version;
        self.started = s.started;
        self.done = s.done;
    }
}
