//! Tests of the B+ tree: randomized against models (with and without hints, with local
//! access through the finger), reservation accounting, fill factors, separator liveness.

use super::*;

// Test entries: a number is its own hint; a (key, payload) pair is hinted by its key.
impl Hinted for u64 {
    fn hint(&self) -> u64 {
        *self
    }
}

impl Hinted for (u64, u64) {
    fn hint(&self) -> u64 {
        self.0
    }
}

fn tree() -> BTree<u64> {
    BTree::new(Rc::new(Quota::new(usize::MAX)), 0)
}

fn ins(t: &mut BTree<u64>, v: u64) -> bool {
    let r = t.reserve_insert().unwrap();
    match t.insert(v, |a, b| a.cmp(b)) {
        Ok(()) => true,
        Err(_) => {
            t.unreserve(r);
            false
        }
    }
}

/// Every separator equals (bit for bit) the first entry of the subtree to its right.
fn separators_are_live(t: &BTree<(u64, u64)>) {
    fn first(t: &BTree<(u64, u64)>, mut node: u32, mut level: usize) -> (u64, u64) {
        while level + 1 < t.height {
            node = t.inners[node as usize].children[0];
            level += 1;
        }
        t.leaves[node as usize].items[0]
    }
    fn walk(t: &BTree<(u64, u64)>, node: u32, level: usize) {
        if level + 1 == t.height {
            return;
        }
        let inner = &t.inners[node as usize];
        for c in 0..inner.len as usize {
            if c > 0 {
                assert_eq!(inner.keys[c - 1], first(t, inner.children[c], level + 1));
            }
            walk(t, inner.children[c], level + 1);
        }
    }
    if t.height > 0 {
        walk(t, t.root, 0);
    }
}

#[test]
fn local_inserts_removes_and_in_place_replaces_match_a_model() {
    // A random walk over the keys, so most operations land in the finger's leaf; entries
    // are (key, version) and ordered by key only, so a replace is visible in the payload.
    let mut t: BTree<(u64, u64)> = BTree::new(Rc::new(Quota::new(usize::MAX)), (0, 0));
    let mut model = std::collections::BTreeMap::new();
    let (mut x, mut k): (u64, u64) = (0x9E3779B97F4A7C15, 2500);
    let by_key = |a: &(u64, u64), b: &(u64, u64)| a.0.cmp(&b.0);
    for step in 0..80_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        k = (k + 4999 + x % 7) % 5000 + 1; // steps of -2..+4 (mod 5000), shifted by one
        match x % 5 {
            0 | 1 => {
                let r = t.reserve_insert().unwrap();
                let ok = t.insert((k, step), by_key).is_ok();
                if !ok {
                    t.unreserve(r);
                }
                assert_eq!(ok, !model.contains_key(&k), "insert {k}");
                if ok {
                    model.insert(k, step);
                }
            }
            2 => {
                let old = t.replace(|e| e.0.cmp(&k), (k, step));
                let want = model.get_mut(&k).map(|v| std::mem::replace(v, step));
                assert_eq!(old.map(|e| e.1), want, "replace {k}");
            }
            _ => {
                let got = t.remove(|e| e.0.cmp(&k), Some(Seek::first(k))).map(|e| e.1);
                assert_eq!(got, model.remove(&k), "remove {k}");
            }
        }
        assert_eq!(
            t.find(|e| e.0.cmp(&k), Some(Seek::first(k))).map(|e| e.1),
            model.get(&k).copied()
        );
        if step % 500 == 0 {
            t.check(by_key).unwrap();
            separators_are_live(&t);
            let all: Vec<_> = {
                let mut v = vec![];
                t.walk(t.first(), false, |e, _| {
                    v.push(*e);
                    true
                });
                v
            };
            let want: Vec<_> = model.iter().map(|(k, v)| (*k, *v)).collect();
            assert_eq!(all, want);
        }
    }
}

#[test]
fn random_inserts_and_removes_keep_invariants() {
    let mut t = tree();
    let mut model = std::collections::BTreeSet::new();
    let mut x: u64 = 88172645463325252;
    for step in 0..60_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let v = x % 5000;
        // Half the searches give the key's hint (the node scan), half do not (bisection).
        let h = |k: u64| step.is_multiple_of(2).then_some(Seek::first(k));
        if x.is_multiple_of(3) {
            assert_eq!(t.remove(|e| e.cmp(&v), h(v)).is_some(), model.remove(&v));
        } else {
            assert_eq!(ins(&mut t, v), model.insert(v));
        }
        // Lookups (through the finger, and its position: the next entry, the same one)
        // agree with the model after every change.
        for probe in [v, (x >> 20) % 5000, v + 1, v + 2, v + 2, v + 3] {
            let want = model.range(probe..).next().copied();
            assert_eq!(
                t.get(t.lower_bound(|e| e.cmp(&probe), h(probe))),
                want,
                "lower_bound({probe})"
            );
            let want = model.range(probe + 1..).next().copied();
            assert_eq!(
                t.get(t.upper_bound(|e| e.cmp(&probe), h(probe))),
                want,
                "upper_bound({probe})"
            );
        }
        if step % 1000 == 0 {
            t.check(|a, b| a.cmp(b)).unwrap();
        }
    }
    t.check(|a, b| a.cmp(b)).unwrap();
    let mut c = t.first();
    let mut got = vec![];
    while let Some(e) = t.get(c) {
        got.push(e);
        c = t.next(c);
    }
    assert_eq!(got, model.iter().copied().collect::<Vec<_>>());
    for v in model.clone() {
        assert_eq!(t.remove(|e| e.cmp(&v), Some(Seek::first(v))), Some(v));
    }
    assert!(t.is_empty());
    t.check(|a, b| a.cmp(b)).unwrap();
}

#[test]
fn bounds() {
    let mut t = tree();
    for v in (0..1000).map(|v| v * 2) {
        ins(&mut t, v);
    }
    assert_eq!(t.get(t.lower_bound(|e| e.cmp(&7), Some(Seek::first(7)))), Some(8));
    assert_eq!(t.get(t.lower_bound(|e| e.cmp(&8), None)), Some(8));
    assert_eq!(t.get(t.upper_bound(|e| e.cmp(&8), Some(Seek::first(8)))), Some(10));
    assert_eq!(t.get(t.last_below(|e| e.cmp(&8), true, Some(Seek::first(8)))), Some(8));
    assert_eq!(t.get(t.last_below(|e| e.cmp(&8), false, None)), Some(6));
    assert!(t.lower_bound(|e| e.cmp(&5000), Some(Seek::first(5000))).is_end());
    assert_eq!(
        t.get(t.last_below(|e| e.cmp(&5000), true, Some(Seek::first(5000)))),
        Some(1998)
    );
}

#[test]
fn failed_reservation_leaves_accounting_unchanged() {
    let quota = Rc::new(Quota::new(200_000)); // three slabs: blocks are charged by the slab
    let mut t: BTree<u64> = BTree::new(quota.clone(), 0);
    let mut v = 0;
    loop {
        let before = quota.used();
        match t.reserve_insert() {
            Ok(_) => {
                t.insert(v, |a, b| a.cmp(b)).unwrap();
                v += 1;
            }
            Err(e) => {
                assert!(matches!(e, crate::error::Error::Memory(_)), "{e:?}");
                assert_eq!(quota.used(), before);
                break;
            }
        }
    }
    assert!(v > 100);
    drop(t);
    assert_eq!(quota.used(), 0);
}

/// Sequential inserts fill blocks completely; deleting from either end keeps the
/// invariants (the underfull right edge merges back correctly).
#[test]
fn sequential_load_fills_blocks_and_survives_deletes_from_both_ends() {
    let mut t: BTree<u64> = BTree::new(Rc::new(Quota::new(usize::MAX)), 0);
    let n = 100_000u64;
    for v in 0..n {
        t.reserve_insert().unwrap();
        t.insert(v, |a, b| a.cmp(b)).unwrap();
    }
    t.check(|a, b| a.cmp(b)).unwrap();
    let used_leaves = t.leaves.len() - t.free_leaves.len();
    assert!(
        used_leaves as u64 <= n / LEAF_CAP as u64 + 2,
        "{used_leaves} leaves for {n} entries"
    );
    for k in 0..n / 2 {
        let (lo, hi) = (k, n - 1 - k);
        assert_eq!(t.remove(|e| e.cmp(&hi), Some(Seek::first(hi))), Some(hi));
        assert_eq!(t.remove(|e| e.cmp(&lo), Some(Seek::first(lo))), Some(lo));
        if k % 997 == 0 {
            t.check(|a, b| a.cmp(b)).unwrap();
        }
    }
    assert!(t.is_empty());
}

/// Many runs each growing at its end (a non-unique index keyed by a repeating name):
/// redistribution keeps leaves at least two-thirds full on average.
#[test]
fn appends_in_the_middle_keep_leaves_well_filled() {
    let mut t: BTree<u64> = BTree::new(Rc::new(Quota::new(usize::MAX)), 0);
    let (runs, per_run) = (1000u64, 200u64);
    for s in 0..per_run {
        for r in 0..runs {
            t.reserve_insert().unwrap();
            t.insert(r << 32 | s, |a, b| a.cmp(b)).unwrap();
        }
    }
    t.check(|a, b| a.cmp(b)).unwrap();
    let used = (t.leaves.len() - t.free_leaves.len()) as f64;
    let fill = (runs * per_run) as f64 / (used * LEAF_CAP as f64);
    assert!(fill > 0.66, "leaf fill {fill:.2}");
}

/// Forward and backward walks give the model's entries.
fn same_as_model(t: &BTree<u64>, model: &std::collections::BTreeSet<u64>) {
    let want: Vec<u64> = model.iter().copied().collect();
    let mut got = vec![];
    let mut c = t.first();
    while let Some(e) = t.get(c) {
        got.push(e);
        c = t.next(c);
    }
    assert_eq!(got, want, "forward");
    let mut back = vec![];
    let mut c = t.last();
    while let Some(e) = t.get(c) {
        back.push(e);
        c = t.prev(c);
    }
    back.reverse();
    assert_eq!(back, want, "backward");
}

#[test]
fn compaction_gives_freed_blocks_back_and_keeps_the_tree() {
    let quota = Rc::new(Quota::new(usize::MAX));
    let mut t = BTree::new(quota.clone(), 0u64);
    let mut model = std::collections::BTreeSet::new();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    let mut compacted = 0;
    for round in 0..12u64 {
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = x % 100_000;
            if ins(&mut t, v) {
                model.insert(v);
            }
        }
        // Remove most entries (all in the last round), from anywhere.
        let keep = if round == 11 { 0 } else { 1 + round % 4 };
        let gone: Vec<u64> = model.iter().copied().filter(|v| v % 7 >= keep).collect();
        for v in gone {
            assert_eq!(t.remove(|e| e.cmp(&v), Some(Seek::first(v))), Some(v));
            model.remove(&v);
        }
        let (blocks, used) = (t.leaves.len() + t.inners.len(), quota.used());
        if !t.wants_compact() {
            continue; // too few blocks freed to be worth a pass
        }
        compacted += 1;
        t.compact();
        assert!(!t.wants_compact());
        t.check(|a, b| a.cmp(b)).unwrap();
        same_as_model(&t, &model);
        assert!(t.free_leaves.is_empty() && t.free_inners.is_empty(), "every freed block went");
        assert!(t.leaves.len() + t.inners.len() < blocks, "round {round}: the arenas shrank");
        // Memory goes back as whole slabs empty: at the latest when (nearly) all entries go.
        assert!(quota.used() <= used, "round {round}: compaction charged memory");
        if round == 11 {
            assert!(quota.used() < used / 10, "{} of {used} bytes kept", quota.used());
        }
        // Lookups through the finger and inserts after compaction.
        for probe in [0, 50_000, 99_999] {
            let want = model.range(probe..).next().copied();
            assert_eq!(t.get(t.lower_bound(|e| e.cmp(&probe), Some(Seek::first(probe)))), want);
        }
    }
    assert!(compacted >= 6, "compacted {compacted} times");
    assert!(t.is_empty());
    let v = 7;
    assert!(ins(&mut t, v));
    model.insert(v);
    same_as_model(&t, &model);
}

/// An entry of two parts, ordered by both. Its first hint is exact below 100 and shared by
/// every larger first part; its second hint is kept only where the first is exact (as an
/// index keeps them), so searches for a whole entry may compare both hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Two(u64, u64);

impl Hinted for Two {
    fn hint(&self) -> u64 {
        self.0.min(100)
    }
    fn hint2(&self) -> u64 {
        if self.0 < 100 { self.1 } else { 0 }
    }
    fn seek(&self) -> Seek {
        Seek {
            h1: self.hint(),
            h2: Some(self.hint2()),
        }
    }
}

#[test]
fn searches_comparing_second_hints_match_a_model() {
    let mut t: BTree<Two> = BTree::new(Rc::new(Quota::new(usize::MAX)), Two(0, 0));
    let mut model = std::collections::BTreeSet::new();
    let mut x: u64 = 0x2545F4914F6CDD1D;
    for step in 0..60_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // First parts on both sides of the exact range, many second parts each.
        let e = Two(x % 130, (x >> 16) % 200);
        if x.is_multiple_of(3) {
            let got = t.remove(|y| y.cmp(&e), Some(e.seek()));
            assert_eq!(got.is_some(), model.remove(&e), "remove {e:?}");
        } else {
            let r = t.reserve_insert().unwrap();
            let ok = t.insert(e, |a, b| a.cmp(b)).is_ok();
            if !ok {
                t.unreserve(r);
            }
            assert_eq!(ok, model.insert(e), "insert {e:?}");
        }
        // By the whole entry (both hints), and by its first part alone (the first hint).
        let first = Seek::first(e.hint());
        let whole = t.get(t.lower_bound(|y| y.cmp(&e), Some(e.seek())));
        assert_eq!(whole, model.range(e..).next().copied(), "lower bound {e:?}");
        let after = t.get(t.upper_bound(|y| y.0.cmp(&e.0), Some(first)));
        assert_eq!(after, model.range(Two(e.0 + 1, 0)..).next().copied(), "after {}", e.0);
        let last = t.get(t.last_below(|y| y.0.cmp(&e.0), true, Some(first)));
        assert_eq!(last, model.range(..Two(e.0 + 1, 0)).next_back().copied(), "last {}", e.0);
        if step % 2000 == 0 {
            t.check(|a, b| a.cmp(b)).unwrap();
        }
    }
}
