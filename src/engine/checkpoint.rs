//! Snapshots from the engine's side: a read view taken on the engine thread, written by a
//! background thread while writes go on, with a state machine and tickets.
//!
//! Taking the view: every commit in flight reaches the WAL first (so the view is exactly the
//! state at one LSN), the WAL writer is told to start a new file, and the committed tuples of
//! every space are pinned — a reference each, so neither a later write nor dropping the space
//! frees them — and their addresses handed to the thread with each space's definition. The
//! thread reads tuple bytes only. Its outcome is taken on the engine thread (pull-style: a
//! ticket's state or wait, writes, polls); then the pins go and old files are gone.
//!
//! A request while a snapshot runs joins it (one run, one outcome for all its tickets).

use super::Engine;
use super::index::IndexKind;
use super::recovery::func_name;
use super::tuple::TuplePtr;
use crate::error::{Error, Result};
use crate::mem::errinj;
use crate::wal::ops::{self, LoggedField, LoggedIndex, Op};
use crate::wal::snapshot::{self, Control, Image, SpaceImage};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

pub type RunId = u64;

/// The snapshot task's named states; `may_become` says which moves are legal, and any other
/// is reported as an error, never asserted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaskState {
    #[default]
    Idle,
    /// Taking the read view (engine thread).
    Collecting,
    /// The background thread writes the file.
    Writing,
    /// Taking the outcome and releasing the view (engine thread).
    Finishing,
}

impl TaskState {
    pub fn name(self) -> &'static str {
        match self {
            TaskState::Idle => "idle",
            TaskState::Collecting => "collecting",
            TaskState::Writing => "writing",
            TaskState::Finishing => "finishing",
        }
    }

    fn may_become(self, to: TaskState) -> bool {
        use TaskState::*;
        matches!(
            (self, to),
            (Idle, Collecting)
                | (Collecting, Writing | Idle)
                | (Writing, Finishing)
                | (Finishing, Idle)
        )
    }
}

/// What a snapshot request (a ticket) learns.
#[derive(Clone, Debug)]
pub enum RunState {
    InProgress,
    Done,
    Failed(Error),
}

#[derive(Clone, Copy, Debug, Default)]
pub struct SnapshotStats {
    pub done: u64,
    pub failed: u64,
    /// The LSN of the newest snapshot written (or recovered).
    pub lsn: u64,
    pub running: bool,
}

type Outcome = (Image, Result<PathBuf>);

struct Running {
    run: RunId,
    thread: JoinHandle<Outcome>,
    ctl: Arc<Control>,
    finished: Arc<AtomicBool>,
    charged: usize,
    started: Instant,
}

#[derive(Default)]
pub struct Checkpoints {
    state: TaskState,
    running: Option<Running>,
    next_run: RunId,
    /// Outcomes by run, with how many requests still hold each.
    runs: HashMap<RunId, (RunState, u32)>,
    /// The highest LSN known: of the log, or of a snapshot (without a WAL each snapshot
    /// takes the next one).
    pub last_lsn: u64,
    pub stats: SnapshotStats,
}

impl Checkpoints {
    fn set(&mut self, to: TaskState) -> Result<()> {
        let from = self.state;
        if !from.may_become(to) {
            return Err(Error::Busy(format!(
                "the snapshot task cannot go from '{}' to '{}'; try again once it is idle",
                from.name(),
                to.name()
            )));
        }
        self.state = to;
        self.stats.running = to != TaskState::Idle;
        Ok(())
    }
}

impl Engine {
    /// Starts a snapshot, or joins the one running; returns its run (released with
    /// `snapshot_release`). Fails, changing nothing, without a `dir` or on lack of memory.
    pub fn snapshot_start(&mut self) -> Result<RunId> {
        self.poll_snapshot();
        let Some(dir) = self.options.dir.clone() else {
            return Err(Error::IllegalParams(
                "snapshots need a directory: open the engine with dir = ...".into(),
            ));
        };
        let cp = &mut self.checkpoints;
        cp.runs
            .try_reserve(1)
            .map_err(|_| Error::memory("a snapshot request", 64, 0, 0))?;
        if let Some(r) = &cp.running {
            let run = r.run;
            if let Some(entry) = cp.runs.get_mut(&run) {
                entry.1 += 1;
            }
            return Ok(run);
        }
        cp.set(TaskState::Collecting)?;
        let r = self
            .take_view()
            .and_then(|(image, charged)| self.spawn_writer(dir, image, charged));
        let cp = &mut self.checkpoints;
        match r {
            Ok(running) => {
                let run = running.run;
                cp.running = Some(running);
                cp.set(TaskState::Writing)?;
                cp.runs.insert(run, (RunState::InProgress, 1));
                Ok(run)
            }
            Err(e) => {
                cp.set(TaskState::Idle)?;
                Err(e)
            }
        }
    }

    /// The read view: the WAL flushed and rotated, every space's definition and pinned
    /// committed tuples. Returns it with the bytes charged for it.
    fn take_view(&mut self) -> Result<(Image, usize)> {
        self.flush_wal();
        let lsn = match &self.wal {
            Some(w) => w.next_lsn - 1,
            None => self.checkpoints.last_lsn + 1,
        };
        let view = self.view(None)?;
        let mut charged = 0;
        let mut image = Image {
            lsn,
            spaces: Vec::new(),
            buf: Vec::new(),
        };
        let r = (|| {
            let mut largest = 0;
            let n = self.spaces().count();
            self.charge_view(&mut charged, n * size_of::<SpaceImage>())?;
            image
                .spaces
                .try_reserve_exact(n)
                .map_err(|_| view_memory())?;
            for sp in self.spaces() {
                let schema = self.schema_of(sp)?;
                let pk = sp.indexes.first();
                let cap = pk.map_or(0, |pk| pk.len());
                self.charge_view(
                    &mut charged,
                    cap * size_of::<snapshot::Pinned>() + schema.len(),
                )?;
                let mut tuples = Vec::new();
                tuples.try_reserve_exact(cap).map_err(|_| view_memory())?;
                let mvcc = self.mvcc();
                let _ = pk.map(|pk| {
                    pk.try_for_each(|t| {
                        if mvcc.visible(&view, t) && tuples.len() < cap {
                            let p = t.pin();
                            largest = largest.max(p.len as usize + sp.name.len());
                            tuples.push(p);
                        }
                        Ok::<(), ()>(())
                    })
                });
                image.spaces.push(SpaceImage {
                    name: sp.name.clone(),
                    schema,
                    tuples,
                });
            }
            let buf = snapshot::CHUNK + largest + snapshot::REPLACE_OVERHEAD;
            self.charge_view(&mut charged, buf)?;
            image.buf.try_reserve_exact(buf).map_err(|_| view_memory())
        })();
        if let Err(e) = r {
            self.release_view(image, charged);
            return Err(e);
        }
        if let Some(w) = &self.wal {
            w.writer.rotate();
        }
        Ok((image, charged))
    }

    fn charge_view(&self, charged: &mut usize, bytes: usize) -> Result<()> {
        self.quota.charge(bytes, "a snapshot's read view")?;
        *charged += bytes;
        Ok(())
    }

    /// A space's definition as operations: the space, then its indexes (functional ones,
    /// also those still awaiting their key function, by the name it is supplied under).
    fn schema_of(&self, sp: &super::space::Space) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let format = sp
            .format
            .iter()
            .map(LoggedField::from)
            .collect();
        ops::encode(
            &Op::CreateSpace {
                space: &sp.name,
                format,
            },
            &mut out,
        )?;
        for ix in &sp.indexes {
            let fname = func_name(&sp.name, &ix.name);
            let paths = ix.func.as_ref().and_then(|f| f.path_keys());
            let user_fn = ix.func.as_ref().is_some_and(|f| f.takes_keys());
            let logged = LoggedIndex {
                space: &sp.name,
                name: &ix.name,
                unique: ix.unique,
                hash: ix.kind == IndexKind::Hash,
                func: user_fn.then_some(fname.as_str()),
                multikey: ix.func.as_ref().is_some_and(|f| f.multikey),
                parts: ix
                    .def
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let fieldno = match (paths, user_fn) {
                            (Some(k), _) => k.parts[i].fieldno,
                            (None, true) => 0,
                            (None, false) => p.fieldno,
                        };
                        let exclude = paths.is_some_and(|k| k.parts[i].exclude_null);
                        (fieldno, p.ty.into(), p.nullable, p.collation.code(), exclude)
                    })
                    .collect(),
                paths: paths.map_or(Vec::new(), |k| {
                    k.parts
                        .iter()
                        .map(|p| p.path.as_ref().map_or("", |x| x.text.as_str()))
                        .collect()
                }),
            };
            ops::encode(&Op::CreateIndex(logged), &mut out)?;
        }
        for a in self.awaiting.iter().filter(|a| a.space == sp.name) {
            let fname = a.func_name();
            let logged = LoggedIndex {
                space: &a.space,
                name: &a.name,
                unique: a.unique,
                hash: false,
                func: Some(&fname),
                multikey: a.multikey,
                parts: a.types.iter().map(|&t| (0, t.into(), false, 0, false)).collect(),
                paths: Vec::new(),
            };
            ops::encode(&Op::CreateIndex(logged), &mut out)?;
        }
        Ok(out)
    }

    fn spawn_writer(&mut self, dir: PathBuf, mut image: Image, charged: usize) -> Result<Running> {
        let ctl = Arc::new(Control::default());
        ctl.delay.store(errinj::snapshot_delay(), Ordering::Relaxed);
        ctl.fail
            .store(errinj::snapshot_io_fails(), Ordering::Relaxed);
        let finished = Arc::new(AtomicBool::new(false));
        let (c, f) = (ctl.clone(), finished.clone());
        // The image travels through an Option so that a failed spawn gives it back.
        let slot = Arc::new(std::sync::Mutex::new(None));
        let back = slot.clone();
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(image);
        let spawned = std::thread::Builder::new()
            .name("jitbox-snapshot".into())
            .spawn(move || {
                let mut image = back
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .expect("the image is handed over before the thread starts");
                let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    snapshot::write(&dir, &mut image, &c)
                }))
                .unwrap_or_else(|_| {
                    Err(Error::WalIo(
                        "the snapshot thread stopped on an internal error".into(),
                    ))
                });
                f.store(true, Ordering::Release);
                (image, r)
            });
        match spawned {
            Ok(thread) => {
                let cp = &mut self.checkpoints;
                cp.next_run += 1;
                Ok(Running {
                    run: cp.next_run,
                    thread,
                    ctl,
                    finished,
                    charged,
                    started: Instant::now(),
                })
            }
            Err(e) => {
                image = slot
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .expect("the thread never started");
                self.release_view(image, charged);
                Err(Error::WalIo(format!(
                    "cannot start the snapshot thread: {e}"
                )))
            }
        }
    }

    /// Unpins the view's tuples and releases its charge (engine thread).
    fn release_view(&mut self, image: Image, charged: usize) {
        for sp in &image.spaces {
            for &p in &sp.tuples {
                TuplePtr::unpin(p, &self.quota);
            }
        }
        drop(image);
        self.quota.release(charged);
    }

    /// Takes the outcome of a finished snapshot (cheap when none runs); passes this thread's
    /// error injection on to a running one.
    pub fn poll_snapshot(&mut self) {
        let Some(r) = &self.checkpoints.running else {
            return;
        };
        r.ctl
            .delay
            .store(errinj::snapshot_delay(), Ordering::Relaxed);
        r.ctl
            .fail
            .store(errinj::snapshot_io_fails(), Ordering::Relaxed);
        if r.finished.load(Ordering::Acquire) {
            self.finish_snapshot();
        }
    }

    /// Lets go of a running snapshot without waiting for it: in a forked child its thread is
    /// not there to join.
    pub(super) fn abandon_snapshot(&mut self) {
        std::mem::forget(self.checkpoints.running.take());
    }

    /// Waits for the running snapshot (if any; an injected `SNAPSHOT_DELAY` ends) and takes
    /// its outcome.
    pub fn finish_snapshot(&mut self) {
        let Some(r) = self.checkpoints.running.take() else {
            return;
        };
        let _ = self.checkpoints.set(TaskState::Finishing);
        // Whoever waits ends an injected delay: closing (or a drop while unwinding) never hangs.
        r.ctl.delay.store(false, Ordering::Relaxed);
        let (lsn, result) = match r.thread.join() {
            Ok((image, result)) => {
                let lsn = image.lsn;
                self.release_view(image, r.charged);
                (lsn, result)
            }
            // The thread catches its panics, so this is not expected; without the image its
            // pins cannot be released (memory stays retained), but nothing is unsound.
            Err(_) => (
                0,
                Err(Error::WalIo(
                    "the snapshot thread ended abnormally; its read view stays in memory".into(),
                )),
            ),
        };
        let ms = r.started.elapsed().as_millis();
        let cp = &mut self.checkpoints;
        let state = match result {
            Ok(_) => {
                cp.stats.done += 1;
                cp.stats.lsn = lsn;
                cp.last_lsn = cp.last_lsn.max(lsn);
                RunState::Done
            }
            Err(e) => {
                cp.stats.failed += 1;
                RunState::Failed(e)
            }
        };
        let _ = cp.set(TaskState::Idle);
        let (level, msg) = match &state {
            RunState::Failed(e) => (
                1,
                format!("snapshot at LSN {lsn} failed after {ms} ms: {e}"),
            ),
            _ => (2, format!("snapshot at LSN {lsn} written in {ms} ms")),
        };
        match cp.runs.get_mut(&r.run) {
            Some(entry) if entry.1 > 0 => entry.0 = state,
            _ => {
                cp.runs.remove(&r.run);
            }
        }
        self.log(level, &msg);
    }

    /// Where run `run` is.
    pub fn snapshot_state(&mut self, run: RunId) -> Result<RunState> {
        self.poll_snapshot();
        self.checkpoints
            .runs
            .get(&run)
            .map(|e| e.0.clone())
            .ok_or_else(|| Error::BadHandle(format!("snapshot {run} is not known to this engine")))
    }

    /// Blocks until run `run` is done (Ok) or failed (its error).
    pub fn snapshot_wait(&mut self, run: RunId) -> Result<()> {
        if let RunState::InProgress = self.snapshot_state(run)? {
            self.finish_snapshot();
        }
        match self.snapshot_state(run)? {
            RunState::Done => Ok(()),
            RunState::Failed(e) => Err(e),
            RunState::InProgress => Err(Error::Busy(format!(
                "snapshot {run} is still in progress after its thread was joined"
            ))),
        }
    }

    /// A request for run `run` is no longer held (its ticket was freed).
    pub fn snapshot_release(&mut self, run: RunId) {
        let cp = &mut self.checkpoints;
        let running = cp.running.as_ref().map(|r| r.run) == Some(run);
        if let Some(entry) = cp.runs.get_mut(&run) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 && !running {
                cp.runs.remove(&run);
            }
        }
    }

    pub fn snapshot_stats(&self) -> SnapshotStats {
        self.checkpoints.stats
    }

    /// Closing: a running snapshot is waited for. Returns what happened, for the log.
    pub fn shut_down_snapshot(&mut self) -> Option<String> {
        self.checkpoints.running.as_ref()?;
        let failed = self.checkpoints.stats.failed;
        self.finish_snapshot();
        let outcome = if self.checkpoints.stats.failed > failed {
            "failed"
        } else {
            "was written"
        };
        Some(format!("closed: a snapshot in progress {outcome}"))
    }

    /// Takes a snapshot and waits for it.
    pub fn snapshot(&mut self) -> Result<()> {
        let run = self.snapshot_start()?;
        let r = self.snapshot_wait(run);
        self.snapshot_release(run);
        r
    }
}

fn view_memory() -> Error {
    Error::Memory(
        "cannot allocate a snapshot's read view; free memory or raise memory_limit".into(),
    )
}
