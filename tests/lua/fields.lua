-- Field reads without the engine: t[i] decodes scalars in Lua (jitbox/fields.lua) and must
-- agree with the engine's decoder on every encoding; pairs{fields = ...} yields the values
-- the same iteration over tuples would read, writes in the loop included.
package.loaded.harness = nil
local H = require('harness')
local ffi = require('ffi')
local jitbox = require('jitbox')
local T = require('jitbox.tuple')
local test, eq, expect_error = H.test, H.eq, H.expect_error

-- Values compare by type and value; cdata by their ctype too; tables by their text.
local function show(v)
    if type(v) == 'table' then
        local keys = {}
        for k in pairs(v) do keys[#keys + 1] = k end
        table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
        local parts = {}
        for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. '=' .. show(v[k]) end
        return '{' .. table.concat(parts, ',') .. '}'
    elseif type(v) == 'cdata' then
        return tostring(ffi.typeof(v)) .. ':' .. tostring(v)
    elseif type(v) == 'number' then
        return ('number:%.17g'):format(v)
    end
    return type(v) .. ':' .. tostring(v)
end

local function bytes(list)
    local parts = {}
    for i, b in ipairs(list) do parts[i] = string.char(b) end
    return table.concat(parts)
end

-- A tuple made straight from MessagePack bytes, as the engine would hand it over.
local function tuple_of(raw)
    local buf = ffi.new('uint8_t[?]', #raw + 1)
    ffi.copy(buf, raw, #raw)
    return T.make_tuple(buf, #raw, 0)
end

-- Every field (and a few indexes past the end) as Lua reads it and as the engine does.
local function agree(t, n, what)
    for i = 1, n + 2 do
        local ok_lua, lua_v = pcall(function() return t[i] end)
        local ok_eng, eng_v = pcall(T.engine_field, t, i)
        eq(ok_lua, ok_eng, what .. ': field ' .. i .. ' raises in both or neither')
        if ok_lua then eq(show(lua_v), show(eng_v), what .. ': field ' .. i) end
    end
    eq(t[0], nil, what .. ': t[0]')
    eq(t[1.5], nil, what .. ': t[1.5]')
end

local function be(n, width)
    local out = {}
    for k = width, 1, -1 do out[k] = n % 256; n = math.floor(n / 256) end
    return out
end

local function concat(...)
    local out = {}
    for _, list in ipairs({ ... }) do for _, b in ipairs(list) do out[#out + 1] = b end end
    return out
end

test('every scalar encoding reads the same in Lua as in the engine', function()
    local u64 = function(hi, lo) return concat({ 0xcf }, be(hi, 4), be(lo, 4)) end
    local i64 = function(hi, lo) return concat({ 0xd3 }, be(hi, 4), be(lo, 4)) end
    local str = function(tag, width, s)
        local out = concat({ tag }, be(#s, width))
        for c in s:gmatch('.') do out[#out + 1] = c:byte() end
        return out
    end
    local values = {
        { 0x00 }, { 0x7f }, { 0xe0 }, { 0xff }, { 0xc0 }, { 0xc2 }, { 0xc3 },
        { 0xcc, 0x80 }, { 0xcc, 0x05 }, { 0xcd, 0xff, 0xff }, { 0xcd, 0x00, 0x01 },
        concat({ 0xce }, be(4294967295, 4)), concat({ 0xce }, be(65536, 4)),
        u64(0, 1), u64(0x1fffff, 0xffffffff), u64(0x200000, 0), u64(0x200000, 1),
        u64(0x7fffffff, 0xffffffff), u64(0x80000000, 0), u64(0xffffffff, 0xffffffff),
        { 0xd0, 0x80 }, { 0xd0, 0x7f }, { 0xd0, 0xdf }, { 0xd1, 0x80, 0x00 }, { 0xd1, 0x7f, 0xff },
        concat({ 0xd2 }, be(0x80000000, 4)), concat({ 0xd2 }, be(0x7fffffff, 4)),
        concat({ 0xd2 }, be(0xffffffff, 4)),
        i64(0xffffffff, 0xffffffff), i64(0xffe00000, 1), i64(0xffe00000, 0),
        i64(0x80000000, 0), i64(0, 5), i64(0x1fffff, 0xffffffff), i64(0x200000, 0),
        i64(0x7fffffff, 0xffffffff),
        { 0xca, 0x3f, 0xc0, 0x00, 0x00 }, { 0xca, 0xff, 0x80, 0x00, 0x00 },
        { 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 }, { 0xcb, 0xc0, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18 },
        { 0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0 },
        { 0xa0 }, str(0xd9, 1, 'eight b\0'), str(0xda, 2, string.rep('y', 300)),
        str(0xdb, 4, 'long form'), { 0xa3, 0x61, 0x00, 0x62 },
        str(0xc4, 1, 'bin'), str(0xc5, 2, 'bin16'), str(0xc6, 4, 'bin32'),
        { 0x92, 0x01, 0xa1, 0x78 }, { 0x81, 0xa1, 0x6b, 0x02 }, { 0x90 }, { 0x80 },
        { 0xd4, 0x01, 0x02 }, { 0xd6, 0x01, 0, 0, 0, 1 }, { 0xc7, 0x02, 0x05, 0x01, 0x02 },
    }
    -- Each value alone, then each after every other (so it is reached by skipping).
    for k, v in ipairs(values) do
        agree(tuple_of(bytes(concat({ 0x91 }, v))), 1, 'value ' .. k)
        for j, before in ipairs(values) do
            local t = tuple_of(bytes(concat({ 0x93 }, before, before, v)))
            agree(t, 3, ('value %d after value %d'):format(k, j))
        end
    end
    -- Long rows: fields past the eighth walk, and 16- and 32-bit array headers.
    local many = {}
    for k = 1, 40 do many[k] = values[(k % #values) + 1] end
    agree(tuple_of(bytes(concat({ 0xdc, 0x00, 40 }, unpack(many)))), 40, 'array16')
    agree(tuple_of(bytes(concat({ 0xdd, 0, 0, 0, 40 }, unpack(many)))), 40, 'array32')
end)

test('truncated or damaged data is never read past its end', function()
    local cases = {
        { 0x93, 0xce, 0x00 }, { 0x92, 0x01, 0xa5, 0x61 }, { 0x92, 0x01, 0xd9 }, { 0x92, 0x01, 0xda, 0x00 },
        { 0x92, 0xcf, 0, 0, 0 }, { 0x9f }, { 0xdc, 0x00 }, { 0x01 }, {}, { 0x93, 0x01 },
        { 0x92, 0xcb, 0x3f }, { 0x92, 0xdb, 0, 0, 0, 9, 0x61 },
    }
    for k, raw in ipairs(cases) do
        local t = tuple_of(bytes(raw))
        agree(t, 3, 'damaged case ' .. k)
        -- #t reads the header in Lua; the engine's count must say the same, or refuse.
        local ok_lua, n_lua = pcall(function() return #t end)
        local out = ffi.new('uint32_t[1]')
        local rc = require('jitbox.base').C.jb_data_field_count(require('jitbox.tuple').data_of(t), t.jb_size_, out)
        eq(ok_lua, rc == 0, 'damaged case ' .. k .. ': count raises in both or neither')
        if ok_lua then eq(n_lua, out[0], 'damaged case ' .. k .. ': count') end
    end
end)

-- A space of varied rows: numbers of every width, strings, nested values, nils and short
-- rows, so projections meet every kind of field.
local function varied(db)
    local s = db:create_space('v', { format = {{'id', 'unsigned'}, {'name', 'string', is_nullable = true},
        {'n', 'any', is_nullable = true}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string', is_nullable = true}}, unique = false })
    local seed = 12345
    local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
    local kinds = {
        function(i) return i * 1000003 end, function(i) return -i end, function(i) return i + 0.5 end,
        function(i) return 'str' .. i end, function(i) return { i, 'x' } end, function() return jitbox.NULL end,
        function() return true end, function(i) return 18446744073709551615ULL - i end,
        function(i) return string.rep('z', 40 + i % 300) end,
    }
    for i = 1, 600 do
        local row = { i, 'name' .. rand(20) }
        for f = 3, 3 + rand(5) do row[f] = kinds[rand(#kinds) + 1](i) end
        if rand(7) == 0 then row = { i } end
        s:insert(row)
    end
    return s
end

-- What the same iteration over tuples reads: one line per row.
local function via_tuples(index, key, opts, fields)
    local out = {}
    for _, t in index:pairs(key, opts) do
        local vals = {}
        for k, f in ipairs(fields) do
            local v = t[f]
            vals[k] = show(v)
        end
        out[#out + 1] = table.concat(vals, ' ')
    end
    return out
end

local function via_projection(index, key, opts, fields)
    local o = { fields = fields }
    for k, v in pairs(opts or {}) do o[k] = v end
    local out = {}
    for _, a, b, c, d, e in index:pairs(key, o) do
        local vals = { a, b, c, d, e }
        local line = {}
        for k = 1, #fields do line[k] = show(vals[k]) end
        out[#out + 1] = table.concat(line, ' ')
    end
    return out
end

local function same_lists(a, b, what)
    eq(#a, #b, what .. ': rows')
    for k = 1, #a do eq(a[k], b[k], what .. ': row ' .. k) end
end

test('projections yield what tuples read, for every field list and iterator', function()
    local db = jitbox.open{ memory_limit = 64 * 2^20 }
    local s = varied(db)
    local lists = { { 1 }, { 3 }, { 2, 1 }, { 1, 2, 3 }, { 3, 3 }, { 1, 2, 3, 4, 5 }, { 6 }, { 4, 1, 5, 2 } }
    local reads = {
        { s.index.pk, nil, nil }, { s.index.pk, { 300 }, { iterator = 'GE' } },
        { s.index.pk, { 300 }, { iterator = 'LT' } }, { s.index.by_name, { 'name3' }, nil },
        { s.index.by_name, { 'name3' }, { iterator = 'REQ' } }, { s.index.pk, { 42 }, nil },
    }
    for li, fields in ipairs(lists) do
        for ri, r in ipairs(reads) do
            same_lists(via_projection(r[1], r[2], r[3], fields), via_tuples(r[1], r[2], r[3], fields),
                ('fields list %d, read %d'):format(li, ri))
        end
    end
    -- By name, as the format names them.
    same_lists(via_projection(s.index.pk, nil, nil, { 'name', 'id' }), via_tuples(s.index.pk, nil, nil, { 2, 1 }),
        'fields by name')
    db:close()
end)

test('a projection loop that writes sees what a tuple loop sees', function()
    local function run(project)
        local db = jitbox.open{ memory_limit = 64 * 2^20 }
        local s = varied(db)
        local seen = {}
        local step = 0
        local function visit(id, name)
            step = step + 1
            seen[#seen + 1] = show(id) .. ' ' .. show(name)
            -- Deletes ahead, inserts behind and ahead, replaces the current row.
            if step % 5 == 0 then s:delete{id + 3} end
            if step % 7 == 0 and id < 5000 then s:replace{id + 1000, 'late'} end
            if step % 11 == 0 then s:replace{id, 'again'} end
            if step % 13 == 0 and id < 100000 then s:replace{id + 100000, 'far'} end
        end
        if project then
            for _, id, name in s:pairs(nil, { fields = { 1, 2 } }) do visit(id, name) end
        else
            for _, t in s:pairs() do visit(t[1], t[2]) end
        end
        db:close()
        return seen
    end
    same_lists(run(true), run(false), 'writes in the loop')
end)

test('a row too large for the batch buffer comes alone and the scan goes on', function()
    local db = jitbox.open{ memory_limit = 64 * 2^20 }
    local s = db:create_space('big')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    for i = 1, 200 do
        s:insert{ i, i % 50 == 0 and string.rep('b', 20000 + i) or ('s' .. i), { i } }
    end
    local n = 0
    for _, id, v, nested in s:pairs(nil, { fields = { 1, 2, 3 } }) do
        n = n + 1
        eq(id, n, 'order')
        eq(v, n % 50 == 0 and string.rep('b', 20000 + n) or ('s' .. n), 'field 2 of row ' .. n)
        eq(nested[1], n, 'nested field of row ' .. n)
    end
    eq(n, 200, 'rows')
    db:close()
end)

test('a projection inside a transaction sees its own writes', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'a', 10}
    local tx = db:begin()
    s:insert{2, 'b', 20}
    local sum = 0
    for _, v in s:pairs(nil, { fields = { 'v' } }) do sum = sum + v end
    eq(sum, 30, 'autocommit-style pairs in the transaction')
    sum = 0
    for _, v in tx:pairs(s, nil, { fields = { 3 } }) do sum = sum + v end
    eq(sum, 30, 'through the handle')
    db:rollback()
    sum = 0
    for _, v in s:pairs(nil, { fields = { 3 } }) do sum = sum + v end
    eq(sum, 10, 'after the rollback')
    db:close()
end)

test('a fields option it cannot use is an error naming it', function()
    local db, s = H.fresh(jitbox)
    s:insert{1, 'a', 10}
    local function try(fields) return function() for _ in s:pairs(nil, { fields = fields }) do end end end
    expect_error('ILLEGAL_PARAMS', 'non-empty array', try({}))
    expect_error('ILLEGAL_PARAMS', 'non-empty array', try(false))
    expect_error('ILLEGAL_PARAMS', 'non-empty array', try('v'))
    expect_error('ILLEGAL_PARAMS', 'non-empty array', try(setmetatable({ 1 }, {})))
    expect_error('ILLEGAL_PARAMS', "'nope'", try({ 'nope' }))
    expect_error('ILLEGAL_PARAMS', "space 'test'", try({ 'nope' }))
    expect_error('ILLEGAL_PARAMS', 'fields[1]', try({ 0 }))
    expect_error('ILLEGAL_PARAMS', 'fields[2]', try({ 1, 1.5 }))
    expect_error('ILLEGAL_PARAMS', 'fields[1]', try({ true }))
    expect_error('ILLEGAL_PARAMS', 'it has the key', try({ 1, x = 2 }))
    expect_error('ILLEGAL_PARAMS', "unknown option 'field'", function() s:pairs(nil, { field = { 1 } }) end)
    expect_error('ILLEGAL_PARAMS', "unknown option 'fields'", function() s:select(nil, { fields = { 1 } }) end)
    db:close()
end)

H.done('fields.lua')
