-- jitbox.schema: DDL — creating, dropping, renaming and truncating spaces and indexes, and
-- reading formats. DDL functions are SAFE entries and run with the JIT off. The objects and
-- their lists: jitbox/catalog.lua.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local keys = require('jitbox.keys')
local K = require('jitbox.catalog')
local T = require('jitbox.tuple')
local C, illegal, raise, live, options = B.C, B.illegal, B.raise, B.live, B.options
local enum = B.enum
local db_mt, space_methods, index_methods = B.db_mt, B.space_methods, B.index_methods
local type_codes = B.type_codes
local floor = math.floor

-- db:create_space(name, {format = {{'id', 'unsigned'}, {name = 'n', type = 'string', is_nullable = true}}})
-- With if_not_exists = true an existing space is returned (and 'not created', as Tarantool
-- returns it), whatever its format.
local SPACE_OPTIONS = { format = true, if_not_exists = true }
local INDEX_OPTIONS = { parts = true, unique = true, type = true, func = true, multikey = true,
    if_not_exists = true, sequence = true }

-- A format for the engine: {name, type} or {name =, type =, is_nullable =} fields. Returns
-- the fields, their count and the name strings they point to (keep them through the call).
local FORMAT_KEYS = { [1] = true, [2] = true, name = true, type = true, is_nullable = true }
local function build_format(format, what)
    if type(format) ~= 'table' then illegal(('%s: a format is a list of fields'):format(what)) end
    local n = #format
    local ff = ffi.new('jb_format_field[?]', math.max(n, 1))
    local keep = {}
    for i, f in ipairs(format) do
        if type(f) ~= 'table' then illegal(('%s: format field %d must be a table'):format(what, i)) end
        for k in pairs(f) do
            if not FORMAT_KEYS[k] then
                illegal(("%s: format field %d has option '%s', which jitbox does not have (it has name, type, is_nullable)")
                    :format(what, i, tostring(k)))
            end
        end
        local fname = f.name or f[1]
        local ftype = f.type or f[2] or 'any'
        if type(fname) ~= 'string' then illegal(('%s: format field %d needs a name'):format(what, i)) end
        if T.RESERVED[fname] then
            illegal(("%s: format field %d is named '%s', a name jitbox's tuples use themselves; rename the field")
                :format(what, i, fname))
        end
        local code = type_codes[ftype]
        if not code then illegal(("%s: format field %d ('%s') has unknown type '%s'"):format(what, i, fname, tostring(ftype))) end
        if f.is_nullable ~= nil and type(f.is_nullable) ~= 'boolean' then
            illegal(("%s: format field %d ('%s'): is_nullable must be true or false"):format(what, i, fname))
        end
        keep[i] = fname
        ff[i - 1].name = fname
        ff[i - 1].name_len = #fname
        ff[i - 1].type = code
        ff[i - 1].is_nullable = f.is_nullable and 1 or 0
    end
    return ff, n, keep
end

function db_mt:create_space(name, opts)
    if type(name) ~= 'string' then illegal('create_space: name must be a string') end
    opts = options(opts, SPACE_OPTIONS, 'create_space ' .. name)
    if opts.if_not_exists then
        local s = self.space[name]
        if s then return s, 'not created' end
    end
    if K.HIDDEN[name] and not K.creating_hidden then
        illegal(("create_space %s: the name is jitbox's own (it keeps sequences there)"):format(name))
    end
    local ff, n, keep = build_format(opts.format or {}, 'create_space ' .. name)
    local out = ffi.new('jb_space*[1]')
    local rc = C.jb_space_create(live(self), name, #name, ff, n, out)
    keep[0] = rc -- a use after the call: the names stay alive through it
    if rc ~= 0 then raise(rc) end
    K.refresh_spaces(self)
    return K.space_object(self, out[0])
end

-- Index parts: {{1, 'unsigned'}}, {{field = 2, type = 'string'}}, {'name'}, {2}, or as
-- Tarantool also reads them, {2, 'string'} (one part) and {1, 'unsigned', 2, 'string'}: a list
-- that starts with a field number followed by nothing or a string is field-type pairs.
-- A JSON path goes after a field's name ('address.city', 'tags[*]') or in path = '.city'.
local PART_KEYS = { [1] = true, [2] = true, field = true, type = true, is_nullable = true, collation = true,
    path = true, exclude_null = true }
local COLLATIONS = { binary = enum.JB_COLL_BINARY, none = enum.JB_COLL_BINARY, unicode = enum.JB_COLL_UNICODE,
    unicode_ci = enum.JB_COLL_UNICODE_CI }
local function field_by_name(format, name)
    for j, f in ipairs(format) do
        if (f.name or f[1]) == name then return j end
    end
end

-- Returns the parts, their count, and the path strings they point to (keep them alive
-- until the engine has copied them).
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
    local paths = {} -- keeps the path strings res points to
    for i, p in ipairs(parts) do
        local field, ptype, nullable, collation, path, exclude
        if type(p) == 'table' then
            for k in pairs(p) do
                if not PART_KEYS[k] then
                    illegal(("create_index %s: part %d has option '%s', which jitbox does not have (it has field, type, is_nullable, collation, path, exclude_null)")
                        :format(name, i, tostring(k)))
                end
            end
            field, ptype, nullable, path = p.field or p[1], p.type or p[2], p.is_nullable, p.path
            exclude = p.exclude_null
            if exclude ~= nil and type(exclude) ~= 'boolean' then
                illegal(("create_index %s: part %d: exclude_null must be true or false"):format(name, i))
            end
            if path ~= nil and type(path) ~= 'string' then
                illegal(("create_index %s: part %d: path must be a string such as '.city' or '[*]'"):format(name, i))
            end
            if p.collation ~= nil then
                collation = type(p.collation) == 'string' and COLLATIONS[p.collation:lower()]
                if not collation then
                    illegal(("create_index %s: part %d: collation '%s' is not one jitbox has (unicode, unicode_ci, binary)")
                        :format(name, i, tostring(p.collation)))
                end
            end
            if nullable ~= nil and type(nullable) ~= 'boolean' then
                illegal(("create_index %s: part %d: is_nullable must be true or false"):format(name, i))
            end
        else
            field = p
        end
        if type(field) == 'string' then
            local found = field_by_name(format, field)
            if not found then
                -- A name followed by a path: 'address.city', 'tags[*]'.
                local at = field:find('[%.%[]')
                found = at and field_by_name(format, field:sub(1, at - 1))
                if found then
                    if path ~= nil then
                        illegal(("create_index %s: part %d has a path in its field name and in path"):format(name, i))
                    end
                    path = field:sub(at)
                end
            end
            if not found then illegal(("create_index %s: part %d names unknown field '%s'"):format(name, i, field)) end
            field = found
        end
        if type(field) ~= 'number' or field < 1 or field ~= floor(field) then
            illegal(("create_index %s: part %d needs a field number from 1"):format(name, i))
        end
        local f = format[field]
        if path == '' then path = nil end
        if ptype == nil then
            ptype = (f and not path) and (f.type or f[2]) or 'unsigned'
        end
        -- As in Tarantool, a part of a nullable field is nullable unless it says otherwise.
        if nullable == nil then nullable = not path and f ~= nil and f.is_nullable == true end
        local code = type_codes[ptype]
        if not code or code == enum.JB_FT_ANY or code == enum.JB_FT_SCALAR or code == enum.JB_FT_ARRAY
            or code == enum.JB_FT_MAP then
            illegal(("create_index %s: part %d has type '%s', which cannot be indexed"):format(name, i, tostring(ptype)))
        end
        res[i - 1].fieldno = field - 1
        res[i - 1].type = code
        res[i - 1].is_nullable = nullable and 1 or 0
        res[i - 1].collation = collation or 0
        res[i - 1].exclude_null = exclude and 1 or 0
        if path then
            paths[#paths + 1] = path
            res[i - 1].path = path
            res[i - 1].path_len = #path
        end
    end
    return res, #parts, paths
end

function space_methods:create_index(name, opts)
    if type(name) ~= 'string' then illegal('create_index: name must be a string') end
    opts = options(opts, INDEX_OPTIONS, 'create_index ' .. name)
    if opts.if_not_exists then
        local idx = rawget(self.index, name)
        if idx then return idx, 'not created' end
    end
    local kind = enum.JB_INDEX_TREE
    if opts.type ~= nil then
        local t = type(opts.type) == 'string' and opts.type:upper()
        if t == 'HASH' then
            kind = enum.JB_INDEX_HASH
        elseif t ~= 'TREE' then
            illegal(("create_index %s: type must be 'TREE' or 'HASH', not '%s'"):format(name, tostring(opts.type)))
        end
    end
    local func = opts.func
    if func ~= nil and type(func) ~= 'function' then
        illegal(("create_index %s: func must be a function that returns the tuple's key"):format(name))
    end
    if opts.multikey and not func then
        illegal(("create_index %s: multikey needs func"):format(name))
    end
    if opts.sequence ~= nil and opts.sequence ~= false then K.check_sequence(self, name, opts.sequence) end
    local parts, n, paths = parse_parts(func and {} or self, name, opts.parts or { { 1 } })
    local def = ffi.new('jb_index_def')
    def.parts = parts
    def.part_count = n
    def.unique = (opts.unique == nil or opts.unique) and 1 or 0
    def.type = kind
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
        fdef, fe = keys.register(func, name, n, opts.multikey, self._fmt)
        rc = C.jb_index_create_func(self._s, name, #name, def, fdef, out)
        if rc ~= 0 then keys.unregister(fe) end
    else
        rc = C.jb_index_create(self._s, name, #name, def, out)
        paths[0] = rc -- a use after the call: the path strings stay alive through it
    end
    if rc ~= 0 then raise(rc) end
    K.refresh_indexes(self)
    local idx = rawget(self.index, name)
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
    if opts.sequence ~= nil and opts.sequence ~= false then K.attach_sequence(self, idx, opts.sequence) end
    return idx
end

function space_methods:drop()
    live(self._db)
    if K.detach_sequence then K.detach_sequence(self, true) end
    local rc = C.jb_space_drop(self._s)
    if rc ~= 0 then raise(rc) end
    self._db._spaces[tonumber(ffi.cast('uintptr_t', self._s))] = nil
    K.refresh_spaces(self._db)
end

-- s:truncate(): removes every tuple (not inside a transaction: BUSY while one is open).
function space_methods:truncate()
    live(self._db)
    local rc = C.jb_space_truncate(self._s)
    if rc ~= 0 then raise(rc) end
end

-- s:rename(name), index:rename(name).
local function name_arg(name, what)
    if type(name) ~= 'string' then illegal(('%s: the new name must be a string, not %s'):format(what, type(name))) end
    return name
end

function space_methods:rename(name)
    name_arg(name, 'rename')
    live(self._db)
    local old = self.name
    local rc = C.jb_space_rename(self._s, name, #name)
    if rc ~= 0 then raise(rc) end
    K.refresh_spaces(self._db)
    if K.rename_sequence_binding then K.rename_sequence_binding(self, old) end
end

function index_methods:rename(name)
    name_arg(name, 'index:rename')
    live(self._db)
    local rc = C.jb_index_rename(self._i, name, #name)
    if rc ~= 0 then raise(rc) end
    K.refresh_indexes(self.space)
end

-- s:format(): the format, as Tarantool gives it ({name =, type =}, is_nullable when true).
-- s:format(new) changes it, once the indexes and every tuple fit (checked by the engine).
function space_methods:format(new)
    if new ~= nil then
        local ff, n, keep = build_format(new, ("space '%s': format"):format(self.name))
        live(self._db)
        local rc = C.jb_space_set_format(self._s, ff, n)
        keep[0] = rc -- a use after the call: the names stay alive through it
        if rc ~= 0 then raise(rc) end
        K.refresh_spaces(self._db)
        K.describe_space(self)
        return
    end
    local res = {}
    for i, f in ipairs(self._format) do
        res[i] = { name = f.name, type = f.type, is_nullable = f.is_nullable or nil }
    end
    return res
end

-- Bytes the space's tuples take (walks the space), and an index's blocks.
local info_s, info_i = ffi.new('jb_space_info'), ffi.new('jb_index_info')
function space_methods:bsize()
    live(self._db)
    local rc = C.jb_space_describe(self._s, info_s)
    if rc ~= 0 then raise(rc) end
    return tonumber(info_s.bsize)
end

function index_methods:bsize()
    live(self._db)
    local rc = C.jb_index_describe(self._i, info_i)
    if rc ~= 0 then raise(rc) end
    return tonumber(info_i.bsize)
end

function index_methods:drop()
    live(self._db)
    if self.id == 0 and K.detach_sequence then K.detach_sequence(self.space, true) end
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
    space._indexes[tonumber(ffi.cast('uintptr_t', self._i))] = nil
    K.refresh_indexes(space)
end

for _, f in ipairs({ db_mt.create_space, space_methods.create_index, space_methods.drop, index_methods.drop,
    space_methods.truncate, space_methods.rename, index_methods.rename }) do
    jit.off(f)
end

