-- Page-view counters kept with upsert: the first hit of a page creates its row, every later
-- one increments it; the most viewed pages come from a secondary index.
box.cfg{ wal_mode = 'none', log_level = 1 }

local hits = box.schema.space.create('hits', { format = {
    { 'page', 'string' }, { 'views', 'unsigned' }, { 'last', 'unsigned' } } })
hits:create_index('pk', { type = 'hash', parts = { 'page' } })
hits:create_index('by_views', { parts = { { 'views' }, { 'page' } } })

local pages = { '/', '/about', '/blog', '/blog/1', '/blog/2', '/contact' }
local seed = 7
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return math.floor(seed / 65536) % n + 1 end
for i = 1, 500 do
    local page = pages[rnd(#pages)]
    hits:upsert({ page, 1, i }, { { '+', 'views', 1 }, { '=', 'last', i } })
end

print('most viewed')
for _, t in hits.index.by_views:pairs(nil, { iterator = 'REQ' }) do
    print(t.page, t.views, t.last)
end
print('pages', hits:count(), hits:len())

-- An operation that does not fit the row is skipped (and logged); the others apply.
hits:upsert({ '/', 1, 0 }, { { '+', 'page', 1 }, { '=', 'last', 999 } })
local home = hits:get('/')
print('home', home.views, home.last)

local ok, err = pcall(hits.insert, hits, { '/', 1, 1 })
print('duplicate', ok, err.code == box.error.TUPLE_FOUND, err.code)
ok, err = pcall(hits.update, hits, '/', { { '-', 'views', 100000 } })
print('below zero', ok, err.code == box.error.FIELD_TYPE)
ok, err = pcall(hits.update, hits, '/', { { '=', 'page', '/home' } })
print('rename the key', ok, err.code == box.error.CANT_UPDATE_PRIMARY_KEY)
print('missing page', hits:update('/nope', { { '+', 'views', 1 } }))

-- Reset the counters in one transaction.
box.atomic(function()
    for _, t in hits:pairs() do hits:update(t.page, { { '=', 'views', 0 } }) end
end)
print('after reset', hits.index.by_views:max().views, hits.index.by_views:count({ 0 }))
os.exit(0)
