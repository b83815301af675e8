//! Where the shim's operations run: the daemon, reached through a
//! [`Client`] that connects (or starts the daemon) on the first call, so
//! `initialize` and `tools/list` never wait for it.
//!
//! Each write gets a request id here, once, before the first attempt; the
//! client's retries reuse it, so a write is applied once however often the
//! connection breaks.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use crate::client::{Client, ClientConfig, ClientError};
use crate::model::{GraphOp, OpError, Outcome};
use crate::protocol::{Op, Reply};

/// Why a call produced no outcome.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The operation was refused; nothing changed.
    #[error(transparent)]
    Op(#[from] OpError),
    /// The daemon could not be reached. `may_have_written` says whether a
    /// write could have been applied before the failure.
    #[error("{reason}")]
    Unavailable {
        reason: String,
        may_have_written: bool,
    },
}

/// How the shim reaches the graph.
pub struct Backend {
    client: Client,
    /// Unique per shim process, so request ids never collide across sessions.
    session: u64,
    next_request: AtomicU64,
}

impl Backend {
    pub fn new(config: ClientConfig) -> Backend {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Backend {
            client: Client::new(config),
            session: nanos ^ (u64::from(std::process::id()) << 32),
            next_request: AtomicU64::new(1),
        }
    }

    /// Runs one operation on the daemon.
    pub async fn call(&self, op: GraphOp) -> Result<Outcome, CallError> {
        self.call_as(op, None).await
    }

    /// Runs one operation on the daemon; a write's change is credited to
    /// `author` when given.
    pub async fn call_as(
        &self,
        op: GraphOp,
        author: Option<crate::model::Author>,
    ) -> Result<Outcome, CallError> {
        let is_write = op.is_write();
        let request_id = is_write.then(|| {
            let seq = self.next_request.fetch_add(1, Ordering::Relaxed);
            (u128::from(self.session) << 64) | u128::from(seq)
        });
        let request = match author {
            Some(author) => Op::Authored {
                op,
                request_id,
                author: Box::new(author),
            },
            None => Op::Graph { op, request_id },
        };
        match self.client.request(request).await {
            Ok(Reply::Graph(outcome)) => Ok(outcome),
            Ok(_) => Err(CallError::Unavailable {
                reason: "the daemon answered with the wrong kind of reply".into(),
                may_have_written: is_write,
            }),
            Err(ClientError::Op(e)) => Err(CallError::Op(e)),
            Err(e) => Err(CallError::Unavailable {
                may_have_written: is_write && matches!(e, ClientError::Disconnected),
                reason: crate::error_chain(&e),
            }),
        }
    }

    /// Starts or stops change notices from other sessions.
    pub async fn set_subscribed(&self, on: bool) -> Result<(), CallError> {
        self.client
            .set_subscribed(on)
            .await
            .map_err(|e| CallError::Unavailable {
                reason: crate::error_chain(&e),
                may_have_written: false,
            })
    }

    /// A notice for every write made by another session, while subscribed.
    pub fn foreign_changes(&self) -> broadcast::Receiver<()> {
        self.client.events()
    }
}
