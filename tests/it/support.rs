//! The test harness: a private memgraphd home per test, and an MCP client
//! that talks JSON-RPC to a real `memgraphd mcp` process over its stdio.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

/// How long any single answer may take before a test fails.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

/// A private home for one test: its own database, nothing shared.
pub struct TestEnv {
    // Keep the prefix short: socket paths must stay under about 100 bytes.
    home: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let home = tempfile::Builder::new()
            .prefix("mg")
            .tempdir()
            .expect("creating a temp dir");
        TestEnv { home }
    }

    /// This test's private directory, for its own files.
    pub fn home(&self) -> &std::path::Path {
        self.home.path()
    }

    pub fn db_path(&self) -> PathBuf {
        self.home.path().join("memory.db")
    }

    pub fn socket_path(&self) -> PathBuf {
        self.home.path().join("run").join("d.sock")
    }

    /// A `memgraphd` command confined to this test's files.
    pub fn memgraphd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_memgraphd"));
        cmd.args(args)
            .env("MEMGRAPHD_DB", self.db_path())
            .env("MEMGRAPHD_SOCKET", self.socket_path())
            .env_remove("MEMGRAPHD_LOG")
            .env_remove("RUST_LOG")
            // A session's identity and project come from these; a test sets
            // them itself, never inherits them from whoever runs it.
            .env_remove("MEMGRAPHD_PROJECT")
            .env_remove("CLAUDE_PROJECT_DIR")
            .env_remove("CLAUDE_CODE_SESSION_ID");
        cmd
    }

    /// A shim that has completed `initialize`.
    pub fn shim(&self) -> Shim {
        let mut shim = self.raw_shim();
        shim.initialize("2025-11-25");
        shim
    }

    /// A shim with extra arguments of `memgraphd mcp` and environment
    /// variables, past `initialize`.
    pub fn shim_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Shim {
        let mut all = vec!["mcp"];
        all.extend_from_slice(args);
        let mut cmd = self.memgraphd(&all);
        cmd.envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut shim = Shim::spawn(cmd);
        shim.initialize("2025-11-25");
        shim
    }

    /// A shim straight after spawning, before any message.
    pub fn raw_shim(&self) -> Shim {
        let mut cmd = self.memgraphd(&["mcp"]);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        Shim::spawn(cmd)
    }
}

impl Drop for TestEnv {
    /// Stops the daemon the shims started, the way a user would.
    fn drop(&mut self) {
        let _ = self
            .memgraphd(&["stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A JSON-RPC message the shim sent, as it arrived.
pub enum Incoming {
    Message(Value),
    Closed,
}

/// An MCP client on a live `memgraphd mcp` process.
pub struct Shim {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Incoming>,
    next_id: i64,
    /// Notifications received and not yet taken.
    pub notifications: Vec<Value>,
}

impl Shim {
    /// Spawns `cmd` (a `memgraphd mcp` with piped stdin and stdout).
    pub fn spawn(mut cmd: Command) -> Shim {
        Shim::new(cmd.spawn().expect("spawning memgraphd mcp"))
    }

    fn new(mut child: Child) -> Shim {
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("shim wrote a line that is not JSON ({e}): {line}"));
                if tx.send(Incoming::Message(value)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Incoming::Closed);
        });
        Shim {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 1000,
            notifications: Vec::new(),
        }
    }

    pub fn initialize(&mut self, version: &str) -> Value {
        let answer = self.request(
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "memgraphd-tests", "version": "0"}
            }),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        answer
    }

    /// Writes one raw line (a newline is added).
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.write_all(b"\n"))
            .and_then(|_| stdin.flush())
            .expect("writing to the shim");
    }

    /// Writes raw bytes, which need not be UTF-8.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin
            .write_all(bytes)
            .and_then(|_| stdin.flush())
            .expect("writing to the shim");
    }

    pub fn send(&mut self, message: &Value) {
        self.send_line(&message.to_string());
    }

    /// Sends a request and returns the whole response message.
    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message);
        self.answer_to(&json!(id))
    }

    /// Sends a request and returns its `result`, failing on a JSON-RPC error.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let answer = self.request_raw(method, params);
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!("{method} failed: {answer:#}"),
        }
    }

    /// Calls a tool and returns its result (which may have `isError`).
    pub fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Calls a tool and returns its structured content, failing on `isError`.
    pub fn call_ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments);
        assert_ne!(result["isError"], json!(true), "{tool} failed: {result:#}");
        result["structuredContent"].clone()
    }

    /// Every entity `tool` (`read_graph`, `search_nodes`, `open_nodes`)
    /// answers with `args`, read page by page: an answer over the size
    /// guard comes as its first part only.
    pub fn all_entities(&mut self, tool: &str, args: Value) -> Vec<Value> {
        let mut entities = Vec::new();
        let mut args = args;
        args["limit"] = json!(1000);
        for _ in 0..10_000 {
            let page = self.call_ok(tool, args.clone());
            entities.extend(page["entities"].as_array().cloned().unwrap_or_default());
            match page.get("nextCursor") {
                Some(cursor) => args["cursor"] = cursor.clone(),
                None => return entities,
            }
        }
        panic!("{tool} paging does not end");
    }

    /// Waits for the response with this id; notifications seen meanwhile are kept.
    pub fn answer_to(&mut self, id: &Value) -> Value {
        loop {
            match self.next_message(ANSWER_TIMEOUT) {
                Some(message)
                    if message.get("id") == Some(id) && message.get("method").is_none() =>
                {
                    return message;
                }
                Some(message) if message.get("method").is_some() => {
                    self.notifications.push(message)
                }
                Some(other) => panic!("unexpected message while waiting for {id}: {other:#}"),
                None => panic!("the shim closed stdout while waiting for {id}"),
            }
        }
    }

    /// The next message, or `None` if stdout closed. Fails after `timeout`.
    pub fn next_message(&mut self, timeout: Duration) -> Option<Value> {
        match self.incoming.recv_timeout(timeout) {
            Ok(Incoming::Message(value)) => Some(value),
            Ok(Incoming::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no message from the shim within {timeout:?}")
            }
        }
    }

    /// Waits until a notification with `method` arrives (or was already kept).
    pub fn wait_for_notification(&mut self, method: &str, timeout: Duration) -> Value {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self
                .notifications
                .iter()
                .position(|n| n["method"] == method)
            {
                return self.notifications.remove(i);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "no {method} notification within {timeout:?}"
            );
            match self.incoming.recv_timeout(left) {
                Ok(Incoming::Message(m)) if m.get("method").is_some() => self.notifications.push(m),
                Ok(Incoming::Message(m)) => panic!("unexpected message: {m:#}"),
                Ok(Incoming::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the shim closed stdout")
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Kills the shim process outright.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Closes stdin, as a client does when its session ends.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the process to exit, up to `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the shim") {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        self.stdin.take();
        if self.wait_exit(Duration::from_secs(5)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl TestEnv {
    /// The pid of the running daemon, from `memgraphd status`.
    pub fn daemon_pid(&self) -> Option<u32> {
        let out = self
            .memgraphd(&["status"])
            .output()
            .expect("running status");
        let text = String::from_utf8_lossy(&out.stdout);
        let rest = text.split("(pid ").nth(1)?;
        rest.split(',').next()?.trim().parse().ok()
    }

    /// The `memgraphd serve` processes alive for this test's database.
    #[cfg(target_os = "linux")]
    pub fn daemon_processes(&self) -> Vec<u32> {
        let db = self
            .db_path()
            .canonicalize()
            .unwrap_or_else(|_| self.db_path());
        let db = db.to_string_lossy().into_owned();
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("reading /proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|&b| b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let is_zombie = std::fs::read_to_string(entry.path().join("stat"))
                .map(|s| s.contains(") Z "))
                .unwrap_or(true);
            if !is_zombie && args.iter().any(|a| a == "serve") && args.iter().any(|a| a == &db) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Opens the database directly, read-only, for checks behind the daemon's back.
    pub fn open_db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(
            self.db_path(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("opening the database read-only")
    }
}

/// Waits until `condition` holds, failing the test after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !condition() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The entity names in a graph result.
pub fn names(graph: &Value) -> Vec<String> {
    graph["entities"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Resident memory of a process in KiB (Linux).
#[cfg(target_os = "linux")]
pub fn rss_kib(pid: u32) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("reading /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc status")
}

/// A small deterministic pseudo-random sequence, so a failing run can be
/// repeated with the same seed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Runs `git` in `dir` with no user or system config; fails the test if git
/// fails or is missing.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(["-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("running git (the tests need it installed)");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A new repository `dir/name` with one commit and, if given, an `origin`.
pub fn git_repo(dir: &std::path::Path, name: &str, origin: Option<&str>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(&path).expect("creating the repository dir");
    git(&path, &["init", "-q"]);
    git(&path, &["commit", "-q", "--allow-empty", "-m", "first"]);
    if let Some(url) = origin {
        git(&path, &["remote", "add", "origin", url]);
    }
    path
}

/// The `outputSchema` of every listed tool, made strict the way clients
/// read it: every object schema refuses undeclared keys.
pub struct OutputSchemas {
    validators: std::collections::HashMap<String, jsonschema::Validator>,
}

impl OutputSchemas {
    /// From a `tools/list` result.
    pub fn from_list(list: &Value) -> OutputSchemas {
        let mut validators = std::collections::HashMap::new();
        for tool in list["tools"].as_array().expect("tools") {
            let name = tool["name"].as_str().expect("tool name").to_owned();
            let mut schema = tool["outputSchema"].clone();
            assert!(schema.is_object(), "{name} has no outputSchema");
            strict(&mut schema);
            let validator = jsonschema::validator_for(&schema)
                .unwrap_or_else(|e| panic!("{name}: outputSchema does not compile: {e}"));
            validators.insert(name, validator);
        }
        OutputSchemas { validators }
    }

    /// From a live shim.
    pub fn of(shim: &mut Shim) -> OutputSchemas {
        OutputSchemas::from_list(&shim.request("tools/list", json!({})))
    }

    /// Fails the test unless `structured` is valid for `tool`.
    #[track_caller]
    pub fn check(&self, tool: &str, structured: &Value) {
        let validator = self
            .validators
            .get(tool)
            .unwrap_or_else(|| panic!("no schema for {tool}"));
        let problems: Vec<String> = validator
            .iter_errors(structured)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "{tool}: structuredContent breaks its outputSchema: {problems:#?}\n{structured:#}"
        );
    }
}

fn strict(schema: &mut Value) {
    if let Some(object) = schema.as_object_mut() {
        if object.get("type") == Some(&json!("object")) {
            object.insert("additionalProperties".into(), json!(false));
        }
        for value in object.values_mut() {
            strict(value);
        }
    } else if let Some(items) = schema.as_array_mut() {
        items.iter_mut().for_each(strict);
    }
}

/// A stand-in for a running daemon of an older protocol: a `sleep` process
/// (whose pid it names, so it can be signalled) and a listener in this test
/// that holds the daemon's lock and socket and refuses every `Hello` as
/// such a daemon would, until that process ends.
#[cfg(unix)]
pub struct OldDaemon {
    /// Serves the listener; kept alive for as long as the test runs.
    _runtime: tokio::runtime::Runtime,
    waiter: std::thread::JoinHandle<std::process::ExitStatus>,
}

#[cfg(unix)]
impl OldDaemon {
    /// Starts it for `env`, refusing with `protocol` and `version`.
    pub fn start(env: &TestEnv, protocol: u32, version: &str) -> OldDaemon {
        use interprocess::local_socket::traits::tokio::Listener as _;
        use memgraphd::instance::{lock::InstanceLock, socket};
        use memgraphd::protocol::{self, ClientFrame, Refused, ServerFrame};

        let mut old_process = Command::new("sleep")
            .arg("60")
            .spawn()
            .expect("spawning the stand-in process");
        let old_pid = old_process.id();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let lock_path = env.db_path().with_extension("db.lock");
        let socket_path = env.socket_path();
        let version = version.to_owned();
        let (gone_tx, gone_rx) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(async move {
            let lock = InstanceLock::acquire(&lock_path).expect("the old daemon's lock");
            let listener = socket::bind(&socket_path).expect("the old daemon's socket");
            let serve = async {
                loop {
                    let Ok(stream) = listener.accept().await else {
                        continue;
                    };
                    let (mut reader, mut writer) = tokio::io::split(stream);
                    if let Ok(Some(ClientFrame::Hello(_))) = protocol::read_msg(&mut reader).await {
                        let refused = ServerFrame::Refused(Refused {
                            protocol,
                            version: version.clone(),
                            pid: old_pid,
                            reason: format!("this daemon speaks protocol {protocol}"),
                        });
                        let _ = protocol::write_msg(&mut writer, &refused).await;
                    }
                }
            };
            // The stand-in "exits" when its process does.
            tokio::select! {
                _ = serve => {}
                _ = gone_rx => {}
            }
            drop(listener);
            drop(lock);
        });
        wait_until("the old daemon to listen", Duration::from_secs(10), || {
            env.socket_path().exists()
        });
        let waiter = std::thread::spawn(move || {
            let status = old_process.wait().expect("waiting for the stand-in");
            let _ = gone_tx.send(());
            status
        });
        OldDaemon {
            _runtime: runtime,
            waiter,
        }
    }

    /// Waits until its process has ended (a shim asked it to go) and says how.
    pub fn wait(self) -> std::process::ExitStatus {
        self.waiter.join().expect("waiter")
    }
}
