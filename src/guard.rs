//! The re-entrancy guard: which kind of entry (HOT or SAFE) is active on this thread, so that
//! a callback that may run Lua is never invoked under a HOT entry (where a LuaJIT trace may be
//! on the stack). Re-entry into a busy engine is refused by the engine cell's borrow.

use crate::ffi::abi;
use std::cell::Cell;

/// How an exported function may be called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// May be called from a JIT trace: never runs a `JB_CB_LUA` callback.
    Hot,
    /// Called only where no trace runs (jit.off Lua, or C outside FFI): callbacks may run.
    Safe,
    /// Touches no engine (pure functions, error injection, errors).
    Free,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackKind {
    Native,
    Lua,
}

impl CallbackKind {
    pub fn from_code(code: u32) -> Option<CallbackKind> {
        match code {
            abi::JB_CB_NATIVE => Some(CallbackKind::Native),
            abi::JB_CB_LUA => Some(CallbackKind::Lua),
            _ => None,
        }
    }
}

thread_local! {
    static HOT_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// True while any HOT entry is active on this thread (nested entries included).
pub fn hot_active() -> bool {
    HOT_DEPTH.get() > 0
}

/// Runs `f` as an entry of `kind`: HOT entries are counted for their duration (restored even
/// when `f` unwinds). One TLS access per call.
pub fn run<R>(kind: Entry, f: impl FnOnce() -> R) -> R {
    if kind != Entry::Hot {
        return f();
    }
    struct Leave<'a>(&'a Cell<u32>);
    impl Drop for Leave<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() - 1);
        }
    }
    HOT_DEPTH.with(|d| {
        d.set(d.get() + 1);
        let _leave = Leave(d);
        f()
    })
}
