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
    local err = expect_error('ILLEGAL_PARAMS', "index 'by_mod' of space 'test'", open, dir)
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

test('key functions by space and index: names with dots are never confused', function()
    local dir = tmpdir()
    local db = open(dir)
    -- Space 'a.b' index 'c' and space 'a' index 'b.c': one flat name 'a.b.c' for both.
    local ab = db:create_space('a.b')
    ab:create_index('pk', { parts = {{1, 'unsigned'}} })
    ab:create_index('c', { func = function(t) return { t[2] * 10 } end, parts = {{1, 'integer'}} })
    local a = db:create_space('a')
    a:create_index('pk', { parts = {{1, 'unsigned'}} })
    a:create_index('b.c', { func = function(t) return { t[2] * 100 } end, parts = {{1, 'integer'}} })
    ab:insert{1, 2}; a:insert{1, 3}
    db:close()
    local flat = function() return { 0 } end
    expect_error('ILLEGAL_PARAMS', 'ambiguous', open, dir, { functions = { ['a.b.c'] = flat } })
    db = open(dir, { functions = {
        ['a.b'] = { c = function(t) return { t[2] * 10 } end },
        a = { ['b.c'] = function(t) return { t[2] * 100 } end } } })
    eq(db.space['a.b'].index.c:get{20}[1], 1, "space 'a.b' has its own function")
    eq(db.space.a.index['b.c']:get{300}[1], 1, "space 'a' has its own function")
    db:close()
    rmdir(dir)
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

-- The newest WAL file of dir (names sort like LSNs).
local function newest_wal(dir)
    local p = io.popen("ls '" .. dir .. "'/*.wal | tail -1")
    local name = p:read('*l')
    p:close()
    return name
end

-- A directory with ten commits, closed; its newest WAL file and that file's bytes.
local function ten_commits()
    local dir = tmpdir()
    local db = open(dir)
    local s = db:create_space('test', { format = {{'id','unsigned'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    for i = 1, 10 do s:insert{i} end
    db:close()
    local path = newest_wal(dir)
    local f = io.open(path, 'rb'); local bytes = f:read('*a'); f:close()
    return dir, path, bytes
end

test('the logger is in place before recovery: a torn tail is reported and kept aside', function()
    local dir, path, bytes = ten_commits()
    local db, f
    -- Tear the last record: as a crash in the middle of a write leaves it.
    f = io.open(path, 'wb'); f:write(bytes:sub(1, #bytes - 5)); f:close()
    local got = {}
    db = open(dir, { logger = function(level, msg) got[#got + 1] = { level, msg } end })
    eq(db.space.test:len(), 9, 'the torn commit was never acknowledged')
    local warned, summary
    for _, m in ipairs(got) do
        if m[1] == jitbox.LOG_WARN and m[2]:find('incomplete record', 1, true) then warned = m[2] end
        if m[1] == jitbox.LOG_INFO and m[2]:find('recovered', 1, true) then summary = m[2] end
    end
    assert(warned, 'the torn tail reached the logger during open')
    assert(summary and summary:find('9 tuple(s)', 1, true), tostring(summary))
    local st = db:stat()
    assert(st.recovery:find('recovered', 1, true) and st.recovery:find('.torn', 1, true), st.recovery)
    assert(st.recovery_set_aside > 0 and st.recovery_records >= 10, 'counted in stat')
    db:close()
    local side_path = warned:match("kept in '([^']+)'")
    local offset = tonumber(side_path:match('%.(%d+)%.torn$'))
    local side = io.open(side_path, 'rb')
    assert(side, 'the side file exists: ' .. warned)
    eq(side:read('*a'), bytes:sub(offset + 1, #bytes - 5), 'its bytes are the torn ones')
    side:close()
    rmdir(dir)
end)

test('damage refuses the open; force_recovery opens with what precedes it', function()
    local dir, path, bytes = ten_commits()
    local db, f
    local flipped = bytes:sub(1, #bytes - 1) .. string.char((bytes:byte(#bytes) + 1) % 256)
    f = io.open(path, 'wb'); f:write(flipped); f:close()
    local err = expect_error('WAL_IO', 'offset', open, dir)
    assert(err.message:find(path, 1, true) and err.message:find('force_recovery', 1, true), err.message)
    f = io.open(path, 'rb'); eq(f:read('*a'), flipped, 'nothing changed'); f:close()
    expect_error('ILLEGAL_PARAMS', 'force_recovery', open, dir, { force_recovery = 'yes' })
    local warnings = {}
    db = open(dir, { force_recovery = true,
        logger = function(level, msg) if level == jitbox.LOG_WARN then warnings[#warnings + 1] = msg end end })
    eq(db.space.test:len(), 9, 'everything before the damaged record')
    eq(#warnings, 1)
    assert(warnings[1]:find('force_recovery', 1, true) and warnings[1]:find('.damaged', 1, true), warnings[1])
    db:close()
    rmdir(dir)
end)

test('one engine per directory: a second open is BUSY naming the holder, lock_timeout waits', function()
    local dir = tmpdir()
    local db = open(dir)
    local err = expect_error('BUSY', 'in use by', open, dir)
    assert(err.message:find(dir, 1, true) and err.message:find('lock_timeout', 1, true), err.message)
    expect_error('BUSY', 'after waiting 0.1 s', open, dir, { lock_timeout = 0.1 })
    expect_error('ILLEGAL_PARAMS', 'lock_timeout', open, dir, { lock_timeout = -1 })
    expect_error('ILLEGAL_PARAMS', 'lock_timeout', open, dir, { lock_timeout = 0 / 0 })
    expect_error('ILLEGAL_PARAMS', 'logger', open, dir, { logger = 'ngx.log' })
    db:close()
    db = open(dir, { lock_timeout = 1 })
    db:close()
    rmdir(dir)
end)

test('a logger that raises loses its message only', function()
    local dir = tmpdir()
    local calls = 0
    local db = open(dir, { logger = function() calls = calls + 1; error('logger broke') end })
    db:create_space('x')
    assert(calls > 0)
    db:close()
    rmdir(dir)
end)

test('dropped indexes stay dropped after reopening; an index found by number has its name', function()
    local dir = tmpdir()
    local db = open(dir)
    local s = db:create_space('t')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by2', { parts = {{2, 'unsigned'}}, unique = true })
    s:create_index('by3', { parts = {{3, 'unsigned'}}, unique = false })
    s:insert{1, 5, 0}
    eq(s.index[0].name, 'pk')
    eq(s.index[1].name, 'by2')
    s.index[1]:drop()                          -- by number
    eq(s.index.by2, nil, 'no stale entry by name')
    s.index.by3:drop()
    s:insert{2, 5, 0}                          -- legal only without by2
    db:close()
    db = open(dir)
    s = db.space.t
    eq(s.index.by2, nil); eq(s.index.by3, nil)
    eq(s:len(), 2)
    db:close()
    rmdir(dir)
end)

test('db:stat() says where the log is, what its writer does and what each space holds', function()
    local mem = jitbox.open()
    local st = mem:stat()
    eq(st.wal_state, 'off'); eq(st.dir, ''); eq(st.wal_file, ''); eq(next(st.spaces), nil)
    expect_error('ILLEGAL_PARAMS', 'has no log', mem.commit_fd, mem)
    mem:close()
    local dir = tmpdir()
    local db = open(dir)
    st = db:stat()
    eq(st.wal_state, 'idle'); eq(st.dir, dir); eq(st.wal_file, '', 'no file before the first write')
    local fd = db:commit_fd()
    assert(type(fd) == 'number' and fd >= 0); eq(db:commit_fd(), fd, 'one descriptor per engine')
    local s = db:create_space('s', { format = {{'id', 'unsigned'}, {'name', 'string'}} })
    s:create_index('pk')
    s:create_index('by_name', { parts = {'name'}, unique = false })
    for i = 1, 50 do s:insert{i, 'n' .. i} end
    st = db:stat()
    eq(st.wal_file, dir .. '/00000000000000000001.wal')
    assert(io.open(st.wal_file, 'rb'), 'the file db:stat() names exists')
    eq(st.spaces.s.tuples, 50); eq(st.spaces.s.bytes, s:bsize()); eq(st.spaces.s.id, s.id)
    eq(table.concat(st.spaces.s.indexes, ','), 'pk,by_name')
    db:close()
    -- Recovery says how far it got, as it goes (a progress line every 10 records here).
    jitbox.errinj.set('RECOVERY_PROGRESS', 10)
    local lines = {}
    db = open(dir, { logger = function(_, msg) lines[#lines + 1] = msg end })
    jitbox.errinj.set('RECOVERY_PROGRESS', 0)
    local progress = {}
    for _, l in ipairs(lines) do
        local n = l:match("^recovering '.*': (%d+) WAL record%(s%) replayed, at LSN %d+$")
        if n then progress[#progress + 1] = tonumber(n) end
    end
    eq(table.concat(progress, ','), '10,20,30,40,50', 'progress of 53 records: ' .. table.concat(lines, ' | '))
    st = db:stat()
    eq(st.recovery_records, 53); eq(st.spaces.s.tuples, 50)
    db:close()
    rmdir(dir)
end)

test('a wait hook: commits and writes outside a transaction wait through it, not in the engine', function()
    expect_error('ILLEGAL_PARAMS', 'wait must be a function', open, tmpdir(), { wait = 'ngx.sleep' })
    local dir = tmpdir()
    local calls, held, seen = 0, false, nil
    local db
    -- The hook stands for ngx.sleep: other work runs meanwhile; here it reads, and lets the
    -- held-back writer go on.
    local function hook()
        calls = calls + 1
        seen = db.space.s:get{1}
        if held then held = false; jitbox.errinj.set('WAL_DELAY', 0) end
    end
    local function hold() held = true; jitbox.errinj.set('WAL_DELAY', 1); return calls end
    db = open(dir, { wait = hook })
    local s = db:create_space('s')
    s:create_index('pk')
    local before = hold()
    s:insert{1, 'a'} -- outside a transaction: its own, committed through the hook
    assert(calls > before and not held, 'the write waited through the hook')
    eq(seen and seen[2], 'a', 'what the waiting write made is visible meanwhile')
    before = hold()
    local tx = db:begin(); s:insert{2, 'b'}; tx:commit_async()
    eq(tx:wait(), true); assert(calls > before and not held)
    before = hold()
    db:begin(); s:insert{3, 'c'}; db:commit()
    assert(calls > before and not held)
    -- A failed write: the commit through the hook raises WAL_IO, and the row is gone.
    hold()
    jitbox.errinj.set('WAL_WRITE', 1)
    local ok, err = pcall(s.replace, s, {4, 'd'})
    jitbox.errinj.set('WAL_WRITE', 0)
    assert(not ok and jitbox.error(err).code == 'WAL_IO', tostring(err))
    eq(s:get{4}, nil)
    -- In a transaction of the caller's, a write is the transaction's: the hook waits only at
    -- its commit.
    before = calls
    db:begin(); s:insert{5, 'e'}; eq(calls, before); db:rollback()
    db:close()
    db = open(dir)
    eq(db.space.s:len(), 3, 'what the hook waited for is in the log')
    db:close()
    rmdir(dir)
end)

H.done('wal.lua')
