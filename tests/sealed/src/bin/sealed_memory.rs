//! The allocator and its blocks: not reachable.
fn main() {
    let _ = std::mem::size_of::<jitbox::mem::Quota>();
}
