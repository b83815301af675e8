//! Two MCP sessions on one daemon, through the real `memgraphd` binary: a
//! write by one session is read by the other, which is also notified.
//!
//! ```sh
//! cargo build && cargo run --example two_sessions
//! ```
//!
//! It uses a temporary database and stops its daemon at the end.

mod common;

use anyhow::{bail, Result};
use serde_json::json;

fn main() -> Result<()> {
    let home = common::Home::new("mg2")?;
    let mut reader = home.session("reader")?;
    let mut writer = home.session("writer")?;
    reader.request(
        "resources/subscribe",
        json!({"uri": "memory://knowledge-graph"}),
    )?;

    let entity = json!({"name": "memgraphd", "entityType": "project",
        "observations": ["written in Rust", "one daemon, many sessions"]});
    println!("[writer] -> create_entities {entity}");
    writer.call_tool("create_entities", json!({"entities": [entity]}))?;

    // The reader is told about the change...
    let notice = reader.notification()?;
    println!("[reader] <- {} {}", notice["method"], notice["params"]);
    // ...and sees it.
    println!("[reader] -> search_nodes {{\"query\": \"daemon\"}}");
    let found = reader.call_tool("search_nodes", json!({"query": "daemon"}))?;
    let graph = &found["structuredContent"];
    println!("[reader] found: {}", serde_json::to_string_pretty(graph)?);
    if graph["entities"][0]["name"] != "memgraphd" {
        bail!("the reader did not see the writer's entity");
    }
    println!("ok: a write by one session was seen, and announced, in the other");
    Ok(())
}
