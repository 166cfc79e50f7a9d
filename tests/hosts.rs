//! How hosts load the Lua module: `jitbox::lua::preload` and `luaopen_jitbox` (the module
//! compiled into the library, bound to its functions: no files, no exported symbols), and the
//! module loaded from lua/ finding the engine through `ffi.C`.

mod common;

use std::ffi::c_int;

/// A state with the ffi library and no path to lua/: only what the library carries.
fn bare_lua() -> mlua::Lua {
    // SAFETY: the ffi library is needed; the scripts are ours.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    lua.load("package.path = ''").exec().unwrap();
    lua
}

const ROUND_TRIP: &str = "local jitbox = require('jitbox')\n\
    local db = jitbox.open()\n\
    local s = db:create_space('t')\n\
    s:create_index('pk')\n\
    s:insert{1, 'one'}\n\
    local got = s:get{1}[2]\n\
    db:close()\n\
    local lib = jitbox.lib\n\
    return got, type(lib) == 'cdata' and tostring(require('ffi').typeof(lib)) or type(lib)";

/// Requires jitbox.box before the main module, uses it, and returns a count (2).
const BOX_FIRST: &str = "local box = require('jitbox.box')\n\
    box.cfg{ log_level = 2 }\n\
    local s = box.schema.space.create('s')\n\
    s:create_index('pk')\n\
    s:insert{1}; s:insert{2}\n\
    assert(require('jitbox').open, 'the main module is registered too')\n\
    return s:count()";

#[test]
fn preload_needs_no_files_and_binds_the_library() {
    let lua = bare_lua();
    jitbox::lua::preload(&lua).unwrap();
    let (got, lib): (String, String) = lua.load(ROUND_TRIP).eval().unwrap();
    assert_eq!(got, "one");
    assert_eq!(
        lib, "ctype<struct jb_lib>",
        "the module calls through the bound functions"
    );
}

#[test]
fn preload_registers_every_module() {
    let lua = bare_lua();
    jitbox::lua::preload(&lua).unwrap();
    // jitbox.box first, before the main module.
    assert_eq!(lua.load(BOX_FIRST).eval::<i64>().unwrap(), 2);
    let loaders: i64 = lua
        .load(
            "local n = 0\n\
             for name in pairs(package.preload) do\n\
                 if name == 'jitbox' or name:match('^jitbox%.') then n = n + 1 end\n\
             end\n\
             return n",
        )
        .eval()
        .unwrap();
    let mut files = vec![];
    lua_files(&common::root().join("lua"), &mut files);
    assert_eq!(
        loaders as usize,
        files.len(),
        "one preload entry per file under lua/"
    );
}

#[test]
fn preload_without_ffi_says_what_is_missing() {
    let lua = mlua::Lua::new(); // the safe constructor: no ffi library
    let err = jitbox::lua::preload(&lua).unwrap_err().to_string();
    assert!(err.contains("jitbox needs LuaJIT's ffi library"), "{err}");
}

unsafe extern "C-unwind" fn luaopen(l: *mut mlua::ffi::lua_State) -> c_int {
    // SAFETY: called by Lua as a lua_CFunction with a live state.
    unsafe { jitbox::lua::luaopen_jitbox(l.cast()) }
}

/// A bare state where package.preload[name] is luaopen_jitbox, as a C host registers it.
fn with_luaopen_as(name: &str) -> mlua::Lua {
    let lua = bare_lua();
    // SAFETY: luaopen_jitbox is a lua_CFunction for this state's LuaJIT.
    let f = unsafe { lua.create_c_function(luaopen) }.unwrap();
    let package: mlua::Table = lua.globals().get("package").unwrap();
    let preload: mlua::Table = package.get("preload").unwrap();
    preload.set(name, f).unwrap();
    lua
}

/// The C entry point, as a C host or `require` through package.cpath calls it.
#[test]
fn luaopen_jitbox_is_the_module_loader() {
    let lua = with_luaopen_as("jitbox");
    let (got, lib): (String, String) = lua.load(ROUND_TRIP).eval().unwrap();
    assert_eq!(got, "one");
    assert_eq!(lib, "ctype<struct jb_lib>");
}

/// Registered under another module's name, the loader gives that module: require of
/// jitbox.box first works the same.
#[test]
fn luaopen_jitbox_gives_the_module_require_names() {
    let lua = with_luaopen_as("jitbox.box");
    assert_eq!(lua.load(BOX_FIRST).eval::<i64>().unwrap(), 2);
}

/// Loaded from lua/, the module finds the symbols the binary exports through ffi.C.
#[test]
fn the_module_from_files_uses_the_exported_symbols() {
    let lua = common::lua_from_files();
    let (got, lib): (String, String) = lua.load(ROUND_TRIP).eval().unwrap();
    assert_eq!(got, "one");
    assert_eq!(lib, "userdata", "ffi.C, the C library namespace");
}

/// The rockspec installs every file of the module, each under its module name.
#[test]
fn the_rockspec_installs_every_lua_file() {
    let spec =
        std::fs::read_to_string(common::root().join("rockspecs/jitbox-scm-1.rockspec")).unwrap();
    let mut listed: Vec<(String, String)> = spec
        .lines()
        .filter_map(|l| {
            let (name, path) = l.trim().strip_prefix("[\"")?.split_once("\"] = \"")?;
            let path = path.strip_suffix("\",")?;
            path.starts_with("lua/")
                .then(|| (name.to_string(), path.to_string()))
        })
        .collect();
    listed.sort();
    let mut files = vec![];
    lua_files(&common::root().join("lua"), &mut files);
    let mut want: Vec<(String, String)> = files
        .iter()
        .map(|rel| {
            (
                rel.trim_end_matches(".lua").replace('/', "."),
                format!("lua/{rel}"),
            )
        })
        .collect();
    want.sort();
    assert_eq!(listed, want);
}

fn lua_files(dir: &std::path::Path, out: &mut Vec<String>) {
    let root = common::root().join("lua");
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            lua_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "lua") {
            out.push(p.strip_prefix(&root).unwrap().to_str().unwrap().to_string());
        }
    }
}
