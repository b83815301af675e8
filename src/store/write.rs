//! The six writing operations, run inside a savepoint of the caller's
//! transaction (see [`super::Batch`]).
//!
//! Each checks everything that can fail on the caller's side (unknown
//! entities) before it writes, so a failing call leaves no trace even
//! without the savepoint; the savepoint is what makes SQLite failures
//! atomic too.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreError;
use crate::model::{
    AddedObservations, CreatedEntities, Deleted, Entity, GraphOp, ImportReport, MissingObservation,
    ObservationAdd, ObservationDelete, Outcome, Relation,
};

/// Runs the write `op`; reads are refused (they run outside a write).
pub(super) fn run(conn: &Connection, op: &GraphOp, now: i64) -> Result<Outcome, StoreError> {
    Ok(match op {
        GraphOp::CreateEntities(entities) => {
            Outcome::EntitiesCreated(create_entities(conn, entities, now)?)
        }
        GraphOp::CreateRelations(relations) => {
            Outcome::RelationsCreated(create_relations(conn, relations, now)?)
        }
        GraphOp::AddObservations(adds) => {
            Outcome::ObservationsAdded(add_observations(conn, adds, now)?)
        }
        GraphOp::DeleteEntities(names) => Outcome::EntitiesDeleted(delete_entities(conn, names)?),
        GraphOp::DeleteObservations(deletions) => {
            Outcome::ObservationsDeleted(delete_observations(conn, deletions, now)?)
        }
        GraphOp::DeleteRelations(relations) => {
            Outcome::RelationsDeleted(delete_relations(conn, relations)?)
        }
        GraphOp::Import {
            entities,
            relations,
        } => Outcome::Imported(import(conn, entities, relations, now)?),
        GraphOp::ReadGraph
        | GraphOp::SearchNodes { .. }
        | GraphOp::OpenNodes(_)
        | GraphOp::ReadPage(_)
        | GraphOp::SearchMemory(_)
        | GraphOp::Neighbors(_) => {
            return Err(StoreError::ReadOnly(format!(
                "{} is a read; it does not run in a write",
                op.tool_name()
            )))
        }
    })
}

fn import(
    conn: &Connection,
    entities: &[Entity],
    relations: &[Relation],
    now: i64,
) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    let created = create_entities(conn, entities, now)?;
    report.entities_created = created.created.len();
    report.observations_added = created.created.iter().map(|e| e.observations.len()).sum();
    // Entities that existed (or repeated in the batch): merge their observations.
    let created_names: HashSet<&str> = created.created.iter().map(|e| e.name.as_str()).collect();
    let mut merged = HashSet::new();
    let mut first_seen = HashSet::new();
    let mut writer = ObservationWriter::new(conn)?;
    for entity in entities {
        let first = first_seen.insert(entity.name.as_str());
        if first && created_names.contains(entity.name.as_str()) {
            continue;
        }
        let Some(id) = entity_id(conn, &entity.name)? else {
            continue;
        };
        merged.insert(entity.name.as_str());
        for content in &entity.observations {
            if writer.add(id, content, now)? {
                report.observations_added += 1;
            }
        }
    }
    report.entities_merged = merged.len();
    let mut insert = conn.prepare_cached(
        "INSERT INTO relations (from_id, to_id, relation_type, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (from_id, to_id, relation_type) DO NOTHING",
    )?;
    for r in relations {
        let (Some(from), Some(to)) = (entity_id(conn, &r.from)?, entity_id(conn, &r.to)?) else {
            report.dangling.push(r.clone());
            continue;
        };
        if insert.execute(params![from, to, r.relation_type, now])? == 1 {
            report.relations_created += 1;
        } else {
            report.relations_existing += 1;
        }
    }
    Ok(report)
}

fn create_entities(
    conn: &Connection,
    entities: &[Entity],
    now: i64,
) -> Result<CreatedEntities, StoreError> {
    let mut result = CreatedEntities::default();
    let mut seen = HashSet::new();
    let mut skipped = HashSet::new();
    let mut insert = conn.prepare_cached(
        "INSERT INTO entities (name, entity_type, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT (name) DO NOTHING",
    )?;
    let mut index = conn.prepare_cached("INSERT INTO entity_fts (rowid, text) VALUES (?1, ?2)")?;
    let mut words = conn.prepare_cached(
        "INSERT INTO word_fts (rowid, name, type, body) VALUES (-?1, ?2, ?3, '')",
    )?;
    let mut writer = ObservationWriter::new(conn)?;
    for entity in entities {
        let fresh = seen.insert(entity.name.as_str())
            && insert.execute(params![entity.name, entity.entity_type, now])? == 1;
        if !fresh {
            if skipped.insert(entity.name.as_str()) {
                result.skipped.push(entity.name.clone());
            }
            continue;
        }
        let id = conn.last_insert_rowid();
        let text = format!(
            "{}\n{}",
            entity.name.to_lowercase(),
            entity.entity_type.to_lowercase()
        );
        index.execute(params![id, text])?;
        words.execute(params![
            id,
            super::words::index_text(&entity.name),
            super::words::index_text(&entity.entity_type)
        ])?;
        let mut observations = Vec::with_capacity(entity.observations.len());
        for content in &entity.observations {
            if writer.add(id, content, now)? {
                observations.push(content.clone());
            }
        }
        result.created.push(Entity {
            name: entity.name.clone(),
            entity_type: entity.entity_type.clone(),
            observations,
        });
    }
    Ok(result)
}

/// The statements that add an observation and index it, prepared once per
/// call rather than looked up once per observation.
struct ObservationWriter<'c> {
    insert: rusqlite::CachedStatement<'c>,
    index: rusqlite::CachedStatement<'c>,
    words: rusqlite::CachedStatement<'c>,
    conn: &'c Connection,
}

impl<'c> ObservationWriter<'c> {
    fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(ObservationWriter {
            insert: conn.prepare_cached(
                "INSERT INTO observations (entity_id, content, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (entity_id, content) DO NOTHING",
            )?,
            index: conn
                .prepare_cached("INSERT INTO observation_fts (rowid, text) VALUES (?1, ?2)")?,
            words: conn.prepare_cached(
                "INSERT INTO word_fts (rowid, name, type, body) VALUES (?1, '', '', ?2)",
            )?,
            conn,
        })
    }

    /// Adds one observation unless the entity already has it; returns
    /// whether it was added.
    fn add(&mut self, entity_id: i64, content: &str, now: i64) -> Result<bool, StoreError> {
        let added = self.insert.execute(params![entity_id, content, now])? == 1;
        if added {
            let id = self.conn.last_insert_rowid();
            self.index.execute(params![id, content.to_lowercase()])?;
            self.words
                .execute(params![id, super::words::index_text(content)])?;
        }
        Ok(added)
    }
}

fn entity_id(conn: &Connection, name: &str) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM entities WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Looks up every name, in order; the first unknown one fails the call.
fn resolve<'a>(
    conn: &Connection,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<&'a str, i64>, StoreError> {
    let mut ids = HashMap::new();
    for name in names {
        if ids.contains_key(name) {
            continue;
        }
        match entity_id(conn, name)? {
            Some(id) => ids.insert(name, id),
            None => return Err(StoreError::UnknownEntity(name.to_owned())),
        };
    }
    Ok(ids)
}

fn create_relations(
    conn: &Connection,
    relations: &[Relation],
    now: i64,
) -> Result<Vec<Relation>, StoreError> {
    let ids = resolve(
        conn,
        relations
            .iter()
            .flat_map(|r| [r.from.as_str(), r.to.as_str()]),
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO relations (from_id, to_id, relation_type, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (from_id, to_id, relation_type) DO NOTHING",
    )?;
    let mut created = Vec::new();
    for r in relations {
        let (from, to) = (ids[r.from.as_str()], ids[r.to.as_str()]);
        if insert.execute(params![from, to, r.relation_type, now])? == 1 {
            created.push(r.clone());
        }
    }
    Ok(created)
}

fn add_observations(
    conn: &Connection,
    adds: &[ObservationAdd],
    now: i64,
) -> Result<Vec<AddedObservations>, StoreError> {
    let ids = resolve(conn, adds.iter().map(|a| a.entity_name.as_str()))?;
    let mut touch = conn.prepare_cached("UPDATE entities SET updated_at = ?2 WHERE id = ?1")?;
    let mut writer = ObservationWriter::new(conn)?;
    let mut results = Vec::with_capacity(adds.len());
    for add in adds {
        let id = ids[add.entity_name.as_str()];
        let mut added = Vec::new();
        for content in &add.contents {
            if writer.add(id, content, now)? {
                added.push(content.clone());
            }
        }
        if !added.is_empty() {
            touch.execute(params![id, now])?;
        }
        results.push(AddedObservations {
            entity_name: add.entity_name.clone(),
            added,
        });
    }
    Ok(results)
}

fn delete_entities(conn: &Connection, names: &[String]) -> Result<Deleted<String>, StoreError> {
    let mut delete = conn.prepare_cached("DELETE FROM entities WHERE name = ?1")?;
    let mut seen = HashSet::new();
    let mut report = Deleted {
        requested: 0,
        deleted: 0,
        missing: Vec::new(),
    };
    for name in names.iter().filter(|n| seen.insert(n.as_str())) {
        report.requested += 1;
        // Observations, relations and index rows go by cascade and triggers.
        if delete.execute([name])? == 1 {
            report.deleted += 1;
        } else {
            report.missing.push(name.clone());
        }
    }
    Ok(report)
}

fn delete_observations(
    conn: &Connection,
    deletions: &[ObservationDelete],
    now: i64,
) -> Result<Deleted<MissingObservation>, StoreError> {
    let mut delete =
        conn.prepare_cached("DELETE FROM observations WHERE entity_id = ?1 AND content = ?2")?;
    let mut touch = conn.prepare_cached("UPDATE entities SET updated_at = ?2 WHERE id = ?1")?;
    let mut seen = HashSet::new();
    let mut missing_entities = HashSet::new();
    let mut report = Deleted {
        requested: 0,
        deleted: 0,
        missing: Vec::new(),
    };
    for deletion in deletions {
        let name = deletion.entity_name.as_str();
        let contents: Vec<&str> = deletion
            .observations
            .iter()
            .map(String::as_str)
            .filter(|c| seen.insert((name, *c)))
            .collect();
        report.requested += contents.len();
        let Some(id) = entity_id(conn, name)? else {
            if missing_entities.insert(name) {
                report
                    .missing
                    .push(MissingObservation::Entity(name.to_owned()));
            }
            continue;
        };
        let before = report.deleted;
        for content in contents {
            if delete.execute(params![id, content])? == 1 {
                report.deleted += 1;
            } else {
                report.missing.push(MissingObservation::Observation {
                    entity_name: name.to_owned(),
                    content: content.to_owned(),
                });
            }
        }
        if report.deleted > before {
            touch.execute(params![id, now])?;
        }
    }
    Ok(report)
}

fn delete_relations(
    conn: &Connection,
    relations: &[Relation],
) -> Result<Deleted<Relation>, StoreError> {
    let mut delete = conn.prepare_cached(
        "DELETE FROM relations
         WHERE from_id = (SELECT id FROM entities WHERE name = ?1)
           AND to_id = (SELECT id FROM entities WHERE name = ?2)
           AND relation_type = ?3",
    )?;
    let mut seen = HashSet::new();
    let mut report = Deleted {
        requested: 0,
        deleted: 0,
        missing: Vec::new(),
    };
    for r in relations.iter().filter(|r| seen.insert(*r)) {
        report.requested += 1;
        if delete.execute(params![r.from, r.to, r.relation_type])? == 1 {
            report.deleted += 1;
        } else {
            report.missing.push(r.clone());
        }
    }
    Ok(report)
}
