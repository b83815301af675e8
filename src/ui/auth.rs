//! Who may use the web view: single-use login tokens, and the browser
//! sessions they are exchanged for.
//!
//! `memgraphd ui` asks the daemon for a login token and hands it to the
//! browser in the URL's fragment. The page sends it once to `/api/login`,
//! which spends it and answers with a session cookie (`HttpOnly`, so no
//! script can read it) and a CSRF token for the page's writes. Both tables
//! live only in the daemon's memory: a daemon restart ends every session.
//!
//! Only SHA-256 digests of tokens and cookies are kept, so the tables hold
//! nothing a browser could present. Looking a digest up in a map is not
//! constant time, but what it could leak is a digest of a random 256-bit
//! value, which says nothing about a cookie that would match it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::tokens::{self, TokenError, TokenHash};

/// How long a login token may wait for its browser.
pub const LOGIN_TTL: Duration = Duration::from_secs(120);
/// A session unused this long is over.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);
/// Login tokens waiting at once; minting one more drops the oldest.
const MAX_LOGINS: usize = 16;
/// Sessions at once; a new one ends the least recently used.
const MAX_SESSIONS: usize = 64;

/// A session, as a request that presented its cookie sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// What the page must send in `X-CSRF-Token` with a write.
    pub csrf: String,
    /// A short public name of the session, for the history of its writes.
    pub label: String,
}

/// A login that succeeded: the cookie's value, and the session it opens.
#[derive(Debug, Clone)]
pub struct Login {
    pub cookie: String,
    pub session: Session,
}

struct Entry {
    session: Session,
    last_seen: Instant,
}

#[derive(Default)]
struct Tables {
    logins: Vec<(TokenHash, Instant)>,
    sessions: HashMap<TokenHash, Entry>,
}

/// The login tokens and sessions of one web view.
#[derive(Default)]
pub struct Auth {
    tables: Mutex<Tables>,
}

impl Auth {
    /// A new login token, valid once within [`LOGIN_TTL`] of `now`.
    pub fn mint_login(&self, now: Instant) -> Result<String, TokenError> {
        let token = tokens::generate()?;
        if let Ok(mut tables) = self.tables.lock() {
            tables
                .logins
                .retain(|(_, minted)| now.saturating_duration_since(*minted) < LOGIN_TTL);
            if tables.logins.len() >= MAX_LOGINS {
                tables.logins.remove(0);
            }
            tables.logins.push((tokens::hash(&token), now));
        }
        Ok(token)
    }

    /// Spends `token` and opens a session, if the token is known and fresh.
    /// A token is spent by the first try, whatever comes of it.
    pub fn login(&self, token: &str, now: Instant) -> Result<Option<Login>, TokenError> {
        let presented = tokens::hash(token);
        let Ok(mut tables) = self.tables.lock() else {
            return Ok(None);
        };
        let Some(at) = tables
            .logins
            .iter()
            .position(|(digest, _)| tokens::digests_equal(digest, &presented))
        else {
            return Ok(None);
        };
        let (_, minted) = tables.logins.remove(at);
        if now.saturating_duration_since(minted) >= LOGIN_TTL {
            return Ok(None);
        }
        let cookie = tokens::generate()?;
        let csrf = tokens::generate()?;
        let digest = tokens::hash(&cookie);
        let label: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let session = Session {
            csrf,
            label: format!("web-{label}"),
        };
        tables
            .sessions
            .retain(|_, e| now.saturating_duration_since(e.last_seen) < SESSION_IDLE);
        if tables.sessions.len() >= MAX_SESSIONS {
            let oldest = tables
                .sessions
                .iter()
                .min_by_key(|(_, e)| e.last_seen)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                tables.sessions.remove(&oldest);
            }
        }
        tables.sessions.insert(
            digest,
            Entry {
                session: session.clone(),
                last_seen: now,
            },
        );
        Ok(Some(Login { cookie, session }))
    }

    /// The session of `cookie`, if it is open; using it keeps it open.
    pub fn session(&self, cookie: &str, now: Instant) -> Option<Session> {
        let digest = tokens::hash(cookie);
        let mut tables = self.tables.lock().ok()?;
        let entry = tables.sessions.get_mut(&digest)?;
        if now.saturating_duration_since(entry.last_seen) >= SESSION_IDLE {
            tables.sessions.remove(&digest);
            return None;
        }
        entry.last_seen = now;
        Some(entry.session.clone())
    }
}

#[cfg(test)]
mod tests;
