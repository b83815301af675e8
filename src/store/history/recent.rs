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

use std::collections::HashSet;

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use super::super::read::{array, load_entities, relation_row};
use super::super::StoreError;
use crate::model::{Graph, RecentQuery};

/// Change links read at most, newest first.
pub(in crate::store) const LINKS: i64 = 2_000;

/// The live entities named by the latest [`LINKS`] change links of
/// project `?1` (change id, entity id), newest change first, one row per
/// link. CROSS JOIN keeps `changes` the outer loop: its project index
/// yields ids newest first, so the rows come in that order without a sort
/// and the reader stops as soon as it has enough distinct entities.
pub(in crate::store) const OF_PROJECT: &str = "SELECT c.id, e.id
     FROM changes c
     CROSS JOIN change_entities ce ON ce.change_id = c.id
     CROSS JOIN entities e ON e.name = ce.entity_name
     WHERE c.project = ?1
     ORDER BY c.id DESC LIMIT ?2";

/// The same over every change: the latest `?1` links, newest first.
pub(in crate::store) const OF_ANY: &str = "SELECT ce.change_id, e.id
     FROM change_entities ce
     CROSS JOIN entities e ON e.name = ce.entity_name
     ORDER BY ce.change_id DESC LIMIT ?1";

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
        Some(project) => distinct_ids(conn, OF_PROJECT, params![project, LINKS], q.limit)?,
        None => distinct_ids(conn, OF_ANY, params![LINKS], q.limit)?,
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

/// The first `limit` distinct entity ids of the rows of `sql` (change id,
/// entity id; newest change first): an entity changed many times counts
/// once, at its latest change, and within one change the newest entity
/// comes first. The change being read when `limit` is reached is read to
/// its end (within the rows' own bound) so that this order holds.
fn distinct_ids(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    limit: u32,
) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut found: Vec<(i64, i64)> = Vec::new();
    let mut seen: HashSet<i64> = HashSet::new();
    while let Some(row) = rows.next()? {
        let (change, id): (i64, i64) = (row.get(0)?, row.get(1)?);
        if found.len() >= limit as usize && found.last().is_some_and(|(c, _)| *c != change) {
            break;
        }
        if seen.insert(id) {
            found.push((change, id));
        }
    }
    found.sort_unstable_by(|a, b| b.cmp(a));
    found.truncate(limit as usize);
    Ok(found.into_iter().map(|(_, id)| id).collect())
}
