//! A raw tuple pointer outlives the tuple it points to: not reachable.
fn main() {
    let _: Option<jitbox::engine::tuple::TuplePtr> = None;
}
