-- jitbox.iterator: index:pairs() and index:select(), and the options every read takes.
--
-- Iterators fetch tuples in batches: one FFI call copies up to BATCH tuples into the
-- iterator's own buffer, and each step makes a tuple from its slice. A write anywhere in the
-- engine (the change counter moves) drops the rest of the batch: the iterator is rewound to
-- the last tuple handed out and continues from the engine, so a loop sees its own changes.
-- Batch buffers are pooled per engine; a tuple too big for one goes the single-step way.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local T = require('jitbox.tuple')
local current_tx = require('jitbox.txn').current_tx
local C, illegal, raise, index_methods = B.C, B.illegal, B.raise, B.index_methods
local enum = B.enum
local out_len, out_u32, out_ptr = B.out_len, B.out_u32, B.out_ptr
local fill, make_tuple, copy_tuple, field_value = T.fill, T.make_tuple, T.copy_tuple, T.field_value
local floor = math.floor

local I = {}

local iter_codes = {
    EQ = enum.JB_ITER_EQ, REQ = enum.JB_ITER_REQ, ALL = enum.JB_ITER_ALL, LT = enum.JB_ITER_LT,
    LE = enum.JB_ITER_LE, GE = enum.JB_ITER_GE, GT = enum.JB_ITER_GT,
}

-- Options a read takes; any other is an error naming it. Options are a table, or (as in
-- Tarantool) the iterator itself: a name or its number.
local READ_OPTIONS = { select = { iterator = true, limit = true, offset = true },
    pairs = { iterator = true, fields = true }, count = { iterator = true } }

local function unknown_option(opts, what)
    local allowed = READ_OPTIONS[what]
    for k in pairs(opts) do
        if not allowed[k] then
            illegal(("%s: unknown option '%s'; %s takes %s"):format(what, tostring(k), what,
                what == 'select' and 'iterator, limit and offset'
                    or what == 'pairs' and 'iterator and fields' or 'iterator'))
        end
    end
end

local check_options = unknown_option
-- Without a compiled next() (base.lua): the options are all known when as many known ones
-- are set as opts has keys.
if B.nkeys then
    local nkeys = B.nkeys
    check_options = function(opts, what)
        local set = (opts.iterator ~= nil and 1 or 0) + (opts.fields ~= nil and 1 or 0)
            + (opts.limit ~= nil and 1 or 0) + (opts.offset ~= nil and 1 or 0)
        if set ~= nkeys(opts) then return unknown_option(opts, what) end
        local allowed = READ_OPTIONS[what]
        if (opts.fields ~= nil and not allowed.fields) or (opts.limit ~= nil and not allowed.limit)
            or (opts.offset ~= nil and not allowed.offset) then
            return unknown_option(opts, what)
        end
    end
end

-- The iterator code of a read's options (see READ_OPTIONS).
local function iter_type(opts, what)
    local it = opts
    if type(opts) == 'table' then
        check_options(opts, what)
        it = opts.iterator
    end
    if it == nil then return enum.JB_ITER_EQ end
    if type(it) == 'string' then
        local code = iter_codes[it:upper()]
        if code then return code end
    elseif type(it) == 'number' and it >= 0 and it <= 6 and it == floor(it) then
        return it
    end
    illegal(("%s: unknown iterator '%s'; use EQ, REQ, ALL, LT, LE, GE or GT (or 0..6)")
        :format(what, tostring(it)))
end
I.iter_type = iter_type

-- A select's limit or offset: a whole number from 0.
local function count_option(opts, name, default)
    local v = type(opts) == 'table' and opts[name]
    if v == nil or v == false then return default end
    if type(v) ~= 'number' or v < 0 or v ~= floor(v) then
        illegal(("select: %s must be a whole number from 0, not %s"):format(name, tostring(v)))
    end
    return v
end

local function iter_finalizer(it) C.jb_iter_free(it) end

local BATCH, BATCH_BYTES = 64, 16384
ffi.cdef(([[
struct jb_lua_batch { uint32_t ends[%d]; uint8_t buf[%d]; };
]]):format(BATCH, BATCH_BYTES + T.SLACK)) -- slack: see T.copy_tuple
local batch_t = ffi.typeof('struct jb_lua_batch')
local changes_out = ffi.new('const uint64_t*[1]')
local E_BUFFER_TOO_SMALL = enum.JB_E_BUFFER_TOO_SMALL

local function iter_finish(state)
    if not state.done then
        state.done = true
        state.n = 0
        C.jb_iter_free(ffi.gc(state.it, nil))
        local pool = state.db._batches
        pool[#pool + 1] = state.batch
    end
    return nil
end

-- Before a refill: when the data changed under a partly used batch, the engine iterator
-- goes back to the last row handed out.
local function rewind_partial(state)
    local i = state.i
    if i < state.n then
        local rc = C.jb_iter_rewind(state.it, i)
        if rc ~= 0 then raise(rc) end
    end
end

-- After a batch call that answered JB_E_BUFFER_TOO_SMALL: the one row larger than the batch
-- buffer, through the engine buffer; returns its bytes and length.
local function one_big_row(state)
    local db = state.db
    local rc = C.jb_iter_next_data(state.it, db._buf, db._cap, out_len)
    if rc ~= 0 then raise(rc) end
    state.i, state.n = 0, 0
    return db._buf, out_len[0]
end

-- The rest of a refill once the batch call answered `rc` (not BUFFER_TOO_SMALL): whether
-- rows came (the first is then handed out), else the iterator is finished.
local function took(state, rc)
    if rc ~= 0 then raise(rc) end
    local n = out_u32[0]
    if n == 0 then iter_finish(state); return false end
    state.i, state.n = 1, n
    return true
end

-- Refills the batch (rewinding first) and returns the first row's bytes and length, or nil
-- at the end.
local function refill(state)
    if state.done then return nil end
    rewind_partial(state)
    local b = state.batch
    local rc = C.jb_iter_next_data_batch(state.it, b.buf, BATCH_BYTES, b.ends, BATCH, out_u32)
    state.seen = tonumber(state.changes[0])
    if rc == E_BUFFER_TOO_SMALL then return one_big_row(state) end
    if not took(state, rc) then return nil end
    return b.buf, b.ends[0]
end

local function iter_fill(state)
    local p, len = refill(state)
    if p == nil then return nil end
    return state, copy_tuple(p, len, state.fmt)
end

-- The iterator's step: a tuple from the batch while nothing changed, else a refill.
local function iter_next(state)
    local i = state.i
    if i < state.n and tonumber(state.changes[0]) == state.seen then
        state.i = i + 1
        local b = state.batch
        local from = b.ends[i - 1]
        return state, copy_tuple(b.buf + from, b.ends[i] - from, state.fmt)
    end
    return iter_fill(state)
end

------------------------------------------------------------------------------------------
-- Projections: pairs(key, {fields = {1, 3}}) yields the fields' values, not tuples — no
-- object per row. The engine decodes the fields of a batch into jb_field slots (strings
-- copied into the batch buffer); a step turns one row's slots into values.

local jb_fields_t = ffi.typeof('jb_field[?]')

-- Refills a projection's batch (rewinding first, as `refill`); returns false at the end. A
-- row whose strings do not fit in the batch buffer comes alone as tuple data (`state.big`).
local function refill_fields(state)
    if state.done then return false end
    rewind_partial(state)
    state.big = nil
    local rc = C.jb_iter_next_fields_batch(state.it, state.fieldnos, state.nfields, state.out,
        BATCH, state.batch.buf, BATCH_BYTES, out_u32)
    state.seen = tonumber(state.changes[0])
    if rc == E_BUFFER_TOO_SMALL then
        local p, len = one_big_row(state)
        state.big = make_tuple(p, len, state.fmt)
        return true
    end
    return took(state, rc)
end

-- The values of row i (0-based) of the batch, after `state`.
local function project(state, i)
    local big = state.big
    if big then
        local vals, fs = state.vals, state.fields
        for k = 1, state.nfields do vals[k] = big[fs[k]] end
        return state, unpack(vals, 1, state.nfields)
    end
    local out, n = state.out, state.nfields
    if n == 1 then return state, field_value(out[i]) end
    local at = i * n
    if n == 2 then return state, field_value(out[at]), field_value(out[at + 1]) end
    if n == 3 then
        return state, field_value(out[at]), field_value(out[at + 1]), field_value(out[at + 2])
    end
    local vals = state.vals
    for k = 1, n do vals[k] = field_value(out[at + k - 1]) end
    return state, unpack(vals, 1, n)
end

local function project_next(state)
    local i = state.i
    if i < state.n and tonumber(state.changes[0]) == state.seen then
        state.i = i + 1
        return project(state, i)
    end
    if not refill_fields(state) then return nil end
    return project(state, 0)
end

-- The field numbers of a `fields` option: numbers from 1, or names in the space's format.
local function field_numbers(index, list)
    if type(list) ~= 'table' or #list == 0 or getmetatable(list) ~= nil then
        illegal(('pairs: fields must be a non-empty array of field numbers or names, not %s')
            :format(tostring(list)))
    end
    local out = {}
    for k, f in pairs(list) do
        if type(k) ~= 'number' or k < 1 or k > #list or k ~= floor(k) then
            illegal(('pairs: fields must be an array; it has the key %s'):format(tostring(k)))
        end
        if type(f) == 'string' then
            local no = T.format_field(index._fmt, f)
            if not no then
                illegal(("pairs: fields names '%s', which the format of space '%s' does not have")
                    :format(f, index.space and index.space.name or '?'))
            end
            out[k] = no
        elseif type(f) == 'number' and f >= 1 and f <= 4294967295 and f == floor(f) then
            out[k] = f
        else
            illegal(('pairs: fields[%d] must be a field number (a whole number from 1) or a name, not %s')
                :format(k, tostring(f)))
        end
    end
    return out
end

local function open_iter(index, key, opts, tx, what)
    local it = iter_type(opts, what or 'pairs')
    local buf, n = fill(key)
    local rc = C.jb_index_iter(index._i, tx, it, buf, n, ffi.cast('jb_iter**', out_ptr))
    if rc ~= 0 then raise(rc) end
    local it = ffi.gc(ffi.cast('jb_iter*', out_ptr[0]), iter_finalizer)
    rc = C.jb_iter_changes(it, changes_out)
    if rc ~= 0 then raise(rc) end
    local db = index._db
    local pool = db._batches
    local batch = pool[#pool]
    if batch then pool[#pool] = nil else batch = batch_t() end
    return { it = it, db = db, done = false, batch = batch, i = 0, n = 0,
        changes = changes_out[0], seen = 0, fmt = index._fmt }
end

-- Reads take the transaction handle to read in: the running coroutine's (current_tx) from
-- the index methods, a given one from the transaction's own read methods (jitbox/read.lua).

-- for _, t in index:pairs(key, {iterator = 'GE'}) do ... end
-- for _, a, b in index:pairs(key, {fields = {1, 3}}) do ... end
function I.pairs_in(index, tx, key, opts)
    local fields = nil
    if type(opts) == 'table' then fields = opts.fields end
    if fields ~= nil then -- false included: an error, not "no projection"
        fields = field_numbers(index, fields)
        local n = #fields
        local state = open_iter(index, key, opts, tx)
        state.fields, state.nfields, state.vals = fields, n, {}
        state.fieldnos = ffi.new('uint32_t[?]', n)
        for k = 1, n do state.fieldnos[k - 1] = fields[k] - 1 end
        state.out = jb_fields_t(BATCH * n)
        return project_next, state, nil
    end
    return iter_next, open_iter(index, key, opts, tx), nil
end
local pairs_in = I.pairs_in

function index_methods:pairs(key, opts) return pairs_in(self, current_tx(self._db), key, opts) end

function I.select_in(index, tx, key, opts)
    local limit = count_option(opts, 'limit', 4294967295)
    local offset = count_option(opts, 'offset', 0)
    local res, n = {}, 0
    local it = iter_type(opts, 'select') -- validated even when nothing is read
    if limit == 0 then return res end
    local state = open_iter(index, key, it, tx, 'select')
    while true do
        local _, t = iter_next(state)
        if t == nil then break end
        if offset > 0 then
            offset = offset - 1
        else
            n = n + 1
            res[n] = t
            if n >= limit then break end
        end
    end
    iter_finish(state)
    return res
end
local select_in = I.select_in

function index_methods:select(key, opts) return select_in(self, current_tx(self._db), key, opts) end

return I
