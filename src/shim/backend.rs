//! Where a session's operations run. [`Backend`] is what the tool layer
//! ([`super::server::MemoryServer`]) needs: run an operation, start or stop
//! change notices, and a receiver of other sessions' changes. It has two
//! implementations:
//!
//! - [`SocketBackend`], for `memgraphd mcp`: the daemon reached through a
//!   [`Client`] that connects (or starts the daemon) on the first call, so
//!   `initialize` and `tools/list` never wait for it. Each write gets a
//!   request id here, once, before the first attempt; the client's retries
//!   reuse it, so a write is applied once however often the connection
//!   breaks.
//! - the in-process backend of the daemon's HTTP sessions
//!   (`crate::http::backend`), which sends operations to the writer actor
//!   directly.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use crate::client::{Client, ClientConfig, ClientError};
use crate::model::{Author, GraphOp, OpError, Outcome};
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

/// A boxed future of a backend call, so that [`Backend`] can be a trait
/// object shared by the session's handler.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// How a session reaches the graph.
pub trait Backend: Send + Sync {
    /// Runs one operation; a write's change is credited to `author` when
    /// given (the daemon fills in the actor when the author names none).
    fn call(&self, op: GraphOp, author: Option<Author>) -> BackendFuture<'_, Outcome>;

    /// Starts or stops change notices from other sessions.
    fn set_subscribed(&self, on: bool) -> BackendFuture<'_, ()>;

    /// A notice for every write made by another session, while subscribed.
    fn foreign_changes(&self) -> broadcast::Receiver<()>;

    /// Who makes this session's changes, when the transport knows better
    /// than the local user: the name of the bearer token of an HTTP
    /// session. `None` for a local shim.
    fn actor(&self) -> Option<&str> {
        None
    }
}

/// The shim's backend: the daemon, over the local socket.
pub struct SocketBackend {
    client: Client,
    /// Unique per shim process, so request ids never collide across sessions.
    session: u64,
    next_request: AtomicU64,
}

impl SocketBackend {
    pub fn new(config: ClientConfig) -> SocketBackend {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        SocketBackend {
            client: Client::new(config),
            session: nanos ^ (u64::from(std::process::id()) << 32),
            next_request: AtomicU64::new(1),
        }
    }

    async fn run(&self, op: GraphOp, author: Option<Author>) -> Result<Outcome, CallError> {
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
            // Refused by this side's bound instead of the daemon's: the
            // same failure, so the same words.
            Err(e @ ClientError::ReplyTooLarge { .. }) => {
                Err(CallError::Op(OpError::Unanswerable(e.to_string())))
            }
            Err(e) => Err(CallError::Unavailable {
                may_have_written: is_write && matches!(e, ClientError::Disconnected),
                reason: crate::error_chain(&e),
            }),
        }
    }
}

impl Backend for SocketBackend {
    fn call(&self, op: GraphOp, author: Option<Author>) -> BackendFuture<'_, Outcome> {
        Box::pin(self.run(op, author))
    }

    fn set_subscribed(&self, on: bool) -> BackendFuture<'_, ()> {
        Box::pin(async move {
            self.client
                .set_subscribed(on)
                .await
                .map_err(|e| CallError::Unavailable {
                    reason: crate::error_chain(&e),
                    may_have_written: false,
                })
        })
    }

    fn foreign_changes(&self) -> broadcast::Receiver<()> {
        self.client.events()
    }
}
