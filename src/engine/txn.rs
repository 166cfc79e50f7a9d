//! Transactions at the engine level: begin, commit (with the first-committer-wins check),
//! rollback, and the garbage collection of versions that writes and commits run in bounded
//! steps. The version bookkeeping itself is in `mvcc`; the write path in `space`.

use super::mvcc::{Mvcc, ReadView, Stamp, TxnId, Undo};
use super::{Engine, bump};
use crate::error::{Error, Result};
use std::cell::{Ref, RefMut};

/// Versions and stories looked at per garbage-collection step.
pub const GC_STEP: usize = 64;

impl Engine {
    pub fn mvcc(&self) -> Ref<'_, Mvcc> {
        self.mvcc.borrow()
    }

    fn mvcc_mut(&self) -> RefMut<'_, Mvcc> {
        self.mvcc.borrow_mut()
    }

    /// What `txn` (or an autocommit statement, for `None`) sees now.
    pub fn view(&self, txn: Option<TxnId>) -> Result<ReadView> {
        self.mvcc().view(txn)
    }

    /// Opens a transaction reading from the latest committed state.
    pub fn begin(&mut self) -> Result<TxnId> {
        self.check_writable()?;
        self.mvcc_mut().begin()
    }

    /// Commits `id`; when another transaction committed a change to a key `id` changed
    /// since `id` began, rolls `id` back and returns `Conflict`.
    pub fn commit(&mut self, id: TxnId) -> Result<()> {
        let entries = self.mvcc().txn(id)?.log.len();
        // Room to queue every change for garbage collection, before anything changes.
        self.mvcc_mut().reserve(0, None, 0, None, entries)?;
        if let Err(e) = self.check_conflicts(id) {
            self.rollback(id)?;
            return Err(e);
        }
        let mut mvcc = self.mvcc_mut();
        let seq = mvcc.next_seq();
        let log = mvcc.finish(id)?;
        mvcc.commit_changes(&log, id, seq);
        drop(mvcc);
        bump(&self.changes);
        self.collect(GC_STEP);
        Ok(())
    }

    /// First committer wins: a version `id` deleted that someone else's commit deleted, or
    /// a key `id` created that someone else's commit created in a unique index.
    fn check_conflicts(&self, id: TxnId) -> Result<()> {
        let mvcc = self.mvcc();
        let txn = mvcc.txn(id)?;
        for u in &txn.log {
            match *u {
                Undo::Deleted(sid, v) => {
                    if mvcc.story(v).is_some_and(|s| s.deleted.is_some()) {
                        let sp = self.space(sid)?;
                        return Err(sp.conflict(&sp.indexes[0], v));
                    }
                }
                Undo::Created(sid, n) => {
                    let sp = self.space(sid)?;
                    for idx in sp.indexes.iter().filter(|i| i.unique) {
                        let rival = idx.find_version(n, |v| {
                            v != n
                                && mvcc.story(v).is_some_and(|s| {
                                    matches!(s.created, Stamp::Committed(c) if c > txn.snapshot)
                                })
                        });
                        if rival.is_some() {
                            return Err(sp.conflict(idx, n));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Undoes every change of `id`, newest first. Never fails for an open transaction.
    pub fn rollback(&mut self, id: TxnId) -> Result<()> {
        let log = self.mvcc_mut().finish(id)?;
        for u in log.iter().rev() {
            match *u {
                Undo::Created(sid, t) => {
                    self.mvcc_mut().drop_story(t);
                    if let Ok(sp) = self.space_mut(sid) {
                        sp.remove_version(t);
                    }
                    t.decref(&self.quota);
                }
                Undo::Deleted(_, t) => self.mvcc_mut().undelete(t, id),
            }
        }
        bump(&self.changes);
        self.collect(GC_STEP);
        Ok(())
    }

    /// One bounded garbage-collection step: versions whose deletion every view sees leave
    /// the indexes and are freed; stories every view no longer needs are dropped. Returns
    /// how much it looked at.
    pub fn collect(&mut self, budget: usize) -> usize {
        let mut n = 0;
        while n < budget {
            let next = {
                let mut mvcc = self.mvcc_mut();
                let oldest = mvcc.oldest_view();
                match mvcc.dead.front() {
                    Some(&(sid, t, seq)) if seq <= oldest => {
                        mvcc.dead.pop_front();
                        mvcc.drop_story(t);
                        Some((sid, t))
                    }
                    _ => None,
                }
            };
            let Some((sid, t)) = next else { break };
            n += 1;
            if let Ok(sp) = self.space_mut(sid) {
                sp.remove_version(t);
            }
            t.decref(&self.quota);
        }
        n + self.mvcc_mut().trim(budget.saturating_sub(n))
    }

    /// After a write: a garbage-collection step when there is anything to collect (a check
    /// of two queue lengths otherwise).
    pub fn after_write(&mut self) {
        let pending = {
            let m = self.mvcc();
            !m.dead.is_empty() || !m.born.is_empty()
        };
        if pending {
            self.collect(GC_STEP);
        }
    }

    /// DDL changes whole indexes, which versions of open transactions cannot follow: it
    /// waits until none is open, and first collects every old version.
    pub fn ready_for_ddl(&mut self, what: &str) -> Result<()> {
        let open = self.mvcc().open_count();
        if open > 0 {
            return Err(Error::Busy(format!(
                "cannot {what} while {open} transaction(s) are open; commit or roll them back \
                 first"
            )));
        }
        while self.collect(usize::MAX) > 0 {}
        Ok(())
    }
}
