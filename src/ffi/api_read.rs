//! Exported: reads — get, count, iterators.

use super::abi::*;
use super::api_space::{find_index, index_of};
use super::api_txn::{index_in_txn, txn_named, why_not};
use super::boundary::{enter, export};
use super::convert::{copy_out, need, put, to_field, with_values};
use super::handles::{self, IterHandle, Obj};
use crate::engine::iter::{IterPos, Vis};
use crate::engine::tuple::{TuplePtr, TupleRef};
use crate::engine::value::{self, Value};
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::rc::Rc;

/// Looks a full unique key up and hands the tuple found (or None) to `f` while the engine
/// is still entered, so the tuple cannot go away before `f` is done with it.
unsafe fn get<R>(
    i: *mut jb_index,
    tx: *mut jb_txn,
    key: *const jb_field,
    count: u32,
    f: impl FnOnce(Option<TuplePtr>, &Rc<crate::mem::Quota>) -> Result<R>,
) -> Result<R> {
    let (cell, sid, uid) = index_of(i as u64)?;
    let txn = txn_named(tx);
    let r = enter(&cell, |eng| {
        let (sp, pos) = find_index(eng, sid, uid)?;
        let idx = &sp.indexes[pos];
        // SAFETY: header contract on key.
        let found = unsafe {
            with_values(key, count, "key", |k| {
                let what = || format!("get from index '{}' of space '{}'", idx.name, sp.name);
                if !idx.unique {
                    return Err(Error::IllegalParams(format!(
                        "{}: the index is not unique; use select or pairs",
                        what()
                    )));
                }
                idx.def.check_key(k, true, &what)?;
                let mvcc = eng.mvcc();
                Ok(idx.find_visible(k, &mvcc.view(txn)?, &mvcc))
            })?
        };
        f(found, &cell.quota)
    });
    r.map_err(|e| {
        if txn.is_some() {
            why_not(i as u64, tx, e)
        } else {
            e
        }
    })
}

export! {
    Hot fn jb_index_get(i: *mut jb_index, tx: *mut jb_txn, key: *const jb_field, count: u32, out: *mut *mut jb_tuple) {
        need(out, "out")?;
        // SAFETY: forwarded header contract.
        let h = match unsafe { get(i, tx, key, count, |t, q| Ok(t.map(|t| TupleRef::new(t, q))))? } {
            Some(t) => handles::insert(Obj::Tuple(t))?,
            None => 0,
        };
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_tuple, "out") }
    }
}

export! {
    Hot fn jb_index_get_data(i: *mut jb_index, tx: *mut jb_txn, key: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        // SAFETY: forwarded header contract; the copy happens while the engine holds the tuple.
        unsafe {
            get(i, tx, key, count, |t, _| match t {
                Some(t) if !copy_out(t.data(), buf, cap, len) => Err(Error::BufferTooSmall { need: t.data().len(), cap }),
                Some(_) => Ok(()),
                None => put(len, 0, "len"),
            })
        }
    }
}

/// Builds an iterator position after checking type and key against the index.
unsafe fn open(
    i: *mut jb_index,
    tx: *mut jb_txn,
    ty: u32,
    key: *const jb_field,
    count: u32,
) -> Result<IterHandle> {
    let ty = super::status::iter_type(ty)?;
    let (cell, sid, uid, txn) = index_in_txn(i as u64, tx)?;
    let pos = enter(&cell, |eng| {
        let (sp, pos) = find_index(eng, sid, uid)?;
        let idx = &sp.indexes[pos];
        // SAFETY: header contract on key.
        unsafe {
            with_values(key, count, "key", |k| {
                idx.def.check_key(k, false, &|| {
                    format!("iterator over index '{}' of space '{}'", idx.name, sp.name)
                })?;
                idx.check_iteration(ty, k, &sp.name)?;
                IterPos::new(ty, k, &cell.quota)
            })
        }
    })?;
    Ok(IterHandle {
        cell,
        space: sid,
        index_uid: uid,
        txn,
        pos,
    })
}

export! {
    Hot fn jb_index_count(i: *mut jb_index, tx: *mut jb_txn, ty: u32, key: *const jb_field, count: u32, out: *mut u64) {
        need(out, "out")?;
        // SAFETY: forwarded header contract.
        let it = unsafe { open(i, tx, ty, key, count)? };
        let n = enter(&it.cell, |eng| {
            let (sp, pos) = find_index(eng, it.space, it.index_uid)?;
            let mvcc = eng.mvcc();
            let view = mvcc.view(it.txn)?;
            Ok(it.pos.count(&sp.indexes[pos], it.space, Vis { view: &view, mvcc: &mvcc }) as u64)
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n, "out") }
    }
}

export! {
    Hot fn jb_index_iter(i: *mut jb_index, tx: *mut jb_txn, ty: u32, key: *const jb_field, count: u32, out: *mut *mut jb_iter) {
        need(out, "out")?;
        // SAFETY: forwarded header contract.
        let it = unsafe { open(i, tx, ty, key, count)? };
        let h = handles::insert(Obj::Iter(Rc::new(RefCell::new(it))))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_iter, "out") }
    }
}

/// Runs `f` on an iterator and the index it walks, inside its engine.
fn with_iter<R>(
    it: *mut jb_iter,
    f: impl FnOnce(&mut IterPos, &crate::engine::index::Index, Vis, &Rc<crate::mem::Quota>) -> Result<R>,
) -> Result<R> {
    let rc = handles::with(it as u64, |o| match o {
        Obj::Iter(rc) => Ok(rc.clone()),
        other => Err(handles::wrong_kind(other, "an iterator")),
    })?;
    let mut guard = rc
        .try_borrow_mut()
        .map_err(|_| Error::Reentry("the iterator is in use by an outer call".into()))?;
    let h = &mut *guard;
    let cell = h.cell.clone();
    enter(&cell, |eng| {
        let (sp, pos) = find_index(eng, h.space, h.index_uid).map_err(|_| {
            Error::BadHandle("the iterator's space or index was dropped; free the iterator".into())
        })?;
        // Iterators outside a transaction see the latest committed state at each step.
        let mvcc = eng.mvcc();
        // A doomed transaction's error (CONFLICT, CASCADE_ROLLBACK) is the answer to every
        // read in it, an iterator's next step included.
        let view = mvcc.view(h.txn).map_err(|e| match e {
            Error::IllegalParams(_) => Error::IllegalParams(
                "the iterator's transaction has ended; free the iterator".into(),
            ),
            doomed => doomed,
        })?;
        f(
            &mut h.pos,
            &sp.indexes[pos],
            Vis {
                view: &view,
                mvcc: &mvcc,
            },
            &cell.quota,
        )
    })
}

/// Advances an iterator by one under `f`, which may refuse the tuple (then the iterator
/// does not move).
fn step<R>(
    it: *mut jb_iter,
    f: impl FnOnce(Option<TuplePtr>, &Rc<crate::mem::Quota>) -> Result<R>,
) -> Result<R> {
    with_iter(it, |pos, index, v, quota| {
        pos.next_with(index, v, |t| f(t, quota))
    })
}

export! {
    Hot fn jb_iter_next(it: *mut jb_iter, out: *mut *mut jb_tuple) {
        need(out, "out")?;
        let t = step(it, |t, q| Ok(t.map(|t| TupleRef::new(t, q))))?;
        let h = match t {
            Some(t) => handles::insert(Obj::Tuple(t))?,
            None => 0,
        };
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_tuple, "out") }
    }
}

export! {
    Hot fn jb_iter_next_data(it: *mut jb_iter, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        step(it, |t, _| match t {
            // SAFETY: header contract on buf/cap/len.
            Some(t) => match unsafe { copy_out(t.data(), buf, cap, len) } {
                true => Ok(()),
                false => Err(Error::BufferTooSmall { need: t.data().len(), cap }),
            },
            // SAFETY: checked non-null above.
            None => unsafe { put(len, 0, "len") },
        })
    }
}

export! {
    Hot fn jb_iter_next_batch(it: *mut jb_iter, out: *mut *mut jb_tuple, cap: u32, n: *mut u32) {
        need(n, "n")?;
        if out.is_null() && cap > 0 {
            return Err(Error::IllegalParams("out is NULL but cap is not 0".into()));
        }
        let mut got = 0u32;
        while got < cap {
            // A tuple is only taken when its handle can be made; otherwise the iterator stays.
            let h = step(it, |t, q| match t {
                Some(t) => handles::insert(Obj::Tuple(TupleRef::new(t, q))).map(Some),
                None => Ok(None),
            });
            match h {
                Ok(Some(h)) => {
                    // SAFETY: out has cap slots (header contract), got < cap.
                    unsafe { out.add(got as usize).write(h as *mut jb_tuple) };
                    got += 1;
                }
                Ok(None) => break,
                Err(e) if got == 0 => return Err(e),
                Err(_) => break,
            }
        }
        // SAFETY: checked non-null above.
        unsafe { put(n, got, "n") }
    }
}

export! {
    Hot fn jb_iter_next_data_batch(it: *mut jb_iter, buf: *mut u8, cap: usize, ends: *mut u32, max: u32, n: *mut u32) {
        need(n, "n")?;
        need(buf, "buf")?;
        need(ends, "ends")?;
        // Offsets are 32-bit: a larger buffer is used up to 4 GiB.
        let cap = cap.min(u32::MAX as usize);
        let mut used = 0usize;
        let mut got = 0usize;
        let taken = with_iter(it, |pos, index, v, _| {
            pos.next_batch(index, v, max as usize, |t: TuplePtr| {
                let data = t.data();
                if data.len() > cap - used {
                    return match got {
                        0 => Err(Error::BufferTooSmall { need: data.len(), cap }),
                        _ => Ok(false),
                    };
                }
                // SAFETY: buf has cap bytes and ends has max slots (header contract); used +
                // data.len() <= cap and got < max (the batch stops at max).
                unsafe {
                    std::ptr::copy_nonoverlapping(data.as_ptr(), buf.add(used), data.len());
                    used += data.len();
                    ends.add(got).write(used as u32);
                }
                got += 1;
                Ok(true)
            })
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(n, taken as u32, "n") }
    }
}

export! {
    Hot fn jb_iter_next_fields_batch(it: *mut jb_iter, fieldnos: *const u32, nfields: u32, out: *mut jb_field, max: u32, buf: *mut u8, cap: usize, n: *mut u32) {
        need(n, "n")?;
        need(out, "out")?;
        need(buf, "buf")?;
        if nfields == 0 {
            return Err(Error::IllegalParams("nfields is 0; ask for at least one field".into()));
        }
        if fieldnos.is_null() {
            return Err(Error::IllegalParams("fieldnos is NULL".into()));
        }
        // SAFETY: header contract: fieldnos has nfields readable slots (non-null, checked).
        let fieldnos = unsafe { std::slice::from_raw_parts(fieldnos, nfields as usize) };
        let per = nfields as usize;
        let max = (max as usize).min(usize::MAX / per);
        let (mut used, mut got) = (0usize, 0usize);
        let taken = with_iter(it, |pos, index, v, _| {
            pos.next_batch(index, v, max, |t: TuplePtr| {
                let start = used;
                // SAFETY: out has max * nfields slots (header contract) and got < max (the
                // batch stops at max), so the row's slots are in bounds.
                let row = unsafe { out.add(got * per) };
                let r = value::each_field(t.data(), fieldnos, |k, val| {
                    let mut f = to_field(val);
                    if let Value::Str(b) | Value::Raw(b) = val {
                        if b.len() > cap - used {
                            return Err(Error::BufferTooSmall { need: b.len(), cap });
                        }
                        // SAFETY: buf has cap bytes (header contract); used + len <= cap.
                        unsafe {
                            let at = buf.add(used);
                            std::ptr::copy_nonoverlapping(b.as_ptr(), at, b.len());
                            f.v.s = at as *const std::ffi::c_char;
                        }
                        used += b.len();
                    }
                    // SAFETY: k < nfields: a slot of this row.
                    unsafe { row.add(k).write(f) };
                    Ok(())
                });
                match r {
                    Ok(()) => {
                        got += 1;
                        Ok(true)
                    }
                    Err(Error::BufferTooSmall { cap, .. }) if got == 0 => {
                        let mut need = 0;
                        value::each_field(t.data(), fieldnos, |_, val| {
                            if let Value::Str(b) | Value::Raw(b) = val {
                                need += b.len();
                            }
                            Ok::<_, Error>(())
                        })?;
                        Err(Error::BufferTooSmall { need, cap })
                    }
                    Err(Error::BufferTooSmall { .. }) => {
                        used = start;
                        Ok(false)
                    }
                    Err(e) => Err(e),
                }
            })
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(n, taken as u32, "n") }
    }
}

export! {
    Hot fn jb_iter_rewind(it: *mut jb_iter, k: u32) {
        with_iter(it, |pos, _, _, _| pos.rewind(k as usize))
    }
}

export! {
    Hot fn jb_iter_changes(it: *mut jb_iter, out: *mut *const u64) {
        need(out, "out")?;
        let rc = handles::with(it as u64, |o| match o {
            Obj::Iter(rc) => Ok(rc.clone()),
            other => Err(handles::wrong_kind(other, "an iterator")),
        })?;
        let counter = rc.try_borrow().map_err(|_| Error::Reentry("the iterator is in use by an outer call".into()))?.cell.changes.as_ptr();
        // SAFETY: checked non-null above.
        unsafe { put(out, counter as *const u64, "out") }
    }
}

export! {
    Hot fn jb_iter_free(it: *mut jb_iter) {
        if it.is_null() {
            return Ok(());
        }
        if let Obj::Iter(rc) = handles::with(it as u64, |o| match o {
            Obj::Iter(_) => Ok(()),
            other => Err(handles::wrong_kind(other, "an iterator")),
        }).and_then(|_| handles::remove(it as u64, handles::Gone::Freed))? {
            if rc.try_borrow_mut().is_err() {
                return Ok(()); // freed from inside its own step: the outer call drops it
            }
            drop(rc);
        }
        Ok(())
    }
}

export! {
    Hot fn jb_index_random(i: *mut jb_index, tx: *mut jb_txn, seed: u64, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        let (cell, sid, uid) = index_of(i as u64)?;
        let txn = txn_named(tx);
        enter(&cell, |eng| {
            let (sp, pos) = find_index(eng, sid, uid)?;
            let mvcc = eng.mvcc();
            let found = sp.indexes[pos].random(seed, &mvcc.view(txn)?, &mvcc);
            // SAFETY: header contract on buf/cap/len; the tuple stays while the engine is entered.
            unsafe {
                match found {
                    Some(t) if !copy_out(t.data(), buf, cap, len) => Err(Error::BufferTooSmall { need: t.data().len(), cap }),
                    Some(_) => Ok(()),
                    None => put(len, 0, "len"),
                }
            }
        })
    }
}
