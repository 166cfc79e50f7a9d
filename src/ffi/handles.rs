//! Generation-checked handles. Every handle the C ABI hands out is an opaque 64-bit value
//! `[thread tag:16][slot:24][generation:24]` naming a slot of this thread's table. A stale,
//! freed, forged or wrong-kind handle is found out by the check, never dereferenced. A slot
//! whose generations run out is retired (never reused), so a stale handle stays stale forever;
//! a tag no thread was given marks a forged value.

use crate::engine::iter::IterPos;
use crate::engine::mvcc::TxnId;
use crate::engine::tuple::TupleRef;
use crate::engine::{Changes, Engine, SpaceId};
use crate::error::{Error, Result};
use crate::mem::Quota;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

const SLOT_BITS: u32 = 24;
const GEN_MASK: u64 = (1 << 24) - 1;
const MAX_SLOTS: usize = 1 << SLOT_BITS;

/// An engine and its state as handles see it: `None` once closed.
pub struct EngineCell {
    pub engine: RefCell<Option<Engine>>,
    pub quota: Rc<Quota>,
    /// The engine's change counter, readable by C through an iterator (`jb_iter_changes`).
    pub changes: Changes,
    pub handle: Cell<u64>,
    /// Counted here: a refused re-entry cannot borrow the engine to count it there.
    pub reentry_refused: Cell<u64>,
    /// The process that opened the engine; a forked child gets an error from every entry.
    pub origin: crate::fork::Origin,
    /// The handle of each of the engine's spaces and indexes, by uid (unique in an engine):
    /// handles are this layer's, the engine knows nothing of them.
    named: RefCell<rustc_hash::FxHashMap<u64, u64>>,
}

impl EngineCell {
    /// The cell of a just-opened engine, owned by this process (no handle yet).
    pub fn new(engine: Engine) -> EngineCell {
        EngineCell {
            quota: engine.quota().clone(),
            changes: engine.changes().clone(),
            engine: RefCell::new(Some(engine)),
            handle: Cell::new(0),
            reentry_refused: Cell::new(0),
            origin: crate::fork::Origin::here(),
            named: RefCell::new(Default::default()),
        }
    }

    /// Records `h` as the handle of the space or index with `uid`.
    pub fn name(&self, uid: u64, h: u64) -> Result<()> {
        let mut named = self.named.borrow_mut();
        named
            .try_reserve(1)
            .map_err(|_| Error::memory("a handle", 16, 0, 0))?;
        named.insert(uid, h);
        Ok(())
    }

    /// The handle of the space or index with `uid`.
    pub fn handle_of(&self, uid: u64) -> Result<u64> {
        self.named
            .borrow()
            .get(&uid)
            .copied()
            .ok_or_else(|| Error::BadHandle(format!("object {uid} of this engine has no handle")))
    }

    /// Frees the handle of the space or index with `uid` (it was dropped, or its engine closed).
    pub fn forget(&self, uid: u64, why: Gone) {
        if let Some(h) = self.named.borrow_mut().remove(&uid) {
            let _ = remove(h, why);
        }
    }

    /// Frees every space and index handle (the engine closes).
    pub fn forget_all(&self, why: Gone) {
        for (_, h) in std::mem::take(&mut *self.named.borrow_mut()) {
            let _ = remove(h, why);
        }
    }
}

pub struct IterHandle {
    pub cell: Rc<EngineCell>,
    pub space: SpaceId,
    pub index_uid: u64,
    /// The transaction it reads in; None: the latest committed data at each step.
    pub txn: Option<TxnId>,
    pub pos: IterPos,
}

pub enum Obj {
    Engine(Rc<EngineCell>),
    Space(Rc<EngineCell>, SpaceId),
    Index(Rc<EngineCell>, SpaceId, u64),
    Iter(Rc<RefCell<IterHandle>>),
    Tuple(TupleRef),
    Txn(Rc<EngineCell>, TxnId),
    Ticket(Rc<EngineCell>, Ticket),
}

/// What a ticket follows: an asynchronous commit or a snapshot run.
#[derive(Clone, Copy, Debug)]
pub enum Ticket {
    Commit(crate::engine::durable::TicketId),
    Snapshot(crate::engine::checkpoint::RunId),
}

impl Obj {
    fn kind(&self) -> &'static str {
        match self {
            Obj::Engine(_) => "engine",
            Obj::Space(..) => "space",
            Obj::Index(..) => "index",
            Obj::Iter(_) => "iterator",
            Obj::Tuple(_) => "tuple",
            Obj::Txn(..) => "transaction",
            Obj::Ticket(..) => "ticket",
        }
    }
}

/// Why a slot was emptied, reported to a handle that arrives right after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gone {
    Freed,
    Dropped,
    Closed,
}

struct Slot {
    generation: u64,
    obj: Option<Obj>,
    gone: Gone,
}

/// This thread's handles: its tag (assigned on first use) and its slots. One thread-local,
/// const-initialised, so a lookup costs one TLS access (in a shared library each access is a
/// `__tls_get_addr` call).
struct Table {
    tag: u64,
    slots: Vec<Slot>,
    free: VecDeque<u32>,
}

static NEXT_TAG: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static TABLE: RefCell<Table> = const {
        RefCell::new(Table { tag: 0, slots: Vec::new(), free: VecDeque::new() })
    };
}

impl Table {
    fn tag(&mut self) -> u64 {
        if self.tag == 0 {
            let mut t = NEXT_TAG.fetch_add(1, Ordering::Relaxed) & 0xffff;
            if t == 0 {
                t = NEXT_TAG.fetch_add(1, Ordering::Relaxed) & 0xffff;
            }
            self.tag = t as u64;
        }
        self.tag
    }
}

fn split(h: u64) -> (u64, usize, u64) {
    (
        h >> 48,
        ((h >> SLOT_BITS) & (MAX_SLOTS as u64 - 1)) as usize,
        h & GEN_MASK,
    )
}

fn check_thread(t: &mut Table, h: u64) -> Result<()> {
    if h == 0 {
        return Err(Error::BadHandle("NULL handle".into()));
    }
    let tag = split(h).0;
    if tag != t.tag() {
        if tag == 0 || tag >= u64::from(NEXT_TAG.load(Ordering::Relaxed)) {
            // No thread was ever given this tag: not a handle at all.
            return Err(Error::BadHandle(
                "invalid handle (never issued: a forged or corrupted value)".into(),
            ));
        }
        return Err(Error::WrongThread(
            "handle belongs to another thread: an engine and its objects are used only by the \
             thread that opened it"
                .into(),
        ));
    }
    Ok(())
}

/// Stores `obj` in a slot and returns its handle.
pub fn insert(obj: Obj) -> Result<u64> {
    insert_with(|_| obj)
}

/// Stores the object `make` builds from the handle it will have, and returns that handle.
pub fn insert_with(make: impl FnOnce(u64) -> Obj) -> Result<u64> {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let slot = match t.free.pop_front() {
            Some(s) => s as usize,
            None => {
                if t.slots.len() >= MAX_SLOTS {
                    return Err(Error::Memory(format!(
                        "too many live handles on this thread ({MAX_SLOTS}); free iterators and tuples"
                    )));
                }
                let n = t.slots.len() + 1;
                if t.slots.try_reserve(1).is_err() || t.free.try_reserve(n).is_err() {
                    return Err(Error::Memory("cannot grow the handle table".into()));
                }
                t.slots.push(Slot { generation: 1, obj: None, gone: Gone::Freed });
                t.slots.len() - 1
            }
        };
        let tag = t.tag();
        let s = &mut t.slots[slot];
        let h = (tag << 48) | ((slot as u64) << SLOT_BITS) | s.generation;
        s.obj = Some(make(h));
        Ok(h)
    })
}

/// Runs `f` on the live object a handle names.
pub fn with<R>(h: u64, f: impl FnOnce(&mut Obj) -> Result<R>) -> Result<R> {
    let (_, slot, generation) = split(h);
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        check_thread(&mut t, h)?;
        match t.slots.get_mut(slot) {
            Some(s) if s.generation == generation && s.obj.is_some() => {
                f(s.obj.as_mut().expect("checked"))
            }
            s => Err(dead(s.map(|s| &*s), generation)),
        }
    })
}

/// Runs `f` on the live objects two handles name, in one visit to the table: a read in a
/// transaction names an index and a transaction, and each visit costs a thread-local lookup.
pub fn with_pair<R>(a: u64, b: u64, f: impl FnOnce(&Obj, &Obj) -> Result<R>) -> Result<R> {
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        check_thread(&mut t, a)?;
        check_thread(&mut t, b)?;
        let live = |h: u64| {
            let (_, slot, generation) = split(h);
            match t.slots.get(slot) {
                Some(Slot {
                    generation: g,
                    obj: Some(o),
                    ..
                }) if *g == generation => Ok(o),
                s => Err(dead(s, generation)),
            }
        };
        f(live(a)?, live(b)?)
    })
}

/// The generation a slot has after an object of `g` leaves it: 0 once they are used up — the
/// slot is retired (never reused), so no stale handle of it can name a live object again.
fn next_generation(g: u64) -> u64 {
    if g >= GEN_MASK { 0 } else { g + 1 }
}

/// Why a handle names no live object: its slot was emptied (how), or it never was one.
fn dead(s: Option<&Slot>, generation: u64) -> Error {
    match s {
        Some(s) if s.generation == next_generation(generation) && s.obj.is_none() => {
            gone_error(s.gone)
        }
        _ => Error::BadHandle("stale or invalid handle (freed, dropped or never issued)".into()),
    }
}

fn gone_error(g: Gone) -> Error {
    match g {
        Gone::Closed => Error::Closed("the engine was closed; open a new one".into()),
        Gone::Dropped => {
            Error::BadHandle("the space or index was dropped; look it up again".into())
        }
        Gone::Freed => Error::BadHandle("handle was already freed".into()),
    }
}

/// Empties a slot (the object is returned so it is dropped outside the table borrow).
pub fn remove(h: u64, gone: Gone) -> Result<Obj> {
    let (_, slot, generation) = split(h);
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        check_thread(&mut t, h)?;
        let s = match t.slots.get_mut(slot) {
            Some(s) if s.generation == generation && s.obj.is_some() => s,
            Some(s) if s.generation == next_generation(generation) && s.obj.is_none() => {
                return Err(gone_error(s.gone));
            }
            _ => return Err(Error::BadHandle("stale or invalid handle".into())),
        };
        let obj = s.obj.take().expect("checked");
        s.gone = gone;
        s.generation = next_generation(s.generation);
        if s.generation != 0 {
            t.free.push_back(slot as u32);
        }
        Ok(obj)
    })
}

/// Checks the kind of object a handle names, for messages like "expected a space".
pub fn wrong_kind(obj: &Obj, want: &str) -> Error {
    Error::BadHandle(format!(
        "handle names {} {}, expected {want}",
        article(obj.kind()),
        obj.kind()
    ))
}

fn article(w: &str) -> &'static str {
    if w.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Number of live handles on this thread (tests use it to prove nothing leaks).
pub fn live_count() -> usize {
    TABLE.with(|t| t.borrow().slots.iter().filter(|s| s.obj.is_some()).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Options};

    fn engine_obj() -> Obj {
        Obj::Engine(Rc::new(EngineCell::new(
            Engine::open(Options::default()).unwrap(),
        )))
    }

    #[test]
    fn forged_values_are_bad_handles_not_another_threads() {
        let h = insert(engine_obj()).unwrap();
        for forged in [1u64, 0xdead_beef, (0xfff0u64 << 48) | 5] {
            let r = with(forged, |_| Ok(()));
            assert!(matches!(r, Err(Error::BadHandle(_))), "{forged:#x}: {r:?}");
        }
        drop(remove(h, Gone::Freed).unwrap());
    }

    #[test]
    fn a_slot_whose_generations_run_out_is_retired() {
        let h = insert(engine_obj()).unwrap();
        let (_, slot, _) = split(h);
        drop(remove(h, Gone::Freed).unwrap());
        // Fast-forward the slot to its last generation.
        TABLE.with(|t| t.borrow_mut().slots[slot].generation = GEN_MASK);
        let last = loop {
            let h = insert(engine_obj()).unwrap();
            if split(h).1 == slot {
                break h;
            }
        };
        assert_eq!(split(last).2, GEN_MASK);
        drop(remove(last, Gone::Freed).unwrap());
        // The slot is never handed out again, so `last` (and every older handle) stays dead.
        let mut later = vec![];
        for _ in 0..64 {
            let h = insert(engine_obj()).unwrap();
            assert_ne!(split(h).1, slot);
            later.push(h);
        }
        assert!(matches!(with(last, |_| Ok(())), Err(Error::BadHandle(_))));
        for h in later {
            drop(remove(h, Gone::Freed).unwrap());
        }
    }
}
