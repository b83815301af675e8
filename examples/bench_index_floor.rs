//! What SQLite itself needs to store a bulk load, with and without the two
//! search indexes: the floor under memgraphd's own load time, and the
//! measurement behind "the bulk load cannot reach 0.7x a store without
//! search indexes".
//!
//! Run with `cargo run --release --example bench_index_floor`.
//!
//! The same 10,000 entities x 5 observations are written four ways, each on
//! a fresh file in WAL mode with `synchronous=FULL`, in transactions of 100
//! entities (as `bench/compare` loads them through the tools):
//! 1. the rows alone, in memgraphd's tables and their indexes, by bare
//!    SQL: what a store with no search index writes;
//! 2. the same plus the word index (FTS5, unicode61, with positions);
//! 3. the same plus the trigram index (FTS5 trigram, no positions): every
//!    index row memgraphd writes, in rising rowid order, by bare SQL;
//! 4. memgraphd's store, in process: the rows, both indexes and history.
//!
//! Each is run `ROUNDS` times, alternating, and the fastest run is kept: the
//! machine's noise only ever adds time. The size is the database file's
//! after a checkpoint that empties the WAL.

#[path = "common/synthetic.rs"]
mod synthetic;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use memgraphd::model::{Entity, GraphOp};
use memgraphd::store::{words, Durability, Store};
use rusqlite::{params, Connection};

const ENTITIES: usize = 10_000;
const PER_CALL: usize = 100;
const ROUNDS: usize = 3;

/// How much of memgraphd's indexing a bare-SQL run writes.
#[derive(Clone, Copy, PartialEq, PartialOrd)]
enum Indexes {
    None,
    Words,
    WordsAndTrigrams,
}

const TABLES: &str = "
    CREATE TABLE entities (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, entity_type TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE observations (
        id INTEGER PRIMARY KEY, entity_id INTEGER NOT NULL REFERENCES entities(id),
        content TEXT NOT NULL, created_at INTEGER NOT NULL, content_hash INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX observations_by_entity ON observations(entity_id);
    CREATE INDEX observations_by_content ON observations(entity_id, content_hash);";

const WORD_INDEX: &str = "
    CREATE VIRTUAL TABLE word_fts USING fts5(
        name, type, body, content = '', contentless_delete = 1,
        tokenize = \"unicode61 remove_diacritics 2 tokenchars '_-.'\"
    );";

const TRIGRAM_INDEX: &str = "
    CREATE VIRTUAL TABLE trigram_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );";

/// The store's hash of an observation's text (FNV-1a, 64 bits).
fn fnv1a(content: &str) -> i64 {
    let hash = content.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash as i64
}

fn bare_sql(path: &Path, entities: &[Entity], indexes: Indexes) -> Result<(Duration, u64)> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(TABLES)?;
    if indexes >= Indexes::Words {
        conn.execute_batch(WORD_INDEX)?;
    }
    if indexes >= Indexes::WordsAndTrigrams {
        conn.execute_batch(TRIGRAM_INDEX)?;
    }
    let started = Instant::now();
    let (mut entity_id, mut observation_id) = (0i64, 0i64);
    for call in entities.chunks(PER_CALL) {
        let tx = conn.transaction()?;
        {
            let mut entity = tx.prepare_cached(
                "INSERT INTO entities (id, name, entity_type, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 0, 0) ON CONFLICT (name) DO NOTHING",
            )?;
            // An entity holds a text once: looked up by its hash, then
            // compared, as the store does.
            let mut held = tx.prepare_cached(
                "SELECT 1 FROM observations
                 WHERE entity_id = ?1 AND content_hash = ?2 AND content = ?3",
            )?;
            let mut observation = tx.prepare_cached(
                "INSERT INTO observations (id, entity_id, content, created_at, content_hash)
                 VALUES (?1, ?2, ?3, 0, ?4)",
            )?;
            // (entity id, observation id, content) of the call, for the indexes.
            let mut written = Vec::new();
            for e in call {
                entity_id += 1;
                entity.execute(params![entity_id, e.name, e.entity_type])?;
                for content in &e.observations {
                    observation_id += 1;
                    let hash = fnv1a(content);
                    if held.exists(params![entity_id, hash, content])? {
                        continue;
                    }
                    observation.execute(params![observation_id, entity_id, content, hash])?;
                    written.push((entity_id, observation_id, content.as_str()));
                }
            }
            let first = entity_id - call.len() as i64 + 1;
            if indexes >= Indexes::Words {
                let mut row = tx.prepare_cached(
                    "INSERT INTO word_fts (rowid, name, type, body) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (i, e) in call.iter().enumerate().rev() {
                    let id = first + i as i64;
                    row.execute(params![
                        -id,
                        words::index_text(&e.name),
                        words::index_text(&e.entity_type),
                        ""
                    ])?;
                }
                for (entity, id, content) in &written {
                    row.execute(params![
                        entity << 32 | id,
                        "",
                        "",
                        words::index_text(content)
                    ])?;
                }
            }
            if indexes >= Indexes::WordsAndTrigrams {
                let mut row =
                    tx.prepare_cached("INSERT INTO trigram_fts (rowid, text) VALUES (?1, ?2)")?;
                for (i, e) in call.iter().enumerate().rev() {
                    let id = first + i as i64;
                    let text = format!(
                        "{}\n{}",
                        e.name.to_lowercase(),
                        e.entity_type.to_lowercase()
                    );
                    row.execute(params![-id, text])?;
                }
                for (_, id, content) in &written {
                    row.execute(params![id, content.to_lowercase()])?;
                }
            }
        }
        tx.commit()?;
    }
    let took = started.elapsed();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok((took, std::fs::metadata(path)?.len()))
}

fn store(path: &Path, entities: &[Entity]) -> Result<(Duration, u64)> {
    let mut store = Store::open(path, Durability::Full)?;
    let started = Instant::now();
    for call in entities.chunks(PER_CALL) {
        store.apply(&GraphOp::CreateEntities(call.to_vec()))?;
    }
    let took = started.elapsed();
    store.checkpoint()?;
    Ok((took, std::fs::metadata(path)?.len()))
}

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("mg-index-floor-{}", std::process::id()));
    std::fs::create_dir_all(&dir).context("making a scratch directory")?;
    let words = synthetic::vocabulary();
    let mut rng = synthetic::Rng(2026);
    let entities: Vec<Entity> = (0..ENTITIES)
        .map(|i| synthetic::entity(i, &mut rng, &words))
        .collect();
    let runs: [(&str, Indexes); 4] = [
        ("rows alone (bare SQL)", Indexes::None),
        ("rows + word index (bare SQL)", Indexes::Words),
        ("rows + both indexes (bare SQL)", Indexes::WordsAndTrigrams),
        ("memgraphd store (rows, indexes, history)", Indexes::None),
    ];
    let mut best = [Duration::MAX; 4];
    let mut bytes = [0u64; 4];
    for round in 0..ROUNDS {
        for (i, (_, indexes)) in runs.iter().enumerate() {
            let path = dir.join(format!("run-{round}-{i}.db"));
            let (took, size) = if i == 3 {
                store(&path, &entities)?
            } else {
                bare_sql(&path, &entities, *indexes)?
            };
            best[i] = best[i].min(took);
            bytes[i] = size;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "bulk load of {ENTITIES} entities x {} observations in transactions of {PER_CALL}, \
         synchronous=FULL, fastest of {ROUNDS}",
        synthetic::OBSERVATIONS
    );
    let rows = best[0].as_secs_f64();
    for (((label, _), took), size) in runs.iter().zip(best).zip(bytes) {
        println!(
            "  {label:<42} {:>8.1} ms  {:>5.2}x the rows alone   {:>5.1} MiB on disk",
            took.as_secs_f64() * 1e3,
            took.as_secs_f64() / rows,
            size as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}
