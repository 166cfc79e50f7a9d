-- jitbox.waiting: writes outside a transaction on an engine with a wait hook
-- (jitbox.open{wait = ...}). Such a write is a transaction of its own; committed through the
-- hook, it waits for the log without blocking the thread (inside nginx, the worker goes on
-- serving). Nothing yields between its begin and its commit, so it meets no conflict an
-- autocommit write would not. The write methods are wrapped when the first engine with a
-- hook opens (engine.lua calls `install`), so that a process without one pays nothing.
local B = require('jitbox.base')
local X = require('jitbox.txn')
local current_tx = X.current_tx

local function in_own_transaction(db, f, self, ...)
    local tx = db:begin()
    local ok, result = pcall(f, self, ...)
    if not ok then
        if tx.h ~= nil then tx:rollback() end
        B.rethrow(result, 2)
        error(result, 0)
    end
    tx:commit()
    return result
end

local W = {}
local installed = false

function W.install()
    if installed then return end
    installed = true
    for _, methods in ipairs({ B.space_methods, B.index_methods }) do
        for _, name in ipairs({ 'insert', 'replace', 'update', 'upsert', 'delete' }) do
            local f = methods[name]
            if f then
                methods[name] = function(self, ...)
                    local db = self._db
                    if db._wait == nil or current_tx(db) ~= nil then return f(self, ...) end
                    return in_own_transaction(db, f, self, ...)
                end
            end
        end
    end
end

return W
