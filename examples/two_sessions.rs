//! Two MCP sessions on one daemon, through the real `memgraphd` binary: a
//! write by one session is read by the other, which is also notified.
//!
//! ```sh
//! cargo build && cargo run --example two_sessions
//! ```
//!
//! It uses a temporary database and stops its daemon at the end.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// An MCP client on one `memgraphd mcp` process.
struct Session {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl Session {
    fn start(name: &'static str, bin: &Path, home: &Path) -> Result<Session> {
        let mut child = Command::new(bin)
            .arg("mcp")
            .env("MEMGRAPHD_DB", home.join("memory.db"))
            .env("MEMGRAPHD_SOCKET", home.join("run").join("d.sock"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut session = Session {
            name,
            child,
            stdin,
            stdout,
            next_id: 0,
        };
        session.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "two_sessions", "version": "1"}
            }),
        )?;
        session.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(session)
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        writeln!(self.stdin, "{message}")?;
        Ok(self.stdin.flush()?)
    }

    fn receive(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("{} closed its output", self.name);
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// Sends a request and returns its result, printing notifications that
    /// arrive meanwhile.
    fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let message = self.receive()?;
            if message["id"] == json!(id) {
                return message
                    .get("result")
                    .cloned()
                    .context(format!("{method} failed: {message}"));
            }
            println!("[{}] <- {}", self.name, message["method"]);
        }
    }

    fn call(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        println!("[{}] -> {tool} {arguments}", self.name);
        let result = self.request("tools/call", json!({"name": tool, "arguments": arguments}))?;
        Ok(result["structuredContent"].clone())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `memgraphd` binary: `MEMGRAPHD_BIN`, else the one cargo built beside
/// this example.
fn binary() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("MEMGRAPHD_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("no target directory")?;
    let bin = dir.join(format!("memgraphd{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        bail!(
            "{} not found: run `cargo build` first, or set MEMGRAPHD_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

fn main() -> Result<()> {
    let bin = binary()?;
    let home = tempfile::Builder::new().prefix("mg2").tempdir()?;
    let result = run(&bin, home.path());
    let _ = Command::new(&bin)
        .arg("stop")
        .env("MEMGRAPHD_DB", home.path().join("memory.db"))
        .env("MEMGRAPHD_SOCKET", home.path().join("run").join("d.sock"))
        .stdout(Stdio::null())
        .status();
    result
}

fn run(bin: &Path, home: &Path) -> Result<()> {
    let mut reader = Session::start("reader", bin, home)?;
    let mut writer = Session::start("writer", bin, home)?;
    reader.request(
        "resources/subscribe",
        json!({"uri": "memory://knowledge-graph"}),
    )?;

    writer.call("create_entities", json!({"entities": [
        {"name": "memgraphd", "entityType": "project", "observations": ["written in Rust", "one daemon, many sessions"]}
    ]}))?;

    // The reader was told about the change...
    let notice = reader.receive()?;
    println!("[reader] <- {} {}", notice["method"], notice["params"]);
    // ...and sees it.
    let found = reader.call("search_nodes", json!({"query": "daemon"}))?;
    println!("[reader] found: {}", serde_json::to_string_pretty(&found)?);
    if found["entities"][0]["name"] != "memgraphd" {
        bail!("the reader did not see the writer's entity");
    }
    println!("ok: a write by one session was seen, and announced, in the other");
    Ok(())
}
