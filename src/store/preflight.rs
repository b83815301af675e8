//! What opening the database would do when the daemon starts, found out
//! without changing it: for `memgraphd doctor`, which must not call a
//! database fine that the daemon then fails to open.
//!
//! The file is only ever opened read-only. A pending migration is tried on
//! a copy (`VACUUM INTO`) in a private directory beside the database, which
//! is removed afterwards, so nothing is left behind.

use std::io;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{has_table, is_empty, not_ours, schema, Durability, Store, StoreError};

/// How the daemon would find the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// No file yet; the first daemon creates it (its directory can be
    /// written).
    Missing,
    /// Opens as it is, at the current schema `version`.
    Ready { version: u32 },
    /// Opens after migrating from schema `from` to `to`; the migrations
    /// were tried on a copy and worked.
    Upgrade { from: u32, to: u32 },
    /// Opens, but can only be read: the daemon serves it read-only.
    ReadOnly { reason: String },
}

/// Why the daemon could not open the database.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("the directory {dir} cannot be written, so the database cannot be created there")]
    DirUnwritable {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("trying the migration on a copy in {dir}")]
    Trial {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Finds out how the daemon would open the database at `path`.
pub fn preflight(path: &Path) -> Result<Preflight, PreflightError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !path.exists() {
        return match dir_writable(dir) {
            Ok(()) => Ok(Preflight::Missing),
            Err(source) => Err(PreflightError::DirUnwritable {
                dir: dir.to_owned(),
                source,
            }),
        };
    }
    let conn = open_read_only(path).map_err(StoreError::from)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(StoreError::from)?;
    let owned = Some(path.to_owned());
    let found: u32 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| not_ours(&owned, e))?;
    let supported = schema::supported_version();
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported }.into());
    }
    // The same refusals as opening for real, here where they can name the
    // file itself rather than the trial copy.
    let refusal = if found == 0 && !is_empty(&conn)? {
        Some("it has tables but no memgraphd schema version".to_owned())
    } else if found > 0 && !has_table(&conn, "entities")? {
        Some(format!(
            "it has schema version {found} but no memgraphd tables"
        ))
    } else {
        None
    };
    if let Some(reason) = refusal {
        let path = path.to_owned();
        return Err(StoreError::NotOurs { path, reason }.into());
    }
    let unwritable = match (file_writable(path), dir_writable(dir)) {
        (Ok(()), Ok(())) => None,
        (Err(e), _) => Some(format!("{} cannot be written ({e})", path.display())),
        (_, Err(e)) => Some(format!("{} cannot be written ({e})", dir.display())),
    };
    if let Some(reason) = unwritable {
        // What the daemon then does: open it read-only, which checks the
        // schema version the same way.
        Store::open_read_only(path, reason.clone())?;
        return Ok(Preflight::ReadOnly { reason });
    }
    if found == supported {
        return Ok(Preflight::Ready { version: found });
    }
    trial_migration(&conn, dir)?;
    Ok(Preflight::Upgrade {
        from: found,
        to: supported,
    })
}

/// Opens the file for reading without leaving anything beside it. A
/// read-only connection to a WAL database creates `-wal` and `-shm` files
/// and, unlike a writer, does not remove them; with no WAL file there is
/// nothing but the main file to read, so it is opened as immutable, which
/// creates nothing. A WAL file left by a crash must be read, so then the
/// plain read-only open it is (its `-shm` is the daemon's to remove).
fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    // A URI is text; a path that is not is opened the plain way.
    let text = path.to_str().filter(|_| !Path::new(&wal).exists());
    let Some(text) = text else {
        return Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY);
    };
    let mut uri = String::from("file:");
    for c in text.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=ro&immutable=1");
    Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )
}

/// Copies the database into a private directory beside it and opens the
/// copy as the daemon would, which runs the pending migrations; then
/// removes the directory.
fn trial_migration(conn: &Connection, dir: &Path) -> Result<(), PreflightError> {
    let trial_dir = dir.join(format!(".memgraphd-doctor-{}", std::process::id()));
    let trial = |source| PreflightError::Trial {
        dir: trial_dir.clone(),
        source,
    };
    create_private_dir(&trial_dir).map_err(trial)?;
    let copy = trial_dir.join("trial.db");
    let result = (|| -> Result<(), PreflightError> {
        let target = copy
            .to_str()
            .ok_or_else(|| trial(io::Error::other("the path is not valid UTF-8")))?;
        conn.execute("VACUUM INTO ?1", [target])
            .map_err(StoreError::from)?;
        Store::open(&copy, Durability::Normal)?.close()?;
        Ok(())
    })();
    let removed = std::fs::remove_dir_all(&trial_dir);
    result?;
    removed.map_err(trial)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir(dir)
}

/// Opening for writing changes nothing (no create, no truncate); it only
/// asks the OS whether the daemon could.
fn file_writable(path: &Path) -> io::Result<()> {
    std::fs::OpenOptions::new().write(true).open(path).map(drop)
}

/// SQLite writes the WAL and shared-memory files beside the database, so
/// its directory must take new files: make one, and remove it.
fn dir_writable(dir: &Path) -> io::Result<()> {
    let probe = dir.join(format!(".memgraphd-doctor-{}.probe", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

#[cfg(test)]
mod tests;
