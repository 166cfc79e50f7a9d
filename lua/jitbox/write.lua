-- jitbox.write: insert, replace and delete.
--
-- A write fills the field buffer and makes one HOT FFI call; it returns the new tuple (insert,
-- replace) or the deleted one (delete, nil when there was none). With functional indexes the
-- new tuple's keys are computed here first and passed down with it (jitbox/keys.lua).

local B = require('jitbox.base')
local T = require('jitbox.tuple')
local D = require('jitbox.deferred')
local keys = require('jitbox.keys')
local current_tx = require('jitbox.txn').current_tx
local C, raise, space_methods, out_len = B.C, B.raise, B.space_methods, B.out_len
local fill, refill, encode, make_tuple = T.fill, T.refill, T.encode, T.make_tuple
local drain, DRAIN_AT = D.drain, D.DRAIN_AT

-- The version a replace of the row in `buf` would replace, or nil. With its keys an
-- autocommit replace without a WAL drops the old version's entries at once — and overwrites it
-- in place when it can — instead of burying it: the drain's work, done while the version is
-- in cache.
local function replaced_row(db, space, buf, n)
    local rc = C.jb_space_replaced(space._s, nil, buf, n, db._buf, db._cap, out_len)
    if rc ~= 0 or out_len[0] == 0 then return nil end -- the write itself will say what is wrong
    return make_tuple(db._buf, out_len[0])
end

-- Keys put by `put`, or nil when they are not keys (the old version is then buried, as when
-- its key function fails).
local function keys_or_nil(put, funcs, res)
    local ok, k = pcall(put, funcs, res)
    return ok and k or nil
end

-- A write to a space with functional indexes: `keyed` is the write that takes keys.
local function write_keyed(space, t, keyed)
    local db = space._db
    local funcs = space._funcs
    local tx = current_tx(db)
    -- The row is read once, into a tuple: what the key functions see is what is stored,
    -- whatever they do (use the engine, yield, change `t`).
    local buf, n = fill(t)
    local row = encode(buf, n, db._buf, db._cap)
    local old_row
    if keyed == C.jb_space_replace_keyed and tx == nil and db._peek then
        old_row = replaced_row(db, space, buf, n) -- the field buffer still holds the row
    end
    local k = keys.run(funcs, row)
    local old_ok, old_res
    if old_row then old_ok, old_res = pcall(keys.run, funcs, old_row) end
    -- No Lua from here to the write: the buffers are filled last.
    k = keys.put_new(funcs, k)
    local old_k = old_ok and keys_or_nil(keys.put_old, funcs, old_res)
    buf, n = refill(row)
    if old_k then
        return C.jb_space_replace_rekeyed(space._s, nil, buf, n, k, old_k, db._buf, db._cap, out_len)
    end
    return keyed(space._s, tx, buf, n, k, db._buf, db._cap, out_len)
end

local function write(fn, space, t, keyed)
    local db = space._db
    local rc
    if keyed and space._funcs then
        rc = write_keyed(space, t, keyed)
    else
        local buf, n = fill(t)
        rc = fn(space._s, current_tx(db), buf, n, db._buf, db._cap, out_len)
    end
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    local result = len ~= 0 and make_tuple(db._buf, len) or nil
    -- After taking the result: key functions run by the drain may use the engine (and its buffer).
    if db._pending[0] >= DRAIN_AT then drain(db) end
    return result
end

function space_methods:insert(t) return write(C.jb_space_insert, self, t, C.jb_space_insert_keyed) end
function space_methods:replace(t) return write(C.jb_space_replace, self, t, C.jb_space_replace_keyed) end
function space_methods:delete(key) return write(C.jb_space_delete, self, key) end

