-- A user directory: a named format with nullable fields, e-mail addresses unique whatever
-- their case (unicode_ci), names in alphabetical order (unicode), optional phones unique
-- when given, tags and a profile stored as nested values, users found by tag through a
-- multikey index on the tags array.
box.cfg{ wal_mode = 'none', log_level = 1 }

local users = box.schema.space.create('users', { format = {
    { 'id', 'unsigned' }, { 'email', 'string' }, { 'name', 'string' },
    { 'phone', 'string', is_nullable = true }, { 'tags', 'array' },
    { 'profile', 'map', is_nullable = true } } })
users:create_index('pk')
users:create_index('email', { parts = { { 'email', 'string', collation = 'unicode_ci' } } })
users:create_index('phone', { parts = { { 'phone', 'string', is_nullable = true } } })
users:create_index('name', { parts = { { 'name', 'string', collation = 'unicode' }, { 'id', 'unsigned' } } })
users:create_index('tag', { parts = { { 'tags[*]', 'string' } }, unique = false })

local function register(id, email, name, tags, profile)
    local ok, err = pcall(users.insert, users, { id, email, name, box.NULL, tags or {}, profile or box.NULL })
    if not ok then
        print('register', email, 'failed', err.code == box.error.TUPLE_FOUND and 'duplicate' or err.code)
    end
end

register(1, 'Ann@Example.com', 'Ann', { 'admin' }, { city = 'Oslo', lang = 'nb' })
register(2, 'bob@example.com', 'bob', { 'dev', 'ops' })
register(3, 'ANN@example.COM', 'Ann again')
register(4, 'Émile@example.com', 'Émile', { 'dev' }, { city = 'Lyon' })
register(5, 'zoe@example.com', 'Zoé', {})
register(6, 'emile@example.com', 'Emile')
register(7, 'Ada@example.com', 'ada', { 'admin', 'dev' })

print('by e-mail', users.index.email:get('ann@EXAMPLE.com').name)
print('by e-mail with accent', users.index.email:get('EMILE@example.com').name)

local names = {}
for _, t in users.index.name:pairs() do names[#names + 1] = t.name end
print('names', table.concat(names, ', '))

print('without a phone', users.index.phone:count({ box.NULL }))
users:update(2, { { '=', 'phone', '+47 100' } })
local ok, err = pcall(users.update, users, 7, { { '=', 'phone', '+47 100' } })
print('same phone', ok, err.code == box.error.TUPLE_FOUND)
users:update(7, { { '=', 'phone', '+47 200' } })
print('by phone', users.index.phone:get('+47 200').name, 'without a phone', users.index.phone:count({ box.NULL }))

-- Tags: the admins, and a tag added.
local function with_tag(tag)
    local r = {}
    for _, t in users.index.tag:pairs(tag) do r[#r + 1] = t.id end
    return table.concat(r, ',')
end
print('admins', with_tag('admin'), 'devs', with_tag('dev'))
local t = users:get(5)
local tags = t.tags
tags[#tags + 1] = 'admin'
users:update(5, { { '=', 'tags', tags } })
print('admins now', with_tag('admin'), #users:get(5).tags)
print('tag entries', users.index.tag:len(), 'tuples', users:len())
local ok2, err2 = pcall(users.insert, users, { 8, 'x@example.com', 'x', box.NULL, { 1 } })
print('a tag that is not a string', ok2, err2.code == box.error.FIELD_TYPE)

-- Profiles: nested maps, read by name.
for _, u in users:pairs() do
    if u.profile ~= nil then print('profile', u.name, u.profile.city, u.profile.lang) end
end
users:update(2, { { '=', 'profile', { city = 'Bergen' } } })
print('bob lives in', users:get(2).profile.city)

local m = users:get(1):tomap{ names_only = true }
local keys = {}
for k in pairs(m) do keys[#keys + 1] = k end
table.sort(keys)
print('fields', table.concat(keys, ' '))
print('count', users:len())
os.exit(0)
