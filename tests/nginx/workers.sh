#!/usr/bin/env bash
# Per-worker engines under load in a real nginx (tests/nginx/workers.conf): clients write
# unique keys while the workers are reloaded (nginx -s reload) and one is killed with SIGKILL;
# afterwards every write nginx answered "ok" for is in the directory of the worker that
# answered, recovery and warnings reached the error log through ngx.log, and nothing
# panicked. Loopback only, bounded loops. Needs nginx, libnginx-mod-http-lua, curl,
# target/release/libjitbox.so and target/release/jitbox (the command).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
prefix=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
mkdir -p "$prefix/logs" "$prefix/data" "$prefix/acks"
chmod 755 "$prefix"
# Worker 1's directory starts with a torn last write: its recovery must warn through ngx.log.
JITBOX_LIB=target/release/libjitbox.so luajit -e "
package.path = 'lua/?.lua;' .. package.path
local db = require('jitbox').open{ dir = '$prefix/data/worker1', wal_mode = 'write' }
db:create_space('kv'):create_index('pk', { parts = {{1, 'string'}} })
db.space.kv:replace{'torn', 1}
db:close()"
wal=$(ls "$prefix"/data/worker1/*.wal | tail -1)
truncate -s -3 "$wal"
chown -R nobody:nogroup "$prefix/data"
sed -e "s#@ROOT@#$root#g" -e "s#@LIB@#$root/target/release/libjitbox.so#g" -e "s#@PORT@#$port#g" \
    -e "s#@DATA@#$prefix/data#g" -e "s#@WAIT@#function() ngx.sleep(0.001) end#g" \
    tests/nginx/workers.conf >"$prefix/nginx.conf"
conf=(-p "$prefix" -c "$prefix/nginx.conf")
nginx "${conf[@]}"
cleanup() { nginx "${conf[@]}" -s stop 2>/dev/null || true; rm -rf "$prefix"; }
trap cleanup EXIT
[ -z "${KEEP:-}" ] || trap - EXIT
log="$prefix/logs/error.log"
fail() { echo "nginx workers test: $*"; echo "--- error.log (tail)"; tail -50 "$log"; exit 1; }
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/stat" && break; sleep 0.1; done

# Writers: each records the keys nginx acknowledged, with the worker that did, until told to
# stop (at most 3000 requests each).
writer() {
    local n=$1 i body
    for i in $(seq 3000); do
        [ -e "$prefix/stop" ] && break
        body=$(curl -s -m 30 "http://127.0.0.1:$port/put?k=w$n-$i" || true)
        case "$body" in "ok "*) echo "w$n-$i ${body#ok }" >>"$prefix/acks/$n" ;; esac
    done
}
for n in 1 2 3 4; do writer "$n" & done
sleep 1
nginx "${conf[@]}" -s reload
sleep 1.5
victim=$(pgrep -P "$(cat "$prefix/logs/nginx.pid")" | head -1)
kill -9 "$victim"
sleep 1.5
nginx "${conf[@]}" -s reload
sleep 1
touch "$prefix/stop"
wait
# Both workers answer, and each says where its engine is.
for _ in $(seq 20); do curl -s "http://127.0.0.1:$port/stat" >>"$prefix/stats"; done
grep -Eq "^([01]) idle [0-9]+ $prefix/data/worker\1$" "$prefix/stats" || fail "/stat: $(cat "$prefix/stats")"
nginx "${conf[@]}" -s quit
for _ in $(seq 100); do [ -e "$prefix/logs/nginx.pid" ] || break; sleep 0.1; done
[ ! -e "$prefix/logs/nginx.pid" ] || fail "nginx did not stop"

cat "$prefix"/acks/* >"$prefix/all"
acked=$(wc -l <"$prefix/all")
[ "$acked" -ge 200 ] || fail "only $acked writes were acknowledged"
# Every acknowledged key is in its worker's directory, read with the engine after nginx.
JITBOX_LIB=target/release/libjitbox.so luajit -e "
package.path = 'lua/?.lua;' .. package.path
local jitbox = require('jitbox')
local dbs, lost, n = {}, {}, 0
for line in io.lines('$prefix/all') do
    local key, worker = line:match('^(%S+) (%d+)$')
    dbs[worker] = dbs[worker] or jitbox.open{ dir = '$prefix/data/worker' .. worker }
    if dbs[worker].space.kv:get{key} == nil then lost[#lost + 1] = key end
    n = n + 1
end
for _, db in pairs(dbs) do db:close() end
if #lost > 0 then error(#lost .. ' of ' .. n .. ' acknowledged writes lost: ' .. table.concat(lost, ' ')) end
print('nginx workers test: ' .. n .. ' acknowledged writes, all in their worker\'s directory')
" || fail "acknowledged writes are missing"
for dir in "$prefix"/data/worker*; do
    target/release/jitbox verify "$dir" >/dev/null || fail "jitbox verify $dir: $(target/release/jitbox verify "$dir")"
done
grep -q "\[info\].*recovered '$prefix/data/worker0'" "$log" || fail "recovery did not reach the log through ngx.log"
grep -q "\[warn\].*worker1/.*\.torn" "$log" || fail "the torn tail's warning did not reach the log through ngx.log"
[ "$(grep -c "recovered '$prefix/data/worker" "$log")" -ge 6 ] || fail "fewer than 6 opens (2 starts, 2 reloads, a respawn) logged"
! grep -q 'panicked' "$log" || fail "a panic message was printed"
echo "nginx workers test passed (port $port)"
