//! Reading `jb_field` arrays and raw buffers from C, and writing values and tuple data back.

use super::abi::{self, jb_field, jb_update_op};
use crate::engine::space::FormatField;
use crate::engine::update::{FieldRef, RawOp, UpdateOp};
use crate::engine::value::Value;
use crate::error::{Error, Result};
use smallvec::SmallVec;

const STACK_FIELDS: usize = 32;

/// Reads one field. Type codes are integers from C, checked, never trusted as an enum.
///
/// # Safety
/// A string field's `v.s` must point to `len` readable bytes for the returned lifetime.
unsafe fn read_field<'a>(f: &jb_field, i: usize) -> Result<Value<'a>> {
    // SAFETY: every member of the union is plain data of 8 bytes; reading the one the type
    // tag names is what the C side wrote.
    unsafe {
        Ok(match f.type_ {
            abi::JB_FT_NIL => Value::Nil,
            abi::JB_FT_BOOLEAN => Value::Bool(f.v.u != 0),
            abi::JB_FT_UNSIGNED => Value::Uint(f.v.u),
            abi::JB_FT_INTEGER => Value::int(f.v.i),
            abi::JB_FT_NUMBER => Value::Double(f.v.d),
            abi::JB_FT_STRING => {
                let len = f.len as usize;
                if f.v.s.is_null() {
                    if len != 0 {
                        return Err(Error::IllegalParams(format!(
                            "field {} is a string with a NULL pointer",
                            i + 1
                        )));
                    }
                    Value::Str(&[])
                } else {
                    Value::Str(std::slice::from_raw_parts(f.v.s as *const u8, len))
                }
            }
            abi::JB_FT_MSGPACK => {
                let len = f.len as usize;
                if f.v.s.is_null() {
                    return Err(Error::IllegalParams(format!(
                        "field {} is MessagePack with a NULL pointer",
                        i + 1
                    )));
                }
                let b = std::slice::from_raw_parts(f.v.s as *const u8, len);
                crate::engine::value::one_value(b).map_err(|_| {
                    Error::IllegalParams(format!(
                        "field {} is not one well-formed MessagePack value",
                        i + 1
                    ))
                })?
            }
            t => {
                return Err(Error::FieldType(format!(
                    "field {} has unknown type code {t}; use JB_FT_NIL..JB_FT_STRING",
                    i + 1
                )));
            }
        })
    }
}

/// Runs `f` on the values of a C field array, without allocating for short arrays.
///
/// # Safety
/// `fields` must be NULL (with `count` 0) or point to `count` fields whose strings stay valid
/// during the call.
pub unsafe fn with_values<R>(
    fields: *const jb_field,
    count: u32,
    what: &str,
    f: impl FnOnce(&[Value]) -> Result<R>,
) -> Result<R> {
    let n = count as usize;
    if fields.is_null() {
        if n != 0 {
            return Err(Error::IllegalParams(format!(
                "{what} is NULL but its count is {n}"
            )));
        }
        return f(&[]);
    }
    // SAFETY: the caller guarantees `count` readable fields.
    let src = unsafe { std::slice::from_raw_parts(fields, n) };
    if n <= 4 {
        // Keys and small tuples: the common case, without initialising a large array.
        let mut vals = [Value::Nil; 4];
        for (i, (dst, s)) in vals.iter_mut().zip(src).enumerate() {
            // SAFETY: forwarded from the caller's guarantee on strings.
            *dst = unsafe { read_field(s, i)? };
        }
        return f(&vals[..n]);
    }
    if n <= STACK_FIELDS {
        let mut vals = [Value::Nil; STACK_FIELDS];
        for (i, (dst, s)) in vals.iter_mut().zip(src).enumerate() {
            // SAFETY: forwarded from the caller's guarantee on strings.
            *dst = unsafe { read_field(s, i)? };
        }
        return f(&vals[..n]);
    }
    let mut vals = Vec::new();
    vals.try_reserve_exact(n)
        .map_err(|_| Error::Memory(format!("cannot allocate {n} fields")))?;
    for (i, s) in src.iter().enumerate() {
        // SAFETY: as above.
        vals.push(unsafe { read_field(s, i)? });
    }
    f(&vals)
}

/// The checked update operations of a C call (on the stack for a few).
pub type Ops<'a> = SmallVec<[UpdateOp<'a>; 4]>;

/// Reads and checks a C array of update operations into `out` (filled in place); names
/// resolve in `format`.
///
/// # Safety
/// `ops` must be NULL (with `count` 0) or point to `count` operations whose names and
/// strings stay valid for the returned lifetime.
pub unsafe fn update_ops<'a>(
    ops: *const jb_update_op,
    count: u32,
    format: &[FormatField],
    out: &mut Ops<'a>,
) -> Result<()> {
    let n = count as usize;
    if ops.is_null() {
        if n != 0 {
            return Err(Error::IllegalParams(format!("ops is NULL but op_count is {n}")));
        }
        return Ok(());
    }
    // SAFETY: the caller guarantees `count` readable operations.
    let src = unsafe { std::slice::from_raw_parts(ops, n) };
    out.try_reserve_exact(n)
        .map_err(|_| Error::Memory(format!("cannot allocate {n} update operations")))?;
    for (i, op) in src.iter().enumerate() {
        if op.reserved != [0; 3] {
            return Err(Error::IllegalParams(format!(
                "update operation {}: reserved bytes must be 0",
                i + 1
            )));
        }
        let field = if op.name.is_null() {
            FieldRef::Number(op.field)
        } else {
            if op.field != 0 {
                return Err(Error::IllegalParams(format!(
                    "update operation {}: give a field number or a name, not both",
                    i + 1
                )));
            }
            // SAFETY: the caller guarantees name_len readable bytes.
            FieldRef::Name(unsafe { name(op.name, op.name_len, "update field name")? })
        };
        // SAFETY: the caller guarantees the argument's string.
        let arg = unsafe { read_field(&op.arg, i)? };
        let raw = RawOp {
            opcode: op.op,
            field,
            arg,
            splice_offset: op.splice_offset,
            splice_cut: op.splice_cut,
        };
        out.push(UpdateOp::parse(raw, i + 1, format)?);
    }
    Ok(())
}

/// The C view of a value; strings point into the tuple data they came from.
pub fn to_field(v: Value) -> jb_field {
    let mut f = jb_field::default();
    match v {
        Value::Nil => f.type_ = abi::JB_FT_NIL,
        Value::Bool(b) => {
            f.type_ = abi::JB_FT_BOOLEAN;
            f.v.u = b as u64;
        }
        Value::Uint(u) => {
            f.type_ = abi::JB_FT_UNSIGNED;
            f.v.u = u;
        }
        Value::Int(i) => {
            f.type_ = abi::JB_FT_INTEGER;
            f.v.i = i;
        }
        Value::Double(d) => {
            f.type_ = abi::JB_FT_NUMBER;
            f.v.d = d;
        }
        Value::Str(s) => {
            f.type_ = abi::JB_FT_STRING;
            f.len = s.len() as u32;
            f.v.s = s.as_ptr() as *const std::ffi::c_char;
        }
        Value::Raw(b) => {
            f.type_ = abi::JB_FT_MSGPACK;
            f.len = b.len() as u32;
            f.v.s = b.as_ptr() as *const std::ffi::c_char;
        }
    }
    f
}

/// Borrows a byte buffer from C.
///
/// # Safety
/// `ptr` must be NULL or point to `len` readable bytes for the returned lifetime.
pub unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::IllegalParams(format!(
            "{what} is NULL but its length is {len}"
        )));
    }
    // SAFETY: the caller guarantees `len` readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A name argument: UTF-8 bytes.
///
/// # Safety
/// As for `bytes`.
pub unsafe fn name<'a>(ptr: *const std::ffi::c_char, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: forwarded.
    let b = unsafe { bytes(ptr as *const u8, len, what)? };
    std::str::from_utf8(b).map_err(|_| Error::IllegalParams(format!("{what} is not valid UTF-8")))
}

/// Copies tuple data into a caller buffer. `Ok(false)` when it does not fit (`*len` = needed).
///
/// # Safety
/// `buf` must be NULL or point to `cap` writable bytes; `len` NULL or writable.
pub unsafe fn copy_out(data: &[u8], buf: *mut u8, cap: usize, len: *mut usize) -> bool {
    // SAFETY: the caller guarantees the pointers.
    unsafe {
        if !len.is_null() {
            *len = data.len();
        }
        if buf.is_null() || data.len() > cap {
            return false;
        }
        std::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len());
    }
    true
}

/// Copies text into a caller buffer: `*len` = its length; `BufferTooSmall` when it does not
/// fit; `buf` may be NULL for empty text.
///
/// # Safety
/// `len` must be valid for writes (checked non-NULL by the caller); `buf` NULL or `cap`
/// writable bytes.
pub unsafe fn copy_text(text: &[u8], buf: *mut std::ffi::c_char, cap: usize, len: *mut usize) -> Result<()> {
    // SAFETY: len is non-null and writable (the caller's contract).
    unsafe { len.write(text.len()) };
    if text.len() > cap {
        return Err(Error::BufferTooSmall { need: text.len(), cap });
    }
    if !text.is_empty() {
        need(buf, "buf")?;
        // SAFETY: buf holds cap >= text.len() writable bytes (the caller's contract).
        unsafe { std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, text.len()) };
    }
    Ok(())
}

/// Writes `v` through an out-pointer, refusing NULL.
///
/// # Safety
/// `out` must be NULL or valid for writes.
pub unsafe fn put<T>(out: *mut T, v: T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::IllegalParams(format!("out-pointer {what} is NULL")));
    }
    // SAFETY: non-null and valid per the caller.
    unsafe { out.write(v) };
    Ok(())
}

/// Refuses a NULL out-pointer before any work is done.
pub fn need<T>(out: *mut T, what: &str) -> Result<()> {
    if out.is_null() {
        return Err(Error::IllegalParams(format!("out-pointer {what} is NULL")));
    }
    Ok(())
}
