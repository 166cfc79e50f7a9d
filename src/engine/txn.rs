//! Transactions at the engine level: begin, commit (with the first-committer-wins check),
//! rollback, and the garbage collection of versions that writes and commits run in bounded
//! steps. The version bookkeeping itself is in `mvcc`; the write path in `space`.

use super::func;
use super::mvcc::{Mvcc, ReadView, Stamp, TxnId, Undo};
use super::space::GivenKeys;
use super::tuple::TuplePtr;
use super::{Engine, SpaceId, bump};
use crate::error::{Error, Result};
use std::cell::{Ref, RefMut};

/// Versions and stories looked at per garbage-collection step of a write.
pub const GC_STEP: usize = 64;

impl Engine {
    pub fn mvcc(&self) -> Ref<'_, Mvcc> {
        self.mvcc.borrow()
    }

    pub(super) fn mvcc_mut(&self) -> RefMut<'_, Mvcc> {
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

    /// Opens a transaction named `id`, an id the caller chose (not 0, not one open): the C
    /// boundary names each transaction by its handle, so that a read in a transaction checks
    /// its handle with the same lookup that finds its snapshot. Ids `begin` picks count up
    /// from 1; handles are at least 2^48, so the two never meet.
    pub fn begin_as(&mut self, id: TxnId) -> Result<TxnId> {
        self.check_writable()?;
        self.mvcc_mut().begin_as(id)
    }

    /// Commits `id` and, with a WAL, waits until it is written; when another transaction
    /// committed a change to a key `id` changed since `id` began, rolls `id` back and returns
    /// `Conflict`. A transaction a cascading rollback ended gets `CascadeRollback`.
    pub fn commit(&mut self, id: TxnId) -> Result<()> {
        self.end_doomed(id)?;
        if !self.wal_enabled() {
            let r = self.commit_now(id);
            return self.ended_by_failed_commit(id, r);
        }
        let ticket = self.commit_async(id)?;
        self.wait_ticket(ticket)
    }

    /// A statement of `id` met a conflict: the transaction is rolled back now (nothing it
    /// wrote can commit) and doomed — every later statement, read and its commit get
    /// `Conflict` until its owner rolls it back. A transfer never commits half.
    pub(super) fn doom(&mut self, id: TxnId, why: &str) {
        if self.rollback(id).is_ok() {
            self.mvcc_mut().note_aborted(
                id,
                Error::Conflict(format!(
                    "the transaction was rolled back after a conflict ({why}); every statement \
                     in it and its commit fail until it is rolled back"
                )),
            );
        }
    }

    /// A commit that failed before anything was decided (no memory to prepare it) rolls the
    /// transaction back: a failed commit always ends its transaction, so later statements
    /// never join it unawares.
    pub(super) fn ended_by_failed_commit<T>(&mut self, id: TxnId, r: Result<T>) -> Result<T> {
        if matches!(r, Err(Error::Memory(_))) {
            let _ = self.rollback(id);
        }
        r
    }

    /// A commit of a doomed transaction ends it, with the error that doomed it.
    pub(super) fn end_doomed(&mut self, id: TxnId) -> Result<()> {
        let open = self.mvcc().txn(id).map(drop);
        match open {
            Err(e) if self.mvcc_mut().forget_aborted(id) => Err(e),
            _ => Ok(()),
        }
    }

    /// Commits `id` in memory, at once (no WAL).
    pub(super) fn commit_now(&mut self, id: TxnId) -> Result<()> {
        let quota = self.quota.clone();
        let _reserve = self.mvcc().only_deletes(id).then(|| quota.deleting());
        let entries = self.mvcc().txn(id)?.log.len();
        // Room to queue every change for garbage collection, before anything changes.
        self.mvcc_mut().reserve(0, None, 0, None, entries)?;
        let (seq, log) = self.prepare_commit(id)?;
        self.mvcc_mut().confirm_changes(&log, seq);
        self.mvcc_mut().recycle(log);
        bump(&self.changes);
        self.collect_released();
        Ok(())
    }

    /// The conflict check (the loser is rolled back), then `id`'s changes visible as
    /// committed at a new sequence number; what they replaced stays out of the collector's
    /// reach until `confirm_changes` (at once without a WAL, once written with one).
    pub(super) fn prepare_commit(&mut self, id: TxnId) -> Result<(u64, Vec<Undo>)> {
        if let Err(e) = self.check_conflicts(id) {
            self.rollback(id)?;
            return Err(e);
        }
        let mut mvcc = self.mvcc_mut();
        let seq = mvcc.next_seq();
        let log = mvcc.finish(id)?;
        mvcc.prepare_changes(&log, id, seq);
        mvcc.promise(log.len());
        Ok((seq, log))
    }

    /// First committer wins: a version `id` deleted that someone else's commit deleted, or
    /// a key `id` created that someone else's commit created in a unique index.
    fn check_conflicts(&self, id: TxnId) -> Result<()> {
        let mvcc = self.mvcc();
        let txn = mvcc.txn(id)?;
        // Rivals are versions committed after the snapshot: with no commit since, there are
        // none, and the index searches below are skipped (sequence numbers only grow).
        let rivals_possible = mvcc.commit_seq() > txn.snapshot;
        for u in &txn.log {
            match *u {
                Undo::Row(..) | Undo::Created(..) if !rivals_possible => {}
                Undo::Deleted(sid, v) => {
                    if mvcc.story(v).is_some_and(|s| s.deleted.is_some()) {
                        let sp = self.space(sid)?;
                        return Err(sp.conflict(&sp.indexes[0], v));
                    }
                }
                Undo::Row(sid, pos, row) => {
                    let sp = self.space(sid)?;
                    let idx = &sp.indexes[pos as usize];
                    let n = func::row_tuple(row);
                    let rival = idx.unique
                        && idx
                            .find_version(row, |v| {
                                v != n
                                    && mvcc.story(v).is_some_and(|s| {
                                        matches!(s.created, Stamp::Committed(c) if c > txn.snapshot)
                                    })
                            })
                            .is_some();
                    if rival {
                        return Err(sp.conflict(idx, row));
                    }
                }
                Undo::Created(sid, n) => {
                    let sp = self.space(sid)?;
                    for idx in sp.indexes.iter().filter(|i| i.unique && !i.is_functional()) {
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
        if self.mvcc_mut().forget_aborted(id) {
            return Ok(()); // a cascade rolled it back already
        }
        let log = self.mvcc_mut().finish(id)?;
        self.undo_log(&log, |m, t| m.undelete(t, id));
        self.mvcc_mut().recycle(log);
        bump(&self.changes);
        self.collect_released();
        Ok(())
    }

    /// Undoes a log's changes newest first; `undelete` ends one of its deletions.
    pub(super) fn undo_log(&mut self, log: &[Undo], undelete: impl Fn(&mut Mvcc, TuplePtr)) {
        for &u in log.iter().rev() {
            match u {
                Undo::Created(sid, t) | Undo::Row(sid, _, t) => {
                    if matches!(u, Undo::Created(..)) {
                        self.mvcc_mut().drop_story(t);
                    }
                    match self.space_mut(sid) {
                        Ok(sp) => sp.undo(u),
                        Err(_) => t.decref(&self.quota),
                    }
                }
                Undo::Deleted(_, t) => undelete(&mut self.mvcc_mut(), t),
            }
        }
    }

    /// After a commit or the end of a transaction: everything no reader needs any more
    /// goes now — what the commit replaced, what the ended transaction's snapshot kept —
    /// instead of waiting for later writes (read-only traffic may never write). The work is
    /// the versions released, each collected once; when nothing is collectable it is two
    /// queue checks.
    pub(super) fn collect_released(&mut self) {
        self.collect(usize::MAX, false);
    }

    /// One bounded garbage-collection step: versions whose deletion every view sees leave
    /// the indexes and are freed; stories every view no longer needs are dropped. A version
    /// with rows in an index whose Lua key function may not run now (`lua_ok` false: a HOT
    /// entry) is buried instead, for `run_deferred`; when that cannot be reserved, the step
    /// ends there (memory stays retained, nothing breaks). Returns how much it looked at.
    pub fn collect(&mut self, budget: usize, lua_ok: bool) -> usize {
        let mut n = 0;
        while n < budget {
            let Some((sid, t)) = self.next_dead(lua_ok) else {
                break;
            };
            n += 1;
            let Ok(sp) = self.space_mut(sid) else {
                t.decref(&self.quota);
                continue;
            };
            sp.remove_plain(t);
            if sp.forget_rows(t, lua_ok, !lua_ok) {
                self.mvcc_mut().bury(t, sid);
            } else {
                t.decref(&self.quota);
            }
        }
        self.refresh_pending();
        let n = n + self.mvcc_mut().trim(budget.saturating_sub(n));
        self.mvcc_mut().shrink_empty();
        self.compact_indexes();
        n
    }

    /// When removals emptied enough index blocks, every index gives back those it does not
    /// need (`Index::compact`): deleting rows returns their index memory to the quota. Runs
    /// between operations only (no reservation outstanding); a check of one counter otherwise.
    pub fn compact_indexes(&mut self) {
        if !self.quota.take_compact_wanted() {
            return;
        }
        for sp in self.spaces_mut() {
            for idx in sp.indexes.iter_mut() {
                idx.compact();
            }
        }
    }

    /// The oldest version whose deletion every view sees, out of the queue with its story
    /// gone (and, when it will have to be buried, room reserved for that).
    fn next_dead(&mut self, lua_ok: bool) -> Option<(SpaceId, TuplePtr)> {
        let (sid, t, seq) = *self.mvcc().dead.front()?;
        if seq > self.mvcc().oldest_view() {
            return None;
        }
        let bury = !lua_ok && self.space(sid).is_ok_and(|s| s.lua_key_functions() > 0);
        let mut mvcc = self.mvcc_mut();
        if bury && mvcc.reserve_bury().is_err() {
            return None;
        }
        mvcc.dead.pop_front();
        mvcc.drop_story(t);
        Some((sid, t))
    }

    /// Removes the rows of up to `max` buried versions with their key functions (only where
    /// Lua may run: a SAFE entry), releasing the versions. Returns how many it finished.
    pub fn unbury(&mut self, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some((sid, t)) = self.mvcc_mut().unbury() else {
                break;
            };
            n += 1;
            if let Ok(sp) = self.space_mut(sid) {
                sp.forget_rows(t, true, false);
                self.stats.callbacks_run += 1;
            }
            t.decref(&self.quota);
        }
        self.refresh_pending();
        n
    }

    /// The oldest buried version and its space (see `forget_buried`).
    pub fn buried_front(&self) -> Option<(SpaceId, TuplePtr)> {
        self.mvcc().buried.front().copied()
    }

    /// Removes the rows of the oldest buried version — `data`, as `buried_front` gave it —
    /// with keys its host computed (`None`: its key function failed), and releases it. This
    /// drains the queue without any callback (pull-style), so HOT entries may do it. On an
    /// error nothing changed.
    pub fn forget_buried(&mut self, data: *const u8, keys: Option<&GivenKeys>) -> Result<()> {
        let Some((sid, t)) = self.buried_front() else {
            return Err(Error::IllegalParams(
                "no old version waits for its key function; nothing to forget".into(),
            ));
        };
        if t.data().as_ptr() != data {
            return Err(Error::IllegalParams(
                "that is not the oldest buried version (the queue moved on); ask \
                 jb_engine_buried_next again"
                    .into(),
            ));
        }
        let space = self.space(sid).ok();
        if let (Some(sp), Some(k)) = (space, keys) {
            sp.check_keys_shape(k)?;
        }
        self.mvcc_mut().unbury();
        if let Ok(sp) = self.space_mut(sid) {
            sp.forget_rows_keyed(t, keys);
        }
        self.stats.callbacks_run += 1;
        t.decref(&self.quota);
        self.refresh_pending();
        Ok(())
    }

    /// After a write: a garbage-collection step when there is anything to collect (a check
    /// of two queue lengths otherwise).
    pub fn after_write(&mut self) {
        self.poll_snapshot();
        let pending = {
            let m = self.mvcc();
            !m.dead.is_empty() || !m.born.is_empty()
        };
        if pending {
            self.collect(GC_STEP, false);
        } else {
            self.refresh_pending();
            self.compact_indexes();
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
        self.flush_wal();
        while self.collect(usize::MAX, true) > 0 {}
        self.unbury(usize::MAX);
        Ok(())
    }
}
