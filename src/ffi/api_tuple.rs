//! Exported: tuple handles (C's refcounted view) and tuple data (the Lua module's copies).

use super::abi::*;
use super::boundary::export;
use super::convert::{Ops, bytes, copy_out, need, put, to_field, update_ops, with_values};
use super::handles::{self, Gone, Obj};
use crate::engine::tuple::TupleRef;
use crate::engine::{update, value};
use crate::error::{Error, Result};

fn tuple_of(t: *mut jb_tuple) -> Result<TupleRef> {
    handles::with(t as u64, |o| match o {
        Obj::Tuple(r) => Ok(r.clone()),
        other => Err(handles::wrong_kind(other, "a tuple")),
    })
}

/// Writes up to `cap` fields of `data` to `out`; returns the field count.
unsafe fn fields_into(data: &[u8], out: *mut jb_field, cap: u32) -> Result<u32> {
    if out.is_null() && cap > 0 {
        return Err(Error::IllegalParams("out is NULL but cap is not 0".into()));
    }
    let mut count = 0u32;
    for (i, v) in value::fields(data)?.enumerate() {
        let v = v?;
        if (i as u32) < cap {
            // SAFETY: out has cap slots (header contract).
            unsafe { out.add(i).write(to_field(v)) };
        }
        count += 1;
    }
    Ok(count)
}

export! {
    Hot fn jb_tuple_field_count(t: *mut jb_tuple, out: *mut u32) {
        need(out, "out")?;
        let r = tuple_of(t)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, r.ptr().field_count() as u32, "out") }
    }
}

export! {
    Hot fn jb_tuple_field(t: *mut jb_tuple, fieldno: u32, out: *mut jb_field) {
        need(out, "out")?;
        let r = tuple_of(t)?;
        // The handle keeps the tuple alive, so strings pointing into it stay valid.
        let v = r.ptr().field(fieldno as usize);
        // SAFETY: checked non-null above.
        unsafe { put(out, to_field(v), "out") }
    }
}

export! {
    Hot fn jb_tuple_fields(t: *mut jb_tuple, out: *mut jb_field, cap: u32, n: *mut u32) {
        need(n, "n")?;
        let r = tuple_of(t)?;
        // SAFETY: header contract on out/cap; n checked non-null.
        unsafe {
            let count = fields_into(r.ptr().data(), out, cap)?;
            put(n, count, "n")
        }
    }
}

export! {
    Hot fn jb_tuple_ref(t: *mut jb_tuple, out: *mut *mut jb_tuple) {
        need(out, "out")?;
        let h = handles::insert(Obj::Tuple(tuple_of(t)?))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_tuple, "out") }
    }
}

export! {
    Hot fn jb_tuple_unref(t: *mut jb_tuple) {
        if t.is_null() {
            return Ok(());
        }
        tuple_of(t)?;
        drop(handles::remove(t as u64, Gone::Freed)?);
        Ok(())
    }
}

export! {
    Hot fn jb_tuple_data(t: *mut jb_tuple, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        let r = tuple_of(t)?;
        // SAFETY: header contract on buf/cap/len.
        if unsafe { !copy_out(r.data(), buf, cap, len) } {
            return Err(Error::BufferTooSmall { need: r.data().len(), cap });
        }
        Ok(())
    }
}

export! {
    Hot fn jb_data_field(data: *const u8, size: usize, fieldno: u32, out: *mut jb_field) {
        need(out, "out")?;
        // SAFETY: header contract: data is size readable bytes.
        let d = unsafe { bytes(data, size, "data")? };
        let v = value::field(d, fieldno as usize)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, to_field(v), "out") }
    }
}

export! {
    Hot fn jb_data_field_count(data: *const u8, size: usize, out: *mut u32) {
        need(out, "out")?;
        // SAFETY: header contract on data.
        let d = unsafe { bytes(data, size, "data")? };
        let mut pos = 0;
        let n = value::decode_array_header(d, &mut pos)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n as u32, "out") }
    }
}

export! {
    Hot fn jb_data_fields(data: *const u8, size: usize, out: *mut jb_field, cap: u32, n: *mut u32) {
        need(n, "n")?;
        // SAFETY: header contract on data, out/cap and n.
        unsafe {
            let d = bytes(data, size, "data")?;
            let count = fields_into(d, out, cap)?;
            put(n, count, "n")
        }
    }
}

/// Encodes `vals` as tuple data into buf (cap bytes); `*len` gets the size.
///
/// # Safety
/// `len` must be writable; `buf` NULL or `cap` writable bytes.
unsafe fn encode_into(
    vals: &[value::Value],
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> Result<()> {
    let size = value::encoded_array_len(vals);
    // SAFETY: the caller guarantees len.
    unsafe { len.write(size) };
    if size > cap {
        return Err(Error::BufferTooSmall { need: size, cap });
    }
    need(buf, "buf")?;
    // SAFETY: buf holds cap >= size writable bytes (the caller's guarantee).
    let out = unsafe { std::slice::from_raw_parts_mut(buf, size) };
    let mut sink = value::SliceSink { buf: out, pos: 0 };
    value::encode_array_header(vals.len(), &mut sink);
    for v in vals {
        v.encode(&mut sink);
    }
    Ok(())
}

export! {
    Hot fn jb_data_encode(fields: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        // SAFETY: header contract: count fields whose strings stay valid for the call; buf
        // holds cap bytes.
        unsafe { with_values(fields, count, "fields", |vals| encode_into(vals, buf, cap, len)) }
    }
}

export! {
    Hot fn jb_data_update(data: *const u8, size: usize, ops_ptr: *const jb_update_op, op_count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        need(len, "len")?;
        // SAFETY: header contract on data, ops (and their strings) and buf/cap/len.
        unsafe {
            let d = bytes(data, size, "data")?;
            value::validate(d)?;
            let mut ops = Ops::new();
            update_ops(ops_ptr, op_count, &[], &mut ops)?;
            let mut cells = update::Cells::new();
            update::cells_of(d, &mut cells)?;
            update::apply(&mut cells, &ops)?;
            update::with_cell_values(&cells, |vals| encode_into(vals, buf, cap, len))
        }
    }
}
