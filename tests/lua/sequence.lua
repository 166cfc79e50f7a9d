-- Sequences from Lua: durable in the WAL and in snapshots, never handing a value out twice
-- (rollbacks, deletes, transactions in several coroutines), and their system spaces kept out
-- of db.space. tests/compat/sequence.lua compares the values with Tarantool.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local test, eq, expect_error = H.test, H.eq, H.expect_error

local function names(db)
    local r = {}
    for k in pairs(db.space) do r[#r + 1] = k end
    table.sort(r)
    return table.concat(r, ' ')
end


test('sequences and the keys they fill survive reopening, from the WAL and from a snapshot', function()
    local dir = H.tmpdir()
    local db = H.open_dir(jitbox, dir)
    local q = db:create_sequence('q', { start = 100, step = 10 })
    eq(q:next(), 100); eq(q:next(), 110)
    local s = db:create_space('jobs', { format = {{'id', 'unsigned'}, {'what', 'string'}} })
    s:create_index('pk', { sequence = true })
    for i = 1, 5 do s:insert{jitbox.NULL, 'job' .. i} end
    db:begin(); s:insert{jitbox.NULL, 'rolled back'}; db:rollback()
    eq(names(db), 'jobs')
    db:close()
    db = H.open_dir(jitbox, dir)
    eq(db.sequence.q:next(), 120, 'q goes on')
    eq(db.space.jobs:insert{jitbox.NULL, 'after'}[1], 7, 'the value the rollback took is not handed out again')
    db:snapshot()
    db.space.jobs:insert{jitbox.NULL, 'after the snapshot'}
    db:close()
    db = H.open_dir(jitbox, dir)
    eq(db.space.jobs:insert{jitbox.NULL, 'x'}[1], 9)
    eq(db.sequence.q:current(), 120)
    eq(db.space.jobs:len(), 8)
    db:close()
    H.rmdir(dir)
end)

test('no value twice: transactions in coroutines, each rolled back or committed', function()
    local db = jitbox.open()
    local s = db:create_space('t')
    s:create_index('pk', { sequence = true })
    local seen, cos = {}, {}
    for w = 1, 4 do
        cos[w] = coroutine.create(function()
            for round = 1, 20 do
                db:begin()
                local t = s:insert{jitbox.NULL, w}
                assert(not seen[t[1]], 'value ' .. t[1] .. ' handed out twice')
                seen[t[1]] = true
                coroutine.yield()
                if round % 3 == 0 then db:rollback() else db:commit() end
            end
        end)
    end
    for _ = 1, 20 do for w = 1, 4 do assert(coroutine.resume(cos[w])) end end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    eq(n, 80)
    eq(db.sequence.t_seq:current(), 80)
    db:close()
end)

test('the system spaces are the module\'s own', function()
    local db = jitbox.open()
    db:create_sequence('a')
    eq(names(db), '')
    eq(db.space._jitbox_sequence, nil)
    expect_error('ILLEGAL_PARAMS', "jitbox's own", db.create_space, db, '_jitbox_sequence')
    expect_error('ILLEGAL_PARAMS', "unknown option 'strt'", db.create_sequence, db, 'b', { strt = 1 })
    expect_error('ILLEGAL_PARAMS', 'step must not be 0', db.create_sequence, db, 'b', { step = 0 })
    local s = db:create_space('t')
    s:create_index('pk')
    expect_error('ILLEGAL_PARAMS', 'only a primary index', s.create_index, s, 'x', { sequence = 'a' })
    eq(s.index.x, nil, 'nothing was created')
    expect_error('ILLEGAL_PARAMS', "no sequence named 'zz'", db:create_space('u').create_index, db.space.u, 'pk', { sequence = 'zz' })
    db:close()
end)

H.done('sequence.lua')
