-- jitbox.sequence: sequences, as Tarantool's box.schema.sequence, and spaces whose primary
-- key takes the next value when a tuple leaves it nil.
--
-- A sequence is a row of the system space _jitbox_sequence and a space's sequence a row of
-- _jitbox_space_sequence: what the WAL and snapshots keep for every space they keep for these,
-- and recovery needs nothing more. A value is taken by an update of its row made outside any
-- transaction (in a coroutine of the module's own), so a rollback never gives a value back
-- and no two transactions ever get the same one; an insert with an explicit key above the
-- current value moves the sequence up to it, as in Tarantool. The system spaces are not in
-- db.space.
local B = require('jitbox.base')
local K = require('jitbox.catalog')
local T = require('jitbox.tuple')
require('jitbox.schema')
local C, illegal, db_mt, space_methods = B.C, B.illegal, B.db_mt, B.space_methods
local enum = B.enum
local throw, new_error = B.throw, B.new_error

local SEQ, BIND = '_jitbox_sequence', '_jitbox_space_sequence'
K.HIDDEN[SEQ], K.HIDDEN[BIND] = true, true

local INT64_MAX, INT64_MIN = 9223372036854775807LL, -9223372036854775807LL - 1

local function overflow(name)
    throw(new_error('SEQUENCE_OVERFLOW', enum.JB_E_SEQUENCE_OVERFLOW,
        ("sequence '%s' has overflowed: it is past its %s and does not cycle"):format(name, 'bound')), 4)
end

-- The system spaces, created when the first sequence is.
local function system(db, create)
    local s, b = db._hidden[SEQ], db._hidden[BIND]
    if s or not create then return s, b end
    K.creating_hidden = true
    local ok, err = pcall(function()
    s = db:create_space(SEQ, { format = { { 'name', 'string' }, { 'value', 'integer', is_nullable = true },
        { 'start', 'integer' }, { 'min', 'integer' }, { 'max', 'integer' }, { 'step', 'integer' },
        { 'cycle', 'boolean' } } })
    s:create_index('pk', { parts = { 'name' } })
    b = db:create_space(BIND, { format = { { 'space', 'string' }, { 'sequence', 'string' },
        { 'fieldno', 'unsigned' }, { 'auto', 'boolean' } } })
    b:create_index('pk', { parts = { 'space' } })
    b:create_index('sequence', { parts = { 'sequence', 'space' } })
    end)
    K.creating_hidden = false
    if not ok then B.rethrow(err, 2) end
    return db._hidden[SEQ], db._hidden[BIND]
end

-- Runs f() in the module's own coroutine: outside the caller's transaction.
local worker
local function outside(f)
    if worker == nil or coroutine.status(worker) == 'dead' then
        worker = coroutine.create(function(g)
            while true do g = coroutine.yield(pcall(g)) end
        end)
    end
    local res = { coroutine.resume(worker, f) }
    if not res[1] then error(res[2], 0) end
    if not res[2] then B.rethrow(res[3], 3) end
    return unpack(res, 3, table.maxn(res))
end

local seq_methods = {}
local seq_mt = { __index = seq_methods }

local function as_number(v)
    if type(v) == 'cdata' and v > -9007199254740992LL and v < 9007199254740992LL then return tonumber(v) end
    return v
end

local function row_of(seq)
    local s = system(seq._db)
    local r = s and s:get(seq.name)
    if r == nil then illegal(("sequence '%s' was dropped"):format(seq.name)) end
    return r
end

-- The next value after `value` (nil: not started), or nil when past the bound.
local function after(r, value)
    if value == nil then return r.start end
    local v = value + r.step
    if (r.step > 0 and (v > r.max or v < value)) or (r.step < 0 and (v < r.min or v > value)) then
        if not r.cycle then return nil end
        return r.step > 0 and r.min or r.max
    end
    return v
end

-- seq:next(): the next value, taken for good.
function seq_methods:next()
    return outside(function()
        local r = row_of(self)
        local v = after(r, r.value)
        if v == nil then overflow(self.name) end
        system(self._db):update(self.name, { { '=', 2, v } })
        return as_number(v)
    end)
end

-- seq:current(): the last value taken (an error before the first).
function seq_methods:current()
    local r = row_of(self)
    if r.value == nil then illegal(("sequence '%s' is not started"):format(self.name)) end
    return as_number(r.value)
end

function seq_methods:set(v)
    if type(v) ~= 'number' and type(v) ~= 'cdata' then illegal('sequence:set(value): value must be an integer') end
    outside(function() system(self._db):update(self.name, { { '=', 2, v } }) end)
end

function seq_methods:reset()
    outside(function() system(self._db):update(self.name, { { '=', 2, T.NULL } }) end)
end

-- Moves the sequence up (or down, for a negative step) to an explicit key v.
local function follow(db, name, v)
    outside(function()
        local s = system(db)
        local r = s:get(name)
        if r and (r.value == nil or (r.step > 0 and v > r.value) or (r.step < 0 and v < r.value)) then
            s:update(name, { { '=', 2, v } })
        end
    end)
end

function seq_methods:drop()
    local s, b = system(self._db)
    if b and b.index.sequence:count({ self.name }) > 0 then
        illegal(("sequence '%s' is in use by a space; drop the space or its primary index first"):format(self.name))
    end
    if s then s:delete(self.name) end
    rawset(self._db.sequence, self.name, nil)
end

local function sequence_object(db, r)
    local seq = rawget(db.sequence, r.name)
    if seq == nil then
        seq = setmetatable({ _db = db }, seq_mt)
        rawset(db.sequence, r.name, seq)
    end
    seq.name, seq.id, seq.start, seq.min, seq.max, seq.step, seq.cycle =
        r.name, r.name, as_number(r.start), as_number(r.min), as_number(r.max), as_number(r.step), r.cycle
    return seq
end

local OPTIONS = { start = true, min = true, max = true, step = true, cycle = true, if_not_exists = true }

local function int_option(opts, k, default, name)
    local v = opts[k]
    if v == nil then return default end
    if (type(v) ~= 'number' or v ~= math.floor(v)) and type(v) ~= 'cdata' then
        illegal(("create_sequence %s: %s must be an integer, not %s"):format(name, k, tostring(v)))
    end
    return v
end

-- db:create_sequence(name, {start =, min =, max =, step =, cycle =, if_not_exists =}): as
-- box.schema.sequence.create. Defaults: step 1, min 1 (or -2^63 for a negative step), max
-- 2^63 - 1 (or -1), start min (or max).
function db_mt:create_sequence(name, opts)
    if type(name) ~= 'string' then illegal('create_sequence: name must be a string') end
    opts = B.options(opts, OPTIONS, 'create_sequence ' .. name)
    local existing = self.sequence[name]
    if existing then
        if opts.if_not_exists then return existing, 'not created' end
        throw(new_error('EXISTS', enum.JB_E_EXISTS, ("sequence '%s' already exists"):format(name)), 2)
    end
    local step = int_option(opts, 'step', 1, name)
    if step == 0 then illegal(('create_sequence %s: step must not be 0'):format(name)) end
    local min = int_option(opts, 'min', step > 0 and 1 or INT64_MIN, name)
    local max = int_option(opts, 'max', step > 0 and INT64_MAX or -1, name)
    local start = int_option(opts, 'start', step > 0 and min or max, name)
    if not (min <= max) then illegal(('create_sequence %s: min must not be above max'):format(name)) end
    if not (start >= min and start <= max) then
        illegal(('create_sequence %s: start must be between min and max'):format(name))
    end
    if opts.cycle ~= nil and type(opts.cycle) ~= 'boolean' then illegal(('create_sequence %s: cycle must be true or false'):format(name)) end
    local s = system(self, true)
    local r = s:insert{ name, nil, start, min, max, step, opts.cycle or false }
    return sequence_object(self, r)
end

-- db.sequence: every sequence by name.
local seq_list_mt = {
    __index = function(list, name)
        local db = rawget(list, 0)
        local s = system(db)
        local r = s and type(name) == 'string' and s:get(name)
        if not r then return nil end
        return sequence_object(db, r)
    end,
}
K.on_wrap[#K.on_wrap + 1] = function(db)
    db.sequence = setmetatable({}, seq_list_mt)
    rawset(db.sequence, 0, db)
end

------------------------------------------------------------------------------------------
-- Spaces with a sequence.

-- The sequence of a space's primary key: s._seq = {name, fieldno} or false.
local function binding(space)
    local seq = rawget(space, '_seq')
    if seq == nil then
        local _, b = system(space._db)
        local r = b and b:get(space.name)
        seq = r and { name = r.sequence, fieldno = r.fieldno, auto = r.auto } or false
        rawset(space, '_seq', seq)
    end
    return seq
end

-- create_index(name, {sequence = true | 'name'}) on the primary index: true makes the
-- sequence '<space>_seq' (dropped with the index). Checked before the index is made.
function K.check_sequence(space, iname, spec)
    if rawget(space.index, 0) ~= nil then
        illegal(("create_index %s: only a primary index can have a sequence"):format(iname))
    end
    if spec ~= true and type(spec) ~= 'string' then
        illegal(("create_index %s: sequence must be true or a sequence's name"):format(iname))
    end
    if type(spec) == 'string' and space._db.sequence[spec] == nil then
        illegal(("create_index %s: no sequence named '%s'"):format(iname, spec))
    end
end

function K.attach_sequence(space, idx, spec)
    local db = space._db
    local name, auto = spec, false
    if spec == true then
        name, auto = space.name .. '_seq', true
        if db.sequence[name] == nil then db:create_sequence(name) end
    end
    local fieldno = idx.parts[1].fieldno
    local _, b = system(db, true)
    b:replace{ space.name, name, fieldno, auto }
    rawset(space, '_seq', { name = name, fieldno = fieldno, auto = auto })
end

-- The index, the space or its name goes: so does its binding (and an automatic sequence).
function K.detach_sequence(space, drop_auto)
    local seq = binding(space)
    if not seq then return end
    local _, b = system(space._db)
    b:delete(space.name)
    rawset(space, '_seq', false)
    if drop_auto and seq.auto then
        local s = space._db.sequence[seq.name]
        if s then s:drop() end
    end
end

function K.rename_sequence_binding(space, old)
    local _, b = system(space._db)
    local r = b and b:get(old)
    if r then
        b:delete(old)
        b:insert{ space.name, r.sequence, r.fieldno, r.auto }
    end
end

-- The row to write: with the sequence's next value in the key field when it is nil.
function K.with_sequence(space, t)
    local seq = binding(space)
    if not seq or type(t) ~= 'table' then return t end
    local f = seq.fieldno
    local v = t[f]
    if v == nil then -- nil or jitbox.NULL
        local row = {}
        for i = 1, math.max(T.row_len(t), f) do row[i] = t[i] end
        row[f] = space._db.sequence[seq.name]:next()
        return row
    end
    if type(v) == 'number' or type(v) == 'cdata' then follow(space._db, seq.name, v) end
    return t
end

-- Inserts and replaces of a space with a sequence fill its key first.
local insert, replace = space_methods.insert, space_methods.replace
function space_methods:insert(t)
    local seq = self._seq
    if seq == nil then seq = binding(self) end
    if seq then t = K.with_sequence(self, t) end
    return insert(self, t)
end
function space_methods:replace(t)
    local seq = self._seq
    if seq == nil then seq = binding(self) end
    if seq then t = K.with_sequence(self, t) end
    return replace(self, t)
end
