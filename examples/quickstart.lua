-- jitbox quick start: spaces, indexes, writes, reads, iteration and an error.
local jitbox = require('jitbox')

local db = jitbox.open{ memory_limit = 64 * 2^20 }
local people = db:create_space('people', {
    format = {{'id', 'unsigned'}, {'name', 'string'}, {'city', 'string'}, {'age', 'unsigned'}},
})
people:create_index('pk', { parts = {'id'} })
people:create_index('by_city', { parts = {'city', 'id'} })

people:insert{1, 'Ada', 'London', 36}
people:insert{2, 'Grace', 'New York', 45}
people:insert{3, 'Linus', 'Helsinki', 28}
people:insert{4, 'Barbara', 'New York', 41}
people:replace{3, 'Linus', 'Portland', 29}

local t = people:get{2}
print(('get{2}         -> %s (name %s, %d fields)'):format(tostring(t), t[2], #t))

io.write('by_city New York:')
for _, p in people.index.by_city:pairs({'New York'}) do io.write(' ', p[2]) end
print()

io.write('id >= 2, first 2:')
for _, p in ipairs(people:select({2}, { iterator = 'GE', limit = 2 })) do io.write(' ', p[1]) end
print()

local ok, err = pcall(people.insert, people, {1, 'Duplicate', 'Nowhere', 1})
print(('insert duplicate -> %s'):format(ok and 'ok?!' or tostring(err)))
print(('error code       -> %s'):format(err.code))

local loop_sum = 0
for i = 1, 100000 do people:replace{100 + i % 1000, 'bulk', 'Loop', i % 90} end
for _, p in people:pairs() do loop_sum = loop_sum + p[4] end
print(('%d people, age sum %d, %.1f MiB used'):format(people:len(), loop_sum, db:stat().memory_used / 2^20))
db:close()
