-- The LMDB target of the peer workload, driven from LuaJIT through FFI the fastest honest
-- way: an environment on tmpfs opened with MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP (no
-- disk in the way, as the in-memory targets have none); rows in a MDB_INTEGERKEY database
-- by id, their value the 8-byte v then the name; the name index a DUPSORT database of fixed
-- 8-byte ids (MDB_DUPFIXED | MDB_INTEGERDUP); one reused read transaction renewed for each
-- read outside a transaction; writes outside begin/commit each in a write transaction of
-- their own; a replace or update keeps the name index right (the old row is read first).
local ffi = require('ffi')

ffi.cdef [[
typedef struct MDB_env MDB_env;
typedef struct MDB_txn MDB_txn;
typedef struct MDB_cursor MDB_cursor;
typedef unsigned int MDB_dbi;
typedef struct MDB_val { size_t mv_size; void *mv_data; } MDB_val;
typedef struct MDB_stat {
    unsigned int ms_psize, ms_depth;
    size_t ms_branch_pages, ms_leaf_pages, ms_overflow_pages, ms_entries;
} MDB_stat;
typedef enum MDB_cursor_op {
    MDB_FIRST, MDB_FIRST_DUP, MDB_GET_BOTH, MDB_GET_BOTH_RANGE, MDB_GET_CURRENT,
    MDB_GET_MULTIPLE, MDB_LAST, MDB_LAST_DUP, MDB_NEXT, MDB_NEXT_DUP, MDB_NEXT_MULTIPLE,
    MDB_NEXT_NODUP, MDB_PREV, MDB_PREV_DUP, MDB_PREV_NODUP, MDB_SET, MDB_SET_KEY,
    MDB_SET_RANGE, MDB_PREV_MULTIPLE
} MDB_cursor_op;
int mdb_env_create(MDB_env **env);
int mdb_env_set_mapsize(MDB_env *env, size_t size);
int mdb_env_set_maxdbs(MDB_env *env, MDB_dbi dbs);
int mdb_env_open(MDB_env *env, const char *path, unsigned int flags, int mode);
int mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags, MDB_txn **txn);
int mdb_txn_commit(MDB_txn *txn);
void mdb_txn_abort(MDB_txn *txn);
void mdb_txn_reset(MDB_txn *txn);
int mdb_txn_renew(MDB_txn *txn);
int mdb_dbi_open(MDB_txn *txn, const char *name, unsigned int flags, MDB_dbi *dbi);
int mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags);
int mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cursor);
void mdb_cursor_close(MDB_cursor *cursor);
int mdb_cursor_renew(MDB_txn *txn, MDB_cursor *cursor);
int mdb_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data, MDB_cursor_op op);
int mdb_stat(MDB_txn *txn, MDB_dbi dbi, MDB_stat *stat);
char *mdb_strerror(int err);
]]

local lib = ffi.load('lmdb')
local MDB_NOSYNC, MDB_NOMETASYNC, MDB_WRITEMAP, MDB_RDONLY = 0x10000, 0x40000, 0x80000, 0x20000
local MDB_CREATE, MDB_INTEGERKEY, MDB_DUPSORT, MDB_DUPFIXED, MDB_INTEGERDUP = 0x40000, 0x08, 0x04, 0x10, 0x20
local MDB_NOTFOUND = -30798

local function check(rc, what)
    if rc ~= 0 then error(('lmdb: %s: %s'):format(what, ffi.string(lib.mdb_strerror(rc))), 2) end
end

local M = {}

-- Opens an environment in a new directory under `dir` (tmpfs: /dev/shm). `durable`: commits
-- sync the file (LMDB's default) instead of MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP.
-- `bare`: rows only, no name index (the commit benchmark's).
function M.open(dir, durable, bare)
    math.randomseed(os.time() + os.clock() * 1e6)
    local path = ('%s/jitbox-peer-lmdb-%d'):format(dir, math.random(1e9))
    os.execute(('rm -rf %s && mkdir -p %s'):format(path, path))
    local penv = ffi.new('MDB_env*[1]')
    check(lib.mdb_env_create(penv), 'env_create')
    local env = penv[0]
    check(lib.mdb_env_set_mapsize(env, 8 * 1024 ^ 3), 'set_mapsize')
    check(lib.mdb_env_set_maxdbs(env, 4), 'set_maxdbs')
    local flags = durable and 0 or MDB_NOSYNC + MDB_NOMETASYNC + MDB_WRITEMAP
    check(lib.mdb_env_open(env, path, flags, 420), 'env_open')

    local ptx = ffi.new('MDB_txn*[1]')
    local function begin_write()
        check(lib.mdb_txn_begin(env, nil, 0, ptx), 'txn_begin')
        return ptx[0]
    end
    local dbi = ffi.new('MDB_dbi[1]')
    local t = begin_write()
    check(lib.mdb_dbi_open(t, 'test', MDB_CREATE + MDB_INTEGERKEY, dbi), 'dbi_open test')
    local rows = dbi[0]
    check(lib.mdb_dbi_open(t, 'by_name', MDB_CREATE + MDB_DUPSORT + MDB_DUPFIXED + MDB_INTEGERDUP, dbi), 'dbi_open by_name')
    local names = dbi[0]
    check(lib.mdb_dbi_open(t, 'by_mod', MDB_CREATE + MDB_INTEGERKEY + MDB_DUPSORT + MDB_DUPFIXED + MDB_INTEGERDUP, dbi), 'dbi_open by_mod')
    local mods = dbi[0]
    check(lib.mdb_txn_commit(t), 'commit')

    -- The reused read transaction (reset between reads) and its cursors.
    check(lib.mdb_txn_begin(env, nil, MDB_RDONLY, ptx), 'read txn')
    local rtxn = ptx[0]
    lib.mdb_txn_reset(rtxn)
    local pcur = ffi.new('MDB_cursor*[1]')

    local wtxn -- the open write transaction, between begin and commit
    local reading = false -- the read transaction is renewed (for one read, or a whole scan)
    local with_mod = false -- the by_mod index exists

    local key, val, key2, val2 = ffi.new('MDB_val'), ffi.new('MDB_val'), ffi.new('MDB_val'), ffi.new('MDB_val')
    local id_buf, id2_buf, mod_buf = ffi.new('uint64_t[1]'), ffi.new('uint64_t[1]'), ffi.new('uint64_t[1]')
    local row_buf, row_cap = ffi.new('uint8_t[?]', 256), 256
    local row = {}

    local function set_id(v, buf, id)
        buf[0] = id
        v.mv_size, v.mv_data = 8, buf
    end
    -- The row value {v, name} in row_buf.
    local function encode(t)
        local name = t[2]
        local n = 8 + #name
        if n > row_cap then row_cap = n * 2; row_buf = ffi.new('uint8_t[?]', row_cap) end
        ffi.cast('int64_t*', row_buf)[0] = t[3]
        ffi.copy(row_buf + 8, name, #name)
        val.mv_size, val.mv_data = n, row_buf
    end
    local function name_of(v) return ffi.string(ffi.cast('uint8_t*', v.mv_data) + 8, v.mv_size - 8) end
    local function v_of(v) return ffi.cast('int64_t*', v.mv_data)[0] end

    local function read_txn()
        if wtxn then return wtxn, false end
        if reading then return rtxn, false end
        check(lib.mdb_txn_renew(rtxn), 'txn_renew')
        return rtxn, true
    end
    local function end_read(renewed) if renewed then lib.mdb_txn_reset(rtxn) end end

    local function write_txn()
        if wtxn then return wtxn, false end
        return begin_write(), true
    end
    local function end_write(txn, own) if own then check(lib.mdb_txn_commit(txn), 'commit') end end

    local function index_put(txn, dbi_, kv, id)
        set_id(val2, id2_buf, id)
        check(lib.mdb_put(txn, dbi_, kv, val2, 0), 'put index')
    end
    local function index_del(txn, dbi_, kv, id)
        set_id(val2, id2_buf, id)
        check(lib.mdb_del(txn, dbi_, kv, val2), 'del index')
    end
    local function name_key(name) key2.mv_size, key2.mv_data = #name, ffi.cast('void*', name) return key2 end
    local function mod_key(v) set_id(key2, mod_buf, tonumber(v) % 1000) return key2 end

    -- Writes row t; `fresh` says no row has its id (an insert), else the old row is read to
    -- move its index entries when their keys change.
    local function write(t, fresh)
        local txn, own = write_txn()
        local id, name = t[1], t[2]
        if not fresh then
            set_id(key, id_buf, id)
            local rc = lib.mdb_get(txn, rows, key, val)
            if rc == 0 then
                local old_name, old_v = name_of(val), v_of(val)
                if old_name ~= name and not bare then
                    index_del(txn, names, name_key(old_name), id)
                    index_put(txn, names, name_key(name), id)
                end
                if with_mod and old_v % 1000 ~= t[3] % 1000 then
                    index_del(txn, mods, mod_key(old_v), id)
                    index_put(txn, mods, mod_key(t[3]), id)
                end
            elseif rc == MDB_NOTFOUND then
                fresh = true
            else
                check(rc, 'get')
            end
        end
        if fresh and not bare then
            index_put(txn, names, name_key(name), id)
            if with_mod then index_put(txn, mods, mod_key(t[3]), id) end
        end
        set_id(key, id_buf, id)
        encode(t)
        check(lib.mdb_put(txn, rows, key, val, 0), 'put')
        end_write(txn, own)
    end

    local s = {
        insert = function(_, t) write(t, true) end,
        replace = function(_, t) write(t, false) end,
        get = function(_, k)
            local txn, renewed = read_txn()
            set_id(key, id_buf, k[1])
            local rc = lib.mdb_get(txn, rows, key, val)
            local found = rc == 0
            if found then row[3] = tonumber(v_of(val)) end
            end_read(renewed)
            return found and row or nil
        end,
        pairs = function()
            local txn, renewed = read_txn()
            reading = renewed or reading
            check(lib.mdb_cursor_open(txn, rows, pcur), 'cursor_open')
            local cur = pcur[0]
            local op = ffi.C.MDB_FIRST
            return function()
                if lib.mdb_cursor_get(cur, key, val, op) == 0 then
                    op = ffi.C.MDB_NEXT
                    row[3] = tonumber(v_of(val))
                    return true, row
                end
                lib.mdb_cursor_close(cur)
                if renewed then reading = false; end_read(true) end
            end
        end,
        -- The row and its index entries.
        delete = function(_, k)
            local txn, own = write_txn()
            set_id(key, id_buf, k[1])
            local rc = lib.mdb_get(txn, rows, key, val)
            if rc == 0 then
                local id, name, v = k[1], name_of(val), v_of(val)
                index_del(txn, names, name_key(name), id)
                if with_mod then index_del(txn, mods, mod_key(v), id) end
                set_id(key, id_buf, id)
                check(lib.mdb_del(txn, rows, key, nil), 'del')
            elseif rc ~= MDB_NOTFOUND then
                check(rc, 'get')
            end
            end_write(txn, own)
        end,
        -- {{'+', 3, x}}, the one update the workload makes.
        update = function(_, k, ops)
            local txn, own = write_txn()
            set_id(key, id_buf, k)
            check(lib.mdb_get(txn, rows, key, val), 'get')
            local t = { k, name_of(val), tonumber(v_of(val)) + ops[1][3] }
            if own then wtxn = txn end
            write(t, false)
            if own then wtxn = nil; check(lib.mdb_txn_commit(txn), 'commit') end
        end,
    }
    local index = {
        -- The rows with name k[1]: the ids from the name index, each row looked up.
        pairs = function(_, k)
            local txn, renewed = read_txn()
            check(lib.mdb_cursor_open(txn, names, pcur), 'cursor_open')
            local cur = pcur[0]
            local name = k[1] -- kept alive by the iterator, which nk points into
            local nk = name_key(name)
            local op = ffi.C.MDB_SET_KEY
            return function()
                if lib.mdb_cursor_get(cur, nk, val2, op) == 0 then
                    op = ffi.C.MDB_NEXT_DUP
                    check(lib.mdb_get(txn, rows, val2, val), 'get')
                    row[3] = tonumber(v_of(val))
                    return true, row
                end
                lib.mdb_cursor_close(cur)
                end_read(renewed)
                name = nil
            end
        end,
    }
    local function stat_bytes(dbi_)
        local st = ffi.new('MDB_stat')
        local txn, renewed = read_txn()
        check(lib.mdb_stat(txn, dbi_, st), 'stat')
        end_read(renewed)
        return tonumber((st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize)
    end
    return {
        space = s, by_name = index,
        begin = function() wtxn = begin_write() end,
        commit = function() local t = wtxn; wtxn = nil; check(lib.mdb_txn_commit(t), 'commit') end,
        memory = function() return stat_bytes(rows) + stat_bytes(names) + (with_mod and stat_bytes(mods) or 0) end,
        -- The by_mod index over every row (as the others build their functional index).
        build_mod = function()
            local txn = begin_write()
            check(lib.mdb_cursor_open(txn, rows, pcur), 'cursor_open')
            local cur = pcur[0]
            local op = ffi.C.MDB_FIRST
            while lib.mdb_cursor_get(cur, key, val, op) == 0 do
                op = ffi.C.MDB_NEXT
                index_put(txn, mods, mod_key(v_of(val)), ffi.cast('uint64_t*', key.mv_data)[0])
            end
            lib.mdb_cursor_close(cur)
            check(lib.mdb_txn_commit(txn), 'commit')
            with_mod = true
        end,
        count_mod = function(m)
            local txn, renewed = read_txn()
            check(lib.mdb_cursor_open(txn, mods, pcur), 'cursor_open')
            local cur, n = pcur[0], 0
            set_id(key2, mod_buf, m)
            local op = ffi.C.MDB_SET_KEY
            while lib.mdb_cursor_get(cur, key2, val2, op) == 0 do n = n + 1; op = ffi.C.MDB_NEXT_DUP end
            lib.mdb_cursor_close(cur)
            end_read(renewed)
            return n
        end,
        path = path,
    }
end

return M
