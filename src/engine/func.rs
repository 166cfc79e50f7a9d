//! Functional indexes: keys computed from a tuple by a registered key function.
//!
//! Keys are not stored with the tuple. A functional index stores *rows*: small engine tuples
//! `[tuple address, key parts..., primary key copy (non-unique), row count]`, one per key of
//! each version, owned by the index (one reference each). The index orders rows by key, primary
//! key and address, so finding a version's rows again needs its keys — the key function once
//! more. The row count (how many rows the version has in this index) tells whether the keys
//! given then found them all: a key function that answers fewer keys than it did makes the
//! index be searched row by row, never leaves a row pointing to a freed version.
//! That is why removing an old version's entries may have to wait for a point where the key
//! function may run (see `guard`): until then the version stays pinned and readers skip it.

use super::key::KeyDef;
use super::path::PathKeys;
use super::tuple::TuplePtr;
use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::guard::{self, CallbackKind};
use crate::mem::{self, Quota};
use std::cell::Cell;
use std::ffi::c_void;
use std::rc::Rc;

/// A native key function: (ctx, tuple data, size, sink) -> 0 or failure. The sink is an
/// opaque token the function hands back to report keys (`current_sink`); the C layer gives it
/// its own type.
pub type RawKeyFn = unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut c_void) -> i32;

/// Where a functional index's keys come from.
#[derive(Clone)]
pub enum KeySource {
    /// A function the user registered (native, or Lua through the module).
    User { func: RawKeyFn, ctx: *mut c_void },
    /// The engine's own: JSON-path parts found in the tuple (see `path`).
    Paths(Rc<PathKeys>),
}

/// A functional index's key function and where it may run.
#[derive(Clone)]
pub struct KeyFn {
    pub source: KeySource,
    pub kind: CallbackKind,
    pub multikey: bool,
}

impl KeyFn {
    pub fn user(func: RawKeyFn, ctx: *mut c_void, kind: CallbackKind, multikey: bool) -> KeyFn {
        KeyFn {
            source: KeySource::User { func, ctx },
            kind,
            multikey,
        }
    }

    pub fn paths(keys: PathKeys) -> KeyFn {
        KeyFn {
            multikey: keys.is_multikey(),
            source: KeySource::Paths(Rc::new(keys)),
            kind: CallbackKind::Native,
        }
    }

    /// Whether its keys are given by the writer when it cannot run (a user's function);
    /// path keys are always computed by the engine.
    pub fn takes_keys(&self) -> bool {
        matches!(self.source, KeySource::User { .. })
    }

    /// Whether a tuple may have no key in the index (a multikey key function may answer
    /// none; a path index, see `PathKeys::may_have_no_key`).
    pub fn may_have_no_key(&self) -> bool {
        self.multikey || self.path_keys().is_some_and(PathKeys::may_have_no_key)
    }

    pub fn path_keys(&self) -> Option<&PathKeys> {
        match &self.source {
            KeySource::Paths(p) => Some(p),
            KeySource::User { .. } => None,
        }
    }
}

/// The address of the version a row belongs to.
#[inline]
pub fn row_tuple(row: TuplePtr) -> TuplePtr {
    let data = row.data();
    let mut pos = 0;
    let _ = value::decode_array_header(data, &mut pos);
    match value::decode(data, &mut pos) {
        Ok(Value::Uint(a)) => TuplePtr::from_addr(a as usize),
        _ => unreachable!("rows are written by `make_row` only"),
    }
}

/// Checks one key against the index's key parts.
pub fn check_key(def: &KeyDef, key: &[Value], index: &str) -> Result<()> {
    if key.len() != def.parts.len() {
        return Err(Error::IllegalParams(format!(
            "key function of index '{index}' returned a key of {} part(s); the index has {}",
            key.len(),
            def.parts.len()
        )));
    }
    for (i, (p, v)) in def.parts.iter().zip(key).enumerate() {
        if !p.accepts(v) {
            return Err(Error::FieldType(format!(
                "key function of index '{index}' returned {} for key part {}, which is {}",
                v.type_name(),
                i + 1,
                p.ty.name()
            )));
        }
    }
    Ok(())
}

/// The row of version `t` for `key` (checked) in a functional index with key definition `def`
/// (non-unique indexes copy `t`'s primary key, described by `pk`).
pub fn make_row(
    t: TuplePtr,
    key: &[Value],
    def: &KeyDef,
    pk: &KeyDef,
    index: &str,
    quota: &Quota,
) -> Result<TuplePtr> {
    check_key(def, key, index)?;
    let mut vals = [Value::Nil; 2 + 2 * super::key::MAX_PARTS];
    vals[0] = Value::Uint(t.addr() as u64);
    vals[1..=key.len()].copy_from_slice(key);
    let mut n = 1 + key.len();
    if def.cmp_parts.len() > def.parts.len() + 1 {
        for p in &pk.parts {
            vals[n] = t.field(p.fieldno as usize);
            n += 1;
        }
    }
    // The row count, in the four-byte form so that `KeySink::finish` can set it in place.
    vals[n] = Value::Uint(u64::from(u32::MAX));
    TuplePtr::new(&vals[..=n], quota, usize::MAX)
}

/// Where a row's version address is encoded, when it is in the eight-byte form that
/// `retarget_row` can patch (addresses above 4 GiB, as the engine's are on 64-bit Linux).
fn wide_address_at(row: TuplePtr) -> Option<usize> {
    let data = row.data();
    let mut pos = 0;
    value::decode_array_header(data, &mut pos).ok()?;
    (data.get(pos) == Some(&0xcf)).then_some(pos + 1)
}

/// Whether `retarget_row(row, to)` can be done.
pub fn can_retarget(row: TuplePtr, to: TuplePtr) -> bool {
    wide_address_at(row).is_some() && to.addr() > u32::MAX as usize
}

/// Points a row not yet in any index at version `to` instead (after `can_retarget`).
pub fn retarget_row(row: TuplePtr, to: TuplePtr) {
    let at = wide_address_at(row).expect("checked by can_retarget");
    row.patch_at(at, (to.addr() as u64).to_be_bytes());
}

/// How many rows the row's version has in its index (see the module comment).
pub fn row_count(row: TuplePtr) -> u32 {
    let d = row.data();
    u32::from_be_bytes(d[d.len() - 4..].try_into().expect("four bytes"))
}

/// Where a key function reports keys: rows for one version of one index, appended to a
/// caller's vector (`finish` keeps them; dropping the sink unfinished releases them).
pub struct KeySink<'a> {
    t: TuplePtr,
    def: &'a KeyDef,
    pk: &'a KeyDef,
    pub index: &'a str,
    multikey: bool,
    optional: bool,
    quota: &'a Quota,
    rows: &'a mut Vec<TuplePtr>,
    start: usize,
    charged: &'a mut usize,
    pub error: Option<Error>,
    done: bool,
}

thread_local! {
    /// The sink of the key function running on this thread, and the token C was given for
    /// it: `jb_key_sink*` is that token, never an address, so a stale or forged sink is an
    /// unknown token — found out without reading any memory it points at.
    static CURRENT: Cell<(usize, *mut ())> = const { Cell::new((0, std::ptr::null_mut())) };
    static TOKENS: Cell<usize> = const { Cell::new(0) };
}

/// The sink a key function reports to, if `token` is the one it was called with.
///
/// # Safety
/// Only during that call (while `call` runs), as `jb_key_sink_push`/`fail` are: the sink
/// lives on `call`'s caller's stack until the call returns.
pub unsafe fn current_sink<'s>(token: usize) -> Option<&'s mut KeySink<'s>> {
    let (t, p) = CURRENT.with(Cell::get);
    if token == 0 || t != token || p.is_null() {
        return None;
    }
    // SAFETY: p is the sink `call` registered for this token and clears when it returns;
    // the caller is inside that call (its contract).
    Some(unsafe { &mut *(p as *mut KeySink<'s>) })
}

/// What a sink needs to know about its index.
#[derive(Clone, Copy)]
pub struct SinkFor<'a> {
    pub def: &'a KeyDef,
    pub pk: &'a KeyDef,
    pub index: &'a str,
    pub multikey: bool,
    /// A tuple may have no key (see `KeyFn::may_have_no_key`).
    pub optional: bool,
}

impl<'a> KeySink<'a> {
    pub fn new(
        t: TuplePtr,
        of: SinkFor<'a>,
        quota: &'a Quota,
        rows: &'a mut Vec<TuplePtr>,
        charged: &'a mut usize,
    ) -> KeySink<'a> {
        let start = rows.len();
        KeySink {
            t,
            def: of.def,
            pk: of.pk,
            index: of.index,
            multikey: of.multikey,
            optional: of.optional,
            quota,
            rows,
            start,
            charged,
            error: None,
            done: false,
        }
    }

    /// Adds a key (from the key function, or given by the writer). Equal keys count once.
    pub fn push(&mut self, key: &[Value]) -> Result<()> {
        if !self.multikey && self.rows.len() > self.start {
            return Err(Error::IllegalParams(format!(
                "key function of index '{}' returned more than one key; create the index \
                 with multikey to allow that",
                self.index
            )));
        }
        let row = make_row(self.t, key, self.def, self.pk, self.index, self.quota)?;
        let n = self.def.parts.len();
        if self.rows[self.start..]
            .iter()
            .any(|r| self.def.cmp_tuples_range(*r, row, 0, n).is_eq())
        {
            row.decref(self.quota);
            return Ok(());
        }
        if let Err(e) = mem::try_grow(self.rows, 1, self.quota, self.charged, "keys") {
            row.decref(self.quota);
            return Err(e);
        }
        self.rows.push(row);
        Ok(())
    }

    /// Records a failure (the first one wins).
    pub fn fail(&mut self, e: Error) {
        if self.error.is_none() {
            self.error = Some(e);
        }
    }

    /// Keeps the rows, after checking that a one-key index got its key.
    pub fn finish(mut self) -> Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if !self.optional && self.rows.len() == self.start {
            return Err(Error::IllegalParams(format!(
                "key function of index '{}' returned no key; it must return one",
                self.index
            )));
        }
        let count = (self.rows.len() - self.start) as u32;
        for r in &self.rows[self.start..] {
            r.patch_tail(count.to_be_bytes()); // made by `push`, shared with nobody yet
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for KeySink<'_> {
    fn drop(&mut self) {
        if !self.done {
            for r in self.rows.drain(self.start..) {
                r.decref(self.quota);
            }
        }
    }
}

/// Calls `f` for version `t`: its rows, or why not. `under_hot` says whether a HOT entry is
/// active (the caller has checked that `f` may run at all).
pub fn call(f: &KeyFn, sink: &mut KeySink, under_hot: bool) {
    let (func, ctx) = match &f.source {
        KeySource::User { func, ctx } => (*func, *ctx),
        KeySource::Paths(p) => {
            let data = sink.t.data();
            let index = sink.index;
            if let Err(e) = p.keys(data, index, &mut |key| sink.push(key)) {
                sink.fail(e);
            }
            return;
        }
    };
    let refused = guard::reentry_refusals();
    let data = sink.t.data();
    // An odd token, new for every call (never 0, never reused within 2^63 calls).
    let token = TOKENS.with(|n| {
        n.set(n.get().wrapping_add(2));
        n.get() | 1
    });
    let outer = CURRENT.with(|c| c.replace((token, sink as *mut KeySink as *mut ())));
    // SAFETY: the registrant promised that func is callable with ctx while the index exists
    // (jb_index_create_func's contract); data is valid for the call; the sink is named by
    // its token only.
    let rc = guard::invoke_callback(under_hot, || unsafe {
        func(ctx, data.as_ptr(), data.len(), token as *mut c_void)
    });
    CURRENT.with(|c| c.set(outer));
    if guard::reentry_refusals() != refused {
        sink.error = Some(Error::Reentry(format!(
            "key function of index '{}' called back into the engine, which is busy computing \
             keys; a key function must only read the tuple it is given",
            sink.index
        )));
    } else if rc != 0 && sink.error.is_none() {
        sink.error = Some(Error::IllegalParams(format!(
            "key function of index '{}' failed (returned {rc})",
            sink.index
        )));
    }
}
