//! The one boundary every exported function goes through: panics are caught (a panic inside an
//! engine poisons it), errors become status codes plus a per-thread message, handles are
//! checked, and the re-entrancy guard records the kind of entry.

use super::handles::{self, EngineCell, Obj};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::guard::Entry;
use crate::mem::errinj;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

const MSG_CAP: usize = 1024;

thread_local! {
    /// The last error message, NUL-terminated. A fixed buffer: the pointer handed out by
    /// jb_last_error() never dangles; only its contents change.
    static LAST_ERROR: RefCell<[u8; MSG_CAP]> = const { RefCell::new([0; MSG_CAP]) };
    /// The kind of the exported function running on this thread (the innermost one): what
    /// `enter` enters with. Declared once, by `export!`.
    static KIND: Cell<Entry> = const { Cell::new(Entry::Free) };
}

pub fn set_last_error(msg: &str) {
    LAST_ERROR.with(|b| {
        let mut b = b.borrow_mut();
        let n = msg.len().min(MSG_CAP - 1);
        for (dst, src) in b.iter_mut().zip(msg.as_bytes()[..n].iter()) {
            *dst = if *src == 0 { b'?' } else { *src };
        }
        b[n] = 0;
    });
}

pub fn last_error_ptr() -> *const std::ffi::c_char {
    LAST_ERROR.with(|b| b.as_ptr() as *const std::ffi::c_char)
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs an exported function's body as an entry of `kind`: never lets a panic out, turns
/// errors into codes.
pub fn call(kind: Entry, name: &str, body: impl FnOnce() -> Result<()>) -> i32 {
    let outer = KIND.replace(kind);
    let result = catch_unwind(AssertUnwindSafe(body));
    KIND.set(outer);
    let result = result.unwrap_or_else(|p| {
        Err(Error::Panic(format!(
            "internal error in {name}: {}; the engine it was in is now poisoned",
            panic_message(&*p)
        )))
    });
    match result {
        Ok(()) => 0,
        Err(e) => {
            set_last_error(&format!("{name}: {e}"));
            super::status::status(&e)
        }
    }
}

/// The engine cell behind an engine, space, index or iterator handle.
pub fn cell_of(h: u64) -> Result<Rc<EngineCell>> {
    handles::with(h, |o| match o {
        Obj::Engine(c)
        | Obj::Space(c, _)
        | Obj::Index(c, ..)
        | Obj::Txn(c, _)
        | Obj::Ticket(c, _) => Ok(c.clone()),
        Obj::Iter(it) => Ok(it.try_borrow().map_err(|_| reentry())?.cell.clone()),
        Obj::Tuple(_) => Err(handles::wrong_kind(o, "an engine object")),
    })
}

fn reentry() -> Error {
    Error::Reentry(
        "the engine is in the middle of an operation (called from inside one of its callbacks); \
         do this after the callback returns"
            .into(),
    )
}

/// Enters the engine of `cell` for one operation, as the kind of entry the running exported
/// function is declared (`export!`). Re-entry from a callback is refused; a panic inside
/// poisons the engine so it refuses writes from then on (the panic itself is caught by
/// `call`).
pub fn enter<R>(cell: &EngineCell, f: impl FnOnce(&mut Engine) -> Result<R>) -> Result<R> {
    /// Restores the HOT count and poisons the engine if the operation unwinds.
    struct Leave<'a> {
        cell: &'a EngineCell,
        hot: bool,
    }
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            // The engine's RefMut is released before this runs (declared after it).
            if let Ok(mut slot) = self.cell.engine.try_borrow_mut()
                && let Some(engine) = slot.as_mut()
            {
                if self.hot {
                    engine.hot_depth -= 1;
                }
                if std::thread::panicking() {
                    engine.poisoned = Some("a panic inside an operation".into());
                }
            }
        }
    }
    cell.origin.check("the engine")?;
    let hot = match KIND.get() {
        Entry::Hot => true,
        Entry::Safe => false,
        Entry::Free => {
            return Err(Error::Panic(
                "internal error: a function declared to touch no engine entered one".into(),
            ));
        }
    };
    let leave;
    let Ok(mut slot) = cell.engine.try_borrow_mut() else {
        cell.reentry_refused.set(cell.reentry_refused.get() + 1);
        crate::guard::note_reentry_refused();
        return Err(reentry());
    };
    let engine = slot.as_mut().ok_or_else(closed)?;
    if hot {
        engine.stats.hot_calls += 1;
        engine.hot_depth += 1;
    } else {
        engine.stats.safe_calls += 1;
    }
    leave = Leave { cell, hot };
    if errinj::take_panic() {
        panic!("injected by PANIC_NEXT_CALL");
    }
    let r = f(engine);
    if hot {
        engine.hot_depth -= 1;
    }
    // Normal exit: the guard's work is done above; it only matters when unwinding.
    std::mem::forget(leave);
    r
}

pub fn closed() -> Error {
    Error::Closed("the engine was closed; open a new one".into())
}

/// Declares an exported function: `#[no_mangle] extern "C"`, run through `call`, and checked
/// at compile time against bindgen's declaration of the same name in `abi` (the two arms of
/// an `if` must have one type, so a signature drift does not compile).
macro_rules! export {
    ($(#[$m:meta])* $kind:ident fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$m])*
        ///
        /// # Safety
        /// Pointer arguments must be NULL or valid as the header documents for this function.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> std::ffi::c_int {
            $crate::ffi::boundary::call($name::KIND, stringify!($name), || $body)
        }
        /// The function's kind of entry, for `ffi::exported` (and the header check).
        #[doc(hidden)]
        pub mod $name {
            pub const KIND: $crate::guard::Entry = $crate::guard::Entry::$kind;
        }
        const _: () = {
            let _same_signature = if true { $crate::ffi::abi::$name } else { $name };
        };
    };
}
pub(crate) use export;
