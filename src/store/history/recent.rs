//! The live entities the latest changes touched, most recently changed
//! first: what the session-start hook shows as "what this project has been
//! working on", or, for a project with no changes yet, what everyone has.
//!
//! # Bounded
//! However long the history, this reads at most [`LINKS`] change links,
//! newest first, by index: for a project, the changes of that project in
//! reverse id order (`changes_by_project` holds `(project, id)`), each
//! joined to its links (`change_entities_by_change`); for every project,
//! the link index itself in reverse. So one huge import, or a project whose
//! recent changes all hit deleted entities, costs [`LINKS`] rows and no
//! more, and the answer may then hold fewer than `limit` entities.

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use super::super::read::{array, load_entities, relation_row};
use super::super::StoreError;
use crate::model::{Graph, RecentQuery};

/// Change links read at most, newest first.
pub(in crate::store) const LINKS: i64 = 2_000;

/// The ids of the live entities that the latest [`LINKS`] links of
/// project `?1`'s changes name, most recently changed first, at most `?3`.
/// CROSS JOIN keeps `changes` the outer loop: its project index yields ids
/// newest first, so the LIMIT stops the scan early instead of sorting every
/// link the project ever made.
pub(in crate::store) const OF_PROJECT: &str = "WITH links(name, change) AS (
         SELECT ce.entity_name, c.id
         FROM changes c CROSS JOIN change_entities ce ON ce.change_id = c.id
         WHERE c.project = ?1
         ORDER BY c.id DESC LIMIT ?2)
     SELECT e.id FROM links l JOIN entities e ON e.name = l.name
     GROUP BY e.id ORDER BY max(l.change) DESC, e.id DESC LIMIT ?3";

/// The same over every change: the latest `?1` links, at most `?2` ids.
pub(in crate::store) const OF_ANY: &str = "WITH links(name, change) AS (
         SELECT entity_name, change_id FROM change_entities
         ORDER BY change_id DESC LIMIT ?1)
     SELECT e.id FROM links l JOIN entities e ON e.name = l.name
     GROUP BY e.id ORDER BY max(l.change) DESC, e.id DESC LIMIT ?2";

/// The relations among the entities `?1` (a set of ids).
pub(in crate::store) const AMONG: &str = "SELECT f.name, t.name, r.relation_type
     FROM relations r
     JOIN entities f ON f.id = r.from_id
     JOIN entities t ON t.id = r.to_id
     WHERE r.from_id IN rarray(?1) AND r.to_id IN rarray(?1)
     ORDER BY r.id";

/// The project's (or everyone's) most recently changed live entities, with
/// the relations among them.
pub(in crate::store) fn recent(conn: &Connection, q: &RecentQuery) -> Result<Graph, StoreError> {
    let ids: Vec<i64> = match &q.project {
        Some(project) => collect_ids(conn, OF_PROJECT, params![project, LINKS, q.limit])?,
        None => collect_ids(conn, OF_ANY, params![LINKS, q.limit])?,
    };
    if ids.is_empty() {
        return Ok(Graph::default());
    }
    let set = || array(ids.iter().map(|id| Value::Integer(*id)));
    let mut loaded = load_entities(
        conn,
        "SELECT e.id, e.name, e.entity_type, o.content
         FROM entities e LEFT JOIN observations o ON o.entity_id = e.id
         WHERE e.id IN rarray(?1) ORDER BY e.id, o.id",
        [set()],
    )?;
    // Back into recency order (the load is in id order).
    loaded.sort_by_key(|(id, _)| ids.iter().position(|i| i == id));
    let mut stmt = conn.prepare_cached(AMONG)?;
    let relations = stmt
        .query_map([set()], relation_row)?
        .collect::<Result<_, _>>()?;
    Ok(Graph {
        entities: loaded.into_iter().map(|(_, e)| e).collect(),
        relations,
    })
}

fn collect_ids(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let ids = stmt
        .query_map(params, |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}
