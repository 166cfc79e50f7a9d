//! The handle table behind the C ABI: not reachable.
fn main() {
    let _ = jitbox::ffi::handles::live_count();
}
