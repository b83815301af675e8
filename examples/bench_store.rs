//! Benchmark of the SQLite store, in-process, on a temporary file with
//! `Durability::Full`: the figures behind the performance targets of the
//! store (bulk load, search, open_nodes, read_graph).
//!
//! Run with `cargo run --release --example bench_store`.
//!
//! The data is generated, deterministic, and shaped like an agent's memory:
//! 10,000 entities with two-word names, a type from a short list, and five
//! observations of 6 to 12 words each; 5,000 relations between random
//! entities. Generated words are English-looking syllables that can never
//! contain [`BROAD`] (its `io`) nor [`MISS`] (its `x`), and the run checks
//! the hit counts. [`BROAD`] is written into one observation of every
//! even-numbered entity, so it hits exactly half.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context, Result};
use memgraphd::model::{Entity, Graph, GraphOp, Outcome, Relation};
use memgraphd::store::{Durability, Store};

const ENTITIES: usize = 10_000;
const OBSERVATIONS_PER_ENTITY: usize = 5;
const RELATIONS: usize = 5_000;
/// Entities per `create_entities` call during the bulk load.
const ENTITIES_PER_CALL: usize = 5_000;
/// Timed runs of each read; p99 of 200 runs is the second slowest.
const ITERATIONS: usize = 200;
/// A word in one observation of every even-numbered entity.
const BROAD: &str = "heliotrope";
/// A query that matches nothing.
const MISS: &str = "quixotic wax";
/// Where to start looking for a name that only its own entity matches: the one-hit query.
const TARGET_ENTITY: usize = 4_321;

const ENTITY_TYPES: &[&str] = &[
    "person", "project", "library", "service", "decision", "bug", "meeting", "concept",
];
const RELATION_TYPES: &[&str] = &[
    "works_on",
    "depends_on",
    "owns",
    "reviewed",
    "mentions",
    "blocks",
];

fn main() -> Result<()> {
    let dir = TempDir::new()?;
    let path = dir.0.join("memory.db");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let data = Data::generate(&mut rng);
    let mut store = Store::open(&path, Durability::Full)
        .with_context(|| format!("opening {}", path.display()))?;

    println!(
        "memgraphd store benchmark: {ENTITIES} entities x {OBSERVATIONS_PER_ENTITY} observations, \
         {RELATIONS} relations, Durability::Full"
    );
    println!("database: {}", path.display());
    println!();

    // Bulk load, as an agent or an import would: a few large calls.
    let start = Instant::now();
    let mut created = 0;
    for chunk in data.entities.chunks(ENTITIES_PER_CALL) {
        match store.apply(&GraphOp::CreateEntities(chunk.to_vec()))? {
            Outcome::EntitiesCreated(c) => created += c.created.len(),
            other => anyhow::bail!("create_entities answered {other:?}"),
        }
    }
    let load_entities = start.elapsed();
    ensure!(created == ENTITIES, "created {created} entities");
    let start = Instant::now();
    match store.apply(&GraphOp::CreateRelations(data.relations.clone()))? {
        Outcome::RelationsCreated(r) => {
            ensure!(r.len() == RELATIONS, "created {} relations", r.len())
        }
        other => anyhow::bail!("create_relations answered {other:?}"),
    }
    let load_relations = start.elapsed();
    let counts = store.counts()?;
    ensure!(
        counts.observations == (ENTITIES * OBSERVATIONS_PER_ENTITY) as u64,
        "stored {} observations",
        counts.observations
    );

    // What the daemon does when it falls idle after a burst of writes.
    let start = Instant::now();
    store.optimize_search()?;
    let optimize = start.elapsed();
    println!(
        "idle index merge after the load: {:.1} ms",
        optimize.as_secs_f64() * 1e3
    );

    let search = |query: &str| GraphOp::SearchNodes {
        query: query.to_owned(),
    };
    // A full name is almost always unique as a substring too; take the first
    // from TARGET_ENTITY on that is.
    let one_hit = data.entities[TARGET_ENTITY..]
        .iter()
        .map(|e| e.name.clone())
        .find(|name| {
            matches!(store.apply(&search(name)), Ok(Outcome::Graph(g)) if g.entities.len() == 1)
        })
        .context("no name matches only its own entity")?;
    let hits_one = time_op(&mut store, |_| search(&one_hit), Some(1))?;
    let miss = time_op(&mut store, |_| search(MISS), Some(0))?;
    let broad = time_op(&mut store, |_| search(BROAD), Some(ENTITIES / 2))?;
    let open = time_op(
        &mut store,
        |i| {
            let mut rng = Rng(i as u64 + 1);
            let names = (0..10)
                .map(|_| data.entities[rng.below(ENTITIES)].name.clone())
                .collect();
            GraphOp::OpenNodes(names)
        },
        None,
    )?;
    let read_all = time_op(&mut store, |_| GraphOp::ReadGraph, Some(ENTITIES))?;
    store.close()?;

    let rows = [
        Row::once(
            &format!(
                "bulk load: {ENTITIES} entities ({} calls)",
                ENTITIES.div_ceil(ENTITIES_PER_CALL)
            ),
            load_entities,
            Some(ms(500.0)),
        ),
        Row::once(
            &format!("bulk load: {RELATIONS} relations (1 call)"),
            load_relations,
            None,
        ),
        Row::timed(
            &format!("search_nodes, 1 hit ({one_hit:?})"),
            &hits_one,
            Some(ms(0.2)),
        ),
        Row::timed(&format!("search_nodes, miss ({MISS:?})"), &miss, None),
        Row::timed(
            &format!("search_nodes, {} hits ({BROAD:?})", ENTITIES / 2),
            &broad,
            Some(ms(30.0)),
        ),
        Row::timed("open_nodes, 10 names", &open, Some(ms(0.2))),
        Row::timed(
            &format!("read_graph ({ENTITIES} entities)"),
            &read_all,
            None,
        ),
    ];
    print_table(&rows);
    println!();
    println!(
        "p50/p99 over {ITERATIONS} runs each; a target applies to the p50 (to the total for a bulk load)."
    );
    Ok(())
}

// ---- data ------------------------------------------------------------------

struct Data {
    entities: Vec<Entity>,
    relations: Vec<Relation>,
}

impl Data {
    fn generate(rng: &mut Rng) -> Data {
        let vocabulary: Vec<String> = (0..2_000).map(|_| rng.word(1, 3)).collect();
        let mut names = HashSet::new();
        let mut entities = Vec::with_capacity(ENTITIES);
        for i in 0..ENTITIES {
            let name = loop {
                let name = format!(
                    "{} {}",
                    capitalized(&rng.word(1, 2)),
                    capitalized(&rng.word(2, 3))
                );
                if names.insert(name.clone()) {
                    break name;
                }
            };
            let observations = (0..OBSERVATIONS_PER_ENTITY)
                .map(|j| {
                    let words = 6 + rng.below(7);
                    let mut sentence: Vec<&str> = (0..words)
                        .map(|_| vocabulary[rng.below(vocabulary.len())].as_str())
                        .collect();
                    if j == 0 && i % 2 == 0 {
                        sentence.insert(words / 2, BROAD);
                    }
                    capitalized(&sentence.join(" "))
                })
                .collect();
            entities.push(Entity {
                name,
                entity_type: ENTITY_TYPES[rng.below(ENTITY_TYPES.len())].to_owned(),
                observations,
            });
        }
        let mut seen = HashSet::new();
        let mut relations = Vec::with_capacity(RELATIONS);
        while relations.len() < RELATIONS {
            let (from, to) = (rng.below(ENTITIES), rng.below(ENTITIES));
            let kind = rng.below(RELATION_TYPES.len());
            if seen.insert((from, to, kind)) {
                relations.push(Relation {
                    from: entities[from].name.clone(),
                    to: entities[to].name.clone(),
                    relation_type: RELATION_TYPES[kind].to_owned(),
                });
            }
        }
        Data {
            entities,
            relations,
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// xorshift64*: deterministic, and enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// English-looking syllables (onset, vowel, optional coda), `min..=max`
    /// of them. Every syllable starts with a consonant and no vowel pair is
    /// `io`, so no word contains [`BROAD`]; no `x` anywhere, so none
    /// contains [`MISS`].
    fn word(&mut self, min: usize, max: usize) -> String {
        const ONSETS: &[&str] = &[
            "b", "bl", "br", "c", "ch", "cl", "cr", "d", "dr", "f", "fl", "fr", "g", "gl", "gr",
            "h", "j", "k", "l", "m", "n", "p", "pl", "pr", "qu", "r", "s", "sh", "sk", "sl", "sp",
            "st", "str", "t", "th", "tr", "v", "w", "wh", "z",
        ];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "y"];
        const CODAS: &[&str] = &[
            "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck",
        ];
        let syllables = min + self.below(max - min + 1);
        let mut word = String::new();
        for _ in 0..syllables {
            for part in [ONSETS, VOWELS, CODAS] {
                word.push_str(part[self.below(part.len())]);
            }
        }
        word
    }
}

// ---- timing ----------------------------------------------------------------

/// Runs the operation `op(i)` for `i` in `0..ITERATIONS` and returns the
/// sorted durations; checks the number of entities found when `expect` says.
fn time_op(
    store: &mut Store,
    op: impl Fn(usize) -> GraphOp,
    expect: Option<usize>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(ITERATIONS);
    for i in 0..ITERATIONS {
        let op = op(i);
        let start = Instant::now();
        let outcome = store.apply(&op)?;
        times.push(start.elapsed());
        let Outcome::Graph(Graph { entities, .. }) = outcome else {
            anyhow::bail!("{} answered {outcome:?}", op.tool_name());
        };
        if let Some(expected) = expect {
            ensure!(
                entities.len() == expected,
                "{op:?} found {} entities, expected {expected}",
                entities.len()
            );
        }
    }
    times.sort();
    Ok(times)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1]
}

fn ms(millis: f64) -> Duration {
    Duration::from_secs_f64(millis / 1_000.0)
}

struct Row {
    label: String,
    p50: Duration,
    p99: Option<Duration>,
    target: Option<Duration>,
}

impl Row {
    fn once(label: &str, took: Duration, target: Option<Duration>) -> Row {
        Row {
            label: label.to_owned(),
            p50: took,
            p99: None,
            target,
        }
    }

    fn timed(label: &str, sorted: &[Duration], target: Option<Duration>) -> Row {
        Row {
            label: label.to_owned(),
            p50: percentile(sorted, 50),
            p99: Some(percentile(sorted, 99)),
            target,
        }
    }
}

fn show(d: Duration) -> String {
    let millis = d.as_secs_f64() * 1_000.0;
    if millis < 1.0 {
        format!("{millis:.3} ms")
    } else {
        format!("{millis:.1} ms")
    }
}

fn print_table(rows: &[Row]) {
    let width = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0);
    println!(
        "{:<width$}  {:>11}  {:>11}  {:>11}  result",
        "operation", "p50 / total", "p99", "target"
    );
    println!("{}", "-".repeat(width + 2 + 11 + 2 + 11 + 2 + 11 + 2 + 6));
    for row in rows {
        let (target, verdict) = match row.target {
            Some(t) if row.p50 < t => (format!("< {}", show(t)), "ok"),
            Some(t) => (format!("< {}", show(t)), "MISSED"),
            None => ("-".to_owned(), ""),
        };
        println!(
            "{:<width$}  {:>11}  {:>11}  {:>11}  {verdict}",
            row.label,
            show(row.p50),
            row.p99.map(show).unwrap_or_else(|| "-".to_owned()),
            target,
        );
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path =
            std::env::temp_dir().join(format!("memgraphd-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
