//! `cargo run --release --example quickstart`: runs examples/quickstart.lua on LuaJIT embedded
//! with mlua, as a Rust program embeds jitbox: `jitbox::lua::preload` registers the module,
//! which is compiled into the library, so nothing is read from disk but the script.

fn main() -> mlua::Result<()> {
    // SAFETY: unsafe_new loads LuaJIT's ffi library, which the module needs; the script is ours.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    jitbox::lua::preload(&lua)?;
    lua.load(include_str!("quickstart.lua"))
        .set_name("@examples/quickstart.lua")
        .exec()
}
