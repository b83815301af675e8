//! Bearer tokens for the daemon's HTTP face: making them, naming them, and
//! the daemon's cache of the ones that are valid.
//!
//! A token is `mgd_` and 64 hex digits of the OS random generator. Only its
//! SHA-256 digest is ever stored (in the database) or held by the daemon;
//! the token itself is printed once by `memgraphd token add` and never
//! crosses the socket. A presented token is hashed and compared with every
//! known digest in constant time, so the time an answer takes says nothing
//! about how close a guess was.
//!
//! # Invariant
//! Every change to the token table goes through the daemon, which updates
//! [`TokenCache`] before it answers: once `token revoke` returns, the next
//! HTTP request with that token is refused.

use std::collections::HashMap;
use std::sync::RwLock;

use sha2::{Digest, Sha256};
use tokio::sync::broadcast;

/// The SHA-256 digest of a token.
pub type TokenHash = [u8; 32];

/// What every token starts with, so secret scanners and people can tell.
const PREFIX: &str = "mgd_";

/// The longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the OS random generator failed: {0}")]
    Random(String),
}

/// A new random token, as the user will paste it.
pub fn generate() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let mut token = String::with_capacity(PREFIX.len() + 64);
    token.push_str(PREFIX);
    for byte in bytes {
        token.push_str(&format!("{byte:02x}"));
    }
    Ok(token)
}

/// The digest stored for `token`.
pub fn hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `name` can name a token: 1 to [`MAX_NAME_CHARS`] letters, digits
/// or `.-_@`, since it appears in logs and in the history as the actor.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "a token name has 1 to {MAX_NAME_CHARS} characters, not {chars}"
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')))
    {
        return Err(format!(
            "a token name has only letters, digits and . - _ @, not {bad:?}"
        ));
    }
    Ok(())
}

/// Compares two digests without stopping at the first difference.
pub fn digests_equal(a: &TokenHash, b: &TokenHash) -> bool {
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The valid tokens, by name, as the daemon knows them.
pub struct TokenCache {
    tokens: RwLock<HashMap<String, TokenHash>>,
    /// The name of every token revoked, so the HTTP face can end its
    /// sessions.
    revoked: broadcast::Sender<String>,
}

impl Default for TokenCache {
    fn default() -> Self {
        TokenCache {
            tokens: RwLock::default(),
            revoked: broadcast::channel(64).0,
        }
    }
}

impl TokenCache {
    /// Replaces the whole cache, at start-up.
    pub fn load(&self, tokens: impl IntoIterator<Item = (String, TokenHash)>) {
        if let Ok(mut map) = self.tokens.write() {
            *map = tokens.into_iter().collect();
        }
    }

    pub fn insert(&self, name: String, hash: TokenHash) {
        if let Ok(mut map) = self.tokens.write() {
            map.insert(name, hash);
        }
    }

    pub fn revoke(&self, name: &str) {
        if let Ok(mut map) = self.tokens.write() {
            map.remove(name);
        }
        // Nobody listening is fine: no HTTP face runs.
        let _ = self.revoked.send(name.to_owned());
    }

    /// The name and digest of the token `token`, if it is valid. Every
    /// known digest is compared, in constant time each.
    pub fn check(&self, token: &str) -> Option<(String, TokenHash)> {
        let presented = hash(token);
        let map = self.tokens.read().ok()?;
        let mut found = None;
        for (name, digest) in map.iter() {
            if digests_equal(digest, &presented) {
                found = Some((name.clone(), *digest));
            }
        }
        found
    }

    /// The names of tokens revoked from now on.
    pub fn revocations(&self) -> broadcast::Receiver<String> {
        self.revoked.subscribe()
    }
}

#[cfg(test)]
mod tests;
