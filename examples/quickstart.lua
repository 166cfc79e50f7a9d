-- jitbox quick start: spaces and indexes, writes and reads, a transaction, an error, and
-- durability (write to a directory, close, open it again).
local jitbox = require('jitbox')

-- A directory for the write-ahead log and snapshots; without `dir` the engine is memory only.
local dir = os.tmpname()
os.remove(dir)

local function open()
    return jitbox.open{ dir = dir, wal_mode = 'write', memory_limit = 64 * 2^20 }
end

local db = open()
local people = db:create_space('people', {
    format = {{'id', 'unsigned'}, {'name', 'string'}, {'city', 'string'}, {'age', 'unsigned'}},
})
people:create_index('pk', { parts = {'id'} })
people:create_index('by_city', { parts = {'city', 'id'} })

people:insert{1, 'Ada', 'London', 36}
people:insert{2, 'Grace', 'New York', 45}
people:insert{3, 'Linus', 'Helsinki', 28}
people:replace{3, 'Linus', 'Portland', 29}

local t = people:get{2}
print(('get{2}            -> %s (name %s, %d fields)'):format(tostring(t), t.name, #t))

io.write('by_city New York:  ')
for _, p in people.index.by_city:pairs({'New York'}) do io.write(p.name, ' ') end
print()

-- A transaction: both writes, or neither. db:txn commits, or rolls back if the function fails.
db:txn(function()
    people:insert{4, 'Barbara', 'New York', 41}
    people:update(2, {{'+', 'age', 1}})
end)
local ok, err = pcall(db.txn, db, function()
    people:insert{5, 'Edsger', 'Austin', 72}
    people:insert{1, 'Duplicate', 'Nowhere', 1} -- fails: id 1 exists; 5 is rolled back too
end)
print(('failed transaction -> %s; id 5 %s'):format(err.code, people:get{5} and 'kept?!' or 'rolled back'))

-- Every commit above is in the log. Close, open the directory again: the data is there.
db:close()
db = open()
people = db.space.people
print(('after reopening    -> %d people, Grace is %d'):format(people:len(), people:get{2}.age))
db:close()
os.execute(('rm -rf %q'):format(dir))

print([[
next: docs/lua-api.md (the whole Lua API), README.md (C, Rust, install), jitbox.box (Tarantool's box API)]])
