//! The one error type of the engine (`ffi::status` maps it to the ABI's status codes).

/// Every failure the engine reports. Messages say what was wrong, where, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Memory(String),
    #[error("{0}")]
    TupleFound(String),
    #[error("{0}")]
    NoSuchSpace(String),
    #[error("{0}")]
    NoSuchIndex(String),
    #[error("{0}")]
    FieldType(String),
    #[error("{0}")]
    IllegalParams(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Reentry(String),
    #[error("{0}")]
    Closed(String),
    #[error("{0}")]
    BadHandle(String),
    #[error("{0}")]
    WrongThread(String),
    #[error("{0}")]
    Panic(String),
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    Exists(String),
    #[error("{0}")]
    Poisoned(String),
    /// The write-ahead log could not be written, or what it holds is damaged.
    #[error("{0}")]
    WalIo(String),
    /// Rolled back because a transaction it followed failed to reach the WAL.
    #[error("{0}")]
    CascadeRollback(String),
    /// An update names a field the tuple does not have (by number or format name).
    #[error("{0}")]
    NoSuchField(String),
    /// A malformed update operation: unknown operator, a field changed twice, 0 deletes.
    #[error("{0}")]
    UpdateOp(String),
    /// An update operation's argument, or the field it applies to, has the wrong type.
    #[error("{0}")]
    UpdateArgType(String),
    /// `+` or `-` on integers left the 64-bit range.
    #[error("{0}")]
    IntegerOverflow(String),
    /// A splice's offset is outside the string.
    #[error("{0}")]
    Splice(String),
    /// An update would change a primary key field.
    #[error("{0}")]
    PrimaryKeyUpdate(String),
    #[error("buffer of {cap} bytes is too small: {need} bytes needed")]
    BufferTooSmall { need: usize, cap: usize },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn memory(what: &str, need: usize, used: usize, limit: usize) -> Error {
        Error::Memory(format!(
            "not enough memory for {what}: {need} bytes needed, {used} of memory_limit {limit} \
             in use; raise memory_limit or delete data"
        ))
    }
}
