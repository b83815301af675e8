//! The actor's token jobs: the admin requests (`memgraphd token …`), the
//! digests the HTTP face caches, and when tokens were last used.

use super::{op_error, AnswerTo, DbError, DbHandle, Job};
use crate::model::OpError;
use crate::protocol::{TokenOp, TokenReply};
use crate::store::{Store, StoreError};
use crate::tokens::TokenHash;

pub(super) enum TokenJob {
    Admin {
        op: TokenOp,
        reply: AnswerTo<TokenReply>,
    },
    Hashes {
        reply: AnswerTo<Vec<(String, TokenHash)>>,
    },
    Used {
        used: Vec<(String, i64)>,
    },
}

impl TokenJob {
    pub(super) fn serve(self, store: &mut Store) {
        match self {
            TokenJob::Admin { op, reply } => {
                let _ = reply.send(admin(store, op).map_err(token_error));
            }
            TokenJob::Hashes { reply } => {
                let _ = reply.send(store.token_hashes().map_err(op_error));
            }
            TokenJob::Used { used } => {
                if let Err(e) = store.touch_tokens(&used) {
                    tracing::warn!("recording token use: {}", crate::error_chain(&e));
                }
            }
        }
    }
}

fn admin(store: &mut Store, op: TokenOp) -> Result<TokenReply, StoreError> {
    Ok(match op {
        TokenOp::Add { name, hash } => {
            TokenReply::Added(store.add_token(&name, &hash, crate::store::now_millis())?)
        }
        TokenOp::List => TokenReply::Listed(store.list_tokens()?),
        TokenOp::Revoke { name } => {
            store.revoke_token(&name)?;
            TokenReply::Revoked { name }
        }
    })
}

/// A caller's mistake says what to fix; anything else is the store's.
fn token_error(e: StoreError) -> OpError {
    if e.is_caller_error() {
        OpError::Invalid(e.to_string())
    } else {
        op_error(e)
    }
}

impl DbHandle {
    /// Adds, lists or revokes a token.
    pub async fn token(&self, op: TokenOp) -> Result<TokenReply, DbError> {
        Ok(self
            .ask(|reply| Job::Tokens(TokenJob::Admin { op, reply }))
            .await??)
    }

    /// The name and digest of every token.
    pub async fn token_hashes(&self) -> Result<Vec<(String, TokenHash)>, DbError> {
        Ok(self
            .ask(|reply| Job::Tokens(TokenJob::Hashes { reply }))
            .await??)
    }

    /// Records when tokens were last used. Best effort: a busy queue skips
    /// it, and the next use records it again.
    pub fn tokens_used(&self, used: Vec<(String, i64)>) {
        let _ = self.jobs.try_send(Job::Tokens(TokenJob::Used { used }));
    }
}
