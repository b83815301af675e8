//! What every request to the web view passes, in this order:
//!
//! 1. **Host**: the `Host` header must be the view's own `127.0.0.1:PORT`;
//!    anything else (a rebinding attacker's name, `localhost`, another port)
//!    is `403`.
//! 2. Static assets carry no data and are served to anyone past the Host
//!    check. Everything under `/api/` needs more:
//! 3. **A write** (`POST`) needs `Origin: http://127.0.0.1:PORT` and a JSON
//!    body: a cross-site form can send neither. Else `403`.
//! 4. **The session cookie** (except to log in): without an open session,
//!    `401`, which the page turns into "run `memgraphd ui` again".
//! 5. **CSRF**: a write also needs the session's token in `X-CSRF-Token`.
//!
//! Every response, refusals included, gets the security headers: a strict
//! Content-Security-Policy (our own scripts and styles only, no inline
//! code, no frames, no request to anywhere else), `nosniff`, no referrer,
//! and `no-store`.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::App;

/// The policy of every response. `img-src data:` is for the PNG the graph
/// library exports; nothing of ours needs more.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";
/// The header the page sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The name of the session cookie: cookies do not keep ports apart, so the
/// views of two databases on one machine each have their own name.
pub fn cookie_name(app: &App) -> String {
    format!("memgraphd_ui_{}", app.addr.port())
}

fn own_authority(app: &App) -> String {
    app.addr.to_string()
}

fn host_is_ours(app: &App, headers: &HeaderMap) -> bool {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| host.trim() == own_authority(app))
}

fn origin_is_ours(app: &App, headers: &HeaderMap) -> bool {
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|origin| origin.trim() == format!("http://{}", own_authority(app)))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The cookie a request was let through with, for the live stream, which
/// checks now and then that its session is still open.
#[derive(Clone)]
pub struct SessionCookie(pub String);

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn refuse(status: StatusCode, text: &'static str) -> Response {
    let mut response = Response::new(Body::from(format!("{{\"error\":\"{text}\"}}")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The middleware: the checks of the module doc, then the route.
pub async fn check(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let mut response = match admit(&app, &mut request) {
        Ok(()) => next.run(request).await,
        Err((status, why)) => refuse(status, why),
    };
    secure(response.headers_mut());
    response
}

/// Lets the request through (with its session, if it needs one), or says
/// why not.
fn admit(app: &App, request: &mut Request) -> Result<(), (StatusCode, &'static str)> {
    let headers = request.headers();
    if !host_is_ours(app, headers) {
        return Err((
            StatusCode::FORBIDDEN,
            "forbidden: the web view answers only at its own address",
        ));
    }
    let path = request.uri().path();
    if !path.starts_with("/api/") {
        return Ok(());
    }
    let write = request.method() == Method::POST;
    if write && !(origin_is_ours(app, headers) && is_json(headers)) {
        return Err((
            StatusCode::FORBIDDEN,
            "forbidden: a write needs a same-origin JSON request",
        ));
    }
    if path == "/api/login" {
        return Ok(());
    }
    let presented = cookie(headers, &cookie_name(app));
    let session = presented
        .as_deref()
        .and_then(|value| app.auth.session(value, Instant::now()));
    let (Some(session), Some(presented)) = (session, presented) else {
        return Err((
            StatusCode::UNAUTHORIZED,
            "no session: run memgraphd ui again to log in",
        ));
    };
    if write {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        let matches = presented.is_some_and(|p| {
            crate::tokens::digests_equal(
                &crate::tokens::hash(p),
                &crate::tokens::hash(&session.csrf),
            )
        });
        if !matches {
            return Err((
                StatusCode::FORBIDDEN,
                "forbidden: the CSRF token is missing or wrong; reload the page",
            ));
        }
    }
    request.extensions_mut().insert(session);
    request.extensions_mut().insert(SessionCookie(presented));
    Ok(())
}

/// The security headers of every response.
fn secure(headers: &mut HeaderMap) {
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::CACHE_CONTROL, "no-store");
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
}
