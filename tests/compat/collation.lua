-- Collations: unicode and unicode_ci order and compare strings as Tarantool's do.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show

local u = T.space('u', { { 'id', 'unsigned' }, { 'email', 'string' } })
show('ci index', function() return u:create_index('email', { parts = { { 'email', 'string', collation = 'unicode_ci' } } }).parts[1].collation end)
show('insert', u.insert, u, { 1, 'Alice@X.com' })
show('same but case', u.insert, u, { 2, 'alice@x.COM' })
show('get any case', u.index.email.get, u.index.email, 'ALICE@x.com')
show('accent', u.insert, u, { 3, 'élan' })
show('same but accent', u.insert, u, { 4, 'Elan' })
show('update to another case', u.update, u, 1, { { '=', 2, 'ALICE@X.COM' } })
show('count', u.index.email.count, u.index.email, 'alice@X.com')

local function order(space)
    local r = {}
    for _, t in space:pairs() do r[#r + 1] = t[1] end
    return table.concat(r, ' ')
end
local o = T.space('o', { { 'w', 'string' } })
o.index.pk:drop()
o:create_index('pk', { parts = { { 1, 'string', collation = 'unicode' } } })
for _, w in ipairs({ 'b', 'B', 'a', 'A', 'é', 'e', 'E', 'z', 'Z', 'ä', 'ab', 'Ab', 'Ä', 'ß', 'ss' }) do o:insert{ w } end
show('unicode order', order, o)
show('GE a', function() local r = {} for _, t in o:pairs('ab', { iterator = 'GE' }) do r[#r + 1] = t[1] end return table.concat(r, ' ') end)
local c = T.space('c', { { 'w', 'string' } })
c.index.pk:drop()
c:create_index('pk', { parts = { { 1, 'string', collation = 'unicode_ci' } } })
for _, w in ipairs({ 'b', 'a', 'é', 'Z', 'ab' }) do c:insert{ w } end
show('ä equals a', c.insert, c, { 'ä' })
show('unicode_ci order', order, c)
show('get É', c.get, c, 'É')
show('non-string collation', u.create_index, u, 'x', { parts = { { 'id', 'unsigned', collation = 'unicode' } } })
T.finish()
