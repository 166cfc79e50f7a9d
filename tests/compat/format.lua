-- s:format(new): names and types change once every index part and every tuple fit; a field
-- named anew is read by its new name; what does not fit is refused and changes nothing.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local function names(s) local r = {} for i, f in ipairs(s:format()) do r[i] = f.name .. ':' .. f.type end return table.concat(r, ' ') end

local s = T.space('u', { { 'id', 'unsigned' }, { 'name', 'string' } })
s:create_index('n', { parts = { 'name' } })
s:insert { 1, 'a', 5 }
show('rename and add a field', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'string' }, { 'age', 'unsigned' } })
show('read by new names', function() local t = s:get(1) return t.nm, t.age, t.name end)
show('format now', names, s)
show('data does not fit', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'string' }, { 'age', 'string' } })
show('index does not fit', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'unsigned' } })
show('primary does not fit', s.format, s, { { 'id', 'string' } })
show('unchanged after refusals', names, s)
show('scalar over a string index', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'scalar' } })
show('a field the tuples lack', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'string' }, { 'age', 'unsigned' }, { 'x', 'unsigned' } })
show('nullable field', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'string', is_nullable = true } })
show('shorter', s.format, s, { { 'id', 'unsigned' } })
show('count', function() return #s:format() end)
show('none', s.format, s, {})
show('count after none', function() return #s:format() end)
show('duplicate names', s.format, s, { { 'id', 'unsigned' }, { 'id', 'string' } })
show('unknown type', s.format, s, { { 'id', 'foo' } })
show('not a table', s.format, s, 'x')
show('any', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'any' } })
show('index still checks', s.insert, s, { 2, { 1 } })
show('back to string', s.format, s, { { 'id', 'unsigned' }, { 'nm', 'string' } })
show('insert by the new format', s.insert, s, { 3, 'c' })
show('new names on new tuples', function() return s:get(3).nm end)
T.finish()
