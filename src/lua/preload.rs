//! The `mlua` feature: registering jitbox in an mlua state.

use mlua::{LightUserData, Lua};
use std::ffi::c_int;

/// jitbox_lua_nkeys with mlua's type for a state.
unsafe extern "C-unwind" fn nkeys(l: *mut mlua::ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a lua_CFunction with a live state.
    unsafe { super::jitbox_lua_nkeys(l.cast()) }
}

/// Registers every `jitbox.*` module in `lua`'s `package.preload`, bound to this library, so
/// that `require('jitbox')` (or `require('jitbox.box')`) loads it. Borrows `lua`; needs
/// LuaJIT's `ffi` library in it (`Lua::unsafe_new`, or `StdLib::FFI`) and says so otherwise.
pub fn preload(lua: &Lua) -> mlua::Result<()> {
    let has_ffi: bool = lua
        .load("return (pcall(require, 'ffi'))")
        .set_name("=jitbox preload")
        .eval()?;
    if !has_ffi {
        return Err(mlua::Error::runtime(
            "jitbox needs LuaJIT's ffi library in this state: create it with \
             Lua::unsafe_new(), or with StdLib::FFI",
        ));
    }
    let bootstrap = lua
        .load(super::BOOTSTRAP)
        .set_name("=jitbox bootstrap")
        .into_function()?;
    // SAFETY: jitbox_lua_nkeys is a lua_CFunction that reads only its table argument, through
    // the Lua C API of this state's LuaJIT.
    let nkeys = unsafe { lua.create_c_function(nkeys)? };
    bootstrap.call((LightUserData(super::embedded()), true, nkeys))
}
