//! Shared test helpers: where the built libraries are, the header's cdef region, and an
//! embedded LuaJIT with jitbox registered by `jitbox::lua::preload`.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// target/<profile>/deps, where cargo puts libjitbox.so and libjitbox.a during `cargo test`.
pub fn lib_dir() -> PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn header() -> String {
    std::fs::read_to_string(root().join("c_src/include/jitbox.h")).unwrap()
}

/// The directive-free region of the header that the Lua module hands to ffi.cdef.
pub fn cdef_region() -> String {
    let h = header();
    let begin = h.find("/* JITBOX_CDEF_BEGIN").expect("begin marker");
    let begin = begin + h[begin..].find('\n').unwrap() + 1;
    let end = h.find("/* JITBOX_CDEF_END */").expect("end marker");
    h[begin..end].to_string()
}

/// Names of the functions the header declares, sorted.
pub fn declared_functions() -> Vec<String> {
    let mut names: Vec<String> = declarations().into_iter().map(|(name, _)| name).collect();
    names.sort();
    names
}

/// Each declared function's full declaration (its lines joined), in header order.
pub fn declarations() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    let mut open: Option<String> = None;
    for l in cdef_region().lines() {
        if let Some(mut decl) = open.take() {
            decl.push(' ');
            decl.push_str(l.trim());
            if decl.ends_with(';') {
                let name = function_name(&decl).unwrap();
                out.push((name, decl));
            } else {
                open = Some(decl);
            }
            continue;
        }
        if l.starts_with([' ', '/']) || l.starts_with("typedef") {
            continue;
        }
        if function_name(l).is_some() {
            if l.ends_with(';') {
                out.push((function_name(l).unwrap(), l.to_string()));
            } else {
                open = Some(l.to_string());
            }
        }
    }
    out
}

fn function_name(decl: &str) -> Option<String> {
    let open = decl.find('(')?;
    let name = decl[..open].rsplit([' ', '*']).next()?;
    name.starts_with("jb_").then(|| name.to_string())
}

/// Each declared function with the kind its doc begins with (HOT, SAFE or ANY; "" when its
/// doc has none): the nearest comment starting a line above its declaration.
pub fn declared_kinds() -> Vec<(String, String)> {
    let mut kind = String::new();
    let mut out = vec![];
    for l in cdef_region().lines() {
        if let Some(doc) = l.strip_prefix("/*") {
            let word = doc.trim_start().split(['.', ' ']).next().unwrap_or("");
            kind = if ["HOT", "SAFE", "ANY"].contains(&word) {
                word.to_string()
            } else {
                String::new()
            };
            continue;
        }
        if l.starts_with(' ') || l.starts_with("typedef") {
            continue;
        }
        if let Some(name) = function_name(l) {
            out.push((name, kind.clone()));
        }
    }
    out
}

/// A LuaJIT state with the ffi library and jitbox registered by `jitbox::lua::preload` (the
/// module compiled into the library), and `package.path` set to tests/lua for the harness.
pub fn lua() -> mlua::Lua {
    // SAFETY: the FFI library is needed (unsafe_new); the tests only run trusted scripts.
    let lua = unsafe { mlua::Lua::unsafe_new() };
    jitbox::lua::preload(&lua).unwrap();
    lua.load(format!(
        "package.path = '{0}/tests/lua/?.lua;' .. package.path",
        root().display()
    ))
    .exec()
    .unwrap();
    lua
}

/// A LuaJIT state that loads jitbox from the files under lua/, and finds the engine's
/// symbols through `ffi.C` (the test binary exports them).
pub fn lua_from_files() -> mlua::Lua {
    // Make sure the engine's symbols are linked into this binary for ffi.C to find.
    let _ = jitbox::ffi::exported();
    // SAFETY: as in lua().
    let lua = unsafe { mlua::Lua::unsafe_new() };
    lua.load(format!(
        "package.path = '{0}/lua/?.lua;{0}/tests/lua/?.lua;' .. package.path",
        root().display()
    ))
    .exec()
    .unwrap();
    lua
}

/// Runs a Lua test script from tests/lua in a fresh embedded LuaJIT.
pub fn run_lua_file(name: &str) {
    let lua = lua();
    let path = root().join("tests/lua").join(name);
    let src = std::fs::read_to_string(&path).unwrap();
    if let Err(e) = lua
        .load(&src)
        .set_name(format!("@{}", path.display()))
        .exec()
    {
        panic!("{name} failed:\n{e}");
    }
}

/// Runs a compat script from tests/compat (the same calls on Tarantool and on jitbox) in a
/// fresh embedded LuaJIT and checks that it prints exactly what Tarantool 2.6 printed, kept
/// in `name.expected`.
pub fn run_compat(name: &str) {
    run_printing("tests/compat", name, "");
}

/// Runs a Tarantool program from tests/programs, unchanged, with `box` the jitbox.box
/// facade, and checks that it prints exactly what it printed on Tarantool 2.6
/// (`name.expected`).
pub fn run_program(name: &str) {
    run_printing("tests/programs", name, "box = require('jitbox.box')");
}

/// Runs `dir/name.lua` after `prelude` with `print` and `os.exit` captured; compares what
/// it printed with `dir/name.expected`.
fn run_printing(dir: &str, name: &str, prelude: &str) {
    let lua = lua();
    let dir = root().join(dir);
    lua.load(format!(
        "package.path = '{}/?.lua;' .. package.path\n\
         COMPAT_OUT = {{}}\n\
         print = function(...) \
             local t = {{}} \
             for i = 1, select('#', ...) do t[i] = tostring((select(i, ...))) end \
             COMPAT_OUT[#COMPAT_OUT + 1] = table.concat(t, '\\t') \
         end\n\
         os.exit = function() error('COMPAT_EXIT', 0) end\n\
         {prelude}",
        dir.display()
    ))
    .exec()
    .unwrap();
    let path = dir.join(format!("{name}.lua"));
    let src = std::fs::read_to_string(&path).unwrap();
    if let Err(e) = lua
        .load(&src)
        .set_name(format!("@{}", path.display()))
        .exec()
        && !e.to_string().contains("COMPAT_EXIT")
    {
        panic!("{name}.lua failed:\n{e}");
    }
    // A printed value may hold line breaks: compare line by line, as the file holds them.
    let printed: Vec<String> = lua.load("return COMPAT_OUT").eval::<Vec<String>>().unwrap();
    let out: Vec<String> = printed
        .iter()
        .flat_map(|p| p.split('\n'))
        .map(String::from)
        .collect();
    let expected = std::fs::read_to_string(dir.join(format!("{name}.expected"))).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    for (i, (got, want)) in out.iter().zip(&expected).enumerate() {
        assert_eq!(
            got,
            want,
            "{name}.lua line {}: jitbox printed {got:?}, Tarantool {want:?}",
            i + 1
        );
    }
    assert_eq!(
        out.len(),
        expected.len(),
        "{name}.lua: jitbox printed {} lines, Tarantool {}",
        out.len(),
        expected.len()
    );
}

pub mod files;
pub mod native;
