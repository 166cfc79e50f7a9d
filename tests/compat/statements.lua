-- The iterator on_commit and on_rollback triggers get: every statement of the transaction as
-- (i, old, new, space_id) — no-op deletes and updates and skipped writes as (nil, nil), failed
-- writes not at all — in order on commit, newest first on rollback, without what a rollback
-- to a savepoint undid; and it can be walked more than once.
package.path = 'tests/compat/?.lua;' .. package.path
local T = require('compat')
local show = T.show
local function row(t) if t == nil then return '-' end local r = {} for i = 1, #t do r[i] = tostring(t[i]) end return table.concat(r, ':') end

local s = T.space('s')
local u = T.space('u')
u:before_replace(function(old, new) if new and new[1] == 7 then return old end end)
s:insert { 9, 'old' }
s:insert { 1, 5 }
local seen
local function collect(it)
    local r = {}
    for i, old, new, sid in it() do
        r[#r + 1] = i .. '=' .. row(old) .. '>' .. row(new) .. '@' .. (sid == s.id and 's' or sid == u.id and 'u' or '?')
    end
    seen = table.concat(r, ' ')
end
show('commit', function()
    T.begin()
    T.on_commit(collect)
    s:insert { 10 }
    s:replace { 9, 'new' }
    u:insert { 2 }
    s:delete { 9 }
    s:update(10, { { '=', 2, 'x' } })
    s:delete { 100 }
    s:update(100, { { '=', 2, 1 } })
    s:upsert({ 1, 0 }, { { '+', 2, 1 } })
    s:upsert({ 2, 0 }, { { '+', 2, 1 } })
    u:insert { 7 }
    u:insert { 8 }
    s:delete { 2 }
    pcall(s.insert, s, { 1, 1 })
    s.index.pk:delete(10)
    T.commit()
    return seen
end)
show('rollback, newest first', function()
    T.begin()
    T.on_rollback(collect)
    s:insert { 3 }
    local sp = T.savepoint()
    s:insert { 4 }
    T.rollback_to(sp)
    s:insert { 5 }
    T.rollback()
    return seen
end)
show('twice', function()
    local n, again = 0, nil
    T.begin()
    T.on_commit(function(it)
        for _ in it() do n = n + 1 end
        for i in it() do again = i break end
    end)
    s:insert { 6 }
    s:delete { 6 }
    T.commit()
    return n, again
end)
show('none', function()
    local r
    T.begin()
    T.on_commit(function(it) local f, st, c = it() r = { type(f), st, c, f(st, c) } end)
    T.commit()
    return r[1], r[2], r[3], r[4]
end)
T.finish()
