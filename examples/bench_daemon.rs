//! End-to-end benchmark of the real `memgraphd` binary, driven exactly as an
//! MCP client drives it: `memgraphd mcp` shims spoken to over stdin/stdout
//! (newline-delimited JSON-RPC 2.0), which forward tool calls to the daemon.
//!
//! It measures:
//! 1. shim cold start (spawn → `initialize` reply, no daemon needed);
//! 2. the first tool call when no daemon runs (includes spawning the daemon);
//! 3. round trips through one shim: `open_nodes` of one name and a
//!    single-entity `create_entities` (p50 / p99);
//! 4. resident memory of the shim and of the daemon after loading 10,000
//!    entities;
//! 5. acknowledged writes per second with 1, 4 and 16 concurrent sessions,
//!    each sending single-entity `create_entities` calls back to back, on the
//!    default durability (`synchronous=FULL`).
//!
//! Everything runs in a fresh temporary directory (`MEMGRAPHD_DB`,
//! `MEMGRAPHD_SOCKET`), and the daemon is stopped with `memgraphd stop` at the
//! end, also when the benchmark fails. Figures are printed, not asserted.
//!
//! Run it against a release build:
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_daemon
//! ```
//!
//! Set `MEMGRAPHD_BIN` to benchmark another `memgraphd` binary.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// How long any single reply may take before the benchmark gives up.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// The MCP protocol version the client asks for.
const PROTOCOL_VERSION: &str = "2025-11-25";

const COLD_START_SPAWNS: usize = 20;
const FIRST_CALL_RUNS: usize = 5;
const ROUND_TRIPS: usize = 2_000;
/// Round-trip loops stop early past this (so a slow disk cannot blow the budget).
const ROUND_TRIP_TIME_CAP: Duration = Duration::from_secs(20);
const LOAD_CALLS: usize = 10;
const LOAD_ENTITIES_PER_CALL: usize = 1_000;
const LOAD_OBSERVATIONS: usize = 5;
const THROUGHPUT_SESSIONS: [usize; 3] = [1, 4, 16];
const THROUGHPUT_DURATION: Duration = Duration::from_secs(3);

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_daemon failed: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let bin = locate_binary()?;
    let env = BenchEnv::new(bin)?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);

    println!("memgraphd bench_daemon");
    println!("binary:  {}", env.bin.display());
    println!("version: {}", env.version());
    println!("home:    {}", env.dir.path().display());
    println!("cores:   {cores}");
    println!("load:    {} (before the run)", load_average());
    println!();

    let mut table = Table::default();
    table.row("machine cores", cores.to_string(), "-", None);

    // 1. Shim cold start: spawn → initialize reply.
    eprintln!("[1/5] shim cold start ({COLD_START_SPAWNS} spawns)…");
    let mut cold = Vec::with_capacity(COLD_START_SPAWNS);
    for _ in 0..COLD_START_SPAWNS {
        let started = Instant::now();
        let mut shim = Shim::spawn(&env)?;
        shim.initialize()?;
        cold.push(started.elapsed());
        shim.close()?;
    }
    let cold_median = percentile(&mut cold, 50.0);
    table.row(
        &format!("1. shim cold start (spawn → initialize reply), median of {COLD_START_SPAWNS}"),
        ms(cold_median),
        "< 20 ms",
        Some(cold_median < Duration::from_millis(20)),
    );
    if env.daemon_running()? {
        table.note(
            "a daemon was running after the cold-start runs (initialize should not start one)",
        );
    }

    // 2. First tool call when no daemon runs (the shim spawns it).
    eprintln!("[2/5] first tool call incl. daemon spawn ({FIRST_CALL_RUNS} runs)…");
    let mut first = Vec::with_capacity(FIRST_CALL_RUNS);
    for run in 0..FIRST_CALL_RUNS {
        env.stop_daemon()?;
        if env.daemon_running()? {
            bail!("run {run}: a daemon still answers `memgraphd status` after `memgraphd stop`");
        }
        let mut shim = Shim::spawn(&env)?;
        shim.initialize()?;
        let started = Instant::now();
        let result = shim.call_tool("read_graph", json!({}))?;
        first.push(started.elapsed());
        expect_ok("read_graph", &result)?;
        shim.close()?;
    }
    env.stop_daemon()?;
    let first_median = percentile(&mut first, 50.0);
    table.row(
        &format!("2. first tools/call incl. daemon spawn, median of {FIRST_CALL_RUNS}"),
        ms(first_median),
        "-",
        None,
    );
    table.note(&format!(
        "first-call runs: {}",
        first.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", ")
    ));

    // 3. Round trips through one shim.
    eprintln!("[3/5] round trips through one shim ({ROUND_TRIPS} calls each)…");
    let mut shim = Shim::spawn(&env)?;
    shim.initialize()?;
    let created = shim.call_tool(
        "create_entities",
        json!({"entities": [{"name": "probe", "entityType": "bench", "observations": ["one"]}]}),
    )?;
    expect_ok("create_entities", &created)?;
    for _ in 0..50 {
        shim.call_tool("open_nodes", json!({"names": ["probe"]}))?;
    }
    let shim_rss_idle = rss_kib(shim.pid())?;
    let mut open_times = Vec::with_capacity(ROUND_TRIPS);
    let loop_start = Instant::now();
    for _ in 0..ROUND_TRIPS {
        let started = Instant::now();
        let result = shim.call_tool("open_nodes", json!({"names": ["probe"]}))?;
        open_times.push(started.elapsed());
        expect_ok("open_nodes", &result)?;
        let found = result["structuredContent"]["entities"]
            .as_array()
            .map_or(0, Vec::len);
        if found != 1 {
            bail!("open_nodes [\"probe\"] returned {found} entities, expected 1: {result:#}");
        }
        if loop_start.elapsed() > ROUND_TRIP_TIME_CAP {
            break;
        }
    }
    let open_n = open_times.len();
    let open_p50 = percentile(&mut open_times, 50.0);
    let open_p99 = percentile(&mut open_times, 99.0);
    table.row(
        &format!("3a. open_nodes (1 name) round trip p50 (n={open_n})"),
        ms(open_p50),
        "< 0.5 ms",
        Some(open_p50 < Duration::from_micros(500)),
    );
    table.row(
        &format!("3a. open_nodes (1 name) round trip p99 (n={open_n})"),
        ms(open_p99),
        "-",
        None,
    );

    let mut create_times = Vec::with_capacity(ROUND_TRIPS);
    let loop_start = Instant::now();
    for i in 0..ROUND_TRIPS {
        let args = json!({"entities": [
            {"name": format!("rt-{i}"), "entityType": "bench", "observations": ["o"]}
        ]});
        let started = Instant::now();
        let result = shim.call_tool("create_entities", args)?;
        create_times.push(started.elapsed());
        expect_created("create_entities", &result, 1)?;
        if loop_start.elapsed() > ROUND_TRIP_TIME_CAP {
            break;
        }
    }
    let create_n = create_times.len();
    if create_n < ROUND_TRIPS {
        table.note(&format!(
            "create_entities round trips stopped at {create_n} of {ROUND_TRIPS} (time cap {}s)",
            ROUND_TRIP_TIME_CAP.as_secs()
        ));
    }
    if open_n < ROUND_TRIPS {
        table.note(&format!(
            "open_nodes round trips stopped at {open_n} of {ROUND_TRIPS} (time cap {}s)",
            ROUND_TRIP_TIME_CAP.as_secs()
        ));
    }
    let create_p50 = percentile(&mut create_times, 50.0);
    let create_p99 = percentile(&mut create_times, 99.0);
    table.row(
        &format!("3b. create_entities (1 entity) round trip p50 (n={create_n})"),
        ms(create_p50),
        "-",
        None,
    );
    table.row(
        &format!("3b. create_entities (1 entity) round trip p99 (n={create_n})"),
        ms(create_p99),
        "-",
        None,
    );

    // 4. Load 10,000 entities, then resident memory.
    let shim_rss_round_trips = rss_kib(shim.pid())?;
    let total = LOAD_CALLS * LOAD_ENTITIES_PER_CALL;
    eprintln!("[4/5] loading {total} entities, then RSS…");
    let load_start = Instant::now();
    for call in 0..LOAD_CALLS {
        let entities: Vec<Value> = (0..LOAD_ENTITIES_PER_CALL)
            .map(|i| {
                let observations: Vec<String> = (0..LOAD_OBSERVATIONS)
                    .map(|k| format!("observation {k} of entity {call}-{i}: some text to store"))
                    .collect();
                json!({
                    "name": format!("load-{call}-{i}"),
                    "entityType": "bench",
                    "observations": observations,
                })
            })
            .collect();
        let result = shim.call_tool("create_entities", json!({ "entities": entities }))?;
        expect_created("create_entities (load)", &result, LOAD_ENTITIES_PER_CALL)?;
    }
    let load_time = load_start.elapsed();
    table.row(
        &format!("4. load {total} entities × {LOAD_OBSERVATIONS} obs ({LOAD_CALLS} calls)"),
        format!(
            "{} ({:.0} entities/s)",
            secs(load_time),
            total as f64 / load_time.as_secs_f64()
        ),
        "-",
        None,
    );
    let shim_rss = rss_kib(shim.pid())?;
    let daemon_pid = env.daemon_pid()?;
    let daemon_rss = rss_kib(daemon_pid)?;
    table.row(
        "4. shim RSS after the load",
        mib(shim_rss),
        "< 15 MiB",
        Some(shim_rss < 15 * 1024),
    );
    table.row(
        "4. (shim RSS before the round trips, after 51 tool calls)",
        mib(shim_rss_idle),
        "-",
        None,
    );
    table.row(
        "4. (shim RSS after the round trips, before the load)",
        mib(shim_rss_round_trips),
        "-",
        None,
    );
    table.row(
        &format!("4. daemon RSS after the load (pid {daemon_pid})"),
        mib(daemon_rss),
        "-",
        None,
    );
    shim.close()?;

    // 5. Writes/s with concurrent sessions.
    for &sessions in &THROUGHPUT_SESSIONS {
        eprintln!(
            "[5/5] {sessions} concurrent session(s), {}s…",
            THROUGHPUT_DURATION.as_secs()
        );
        let outcome = throughput(&env, sessions, daemon_pid)?;
        let rate = outcome.ok as f64 / outcome.elapsed.as_secs_f64();
        let (target, pass) = if sessions == 16 {
            ("> 5,000/s", Some(rate > 5_000.0))
        } else {
            ("-", None)
        };
        table.row(
            &format!("5. acknowledged writes/s, {sessions} session(s), synchronous=FULL"),
            format!("{rate:.0}/s ({} in {})", outcome.ok, secs(outcome.elapsed)),
            target,
            pass,
        );
        if let Some(cpu) = &outcome.cpu {
            table.note(&format!(
                "{sessions} session(s): machine CPU busy {:.0}% during the run; of {cores} cores \
                 the daemon used {:.2}, this client {:.2}, the rest (shims, other processes) {:.2}",
                cpu.busy * 100.0,
                cpu.daemon,
                cpu.bench,
                (cpu.busy * cores as f64 - cpu.daemon - cpu.bench).max(0.0)
            ));
        }
        if outcome.failed > 0 {
            table.note(&format!(
                "{sessions} session(s): {} calls answered isError (not counted); first: {}",
                outcome.failed,
                outcome.first_failure.as_deref().unwrap_or("?")
            ));
        }
    }

    println!();
    table.print();
    println!("load average after the run: {}", load_average());
    Ok(())
}

/// The `memgraphd` binary to benchmark.
fn locate_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MEMGRAPHD_BIN") {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("MEMGRAPHD_BIN={} is not a file", path.display());
        }
        return Ok(path);
    }
    let name = if cfg!(windows) {
        "memgraphd.exe"
    } else {
        "memgraphd"
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("release")
        .join(name);
    if !path.is_file() {
        bail!(
            "{} not found: run `cargo build --release` first (or set MEMGRAPHD_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// A private memgraphd home; dropping it stops the daemon.
struct BenchEnv {
    bin: PathBuf,
    // Keep the prefix short: socket paths must stay under about 100 bytes.
    dir: tempfile::TempDir,
}

impl BenchEnv {
    fn new(bin: PathBuf) -> Result<BenchEnv> {
        let dir = tempfile::Builder::new()
            .prefix("mgb")
            .tempdir()
            .context("creating a temp dir")?;
        Ok(BenchEnv { bin, dir })
    }

    /// A `memgraphd` command confined to this home.
    fn command(&self, args: &[&str]) -> Command {
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

    fn output(&self, args: &[&str]) -> Result<std::process::Output> {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running memgraphd {}", args.join(" ")))
    }

    fn version(&self) -> String {
        self.output(&["--version"])
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("? ({e:#})"))
    }

    fn stop_daemon(&self) -> Result<()> {
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

    fn daemon_running(&self) -> Result<bool> {
        Ok(self.output(&["status"])?.status.success())
    }

    /// The daemon's pid, from `memgraphd X is running (pid N, protocol 1)`.
    fn daemon_pid(&self) -> Result<u32> {
        let out = self.output(&["status"])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let pid = text
            .lines()
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
            })?;
        Ok(pid)
    }
}

impl Drop for BenchEnv {
    fn drop(&mut self) {
        if let Err(e) = self.stop_daemon() {
            eprintln!("bench_daemon: stopping the daemon at exit: {e:#}");
        }
    }
}

enum Incoming {
    Message(Value),
    NotJson(String),
    Closed,
}

/// A blocking MCP client on one live `memgraphd mcp` process.
struct Shim {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Incoming>,
    next_id: u64,
}

impl Shim {
    fn spawn(env: &BenchEnv) -> Result<Shim> {
        let mut child = env
            .command(&["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {} mcp", env.bin.display()))?;
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
                let item = match serde_json::from_str(&line) {
                    Ok(value) => Incoming::Message(value),
                    Err(_) => Incoming::NotJson(line),
                };
                if tx.send(item).is_err() {
                    return;
                }
            }
            let _ = tx.send(Incoming::Closed);
        });
        Ok(Shim {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 0,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, message: &Value) -> Result<()> {
        let stdin = self.stdin.as_mut().context("the shim's stdin is closed")?;
        let mut line = message.to_string();
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .and_then(|_| stdin.flush())
            .context("writing to the shim's stdin")
    }

    /// Sends a request and returns its `result`; a JSON-RPC error is an error.
    fn request(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(left) {
                Ok(Incoming::Message(message)) => message,
                Ok(Incoming::NotJson(line)) => {
                    bail!(
                        "the shim wrote a line that is not JSON while waiting for {method}: {line}"
                    )
                }
                Ok(Incoming::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    bail!(
                        "the shim closed stdout while waiting for the reply to {method} (id {id})"
                    )
                }
                Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                    "no reply to {method} (id {id}) within {}s from shim pid {}",
                    REPLY_TIMEOUT.as_secs(),
                    self.pid()
                ),
            };
            // Notifications and requests from the server are not our answer.
            if message.get("method").is_some() || message["id"].as_u64() != Some(id) {
                continue;
            }
            if let Some(result) = message.get("result") {
                return Ok(result.clone());
            }
            bail!("{method} failed: {message}");
        }
    }

    fn initialize(&mut self) -> Result<Value> {
        let answer = self.request(
            "initialize",
            json!({
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "memgraphd-bench", "version": "0"}
            }),
        )?;
        if answer["protocolVersion"] != PROTOCOL_VERSION {
            bail!("initialize answered an unexpected protocolVersion: {answer}");
        }
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(answer)
    }

    /// Calls a tool and returns its result (which may carry `isError`).
    fn call_tool(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        self.request("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Closes stdin, as a client does at the end of a session, and waits for
    /// the shim to exit.
    fn close(mut self) -> Result<()> {
        self.stdin.take();
        match self.wait_exit(Duration::from_secs(10))? {
            Some(_) => Ok(()),
            None => bail!(
                "shim pid {} did not exit within 10s of its stdin closing",
                self.pid()
            ),
        }
    }

    fn wait_exit(&mut self, timeout: Duration) -> Result<Option<std::process::ExitStatus>> {
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

impl Drop for Shim {
    fn drop(&mut self) {
        self.stdin.take();
        if !matches!(self.wait_exit(Duration::from_secs(5)), Ok(Some(_))) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn expect_ok(tool: &str, result: &Value) -> Result<()> {
    if result["isError"] == json!(true) {
        bail!("{tool} answered isError: {result}");
    }
    Ok(())
}

fn expect_created(tool: &str, result: &Value, want: usize) -> Result<()> {
    expect_ok(tool, result)?;
    let created = result["structuredContent"]["entities"]
        .as_array()
        .map_or(0, Vec::len);
    if created != want {
        bail!("{tool} created {created} entities, expected {want}: {result}");
    }
    Ok(())
}

/// One session's successes, isError answers, first failure text, and time.
type SessionCount = (u64, u64, Option<String>, Duration);

struct Throughput {
    ok: u64,
    failed: u64,
    first_failure: Option<String>,
    elapsed: Duration,
    cpu: Option<CpuUse>,
}

/// CPU use during a throughput run (Linux).
struct CpuUse {
    /// The fraction of the machine's CPU time that was busy.
    busy: f64,
    /// Cores' worth used by the daemon.
    daemon: f64,
    /// Cores' worth used by this benchmark (the MCP clients).
    bench: f64,
}

/// `sessions` shims, each sending single-entity `create_entities` calls back
/// to back for `THROUGHPUT_DURATION`.
fn throughput(env: &BenchEnv, sessions: usize, daemon_pid: u32) -> Result<Throughput> {
    let mut shims = Vec::with_capacity(sessions);
    for s in 0..sessions {
        let mut shim = Shim::spawn(env)?;
        shim.initialize()?;
        // Connect to the daemon before the clock starts.
        let warm = shim.call_tool("open_nodes", json!({"names": ["probe"]}))?;
        expect_ok("open_nodes (warm-up)", &warm).with_context(|| format!("session {s}"))?;
        shims.push(shim);
    }
    let barrier = Barrier::new(sessions + 1);
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = shims
            .iter_mut()
            .enumerate()
            .map(|(s, shim)| {
                let barrier = &barrier;
                scope.spawn(move || -> Result<SessionCount> {
                    barrier.wait();
                    let start = Instant::now();
                    let (mut ok, mut failed, mut first_failure) = (0u64, 0u64, None);
                    let mut k = 0u64;
                    while start.elapsed() < THROUGHPUT_DURATION {
                        k += 1;
                        let args = json!({"entities": [{
                            "name": format!("tp{sessions}-s{s}-{k}"),
                            "entityType": "bench",
                            "observations": ["o"],
                        }]});
                        let result = shim
                            .call_tool("create_entities", args)
                            .with_context(|| format!("session {s} of {sessions}, call {k}"))?;
                        if result["isError"] == json!(true) {
                            failed += 1;
                            first_failure.get_or_insert_with(|| result.to_string());
                        } else {
                            ok += 1;
                        }
                    }
                    Ok((ok, failed, first_failure, start.elapsed()))
                })
            })
            .collect();
        barrier.wait();
        let before = cpu_sample(daemon_pid);
        let joined: Vec<Result<SessionCount>> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a session thread panicked")))
            })
            .collect();
        let after = cpu_sample(daemon_pid);
        (joined, before, after)
    });
    let (results, before, after) = results;
    let mut outcome = Throughput {
        ok: 0,
        failed: 0,
        first_failure: None,
        elapsed: Duration::ZERO,
        cpu: None,
    };
    if let (Some(b), Some(a)) = (before, after) {
        let total = a.total.saturating_sub(b.total) as f64;
        if total > 0.0 {
            let busy = a.busy.saturating_sub(b.busy) as f64 / total;
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            let daemon = a.daemon.saturating_sub(b.daemon) as f64 / total * cores;
            let bench = a.bench.saturating_sub(b.bench) as f64 / total * cores;
            outcome.cpu = Some(CpuUse {
                busy,
                daemon,
                bench,
            });
        }
    }
    for result in results {
        let (ok, failed, first_failure, elapsed) = result?;
        outcome.ok += ok;
        outcome.failed += failed;
        if outcome.first_failure.is_none() {
            outcome.first_failure = first_failure;
        }
        outcome.elapsed = outcome.elapsed.max(elapsed);
    }
    for shim in shims {
        shim.close()?;
    }
    Ok(outcome)
}

/// CPU clock ticks: the machine's total and busy, the daemon's and this
/// benchmark's own.
#[derive(Clone, Copy)]
struct CpuSample {
    total: u64,
    busy: u64,
    daemon: u64,
    bench: u64,
}

/// Reads `/proc/stat` and `/proc/<daemon>/stat` (Linux; `None` elsewhere).
fn cpu_sample(daemon_pid: u32) -> Option<CpuSample> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .strip_prefix("cpu ")?
        .split_whitespace()
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    if fields.len() < 5 {
        return None;
    }
    let total: u64 = fields.iter().sum();
    let idle = fields[3] + fields[4];
    Some(CpuSample {
        total,
        busy: total - idle,
        daemon: process_ticks(&daemon_pid.to_string())?,
        bench: process_ticks("self")?,
    })
}

/// User plus system clock ticks of a process (`self` for this one), from
/// `/proc/<pid>/stat`.
fn process_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let tokens: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = tokens.get(11)?.parse().ok()?;
    let stime: u64 = tokens.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// The 1, 5 and 15 minute load averages (Linux), to judge how quiet the
/// machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "n/a".to_string())
}

/// VmRSS of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    text.lines()
        .find_map(|line| {
            let rest = line.strip_prefix("VmRSS:")?;
            rest.trim().trim_end_matches("kB").trim().parse().ok()
        })
        .with_context(|| format!("no VmRSS line in {path}"))
}

/// The p-th percentile (nearest rank) of the samples; sorts them.
fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
    notes: Vec<String>,
}

impl Table {
    fn row(&mut self, what: &str, value: String, target: &str, pass: Option<bool>) {
        let status = match pass {
            Some(true) => "PASS",
            Some(false) => "FAIL",
            None => "-",
        };
        self.rows.push([
            what.to_string(),
            value,
            target.to_string(),
            status.to_string(),
        ]);
    }

    fn note(&mut self, note: &str) {
        self.notes.push(note.to_string());
    }

    fn print(&self) {
        let header = ["measurement", "result", "target", "status"];
        let mut widths = header.map(|h| h.chars().count());
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 4]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            println!("| {} |", padded.join(" | "));
        };
        line(header);
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        println!("|-{}-|", rule.join("-|-"));
        for row in &self.rows {
            line([&row[0], &row[1], &row[2], &row[3]]);
        }
        for note in &self.notes {
            println!("note: {note}");
        }
    }
}
