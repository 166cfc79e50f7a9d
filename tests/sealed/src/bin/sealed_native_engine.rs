//! The native engine API returns raw tuple pointers: not reachable.
fn main() {
    let _ = jitbox::engine::Engine::open(Default::default());
}
