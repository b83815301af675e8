//! The socket's address: a path short enough to bind, and, when it is the
//! fallback, a directory that is safe to bind in. Checked by clients before
//! connecting and by the daemon before binding, so that a path that cannot
//! work is reported as such, not as a daemon that failed to start.
//!
//! # Invariant
//! The fallback directory (see `config`'s socket path rule) is used only
//! while it is a real directory, this user's, and closed to others;
//! anything else there is refused, never changed or removed.

use std::io;
use std::path::{Path, PathBuf};

use super::socket::this_uid;
use crate::config::{socket_path_fits, Paths, SocketOrigin, SOCKET_PATH_MAX};

/// Why no socket can work at the configured path.
#[derive(Debug, thiserror::Error)]
pub enum SocketPathError {
    #[error("the socket path {path} is {len} bytes, over the limit of {} bytes for a Unix socket address; set --socket or MEMGRAPHD_SOCKET to a shorter path", SOCKET_PATH_MAX - 1)]
    TooLong { path: PathBuf, len: usize },
    #[error("refusing the socket directory {dir}: it {problem}")]
    Unsafe { dir: PathBuf, problem: DirProblem },
    #[error("creating the socket directory {dir}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("inspecting the socket directory {dir}")]
    Inspect {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What is wrong with a fallback socket directory, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirProblem {
    #[error("is a symbolic link; remove it, or set MEMGRAPHD_SOCKET to a path in a private directory of your own")]
    Symlink,
    #[error("is not a directory; remove it, or set MEMGRAPHD_SOCKET to a path in a private directory of your own")]
    NotADirectory,
    #[error("belongs to user {owner}, not to you (user {you}); remove it as that user, or set MEMGRAPHD_SOCKET to a path in a private directory of your own")]
    OtherOwner { owner: u32, you: u32 },
    #[error("has mode {mode:o}, open to other users; make it private with chmod 700")]
    Open { mode: u32 },
}

/// Checks that a socket can work at the configured path, creating nothing:
/// what a client runs before connecting, so that a path that cannot work is
/// reported as such instead of as a daemon that fails to start.
pub fn check_path(paths: &Paths) -> Result<(), SocketPathError> {
    check_len(&paths.socket)?;
    match fallback_dir(paths) {
        Some(dir) => private_dir(dir, false),
        None => Ok(()),
    }
}

/// What the daemon runs before binding: [`check_path`], after creating the
/// fallback directory (0700) if the socket lives there and it is missing.
pub fn prepare_path(paths: &Paths) -> Result<(), SocketPathError> {
    check_len(&paths.socket)?;
    match fallback_dir(paths) {
        Some(dir) => private_dir(dir, true),
        None => Ok(()),
    }
}

fn check_len(path: &Path) -> Result<(), SocketPathError> {
    if cfg!(unix) && !socket_path_fits(path) {
        return Err(SocketPathError::TooLong {
            path: path.to_owned(),
            len: path.as_os_str().len(),
        });
    }
    Ok(())
}

fn fallback_dir(paths: &Paths) -> Option<&Path> {
    match paths.socket_origin {
        SocketOrigin::Fallback { .. } => paths.socket.parent(),
        SocketOrigin::Given | SocketOrigin::Derived => None,
    }
}

/// Checks that `dir` is a private directory of this user; with `create`,
/// makes it first if it is missing. Without, a missing one is fine: the
/// daemon creates it.
#[cfg(unix)]
fn private_dir(dir: &Path, create: bool) -> Result<(), SocketPathError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if create {
        match std::fs::DirBuilder::new().mode(0o700).create(dir) {
            // Whatever the umask left of 0700, the daemon needs all of it.
            Ok(()) => std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|source| SocketPathError::CreateDir {
                    dir: dir.to_owned(),
                    source,
                })?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(SocketPathError::CreateDir {
                    dir: dir.to_owned(),
                    source,
                })
            }
        }
    }
    // `symlink_metadata`, so that a link is seen as a link, not followed.
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound && !create => return Ok(()),
        Err(source) => {
            return Err(SocketPathError::Inspect {
                dir: dir.to_owned(),
                source,
            })
        }
    };
    let you = this_uid();
    let problem = if meta.file_type().is_symlink() {
        DirProblem::Symlink
    } else if !meta.is_dir() {
        DirProblem::NotADirectory
    } else if meta.uid() != you {
        DirProblem::OtherOwner {
            owner: meta.uid(),
            you,
        }
    } else if meta.mode() & 0o077 != 0 {
        DirProblem::Open {
            mode: meta.mode() & 0o7777,
        }
    } else {
        return Ok(());
    };
    Err(SocketPathError::Unsafe {
        dir: dir.to_owned(),
        problem,
    })
}

#[cfg(not(unix))]
fn private_dir(_: &Path, _: bool) -> Result<(), SocketPathError> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests;
