//! The three reading operations: `read_graph`, `search_nodes`, `open_nodes`.
//!
//! Each loads its entities with one query (entities joined to their
//! observations, ordered by entity id then observation id, which is insertion
//! order) and its relations with one more. Sets of ids or names are bound as
//! a single `rarray` parameter, so no result size hits SQLite's limit on
//! bound variables.
//!
//! Search: for queries of three or more characters the trigram index gives
//! candidates: the rows that contain the query's rarest few trigrams (guessed from the
//! letters they hold), a superset of the rows that contain the
//! lower-cased query. Shorter queries scan. Either way, the rule of docs/TOOLS.md
//! is checked in Rust on each candidate, so the index only ever narrows,
//! never decides.

use std::rc::Rc;

use rusqlite::types::Value;
use rusqlite::{Connection, Params};

use super::grams::Grams;
use super::StoreError;
use crate::model::{Entity, Graph, GraphOp, Outcome, Relation};

/// Characters a query needs before the trigram index can answer it.
const TRIGRAM: usize = 3;

/// Runs a reading operation. Writes never reach here.
pub(super) fn run(
    conn: &Connection,
    rankings: &super::words::Rankings,
    op: &GraphOp,
) -> Result<Outcome, StoreError> {
    let graph = match op {
        GraphOp::ReadGraph => read_graph(conn)?,
        GraphOp::SearchNodes { query } => search_nodes(conn, rankings.grams(), query)?,
        GraphOp::OpenNodes(names) => open_nodes(conn, names)?,
        GraphOp::ReadPage(page) => {
            return Ok(Outcome::Page(super::page::read_page(
                conn,
                rankings.grams(),
                page,
            )?))
        }
        GraphOp::SearchMemory(search) => {
            return Ok(Outcome::Ranked(super::words::search_memory(
                conn, rankings, search,
            )?))
        }
        GraphOp::Neighbors(query) => {
            return Ok(Outcome::Neighborhood(super::neighbors::neighbors(
                conn, query,
            )?))
        }
        GraphOp::History(query) => {
            return Ok(Outcome::History(super::history::history(conn, query)?))
        }
        GraphOp::Recent(query) => super::history::recent(conn, query)?,
        GraphOp::Purge {
            before,
            dry_run: true,
        } => return Ok(Outcome::Purged(super::history::purge(conn, *before, true)?)),
        _ => unreachable!("read::run is only called with read operations"),
    };
    Ok(Outcome::Graph(graph))
}

const ENTITY_COLUMNS: &str = "SELECT e.id, e.name, e.entity_type, o.content
     FROM entities e LEFT JOIN observations o ON o.entity_id = e.id";

const RELATION_COLUMNS: &str = "SELECT f.name, t.name, r.relation_type
     FROM relations r
     JOIN entities f ON f.id = r.from_id
     JOIN entities t ON t.id = r.to_id";

pub(super) fn read_graph(conn: &Connection) -> Result<Graph, StoreError> {
    let entities = load_entities(conn, &format!("{ENTITY_COLUMNS} ORDER BY e.id, o.id"), [])?;
    let relations = load_relations(conn, &format!("{RELATION_COLUMNS} ORDER BY r.id"), [])?;
    Ok(Graph {
        entities: entities.into_iter().map(|(_, e)| e).collect(),
        relations,
    })
}

fn open_nodes(conn: &Connection, names: &[String]) -> Result<Graph, StoreError> {
    let names = array(names.iter().map(|n| Value::Text(n.clone())));
    let entities = load_entities(
        conn,
        &format!("{ENTITY_COLUMNS} WHERE e.name IN rarray(?1) ORDER BY e.id, o.id"),
        [names],
    )?;
    with_touching_relations(conn, entities)
}

fn search_nodes(conn: &Connection, layout: Grams, query: &str) -> Result<Graph, StoreError> {
    let needle = query.to_lowercase();
    let grams = trigrams(&needle);
    let candidates = if grams.is_empty() {
        load_entities(conn, &format!("{ENTITY_COLUMNS} ORDER BY e.id, o.id"), [])?
    } else {
        let picked = all_of(&distinctive(&grams, REQUIRED));
        load_entities(conn, &indexed_search_sql(layout), [&picked])?
    };
    let matches = candidates
        .into_iter()
        .filter(|(_, e)| needle.is_empty() || entity_matches(e, &needle))
        .collect();
    with_touching_relations(conn, matches)
}

/// The search query for needles of `TRIGRAM` or more characters: entities
/// whose name and type, or one of whose observations, match the FTS5 query
/// `?1`. Its plan must never scan observations.
pub(super) fn indexed_search_sql(layout: Grams) -> String {
    format!(
        "{ENTITY_COLUMNS}
         WHERE e.id IN ({})
         ORDER BY e.id, o.id",
        layout.matching_entities("?1")
    )
}

/// The distinct trigrams of `needle`, in order; none if it is shorter than
/// [`TRIGRAM`] characters.
pub(super) fn trigrams(needle: &str) -> Vec<String> {
    let chars: Vec<char> = needle.chars().collect();
    let mut grams: Vec<String> = Vec::new();
    for window in chars.windows(TRIGRAM) {
        let gram: String = window.iter().collect();
        if !grams.contains(&gram) {
            grams.push(gram);
        }
    }
    grams
}

/// Trigrams a candidate must contain. Each one more narrows the candidates
/// but costs one more posting list to read; three balanced best in the
/// store benchmark.
pub(super) const REQUIRED: usize = 3;

/// The `count` trigrams of `grams` least likely to be common, by the
/// letters they contain: space and the frequent letters of English text
/// score low, rare letters, digits and other characters high. A cheap
/// guess standing in for document counts, which FTS5 can only give by
/// reading each posting list whole. Ties keep query order.
pub(super) fn distinctive(grams: &[String], count: usize) -> Vec<String> {
    fn rarity(c: char) -> u32 {
        match c {
            ' ' => 0,
            'e' => 1,
            't' | 'a' | 'o' | 'i' | 'n' | 's' | 'h' | 'r' => 2,
            'd' | 'l' | 'u' | 'c' | 'm' => 3,
            'w' | 'f' | 'g' | 'y' | 'p' | 'b' => 4,
            'v' | 'k' => 5,
            'j' | 'x' | 'q' | 'z' => 6,
            _ => 5,
        }
    }
    let mut scored: Vec<(u32, usize)> = grams
        .iter()
        .enumerate()
        .map(|(i, g)| (g.chars().map(rarity).sum(), i))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut picked: Vec<usize> = scored.into_iter().take(count).map(|(_, i)| i).collect();
    picked.sort_unstable();
    picked.into_iter().map(|i| grams[i].clone()).collect()
}

/// An FTS5 query for rows containing every one of `grams`. Each is quoted,
/// inner quotes doubled, so no character of a search is ever FTS5 syntax.
pub(super) fn all_of(grams: &[String]) -> String {
    grams
        .iter()
        .map(|g| format!("\"{}\"", g.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// An FTS5 query for rows containing every trigram of `needle` (three or
/// more characters).
#[cfg(test)]
pub(super) fn fts_phrase(needle: &str) -> String {
    all_of(&trigrams(needle))
}

/// The rule of docs/TOOLS.md: the lower-cased query is a substring of the
/// lower-cased name, type, or any observation.
pub(crate) fn entity_matches(entity: &Entity, needle: &str) -> bool {
    let contains = |s: &str| s.to_lowercase().contains(needle);
    contains(&entity.name)
        || contains(&entity.entity_type)
        || entity.observations.iter().any(|o| contains(o))
}

/// Completes a set of entities with every relation that has at least one
/// endpoint among them.
fn with_touching_relations(
    conn: &Connection,
    entities: Vec<(i64, Entity)>,
) -> Result<Graph, StoreError> {
    let relations = if entities.is_empty() {
        Vec::new()
    } else {
        let ids = array(entities.iter().map(|(id, _)| Value::Integer(*id)));
        load_relations(
            conn,
            &format!(
                "{RELATION_COLUMNS}
                 WHERE r.id IN (
                     SELECT id FROM relations WHERE from_id IN rarray(?1)
                     UNION
                     SELECT id FROM relations WHERE to_id IN rarray(?1)
                 )
                 ORDER BY r.id"
            ),
            [ids],
        )?
    };
    Ok(Graph {
        entities: entities.into_iter().map(|(_, e)| e).collect(),
        relations,
    })
}

pub(super) fn array(values: impl Iterator<Item = Value>) -> rusqlite::vtab::array::Array {
    Rc::new(values.collect())
}

/// Runs an entity query (id, name, type, observation or NULL; ordered by
/// entity then observation) and folds its rows into entities.
pub(super) fn load_entities(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<(i64, Entity)>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut entities: Vec<(i64, Entity)> = Vec::new();
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let observation: Option<String> = row.get(3)?;
        match entities.last_mut() {
            Some((last, entity)) if *last == id => entity.observations.extend(observation),
            _ => entities.push((
                id,
                Entity {
                    name: row.get(1)?,
                    entity_type: row.get(2)?,
                    observations: observation.into_iter().collect(),
                },
            )),
        }
    }
    Ok(entities)
}

fn load_relations(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<Relation>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let relations = stmt
        .query_map(params, relation_row)?
        .collect::<Result<_, _>>()?;
    Ok(relations)
}

/// A relation from a row of (from, to, relation type).
pub(super) fn relation_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Relation> {
    Ok(Relation::new(
        row.get::<_, String>(0)?,
        row.get::<_, String>(1)?,
        row.get::<_, String>(2)?,
    ))
}
