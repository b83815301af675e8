//! memgraphd: one knowledge-graph memory shared by every AI coding session on
//! a machine.
//!
//! An MCP client launches `memgraphd mcp` (the *shim*), which speaks MCP on
//! stdio. Every operation runs on one writer thread ([`actor`]) that owns the
//! SQLite file ([`store`]).
//!
//! # Code map
//! - [`model`]: the graph vocabulary: entities, relations, operations, outcomes.
//! - [`limits`]: the size limits of the contract and their one checker.
//! - [`store`]: schema, migrations, the nine operations on SQLite.
//! - [`actor`]: the writer thread that owns the store, and its async handle.
//! - [`shim`]: the MCP face: tool definitions, validation, rendering, resources.
//!
//! # Invariants
//! - Only `store` names `rusqlite`. Only the actor thread holds a `Store`.
//! - Nothing reachable from `shim::run` writes to stdout except the MCP
//!   transport, because stdout is the JSON-RPC channel.

pub mod admin;
pub mod client;
pub mod config;
pub mod daemon;
pub mod limits;
pub mod model;
pub mod protocol;
pub mod shim;
pub mod store;
pub mod transfer;

/// Formats an error with its chain of causes, `outer: inner: innermost`, for
/// logs and for messages that cross the socket as text.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
