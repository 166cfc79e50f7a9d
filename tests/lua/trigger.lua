-- Triggers run in Lua around the write, never from C: loops of writes with triggers compiled
-- from the first iteration (hotloop=1) call each trigger exactly once per statement, triggers
-- may use the engine and yield, a raising trigger undoes its statement, and transaction
-- triggers fire for synchronous and asynchronous commits once the outcome is known.
-- tests/compat/trigger.lua compares the semantics with Tarantool.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

test('hot loops of writes with triggers: each trigger once per statement', function()
    local db = jitbox.open()
    local s = db:create_space('t', { format = {{'id', 'unsigned'}, {'v', 'integer'}} })
    s:create_index('pk')
    local audit = db:create_space('audit')
    audit:create_index('pk')
    local before, on, n = 0, 0, 0
    s:before_replace(function(old, new) before = before + 1; return new end)
    s:on_replace(function(old, new, name, op)
        on = on + 1
        n = n + 1
        audit:insert{n, op, old and old[1] or 0, new and new[1] or 0} -- the engine, from a trigger
    end)
    jit.flush()
    jit.opt.start('hotloop=1', 'hotexit=1')
    local N = 300
    for i = 1, N do s:insert{i, i} end
    for i = 1, N do s:replace{i, i + 1} end
    for i = 1, N do s:update(i, {{'+', 2, 1}}) end
    for i = 1, N do s:upsert({i, 0}, {{'+', 2, 1}}) end
    db:begin()
    for i = 1, N, 2 do s:delete{i} end
    db:commit()
    for i = 1, N, 2 do s:delete(i) end -- missing: no statement, no trigger
    jit.opt.start('hotloop=56', 'hotexit=10')
    local statements = 4 * N + N / 2
    eq(before, statements, 'before_replace calls')
    eq(on, statements, 'on_replace calls')
    eq(audit:len(), statements, 'rows the triggers wrote')
    eq(s:len(), N / 2)
    eq(s:get(2)[2], 2 + 1 + 1 + 1)
    db:close()
end)

test('a trigger may yield; one that raises undoes its statement and what it wrote', function()
    local db = jitbox.open()
    local s = db:create_space('t')
    s:create_index('pk')
    local log = db:create_space('log')
    log:create_index('pk')
    s:on_replace(function(old, new)
        log:insert{#log:select() + 1, new and new[1] or -1}
        coroutine.yield('in trigger')
        if new and new[2] == 'boom' then error('boom') end
    end)
    local co = coroutine.create(function() return s:insert{1, 'ok'} end)
    eq(select(2, coroutine.resume(co)), 'in trigger')
    eq(s:get(1), nil, 'not visible while its statement runs')
    local ok, t = coroutine.resume(co)
    assert(ok); eq(t[1], 1)
    eq(s:get(1)[2], 'ok')
    co = coroutine.create(function() return s:insert{2, 'boom'} end)
    coroutine.resume(co)
    local ok2, err = coroutine.resume(co)
    assert(not ok2 and tostring(err):find('boom'), tostring(err))
    eq(s:get(2), nil, 'the statement is undone')
    eq(log:len(), 1, 'and so is what its trigger wrote')
    eq(db:stat().txn_open, 0)
    db:close()
end)

test('transaction triggers: commit, rollback, failed commits and async commits', function()
    local dir = H.tmpdir()
    local db = H.open_dir(jitbox, dir)
    local s = db:create_space('t')
    s:create_index('pk')
    local seen = {}
    local function note(what) return function() seen[#seen + 1] = what end end
    expect_error('ILLEGAL_PARAMS', 'inside a transaction', db.on_commit, db, note('x'))
    db:begin(); db:on_commit(note('c1')); db:on_rollback(note('r1')); s:insert{1}; db:commit()
    db:begin(); db:on_commit(note('c2')); db:on_rollback(note('r2')); s:insert{2}; db:rollback()
    -- A commit that fails (conflict) runs the rollback triggers.
    local tx = db:begin(); db:on_commit(note('c3')); db:on_rollback(note('r3'))
    s:replace{1, 'mine'}
    coroutine.wrap(function() s:replace{1, 'theirs'} end)()
    expect_error('CONFLICT', nil, tx.commit, tx)
    -- An async commit: its triggers run when its outcome is known.
    local t4 = db:begin(); db:on_commit(note('c4')); s:insert{4}
    local ticket = t4:commit_async()
    eq(#seen, 3, 'not yet')
    assert(ticket:wait())
    ticket:wait()
    eq(table.concat(seen, ' '), 'c1 r2 r3 c4')
    -- A trigger that raises: the transaction ended all the same, and the error says so.
    db:begin(); db:on_commit(function() error('late') end); db:on_commit(note('c5')); s:insert{5}
    expect_error('ILLEGAL_PARAMS', 'on_commit trigger failed after the transaction ended', db.commit, db)
    eq(s:get(5)[1], 5); eq(seen[#seen], 'c5', 'every trigger ran')
    -- Removing and replacing triggers.
    db:begin()
    local f = db:on_commit(note('never'))
    db:on_commit(note('c6'), f)
    eq(#db:on_commit(), 1)
    db:on_commit(nil, db:on_commit()[1])
    eq(#db:on_commit(), 0)
    db:commit()
    eq(seen[#seen], 'c5')
    db:close()
    H.rmdir(dir)
end)

test('the statement iterator: recorded from a trigger set before the first statement', function()
    local dir = H.tmpdir()
    local db = H.open_dir(jitbox, dir)
    local s = db:create_space('t')
    s:create_index('pk')
    local function ids(it) local r = {} for _, old, new in it() do r[#r + 1] = (old and old[1] or '-') .. '>' .. (new and new[1] or '-') end return table.concat(r, ' ') end
    -- A trigger set after a statement: the iterator says what it lacks.
    local got
    db:begin(); s:insert{1}
    db:on_commit(function(it) got = { pcall(it) } end)
    db:commit()
    eq(got[1], false)
    assert(tostring(got[2]):find('1 statement(s) came before it', 1, true), tostring(got[2]))
    -- Another coroutine's writes are not the transaction's; an async commit's triggers get
    -- the statements once its outcome is known.
    local tx = db:begin(); db:on_commit(function(it) got = ids(it) end)
    s:insert{2}
    coroutine.wrap(function() s:insert{3} end)()
    s:replace{2, 'x'}
    assert(db._recording)
    local ticket = tx:commit_async()
    assert(not db._recording, 'recording ends with the transaction')
    assert(ticket:wait())
    eq(got, '->2 2>2')
    -- A commit that fails runs on_rollback with the statements, newest first.
    tx = db:begin(); db:on_rollback(function(it) got = ids(it) end)
    s:replace{3, 'mine'}; s:delete{2}
    coroutine.wrap(function() s:replace{3, 'theirs'} end)()
    expect_error('CONFLICT', nil, tx.commit, tx)
    eq(got, '2>- 3>3')
    db:close()
    H.rmdir(dir)
end)

test('trigger lists as Tarantool has them, and bad triggers', function()
    local db = jitbox.open()
    local s = db:create_space('t')
    s:create_index('pk')
    local order = {}
    local a = s:on_replace(function() order[#order + 1] = 'a' end)
    local b = s:on_replace(function() order[#order + 1] = 'b' end)
    eq(#s:on_replace(), 2)
    s:insert{1}
    eq(table.concat(order, ''), 'ba', 'the newest first')
    s:on_replace(nil, b)
    s:on_replace(nil, a)
    eq(#s:on_replace(), 0)
    eq(rawget(s, '_triggers'), false, 'back on the path without triggers')
    expect_error('ILLEGAL_PARAMS', 'a trigger is a function', s.on_replace, s, 5)
    expect_error('ILLEGAL_PARAMS', 'the old trigger is not set', s.before_replace, s, nil, function() end)
    db:close()
end)

H.done('trigger.lua')
