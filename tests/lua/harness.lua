-- A minimal test harness shared by the Lua scripts: test(name, fn), expect_error, done().
local H = { passed = 0, failed = 0, failures = {} }

function H.test(name, fn)
    local ok, err = xpcall(fn, debug.traceback)
    if ok then
        H.passed = H.passed + 1
    else
        H.failed = H.failed + 1
        table.insert(H.failures, name .. ': ' .. tostring(err))
        io.stderr:write('FAIL ', name, '\n', tostring(err), '\n')
    end
end

-- Runs fn, which must raise a jitbox error with this code (and message containing `part`).
function H.expect_error(code, part, fn, ...)
    local ok, err = pcall(fn, ...)
    assert(not ok, ('expected error %s, got success'):format(code))
    assert(type(err) == 'table', 'error is not an object: ' .. tostring(err))
    assert(err.code == code, ('expected code %s, got %s: %s'):format(code, tostring(err.code), tostring(err.message)))
    if part then
        assert(err.message:find(part, 1, true), ('message %q lacks %q'):format(err.message, part))
    end
    return err
end

function H.eq(a, b, what)
    if a ~= b then error(('%s: expected %s, got %s'):format(what or 'value', tostring(b), tostring(a)), 2) end
end

-- A fresh engine with the space 'test' {id unsigned, name string, v integer}: primary key on
-- id, non-unique index by_name.
function H.fresh(jitbox, opts)
    local db = jitbox.open(opts or { memory_limit = 64 * 2^20 })
    local s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
    s:create_index('pk', { parts = {{1, 'unsigned'}} })
    s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
    return db, s
end

-- A fresh path for an engine directory (not created), and its removal.
function H.tmpdir()
    local d = os.tmpname()
    os.remove(d)
    return d
end

function H.rmdir(d) os.execute("rm -rf '" .. d .. "'") end

-- An engine on `dir` with the WAL written (extra options override).
function H.open_dir(jitbox, dir, extra)
    local o = { dir = dir, wal_mode = 'write', memory_limit = 64 * 2^20 }
    for k, v in pairs(extra or {}) do o[k] = v end
    return jitbox.open(o)
end

-- Every {id, name, v} tuple of space s in primary key order, as one string.
function H.dump(s)
    local r = {}
    for _, t in s:pairs() do r[#r + 1] = table.concat({ t[1], t[2], t[3] }, ':') end
    return table.concat(r, ' ')
end

function H.done(script)
    print(('%s: %d passed, %d failed'):format(script, H.passed, H.failed))
    if H.failed > 0 then
        error(script .. ' failed:\n' .. table.concat(H.failures, '\n'))
    end
end

return H
