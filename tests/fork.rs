//! An engine opened with a WAL before `fork()` (nginx's `init_by_lua`, a C host that forks):
//! in the child every call fails at once naming the fork, closing touches nothing of the
//! parent's (no thread joined, no file written, no lock taken or dropped), nothing is ever
//! printed; the parent goes on unaffected.
//!
//! Its own binary without the test harness (`harness = false`): a fork is only sound with one
//! thread running.

mod common;

use common::files::{contents, last_error, uint};
use jitbox::ffi::abi::*;
use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

fn open(dir: &Path) -> (i32, *mut jb_engine) {
    let d = dir.to_str().unwrap();
    let opts = jb_engine_opts {
        dir: d.as_ptr() as *const c_char,
        dir_len: d.len() as u32,
        wal_mode: JB_WAL_WRITE,
        ..Default::default()
    };
    let mut e = null_mut();
    // SAFETY: opts and e are valid for the call.
    let rc = unsafe { jb_engine_open(&opts, &mut e) };
    (rc, e)
}

fn insert(s: *mut jb_space, id: u64) -> i32 {
    let f = [uint(id)];
    // SAFETY: f outlives the call; s is a handle (checked by the call).
    unsafe { jb_space_insert(s, null_mut(), f.as_ptr(), 1, null_mut(), 0, null_mut()) }
}

fn len(s: *mut jb_space) -> u64 {
    let mut n = 0;
    // SAFETY: n is writable.
    assert_eq!(unsafe { jb_space_len(s, &mut n) }, JB_OK);
    n
}

/// What the child checks; returns the failures (empty: all held).
fn in_child(e: *mut jb_engine, s: *mut jb_space, dir: &Path) -> Vec<String> {
    let mut bad = vec![];
    let mut check = |what: &str, rc: i32, want: i32| {
        if rc != want {
            bad.push(format!("{what}: rc {rc}, wanted {want} ({})", last_error()));
        } else if want == JB_E_WRONG_THREAD && !last_error().contains("fork") {
            bad.push(format!(
                "{what}: the message does not name the fork: {}",
                last_error()
            ));
        }
    };
    check("a write", insert(s, 1000), JB_E_WRONG_THREAD);
    let mut st = jb_stat::default();
    // SAFETY: st is writable.
    check(
        "stat",
        unsafe { jb_engine_stat(e, &mut st) },
        JB_E_WRONG_THREAD,
    );
    let mut tx = null_mut();
    // SAFETY: tx is writable.
    check(
        "begin",
        unsafe { jb_txn_begin(e, &mut tx) },
        JB_E_WRONG_THREAD,
    );
    // The child holds no lock on the parent's directory: a second owner is still refused.
    let (rc, _) = open(dir);
    check("opening the parent's directory", rc, JB_E_BUSY);
    // SAFETY: e is the engine handle; closing is allowed in any state.
    check("close", unsafe { jb_engine_close(e) }, JB_OK);
    // SAFETY: as above; a second close is fine.
    check("close again", unsafe { jb_engine_close(e) }, JB_OK);
    bad
}

fn main() {
    let dir: PathBuf = std::env::temp_dir().join(format!("jitbox-fork-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (rc, e) = open(&dir);
    assert_eq!(rc, JB_OK, "{}", last_error());
    let mut s = null_mut();
    let parts = [jb_key_part {
        fieldno: 0,
        type_: JB_FT_UNSIGNED,
        is_nullable: 0,
        collation: 0,
        ..Default::default()
    }];
    let def = jb_index_def {
        parts: parts.as_ptr(),
        part_count: 1,
        unique: 1,
        ..Default::default()
    };
    let mut pk = null_mut();
    // SAFETY: names, def and out-pointers are valid for the calls.
    unsafe {
        assert_eq!(
            jb_space_create(e, c"t".as_ptr(), 1, std::ptr::null(), 0, &mut s),
            JB_OK
        );
        assert_eq!(jb_index_create(s, c"pk".as_ptr(), 2, &def, &mut pk), JB_OK);
    }
    for i in 0..100 {
        assert_eq!(insert(s, i), JB_OK);
    }
    let before = contents(&dir);

    let mut fds = [0; 2];
    // SAFETY: fds has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: besides this thread only the engine's own WAL writer runs (no test harness); the
    // child touches nothing of it, and libc keeps its own state sound across fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // Everything the child prints goes to the pipe, for the parent to look at.
        // SAFETY: plain descriptor calls in the child.
        unsafe { libc::dup2(fds[1], 2) };
        let bad = in_child(e, s, &dir);
        for b in &bad {
            eprintln!("CHILD FAILED: {b}");
        }
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(if bad.is_empty() { 0 } else { 1 }) };
    }
    assert!(pid > 0, "fork failed");
    // SAFETY: the parent's copy of the write end is not needed.
    unsafe { libc::close(fds[1]) };
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = 0;
    loop {
        // SAFETY: status is writable; pid is our child.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            break;
        }
        if Instant::now() > deadline {
            // SAFETY: our child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the child hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut printed = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: buf is writable for its length.
        let n = unsafe { libc::read(fds[0], buf.as_mut_ptr() as *mut _, buf.len()) };
        if n <= 0 {
            break;
        }
        printed.extend_from_slice(&buf[..n as usize]);
    }
    let printed = String::from_utf8_lossy(&printed);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed (status {status}): {printed}"
    );
    assert!(printed.is_empty(), "the child printed: {printed}");
    assert_eq!(
        contents(&dir),
        before,
        "the child changed the parent's files"
    );

    // The parent goes on: it writes, closes, and everything is there after reopening.
    for i in 100..200 {
        assert_eq!(insert(s, i), JB_OK, "{}", last_error());
    }
    assert_eq!(len(s), 200);
    // SAFETY: e is open.
    assert_eq!(unsafe { jb_engine_close(e) }, JB_OK);
    let (rc, e) = open(&dir);
    assert_eq!(rc, JB_OK, "{}", last_error());
    let mut s = null_mut();
    // SAFETY: name and out-pointer valid.
    assert_eq!(unsafe { jb_space_find(e, c"t".as_ptr(), 1, &mut s) }, JB_OK);
    assert_eq!(len(s), 200);
    // SAFETY: e is open.
    assert_eq!(unsafe { jb_engine_close(e) }, JB_OK);
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "fork: child refused every call, closed without touching the parent; parent unaffected"
    );
}
