-- A game leaderboard: each game adds points to a player in a transaction; the top players and
-- a player's rank come from an index on (score, player).
box.cfg{ wal_mode = 'none', log_level = 1 }

local scores = box.schema.space.create('scores', { format = {
    { 'player', 'string' }, { 'score', 'integer' }, { 'games', 'unsigned' } } })
scores:create_index('pk', { parts = { 'player' } })
local rank = scores:create_index('rank', { parts = { { 'score', 'integer' }, { 'player', 'string' } } })

local seed = 42
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return math.floor(seed / 65536) % n + 1 end

local function play(player, points)
    box.begin()
    if scores:get(player) then
        scores:update(player, { { '+', 'score', points }, { '+', 'games', 1 } })
    else
        scores:insert{ player, points, 1 }
    end
    box.commit()
end

for _ = 1, 300 do play('player' .. rnd(25), rnd(200) - 50) end

local function top(n)
    local out = {}
    for _, t in rank:pairs(nil, { iterator = 'REQ' }) do
        out[#out + 1] = ('%s=%d/%d'):format(t.player, t.score, t.games)
        if #out == n then break end
    end
    return table.concat(out, ' ')
end
print('top 5', top(5))

local function rank_of(player)
    local t = scores:get(player)
    return rank:count({ t.score }, { iterator = 'GT' }) + 1
end
print('rank of player7', rank_of('player7'), scores:get('player7').score)
print('best', rank:max().player, 'worst', rank:min().player)
print('players', scores:len(), 'games', (function()
    local n = 0
    for _, t in scores:pairs() do n = n + t.games end
    return n
end)())

-- A game that fails midway changes nothing.
local before = top(3)
local ok, err = pcall(box.atomic, function()
    scores:update('player1', { { '+', 'score', 1000 } })
    scores:insert{ 'player1', 0, 0 }
end)
print('failed game', ok, err.code == box.error.TUPLE_FOUND, top(3) == before)

-- A savepoint undoes part of a transaction.
box.begin()
scores:update('player2', { { '+', 'score', 5 } })
local sp = box.savepoint()
scores:delete('player2')
box.rollback_to_savepoint(sp)
box.commit()
print('player2 kept', scores:get('player2') ~= nil)
os.exit(0)
