//! JSON-path index parts, as Tarantool spells them: `.city`, `[2]`, `["a b"]`, `[*]`.
//!
//! An index with a path part is a functional index whose key function is the engine's own
//! (`PathKeys::keys`): its keys are found inside nested fields, so they live in rows like any
//! functional key, and a `[*]` part (multikey) gives one key per array element. No Lua runs.

use super::key::{FieldType, KeyPart};
use super::value::{self, RawKind, Value, raw_kind};
use crate::error::{Error, Result};
use std::fmt::Write;

/// One step into a nested value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Key(String),
    /// 0-based (written 1-based, as Tarantool does).
    Index(u32),
    /// Every element of an array: the part is multikey.
    Any,
}

/// A parsed path: its steps and the canonical text Tarantool reports (`.city`, `[*]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub steps: Vec<Step>,
    pub text: String,
}

fn invalid(path: &str, why: &str) -> Error {
    Error::IllegalParams(format!("invalid JSON path '{path}': {why}"))
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

impl Path {
    /// Parses a path; a leading `.` may be left out (`city` is `.city`).
    pub fn parse(src: &str) -> Result<Path> {
        let mut steps = Vec::new();
        let mut rest = src;
        let mut first = true;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']').ok_or_else(|| invalid(src, "'[' without ']'"))?;
                let inner = &r[..close];
                rest = &r[close + 1..];
                steps.push(bracket(src, inner)?);
            } else {
                let r = match rest.strip_prefix('.') {
                    Some(r) => r,
                    None if first => rest,
                    None => return Err(invalid(src, "expected '.' or '['")),
                };
                let end = r.find(['.', '[']).unwrap_or(r.len());
                let name = &r[..end];
                let mut chars = name.chars();
                if !chars.next().is_some_and(is_ident_start)
                    || !chars.all(|c| c.is_alphanumeric() || c == '_')
                {
                    return Err(invalid(
                        src,
                        "a name after '.' is letters, digits and '_' (quote others: [\"a b\"])",
                    ));
                }
                steps.push(Step::Key(name.to_owned()));
                rest = &r[end..];
            }
            first = false;
        }
        if steps.is_empty() {
            return Err(invalid(src, "it is empty"));
        }
        if steps.iter().filter(|s| **s == Step::Any).count() > 1 {
            return Err(invalid(
                src,
                "no more than one array index placeholder [*] is allowed",
            ));
        }
        let text = steps.iter().fold(String::new(), |mut t, s| {
            match s {
                Step::Key(k) if is_plain(k) => {
                    let _ = write!(t, ".{k}");
                }
                Step::Key(k) => {
                    let _ = write!(t, "[\"{k}\"]");
                }
                Step::Index(i) => {
                    let _ = write!(t, "[{}]", i + 1);
                }
                Step::Any => t.push_str("[*]"),
            }
            t
        });
        Ok(Path { steps, text })
    }

    /// The steps before `[*]`, if the path has one.
    pub fn multikey_prefix(&self) -> Option<&[Step]> {
        let at = self.steps.iter().position(|s| *s == Step::Any)?;
        Some(&self.steps[..at])
    }
}

fn is_plain(k: &str) -> bool {
    let mut c = k.chars();
    c.next().is_some_and(is_ident_start) && c.all(|c| c.is_alphanumeric() || c == '_')
}

fn bracket(src: &str, inner: &str) -> Result<Step> {
    if inner == "*" {
        return Ok(Step::Any);
    }
    for q in ['"', '\''] {
        if let Some(s) = inner.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            if s.contains(q) {
                return Err(invalid(src, "a quoted name holds its quote"));
            }
            return Ok(Step::Key(s.to_owned()));
        }
    }
    match inner.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(Step::Index(n - 1)),
        _ => Err(invalid(
            src,
            "between brackets goes a number from 1, * or a quoted name",
        )),
    }
}

/// A part of a path index as its creator gives it: the key part, the path inside its field
/// ("" for none), and whether a nil there leaves the tuple out of the index (Tarantool's
/// `exclude_null`; the part must be nullable).
#[derive(Clone, Copy, Debug)]
pub struct PartSpec<'a> {
    pub part: KeyPart,
    pub path: &'a str,
    pub exclude_null: bool,
}

/// A part of a path index: the tuple field it starts in and the path inside it.
#[derive(Clone, Debug)]
pub struct PathPart {
    pub fieldno: u32,
    pub path: Option<Path>,
    pub part: KeyPart,
    pub exclude_null: bool,
}

impl PathPart {
    /// The steps of its path (none for a whole field).
    pub fn steps(&self) -> &[Step] {
        self.path.as_ref().map_or(&[], |p| &p.steps)
    }
}

/// How a field is named in errors, as Tarantool names it: `3`, `[3]["city"]`, `[4][*]`.
fn field_name(fieldno: u32, steps: &[Step]) -> String {
    if steps.is_empty() {
        return (fieldno + 1).to_string();
    }
    let mut s = format!("[{}]", fieldno + 1);
    for st in steps {
        let _ = match st {
            Step::Key(k) => write!(s, "[\"{k}\"]"),
            Step::Index(i) => write!(s, "[{}]", i + 1),
            Step::Any => write!(s, "[*]"),
        };
    }
    s
}

/// The key parts of a path index and how to find them in a tuple.
#[derive(Debug)]
pub struct PathKeys {
    pub parts: Vec<PathPart>,
    /// Where the array of a multikey index is: its field and the steps to it.
    multikey: Option<(u32, Vec<Step>)>,
}

/// A value found inside a tuple, or why not.
enum Found<'a> {
    Value(Value<'a>),
    /// Absent (a field or key that is not there).
    Missing,
}

impl PathKeys {
    /// Checks the parts: at least one has a path, multikey parts share the array they
    /// expand, and no part is indexed twice or inside another part.
    pub fn new(parts: Vec<PathPart>, index: &str) -> Result<PathKeys> {
        let mut multikey: Option<(u32, Vec<Step>)> = None;
        for (i, p) in parts.iter().enumerate() {
            if let Some(pre) = p.path.as_ref().and_then(Path::multikey_prefix) {
                match &multikey {
                    None => multikey = Some((p.fieldno, pre.to_vec())),
                    Some((f, m)) if *f == p.fieldno && m == pre => {}
                    Some(_) => {
                        return Err(Error::IllegalParams(format!(
                            "index '{index}' part {}: multikey parts must expand the same \
                             array ([*] after the same field and path)",
                            i + 1
                        )));
                    }
                }
            }
            for (j, q) in parts[..i].iter().enumerate() {
                let (a, b) = (q.steps(), p.steps());
                if q.fieldno != p.fieldno {
                    continue;
                }
                if a == b {
                    return Err(Error::IllegalParams(format!(
                        "index '{index}' parts {} and {} are the same key part",
                        j + 1,
                        i + 1
                    )));
                }
                if a.starts_with(b) || b.starts_with(a) {
                    return Err(Error::FieldType(format!(
                        "index '{index}' parts {} and {} index a field and a value inside it",
                        j + 1,
                        i + 1
                    )));
                }
            }
        }
        Ok(PathKeys { parts, multikey })
    }

    pub fn is_multikey(&self) -> bool {
        self.multikey.is_some()
    }

    /// Whether a tuple may have no key here: an absent multikey array, or a nil in an
    /// `exclude_null` part.
    pub fn may_have_no_key(&self) -> bool {
        self.multikey.is_some() || self.parts.iter().any(|p| p.exclude_null)
    }

    /// The types a field must have for these paths (a map for `.key`, an array for `[n]`),
    /// to check against a format.
    pub fn container_types(&self) -> impl Iterator<Item = (u32, FieldType)> + '_ {
        self.parts.iter().filter_map(|p| {
            let first = p.path.as_ref()?.steps.first()?;
            let ty = match first {
                Step::Key(_) => FieldType::Map,
                _ => FieldType::Array,
            };
            Some((p.fieldno, ty))
        })
    }

    /// Calls `push` with each key of tuple `data` (one, or one per element of a multikey
    /// array; none when that array is absent).
    pub fn keys(
        &self,
        data: &[u8],
        index: &str,
        push: &mut dyn FnMut(&[Value]) -> Result<()>,
    ) -> Result<()> {
        let mut key = [Value::Nil; super::key::MAX_PARTS];
        let n = self.parts.len();
        let Some((fieldno, prefix)) = &self.multikey else {
            for (k, p) in self.parts.iter().enumerate() {
                key[k] = self.leaf(p, root(data, p.fieldno)?, p.steps(), 0, index)?;
            }
            return self.push_unless_excluded(&key[..n], push);
        };
        let array = match walk(root(data, *fieldno)?, prefix, 0, *fieldno, index)? {
            Found::Missing => return Ok(()),
            Found::Value(Value::Raw(b)) if raw_kind(b) == RawKind::Array => b,
            Found::Value(v) => return Err(mismatch(*fieldno, prefix, FieldType::Array, &v, index)),
        };
        let mut pos = 0;
        let count = value::decode_array_header(array, &mut pos)?;
        for _ in 0..count {
            let start = pos;
            value::skip(array, &mut pos)?;
            let elem = value::one_value(&array[start..pos])?;
            for (k, p) in self.parts.iter().enumerate() {
                let steps = p.steps();
                key[k] = match steps.iter().position(|s| *s == Step::Any) {
                    Some(at) => self.leaf(p, Found::Value(elem), steps, at + 1, index)?,
                    None => self.leaf(p, root(data, p.fieldno)?, steps, 0, index)?,
                };
            }
            self.push_unless_excluded(&key[..n], push)?;
        }
        Ok(())
    }

    fn push_unless_excluded(
        &self,
        key: &[Value],
        push: &mut dyn FnMut(&[Value]) -> Result<()>,
    ) -> Result<()> {
        let excluded = self
            .parts
            .iter()
            .zip(key)
            .any(|(p, v)| p.exclude_null && *v == Value::Nil);
        if excluded { Ok(()) } else { push(key) }
    }

    /// The value of part `p` from `from`, which stands `done` steps down its path.
    fn leaf<'a>(
        &self,
        p: &PathPart,
        from: Found<'a>,
        steps: &[Step],
        done: usize,
        index: &str,
    ) -> Result<Value<'a>> {
        match walk(from, steps, done, p.fieldno, index)? {
            Found::Missing if p.part.nullable => Ok(Value::Nil),
            Found::Missing => Err(Error::FieldType(format!(
                "tuple field {} required by index '{index}' is missing",
                field_name(p.fieldno, steps)
            ))),
            Found::Value(v) if p.part.accepts(&v) => Ok(v),
            Found::Value(v) => Err(mismatch(p.fieldno, steps, p.part.ty, &v, index)),
        }
    }
}

fn mismatch(fieldno: u32, steps: &[Step], ty: FieldType, v: &Value, index: &str) -> Error {
    Error::FieldType(format!(
        "tuple field {} must be {} for index '{index}', got {}",
        field_name(fieldno, steps),
        ty.name(),
        v.type_name()
    ))
}

/// Field `fieldno` of tuple data, or Missing past its end.
fn root(data: &[u8], fieldno: u32) -> Result<Found<'_>> {
    let mut pos = 0;
    let n = value::decode_array_header(data, &mut pos)?;
    if fieldno as usize >= n {
        return Ok(Found::Missing);
    }
    Ok(Found::Value(value::field(data, fieldno as usize)?))
}

/// Follows `steps[done..]` down from `from` (which stands at `steps[..done]`). A step into
/// something that is not a map or an array is a type error, as in Tarantool; a key or element
/// that is not there is Missing.
fn walk<'a>(
    from: Found<'a>,
    steps: &[Step],
    done: usize,
    fieldno: u32,
    index: &str,
) -> Result<Found<'a>> {
    let mut cur = match from {
        Found::Missing => return Ok(Found::Missing),
        Found::Value(v) => v,
    };
    for (i, step) in steps.iter().enumerate().skip(done) {
        let (want, ty) = match step {
            Step::Key(_) => (RawKind::Map, FieldType::Map),
            _ => (RawKind::Array, FieldType::Array),
        };
        let bytes = match cur {
            Value::Raw(b) if raw_kind(b) == want => b,
            _ => return Err(mismatch(fieldno, &steps[..i], ty, &cur, index)),
        };
        match lookup(bytes, step)? {
            Some(v) => cur = v,
            None => return Ok(Found::Missing),
        }
    }
    Ok(Found::Value(cur))
}

/// The value under `step` in a map or an array (already known to be the right kind).
fn lookup<'a>(bytes: &'a [u8], step: &Step) -> Result<Option<Value<'a>>> {
    let mut pos = 0;
    match step {
        Step::Key(k) => {
            let n = map_header(bytes, &mut pos)?;
            for _ in 0..n {
                let key = value::decode(bytes, &mut pos)?;
                let v = value::decode(bytes, &mut pos)?;
                if key == Value::Str(k.as_bytes()) {
                    return Ok(Some(v));
                }
            }
            Ok(None)
        }
        Step::Index(i) => {
            let n = value::decode_array_header(bytes, &mut pos)?;
            if *i as usize >= n {
                return Ok(None);
            }
            for _ in 0..*i {
                value::skip(bytes, &mut pos)?;
            }
            Ok(Some(value::decode(bytes, &mut pos)?))
        }
        Step::Any => unreachable!("[*] is expanded by `PathKeys::keys`"),
    }
}

fn map_header(buf: &[u8], pos: &mut usize) -> Result<usize> {
    let tag = buf[*pos];
    *pos += 1;
    let wide = |n: usize, pos: &mut usize| -> Result<usize> {
        let b = buf.get(*pos..*pos + n).ok_or_else(|| {
            Error::IllegalParams("malformed MessagePack in a nested field".into())
        })?;
        *pos += n;
        Ok(b.iter().fold(0, |l, &x| l << 8 | x as usize))
    };
    match tag {
        0x80..=0x8f => Ok((tag & 0x0f) as usize),
        0xde => wide(2, pos),
        _ => wide(4, pos),
    }
}
