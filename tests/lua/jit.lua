-- The hot paths compile: loops of get, pairs, insert, replace, delete and field access run
-- inside JIT traces with no trace aborts in the module (no NYI, no fallback to the interpreter).
package.loaded.harness = nil
local H = require('harness')
local jitbox = require('jitbox')
local jutil = require('jit.util')
local test, eq = H.test, H.eq
local has_vmdef, vmdef = pcall(require, 'jit.vmdef') -- not shipped with every LuaJIT build

-- An abort is a failure when it is an NYI, or when the same place aborts again and again (that
-- is what gets code blacklisted and left to the interpreter). A single 'inner loop in root
-- trace' or similar is LuaJIT's normal handling of nested loops.
local aborts, traces, seen = {}, 0, {}
local function on_trace(what, tr, func, pc, otr, oex)
    if what == 'stop' then traces = traces + 1 end
    if what == 'abort' then
        local info = jutil.funcinfo(func, pc)
        local where = (info.source or '?') .. ':' .. tostring(info.currentline)
        if where:find('jitbox', 1, true) then
            local msg = has_vmdef and vmdef.traceerr[otr] or ('trace error ' .. tostring(otr))
            if type(oex) == 'number' and msg:find('%%d') then msg = msg:format(oex) end
            local key = where .. ': ' .. msg
            seen[key] = (seen[key] or 0) + 1
            if msg:find('NYI') or seen[key] == 4 then aborts[#aborts + 1] = key end
        end
    end
end

test('hot loops over the module compile without aborts', function()
    local db = jitbox.open{ memory_limit = 128 * 2^20 }
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    -- Warm-up: one call of each operation resolves its C symbols (a first lookup aborts a
    -- trace with 'symbol not in cache', once); DDL above runs with the JIT off by design.
    s:insert{0, 'w', 0}; s:replace{0, 'w', 0}; local _ = s:get{0}[1]
    for _ in s:pairs() do end
    s:delete{0}; s:len()
    jit.opt.start('hotloop=1', 'hotexit=2')
    jit.attach(on_trace, 'trace')
    for i = 1, 20000 do s:insert{i, 'name' .. (i % 100), i * 2} end
    local sum = 0
    for i = 1, 20000 do sum = sum + s:get{i}[3] end
    eq(sum, 20000 * 20001)
    local n = 0
    for _, t in s:pairs() do n = n + t[1] end
    eq(n, 20000 * 20001 / 2)
    local k = 0
    for _, t in s.index.by_name:pairs({'name7'}) do k = k + 1 end
    eq(k, 200)
    for i = 1, 20000 do s:replace{i, 'x', i} end
    for i = 1, 20000, 2 do s:delete{i} end
    eq(s:len(), 10000)
    jit.attach(on_trace)
    db:close()
    assert(traces >= 6, 'expected compiled traces for the hot loops, got ' .. traces)
    if #aborts > 0 then
        error('trace aborts in the module:\n' .. table.concat(aborts, '\n'))
    end
end)

H.done('jit.lua')
