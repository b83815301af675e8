//! The daemon's local socket: a private directory, a socket only its owner
//! may use, and a check of each peer's user id.
//!
//! # Invariant
//! A socket file is only removed by the holder of the instance lock, so a
//! live daemon's socket is never unlinked by a newcomer.

use std::io;
use std::path::Path;

use interprocess::local_socket::tokio::{Listener, Stream};
use interprocess::local_socket::traits::tokio::Stream as _;
use interprocess::local_socket::{ListenerOptions, Name};

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
