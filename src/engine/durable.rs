//! Commits that wait for the WAL: prepared transactions in one global order, tickets, and
//! the cascading rollback after a failed write.
//!
//! A commit *prepares* a transaction: its conflict check passes, it takes a sequence number,
//! its changes become visible to later transactions (as committed data), and its record (one
//! LSN) joins the queue. Its garbage — the versions it replaced — is not collectable yet: if
//! the write fails, the transaction is undone, which needs them. Records go to the writer in
//! LSN order while the bytes in flight stay under `wal_queue_max_size`; the rest wait in order
//! (ticket state `queued`). Records also wait here while the writer is busy, and until
//! `GROUP_BYTES` gather or someone waits for the WAL: then they go over together, as one
//! batch — what makes groups large without a timer. Outcomes come back through the writer's queue and are applied here,
//! on the engine's thread, when the engine is next entered.
//!
//! A failed write rolls back, strictly newest first: open transactions that could have read
//! prepared data, then every transaction prepared after the failed group (`CASCADE_ROLLBACK`),
//! then the failed group (`WAL_IO`). The data ends as if none of them had happened, and the
//! writer — told by a new epoch — accepts writes again.

pub use crate::wal::writer::WriterState;
use std::path::PathBuf;
use super::mvcc::{TxnId, Undo};
use super::{Engine, bump};
use crate::error::{Error, Result};
use crate::mem::errinj;
use crate::wal::ops::{self, Op};
use crate::wal::record;
use crate::wal::writer::{Batch, Done, Outcome, Writer};
use std::collections::VecDeque;
use std::time::Duration;

/// A commit's number: 1, 2, 3 … in prepare order (0: a commit made durable at once, without
/// a WAL). Nothing is kept per number: its state follows from where it stands (see
/// `ticket_state`), so a number costs nothing to hand out and needs no freeing.
pub type TicketId = u64;

/// Where a commit is. `Queued` and `Waiting` are prepared: visible, not yet durable.
#[derive(Clone, Debug)]
pub enum TicketState {
    /// Waiting for room in the WAL queue.
    Queued,
    /// Handed to the writer.
    Waiting,
    Committed,
    RolledBack(Error),
}

impl TicketState {
    pub fn name(&self) -> &'static str {
        match self {
            TicketState::Queued => "queued",
            TicketState::Waiting => "waiting",
            TicketState::Committed => "committed",
            TicketState::RolledBack(_) => "rolled_back",
        }
    }
}

/// A prepared transaction (or DDL statement, with an empty log).
struct Prepared {
    ticket: TicketId,
    seq: u64,
    lsn: u64,
    log: Vec<Undo>,
    /// Length of its framed record.
    len: usize,
}

/// A commit hands the writer what waits once this much has gathered; anything that waits
/// for the WAL (a ticket's state or wait, a synchronous commit, `poll`) hands it over at once.
/// Fewer, larger groups: one wake-up of the writer per group, not per commit.
const GROUP_BYTES: usize = 64 << 10;

/// Bytes charged per prepared transaction besides its record.
const PREPARED_BYTES: usize = 96;

pub struct Wal {
    pub writer: Writer,
    queue_max: usize,
    in_flight: usize,
    pub next_lsn: u64,
    epoch: u64,
    /// Oldest first; the first `submitted` were handed to the writer.
    prepared: VecDeque<Prepared>,
    submitted: usize,
    /// Set when the writer refused records (it stopped): from this LSN on they fail.
    writer_gone: Option<u64>,
    /// The framed records of the prepared transactions not handed over yet, in order.
    outbox: Vec<u8>,
    /// Records go to the writer as they are queued (a host waits on the settled fd).
    eager: bool,
    /// The commits a failed write rolled back: two spans per failure (the failed group, then
    /// what cascaded), oldest failure first. Always has room for two more (reserved when a
    /// record is queued), so a rollback never allocates.
    rolled_back: Vec<RolledBack>,
    next_ticket: TicketId,
    pub stats: WalStats,
    /// Set by `shut_down_wal`: an injected `WAL_DELAY` no longer holds the writer back.
    closing: bool,
}

/// Commits `first..=last` that one failed write rolled back with `error` — except those an
/// earlier failure had already rolled back (a span covers them too: see `rolled_back_with`).
struct RolledBack {
    first: TicketId,
    last: TicketId,
    error: Error,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WalStats {
    pub committed: u64,
    pub rolled_back: u64,
    pub failed_writes: u64,
}

impl Wal {
    pub fn new(writer: Writer, queue_max: usize, next_lsn: u64) -> Wal {
        Wal {
            writer,
            queue_max,
            in_flight: 0,
            next_lsn,
            epoch: 1,
            prepared: VecDeque::new(),
            submitted: 0,
            writer_gone: None,
            outbox: Vec::new(),
            eager: false,
            rolled_back: Vec::new(),
            next_ticket: 1,
            stats: WalStats::default(),
            closing: false,
        }
    }

    pub fn prepared_count(&self) -> usize {
        self.prepared.len()
    }

    /// The error a commit that is no longer prepared was rolled back with, if it was: that of
    /// the oldest failure whose span holds it. (A span also covers the commits an earlier
    /// failure rolled back between its ends; the oldest span answers for those. No committed
    /// commit falls in a span: a span starts at a commit still prepared, newer than every one
    /// confirmed before it.)
    fn rolled_back_with(&self, t: TicketId) -> Option<&Error> {
        self.rolled_back
            .iter()
            .find(|r| r.first <= t && t <= r.last)
            .map(|r| &r.error)
    }

    /// Where commit `t` stands: prepared (queued or handed over), rolled back, or committed.
    fn state_of(&self, t: TicketId) -> Result<TicketState> {
        if t == 0 || t >= self.next_ticket {
            return Err(Error::BadHandle(format!(
                "commit {t} is not known to this engine (commits are numbered from 1 up to {})",
                self.next_ticket - 1
            )));
        }
        // Waiting on a commit long done is the common case: older than every prepared one,
        // so the search is skipped.
        let may_be_prepared = self.prepared.front().is_some_and(|p| p.ticket <= t);
        let prepared_at = match may_be_prepared {
            true => self.prepared.binary_search_by_key(&t, |p| p.ticket).ok(),
            false => None,
        };
        if let Some(i) = prepared_at {
            return Ok(if i < self.submitted {
                TicketState::Waiting
            } else {
                TicketState::Queued
            });
        }
        Ok(match self.rolled_back_with(t) {
            Some(e) => TicketState::RolledBack(e.clone()),
            None => TicketState::Committed,
        })
    }

    /// Hands queued records to the writer as one batch, in order, while the queue has room
    /// (one record always goes when nothing is in flight, however large). While the writer
    /// is busy with what is in flight, they wait: it takes them all at once when done.
    fn pump(&mut self) {
        self.hand_over(false)
    }

    /// As `pump`; with `here`, when nothing is in flight the batch is written on this thread
    /// if the writer is idle (`Writer::write_here`) — for a caller that would only wait.
    fn hand_over(&mut self, here: bool) {
        if self.submitted == self.prepared.len() || (self.in_flight > 0 && self.writer.busy()) {
            return;
        }
        let (mut n, mut bytes) = (0, 0);
        for p in self.prepared.range(self.submitted..) {
            if (self.in_flight > 0 || n > 0) && self.in_flight + bytes + p.len > self.queue_max {
                break;
            }
            n += 1;
            bytes += p.len;
        }
        if n == 0 {
            return;
        }
        let rest = if bytes == self.outbox.len() {
            Vec::new()
        } else {
            let mut rest = Vec::new();
            if rest.try_reserve_exact(self.outbox.len() - bytes).is_err() {
                return; // stays queued; the next pump retries
            }
            rest.extend_from_slice(&self.outbox[bytes..]);
            self.outbox.truncate(bytes);
            rest
        };
        let first = &self.prepared[self.submitted];
        let b = Batch {
            epoch: self.epoch,
            first_lsn: first.lsn,
            last_lsn: self.prepared[self.submitted + n - 1].lsn,
            bytes: std::mem::replace(&mut self.outbox, rest),
        };
        // A writer that stopped (on an internal error) takes nothing: the records fail.
        let first_lsn = b.first_lsn;
        let handed = if here && self.in_flight == 0 {
            self.writer.write_here(b).or_else(|b| self.writer.submit(b))
        } else {
            self.writer.submit(b)
        };
        if handed.is_err() {
            self.writer_gone = Some(first_lsn);
        } else {
            self.submitted += n;
            self.in_flight += bytes;
        }
    }
}

impl Engine {
    pub fn wal_enabled(&self) -> bool {
        self.wal.is_some()
    }

    /// The WAL's counters, prepared commits and next LSN (zeros without a WAL).
    /// The descriptor that becomes readable when commits settle (`Writer::settled_fd`).
    pub fn settled_fd(&mut self) -> Result<i32> {
        match &mut self.wal {
            Some(w) => {
                let fd = w.writer.settled_fd()?;
                w.eager = true;
                Ok(fd)
            }
            None => Err(Error::IllegalParams(
                "the engine has no log, so its commits never wait: open it with a dir and \
                 wal_mode 'write' or 'fsync'"
                    .into(),
            )),
        }
    }

    /// The WAL writer's state and the file it writes (None without a log).
    pub fn wal_writer(&self) -> Option<(WriterState, Option<PathBuf>)> {
        self.wal.as_ref().map(|w| (w.writer.state(), w.writer.file()))
    }

    pub fn wal_stats(&self) -> (WalStats, usize, u64) {
        match &self.wal {
            Some(w) => (w.stats, w.prepared.len(), w.next_lsn),
            None => (WalStats::default(), 0, 0),
        }
    }

    /// Runs `write` as one statement: in `txn`, or as an autocommit statement — which with a
    /// WAL is a transaction of its own that waits for its record.
    pub fn statement<T>(
        &mut self,
        txn: Option<TxnId>,
        write: impl FnOnce(&mut Engine, Option<TxnId>) -> Result<T>,
    ) -> Result<T> {
        if let Some(id) = txn {
            let r = write(self, txn);
            match &r {
                Err(Error::Conflict(why)) => self.doom(id, why),
                Err(_) => {}
                Ok(_) => {
                    if let Ok(t) = self.mvcc_mut().txn_mut(id) {
                        t.statements += 1;
                    }
                }
            }
            return r;
        }
        if self.wal.is_none() {
            return write(self, None);
        }
        let id = self.begin()?;
        let r = write(self, Some(id)).and_then(|v| self.commit(id).map(|_| v));
        if r.is_err() {
            // Still open only if nothing was decided (a write error, or no memory to commit).
            let _ = self.rollback(id);
        }
        r
    }

    /// Prepares `id` and queues its record; returns its ticket. On an error the transaction
    /// is over: a conflict rolls it back (as a synchronous commit does), and so does a lack of
    /// memory to prepare it.
    pub fn commit_async(&mut self, id: TxnId) -> Result<TicketId> {
        self.end_doomed(id)?;
        let r = self.prepare_async(id);
        self.ended_by_failed_commit(id, r)
    }

    fn prepare_async(&mut self, id: TxnId) -> Result<TicketId> {
        if self.wal.is_none() {
            // Without a WAL a commit is as durable as it will ever be at once: ticket 0.
            self.commit_now(id)?;
            return Ok(0);
        }
        let quota = self.quota.clone();
        let _reserve = self.mvcc().only_deletes(id).then(|| quota.deleting());
        let entries = self.mvcc().txn(id)?.log.len();
        self.mvcc_mut().reserve(0, None, 0, None, entries)?;
        let ticket =
            self.queue_record(|eng, out| eng.redo(id, out), |eng| eng.prepare_commit(id))?;
        bump(&self.changes);
        Ok(ticket)
    }

    /// Frames the next record — its payload appended to the outbox by `payload` — and
    /// queues it with what `prepare` makes visible. Everything fallible happens before
    /// `prepare` runs; on an error the outbox is as before.
    fn queue_record(
        &mut self,
        payload: impl FnOnce(&Engine, &mut Vec<u8>) -> Result<()>,
        prepare: impl FnOnce(&mut Engine) -> Result<(u64, Vec<Undo>)>,
    ) -> Result<TicketId> {
        self.apply_outcomes(false);
        let wal = self.wal.as_mut().expect("checked by the callers");
        let (lsn, mut out) = (wal.next_lsn, std::mem::take(&mut wal.outbox));
        let before = out.len();
        let framed = out
            .try_reserve(record::HEADER_LEN)
            .map_err(|_| Error::memory("a WAL record", record::HEADER_LEN, 0, 0))
            .and_then(|_| {
                out.resize(before + record::HEADER_LEN, 0);
                payload(self, &mut out)
            })
            .and_then(|_| record::seal(&mut out, before, lsn));
        let wal = self.wal.as_mut().expect("checked by the callers");
        wal.outbox = out;
        if let Err(e) = framed {
            wal.outbox.truncate(before);
            return Err(e);
        }
        let len = wal.outbox.len() - before;
        let charge = len + PREPARED_BYTES;
        let room = wal.prepared.try_reserve(1).is_ok() && wal.rolled_back.try_reserve(2).is_ok();
        let charged = if room {
            self.quota.charge(charge, "a WAL record")
        } else {
            Err(Error::memory("a WAL record", charge, 0, 0))
        };
        let prepared =
            charged.and_then(|_| prepare(self).inspect_err(|_| self.quota.release(charge)));
        let (seq, log) = match prepared {
            Ok(x) => x,
            Err(e) => {
                let wal = self.wal.as_mut().expect("checked by the callers");
                wal.outbox.truncate(before);
                return Err(e);
            }
        };
        let wal = self.wal.as_mut().expect("checked by the callers");
        let ticket = wal.next_ticket;
        wal.next_ticket += 1;
        wal.prepared.push_back(Prepared {
            ticket,
            seq,
            lsn: wal.next_lsn,
            log,
            len,
        });
        wal.next_lsn += 1;
        // A host that waits on the settled fd learns of commits only from the writer: what
        // it commits goes to the writer now (grouped while a write is in flight), not at the
        // engine's next look.
        if wal.outbox.len() >= GROUP_BYTES || wal.eager {
            wal.pump();
        }
        Ok(ticket)
    }

    /// Appends the record of transaction `id` to `out`: deletions first (by primary key),
    /// then the versions it created — its net effect, which is what replay must reproduce.
    fn redo(&self, id: TxnId, out: &mut Vec<u8>) -> Result<()> {
        let mvcc = self.mvcc();
        let log = &mvcc.txn(id)?.log;
        for pass in [0, 1] {
            for u in log {
                match (*u, pass) {
                    (Undo::Deleted(sid, t), 0) => {
                        let sp = self.space(sid)?;
                        let key = sp.primary_key_of(t)?;
                        ops::encode(
                            &Op::Delete {
                                space: &sp.name,
                                key: &key,
                            },
                            out,
                        )?;
                    }
                    // A version it created and deleted itself (before a savepoint) is no
                    // part of its net effect.
                    (Undo::Created(_, t), 1)
                        if mvcc.story(t).is_some_and(|s| s.deleters.contains(&id)) => {}
                    (Undo::Created(sid, t), 1) => {
                        let sp = self.space(sid)?;
                        let op = Op::Replace {
                            space: &sp.name,
                            tuple: t.data(),
                        };
                        ops::encode(&op, out)?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Logs a DDL statement that has just been applied and waits for it; the caller undoes
    /// the statement on an error. DDL waits for every commit before it, so only it can fail.
    pub fn log_ddl(&mut self, op: &Op) -> Result<()> {
        if self.wal.is_none() || self.replaying {
            return Ok(());
        }
        self.flush_wal();
        let ticket = self.queue_record(|_, out| ops::encode(op, out), |_| Ok((0, Vec::new())))?;
        self.wait_ticket(ticket)
    }

    /// Applies the outcomes the writer has sent (cheap when there are none) and hands it
    /// what waits.
    pub fn poll_wal(&mut self) {
        self.apply_outcomes(true);
        self.poll_snapshot();
    }

    /// Applies the outcomes the writer has sent; hands it what waits when `pump`.
    fn apply_outcomes(&mut self, pump: bool) {
        let Some(wal) = self.wal.as_mut() else { return };
        // This thread's error injection reaches the writer whenever the engine looks at it
        // (except a delay while closing, which would wait forever).
        wal.writer.inject(
            errinj::wal_delay() && !wal.closing,
            errinj::wal_write_fails(),
        );
        if let Some(first) = wal.writer_gone.take() {
            let last = wal.prepared.back().map_or(first, |p| p.lsn);
            self.cascade(first, last, "the WAL writer has stopped; reopen the engine");
            return;
        }
        if !wal.writer.has_done() {
            if pump {
                wal.pump();
            }
            return;
        }
        let done = wal.writer.take_done();
        let mut confirmed = false;
        let mut failed: Option<(u64, u64, String)> = None;
        for d in done {
            let Done {
                epoch,
                first_lsn,
                last_lsn,
                bytes,
                outcome,
            } = d;
            let wal = self.wal.as_mut().expect("checked above");
            if epoch != wal.epoch {
                continue; // cancelled after a failure already rolled back
            }
            wal.in_flight = wal.in_flight.saturating_sub(bytes);
            match outcome {
                Outcome::Written => {
                    self.confirm(first_lsn, last_lsn);
                    confirmed = true;
                }
                Outcome::Failed(why) => {
                    let f = failed.get_or_insert((first_lsn, last_lsn, why));
                    f.1 = last_lsn;
                }
                Outcome::Cancelled => {}
            }
        }
        if let Some((first, last, why)) = failed {
            self.cascade(first, last, &why);
        }
        if let Some(wal) = self.wal.as_mut().filter(|_| pump) {
            wal.pump();
        }
        if confirmed {
            // What the confirmed transactions replaced may go now, as after a commit
            // without a WAL.
            self.collect_released();
        }
    }

    /// The oldest prepared transactions, LSNs `first..=last`, are durable: their garbage may
    /// go now.
    fn confirm(&mut self, first: u64, last: u64) {
        let wal = self.wal.as_mut().expect("only with a WAL");
        if wal.prepared.front().is_none_or(|p| p.lsn != first) {
            // Outcomes come in LSN order; anything else is a bug to report, not to act on.
            self.poisoned = Some(format!(
                "the WAL confirmed LSN {first} while LSN {:?} was the oldest in flight",
                wal.prepared.front().map(|p| p.lsn)
            ));
            return;
        }
        while wal.prepared.front().is_some_and(|p| p.lsn <= last) {
            let p = wal.prepared.pop_front().expect("checked above");
            self.counters.commits.resolved.set(p.ticket);
            wal.submitted = wal.submitted.saturating_sub(1);
            wal.stats.committed += 1;
            self.quota.release(p.len + PREPARED_BYTES);
            let mut mvcc = self.mvcc.borrow_mut();
            mvcc.confirm_changes(&p.log, p.seq);
            mvcc.recycle(p.log);
        }
    }

    /// Rolls back everything prepared from LSN `first` on, newest first (see the module doc).
    fn cascade(&mut self, first: u64, last: u64, why: &str) {
        let Some(wal) = self.wal.as_mut() else { return };
        wal.stats.failed_writes += 1;
        let Some(first_seq) = wal.prepared.iter().find(|p| p.lsn >= first).map(|p| p.seq) else {
            return;
        };
        // Open transactions that began after the failed group was prepared saw its data.
        let mut open: Vec<(u64, TxnId)> = self
            .mvcc()
            .open_txns()
            .filter(|&(snapshot, _)| snapshot >= first_seq && first_seq > 0)
            .collect();
        open.sort_unstable_by(|a, b| b.cmp(a));
        let reason = format!(
            "the transaction was rolled back because a transaction it may depend on failed to \
             reach the WAL (LSN {first}: {why}); roll it back and retry"
        );
        for (_, id) in open {
            let _ = self.rollback(id);
            self.mvcc_mut()
                .note_aborted(id, Error::CascadeRollback(reason.clone()));
        }
        // The commits rolled back: `lo..=io_hi` failed with the group, the rest cascaded.
        let (mut lo, mut io_hi) = (TicketId::MAX, None);
        loop {
            let wal = self.wal.as_mut().expect("checked above");
            if wal.prepared.back().is_none_or(|p| p.lsn < first) {
                break;
            }
            let p = wal.prepared.pop_back().expect("checked above");
            lo = p.ticket;
            if p.lsn <= last {
                io_hi = io_hi.max(Some(p.ticket));
            }
            wal.stats.rolled_back += 1;
            self.quota.release(p.len + PREPARED_BYTES);
            self.undo_prepared(&p.log);
        }
        let wal = self.wal.as_mut().expect("checked above");
        let newest = wal.next_ticket - 1;
        if lo != TicketId::MAX {
            let older_in_flight = wal.prepared.front().map(|p| p.ticket - 1);
            self.counters
                .commits
                .resolved
                .set(older_in_flight.unwrap_or(newest));
            self.counters.commits.rolled_back.set(newest);
        }
        let cascaded_from = io_hi.map_or(lo, |hi| hi + 1);
        // Room for both was reserved when the newest of these commits was queued.
        if let Some(hi) = io_hi {
            wal.rolled_back.push(RolledBack {
                first: lo,
                last: hi,
                error: Error::WalIo(format!("the commit could not be written: {why}")),
            });
        }
        if lo != TicketId::MAX && cascaded_from <= newest {
            wal.rolled_back.push(RolledBack {
                first: cascaded_from,
                last: newest,
                error: Error::CascadeRollback(format!(
                    "rolled back because an earlier commit failed to reach the WAL (LSN {first}: {why})"
                )),
            });
        }
        let wal = self.wal.as_mut().expect("checked above");
        wal.next_lsn = first;
        wal.epoch += 1;
        wal.in_flight = 0;
        wal.submitted = wal.prepared.len();
        wal.outbox.clear();
        bump(&self.changes);
    }

    /// Undoes a prepared transaction's changes, newest first.
    fn undo_prepared(&mut self, log: &[Undo]) {
        self.mvcc_mut().unpromise(log.len());
        self.undo_log(log, |m, t| m.unprepare_delete(t));
    }

    /// The state of `ticket` (after applying what the writer sent). Someone waits for a
    /// queued one: what gathered goes to the writer now.
    pub fn ticket_state(&mut self, ticket: TicketId) -> Result<TicketState> {
        self.ticket_state_here(ticket, false)
    }

    /// `ticket_state`; with `here`, a queued ticket may be written on this thread.
    fn ticket_state_here(&mut self, ticket: TicketId, here: bool) -> Result<TicketState> {
        if ticket == 0 {
            return Ok(TicketState::Committed);
        }
        self.apply_outcomes(false);
        let wal = self.wal.as_mut().ok_or_else(|| {
            Error::BadHandle(format!(
                "commit {ticket} is not known to this engine (it has no WAL)"
            ))
        })?;
        let state = wal.state_of(ticket)?;
        if let TicketState::Queued = state {
            wal.hand_over(here);
            return wal.state_of(ticket);
        }
        Ok(state)
    }

    /// Blocks until `ticket` is committed or rolled back. While the writer is idle, this
    /// thread writes what waits itself rather than handing it over and sleeping.
    pub fn wait_ticket(&mut self, ticket: TicketId) -> Result<()> {
        loop {
            match self.ticket_state_here(ticket, true)? {
                TicketState::Committed => return Ok(()),
                TicketState::RolledBack(e) => return Err(e),
                TicketState::Queued | TicketState::Waiting => {}
            }
            if self.wal.as_ref().is_some_and(|w| w.writer.has_done()) {
                continue; // written here (or just finished): no need to sleep
            }
            if let Some(w) = self.wal.as_ref() {
                w.writer.wait_done(Duration::from_millis(20));
            }
        }
    }

    /// Waits until every prepared transaction is committed or rolled back.
    pub fn flush_wal(&mut self) {
        loop {
            self.poll_wal();
            let Some(w) = self.wal.as_ref() else { return };
            if w.prepared.is_empty() {
                return;
            }
            w.writer.wait_done(Duration::from_millis(20));
        }
    }

    /// Closing: open transactions roll back, commits in flight complete (or fail; an
    /// injected `WAL_DELAY` ends); the writer stops. Returns what happened, for the log.
    pub fn shut_down_wal(&mut self) -> Option<String> {
        let open: Vec<TxnId> = self.mvcc().open_txns().map(|(_, id)| id).collect();
        for &id in &open {
            let _ = self.rollback(id);
        }
        let before = self.wal.as_ref()?.stats;
        let in_flight = self.wal.as_ref()?.prepared.len();
        self.wal.as_mut()?.closing = true;
        self.flush_wal();
        let wal = self.wal.as_mut()?;
        wal.writer.stop();
        let after = wal.stats;
        Some(format!(
            "closed: {} open transaction(s) rolled back, {in_flight} commit(s) in flight \
             finished ({} committed, {} rolled back)",
            open.len(),
            after.committed - before.committed,
            after.rolled_back - before.rolled_back
        ))
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // An engine dropped without `shut_down_wal` (a Rust owner): what was handed to the
        // writer is written before the thread is joined; nothing is left running.
        self.writer.stop();
    }
}
