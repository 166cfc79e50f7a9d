-- Durable commits, one replace each, on every target:
--   tarantool commit.lua tarantool MODE N | luajit commit.lua TARGET MODE N
--   (TARGET: jitbox | jitbox_sync | sqlite | lmdb; MODE: write | fsync)
-- Tarantool: 100 fibers doing autocommit replaces. jitbox: ONE Lua thread committing
-- transactions of one replace asynchronously, keeping up to WINDOW tickets in flight (a ring).
-- jitbox_sync: autocommit replaces, each waiting for its WAL write. SQLite: autocommit
-- replaces into a WAL-journal file, synchronous = NORMAL (`write`: no sync per commit) or FULL
-- (`fsync`). LMDB: a write transaction per replace, MDB_NOSYNC | MDB_WRITEMAP (`write`) or
-- synced (`fsync`), on the same disk as the others (not tmpfs).
-- Prints "target commits_per_s_MODE value".
local target, mode, N = arg[1] or 'jitbox', arg[2] or 'write', tonumber(arg[3] or 200000)
-- The window covers the latency of one flush: a write(2) in `write` mode, an fdatasync in
-- `fsync` mode (1-3 ms here, thousands of commits). PEER_WINDOW overrides it.
local WINDOW = tonumber(os.getenv('PEER_WINDOW') or (mode == 'fsync' and 4000 or 1000))
package.path = 'benches/peer/?.lua;' .. package.path
local now = require('peer_clock')
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p '" .. dir .. "'")

local elapsed
if target == 'tarantool' then
    local fiber = require('fiber')
    box.cfg{ wal_mode = mode, work_dir = dir, log_level = 1, memtx_memory = 1024^3 }
    local s = box.schema.space.create('test')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    local FIBERS, done = 100, 0
    local per = math.floor(N / FIBERS)
    local ch = fiber.channel(FIBERS)
    local t0 = now()
    for f = 1, FIBERS do
        fiber.create(function()
            for i = 1, per do s:replace{(f - 1) * per + i, 'name', i} end
            ch:put(true)
        end)
    end
    for _ = 1, FIBERS do ch:get() end
    elapsed = now() - t0
    N = per * FIBERS
elseif target == 'sqlite' then
    local sync = mode == 'fsync' and 'FULL' or 'NORMAL'
    local q = require('sqlite').open(dir .. '/test.db', { 'PRAGMA journal_mode = WAL',
        'PRAGMA synchronous = ' .. sync }, true)
    local s = q.space
    local t0 = now()
    for i = 1, N do s:replace{i, 'name', i} end
    elapsed = now() - t0
elseif target == 'lmdb' then
    local l = require('lmdb').open(dir, mode == 'fsync', true)
    local s = l.space
    local t0 = now()
    for i = 1, N do s:replace{i, 'name', i} end
    elapsed = now() - t0
    os.execute("rm -rf '" .. l.path .. "'")
elseif target == 'jitbox_sync' then
    package.path = 'lua/?.lua;' .. package.path
    local db = require('jitbox').open{ dir = dir, wal_mode = mode, memory_limit = 1024^3 }
    local s = db:create_space('test', {})
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    local t0 = now()
    for i = 1, N do s:replace{i, 'name', i} end
    elapsed = now() - t0
    db:close()
else
    package.path = 'lua/?.lua;' .. package.path
    local jitbox = require('jitbox')
    local db = jitbox.open{ dir = dir, wal_mode = mode, memory_limit = 1024^3 }
    local s = db:create_space('test', {})
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    -- The window is a ring of WINDOW slots: before a slot is reused, the commit made
    -- WINDOW commits ago must be durable.
    local ring = {}
    local t0 = now()
    for i = 1, N do
        local slot = i % WINDOW
        local old = ring[slot]
        if old then assert(old:wait()) end
        local tx = db:begin()
        s:replace{i, 'name', i}
        ring[slot] = tx:commit_async()
    end
    for _, t in pairs(ring) do assert(t:wait()) end
    elapsed = now() - t0
    db:close()
end
print(('%s commits_per_s_%s %.0f'):format(target, mode, N / elapsed))
os.execute("rm -rf '" .. dir .. "'")
if target == 'tarantool' then os.exit(0) end
