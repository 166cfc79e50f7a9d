//! The write-ahead log: what reaches disk before a commit is acknowledged, and what recovery
//! reads back. `record` frames records in a file (LSN, checksums) and tells a torn tail from
//! damage; `segment` names and creates the files; `replay` reads them back in order and
//! decides what a torn tail or damage means; `ops` is what a record says; `writer` is the
//! thread that writes and syncs groups of commits; `snapshot` writes and loads snapshot
//! files; `lock` makes one engine the owner of a directory.

pub mod lock;
pub mod ops;
pub mod record;
pub mod replay;
pub mod segment;
pub mod snapshot;
pub mod writer;
