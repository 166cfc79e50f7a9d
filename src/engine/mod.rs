//! The engine: spaces by name, the memory quota, statistics, the logger and its deferred
//! queue. Single-threaded: the C boundary makes sure only the owning thread gets here.

mod alter;
pub mod btree;
pub mod collation;
pub mod checkpoint;
pub mod durable;
pub mod func;
pub mod index;
pub mod iter;
pub mod key;
pub mod mvcc;
pub mod path;
mod open_txns;
mod recovery;
pub mod space;
pub mod tuple;
mod savepoint;
mod txn;
pub mod update;
pub mod value;

use crate::error::{Error, Result};
use crate::guard::{self, CallbackKind};
use crate::mem::Quota;
use crate::wal::ops::{LoggedField, LoggedIndex, Op};
use index::{Index, IndexKind};
use key::KeyPart;
use mvcc::Mvcc;
use space::{FormatField, Shared, Space};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;
pub const DEFAULT_MAX_TUPLE_SIZE: usize = 1 << 20;
const MAX_NAME: usize = 64;

pub const DEFAULT_WAL_QUEUE_MAX_SIZE: usize = 16 << 20;

/// What reaches the disk before a commit is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalMode {
    /// Nothing: the data lives in memory only (snapshots still work with a `dir`).
    None,
    /// Records are written (`write(2)`) before a commit completes: a process crash loses
    /// nothing acknowledged, a power loss may.
    Write,
    /// Records are written and synced (`fdatasync(2)`) before a commit completes.
    Fsync,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub memory_limit: usize,
    pub max_tuple_size: usize,
    /// Where the WAL (and snapshots) live; `None`: in memory only.
    pub dir: Option<std::path::PathBuf>,
    pub wal_mode: WalMode,
    /// Bytes of records handed to the WAL writer and not yet written; commits beyond wait
    /// in order (ticket state `queued`).
    pub wal_queue_max_size: usize,
    /// How long to wait for another engine (any process) to close `dir`; zero: refuse at once.
    pub lock_timeout: std::time::Duration,
    /// Open with the log up to the first damage; set the rest aside (see `wal::replay`).
    pub force_recovery: bool,
    /// Where messages go, recovery's included; `None`: warnings and errors to stderr.
    pub logger: Option<Logger>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_tuple_size: DEFAULT_MAX_TUPLE_SIZE,
            dir: None,
            wal_mode: WalMode::None,
            wal_queue_max_size: DEFAULT_WAL_QUEUE_MAX_SIZE,
            lock_timeout: std::time::Duration::ZERO,
            force_recovery: false,
            logger: None,
        }
    }
}

/// Identifies a space across drops: its slot and the uid it had when looked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceId {
    pub slot: u32,
    pub uid: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub hot_calls: u64,
    pub safe_calls: u64,
    pub reentry_refused: u64,
    pub callbacks_deferred: u64,
    pub callbacks_run: u64,
    pub callbacks_dropped: u64,
    pub callbacks_refused: u64,
}

/// Counters C and Lua read through a pointer, without a call.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Counters {
    /// Queued callbacks (log messages and buried versions): `jb_engine_pending`.
    pub pending: Cell<u64>,
    /// Where numbered commits stand: `jb_engine_commit_counters`.
    pub commits: CommitCounters,
}

/// Two numbers that settle most questions about a commit number without a call: every
/// commit up to `resolved` is committed or rolled back, and none above `rolled_back` was
/// rolled back. (C reads them as `uint64_t[2]`.)
#[derive(Debug, Default)]
#[repr(C)]
pub struct CommitCounters {
    pub resolved: Cell<u64>,
    pub rolled_back: Cell<u64>,
}

/// A log sink: a C function and its context, with the kind that says where it may run.
#[derive(Clone, Copy, Debug)]
pub struct Logger {
    pub func: unsafe extern "C" fn(*mut std::ffi::c_void, i32, *const std::ffi::c_char, usize),
    pub ctx: *mut std::ffi::c_void,
    pub kind: CallbackKind,
}

/// Counts changes to the engine's data (writes, deletes, drops). Readers holding copies of
/// tuples (batched iterators) compare it to know whether their copies may be stale.
pub type Changes = Rc<Cell<u64>>;

pub fn bump(changes: &Changes) {
    changes.set(changes.get() + 1);
}

pub struct Engine {
    quota: Rc<Quota>,
    changes: Changes,
    /// Versions and transactions; the spaces share it.
    mvcc: Rc<RefCell<Mvcc>>,
    options: Options,
    spaces: Vec<Option<Space>>,
    by_name: HashMap<String, u32>,
    next_uid: u64,
    pub stats: Stats,
    pub counters: Rc<Counters>,
    pub poisoned: Option<String>,
    /// HOT entries into this engine now on the stack (see `guard`).
    pub hot_depth: u32,
    logger: Option<Logger>,
    deferred: VecDeque<(i32, String, usize)>,
    /// Set while the quota refuses writes, so the warning is logged once per episode.
    memory_warned: bool,
    /// The deferred memory warning (one slot, needs no quota).
    memory_warning: Option<Cow<'static, str>>,
    /// The WAL, when the engine has a `dir` and a `wal_mode` other than none.
    wal: Option<durable::Wal>,
    /// Set while recovery replays the log (whose operations are not logged again).
    replaying: bool,
    /// Functional indexes recovery found whose key functions the host has not supplied yet.
    pub awaiting: Vec<recovery::AwaitingIndex>,
    /// What recovery found and did (also logged on open).
    pub recovery: recovery::Summary,
    /// Snapshots: the task, its runs and counters.
    checkpoints: checkpoint::Checkpoints,
    /// The process that opened the engine: in a forked child it refuses writes.
    origin: crate::fork::Origin,
    /// Ownership of `dir`; the last field, so it is released after everything else.
    dir_lock: Option<crate::wal::lock::DirLock>,
}

impl Engine {
    pub fn open(options: Options) -> Result<Engine> {
        if options.memory_limit < 4096 {
            return Err(Error::IllegalParams(format!(
                "memory_limit {} is too small; give at least 4096 bytes",
                options.memory_limit
            )));
        }
        if options.max_tuple_size < 16 || options.max_tuple_size > (1 << 30) {
            return Err(Error::IllegalParams(format!(
                "max_tuple_size {} is out of range; give 16 bytes to 1 GiB",
                options.max_tuple_size
            )));
        }
        let quota = Rc::new(Quota::new(options.memory_limit));
        let logger = options.logger;
        let mut engine = Engine {
            quota: quota.clone(),
            changes: Rc::new(Cell::new(0)),
            mvcc: Rc::new(RefCell::new(Mvcc::new(quota))),
            options,
            spaces: Vec::new(),
            by_name: HashMap::new(),
            next_uid: 1,
            stats: Stats::default(),
            counters: Rc::default(),
            poisoned: None,
            hot_depth: 0,
            logger,
            deferred: VecDeque::new(),
            memory_warned: false,
            memory_warning: None,
            wal: None,
            replaying: false,
            awaiting: Vec::new(),
            recovery: recovery::Summary::default(),
            checkpoints: checkpoint::Checkpoints::default(),
            origin: crate::fork::Origin::here(),
            dir_lock: None,
        };
        engine.recover()?;
        Ok(engine)
    }

    pub fn quota(&self) -> &Rc<Quota> {
        &self.quota
    }

    pub fn changes(&self) -> &Changes {
        &self.changes
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn uid(&mut self) -> u64 {
        self.next_uid += 1;
        self.next_uid
    }

    pub fn check_writable(&self) -> Result<()> {
        self.origin.check("the engine")?;
        match &self.poisoned {
            Some(why) => Err(Error::Poisoned(format!(
                "engine refuses writes after an internal error ({why}); reads still work, \
                 reopen the engine to write again"
            ))),
            None => Ok(()),
        }
    }

    pub fn create_space(&mut self, name: &str, format: Vec<FormatField>) -> Result<SpaceId> {
        check_name(name, "space")?;
        if self.by_name.contains_key(name) {
            return Err(Error::Exists(format!("space '{name}' already exists")));
        }
        let uid = self.uid();
        let slot = match self.spaces.iter().position(Option::is_none) {
            Some(s) => s,
            None => {
                self.spaces
                    .try_reserve(1)
                    .map_err(|_| Error::memory("a space", 64, 0, 0))?;
                self.spaces.push(None);
                self.spaces.len() - 1
            }
        };
        self.by_name
            .try_reserve(1)
            .map_err(|_| Error::memory("a space", 64, 0, 0))?;
        let id = SpaceId {
            slot: slot as u32,
            uid,
        };
        let shared = Shared {
            quota: self.quota.clone(),
            changes: self.changes.clone(),
            mvcc: self.mvcc.clone(),
            max_tuple_size: self.options.max_tuple_size,
        };
        let logged = Op::CreateSpace {
            space: name,
            format: format
                .iter()
                .map(LoggedField::from)
                .collect(),
        };
        self.log_ddl(&logged)?;
        let space = Space::new(name.to_owned(), id, format, shared);
        self.spaces[slot] = Some(space);
        self.by_name.insert(name.to_owned(), slot as u32);
        self.log(2, &format!("created space '{name}'"));
        Ok(id)
    }

    pub fn find_space(&self, name: &str) -> Result<SpaceId> {
        let slot = *self.by_name.get(name).ok_or_else(|| {
            Error::NoSuchSpace(format!(
                "no space named '{name}'; create it with create_space"
            ))
        })?;
        let uid = self.spaces[slot as usize].as_ref().map_or(0, |s| s.uid);
        Ok(SpaceId { slot, uid })
    }

    pub fn space(&self, id: SpaceId) -> Result<&Space> {
        match self.spaces.get(id.slot as usize) {
            Some(Some(s)) if s.uid == id.uid => Ok(s),
            _ => Err(dropped("space")),
        }
    }

    pub fn space_mut(&mut self, id: SpaceId) -> Result<&mut Space> {
        match self.spaces.get_mut(id.slot as usize) {
            Some(Some(s)) if s.uid == id.uid => Ok(s),
            _ => Err(dropped("space")),
        }
    }

    pub fn drop_space(&mut self, id: SpaceId) -> Result<Space> {
        self.space(id)?;
        self.ready_for_ddl("drop a space")?;
        let name = self.space(id)?.name.clone();
        self.log_ddl(&Op::DropSpace { space: &name })?;
        self.awaiting.retain(|a| a.space != name);
        let space = self.spaces[id.slot as usize].take().expect("checked above");
        bump(&self.changes);
        self.by_name.remove(&space.name);
        self.log(2, &format!("dropped space '{}'", space.name));
        Ok(space)
    }

    pub fn spaces(&self) -> impl Iterator<Item = &Space> {
        self.spaces.iter().flatten()
    }

    pub fn spaces_mut(&mut self) -> impl Iterator<Item = &mut Space> {
        self.spaces.iter_mut().flatten()
    }

    /// Creates an index; returns its position in the space and its uid.
    pub fn create_index(
        &mut self,
        id: SpaceId,
        name: &str,
        parts: Vec<KeyPart>,
        unique: bool,
    ) -> Result<(usize, u64)> {
        self.create_index_of(id, name, parts, unique, IndexKind::Tree)
    }

    /// Creates an index of `kind` (a HASH one is unique and has no nullable parts).
    pub fn create_index_of(
        &mut self,
        id: SpaceId,
        name: &str,
        parts: Vec<KeyPart>,
        unique: bool,
        kind: IndexKind,
    ) -> Result<(usize, u64)> {
        if kind == IndexKind::Hash {
            let sp = self.space(id)?;
            if !unique {
                return Err(Error::IllegalParams(format!(
                    "HASH index '{name}' of space '{}' must be unique; a TREE index need not be",
                    sp.name
                )));
            }
            if parts.iter().any(|p| p.nullable) {
                return Err(Error::IllegalParams(format!(
                    "HASH index '{name}' of space '{}' cannot have nullable parts",
                    sp.name
                )));
            }
        }
        let logged = LoggedIndex {
            space: &self.space(id)?.name.clone(),
            name,
            unique,
            hash: kind == IndexKind::Hash,
            func: None,
            multikey: false,
            parts: parts
                .iter()
                .map(|p| (p.fieldno, p.ty.into(), p.nullable, p.collation.code(), false))
                .collect(),
            paths: Vec::new(),
        };
        let r = self.add_index(id, name, parts.len(), "index", |sp, name, uid| {
            let pos = sp.add_index(name, uid, parts, unique)?;
            sp.indexes[pos].kind = kind;
            Ok(pos)
        })?;
        self.log_index(id, &logged, r)
    }

    /// Logs a created index; when that fails, the index goes again.
    fn log_index(
        &mut self,
        id: SpaceId,
        ix: &LoggedIndex,
        r: (usize, u64),
    ) -> Result<(usize, u64)> {
        if let Err(e) = self.log_ddl(&Op::CreateIndex(ix.clone())) {
            let _ = self.space_mut(id)?.drop_index(r.0);
            return Err(e);
        }
        Ok(r)
    }

    /// Drops index `name` of space `id`, logged.
    pub fn drop_index(&mut self, id: SpaceId, name: &str) -> Result<Index> {
        let sp = self.space(id)?;
        let pos = sp.index_pos(name).ok_or_else(|| {
            Error::NoSuchIndex(format!("no index named '{name}' in space '{}'", sp.name))
        })?;
        self.ready_for_ddl("drop an index")?;
        let space = self.space(id)?.name.clone();
        self.space(id)?.check_drop_index(pos)?;
        self.log_ddl(&Op::DropIndex {
            space: &space,
            index: name,
        })?;
        self.space_mut(id)?.drop_index(pos)
    }

    /// Creates a functional index (see `func`); returns its position and uid.
    pub fn create_func_index(
        &mut self,
        id: SpaceId,
        name: &str,
        types: Vec<key::FieldType>,
        unique: bool,
        kf: func::KeyFn,
    ) -> Result<(usize, u64)> {
        let space = self.space(id)?.name.clone();
        let fname = recovery::func_name(&space, name);
        let logged = LoggedIndex {
            space: &space,
            name,
            unique,
            hash: false,
            func: Some(&fname),
            multikey: kf.multikey,
            parts: types.iter().map(|&t| (0, t.into(), false, 0, false)).collect(),
            paths: Vec::new(),
        };
        let recovered = self.take_awaiting(&logged)?;
        let parts = types.iter().map(|&t| KeyPart::new(0, t)).collect();
        let r = self.add_index(
            id,
            name,
            types.len(),
            "functional index",
            |sp, name, uid| sp.add_func_index(name, uid, parts, unique, kf),
        )?;
        if recovered {
            self.awaited(&space, name);
            return Ok(r);
        }
        self.log_index(id, &logged, r)
    }

    /// Creates an index with JSON-path or `exclude_null` parts: a functional index with the
    /// engine's key function (see `path`).
    pub fn create_path_index(
        &mut self,
        id: SpaceId,
        name: &str,
        parts: &[path::PartSpec],
        unique: bool,
    ) -> Result<(usize, u64)> {
        let bad = |i: usize, e: Error| match e {
            Error::IllegalParams(m) => {
                Error::IllegalParams(format!("index '{name}' part {}: {m}", i + 1))
            }
            e => e,
        };
        let mut pparts = Vec::with_capacity(parts.len());
        for (i, spec) in parts.iter().enumerate() {
            let path = match spec.path {
                "" => None,
                t => Some(path::Path::parse(t).map_err(|e| bad(i, e))?),
            };
            if spec.exclude_null && !spec.part.nullable {
                return Err(Error::IllegalParams(format!(
                    "index '{name}' part {}: exclude_null needs is_nullable",
                    i + 1
                )));
            }
            pparts.push(path::PathPart {
                fieldno: spec.part.fieldno,
                path,
                part: spec.part,
                exclude_null: spec.exclude_null,
            });
        }
        let keys = path::PathKeys::new(pparts, name)?;
        let sp = self.space(id)?;
        sp.check_paths_fit(&keys, &sp.format, name)?;
        if sp.indexes.is_empty() {
            return Err(Error::IllegalParams(format!(
                "index '{name}' of space '{}' cannot have a JSON path or exclude_null: it would \
                 be the primary key, which keys every tuple by whole fields",
                sp.name
            )));
        }
        let texts: Vec<String> = keys
            .parts
            .iter()
            .map(|p| p.path.as_ref().map_or(String::new(), |x| x.text.clone()))
            .collect();
        let space = sp.name.clone();
        let kf = func::KeyFn::paths(keys);
        let logged = LoggedIndex {
            space: &space,
            name,
            unique,
            hash: false,
            func: None,
            multikey: kf.multikey,
            parts: parts
                .iter()
                .map(|s| {
                    let p = s.part;
                    (p.fieldno, p.ty.into(), p.nullable, p.collation.code(), s.exclude_null)
                })
                .collect(),
            paths: texts.iter().map(String::as_str).collect(),
        };
        let kparts = parts.iter().map(|s| s.part).collect();
        let r = self.add_index(id, name, parts.len(), "index", |sp, name, uid| {
            sp.add_func_index(name, uid, kparts, unique, kf)
        })?;
        self.log_index(id, &logged, r)
    }

    /// What creating any index takes: a valid name and part count, no open transaction, a
    /// uid, and `add` on the space.
    fn add_index(
        &mut self,
        id: SpaceId,
        name: &str,
        nparts: usize,
        what: &str,
        add: impl FnOnce(&mut Space, String, u64) -> Result<usize>,
    ) -> Result<(usize, u64)> {
        check_name(name, "index")?;
        if nparts == 0 || nparts > key::MAX_PARTS {
            return Err(Error::IllegalParams(format!(
                "index '{name}' needs 1 to {} parts, got {nparts}",
                key::MAX_PARTS,
            )));
        }
        self.space(id)?;
        self.ready_for_ddl("create an index")?;
        let uid = self.uid();
        let space = self.space_mut(id)?;
        let pos = add(space, name.to_owned(), uid)?;
        let sname = space.name.clone();
        self.log(2, &format!("created {what} '{name}' of space '{sname}'"));
        Ok((pos, uid))
    }

    /// Reports a refused write (for the once-per-episode memory warning). The warning is
    /// delivered even when the quota is exhausted: it has its own slot, not a queue entry.
    pub fn note_result<T>(&mut self, r: &Result<T>) {
        match r {
            Err(Error::Memory(msg)) if !self.memory_warned => {
                self.memory_warned = true;
                let Some(logger) = self.logger else {
                    to_stderr(1, &format!("writes are failing for lack of memory: {msg}"));
                    return;
                };
                let mut text = String::new();
                let prefix = "writes are failing for lack of memory: ";
                let msg: Cow<'static, str> = if text
                    .try_reserve_exact(prefix.len() + msg.len())
                    .is_ok()
                {
                    text.push_str(prefix);
                    text.push_str(msg);
                    Cow::Owned(text)
                } else {
                    Cow::Borrowed("writes are failing for lack of memory (memory_limit reached)")
                };
                if logger.kind == CallbackKind::Lua && !self.may_run_lua() {
                    self.memory_warning = Some(msg);
                    self.stats.callbacks_deferred += 1;
                } else {
                    self.stats.callbacks_run += 1;
                    self.call_logger(logger, 1, &msg);
                }
            }
            Err(Error::Reentry(_)) => self.stats.callbacks_refused += 1,
            Ok(_) if self.memory_warned => self.memory_warned = false,
            _ => {}
        }
    }

    /// How many tuples of space `id` transaction `txn` sees (`None`: the latest committed
    /// state); see `Space::len_in`.
    pub fn space_len(&self, id: SpaceId, txn: Option<mvcc::TxnId>) -> Result<usize> {
        let view = self.mvcc().view(txn)?;
        Ok(self.space(id)?.len_in(&view))
    }

    /// How many tuples the latest committed state holds, in every space.
    pub fn tuple_count(&self) -> u64 {
        self.spaces().map(|s| s.len() as u64).sum()
    }

    /// Sets the log sink (`None`: warnings and errors to stderr).
    pub fn set_logger(&mut self, logger: Option<Logger>) {
        self.logger = logger;
    }

    /// Queued callbacks: log messages and buried versions.
    pub fn pending(&self) -> usize {
        self.deferred.len() + self.memory_warning.is_some() as usize + self.mvcc().buried_count()
    }

    /// Brings the pending counter up to date (after anything that queues or runs callbacks).
    pub fn refresh_pending(&self) {
        self.counters.pending.set(self.pending() as u64);
    }

    /// Delivers a message: at once when the logger may run here, else queued for a SAFE entry.
    pub fn log(&mut self, level: i32, msg: &str) {
        let Some(logger) = self.logger else {
            to_stderr(level, msg);
            return;
        };
        if logger.kind == CallbackKind::Lua && !self.may_run_lua() {
            // Never run Lua under a HOT entry: queue it, charged to the quota.
            let size = msg.len() + 32;
            let mut text = String::new();
            if self.quota.charge(size, "a deferred log message").is_err()
                || text.try_reserve_exact(msg.len()).is_err()
            {
                self.stats.callbacks_dropped += 1;
                return;
            }
            text.push_str(msg);
            if self.deferred.try_reserve(1).is_err() {
                self.quota.release(size);
                self.stats.callbacks_dropped += 1;
                return;
            }
            self.deferred.push_back((level, text, size));
            self.stats.callbacks_deferred += 1;
            self.refresh_pending();
            return;
        }
        self.stats.callbacks_run += 1;
        self.call_logger(logger, level, msg);
    }

    /// Whether a `JB_CB_LUA` callback may run now (see `guard`).
    pub fn may_run_lua(&self) -> bool {
        self.hot_depth == 0 && !guard::in_hot_callback()
    }

    fn call_logger(&self, logger: Logger, level: i32, msg: &str) {
        guard::invoke_callback(self.hot_depth > 0, || call_logger(logger, level, msg))
    }

    /// Runs up to `max` queued callbacks (0 = all, and then collects every old version no
    /// view sees): log messages, then the key functions of buried versions. SAFE entries only.
    pub fn run_deferred(&mut self, max: usize) -> usize {
        let all = max == 0;
        let max = if all { usize::MAX } else { max };
        let ran = self.run_deferred_logs(max);
        let ran = ran + self.unbury(max - ran);
        if all {
            // Everything pending: also every old version nobody sees, key functions and all.
            while self.collect(usize::MAX, true) > 0 {}
            self.refresh_pending();
        }
        ran
    }

    fn run_deferred_logs(&mut self, max: usize) -> usize {
        let mut ran = 0;
        if let Some(msg) = self.memory_warning.take() {
            if let Some(logger) = self.logger {
                self.stats.callbacks_run += 1;
                self.call_logger(logger, 1, &msg);
            }
            ran += 1;
        }
        while ran < max {
            let Some((level, msg, size)) = self.deferred.pop_front() else {
                break;
            };
            self.quota.release(size);
            if let Some(logger) = self.logger {
                self.stats.callbacks_run += 1;
                self.call_logger(logger, level, &msg);
            }
            ran += 1;
        }
        ran
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if !self.origin.is_here() {
            // A forked child: the snapshot thread is not here to join (its pins go with the
            // copy of the memory); the WAL writer leaves its threads alone likewise.
            self.abandon_snapshot();
        }
        // A running snapshot reads pinned tuples: it ends before anything is freed.
        self.finish_snapshot();
        for (_, _, size) in self.deferred.drain(..) {
            self.quota.release(size);
        }
    }
}

/// Without a logger, warnings and errors still reach the user.
fn to_stderr(level: i32, msg: &str) {
    use std::io::Write;
    let what = match level {
        0 => "error",
        1 => "warning",
        _ => return,
    };
    let _ = writeln!(std::io::stderr().lock(), "jitbox: {what}: {msg}");
}

fn call_logger(logger: Logger, level: i32, msg: &str) {
    // SAFETY: the registrant promised that func is callable with ctx while registered
    // (jb_engine_set_logger's contract); msg is valid for the call.
    unsafe {
        (logger.func)(
            logger.ctx,
            level,
            msg.as_ptr() as *const std::ffi::c_char,
            msg.len(),
        )
    }
}

fn dropped(what: &str) -> Error {
    Error::BadHandle(format!("the {what} was dropped; look it up again"))
}

fn check_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME || name.bytes().any(|b| b == 0) {
        return Err(Error::IllegalParams(format!(
            "{what} name '{}' is invalid: give 1 to {MAX_NAME} bytes without NUL",
            name.escape_default()
        )));
    }
    Ok(())
}
