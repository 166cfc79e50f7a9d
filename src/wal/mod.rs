//! The write-ahead log: what reaches disk before a commit is acknowledged, and what recovery
//! reads back. `record` frames records in a file (LSN, checksums) and tells a torn tail from
//! corruption; `segment` names the files and replays them in order; `ops` is what a record says;
//! `writer` is the thread that writes and syncs groups of commits; `snapshot` writes and
//! loads snapshot files.

pub mod ops;
pub mod record;
pub mod segment;
pub mod snapshot;
pub mod writer;
