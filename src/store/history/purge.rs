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
    // (Changes are in time order by id: see `first_change_since`.)
    let last: i64 = match super::first_change_since(conn, before)? {
        Some(first_kept) => conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM changes WHERE id < ?1")?
            .query_row([first_kept], |r| r.get(0))?,
        None => conn
            .prepare_cached("SELECT coalesce(max(id), 0) FROM changes")?
            .query_row([], |r| r.get(0))?,
    };
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(sql, [last], |r| r.get::<_, i64>(0))? as u64)
    };
    let mut purged = Purged {
        entities: count("SELECT count(*) FROM entities_ended WHERE ended_change <= ?1")?,
        observations: count("SELECT count(*) FROM observations_ended WHERE ended_change <= ?1")?,
        relations: count("SELECT count(*) FROM relations_ended WHERE ended_change <= ?1")?,
        changes: 0,
    };
    // A change stays while a live or archived row (after this purge) names
    // it. The names are gathered in one pass over the rows (the subquery
    // does not depend on the change, so SQLite builds it once), since no
    // index on `created_change` is kept for the writes to maintain.
    let unreferenced = "SELECT id FROM changes WHERE id <= ?1 AND id NOT IN (
            SELECT created_change FROM entities WHERE created_change IS NOT NULL
            UNION SELECT created_change FROM observations WHERE created_change IS NOT NULL
            UNION SELECT created_change FROM relations WHERE created_change IS NOT NULL
            UNION SELECT created_change FROM entities_ended
                WHERE ended_change > ?1 AND created_change IS NOT NULL
            UNION SELECT created_change FROM observations_ended
                WHERE ended_change > ?1 AND created_change IS NOT NULL
            UNION SELECT created_change FROM relations_ended
                WHERE ended_change > ?1 AND created_change IS NOT NULL)";
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
