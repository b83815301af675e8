//! `memgraphd purge`: the one way history really goes. It hard-deletes the
//! archived rows ended before a time, then the changes before that time
//! that nothing (no live row, no remaining archived row) names any more.
//! Live rows are never touched, so the graph reads the same after it.

use rusqlite::Connection;

use crate::model::Purged;
use crate::store::StoreError;

/// Purges what ended before `before` (ms); with `dry_run`, only counts.
pub(crate) fn purge(conn: &Connection, before: i64, dry_run: bool) -> Result<Purged, StoreError> {
    // The newest change made before the cut-off: ended rows up to it go.
    let last: i64 = conn.query_row(
        "SELECT coalesce(max(id), 0) FROM changes WHERE at < ?1",
        [before],
        |r| r.get(0),
    )?;
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, [last], |r| r.get::<_, i64>(0))? as u64)
    };
    let mut purged = Purged {
        entities: count("SELECT count(*) FROM entities_ended WHERE ended_change <= ?1")?,
        observations: count("SELECT count(*) FROM observations_ended WHERE ended_change <= ?1")?,
        relations: count("SELECT count(*) FROM relations_ended WHERE ended_change <= ?1")?,
        changes: 0,
    };
    // A change stays while a live or archived row (after this purge) names it.
    let unreferenced = "SELECT id FROM changes c WHERE c.id <= ?1
        AND NOT EXISTS (SELECT 1 FROM entities WHERE created_change = c.id)
        AND NOT EXISTS (SELECT 1 FROM observations WHERE created_change = c.id)
        AND NOT EXISTS (SELECT 1 FROM relations WHERE created_change = c.id)
        AND NOT EXISTS (SELECT 1 FROM entities_ended
                        WHERE ended_change > ?1 AND created_change = c.id)
        AND NOT EXISTS (SELECT 1 FROM observations_ended
                        WHERE ended_change > ?1 AND created_change = c.id)
        AND NOT EXISTS (SELECT 1 FROM relations_ended
                        WHERE ended_change > ?1 AND created_change = c.id)";
    purged.changes = count(&format!("SELECT count(*) FROM ({unreferenced})"))?;
    if dry_run {
        return Ok(purged);
    }
    conn.execute(
        &format!("CREATE TEMP TABLE purged_changes AS {unreferenced}"),
        [last],
    )?;
    conn.execute_batch(
        "DELETE FROM change_entities WHERE change_id IN (SELECT id FROM purged_changes);
         DELETE FROM changes WHERE id IN (SELECT id FROM purged_changes);
         DROP TABLE purged_changes;",
    )?;
    for table in ["entities_ended", "observations_ended", "relations_ended"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE ended_change <= ?1"),
            [last],
        )?;
    }
    Ok(purged)
}
