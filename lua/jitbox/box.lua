-- jitbox.box: Tarantool's box API over jitbox, so that Tarantool code runs unchanged:
--
--   local box = require('jitbox.box')
--   box.cfg{}                                  -- in memory
--   box.cfg{work_dir = dir, wal_mode = 'write', memtx_memory = bytes}   -- durable, limited
--   local s = box.schema.space.create('users', {format = {...}})
--
-- Errors are box errors with Tarantool's numeric codes (err.code == box.error.TUPLE_FOUND);
-- their messages are jitbox's. Whatever Tarantool has and this facade does not is an error
-- saying "not supported by jitbox: ...", never a silent difference. docs/lua-api.md lists
-- what is there.
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local ffi = require('ffi')
local jitbox = require('jitbox')
local E = require('jitbox.box.error')
local P = require('jitbox.box.space')
local show = require('jitbox.box.show')
local unsupported = P.unsupported

-- Tuples print as Tarantool prints them (in the whole process, once the facade is loaded).
require('jitbox.tuple').tostring = function(t) return show(t:tomsgpack()) end

local box = { NULL = jitbox.NULL, error = E.box_error }
local db -- the engine, once box.cfg has run

local function pass(ok, ...)
    if ok then return ... end
    E.raise((...), 3)
end

local function engine()
    if db == nil then
        error(E.new(E.CODES.UNKNOWN, 'Please call box.cfg{} first'), 3)
    end
    return db
end

------------------------------------------------------------------------------------------
-- box.cfg

-- Options box.cfg takes, and the jitbox.open option each becomes.
local CFG = { work_dir = 'dir', wal_mode = 'wal_mode', memtx_memory = 'memory_limit',
    memtx_max_tuple_size = 'max_tuple_size', log_level = false }
local cfg_values = {}

-- The logger of the facade: jitbox's warnings and errors to stderr as Tarantool logs them,
-- filtered by log_level (Tarantool's: 2 errors, 4 warnings, 5 info, the default).
local function logger(level, message)
    local need = level == jitbox.LOG_ERR and 2 or level == jitbox.LOG_WARN and 4 or 5
    if need <= (cfg_values.log_level or 5) then io.stderr:write(message, '\n') end
end

local function configure(opts)
    opts = opts or {}
    if type(opts) ~= 'table' then error(E.new(E.CODES.ILLEGAL_PARAMS, 'box.cfg: pass a table of options'), 3) end
    for k in pairs(opts) do
        if CFG[k] == nil then unsupported(("box.cfg option '%s'"):format(tostring(k))) end
    end
    local level = opts.log_level
    if level ~= nil and (type(level) ~= 'number' or level < 0 or level > 7 or level ~= math.floor(level)) then
        error(E.new(E.CODES.ILLEGAL_PARAMS, 'box.cfg: log_level must be a whole number from 0 to 7, not '
            .. tostring(level)), 3)
    end
    if db ~= nil then
        for k, v in pairs(opts) do
            if k ~= 'log_level' and v ~= cfg_values[k] then
                unsupported(("changing box.cfg option '%s' after the first box.cfg"):format(k))
            end
        end
        cfg_values.log_level = opts.log_level or cfg_values.log_level
        return
    end
    local o = { logger = logger }
    for k, v in pairs(opts) do
        if CFG[k] then o[CFG[k]] = v end
        cfg_values[k] = v
    end
    if o.dir and o.wal_mode == nil then o.wal_mode = 'write' end
    db = pass(pcall(jitbox.open, o))
    cfg_values.wal_mode = o.wal_mode or 'none'
    -- By name, as the list holds them, or by id (box.space[s.id]), as Tarantool's.
    box.space = setmetatable({}, { __index = function(list, k)
        if type(k) ~= 'number' then return nil end
        for _, sp in pairs(list) do if sp.id == k then return sp end end
        return nil
    end })
    P.on_schema_change()
end

-- box.cfg{...} configures; box.cfg.NAME reads an option afterwards.
box.cfg = setmetatable({}, {
    __call = function(_, opts) return configure(opts) end,
    __index = function(_, k) return cfg_values[k] end,
})

-- box.space: every space by name, refilled after DDL through the facade.
function P.on_schema_change()
    if db == nil then return end
    local list = box.space
    for k in pairs(list) do list[k] = nil end
    for name, native in pairs(db.space) do list[name] = P.space(native) end
end

------------------------------------------------------------------------------------------
-- box.schema

local SPACE_OPTIONS = { format = true, if_not_exists = true, engine = true }

local function create_space(name, opts)
    local d = engine()
    opts = opts or {}
    local o = {}
    for k, v in pairs(opts) do
        if not SPACE_OPTIONS[k] then unsupported(("space option '%s'"):format(tostring(k))) end
        if k == 'engine' then
            if v ~= 'memtx' then unsupported(("engine '%s' (jitbox is memtx-like, in memory)"):format(tostring(v))) end
        else
            o[k] = v
        end
    end
    local native, msg = pass(pcall(d.create_space, d, name, o))
    P.on_schema_change()
    return P.space(native), msg
end

local function schema_unsupported(what)
    return setmetatable({}, { __index = function(_, k) return function() unsupported(what .. '.' .. k) end end })
end

-- Sequences: box.schema.sequence.create and box.sequence; their methods raise box errors.
local seq_wrap = setmetatable({}, { __mode = 'k' })
local function sequence(native)
    if native == nil then return nil end
    local w = seq_wrap[native]
    if w == nil then
        w = setmetatable({ _n = native }, { __index = function(self, k)
            local v = native[k]
            if type(v) ~= 'function' then return v end
            -- As Tarantool's, current() gives an int64 cdata.
            if k == 'current' then
                return function() return ffi.new('int64_t', (pass(pcall(v, native)))) end
            end
            return function(_, ...) return pass(pcall(v, native, ...)) end
        end })
        seq_wrap[native] = w
    end
    return w
end

local function create_sequence(name, opts)
    local d = engine()
    local native, msg = pass(pcall(d.create_sequence, d, name, opts))
    return sequence(native), msg
end

box.sequence = setmetatable({}, { __index = function(_, name) return db and sequence(db.sequence[name]) end })

box.schema = {
    space = { create = create_space },
    create_space = create_space,
    sequence = { create = create_sequence },
    func = schema_unsupported('box.schema.func'),
    user = schema_unsupported('box.schema.user (jitbox has no users)'),
    role = schema_unsupported('box.schema.role (jitbox has no users)'),
}

------------------------------------------------------------------------------------------
-- Transactions

function box.begin(opts)
    local d = engine()
    if d:is_in_txn() then
        error(E.new(E.CODES.ACTIVE_TRANSACTION, 'Operation is not permitted when there is an active transaction'), 2)
    end
    return (pass(pcall(d.begin, d, opts)))
end
function box.commit() local d = engine() pass(pcall(d.commit, d)) end
function box.rollback() local d = engine() pass(pcall(d.rollback, d)) end
function box.is_in_txn() return db ~= nil and db:is_in_txn() end
function box.savepoint() local d = engine() return pass(pcall(d.savepoint, d)) end
function box.rollback_to_savepoint(sp)
    local d = engine()
    pass(pcall(d.rollback_to_savepoint, d, sp))
end

-- box.atomic(fn, ...): fn in a transaction, committed when it returns, rolled back when it
-- raises (the error raised again).
function box.atomic(fn, ...)
    box.begin()
    local res = { pcall(fn, ...) }
    if not res[1] then
        if db:is_in_txn() then db:rollback() end
        E.raise(res[2], 2)
    end
    if db:is_in_txn() then box.commit() end
    return unpack(res, 2, table.maxn(res))
end

function box.on_commit(new, old) local d = engine() return pass(pcall(d.on_commit, d, new, old)) end
function box.on_rollback(new, old) local d = engine() return pass(pcall(d.on_rollback, d, new, old)) end

------------------------------------------------------------------------------------------
-- Tuples, snapshots, information

box.tuple = {
    is = jitbox.is_tuple,
    -- box.tuple.new({1, 2}) or box.tuple.new(1, 2)
    new = function(...)
        local t = ...
        if select('#', ...) ~= 1 or type(t) ~= 'table' then t = { ... } end
        return pass(pcall(jitbox.tuple, t))
    end,
}

-- box.snapshot(): 'ok' once the snapshot is written. A box configured without work_dir is
-- in memory only: there is nowhere to write one.
function box.snapshot()
    local d = engine()
    if cfg_values.work_dir == nil then
        unsupported('box.snapshot() of a box without work_dir (jitbox keeps it in memory only)')
    end
    pass(pcall(d.snapshot, d))
    return 'ok'
end

-- box.info: what jitbox knows (status, version, lsn); box.info() gives it as a table.
local function info()
    local st = db and db:stat()
    return { status = db and 'running' or 'loading', version = 'jitbox ' .. jitbox._VERSION,
        lsn = st and math.max((st.wal_next_lsn or 1) - 1, 0) or 0, ro = false }
end
box.info = setmetatable({}, {
    __call = function() return info() end,
    __index = function(_, k) return info()[k] end,
})

box.slab = {
    info = function()
        local st = engine():stat()
        return { quota_size = st.memory_limit, quota_used = st.memory_used,
            arena_size = st.memory_used, arena_used = st.memory_used,
            items_size = st.memory_used, items_used = st.memory_used,
            quota_used_ratio = ('%.2f%%'):format(100 * st.memory_used / st.memory_limit) }
    end,
}

box.stat = function() unsupported('box.stat()') end

return box
