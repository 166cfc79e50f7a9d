-- jitbox.deferred: the engine's deferred work, run from Lua.
--
-- Old versions whose functional-index entries need a Lua key function wait in the engine's
-- queue ("buried") until we drain it: pull-style, with HOT leaf calls — the engine hands over
-- the oldest version, its keys are computed here, and a second call removes its entries. No
-- callback from C into Lua, so this runs anywhere, compiled. Whatever else is queued (log
-- messages; versions of spaces this module does not know) runs in jb_engine_run_deferred, a
-- SAFE entry, from `run`: jit.off, so no trace is running when it calls C. Writes drain once
-- the engine's pending counter reaches DRAIN_AT (one side exit per batch, not per write);
-- commits and db:gc() whenever anything is pending.

local ffi = require('ffi')
local B = require('jitbox.base')
local keys = require('jitbox.keys')
local make_tuple = require('jitbox.tuple').make_tuple
local C, raise = B.C, B.raise

local D = { DRAIN_AT = 64 }

local buried_space = ffi.new('uint64_t[1]')
local buried_data = ffi.new('const uint8_t*[1]')
local buried_size = ffi.new('size_t[1]')

local function run(db)
    local rc = C.jb_engine_run_deferred(db._e, 0, nil)
    if rc ~= 0 then raise(rc) end
end
jit.off(run)
D.run = run

function D.drain(db)
    if db._closed then return end
    local e = db._e
    while C.jb_engine_buried_next(e, buried_space, buried_data, buried_size) == 0 do
        local data = buried_data[0]
        if data == nil then break end
        local space = db._func_spaces[tonumber(buried_space[0])]
        if not space or not space._funcs then break end
        -- A failing key function forgets by a search of the index (keys NULL).
        local ok, k = pcall(keys.compute, space._funcs, make_tuple(data, buried_size[0], space._fmt))
        if C.jb_engine_buried_forget(e, data, ok and k or nil) ~= 0 then break end
    end
    if not db._closed and db._pending[0] > 0 then run(db) end
end

return D
