-- The Lua API end to end: spaces, indexes, writes, reads, iterators, tuples, stat, close.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local ffi = require('ffi')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function fresh() return H.fresh(jitbox) end

test('insert, get, replace, delete', function()
    local db, s = fresh()
    local t = s:insert{1, 'a', 10}
    eq(t[1], 1); eq(t[2], 'a'); eq(t[3], 10); eq(#t, 3); eq(t[4], nil)
    eq(s:get{1}[2], 'a')
    eq(s:get(1)[3], 10, 'scalar key')
    eq(s:get{2}, nil, 'absent')
    eq(s:replace{1, 'b', 11}[2], 'b')
    eq(s:get{1}[3], 11)
    local old = s:delete{1}
    eq(old[2], 'b', 'delete returns the deleted tuple')
    eq(s:delete{1}, nil, 'deleting nothing')
    eq(s:len(), 0)
    db:close()
end)

test('duplicate key raises TUPLE_FOUND and changes nothing', function()
    local db, s = fresh()
    s:insert{1, 'a', 10}
    local err = expect_error('TUPLE_FOUND', "unique index 'pk' of space 'test'", s.insert, s, {1, 'z', 0})
    assert(tostring(err):find('^TUPLE_FOUND: '))
    eq(s:get{1}[2], 'a'); eq(s:len(), 1)
    db:close()
end)

test('db.space and s.index lookups', function()
    local db, s = fresh()
    assert(db.space.test == s)
    assert(db.space.nope == nil)
    assert(s.index.pk and s.index.by_name)
    assert(s.index.nope == nil)
    s:insert{5, 'x', 1}
    eq(db.space.test.index.by_name:select{'x'}[1][1], 5)
    db:close()
end)

test('select with limit, offset and iterator types', function()
    local db, s = fresh()
    for i = 1, 100 do s:insert{i, 'n' .. (i % 10), i * 2} end
    eq(#s:select(), 100)
    eq(#s:select({}, {limit = 10}), 10)
    local r = s:select({50}, {iterator = 'GE', limit = 3, offset = 2})
    eq(r[1][1], 52); eq(r[3][1], 54)
    r = s:select({50}, {iterator = 'LT', limit = 2})
    eq(r[1][1], 49); eq(r[2][1], 48)
    eq(s:select({50}, {iterator = 'GT'})[1][1], 51)
    eq(s:select({50}, {iterator = 'LE'})[1][1], 50)
    eq(s:select({}, {iterator = 'REQ'})[1][1], 100)
    eq(#s:select({7}), 1)
    local names = s.index.by_name:select({'n3'})
    eq(#names, 10); eq(names[1][1], 3); eq(names[10][1], 93)
    eq(s.index.by_name:select({'n3'}, {iterator = 'REQ'})[1][1], 93)
    eq(s:count(), 100); eq(s:count({90}, {iterator = 'GT'}), 10)
    eq(s.index.by_name:count({'n0'}), 10)
    eq(#s:select({}, {limit = 0}), 0)
    db:close()
end)

test('pairs iterates in order and stays valid while the space changes', function()
    local db, s = fresh()
    for i = 1, 1000 do s:insert{i, 'x', i} end
    local seen = 0
    local last = 0
    for _, t in s:pairs({}, {iterator = 'GE'}) do
        assert(t[1] > last, 'order')
        last = t[1]
        seen = seen + 1
        s:delete{t[1]}            -- delete what we just saw
        if t[1] % 2 == 1 then s:delete{t[1] + 1} end
        if t[1] <= 10 then s:insert{5000 + t[1], 'late', 0} end
    end
    -- 1,3,5,...,999, then the late ones 5001,5003,...,5009 (each deleting its successor)
    eq(seen, 500 + 5)
    eq(s:len(), 0)
    db:close()
end)

test('batched pairs: changes inside the loop are seen, big tuples, reverse and EQ runs', function()
    local db, s = fresh()
    for i = 1, 300 do s:insert{i, 'n' .. (i % 3), i} end
    -- A replace of a later tuple is seen when the loop gets there (the batch was dropped).
    local seen = {}
    for _, t in s:pairs() do
        seen[#seen + 1] = t[3]
        if t[1] < 300 then s:replace{t[1] + 1, 'n' .. ((t[1] + 1) % 3), -(t[1] + 1)} end
    end
    eq(#seen, 300); eq(seen[1], 1); eq(seen[2], -2); eq(seen[300], -300)
    -- EQ over a non-unique index across several batches, forwards and backwards.
    local by = s:create_index('by', { parts = {{2, 'string'}}, unique = false })
    local n, prev = 0, 0
    for _, t in by:pairs({'n1'}) do
        n = n + 1; assert(t[1] > prev, 'EQ order'); prev = t[1]; eq(t[2], 'n1')
    end
    eq(n, 100)
    n, prev = 0, 1e9
    for _, t in by:pairs({'n2'}, {iterator = 'REQ'}) do
        n = n + 1; assert(t[1] < prev, 'REQ order'); prev = t[1]; eq(t[2], 'n2')
    end
    eq(n, 100)
    n = 0
    for _, t in s:pairs({150}, {iterator = 'LT'}) do n = n + 1; eq(t[1], 150 - n) end
    eq(n, 149)
    -- Tuples larger than a batch buffer come one at a time, in order with the small ones.
    local big = string.rep('x', 40000)
    for i = 301, 310 do s:insert{i, big .. i, i} end
    local ids = {}
    for _, t in s:pairs({295}, {iterator = 'GE'}) do ids[#ids + 1] = t[1] end
    eq(#ids, 16); eq(ids[1], 295); eq(ids[16], 310); eq(s:get{305}[2], big .. 305)
    -- Nested loops over the same space each have their own batch.
    local pairs_seen = 0
    for _, a in s:pairs({1}, {iterator = 'GE', }) do
        if a[1] > 3 then break end
        for _, b in s:pairs({1}, {iterator = 'GE'}) do
            if b[1] > 100 then break end
            pairs_seen = pairs_seen + 1
        end
    end
    eq(pairs_seen, 300)
    db:close()
end)

test('tuples: unpack, totable, tostring, msgpack, types', function()
    local db, s = fresh()
    local sp = db:create_space('any')
    sp:create_index('pk', { parts = {{1, 'unsigned'}} })
    local big = 18446744073709551615ULL
    local t = sp:insert{1, 'a\0b', -5, 1.5, true, false, nil, big, -9007199254740993LL}
    eq(t[2], 'a\0b', 'NUL bytes kept'); eq(#t[2], 3)
    eq(t[3], -5); eq(t[4], 1.5); eq(t[5], true); eq(t[6], false); eq(t[7], nil)
    eq(t[8], big, 'uint64 max as cdata'); eq(type(t[8]), 'cdata')
    eq(t[9], -9007199254740993LL)
    local a, b, c = t:unpack()
    eq(a, 1); eq(b, 'a\0b'); eq(c, -5)
    local tt = t:totable()
    eq(tt[7], nil); eq(tt[8], big); eq(tt[6], false)
    eq(tostring(sp:insert{2, 'x'}), '[2, "x"]')
    eq(#t:tomsgpack(), t.jb_size_)
    assert(jitbox.is_tuple(t) and not jitbox.is_tuple({}))
    -- Small tuples (up to 28 bytes) and larger ones have different cdata types, one behaviour.
    for _, len in ipairs({0, 1, 20, 25, 26, 27, 40, 300}) do
        local u = sp:replace{3, string.rep('s', len)}
        assert(jitbox.is_tuple(u), 'is_tuple at ' .. len)
        eq(#u, 2); eq(u[2], string.rep('s', len)); eq(u:totable()[1], 3)
        eq(sp:get{3}:tomsgpack(), u:tomsgpack())
    end
    db:close()
end)

test('multi-part and typed secondary indexes', function()
    local db = jitbox.open()
    local s = db:create_space('m', { format = {{'a','unsigned'}, {'b','string'}, {'c','number'}} })
    s:create_index('pk', { parts = {'a'} })
    s:create_index('bc', { parts = {{2, 'string'}, {3, 'number'}}, unique = true })
    s:insert{1, 'x', 1.5}; s:insert{2, 'x', 1}; s:insert{3, 'y', -2}
    local r = s.index.bc:select({'x'})
    eq(#r, 2); eq(r[1][1], 2); eq(r[2][1], 1)
    eq(s.index.bc:get{'x', 1.5}[1], 1)
    expect_error('TUPLE_FOUND', "'bc'", s.insert, s, {4, 'y', -2})
    expect_error('ILLEGAL_PARAMS', 'full key', s.index.bc.get, s.index.bc, {'x'})
    db:close()
end)

test('index and space drop', function()
    local db, s = fresh()
    s:insert{1, 'a', 1}
    expect_error('ILLEGAL_PARAMS', 'drop those first', s.index.pk.drop, s.index.pk)
    s.index.by_name:drop()
    eq(s.index.by_name, nil)
    s.index.pk:drop() -- the last index: the tuples go with it
    expect_error('NO_SUCH_INDEX', 'no primary index', s.get, s, {1})
    s:drop()
    eq(db.space.test, nil)
    db:close()
end)

test('stat counts and memory', function()
    local db, s = fresh()
    local st0 = db:stat()
    for i = 1, 1000 do s:insert{i, 'name', i} end
    local st = db:stat()
    eq(st.tuple_count, 1000); eq(st.space_count, 1)
    assert(st.memory_used > st0.memory_used + 1000 * 20)
    assert(st.hot_calls >= 1000)
    eq(st.memory_limit, 64 * 2^20)
    db:close()
end)

test('close: further use is CLOSED, tuples stay readable, double close is fine', function()
    local db, s = fresh()
    local t = s:insert{1, 'kept', 1}
    db:close()
    db:close()
    eq(t[2], 'kept')
    expect_error('CLOSED', nil, s.insert, s, {2, 'x', 1})
    expect_error('CLOSED', nil, s.get, s, {1})
    expect_error('CLOSED', nil, db.create_space, db, 'z')
    expect_error('CLOSED', nil, db.stat, db)
    assert(db:is_closed())
end)

test('an iterator abandoned mid-way and collected later is harmless', function()
    local db, s = fresh()
    for i = 1, 10 do s:insert{i, 'a', i} end
    local gen, state = s:pairs()
    gen(state)
    gen, state = nil, nil
    collectgarbage(); collectgarbage()
    db:close()
    collectgarbage()
end)

test('engines are collected when unreachable', function()
    for _ = 1, 20 do
        local db = jitbox.open{ memory_limit = 1 * 2^20 }
        db:create_space('x'):create_index('pk')
    end
    collectgarbage(); collectgarbage()
end)

H.done('api.lua')
