//! The schema, as an append-only list of migrations counted by
//! `PRAGMA user_version`.
//!
//! Rules: never edit, reorder or remove an entry, since a released database
//! may already have run it; fix a mistake with a new entry. Never drop or
//! rename a column. A database whose version is newer than this build is
//! refused and left exactly as it was.
//!
//! Search: `trigram_fts` (migration 8; before it, `entity_fts` and
//! `observation_fts`, see `grams`) is a contentless FTS5 trigram index
//! (without positions) over the *lower-cased* text (Rust's Unicode
//! `to_lowercase`, done by the writer because SQLite's `lower()` only folds
//! ASCII). Rows are added by the store in the same transaction as the row
//! they index, and removed by triggers, so a cascade delete can never leave
//! an index row behind.
//!
//! History: migration 6, see `history` for what its tables hold; migration
//! 7 drops four of its indexes that writes paid for and reads can do without.
//!
//! Words: `word_fts` (migration 4, made again by 9 with rowids that name
//! an observation's entity, see `word_rows`) is the FTS5 word index of
//! `search_memory`, kept the same way: the writer adds rows in the same
//! transaction, triggers remove them. See `words` for what a word is.

use rusqlite::{Connection, TransactionBehavior};

use super::word_rows::WordRows;
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
    // 4: the word index of `search_memory`, beside the trigram indexes. One
    // row per entity (rowid = -id: its name and type) and one per
    // observation (rowid = id: its content), holding the text as
    // `words::index_text` prepares it. Migration 9 makes it again, and the
    // migrations always run to the last one in one transaction, so only
    // that one fills it (`build_word_index`); then the writer keeps it.
    r#"
    CREATE VIRTUAL TABLE word_fts USING fts5(
        name, type, body, content = '', contentless_delete = 1,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_-.'"
    );
    INSERT INTO word_fts (word_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');
    INSERT INTO word_fts (word_fts, rank) VALUES ('hashsize', 8388608);
    CREATE TRIGGER entities_unword AFTER DELETE ON entities BEGIN
        DELETE FROM word_fts WHERE rowid = -old.id;
    END;
    CREATE TRIGGER observations_unword AFTER DELETE ON observations BEGIN
        DELETE FROM word_fts WHERE rowid = old.id;
    END;
    "#,
    // 5: bearer tokens of the HTTP face. Only the SHA-256 digest of a token
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
    // 6: history. Every committed write is one row of `changes`; rows name
    // the change that made them, and a delete moves them into an `*_ended`
    // archive (original id kept) instead of erasing them, so undo can put
    // them back in their place. The request-id records of idempotent
    // retries move into `changes`. What was stored before gets one
    // synthetic change, made by `adopt_existing_rows` after this script.
    r#"
    CREATE TABLE changes (
        id         INTEGER PRIMARY KEY,
        at         INTEGER NOT NULL,
        tool       TEXT    NOT NULL,
        session    TEXT,
        client     TEXT,
        project    TEXT,
        actor      TEXT,
        request_id BLOB    UNIQUE,
        reply      BLOB,
        summary    TEXT    NOT NULL,
        undoes     INTEGER
    ) STRICT;
    CREATE INDEX changes_by_at ON changes(at);
    CREATE INDEX changes_by_project ON changes(project) WHERE project IS NOT NULL;
    CREATE INDEX changes_by_undone ON changes(undoes) WHERE undoes IS NOT NULL;
    -- "The changes that touched entity X, newest first" in one range scan.
    CREATE TABLE change_entities (
        entity_name TEXT    NOT NULL,
        change_id   INTEGER NOT NULL,
        PRIMARY KEY (entity_name, change_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX change_entities_by_change ON change_entities(change_id);

    ALTER TABLE entities ADD COLUMN created_change INTEGER;
    ALTER TABLE observations ADD COLUMN created_change INTEGER;
    ALTER TABLE relations ADD COLUMN created_change INTEGER;
    CREATE INDEX entities_by_change ON entities(created_change);
    CREATE INDEX observations_by_change ON observations(created_change);
    CREATE INDEX relations_by_change ON relations(created_change);

    CREATE TABLE entities_ended (
        id             INTEGER NOT NULL,
        name           TEXT    NOT NULL,
        entity_type    TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        created_change INTEGER,
        ended_change   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX entities_ended_by_end ON entities_ended(ended_change);
    CREATE INDEX entities_ended_by_start ON entities_ended(created_change);
    CREATE INDEX entities_ended_by_id ON entities_ended(id);
    CREATE TABLE observations_ended (
        id             INTEGER NOT NULL,
        entity_id      INTEGER NOT NULL,
        content        TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        created_change INTEGER,
        ended_change   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX observations_ended_by_end ON observations_ended(ended_change);
    CREATE INDEX observations_ended_by_start ON observations_ended(created_change);
    CREATE INDEX observations_ended_by_id ON observations_ended(id);
    CREATE TABLE relations_ended (
        id             INTEGER NOT NULL,
        from_id        INTEGER NOT NULL,
        to_id          INTEGER NOT NULL,
        relation_type  TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        created_change INTEGER,
        ended_change   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX relations_ended_by_end ON relations_ended(ended_change);
    CREATE INDEX relations_ended_by_start ON relations_ended(created_change);
    CREATE INDEX relations_ended_by_id ON relations_ended(id);
    "#,
    // 7: history costs a write fewer b-trees. `changes` is in time order by
    // id, so `since` is found by a binary search on ids (`history`), and the
    // rows a change made are found through the entities it touched, so the
    // index on `at` and the three on `created_change` go.
    r#"
    DROP INDEX changes_by_at;
    DROP INDEX entities_by_change;
    DROP INDEX observations_by_change;
    DROP INDEX relations_by_change;
    "#,
    // 8: one trigram index instead of two, so a write flushes one segment
    // fewer (see `grams`). Names and types go under rowid -id, observations
    // under their id, as in `word_fts`. Rows are filled by
    // `build_trigram_index` right after this script, and then by the writer.
    r#"
    DROP TRIGGER entities_unindex;
    DROP TRIGGER observations_unindex;
    DROP TABLE entity_fts;
    DROP TABLE observation_fts;
    CREATE VIRTUAL TABLE trigram_fts USING fts5(
        text, content = '', contentless_delete = 1, detail = none,
        tokenize = 'trigram case_sensitive 1'
    );
    INSERT INTO trigram_fts (trigram_fts, rank) VALUES ('hashsize', 8388608);
    CREATE TRIGGER entities_unindex AFTER DELETE ON entities BEGIN
        DELETE FROM trigram_fts WHERE rowid = -old.id;
    END;
    CREATE TRIGGER observations_unindex AFTER DELETE ON observations BEGIN
        DELETE FROM trigram_fts WHERE rowid = old.id;
    END;
    "#,
    // 9: an observation's row in the word index names its entity in its
    // rowid, `(entity_id << 32) | id` (see `word_rows`), so ranking reads no
    // observation to find whose a hit is. The index is made again and
    // filled by `build_word_index` right after this script.
    r#"
    DROP TRIGGER entities_unword;
    DROP TRIGGER observations_unword;
    DROP TABLE word_fts;
    CREATE VIRTUAL TABLE word_fts USING fts5(
        name, type, body, content = '', contentless_delete = 1,
        tokenize = "unicode61 remove_diacritics 2 tokenchars '_-.'"
    );
    INSERT INTO word_fts (word_fts, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)');
    INSERT INTO word_fts (word_fts, rank) VALUES ('hashsize', 8388608);
    CREATE TRIGGER entities_unword AFTER DELETE ON entities BEGIN
        DELETE FROM word_fts WHERE rowid = -old.id;
    END;
    CREATE TRIGGER observations_unword AFTER DELETE ON observations BEGIN
        DELETE FROM word_fts WHERE rowid = (old.entity_id << 32) | old.id;
    END;
    "#,
    // 10: an observation is found among its entity's by a hash of its text
    // (see `content_hash`), not by a unique index over the text itself,
    // which held a second copy of every observation. SQLite cannot drop a
    // table's UNIQUE constraint, so the table is made again, ids and all;
    // its triggers go first, so no index row is touched, and come back.
    r#"
    DROP TRIGGER observations_unindex;
    DROP TRIGGER observations_unword;
    CREATE TABLE observations_hashed (
        id             INTEGER PRIMARY KEY,
        entity_id      INTEGER NOT NULL REFERENCES entities(id) ON DELETE CASCADE,
        content        TEXT    NOT NULL,
        created_at     INTEGER NOT NULL,
        created_change INTEGER,
        content_hash   INTEGER NOT NULL
    ) STRICT;
    INSERT INTO observations_hashed
        (id, entity_id, content, created_at, created_change, content_hash)
    SELECT id, entity_id, content, created_at, created_change, memgraphd_content_hash(content)
    FROM observations ORDER BY id;
    DROP TABLE observations;
    ALTER TABLE observations_hashed RENAME TO observations;
    -- (entity_id, rowid): an entity's observations in insertion order.
    CREATE INDEX observations_by_entity ON observations(entity_id);
    -- The rows that may hold a text: compare their content to be sure.
    CREATE INDEX observations_by_content ON observations(entity_id, content_hash);
    CREATE TRIGGER observations_unindex AFTER DELETE ON observations BEGIN
        DELETE FROM trigram_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER observations_unword AFTER DELETE ON observations BEGIN
        DELETE FROM word_fts WHERE rowid = (old.entity_id << 32) | old.id;
    END;
    "#,
    // 11: both indexes' hash of pending rows back to FTS5's default size,
    // 1 MiB. Migrations 8 and 9 raised it to 8 MiB for the builds they run
    // (which ran before this). But FTS5 never shrinks the hash's slot
    // array while a connection lives, and every write's flush clears and
    // sorts the whole array: after one large write, every small write paid
    // for the largest. Measured in process: single creates after a load in
    // calls of 1,000 entities 18 % faster, after calls of 100 6 to 10 %; a
    // load in calls of 5,000 entities (an import's size) about 15 % slower.
    r#"
    INSERT INTO trigram_fts (trigram_fts, rank) VALUES ('hashsize', 1048576);
    INSERT INTO word_fts (word_fts, rank) VALUES ('hashsize', 1048576);
    "#,
    // 12: the search indexes are written after the write that makes their
    // rows, in batches (see `backlog`). A write commits its rows and their
    // keys here, in its own transaction; the writer moves them into both
    // indexes later, and always before a search reads them. A key is the
    // trigram index's rowid: `-id` for an entity, `id` for an observation.
    r#"
    CREATE TABLE search_backlog (row INTEGER PRIMARY KEY) STRICT;
    "#,
];

/// Work in Rust that a migration needs after its SQL, by the version it
/// brings the database to.
type Step = fn(&Connection) -> Result<(), StoreError>;

fn after_migration(version: u32) -> Option<Step> {
    match version {
        6 => Some(super::history::adopt_existing_rows),
        8 => Some(build_trigram_index),
        9 => Some(|conn| build_word_index(conn, WordRows::Owned)),
        _ => None,
    }
}

/// Rows indexed between two progress lines in the log.
const PROGRESS_EVERY: u64 = 50_000;

/// Counts the rows an index build has written, and logs every
/// [`PROGRESS_EVERY`] of them.
struct Progress {
    index: &'static str,
    done: u64,
    total: i64,
}

impl Progress {
    /// Starts the build of `index`, over every entity and observation.
    fn start(conn: &Connection, index: &'static str) -> Result<Progress, StoreError> {
        let total: i64 = conn.query_row(
            "SELECT (SELECT count(*) FROM entities) + (SELECT count(*) FROM observations)",
            [],
            |r| r.get(0),
        )?;
        tracing::info!("building the {index} for {total} rows");
        Ok(Progress {
            index,
            done: 0,
            total,
        })
    }

    fn row(&mut self) {
        self.done += 1;
        if self.done.is_multiple_of(PROGRESS_EVERY) {
            tracing::info!("{}: {} of {} rows", self.index, self.done, self.total);
        }
    }

    fn finish(self) {
        tracing::info!("{} built: {} rows", self.index, self.done);
    }
}

/// Fills the trigram index (migration 8) from the stored entities and
/// observations, lower-cased as the writer does, logging its progress.
fn build_trigram_index(conn: &Connection) -> Result<(), StoreError> {
    let mut progress = Progress::start(conn, "trigram index")?;
    let mut insert = conn.prepare("INSERT INTO trigram_fts (rowid, text) VALUES (?1, ?2)")?;
    let mut entities = conn.prepare("SELECT id, name, entity_type FROM entities")?;
    let mut rows = entities.query([])?;
    while let Some(row) = rows.next()? {
        let (id, name, entity_type): (i64, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        insert.execute(rusqlite::params![
            -id,
            super::grams::entity_text(&name, &entity_type)
        ])?;
        progress.row();
    }
    let mut observations = conn.prepare("SELECT id, content FROM observations")?;
    let mut rows = observations.query([])?;
    while let Some(row) = rows.next()? {
        let (id, content): (i64, String) = (row.get(0)?, row.get(1)?);
        insert.execute(rusqlite::params![id, content.to_lowercase()])?;
        progress.row();
    }
    progress.finish();
    Ok(())
}

/// Fills the word index from the stored entities and observations, its
/// observation rows numbered as `numbering` says, logging its progress.
fn build_word_index(conn: &Connection, numbering: WordRows) -> Result<(), StoreError> {
    let mut progress = Progress::start(conn, "word index")?;
    let mut insert =
        conn.prepare("INSERT INTO word_fts (rowid, name, type, body) VALUES (?1, ?2, ?3, ?4)")?;
    let mut entities = conn.prepare("SELECT id, name, entity_type FROM entities")?;
    let mut rows = entities.query([])?;
    while let Some(row) = rows.next()? {
        let (id, name, entity_type): (i64, String, String) =
            (row.get(0)?, row.get(1)?, row.get(2)?);
        insert.execute(rusqlite::params![
            -id,
            super::words::index_text(&name),
            super::words::index_text(&entity_type),
            ""
        ])?;
        progress.row();
    }
    let mut observations = conn.prepare("SELECT id, entity_id, content FROM observations")?;
    let mut found = observations.query([])?;
    while let Some(row) = found.next()? {
        let (id, entity_id, content): (i64, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        insert.execute(rusqlite::params![
            numbering.observation_rowid(entity_id, id)?,
            "",
            "",
            super::words::index_text(&content)
        ])?;
        progress.row();
    }
    progress.finish();
    Ok(())
}

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
    conn.create_scalar_function(
        super::content_hash::SQL_FUNCTION,
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(super::content_hash::content_hash(&ctx.get::<String>(0)?)),
    )?;
    Ok(())
}

/// Creates, for this connection only, `temp.word_vocab`: how many rows of
/// the word index hold each word. `search_memory` reads it to leave out
/// words too common to rank by, before it asks FTS5 to score them.
pub(super) fn attach_vocabulary(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.word_vocab USING fts5vocab(main, 'word_fts', 'row');",
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
    for (version, sql) in (found + 1..).zip(&MIGRATIONS[found as usize..]) {
        tx.execute_batch(sql)?;
        if let Some(step) = after_migration(version) {
            step(&tx)?;
        }
    }
    if found != supported {
        tx.pragma_update(None, "user_version", supported)?;
    }
    tx.commit()?;
    Ok(())
}
