//! Field types, index key definitions, and the comparisons indexes are ordered by.

use crate::wal::ops::LoggedType;
use super::collation::Collation;
use super::tuple::TuplePtr;
use super::value::{RawKind, Value, cmp_number, raw_kind};
use crate::error::{Error, Result};
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
    /// Any value but an array or a map (Tarantool's scalar).
    Scalar,
    Array,
    Map,
    /// A MessagePack float or double only (Tarantool's double): integers are refused.
    Double,
    /// A MessagePack binary string (Tarantool's varbinary), ordered as bytes.
    Varbinary,
}

/// The engine's types as the WAL logs them, and back.
impl From<FieldType> for LoggedType {
    fn from(t: FieldType) -> LoggedType {
        match t {
            FieldType::Boolean => LoggedType::Boolean,
            FieldType::Unsigned => LoggedType::Unsigned,
            FieldType::Integer => LoggedType::Integer,
            FieldType::Number => LoggedType::Number,
            FieldType::String => LoggedType::String,
            FieldType::Any => LoggedType::Any,
            FieldType::Scalar => LoggedType::Scalar,
            FieldType::Array => LoggedType::Array,
            FieldType::Map => LoggedType::Map,
            FieldType::Double => LoggedType::Double,
            FieldType::Varbinary => LoggedType::Varbinary,
        }
    }
}

impl From<LoggedType> for FieldType {
    fn from(t: LoggedType) -> FieldType {
        match t {
            LoggedType::Boolean => FieldType::Boolean,
            LoggedType::Unsigned => FieldType::Unsigned,
            LoggedType::Integer => FieldType::Integer,
            LoggedType::Number => FieldType::Number,
            LoggedType::String => FieldType::String,
            LoggedType::Any => FieldType::Any,
            LoggedType::Scalar => FieldType::Scalar,
            LoggedType::Array => FieldType::Array,
            LoggedType::Map => FieldType::Map,
            LoggedType::Double => FieldType::Double,
            LoggedType::Varbinary => FieldType::Varbinary,
        }
    }
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Boolean => "boolean",
            FieldType::Unsigned => "unsigned",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::String => "string",
            FieldType::Any => "any",
            FieldType::Scalar => "scalar",
            FieldType::Array => "array",
            FieldType::Map => "map",
            FieldType::Double => "double",
            FieldType::Varbinary => "varbinary",
        }
    }

    /// Whether a search key part may be `v`: what a field takes, and for a double part any
    /// number (keys compare numerically; `3` finds `3.0`).
    pub fn accepts_key(self, v: &Value) -> bool {
        self.accepts(v)
            || (self == FieldType::Double && matches!(v, Value::Uint(_) | Value::Int(_)))
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
                | (FieldType::Double, Value::Double(_))
        ) || match (self, v) {
            (
                FieldType::Array | FieldType::Map | FieldType::Scalar | FieldType::Varbinary,
                Value::Raw(b),
            ) => {
                let kind = raw_kind(b);
                match self {
                    FieldType::Array => kind == RawKind::Array,
                    FieldType::Map => kind == RawKind::Map,
                    FieldType::Varbinary => kind == RawKind::Binary,
                    _ => kind != RawKind::Array && kind != RawKind::Map,
                }
            }
            (FieldType::Scalar, v) => !matches!(v, Value::Raw(_)),
            _ => false,
        }
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
            Value::Raw(_) => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Uint(x), Value::Uint(y)) => x.cmp(y),
        (Value::Str(x), Value::Str(y)) => x.cmp(y),
        (Value::Raw(x), Value::Raw(y)) => match (binary_payload(x), binary_payload(y)) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => x.cmp(y),
        },
        (Value::Nil, Value::Nil) => Ordering::Equal,
        _ if rank(a) == 2 && rank(b) == 2 => cmp_number(*a, *b),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The bytes of a MessagePack binary string (a varbinary), without its header.
fn binary_payload(b: &[u8]) -> Option<&[u8]> {
    let skip = match b.first()? {
        0xc4 => 2,
        0xc5 => 3,
        0xc6 => 5,
        _ => return None,
    };
    b.get(skip..)
}

/// One part of an index key. A nullable part also takes nil, which sorts first; a string
/// part may order by a collation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyPart {
    pub fieldno: u32,
    pub ty: FieldType,
    pub nullable: bool,
    pub collation: Collation,
}

impl KeyPart {
    pub fn new(fieldno: u32, ty: FieldType) -> KeyPart {
        KeyPart {
            fieldno,
            ty,
            nullable: false,
            collation: Collation::None,
        }
    }

    /// Orders two values of this part.
    #[inline]
    pub fn cmp(&self, a: &Value, b: &Value) -> Ordering {
        if self.collation != Collation::None
            && let (Value::Str(x), Value::Str(y)) = (a, b)
        {
            return self.collation.cmp(x, y);
        }
        cmp_values(a, b)
    }

    /// Whether a tuple's field may hold `v` for this part.
    pub fn accepts(&self, v: &Value) -> bool {
        (self.nullable && *v == Value::Nil) || self.ty.accepts(v)
    }
}

// As derived, but `nullable` only when set (what tests/data records of the format stays so).
impl std::fmt::Debug for KeyPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("KeyPart");
        d.field("fieldno", &self.fieldno).field("ty", &self.ty);
        if self.nullable {
            d.field("nullable", &true);
        }
        if self.collation != Collation::None {
            d.field("collation", &self.collation);
        }
        d.finish()
    }
}

/// The parts an index is ordered by. A non-unique index orders by its parts and then by the
/// primary key's, so that its entries are unique too.
#[derive(Clone, Debug)]
pub struct KeyDef {
    pub parts: Vec<KeyPart>,
    pub cmp_parts: Vec<KeyPart>,
}

impl KeyDef {
    /// A unique index with a nullable part orders as a non-unique one (keys with nil may
    /// repeat there) and checks uniqueness for the other keys (see `Space::check_unique`).
    pub fn new(parts: Vec<KeyPart>, unique: bool, primary: Option<&KeyDef>) -> KeyDef {
        let mut cmp_parts = parts.clone();
        let distinct = unique && !parts.iter().any(|p| p.nullable);
        if let (false, Some(pk)) = (distinct, primary) {
            cmp_parts.extend(pk.parts.iter().filter(|p| !parts.contains(p)));
        }
        KeyDef { parts, cmp_parts }
    }

    /// The key definition of a functional index, over its rows (see `func`): field 0 holds
    /// the tuple's address, fields 1..=k the key the function returned, then (non-unique
    /// indexes) copies of the tuple's primary key. Rows order by key, primary key, address.
    /// Keys with nil (nullable parts) may repeat in a unique index, so they order as in a
    /// non-unique one. `key` gives each part's type, nullability and collation.
    pub fn functional(key: &[KeyPart], unique: bool, primary: &KeyDef) -> KeyDef {
        let at = |i: usize, ty| KeyPart::new(i as u32, ty);
        let parts: Vec<KeyPart> = key
            .iter()
            .enumerate()
            .map(|(i, p)| KeyPart {
                fieldno: i as u32 + 1,
                ..*p
            })
            .collect();
        let mut cmp_parts = parts.clone();
        if !unique || parts.iter().any(|p| p.nullable) {
            let k = parts.len();
            cmp_parts.extend(
                primary
                    .parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| at(k + 1 + i, p.ty)),
            );
        }
        cmp_parts.push(at(0, FieldType::Unsigned));
        KeyDef { parts, cmp_parts }
    }

    /// Orders two tuples by `cmp_parts[from..to]`.
    pub fn cmp_tuples_range(&self, a: TuplePtr, b: TuplePtr, from: usize, to: usize) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        for p in &self.cmp_parts[from..to] {
            let o = p.cmp(&a.field(p.fieldno as usize), &b.field(p.fieldno as usize));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }

    /// Orders a tuple against a (possibly partial) key, from key part `from` on. A key may
    /// run on into the comparison parts past the index's own (a functional index's row).
    pub fn cmp_key_from(&self, t: TuplePtr, key: &[Value], from: usize) -> Ordering {
        for (p, k) in self.cmp_parts.iter().zip(key).skip(from) {
            let o = p.cmp(&t.field(p.fieldno as usize), k);
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
            if !(p.ty.accepts_key(k) || (!full && p.nullable && *k == Value::Nil)) {
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

impl KeyDef {
    /// A 64-bit hint of a value of comparison part `i`, monotone in the part's order:
    /// `a < b` implies `hint(a) <= hint(b)`, equal values have equal hints, and where
    /// `exact` says so, equal hints mean equal values. Entries compare by hints first and
    /// touch tuple memory only on an inexact tie.
    pub fn hint(&self, i: usize, v: &Value) -> u64 {
        const MID: u64 = 1 << 63;
        if self.cmp_parts[i].collation != Collation::None {
            return 0; // no order-preserving bits of a collated string: every tie compares
        }
        match (self.cmp_parts[i].ty, *v) {
            (FieldType::Unsigned, Value::Uint(u)) => u,
            (FieldType::Integer, Value::Uint(u)) => u.saturating_add(MID),
            (FieldType::Integer, Value::Int(i)) => (i as u64) ^ MID,
            (FieldType::Number | FieldType::Double, Value::Uint(u)) => double_hint(u as f64),
            (FieldType::Number | FieldType::Double, Value::Int(i)) => double_hint(i as f64),
            (FieldType::Number | FieldType::Double, Value::Double(d)) => double_hint(d),
            (FieldType::String, Value::Str(s)) => {
                // Seven bytes of content, then the length capped at 8: exact up to 7 bytes.
                let mut b = [0u8; 8];
                let n = s.len().min(7);
                b[..n].copy_from_slice(&s[..n]);
                b[7] = s.len().min(8) as u8;
                u64::from_be_bytes(b)
            }
            (FieldType::Boolean, Value::Bool(b)) => b as u64,
            _ => 0,
        }
    }

    /// Whether equal hints of part `i` imply equal values.
    #[inline]
    pub fn exact(&self, i: usize, hint: u64) -> bool {
        if self.cmp_parts[i].nullable || self.cmp_parts[i].collation != Collation::None {
            return false; // nil's hint is the least value's; a collated part's is always 0
        }
        match self.cmp_parts[i].ty {
            FieldType::Unsigned | FieldType::Boolean => true,
            FieldType::Integer => hint != u64::MAX,
            FieldType::String => hint & 0xff < 8,
            FieldType::Number
            | FieldType::Double
            | FieldType::Varbinary
            | FieldType::Any
            | FieldType::Scalar
            | FieldType::Array
            | FieldType::Map => false,
        }
    }

    /// The hint of part `i` of a tuple.
    pub fn tuple_hint(&self, i: usize, t: TuplePtr) -> u64 {
        self.hint(i, &t.field(self.cmp_parts[i].fieldno as usize))
    }
}

/// Order-preserving bits of a double; NaN first (as `cmp_number` orders it), -0 equals 0.
fn double_hint(d: f64) -> u64 {
    if d.is_nan() {
        return 0;
    }
    let bits = if d == 0.0 {
        0.0f64.to_bits()
    } else {
        d.to_bits()
    };
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(ty: FieldType) -> KeyDef {
        KeyDef::new(vec![KeyPart::new(0, ty)], true, None)
    }

    /// For sorted values, hints never decrease, equal values share a hint, and an exact hint
    /// tie means equal values.
    fn check_monotone(ty: FieldType, sorted: &[Value]) {
        let d = def(ty);
        for w in sorted.windows(2) {
            let (a, b) = (d.hint(0, &w[0]), d.hint(0, &w[1]));
            match cmp_values(&w[0], &w[1]) {
                Ordering::Less => {
                    assert!(a <= b, "{:?} < {:?} but hints {a} > {b}", w[0], w[1]);
                    assert!(
                        a != b || !d.exact(0, a),
                        "{:?} < {:?} but exact hints tie",
                        w[0],
                        w[1]
                    );
                }
                Ordering::Equal => assert_eq!(a, b, "{:?} == {:?}", w[0], w[1]),
                Ordering::Greater => panic!("test values not sorted: {:?} {:?}", w[0], w[1]),
            }
        }
    }

    #[test]
    fn hints_are_monotone() {
        check_monotone(
            FieldType::Unsigned,
            &[Value::Uint(0), Value::Uint(1), Value::Uint(u64::MAX)],
        );
        check_monotone(
            FieldType::Integer,
            &[
                Value::Int(i64::MIN),
                Value::Int(-1),
                Value::Uint(0),
                Value::Uint(1 << 63),
                Value::Uint(u64::MAX),
            ],
        );
        check_monotone(
            FieldType::Number,
            &[
                Value::Double(f64::NAN),
                Value::Double(f64::NEG_INFINITY),
                Value::Int(i64::MIN),
                Value::Double(-1.5),
                Value::Int(-1),
                Value::Double(-0.0),
                Value::Uint(0),
                Value::Double(0.5),
                Value::Uint(1 << 53),
                Value::Uint((1 << 53) + 1),
                Value::Double(1e300),
                Value::Double(f64::INFINITY),
            ],
        );
        check_monotone(
            FieldType::String,
            &[
                Value::Str(b""),
                Value::Str(b"\0"),
                Value::Str(b"\0\0"),
                Value::Str(b"a"),
                Value::Str(b"a\0"),
                Value::Str(b"abcdefg"),
                Value::Str(b"abcdefg\0"),
                Value::Str(b"abcdefgh"),
                Value::Str(b"abcdefghz"),
                Value::Str(b"b"),
                Value::Str(b"name999"),
            ],
        );
        check_monotone(FieldType::Boolean, &[Value::Bool(false), Value::Bool(true)]);
    }
}
