-- Nested values: array, map and any fields, what a table becomes, and updates of them.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show

local s = T.space('u', { { 'id', 'unsigned' }, { 'tags', 'array' }, { 'attrs', 'map', is_nullable = true },
    { 'x', 'any', is_nullable = true } })
show('insert', s.insert, s, { 1, { 'a', 'b', { 1, 2.5, true } }, { city = 'Paris', zip = 75001 }, { n = { deep = { 1 } } } })
local t = s:get(1)
print('read', type(t.tags), t.tags[3][2], t.attrs.city, t.x.n.deep[1])
show('map into array', s.insert, s, { 2, { a = 1 } })
show('string into array', s.insert, s, { 3, 'str' })
show('empty table into map', s.insert, s, { 4, {}, {} })
show('marked map', s.insert, s, { 5, {}, setmetatable({}, { __serialize = 'map' }) })
show('holes', s.insert, s, { 6, { 1, nil, 3 } })
show('sparse', s.insert, s, { 7, { [1] = 1, [3] = 3 } })
show('one hole', s.insert, s, { 8, { [2] = 2 } })
show('too sparse', s.insert, s, { 9, { 1 }, nil, { [50] = 'x' } })
show('array index', s.create_index, s, 'tg', { parts = { { 2, 'array' } } })
show('set array', s.update, s, 1, { { '=', 'tags', { 'z' } } })
show('add to array', s.update, s, 1, { { '+', 'tags', 1 } })
show('map in any', s.replace, s, { 10, { 1 }, box and box.NULL or require('jitbox').NULL, { k = { 1, { j = 2 } } } })
local big = {}
for i = 1, 40 do big[i] = i * 1000000 end
show('big', function() return #s:insert{ 11, big }.tags end)
show('numbers', s.insert, s, { 12, { -1, -200, 2^40, -2^40, 0.5, 1e300 } })
T.finish()
