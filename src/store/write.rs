//! The writing operations, run inside a savepoint of the caller's
//! transaction (see [`super::Batch`]).
//!
//! Each checks everything that can fail on the caller's side (unknown
//! entities) before it writes, so a failing call leaves no trace even
//! without the savepoint; the savepoint is what makes SQLite failures
//! atomic too.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::search_rows::SearchRows;
use super::word_rows::WordRows;
use super::{content_hash, grams, StoreError};
use crate::model::{
    AddedObservations, CreatedEntities, Deleted, Entity, GraphOp, ImportReport, MissingObservation,
    ObservationAdd, ObservationDelete, Outcome, Relation,
};

/// Runs the write `op` as part of change `change` (made at `now`); reads
/// are refused (they run outside a write). Rows it makes name `change`, and
/// rows it deletes move to the archive ended by `change` (see
/// [`super::history`]).
pub(super) fn run(
    conn: &Connection,
    op: &GraphOp,
    now: i64,
    change: i64,
) -> Result<Outcome, StoreError> {
    let ids = NextIds::load(conn)?;
    let at = Stamp {
        now,
        change,
        ids: &ids,
    };
    Ok(match op {
        GraphOp::CreateEntities(entities) => {
            Outcome::EntitiesCreated(create_entities(conn, entities, at)?)
        }
        GraphOp::CreateRelations(relations) => {
            Outcome::RelationsCreated(create_relations(conn, relations, at)?)
        }
        GraphOp::AddObservations(adds) => {
            Outcome::ObservationsAdded(add_observations(conn, adds, at)?)
        }
        GraphOp::DeleteEntities(names) => {
            Outcome::EntitiesDeleted(delete_entities(conn, names, change)?)
        }
        GraphOp::DeleteObservations(deletions) => {
            Outcome::ObservationsDeleted(delete_observations(conn, deletions, at)?)
        }
        GraphOp::DeleteRelations(relations) => {
            Outcome::RelationsDeleted(delete_relations(conn, relations, change)?)
        }
        GraphOp::Import {
            entities,
            relations,
        } => Outcome::Imported(import(conn, entities, relations, at)?),
        GraphOp::SupersedeObservation {
            entity_name,
            old,
            new,
        } => {
            super::history::supersede(conn, entity_name, old, new, now, change)?;
            Outcome::Superseded {
                entity_name: entity_name.clone(),
                old: old.clone(),
                new: new.clone(),
                change_id: change,
            }
        }
        GraphOp::Undo { change_id, force } => {
            Outcome::Undone(super::history::undo(conn, *change_id, *force, now, change)?)
        }
        GraphOp::ReadGraph
        | GraphOp::SearchNodes { .. }
        | GraphOp::OpenNodes(_)
        | GraphOp::ReadPage(_)
        | GraphOp::SearchMemory(_)
        | GraphOp::Neighbors(_)
        | GraphOp::History(_)
        | GraphOp::Recent(_)
        | GraphOp::Purge { .. } => {
            return Err(StoreError::ReadOnly(format!(
                "{} is a read; it does not run in a write",
                op.tool_name()
            )))
        }
    })
}

/// When a write happens: its time, its change and the ids its rows get.
#[derive(Clone, Copy)]
struct Stamp<'a> {
    now: i64,
    change: i64,
    ids: &'a NextIds,
}

/// The ids new rows get: above every id in use, live *or archived*. SQLite
/// alone would hand a deleted row's id (when it was the highest) to the
/// next new row, and undo could not put the deleted row back in its place.
pub(super) struct NextIds {
    entity: Cell<i64>,
    observation: Cell<i64>,
    relation: Cell<i64>,
}

impl NextIds {
    pub(super) fn load(conn: &Connection) -> Result<NextIds, StoreError> {
        let next = |table: &str| -> Result<Cell<i64>, StoreError> {
            let sql = format!(
                "SELECT max(coalesce((SELECT max(id) FROM {table}), 0),
                            coalesce((SELECT max(id) FROM {table}_ended), 0)) + 1"
            );
            Ok(Cell::new(
                conn.prepare_cached(&sql)?.query_row([], |r| r.get(0))?,
            ))
        };
        Ok(NextIds {
            entity: next("entities")?,
            observation: next("observations")?,
            relation: next("relations")?,
        })
    }
}

/// Takes the id in `cell` when `inserted`.
fn used(cell: &Cell<i64>, inserted: bool) -> bool {
    if inserted {
        cell.set(cell.get() + 1);
    }
    inserted
}

fn import(
    conn: &Connection,
    entities: &[Entity],
    relations: &[Relation],
    at: Stamp,
) -> Result<ImportReport, StoreError> {
    let now = at.now;
    let mut report = ImportReport::default();
    let created = create_entities(conn, entities, at)?;
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
            if writer.add(id, content, at)? {
                report.observations_added += 1;
            }
        }
    }
    report.entities_merged = merged.len();
    writer.finish()?;
    let mut insert = conn.prepare_cached(INSERT_RELATION)?;
    for r in relations {
        let (Some(from), Some(to)) = (entity_id(conn, &r.from)?, entity_id(conn, &r.to)?) else {
            report.dangling.push(r.clone());
            continue;
        };
        let id = at.ids.relation.get();
        let inserted = insert.execute(params![from, to, r.relation_type, now, at.change, id])? == 1;
        if used(&at.ids.relation, inserted) {
            report.relations_created += 1;
        } else {
            report.relations_existing += 1;
        }
    }
    Ok(report)
}

const INSERT_RELATION: &str = "INSERT INTO relations
     (from_id, to_id, relation_type, created_at, created_change, id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT (from_id, to_id, relation_type) DO NOTHING";

fn create_entities(
    conn: &Connection,
    entities: &[Entity],
    at: Stamp,
) -> Result<CreatedEntities, StoreError> {
    let mut result = CreatedEntities::default();
    let mut seen = HashSet::new();
    let mut skipped = HashSet::new();
    let mut insert = conn.prepare_cached(
        "INSERT INTO entities (name, entity_type, created_at, updated_at, created_change, id)
         VALUES (?1, ?2, ?3, ?3, ?4, ?5)
         ON CONFLICT (name) DO NOTHING",
    )?;
    let mut writer = ObservationWriter::new(conn)?;
    for entity in entities {
        let fresh = seen.insert(entity.name.as_str())
            && used(
                &at.ids.entity,
                insert.execute(params![
                    entity.name,
                    entity.entity_type,
                    at.now,
                    at.change,
                    at.ids.entity.get()
                ])? == 1,
            );
        if !fresh {
            if skipped.insert(entity.name.as_str()) {
                result.skipped.push(entity.name.clone());
            }
            continue;
        }
        let id = conn.last_insert_rowid();
        writer.search.entity(id);
        let mut observations = Vec::with_capacity(entity.observations.len());
        for content in &entity.observations {
            if writer.add(id, content, at)? {
                observations.push(content.clone());
            }
        }
        result.created.push(Entity {
            name: entity.name.clone(),
            entity_type: entity.entity_type.clone(),
            observations,
        });
    }
    writer.finish()?;
    Ok(result)
}

/// Adds observations, with its statements prepared once per call rather
/// than looked up once per observation, and gathers the rows they (and the
/// call's new entities) add to the search indexes; [`Self::finish`] queues
/// those.
struct ObservationWriter<'c> {
    find: rusqlite::CachedStatement<'c>,
    insert: rusqlite::CachedStatement<'c>,
    search: SearchRows,
    conn: &'c Connection,
}

impl<'c> ObservationWriter<'c> {
    fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(ObservationWriter {
            find: conn.prepare_cached(content_hash::FIND_OBSERVATION)?,
            // Not `INSERT ... SELECT ... WHERE NOT EXISTS`: an insert that
            // reads its own table gathers what it reads in a temporary
            // table first, which made a bulk load's rows half as slow again.
            insert: conn.prepare_cached(
                "INSERT INTO observations
                     (entity_id, content, created_at, created_change, id, content_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?,
            search: SearchRows::default(),
            conn,
        })
    }

    /// Adds one observation unless the entity already has it; returns
    /// whether it was added.
    fn add(&mut self, entity_id: i64, content: &str, at: Stamp) -> Result<bool, StoreError> {
        if self.find.exists(params![entity_id, content])? {
            return Ok(false);
        }
        let id = at.ids.observation.get();
        let hash = content_hash::content_hash(content);
        self.insert
            .execute(params![entity_id, content, at.now, at.change, id, hash])?;
        used(&at.ids.observation, true);
        self.search.observation(entity_id, id)?;
        Ok(true)
    }

    /// Queues the gathered search-index rows.
    fn finish(self) -> Result<(), StoreError> {
        self.search.queue(self.conn)
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
    at: Stamp,
) -> Result<Vec<Relation>, StoreError> {
    let ids = resolve(
        conn,
        relations
            .iter()
            .flat_map(|r| [r.from.as_str(), r.to.as_str()]),
    )?;
    let mut insert = conn.prepare_cached(INSERT_RELATION)?;
    let mut created = Vec::new();
    for r in relations {
        let (from, to) = (ids[r.from.as_str()], ids[r.to.as_str()]);
        let id = at.ids.relation.get();
        let inserted =
            insert.execute(params![from, to, r.relation_type, at.now, at.change, id])? == 1;
        if used(&at.ids.relation, inserted) {
            created.push(r.clone());
        }
    }
    Ok(created)
}

fn add_observations(
    conn: &Connection,
    adds: &[ObservationAdd],
    at: Stamp,
) -> Result<Vec<AddedObservations>, StoreError> {
    let ids = resolve(conn, adds.iter().map(|a| a.entity_name.as_str()))?;
    let mut touch = conn.prepare_cached("UPDATE entities SET updated_at = ?2 WHERE id = ?1")?;
    let mut writer = ObservationWriter::new(conn)?;
    let mut results = Vec::with_capacity(adds.len());
    for add in adds {
        let id = ids[add.entity_name.as_str()];
        let mut added = Vec::new();
        for content in &add.contents {
            if writer.add(id, content, at)? {
                added.push(content.clone());
            }
        }
        if !added.is_empty() {
            touch.execute(params![id, at.now])?;
        }
        results.push(AddedObservations {
            entity_name: add.entity_name.clone(),
            added,
        });
    }
    writer.finish()?;
    Ok(results)
}

fn delete_entities(
    conn: &Connection,
    names: &[String],
    change: i64,
) -> Result<Deleted<String>, StoreError> {
    let mut delete = conn.prepare_cached("DELETE FROM entities WHERE id = ?1")?;
    let mut seen = HashSet::new();
    let mut report = Deleted {
        requested: 0,
        deleted: 0,
        missing: Vec::new(),
    };
    for name in names.iter().filter(|n| seen.insert(n.as_str())) {
        report.requested += 1;
        // Observations, relations and index rows go by cascade and
        // triggers, once the archive holds them all.
        match entity_id(conn, name)? {
            Some(id) => {
                super::history::archive_entity(conn, id, change)?;
                delete.execute([id])?;
                report.deleted += 1;
            }
            None => report.missing.push(name.clone()),
        }
    }
    Ok(report)
}

fn delete_observations(
    conn: &Connection,
    deletions: &[ObservationDelete],
    at: Stamp,
) -> Result<Deleted<MissingObservation>, StoreError> {
    let now = at.now;
    let mut find = conn.prepare_cached(content_hash::FIND_OBSERVATION)?;
    let mut delete = conn.prepare_cached("DELETE FROM observations WHERE id = ?1")?;
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
            let found: Option<i64> = find
                .query_row(params![id, content], |r| r.get(0))
                .optional()?;
            if let Some(observation) = found {
                super::history::archive_observation(conn, observation, at.change)?;
                delete.execute([observation])?;
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
    change: i64,
) -> Result<Deleted<Relation>, StoreError> {
    let mut find = conn.prepare_cached(
        "SELECT id FROM relations
         WHERE from_id = (SELECT id FROM entities WHERE name = ?1)
           AND to_id = (SELECT id FROM entities WHERE name = ?2)
           AND relation_type = ?3",
    )?;
    let mut delete = conn.prepare_cached("DELETE FROM relations WHERE id = ?1")?;
    let mut seen = HashSet::new();
    let mut report = Deleted {
        requested: 0,
        deleted: 0,
        missing: Vec::new(),
    };
    for r in relations.iter().filter(|r| seen.insert(*r)) {
        report.requested += 1;
        let found: Option<i64> = find
            .query_row(params![r.from, r.to, r.relation_type], |row| row.get(0))
            .optional()?;
        if let Some(relation) = found {
            super::history::archive_relation(conn, relation, change)?;
            delete.execute([relation])?;
            report.deleted += 1;
        } else {
            report.missing.push(r.clone());
        }
    }
    Ok(report)
}

/// Queues observation `id` of entity `entity_id` for the search indexes
/// (for a row rewritten in place).
pub(super) fn queue_observation(
    conn: &Connection,
    entity_id: i64,
    id: i64,
) -> Result<(), StoreError> {
    let mut rows = SearchRows::default();
    rows.observation(entity_id, id)?;
    rows.queue(conn)
}

/// Removes the rows of observation `id` of entity `entity_id` from the
/// search indexes, before its content is rewritten in place (the triggers
/// only fire on delete).
pub(super) fn unindex_observation(
    conn: &Connection,
    entity_id: i64,
    id: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(grams::UNINDEX_OBSERVATION)?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM word_fts WHERE rowid = ?1")?
        .execute([WordRows::Owned.observation_rowid(entity_id, id)?])?;
    Ok(())
}
