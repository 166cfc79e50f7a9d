//! The Lua test scripts under tests/lua, run on embedded LuaJIT (mlua, vendored) with the
//! module registered by `jitbox::lua::preload`. The same scripts run under standalone luajit
//! (Debian's and OpenResty's) against libjitbox.so in .ci/run.

mod common;

#[test]
fn lua_api() {
    common::run_lua_file("api.lua");
}

#[test]
fn lua_errors() {
    common::run_lua_file("errors.lua");
}

#[test]
fn lua_jit() {
    common::run_lua_file("jit.lua");
}

#[test]
fn lua_fields_read_in_lua_agree_with_the_engine() {
    common::run_lua_file("fields.lua");
}

#[test]
fn lua_txn() {
    common::run_lua_file("txn.lua");
}

#[test]
fn lua_functional_indexes_and_the_guard() {
    common::run_lua_file("func.lua");
}

#[test]
fn lua_rows_are_read_once() {
    common::run_lua_file("rows.lua");
}

#[test]
fn lua_wal() {
    common::run_lua_file("wal.lua");
}

#[test]
fn lua_update() {
    common::run_lua_file("update.lua");
}

#[test]
fn lua_schema() {
    common::run_lua_file("schema.lua");
}

#[test]
fn lua_box_facade() {
    common::run_lua_file("box.lua");
}

#[test]
fn lua_triggers() {
    common::run_lua_file("trigger.lua");
}

#[test]
fn lua_sequences() {
    common::run_lua_file("sequence.lua");
}

#[test]
fn lua_snapshot() {
    common::run_lua_file("snapshot.lua");
}

/// update, upsert and writes through unique indexes print what Tarantool 2.6 prints.
#[test]
fn compat_update_as_tarantool() {
    common::run_compat("update");
}

/// min/max, the objects' fields, renames, truncate and if_not_exists show what Tarantool 2.6 shows.
#[test]
fn compat_schema_as_tarantool() {
    common::run_compat("schema");
}

/// Fields by name, tomap and update by name give what Tarantool 2.6 gives.
#[test]
fn compat_tuple_as_tarantool() {
    common::run_compat("tuple");
}

/// Savepoints undo and end what Tarantool 2.6 undoes and ends.
#[test]
fn compat_savepoint_as_tarantool() {
    common::run_compat("savepoint");
}

/// Tarantool programs run unchanged on jitbox.box and print what they print on Tarantool.
#[test]
fn program_counters() {
    common::run_program("counters");
}

#[test]
fn program_leaderboard() {
    common::run_program("leaderboard");
}

#[test]
fn program_queue() {
    common::run_program("queue");
}

#[test]
fn program_inventory() {
    common::run_program("inventory");
}

#[test]
fn program_users() {
    common::run_program("users");
}

#[test]
fn program_sessions() {
    common::run_program("sessions");
}

/// Space and transaction triggers behave as Tarantool 2.6's.
#[test]
fn compat_trigger_as_tarantool() {
    common::run_compat("trigger");
}

/// Sequences give the values Tarantool 2.6 gives.
#[test]
fn compat_sequence_as_tarantool() {
    common::run_compat("sequence");
}

/// Nested values (array, map, any) are stored and read as Tarantool 2.6 does.
#[test]
fn compat_nested_as_tarantool() {
    common::run_compat("nested");
}

/// Nullable fields and index parts order and repeat as in Tarantool 2.6.
#[test]
fn compat_nullable_as_tarantool() {
    common::run_compat("nullable");
}

/// unicode and unicode_ci order and compare as Tarantool 2.6's collations.
#[test]
fn compat_collation_as_tarantool() {
    common::run_compat("collation");
}

/// JSON-path parts (a value in a map, one key per array element) index as in Tarantool 2.6.
#[test]
fn compat_path_as_tarantool() {
    common::run_compat("path");
}

/// The double type takes doubles only and orders numerically, as in Tarantool 2.6.
#[test]
fn compat_double_as_tarantool() {
    common::run_compat("double");
}

/// s:format(new) changes names and types once indexes and tuples fit, as in Tarantool 2.6.
#[test]
fn compat_format_as_tarantool() {
    common::run_compat("format");
}

/// on_commit/on_rollback triggers iterate over the transaction's statements as in Tarantool 2.6.
#[test]
fn compat_statements_as_tarantool() {
    common::run_compat("statements");
}

/// print(tuple) through jitbox.box prints what Tarantool 2.6 prints.
#[test]
fn compat_show_as_tarantool() {
    common::run_compat("show");
}

/// Update operations at JSON paths inside fields apply and fail as in Tarantool 2.6.
#[test]
fn compat_update_path_as_tarantool() {
    common::run_compat("update_path");
}

/// HASH indexes find by whole keys and refuse what Tarantool 2.6's refuse.
#[test]
fn compat_hash_as_tarantool() {
    common::run_compat("hash");
}

/// tests/lua/fuzz.lua with its fixed seeds (JITBOX_FUZZ_SEEDS / JITBOX_FUZZ_STEPS run it longer).
#[test]
fn lua_fuzz_against_a_model() {
    common::run_lua_file("fuzz.lua");
}

/// An error no Lua code catches reaches the Rust host as a message it can read: code, what
/// and where, not "error object is a table value".
#[test]
fn an_uncaught_error_reaches_the_host_readable() {
    let lua = common::lua();
    let r = lua
        .load(
            "local db = require('jitbox').open{}\n\
             local s = db:create_space('t')\n\
             s:create_index('pk', { parts = {{1, 'unsigned'}} })\n\
             s:insert{1}\n\
             s:insert{1}",
        )
        .set_name("=host")
        .exec();
    let msg = r.expect_err("a duplicate insert fails").to_string();
    assert!(
        msg.contains("host:5: jitbox: TUPLE_FOUND: ") && msg.contains("duplicate key [1]"),
        "{msg}"
    );
}

/// tests/lua/shutdown.lua for 50 seeds, each in its own interpreter that is closed with the
/// objects the script left alive (finalizers in whatever order `lua_close` runs them).
#[test]
fn lua_shutdown_with_objects_alive() {
    let dir = std::env::temp_dir().join(format!("jitbox-{}-shutdown", std::process::id()));
    let path = common::root().join("tests/lua/shutdown.lua");
    let src = std::fs::read_to_string(&path).unwrap();
    for seed in 1..=50 {
        let lua = common::lua();
        lua.globals().set("SEED", seed).unwrap();
        lua.globals().set("DIR", dir.to_str().unwrap()).unwrap();
        let r = lua
            .load(&src)
            .set_name(format!("@{}", path.display()))
            .exec();
        if let Err(e) = r {
            panic!("shutdown.lua, seed {seed}:\n{e}");
        }
        drop(lua); // lua_close
        for name in ["WAL_DELAY", "SNAPSHOT_DELAY"] {
            jitbox::mem::errinj::set(name, 0).unwrap();
        }
    }
    for k in ["-1", "-2"] {
        let _ = std::fs::remove_dir_all(format!("{}{k}", dir.display()));
    }
}
