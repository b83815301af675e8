//! Where the shim's operations run: an in-process writer actor over the
//! database, started on the first call so that `initialize` never waits for it.
//!
//! The MCP handler only sees [`Backend::call`] and [`Backend::foreign_changes`],
//! so moving the store behind the daemon's socket changes this file and
//! nothing in the handler.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread::JoinHandle;

use tokio::sync::{broadcast, OnceCell};

use crate::daemon::actor::{DbError, DbHandle};
use crate::model::{GraphOp, OpError, Outcome};
use crate::store::{Durability, Store};

/// Why a call produced no outcome.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// The operation was refused; nothing changed.
    #[error(transparent)]
    Op(#[from] OpError),
    /// The store could not be reached. `may_have_written` says whether a write
    /// could have been applied before the failure.
    #[error("memory store unavailable: {reason}")]
    Unavailable {
        reason: String,
        may_have_written: bool,
    },
}

/// How the shim reaches the graph.
pub struct Backend {
    db_path: PathBuf,
    durability: Durability,
    db: OnceCell<DbHandle>,
    actor: Mutex<Option<JoinHandle<()>>>,
    /// This session's id on the change feed, so its own writes are not
    /// announced to it twice.
    origin: u64,
    foreign: broadcast::Sender<()>,
    next_request: AtomicU64,
}

impl Backend {
    pub fn new(db_path: PathBuf, durability: Durability) -> Backend {
        let (foreign, _) = broadcast::channel(64);
        Backend {
            db_path,
            durability,
            db: OnceCell::new(),
            actor: Mutex::new(None),
            origin: u64::from(std::process::id()),
            foreign,
            next_request: AtomicU64::new(1),
        }
    }

    /// Runs one operation.
    pub async fn call(&self, op: GraphOp) -> Result<Outcome, CallError> {
        let is_write = op.is_write();
        let db = self.connect().await?;
        let request_id = is_write.then(|| self.request_id());
        db.run(op, request_id, self.origin)
            .await
            .map_err(|e| match e {
                DbError::Op(e) => CallError::Op(e),
                DbError::Gone(gone) => CallError::Unavailable {
                    reason: gone.to_string(),
                    may_have_written: is_write,
                },
            })
    }

    /// A notice for every write made by another session. In-process there
    /// is no other session, so this stays silent until the daemon lands.
    pub fn foreign_changes(&self) -> broadcast::Receiver<()> {
        self.foreign.subscribe()
    }

    /// Stops the actor after its queue drains, so every write is committed
    /// and the WAL checkpointed before the process exits.
    pub fn close(self) {
        let Backend { db, actor, .. } = self;
        drop(db);
        if let Some(thread) = actor.into_inner().ok().flatten() {
            if thread.join().is_err() {
                tracing::error!("the database thread panicked");
            }
        }
    }

    fn request_id(&self) -> u128 {
        let seq = self.next_request.fetch_add(1, Ordering::Relaxed);
        (u128::from(self.origin) << 96)
            | (u128::from(crate::store::now_millis() as u64) << 32)
            | u128::from(seq)
    }

    async fn connect(&self) -> Result<&DbHandle, CallError> {
        self.db
            .get_or_try_init(|| async {
                let path = self.db_path.clone();
                let durability = self.durability;
                let store = tokio::task::spawn_blocking(move || Store::open(&path, durability))
                    .await
                    .map_err(|e| unavailable(e.to_string()))?
                    .map_err(|e| unavailable(crate::error_chain(&e)))?;
                let (db, thread) =
                    DbHandle::spawn(store).map_err(|e| unavailable(e.to_string()))?;
                if let Ok(mut actor) = self.actor.lock() {
                    *actor = Some(thread);
                }
                Ok(db)
            })
            .await
    }
}

fn unavailable(reason: String) -> CallError {
    CallError::Unavailable {
        reason,
        may_have_written: false,
    }
}
