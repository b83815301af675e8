//! Private files: whatever the umask, every directory memgraphd creates is
//! 0700 and every file 0600, and a database that others can read is
//! reported by `doctor` and `status` with the command that fixes it, never
//! changed behind the user's back.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::json;

use crate::support::{Shim, TestEnv};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `memgraphd` on a database in a directory that does not exist yet, under
/// the usual umask 022, so that only explicit modes can make files private.
fn memgraphd(env: &TestEnv, db: &Path, args: &[&str]) -> Command {
    let mut cmd = env.memgraphd(args);
    cmd.env("MEMGRAPHD_DB", db);
    // SAFETY: umask is async-signal-safe and only sets this child's mask.
    unsafe {
        cmd.pre_exec(|| {
            libc::umask(0o022);
            Ok(())
        });
    }
    cmd
}

fn run_ok(mut cmd: Command) -> String {
    let out = cmd.output().expect("running memgraphd");
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stops the daemon of a database that `TestEnv` does not know about.
struct StopOnDrop<'a> {
    env: &'a TestEnv,
    db: PathBuf,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        let _ = memgraphd(self.env, &self.db, &["stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Every entry under `dir`, the directory itself included.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            found.extend(tree(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// Asserts that every directory under `dir` is 0700 and every file 0600.
fn assert_private(dir: &Path) {
    for path in tree(dir) {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(
            mode(&path),
            expected,
            "{} has mode {:o}",
            path.display(),
            mode(&path)
        );
    }
}

#[test]
fn every_file_is_private_after_a_session_a_backup_and_an_export() {
    let env = TestEnv::new();
    let home = env.db_path().parent().expect("home").to_owned();
    let data = home.join("data");
    let db = data.join("memory.db");
    let _stop = StopOnDrop {
        env: &env,
        db: db.clone(),
    };

    let mut cmd = memgraphd(&env, &db, &["mcp"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    shim.initialize("2025-11-25");
    let alice = json!({"name": "Alice", "entityType": "person", "observations": ["a secret"]});
    shim.call_ok("create_entities", json!({ "entities": [alice] }));
    shim.call_ok(
        "add_observations",
        json!({"observations": [{"entityName": "Alice", "contents": ["another secret"]}]}),
    );

    // While the daemon runs: the database with its WAL and shared memory,
    // the lock, the log, and the socket with its directory.
    let mut expected: Vec<PathBuf> = ["memory.db", "memory.db-wal", "memory.db-shm"]
        .iter()
        .chain(&["memory.db.lock", "memgraphd.log"])
        .map(|name| data.join(name))
        .collect();
    expected.push(env.socket_path());
    for file in &expected {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(env.socket_path().parent().expect("run")), 0o700);
    assert_private(&data);

    let backup = home.join("backups").join("nested").join("copy.db");
    run_ok(memgraphd(
        &env,
        &db,
        &["backup", backup.to_str().expect("utf-8")],
    ));
    assert_private(&home.join("backups"));

    let export = home.join("graph.jsonl");
    run_ok(memgraphd(
        &env,
        &db,
        &["export", export.to_str().expect("utf-8")],
    ));
    assert!(std::fs::read_to_string(&export)
        .expect("export")
        .contains("a secret"));
    assert_eq!(mode(&export), 0o600, "the export");

    drop(shim);
    run_ok(memgraphd(&env, &db, &["stop"]));
    assert_private(&data);
}

#[test]
fn a_database_others_can_read_is_reported_with_the_fix_and_left_as_it_is() {
    let env = TestEnv::new();
    {
        let mut shim = env.shim();
        shim.call_ok("read_graph", json!({}));
    }
    run_ok(env.memgraphd(&["stop"]));
    let db = env.db_path().canonicalize().expect("the database exists");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    // The command names the database first, then any of its companions
    // that exist (a read-only look at a WAL database leaves its -wal).
    let fix = format!("chmod 600 {}", db.display());

    let out = env.memgraphd(&["doctor"]).output().expect("doctor");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "doctor passed:\n{report}");
    let line = report
        .lines()
        .find(|l| l.contains(" files "))
        .unwrap_or_else(|| panic!("no files line:\n{report}"));
    assert!(
        line.starts_with("FAIL") && line.contains(&format!("with: {fix}")),
        "{line}"
    );

    let out = env.memgraphd(&["status"]).output().expect("status");
    assert_eq!(out.status.code(), Some(3), "no daemon runs");
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains(&format!("with: {fix}")), "{status}");

    // A daemon serves it as it is. SQLite gives the WAL the database's mode,
    // so the WAL is exposed too, and status says so while the daemon runs.
    let mut shim = env.shim();
    let a = json!({"name": "A", "entityType": "t", "observations": []});
    shim.call_ok("create_entities", json!({ "entities": [a] }));
    let mut wal = db.clone().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    assert_eq!(mode(&wal), 0o644, "the WAL follows the database's mode");
    let status = run_ok(env.memgraphd(&["status"]));
    let warning = status
        .lines()
        .find(|l| l.starts_with("warning: "))
        .unwrap_or_else(|| panic!("no warning:\n{status}"));
    assert!(
        warning.contains(&format!("with: {fix} {}", wal.display())),
        "{warning}"
    );
    assert_eq!(mode(&db), 0o644, "changed behind the user's back");
}
