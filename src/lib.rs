//! jitbox: a transactional in-memory storage engine for LuaJIT, reached through a C ABI.
//!
//! The public Rust API is the C ABI's (`abi`: its types and functions, the header's contract)
//! plus `ffi::exported` for binaries that embed LuaJIT, and the engine's `Error`. The engine
//! itself is internal: its native API hands out raw tuple pointers (see `engine::tuple`) that
//! safe code could use after free, so no safe program outside this crate can reach it
//! (`tests/sealed` checks that it does not compile).
//!
//! Layers, outside in: `ffi` (the C boundary: handles, panics, errors) → `guard` (which entry
//! kind is active; what callbacks may run) → `engine` (spaces, indexes, tuples) → `wal` (the
//! write-ahead log on disk) and `mem` (the quota every allocation is charged to).

/// Internal modules: public only to jitbox's own tests, benchmarks and examples (`cfg
/// jitbox_internals`, which build.rs sets for builds run from this repository; not an API).
macro_rules! internal {
    ($($name:ident),* $(,)?) => {$(
        #[cfg(jitbox_internals)]
        pub mod $name;
        #[cfg(not(jitbox_internals))]
        #[allow(dead_code, unreachable_pub)]
        mod $name;
    )*};
}

internal!(engine, fork, guard, mem, wal);

pub mod error;
pub mod ffi;
pub mod inspect;
pub mod lua;

pub use error::{Error, Result};
pub use ffi::abi;
pub use guard::Entry;
#[cfg(feature = "mlua")]
pub use mlua;
