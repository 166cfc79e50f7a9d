-- jitbox.catalog: the Lua objects of an engine's spaces and indexes, and their lists.
--
-- One object per space and per index, found by its handle, so that every way to reach it
-- (db.space.name, s.index[0], s.index.name) gives the same object. db.space lists the spaces
-- by name, s.index the indexes by position (from 0, the primary index) and by name; both are
-- plain tables (pairs works, no internal keys) refilled from the engine after this module's
-- DDL, and a name they lack is looked up in the engine once (a C host may have created it).
-- Objects carry what Tarantool's do: s.name, s.id, s.field_count (0: no fixed count),
-- s.index; index name, id, type, unique, parts, space_id.

local ffi = require('ffi')
local B = require('jitbox.base')
local pairs, next = B.pairs, B.next -- see base.lua: no compiled next() where it may crash
local T = require('jitbox.tuple')
local C, raise, live = B.C, B.raise, B.live
local enum = B.enum
local space_mt, index_mt, type_names = B.space_mt, B.index_mt, B.type_names
local out_ptr = B.out_ptr

local K = {}
local COLLATION_NAMES = { [tonumber(enum.JB_COLL_UNICODE)] = 'unicode', [tonumber(enum.JB_COLL_UNICODE_CI)] = 'unicode_ci' }

-- Spaces the module keeps for itself (sequences): not in db.space, but in db._hidden.
K.HIDDEN = {}
-- Functions run on every new engine object (after db.space is filled).
K.on_wrap = {}

local owner = setmetatable({}, { __mode = 'k' }) -- a list -> its engine or space
local handle_key = function(h) return tonumber(ffi.cast('uintptr_t', h)) end

local space_info = ffi.new('jb_space_info')
local index_info = ffi.new('jb_index_info')
local format_field = ffi.new('jb_format_field')
local key_part = ffi.new('jb_key_part')

-- Reads the index's name, position and key from the engine into its object.
local function describe_index(idx)
    local rc = C.jb_index_describe(idx._i, index_info)
    if rc ~= 0 then raise(rc) end
    idx.name = ffi.string(index_info.name, index_info.name_len)
    idx.id = tonumber(index_info.id)
    idx.unique = index_info.unique == 1
    idx.type = index_info.type == enum.JB_INDEX_HASH and 'HASH' or 'TREE'
    local parts = {}
    for k = 0, index_info.part_count - 1 do
        rc = C.jb_index_part(idx._i, k, key_part)
        if rc ~= 0 then raise(rc) end
        parts[k + 1] = { fieldno = tonumber(key_part.fieldno) + 1,
            type = type_names[tonumber(key_part.type)], is_nullable = key_part.is_nullable == 1,
            collation = COLLATION_NAMES[tonumber(key_part.collation)],
            path = key_part.path_len > 0 and ffi.string(key_part.path, key_part.path_len) or nil,
            exclude_null = key_part.exclude_null == 1 or nil }
    end
    idx.parts = parts
    -- Whether its entries may differ from the space's tuples in number (index:len()).
    idx._own_len = index_info.multikey == 1
    for _, p in ipairs(parts) do idx._own_len = idx._own_len or p.exclude_null == true end
    return idx
end

local function index_object(space, handle)
    local objs = space._indexes
    local key = handle_key(handle)
    local idx = objs[key]
    if idx == nil then
        idx = setmetatable({ space = space, space_id = space.id, _i = handle, _db = space._db,
            _fmt = space._fmt }, index_mt)
        objs[key] = idx
    end
    return describe_index(idx)
end

-- Refills s.index from the engine: by position and by name.
function K.refresh_indexes(space)
    local list = space.index
    for k in pairs(list) do list[k] = nil end
    local pos = 0
    while true do
        local rc = C.jb_space_index_at(space._s, pos, ffi.cast('jb_index**', out_ptr))
        if rc == enum.JB_E_NO_SUCH_INDEX then break end
        if rc ~= 0 then raise(rc) end
        local idx = index_object(space, ffi.cast('jb_index*', out_ptr[0]))
        list[pos], list[idx.name] = idx, idx
        pos = pos + 1
    end
    rawset(space, '_pk', rawget(list, 0))
end

local index_list_mt = {
    -- A name this module has not seen: an index a C host created. Refilled once.
    __index = function(list, key)
        local space = owner[list]
        if type(key) ~= 'string' and type(key) ~= 'number' then return nil end
        local rc
        if type(key) == 'string' then
            rc = C.jb_index_find(space._s, key, #key, ffi.cast('jb_index**', out_ptr))
        else
            rc = C.jb_space_index_at(space._s, key, ffi.cast('jb_index**', out_ptr))
        end
        if rc == enum.JB_E_NO_SUCH_INDEX or rc == enum.JB_E_ILLEGAL_PARAMS then return nil end
        if rc ~= 0 then raise(rc) end
        K.refresh_indexes(space)
        return rawget(list, key)
    end,
}

-- Reads the space's name, id and format from the engine into its object.
local function describe_space(s)
    local rc = C.jb_space_describe(s._s, space_info)
    if rc ~= 0 then raise(rc) end
    s.name = ffi.string(space_info.name, space_info.name_len)
    s.id = tonumber(space_info.id)
    s.field_count = 0
    local format = {}
    for i = 0, space_info.field_count - 1 do
        rc = C.jb_space_format_field(s._s, i, format_field)
        if rc ~= 0 then raise(rc) end
        format[i + 1] = { name = ffi.string(format_field.name, format_field.name_len),
            type = type_names[tonumber(format_field.type)], is_nullable = format_field.is_nullable == 1 }
    end
    -- Its names for tuples (t.name), registered again when they change (s:format(new)):
    -- tuples read before keep the names they were read with, as in Tarantool.
    local names, same = {}, s._format ~= nil and #s._format == #format
    for i, f in ipairs(format) do
        names[i] = f.name
        same = same and s._format[i].name == f.name
    end
    s._format = format
    if s._fmt == nil or not same then
        s._fmt = #names > 0 and T.register_format(names) or 0
        for _, idx in pairs(s._indexes) do idx._fmt = s._fmt end
    end
    return s
end
K.describe_space = describe_space

local function space_object(db, handle)
    local key = handle_key(handle)
    local s = db._spaces[key]
    if s == nil then
        s = setmetatable({ _s = handle, _db = db, _indexes = {}, _triggers = false }, space_mt)
        s.index = setmetatable({}, index_list_mt)
        owner[s.index] = s
        db._spaces[key] = s
        describe_space(s)
        K.refresh_indexes(s)
        return s
    end
    return describe_space(s)
end
K.space_object = space_object

-- Refills db.space from the engine.
function K.refresh_spaces(db)
    local list = db.space
    for k in pairs(list) do list[k] = nil end
    db._hidden = {}
    local pos = 0
    while true do
        local rc = C.jb_engine_space_at(db._e, pos, ffi.cast('jb_space**', out_ptr))
        if rc == enum.JB_E_NO_SUCH_SPACE then break end
        if rc ~= 0 then raise(rc) end
        local s = space_object(db, ffi.cast('jb_space*', out_ptr[0]))
        if K.HIDDEN[s.name] then db._hidden[s.name] = s else list[s.name] = s end
        pos = pos + 1
    end
end

local space_list_mt = {
    -- A name this module has not seen: a space a C host created. Refilled once.
    __index = function(list, name)
        local db = owner[list]
        if type(name) ~= 'string' or K.HIDDEN[name] then return nil end
        local rc = C.jb_space_find(live(db), name, #name, ffi.cast('jb_space**', out_ptr))
        if rc == enum.JB_E_NO_SUCH_SPACE or rc == enum.JB_E_ILLEGAL_PARAMS then return nil end
        if rc ~= 0 then raise(rc) end
        K.refresh_spaces(db)
        return rawget(list, name)
    end,
}
K.space_list_mt = space_list_mt

-- db.space of a new engine object, filled.
function K.space_list(db)
    db._spaces = {}
    db.space = setmetatable({}, space_list_mt)
    owner[db.space] = db
    K.refresh_spaces(db)
    for _, f in ipairs(K.on_wrap) do f(db) end
end

-- The primary index of a space (NO_SUCH_INDEX, blaming the caller's caller, without one).
function K.primary(space)
    local pk = rawget(space, '_pk') or space.index[0]
    if pk == nil then
        B.throw(B.new_error('NO_SUCH_INDEX', enum.JB_E_NO_SUCH_INDEX,
            ("space '%s' has no primary index; create one with create_index"):format(space.name)), 3)
    end
    return pk
end

return K
