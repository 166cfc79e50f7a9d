//! Which process an object was made in. A forked child inherits a copy of the parent's memory
//! but none of its threads: an engine opened before `fork()` has no WAL writer or snapshot
//! thread in the child, and its mutexes may be frozen locked. Everything that owns such a
//! thread records the process it was made in (`Origin`) and, in another process, refuses to
//! work and leaves the threads and files alone.
//!
//! A process is told apart by a counter a `pthread_atfork` child handler bumps, not by
//! `getpid()` (a system call; the check sits on every HOT entry and costs one load).

use crate::error::{Error, Result};
use std::sync::Once;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};

/// Bumped in every child right after `fork()`.
static FORKS: AtomicU64 = AtomicU64::new(0);
static HANDLER: Once = Once::new();
/// Descriptors a child closes right after `fork()` (-1: a free slot): those of directory
/// locks, so that a child never keeps its parent's directory locked after the parent ends.
static CLOSE_IN_CHILD: [AtomicI32; 64] = [const { AtomicI32::new(-1) }; 64];

extern "C" fn in_child() {
    // Async-signal-safe: atomics and close(2).
    FORKS.fetch_add(1, Ordering::Relaxed);
    for slot in &CLOSE_IN_CHILD {
        let fd = slot.swap(-1, Ordering::Relaxed);
        if fd >= 0 {
            // SAFETY: fd was registered by its owner, which stops using it in a child.
            unsafe { libc::close(fd) };
        }
    }
}

/// Has a child close `fd` right after a fork; returns the slot to give back with
/// `keep_in_child`, or None when every slot is taken (a child then inherits the descriptor).
pub fn close_in_child(fd: i32) -> Option<usize> {
    Origin::here();
    CLOSE_IN_CHILD.iter().position(|slot| {
        slot.compare_exchange(-1, fd, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    })
}

/// Gives back a slot of `close_in_child` (its descriptor is about to be closed).
pub fn keep_in_child(slot: usize) {
    CLOSE_IN_CHILD[slot].store(-1, Ordering::Relaxed);
}

/// The process something was made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    forks: u64,
    pid: u32,
}

impl Origin {
    /// This process. Installs the fork handler the first time.
    pub fn here() -> Origin {
        HANDLER.call_once(|| {
            // SAFETY: in_child is an extern "C" fn that stays valid for the process's life
            // and only does an atomic add, which is safe in a child after fork.
            unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        });
        Origin {
            forks: FORKS.load(Ordering::Relaxed),
            pid: std::process::id(),
        }
    }

    /// Whether this is still the process it was made in.
    #[inline]
    pub fn is_here(&self) -> bool {
        FORKS.load(Ordering::Relaxed) == self.forks
    }

    /// Ok in the process it was made in; else the error every call in a child gets.
    #[inline]
    pub fn check(&self, what: &str) -> Result<()> {
        if self.is_here() {
            return Ok(());
        }
        Err(self.forked(what))
    }

    #[cold]
    fn forked(&self, what: &str) -> Error {
        Error::WrongThread(format!(
            "{what} was opened by process {} before a fork; this process ({}) cannot use it \
             (it has none of the threads and locks it needs): open the engine after the fork, in \
             the process that uses it",
            self.pid,
            std::process::id()
        ))
    }
}
