//! Recall: what memory holds that a session should see without asking,
//! for the Claude Code hooks (`memgraphd hook session-start`, `hook prompt`).
//!
//! - [`session_context`]: at session start, the entities that changes made
//!   *in this project* touched, most recently changed first, with the
//!   relations among them; then the `search_memory` hits for the project's
//!   names; within about 2,000 tokens. A project with no changes yet gets
//!   the most recently changed entities of the whole memory instead.
//! - [`prompt_context`]: on each prompt, the `search_memory` hits for its
//!   distinctive words that really bear on it ([`rank`]), within about
//!   1,000 tokens; nothing when nothing is relevant.
//!
//! # Bounded
//! Every read is bounded by an index and a limit, whatever the memory
//! holds: the recent-changes read ([`crate::model::GraphOp::Recent`]) looks
//! at the latest change links only, `search_memory` is ranked with a
//! `limit`, and `open_nodes` names at most [`PROMPT_HITS`] entities. Nothing
//! here reads the whole graph. The reads of one step are sent at once on
//! the one connection, so a hook waits for one round trip per step.

pub mod rank;
pub mod render;
#[cfg(test)]
mod tests;

use crate::client::{Client, ClientError};
use crate::model::{
    Entity, Graph, GraphOp, MemorySearch, Outcome, RankedEntity, RecentQuery, SearchScope,
};
use crate::project::Project;
use crate::protocol::{Op, Reply};

/// At session start, at most this many recently changed entities.
const RECENT: u32 = 20;
/// At session start, at most this many hits for the project's names.
const RELEVANT: u32 = 10;
/// On a prompt, at most this many hits are weighed.
pub const PROMPT_HITS: u32 = 20;
/// A name shorter than this would match nearly everything.
const MIN_NAME_CHARS: usize = 3;

/// Why recall found nothing to say.
#[derive(Debug, thiserror::Error)]
pub enum RecallError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the daemon answered with the wrong kind of reply")]
    Reply,
}

/// What memory holds for a project at session start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionMemory {
    /// The live entities the project's latest changes touched, most
    /// recently changed first, and the relations among them.
    pub own: Graph,
    /// The hits for the project's names, best first, none of them in `own`.
    pub relevant: Vec<RankedEntity>,
    /// Only when the project has no changes yet: the most recently changed
    /// entities of the whole memory, none of them in `relevant`.
    pub recent: Vec<Entity>,
}

async fn outcome(client: &Client, op: GraphOp) -> Result<Outcome, RecallError> {
    match client
        .request(Op::Graph {
            op,
            request_id: None,
        })
        .await?
    {
        Reply::Graph(outcome) => Ok(outcome),
        _ => Err(RecallError::Reply),
    }
}

/// The live entities the latest changes of `project` (of every project
/// for `None`) touched, most recently changed first.
pub async fn recent(
    client: &Client,
    project: Option<&str>,
    limit: u32,
) -> Result<Graph, RecallError> {
    let op = GraphOp::Recent(RecentQuery {
        project: project.map(str::to_owned),
        limit,
    });
    match outcome(client, op).await? {
        Outcome::Graph(graph) => Ok(graph),
        _ => Err(RecallError::Reply),
    }
}

/// The first page of `search_memory` for `query`, over every project.
pub async fn search(
    client: &Client,
    query: &str,
    limit: u32,
) -> Result<Vec<RankedEntity>, RecallError> {
    let op = GraphOp::SearchMemory(MemorySearch {
        query: query.to_owned(),
        limit,
        entity_types: Vec::new(),
        scope: SearchScope::All,
        project: None,
        resume: None,
        budget: None,
    });
    match outcome(client, op).await? {
        Outcome::Ranked(page) => Ok(page.results),
        _ => Err(RecallError::Reply),
    }
}

/// The entities named, with every observation (`open_nodes`).
pub async fn open(client: &Client, names: Vec<String>) -> Result<Vec<Entity>, RecallError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    match outcome(client, GraphOp::OpenNodes(names)).await? {
        Outcome::Graph(graph) => Ok(graph.entities),
        _ => Err(RecallError::Reply),
    }
}

/// The words the project is searched by: its name and the name of the
/// working directory's project (`also`) when that differs, each long
/// enough to say something.
pub fn project_query(project: &Project, also: Option<&Project>) -> String {
    let mut names: Vec<&str> = vec![project.name.as_str()];
    if let Some(other) = also {
        if !other.name.eq_ignore_ascii_case(&project.name) {
            names.push(other.name.as_str());
        }
    }
    names.retain(|n| n.chars().count() >= MIN_NAME_CHARS);
    names.join(" ")
}

/// Reads what memory holds for `project`: its recent entities and the hits
/// for `query` at once, then, only if the project has no changes yet, the
/// most recent entities of every project.
pub async fn session_memory(
    client: &Client,
    project: &Project,
    query: &str,
) -> Result<SessionMemory, RecallError> {
    // Both in flight at once on the one connection.
    let (own, relevant) = tokio::join!(recent(client, Some(&project.key), RECENT), async {
        if query.is_empty() {
            Ok(Vec::new())
        } else {
            search(client, query, RELEVANT).await
        }
    });
    let own = own?;
    let mut relevant = relevant?;
    relevant.retain(|hit| !own.entities.iter().any(|e| e.name == hit.name));
    let recent = if own.entities.is_empty() {
        let mut any = recent(client, None, RECENT).await?.entities;
        any.retain(|e| !relevant.iter().any(|hit| hit.name == e.name));
        any
    } else {
        Vec::new()
    };
    Ok(SessionMemory {
        own,
        relevant,
        recent,
    })
}

/// What memory holds for `project`, or `None` when it holds nothing.
pub async fn session_context(
    client: &Client,
    project: &Project,
    query: &str,
) -> Result<Option<String>, RecallError> {
    let memory = session_memory(client, project, query).await?;
    Ok(render::session_context(project, &memory))
}

/// What memory holds that bears on `prompt`, or `None` when nothing does:
/// one ranked search of its distinctive words, the hits opened, and those
/// that only share a word in passing dropped ([`rank::relevant`]).
pub async fn prompt_context(client: &Client, prompt: &str) -> Result<Option<String>, RecallError> {
    let words = rank::words(prompt);
    if words.is_empty() {
        return Ok(None);
    }
    let hits = search(client, &words.join(" "), PROMPT_HITS).await?;
    let entities = open(client, hits.iter().map(|h| h.name.clone()).collect()).await?;
    let ranked: Vec<&str> = hits.iter().map(|h| h.name.as_str()).collect();
    Ok(render::prompt_context(&rank::relevant(
        &words, &ranked, entities,
    )))
}
