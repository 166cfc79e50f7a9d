-- jitbox.error: the errors jitbox raises, in the form their catcher can read.
--
-- An error is an object — { code = 'TUPLE_FOUND', rc = <the C status>, message = '...' },
-- tostring gives 'TUPLE_FOUND: message' — when the running coroutine catches it: a pcall or
-- xpcall is on its stack (db:txn's own included). When nothing there catches it, the error
-- leaves the coroutine for nginx, a C host's lua_pcall or lua_resume, or the luajit command,
-- which print only strings (ngx_lua logs any other value as "unknown reason", lua_tostring
-- gives NULL): it is raised as the string 'file:line: jitbox: TUPLE_FOUND: message'.
-- `decode` turns either form back into the object.

local ffi = require('ffi')

return function(C)
    local error_mt = {
        __tostring = function(e) return e.code .. ': ' .. e.message end,
    }

    local function new(code, rc, message)
        return setmetatable({ code = code, rc = tonumber(rc), message = message }, error_mt)
    end

    -- The error of C status rc (its message: this thread's last error).
    local function of_status(rc)
        local name = ffi.string(C.jb_strerror(rc)):gsub('^JB_E_', '')
        return new(name, rc, ffi.string(C.jb_last_error()))
    end

    -- Whether a pcall or xpcall on the running coroutine's stack will catch an error raised
    -- here. Without the debug library nothing can be known: the object, as pcall users expect.
    local getinfo = debug and debug.getinfo
    local function caught()
        if not getinfo then return true end
        local level = 3
        while true do
            local info = getinfo(level, 'f')
            if info == nil then return false end
            local f = info.func
            if f == pcall or f == xpcall then return true end
            level = level + 1
        end
    end

    -- Raises e at `level` (as error() counts it, from the caller of throw).
    local function throw(e, level)
        level = level + 1
        if caught() then error(e, level) end
        error('jitbox: ' .. tostring(e), level)
    end

    -- Raises err again from a jitbox function that caught it (db:txn, open): a jitbox error
    -- in the form its new catcher can read, anything else as it is.
    local function rethrow(err, level)
        if getmetatable(err) == error_mt then throw(err, level + 1) end
        error(err, 0)
    end

    -- The error object of a jitbox error in either form, or nil for any other value.
    local function decode(err)
        if getmetatable(err) == error_mt then return err end
        if type(err) ~= 'string' then return nil end
        local code, message = err:match('jitbox: ([%u_]+): (.*)$')
        if code == nil then return nil end
        local known, rc = pcall(function() return C['JB_E_' .. code] end)
        if not known then return nil end
        return new(code, rc, message)
    end

    return {
        mt = error_mt, new = new, of_status = of_status, throw = throw, rethrow = rethrow,
        decode = decode,
    }
end
