-- The peer workload, the same code on every target:
--   tarantool workload.lua tarantool | luajit workload.lua jitbox | luajit workload.lua plain
--   | luajit workload.lua sqlite (in memory, see sqlite.lua) | luajit workload.lua lmdb (on
--   tmpfs, see lmdb.lua)
-- 1M tuples {i, 'name'..(i%1000), i*2}, primary + non-unique string secondary index.
-- Prints "target op ns_per_unit" lines; run.sh turns them into a table with ratios.
local target = arg[1] or 'jitbox'
local N = tonumber(arg[2] or os.getenv('PEER_N') or 1000000)
package.path = 'benches/peer/?.lua;' .. package.path
local now = require('peer_clock')

local db, sql, lm, s, by_name, begin, commit, memory

if target == 'tarantool' then
    -- Its snapshot files go to a temporary directory, not the checkout.
    box.cfg{ memtx_memory = 2 * 1024^3, wal_mode = 'none', log_level = 1, work_dir = os.getenv('TMPDIR') or '/tmp' }
    s = box.schema.space.create('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    by_name = s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    begin, commit = box.begin, box.commit
    memory = function() return tonumber(s:bsize() + s.index.pk:bsize() + by_name:bsize()) end
elseif target == 'jitbox' then
    package.path = 'lua/?.lua;' .. package.path
    local jitbox = require('jitbox')
    db = jitbox.open{ memory_limit = 2 * 1024^3 }
    s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    by_name = s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    begin, commit = function() db:begin() end, function() db:commit() end
    memory = function() return db:stat().memory_used end
elseif target == 'sqlite' then
    sql = require('sqlite').open(':memory:')
    s, by_name, begin, commit, memory = sql.space, sql.by_name, sql.begin, sql.commit, sql.memory
elseif target == 'lmdb' then
    lm = require('lmdb').open(os.getenv('PEER_LMDB_DIR') or '/dev/shm')
    s, by_name, begin, commit, memory = lm.space, lm.by_name, lm.begin, lm.commit, lm.memory
elseif target == 'plain' then
    -- A plain LuaJIT table "space": rows by id, and a name -> {ids} secondary index.
    local rows, names, count = {}, {}, 0
    s = {
        insert = function(_, t) rows[t[1]] = t; local l = names[t[2]]; if not l then l = {}; names[t[2]] = l end; l[#l + 1] = t[1]; count = count + 1 end,
        replace = function(_, t) rows[t[1]] = t end,
        update = function(_, k, ops) local t = rows[k]; t[3] = t[3] + ops[1][3]; return t end,
        get = function(_, k) return rows[k[1]] end,
        delete = function(_, k) local t = rows[k[1]]; rows[k[1]] = nil; return t end,
        pairs = function() return ipairs(rows) end,
    }
    by_name = { pairs = function(_, k)
        local ids, i = names[k[1]], 0
        return function() i = i + 1; local id = ids[i]; if id then return i, rows[id] end end
    end }
    begin, commit = function() end, function() end
    memory = function() collectgarbage(); collectgarbage(); return collectgarbage('count') * 1024 end
else
    error('unknown target ' .. target)
end

-- Resident memory of the whole process, the same measure for every target.
local function rss()
    local f = io.open('/proc/self/statm', 'r')
    local _, resident = f:read('*n', '*n')
    f:close()
    return resident * 4096
end

local function report(op, seconds, units)
    print(('%s %s %.1f'):format(target, op, seconds / units * 1e9))
    io.stdout:flush()
end

collectgarbage()
local mem0, rss0 = memory(), rss()
local t0 = now()
for b = 0, N / 1000 - 1 do
    begin()
    for i = b * 1000 + 1, b * 1000 + 1000 do
        s:insert{i, 'name' .. (i % 1000), i * 2}
    end
    commit()
end
report('insert', now() - t0, N)
print(('%s bytes_per_tuple %.1f'):format(target, (memory() - mem0) / N))
collectgarbage()
print(('%s rss_per_tuple %.1f'):format(target, (rss() - rss0) / N))

local sum = 0
t0 = now()
for i = 1, N do sum = sum + s:get{i}[3] end
report('get', now() - t0, N)
assert(sum == N * (N + 1))

-- A full scan reading one field of every row.
local scanned = 0
sum = 0
t0 = now()
for _, t in s:pairs() do scanned = scanned + 1; sum = sum + t[3] end
local scan_elapsed = now() - t0
report('pairs_scan', scan_elapsed, scanned)
assert(scanned == N and sum == N * (N + 1))

-- The same scan the fastest way each offers: jitbox's projection yields the field's value
-- and makes no tuple. The others' scans above already decode only that field (their rows
-- are one reused table), so their figure stands for both.
if target == 'jitbox' then
    scanned, sum = 0, 0
    t0 = now()
    for _, v in s:pairs(nil, { fields = { 3 } }) do scanned = scanned + 1; sum = sum + v end
    report('pairs_scan_field', now() - t0, scanned)
    assert(scanned == N and sum == N * (N + 1))
else
    report('pairs_scan_field', scan_elapsed, N)
end

scanned = 0
t0 = now()
for k = 0, 999 do
    for _, t in by_name:pairs{'name' .. k} do scanned = scanned + 1 end
end
report('secondary_pairs', now() - t0, scanned)
assert(scanned == N)

t0 = now()
for i = 1, N do s:replace{i, 'name' .. (i % 1000), i * 3} end
report('replace', now() - t0, N)

-- Last, so that it cannot disturb the phases above: the same gets in a scattered order (a
-- stride coprime with N), with no locality to exploit.
sum = 0
t0 = now()
for i = 1, N do sum = sum + s:get{(i * 7919) % N + 1}[3] end
report('get_random', now() - t0, N)
assert(sum == N * (N + 1) * 3 / 2)

-- The same gets inside a transaction: the cost of a read view. (The plain table has none.)
sum = 0
begin()
t0 = now()
for i = 1, N do sum = sum + s:get{(i * 7919) % N + 1}[3] end
report('get_random_in_txn', now() - t0, N)
commit()
assert(sum == N * (N + 1) * 3 / 2)
if target == 'jitbox' then
    -- Through the transaction's handle: no running-coroutine lookup (see README, Transactions).
    sum = 0
    local tx = db:begin()
    t0 = now()
    for i = 1, N do sum = sum + tx:get(s, {(i * 7919) % N + 1})[3] end
    report('get_random_tx_handle', now() - t0, N)
    tx:commit()
    assert(sum == N * (N + 1) * 3 / 2)
end

-- One field changed in place, autocommit: the update runs in the engine (Tarantool: its
-- s:update; SQLite: UPDATE ... SET v = v + ? WHERE id = ?; the plain table: the field of the
-- row table).
t0 = now()
for i = 1, N do s:update(i, {{'+', 3, 1}}) end
report('update', now() - t0, N)
assert(s:get{N}[3] == N * 3 + 1)

-- A functional index {t[3] % 1000}: its build over the N tuples, then replaces with it
-- present (each one changes the key: the old entry goes, the new one comes).
local mod1000 = 'function(t) return {t[3] % 1000} end'
if target == 'tarantool' then
    box.schema.func.create('mod1000', { body = mod1000, is_deterministic = true, is_sandboxed = true })
    t0 = now()
    s:create_index('by_mod', { func = 'mod1000', parts = {{1, 'integer'}}, unique = false })
    report('func_build', now() - t0, N)
elseif target == 'jitbox' then
    t0 = now()
    s:create_index('by_mod', { func = loadstring('return ' .. mod1000)(), parts = {{1, 'integer'}}, unique = false })
    report('func_build', now() - t0, N)
elseif target == 'lmdb' then
    -- LMDB's: a DUPSORT database of v % 1000 -> id, filled from a scan, kept by the writes.
    t0 = now()
    lm.build_mod()
    report('func_build', now() - t0, N)
elseif target == 'sqlite' then
    -- SQLite's counterpart: an index on an expression.
    t0 = now()
    sql.exec('CREATE INDEX by_mod ON test (v % 1000)')
    report('func_build', now() - t0, N)
end
if target ~= 'plain' then
    t0 = now()
    for i = 1, N do s:replace{i, 'name' .. (i % 1000), i * 5} end
    report('func_replace', now() - t0, N)
    local n5 = target == 'sqlite' and sql.count('SELECT count(*) FROM test WHERE v % 1000 = 5')
        or target == 'lmdb' and lm.count_mod(5) or s.index.by_mod:count({ 5 })
    assert(n5 == N / 200)
end

-- Half the rows deleted (the odd ids), in transactions of 1000 deletes.
t0 = now()
for b = 0, N / 2000 - 1 do
    begin()
    for i = b * 2000 + 1, b * 2000 + 2000, 2 do s:delete{i} end
    commit()
end
report('delete', now() - t0, N / 2)
assert(s:get{1} == nil and s:get{2} ~= nil)

if target == 'lmdb' then os.execute(('rm -rf %s'):format(lm.path)) end
if target == 'tarantool' then os.exit(0) end
