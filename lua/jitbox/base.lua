-- jitbox.base: what every file of the module requires — the library and its cdefs, the
-- errors jitbox raises, option checks, reusable out-parameters, and the classes (engine,
-- space, index) the other files add their methods to.

if not jit then
    error(("jitbox needs LuaJIT 2.1, with its ffi library; this is %s: run it with luajit, in OpenResty, or in a host that embeds LuaJIT")
        :format(_VERSION), 2)
end
local ffi = require('ffi')

-- No compiled traversal where it may crash. LuaJIT 2.1 builds from 2020 to 2022-04-05 —
-- Debian 12's luajit among them — compile next() and pairs() loops into code that can cut a
-- pointer to 32 bits and crash the process, depending on register allocation (LuaJIT issue
-- #829). They all say 'LuaJIT 2.1.0-beta3', as do later builds of that name (OpenResty's), so
-- under that name every traversal in the module goes through `next` and `pairs` below, which
-- are never compiled (a trace that reaches them aborts and the code runs interpreted), and
-- the hot paths that would traverse count keys with B.nkeys instead. Under other names (later
-- LuaJIT, whose next() is fixed, or 2.0, which does not compile it) they are the builtins and
-- B.nkeys is nil.
local TRAVERSAL_MAY_CRASH = jit ~= nil and jit.version == 'LuaJIT 2.1.0-beta3'
local next, pairs = next, pairs
if TRAVERSAL_MAY_CRASH then
    local builtin_next = next
    next = function(t, k) return builtin_next(t, k) end
    jit.off(next)
    pairs = function(t) return next, t, nil end
end

ffi.cdef(require('jitbox.cdef'))

local ABI_VERSION = 15

-- Loaded by luaopen_jitbox, the module is handed the functions of the library that loaded it
-- (the second argument) and calls through them: struct jb_lib. Loaded from files: the symbols
-- already in the process (a host linked with -rdynamic), else JITBOX_LIB, else the first
-- libjitbox.so on package.cpath. Either way one engine copy per process.
local function bind(functions)
    local lib = ffi.new('struct jb_lib')
    local count = 0
    for name, address in pairs(functions) do
        lib[name] = ffi.cast(ffi.typeof(lib[name]), address)
        count = count + 1
    end
    local declared = ffi.sizeof(lib) / ffi.sizeof('void *')
    if count ~= declared then
        error(('jitbox: the library binds %d functions, the module declares %d'):format(count, declared))
    end
    return lib
end

-- The library and, when it was loaded from a file, that file.
local function load_library(functions)
    if functions then
        return bind(functions)
    end
    if pcall(function() return ffi.C.jb_abi_version end) then
        return ffi.C
    end
    local path = os.getenv('JITBOX_LIB')
    if path then
        return ffi.load(path), path
    end
    for pattern in package.cpath:gmatch('[^;]+') do
        local candidate = pattern:gsub('%?', 'libjitbox')
        local f = io.open(candidate, 'rb')
        if f then
            f:close()
            return ffi.load(candidate), candidate
        end
    end
    error('jitbox: cannot find the library: load the module with luaopen_jitbox (require through package.cpath, or package.preload), set JITBOX_LIB, or put libjitbox.so on package.cpath')
end

local _, bound_functions, c_nkeys = ...
local C, library_path = load_library(bound_functions)
-- The header's enum constants: ffi.C knows them from the cdef, with no library symbol.
local enum = ffi.C
if C.jb_abi_version() ~= ABI_VERSION then
    error(('jitbox: library ABI version %d, module expects %d'):format(C.jb_abi_version(), ABI_VERSION))
end

local B = { C = C, enum = enum, ABI_VERSION = ABI_VERSION }

-- Counting keys where next() must not be compiled (see the top of this file): OpenResty's
-- compiled table.nkeys, else the library's C function, around which a trace stitches.
if TRAVERSAL_MAY_CRASH then
    local openresty, nkeys = pcall(require, 'table.nkeys')
    if openresty then
        B.nkeys = nkeys
    elseif c_nkeys then
        B.nkeys = c_nkeys
    elseif library_path then
        B.nkeys = package.loadlib(library_path, 'jitbox_lua_nkeys')
    end
    if not B.nkeys then -- symbols found in the process: count in Lua, not compiled
        B.nkeys = function(t)
            local n = 0
            for _ in next, t do n = n + 1 end
            return n
        end
    end
end
B.next, B.pairs = next, pairs

------------------------------------------------------------------------------------------
-- Errors. An error is an object — { code = 'TUPLE_FOUND', rc = <the C status>, message =
-- '...' }, tostring gives 'TUPLE_FOUND: message' — when the running coroutine catches it: a
-- pcall or xpcall is on its stack (db:txn's own included). When nothing there catches it, the
-- error leaves the coroutine for nginx, a C host's lua_pcall or lua_resume, or the luajit
-- command, which print only strings (ngx_lua logs any other value as "unknown reason",
-- lua_tostring gives NULL): it is raised as the string 'file:line: jitbox: TUPLE_FOUND: message'.
-- `decode` turns either form back into the object.

local error_mt = {
    __tostring = function(e) return e.code .. ': ' .. e.message end,
}
B.error_mt = error_mt

local function new_error(code, rc, message)
    return setmetatable({ code = code, rc = tonumber(rc), message = message }, error_mt)
end
B.new_error = new_error

-- The error of C status rc (its message: this thread's last error).
local function error_of(rc)
    local name = ffi.string(C.jb_strerror(rc)):gsub('^JB_E_', '')
    return new_error(name, rc, ffi.string(C.jb_last_error()))
end
B.error_of = error_of

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
B.throw = throw

-- Raises err again from a jitbox function that caught it (db:txn, open): a jitbox error
-- in the form its new catcher can read, anything else as it is.
function B.rethrow(err, level)
    if getmetatable(err) == error_mt then throw(err, level + 1) end
    error(err, 0)
end

-- The error object of a jitbox error in either form, or nil for any other value.
function B.decode_error(err)
    if getmetatable(err) == error_mt then return err end
    if type(err) ~= 'string' then return nil end
    local code, message = err:match('jitbox: ([%u_]+): (.*)$')
    if code == nil then return nil end
    local known, rc = pcall(function() return enum['JB_E_' .. code] end)
    if not known then return nil end
    return new_error(code, rc, message)
end

-- raise(rc) and illegal(msg) blame the caller of the function that calls them.
function B.raise(rc)
    throw(error_of(rc), 3)
end

function B.illegal(msg)
    throw(new_error('ILLEGAL_PARAMS', enum.JB_E_ILLEGAL_PARAMS, msg), 3)
end
local illegal = B.illegal

-- The engine handle of db; CLOSED once it was closed.
function B.live(db)
    if db._closed then
        throw(new_error('CLOSED', enum.JB_E_CLOSED, 'the engine was closed; open a new one'), 3)
    end
    return db._e
end

------------------------------------------------------------------------------------------
-- Options.

-- Checks that opts is nil or a table whose every key `known` lists; returns opts or {}. An
-- option jitbox does not have (yet) is an error naming it, never ignored.
function B.options(opts, known, what)
    if opts == nil then return {} end
    if type(opts) ~= 'table' then
        illegal(('%s: options must be a table, not %s'):format(what, type(opts)))
    end
    for k in pairs(opts) do
        if not known[k] then
            local list = {}
            for name in pairs(known) do list[#list + 1] = name end
            table.sort(list)
            illegal(("%s: unknown option '%s' (jitbox has %s)"):format(what, tostring(k), table.concat(list, ', ')))
        end
    end
    return opts
end

-- A size option: a whole number of bytes from min to max, or 0 when not given.
function B.size_option(opts, name, min, max, what)
    local v = opts[name]
    if v == nil then return 0 end
    if type(v) ~= 'number' or not (v >= min and v <= max) or v ~= math.floor(v) then
        illegal(('%s: %s must be a whole number of bytes from %d to %.0f, not %s'):format(what, name, min, max, tostring(v)))
    end
    return v
end

------------------------------------------------------------------------------------------
-- Field types, out-parameters, classes.

B.type_codes = {
    boolean = enum.JB_FT_BOOLEAN, unsigned = enum.JB_FT_UNSIGNED, integer = enum.JB_FT_INTEGER,
    number = enum.JB_FT_NUMBER, string = enum.JB_FT_STRING, any = enum.JB_FT_ANY, scalar = enum.JB_FT_SCALAR,
    array = enum.JB_FT_ARRAY, map = enum.JB_FT_MAP, double = enum.JB_FT_DOUBLE, varbinary = enum.JB_FT_VARBINARY,
}
B.type_names = {}
for name, code in pairs(B.type_codes) do B.type_names[tonumber(code)] = name end

-- Reusable out-parameters: module-wide, read right after the call that fills them, never
-- retained across calls.
B.out_len = ffi.new('size_t[1]')
B.out_u32 = ffi.new('uint32_t[1]')
B.out_u64 = ffi.new('uint64_t[1]')
B.out_ptr = ffi.new('void*[1]')

-- An engine (jitbox.open), its spaces and their indexes. Each concern's file adds the
-- methods it implements.
B.db_mt = {}
B.db_mt.__index = B.db_mt
B.space_methods, B.index_methods = {}, {}
B.space_mt = { __index = B.space_methods }
B.index_mt = { __index = B.index_methods }

return B
