//! The workloads, run on one server at a time: the bulk load, whole-graph
//! and search reads, bounded reads, single creates, concurrent creates, and
//! the server's footprint on disk and in memory.
//!
//! Each call's time is from sending the request to the arrival of the
//! reply's last byte, so this client's JSON parsing is not counted. Every
//! answer is checked (entity counts, hits, created names), and a failure is
//! recorded for its row while the other workloads go on.

use std::collections::HashMap;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Context, Result};
use serde_json::{json, Value};

use crate::common::{percentile, Session};
use crate::dataset::{Dataset, Rng, BROAD_QUERY};
use crate::procfs;
use crate::report::{bytes, duration, mib, Figure};
use crate::servers::{Kind, Server};

/// How much each workload does, and how long it may take.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub batch: usize,
    /// Samples of each whole-graph read (the median is reported).
    pub reads: usize,
    /// Samples of each bounded read (the p50 is reported).
    pub samples: usize,
    /// Single creates per process, sequential and concurrent.
    pub creates: usize,
    pub processes: usize,
    /// The most any loop of calls may take on one server; it stops early
    /// and reports what it did.
    pub budget: Duration,
    /// The most the bulk load may take on one server; past it, the
    /// server's other workloads are skipped.
    pub load_budget: Duration,
    pub reply_timeout: Duration,
}

/// The rows of the comparison.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Row {
    LoadEntities,
    LoadRelations,
    Disk,
    ReadGraph,
    BroadSearch,
    BroadHits,
    OpenNodes,
    OneHit,
    Memory,
    CreatesFull,
    CreatesNormal,
    ConcurrentRate,
    ConcurrentErrors,
    ConcurrentLost,
    DiskStopped,
}

impl Row {
    pub const ALL: [Row; 15] = [
        Row::LoadEntities,
        Row::LoadRelations,
        Row::ReadGraph,
        Row::BroadSearch,
        Row::BroadHits,
        Row::OpenNodes,
        Row::CreatesFull,
        Row::CreatesNormal,
        Row::ConcurrentRate,
        Row::ConcurrentErrors,
        Row::ConcurrentLost,
        Row::Disk,
        Row::DiskStopped,
        Row::OneHit,
        Row::Memory,
    ];

    pub fn label(self, data: &Dataset, plan: &Plan) -> String {
        match self {
            Row::LoadEntities => format!(
                "bulk load of {} entities × {} obs, batches of {} (time)",
                thousands(data.entities as u64),
                data.observations,
                plan.batch
            ),
            Row::LoadRelations => format!(
                "… then {} relations, batches of {} (time)",
                thousands(data.relations as u64),
                plan.batch
            ),
            Row::ReadGraph => format!("`read_graph`, whole graph (median of {})", plan.reads),
            Row::BroadSearch => format!(
                "broad `search_nodes` {BROAD_QUERY:?} (median of {})",
                plan.reads
            ),
            Row::BroadHits => "… its hits".to_string(),
            Row::OpenNodes => "`open_nodes` of 10 names (p50)".to_string(),
            Row::CreatesFull => "sequential single creates (calls/s), `full`".to_string(),
            Row::CreatesNormal => "… memgraphd `--durability normal`".to_string(),
            Row::ConcurrentRate => format!(
                "{} processes × {} creates (calls/s)",
                plan.processes, plan.creates
            ),
            Row::ConcurrentErrors => "… calls that failed".to_string(),
            Row::ConcurrentLost => "… acknowledged but lost (read back)".to_string(),
            Row::Disk => "data on disk after the load (incl. WAL)".to_string(),
            Row::DiskStopped => "… at the end, server stopped (incl. the creates)".to_string(),
            Row::OneHit => "1-hit `search_nodes` (p50)".to_string(),
            Row::Memory => "resident memory of the loaded server".to_string(),
        }
    }

    /// Whether a smaller figure is better; `None` when the ratio means
    /// nothing (counts of hits, errors, losses).
    pub fn lower_is_better(self) -> Option<bool> {
        match self {
            Row::BroadHits | Row::ConcurrentErrors | Row::ConcurrentLost => None,
            Row::CreatesFull | Row::CreatesNormal | Row::ConcurrentRate => Some(false),
            _ => Some(true),
        }
    }
}

/// A workload's outcome on one server: its figure (or why there is none)
/// and a detail for the notes.
#[derive(Debug)]
pub struct Cell {
    pub figure: Result<Figure, String>,
    pub detail: Option<String>,
}

/// Server CPU spent during one workload.
#[derive(Debug)]
pub struct CpuLine {
    pub workload: &'static str,
    pub wall: Duration,
    /// CPU time per role (shim, daemon, node), summed over processes.
    pub cpu: Vec<(String, Duration)>,
    /// memgraphd's daemon CPU by thread name.
    pub daemon_threads: Vec<(String, Duration)>,
}

/// Everything measured on one server.
#[derive(Default, Debug)]
pub struct ServerReport {
    pub cells: HashMap<Row, Cell>,
    pub cpu: Vec<CpuLine>,
}

impl ServerReport {
    /// Whether the bulk load completed.
    pub fn loaded(&self) -> bool {
        self.cells
            .get(&Row::LoadEntities)
            .is_some_and(|c| c.figure.is_ok())
    }

    pub fn set(&mut self, row: Row, figure: Result<Figure>, detail: Option<String>) {
        let figure = figure.map_err(|e| format!("{e:#}"));
        self.cells.insert(row, Cell { figure, detail });
    }

    fn fail(&mut self, row: Row, why: &str) {
        self.set(row, Err(anyhow!("{why}")), None);
    }
}

/// CPU readings of a set of server processes, to subtract.
struct CpuMark {
    wall: Instant,
    cpu: Vec<(&'static str, u32, Option<Duration>)>,
    /// memgraphd's daemon, thread by thread: the writer thread runs SQLite,
    /// the main thread moves frames.
    daemon_threads: Option<(u32, Vec<(String, Duration)>)>,
}

impl CpuMark {
    fn take(processes: &[(&'static str, u32)]) -> CpuMark {
        let daemon = processes.iter().find(|(role, _)| *role == "daemon");
        CpuMark {
            wall: Instant::now(),
            cpu: processes
                .iter()
                .map(|&(role, pid)| (role, pid, procfs::cpu_time(pid)))
                .collect(),
            daemon_threads: daemon.map(|&(_, pid)| (pid, procfs::thread_times(pid))),
        }
    }

    /// The daemon's CPU per thread since the mark, busiest first.
    fn threads(&self) -> Vec<(String, Duration)> {
        let Some((pid, before)) = &self.daemon_threads else {
            return Vec::new();
        };
        let mut spent: Vec<(String, Duration)> = procfs::thread_times(*pid)
            .into_iter()
            .map(|(name, after)| {
                let was = before
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or(Duration::ZERO, |b| b.1);
                (name, after.saturating_sub(was))
            })
            .filter(|(_, d)| !d.is_zero())
            .collect();
        spent.sort_by_key(|s| std::cmp::Reverse(s.1));
        spent
    }

    fn line(&self, workload: &'static str) -> CpuLine {
        let mut per_role: Vec<(String, Duration, usize)> = Vec::new();
        for &(role, pid, before) in &self.cpu {
            let (Some(before), Some(after)) = (before, procfs::cpu_time(pid)) else {
                continue;
            };
            let spent = after.saturating_sub(before);
            match per_role.iter_mut().find(|(r, _, _)| r == role) {
                Some(entry) => {
                    entry.1 += spent;
                    entry.2 += 1;
                }
                None => per_role.push((role.to_string(), spent, 1)),
            }
        }
        CpuLine {
            workload,
            wall: self.wall.elapsed(),
            daemon_threads: self.threads(),
            cpu: per_role
                .into_iter()
                .map(|(role, spent, n)| {
                    let role = if n > 1 { format!("{n} {role}s") } else { role };
                    (role, spent)
                })
                .collect(),
        }
    }
}

/// Runs every workload on `server`, in the order of the table, on a
/// graph loaded once. A row that could not run says why.
pub fn run(server: &mut Server, data: &Dataset, plan: &Plan) -> ServerReport {
    let mut report = ServerReport::default();
    if let Err(e) = run_all(server, data, plan, &mut report) {
        let why = format!("{e:#}");
        eprintln!("  {}: {why}", server.kind.label());
        for row in Row::ALL {
            if !report.cells.contains_key(&row) {
                report.fail(row, &why);
            }
        }
    }
    report
}

fn run_all(
    server: &mut Server,
    data: &Dataset,
    plan: &Plan,
    report: &mut ServerReport,
) -> Result<()> {
    let label = server.kind.label();
    let mut session = start(server, "main", plan).context("did not start")?;

    eprintln!("  {label}: loading {} entities…", data.entities);
    let mark = CpuMark::take(&server.processes(&session));
    let (entities, relations) = load(&mut session, data, plan).context("load failed")?;
    report.cpu.push(mark.line("bulk load"));
    let rate = data.entities as f64 / entities.as_secs_f64();
    report.set(
        Row::LoadEntities,
        Ok(Figure::Time(entities)),
        Some(format!("{rate:.0} entities/s")),
    );
    report.set(Row::LoadRelations, Ok(Figure::Time(relations)), None);
    let (disk, files) = split(server.data_bytes());
    report.set(Row::Disk, disk.map(Figure::Bytes), files);

    eprintln!("  {label}: whole-graph reads…");
    let mark = CpuMark::take(&server.processes(&session));
    let (time, detail) = split(read_graph(&mut session, data, plan));
    report.cpu.push(mark.line("read_graph"));
    report.set(Row::ReadGraph, time.map(Figure::Time), detail);
    session = healthy(server, session, plan)?;

    let mark = CpuMark::take(&server.processes(&session));
    let broad = broad_search(&mut session, data, plan);
    report.cpu.push(mark.line("broad search"));
    match broad {
        Ok((time, hits, detail)) => {
            report.set(Row::BroadSearch, Ok(Figure::Time(time)), Some(detail));
            report.set(Row::BroadHits, Ok(Figure::Count(hits as u64)), None);
        }
        Err(e) => {
            let why = format!("{e:#}");
            report.fail(Row::BroadSearch, &why);
            report.fail(Row::BroadHits, &why);
        }
    }
    session = healthy(server, session, plan)?;

    eprintln!("  {label}: bounded reads…");
    let mark = CpuMark::take(&server.processes(&session));
    let (time, detail) = split(open_nodes(&mut session, data, plan));
    report.cpu.push(mark.line("open_nodes ×n"));
    report.set(Row::OpenNodes, time.map(Figure::Time), detail);
    session = healthy(server, session, plan)?;

    let mark = CpuMark::take(&server.processes(&session));
    let (time, detail) = split(one_hit_search(&mut session, data, plan));
    report.cpu.push(mark.line("1-hit search ×n"));
    report.set(Row::OneHit, time.map(Figure::Time), detail);
    session = healthy(server, session, plan)?;

    let (memory, detail) = split(resident(server, &session));
    report.set(Row::Memory, memory.map(Figure::Memory), detail);

    eprintln!("  {label}: sequential creates…");
    let mark = CpuMark::take(&server.processes(&session));
    let (rate, detail) = split(sequential_creates(&mut session, "seq", plan));
    report.cpu.push(mark.line("single creates ×n"));
    report.set(Row::CreatesFull, rate.map(Figure::Rate), detail);
    drop(session);

    eprintln!("  {label}: {} concurrent processes…", plan.processes);
    match concurrent_creates(server, plan) {
        Ok((outcome, cpu)) => {
            report.cpu.push(cpu);
            report.set(
                Row::ConcurrentRate,
                Ok(Figure::Rate(outcome.rate)),
                Some(format!(
                    "{} acknowledged of {} tried in {}",
                    outcome.acknowledged,
                    outcome.tried,
                    duration(outcome.wall)
                )),
            );
            report.set(
                Row::ConcurrentErrors,
                Ok(Figure::Count(outcome.errors)),
                outcome.first_error,
            );
            report.set(Row::ConcurrentLost, outcome.lost.map(Figure::Count), None);
        }
        Err(e) => {
            let why = format!("{e:#}");
            for row in [
                Row::ConcurrentRate,
                Row::ConcurrentErrors,
                Row::ConcurrentLost,
            ] {
                report.fail(row, &why);
            }
        }
    }

    if server.kind == Kind::Memgraphd {
        eprintln!("  {label}: sequential creates with --durability normal…");
        let (rate, detail) = split(normal_creates(server, plan, report));
        report.set(Row::CreatesNormal, rate.map(Figure::Rate), detail);
    } else {
        report.fail(Row::CreatesNormal, "-");
    }
    Ok(())
}

/// A figure and its detail, from a workload's outcome.
fn split<T>(outcome: Result<(T, String)>) -> (Result<T>, Option<String>) {
    match outcome {
        Ok((figure, detail)) => (Ok(figure), Some(detail)),
        Err(e) => (Err(e), None),
    }
}

fn start(server: &Server, name: &str, plan: &Plan) -> Result<Session> {
    let mut session = server.session(name)?;
    session.set_reply_timeout(plan.reply_timeout);
    // The first call starts memgraphd's daemon; keep that out of the load.
    let warm = session.call_tool("open_nodes", json!({"names": ["warm-up"]}))?;
    tool_ok(&warm).context("the warm-up call")?;
    Ok(session)
}

/// The same session when it still answers, else a new one (a failed
/// workload may have left it dead or with a reply in flight).
fn healthy(server: &Server, mut session: Session, plan: &Plan) -> Result<Session> {
    if session.request("ping", json!({})).is_ok() {
        return Ok(session);
    }
    drop(session);
    start(server, "main (restarted)", plan).context("restarting a session after a failure")
}

/// A tool call's result, or the tool's own error as an `Err`.
fn call(session: &mut Session, tool: &str, arguments: Value) -> Result<(Duration, Value)> {
    let started = Instant::now();
    let result = session.call_tool(tool, arguments)?;
    let arrived = session.last_reply_at().unwrap_or_else(Instant::now);
    tool_ok(&result).with_context(|| format!("{tool} answered isError"))?;
    Ok((arrived.saturating_duration_since(started), result))
}

fn tool_ok(result: &Value) -> Result<()> {
    if result["isError"] == json!(true) {
        let text = result["content"][0]["text"].as_str().unwrap_or("(no text)");
        bail!("{}", shorten(text, 300));
    }
    Ok(())
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The payload of a result: `structuredContent` when there is one (the
/// seed sends none), else the JSON of its text.
fn payload(result: &Value) -> Result<Value> {
    if let Some(structured) = result.get("structuredContent") {
        return Ok(structured.clone());
    }
    let text = result["content"][0]["text"]
        .as_str()
        .context("a result with neither structuredContent nor text")?;
    serde_json::from_str(text)
        .with_context(|| format!("its text is not JSON: {}", shorten(text, 200)))
}

/// The entities and relations a graph result (read, search, open) holds.
fn counts(result: &Value) -> Result<(usize, usize)> {
    let payload = payload(result)?;
    let list = |key: &str| payload.get(key).and_then(Value::as_array).map(Vec::len);
    let entities = list("entities").context("no entities in the result")?;
    Ok((entities, list("relations").unwrap_or(0)))
}

/// How many items a create call made: its `structuredContent[key]`, or
/// the array its text holds (the seed's form).
fn created(result: &Value, key: &str) -> Result<usize> {
    let payload = payload(result)?;
    payload
        .as_array()
        .or_else(|| payload.get(key).and_then(Value::as_array))
        .map(Vec::len)
        .with_context(|| format!("no {key} in the result"))
}

fn text_len(result: &Value) -> usize {
    result["content"][0]["text"].as_str().map_or(0, str::len)
}

fn load(session: &mut Session, data: &Dataset, plan: &Plan) -> Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut done = 0;
    while done < data.entities {
        let end = (done + plan.batch).min(data.entities);
        let batch: Vec<Value> = (done..end).map(|i| data.entity(i)).collect();
        let (_, result) = call(session, "create_entities", json!({ "entities": batch }))
            .with_context(|| format!("creating entities {done}..{end}"))?;
        let made = created(&result, "entities")?;
        ensure!(
            made == end - done,
            "created {made} of entities {done}..{end}"
        );
        done = end;
        if started.elapsed() > plan.load_budget {
            bail!(
                "over the load budget of {}: {done} of {} entities in {}",
                duration(plan.load_budget),
                data.entities,
                duration(started.elapsed())
            );
        }
    }
    let entities = started.elapsed();
    let relations = data.relations();
    let started = Instant::now();
    for (k, chunk) in relations.chunks(plan.batch).enumerate() {
        let (_, result) = call(session, "create_relations", json!({ "relations": chunk }))
            .with_context(|| format!("creating relation batch {k}"))?;
        let made = created(&result, "relations")?;
        ensure!(made == chunk.len(), "created {made} of relation batch {k}");
    }
    Ok((entities, started.elapsed()))
}

fn median_of(
    session: &mut Session,
    plan: &Plan,
    tool: &str,
    args: &Value,
) -> Result<(Duration, Value)> {
    let mut times = Vec::with_capacity(plan.reads);
    let mut last = Value::Null;
    let loop_start = Instant::now();
    for _ in 0..plan.reads.max(1) {
        let (time, result) = call(session, tool, args.clone())?;
        times.push(time);
        last = result;
        if loop_start.elapsed() > plan.budget {
            break;
        }
    }
    Ok((percentile(&mut times, 50.0), last))
}

fn read_graph(session: &mut Session, data: &Dataset, plan: &Plan) -> Result<(Duration, String)> {
    let (time, result) = median_of(session, plan, "read_graph", &json!({}))?;
    let (entities, relations) = counts(&result)?;
    ensure!(
        entities == data.entities && relations == data.relations,
        "read_graph returned {entities} entities and {relations} relations, expected {} and {}",
        data.entities,
        data.relations
    );
    Ok((time, format!("text of {}", bytes(text_len(&result) as u64))))
}

fn broad_search(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, usize, String)> {
    let (time, result) = median_of(
        session,
        plan,
        "search_nodes",
        &json!({"query": BROAD_QUERY}),
    )?;
    let (hits, relations) = counts(&result)?;
    let expected = data.broad_hits();
    ensure!(hits == expected, "{hits} hits, expected {expected}");
    let detail = format!(
        "{} hits, {} relations, text of {}",
        thousands(hits as u64),
        thousands(relations as u64),
        bytes(text_len(&result) as u64)
    );
    Ok((time, hits, detail))
}

/// Makes each of `calls` (within the budget), checking each answer with
/// `check(arguments, result)`; the p50, and the count and p99 as detail.
fn p50_of(
    session: &mut Session,
    plan: &Plan,
    tool: &str,
    calls: &[Value],
    check: impl Fn(&Value, &Value) -> Result<()>,
) -> Result<(Duration, String)> {
    let mut times = Vec::with_capacity(calls.len());
    let loop_start = Instant::now();
    for args in calls {
        let (time, result) = call(session, tool, args.clone())?;
        check(args, &result).with_context(|| format!("{tool} {args}"))?;
        times.push(time);
        if loop_start.elapsed() > plan.budget {
            break;
        }
    }
    let n = times.len();
    let p99 = percentile(&mut times, 99.0);
    let p50 = percentile(&mut times, 50.0);
    Ok((p50, format!("n={n}, p99 {}", duration(p99))))
}

fn open_nodes(session: &mut Session, data: &Dataset, plan: &Plan) -> Result<(Duration, String)> {
    let mut rng = Rng::new(data.seed ^ 0x6f70_656e);
    let calls: Vec<Value> = (0..plan.samples.max(1))
        .map(|_| {
            let names: Vec<String> = (0..10)
                .map(|_| data.name(rng.below(data.entities)))
                .collect();
            json!({ "names": names })
        })
        .collect();
    p50_of(session, plan, "open_nodes", &calls, |args, result| {
        let mut names: Vec<&str> = args["names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        let (found, _) = counts(result)?;
        ensure!(
            found == names.len(),
            "found {found} of {} names",
            names.len()
        );
        Ok(())
    })
}

fn one_hit_search(
    session: &mut Session,
    data: &Dataset,
    plan: &Plan,
) -> Result<(Duration, String)> {
    let mut rng = Rng::new(data.seed ^ 0x6f6e_6568);
    let calls: Vec<Value> = (0..plan.samples.max(1))
        .map(|_| json!({ "query": data.unique_token(rng.below(data.entities)) }))
        .collect();
    p50_of(session, plan, "search_nodes", &calls, |_, result| {
        let (hits, _) = counts(result)?;
        ensure!(hits == 1, "a unique token found {hits} entities");
        Ok(())
    })
}

fn resident(server: &Server, session: &Session) -> Result<(u64, String)> {
    let mut total = 0;
    let mut parts = Vec::new();
    for (role, pid) in server.processes(session) {
        let (now, peak) =
            procfs::memory_kib(pid).with_context(|| format!("no /proc/{pid}/status"))?;
        total += now;
        parts.push(format!("{role} {} (peak {})", mib(now), mib(peak)));
    }
    Ok((total, parts.join(" + ")))
}

fn create_one(session: &mut Session, name: &str) -> Result<Value> {
    session.call_tool(
        "create_entities",
        json!({"entities": [{"name": name, "entityType": "bench", "observations": ["created one by one"]}]}),
    )
}

fn sequential_creates(session: &mut Session, prefix: &str, plan: &Plan) -> Result<(f64, String)> {
    let started = Instant::now();
    let mut done = 0usize;
    while done < plan.creates && started.elapsed() < plan.budget {
        let result = create_one(session, &format!("{prefix}-{done}"))?;
        tool_ok(&result).with_context(|| format!("create {done}"))?;
        let made = created(&result, "entities")?;
        ensure!(made == 1, "create {done} created {made} entities");
        done += 1;
    }
    let wall = session
        .last_reply_at()
        .unwrap_or_else(Instant::now)
        .saturating_duration_since(started);
    let note = if done < plan.creates {
        " (budget reached)"
    } else {
        ""
    };
    Ok((
        done as f64 / wall.as_secs_f64(),
        format!("{done} calls in {}{note}", duration(wall)),
    ))
}

fn normal_creates(
    server: &mut Server,
    plan: &Plan,
    report: &mut ServerReport,
) -> Result<(f64, String)> {
    let before = server.daemon_pid();
    server.restart_with_durability("normal")?;
    let mut session = start(server, "normal", plan)?;
    let after = server.daemon_pid();
    ensure!(
        after.is_some() && after != before,
        "no new daemon after the restart (pid before {before:?}, after {after:?})"
    );
    let mark = CpuMark::take(&server.processes(&session));
    let outcome = sequential_creates(&mut session, "seqn", plan);
    report.cpu.push(mark.line("single creates ×n, normal"));
    outcome
}

struct Concurrent {
    tried: u64,
    acknowledged: u64,
    errors: u64,
    first_error: Option<String>,
    lost: Result<u64>,
    rate: f64,
    wall: Duration,
}

/// One worker's tally: acknowledged names, failed calls, the first failure.
type Tally = (Vec<String>, u64, Option<String>, Instant);

fn concurrent_creates(server: &Server, plan: &Plan) -> Result<(Concurrent, CpuLine)> {
    let mut sessions = Vec::with_capacity(plan.processes);
    for p in 0..plan.processes {
        sessions.push(start(server, &format!("process {p}"), plan)?);
    }
    let processes: Vec<(&'static str, u32)> = {
        let mut all: Vec<(&'static str, u32)> = Vec::new();
        for session in &sessions {
            for entry in server.processes(session) {
                if !all.contains(&entry) {
                    all.push(entry);
                }
            }
        }
        all
    };
    let barrier = Barrier::new(plan.processes + 1);
    let (tallies, mark, started) = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .iter_mut()
            .enumerate()
            .map(|(p, session)| {
                let barrier = &barrier;
                scope.spawn(move || -> Tally {
                    barrier.wait();
                    let started = Instant::now();
                    let (mut acked, mut errors, mut first) = (Vec::new(), 0, None);
                    for k in 0..plan.creates {
                        if started.elapsed() > plan.budget {
                            break;
                        }
                        let name = format!("conc-{p}-{k}");
                        match create_one(session, &name).map(|r| tool_ok(&r)) {
                            Ok(Ok(())) => acked.push(name),
                            Ok(Err(e)) => {
                                errors += 1;
                                first.get_or_insert_with(|| format!("{e:#}"));
                            }
                            Err(e) => {
                                // A dead or silent server: no later call of
                                // this process can succeed.
                                errors += 1;
                                first.get_or_insert_with(|| format!("{e:#}"));
                                break;
                            }
                        }
                    }
                    let end = session.last_reply_at().unwrap_or_else(Instant::now);
                    (acked, errors, first, end)
                })
            })
            .collect();
        let mark = CpuMark::take(&processes);
        barrier.wait();
        let started = Instant::now();
        let tallies: Vec<Tally> = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    (
                        Vec::new(),
                        1,
                        Some("a worker thread panicked".into()),
                        Instant::now(),
                    )
                })
            })
            .collect();
        (tallies, mark, started)
    });
    let cpu = mark.line("4 processes × creates");
    drop(sessions);

    let mut acked: Vec<String> = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    let mut end = started;
    for (names, failed, first, finished) in tallies {
        acked.extend(names);
        errors += failed;
        if first_error.is_none() {
            first_error = first.map(|e| shorten(&e, 200));
        }
        end = end.max(finished);
    }
    let wall = end.saturating_duration_since(started);
    let acknowledged = acked.len() as u64;
    let lost = read_back(server, &acked, plan);
    Ok((
        Concurrent {
            tried: acknowledged + errors,
            acknowledged,
            errors,
            first_error,
            lost,
            rate: acknowledged as f64 / wall.as_secs_f64(),
            wall,
        },
        cpu,
    ))
}

/// How many of the acknowledged names a fresh session cannot find.
fn read_back(server: &Server, names: &[String], plan: &Plan) -> Result<u64> {
    let mut session = start(server, "read back", plan)?;
    let mut found = 0;
    for chunk in names.chunks(100) {
        let (_, result) = call(&mut session, "open_nodes", json!({ "names": chunk }))?;
        found += counts(&result)?.0;
    }
    Ok((names.len() - found) as u64)
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
