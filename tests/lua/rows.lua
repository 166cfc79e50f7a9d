-- Rows are read once, into memory that lives for the whole call: proxy rows whose __index
-- collects garbage or reads the engine, key functions that write to other spaces or yield
-- while another coroutine writes — none of it changes where a row goes or what is stored.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq = H.test, H.eq

local function open()
    local db = jitbox.open{ memory_limit = 64 * 2^20 }
    local s = db:create_space('t')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    return db, s
end

-- A row as text, to compare with what was written.
local function row_of(s, k)
    local t = s:get{k}
    return t and table.concat(t:totable(), '|')
end

local function text(list) return table.concat(list, '|') end

-- The primary key of the one row an index holds under key k.
local function pk_at(index, k)
    local rows = index:select{k}
    eq(#rows, 1, 'one row under ' .. tostring(k))
    return rows[1][1]
end

test('a proxy row whose __index collects garbage stores its own strings', function()
    local db, s = open()
    local mt = { __index = function(_, i)
        collectgarbage(); collectgarbage()
        return string.rep(string.char(64 + i), 200) .. i
    end }
    for k = 1, 50 do
        local row = setmetatable({ k, nil, nil, k * 2 }, mt)
        s:insert(row)
    end
    for k = 1, 50 do
        eq(row_of(s, k), text{ k, string.rep('B', 200) .. 2, string.rep('C', 200) .. 3, k * 2 })
    end
    db:close()
end)

test('a proxy row whose __index reads the engine keeps its primary key', function()
    local db, s = open()
    local other = db:create_space('other')
    other:create_index('pk', { parts = {{1, 'unsigned'}} })
    other:insert{7, 'seven'}
    local mt = { __index = function(_, i) return other:get{7}[2] .. i end }
    s:insert(setmetatable({ 1, nil, nil, 4 }, mt))
    eq(row_of(s, 1), text{ 1, 'seven2', 'seven3', 4 }, 'stored under its own key')
    eq(s:get{7}, nil, 'not under the key the nested read used')
    -- A key read through a proxy as well.
    eq(s:get(setmetatable({ 1 }, mt))[1], 1)
    db:close()
end)

test('key functions that write to another space do not change the keys of the row', function()
    local db, s = open()
    local other = db:create_space('other')
    other:create_index('pk', { parts = {{1, 'unsigned'}} })
    other:create_index('by_v', { func = function(t) return { t[2] * 1000 } end,
        parts = {{1, 'integer'}}, unique = false })
    local n = 0
    s:create_index('by_a', { func = function(t) return { t[2] } end,
        parts = {{1, 'integer'}}, unique = false })
    -- The second key function writes: after the first one's key is known.
    s:create_index('by_b', { func = function(t)
        n = n + 1
        other:replace{n, n}   -- computes other's keys: the shared key buffer, if there were one
        return { t[3] }
    end, parts = {{1, 'integer'}}, unique = false })
    for k = 1, 20 do s:replace{k, k + 100, k + 200} end
    for k = 1, 20 do
        eq(pk_at(s.index.by_a, k + 100), k, 'by_a of ' .. k)
        eq(pk_at(s.index.by_b, k + 200), k, 'by_b of ' .. k)
    end
    eq(s.index.by_a:count(), 20)
    eq(pk_at(other.index.by_v, 1000), 1)
    db:close()
end)

test('a key function that yields while another coroutine writes stores the right row', function()
    local db, s = open()
    local yield_once = false
    s:create_index('by_v', { func = function(t) return { t[2] } end,
        parts = {{1, 'integer'}}, unique = false })
    -- The second key function yields: after the first one's key is known.
    s:create_index('by_w', { func = function(t)
        if yield_once then yield_once = false; coroutine.yield() end
        return { t[2] + 1 }
    end, parts = {{1, 'integer'}}, unique = false })
    local writer = coroutine.create(function() s:insert{1, 10} end)
    yield_once = true
    assert(coroutine.resume(writer))           -- suspended inside the key function
    s:insert{2, 20}                            -- another write meanwhile, to completion
    assert(coroutine.resume(writer))
    eq(coroutine.status(writer), 'dead')
    eq(row_of(s, 1), text{ 1, 10 })
    eq(row_of(s, 2), text{ 2, 20 })
    eq(pk_at(s.index.by_v, 10), 1)
    eq(pk_at(s.index.by_v, 20), 2)
    eq(s.index.by_v:count(), 2)
    eq(pk_at(s.index.by_w, 11), 1)
    eq(pk_at(s.index.by_w, 21), 2)
    db:close()
end)

test('key functions get the tuple being stored; their results must be plain tables', function()
    local db, s = open()
    local seen
    s:create_index('by_v', { func = function(t) seen = t; return { t[2] } end,
        parts = {{1, 'integer'}}, unique = false })
    local row = { 1, 5 }
    s:insert(row)
    assert(jitbox.is_tuple(seen), 'a tuple, not the caller table')
    eq(text(seen:totable()), text{ 1, 5 })
    -- A key table with a metatable could run Lua while keys are written: refused, by name.
    local s2 = db:create_space('t2')
    s2:create_index('pk', { parts = {{1, 'unsigned'}} })
    local mt = { __index = function() return 9 end }
    s2:create_index('by_w', { func = function() return setmetatable({}, mt) end,
        parts = {{1, 'integer'}}, unique = false })
    H.expect_error('ILLEGAL_PARAMS', "'by_w'", s2.insert, s2, { 1, 2 })
    eq(s2:len(), 0)
    db:close()
end)

H.done('rows.lua')
