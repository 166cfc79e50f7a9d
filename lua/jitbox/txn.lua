-- jitbox.txn: transactions and commit tickets on the Lua side.
--
-- A transaction belongs to the coroutine that began it, as a Tarantool transaction belongs to
-- its fiber; operations in that coroutine join it, others autocommit. A transaction is a small
-- cdata without finalizer (one guard per coroutine instead) that is also its commit's ticket,
-- so a commit allocates one 24-byte object and registers nothing with the garbage collector.
-- Its read methods (tx:get, ...) are in jitbox/read.lua.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local drain = require('jitbox.deferred').drain
local C, db_mt, illegal, raise, error_of, live = B.C, B.db_mt, B.illegal, B.raise, B.error_of, B.live
local enum = B.enum

local X = {}
local current_tx, open_after

-- Open engines by slot, for transactions and tickets (weak: neither keeps its engine alive).
local engines, next_engine = setmetatable({}, { __mode = 'v' }), 0
X.engines = engines
function X.engine_slot(db)
    next_engine = next_engine + 1
    engines[next_engine] = db
    return next_engine
end

local MAIN = {} -- the main coroutine's key (coroutine.running() gives nil there)
local corunning = coroutine.running

local end_dead

-- The transaction handle of the running coroutine, or nil. One table check when no
-- transaction is open anywhere, so autocommit hot paths stay as they were. Statements
-- outside a transaction while others are open are counted: every SWEEP_EVERY of them
-- end the transactions of coroutines that died (see end_dead).
local SWEEP_EVERY = 256
function current_tx(db)
    if db._ntx == 0 then return nil end
    local tx = db._txs[corunning() or MAIN]
    if tx then return tx.h end
    local n = db._outside + 1
    if n >= SWEEP_EVERY then
        n = 0
        end_dead(db)
    end
    db._outside = n
    return nil
end

-- A transaction has no finalizer of its own (registering one per transaction cost more than
-- the transaction). Each coroutine that begins one gets a guard instead, once: a cdata
-- holding its open transaction's handle, kept by a weak-keyed table. Nothing in the guard or
-- the transaction refers to the coroutine, so a coroutine dropped with a transaction open is
-- collected, and its guard's finalizer rolls the transaction back.
-- The guard knows its engine's slot, so that the engine stops counting a transaction
-- that ended this way (or every later autocommit statement would look for its
-- coroutine's transaction).
ffi.cdef('struct jb_lua_guard { jb_txn *h; uint32_t engine; };')
local guard_t = ffi.typeof('struct jb_lua_guard')
local function guard_finalizer(g)
    local h = g.h
    if h == nil then return end
    g.h = nil
    C.jb_txn_rollback(h) -- a closed engine answers CLOSED: nothing to do
    local db = engines[g.engine]
    if db ~= nil and db._ntx > 0 then db._ntx = db._ntx - 1 end
end

-- A transaction object is a 24-byte cdata: its handle (NULL once it ended), its commit
-- number once tx:commit_async() made it (NOT_COMMITTED before) — so the transaction is its
-- own commit ticket — and its engine's slot in `engines`. It does not keep the engine alive
-- (the engine's table of open transactions does, while it is open).
ffi.cdef('struct jb_lua_txn { jb_txn *h; uint64_t n; uint32_t engine; };')
local NOT_COMMITTED = ffi.new('uint64_t', -1)
-- (A metatype's metatable must not change once set; its __index table may.)
local tx_methods = {}
local txn_t = ffi.metatype('struct jb_lua_txn', { __index = tx_methods })

local function closed_error(level)
    B.throw(B.new_error('CLOSED', enum.JB_E_CLOSED, 'the engine was closed; open a new one'), level + 1)
end

-- The engine of transaction tx; CLOSED (blaming the caller's caller) once it was closed
-- or collected.
local function engine_of(tx)
    local db = engines[tx.engine]
    if db == nil then closed_error(4) end
    return db
end

-- Checks that tx is open and belongs to the running coroutine; returns its engine and that
-- coroutine's key.
local function own(tx, what)
    if tx.h == nil then
        illegal(('%s: the transaction has already ended'):format(what))
    end
    local db = engine_of(tx)
    local co = corunning() or MAIN
    local cur = db._txs[co]
    if cur == nil or cur.h ~= tx.h then
        illegal(('%s: the transaction belongs to another coroutine; end it there'):format(what))
    end
    return db, co
end

-- Transaction triggers (db:on_commit, db:on_rollback; jitbox/trigger.lua) by coroutine, and
-- those of async commits by commit number until their outcome is known. X.run_triggers runs
-- a set: (db, set, committed).
local function forget(tx, db, co)
    db._guards[co].h = nil
    tx.h = nil
    db._txs[co] = nil
    db._ntx = db._ntx - 1
    local trig = db._ttrig[co]
    if trig then
        db._ttrig[co] = nil
        if trig.stmts then
            db._nrecording = db._nrecording - 1
            db._recording = db._nrecording > 0
        end
    end
    return trig
end

-- Runs the triggers of commit number n once its outcome is known.
local function settle_async(db, n, committed)
    local trig = db._atrig[tonumber(n)]
    if trig then
        db._atrig[tonumber(n)] = nil
        X.run_triggers(db, trig, committed)
    end
end

-- A coroutine that finished (returned or raised) can never end its transaction, and
-- something may still hold it — a compiled trace keeps the coroutines it was recorded
-- with as constants until jit.flush(), so its guard's finalizer would not run. Such a
-- transaction is rolled back, as Tarantool rolls back the transaction of a fiber that
-- ends: at db:begin(), db:stat(), db:gc() and every SWEEP_EVERY statements run outside a
-- transaction while one is open. Returns how many it ended.
local costatus = coroutine.status
function end_dead(db)
    local dead
    for co, tx in pairs(db._txs) do
        if co ~= MAIN and costatus(co) == 'dead' then
            dead = dead or {}
            dead[co] = tx
        end
    end
    if dead == nil then return 0 end
    local n = 0
    for co, tx in pairs(dead) do
        C.jb_txn_rollback(tx.h) -- a closed engine answers CLOSED: nothing to roll back
        forget(tx, db, co)
        n = n + 1
    end
    return n
end

-- Commit and rollback drain what their garbage collection buried (see `drain`). With a wait
-- hook (jitbox.open{wait = ...}) a commit is an async one the hook waits for.
function tx_methods:commit()
    local db, co = own(self, 'commit')
    if db._wait then
        self:commit_async()
        local ok, err = self:wait()
        if not ok then B.throw(err, 2) end
        return
    end
    local rc = C.jb_txn_commit(self.h)
    local trig = forget(self, db, co) -- a commit ends its transaction, whatever the outcome
    if open_after(rc) and db._pending[0] > 0 then drain(db) end
    if trig then X.run_triggers(db, trig, rc == 0) end
    if rc ~= 0 then raise(rc) end
end

-- Whether the engine is still open after a call that returned rc: the engine's counters
-- (pending callbacks, commits) may be read only then — closing frees them.
local E_CLOSED, E_BAD_HANDLE = enum.JB_E_CLOSED, enum.JB_E_BAD_HANDLE
function open_after(rc)
    return rc ~= E_CLOSED and rc ~= E_BAD_HANDLE
end

-- Whether commit n is known to be committed from the engine's two counters alone (see
-- jb_engine_commit_counters): no call at all for the common wait on a commit long done.
-- Only for engines this module owns, which it knows to be open.
local function committed_by_counters(db, n)
    local c = db._commits
    return c ~= nil and not db._closed and n > c[1] and n <= c[0]
end

-- A commit's ticket is the transaction object itself, holding its commit number: nothing
-- more to allocate, nothing to free. (A snapshot's: jitbox/snapshot.lua.)
local ticket_states = { [tonumber(enum.JB_TICKET_QUEUED)] = 'queued', [tonumber(enum.JB_TICKET_WAITING)] = 'waiting',
    [tonumber(enum.JB_TICKET_COMMITTED)] = 'committed', [tonumber(enum.JB_TICKET_ROLLED_BACK)] = 'rolled_back',
    [tonumber(enum.JB_TICKET_IN_PROGRESS)] = 'in_progress', [tonumber(enum.JB_TICKET_DONE)] = 'done',
    [tonumber(enum.JB_TICKET_FAILED)] = 'failed' }
local state_out = ffi.new('uint32_t[1]')
-- Out-parameters reused by every call (read right after the call; no allocation per commit).
local txn_out = ffi.new('jb_txn*[1]')
local commit_out = ffi.new('uint64_t[1]')

-- The engine of a transaction that tx:commit_async() committed (CLOSED once the engine was
-- closed or collected).
local function commit_engine(t, what)
    if t.n == NOT_COMMITTED then
        illegal(('%s: the transaction was not committed with commit_async'):format(what))
    end
    return engine_of(t)
end

-- tx:commit_async() -> ticket: the transaction is prepared (visible to later ones) and its
-- record queued; ticket:state() and ticket:wait() say when it is durable. The ticket is the
-- transaction object itself (tx:wait() works as well).
function tx_methods:commit_async()
    local db, co = own(self, 'commit_async')
    local rc = C.jb_txn_commit_numbered(self.h, commit_out)
    local trig = forget(self, db, co)
    if open_after(rc) and db._pending[0] > 0 then drain(db) end
    if rc ~= 0 then
        if trig then X.run_triggers(db, trig, false) end
        raise(rc)
    end
    self.n = commit_out[0]
    -- Its triggers run when tx:wait() or tx:state() learns the outcome.
    if trig then db._atrig[tonumber(self.n)] = trig end
    return self
end

-- 'queued', 'waiting', 'committed' or 'rolled_back'.
function tx_methods:state()
    local db = commit_engine(self, 'state')
    if committed_by_counters(db, self.n) then
        if db._atrig[tonumber(self.n)] then settle_async(db, self.n, true) end
        return 'committed'
    end
    local rc = C.jb_engine_commit_state(db._e, self.n, state_out)
    if rc ~= 0 then raise(rc) end
    local state = ticket_states[tonumber(state_out[0])]
    if state == 'committed' or state == 'rolled_back' then settle_async(db, self.n, state == 'committed') end
    return state
end

-- true once durable; false, err when rolled back (err.code 'WAL_IO' or 'CASCADE_ROLLBACK').
-- With a wait hook it calls the hook until the commit settles (then the engine's wait below
-- returns at once, with the outcome); otherwise it blocks the thread in the engine.
function tx_methods:wait()
    local db = commit_engine(self, 'wait')
    local n = self.n
    if committed_by_counters(db, n) then
        if db._atrig[tonumber(n)] then settle_async(db, n, true) end
        return true
    end
    local hook = db._wait
    if hook then
        local state = self:state()
        while state == 'queued' or state == 'waiting' do
            hook()
            live(db)
            state = self:state()
        end
        if state == 'committed' then return true end
    end
    local rc = C.jb_engine_commit_wait(db._e, n)
    if open_after(rc) and db._pending[0] > 0 then drain(db) end
    if open_after(rc) then settle_async(db, n, rc == 0) end
    if rc ~= 0 then return false, error_of(rc) end
    return true
end

function tx_methods:rollback()
    local db, co = own(self, 'rollback')
    local rc = C.jb_txn_rollback(self.h)
    local trig = forget(self, db, co)
    if open_after(rc) and db._pending[0] > 0 then drain(db) end
    if trig then X.run_triggers(db, trig, false) end
    if rc ~= 0 then raise(rc) end
end

-- db:begin() -> tx: binds a new transaction to the running coroutine. Options: none is
-- known yet; `txn_isolation` is refused (a transaction reads the snapshot taken at its
-- begin, whatever level is asked for), and so is any other, by name.
function db_mt:begin(opts)
    local e = live(self)
    if opts ~= nil then
        if type(opts) ~= 'table' then illegal('begin: options must be a table') end
        for k in pairs(opts) do
            if k == 'txn_isolation' then
                illegal("begin: option 'txn_isolation' is not supported by jitbox: a transaction always reads the snapshot taken at its begin, plus its own writes")
            end
            illegal(("begin: unknown option '%s'; begin takes no options"):format(tostring(k)))
        end
    end
    if self._ntx > 0 and end_dead(self) > 0 and self._pending[0] > 0 then drain(self) end
    local co = corunning() or MAIN
    if self._txs[co] then
        illegal('begin: this coroutine already has an open transaction; commit or roll it back first')
    end
    local guard = self._guards[co]
    if guard == nil then
        guard = ffi.gc(guard_t(nil, self._slot), guard_finalizer)
        self._guards[co] = guard
    end
    local rc = C.jb_txn_begin(e, txn_out)
    if rc ~= 0 then raise(rc) end
    local h = txn_out[0]
    guard.h = h
    local tx = txn_t(h, NOT_COMMITTED, self._slot)
    self._txs[co] = tx
    self._ntx = self._ntx + 1
    return tx
end

local function running_tx(db, what)
    local tx = db._txs[corunning() or MAIN]
    if not tx then illegal(('%s: no transaction is open in this coroutine'):format(what)) end
    return tx
end

-- As box.commit() and box.rollback(): with no transaction open in this coroutine, they do
-- nothing. commit_async has a ticket to return, so it needs one.
function db_mt:commit()
    live(self)
    local tx = self._txs[corunning() or MAIN]
    if tx then tx:commit() end
end
function db_mt:rollback()
    live(self)
    local tx = self._txs[corunning() or MAIN]
    if tx then tx:rollback() end
end
function db_mt:commit_async() return running_tx(self, 'commit_async'):commit_async() end

-- db:commit_fd() -> fd: a descriptor that turns readable when commits settle, for a host's
-- event loop (read its 8 bytes, then ask the tickets); the engine owns it.
local fd_out = ffi.new('int[1]')
function db_mt:commit_fd()
    local rc = C.jb_engine_commit_fd(live(self), fd_out)
    if rc ~= 0 then raise(rc) end
    return fd_out[0]
end

-- Savepoints, as box.savepoint() and box.rollback_to_savepoint(sp): a savepoint belongs to
-- its transaction; rolling back to it undoes what the transaction did after it, keeps it,
-- and ends the savepoints taken after it.
local savepoint_mt = { __tostring = function(sp) return 'savepoint ' .. tostring(sp._n) end }
local sp_out = ffi.new('uint64_t[1]')
function tx_methods:savepoint()
    local db, co = own(self, 'savepoint')
    local rc = C.jb_txn_savepoint(self.h, sp_out)
    if rc ~= 0 then raise(rc) end
    local trig = db._ttrig[co]
    -- _mark: how many statements the transaction had recorded.
    return setmetatable({ _h = self.h, _n = sp_out[0], _mark = trig and trig.stmts and #trig.stmts },
        savepoint_mt)
end
function tx_methods:rollback_to_savepoint(sp)
    local db, co = own(self, 'rollback_to_savepoint')
    if getmetatable(sp) ~= savepoint_mt then
        illegal('rollback_to_savepoint: pass a savepoint that savepoint() returned, not ' .. type(sp))
    end
    if sp._h ~= self.h then
        illegal('rollback_to_savepoint: the savepoint belongs to another transaction')
    end
    local rc = C.jb_txn_rollback_to_savepoint(self.h, sp._n)
    if rc ~= 0 then raise(rc) end
    local trig = db._ttrig[co]
    local list = trig and trig.stmts
    if list then
        for i = #list, (sp._mark or 0) + 1, -1 do list[i] = nil end
    end
end
function db_mt:savepoint() return running_tx(self, 'savepoint'):savepoint() end
function db_mt:rollback_to_savepoint(sp)
    return running_tx(self, 'rollback_to_savepoint'):rollback_to_savepoint(sp)
end

-- As box.is_in_txn(): whether the running coroutine has a transaction open.
function db_mt:is_in_txn()
    live(self)
    return self._txs[corunning() or MAIN] ~= nil
end

-- db:txn(fn, ...): runs fn in a new transaction; commits when it returns, rolls back (and
-- re-raises) when it raises. Returns fn's results.
function db_mt:txn(fn, ...)
    local tx = self:begin()
    local res = { pcall(fn, ...) }
    if not res[1] then
        if tx.h ~= nil then tx:rollback() end
        B.rethrow(res[2], 2)
    end
    if tx.h ~= nil then tx:commit() end
    return unpack(res, 2, table.maxn(res))
end

X.current_tx, X.end_dead, X.open_after, X.tx_methods = current_tx, end_dead, open_after, tx_methods
X.ticket_states = ticket_states
X.running = function(db) return db._txs[corunning() or MAIN], corunning() or MAIN end
X.run_triggers = function() end -- jitbox/trigger.lua
return X
