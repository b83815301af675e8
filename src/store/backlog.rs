//! Rows that writes have committed and the search indexes do not hold yet,
//! and catching the indexes up with them.
//!
//! # Why the indexes lag
//! Adding a call's rows to the two FTS5 indexes was three quarters of what
//! a single create cost: FTS5 writes a transaction's new rows out as a
//! segment of their own at every commit, and then merges segments. Queued
//! instead ([`super::search_rows`]) and indexed a thousand at a time, a
//! single create in process went from a mean of 450 to 486 µs to 184 to
//! 189 µs, the batch indexing included (`examples/bench_write_cost`, 10,000
//! entities, `normal`).
//!
//! # Invariants
//! - A write queues the key of every row it adds or rewrites in the same
//!   transaction as the row, so the backlog and the rows always agree: a
//!   crash loses neither, and the next catch-up indexes what was queued.
//! - Every read that uses the search indexes catches them up first
//!   ([`super::Store::read`]), so a search sees every acknowledged write.
//!   Only a store that cannot write, or whose catch-up just failed (a full
//!   disk), reads with a backlog, and then its rows are candidates of every
//!   substring search ([`super::grams::Grams`]).
//! - A key whose row is gone (deleted before it was indexed) is dropped by
//!   the catch-up; the delete triggers take indexed rows out of the
//!   indexes, and deleting a rowid FTS5 never held changes nothing.
//! - The indexes are written in rising rowid order. FTS5 keeps a
//!   transaction's new rows in an in-memory hash, and must write the hash
//!   out as a segment of its own whenever a row comes whose rowid is not
//!   above the last one; entity rows are `-id` and observation rows
//!   positive, so an unsorted batch wrote a segment per entity (a bulk load
//!   of 10,000 entities in calls of 100: 3.3 s, 1.9 s once sorted).

use rusqlite::{params, Connection};

use super::word_rows::WordRows;
use super::{grams, words, StoreError};

/// The schema version that brought the backlog (migration 12).
pub(super) const BACKLOG_SCHEMA: u32 = 12;

/// How many rows are queued.
pub(super) fn len(conn: &Connection) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM search_backlog")?
        .query_row([], |r| r.get::<_, i64>(0))? as u64)
}

/// Whether no row is queued: one b-tree step, cheap enough to ask before
/// every search.
pub(super) fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    Ok(!conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_backlog)")?
        .query_row([], |r| r.get::<_, bool>(0))?)
}

/// Adds every queued row to both indexes and empties the backlog; returns
/// how many rows were indexed. Runs inside the caller's transaction.
pub(super) fn catch_up(conn: &Connection) -> Result<usize, StoreError> {
    // Keys rise from the highest entity id (`-id`) to the highest
    // observation id, which is the trigram index's rowid order.
    let entities: Vec<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT e.id, e.name, e.entity_type
             FROM search_backlog b JOIN entities e ON e.id = -b.row
             WHERE b.row < 0 ORDER BY b.row",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let observations: Vec<(i64, i64, String)> = conn
        .prepare_cached(
            "SELECT o.id, o.entity_id, o.content
             FROM search_backlog b JOIN observations o ON o.id = b.row
             WHERE b.row > 0 ORDER BY b.row",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;

    let mut entity_grams = conn.prepare_cached(grams::INDEX_ENTITY)?;
    for (id, name, entity_type) in &entities {
        entity_grams.execute(params![id, grams::entity_text(name, entity_type)])?;
    }
    let mut observation_grams = conn.prepare_cached(grams::INDEX_OBSERVATION)?;
    for (id, _, content) in &observations {
        observation_grams.execute(params![id, content.to_lowercase()])?;
    }

    let mut entity_words = conn.prepare_cached(
        "INSERT INTO word_fts (rowid, name, type, body) VALUES (-?1, ?2, ?3, '')",
    )?;
    for (id, name, entity_type) in &entities {
        entity_words.execute(params![
            id,
            words::index_text(name),
            words::index_text(entity_type)
        ])?;
    }
    // The word index numbers an observation by its entity first.
    let mut numbered: Vec<(i64, &str)> = observations
        .iter()
        .map(|(id, entity_id, content)| {
            Ok((
                WordRows::Owned.observation_rowid(*entity_id, *id)?,
                content.as_str(),
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    numbered.sort_unstable_by_key(|(rowid, _)| *rowid);
    let mut observation_words = conn
        .prepare_cached("INSERT INTO word_fts (rowid, name, type, body) VALUES (?1, '', '', ?2)")?;
    for (rowid, content) in &numbered {
        observation_words.execute(params![rowid, words::index_text(content)])?;
    }
    let indexed = entities.len() + numbered.len();
    conn.prepare_cached("DELETE FROM search_backlog")?
        .execute([])?;
    Ok(indexed)
}

#[cfg(test)]
mod tests;
