//! Embeds jitbox in two steps: the dependency, then `jitbox::lua::preload`.

fn main() -> mlua::Result<()> {
    // SAFETY: the module needs LuaJIT's ffi library; the script is this program's own.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    jitbox::lua::preload(&lua)?;
    let got: String = lua
        .load(
            "local db = require('jitbox').open()\n\
             local s = db:create_space('t')\n\
             s:create_index('pk')\n\
             s:insert{1, 'from a Rust host'}\n\
             return s:get{1}[2]",
        )
        .eval()?;
    assert_eq!(got, "from a Rust host");
    // The mlua jitbox was built with is the program's.
    let _: &jitbox::mlua::Lua = &lua;
    println!("rust host ok: {got}");
    Ok(())
}
