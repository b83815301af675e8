//! The size limits of the MCP contract (docs/TOOLS.md, "Limits") and the one
//! function that checks a [`GraphOp`] against them.
//!
//! The shim checks every call before it leaves the session, and the store
//! checks it again on the daemon's writer thread before any SQL runs,
//! because the socket is a trust boundary too. Both use [`check`], so the
//! two can never disagree. Paths in
//! errors use the public JSON field names (`entities[0].entityType`), since
//! that is what the agent wrote.

use std::fmt;

use crate::model::{Entity, GraphOp, PageSource, Relation};

/// Items in one call: entities, relations, observation items, names, deletions,
/// and the contents of one observation item.
pub const MAX_ITEMS: usize = 10_000;
/// Characters in a name, an entityType or a relationType.
pub const MAX_NAME_CHARS: usize = 1_024;
/// Characters in one observation.
pub const MAX_OBSERVATION_CHARS: usize = 65_536;
/// Characters in a search query.
pub const MAX_QUERY_CHARS: usize = 2_048;
/// Bytes in one JSON-RPC message from the client.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// Entities in one page of `read_graph`, `search_nodes` or `open_nodes`.
pub const MAX_PAGE: u32 = 1_000;
/// Types in an `entityTypes` or `relationTypes` filter.
pub const MAX_TYPES: usize = 50;
/// Results in one page of `search_memory`, and its default.
pub const MAX_SEARCH_RESULTS: u32 = 50;
pub const DEFAULT_SEARCH_RESULTS: u32 = 10;
/// Relations in one page of `get_neighbors`, and its default.
pub const MAX_NEIGHBOR_RELATIONS: u32 = 200;
pub const DEFAULT_NEIGHBOR_RELATIONS: u32 = 50;
/// Most changes one `memory_history` page holds.
pub const MAX_HISTORY: u32 = 100;
/// Entities one recent-changes read (`GraphOp::Recent`) returns.
pub const MAX_RECENT: u32 = 100;
/// Characters in a project key (a normalized URL or a canonical path).
pub const MAX_PROJECT_CHARS: usize = 4_096;
/// Hops `get_neighbors` may walk.
pub const MAX_DEPTH: u8 = 3;

/// An argument outside the limits: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    /// The JSON path of the offending value, e.g. `entities[3].name`.
    pub path: String,
    /// What is wrong, e.g. `must be at most 1024 characters (got 2000)`.
    pub problem: String,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

impl std::error::Error for LimitError {}

/// Checks every limit of docs/TOOLS.md that applies to `op`; the first violation
/// found, in argument order, is returned.
pub fn check(op: &GraphOp) -> Result<(), LimitError> {
    match op {
        GraphOp::CreateEntities(entities) => check_entities(entities)?,
        GraphOp::CreateRelations(relations) | GraphOp::DeleteRelations(relations) => {
            check_relations(relations)?
        }
        GraphOp::Import {
            entities,
            relations,
        } => {
            check_entities(entities)?;
            check_relations(relations)?;
        }
        GraphOp::AddObservations(adds) => {
            items("observations", adds.len())?;
            for (i, a) in adds.iter().enumerate() {
                name(|| format!("observations[{i}].entityName"), &a.entity_name)?;
                items_at(|| format!("observations[{i}].contents"), a.contents.len())?;
                for (j, o) in a.contents.iter().enumerate() {
                    observation(|| format!("observations[{i}].contents[{j}]"), o)?;
                }
            }
        }
        GraphOp::DeleteEntities(names) => {
            items("entityNames", names.len())?;
            for (i, n) in names.iter().enumerate() {
                name(|| format!("entityNames[{i}]"), n)?;
            }
        }
        GraphOp::DeleteObservations(deletions) => {
            items("deletions", deletions.len())?;
            for (i, d) in deletions.iter().enumerate() {
                name(|| format!("deletions[{i}].entityName"), &d.entity_name)?;
                items_at(
                    || format!("deletions[{i}].observations"),
                    d.observations.len(),
                )?;
                for (j, o) in d.observations.iter().enumerate() {
                    observation(|| format!("deletions[{i}].observations[{j}]"), o)?;
                }
            }
        }
        GraphOp::OpenNodes(names) => {
            items("names", names.len())?;
            for (i, n) in names.iter().enumerate() {
                name(|| format!("names[{i}]"), n)?;
            }
        }
        GraphOp::SearchNodes { query } => check_query(query)?,
        GraphOp::ReadGraph => {}
        GraphOp::ReadPage(page) => {
            match &page.source {
                PageSource::All => {}
                PageSource::Search(query) => check_query(query)?,
                PageSource::Names(names) => {
                    items("names", names.len())?;
                    for (i, n) in names.iter().enumerate() {
                        name(|| format!("names[{i}]"), n)?;
                    }
                }
            }
            if let Some(limit) = page.limit {
                range("limit", u64::from(limit), 1, u64::from(MAX_PAGE))?;
            }
            check_types("entityTypes", &page.entity_types)?;
        }
        GraphOp::SearchMemory(search) => {
            if search.query.is_empty() {
                return Err(LimitError {
                    path: "query".into(),
                    problem: "must not be empty".into(),
                });
            }
            check_query(&search.query)?;
            range(
                "limit",
                u64::from(search.limit),
                1,
                u64::from(MAX_SEARCH_RESULTS),
            )?;
            check_types("entityTypes", &search.entity_types)?;
        }
        GraphOp::Neighbors(q) => {
            name(|| "name".into(), &q.name)?;
            range("depth", u64::from(q.depth), 1, u64::from(MAX_DEPTH))?;
            range(
                "limit",
                u64::from(q.limit),
                1,
                u64::from(MAX_NEIGHBOR_RELATIONS),
            )?;
            check_types("relationTypes", &q.relation_types)?;
        }
        GraphOp::History(q) => {
            if let Some(n) = &q.name {
                name(|| "name".into(), n)?;
            }
            range("limit", u64::from(q.limit), 1, u64::from(MAX_HISTORY))?;
        }
        GraphOp::SupersedeObservation {
            entity_name,
            old,
            new,
        } => {
            name(|| "entityName".into(), entity_name)?;
            observation(|| "old".into(), old)?;
            observation(|| "new".into(), new)?;
        }
        GraphOp::Recent(q) => {
            if let Some(project) = &q.project {
                let chars = project.chars().take(MAX_PROJECT_CHARS + 1).count();
                if chars > MAX_PROJECT_CHARS {
                    return Err(LimitError {
                        path: "project".into(),
                        problem: format!("must be at most {MAX_PROJECT_CHARS} characters"),
                    });
                }
            }
            range("limit", u64::from(q.limit), 1, u64::from(MAX_RECENT))?;
        }
        GraphOp::Undo { .. } | GraphOp::Purge { .. } => {}
    }
    Ok(())
}

fn check_query(query: &str) -> Result<(), LimitError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(LimitError {
            path: "query".into(),
            problem: format!("must be at most {MAX_QUERY_CHARS} characters (got {chars})"),
        });
    }
    no_nul(|| "query".into(), query)
}

/// A filter of 1 to [`MAX_TYPES`] type names; empty means no filter, since
/// the argument was left out.
fn check_types(path: &str, types: &[String]) -> Result<(), LimitError> {
    if types.len() > MAX_TYPES {
        return Err(LimitError {
            path: path.into(),
            problem: format!("must have at most {MAX_TYPES} items (got {})", types.len()),
        });
    }
    for (i, t) in types.iter().enumerate() {
        name(|| format!("{path}[{i}]"), t)?;
    }
    Ok(())
}

fn range(path: &str, value: u64, min: u64, max: u64) -> Result<(), LimitError> {
    if value < min || value > max {
        return Err(LimitError {
            path: path.into(),
            problem: format!("must be between {min} and {max} (got {value})"),
        });
    }
    Ok(())
}

/// The limits of [`check`] for a list of entities, as in `create_entities`.
pub fn check_entities(entities: &[Entity]) -> Result<(), LimitError> {
    items("entities", entities.len())?;
    for (i, e) in entities.iter().enumerate() {
        name(|| format!("entities[{i}].name"), &e.name)?;
        name(|| format!("entities[{i}].entityType"), &e.entity_type)?;
        items_at(
            || format!("entities[{i}].observations"),
            e.observations.len(),
        )?;
        for (j, o) in e.observations.iter().enumerate() {
            observation(|| format!("entities[{i}].observations[{j}]"), o)?;
        }
    }
    Ok(())
}

/// The limits of [`check`] for a list of relations, as in `create_relations`.
pub fn check_relations(relations: &[Relation]) -> Result<(), LimitError> {
    items("relations", relations.len())?;
    for (i, r) in relations.iter().enumerate() {
        name(|| format!("relations[{i}].from"), &r.from)?;
        name(|| format!("relations[{i}].to"), &r.to)?;
        name(|| format!("relations[{i}].relationType"), &r.relation_type)?;
    }
    Ok(())
}

fn items(path: &str, len: usize) -> Result<(), LimitError> {
    items_at(|| path.to_owned(), len)
}

fn items_at(path: impl Fn() -> String, len: usize) -> Result<(), LimitError> {
    if len > MAX_ITEMS {
        return Err(LimitError {
            path: path(),
            problem: format!("must have at most {MAX_ITEMS} items (got {len})"),
        });
    }
    Ok(())
}

fn name(path: impl Fn() -> String, value: &str) -> Result<(), LimitError> {
    if value.is_empty() {
        return Err(LimitError {
            path: path(),
            problem: "must not be empty".into(),
        });
    }
    // Counting stops just past the limit, so a 10 MB name costs no more than a 1 KB one.
    let chars = value.chars().take(MAX_NAME_CHARS + 1).count();
    if chars > MAX_NAME_CHARS {
        return Err(LimitError {
            path: path(),
            problem: format!("must be at most {MAX_NAME_CHARS} characters"),
        });
    }
    no_nul(path, value)
}

fn observation(path: impl Fn() -> String, value: &str) -> Result<(), LimitError> {
    let chars = value.chars().take(MAX_OBSERVATION_CHARS + 1).count();
    if chars > MAX_OBSERVATION_CHARS {
        return Err(LimitError {
            path: path(),
            problem: format!("must be at most {MAX_OBSERVATION_CHARS} characters"),
        });
    }
    no_nul(path, value)
}

fn no_nul(path: impl Fn() -> String, value: &str) -> Result<(), LimitError> {
    if value.contains('\0') {
        return Err(LimitError {
            path: path(),
            problem: "must not contain the NUL character".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
