//! Where each observation of an entity came from: the change that wrote it
//! (when, by which tool, session, project and actor), for the web view's
//! entity page.
//!
//! One bounded read of two queries, however many observations the entity
//! has: the entity, then at most `limit` of its live observations in their
//! stored order, each joined to the change named by its `created_change`.

use rusqlite::{params, Connection, OptionalExtension};

use super::history::{change_info, CHANGE_COLUMNS};
use super::StoreError;
use crate::model::ChangeInfo;

/// An entity with its observations and their origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityOrigins {
    pub name: String,
    pub entity_type: String,
    /// In stored order, at most the limit asked for.
    pub observations: Vec<ObservationOrigin>,
    /// All live observations of the entity, shown or not.
    pub observation_count: u64,
}

/// One observation and the change that wrote it; `None` when history no
/// longer holds that change (it was purged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationOrigin {
    pub content: String,
    pub change: Option<ChangeInfo>,
}

/// Reads `name` with up to `limit` observations and where each came from.
pub(super) fn origins(
    conn: &Connection,
    name: &str,
    limit: u32,
) -> Result<EntityOrigins, StoreError> {
    let (id, entity_type, count): (i64, String, i64) = conn
        .prepare_cached(
            "SELECT e.id, e.entity_type,
                    (SELECT count(*) FROM observations o WHERE o.entity_id = e.id)
             FROM entities e WHERE e.name = ?1",
        )?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| StoreError::UnknownEntity(name.to_owned()))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.content, {CHANGE_COLUMNS}
         FROM observations o LEFT JOIN changes c ON c.id = o.created_change
         WHERE o.entity_id = ?1 ORDER BY o.id LIMIT ?2",
    ))?;
    let rows = stmt.query_map(params![id, limit], |r| {
        let change = match r.get::<_, Option<i64>>(1)? {
            Some(_) => Some(change_info(r, 1)?),
            None => None,
        };
        Ok(ObservationOrigin {
            content: r.get(0)?,
            change,
        })
    })?;
    let observations = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(EntityOrigins {
        name: name.to_owned(),
        entity_type,
        observations,
        observation_count: count.max(0) as u64,
    })
}

#[cfg(test)]
mod tests;
