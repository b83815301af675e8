//! `memgraphd doctor`: checks the installation and says, line by line, what
//! is fine and what to do about what is not. It never starts a daemon, never
//! writes to the database, and never changes a file's permissions: it says
//! which command would.
//!
//! When no daemon runs, it runs the daemon's start-up checks instead: the
//! socket path, the lock, binding the socket, opening (and migrating) the
//! database, all without leaving a daemon, a socket or a changed file
//! behind. So a daemon that would fail to start is a failed check here,
//! never "ok, the next session starts it".

use std::path::Path;

use super::client;
use crate::client::ClientError;
use crate::config::Paths;
use crate::instance::lock::{InstanceLock, LockError};
use crate::instance::{address, socket};
use crate::protocol::{Op, Reply};
use crate::store::Preflight;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Finding {
    pub verdict: Verdict,
    pub subject: &'static str,
    pub detail: String,
}

/// A WAL past this size suggests checkpoints are not happening.
const LARGE_WAL: u64 = 64 * 1024 * 1024;

/// Runs every check.
pub async fn run(paths: &Paths) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |verdict, subject, detail: String| {
        findings.push(Finding {
            verdict,
            subject,
            detail,
        })
    };
    add(
        Verdict::Ok,
        "binary",
        format!("memgraphd {}", env!("CARGO_PKG_VERSION")),
    );

    let db_exists = paths.db.exists();
    if db_exists {
        add(
            Verdict::Ok,
            "database",
            format!("{} ({})", paths.db.display(), size(&paths.db)),
        );
    } else {
        add(
            Verdict::Warn,
            "database",
            format!(
                "{} does not exist yet; it is created by the first session",
                paths.db.display()
            ),
        );
    }
    let mut wal = paths.db.clone().into_os_string();
    wal.push("-wal");
    let wal_bytes = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    if wal_bytes > LARGE_WAL {
        add(
            Verdict::Warn,
            "wal",
            format!(
                "{} is large; it shrinks when the daemon is idle or stops (memgraphd stop)",
                size(Path::new(&wal))
            ),
        );
    } else {
        add(Verdict::Ok, "wal", size(Path::new(&wal)));
    }

    if !socket_path(paths, &mut add) {
        // Nothing can reach or start a daemon there; the checks that follow
        // would only fail the same way.
        return findings;
    }
    let locked = InstanceLock::is_held(&paths.lock);
    match client(paths, "doctor").request(Op::Status).await {
        Ok(Reply::Status(status)) => {
            let same = status.version == env!("CARGO_PKG_VERSION");
            add(
                if same { Verdict::Ok } else { Verdict::Warn },
                "daemon",
                if same {
                    format!("running, pid {}, same version", status.pid)
                } else {
                    format!(
                        "running memgraphd {} (pid {}); the next session replaces an older one, or run memgraphd stop",
                        status.version, status.pid
                    )
                },
            );
            add(
                Verdict::Ok,
                "lock",
                format!("{} held by the daemon", paths.lock.display()),
            );
            match client(paths, "doctor").request(Op::Check).await {
                Ok(Reply::Checked { problems }) if problems.is_empty() => {
                    add(Verdict::Ok, "integrity", "integrity_check ok".into())
                }
                Ok(Reply::Checked { problems }) => add(
                    Verdict::Fail,
                    "integrity",
                    format!(
                        "{}; stop memgraphd, keep a copy of the file, and restore from a backup",
                        problems.join("; ")
                    ),
                ),
                Ok(_) => add(Verdict::Fail, "integrity", "unexpected reply".into()),
                Err(e) => add(Verdict::Fail, "integrity", crate::error_chain(&e)),
            }
        }
        Ok(_) => add(Verdict::Fail, "daemon", "unexpected reply".into()),
        Err(ClientError::NotRunning { .. }) if locked => add(
            Verdict::Fail,
            "daemon",
            format!(
                "{} is locked but nothing answers on {}; a daemon may be hung: check its log {}",
                paths.lock.display(),
                paths.socket.display(),
                paths.log.display()
            ),
        ),
        // Nothing runs: see whether a daemon could start. A socket that
        // cannot even be connected to is a start-up problem too, and the
        // checks say what to do about it.
        Err(ClientError::NotRunning { .. } | ClientError::Unreachable { .. }) if !locked => {
            startup_checks(paths, db_exists, &mut add).await
        }
        Err(e) => add(
            Verdict::Fail,
            "daemon",
            format!(
                "{}; see its log {}",
                crate::error_chain(&e),
                paths.log.display()
            ),
        ),
    }
    socket_permissions(paths, &mut add);
    let exposed = crate::privacy::exposed(paths);
    if !exposed.is_empty() {
        add(Verdict::Fail, "files", crate::privacy::notice(&exposed));
    } else if db_exists {
        add(Verdict::Ok, "files", "private to their owner".into());
    }
    findings
}

/// The socket path in use, and whether it can work; false if it cannot.
fn socket_path(paths: &Paths, add: &mut impl FnMut(Verdict, &'static str, String)) -> bool {
    if let Err(e) = address::check_path(paths) {
        add(Verdict::Fail, "socket path", crate::error_chain(&e));
        return false;
    }
    match paths.socket_fallback_note() {
        Some(note) => add(
            Verdict::Warn,
            "socket path",
            format!("{}: {note}", paths.socket.display()),
        ),
        None => add(
            Verdict::Ok,
            "socket path",
            paths.socket.display().to_string(),
        ),
    }
    true
}

/// What a daemon does when it starts, up to accepting, tried with no
/// daemon running: take the lock, bind the socket, open the database.
/// Holding the lock meanwhile keeps a daemon from starting half-way through;
/// one that a session starts then finds the lock taken and the session tries
/// again a moment later.
async fn startup_checks(
    paths: &Paths,
    db_exists: bool,
    add: &mut impl FnMut(Verdict, &'static str, String),
) {
    let lock = match InstanceLock::acquire(&paths.lock) {
        Ok(lock) => lock,
        Err(LockError::Held) => {
            add(
                Verdict::Warn,
                "daemon",
                "starting right now; run memgraphd doctor again in a moment".into(),
            );
            return;
        }
        Err(e) => {
            add(
                Verdict::Fail,
                "lock",
                format!(
                    "{}; the daemon cannot start without its lock: make the database's directory writable",
                    crate::error_chain(&e)
                ),
            );
            add(Verdict::Fail, "daemon", not_startable());
            return;
        }
    };
    add(
        Verdict::Ok,
        "lock",
        format!("{} is free", paths.lock.display()),
    );
    let mut startable = true;
    match try_bind(paths) {
        Ok(()) => add(
            Verdict::Ok,
            "bind",
            format!("{} can be bound", paths.socket.display()),
        ),
        Err(reason) => {
            startable = false;
            add(
                Verdict::Fail,
                "bind",
                format!(
                    "{reason}; set MEMGRAPHD_SOCKET (or --socket) to a path in a private directory you can write"
                ),
            );
        }
    }
    let db = paths.db.clone();
    let opened = tokio::task::spawn_blocking(move || crate::store::preflight(&db))
        .await
        .map_err(|e| e.to_string())
        .and_then(|found| found.map_err(|e| crate::error_chain(&e)));
    match opened {
        Ok(Preflight::Missing) => add(
            Verdict::Ok,
            "open",
            format!("{} is created by the first session", paths.db.display()),
        ),
        Ok(Preflight::Ready { version }) => {
            add(Verdict::Ok, "open", format!("opens at schema v{version}"))
        }
        Ok(Preflight::Upgrade { from, to }) => add(
            Verdict::Ok,
            "open",
            format!("schema v{from} is migrated to v{to} at start (tried on a copy)"),
        ),
        Ok(Preflight::ReadOnly { reason }) => add(
            Verdict::Warn,
            "open",
            format!("{reason}; the daemon serves it read-only and refuses writes"),
        ),
        Err(reason) => {
            startable = false;
            add(
                Verdict::Fail,
                "open",
                format!(
                    "{reason}; move the file aside (or restore a backup) and run memgraphd doctor again"
                ),
            );
        }
    }
    if startable && db_exists {
        match crate::store::check_file(&paths.db) {
            Ok(problems) if problems.is_empty() => {
                add(Verdict::Ok, "integrity", "integrity_check ok".into())
            }
            Ok(problems) => add(
                Verdict::Fail,
                "integrity",
                format!(
                    "{}; keep a copy of the file and restore from a backup",
                    problems.join("; ")
                ),
            ),
            Err(e) => add(Verdict::Fail, "integrity", crate::error_chain(&e)),
        }
    }
    drop(lock);
    if startable {
        add(
            Verdict::Ok,
            "daemon",
            "not running; the next session starts it".into(),
        );
    } else {
        add(Verdict::Fail, "daemon", not_startable());
    }
}

fn not_startable() -> String {
    "not running, and it cannot start until the FAIL lines above are fixed".into()
}

/// Binds the socket as the daemon does and closes it again. The caller
/// holds the lock, which is what lets it replace a stale socket file.
/// Directories made on the way are removed again (if still empty), so the
/// check leaves the disk as it found it.
fn try_bind(paths: &Paths) -> Result<(), String> {
    let made: Vec<&Path> = paths
        .socket
        .ancestors()
        .skip(1)
        .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
        .collect();
    let bound = bind_and_close(paths);
    for dir in made {
        // Deepest first; one that is not empty is in use, and stays.
        let _ = std::fs::remove_dir(dir);
    }
    bound
}

fn bind_and_close(paths: &Paths) -> Result<(), String> {
    address::prepare_path(paths).map_err(|e| crate::error_chain(&e))?;
    let listener = socket::bind(&paths.socket)
        .map_err(|e| format!("cannot bind {}: {e}", paths.socket.display()))?;
    drop(listener);
    // Dropping the listener unlinks its file; make sure, since the promise
    // is that no socket is left behind.
    #[cfg(unix)]
    if let Err(e) = std::fs::remove_file(&paths.socket) {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(format!(
                "cannot remove the trial socket {}: {e}",
                paths.socket.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn socket_permissions(paths: &Paths, add: &mut impl FnMut(Verdict, &'static str, String)) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    if let Some(dir) = paths.socket.parent() {
        match mode(dir) {
            Ok(0o700) => add(
                Verdict::Ok,
                "socket dir",
                format!("{} is private (0700)", dir.display()),
            ),
            // Not fatal: the socket itself is 0600 and every peer's uid is
            // checked. A shared directory such as /tmp is a user's choice.
            Ok(m) => add(
                Verdict::Warn,
                "socket dir",
                format!(
                    "{} has mode {m:o}, not private; prefer a 0700 directory of your own for --socket",
                    dir.display()
                ),
            ),
            Err(_) => add(
                Verdict::Ok,
                "socket dir",
                format!("{} is created when the daemon starts", dir.display()),
            ),
        }
    }
    match mode(&paths.socket) {
        Ok(0o600) => add(
            Verdict::Ok,
            "socket",
            format!("{} (0600)", paths.socket.display()),
        ),
        Ok(m) => add(
            Verdict::Fail,
            "socket",
            format!(
                "{} has mode {m:o}; run memgraphd stop, the next daemon recreates it",
                paths.socket.display()
            ),
        ),
        Err(_) => {}
    }
}

#[cfg(not(unix))]
fn socket_permissions(_: &Paths, _: &mut impl FnMut(Verdict, &'static str, String)) {}

fn size(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// The report as `memgraphd doctor` prints it.
pub fn format(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            let tag = match f.verdict {
                Verdict::Ok => "ok  ",
                Verdict::Warn => "warn",
                Verdict::Fail => "FAIL",
            };
            format!("{tag}  {:<11} {}", f.subject, f.detail)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
