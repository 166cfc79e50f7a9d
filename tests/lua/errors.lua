-- Bad input from Lua: clear errors with codes, and nothing changes.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function fresh(opts) return H.fresh(jitbox, opts) end

test('wrong field types name the field and the space', function()
    local db, s = fresh()
    expect_error('FIELD_TYPE', "field 1 ('id') must be unsigned, got string", s.insert, s, {'x', 'a', 1})
    expect_error('FIELD_TYPE', "field 2 ('name') must be string, got unsigned", s.insert, s, {1, 2, 1})
    expect_error('FIELD_TYPE', "field 3 ('v') must be integer, got number", s.insert, s, {1, 'a', 1.5})
    expect_error('FIELD_TYPE', 'tuple too short', s.insert, s, {1, 'a'})
    expect_error('FIELD_TYPE', 'must be unsigned, got integer', s.insert, s, {-1, 'a', 1})
    expect_error('FIELD_TYPE', "field 2 ('name') must be string, got array", s.insert, s, {1, {}, 1})
    expect_error('ILLEGAL_PARAMS', 'nested value of Lua type function', s.insert, s, {1, {print}, 1})
    expect_error('ILLEGAL_PARAMS', 'unsupported Lua type function', s.insert, s, {1, print, 1})
    eq(s:len(), 0)
    db:close()
end)

test('wrong keys and arity', function()
    local db, s = fresh()
    s:insert{1, 'a', 1}
    expect_error('FIELD_TYPE', 'key part 1 must be unsigned, got string', s.get, s, {'1'})
    expect_error('ILLEGAL_PARAMS', 'key has 2 part(s), the index has 1', s.get, s, {1, 2})
    expect_error('ILLEGAL_PARAMS', 'give the full key', s.delete, s, {})
    expect_error('ILLEGAL_PARAMS', 'not unique', s.index.by_name.get, s.index.by_name, {'a'})
    expect_error('ILLEGAL_PARAMS', "unknown iterator 'SIDEWAYS'", s.select, s, {}, {iterator = 'SIDEWAYS'})
    eq(s:len(), 1)
    db:close()
end)

test('missing spaces and indexes; bad DDL', function()
    local db, s = fresh()
    eq(db.space.missing, nil)
    eq(s.index.missing, nil)
    expect_error('EXISTS', "space 'test' already exists", db.create_space, db, 'test')
    expect_error('EXISTS', "index 'pk' already exists", s.create_index, s, 'pk')
    expect_error('ILLEGAL_PARAMS', 'must be a string', db.create_space, db, 42)
    expect_error('ILLEGAL_PARAMS', 'invalid', db.create_space, db, 'a\0b')
    expect_error('ILLEGAL_PARAMS', "unknown type 'blob'", db.create_space, db, 'x', {format = {{'a', 'blob'}}})
    expect_error('ILLEGAL_PARAMS', "unknown field 'nope'", s.create_index, s, 'i', {parts = {'nope'}})
    expect_error('FIELD_TYPE', "does not fit field 2 ('name')", s.create_index, s, 'i', {parts = {{2, 'unsigned'}}})
    expect_error('ILLEGAL_PARAMS', 'must be unique', db:create_space('y').create_index, db.space.y, 'pk', {unique = false})
    expect_error('NO_SUCH_INDEX', 'no primary index', db.space.y.insert, db.space.y, {1})
    expect_error('ILLEGAL_PARAMS', "unknown option 'memory'", jitbox.open, {memory = 1})
    expect_error('ILLEGAL_PARAMS', 'memory_limit must be a whole number of bytes from 4096', jitbox.open, {memory_limit = 10})
    db:close()
end)

test('a tuple larger than max_tuple_size', function()
    local db, s = fresh{ max_tuple_size = 1024 }
    expect_error('ILLEGAL_PARAMS', 'larger than max_tuple_size 1024', s.insert, s, {1, ('x'):rep(2000), 1})
    eq(s:len(), 0)
    s:insert{1, ('x'):rep(1000), 1}
    eq(#s:get{1}[2], 1000)
    db:close()
end)

test('memory limit: MEMORY on writes, reads and deletes still work', function()
    local db, s = fresh{ memory_limit = 1 * 2^20 }
    local n = 0
    local err = expect_error('MEMORY', 'memory_limit', function()
        while true do n = n + 1; s:insert{n, 'filler filler', n} end
    end)
    eq(s:len(), n - 1)
    eq(s:get{1}[1], 1)
    for i = 1, 100 do s:delete{i} end
    s:insert{n, 'fits again', n}
    db:close()
end)

test('errinj ALLOC_FAIL_AFTER from Lua: every failure point leaves the space unchanged', function()
    local db, s = fresh()
    for i = 1, 200 do s:insert{i, 'n' .. (i % 7), i} end
    local function snapshot()
        local rows = {}
        for _, t in s:pairs() do rows[#rows + 1] = tostring(t) end
        for _, t in s.index.by_name:pairs() do rows[#rows + 1] = tostring(t) end
        return table.concat(rows, ';'), db:stat().memory_used
    end
    local points = 0
    for i = 201, 400 do
        for n = 0, 100 do
            local rows, mem = snapshot()
            jitbox.errinj.set('ALLOC_FAIL_AFTER', n)
            local ok, err = pcall(s.replace, s, {i % 250, 'r' .. i, i})
            local left = jitbox.errinj.get('ALLOC_FAIL_AFTER')
            jitbox.errinj.set('ALLOC_FAIL_AFTER', -1)
            if ok then assert(left >= 0, 'injected failure swallowed'); break end
            eq(err.code, 'MEMORY')
            local rows2, mem2 = snapshot()
            eq(rows2, rows, 'contents after failure'); eq(mem2, mem, 'memory after failure')
            points = points + 1
        end
    end
    assert(points >= 200, 'swept ' .. points)
    expect_error('ILLEGAL_PARAMS', 'unknown error injection', jitbox.errinj.set, 'NOPE', 1)
    db:close()
end)

test('a tuple cannot be made to read outside itself', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'abc', 3}
    s:insert{2, string.rep('x', 200), 4}
    for _, k in ipairs({ 1, 2 }) do
        local t = s:get{k}
        local ok, err = pcall(function() t.jb_size_ = 1e9 end)
        assert(not ok and tostring(err):find('constant'), 'size is read-only: ' .. tostring(err))
        eq(t[1], k, 'the tuple is unchanged')
        -- Its bytes can be overwritten through a pointer; reading them stays inside the tuple:
        -- a value or an error.
        local bytes = require('ffi').cast('uint8_t *', t) + 8
        for i = 0, t.jb_size_ - 1 do bytes[i] = 0xdb end -- str32 headers claiming 3.7 GB
        local ok2, e2 = pcall(function() return t[2] end)
        assert(not ok2 and e2.code == 'ILLEGAL_PARAMS', 'malformed data is an error: ' .. tostring(e2))
        assert(not pcall(function() return #t end))
        assert(not pcall(function() return t:totable() end))
    end
    db:close()
end)

test('no option, argument or index form is ignored', function()
    local db, s = fresh()
    for i = 1, 10 do s:insert{i, 'n' .. i, i} end
    -- Options nobody knows name themselves.
    expect_error('ILLEGAL_PARAMS', "unknown option 'if_not_exist'", db.create_space, db, 'x', { if_not_exist = true })
    expect_error('ILLEGAL_PARAMS', "unknown option 'sequense'", s.create_index, s, 'seq', { sequense = true })
    expect_error('ILLEGAL_PARAMS', "unknown option 'colation'", s.create_index, s, 'c', { parts = {{2, 'string'}}, colation = 'unicode' })
    expect_error('ILLEGAL_PARAMS', "unknown option 'itertor'", s.select, s, {1}, { itertor = 'GE' })
    expect_error('ILLEGAL_PARAMS', "unknown option 'limit'", function() for _ in s:pairs({1}, { limit = 1 }) do end end)
    expect_error('ILLEGAL_PARAMS', "unknown option 'offset'", s.count, s, {1}, { offset = 1 })
    -- Tarantool's shorthand: the iterator in place of the options.
    eq(#s:select({5}, 'GE'), 6)
    eq(#s:select({5}, 'LT'), 4)
    local seen = 0
    for _ in s:pairs({8}, 'GE') do seen = seen + 1 end
    eq(seen, 3)
    eq(s:count({3}, 'LE'), 3)
    eq(#s:select({5}, 5), 6, 'numeric iterator 5 is GE, as box.index.GE')
    -- Bad iterators, numeric or named, and bad limits are errors, also with limit = 0.
    expect_error('ILLEGAL_PARAMS', "unknown iterator '7'", s.select, s, {1}, { iterator = 7 })
    expect_error('ILLEGAL_PARAMS', "unknown iterator '-1'", s.select, s, {1}, -1)
    expect_error('ILLEGAL_PARAMS', "unknown iterator '2.5'", s.count, s, {1}, 2.5)
    expect_error('ILLEGAL_PARAMS', "unknown iterator 'NOPE'", s.select, s, {1}, { limit = 0, iterator = 'NOPE' })
    expect_error('ILLEGAL_PARAMS', 'limit must be a whole number', s.select, s, {1}, { limit = -1 })
    expect_error('ILLEGAL_PARAMS', 'offset must be a whole number', s.select, s, {1}, { offset = 0.5 })
    eq(#s:select({1}, { limit = 0 }), 0)
    -- Size options: numbers in range, with a code.
    for _, bad in ipairs({ -1, 0 / 0, '1000000', 1e300, 100.5 }) do
        expect_error('ILLEGAL_PARAMS', 'memory_limit must be a whole number', jitbox.open, { memory_limit = bad })
    end
    expect_error('ILLEGAL_PARAMS', 'max_tuple_size must be', jitbox.open, { max_tuple_size = 2^32 + 100 })
    expect_error('ILLEGAL_PARAMS', 'options must be a table', jitbox.open, 'big')
    db:close()
end)

test('tuple fields by number are what a Lua table would give', function()
    local db, s = fresh()
    local t = s:insert{1, 'a', 3}
    eq(t[1], 1); eq(t[3], 3)
    for _, i in ipairs({ 0, -1, 4, 1.5, 0 / 0, 2^32 + 1, 2^53, -2^63 }) do
        eq(t[i], nil, 'field ' .. tostring(i))
    end
    -- unpack and totable take a range, as unpack(table, i, j) does; nils are kept.
    eq(select('#', t:unpack()), 3)
    local a, b = t:unpack(2, 3)
    eq(a, 'a'); eq(b, 3)
    eq(select('#', t:unpack(2, 5)), 4)
    eq(select(4, t:unpack(2, 5)), nil)
    eq(#t:totable(2, 2), 1)
    eq(t:totable(2, 3)[2], 3)
    eq(select('#', t:unpack(3, 2)), 0)
    expect_error('ILLEGAL_PARAMS', 'whole numbers', t.unpack, t, 'x')
    db:close()
end)

test('an error is an object where it is caught and a string where nothing catches it', function()
    local db, s = fresh()
    s:insert{1, 'a', 1}
    local dup = function() s:insert{1, 'b', 2} end
    -- pcall and xpcall on the coroutine's stack: the object.
    local ok, err = pcall(dup)
    assert(not ok and getmetatable(err) == jitbox.error_mt and err.code == 'TUPLE_FOUND', tostring(err))
    eq(tostring(err), 'TUPLE_FOUND: ' .. err.message)
    ok, err = xpcall(dup, function(e) return e end)
    eq(err.code, 'TUPLE_FOUND')
    ok, err = pcall(function() return coroutine.wrap(function() return pcall(dup) end)() end)
    assert(ok and type(err) == 'boolean', 'a pcall inside the coroutine catches it there')
    -- Nothing catches it in its coroutine: it leaves as the string a host can print.
    ok, err = coroutine.resume(coroutine.create(dup))
    assert(not ok and type(err) == 'string', type(err))
    assert(err:find('errors.lua:%d+: jitbox: TUPLE_FOUND: '), err)
    local e = jitbox.error(err)
    eq(e.code, 'TUPLE_FOUND'); eq(e.rc, tonumber(require('ffi').C.JB_E_TUPLE_FOUND))
    assert(err:find(e.message, 1, true), 'the message is all there')
    eq(jitbox.error(e), e, 'an object is its own object')
    eq(jitbox.error('x.lua:1: jitbox: NOT_A_CODE: y'), nil); eq(jitbox.error('boom'), nil)
    eq(jitbox.error({}), nil); eq(jitbox.error(nil), nil)
    -- db:txn rolls back and raises it again in the form its own caller can read.
    ok, err = pcall(db.txn, db, function() s:replace{2, 'x', 0}; dup() end)
    eq(err.code, 'TUPLE_FOUND'); eq(s:get{2}, nil)
    ok, err = coroutine.resume(coroutine.create(function() db:txn(function() dup() end) end))
    assert(type(err) == 'string' and jitbox.error(err).code == 'TUPLE_FOUND', tostring(err))
    -- Argument errors too.
    ok, err = coroutine.resume(coroutine.create(function() s:select({}, { iterator = 'SIDEWAYS' }) end))
    assert(err:find('jitbox: ILLEGAL_PARAMS: ', 1, true), err)
    db:close()
    ok, err = coroutine.resume(coroutine.create(function() s:get{1} end))
    eq(jitbox.error(err).code, 'CLOSED')
end)

test('an engine too full to write still serves reads', function()
    local db = jitbox.open{ memory_limit = 2 * 2^20 }
    local s = db:create_space('full')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('v', { parts = {{2, 'string'}}, unique = false })
    local n = 0
    while true do
        local ok, err = pcall(s.insert, s, { n + 1, 'v' .. n % 10 })
        if not ok then eq(err.code, 'MEMORY'); break end
        n = n + 1
    end
    -- Many open iterators, each part way through its first batch, and every kind of read.
    local open = {}
    for i = 1, 200 do
        local gen, param, state = s.index.v:pairs({ 'v' .. i % 10 })
        local _, t = gen(param, state)
        assert(t, 'iterator ' .. i)
        open[i] = { gen, param }
    end
    eq(#s:select({}, { limit = 10 }), 10)
    eq(s:count(), n); eq(s.index.v:count({ 'v3' }), math.floor((n - 4) / 10) + 1)
    assert(s:get{1})
    local c = 0
    for _ in s:pairs() do c = c + 1 end
    eq(c, n)
    expect_error('MEMORY', nil, s.insert, s, { n + 1, 'more' })
    open = nil
    db:close()
end)

test('deleting rows gives their memory to other spaces', function()
    local db = jitbox.open{ memory_limit = 4 * 2^20 }
    local function space(name)
        local s = db:create_space(name)
        s:create_index('pk', { parts = {{1, 'unsigned'}} })
        s:create_index('v', { parts = {{2, 'string'}}, unique = false })
        return s
    end
    local function fill(s)
        local n = 0
        while pcall(s.insert, s, { n + 1, 'v' .. n % 10 }) do n = n + 1 end
        return n
    end
    local a, b = space('a'), space('b')
    local na = fill(a)
    for round = 1, 3 do
        -- Every row of a goes (autocommit: a transaction would need room for its version
        -- records, which a full engine has not); b gets the room.
        for i = 1, na do a:delete{i} end
        eq(a:len(), 0)
        local nb = fill(b)
        assert(nb > na * 0.9, ('round %d: b got %d rows where a had %d'):format(round, nb, na))
        for i = 1, nb do b:delete{i} end
        na = fill(a)
    end
    db:close()
end)

test('a full engine can be emptied by transactions, and while other transactions are open', function()
    for _, durable in ipairs({ false, true }) do
        local dir = durable and H.tmpdir() or nil
        local db = jitbox.open{ memory_limit = 4 * 2^20, dir = dir, wal_mode = durable and 'write' or nil }
        local s = db:create_space('full')
        s:create_index('pk', { parts = {{1, 'unsigned'}} })
        s:create_index('v', { parts = {{2, 'string'}}, unique = false })
        local n = 0
        while pcall(s.insert, s, { n + 1, 'v' .. n % 10 }) do n = n + 1 end
        -- A reader keeps a transaction open: every delete below needs version records.
        local reader = coroutine.wrap(function() db:begin(); coroutine.yield(); db:rollback() end)
        reader()
        for i = 1, 100 do s:delete{i} end
        eq(s:len(), n - 100, 'autocommit deletes beside an open transaction')
        reader()
        -- One transaction deletes a few thousand rows, one the rest in batches.
        db:txn(function() for i = 101, 3000 do s:delete{i} end end)
        eq(s:len(), n - 3000)
        local tx = db:begin()
        for i = 3001, 3100 do s:delete{i} end
        expect_error('MEMORY', 'memory_limit', s.insert, s, { n + 1, 'a write does not use the reserve' })
        tx:commit()
        eq(s:get{3050}, nil); eq(s:len(), n - 3100)
        -- The reserve is bounded: one transaction deleting everything runs out of it, says
        -- so, and is rolled back whole.
        local err = expect_error('MEMORY', 'delete fewer rows per transaction', db.txn, db, function()
            for i = 3101, n do s:delete{i} end
        end)
        assert(err.message:find('deletes may use beyond it', 1, true), err.message)
        eq(s:len(), n - 3100, 'the failed transaction changed nothing')
        eq(db:stat().txn_open, 0)
        for from = 3101, n, 2000 do
            db:txn(function() for i = from, math.min(from + 1999, n) do s:delete{i} end end)
        end
        eq(s:len(), 0)
        -- What the rows took comes back (whole slabs, bar a few kept for the next writes).
        local m = 0
        while m < n and pcall(s.insert, s, { m + 1, 'v' .. m % 10 }) do m = m + 1 end
        assert(m >= n * 0.98, ('refilled %d of %d rows'):format(m, n))
        db:close()
        if durable then
            db = jitbox.open{ dir = dir, memory_limit = 4 * 2^20 }
            eq(db.space.full:len(), m, 'the deletes and the inserts after them were recovered')
            db:close()
            H.rmdir(dir)
        end
    end
end)

H.done('errors.lua')
