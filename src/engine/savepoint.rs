//! Savepoints: a transaction can undo what it did since a savepoint and go on. A savepoint is
//! the length of the transaction's undo log when it was taken; rolling back to it undoes the
//! entries after that, newest first, as a rollback undoes them all.
//!
//! A transaction that replaces or deletes a version it created itself normally drops that
//! version at once (`Space::supersede`), removing its log entry. A version created before the
//! latest savepoint must survive for a rollback to that savepoint, so it is ended as any other
//! version is (marked deleted by the transaction), and the commit's redo skips a version the
//! transaction created and deleted.

use super::mvcc::{Mvcc, TxnId, Undo};
use super::{Engine, SpaceId, bump};
use crate::engine::tuple::TuplePtr;
use crate::error::{Error, Result};

impl Mvcc {
    /// A new savepoint of `id`; returns its number.
    pub fn savepoint(&mut self, id: TxnId) -> Result<u64> {
        let at = self.txn(id)?.log.len();
        self.grow(
            |m| match m.txn_mut(id) {
                Ok(t) => t.savepoints.try_reserve(1).map_err(drop),
                Err(_) => Err(()),
            },
            size_of::<(u64, usize)>(),
            "a savepoint",
        )?;
        let t = self.txn_mut(id)?;
        let n = t.savepoints.last().map_or(1, |s| s.0 + 1);
        t.savepoints.push((n, at));
        Ok(n)
    }

    /// The log length savepoint `n` of `id` was taken at; the savepoints after it end.
    fn savepoint_mark(&mut self, id: TxnId, n: u64) -> Result<usize> {
        let t = self.txn_mut(id)?;
        let Some(pos) = t.savepoints.iter().position(|s| s.0 == n) else {
            return Err(Error::IllegalParams(format!(
                "savepoint {n} does not exist in this transaction (it was never taken, or a \
                 rollback to an earlier one ended it)"
            )));
        };
        t.savepoints.truncate(pos + 1);
        Ok(t.savepoints[pos].1)
    }

    /// The newest entry of `id`'s log past `mark`, taken off the log.
    fn pop_after(&mut self, id: TxnId, mark: usize) -> Option<Undo> {
        let t = self.txn_mut(id).ok()?;
        if t.log.len() > mark { t.log.pop() } else { None }
    }

    /// Whether `id` created `t` in `space` after its latest savepoint (so that it may drop it
    /// at once when it ends it).
    pub fn created_since_savepoint(&self, id: TxnId, space: SpaceId, t: TuplePtr) -> bool {
        let Ok(txn) = self.txn(id) else {
            return false;
        };
        let Some(&(_, floor)) = txn.savepoints.last() else {
            return true;
        };
        txn.log[floor..]
            .iter()
            .any(|u| matches!(*u, Undo::Created(s, x) if s == space && x == t))
    }
}

impl Engine {
    /// A savepoint of open transaction `id`.
    pub fn savepoint(&mut self, id: TxnId) -> Result<u64> {
        self.mvcc_mut().savepoint(id)
    }

    /// Undoes what `id` did after savepoint `n`, newest first; `n` stays, later ones end.
    pub fn rollback_to_savepoint(&mut self, id: TxnId, n: u64) -> Result<()> {
        let mark = self.mvcc_mut().savepoint_mark(id, n)?;
        loop {
            let next = self.mvcc_mut().pop_after(id, mark);
            let Some(u) = next else { break };
            self.undo_log(&[u], |m, t| m.undelete(t, id));
        }
        bump(&self.changes);
        Ok(())
    }
}
