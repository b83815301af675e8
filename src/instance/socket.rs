//! The daemon's local socket: a path that can be bound, a private
//! directory, a socket only its owner may use, and a check of each peer's
//! user id.
//!
//! # Invariants
//! - A socket file is only removed by the holder of the instance lock, so a
//!   live daemon's socket is never unlinked by a newcomer.
//! - The fallback directory (see `config`'s socket path rule) is used only
//!   while it is a real directory, this user's, and closed to others;
//!   anything else there is refused, never changed or removed.

use std::io;
use std::path::{Path, PathBuf};

use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{ListenerOptions, Name};

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

/// The socket's name for interprocess: a file path on Unix, a pipe name on
/// Windows.
pub fn name(path: &Path) -> io::Result<Name<'_>> {
    #[cfg(unix)]
    {
        use interprocess::local_socket::{GenericFilePath, ToFsName};
        path.to_fs_name::<GenericFilePath>()
    }
    #[cfg(windows)]
    {
        use interprocess::local_socket::{GenericNamespaced, ToNsName};
        path.as_os_str().to_ns_name::<GenericNamespaced>()
    }
}

/// Binds the socket. The caller holds the instance lock, so any file left at
/// the path belongs to a daemon that is gone.
pub fn bind(path: &Path) -> io::Result<Listener> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if let Some(dir) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        match std::fs::remove_file(path) {
            Ok(()) => tracing::info!("removed stale socket {}", path.display()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = ListenerOptions::new()
            .name(name(path)?)
            .reclaim_name(true)
            .create_tokio()?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        Ok(listener)
    }
    #[cfg(windows)]
    {
        ListenerOptions::new().name(name(path)?).create_tokio()
    }
}

/// Whether the peer runs as the same user as this process. The daemon
/// drops a connection from anyone else; a client refuses a daemon of anyone
/// else, which could read and forge its memory.
pub fn peer_is_same_user(stream: &Stream) -> bool {
    match peer_uid(stream) {
        Ok(uid) => uid == this_uid(),
        Err(e) => {
            tracing::warn!("reading peer credentials: {e}");
            false
        }
    }
}

/// The effective user id of the process at the other end.
pub fn peer_uid(stream: &Stream) -> io::Result<u32> {
    #[cfg(unix)]
    {
        use interprocess::local_socket::traits::StreamCommon as _;
        stream
            .peer_creds()?
            .euid()
            .ok_or_else(|| io::Error::other("the peer's credentials carry no user id"))
    }
    #[cfg(windows)]
    {
        // Named pipes carry the default DACL of the creating user.
        let _ = stream;
        Ok(this_uid())
    }
}

/// The effective user id of this process (0 on Windows, where pipes are
/// private to their creator anyway).
pub fn this_uid() -> u32 {
    #[cfg(unix)]
    {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }
    #[cfg(windows)]
    {
        0
    }
}

/// Connects to the daemon's socket.
pub async fn connect(path: &Path) -> io::Result<Stream> {
    Stream::connect(name(path)?).await
}

#[cfg(all(test, unix))]
mod tests;
