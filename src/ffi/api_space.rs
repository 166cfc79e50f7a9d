//! Exported: spaces and indexes (create, find, drop) and the write operations.

use super::abi::*;
use super::api_txn::txn_in;
use super::boundary::{enter, export};
use super::convert::{Ops, copy_out, name, need, put, update_ops, with_values};
use super::handles::{self, EngineCell, Gone, Obj};
use crate::engine::collation::Collation;
use crate::engine::index::IndexKind;
use crate::engine::key::{FieldType, KeyPart};
use crate::engine::mvcc::TxnId;
use crate::engine::path::PartSpec;
use crate::engine::space::{Apply, FormatField, Mode, Space};
use crate::engine::tuple::TupleRef;
use crate::engine::value::Value;
use crate::engine::{Engine, SpaceId};
use crate::error::{Error, Result};
use crate::mem::Quota;
use std::ffi::c_char;
use std::rc::Rc;

pub(crate) fn space_of(h: u64) -> Result<(Rc<EngineCell>, SpaceId)> {
    handles::with(h, |o| match o {
        Obj::Space(c, id) => Ok((c.clone(), *id)),
        other => Err(handles::wrong_kind(other, "a space")),
    })
}

pub(crate) fn index_of(h: u64) -> Result<(Rc<EngineCell>, SpaceId, u64)> {
    handles::with(h, |o| match o {
        Obj::Index(c, s, uid) => Ok((c.clone(), *s, *uid)),
        other => Err(handles::wrong_kind(other, "an index")),
    })
}

/// The space and the position of the index with `uid` in it.
pub(crate) fn find_index(eng: &Engine, space: SpaceId, uid: u64) -> Result<(&Space, usize)> {
    let s = eng.space(space)?;
    let pos = s.indexes.iter().position(|i| i.uid == uid).ok_or_else(|| {
        Error::BadHandle(format!(
            "the index was dropped from space '{}'; look it up again",
            s.name
        ))
    })?;
    Ok((s, pos))
}

export! {
    Safe fn jb_space_create(e: *mut jb_engine, name_ptr: *const c_char, name_len: usize,
                            format: *const jb_format_field, format_count: u32, out: *mut *mut jb_space) {
        need(out, "out")?;
        // SAFETY: header contract: name is name_len readable bytes.
        let sname = unsafe { name(name_ptr, name_len, "space name")? };
        // SAFETY: header contract: format points to format_count fields.
        let fields = unsafe { parse_format(format, format_count, sname)? };
        let cell = super::boundary::cell_of(e as u64)?;
        let id = enter(&cell, |eng| eng.create_space(sname, fields))?;
        let h = match handles::insert(Obj::Space(cell.clone(), id)) {
            Ok(h) => cell.name(id.uid, h).map(|_| h).inspect_err(|_| {
                let _ = handles::remove(h, Gone::Dropped);
            }),
            Err(err) => Err(err),
        };
        let h = h.inspect_err(|_| {
            let _ = enter(&cell, |eng| eng.drop_space(id).map(drop));
        })?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_space, "out") }
    }
}

export! {
    Hot fn jb_space_find(e: *mut jb_engine, name_ptr: *const c_char, name_len: usize, out: *mut *mut jb_space) {
        need(out, "out")?;
        // SAFETY: header contract on name.
        let sname = unsafe { name(name_ptr, name_len, "space name")? };
        let cell = super::boundary::cell_of(e as u64)?;
        let uid = enter(&cell, |eng| Ok(eng.find_space(sname)?.uid))?;
        let h = cell.handle_of(uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_space, "out") }
    }
}

export! {
    Safe fn jb_space_drop(s: *mut jb_space) {
        let (cell, id) = space_of(s as u64)?;
        let space = enter(&cell, |eng| eng.drop_space(id))?;
        for i in &space.indexes {
            cell.forget(i.uid, Gone::Dropped);
        }
        cell.forget(space.uid, Gone::Dropped);
        drop(space);
        Ok(())
    }
}

export! {
    Hot fn jb_space_id(s: *mut jb_space, out: *mut u64) {
        need(out, "out")?;
        let (cell, id) = space_of(s as u64)?;
        let uid = enter(&cell, |eng| Ok(eng.space(id)?.uid))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, uid, "out") }
    }
}

export! {
    Hot fn jb_space_len(s: *mut jb_space, out: *mut u64) {
        need(out, "out")?;
        let (cell, id) = space_of(s as u64)?;
        let n = enter(&cell, |eng| Ok(eng.space(id)?.len() as u64))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n, "out") }
    }
}

export! {
    Safe fn jb_index_create(s: *mut jb_space, name_ptr: *const c_char, name_len: usize,
                            def: *const jb_index_def, out: *mut *mut jb_index) {
        need(out, "out")?;
        // SAFETY: header contract on name and def.
        let iname = unsafe { name(name_ptr, name_len, "index name")? };
        if def.is_null() {
            return Err(Error::IllegalParams(format!("index '{iname}': def is NULL")));
        }
        // SAFETY: non-null def points to a jb_index_def (header contract).
        let def = unsafe { &*def };
        // SAFETY: def's parts and their paths are readable (header contract).
        let specs = unsafe { parse_parts(def, iname)? };
        let kind = index_kind(def, iname)?;
        let (cell, id) = space_of(s as u64)?;
        let unique = def.unique == 1;
        let (_, uid) = enter(&cell, |eng| {
            if specs.iter().all(|p| p.path.is_empty() && !p.exclude_null) {
                let parts = specs.iter().map(|p| p.part).collect();
                return eng.create_index_of(id, iname, parts, unique, kind);
            }
            if kind == IndexKind::Hash {
                return Err(Error::IllegalParams(format!(
                    "HASH index '{iname}' keys by whole fields: no path, no exclude_null; a TREE \
                     index takes them"
                )));
            }
            eng.create_path_index(id, iname, &specs, unique)
        })?;
        let h = register_index(&cell, id, uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_index, "out") }
    }
}

/// The type a definition asks for.
pub(crate) fn index_kind(def: &jb_index_def, iname: &str) -> Result<IndexKind> {
    if def.reserved != 0 {
        return Err(Error::IllegalParams(format!(
            "index '{iname}': reserved must be 0"
        )));
    }
    match def.type_ {
        JB_INDEX_TREE => Ok(IndexKind::Tree),
        JB_INDEX_HASH => Ok(IndexKind::Hash),
        t => Err(Error::IllegalParams(format!(
            "index '{iname}': type {t} is not a JB_INDEX_* (TREE or HASH)"
        ))),
    }
}

/// A space's format from C, checked.
///
/// # Safety
/// `format` points to `count` fields, each name to `name_len` bytes (header contract).
unsafe fn parse_format(
    format: *const jb_format_field,
    count: u32,
    sname: &str,
) -> Result<Vec<FormatField>> {
    if format.is_null() && count != 0 {
        return Err(Error::IllegalParams(
            "format is NULL but format_count is not 0".into(),
        ));
    }
    let mut fields = Vec::new();
    fields
        .try_reserve_exact(count as usize)
        .map_err(|_| Error::Memory("cannot allocate the format".into()))?;
    for i in 0..count as usize {
        // SAFETY: format points to count entries (the caller's contract).
        let f = unsafe { &*format.add(i) };
        // SAFETY: the field's name is name_len readable bytes (the caller's contract).
        let fname = unsafe { name(f.name, f.name_len as usize, "format field name")? };
        let ty = super::status::field_type(f.type_, true).ok_or_else(|| {
            Error::FieldType(format!(
                "format field {} ('{fname}') of space '{sname}' has unknown type code {}",
                i + 1,
                f.type_
            ))
        })?;
        if f.is_nullable > 1 || f.reserved != 0 {
            return Err(Error::IllegalParams(format!(
                "format field {} ('{fname}'): is_nullable must be 0 or 1, reserved 0",
                i + 1
            )));
        }
        if fname.is_empty() || fields.iter().any(|g: &FormatField| g.name == fname) {
            return Err(Error::IllegalParams(format!(
                "format field {} of space '{sname}' needs a unique, non-empty name",
                i + 1
            )));
        }
        fields.push(FormatField {
            name: fname.to_owned(),
            ty,
            nullable: f.is_nullable == 1,
        });
    }
    Ok(fields)
}

export! {
    Safe fn jb_space_set_format(s: *mut jb_space, format: *const jb_format_field, format_count: u32) {
        let (cell, id) = space_of(s as u64)?;
        let sname = enter(&cell, |eng| Ok(eng.space(id)?.name.clone()))?;
        // SAFETY: header contract: format points to format_count fields.
        let fields = unsafe { parse_format(format, format_count, &sname)? };
        enter(&cell, |eng| eng.set_format(id, fields))
    }
}

/// The parts of an index definition, checked, with their paths ("" for none).
///
/// # Safety
/// `def.parts` points to `part_count` parts, each path to `path_len` bytes (header contract).
pub(crate) unsafe fn parse_parts<'a>(
    def: &'a jb_index_def,
    iname: &str,
) -> Result<Vec<PartSpec<'a>>> {
    if def.unique > 1 {
        return Err(Error::IllegalParams(format!(
            "index '{iname}': unique must be 0 or 1"
        )));
    }
    if def.parts.is_null()
        || def.part_count == 0
        || def.part_count as usize > crate::engine::key::MAX_PARTS
    {
        return Err(Error::IllegalParams(format!(
            "index '{iname}' needs 1 to {} parts",
            crate::engine::key::MAX_PARTS
        )));
    }
    let mut parts = Vec::new();
    for i in 0..def.part_count as usize {
        // SAFETY: parts points to part_count entries (header contract).
        let p = unsafe { &*def.parts.add(i) };
        let ty = super::status::field_type(p.type_, false).ok_or_else(|| {
            Error::FieldType(format!(
                "index '{iname}' part {} has type code {}, which cannot be indexed",
                i + 1,
                p.type_
            ))
        })?;
        if p.fieldno > 65535 {
            return Err(Error::IllegalParams(format!(
                "index '{iname}' part {}: field number {} is too large",
                i + 1,
                p.fieldno
            )));
        }
        if p.is_nullable > 1 {
            return Err(Error::IllegalParams(format!(
                "index '{iname}' part {}: is_nullable must be 0 or 1",
                i + 1
            )));
        }
        let collation = Collation::from_code(p.collation).ok_or_else(|| {
            Error::IllegalParams(format!(
                "index '{iname}' part {}: collation {} is not a JB_COLL_*",
                i + 1,
                p.collation
            ))
        })?;
        if collation != Collation::None && ty != FieldType::String {
            return Err(Error::IllegalParams(format!(
                "index '{iname}' part {}: a collation orders strings; the part is {}",
                i + 1,
                ty.name()
            )));
        }
        let part = KeyPart {
            fieldno: p.fieldno,
            ty,
            nullable: p.is_nullable == 1,
            collation,
        };
        if p.exclude_null > 1 {
            return Err(Error::IllegalParams(format!(
                "index '{iname}' part {}: exclude_null must be 0 or 1",
                i + 1
            )));
        }
        let path = match (p.path.is_null(), p.path_len) {
            (_, 0) => "",
            (true, _) => {
                return Err(Error::IllegalParams(format!(
                    "index '{iname}' part {}: path is NULL with path_len {}",
                    i + 1,
                    p.path_len
                )));
            }
            // SAFETY: path is path_len readable bytes (header contract).
            (false, n) => unsafe { name(p.path, n as usize, "path")? },
        };
        parts.push(PartSpec {
            part,
            path,
            exclude_null: p.exclude_null == 1,
        });
    }
    Ok(parts)
}

/// Hands out a handle for a new index; when that fails, the index goes again.
pub(crate) fn register_index(cell: &Rc<EngineCell>, id: SpaceId, uid: u64) -> Result<u64> {
    let remove_index = |eng: &mut Engine| {
        let sp = eng.space_mut(id)?;
        if let Some(p) = sp.indexes.iter().position(|i| i.uid == uid) {
            sp.drop_index(p).map(drop)?;
        }
        Ok(())
    };
    let named = handles::insert(Obj::Index(cell.clone(), id, uid)).and_then(|h| {
        cell.name(uid, h).map(|_| h).inspect_err(|_| {
            let _ = handles::remove(h, Gone::Dropped);
        })
    });
    named.inspect_err(|_| {
        let _ = enter(cell, remove_index);
    })
}

export! {
    Hot fn jb_index_find(s: *mut jb_space, name_ptr: *const c_char, name_len: usize, out: *mut *mut jb_index) {
        need(out, "out")?;
        // SAFETY: header contract on name.
        let iname = unsafe { name(name_ptr, name_len, "index name")? };
        let (cell, id) = space_of(s as u64)?;
        let uid = enter(&cell, |eng| {
            let sp = eng.space(id)?;
            let pos = sp.index_pos(iname).ok_or_else(|| {
                Error::NoSuchIndex(format!("no index named '{iname}' in space '{}'", sp.name))
            })?;
            Ok(sp.indexes[pos].uid)
        })?;
        let h = cell.handle_of(uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_index, "out") }
    }
}

export! {
    Hot fn jb_space_index_at(s: *mut jb_space, pos: u32, out: *mut *mut jb_index) {
        need(out, "out")?;
        let (cell, id) = space_of(s as u64)?;
        let uid = enter(&cell, |eng| {
            let sp = eng.space(id)?;
            sp.indexes.get(pos as usize).map(|i| i.uid).ok_or_else(|| {
                Error::NoSuchIndex(format!("space '{}' has {} index(es), no index at position {pos}", sp.name, sp.indexes.len()))
            })
        })?;
        let h = cell.handle_of(uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_index, "out") }
    }
}

export! {
    Hot fn jb_index_name(i: *mut jb_index, name: *mut *const c_char, len: *mut usize) {
        need(name, "name")?;
        need(len, "len")?;
        let (cell, sid, uid) = index_of(i as u64)?;
        let (p, n) = enter(&cell, |eng| {
            let (sp, pos) = find_index(eng, sid, uid)?;
            let s = &sp.indexes[pos].name;
            Ok((s.as_ptr() as *const c_char, s.len()))
        })?;
        // SAFETY: both checked non-null above; the name lives in the engine until the next DDL.
        unsafe {
            put(name, p, "name")?;
            put(len, n, "len")
        }
    }
}

export! {
    Safe fn jb_index_drop(i: *mut jb_index) {
        let (cell, sid, uid) = index_of(i as u64)?;
        let index = enter(&cell, |eng| {
            let (sp, pos) = find_index(eng, sid, uid)?;
            let name = sp.indexes[pos].name.clone();
            // Through the engine, which logs the drop: replay must not bring the index back.
            eng.drop_index(sid, &name)
        })?;
        cell.forget(index.uid, Gone::Dropped);
        Ok(())
    }
}

/// Where a write copies its result: the caller's buffer (may be NULL), its size, the length.
pub(crate) struct ResultBuf {
    pub buf: *mut u8,
    pub cap: usize,
    pub len: *mut usize,
}

/// Runs a write and copies its result tuple out.
pub(crate) unsafe fn write(
    s: *mut jb_space,
    tx: *mut jb_txn,
    fields: *const jb_field,
    count: u32,
    out: ResultBuf,
    what: &str,
    op: impl FnOnce(&mut Space, Option<TxnId>, &[Value], &Rc<Quota>) -> Result<Option<TupleRef>>,
) -> Result<()> {
    let ResultBuf { buf, cap, len } = out;
    if !buf.is_null() {
        need(len, "len")?;
    }
    let (cell, id) = space_of(s as u64)?;
    let txn = txn_in(tx, &cell)?;
    enter(&cell, |eng| {
        eng.check_writable()?;
        let quota = eng.quota().clone();
        // SAFETY: header contract on fields.
        let r = unsafe {
            with_values(fields, count, what, |vals| {
                eng.check_space_ready(&eng.space(id)?.name)?;
                eng.statement(txn, |eng, txn| op(eng.space_mut(id)?, txn, vals, &quota))
            })
        };
        eng.note_result(&r);
        eng.after_write();
        // SAFETY: header contract on buf/cap/len.
        unsafe {
            match r? {
                Some(t) => {
                    copy_out(t.data(), buf, cap, len);
                }
                None if !len.is_null() => len.write(0),
                None => {}
            }
        }
        Ok(())
    })
}

export! {
    Hot fn jb_space_insert(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract.
        unsafe { write(s, tx, fields, count, out, "tuple", |sp, t, v, q| Ok(Some(TupleRef::new(sp.insert_in(t, v)?, q)))) }
    }
}

export! {
    Hot fn jb_space_replace(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract. The replaced version is not wanted back, so it
        // may be overwritten in place.
        unsafe { write(s, tx, fields, count, out, "tuple", |sp, t, v, q| Ok(Some(TupleRef::new(sp.write(t, v, Mode::Overwrite, None, None)?.0, q)))) }
    }
}

export! {
    Hot fn jb_space_delete(s: *mut jb_space, tx: *mut jb_txn, key: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract.
        unsafe { write(s, tx, key, count, out, "key", |sp, t, v, _| sp.delete_in(t, v)) }
    }
}

/// Runs a write through unique index `i` (an update, upsert or delete) and copies its result
/// out; with `preview`, writes nothing and copies the tuple the write would make.
unsafe fn index_write(
    i: *mut jb_index,
    tx: *mut jb_txn,
    out: ResultBuf,
    preview: bool,
    op: impl FnOnce(
        &mut Space,
        usize,
        Option<TxnId>,
        Apply,
        &mut dyn FnMut(Error),
    ) -> Result<Option<TupleRef>>,
) -> Result<()> {
    let ResultBuf { buf, cap, len } = out;
    if !buf.is_null() || preview {
        need(len, "len")?;
    }
    let (cell, sid, uid) = index_of(i as u64)?;
    let txn = txn_in(tx, &cell)?;
    enter(&cell, |eng| {
        eng.check_writable()?;
        let pos = find_index(eng, sid, uid)?.1;
        eng.check_space_ready(&eng.space(sid)?.name)?;
        let mut skipped = Vec::new();
        let mut note = |e: Error| {
            if skipped.try_reserve(1).is_ok() {
                skipped.push(e.to_string());
            }
        };
        let mut data = Vec::new();
        let r = if preview {
            op(
                eng.space_mut(sid)?,
                pos,
                txn,
                Apply::Preview(&mut data),
                &mut note,
            )
        } else {
            eng.statement(txn, |eng, txn| {
                op(eng.space_mut(sid)?, pos, txn, Apply::Write, &mut note)
            })
        };
        eng.note_result(&r);
        if !preview {
            eng.after_write();
        }
        for why in &skipped {
            let sname = eng.space(sid).map(|s| s.name.clone()).unwrap_or_default();
            eng.log(
                1,
                &format!("upsert into space '{sname}' skipped an operation: {why}"),
            );
        }
        let r = r?;
        // SAFETY: header contract on buf/cap/len.
        unsafe {
            if preview {
                copy_out(&data, buf, cap, len);
            } else if let Some(t) = r {
                copy_out(t.data(), buf, cap, len);
            } else if !len.is_null() {
                len.write(0);
            }
        }
        Ok(())
    })
}

/// The flags of an update or upsert: whether it previews.
fn preview_flag(flags: u32) -> Result<bool> {
    if flags & !JB_WRITE_PREVIEW != 0 {
        return Err(Error::IllegalParams(format!(
            "flags {flags:#x}: unknown bits; use 0 or JB_WRITE_PREVIEW"
        )));
    }
    Ok(flags & JB_WRITE_PREVIEW != 0)
}

export! {
    Hot fn jb_index_update(i: *mut jb_index, tx: *mut jb_txn, key: *const jb_field, key_count: u32,
                           ops: *const jb_update_op, op_count: u32, flags: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let preview = preview_flag(flags)?;
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract on key, ops and the result buffer.
        unsafe {
            index_write(i, tx, out, preview, |sp, pos, txn, apply, _| {
                let mut parsed = Ops::new();
                update_ops(ops, op_count, &sp.format, &mut parsed)?;
                with_values(key, key_count, "key", |k| sp.update_in(txn, pos, k, &parsed, apply))
            })
        }
    }
}

export! {
    Hot fn jb_space_upsert(s: *mut jb_space, tx: *mut jb_txn, fields: *const jb_field, count: u32,
                           ops: *const jb_update_op, op_count: u32, flags: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let preview = preview_flag(flags)?;
        let (cell, sid) = space_of(s as u64)?;
        let pk = enter(&cell, |eng| {
            let sp = eng.space(sid)?;
            sp.indexes.first().map(|i| i.uid).ok_or_else(|| Error::NoSuchIndex(format!(
                "space '{}' has no primary index; create one with create_index first", sp.name)))
        })?;
        let pk = cell.handle_of(pk)?;
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract on fields, ops and the result buffer.
        unsafe {
            index_write(pk as *mut jb_index, tx, out, preview, |sp, _, txn, apply, skipped| {
                let mut parsed = Ops::new();
                update_ops(ops, op_count, &sp.format, &mut parsed)?;
                // An upsert returns nothing: its tuple goes out only as a preview.
                with_values(fields, count, "tuple", |t| sp.upsert_in(txn, t, &parsed, apply, skipped).map(|_| None))
            })
        }
    }
}

export! {
    Hot fn jb_index_delete(i: *mut jb_index, tx: *mut jb_txn, key: *const jb_field, count: u32, buf: *mut u8, cap: usize, len: *mut usize) {
        let out = ResultBuf { buf, cap, len };
        // SAFETY: forwarded header contract.
        unsafe {
            index_write(i, tx, out, false, |sp, pos, txn, _, _| {
                with_values(key, count, "key", |k| sp.delete_by(txn, pos, k))
            })
        }
    }
}
