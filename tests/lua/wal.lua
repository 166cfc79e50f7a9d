-- Durability from Lua: commits survive reopening (functional indexes come back with the key
-- functions the application supplies), asynchronous commits and their tickets, and the
-- WAL-queue-full scenario: a failed write rolls back everything after it, newest first.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local tmpdir, rmdir, dump = H.tmpdir, H.rmdir, H.dump

local mod1000 = function(t) return { t[3] % 1000 } end

local function open(dir, extra) return H.open_dir(jitbox, dir, extra) end

test('commits survive reopening; functional indexes come back with their key functions', function()
    local dir = tmpdir()
    local db = open(dir)
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_mod', { func = mod1000, parts = {{1, 'integer'}}, unique = false })
    for i = 1, 100 do s:insert{i, 'n', i * 3} end
    db:begin(); s:replace{1, 'x', 2000 + 5}; s:delete{2}; db:commit()
    local before = dump(s)
    db:close()
    local err = expect_error('ILLEGAL_PARAMS', "'test.by_mod'", open, dir)
    db = open(dir, { functions = { ['test.by_mod'] = mod1000 } })
    s = db.space.test
    eq(dump(s), before, 'the data as committed')
    eq(#s.index.by_mod:select({ 5 }), 1, 'the functional index is rebuilt')
    eq(s.index.by_mod:select({ 5 })[1][1], 1)
    s:replace{3, 'y', 7}
    eq(s.index.by_mod:select({ 7 })[1][1], 3, 'and maintained')
    db:close()
    rmdir(dir)
    assert(err.message:find('functions', 1, true))
end)

test('open refuses bad durability options', function()
    expect_error('ILLEGAL_PARAMS', 'wal_mode', jitbox.open, { wal_mode = 'sometimes' })
    expect_error('ILLEGAL_PARAMS', 'need a dir', jitbox.open, { wal_mode = 'write' })
    expect_error('ILLEGAL_PARAMS', 'dir must be a string', jitbox.open, { dir = 5 })
end)

test('a full WAL queue, then a failed write: every waiting commit rolls back in order', function()
    local dir = tmpdir()
    local db = open(dir, { wal_queue_max_size = 1 })
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    for i = 1, 20 do s:insert{i, 'n' .. i % 3, 0} end
    local before = dump(s)
    jitbox.errinj.set('WAL_DELAY', 1)
    local tickets = {}
    for n = 1, 1500 do
        local tx = db:begin()
        s:replace{1, 'k', n}          -- each rewrites the same key, on top of the one before
        s:insert{1000 + n, 'i', n}    -- and inserts or deletes others
        if n % 2 == 0 then s:delete{1000 + n - 1} end
        tickets[n] = tx:commit_async()
    end
    eq(tickets[1]:state(), 'waiting')
    eq(tickets[2]:state(), 'queued', 'beyond wal_queue_max_size: waiting in order')
    eq(s:get{1}[3], 1500, 'prepared changes are visible')
    jitbox.errinj.set('WAL_WRITE', 1)
    jitbox.errinj.set('WAL_DELAY', 0)
    for n = 1500, 1, -1 do
        local ok, err = tickets[n]:wait()
        eq(ok, false)
        eq(err.code, n == 1 and 'WAL_IO' or 'CASCADE_ROLLBACK', 'ticket ' .. n)
        eq(tickets[n]:state(), 'rolled_back')
    end
    eq(dump(s), before, 'data exactly as before')
    eq(#s.index.by_name:select({ 'k' }), 0, 'and every index')
    eq(db:stat().wal_rolled_back, 1500)
    jitbox.errinj.set('WAL_WRITE', 0)
    s:replace{1, 'z', 1}
    local after = dump(s)
    db:close()
    db = open(dir)
    eq(dump(db.space.test), after, 'reopened: exactly what was committed')
    db:close()
    rmdir(dir)
end)

test('tickets from a transaction that reaches the WAL', function()
    local dir = tmpdir()
    local db = open(dir, { wal_mode = 'fsync' })
    local s = db:create_space('t', { format = {{'id','unsigned'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    local tickets = {}
    for i = 1, 100 do
        local tx = db:begin()
        s:insert{i}
        tickets[i] = tx:commit_async()
    end
    for i = 1, 100 do eq(tickets[i]:wait(), true) end
    eq(tickets[100]:state(), 'committed')
    -- The ticket is the transaction itself; one committed otherwise has no ticket to ask.
    local tx = db:begin()
    s:insert{999}
    local t = tx:commit_async()
    assert(t == tx, 'commit_async returns the transaction as its ticket')
    eq(tx:wait(), true); eq(tx:state(), 'committed')
    local sync = db:begin()
    expect_error('ILLEGAL_PARAMS', 'not committed with commit_async', sync.state, sync)
    sync:commit()
    expect_error('ILLEGAL_PARAMS', 'not committed with commit_async', sync.wait, sync)
    local open_tx = db:begin()
    s:insert{1000}
    db:close()
    -- Closing rolled the open transaction back; using it says so (and reads nothing freed:
    -- .ci/run runs this file under valgrind).
    expect_error('CLOSED', nil, function() open_tx:commit() end)
    -- Tickets outlive their engine: reading one says it is closed, freeing it is fine.
    expect_error('CLOSED', nil, function() return tickets[1]:state() end)
    local ok, err = tickets[2]:wait()
    eq(ok, false); eq(err.code, 'CLOSED')
    tickets = nil
    collectgarbage()
    rmdir(dir)
    -- Without a WAL a commit is durable as soon as it is made.
    local mem = jitbox.open()
    local m = mem:create_space('m', {})
    m:create_index('pk', { parts = {{1, 'unsigned'}} })
    local tx = mem:begin(); m:insert{1}
    local t = tx:commit_async()
    eq(t:state(), 'committed'); eq(t:wait(), true)
    mem:close()
end)

H.done('wal.lua')
