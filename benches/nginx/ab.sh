#!/usr/bin/env bash
# Durable writes per second through nginx (tests/nginx/workers.conf: two workers, an engine
# each, wal_mode 'fsync'), with the commit waiting through ngx.sleep (`wait`) and blocking the
# worker (no `wait`), at ab -c 16 and -c 64, in alternating rounds. Usage:
#   benches/nginx/ab.sh [REQUESTS] [ROUNDS]    (needs nginx with its Lua module and ab)
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-5000}
ROUNDS=${2:-3}
command -v ab >/dev/null || { apt-get update -qq && apt-get install -y -qq apache2-utils >/dev/null; }
cargo build --release --quiet
root=$(pwd)
run() { # wait-expression concurrency
    local prefix port
    prefix=$(mktemp -d --tmpdir="$root/target")
    port=$((20000 + RANDOM % 20000))
    mkdir -p "$prefix/logs" "$prefix/data"
    chmod 755 "$prefix"
    chown nobody:nogroup "$prefix/data" # workers.conf runs the workers as nobody
    sed -e "s#@ROOT@#$root#g" -e "s#@LIB@#$root/target/release/libjitbox.so#g" -e "s#@PORT@#$port#g" \
        -e "s#@DATA@#$prefix/data#g" -e "s#@WAIT@#$1#g" tests/nginx/workers.conf >"$prefix/nginx.conf"
    nginx -p "$prefix" -c "$prefix/nginx.conf"
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/stat" && break; sleep 0.1; done
    ab -q -n "$N" -c "$2" "http://127.0.0.1:$port/put?k=key" >"$prefix/ab" 2>&1 || true
    if grep -q 'Non-2xx' "$prefix/ab" || ! grep -q '^Failed requests: *0$' "$prefix/ab"; then
        echo "failed: $(grep -E 'Failed|Non-2xx' "$prefix/ab" | tr -s ' ')" >&2
        tail -5 "$prefix/logs/error.log" >&2
        echo -
    else
        awk '/Requests per second/ { print $4 }' "$prefix/ab"
    fi
    nginx -p "$prefix" -c "$prefix/nginx.conf" -s stop 2>/dev/null
    sleep 0.5
    rm -rf "$prefix"
}
for r in $(seq "$ROUNDS"); do
    for c in 16 64; do
        printf 'round %d  -c %-3d  ngx.sleep wait %8s req/s   blocking %8s req/s\n' "$r" "$c" \
            "$(run 'function() ngx.sleep(0.001) end' "$c")" "$(run nil "$c")"
    done
done
