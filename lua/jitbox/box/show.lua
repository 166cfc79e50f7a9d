-- jitbox.box.show: a tuple's text as Tarantool prints it (tostring(t), print(t)), from its
-- MessagePack: YAML flow style as libyaml writes it with Tarantool's settings — every string
-- quoted, single quotes unless a character needs an escape, nil as null, doubles as %.14g,
-- maps in their stored order, binary data and strings that are not valid UTF-8 as !!binary.
local ffi = require('ffi')
local byte, char, concat = string.byte, string.char, table.concat

local conv = ffi.new('union { uint64_t u; int64_t i; double d; uint8_t b[8]; }')
local f32 = ffi.new('union { float f; uint8_t b[4]; }')

local function uint(s, i, n)
    local v = 0
    for k = 0, n - 1 do v = v * 256 + byte(s, i + k) end
    return v
end

local function be8(s, i)
    for k = 0, 7 do conv.b[7 - k] = byte(s, i + k) end
end

local function int64_text(s, i, signed)
    be8(s, i)
    local t = tostring(signed and conv.i or conv.u)
    return (t:gsub('U?LL$', ''))
end

local function double_text(d)
    if d ~= d then
        conv.d = d
        return conv.b[7] >= 128 and '-nan' or 'nan'
    end
    if d == math.huge then return 'inf' end
    if d == -math.huge then return '-inf' end
    return ('%.14g'):format(d)
end

local B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function base64(s)
    local out = {}
    for i = 1, #s, 3 do
        local a, b, c = byte(s, i, i + 2)
        local n = a * 65536 + (b or 0) * 256 + (c or 0)
        local q = {}
        for k = 3, 0, -1 do
            local x = math.floor(n / 64 ^ k) % 64
            q[#q + 1] = B64:sub(x + 1, x + 1)
        end
        if not b then q[3], q[4] = '=', '=' elseif not c then q[4] = '=' end
        out[#out + 1] = concat(q)
    end
    return '!!binary ' .. concat(out)
end

-- The characters of a UTF-8 string: an array of {first byte index, length, code point}, or
-- nil when it is not valid UTF-8.
local function chars(s)
    local list, i, n = {}, 1, #s
    while i <= n do
        local c = byte(s, i)
        local len, cp
        if c < 0x80 then len, cp = 1, c
        elseif c >= 0xc2 and c < 0xe0 then len, cp = 2, c % 0x20
        elseif c >= 0xe0 and c < 0xf0 then len, cp = 3, c % 0x10
        elseif c >= 0xf0 and c < 0xf5 then len, cp = 4, c % 0x08
        else return nil end
        if i + len - 1 > n then return nil end
        for k = 1, len - 1 do
            local x = byte(s, i + k)
            if x < 0x80 or x > 0xbf then return nil end
            cp = cp * 64 + x % 64
        end
        if (len == 3 and cp < 0x800) or (len == 4 and (cp < 0x10000 or cp > 0x10ffff))
            or (cp >= 0xd800 and cp <= 0xdfff) then
            return nil
        end
        list[#list + 1] = cp
        i = i + len
    end
    return list
end

-- libyaml's classes of characters (code points).
local function printable(cp)
    return cp == 0x0a or (cp >= 0x20 and cp <= 0x7e) or (cp >= 0xa0 and cp <= 0xd7ff)
        or (cp >= 0xe000 and cp <= 0xfffd and cp ~= 0xfeff)
end
local function is_break(cp) return cp == 0x0a or cp == 0x0d or cp == 0x85 or cp == 0x2028 or cp == 0x2029 end

local function utf8(cp)
    if cp < 0x80 then return char(cp) end
    if cp < 0x800 then return char(0xc0 + math.floor(cp / 64), 0x80 + cp % 64) end
    if cp < 0x10000 then
        return char(0xe0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
    end
    return char(0xf0 + math.floor(cp / 262144), 0x80 + math.floor(cp / 4096) % 64,
        0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
end

local ESCAPES = { [0] = '0', [7] = 'a', [8] = 'b', [9] = 't', [0x0a] = 'n', [0x0b] = 'v', [0x0c] = 'f',
    [0x0d] = 'r', [0x1b] = 'e', [0x22] = '"', [0x5c] = '\\', [0x85] = 'N', [0x2028] = 'L', [0x2029] = 'P' }

local function double_quoted(cps)
    local out = { '"' }
    for _, cp in ipairs(cps) do
        if not printable(cp) or is_break(cp) or cp == 0x22 or cp == 0x5c then
            local e = ESCAPES[cp]
            if e then out[#out + 1] = '\\' .. e
            elseif cp <= 0xff then out[#out + 1] = ('\\x%02X'):format(cp)
            elseif cp <= 0xffff then out[#out + 1] = ('\\u%04X'):format(cp)
            else out[#out + 1] = ('\\U%08X'):format(cp) end
        else
            out[#out + 1] = utf8(cp)
        end
    end
    out[#out + 1] = '"'
    return concat(out)
end

-- A line break in a single-quoted string goes on as an empty line (for '\n') and the next
-- text at the indentation of its nesting depth.
local function single_quoted(cps, indent)
    local out, breaks = { "'" }, false
    for _, cp in ipairs(cps) do
        if is_break(cp) then
            if not breaks and cp == 0x0a then out[#out + 1] = '\n' end
            out[#out + 1] = cp == 0x0a and '\n' or utf8(cp)
            breaks = true
        else
            if breaks then out[#out + 1] = indent end
            out[#out + 1] = cp == 0x27 and "''" or utf8(cp)
            breaks = false
        end
    end
    if breaks then out[#out + 1] = indent end
    out[#out + 1] = "'"
    return concat(out)
end

local function string_text(s, depth)
    local cps = chars(s)
    if cps == nil then return base64(s) end
    local special, space_break, break_space = false, false, false
    for k, cp in ipairs(cps) do
        if cp == 0x85 or cp == 0xfeff then return base64(s) end -- as Tarantool's encoder does
        if not printable(cp) then special = true end
        local nxt = cps[k + 1]
        if nxt then
            if cp == 0x20 and is_break(nxt) then space_break = true end
            if is_break(cp) and nxt == 0x20 then break_space = true end
        end
    end
    if special or space_break or break_space then return double_quoted(cps) end
    return single_quoted(cps, (' '):rep(2 * depth + 2))
end

local value
local function items(s, i, n, depth, is_map)
    local parts = {}
    for k = 1, n do
        local v
        v, i = value(s, i, depth)
        if is_map then
            local x
            x, i = value(s, i, depth)
            v = v .. ': ' .. x
        end
        parts[k] = v
    end
    return concat(parts, ', '), i
end

-- The text of the value at byte i of s (nested `depth` deep) and the index after it.
function value(s, i, depth)
    local tag = byte(s, i)
    i = i + 1
    if tag < 0x80 then return tostring(tag), i end
    if tag >= 0xe0 then return tostring(tag - 256), i end
    local function str(n, at) return string_text(s:sub(at, at + n - 1), depth), at + n end
    local function bin(n, at) return base64(s:sub(at, at + n - 1)), at + n end
    local function arr(n, at) local t, j = items(s, at, n, depth + 1, false) return '[' .. t .. ']', j end
    local function map(n, at) local t, j = items(s, at, n, depth + 1, true) return '{' .. t .. '}', j end
    if tag >= 0xa0 and tag <= 0xbf then return str(tag - 0xa0, i) end
    if tag >= 0x90 and tag <= 0x9f then return arr(tag - 0x90, i) end
    if tag >= 0x80 and tag <= 0x8f then return map(tag - 0x80, i) end
    if tag == 0xc0 then return 'null', i end
    if tag == 0xc2 then return 'false', i end
    if tag == 0xc3 then return 'true', i end
    if tag == 0xcc then return tostring(byte(s, i)), i + 1 end
    if tag == 0xcd then return tostring(uint(s, i, 2)), i + 2 end
    if tag == 0xce then return tostring(uint(s, i, 4)), i + 4 end
    if tag == 0xcf then return int64_text(s, i, false), i + 8 end
    if tag == 0xd0 then local v = byte(s, i) return tostring(v >= 128 and v - 256 or v), i + 1 end
    if tag == 0xd1 then local v = uint(s, i, 2) return tostring(v >= 32768 and v - 65536 or v), i + 2 end
    if tag == 0xd2 then local v = uint(s, i, 4) return tostring(v >= 2147483648 and v - 4294967296 or v), i + 4 end
    if tag == 0xd3 then return int64_text(s, i, true), i + 8 end
    if tag == 0xca then
        for k = 0, 3 do f32.b[3 - k] = byte(s, i + k) end
        return double_text(tonumber(f32.f)), i + 4
    end
    if tag == 0xcb then be8(s, i) return double_text(conv.d), i + 8 end
    if tag == 0xd9 then return str(byte(s, i), i + 1) end
    if tag == 0xda then return str(uint(s, i, 2), i + 2) end
    if tag == 0xdb then return str(uint(s, i, 4), i + 4) end
    if tag == 0xc4 then return bin(byte(s, i), i + 1) end
    if tag == 0xc5 then return bin(uint(s, i, 2), i + 2) end
    if tag == 0xc6 then return bin(uint(s, i, 4), i + 4) end
    if tag == 0xdc then return arr(uint(s, i, 2), i + 2) end
    if tag == 0xdd then return arr(uint(s, i, 4), i + 4) end
    if tag == 0xde then return map(uint(s, i, 2), i + 2) end
    if tag == 0xdf then return map(uint(s, i, 4), i + 4) end
    -- An extension (decimal, uuid, ...): Tarantool prints it by its type, which jitbox does
    -- not read into Lua; say what it is.
    local sizes = { [0xd4] = 1, [0xd5] = 2, [0xd6] = 4, [0xd7] = 8, [0xd8] = 16 }
    local n, at = sizes[tag], i + 1
    if not n then
        local w = tag == 0xc7 and 1 or tag == 0xc8 and 2 or 4
        n, at = uint(s, i, w), i + w + 1
    end
    return ('<extension %d>'):format(byte(s, at - 1)), at + n
end

-- The text of tuple data (a MessagePack array).
return function(data)
    return (value(data, 1, 0))
end
