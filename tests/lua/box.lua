-- The jitbox.box facade beyond what tests/programs compares with Tarantool: errors carry
-- Tarantool's numeric codes, whatever the facade lacks says "not supported by jitbox", and
-- box.cfg, box.tuple, box.info and box.slab behave as Tarantool's.
package.loaded.harness = nil
local H = require('harness')
local box = require('jitbox.box')
local test, eq = H.test, H.eq

local function box_error(code, part, f, ...)
    local ok, err = pcall(f, ...)
    assert(not ok, 'expected an error')
    assert(getmetatable(err) == getmetatable(box.error.new(0, '')), 'not a box error: ' .. tostring(err))
    eq(err.code, code, 'code of: ' .. tostring(err))
    eq(err.type, 'ClientError')
    if part then assert(tostring(err):find(part, 1, true), ('%q lacks %q'):format(tostring(err), part)) end
    return err
end

test('before box.cfg; box.cfg options and what it refuses', function()
    box_error(box.error.UNKNOWN, 'box.cfg', box.schema.space.create, 't')
    box_error(box.error.UNSUPPORTED, "not supported by jitbox: box.cfg option 'listen'", box.cfg, { listen = 3301 })
    box.cfg{ log_level = 1, memtx_memory = 64 * 2^20 }
    eq(box.cfg.memtx_memory, 64 * 2^20)
    eq(box.cfg.log_level, 1)
    box.cfg{ log_level = 2 }
    box_error(box.error.ILLEGAL_PARAMS, 'log_level must be a whole number', box.cfg, { log_level = 'loud' })
    eq(box.cfg.log_level, 2)
    box_error(box.error.UNSUPPORTED, "changing box.cfg option 'memtx_memory'", box.cfg, { memtx_memory = 2^30 })
    eq(box.info.status, 'running')
    eq(box.slab.info().quota_size, 64 * 2^20)
end)

test('errors have Tarantool codes', function()
    local s = box.schema.space.create('t', { format = {{'id', 'unsigned'}, {'name', 'string'}} })
    s:create_index('pk')
    s:create_index('name', { parts = {'name'} })
    s:insert{1, 'a'}
    box_error(box.error.TUPLE_FOUND, nil, s.insert, s, {1, 'b'})
    box_error(box.error.TUPLE_FOUND, nil, s.insert, s, {2, 'a'})
    box_error(box.error.FIELD_TYPE, nil, s.insert, s, {3, 4})
    box_error(box.error.FIELD_MISSING, nil, s.insert, s, {3})
    box_error(box.error.KEY_PART_TYPE, nil, s.get, s, 'x')
    box_error(box.error.EXACT_MATCH, nil, s.get, s, {1, 2})
    box_error(box.error.NO_SUCH_FIELD_NO, nil, s.update, s, 1, {{'=', 9, 1}})
    box_error(box.error.NO_SUCH_FIELD_NAME, nil, s.update, s, 1, {{'=', 'zz', 1}})
    box_error(box.error.UPDATE_FIELD, nil, s.update, s, 1, {{'=', 2, 'x'}, {'=', 2, 'y'}})
    box_error(box.error.CANT_UPDATE_PRIMARY_KEY, nil, s.update, s, 1, {{'=', 1, 5}})
    box_error(box.error.SPACE_EXISTS, nil, box.schema.space.create, 't')
    box_error(box.error.INDEX_EXISTS, nil, s.create_index, s, 'name')
    box_error(box.error.NO_TRANSACTION, nil, box.savepoint)
    box.begin()
    box_error(box.error.ACTIVE_TRANSACTION, nil, box.begin)
    box.rollback()
    -- A raised box error, and one made from a table.
    local e = box_error(box.error.ILLEGAL_PARAMS, 'custom', box.error, box.error.ILLEGAL_PARAMS, 'custom')
    eq(e:unpack().code, box.error.ILLEGAL_PARAMS)
    box_error(999, 'mine', box.error, { code = 999, reason = 'mine' })
    -- A Lua error inside box.atomic goes through as it is, after the rollback.
    local ok, err = pcall(box.atomic, function() s:insert{5, 'e'}; error('plain') end)
    assert(not ok and tostring(err):find('plain', 1, true))
    eq(s:get(5), nil, 'rolled back')
    eq(box.is_in_txn(), false)
end)

test('what the facade lacks says so', function()
    local s = box.space.t
    box_error(box.error.UNSUPPORTED, "index type 'BITSET'", s.create_index, s, 'h', { type = 'BITSET', parts = {'name'} })
    box_error(box.error.MODIFY_INDEX, 'must be unique', s.create_index, s, 'h', { type = 'HASH', unique = false, parts = {'name'} })
    box_error(box.error.UNSUPPORTED, "index option 'func'", s.create_index, s, 'h', { func = 'f' })
    box_error(box.error.UNSUPPORTED, "space option 'temporary'", box.schema.space.create, 'x', { temporary = true })
    box_error(box.error.UNSUPPORTED, "engine 'vinyl'", box.schema.space.create, 'x', { engine = 'vinyl' })
    box_error(box.error.ILLEGAL_PARAMS, 'inside a transaction', box.on_commit, function() end)
    box_error(box.error.UNSUPPORTED, 'box.schema.user', box.schema.user.grant, 'guest', 'read', 'universe')
end)

test('box.tuple, box.space, auto_increment, snapshots', function()
    local t = box.tuple.new{1, 'x', 3}
    assert(box.tuple.is(t)); eq(t[2], 'x'); eq(#box.tuple.new(1, 2), 2)
    local s = box.space.t
    eq(s.engine, 'memtx'); eq(s.index[0].name, 'pk'); eq(s.index.name.id, 1)
    eq(box.space[s.id], s, 'by id'); eq(box.space[s.id + 1000], nil)
    local n = 0
    for name, sp in pairs(box.space) do n = n + 1; eq(sp.name, name) end
    eq(n, 1)
    eq(s:auto_increment{'z'}[1], 2)
    s:rename('t2')
    eq(box.space.t, nil); eq(box.space.t2, s)
    box_error(box.error.UNSUPPORTED, 'without work_dir', box.snapshot)
end)

H.done('box.lua')
