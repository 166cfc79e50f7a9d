-- jitbox.schema: spaces and indexes — creating, finding, dropping.
--
-- db.space and space.index are lists filled on first use: a name the engine does not know
-- reads as nil. DDL functions are SAFE entries and run with the JIT off.

local ffi = require('ffi')
local B = require('jitbox.base')
local keys = require('jitbox.keys')
local C, illegal, raise, live, options = B.C, B.illegal, B.raise, B.live, B.options
local db_mt, space_methods, index_methods = B.db_mt, B.space_methods, B.index_methods
local space_mt, index_mt, type_codes = B.space_mt, B.index_mt, B.type_codes
local out_len, out_ptr = B.out_len, B.out_ptr
local floor = math.floor

local S = {}

local function new_index(space, handle, name)
    return setmetatable({ space = space, name = name, _i = handle, _db = space._db }, index_mt)
end

-- The index of a space by name or number (0: the primary index), or nil.
local function find_index(space, key)
    local rc
    if type(key) == 'number' then
        rc = C.jb_space_index_at(space._s, key, ffi.cast('jb_index**', out_ptr))
    else
        rc = C.jb_index_find(space._s, key, #key, ffi.cast('jb_index**', out_ptr))
    end
    if rc == C.JB_E_NO_SUCH_INDEX then return nil end
    if rc ~= 0 then raise(rc) end
    local handle = ffi.cast('jb_index*', out_ptr[0])
    local name = key
    if type(key) ~= 'string' then
        local p = ffi.new('const char*[1]')
        rc = C.jb_index_name(handle, p, out_len)
        if rc ~= 0 then raise(rc) end
        name = ffi.string(p[0], out_len[0])
    end
    return new_index(space, handle, name)
end

local index_list_mt = {
    __index = function(list, key)
        local idx = find_index(rawget(list, '_space'), key)
        if idx and type(key) == 'string' then rawset(list, key, idx) end
        return idx
    end,
}

local function new_space(db, handle, name)
    local s = setmetatable({ name = name, _s = handle, _db = db }, space_mt)
    s.index = setmetatable({ _space = s }, index_list_mt)
    return s
end

local space_list_mt = {
    __index = function(list, name)
        local db = rawget(list, '_db')
        local rc = C.jb_space_find(live(db), name, #name, ffi.cast('jb_space**', out_ptr))
        if rc == C.JB_E_NO_SUCH_SPACE then return nil end
        if rc ~= 0 then raise(rc) end
        local s = new_space(db, ffi.cast('jb_space*', out_ptr[0]), name)
        rawset(list, name, s)
        return s
    end,
}

-- db.space of a new engine object.
function S.space_list(db) return setmetatable({ _db = db }, space_list_mt) end

-- The primary index of a space (NO_SUCH_INDEX, blaming the caller's caller, without one).
function S.primary(space)
    local pk = rawget(space, '_pk')
    if pk == nil then
        pk = find_index(space, 0)
        if pk == nil then
            B.throw(B.new_error('NO_SUCH_INDEX', C.JB_E_NO_SUCH_INDEX,
                ("space '%s' has no primary index; create one with create_index"):format(space.name)), 3)
        end
        rawset(space, '_pk', pk)
    end
    return pk
end

-- db:create_space(name, {format = {{'id', 'unsigned'}, {name = 'n', type = 'string', is_nullable = true}}})
local SPACE_OPTIONS = { format = true }
local INDEX_OPTIONS = { parts = true, unique = true, type = true, func = true, multikey = true }

function db_mt:create_space(name, opts)
    if type(name) ~= 'string' then illegal('create_space: name must be a string') end
    opts = options(opts, SPACE_OPTIONS, 'create_space ' .. name)
    local format = opts.format or {}
    local n = #format
    local ff = ffi.new('jb_format_field[?]', math.max(n, 1))
    local keep = {}
    for i, f in ipairs(format) do
        if type(f) ~= 'table' then illegal(('create_space %s: format field %d must be a table'):format(name, i)) end
        local fname = f.name or f[1]
        local ftype = f.type or f[2] or 'any'
        if type(fname) ~= 'string' then illegal(('create_space %s: format field %d needs a name'):format(name, i)) end
        local code = type_codes[ftype]
        if not code then illegal(("create_space %s: format field %d ('%s') has unknown type '%s'"):format(name, i, fname, tostring(ftype))) end
        keep[i] = fname
        ff[i - 1].name = fname
        ff[i - 1].name_len = #fname
        ff[i - 1].type = code
        ff[i - 1].is_nullable = f.is_nullable and 1 or 0
    end
    local out = ffi.new('jb_space*[1]')
    local rc = C.jb_space_create(live(self), name, #name, ff, n, out)
    if rc ~= 0 then raise(rc) end
    local s = new_space(self, out[0], name)
    s._format = format
    rawset(self.space, name, s)
    return s
end

-- Index parts: {{1, 'unsigned'}}, {{field = 2, type = 'string'}}, {'name'}, {2}, or as
-- Tarantool also reads them, {2, 'string'} (one part) and {1, 'unsigned', 2, 'string'}: a list
-- that starts with a field number followed by nothing or a string is field-type pairs.
local function parse_parts(space, name, parts)
    if type(parts) ~= 'table' or #parts == 0 then
        illegal(("create_index %s: parts must be a non-empty list"):format(name))
    end
    if type(parts[1]) == 'number' and (parts[2] == nil or type(parts[2]) == 'string') then
        local pairs_of = {}
        for i = 1, #parts, 2 do pairs_of[#pairs_of + 1] = { parts[i], parts[i + 1] } end
        parts = pairs_of
    end
    local format = space._format or {}
    local res = ffi.new('jb_key_part[?]', #parts)
    for i, p in ipairs(parts) do
        local field, ptype
        if type(p) == 'table' then
            field, ptype = p.field or p[1], p.type or p[2]
        else
            field = p
        end
        if type(field) == 'string' then
            local found
            for j, f in ipairs(format) do
                if (f.name or f[1]) == field then found = j end
            end
            if not found then illegal(("create_index %s: part %d names unknown field '%s'"):format(name, i, field)) end
            field = found
        end
        if type(field) ~= 'number' or field < 1 or field ~= floor(field) then
            illegal(("create_index %s: part %d needs a field number from 1"):format(name, i))
        end
        if ptype == nil then
            local f = format[field]
            ptype = f and (f.type or f[2]) or 'unsigned'
        end
        local code = type_codes[ptype]
        if not code or code == C.JB_FT_ANY then
            illegal(("create_index %s: part %d has type '%s', which cannot be indexed"):format(name, i, tostring(ptype)))
        end
        res[i - 1].fieldno = field - 1
        res[i - 1].type = code
    end
    return res, #parts
end

function space_methods:create_index(name, opts)
    if type(name) ~= 'string' then illegal('create_index: name must be a string') end
    opts = options(opts, INDEX_OPTIONS, 'create_index ' .. name)
    if opts.type ~= nil and opts.type ~= 'TREE' and opts.type ~= 'tree' then
        illegal(("create_index %s: only TREE indexes exist, not '%s'"):format(name, tostring(opts.type)))
    end
    local func = opts.func
    if func ~= nil and type(func) ~= 'function' then
        illegal(("create_index %s: func must be a function that returns the tuple's key"):format(name))
    end
    if opts.multikey and not func then
        illegal(("create_index %s: multikey needs func"):format(name))
    end
    local parts, n = parse_parts(func and {} or self, name, opts.parts or { { 1, 'unsigned' } })
    local def = ffi.new('jb_index_def')
    def.parts = parts
    def.part_count = n
    def.unique = (opts.unique == nil or opts.unique) and 1 or 0
    local out = ffi.new('jb_index*[1]')
    live(self._db)
    local rc, fe
    if func then
        for k = 0, n - 1 do
            if parts[k].fieldno ~= k then
                illegal(("create_index %s: part %d of a functional index is key part %d, not field %d"):format(
                    name, k + 1, k + 1, parts[k].fieldno + 1))
            end
        end
        local fdef
        fdef, fe = keys.register(func, name, n, opts.multikey)
        rc = C.jb_index_create_func(self._s, name, #name, def, fdef, out)
        if rc ~= 0 then keys.unregister(fe) end
    else
        rc = C.jb_index_create(self._s, name, #name, def, out)
    end
    if rc ~= 0 then raise(rc) end
    local idx = new_index(self, out[0], name)
    if fe then
        self._db._keyfns[fe] = true
        idx._fe = fe
        local funcs = rawget(self, '_funcs') or {}
        funcs[#funcs + 1] = fe
        rawset(self, '_funcs', funcs)
        local id = ffi.new('uint64_t[1]')
        rc = C.jb_space_id(self._s, id)
        if rc ~= 0 then raise(rc) end
        self._db._func_spaces[tonumber(id[0])] = self
    end
    rawset(self.index, name, idx)
    return idx
end

function space_methods:drop()
    live(self._db)
    local rc = C.jb_space_drop(self._s)
    if rc ~= 0 then raise(rc) end
    rawset(self._db.space, self.name, nil)
end

function index_methods:drop()
    live(self._db)
    local rc = C.jb_index_drop(self._i)
    if rc ~= 0 then raise(rc) end
    local space, fe = self.space, self._fe
    if fe then
        keys.unregister(fe)
        self._db._keyfns[fe] = nil
        local funcs = {}
        for _, g in ipairs(space._funcs) do
            if g ~= fe then funcs[#funcs + 1] = g end
        end
        rawset(space, '_funcs', #funcs > 0 and funcs or nil)
    end
    rawset(space.index, self.name, nil)
    rawset(space, '_pk', nil)
end

for _, f in ipairs({ db_mt.create_space, space_methods.create_index, space_methods.drop, index_methods.drop }) do
    jit.off(f)
end

return S
