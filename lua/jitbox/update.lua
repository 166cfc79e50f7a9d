-- jitbox.update: update operations, Lua tables -> jb_update_op arrays, and tuple:update.
--
-- Operations are Tarantool's: {'=', field, value}, {'+', field, number}, {'-', ...}, {'&',
-- field, mask}, {'|', ...}, {'^', ...}, {'!', field, value} (insert before), {'#', field, count}
-- (delete), {':', field, offset, cut, string} (splice). A field is a number (from 1, or
-- negative from the end) or a format field's name. The engine applies them (one FFI call);
-- here they are only checked for shape and put into a reusable buffer.

local ffi = require('ffi')
local B = require('jitbox.base')
local T = require('jitbox.tuple')
local C, illegal, raise, throw, new_error = B.C, B.illegal, B.raise, B.throw, B.new_error
local enum = B.enum
local set_field, row_len, make_tuple = T.set_field, T.row_len, T.make_tuple
local out_len = B.out_len
local floor = math.floor

local U = {}
local op_anchors = {} -- nested values of operations, by operation number (see tuple.lua)

local ops_cap = 8
local ops_buf = ffi.new('jb_update_op[?]', ops_cap)
local byte = string.byte

local function bad_op(i, msg)
    throw(new_error('UPDATE_OP', enum.JB_E_UPDATE_OP, ('update operation %d: %s'):format(i, msg)), 4)
end

local function int32(v) return type(v) == 'number' and v == floor(v) and v >= -2147483648 and v <= 2147483647 end

-- Operation i of a list into slot o.
local function put_op(o, i, op, what)
    if type(op) ~= 'table' or getmetatable(op) ~= nil then
        illegal(('%s: operation %d must be a plain table {op, field, value}, not %s'):format(what, i, type(op)))
    end
    local name, field = op[1], op[2]
    if type(name) ~= 'string' then
        illegal(('%s: operation %d: the operator must be a string such as \'=\' or \'+\', not %s')
            :format(what, i, type(name)))
    end
    if #name ~= 1 then bad_op(i, ("unknown operator '%s'; use =, +, -, &, |, ^, :, ! or #"):format(name)) end
    local want = name == ':' and 5 or 3
    local got = row_len(op)
    if got ~= want then
        bad_op(i, ("'%s' takes %d elements {%s}, got %d"):format(name, want,
            want == 5 and "':', field, offset, cut, string" or 'op, field, value', got))
    end
    o.op = byte(name)
    if type(field) == 'string' then
        o.field, o.name, o.name_len = 0, field, #field
    elseif int32(field) then
        o.field, o.name, o.name_len = field, nil, 0
    else
        illegal(('%s: operation %d: the field must be a field number or a format field name, not %s')
            :format(what, i, tostring(field)))
    end
    if want == 5 then
        local offset, cut = op[3], op[4]
        if not int32(offset) or not int32(cut) then
            throw(new_error('UPDATE_ARG_TYPE', enum.JB_E_UPDATE_ARG_TYPE,
                ('update operation %d: a splice\'s offset and cut must be integers, not %s, %s')
                    :format(i, tostring(offset), tostring(cut))), 3)
        end
        o.splice_offset, o.splice_cut = offset, cut
        set_field(o.arg, op[5], i, op_anchors)
    else
        o.splice_offset, o.splice_cut = 0, 0
        set_field(o.arg, op[3], i, op_anchors)
    end
end

-- Fills the operation buffer from a list of operations; returns it and the count. The
-- operations' strings (names, values) stay referenced by `ops` for the FFI call that follows.
function U.fill(ops, what)
    if type(ops) ~= 'table' or getmetatable(ops) ~= nil then
        illegal(('%s: operations must be a plain table of operations {{op, field, value}, ...}, not %s')
            :format(what, type(ops)))
    end
    local n = row_len(ops)
    if n > ops_cap then
        ops_cap = n * 2
        ops_buf = ffi.new('jb_update_op[?]', ops_cap)
    end
    local buf = ops_buf
    -- Up to 4 operations without a loop, so that the caller's loop gets a trace of its own
    -- (see jitbox/tuple.lua's fill).
    if n >= 1 then put_op(buf[0], 1, ops[1], what) end
    if n >= 2 then put_op(buf[1], 2, ops[2], what) end
    if n >= 3 then put_op(buf[2], 3, ops[3], what) end
    if n >= 4 then put_op(buf[3], 4, ops[4], what) end
    for i = 5, n do put_op(buf[i - 1], i, ops[i], what) end
    return buf, n
end

-- t:update(ops): a new tuple, the operations applied to t's fields; fields go by number or
-- by the names of the format of t's space. t is unchanged.
local out_cap = 1024
local out_buf = ffi.new('uint8_t[?]', out_cap)

-- A field name with a path ('doc.city') as the engine reads it without a format: '[3].city';
-- nil when its head is not a name of t's format. ('[3].city' itself goes as it is.)
local function numbered_path(t, name)
    if name:sub(1, 1) == '[' then return name end
    local at = name:find('[%.%[]')
    local n = at and T.field_number(t, name:sub(1, at - 1))
    return n and ('[%d]%s'):format(n, name:sub(at))
end

-- ops with field names turned into numbers (a copy; nil when no operation names a field).
local function by_number(t, ops)
    local copy
    for i = 1, type(ops) == 'table' and #ops or 0 do
        local op = ops[i]
        if type(op) == 'table' and type(op[2]) == 'string' then
            local n = T.field_number(t, op[2]) or numbered_path(t, op[2])
            if n == nil then
                throw(new_error('NO_SUCH_FIELD', enum.JB_E_NO_SUCH_FIELD,
                    ("tuple:update: operation %d names field '%s', which the tuple's format does not have")
                        :format(i, op[2])), 4)
            end
            copy = copy or {}
            local o = {}
            for k = 1, row_len(op) do o[k] = op[k] end
            o[2] = n
            copy[i] = o
        end
    end
    if copy == nil then return nil end
    for i = 1, #ops do copy[i] = copy[i] or ops[i] end
    return copy
end

function T.methods.update(t, ops)
    ops = by_number(t, ops) or ops
    local o, n = U.fill(ops, 'tuple:update')
    local rc = C.jb_data_update(T.data_of(t), t.jb_size_, o, n, out_buf, out_cap, out_len)
    if rc == enum.JB_E_BUFFER_TOO_SMALL then
        out_cap = tonumber(out_len[0]) * 2
        out_buf = ffi.new('uint8_t[?]', out_cap)
        rc = C.jb_data_update(T.data_of(t), t.jb_size_, o, n, out_buf, out_cap, out_len)
    end
    if rc ~= 0 then raise(rc) end
    return make_tuple(out_buf, out_len[0], t.jb_fmt_)
end

return U
