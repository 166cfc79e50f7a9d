//! Opening a data directory: one owner at a time (also across processes), recovery that
//! refuses damage without changing a byte, `force_recovery`, the summary, and file modes.

mod common;

use common::native::*;
use jitbox::engine::{Engine, Options, WalMode};
use jitbox::error::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jitbox-recovery-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn options(d: &Path) -> Options {
    Options {
        dir: Some(d.to_owned()),
        wal_mode: WalMode::Write,
        ..Options::default()
    }
}

fn open(d: &Path) -> jitbox::Result<Engine> {
    Engine::open(options(d))
}

/// Opens `d`, writes rows `ids` (one commit each) and closes: one more WAL file.
fn session(d: &Path, ids: std::ops::Range<u64>) {
    let mut e = open(d).unwrap();
    let id = match e.find_space("test") {
        Ok(id) => id,
        Err(_) => test_space(&mut e),
    };
    for i in ids {
        e.statement(None, |e, t| {
            e.space_mut(id)?.replace_in(t, &row(i, "n", 0)).map(drop)
        })
        .unwrap();
    }
    e.flush_wal();
}

fn wal_files(d: &Path) -> Vec<PathBuf> {
    jitbox::wal::segment::list(d, "wal")
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// The directory's files but the lock file (which only says who holds it).
fn contents(d: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut all = common::files::contents(d);
    all.remove("jitbox.lock");
    all
}

/// The offset of the last record of a WAL file (records are read back to find it).
fn last_record(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    let mut last = 0;
    jitbox::wal::record::read(&bytes, |r| {
        last = r.offset as usize;
        Ok(())
    })
    .unwrap();
    last
}

fn flip(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x10;
    std::fs::write(path, bytes).unwrap();
}

/// The ids of the rows of space "test", from its primary index.
fn ids_in(e: &Engine) -> Vec<u64> {
    let (all, _) = fingerprint(e);
    ids(all[0][0].clone())
}

#[test]
fn damage_in_an_older_file_refuses_the_open_naming_it_and_changes_nothing() {
    let d = dir("older");
    session(&d, 0..5);
    session(&d, 5..10);
    let files = wal_files(&d);
    assert!(files.len() >= 2, "{files:?}");
    let at = last_record(&files[0]);
    flip(&files[0], at + 30);
    let before = contents(&d);
    let err = open(&d).err().expect("the open is refused");
    let m = err.to_string();
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(matches!(err, Error::WalIo(_)), "{m}");
    assert!(
        m.contains(&name) && m.contains(&format!("offset {at}")),
        "{m}"
    );
    assert_eq!(contents(&d), before, "no byte of the directory changed");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_damaged_complete_last_record_refuses_the_open() {
    let d = dir("last");
    session(&d, 0..5);
    let files = wal_files(&d);
    let newest = files.last().unwrap();
    let at = last_record(newest);
    let len = std::fs::metadata(newest).unwrap().len() as usize;
    flip(newest, len - 1);
    let before = contents(&d);
    let m = open(&d).err().expect("the open is refused").to_string();
    assert!(m.contains(&format!("offset {at}")), "{m}");
    assert_eq!(contents(&d), before);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn force_recovery_opens_with_what_precedes_the_damage_and_says_what_it_set_aside() {
    let d = dir("force");
    session(&d, 0..5);
    session(&d, 5..10);
    let files = wal_files(&d);
    let at = last_record(&files[0]);
    flip(&files[0], at + 30);
    let all: usize = contents(&d).values().map(Vec::len).sum();
    let e = Engine::open(Options {
        force_recovery: true,
        ..options(&d)
    })
    .unwrap();
    assert_eq!(
        ids_in(&e),
        vec![0, 1, 2, 3],
        "the rows before the damaged commit"
    );
    let r = &e.recovery;
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains(&format!("offset {at}")),
        "{}",
        r.warnings[0]
    );
    assert!(r.set_aside_bytes > 0);
    drop(e);
    // Nothing was deleted: the side files hold what recovery skipped.
    let after: usize = contents(&d).values().map(Vec::len).sum();
    assert!(after >= all, "{after} bytes now, {all} before");
    let e = open(&d).unwrap();
    assert_eq!(ids_in(&e), vec![0, 1, 2, 3]);
    assert!(e.recovery.warnings.is_empty());
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_recovery_summary_counts_files_records_and_tuples() {
    let d = dir("summary");
    session(&d, 0..5);
    session(&d, 5..7);
    let e = open(&d).unwrap();
    let r = &e.recovery;
    // Two sessions' files (a third, empty, may exist from a writer that never wrote).
    assert!(r.wal_files >= 2, "{r:?}");
    assert_eq!((r.tuples, r.set_aside_bytes), (7, 0));
    assert!(r.records >= 7, "{r:?}");
    assert!(r.line().contains("7 tuple(s)"), "{}", r.line());
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_second_engine_on_the_same_directory_is_refused_naming_the_holder() {
    let d = dir("twice");
    let first = open(&d).unwrap();
    let err = open(&d).err().expect("a second owner is refused");
    let m = err.to_string();
    assert!(matches!(err, Error::Busy(_)), "{m}");
    assert!(m.contains(&d.display().to_string()), "{m}");
    assert!(m.contains(&std::process::id().to_string()), "{m}");
    assert!(m.contains("lock_timeout"), "{m}");
    // Also with a wait that ends before the holder closes.
    let t = std::time::Instant::now();
    let r = Engine::open(Options {
        lock_timeout: Duration::from_millis(200),
        ..options(&d)
    });
    assert!(matches!(r, Err(Error::Busy(_))));
    assert!(t.elapsed() >= Duration::from_millis(200));
    drop(first);
    let again = open(&d).expect("the directory is free once its owner closed");
    drop(again);
    let _ = std::fs::remove_dir_all(&d);
}

/// When run as a child of `another_process_holds_the_lock_until_it_ends`: opens the directory,
/// writes, says so on stdout, then holds the engine until its stdin closes.
#[test]
fn child_holder() {
    let Some(d) = std::env::var_os("JITBOX_TEST_HOLD_DIR") else {
        return;
    };
    let d = PathBuf::from(d);
    session(&d, 0..3);
    let e = open(&d).unwrap();
    println!("HOLDING");
    use std::io::Read;
    let _ = std::io::stdin().read(&mut [0u8; 1]);
    drop(e);
}

#[test]
fn another_process_holds_the_lock_until_it_ends() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let d = dir("process");
    let spawn = || {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_holder", "--nocapture", "--test-threads=1"])
            .env("JITBOX_TEST_HOLD_DIR", &d)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.contains("HOLDING") {
            line.clear();
            assert!(out.read_line(&mut line).unwrap() > 0, "the child ended");
        }
        // The rest of what the child prints is read, so that it never writes to a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        child
    };
    // Refused, naming the other process.
    let mut child = spawn();
    let m = open(&d)
        .err()
        .expect("refused while the child holds it")
        .to_string();
    assert!(m.contains(&format!("process {}", child.id())), "{m}");
    // A wait that outlasts the holder: the new owner sees everything the old one committed.
    let mut stdin = child.stdin.take().unwrap();
    let closer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        stdin.write_all(b"x").unwrap();
    });
    let e = Engine::open(Options {
        lock_timeout: Duration::from_secs(30),
        ..options(&d)
    })
    .unwrap();
    assert_eq!(ids_in(&e), vec![0, 1, 2]);
    closer.join().unwrap();
    assert!(child.wait().unwrap().success());
    drop(e);
    // A holder killed with SIGKILL lets go with its death.
    let mut child = spawn();
    assert!(matches!(open(&d), Err(Error::Busy(_))));
    child.kill().unwrap();
    child.wait().unwrap();
    let e = open(&d).expect("a dead process holds nothing");
    assert_eq!(ids_in(&e), vec![0, 1, 2]);
    drop(e);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn directories_and_files_are_not_group_or_world_writable_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir("modes").join("nested");
    // SAFETY: umask only changes this process's file creation mask.
    let old = unsafe { libc::umask(0) };
    {
        let mut e = open(&d).unwrap();
        let id = test_space(&mut e);
        e.statement(None, |e, t| {
            e.space_mut(id)?.replace_in(t, &row(1, "n", 0)).map(drop)
        })
        .unwrap();
        e.flush_wal();
        e.snapshot().unwrap();
        e.statement(None, |e, t| {
            e.space_mut(id)?.replace_in(t, &row(2, "n", 0)).map(drop)
        })
        .unwrap();
        e.flush_wal();
    }
    // SAFETY: as above.
    unsafe { libc::umask(old) };
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d), 0o750);
    assert_eq!(mode(d.parent().unwrap()), 0o750);
    let mut seen = 0;
    for entry in std::fs::read_dir(&d).unwrap() {
        let p = entry.unwrap().path();
        assert_eq!(mode(&p), 0o640, "{}", p.display());
        seen += 1;
    }
    assert!(seen >= 3, "lock, WAL and snapshot files");
    let _ = std::fs::remove_dir_all(d.parent().unwrap());
}
