-- jitbox.write: insert, replace, delete, update and upsert.
--
-- A write fills the field buffer and makes one HOT FFI call; it returns the new tuple (insert,
-- replace, update) or the deleted one (delete), and nothing when there was none. With functional indexes the
-- new tuple's keys are computed here first and passed down with it (jitbox/keys.lua).

local ffi = require('ffi')
local B = require('jitbox.base')
local T = require('jitbox.tuple')
local D = require('jitbox.deferred')
local keys = require('jitbox.keys')
local current_tx = require('jitbox.txn').current_tx
local primary = require('jitbox.catalog').primary
local fill_ops = require('jitbox.update').fill
local C, raise, out_len = B.C, B.raise, B.out_len
local enum = B.enum
local space_methods, index_methods = B.space_methods, B.index_methods
local fill, refill, encode, copy_tuple = T.fill, T.refill, T.encode, T.copy_tuple
local drain, DRAIN_AT = D.drain, D.DRAIN_AT

-- The version a replace of the row in `buf` would replace, or nil. With its keys an
-- autocommit replace without a WAL drops the old version's entries at once — and overwrites it
-- in place when it can — instead of burying it: the drain's work, done while the version is
-- in cache.
local function replaced_row(db, space, buf, n)
    local rc = C.jb_space_replaced(space._s, nil, buf, n, db._buf, db._cap, out_len)
    if rc ~= 0 or out_len[0] == 0 then return nil end -- the write itself will say what is wrong
    return copy_tuple(db._buf, out_len[0], space._fmt)
end

-- Keys put by `put`, or nil when they are not keys (the old version is then buried, as when
-- its key function fails).
local function keys_or_nil(put, funcs, res)
    local ok, k = pcall(put, funcs, res)
    return ok and k or nil
end

local tostr = ffi.string
local function same_data(a, b)
    return a.jb_size_ == b.jb_size_ and tostr(T.data_of(a), a.jb_size_) == tostr(T.data_of(b), b.jb_size_)
end

-- A write of tuple `row` to a space with functional indexes: `keyed` is the write that takes
-- keys; the field buffer holds the row's fields when `buf` is given. With `recheck` (the
-- preview of an update or upsert) the write goes ahead only if, once the key functions have
-- run, the preview still gives this row; otherwise it returns 0 and the row it gives now (or
-- false: no row), whose keys are to be computed again.
local function write_row(space, row, keyed, buf, n, recheck)
    local db = space._db
    local funcs = space._funcs
    local tx = current_tx(db)
    if buf == nil then buf, n = refill(row) end
    local old_row
    if keyed == C.jb_space_replace_keyed and tx == nil and db._peek then
        old_row = replaced_row(db, space, buf, n) -- the field buffer still holds the row
    end
    local k = keys.run(funcs, row)
    local old_ok, old_res
    if old_row then old_ok, old_res = pcall(keys.run, funcs, old_row) end
    if recheck then
        -- Key functions may yield, and other writes change the row meanwhile: an update
        -- writes what its operations make of the row as it is at the write.
        local now = recheck()
        if now == nil then return 0, false end
        if not same_data(now, row) then return 0, now end
    end
    -- No Lua from here to the write: the buffers are filled last.
    k = keys.put_new(funcs, k)
    local old_k = old_ok and keys_or_nil(keys.put_old, funcs, old_res)
    buf, n = refill(row)
    if old_k then
        return C.jb_space_replace_rekeyed(space._s, nil, buf, n, k, old_k, db._buf, db._cap, out_len)
    end
    return keyed(space._s, tx, buf, n, k, db._buf, db._cap, out_len)
end

-- The row is read once, into a tuple: what the key functions see is what is stored,
-- whatever they do (use the engine, yield, change `t`).
local function write_keyed(space, t, keyed)
    local db = space._db
    local buf, n = fill(t)
    return write_row(space, encode(buf, n, db._buf, db._cap, space._fmt), keyed, buf, n)
end

-- The result of a write that returned rc: the tuple in the engine buffer (with format fmt),
-- or nothing.
-- (The tuple is never compared with nil: a compiled comparison would keep a trace from
-- sinking a tuple its caller drops.)
local function result(db, rc, fmt)
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    if len == 0 then
        if db._pending[0] >= DRAIN_AT then drain(db) end
        return
    end
    local t = copy_tuple(db._buf, len, fmt)
    -- After taking the result: key functions run by the drain may use the engine (and its buffer).
    if db._pending[0] >= DRAIN_AT then drain(db) end
    return t
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
    return result(db, rc, space._fmt)
end

function space_methods:insert(t) return write(C.jb_space_insert, self, t, C.jb_space_insert_keyed) end
function space_methods:replace(t) return write(C.jb_space_replace, self, t, C.jb_space_replace_keyed) end
function space_methods:delete(key) return write(C.jb_space_delete, self, key) end

-- index:delete(key): through any unique index; returns the deleted tuple, or nothing.
function index_methods:delete(key)
    local db = self._db
    local buf, n = fill(key)
    return result(db, C.jb_index_delete(self._i, current_tx(db), buf, n, db._buf, db._cap, out_len), self._fmt)
end

-- An update or upsert of a space with Lua key functions: `preview` gives the tuple the engine
-- would write (nil: none), its keys are computed here, and it is written with them.
local function preview_write(space, preview)
    local row = preview()
    while row do
        local rc, again = write_row(space, row, C.jb_space_replace_keyed, nil, nil, preview)
        if again == nil then return rc end
        row = again
    end
    out_len[0] = 0
    return 0
end

-- The tuple a preview left in the engine buffer after returning rc, or nil.
local function previewed(db, rc, fmt)
    if rc ~= 0 then raise(rc) end
    if out_len[0] == 0 then return nil end
    return copy_tuple(db._buf, out_len[0], fmt)
end

-- With Lua key functions: each preview fills the buffers anew (key functions may have used them).
-- (Not in the methods below: a function that makes a closure is not compiled.)
local PREVIEW = enum.JB_WRITE_PREVIEW
local function update_keyed(index, key, ops)
    local db = index._db
    return preview_write(index.space, function()
        local o, no = fill_ops(ops, 'update')
        local buf, n = fill(key)
        return previewed(db, C.jb_index_update(index._i, current_tx(db), buf, n, o, no, PREVIEW,
            db._buf, db._cap, out_len), index._fmt)
    end)
end

-- The row is read once: the previews may run while key functions change `t`.
local function upsert_keyed(space, t, ops)
    local db = space._db
    local buf, n = fill(t)
    local row = encode(buf, n, db._buf, db._cap, space._fmt)
    return preview_write(space, function()
        local o, no = fill_ops(ops, 'upsert')
        buf, n = refill(row)
        return previewed(db, C.jb_space_upsert(space._s, current_tx(db), buf, n, o, no, PREVIEW,
            db._buf, db._cap, out_len), space._fmt)
    end)
end

-- index:update(key, ops) through any unique index, space:update(key, ops) through the
-- primary one: the new tuple, or nothing when no tuple has the key. The engine applies the
-- operations, in one call; with Lua key functions it previews the new tuple first.
function index_methods:update(key, ops)
    local db = self._db
    if self.space._funcs then return result(db, update_keyed(self, key, ops), self._fmt) end
    local o, no = fill_ops(ops, 'update')
    local buf, n = fill(key)
    return result(db, C.jb_index_update(self._i, current_tx(db), buf, n, o, no, 0, db._buf, db._cap, out_len), self._fmt)
end
function space_methods:update(key, ops) return primary(self):update(key, ops) end

-- space:upsert(tuple, ops): inserts the tuple, or when one has its primary key, updates that
-- one (operations that fail on its data are skipped and logged, as in Tarantool). Returns
-- nothing.
function space_methods:upsert(t, ops)
    local db = self._db
    if self._funcs then
        result(db, upsert_keyed(self, t, ops))
        return
    end
    local o, no = fill_ops(ops, 'upsert')
    local buf, n = fill(t)
    result(db, C.jb_space_upsert(self._s, current_tx(db), buf, n, o, no, 0, nil, 0, out_len))
end
