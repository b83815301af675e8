//! The schema, as an append-only list of migrations counted by
//! `PRAGMA user_version`.
//!
//! Rules: never edit, reorder or remove an entry, since a released database
//! may already have run it; fix a mistake with a new entry. Never drop or
//! rename a column. A database whose version is newer than this build is
//! refused and left exactly as it was.
//!
//! Search: `entity_fts` and `observation_fts` are contentless FTS5 trigram
//! indexes (without positions, since migration 3) over the *lower-cased* text (Rust's Unicode `to_lowercase`, done by
//! the writer because SQLite's `lower()` only folds ASCII). Their rowids are
//! the ids of `entities` and `observations`. Rows are added by the store in
//! the same transaction as the row they index, and removed by triggers, so a
//! cascade delete can never leave an index row behind.

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Every schema change, oldest first; `user_version` counts how many have run.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the graph and its search indexes.
    r#"
    CREATE TABLE entities (
        id          INTEGER PRIMARY KEY,
        name        TEXT    NOT NULL UNIQUE,
        entity_type TEXT    NOT NULL,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE observations (
        id         INTEGER PRIMARY KEY,
        entity_id  INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        content    TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (entity_id, content)
    ) STRICT;
    -- (entity_id, rowid): an entity's observations in insertion order.
    CREATE INDEX observations_by_entity ON observations(entity_id);

    CREATE TABLE relations (
        id            INTEGER PRIMARY KEY,
        from_id       INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        to_id         INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        relation_type TEXT    NOT NULL,
        created_at    INTEGER NOT NULL,
        UNIQUE (from_id, to_id, relation_type)
    ) STRICT;
    -- The UNIQUE index serves lookups by from_id; this one serves to_id.
    CREATE INDEX relations_by_to ON relations(to_id);

    CREATE VIRTUAL TABLE entity_fts USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
    );
    CREATE VIRTUAL TABLE observation_fts USING fts5(
        text, content = '', contentless_delete = 1, tokenize = 'trigram case_sensitive 1'
    );
    CREATE TRIGGER entities_unindex AFTER DELETE ON entities BEGIN
        DELETE FROM entity_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER observations_unindex AFTER DELETE ON observations BEGIN
        DELETE FROM observation_fts WHERE rowid = old.id;
    END;
    "#,
    // 2: the ids of applied write requests and their replies, so that a
    // retried request is answered from here instead of being applied twice.
    r#"
    CREATE TABLE applied_requests (
        request_id BLOB    PRIMARY KEY,
        reply      BLOB    NOT NULL,
        applied_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX applied_requests_by_age ON applied_requests(applied_at);
    "#,
    // 3: leaner, faster search indexes. Positions are dropped (detail=none):
    // a query looks up a few of its trigrams and the exact rule decides, so
    // phrase matching is never needed. A larger write buffer makes bulk
    // writes flush less often. The rows are re-indexed with
    // `memgraphd_lower`, the writer's own lower-casing.
    r#"
    DROP TRIGGER entities_unindex;
    DROP TRIGGER observations_unindex;
    DROP TABLE entity_fts;
    DROP TABLE observation_fts;
    CREATE VIRTUAL TABLE entity_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    CREATE VIRTUAL TABLE observation_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    INSERT INTO entity_fts (entity_fts, rank) VALUES ('hashsize', 8388608);
    INSERT INTO observation_fts (observation_fts, rank) VALUES ('hashsize', 8388608);
    INSERT INTO entity_fts (rowid, text)
        SELECT id, memgraphd_lower(name) || char(10) || memgraphd_lower(entity_type) FROM entities;
    INSERT INTO observation_fts (rowid, text)
        SELECT id, memgraphd_lower(content) FROM observations;
    CREATE TRIGGER entities_unindex AFTER DELETE ON entities BEGIN
        DELETE FROM entity_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER observations_unindex AFTER DELETE ON observations BEGIN
        DELETE FROM observation_fts WHERE rowid = old.id;
    END;
    "#,
    // 4: bearer tokens of the HTTP face. Only the SHA-256 digest of a token
    // is kept; a revoked token's row is deleted.
    r#"
    CREATE TABLE tokens (
        id           INTEGER PRIMARY KEY,
        name         TEXT    NOT NULL UNIQUE,
        hash         BLOB    NOT NULL UNIQUE,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER
    ) STRICT;
    "#,
];

/// The schema version this build writes.
pub(super) fn supported_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Registers `memgraphd_lower(text)`, Rust's Unicode lower-casing, for
/// migrations that rebuild the search indexes in SQL. (SQLite's `lower()`
/// only folds ASCII.)
pub(super) fn register_functions(conn: &Connection) -> Result<(), StoreError> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "memgraphd_lower",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(ctx.get::<String>(0)?.to_lowercase()),
    )?;
    Ok(())
}

/// Brings the database up to [`supported_version`], or refuses a newer one.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = supported_version();
    // EXCLUSIVE, so a second process opening the same file waits instead of
    // migrating it twice.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found: u32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for sql in &MIGRATIONS[found as usize..] {
        tx.execute_batch(sql)?;
    }
    if found != supported {
        tx.pragma_update(None, "user_version", supported)?;
    }
    tx.commit()?;
    Ok(())
}
