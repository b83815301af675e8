//! `search_memory` in process, timed in CPU time: the store's share of
//! `bench_retrieval`'s figures, on the same memory (100,000 entities × 5
//! observations of made-up words, the same generator and seeds) and the same
//! queries, without the shim and the socket. CPU time of the calling thread
//! (`CLOCK_THREAD_CPUTIME_ID`) moves much less than wall time when other
//! work shares the machine.
//!
//! ```sh
//! cargo run --release --example bench_search_cpu            # N=10000 or N=1000000 to scale
//! ```
//!
//! The memory is built once per size and kept in the temp directory
//! (`memgraphd-search-cpu-N.db`); delete it after a change to how writes
//! index.

mod common;

use std::time::Duration;

use anyhow::{Context, Result};
use memgraphd::model::{Entity, GraphOp, MemorySearch, Outcome, SearchScope};
use memgraphd::store::{Durability, Store};

use common::synthetic::{entity, vocabulary, Rng, OBSERVATIONS};

const QUERIES: usize = 400;
const WARMUP: usize = 50;

/// Nanoseconds this thread has run on a CPU.
fn cpu_nanos() -> Result<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    anyhow::ensure!(rc == 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Ok(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
}

fn main() -> Result<()> {
    let n: usize = match std::env::var("N") {
        Ok(v) => v.parse().context("N must be a number of entities")?,
        Err(_) => 100_000,
    };
    let path = std::env::temp_dir().join(format!("memgraphd-search-cpu-{n}.db"));
    let words = vocabulary();
    let fresh = !path.exists();
    let mut store = Store::open(&path, Durability::Normal).context("opening the store")?;
    let mut rng = Rng(7);
    let mut all = Vec::with_capacity(n);
    for start in (0..n).step_by(1_000) {
        let batch: Vec<Entity> = (start..(start + 1_000).min(n))
            .map(|i| entity(i, &mut rng, &words))
            .collect();
        if fresh {
            store.apply(&GraphOp::CreateEntities(batch.clone()))?;
        }
        all.extend(batch);
    }
    let project = std::env::var("PROJECT").ok();
    let mut rng = Rng(42);
    let mut times: Vec<(Duration, String)> = Vec::with_capacity(QUERIES);
    // Word queries whose entity is in the first page: a guard that speed
    // was not bought with recall.
    let (mut asked, mut found) = (0, 0);
    for q in 0..WARMUP + QUERIES {
        let target = &all[rng.below(all.len())];
        let query = if q % 5 == 0 {
            target.name.clone()
        } else {
            let observation = target.observations[rng.below(OBSERVATIONS)].trim_end_matches('.');
            let own: Vec<&str> = observation.split(' ').collect();
            let k = 2 + rng.below(2);
            (0..k)
                .map(|_| own[rng.below(own.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let op = GraphOp::SearchMemory(MemorySearch {
            query: query.clone(),
            limit: 10,
            entity_types: vec![],
            scope: SearchScope::All,
            project: project.clone(),
            resume: None,
            budget: None,
        });
        let before = cpu_nanos()?;
        let outcome = store.read(&op)?;
        let took = Duration::from_nanos(cpu_nanos()? - before);
        if q >= WARMUP {
            times.push((took, query));
            let Outcome::Ranked(page) = outcome else {
                anyhow::bail!("search_memory answered {outcome:?}");
            };
            if q % 5 != 0 {
                asked += 1;
                if page.results.iter().any(|r| r.name == target.name) {
                    found += 1;
                }
            }
        }
    }
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)].0;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "search_memory in process, {n} entities × {OBSERVATIONS} observations, {QUERIES} queries, \
         CPU time: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        ms(at(0.5)),
        ms(at(0.9)),
        ms(at(0.99))
    );
    println!("word queries whose entity is in the top 10: {found} of {asked}");
    println!("slowest:");
    for (took, query) in times.iter().rev().take(5) {
        println!("  {:.2} ms  {query}", ms(*took));
    }
    Ok(())
}
