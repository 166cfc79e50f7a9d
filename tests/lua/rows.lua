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

-- Iteration against a model: each step of a pk loop makes random writes — the row it is on,
-- rows behind and ahead, inserts and deletes — with and without a transaction, with a reader
-- keeping old versions alive. The loop sees keys in order, each once, every row that exists
-- when the cursor passes it, none that was deleted before.
test('a loop that writes sees each row once, against a model', function()
    for seed = 1, 12 do
        math.randomseed(seed)
        local db, s = open()
        s:create_index('by_v', { parts = {{2, 'unsigned'}}, unique = false })
        local live = {}
        for k = 1, 300 do
            if math.random() < 0.7 then s:insert{k, k % 7}; live[k] = true end
        end
        local reader = coroutine.create(function() db:begin(); s:get{1}; coroutine.yield() end)
        if seed % 2 == 0 then assert(coroutine.resume(reader)) end
        local in_txn = seed % 3 == 0
        local prev, steps = 0, 0
        local body = function()
            if in_txn then db:begin() end
            for _, t in s:pairs({}, { iterator = 'ALL' }) do
                local k = t[1]
                steps = steps + 1
                assert(k > prev, ('seed %d: key %d after %d'):format(seed, k, prev))
                assert(live[k], ('seed %d: key %d was deleted'):format(seed, k))
                for j = prev + 1, k - 1 do
                    assert(not live[j], ('seed %d: key %d skipped'):format(seed, j))
                end
                prev = k
                for _ = 1, math.random(0, 3) do
                    local r, j = math.random(), math.random(1, 330)
                    if r < 0.3 then s:replace{k, math.random(0, 6)}          -- the row it is on
                    elseif r < 0.6 then s:replace{j, j % 7}; live[j] = true  -- behind or ahead
                    elseif r < 0.85 then s:delete{j}; live[j] = nil
                    else s:delete{k}; live[k] = nil end
                end
            end
            if in_txn then db:commit() end
        end
        coroutine.wrap(body)()
        for j = prev + 1, 400 do assert(not live[j], ('seed %d: key %d never reached'):format(seed, j)) end
        assert(steps > 100, 'the loop ran')
        -- The secondary index, rewriting each row it is on (its key stays): each row once.
        local seen, count = {}, 0
        for _, t in s.index.by_v:pairs() do
            assert(not seen[t[1]], ('seed %d: row %d twice in by_v'):format(seed, t[1]))
            seen[t[1]] = true
            count = count + 1
            s:replace{t[1], t[2], 'touched'}
        end
        eq(count, s:count())
        db:close()
    end
end)

test('a row with holes keeps every field: nil between, jitbox.NULL at the end', function()
    local db, s = open()
    local t = s:insert{1, nil, 3}
    eq(#t, 3, 'three fields'); eq(t[2], nil); eq(t[3], 3)
    eq(#s:get{1}, 3, 'stored with three fields')
    eq(#s:insert{2, nil, nil, nil, 'e'}, 5)
    t = s:insert{3, 2, jitbox.NULL}
    eq(#t, 3, 'a trailing jitbox.NULL is a field'); eq(t[3], nil)
    eq(#s:insert{4, jitbox.NULL, jitbox.NULL}, 3)
    eq(#s:insert{5, 2, nil}, 2, 'a trailing nil is no field')
    -- A table whose fields were set out of order (integer keys in the hash part).
    local row = {}
    row[5] = 'five'; row[3] = 'three'; row[1] = 6
    t = s:insert(row)
    eq(#t, 5); eq(t[3], 'three'); eq(t[5], 'five'); eq(t[2], nil)
    -- A proxy row: its raw keys give the fields, __index fills the holes.
    local proxy = setmetatable({ 7, nil, nil, 'four' }, { __index = function(_, i) return 'd' .. i end })
    eq(text(s:insert(proxy):totable()), '7|d2|d3|four')
    -- A key with a hole has every part: a one-part index refuses its third part.
    H.expect_error('ILLEGAL_PARAMS', nil, function() return s:get{1, nil, 3} end)
    H.expect_error('ILLEGAL_PARAMS', nil, function() return s:select{1, nil, 3} end)
    db:close()
end)

test('a row or key table with a key that is not a field number is an error naming it', function()
    local db, s = open()
    H.expect_error('ILLEGAL_PARAMS', "'name'", function() return s:insert{1, name = 'x'} end)
    H.expect_error('ILLEGAL_PARAMS', 'key 0', function() return s:insert{[0] = 5, 1} end)
    H.expect_error('ILLEGAL_PARAMS', 'key 1.5', function() return s:replace{1, [1.5] = 2} end)
    H.expect_error('ILLEGAL_PARAMS', 'key -1', function() return s:insert{[-1] = 1, 2} end)
    H.expect_error('ILLEGAL_PARAMS', 'too sparse', function() return s:insert{1, [100] = 2} end)
    H.expect_error('ILLEGAL_PARAMS', "'id'", function() return s:get{id = 1} end)
    H.expect_error('ILLEGAL_PARAMS', "'x'", function() return s:select({1, x = 2}) end)
    H.expect_error('ILLEGAL_PARAMS', "'x'", function() return s:delete{1, x = true} end)
    eq(s:count(), 0, 'nothing was stored')
    db:close()
end)

test('the length of a row agrees with a model, for random tables, in a compiled loop', function()
    local T = require('jitbox.tuple')
    -- The model: keys must be whole numbers from 1; the length is the largest; a table with
    -- more than twice as many holes as fields beyond ten is refused.
    local function model(t)
        local n, count = 0, 0
        for k in next, t do
            if type(k) ~= 'number' or k < 1 or k > 4294967295 or k ~= math.floor(k) then return 'error' end
            count = count + 1
            if k > n then n = k end
        end
        if n > 10 and n > 2 * count then return 'error' end
        return n
    end
    math.randomseed(7)
    local keys = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 30, 1.5, -1, 'x' }
    for round = 1, 3000 do
        local t = {}
        if round % 3 == 0 then -- arrays, as constructors make them, some with a stray key
            for i = 1, math.random(0, 12) do t[i] = i end
            if math.random(4) == 1 then t[keys[math.random(#keys)]] = true end
        else
            for _ = 1, math.random(0, 6) do t[keys[math.random(#keys)]] = true end
        end
        local ok, got = pcall(T.row_len, t)
        local want = model(t)
        if want == 'error' then
            assert(not ok, 'row_len accepted a table the model refuses, round ' .. round)
        else
            assert(ok and got == want, ('round %d: row_len %s, model %s'):format(round, tostring(got), tostring(want)))
        end
    end
end)

H.done('rows.lua')
