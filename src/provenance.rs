//! Who makes a change: the session, the MCP client, the project and the
//! working directory a shim reports with its writes (the crate's EXTENSIONS
//! contract, "History, undo and provenance").
//!
//! The shim builds a [`Provenance`] per call (`shim::session`); the daemon
//! will store it on each change once the protocol carries it. Until then it
//! only reaches the shim's debug log, and nothing here crosses the socket.

use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;

use crate::project::Project;

/// The variable Claude Code sets to its own session id for the processes it
/// starts; when present, it is the session's id, so memgraphd's history and
/// Claude Code's transcripts name a session the same way.
pub const SESSION_ENV: &str = "CLAUDE_CODE_SESSION_ID";

/// The `clientInfo` of `initialize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    pub name: String,
    pub version: String,
}

/// What a write says about where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `CLAUDE_CODE_SESSION_ID`, else an id of this shim process.
    pub session: String,
    /// `None` until the client has sent `initialize`.
    pub client: Option<ClientInfo>,
    /// `None` only when nothing at all was known to resolve it from.
    pub project: Option<Project>,
    pub cwd: Option<PathBuf>,
}

/// This process's session id: Claude Code's when it set one, else a fresh
/// one ([`generated_session_id`]).
pub fn session_id() -> String {
    std::env::var(SESSION_ENV)
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(generated_session_id)
}

/// A new id, unique per process in practice: the time, the pid and the
/// random seed std gives each process's hashers, hashed to 128 bits and
/// written as a UUID-shaped string (`shim` prefix, so it never passes for
/// one of Claude Code's).
pub fn generated_session_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let state = std::collections::hash_map::RandomState::new();
    let half = |salt: u64| {
        let mut hasher = state.build_hasher();
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        hasher.write_u64(salt);
        hasher.finish()
    };
    let (high, low) = (half(1), half(2));
    format!(
        "shim-{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0xffff,
        low >> 48,
        low & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_differ_and_look_alike() {
        let (a, b) = (generated_session_id(), generated_session_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), "shim-".len() + 36, "{a}");
        assert!(a.starts_with("shim-"), "{a}");
        let groups: Vec<usize> = a["shim-".len()..].split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
    }
}
