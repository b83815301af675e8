//! End-to-end tests: the real `memgraphd` binary, driven over stdio the way
//! an MCP client drives it, each test on its own temporary database.

mod admin;
mod conformance;
mod daemon;
#[cfg(unix)]
mod faults;
mod history;
mod hooks;
#[cfg(unix)]
mod hostile;
mod project;
mod retrieval;
mod support;
