//! The writer actor: one OS thread that owns the [`Store`] and runs every
//! operation, and the cloneable async [`DbHandle`] that sends it work.
//!
//! Group commit: the actor takes every job already queued (up to
//! [`MAX_BATCH`]), runs the consecutive writes in one `BEGIN IMMEDIATE`
//! transaction, each in its own savepoint, commits once, and only then
//! answers them. Acknowledged therefore means committed, and one sync to disk
//! is shared by every writer that arrived meanwhile. A read waits for the
//! writes queued before it to commit, so a session always reads its own
//! writes.
//!
//! # Invariants
//! - No SQLite call runs anywhere but on this thread; async tasks only hold
//!   a [`DbHandle`].
//! - Replies go through oneshots, which never block, so the actor cannot
//!   deadlock on a slow caller. A caller that stopped waiting just misses
//!   its answer; the write still happened.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};

use crate::model::{Author, ExportCursor, ExportPage, GraphOp, OpError, Outcome};
use crate::store::{Counts, Store, StoreError};
use exports::{Exports, PageError};

/// Jobs waiting for the actor. Bounded, so a burst waits instead of piling up.
const QUEUE: usize = 256;
/// Most writes committed together.
pub const MAX_BATCH: usize = 128;
/// Pages of search-index merging per upkeep: tens of milliseconds at most.
const UPKEEP_MERGE_PAGES: u32 = 500;
/// How long a write's request id is remembered for retries.
const REQUEST_ID_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// Change notices kept for slow subscribers before they lag.
const FEED: usize = 1024;

/// A successful write, announced to every subscriber after its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The session that made the change, so it can skip its own notice.
    pub origin: u64,
}

/// The actor is gone: it panicked, or the daemon is shutting down.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the database thread has stopped")]
pub struct DbGone;

/// Why a job failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Op(#[from] OpError),
    #[error(transparent)]
    Gone(#[from] DbGone),
}

/// Where the actor sends the answer to one job.
type AnswerTo<T> = oneshot::Sender<Result<T, OpError>>;

enum Job {
    Graph {
        op: GraphOp,
        /// Set for writes that may be retried; applied at most once.
        request_id: Option<u128>,
        origin: u64,
        author: Box<Author>,
        reply: AnswerTo<Outcome>,
    },
    Counts {
        reply: AnswerTo<Counts>,
    },
    Backup {
        target: std::path::PathBuf,
        reply: AnswerTo<u64>,
    },
    Check {
        reply: AnswerTo<Vec<String>>,
    },
    ExportPage {
        snapshot: Option<u64>,
        after: ExportCursor,
        reply: AnswerTo<ExportPage>,
    },
    Upkeep,
    Tokens(tokens::TokenJob),
    Projects {
        reply: AnswerTo<Vec<(String, u64)>>,
    },
    Origins {
        name: String,
        limit: u32,
        reply: AnswerTo<crate::store::EntityOrigins>,
    },
}

/// The handle to the actor; each connection task keeps its own clone.
#[derive(Clone)]
pub struct DbHandle {
    jobs: mpsc::Sender<Job>,
    changes: broadcast::Sender<Change>,
    writes: Arc<WriteClock>,
}

/// When the last write committed, and whether upkeep has run since.
#[derive(Default)]
struct WriteClock {
    last_millis: AtomicI64,
    dirty: AtomicBool,
}

impl DbHandle {
    /// Starts the actor thread. To shut down, drop every handle, then join
    /// the thread: the actor drains its queue, checkpoints and closes.
    pub fn spawn(store: Store) -> io::Result<(DbHandle, thread::JoinHandle<()>)> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let (changes, _) = broadcast::channel(FEED);
        let writes = Arc::new(WriteClock::default());
        let actor = Actor {
            store,
            exports: Exports::new(),
            queue,
            changes: changes.clone(),
            writes: writes.clone(),
            local_user: local_user(),
        };
        let thread = thread::Builder::new()
            .name("memgraphd-db".into())
            .spawn(move || actor.run())?;
        Ok((
            DbHandle {
                jobs,
                changes,
                writes,
            },
            thread,
        ))
    }

    /// Runs one graph operation for session `origin`. A write with a
    /// `request_id` is applied at most once, however often it is sent.
    pub async fn run(
        &self,
        op: GraphOp,
        request_id: Option<u128>,
        origin: u64,
    ) -> Result<Outcome, DbError> {
        self.run_by(op, request_id, origin, Box::default()).await
    }

    /// Like [`DbHandle::run`], with a write's change credited to `author`
    /// (its `actor`, when unset, becomes the local user).
    pub async fn run_by(
        &self,
        op: GraphOp,
        request_id: Option<u128>,
        origin: u64,
        author: Box<Author>,
    ) -> Result<Outcome, DbError> {
        Ok(self
            .ask(|reply| Job::Graph {
                op,
                request_id,
                origin,
                author,
                reply,
            })
            .await??)
    }

    /// The projects changes came from, with their change counts.
    pub async fn projects(&self) -> Result<Vec<(String, u64)>, DbError> {
        Ok(self.ask(|reply| Job::Projects { reply }).await??)
    }

    /// An entity with up to `limit` observations and the change that wrote
    /// each (the web view's entity page).
    pub async fn origins(
        &self,
        name: String,
        limit: u32,
    ) -> Result<crate::store::EntityOrigins, DbError> {
        Ok(self
            .ask(|reply| Job::Origins { name, limit, reply })
            .await??)
    }

    /// Row counts of the graph.
    pub async fn counts(&self) -> Result<Counts, DbError> {
        Ok(self.ask(|reply| Job::Counts { reply }).await??)
    }

    /// Writes a consistent copy of the database to `target` and checks it.
    pub async fn backup(&self, target: std::path::PathBuf) -> Result<u64, DbError> {
        Ok(self.ask(|reply| Job::Backup { target, reply }).await??)
    }

    /// Runs `integrity_check`; the problems found, or none.
    pub async fn check(&self) -> Result<Vec<String>, DbError> {
        Ok(self.ask(|reply| Job::Check { reply }).await??)
    }

    /// One page of an export, from the snapshot `snapshot` or, for the
    /// first page, from a new one (see [`crate::store::Snapshot`]).
    pub async fn export_page(
        &self,
        snapshot: Option<u64>,
        after: ExportCursor,
    ) -> Result<ExportPage, DbError> {
        Ok(self
            .ask(|reply| Job::ExportPage {
                snapshot,
                after,
                reply,
            })
            .await??)
    }

    /// Asks the actor for upkeep (merge search segments, forget old
    /// request ids, checkpoint the WAL) if there were writes and none for
    /// `quiet`. Cheap to call often; the daemon calls it every second.
    pub fn upkeep_if_quiet(&self, quiet: Duration) {
        let since = crate::store::now_millis() - self.writes.last_millis.load(Ordering::Relaxed);
        if self.writes.dirty.load(Ordering::Relaxed) && since >= quiet.as_millis() as i64 {
            // A full queue means the actor is busy, not idle: skip it.
            if self.jobs.try_send(Job::Upkeep).is_ok() {
                self.writes.dirty.store(false, Ordering::Relaxed);
            }
        }
    }

    /// Jobs waiting in the queue right now.
    pub fn queue_depth(&self) -> usize {
        self.jobs.max_capacity() - self.jobs.capacity()
    }

    /// Notices of every successful write from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    async fn ask<T>(
        &self,
        job: impl FnOnce(AnswerTo<T>) -> Job,
    ) -> Result<Result<T, OpError>, DbGone> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(job(reply)).await.map_err(|_| DbGone)?;
        answer.await.map_err(|_| DbGone)
    }
}

struct Actor {
    store: Store,
    exports: Exports,
    queue: mpsc::Receiver<Job>,
    changes: broadcast::Sender<Change>,
    writes: Arc<WriteClock>,
    /// Who the changes of this daemon's local sessions are by.
    local_user: Option<String>,
}

/// A write waiting for its batch to commit.
struct QueuedWrite {
    op: GraphOp,
    request_id: Option<u128>,
    origin: u64,
    author: Box<Author>,
    reply: AnswerTo<Outcome>,
}

impl Actor {
    fn run(mut self) {
        let mut jobs = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = self.queue.blocking_recv() {
            jobs.push(first);
            while jobs.len() < MAX_BATCH {
                match self.queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let wrote = jobs
                .iter()
                .any(|job| matches!(job, Job::Graph { op, .. } if op.is_write()));
            let mut writes = Vec::new();
            for job in jobs.drain(..) {
                match job {
                    Job::Graph {
                        op,
                        request_id,
                        origin,
                        author,
                        reply,
                    } if op.is_write() => writes.push(QueuedWrite {
                        op,
                        request_id,
                        origin,
                        author,
                        reply,
                    }),
                    other => {
                        // Whatever came before this job is committed first, so
                        // it sees every write queued ahead of it.
                        self.commit(std::mem::take(&mut writes));
                        self.serve(other);
                    }
                }
            }
            self.commit(writes);
            // Only writes grow the queue: a round of reads does not count it.
            if wrote {
                self.index_if_behind();
            }
        }
        // An open snapshot would keep the last checkpoint from emptying the WAL.
        self.exports.clear();
        if let Err(e) = self.store.close() {
            tracing::error!("closing the database: {}", crate::error_chain(&e));
        }
    }

    fn serve(&mut self, job: Job) {
        match job {
            Job::Graph { op, reply, .. } => {
                let _ = reply.send(self.store.read(&op).map_err(op_error));
            }
            Job::Counts { reply } => {
                let _ = reply.send(self.store.counts().map_err(op_error));
            }
            Job::Backup { target, reply } => {
                let _ = reply.send(self.store.backup_to(&target).map_err(op_error));
            }
            Job::Check { reply } => {
                let _ = reply.send(self.store.integrity_check().map_err(op_error));
            }
            Job::ExportPage {
                snapshot,
                after,
                reply,
            } => {
                let page = self
                    .exports
                    .page(&self.store, snapshot, after)
                    .map_err(|e| match e {
                        PageError::Store(e) => op_error(e),
                        PageError::Refused(e) => e,
                    });
                let _ = reply.send(page);
            }
            Job::Tokens(job) => job.serve(&mut self.store),
            Job::Projects { reply } => {
                let _ = reply.send(self.store.projects().map_err(op_error));
            }
            Job::Origins { name, limit, reply } => {
                let _ = reply.send(self.store.origins(&name, limit).map_err(op_error));
            }
            Job::Upkeep => {
                self.exports.expire();
                if let Err(e) = self.store.index_backlog() {
                    tracing::warn!("indexing queued rows: {}", crate::error_chain(&e));
                }
                if let Err(e) = self.forget_old_requests() {
                    tracing::warn!("pruning request ids: {}", crate::error_chain(&e));
                }
                if let Err(e) = self.store.merge_search(UPKEEP_MERGE_PAGES) {
                    tracing::warn!("merging search segments: {}", crate::error_chain(&e));
                }
                if let Err(e) = self.store.checkpoint() {
                    tracing::warn!("checkpoint: {}", crate::error_chain(&e));
                }
            }
        }
    }

    /// Indexes the queued search-index rows once there are a batch of them,
    /// after the writes that queued them were answered.
    fn index_if_behind(&mut self) {
        if let Err(e) = self.store.index_if_behind() {
            tracing::warn!("indexing queued rows: {}", crate::error_chain(&e));
        }
    }

    /// Request ids only need to outlive a client's retries (seconds); a
    /// day's worth keeps the table small.
    fn forget_old_requests(&mut self) -> Result<(), StoreError> {
        let mut batch = self.store.batch()?;
        batch.forget_requests_before(crate::store::now_millis() - REQUEST_ID_TTL_MS)?;
        batch.commit()
    }

    /// Runs the writes in one transaction, then answers them all.
    fn commit(&mut self, writes: Vec<QueuedWrite>) {
        let results = match writes.as_slice() {
            [] => return,
            [write] => vec![self.commit_alone(write)],
            writes => self.commit_together(writes),
        };
        self.writes
            .last_millis
            .store(crate::store::now_millis(), Ordering::Relaxed);
        self.writes.dirty.store(true, Ordering::Relaxed);
        for (write, result) in writes.into_iter().zip(results) {
            if result.is_ok() {
                // No subscriber is not an error: nobody is listening.
                let _ = self.changes.send(Change {
                    origin: write.origin,
                });
            }
            let _ = write.reply.send(result);
        }
    }

    /// A lone write is a transaction of its own, with no savepoint to pay
    /// for: the transaction is its atomicity.
    fn commit_alone(&mut self, write: &QueuedWrite) -> Result<Outcome, OpError> {
        let author = author_of(write, &self.local_user);
        let request_id = write.request_id.map(u128::to_be_bytes);
        self.store
            .apply_alone(&write.op, &author, request_id.as_ref().map(|id| &id[..]))
            .map_err(op_error)
    }

    /// Writes that queued up together: one transaction, each request in a
    /// savepoint of its own, so one that fails leaves the others standing.
    fn commit_together(&mut self, writes: &[QueuedWrite]) -> Vec<Result<Outcome, OpError>> {
        match self.store.batch() {
            Ok(mut batch) => {
                let results: Vec<Result<Outcome, OpError>> = writes
                    .iter()
                    .map(|w| {
                        let author = author_of(w, &self.local_user);
                        let result = match w.request_id {
                            Some(id) => batch.apply_once(&id.to_be_bytes(), &w.op, &author),
                            None => batch.apply_as(&w.op, &author),
                        };
                        result.map_err(op_error)
                    })
                    .collect();
                match batch.commit() {
                    Ok(()) => results,
                    Err(e) => {
                        let failure = op_error(e);
                        results.into_iter().map(|_| Err(failure.clone())).collect()
                    }
                }
            }
            Err(e) => {
                let failure = op_error(e);
                writes.iter().map(|_| Err(failure.clone())).collect()
            }
        }
    }
}

/// Who a write is credited to: its session's author, or else the user this
/// daemon runs as.
fn author_of(write: &QueuedWrite, local_user: &Option<String>) -> Author {
    let mut author = (*write.author).clone();
    if author.actor.is_none() {
        author.actor.clone_from(local_user);
    }
    author
}

fn op_error(e: StoreError) -> OpError {
    match e {
        StoreError::UnknownEntity(name) => OpError::UnknownEntity(name),
        StoreError::Invalid(limit) => OpError::Invalid(limit.to_string()),
        StoreError::Refused(message) => OpError::Refused(message),
        other => {
            let message = crate::error_chain(&other);
            tracing::error!("store: {message}");
            OpError::Storage(message)
        }
    }
}

mod exports;
/// The name of the user this daemon runs as: its sessions' actor.
fn local_user() -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| {
            // SAFETY: getuid has no preconditions.
            #[cfg(unix)]
            return Some(format!("uid {}", unsafe { libc::getuid() }));
            #[cfg(not(unix))]
            None
        })
}

#[cfg(test)]
mod tests;
mod tokens;
