//! `get_neighbors`: the relations within a few hops of one entity.
//!
//! The neighbourhood is found breadth first, one query per hop over the
//! whole frontier (never one per entity). Its relations are then paged in
//! relation id order, which is creation order and never changes, so a cursor
//! (the last relation id shown) never repeats or skips a relation that stayed
//! in the neighbourhood for the whole paging. The walk stops growing after
//! [`MAX_REACHED`] entities, so a hub cannot make one call unbounded.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::read;
use super::StoreError;
use crate::model::{Direction, EntitySummary, NeighborQuery, Neighborhood, Relation};

/// Entities a walk may reach before it stops growing.
pub const MAX_REACHED: usize = 10_000;

/// Runs `get_neighbors`.
pub(super) fn neighbors(conn: &Connection, q: &NeighborQuery) -> Result<Neighborhood, StoreError> {
    let center: i64 = conn
        .prepare_cached("SELECT id FROM entities WHERE name = ?1")?
        .query_row([&q.name], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::UnknownEntity(q.name.clone()))?;

    // Relation id -> (from, to, type), for every relation of the walk.
    let mut found: BTreeMap<i64, (i64, i64, String)> = BTreeMap::new();
    let mut reached: HashSet<i64> = HashSet::from([center]);
    let mut frontier = vec![center];
    let types = read::array(q.relation_types.iter().map(|t| Value::Text(t.clone())));
    let typed = if q.relation_types.is_empty() {
        ""
    } else {
        " AND relation_type IN rarray(?2)"
    };
    let sql = |column: &str| {
        format!("SELECT id, from_id, to_id, relation_type FROM relations WHERE {column} IN rarray(?1){typed}")
    };
    let queries: Vec<String> = match q.direction {
        Direction::Out => vec![sql("from_id")],
        Direction::In => vec![sql("to_id")],
        Direction::Both => vec![sql("from_id"), sql("to_id")],
    };
    for _ in 0..q.depth {
        if frontier.is_empty() {
            break;
        }
        let ids = read::array(frontier.iter().map(|id| Value::Integer(*id)));
        let mut next = Vec::new();
        for sql in &queries {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = if q.relation_types.is_empty() {
                stmt.query(rusqlite::params![ids])?
            } else {
                stmt.query(rusqlite::params![ids, types])?
            };
            while let Some(row) = rows.next()? {
                let (id, from, to): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
                found.entry(id).or_insert((from, to, row.get(3)?));
                for end in [from, to] {
                    if reached.len() < MAX_REACHED && reached.insert(end) {
                        next.push(end);
                    }
                }
            }
        }
        frontier = next;
    }

    let after = q.after.unwrap_or(0);
    let mut page: Vec<(i64, (i64, i64, String))> = found
        .into_iter()
        .filter(|(id, _)| *id > after)
        .take(q.limit as usize + 1)
        .collect();
    let next_after = if page.len() > q.limit as usize {
        page.pop();
        page.last().map(|(id, _)| *id).or(Some(after))
    } else {
        None
    };

    let mut wanted: Vec<i64> = vec![center];
    for (_, (from, to, _)) in &page {
        wanted.extend([*from, *to]);
    }
    let summaries = summaries(conn, &wanted)?;
    let summary = |id: i64| -> Result<EntitySummary, StoreError> {
        summaries
            .get(&id)
            .cloned()
            .ok_or_else(|| StoreError::UnknownEntity(format!("#{id}")))
    };
    let mut neighbors = Vec::new();
    let mut listed = HashSet::from([center]);
    let mut relations = Vec::with_capacity(page.len());
    for (_, (from, to, relation_type)) in page {
        let (f, t) = (summary(from)?, summary(to)?);
        for (id, s) in [(from, &f), (to, &t)] {
            if listed.insert(id) {
                neighbors.push(s.clone());
            }
        }
        relations.push(Relation::new(f.name, t.name, relation_type));
    }
    Ok(Neighborhood {
        entity: summary(center)?,
        relations,
        neighbors,
        next_after,
    })
}

fn summaries(conn: &Connection, ids: &[i64]) -> Result<HashMap<i64, EntitySummary>, StoreError> {
    let ids = read::array(ids.iter().map(|id| Value::Integer(*id)));
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.name, e.entity_type,
                (SELECT count(*) FROM observations o WHERE o.entity_id = e.id)
         FROM entities e WHERE e.id IN rarray(?1)",
    )?;
    let mut rows = stmt.query([ids])?;
    let mut out = HashMap::new();
    while let Some(row) = rows.next()? {
        out.insert(
            row.get::<_, i64>(0)?,
            EntitySummary {
                name: row.get(1)?,
                entity_type: row.get(2)?,
                observation_count: row.get::<_, i64>(3)? as u64,
            },
        );
    }
    Ok(out)
}
