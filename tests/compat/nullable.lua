-- Nullable fields and index parts: nil sorts first, repeats in a unique index, and is
-- found by select but not by get.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local NULL = box and box.NULL or require('jitbox').NULL

local s = T.space('u', { { 'id', 'unsigned' }, { 'email', 'string', is_nullable = true },
    { 'age', 'unsigned', is_nullable = true } })
local function ids(f, st, c) local r = {} for _, t in f, st, c do r[#r + 1] = t[1] end return table.concat(r, ",") end
show('index on a nullable field', function() return s:create_index('email', { parts = { 'email' } }).parts[1].is_nullable end)
show('nullable part', function() return s:create_index('age', { parts = { { 'age', 'unsigned', is_nullable = true } }, unique = false }).parts[1].is_nullable end)
show('insert nil email', s.insert, s, { 1, NULL, 30 })
show('insert nil email 2', s.insert, s, { 2, NULL, NULL })
show('insert email', s.insert, s, { 3, 'a@x', 20 })
show('insert email 2', s.insert, s, { 4, 'b@x', 25 })
show('duplicate email', s.insert, s, { 5, 'a@x', 20 })
show('select nil', function() return #s.index.email:select({ NULL }) end)
show('count nil', s.index.email.count, s.index.email, { NULL })
show('get nil', s.index.email.get, s.index.email, { NULL })
show('get a', s.index.email.get, s.index.email, 'a@x')
show('email order', function() return ids(s.index.email:pairs()) end)
show('email reverse', function() return ids(s.index.email:pairs(nil, { iterator = 'REQ' })) end)
show('age order', function() return ids(s.index.age:pairs()) end)
show('age GE 0', function() return #s.index.age:select({ 0 }, { iterator = 'GE' }) end)
show('age LT 25', function() return ids(s.index.age:pairs({ 25 }, { iterator = 'LT' })) end)
show('age GT nil', function() return ids(s.index.age:pairs({ NULL }, { iterator = 'GT' })) end)
show('update to nil', s.update, s, 3, { { '=', 'email', NULL } })
show('select nil after', function() return #s.index.email:select({ NULL }) end)
show('update back', s.update, s, 3, { { '=', 'email', 'b@x' } })
show('replace to nil', s.replace, s, { 4, NULL, 1 })
show('min max', function() return s.index.age:min()[1], s.index.age:max()[1] end)

local v = T.space('v', { { 'id', 'unsigned' }, { 'x', 'string' } })
show('nullable part of a non-nullable field', function() return v:create_index('x', { parts = { { 'x', 'string', is_nullable = true } } }).parts[1].is_nullable end)
show('nil into it', v.insert, v, { 1, NULL })
T.finish()
