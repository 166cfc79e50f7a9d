-- Run by luaopen_jitbox and jitbox::lua::preload with the address of the library's table of
-- embedded module sources and exported functions. It registers every module of jitbox in
-- package.preload, bound to the library that ran it: jitbox.base receives the functions as
-- its second argument and calls through them, so no symbol is looked up by name and no second
-- copy of the library can be loaded; it also receives `nkeys`, the library's jitbox_lua_nkeys.
-- With register_only it stops there; otherwise it runs the module `name` (the one require
-- asked luaopen_jitbox for: jitbox, jitbox.box, ...; jitbox for any other) and returns it.
local address, register_only, nkeys, name = ...
local ffi = require('ffi')

if not pcall(ffi.typeof, 'struct jb_embedded') then
    ffi.cdef [[
        struct jb_embedded_item {
            const char *name; size_t name_len; const char *text; size_t text_len; const void *addr;
        };
        struct jb_embedded {
            const struct jb_embedded_item *modules; size_t module_count;
            const struct jb_embedded_item *functions; size_t function_count;
        };
    ]]
end
local embedded = ffi.cast('const struct jb_embedded *', address)

local functions = {}
for i = 0, tonumber(embedded.function_count) - 1 do
    local f = embedded.functions[i]
    functions[ffi.string(f.name, f.name_len)] = f.addr
end

local loaders = {}
for i = 0, tonumber(embedded.module_count) - 1 do
    local m = embedded.modules[i]
    local name = ffi.string(m.name, m.name_len)
    -- The source stays in the library (which is never unloaded) until its module is loaded.
    local text, len = m.text, m.text_len
    local chunk_name = '@' .. name:gsub('%.', '/') .. '.lua'
    loaders[name] = function(...)
        local chunk = assert(loadstring(ffi.string(text, len), chunk_name))
        return chunk(..., functions, nkeys)
    end
    package.preload[name] = loaders[name]
end

if not register_only then
    if not loaders[name] then name = 'jitbox' end
    return loaders[name](name)
end
