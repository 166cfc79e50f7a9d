//! Builds c_src/tests/api_test.c as strict C99 against libjitbox.a and runs it.

mod common;

use std::process::Command;

#[test]
fn c_api_tests_pass() {
    let root = common::root();
    let exe = std::env::temp_dir().join(format!("jitbox_c_api_{}", std::process::id()));
    let out = Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(root.join("c_src/include"))
        .arg(root.join("c_src/tests/api_test.c"))
        .arg(common::lib_dir().join("libjitbox.a"))
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&exe)
        .output()
        .expect("cc runs");
    assert!(
        out.status.success(),
        "compiling the C tests failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_file(&exe);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "C tests failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
