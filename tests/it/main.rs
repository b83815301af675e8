//! End-to-end tests: the real `memgraphd` binary, driven over stdio the way
//! an MCP client drives it, each test on its own temporary database.

mod admin;
mod big;
mod conformance;
mod daemon;
#[cfg(unix)]
mod faults;
mod history;
mod hooks;
#[cfg(unix)]
mod hostile;
#[cfg(unix)]
mod http;
#[cfg(unix)]
mod privacy;
mod project;
#[cfg(unix)]
mod replication;
mod retrieval;
#[cfg(target_os = "linux")]
mod startup;
mod support;
#[cfg(unix)]
mod ui;
