//! Exported: transactions (begin, commit, rollback) and how data functions find theirs.

use super::abi::*;
use super::api_space::index_of;
use super::boundary::{cell_of, enter, export};
use super::convert::{need, put};
use super::handles::{self, EngineCell, Gone, Obj};
use crate::engine::SpaceId;
use crate::engine::mvcc::TxnId;
use crate::error::{Error, Result};
use std::rc::Rc;

/// The transaction a data function runs in: None for a NULL `tx` (autocommit). A
/// transaction of another engine is refused.
pub(crate) fn txn_in(tx: *mut jb_txn, cell: &Rc<EngineCell>) -> Result<Option<TxnId>> {
    if tx.is_null() {
        return Ok(None);
    }
    let (owner, id) = txn_of(tx)?;
    if !Rc::ptr_eq(&owner, cell) {
        return Err(Error::BadHandle(
            "the transaction belongs to another engine; use one of this engine's".into(),
        ));
    }
    Ok(Some(id))
}

/// The transaction a read names, taken from its handle without looking the handle up: a
/// transaction is named by its handle (`jb_txn_begin`), so the engine's lookup of its
/// snapshot checks the handle too — a NULL, stale, forged, foreign or other engine's handle
/// names no transaction open in the engine, and the read fails. `why_not` then says which.
/// A read in a transaction so costs one lookup more than an autocommit read, not two.
pub(crate) fn txn_named(tx: *mut jb_txn) -> Option<TxnId> {
    (!tx.is_null()).then_some(tx as u64)
}

/// The error of a read through `i` in `tx` (named by `txn_named`) that failed with `err`:
/// what is wrong with the handles if anything, else `err`.
#[cold]
pub(crate) fn why_not(i: u64, tx: *mut jb_txn, err: Error) -> Error {
    index_in_txn(i, tx).err().unwrap_or(err)
}

/// An index handle and the transaction a read through it runs in (None for a NULL `tx`),
/// looked up together; a transaction of another engine is refused.
pub(crate) fn index_in_txn(
    i: u64,
    tx: *mut jb_txn,
) -> Result<(Rc<EngineCell>, SpaceId, u64, Option<TxnId>)> {
    if tx.is_null() {
        let (cell, sid, uid) = index_of(i)?;
        return Ok((cell, sid, uid, None));
    }
    handles::with_pair(i, tx as u64, |index, txn| match (index, txn) {
        (Obj::Index(c, sid, uid), Obj::Txn(owner, id)) if Rc::ptr_eq(c, owner) => {
            Ok((c.clone(), *sid, *uid, Some(*id)))
        }
        (Obj::Index(..), Obj::Txn(..)) => Err(Error::BadHandle(
            "the transaction belongs to another engine; use one of this engine's".into(),
        )),
        (Obj::Index(..), other) => Err(handles::wrong_kind(other, "a transaction")),
        (other, _) => Err(handles::wrong_kind(other, "an index")),
    })
}

pub(crate) fn txn_of(tx: *mut jb_txn) -> Result<(Rc<EngineCell>, TxnId)> {
    handles::with(tx as u64, |o| match o {
        Obj::Txn(c, id) => Ok((c.clone(), *id)),
        other => Err(handles::wrong_kind(other, "a transaction")),
    })
}

export! {
    Hot fn jb_txn_begin(e: *mut jb_engine, out: *mut *mut jb_txn) {
        need(out, "out")?;
        let cell = cell_of(e as u64)?;
        // The transaction is named by its handle (see `txn_named`): the handle comes first.
        let h = handles::insert_with(|h| Obj::Txn(cell.clone(), h))?;
        if let Err(err) = enter(&cell, |eng| eng.begin_as(h)) {
            let _ = handles::remove(h, Gone::Freed);
            return Err(err);
        }
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_txn, "out") }
    }
}

export! {
    Hot fn jb_txn_commit(tx: *mut jb_txn) {
        let (cell, id) = txn_of(tx)?;
        let r = enter(&cell, |eng| eng.commit(id));
        // The transaction is over, whatever the outcome.
        let _ = handles::remove(tx as u64, Gone::Freed);
        r
    }
}

export! {
    Hot fn jb_txn_rollback(tx: *mut jb_txn) {
        if tx.is_null() {
            return Ok(());
        }
        let (cell, id) = txn_of(tx)?;
        let r = enter(&cell, |eng| eng.rollback(id));
        handles::remove(tx as u64, Gone::Freed)?;
        match r {
            Err(Error::Closed(_)) => Ok(()), // closing the engine ended it already
            other => other,
        }
    }
}

export! {
    Hot fn jb_txn_savepoint(tx: *mut jb_txn, out: *mut u64) {
        need(out, "out")?;
        let (cell, id) = txn_of(tx)?;
        let n = enter(&cell, |eng| eng.savepoint(id))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n, "out") }
    }
}

export! {
    Hot fn jb_txn_statement_count(tx: *mut jb_txn, out: *mut u64) {
        need(out, "out")?;
        let (cell, id) = txn_of(tx)?;
        let n = enter(&cell, |eng| Ok(eng.mvcc().txn(id)?.statements))?;
        // SAFETY: checked non-null above.
        unsafe { put(out, n, "out") }
    }
}

export! {
    Hot fn jb_txn_rollback_to_savepoint(tx: *mut jb_txn, n: u64) {
        let (cell, id) = txn_of(tx)?;
        enter(&cell, |eng| eng.rollback_to_savepoint(id, n))
    }
}
