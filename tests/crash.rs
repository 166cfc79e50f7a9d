//! Crash recovery: a child process commits with `wal_mode = fsync` (and takes snapshots now and
//! then) and is killed with SIGKILL at a random moment, 20 times over one directory. After each
//! kill the directory reopens with every commit the child acknowledged and nothing else: each
//! transaction writes a row and moves a counter, so a half-applied or invented commit shows.

mod common;

use common::native::*;
use jitbox::engine::iter::IterType;
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, Options, WalMode};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "JITBOX_CRASH_CHILD_DIR";

fn open(dir: &Path) -> Engine {
    Engine::open(Options {
        dir: Some(dir.to_owned()),
        wal_mode: WalMode::Fsync,
        ..Options::default()
    })
    .unwrap()
}

/// The counter row `{0, c}`: the last committed transaction (0 before any).
fn counter(e: &Engine) -> u64 {
    let Ok(id) = e.find_space("test") else {
        return 0;
    };
    match get(e, id, &[Value::Uint(0)]) {
        Some(t) => match owned(t.data())[2] {
            Owned::Uint(c) => c,
            ref other => panic!("counter {other:?}"),
        },
        None => 0,
    }
}

/// Runs only as the child: commits forever, printing `ack <n>` after each commit returns.
#[test]
fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut e = open(Path::new(&dir));
    let id = match e.find_space("test") {
        Ok(id) => id,
        Err(_) => test_space(&mut e),
    };
    let mut out = std::io::stdout().lock();
    for n in counter(&e) + 1.. {
        let tx = e.begin().unwrap();
        let sp = e.space_mut(id).unwrap();
        sp.replace_in(Some(tx), &row(n, "row", n as i64)).unwrap();
        sp.replace_in(Some(tx), &row(0, "counter", n as i64))
            .unwrap();
        e.commit(tx).unwrap();
        writeln!(out, "ack {n}").unwrap();
        out.flush().unwrap();
        if n % 50 == 0 {
            // A snapshot in the background; the kill may land while it is written.
            let run = e.snapshot_start().unwrap();
            e.snapshot_release(run);
        }
    }
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_commit() {
    let dir = std::env::temp_dir().join(format!("jitbox-{}-crash", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut total = 0;
    let mut torn_snapshots = 0;
    for run in 0..20 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child_writer",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stdout.read_to_string(&mut s);
            s
        });
        std::thread::sleep(Duration::from_millis(50 + rng % 400));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let printed = reader.join().unwrap();
        let acked: Vec<u64> = printed
            .lines()
            .filter_map(|l| l.strip_prefix("ack ")?.parse().ok())
            .collect();
        torn_snapshots += std::fs::read_dir(&dir)
            .unwrap()
            .filter(|f| {
                f.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "tmp")
            })
            .count();
        let e = open(&dir);
        let c = counter(&e);
        let last_acked = acked.last().copied().unwrap_or(0);
        assert!(
            c >= last_acked.max(total),
            "run {run}: commit {} was acknowledged, recovery ends at {c}",
            last_acked.max(total)
        );
        assert!(
            c <= last_acked.max(total) + 1,
            "run {run}: recovery holds {c}, more than the one commit in flight after {last_acked}"
        );
        let id = e.find_space("test").unwrap();
        let rows = scan(&e, id, 0, IterType::All, &[]);
        assert_eq!(
            rows.len() as u64,
            c + 1,
            "run {run}: the counter and rows 1..={c}"
        );
        for (i, r) in rows.iter().enumerate().skip(1) {
            assert_eq!(r[0], Owned::Uint(i as u64), "run {run}");
            assert_eq!(r[2], Owned::Uint(i as u64), "run {run}");
        }
        total = c;
    }
    eprintln!("crash test: {torn_snapshots} of the 20 kills landed while a snapshot was written");
    eprintln!("crash test: {total} commits survived 20 kills");
    assert!(
        total > 20,
        "the children committed only {total} times in all"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
