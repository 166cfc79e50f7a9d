-- `luarocks make rockspecs/jitbox-scm-1.rockspec` from the repository: builds the library with
-- cargo and installs the Lua module and libjitbox.so where require finds them (the module
-- looks for libjitbox.so on package.cpath). Needs LuaJIT and a Rust toolchain.
rockspec_format = "3.0"
package = "jitbox"
version = "scm-1"
source = {
    url = ".", -- built from a checkout with `luarocks make`; no source archive is published
}
description = {
    summary = "A transactional in-memory storage engine for LuaJIT, at FFI speed",
    detailed = [[
        Spaces, indexes (tree and hash, functional), transactions, a write-ahead log and
        snapshots, read and written from LuaJIT through FFI calls that compile inside
        traces; the box API Tarantool users know.
    ]],
    license = "MIT OR Apache-2.0",
}
dependencies = {
    "lua == 5.1",
}
build = {
    type = "command",
    build_command = "cargo build --release",
    install = {
        lua = {
            ["jitbox"] = "lua/jitbox.lua",
            ["jitbox.base"] = "lua/jitbox/base.lua",
            ["jitbox.box"] = "lua/jitbox/box.lua",
            ["jitbox.box.error"] = "lua/jitbox/box/error.lua",
            ["jitbox.box.show"] = "lua/jitbox/box/show.lua",
            ["jitbox.box.space"] = "lua/jitbox/box/space.lua",
            ["jitbox.catalog"] = "lua/jitbox/catalog.lua",
            ["jitbox.cdef"] = "lua/jitbox/cdef.lua",
            ["jitbox.deferred"] = "lua/jitbox/deferred.lua",
            ["jitbox.engine"] = "lua/jitbox/engine.lua",
            ["jitbox.fields"] = "lua/jitbox/fields.lua",
            ["jitbox.iterator"] = "lua/jitbox/iterator.lua",
            ["jitbox.keys"] = "lua/jitbox/keys.lua",
            ["jitbox.msgpack"] = "lua/jitbox/msgpack.lua",
            ["jitbox.read"] = "lua/jitbox/read.lua",
            ["jitbox.schema"] = "lua/jitbox/schema.lua",
            ["jitbox.sequence"] = "lua/jitbox/sequence.lua",
            ["jitbox.snapshot"] = "lua/jitbox/snapshot.lua",
            ["jitbox.trigger"] = "lua/jitbox/trigger.lua",
            ["jitbox.tuple"] = "lua/jitbox/tuple.lua",
            ["jitbox.txn"] = "lua/jitbox/txn.lua",
            ["jitbox.update"] = "lua/jitbox/update.lua",
            ["jitbox.waiting"] = "lua/jitbox/waiting.lua",
            ["jitbox.write"] = "lua/jitbox/write.lua",
        },
        lib = {
            ["libjitbox"] = "target/release/libjitbox.so",
        },
    },
}
