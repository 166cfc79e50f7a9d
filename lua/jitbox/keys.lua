-- jitbox.keys: functional indexes on the Lua side.
--
-- Writes compute the new tuple's keys here, in Lua, before the (HOT) FFI write, and pass them
-- down: no callback on the write path. Removing an old version's entries needs its keys again:
-- the module's drain pulls such versions from the engine and computes them here too (see
-- jitbox/deferred.lua). The one module-wide ffi.cast callback below, declared JB_CB_LUA,
-- serves what must happen inside the engine — index builds and jb_engine_run_deferred, both
-- SAFE entries — and never runs while a trace may be running.

local ffi = require('ffi')
local B = require('jitbox.base')
local T = require('jitbox.tuple')
local C, illegal = B.C, B.illegal
local enum = B.enum
local set_field, row_len, make_tuple = T.set_field, T.row_len, T.make_tuple

local fns = {} -- ctx id -> { f, name, nparts, multikey }
local next_id = 0

-- Where computed keys go: one set for a write's new tuple, one for the version it
-- replaces. `anchors` holds the key functions' results, and so the strings `parts` points
-- into, until the FFI call that reads them is over.
local function key_buffer()
    return { cap = 64, parts = ffi.new('jb_field[?]', 64), counts_cap = 8,
        counts = ffi.new('uint32_t[?]', 8), desc = ffi.new('jb_keys'), anchors = {} }
end
local new_keys, old_keys = key_buffer(), key_buffer()

local function fail(fe, what)
    illegal(("key function of index '%s' %s"):format(fe.name, what))
end

-- Writes one key (a plain table of parts) at parts[off...]; returns the next offset.
-- Its parts are counted as a row's fields are (row_len: holes are nil parts, a key that is
-- not a part number is an error).
local function put(fe, k, buf, off)
    local np = fe.nparts
    if row_len(k) > np then
        fail(fe, ('returned a key of more than %d part(s)'):format(np))
    end
    set_field(buf[off], k[1], 1)
    for i = 2, np do set_field(buf[off + i - 1], k[i], i) end
    return off + np
end

-- Room for `need` parts, keeping those already written.
local function grow(b, need)
    if need > b.cap then
        local parts = ffi.new('jb_field[?]', need * 2)
        ffi.copy(parts, b.parts, ffi.sizeof('jb_field') * b.cap)
        b.cap, b.parts = need * 2, parts
    end
end

-- Runs every key function of the space (`funcs`, in index order) on tuple t; returns
-- their results. Key functions may do anything — use the engine, yield — so nothing is
-- written to a shared buffer until all of them have returned (`put_keys`).
-- With one functional index (the common case) the result is that function's own, without
-- a table around it.
local function run(funcs, t)
    local nf = #funcs
    if nf == 1 then
        local fe = funcs[1]
        local ok, k = pcall(fe.f, t)
        if not ok then fail(fe, 'failed: ' .. tostring(k)) end
        return k
    end
    local res = {}
    for j = 1, nf do
        local fe = funcs[j]
        local ok, k = pcall(fe.f, t)
        if not ok then fail(fe, 'failed: ' .. tostring(k)) end
        res[j] = k
    end
    return res
end

-- A key function's result as a plain table: one with a metatable could run Lua while the
-- keys are being written.
local function plain(fe, k, what)
    if type(k) ~= 'table' then fail(fe, ('returned %s, not %s'):format(type(k), what)) end
    if getmetatable(k) ~= nil then
        fail(fe, ('returned %s with a metatable; return a plain table'):format(what))
    end
    return k
end

-- The results of `run` as a jb_keys in buffer b; no Lua runs here. Bad keys raise
-- ILLEGAL_PARAMS naming the index. `res` stays referenced by b (its strings are pointed to)
-- until the next call.
local function put_keys(b, funcs, res)
    local nf = #funcs
    if nf > b.counts_cap then
        b.counts_cap = nf * 2
        b.counts = ffi.new('uint32_t[?]', b.counts_cap)
    end
    local counts = b.counts
    b.anchors = res
    local off = 0
    for j = 1, nf do
        local fe, k = funcs[j], res
        if nf > 1 then k = res[j] end
        if fe.multikey then
            plain(fe, k, 'a list of keys')
            local n = row_len(k)
            grow(b, off + n * fe.nparts)
            for i = 1, n do off = put(fe, plain(fe, k[i], 'a key'), b.parts, off) end
            counts[j - 1] = n
        else
            grow(b, off + fe.nparts)
            off = put(fe, plain(fe, k, 'a key'), b.parts, off)
            counts[j - 1] = 1
        end
    end
    local desc = b.desc
    desc.parts = b.parts
    desc.counts = counts
    desc.part_count = off
    desc.index_count = nf
    return desc
end

-- The keys of tuple t for every functional index: for a write's new tuple, and (a buffer
-- of their own, so both can go to one call) for the version it replaces.
local function compute(funcs, t) return put_keys(new_keys, funcs, run(funcs, t)) end
local function put_new(funcs, res) return put_keys(new_keys, funcs, res) end
local function put_old(funcs, res) return put_keys(old_keys, funcs, res) end

-- The engine's view of one call: push every key of `k` into the sink.
local cb_parts = ffi.new('jb_field[?]', 16)
local function push_all(fe, k, sink)
    local keys = k
    if fe.multikey then plain(fe, keys, 'a list of keys') else keys = { k } end
    for i = 1, row_len(keys) do
        put(fe, plain(fe, keys[i], 'a key'), cb_parts, 0)
        local rc = C.jb_key_sink_push(sink, cb_parts, fe.nparts)
        if rc ~= 0 then return rc end
    end
    return 0
end

local function sink_fail(sink, msg)
    msg = type(msg) == 'table' and msg.message or tostring(msg)
    C.jb_key_sink_fail(sink, msg, #msg)
    return -1
end

-- Never lets a Lua error out into C: every failure becomes a message and -1.
local callback = ffi.cast('jb_key_fn', function(ctx, data, size, sink)
    local fe = fns[tonumber(ffi.cast('uintptr_t', ctx))]
    if not fe then return sink_fail(sink, 'its Lua function is gone') end
    local ok, k = pcall(fe.f, make_tuple(data, size, fe.fmt))
    if not ok then return sink_fail(sink, k) end
    local ok2, rc = pcall(push_all, fe, k, sink)
    if not ok2 then return sink_fail(sink, rc) end
    return rc
end)

-- A jb_func_def for key function f of index `name`; keeps f reachable while registered.
local function register(f, name, nparts, multikey, fmt)
    next_id = next_id + 1
    local fe = { f = f, name = name, nparts = nparts, multikey = multikey and true or false, id = next_id,
        fmt = fmt }
    fns[next_id] = fe
    local def = ffi.new('jb_func_def')
    def.fn = callback
    def.ctx = ffi.cast('void*', next_id)
    def.kind = enum.JB_CB_LUA
    def.multikey = multikey and 1 or 0
    return def, fe
end

local function unregister(fe) fns[fe.id] = nil end

return { compute = compute, run = run, put_new = put_new, put_old = put_old,
    register = register, unregister = unregister }
