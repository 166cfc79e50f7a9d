//! The engine's errors and enums as the C ABI's numbers: the one place they are mapped. The
//! engine owns its types; nothing below the boundary knows a `JB_*` value.

use super::abi;
use crate::engine::durable::WriterState;
use crate::engine::iter::IterType;
use crate::engine::key::FieldType;
use crate::error::{Error, Result};
use crate::guard::CallbackKind;
use std::ffi::CStr;

/// The stable status code of an error.
pub fn status(e: &Error) -> i32 {
    match e {
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
        Error::NoSuchField(_) => abi::JB_E_NO_SUCH_FIELD,
        Error::UpdateOp(_) => abi::JB_E_UPDATE_OP,
        Error::UpdateArgType(_) => abi::JB_E_UPDATE_ARG_TYPE,
        Error::IntegerOverflow(_) => abi::JB_E_INTEGER_OVERFLOW,
        Error::Splice(_) => abi::JB_E_SPLICE,
        Error::PrimaryKeyUpdate(_) => abi::JB_E_PRIMARY_KEY_UPDATE,
    }
}

/// Static name of a status code, `"JB_E_UNKNOWN"` for a number that is not one.
pub fn status_name(code: i32) -> &'static CStr {
    match code {
        abi::JB_OK => c"JB_OK",
        abi::JB_E_MEMORY => c"JB_E_MEMORY",
        abi::JB_E_TUPLE_FOUND => c"JB_E_TUPLE_FOUND",
        abi::JB_E_NO_SUCH_SPACE => c"JB_E_NO_SUCH_SPACE",
        abi::JB_E_NO_SUCH_INDEX => c"JB_E_NO_SUCH_INDEX",
        abi::JB_E_FIELD_TYPE => c"JB_E_FIELD_TYPE",
        abi::JB_E_ILLEGAL_PARAMS => c"JB_E_ILLEGAL_PARAMS",
        abi::JB_E_CONFLICT => c"JB_E_CONFLICT",
        abi::JB_E_REENTRY => c"JB_E_REENTRY",
        abi::JB_E_WAL_IO => c"JB_E_WAL_IO",
        abi::JB_E_CASCADE_ROLLBACK => c"JB_E_CASCADE_ROLLBACK",
        abi::JB_E_CLOSED => c"JB_E_CLOSED",
        abi::JB_E_BAD_HANDLE => c"JB_E_BAD_HANDLE",
        abi::JB_E_WRONG_THREAD => c"JB_E_WRONG_THREAD",
        abi::JB_E_PANIC => c"JB_E_PANIC",
        abi::JB_E_BUSY => c"JB_E_BUSY",
        abi::JB_E_LOADING => c"JB_E_LOADING",
        abi::JB_E_EXISTS => c"JB_E_EXISTS",
        abi::JB_E_POISONED => c"JB_E_POISONED",
        abi::JB_E_BUFFER_TOO_SMALL => c"JB_E_BUFFER_TOO_SMALL",
        abi::JB_E_NO_SUCH_FIELD => c"JB_E_NO_SUCH_FIELD",
        abi::JB_E_UPDATE_OP => c"JB_E_UPDATE_OP",
        abi::JB_E_UPDATE_ARG_TYPE => c"JB_E_UPDATE_ARG_TYPE",
        abi::JB_E_INTEGER_OVERFLOW => c"JB_E_INTEGER_OVERFLOW",
        abi::JB_E_SPLICE => c"JB_E_SPLICE",
        abi::JB_E_PRIMARY_KEY_UPDATE => c"JB_E_PRIMARY_KEY_UPDATE",
        abi::JB_E_SEQUENCE_OVERFLOW => c"JB_E_SEQUENCE_OVERFLOW",
        _ => c"JB_E_UNKNOWN",
    }
}

/// A field type code coming from C: an integer, never trusted as an enum.
pub fn field_type(code: u32, allow_any: bool) -> Option<FieldType> {
    Some(match code {
        abi::JB_FT_BOOLEAN => FieldType::Boolean,
        abi::JB_FT_UNSIGNED => FieldType::Unsigned,
        abi::JB_FT_INTEGER => FieldType::Integer,
        abi::JB_FT_NUMBER => FieldType::Number,
        abi::JB_FT_STRING => FieldType::String,
        abi::JB_FT_DOUBLE => FieldType::Double,
        abi::JB_FT_VARBINARY => FieldType::Varbinary,
        abi::JB_FT_ANY if allow_any => FieldType::Any,
        abi::JB_FT_SCALAR if allow_any => FieldType::Scalar,
        abi::JB_FT_ARRAY if allow_any => FieldType::Array,
        abi::JB_FT_MAP if allow_any => FieldType::Map,
        _ => return None,
    })
}

/// The `JB_FT_*` number of a field type.
pub fn field_type_code(t: FieldType) -> u32 {
    match t {
        FieldType::Boolean => abi::JB_FT_BOOLEAN,
        FieldType::Unsigned => abi::JB_FT_UNSIGNED,
        FieldType::Integer => abi::JB_FT_INTEGER,
        FieldType::Number => abi::JB_FT_NUMBER,
        FieldType::String => abi::JB_FT_STRING,
        FieldType::Any => abi::JB_FT_ANY,
        FieldType::Scalar => abi::JB_FT_SCALAR,
        FieldType::Array => abi::JB_FT_ARRAY,
        FieldType::Map => abi::JB_FT_MAP,
        FieldType::Double => abi::JB_FT_DOUBLE,
        FieldType::Varbinary => abi::JB_FT_VARBINARY,
    }
}

/// An iterator type code coming from C.
pub fn iter_type(code: u32) -> Result<IterType> {
    Ok(match code {
        abi::JB_ITER_EQ => IterType::Eq,
        abi::JB_ITER_REQ => IterType::Req,
        abi::JB_ITER_ALL => IterType::All,
        abi::JB_ITER_LT => IterType::Lt,
        abi::JB_ITER_LE => IterType::Le,
        abi::JB_ITER_GE => IterType::Ge,
        abi::JB_ITER_GT => IterType::Gt,
        _ => {
            return Err(Error::IllegalParams(format!(
                "unknown iterator type {code}; use EQ, REQ, ALL, LT, LE, GE or GT"
            )));
        }
    })
}

/// A callback kind code coming from C.
pub fn callback_kind(code: u32) -> Option<CallbackKind> {
    match code {
        abi::JB_CB_NATIVE => Some(CallbackKind::Native),
        abi::JB_CB_LUA => Some(CallbackKind::Lua),
        _ => None,
    }
}

/// The code of the WAL writer's state (`None`: the engine has no log).
pub fn wal_state_code(state: Option<WriterState>) -> u64 {
    (match state {
        None => abi::JB_WAL_OFF,
        Some(WriterState::Idle) => abi::JB_WAL_IDLE,
        Some(WriterState::Writing) => abi::JB_WAL_WRITING,
        Some(WriterState::Stalled) => abi::JB_WAL_STALLED,
        Some(WriterState::Failed) => abi::JB_WAL_FAILED,
        Some(WriterState::Broken) => abi::JB_WAL_BROKEN,
        Some(WriterState::Stopped) => abi::JB_WAL_STOPPED,
    }) as u64
}
