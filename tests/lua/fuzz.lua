-- A seeded fuzz test of the Lua API against a model. Workers (coroutines, each with its own
-- transactions) interleave at random: writes of plain, proxy and metatable rows, updates and
-- upserts, key functions that yield to the other workers in the middle of a write (an update
-- must then apply to the row as it is at the write), iterations that write
-- at the cursor, ahead and behind and yield between steps, transactions that commit, roll
-- back, conflict or are abandoned. Every read is checked against the model of what its
-- reader sees. Fixed seeds by default; longer on demand:
--   JITBOX_FUZZ_SEEDS=200 JITBOX_FUZZ_STEPS=3000 luajit tests/lua/fuzz.lua
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')

local SEEDS = tonumber(os.getenv('JITBOX_FUZZ_SEEDS') or 6)
local STEPS = tonumber(os.getenv('JITBOX_FUZZ_STEPS') or 600)
local KEYS, WORKERS = 24, 3

local function run(seed)
    math.randomseed(seed)
    local rnd = math.random
    -- Every third seed writes a WAL, and the end reopens it: recovery must give the model.
    local dir = seed % 3 == 0 and H.tmpdir() or nil
    -- The row each worker is writing (by its serial): its key function yields there, before
    -- the write reaches the engine; every other call (old versions, the drain) does not.
    local writing = {}
    local function key_m(t)
        local co = coroutine.running()
        if co and writing[co] == t[4] and rnd() < 0.5 then coroutine.yield() end
        return { t[3] % 5 }
    end
    local function open()
        return jitbox.open{ memory_limit = 256 * 2^20, dir = dir, wal_mode = dir and 'write' or nil,
            functions = { f = { by_m = key_m } } }
    end
    local db = open()
    local s = db:create_space('f')
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    local by_a = s:create_index('by_a', { parts = {{2, 'unsigned'}}, unique = false })
    local by_m = s:create_index('by_m', { unique = false, parts = {{1, 'integer'}}, func = key_m })

    -- The model: the committed rows, when each key was last committed (a commit count), and
    -- each worker's open transaction (snapshot, own writes, doomed).
    local committed, written, clock, serial = {}, {}, 0, 0
    local function copy(m) local c = {} for k, v in pairs(m) do c[k] = v end return c end
    local function view(w)
        local tx = w.tx
        if not tx then return committed end
        local v = copy(tx.snap)
        for k, r in pairs(tx.writes) do v[k] = r or nil end
        return v
    end
    local log = {}
    local function fail(w, what)
        error(('seed %d, worker %d: %s\nlast ops:\n%s'):format(seed, w.id, what,
            table.concat(log, "\n", math.max(1, #log - (tonumber(os.getenv("JITBOX_FUZZ_LOG")) or 15)))), 0)
    end
    local function same(w, t, r, what)
        if r == nil then
            if t ~= nil then fail(w, what .. ': got ' .. tostring(t) .. ', expected none') end
            return
        end
        if t == nil or t[1] ~= r[1] or t[2] ~= r[2] or t[3] ~= r[3] or t[4] ~= r[4] then
            fail(w, ('%s: got %s, expected [%d, %d, %d, %d]'):format(what, tostring(t), r[1], r[2], r[3], r[4]))
        end
    end
    local function code_of(err) local e = jitbox.error(err) return e and e.code or tostring(err) end
    local function changed_since(tx, k) return (written[k] or 0) > tx.began end

    -- The model's side of a write that succeeded. A transaction that deletes a row it created
    -- itself, having touched no version it did not create, has written nothing there (the
    -- engine keeps no trace of it, and no commit can conflict with it).
    local function apply(w, k, r)
        local tx = w.tx
        if tx then
            if tx.writes[k] == nil and tx.snap[k] ~= nil then tx.touched[k] = true end
            if r == nil and tx.writes[k] and not tx.touched[k] then
                tx.writes[k] = nil
            else
                tx.writes[k] = r or false
            end
        else
            clock = clock + 1
            committed[k], written[k] = r or nil, clock
            log[#log] = log[#log] .. ' (commit ' .. clock .. ')'
        end
    end

    -- A row as the workers write it, in one of the forms a row can take.
    local function new_row(k)
        serial = serial + 1
        local r = { k, rnd(0, 3), rnd(-50, 50), serial }
        local form = rnd(4)
        if form == 1 then return r, r end
        if form == 2 then -- a proxy: holes filled by __index, which may collect or read
            return r, setmetatable({ k, nil, nil, r[4] }, { __index = function(_, i)
                if rnd() < 0.3 then collectgarbage() end
                if rnd() < 0.3 then local _ = s:get{rnd(KEYS)} end
                return r[i]
            end })
        end
        if form == 3 then -- a metatable that changes nothing
            return r, setmetatable({ r[1], r[2], r[3], r[4] }, { __index = function() error('not read') end })
        end
        return r, { k, r[2], r[3], r[4], nil } -- a trailing nil is no field
    end

    -- Whether a write's outcome ends the step: a doomed transaction must get CONFLICT; a
    -- conflict dooms a transaction whose key changed since it began; `expected(code)` says
    -- which other failures the model allows. Anything else fails the test.
    local function settled(w, k, ok, res, expected)
        local tx = w.tx
        if tx and tx.doomed then
            if ok or code_of(res) ~= 'CONFLICT' then fail(w, 'a doomed transaction wrote') end
            return true
        end
        if ok then return false end
        local c = code_of(res)
        if c == 'CONFLICT' and tx and changed_since(tx, k) then tx.doomed = true return true end
        if expected and expected(c) then return true end
        fail(w, 'write failed: ' .. tostring(res))
    end

    -- An update or upsert: {'+', 3, d}, a new serial in field 4, and (update) a new field 2.
    -- What it makes of the row depends on the row at the write, so the model applies it then.
    local function write_ops(w, k, op)
        local d, a = rnd(-5, 5), rnd(0, 3)
        serial = serial + 1
        local sn = serial
        local r0, row
        if op == 5 then r0, row = new_row(k) sn = r0[4] end
        local ops = op == 4 and { { '+', 3, d }, { '=', 2, a }, { '=', 4, sn } } or { { '+', 3, d }, { '=', 4, sn } }
        writing[coroutine.running()] = sn
        local ok, res
        if op == 4 then ok, res = pcall(s.update, s, rnd() < 0.5 and { k } or k, ops)
        else ok, res = pcall(s.upsert, s, row, ops) end
        writing[coroutine.running()] = nil
        log[#log + 1] = ('w%d %s %d d=%d a=%d sn=%d -> %s'):format(w.id, op == 4 and 'update' or 'upsert', k, d, a, sn,
            ok and tostring(res) or code_of(res))
        local v = view(w)
        if settled(w, k, ok, res) then return end
        local old = v[k]
        local r
        if old then
            r = { k, op == 4 and a or old[2], old[3] + d, sn }
        elseif op == 5 then
            r = r0
        end
        if op == 4 then same(w, res, r, 'update result')
        elseif res ~= nil then fail(w, 'upsert returned ' .. tostring(res)) end
        if r then apply(w, k, r) end
    end

    local function write(w)
        local k, op = rnd(KEYS), rnd(5)
        if op >= 4 then return write_ops(w, k, op) end
        local v = view(w)
        local r, row = nil, nil
        if op ~= 3 then r, row = new_row(k) end
        writing[coroutine.running()] = r and r[4]
        local ok, res
        if op == 1 then ok, res = pcall(s.insert, s, row)
        elseif op == 2 then ok, res = pcall(s.replace, s, row)
        else ok, res = pcall(s.delete, s, rnd() < 0.5 and { k } or k) end
        writing[coroutine.running()] = nil
        log[#log + 1] = ('w%d %s %d %s -> %s'):format(w.id, ({ 'insert', 'replace', 'delete' })[op], k,
            r and table.concat(r, ',') or '', ok and tostring(res) or code_of(res))
        v = view(w) -- the view at the write (other workers ran while the key function yielded)
        if settled(w, k, ok, res, function(c) return c == 'TUPLE_FOUND' and op == 1 and v[k] ~= nil end) then
            return
        end
        if op == 1 and v[k] then fail(w, 'insert over an existing row') end
        if op == 3 then
            same(w, res, v[k], 'delete result')
            if v[k] then apply(w, k, nil) end
        else
            same(w, res, r, 'write result')
            apply(w, k, r)
        end
    end

    local function sorted_keys(v, pred)
        local ks = {}
        for k = 1, KEYS do if v[k] and (not pred or pred(v[k])) then ks[#ks + 1] = k end end
        return ks
    end
    local function same_list(w, rows, ks, v, what)
        if #rows ~= #ks then fail(w, ('%s: %d rows, expected %d'):format(what, #rows, #ks)) end
        for i, k in ipairs(ks) do same(w, rows[i], v[k], what) end
    end

    -- A doomed transaction's reads fail with CONFLICT; returns whether the read may go on.
    local function doomed_read(w, ok, err, what)
        if not (w.tx and w.tx.doomed) then
            if not ok then fail(w, what .. ' failed: ' .. tostring(err)) end
            return false
        end
        if ok or code_of(err) ~= 'CONFLICT' then
            fail(w, ('a doomed transaction read (%s): %s'):format(what, tostring(err)))
        end
        return true
    end

    local function read(w)
        local v, what = view(w), rnd(5)
        if what == 1 then
            local k = rnd(KEYS)
            local key = rnd() < 0.3 and setmetatable({ k }, {}) or { k }
            local ok, t = pcall(s.get, s, key)
            if not doomed_read(w, ok, t, 'get') then same(w, t, v[k], 'get ' .. k) end
        elseif what == 2 then
            local ok, rows = pcall(s.select, s)
            if not doomed_read(w, ok, rows, 'select') then same_list(w, rows, sorted_keys(v), v, 'select') end
        elseif what == 3 then
            local a = rnd(0, 3)
            local ok, rows = pcall(by_a.select, by_a, { a })
            if not doomed_read(w, ok, rows, 'by_a') then
                same_list(w, rows, sorted_keys(v, function(r) return r[2] == a end), v, 'by_a ' .. a)
            end
        elseif what == 4 then
            local m = rnd(0, 4)
            local ok, rows = pcall(by_m.select, by_m, { m })
            if not doomed_read(w, ok, rows, 'by_m') then
                same_list(w, rows, sorted_keys(v, function(r) return r[3] % 5 == m end), v, 'by_m ' .. m)
            end
        else
            local ok, n = pcall(s.len, s)
            if not doomed_read(w, ok, n, 'len') and n ~= #sorted_keys(v) then
                fail(w, ('len %d, expected %d'):format(n, #sorted_keys(v)))
            end
        end
    end

    -- A pairs loop that writes and yields as it goes: each step returns the first row after
    -- the last one that the reader sees at that moment.
    local function iterate(w)
        local prev = 0
        local ok, err = pcall(function()
            for _, t in s:pairs() do
                local v = view(w)
                local want = nil
                for k = prev + 1, KEYS do if v[k] then want = k break end end
                if want == nil then fail(w, ('pairs: got %s after %d, expected the end'):format(tostring(t), prev)) end
                same(w, t, v[want], ('pairs after %d'):format(prev))
                prev = t[1]
                for _ = 1, rnd(0, 2) do
                    if rnd() < 0.5 then write(w) else coroutine.yield() end
                    if w.tx and w.tx.doomed then return end
                end
            end
            local v = view(w)
            for k = prev + 1, KEYS do if v[k] then fail(w, ('pairs ended before %d'):format(k)) end end
        end)
        if not ok then
            if w.tx and w.tx.doomed and code_of(err) == 'CONFLICT' then return end
            error(err, 0)
        end
    end

    local function transaction(w)
        local tx = w.tx
        if not tx then
            db:begin()
            w.tx = { began = clock, snap = copy(committed), writes = {}, touched = {} }
            log[#log + 1] = ('w%d begin at %d'):format(w.id, clock)
            return
        end
        log[#log + 1] = ('w%d ends its transaction'):format(w.id)
        local r = rnd()
        if r < 0.1 then return 'abandon' end
        if r < 0.4 then
            db:rollback()
            w.tx = nil
            return
        end
        local ok, err = pcall(db.commit, db)
        w.tx = nil
        if tx.doomed then
            if ok or code_of(err) ~= 'CONFLICT' then fail(w, 'a doomed transaction committed') end
            return
        end
        local lost = false
        for k in pairs(tx.writes) do lost = lost or changed_since(tx, k) end
        if ok then
            if lost then
                local why = {}
                for k in pairs(tx.writes) do
                    if changed_since(tx, k) then why[#why + 1] = ('%d (committed at %d)'):format(k, written[k]) end
                end
                fail(w, ('a commit that should conflict succeeded: it began at %d and wrote %s')
                    :format(tx.began, table.concat(why, ', ')))
            end
            clock = clock + 1
            for k, row in pairs(tx.writes) do committed[k], written[k] = row or nil, clock end
        elseif not (lost and code_of(err) == 'CONFLICT') then
            fail(w, 'commit failed: ' .. tostring(err))
        end
    end

    local stopping = false
    local function worker(id)
        local w = { id = id }
        return coroutine.create(function()
            while true do
                if stopping then
                    if w.tx then db:rollback(); w.tx = nil end
                    return 'stopped'
                end
                local r = rnd()
                if r < 0.45 then write(w)
                elseif r < 0.75 then read(w)
                elseif r < 0.85 then iterate(w)
                elseif transaction(w) == 'abandon' then
                    return 'abandoned' -- its coroutine is dropped with the transaction open
                end
                if w.tx and w.tx.doomed and rnd() < 0.5 then db:rollback(); w.tx = nil end
                coroutine.yield()
            end
        end), w
    end

    local workers, next_id, held = {}, 0, {}
    for i = 1, WORKERS do next_id = next_id + 1; workers[i] = { worker(next_id) } end
    for _ = 1, STEPS do
        local i = rnd(#workers)
        local co, w = workers[i][1], workers[i][2]
        local ok, res = coroutine.resume(co)
        if not ok then error(res, 0) end
        if coroutine.status(co) == 'dead' then
            -- Abandoned: the model drops its transaction (it never committed); a new worker
            -- takes its place. The engine rolls it back once the coroutine is collected, or,
            -- when something keeps the dead coroutine (as a compiled trace can), at its
            -- next sweep.
            w.tx = nil
            if rnd() < 0.5 then held[#held + 1] = co end
            next_id = next_id + 1
            workers[i] = { worker(next_id) }
        end
        if rnd() < 0.02 then collectgarbage() end
    end
    -- The end: each worker finishes what it was doing and rolls back; what is committed is
    -- what the model says.
    stopping = true
    for _, pair in ipairs(workers) do
        while coroutine.status(pair[1]) ~= 'dead' do
            local ok, res = coroutine.resume(pair[1])
            if not ok then error(res, 0) end
        end
    end
    workers = nil
    collectgarbage(); collectgarbage()
    local function check_final(what)
        local final = { id = 0 }
        same_list(final, s:select(), sorted_keys(committed), committed, what .. ' select')
        for a = 0, 3 do
            same_list(final, by_a:select{ a }, sorted_keys(committed, function(r) return r[2] == a end), committed,
                what .. ' by_a')
        end
        for m = 0, 4 do
            same_list(final, by_m:select{ m }, sorted_keys(committed, function(r) return r[3] % 5 == m end), committed,
                what .. ' by_m')
        end
        H.eq(s:len(), #sorted_keys(committed), what .. ' len')
    end
    check_final('final')
    H.eq(db:stat().txn_open, 0, 'transactions left open')
    held = nil
    db:gc()
    H.eq(db:stat().versions, 0, 'versions left')
    db:close()
    if dir then
        db = open()
        s = db.space.f
        by_a, by_m = s.index.by_a, s.index.by_m
        check_final('recovered')
        db:close()
        H.rmdir(dir)
    end
    return clock
end

H.test(('the Lua API against a model, %d seeds of %d steps'):format(SEEDS, STEPS), function()
    local commits = 0
    for seed = 1, SEEDS do commits = commits + run(seed) end
    assert(commits > SEEDS * 10, 'the workers committed ' .. commits .. ' times')
end)

H.done('fuzz.lua')
