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
//! It benchmarks the `memgraphd` that cargo built beside it
//! (`target/release/memgraphd` here); set `MEMGRAPHD_BIN` to benchmark
//! another `memgraphd` binary. The MCP client is the examples' shared one,
//! in `examples/common/mod.rs`.

mod common;

use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use common::{percentile, rss_kib, Home};

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
    // Keep the prefix short: socket paths must stay under about 100 bytes.
    let home = Home::new("mgb")?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);

    println!("memgraphd bench_daemon");
    println!("binary:  {}", home.bin.display());
    println!("version: {}", home.version());
    println!("home:    {}", home.dir.path().display());
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
        let shim = home.quiet_session("cold start")?;
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
    if home.daemon_running()? {
        table.note(
            "a daemon was running after the cold-start runs (initialize should not start one)",
        );
    }

    // 2. First tool call when no daemon runs (the shim spawns it).
    eprintln!("[2/5] first tool call incl. daemon spawn ({FIRST_CALL_RUNS} runs)…");
    let mut first = Vec::with_capacity(FIRST_CALL_RUNS);
    for run in 0..FIRST_CALL_RUNS {
        home.stop_daemon()?;
        if home.daemon_running()? {
            bail!("run {run}: a daemon still answers `memgraphd status` after `memgraphd stop`");
        }
        let mut shim = home.quiet_session(&format!("first call {run}"))?;
        let started = Instant::now();
        let result = shim.call_tool("read_graph", json!({}))?;
        first.push(started.elapsed());
        expect_ok("read_graph", &result)?;
        shim.close()?;
    }
    home.stop_daemon()?;
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
    let mut shim = home.quiet_session("bench")?;
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
    let daemon_pid = home.daemon_pid()?;
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
        let outcome = throughput(&home, sessions, daemon_pid)?;
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
fn throughput(home: &Home, sessions: usize, daemon_pid: u32) -> Result<Throughput> {
    let mut shims = Vec::with_capacity(sessions);
    for s in 0..sessions {
        let mut shim = home.quiet_session(&format!("session {s} of {sessions}"))?;
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
                            .with_context(|| format!("call {k}"))?;
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
