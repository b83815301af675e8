//! The MCP face of memgraphd (`memgraphd mcp`): one agent session on stdio.
//!
//! - [`transport`]: newline-delimited JSON-RPC on stdin/stdout, with limits.
//! - [`server`]: the rmcp handler: tools, resource, subscriptions.
//! - [`args`]: JSON arguments to typed operations, with field-path errors.
//! - [`render`]: outcomes to the exact text and structured JSON of the contract.
//! - [`backend`]: where operations run.
//!
//! # Invariant
//! Nothing here writes to stdout except the transport's writer task: stdout
//! is the JSON-RPC channel. Logs go to stderr.

pub mod args;
pub mod backend;
pub mod render;
pub mod server;
pub mod transport;

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::ServiceExt;

use crate::store::Durability;
use backend::Backend;
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

/// Where the session's memory lives.
#[derive(Debug, Clone)]
pub struct ShimConfig {
    pub db_path: PathBuf,
    pub durability: Durability,
}

/// Serves one MCP session on stdin/stdout until stdin closes.
pub async fn run(config: ShimConfig) -> Result<(), ShimError> {
    let backend = Arc::new(Backend::new(config.db_path, config.durability));
    let server = MemoryServer::new(backend.clone())?;
    let transport = LineTransport::new(tokio::io::stdin(), tokio::io::stdout());
    let session = server
        .serve(transport)
        .await
        .map_err(|e| ShimError::Start(Box::new(e)))?;
    let waited = session.waiting().await;
    if let Ok(backend) = Arc::try_unwrap(backend) {
        backend.close();
    }
    waited
        .map(|_| ())
        .map_err(|e| ShimError::Session(Box::new(e)))
}
