-- update, upsert and writes through unique indexes, beyond what tests/compat/update.lua
-- compares with Tarantool: transactions, functional indexes, the WAL, skipped upsert
-- operations reaching the logger, tuple:update, and the guards on malformed calls.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

test('an update in a transaction is its own until commit; a rollback undoes it', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'a', 10}
    db:begin()
    eq(s:update(1, {{'+', 3, 5}})[3], 15)
    eq(s:get{1}[3], 15, 'the transaction sees its update')
    local co = coroutine.wrap(function() return s:get{1}[3] end)
    eq(co(), 10, 'another coroutine sees the committed row')
    db:rollback()
    eq(s:get{1}[3], 10, 'rolled back')
    db:begin(); s:update(1, {{'+', 3, 1}}); s:update(1, {{'+', 3, 1}}); db:commit()
    eq(s:get{1}[3], 12, 'two updates of one row in a transaction')
    db:begin()
    s:upsert({2, 'b', 0}, {{'+', 3, 1}})
    s:upsert({2, 'b', 0}, {{'+', 3, 1}})
    db:commit()
    eq(s:get{2}[3], 1, 'an upsert sees the row the transaction inserted')
    db:close()
end)

test('a conflicting update fails the transaction as a replace would', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'a', 10}
    local tx = db:begin()
    eq(tx:get(s, {1})[3], 10)
    local co = coroutine.wrap(function() s:update(1, {{'=', 3, 99}}) end)
    co()
    expect_error('CONFLICT', nil, s.update, s, 1, {{'+', 3, 1}})
    db:rollback()
    eq(s:get{1}[3], 99)
    db:close()
end)

test('updates keep every index right, functional ones included', function()
    local db = jitbox.open()
    local s = db:create_space('u', { format = {{'id', 'unsigned'}, {'email', 'string'}, {'n', 'integer'}} })
    s:create_index('pk')
    local email = s:create_index('email', { parts = {'email'} })
    local by_n = s:create_index('by_n', { parts = {{1, 'integer'}}, unique = false,
        func = function(t) return { t[3] % 3 } end })
    local lower = s:create_index('lower', { parts = {{1, 'string'}},
        func = function(t) return { t[2]:lower() } end })
    for i = 1, 30 do s:insert{i, 'User' .. i .. '@X', i} end
    for i = 1, 30 do s:update(i, {{'+', 3, 1}}) end
    for i = 1, 30, 3 do email:update('User' .. i .. '@X', {{'=', 2, 'user' .. i .. '@y'}}) end
    for i = 2, 30, 3 do lower:update('user' .. i .. '@x', {{'+', 3, 10}}) end
    s:upsert({31, 'new@x', 0}, {{'+', 3, 1}})
    s:upsert({1, 'ignored', 0}, {{'+', 3, 100}})
    -- The model.
    local model = {}
    for i = 1, 30 do
        local e = (i % 3 == 1) and ('user' .. i .. '@y') or ('User' .. i .. '@X')
        model[i] = { i, e, i + 1 + ((i % 3 == 2) and 10 or 0) }
    end
    model[31] = { 31, 'new@x', 0 }
    model[1][3] = model[1][3] + 100
    for k = 0, 2 do
        local want = {}
        for i = 1, 31 do if model[i][3] % 3 == k then want[#want + 1] = i end end
        local got = {}
        for _, t in by_n:pairs({ k }) do got[#got + 1] = t[1] end
        table.sort(got)
        eq(table.concat(got, ','), table.concat(want, ','), 'by_n ' .. k)
    end
    for i = 1, 31 do
        local t = s:get(i)
        eq(t[2], model[i][2]); eq(t[3], model[i][3])
        eq(email:get(model[i][2])[1], i, 'email ' .. i)
        eq(lower:get(model[i][2]:lower())[1], i, 'lower ' .. i)
    end
    eq(lower:len(), 31)
    expect_error('TUPLE_FOUND', nil, email.update, email, 'new@x', {{'=', 2, 'user1@y'}})
    expect_error('TUPLE_FOUND', nil, s.update, s, 31, {{'=', 2, 'USER1@Y'}})
    eq(s:get(31)[2], 'new@x', 'a failed update changes nothing')
    expect_error('ILLEGAL_PARAMS', 'not unique', by_n.update, by_n, {1}, {{'+', 3, 1}})
    expect_error('ILLEGAL_PARAMS', 'not unique', by_n.delete, by_n, {1})
    eq(lower:delete('new@x')[1], 31)
    eq(s:get(31), nil)
    eq(select('#', lower:delete('new@x')), 0, 'a delete of a missing key returns nothing')
    db:close()
end)

test('updates and upserts survive reopening', function()
    local dir = H.tmpdir()
    local db = H.open_dir(jitbox, dir)
    local s = db:create_space('c', { format = {{'id', 'unsigned'}, {'hits', 'unsigned'}, {'tag', 'string'}} })
    s:create_index('pk')
    for i = 1, 50 do s:upsert({i % 10, 1, 'x'}, {{'+', 2, 1}}) end
    s:update(3, {{':', 3, 1, 0, 'pre-'}, {'!', 4, 'extra'}})
    db:begin(); s:update(4, {{'#', 3, 1}, {'!', 3, 'y'}}); db:commit()
    local before = {}
    for _, t in s:pairs() do before[#before + 1] = tostring(t) end
    db:close()
    db = H.open_dir(jitbox, dir)
    local after = {}
    for _, t in db.space.c:pairs() do after[#after + 1] = tostring(t) end
    eq(table.concat(after, ' '), table.concat(before, ' '))
    eq(db.space.c:get(1)[2], 5)
    eq(db.space.c:get(3)[3], 'pre-x')
    db:close()
    H.rmdir(dir)
end)

test('an upsert says which operations it skipped, through the logger', function()
    local logged = {}
    local db = jitbox.open{ logger = function(level, msg) logged[#logged + 1] = { level, msg } end }
    local s = db:create_space('t')
    s:create_index('pk')
    s:insert{1, 'text'}
    s:upsert({1, 0}, {{'+', 2, 1}, {'!', 3, 'ok'}})
    db:gc() -- log messages from a HOT entry wait for a SAFE one
    eq(tostring(s:get(1)), '[1, "text", "ok"]', 'the other operation applied')
    local found
    for _, l in ipairs(logged) do
        if l[2]:find("upsert into space 't' skipped an operation", 1, true) then found = l end
    end
    assert(found, 'no warning was logged')
    eq(found[1], jitbox.LOG_WARN)
    assert(found[2]:find("'+' on field 2", 1, true), found[2])
    db:close()
end)

test('tuple:update makes a new tuple and leaves the old one', function()
    local db, s = H.fresh(jitbox)
    local t = s:insert{1, 'a', 10}
    local u = t:update{{'+', 3, 1}, {'=', 2, 'b'}, {'!', -1, true}}
    eq(tostring(u), '[1, "b", 11, true]')
    eq(tostring(t), '[1, "a", 10]')
    eq(tostring(s:get(1)), '[1, "a", 10]', 'the space is not touched')
    eq(t:update{{'+', 'v', 1}}.v, 11, 'by the name in the format of its space')
    expect_error('NO_SUCH_FIELD', "names field 'w'", t.update, t, {{'+', 'w', 1}})
    expect_error('NO_SUCH_FIELD', nil, t.update, t, {{'+', 9, 1}})
    local big = t:update{{'=', 2, ('x'):rep(5000)}}
    eq(#big[2], 5000, 'a result larger than the first buffer')
    db:close()
end)

test('malformed operations are errors that name them, and change nothing', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'a', 10}
    expect_error('ILLEGAL_PARAMS', 'operations must be a plain table', s.update, s, 1, setmetatable({}, {}))
    expect_error('ILLEGAL_PARAMS', 'operation 1 must be a plain table', s.update, s, 1, {setmetatable({'+', 3, 1}, {})})
    expect_error('ILLEGAL_PARAMS', 'the operator must be a string', s.update, s, 1, {{43, 3, 1}})
    expect_error('ILLEGAL_PARAMS', 'field number or a format field name', s.update, s, 1, {{'+', 2.5, 1}})
    expect_error('ILLEGAL_PARAMS', 'field number or a format field name', s.update, s, 1, {{'+', 2^40, 1}})
    expect_error('UPDATE_ARG_TYPE', "offset and cut must be integers", s.update, s, 1, {{':', 2, 'x', 1, 'y'}})
    expect_error('ILLEGAL_PARAMS', 'unsupported Lua type', s.update, s, 1, {{'=', 3, print}})
    expect_error('FIELD_TYPE', 'got array', s.update, s, 1, {{'=', 3, {}}})
    expect_error('UPDATE_OP', "unknown operator '=='", s.upsert, s, {1, 'a', 1}, {{'==', 3, 1}})
    expect_error('FIELD_TYPE', 'integer', s.update, s, 1, {{'+', 3, 0.5}})
    eq(tostring(s:get(1)), '[1, "a", 10]')
    db:close()
end)

H.done('update.lua')
