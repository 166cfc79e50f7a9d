//! The header is the contract: these tests fail on any drift between it and the library,
//! the Lua module's cdef, or C/C++ compilers. (Signature drift of Rust functions fails at
//! compile time: see `export!` in src/ffi/boundary.rs. Bindings drift: CI regenerates
//! src/ffi/abi.rs with `--features bindgen` and fails on a diff.)

mod common;

use std::process::Command;

const CDEF_FILE: &str = "lua/jitbox/cdef.lua";

fn cdef_lua() -> String {
    format!(
        "-- Generated from c_src/include/jitbox.h (the JITBOX_CDEF region). Do not edit:\n\
         -- run `JITBOX_BLESS=1 cargo test --test abi` after changing the header.\n\
         return [==[\n{}\n{}]==]\n",
        common::cdef_region(),
        library_struct()
    )
}

/// `struct jb_lib`: every declared function as a pointer field of its type, which the module
/// binds to the library that loaded it (luaopen_jitbox) and calls through.
fn library_struct() -> String {
    let mut s = String::from(
        "/* The library's functions as pointers (not in the C header): luaopen_jitbox binds the\n   \
         module to the library that loaded it through this. */\nstruct jb_lib {\n",
    );
    for (name, decl) in common::declarations() {
        let field = decl.replacen(&format!("{name}("), &format!("(*{name})("), 1);
        s.push_str("    ");
        s.push_str(&field);
        s.push('\n');
    }
    s.push_str("};\n");
    s
}

#[test]
fn lua_cdef_equals_header_region() {
    let path = common::root().join(CDEF_FILE);
    let want = cdef_lua();
    if std::env::var_os("JITBOX_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{CDEF_FILE} differs from the header's cdef region; run JITBOX_BLESS=1 cargo test --test abi"
    );
}

#[test]
fn cdef_region_has_no_preprocessor_directives() {
    for line in common::cdef_region().lines() {
        assert!(
            !line.trim_start().starts_with('#'),
            "directive in the cdef region: {line}"
        );
    }
}

#[test]
fn exported_symbols_equal_declared_functions() {
    let so = common::lib_dir().join("libjitbox.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&so)
        .output()
        .expect("nm runs");
    assert!(out.status.success(), "nm failed on {}", so.display());
    let mut exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .filter(|n| n.starts_with("jb_"))
        .map(String::from)
        .collect();
    exported.sort();
    let declared = common::declared_functions();
    assert!(
        declared.len() >= 35,
        "parsed only {} declarations",
        declared.len()
    );
    assert_eq!(
        exported, declared,
        "exported jb_ symbols differ from the header's functions"
    );
    assert_eq!(
        jitbox::ffi::exported().len(),
        declared.len(),
        "ffi::exported() misses a function"
    );
}

/// The kind each function's doc in the header declares is the kind the library enters the
/// engine with: the one `export!` declares (`ffi::exported`), which the boundary uses.
#[test]
fn every_function_enters_as_its_header_kind() {
    use jitbox::guard::Entry;
    let kinds: std::collections::HashMap<&str, Entry> = jitbox::ffi::exported()
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect();
    let declared = common::declared_kinds();
    assert_eq!(declared.len(), kinds.len(), "one kind per function");
    for (name, tag) in declared {
        let want = match tag.as_str() {
            "HOT" => Entry::Hot,
            "SAFE" => Entry::Safe,
            "ANY" => Entry::Free,
            _ => panic!("{name}: its doc does not begin with HOT, SAFE or ANY"),
        };
        let have = kinds
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} is not exported"));
        assert_eq!(*have, want, "{name}: the header says {tag}");
    }
}

fn compile_header(compiler: &str, args: &[&str]) {
    let inc = common::root().join("c_src/include");
    let src =
        std::env::temp_dir().join(format!("jitbox_header_{compiler}_{}.c", std::process::id()));
    std::fs::write(
        &src,
        "#include <jitbox.h>\nint main(void) { return (int)jb_abi_version() - 1; }\n",
    )
    .unwrap();
    let out = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(&inc)
        .arg("-fsyntax-only")
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("{compiler} not runnable: {e}"));
    let _ = std::fs::remove_file(&src);
    assert!(
        out.status.success(),
        "{compiler} rejects the header:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99() {
    compile_header(
        "cc",
        &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"],
    );
}

#[test]
fn header_compiles_as_cxx() {
    compile_header(
        "c++",
        &["-x", "c++", "-std=c++11", "-Wall", "-Wextra", "-Werror"],
    );
}

#[test]
fn lua_sizes_and_offsets_equal_rust() {
    use jitbox::ffi::abi::*;
    use std::mem::{offset_of, size_of};
    let lua = common::lua();
    let script = format!(
        "local ffi = require('ffi'); require('jitbox')\n\
         assert(ffi.sizeof('jb_field') == {}, 'jb_field size')\n\
         assert(ffi.offsetof('jb_field', 'len') == {}, 'jb_field.len')\n\
         assert(ffi.offsetof('jb_field', 'v') == {}, 'jb_field.v')\n\
         assert(ffi.sizeof('jb_engine_opts') == {}, 'opts size')\n\
         assert(ffi.sizeof('jb_format_field') == {}, 'format size')\n\
         assert(ffi.offsetof('jb_format_field', 'type') == {}, 'format.type')\n\
         assert(ffi.sizeof('jb_key_part') == {}, 'key part')\n\
         assert(ffi.sizeof('jb_index_def') == {}, 'index def')\n\
         assert(ffi.offsetof('jb_index_def', 'unique') == {}, 'def.unique')\n\
         assert(ffi.sizeof('jb_stat') == {}, 'stat size')\n\
         assert(ffi.offsetof('jb_stat', 'callbacks_dropped') == {}, 'stat.callbacks_dropped')\n\
         assert(ffi.offsetof('jb_engine_opts', 'wal_queue_max_size') == {}, 'opts.wal_queue_max_size')\n\
         assert(ffi.sizeof('jb_awaiting_index') == {}, 'awaiting size')\n\
         assert(ffi.offsetof('jb_awaiting_index', 'part_types') == {}, 'awaiting.part_types')\n",
        size_of::<jb_field>(),
        offset_of!(jb_field, len),
        offset_of!(jb_field, v),
        size_of::<jb_engine_opts>(),
        size_of::<jb_format_field>(),
        offset_of!(jb_format_field, type_),
        size_of::<jb_key_part>(),
        size_of::<jb_index_def>(),
        offset_of!(jb_index_def, unique),
        size_of::<jb_stat>(),
        offset_of!(jb_stat, callbacks_dropped),
        offset_of!(jb_engine_opts, wal_queue_max_size),
        size_of::<jb_awaiting_index>(),
        offset_of!(jb_awaiting_index, part_types),
    );
    lua.load(&script).exec().unwrap();
}

#[test]
fn error_names_are_stable() {
    use jitbox::ffi::abi::*;
    for (code, want) in [
        (JB_E_MEMORY, "JB_E_MEMORY"),
        (JB_E_TUPLE_FOUND, "JB_E_TUPLE_FOUND"),
        (JB_E_CLOSED, "JB_E_CLOSED"),
        (JB_E_WAL_IO, "JB_E_WAL_IO"),
        (JB_E_BUFFER_TOO_SMALL, "JB_E_BUFFER_TOO_SMALL"),
        (0, "JB_OK"),
    ] {
        // SAFETY: jb_strerror returns a static NUL-terminated string.
        let name = unsafe { std::ffi::CStr::from_ptr(jitbox::ffi::abi::jb_strerror(code)) };
        assert_eq!(name.to_str().unwrap(), want);
    }
    // SAFETY: as above.
    let unknown = unsafe { std::ffi::CStr::from_ptr(jitbox::ffi::abi::jb_strerror(-999)) };
    assert_eq!(unknown.to_str().unwrap(), "JB_E_UNKNOWN");
}
