#!/usr/bin/env bash
# Durable commits (benches/peer/commit.lua) on every target, in `write` and `fsync` modes,
# alternating the targets in rounds; prints each figure's best round (commits per second,
# higher is better) and jitbox's ratio to the best peer in each round. Usage:
#   benches/peer/commits.sh [N] [ROUNDS]   (N commits, default 200000; fsync mode runs N/20)
# LUAJIT names the LuaJIT every FFI target runs on (default: luajit on the PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-200000}
ROUNDS=${2:-1}
LUAJIT=${LUAJIT:-luajit}
cargo build --release --quiet
out=$(mktemp)
for r in $(seq "$ROUNDS"); do
  for mode in write fsync; do
    n=$N; [ "$mode" = fsync ] && n=$((N / 20))
    {
      tarantool benches/peer/commit.lua tarantool "$mode" "$n" 2>/dev/null
      for t in jitbox jitbox_sync; do
        JITBOX_LIB=target/release/libjitbox.so "$LUAJIT" benches/peer/commit.lua "$t" "$mode" "$n"
      done
      "$LUAJIT" benches/peer/commit.lua sqlite "$mode" "$n"
      "$LUAJIT" benches/peer/commit.lua lmdb "$mode" "$n"
    } | sed "s/^/$r /" >>"$out"
  done
done
awk '
  { k = $2" "$3; if (!(k in v) || $4 > v[k]) v[k] = $4; if (!($3 in seen)) { seen[$3] = 1; ops[++n] = $3 }
    w[$1" "k] = $4; if ($1 > rounds) rounds = $1 }
  END {
    printf "%-22s %11s %11s %11s %11s %11s\n", "commits/s (best of '"$ROUNDS"')", "tarantool", "jitbox", "jitbox_sync", "sqlite", "lmdb"
    for (i = 1; i <= n; i++) {
      op = ops[i]
      printf "%-22s %11s %11s %11s %11s %11s\n", op, v["tarantool " op], v["jitbox " op], v["jitbox_sync " op], v["sqlite " op], v["lmdb " op]
    }
    printf "\nper round: jitbox async / best peer, jitbox sync / SQLite\n"
    for (i = 1; i <= n; i++) {
      op = ops[i]; line = sprintf("%-22s", op)
      for (k = 1; k <= rounds; k++) {
        best = 0
        split("tarantool sqlite lmdb", peers, " ")
        for (m = 1; m <= 3; m++) { x = w[k" "peers[m]" "op]; if (x > best) best = x }
        line = line sprintf("  %.2f, %.2f", w[k" jitbox "op] / best, w[k" jitbox_sync "op] / w[k" sqlite "op])
      }
      print line
    }
  }' "$out"
rm -f "$out"
