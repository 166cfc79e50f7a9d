-- The double field type: MessagePack doubles only (a whole Lua number is an integer and is
-- refused, ffi.cast('double', 3) is a double), ordered numerically; updates keep the type.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local ffi = require('ffi')
local show = T.show
local function ids(f, st, c) local r = {} for _, t in f, st, c do r[#r + 1] = t[1] end return table.concat(r, ",") end

local s = T.space('d', { { 'id', 'unsigned' }, { 'd', 'double' }, { 'n', 'number', is_nullable = true } })
show('index type', function() return s:create_index('d', { parts = { 'd' }, unique = false }).parts[1].type end)
show('format type', function() return s:format()[2].type end)
show('a double', s.insert, s, { 1, 1.5 })
show('an integer', s.insert, s, { 2, 2 })
show('a double cdata', s.insert, s, { 3, ffi.cast('double', 3) })
show('negative', s.insert, s, { 4, -0.5 })
show('large', s.insert, s, { 5, 1e300 })
show('a string', s.insert, s, { 6, 'x' })
show('read back', function() return s:get(3)[2], s:get(1)[2] end)
show('order', function() return ids(s.index.d:pairs()) end)
show('reverse', function() return ids(s.index.d:pairs(nil, { iterator = 'REQ' })) end)
show('select 1.5', function() return #s.index.d:select(1.5) end)
show('LT 1.5', function() return ids(s.index.d:pairs(1.5, { iterator = 'LT' })) end)
show('min max', function() return s.index.d:min()[1], s.index.d:max()[1] end)
show('update +', s.update, s, 1, { { '+', 2, 1 } })
show('update to an integer', s.update, s, 1, { { '=', 2, 7 } })
show('update to a double', s.update, s, 1, { { '=', 2, 7.25 } })
show('number field takes both', function() return s:replace({ 4, -0.5, 3 })[3], s:replace({ 4, -0.5, 3.5 })[3] end)
T.finish()
