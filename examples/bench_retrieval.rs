//! Speed of retrieval on a large memory, end to end through a shim: the real
//! `memgraphd mcp` spoken to over stdio, as an MCP client speaks to it.
//!
//! It loads 100,000 entities with 5 observations each (text drawn from a
//! skewed vocabulary, so some words are common and most are rare, as in real
//! notes) and prints:
//! 1. `search_memory` latency, p50 and p99, over queries of 2–3 words taken
//!    from a random entity's observations, and over exact names;
//! 2. a bounded `read_graph` page of 100 entities at several positions, p50;
//! 3. the cost of one write (`create_entities` of one entity with 5
//!    observations), p50, on a store of 10,000 entities, with durability
//!    `full` and `normal`, the median of three rounds; when
//!    `MEMGRAPHD_BASELINE_BIN` names an older `memgraphd` (one without the
//!    word index), the builds take turns and the ratio is printed; and what
//!    the word index takes on disk per 10,000 entities (`dbstat`).
//!
//! Figures are printed, not asserted. Run it against a release build:
//!
//! ```sh
//! cargo build --release && cargo run --release --example bench_retrieval
//! ```

mod common;

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use memgraphd::model::PageSource;
use memgraphd::shim::call::page_scope;
use memgraphd::shim::cursor::Tool;
use serde_json::{json, Value};

use common::synthetic::{self, vocabulary, Rng, OBSERVATIONS};
use common::{percentile, Home, Session};

const ENTITIES: usize = 100_000;
const BATCH: usize = 1_000;
const QUERIES: usize = 400;
const WARMUP: usize = 50;
const PAGE_CALLS: usize = 50;
const WRITE_STORE: usize = 10_000;
const WRITES: usize = 300;
/// Rounds of the write measurement, each build in turn.
const WRITE_ROUNDS: usize = 3;

/// Bytes the tables of FTS5 index `table` take in the database at `path`
/// (SQLite's `dbstat`), read once the daemon has stopped.
fn index_bytes(path: &std::path::Path, table: &str) -> Result<u64> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let bytes: i64 = conn.query_row(
        "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?1 || '%'",
        [table],
        |r| r.get(0),
    )?;
    Ok(bytes as u64)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench_retrieval failed: {e:#}");
        std::process::exit(1);
    }
}

/// Entity `i` of the synthetic memory, as the tools take it.
fn entity(i: usize, rng: &mut Rng, words: &[String]) -> Value {
    let e = synthetic::entity(i, rng, words);
    json!({"name": e.name, "entityType": e.entity_type, "observations": e.observations})
}

fn load(session: &mut Session, count: usize, seed: u64, words: &[String]) -> Result<Vec<Value>> {
    let mut rng = Rng(seed);
    let mut all = Vec::with_capacity(count);
    for start in (0..count).step_by(BATCH) {
        let batch: Vec<Value> = (start..(start + BATCH).min(count))
            .map(|i| entity(i, &mut rng, words))
            .collect();
        let result = session.call_tool("create_entities", json!({ "entities": batch }))?;
        if result["isError"] == json!(true) {
            bail!("loading failed: {result}");
        }
        all.extend(batch);
        if start % 20_000 == 0 {
            eprintln!("  loaded {start}…");
        }
    }
    Ok(all)
}

fn timed(session: &mut Session, tool: &str, args: Value) -> Result<(Duration, Value)> {
    let start = Instant::now();
    let result = session.call_tool(tool, args)?;
    let took = start.elapsed();
    if result["isError"] == json!(true) {
        bail!("{tool} failed: {result}");
    }
    Ok((took, result))
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn run() -> Result<()> {
    let words = vocabulary();
    let home = Home::new("mgr")?;
    println!("memgraphd bench_retrieval");
    println!("binary:  {}", home.bin.display());
    println!("version: {}", home.version());
    println!();

    eprintln!("[1/3] loading {ENTITIES} entities × {OBSERVATIONS} observations…");
    let mut session = home.session_with("bench", &["--durability", "normal"])?;
    let started = Instant::now();
    let loaded = load(&mut session, ENTITIES, 7, &words)?;
    let load_time = started.elapsed();
    println!(
        "loaded {ENTITIES} entities × {OBSERVATIONS} observations in {:.1} s",
        load_time.as_secs_f64()
    );

    eprintln!("[2/3] search_memory and pages…");
    let mut rng = Rng(42);
    let mut word_times = Vec::new();
    let mut name_times = Vec::new();
    let mut empty = 0;
    let mut name_first = 0;
    let mut names_asked = 0;
    for q in 0..WARMUP + QUERIES {
        let target = &loaded[rng.below(loaded.len())];
        let exact = q % 5 == 0;
        let query = if exact {
            target["name"].as_str().unwrap_or("").to_owned()
        } else {
            let observation = target["observations"][rng.below(OBSERVATIONS)]
                .as_str()
                .unwrap_or("")
                .trim_end_matches('.');
            let own: Vec<&str> = observation.split(' ').collect();
            let n = 2 + rng.below(2);
            (0..n)
                .map(|_| own[rng.below(own.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (took, result) = timed(&mut session, "search_memory", json!({ "query": query }))?;
        if q < WARMUP {
            continue;
        }
        let results = result["structuredContent"]["results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if results.is_empty() {
            empty += 1;
        }
        if exact {
            names_asked += 1;
            if results.first().map(|r| &r["name"]) == Some(&target["name"]) {
                name_first += 1;
            }
            name_times.push(took);
        } else {
            word_times.push(took);
        }
    }
    let mut all_times: Vec<Duration> = word_times.iter().chain(&name_times).copied().collect();

    let scope = page_scope(Tool::ReadGraph, &PageSource::All, &[]);
    let mut page_rows = Vec::new();
    for offset in [0u64, 25_000, 50_000, 75_000, 99_900] {
        let mut times = Vec::new();
        for _ in 0..PAGE_CALLS {
            let mut args = json!({"limit": 100});
            if offset > 0 {
                args["cursor"] = json!(scope.encode(&[offset]));
            }
            let (took, result) = timed(&mut session, "read_graph", args)?;
            let shown = result["structuredContent"]["entities"]
                .as_array()
                .map_or(0, Vec::len);
            if shown != 100 {
                bail!("a page at {offset} held {shown} entities");
            }
            times.push(took);
        }
        page_rows.push((offset, percentile(&mut times, 50.0)));
    }
    let (took, guarded) = timed(&mut session, "read_graph", json!({}))?;
    let guarded_chars = guarded["content"][0]["text"]
        .as_str()
        .map_or(0, |t| t.chars().count());
    session.close()?;
    let db_bytes = std::fs::metadata(home.dir.path().join("memory.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    home.stop_daemon()?;

    eprintln!("[3/3] single writes…");
    let mut bins = vec![("this build", home.bin.clone())];
    if let Some(baseline) = std::env::var_os("MEMGRAPHD_BASELINE_BIN") {
        bins.push(("baseline", baseline.into()));
    }
    // The builds take turns, round after round, so that a slow spell of a
    // shared machine falls on both; each figure is the median of the rounds.
    let mut p50s: Vec<(&str, &str, Vec<Duration>)> = Vec::new();
    let mut word_index_bytes = None;
    for round in 0..WRITE_ROUNDS {
        for (label, bin) in &bins {
            for durability in ["full", "normal"] {
                let mut h = Home::new("mgw")?;
                h.bin = bin.clone();
                let mut s = h.session_with("writes", &["--durability", durability])?;
                load(&mut s, WRITE_STORE, 11, &words)?;
                let mut rng = Rng(99);
                let mut times = Vec::new();
                for i in 0..WRITES {
                    let e = entity(WRITE_STORE + i, &mut rng, &words);
                    let (took, _) = timed(&mut s, "create_entities", json!({"entities": [e]}))?;
                    times.push(took);
                }
                s.close()?;
                h.stop_daemon()?;
                if round == 0 && *label == "this build" && durability == "normal" {
                    word_index_bytes =
                        Some(index_bytes(&h.dir.path().join("memory.db"), "word_fts")?);
                }
                let p50 = percentile(&mut times, 50.0);
                match p50s.iter_mut().find(|r| r.0 == *label && r.1 == durability) {
                    Some(row) => row.2.push(p50),
                    None => p50s.push((*label, durability, vec![p50])),
                }
            }
        }
    }
    let write_rows: Vec<(&str, &str, Duration)> = p50s
        .into_iter()
        .map(|(label, durability, mut rounds)| (label, durability, percentile(&mut rounds, 50.0)))
        .collect();

    println!();
    println!("| measure | value | target |");
    println!("| --- | --- | --- |");
    println!(
        "| search_memory p50 (all {} queries) | {} | ≤ 2 ms |",
        all_times.len(),
        ms(percentile(&mut all_times, 50.0))
    );
    println!(
        "| search_memory p99 (all) | {} | ≤ 10 ms |",
        ms(percentile(&mut all_times, 99.0))
    );
    println!(
        "| search_memory p50 / p99, 2–3 words | {} / {} | |",
        ms(percentile(&mut word_times, 50.0)),
        ms(percentile(&mut word_times, 99.0))
    );
    println!(
        "| search_memory p50 / p99, exact names | {} / {} | |",
        ms(percentile(&mut name_times, 50.0)),
        ms(percentile(&mut name_times, 99.0))
    );
    println!("| exact name ranked first | {name_first} of {names_asked} | |");
    println!("| searches with no result | {empty} of {QUERIES} | |");
    for (offset, p50) in &page_rows {
        println!(
            "| read_graph limit 100 after entity {offset}, p50 | {} | ≤ 2 ms |",
            ms(*p50)
        );
    }
    println!(
        "| read_graph without limit (guarded: {guarded_chars} chars) | {} | |",
        ms(took)
    );
    println!(
        "| database, {ENTITIES} entities × {OBSERVATIONS} observations | {:.1} MiB | |",
        db_bytes as f64 / (1 << 20) as f64
    );
    for (label, durability, p50) in &write_rows {
        let ratio = write_rows
            .iter()
            .find(|r| r.0 == "baseline" && r.1 == *durability && *label != "baseline")
            .map(|base| {
                format!(
                    " ({:.2}× baseline)",
                    p50.as_secs_f64() / base.2.as_secs_f64()
                )
            })
            .unwrap_or_default();
        println!(
            "| one write, {label}, durability {durability}, p50, median of {WRITE_ROUNDS} rounds | {}{ratio} | ≤ 1.2× baseline |",
            ms(*p50)
        );
    }
    if let Some(bytes) = word_index_bytes {
        let per_10k = bytes as f64 / ((WRITE_STORE + WRITES) as f64 / 10_000.0);
        println!(
            "| word index on disk per 10,000 entities × 5 observations (dbstat) | {:.2} MiB | |",
            per_10k / (1 << 20) as f64
        );
    }
    Ok(())
}
