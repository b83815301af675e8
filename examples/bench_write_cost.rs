//! What one small write costs, and what it adds to the file: the figures
//! behind "a single create costs at most 1.2x what it cost before history".
//!
//! Run with `cargo run --release --example bench_write_cost`. It uses only
//! the store's oldest API, so the same file runs on a build from before
//! history too: `bench/write-cost` builds it both ways and runs the two
//! alternately, for a comparison in one run on one machine.
//!
//! Each create is one `create_entities` call of one entity with three
//! observations, in its own transaction (as a lone agent's call is), on a
//! file of 10,000 entities. Durability::Normal keeps fsync out of the
//! figure; `BENCH_DURABILITY=full` times the default durability instead,
//! where each commit waits for the disk (fewer creates then, since each
//! takes milliseconds). Then 10,000 (full: 1,000) such creates report the
//! file's growth.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use memgraphd::model::{Entity, GraphOp};
use memgraphd::store::{Durability, Store};

const BASE: usize = 10_000;

fn entity(i: usize) -> Entity {
    Entity::new(
        format!("Entity {i}"),
        "thing",
        [
            format!("observation one of entity {i}, a sentence of some length"),
            format!("observation two of entity {i} mentions another thing"),
            format!("observation three of entity {i}"),
        ],
    )
}

fn file_bytes(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("mg-write-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("memory.db");
    let full = match std::env::var("BENCH_DURABILITY").as_deref() {
        Ok("full") => true,
        Ok("normal") | Err(_) => false,
        Ok(other) => anyhow::bail!("BENCH_DURABILITY is normal or full, not {other}"),
    };
    let (durability, name, timed, growth) = if full {
        (Durability::Full, "full", 500, 1_000)
    } else {
        (Durability::Normal, "normal", 3_000, 10_000)
    };
    let mut store = Store::open(&path, durability).context("opening")?;
    for chunk in (0..BASE).collect::<Vec<_>>().chunks(1_000) {
        store.apply(&GraphOp::CreateEntities(
            chunk.iter().map(|i| entity(*i)).collect(),
        ))?;
    }
    let mut times: Vec<Duration> = Vec::with_capacity(timed);
    for i in BASE..BASE + timed {
        let op = GraphOp::CreateEntities(vec![entity(i)]);
        let started = Instant::now();
        store.apply(&op)?;
        times.push(started.elapsed());
    }
    times.sort();
    let p = |q: usize| times[(times.len() * q / 100).min(times.len() - 1)];
    println!(
        "single create (1 entity, 3 observations, durability {name}), {timed} runs on {BASE} entities: \
         p50 {:.1} µs, p90 {:.1} µs, mean {:.1} µs",
        p(50).as_secs_f64() * 1e6,
        p(90).as_secs_f64() * 1e6,
        times.iter().sum::<Duration>().as_secs_f64() * 1e6 / timed as f64
    );
    store.checkpoint()?;
    let before = file_bytes(&path);
    let start = BASE + timed;
    for i in start..start + growth {
        store.apply(&GraphOp::CreateEntities(vec![entity(i)]))?;
    }
    store.checkpoint()?;
    let after = file_bytes(&path);
    println!(
        "file growth for {growth} single creates: {:.2} MiB ({} bytes per create)",
        (after - before) as f64 / (1024.0 * 1024.0),
        (after - before) / growth as u64
    );
    store.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
