//! The admin commands. They reach the database only through the daemon, so
//! the daemon stays its only writer: `status` and `stop` (which never start
//! one), `import` and `export` ([`transfer`]), `backup`, and `doctor`
//! ([`doctor`]), which also looks at the files when no daemon runs; and
//! `history`, `undo` and `purge` ([`history`]).

pub mod doctor;
pub mod history;
pub mod progress;
pub mod tokens;
pub mod transfer;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::client::{Client, ClientConfig, ClientError};
use crate::config::Paths;
use crate::instance::lock::InstanceLock;
use crate::protocol::{DaemonStatus, Op, Reply};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("reading {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a directory, not a file")]
    IsDir { path: PathBuf },
    #[error("{path} already exists; choose a new file name")]
    Exists { path: PathBuf },
    #[error("{path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("reading {path}")]
    Store {
        path: PathBuf,
        #[source]
        source: crate::store::StoreError,
    },
    #[error("unexpected reply from the daemon")]
    Reply,
    #[error("{0}")]
    Token(String),
    /// The daemon accepted `stop` but still held its lock when the wait ran
    /// out.
    #[error("the daemon (pid {pid}) did not stop within {}s", waited.as_secs())]
    StopTimeout { pid: u32, waited: Duration },
}

/// A client for an admin command; `spawn` starts a daemon if none runs.
pub(crate) fn client(paths: &Paths, name: &str) -> Client {
    client_with(paths, name, false)
}

pub(crate) fn client_with(paths: &Paths, name: &str, spawn: bool) -> Client {
    Client::new(ClientConfig {
        paths: paths.clone(),
        spawn,
        serve_args: Vec::new(),
        client: name.into(),
    })
}

/// Writes a consistent copy of the live database to `target` (which must
/// not exist) and checks it. Starts the daemon if none runs.
pub async fn backup(paths: &Paths, target: &Path) -> Result<u64, AdminError> {
    let target = std::path::absolute(target).map_err(|source| AdminError::Write {
        path: target.to_owned(),
        source,
    })?;
    if target.is_dir() {
        return Err(AdminError::IsDir { path: target });
    }
    if target.exists() {
        return Err(AdminError::Exists { path: target });
    }
    if let Some(dir) = target.parent() {
        crate::privacy::create_dir_all(dir).map_err(|source| AdminError::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let op = Op::Backup {
        path: target.display().to_string(),
    };
    match client_with(paths, "backup", true).request(op).await? {
        Reply::BackedUp { bytes } => Ok(bytes),
        _ => Err(AdminError::Reply),
    }
}

/// Asks the daemon for its status.
pub async fn status(paths: &Paths) -> Result<DaemonStatus, AdminError> {
    match client(paths, "status").request(Op::Status).await? {
        Reply::Status(status) => Ok(status),
        _ => Err(AdminError::Reply),
    }
}

/// The status as `memgraphd status` prints it.
pub fn format_status(status: &DaemonStatus, paths: &Paths) -> String {
    let mut out = String::new();
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let _ = writeln!(
        out,
        "memgraphd {} is running (pid {}, protocol {})",
        status.version, status.pid, status.protocol
    );
    let _ = writeln!(
        out,
        "uptime:       {}",
        human_duration(Duration::from_secs(status.uptime_secs))
    );
    let _ = writeln!(
        out,
        "database:     {} ({:.2} MiB, WAL {:.2} MiB)",
        status.db_path,
        mib(status.db_bytes),
        mib(status.wal_bytes)
    );
    let _ = writeln!(out, "socket:       {}", status.socket_path);
    if let Some(note) = paths.socket_fallback_note() {
        let _ = writeln!(out, "warning:      {note}");
    }
    let _ = writeln!(out, "lock:         {}", paths.lock.display());
    let _ = writeln!(out, "log:          {}", paths.log.display());
    let _ = writeln!(out, "entities:     {}", status.entities);
    let _ = writeln!(out, "observations: {}", status.observations);
    let _ = writeln!(out, "relations:    {}", status.relations);
    let _ = writeln!(out, "sessions:     {}", status.sessions);
    if let Some(http) = &status.http {
        let _ = writeln!(
            out,
            "http:         {} ({} sessions)",
            http.url, http.sessions
        );
        if http.insecure {
            let _ = writeln!(
                out,
                "warning:      plain HTTP off loopback (--insecure-http): bearer tokens travel in clear"
            );
        }
    }
    if let Some(url) = &status.ui {
        let _ = writeln!(
            out,
            "web view:     {url} (memgraphd ui prints a link that logs in)"
        );
    }
    let _ = write!(out, "queue depth:  {}", status.queue_depth);
    if !status.projects.is_empty() {
        let _ = write!(out, "\nprojects:");
        for (project, changes) in &status.projects {
            let _ = write!(out, "\n  {project} ({changes} changes)");
        }
    }
    out
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

/// Asks the daemon to stop and waits until it has released its lock, so
/// that when this returns the database is closed and checkpointed.
pub async fn stop(paths: &Paths, wait: Duration) -> Result<u32, AdminError> {
    let client = client(paths, "stop");
    let pid = client.welcome().await?.pid;
    match client.request(Op::Shutdown).await {
        Ok(_) | Err(ClientError::Disconnected) => {}
        Err(e) => return Err(e.into()),
    }
    let deadline = Instant::now() + wait;
    while InstanceLock::is_held(&paths.lock) {
        if Instant::now() >= deadline {
            return Err(AdminError::StopTimeout { pid, waited: wait });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(pid)
}
