//! `cargo run --release --example quickstart`: runs examples/quickstart.lua on embedded
//! LuaJIT. The example binary exports the engine's C symbols, so the Lua module reaches it
//! through `ffi.C` — the same way a Rust program embeds jitbox with mlua.

fn main() -> mlua::Result<()> {
    // Keep every exported engine function linked in for LuaJIT's ffi.C.
    let _ = jitbox::ffi::exported();
    // SAFETY: unsafe_new loads LuaJIT's ffi library, which the module needs; the script is ours.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    let root = env!("CARGO_MANIFEST_DIR");
    lua.load(format!(
        "package.path = '{root}/lua/?.lua;' .. package.path"
    ))
    .exec()?;
    let script = std::fs::read_to_string(format!("{root}/examples/quickstart.lua"))
        .expect("examples/quickstart.lua");
    lua.load(&script)
        .set_name("@examples/quickstart.lua")
        .exec()
}
