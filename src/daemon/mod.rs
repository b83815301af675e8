//! The daemon (`memgraphd serve`): the one process that owns a database.
//!
//! Start-up order: take the instance lock ([`crate::instance::lock`]),
//! check the socket's address and make its fallback directory
//! ([`crate::instance::address`]), open the store and start the writer actor
//! ([`actor`]), bind the socket ([`crate::instance::socket`]), accept.
//! `memgraphd doctor` runs the same steps short of serving.
//! Each connection runs as its own task (`connection`) that only talks to
//! the actor through a [`DbHandle`]. When writes stop for a few seconds the
//! actor does upkeep: a bounded merge of the search index, pruning old
//! request ids, a WAL checkpoint. A database that cannot be written is
//! served read-only.
//!
//! Shutdown (SIGTERM, SIGINT, a `Shutdown` request, or the idle timeout):
//! stop accepting and unlink the socket, so the next shim starts a fresh
//! daemon; cancel the connections (each finishes the call it is in); wait
//! for them; drop the last handle so the actor drains its queue, commits,
//! checkpoints the WAL and closes; release the lock.

pub mod actor;
mod connection;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use interprocess::local_socket::traits::tokio::Listener as _;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Paths;
use crate::instance::lock::{InstanceLock, LockError};
use crate::instance::{address, socket};
use crate::store::{Durability, Store, StoreError};
use actor::DbHandle;

/// How the daemon runs.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub paths: Paths,
    pub durability: Durability,
    /// Exit after this long with no connection.
    pub idle_timeout: Option<Duration>,
    /// Also serve MCP over HTTP ([`crate::http`]).
    pub http: Option<crate::http::HttpConfig>,
    /// A replicator (Litestream) owns the WAL's checkpoints.
    pub replicated: bool,
}

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("opening the database {path}")]
    Store {
        path: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error(transparent)]
    SocketPath(#[from] crate::instance::address::SocketPathError),
    #[error("binding the socket {path}")]
    Bind {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the database thread")]
    Thread(#[source] std::io::Error),
    #[error("installing signal handlers")]
    Signals(#[source] std::io::Error),
    #[error("starting the HTTP listener")]
    Http(#[from] crate::http::HttpError),
    #[error("loading the bearer tokens")]
    Tokens(#[source] actor::DbError),
}

impl DaemonError {
    /// Another daemon already serves the database: not a failure, just
    /// nothing to do (this is how concurrent auto-spawns resolve).
    pub fn is_already_running(&self) -> bool {
        matches!(self, DaemonError::Lock(LockError::Held))
    }
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub db: DbHandle,
    pub paths: Paths,
    pub started: Instant,
    /// Open connections of any kind; the daemon is idle at zero.
    pub connections: AtomicU64,
    /// Open connections from MCP sessions (shims), for `status`.
    pub sessions: AtomicU64,
    /// Ids of connections, and of HTTP sessions on the change feed.
    pub next_connection: Arc<AtomicU64>,
    pub stop: CancellationToken,
    /// The valid bearer tokens, kept in step with every token change.
    pub tokens: Arc<crate::tokens::TokenCache>,
    /// The HTTP face, if it runs: its URL and whether it is plain HTTP off
    /// loopback.
    pub http: Option<(String, bool)>,
    /// Open HTTP sessions.
    pub http_sessions: Arc<AtomicU64>,
    /// The web view, served once `memgraphd ui` asks for it.
    pub ui: crate::ui::View,
}

/// Upkeep (search merging, WAL checkpoint) runs after this long without a
/// write.
const UPKEEP_AFTER: Duration = Duration::from_secs(5);
/// How long shutdown waits for HTTP requests in progress.
const HTTP_DRAIN: Duration = Duration::from_secs(5);

/// Runs the daemon until it is asked to stop.
pub async fn run(config: DaemonConfig) -> Result<(), DaemonError> {
    let paths = config.paths;
    let lock = InstanceLock::acquire(&paths.lock)?;
    address::prepare_path(&paths)?;
    let store_path = paths.db.clone();
    let durability = config.durability;
    let replicated = config.replicated;
    let store = tokio::task::spawn_blocking(move || {
        let mut store = open_store(&store_path, durability)?;
        if replicated {
            store.leave_checkpoints_to_replicator();
        }
        Ok(store)
    })
    .await
    .map_err(|e| DaemonError::Thread(std::io::Error::other(e)))?
    .map_err(|source| DaemonError::Store {
        path: paths.db.clone(),
        source,
    })?;
    let (db, db_thread) = DbHandle::spawn(store).map_err(DaemonError::Thread)?;
    let tokens = Arc::new(crate::tokens::TokenCache::default());
    let http = match config.http {
        Some(http) => {
            // Loaded before the socket is bound, so no token change can
            // race the load.
            tokens.load(db.token_hashes().await.map_err(DaemonError::Tokens)?);
            Some(crate::http::bind(http).await?)
        }
        None => None,
    };
    let listener = socket::bind(&paths.socket).map_err(|source| DaemonError::Bind {
        path: paths.socket.clone(),
        source,
    })?;
    tracing::info!(
        pid = std::process::id(),
        version = env!("CARGO_PKG_VERSION"),
        db = %paths.db.display(),
        socket = %paths.socket.display(),
        replicated,
        "daemon started"
    );

    let stop = CancellationToken::new();
    let next_connection = Arc::new(AtomicU64::new(1));
    let ui = crate::ui::View::new(db.clone(), next_connection.clone(), stop.clone());
    let shared = Arc::new(Shared {
        db,
        paths,
        started: Instant::now(),
        connections: AtomicU64::new(0),
        sessions: AtomicU64::new(0),
        next_connection,
        stop,
        tokens,
        http: http.as_ref().map(|b| (b.url(), b.insecure())),
        http_sessions: Arc::default(),
        ui,
    });
    let http_task = http.map(|bound| {
        tokio::spawn(crate::http::serve(
            bound,
            crate::http::Daemon {
                db: shared.db.clone(),
                tokens: shared.tokens.clone(),
                next_origin: shared.next_connection.clone(),
                sessions: shared.http_sessions.clone(),
                stop: shared.stop.clone(),
            },
        ))
    });
    let tracker = TaskTracker::new();
    let signals = shutdown_signals(shared.stop.clone()).map_err(DaemonError::Signals)?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut idle_since = Some(Instant::now());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    if !socket::peer_is_same_user(&stream) {
                        tracing::warn!("refused a connection from another user");
                        continue;
                    }
                    idle_since = None;
                    tracker.spawn(connection::serve(stream, shared.clone()));
                }
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = tick.tick() => {
                shared.db.upkeep_if_quiet(UPKEEP_AFTER);
                // Idle is judged here, in the loop that accepts, so it cannot
                // race a shim that is connecting.
                // An open page of the web view keeps its live stream open.
                let open = shared.connections.load(Ordering::Relaxed)
                    + shared.http_sessions.load(Ordering::Relaxed)
                    + shared.ui.open_streams();
                match (open, idle_since) {
                    (0, None) => idle_since = Some(Instant::now()),
                    (0, Some(since)) => {
                        if config.idle_timeout.is_some_and(|limit| since.elapsed() >= limit) {
                            tracing::info!("idle timeout reached");
                            shared.stop.cancel();
                        }
                    }
                    _ => idle_since = None,
                }
            }
            _ = shared.stop.cancelled() => break,
        }
    }

    tracing::info!("shutting down");
    drop(listener); // Unlinks the socket: the next shim starts a new daemon.
    tracker.close();
    tracker.wait().await;
    shared.ui.close().await;
    if let Some(mut task) = http_task {
        // Its sessions end with the stop token; a client that holds a
        // connection open is not waited for long.
        if tokio::time::timeout(HTTP_DRAIN, &mut task).await.is_err() {
            task.abort();
            let _ = task.await;
        }
    }
    signals.abort();
    // The last handle goes with `shared`; the actor then drains and closes.
    drop(shared);
    if tokio::task::spawn_blocking(move || db_thread.join())
        .await
        .map_or(true, |joined| joined.is_err())
    {
        tracing::error!("the database thread panicked");
    }
    drop(lock);
    tracing::info!("stopped");
    Ok(())
}

/// Opens the store; if the file or its directory cannot be written, opens
/// it read-only so that sessions can still read their memory.
fn open_store(path: &std::path::Path, durability: Durability) -> Result<Store, StoreError> {
    match Store::open(path, durability) {
        Err(e) if e.is_unwritable() && path.exists() => {
            let reason = format!(
                "{} cannot be written ({}); reads work, writes are refused until it can",
                path.display(),
                crate::error_chain(&e)
            );
            tracing::warn!("{reason}");
            Store::open_read_only(path, reason)
        }
        other => other,
    }
}

/// Cancels `stop` on SIGTERM or SIGINT (Ctrl-C).
fn shutdown_signals(stop: CancellationToken) -> std::io::Result<tokio::task::JoinHandle<()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = int.recv() => tracing::info!("SIGINT"),
            }
            stop.cancel();
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                stop.cancel();
            }
        }))
    }
}
