//! Helpers for tests that drive the engine through its Rust API.
#![allow(dead_code)]

use jitbox::engine::iter::{IterPos, IterType, Vis};
use jitbox::engine::key::{FieldType, KeyPart};
use jitbox::engine::mvcc::TxnId;
use jitbox::engine::space::FormatField;
use jitbox::engine::tuple::TuplePtr;
use jitbox::engine::value::{self, Value};
use jitbox::engine::{Engine, Options, SpaceId};
use jitbox::error::Error;

pub fn engine(limit: usize) -> Engine {
    Engine::open(Options {
        memory_limit: limit,
        ..Options::default()
    })
    .unwrap()
}

pub fn part(fieldno: u32, ty: FieldType) -> KeyPart {
    KeyPart::new(fieldno, ty)
}

pub fn format(spec: &[(&str, FieldType)]) -> Vec<FormatField> {
    spec.iter()
        .map(|(n, t)| FormatField {
            name: n.to_string(),
            ty: *t,
            nullable: false,
        })
        .collect()
}

/// The `{id, name, v}` space of the workload: pk on id, non-unique on name.
pub fn test_space(e: &mut Engine) -> SpaceId {
    let id = e
        .create_space(
            "test",
            format(&[
                ("id", FieldType::Unsigned),
                ("name", FieldType::String),
                ("v", FieldType::Integer),
            ]),
        )
        .unwrap();
    e.create_index(id, "pk", vec![part(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(id, "by_name", vec![part(1, FieldType::String)], false)
        .unwrap();
    id
}

pub fn row(i: u64, name: &str, v: i64) -> Vec<Value<'_>> {
    vec![Value::Uint(i), Value::Str(name.as_bytes()), Value::int(v)]
}

/// Decodes tuple data into owned, comparable form.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub enum Owned {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Double(f64),
    Str(Vec<u8>),
    /// A nested value's MessagePack bytes.
    Raw(Vec<u8>),
}

/// The first field (an unsigned id) of each row.
pub fn ids(rows: Vec<Vec<Owned>>) -> Vec<u64> {
    rows.into_iter()
        .map(|r| match r[0] {
            Owned::Uint(u) => u,
            _ => panic!("not an id: {:?}", r[0]),
        })
        .collect()
}

pub fn owned(data: &[u8]) -> Vec<Owned> {
    value::fields(data)
        .unwrap()
        .map(|v| match v.unwrap() {
            Value::Nil => Owned::Nil,
            Value::Bool(b) => Owned::Bool(b),
            Value::Uint(u) => Owned::Uint(u),
            Value::Int(i) => Owned::Int(i),
            Value::Double(d) => Owned::Double(d),
            Value::Str(s) => Owned::Str(s.to_vec()),
            Value::Raw(b) => Owned::Raw(b.to_vec()),
        })
        .collect()
}

/// Every tuple an iterator returns, decoded (as an autocommit reader sees them).
pub fn scan(e: &Engine, id: SpaceId, index: usize, ty: IterType, key: &[Value]) -> Vec<Vec<Owned>> {
    scan_in(e, None, id, index, ty, key)
}

/// Every tuple an iterator returns in transaction `txn` (None: autocommit), decoded.
pub fn scan_in(
    e: &Engine,
    txn: Option<TxnId>,
    id: SpaceId,
    index: usize,
    ty: IterType,
    key: &[Value],
) -> Vec<Vec<Owned>> {
    let sp = e.space(id).unwrap();
    let mvcc = e.mvcc();
    let view = mvcc.view(txn).unwrap();
    let v = Vis {
        view: &view,
        mvcc: &mvcc,
    };
    let mut pos = IterPos::new(ty, key, e.quota()).unwrap();
    let mut out = vec![];
    while let Some(t) = pos.next(&sp.indexes[index], v) {
        out.push(owned(t.data()));
    }
    out
}

/// The tuple with this primary key that an autocommit reader sees.
pub fn get(e: &Engine, id: SpaceId, key: &[Value]) -> Option<TuplePtr> {
    get_in(e, None, id, key)
}

pub fn get_in(e: &Engine, txn: Option<TxnId>, id: SpaceId, key: &[Value]) -> Option<TuplePtr> {
    let mvcc = e.mvcc();
    let view = mvcc.view(txn).unwrap();
    e.space(id).unwrap().indexes[0].find_visible(key, &view, &mvcc)
}

/// How many tuples an iterator would return, counted without iterating.
pub fn count(e: &Engine, id: SpaceId, index: usize, ty: IterType, key: &[Value]) -> usize {
    count_in(e, None, id, index, ty, key)
}

/// `count` as transaction `txn` sees it.
pub fn count_in(
    e: &Engine,
    txn: Option<TxnId>,
    id: SpaceId,
    index: usize,
    ty: IterType,
    key: &[Value],
) -> usize {
    let sp = e.space(id).unwrap();
    let mvcc = e.mvcc();
    let view = mvcc.view(txn).unwrap();
    IterPos::new(ty, key, e.quota()).unwrap().count(
        &sp.indexes[index],
        id,
        Vis {
            view: &view,
            mvcc: &mvcc,
        },
    )
}

/// The whole observable state: every index's contents in order, and the memory charged.
pub fn fingerprint(e: &Engine) -> (Vec<Vec<Vec<Vec<Owned>>>>, usize) {
    let mut all = vec![];
    for sp in e.spaces() {
        let mut per_index = vec![];
        for idx in &sp.indexes {
            let mut rows = vec![];
            idx.check().unwrap();
            idx.try_for_each(|t| {
                rows.push(owned(t.data()));
                Ok::<(), ()>(())
            })
            .unwrap();
            per_index.push(rows);
        }
        all.push(per_index);
    }
    (all, e.quota().used())
}

/// Runs `op` under every possible injected allocation failure. A failure must be `MEMORY`
/// and change nothing: not the raw contents of any index (no half-applied entry), not what
/// any of `views` sees. Memory may differ only by capacity kept for reuse.
pub fn sweep(
    e: &mut Engine,
    id: SpaceId,
    views: &[Option<u64>],
    what: &str,
    mut op: impl FnMut(&mut Engine) -> jitbox::error::Result<()>,
) {
    use jitbox::mem::errinj;
    let seen = |e: &Engine| -> Vec<Vec<Vec<Owned>>> {
        views
            .iter()
            .map(|v| scan_in(e, *v, id, 0, IterType::All, &[]))
            .collect()
    };
    for n in 0.. {
        let (raw, _) = fingerprint(e);
        let before = seen(e);
        errinj::set("ALLOC_FAIL_AFTER", n).unwrap();
        let r = op(e);
        errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
        match r {
            Err(Error::Memory(_)) => {
                assert_eq!(
                    fingerprint(e).0,
                    raw,
                    "{what}: failure at allocation {n} changed an index"
                );
                assert_eq!(
                    seen(e),
                    before,
                    "{what}: failure at allocation {n} changed a view"
                );
            }
            Err(other) => panic!("{what}: allocation {n} failed with {other:?}, not MEMORY"),
            Ok(()) => return,
        }
    }
}

/// Commits a transaction under every possible injected allocation failure. A commit that
/// fails with `MEMORY` ends its transaction as a rollback does: it is no longer open and every
/// one of `views` sees what it saw before. `make` gives the transaction to commit (the first
/// one, then each time one made anew with the same writes).
pub fn sweep_commit(
    e: &mut Engine,
    id: SpaceId,
    views: &[Option<u64>],
    mut make: impl FnMut(&mut Engine) -> u64,
) {
    use jitbox::mem::errinj;
    for n in 0.. {
        let t = make(e);
        let before: Vec<_> = views
            .iter()
            .map(|v| scan_in(e, *v, id, 0, IterType::All, &[]))
            .collect();
        let open = e.mvcc().open_count();
        errinj::set("ALLOC_FAIL_AFTER", n).unwrap();
        let r = e.commit(t);
        errinj::set("ALLOC_FAIL_AFTER", -1).unwrap();
        match r {
            Err(Error::Memory(_)) => {
                let after: Vec<_> = views
                    .iter()
                    .map(|v| scan_in(e, *v, id, 0, IterType::All, &[]))
                    .collect();
                assert_eq!(
                    after, before,
                    "commit: failure at allocation {n} changed a view"
                );
                assert_eq!(
                    e.mvcc().open_count(),
                    open - 1,
                    "commit: failure at {n} left it open"
                );
            }
            Err(other) => panic!("commit: allocation {n} failed with {other:?}, not MEMORY"),
            Ok(()) => return,
        }
    }
}

/// Begins a transaction under every possible injected allocation failure (see `sweep`).
pub fn swept_begin(e: &mut Engine, id: SpaceId) -> u64 {
    let mut t = None;
    sweep(e, id, &[None], "begin", |e| {
        t = Some(e.begin()?);
        Ok(())
    });
    t.unwrap()
}
