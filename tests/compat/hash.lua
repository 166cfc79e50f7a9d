-- HASH indexes: unique, no nullable parts, found by whole keys (EQ), listed whole (ALL) or
-- after a key (GT); other iterators, partial keys, min and max are errors, as in Tarantool.
-- (Orders are not compared: a HASH index lists in an order of its own.)
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local s = T.create_space('h')
local pk = s:create_index('pk', { type = 'hash' })
show('type', function() return pk.type, pk.unique, pk.parts[1].type end)
show('not unique', s.create_index, s, 'h2', { type = 'HASH', unique = false, parts = { 2, 'string' } })
local h = s:create_index('h', { type = 'HASH', parts = { { 2, 'string' }, { 3, 'unsigned' } } })
show('nullable part', s.create_index, s, 'hn', { type = 'HASH', parts = { { 4, 'string', is_nullable = true } } })
for i = 1, 5 do s:insert { i, 'n' .. i, i * 10 } end
show('get', s.get, s, 3)
show('get by two parts', h.get, h, { 'n2', 20 })
show('get by a partial key', h.get, h, { 'n2' })
show('select by a partial key', h.select, h, { 'n2' })
show('select all', function() return #s:select {} end)
show('ALL', function() return #s:select({}, { iterator = 'ALL' }) end)
show('GT with no key', function() return #s:select(nil, { iterator = 'GT' }) end)
show('GE', s.select, s, { 3 }, { iterator = 'GE' })
show('LT', s.select, s, { 3 }, { iterator = 'LT' })
show('REQ', s.select, s, { 3 }, { iterator = 'REQ' })
show('EQ', function() return s:select({ 3 }, { iterator = 'EQ' })[1] end)
show('min', pk.min, pk)
show('max', pk.max, pk)
show('count', pk.count, pk)
show('count a key', pk.count, pk, 3)
show('len', pk.len, pk)
show('random', function() return pk:random(1) ~= nil end)
show('update', s.update, s, 2, { { '=', 2, 'x' } })
show('by the new key', h.get, h, { 'x', 20 })
show('delete', s.delete, s, 2)
show('a duplicate', s.insert, s, { 6, 'n1', 10 })
show('paging with GT visits each once', function()
    local seen, last, n = {}, nil, 0
    repeat
        local page = s:select(last, { iterator = last and 'GT' or 'ALL', limit = 2 })
        for _, t in ipairs(page) do
            if seen[t[1]] then return 'twice: ' .. t[1] end
            seen[t[1]] = true
            n = n + 1
        end
        last = page[#page] and page[#page][1]
    until #page == 0
    return n
end)
T.finish()
