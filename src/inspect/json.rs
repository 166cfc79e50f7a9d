//! MessagePack as JSON text, for `jitbox cat`: integers as numbers, strings escaped (bytes
//! that are not UTF-8 as U+FFFD), binary as {"bin": "<hex>"}, extensions as
//! {"ext": type, "data": "<hex>"}, map keys that are not strings as their JSON text.

use crate::error::{Error, Result};
use std::fmt::Write;

/// The JSON text of the one MessagePack value `data` holds.
pub fn to_json(data: &[u8]) -> Result<String> {
    let mut out = String::new();
    let mut pos = 0;
    value(data, &mut pos, &mut out, 0)?;
    if pos != data.len() {
        return Err(malformed());
    }
    Ok(out)
}

fn malformed() -> Error {
    Error::WalIo("a logged value is not valid MessagePack".into())
}

fn take<'a>(data: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8]> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= data.len())
        .ok_or_else(malformed)?;
    let bytes = &data[*pos..end];
    *pos = end;
    Ok(bytes)
}

fn uint(data: &[u8], pos: &mut usize, n: usize) -> Result<u64> {
    Ok(take(data, pos, n)?
        .iter()
        .fold(0u64, |v, &b| v << 8 | b as u64))
}

/// `s` as a JSON string, quoted and escaped.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    string(s.as_bytes(), &mut out);
    out
}

fn string(bytes: &[u8], out: &mut String) {
    out.push('"');
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn hex(bytes: &[u8], out: &mut String) {
    out.push('"');
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out.push('"');
}

fn double(d: f64, out: &mut String) {
    if d.is_finite() {
        let _ = write!(out, "{d:?}");
    } else {
        string(d.to_string().as_bytes(), out); // JSON has no inf or nan
    }
}

fn value(data: &[u8], pos: &mut usize, out: &mut String, depth: usize) -> Result<()> {
    if depth > 512 {
        return Err(malformed());
    }
    let tag = take(data, pos, 1)?[0];
    let (kind, n) = match tag {
        0x00..=0x7f => return write_num(out, tag as u64),
        0xe0..=0xff => return write_num(out, tag as i8),
        0x80..=0x8f => ('m', (tag & 0x0f) as usize),
        0x90..=0x9f => ('a', (tag & 0x0f) as usize),
        0xa0..=0xbf => ('s', (tag & 0x1f) as usize),
        0xc0 => return write_str(out, "null"),
        0xc2 => return write_str(out, "false"),
        0xc3 => return write_str(out, "true"),
        0xc4 => ('b', uint(data, pos, 1)? as usize),
        0xc5 => ('b', uint(data, pos, 2)? as usize),
        0xc6 => ('b', uint(data, pos, 4)? as usize),
        0xc7 => ('x', uint(data, pos, 1)? as usize),
        0xc8 => ('x', uint(data, pos, 2)? as usize),
        0xc9 => ('x', uint(data, pos, 4)? as usize),
        0xca => {
            let b = take(data, pos, 4)?;
            double(f32::from_be_bytes(b.try_into().expect("4")) as f64, out);
            return Ok(());
        }
        0xcb => {
            let b = take(data, pos, 8)?;
            double(f64::from_be_bytes(b.try_into().expect("8")), out);
            return Ok(());
        }
        0xcc..=0xcf => return write_num(out, uint(data, pos, 1 << (tag - 0xcc))?),
        0xd0..=0xd3 => {
            let n = 1usize << (tag - 0xd0);
            let u = uint(data, pos, n)?;
            let shift = 64 - 8 * n as u32;
            return write_num(out, ((u << shift) as i64) >> shift);
        }
        0xd4..=0xd8 => ('x', 1usize << (tag - 0xd4)),
        0xd9 => ('s', uint(data, pos, 1)? as usize),
        0xda => ('s', uint(data, pos, 2)? as usize),
        0xdb => ('s', uint(data, pos, 4)? as usize),
        0xdc => ('a', uint(data, pos, 2)? as usize),
        0xdd => ('a', uint(data, pos, 4)? as usize),
        0xde => ('m', uint(data, pos, 2)? as usize),
        0xdf => ('m', uint(data, pos, 4)? as usize),
        0xc1 => return Err(malformed()),
    };
    match kind {
        's' => string(take(data, pos, n)?, out),
        'b' => {
            out.push_str("{\"bin\": ");
            hex(take(data, pos, n)?, out);
            out.push('}');
        }
        'x' => {
            let ty = take(data, pos, 1)?[0] as i8;
            let _ = write!(out, "{{\"ext\": {ty}, \"data\": ");
            hex(take(data, pos, n)?, out);
            out.push('}');
        }
        'a' => {
            out.push('[');
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                value(data, pos, out, depth + 1)?;
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..n {
                if i > 0 {
                    out.push_str(", ");
                }
                let key_at = *pos;
                if matches!(data.get(key_at), Some(0xa0..=0xbf | 0xd9..=0xdb)) {
                    value(data, pos, out, depth + 1)?;
                } else {
                    let mut key = String::new();
                    value(data, pos, &mut key, depth + 1)?;
                    string(key.as_bytes(), out);
                }
                out.push_str(": ");
                value(data, pos, out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_num(out: &mut String, n: impl std::fmt::Display) -> Result<()> {
    let _ = write!(out, "{n}");
    Ok(())
}

fn write_str(out: &mut String, s: &str) -> Result<()> {
    out.push_str(s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::to_json;

    #[test]
    fn values_read_as_json() {
        let cases: &[(&[u8], &str)] = &[
            (&[0x93, 0x01, 0xa1, b'a', 0xc0], "[1, \"a\", null]"),
            (&[0xd0, 0x85], "-123"),
            (&[0xff], "-1"),
            (
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
                "18446744073709551615",
            ),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], "-9223372036854775808"),
            (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], "1.5"),
            (
                &[0x82, 0xa1, b'k', 0xc3, 0x01, 0xc2],
                "{\"k\": true, \"1\": false}",
            ),
            (&[0xc4, 0x02, 0xde, 0xad], "{\"bin\": \"dead\"}"),
            (&[0xd4, 0x01, 0x07], "{\"ext\": 1, \"data\": \"07\"}"),
            (&[0xa2, b'"', b'\n'], "\"\\\"\\n\""),
        ];
        for (bytes, want) in cases {
            assert_eq!(to_json(bytes).unwrap(), *want, "{bytes:02x?}");
        }
    }

    #[test]
    fn malformed_data_is_an_error() {
        for bytes in [
            &[0x92, 0x01][..],
            &[0xc1],
            &[0xa3, b'a'],
            &[0x01, 0x02],
            &[],
        ] {
            assert!(to_json(bytes).is_err(), "{bytes:02x?}");
        }
    }
}
