-- jitbox.read: get, count and len of indexes and spaces, and a transaction's own reads.
--
-- Reads take the transaction handle to read in: the running coroutine's (current_tx) from
-- the index methods, a given one from the transaction's read methods (tx:get, ...). The index
-- methods put the key into the field buffer before they look the transaction up: inside a
-- transaction that lookup ends the trace (coroutine.running is not compiled).

local B = require('jitbox.base')
local T = require('jitbox.tuple')
local I = require('jitbox.iterator')
local X = require('jitbox.txn')
local primary = require('jitbox.catalog').primary
local C, illegal, raise = B.C, B.illegal, B.raise
local space_methods, index_methods, space_mt, index_mt = B.space_methods, B.index_methods, B.space_mt, B.index_mt
local out_len, out_u64 = B.out_len, B.out_u64
local fill, copy_tuple = T.fill, T.copy_tuple
local current_tx, tx_methods = X.current_tx, X.tx_methods
local iter_type, select_in, pairs_in = I.iter_type, I.select_in, I.pairs_in

local function get_filled(index, tx, buf, n)
    local db = index._db
    local rc = C.jb_index_get_data(index._i, tx, buf, n, db._buf, db._cap, out_len)
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    if len == 0 then return end -- no value at all, as Tarantool's get
    return copy_tuple(db._buf, len, index._fmt)
end

local function get_in(index, tx, key)
    local buf, n = fill(key)
    return get_filled(index, tx, buf, n)
end

function index_methods:get(key)
    local buf, n = fill(key)
    key = nil
    return get_filled(self, current_tx(self._db), buf, n)
end

local function count_filled(index, tx, it, buf, n)
    local rc = C.jb_index_count(index._i, tx, it, buf, n, out_u64)
    if rc ~= 0 then raise(rc) end
    return tonumber(out_u64[0])
end

local function count_in(index, tx, key, opts)
    local it = iter_type(opts, 'count')
    local buf, n = fill(key)
    return count_filled(index, tx, it, buf, n)
end

-- (The key is filled in before the transaction lookup, as in index:get.)
function index_methods:count(key, opts)
    local it = iter_type(opts, 'count')
    local buf, n = fill(key)
    key, opts = nil, nil
    return count_filled(self, current_tx(self._db), it, buf, n)
end

-- The entries of the index: its tuples, or for a functional, multikey or exclude_null index
-- its keys (as Tarantool's index:len()).
function index_methods:len()
    if self._fe or self._own_len then return self:count() end
    return self.space:len()
end

-- The number of tuples the caller sees: the latest committed state, or inside a transaction
-- its snapshot with its own writes (versions not yet collected never count).
function space_methods:len()
    local tx = current_tx(self._db)
    if tx ~= nil then return primary(self):count() end
    local rc = C.jb_space_len(self._s, out_u64)
    if rc ~= 0 then raise(rc) end
    return tonumber(out_u64[0])
end

function space_methods:get(key) return primary(self):get(key) end
function space_methods:select(key, opts) return primary(self):select(key, opts) end
function space_methods:pairs(key, opts) return primary(self):pairs(key, opts) end
function space_methods:count(key, opts) return primary(self):count(key, opts) end

-- Reads through the transaction itself: tx:get(index or space, key), tx:select(...),
-- tx:pairs(...), tx:count(...) read as the index methods do inside tx — its snapshot and
-- its own writes — without finding the running coroutine's transaction first. That lookup
-- needs coroutine.running, which LuaJIT does not compile (a hot loop is stitched there);
-- these do not, so a compiled loop of reads costs what it does outside a transaction.
-- They work from any coroutine: reading through a handle is the caller's explicit choice.
local function read_target(x)
    if getmetatable(x) == index_mt then return x end
    if getmetatable(x) == space_mt then return primary(x) end
    illegal(('a transaction reads an index or a space, not %s'):format(type(x)))
end

local function reading(tx, what)
    local h = tx.h
    if h == nil then illegal(('%s: the transaction has already ended'):format(what)) end
    return h
end
function tx_methods:get(x, key) return get_in(read_target(x), reading(self, 'get'), key) end
function tx_methods:select(x, key, opts) return select_in(read_target(x), reading(self, 'select'), key, opts) end
function tx_methods:pairs(x, key, opts) return pairs_in(read_target(x), reading(self, 'pairs'), key, opts) end
function tx_methods:count(x, key, opts) return count_in(read_target(x), reading(self, 'count'), key, opts) end

-- index:min(key), index:max(key): the first and the last tuple with the (partial) key, or of
-- the whole index without one; nil when there is none.
local MIN, MAX = { iterator = 'EQ', limit = 1 }, { iterator = 'REQ', limit = 1 }
local function ordered(index, what)
    if index.type == 'HASH' then
        illegal(("HASH index '%s' of space '%s' does not support %s(); a TREE index does"):format(
            index.name, index.space.name, what))
    end
end
function index_methods:min(key) ordered(self, 'min') return select_in(self, current_tx(self._db), key, MIN)[1] end
function index_methods:max(key) ordered(self, 'max') return select_in(self, current_tx(self._db), key, MAX)[1] end

-- index:random(seed): a tuple the caller sees, picked by seed (a whole number from 0; the
-- same seed picks the same tuple while the index is unchanged), or nil when it sees none.
-- Every tuple can be picked, not all equally often, as Tarantool's.
local floor = math.floor
function index_methods:random(seed)
    if type(seed) ~= 'number' or seed < 0 or seed ~= floor(seed) or seed >= 2^64 then
        illegal(('index:random(seed): seed must be a whole number from 0, not %s'):format(tostring(seed)))
    end
    local db = self._db
    local rc = C.jb_index_random(self._i, current_tx(db), seed, db._buf, db._cap, out_len)
    if rc ~= 0 then raise(rc) end
    local len = out_len[0]
    if len == 0 then return nil end
    return copy_tuple(db._buf, len, self._fmt)
end

