-- The schema from Lua: db.space and s.index as plain lists (pairs over every space and
-- index), the objects' fields, renames and truncate (logged: they survive reopening), sizes,
-- and formats read back from the engine after recovery. tests/compat/schema.lua compares the
-- same things with Tarantool.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function names(list)
    local r = {}
    for k, v in pairs(list) do
        assert(type(v) == 'table' and getmetatable(v) ~= nil, 'a list entry that is not an object: ' .. tostring(k))
        r[#r + 1] = tostring(k)
    end
    table.sort(r)
    return table.concat(r, ' ')
end

test('pairs lists every space and index, and nothing else', function()
    local db = jitbox.open()
    eq(names(db.space), '')
    local a = db:create_space('a')
    a:create_index('pk')
    local b = db:create_space('b', { format = {{'id', 'unsigned'}, {'name', 'string'}} })
    b:create_index('pk')
    b:create_index('by_name', { parts = {'name'}, unique = false })
    eq(names(db.space), 'a b')
    eq(names(b.index), '0 1 by_name pk')
    eq(b.index[1], b.index.by_name, 'one object by position and by name')
    eq(db.space.b, b)
    b.index.by_name:drop()
    eq(names(b.index), '0 pk')
    a:rename('c')
    eq(names(db.space), 'b c')
    eq(db.space.a, nil)
    eq(db.space.c, a)
    a:drop()
    eq(names(db.space), 'b')
    eq(db.space.nope, nil)
    eq(db.space[1], nil, 'spaces go by name')
    db:close()
end)

test('objects carry their ids, names, types and parts', function()
    local db = jitbox.open()
    local s = db:create_space('t', { format = {{'id', 'unsigned'}, {'email', 'string'}, {'n', 'integer', is_nullable = true}} })
    local pk = s:create_index('pk')
    local em = s:create_index('email', { parts = {'email'} })
    local f = s:create_index('f', { parts = {{1, 'integer'}, {2, 'string'}}, unique = false,
        func = function(t) return { t[3] or 0, t[2] } end })
    assert(type(s.id) == 'number')
    eq(s.field_count, 0)
    eq(pk.id, 0); eq(em.id, 1); eq(f.id, 2)
    eq(pk.space_id, s.id)
    eq(em.type, 'TREE'); eq(em.unique, true); eq(f.unique, false)
    eq(em.parts[1].fieldno, 2); eq(em.parts[1].type, 'string')
    eq(#f.parts, 2); eq(f.parts[2].type, 'string')
    local fmt = s:format()
    eq(#fmt, 3); eq(fmt[3].name, 'n'); eq(fmt[3].is_nullable, true); eq(fmt[1].is_nullable, nil)
    expect_error('ILLEGAL_PARAMS', "option 'bad'", s.format, s, {{'id', 'unsigned', bad = 1}})
    expect_error('ILLEGAL_PARAMS', "'jb_size_', a name jitbox's tuples use", s.format, s, {{'jb_size_', 'unsigned'}})
    eq(#s:format(), 3)
    expect_error('ILLEGAL_PARAMS', "'jb_data_', a name jitbox's tuples use", db.create_space, db, 'r',
        { format = {{'id', 'unsigned'}, {'jb_data_', 'string'}} })
    eq(s:bsize(), 0)
    for i = 1, 100 do s:insert{i, 'user' .. i .. '@x', i} end
    assert(s:bsize() > 100 * 10, 'bytes of the tuples: ' .. s:bsize())
    assert(pk:bsize() > 0 and em:bsize() > 0 and f:bsize() > 0)
    eq(em:min()[1], 100, "'user100@x' sorts first"); eq(em:max()[1], 9, "'user9@x' sorts last")
    eq(pk:max()[1], 100); eq(pk:min(7)[1], 7); eq(pk:max(700), nil)
    -- random: a tuple of the space, the same for the same seed, and over many seeds many.
    local seen, n = {}, 0
    for seed = 0, 999 do
        local t = pk:random(seed)
        assert(t ~= nil and t[1] >= 1 and t[1] <= 100)
        eq(pk:random(seed)[1], t[1], 'the same seed, the same tuple')
        if not seen[t[1]] then seen[t[1]] = true; n = n + 1 end
    end
    assert(n > 50, 'only ' .. n .. ' distinct tuples from 1000 seeds')
    eq(f:random(3) ~= nil, true, 'a functional index picks a tuple too')
    expect_error('ILLEGAL_PARAMS', 'seed must be a whole number', pk.random, pk, -1)
    local tx = db:begin()
    for i = 1, 100 do s:delete(i) end
    eq(pk:random(5), nil, 'what the transaction sees: nothing')
    local co = coroutine.wrap(function() return pk:random(5) ~= nil end)
    eq(co(), true, 'another coroutine still sees the tuples')
    tx:rollback()
    db:close()
end)

test('renames and truncates are logged; the format comes back from the engine', function()
    local dir = H.tmpdir()
    local key = function(t) return { t[2]:lower() } end
    local db = H.open_dir(jitbox, dir)
    local s = db:create_space('users', { format = {{'id', 'unsigned'}, {'email', 'string'}} })
    s:create_index('pk')
    s:create_index('email', { parts = {'email'} })
    s:create_index('lower', { parts = {{1, 'string'}}, func = key })
    for i = 1, 50 do s:insert{i, 'U' .. i} end
    local t = db:create_space('tmp')
    t:create_index('pk')
    for i = 1, 50 do t:insert{i} end
    local used = db:stat().memory_used
    t:truncate()
    eq(t:len(), 0)
    assert(db:stat().memory_used < used, 'truncate gives the memory back')
    t:insert{7}
    s:rename('people')
    s.index.email:rename('mail')
    local tx = db:begin()
    expect_error('BUSY', 'transaction', t.truncate, t)
    tx:rollback()
    expect_error('EXISTS', "'tmp'", s.rename, s, 'tmp')
    expect_error('EXISTS', "'pk'", s.index.mail.rename, s.index.mail, 'pk')
    expect_error('ILLEGAL_PARAMS', 'must be a string', s.rename, s, 5)
    db:close()
    db = H.open_dir(jitbox, dir, { functions = { people = { lower = key } } })
    eq(names(db.space), 'people tmp')
    local p = db.space.people
    eq(p:len(), 50)
    eq(names(p.index), '0 1 2 lower mail pk')
    eq(p.index.mail:get('U7')[1], 7)
    eq(p.index.lower:get('u7')[1], 7)
    eq(db.space.tmp:len(), 1)
    eq(db.space.tmp:get(7)[1], 7)
    -- Parts by name work after recovery: the format is the engine's.
    local by = p:create_index('by_mail', { parts = {'email'}, unique = false })
    eq(by.parts[1].fieldno, 2)
    eq(p:format()[2].name, 'email')
    p:truncate()
    eq(p.index.lower:len(), 0)
    db:close()
    db = H.open_dir(jitbox, dir, { functions = { people = { lower = key } } })
    eq(db.space.people:len(), 0)
    eq(db.space.tmp:len(), 1)
    db:close()
    H.rmdir(dir)
end)

test('exclude_null leaves tuples with nil out of an index', function()
    local db = jitbox.open{}
    local s = db:create_space('x', { format = {{'id', 'unsigned'}, {'mail', 'string', is_nullable = true}} })
    s:create_index('pk')
    expect_error('ILLEGAL_PARAMS', 'exclude_null needs is_nullable', s.create_index, s, 'strict',
        { parts = {{'mail', 'string', is_nullable = false, exclude_null = true}} })
    expect_error('ILLEGAL_PARAMS', 'exclude_null must be true or false', s.create_index, s, 'bad',
        { parts = {{'mail', 'string', is_nullable = true, exclude_null = 1}} })
    local m = s:create_index('mail', { parts = {{'mail', 'string', is_nullable = true, exclude_null = true}} })
    eq(m.parts[1].exclude_null, true); eq(m.parts[1].is_nullable, true)
    eq(s.index.pk.parts[1].exclude_null, nil)
    s:insert{1, jitbox.NULL}; s:insert{2, 'a'}; s:insert{3}; s:insert{4, 'b'}; s:insert{5, jitbox.NULL}
    expect_error('TUPLE_FOUND', nil, s.insert, s, {6, 'a'})
    eq(m:len(), 2); eq(m:count(), 2); eq(#m:select({jitbox.NULL}), 0)
    local ids = {}
    for _, t in m:pairs() do ids[#ids + 1] = t[1] end
    eq(table.concat(ids, ','), '2,4')
    s:update(1, {{'=', 2, 'c'}})
    eq(m:get('c')[1], 1); eq(m:len(), 3)
    s:update(2, {{'=', 2, jitbox.NULL}})
    eq(m:get('a'), nil); eq(m:len(), 2)
    db:close()
end)

H.done('schema.lua')
