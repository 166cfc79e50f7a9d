//! The WAL writer thread. The engine hands it batches (the records of one commit each, in LSN
//! order); it takes every batch waiting at once and writes them with one `write` and, in
//! `fsync` mode, one `fdatasync` — group commit. Outcomes go back through a queue the engine
//! pulls from on its own thread; nothing here ever calls into the engine or into Lua.
//!
//! After a failed write the writer cuts the file back to its last good length and answers
//! `Cancelled` to every batch of the failed epoch still coming, until the engine — having
//! rolled those transactions back — sends batches of the next epoch. If the file cannot be
//! cut back, the log is `Broken` and every later write fails: records that were rolled back
//! must never be replayed.

use super::segment;
use crate::error::{Error, Result};
use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncMode {
    /// `write(2)` only: survives a process crash, not a power loss.
    Write,
    /// `write(2)` then `fdatasync(2)` per group.
    Fsync,
}

/// The records of one commit.
#[derive(Debug)]
pub struct Batch {
    pub epoch: u64,
    pub first_lsn: u64,
    pub last_lsn: u64,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Written,
    /// The write failed (the message says why); later batches of its epoch are cancelled.
    Failed(String),
    /// Not written: an earlier batch of the same epoch failed.
    Cancelled,
}

#[derive(Debug)]
pub struct Done {
    pub epoch: u64,
    pub first_lsn: u64,
    pub last_lsn: u64,
    pub bytes: usize,
    pub outcome: Outcome,
}

/// The writer's named states. `transition` says which moves are legal; any other is reported
/// as an error (and leaves the log `Broken`), never asserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriterState {
    /// Waiting for batches.
    Idle,
    /// Writing a group.
    Writing,
    /// Holding batches back (error injection `WAL_DELAY`).
    Stalled,
    /// A write failed; cancelling the rest of its epoch.
    Failed,
    /// The file could not be cut back after a failure: every write fails.
    Broken,
    Stopped,
}

impl WriterState {
    pub fn name(self) -> &'static str {
        match self {
            WriterState::Idle => "idle",
            WriterState::Writing => "writing",
            WriterState::Stalled => "stalled",
            WriterState::Failed => "failed",
            WriterState::Broken => "broken",
            WriterState::Stopped => "stopped",
        }
    }

    fn may_become(self, to: WriterState) -> bool {
        use WriterState::*;
        match (self, to) {
            (_, Stopped) | (_, Broken) => self != Stopped,
            (Idle, Writing | Stalled | Failed) => true,
            (Writing, Idle | Failed) => true,
            (Stalled, Idle | Writing) => true,
            (Failed, Idle | Writing | Failed) => true,
            _ => false,
        }
    }
}

#[derive(Default)]
struct Inbox {
    batches: VecDeque<Batch>,
    stop: bool,
    /// The writer waits for work: only then does a submit pay for a wake-up.
    idle: bool,
    /// The next batch starts a new file (a snapshot covers everything before it).
    rotate: bool,
}

struct Shared {
    inbox: Mutex<Inbox>,
    work: Condvar,
    done: Mutex<VecDeque<Done>>,
    finished: Condvar,
    /// Outcomes waiting in `done`: the engine's cheap check before it takes the lock.
    done_count: AtomicU64,
    /// The engine waits in `wait_done`: only then does finishing a group pay for a wake-up.
    engine_waiting: AtomicBool,
    /// The writer has taken a group and not finished it.
    busy: AtomicBool,
    state: Mutex<WriterState>,
    /// The file being written, once the first group opened it (for `db:stat()`).
    file: Mutex<Option<PathBuf>>,
    /// An eventfd made readable whenever outcomes are added (`settled_fd`), or -1.
    settled_fd: AtomicI32,
    delay: AtomicBool,
    fail_writes: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic on the writer thread is caught there; a poisoned lock still holds sound data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The engine's side of the writer.
pub struct Writer {
    shared: Arc<Shared>,
    /// Whoever writes a group holds this: the thread, or a committer writing its own group
    /// while the thread is idle (`write_here`). Holding it across take-and-finish keeps the
    /// outcomes in LSN order.
    worker: Arc<Mutex<Worker>>,
    thread: Option<JoinHandle<()>>,
    /// In a forked child the thread is not there and the locks may be held by it forever.
    origin: crate::fork::Origin,
}

impl Writer {
    /// Starts the thread; the first batch opens a new file in `dir` named by its LSN.
    pub fn start(dir: &Path, mode: SyncMode) -> Result<Writer> {
        let shared = Arc::new(Shared {
            inbox: Mutex::new(Inbox::default()),
            work: Condvar::new(),
            done: Mutex::new(VecDeque::new()),
            finished: Condvar::new(),
            done_count: AtomicU64::new(0),
            engine_waiting: AtomicBool::new(false),
            busy: AtomicBool::new(false),
            state: Mutex::new(WriterState::Idle),
            file: Mutex::new(None),
            settled_fd: AtomicI32::new(-1),
            delay: AtomicBool::new(false),
            fail_writes: AtomicBool::new(false),
        });
        let worker = Arc::new(Mutex::new(Worker {
            shared: shared.clone(),
            dir: dir.to_owned(),
            mode,
            file: None,
            good_len: 0,
            failed_epoch: None,
            rotate: false,
        }));
        let (thread_shared, thread_worker) = (shared.clone(), worker.clone());
        let thread = std::thread::Builder::new()
            .name("jitbox-wal".into())
            .spawn(move || {
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run(&thread_shared, &thread_worker)
                }));
                if r.is_err() {
                    stop_broken(&thread_shared, "the WAL writer stopped on an internal error");
                }
            })
            .map_err(|e| Error::WalIo(format!("cannot start the WAL writer thread: {e}")))?;
        Ok(Writer {
            shared,
            worker,
            thread: Some(thread),
            origin: crate::fork::Origin::here(),
        })
    }

    /// Queues a batch (never blocks on I/O).
    pub fn submit(&self, b: Batch) -> Result<()> {
        self.origin.check("the WAL writer")?;
        let mut inbox = lock(&self.shared.inbox);
        if inbox.stop {
            return Err(Error::Closed("the WAL writer has stopped".into()));
        }
        inbox
            .batches
            .try_reserve(1)
            .map_err(|_| Error::Memory("cannot queue a WAL batch".into()))?;
        inbox.batches.push_back(b);
        if inbox.idle {
            inbox.idle = false;
            self.shared.work.notify_one();
        }
        Ok(())
    }

    /// Writes `b` on the calling thread when the writer thread is idle with nothing queued —
    /// a committer that would hand its group over and sleep until it is written writes it
    /// itself (leader/follower group commit), saving two cross-thread wake-ups. The outcome
    /// goes to the same queue as the thread's, after every earlier one. Gives `b` back when
    /// the thread is busy, batches wait, the writer stopped or `WAL_DELAY` holds it.
    pub fn write_here(&self, b: Batch) -> std::result::Result<(), Batch> {
        if !self.origin.is_here() {
            return Err(b);
        }
        let Ok(mut worker) = self.worker.try_lock() else {
            return Err(b); // the thread is writing a group
        };
        {
            let mut inbox = lock(&self.shared.inbox);
            if !inbox.batches.is_empty() || inbox.stop || self.shared.delay.load(Ordering::Relaxed)
            {
                return Err(b);
            }
            worker.rotate |= std::mem::take(&mut inbox.rotate);
            self.shared.busy.store(true, Ordering::Release);
        }
        let (epoch, first_lsn, last_lsn, bytes) = (b.epoch, b.first_lsn, b.last_lsn, b.bytes.len());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            worker.write_group(VecDeque::from([b]))
        }));
        drop(worker);
        if r.is_err() {
            // Its outcome was not sent: it fails, and so does everything after it.
            let failed = Done {
                epoch,
                first_lsn,
                last_lsn,
                bytes,
                outcome: Outcome::Failed("the WAL writer stopped on an internal error".into()),
            };
            finish(&self.shared, vec![failed]);
            stop_broken(&self.shared, "the WAL writer stopped on an internal error");
        }
        Ok(())
    }

    /// Makes the next batch start a new file, so that every file before it holds only
    /// records submitted before this call (which a snapshot then covers).
    pub fn rotate(&self) {
        lock(&self.shared.inbox).rotate = true;
    }

    /// Whether outcomes wait to be taken (one atomic load).
    pub fn has_done(&self) -> bool {
        self.shared.done_count.load(Ordering::Acquire) > 0
    }

    /// Takes the outcomes that arrived, in LSN order.
    pub fn take_done(&self) -> VecDeque<Done> {
        let mut done = lock(&self.shared.done);
        self.shared.done_count.store(0, Ordering::Release);
        std::mem::take(&mut *done)
    }

    /// Blocks until an outcome arrives or `timeout` passes.
    pub fn wait_done(&self, timeout: Duration) {
        let done = lock(&self.shared.done);
        if done.is_empty() {
            self.shared.engine_waiting.store(true, Ordering::SeqCst);
            let _ = self.shared.finished.wait_timeout(done, timeout);
            self.shared.engine_waiting.store(false, Ordering::SeqCst);
        }
    }

    pub fn state(&self) -> WriterState {
        *lock(&self.shared.state)
    }

    /// A file descriptor that becomes readable whenever commits settle (an eventfd, made on
    /// the first call; the writer owns it and closes it when it goes). A host's event loop
    /// polls it, reads its 8 bytes, then asks the tickets.
    pub fn settled_fd(&self) -> Result<i32> {
        let fd = self.shared.settled_fd.load(Ordering::Acquire);
        if fd >= 0 {
            return Ok(fd);
        }
        // SAFETY: eventfd takes no pointers; the result is checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::WalIo(format!(
                "cannot make the commit eventfd: {}",
                std::io::Error::last_os_error()
            )));
        }
        self.shared.settled_fd.store(fd, Ordering::Release);
        Ok(fd)
    }

    /// The file being written (None before the first write after open or a rotation).
    pub fn file(&self) -> Option<PathBuf> {
        lock(&self.shared.file).clone()
    }

    /// Whether the writer is writing a group now (what is submitted meanwhile waits for it).
    pub fn busy(&self) -> bool {
        self.shared.busy.load(Ordering::Acquire)
    }

    /// Error injection, copied from the engine thread's settings.
    pub fn inject(&self, delay: bool, fail_writes: bool) {
        self.shared
            .fail_writes
            .store(fail_writes, Ordering::Relaxed);
        if self.shared.delay.swap(delay, Ordering::Relaxed) != delay {
            self.wake();
        }
    }

    /// Wakes the writer (after `stop` or a change of error injection).
    fn wake(&self) {
        let _inbox = lock(&self.shared.inbox);
        self.shared.work.notify_one();
    }

    /// Writes what is queued (ignoring `WAL_DELAY`), stops and joins the thread. Only the
    /// first call does anything.
    pub fn stop(&mut self) {
        let Some(t) = self.thread.take() else { return };
        if !self.origin.is_here() {
            // A forked child: no thread to join, and its locks may never be released.
            std::mem::forget(t);
            return;
        }
        lock(&self.shared.inbox).stop = true;
        self.wake();
        let _ = t.join();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Worker {
    shared: Arc<Shared>,
    dir: PathBuf,
    mode: SyncMode,
    file: Option<(File, PathBuf)>,
    /// The file's length after its last successful write.
    good_len: u64,
    failed_epoch: Option<u64>,
    /// Close the current file before the next write.
    rotate: bool,
}

impl Worker {
    fn state(&self) -> WriterState {
        *lock(&self.shared.state)
    }

    fn set(&self, to: WriterState) -> bool {
        set_state(&self.shared, to)
    }

    fn write_group(&mut self, group: VecDeque<Batch>) {
        let mut out = Vec::with_capacity(group.len());
        // Batches of a failed epoch are cancelled; a later epoch starts afresh.
        let failed_epoch = self.failed_epoch;
        let live: Vec<&Batch> = group
            .iter()
            .filter(|b| failed_epoch.is_none_or(|e| b.epoch > e))
            .collect();
        let result = if live.is_empty() {
            Ok(())
        } else if self.state() == WriterState::Broken {
            Err(
                "the WAL is unusable since a failed write could not be undone; reopen the engine"
                    .into(),
            )
        } else {
            if self.set(WriterState::Writing) {
                self.write(&live)
            } else {
                Err("the WAL writer found itself in an unexpected state; reopen the engine".into())
            }
        };
        let failed = result.as_ref().err().cloned();
        for b in &group {
            let in_epoch = failed_epoch.is_none_or(|e| b.epoch > e);
            let outcome = match &failed {
                _ if !in_epoch => Outcome::Cancelled,
                Some(why) => Outcome::Failed(why.clone()),
                None => Outcome::Written,
            };
            out.push(Done {
                epoch: b.epoch,
                first_lsn: b.first_lsn,
                last_lsn: b.last_lsn,
                bytes: b.bytes.len(),
                outcome,
            });
        }
        // The whole group failed together; what comes later in its epoch is cancelled.
        if failed.is_some() {
            self.failed_epoch = group.iter().map(|b| b.epoch).max();
        } else if !live.is_empty() {
            self.failed_epoch = None;
        }
        if failed.is_some() {
            if self.state() != WriterState::Broken {
                self.undo_failed_write();
            }
        } else if self.state() == WriterState::Writing {
            self.set(WriterState::Idle);
        }
        self.finish(out);
    }

    /// Writes the live batches of a group with one write (and one sync).
    fn write(&mut self, live: &[&Batch]) -> std::result::Result<(), String> {
        if self.shared.fail_writes.load(Ordering::Relaxed) {
            return Err("write to the WAL failed (injected by WAL_WRITE)".into());
        }
        if std::mem::take(&mut self.rotate) {
            self.file = None;
        }
        if self.file.is_none() {
            let (f, p) =
                segment::create(&self.dir, live[0].first_lsn).map_err(|e| e.to_string())?;
            *lock(&self.shared.file) = Some(p.clone());
            self.file = Some((f, p));
            self.good_len = super::record::FILE_MAGIC.len() as u64;
        }
        let (f, path) = self.file.as_mut().expect("opened above");
        let mut all = Vec::new();
        if all
            .try_reserve(live.iter().map(|b| b.bytes.len()).sum())
            .is_err()
        {
            return Err("cannot allocate the WAL write buffer".into());
        }
        for b in live {
            all.extend_from_slice(&b.bytes);
        }
        // The engine frames records; their checksums are computed here, off its thread.
        super::record::checksum_records(&mut all).map_err(|e| e.to_string())?;
        f.write_all(&all)
            .and_then(|_| match self.mode {
                SyncMode::Fsync => f.sync_data(),
                SyncMode::Write => Ok(()),
            })
            .map_err(|e| format!("cannot write the WAL file '{}': {e}", path.display()))?;
        self.good_len += all.len() as u64;
        Ok(())
    }

    /// Cuts the file back to its last good length, so that records which are about to be
    /// rolled back can never be replayed; if that fails the log is broken.
    fn undo_failed_write(&mut self) {
        let cut = match &self.file {
            None => Ok(()),
            Some((f, _)) => f.set_len(self.good_len).and_then(|_| f.sync_data()),
        };
        match cut {
            Ok(()) => {
                self.set(WriterState::Failed);
            }
            Err(_) => {
                self.set(WriterState::Broken);
            }
        }
    }

    fn finish(&self, out: Vec<Done>) {
        finish(&self.shared, out);
    }
}

/// The thread: waits for batches, then writes all that wait as one group.
fn run(shared: &Shared, worker: &Mutex<Worker>) {
    loop {
        {
            let mut inbox = lock(&shared.inbox);
            loop {
                let stalled = shared.delay.load(Ordering::Relaxed) && !inbox.stop;
                if !inbox.batches.is_empty() && !stalled {
                    break;
                }
                if inbox.batches.is_empty() && inbox.stop {
                    set_state(shared, WriterState::Stopped);
                    return;
                }
                if stalled && *lock(&shared.state) == WriterState::Idle {
                    set_state(shared, WriterState::Stalled);
                }
                let timeout = Duration::from_millis(if stalled { 1 } else { 100 });
                inbox.idle = true;
                inbox = shared
                    .work
                    .wait_timeout(inbox, timeout)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                inbox.idle = false;
            }
        }
        // The worker before the batches: a committer writing its own group holds it, and
        // what it wrote precedes what waits here.
        let mut w = lock(worker);
        let group = {
            let mut inbox = lock(&shared.inbox);
            if inbox.batches.is_empty() {
                continue;
            }
            shared.busy.store(true, Ordering::Release);
            w.rotate |= std::mem::take(&mut inbox.rotate);
            std::mem::take(&mut inbox.batches)
        };
        w.write_group(group);
    }
}

/// Moves to `to` if that is a legal move; an illegal one breaks the log (reported through
/// every later outcome) instead of asserting.
fn set_state(shared: &Shared, to: WriterState) -> bool {
    let mut s = lock(&shared.state);
    if s.may_become(to) || *s == to {
        *s = to;
        true
    } else {
        *s = WriterState::Broken;
        false
    }
}

/// Sends a group's outcomes to the engine.
fn finish(shared: &Shared, out: Vec<Done>) {
    // Not busy before the outcomes show: whoever sees them may hand over the next group.
    shared.busy.store(false, Ordering::Release);
    let mut done = lock(&shared.done);
    let n = out.len() as u64;
    done.extend(out);
    shared.done_count.fetch_add(n, Ordering::Release);
    if shared.engine_waiting.load(Ordering::SeqCst) {
        shared.finished.notify_all();
    }
    let fd = shared.settled_fd.load(Ordering::Acquire);
    if fd >= 0 {
        let one = 1u64;
        // SAFETY: fd is the eventfd this Shared owns (closed only when it drops); the buffer
        // is 8 readable bytes. A full counter (EAGAIN) leaves it readable, which is all the
        // reader needs.
        unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let fd = *self.settled_fd.get_mut();
        if fd >= 0 {
            // SAFETY: the eventfd was made by settled_fd and nothing else closes it.
            unsafe { libc::close(fd) };
        }
    }
}

/// After a panic while writing: the log is broken, later submits are refused and everything
/// still queued fails.
fn stop_broken(shared: &Shared, why: &str) {
    *lock(&shared.state) = WriterState::Broken;
    let batches = {
        let mut inbox = lock(&shared.inbox);
        inbox.stop = true;
        std::mem::take(&mut inbox.batches)
    };
    let out = batches
        .into_iter()
        .map(|b| Done {
            epoch: b.epoch,
            first_lsn: b.first_lsn,
            last_lsn: b.last_lsn,
            bytes: b.bytes.len(),
            outcome: Outcome::Failed(why.into()),
        })
        .collect();
    finish(shared, out);
}

#[cfg(test)]
mod tests;
