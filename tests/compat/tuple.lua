-- Tuples of a space with a format: fields by name, tomap, update by name, names that shadow
-- methods.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show

local function map(m)
    local keys = {}
    for k in pairs(m) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
        if type(a) == type(b) then return a < b end
        return type(a) == 'number'
    end)
    local out = {}
    for i, k in ipairs(keys) do out[i] = tostring(k) .. '=' .. tostring(m[k]) end
    return table.concat(out, ' ')
end

local s = T.space('u', { { 'id', 'unsigned' }, { 'name', 'string' }, { 'age', 'unsigned', is_nullable = true } })
local t = s:insert{ 1, 'ann', 30, 'extra' }
print('by name', t.id, t.name, t.age, t['name'], t.nope)
print('tomap', map(t:tomap()))
print('names only', map(t:tomap{ names_only = true }))
show('update by name', t.update, t, { { '+', 'age', 1 }, { '=', 'name', 'bob' } })
print('updated', t:update{ { '=', 'name', 'bob' } }.name, t.name)
show('update unknown name', t.update, t, { { '+', 'zz', 1 } })
local short = s:insert{ 2, 'bo' }
print('short', short.age, map(short:tomap{ names_only = true }))
print('from select', s:select{}[2].name, s:get(1).age)
for _, x in s:pairs() do print('from pairs', x.id, x.name) end

local m = T.space('m', { { 'id', 'unsigned' }, { 'update', 'string' }, { 'totable', 'string', is_nullable = true } })
local u = m:insert{ 1, 'x' }
print('a field named update', u.update, type(u.totable))

-- Names a tuple object could have for its own parts.
local o = T.space('o', { { 'id', 'unsigned' }, { 'data', 'string' }, { 'size', 'unsigned' }, { 'fmt', 'string' } })
local r = o:insert{ 1, 'payload', 7, 'json' }
print('data size fmt', r.data, r.size, r.fmt, o:get(1).data)
T.finish()
