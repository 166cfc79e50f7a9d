local jitbox = require('jitbox')
local db = jitbox.open{ memory_limit = 64 * 2^20 }
local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
s:create_index('pk', { parts = {{1, 'unsigned'}} })
local t = s:insert{1, 'a', 10}
assert(t[1] == 1 and t[2] == 'a' and t[3] == 10 and #t == 3)
assert(s:get{1}[2] == 'a')
db:close()
print('basic ok')
