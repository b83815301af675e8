//! The MCP client shared by the examples that drive the real `memgraphd`
//! binary: a private home whose daemon is stopped on drop ([`Home`]), MCP
//! sessions on `memgraphd mcp` processes (or any MCP server on stdio) with
//! reply timeouts ([`Session`]), a few measuring helpers ([`rss_kib`],
//! [`percentile`]), and a made-up memory every run draws the same
//! ([`synthetic`]).
//!
//! Each example includes it with `mod common;` and uses a part of it.

#![allow(dead_code)]

pub mod synthetic;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value};

/// How long any single reply may take before the client gives up.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The MCP protocol version the client asks for.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// The `memgraphd` binary: `MEMGRAPHD_BIN`, else the one cargo built beside
/// the running example (`target/<profile>/memgraphd`).
pub fn binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MEMGRAPHD_BIN") {
        let path = PathBuf::from(path);
        ensure!(
            path.is_file(),
            "MEMGRAPHD_BIN={} is not a file",
            path.display()
        );
        return Ok(path);
    }
    // The example runs as target/<profile>/examples/<name>.
    let exe = std::env::current_exe().context("finding the running example")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{} has no target directory", exe.display()))?;
    let path = profile_dir.join(format!("memgraphd{}", std::env::consts::EXE_SUFFIX));
    if !path.is_file() {
        let build = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("release") => "cargo build --release".to_string(),
            Some("debug") | None => "cargo build".to_string(),
            Some(profile) => format!("cargo build --profile {profile}"),
        };
        bail!(
            "{} not found: run `{build}` first (or set MEMGRAPHD_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// A private memgraphd home (its database and socket in a temporary
/// directory); dropping it stops the daemon with `memgraphd stop`.
pub struct Home {
    pub bin: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Home {
    /// A fresh home for the [`binary`]. Keep the prefix short: socket paths
    /// must stay under about 100 bytes.
    pub fn new(prefix: &str) -> Result<Home> {
        let bin = binary()?;
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("creating a temp dir")?;
        Ok(Home { bin, dir })
    }

    /// A `memgraphd` command confined to this home (and to its log).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("MEMGRAPHD_DB", self.dir.path().join("memory.db"))
            .env(
                "MEMGRAPHD_SOCKET",
                self.dir.path().join("run").join("d.sock"),
            )
            .env_remove("MEMGRAPHD_LOG")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Runs `memgraphd <args>` to completion, its output captured.
    pub fn output(&self, args: &[&str]) -> Result<Output> {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running memgraphd {}", args.join(" ")))
    }

    /// `memgraphd --version`, or `?` and why not.
    pub fn version(&self) -> String {
        self.output(&["--version"])
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("? ({e:#})"))
    }

    /// An MCP session that has completed `initialize`; the shim's stderr is
    /// shown.
    pub fn session(&self, name: &str) -> Result<Session> {
        Session::start(name, self.command(&["mcp"]), Stdio::inherit())
    }

    /// A session on `memgraphd mcp <args>`, its stderr discarded.
    pub fn session_with(&self, name: &str, args: &[&str]) -> Result<Session> {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        Session::start(name, self.command(&all), Stdio::null())
    }

    /// Like [`Home::session`], with the shim's stderr discarded.
    pub fn quiet_session(&self, name: &str) -> Result<Session> {
        Session::start(name, self.command(&["mcp"]), Stdio::null())
    }

    /// Stops the daemon, if one runs.
    pub fn stop_daemon(&self) -> Result<()> {
        let out = self.output(&["stop"])?;
        if !out.status.success() {
            bail!(
                "`memgraphd stop` failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Whether a daemon answers `memgraphd status`.
    pub fn daemon_running(&self) -> Result<bool> {
        Ok(self.output(&["status"])?.status.success())
    }

    /// The daemon's pid, from `memgraphd X is running (pid N, protocol 1)`.
    pub fn daemon_pid(&self) -> Result<u32> {
        let out = self.output(&["status"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|line| {
                let rest = line.split_once("(pid ")?.1;
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .with_context(|| {
                format!(
                    "no pid in `memgraphd status` output ({}): {text}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if let Err(e) = self.stop_daemon() {
            let program = std::env::current_exe()
                .ok()
                .and_then(|exe| Some(exe.file_stem()?.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "example".to_string());
            eprintln!("{program}: stopping the daemon at exit: {e:#}");
        }
    }
}

/// A line the server wrote, as the reader thread saw it, with when its last
/// byte arrived (so a reply's time excludes this client's JSON parsing).
enum Incoming {
    Message(Value, Instant),
    NotJson(String),
    Closed,
}

/// A blocking MCP client on one live `memgraphd mcp` process (a shim).
pub struct Session {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Incoming>,
    next_id: u64,
    reply_timeout: Duration,
    last_reply_at: Option<Instant>,
    /// Notifications (and requests from the server) that arrived while
    /// waiting for answers, oldest first.
    pub notifications: Vec<Value>,
}

impl Session {
    /// Spawns `command` (a `memgraphd mcp`, or any MCP server on stdio) and
    /// initializes the session.
    pub fn start(name: &str, mut command: Command, stderr: Stdio) -> Result<Session> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| {
                let bin = Path::new(command.get_program()).display();
                format!("spawning {bin} mcp for {name}")
            })?;
        let stdin = child
            .stdin
            .take()
            .context("the shim's stdin is not piped")?;
        let stdout = child
            .stdout
            .take()
            .context("the shim's stdout is not piped")?;
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let arrived = Instant::now();
                let item = match serde_json::from_str(&line) {
                    Ok(value) => Incoming::Message(value, arrived),
                    Err(_) => Incoming::NotJson(line),
                };
                if tx.send(item).is_err() {
                    return;
                }
            }
            let _ = tx.send(Incoming::Closed);
        });
        let mut session = Session {
            name: name.into(),
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 0,
            reply_timeout: REPLY_TIMEOUT,
            last_reply_at: None,
            notifications: Vec::new(),
        };
        session.initialize()?;
        Ok(session)
    }

    /// `initialize`, checking the protocol version, then `initialized`.
    fn initialize(&mut self) -> Result<Value> {
        let answer = self.request(
            "initialize",
            json!({
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "memgraphd-example", "version": "0"}
            }),
        )?;
        if answer["protocolVersion"] != PROTOCOL_VERSION {
            bail!(
                "{}: initialize answered an unexpected protocolVersion: {answer}",
                self.name
            );
        }
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(answer)
    }

    /// The shim's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How long each later reply may take ([`REPLY_TIMEOUT`] until set).
    pub fn set_reply_timeout(&mut self, timeout: Duration) {
        self.reply_timeout = timeout;
    }

    /// When the last byte of the latest reply to a request arrived.
    pub fn last_reply_at(&self) -> Option<Instant> {
        self.last_reply_at
    }

    /// Writes one message, as a line.
    pub fn send(&mut self, message: &Value) -> Result<()> {
        let name = &self.name;
        let stdin = self
            .stdin
            .as_mut()
            .with_context(|| format!("{name}: the shim's stdin is closed"))?;
        let mut line = message.to_string();
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.flush())
            .with_context(|| format!("{name}: writing to the shim's stdin"))
    }

    /// The next message from the shim, waiting until `deadline`; `waiting_for`
    /// says what for, in errors.
    fn receive_until(&mut self, deadline: Instant, waiting_for: &str) -> Result<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(Incoming::Message(message, arrived)) => {
                if message.get("method").is_none() {
                    self.last_reply_at = Some(arrived);
                }
                Ok(message)
            }
            Ok(Incoming::NotJson(line)) => bail!(
                "{}: the shim wrote a line that is not JSON while waiting for {waiting_for}: {line}",
                self.name
            ),
            Ok(Incoming::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => bail!(
                "{}: the shim closed stdout while waiting for {waiting_for}",
                self.name
            ),
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "{}: no message from shim pid {} within {}s while waiting for {waiting_for}",
                self.name,
                self.pid(),
                self.reply_timeout.as_secs()
            ),
        }
    }

    /// The next notification (or request from the server): a kept one, else
    /// the next to arrive within [`REPLY_TIMEOUT`].
    pub fn notification(&mut self) -> Result<Value> {
        if !self.notifications.is_empty() {
            return Ok(self.notifications.remove(0));
        }
        let deadline = Instant::now() + self.reply_timeout;
        loop {
            let message = self.receive_until(deadline, "a notification")?;
            if message.get("method").is_some() {
                return Ok(message);
            }
        }
    }

    /// Sends a request and returns its `result`; a JSON-RPC error, or no
    /// reply within the reply timeout, is an error. Notifications that arrive
    /// meanwhile are kept in [`Session::notifications`].
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        let mut message = self.request_message(method, params)?;
        match message.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => bail!("{}: {method} failed: {message}", self.name),
        }
    }

    /// Sends a request and returns the whole response message, `result` or
    /// `error`; only no reply within the reply timeout (or a dead server) is
    /// an error.
    pub fn request_message(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + self.reply_timeout;
        let waiting_for = format!("the reply to {method} (id {id})");
        loop {
            let message = self.receive_until(deadline, &waiting_for)?;
            if message.get("method").is_some() {
                self.notifications.push(message);
                continue;
            }
            if message["id"].as_u64() == Some(id) {
                return Ok(message);
            }
        }
    }

    /// Calls a tool and returns its result (which may carry `isError`).
    pub fn call_tool(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Closes stdin, as a client does at the end of a session, and waits for
    /// the shim to exit.
    pub fn close(mut self) -> Result<()> {
        self.stdin.take();
        match self.wait_exit(Duration::from_secs(10))? {
            Some(_) => Ok(()),
            None => bail!(
                "{}: shim pid {} did not exit within 10s of its stdin closing",
                self.name,
                self.pid()
            ),
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().context("polling the shim")? {
                return Ok(Some(status));
            }
            if Instant::now() >= deadline {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Session {
    /// Closes stdin and gives the shim a moment to exit, then kills it.
    fn drop(&mut self) {
        self.stdin.take();
        if !matches!(self.wait_exit(Duration::from_secs(5)), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// VmRSS of a process, in KiB (Linux).
pub fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix("VmRSS:")?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .with_context(|| format!("no VmRSS line in {path}"))
}

/// The p-th percentile (0..=100, nearest rank) of the samples, or the
/// default (zero) when there are none; sorts them.
pub fn percentile<T: Ord + Copy + Default>(samples: &mut [T], p: f64) -> T {
    if samples.is_empty() {
        return T::default();
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}
