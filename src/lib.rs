//! memgraphd: one knowledge-graph memory shared by every AI coding session on
//! a machine.
//!
//! An MCP client launches `memgraphd mcp` (the *shim*), which speaks MCP on
//! stdio and forwards typed operations over a local socket to `memgraphd
//! serve` (the *daemon*), starting it if none runs. The daemon runs every
//! operation on one writer thread ([`daemon::actor`]) that owns the SQLite
//! file ([`store`]).
//!
//! `docs/ARCHITECTURE.md` in the repository has the full code map, the route
//! of one tool call end to end, and how to add a tool; `docs/TOOLS.md` is the
//! MCP contract.
//!
//! # Code map
//! A tool call travels [`cli`] → [`shim`] → [`client`] → [`protocol`] →
//! [`daemon`] → [`store`]. Each module uses only those after it, except that
//! the daemon speaks the protocol too; [`admin`] is the other user of the
//! client. [`model`] is the vocabulary of them all, and [`limits`],
//! [`config`], [`instance`] (one daemon per database: the lock, the socket,
//! spawning; shared by the daemon and its clients), [`privacy`],
//! [`measure`] (how many characters a graph answer renders to, unrendered)
//! and [`jsonl`] serve them. Beside the route, [`project`] (which project a
//! session works on), [`provenance`] (who makes a change) and [`recall`]
//! (what the Claude Code hooks show a session unasked) serve the shim and
//! the hook commands. [`http`] is the daemon's HTTP face, which runs the
//! shim's tool layer in the daemon's process; [`tokens`] are its bearer
//! tokens. [`ui`] is the daemon's web view (`memgraphd ui`), on a loopback
//! listener of its own, reaching the graph through the writer actor too.
//!
//! # Invariants
//! - Only `store` names `rusqlite`. Only the actor thread holds a `Store`.
//! - The shim never opens the database; the daemon never sees JSON-RPC.
//! - Nothing reachable from `shim::run` writes to stdout except the MCP
//!   transport's writer, because stdout is the JSON-RPC channel.
//! - Acknowledged means committed, and a retried write is applied at most
//!   once: its request id is recorded in the same transaction.

pub mod admin;
pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod http;
pub mod instance;
pub mod jsonl;
pub mod limits;
pub mod measure;
pub mod model;
pub mod privacy;
pub mod project;
pub mod protocol;
pub mod provenance;
pub mod recall;
pub mod shim;
pub mod store;
pub mod tokens;
pub mod ui;

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
