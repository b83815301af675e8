//! Reading the database of `@pepk/mcp-memory-sqlite`, the popular SQLite
//! rewrite of the official server, for `memgraphd import`.
//!
//! Its schema: `entities(name, entity_type)`, `observations(entity_name,
//! content)`, `relations(from_entity, to_entity, relation_type)`. It is read
//! read-only, in rowid order (its insertion order), and never modified.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::StoreError;
use crate::model::{Entity, Graph};

/// Reads a pepk database; `Ok(None)` if the file is SQLite but not that schema.
pub fn read_pepk(path: &Path) -> Result<Option<Graph>, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let has = |table: &str, columns: &[&str]| -> Result<bool, StoreError> {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let found: Vec<String> = stmt
            .query_map([table], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(columns.iter().all(|c| found.iter().any(|f| f == c)))
    };
    if !(has("entities", &["name", "entity_type"])?
        && has("observations", &["entity_name", "content"])?
        && has("relations", &["from_entity", "to_entity", "relation_type"])?)
    {
        return Ok(None);
    }
    let mut entities: Vec<Entity> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut stmt = conn.prepare("SELECT name, entity_type FROM entities ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        if index.contains_key(&name) {
            continue;
        }
        index.insert(name.clone(), entities.len());
        entities.push(Entity {
            name,
            entity_type: row.get(1)?,
            observations: Vec::new(),
        });
    }
    let mut stmt = conn.prepare("SELECT entity_name, content FROM observations ORDER BY rowid")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let content: String = row.get(1)?;
        if let Some(&at) = index.get(&name) {
            let observations = &mut entities[at].observations;
            if !observations.contains(&content) {
                observations.push(content);
            }
        }
    }
    let mut stmt =
        conn.prepare("SELECT from_entity, to_entity, relation_type FROM relations ORDER BY rowid")?;
    let relations = stmt
        .query_map([], super::read::relation_row)?
        .collect::<Result<_, _>>()?;
    Ok(Some(Graph {
        entities,
        relations,
    }))
}
