//! Field types, index key definitions, and the comparisons indexes are ordered by.

use super::tuple::TuplePtr;
use super::value::{Value, cmp_number};
use crate::error::{Error, Result};
use crate::ffi::abi;
use std::cmp::Ordering;

pub const MAX_PARTS: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Boolean,
    Unsigned,
    Integer,
    Number,
    String,
    Any,
}

impl FieldType {
    /// Reads a type code coming from C: an integer, never trusted as an enum.
    pub fn from_code(code: u32, allow_any: bool) -> Option<FieldType> {
        Some(match code {
            abi::JB_FT_BOOLEAN => FieldType::Boolean,
            abi::JB_FT_UNSIGNED => FieldType::Unsigned,
            abi::JB_FT_INTEGER => FieldType::Integer,
            abi::JB_FT_NUMBER => FieldType::Number,
            abi::JB_FT_STRING => FieldType::String,
            abi::JB_FT_ANY if allow_any => FieldType::Any,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Unsigned => "unsigned",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::String => "string",
            FieldType::Any => "any",
        }
    }

    pub fn accepts(self, v: &Value) -> bool {
        matches!(
            (self, v),
            (FieldType::Any, _)
                | (FieldType::Boolean, Value::Bool(_))
                | (FieldType::Unsigned, Value::Uint(_))
                | (FieldType::Integer, Value::Uint(_) | Value::Int(_))
                | (
                    FieldType::Number,
                    Value::Uint(_) | Value::Int(_) | Value::Double(_)
                )
                | (FieldType::String, Value::Str(_))
        )
    }
}

/// Total order over values: nil < boolean < numbers < strings; numbers numerically, strings
/// bytewise. Index parts only ever hold values of their type, so this is the part order.
pub fn cmp_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Uint(_) | Value::Int(_) | Value::Double(_) => 2,
            Value::Str(_) => 3,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Uint(x), Value::Uint(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Nil, Value::Nil) => Ordering::Equal,
        _ if rank(a) == 2 && rank(b) == 2 => cmp_number(*a, *b),
        _ => rank(a).cmp(&rank(b)),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPart {
    pub fieldno: u32,
    pub ty: FieldType,
}

/// The parts an index is ordered by. A non-unique index orders by its parts and then by the
/// primary key's, so that its entries are unique too.
#[derive(Clone, Debug)]
pub struct KeyDef {
    pub parts: Vec<KeyPart>,
    pub cmp_parts: Vec<KeyPart>,
}

impl KeyDef {
    pub fn new(parts: Vec<KeyPart>, unique: bool, primary: Option<&KeyDef>) -> KeyDef {
        let mut cmp_parts = parts.clone();
        if let (false, Some(pk)) = (unique, primary) {
            cmp_parts.extend(pk.parts.iter().filter(|p| !parts.contains(p)));
        }
        KeyDef { parts, cmp_parts }
    }

    /// Orders two entries of the index.
    pub fn cmp_tuples(&self, a: TuplePtr, b: TuplePtr) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        for p in &self.cmp_parts {
            let o = cmp_values(&a.field(p.fieldno as usize), &b.field(p.fieldno as usize));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Orders a tuple against a (possibly partial) key: only the key's parts count.
    pub fn cmp_key(&self, t: TuplePtr, key: &[Value]) -> Ordering {
        for (p, k) in self.parts.iter().zip(key) {
            let o = cmp_values(&t.field(p.fieldno as usize), k);
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Orders two tuples by the user parts only (unique checks of secondary indexes).
    pub fn cmp_user_parts(&self, a: TuplePtr, b: TuplePtr) -> Ordering {
        for p in &self.parts {
            let o = cmp_values(&a.field(p.fieldno as usize), &b.field(p.fieldno as usize));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Checks a search key against the parts; `full` requires every part.
    pub fn check_key(&self, key: &[Value], full: bool, what: &dyn Fn() -> String) -> Result<()> {
        if key.len() > self.parts.len() || (full && key.len() != self.parts.len()) {
            return Err(Error::IllegalParams(format!(
                "{}: key has {} part(s), the index has {}{}",
                what(),
                key.len(),
                self.parts.len(),
                if full { "; give the full key" } else { "" }
            )));
        }
        for (i, (p, k)) in self.parts.iter().zip(key).enumerate() {
            if !p.ty.accepts(k) {
                return Err(Error::FieldType(format!(
                    "{}: key part {} must be {}, got {}",
                    what(),
                    i + 1,
                    p.ty.name(),
                    k.type_name()
                )));
            }
        }
        Ok(())
    }
}
