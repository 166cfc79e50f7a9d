-- Space and transaction triggers: arguments, order, what before_replace may change, and what
-- a raising trigger undoes.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show

local function L(...)
    local t = {}
    for i = 1, select('#', ...) do
        local v = select(i, ...)
        t[i] = (type(v) == 'cdata' and v ~= nil and v.totable) and T.show_tuple(v) or tostring(v)
    end
    print(table.concat(t, ' '))
end

local s = T.space('t', { { 'id', 'unsigned' } })
local f1 = s:on_replace(function(old, new, sname, op) L('on_replace', old, new, sname, op) end)
s:insert{ 1, 'a' }
s:replace{ 1, 'b' }
s:update(1, { { '=', 2, 'c' } })
s:upsert({ 1, 'x' }, { { '=', 2, 'd' } })
s:upsert({ 2, 'x' }, { { '=', 2, 'd' } })
s:delete{ 2 }
s:delete{ 99 }
s:update(99, { { '=', 2, 'z' } })
print('triggers', #s:on_replace())

local f2 = s:before_replace(function(old, new, sname, op)
    L('before', old, new, sname, op)
    if new and new[2] == 'skip' then return old end
    if new and new[2] == 'change' then return new:update{ { '=', 2, 'changed' } } end
    if new and new[2] == 'nil' then return nil end
end)
show('replace skip', s.replace, s, { 1, 'skip' })
show('get', s.get, s, 1)
show('replace change', s.replace, s, { 1, 'change' })
show('get', s.get, s, 1)
show('replace nil', s.replace, s, { 1, 'nil' })
show('get', s.get, s, 1)
show('insert nil', s.insert, s, { 3, 'nil' })
show('get', s.get, s, 3)
show('insert kept', s.insert, s, { 3, 'kept' })
s:before_replace(nil, f2)

local f3 = s:on_replace(function(old, new) if new and new[2] == 'boom' then error('boom') end end)
show('raising trigger', s.insert, s, { 4, 'boom' })
show('get', s.get, s, 4)
T.begin()
s:insert{ 5, 'x' }
show('raising in a transaction', s.insert, s, { 6, 'boom' })
T.commit()
show('get 5', s.get, s, 5)
show('get 6', s.get, s, 6)
s:on_replace(nil, f3)
s:on_replace(nil, f1)
print('triggers', #s:on_replace())

T.begin()
T.on_commit(function() L('on_commit') end)
T.on_rollback(function() L('on_rollback') end)
s:insert{ 7, 'y' }
T.commit()
T.begin()
T.on_rollback(function() L('on_rollback 2') end)
s:insert{ 8 }
T.rollback()
print('len', s:len())
T.finish()
