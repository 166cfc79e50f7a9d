//! Exported: functional indexes — creating one with a key function, the sink a key function
//! reports keys to, and writes that bring the new tuple's keys along.

use super::abi::*;
use super::api_space::{ResultBuf, parse_parts, register_index, space_of, write};
use super::api_txn::txn_in;
use super::boundary::{cell_of, enter, export};
use super::convert::{copy_out, name, need, put, with_values};
use crate::engine::func::{KeyFn, KeySink, KeySource};
use crate::engine::space::{GivenKeys, Mode};
use crate::engine::tuple::TupleRef;
use crate::error::{Error, Result};
use std::ffi::c_char;

export! {
    Safe fn jb_index_create_func(s: *mut jb_space, name_ptr: *const c_char, name_len: usize,
                                 def: *const jb_index_def, func: *const jb_func_def, out: *mut *mut jb_index) {
        need(out, "out")?;
        // SAFETY: header contract on name.
        let iname = unsafe { name(name_ptr, name_len, "index name")? };
        if def.is_null() || func.is_null() {
            return Err(Error::IllegalParams(format!("index '{iname}': def and func must not be NULL")));
        }
        // SAFETY: non-null def and func point to their structs (header contract).
        let (def, func) = unsafe { (&*def, &*func) };
        // SAFETY: def's parts and their paths are readable (header contract).
        let specs = unsafe { parse_parts(def, iname)? };
        if super::api_space::index_kind(def, iname)? != crate::engine::index::IndexKind::Tree {
            return Err(Error::IllegalParams(format!(
                "functional index '{iname}' must be a TREE index (JB_INDEX_TREE)"
            )));
        }
        if specs.iter().any(|p| !p.path.is_empty() || p.exclude_null) {
            return Err(Error::IllegalParams(format!(
                "functional index '{iname}': its key function gives the keys; parts have no path \
                 and no exclude_null"
            )));
        }
        let parts: Vec<_> = specs.iter().map(|p| p.part).collect();
        if let Some(k) = parts.iter().enumerate().position(|(k, p)| p.fieldno as usize != k) {
            return Err(Error::IllegalParams(format!(
                "functional index '{iname}' part {} has fieldno {}; the parts of a functional \
                 index describe the key its function returns, so part k must have fieldno k",
                k + 1, parts[k].fieldno)));
        }
        let kind = super::status::callback_kind(func.kind).ok_or_else(|| {
            Error::IllegalParams(format!("index '{iname}': unknown callback kind {}; use JB_CB_NATIVE or JB_CB_LUA", func.kind))
        })?;
        let f = func.fn_.ok_or_else(|| Error::IllegalParams(format!("index '{iname}': func->fn is NULL")))?;
        if func.multikey > 1 {
            return Err(Error::IllegalParams(format!("index '{iname}': multikey must be 0 or 1")));
        }
        // SAFETY: the two function pointer types differ only in the pointee of the last
        // argument (the opaque jb_key_sink, or c_void): raw pointers to sized types are
        // ABI-compatible, so calling one as the other is calling it as declared.
        let f: crate::engine::func::RawKeyFn = unsafe { std::mem::transmute(f) };
        let kf = KeyFn { source: KeySource::User { func: f, ctx: func.ctx }, kind, multikey: func.multikey == 1 };
        let types = parts.iter().map(|p| p.ty).collect();
        let (cell, id) = space_of(s as u64)?;
        let (_, uid) = enter(&cell, |eng| eng.create_func_index(id, iname, types, def.unique == 1, kf))?;
        let h = register_index(&cell, id, uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_index, "out") }
    }
}

/// The sink behind a `jb_key_sink` pointer, if it is one (only valid inside a key function).
///
/// # Safety
/// `sink` must be NULL or the pointer a key function was given, during that call.
unsafe fn sink_mut<'a>(sink: *mut jb_key_sink) -> Result<&'a mut KeySink<'a>> {
    // SAFETY: push and fail run inside the key function call (header contract); a sink
    // that is not that call's is refused without being read.
    unsafe { crate::engine::func::current_sink(sink as usize) }.ok_or_else(|| {
        Error::BadHandle(
            "jb_key_sink: not the sink of the key function call running now (stale, forged, \
             or used after its call returned)"
                .into(),
        )
    })
}

export! {
    Free fn jb_key_sink_push(sink: *mut jb_key_sink, parts: *const jb_field, count: u32) {
        // SAFETY: header contract: only inside the key function call that got the sink.
        let sink = unsafe { sink_mut(sink)? };
        // SAFETY: header contract on parts.
        let r = unsafe { with_values(parts, count, "key", |vals| sink.push(vals)) };
        if let Err(e) = &r {
            sink.fail(e.clone());
        }
        r
    }
}

export! {
    Free fn jb_key_sink_fail(sink: *mut jb_key_sink, msg: *const c_char, len: usize) {
        // SAFETY: header contract: only inside the key function call that got the sink.
        let sink = unsafe { sink_mut(sink)? };
        let text = if msg.is_null() {
            "no reason given".into()
        } else {
            // SAFETY: msg is len readable bytes (header contract).
            String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(msg as *const u8, len) }).into_owned()
        };
        sink.fail(Error::IllegalParams(format!("key function of index '{}' failed: {text}", sink.index)));
        Ok(())
    }
}

/// Runs `f` with the caller's keys (`None` for a NULL `keys`).
///
/// # Safety
/// `keys` is NULL or points to a jb_keys whose arrays and strings live for the call.
unsafe fn with_keys<R>(
    keys: *const jb_keys,
    f: impl FnOnce(Option<&GivenKeys>) -> Result<R>,
) -> Result<R> {
    // SAFETY: non-null keys points to a jb_keys (the caller's contract).
    let Some(k) = (unsafe { keys.as_ref() }) else {
        return f(None);
    };
    if k.counts.is_null() && k.index_count != 0 {
        return Err(Error::IllegalParams(
            "keys->counts is NULL but index_count is not 0".into(),
        ));
    }
    let counts: &[u32] = if k.index_count == 0 {
        &[]
    } else {
        // SAFETY: counts holds index_count entries (the caller's contract).
        unsafe { std::slice::from_raw_parts(k.counts, k.index_count as usize) }
    };
    // SAFETY: forwarded contract (parts and their strings live for the call).
    unsafe {
        with_values(k.parts, k.part_count, "keys", |parts| {
            f(Some(&GivenKeys { parts, counts }))
        })
    }
}

/// Reads the caller's keys and runs a keyed write.
///
/// # Safety
/// The header's contract on every pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn keyed(
    s: *mut jb_space,
    tx: *mut jb_txn,
    fields: *const jb_field,
    count: u32,
    keys: *const jb_keys,
    old_keys: *const jb_keys,
    out: ResultBuf,
    mode: Mode,
) -> Result<()> {
    if keys.is_null() {
        return Err(Error::IllegalParams(
            "keys is NULL; give the new tuple's keys".into(),
        ));
    }
    let _ = space_of(s as u64)?;
    // SAFETY: forwarded header contract.
    unsafe {
        with_keys(keys, |given| {
            with_keys(old_keys, |old| {
                write(s, tx, fields, count, out, "tuple", |sp, t, v, q| {
                    Ok(Some(TupleRef::new(sp.write(t, v, mode, given, old)?.0, q)))
                })
            })
        })
    }
}

export! {
    Hot fn jb_space_insert_keyed(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32,
                                 keys: *const jb_keys, buf: *mut u8, cap: usize, len: *mut usize) {
        // SAFETY: forwarded header contract.
        unsafe { keyed(s, tx, fields, count, keys, std::ptr::null(), ResultBuf { buf, cap, len }, Mode::Insert) }
    }
}

export! {
    Hot fn jb_space_replace_keyed(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32,
                                  keys: *const jb_keys, buf: *mut u8, cap: usize, len: *mut usize) {
        // SAFETY: forwarded header contract.
        unsafe { keyed(s, tx, fields, count, keys, std::ptr::null(), ResultBuf { buf, cap, len }, Mode::Overwrite) }
    }
}

export! {
    Hot fn jb_space_replace_rekeyed(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32,
                                    keys: *const jb_keys, old_keys: *const jb_keys, buf: *mut u8, cap: usize, len: *mut usize) {
        if old_keys.is_null() {
            return Err(Error::IllegalParams("old_keys is NULL; give the replaced version's keys, or use jb_space_replace_keyed".into()));
        }
        // SAFETY: forwarded header contract.
        unsafe { keyed(s, tx, fields, count, keys, old_keys, ResultBuf { buf, cap, len }, Mode::Overwrite) }
    }
}

export! {
    Hot fn jb_space_replaced(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        let (cell, id) = space_of(s as u64)?;
        let txn = txn_in(tx, &cell)?;
        enter(&cell, |eng| {
            // SAFETY: header contract on fields; the copy happens while the engine holds the tuple.
            unsafe {
                with_values(fields, count, "tuple", |vals| {
                    let mvcc = eng.mvcc();
                    match eng.space(id)?.replaced(vals, &mvcc.view(txn)?, &mvcc)? {
                        Some(t) if !copy_out(t.data(), buf, cap, len) => {
                            Err(Error::BufferTooSmall { need: t.data().len(), cap })
                        }
                        Some(_) => Ok(()),
                        None => put(len, 0, "len"),
                    }
                })
            }
        })
    }
}

export! {
    Hot fn jb_engine_buried_next(e: *mut jb_engine, space_id: *mut u64, data: *mut *const u8, size: *mut usize) {
        need(space_id, "space_id")?;
        need(data, "data")?;
        need(size, "size")?;
        let cell = cell_of(e as u64)?;
        let front = enter(&cell, |eng| Ok(eng.buried_front()))?;
        let (uid, bytes) = match front {
            Some((sid, t)) => (sid.uid, t.data()),
            None => (0, &[][..]),
        };
        let ptr = if bytes.is_empty() { std::ptr::null() } else { bytes.as_ptr() };
        // SAFETY: checked non-null above.
        unsafe {
            put(space_id, uid, "space_id")?;
            put(size, bytes.len(), "size")?;
            put(data, ptr, "data")
        }
    }
}

export! {
    Hot fn jb_engine_buried_forget(e: *mut jb_engine, data: *const u8, keys: *const jb_keys) {
        if data.is_null() {
            return Err(Error::IllegalParams("data is NULL; give what jb_engine_buried_next wrote".into()));
        }
        let cell = cell_of(e as u64)?;
        // SAFETY: header contract on keys.
        unsafe { with_keys(keys, |given| enter(&cell, |eng| eng.forget_buried(data, given))) }
    }
}
