#!/usr/bin/env bash
# Runs the peer workload on Tarantool (Debian's tarantool), jitbox, SQLite in memory and LMDB
# on tmpfs (both through LuaJIT FFI) and a plain LuaJIT table in one go and prints ns per operation (per tuple for
# scans) with ratios. Usage:
#   benches/peer/run.sh [N] [ROUNDS]   (N tuples, default 1000000; installs what is missing)
# With ROUNDS > 1 (default 1) the targets run in turn ROUNDS times and each figure is the
# best of its rounds: on a shared machine noise only ever adds time, so the minimum is the
# figure least disturbed by it, and every target gets the same treatment. LUAJIT names the
# LuaJIT every FFI target (jitbox, SQLite, LMDB, the plain table) runs on (default: luajit on
# the PATH, installed from Debian when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
ROUNDS=${2:-1}
LUAJIT=${LUAJIT:-luajit}
command -v tarantool >/dev/null || { apt-get update -qq && apt-get install -y -qq tarantool >/dev/null; }
[ "$LUAJIT" != luajit ] || command -v luajit >/dev/null || { apt-get update -qq && apt-get install -y -qq luajit >/dev/null; }
[ -e /usr/lib/x86_64-linux-gnu/libsqlite3.so ] || ldconfig -p | grep -q 'libsqlite3.so ' ||
  { apt-get update -qq && apt-get install -y -qq libsqlite3-dev >/dev/null; }
[ -e /usr/lib/x86_64-linux-gnu/liblmdb.so ] || ldconfig -p | grep -q 'liblmdb.so ' ||
  { apt-get update -qq && apt-get install -y -qq liblmdb-dev >/dev/null; }
cargo build --release --quiet
out=$(mktemp)
for r in $(seq "$ROUNDS"); do
  {
    tarantool benches/peer/workload.lua tarantool "$N"
    JITBOX_LIB=target/release/libjitbox.so "$LUAJIT" benches/peer/workload.lua jitbox "$N"
    "$LUAJIT" benches/peer/workload.lua sqlite "$N"
    "$LUAJIT" benches/peer/workload.lua lmdb "$N"
    "$LUAJIT" benches/peer/workload.lua plain "$N"
  } | sed "s/^/$r /" >>"$out"
done
# Lines are "round target op value". The table: each figure's best round; then, per op, the
# ratio jitbox / best database peer (Tarantool, SQLite, LMDB) in each round (lower is better).
awk '
  { k = $2" "$3; if (!(k in v) || $4 < v[k]) v[k] = $4; if (!($3 in seen)) { seen[$3] = 1; ops[++n] = $3 }
    w[$1" "k] = $4; if ($1 > rounds) rounds = $1 }
  function f(x, unit) { return x == "" ? "-" : sprintf("%.1f%s", x, unit) }
  function r(x, j) { return (x != "" && j > 0) ? sprintf("%.2fx", x / j) : "-" }
  END {
    printf "%-24s %11s %11s %11s %11s %11s %9s %9s %9s\n", "op (N='"$N"', best of '"$ROUNDS"')", "tarantool", "jitbox", "sqlite", "lmdb", "plain", "tnt/jb", "sql/jb", "lmdb/jb"
    for (i = 1; i <= n; i++) {
      op = ops[i]; t = v["tarantool " op]; j = v["jitbox " op]; q = v["sqlite " op]; l = v["lmdb " op]; p = v["plain " op]
      unit = (op ~ /per_tuple/) ? "B" : "ns"
      printf "%-24s %11s %11s %11s %11s %11s %9s %9s %9s\n", op, f(t, unit), f(j, unit), f(q, unit), f(l, unit), f(p, unit), r(t, j), r(q, j), r(l, j)
    }
    printf "\njitbox / best peer, per round:\n"
    for (i = 1; i <= n; i++) {
      op = ops[i]; line = sprintf("%-24s", op)
      for (k = 1; k <= rounds; k++) {
        j = w[k" jitbox "op]; best = ""
        split("tarantool sqlite lmdb", peers, " ")
        for (m = 1; m <= 3; m++) { x = w[k" "peers[m]" "op]; if (x != "" && (best == "" || x < best)) best = x }
        line = line sprintf(" %8s", (j != "" && best != "" && best > 0) ? sprintf("%.2f", j / best) : "-")
      }
      print line
    }
  }' "$out"
rm -f "$out"
