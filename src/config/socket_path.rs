//! The rule for where a database's socket goes, the same in every process
//! so that the shim, the daemon and the admin commands meet at one path.
//!
//! A Unix socket address holds a path of at most [`SOCKET_PATH_MAX`] bytes
//! including the final NUL; a longer one cannot be bound. The usual place
//! (under `$XDG_RUNTIME_DIR`, or the data directory) can be longer than
//! that, so the rule falls back to a short private directory,
//! `memgraphd-<uid>` in the temp dir (`$TMPDIR`, else `/tmp`), with the same
//! file name. That directory is only used if it is this user's own private
//! directory (`instance::socket` checks before every use).

use std::path::{Path, PathBuf};

use super::Paths;

/// The size of `sun_path`, including the NUL that ends the path.
pub const SOCKET_PATH_MAX: usize = if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
)) {
    104
} else {
    108
};

/// How the socket path was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketOrigin {
    /// Given with `--socket` or `MEMGRAPHD_SOCKET`; used as it is.
    Given,
    /// The usual place, derived from the environment and the database.
    Derived,
    /// The usual place, `derived`, is too long for a socket address, so the
    /// socket lives in the short private fallback directory.
    Fallback { derived: PathBuf },
}

/// Whether a socket can be bound at `path`, as far as its length goes.
pub fn socket_path_fits(path: &Path) -> bool {
    path.as_os_str().len() < SOCKET_PATH_MAX
}

/// The rule: `name` in `usual_dir` if that fits, else in the first of the
/// fallback directories (`memgraphd-<uid>` under each of `temp_roots`) that
/// fits. If none fits, the last fallback is returned anyway and checking it
/// says why it cannot work.
pub(super) fn choose(
    name: &str,
    usual_dir: &Path,
    temp_roots: &[PathBuf],
    uid: u32,
) -> (PathBuf, SocketOrigin) {
    let usual = usual_dir.join(name);
    if socket_path_fits(&usual) || temp_roots.is_empty() {
        return (usual, SocketOrigin::Derived);
    }
    let private = format!("memgraphd-{uid}");
    let fallbacks: Vec<PathBuf> = temp_roots
        .iter()
        .map(|root| root.join(&private).join(name))
        .collect();
    let chosen = fallbacks
        .iter()
        .find(|path| socket_path_fits(path))
        .or(fallbacks.last())
        .cloned()
        .unwrap_or_else(|| usual.clone());
    (chosen, SocketOrigin::Fallback { derived: usual })
}

impl Paths {
    /// A sentence for `status` and `doctor` when the socket is in the
    /// fallback directory, saying why.
    pub fn socket_fallback_note(&self) -> Option<String> {
        let SocketOrigin::Fallback { derived } = &self.socket_origin else {
            return None;
        };
        Some(format!(
            "the usual socket path {} is {} bytes, too long for a Unix socket address (at most {}), so the socket is in the private fallback directory {}",
            derived.display(),
            derived.as_os_str().len(),
            SOCKET_PATH_MAX - 1,
            self.socket
                .parent()
                .map_or_else(|| self.socket.display(), Path::display),
        ))
    }
}

#[cfg(test)]
mod tests;
