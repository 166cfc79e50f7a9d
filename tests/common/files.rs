//! Helpers for tests that look at data directories and call the C ABI directly.
#![allow(dead_code)]

use jitbox::ffi::abi::*;
use std::collections::BTreeMap;
use std::ffi::CStr;
use std::path::Path;

/// Every file in `d` and its bytes, by name.
pub fn contents(d: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

/// This thread's message for the last failed C call.
pub fn last_error() -> String {
    // SAFETY: jb_last_error always returns a valid NUL-terminated thread-local buffer.
    unsafe { CStr::from_ptr(jb_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// An unsigned field or key part.
pub fn uint(u: u64) -> jb_field {
    let mut f = jb_field {
        type_: JB_FT_UNSIGNED,
        ..Default::default()
    };
    f.v.u = u;
    f
}
