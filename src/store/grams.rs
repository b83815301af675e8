//! Where the trigram index keeps its rows, and the SQL that reads them.
//!
//! Since migration 8 one contentless FTS5 table, `trigram_fts`, indexes
//! both kinds of text, the way `word_fts` does: an entity's name and type
//! under rowid `-id`, an observation's content under rowid `id`. One table
//! instead of two is one segment flushed per write instead of two, which
//! was a fifth of what a single create cost. A query asks for one side with
//! a rowid range (`rowid < 0` or `rowid > 0`), which FTS5 applies while it
//! walks each posting list.
//!
//! Databases of schema 1 to 7, which a read-only store opens as they are,
//! keep the two tables they were made with: `entity_fts` and
//! `observation_fts`, each keyed by its row's own id.

/// The schema version that merged the trigram index (migration 8).
const MERGED_SCHEMA: u32 = 8;

/// Which trigram tables a database has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Grams {
    /// `entity_fts` and `observation_fts` (schema 1 to 7).
    Split,
    /// `trigram_fts` (schema 8 on).
    Merged,
    /// `trigram_fts`, with the rows queued in `search_backlog` as
    /// candidates of every match: for a store that cannot catch its index
    /// up, since it cannot write or its catch-up failed (see
    /// [`super::backlog`]). A candidate is
    /// always checked against the text, so extra ones cost time, not truth.
    MergedWithBacklog,
}

impl Grams {
    /// The layout of a database of schema version `schema`.
    pub(super) fn for_schema(schema: u32) -> Grams {
        if schema >= MERGED_SCHEMA {
            Grams::Merged
        } else {
            Grams::Split
        }
    }

    /// A `SELECT` of the ids of the entities whose name and type match the
    /// FTS5 query in the SQL parameter `param` (such as `?1` or `:grams`).
    /// Callers may append a `LIMIT`.
    pub(super) fn entity_ids(self, param: &str) -> String {
        match self {
            Grams::Split => format!("SELECT rowid FROM entity_fts WHERE entity_fts MATCH {param}"),
            Grams::Merged => format!(
                "SELECT -rowid FROM trigram_fts WHERE trigram_fts MATCH {param} AND rowid < 0"
            ),
            Grams::MergedWithBacklog => format!(
                "{} UNION SELECT -row FROM search_backlog WHERE row < 0",
                Grams::Merged.entity_ids(param)
            ),
        }
    }

    /// A `SELECT` of the ids of the observations whose content matches the
    /// FTS5 query in `param`. Callers may append a `LIMIT`.
    pub(super) fn observation_ids(self, param: &str) -> String {
        match self {
            Grams::Split => {
                format!("SELECT rowid FROM observation_fts WHERE observation_fts MATCH {param}")
            }
            Grams::Merged => format!(
                "SELECT rowid FROM trigram_fts WHERE trigram_fts MATCH {param} AND rowid > 0"
            ),
            Grams::MergedWithBacklog => format!(
                "{} UNION SELECT row FROM search_backlog WHERE row > 0",
                Grams::Merged.observation_ids(param)
            ),
        }
    }

    /// A `SELECT` of the ids of the entities that the FTS5 query in `param`
    /// finds in their name and type or in one of their observations.
    pub(super) fn matching_entities(self, param: &str) -> String {
        format!(
            "{} UNION SELECT x.entity_id FROM observations x WHERE x.id IN ({})",
            self.entity_ids(param),
            self.observation_ids(param)
        )
    }

    /// The FTS5 tables of this layout, for merging and optimizing.
    pub(super) fn tables(self) -> &'static [&'static str] {
        match self {
            Grams::Split => &["entity_fts", "observation_fts"],
            Grams::Merged | Grams::MergedWithBacklog => &["trigram_fts"],
        }
    }
}

/// What the trigram index holds for an entity: its name and type,
/// lower-cased, one per line.
pub(super) fn entity_text(name: &str, entity_type: &str) -> String {
    format!("{}\n{}", name.to_lowercase(), entity_type.to_lowercase())
}

/// Adds an entity's row to the trigram index (of the current layout).
pub(super) const INDEX_ENTITY: &str = "INSERT INTO trigram_fts (rowid, text) VALUES (-?1, ?2)";
/// Adds an observation's row to the trigram index (of the current layout).
pub(super) const INDEX_OBSERVATION: &str = "INSERT INTO trigram_fts (rowid, text) VALUES (?1, ?2)";
/// Removes an observation's row from the trigram index.
pub(super) const UNINDEX_OBSERVATION: &str = "DELETE FROM trigram_fts WHERE rowid = ?1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_follows_the_schema_version() {
        assert_eq!(Grams::for_schema(1), Grams::Split);
        assert_eq!(Grams::for_schema(7), Grams::Split);
        assert_eq!(Grams::for_schema(8), Grams::Merged);
        assert_eq!(
            Grams::for_schema(super::super::schema::supported_version()),
            Grams::Merged
        );
    }
}
