-- jitbox.engine: opening, attaching and closing engines; their stats, loggers and garbage
-- collection. Lifecycle functions are SAFE entries and run with the JIT off.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local X = require('jitbox.txn')
local D = require('jitbox.deferred')
local keys = require('jitbox.keys')
local K = require('jitbox.catalog')
local T = require('jitbox.tuple')
require('jitbox.schema')
local C, illegal, raise, live, db_mt = B.C, B.illegal, B.raise, B.live, B.db_mt
local enum = B.enum
local options, size_option, type_names = B.options, B.size_option, B.type_names
local end_dead, drain = X.end_dead, D.drain

local E = {}

local function wrap(e, owned)
    local st = ffi.new('jb_stat')
    local rc = C.jb_engine_stat(e, st)
    if rc ~= 0 then raise(rc) end
    local db = setmetatable({
        _e = e, _owned = owned, _closed = false,
        _cap = tonumber(st.max_tuple_size),
        _buf = ffi.new('uint8_t[?]', st.max_tuple_size + T.SLACK), -- see T.copy_tuple
        _batches = {},
        _txs = setmetatable({}, { __mode = 'k' }), -- coroutine -> open transaction
        _guards = setmetatable({}, { __mode = 'k' }), -- coroutine -> its transaction guard
        _ntx = 0, -- open transactions of this module's coroutines
        _outside = 0, -- statements run outside a transaction while one was open (see end_dead)
        _keyfns = {},
        _func_spaces = {}, -- space id -> space, for spaces with functional indexes
        _ttrig = setmetatable({}, { __mode = 'k' }), -- coroutine -> its transaction's triggers
        _nrecording = 0, _recording = false, -- open transactions that record their statements
        _atrig = {}, -- commit number -> triggers of an async commit, until its outcome is known
    }, db_mt)
    local pending = ffi.new('const uint64_t*[1]')
    rc = C.jb_engine_pending_counter(e, pending)
    if rc ~= 0 then raise(rc) end
    db._pending = pending[0]
    if owned then
        local commits = ffi.new('const uint64_t*[1]')
        rc = C.jb_engine_commit_counters(e, commits)
        if rc ~= 0 then raise(rc) end
        db._commits = commits[0]
    end
    K.space_list(db)
    db._slot = X.engine_slot(db)
    return db
end

-- Loggers of open engines by id. One callback serves them all (LuaJIT has few callback
-- slots); an engine's id travels as the callback's context.
local loggers, logger_ids = {}, 0
-- The level a logger gets: ngx_lua's numbers, so that `logger = ngx.log` works.
E.LOG_ERR, E.LOG_WARN, E.LOG_INFO = 4, 5, 7
local LOG_LEVELS = { [0] = E.LOG_ERR, E.LOG_WARN, E.LOG_INFO }
local log_cb
local function log_callback(ctx, level, msg, len)
    local f = loggers[tonumber(ffi.cast('uintptr_t', ctx))]
    -- An error must not unwind through C: a failing logger loses its message only.
    if f then pcall(f, LOG_LEVELS[level] or E.LOG_INFO, ffi.string(msg, len)) end
end

local function engine_finalizer(e)
    -- No Lua logger runs from a finalizer: warnings go to stderr from here on.
    C.jb_engine_set_logger(e, nil, nil, enum.JB_CB_NATIVE)
    C.jb_engine_close(e) -- idempotent; the closure keeps the library loaded until it ran
end

local OPEN_OPTIONS = { memory_limit = true, max_tuple_size = true, dir = true, wal_mode = true,
    wal_queue_max_size = true, functions = true, lock_timeout = true, force_recovery = true,
    logger = true, wait = true }
local WAL_MODES = { none = enum.JB_WAL_NONE, write = enum.JB_WAL_WRITE, fsync = enum.JB_WAL_FSYNC }

-- The key function the application supplies for index iname of space sname:
-- functions[sname][iname], or functions['sname.iname'] when neither name has a dot (with a
-- dot the flat name could mean another space and index: 'a.b.c' is space 'a.b' or 'a').
local function key_function(functions, sname, iname)
    local by_space = functions[sname]
    if type(by_space) == 'table' then return by_space[iname] end
    local f = functions[sname .. '.' .. iname]
    if f ~= nil and (sname:find('.', 1, true) or iname:find('.', 1, true)) then
        illegal(("jitbox.open: functions['%s.%s'] is ambiguous (a name has a dot); pass functions = {['%s'] = {['%s'] = function(tuple) ... end}}")
            :format(sname, iname, sname, iname))
    end
    return f
end

-- Rebuilds the functional indexes recovery found, with the key functions the application
-- supplies (key_function); a missing one is an error naming it.
local function restore_functional(db, functions)
    local a = ffi.new('jb_awaiting_index')
    while true do
        local rc = C.jb_engine_awaiting(db._e, 0, a)
        if rc == enum.JB_E_NO_SUCH_INDEX then return end
        if rc ~= 0 then raise(rc) end
        local sname, iname = ffi.string(a.space, a.space_len), ffi.string(a.index, a.index_len)
        local f = key_function(functions, sname, iname)
        if type(f) ~= 'function' then
            illegal(("jitbox.open: functional index '%s' of space '%s' needs its key function; pass "
                .. "functions = {['%s'] = {['%s'] = function(tuple) ... end}}"):format(iname, sname, sname, iname))
        end
        local parts = {}
        for k = 1, a.part_count do parts[k] = { k, type_names[tonumber(a.part_types[k - 1])] } end
        db.space[sname]:create_index(iname, { func = f, parts = parts, unique = a.unique == 1,
            multikey = a.multikey == 1 })
    end
end

-- jitbox.open{memory_limit = bytes, max_tuple_size = bytes, dir = path,
--             wal_mode = 'none' | 'write' | 'fsync', wal_queue_max_size = bytes,
--             lock_timeout = seconds, force_recovery = boolean,
--             logger = function(level, message) end, wait = function() end,
--             functions = {space = {index = key_function, ...}, ['space.index'] = ..., ...}}
function E.open(opts)
    opts = options(opts, OPEN_OPTIONS, 'jitbox.open')
    local memory_limit = size_option(opts, 'memory_limit', 4096, 2^53, 'jitbox.open')
    local max_tuple_size = size_option(opts, 'max_tuple_size', 16, 2^30, 'jitbox.open')
    local wal_queue_max_size = size_option(opts, 'wal_queue_max_size', 1, 2^53, 'jitbox.open')
    local mode = WAL_MODES[opts.wal_mode or 'none']
    if not mode then
        illegal(("jitbox.open: wal_mode must be 'none', 'write' or 'fsync', not '%s'"):format(tostring(opts.wal_mode)))
    end
    local dir = opts.dir
    if dir ~= nil and type(dir) ~= 'string' then illegal('jitbox.open: dir must be a string (a directory path)') end
    local functions = opts.functions or {}
    if type(functions) ~= 'table' then illegal("jitbox.open: functions must be a table {space = {index = function}}") end
    local lock_timeout = opts.lock_timeout or 0
    if type(lock_timeout) ~= 'number' or not (lock_timeout >= 0 and lock_timeout < 4e6) then
        illegal('jitbox.open: lock_timeout must be a number of seconds from 0 to 4e6, not '
            .. tostring(opts.lock_timeout))
    end
    local force = opts.force_recovery
    if force ~= nil and type(force) ~= 'boolean' then
        illegal('jitbox.open: force_recovery must be true or false, not ' .. tostring(force))
    end
    local logger = opts.logger
    if logger ~= nil and type(logger) ~= 'function' then
        illegal('jitbox.open: logger must be a function(level, message), not ' .. type(logger))
    end
    if opts.wait ~= nil and type(opts.wait) ~= 'function' then
        illegal('jitbox.open: wait must be a function() that yields to the host, such as '
            .. 'function() ngx.sleep(0.001) end, not ' .. type(opts.wait))
    end
    local o = ffi.new('jb_engine_opts')
    o.flags = force and enum.JB_OPEN_FORCE_RECOVERY or 0
    o.lock_timeout_ms = math.floor(lock_timeout * 1000 + 0.5)
    local logger_id
    if logger then
        log_cb = log_cb or ffi.cast('jb_log_fn', log_callback)
        logger_ids = logger_ids + 1
        logger_id = logger_ids
        loggers[logger_id] = logger
        o.log_fn = log_cb
        o.log_ctx = ffi.cast('void*', logger_id)
        o.log_kind = enum.JB_CB_LUA
    end
    o.memory_limit = memory_limit
    o.max_tuple_size = max_tuple_size
    o.dir = dir
    o.dir_len = dir and #dir or 0
    o.wal_mode = mode
    o.wal_queue_max_size = wal_queue_max_size
    local out = ffi.new('jb_engine*[1]')
    local rc = C.jb_engine_open(o, out)
    if rc ~= 0 then
        if logger_id then loggers[logger_id] = nil end
        raise(rc)
    end
    local db = wrap(ffi.gc(out[0], engine_finalizer), true)
    db._logger_id = logger_id
    -- Without a WAL an autocommit replace can drop the old version at once (see `write`).
    db._peek = (opts.wal_mode or 'none') == 'none'
    -- How a commit waits for the log (txn.lua): the host's function, called until the commit
    -- settles, instead of blocking the thread in the engine. Only with a log to wait for.
    if not db._peek and opts.wait then
        db._wait = opts.wait
        require('jitbox.waiting').install()
    end
    local ok, err = pcall(restore_functional, db, functions)
    if not ok then
        db:close()
        B.rethrow(err, 2)
    end
    return db
end

-- Wraps an engine opened by a C host (a jb_engine* as cdata or light userdata). The host
-- keeps ownership: closing it stays the host's job.
function E.attach(ptr)
    return wrap(ffi.cast('jb_engine*', ptr), false)
end

function db_mt:close()
    if self._closed then return end
    if self._owned then
        local rc = C.jb_engine_close(self._e)
        -- Refused (from inside one of the engine's callbacks): still open, closable later.
        if rc ~= 0 and rc ~= enum.JB_E_CLOSED then raise(rc) end
        ffi.gc(self._e, nil)
        if self._logger_id then loggers[self._logger_id] = nil end
    end
    self._closed = true
    for fe in pairs(self._keyfns) do keys.unregister(fe) end
end

function db_mt:is_closed() return self._closed end

local WAL_STATES = { [0] = 'off', 'idle', 'writing', 'stalled', 'failed', 'broken', 'stopped' }

-- The text a jb_engine_recovery-like function gives (f(e, [arg,] buf, cap, len)).
local function text_of(e, f, arg)
    local len = ffi.new('size_t[1]')
    local rc = arg and f(e, arg, nil, 0, len) or f(e, nil, 0, len)
    if rc == 0 then return '' end
    if rc ~= enum.JB_E_BUFFER_TOO_SMALL then raise(rc) end
    local buf = ffi.new('char[?]', len[0])
    rc = arg and f(e, arg, buf, len[0], len) or f(e, buf, len[0], len)
    if rc ~= 0 then raise(rc) end
    return ffi.string(buf, len[0])
end

function db_mt:stat()
    local e = live(self)
    if self._ntx > 0 then end_dead(self) end
    local st = ffi.new('jb_stat')
    local rc = C.jb_engine_stat(e, st)
    if rc ~= 0 then raise(rc) end
    local res = {}
    for _, k in ipairs({ 'memory_used', 'memory_limit', 'max_tuple_size', 'space_count', 'tuple_count',
        'hot_calls', 'safe_calls', 'reentry_refused', 'callbacks_deferred', 'callbacks_run',
        'callbacks_pending', 'callbacks_dropped', 'txn_open', 'versions', 'gc_pending',
        'callbacks_refused', 'wal_prepared', 'wal_committed', 'wal_rolled_back', 'wal_failed_writes',
        'wal_next_lsn', 'snapshots_done', 'snapshots_failed', 'snapshot_lsn', 'snapshot_running',
        'recovery_wal_files', 'recovery_records', 'recovery_tuples', 'recovery_micros',
        'recovery_set_aside' }) do
        res[k] = tonumber(st[k])
    end
    res.wal_state = WAL_STATES[tonumber(st.wal_state)]
    res.recovery = text_of(self._e, C.jb_engine_recovery)
    res.dir = text_of(self._e, C.jb_engine_path, enum.JB_PATH_DIR)
    res.wal_file = text_of(self._e, C.jb_engine_path, enum.JB_PATH_WAL_FILE)
    res.spaces = {}
    for name, space in pairs(self.space) do
        local indexes, i = {}, 0
        while space.index[i] do
            indexes[#indexes + 1] = space.index[i].name
            i = i + 1
        end
        res.spaces[name] = { id = space.id, tuples = space:len(), bytes = space:bsize(), indexes = indexes }
    end
    return res
end

-- db:gc(): runs all deferred work now and collects every old version nobody sees.
function db_mt:gc()
    live(self)
    if self._ntx > 0 then end_dead(self) end
    drain(self)
    D.run(self)
end

for _, f in ipairs({ E.open, E.attach, db_mt.close, db_mt.gc }) do
    jit.off(f)
end

return E
