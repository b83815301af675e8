//! Side-by-side comparison of memgraphd with the two servers it replaces:
//! the official MCP memory server (`@modelcontextprotocol/server-memory`)
//! and the SQLite seed (`@pepk/mcp-memory-sqlite`).
//!
//! One client drives every server the way an agent's MCP client does, over
//! stdio (newline-delimited JSON-RPC), one server at a time, each fresh on
//! its own scratch directory, and loads each with the same seeded graph. It
//! prints, for every workload, each server's figure and the ratio memgraphd
//! ÷ peer, all from one run: the bulk load, whole-graph and broad reads,
//! bounded reads, single creates (memgraphd with `full` and `normal`
//! durability), concurrent creates from several processes (errors and lost
//! writes read back), bytes on disk and resident memory, plus the server CPU
//! of each workload from `/proc`.
//!
//! The peers are npm packages that `bench/compare` installs (pinned in
//! `bench/peers/`) under `target/peers/`; a peer that is missing or fails to
//! start is reported and the others are measured. Run it all with:
//!
//! ```sh
//! bench/compare                      # 10,000 entities
//! bench/compare --entities 100000    # the big run
//! ```
//!
//! memgraphd runs on a private database and socket in a temporary directory,
//! and its daemon is stopped at the end (and, should the run be interrupted,
//! exits by itself a minute after its last session). Every call has a reply
//! timeout and every loop a time budget, so a stuck server cannot hang the
//! run.

#[path = "compare/answers.rs"]
mod answers;
mod common;
#[path = "compare/dataset.rs"]
mod dataset;
#[path = "compare/fsync.rs"]
mod fsync;
#[path = "compare/measure.rs"]
mod measure;
#[path = "compare/procfs.rs"]
mod procfs;
#[path = "compare/report.rs"]
mod report;
#[path = "compare/servers.rs"]
mod servers;
#[path = "compare/workloads.rs"]
mod workloads;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;

use dataset::Dataset;
use servers::{Kind, Server};
use workloads::Plan;

/// Compare memgraphd with the official memory server and the SQLite seed.
#[derive(Parser)]
#[command(name = "compare")]
struct Args {
    /// Entities to load.
    #[arg(long, default_value_t = 10_000)]
    entities: usize,
    /// Observations per entity.
    #[arg(long, default_value_t = 5)]
    observations: usize,
    /// Relations to load [default: half the entities].
    #[arg(long)]
    relations: Option<usize>,
    /// Seed of the generated graph and of the picks.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Items per create call of the bulk load.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Samples of each whole-graph read.
    #[arg(long, default_value_t = 3)]
    reads: usize,
    /// Samples of each bounded read.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Single creates, sequentially and per concurrent process.
    #[arg(long, default_value_t = 500)]
    creates: usize,
    /// Concurrent processes creating at once.
    #[arg(long, default_value_t = 4)]
    processes: usize,
    /// Seconds any loop of calls may take on one server.
    #[arg(long, default_value_t = 120)]
    budget: u64,
    /// Seconds the bulk load may take on one server.
    #[arg(long, default_value_t = 1800)]
    load_budget: u64,
    /// Seconds one reply may take.
    #[arg(long, default_value_t = 120)]
    reply_timeout: u64,
    /// The servers to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "memgraphd,official,seed")]
    servers: Vec<String>,
    /// Where the peers are installed [default: target/peers].
    #[arg(long, env = "COMPARE_PEERS")]
    peers: Option<PathBuf>,
    /// The node binary that runs the peers.
    #[arg(long, env = "COMPARE_NODE", default_value = "node")]
    node: PathBuf,
    /// Copy each server's data files here after the run, to inspect them.
    #[arg(long)]
    keep: Option<PathBuf>,
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("compare failed: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<()> {
    let kinds = args
        .servers
        .iter()
        .map(|s| Kind::parse(s.trim()))
        .collect::<Result<Vec<_>>>()?;
    if args.entities == 0 || args.batch == 0 || args.processes == 0 {
        bail!("--entities, --batch and --processes must be at least 1");
    }
    let data = Dataset {
        entities: args.entities,
        observations: args.observations,
        relations: args.relations.unwrap_or(args.entities / 2),
        seed: args.seed,
    };
    let plan = Plan {
        batch: args.batch,
        reads: args.reads,
        samples: args.samples,
        creates: args.creates,
        processes: args.processes,
        budget: Duration::from_secs(args.budget),
        load_budget: Duration::from_secs(args.load_budget),
        reply_timeout: Duration::from_secs(args.reply_timeout),
    };
    let peers = match args.peers {
        Some(dir) => dir,
        None => default_peers()?,
    };
    // Each peer runs in its own scratch directory: the path must not be
    // relative.
    let peers =
        std::path::absolute(&peers).with_context(|| format!("resolving {}", peers.display()))?;
    let started = Instant::now();
    println!("memgraphd compared with its peers");
    println!("machine: {}", procfs::machine());
    println!("date:    {}", today());
    println!("load:    {} (before the run)", procfs::load_average());
    println!(
        "graph:   {} entities × {} observations, {} relations, seed {}",
        data.entities, data.observations, data.relations, data.seed
    );
    match fsync::median(200) {
        Ok(sync) => println!(
            "fsync:   {} per 4 KiB append + fdatasync (median of 200): at most {:.0} \
             sequential commits/s that each wait for the disk",
            report::duration(sync),
            1.0 / sync.as_secs_f64().max(1e-9)
        ),
        Err(e) => println!("fsync:   not measured: {e:#}"),
    }
    println!();

    let mut results = Vec::new();
    for kind in kinds {
        eprintln!("[{}]", kind.label());
        let server = match kind {
            Kind::Memgraphd => Server::memgraphd(),
            peer => Server::peer(peer, &peers, &args.node),
        };
        let mut server = match server {
            Ok(server) => server,
            Err(e) => {
                let why = format!("not measured: {e:#}");
                eprintln!("  {}: {why}", kind.label());
                println!("{}: {why}", kind.label());
                results.push((kind, failed_report(&why)));
                continue;
            }
        };
        println!("{}: {}", kind.label(), server.description);
        let clock = Instant::now();
        let report = workloads::run(&mut server, &data, &plan);
        eprintln!(
            "  {}: done in {}",
            kind.label(),
            report::duration(clock.elapsed())
        );
        if let Some(dest) = &args.keep {
            match server.keep_data(dest) {
                Ok(into) => eprintln!("  {}: data kept in {}", kind.label(), into.display()),
                Err(e) => eprintln!("  {}: keeping its data: {e:#}", kind.label()),
            }
        }
        let mut report = report;
        let stopped = server.finish();
        if let Err(e) = &stopped {
            eprintln!("  {}: stopping: {e:#}", kind.label());
        }
        // A server that never loaded keeps the reason it gave.
        if report.loaded() {
            let (bytes, files) = match stopped.and_then(|()| server.data_bytes()) {
                Ok((bytes, files)) => (Ok(report::Figure::Bytes(bytes)), Some(files)),
                Err(e) => (Err(e), None),
            };
            report.set(workloads::Row::DiskStopped, bytes, files);
        }
        results.push((kind, report));
    }

    println!();
    report::print(&results, &data, &plan);
    println!();
    println!(
        "run took {}; load average after: {}",
        report::duration(started.elapsed()),
        procfs::load_average()
    );
    Ok(())
}

fn failed_report(why: &str) -> workloads::ServerReport {
    let mut report = workloads::ServerReport::default();
    for row in workloads::Row::ALL {
        report.cells.insert(
            row,
            workloads::Cell {
                figure: Err(why.to_string()),
                detail: None,
            },
        );
    }
    report
}

/// `target/peers`, beside the `target/<profile>/examples/compare` running.
fn default_peers() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding the running example")?;
    let target = exe
        .ancestors()
        .nth(3)
        .with_context(|| format!("{} has no target directory", exe.display()))?;
    Ok(target.join("peers"))
}

/// Today's UTC date, `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let at = memgraphd::shim::render::rfc3339(millis);
    at.get(..10).unwrap_or(&at).to_owned()
}
