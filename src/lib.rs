//! memgraphd: one knowledge-graph memory shared by every AI coding session on
//! a machine.
//!
//! An MCP client launches `memgraphd mcp` (the *shim*), which speaks MCP on
//! stdio and forwards typed operations over a local socket to `memgraphd
//! serve` (the *daemon*), which it starts if none is running. The daemon runs
//! every operation on one writer thread ([`daemon::actor`]) that owns the
//! SQLite file ([`store`]).
//!
//! # Code map
//! - [`model`]: the graph vocabulary: entities, relations, operations, outcomes.
//! - [`limits`]: the size limits of the contract and their one checker.
//! - [`store`]: schema, migrations, the operations on SQLite, legacy readers.
//! - [`daemon`]: lock, socket, accept loop, connections, the writer actor.
//! - [`protocol`]: shim↔daemon frames (length-prefixed bincode).
//! - [`client`]: connect-or-spawn, multiplexed requests, retries; used by the
//!   shim and the admin commands.
//! - [`shim`]: the MCP face: transport, tool definitions, validation,
//!   rendering, resources, notifications.
//! - [`admin`]: status, stop, import, export, backup, doctor.
//! - [`transfer`]: the official server's JSONL format, both ways.
//! - [`cli`]: the command line: arguments, what each subcommand prints.
//! - [`config`]: where the database, socket, lock and log live.
//! - [`project`]: which project a session works on (env, MCP roots, git).
//! - [`provenance`]: who makes a change: session, client, project, cwd.
//! - [`recall`]: what the Claude Code hooks show a session unasked.
//!
//! # Invariants
//! - Only `store` names `rusqlite`. Only the actor thread holds a `Store`.
//! - The shim never opens the database; the daemon never sees JSON-RPC.
//!   Agents do not notice a daemon restart.
//! - Nothing reachable from `shim::run` writes to stdout except the MCP
//!   transport's writer, because stdout is the JSON-RPC channel.
//! - Every write carries a request id recorded in its own transaction, so a
//!   retried write is applied at most once.

pub mod admin;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod limits;
pub mod model;
pub mod project;
pub mod protocol;
pub mod provenance;
pub mod recall;
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
