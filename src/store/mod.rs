//! The SQLite graph store: opening the file, the schema, the nine graph
//! operations and the import merge, backups and upkeep.
//!
//! # Invariants
//! - Only this module names `rusqlite`; only the writer thread holds a
//!   [`Store`] (it is `Send`, not `Sync`).
//! - Every write runs inside a `BEGIN IMMEDIATE` transaction. Requests
//!   grouped in one transaction each run in a savepoint of their own, so a
//!   request that fails changes nothing while the others still commit
//!   ([`Batch`]); a request alone is its transaction, committed only if it
//!   succeeds ([`Store::apply_alone`]).
//! - No query runs once per entity, and no query binds one variable per item:
//!   sets of names or ids travel as one `rarray` parameter.
//! - A write queues its search-index rows, and the indexes catch up before
//!   any read uses them ([`backlog`]): a search always sees every write
//!   acknowledged before it.
//!
//! # Durability
//! WAL mode with `synchronous=FULL` by default: a committed transaction
//! survives power loss. [`Durability::Normal`] keeps the database consistent
//! after a crash but may lose the last commits on power loss.

mod backlog;
mod bm25;
mod content_hash;
mod grams;
mod history;
pub mod legacy;
mod neighbors;
mod origins;
mod page;
mod preflight;
mod read;
mod record;
mod schema;
mod search_rows;
mod snapshot;
mod tokens;
mod word_rows;
pub mod words;
mod write;

pub use origins::{EntityOrigins, ObservationOrigin};
pub use snapshot::Snapshot;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::model::{Author, GraphOp, Outcome};
pub use history::BEFORE_HISTORY;
pub use preflight::{preflight, Preflight, PreflightError};

/// Prepared statements kept per connection: more than the store has.
const STATEMENT_CACHE: usize = 256;

/// How hard a commit tries to reach the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: a commit survives power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: faster; a crash never corrupts, but a power loss
    /// may drop the last commits.
    Normal,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The call named an entity that does not exist; the agent can fix it.
    #[error("Entity with name {0} not found")]
    UnknownEntity(String),
    /// The call breaks a limit of the contract; the agent can fix it.
    #[error("invalid arguments: {0}")]
    Invalid(#[from] crate::limits::LimitError),
    /// The database can only be read; the reason says why.
    #[error("the database is read-only: {0}")]
    ReadOnly(String),
    /// A write was passed to [`Store::read`], which runs outside any
    /// transaction; writes go through a [`Batch`].
    #[error("{tool} is a write; run it in a batch")]
    WriteOutsideBatch { tool: &'static str },
    /// A newer memgraphd wrote this file. Refuse it, and never delete it.
    #[error("database schema v{found} is newer than this build supports (v{supported}); upgrade memgraphd")]
    SchemaTooNew { found: u32, supported: u32 },
    /// The file is not a database this build can use.
    #[error("{path} is not a memgraphd database: {reason}")]
    NotOurs { path: PathBuf, reason: String },
    /// SQLite kept another journal mode, e.g. where the file system offers
    /// no shared memory for a WAL; memgraphd needs WAL.
    #[error(
        "{path} cannot be switched to WAL mode (it stays in {mode:?} mode), which memgraphd needs"
    )]
    NoWal { path: PathBuf, mode: String },
    #[error("creating directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("creating {path}")]
    CreateFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `VACUUM INTO` takes the target as SQL text.
    #[error("the backup path {path} is not valid UTF-8")]
    BackupPathNotUtf8 { path: PathBuf },
    /// The copy a backup wrote does not pass `integrity_check`.
    #[error("the backup {path} failed integrity_check: {}", problems.join("; "))]
    BackupDamaged {
        path: PathBuf,
        problems: Vec<String>,
    },
    #[error("sqlite")]
    Sqlite(#[from] rusqlite::Error),
    /// The answer to a write could not be encoded for the record of
    /// applied requests.
    #[error("encoding the reply to record it: {0}")]
    RecordEncode(String),
    /// A recorded reply could not be decoded: the record is from another
    /// build, or damaged.
    #[error("decoding a recorded reply: {0}")]
    RecordDecode(String),
    /// A snapshot needs a database file; an in-memory store has none.
    #[error("an in-memory database cannot be read from a snapshot")]
    InMemory,
    /// `token add` with a name another token has.
    #[error("a token named {0} exists; revoke it first or choose another name")]
    TokenExists(String),
    /// `token revoke` of a name no token has.
    #[error("no token is named {0}")]
    NoSuchToken(String),
    #[error("{0}")]
    TokenName(String),
    /// The call cannot be done as asked (an undo that conflicts, an unknown
    /// change or observation); the message tells the agent what to do.
    #[error("{0}")]
    Refused(String),
}

impl StoreError {
    /// Whether opening failed because the file or its directory cannot be
    /// written, so that opening it read-only may still work.
    pub fn is_unwritable(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
            ),
            StoreError::CreateDir { source, .. } | StoreError::CreateFile { source, .. } => {
                source.kind() == std::io::ErrorKind::PermissionDenied
            }
            _ => false,
        }
    }

    /// Whether the caller, not the machine, is at fault: the same call will
    /// fail again, and nothing was written.
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            StoreError::UnknownEntity(_)
                | StoreError::Invalid(_)
                | StoreError::TokenExists(_)
                | StoreError::NoSuchToken(_)
                | StoreError::TokenName(_)
                | StoreError::Refused(_)
        )
    }
}

/// Row counts, for `memgraphd status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub entities: u64,
    pub observations: u64,
    pub relations: u64,
}

/// An open memgraphd database.
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// Set when the file could only be opened for reading: every write is
    /// refused with this reason.
    read_only: Option<String>,
    /// Recent `search_memory` rankings, for their cursors.
    rankings: words::Rankings,
    /// A replicator (Litestream) owns the WAL's checkpoints: ours are
    /// skipped, so it never finds the WAL restarted under it.
    replicated: bool,
}

/// How much of the database file is memory-mapped for reading. Mapped pages
/// a read touches stay in the daemon's resident set (the kernel maps their
/// neighbours too), so a larger map let a few thousand scattered reads of a
/// 480 MiB store show as 420 MiB resident; past this size SQLite reads pages
/// into its own bounded cache instead.
const MMAP_BYTES: i64 = 32 << 20;

impl Store {
    /// Opens the database at `path`, creating it and its missing parent
    /// directories (private to their owner, see [`crate::privacy`]), and
    /// migrates it to the current schema.
    pub fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::privacy::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        // SQLite would create the file with mode 0644 whatever the umask; an
        // empty file of ours is a new database to it, and its -wal and -shm
        // take this file's mode.
        if !path.exists() {
            match create_private(path) {
                // Another process created it meanwhile: it is a database now.
                Err(StoreError::CreateFile { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                other => other?,
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        Store::setup(conn, Some(path.to_owned()), durability)
    }

    /// Opens the database for reading only, for when it cannot be written
    /// (a read-only directory or file system): searches and reads work,
    /// every write is refused with `reason`. It is opened as immutable,
    /// since nothing can be changing a file nobody can write.
    pub fn open_read_only(path: &Path, reason: String) -> Result<Store, StoreError> {
        let mut uri = std::ffi::OsString::from("file:");
        uri.push(path.as_os_str());
        uri.push("?mode=ro&immutable=1");
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(PathBuf::from(uri), flags)?;
        let found: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| not_ours(&Some(path.to_owned()), e))?;
        let supported = schema::supported_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        if found == 0 {
            return Err(StoreError::NotOurs {
                path: path.to_owned(),
                reason: "it has no memgraphd schema version".into(),
            });
        }
        rusqlite::vtab::array::load_module(&conn)?;
        schema::register_functions(&conn)?;
        if found >= 4 {
            schema::attach_vocabulary(&conn)?;
        }
        let rankings = words::Rankings::for_schema(found);
        // Rows a writer queued and never indexed (it stopped abruptly) stay
        // unindexed here, so substring searches look at them too.
        if found >= backlog::BACKLOG_SCHEMA && !backlog::is_empty(&conn)? {
            rankings.search_backlog(true);
        }
        Ok(Store {
            conn,
            path: Some(path.to_owned()),
            read_only: Some(reason),
            rankings,
            replicated: false,
        })
    }

    /// Leaves checkpoints to a replicator such as Litestream, which must
    /// own them: from now on [`Store::checkpoint`] does nothing, at close
    /// too. SQLite's own automatic checkpoints (passive, and held back by
    /// the replicator's read lock) go on, so the WAL still stays bounded.
    pub fn leave_checkpoints_to_replicator(&mut self) {
        self.replicated = true;
    }

    /// Why writes are refused, if the store is read-only.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Store::setup(Connection::open_in_memory()?, None, Durability::Full)
    }

    fn setup(
        mut conn: Connection,
        path: Option<PathBuf>,
        durability: Durability,
    ) -> Result<Store, StoreError> {
        conn.busy_timeout(Duration::from_secs(5))?;
        // One write runs a few dozen distinct statements (the rows, three
        // search indexes, history, the retry record); rusqlite keeps 16 by
        // default, so a write could find some evicted and parse them again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Look before touching anything: a database from a newer build, or a
        // file that is not a database at all, must be left byte for byte as it was.
        let found: u32 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| not_ours(&path, e))?;
        let supported = schema::supported_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        if found == 0 && !is_empty(&conn)? {
            return Err(StoreError::NotOurs {
                path: path.unwrap_or_default(),
                reason: "it has tables but no memgraphd schema version".into(),
            });
        }
        // Another program's database may use user_version too.
        if found > 0 && !has_table(&conn, "entities")? {
            return Err(StoreError::NotOurs {
                path: path.unwrap_or_default(),
                reason: format!("it has schema version {found} but no memgraphd tables"),
            });
        }
        // The journal mode cannot change inside a transaction, so it comes
        // before the migrations.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if path.is_some() && !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NoWal {
                path: path.unwrap_or_default(),
                mode,
            });
        }
        let synchronous = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Searches read index and table pages all over the file; mapped,
        // they cost no copy and no system call each.
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
        rusqlite::vtab::array::load_module(&conn)?;
        schema::register_functions(&conn)?;
        schema::migrate(&mut conn)?;
        schema::attach_vocabulary(&conn)?;
        Ok(Store {
            conn,
            path,
            read_only: None,
            rankings: words::Rankings::new(),
            replicated: false,
        })
    }

    /// The file this store lives in (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Runs one operation on its own: a write in its own transaction, a read
    /// as it is.
    pub fn apply(&mut self, op: &GraphOp) -> Result<Outcome, StoreError> {
        if !op.is_write() {
            return self.read(op);
        }
        let outcome = self.apply_alone(op, &Author::default(), None)?;
        self.index_if_behind()?;
        Ok(outcome)
    }

    /// Applies one write as a transaction of its own, credited to `author`
    /// and, with a `request_id`, at most once (as [`Batch::apply_once`]).
    /// The transaction is the request's atomicity, so it needs no savepoint:
    /// a savepoint copies every page the request touches into a journal of
    /// its own, a tenth of what a single create cost. On error nothing is
    /// committed.
    pub fn apply_alone(
        &mut self,
        op: &GraphOp,
        author: &Author,
        request_id: Option<&[u8]>,
    ) -> Result<Outcome, StoreError> {
        let batch = self.batch()?;
        let outcome = match request_id.map(|id| batch.recorded(id, op)).transpose()? {
            Some(Some(outcome)) => outcome,
            _ => apply_in(&batch.tx, batch.rankings, op, author, request_id)?,
        };
        batch.commit()?;
        Ok(outcome)
    }

    /// Runs a read-only operation. Writes are refused here so that nothing
    /// can write outside a transaction.
    pub fn read(&self, op: &GraphOp) -> Result<Outcome, StoreError> {
        if op.is_write() {
            return Err(StoreError::WriteOutsideBatch {
                tool: op.tool_name(),
            });
        }
        crate::limits::check(op)?;
        if uses_search_index(op) && self.read_only.is_none() {
            // A search still answers when the rows cannot be indexed now:
            // it then takes them as candidates instead.
            let indexed = self.index_backlog().map_err(|e| {
                tracing::warn!(
                    "indexing queued rows before a search: {}",
                    crate::error_chain(&e)
                );
            });
            self.rankings.search_backlog(indexed.is_err());
        }
        read::run(&self.conn, &self.rankings, op)
    }

    /// Adds every row that writes queued to the search indexes, in one
    /// transaction of its own; returns how many were indexed. The writer
    /// runs it when the backlog grows past a batch, when idle, and before
    /// every search. A store that cannot write leaves the backlog as it is.
    pub fn index_backlog(&self) -> Result<usize, StoreError> {
        if self.read_only.is_some() || backlog::is_empty(&self.conn)? {
            return Ok(0);
        }
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let indexed = backlog::catch_up(&tx)?;
        tx.commit()?;
        Ok(indexed)
    }

    /// Indexes the queued rows once there are [`BACKLOG_ROWS`] of them;
    /// returns how many were indexed. The writer calls it after answering
    /// each round of writes, [`Store::apply`] after each write.
    pub fn index_if_behind(&self) -> Result<usize, StoreError> {
        if self.read_only.is_some() || self.backlog_len()? < BACKLOG_ROWS {
            return Ok(0);
        }
        self.index_backlog()
    }

    /// How many rows wait for the search indexes.
    pub fn backlog_len(&self) -> Result<u64, StoreError> {
        if self.rankings.schema() < backlog::BACKLOG_SCHEMA {
            return Ok(0);
        }
        backlog::len(&self.conn)
    }

    /// Starts a group of writes that will be committed together.
    pub fn batch(&mut self) -> Result<Batch<'_>, StoreError> {
        if let Some(reason) = &self.read_only {
            return Err(StoreError::ReadOnly(reason.clone()));
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        Ok(Batch {
            tx,
            rankings: &self.rankings,
        })
    }

    /// How many entities, observations and relations are stored.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            let sql = format!("SELECT count(*) FROM {table}");
            Ok(self.conn.query_row(&sql, [], |r| r.get::<_, i64>(0))? as u64)
        };
        Ok(Counts {
            entities: count("entities")?,
            observations: count("observations")?,
            relations: count("relations")?,
        })
    }

    /// An entity with up to `limit` observations and the change that wrote
    /// each, for the web view.
    pub fn origins(&self, name: &str, limit: u32) -> Result<EntityOrigins, StoreError> {
        origins::origins(&self.conn, name, limit)
    }

    /// The projects changes came from, with their change counts, most first.
    pub fn projects(&self) -> Result<Vec<(String, u64)>, StoreError> {
        history::projects(&self.conn)
    }

    /// Writes a consistent, compacted copy of the database to `target`
    /// (which must not exist) and checks the copy; returns its size.
    pub fn backup_to(&self, target: &Path) -> Result<u64, StoreError> {
        let target_text = target
            .to_str()
            .ok_or_else(|| StoreError::BackupPathNotUtf8 {
                path: target.to_owned(),
            })?;
        // A copy with its indexes whole needs no writer to search it.
        self.index_backlog()?;
        // VACUUM INTO fills an empty file as it finds it, so the copy is
        // private from its first byte.
        create_private(target)?;
        if let Err(e) = self.conn.execute("VACUUM INTO ?1", [target_text]) {
            let _ = std::fs::remove_file(target);
            return Err(e.into());
        }
        let copy = Connection::open_with_flags(target, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let problems = integrity_problems(&copy)?;
        if !problems.is_empty() {
            return Err(StoreError::BackupDamaged {
                path: target.to_owned(),
                problems,
            });
        }
        Ok(std::fs::metadata(target).map(|m| m.len()).unwrap_or(0))
    }

    /// Merges the search indexes' segments into one, which makes searches
    /// cheaper; costs time in proportion to the index. See
    /// [`Store::merge_search`] for the bounded kind the daemon runs.
    pub fn optimize_search(&self) -> Result<(), StoreError> {
        for table in self.search_tables() {
            self.conn.execute(
                &format!("INSERT INTO {table} ({table}) VALUES ('optimize')"),
                [],
            )?;
        }
        Ok(())
    }

    /// The FTS5 tables of the search indexes.
    fn search_tables(&self) -> impl Iterator<Item = &'static str> {
        self.rankings
            .grams()
            .tables()
            .iter()
            .copied()
            .chain(["word_fts"])
    }

    /// Does up to about `pages` pages of merging in each search index, so
    /// searches read fewer segments. Bounded, so an idle daemon can run it
    /// without keeping a writer waiting long.
    pub fn merge_search(&self, pages: u32) -> Result<(), StoreError> {
        if self.read_only.is_some() {
            return Ok(());
        }
        for table in self.search_tables() {
            self.conn.execute(
                &format!("INSERT INTO {table} ({table}, rank) VALUES ('merge', ?1)"),
                [pages],
            )?;
        }
        Ok(())
    }

    /// What `PRAGMA integrity_check` reports; empty when all is well.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        integrity_problems(&self.conn)
    }

    /// Copies the WAL back into the database file so the WAL stays small.
    /// Cheap when there is nothing to copy; call it when idle.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        if self.read_only.is_some() || self.replicated {
            return Ok(());
        }
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Closes the database after a last checkpoint, so that the WAL is
    /// empty and a copy of the main file alone is complete.
    pub fn close(self) -> Result<(), StoreError> {
        if self.read_only.is_some() {
            return self.conn.close().map_err(|(_, e)| StoreError::Sqlite(e));
        }
        // Closed with its indexes whole, a file is complete for whoever opens
        // it read-only next.
        self.index_backlog()?;
        self.conn.execute_batch("PRAGMA optimize")?;
        self.checkpoint()?;
        self.conn.close().map_err(|(_, e)| StoreError::Sqlite(e))
    }

    #[cfg(test)]
    fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// Writes grouped in one `BEGIN IMMEDIATE` transaction, each request in its
/// own savepoint. Nothing is durable until [`Batch::commit`]; dropping the
/// batch rolls everything back.
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
    rankings: &'a words::Rankings,
}

impl Batch<'_> {
    /// Applies one request atomically: on error, its own changes are rolled
    /// back and the batch carries on. A write becomes one change, by nobody
    /// in particular.
    pub fn apply(&mut self, op: &GraphOp) -> Result<Outcome, StoreError> {
        self.apply_by(op, &Author::default(), None)
    }

    /// Like [`Batch::apply`], with the change credited to `author`.
    pub fn apply_as(&mut self, op: &GraphOp, author: &Author) -> Result<Outcome, StoreError> {
        self.apply_by(op, author, None)
    }

    /// Like [`Batch::apply_as`], but at most once per `request_id`: a
    /// request id seen before gets the reply recorded then, and nothing is
    /// applied. The record is the change row, so "applied" and "recorded"
    /// are one fact.
    pub fn apply_once(
        &mut self,
        request_id: &[u8],
        op: &GraphOp,
        author: &Author,
    ) -> Result<Outcome, StoreError> {
        if let Some(outcome) = self.recorded(request_id, op)? {
            return Ok(outcome);
        }
        self.apply_by(op, author, Some(request_id))
    }

    fn apply_by(
        &mut self,
        op: &GraphOp,
        author: &Author,
        request_id: Option<&[u8]>,
    ) -> Result<Outcome, StoreError> {
        if !op.is_write() {
            return apply_in(&self.tx, self.rankings, op, author, request_id);
        }
        let savepoint = self.tx.savepoint()?;
        let outcome = apply_in(&savepoint, self.rankings, op, author, request_id)?;
        savepoint.commit()?;
        Ok(outcome)
    }

    fn recorded(&self, request_id: &[u8], op: &GraphOp) -> Result<Option<Outcome>, StoreError> {
        let reply = history::recorded_reply(&self.tx, request_id)?;
        reply.map(|bytes| record::decode(op, &bytes)).transpose()
    }

    /// Forgets request ids recorded before `before_millis`; a retry comes
    /// within seconds, so a day of history is plenty.
    pub fn forget_requests_before(&mut self, before_millis: i64) -> Result<usize, StoreError> {
        history::forget_requests_before(&self.tx, before_millis)
    }

    /// Makes every request applied in this batch durable at once.
    pub fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.commit()?)
    }
}

/// Rows queued for the search indexes that are indexed at once: together,
/// rows cost the indexes a fraction of what they cost one write at a time
/// (FTS5 writes a segment per transaction and merges them), and a batch
/// this size takes a few milliseconds. Fewer wait for the next search or
/// for the idle writer's upkeep.
pub const BACKLOG_ROWS: u64 = 1_000;

/// Whether `op` reads the search indexes, and so needs them caught up.
fn uses_search_index(op: &GraphOp) -> bool {
    matches!(
        op,
        GraphOp::SearchNodes { .. }
            | GraphOp::SearchMemory(_)
            | GraphOp::ReadPage(crate::model::PageQuery {
                source: crate::model::PageSource::Search(_),
                ..
            })
    )
}

/// Applies one request on `conn`, a transaction or a savepoint that the
/// caller commits or rolls back: a read as it is, a write as one change.
fn apply_in(
    conn: &Connection,
    rankings: &words::Rankings,
    op: &GraphOp,
    author: &Author,
    request_id: Option<&[u8]>,
) -> Result<Outcome, StoreError> {
    crate::limits::check(op)?;
    if !op.is_write() {
        // Inside a write transaction already: catch up in it.
        if uses_search_index(op) && !backlog::is_empty(conn)? {
            backlog::catch_up(conn)?;
        }
        return read::run(conn, rankings, op);
    }
    if let GraphOp::Purge { before, dry_run } = op {
        // Purging forgets history; it is not itself a change.
        return Ok(Outcome::Purged(history::purge(conn, *before, *dry_run)?));
    }
    let pending = history::begin(conn, now_millis())?;
    let outcome = write::run(conn, op, pending.at, pending.id)?;
    let reply = match request_id {
        Some(_) => Some(record::encode(op, &outcome)?),
        None => None,
    };
    let record = history::Record {
        author,
        request_id,
        reply,
    };
    history::finish(conn, &pending, op, &outcome, record)?;
    Ok(outcome)
}

/// Runs `integrity_check` on a database file without opening it for
/// writing (for `memgraphd doctor` when no daemon runs).
pub fn check_file(path: &Path) -> Result<Vec<String>, StoreError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    integrity_problems(&conn)
}

/// Milliseconds since the Unix epoch, the unit of every stored timestamp.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Creates `path` as a new, empty file only its owner may use; fails if
/// anything exists there.
fn create_private(path: &Path) -> Result<(), StoreError> {
    crate::privacy::file_options()
        .write(true)
        .create_new(true)
        .open(path)
        .map(drop)
        .map_err(|source| StoreError::CreateFile {
            path: path.to_owned(),
            source,
        })
}

fn integrity_problems(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let lines = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(lines.into_iter().filter(|l| l != "ok").collect())
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    let found: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?;
    Ok(found > 0)
}

fn is_empty(conn: &Connection) -> Result<bool, StoreError> {
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok(tables == 0)
}

fn not_ours(path: &Option<PathBuf>, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotOurs {
            path: path.clone().unwrap_or_default(),
            reason: "the file is not an SQLite database".into(),
        },
        _ => StoreError::Sqlite(e),
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
