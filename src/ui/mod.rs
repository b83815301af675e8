//! The web view (`memgraphd ui`): search, entities with their history, the
//! graph around them and the changes of every session, live, in a browser.
//!
//! It is a third face of the daemon, beside the local socket and the team
//! HTTP face, on a listener of its own on 127.0.0.1, started the first time
//! `memgraphd ui` asks for it ([`View::open`]) and kept until the daemon
//! stops. Its requests reach the graph only through the daemon's
//! [`DbHandle`], as a tool call does: reads, `undo` and
//! `supersede_observation` go through the writer actor and are recorded in
//! the history like any other change.
//!
//! - [`auth`]: single-use login tokens and the browser sessions.
//! - `guard`: what every request passes: the `Host` check, the session, CSRF
//!   for writes, and the security headers of every response.
//! - `api`: the JSON endpoints the page reads and writes through.
//! - `live`: recent changes as server-sent events, from the change feed.
//! - `assets`: the page itself, compiled into the binary.
//!
//! # Invariants
//! - Nothing but static assets is served without a session, and a session
//!   is only had for a login token from `memgraphd ui`, spent on first use.
//! - A request naming another `Host` than the view's own loopback address
//!   and port is refused (DNS rebinding); a write also needs a same-origin
//!   `Origin`, a JSON body and the session's CSRF token.
//! - The page makes no request but to the view: every asset is in the
//!   binary, and the Content-Security-Policy allows nothing else.

mod api;
mod assets;
pub mod auth;
mod guard;
mod live;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::daemon::actor::DbHandle;
use auth::Auth;

/// How long a stopping daemon waits for the view's connections to end.
const DRAIN: Duration = Duration::from_secs(3);

/// Why the view could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("binding the web view to {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("making a login token")]
    Token(#[from] crate::tokens::TokenError),
}

/// What the view's requests share.
struct App {
    db: DbHandle,
    auth: Auth,
    /// The address the view is bound to; the only `Host` it answers.
    addr: SocketAddr,
    /// Ids on the change feed, shared with the daemon's connections.
    next_origin: Arc<AtomicU64>,
    /// Open live streams: an open page keeps an idle daemon alive.
    streams: Arc<AtomicU64>,
    stop: CancellationToken,
}

struct Running {
    app: Arc<App>,
    task: tokio::task::JoinHandle<()>,
}

/// The daemon's web view: not serving until first opened.
pub struct View {
    db: DbHandle,
    next_origin: Arc<AtomicU64>,
    streams: Arc<AtomicU64>,
    stop: CancellationToken,
    running: tokio::sync::Mutex<Option<Running>>,
}

impl View {
    pub fn new(db: DbHandle, next_origin: Arc<AtomicU64>, stop: CancellationToken) -> View {
        View {
            db,
            next_origin,
            streams: Arc::default(),
            stop,
            running: tokio::sync::Mutex::new(None),
        }
    }

    /// Serves the view if it is not served yet (on `port`, or a free one),
    /// and answers its URL with a fresh login token in the fragment. A view
    /// already running keeps its port.
    pub async fn open(&self, port: Option<u16>) -> Result<String, UiError> {
        let mut running = self.running.lock().await;
        if running.as_ref().is_some_and(|r| r.task.is_finished()) {
            *running = None;
        }
        let running = match &mut *running {
            Some(running) => running,
            slot => slot.insert(self.start(port).await?),
        };
        let token = running.app.auth.mint_login(Instant::now())?;
        Ok(format!("http://{}/#token={token}", running.app.addr))
    }

    async fn start(&self, port: Option<u16>) -> Result<Running, UiError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0)));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| UiError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| UiError::Bind { addr, source })?;
        let app = Arc::new(App {
            db: self.db.clone(),
            auth: Auth::default(),
            addr,
            next_origin: self.next_origin.clone(),
            streams: self.streams.clone(),
            stop: self.stop.clone(),
        });
        let task = tokio::spawn(serve(listener, app.clone()));
        tracing::info!(%addr, "serving the web view");
        Ok(Running { app, task })
    }

    /// Where the view is served, if it is: `http://127.0.0.1:PORT/`.
    pub async fn url(&self) -> Option<String> {
        let running = self.running.lock().await;
        running
            .as_ref()
            .filter(|r| !r.task.is_finished())
            .map(|r| format!("http://{}/", r.app.addr))
    }

    /// Live streams open now; the daemon is not idle while one is.
    pub fn open_streams(&self) -> u64 {
        self.streams.load(Ordering::Relaxed)
    }

    /// Waits, briefly, for the view to finish once the daemon's stop token
    /// is cancelled, so that it lets go of the database handle.
    pub async fn close(&self) {
        let Some(mut running) = self.running.lock().await.take() else {
            return;
        };
        if tokio::time::timeout(DRAIN, &mut running.task)
            .await
            .is_err()
        {
            running.task.abort();
            let _ = running.task.await;
        }
    }
}

fn router(app: Arc<App>) -> axum::Router {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/login", post(api::login))
        .route("/api/session", get(api::session))
        .route("/api/search", get(api::search))
        .route("/api/entity", get(api::entity))
        .route("/api/neighbors", get(api::neighbors))
        .route("/api/changes", get(api::changes))
        .route("/api/projects", get(api::projects))
        .route("/api/undo", post(api::undo))
        .route("/api/supersede", post(api::supersede))
        .route("/api/live", get(live::stream))
        .fallback(assets::serve)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            guard::check,
        ))
        .with_state(app)
}

async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) {
    let stop = app.stop.clone();
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    if let Err(e) = served {
        tracing::error!("the web view's listener failed: {e}");
    }
}
