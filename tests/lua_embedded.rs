//! The Lua test scripts under tests/lua, run on embedded LuaJIT (mlua, vendored; the test
//! binary exports the engine, so `ffi.C` finds it). The same scripts run under Debian's
//! standalone luajit against libjitbox.so in .ci/run.

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
fn lua_txn() {
    common::run_lua_file("txn.lua");
}

#[test]
fn lua_functional_indexes_and_the_guard() {
    common::run_lua_file("func.lua");
}

#[test]
fn lua_wal() {
    common::run_lua_file("wal.lua");
}

#[test]
fn lua_snapshot() {
    common::run_lua_file("snapshot.lua");
}
