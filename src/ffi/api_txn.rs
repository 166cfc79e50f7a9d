//! Exported: transactions (begin, commit, rollback) and how data functions find theirs.

use super::abi::*;
use super::api_space::index_of;
use super::boundary::{cell_of, enter, export};
use super::convert::{need, put};
use super::handles::{self, EngineCell, Gone, Obj};
use crate::engine::SpaceId;
use crate::engine::mvcc::TxnId;
use crate::error::{Error, Result};
use crate::guard::Entry;
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
        let id = enter(&cell, Entry::Hot, |eng| eng.begin())?;
        let h = match handles::insert(Obj::Txn(cell.clone(), id)) {
            Ok(h) => h,
            Err(err) => {
                let _ = enter(&cell, Entry::Hot, |eng| eng.rollback(id));
                return Err(err);
            }
        };
        // SAFETY: checked non-null above.
        unsafe { put(out, h as *mut jb_txn, "out") }
    }
}

export! {
    Hot fn jb_txn_commit(tx: *mut jb_txn) {
        let (cell, id) = txn_of(tx)?;
        let r = enter(&cell, Entry::Hot, |eng| eng.commit(id));
        // The transaction is over unless memory ran out before anything was decided.
        if !matches!(r, Err(Error::Memory(_))) {
            let _ = handles::remove(tx as u64, Gone::Freed);
        }
        r
    }
}

export! {
    Hot fn jb_txn_rollback(tx: *mut jb_txn) {
        if tx.is_null() {
            return Ok(());
        }
        let (cell, id) = txn_of(tx)?;
        let r = enter(&cell, Entry::Hot, |eng| eng.rollback(id));
        handles::remove(tx as u64, Gone::Freed)?;
        match r {
            Err(Error::Closed(_)) => Ok(()), // closing the engine ended it already
            other => other,
        }
    }
}
