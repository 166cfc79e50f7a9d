//! The writer's two ways to write a group: its thread, and `write_here` on the committer's.

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("jitbox-writer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn batch(lsn: u64) -> Batch {
    let mut bytes = Vec::new();
    crate::wal::record::encode(lsn, b"payload", &mut bytes).unwrap();
    Batch {
        epoch: 1,
        first_lsn: lsn,
        last_lsn: lsn,
        bytes,
    }
}

fn wait_for(w: &Writer, n: usize) -> Vec<Done> {
    let mut got = Vec::new();
    for _ in 0..500 {
        got.extend(w.take_done());
        if got.len() >= n {
            break;
        }
        w.wait_done(Duration::from_millis(10));
    }
    got
}

fn lsns_in_file(dir: &Path) -> Vec<u64> {
    let mut lsns = Vec::new();
    for (_, path) in segment::list(dir, segment::WAL_EXT).unwrap() {
        let bytes = std::fs::read(path).unwrap();
        crate::wal::record::read(&bytes, |r| {
            lsns.push(r.lsn);
            Ok(())
        })
        .unwrap();
    }
    lsns
}

#[test]
fn an_idle_writer_lets_the_committer_write_and_its_outcome_is_there_at_once() {
    let dir = temp_dir("idle");
    let mut w = Writer::start(&dir, SyncMode::Write).unwrap();
    w.write_here(batch(1)).expect("an idle writer with nothing queued");
    // No wait: the outcome was sent before write_here returned.
    let done = w.take_done();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].first_lsn, &done[0].outcome), (1, &Outcome::Written));
    assert!(!w.busy());
    w.stop();
    assert_eq!(lsns_in_file(&dir), vec![1]);
}

#[test]
fn batches_waiting_for_the_thread_keep_the_committer_from_writing_ahead_of_them() {
    let dir = temp_dir("queued");
    let mut w = Writer::start(&dir, SyncMode::Write).unwrap();
    w.inject(true, false); // the thread holds batches back
    w.submit(batch(1)).unwrap();
    let back = w.write_here(batch(2)).expect_err("LSN 1 waits: 2 must not pass it");
    assert_eq!(back.first_lsn, 2);
    w.submit(back).unwrap();
    w.inject(false, false);
    let done = wait_for(&w, 2);
    let order: Vec<u64> = done.iter().map(|d| d.first_lsn).collect();
    assert_eq!(order, vec![1, 2]);
    w.stop();
    assert_eq!(lsns_in_file(&dir), vec![1, 2]);
}

#[test]
fn an_injected_delay_holds_the_committer_back_too() {
    let dir = temp_dir("delay");
    let mut w = Writer::start(&dir, SyncMode::Write).unwrap();
    w.inject(true, false);
    assert!(w.write_here(batch(1)).is_err());
    w.inject(false, false);
    w.write_here(batch(1)).expect("the delay is over");
    w.stop();
    assert!(w.write_here(batch(2)).is_err(), "a stopped writer writes nothing");
    assert_eq!(lsns_in_file(&dir), vec![1]);
}

#[test]
fn a_failed_write_on_the_committers_thread_cancels_the_rest_of_its_epoch() {
    let dir = temp_dir("fail");
    let mut w = Writer::start(&dir, SyncMode::Write).unwrap();
    w.write_here(batch(1)).unwrap();
    w.inject(false, true);
    w.write_here(batch(2)).unwrap();
    w.inject(false, false);
    w.write_here(batch(3)).unwrap(); // same epoch as the failed one
    let outcomes: Vec<Outcome> = w.take_done().into_iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes[0], Outcome::Written);
    assert!(matches!(outcomes[1], Outcome::Failed(_)), "{outcomes:?}");
    assert_eq!(outcomes[2], Outcome::Cancelled);
    w.stop();
    assert_eq!(lsns_in_file(&dir), vec![1], "the failed write left nothing behind");
}
