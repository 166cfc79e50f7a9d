-- jitbox.tuple: Lua values <-> the engine's fields, and tuples.
--
-- Rows and keys go to the engine as jb_field arrays in one shared buffer (`fill`), filled
-- right before the FFI call that reads them. Tuples returned to Lua are copies of the
-- tuple's MessagePack data in Lua-owned memory: the garbage collector frees them, no
-- finalizer runs per tuple, and they stay valid after close.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local C, illegal, raise = B.C, B.illegal, B.raise
local enum = B.enum
local out_len, out_u32 = B.out_len, B.out_u32

-- A tuple's size is const: Lua cannot change the length the engine decodes (an assignment
-- raises), so every read stays inside the tuple's own allocation whatever its bytes say. Its
-- format (the names of its space's fields: `formats` below, 0 for none) is const too. The
-- members' names are ones no format may use (RESERVED): a member hides a field name, as
-- t.name reads a member before the metatype's __index is asked.
-- A small tuple's bytes are three words, so that it is made by its constructor alone, from
-- scalars: a trace whose tuple goes unused (the result of an insert nobody reads) then
-- allocates nothing (LuaJIT sinks it), where a copy into it would make it escape. Both
-- kinds keep their bytes right after the two words (`data_of`).
ffi.cdef[[
struct jb_tuple_data { const uint32_t jb_size_; const uint32_t jb_fmt_; uint8_t jb_data_[?]; };
struct jb_tuple_small { const uint32_t jb_size_; const uint32_t jb_fmt_; const uint64_t jb_w0_, jb_w1_, jb_w2_; };
]]

local T = {}
T.RESERVED = { jb_size_ = true, jb_fmt_ = true, jb_data_ = true, jb_w0_ = true, jb_w1_ = true, jb_w2_ = true }

-- The first byte of tuple t's MessagePack data.
local u8_cptr, u8_ptr = ffi.typeof('const uint8_t *'), ffi.typeof('uint8_t *')
local cast = ffi.cast
local function data_of(t) return cast(u8_cptr, t) + 8 end
T.data_of = data_of

local FT_NIL, FT_BOOLEAN, FT_UNSIGNED, FT_INTEGER, FT_NUMBER, FT_STRING, FT_MSGPACK =
    enum.JB_FT_NIL, enum.JB_FT_BOOLEAN, enum.JB_FT_UNSIGNED, enum.JB_FT_INTEGER, enum.JB_FT_NUMBER, enum.JB_FT_STRING,
    enum.JB_FT_MSGPACK
local msgpack = require('jitbox.msgpack')
local lua_fields = require('jitbox.fields')
local lua_field, lua_count, FALLBACK = lua_fields.field, lua_fields.count, lua_fields.FALLBACK
local int64_t, uint64_t, double_t = ffi.typeof('int64_t'), ffi.typeof('uint64_t'), ffi.typeof('double')
local u32_ptr = ffi.typeof('uint32_t*')
local floor = math.floor

-- An explicit nil field: {1, 2, jitbox.NULL} has three fields, the last nil (a table's
-- trailing nil is no field at all). It reads back as nil. A NULL pointer, as Tarantool's box.NULL.
T.NULL = ffi.cast('void *', 0)

------------------------------------------------------------------------------------------
-- Lua values -> jb_field arrays.

local fields_cap = 64
local fields_buf = ffi.new('jb_field[?]', fields_cap)

-- A nested table is encoded to MessagePack (jitbox/msgpack.lua); the string is kept in
-- `anchors` (by field number: the row's own by default) until the next value in its place,
-- so it outlives the FFI call that reads it.
local row_anchors = {}
T.row_anchors = row_anchors

local function set_field(f, v, i, anchors)
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
    elseif tv == 'cdata' and ffi.istype(double_t, v) then
        f.type = FT_NUMBER; f.v.d = v -- a double even when whole, as ffi.cast('double', 3) asks
    elseif tv == 'table' then
        local s = msgpack.encode(v, ('field %d'):format(i))
        ;(anchors or row_anchors)[i] = s
        f.type = FT_MSGPACK; f.len = #s; f.v.s = s
    else
        illegal(('field %d has unsupported Lua type %s; use nil, boolean, number, string, a table, 64-bit or double cdata')
            :format(i, tv))
    end
end
T.set_field = set_field

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

-- Where next() must not be compiled (B.nkeys, see base.lua): a table whose key count is its
-- length n and that has no hole in 1..n - 1 (t[n] is set, as # found it) has keys 1..n and
-- nothing else. The first eight are looked at one by one, for the same reason as above.
if B.nkeys then
    local nkeys = B.nkeys
    row_len = function(t)
        local n = #t
        if nkeys(t) ~= n then return row_len_any(t) end
        if n > 8 then
            for i = 1, n - 1 do
                if t[i] == nil then return row_len_any(t) end
            end
            return n
        end
        if (n > 1 and t[1] == nil) or (n > 2 and t[2] == nil) or (n > 3 and t[3] == nil)
            or (n > 4 and t[4] == nil) or (n > 5 and t[5] == nil) or (n > 6 and t[6] == nil)
            or (n > 7 and t[7] == nil) then
            return row_len_any(t)
        end
        return n
    end
end
T.row_len = row_len

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

-- Fills the shared field buffer from a table (or a single scalar key); returns the buffer
-- and the count. Reading a plain table runs no Lua; its strings stay referenced by `t` for
-- the FFI call that follows at once (no Lua in between).
function T.fill(t)
    if type(t) ~= 'table' then
        if t == nil then return fields_buf, 0 end
        if type(t) == 'cdata' and T.is_tuple(t) then return T.refill(t) end -- a tuple as a row
        set_field(fields_buf[0], t, 1)
        return fields_buf, 1
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
    return buf, n
end

-- The shared field buffer refilled from a tuple (its strings point into the tuple's
-- bytes); returns the buffer and the count.
function T.refill(row)
    local rc = C.jb_data_fields(data_of(row), row.jb_size_, fields_buf, fields_cap, out_u32)
    if rc ~= 0 then raise(rc) end
    local n = out_u32[0]
    if n > fields_cap then
        fields_cap = n * 2
        fields_buf = ffi.new('jb_field[?]', fields_cap)
        return T.refill(row)
    end
    return fields_buf, n
end

------------------------------------------------------------------------------------------
-- Tuples: struct jb_tuple_data (size + MessagePack bytes) with a metatype.

local tuple_t = ffi.typeof('struct jb_tuple_data')
-- Tuples of up to 24 bytes (many rows of a few scalars) use a fixed-size type: LuaJIT
-- allocates and collects it faster than a variable-length one.
local small_t, SMALL = ffi.typeof('struct jb_tuple_small'), 24

-- Formats by number: the field names of a space, for t.name and t:tomap(). Numbers are
-- never reused, so a tuple always names its fields as its space did when it was made.
local formats = { [0] = false }
function T.register_format(names)
    local by_name = {}
    for i, name in ipairs(names) do
        if not T.RESERVED[name] then by_name[name] = i end
    end
    formats[#formats + 1] = { names = names, by_name = by_name }
    return #formats
end

-- Copies `len` bytes of tuple data from an engine's result buffer into a new tuple with
-- format fmt (nil: none).
-- The one write of a new tuple's const size and format, right after allocation.
local function set_head(t, len, fmt)
    local head = ffi.cast(u32_ptr, t)
    head[0] = len
    head[1] = fmt or 0
end

local function make_tuple(buf, len, fmt)
    local t = len <= SMALL and small_t() or tuple_t(len)
    set_head(t, len, fmt)
    ffi.copy(cast(u8_ptr, t) + 8, buf, len)
    return t
end
T.make_tuple = make_tuple

-- make_tuple for a source with at least SMALL readable bytes (the engine buffer and the
-- batch buffers have that slack): a small tuple is made from three words read from it.
T.SLACK = SMALL
local u64_cptr = ffi.typeof('const uint64_t *')
function T.copy_tuple(buf, len, fmt)
    if len > SMALL then return make_tuple(buf, len, fmt) end
    local w = cast(u64_cptr, buf)
    return small_t(len, fmt or 0, w[0], w[1], w[2])
end

function T.is_tuple(v) return ffi.istype(tuple_t, v) or ffi.istype(small_t, v) end

-- The n fields in `buf` encoded as a tuple of their own, through the engine buffer `out`
-- of `cap` bytes. A row larger than any tuple may be is encoded all the same: the write
-- refuses it, naming the limit.
function T.encode(buf, n, out, cap, fmt)
    local rc = C.jb_data_encode(buf, n, out, cap, out_len)
    if rc == enum.JB_E_BUFFER_TOO_SMALL then
        local big = ffi.new('uint8_t[?]', out_len[0])
        rc = C.jb_data_encode(buf, n, big, out_len[0], out_len)
        if rc == 0 then return make_tuple(big, out_len[0], fmt) end
    end
    if rc ~= 0 then raise(rc) end
    return make_tuple(out, out_len[0], fmt)
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
    elseif ty == FT_MSGPACK then
        return msgpack.decode(f.v.s, f.len)
    end
    return nil
end
T.field_value = field_value

local methods = {}
T.methods = methods
local show
local field_out = ffi.new('jb_field[1]')

-- Field i, or nil where a Lua table would have none: past the end, below 1, not a whole
-- number (t[1.5], t[0/0]) — never another field.
-- Field i of the tuple data p (len bytes) as the engine decodes it: what jitbox/fields.lua
-- must agree with (tests compare them).
local function engine_field_at(p, len, i)
    local rc = C.jb_data_field(p, len, i - 1, field_out)
    if rc ~= 0 then raise(rc) end
    return field_value(field_out[0])
end
T.engine_field_at = engine_field_at
function T.engine_field(t, i) return engine_field_at(data_of(t), t.jb_size_, i) end

-- Scalars are decoded in Lua (jitbox/fields.lua); the rest by the engine.
local function tuple_field(t, i)
    if not (i >= 1 and i <= 4294967296 and i == floor(i)) then return nil end
    local v = lua_field(data_of(t), t.jb_size_, i)
    if v ~= FALLBACK then return v end
    return engine_field_at(data_of(t), t.jb_size_, i)
end


local function tuple_count(t)
    local n = lua_count(data_of(t), t.jb_size_)
    if n then return n end
    local rc = C.jb_data_field_count(data_of(t), t.jb_size_, out_u32)
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
    local rc = C.jb_data_fields(data_of(t), t.jb_size_, fs, n, out_u32)
    if rc ~= 0 then raise(rc) end
    local res = {}
    for k = i, j do
        if k >= 1 and k <= n then res[k - i + 1] = field_value(fs[k - 1]) end
    end
    return res, j - i + 1
end

function methods.totable(t, i, j) return (fields_of(t, i, j)) end

-- t:unpack(i, j): fields i..j (default: all), nils included.
function methods.unpack(t, i, j)
    local res, n = fields_of(t, i, j)
    return unpack(res, 1, n)
end

-- The tuple's MessagePack bytes as a Lua string.
function methods.tomsgpack(t)
    return ffi.string(data_of(t), t.jb_size_)
end

-- The number of field `name` in t's format, or nil.
function T.field_number(t, name)
    local f = formats[t.jb_fmt_]
    return f and f.by_name[name]
end

-- The number of field `name` in format number `fmt`, or nil.
function T.format_field(fmt, name)
    local f = formats[fmt]
    return f and f.by_name[name]
end

local function unknown_tomap_option(opts)
    for k in pairs(opts) do
        if k ~= 'names_only' then
            illegal(("tuple:tomap: unknown option '%s'; tomap takes names_only"):format(tostring(k)))
        end
    end
end

-- t:tomap(): the fields by number and, where the space's format names them, by name;
-- t:tomap{names_only = true}: by name only.
function methods.tomap(t, opts)
    local names_only = false
    if opts ~= nil then
        if type(opts) ~= 'table' then illegal('tuple:tomap(opts): opts must be a table, not ' .. type(opts)) end
        if not B.nkeys then
            unknown_tomap_option(opts)
        elseif B.nkeys(opts) ~= (opts.names_only ~= nil and 1 or 0) then
            unknown_tomap_option(opts) -- without a compiled next() (base.lua): count the keys
        end
        names_only = opts.names_only and true or false
    end
    local fields, n = fields_of(t)
    -- A nil field is jitbox.NULL here, as box.NULL in Tarantool's: its key is there.
    for i = 1, n do
        if fields[i] == nil then fields[i] = T.NULL end
    end
    local res = {}
    if not names_only then
        for i = 1, n do res[i] = fields[i] end
    end
    local f = formats[t.jb_fmt_]
    if f then
        for i, name in ipairs(f.names) do
            if i <= n then res[name] = fields[i] end
        end
    end
    return res
end

-- A value as tostring(tuple) shows it: nested arrays as [..], maps as {key: value, ...}
-- (keys in order), strings quoted.
local function show_value(v)
    if v == nil then return 'nil' end -- nil or jitbox.NULL
    if type(v) == 'string' then return ('%q'):format(v) end
    if type(v) ~= 'table' then return tostring(v) end
    local arr, n = true, 0
    for k in next, v do
        if type(k) ~= 'number' then arr = false end
        if type(k) == 'number' and k > n then n = k end
    end
    if arr then
        local parts = {}
        for i = 1, n do parts[i] = show_value(v[i]) end
        return '[' .. table.concat(parts, ', ') .. ']'
    end
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = show_value(k) .. ': ' .. show_value(v[k]) end
    return '{' .. table.concat(parts, ', ') .. '}'
end

function show(fields, n)
    local parts = {}
    for i = 1, n do parts[i] = show_value(fields[i]) end
    return '[' .. table.concat(parts, ', ') .. ']'
end

local tuple_mt = {
    -- t[i]; t.name for a field its space's format names (fields come before methods, as in
    -- Tarantool); t:method().
    __index = function(t, k)
        if type(k) == 'number' then return tuple_field(t, k) end
        local f = formats[t.jb_fmt_]
        if f then
            local i = f.by_name[k]
            if i then
                local v = tuple_field(t, i)
                if v ~= nil then return v end
            end
        end
        return methods[k]
    end,
    __len = tuple_count,
    __tostring = function(t)
        local text = T.tostring
        if text then return text(t) end
        local fields, n = fields_of(t)
        return show(fields, n)
    end,
}
ffi.metatype(tuple_t, tuple_mt)
ffi.metatype(small_t, tuple_mt)

return T
