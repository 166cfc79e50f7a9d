-- jitbox: a transactional in-memory storage engine, from LuaJIT at FFI speed.
--
-- Hot paths (get, pairs, insert, replace, delete, tuple field access) are plain FFI calls on
-- reusable buffers, so they compile inside traces; C never calls back into Lua from them.
-- Tuples returned to Lua are copies of the tuple's MessagePack data in Lua-owned memory: the
-- garbage collector frees them, no finalizer runs per tuple, and they stay valid after close.
-- DDL and lifecycle functions are SAFE entries and run with the JIT off (jit.off below).

local ffi = require('ffi')

ffi.cdef(require('jitbox.cdef'))
-- A tuple's size is const: Lua cannot change the length the engine decodes (an assignment
-- raises), so every read stays inside the tuple's own allocation whatever its bytes say.
ffi.cdef[[
struct jb_tuple_data { const uint32_t size; uint8_t data[?]; };
struct jb_tuple_small { const uint32_t size; uint8_t data[28]; };
]]

local ABI_VERSION = 11

-- Symbols already in the process (a host linked with -rdynamic, the Rust tests), else
-- JITBOX_LIB, else the first libjitbox.so on package.cpath. One engine copy per process.
local function load_library()
    if pcall(function() return ffi.C.jb_abi_version end) then
        return ffi.C
    end
    local path = os.getenv('JITBOX_LIB')
    if path then
        return ffi.load(path)
    end
    for pattern in package.cpath:gmatch('[^;]+') do
        local candidate = pattern:gsub('%?', 'libjitbox')
        local f = io.open(candidate, 'rb')
        if f then
            f:close()
            return ffi.load(candidate)
        end
    end
    error('jitbox: cannot find the library: link it into the process, set JITBOX_LIB, or put libjitbox.so on package.cpath')
end

local C = load_library()
if C.jb_abi_version() ~= ABI_VERSION then
    error(('jitbox: library ABI version %d, module expects %d'):format(C.jb_abi_version(), ABI_VERSION))
end

local M = { _VERSION = '0.1.0', ABI_VERSION = ABI_VERSION, lib = C }

local FT_NIL, FT_BOOLEAN, FT_UNSIGNED, FT_INTEGER, FT_NUMBER, FT_STRING, FT_ANY =
    C.JB_FT_NIL, C.JB_FT_BOOLEAN, C.JB_FT_UNSIGNED, C.JB_FT_INTEGER, C.JB_FT_NUMBER, C.JB_FT_STRING, C.JB_FT_ANY

local type_codes = {
    boolean = FT_BOOLEAN, unsigned = FT_UNSIGNED, integer = FT_INTEGER,
    number = FT_NUMBER, string = FT_STRING, any = FT_ANY, scalar = FT_ANY,
}

local iter_codes = {
    EQ = C.JB_ITER_EQ, REQ = C.JB_ITER_REQ, ALL = C.JB_ITER_ALL, LT = C.JB_ITER_LT,
    LE = C.JB_ITER_LE, GE = C.JB_ITER_GE, GT = C.JB_ITER_GT,
}

local tuple_t = ffi.typeof('struct jb_tuple_data')
-- Tuples of up to 28 bytes (many rows of a few scalars) use a fixed-size type: LuaJIT
-- allocates and collects it faster than a variable-length one.
local small_t, SMALL = ffi.typeof('struct jb_tuple_small'), 28
local int64_t, uint64_t = ffi.typeof('int64_t'), ffi.typeof('uint64_t')
local u32_ptr = ffi.typeof('uint32_t*')
local floor = math.floor

-- Reusable out-parameters: module-wide, never retained across calls.
local out_len = ffi.new('size_t[1]')
local out_u32 = ffi.new('uint32_t[1]')
local out_u64 = ffi.new('uint64_t[1]')
local out_ptr = ffi.new('void*[1]')
local field_out = ffi.new('jb_field[1]')

------------------------------------------------------------------------------------------
-- Errors: objects with .code ('TUPLE_FOUND', ...) and .message where they are caught, the
-- string 'jitbox: CODE: message' where nothing catches them (jitbox/error.lua).

local errors = require('jitbox.error')(C)
local error_mt, error_of, throw = errors.mt, errors.of_status, errors.throw

local function raise(rc)
    throw(error_of(rc), 3)
end
M.error_mt = error_mt
-- jitbox.error(err): the error object of a jitbox error in either form, nil for any other.
M.error = errors.decode

local function illegal(msg)
    throw(errors.new('ILLEGAL_PARAMS', C.JB_E_ILLEGAL_PARAMS, msg), 3)
end

-- Checks that opts is nil or a table whose every key `known` lists; returns opts or {}. An
-- option jitbox does not have (yet) is an error naming it, never ignored.
local function options(opts, known, what)
    if opts == nil then return {} end
    if type(opts) ~= 'table' then
        illegal(('%s: options must be a table, not %s'):format(what, type(opts)))
    end
    for k in pairs(opts) do
        if not known[k] then
            local list = {}
            for name in pairs(known) do list[#list + 1] = name end
            table.sort(list)
            illegal(("%s: unknown option '%s' (jitbox has %s)"):format(what, tostring(k), table.concat(list, ', ')))
        end
    end
    return opts
end

-- A size option: a whole number of bytes from min to max, or 0 when not given.
local function size_option(opts, name, min, max, what)
    local v = opts[name]
    if v == nil then return 0 end
    if type(v) ~= 'number' or not (v >= min and v <= max) or v ~= math.floor(v) then
        illegal(('%s: %s must be a whole number of bytes from %d to %.0f, not %s'):format(what, name, min, max, tostring(v)))
    end
    return v
end

------------------------------------------------------------------------------------------
-- Lua values <-> jb_field arrays.

-- An explicit nil field: {1, 2, jitbox.NULL} has three fields, the last nil (a table's
-- trailing nil is no field at all). It reads back as nil. A NULL pointer, as Tarantool's box.NULL.
M.NULL = ffi.cast('void *', 0)

local fields_cap = 64
local fields_buf = ffi.new('jb_field[?]', fields_cap)

local function set_field(f, v, i)
    local tv = type(v)
    if tv == 'number' then
        if v == floor(v) and v >= 0 and v < 18446744073709551616 then
            f.type = FT_UNSIGNED; f.v.u = v
        elseif v == floor(v) and v < 0 and v >= -9223372036854775808 then
            f.type = FT_INTEGER; f.v.i = v
        else
            f.type = FT_NUMBER; f.v.d = v
        end
    elseif tv == 'string' then
        f.type = FT_STRING; f.len = #v; f.v.s = v
    elseif tv == 'boolean' then
        f.type = FT_BOOLEAN; f.v.u = v and 1 or 0
    elseif v == nil then
        f.type = FT_NIL
    elseif tv == 'cdata' and ffi.istype(uint64_t, v) then
        f.type = FT_UNSIGNED; f.v.u = v
    elseif tv == 'cdata' and ffi.istype(int64_t, v) then
        if v >= 0 then f.type = FT_UNSIGNED; f.v.u = v else f.type = FT_INTEGER; f.v.i = v end
    else
        illegal(('field %d has unsupported Lua type %s; use nil, boolean, number, string or 64-bit cdata'):format(i, tv))
    end
end

-- The number of fields of a row or key table: its largest key. Every key must be a field
-- number (a whole number from 1); the fields between are nil, so {1, nil, 3} has three fields
-- (as Tarantool stores it) and a trailing jitbox.NULL makes a trailing nil field. `#t` is not
-- the count: with a hole it is any border (LuaJIT gives 1 for #{1, nil, 3}). Keys are read
-- raw (`next`), so a metatable adds no fields.
local function not_a_field(k)
    local shown = type(k) == 'string' and ("'" .. k .. "'") or tostring(k)
    illegal(('a row or key table has the key %s (%s), which is not a field number; rows and keys are arrays {field1, field2, ...}')
        :format(shown, type(k)))
end

local function row_len_any(t)
    local n, count = 0, 0
    for k in next, t do
        if type(k) ~= 'number' or not (k >= 1 and k <= 4294967295) or k ~= floor(k) then not_a_field(k) end
        count = count + 1
        if k > n then n = k end
    end
    -- Tarantool's rule for a sparse array (more than twice as many holes as fields, beyond
    -- ten) makes it a map, which no row can be; here it is an error, not a huge row of nils.
    if n > 10 and n > 2 * count then
        illegal(('a row or key table sets field %d but has only %d fields: too sparse for an array; put jitbox.NULL in the holes')
            :format(n, count))
    end
    return n
end

-- Keys 1, 2, ... in traversal order — an array without holes, as table constructors and
-- t[#t + 1] = v make — are counted with unrolled `next` calls: a trace compiles them, where a
-- loop here would be an inner loop that splits the caller's trace. Anything else is scanned.
local function row_len(t)
    local k = next(t)
    if k == nil then return 0 elseif k ~= 1 then return row_len_any(t) end
    k = next(t, 1) if k == nil then return 1 elseif k ~= 2 then return row_len_any(t) end
    k = next(t, 2) if k == nil then return 2 elseif k ~= 3 then return row_len_any(t) end
    k = next(t, 3) if k == nil then return 3 elseif k ~= 4 then return row_len_any(t) end
    k = next(t, 4) if k == nil then return 4 elseif k ~= 5 then return row_len_any(t) end
    k = next(t, 5) if k == nil then return 5 elseif k ~= 6 then return row_len_any(t) end
    k = next(t, 6) if k == nil then return 6 elseif k ~= 7 then return row_len_any(t) end
    k = next(t, 7) if k == nil then return 7 end
    return row_len_any(t)
end

-- A table with a metatable, read once: its fields 1..row_len(t), each with t[i] (so __index
-- is honoured for holes), into a plain table of our own. Whatever that Lua does — collect
-- garbage, call the engine and so refill the shared field buffer — is over before the buffer
-- is filled, and the copy keeps the strings it holds alive until the next fill.
-- Not compiled: its loop runs the row's __index, which may call the engine (and so fill,
-- re-entered), and Debian's LuaJIT 2.1 (the 2022-03 snapshot) miscompiles a trace through
-- that: a later call got a field count of 0 for a four-field row (tests/lua/fuzz.lua found it,
-- at random under ASLR; -O-narrow or OpenResty's LuaJIT do not show it). Such rows are rare,
-- and their __index calls are slow anyway.
local snapshot_anchor
local function snapshot(t, n)
    local c = {}
    for i = 1, n do c[i] = t[i] end
    snapshot_anchor = c
    return c
end
jit.off(snapshot)

-- Fills the shared field buffer from a table (or a single scalar key); returns the count.
-- Reading a plain table runs no Lua; its strings stay referenced by `t` for the FFI call that
-- follows at once (no Lua in between).
local function fill(t)
    if type(t) ~= 'table' then
        if t == nil then return 0 end
        set_field(fields_buf[0], t, 1)
        return 1
    end
    local n = row_len(t)
    if getmetatable(t) ~= nil then t = snapshot(t, n) end
    if n > fields_cap then
        fields_cap = n * 2
        fields_buf = ffi.new('jb_field[?]', fields_cap)
    end
    local buf = fields_buf
    -- Up to 8 fields without a loop. A short inner loop here keeps the caller's loop from
    -- getting a trace of its own (LuaJIT: "inner loop in root trace"), and its body then
    -- runs as a patchwork of side traces and interpreter.
    if n >= 1 then set_field(buf[0], t[1], 1) end
    if n >= 2 then set_field(buf[1], t[2], 2) end
    if n >= 3 then set_field(buf[2], t[3], 3) end
    if n >= 4 then set_field(buf[3], t[4], 4) end
    if n >= 5 then set_field(buf[4], t[5], 5) end
    if n >= 6 then set_field(buf[5], t[6], 6) end
    if n >= 7 then set_field(buf[6], t[7], 7) end
    if n >= 8 then set_field(buf[7], t[8], 8) end
    for i = 9, n do
        set_field(buf[i - 1], t[i], i)
    end
    return n
end

local function field_value(f)
    local ty = f.type
    if ty == FT_UNSIGNED then
        local u = f.v.u
        if u < 9007199254740992ULL then return tonumber(u) end
        return u
    elseif ty == FT_STRING then
        return ffi.string(f.v.s, f.len)
    elseif ty == FT_INTEGER then
        local i = f.v.i
        if i > -9007199254740992LL then return tonumber(i) end
        return i
    elseif ty == FT_NUMBER then
        return f.v.d
    elseif ty == FT_BOOLEAN then
        return f.v.u ~= 0
    end
    return nil
end

------------------------------------------------------------------------------------------
-- Tuples: struct jb_tuple_data (size + MessagePack bytes) with a metatype.

local tuple_methods = {}

-- Field i, or nil where a Lua table would have none: past the end, below 1, not a whole
-- number (t[1.5], t[0/0]) — never another field.
local function tuple_field(t, i)
    if not (i >= 1 and i <= 4294967296 and i == floor(i)) then return nil end
    local rc = C.jb_data_field(t.data, t.size, i - 1, field_out)
    if rc ~= 0 then raise(rc) end
    return field_value(field_out[0])
end

local function tuple_count(t)
    local rc = C.jb_data_field_count(t.data, t.size, out_u32)
    if rc ~= 0 then raise(rc) end
    return tonumber(out_u32[0])
end

-- The bounds i..j of a range over n fields, as unpack(t, i, j) takes them.
local function field_range(what, n, i, j)
    i, j = i or 1, j or n
    if type(i) ~= 'number' or type(j) ~= 'number' or i ~= floor(i) or j ~= floor(j) then
        illegal(('tuple:%s(i, j): i and j must be whole numbers, not %s, %s'):format(what, tostring(i), tostring(j)))
    end
    return i, j
end

-- Fields i..j (default: all) as a table {t[i], ..., t[j]} (nil where the tuple has none)
-- and its length.
local function fields_of(t, i, j)
    local n = tuple_count(t)
    i, j = field_range(i == nil and j == nil and 'totable' or 'unpack', n, i, j)
    local fs = ffi.new('jb_field[?]', math.max(n, 1))
    local rc = C.jb_data_fields(t.data, t.size, fs, n, out_u32)
    if rc ~= 0 then raise(rc) end
    local res = {}
    for k = i, j do
        if k >= 1 and k <= n then res[k - i + 1] = field_value(fs[k - 1]) end
    end
    return res, j - i + 1
end

function tuple_methods.totable(t, i, j) return (fields_of(t, i, j)) end

-- t:unpack(i, j): fields i..j (default: all), nils included.
function tuple_methods.unpack(t, i, j)
    local res, n = fields_of(t, i, j)
    return unpack(res, 1, n)
end

-- The tuple's MessagePack bytes as a Lua string.
function tuple_methods.tomsgpack(t)
    return ffi.string(t.data, t.size)
end

local tuple_mt = {
    __index = function(t, k)
        if type(k) == 'number' then return tuple_field(t, k) end
        return tuple_methods[k]
    end,
    __len = tuple_count,
    __tostring = function(t)
        local fields, n = fields_of(t)
        local parts = {}
        for i = 1, n do
            local v = fields[i]
            parts[i] = type(v) == 'string' and ('%q'):format(v) or tostring(v)
        end
        return '[' .. table.concat(parts, ', ') .. ']'
    end,
}
ffi.metatype(tuple_t, tuple_mt)
ffi.metatype(small_t, tuple_mt)

local function is_tuple(v) return ffi.istype(tuple_t, v) or ffi.istype(small_t, v) end
M.is_tuple = is_tuple

-- Copies `len` bytes of tuple data from the engine's result buffer into a new tuple.
local function make_tuple(buf, len)
    local t = len <= SMALL and small_t() or tuple_t(len)
    ffi.cast(u32_ptr, t)[0] = len -- the one write of the const size, right after allocation
    ffi.copy(t.data, buf, len)
    return t
end

local keys = require('jitbox.keys') { C = C, set_field = set_field, row_len = row_len, make_tuple = make_tuple, illegal = illegal }

-- Deferred work. Old versions whose functional-index entries need a Lua key function wait
-- in the engine's queue ("buried") until we drain it: pull-style, with HOT leaf calls — the
-- engine hands over the oldest version, its keys are computed here, and a second call removes
-- its entries. No callback from C into Lua, so this runs anywhere, compiled. Whatever else is
-- queued (log messages; versions of spaces this module does not know) runs in
-- jb_engine_run_deferred, a SAFE entry, from `run_deferred`: jit.off, so no trace is running
-- when it calls C. Writes drain once the engine's pending counter reaches DRAIN_AT (one
-- side exit per batch, not per write); commits and db:gc() whenever anything is pending.
local DRAIN_AT = 64
local buried_space = ffi.new('uint64_t[1]')
local buried_data = ffi.new('const uint8_t*[1]')
local buried_size = ffi.new('size_t[1]')

local function run_deferred(db)
    local rc = C.jb_engine_run_deferred(db._e, 0, nil)
    if rc ~= 0 then raise(rc) end
end
jit.off(run_deferred)

local function drain(db)
    if db._closed then return end
    local e = db._e
    while C.jb_engine_buried_next(e, buried_space, buried_data, buried_size) == 0 do
        local data = buried_data[0]
        if data == nil then break end
        local space = db._func_spaces[tonumber(buried_space[0])]
        if not space or not space._funcs then break end
        -- A failing key function forgets by a search of the index (keys NULL).
        local ok, k = pcall(keys.compute, space._funcs, make_tuple(data, buried_size[0]))
        if C.jb_engine_buried_forget(e, data, ok and k or nil) ~= 0 then break end
    end
    if not db._closed and db._pending[0] > 0 then run_deferred(db) end
end

------------------------------------------------------------------------------------------
-- Engine, spaces, indexes.

local db_mt, space_mt, index_mt = {}, {}, {}
local current_tx, end_dead -- from jitbox.txn, below
db_mt.__index = db_mt

local function live(db)
    if db._closed then
        throw(errors.new('CLOSED', C.JB_E_CLOSED, 'the engine was closed; open a new one'), 3)
    end
    return db._e
end

local function new_index(space, handle, name)
    return setmetatable({ space = space, name = name, _i = handle, _db = space._db }, index_mt)
end

local function find_index(space, key)
    local rc
    if type(key) == 'number' then
        rc = C.jb_space_index_at(space._s, key, ffi.cast('jb_index**', out_ptr))
    else
        rc = C.jb_index_find(space._s, key, #key, ffi.cast('jb_index**', out_ptr))
    end
    if rc == C.JB_E_NO_SUCH_INDEX then return nil end
    if rc ~= 0 then raise(rc) end
    local handle = ffi.cast('jb_index*', out_ptr[0])
    local name = key
    if type(key) ~= 'string' then
        local p = ffi.new('const char*[1]')
        rc = C.jb_index_name(handle, p, out_len)
        if rc ~= 0 then raise(rc) end
        name = ffi.string(p[0], out_len[0])
    end
    return new_index(space, handle, name)
end

local index_list_mt = {
    __index = function(list, key)
        local idx = find_index(rawget(list, '_space'), key)
        if idx and type(key) == 'string' then rawset(list, key, idx) end
        return idx
    end,
}

local function new_space(db, handle, name)
    local s = setmetatable({ name = name, _s = handle, _db = db }, space_mt)
    s.index = setmetatable({ _space = s }, index_list_mt)
    return s
end

local space_list_mt = {
    __index = function(list, name)
        local db = rawget(list, '_db')
        local rc = C.jb_space_find(live(db), name, #name, ffi.cast('jb_space**', out_ptr))
        if rc == C.JB_E_NO_SUCH_SPACE then return nil end
        if rc ~= 0 then raise(rc) end
        local s = new_space(db, ffi.cast('jb_space*', out_ptr[0]), name)
        rawset(list, name, s)
        return s
    end,
}

-- Open engines by slot, for commit tickets (weak: a ticket does not keep its engine alive).
local engines, next_engine = setmetatable({}, { __mode = 'v' }), 0
local function engine_slot(db)
    next_engine = next_engine + 1
    engines[next_engine] = db
    return next_engine
end

local function wrap(e, owned)
    local st = ffi.new('jb_stat')
    local rc = C.jb_engine_stat(e, st)
    if rc ~= 0 then raise(rc) end
    local db = setmetatable({
        _e = e, _owned = owned, _closed = false,
        _cap = tonumber(st.max_tuple_size),
        _buf = ffi.new('uint8_t[?]', st.max_tuple_size),
        _batches = {},
        _txs = setmetatable({}, { __mode = 'k' }), -- coroutine -> open transaction
        _guards = setmetatable({}, { __mode = 'k' }), -- coroutine -> its transaction guard
        _ntx = 0, -- open transactions of this module's coroutines
        _outside = 0, -- statements run outside a transaction while one was open (see end_dead)
        _keyfns = {},
        _func_spaces = {}, -- space id -> space, for spaces with functional indexes
    }, db_mt)
    local pending = ffi.new('const uint64_t*[1]')
    rc = C.jb_engine_pending_counter(e, pending)
    if rc ~= 0 then raise(rc) end
    db._pending = pending[0]
    if owned then
        local commits = ffi.new('const uint64_t*[1]')
        rc = C.jb_engine_commit_counters(e, commits)
        if rc ~= 0 then raise(rc) end
        db._commits = commits[0]
    end
    db.space = setmetatable({ _db = db }, space_list_mt)
    db._slot = engine_slot(db)
    return db
end

-- Loggers of open engines by id. One callback serves them all (LuaJIT has few callback
-- slots); an engine's id travels as the callback's context.
local loggers, logger_ids = {}, 0
-- The level a logger gets: ngx_lua's numbers, so that `logger = ngx.log` works.
M.LOG_ERR, M.LOG_WARN, M.LOG_INFO = 4, 5, 7
local LOG_LEVELS = { [0] = M.LOG_ERR, M.LOG_WARN, M.LOG_INFO }
local log_cb
local function log_callback(ctx, level, msg, len)
    local f = loggers[tonumber(ffi.cast('uintptr_t', ctx))]
    -- An error must not unwind through C: a failing logger loses its message only.
    if f then pcall(f, LOG_LEVELS[level] or M.LOG_INFO, ffi.string(msg, len)) end
end

local function engine_finalizer(e)
    -- No Lua logger runs from a finalizer: warnings go to stderr from here on.
    C.jb_engine_set_logger(e, nil, nil, C.JB_CB_NATIVE)
    C.jb_engine_close(e) -- idempotent; the closure keeps the library loaded until it ran
end

local OPEN_OPTIONS = { memory_limit = true, max_tuple_size = true, dir = true, wal_mode = true,
    wal_queue_max_size = true, functions = true, lock_timeout = true, force_recovery = true,
    logger = true }
local WAL_MODES = { none = C.JB_WAL_NONE, write = C.JB_WAL_WRITE, fsync = C.JB_WAL_FSYNC }
local type_names = {}
for name, code in pairs(type_codes) do type_names[tonumber(code)] = name end

-- The key function the application supplies for index iname of space sname:
-- functions[sname][iname], or functions['sname.iname'] when neither name has a dot (with a
-- dot the flat name could mean another space and index: 'a.b.c' is space 'a.b' or 'a').
local function key_function(functions, sname, iname)
    local by_space = functions[sname]
    if type(by_space) == 'table' then return by_space[iname] end
    local f = functions[sname .. '.' .. iname]
    if f ~= nil and (sname:find('.', 1, true) or iname:find('.', 1, true)) then
        illegal(("jitbox.open: functions['%s.%s'] is ambiguous (a name has a dot); pass functions = {['%s'] = {['%s'] = function(tuple) ... end}}")
            :format(sname, iname, sname, iname))
    end
    return f
end

-- Rebuilds the functional indexes recovery found, with the key functions the application
-- supplies (key_function); a missing one is an error naming it.
local function restore_functional(db, functions)
    local a = ffi.new('jb_awaiting_index')
    while true do
        local rc = C.jb_engine_awaiting(db._e, 0, a)
        if rc == C.JB_E_NO_SUCH_INDEX then return end
        if rc ~= 0 then raise(rc) end
        local sname, iname = ffi.string(a.space, a.space_len), ffi.string(a.index, a.index_len)
        local f = key_function(functions, sname, iname)
        if type(f) ~= 'function' then
            illegal(("jitbox.open: functional index '%s' of space '%s' needs its key function; pass "
                .. "functions = {['%s'] = {['%s'] = function(tuple) ... end}}"):format(iname, sname, sname, iname))
        end
        local parts = {}
        for k = 1, a.part_count do parts[k] = { k, type_names[tonumber(a.part_types[k - 1])] } end
        db.space[sname]:create_index(iname, { func = f, parts = parts, unique = a.unique == 1,
            multikey = a.multikey == 1 })
    end
end

-- jitbox.open{memory_limit = bytes, max_tuple_size = bytes, dir = path,
--             wal_mode = 'none' | 'write' | 'fsync', wal_queue_max_size = bytes,
--             lock_timeout = seconds, force_recovery = boolean,
--             logger = function(level, message) end,
--             functions = {space = {index = key_function, ...}, ['space.index'] = ..., ...}}
function M.open(opts)
    opts = options(opts, OPEN_OPTIONS, 'jitbox.open')
    local memory_limit = size_option(opts, 'memory_limit', 4096, 2^53, 'jitbox.open')
    local max_tuple_size = size_option(opts, 'max_tuple_size', 16, 2^30, 'jitbox.open')
    local wal_queue_max_size = size_option(opts, 'wal_queue_max_size', 1, 2^53, 'jitbox.open')
    local mode = WAL_MODES[opts.wal_mode or 'none']
    if not mode then
        illegal(("jitbox.open: wal_mode must be 'none', 'write' or 'fsync', not '%s'"):format(tostring(opts.wal_mode)))
    end
    local dir = opts.dir
    if dir ~= nil and type(dir) ~= 'string' then illegal('jitbox.open: dir must be a string (a directory path)') end
    local functions = opts.functions or {}
    if type(functions) ~= 'table' then illegal("jitbox.open: functions must be a table {space = {index = function}}") end
    local lock_timeout = opts.lock_timeout or 0
    if type(lock_timeout) ~= 'number' or not (lock_timeout >= 0 and lock_timeout < 4e6) then
        illegal('jitbox.open: lock_timeout must be a number of seconds from 0 to 4e6, not '
            .. tostring(opts.lock_timeout))
    end
    local force = opts.force_recovery
    if force ~= nil and type(force) ~= 'boolean' then
        illegal('jitbox.open: force_recovery must be true or false, not ' .. tostring(force))
    end
    local logger = opts.logger
    if logger ~= nil and type(logger) ~= 'function' then
        illegal('jitbox.open: logger must be a function(level, message), not ' .. type(logger))
    end
    local o = ffi.new('jb_engine_opts')
    o.flags = force and C.JB_OPEN_FORCE_RECOVERY or 0
    o.lock_timeout_ms = math.floor(lock_timeout * 1000 + 0.5)
    local logger_id
    if logger then
        log_cb = log_cb or ffi.cast('jb_log_fn', log_callback)
        logger_ids = logger_ids + 1
        logger_id = logger_ids
        loggers[logger_id] = logger
        o.log_fn = log_cb
        o.log_ctx = ffi.cast('void*', logger_id)
        o.log_kind = C.JB_CB_LUA
    end
    o.memory_limit = memory_limit
    o.max_tuple_size = max_tuple_size
    o.dir = dir
    o.dir_len = dir and #dir or 0
    o.wal_mode = mode
    o.wal_queue_max_size = wal_queue_max_size
    local out = ffi.new('jb_engine*[1]')
    local rc = C.jb_engine_open(o, out)
    if rc ~= 0 then
        if logger_id then loggers[logger_id] = nil end
        raise(rc)
    end
    local db = wrap(ffi.gc(out[0], engine_finalizer), true)
    db._logger_id = logger_id
    -- Without a WAL an autocommit replace can drop the old version at once (see `write`).
    db._peek = (opts.wal_mode or 'none') == 'none'
    local ok, err = pcall(restore_functional, db, functions)
    if not ok then
        db:close()
        errors.rethrow(err, 2)
    end
    return db
end

-- Wraps an engine opened by a C host (a jb_engine* as cdata or light userdata). The host
-- keeps ownership: closing it stays the host's job.
function M.attach(ptr)
    return wrap(ffi.cast('jb_engine*', ptr), false)
end

function db_mt:close()
    if self._closed then return end
    if self._owned then
        local rc = C.jb_engine_close(self._e)
        -- Refused (from inside one of the engine's callbacks): still open, closable later.
        if rc ~= 0 and rc ~= C.JB_E_CLOSED then raise(rc) end
        ffi.gc(self._e, nil)
        if self._logger_id then loggers[self._logger_id] = nil end
    end
    self._closed = true
    for fe in pairs(self._keyfns) do keys.unregister(fe) end
end

function db_mt:is_closed() return self._closed end

function db_mt:stat()
    local e = live(self)
    if self._ntx > 0 then end_dead(self) end
    local st = ffi.new('jb_stat')
    local rc = C.jb_engine_stat(e, st)
    if rc ~= 0 then raise(rc) end
    local res = {}
    for _, k in ipairs({ 'memory_used', 'memory_limit', 'max_tuple_size', 'space_count', 'tuple_count',
        'hot_calls', 'safe_calls', 'reentry_refused', 'callbacks_deferred', 'callbacks_run',
        'callbacks_pending', 'callbacks_dropped', 'txn_open', 'versions', 'gc_pending',
        'callbacks_refused', 'wal_prepared', 'wal_committed', 'wal_rolled_back', 'wal_failed_writes',
        'wal_next_lsn', 'snapshots_done', 'snapshots_failed', 'snapshot_lsn', 'snapshot_running',
        'recovery_wal_files', 'recovery_records', 'recovery_tuples', 'recovery_micros',
        'recovery_set_aside' }) do
        res[k] = tonumber(st[k])
    end
    local len = ffi.new('size_t[1]')
    rc = C.jb_engine_recovery(self._e, nil, 0, len)
    if rc == C.JB_E_BUFFER_TOO_SMALL then
        local buf = ffi.new('char[?]', len[0])
        rc = C.jb_engine_recovery(self._e, buf, len[0], len)
        res.recovery = ffi.string(buf, len[0])
    else
        res.recovery = ''
    end
    if rc ~= 0 then raise(rc) end
    return res
end

-- db:create_space(name, {format = {{'id', 'unsigned'}, {name = 'n', type = 'string', is_nullable = true}}})
local SPACE_OPTIONS = { format = true }
local INDEX_OPTIONS = { parts = true, unique = true, type = true, func = true, multikey = true }

function db_mt:create_space(name, opts)
    if type(name) ~= 'string' then illegal('create_space: name must be a string') end
    opts = options(opts, SPACE_OPTIONS, 'create_space ' .. name)
    local format = opts.format or {}
    local n = #format
    local ff = ffi.new('jb_format_field[?]', math.max(n, 1))
    local keep = {}
    for i, f in ipairs(format) do
        if type(f) ~= 'table' then illegal(('create_space %s: format field %d must be a table'):format(name, i)) end
        local fname = f.name or f[1]
        local ftype = f.type or f[2] or 'any'
        if type(fname) ~= 'string' then illegal(('create_space %s: format field %d needs a name'):format(name, i)) end
        local code = type_codes[ftype]
        if not code then illegal(("create_space %s: format field %d ('%s') has unknown type '%s'"):format(name, i, fname, tostring(ftype))) end
        keep[i] = fname
        ff[i - 1].name = fname
        ff[i - 1].name_len = #fname
        ff[i - 1].type = code
        ff[i - 1].is_nullable = f.is_nullable and 1 or 0
    end
    local out = ffi.new('jb_space*[1]')
    local rc = C.jb_space_create(live(self), name, #name, ff, n, out)
    if rc ~= 0 then raise(rc) end
    local s = new_space(self, out[0], name)
    s._format = format
    rawset(self.space, name, s)
    return s
end

-- Index parts: {{1, 'unsigned'}}, {{field = 2, type = 'string'}}, {'name'} or {2}.
local function parse_parts(space, name, parts)
    if type(parts) ~= 'table' or #parts == 0 then
        illegal(("create_index %s: parts must be a non-empty list"):format(name))
    end
    local format = space._format or {}
    local res = ffi.new('jb_key_part[?]', #parts)
    for i, p in ipairs(parts) do
        local field, ptype
        if type(p) == 'table' then
            field, ptype = p.field or p[1], p.type or p[2]
        else
            field = p
        end
        if type(field) == 'string' then
            local found
            for j, f in ipairs(format) do
                if (f.name or f[1]) == field then found = j end
            end
            if not found then illegal(("create_index %s: part %d names unknown field '%s'"):format(name, i, field)) end
            field = found
        end
        if type(field) ~= 'number' or field < 1 or field ~= floor(field) then
            illegal(("create_index %s: part %d needs a field number from 1"):format(name, i))
        end
        if ptype == nil then
            local f = format[field]
            ptype = f and (f.type or f[2]) or 'unsigned'
        end
        local code = type_codes[ptype]
        if not code or code == FT_ANY then
            illegal(("create_index %s: part %d has type '%s', which cannot be indexed"):format(name, i, tostring(ptype)))
        end
        res[i - 1].fieldno = field - 1
        res[i - 1].type = code
    end
    return res, #parts
end

local space_methods = {}
space_mt.__index = space_methods

function space_methods:create_index(name, opts)
    if type(name) ~= 'string' then illegal('create_index: name must be a string') end
    opts = options(opts, INDEX_OPTIONS, 'create_index ' .. name)
    if opts.type ~= nil and opts.type ~= 'TREE' and opts.type ~= 'tree' then
        illegal(("create_index %s: only TREE indexes exist, not '%s'"):format(name, tostring(opts.type)))
    end
    local func = opts.func
    if func ~= nil and type(func) ~= 'function' then
        illegal(("create_index %s: func must be a function that returns the tuple's key"):format(name))
    end
    if opts.multikey and not func then
        illegal(("create_index %s: multikey needs func"):format(name))
    end
    local parts, n = parse_parts(func and {} or self, name, opts.parts or { { 1, 'unsigned' } })
    local def = ffi.new('jb_index_def')
    def.parts = parts
    def.part_count = n
    def.unique = (opts.unique == nil or opts.unique) and 1 or 0
    local out = ffi.new('jb_index*[1]')
    live(self._db)
    local rc, fe
    if func then
        for k = 0, n - 1 do
            if parts[k].fieldno ~= k then
                illegal(("create_index %s: part %d of a functional index is key part %d, not field %d"):format(
                    name, k + 1, k + 1, parts[k].fieldno + 1))
            end
        end
        local fdef
        fdef, fe = keys.register(func, name, n, opts.multikey)
        rc = C.jb_index_create_func(self._s, name, #name, def, fdef, out)
        if rc ~= 0 then keys.unregister(fe) end
    else
        rc = C.jb_index_create(self._s, name, #name, def, out)
    end
    if rc ~= 0 then raise(rc) end
    local idx = new_index(self, out[0], name)
    if fe then
        self._db._keyfns[fe] = true
        idx._fe = fe
        local funcs = rawget(self, '_funcs') or {}
        funcs[#funcs + 1] = fe
        rawset(self, '_funcs', funcs)
        local id = ffi.new('uint64_t[1]')
        rc = C.jb_space_id(self._s, id)
        if rc ~= 0 then raise(rc) end
        self._db._func_spaces[tonumber(id[0])] = self
    end
    rawset(self.index, name, idx)
    return idx
end

function space_methods:drop()
    live(self._db)
    local rc = C.jb_space_drop(self._s)
    if rc ~= 0 then raise(rc) end
    rawset(self._db.space, self.name, nil)
end

local function primary(space)
    local pk = rawget(space, '_pk')
    if pk == nil then
        pk = find_index(space, 0)
        if pk == nil then
            throw(errors.new('NO_SUCH_INDEX', C.JB_E_NO_SUCH_INDEX,
                ("space '%s' has no primary index; create one with create_index"):format(space.name)), 3)
        end
        rawset(space, '_pk', pk)
    end
    return pk
end

-- The row in the field buffer as a tuple of its own (see `write`).
local function encode_row(db, n)
    local rc = C.jb_data_encode(fields_buf, n, db._buf, db._cap, out_len)
    if rc == C.JB_E_BUFFER_TOO_SMALL then
        -- Larger than any tuple may be: the write refuses it, naming the limit.
        local big = ffi.new('uint8_t[?]', out_len[0])
        rc = C.jb_data_encode(fields_buf, n, big, out_len[0], out_len)
        if rc == 0 then return make_tuple(big, out_len[0]) end
    end
    if rc ~= 0 then raise(rc) end
    return make_tuple(db._buf, out_len[0])
end

-- The field buffer refilled from a tuple (its strings point into the tuple's bytes).
local function refill(row)
    local rc = C.jb_data_fields(row.data, row.size, fields_buf, fields_cap, out_u32)
    if rc ~= 0 then raise(rc) end
    local n = out_u32[0]
    if n > fields_cap then
        fields_cap = n * 2
        fields_buf = ffi.new('jb_field[?]', fields_cap)
        return refill(row)
    end
    return n
end

-- The version a replace of the row in the field buffer would replace, or nil. With its keys an
-- autocommit replace without a WAL drops the old version's entries at once — and overwrites it
-- in place when it can — instead of burying it: the drain's work, done while the version is
-- in cache.
local function replaced_row(db, space, n)
    local rc = C.jb_space_replaced(space._s, nil, fields_buf, n, db._buf, db._cap, out_len)
    if rc ~= 0 or out_len[0] == 0 then return nil end -- the write itself will say what is wrong
    return make_tuple(db._buf, out_len[0])
end

-- Keys put by `put`, or nil when they are not keys (the old version is then buried, as when
-- its key function fails).
local function keys_or_nil(put, funcs, res)
    local ok, k = pcall(put, funcs, res)
    return ok and k or nil
end

-- Writes: insert / replace return the new tuple, delete the deleted one (or nil). With
-- functional indexes, insert and replace compute the new tuple's keys first (`keyed`).
local function write(fn, space, t, keyed)
    local db = space._db
    local funcs = space._funcs
    local rc
    if funcs and keyed then
        local tx = current_tx(db)
        -- The row is read once, into a tuple: what the key functions see is what is stored,
        -- whatever they do (use the engine, yield, change `t`).
        local n = fill(t)
        local row = encode_row(db, n)
        local old_row
        if keyed == C.jb_space_replace_keyed and tx == nil and db._peek then
            old_row = replaced_row(db, space, n) -- the field buffer still holds the row
        end
        local k = keys.run(funcs, row)
        local old_ok, old_res
        if old_row then old_ok, old_res = pcall(keys.run, funcs, old_row) end
        -- No Lua from here to the write: the buffers are filled last.
        k = keys.put_new(funcs, k)
        local old_k = old_ok and keys_or_nil(keys.put_old, funcs, old_res)
        n = refill(row)
        if old_k then
            rc = C.jb_space_replace_rekeyed(space._s, nil, fields_buf, n, k, old_k, db._buf, db._cap, out_len)
        else
            rc = keyed(space._s, tx, fields_buf, n, k, db._buf, db._cap, out_len)
        end
    else
        local n = fill(t)
        rc = fn(space._s, current_tx(db), fields_buf, n, db._buf, db._cap, out_len)
    end
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    local result = len ~= 0 and make_tuple(db._buf, len) or nil
    -- After taking the result: key functions run by the drain may use the engine (and its buffer).
    if db._pending[0] >= DRAIN_AT then drain(db) end
    return result
end

function space_methods:insert(t) return write(C.jb_space_insert, self, t, C.jb_space_insert_keyed) end
function space_methods:replace(t) return write(C.jb_space_replace, self, t, C.jb_space_replace_keyed) end
function space_methods:delete(key) return write(C.jb_space_delete, self, key) end

-- The number of tuples the caller sees: the latest committed state, or inside a transaction
-- its snapshot with its own writes (versions not yet collected never count).
function space_methods:len()
    local tx = current_tx(self._db)
    if tx ~= nil then return primary(self):count() end
    local rc = C.jb_space_len(self._s, out_u64)
    if rc ~= 0 then raise(rc) end
    return tonumber(out_u64[0])
end

function space_methods:get(key) return primary(self):get(key) end
function space_methods:select(key, opts) return primary(self):select(key, opts) end
function space_methods:pairs(key, opts) return primary(self):pairs(key, opts) end
function space_methods:count(key, opts) return primary(self):count(key, opts) end

local index_methods = {}
index_mt.__index = index_methods

-- Reads take the transaction handle to read in: the running coroutine's (current_tx) from
-- the index methods, a given one from the transaction's own read methods (jitbox.txn).
-- The index methods put the key into the field buffer before they look the transaction up:
-- inside a transaction that lookup ends the trace (coroutine.running is not compiled).
local function get_filled(index, tx, n)
    local db = index._db
    local rc = C.jb_index_get_data(index._i, tx, fields_buf, n, db._buf, db._cap, out_len)
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    if len == 0 then return nil end
    return make_tuple(db._buf, len)
end

local function get_in(index, tx, key) return get_filled(index, tx, fill(key)) end

function index_methods:get(key)
    local n = fill(key)
    key = nil
    return get_filled(self, current_tx(self._db), n)
end

-- Options a read takes; any other is an error naming it. Options are a table, or (as in
-- Tarantool) the iterator itself: a name or its number.
local READ_OPTIONS = { select = { iterator = true, limit = true, offset = true },
    pairs = { iterator = true }, count = { iterator = true } }

local function check_options(opts, what)
    local allowed = READ_OPTIONS[what]
    for k in pairs(opts) do
        if not allowed[k] then
            illegal(("%s: unknown option '%s'; %s takes %s"):format(what, tostring(k), what,
                what == 'select' and 'iterator, limit and offset' or 'iterator'))
        end
    end
end

-- The iterator code of a read's options (see READ_OPTIONS).
local function iter_type(opts, what)
    local it = opts
    if type(opts) == 'table' then
        check_options(opts, what)
        it = opts.iterator
    end
    if it == nil then return C.JB_ITER_EQ end
    if type(it) == 'string' then
        local code = iter_codes[it:upper()]
        if code then return code end
    elseif type(it) == 'number' and it >= 0 and it <= 6 and it == floor(it) then
        return it
    end
    illegal(("%s: unknown iterator '%s'; use EQ, REQ, ALL, LT, LE, GE or GT (or 0..6)")
        :format(what, tostring(it)))
end

-- A select's limit or offset: a whole number from 0.
local function count_option(opts, name, default)
    local v = type(opts) == 'table' and opts[name]
    if v == nil or v == false then return default end
    if type(v) ~= 'number' or v < 0 or v ~= floor(v) then
        illegal(("select: %s must be a whole number from 0, not %s"):format(name, tostring(v)))
    end
    return v
end

local function iter_finalizer(it) C.jb_iter_free(it) end

-- Iterators fetch tuples in batches: one FFI call copies up to BATCH tuples into the
-- iterator's own buffer, and each step makes a tuple from its slice. A write anywhere in the
-- engine (the change counter moves) drops the rest of the batch: the iterator is rewound to
-- the last tuple handed out and continues from the engine, so a loop sees its own changes.
-- Batch buffers are pooled per engine; a tuple too big for one goes the single-step way.
local BATCH, BATCH_BYTES = 64, 16384
ffi.cdef(([[
struct jb_lua_batch { uint32_t ends[%d]; uint8_t buf[%d]; };
]]):format(BATCH, BATCH_BYTES))
local batch_t = ffi.typeof('struct jb_lua_batch')
local changes_out = ffi.new('const uint64_t*[1]')
local E_BUFFER_TOO_SMALL = C.JB_E_BUFFER_TOO_SMALL

local function iter_finish(state)
    if not state.done then
        state.done = true
        state.n = 0
        C.jb_iter_free(ffi.gc(state.it, nil))
        local pool = state.db._batches
        pool[#pool + 1] = state.batch
    end
    return nil
end

-- Refills the batch (rewinding first when the data changed under a partly used one).
local function iter_fill(state)
    if state.done then return nil end
    local it, b, i = state.it, state.batch, state.i
    if i < state.n then
        local rc = C.jb_iter_rewind(it, i)
        if rc ~= 0 then raise(rc) end
    end
    local rc = C.jb_iter_next_data_batch(it, b.buf, BATCH_BYTES, b.ends, BATCH, out_u32)
    state.seen = tonumber(state.changes[0])
    if rc == E_BUFFER_TOO_SMALL then
        -- One tuple larger than the batch buffer: it comes alone through the engine buffer.
        local db = state.db
        rc = C.jb_iter_next_data(it, db._buf, db._cap, out_len)
        if rc ~= 0 then raise(rc) end
        state.i, state.n = 0, 0
        return state, make_tuple(db._buf, out_len[0])
    end
    if rc ~= 0 then raise(rc) end
    local n = out_u32[0]
    if n == 0 then return iter_finish(state) end
    state.i, state.n = 1, n
    return state, make_tuple(b.buf, b.ends[0])
end

-- The iterator's step: a tuple from the batch while nothing changed, else a refill.
local function iter_next(state)
    local i = state.i
    if i < state.n and tonumber(state.changes[0]) == state.seen then
        state.i = i + 1
        local b = state.batch
        local from = b.ends[i - 1]
        return state, make_tuple(b.buf + from, b.ends[i] - from)
    end
    return iter_fill(state)
end

local function open_iter(index, key, opts, tx, what)
    local it = iter_type(opts, what or 'pairs')
    local n = fill(key)
    local rc = C.jb_index_iter(index._i, tx, it, fields_buf, n,
        ffi.cast('jb_iter**', out_ptr))
    if rc ~= 0 then raise(rc) end
    local it = ffi.gc(ffi.cast('jb_iter*', out_ptr[0]), iter_finalizer)
    rc = C.jb_iter_changes(it, changes_out)
    if rc ~= 0 then raise(rc) end
    local db = index._db
    local pool = db._batches
    local batch = pool[#pool]
    if batch then pool[#pool] = nil else batch = batch_t() end
    return { it = it, db = db, done = false, batch = batch, i = 0, n = 0,
        changes = changes_out[0], seen = 0 }
end

-- for _, t in index:pairs(key, {iterator = 'GE'}) do ... end
local function pairs_in(index, tx, key, opts)
    return iter_next, open_iter(index, key, opts, tx), nil
end

function index_methods:pairs(key, opts) return pairs_in(self, current_tx(self._db), key, opts) end

local function select_in(index, tx, key, opts)
    local limit = count_option(opts, 'limit', 4294967295)
    local offset = count_option(opts, 'offset', 0)
    local res, n = {}, 0
    local it = iter_type(opts, 'select') -- validated even when nothing is read
    if limit == 0 then return res end
    local state = open_iter(index, key, it, tx, 'select')
    while true do
        local _, t = iter_next(state)
        if t == nil then break end
        if offset > 0 then
            offset = offset - 1
        else
            n = n + 1
            res[n] = t
            if n >= limit then break end
        end
    end
    iter_finish(state)
    return res
end

function index_methods:select(key, opts) return select_in(self, current_tx(self._db), key, opts) end

local function count_filled(index, tx, it, n)
    local rc = C.jb_index_count(index._i, tx, it, fields_buf, n, out_u64)
    if rc ~= 0 then raise(rc) end
    return tonumber(out_u64[0])
end

local function count_in(index, tx, key, opts)
    local it = iter_type(opts, 'count')
    return count_filled(index, tx, it, fill(key))
end

-- (The key is filled in before the transaction lookup, as in index:get.)
function index_methods:count(key, opts)
    local it = iter_type(opts, 'count')
    local n = fill(key)
    key, opts = nil, nil
    return count_filled(self, current_tx(self._db), it, n)
end

-- The entries of the index: its tuples, or for a functional index its keys (as Tarantool's
-- index:len() for multikey and functional indexes).
function index_methods:len()
    if self._fe then return self:count() end
    return self.space:len()
end

function index_methods:drop()
    live(self._db)
    local rc = C.jb_index_drop(self._i)
    if rc ~= 0 then raise(rc) end
    local space, fe = self.space, self._fe
    if fe then
        keys.unregister(fe)
        self._db._keyfns[fe] = nil
        local funcs = {}
        for _, g in ipairs(space._funcs) do
            if g ~= fe then funcs[#funcs + 1] = g end
        end
        rawset(space, '_funcs', #funcs > 0 and funcs or nil)
    end
    rawset(space.index, self.name, nil)
    rawset(space, '_pk', nil)
end

-- db:gc(): runs all deferred work now and collects every old version nobody sees.
function db_mt:gc()
    live(self)
    if self._ntx > 0 then end_dead(self) end
    drain(self)
    run_deferred(self)
end

-- What a transaction's read methods read: an index, or a space's primary index.
local function read_target(x)
    if getmetatable(x) == index_mt then return x end
    if getmetatable(x) == space_mt then return primary(x) end
    illegal(('a transaction reads an index or a space, not %s'):format(type(x)))
end

local txn = require('jitbox.txn') { C = C, db_mt = db_mt, engines = engines, illegal = illegal,
    raise = raise, error_of = error_of, errors = errors, drain = drain, live = live,
    read_target = read_target, get_in = get_in, select_in = select_in, pairs_in = pairs_in,
    count_in = count_in }
current_tx, end_dead = txn.current_tx, txn.end_dead

------------------------------------------------------------------------------------------
-- Error injection: jitbox.errinj.set('ALLOC_FAIL_AFTER', 3)

M.errinj = {
    set = function(name, value)
        local rc = C.jb_errinj_set(name, value)
        if rc ~= 0 then raise(rc) end
    end,
    get = function(name)
        local out = ffi.new('int64_t[1]')
        local rc = C.jb_errinj_get(name, out)
        if rc ~= 0 then raise(rc) end
        return tonumber(out[0])
    end,
}

-- SAFE entries never run inside a trace. Transaction bookkeeping may: the one call LuaJIT
-- does not compile there (`coroutine.running`) is stitched, which costs far less than
-- interpreting begin and commit (3.7x on begin + rollback).
for _, f in ipairs({ M.open, M.attach, db_mt.close, db_mt.create_space, space_methods.create_index,
    space_methods.drop, index_methods.drop, db_mt.gc, db_mt.snapshot }) do
    jit.off(f)
end

return M
