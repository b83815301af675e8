//! History at scale: `memory_history` of one entity with 1,000,000 changes
//! recorded, and what history costs on disk per 10,000 changes.
//!
//! Run with `cargo run --release --example bench_history`. Builds a file of
//! 10,000 entities, then makes 1,000,000 small changes (one observation
//! added to a random entity each; grouped 1,000 to a transaction, as the
//! daemon's group commit would under load), then times `memory_history`
//! of single entities (20 newest, then with `since`). Disk: the file's
//! growth over 10,000 changes; compare `bench_write_cost` on a build from
//! before history for what history adds.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use memgraphd::model::{Entity, GraphOp, HistoryQuery, ObservationAdd, Outcome};
use memgraphd::store::{Durability, Store};

const ENTITIES: usize = 10_000;
/// Changes recorded; `MEMGRAPHD_HISTORY_CHANGES` overrides it for a
/// quicker run on a slow machine.
const CHANGES: usize = 1_000_000;
const PER_BATCH: usize = 1_000;
const QUERIES: usize = 2_000;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn file_bytes(path: &std::path::Path) -> u64 {
    let wal = path.with_extension("db-wal");
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

fn add(entity: usize, n: usize) -> GraphOp {
    GraphOp::AddObservations(vec![ObservationAdd {
        entity_name: format!("Entity {entity}"),
        contents: vec![format!("fact number {n} about entity {entity}")],
    }])
}

fn changes(store: &mut Store, from: usize, count: usize, rng: &mut Rng) -> Result<()> {
    let mut n = from;
    while n < from + count {
        let mut batch = store.batch()?;
        for _ in 0..PER_BATCH.min(from + count - n) {
            batch.apply(&add(rng.below(ENTITIES), n))?;
            n += 1;
        }
        batch.commit()?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("mg-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("memory.db");
    let mut store = Store::open(&path, Durability::Normal).context("opening")?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for chunk in (0..ENTITIES).collect::<Vec<_>>().chunks(1_000) {
        let entities = chunk
            .iter()
            .map(|i| Entity::new(format!("Entity {i}"), "thing", ["first fact"]))
            .collect();
        store.apply(&GraphOp::CreateEntities(entities))?;
    }

    store.checkpoint()?;
    let before = file_bytes(&path);
    changes(&mut store, 0, 10_000, &mut rng)?;
    store.checkpoint()?;
    let growth = file_bytes(&path) - before;
    println!(
        "10,000 changes (one observation added each): the file grew {:.2} MiB, \
         {} bytes per change, the observation itself included",
        growth as f64 / (1024.0 * 1024.0),
        growth / 10_000
    );

    let total: usize = std::env::var("MEMGRAPHD_HISTORY_CHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CHANGES)
        .max(10_000);
    let started = Instant::now();
    changes(&mut store, 10_000, total - 10_000, &mut rng)?;
    println!(
        "recorded {total} changes in {:.1} s; database {:.0} MiB",
        started.elapsed().as_secs_f64(),
        file_bytes(&path) as f64 / (1024.0 * 1024.0)
    );

    for (label, since) in [("20 newest", None), ("since a time", Some(0))] {
        let mut times: Vec<Duration> = Vec::with_capacity(QUERIES);
        for _ in 0..QUERIES {
            let op = GraphOp::History(HistoryQuery {
                name: Some(format!("Entity {}", rng.below(ENTITIES))),
                since,
                project: None,
                limit: 20,
                before: None,
            });
            let t = Instant::now();
            let outcome = store.apply(&op)?;
            times.push(t.elapsed());
            let Outcome::History(page) = outcome else {
                anyhow::bail!("history answered {outcome:?}");
            };
            ensure!(!page.changes.is_empty(), "every entity has changes");
        }
        times.sort();
        println!(
            "memory_history name=X ({label}), {QUERIES} entities at random: p50 {:.3} ms, p99 {:.3} ms",
            times[QUERIES / 2].as_secs_f64() * 1e3,
            times[QUERIES * 99 / 100].as_secs_f64() * 1e3
        );
    }
    store.close()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
