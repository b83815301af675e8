//! `memgraphd doctor`: checks the installation and says, line by line, what
//! is fine and what to do about what is not. It never starts a daemon and
//! never writes to the database.

use std::path::Path;

use super::client;
use crate::client::ClientError;
use crate::config::Paths;
use crate::instance::lock::InstanceLock;
use crate::protocol::{Op, Reply};

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
        Err(ClientError::NotRunning { .. }) => {
            add(
                Verdict::Ok,
                "daemon",
                "not running; the next session starts it".into(),
            );
            if db_exists {
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
    findings
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
