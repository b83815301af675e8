//! Recall: what memory holds that a session should see without asking,
//! for the Claude Code hooks (`memgraphd hook session-start`, `hook prompt`).
//!
//! - [`session_context`]: at session start, the entities that mention the
//!   session's project, the relations among them, and the most recently
//!   added others, within about 2,000 tokens.
//! - [`prompt_context`]: on each prompt, the entities its distinctive words
//!   find, ranked ([`rank`]), within about 1,000 tokens; nothing when
//!   nothing is relevant.
//!
//! # Sources, and what replaces them
//! Everything is read through two functions, the only ones that name an
//! operation: [`search`] (today the official `search_nodes`, a substring
//! match per word) and [`newest`] (today `read_graph`'s tail, which is
//! creation order). When ranked search lands, `search` becomes one call of
//! it and `rank` shrinks to its scores. "For this project" means, for now,
//! the entities that mention the project's name: changes do not record
//! their project yet. Once they do, [`session_context`] asks for the
//! project's own entities instead, by the key it already receives.

pub mod rank;
pub mod render;
#[cfg(test)]
mod tests;

use crate::client::{Client, ClientError};
use crate::model::{Entity, Graph, GraphOp, Outcome};
use crate::project::Project;
use crate::protocol::{Op, Reply};

/// At session start, at most this many recently added entities are listed.
const RECENT: usize = 20;
/// A project name shorter than this would match nearly everything.
const MIN_NAME_CHARS: usize = 3;

/// Why recall found nothing to say.
#[derive(Debug, thiserror::Error)]
pub enum RecallError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the daemon answered with the wrong kind of reply")]
    Reply,
}

/// The entities matching `query`, with the relations that touch them.
pub async fn search(client: &Client, query: &str) -> Result<Graph, RecallError> {
    graph(
        client,
        GraphOp::SearchNodes {
            query: query.to_owned(),
        },
    )
    .await
}

/// The `count` most recently added entities, newest first.
pub async fn newest(client: &Client, count: usize) -> Result<Vec<Entity>, RecallError> {
    let mut all = graph(client, GraphOp::ReadGraph).await?.entities;
    let start = all.len().saturating_sub(count);
    let mut tail = all.split_off(start);
    tail.reverse();
    Ok(tail)
}

async fn graph(client: &Client, op: GraphOp) -> Result<Graph, RecallError> {
    match client
        .request(Op::Graph {
            op,
            request_id: None,
        })
        .await?
    {
        Reply::Graph(Outcome::Graph(graph)) => Ok(graph),
        _ => Err(RecallError::Reply),
    }
}

/// What memory holds for `project`, or `None` when it holds nothing.
pub async fn session_context(
    client: &Client,
    project: &Project,
) -> Result<Option<String>, RecallError> {
    let about = if project.name.chars().count() >= MIN_NAME_CHARS {
        search(client, &project.name).await?
    } else {
        Graph::default()
    };
    // The project's own entities matter most: if the whole-graph read
    // fails (a memory too large for one frame), they are still shown.
    let newest = match newest(client, RECENT + about.entities.len()).await {
        Ok(entities) => entities,
        Err(e) => {
            tracing::warn!("reading the newest entities: {}", crate::error_chain(&e));
            Vec::new()
        }
    };
    let recent: Vec<Entity> = newest
        .into_iter()
        .filter(|e| !about.entities.iter().any(|a| a.name == e.name))
        .take(RECENT)
        .collect();
    Ok(render::session_context(
        project,
        &about.entities,
        &about.relations,
        &recent,
    ))
}

/// What memory holds that bears on `prompt`, or `None` when nothing does.
pub async fn prompt_context(client: &Client, prompt: &str) -> Result<Option<String>, RecallError> {
    let mut found = Vec::new();
    for word in rank::words(prompt) {
        let graph = search(client, &word).await?;
        found.push((word, graph));
    }
    Ok(render::prompt_context(&rank::rank(&found)))
}
