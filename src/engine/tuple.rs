//! Tuples: immutable, reference-counted MessagePack arrays in one allocation each
//! (`[refs: u32][size: u32][data]`), charged to the engine's quota for their whole size.

use super::value::{self, Value};
use crate::error::{Error, Result};
use crate::mem::Quota;
use crate::wal::snapshot::Pinned;
use std::ptr::NonNull;
use std::rc::Rc;

const HEADER: usize = 8;
/// The size word's top bit marks a tuple with an MVCC story; sizes stay below 1 GiB.
const STORY_BIT: u32 = 1 << 31;
const SIZE_MASK: u32 = !STORY_BIT;

/// A raw tuple pointer. It does not own a reference: whoever stores one must hold a reference
/// for as long as it may be dereferenced (indexes hold the space's, handles and iterators
/// hold `TupleRef`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TuplePtr(NonNull<u8>);

impl TuplePtr {
    /// Encodes `fields` into a new tuple with one reference, charged to `quota`.
    pub fn new(fields: &[Value], quota: &Quota, max_size: usize) -> Result<TuplePtr> {
        let size = value::array_header_len(fields.len())
            + fields.iter().map(Value::encoded_len).sum::<usize>();
        if size > max_size {
            return Err(Error::IllegalParams(format!(
                "tuple of {size} bytes is larger than max_tuple_size {max_size}; \
                 split the data or open the engine with a larger max_tuple_size"
            )));
        }
        let ptr = quota.alloc_object(HEADER + size, "a tuple")?;
        // SAFETY: ptr points to HEADER + size fresh bytes aligned to 8, written in full below
        // (the encoding is exactly `size` bytes, checked by the sink's bounds).
        let data = unsafe {
            (ptr.as_ptr() as *mut u32).write(1);
            (ptr.as_ptr().add(4) as *mut u32).write(size as u32);
            std::slice::from_raw_parts_mut(ptr.as_ptr().add(HEADER), size)
        };
        let mut out = value::SliceSink { buf: data, pos: 0 };
        value::encode_array_header(fields.len(), &mut out);
        for f in fields {
            f.encode(&mut out);
        }
        debug_assert_eq!(out.pos, size);
        Ok(TuplePtr(ptr))
    }

    /// Copies already encoded, validated tuple data into a new tuple with one reference.
    pub fn from_data(data: &[u8], quota: &Quota) -> Result<TuplePtr> {
        let ptr = quota.alloc_object(HEADER + data.len(), "a tuple")?;
        // SAFETY: ptr points to HEADER + len fresh bytes aligned to 8; we initialise all.
        unsafe {
            (ptr.as_ptr() as *mut u32).write(1);
            (ptr.as_ptr().add(4) as *mut u32).write(data.len() as u32);
            std::ptr::copy_nonoverlapping(data.as_ptr(), ptr.as_ptr().add(HEADER), data.len());
        }
        Ok(TuplePtr(ptr))
    }

    /// The tuple's address: orders versions of one key in an index.
    #[inline]
    pub fn addr(self) -> usize {
        self.0.as_ptr() as usize
    }

    fn refs(self) -> *mut u32 {
        self.0.as_ptr() as *mut u32
    }

    fn size_word(self) -> *mut u32 {
        // SAFETY: the header's second word, inside the allocation.
        unsafe { self.0.as_ptr().add(4) as *mut u32 }
    }

    /// The tuple's MessagePack data.
    pub fn data<'a>(self) -> &'a [u8] {
        // SAFETY: a TuplePtr is only dereferenced while a reference is held (type invariant),
        // so the allocation is live; the size was written at creation and never changes.
        unsafe {
            let size = (*self.size_word() & SIZE_MASK) as usize;
            std::slice::from_raw_parts(self.0.as_ptr().add(HEADER), size)
        }
    }

    /// Overwrites the data's last four bytes. Only for a tuple its maker shares with nobody
    /// yet (a functional-index row being made, see `func`): tuples are otherwise immutable.
    pub(crate) fn patch_tail(self, bytes: [u8; 4]) {
        let len = self.data().len();
        assert!(len >= 4, "a tuple too short to patch");
        self.patch_at(len - 4, bytes);
    }

    /// Overwrites data bytes `at..at + N`, under `patch_tail`'s contract.
    pub(crate) fn patch_at<const N: usize>(self, at: usize, bytes: [u8; N]) {
        let len = self.data().len();
        assert!(at + N <= len, "a patch past the tuple's end");
        // SAFETY: the allocation is live (type invariant) and holds `len` data bytes after
        // the header, of which at..at + N (checked); single-threaded; the caller's contract:
        // nobody else reads it yet.
        unsafe {
            let p = self.0.as_ptr().add(HEADER + at);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, N);
        }
    }

    /// Whether anyone but its one holder (the indexes, for a tuple in a space) has a
    /// reference: a handle, an iterator, a snapshot's pin, the deferred queue.
    pub fn is_shared(self) -> bool {
        // SAFETY: as in `incref`.
        unsafe { *self.refs() > 1 }
    }

    /// Overwrites this tuple's data with `src`'s, of the same size. Only for a tuple nobody
    /// else holds (`!is_shared()`) and no reader may still see as it was (see
    /// `Space::overwrite`): tuples are otherwise immutable.
    pub(crate) fn overwrite_with(self, src: TuplePtr) {
        let (dst, from) = (self.data(), src.data());
        assert_eq!(dst.len(), from.len(), "an overwrite keeps the size");
        assert_ne!(self, src, "a tuple overwritten with itself");
        // SAFETY: both allocations are live (type invariant) with `len` data bytes after the
        // header; they are distinct tuples, so the ranges do not overlap; single-threaded.
        unsafe {
            std::ptr::copy_nonoverlapping(from.as_ptr(), self.0.as_ptr().add(HEADER), from.len());
        }
    }

    /// Whether the tuple has an MVCC story (see `mvcc`): without one it is a committed,
    /// live version every reader sees, which readers learn from this bit alone.
    #[inline]
    pub fn has_story(self) -> bool {
        // SAFETY: as in `data`.
        unsafe { *self.size_word() & STORY_BIT != 0 }
    }

    pub fn set_story(self, on: bool) {
        // SAFETY: as in `incref` (single-threaded, live header).
        unsafe {
            let w = self.size_word();
            *w = if on { *w | STORY_BIT } else { *w & SIZE_MASK };
        }
    }

    pub fn field<'a>(self, fieldno: usize) -> Value<'a> {
        // Tuple data is produced by the engine and always well formed.
        value::field(self.data(), fieldno).unwrap_or(Value::Nil)
    }

    pub fn field_count(self) -> usize {
        let mut pos = 0;
        value::decode_array_header(self.data(), &mut pos).unwrap_or(0)
    }

    pub fn incref(self) {
        // SAFETY: the caller holds a reference, so the header is live; the engine is single-
        // threaded (handles are checked against the owning thread), so no data race.
        unsafe { *self.refs() += 1 }
    }

    /// Drops one reference, freeing the tuple and releasing its charge at zero.
    pub fn decref(self, quota: &Quota) {
        // SAFETY: as in incref; after the count reaches zero nobody holds the pointer, so
        // freeing with the layout it was allocated with is sound.
        unsafe {
            let refs = self.refs();
            *refs -= 1;
            if *refs == 0 {
                quota.free_object(self.0, HEADER + self.data().len());
            }
        }
    }
}

/// An owned reference to a tuple, released on drop. Keeps its quota alive, so it may outlive
/// the engine (a tuple held by the caller after close stays readable).
#[derive(Debug)]
pub struct TupleRef {
    ptr: TuplePtr,
    quota: Rc<Quota>,
}

impl TupleRef {
    /// Takes a new reference to `ptr`.
    pub fn new(ptr: TuplePtr, quota: &Rc<Quota>) -> TupleRef {
        ptr.incref();
        TupleRef {
            ptr,
            quota: quota.clone(),
        }
    }

    /// Adopts a reference the caller already holds.
    pub fn adopt(ptr: TuplePtr, quota: &Rc<Quota>) -> TupleRef {
        TupleRef {
            ptr,
            quota: quota.clone(),
        }
    }

    pub fn ptr(&self) -> TuplePtr {
        self.ptr
    }

    pub fn data(&self) -> &[u8] {
        self.ptr.data()
    }
}

impl Clone for TupleRef {
    fn clone(&self) -> TupleRef {
        TupleRef::new(self.ptr, &self.quota)
    }
}

impl Drop for TupleRef {
    fn drop(&mut self) {
        self.ptr.decref(&self.quota);
    }
}

impl TuplePtr {
    /// A placeholder for unused slots of index blocks; never dereferenced.
    pub(crate) fn dangling() -> TuplePtr {
        TuplePtr(NonNull::dangling())
    }
}

impl TuplePtr {
    /// Takes a reference for a thread that only reads the tuple's bytes (a snapshot): it
    /// gets their address and length, read here, never the header this thread may change.
    /// `unpin`, on this thread, gives the reference back.
    pub(crate) fn pin(self) -> Pinned {
        self.incref();
        let data = self.data();
        Pinned {
            addr: data.as_ptr() as usize,
            len: data.len() as u32,
        }
    }

    /// Drops the reference `pin` took.
    pub(crate) fn unpin(p: Pinned, quota: &Quota) {
        TuplePtr::from_addr(p.addr - HEADER).decref(quota)
    }

    /// The tuple at `addr`, as recorded by `addr()` (functional-index rows store it). The
    /// type invariant still applies: dereference it only while a reference is held.
    pub(crate) fn from_addr(addr: usize) -> TuplePtr {
        TuplePtr(NonNull::new(addr as *mut u8).expect("a recorded tuple address is not null"))
    }
}
