-- Recovery time, the same data on both targets: N tuples {id, name, v} with a primary key and a
-- non-unique index on name, written in transactions of 1000 with wal_mode 'write'.
--   TARGET=tarantool|jitbox, one process per phase (Tarantool configures once per process):
--   <runner> recovery.lua TARGET load DIR N   -- write the data into DIR's WAL, exit
--   <runner> recovery.lua TARGET snap DIR     -- recover from the WAL (timed), snapshot (timed)
--   <runner> recovery.lua TARGET open DIR     -- recover from the snapshot (timed)
-- (runner: tarantool, or JITBOX_LIB=... luajit). Prints "target phase seconds tuples".
local target, phase, dir, N = arg[1], arg[2], arg[3], tonumber(arg[4] or 1000000)
package.path = 'benches/peer/?.lua;' .. package.path
local now = require('peer_clock')
local function report(what, t, n) print(('%s %s %.3f %d'):format(target, what, t, n)) end

if target == 'tarantool' then
    local t0 = now()
    box.cfg{ work_dir = dir, wal_mode = 'write', log_level = 1, memtx_memory = 2 * 1024^3,
        checkpoint_interval = 0 }
    local t1 = now()
    if phase == 'load' then
        local s = box.schema.space.create('test')
        s:create_index('pk', { parts = {{1, 'unsigned'}} })
        s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
        for b = 0, N / 1000 - 1 do
            box.begin()
            for i = b * 1000 + 1, b * 1000 + 1000 do s:replace{i, 'name' .. i % 1000, i} end
            box.commit()
        end
    elseif phase == 'snap' then
        report('recover_wal', t1 - t0, box.space.test:len())
        local t2 = now()
        box.snapshot()
        report('snapshot', now() - t2, box.space.test:len())
    else
        report('recover_snapshot', t1 - t0, box.space.test:len())
    end
    os.exit(0)
end

local jitbox = require('jitbox')
local t0 = now()
local db = jitbox.open{ dir = dir, wal_mode = 'write', memory_limit = 2 * 1024^3 }
local t1 = now()
if phase == 'load' then
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    for b = 0, N / 1000 - 1 do
        db:begin()
        for i = b * 1000 + 1, b * 1000 + 1000 do s:replace{i, 'name' .. i % 1000, i} end
        db:commit()
    end
elseif phase == 'snap' then
    report('recover_wal', t1 - t0, db.space.test:len())
    local t2 = now()
    db:snapshot()
    report('snapshot', now() - t2, db.space.test:len())
else
    report('recover_snapshot', t1 - t0, db.space.test:len())
end
db:close()
