-- Update operations at a JSON path inside a field ('doc.city', '[3].city', 'tags[2]',
-- 'doc["sub"].x'): set, insert and delete in maps and arrays, arithmetic and splices on the
-- values there, several paths in one field, and the errors Tarantool gives.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local s = T.space('u', { { 'id', 'unsigned' }, { 'name', 'string' }, { 'doc', 'map' }, { 'tags', 'array' } })
local n = 0
local function u(ops)
    n = n + 1
    s:replace { n, 'a', { city = 'Paris' }, { 'a', 'b', 'c' } }
    return s:update(n, ops)
end
local function sub(ops)
    n = n + 1
    s:replace { n, 'a', { sub = { x = 1 } }, {} }
    return s:update(n, ops)
end
local function num(ops)
    n = n + 1
    s:replace { n, 'a', { n = 1 }, {} }
    return s:update(n, ops)
end
show('set a key', u, { { '=', 'doc.city', 'Nice' } })
show('by field number', u, { { '=', '[3].city', 'Lyon' } })
show('quoted key', u, { { '=', '[3]["city"]', 'Q' } })
show('add a key: it goes first', u, { { '=', 'doc.zip', '75' } })
show('add a nested key', sub, { { '=', 'doc.sub.y', 2 } })
show('quoted step on the way', sub, { { '=', 'doc["sub"].x', 'R' } })
show('missing on the way', sub, { { '=', 'doc.nope.y', 2 } })
show('add', num, { { '+', 'doc.n', 5 } })
show('subtract to negative', num, { { '-', 'doc.n', 5 } })
show('add to a string', u, { { '+', 'doc.city', 5 } })
show('add to a missing key', u, { { '+', 'doc.missing', 5 } })
show('delete a key', u, { { '#', 'doc.city', 1 } })
show('delete a missing key', u, { { '#', 'doc.zip', 1 } })
show('delete two keys at once', sub, { { '#', 'doc.sub', 2 } })
show('insert a key', u, { { '!', 'doc.k', 'v' } })
show('insert an existing key', u, { { '!', 'doc.city', 'v' } })
show('set an element', u, { { '=', 'tags[1]', 'A' } })
show('append by set', u, { { '=', 'tags[4]', 'D' } })
show('set past the end', u, { { '=', 'tags[6]', 'F' } })
show('insert an element', u, { { '!', 'tags[1]', 'Z' } })
show('insert at the end', u, { { '!', 'tags[4]', 'E' } })
show('insert past the end', u, { { '!', 'tags[6]', 'E' } })
show('delete elements', u, { { '#', 'tags[2]', 2 } })
show('delete past the end', u, { { '#', 'tags[9]', 1 } })
show('splice', u, { { ':', 'doc.city', 1, 1, 'Z' } })
show('bitwise', num, { { '|', 'doc.n', 6 } })
show('by key into a string', u, { { '=', 'name.x', 1 } })
show('by key into an array', u, { { '=', 'tags.x', 1 } })
show('by index into a map', u, { { '=', 'doc[1]', 1 } })
show('by key into a string value', u, { { '=', 'doc.city.x', 'v' } })
show('two paths in one field', u, { { '=', 'doc.city', 'A' }, { '=', 'doc.zip', 'B' } })
show('the same path twice', sub, { { '=', 'doc.sub.x', 'A' }, { '=', 'doc.sub.x', 'B' } })
show('a nested array made, then changed', u, { { '=', 'doc.x', { 1, 2 } } })
show('[*]', u, { { '=', 'tags[*]', 1 } })
show('bad path', u, { { '=', 'doc..x', 1 } })
show('[0]', u, { { '=', '[0].x', 'v' } })
show('unknown name', u, { { '=', 'nope.x', 'v' } })
show('a field by [n]', u, { { '=', '[2]', 'nm' } })
show('append a field by [n]', u, { { '=', '[5]', 1 } })
show('primary key by [n]', u, { { '=', '[1]', 99 } })
show('tuple:update', function() return s:get(1):update { { '=', 'doc.city', 'T' } } end)
show('the index follows', function()
    local i = s:create_index('city', { parts = { { 'doc.city', 'string', is_nullable = true } }, unique = false })
    s:update(1, { { '=', 'doc.city', 'Zurich' } })
    return #i:select('Zurich'), #i:select('Nice')
end)
T.finish()
