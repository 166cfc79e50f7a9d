//! The `jitbox` command against directories written by the engine: verify (clean, damaged,
//! torn, records missing), cat (JSON records held to what was written), stat (counts held to
//! a model), all while an engine holds the directory, which they must not change.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn jitbox(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_jitbox"))
        .args(args)
        .output()
        .expect("jitbox runs");
    (
        out.status.code().expect("an exit code"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jitbox-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Writes: two spaces, inserts, a delete, an update, a snapshot, then more; returns the Lua
/// state with the engine still open (so the directory is locked) as `DB`.
fn write(dir: &Path, snapshot: bool) -> mlua::Lua {
    let lua = common::lua();
    lua.globals().set("DIR", dir.to_str().unwrap()).unwrap();
    lua.globals().set("SNAPSHOT", snapshot).unwrap();
    lua.load(
        "local jitbox = require('jitbox')\n\
         DB = jitbox.open{ dir = DIR, wal_mode = 'write' }\n\
         local u = DB:create_space('users', { format = {{'id', 'unsigned'}, {'name', 'string'}} })\n\
         u:create_index('pk')\n\
         local l = DB:create_space('log')\n\
         l:create_index('pk')\n\
         for i = 1, 5 do u:insert{i, 'u' .. i} end\n\
         u:delete{2}\n\
         u:update(3, {{'=', 2, 'x\"y'}})\n\
         if SNAPSHOT then DB:snapshot() end\n\
         u:insert{10, 'ten'}\n\
         DB:begin(); l:insert{1, {a = 1}}; l:insert{2, -7}; DB:commit()",
    )
    .exec()
    .unwrap();
    lua
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            (p.file_name().unwrap().to_str().unwrap().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_locked_directory_reads_back_as_written_and_is_left_as_it_was() {
    let dir = fresh_dir("clean");
    let lua = write(&dir, false);
    let before = listing(&dir);
    let d = dir.to_str().unwrap();

    let (code, out, _) = jitbox(&["verify", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: 1 files, no damage"), "{out}");

    let (code, out, err) = jitbox(&["cat", d, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let ops: Vec<&str> = out.lines().collect();
    // 4 DDL records, 5 inserts, a delete, an update (logged as a replace), an insert, one
    // transaction of two inserts.
    assert_eq!(ops.len(), 13, "{out}");
    for (i, line) in ops.iter().enumerate() {
        assert!(
            line.starts_with(&format!("{{\"lsn\": {}, ", i + 1)),
            "{line}"
        );
    }
    assert!(ops[0].contains("\"op\": \"create_space\", \"space\": \"users\", \"detail\": \"format (id unsigned, name string)\""), "{}", ops[0]);
    assert!(
        ops[4].contains("\"op\": \"replace\", \"space\": \"users\", \"tuple\": [1, \"u1\"]"),
        "{}",
        ops[4]
    );
    assert!(
        ops[9].contains("\"op\": \"delete\", \"space\": \"users\", \"key\": [2]"),
        "{}",
        ops[9]
    );
    assert!(
        ops[10].contains("\"tuple\": [3, \"x\\\"y\"]"),
        "{}",
        ops[10]
    );
    assert!(ops[12].contains("\"tuple\": [1, {\"a\": 1}]}, {\"op\": \"replace\", \"space\": \"log\", \"tuple\": [2, -7]}"), "{}", ops[12]);

    let (_, out, _) = jitbox(&["cat", d, "--space", "log"]);
    assert_eq!(out.lines().count(), 4, "{out}"); // create_space, create_index, two inserts
    let (_, out, _) = jitbox(&["cat", d, "--from", "12"]);
    assert_eq!(
        out,
        "lsn 12: replace users [10, \"ten\"]\nlsn 13: replace log [1, {\"a\": 1}]\nlsn 13: replace log [2, -7]\n"
    );

    let (code, out, _) = jitbox(&["stat", d]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("lsn: snapshot 0, last 13"), "{out}");
    assert!(out.contains("space users: 5 tuples"), "{out}"); // 1, 3, 4, 5, 10
    assert!(out.contains("space log: 2 tuples"), "{out}");

    assert!(
        listing(&dir) == before,
        "the directory changed under the command"
    );
    drop(lua);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_snapshot_and_the_log_after_it_count_together() {
    let dir = fresh_dir("snap");
    let lua = write(&dir, true);
    let d = dir.to_str().unwrap();
    let (code, out, _) = jitbox(&["verify", d]);
    assert_eq!(code, 0, "{out}");
    let (_, out, _) = jitbox(&["stat", d, "--format", "json"]);
    assert!(
        out.contains("\"snapshot_lsn\": 11, \"last_lsn\": 13"),
        "{out}"
    );
    assert!(
        out.contains("{\"name\": \"users\", \"tuples\": 5,"),
        "{out}"
    );
    let (_, out, _) = jitbox(&["cat", d, "--snapshot", "--space", "users"]);
    assert_eq!(
        out.lines().filter(|l| l.contains("replace users")).count(),
        4,
        "{out}"
    );
    drop(lua);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The byte offset of record `lsn` in the only WAL file, from `cat`.
fn offset_of(dir: &str, lsn: u64) -> u64 {
    let (_, out, _) = jitbox(&["cat", dir, "--format", "json", "--from", &lsn.to_string()]);
    let line = out.lines().next().unwrap();
    let at = line.find("\"offset\": ").unwrap() + 10;
    line[at..].split(',').next().unwrap().parse().unwrap()
}

fn wal_file(dir: &Path) -> PathBuf {
    let mut wals: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    wals.sort();
    wals.pop().unwrap()
}

#[test]
fn damage_is_reported_with_file_and_offset() {
    let dir = fresh_dir("damage");
    drop(write(&dir, false));
    let d = dir.to_str().unwrap();
    let at = offset_of(d, 7);
    let wal = wal_file(&dir);
    let mut bytes = std::fs::read(&wal).unwrap();
    bytes[at as usize + 30] ^= 0x40; // inside record 7's payload
    std::fs::write(&wal, &bytes).unwrap();
    let (code, out, _) = jitbox(&["verify", d]);
    assert_eq!(code, 1, "{out}");
    let want = format!(
        "damage: {} at offset {at}: record LSN 7 does not match its checksum",
        wal.display()
    );
    assert!(out.contains(&want), "{out}");
    let (code, _, err) = jitbox(&["cat", d]);
    assert_eq!(code, 2);
    assert!(err.contains(&format!("is damaged at offset {at}")), "{err}");
    let (code, out, _) = jitbox(&["stat", d]);
    assert_eq!(code, 1);
    assert!(
        out.contains("last 6"),
        "counts stop before the damage: {out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_torn_last_write_is_a_note_not_damage() {
    let dir = fresh_dir("torn");
    drop(write(&dir, false));
    let d = dir.to_str().unwrap();
    let at = offset_of(d, 13);
    let wal = wal_file(&dir);
    let bytes = std::fs::read(&wal).unwrap();
    std::fs::write(&wal, &bytes[..at as usize + 30]).unwrap();
    let (code, out, _) = jitbox(&["verify", d]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!(
            "note: {} at offset {at}: a torn last write",
            wal.display()
        )),
        "{out}"
    );
    let (_, out, _) = jitbox(&["stat", d]);
    assert!(
        out.contains("last 12") && out.contains("space log: 0 tuples"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn records_missing_between_files_are_damage() {
    let dir = fresh_dir("gap");
    let d = dir.to_str().unwrap().to_string();
    for i in 0..3 {
        // Every open starts a new WAL file.
        let lua = common::lua();
        lua.globals().set("DIR", d.as_str()).unwrap();
        lua.globals().set("I", i).unwrap();
        lua.load(
            "local db = require('jitbox').open{ dir = DIR, wal_mode = 'write' }\n\
             if I == 0 then db:create_space('s'):create_index('pk') end\n\
             db.space.s:insert{I}\n\
             db:close()",
        )
        .exec()
        .unwrap();
    }
    let (code, out, _) = jitbox(&["verify", &d]);
    assert_eq!(code, 0, "{out}");
    let mut wals: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    wals.sort();
    assert_eq!(wals.len(), 3);
    std::fs::remove_file(&wals[1]).unwrap();
    let (code, out, _) = jitbox(&["verify", &d]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("records are missing"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_path_that_is_no_directory_is_an_error() {
    let (code, _, err) = jitbox(&["stat", "/nonexistent/jitbox"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("'/nonexistent/jitbox' is not a directory"),
        "{err}"
    );
    let (code, _, err) = jitbox(&["cat", "/tmp", "--format", "yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("yaml"), "an unknown format is named: {err}");
    let (code, _, err) = jitbox(&["cat", "/tmp", "--snapshot", "--from", "5"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--from"),
        "--from with --snapshot is refused: {err}"
    );
}
