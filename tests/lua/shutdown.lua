-- Lifecycle: with the seed in SEED (and a scratch directory in DIR), makes a random set of
-- objects — engines with and without a WAL, spaces, indexes (a functional one with a Lua key
-- function), tuples, iterators stopped half way, transactions left open in coroutines, commit
-- tickets (some held back by WAL_DELAY), snapshot tickets (some held back by SNAPSHOT_DELAY) —
-- then drops a random part of them in random order, maybe closes the engine, and returns with
-- the rest alive. The host then closes the interpreter (lua_close runs every finalizer, in an
-- order nobody chooses) and expects no crash, hang or leak: run it for many seeds, also under
-- valgrind.
local jitbox = require('jitbox')
local seed = assert(tonumber(SEED), 'set SEED')
local dir = assert(DIR, 'set DIR')
math.randomseed(seed)
local function chance(p) return math.random() < p end
local function pick(t) return t[math.random(#t)] end

os.execute("rm -rf '" .. dir .. "'")
local mod5 = function(t) return { t[3] % 5 } end
local modes = { 'none', 'write', 'fsync' }
local alive = {}
local function keep(x) alive[#alive + 1] = x return x end

local dbs = {}
for k = 1, math.random(1, 2) do
    -- (Error injection is per thread: DDL on the next engine would wait for a delayed WAL.)
    jitbox.errinj.set('WAL_DELAY', 0)
    jitbox.errinj.set('SNAPSHOT_DELAY', 0)
    local opts = { memory_limit = 32 * 2^20 }
    if chance(0.7) then
        opts.dir = dir .. '-' .. k
        opts.wal_mode = pick(modes)
        os.execute("rm -rf '" .. opts.dir .. "'")
    end
    local db = keep(jitbox.open(opts))
    dbs[#dbs + 1] = db
    local s = keep(db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} }))
    keep(s:create_index('pk', { parts = {{1, 'unsigned'}} }))
    if chance(0.5) then keep(s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })) end
    if chance(0.7) then
        keep(s:create_index('by_mod', { func = mod5, parts = {{1, 'integer'}}, unique = false }))
    end
    for i = 1, math.random(10, 300) do s:replace{i, 'n' .. i % 7, i} end

    for _ = 1, math.random(0, 5) do keep(s:get{math.random(1, 10)}) end
    for _ = 1, math.random(0, 3) do
        local gen, param, state = s:pairs()
        for _ = 1, math.random(0, 5) do state = gen(param, state) end
        keep({ gen, param, state })
    end
    for _ = 1, math.random(0, 3) do
        -- A transaction left open in a coroutine that never finishes.
        local co = coroutine.create(function()
            db:begin()
            s:replace{math.random(1, 50), 'tx', -1}
            coroutine.yield()
            db:commit()
        end)
        assert(coroutine.resume(co))
        if chance(0.6) then keep(co) end
    end
    if opts.dir and chance(0.6) then
        if chance(0.5) then jitbox.errinj.set('SNAPSHOT_DELAY', 1) end
        keep(db:snapshot({ async = true }))
        if chance(0.3) then keep(db:snapshot({ async = true })) end
    end
    if opts.wal_mode and opts.wal_mode ~= 'none' then
        -- (A snapshot request waits for commits in flight: no snapshot after this.)
        if chance(0.5) then jitbox.errinj.set('WAL_DELAY', 1) end
        for n = 1, math.random(0, 20) do
            local tx = db:begin()
            s:replace{1000 + n, 'async', n}
            keep(tx:commit_async())
        end
    end
end

-- Drop a random part, in random order, collecting as we go; maybe close an engine between.
for _ = 1, math.random(0, #alive) do
    local i = math.random(#alive)
    alive[i] = alive[#alive]
    alive[#alive] = nil
    if chance(0.3) then collectgarbage() end
    if chance(0.1) then
        local db = pick(dbs)
        if chance(0.5) then jitbox.errinj.set('WAL_DELAY', 0) end
        db:close()
    end
end
if chance(0.5) then
    jitbox.errinj.set('WAL_DELAY', 0)
    jitbox.errinj.set('SNAPSHOT_DELAY', 0)
end
if chance(0.3) then pick(dbs):close() end
if chance(0.5) then collectgarbage() end
KEEP = alive -- a global: alive until lua_close
return #alive
