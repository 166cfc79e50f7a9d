//! The engine's internals are sealed: a crate that depends on jitbox as any dependent does
//! (tests/sealed, no features) cannot name them — each `sealed_*` program there fails to
//! compile on a private module — and compiles against the public API (`public`).

mod common;

use std::process::Command;

fn check(bin: &str) -> (bool, String) {
    let root = common::root();
    let out = Command::new(env!("CARGO"))
        .args(["check", "--quiet", "--bin", bin, "--manifest-path"])
        .arg(root.join("tests/sealed/Cargo.toml"))
        .env("CARGO_TARGET_DIR", root.join("target/sealed"))
        // As a dependent's build: not from this repository's cargo config (whose [env] does
        // not override a variable already set).
        .env("JITBOX_INTERNALS", "0")
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn internals_do_not_compile_outside_the_crate() {
    let (ok, err) = check("public");
    assert!(ok, "the public API must compile:\n{err}");
    for (bin, private) in [
        ("sealed_tuple_pointer", "module `engine` is private"),
        ("sealed_native_engine", "module `engine` is private"),
        ("sealed_memory", "module `mem` is private"),
        ("sealed_handles", "module `handles` is private"),
    ] {
        let (ok, err) = check(bin);
        assert!(!ok, "{bin} compiled: an internal is reachable");
        assert!(
            err.contains(private),
            "{bin}: expected \"{private}\", got:\n{err}"
        );
    }
}
