-- jitbox.box.error: box.error for the jitbox.box facade — Tarantool's numeric error codes,
-- error objects (code, type, message, :unpack()), box.error{...} and box.error(code, ...) to
-- raise one, and the conversion of jitbox's errors (by code name) into them.
local jitbox = require('jitbox')

-- Tarantool 2.6's codes (box.error.NAME).
local CODES = {
    UNKNOWN = 0, ILLEGAL_PARAMS = 1, MEMORY_ISSUE = 2, TUPLE_FOUND = 3, TUPLE_NOT_FOUND = 4,
    UNSUPPORTED = 5, READONLY = 7, INJECTION = 8, DROP_SPACE = 11, MODIFY_INDEX = 14,
    TUPLE_FORMAT_LIMIT = 16, KEY_PART_TYPE = 18, EXACT_MATCH = 19, INVALID_MSGPACK = 20,
    FIELD_TYPE = 23, UPDATE_SPLICE = 25, UPDATE_ARG_TYPE = 26, UNKNOWN_UPDATE_OP = 28,
    UPDATE_FIELD = 29, KEY_PART_COUNT = 31, PROC_LUA = 32, NO_SUCH_INDEX_ID = 35,
    NO_SUCH_SPACE = 36, NO_SUCH_FIELD_NO = 37, FIELD_MISSING = 39, WAL_IO = 40,
    NO_SUCH_SAVEPOINT = 61, ITERATOR_TYPE = 72, TIMEOUT = 78, ACTIVE_TRANSACTION = 79,
    INDEX_EXISTS = 85, SPACE_EXISTS = 10, UNSUPPORTED_INDEX_FEATURE = 112, CANT_UPDATE_PRIMARY_KEY = 94,
    UPDATE_INTEGER_OVERFLOW = 95, TRANSACTION_CONFLICT = 97, MEMTX_MAX_TUPLE_SIZE = 110,
    NO_TRANSACTION = 114, SYSTEM = 115, LOADING = 116, NO_SUCH_SEQUENCE = 145,
    SEQUENCE_EXISTS = 146, SEQUENCE_OVERFLOW = 147, NO_SUCH_INDEX_NAME = 148,
    NO_SUCH_FIELD_NAME = 201,
}

local error_mt = {}
error_mt.__index = error_mt
error_mt.__tostring = function(e) return e.message end

local function new(code, message)
    return setmetatable({ code = code, type = 'ClientError', base_type = 'ClientError',
        message = message, trace = {} }, error_mt)
end

-- e:unpack(): the error's fields as a plain table.
function error_mt:unpack()
    return { code = self.code, type = self.type, base_type = self.base_type,
        message = self.message, trace = self.trace }
end

-- jitbox's code -> Tarantool's; some depend on what the message says, where Tarantool has
-- several codes for what jitbox reports as one.
local function code_of(e)
    local c, m = e.code, e.message or ''
    if c == 'TUPLE_FOUND' then return CODES.TUPLE_FOUND end
    if c == 'FIELD_TYPE' then
        if m:find('tuple too short', 1, true) then return CODES.FIELD_MISSING end
        if m:find('key part', 1, true) then return CODES.KEY_PART_TYPE end
        return CODES.FIELD_TYPE
    end
    if c == 'ILLEGAL_PARAMS' and m:find('HASH index', 1, true) then
        if m:find('does not support', 1, true) then return CODES.UNSUPPORTED_INDEX_FEATURE end
        if m:find('must be unique', 1, true) then return CODES.MODIFY_INDEX end
        if m:find('nullable', 1, true) then return CODES.UNSUPPORTED end
    end
    if c == 'ILLEGAL_PARAMS' then
        if m:find('key has %d+ part') then return CODES.EXACT_MATCH end
        if m:find('savepoint', 1, true) and m:find('does not exist', 1, true) then return CODES.NO_SUCH_SAVEPOINT end
        if m:find('no transaction is open', 1, true) then return CODES.NO_TRANSACTION end
        return CODES.ILLEGAL_PARAMS
    end
    if c == 'NO_SUCH_FIELD' then
        return m:find("field '", 1, true) and CODES.NO_SUCH_FIELD_NAME or CODES.NO_SUCH_FIELD_NO
    end
    if c == 'UPDATE_OP' then
        -- An operation jitbox cannot read (its operator, its length) is Tarantool's unknown
        -- one; the rest (double updates, paths) are errors on the field.
        if m:find('unknown operator', 1, true) or m:find('takes %d elements') then return CODES.UNKNOWN_UPDATE_OP end
        return CODES.UPDATE_FIELD
    end
    if c == 'EXISTS' then return m:find('index', 1, true) and CODES.INDEX_EXISTS or CODES.SPACE_EXISTS end
    if c == 'BUSY' and m:find('transaction', 1, true) then return CODES.ACTIVE_TRANSACTION end
    return ({ MEMORY = CODES.MEMORY_ISSUE, NO_SUCH_SPACE = CODES.NO_SUCH_SPACE,
        NO_SUCH_INDEX = CODES.NO_SUCH_INDEX_ID, CONFLICT = CODES.TRANSACTION_CONFLICT,
        UPDATE_ARG_TYPE = CODES.UPDATE_ARG_TYPE, INTEGER_OVERFLOW = CODES.UPDATE_INTEGER_OVERFLOW,
        SPLICE = CODES.UPDATE_SPLICE, PRIMARY_KEY_UPDATE = CODES.CANT_UPDATE_PRIMARY_KEY,
        WAL_IO = CODES.WAL_IO, CASCADE_ROLLBACK = CODES.WAL_IO, LOADING = CODES.LOADING })[c]
        or CODES.UNKNOWN
end

local E = { CODES = CODES, mt = error_mt, new = new }

-- The box error of any error value: a box error as it is, a jitbox error converted, anything
-- else (a Lua error string) as Tarantool gives it: PROC_LUA with the string.
function E.of(err)
    if getmetatable(err) == error_mt then return err end
    local e = jitbox.error(err)
    if e then
        local b = new(code_of(e), e.message)
        b.jitbox_code = e.code
        return b
    end
    return nil
end

-- Raises err as a box error when it is one or a jitbox error; anything else as it is.
function E.raise(err, level)
    local b = E.of(err)
    if b then error(b, (level or 1) + 1) end
    error(err, 0)
end

-- box.error: the constants; box.error(code, message...), box.error{code =, reason =} and
-- box.error(err) raise; box.error.new(...) makes one; box.error.last() is not kept.
local box_error = setmetatable({}, {
    __index = CODES,
    __call = function(_, code, ...)
        if getmetatable(code) == error_mt then error(code, 2) end
        if type(code) == 'table' then
            error(new(code.code or CODES.UNKNOWN, code.reason or code.message or ''), 2)
        end
        if type(code) ~= 'number' then
            error(new(CODES.ILLEGAL_PARAMS, 'box.error: pass a code, a table {code =, reason =} or an error'), 2)
        end
        local msg = select('#', ...) > 0 and table.concat({ ... }, ', ') or ''
        error(new(code, msg), 2)
    end,
})
rawset(box_error, 'new', function(code, msg)
    if type(code) == 'table' then return new(code.code or CODES.UNKNOWN, code.reason or '') end
    return new(code, msg or '')
end)
E.box_error = box_error

return E
