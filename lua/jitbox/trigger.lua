-- jitbox.trigger: space triggers (s:before_replace, s:on_replace) and transaction triggers
-- (db:on_commit, db:on_rollback), with Tarantool's arguments and order.
--
-- They run here, in Lua, around the FFI write — C never calls them, so a trigger can do
-- anything (use the engine, yield, raise) without a trace or the engine under it. A write to
-- a space with triggers is a statement of its own: inside a transaction it starts at a
-- savepoint, outside one in a transaction of its own. The write is made, then
-- before_replace triggers see (old, new) and may change what it wrote (the statement is
-- undone to its start and redone), then on_replace triggers run; a trigger that raises undoes
-- the whole statement and the error goes on. Writes to spaces without triggers take their
-- usual path: two table checks.
--
-- A transaction whose first on_commit/on_rollback trigger is set before its first statement
-- records its statements (old, new, space id) from then on, for the iterator those triggers
-- get; while such a transaction is open every write takes the statement path.
local ffi = require('ffi')
local B = require('jitbox.base')
local X = require('jitbox.txn')
local K = require('jitbox.catalog')
require('jitbox.write')
require('jitbox.read')
local C, illegal, db_mt = B.C, B.illegal, B.db_mt
local space_methods, index_methods = B.space_methods, B.index_methods

-- Tarantool's trigger-list calls: f(fn) adds fn (the newest runs first) and returns it;
-- f(new, old) puts new in old's place; f(nil, old) removes old; f() lists them.
local function set_trigger(list, new, old, what)
    if new ~= nil and type(new) ~= 'function' then illegal(what .. ': a trigger is a function, not ' .. type(new)) end
    if old ~= nil and type(old) ~= 'function' then illegal(what .. ': the old trigger is a function, not ' .. type(old)) end
    if new == nil and old == nil then
        local copy = {}
        for i, f in ipairs(list) do copy[i] = f end
        return copy
    end
    if old ~= nil then
        for i, f in ipairs(list) do
            if f == old then
                if new ~= nil then list[i] = new else table.remove(list, i) end
                return new
            end
        end
        illegal(what .. ': the old trigger is not set')
    end
    table.insert(list, 1, new)
    return new
end

local function space_triggers(space)
    local t = rawget(space, '_triggers')
    if not t then
        t = { before = {}, on = {} }
        rawset(space, '_triggers', t)
    end
    return t
end

local function after_change(space)
    local t = space._triggers
    if t and #t.before == 0 and #t.on == 0 then rawset(space, '_triggers', false) end
end

function space_methods:before_replace(new, old)
    local r = set_trigger(space_triggers(self).before, new, old, 'before_replace')
    after_change(self)
    return r
end

function space_methods:on_replace(new, old)
    local r = set_trigger(space_triggers(self).on, new, old, 'on_replace')
    after_change(self)
    return r
end

------------------------------------------------------------------------------------------
-- Statements with triggers.

local raw = {} -- the methods without triggers
for _, name in ipairs({ 'insert', 'replace', 'delete', 'update', 'upsert' }) do raw[name] = space_methods[name] end
raw.index_update, raw.index_delete = index_methods.update, index_methods.delete

local function same(a, b)
    if a == nil or b == nil then return a == nil and b == nil end
    return a:tomsgpack() == b:tomsgpack()
end

-- The primary key of a row (a table or a tuple) of the space.
local function pk_key(space, t)
    local key = {}
    for i, p in ipairs(K.primary(space).parts) do key[i] = t[p.fieldno] end
    return key
end

local function counted(...) return select('#', ...), (...) end

-- The statement list of the running transaction, when it records one.
local function recording(db)
    local _, co = X.running(db)
    local t = db._ttrig[co]
    return t and t.stmts
end

-- The new tuple a write made: what it returned, or (an upsert, which returns nothing) the
-- tuple with the key of the row it was given or found.
local function made(space, request, result, old, row)
    if request == 'DELETE' then return nil end
    if request == 'UPSERT' then return K.primary(space):get(pk_key(space, old or row)) end
    return result
end

-- A write in a transaction that records its statements, to a space without triggers.
local function recorded(space, request, old_of, write, row)
    local list = recording(space._db)
    if list == nil then return write() end
    local old = old_of()
    local result = write()
    local new = made(space, request, result, old, row)
    if request == 'UPDATE' and result == nil then old = nil end
    list[#list + 1] = { old, new, space.id }
    return result
end

-- Runs a write `write()` as a statement: old_of() gives the row before, request is the
-- request type, row the tuple an upsert was given (its key finds what the upsert wrote).
-- Returns what the write returns, as the triggers leave it.
local function statement(space, request, old_of, write, row)
    local db = space._db
    local tx = X.running(db)
    local own = tx == nil
    if own then db:begin() end
    local sp = db:savepoint()
    local list = not own and recording(db)
    -- What the statement did, as the transaction's statement list records it.
    local s_old, s_new
    local ok, res = pcall(function()
        local trig = space._triggers
        local old = old_of()
        local result = write()
        local new = made(space, request, result, old, row)
        if (request == 'DELETE' and old == nil) or (request == 'UPDATE' and result == nil) then
            return nil -- nothing deleted, no such row: no triggers
        end
        s_old, s_new = old, new
        -- before_replace: each gets what the one before it left; a value it returns replaces
        -- the new tuple (nil: delete; the old one: nothing happens).
        local wanted, changed = new, false
        for _, f in ipairs(trig and trig.before or {}) do
            local n, r = counted(f(old, wanted, space.name, request))
            if n > 0 then wanted, changed = r, true end
        end
        if changed and not same(wanted, new) then
            db:rollback_to_savepoint(sp)
            s_old, s_new = nil, nil
            if same(wanted, old) then return nil end -- skipped: no on_replace, no result
            if wanted == nil then
                if old == nil then return nil end
                result = raw.delete(space, pk_key(space, old)) -- the deleted tuple, as Tarantool
                request, new = 'DELETE', nil
            else
                -- Written as a replace, and so reported (as Tarantool reports it).
                new = raw.replace(space, wanted)
                result, request = new, 'REPLACE'
            end
            s_old, s_new = old, new
        end
        for _, f in ipairs(trig and trig.on or {}) do f(old, new, space.name, request) end
        return result
    end)
    if not ok then
        if own then db:rollback() else db:rollback_to_savepoint(sp) end
        B.rethrow(res, 2)
    end
    if own then db:commit() end
    if list then list[#list + 1] = { s_old, s_new, space.id } end
    return res
end

local function pk_old(space, t)
    return function() return K.primary(space):get(pk_key(space, t)) end
end

-- The statements of spaces with triggers. (Apart from the methods below: a function that
-- makes a closure is not compiled, and the methods must stay compiled for every space.)
-- A statement with triggers, or one a transaction records.
local function stmt(space, ...)
    if space._triggers then return statement(space, ...) end
    return recorded(space, ...)
end
local with = {}
function with.insert(space, t)
    return stmt(space, 'INSERT', pk_old(space, t), function() return raw.insert(space, t) end)
end
function with.replace(space, t)
    return stmt(space, 'REPLACE', pk_old(space, t), function() return raw.replace(space, t) end)
end
function with.upsert(space, t, ops)
    stmt(space, 'UPSERT', pk_old(space, t), function() return raw.upsert(space, t, ops) end, t)
end
function with.delete(space, key)
    local pk = K.primary(space)
    return stmt(space, 'DELETE', function() return pk:get(key) end, function() return raw.delete(space, key) end)
end
function with.index_delete(index, key)
    return stmt(index.space, 'DELETE', function() return index:get(key) end,
        function() return raw.index_delete(index, key) end)
end
function with.index_update(index, key, ops)
    return stmt(index.space, 'UPDATE', function() return index:get(key) end,
        function() return raw.index_update(index, key, ops) end)
end

local raw_insert, raw_replace, raw_upsert, raw_delete = raw.insert, raw.replace, raw.upsert, raw.delete
local raw_index_delete, raw_index_update = raw.index_delete, raw.index_update
function space_methods:insert(t)
    if self._triggers or self._db._recording then return with.insert(self, t) end
    return raw_insert(self, t)
end
function space_methods:replace(t)
    if self._triggers or self._db._recording then return with.replace(self, t) end
    return raw_replace(self, t)
end
function space_methods:upsert(t, ops)
    if self._triggers or self._db._recording then return with.upsert(self, t, ops) end
    return raw_upsert(self, t, ops)
end
function space_methods:delete(key)
    if self._triggers or self._db._recording then return with.delete(self, key) end
    return raw_delete(self, key)
end
function index_methods:delete(key)
    if self.space._triggers or self._db._recording then return with.index_delete(self, key) end
    return raw_index_delete(self, key)
end
function index_methods:update(key, ops)
    if self.space._triggers or self._db._recording then return with.index_update(self, key, ops) end
    return raw_index_update(self, key, ops)
end

------------------------------------------------------------------------------------------
-- Transaction triggers.

-- The running transaction's triggers. The first set before any statement makes it record
-- its statements (stmts); one set later cannot (late: the iterator says so).
local count_out = ffi.new('uint64_t[1]')
local function txn_triggers(db, what)
    local tx, co = X.running(db)
    if tx == nil then
        illegal(('%s: a transaction trigger is set inside a transaction; begin one first'):format(what))
    end
    local t = db._ttrig[co]
    if t == nil then
        local rc = C.jb_txn_statement_count(tx.h, count_out)
        if rc ~= 0 then B.raise(rc) end
        t = { commit = {}, rollback = {} }
        if count_out[0] == 0 then
            t.stmts = {}
            db._nrecording = db._nrecording + 1
            db._recording = true
        else
            t.late = tonumber(count_out[0])
        end
        db._ttrig[co] = t
    end
    return t
end

-- db:on_commit(fn), db:on_rollback(fn): fn runs once the running transaction commits (for an
-- async commit: when tx:wait() or tx:state() learns it did) or rolls back, and gets an
-- iterator over the transaction's statements as Tarantool's do: `for i, old, new, space_id in
-- it() do ... end`, in order for on_commit, newest first for on_rollback. The statements are
-- those of a transaction whose first trigger was set before its first statement; in one
-- that set it later the iterator raises (jitbox did not record what came before).
function db_mt:on_commit(new, old) return set_trigger(txn_triggers(self, 'on_commit').commit, new, old, 'on_commit') end
function db_mt:on_rollback(new, old) return set_trigger(txn_triggers(self, 'on_rollback').rollback, new, old, 'on_rollback') end

-- The iterator a trigger gets: it() gives (next, nil, 0), as Tarantool's.
local function statements(trig, committed)
    local list = trig.stmts
    local n = list and #list or 0
    local step = committed and function(_, i)
        local s = list[i + 1]
        if s then return i + 1, s[1], s[2], s[3] end
    end or function(_, i)
        local s = list[n - i]
        if s then return i + 1, s[1], s[2], s[3] end
    end
    return function()
        if list == nil then
            illegal(('%s: the statement iterator needs the transaction\'s first trigger set before its first statement; %d statement(s) came before it')
                :format(committed and 'on_commit' or 'on_rollback', trig.late))
        end
        return step, nil, 0
    end
end

-- Runs a transaction's commit or rollback triggers, all of them: the transaction has ended
-- whatever they do. The first error is raised after the last one ran.
X.run_triggers = function(_, trig, committed)
    local first
    local it = statements(trig, committed)
    for _, f in ipairs(committed and trig.commit or trig.rollback) do
        local ok, err = pcall(f, it)
        if not ok and first == nil then first = err end
    end
    if first ~= nil then
        illegal(('a %s trigger failed after the transaction ended: %s'):format(
            committed and 'on_commit' or 'on_rollback', tostring(first)))
    end
end
