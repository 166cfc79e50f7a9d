-- The SQLite target of the peer workload: the table and index the others have, driven from
-- LuaJIT through FFI the fastest honest way — statements prepared once and reset after each
-- step, text bound without a copy (SQLITE_STATIC: the string lives across the step), one
-- reused row table for results. `path` is ':memory:' or a file (then WAL journal mode).
local ffi = require('ffi')

ffi.cdef [[
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql, void *cb, void *arg, char **errmsg);
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **stmt, const char **tail);
int sqlite3_bind_int64(sqlite3_stmt *stmt, int i, int64_t v);
int sqlite3_bind_text(sqlite3_stmt *stmt, int i, const char *s, int n, void *destructor);
int sqlite3_step(sqlite3_stmt *stmt);
int sqlite3_reset(sqlite3_stmt *stmt);
int64_t sqlite3_column_int64(sqlite3_stmt *stmt, int i);
const char *sqlite3_errmsg(sqlite3 *db);
int64_t sqlite3_memory_used(void);
]]

local lib = ffi.load('sqlite3')
local SQLITE_ROW, SQLITE_DONE = 100, 101

local M = {}

-- `bare`: no index on name (the commit benchmark's table has its primary key only).
function M.open(path, pragmas, bare)
    local out = ffi.new('sqlite3*[1]')
    assert(lib.sqlite3_open(path, out) == 0)
    local db = out[0]
    local function exec(sql)
        if lib.sqlite3_exec(db, sql, nil, nil, nil) ~= 0 then
            error(('sqlite: %s: %s'):format(sql, ffi.string(lib.sqlite3_errmsg(db))))
        end
    end
    local function prepare(sql)
        local st = ffi.new('sqlite3_stmt*[1]')
        if lib.sqlite3_prepare_v2(db, sql, #sql, st, nil) ~= 0 then
            error(('sqlite: %s: %s'):format(sql, ffi.string(lib.sqlite3_errmsg(db))))
        end
        return st[0]
    end
    for _, p in ipairs(pragmas or {}) do exec(p) end
    exec('CREATE TABLE test (id INTEGER PRIMARY KEY, name TEXT NOT NULL, v INTEGER NOT NULL)')
    if not bare then exec('CREATE INDEX by_name ON test (name)') end
    local ins = prepare('INSERT INTO test VALUES (?, ?, ?)')
    local rep = prepare('INSERT OR REPLACE INTO test VALUES (?, ?, ?)')
    local get = prepare('SELECT id, name, v FROM test WHERE id = ?')
    local scan = prepare('SELECT id, name, v FROM test')
    local by_name = prepare('SELECT id, name, v FROM test WHERE name = ?')
    local upd = prepare('UPDATE test SET v = v + ? WHERE id = ?')
    local del = prepare('DELETE FROM test WHERE id = ?')
    local bgn, cmt = prepare('BEGIN'), prepare('COMMIT')

    local function done(st)
        local rc = lib.sqlite3_step(st)
        lib.sqlite3_reset(st)
        if rc ~= SQLITE_DONE then error('sqlite: ' .. ffi.string(lib.sqlite3_errmsg(db))) end
    end
    local function write(st, t)
        lib.sqlite3_bind_int64(st, 1, t[1])
        local name = t[2]
        lib.sqlite3_bind_text(st, 2, name, #name, nil)
        lib.sqlite3_bind_int64(st, 3, t[3])
        done(st)
    end
    -- Rows as one reused table; its v (column 2) read for each, as a caller reads a field.
    -- `bound`: the text bound without a copy, kept alive by the iterator until the statement
    -- is reset (nothing else may hold the caller's key string across the steps).
    local row = {}
    local function rows(st, bound)
        return function()
            if lib.sqlite3_step(st) == SQLITE_ROW then
                row[3] = tonumber(lib.sqlite3_column_int64(st, 2))
                return true, row
            end
            lib.sqlite3_reset(st)
            bound = nil
        end
    end
    local s = {
        insert = function(_, t) write(ins, t) end,
        replace = function(_, t) write(rep, t) end,
        get = function(_, k)
            lib.sqlite3_bind_int64(get, 1, k[1])
            local found = lib.sqlite3_step(get) == SQLITE_ROW
            if found then row[3] = tonumber(lib.sqlite3_column_int64(get, 2)) end
            lib.sqlite3_reset(get)
            return found and row or nil
        end,
        pairs = function() return rows(scan) end,
        delete = function(_, k)
            lib.sqlite3_bind_int64(del, 1, k[1])
            done(del)
        end,
        -- {{'+', 3, x}}: the one update form the workload uses.
        update = function(_, k, ops)
            lib.sqlite3_bind_int64(upd, 1, ops[1][3])
            lib.sqlite3_bind_int64(upd, 2, k)
            done(upd)
        end,
    }
    local index = {
        pairs = function(_, k)
            local name = k[1]
            lib.sqlite3_bind_text(by_name, 1, name, #name, nil)
            return rows(by_name, name)
        end,
    }
    return {
        space = s, by_name = index, exec = exec, prepare = prepare,
        begin = function() done(bgn) end, commit = function() done(cmt) end,
        memory = function() return tonumber(lib.sqlite3_memory_used()) end,
        count = function(sql)
            local st = prepare(sql)
            assert(lib.sqlite3_step(st) == SQLITE_ROW)
            return tonumber(lib.sqlite3_column_int64(st, 0))
        end,
    }
end

return M
