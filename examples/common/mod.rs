//! A minimal MCP client over a real `memgraphd mcp` process, shared by the
//! examples: spawn, initialize, call tools, read notifications.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// The `memgraphd` binary: `MEMGRAPHD_BIN`, else the one cargo built beside
/// the running example (`target/<profile>/memgraphd`).
pub fn binary() -> Result<PathBuf> {
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
            "{} not found: run `cargo build` (or `cargo build --release`) first, or set MEMGRAPHD_BIN",
            bin.display()
        );
    }
    Ok(bin)
}

/// A private memgraphd home: its database and socket, and a daemon that is
/// stopped when this is dropped.
pub struct Home {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new(prefix: &str) -> Result<Home> {
        Ok(Home {
            bin: binary()?,
            dir: tempfile::Builder::new().prefix(prefix).tempdir()?,
        })
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("MEMGRAPHD_DB", self.dir.path().join("memory.db"))
            .env(
                "MEMGRAPHD_SOCKET",
                self.dir.path().join("run").join("d.sock"),
            );
        cmd
    }

    pub fn session(&self, name: &str) -> Result<Session> {
        Session::start(name, self.command(&["mcp"]))
    }

    /// The daemon's pid, from `memgraphd status`.
    pub fn daemon_pid(&self) -> Option<u32> {
        let out = self.command(&["status"]).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("(pid ")
            .nth(1)?
            .split(',')
            .next()?
            .trim()
            .parse()
            .ok()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self
            .command(&["stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// An MCP client on one `memgraphd mcp` process.
pub struct Session {
    pub name: String,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
    /// Notifications that arrived while waiting for answers.
    pub notifications: Vec<Value>,
}

impl Session {
    fn start(name: &str, mut command: Command) -> Result<Session> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("starting memgraphd mcp")?;
        let stdin = child.stdin.take().context("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("no stdout")?);
        let mut session = Session {
            name: name.into(),
            child,
            stdin,
            stdout,
            next_id: 0,
            notifications: Vec::new(),
        };
        session.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "memgraphd-example", "version": "1"}
            }),
        )?;
        session.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(session)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, message: &Value) -> Result<()> {
        writeln!(self.stdin, "{message}")?;
        Ok(self.stdin.flush()?)
    }

    pub fn receive(&mut self) -> Result<Value> {
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("{} closed its output", self.name);
        }
        Ok(serde_json::from_str(&line)?)
    }

    /// Sends a request and returns its result; notifications that arrive
    /// meanwhile are kept.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let message = self.receive()?;
            if message["id"] == json!(id) {
                return message
                    .get("result")
                    .cloned()
                    .with_context(|| format!("{method} failed: {message}"));
            }
            self.notifications.push(message);
        }
    }

    /// Calls a tool; returns the whole result (which may have `isError`).
    pub fn call(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process in KiB (Linux; 0 elsewhere).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// The p-th percentile (0..=100) of sorted microsecond samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
