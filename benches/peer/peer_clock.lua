-- A monotonic clock in seconds for the peer scripts (the same under Tarantool and LuaJIT).
local ffi = require('ffi')
ffi.cdef[[
struct peer_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct peer_timespec *ts);
]]
local ts = ffi.new('struct peer_timespec')
return function()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) * 1e-9
end
