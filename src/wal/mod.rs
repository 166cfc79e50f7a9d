//! The write-ahead log: what reaches disk before a commit is acknowledged, and what recovery
//! reads back. `record` frames records in a file (LSN, checksums) and tells a torn tail from
//! corruption.

pub mod record;
