//! One owner per data directory. The engine that opens a directory holds an exclusive lock on
//! `jitbox.lock` in it until it closes; the system drops it when the process dies. Two owners
//! would each write their own log and snapshots into one directory and destroy each other's
//! acknowledged data (a snapshot removes the log files it covers).
//!
//! The lock is an open file description lock (`fcntl(F_OFD_SETLK)`, Linux): it belongs to the
//! descriptor, so two opens in one process conflict like two processes do, and no other
//! descriptor of the file — a tool reading it, in this process or another — can drop it. The
//! system drops it when the process dies. A forked child closes its copy of the descriptor
//! at once (`fork::close_in_child`), so it never keeps the directory locked after its parent
//! ends. Who holds the lock is written into the file (the system does not say for OFD locks).
//!
//! A child that `posix_spawn` (or `system`) starts runs no fork handler: until it execs, it
//! holds copies of every descriptor, the lock's included (closed on exec). An open that finds
//! the lock held by this process while no engine here holds it waits that moment out.

use super::segment::{self, io_error};
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const LOCK_FILE: &str = "jitbox.lock";

/// How long an open waits for a lock this process holds only through a spawning child.
const SPAWN_GRACE: Duration = Duration::from_secs(2);

/// Directories (device, inode) whose lock an engine of this process holds.
static HELD: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

fn held() -> std::sync::MutexGuard<'static, Vec<(u64, u64)>> {
    HELD.lock().unwrap_or_else(|p| p.into_inner())
}

/// Who holds a lock: a process, when the lock file says.
struct Holder {
    pid: Option<u32>,
}

/// The lock on one directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    file: Option<File>,
    /// The slot of `fork::close_in_child` that holds the descriptor.
    child_slot: Option<usize>,
    /// The directory's entry in `HELD`.
    key: (u64, u64),
    origin: crate::fork::Origin,
}

impl DirLock {
    /// Locks `dir` (which exists), waiting up to `timeout` for another holder to let go.
    pub fn acquire(dir: &Path, timeout: Duration) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let meta = std::fs::metadata(dir).map_err(|e| io_error("read", dir, e))?;
        let key = (meta.dev(), meta.ino());
        let start = Instant::now();
        loop {
            let holder = match Self::try_acquire(&path, key)? {
                Ok(lock) => return Ok(lock),
                Err(holder) => holder,
            };
            let me = std::process::id();
            let here = holder.pid == Some(me) && held().contains(&key);
            // Held by this process with no engine here holding it: a spawning child's copy.
            let wait = if holder.pid == Some(me) && !here {
                timeout.max(SPAWN_GRACE)
            } else {
                timeout
            };
            if start.elapsed() >= wait {
                let who = match holder.pid {
                    Some(pid) if here => format!("another engine of this process (pid {pid})"),
                    Some(pid) => format!("process {pid}"),
                    None => "another process".to_string(),
                };
                return Err(busy(dir, &path, &who, timeout));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// One attempt: the lock, or who holds it.
    fn try_acquire(path: &Path, key: (u64, u64)) -> Result<std::result::Result<DirLock, Holder>> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(segment::FILE_MODE)
            .custom_flags(libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| io_error("open the lock file", path, e))?;
        let fl = flock(libc::F_WRLCK);
        // SAFETY: fd is open for the call; fl is a valid struct flock the call reads.
        if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &fl) } != 0 {
            let err = std::io::Error::last_os_error();
            if !matches!(err.raw_os_error(), Some(libc::EACCES | libc::EAGAIN)) {
                return Err(io_error("lock", path, err));
            }
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Ok(Err(Holder {
                pid: text.trim().parse().ok(),
            }));
        }
        // The pid is for people and for the message above; the lock is what decides.
        let _ = file
            .set_len(0)
            .and_then(|_| file.write_all(format!("{}\n", std::process::id()).as_bytes()));
        let child_slot = crate::fork::close_in_child(file.as_raw_fd());
        held().push(key);
        Ok(Ok(DirLock {
            file: Some(file),
            child_slot,
            key,
            origin: crate::fork::Origin::here(),
        }))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if !self.origin.is_here() {
            // A forked child closed its copy of the descriptor right after the fork; the
            // number may name another file of the child's by now.
            std::mem::forget(self.file.take());
            return;
        }
        if let Some(slot) = self.child_slot {
            crate::fork::keep_in_child(slot);
        }
        {
            let mut list = held();
            if let Some(i) = list.iter().position(|k| *k == self.key) {
                list.swap_remove(i);
            }
        }
        // Closing the descriptor releases the lock.
        drop(self.file.take());
    }
}

/// A whole-file lock request of `kind`.
fn flock(kind: i32) -> libc::flock {
    // SAFETY: struct flock is plain data; all zero is a valid value that the fields set next
    // complete.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind as libc::c_short;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl
}

fn busy(dir: &Path, path: &Path, holder: &str, waited: Duration) -> Error {
    let waited = if waited.is_zero() {
        "; pass lock_timeout = seconds to wait for it to close".to_string()
    } else {
        format!(" after waiting {:.1} s", waited.as_secs_f64())
    };
    Error::Busy(format!(
        "data directory '{}' is in use by {holder} (it holds '{}'); one engine owns a directory: \
         close that engine first{waited}",
        dir.display(),
        PathBuf::from(path).display()
    ))
}
