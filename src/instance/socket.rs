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

/// Whether the peer runs as the same user as this daemon.
pub fn peer_is_same_user(stream: &Stream) -> bool {
    #[cfg(unix)]
    {
        use interprocess::local_socket::traits::StreamCommon as _;
        let _ = &stream;
        match stream.peer_creds() {
            // SAFETY: geteuid has no preconditions and cannot fail.
            Ok(creds) => creds.euid() == Some(unsafe { libc::geteuid() }),
            Err(e) => {
                tracing::warn!("reading peer credentials: {e}");
                false
            }
        }
    }
    #[cfg(windows)]
    {
        // Named pipes carry the default DACL of the creating user.
        let _ = stream;
        true
    }
}

/// Connects to the daemon's socket.
pub async fn connect(path: &Path) -> io::Result<Stream> {
    Stream::connect(name(path)?).await
}
