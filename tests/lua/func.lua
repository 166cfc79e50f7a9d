-- Functional indexes from Lua, and the re-entrancy guard's second part: the "FFI sandwich"
-- (a JIT-compiled loop calls C, C would run Lua) cannot happen — a key function is never
-- called from a HOT entry, only from SAFE ones.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local ffi = require('ffi')
local C = jitbox.lib
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function fresh(n)
    local db, s = H.fresh(jitbox)
    for i = 1, n or 0 do s:insert{i, 'n' .. i % 3, i * 100 + 7} end
    return db, s
end

local function ids(list)
    local r = {}
    for i, t in ipairs(list) do r[i] = t[1] end
    return table.concat(r, ',')
end

test('a functional index is built over existing tuples and read like any index', function()
    local db, s = fresh(30)
    local by_mod = s:create_index('by_mod', { func = function(t) return { t[3] % 1000 } end,
        parts = { { 1, 'integer' } }, unique = false })
    eq(ids(by_mod:select({ 107 })), '1,11,21', 'equal keys ordered by primary key')
    eq(by_mod:count({ 107 }), 3)
    eq(by_mod:count(), 30)
    eq(ids(by_mod:select({ 907 }, { iterator = 'GE' })), '9,19,29')
    s:replace{1, 'x', 5}
    eq(ids(by_mod:select({ 5 })), '1', 'replace moved the tuple to its new key')
    eq(ids(by_mod:select({ 107 })), '11,21', 'the old entry is gone for readers at once')
    s:delete{11}
    eq(ids(by_mod:select({ 107 })), '21')
    db:gc()
    eq(db:stat().callbacks_pending, 0)
    eq(by_mod:count(), 29)
    db:close()
end)

test('unique functional keys give TUPLE_FOUND and change nothing', function()
    local db, s = fresh(10)
    local u = s:create_index('u', { func = function(t) return { t[2] .. ':' .. t[3] } end,
        parts = { { 1, 'string' } } })
    eq(u:get({ 'n1:107' })[1], 1)
    expect_error('TUPLE_FOUND', "'u'", s.insert, s, { 50, 'n1', 107 })
    expect_error('TUPLE_FOUND', "'u'", s.replace, s, { 2, 'n1', 107 })
    eq(s:get{2}[3], 207); eq(s:get{50}, nil); eq(u:count(), 10)
    s:replace{1, 'n1', 107} -- its own key again: fine
    -- Building a unique index over duplicate keys fails and leaves no index.
    expect_error('TUPLE_FOUND', nil, s.create_index, s, 'dup',
        { func = function(t) return { t[2] } end, parts = { { 1, 'string' } } })
    eq(s.index.dup, nil)
    db:close()
end)

test('multikey: every key of the list, each once', function()
    local db, s = fresh(0)
    local tags = s:create_index('tags', { multikey = true, unique = false, parts = { { 1, 'string' } },
        func = function(t)
            local r = {}
            for w in t[2]:gmatch('%a+') do r[#r + 1] = { w } end
            return r
        end })
    s:insert{1, 'red green red', 0}
    s:insert{2, 'green blue', 0}
    s:insert{3, '', 0}
    eq(ids(tags:select({ 'green' })), '1,2')
    eq(ids(tags:select({ 'red' })), '1', 'a repeated key counts once')
    eq(tags:count(), 4)
    eq(tags:len(), 4, 'len of a multikey index counts its entries, as Tarantool does')
    eq(s.index.pk:len(), 3); eq(s:len(), 3)
    local tx = db:begin()
    s:delete{2}
    eq(tags:len(), 2, 'in a transaction: what it sees')
    tx:rollback()
    eq(tags:len(), 4)
    s:replace{1, 'blue', 0}
    eq(ids(tags:select({ 'blue' })), '1,2')
    eq(#tags:select({ 'red' }), 0)
    db:gc()
    eq(tags:count(), 3)
    -- A list with a hole is not a list of keys: nothing is stored.
    local holes = s:create_index('holes', { multikey = true, unique = false, parts = { { 1, 'unsigned' } },
        func = function(t) return t[1] == 9 and { { 1 }, nil, { 3 } } or {} end })
    expect_error('ILLEGAL_PARAMS', 'not a key', s.insert, s, { 9, 'x', 0 })
    eq(s:get{9}, nil); eq(holes:count(), 0)
    db:close()
end)

test('key functions that fail give clear errors and the write changes nothing', function()
    local db, s = fresh(5)
    local mode = 'ok'
    s:create_index('f', { unique = false, parts = { { 1, 'integer' } }, func = function(t)
        if mode == 'raise' then error('boom') end
        if mode == 'shape' then return 7 end
        if mode == 'type' then return { 'seven' } end
        if mode == 'long' then return { 1, 2 } end
        if mode == 'gap' then return { 1, nil, 2 } end
        if mode == 'named' then return { t[3], part = 2 } end
        return { t[3] }
    end })
    for m, part in pairs({ raise = 'boom', shape = 'not a key', long = 'more than 1', type = 'string',
            gap = 'more than 1', named = "'part'" }) do
        mode = m
        local err = pcall(s.replace, s, { 1, 'x', 1 }) and 'no error' or select(2, pcall(s.replace, s, { 1, 'x', 1 }))
        assert(type(err) == 'table' and (err.code == 'ILLEGAL_PARAMS' or err.code == 'FIELD_TYPE'), m .. ': ' .. tostring(err))
        assert(err.message:find(part, 1, true), m .. ': ' .. err.message)
        eq(s:get{1}[3], 107, m .. ': nothing written')
    end
    mode = 'ok'
    -- A key function that calls back into the engine while it computes keys for it.
    expect_error('REENTRY', 'called back into the engine', s.create_index, s, 'reenter',
        { unique = false, parts = { { 1, 'integer' } }, func = function(t) return { s:len() } end })
    eq(s.index.reenter, nil)
    eq(#s:select(), 5)
    db:close()
end)

test('transactions: own writes visible, rollback restores the functional index', function()
    local db, s = fresh(10)
    local by_mod = s:create_index('by_mod', { func = function(t) return { t[3] % 1000 } end,
        parts = { { 1, 'integer' } }, unique = false })
    db:begin()
    s:replace{1, 'x', 999}
    s:insert{100, 'y', 999}
    eq(ids(by_mod:select({ 999 })), '1,100')
    coroutine.wrap(function() eq(#by_mod:select({ 999 }), 0, 'no dirty read') end)()
    db:rollback()
    eq(#by_mod:select({ 999 }), 0)
    eq(ids(by_mod:select({ 107 })), '1')
    db:begin()
    s:replace{2, 'x', 998}
    db:commit()
    eq(ids(by_mod:select({ 998 })), '2')
    db:gc()
    local st = db:stat()
    eq(st.callbacks_pending, 0); eq(st.versions, 0)
    db:close()
end)

-- The scenario from production: hot FFI loops (hotloop=1) write a space with a functional
-- index while reader transactions in other coroutines keep old versions alive, and hot FFI
-- pairs loops run over another space in between. Garbage collection runs inside HOT writes:
-- it must queue the key function's work, never call it there.
test('the FFI sandwich: no key function call from a HOT entry, exact index after', function()
    jit.flush()
    jit.opt.start('hotloop=1', 'hotexit=1')
    local db = jitbox.open{ memory_limit = 256 * 2^20 }
    local fs = db:create_space('f', { format = { { 'id', 'unsigned' }, { 's', 'string' }, { 'v', 'integer' } } })
    fs:create_index('pk')
    local reading, in_reads, calls = false, 0, 0
    local by_mod = fs:create_index('by_mod', { unique = false, parts = { { 1, 'integer' } }, func = function(t)
        calls = calls + 1
        if reading then in_reads = in_reads + 1 end
        return { t[3] % 1000 }
    end })
    local other = db:create_space('o')
    other:create_index('pk')
    for i = 1, 2000 do fs:insert{i, 's', i} end
    for i = 1, 1000 do other:insert{i, i} end
    local readers = {}
    local function reader(k)
        return coroutine.create(function()
            db:begin()
            local function look()
                local t = fs:get{k}
                if not t then return 'none', by_mod:count() end
                return t[3], by_mod:count({ t[3] % 1000 })
            end
            local v0, n0 = look()
            for _ = 1, 3 do
                coroutine.yield()
                local v, n = look()
                eq(v, v0, 'repeatable read')
                eq(n, n0, 'repeatable read through the functional index')
            end
            db:commit()
        end)
    end
    local sum = 0
    for round = 1, 30 do
        readers[#readers + 1] = reader(round * 37 % 2000 + 1)
        for i = #readers, 1, -1 do
            local co = readers[i]
            assert(coroutine.resume(co))
            if coroutine.status(co) == 'dead' then table.remove(readers, i) end
        end
        for i = 1, 300 do -- hot writes: every replace makes an old version
            local k = (round * 311 + i * 7) % 2000 + 1
            fs:replace{k, 's', round * 1000 + i}
        end
        for i = 1, 20 do fs:delete{(round * 97 + i) % 2000 + 1} end
        reading = true
        for _, t in other:pairs() do sum = sum + t[2] end -- hot FFI pairs in between
        for _, t in by_mod:pairs({ round % 1000 }, { iterator = 'GE' }) do sum = sum + t[1] end
        reading = false
    end
    while #readers > 0 do
        for i = #readers, 1, -1 do
            assert(coroutine.resume(readers[i]))
            if coroutine.status(readers[i]) == 'dead' then table.remove(readers, i) end
        end
    end
    jit.opt.start('hotloop=56', 'hotexit=10')
    eq(in_reads, 0, 'key function called during a read')
    local st = db:stat()
    assert(st.callbacks_deferred > 0, 'garbage collection in HOT writes deferred key work')
    db:gc()
    st = db:stat()
    eq(st.callbacks_pending, 0); eq(st.versions, 0); eq(st.gc_pending, 0)
    -- Exactly one correct entry per live tuple.
    local live = 0
    for _, t in fs:pairs() do
        live = live + 1
        local found = 0
        for _, u in by_mod:pairs({ t[3] % 1000 }) do
            if u[1] == t[1] then found = found + 1 end
        end
        eq(found, 1, 'entries of tuple ' .. t[1])
    end
    eq(by_mod:count(), live)
    assert(sum > 0)
    db:close()
end)

-- The module drains buried old versions pull-style: their keys are computed in Lua (in
-- compiled code) with no callback, and a key function that reads the engine meanwhile
-- does not disturb the write that triggered the drain.
test('the drain computes old keys in Lua; key functions may read the engine there', function()
    local db, s = fresh(0)
    local other = db:create_space('other')
    other:create_index('pk')
    other:insert{1, 'from other'}
    local reads = 0
    local by_mod = s:create_index('by_mod', { unique = false, parts = { { 1, 'integer' } }, func = function(t)
        if other:get{1} then reads = reads + 1 end -- uses the engine's result buffer
        return { t[3] % 100 }
    end })
    jit.opt.start('hotloop=1', 'hotexit=1')
    for i = 1, 300 do s:replace{i, 'a', i} end
    for i = 1, 300 do
        local t = s:replace{i, 'b', i + 1}
        eq(t[2], 'b', 'the write returns its own tuple'); eq(t[3], i + 1)
    end
    jit.opt.start('hotloop=56', 'hotexit=10')
    assert(reads >= 600 + 256, 'keys of old versions computed in Lua: ' .. reads)
    local st = db:stat()
    assert(st.callbacks_pending < 64, 'drained as writes went: ' .. tostring(st.callbacks_pending))
    db:gc()
    eq(by_mod:count(), 300)
    for i = 1, 300 do eq(ids(by_mod:select({ (i + 1) % 100 }, { limit = 1000 })):find('%f[%d]' .. i .. '%f[%D]') ~= nil, true) end
    db:close()
end)

test('without a WAL a replace drops the old version at once, even given wrong old keys', function()
    local db, s = fresh(0)
    local shift = 0
    local by_mod = s:create_index('by_mod', { unique = false, parts = { { 1, 'integer' } },
        func = function(t) return { (t[3] + shift) % 100 } end })
    jit.opt.start('hotloop=1', 'hotexit=1')
    for i = 1, 200 do s:replace{i, 'a', 1000 + i} end
    for i = 1, 200 do s:replace{i, i % 2 == 0 and 'b' or 'a', 2000 + i} end
    eq(db:stat().callbacks_pending, 0, 'the old versions were not buried for the drain')
    eq(by_mod:count(), 200)
    eq(ids(by_mod:select({ 7 })), '7,107')
    -- The key function now answers differently, for the old versions too: the keys computed
    -- for them find no rows, the engine searches the index, and nothing stale is left.
    local key = {} -- id -> the key its row was made with
    for i = 1, 200 do key[i] = (2000 + i) % 100 end
    shift = 50
    for i = 1, 200, 10 do
        s:replace{i, 'a', 3000 + i}
        key[i] = (3000 + i + 50) % 100
    end
    jit.opt.start('hotloop=56', 'hotexit=10')
    eq(db:stat().callbacks_pending, 0)
    eq(by_mod:count(), 200, 'one row per tuple')
    for i = 1, 200 do
        local found = false
        for _, t in ipairs(by_mod:select({ key[i] }, { limit = 1000 })) do found = found or t[1] == i end
        assert(found, 'tuple ' .. i .. ' under its key ' .. key[i])
    end
    eq(ids(s.index.by_name:select({ 'b' }, { limit = 3 })), '2,4,6', 'secondary keys moved')
    -- In a transaction the old version is kept for readers and goes the usual way.
    db:begin(); s:replace{2, 'c', 4002}; db:commit()
    db:gc()
    eq(by_mod:count(), 200); eq(ids(by_mod:select({ 52 })), '2,52,152')
    db:close()
end)

-- A raw ffi.cast callback registered as JB_CB_LUA: a HOT entry never invokes it (refused or
-- deferred); the SAFE entry does.
test('a JB_CB_LUA ffi.cast callback runs from the SAFE entry only', function()
    jit.flush()
    jit.opt.start('hotloop=1', 'hotexit=1')
    local db, s = fresh(3)
    local invoked, hot = 0, false
    local parts = ffi.new('jb_field[1]')
    local cb = ffi.cast('jb_key_fn', function(_, data, size, sink)
        invoked = invoked + 1
        if hot then return -1 end
        local n = ffi.new('jb_field[1]')
        C.jb_data_field(data, size, 2, n)
        parts[0].type = ffi.C.JB_FT_INTEGER
        parts[0].v.i = n[0].v.i % 10
        return C.jb_key_sink_push(sink, parts, 1)
    end)
    local def = ffi.new('jb_index_def')
    local kp = ffi.new('jb_key_part[1]', { { 0, ffi.C.JB_FT_INTEGER } })
    def.parts, def.part_count, def.unique = kp, 1, 0
    local fdef = ffi.new('jb_func_def')
    fdef.fn, fdef.kind = cb, ffi.C.JB_CB_LUA
    local out = ffi.new('jb_index*[1]')
    local function create() return C.jb_index_create_func(s._s, 'raw', 3, def, fdef, out) end
    jit.off(create)
    eq(create(), 0)
    eq(invoked, 3, 'the build ran it (SAFE)')
    hot = true
    local f = ffi.new('jb_field[3]')
    local refused = 0
    for i = 1, 100 do -- a compiled loop of HOT writes without keys: refused, not invoked
        f[0].type, f[0].v.u = ffi.C.JB_FT_UNSIGNED, 1
        f[1].type, f[1].v.s, f[1].len = ffi.C.JB_FT_STRING, 'x', 1
        f[2].type, f[2].v.i = ffi.C.JB_FT_INTEGER, i
        if C.jb_space_replace(s._s, nil, f, 3, nil, 0, nil) == ffi.C.JB_E_REENTRY then refused = refused + 1 end
    end
    eq(refused, 100); eq(invoked, 3)
    assert(ffi.string(C.jb_last_error()):find("'raw'"), ffi.string(C.jb_last_error()))
    local keys = ffi.new('jb_keys')
    local counts = ffi.new('uint32_t[1]', 1)
    local k = ffi.new('jb_field[1]')
    for i = 1, 100 do -- HOT writes with keys: the old versions' removal is deferred
        f[2].v.i = i
        k[0].type, k[0].v.i = ffi.C.JB_FT_INTEGER, i % 10
        keys.parts, keys.counts, keys.part_count, keys.index_count = k, counts, 1, 1
        eq(C.jb_space_replace_keyed(s._s, nil, f, 3, keys, nil, 0, nil), 0)
    end
    eq(invoked, 3, 'never invoked from a HOT entry')
    local st = db:stat()
    assert(st.callbacks_pending > 0 and st.callbacks_refused >= 100, 'pending and refused counted')
    hot = false
    jit.opt.start('hotloop=56', 'hotexit=10')
    db:gc() -- the SAFE entry runs it
    assert(invoked > 3, 'run from the SAFE entry')
    eq(db:stat().callbacks_pending, 0)
    eq(s.index.raw:count(), 3)
    eq(ids(s.index.raw:select({ 0 })), '1')
    db:close()
    cb:free()
end)

test('db:close() refused inside a key function leaves an engine that closes later', function()
    local db = jitbox.open{}
    local s = db:create_space('t')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:insert{1, 2}
    local inner
    s:create_index('f', { func = function(t)
        inner = { pcall(db.close, db) }
        return { t[2] }
    end, parts = {{1, 'integer'}}, unique = false })
    assert(inner[1] == false and inner[2].code == 'REENTRY', 'refused inside the build')
    eq(db:is_closed(), false)
    eq(s.index.f:count({2}), 1, 'the engine still serves')
    db:close()
    eq(db:is_closed(), true)
    H.expect_error('CLOSED', 'closed', db.stat, db)
end)

H.done('func.lua')
