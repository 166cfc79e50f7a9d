//! What a dependent may use: the C ABI, the list of exports, the error type.
fn main() {
    let exports: Vec<jitbox::ffi::Export> = jitbox::ffi::exported();
    assert!(
        exports
            .iter()
            .any(|e| e.name == "jb_engine_open" && e.kind == jitbox::Entry::Safe)
    );
    let f = jitbox::abi::jb_field {
        type_: jitbox::abi::JB_FT_NIL,
        len: 0,
        v: jitbox::abi::jb_value { u: 0 },
    };
    let _: jitbox::Result<()> = Err(jitbox::Error::Busy(format!("{}", f.len)));
}
