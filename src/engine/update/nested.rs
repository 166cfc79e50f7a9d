//! Update operations at a JSON path inside a field: the field's MessagePack is rewritten
//! along the path — each map or array on the way gets its header (with a new count where an
//! operation adds or removes an element) and the rest is copied as it is. As in Tarantool:
//! `=` sets a map key (adding it, first) or an array element (the one past the end appends), `!`
//! adds a key or inserts an element, `#` removes a key or elements, the other operators
//! change the value there; a step into a scalar, or to a key or element that is not there, is
//! an error.

use super::{Cell, Cells, Kind, UpdateOp, apply_one};
use crate::engine::path::Step;
use crate::engine::value::{self, RawKind, Value, raw_kind};
use crate::error::{Error, Result};

/// The MessagePack of `field` after `op` at `steps` inside it.
pub(super) fn apply_at(field: Value, steps: &[Step], op: &UpdateOp) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let bytes = match field {
        Value::Raw(b) => b,
        other => return Err(not_container(op, &steps[0], other)),
    };
    // Room for the result: the old bytes, what the operation brings, and for each container
    // on the way a header that may grow (a number changed in place takes at most 9 bytes).
    let brings = match op.kind {
        Kind::Set(x) | Kind::Insert(x) => x.encoded_len(),
        Kind::Splice { paste, .. } => paste.len() + 5,
        _ => 9,
    };
    let key = match steps.last() {
        Some(Step::Key(k)) => k.len() + 5,
        _ => 0,
    };
    out.try_reserve(bytes.len() + brings + key + 5 * steps.len())
        .map_err(|_| Error::Memory("cannot allocate an updated field".into()))?;
    rewrite(bytes, steps, op, &mut out)?;
    Ok(out)
}

fn not_container(op: &UpdateOp, step: &Step, v: Value) -> Error {
    let (by, kind) = match step {
        Step::Key(_) => ("key", "map"),
        _ => ("index", "array"),
    };
    Error::UpdateOp(format!(
        "operation '{}' on field {}: cannot step by {by} into {}, which is not a {kind}",
        char::from(op.opcode),
        op.at(),
        v.type_name()
    ))
}

fn not_found(op: &UpdateOp) -> Error {
    Error::NoSuchField(format!(
        "field {} was not found in the tuple (its path leads to nothing)",
        op.at()
    ))
}

/// Where the elements of a map or an array are: the count and the byte after the header.
fn header(v: &[u8]) -> Result<(usize, usize)> {
    let mut pos = 0;
    let n = match v[0] {
        0x80..=0x8f => {
            pos = 1;
            (v[0] & 0x0f) as usize
        }
        0xde | 0xdf => {
            let w = if v[0] == 0xde { 2 } else { 4 };
            let b = v.get(1..1 + w).ok_or_else(malformed)?;
            pos = 1 + w;
            b.iter().fold(0, |l, &x| l << 8 | x as usize)
        }
        _ => value::decode_array_header(v, &mut pos)?,
    };
    Ok((n, pos))
}

fn malformed() -> Error {
    Error::IllegalParams("malformed MessagePack in a nested field".into())
}

fn put_header(kind: RawKind, n: usize, out: &mut Vec<u8>) {
    match kind {
        RawKind::Map if n < 16 => out.push(0x80 | n as u8),
        RawKind::Map if n < 65536 => {
            out.push(0xde);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        RawKind::Map => {
            out.push(0xdf);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        _ => value::encode_array_header(n, out),
    }
}

/// The byte ranges of a container's elements: for a map, each key and value in turn.
fn elements(v: &[u8], items: usize, start: usize) -> Result<Vec<(usize, usize)>> {
    let mut spans = Vec::new();
    spans
        .try_reserve_exact(items)
        .map_err(|_| Error::Memory("cannot allocate an updated field".into()))?;
    let mut pos = start;
    for _ in 0..items {
        let from = pos;
        value::skip(v, &mut pos)?;
        spans.push((from, pos));
    }
    Ok(spans)
}

/// The new value of an element the operation changes in place (not `=`, `!`, `#`): the
/// operation applied to it as to a field of its own.
fn changed_value(old: &[u8], op: &UpdateOp, out: &mut Vec<u8>) -> Result<()> {
    let mut cells = Cells::new();
    cells.push(Cell::new(value::one_value(old)?));
    let leaf = UpdateOp {
        field: 1,
        path: None,
        ..op.clone()
    };
    apply_one(&mut cells, &leaf)?;
    cells[0].value().encode(out);
    Ok(())
}

/// Writes an element's new bytes from its old ones.
type MakeValue<'m> = dyn FnMut(&[u8], &mut Vec<u8>) -> Result<()> + 'm;

fn rewrite(v: &[u8], steps: &[Step], op: &UpdateOp, out: &mut Vec<u8>) -> Result<()> {
    let (step, rest) = (&steps[0], &steps[1..]);
    let kind = raw_kind(v);
    let fits = matches!(
        (kind, step),
        (RawKind::Map, Step::Key(_)) | (RawKind::Array, Step::Index(_))
    );
    if !fits {
        return Err(not_container(op, step, value::one_value(v)?));
    }
    let (n, start) = header(v)?;
    let per = if kind == RawKind::Map { 2 } else { 1 };
    let spans = elements(v, n * per, start)?;
    // The element the step names: its number among the n, if it is there.
    let at = match step {
        Step::Key(k) => (0..n).find(|&i| {
            let (a, b) = spans[2 * i];
            value::one_value(&v[a..b]).is_ok_and(|x| x == Value::Str(k.as_bytes()))
        }),
        Step::Index(i) => (*i as usize).lt(&n).then_some(*i as usize),
        Step::Any => unreachable!("refused when the operation was parsed"),
    };
    let value_span = |i: usize| spans[i * per + per - 1];
    let copy = |out: &mut Vec<u8>, from: usize, to: usize| {
        if from < to {
            let (a, b) = (spans[from * per].0, spans[to * per - 1].1);
            out.extend_from_slice(&v[a..b]);
        }
    };
    let new_key = |out: &mut Vec<u8>| {
        if let Step::Key(k) = step {
            Value::Str(k.as_bytes()).encode(out);
        }
    };
    // Element i (its key kept) made anew by `make` from its old bytes; the rest copied.
    let in_place = |out: &mut Vec<u8>, i: usize, make: &mut MakeValue| {
        put_header(kind, n, out);
        copy(out, 0, i);
        if kind == RawKind::Map {
            let (a, b) = spans[2 * i];
            out.extend_from_slice(&v[a..b]);
        }
        let (a, b) = value_span(i);
        make(&v[a..b], out)?;
        copy(out, i + 1, n);
        Ok(())
    };
    if !rest.is_empty() {
        let i = at.ok_or_else(|| not_found(op))?;
        return in_place(out, i, &mut |old, out| rewrite(old, rest, op, out));
    }
    // The last step: the operation itself.
    let index = match step {
        Step::Index(i) => *i as usize,
        _ => n,
    };
    match op.kind {
        Kind::Set(x) | Kind::Insert(x) => {
            let insert = matches!(op.kind, Kind::Insert(_));
            match (kind, at) {
                (_, Some(i)) if !insert => {
                    in_place(out, i, &mut |_, out| {
                        x.encode(out);
                        Ok(())
                    })?;
                }
                (RawKind::Map, Some(_)) => {
                    return Err(Error::UpdateOp(format!(
                        "operation '!' on field {}: the map has that key already; use '=' to change it",
                        op.at()
                    )));
                }
                (RawKind::Map, None) => {
                    // A new key goes first, as Tarantool puts it.
                    put_header(kind, n + 1, out);
                    new_key(out);
                    x.encode(out);
                    copy(out, 0, n);
                }
                _ if index <= n && (insert || index == n) => {
                    put_header(kind, n + 1, out);
                    copy(out, 0, index);
                    x.encode(out);
                    copy(out, index, n);
                }
                _ => return Err(not_found(op)),
            }
        }
        Kind::Delete(count) => {
            let i = at.ok_or_else(|| not_found(op))?;
            let end = if kind == RawKind::Map {
                if count != 1 {
                    return Err(Error::UpdateOp(format!(
                        "operation '#' on field {}: a map loses one key at a time, not {count}",
                        op.at()
                    )));
                }
                i + 1
            } else {
                (i + count as usize).min(n)
            };
            put_header(kind, n - (end - i), out);
            copy(out, 0, i);
            copy(out, end, n);
        }
        _ => {
            let i = at.ok_or_else(|| not_found(op))?;
            in_place(out, i, &mut |old, out| changed_value(old, op, out))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{FieldRef, RawOp};
    use super::*;
    use crate::engine::space::FormatField;
    use crate::engine::key::FieldType;

    fn op<'a>(opcode: u8, name: &'a str, arg: Value<'a>, format: &[FormatField]) -> UpdateOp<'a> {
        let raw = RawOp {
            opcode,
            field: FieldRef::Name(name),
            arg,
            splice_offset: 0,
            splice_cut: 0,
        };
        UpdateOp::parse(raw, 1, format).unwrap()
    }

    fn map_of(n: usize) -> Vec<u8> {
        let mut v = vec![0x80 | n as u8];
        for i in 0..n {
            Value::Str(format!("k{i}").as_bytes()).encode(&mut v);
            Value::Uint(i as u64).encode(&mut v);
        }
        v
    }

    fn run(field: &[u8], o: &UpdateOp) -> Result<Vec<u8>> {
        apply_at(Value::Raw(field), o.path.as_ref().unwrap(), o)
    }

    /// Containers on the way get headers for their new counts, also when a header has to
    /// grow (15 entries to 16: fixmap to map16; 15 elements to 16: fixarray to array16).
    #[test]
    fn headers_follow_the_counts_across_encodings() {
        let f = [FormatField { name: "doc".into(), ty: FieldType::Map, nullable: false }];
        let m15 = map_of(15);
        let out = run(&m15, &op(b'=', "doc.new", Value::Uint(7), &f)).unwrap();
        assert_eq!(&out[..3], &[0xde, 0, 16]);
        assert_eq!(value::validate(&[&[0x91][..], &out].concat()).unwrap(), 1);
        let back = run(&out, &op(b'#', "doc.new", Value::Uint(1), &f)).unwrap();
        assert_eq!(back[0], 0x8f, "headers are written in their shortest form");
        assert_eq!(back, m15);
        let mut a15 = vec![0x9f];
        a15.extend(std::iter::repeat_n(0x01, 15));
        let out = run(&a15, &op(b'!', "doc[16]", Value::Uint(2), &f)).unwrap();
        assert_eq!(&out[..3], &[0xdc, 0, 16]);
        assert_eq!(*out.last().unwrap(), 0x02);
    }

    #[test]
    fn nested_paths_change_only_their_value() {
        let f = [FormatField { name: "doc".into(), ty: FieldType::Map, nullable: false }];
        // {a: {b: [1, 2]}, c: 3}
        let doc = [0x82, 0xa1, b'a', 0x81, 0xa1, b'b', 0x92, 0x01, 0x02, 0xa1, b'c', 0x03];
        let out = run(&doc, &op(b'+', "doc.a.b[2]", Value::Uint(40), &f)).unwrap();
        assert_eq!(out, [0x82, 0xa1, b'a', 0x81, 0xa1, b'b', 0x92, 0x01, 0x2a, 0xa1, b'c', 0x03]);
        assert!(matches!(run(&doc, &op(b'=', "doc.a.x.y", Value::Uint(1), &f)), Err(Error::NoSuchField(_))));
        assert!(matches!(run(&doc, &op(b'=', "doc.c.y", Value::Uint(1), &f)), Err(Error::UpdateOp(_))));
        assert!(matches!(run(&doc, &op(b'=', "doc.a[1]", Value::Uint(1), &f)), Err(Error::UpdateOp(_))));
    }
}
