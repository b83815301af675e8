//! Where things live: the database, the daemon's socket, its lock and its
//! log, resolved from flags, environment and per-OS defaults (README.md,
//! "Configuration").
//!
//! `~` expands to the home directory, relative paths resolve against the
//! current directory, and the database's directory is created, so that the
//! same database always gets the same canonical path and therefore the same
//! socket, whichever directory a session starts in.

use std::path::{Path, PathBuf};

/// Why the paths could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot find the home directory (set HOME, or pass --db)")]
    NoHome,
    #[error("creating directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("resolving {path}")]
    Resolve {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is a directory; the database must be a file")]
    DbIsDir { path: PathBuf },
}

/// The resolved places of one memgraphd database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The SQLite database, canonical.
    pub db: PathBuf,
    /// The daemon's local socket (a named pipe's name on Windows).
    pub socket: PathBuf,
    /// `<db>.lock`: held by the one daemon of this database; never deleted.
    pub lock: PathBuf,
    /// The daemon's log file.
    pub log: PathBuf,
}

impl Paths {
    /// Resolves the paths from the given overrides (flags or environment),
    /// falling back to the defaults. Creates the database's directory.
    pub fn resolve(
        db: Option<&Path>,
        socket: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<Paths, ConfigError> {
        let db = match db {
            Some(p) => absolute(&expand_tilde(p)?)?,
            None => data_dir()?.join("memgraphd").join("memory.db"),
        };
        if db.is_dir() {
            return Err(ConfigError::DbIsDir { path: db });
        }
        let db = canonical_file(&db)?;
        let socket = match socket {
            Some(p) => absolute(&expand_tilde(p)?)?,
            None => default_socket(&db)?,
        };
        let log = match log {
            Some(p) => absolute(&expand_tilde(p)?)?,
            None => db.with_file_name("memgraphd.log"),
        };
        let mut lock = db.clone().into_os_string();
        lock.push(".lock");
        Ok(Paths {
            db,
            socket,
            lock: PathBuf::from(lock),
            log,
        })
    }
}

/// The per-user data directory of the OS.
fn data_dir() -> Result<PathBuf, ConfigError> {
    if cfg!(windows) {
        return std::env::var_os("APPDATA")
            .map(PathBuf::from)
            .ok_or(ConfigError::NoHome);
    }
    let home = home()?;
    if cfg!(target_os = "macos") {
        return Ok(home.join("Library").join("Application Support"));
    }
    Ok(std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home.join(".local").join("share")))
}

fn home() -> Result<PathBuf, ConfigError> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or(ConfigError::NoHome)
}

fn expand_tilde(path: &Path) -> Result<PathBuf, ConfigError> {
    match path.strip_prefix("~") {
        Ok(rest) => Ok(home()?.join(rest)),
        Err(_) => Ok(path.to_owned()),
    }
}

fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(path).map_err(|source| ConfigError::Resolve {
        path: path.to_owned(),
        source,
    })
}

/// Creates the file's directory and returns the file's canonical path,
/// whether or not the file exists yet.
fn canonical_file(path: &Path) -> Result<PathBuf, ConfigError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(ConfigError::DbIsDir {
            path: path.to_owned(),
        });
    };
    std::fs::create_dir_all(dir).map_err(|source| ConfigError::CreateDir {
        path: dir.to_owned(),
        source,
    })?;
    let dir = dir.canonicalize().map_err(|source| ConfigError::Resolve {
        path: dir.to_owned(),
        source,
    })?;
    Ok(dir.join(name))
}

/// `$XDG_RUNTIME_DIR/memgraphd/<hash>.sock`, else a private directory beside
/// the data; on Windows a pipe name. The hash of the canonical database path
/// gives each database its own daemon.
fn default_socket(db: &Path) -> Result<PathBuf, ConfigError> {
    let name = format!(
        "memgraphd-{:016x}.sock",
        fnv1a(db.as_os_str().as_encoded_bytes())
    );
    if cfg!(windows) {
        return Ok(PathBuf::from(name));
    }
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir());
    let dir = match runtime {
        Some(dir) => dir.join("memgraphd"),
        None => data_dir()?.join("memgraphd").join("run"),
    };
    Ok(dir.join(name))
}

/// FNV-1a, 64 bits: stable across builds and Rust versions, unlike
/// `DefaultHasher`, so every memgraphd version finds the same socket.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_is_stable() {
        // Pinned: changing it would make new builds miss running daemons.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"memory.db"), fnv1a(b"memory.db"));
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn relative_db_resolves_against_cwd_and_gets_neighbours() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("sub").join("m.db");
        let paths = Paths::resolve(Some(&db), None, None).expect("resolve");
        let canonical_dir = dir.path().canonicalize().expect("canonical").join("sub");
        assert_eq!(paths.db, canonical_dir.join("m.db"));
        assert_eq!(paths.lock, canonical_dir.join("m.db.lock"));
        assert_eq!(paths.log, canonical_dir.join("memgraphd.log"));
        assert!(canonical_dir.is_dir(), "the database directory is created");
    }

    #[test]
    fn a_directory_is_not_a_database() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = Paths::resolve(Some(dir.path()), None, None).expect_err("a dir");
        assert!(matches!(err, ConfigError::DbIsDir { .. }), "{err}");
    }
}
