//! `get_neighbors`: the relations within a few hops of one entity.
//!
//! The neighbourhood is found breadth first, one query per hop over the
//! whole frontier (never one per entity). Its relations are then paged in
//! relation id order, which is creation order and never changes, so a cursor
//! (the last relation id shown) never repeats or skips a relation that stayed
//! in the neighbourhood for the whole paging. The walk stops growing after
//! [`MAX_REACHED`] entities, so a hub cannot make one call unbounded.
//!
//! With a budget (the size guard) a page also stops at the last relation
//! whose answer, its new neighbours included, leaves room for the cursor and
//! the notice; the cursor is that relation's id. The first relation is
//! always shown, so every page moves on.

use std::collections::{BTreeMap, HashMap, HashSet};

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

use super::read;
use super::StoreError;
use crate::measure::retrieval::{
    chars, compact, neighbor_label, neighborhood_header, relation_line, summary_item,
};
use crate::measure::{self, Size};
use crate::model::{Direction, EntitySummary, NeighborQuery, Neighborhood, Relation, Truncation};

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
    let remaining = found.range(after.saturating_add(1)..).count();
    let mut page: Vec<(i64, (i64, i64, String))> = found
        .into_iter()
        .filter(|(id, _)| *id > after)
        .take(q.limit as usize + 1)
        .collect();
    let more = page.len() > q.limit as usize;
    if more {
        page.pop();
    }

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
    let entity = summary(center)?;
    let mut neighbors = Vec::new();
    let mut listed = HashSet::from([center]);
    let mut relations = Vec::with_capacity(page.len());
    // Per relation: its id, how many neighbours the page lists with it, and
    // the answer's size up to and including it.
    let mut prefixes: Vec<(i64, usize, Size)> = Vec::with_capacity(page.len());
    let mut size = frame(&entity);
    for (id, (from, to, relation_type)) in page {
        let (f, t) = (summary(from)?, summary(to)?);
        for (end, s) in [(from, &f), (to, &t)] {
            if listed.insert(end) {
                size += neighbor_size(s);
                neighbors.push(s.clone());
            }
        }
        let relation = Relation::new(f.name, t.name, relation_type);
        size += relation_size(&relation);
        relations.push(relation);
        // A comma (or `, `) only between two items.
        let listed_any = u64::from(!neighbors.is_empty());
        let exact = Size {
            pretty: size.pretty - 2 * listed_any,
            compact: size.compact - 1 - listed_any,
        };
        prefixes.push((id, neighbors.len(), exact));
    }
    let mut next_after = more.then(|| prefixes.last().map_or(after, |p| p.0));
    let mut truncated = None;
    if let Some(budget) = q.budget {
        let whole = prefixes.last().map_or(size, |p| p.2);
        let complete = !more && whole.pretty <= budget.chars && whole.compact <= budget.chars;
        if !complete {
            let room = |s: Size| s.pretty.max(s.compact) + budget.reserve <= budget.chars;
            // The first relation is always kept, so every page moves on.
            let keep = prefixes.iter().take_while(|p| room(p.2)).count().max(1);
            if keep < relations.len() {
                let (id, listed, _) = prefixes[keep - 1];
                relations.truncate(keep);
                neighbors.truncate(listed);
                next_after = Some(id);
                truncated = Some(Truncation {
                    shown: keep as u64,
                    remaining: remaining as u64,
                });
            }
        }
    }
    Ok(Neighborhood {
        entity,
        relations,
        neighbors,
        next_after,
        truncated,
    })
}

/// The answer without relations: the centre, and what holds the lists
/// (text: the header, `:` and a line break, `Neighbors: ` and `.`; JSON:
/// `{"entity":…,"relations":[],"neighbors":[]}`).
fn frame(center: &EntitySummary) -> Size {
    Size {
        pretty: chars(&neighborhood_header(center)) + 14,
        compact: compact(&summary_item(center)) + 41,
    }
}

/// One relation: its line and line break, its JSON item and a comma.
fn relation_size(r: &Relation) -> Size {
    Size {
        pretty: chars(&relation_line(r)) + 1,
        compact: measure::relation(r).compact + 1,
    }
}

/// One neighbour: its label and `, `, its JSON item and a comma.
fn neighbor_size(s: &EntitySummary) -> Size {
    Size {
        pretty: chars(&neighbor_label(s)) + 2,
        compact: compact(&summary_item(s)) + 1,
    }
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
