-- Savepoints: what a rollback to one undoes, which savepoints it ends, and the errors.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show

local s = T.space('t', { { 'id', 'unsigned' } })
local function get(label, k) show(label, s.get, s, k) end
show('outside a transaction', T.savepoint)
T.begin()
s:insert{ 1, 'a' }
local sp1 = T.savepoint()
s:replace{ 1, 'b' }
s:insert{ 2 }
local sp2 = T.savepoint()
s:delete{ 1 }
s:update(2, { { '=', 2, 'x' } })
get('before', 1); get('before', 2)
show('to sp2', T.rollback_to, sp2)
get('after sp2', 1); get('after sp2', 2)
show('to sp1', T.rollback_to, sp1)
get('after sp1', 1); get('after sp1', 2)
show('to sp2 again', T.rollback_to, sp2)
show('to sp1 again', T.rollback_to, sp1)
s:insert{ 3 }
local sp3 = T.savepoint()
s:upsert({ 3, 0 }, { { '=', 2, 'up' } })
s:replace{ 1, 'c' }
show('to sp3', T.rollback_to, sp3)
T.commit()
get('committed', 1); get('committed', 2); get('committed', 3)
show('after commit', T.rollback_to, sp1)
print('len', s:len())
T.finish()
