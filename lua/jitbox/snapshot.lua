-- jitbox.snapshot: db:snapshot() and its tickets.
--
-- A snapshot writes every space as of now on a background thread. Its ticket is a table
-- around a jb_ticket handle, freed by its finalizer.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local X = require('jitbox.txn')
local drain = require('jitbox.deferred').drain
local C, db_mt, illegal, raise, error_of, live = B.C, B.db_mt, B.illegal, B.raise, B.error_of, B.live
local open_after, ticket_states = X.open_after, X.ticket_states

local ticket_mt = {}
ticket_mt.__index = ticket_mt
local function ticket_finalizer(h) C.jb_ticket_free(h) end
local state_out = ffi.new('uint32_t[1]')

-- 'in_progress', 'done' or 'failed'.
function ticket_mt:state()
    local rc = C.jb_ticket_state(self._h, state_out)
    if rc ~= 0 then raise(rc) end
    return ticket_states[tonumber(state_out[0])]
end

-- true once the snapshot is in place; false, err when it failed ('WAL_IO', 'MEMORY').
function ticket_mt:wait()
    local rc = C.jb_ticket_wait(self._h)
    if open_after(rc) and self._db._pending[0] > 0 then drain(self._db) end
    if rc ~= 0 then return false, error_of(rc) end
    return true
end

-- db:snapshot() writes every space as of now on a background thread and waits for it (true, or
-- raises); db:snapshot{async = true} returns a ticket instead. A request while one runs joins it.
function db_mt:snapshot(opts)
    local e = live(self)
    if opts ~= nil and type(opts) ~= 'table' then illegal('snapshot: options must be a table') end
    for k in pairs(opts or {}) do
        if k ~= 'async' then illegal(("snapshot: unknown option '%s'; known: async"):format(tostring(k))) end
    end
    if opts and opts.async then
        local out = ffi.new('jb_ticket*[1]')
        local rc = C.jb_engine_snapshot(e, out)
        if rc ~= 0 then raise(rc) end
        return setmetatable({ _h = ffi.gc(out[0], ticket_finalizer), _db = self }, ticket_mt)
    end
    local rc = C.jb_engine_snapshot(e, nil)
    if rc ~= 0 then raise(rc) end
    return true
end
jit.off(db_mt.snapshot)
