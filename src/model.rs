//! The vocabulary of the knowledge graph: entities, relations, the graph
//! operations (the nine tools' and `import`'s) and what each of them answers.
//!
//! These types are what the store executes and what crosses the shim↔daemon
//! socket (they derive serde for bincode). They are *not* the MCP contract:
//! the JSON that agents see is built from them in `shim`, so renaming a field
//! here never changes a tool's output.

use serde::{Deserialize, Serialize};

/// A node of the graph: a unique name, a free-form type and its observations
/// in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    pub entity_type: String,
    pub observations: Vec<String>,
}

impl Entity {
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        entity_type: impl Into<String>,
        observations: impl IntoIterator<Item = S>,
    ) -> Entity {
        Entity {
            name: name.into(),
            entity_type: entity_type.into(),
            observations: observations.into_iter().map(Into::into).collect(),
        }
    }
}

/// A directed, typed edge between two entities, named by their names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Relation {
    pub from: String,
    pub to: String,
    pub relation_type: String,
}

impl Relation {
    pub fn new(
        from: impl Into<String>,
        to: impl Into<String>,
        relation_type: impl Into<String>,
    ) -> Relation {
        Relation {
            from: from.into(),
            to: to.into(),
            relation_type: relation_type.into(),
        }
    }
}

/// Observations to append to one entity (`add_observations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationAdd {
    pub entity_name: String,
    pub contents: Vec<String>,
}

/// Observations to remove from one entity (`delete_observations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationDelete {
    pub entity_name: String,
    pub observations: Vec<String>,
}

/// A subgraph: entities in storage order and the relations that touch them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

/// One operation on the graph, as an agent asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphOp {
    CreateEntities(Vec<Entity>),
    CreateRelations(Vec<Relation>),
    AddObservations(Vec<ObservationAdd>),
    DeleteEntities(Vec<String>),
    DeleteObservations(Vec<ObservationDelete>),
    DeleteRelations(Vec<Relation>),
    ReadGraph,
    SearchNodes {
        query: String,
    },
    OpenNodes(Vec<String>),
    /// Merges a graph from a file (`memgraphd import`): new entities are
    /// created, observations of existing ones added, relations whose
    /// endpoints are missing reported instead of failing the batch.
    Import {
        entities: Vec<Entity>,
        relations: Vec<Relation>,
    },
    /// A bounded `read_graph`, `search_nodes` or `open_nodes`: one page of
    /// the official answer, in storage order.
    ReadPage(PageQuery),
    /// `search_memory`: entities ranked by how well they match words.
    SearchMemory(MemorySearch),
    /// `get_neighbors`: the relations around one entity.
    Neighbors(NeighborQuery),
    /// `memory_history`: the recorded changes, newest first.
    History(HistoryQuery),
    /// `undo`: revert one change by writing a new one.
    Undo {
        change_id: i64,
        force: bool,
    },
    /// `supersede_observation`: replace one observation in its place.
    SupersedeObservation {
        entity_name: String,
        old: String,
        new: String,
    },
    /// `memgraphd purge`: really delete ended rows and the changes older
    /// than `before` (ms since the epoch) that nothing live depends on.
    Purge {
        before: i64,
        dry_run: bool,
    },
    /// The live entities the latest changes touched, most recently changed
    /// first, with the relations among them (the session-start hook).
    Recent(RecentQuery),
}

/// Who asked for a write, as the shim reports it; the daemon adds the
/// actor. Every field may be unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub session: Option<String>,
    /// `clientInfo` of `initialize`, as `name version`.
    pub client: Option<String>,
    /// The project's key (a normalized origin URL or a canonical path).
    pub project: Option<String>,
    pub cwd: Option<String>,
    /// The token's owner, or the local user; set by the daemon.
    pub actor: Option<String>,
}

/// A `memory_history` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Only changes that touched this entity, its observations or relations.
    pub name: Option<String>,
    /// Only changes made at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only changes of this project.
    pub project: Option<String>,
    pub limit: u32,
    /// Only changes older than this one (a cursor's position).
    pub before: Option<i64>,
}

/// A [`GraphOp::Recent`] read. Bounded whatever the history holds: it
/// looks at the latest change links only, newest first, by index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentQuery {
    /// Only changes made in this project (its key); `None`: every change.
    pub project: Option<String>,
    /// At most this many entities.
    pub limit: u32,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeInfo {
    pub id: i64,
    /// Milliseconds since the epoch; never less than an earlier change's.
    pub at: i64,
    pub tool: String,
    pub session: Option<String>,
    pub client: Option<String>,
    pub project: Option<String>,
    pub actor: Option<String>,
    pub summary: String,
}

/// One page of history, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub changes: Vec<ChangeInfo>,
    /// Continue with the changes older than this one, while more remain.
    pub next_before: Option<i64>,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undone {
    /// The new change that reverted `undid`.
    pub change_id: i64,
    pub undid: i64,
    pub summary: String,
}

/// What a purge removed (or, dry, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    pub changes: u64,
    pub entities: u64,
    pub observations: u64,
    pub relations: u64,
}

/// Which official read a page belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageSource {
    /// `read_graph`: every entity.
    All,
    /// `search_nodes`: entities matching the official substring rule.
    Search(String),
    /// `open_nodes`: entities with exactly these names.
    Names(Vec<String>),
}

/// One page of an official read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageQuery {
    pub source: PageSource,
    /// Only entities with an id above this one (the position of a cursor).
    pub after: Option<i64>,
    /// At most this many entities; `None`: as many as the budget allows.
    pub limit: Option<u32>,
    /// Only entities of these types; empty: every type.
    pub entity_types: Vec<String>,
    /// False: entities come without observations, with their count.
    pub include_observations: bool,
    /// When set, the longest prefix whose rendered result fits in it.
    pub budget: Option<Budget>,
}

/// How large a rendered read may be, in characters: the pretty text
/// (`JSON.stringify(x, null, 2)`) at most `chars`, and the compact JSON of
/// the structured copy plus `reserve` (room for the fields a truncated
/// answer adds) at most `chars` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub chars: u64,
    pub reserve: u64,
}

/// An entity of a page; `observation_count` is set when observations were
/// left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagedEntity {
    pub entity: Entity,
    pub observation_count: Option<u64>,
}

/// One page of an official read, with the relations touching its entities.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphPage {
    pub entities: Vec<PagedEntity>,
    pub relations: Vec<Relation>,
    /// The position to continue from, while more entities remain.
    pub next_after: Option<i64>,
    /// Set when the budget, not the limit or the end, cut the page.
    pub truncated: Option<Truncation>,
}

/// How much of a budget-cut answer was shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    pub shown: u64,
    /// Entities of the answer from the page's position on, shown or not.
    pub remaining: u64,
}

/// Whose entities `search_memory` considers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchScope {
    All,
    /// Entities a change made in the session's project touched, and those
    /// no change made in any project touched.
    Project,
}

/// A `search_memory` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySearch {
    pub query: String,
    pub limit: u32,
    pub entity_types: Vec<String>,
    pub scope: SearchScope,
    /// The session's project key: what `scope: "project"` keeps, and what
    /// `scope: "all"` ranks higher. `None` when the session has none.
    pub project: Option<String>,
    /// Continue a ranking made earlier: its snapshot and how far it got.
    pub resume: Option<RankResume>,
    /// The size guard: results stop before the answer would break it.
    pub budget: Option<Budget>,
}

/// Where a paged ranking continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankResume {
    pub snapshot: u64,
    pub offset: u32,
}

/// One ranked hit of `search_memory`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedEntity {
    pub name: String,
    pub entity_type: String,
    /// The relevance score in hundredths (fixed point keeps outcomes `Eq`).
    pub score_hundredths: i64,
    pub snippet: String,
    pub observation_count: u64,
    /// Milliseconds since the Unix epoch.
    pub updated_at: i64,
}

/// One page of a ranking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankedPage {
    pub results: Vec<RankedEntity>,
    /// Where the next page starts, while more results remain.
    pub next: Option<RankResume>,
    /// Set when the size guard cut the page short.
    pub truncated: Option<Truncation>,
}

/// Which way relations are followed from an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Out,
    In,
    Both,
}

/// A `get_neighbors` call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighborQuery {
    pub name: String,
    pub direction: Direction,
    /// Only relations of these types; empty: every type.
    pub relation_types: Vec<String>,
    pub depth: u8,
    pub limit: u32,
    /// Only relations with an id above this one (a cursor's position).
    pub after: Option<i64>,
    /// The size guard: relations stop before the answer would break it.
    pub budget: Option<Budget>,
}

/// An entity named without its observations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntitySummary {
    pub name: String,
    pub entity_type: String,
    pub observation_count: u64,
}

/// One page of the relations around an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighborhood {
    pub entity: EntitySummary,
    pub relations: Vec<Relation>,
    /// The other ends of this page's relations, in order of appearance.
    pub neighbors: Vec<EntitySummary>,
    /// The position to continue from, while more relations remain.
    pub next_after: Option<i64>,
    /// Set when the size guard cut the page short.
    pub truncated: Option<Truncation>,
}

impl GraphOp {
    /// Whether the operation may change the graph. Writes are serialized,
    /// recorded for idempotent retries and announced on the change feed.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            GraphOp::ReadGraph
                | GraphOp::SearchNodes { .. }
                | GraphOp::OpenNodes(_)
                | GraphOp::ReadPage(_)
                | GraphOp::SearchMemory(_)
                | GraphOp::Neighbors(_)
                | GraphOp::History(_)
                | GraphOp::Recent(_)
                | GraphOp::Purge { dry_run: true, .. }
        )
    }

    /// The MCP tool that asks for this operation, for logs and messages.
    pub fn tool_name(&self) -> &'static str {
        match self {
            GraphOp::CreateEntities(_) => "create_entities",
            GraphOp::CreateRelations(_) => "create_relations",
            GraphOp::AddObservations(_) => "add_observations",
            GraphOp::DeleteEntities(_) => "delete_entities",
            GraphOp::DeleteObservations(_) => "delete_observations",
            GraphOp::DeleteRelations(_) => "delete_relations",
            GraphOp::ReadGraph => "read_graph",
            GraphOp::SearchNodes { .. } => "search_nodes",
            GraphOp::OpenNodes(_) => "open_nodes",
            GraphOp::Import { .. } => "import",
            GraphOp::ReadPage(page) => match page.source {
                PageSource::All => "read_graph",
                PageSource::Search(_) => "search_nodes",
                PageSource::Names(_) => "open_nodes",
            },
            GraphOp::SearchMemory(_) => "search_memory",
            GraphOp::Neighbors(_) => "get_neighbors",
            GraphOp::History(_) => "memory_history",
            GraphOp::Undo { .. } => "undo",
            GraphOp::SupersedeObservation { .. } => "supersede_observation",
            GraphOp::Purge { .. } => "purge",
            GraphOp::Recent(_) => "recent",
        }
    }
}

/// What `create_entities` did: the entities it created (observations
/// deduplicated) and, in order of first appearance, the names it skipped
/// because they already existed or came earlier in the same call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEntities {
    pub created: Vec<Entity>,
    pub skipped: Vec<String>,
}

/// What `add_observations` appended to one entity, one per input item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedObservations {
    pub entity_name: String,
    pub added: Vec<String>,
}

/// What a delete found. `requested` counts the distinct items asked for,
/// `deleted` those removed; `missing` lists, in request order, what matched
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted<T> {
    pub requested: usize,
    pub deleted: usize,
    pub missing: Vec<T>,
}

/// A `delete_observations` miss: either the entity itself is unknown, or it
/// does not carry that observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MissingObservation {
    Entity(String),
    Observation {
        entity_name: String,
        content: String,
    },
}

/// What an import batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub entities_created: usize,
    /// Entities already stored (or repeated in the batch) whose observations
    /// were merged into the stored one.
    pub entities_merged: usize,
    pub observations_added: usize,
    pub relations_created: usize,
    /// Relations already stored.
    pub relations_existing: usize,
    /// Relations left out because an endpoint does not exist.
    pub dangling: Vec<Relation>,
}

/// Where a paged export stands: the last entity and relation ids sent. A
/// fresh export starts at [`ExportCursor::START`]; entities come first, in
/// id order, then relations, so the pages read in order are the graph in
/// the order `read_graph` gives it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportCursor {
    pub entities_after: i64,
    pub relations_after: i64,
}

impl ExportCursor {
    pub const START: ExportCursor = ExportCursor {
        entities_after: 0,
        relations_after: 0,
    };
}

/// One page of a paged export, read from a snapshot of the graph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportPage {
    /// The snapshot the page was read from; later pages name it.
    pub snapshot: u64,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    /// Where the next page starts; `None` after the last page.
    pub next: Option<ExportCursor>,
    /// The whole snapshot's entity and relation counts, for progress.
    pub total_entities: u64,
    pub total_relations: u64,
}

/// The answer to a [`GraphOp`], variant for variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    EntitiesCreated(CreatedEntities),
    RelationsCreated(Vec<Relation>),
    ObservationsAdded(Vec<AddedObservations>),
    EntitiesDeleted(Deleted<String>),
    ObservationsDeleted(Deleted<MissingObservation>),
    RelationsDeleted(Deleted<Relation>),
    Graph(Graph),
    Imported(ImportReport),
    Page(GraphPage),
    Ranked(RankedPage),
    Neighborhood(Neighborhood),
    History(HistoryPage),
    Undone(Undone),
    /// `supersede_observation` replaced `old` by `new`, in this change.
    Superseded {
        entity_name: String,
        old: String,
        new: String,
        change_id: i64,
    },
    Purged(Purged),
}

/// Why an operation failed, in a form that crosses the socket. Every variant
/// but `Unanswerable` means the operation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum OpError {
    /// The call named an unknown entity; the message is the official one.
    #[error("Entity with name {0} not found")]
    UnknownEntity(String),
    /// An argument breaks a limit: `path: problem`.
    #[error("{0}")]
    Invalid(String),
    /// The store failed (disk full, read-only file, …); nothing was written.
    #[error("storage failure, nothing was written: {0}")]
    Storage(String),
    /// The operation ran, but its result cannot be sent (it is over the
    /// limit of one reply); the message names the limit.
    #[error("{0}")]
    Unanswerable(String),
    /// The call cannot be done as asked (an undo that conflicts, a change
    /// or observation that does not exist); the message says why.
    #[error("{0}")]
    Refused(String),
}
