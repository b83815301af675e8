//! Bounded official reads: one page of `read_graph`, `search_nodes` or
//! `open_nodes`, in storage order, optionally cut to fit a character budget.
//!
//! A page is the entities with an id above the cursor's position that the
//! official read would return, so paging never repeats or skips an entity
//! that existed for the whole paging, whatever is written meanwhile: ids only
//! grow, and an entity keeps its id for life.
//!
//! Entities are read as a stream, in id order, and the stream stops as soon
//! as the page is full: at `limit + 1` entities (the extra one says more
//! remain), or at the first entity whose rendered size alone breaks the
//! budget. So the work of a page is bounded by its size, not by the graph's.
//! Sizes come from [`crate::measure`], which counts exactly what the shim will
//! write. With a budget, the relations touching the loaded entities are read
//! next, each tagged with the first entity of the page that brings it in, and
//! the longest prefix whose entities *and* relations fit is kept.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{Connection, ToSql};

use super::grams::Grams;
use super::read::{self, all_of, distinctive, trigrams};
use super::StoreError;
use crate::measure::{self, Size, ITEM};
use crate::model::{Budget, Entity, GraphPage, PageQuery, PageSource, PagedEntity, Truncation};

/// Runs one page of an official read.
pub(super) fn read_page(
    conn: &Connection,
    layout: Grams,
    q: &PageQuery,
) -> Result<GraphPage, StoreError> {
    let after = q.after.unwrap_or(0);
    let mut picked: Vec<(i64, PagedEntity)> = Vec::new();
    let mut sizes: Vec<Size> = Vec::new();
    let mut entities_size = Size::default();
    let mut more = false;
    visit(conn, layout, q, after, |id, paged| {
        if q.limit.is_some_and(|limit| picked.len() >= limit as usize) {
            more = true;
            return false;
        }
        let size = measure::entity(&paged.entity, paged.observation_count) + ITEM;
        if let Some(budget) = q.budget {
            // Entities alone already over the budget: nothing from here on fits.
            let total = entities_size + size + measure::graph_frame(picked.len() + 1, 0);
            if total.pretty > budget.chars {
                more = true;
                return false;
            }
        }
        entities_size += size;
        sizes.push(size);
        picked.push((id, paged));
        true
    })?;

    let relations = touching_relations(conn, &picked)?;
    let keep = match q.budget {
        None => picked.len(),
        Some(budget) => fitting_prefix(&sizes, &relations, more, budget),
    };
    let cut = keep < picked.len();
    more |= cut;
    let next_after = more.then(|| keep.checked_sub(1).map_or(after, |i| picked[i].0));
    let truncated = match (q.budget, more) {
        (Some(_), true) => Some(Truncation {
            shown: keep as u64,
            remaining: count_remaining(conn, layout, q, after)?,
        }),
        _ => None,
    };
    picked.truncate(keep);
    Ok(GraphPage {
        entities: picked.into_iter().map(|(_, e)| e).collect(),
        relations: relations
            .into_iter()
            .filter(|r| r.entry < keep)
            .map(|r| r.relation)
            .collect(),
        next_after,
        truncated,
    })
}

/// A relation touching the loaded entities, with the index of the first of
/// them it touches: it belongs to every prefix longer than that.
struct Tagged {
    relation: crate::model::Relation,
    entry: usize,
    size: Size,
}

/// How many of the loaded entities to keep under `budget`. The whole answer
/// is kept when it is complete (`more` is false) and its text fits; otherwise
/// the longest prefix whose text fits and whose compact JSON leaves room for
/// the truncation fields.
fn fitting_prefix(sizes: &[Size], relations: &[Tagged], more: bool, budget: Budget) -> usize {
    let n = sizes.len();
    let mut by_entry = vec![(Size::default(), 0usize); n];
    for r in relations {
        by_entry[r.entry].0 += r.size + ITEM;
        by_entry[r.entry].1 += 1;
    }
    // Prefix sums: the answer of the first k entities, for every k.
    let mut totals = Vec::with_capacity(n + 1);
    let (mut size, mut count) = (Size::default(), 0);
    totals.push(measure::graph_frame(0, 0));
    for k in 0..n {
        size += sizes[k] + by_entry[k].0;
        count += by_entry[k].1;
        totals.push(size + measure::graph_frame(k + 1, count));
    }
    if !more && totals[n].pretty <= budget.chars {
        return n;
    }
    (0..=n)
        .rev()
        .find(|&k| {
            totals[k].pretty <= budget.chars && totals[k].compact + budget.reserve <= budget.chars
        })
        .unwrap_or(0)
}

fn touching_relations(
    conn: &Connection,
    picked: &[(i64, PagedEntity)],
) -> Result<Vec<Tagged>, StoreError> {
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let position: HashMap<i64, usize> = picked
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i))
        .collect();
    let ids = read::array(picked.iter().map(|(id, _)| Value::Integer(*id)));
    let mut stmt = conn.prepare_cached(
        "SELECT f.name, t.name, r.relation_type, r.from_id, r.to_id
         FROM relations r
         JOIN entities f ON f.id = r.from_id
         JOIN entities t ON t.id = r.to_id
         WHERE r.id IN (
             SELECT id FROM relations WHERE from_id IN rarray(?1)
             UNION
             SELECT id FROM relations WHERE to_id IN rarray(?1)
         )
         ORDER BY r.id",
    )?;
    let mut rows = stmt.query([ids])?;
    let mut tagged = Vec::new();
    while let Some(row) = rows.next()? {
        let relation = read::relation_row(row)?;
        let at = |id: i64| position.get(&id).copied().unwrap_or(usize::MAX);
        let entry = at(row.get(3)?).min(at(row.get(4)?));
        let size = measure::relation(&relation);
        tagged.push(Tagged {
            relation,
            entry,
            size,
        });
    }
    Ok(tagged)
}

/// The SQL and parameters selecting the page's candidate entities after
/// `after`, in id order: with their observations (`with_observations`), or
/// with only their count.
struct Selection {
    sql: String,
    params: Vec<(&'static str, Box<dyn ToSql>)>,
    /// For `search_nodes`: the lower-cased query each candidate must contain.
    needle: Option<String>,
}

fn selection(layout: Grams, q: &PageQuery, after: i64, columns: &str) -> Selection {
    let mut sql = format!("{columns} WHERE e.id > :after");
    let mut params: Vec<(&'static str, Box<dyn ToSql>)> = vec![(":after", Box::new(after))];
    if !q.entity_types.is_empty() {
        sql.push_str(" AND e.entity_type IN rarray(:types)");
        let types = read::array(q.entity_types.iter().map(|t| Value::Text(t.clone())));
        params.push((":types", Box::new(types)));
    }
    let mut needle = None;
    match &q.source {
        PageSource::All => {}
        PageSource::Names(names) => {
            sql.push_str(" AND e.name IN rarray(:names)");
            let names = read::array(names.iter().map(|n| Value::Text(n.clone())));
            params.push((":names", Box::new(names)));
        }
        PageSource::Search(query) => {
            let lowered = query.to_lowercase();
            let grams = trigrams(&lowered);
            if !grams.is_empty() {
                sql.push_str(&format!(
                    " AND e.id IN ({})",
                    layout.matching_entities(":grams")
                ));
                params.push((
                    ":grams",
                    Box::new(all_of(&distinctive(&grams, read::REQUIRED))),
                ));
            }
            needle = (!lowered.is_empty()).then_some(lowered);
        }
    }
    Selection {
        sql,
        params,
        needle,
    }
}

/// Calls `each` with every entity of the read after `after`, in id order,
/// until it returns false.
fn visit(
    conn: &Connection,
    layout: Grams,
    q: &PageQuery,
    after: i64,
    mut each: impl FnMut(i64, PagedEntity) -> bool,
) -> Result<(), StoreError> {
    let searching = matches!(q.source, PageSource::Search(_));
    if !q.include_observations && !searching {
        let columns = "SELECT e.id, e.name, e.entity_type,
                (SELECT count(*) FROM observations o WHERE o.entity_id = e.id)
             FROM entities e";
        let s = selection(layout, q, after, columns);
        let mut stmt = conn.prepare_cached(&format!("{} ORDER BY e.id", s.sql))?;
        let params: Vec<(&str, &dyn ToSql)> = s.params.iter().map(|(k, v)| (*k, &**v)).collect();
        let mut rows = stmt.query(params.as_slice())?;
        while let Some(row) = rows.next()? {
            let paged = PagedEntity {
                entity: Entity::new(
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    Vec::<String>::new(),
                ),
                observation_count: Some(row.get::<_, i64>(3)? as u64),
            };
            if !each(row.get(0)?, paged) {
                break;
            }
        }
        return Ok(());
    }
    let columns = "SELECT e.id, e.name, e.entity_type, o.content
         FROM entities e LEFT JOIN observations o ON o.entity_id = e.id";
    let s = selection(layout, q, after, columns);
    let mut stmt = conn.prepare_cached(&format!("{} ORDER BY e.id, o.id", s.sql))?;
    let params: Vec<(&str, &dyn ToSql)> = s.params.iter().map(|(k, v)| (*k, &**v)).collect();
    let mut rows = stmt.query(params.as_slice())?;
    let mut current: Option<(i64, Entity)> = None;
    // Hands over a finished entity; false when the caller wants no more.
    let mut finish = |id: i64, entity: Entity| -> bool {
        if let Some(needle) = &s.needle {
            if !read::entity_matches(&entity, needle) {
                return true;
            }
        }
        let paged = if q.include_observations {
            PagedEntity {
                entity,
                observation_count: None,
            }
        } else {
            let count = entity.observations.len() as u64;
            PagedEntity {
                entity: Entity::new(entity.name, entity.entity_type, Vec::<String>::new()),
                observation_count: Some(count),
            }
        };
        each(id, paged)
    };
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let observation: Option<String> = row.get(3)?;
        match &mut current {
            Some((at, entity)) if *at == id => entity.observations.extend(observation),
            _ => {
                if let Some((at, entity)) = current.take() {
                    if !finish(at, entity) {
                        return Ok(());
                    }
                }
                let entity = Entity::new(
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    observation,
                );
                current = Some((id, entity));
            }
        }
    }
    if let Some((at, entity)) = current {
        finish(at, entity);
    }
    Ok(())
}

/// How many entities of the read lie after `after`, for the notice of a cut
/// answer. Counted in SQL, without loading them: the substring rule runs on
/// the lower-cased columns through `memgraphd_lower`.
fn count_remaining(
    conn: &Connection,
    layout: Grams,
    q: &PageQuery,
    after: i64,
) -> Result<u64, StoreError> {
    let s = selection(layout, q, after, "SELECT count(*) FROM entities e");
    let mut sql = s.sql;
    let mut params: Vec<(&str, &dyn ToSql)> = s.params.iter().map(|(k, v)| (*k, &**v)).collect();
    if let Some(needle) = &s.needle {
        sql.push_str(
            " AND (instr(memgraphd_lower(e.name), :needle) > 0
                OR instr(memgraphd_lower(e.entity_type), :needle) > 0
                OR EXISTS (SELECT 1 FROM observations o
                           WHERE o.entity_id = e.id AND instr(memgraphd_lower(o.content), :needle) > 0))",
        );
        params.push((":needle", needle));
    }
    let count: i64 = conn
        .prepare_cached(&sql)?
        .query_row(params.as_slice(), |r| r.get(0))?;
    Ok(count as u64)
}
