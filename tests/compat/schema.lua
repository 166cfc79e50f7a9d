-- The schema as Tarantool shows it: min/max, object fields, index parts and formats, renames, truncate, if_not_exists.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local s = T.space('t', {{'id','unsigned'},{'a','integer'},{'s','string', is_nullable=true}})
local pk = s.index.pk
local sk = s:create_index('sk', {parts={{2,'integer'},{1,'unsigned'}}, unique=false})
for i=1,10 do s:insert{i, i%3} end
show('min', pk.min, pk); show('max', pk.max, pk); show('min 5', pk.min, pk, 5); show('max 5', pk.max, pk, 5)
show('min 50', pk.min, pk, 50); show('max 0', pk.max, pk, 0)
show('sk min 1', sk.min, sk, 1); show('sk max 1', sk.max, sk, 1); show('sk min', sk.min, sk); show('sk max', sk.max, sk)
show('sk min {1,4}', sk.min, sk, {1, 4}); show('sk max 7', sk.max, sk, 7)
print('names', s.name, s.field_count, pk.id, pk.name, pk.type, pk.unique, sk.id, sk.unique)
local function parts(p) local r = {} for i, x in ipairs(p) do r[i] = x.fieldno .. ':' .. x.type .. ':' .. tostring(x.is_nullable) end return table.concat(r, ',') end
print('parts', parts(pk.parts), parts(sk.parts))
local function fmt(f) local r = {} for i, x in ipairs(f) do r[i] = x.name .. ':' .. x.type .. ':' .. tostring(x.is_nullable) end return table.concat(r, ',') end
print('format', fmt(s:format()))
print('same objects', s.index[0] == pk, s.index.pk == pk, s.index[1] == sk)
local keys = {} for k in pairs(s.index) do keys[#keys+1]=tostring(k) end table.sort(keys) print('index keys', table.concat(keys, ' '))
print('sizes', pk:bsize() > 0, pk:len(), s:len(), s:count(), pk:count(5, 'GE'))
show('rename', s.rename, s, 't2')
print('renamed', s.name, T.space_named('t2') == s, T.space_named('t'))
show('index rename', pk.rename, pk, 'primary')
print('index renamed', pk.name, s.index.primary == pk, s.index.pk, s.index[0] == pk)
show('truncate', s.truncate, s)
show('len', s.len, s)
show('insert after truncate', s.insert, s, {1, 1})
show('create existing', T.create_space, 't2')
show('create existing if_not_exists', function() local x, msg = T.create_space('t2', {if_not_exists = true}); return x == s, msg end)
show('create index if_not_exists', function() local x, msg = s:create_index('primary', {if_not_exists = true}); return x == pk, msg end)
show('create index existing', s.create_index, s, 'primary')
show('drop index', sk.drop, sk)
print('after drop', s.index.sk, s.index[1])
T.finish()
