-- Transactions from Lua: bound to coroutines, snapshot isolation, first committer wins,
-- db:txn, misuse with clear errors.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function fresh()
    local db, s = H.fresh(jitbox)
    for i = 1, 3 do s:insert{i, 'n', i * 10} end
    return db, s
end

test('a transaction sees its snapshot and its own writes; others see it after commit', function()
    local db, s = fresh()
    local tx = db:begin()
    s:replace{1, 'n', 11}
    s:insert{4, 'm', 40}
    s:delete{3}
    eq(s:get{1}[3], 11); eq(s:get{4}[3], 40); eq(s:get{3}, nil)
    eq(#s:select(), 3); eq(s:count(), 3); eq(#s.index.by_name:select{'m'}, 1)
    -- Another coroutine autocommits: it sees none of it, and its write is not seen here.
    coroutine.wrap(function()
        eq(s:get{1}[3], 10, 'no dirty read'); eq(s:get{4}, nil); eq(s:get{3}[3], 30)
        s:replace{2, 'n', 21}
    end)()
    eq(s:get{2}[3], 20, 'repeatable read')
    local st = db:stat()
    eq(st.txn_open, 1); assert(st.versions >= 4, 'versions ' .. st.versions)
    tx:commit()
    eq(s:get{1}[3], 11); eq(s:get{2}[3], 21); eq(s:get{3}, nil); eq(s:len(), 3)
    st = db:stat()
    eq(st.txn_open, 0); eq(st.versions, 0, 'collected after commit'); eq(st.gc_pending, 0)
    db:close()
end)

test('reads through the transaction handle see what the transaction sees, from any coroutine', function()
    local db, s = fresh()
    local tx = db:begin()
    s:replace{1, 'n', 11}
    s:insert{4, 'm', 40}
    local by_name = s.index.by_name
    local outside = coroutine.wrap(function()
        s:replace{2, 'n', 22} -- autocommit, after tx's snapshot
        -- This coroutine has no transaction: its own reads autocommit, tx's see tx.
        eq(s:get{1}[3], 10); eq(s:get{2}[3], 22)
        eq(tx:get(s, {1})[3], 11, 'own write'); eq(tx:get(s.index.pk, {4})[3], 40)
        eq(tx:get(s, {2})[3], 20, 'the snapshot, not the later commit')
        eq(#tx:select(by_name, {'n'}), 3); eq(tx:count(by_name, {'m'}), 1)
        local n = 0
        for _, t in tx:pairs(s) do n = n + 1; assert(t[1] ~= 2 or t[3] == 20) end
        eq(n, 4)
        return true
    end)
    eq(outside(), true)
    expect_error('ILLEGAL_PARAMS', 'reads an index or a space', tx.get, tx, 'pk', {1})
    tx:rollback()
    expect_error('ILLEGAL_PARAMS', 'already ended', tx.get, tx, s, {1})
    expect_error('ILLEGAL_PARAMS', 'already ended', tx.count, tx, s)
    eq(s:get{1}[3], 10); eq(s:get{4}, nil)
    db:close()
end)

test('first committer wins; the loser gets CONFLICT and leaves nothing', function()
    local db, s = fresh()
    local function add_one(k)
        return coroutine.create(function()
            db:begin()
            local v = s:get{k}[3]
            coroutine.yield()
            s:replace{k, 'n', v + 1}
            db:commit()
        end)
    end
    local a, b = add_one(1), add_one(1)
    assert(coroutine.resume(a)); assert(coroutine.resume(b))
    assert(coroutine.resume(a)) -- a commits 11
    local ok, err = coroutine.resume(b) -- nothing in b catches: the error string
    local e = jitbox.error(err)
    assert(not ok and e and e.code == 'CONFLICT', 'expected CONFLICT, got ' .. tostring(err))
    eq(s:get{1}[3], 11, 'no lost update')
    db:close()
end)

test('db:txn commits on return and rolls back on error', function()
    local db, s = fresh()
    eq(db:txn(function(x) s:replace{1, 'n', x}; return 'done', 2 end, 5), 'done')
    eq(s:get{1}[3], 5)
    local ok, err = pcall(db.txn, db, function() s:replace{1, 'n', 6}; error('boom') end)
    assert(not ok and tostring(err):find('boom'))
    eq(s:get{1}[3], 5, 'rolled back')
    -- A duplicate inside the function: TUPLE_FOUND, and the transaction's writes are gone.
    expect_error('TUPLE_FOUND', nil, db.txn, db, function() s:insert{9, 'n', 9}; s:insert{1, 'n', 0} end)
    eq(s:get{9}, nil)
    db:close()
end)

test('misuse gives clear errors', function()
    local db, s = fresh()
    local tx = db:begin()
    expect_error('ILLEGAL_PARAMS', 'already has an open transaction', db.begin, db)
    coroutine.wrap(function()
        expect_error('ILLEGAL_PARAMS', 'another coroutine', tx.commit, tx)
        eq(db:is_in_txn(), false)
        -- As box.commit()/box.rollback() (Tarantool 2.6 answers true, nothing else): no-ops.
        db:commit(); db:rollback()
        expect_error('ILLEGAL_PARAMS', 'no transaction is open', db.commit_async, db)
    end)()
    eq(db:is_in_txn(), true, 'the other coroutine ended nothing')
    expect_error('BUSY', 'transaction', s.create_index, s, 'by_v', { parts = {{3, 'integer'}} })
    tx:rollback()
    expect_error('ILLEGAL_PARAMS', 'already ended', tx.commit, tx)
    eq(db:is_in_txn(), false)
    db:rollback()
    -- Options of begin are never ignored (Tarantool 2.6 ignores unknown ones).
    expect_error('ILLEGAL_PARAMS', "'txn_isolation' is not supported", db.begin, db, { txn_isolation = 'best-effort' })
    expect_error('ILLEGAL_PARAMS', "unknown option 'timeout'", db.begin, db, { timeout = 1 })
    expect_error('ILLEGAL_PARAMS', 'must be a table', db.begin, db, 'x')
    eq(db:is_in_txn(), false, 'a refused begin opens nothing')
    s:create_index('by_v', { parts = {{3, 'integer'}} })
    -- A transaction left open by a finished coroutine is rolled back when collected.
    coroutine.wrap(function() db:begin(); s:replace{1, 'n', 99} end)()
    collectgarbage(); collectgarbage()
    eq(s:get{1}[3], 10)
    eq(db:stat().txn_open, 0, 'rolled back by the coroutine guard')
    -- (White box: the module stops counting it, so autocommit statements take the fast path
    -- of "no transaction open anywhere" again.)
    eq(db._ntx, 0, 'the module counts no open transaction')
    -- The coroutine's guard is reused by its next transaction and cleared when one ends.
    local co = coroutine.create(function()
        for i = 1, 3 do
            local t = db:begin(); s:replace{1, 'n', 100 + i}; t:commit()
            coroutine.yield()
        end
        db:begin(); s:replace{1, 'n', 0}
        coroutine.yield()
    end)
    for _ = 1, 4 do assert(coroutine.resume(co)) end
    eq(s:get{1}[3], 103); eq(db:stat().txn_open, 1)
    co = nil
    collectgarbage(); collectgarbage()
    eq(db:stat().txn_open, 0); eq(s:get{1}[3], 103)
    eq(db._ntx, 0)
    db:close()
end)

test('a transaction whose coroutine finished is rolled back even while something holds the coroutine', function()
    local db, s = fresh()
    local f = function(v) db:begin(); s:replace{1, 'n', v} end
    -- Compiled traces keep the coroutines they were recorded with (as constants of the
    -- closure calling resume) until jit.flush(); a table does the same without the JIT.
    for i = 1, 200 do
        local co = coroutine.create(f)
        local function step() return coroutine.resume(co, i) end
        for _ = 1, 60 do step() end
    end
    local held = {}
    for i = 1, 3 do
        held[i] = coroutine.create(f); assert(coroutine.resume(held[i], 1000 + i))
    end
    collectgarbage(); collectgarbage()
    eq(s:get{1}[3], 10, 'none of them committed')
    eq(db:stat().txn_open, 0, 'stat rolls back the transactions of finished coroutines')
    eq(db._ntx, 0)
    -- Autocommit statements end them too, within 256 statements, and db:begin() at once.
    for i = 1, 3 do held[i] = coroutine.create(f); assert(coroutine.resume(held[i], 2000 + i)) end
    for k = 1, 300 do s:get{1 + k % 3} end
    eq(db._ntx, 0, 'autocommit statements ended them')
    held[1] = coroutine.create(f); assert(coroutine.resume(held[1], 3000))
    local live = coroutine.create(function() db:begin(); s:replace{2, 'n', 7}; coroutine.yield(); db:commit() end)
    assert(coroutine.resume(live))
    local tx = db:begin()
    eq(db._ntx, 2, 'begin ended the finished coroutine\'s transaction, not the suspended one\'s')
    tx:rollback()
    assert(coroutine.resume(live))
    eq(s:get{2}[3], 7, 'the suspended coroutine committed later')
    eq(s:get{1}[3], 10)
    eq(db:stat().txn_open, 0)
    db:close()
end)

test('old versions stay while a reader needs them and go when it ends', function()
    local db, s = fresh()
    local reader = coroutine.create(function() db:begin(); coroutine.yield(); db:commit() end)
    assert(coroutine.resume(reader)) -- an old read view stays open
    for i = 1, 300 do s:replace{1 + i % 3, 'n', i} end
    local kept = db:stat().versions
    assert(kept > 300, 'old versions kept for the reader')
    for _ = 1, 1000 do local _ = s:get{2} end
    for _ in s:pairs() do end
    eq(s:count(), 3); eq(#s.index.by_name:select{'n'}, 3); eq(s:len(), 3)
    eq(db:stat().versions, kept, 'reads change nothing')
    assert(coroutine.resume(reader)) -- its commit frees what it kept, at once
    eq(db:stat().gc_pending, 0); eq(db:stat().versions, 0)
    db:close()
end)

test('a conflict dooms the transaction: the transfer never commits half', function()
    local db, s = fresh()
    local tx = db:begin()
    s:replace{1, 'n', 0}                              -- debit
    local other = coroutine.wrap(function() s:replace{2, 'n', 99} end)
    other()                                           -- another writer commits key 2 first
    local err = expect_error('CONFLICT', '', function() s:replace{2, 'n', 40} end) -- credit
    -- Every later statement, read and the commit fail with the same code.
    expect_error('CONFLICT', 'rolled back after a conflict', function() s:replace{3, 'n', 0} end)
    expect_error('CONFLICT', '', function() return s:get{1} end)
    expect_error('CONFLICT', '', function() return tx:get(s, {1}) end)
    expect_error('CONFLICT', '', function() return s:select() end)
    expect_error('CONFLICT', '', function() return s.index.by_name:select{'n'} end)
    expect_error('CONFLICT', '', function() for _ in s:pairs() do end end)
    expect_error('CONFLICT', '', function() return s:count() end)
    expect_error('CONFLICT', '', function() return s:len() end)
    expect_error('CONFLICT', '', function() db:commit() end)
    eq(s:get{1}[3], 10, 'the debit was not committed')
    eq(db:stat().txn_open, 0)
    s:replace{3, 'n', 31}                             -- autocommit again
    eq(s:get{3}[3], 31)
    -- db:txn rolls a doomed transaction back and re-raises its error.
    local ok, e = pcall(db.txn, db, function()
        s:replace{1, 'n', 1}
        coroutine.wrap(function() s:replace{2, 'n', 100} end)()
        s:replace{2, 'n', 41}
    end)
    assert(not ok and e.code == 'CONFLICT', tostring(e and e.message))
    eq(s:get{1}[3], 10)
    eq(db:stat().txn_open, 0)
    assert(err.message:find('committed first', 1, true), err.message)
    db:close()
end)

test('a commit that fails for lack of memory ends its transaction', function()
    local db, s = fresh()
    local ok, e = pcall(db.txn, db, function()
        for i = 10, 20 do s:replace{i, 'n', i} end
        jitbox.errinj.set('ALLOC_FAIL_AFTER', 0)
    end)
    jitbox.errinj.set('ALLOC_FAIL_AFTER', -1)
    assert(not ok and e.code == 'MEMORY', tostring(e and e.message))
    eq(db:stat().txn_open, 0, 'nothing left open')
    eq(s:get{10}, nil, 'nothing of it committed')
    s:replace{10, 'n', 1}                             -- an autocommit write, not part of it
    eq(db:is_in_txn(), false, 'no transaction to roll back')
    db:rollback() -- nothing to do
    eq(s:get{10}[3], 1)
    db:close()
end)

test('len() counts the tuples the caller sees, never versions not yet collected', function()
    local db = jitbox.open{}
    local s = db:create_space('big')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    db:begin(); for i = 1, 2000 do s:insert{i} end; db:commit()
    -- A reader holding the snapshot of 2000 rows keeps the deleted versions alive.
    local reader = coroutine.create(function()
        db:begin(); s:get{1}
        coroutine.yield(s:len(), s:count())
        coroutine.yield(s:len(), s:count())
        db:rollback()
    end)
    assert(coroutine.resume(reader))
    db:begin()
    for i = 1, 2000, 2 do s:delete{i} end
    s:insert{5000}
    eq(s:len(), 1001, 'the writer sees its own deletes and insert')
    eq(s:count(), 1001)
    db:commit()
    eq(s:len(), 1001, 'after the commit'); eq(s:count(), 1001); eq(#s:select(), 1001)
    eq(db:stat().tuple_count, 1001)
    local _, len, count = coroutine.resume(reader)
    eq(len, 2000, 'the reader counts its snapshot'); eq(count, 2000)
    assert(coroutine.resume(reader))
    db:gc()
    eq(s:len(), 1001); eq(db:stat().tuple_count, 1001)
    db:close()
end)

test('a bulk commit frees what it replaced with no later write or gc', function()
    for _, with_func in ipairs({ false, true }) do
        local db = jitbox.open{}
        local s = db:create_space('bulk')
        s:create_index('pk', { parts = {{1, 'unsigned'}} })
        if with_func then
            s:create_index('f', { func = function(t) return { t[2] } end, parts = {{1, 'unsigned'}}, unique = false })
        end
        for i = 1, 10000 do s:insert{i, 0} end
        db:txn(function() for i = 1, 10000 do s:replace{i, 1} end end)
        -- Read-only traffic from here on: nothing else may be needed to free them.
        for i = 1, 100 do assert(s:get{i}[2] == 1) end
        local st = db:stat()
        eq(st.versions, 0, 'versions kept'); eq(st.gc_pending, 0, 'gc pending')
        eq(s:len(), 10000)
        db:close()
    end
end)

test('savepoints: what a commit logs is the net effect, also of versions a rollback to a savepoint brought back', function()
    local dir = H.tmpdir()
    local key = function(t) return { t[2] } end
    local db = H.open_dir(jitbox, dir)
    local s = db:create_space('t')
    s:create_index('pk')
    s:create_index('by_v', { parts = {{1, 'string'}}, unique = false, func = key })
    s:insert{9, 'nine'}
    local tx = db:begin()
    s:insert{1, 'a'}                    -- created here, then replaced after a savepoint
    s:insert{2, 'b'}                    -- created here, then deleted after a savepoint
    s:insert{3, 'c'}                    -- created here, deleted after a savepoint that stays
    local sp = tx:savepoint()
    s:replace{1, 'a2'}
    s:delete{2}
    s:delete{9}
    tx:rollback_to_savepoint(sp)
    eq(s:get(1)[2], 'a'); eq(s:get(2)[2], 'b'); eq(s:get(9)[2], 'nine')
    s:replace{1, 'a3'}
    s:delete{3}
    local sp2 = db:savepoint()
    s:insert{4, 'd'}
    db:rollback_to_savepoint(sp2)
    expect_error('ILLEGAL_PARAMS', 'another transaction', function()
        local other = coroutine.wrap(function() local t2 = db:begin(); local x = t2:savepoint(); t2:rollback(); return x end)()
        tx:rollback_to_savepoint(other)
    end)
    expect_error('ILLEGAL_PARAMS', 'savepoint() returned', tx.rollback_to_savepoint, tx, {})
    tx:commit()
    local function dump(sp)
        local r = {}
        for _, t in sp:pairs() do r[#r + 1] = t[1] .. '=' .. t[2] end
        local v = {}
        for _, t in sp.index.by_v:pairs() do v[#v + 1] = t[2] end
        return table.concat(r, ' ') .. ' | ' .. table.concat(v, ' ')
    end
    local want = '1=a3 2=b 9=nine | a3 b nine'
    eq(dump(s), want)
    expect_error('ILLEGAL_PARAMS', 'no transaction is open', db.savepoint, db)
    db:close()
    db = H.open_dir(jitbox, dir, { functions = { t = { by_v = key } } })
    eq(dump(db.space.t), want, 'recovery gives the committed net effect')
    db:close()
    H.rmdir(dir)
end)

H.done('txn.lua')
