//! Multi-version concurrency control: snapshot isolation, first committer wins.
//!
//! Versions of a row coexist in every index until no reader can see the old ones; readers skip
//! the versions they must not see. Most tuples carry no version information at all: a tuple
//! without a *story* (a bit in its header) is committed and live for every reader, so reads
//! of clean data cost one bit test. A story exists only for a tuple written by an open
//! transaction, or deleted or created while an older read view exists; stories live in a side
//! table charged to the quota, and garbage collection — run by commits and rollbacks (all
//! they release) and by writes (bounded steps), never by reads — removes versions nobody can
//! see and drops stories nobody needs.

use super::SpaceId;
use super::open_txns::OpenTxns;
use super::tuple::TuplePtr;
use crate::error::{Error, Result};
use crate::mem::Quota;
use rustc_hash::FxHashMap;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

pub type TxnId = u64;

/// When a version came to be: committed at a sequence number, or written by an open
/// transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    Committed(u64),
    Pending(TxnId),
}

#[derive(Debug)]
pub struct Story {
    pub created: Stamp,
    /// Sequence number of the committed deletion, if any.
    pub deleted: Option<u64>,
    /// Open transactions that deleted (or replaced) this version; the first to commit wins,
    /// the others get a conflict at their commit.
    pub deleters: Vec<TxnId>,
    /// The space the version belongs to (what counts it: `Mvcc::invisible_in`).
    pub space: SpaceId,
}

/// The deletion stamp of a buried version: before every commit, so no view sees it.
const BURIED: Option<u64> = Some(0);

/// What a reader sees: versions committed at or before `snapshot`, plus its own writes.
#[derive(Clone, Copy, Debug)]
pub struct ReadView {
    pub snapshot: u64,
    pub txn: Option<TxnId>,
}

/// One change a transaction made, to commit or undo.
#[derive(Clone, Copy, Debug)]
pub enum Undo {
    Created(SpaceId, TuplePtr),
    Deleted(SpaceId, TuplePtr),
    /// A row the transaction added to the functional index at this position (logged so that
    /// undoing it and checking it at commit need no key function).
    Row(SpaceId, u32, TuplePtr),
}

pub struct Txn {
    pub id: TxnId,
    pub snapshot: u64,
    pub log: Vec<Undo>,
    /// Savepoints (their ids and log lengths), oldest first; see `savepoint`.
    pub savepoints: Vec<(u64, usize)>,
    /// Statements run (see `Engine::statement`), those a savepoint undid included.
    pub statements: u64,
}

pub struct Mvcc {
    quota: Rc<Quota>,
    next_txn: TxnId,
    commit_seq: u64,
    txns: OpenTxns,
    /// Keyed by address: a fast non-cryptographic hash (keys are our own pointers, not input).
    stories: FxHashMap<TuplePtr, Story>,
    /// Versions whose deletion committed, in commit order: removed once no view needs them.
    pub(crate) dead: VecDeque<(SpaceId, TuplePtr, u64)>,
    /// Versions whose creation committed, in commit order: their stories go once every view
    /// sees them.
    pub(crate) born: VecDeque<(TuplePtr, u64)>,
    /// Versions out of every index but functional ones whose key function could not run
    /// where they were removed (a HOT entry): pinned (this queue holds a reference), with a
    /// story no view sees, until a SAFE entry removes their rows.
    pub(crate) buried: VecDeque<(SpaceId, TuplePtr)>,
    /// Versions ever buried (each is one deferred key-function callback).
    pub buried_total: u64,
    /// GC queue entries owed to prepared transactions (pushed when they are confirmed): every
    /// reservation of queue room counts them.
    promised: usize,
    /// Transactions ended while open — by a conflict in one of their statements or by a
    /// cascading rollback — with the error every later use gets until their owner rolls
    /// them back (doomed transactions).
    aborted: HashMap<TxnId, Error>,
    charged: usize,
    /// What `charged` holds for the room of `stories` (its `capacity()` is no measure: it
    /// drops as removals leave tombstones) and of `dead`, `born` and `buried`.
    stories_charged: usize,
    queue_charged: [usize; 3],
    /// Emptied logs of finished transactions, their room still charged: transactions begin
    /// with one (`recycle`), so short ones allocate no log, also while many of them wait
    /// for the WAL with their logs. `spare_bytes` is what they hold.
    spare_logs: Vec<Vec<Undo>>,
    spare_bytes: usize,
}

const STORY_BYTES: usize = size_of::<(TuplePtr, Story)>() + 8;
const QUEUE_BYTES: usize = 24;

impl Mvcc {
    pub fn new(quota: Rc<Quota>) -> Mvcc {
        Mvcc {
            quota,
            next_txn: 1,
            commit_seq: 0,
            txns: OpenTxns::default(),
            stories: FxHashMap::default(),
            dead: VecDeque::new(),
            born: VecDeque::new(),
            buried: VecDeque::new(),
            buried_total: 0,
            promised: 0,
            aborted: HashMap::new(),
            charged: 0,
            stories_charged: 0,
            queue_charged: [0; 3],
            spare_logs: Vec::new(),
            spare_bytes: 0,
        }
    }

    /// No open transaction and no story but those of buried versions: every tuple in every
    /// index is a committed, live version (or buried, which no reader sees), so writes may
    /// change indexes in place.
    pub fn quiet(&self) -> bool {
        self.txns.is_empty() && self.stories.len() == self.buried.len()
    }

    pub fn commit_seq(&self) -> u64 {
        self.commit_seq
    }

    pub fn open_count(&self) -> usize {
        self.txns.len()
    }

    pub fn story_count(&self) -> usize {
        self.stories.len()
    }

    /// Buried versions waiting for `Engine::unbury`.
    pub fn buried_count(&self) -> usize {
        self.buried.len()
    }

    /// Entries waiting in the garbage collector's queues.
    pub fn gc_pending(&self) -> usize {
        self.dead.len() + self.born.len()
    }

    /// The view of `txn`, or of an autocommit statement (the latest committed state).
    pub fn view(&self, txn: Option<TxnId>) -> Result<ReadView> {
        match txn {
            None => Ok(ReadView {
                snapshot: self.commit_seq,
                txn: None,
            }),
            Some(id) => Ok(ReadView {
                snapshot: self.txn(id)?.snapshot,
                txn: Some(id),
            }),
        }
    }

    /// Whether `view` sees tuple `t`.
    #[inline]
    pub fn visible(&self, view: &ReadView, t: TuplePtr) -> bool {
        !t.has_story() || self.story_visible(view, t)
    }

    #[inline(never)]
    fn story_visible(&self, view: &ReadView, t: TuplePtr) -> bool {
        self.stories.get(&t).is_none_or(|s| Self::sees(view, s))
    }

    fn sees(view: &ReadView, s: &Story) -> bool {
        let born = match s.created {
            Stamp::Committed(c) => c <= view.snapshot,
            Stamp::Pending(x) => view.txn == Some(x),
        };
        born && s.deleted.is_none_or(|d| d > view.snapshot)
            && !view.txn.is_some_and(|x| s.deleters.contains(&x))
    }

    /// How many versions of `space` in its indexes `view` does not see. Every version with a
    /// story but a buried one is in every index of its space but the functional ones (a
    /// version without a story is seen by all), so an index's entries minus this is the
    /// number of tuples the view sees. One pass over the stories; none while all is quiet.
    pub fn invisible_in(&self, space: SpaceId, view: &ReadView) -> usize {
        if self.stories.len() == self.buried.len() {
            return 0;
        }
        self.stories
            .values()
            .filter(|s| s.space == space && s.deleted != BURIED && !Self::sees(view, s))
            .count()
    }

    pub fn story(&self, t: TuplePtr) -> Option<&Story> {
        if t.has_story() {
            self.stories.get(&t)
        } else {
            None
        }
    }

    // ---- transactions ------------------------------------------------------------------

    pub fn begin(&mut self) -> Result<TxnId> {
        let id = self.next_txn;
        self.begin_as(id)?;
        self.next_txn += 1;
        Ok(id)
    }

    /// Opens a transaction named `id` (see `Engine::begin_as`).
    pub fn begin_as(&mut self, id: TxnId) -> Result<TxnId> {
        if self.txns.get(id).is_some() || id == 0 {
            return Err(Error::IllegalParams(format!(
                "transaction id {id} is in use (or 0); name a new transaction by a new id"
            )));
        }
        // Within the delete reserve: a transaction that only deletes must begin on a full
        // engine (one that writes fails at its first write instead).
        let quota = self.quota.clone();
        let _reserve = quota.deleting();
        self.grow(|m| m.txns.try_reserve(), size_of::<Txn>(), "a transaction")?;
        let log = self.take_spare_log();
        self.txns.insert(Txn {
            id,
            snapshot: self.commit_seq,
            log,
            savepoints: Vec::new(),
            statements: 0,
        });
        Ok(id)
    }

    /// Whether transaction `id` only deleted (so its commit gives memory back): its
    /// commit may use the delete reserve.
    pub fn only_deletes(&self, id: TxnId) -> bool {
        self.txns
            .get(id)
            .is_some_and(|t| t.log.iter().all(|u| matches!(u, Undo::Deleted(..))))
    }

    pub fn txn(&self, id: TxnId) -> Result<&Txn> {
        self.txns.get(id).ok_or_else(|| self.gone(id))
    }

    pub(super) fn txn_mut(&mut self, id: TxnId) -> Result<&mut Txn> {
        let aborted = &self.aborted;
        self.txns.get_mut(id).ok_or_else(|| gone(aborted, id))
    }

    fn gone(&self, id: TxnId) -> Error {
        gone(&self.aborted, id)
    }

    /// Open transactions: (snapshot, id).
    pub fn open_txns(&self) -> impl Iterator<Item = (u64, TxnId)> + '_ {
        self.txns.iter()
    }

    /// Remembers that `id` was rolled back while open, and the error its later uses get.
    pub fn note_aborted(&mut self, id: TxnId, err: Error) {
        if self.aborted.try_reserve(1).is_ok() {
            self.aborted.insert(id, err);
        }
    }

    /// Forgets `id`'s cascade note (its owner has been told); whether there was one.
    pub fn forget_aborted(&mut self, id: TxnId) -> bool {
        self.aborted.remove(&id).is_some()
    }

    /// Removes a finished transaction, returning its log.
    pub fn finish(&mut self, id: TxnId) -> Result<Vec<Undo>> {
        let t = self.txns.remove(id).ok_or_else(|| self.gone(id))?;
        self.release(
            t.log.capacity() * size_of::<Undo>()
                + t.savepoints.capacity() * size_of::<(u64, usize)>()
                + size_of::<Txn>(),
        );
        Ok(t.log)
    }

    /// Takes back the log `finish` returned, once its changes are applied or undone: a small
    /// one is kept, emptied and charged again, for a later transaction to begin with, while
    /// the kept ones stay within a quarter of `kept_room`.
    pub fn recycle(&mut self, mut log: Vec<Undo>) {
        const KEEP: usize = 256;
        let bytes = log.capacity() * size_of::<Undo>();
        // As many slots as logs of four entries fit in the share (the fewest a log grows to).
        let slots = (self.kept_room() / 4 / (4 * size_of::<Undo>())).clamp(1, 1024);
        let room = self.spare_logs.len() < self.spare_logs.capacity()
            || (self.spare_logs.capacity() == 0
                && self
                    .grow(
                        |m| m.spare_logs.try_reserve_exact(slots),
                        slots * size_of::<Vec<Undo>>(),
                        "kept transaction logs",
                    )
                    .is_ok());
        if room
            && (1..=KEEP).contains(&log.capacity())
            && self.spare_bytes + bytes <= self.kept_room() / 4
            && self.quota.charge_raw(bytes, "a transaction log").is_ok()
        {
            self.charged += bytes;
            self.spare_bytes += bytes;
            log.clear();
            self.spare_logs.push(log);
        }
    }

    fn take_spare_log(&mut self) -> Vec<Undo> {
        let log = self.spare_logs.pop().unwrap_or_default();
        self.spare_bytes -= log.capacity() * size_of::<Undo>();
        log
    }

    /// The next commit's sequence number, taken.
    pub fn next_seq(&mut self) -> u64 {
        self.commit_seq += 1;
        self.commit_seq
    }

    /// The oldest snapshot any open transaction reads from (the latest state when none).
    pub fn oldest_view(&self) -> u64 {
        self.txns.oldest().unwrap_or(self.commit_seq)
    }

    // ---- reservations: everything a write may need, before it changes anything ---------

    /// Room for `stories` more stories, `log` more log entries of `txn`, one more deleter of
    /// `deleted` (when given) and `queued` more entries in each GC queue. What it grows stays
    /// (reusable capacity, charged to the quota).
    pub fn reserve(
        &mut self,
        stories: usize,
        txn: Option<TxnId>,
        log: usize,
        deleted: Option<TuplePtr>,
        queued: usize,
    ) -> Result<()> {
        let free = self.stories.capacity() - self.stories.len();
        if free < stories {
            let before = self.stories.capacity();
            self.stories
                .try_reserve(stories)
                .map_err(|_| self.oom("a version record", stories * STORY_BYTES))?;
            let grown = (self.stories.capacity() - before) * STORY_BYTES;
            if let Err(e) = self.quota.charge(grown, "a version record") {
                self.stories.shrink_to(before);
                return Err(e);
            }
            self.charged += grown;
            self.stories_charged += grown;
        }
        if let Some(id) = txn {
            let t = self.txn_mut(id)?;
            if t.log.capacity() - t.log.len() < log {
                let (before, more) = (t.log.capacity(), t.log.capacity().max(4).max(log));
                self.grow(
                    |m| {
                        m.txn_mut(id)
                            .map_or(Ok(()), |t| t.log.try_reserve_exact(more))
                    },
                    more * size_of::<Undo>(),
                    "a transaction log",
                )?;
                // Room for `more` past the length can be less than `more` past the capacity:
                // only what the capacity grew stays charged (`finish` releases the capacity).
                let after = self.txn(id).map_or(before, |t| t.log.capacity());
                self.release((before + more - after) * size_of::<Undo>());
            }
        }
        if let (Some(v), Some(_)) = (deleted, txn)
            && let Some(s) = self.stories.get(&v)
            && s.deleters.len() == s.deleters.capacity()
        {
            let more = s.deleters.capacity().max(1);
            self.grow(
                |m| {
                    m.stories
                        .get_mut(&v)
                        .map_or(Ok(()), |s| s.deleters.try_reserve_exact(more))
                },
                more * size_of::<TxnId>(),
                "a version record",
            )?;
        }
        if queued > 0 {
            let queued = queued + self.promised;
            let (d, b) = (
                self.dead.capacity() - self.dead.len(),
                self.born.capacity() - self.born.len(),
            );
            if d < queued {
                let more = queued.max(self.dead.len());
                self.grow(
                    |m| m.dead.try_reserve(more),
                    more * QUEUE_BYTES,
                    "the GC queue",
                )?;
                self.queue_charged[0] += more * QUEUE_BYTES;
            }
            if b < queued {
                let more = queued.max(self.born.len());
                self.grow(
                    |m| m.born.try_reserve(more),
                    more * QUEUE_BYTES,
                    "the GC queue",
                )?;
                self.queue_charged[1] += more * QUEUE_BYTES;
            }
        }
        Ok(())
    }

    /// Room to bury one more version (its story and its queue entry).
    pub fn reserve_bury(&mut self) -> Result<()> {
        self.reserve(1, None, 0, None, 0)?;
        if self.buried.len() == self.buried.capacity() {
            let more = self.buried.len().max(4);
            self.grow(
                |m| m.buried.try_reserve(more),
                more * QUEUE_BYTES,
                "the deferred key-function queue",
            )?;
            self.queue_charged[2] += more * QUEUE_BYTES;
        }
        Ok(())
    }

    /// Buries version `t` of `space` (after `reserve_bury`), taking over a reference to it.
    pub fn bury(&mut self, t: TuplePtr, space: SpaceId) {
        let s = self.story_mut(t, space);
        s.deleted = BURIED;
        s.deleters.clear();
        self.buried.push_back((space, t));
        self.buried_total += 1;
    }

    /// The next buried version, out of the queue with its story gone; the caller owns the
    /// queue's reference.
    pub fn unbury(&mut self) -> Option<(SpaceId, TuplePtr)> {
        let (space, t) = self.buried.pop_front()?;
        self.drop_story(t);
        Some((space, t))
    }

    /// How much empty room (version records, queues, kept logs) stays for the next
    /// transactions instead of going back to the quota: enough that transactions of a few
    /// thousand writes each do not regrow (and rehash) it every time, a small share of the
    /// memory limit.
    fn kept_room(&self) -> usize {
        (self.quota.limit() / 256).min(1 << 20)
    }

    /// Gives back the room of version records and queues that are empty again after a
    /// large transaction (beyond `kept_room`): dropping them allocates nothing.
    pub fn shrink_empty(&mut self) {
        let worth = self.kept_room().max(16 << 10);
        if self.stories.is_empty() && self.stories_charged >= worth {
            self.stories = FxHashMap::default();
            let bytes = std::mem::take(&mut self.stories_charged);
            self.release(bytes);
        }
        fn empty_room<T>(q: &mut VecDeque<T>, charged: &mut usize, worth: usize) -> usize {
            if q.is_empty() && *charged >= worth {
                *q = VecDeque::new();
                std::mem::take(charged)
            } else {
                0
            }
        }
        let [d, b, u] = &mut self.queue_charged;
        let freed = empty_room(&mut self.dead, d, worth)
            + empty_room(&mut self.born, b, worth)
            + empty_room(&mut self.buried, u, worth);
        self.release(freed);
    }

    /// Charges `bytes` and runs `alloc`, all or nothing.
    pub(super) fn grow<E>(
        &mut self,
        alloc: impl FnOnce(&mut Self) -> std::result::Result<(), E>,
        bytes: usize,
        what: &str,
    ) -> Result<()> {
        self.quota.charge(bytes, what)?;
        if alloc(self).is_err() {
            self.quota.release(bytes);
            return Err(self.oom(what, bytes));
        }
        self.charged += bytes;
        Ok(())
    }

    fn release(&mut self, bytes: usize) {
        let bytes = bytes.min(self.charged);
        self.quota.release(bytes);
        self.charged -= bytes;
    }

    fn oom(&self, what: &str, bytes: usize) -> Error {
        Error::memory(what, bytes, self.quota.used(), self.quota.limit())
    }

    // ---- changes (after `reserve`; cannot fail) ----------------------------------------

    /// Gives `t` a story (it had none: it was committed long ago and live).
    fn story_mut(&mut self, t: TuplePtr, space: SpaceId) -> &mut Story {
        if !t.has_story() {
            t.set_story(true);
        }
        self.stories.entry(t).or_insert(Story {
            created: Stamp::Committed(0),
            deleted: None,
            deleters: Vec::new(),
            space,
        })
    }

    /// Records the creation of `t`: pending in `txn`, or committed at `seq`.
    pub fn created(&mut self, t: TuplePtr, txn: Option<TxnId>, seq: u64, space: SpaceId) {
        let stamp = match txn {
            Some(id) => Stamp::Pending(id),
            None => Stamp::Committed(seq),
        };
        self.story_mut(t, space).created = stamp;
        match txn {
            Some(id) => self.log(id, Undo::Created(space, t)),
            None => self.born.push_back((t, seq)),
        }
    }

    /// Records the deletion of `t`: pending in `txn`, or committed at `seq`.
    pub fn deleted(&mut self, t: TuplePtr, txn: Option<TxnId>, seq: u64, space: SpaceId) {
        let s = self.story_mut(t, space);
        match txn {
            Some(id) => {
                s.deleters.push(id);
                self.log(id, Undo::Deleted(space, t));
            }
            None => {
                s.deleted = Some(seq);
                self.dead.push_back((space, t, seq));
            }
        }
    }

    /// Logs a change of `id` (after `reserve`).
    pub fn log_undo(&mut self, id: TxnId, u: Undo) {
        self.log(id, u)
    }

    fn log(&mut self, id: TxnId, u: Undo) {
        if let Ok(t) = self.txn_mut(id) {
            t.log.push(u);
        }
    }

    /// Forgets `t`'s story (the tuple leaves the indexes, or is plain again).
    pub fn drop_story(&mut self, t: TuplePtr) {
        if t.has_story() {
            self.stories.remove(&t);
            t.set_story(false);
        }
    }

    /// Whether version `v` was created or deleted by a commit after `snapshot`.
    pub fn changed_after(&self, v: TuplePtr, snapshot: u64) -> bool {
        self.story(v).is_some_and(|s| {
            matches!(s.created, Stamp::Committed(c) if c > snapshot)
                || s.deleted.is_some_and(|d| d > snapshot)
        })
    }

    /// Transaction `id` deletes a version it created itself: the version goes at once, so
    /// its log forgets it and its functional-index rows (handed to `row`), and its story goes.
    pub fn forget_created(
        &mut self,
        t: TuplePtr,
        id: TxnId,
        space: SpaceId,
        mut row: impl FnMut(u32, TuplePtr),
    ) {
        if let Ok(txn) = self.txn_mut(id) {
            if let Some(pos) = txn
                .log
                .iter()
                .rposition(|u| matches!(*u, Undo::Created(s, x) if s == space && x == t))
            {
                txn.log.remove(pos);
            }
            txn.log.retain(|u| match *u {
                Undo::Row(s, pos, r) if s == space && super::func::row_tuple(r) == t => {
                    row(pos, r);
                    false
                }
                _ => true,
            });
        }
        self.drop_story(t);
    }

    /// A transaction's deletion of `t` is undone.
    pub fn undelete(&mut self, t: TuplePtr, id: TxnId) {
        if let Some(s) = self.stories.get_mut(&t) {
            s.deleters.retain(|&x| x != id);
        }
        self.settle(t);
    }

    /// A story left with nothing to tell goes now if every view sees the version, else it
    /// waits in the queue of born versions.
    fn settle(&mut self, t: TuplePtr) {
        let oldest = self.oldest_view();
        let Some(s) = self.stories.get(&t) else {
            return;
        };
        let Stamp::Committed(c) = s.created else {
            return;
        };
        if s.deleted.is_some() || !s.deleters.is_empty() {
            return;
        }
        if c <= oldest {
            self.drop_story(t);
        } else {
            // When the queue cannot grow, the story stays (correct, only retained memory).
            let more = self.born.len().max(4);
            let room = self.born.len() < self.born.capacity()
                || self
                    .grow(
                        |m| m.born.try_reserve(more),
                        more * QUEUE_BYTES,
                        "the GC queue",
                    )
                    .is_ok();
            if room {
                self.born.push_back((t, c));
            }
        }
    }

    /// Makes a transaction's changes visible as committed at `seq`, without letting the
    /// garbage collector at what they replaced (`confirm_changes` does, once durable).
    pub fn prepare_changes(&mut self, log: &[Undo], id: TxnId, seq: u64) {
        for u in log {
            match *u {
                Undo::Created(_, t) => {
                    if let Some(s) = self.stories.get_mut(&t) {
                        s.created = Stamp::Committed(seq);
                    }
                }
                Undo::Deleted(_, t) => {
                    if let Some(s) = self.stories.get_mut(&t) {
                        s.deleted = Some(seq);
                        s.deleters.retain(|&x| x != id);
                    }
                }
                Undo::Row(..) => {}
            }
        }
    }

    /// Queue entries for `n` changes of a prepared transaction, reserved until confirmed.
    pub fn promise(&mut self, n: usize) {
        self.promised += n;
    }

    pub fn unpromise(&mut self, n: usize) {
        self.promised = self.promised.saturating_sub(n);
    }

    /// A prepared transaction is durable: what it created and deleted joins the GC queues
    /// (room was reserved when it was prepared).
    pub fn confirm_changes(&mut self, log: &[Undo], seq: u64) {
        for u in log {
            match *u {
                Undo::Created(_, t) => self.born.push_back((t, seq)),
                Undo::Deleted(space, t) => self.dead.push_back((space, t, seq)),
                Undo::Row(..) => {}
            }
        }
        self.unpromise(log.len());
    }

    /// A prepared deletion of `t` is undone (its transaction failed to reach the WAL).
    pub fn unprepare_delete(&mut self, t: TuplePtr) {
        if let Some(s) = self.stories.get_mut(&t) {
            s.deleted = None;
        }
        self.settle(t);
    }

    /// Stories of committed, live versions that every view now sees: dropped, at most
    /// `budget` of them. Returns how many were looked at.
    pub fn trim(&mut self, budget: usize) -> usize {
        let oldest = self.oldest_view();
        let mut n = 0;
        while n < budget {
            let Some(&(t, seq)) = self.born.front() else {
                break;
            };
            if seq > oldest {
                break;
            }
            self.born.pop_front();
            n += 1;
            let plain = self.stories.get(&t).is_some_and(|s| {
                s.created == Stamp::Committed(seq) && s.deleted.is_none() && s.deleters.is_empty()
            });
            if plain {
                self.drop_story(t);
            }
        }
        n
    }
}

/// The error for a transaction that is not open: doomed (`aborted` has the error its uses
/// get), or committed or rolled back by its owner.
fn gone(aborted: &HashMap<TxnId, Error>, id: TxnId) -> Error {
    match aborted.get(&id) {
        Some(e) => e.clone(),
        None => Error::IllegalParams(format!(
            "transaction {id} is not open (it was committed or rolled back)"
        )),
    }
}

impl Drop for Mvcc {
    fn drop(&mut self) {
        for (_, t) in self.buried.drain(..) {
            t.decref(&self.quota);
        }
        self.quota.release(self.charged);
    }
}

