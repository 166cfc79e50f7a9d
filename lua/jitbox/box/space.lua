-- jitbox.box.space: box.space objects for the jitbox.box facade. Each wraps a jitbox space
-- or index, calls it, and turns a jitbox error into a box error with Tarantool's code;
-- tuples are jitbox's own. What Tarantool has and jitbox does not is an error that says so.
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local E = require('jitbox.box.error')

local P = {}

local function pass(ok, ...)
    if ok then return ... end
    E.raise((...), 3)
end

local function unsupported(what)
    error(E.new(E.CODES.UNSUPPORTED, 'not supported by jitbox: ' .. what), 3)
end
P.unsupported = unsupported

local space_methods, index_methods = {}, {}
local space_mt = { __index = space_methods }
local index_mt = { __index = index_methods }

-- Calls method `name` of the wrapped object with the arguments.
local function forward(methods, name)
    methods[name] = function(self, ...)
        local n = self._n
        return pass(pcall(n[name], n, ...))
    end
end

for _, name in ipairs({ 'insert', 'replace', 'update', 'upsert', 'delete', 'get', 'select',
    'count', 'len', 'bsize', 'truncate', 'format' }) do
    forward(space_methods, name)
end
space_methods.put = space_methods.replace

for _, name in ipairs({ 'get', 'select', 'count', 'len', 'min', 'max', 'update', 'delete',
    'bsize', 'random' }) do
    forward(index_methods, name)
end

-- pairs: errors during the loop are box errors too.
local function wrap_pairs(self, key, opts)
    local n = self._n
    local f, s, c = pass(pcall(n.pairs, n, key, opts))
    return function(st, ctl) return pass(pcall(f, st, ctl)) end, s, c
end
space_methods.pairs, index_methods.pairs = wrap_pairs, wrap_pairs

local index_object
-- Refreshes the facade's s.index from the jitbox space's (positions and names).
local function refresh_indexes(sp)
    local list = sp.index
    for k in pairs(list) do list[k] = nil end
    for k, idx in pairs(sp._n.index) do list[k] = index_object(sp, idx) end
end

function index_object(sp, idx)
    local objs = sp._indexes
    local o = objs[idx]
    if o == nil then
        o = setmetatable({ _n = idx, _space = sp }, index_mt)
        objs[idx] = o
    end
    o.name, o.id, o.type, o.unique, o.parts, o.space_id = idx.name, idx.id, idx.type, idx.unique,
        idx.parts, idx.space_id
    return o
end

local spaces = setmetatable({}, { __mode = 'k' }) -- jitbox space -> facade space

-- The facade object of a jitbox space.
function P.space(native)
    local sp = spaces[native]
    if sp == nil then
        sp = setmetatable({ _n = native, _indexes = {}, index = {}, engine = 'memtx',
            enabled = true, temporary = false, is_local = false }, space_mt)
        spaces[native] = sp
    end
    sp.name, sp.id, sp.field_count = native.name, native.id, native.field_count
    refresh_indexes(sp)
    return sp
end

local INDEX_OPTIONS = { parts = true, unique = true, type = true, if_not_exists = true, sequence = true }

function space_methods:create_index(name, opts)
    if opts ~= nil and type(opts) == 'table' then
        for k, v in pairs(opts) do
            if k == 'type' and type(v) == 'string' and v:upper() ~= 'TREE' and v:upper() ~= 'HASH' then
                unsupported(("index type '%s' (jitbox has TREE and HASH indexes)"):format(v))
            elseif not INDEX_OPTIONS[k] then
                unsupported(("index option '%s'"):format(tostring(k)))
            end
        end
    end
    local n = self._n
    local idx, msg = pass(pcall(n.create_index, n, name, opts))
    refresh_indexes(self)
    return self.index[idx.name], msg
end

function space_methods:drop()
    local n = self._n
    pass(pcall(n.drop, n))
    P.on_schema_change()
end

function space_methods:rename(name)
    local n = self._n
    pass(pcall(n.rename, n, name))
    self.name = n.name
    P.on_schema_change()
end

-- s:auto_increment(t): inserts {max primary key + 1, unpack(t)}, as Tarantool does.
function space_methods:auto_increment(t)
    local n = self._n
    local last = pass(pcall(function() return n.index[0]:max() end))
    local row = { last and last[1] + 1 or 1 }
    for i = 1, #t do row[i + 1] = t[i] end
    return pass(pcall(n.insert, n, row))
end

forward(space_methods, 'on_replace')
forward(space_methods, 'before_replace')

function index_methods:rename(name)
    local n = self._n
    pass(pcall(n.rename, n, name))
    refresh_indexes(self._space)
end

function index_methods:drop()
    local n = self._n
    pass(pcall(n.drop, n))
    refresh_indexes(self._space)
end


-- Set by jitbox.box: refills box.space after DDL.
P.on_schema_change = function() end

return P
