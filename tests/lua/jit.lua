-- The hot paths compile: each loop of get, pairs (of tuples and of projected fields),
-- insert, replace, update, upsert, delete and field access gets a root trace of its own (so it runs compiled, not as side traces stitched to the
-- interpreter), and nothing in the module hits an NYI.
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local jutil = require('jit.util')
local test, eq = H.test, H.eq
local has_vmdef, vmdef = pcall(require, 'jit.vmdef') -- not shipped with every LuaJIT build

local function where(func, pc)
    local info = jutil.funcinfo(func, pc)
    return (info.source or '?'):match('[^/]*$') .. ':' .. tostring(info.currentline)
end

local started, looped, nyi = {}, {}, {}
local function on_trace(what, tr, func, pc, otr, oex)
    if what == 'start' then
        started[tr] = otr == nil and where(func, pc) or nil -- root traces only
    elseif what == 'stop' and started[tr] then
        looped[started[tr]] = true
    elseif what == 'abort' then
        local msg = has_vmdef and vmdef.traceerr[otr] or ''
        local at = where(func, pc)
        if msg:find('NYI') and at:find('jitbox') then
            if type(oex) == 'number' and msg:find('%%d') then msg = msg:format(oex) end
            nyi[#nyi + 1] = at .. ': ' .. msg
        end
    end
end

-- The line of the `for` that follows the call site of this function.
local function next_line() return debug.getinfo(2, 'l').currentline + 1 end

test('hot loops over the module run in their own traces, with no NYI', function()
    local db = jitbox.open{ memory_limit = 128 * 2^20 }
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    -- Warm-up: one call of each operation resolves its C symbols (a first lookup aborts a
    -- trace with 'symbol not in cache', once); DDL above runs with the JIT off by design.
    s:insert{0, 'w', 0}; s:replace{0, 'w', 0}; local _ = s:get{0}[1]
    for _ in s:pairs() do end
    for _ in s:pairs(nil, { fields = { 1 } }) do end
    s:update(0, {{'+', 3, 1}}); s:upsert({0, 'w', 0}, {{'+', 3, 1}})
    s:delete{0}; s:len()
    -- Realistic thresholds: with hotloop=1 every function gets hot before any loop and the
    -- trace structure says little about normal runs.
    jit.opt.start('hotloop=8', 'hotexit=4')
    jit.attach(on_trace, 'trace')
    local loops = {}
    loops.insert = next_line()
    for i = 1, 20000 do s:insert{i, 'name' .. (i % 100), i * 2} end
    local sum = 0
    loops.get = next_line()
    for i = 1, 20000 do sum = sum + s:get{i}[3] end
    eq(sum, 20000 * 20001)
    local n = 0
    loops.pairs = next_line()
    for _, t in s:pairs() do n = n + t[1] end
    eq(n, 20000 * 20001 / 2)
    local projected = 0
    loops.projection = next_line()
    for _, id, v in s:pairs(nil, { fields = { 1, 'v' } }) do projected = projected + v - id end
    eq(projected, 20000 * 20001 / 2)
    local byname = 0
    loops.field_by_name = next_line()
    for _, t in s:pairs() do byname = byname + t.v end
    eq(byname, 20000 * 20001)
    local k = 0
    for j = 1, 20 do
        loops.secondary = next_line()
        for _, t in s.index.by_name:pairs({'name' .. j}) do k = k + #t end
    end
    eq(k, 20 * 200 * 3)
    loops.replace = next_line()
    for i = 1, 20000 do s:replace{i, 'x', i} end
    loops.update = next_line()
    for i = 1, 20000 do s:update(i, {{'+', 3, 1}}) end
    eq(s:get{20000}[3], 20001)
    loops.upsert = next_line()
    for i = 1, 20000 do s:upsert({i, 'x', 0}, {{'=', 3, i}}) end
    loops.delete = next_line()
    for i = 1, 20000, 2 do s:delete{i} end
    eq(s:len(), 10000)
    jit.attach(on_trace)
    db:close()
    if #nyi > 0 then error('NYI in the module:\n' .. table.concat(nyi, '\n')) end
    local missing = {}
    for op, line in pairs(loops) do
        if not looped['jit.lua:' .. line] then missing[#missing + 1] = op .. ' (line ' .. line .. ')' end
    end
    table.sort(missing)
    -- Where rows are counted by a C function (a LuaJIT whose next() may crash, without
    -- OpenResty's table.nkeys: see base.lua), traces stitch around it and a loop may run as
    -- a chain of them rather than in a root trace of its own.
    local stitched = jit.version == 'LuaJIT 2.1.0-beta3' and not pcall(require, 'table.nkeys')
    if #missing > 0 and not stitched then
        error('hot loops without a root trace: ' .. table.concat(missing, ', '))
    end
end)

-- The IR calls the compiled traces make, by name (every trace still in the trace cache).
local function ir_calls()
    local calls = {}
    for tr = 1, 2000 do
        local info = jutil.traceinfo(tr)
        if info then
            for ref = 1, info.nins do
                local _, ot, _, op2 = jutil.traceir(tr, ref)
                local op = vmdef.irnames:sub(math.floor(ot / 256) * 6 + 1, math.floor(ot / 256) * 6 + 6)
                if op:match('^CALL[NALS]') then calls[vmdef.ircall[op2]] = true end
            end
        end
    end
    return calls
end

-- Instructions of op `name` in every trace still in the trace cache ({trace, ref, op1,
-- sunk}); with `looping`, only in traces that end in a trace (none that returns into the
-- interpreter).
local function ir_ops(name, looping)
    local found = {}
    for tr = 1, 2000 do
        local info = jutil.traceinfo(tr)
        if info and (not looping or (info.linktype ~= 'interpreter' and info.linktype ~= 'return')) then
            for ref = 1, info.nins do
                local _, ot, op1, _, ridsp = jutil.traceir(tr, ref)
                local op = vmdef.irnames:sub(math.floor(ot / 256) * 6 + 1, math.floor(ot / 256) * 6 + 6)
                if op:match('^(%S+)') == name then
                    local rid = ridsp % 256 -- 253 and 254: sunk (kept out of the machine code)
                    local k = op1 < 0 and jutil.tracek(tr, op1) or op1 -- a constant operand's value
                    found[#found + 1] = { tr = tr, ref = ref, op1 = k, sunk = rid == 253 or rid == 254 }
                end
            end
        end
    end
    return found
end

-- A write returns its tuple; a loop that does not read it allocates none: LuaJIT sinks the
-- small tuple's allocation (made by its constructor from scalars, never compared with nil).
-- (A trace that returns into the interpreter hands the tuple over, so it must make it.)
if has_vmdef then
    test('a compiled write loop allocates no tuple it does not read', function()
        local ffi = require('ffi')
        local small = tonumber(ffi.typeof('struct jb_tuple_small'))
        local db = jitbox.open()
        local s = db:create_space('t')
        s:create_index('pk')
        for pass = 1, 2 do
            jit.flush()
            for i = 1, 3000 do s:replace{i, 'x', i} end
            for i = 1, 3000 do s:insert{pass * 10000 + i, 'y'} end
            local made = 0
            for _, ins in ipairs(ir_ops('CNEW', true)) do
                if ins.op1 == small then
                    made = made + 1
                    assert(ins.sunk, ('trace %d makes a tuple at IR %04d that it drops'):format(ins.tr, ins.ref))
                end
            end
            assert(made > 0, 'no trace makes a small tuple: the loops were not compiled, or the scan reads nothing')
        end
        db:close()
    end)
end

-- LuaJIT issue #829: builds named 2.1.0-beta3 may compile next() into code that crashes.
-- No hot path of the module may put a next() into a trace there: rows and keys, read
-- options, tomap options, nested maps, functional keys.
if jit.version == 'LuaJIT 2.1.0-beta3' and has_vmdef then
    test('no trace calls next() on a LuaJIT that may miscompile it', function()
        jit.flush()
        local db = jitbox.open()
        local s = db:create_space('t', { format = {{'id', 'unsigned'}, {'name', 'string'}, {'m', 'any'}} })
        s:create_index('pk')
        s:create_index('f', { parts = {{1, 'string'}}, unique = false,
            func = function(t) return { t[2] } end })
        local n = 0
        for i = 1, 3000 do s:insert{i, 'n' .. i, { a = i, b = { i } }} end
        for i = 1, 3000 do n = n + s:get{i}[1] end
        for i = 1, 3000 do n = n + #s:select({i}, { iterator = 'GE', limit = 2 }) end
        for i = 1, 300 do for _, t in s:pairs({i}, { iterator = 'EQ' }) do n = n + t[1] end end
        for i = 1, 3000 do n = n + s:get{i}:tomap({ names_only = true }).id end
        for i = 1, 3000 do s:replace{i, 'r' .. i, { i, x = 1 }} end
        db:close()
        local calls = ir_calls()
        assert(n > 0)
        assert(not calls.lj_vm_next, 'a trace calls next()')
        assert(next(calls) ~= nil, 'no IR calls were seen: the scan reads nothing')
    end)
end

H.done('jit.lua')
