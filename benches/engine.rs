//! Criterion benchmarks: native engine operations, the cost of the C boundary and guard per
//! call (the same get natively and through `jb_index_get_data`), and LuaJIT-driven FFI
//! operations with the loop in Lua so that it JIT-compiles (`iter_custom`).

use criterion::{Criterion, criterion_group, criterion_main};
use jitbox::engine::key::{FieldType, KeyPart};
use jitbox::engine::value::Value;
use jitbox::engine::{Engine, Options, SpaceId};
use jitbox::ffi::abi;
use std::hint::black_box;
use std::time::Duration;

const N: u64 = 100_000;

fn populated() -> (Engine, SpaceId) {
    let mut e = Engine::open(Options {
        memory_limit: 1 << 30,
        ..Options::default()
    })
    .unwrap();
    let id = e.create_space("test", vec![]).unwrap();
    e.create_index(id, "pk", vec![KeyPart::new(0, FieldType::Unsigned)], true)
        .unwrap();
    e.create_index(
        id,
        "by_name",
        vec![KeyPart::new(1, FieldType::String)],
        false,
    )
    .unwrap();
    for i in 0..N {
        let name = format!("name{}", i % 1000);
        e.space_mut(id)
            .unwrap()
            .insert(&[
                Value::Uint(i),
                Value::Str(name.as_bytes()),
                Value::Uint(i * 2),
            ])
            .unwrap();
    }
    (e, id)
}

fn native(c: &mut Criterion) {
    let (mut e, id) = populated();
    let mut g = c.benchmark_group("native");
    let mut i = 0u64;
    g.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            let mvcc = e.mvcc();
            let view = mvcc.view(None).unwrap();
            let pk = &e.space(id).unwrap().indexes[0];
            black_box(pk.find_visible(&[Value::Uint(i)], &view, &mvcc))
        })
    });
    g.bench_function("replace", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            e.space_mut(id)
                .unwrap()
                .replace(&[Value::Uint(i), Value::Str(b"name1"), Value::Uint(i)])
                .unwrap();
        })
    });
    g.bench_function("scan_per_tuple_x1000", |b| {
        b.iter(|| {
            let sp = e.space(id).unwrap();
            let pk = &sp.indexes[0];
            let key = [Value::Uint(i % (N - 1000))];
            let mut c = pk.seek(jitbox::engine::iter::IterType::Ge, &key);
            for _ in 0..1000 {
                black_box(pk.tuple_at(c));
                c = pk.step(c, false);
            }
        })
    });
    g.finish();
}

/// The boundary: the same lookup through the exported C function (handle checks, thread
/// check, panic guard, entry kind, field conversion, copy out).
fn boundary(c: &mut Criterion) {
    unsafe {
        let mut e = std::ptr::null_mut();
        abi::jb_engine_open(std::ptr::null(), &mut e);
        let mut s = std::ptr::null_mut();
        abi::jb_space_create(e, c"t".as_ptr(), 1, std::ptr::null(), 0, &mut s);
        let part = abi::jb_key_part {
            fieldno: 0,
            type_: abi::JB_FT_UNSIGNED,
            is_nullable: 0,
            collation: 0,
            ..Default::default()
        };
        let def = abi::jb_index_def {
            parts: &part,
            part_count: 1,
            unique: 1,
            ..Default::default()
        };
        let mut pk = std::ptr::null_mut();
        abi::jb_index_create(s, c"pk".as_ptr(), 2, &def, &mut pk);
        let mut f = [abi::jb_field {
            type_: abi::JB_FT_UNSIGNED,
            ..Default::default()
        }; 2];
        f[1].type_ = abi::JB_FT_STRING;
        f[1].len = 5;
        f[1].v.s = c"name1".as_ptr();
        for i in 0..N {
            f[0].v.u = i;
            abi::jb_space_insert(
                s,
                std::ptr::null_mut(),
                f.as_ptr(),
                2,
                std::ptr::null_mut(),
                0,
                std::ptr::null_mut(),
            );
        }
        let mut buf = vec![0u8; 1 << 20];
        let mut len = 0usize;
        let mut n = 0u64;
        let mut i = 0u64;
        let mut g = c.benchmark_group("boundary");
        g.bench_function("jb_space_len (empty call: guard + handle)", |b| {
            b.iter(|| black_box(abi::jb_space_len(s, &mut n)))
        });
        // The same reads in autocommit and inside a transaction (its read view): the MVCC
        // overhead of a read.
        let mut tx = std::ptr::null_mut();
        abi::jb_txn_begin(e, &mut tx);
        for (name, t) in [
            ("jb_index_get_data", std::ptr::null_mut()),
            ("jb_index_get_data in a transaction", tx),
        ] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    i = (i + 7919) % N;
                    let key = abi::jb_field {
                        type_: abi::JB_FT_UNSIGNED,
                        v: abi::jb_value { u: i },
                        ..Default::default()
                    };
                    black_box(abi::jb_index_get_data(
                        pk,
                        t,
                        &key,
                        1,
                        buf.as_mut_ptr(),
                        buf.len(),
                        &mut len,
                    ))
                })
            });
        }
        abi::jb_txn_rollback(tx);
        g.finish();
        abi::jb_engine_close(e);
    }
}

/// LuaJIT-driven: each sample runs a compiled Lua loop of `iters` operations.
fn luajit(c: &mut Criterion) {
    // SAFETY: the ffi library is needed; the script is ours.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    jitbox::lua::preload(&lua).unwrap();
    lua.load(
        r#"
        local jitbox = require('jitbox')
        db = jitbox.open{ memory_limit = 2^30 }
        s = db:create_space('test', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
        s:create_index('pk', { parts = {{1, 'unsigned'}} })
        s:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
        for i = 1, 100000 do s:insert{i, 'name' .. (i % 1000), i * 2} end
        local clock = os.clock
        function bench_get(n)
            local t0, x = clock(), 0
            for k = 1, n do x = x + s:get{(k * 7919) % 100000 + 1}[3] end
            return clock() - t0
        end
        -- The same gets with a transaction open in the running coroutine (they join it).
        function bench_get_in_txn(n)
            local tx = db:begin()
            local took = bench_get(n)
            tx:rollback()
            return took
        end
        -- Through the transaction handle (no running-coroutine lookup).
        function bench_get_through_tx(n)
            local tx = db:begin()
            local t0, x = clock(), 0
            for k = 1, n do x = x + tx:get(s, {(k * 7919) % 100000 + 1})[3] end
            local took = clock() - t0
            tx:rollback()
            return took
        end
        -- The same, with 1000 more transactions open in other coroutines: finding a
        -- transaction must not cost in proportion to how many are open.
        function bench_get_through_tx_1000_open(n)
            local others = {}
            for j = 1, 1000 do
                others[j] = coroutine.create(function() local t = db:begin(); coroutine.yield(); t:rollback() end)
                coroutine.resume(others[j])
            end
            local took = bench_get_through_tx(n)
            for j = 1, 1000 do coroutine.resume(others[j]) end
            return took
        end
        function bench_pairs(n)
            local t0, c = clock(), 0
            while c < n do
                for _, t in s:pairs() do c = c + 1; if c >= n then break end end
            end
            return clock() - t0
        end
        -- The scan reading one field of each tuple, and the same as a projection.
        function bench_pairs_field(n)
            local t0, c, x = clock(), 0, 0
            while c < n do
                for _, t in s:pairs() do c = c + 1; x = x + t[3]; if c >= n then break end end
            end
            return clock() - t0
        end
        function bench_pairs_projected(n)
            local t0, c, x = clock(), 0, 0
            while c < n do
                for _, v in s:pairs(nil, { fields = { 3 } }) do c = c + 1; x = x + v; if c >= n then break end end
            end
            return clock() - t0
        end
        -- Synchronous autocommit replaces into an engine with a WAL in `write` mode: each
        -- waits for its record (written on this thread while the writer is idle).
        local wal_dir = os.tmpname()
        os.remove(wal_dir)
        wal_db = jitbox.open{ dir = wal_dir, wal_mode = 'write', memory_limit = 2^28 }
        ws = wal_db:create_space('w', {})
        ws:create_index('pk', { parts = {{1, 'unsigned'}} })
        function bench_commit_sync_write(n)
            local t0 = clock()
            for k = 1, n do ws:replace{k % 100000, 'name1', k} end
            return clock() - t0
        end
        -- Asynchronous commits of one replace each into the `write`-mode engine, a ring of
        -- 1000 tickets in flight (benches/peer/commit.lua): before a slot is reused, the
        -- commit made 1000 commits earlier must be durable.
        local ring, slot = {}, 0
        function bench_commit_async_write(n)
            local t0 = clock()
            for k = 1, n do
                slot = slot % 1000 + 1
                local old = ring[slot]
                if old then assert(old:wait()) end
                local tx = wal_db:begin()
                ws:replace{k % 100000, 'name1', k}
                ring[slot] = tx:commit_async()
            end
            return clock() - t0
        end
        function close_wal()
            for _, t in pairs(ring) do assert(t:wait()) end
            wal_db:close()
            os.execute("rm -rf '" .. wal_dir .. "'")
        end
        -- Inserts in transactions of 1000 into a space with a non-unique string index (as
        -- the peer workload), and deletes of the oldest rows the same way: both indexes'
        -- searches, version records, and the removals at commit.
        ins = db:create_space('ins', { format = {{'id','unsigned'}, {'name','string'}, {'v','integer'}} })
        ins:create_index('pk', { parts = {{1, 'unsigned'}} })
        ins:create_index('by_name', { parts = {{2, 'string'}}, unique = false })
        local first_id, next_id = 1, 0
        local function insert_rows(n)
            local k = 0
            while k < n do
                db:begin()
                for _ = 1, math.min(1000, n - k) do
                    next_id = next_id + 1
                    ins:insert{next_id, 'name' .. (next_id % 1000), next_id}
                    k = k + 1
                end
                db:commit()
            end
        end
        function bench_insert_txn(n)
            local t0 = clock()
            insert_rows(n)
            return clock() - t0
        end
        function bench_delete_txn(n)
            if next_id - first_id + 1 < n then insert_rows(n - (next_id - first_id + 1)) end
            local t0, k = clock(), 0
            while k < n do
                db:begin()
                for _ = 1, math.min(1000, n - k) do
                    ins:delete{first_id}
                    first_id = first_id + 1
                    k = k + 1
                end
                db:commit()
            end
            return clock() - t0
        end
        function bench_replace(n)
            local t0 = clock()
            for k = 1, n do s:replace{(k * 7919) % 100000 + 1, 'name1', k} end
            return clock() - t0
        end
        -- One field of a scattered row, in the engine (the tuple keeps its size: in place).
        function bench_update(n)
            local t0 = clock()
            for k = 1, n do s:update((k * 7919) % 100000 + 1, {{'+', 3, 1}}) end
            return clock() - t0
        end
        "#,
    )
    .exec()
    .unwrap();
    let mut g = c.benchmark_group("luajit");
    for name in [
        "bench_get",
        "bench_get_in_txn",
        "bench_get_through_tx",
        "bench_get_through_tx_1000_open",
        "bench_pairs",
        "bench_pairs_field",
        "bench_pairs_projected",
        "bench_replace",
        "bench_update",
        "bench_insert_txn",
        "bench_delete_txn",
        "bench_commit_sync_write",
        "bench_commit_async_write",
    ] {
        let f: mlua::Function = lua.globals().get(name).unwrap();
        g.bench_function(name.trim_start_matches("bench_"), |b| {
            b.iter_custom(|iters| Duration::from_secs_f64(f.call::<f64>(iters).unwrap()))
        });
    }
    g.finish();
    let close: mlua::Function = lua.globals().get("close_wal").unwrap();
    close.call::<()>(()).unwrap();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! { name = benches; config = config(); targets = native, boundary, luajit }
criterion_main!(benches);
