//! Read snapshots for `memgraphd export`: a graph of any size read page by
//! page, every page from the same moment.
//!
//! A [`Snapshot`] is a second, read-only connection to the database file
//! holding one read transaction open. In WAL mode such a transaction sees
//! the database as it was when it began, while the store's own connection
//! goes on committing; so an export made of many pages is one consistent
//! graph, and writers are held up only while a page is read (milliseconds),
//! not for the whole export. Paging by id alone would not give that: an
//! entity deleted, or an observation added to an entity already sent,
//! between two pages would make the export a graph that never existed.
//!
//! # Invariants
//! - Like the [`Store`], a snapshot lives on the writer thread only.
//! - A page ends on an entity boundary: an entity's observations are never
//!   split across pages.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{Store, StoreError};
use crate::model::{Entity, ExportCursor, ExportPage, Relation};

/// An open read transaction on the database file, pinned at one moment.
pub struct Snapshot {
    conn: Connection,
    total_entities: u64,
    total_relations: u64,
}

impl Store {
    /// Opens a read snapshot of the graph as it is now. Needs a database
    /// file: an in-memory store has nothing a second connection could read.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let path = self.path.as_deref().ok_or(StoreError::InMemory)?;
        Snapshot::open(path, self.read_only.is_some())
    }
}

impl Snapshot {
    fn open(path: &Path, immutable: bool) -> Result<Snapshot, StoreError> {
        let mut uri = std::ffi::OsString::from("file:");
        uri.push(path.as_os_str());
        uri.push(if immutable {
            "?mode=ro&immutable=1"
        } else {
            "?mode=ro"
        });
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(std::path::PathBuf::from(uri), flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // A deferred transaction takes its snapshot at its first read: the
        // counts below are that read, so they describe the snapshot itself.
        conn.execute_batch("BEGIN")?;
        let count = |table: &str| -> Result<u64, StoreError> {
            let sql = format!("SELECT count(*) FROM {table}");
            Ok(conn.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        let total_entities = count("entities")?;
        let total_relations = count("relations")?;
        Ok(Snapshot {
            conn,
            total_entities,
            total_relations,
        })
    }

    /// The page after `after`: whole entities (with their observations) in
    /// id order until about `budget` bytes of text, then relations in id
    /// order. At least one item, unless the graph is exhausted.
    pub fn page(&self, after: ExportCursor, budget: usize) -> Result<ExportPage, StoreError> {
        let mut page = ExportPage {
            total_entities: self.total_entities,
            total_relations: self.total_relations,
            ..ExportPage::default()
        };
        let mut cursor = after;
        let mut bytes = 0;
        if cursor.entities_after < i64::MAX {
            let (last, done) = self.entities(cursor.entities_after, budget, &mut page.entities)?;
            bytes = page.entities.iter().map(entity_bytes).sum();
            cursor.entities_after = if done { i64::MAX } else { last };
            if !done {
                page.next = Some(cursor);
                return Ok(page);
            }
        }
        let (last, done) = self.relations(
            cursor.relations_after,
            budget.saturating_sub(bytes),
            page.entities.is_empty(),
            &mut page.relations,
        )?;
        cursor.relations_after = last;
        page.next = (!done).then_some(cursor);
        Ok(page)
    }

    /// Appends entities after id `after` until `budget` bytes; the last id
    /// read and whether no entity is left.
    fn entities(
        &self,
        after: i64,
        budget: usize,
        out: &mut Vec<Entity>,
    ) -> Result<(i64, bool), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT e.id, e.name, e.entity_type, o.content
             FROM entities e LEFT JOIN observations o ON o.entity_id = e.id
             WHERE e.id > ?1 ORDER BY e.id, o.id",
        )?;
        let mut rows = stmt.query([after])?;
        let mut last = after;
        let mut bytes = 0;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let observation: Option<String> = row.get(3)?;
            if id == last && !out.is_empty() {
                if let (Some(entity), Some(o)) = (out.last_mut(), observation) {
                    bytes += o.len();
                    entity.observations.push(o);
                }
                continue;
            }
            // A new entity: stop here if the page is full, so that the
            // entity just finished is whole.
            if bytes >= budget && !out.is_empty() {
                return Ok((last, false));
            }
            let entity = Entity {
                name: row.get(1)?,
                entity_type: row.get(2)?,
                observations: observation.into_iter().collect(),
            };
            bytes += entity_bytes(&entity);
            out.push(entity);
            last = id;
        }
        Ok((last, true))
    }

    /// Appends relations after id `after` until `budget` bytes (at least
    /// one if `at_least_one`); the last id read and whether none is left.
    fn relations(
        &self,
        after: i64,
        budget: usize,
        at_least_one: bool,
        out: &mut Vec<Relation>,
    ) -> Result<(i64, bool), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, f.name, t.name, r.relation_type
             FROM relations r
             JOIN entities f ON f.id = r.from_id
             JOIN entities t ON t.id = r.to_id
             WHERE r.id > ?1 ORDER BY r.id",
        )?;
        let mut rows = stmt.query([after])?;
        let mut last = after;
        let mut bytes = 0;
        while let Some(row) = rows.next()? {
            if bytes >= budget && !(at_least_one && out.is_empty()) {
                return Ok((last, false));
            }
            last = row.get(0)?;
            let relation = relation_row_after_id(row)?;
            bytes += relation.from.len() + relation.to.len() + relation.relation_type.len() + 16;
            out.push(relation);
        }
        Ok((last, true))
    }
}

/// A relation from a row of (id, from, to, relation type).
fn relation_row_after_id(row: &rusqlite::Row<'_>) -> rusqlite::Result<Relation> {
    Ok(Relation::new(
        row.get::<_, String>(1)?,
        row.get::<_, String>(2)?,
        row.get::<_, String>(3)?,
    ))
}

/// Roughly what an entity costs in a page: its text and some framing.
fn entity_bytes(entity: &Entity) -> usize {
    entity.name.len()
        + entity.entity_type.len()
        + entity
            .observations
            .iter()
            .map(|o| o.len() + 8)
            .sum::<usize>()
        + 16
}

#[cfg(test)]
mod tests;
