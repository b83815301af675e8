//! What every HTTP request passes before it reaches MCP, in this order:
//!
//! 1. **Host and Origin** (DNS rebinding): the `Host` header, and the
//!    `Origin` header when a browser sends one, must name an allowed host:
//!    loopback names, the address the daemon is bound to, and each
//!    `--http-allow-host`. Otherwise `403`.
//! 2. `/.well-known/*` is `404`: no OAuth metadata is published, so a
//!    client uses the static bearer header it was given.
//! 3. A body announced over [`MAX_BODY`] is `413` before any of it is read;
//!    rmcp enforces the same bound while it reads a body without a length.
//! 4. **The bearer token**, on every request, not only at `initialize`:
//!    without a valid one, `401` with `WWW-Authenticate: Bearer`. A session
//!    belongs to the token that opened it; another token cannot use it.
//! 5. **At most [`PER_TOKEN`] requests in flight per token** (POST and
//!    DELETE, counted until their response ends; the long-lived GET stream
//!    of notices is not work). One more is refused with `429` and
//!    `Retry-After: 1` rather than queued: a queue would hold connections
//!    and hide the overload from the client that causes it, and the other
//!    tokens are not slowed either way.
//!
//! The token's name is then the actor of the request: it is in scope as
//! [`ACTOR`] while rmcp handles the request, which is where a new session's
//! handler is made.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use crate::daemon::actor::DbHandle;
use crate::tokens::{TokenCache, TokenHash};

/// The largest request body: the MCP message limit of the stdio transport.
pub const MAX_BODY: usize = crate::limits::MAX_MESSAGE_BYTES;
/// Requests of one token being served at once.
pub const PER_TOKEN: usize = 16;
/// A token's last use is written to the database at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// The session header of Streamable HTTP.
const SESSION_ID: &str = "mcp-session-id";
/// Every this many new sessions, the owners of sessions rmcp has ended
/// (closed by their client, or idle too long) are forgotten.
const PRUNE_EVERY: usize = 256;

tokio::task_local! {
    /// The name of the token of the request being handled.
    pub static ACTOR: String;
}

/// The state of the checks, shared by every request.
pub struct Gate {
    allowed_hosts: Vec<String>,
    tokens: Arc<TokenCache>,
    db: DbHandle,
    in_flight: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Which token opened each session.
    sessions: Mutex<HashMap<String, String>>,
    /// rmcp's sessions, to forget the owners of ended ones.
    manager: Arc<LocalSessionManager>,
    /// When each token's use was last written, by name, with the digest of
    /// the token of that name then (a name revoked and added again is a new
    /// token).
    touched: Mutex<HashMap<String, (TokenHash, i64)>>,
}

impl Gate {
    pub fn new(
        allowed_hosts: Vec<String>,
        tokens: Arc<TokenCache>,
        db: DbHandle,
        manager: Arc<LocalSessionManager>,
    ) -> Gate {
        Gate {
            allowed_hosts,
            tokens,
            db,
            manager,
            in_flight: Mutex::default(),
            sessions: Mutex::default(),
            touched: Mutex::default(),
        }
    }

    /// Forgets the sessions of a revoked token and returns their ids, so
    /// they can be closed.
    pub fn sessions_of(&self, name: &str) -> Vec<String> {
        let Ok(mut sessions) = self.sessions.lock() else {
            return Vec::new();
        };
        let ids: Vec<String> = sessions
            .iter()
            .filter(|(_, owner)| *owner == name)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            sessions.remove(id);
        }
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(name);
        }
        ids
    }

    fn host_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let Some(host) = authority(host) else {
            return false;
        };
        if !allowed(&host, &self.allowed_hosts) {
            return false;
        }
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
                .and_then(|(_, rest)| authority(rest))
                .is_some_and(|origin| allowed(&origin, &self.allowed_hosts)),
        }
    }

    fn permit(&self, name: &str) -> Option<OwnedSemaphorePermit> {
        let semaphore = self
            .in_flight
            .lock()
            .ok()?
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_TOKEN)))
            .clone();
        semaphore.try_acquire_owned().ok()
    }

    /// Records the owner of a new session, and now and then forgets those
    /// of sessions that have ended.
    async fn opened(&self, session: &str, name: String) {
        let count = match self.sessions.lock() {
            Ok(mut sessions) => {
                sessions.insert(session.to_owned(), name);
                sessions.len()
            }
            Err(_) => return,
        };
        if count % PRUNE_EVERY == 0 {
            let live: std::collections::HashSet<String> = self
                .manager
                .sessions
                .read()
                .await
                .keys()
                .map(|id| id.to_string())
                .collect();
            if let Ok(mut sessions) = self.sessions.lock() {
                sessions.retain(|id, _| live.contains(id));
            }
        }
    }

    fn owner(&self, session: &str) -> Option<String> {
        self.sessions.lock().ok()?.get(session).cloned()
    }

    fn touch(&self, name: &str, digest: TokenHash) {
        let now = crate::store::now_millis();
        let Ok(mut touched) = self.touched.lock() else {
            return;
        };
        let due = match touched.get(name) {
            Some((known, last)) => *known != digest || now - last >= TOUCH_EVERY_MS,
            None => true,
        };
        if due {
            touched.insert(name.to_owned(), (digest, now));
            self.db.tokens_used(vec![(name.to_owned(), now)]);
        }
    }
}

/// A host and optional port, lower-cased, without IPv6 brackets.
fn authority(text: &str) -> Option<(String, Option<u16>)> {
    let authority = axum::http::uri::Authority::try_from(text.trim()).ok()?;
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    Some((host, authority.port_u16()))
}

/// An entry `HOST` allows that host on any port; `HOST:PORT` only that port.
fn allowed(host: &(String, Option<u16>), list: &[String]) -> bool {
    list.iter()
        .map(|entry| {
            // A bare IPv6 address such as `::1` is not an authority.
            authority(entry).unwrap_or_else(|| {
                let name = entry.trim().trim_start_matches('[').trim_end_matches(']');
                (name.to_ascii_lowercase(), None)
            })
        })
        .any(|(name, port)| name == host.0 && port.is_none_or(|port| host.1 == Some(port)))
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The middleware: the checks of the module doc, then MCP.
pub async fn check(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    if !gate.host_allowed(request.headers()) {
        return plain(
            StatusCode::FORBIDDEN,
            "forbidden: this host or origin is not allowed (see --http-allow-host)\n",
        );
    }
    if request.uri().path().starts_with("/.well-known/") {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    }
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > MAX_BODY as u64) {
        return plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large: a message is at most 8 MiB\n",
        );
    }
    let Some((name, digest)) = bearer(request.headers()).and_then(|token| gate.tokens.check(token))
    else {
        let mut response = plain(
            StatusCode::UNAUTHORIZED,
            "unauthorized: send Authorization: Bearer <token> (memgraphd token add NAME)\n",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    };
    gate.touch(&name, digest);
    let session = request
        .headers()
        .get(SESSION_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(id) = &session {
        // A session opened with another token is, to this one, not there.
        if gate.owner(id).is_some_and(|owner| owner != name) {
            return plain(StatusCode::NOT_FOUND, "Not Found: Session not found");
        }
    }
    let permit = if matches!(*request.method(), Method::POST | Method::DELETE) {
        match gate.permit(&name) {
            Some(permit) => Some(permit),
            None => {
                let mut response = plain(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many requests in flight for this token; retry shortly\n",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
        }
    } else {
        None
    };
    let response = ACTOR.scope(name.clone(), next.run(request)).await;
    match &session {
        None => {
            if let Some(id) = response
                .headers()
                .get(SESSION_ID)
                .and_then(|v| v.to_str().ok())
            {
                let id = id.to_owned();
                gate.opened(&id, name).await;
            }
        }
        Some(id) if response.status() == StatusCode::NOT_FOUND => {
            if let Ok(mut sessions) = gate.sessions.lock() {
                sessions.remove(id);
            }
        }
        Some(_) => {}
    }
    match permit {
        Some(permit) => response.map(|body| {
            Body::new(Held {
                body,
                _permit: permit,
            })
        }),
        None => response,
    }
}

/// A response body that holds its token's in-flight permit until it ends.
struct Held {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests;
