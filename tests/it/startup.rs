//! Start-up on real processes: socket paths too long for a socket address
//! fall back to a private directory that every process agrees on, a
//! fallback directory that is not safe is refused with a clear error, and
//! `doctor` runs the daemon's start-up checks, fails loudly on one it cannot
//! do, and leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{names, wait_until, Shim, TestEnv};

fn entity(name: &str) -> Value {
    json!({"name": name, "entityType": "thing", "observations": [format!("about {name}")]})
}

fn uid() -> u32 {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A test home where the socket path is derived, not given, with its own
/// temp dir so that the fallback directory is this test's alone.
struct Derived {
    env: TestEnv,
    /// A short directory holding the temp dir and anything else the test
    /// makes.
    root: tempfile::TempDir,
    /// Environment set (or, with `None`, removed) for every command.
    vars: Vec<(&'static str, Option<PathBuf>)>,
}

impl Derived {
    fn new() -> Derived {
        let root = tempfile::Builder::new()
            .prefix("mgs")
            .tempdir()
            .expect("a short temp dir");
        std::fs::create_dir(root.path().join("t")).expect("the temp dir");
        let temp = root.path().join("t");
        Derived {
            env: TestEnv::new(),
            root,
            vars: vec![("TMPDIR", Some(temp))],
        }
    }

    /// A 100-byte `XDG_RUNTIME_DIR`, which makes the usual socket path
    /// 142 bytes.
    fn with_long_runtime_dir() -> Derived {
        let mut derived = Derived::new();
        let base = derived.root.path().join("r");
        let pad = 100 - base.as_os_str().len();
        let runtime = PathBuf::from(format!("{}{}", base.display(), "x".repeat(pad)));
        assert_eq!(runtime.as_os_str().len(), 100);
        std::fs::create_dir(&runtime).expect("the runtime dir");
        derived.vars.push(("XDG_RUNTIME_DIR", Some(runtime)));
        derived
    }

    /// Where the fallback socket directory goes.
    fn fallback_dir(&self) -> PathBuf {
        self.root
            .path()
            .join("t")
            .join(format!("memgraphd-{}", uid()))
    }

    fn memgraphd(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.memgraphd(args);
        cmd.env_remove("MEMGRAPHD_SOCKET");
        for (name, value) in &self.vars {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.memgraphd(args).output().expect("running memgraphd")
    }

    fn shim(&self) -> Shim {
        let mut cmd = self.memgraphd(&["mcp"]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut shim = Shim::spawn(cmd);
        shim.initialize("2025-11-25");
        shim
    }

    /// The socket path `status` reports.
    fn status_socket(&self) -> PathBuf {
        let out = self.run(&["status"]);
        let report = text(&out.stdout);
        let line = report
            .lines()
            .find_map(|l| l.strip_prefix("socket:"))
            .unwrap_or_else(|| panic!("no socket line in:\n{report}"));
        PathBuf::from(line.trim())
    }
}

impl Drop for Derived {
    /// Stops the daemon with this test's own environment, which the test
    /// home's own `stop` (with a given socket) would not reach.
    fn drop(&mut self) {
        let _ = self
            .memgraphd(&["stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Checks one working session, `status`, `doctor` and `stop` at a fallback
/// socket, and that all of them used the same path.
fn works_end_to_end_at_the_fallback(derived: &Derived) {
    let mut shim = derived.shim();
    let created = shim.call_ok("create_entities", json!({"entities": [entity("far")]}));
    assert_eq!(names(&created), vec!["far"]);

    let status = derived.run(&["status"]);
    let report = text(&status.stdout);
    assert!(status.status.success(), "{report}{}", text(&status.stderr));
    assert!(report.contains("is running"), "{report}");
    let socket = derived.status_socket();
    assert_eq!(socket.parent(), Some(derived.fallback_dir().as_path()));
    assert!(socket.exists(), "{}", socket.display());
    let warning = report
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_else(|| panic!("no warning line in:\n{report}"));
    assert!(warning.contains("too long"), "{warning}");
    {
        use std::os::unix::fs::MetadataExt;
        let mode = std::fs::metadata(derived.fallback_dir())
            .expect("the fallback dir")
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    let doctor = derived.run(&["doctor"]);
    let report = text(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert!(
        report.lines().any(|l| l.starts_with("warn  socket path")
            && l.contains(&socket.display().to_string())
            && l.contains("fallback")),
        "{report}"
    );
    assert!(report.contains("running, pid"), "{report}");

    drop(shim);
    let stop = derived.run(&["stop"]);
    assert!(stop.status.success(), "{}", text(&stop.stderr));
    assert!(
        text(&stop.stdout).contains("stopped"),
        "{}",
        text(&stop.stdout)
    );
    wait_until("the fallback socket to go", Duration::from_secs(5), || {
        !socket.exists()
    });
    // Not running, status still says where the socket would be, and why.
    let status = derived.run(&["status"]);
    let report = text(&status.stdout);
    assert_eq!(status.status.code(), Some(3), "{report}");
    assert!(
        report.contains(&format!("socket: {}\n", socket.display())),
        "{report}"
    );
    assert!(
        report.contains("warning: the usual socket path"),
        "{report}"
    );
}

/// Issue 9: a long `XDG_RUNTIME_DIR` gave a socket path the daemon could
/// not bind.
#[test]
fn issue_9_a_100_byte_xdg_runtime_dir_works_end_to_end() {
    let derived = Derived::with_long_runtime_dir();
    works_end_to_end_at_the_fallback(&derived);
}

/// Issue 9: with no `XDG_RUNTIME_DIR`, the socket goes under the data dir,
/// which a deep `HOME` makes too long.
#[test]
fn issue_9_no_xdg_runtime_dir_and_a_deep_home_works_end_to_end() {
    let mut derived = Derived::new();
    let mut home = derived.root.path().join("h");
    while home.as_os_str().len() < 120 {
        home.push("a-deep-home");
    }
    std::fs::create_dir_all(&home).expect("the deep home");
    derived.vars.extend([
        ("HOME", Some(home.clone())),
        ("XDG_RUNTIME_DIR", None),
        ("XDG_DATA_HOME", None),
        ("MEMGRAPHD_DB", None),
    ]);
    works_end_to_end_at_the_fallback(&derived);
    let db = home.join(".local/share/memgraphd/memory.db");
    assert!(db.exists(), "the database lives in the deep home");
}

/// What every process says when the fallback directory is refused: the
/// first tool call, `status` and `doctor` all name the directory and the
/// reason, and no daemon is started.
fn refused_everywhere(derived: &Derived, reason: &str) {
    let dir = derived.fallback_dir().display().to_string();
    let mut shim = derived.shim();
    let result = shim.call("read_graph", json!({}));
    assert_eq!(result["isError"], json!(true), "{result:#}");
    let message = result["content"][0]["text"].as_str().expect("text");
    assert!(
        message.contains(&dir) && message.contains(reason),
        "{message}"
    );

    let status = derived.run(&["status"]);
    assert!(!status.status.success());
    let err = text(&status.stderr);
    assert!(err.contains(&dir) && err.contains(reason), "{err}");

    let doctor = derived.run(&["doctor"]);
    assert!(!doctor.status.success(), "doctor must fail");
    let report = text(&doctor.stdout);
    let line = report
        .lines()
        .find(|l| l.starts_with("FAIL  socket path"))
        .unwrap_or_else(|| panic!("no failed socket path line in:\n{report}"));
    assert!(line.contains(&dir) && line.contains(reason), "{line}");

    drop(shim);
    assert_eq!(derived.env.daemon_processes(), Vec::<u32>::new());
}

#[test]
fn a_fallback_dir_that_is_a_symlink_is_refused_with_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let derived = Derived::with_long_runtime_dir();
    let elsewhere = derived.root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("a private dir");
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::symlink(&elsewhere, derived.fallback_dir()).expect("symlink");
    refused_everywhere(&derived, "symbolic link");
    assert_eq!(
        std::fs::read_dir(&elsewhere).expect("listing").count(),
        0,
        "nothing was made through the link"
    );
}

#[test]
fn a_fallback_dir_of_another_user_is_refused_with_a_clear_error_as_root() {
    use std::os::unix::fs::PermissionsExt;
    if uid() != 0 {
        eprintln!("SKIPPED a_fallback_dir_of_another_user_is_refused_with_a_clear_error_as_root: chown needs root");
        return;
    }
    let derived = Derived::with_long_runtime_dir();
    let dir = derived.fallback_dir();
    std::fs::create_dir(&dir).expect("the dir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).expect("chown to nobody");
    refused_everywhere(&derived, "belongs to user 65534");
}

// ---- doctor ------------------------------------------------------------------

/// The report of a `doctor` that must fail, with its FAIL lines.
fn failing_doctor(env: &TestEnv) -> (String, Vec<String>) {
    let out = env.memgraphd(&["doctor"]).output().expect("doctor");
    let report = text(&out.stdout);
    assert!(!out.status.success(), "doctor passed:\n{report}");
    let fails = report
        .lines()
        .filter(|l| l.starts_with("FAIL"))
        .map(str::to_owned)
        .collect();
    (report, fails)
}

fn has_fail(fails: &[String], subject: &str, words: &str) -> bool {
    fails
        .iter()
        .any(|l| l.starts_with(&format!("FAIL  {subject}")) && l.contains(words))
}

#[test]
fn doctor_fails_loudly_on_a_socket_path_it_cannot_bind() {
    let env = TestEnv::new();
    // The socket's directory would be inside a regular file.
    let blocker = env.db_path().with_file_name("not-a-dir");
    std::fs::write(&blocker, b"").expect("a file");
    let socket = blocker.join("d.sock");
    let mut cmd = env.memgraphd(&["doctor"]);
    cmd.env("MEMGRAPHD_SOCKET", &socket);
    let out = cmd.output().expect("doctor");
    let report = text(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(
        report.lines().any(|l| l.starts_with("FAIL  bind")
            && l.contains(&socket.display().to_string())
            && l.contains("MEMGRAPHD_SOCKET")),
        "{report}"
    );
    assert!(
        report.contains("FAIL  daemon      not running, and it cannot start"),
        "{report}"
    );
    assert!(!report.contains("the next session starts it"), "{report}");

    // The first tool call says why too, at once.
    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.env("MEMGRAPHD_SOCKET", &socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    shim.initialize("2025-11-25");
    let result = shim.call("read_graph", json!({}));
    assert_eq!(result["isError"], json!(true), "{result:#}");
    let message = result["content"][0]["text"].as_str().expect("text");
    assert!(
        message.contains(&socket.display().to_string()) && message.contains("Not a directory"),
        "{message}"
    );
}

#[test]
fn a_given_socket_path_too_long_fails_doctor_and_the_first_call_saying_so() {
    let env = TestEnv::new();
    let socket = env
        .db_path()
        .with_file_name(format!("{}.sock", "s".repeat(120)));
    let mut cmd = env.memgraphd(&["doctor"]);
    cmd.env("MEMGRAPHD_SOCKET", &socket);
    let out = cmd.output().expect("doctor");
    let report = text(&out.stdout);
    assert!(!out.status.success(), "{report}");
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("FAIL  socket path") && l.contains("over the limit")),
        "{report}"
    );

    let mut cmd = env.memgraphd(&["mcp"]);
    cmd.env("MEMGRAPHD_SOCKET", &socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut shim = Shim::spawn(cmd);
    shim.initialize("2025-11-25");
    let result = shim.call("read_graph", json!({}));
    let message = result["content"][0]["text"].as_str().expect("text");
    assert!(
        message.contains("over the limit") && message.contains("MEMGRAPHD_SOCKET"),
        "{message}"
    );
}

/// The files beside the database, by name.
fn files_beside(db: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(db.parent().expect("a dir"))
        .expect("listing")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn doctor_fails_loudly_on_a_database_it_cannot_open_and_changes_nothing() {
    let env = TestEnv::new();
    let db = env.db_path();

    std::fs::write(&db, vec![b'z'; 16 * 1024]).expect("a file that is not SQLite");
    let before = std::fs::read(&db).expect("read");
    let (report, fails) = failing_doctor(&env);
    assert!(
        has_fail(&fails, "open", "not an SQLite database"),
        "{report}"
    );
    assert!(has_fail(&fails, "daemon", "cannot start"), "{report}");
    assert_eq!(std::fs::read(&db).expect("read"), before);

    std::fs::remove_file(&db).expect("remove");
    {
        let conn = rusqlite::Connection::open(&db).expect("creating a database");
        conn.execute_batch("CREATE TABLE future (x); PRAGMA user_version = 999;")
            .expect("writing it");
    }
    let before = std::fs::read(&db).expect("read");
    let (report, fails) = failing_doctor(&env);
    assert!(
        has_fail(&fails, "open", "newer than this build supports"),
        "{report}"
    );
    assert_eq!(std::fs::read(&db).expect("read"), before);
    assert_eq!(
        files_beside(&db),
        vec!["memory.db", "memory.db.lock"],
        "no -wal, -shm, trial copy or socket directory left"
    );
    assert_eq!(env.daemon_processes(), Vec::<u32>::new());
}

#[test]
fn doctor_leaves_no_daemon_and_no_socket_behind_and_clears_a_stale_one() {
    let env = TestEnv::new();
    let mut shim = env.shim();
    shim.call_ok("create_entities", json!({"entities": [entity("kept")]}));
    let pid = env.daemon_pid().expect("a daemon runs");
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let lock = env.db_path().with_extension("db.lock");
    wait_until("the killed daemon's lock", Duration::from_secs(10), || {
        !memgraphd::instance::lock::InstanceLock::is_held(&lock)
    });
    assert!(env.socket_path().exists(), "a stale socket is left");

    // A first look, before any daemon ran: nothing is left, not even the
    // socket's directory that binding made.
    let fresh = TestEnv::new();
    let out = fresh.memgraphd(&["doctor"]).output().expect("doctor");
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(files_beside(&fresh.db_path()), vec!["memory.db.lock"]);
    assert_eq!(fresh.daemon_processes(), Vec::<u32>::new());

    let out = env.memgraphd(&["doctor"]).output().expect("doctor");
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}");
    for subject in ["lock", "bind", "open", "integrity", "daemon"] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&format!("ok    {subject}"))),
            "no ok {subject} line in:\n{report}"
        );
    }
    assert!(!env.socket_path().exists(), "doctor left a socket");
    assert!(
        !memgraphd::instance::lock::InstanceLock::is_held(&lock),
        "doctor kept the lock"
    );
    assert_eq!(env.daemon_processes(), Vec::<u32>::new());

    // And the session carries on with a new daemon.
    let graph = shim.call_ok("open_nodes", json!({"names": ["kept"]}));
    assert_eq!(names(&graph), vec!["kept"]);
}

/// A daemon of another user at our socket path is never talked to, nor
/// replaced: the first tool call and `status` say whose it is.
#[test]
fn a_daemon_of_another_user_is_refused_by_the_client_as_root() {
    use std::os::unix::process::CommandExt;
    if uid() != 0 {
        eprintln!("SKIPPED a_daemon_of_another_user_is_refused_by_the_client_as_root: running a daemon as another user needs root");
        return;
    }
    let env = TestEnv::new();
    let home = env.db_path().parent().expect("home").to_owned();
    std::os::unix::fs::chown(&home, Some(65534), Some(65534)).expect("chown to nobody");
    let mut serve = env.memgraphd(&["serve"]);
    serve.stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: setgid/setuid only change this child's credentials.
    unsafe {
        serve.pre_exec(|| {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut other = serve.spawn().expect("a daemon as nobody");
    wait_until(
        "the other user's daemon to listen",
        Duration::from_secs(10),
        || env.socket_path().exists(),
    );

    let mut shim = env.shim();
    let result = shim.call("read_graph", json!({}));
    assert_eq!(result["isError"], json!(true), "{result:#}");
    let message = result["content"][0]["text"].as_str().expect("text");
    assert!(message.contains("process of user 65534"), "{message}");
    let status = env.memgraphd(&["status"]).output().expect("status");
    assert!(!status.status.success());
    assert!(
        text(&status.stderr).contains("process of user 65534"),
        "{}",
        text(&status.stderr)
    );
    assert!(
        other.try_wait().expect("polling").is_none(),
        "the other user's daemon was left alone"
    );
    let _ = other.kill();
    let _ = other.wait();
}
