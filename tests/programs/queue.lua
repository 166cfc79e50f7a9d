-- A job queue: jobs get ids from a sequence; workers take the oldest ready job through a
-- (status, id) index, mark it taken, and ack or release it; a failed job goes back.
box.cfg{ wal_mode = 'none', log_level = 1 }

local jobs = box.schema.space.create('jobs', { format = {
    { 'id', 'unsigned' }, { 'status', 'string' }, { 'payload', 'string' }, { 'tries', 'unsigned' } } })
jobs:create_index('pk', { sequence = true })
jobs:create_index('status', { parts = { { 'status', 'string' }, { 'id', 'unsigned' } } })

local function put(payload) return jobs:insert{ box.NULL, 'ready', payload, 0 } end

local function take()
    return box.atomic(function()
        local t = jobs.index.status:select({ 'ready' }, { limit = 1 })[1]
        if t == nil then return nil end
        return jobs:update(t.id, { { '=', 'status', 'taken' }, { '+', 'tries', 1 } })
    end)
end

local function ack(id) return jobs:delete(id) end
local function release(id) return jobs:update(id, { { '=', 'status', 'ready' } }) end

for i = 1, 12 do put('job' .. i) end
print('ready', jobs.index.status:count({ 'ready' }))
local done = {}
for round = 1, 30 do
    local t = take()
    if t == nil then break end
    if t.id % 4 == 0 and t.tries < 3 then
        release(t.id) -- fails, will be retried
    else
        ack(t.id)
        done[#done + 1] = t.payload .. '/' .. t.tries
    end
    if round == 5 then put('late') end
end
print('done', table.concat(done, ' '))
print('left', jobs:len(), jobs.index.status:count({ 'ready' }), jobs.index.status:count({ 'taken' }))
print('next id', put('last').id, box.sequence.jobs_seq:current())

-- A put inside a transaction that rolls back still uses up its id.
box.begin()
local gone = put('gone')
box.rollback()
print('rolled back id', gone.id, 'next', put('after').id)
os.exit(0)
