-- Snapshots from Lua: db:snapshot() and its async ticket, duplicate requests joining one run,
-- recovery from a snapshot (functional indexes included), failures that leave the engine
-- serving, and tickets and closing while a snapshot runs.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local tmpdir, rmdir, dump = H.tmpdir, H.rmdir, H.dump

local function files(dir, ext)
    local n = 0
    local p = io.popen("ls '" .. dir .. "'")
    for name in p:lines() do
        if name:sub(-#ext) == ext then n = n + 1 end
    end
    p:close()
    return n
end

local mod7 = function(t) return { t[3] % 7 } end
local fns = { functions = { ['test.by_mod'] = mod7 } }

local function open(dir, extra) return H.open_dir(jitbox, dir, extra) end

local function make(db)
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_mod', { func = mod7, parts = {{1, 'integer'}}, unique = false })
    return s
end

test('recovery starts from the snapshot, functional indexes included', function()
    local dir = tmpdir()
    local db = open(dir)
    local s = make(db)
    for i = 1, 300 do s:insert{i, 'n', i} end
    eq(db:snapshot(), true)
    eq(files(dir, '.snap'), 1)
    eq(files(dir, '.wal'), 0, 'the WAL the snapshot covers is gone')
    for i = 290, 310 do s:replace{i, 'm', -i} end
    local before = dump(s)
    local st = db:stat()
    eq(st.snapshots_done, 1)
    eq(st.snapshot_running, 0)
    db:close()
    expect_error('ILLEGAL_PARAMS', "index 'by_mod' of space 'test'", open, dir)
    db = open(dir, fns)
    s = db.space.test
    eq(dump(s), before)
    eq(#s.index.by_mod:select({ 3 }), #db.space.test.index.by_mod:select({ 3 }))
    local n = 0
    for _, t in s:pairs() do if t[3] % 7 == 3 then n = n + 1 end end
    eq(#s.index.by_mod:select({ 3 }), n, 'the functional index is rebuilt from the snapshot')
    -- A snapshot taken now (the functional index built again) keeps its definition.
    db:snapshot()
    db:close()
    db = open(dir, fns)
    eq(dump(db.space.test), before)
    eq(#db.space.test.index.by_mod:select({ 3 }), n)
    db:close()
    rmdir(dir)
end)

test('async snapshots: a ticket, writes going on, requests joining the running one', function()
    local dir = tmpdir()
    local db = open(dir, fns)
    local s = make(db)
    for i = 1, 100 do s:insert{i, 'n', i} end
    local at_request = dump(s)
    jitbox.errinj.set('SNAPSHOT_DELAY', 1)
    local t1 = db:snapshot({ async = true })
    local t2 = db:snapshot({ async = true })
    eq(t1:state(), 'in_progress')
    eq(db:stat().snapshot_running, 1)
    for i = 50, 150 do s:replace{i, 'later', i} end
    eq(t2:state(), 'in_progress')
    jitbox.errinj.set('SNAPSHOT_DELAY', 0)
    eq(t2:wait(), true)
    eq(t1:state(), 'done')
    eq(t1:wait(), true)
    eq(db:stat().snapshots_done, 1, 'two requests, one run')
    db:close()
    os.execute("rm -f '" .. dir .. "'/*.wal")
    db = open(dir, fns)
    eq(dump(db.space.test), at_request, 'the snapshot holds the state at the request')
    db:close()
    rmdir(dir)
end)

test('a failed snapshot raises (or fails its ticket) and the engine keeps serving', function()
    local dir = tmpdir()
    local db = open(dir)
    local s = db:create_space('t', { format = {{'id','unsigned'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:insert{1}
    jitbox.errinj.set('SNAPSHOT_IO', 1)
    expect_error('WAL_IO', 'SNAPSHOT_IO', function() return db:snapshot() end)
    local t = db:snapshot({ async = true })
    local ok, err = t:wait()
    jitbox.errinj.set('SNAPSHOT_IO', 0)
    eq(ok, false)
    eq(err.code, 'WAL_IO')
    eq(t:state(), 'failed')
    eq(db:stat().snapshots_failed, 2)
    eq(files(dir, '.snap') + files(dir, '.tmp'), 0, 'nothing left on disk')
    s:insert{2}
    eq(db:snapshot(), true)
    db:close()
    rmdir(dir)
end)

test('bad snapshot requests are refused', function()
    local db = jitbox.open({})
    expect_error('ILLEGAL_PARAMS', 'dir', function() return db:snapshot() end)
    db:close()
    local dir = tmpdir()
    db = open(dir)
    expect_error('ILLEGAL_PARAMS', 'must be a table', function() return db:snapshot(5) end)
    expect_error('ILLEGAL_PARAMS', "unknown option 'sync'", function() return db:snapshot({ sync = true }) end)
    db:close()
    expect_error('CLOSED', nil, function() return db:snapshot() end)
    rmdir(dir)
end)

test('closing while a snapshot runs finishes it; its ticket outlives the engine', function()
    local dir = tmpdir()
    local db = open(dir)
    local s = db:create_space('t', { format = {{'id','unsigned'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    for i = 1, 1000 do s:insert{i} end
    jitbox.errinj.set('SNAPSHOT_DELAY', 1)
    local t = db:snapshot({ async = true })
    db:close()
    jitbox.errinj.set('SNAPSHOT_DELAY', 0)
    expect_error('CLOSED', nil, function() return t:state() end)
    t = nil
    collectgarbage()
    eq(files(dir, '.snap'), 1, 'the snapshot was finished at close')
    db = open(dir, { wal_mode = 'none' })
    eq(db.space.t:len(), 1000)
    db:close()
    rmdir(dir)
end)

H.done('snapshot.lua')
