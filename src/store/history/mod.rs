//! History: every committed write is one row of `changes`, and nothing a
//! write removes is lost until `purge`.
//!
//! # The tables (migration 6)
//! - `changes`: id (the `changeId`), `at` (ms, never less than the previous
//!   change's), the tool, who made it (session, client, project, actor),
//!   a one-line summary, and for retryable writes the request id and the
//!   reply (the idempotent-retry record; forgotten after a day).
//! - `change_entities(entity_name, change_id)`: which entities a change
//!   touched (by name, so a name's history spans deletes and reuse); it
//!   answers `memory_history name=X` with one range scan.
//! - The live tables keep only live rows, so every official read is the
//!   read it was before history; each row names its `created_change`.
//!   That column has no index (migration 7 dropped it, a b-tree fewer per
//!   write): undo finds the rows a change made through the entities the
//!   change links, and purge reads the named changes in one pass.
//! - `entities_ended`, `observations_ended`, `relations_ended`: rows that a
//!   change ended (a delete, a supersede, an undo), with their original id,
//!   `created_change` and `ended_change`. Undo puts them back under their
//!   original id, which puts them back in their place in every order.
//!
//! What was stored before history is adopted by one synthetic first change,
//! `before history`, which cannot be undone.
//!
//! Reads: `memory_history` ([`history`]), the projects seen ([`projects`]),
//! and the live entities a project's latest changes touched (`recent`, for
//! the session-start hook).

mod purge;
pub(super) mod recent;
mod summary;
#[cfg(test)]
mod tests;
mod undo;

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::model::{Author, ChangeInfo, GraphOp, HistoryPage, HistoryQuery, Outcome};

pub(super) use purge::purge;
pub(super) use recent::recent;
pub(super) use undo::{supersede, undo};

/// The tool name of the synthetic change that adopts pre-history rows.
pub const BEFORE_HISTORY: &str = "before history";

/// Migration 6's Rust step: the existing rows get one synthetic change, and
/// the request-id records become changes of their own (so a retry that
/// arrives across the upgrade is still answered, not applied twice).
pub(super) fn adopt_existing_rows(conn: &Connection) -> Result<(), StoreError> {
    let rows: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM entities) + (SELECT count(*) FROM relations)",
        [],
        |r| r.get(0),
    )?;
    let requests: i64 =
        conn.query_row("SELECT count(*) FROM applied_requests", [], |r| r.get(0))?;
    if rows == 0 && requests == 0 {
        return Ok(());
    }
    let first_at: i64 = conn.query_row(
        "SELECT coalesce(min(created_at), ?1) FROM entities",
        [super::now_millis()],
        |r| r.get(0),
    )?;
    conn.execute(
        "INSERT INTO changes (id, at, tool, summary) VALUES (1, ?1, ?2, ?3)",
        params![
            first_at,
            BEFORE_HISTORY,
            "what memory held before history was recorded"
        ],
    )?;
    conn.execute_batch(
        "UPDATE entities SET created_change = 1;
         UPDATE observations SET created_change = 1;
         UPDATE relations SET created_change = 1;
         INSERT INTO change_entities (entity_name, change_id) SELECT name, 1 FROM entities;",
    )?;
    // Retry records keep their order; `at` never goes below the first change.
    conn.execute(
        "INSERT INTO changes (at, tool, request_id, reply, summary)
         SELECT max(applied_at, ?1), ?2, request_id, reply, 'a write made before history'
         FROM applied_requests ORDER BY applied_at",
        params![first_at, BEFORE_HISTORY],
    )?;
    conn.execute("DELETE FROM applied_requests", [])?;
    Ok(())
}

/// The change a write is about to become: its id and time are fixed before
/// the write runs, so the rows it makes can name it.
pub(super) struct Pending {
    pub id: i64,
    pub at: i64,
}

/// Reserves the next change id and a time no earlier than the last change's.
pub(super) fn begin(conn: &Connection, now: i64) -> Result<Pending, StoreError> {
    // The newest change by id is also the latest in time (`at` never goes
    // back), and one row read by rowid keeps this O(log n): two aggregates
    // in one SELECT would scan the whole table.
    let last: Option<(i64, i64)> = conn
        .prepare_cached("SELECT id, at FROM changes ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (id, at) = match last {
        Some((id, at)) => (id + 1, at.max(now)),
        None => (1, now),
    };
    Ok(Pending { id, at })
}

/// What a recorded change says about itself, beyond its rows.
pub(super) struct Record<'a> {
    pub author: &'a Author,
    pub request_id: Option<&'a [u8]>,
    /// The encoded reply, kept only for retryable writes.
    pub reply: Option<Vec<u8>>,
}

/// Records change `pending` for `op`, which answered `outcome`.
pub(super) fn finish(
    conn: &Connection,
    pending: &Pending,
    op: &GraphOp,
    outcome: &Outcome,
    record: Record<'_>,
) -> Result<(), StoreError> {
    let (summary, touched) = summary::describe(op, outcome);
    let undoes = match op {
        GraphOp::Undo { change_id, .. } => Some(*change_id),
        _ => None,
    };
    conn.prepare_cached(
        "INSERT INTO changes
             (id, at, tool, session, client, project, actor, request_id, reply, summary, undoes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        pending.id,
        pending.at,
        op.tool_name(),
        record.author.session,
        record.author.client,
        record.author.project,
        record.author.actor,
        record.request_id,
        record.reply,
        summary,
        undoes,
    ])?;
    let mut link = conn.prepare_cached(
        "INSERT OR IGNORE INTO change_entities (entity_name, change_id) VALUES (?1, ?2)",
    )?;
    for name in &touched {
        link.execute(params![name, pending.id])?;
    }
    if let Some(undone) = undoes {
        // An undo touched what the change it reverts touched.
        conn.prepare_cached(
            "INSERT OR IGNORE INTO change_entities (entity_name, change_id)
             SELECT entity_name, ?2 FROM change_entities WHERE change_id = ?1",
        )?
        .execute(params![undone, pending.id])?;
    }
    Ok(())
}

/// The reply recorded for `request_id`, if a write with that id committed.
pub(super) fn recorded_reply(
    conn: &Connection,
    request_id: &[u8],
) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT reply FROM changes WHERE request_id = ?1")?
        .query_row([request_id], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}

/// Forgets the retry records of changes made before `before` (the changes
/// themselves stay); returns how many.
pub(super) fn forget_requests_before(conn: &Connection, before: i64) -> Result<usize, StoreError> {
    let floor = first_change_since(conn, before)?.unwrap_or(i64::MAX);
    Ok(conn
        .prepare_cached(
            "UPDATE changes SET request_id = NULL, reply = NULL
             WHERE request_id IS NOT NULL AND id < ?1",
        )?
        .execute([floor])?)
}

/// The id of the first change made at or after `at` (ms), if any.
///
/// `at` never goes back as the id grows (see [`begin`]), so the changes
/// are sorted by time in rowid order and a binary search over ids finds
/// the bound in a few dozen rowid probes, with no index on `at` for every
/// write to keep up to date. Ids may have gaps (purge), so each probe reads
/// the first change at or above an id.
pub(super) fn first_change_since(conn: &Connection, at: i64) -> Result<Option<i64>, StoreError> {
    let mut from =
        conn.prepare_cached("SELECT id, at FROM changes WHERE id >= ?1 ORDER BY id LIMIT 1")?;
    let mut first_from = |id: i64| -> Result<Option<(i64, i64)>, StoreError> {
        Ok(from
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    };
    let Some((mut lo, _)) = first_from(i64::MIN)? else {
        return Ok(None);
    };
    let (last, last_at): (i64, i64) = conn
        .prepare_cached("SELECT id, at FROM changes ORDER BY id DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if last_at < at {
        return Ok(None);
    }
    // Invariant: every change below `lo` is earlier than `at`, and the
    // first change at or above `hi` is not.
    let mut hi = last;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match first_from(mid)? {
            Some((_, found_at)) if found_at >= at => hi = mid,
            Some((id, _)) => lo = id + 1,
            // A change at or above `hi` exists, so one at or above `mid`
            // does too; this arm only guards against a concurrent delete.
            None => return Ok(None),
        }
    }
    Ok(first_from(lo)?.map(|(id, _)| id))
}

/// Moves entity `id` with its observations and relations into the archive,
/// ended by `change`; the caller then deletes it (the cascade and the
/// triggers clear the live rows and the indexes).
pub(super) fn archive_entity(conn: &Connection, id: i64, change: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO relations_ended
             (id, from_id, to_id, relation_type, created_at, created_change, ended_change)
         SELECT id, from_id, to_id, relation_type, created_at, created_change, ?2
         FROM relations WHERE from_id = ?1 OR to_id = ?1",
    )?
    .execute(params![id, change])?;
    conn.prepare_cached(
        "INSERT INTO observations_ended
             (id, entity_id, content, created_at, created_change, ended_change)
         SELECT id, entity_id, content, created_at, created_change, ?2
         FROM observations WHERE entity_id = ?1",
    )?
    .execute(params![id, change])?;
    conn.prepare_cached(
        "INSERT INTO entities_ended
             (id, name, entity_type, created_at, updated_at, created_change, ended_change)
         SELECT id, name, entity_type, created_at, updated_at, created_change, ?2
         FROM entities WHERE id = ?1",
    )?
    .execute(params![id, change])?;
    Ok(())
}

/// Moves observation `id` into the archive, ended by `change`.
pub(super) fn archive_observation(
    conn: &Connection,
    id: i64,
    change: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO observations_ended
             (id, entity_id, content, created_at, created_change, ended_change)
         SELECT id, entity_id, content, created_at, created_change, ?2
         FROM observations WHERE id = ?1",
    )?
    .execute(params![id, change])?;
    Ok(())
}

/// Moves relation `id` into the archive, ended by `change`.
pub(super) fn archive_relation(conn: &Connection, id: i64, change: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO relations_ended
             (id, from_id, to_id, relation_type, created_at, created_change, ended_change)
         SELECT id, from_id, to_id, relation_type, created_at, created_change, ?2
         FROM relations WHERE id = ?1",
    )?
    .execute(params![id, change])?;
    Ok(())
}

/// The columns of a change, as [`change_info`] reads them (the changes
/// table aliased `c`).
pub(super) const CHANGE_COLUMNS: &str =
    "c.id, c.at, c.tool, c.session, c.client, c.project, c.actor, c.summary";

/// Reads the [`CHANGE_COLUMNS`] of a row, starting at column `first`.
pub(super) fn change_info(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ChangeInfo> {
    Ok(ChangeInfo {
        id: r.get(first)?,
        at: r.get(first + 1)?,
        tool: r.get(first + 2)?,
        session: r.get(first + 3)?,
        client: r.get(first + 4)?,
        project: r.get(first + 5)?,
        actor: r.get(first + 6)?,
        summary: r.get(first + 7)?,
    })
}

/// `memory_history`: one page of changes, newest first.
pub(super) fn history(conn: &Connection, q: &HistoryQuery) -> Result<HistoryPage, StoreError> {
    // `at` never decreases with the id, so `since` is a lower bound on ids:
    // the scans below stop there instead of filtering to the end.
    let floor: i64 = match q.since {
        Some(since) => first_change_since(conn, since)?.unwrap_or(i64::MAX),
        None => 0,
    };
    let before = q.before.unwrap_or(i64::MAX);
    let want = i64::from(q.limit) + 1;
    let mut rows = Vec::new();
    let columns = CHANGE_COLUMNS;
    let map = |r: &rusqlite::Row<'_>| change_info(r, 0);
    match &q.name {
        Some(name) => {
            let sql = format!(
                "SELECT {columns} FROM change_entities ce JOIN changes c ON c.id = ce.change_id
                 WHERE ce.entity_name = ?1 AND ce.change_id < ?2 AND ce.change_id >= ?3
                   AND (?4 IS NULL OR c.project = ?4)
                 ORDER BY ce.change_id DESC LIMIT ?5"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let found = stmt.query_map(params![name, before, floor, q.project, want], map)?;
            for row in found {
                rows.push(row?);
            }
        }
        None => {
            let sql = format!(
                "SELECT {columns} FROM changes c
                 WHERE c.id < ?1 AND c.id >= ?2 AND (?3 IS NULL OR c.project = ?3)
                 ORDER BY c.id DESC LIMIT ?4"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let found = stmt.query_map(params![before, floor, q.project, want], map)?;
            for row in found {
                rows.push(row?);
            }
        }
    }
    let next_before = if rows.len() as i64 > i64::from(q.limit) {
        rows.truncate(q.limit as usize);
        rows.last().map(|c| c.id)
    } else {
        None
    };
    Ok(HistoryPage {
        changes: rows,
        next_before,
    })
}

/// The projects that changes came from, with how many changes each, most
/// first.
pub(super) fn projects(conn: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT project, count(*) FROM changes WHERE project IS NOT NULL
         GROUP BY project ORDER BY count(*) DESC, project",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}
