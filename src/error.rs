//! The one error type of the engine and its one mapping to the ABI's status codes.

use crate::ffi::abi;

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
    #[error("buffer of {cap} bytes is too small: {need} bytes needed")]
    BufferTooSmall { need: usize, cap: usize },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The stable status code of the C ABI.
    pub fn code(&self) -> i32 {
        match self {
            Error::Memory(_) => abi::JB_E_MEMORY,
            Error::TupleFound(_) => abi::JB_E_TUPLE_FOUND,
            Error::NoSuchSpace(_) => abi::JB_E_NO_SUCH_SPACE,
            Error::NoSuchIndex(_) => abi::JB_E_NO_SUCH_INDEX,
            Error::FieldType(_) => abi::JB_E_FIELD_TYPE,
            Error::IllegalParams(_) => abi::JB_E_ILLEGAL_PARAMS,
            Error::Conflict(_) => abi::JB_E_CONFLICT,
            Error::Reentry(_) => abi::JB_E_REENTRY,
            Error::Closed(_) => abi::JB_E_CLOSED,
            Error::BadHandle(_) => abi::JB_E_BAD_HANDLE,
            Error::WrongThread(_) => abi::JB_E_WRONG_THREAD,
            Error::Panic(_) => abi::JB_E_PANIC,
            Error::Busy(_) => abi::JB_E_BUSY,
            Error::Exists(_) => abi::JB_E_EXISTS,
            Error::Poisoned(_) => abi::JB_E_POISONED,
            Error::WalIo(_) => abi::JB_E_WAL_IO,
            Error::CascadeRollback(_) => abi::JB_E_CASCADE_ROLLBACK,
            Error::BufferTooSmall { .. } => abi::JB_E_BUFFER_TOO_SMALL,
        }
    }

    /// Short name without the `JB_E_` prefix, as the Lua module reports it in `err.code`.
    pub fn name(&self) -> &'static str {
        &code_name(self.code())[5..]
    }

    pub(crate) fn memory(what: &str, need: usize, used: usize, limit: usize) -> Error {
        Error::Memory(format!(
            "not enough memory for {what}: {need} bytes needed, {used} of memory_limit {limit} \
             in use; raise memory_limit or delete data"
        ))
    }
}

/// Static name of a status code, `"JB_E_UNKNOWN"` for a number that is not one.
pub fn code_name(code: i32) -> &'static str {
    match code {
        abi::JB_OK => "JB_OK",
        abi::JB_E_MEMORY => "JB_E_MEMORY",
        abi::JB_E_TUPLE_FOUND => "JB_E_TUPLE_FOUND",
        abi::JB_E_NO_SUCH_SPACE => "JB_E_NO_SUCH_SPACE",
        abi::JB_E_NO_SUCH_INDEX => "JB_E_NO_SUCH_INDEX",
        abi::JB_E_FIELD_TYPE => "JB_E_FIELD_TYPE",
        abi::JB_E_ILLEGAL_PARAMS => "JB_E_ILLEGAL_PARAMS",
        abi::JB_E_CONFLICT => "JB_E_CONFLICT",
        abi::JB_E_REENTRY => "JB_E_REENTRY",
        abi::JB_E_WAL_IO => "JB_E_WAL_IO",
        abi::JB_E_CASCADE_ROLLBACK => "JB_E_CASCADE_ROLLBACK",
        abi::JB_E_CLOSED => "JB_E_CLOSED",
        abi::JB_E_BAD_HANDLE => "JB_E_BAD_HANDLE",
        abi::JB_E_WRONG_THREAD => "JB_E_WRONG_THREAD",
        abi::JB_E_PANIC => "JB_E_PANIC",
        abi::JB_E_BUSY => "JB_E_BUSY",
        abi::JB_E_LOADING => "JB_E_LOADING",
        abi::JB_E_EXISTS => "JB_E_EXISTS",
        abi::JB_E_POISONED => "JB_E_POISONED",
        abi::JB_E_BUFFER_TOO_SMALL => "JB_E_BUFFER_TOO_SMALL",
        _ => "JB_E_UNKNOWN",
    }
}
