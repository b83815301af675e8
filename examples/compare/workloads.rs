//! The workloads, run on one server at a time: the bulk load, whole-graph
//! and search reads, bounded reads, single creates, concurrent creates, and
//! the server's footprint on disk and in memory.
//!
//! Each call's time is from sending the request to the arrival of the
//! reply's last byte, so this client's JSON parsing is not counted. Every
//! answer is checked (entity counts, hits, created names), and a failure is
//! recorded for its row while the other workloads go on.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde_json::json;

use crate::answers::tool_ok;
use crate::common::Session;
use crate::dataset::{Dataset, BROAD_QUERY};
use crate::measure::{
    broad_search, concurrent_creates, load, normal_creates, one_hit_search, open_nodes, read_graph,
    resident, sequential_creates,
};
use crate::procfs;
use crate::report::{duration, thousands, Figure};
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
            Row::CreatesNormal => {
                "… memgraphd `--durability normal` (ratio: to the peers' creates)".to_string()
            }
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
pub struct CpuMark {
    wall: Instant,
    cpu: Vec<(&'static str, u32, Option<Duration>)>,
    /// memgraphd's daemon, thread by thread: the writer thread runs SQLite,
    /// the main thread moves frames.
    daemon_threads: Option<(u32, Vec<(String, Duration)>)>,
}

impl CpuMark {
    pub fn take(processes: &[(&'static str, u32)]) -> CpuMark {
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

    pub fn line(&self, workload: &'static str) -> CpuLine {
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

pub fn start(server: &Server, name: &str, plan: &Plan) -> Result<Session> {
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
