-- Sequences: values, bounds, cycles, and primary keys they fill.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local NULL = box and box.NULL or require('jitbox').NULL
local function num(f, ...) return function(...) return tonumber(f(...)) end end

local q = T.create_sequence('q')
print('q', q.name, q.step, q.min, q.start, q.cycle)
show('current', q.current, q)
show('next', q.next, q); show('next', q.next, q); show('current', num(q.current), q)
show('set', q.set, q, 10); show('next', q.next, q)
show('reset', q.reset, q); show('next', q.next, q)
local c = T.create_sequence('c', { min = 1, max = 3, cycle = true, start = 2 })
for _ = 1, 4 do show('cycle', c.next, c) end
local d = T.create_sequence('d', { min = -10, max = 10, step = -4, start = 0 })
for _ = 1, 4 do show('down', d.next, d) end
local e = T.create_sequence('e', { max = 2 })
for _ = 1, 3 do show('exhaust', e.next, e) end
show('create again', T.create_sequence, 'q')
show('if_not_exists', function() return T.create_sequence('q', { if_not_exists = true }) == T.sequence('q') end)
show('start out of range', T.create_sequence, 'z', { min = 5, start = 1 })

local s = T.create_space('jobs', { format = { { 'id', 'unsigned' }, { 'what', 'string' } } })
s:create_index('pk', { sequence = true })
show('made its sequence', function() return T.sequence('jobs_seq') ~= nil end)
show('insert nil', s.insert, s, { NULL, 'a' })
show('insert nil', s.insert, s, { nil, 'b' })
show('insert 10', s.insert, s, { 10, 'c' })
show('insert nil', s.insert, s, { NULL, 'd' })
show('insert 5', s.insert, s, { 5, 'e' })
show('insert nil', s.insert, s, { NULL, 'f' })
show('replace nil', s.replace, s, { NULL, 'g' })
T.begin() s:insert{ NULL, 'h' } T.rollback()
show('after rollback', s.insert, s, { NULL, 'i' })
s:delete{ 14 }
show('after delete', s.insert, s, { NULL, 'j' })
show('dup', s.insert, s, { 1, 'x' })
show('after dup', s.insert, s, { NULL, 'l' })
show('current', num(T.sequence('jobs_seq').current), T.sequence('jobs_seq'))
local t = T.create_space('t2')
t:create_index('pk', { sequence = 'q' })
show('named', t.insert, t, { NULL })
show('drop used', q.drop, q)
t:drop()
show('drop unused', q.drop, q)
show('gone', function() return T.sequence('q') == nil end)
s.index.pk:drop()
show('automatic one gone with its index', function() return T.sequence('jobs_seq') == nil end)
T.finish()
