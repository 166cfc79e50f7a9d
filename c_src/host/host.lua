-- Run by c_src/host/host.c with ENGINE set to a jb_engine* opened in C.
local jitbox = require('jitbox')
assert(type(jitbox.lib) == 'cdata', 'the module is not the one the library carries')
local db = jitbox.attach(ENGINE)
local users = db.space.users
local t = users:get{1}
assert(t and t[2] == 'inserted by C', 'Lua does not see the tuple C inserted')
print('Lua sees: ' .. tostring(t))
users:insert{2, 'inserted by Lua'}
