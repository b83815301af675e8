//! The JSON endpoints of the web view. Each one is a bounded read or one
//! write, run through the daemon's [`DbHandle`](crate::daemon::actor::DbHandle)
//! as a tool call would be: the same operations, limits and history.
//!
//! The JSON here is the page's, not the MCP contract: it is built from the
//! model types with `json!` and may change with the page.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Session;
use super::{guard, App};
use crate::daemon::actor::DbError;
use crate::model::{
    Author, ChangeInfo, Direction, EntitySummary, GraphOp, HistoryQuery, MemorySearch,
    NeighborQuery, OpError, Outcome, RankResume, Relation, SearchScope,
};

/// Search results per page.
const SEARCH_PAGE: u32 = 20;
/// Observations shown on an entity's page.
const OBSERVATIONS: u32 = 200;
/// Relations listed on an entity's page.
const RELATIONS: u32 = 100;
/// Changes listed on an entity's page, and per page of recent changes.
const ENTITY_HISTORY: u32 = 20;
const CHANGES_PAGE: u32 = 50;
/// Relations drawn in a neighbourhood graph.
const GRAPH_RELATIONS: u32 = 150;

/// A failed call, as the page shows it: a status and a sentence.
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// An undo refused because later changes touched the same rows: the
    /// page offers to force it.
    conflict: bool,
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        let (status, conflict) = match &e {
            DbError::Op(OpError::UnknownEntity(_)) => (StatusCode::NOT_FOUND, false),
            DbError::Op(OpError::Invalid(_)) => (StatusCode::BAD_REQUEST, false),
            DbError::Op(OpError::Refused(_)) => (StatusCode::CONFLICT, true),
            DbError::Op(OpError::Storage(_) | OpError::Unanswerable(_)) | DbError::Gone(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, false)
            }
        };
        ApiError {
            status,
            message: e.to_string(),
            conflict,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.message, "conflict": self.conflict});
        (self.status, Json(body)).into_response()
    }
}

fn unexpected(outcome: &Outcome) -> ApiError {
    ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("unexpected answer from the store: {outcome:?}"),
        conflict: false,
    }
}

type Answer = Result<Json<Value>, ApiError>;

async fn read(app: &App, op: GraphOp) -> Result<Outcome, ApiError> {
    // Reads are never announced on the feed, so their origin does not matter.
    Ok(app.db.run(op, None, 0).await?)
}

/// A write from the page, credited to the browser session.
async fn write(app: &App, session: &Session, op: GraphOp) -> Result<Outcome, ApiError> {
    let author = Author {
        session: Some(session.label.clone()),
        client: Some(format!("memgraphd ui {}", env!("CARGO_PKG_VERSION"))),
        ..Author::default()
    };
    let origin = app.next_origin.fetch_add(1, Ordering::Relaxed);
    Ok(app.db.run_by(op, None, origin, Box::new(author)).await?)
}

pub fn change_json(c: &ChangeInfo) -> Value {
    json!({
        "id": c.id, "at": c.at, "tool": c.tool, "session": c.session,
        "client": c.client, "project": c.project, "actor": c.actor, "summary": c.summary,
    })
}

fn relation_json(r: &Relation) -> Value {
    json!({"from": r.from, "to": r.to, "relationType": r.relation_type})
}

fn summary_json(e: &EntitySummary) -> Value {
    json!({"name": e.name, "entityType": e.entity_type, "observationCount": e.observation_count})
}

#[derive(Deserialize)]
pub struct LoginBody {
    token: String,
}

/// Spends a login token; answers the session cookie and the CSRF token.
pub async fn login(State(app): State<Arc<App>>, Json(body): Json<LoginBody>) -> Response {
    let login = match app.auth.login(&body.token, Instant::now()) {
        Ok(Some(login)) => login,
        Ok(None) => {
            let body = json!({"error": "this login link was used already or is too old; run memgraphd ui again"});
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
        Err(e) => {
            let body = json!({"error": e.to_string()});
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
        }
    };
    let cookie = format!(
        "{}={}; HttpOnly; SameSite=Strict; Path=/",
        guard::cookie_name(&app),
        login.cookie
    );
    let mut response =
        Json(json!({"csrf": login.session.csrf, "session": login.session.label})).into_response();
    match HeaderValue::try_from(cookie) {
        Ok(value) => {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    response
}

/// The session's CSRF token, for a page loaded again with its cookie.
pub async fn session(Extension(session): Extension<Session>) -> Json<Value> {
    Json(json!({"csrf": session.csrf, "session": session.label}))
}

#[derive(Deserialize)]
pub struct SearchParams {
    q: String,
    snapshot: Option<u64>,
    offset: Option<u32>,
}

/// `search_memory`, one page of ranked hits with snippets.
pub async fn search(State(app): State<Arc<App>>, Query(p): Query<SearchParams>) -> Answer {
    if p.q.trim().is_empty() {
        return Ok(Json(json!({"results": [], "next": null})));
    }
    let resume = p
        .snapshot
        .zip(p.offset)
        .map(|(snapshot, offset)| RankResume { snapshot, offset });
    let op = GraphOp::SearchMemory(MemorySearch {
        query: p.q,
        limit: SEARCH_PAGE,
        entity_types: Vec::new(),
        scope: SearchScope::All,
        project: None,
        resume,
        budget: None,
    });
    let Outcome::Ranked(page) = read(&app, op).await? else {
        return Err(ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "unexpected answer to a search".into(),
            conflict: false,
        });
    };
    let results: Vec<Value> = page
        .results
        .iter()
        .map(|r| {
            json!({
                "name": r.name, "entityType": r.entity_type,
                "score": r.score_hundredths as f64 / 100.0, "snippet": r.snippet,
                "observationCount": r.observation_count, "updatedAt": r.updated_at,
            })
        })
        .collect();
    let next = page
        .next
        .map(|n| json!({"snapshot": n.snapshot, "offset": n.offset}));
    Ok(Json(json!({"results": results, "next": next})))
}

#[derive(Deserialize)]
pub struct NameParams {
    name: String,
}

/// One entity: its observations with their origins, its relations, and the
/// newest changes that touched it.
pub async fn entity(State(app): State<Arc<App>>, Query(p): Query<NameParams>) -> Answer {
    let around = read(
        &app,
        GraphOp::Neighbors(NeighborQuery {
            name: p.name.clone(),
            direction: Direction::Both,
            relation_types: Vec::new(),
            depth: 1,
            limit: RELATIONS,
            after: None,
            budget: None,
        }),
    )
    .await?;
    let Outcome::Neighborhood(around) = around else {
        return Err(unexpected(&around));
    };
    // After the read above, which checked the name against the limits.
    let origins = app.db.origins(p.name.clone(), OBSERVATIONS).await?;
    let history = history(&app, Some(p.name.clone()), None, None, ENTITY_HISTORY).await?;
    let observations: Vec<Value> = origins
        .observations
        .iter()
        .map(|o| json!({"content": o.content, "change": o.change.as_ref().map(change_json)}))
        .collect();
    Ok(Json(json!({
        "name": origins.name,
        "entityType": origins.entity_type,
        "observationCount": origins.observation_count,
        "observations": observations,
        "relations": around.relations.iter().map(relation_json).collect::<Vec<_>>(),
        "moreRelations": around.next_after.is_some(),
        "history": history,
    })))
}

async fn history(
    app: &App,
    name: Option<String>,
    project: Option<String>,
    before: Option<i64>,
    limit: u32,
) -> Result<Value, ApiError> {
    let op = GraphOp::History(HistoryQuery {
        name,
        since: None,
        project,
        limit,
        before,
    });
    let outcome = read(app, op).await?;
    let Outcome::History(page) = outcome else {
        return Err(unexpected(&outcome));
    };
    Ok(json!({
        "changes": page.changes.iter().map(change_json).collect::<Vec<_>>(),
        "next": page.next_before,
    }))
}

#[derive(Deserialize)]
pub struct GraphParams {
    name: String,
    depth: Option<u8>,
}

/// The neighbourhood of an entity, as nodes and edges to draw.
pub async fn neighbors(State(app): State<Arc<App>>, Query(p): Query<GraphParams>) -> Answer {
    let op = GraphOp::Neighbors(NeighborQuery {
        name: p.name,
        direction: Direction::Both,
        relation_types: Vec::new(),
        depth: p.depth.unwrap_or(1).clamp(1, 2),
        limit: GRAPH_RELATIONS,
        after: None,
        budget: None,
    });
    let outcome = read(&app, op).await?;
    let Outcome::Neighborhood(around) = outcome else {
        return Err(unexpected(&outcome));
    };
    let mut nodes = vec![summary_json(&around.entity)];
    nodes.extend(around.neighbors.iter().map(summary_json));
    Ok(Json(json!({
        "center": around.entity.name,
        "nodes": nodes,
        "edges": around.relations.iter().map(relation_json).collect::<Vec<_>>(),
        "more": around.next_after.is_some(),
    })))
}

#[derive(Deserialize)]
pub struct ChangesParams {
    project: Option<String>,
    session: Option<String>,
    before: Option<i64>,
}

/// Recent changes, newest first, by project (in the store) and session (in
/// the page of changes read: a page may then show fewer than it read).
pub async fn changes(State(app): State<Arc<App>>, Query(p): Query<ChangesParams>) -> Answer {
    let project = p.project.filter(|s| !s.is_empty());
    let mut page = history(&app, None, project, p.before, CHANGES_PAGE).await?;
    if let Some(session) = p.session.filter(|s| !s.is_empty()) {
        if let Some(Value::Array(changes)) = page.get_mut("changes") {
            changes.retain(|c| c.get("session").and_then(Value::as_str) == Some(&session));
        }
    }
    Ok(Json(page))
}

/// The projects changes came from, most changes first.
pub async fn projects(State(app): State<Arc<App>>) -> Answer {
    let projects = app.db.projects().await?;
    let list: Vec<Value> = projects
        .iter()
        .map(|(key, changes)| json!({"project": key, "changes": changes}))
        .collect();
    Ok(Json(json!({ "projects": list })))
}

#[derive(Deserialize)]
pub struct UndoBody {
    change: i64,
    #[serde(default)]
    force: bool,
}

/// `undo` of one change; a conflict is `409` with `conflict: true`.
pub async fn undo(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Json(body): Json<UndoBody>,
) -> Answer {
    let op = GraphOp::Undo {
        change_id: body.change,
        force: body.force,
    };
    let outcome = write(&app, &session, op).await?;
    let Outcome::Undone(undone) = outcome else {
        return Err(unexpected(&outcome));
    };
    Ok(Json(json!({
        "changeId": undone.change_id, "undid": undone.undid, "summary": undone.summary,
    })))
}

#[derive(Deserialize)]
pub struct SupersedeBody {
    entity: String,
    old: String,
    new: String,
}

/// `supersede_observation`: an observation edited in its place.
pub async fn supersede(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Json(body): Json<SupersedeBody>,
) -> Answer {
    let op = GraphOp::SupersedeObservation {
        entity_name: body.entity,
        old: body.old,
        new: body.new,
    };
    let outcome = write(&app, &session, op).await?;
    let Outcome::Superseded { change_id, .. } = outcome else {
        return Err(unexpected(&outcome));
    };
    Ok(Json(json!({ "changeId": change_id })))
}
