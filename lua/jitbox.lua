-- jitbox: a transactional in-memory storage engine, from LuaJIT at FFI speed.
--
-- Hot paths (get, pairs, insert, replace, update, upsert, delete, tuple field access) are
-- plain FFI calls on reusable buffers, so they compile inside traces; C never calls back into
-- Lua from them.
-- DDL and lifecycle functions are SAFE entries and run with the JIT off.
--
-- One file per concern under jitbox/, each requiring jitbox/base.lua:
--   tuple     Lua values <-> fields, tuples    keys      functional indexes' key functions
--   catalog   space and index objects, lists   schema    DDL, formats, sizes
--   write     insert, replace, delete, update, upsert
--   update    update operations, tuple:update  read      get, count, len, min, max
--   iterator  pairs, select, read options      txn       transactions, commit tickets
--   snapshot  db:snapshot and its tickets      deferred  the engine's deferred work
--   trigger   before_replace, on_replace, on_commit, on_rollback
--   sequence  sequences, and keys they fill
--   engine    open, attach, close, stat, gc
--   waiting   writes outside a transaction with a wait hook

local B = require('jitbox.base')
local T = require('jitbox.tuple')
local E = require('jitbox.engine')
require('jitbox.write')
require('jitbox.read')
require('jitbox.snapshot')
require('jitbox.trigger')
require('jitbox.sequence')

local C, raise = B.C, B.raise
local ffi = require('ffi')

local M = {
    _VERSION = '0.1.0', ABI_VERSION = B.ABI_VERSION, lib = C,
    open = E.open, attach = E.attach,
    LOG_ERR = E.LOG_ERR, LOG_WARN = E.LOG_WARN, LOG_INFO = E.LOG_INFO,
    NULL = T.NULL, is_tuple = T.is_tuple,
    -- jitbox.error(err): the error object of a jitbox error in either form, nil for any other.
    error = B.decode_error, error_mt = B.error_mt,
}

-- jitbox.tuple{...}: a tuple of these fields, of no space (as box.tuple.new).
local tuple_buf = ffi.new('uint8_t[?]', 4096)
function M.tuple(t)
    local buf, n = T.fill(t)
    return T.encode(buf, n, tuple_buf, 4096)
end

-- Error injection: jitbox.errinj.set('ALLOC_FAIL_AFTER', 3)
M.errinj = {
    set = function(name, value)
        local rc = C.jb_errinj_set(name, value)
        if rc ~= 0 then raise(rc) end
    end,
    get = function(name)
        local out = ffi.new('int64_t[1]')
        local rc = C.jb_errinj_get(name, out)
        if rc ~= 0 then raise(rc) end
        return tonumber(out[0])
    end,
}

return M
