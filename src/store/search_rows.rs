//! The search-index rows one write makes, queued for the indexes.
//!
//! A write does not add its rows to the two search indexes itself: it
//! gathers the keys of the entities and observations it adds or rewrites
//! and, at the end of the call, queues them in `search_backlog`, inside
//! its own transaction. The writer moves them into the indexes later, many
//! writes at a time ([`super::backlog`]), and always before a search reads
//! the indexes, so a search still sees every acknowledged write.
//!
//! Everything that can fail on the caller's side (an id beyond what the
//! word index can number) fails when the row is gathered, before anything is
//! written, so a write that would not index never commits.

use rusqlite::Connection;

use super::word_rows::WordRows;
use super::StoreError;

/// The search-index rows of one write, not yet queued.
#[derive(Default)]
pub(super) struct SearchRows {
    /// Backlog keys: `-id` for an entity, `id` for an observation.
    keys: Vec<i64>,
}

impl SearchRows {
    /// Gathers the rows of entity `id`.
    pub(super) fn entity(&mut self, id: i64) {
        self.keys.push(-id);
    }

    /// Gathers the rows of observation `id` of entity `entity_id`.
    pub(super) fn observation(&mut self, entity_id: i64, id: i64) -> Result<(), StoreError> {
        WordRows::Owned.observation_rowid(entity_id, id)?;
        self.keys.push(id);
        Ok(())
    }

    /// Queues every gathered row for the indexes, in rising key order (the
    /// backlog's b-tree then only ever appends within a write).
    pub(super) fn queue(mut self, conn: &Connection) -> Result<(), StoreError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        self.keys.sort_unstable();
        let mut queue =
            conn.prepare_cached("INSERT OR IGNORE INTO search_backlog (row) VALUES (?1)")?;
        for key in &self.keys {
            queue.execute([key])?;
        }
        Ok(())
    }
}
