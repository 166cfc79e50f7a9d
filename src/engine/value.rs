//! Field values and their MessagePack encoding: a tuple's data is one MessagePack array, the
//! same bytes the C ABI's `_data` functions copy out.

use crate::error::{Error, Result};
use std::cmp::Ordering;

/// One field. Integers are canonical: non-negative ones are always `Uint`, `Int` is negative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Nil,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Double(f64),
    Str(&'a [u8]),
    /// An array, a map, a binary string or an extension: its MessagePack bytes, whole and
    /// checked. Nested values are stored and handed out as they are.
    Raw(&'a [u8]),
}

/// What a `Raw` value is, by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawKind {
    Array,
    Map,
    Binary,
    Extension,
}

pub fn raw_kind(bytes: &[u8]) -> RawKind {
    match bytes.first() {
        Some(0x90..=0x9f | 0xdc | 0xdd) => RawKind::Array,
        Some(0x80..=0x8f | 0xde | 0xdf) => RawKind::Map,
        Some(0xc4..=0xc6) => RawKind::Binary,
        _ => RawKind::Extension,
    }
}

impl Value<'_> {
    pub fn int(i: i64) -> Value<'static> {
        if i >= 0 {
            Value::Uint(i as u64)
        } else {
            Value::Int(i)
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "boolean",
            Value::Uint(_) => "unsigned",
            Value::Int(_) => "integer",
            Value::Double(_) => "number",
            Value::Str(_) => "string",
            Value::Raw(b) => match raw_kind(b) {
                RawKind::Array => "array",
                RawKind::Map => "map",
                RawKind::Binary => "varbinary",
                RawKind::Extension => "extension",
            },
        }
    }

    /// Bytes this value takes in MessagePack.
    pub fn encoded_len(&self) -> usize {
        match *self {
            Value::Nil | Value::Bool(_) => 1,
            Value::Uint(u) => match u {
                0..=0x7f => 1,
                0x80..=0xff => 2,
                0x100..=0xffff => 3,
                0x1_0000..=0xffff_ffff => 5,
                _ => 9,
            },
            Value::Int(i) => match i {
                -32..=-1 => 1,
                -128..=-33 => 2,
                -32768..=-129 => 3,
                -2147483648..=-32769 => 5,
                _ => 9,
            },
            Value::Double(_) => 9,
            Value::Str(s) => str_header_len(s.len()) + s.len(),
            Value::Raw(b) => b.len(),
        }
    }

    /// Writes the encoding to `out` (a slice sink must have room: size it with `encoded_len`).
    pub fn encode(&self, out: &mut impl Sink) {
        match *self {
            Value::Nil => out.put(&[0xc0]),
            Value::Bool(b) => out.put(&[if b { 0xc3 } else { 0xc2 }]),
            Value::Uint(u) => match u {
                0..=0x7f => out.put(&[u as u8]),
                0x80..=0xff => out.put(&[0xcc, u as u8]),
                0x100..=0xffff => {
                    out.put(&[0xcd]);
                    out.put(&(u as u16).to_be_bytes())
                }
                0x1_0000..=0xffff_ffff => {
                    out.put(&[0xce]);
                    out.put(&(u as u32).to_be_bytes())
                }
                _ => {
                    out.put(&[0xcf]);
                    out.put(&u.to_be_bytes())
                }
            },
            Value::Int(i) => match i {
                -32..=-1 => out.put(&[i as u8]),
                -128..=-33 => out.put(&[0xd0, i as u8]),
                -32768..=-129 => {
                    out.put(&[0xd1]);
                    out.put(&(i as i16).to_be_bytes())
                }
                -2147483648..=-32769 => {
                    out.put(&[0xd2]);
                    out.put(&(i as i32).to_be_bytes())
                }
                _ => {
                    out.put(&[0xd3]);
                    out.put(&i.to_be_bytes())
                }
            },
            Value::Double(d) => {
                out.put(&[0xcb]);
                out.put(&d.to_be_bytes())
            }
            Value::Str(s) => {
                let n = s.len();
                if n < 32 {
                    out.put(&[0xa0 | n as u8]);
                } else if n <= 0xff {
                    out.put(&[0xd9, n as u8]);
                } else if n <= 0xffff {
                    out.put(&[0xda]);
                    out.put(&(n as u16).to_be_bytes());
                } else {
                    out.put(&[0xdb]);
                    out.put(&(n as u32).to_be_bytes());
                }
                out.put(s)
            }
            Value::Raw(b) => out.put(b),
        }
    }
}

fn str_header_len(n: usize) -> usize {
    match n {
        0..=31 => 1,
        32..=0xff => 2,
        0x100..=0xffff => 3,
        _ => 5,
    }
}

pub fn array_header_len(n: usize) -> usize {
    match n {
        0..=15 => 1,
        16..=0xffff => 3,
        _ => 5,
    }
}

/// Bytes the MessagePack array of `vals` takes.
pub fn encoded_array_len(vals: &[Value]) -> usize {
    let header = match vals.len() {
        0..16 => 1,
        16..=0xffff => 3,
        _ => 5,
    };
    header + vals.iter().map(Value::encoded_len).sum::<usize>()
}

pub fn encode_array_header(n: usize, out: &mut impl Sink) {
    if n < 16 {
        out.put(&[0x90 | n as u8]);
    } else if n <= 0xffff {
        out.put(&[0xdc]);
        out.put(&(n as u16).to_be_bytes());
    } else {
        out.put(&[0xdd]);
        out.put(&(n as u32).to_be_bytes());
    }
}

/// Where encodings go: a growing vector, or a slice sized in advance.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Writes into a slice from its start; `pos` is how much was written.
pub struct SliceSink<'a> {
    pub buf: &'a mut [u8],
    pub pos: usize,
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }
}

fn malformed() -> Error {
    Error::IllegalParams("malformed tuple data: not a well-formed MessagePack array".into())
}

/// Reads `N` bytes at `*pos`, advancing it.
#[inline(always)]
fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8]> {
    let end = pos.checked_add(n).ok_or_else(malformed)?;
    let s = buf.get(*pos..end).ok_or_else(malformed)?;
    *pos = end;
    Ok(s)
}

#[inline(always)]
fn be<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N]> {
    let s = take(buf, pos, N)?;
    let mut a = [0u8; N];
    a.copy_from_slice(s);
    Ok(a)
}

/// The unsigned integer or short string at `*pos` (advancing past it), the values rows hold
/// most; None (and `*pos` unmoved) for anything else, which `decode` reads.
#[inline(always)]
fn decode_scalar<'a>(buf: &'a [u8], pos: &mut usize) -> Option<Value<'a>> {
    let at = *pos;
    let tag = *buf.get(at)?;
    let (v, len) = match tag {
        0x00..=0x7f => (Value::Uint(tag as u64), 1),
        0xa0..=0xbf => {
            let n = (tag & 0x1f) as usize;
            (Value::Str(buf.get(at + 1..at + 1 + n)?), 1 + n)
        }
        0xcc => (Value::Uint(*buf.get(at + 1)? as u64), 2),
        0xcd => {
            let b: [u8; 2] = buf.get(at + 1..at + 3)?.try_into().ok()?;
            (Value::Uint(u16::from_be_bytes(b) as u64), 3)
        }
        0xce => {
            let b: [u8; 4] = buf.get(at + 1..at + 5)?.try_into().ok()?;
            (Value::Uint(u32::from_be_bytes(b) as u64), 5)
        }
        _ => return None,
    };
    *pos = at + len;
    Some(v)
}

/// Decodes the value at `*pos`, advancing past it: the common scalars on the short path,
/// the rest by `decode_any`.
#[inline]
pub fn decode<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Value<'a>> {
    decode_scalar(buf, pos).map_or_else(|| decode_any(buf, pos), Ok)
}

fn decode_any<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Value<'a>> {
    let tag = *buf.get(*pos).ok_or_else(malformed)?;
    *pos += 1;
    Ok(match tag {
        0x00..=0x7f => Value::Uint(tag as u64),
        0xe0..=0xff => Value::Int(tag as i8 as i64),
        0xa0..=0xbf => Value::Str(take(buf, pos, (tag & 0x1f) as usize)?),
        0xc0 => Value::Nil,
        0xc2 => Value::Bool(false),
        0xc3 => Value::Bool(true),
        0xcc => Value::Uint(be::<1>(buf, pos)?[0] as u64),
        0xcd => Value::Uint(u16::from_be_bytes(be(buf, pos)?) as u64),
        0xce => Value::Uint(u32::from_be_bytes(be(buf, pos)?) as u64),
        0xcf => Value::Uint(u64::from_be_bytes(be(buf, pos)?)),
        0xd0 => Value::int(be::<1>(buf, pos)?[0] as i8 as i64),
        0xd1 => Value::int(i16::from_be_bytes(be(buf, pos)?) as i64),
        0xd2 => Value::int(i32::from_be_bytes(be(buf, pos)?) as i64),
        0xd3 => Value::int(i64::from_be_bytes(be(buf, pos)?)),
        0xca => Value::Double(f32::from_be_bytes(be(buf, pos)?) as f64),
        0xcb => Value::Double(f64::from_be_bytes(be(buf, pos)?)),
        0xd9 => {
            let n = be::<1>(buf, pos)?[0] as usize;
            Value::Str(take(buf, pos, n)?)
        }
        0xda => {
            let n = u16::from_be_bytes(be(buf, pos)?) as usize;
            Value::Str(take(buf, pos, n)?)
        }
        0xdb => {
            let n = u32::from_be_bytes(be(buf, pos)?) as usize;
            Value::Str(take(buf, pos, n)?)
        }
        _ => {
            // A nested value: the bytes of it whole (skipped, so checked).
            let start = *pos - 1;
            *pos = start;
            skip(buf, pos)?;
            Value::Raw(&buf[start..*pos])
        }
    })
}

/// The length of the scalar or short string at `pos`, when its tag (and a length byte) alone
/// say it; None for anything else.
#[inline(always)]
fn scalar_len(buf: &[u8], pos: usize) -> Option<usize> {
    let tag = *buf.get(pos)?;
    Some(match tag {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 1,
        0xa0..=0xbf => 1 + (tag & 0x1f) as usize,
        0xcc | 0xd0 => 2,
        0xcd | 0xd1 => 3,
        0xce | 0xd2 | 0xca => 5,
        0xcf | 0xd3 | 0xcb => 9,
        0xd9 => 2 + *buf.get(pos + 1)? as usize,
        _ => return None,
    })
}

/// Advances `*pos` past the value there (nested ones whole) without decoding it: only
/// lengths are read. Scalars take the short way; the rest `skip_nested`.
#[inline]
pub fn skip(buf: &[u8], pos: &mut usize) -> Result<()> {
    if let Some(len) = scalar_len(buf, *pos)
        && *pos + len <= buf.len()
    {
        *pos += len;
        return Ok(());
    }
    skip_nested(buf, pos)
}

/// `skip` for any value. Iterative: no nesting depth can exhaust the stack.
#[inline(never)]
fn skip_nested(buf: &[u8], pos: &mut usize) -> Result<()> {
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let tag = *buf.get(*pos).ok_or_else(malformed)?;
        let len_at = |n: usize| -> Result<usize> {
            let b = buf.get(*pos + 1..*pos + 1 + n).ok_or_else(malformed)?;
            Ok(b.iter().fold(0, |l, &x| l << 8 | x as usize))
        };
        let (len, items) = match tag {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (1, 0),
            0xa0..=0xbf => (1 + (tag & 0x1f) as usize, 0),
            0xcc | 0xd0 => (2, 0),
            0xcd | 0xd1 => (3, 0),
            0xce | 0xd2 | 0xca => (5, 0),
            0xcf | 0xd3 | 0xcb => (9, 0),
            0xd9 | 0xc4 => (2 + len_at(1)?, 0),
            0xda | 0xc5 => (3 + len_at(2)?, 0),
            0xdb | 0xc6 => (5 + len_at(4)?, 0),
            0x90..=0x9f => (1, (tag & 0x0f) as u64),
            0x80..=0x8f => (1, 2 * (tag & 0x0f) as u64),
            0xdc => (3, len_at(2)? as u64),
            0xdd => (5, len_at(4)? as u64),
            0xde => (3, 2 * len_at(2)? as u64),
            0xdf => (5, 2 * len_at(4)? as u64),
            0xd4 => (3, 0),
            0xd5 => (4, 0),
            0xd6 => (6, 0),
            0xd7 => (10, 0),
            0xd8 => (18, 0),
            0xc7 => (3 + len_at(1)?, 0),
            0xc8 => (4 + len_at(2)?, 0),
            0xc9 => (6 + len_at(4)?, 0),
            _ => return Err(malformed()),
        };
        let end = pos.checked_add(len).ok_or_else(malformed)?;
        if end > buf.len() {
            return Err(malformed());
        }
        *pos = end;
        // Every element takes at least a byte: more than the bytes left is malformed (and
        // keeps the count bounded).
        pending = pending.checked_add(items).ok_or_else(malformed)?;
        if pending > (buf.len() - *pos) as u64 {
            return Err(malformed());
        }
    }
    Ok(())
}

/// Reads one whole MessagePack value from `bytes` (nothing after it): a scalar as its
/// value, anything nested as `Raw`.
pub fn one_value(bytes: &[u8]) -> Result<Value<'_>> {
    let mut pos = 0;
    let v = decode(bytes, &mut pos)?;
    if pos != bytes.len() {
        return Err(Error::IllegalParams(
            "a MessagePack field holds more than one value".into(),
        ));
    }
    Ok(v)
}

/// Decodes an array header at `*pos`, returning the element count.
#[inline(always)]
pub fn decode_array_header(buf: &[u8], pos: &mut usize) -> Result<usize> {
    let tag = *buf.get(*pos).ok_or_else(malformed)?;
    *pos += 1;
    match tag {
        0x90..=0x9f => Ok((tag & 0x0f) as usize),
        0xdc => Ok(u16::from_be_bytes(be(buf, pos)?) as usize),
        0xdd => Ok(u32::from_be_bytes(be(buf, pos)?) as usize),
        _ => Err(malformed()),
    }
}

/// Field `fieldno` of tuple data, `Nil` past the end.
#[inline]
pub fn field(data: &[u8], fieldno: usize) -> Result<Value<'_>> {
    let mut pos = 0;
    let n = decode_array_header(data, &mut pos)?;
    if fieldno >= n {
        return Ok(Value::Nil);
    }
    for _ in 0..fieldno {
        skip(data, &mut pos)?;
    }
    decode(data, &mut pos)
}

/// Fields `fieldnos` (0-based, any order, repeats allowed) of tuple `data`, in one pass: the
/// k-th goes to `put(k, value)` (Nil past the end); stops at `put`'s first error.
#[inline]
pub fn each_field<'a, E: From<Error>>(
    data: &'a [u8],
    fieldnos: &[u32],
    mut put: impl FnMut(usize, Value<'a>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut pos = 0;
    let n = decode_array_header(data, &mut pos)?;
    if let [f] = fieldnos {
        // One field, the common projection: skip to it and decode it.
        let f = *f as usize;
        if f >= n {
            return put(0, Value::Nil);
        }
        for _ in 0..f {
            skip(data, &mut pos)?;
        }
        return put(0, decode(data, &mut pos)?);
    }
    let last = fieldnos.iter().copied().max().unwrap_or(0) as usize;
    for (k, &f) in fieldnos.iter().enumerate() {
        if f as usize >= n {
            put(k, Value::Nil)?;
        }
    }
    for j in 0..n.min(last + 1) {
        if !fieldnos.iter().any(|&f| f as usize == j) {
            skip(data, &mut pos)?;
            continue;
        }
        let v = decode(data, &mut pos)?;
        for (k, &f) in fieldnos.iter().enumerate() {
            if f as usize == j {
                put(k, v)?;
            }
        }
    }
    Ok(())
}

/// The encoded bytes of field `fieldno` (None past the end or on malformed data).
pub fn raw_field(data: &[u8], fieldno: usize) -> Option<&[u8]> {
    let mut pos = 0;
    let n = decode_array_header(data, &mut pos).ok()?;
    if fieldno >= n {
        return None;
    }
    for _ in 0..fieldno {
        skip(data, &mut pos).ok()?;
    }
    let start = pos;
    skip(data, &mut pos).ok()?;
    data.get(start..pos)
}

/// Iterates over all fields of tuple data.
pub fn fields(data: &[u8]) -> Result<impl Iterator<Item = Result<Value<'_>>>> {
    let mut pos = 0;
    let n = decode_array_header(data, &mut pos)?;
    Ok((0..n).map(move |_| decode(data, &mut pos)))
}

/// Checks that `data` is exactly one well-formed array (of scalars and nested values).
pub fn validate(data: &[u8]) -> Result<usize> {
    let mut pos = 0;
    let n = decode_array_header(data, &mut pos)?;
    for _ in 0..n {
        decode(data, &mut pos)?;
    }
    if pos != data.len() {
        return Err(malformed());
    }
    Ok(n)
}

/// Numeric order across unsigned, negative integer and double; NaN sorts first.
pub fn cmp_number(a: Value, b: Value) -> Ordering {
    fn as_i128(v: Value) -> Option<i128> {
        match v {
            Value::Uint(u) => Some(u as i128),
            Value::Int(i) => Some(i as i128),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Double(x), Value::Double(y)) => match (x.is_nan(), y.is_nan()) {
            (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            (xn, yn) => yn.cmp(&xn),
        },
        (Value::Double(x), other) => cmp_double_int(x, as_i128(other).unwrap_or(0)),
        (other, Value::Double(y)) => cmp_double_int(y, as_i128(other).unwrap_or(0)).reverse(),
        (x, y) => as_i128(x).cmp(&as_i128(y)),
    }
}

fn cmp_double_int(d: f64, i: i128) -> Ordering {
    if d.is_nan() {
        return Ordering::Less;
    }
    if d < -1.8e19 {
        return Ordering::Less;
    }
    if d > 1.9e19 {
        return Ordering::Greater;
    }
    let t = d.trunc();
    match (t as i128).cmp(&i) {
        Ordering::Equal => (d - t).partial_cmp(&0.0).unwrap_or(Ordering::Equal),
        o => o,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `field` skips values by their length alone: every encoding must skip to the next one,
    /// and data cut short anywhere must be an error, never a read past the end.
    #[test]
    fn field_skips_every_encoding_and_refuses_short_data() {
        let long = vec![b'x'; 70_000];
        let vals = [
            Value::Uint(5),
            Value::Uint(200),
            Value::Uint(60_000),
            Value::Uint(4_000_000_000),
            Value::Uint(u64::MAX),
            Value::Int(-3),
            Value::Int(-100),
            Value::Int(-30_000),
            Value::Int(-2_000_000_000),
            Value::Int(i64::MIN),
            Value::Double(1.5),
            Value::Nil,
            Value::Bool(true),
            Value::Bool(false),
            Value::Str(b""),
            Value::Str(&long[..31]),
            Value::Str(&long[..32]),
            Value::Str(&long[..256]),
            Value::Str(&long[..70_000]),
            Value::Uint(7),
        ];
        let mut data = Vec::new();
        encode_array_header(vals.len(), &mut data);
        vals.iter().for_each(|v| v.encode(&mut data));
        for (i, v) in vals.iter().enumerate() {
            assert_eq!(field(&data, i).unwrap(), *v, "field {i}");
        }
        assert_eq!(field(&data, vals.len()).unwrap(), Value::Nil);
        for cut in 1..data.len() {
            assert!(field(&data[..cut], vals.len() - 1).is_err(), "cut at {cut}");
        }
        // each_field reads what field reads, for one field, several in any order, and past
        // the end; short data is an error there too.
        let n = vals.len() as u32;
        let lists: [&[u32]; 5] = [&[3], &[n - 1], &[n + 2], &[8, 0, 19, 8], &[18, n, 1]];
        for list in lists {
            let mut got = vec![None; list.len()];
            each_field(&data, list, |k, v| {
                got[k] = Some(v);
                Ok::<_, Error>(())
            })
            .unwrap();
            for (k, &f) in list.iter().enumerate() {
                assert_eq!(got[k], Some(field(&data, f as usize).unwrap()), "{list:?}[{k}]");
            }
            let short = each_field(&data[..data.len() - 1], list, |_, _| Ok::<_, Error>(()));
            // One field is skipped to; several are read in one walk up to the last wanted.
            let needs_last = match list {
                [f] => *f == n - 1,
                _ => list.iter().any(|&f| f >= n - 1),
            };
            assert_eq!(short.is_err(), needs_last, "{list:?} on short data");
        }
    }
}

#[cfg(test)]
mod nested_tests {
    use super::*;

    #[test]
    fn nested_values_are_read_whole_and_checked() {
        // [1, [2, {"a": 3}], "x"]
        let data = [0x93, 0x01, 0x92, 0x02, 0x81, 0xa1, b'a', 0x03, 0xa1, b'x'];
        assert_eq!(validate(&data).unwrap(), 3);
        let f: Vec<Value> = fields(&data).unwrap().map(|v| v.unwrap()).collect();
        assert_eq!(f[1], Value::Raw(&data[2..8]));
        assert_eq!(f[1].type_name(), "array");
        assert_eq!(f[2], Value::Str(b"x"));
        assert_eq!(field(&data, 2).unwrap(), Value::Str(b"x"), "skipping a nested field");
        // Counts beyond the bytes, cut values, bad tags: malformed, never a panic.
        for bad in [
            &[0x91, 0xdd, 0xff, 0xff, 0xff, 0xff][..],
            &[0x91, 0x92, 0x01][..],
            &[0x91, 0xc4, 0x05, 0x01][..],
            &[0x91, 0xc1][..],
            &[0x91, 0xdf, 0x00, 0x00, 0x00, 0x01, 0x01][..],
        ] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        // Any depth, without recursion.
        let mut deep = vec![0x91];
        deep.extend(std::iter::repeat_n(0x91, 200_000));
        deep.push(0xc0);
        assert_eq!(validate(&deep).unwrap(), 1);
        // One value: a scalar stays a scalar; trailing bytes are refused.
        assert_eq!(one_value(&[0x05]).unwrap(), Value::Uint(5));
        assert_eq!(one_value(&[0x90]).unwrap(), Value::Raw(&[0x90]));
        assert!(one_value(&[0x90, 0x90]).is_err());
    }
}
