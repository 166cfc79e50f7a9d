//! jitbox: a transactional in-memory storage engine for LuaJIT, reached through a C ABI.
//!
//! Layers, outside in: `ffi` (the C boundary: handles, panics, errors) → `guard` (which entry
//! kind is active; what callbacks may run) → `engine` (spaces, indexes, tuples) → `wal` (the
//! write-ahead log on disk) and `mem` (the quota every allocation is charged to).

pub mod engine;
pub mod error;
pub mod ffi;
pub mod fork;
pub mod guard;
pub mod mem;
pub mod wal;

pub use engine::{Engine, Options};
pub use error::{Error, Result};
