//! Exported: reading the schema (spaces by position, facts about spaces and indexes, formats
//! and key parts) and changing it in place (truncate, rename).

use super::abi::*;
use super::api_space::{find_index, index_of, space_of};
use super::boundary::{cell_of, enter, export};
use super::convert::{name, need, put};
use super::status::field_type_code;
use crate::engine::index::IndexKind;
use crate::error::Error;
use std::ffi::c_char;

export! {
    Hot fn jb_engine_space_at(e: *mut jb_engine, pos: u32, out: *mut *mut jb_space) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        let uid = enter(&cell, |eng| {
            let id = eng.space_at(pos as usize).ok_or_else(|| {
                Error::NoSuchSpace(format!("the engine has no space at position {pos}"))
            })?;
            Ok(id.uid)
        })?;
        let h = cell.handle_of(uid)?;
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_space, "out") }
    }
}

export! {
    Hot fn jb_space_describe(s: *mut jb_space, out: *mut jb_space_info) {
        need(out, "out")?;
        let (cell, id) = space_of(s as u64)?;
        let info = enter(&cell, |eng| {
            let sp = eng.space(id)?;
            Ok(jb_space_info {
                id: sp.uid,
                name: sp.name.as_ptr() as *const c_char,
                name_len: sp.name.len(),
                field_count: sp.format.len() as u32,
                index_count: sp.indexes.len() as u32,
                len: sp.len() as u64,
                bsize: sp.bsize() as u64,
            })
        })?;
        // SAFETY: checked non-null above; the name lives in the engine until the next DDL.
        unsafe { put(out, info, "out") }
    }
}

export! {
    Hot fn jb_space_format_field(s: *mut jb_space, i: u32, out: *mut jb_format_field) {
        need(out, "out")?;
        let (cell, id) = space_of(s as u64)?;
        let f = enter(&cell, |eng| {
            let sp = eng.space(id)?;
            let f = sp.format.get(i as usize).ok_or_else(|| {
                Error::NoSuchField(format!("space '{}' has {} format field(s), none at position {i}", sp.name, sp.format.len()))
            })?;
            Ok(jb_format_field {
                name: f.name.as_ptr() as *const c_char,
                name_len: f.name.len() as u32,
                type_: field_type_code(f.ty),
                is_nullable: f.nullable as u32,
                reserved: 0,
            })
        })?;
        // SAFETY: checked non-null above; the name lives in the engine until the next DDL.
        unsafe { put(out, f, "out") }
    }
}

export! {
    Hot fn jb_index_describe(i: *mut jb_index, out: *mut jb_index_info) {
        need(out, "out")?;
        let (cell, sid, uid) = index_of(i as u64)?;
        let info = enter(&cell, |eng| {
            let (sp, pos) = find_index(eng, sid, uid)?;
            let idx = &sp.indexes[pos];
            Ok(jb_index_info {
                name: idx.name.as_ptr() as *const c_char,
                name_len: idx.name.len(),
                id: pos as u32,
                part_count: idx.def.parts.len() as u32,
                unique: idx.unique as u8,
                functional: idx.func.as_ref().is_some_and(|f| f.takes_keys()) as u8,
                multikey: idx.func.as_ref().is_some_and(|f| f.multikey) as u8,
                type_: match idx.kind {
                    IndexKind::Tree => JB_INDEX_TREE as u8,
                    IndexKind::Hash => JB_INDEX_HASH as u8,
                },
                len: idx.len() as u64,
                bsize: idx.bsize() as u64,
            })
        })?;
        // SAFETY: checked non-null above; the name lives in the engine until the next DDL.
        unsafe { put(out, info, "out") }
    }
}

export! {
    Hot fn jb_index_part(i: *mut jb_index, k: u32, out: *mut jb_key_part) {
        need(out, "out")?;
        let (cell, sid, uid) = index_of(i as u64)?;
        let part = enter(&cell, |eng| {
            let (sp, pos) = find_index(eng, sid, uid)?;
            let idx = &sp.indexes[pos];
            let k_at = k as usize;
            let p = idx.def.parts.get(k_at).ok_or_else(|| {
                Error::NoSuchField(format!("index '{}' of space '{}' has {} part(s), none at position {k}",
                    idx.name, sp.name, idx.def.parts.len()))
            })?;
            let pp = idx.func.as_ref().and_then(|f| f.path_keys()).map(|k| &k.parts[k_at]);
            let text = pp.and_then(|x| x.path.as_ref()).map_or("", |x| x.text.as_str());
            Ok(jb_key_part {
                fieldno: pp.map_or(p.fieldno, |x| x.fieldno),
                type_: field_type_code(p.ty),
                is_nullable: p.nullable as u32,
                collation: p.collation.code() as u32,
                path: if text.is_empty() { std::ptr::null() } else { text.as_ptr() as *const c_char },
                path_len: text.len() as u32,
                exclude_null: pp.is_some_and(|x| x.exclude_null) as u32,
            })
        })?;
        // SAFETY: checked non-null above; the path lives in the engine until the next DDL.
        unsafe { put(out, part, "out") }
    }
}

export! {
    Safe fn jb_space_truncate(s: *mut jb_space) {
        let (cell, id) = space_of(s as u64)?;
        enter(&cell, |eng| eng.truncate_space(id))
    }
}

export! {
    Safe fn jb_space_rename(s: *mut jb_space, name_ptr: *const c_char, name_len: usize) {
        // SAFETY: header contract: name is name_len readable bytes.
        let to = unsafe { name(name_ptr, name_len, "space name")? };
        let (cell, id) = space_of(s as u64)?;
        enter(&cell, |eng| eng.rename_space(id, to))
    }
}

export! {
    Safe fn jb_index_rename(i: *mut jb_index, name_ptr: *const c_char, name_len: usize) {
        // SAFETY: header contract: name is name_len readable bytes.
        let to = unsafe { name(name_ptr, name_len, "index name")? };
        let (cell, sid, uid) = index_of(i as u64)?;
        enter(&cell, |eng| {
            let pos = find_index(eng, sid, uid)?.1;
            eng.rename_index(sid, pos, to)
        })
    }
}
