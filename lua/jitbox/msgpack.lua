-- jitbox.msgpack: nested field values (tables) <-> MessagePack, for fields of type array,
-- map and any. A table is an array when its keys are 1..n (jitbox.NULL for holes, as in rows),
-- else a map; an empty table is an array. Strings, numbers (integers as integers), booleans,
-- nil/NULL and 64-bit cdata nest; anything else is an error naming it.
local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local illegal = B.illegal
local floor, char, byte = math.floor, string.char, string.byte

local P = {}

local int64_t, uint64_t = ffi.typeof('int64_t'), ffi.typeof('uint64_t')
local conv = ffi.new('union { double d; uint64_t u; int64_t i; uint8_t b[8]; }')

local function be(n, v) -- n big-endian bytes of an integer below 2^53
    local t = {}
    for i = n, 1, -1 do t[i] = char(v % 256); v = floor(v / 256) end
    return table.concat(t)
end

local function be64(u) -- 8 big-endian bytes of a uint64 cdata
    conv.u = u
    local b = conv.b
    return char(b[7], b[6], b[5], b[4], b[3], b[2], b[1], b[0])
end

-- Whether a table is an array (Tarantool's rule: keys 1..n, and not more than twice as many
-- holes as values beyond ten), and its length.
local function is_array(t)
    local n, count = 0, 0
    for k in next, t do
        if type(k) ~= 'number' or k < 1 or k ~= floor(k) then return false end
        if k > n then n = k end
        count = count + 1
    end
    return n <= 10 or n <= 2 * count, n
end

-- A nested table's metatable may only say how to serialize it, as Tarantool's
-- {__serialize = 'map' | 'array'}: 'map' for a map, 'array' for an array, nil for neither.
local SERIALIZE = { map = 'map', mapping = 'map', array = 'array', seq = 'array', sequence = 'array' }
local function serialize_as(t, where)
    local mt = getmetatable(t)
    if mt == nil then return nil end
    local as = type(mt) == 'table' and SERIALIZE[rawget(mt, '__serialize')]
    if not as then
        illegal(where .. ": a nested table has a metatable; pass plain tables (or {__serialize = 'map'} / 'array')")
    end
    return as
end

local encode
local function encode_int(v, out)
    if v >= 0 then
        if v < 128 then out[#out + 1] = char(v)
        elseif v < 256 then out[#out + 1] = '\204' .. char(v)
        elseif v < 65536 then out[#out + 1] = '\205' .. be(2, v)
        elseif v < 4294967296 then out[#out + 1] = '\206' .. be(4, v)
        else out[#out + 1] = '\207' .. be64(ffi.cast(uint64_t, v)) end
    else
        if v >= -32 then out[#out + 1] = char(256 + v)
        elseif v >= -2147483648 then out[#out + 1] = '\210' .. be(4, v + 4294967296)
        else out[#out + 1] = '\211' .. be64(ffi.cast(uint64_t, ffi.cast(int64_t, v))) end
    end
end

local function header(n, small, small_max, c16, c32, out)
    if n <= small_max then out[#out + 1] = char(small + n)
    elseif n < 65536 then out[#out + 1] = char(c16) .. be(2, n)
    else out[#out + 1] = char(c32) .. be(4, n) end
end

function encode(v, out, depth, where)
    local tv = type(v)
    if v == nil then out[#out + 1] = '\192'
    elseif tv == 'boolean' then out[#out + 1] = v and '\195' or '\194'
    elseif tv == 'number' then
        if v == floor(v) and v >= -9223372036854775808 and v < 18446744073709551616 and v == v then
            encode_int(v, out)
        else
            conv.d = v
            out[#out + 1] = '\203' .. be64(conv.u)
        end
    elseif tv == 'string' then
        local n = #v
        if n < 32 then out[#out + 1] = char(0xa0 + n)
        elseif n < 256 then out[#out + 1] = '\217' .. char(n)
        elseif n < 65536 then out[#out + 1] = '\218' .. be(2, n)
        else out[#out + 1] = '\219' .. be(4, n) end
        out[#out + 1] = v
    elseif tv == 'cdata' and ffi.istype(uint64_t, v) then
        out[#out + 1] = '\207' .. be64(v)
    elseif tv == 'cdata' and ffi.istype(int64_t, v) then
        if v >= 0 then out[#out + 1] = '\207' .. be64(ffi.cast(uint64_t, v))
        else out[#out + 1] = '\211' .. be64(ffi.cast(uint64_t, v)) end
    elseif tv == 'table' then
        if depth > 64 then illegal(where .. ': nested more than 64 levels deep') end
        local as = serialize_as(v, where)
        local arr, n = is_array(v)
        if as == 'map' then arr = false end
        if as == 'array' and not arr then
            illegal(where .. ": a table marked {__serialize = 'array'} has keys that are not 1..n")
        end
        if arr then
            header(n, 0x90, 15, 0xdc, 0xdd, out)
            for i = 1, n do encode(v[i], out, depth + 1, where) end
        else
            local count = 0
            for _ in next, v do count = count + 1 end
            header(count, 0x80, 15, 0xde, 0xdf, out)
            for k, x in next, v do
                if type(k) ~= 'string' and type(k) ~= 'number' then
                    illegal(where .. ': a map key is a ' .. type(k) .. '; use strings or numbers')
                end
                encode(k, out, depth + 1, where)
                encode(x, out, depth + 1, where)
            end
        end
    else
        illegal(('%s: a nested value of Lua type %s; use tables, nil, booleans, numbers, strings or 64-bit cdata')
            :format(where, tv))
    end
end

-- The MessagePack bytes of a table, as a Lua string.
function P.encode(t, where)
    local out = {}
    encode(t, out, 1, where)
    return table.concat(out)
end

-- Decoding: one value from p (a uint8_t*) at offset i; returns it and the next offset.
local decode
local function u(p, i, n)
    local v = 0
    for k = 0, n - 1 do v = v * 256 + p[i + k] end
    return v
end
local function u64(p, i)
    for k = 0, 7 do conv.b[7 - k] = p[i + k] end
    return conv.u
end
local function number64(x, signed)
    if signed then
        local s = ffi.cast(int64_t, x)
        if s > -9007199254740992LL and s < 9007199254740992LL then return tonumber(s) end
        return s
    end
    if x < 9007199254740992ULL then return tonumber(x) end
    return x
end
local function str(p, i, n) return ffi.string(p + i, n), i + n end
-- A nil inside a nested value reads as jitbox.NULL, as Tarantool's box.NULL: an array keeps
-- its length (and a map its key).
local NULL = ffi.cast('void *', 0)
local function array(p, i, n)
    local t = {}
    for k = 1, n do
        local v
        v, i = decode(p, i)
        if v == nil then v = NULL end
        t[k] = v
    end
    return t, i
end
local function map(p, i, n)
    local t = {}
    for _ = 1, n do
        local k, v
        k, i = decode(p, i)
        v, i = decode(p, i)
        if v == nil then v = NULL end
        if k ~= nil then t[k] = v end
    end
    return t, i
end

function decode(p, i)
    local tag = p[i]
    i = i + 1
    if tag < 0x80 then return tag, i end
    if tag >= 0xe0 then return tag - 256, i end
    if tag >= 0xa0 and tag <= 0xbf then return str(p, i, tag - 0xa0) end
    if tag >= 0x90 and tag <= 0x9f then return array(p, i, tag - 0x90) end
    if tag >= 0x80 and tag <= 0x8f then return map(p, i, tag - 0x80) end
    if tag == 0xc0 then return nil, i end
    if tag == 0xc2 then return false, i end
    if tag == 0xc3 then return true, i end
    if tag == 0xcc then return p[i], i + 1 end
    if tag == 0xcd then return u(p, i, 2), i + 2 end
    if tag == 0xce then return u(p, i, 4), i + 4 end
    if tag == 0xcf then return number64(u64(p, i), false), i + 8 end
    if tag == 0xd0 then local v = p[i] return v >= 128 and v - 256 or v, i + 1 end
    if tag == 0xd1 then local v = u(p, i, 2) return v >= 32768 and v - 65536 or v, i + 2 end
    if tag == 0xd2 then local v = u(p, i, 4) return v >= 2147483648 and v - 4294967296 or v, i + 4 end
    if tag == 0xd3 then return number64(u64(p, i), true), i + 8 end
    if tag == 0xca then
        local f = ffi.new('union { float f; uint8_t b[4]; }')
        for k = 0, 3 do f.b[3 - k] = p[i + k] end
        return tonumber(f.f), i + 4
    end
    if tag == 0xcb then
        u64(p, i)
        return conv.d, i + 8
    end
    if tag == 0xd9 or tag == 0xc4 then return str(p, i + 1, p[i]) end
    if tag == 0xda or tag == 0xc5 then return str(p, i + 2, u(p, i, 2)) end
    if tag == 0xdb or tag == 0xc6 then return str(p, i + 4, u(p, i, 4)) end
    if tag == 0xdc then return array(p, i + 2, u(p, i, 2)) end
    if tag == 0xdd then return array(p, i + 4, u(p, i, 4)) end
    if tag == 0xde then return map(p, i + 2, u(p, i, 2)) end
    if tag == 0xdf then return map(p, i + 4, u(p, i, 4)) end
    illegal(('a nested value holds a MessagePack extension (tag 0x%02x), which jitbox does not read into Lua'):format(tag))
end

-- The Lua value of MessagePack bytes the engine checked (len bytes at ptr).
function P.decode(ptr, len)
    local v = decode(ffi.cast('const uint8_t*', ptr), 0)
    return v
end

return P
