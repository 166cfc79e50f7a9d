//! Update operations on a tuple's fields, with Tarantool's operators and rules: `=` set, `!`
//! insert, `#` delete, `+`/`-` arithmetic, `&`/`|`/`^` bitwise, `:` splice. Operations apply
//! in order, each to the result of the ones before; field numbers count from 1, negative ones
//! from the end (-1 is the last field). A field named with a JSON path (`'doc.city'`,
//! `'[3].tags[2]'`) is changed inside (see `nested`).

mod nested;

use super::path::{Path, Step};
use super::space::FormatField;
use super::value::Value;
use crate::error::{Error, Result};
use smallvec::SmallVec;

/// The fields of a tuple while updates apply (on the stack for most tuples).
pub type Cells<'a> = SmallVec<[Cell<'a>; 8]>;

/// Where an operation applies: a field number as the caller gave it (1-based, or negative
/// from the end) or a format field's name.
#[derive(Clone, Copy, Debug)]
pub enum FieldRef<'a> {
    Number(i32),
    Name(&'a str),
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Kind<'a> {
    Set(Value<'a>),
    Insert(Value<'a>),
    Delete(u32),
    Add(Value<'a>),
    Sub(Value<'a>),
    And(u64),
    Or(u64),
    Xor(u64),
    Splice { offset: i32, cut: i32, paste: &'a [u8] },
}

/// One checked operation, its field resolved to a number.
#[derive(Clone, Debug)]
pub struct UpdateOp<'a> {
    kind: Kind<'a>,
    opcode: u8,
    /// As given: 1-based, or negative from the end. Never 0.
    field: i32,
    /// The name it was given by, for messages.
    name: Option<&'a str>,
    /// The steps inside the field, for a field named with a JSON path.
    path: Option<Vec<Step>>,
}

/// The raw parts of an operation, as a caller hands them over.
#[derive(Clone, Copy, Debug)]
pub struct RawOp<'a> {
    pub opcode: u8,
    pub field: FieldRef<'a>,
    pub arg: Value<'a>,
    pub splice_offset: i32,
    pub splice_cut: i32,
}

impl<'a> UpdateOp<'a> {
    /// Checks operation number `n` (from 1) and resolves its field name in `format`.
    pub fn parse(raw: RawOp<'a>, n: usize, format: &[FormatField]) -> Result<UpdateOp<'a>> {
        let (field, name) = match raw.field {
            FieldRef::Number(0) => {
                return Err(Error::NoSuchField(format!(
                    "update operation {n}: field 0 was not found in the tuple; fields count from 1 (or from -1 at the end)"
                )));
            }
            FieldRef::Number(f) => (f, None),
            FieldRef::Name(s) => match format.iter().position(|f| f.name == s) {
                Some(pos) => (pos as i32 + 1, Some(s)),
                None => {
                    let (field, path) = field_and_path(s, n, format)?;
                    return Self::parse_kind(raw, n, field, Some(s), path);
                }
            },
        };
        Self::parse_kind(raw, n, field, name, None)
    }

    fn parse_kind(
        raw: RawOp<'a>,
        n: usize,
        field: i32,
        name: Option<&'a str>,
        path: Option<Vec<Step>>,
    ) -> Result<UpdateOp<'a>> {
        let op = char::from(raw.opcode);
        let at = || match name {
            Some(s) => format!("'{s}'"),
            None => field.to_string(),
        };
        let arg_type = |expected: &str| {
            Error::UpdateArgType(format!(
                "argument of operation '{op}' on field {} must be {expected}, got {}",
                at(),
                raw.arg.type_name()
            ))
        };
        let kind = match raw.opcode {
            b'=' => Kind::Set(raw.arg),
            b'!' => Kind::Insert(raw.arg),
            b'#' => match raw.arg {
                Value::Uint(0) => {
                    return Err(Error::UpdateOp(format!(
                        "update operation {n} ('#' on field {}): cannot delete 0 fields",
                        at()
                    )));
                }
                Value::Uint(c) => Kind::Delete(c.min(u32::MAX as u64) as u32),
                _ => return Err(arg_type("a positive integer (how many fields to delete)")),
            },
            b'+' | b'-' => match raw.arg {
                Value::Uint(_) | Value::Int(_) | Value::Double(_) if raw.opcode == b'+' => {
                    Kind::Add(raw.arg)
                }
                Value::Uint(_) | Value::Int(_) | Value::Double(_) => Kind::Sub(raw.arg),
                _ => return Err(arg_type("a number")),
            },
            b'&' | b'|' | b'^' => match raw.arg {
                Value::Uint(u) if raw.opcode == b'&' => Kind::And(u),
                Value::Uint(u) if raw.opcode == b'|' => Kind::Or(u),
                Value::Uint(u) => Kind::Xor(u),
                _ => return Err(arg_type("a positive integer")),
            },
            b':' => {
                let Value::Str(paste) = raw.arg else {
                    return Err(arg_type("a string"));
                };
                if raw.splice_offset == 0 {
                    return Err(Error::Splice(format!(
                        "splice on field {}: offset 0 is out of bounds; offsets count from 1 (or from -1 at the end)",
                        at()
                    )));
                }
                Kind::Splice {
                    offset: raw.splice_offset,
                    cut: raw.splice_cut,
                    paste,
                }
            }
            other => {
                let shown = if other.is_ascii_graphic() {
                    format!("'{}'", char::from(other))
                } else {
                    format!("code {other}")
                };
                return Err(Error::UpdateOp(format!(
                    "update operation {n}: unknown operator {shown}; use =, +, -, &, |, ^, :, ! or #"
                )));
            }
        };
        Ok(UpdateOp {
            kind,
            opcode: raw.opcode,
            field,
            name,
            path,
        })
    }

    fn at(&self) -> String {
        match self.name {
            Some(s) => format!("'{s}'"),
            None => self.field.to_string(),
        }
    }

    fn not_found(&self, len: usize) -> Error {
        Error::NoSuchField(format!(
            "field {} was not found in the tuple (it has {len} field{})",
            self.at(),
            if len == 1 { "" } else { "s" }
        ))
    }

    /// The 0-based position of an existing field (`len` fields), or NO_SUCH_FIELD.
    fn existing(&self, len: usize) -> Result<usize> {
        self.position(len, len)
    }

    /// The 0-based position of a field this operation changes in place: once per update,
    /// as in Tarantool (inserts and deletes may come between), and not also inside.
    fn changing(&self, cells: &[Cell]) -> Result<usize> {
        let pos = self.existing(cells.len())?;
        if cells[pos].changed || !cells[pos].paths.is_empty() {
            return Err(self.double_update());
        }
        Ok(pos)
    }

    fn double_update(&self) -> Error {
        Error::UpdateOp(format!(
            "operation '{}' on field {}: double update of the same field; combine the operations into one",
            char::from(self.opcode),
            self.at()
        ))
    }

    /// The 0-based position among `slots` places in a tuple of `len` fields: positive
    /// numbers count from 1, negative ones from the end of the slots.
    fn position(&self, slots: usize, len: usize) -> Result<usize> {
        let f = self.field as i64;
        let pos = if f > 0 { f - 1 } else { slots as i64 + f };
        if pos < 0 || pos >= slots as i64 {
            return Err(self.not_found(len));
        }
        Ok(pos as usize)
    }
}

/// A field while updates apply: a value borrowed from the old tuple or an operation, or a
/// string a splice made; and whether an operation of this update changed it in place.
#[derive(Clone, Debug)]
pub struct Cell<'a> {
    val: Slot<'a>,
    changed: bool,
    /// The paths operations changed inside it.
    paths: Vec<Vec<Step>>,
}

#[derive(Clone, Debug)]
enum Slot<'a> {
    Val(Value<'a>),
    /// A string a splice made.
    Owned(Vec<u8>),
    /// A nested value (its MessagePack) an operation at a path made.
    OwnedRaw(Vec<u8>),
}

impl<'a> Cell<'a> {
    pub fn new(v: Value<'a>) -> Cell<'a> {
        Cell {
            val: Slot::Val(v),
            changed: false,
            paths: Vec::new(),
        }
    }

    pub fn value(&self) -> Value<'_> {
        match &self.val {
            Slot::Val(v) => *v,
            Slot::Owned(s) => Value::Str(s),
            Slot::OwnedRaw(b) => Value::Raw(b),
        }
    }
}

/// The field and path of a name that is not a format field's: `[3]` or a format name, then
/// a path (`.city`, `[2]`, `["a b"]`); no `[*]`.
fn field_and_path(s: &str, n: usize, format: &[FormatField]) -> Result<(i32, Option<Vec<Step>>)> {
    let not_found = || {
        Error::NoSuchField(format!(
            "update operation {n}: field '{s}' was not found in the tuple (the space's format has no such name)"
        ))
    };
    let bad = |why: &str| Error::UpdateOp(format!("update operation {n}: field '{s}': {why}"));
    let (field, rest) = match s.strip_prefix('[') {
        Some(r) => {
            let number = r.find(']').and_then(|close| Some((r[..close].parse::<i32>().ok()?, close)));
            match number {
                Some((f, close)) if f >= 1 => (f, &r[close + 1..]),
                _ => return Err(bad("a field number in brackets counts from 1: [1], [2], ...")),
            }
        }
        None => {
            let end = s.find(['.', '[']).ok_or_else(not_found)?;
            let pos = format.iter().position(|f| f.name == s[..end]).ok_or_else(not_found)?;
            (pos as i32 + 1, &s[end..])
        }
    };
    if rest.is_empty() {
        return Ok((field, None));
    }
    if !rest.starts_with(['.', '[']) {
        return Err(bad("a path goes on with '.' or '['"));
    }
    let path = Path::parse(rest).map_err(|e| bad(&e.to_string()))?;
    if path.steps.contains(&Step::Any) {
        return Err(bad("[*] names many values; an update changes one"));
    }
    Ok((field, Some(path.steps)))
}

/// Room for `extra` more cells, or MEMORY.
fn room(cells: &mut Cells, extra: usize) -> Result<()> {
    cells
        .try_reserve(extra)
        .map_err(|_| Error::Memory("cannot allocate the fields of an updated tuple".into()))
}

/// Applies `op` to `cells`. A failing operation changes nothing.
pub fn apply_one<'a>(cells: &mut Cells<'a>, op: &UpdateOp<'a>) -> Result<()> {
    let len = cells.len();
    if let Some(steps) = &op.path {
        let pos = op.existing(len)?;
        let cell = &cells[pos];
        let overlaps = cell
            .paths
            .iter()
            .any(|p| p.starts_with(steps) || steps.starts_with(p));
        if cell.changed || overlaps {
            return Err(op.double_update());
        }
        let new = nested::apply_at(cell.value(), steps, op)?;
        let cell = &mut cells[pos];
        cell.paths
            .try_reserve(1)
            .map_err(|_| Error::Memory("cannot allocate an update".into()))?;
        cell.paths.push(steps.clone());
        cell.val = Slot::OwnedRaw(new);
        return Ok(());
    }
    match op.kind {
        Kind::Set(v) => {
            // Setting field len + 1 appends it, as an insert does.
            if op.field as i64 == len as i64 + 1 {
                room(cells, 1)?;
                cells.push(Cell::new(v));
            } else {
                let pos = op.changing(cells)?;
                cells[pos] = Cell::new(v);
                cells[pos].changed = true;
            }
        }
        Kind::Insert(v) => {
            let pos = op.position(len + 1, len)?;
            room(cells, 1)?;
            cells.insert(pos, Cell::new(v));
        }
        Kind::Delete(count) => {
            let pos = op.existing(len)?;
            let end = pos + (count as usize).min(len - pos);
            cells.drain(pos..end);
        }
        Kind::Add(arg) | Kind::Sub(arg) => {
            let pos = op.changing(cells)?;
            let v = arith(op, cells[pos].value(), arg)?;
            cells[pos].val = Slot::Val(v);
            cells[pos].changed = true;
        }
        Kind::And(m) | Kind::Or(m) | Kind::Xor(m) => {
            let pos = op.changing(cells)?;
            let Value::Uint(u) = cells[pos].value() else {
                return Err(field_type(op, cells[pos].value(), "a positive integer"));
            };
            let r = match op.kind {
                Kind::And(_) => u & m,
                Kind::Or(_) => u | m,
                _ => u ^ m,
            };
            cells[pos].val = Slot::Val(Value::Uint(r));
            cells[pos].changed = true;
        }
        Kind::Splice { offset, cut, paste } => {
            let pos = op.changing(cells)?;
            let Value::Str(s) = cells[pos].value() else {
                return Err(field_type(op, cells[pos].value(), "a string"));
            };
            let out = splice(op, s, offset, cut, paste)?;
            cells[pos].val = Slot::Owned(out);
            cells[pos].changed = true;
        }
    }
    Ok(())
}

fn field_type(op: &UpdateOp, v: Value, expected: &str) -> Error {
    Error::UpdateArgType(format!(
        "operation '{}' on field {} needs {expected} in the field, which holds {}",
        char::from(op.opcode),
        op.at(),
        v.type_name()
    ))
}

/// `+` and `-`: integers stay integers (an overflow of the 64-bit range is an error), any
/// double makes a double.
fn arith<'a>(op: &UpdateOp, field: Value, arg: Value) -> Result<Value<'a>> {
    let int = |v: Value| match v {
        Value::Uint(u) => Some(u as i128),
        Value::Int(i) => Some(i as i128),
        _ => None,
    };
    let float = |v: Value| match v {
        Value::Uint(u) => Some(u as f64),
        Value::Int(i) => Some(i as f64),
        Value::Double(d) => Some(d),
        _ => None,
    };
    let sub = matches!(op.kind, Kind::Sub(_));
    if let (Some(a), Some(b)) = (int(field), int(arg)) {
        let r = if sub { a - b } else { a + b };
        if r < i64::MIN as i128 || r > u64::MAX as i128 {
            return Err(Error::IntegerOverflow(format!(
                "integer overflow when performing '{}' on field {}: the result is outside -2^63..2^64-1",
                char::from(op.opcode),
                op.at()
            )));
        }
        return Ok(if r >= 0 {
            Value::Uint(r as u64)
        } else {
            Value::Int(r as i64)
        });
    }
    let (Some(a), Some(b)) = (float(field), float(arg)) else {
        return Err(field_type(op, field, "a number"));
    };
    Ok(Value::Double(if sub { a - b } else { a + b }))
}

/// `:`: cuts `cut` bytes at `offset` and pastes `paste` there. Offsets past the end clamp to
/// it; a negative offset counts from the end (-1: after the last byte); a negative cut keeps
/// that many bytes before the end, less one.
fn splice(op: &UpdateOp, s: &[u8], offset: i32, cut: i32, paste: &[u8]) -> Result<Vec<u8>> {
    let len = s.len() as i64;
    let mut off = offset as i64;
    if off < 0 {
        if -off > len + 1 {
            return Err(Error::Splice(format!(
                "splice on field {}: offset {offset} is out of bounds of a string of {len} bytes",
                op.at()
            )));
        }
        off += len + 1;
    } else {
        off = (off - 1).min(len);
    }
    let mut cut = cut as i64;
    if cut < 0 {
        cut = if -cut > len - off { 0 } else { cut + len - off };
    } else {
        cut = cut.min(len - off);
    }
    let (off, cut) = (off as usize, cut as usize);
    let mut out = Vec::new();
    out.try_reserve_exact(s.len() - cut + paste.len())
        .map_err(|_| Error::Memory("cannot allocate the string of a splice".into()))?;
    out.extend_from_slice(&s[..off]);
    out.extend_from_slice(paste);
    out.extend_from_slice(&s[off + cut..]);
    Ok(out)
}

/// Appends the fields of tuple data to `cells` (filled in place: a returned array of cells
/// would be copied on every call).
pub fn cells_of<'a>(data: &'a [u8], cells: &mut Cells<'a>) -> Result<()> {
    for v in super::value::fields(data)? {
        if cells.len() == cells.capacity() {
            room(cells, 4)?;
        }
        cells.push(Cell::new(v?));
    }
    Ok(())
}

/// Applies every operation in order; the first failing one is the error.
pub fn apply<'a>(cells: &mut Cells<'a>, ops: &[UpdateOp<'a>]) -> Result<()> {
    ops.iter().try_for_each(|op| apply_one(cells, op))
}

/// Applies the operations an upsert can, in order: one that fails is skipped (`skipped`
/// hears why), as Tarantool skips it, and the rest still apply.
pub fn apply_skipping<'a>(
    cells: &mut Cells<'a>,
    ops: &[UpdateOp<'a>],
    mut skipped: impl FnMut(Error),
) {
    for op in ops {
        if let Err(e) = apply_one(cells, op) {
            skipped(e);
        }
    }
}

/// Runs `f` on the values of `cells`.
pub fn with_cell_values<R>(cells: &[Cell], f: impl FnOnce(&[Value]) -> Result<R>) -> Result<R> {
    let mut vals: SmallVec<[Value; 8]> = SmallVec::new();
    vals.try_reserve_exact(cells.len())
        .map_err(|_| Error::Memory("cannot allocate the fields of an updated tuple".into()))?;
    vals.extend(cells.iter().map(Cell::value));
    f(&vals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op<'a>(opcode: u8, field: i32, arg: Value<'a>) -> UpdateOp<'a> {
        let raw = RawOp {
            opcode,
            field: FieldRef::Number(field),
            arg,
            splice_offset: 0,
            splice_cut: 0,
        };
        UpdateOp::parse(raw, 1, &[]).unwrap()
    }

    fn run<'a>(fields: &[Value<'a>], ops: &[UpdateOp<'a>]) -> Result<Vec<Value<'static>>> {
        let mut cells: Cells = fields.iter().map(|v| Cell::new(*v)).collect();
        apply(&mut cells, ops)?;
        Ok(cells
            .iter()
            .map(|c| match c.value() {
                Value::Str(s) => Value::Str(s.to_vec().leak()),
                Value::Raw(b) => Value::Raw(b.to_vec().leak()),
                Value::Nil => Value::Nil,
                Value::Bool(b) => Value::Bool(b),
                Value::Uint(u) => Value::Uint(u),
                Value::Int(i) => Value::Int(i),
                Value::Double(d) => Value::Double(d),
            })
            .collect())
    }

    #[test]
    fn set_insert_delete_follow_field_numbers() {
        let t = [Value::Uint(1), Value::Uint(2), Value::Uint(3)];
        let u = |v| Value::Uint(v);
        assert_eq!(run(&t, &[op(b'=', 4, u(4))]).unwrap(), [u(1), u(2), u(3), u(4)]);
        assert!(matches!(run(&t, &[op(b'=', 5, u(4))]), Err(Error::NoSuchField(_))));
        assert_eq!(run(&t, &[op(b'=', -1, u(9))]).unwrap(), [u(1), u(2), u(9)]);
        assert_eq!(run(&t, &[op(b'!', -1, u(9))]).unwrap(), [u(1), u(2), u(3), u(9)]);
        assert_eq!(run(&t, &[op(b'!', 1, u(0))]).unwrap(), [u(0), u(1), u(2), u(3)]);
        assert_eq!(run(&t, &[op(b'#', 2, u(5))]).unwrap(), [u(1)]);
        assert_eq!(run(&t, &[op(b'#', -1, u(1))]).unwrap(), [u(1), u(2)]);
        assert!(matches!(run(&t, &[op(b'#', -4, u(1))]), Err(Error::NoSuchField(_))));
    }

    #[test]
    fn arithmetic_keeps_integers_and_catches_overflow() {
        let t = [Value::Uint(u64::MAX), Value::Int(i64::MIN), Value::Uint(5)];
        assert!(matches!(run(&t, &[op(b'+', 1, Value::Uint(1))]), Err(Error::IntegerOverflow(_))));
        assert!(matches!(run(&t, &[op(b'-', 2, Value::Uint(1))]), Err(Error::IntegerOverflow(_))));
        assert_eq!(run(&t, &[op(b'-', 3, Value::Uint(7))]).unwrap()[2], Value::Int(-2));
        assert_eq!(run(&t, &[op(b'+', 3, Value::Double(0.5))]).unwrap()[2], Value::Double(5.5));
        assert_eq!(run(&t, &[op(b'^', 3, Value::Uint(1))]).unwrap()[2], Value::Uint(4));
        assert!(matches!(run(&t, &[op(b'&', 2, Value::Uint(1))]), Err(Error::UpdateArgType(_))));
        let twice = [op(b'+', 3, Value::Uint(1)), op(b'=', 3, Value::Uint(1))];
        assert!(matches!(run(&t, &twice), Err(Error::UpdateOp(_))));
        let moved = [op(b'+', 3, Value::Uint(1)), op(b'!', 1, Value::Uint(0)), op(b'+', 3, Value::Uint(1))];
        assert!(run(&t, &moved).is_ok(), "field 3 is another field after the insert");
    }

    #[test]
    fn splice_clamps_and_counts_from_the_end() {
        let sp = |offset, cut, paste: &'static str| {
            let raw = RawOp {
                opcode: b':',
                field: FieldRef::Number(1),
                arg: Value::Str(paste.as_bytes()),
                splice_offset: offset,
                splice_cut: cut,
            };
            UpdateOp::parse(raw, 1, &[]).unwrap()
        };
        let t = [Value::Str(b"hello")];
        let s = |ops: &[UpdateOp]| match run(&t, ops).unwrap()[0] {
            Value::Str(s) => String::from_utf8(s.to_vec()).unwrap(),
            _ => unreachable!(),
        };
        assert_eq!(s(&[sp(2, 3, "ELL")]), "hELLo");
        assert_eq!(s(&[sp(-1, 0, "!")]), "hello!");
        assert_eq!(s(&[sp(9, 1, "z")]), "helloz");
        assert_eq!(s(&[sp(1, -1, "z")]), "zo");
        assert!(matches!(run(&t, &[sp(-7, 0, "")]), Err(Error::Splice(_))));
    }
}
