//! The Lua test scripts under tests/lua, run on embedded LuaJIT (mlua, vendored). The same
//! scripts run under Debian's standalone luajit against libjitbox.so in .ci/run.

mod common;

#[test]
fn lua_basic() {
    common::run_lua_file("basic.lua");
}
