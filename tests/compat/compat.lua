-- The same calls on Tarantool 2.6 and on jitbox: a compat script runs under `tarantool
-- script.lua` and under LuaJIT with the jitbox module, and prints one line per call. The
-- lines Tarantool printed are kept next to the script (script.expected) and jitbox's must
-- equal them. Errors print as jitbox's code names; Tarantool's numeric codes map to them here.
local M = {}

M.tarantool = rawget(_G, 'box') ~= nil

-- Tarantool's error codes -> jitbox's.
local CODES = {
    [1] = 'ILLEGAL_PARAMS', [3] = 'TUPLE_FOUND', [18] = 'FIELD_TYPE', [19] = 'ILLEGAL_PARAMS',
    [23] = 'FIELD_TYPE', [24] = 'FIELD_TYPE', [25] = 'SPLICE', [26] = 'UPDATE_ARG_TYPE', [28] = 'UPDATE_OP',
    [29] = 'UPDATE_OP', [37] = 'NO_SUCH_FIELD', [39] = 'FIELD_TYPE', [41] = 'ILLEGAL_PARAMS', [94] = 'PRIMARY_KEY_UPDATE',
    [95] = 'INTEGER_OVERFLOW', [201] = 'NO_SUCH_FIELD', [10] = 'EXISTS', [85] = 'EXISTS', [114] = 'ILLEGAL_PARAMS', [61] = 'ILLEGAL_PARAMS',
    [147] = 'SEQUENCE_OVERFLOW', [146] = 'EXISTS', [212] = 'ILLEGAL_PARAMS', [142] = 'ILLEGAL_PARAMS',
    [144] = 'ILLEGAL_PARAMS', [14] = 'ILLEGAL_PARAMS', [108] = 'ILLEGAL_PARAMS',
    [27] = 'FIELD_TYPE', [149] = 'ILLEGAL_PARAMS', [12] = 'ILLEGAL_PARAMS',
    [5] = 'ILLEGAL_PARAMS', [112] = 'ILLEGAL_PARAMS', [136] = 'ILLEGAL_PARAMS',
}

local jitbox
if M.tarantool then
    box.cfg{ work_dir = require('fio').tempdir(), log_level = 0 }
else
    jitbox = require('jitbox')
end

-- A space with format `format` and a primary index on field 1.
function M.space(name, format)
    if M.tarantool then
        local s = box.schema.space.create(name, { format = format })
        s:create_index('pk')
        return s
    end
    M.db = M.db or jitbox.open{ logger = function() end }
    local s = M.db:create_space(name, { format = format })
    s:create_index('pk')
    return s
end

-- A space by name (nil when there is none), and a new space.
function M.space_named(name)
    if M.tarantool then return box.space[name] end
    return M.db.space[name]
end

-- Transactions of the running fiber or coroutine.
function M.begin() if M.tarantool then box.begin() else M.db:begin() end end
function M.commit() if M.tarantool then box.commit() else M.db:commit() end end
function M.rollback() if M.tarantool then box.rollback() else M.db:rollback() end end
function M.on_commit(f) if M.tarantool then return box.on_commit(f) end return M.db:on_commit(f) end
function M.on_rollback(f) if M.tarantool then return box.on_rollback(f) end return M.db:on_rollback(f) end
function M.savepoint() if M.tarantool then return box.savepoint() end return M.db:savepoint() end
function M.rollback_to(sp)
    if M.tarantool then return box.rollback_to_savepoint(sp) end
    return M.db:rollback_to_savepoint(sp)
end

-- Sequences: a new one, one by name.
function M.create_sequence(name, opts)
    if M.tarantool then return box.schema.sequence.create(name, opts) end
    M.db = M.db or jitbox.open{ logger = function() end }
    return M.db:create_sequence(name, opts)
end
function M.sequence(name)
    if M.tarantool then return box.sequence[name] end
    return M.db.sequence[name]
end

function M.create_space(name, opts)
    if M.tarantool then return box.schema.space.create(name, opts) end
    M.db = M.db or jitbox.open{ logger = function() end }
    return M.db:create_space(name, opts)
end

local function show_value(v)
    if type(v) == 'string' then return ('%q'):format(v) end
    if v == nil or (type(v) == 'cdata' and v == nil) then return 'nil' end
    if type(v) == 'table' then
        local keys, arr = {}, true
        for k in pairs(v) do keys[#keys + 1] = k; if type(k) ~= 'number' then arr = false end end
        table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
        if arr then table.sort(keys) end
        local parts = {}
        for i, k in ipairs(keys) do
            parts[i] = (arr and '' or (show_value(k) .. ': ')) .. show_value(v[k])
        end
        return (arr and '[' or '{') .. table.concat(parts, ', ') .. (arr and ']' or '}')
    end
    return tostring(v)
end

local function show_tuple(t)
    local fields = t:totable()
    local parts = {}
    for i = 1, #t do parts[i] = show_value(fields[i]) end
    return '[' .. table.concat(parts, ', ') .. ']'
end
M.show_tuple = show_tuple

-- Calls f(...) and prints what it returned (how many values, tuples shown) or the error's code.
function M.show(label, f, ...)
    local r = { pcall(f, ...) }
    if not r[1] then
        local err = r[2]
        local code
        if M.tarantool then
            code = (type(err) == 'string' or err.code == nil) and ('lua error: ' .. tostring(err))
                or CODES[err.code] or ('?' .. tostring(err.code) .. ' ' .. tostring(err))
        else
            local e = jitbox.error(err)
            code = e and e.code or ('lua error: ' .. tostring(err))
        end
        -- A Lua error's position without its directory (runs differ in where they start).
        print(label, 'error', (code:gsub('[^%s]*/([^/%s]+:%d+:)', '%1')))
        return
    end
    local out = {}
    for i = 2, table.maxn(r) do
        local v = r[i]
        out[#out + 1] = (type(v) == 'cdata' or type(v) == 'userdata') and v ~= nil and v.totable and show_tuple(v) or show_value(v)
    end
    print(label, 'ok', #r - 1, table.concat(out, ' '))
end

-- The end of a script: Tarantool's event loop would keep it running.
function M.finish()
    if M.tarantool then os.exit(0) end
end

return M
