//! The MCP face of memgraphd (`memgraphd mcp`): one agent session on stdio.
//!
//! - [`transport`]: newline-delimited JSON-RPC on stdin/stdout, with limits.
//! - [`server`]: the rmcp handler: tools, resource, subscriptions.
//! - [`args`]: JSON arguments to typed operations, with field-path errors.
//! - [`call`]: memgraphd's own arguments and tools, and the size guard's settings.
//! - [`cursor`]: the opaque cursors of paged answers.
//! - [`history`]: `memory_history`, `undo`, `supersede_observation`.
//! - [`render`]: outcomes to the exact text and structured JSON of the contract.
//! - [`backend`]: where operations run: the daemon, through a client (or,
//!   for the daemon's HTTP sessions, the writer actor in the same process).
//! - [`session`]: the session's id, client, roots, project and provenance.
//! - `stdio`: stdin and stdout driven by the event loop when they are pipes.
//!
//! # Invariant
//! Nothing here writes to stdout except the transport's writer task: stdout
//! is the JSON-RPC channel. Logs go to stderr.

pub mod args;
pub mod backend;
pub mod call;
pub mod cursor;
pub mod history;
pub mod render;
pub mod server;
pub mod session;
mod stdio;
pub mod transport;

use std::sync::Arc;

use rmcp::ServiceExt;
use tokio::sync::broadcast::error::RecvError;

use crate::client::ClientConfig;
use backend::{Backend, SocketBackend};
use server::MemoryServer;
use transport::LineTransport;

/// Why a session could not run.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("loading the tool definitions")]
    Tools(#[from] serde_json::Error),
    #[error("the MCP session failed to start")]
    Start(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the MCP session ended abnormally")]
    Session(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Serves one MCP session on stdin/stdout until stdin closes.
pub async fn run(config: ClientConfig, settings: call::Settings) -> Result<(), ShimError> {
    let backend: Arc<dyn Backend> = Arc::new(SocketBackend::new(config));
    let server = MemoryServer::new(backend.clone(), settings)?.on_line_transport();
    let transport = LineTransport::new(stdio::input(), stdio::output());
    let session = server
        .clone()
        .serve(transport)
        .await
        .map_err(|e| ShimError::Start(Box::new(e)))?;
    let peer = session.peer().clone();
    let forward = tokio::spawn(forward_foreign_changes(
        server,
        peer,
        backend.foreign_changes(),
    ));
    let waited = session.waiting().await;
    forward.abort();
    waited
        .map(|_| ())
        .map_err(|e| ShimError::Session(Box::new(e)))
}

/// Turns the changes other sessions make into `notifications/resources/updated`
/// while the session is subscribed; ends when the session or the feed does.
pub(crate) async fn forward_foreign_changes(
    server: MemoryServer,
    peer: rmcp::Peer<rmcp::RoleServer>,
    mut changes: tokio::sync::broadcast::Receiver<()>,
) {
    loop {
        match changes.recv().await {
            Ok(()) | Err(RecvError::Lagged(_)) => {
                if server.is_subscribed() {
                    let notice = server::updated();
                    if peer.notify_resource_updated(notice).await.is_err() {
                        return;
                    }
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}
