#!/usr/bin/env bash
# Runs jitbox in a real nginx (tests/nginx/nginx.conf) and checks that uncaught errors are
# logged readably, caught ones are objects, and an engine opened before the fork is refused
# in the workers with a clear error. Needs nginx, libnginx-mod-http-lua and curl (.ci/run
# installs them) and target/release/libjitbox.so.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
prefix=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
mkdir -p "$prefix/logs"
sed -e "s#@ROOT@#$root#g" -e "s#@LIB@#$root/target/release/libjitbox.so#g" -e "s#@PORT@#$port#g" \
    tests/nginx/nginx.conf >"$prefix/nginx.conf"
nginx -p "$prefix" -c "$prefix/nginx.conf"
trap 'nginx -p "$prefix" -c "$prefix/nginx.conf" -s stop || true; rm -rf "$prefix"' EXIT
log="$prefix/logs/error.log"
fail() { echo "nginx test: $*"; echo "--- error.log"; cat "$log"; exit 1; }
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/get" && break; sleep 0.1; done

# get <path> <status> [body]
get() {
    local status body
    status=$(curl -s -o "$prefix/body" -w '%{http_code}' "http://127.0.0.1:$port$1")
    body=$(cat "$prefix/body")
    [ "$status" = "$2" ] || fail "$1: status $status, expected $2"
    [ -z "${3:-}" ] || [ "$body" = "$3" ] || fail "$1: body '$body', expected '$3'"
}
get /get 200 one
get /caught 200 TUPLE_FOUND
get /thread 200 TUPLE_FOUND
get /uncaught 500
grep -q 'jitbox: TUPLE_FOUND: jb_space_insert: duplicate key \[1\]' "$log" || fail "the uncaught error is not in the log"
get /forked 500
grep -q 'jitbox: WRONG_THREAD: .*after the fork' "$log" || fail "the worker's refusal is not in the log"
! grep -q 'unknown reason\|unknown error' "$log" || fail "an error was logged without its message"
! grep -q 'panicked' "$log" || fail "a panic message was printed"
get /get 200 one
echo "nginx test passed (port $port)"
