//! The rowids of the word index, which say whose text a row is.
//!
//! An entity's row (its name and type) is `-id`. An observation's row is,
//! since migration 9, `(entity_id << 32) | id`: a hit then names its entity
//! itself, and ranking needs no lookup in `observations` for each matching
//! row, which was the largest part of a search (a thousand or more rows
//! read at random from a table far larger than the cache, per query).
//! Databases of schema 4 to 8, which a read-only store serves as they are,
//! hold the observation's id alone; their owners are looked up.
//!
//! An observation keeps its entity for life (undo puts a row back under its
//! original id and entity), so its rowid never changes. The packing holds
//! entity ids below 2^31 and observation ids below 2^32; a write beyond them
//! is refused rather than indexed under a rowid another row could have.

use super::StoreError;

/// The schema version that put the entity into observation rowids.
const OWNED_SCHEMA: u32 = 9;

/// Bits of an observation's rowid that hold its own id.
const ID_BITS: u32 = 32;

/// How a database's word index numbers observation rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WordRows {
    /// The observation's id (schema 4 to 8).
    ById,
    /// The entity's id above the observation's (schema 9 on).
    Owned,
}

impl WordRows {
    /// The numbering of a database of schema version `schema`.
    pub(super) fn for_schema(schema: u32) -> WordRows {
        if schema >= OWNED_SCHEMA {
            WordRows::Owned
        } else {
            WordRows::ById
        }
    }

    /// The rowid of observation `id` of entity `entity_id`.
    pub(super) fn observation_rowid(self, entity_id: i64, id: i64) -> Result<i64, StoreError> {
        match self {
            WordRows::ById => Ok(id),
            WordRows::Owned => {
                if !(0..1 << (63 - ID_BITS)).contains(&entity_id)
                    || !(0..1 << ID_BITS).contains(&id)
                {
                    return Err(StoreError::Refused(format!(
                        "observation {id} of entity {entity_id} is beyond the ids the word index \
                         can number (entities below 2^31, observations below 2^32)"
                    )));
                }
                Ok(entity_id << ID_BITS | id)
            }
        }
    }

    /// The entity an observation's (positive) rowid names, when this
    /// numbering says; `None` means it must be looked up.
    pub(super) fn owner(self, rowid: i64) -> Option<i64> {
        match self {
            WordRows::ById => None,
            WordRows::Owned => Some(rowid >> ID_BITS),
        }
    }

    /// An SQL expression for the observation id in the rowid column `rowid`.
    pub(super) fn observation_id_sql(self) -> &'static str {
        match self {
            WordRows::ById => "rowid",
            WordRows::Owned => "(rowid & 4294967295)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owned_rowid_gives_back_its_entity_and_observation() {
        for (entity, id) in [(1, 1), (7, 123_456), ((1 << 31) - 1, (1 << 32) - 1)] {
            let rowid = WordRows::Owned
                .observation_rowid(entity, id)
                .expect("within range");
            assert!(rowid > 0, "{rowid}");
            assert_eq!(WordRows::Owned.owner(rowid), Some(entity));
            assert_eq!(rowid & 4_294_967_295, id);
        }
    }

    #[test]
    fn ids_beyond_the_packing_are_refused() {
        for (entity, id) in [(1 << 31, 1), (1, 1 << 32), (-1, 1)] {
            let err = WordRows::Owned
                .observation_rowid(entity, id)
                .expect_err("out of range");
            assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
        }
    }

    #[test]
    fn the_numbering_follows_the_schema_version() {
        assert_eq!(WordRows::for_schema(4), WordRows::ById);
        assert_eq!(WordRows::for_schema(8), WordRows::ById);
        assert_eq!(WordRows::for_schema(9), WordRows::Owned);
        assert_eq!(WordRows::ById.observation_rowid(3, 42).expect("any id"), 42);
        assert_eq!(WordRows::ById.owner(42), None);
    }
}
