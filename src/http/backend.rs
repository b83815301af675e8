//! The backend of an HTTP session: operations go straight to the writer
//! actor through the daemon's [`DbHandle`], and change notices come from
//! its change feed, as for a socket connection (`daemon::connection`), but
//! without a socket or a frame in between.
//!
//! **History hook.** [`Backend::actor`] is the name of the bearer token
//! that opened the session. Recording who made a change means passing it
//! with each write, from [`LocalBackend::call`] to the actor, where the
//! change row is written.

use std::sync::Mutex;

use tokio::sync::broadcast;

use crate::daemon::actor::{DbError, DbHandle};
use crate::model::{Author, GraphOp, Outcome};
use crate::shim::backend::{Backend, BackendFuture, CallError};

/// Notices kept for a session that is slow to take them.
const NOTICES: usize = 64;

/// One HTTP session's way to the graph.
pub struct LocalBackend {
    db: DbHandle,
    /// This session's id on the change feed, unique among the daemon's
    /// connections and sessions, so it can skip its own changes.
    origin: u64,
    /// The token's name.
    actor: String,
    notices: broadcast::Sender<()>,
    /// The task that turns the feed into notices, while subscribed.
    feed: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl LocalBackend {
    pub fn new(db: DbHandle, origin: u64, actor: String) -> LocalBackend {
        LocalBackend {
            db,
            origin,
            actor,
            notices: broadcast::channel(NOTICES).0,
            feed: Mutex::new(None),
        }
    }

    fn subscribe(&self) {
        let Ok(mut feed) = self.feed.lock() else {
            return;
        };
        if feed.is_some() {
            return;
        }
        let mut changes = self.db.subscribe();
        let notices = self.notices.clone();
        let origin = self.origin;
        *feed = Some(tokio::spawn(async move {
            loop {
                let notify = match changes.recv().await {
                    Ok(change) => change.origin != origin,
                    // Some notices were missed: one more says the same.
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                // Nobody listening yet is fine: the notice is just dropped.
                if notify {
                    let _ = notices.send(());
                }
            }
        }));
    }

    fn unsubscribe(&self) {
        if let Some(task) = self.feed.lock().ok().and_then(|mut feed| feed.take()) {
            task.abort();
        }
    }
}

impl Drop for LocalBackend {
    fn drop(&mut self) {
        self.unsubscribe();
    }
}

impl Backend for LocalBackend {
    fn call(&self, op: GraphOp, author: Option<Author>) -> BackendFuture<'_, Outcome> {
        Box::pin(async move {
            let is_write = op.is_write();
            // The token's name is the actor of every change made with it.
            let mut author = Box::new(author.unwrap_or_default());
            author.actor = Some(self.actor.clone());
            // No request id: nothing retries between here and the actor.
            self.db
                .run_by(op, None, self.origin, author)
                .await
                .map_err(|e| match e {
                    DbError::Op(e) => CallError::Op(e),
                    DbError::Gone(gone) => CallError::Unavailable {
                        reason: gone.to_string(),
                        may_have_written: is_write,
                    },
                })
        })
    }

    fn set_subscribed(&self, on: bool) -> BackendFuture<'_, ()> {
        if on {
            self.subscribe();
        } else {
            self.unsubscribe();
        }
        Box::pin(async { Ok(()) })
    }

    fn foreign_changes(&self) -> broadcast::Receiver<()> {
        self.notices.subscribe()
    }

    fn actor(&self) -> Option<&str> {
        Some(&self.actor)
    }
}
