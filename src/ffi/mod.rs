//! The C boundary: the generated ABI types, the one boundary all exports go through, the
//! handle table, and the exported functions grouped by the object they act on.

pub mod abi;
pub mod boundary;
pub mod convert;
pub mod handles;

mod api_engine;
mod api_read;
mod api_space;
mod api_tuple;
