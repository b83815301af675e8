//! The daemon's HTTP face (`memgraphd serve --http ADDR:PORT`): MCP over
//! Streamable HTTP at `/mcp`, for a team sharing one memory.
//!
//! It is a second listener of the daemon beside the local socket. rmcp's
//! streamable HTTP server, mounted in axum, runs one session per client;
//! each session's handler is the shim's own tool layer
//! ([`crate::shim::server::MemoryServer`], wrapped by [`session`]) over a
//! [`backend::LocalBackend`] that sends operations to the same writer actor
//! as every socket connection. So an HTTP session and a local shim see each
//! other's writes, and each other's change notices, at once; nothing here
//! touches SQLite.
//!
//! - [`gate`]: the checks every request passes (host, origin, body size,
//!   bearer token, requests in flight per token), and who the actor is.
//! - [`backend`]: the in-process backend of a session.
//! - [`session`]: the session handler: the shim's, plus change notices.
//! - [`tls`]: HTTPS with rustls.
//!
//! # Invariants
//! - Nothing is served without a valid bearer token, checked on every
//!   request; a revoked token's sessions are closed.
//! - A non-loopback address is served over TLS, or, when the operator said
//!   `--insecure-http`, over plain HTTP with a warning in the log and in
//!   `status`: tokens then travel in clear.

pub mod backend;
pub mod gate;
pub mod session;
pub mod tls;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::SessionManager as _;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::daemon::actor::DbHandle;
use crate::project::Inputs;
use crate::provenance::generated_session_id;
use crate::shim::backend::Backend;
use crate::shim::server::MemoryServer;
use crate::shim::session::Session;
use crate::tokens::TokenCache;
use backend::LocalBackend;
use gate::Gate;
use session::HttpSession;

/// How the HTTP face is served.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub addr: SocketAddr,
    /// Hosts allowed besides the loopback names and the bound address:
    /// `HOST` (any port) or `HOST:PORT`.
    pub allow_hosts: Vec<String>,
    /// Serve HTTPS with this certificate and key.
    pub tls: Option<tls::TlsFiles>,
    /// Serve plain HTTP on a non-loopback address.
    pub insecure: bool,
    /// The size guard and tool set of every HTTP session, as for a shim.
    pub settings: crate::shim::call::Settings,
}

/// Why the HTTP face could not start.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("serving {addr} over plain HTTP would send every bearer token in clear; give --tls-cert and --tls-key, bind a loopback address, or pass --insecure-http")]
    NeedsTls { addr: SocketAddr },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("binding {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The listener, bound at start-up so that a taken port stops the daemon
/// before it serves anything.
pub struct Bound {
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    config: HttpConfig,
    local: SocketAddr,
}

impl Bound {
    /// The address actually bound (port 0 picks a free one).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The URL of the MCP endpoint.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/mcp", self.local)
    }

    /// Plain HTTP on an address others can reach.
    pub fn insecure(&self) -> bool {
        self.tls.is_none() && !self.local.ip().is_loopback()
    }
}

/// Binds the HTTP listener; refuses plain HTTP off loopback unless asked.
pub async fn bind(config: HttpConfig) -> Result<Bound, HttpError> {
    let addr = config.addr;
    if !addr.ip().is_loopback() && config.tls.is_none() && !config.insecure {
        return Err(HttpError::NeedsTls { addr });
    }
    let tls = config.tls.as_ref().map(tls::acceptor).transpose()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| HttpError::Bind { addr, source })?;
    if tls.is_none() && !local.ip().is_loopback() {
        tracing::warn!(
            "serving MCP over plain HTTP on {local} (--insecure-http): bearer tokens travel in clear"
        );
    }
    Ok(Bound {
        listener,
        tls,
        config,
        local,
    })
}

/// What the HTTP face needs from the daemon.
pub struct Daemon {
    pub db: DbHandle,
    pub tokens: Arc<TokenCache>,
    /// The daemon's counter of connection ids, so a session's id on the
    /// change feed never equals a socket connection's.
    pub next_origin: Arc<AtomicU64>,
    /// Open HTTP sessions, for `status`.
    pub sessions: Arc<AtomicU64>,
    pub stop: CancellationToken,
}

/// The hosts a request may name: loopback, the bound address, and the
/// operator's list.
fn allowed_hosts(bound: &Bound) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    let ip = bound.local.ip();
    if !ip.is_unspecified() && !hosts.contains(&ip.to_string()) {
        hosts.push(match ip {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        });
    }
    hosts.extend(bound.config.allow_hosts.iter().cloned());
    hosts
}

/// Serves until `daemon.stop` is cancelled.
pub async fn serve(bound: Bound, daemon: Daemon) {
    let hosts = allowed_hosts(&bound);
    let manager = Arc::new(LocalSessionManager::default());
    let gate = Arc::new(Gate::new(
        hosts.clone(),
        daemon.tokens.clone(),
        daemon.db.clone(),
        manager.clone(),
    ));
    let factory = {
        let db = daemon.db.clone();
        let next_origin = daemon.next_origin.clone();
        let sessions = daemon.sessions.clone();
        let settings = bound.config.settings;
        move || {
            // The gate sets the actor for every request it lets through.
            let actor = gate::ACTOR
                .try_with(Clone::clone)
                .map_err(|_| std::io::Error::other("a session needs a checked token"))?;
            let origin = next_origin.fetch_add(1, Ordering::Relaxed);
            let backend: Arc<dyn Backend> = Arc::new(LocalBackend::new(db.clone(), origin, actor));
            // The daemon's own environment and directory say nothing of
            // where a remote client works: only its roots give a project.
            let session = Session::new(generated_session_id(), Inputs::default());
            let server = MemoryServer::with_session(backend.clone(), settings, session)
                .map_err(std::io::Error::other)?;
            Ok(HttpSession::new(server, backend, sessions.clone()))
        }
    };
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_max_request_body_bytes(gate::MAX_BODY)
        .with_cancellation_token(daemon.stop.child_token());
    let mcp = StreamableHttpService::new(factory, manager.clone(), config);
    let app = axum::Router::new()
        .route_service("/mcp", mcp)
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(axum::middleware::from_fn_with_state(
            gate.clone(),
            gate::check,
        ));
    let revocations = tokio::spawn(close_revoked(daemon.tokens.revocations(), gate, manager));
    tracing::info!(url = %bound.url(), "serving MCP over HTTP");
    let stop = daemon.stop.clone();
    let served = match bound.tls {
        Some(acceptor) => {
            let listener = tls::TlsListener::new(bound.listener, acceptor, bound.local);
            run(listener, app, stop).await
        }
        None => run(bound.listener, app, stop).await,
    };
    if let Err(e) = served {
        tracing::error!("the HTTP listener failed: {e}");
    }
    revocations.abort();
}

async fn run<L>(listener: L, app: axum::Router, stop: CancellationToken) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

/// Closes the sessions of every token revoked, so their streams end too.
async fn close_revoked(
    mut revoked: tokio::sync::broadcast::Receiver<String>,
    gate: Arc<Gate>,
    manager: Arc<LocalSessionManager>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match revoked.recv().await {
            Ok(name) => {
                for id in gate.sessions_of(&name) {
                    if let Err(e) = manager.close_session(&id.as_str().into()).await {
                        tracing::debug!("closing session {id}: {e}");
                    }
                }
                tracing::info!(token = %name, "token revoked; its sessions are closed");
            }
            Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
    }
}
