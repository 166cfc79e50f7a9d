//! The re-entrancy guard: a callback that may run Lua is never invoked while a HOT entry (one
//! a LuaJIT trace may have made) is on the thread's stack.
//!
//! Each engine counts its own active HOT entries (no thread-local access on the hot path).
//! Foreign code can only run under an engine's HOT entry when that engine calls out to a
//! callback, so the thread-wide state is raised exactly then: around callbacks invoked while
//! a HOT entry is active. "May Lua run here?" is then: not inside a HOT entry of this engine,
//! and not inside a callback made from any engine's HOT entry.

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

thread_local! {
    /// Callbacks currently running on this thread that were invoked under a HOT entry.
    static CALLBACKS_UNDER_HOT: Cell<u32> = const { Cell::new(0) };
    /// Calls refused because their engine was busy, on this thread (a caller that invoked a
    /// callback compares it before and after to learn that the callback tried to re-enter).
    static REENTRY_REFUSALS: Cell<u64> = const { Cell::new(0) };
}

pub fn note_reentry_refused() {
    REENTRY_REFUSALS.set(REENTRY_REFUSALS.get() + 1);
}

pub fn reentry_refusals() -> u64 {
    REENTRY_REFUSALS.get()
}

/// True inside a callback that some engine invoked during a HOT entry.
pub fn in_hot_callback() -> bool {
    CALLBACKS_UNDER_HOT.get() > 0
}

/// Invokes a callback; when the caller is inside a HOT entry, marks the thread for its
/// duration so that nothing it calls may run Lua.
pub fn invoke_callback<R>(under_hot: bool, f: impl FnOnce() -> R) -> R {
    if !under_hot {
        return f();
    }
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            CALLBACKS_UNDER_HOT.set(CALLBACKS_UNDER_HOT.get() - 1);
        }
    }
    CALLBACKS_UNDER_HOT.set(CALLBACKS_UNDER_HOT.get() + 1);
    let _leave = Leave;
    f()
}
