//! The token admin messages: `memgraphd token add|list|revoke` ask the
//! daemon, which alone writes the token table and keeps the HTTP face's
//! cache of valid tokens in step with it (see [`crate::tokens`]).

use serde::{Deserialize, Serialize};

/// A request about tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenOp {
    /// Store a new token under `name`. Only its SHA-256 digest travels: the
    /// client made the token and shows it to the user.
    Add {
        name: String,
        hash: [u8; 32],
    },
    List,
    /// End the token `name` at once, for open sessions too.
    Revoke {
        name: String,
    },
}

/// The answer to a [`TokenOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenReply {
    Added(TokenInfo),
    Listed(Vec<TokenInfo>),
    Revoked { name: String },
}

/// What `memgraphd token list` shows of one token; never the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub name: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}
