//! `undo` and `supersede_observation`: the writes that work on history.
//!
//! Undo of change C, as new change U: the live rows C made are archived
//! (ended by U), and the rows C ended come back from the archive under
//! their original ids, made by U. An observation C superseded gets its old
//! content back in place. Undo of an undo is the same rule applied to U.
//! Before writing, it looks for a later change that touched the same rows
//! (ended what C made, added to an entity C made, took a name or a place C
//! freed) and refuses naming it, unless forced; forced, it skips what
//! cannot come back and says how much.

use std::collections::HashSet;

use rusqlite::{params, Connection, OptionalExtension};

use super::summary::count;
use super::{archive_entity, archive_observation, archive_relation, BEFORE_HISTORY};
use crate::model::Undone;
use crate::store::content_hash;
use crate::store::search_rows::SearchRows;
use crate::store::write::{queue_observation, unindex_observation};
use crate::store::StoreError;

/// Replaces `old` by `new` on `entity_name` in place, as change `change`.
pub(crate) fn supersede(
    conn: &Connection,
    entity_name: &str,
    old: &str,
    new: &str,
    now: i64,
    change: i64,
) -> Result<(), StoreError> {
    let entity: i64 = conn
        .prepare_cached("SELECT id FROM entities WHERE name = ?1")?
        .query_row([entity_name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownEntity(entity_name.to_owned()))?;
    let find = |content: &str| -> Result<Option<i64>, StoreError> {
        Ok(conn
            .prepare_cached(content_hash::FIND_OBSERVATION)?
            .query_row(params![entity, content], |r| r.get(0))
            .optional()?)
    };
    let id = find(old)?.ok_or_else(|| {
        StoreError::Refused(format!(
            "Observation not found: {old:?} on entity {entity_name}"
        ))
    })?;
    if old != new && find(new)?.is_some() {
        return Err(StoreError::Refused(format!(
            "Observation already exists: {new:?} on entity {entity_name}; delete {old:?} instead"
        )));
    }
    rewrite(conn, id, new, now, change)?;
    conn.prepare_cached("UPDATE entities SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![entity, now])?;
    Ok(())
}

/// Archives observation `id` as it is and gives it `content`, made by
/// `change`, keeping its id and so its place.
fn rewrite(
    conn: &Connection,
    id: i64,
    content: &str,
    now: i64,
    change: i64,
) -> Result<(), StoreError> {
    let entity: i64 = conn
        .prepare_cached("SELECT entity_id FROM observations WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    archive_observation(conn, id, change)?;
    unindex_observation(conn, entity, id)?;
    conn.prepare_cached(
        "UPDATE observations
         SET content = ?2, content_hash = memgraphd_content_hash(?2), created_at = ?3,
             created_change = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, content, now, change])?;
    queue_observation(conn, entity, id)
}

/// What undo found to do.
#[derive(Default)]
struct Plan {
    /// Live rows the change made (not rewrites).
    made_entities: Vec<i64>,
    made_observations: Vec<i64>,
    made_relations: Vec<i64>,
    /// Observations the change rewrote: (id, the content before).
    rewritten: Vec<(i64, String)>,
    /// Archived rows the change ended, by archive rowid.
    ended_entities: Vec<i64>,
    ended_observations: Vec<i64>,
    ended_relations: Vec<i64>,
}

fn ids(conn: &Connection, sql: &str, change: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map([change], |r| r.get(0))?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row?);
    }
    Ok(out)
}

// The live rows change ?1 made, reached through the entities it touched
// (`change_entities`) rather than an index on `created_change`, which every
// write would have to keep up to date. Every row a change makes hangs on an
// entity it links: an entity it created or brought back is linked by name,
// an observation's owner is, and so is at least one end of a relation (both
// for a created one; the deleted entity for one that came back with it).
// The cost is bounded by the sizes of those entities.
pub(super) const MADE_ENTITIES: &str = "SELECT e.id
     FROM change_entities ce JOIN entities e ON e.name = ce.entity_name
     WHERE ce.change_id = ?1 AND e.created_change = ?1
     ORDER BY e.id";
pub(super) const MADE_OBSERVATIONS: &str = "SELECT o.id
     FROM change_entities ce
     JOIN entities e ON e.name = ce.entity_name
     JOIN observations o ON o.entity_id = e.id
     WHERE ce.change_id = ?1 AND o.created_change = ?1
     ORDER BY o.id";
pub(super) const MADE_RELATIONS: &str = "SELECT r.id
     FROM change_entities ce
     JOIN entities e ON e.name = ce.entity_name
     JOIN relations r ON r.from_id = e.id
     WHERE ce.change_id = ?1 AND r.created_change = ?1
     UNION
     SELECT r.id
     FROM change_entities ce
     JOIN entities e ON e.name = ce.entity_name
     JOIN relations r ON r.to_id = e.id
     WHERE ce.change_id = ?1 AND r.created_change = ?1
     ORDER BY 1";

fn plan(conn: &Connection, target: i64) -> Result<Plan, StoreError> {
    let rewritten_ids: HashSet<i64> = ids(
        conn,
        "SELECT e.id FROM observations_ended e JOIN observations o ON o.id = e.id
         WHERE e.ended_change = ?1 AND o.created_change = ?1",
        target,
    )?
    .into_iter()
    .collect();
    let mut rewritten = Vec::new();
    for id in &rewritten_ids {
        let before: String = conn
            .prepare_cached(
                "SELECT content FROM observations_ended WHERE id = ?1 AND ended_change = ?2",
            )?
            .query_row(params![id, target], |r| r.get(0))?;
        rewritten.push((*id, before));
    }
    Ok(Plan {
        made_entities: ids(conn, MADE_ENTITIES, target)?,
        made_observations: ids(conn, MADE_OBSERVATIONS, target)?
            .into_iter()
            .filter(|id| !rewritten_ids.contains(id))
            .collect(),
        made_relations: ids(conn, MADE_RELATIONS, target)?,
        rewritten,
        ended_entities: ids(
            conn,
            "SELECT rowid FROM entities_ended WHERE ended_change = ?1 ORDER BY id",
            target,
        )?,
        ended_observations: ids(
            conn,
            "SELECT rowid FROM observations_ended WHERE ended_change = ?1 ORDER BY id",
            target,
        )?
        .into_iter()
        .collect(),
        ended_relations: ids(
            conn,
            "SELECT rowid FROM relations_ended WHERE ended_change = ?1 ORDER BY id",
            target,
        )?,
    })
}

/// The first later change that touched the rows `target` made or ended.
fn conflict(conn: &Connection, target: i64, plan: &Plan) -> Result<Option<i64>, StoreError> {
    let first = |sql: &str, args: &[&dyn rusqlite::ToSql]| -> Result<Option<i64>, StoreError> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row(args, |r| r.get::<_, Option<i64>>(0))?)
    };
    let mut found: Vec<i64> = Vec::new();
    // What it made, a later change ended.
    for table in ["entities_ended", "observations_ended", "relations_ended"] {
        let sql = format!(
            "SELECT min(ended_change) FROM {table} WHERE created_change = ?1 AND ended_change > ?1"
        );
        found.extend(first(&sql, &[&target])?);
    }
    // What it made, a later change added to.
    for id in &plan.made_entities {
        found.extend(first(
            "SELECT min(c) FROM (
                 SELECT created_change AS c FROM observations WHERE entity_id = ?1 AND created_change > ?2
                 UNION ALL SELECT created_change FROM relations
                     WHERE (from_id = ?1 OR to_id = ?1) AND created_change > ?2)",
            &[id, &target],
        )?);
    }
    // What it ended, a later change replaced or depends on being gone.
    for rowid in &plan.ended_entities {
        found.extend(first(
            "SELECT min(l.created_change) FROM entities_ended e JOIN entities l
                 ON l.name = e.name OR l.id = e.id WHERE e.rowid = ?1",
            &[rowid],
        )?);
    }
    let rewritten: HashSet<i64> = plan.rewritten.iter().map(|(id, _)| *id).collect();
    for rowid in &plan.ended_observations {
        let (id, entity): (i64, i64) = conn
            .prepare_cached("SELECT id, entity_id FROM observations_ended WHERE rowid = ?1")?
            .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if rewritten.contains(&id) {
            continue;
        }
        found.extend(first(
            "SELECT min(l.created_change) FROM observations_ended e JOIN observations l
                 ON (l.entity_id = e.entity_id AND l.content = e.content) OR l.id = e.id
             WHERE e.rowid = ?1",
            &[rowid],
        )?);
        found.extend(missing_endpoint(conn, entity, target, plan)?);
    }
    for rowid in &plan.ended_relations {
        let (from, to): (i64, i64) = conn
            .prepare_cached("SELECT from_id, to_id FROM relations_ended WHERE rowid = ?1")?
            .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        found.extend(first(
            "SELECT min(l.created_change) FROM relations_ended e JOIN relations l
                 ON (l.from_id = e.from_id AND l.to_id = e.to_id
                     AND l.relation_type = e.relation_type) OR l.id = e.id
             WHERE e.rowid = ?1",
            &[rowid],
        )?);
        found.extend(missing_endpoint(conn, from, target, plan)?);
        found.extend(missing_endpoint(conn, to, target, plan)?);
    }
    for (id, before) in &plan.rewritten {
        found.extend(first(
            "SELECT min(l.created_change) FROM observations l JOIN observations o
                 ON l.entity_id = o.entity_id AND l.content_hash = memgraphd_content_hash(?2)
                    AND l.content = ?2 AND l.id != o.id
             WHERE o.id = ?1",
            &[id, before],
        )?);
    }
    Ok(found.into_iter().filter(|c| *c > target).min())
}

/// When entity `id` is neither live nor coming back with this undo: the
/// change that ended it.
fn missing_endpoint(
    conn: &Connection,
    id: i64,
    target: i64,
    plan: &Plan,
) -> Result<Option<i64>, StoreError> {
    let live: bool = conn
        .prepare_cached("SELECT count(*) FROM entities WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))?
        > 0;
    if live {
        return Ok(None);
    }
    let comes_back = plan.ended_entities.iter().any(|rowid| {
        conn.prepare_cached("SELECT id FROM entities_ended WHERE rowid = ?1")
            .and_then(|mut s| s.query_row([rowid], |r| r.get::<_, i64>(0)))
            .map(|e| e == id)
            .unwrap_or(false)
    });
    if comes_back {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached("SELECT max(ended_change) FROM entities_ended WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<i64>>(0))?
        .filter(|c| *c > target)
        .or(Some(i64::MAX)))
}

/// Reverts change `target` as change `change`.
pub(crate) fn undo(
    conn: &Connection,
    target: i64,
    force: bool,
    now: i64,
    change: i64,
) -> Result<Undone, StoreError> {
    let tool: Option<String> = conn
        .prepare_cached("SELECT tool FROM changes WHERE id = ?1")?
        .query_row([target], |r| r.get(0))
        .optional()?;
    match tool.as_deref() {
        None => {
            return Err(StoreError::Refused(format!("Change {target} not found")));
        }
        Some(BEFORE_HISTORY) => {
            return Err(StoreError::Refused(format!(
                "Change {target} stands for what memory held before history began; it cannot be undone"
            )));
        }
        Some(_) => {}
    }
    let tool = tool.unwrap_or_default();
    let plan = plan(conn, target)?;
    if !force {
        match conflict(conn, target, &plan)? {
            Some(i64::MAX) => {
                return Err(StoreError::Refused(format!(
                    "Cannot undo change {target}: an entity it needs is gone and its deletion is no longer recorded; pass force to undo what can be"
                )));
            }
            Some(later) => {
                return Err(StoreError::Refused(format!(
                    "Cannot undo change {target}: change {later} touched the same rows since; undo {later} first, or pass force"
                )));
            }
            None => {}
        }
    }
    let mut removed = Tally::default();
    let mut restored = Tally::default();
    let mut skipped = 0usize;
    // Remove what it made: relations, then observations, then entities
    // (whose archiving takes what still hangs on them along).
    let mut delete_relation = conn.prepare_cached("DELETE FROM relations WHERE id = ?1")?;
    for id in &plan.made_relations {
        archive_relation(conn, *id, change)?;
        removed.relations += delete_relation.execute([id])?;
    }
    let mut delete_observation = conn.prepare_cached("DELETE FROM observations WHERE id = ?1")?;
    for id in &plan.made_observations {
        archive_observation(conn, *id, change)?;
        removed.observations += delete_observation.execute([id])?;
    }
    let mut delete_entity = conn.prepare_cached("DELETE FROM entities WHERE id = ?1")?;
    for id in &plan.made_entities {
        archive_entity(conn, *id, change)?;
        removed.entities += delete_entity.execute([id])?;
    }
    // Put back what it rewrote.
    for (id, before) in &plan.rewritten {
        let clash: bool = conn
            .prepare_cached(
                "SELECT count(*) FROM observations l JOIN observations o
                     ON l.entity_id = o.entity_id AND l.content_hash = memgraphd_content_hash(?2)
                    AND l.content = ?2 AND l.id != o.id
                 WHERE o.id = ?1",
            )?
            .query_row(params![id, before], |r| r.get::<_, i64>(0))?
            > 0;
        if clash {
            skipped += 1;
            continue;
        }
        rewrite(conn, *id, before, now, change)?;
        restored.observations += 1;
    }
    // Bring back what it ended: entities first, so the rest has its ends.
    let mut search = SearchRows::default();
    for rowid in &plan.ended_entities {
        let row: (i64, String, String, i64, i64) = conn
            .prepare_cached(
                "SELECT id, name, entity_type, created_at, updated_at FROM entities_ended
                 WHERE rowid = ?1",
            )?
            .query_row([rowid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        let (id, name, entity_type, created_at, updated_at) = row;
        let inserted = conn
            .prepare_cached(
                "INSERT INTO entities (id, name, entity_type, created_at, updated_at, created_change)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![id, name, entity_type, created_at, updated_at, change])?;
        if inserted == 1 {
            search.entity(id);
            restored.entities += 1;
        } else {
            skipped += 1;
        }
    }
    let rewritten: HashSet<i64> = plan.rewritten.iter().map(|(id, _)| *id).collect();
    for rowid in &plan.ended_observations {
        let (id, entity, content, created_at): (i64, i64, String, i64) = conn
            .prepare_cached(
                "SELECT id, entity_id, content, created_at FROM observations_ended WHERE rowid = ?1",
            )?
            .query_row([rowid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        if rewritten.contains(&id) {
            continue;
        }
        if !entity_is_live(conn, entity)? {
            skipped += 1;
            continue;
        }
        // Not when the entity holds the same text again by now, nor when
        // its id is taken.
        let held = conn
            .prepare_cached(content_hash::FIND_OBSERVATION)?
            .exists(params![entity, content])?;
        let inserted = if held {
            0
        } else {
            conn.prepare_cached(
                "INSERT INTO observations
                     (id, entity_id, content, created_at, created_change, content_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                id,
                entity,
                content,
                created_at,
                change,
                content_hash::content_hash(&content)
            ])?
        };
        if inserted == 1 {
            search.observation(entity, id)?;
            restored.observations += 1;
        } else {
            skipped += 1;
        }
    }
    search.queue(conn)?;
    for rowid in &plan.ended_relations {
        let (id, from, to, relation_type, created_at): (i64, i64, i64, String, i64) = conn
            .prepare_cached(
                "SELECT id, from_id, to_id, relation_type, created_at FROM relations_ended
                 WHERE rowid = ?1",
            )?
            .query_row([rowid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
        if !entity_is_live(conn, from)? || !entity_is_live(conn, to)? {
            skipped += 1;
            continue;
        }
        let inserted = conn
            .prepare_cached(
                "INSERT INTO relations (id, from_id, to_id, relation_type, created_at, created_change)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            )?
            .execute(params![id, from, to, relation_type, created_at, change])?;
        if inserted == 1 {
            restored.relations += 1;
        } else {
            skipped += 1;
        }
    }
    let mut summary = format!("undid change {target} ({tool})");
    let mut parts = Vec::new();
    if !removed.is_empty() {
        parts.push(format!("removed {}", removed.describe()));
    }
    if !restored.is_empty() {
        parts.push(format!("restored {}", restored.describe()));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} could not come back"));
    }
    if parts.is_empty() {
        parts.push("nothing left to revert".into());
    }
    summary.push_str(": ");
    summary.push_str(&parts.join("; "));
    Ok(Undone {
        change_id: change,
        undid: target,
        summary,
    })
}

fn entity_is_live(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM entities WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))?
        > 0)
}

#[derive(Default)]
struct Tally {
    entities: usize,
    observations: usize,
    relations: usize,
}

impl Tally {
    fn is_empty(&self) -> bool {
        self.entities + self.observations + self.relations == 0
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.entities > 0 {
            parts.push(count(self.entities, "entity", "entities"));
        }
        if self.observations > 0 {
            parts.push(count(self.observations, "observation", "observations"));
        }
        if self.relations > 0 {
            parts.push(count(self.relations, "relation", "relations"));
        }
        parts.join(", ")
    }
}
