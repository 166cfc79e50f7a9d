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

pub struct Index {
    pub name: String,
    pub uid: u64,
    pub unique: bool,
    pub def: KeyDef,
    pub tree: BTree<TuplePtr>,
    /// The C handle naming this index (freed when the index goes).
    pub handle: u64,
}

impl Index {
    pub fn new(
        name: String,
        uid: u64,
        unique: bool,
        def: KeyDef,
        quota: Rc<Quota>,
        fill: TuplePtr,
    ) -> Index {
        Index {
            name,
            uid,
            unique,
            def,
            tree: BTree::new(quota, fill),
            handle: 0,
        }
    }

    pub fn find_key(&self, key: &[Value]) -> Option<TuplePtr> {
        self.tree.find(|e| self.def.cmp_key(*e, key))
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
        let def = &index.def;
        let rev = self.ty.reverse();
        self.cursor = if !self.started {
            self.started = true;
            self.with_key(|key| {
                let cmp = |e: &TuplePtr| def.cmp_key(*e, key);
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
                .expect("a started iterator returned a tuple")
                .ptr();
            let cmp = |e: &TuplePtr| def.cmp_tuples(*e, last);
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
        let Some(t) = tree.get(self.cursor) else {
            return self.finish();
        };
        if matches!(self.ty, IterType::Eq | IterType::Req)
            && self.with_key(|key| def.cmp_key(t, key)) != Ordering::Equal
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
