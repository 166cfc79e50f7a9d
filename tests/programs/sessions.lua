-- A session store: sessions expire; a sweep deletes the expired ones in batches through an
-- index on the expiry time; a touch extends a session.
box.cfg{ wal_mode = 'none', log_level = 1 }

local sessions = box.schema.space.create('sessions', { if_not_exists = true, format = {
    { 'sid', 'string' }, { 'user', 'unsigned' }, { 'expires', 'unsigned' },
    { 'data', 'string', is_nullable = true } } })
sessions:create_index('pk', { parts = { 'sid' }, if_not_exists = true })
sessions:create_index('expires', { parts = { { 'expires', 'unsigned' }, { 'sid', 'string' } },
    if_not_exists = true })
sessions:create_index('user', { parts = { { 'user', 'unsigned' }, { 'sid', 'string' } },
    if_not_exists = true })

local TTL = 300
local now = 1000
local serial = 0
local function login(user, data)
    serial = serial + 1
    local sid = ('s%05d'):format(serial)
    sessions:insert{ sid, user, now + TTL, data == nil and box.NULL or data }
    return sid
end

local function touch(sid)
    return sessions:update(sid, { { '=', 'expires', now + TTL } }) ~= nil
end

-- Deletes what expired before `now`, 10 at a time, each batch in one transaction.
local function sweep()
    local total = 0
    while true do
        local batch = sessions.index.expires:select({ now }, { iterator = 'LT', limit = 10 })
        if #batch == 0 then return total end
        box.atomic(function()
            for _, t in ipairs(batch) do sessions:delete(t.sid) end
        end)
        total = total + #batch
    end
end

local seed = 3
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return math.floor(seed / 65536) % n + 1 end
local sids = {}
for step = 1, 400 do
    now = now + rnd(5)
    if rnd(3) == 1 or #sids == 0 then
        sids[#sids + 1] = login(rnd(40), rnd(2) == 1 and ('cart' .. step) or nil)
    else
        touch(sids[rnd(#sids)])
    end
    if step % 50 == 0 then print('step', step, 'swept', sweep(), 'live', sessions:len()) end
end

local u = sessions.index.user:select({ 7 })
print('user 7 has', #u, 'sessions')
local with_data = 0
for _, t in sessions:pairs() do if t.data ~= nil then with_data = with_data + 1 end end
print('with data', with_data, 'first expiry', sessions.index.expires:min().expires - now)
print('touch a swept session', touch('s00001'))
os.exit(0)
