-- jitbox.fields: a tuple's scalar fields read in Lua, straight from its MessagePack bytes.
--
-- t[i] is the hottest read there is; an FFI call per field costs more than the decoding.
-- Here the array header and the fields before i are walked in compiled Lua and a scalar
-- (number, string, boolean, nil) is decoded in place. Anything else — a nested array or map,
-- binary, an extension — is left to the engine's decoder: `field` returns `FALLBACK` and the
-- caller asks the engine. Every read is bounds-checked against the tuple's const size, so
-- no bytes outside the tuple's own allocation are read whatever they hold.

local ffi = require('ffi')

local F = {}

-- Returned instead of a value the engine must decode.
local FALLBACK = {}
F.FALLBACK = FALLBACK

local uint64_t, int64_t = ffi.typeof('uint64_t'), ffi.typeof('int64_t')
-- Big-endian floats go through this scratch union, byte by byte.
local scratch = ffi.new('union { uint8_t b[8]; float f; double d; }')
local TWO53 = 9007199254740992

local function u16(p, at) return p[at] * 256 + p[at + 1] end
local function u32(p, at) return ((p[at] * 256 + p[at + 1]) * 256 + p[at + 2]) * 256 + p[at + 3] end

-- By tag: the bytes of a value whose tag alone gives its length (0: the length follows the
-- tag, or the value is nested). One table load instead of a chain of comparisons keeps a
-- trace on one path whatever width each integer was encoded with.
local FIXED = ffi.new('uint8_t[256]')
for b = 0x00, 0x7f do FIXED[b] = 1 end
for b = 0xe0, 0xff do FIXED[b] = 1 end
for b = 0xa0, 0xbf do FIXED[b] = 1 + b - 0xa0 end
FIXED[0xc0], FIXED[0xc2], FIXED[0xc3] = 1, 1, 1
FIXED[0xcc], FIXED[0xd0], FIXED[0xcd], FIXED[0xd1] = 2, 2, 3, 3
FIXED[0xce], FIXED[0xd2], FIXED[0xca], FIXED[0xcf], FIXED[0xd3], FIXED[0xcb] = 5, 5, 5, 9, 9, 9
-- By tag: 256^width for the unsigned integers below 2^32 (a positive fixint is its own
-- one-byte value), 0 for the rest. Such a value is the last `width` bytes of the four that
-- end where it ends: one formula, so one trace path, for every width.
local UINT_MOD = ffi.new('double[256]')
for b = 0x00, 0x7f do UINT_MOD[b] = 256 end
UINT_MOD[0xcc], UINT_MOD[0xcd], UINT_MOD[0xce] = 256, 65536, 4294967296

-- The position after the value at `at` (< size), or nil for a nested value (which the
-- engine skips) or one that does not fit.
local function skip(p, at, size)
    local b = p[at]
    local after = FIXED[b]
    if after ~= 0 then after = at + after
    elseif (b == 0xd9 or b == 0xc4) and at + 2 <= size then after = at + 2 + p[at + 1]
    elseif (b == 0xda or b == 0xc5) and at + 3 <= size then after = at + 3 + u16(p, at + 1)
    elseif (b == 0xdb or b == 0xc6) and at + 5 <= size then after = at + 5 + u32(p, at + 1)
    else return nil end
    if after >= size then return nil end -- a field follows: it must start inside
    return after
end

-- The 8 bytes at `at` as a uint64_t (big-endian).
local function u64(p, at)
    return uint64_t(u32(p, at)) * 4294967296ULL + u32(p, at + 4)
end

local function float_at(p, at, n)
    for k = 0, n - 1 do scratch.b[k] = p[at + n - 1 - k] end
    if n == 4 then return tonumber(scratch.f) end
    return tonumber(scratch.d)
end

-- The scalar at `at` (which must lie inside `size`), or FALLBACK.
local function value_at(p, at, size)
    local b = p[at]
    local mod, e = UINT_MOD[b], at + FIXED[b]
    if mod ~= 0 and e >= 4 and e <= size then return u32(p, e - 4) % mod end
    if b < 0x80 then return b end
    if b >= 0xe0 then return b - 256 end
    if b >= 0xa0 and b < 0xc0 then
        local n = b - 0xa0
        if at + 1 + n > size then return FALLBACK end
        return ffi.string(p + at + 1, n)
    end
    if b == 0xc0 then return nil end
    if b == 0xc2 then return false end
    if b == 0xc3 then return true end
    -- The bytes after the tag: the value's, or a string's length.
    local width = FIXED[b] - 1
    if b == 0xd9 then width = 1 elseif b == 0xda then width = 2 elseif b == 0xdb then width = 4 end
    if width <= 0 or at + 1 + width > size then return FALLBACK end
    at = at + 1
    if b == 0xcc then return p[at] end
    if b == 0xcd then return u16(p, at) end
    if b == 0xce then return u32(p, at) end
    if b == 0xcf then
        local hi = u32(p, at)
        if hi < 0x200000 then return hi * 4294967296 + u32(p, at + 4) end
        return u64(p, at)
    end
    if b == 0xd0 then local v = p[at]; return v < 0x80 and v or v - 0x100 end
    if b == 0xd1 then local v = u16(p, at); return v < 0x8000 and v or v - 0x10000 end
    if b == 0xd2 then local v = u32(p, at); return v < 0x80000000 and v or v - 0x100000000 end
    if b == 0xd3 then
        local hi = u32(p, at)
        if hi < 0x200000 then return hi * 4294967296 + u32(p, at + 4) end -- 0 <= v < 2^53
        if hi >= 0x80000000 then
            local v = ffi.cast(int64_t, u64(p, at))
            if v > -TWO53 then return tonumber(v) end
            return v
        end
        return u64(p, at) -- 2^53 <= v < 2^63: as the engine gives it, unsigned
    end
    if b == 0xca then return float_at(p, at, 4) end
    if b == 0xcb then return float_at(p, at, 8) end
    local n = b == 0xd9 and p[at] or b == 0xda and u16(p, at) or u32(p, at)
    at = at + width
    if at + n > size then return FALLBACK end
    return ffi.string(p + at, n)
end

-- The number of fields in the array header of `p` (`size` bytes) and where the first one
-- starts; nil for what is not an array header the engine would write.
local function header(p, size)
    if size < 1 then return nil end
    local b = p[0]
    if b >= 0x90 and b < 0xa0 then return b - 0x90, 1 end
    if b == 0xdc and size >= 3 then return u16(p, 1), 3 end
    if b == 0xdd and size >= 5 then return u32(p, 1), 5 end
    return nil
end

-- The field count of the tuple data `p` (`size` bytes), or nil (the engine decides).
function F.count(p, size)
    return (header(p, size))
end

-- Field `i` (1-based, a whole number >= 1) of the tuple data `p` (`size` bytes): its
-- value, nil past the end, or FALLBACK. The first eight fields are reached without a loop
-- (a loop here would split the caller's trace); later ones walk.
function F.field(p, size, i)
    local n, at = header(p, size)
    if not n or (n > 0 and at >= size) then return FALLBACK end
    if i > n then return nil end
    if i >= 2 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 3 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 4 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 5 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 6 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 7 then at = skip(p, at, size); if not at then return FALLBACK end end
    if i >= 8 then at = skip(p, at, size); if not at then return FALLBACK end end
    for _ = 9, i do
        at = skip(p, at, size); if not at then return FALLBACK end
    end
    return value_at(p, at, size)
end

return F
