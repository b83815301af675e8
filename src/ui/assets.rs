//! The page: plain HTML, CSS and ES modules, with no build step, compiled
//! into the binary so that the view works offline and asks nothing of any
//! other server. They carry no data; what they show they fetch from the
//! JSON endpoints with the session.
//!
//! The graph is drawn by Cytoscape.js, vendored unchanged in `vendor/`
//! with its licence (see `vendor/README.md` for its version and source).

use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Path, content type, bytes.
const FILES: &[(&str, &str, &[u8])] = &[
    ("/", HTML, include_bytes!("assets/index.html")),
    ("/style.css", CSS, include_bytes!("assets/style.css")),
    ("/app.js", JS, include_bytes!("assets/app.js")),
    ("/api.js", JS, include_bytes!("assets/api.js")),
    ("/dom.js", JS, include_bytes!("assets/dom.js")),
    ("/search.js", JS, include_bytes!("assets/search.js")),
    ("/entity.js", JS, include_bytes!("assets/entity.js")),
    ("/graph.js", JS, include_bytes!("assets/graph.js")),
    ("/changes.js", JS, include_bytes!("assets/changes.js")),
    (
        "/vendor/cytoscape.esm.min.js",
        JS,
        include_bytes!("assets/vendor/cytoscape.esm.min.js"),
    ),
    (
        "/vendor/cytoscape.LICENSE",
        TEXT,
        include_bytes!("assets/vendor/cytoscape.LICENSE"),
    ),
];

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Serves the asset at the request's path; `404` for anything else.
pub async fn serve(uri: Uri) -> Response {
    let Some((_, kind, bytes)) = FILES.iter().find(|(path, _, _)| *path == uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let mut response = (*bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    response
}
